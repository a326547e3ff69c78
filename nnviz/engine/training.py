"""The training server: the core trainer driven by typed commands.

It owns the :class:`~nnviz.core.trainer.Trainer` (wrapped in a
:class:`~nnviz.core.health.Guard`) and runs commands between chunks of
mini-batches: a chunk lasts a few milliseconds at full speed, so Pause, Step,
a new learning rate or Stop apply at once. It publishes a
:class:`~nnviz.engine.snapshot.Snapshot` about 30 times a second while
training runs (fewer for very large networks, whose parameters take long to
copy), and once after a command changed what is shown; never while nothing
happens. In slow motion (:class:`~nnviz.engine.messages.SetSpeed`) it runs
exactly as many mini-batches as the speed asks for and sleeps in between,
waking at once for a command.

The same loop runs in a child process or in a thread of the app
(:mod:`nnviz.engine.runner`).
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core import datasets
from nnviz.core.errors import NnvizError
from nnviz.core.health import Guard, Trouble
from nnviz.core.network import Network
from nnviz.core.trainer import TrainConfig, Trainer
from nnviz.engine.messages import (
    Configure,
    Evaluate,
    Failed,
    LoadData,
    Pause,
    Progress,
    Run,
    SetSnapshotRate,
    SetSpeed,
    SetTheta,
    StateChanged,
    Step,
    StepEpoch,
    Stop,
    UseNetwork,
)
from nnviz.engine.runner import Port
from nnviz.engine.snapshot import EpochResult, Marker, Snapshot

Array = npt.NDArray[Any]

#: Snapshots per second while training runs, until the app asks for another rate.
SNAPSHOT_RATE = 32.0
#: Copying the parameters for a snapshot is kept under this many bytes a second
#: (a 2-million-parameter network gets 5 snapshots a second, not 30).
SNAPSHOT_BYTES_PER_SECOND = 40e6
#: Target duration of one chunk of mini-batches at full speed.
CHUNK_SECONDS = 0.008
#: Seconds between two health checks (a forward pass on a few hundred images).
CHECK_SECONDS = 0.5
#: How long the loop sleeps while nothing is to be done (a command wakes it).
IDLE_SECONDS = 0.5


@dataclass
class _Pending:
    """History gathered since the last published snapshot."""

    steps: list[Array] = field(default_factory=list)
    costs: list[Array] = field(default_factory=list)
    evaluations: list[EpochResult] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)


class RateMeter:
    """Samples per second over the last second or so of training."""

    def __init__(self) -> None:
        self._samples = 0.0
        self._seconds = 0.0

    def add(self, samples: int, seconds: float) -> None:
        """Account for ``samples`` trained in ``seconds``."""
        decay = 0.5 ** (seconds / 0.5) if self._seconds else 0.0  # half-life 0.5 s
        self._samples = self._samples * decay + samples
        self._seconds = self._seconds * decay + seconds

    @property
    def seen(self) -> bool:
        """Whether anything was measured yet."""
        return self._seconds > 0

    @property
    def samples_per_second(self) -> float:
        """The smoothed rate."""
        return self._samples / self._seconds if self._seconds > 0 else 0.0


class TrainingServer:
    """Owns the trainer; runs commands between chunks of mini-batches."""

    def __init__(self) -> None:
        self.port: Port | None = None
        self.net: Network | None = None
        self.config = TrainConfig()
        self.trainer: Trainer | None = None
        self.guard: Guard | None = None
        self.dataset: datasets.Dataset | None = None
        self.generation = 0
        self.state = "idle"
        self.steps_left = 0
        self.epoch_requested = False
        self.speed = 0.0  # mini-batches per second while running; 0 = full speed
        self.pace = (0.0, 0)  # slow motion: (when it started, mini-batches run since)
        self.interval = 1 / SNAPSHOT_RATE
        self.pending = _Pending()
        self.last_publish = -math.inf
        self.last_check = 0.0
        self.unpublished = False  # something happened since the last snapshot
        self.rate = RateMeter()
        self.resume_at: Progress | None = None  # for the next trainer made

    # ------------------------------------------------------------------ loop
    def run(self, port: Port) -> None:
        """Until Stop: commands, chunks of mini-batches, snapshots."""
        self.port = port
        while not port.stopping:
            command = port.receive(self._idle_seconds())
            if command is not None:
                self.unpublished = True  # a command that changes what is shown publishes at once
                self._handle(command)
            elif self._training_due():
                self._train_chunk()
            elif self.unpublished:
                # The last costs of a run (or a command's effect) not sent yet. Nothing
                # else while paused: a snapshot makes the window redraw every panel.
                self._publish(force=True)

    def send(self, reply: object) -> None:
        """A reply to the app."""
        assert self.port is not None
        self.port.send(reply)

    def _handle(self, command: object) -> None:
        try:
            self._dispatch(command)
        except NnvizError as exc:
            self.send(Failed(str(exc)))
        except Exception as exc:  # a bug must not end the server
            self.send(Failed(f"internal error: {exc}\n{traceback.format_exc()}"))

    def _dispatch(self, command: object) -> None:
        match command:
            case UseNetwork():
                self._use_network(command)
            case LoadData(folder):
                self._load(folder)
            case Run():
                self._set_state("running")
            case Pause():
                self._set_state("paused")
            case Step(n):
                self.steps_left += max(int(n), 0)
                self._stepping()
            case StepEpoch():
                self.epoch_requested = True
                self._stepping()
            case SetSpeed(steps_per_second):
                self.speed = max(0.0, float(steps_per_second))
                self.pace = (time.perf_counter(), 0)
            case SetSnapshotRate(per_second):
                self.interval = 1 / max(float(per_second), 0.5)
            case Configure(config, label):
                self._configure(config, label)
            case Evaluate():
                self._evaluate(on_demand=True)
            case SetTheta(generation, theta, label):
                self._set_theta(generation, theta, label)
            case Stop():
                pass  # the port says it is stopping
            case _:
                raise TypeError(f"unknown command {command!r}")

    # ------------------------------------------------------------------ training
    def _wants_training(self) -> bool:
        return self.trainer is not None and (
            self.state == "running" or self.steps_left > 0 or self.epoch_requested
        )

    def _slow_motion(self) -> bool:
        return bool(self.speed) and self.state == "running" and not self.steps_left

    def _steps_due(self) -> int:
        """Slow motion: mini-batches owed by now (the first one at once)."""
        start, done = self.pace
        return math.floor((time.perf_counter() - start) * self.speed) + 1 - done

    def _training_due(self) -> bool:
        return self._wants_training() and (not self._slow_motion() or self._steps_due() > 0)

    def _idle_seconds(self) -> float:
        if not self._wants_training():
            return 0.0 if self.unpublished else IDLE_SECONDS
        if self._slow_motion() and self._steps_due() <= 0:
            start, done = self.pace
            return max(0.0, start + done / self.speed - time.perf_counter())
        return 0.0

    def _train_chunk(self) -> None:
        trainer, guard = self.trainer, self.guard
        assert trainer is not None and guard is not None
        n = self._chunk_size(trainer)
        start = time.perf_counter()
        report, trouble = guard.step(n, stop_at_epoch_end=True)
        now = time.perf_counter()
        self.rate.add(len(report.costs) * trainer.config.batch_size, now - start)
        first = report.first_step
        self.pending.steps.append(np.arange(first, first + len(report.costs)))
        self.pending.costs.append(report.costs)
        self.unpublished = True
        if self._slow_motion():
            self.pace = (self.pace[0], self.pace[1] + len(report.costs))
        if trouble is None and now - self.last_check >= CHECK_SECONDS:
            self.last_check = now
            trouble = guard.check()
        if trouble is not None:
            self._on_trouble(trouble)
            return
        if self.steps_left:
            self.steps_left = max(0, self.steps_left - len(report.costs))
        if report.epochs_completed:
            self._evaluate()
            self.epoch_requested = False
        if self.state == "stepping" and not (self.steps_left or self.epoch_requested):
            self._set_state("paused")
            if trainer.finished and self.state == "running":
                self._set_state("finished")
        self._publish()

    def _chunk_size(self, trainer: Trainer) -> int:
        if self.steps_left and self.state != "running":
            cap = self.steps_left
        elif self._slow_motion():
            return max(1, min(self._steps_due(), self._full_speed_chunk(trainer)))
        else:
            cap = 2000
        return min(cap, self._full_speed_chunk(trainer))

    def _full_speed_chunk(self, trainer: Trainer) -> int:
        if not self.rate.seen:
            return 20
        per_step = trainer.config.batch_size / max(self.rate.samples_per_second, 1.0)
        # End the chunk when the next snapshot is due: a chunk that ran past it
        # delayed each snapshot by half a chunk on average.
        due = self.last_publish + self._interval() - time.perf_counter()
        seconds = min(CHUNK_SECONDS, due) if due > 0 else CHUNK_SECONDS
        return int(np.clip(seconds / per_step, 1, 2000))

    def _on_trouble(self, trouble: Trouble) -> None:
        assert self.trainer is not None
        self.steps_left, self.epoch_requested = 0, False
        marker = f"back to step {trouble.restored_step:,}"
        self.pending.markers.append(Marker(self.trainer.step_count, marker))
        self._set_state(trouble.kind)
        self.send(trouble)

    def _stepping(self) -> None:
        """Step or Step epoch: the run stops continuous training and runs those mini-batches."""
        if self.trainer is not None and (self.steps_left or self.epoch_requested):
            self._set_state("stepping")

    def _evaluate(self, on_demand: bool = False) -> None:
        trainer = self.trainer
        if trainer is None or trainer.test_x is None:
            return
        ev = trainer.evaluate()
        self.pending.evaluations.append(
            EpochResult(
                trainer.epoch,
                trainer.step_count,
                ev.cost,
                ev.accuracy,
                ev.confusion,
                ev.outputs.astype(np.float32),
                on_demand,
            )
        )

    def _set_state(self, state: str) -> None:
        if state == "running":
            if self.trainer is None:
                return
            if self.trainer.finished:  # go on after the planned epochs: plan as many again
                self.config = self.trainer.configure(epochs=self.trainer.config.epochs * 2)
            self.pace = (time.perf_counter(), 0)
        if state != self.state:
            self.state = state
            self.send(StateChanged(state))
        self._publish(force=True)

    # ------------------------------------------------------------------ commands
    def _use_network(self, command: UseNetwork) -> None:
        net = Network(command.sizes, command.activation, command.cost)
        net.theta = command.theta
        self.net, self.config, self.generation = net, command.config, command.generation
        self.pending = _Pending()
        self.steps_left, self.epoch_requested = 0, False
        self.rate = RateMeter()
        self.trainer = self.guard = None
        self.resume_at = command.progress
        self._make_trainer()
        self.state = ""  # always announce the new network's state
        self._set_state("paused" if self.trainer is not None else "idle")

    def _load(self, folder: str) -> None:
        """Load the data set from a folder the app has checked (or downloaded)."""
        if (t := self.trainer) is not None:  # a run on other files goes on counting
            self.resume_at = Progress(t.step_count, t.epoch, t.position, t.samples_seen)
        self.dataset = datasets.load_mnist(folder, download_missing=False)
        self._make_trainer()
        if self.state == "idle" and self.trainer is not None:
            self._set_state("paused")

    def _make_trainer(self) -> None:
        """A trainer for the network and data set, once both are there."""
        data, net, at = self.dataset, self.net, self.resume_at
        if data is None or net is None:
            return
        trainer = Trainer(net, data.train_x, data.train_y, self.config, data.test_x, data.test_y)
        if at is not None:
            trainer.resume(at.step, at.epoch, at.position, at.samples_seen)
        self.trainer, self.guard, self.resume_at = trainer, Guard(trainer), None

    def _configure(self, config: TrainConfig, label: str) -> None:
        self.config = config
        if self.trainer is not None:
            self.trainer.configure(**dataclasses.asdict(config))
            if label:
                self.pending.markers.append(Marker(self.trainer.step_count, label))
        self._publish(force=True)

    def _set_theta(self, generation: int, theta: Array, label: str) -> None:
        """Replace the parameters, keeping the run; ignored when meant for another network."""
        if generation != self.generation or self.net is None:
            return
        self.net.theta = theta
        if self.trainer is not None and self.guard is not None:
            self.trainer.clear_momentum()  # the old velocity belongs to other parameters
            self.guard.rebase()
        if label and self.trainer is not None:
            self.pending.markers.append(Marker(self.trainer.step_count, label))
        self._publish(force=True)

    # ------------------------------------------------------------------ snapshots
    def _interval(self) -> float:
        size = self.net.theta.nbytes if self.net is not None else 0
        return max(self.interval, size / SNAPSHOT_BYTES_PER_SECOND)

    def _publish(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.net is None or (not force and now - self.last_publish < self._interval()):
            return
        self.last_publish = now
        self.send(self._snapshot())
        self.pending = _Pending()
        self.unpublished = False

    def _samples_per_second(self) -> float:
        """As training runs: the measured rate, or in slow motion the rate asked for."""
        if self.state != "running":
            return 0.0
        if self._slow_motion():
            return min(self.speed * self.config.batch_size, self.rate.samples_per_second)
        return self.rate.samples_per_second

    def _snapshot(self) -> Snapshot:
        trainer, net, pending = self.trainer, self.net, self.pending
        assert net is not None
        empty_steps, empty_costs = np.zeros(0, np.int64), np.zeros(0)
        return Snapshot(
            generation=self.generation,
            sizes=net.sizes,
            activation=net.activation,
            cost=net.cost,
            theta=net.theta.copy(),
            step=trainer.step_count if trainer else 0,
            epoch=trainer.epoch if trainer else 0,
            epoch_fraction=trainer.position / len(trainer.train_x) if trainer else 0.0,
            position=trainer.position if trainer else 0,
            samples_seen=trainer.samples_seen if trainer else 0,
            samples_per_second=self._samples_per_second(),
            speed=self.speed,
            learning_rate=trainer.learning_rate_at(trainer.step_count) if trainer else 0.0,
            batch_size=self.config.batch_size,
            state=self.state,
            steps=np.concatenate(pending.steps) if pending.steps else empty_steps,
            costs=np.concatenate(pending.costs) if pending.costs else empty_costs,
            evaluations=tuple(pending.evaluations),
            markers=tuple(pending.markers),
        )

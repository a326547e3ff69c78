"""The training engine: the core trainer driven by messages, in its own process.

The desktop app trains in a separate process so that training and drawing do
not take turns on one Python interpreter lock: with training in a thread of
the GUI process, the measured training speed fell to 16-35% of headless and
the event loop stalled for 90-200 ms (``nnviz bench --gui``). This module has
no Qt; :class:`~nnviz.gui.worker.TrainingWorker` (a QObject in a QThread)
starts it with :func:`serve` and talks to it through a pipe.

Commands (GUI -> engine) are tuples ``(name, *args)``: ``load(folder)``,
``reset(generation, sizes, activation, cost, theta, config)``, ``start``,
``pause``, ``step(n)``, ``step_epoch``, ``speed(steps_per_second)``,
``configure(label, changes)``, ``stop``. Messages back: ``snapshot``,
``state``, ``diverged``, ``ready`` (data loaded), ``failed``, ``error``.
Snapshots are published at most ~30 times a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core import datasets
from nnviz.core.errors import DivergenceError, NnvizError
from nnviz.core.network import Network
from nnviz.core.trainer import TrainConfig, Trainer
from nnviz.engine.snapshot import EpochResult, Marker, Snapshot

Array = npt.NDArray[Any]

#: Longest gap between snapshots while running (about 30 per second).
PUBLISH_INTERVAL = 1 / 32
#: Target duration of one chunk of mini-batches at full speed.
CHUNK_SECONDS = 0.008


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


class Engine:
    """Owns the trainer; runs commands between chunks of mini-batches."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.running = True
        self.net: Network | None = None
        self.config = TrainConfig()
        self.trainer: Trainer | None = None
        self.dataset: datasets.Dataset | None = None
        self.generation = 0
        self.state = "idle"
        self.steps_left = 0
        self.epoch_requested = False
        self.speed = 0.0  # mini-batches per second; 0 = full speed
        self.pending = _Pending()
        self.last_publish = 0.0
        self.unpublished = False  # something happened since the last snapshot
        self.rate = RateMeter()

    # ------------------------------------------------------------------ loop
    def run(self) -> None:
        """Until ``stop``: commands, chunks of mini-batches, snapshots."""
        while self.running:
            busy = self._wants_training()
            if self.conn.poll(0 if busy else 0.25):
                self.unpublished = True  # a command that changes what is shown publishes at once
                self._handle(self.conn.recv())
                continue
            if busy:
                self._train_chunk()
            elif self.unpublished:
                # The last costs of a run (or a command's effect) not sent yet. Nothing
                # else while paused: a snapshot makes the window redraw every panel.
                self._publish()

    def _handle(self, message: tuple[Any, ...]) -> None:
        name, *args = message
        try:
            getattr(self, f"do_{name}")(*args)
        except NnvizError as exc:
            self.send("error", str(exc))
        except Exception as exc:  # a bug must not end the engine
            self.send("error", f"internal error: {exc}\n{traceback.format_exc()}")

    def send(self, kind: str, *payload: Any) -> None:
        """A message to the GUI side."""
        self.conn.send((kind, *payload))

    def _wants_training(self) -> bool:
        if self.trainer is None:
            return False
        return self.state == "running" or self.steps_left > 0 or self.epoch_requested

    def _train_chunk(self) -> None:
        trainer = self.trainer
        assert trainer is not None
        n = self._chunk_size(trainer)
        start = time.perf_counter()
        try:
            report = trainer.step(n, stop_at_epoch_end=True)
        except DivergenceError as exc:
            self._on_divergence(exc)
            return
        self.rate.add(len(report.costs) * trainer.config.batch_size, time.perf_counter() - start)
        first = report.first_step
        self.pending.steps.append(np.arange(first, first + len(report.costs)))
        self.pending.costs.append(report.costs)
        self.unpublished = True
        if self.steps_left:
            self.steps_left = max(0, self.steps_left - len(report.costs))
            if not self.steps_left and self.state != "running":
                self._set_state("paused")
        if report.epochs_completed:
            self._evaluate()
            if self.epoch_requested:
                self.epoch_requested = False
                self._set_state("paused")
            if trainer.finished and self.state == "running":
                self._set_state("finished")
        self._publish()
        if self.speed and self.state == "running" and not self.conn.poll(1.0 / self.speed):
            pass  # slow motion: wait between steps, waking at once for a command

    def _chunk_size(self, trainer: Trainer) -> int:
        if self.steps_left and self.state != "running":
            return self.steps_left if not self.speed else 1
        if self.speed:
            return 1
        if not self.rate.seen:
            return 20
        per_step = trainer.config.batch_size / max(self.rate.samples_per_second, 1.0)
        # End the chunk when the next snapshot is due: a chunk that ran past it
        # delayed each snapshot by half a chunk on average (28 a second, not 32).
        due = self.last_publish + PUBLISH_INTERVAL - time.perf_counter()
        seconds = min(CHUNK_SECONDS, due) if due > 0 else CHUNK_SECONDS
        return int(np.clip(seconds / per_step, 1, 2000))

    def _on_divergence(self, exc: DivergenceError) -> None:
        costs = np.asarray(getattr(exc, "costs", np.zeros(0)))
        self.pending.steps.append(np.arange(exc.step - len(costs), exc.step))
        self.pending.costs.append(costs)
        self.steps_left, self.epoch_requested = 0, False
        self._set_state("diverged")
        self.send("diverged", str(exc))

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
                self.trainer.configure(epochs=self.trainer.config.epochs * 2)
        if state != self.state:
            self.state = state
            self.send("state", state)
        self._publish(force=True)

    # ------------------------------------------------------------------ commands
    def do_load(self, folder: str) -> None:
        """Load the data set from a folder the GUI side has checked (or downloaded)."""
        self.dataset = datasets.load_mnist(folder, download_missing=False)
        self._make_trainer()
        if self.state == "idle" and self.trainer is not None:
            self._set_state("paused")
        self.send("ready")

    def do_reset(
        self,
        generation: int,
        sizes: tuple[int, ...],
        activation: str,
        cost: str,
        theta: Array,
        config: dict[str, Any],
    ) -> None:
        """A new network (or a loaded one) and settings; paused."""
        net = Network(sizes, activation, cost)
        net.theta = theta
        self.net, self.config, self.generation = net, TrainConfig(**config), generation
        self.pending = _Pending()
        self.steps_left, self.epoch_requested = 0, False
        self.rate = RateMeter()
        self.trainer = None
        self._make_trainer()
        self._set_state("paused" if self.trainer is not None else "idle")
        self._publish(force=True)

    def do_start(self) -> None:
        """Run continuously."""
        self._set_state("running")

    def do_pause(self) -> None:
        """Stop after the current chunk."""
        self._set_state("paused")

    def do_step(self, n: int) -> None:
        """Run ``n`` mini-batches, then pause."""
        if self.state == "running":
            self._set_state("paused")
        self.steps_left += n

    def do_step_epoch(self) -> None:
        """Run to the end of the epoch, then pause."""
        if self.state == "running":
            self._set_state("paused")
        self.epoch_requested = True

    def do_speed(self, steps_per_second: float) -> None:
        """Slow motion (mini-batches per second) or full speed (0)."""
        self.speed = max(0.0, float(steps_per_second))

    def do_configure(self, label: str, changes: dict[str, Any]) -> None:
        """Live settings; ``label`` marks the cost curve."""
        self.config = dataclasses.replace(self.config, **changes)
        if self.trainer is not None:
            self.trainer.configure(**changes)
            if label:
                self.pending.markers.append(Marker(self.trainer.step_count, label))
        self._publish(force=True)

    def do_evaluate(self) -> None:
        """Evaluate the current parameters on the test set now."""
        self._evaluate(on_demand=True)
        self._publish(force=True)

    def do_set_theta(self, generation: int, theta: Array, label: str) -> None:
        """Replace the parameters (a single-example step or its undo), keeping the run.

        Ignored when it is meant for another network (``generation``).
        """
        if generation != self.generation or self.net is None:
            return
        self.net.theta = theta
        if label and self.trainer is not None:
            self.pending.markers.append(Marker(self.trainer.step_count, label))
        self._publish(force=True)

    def do_stop(self) -> None:
        """End the loop."""
        self.running = False

    def _make_trainer(self) -> None:
        data, net = self.dataset, self.net
        if data is None or net is None:
            return
        self.trainer = Trainer(
            net, data.train_x, data.train_y, self.config, data.test_x, data.test_y
        )

    # ------------------------------------------------------------------ snapshots
    def _publish(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.net is None or (not force and now - self.last_publish < PUBLISH_INTERVAL):
            return
        self.last_publish = now
        self.send("snapshot", self._snapshot())
        self.pending = _Pending()
        self.unpublished = False

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
            samples_seen=trainer.samples_seen if trainer else 0,
            samples_per_second=self.rate.samples_per_second if self.state == "running" else 0.0,
            learning_rate=trainer.learning_rate_at(trainer.step_count) if trainer else 0.0,
            batch_size=self.config.batch_size,
            state=self.state,
            steps=np.concatenate(pending.steps) if pending.steps else empty_steps,
            costs=np.concatenate(pending.costs) if pending.costs else empty_costs,
            evaluations=tuple(pending.evaluations),
            markers=tuple(pending.markers),
        )


#: Scheduling priority of the training process (0: as the window; measured:
#: a lower priority did not make frames smoother on 2 cores, only training
#: slower).  Kept as a knob.
NICE = 0


def serve(conn: Connection) -> None:
    """Entry point of the training process."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(NICE)
    try:
        Engine(conn).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the app went away
    finally:
        conn.close()

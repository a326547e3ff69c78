"""The training worker: one QObject in one QThread drives the core trainer.

The GUI thread never trains and the worker never touches a widget. Commands
go to the worker through a queue and apply between mini-batches; snapshots
come back through a one-slot :class:`~nnviz.gui.snapshot.Mailbox` with a ping
only when the box was empty, at most about 30 times a second.

Loading (and if needed downloading) the data set also happens here, so a
slow disk or network never freezes the window.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from nnviz.core import datasets
from nnviz.core.errors import Cancelled, DivergenceError, NnvizError
from nnviz.core.network import Network
from nnviz.core.trainer import TrainConfig, Trainer
from nnviz.gui.snapshot import EpochResult, Mailbox, Marker, Snapshot

#: Longest gap between snapshots while running (about 30 per second).
PUBLISH_INTERVAL = 1 / 30
#: Target duration of one chunk of mini-batches at full speed.
CHUNK_SECONDS = 0.008


@dataclass
class _Pending:
    """History gathered since the last published snapshot."""

    steps: list[np.ndarray] = field(default_factory=list)
    costs: list[np.ndarray] = field(default_factory=list)
    evaluations: list[EpochResult] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)


class TrainingWorker(QObject):
    """Owns the trainer; runs in its own thread (see :func:`start_worker`).

    Signals
    -------
    snapshot_ready
        A snapshot waits in :attr:`mailbox` (sent only when it was empty).
    state_changed(str)
        ``idle``, ``running``, ``paused``, ``finished``, ``diverged``.
    diverged(str)
        Training stopped on a NaN or infinite cost; the message says why.
    data_progress(str, int, int)
        Download progress: file name, bytes done, bytes total (0 if unknown).
    data_ready(object)
        The :class:`~nnviz.core.datasets.Dataset` is loaded.
    data_failed(str)
        Loading or downloading failed (or was cancelled); plain words.
    errored(str)
        Any other failure of a command, with its message.
    """

    snapshot_ready = Signal()
    state_changed = Signal(str)
    diverged = Signal(str)
    data_progress = Signal(str, int, int)
    data_ready = Signal(object)
    data_failed = Signal(str)
    errored = Signal(str)

    def __init__(self, net: Network, config: TrainConfig) -> None:
        super().__init__()  # no parent: it is moved to its own thread
        self.mailbox = Mailbox()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._download_stop = threading.Event()
        self._net = net.copy()
        self._config = config
        self._trainer: Trainer | None = None
        self._dataset: datasets.Dataset | None = None
        self._generation = 0
        self._state = "idle"
        self._steps_left = 0  # single steps requested while paused
        self._epoch_requested = False
        self._speed = 0.0  # mini-batches per second; 0 = full speed
        self._pending = _Pending()
        self._last_publish = 0.0
        self._rate = _RateMeter()

    # ------------------------------------------------------------------ GUI-thread API
    def post(self, command: Callable[[], None]) -> None:
        """Run ``command`` in the worker between mini-batches (thread-safe)."""
        self._commands.put(command)
        self._wake.set()

    def start_training(self) -> None:
        """Run continuously (until pause, the planned epochs, or divergence)."""
        self.post(lambda: self._set_state("running"))

    def pause(self) -> None:
        """Stop after the current mini-batch; publish the state."""
        self.post(lambda: self._set_state("paused"))

    def step_once(self, n: int = 1) -> None:
        """Run ``n`` mini-batches, then pause."""
        self.post(lambda: self._request_steps(n))

    def step_epoch(self) -> None:
        """Run to the end of the current epoch, then pause."""
        self.post(self._request_epoch)

    def set_speed(self, steps_per_second: float) -> None:
        """Slow motion (mini-batches per second) or full speed (0)."""
        self.post(lambda: setattr(self, "_speed", max(0.0, steps_per_second)))

    def configure(self, label: str = "", **changes: Any) -> None:
        """Change learning rate, batch size, ... live; ``label`` marks the cost curve."""
        self.post(lambda: self._configure(label, changes))

    def reset(self, net: Network, config: TrainConfig, generation: int) -> None:
        """Start over with a new network and settings (paused).

        ``generation`` tags the snapshots of the new network, so the GUI can
        tell them from late snapshots of the old one.
        """
        net = net.copy()
        self.post(lambda: self._replace(net, config, generation))

    def load_data(self, folder: Path | None, download: bool) -> None:
        """Find (and if ``download``, fetch) MNIST; answers with data_ready or data_failed."""
        self._download_stop.clear()
        self.post(lambda: self._load_data(folder, download))

    def set_dataset(self, dataset: datasets.Dataset) -> None:
        """Train on ``dataset`` (already loaded); answers with data_ready."""
        self.post(lambda: self._use_dataset(dataset))

    def cancel_download(self) -> None:
        """Stop a running download (thread-safe, immediate)."""
        self._download_stop.set()

    def stop(self) -> None:
        """End the worker loop soon (thread-safe, immediate)."""
        self._stop.set()
        self._download_stop.set()
        self._wake.set()

    # ------------------------------------------------------------------ worker loop
    @Slot()
    def run(self) -> None:
        """The worker's event loop: commands, mini-batches, snapshots."""
        self._publish(force=True)
        while not self._stop.is_set():
            self._drain_commands()
            if self._stop.is_set():
                break
            if self._wants_training():
                self._train_chunk()
            else:
                self._publish()
                self._wake.wait(0.25)
                self._wake.clear()

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except NnvizError as exc:
                self.errored.emit(str(exc))
            except Exception as exc:  # a bug must not kill the worker thread
                self.errored.emit(f"internal error: {exc}\n{traceback.format_exc()}")

    def _wants_training(self) -> bool:
        if self._trainer is None:
            return False
        return self._state == "running" or self._steps_left > 0 or self._epoch_requested

    def _train_chunk(self) -> None:
        trainer = self._trainer
        assert trainer is not None
        n = self._chunk_size(trainer)
        start = time.perf_counter()
        try:
            report = trainer.step(n, stop_at_epoch_end=True)
        except DivergenceError as exc:
            self._on_divergence(exc)
            return
        self._rate.add(len(report.costs) * trainer.config.batch_size, time.perf_counter() - start)
        self._pending.steps.append(
            np.arange(report.first_step, report.first_step + len(report.costs))
        )
        self._pending.costs.append(report.costs)
        if self._steps_left:
            self._steps_left = max(0, self._steps_left - len(report.costs))
            if not self._steps_left and self._state != "running":
                self._set_state("paused")
        if report.epochs_completed:
            self._evaluate()
            if self._epoch_requested:
                self._epoch_requested = False
                self._set_state("paused")
            if trainer.finished and self._state == "running":
                self._set_state("finished")
        self._publish()
        if self._speed and self._state == "running":
            self._wake.wait(1.0 / self._speed)
            self._wake.clear()

    def _chunk_size(self, trainer: Trainer) -> int:
        if self._steps_left and self._state != "running":
            return self._steps_left if not self._speed else 1
        if self._speed:
            return 1
        per_step = trainer.config.batch_size / max(self._rate.samples_per_second, 1.0)
        return int(np.clip(CHUNK_SECONDS / per_step, 1, 2000)) if self._rate.seen else 20

    def _on_divergence(self, exc: DivergenceError) -> None:
        self._pending.steps.append(np.arange(exc.step - len(exc.costs), exc.step))
        self._pending.costs.append(np.asarray(exc.costs))
        self._steps_left = 0
        self._epoch_requested = False
        self._set_state("diverged")
        self.diverged.emit(str(exc))

    def _evaluate(self) -> None:
        trainer = self._trainer
        if trainer is None or trainer.test_x is None:
            return
        ev = trainer.evaluate()
        self._pending.evaluations.append(
            EpochResult(trainer.epoch, trainer.step_count, ev.cost, ev.accuracy, ev.confusion)
        )

    # ------------------------------------------------------------------ commands
    def _set_state(self, state: str) -> None:
        if state == "running" and self._trainer is not None and self._trainer.finished:
            # Asked to go on after the planned epochs: plan as many again.
            self._trainer.configure(epochs=self._trainer.config.epochs * 2)
        if state == "running" and self._trainer is None:
            return
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)
        self._publish(force=True)

    def _request_steps(self, n: int) -> None:
        if self._state == "running":
            self._set_state("paused")
        self._steps_left += n

    def _request_epoch(self) -> None:
        if self._state == "running":
            self._set_state("paused")
        self._epoch_requested = True

    def _configure(self, label: str, changes: dict[str, Any]) -> None:
        self._config = dataclasses.replace(self._config, **changes)
        if self._trainer is not None:
            self._trainer.configure(**changes)
            if label:
                self._pending.markers.append(Marker(self._trainer.step_count, label))
        self._publish(force=True)

    def _replace(self, net: Network, config: TrainConfig, generation: int) -> None:
        self._net, self._config = net, config
        self._generation = generation
        self._pending = _Pending()
        self._steps_left, self._epoch_requested = 0, False
        self._rate = _RateMeter()
        self._trainer = None
        if self._dataset is not None:
            self._make_trainer()
        self._set_state("idle" if self._trainer is None else "paused")
        self._publish(force=True)

    def _make_trainer(self) -> None:
        data = self._dataset
        assert data is not None
        self._trainer = Trainer(
            self._net, data.train_x, data.train_y, self._config, data.test_x, data.test_y
        )

    def _load_data(self, folder: Path | None, download: bool) -> None:
        if self._dataset is not None:
            self.data_ready.emit(self._dataset)
            return
        try:
            data = datasets.load_mnist(folder, download_missing=download, progress=self._progress)
        except (NnvizError, OSError) as exc:
            message = "download cancelled" if isinstance(exc, Cancelled) else str(exc)
            self.data_failed.emit(message)
            return
        self._use_dataset(data)

    def _use_dataset(self, data: datasets.Dataset) -> None:
        self._dataset = data
        self._make_trainer()
        if self._state == "idle":
            self._set_state("paused")
        self.data_ready.emit(data)

    def _progress(self, name: str, done: int, total: int | None) -> None:
        if self._download_stop.is_set():
            raise Cancelled(f"download of {name} cancelled")
        self.data_progress.emit(name, done, total or 0)

    # ------------------------------------------------------------------ snapshots
    def _publish(self, force: bool = False) -> None:
        now = time.perf_counter()
        pending = self._pending
        if not force and now - self._last_publish < PUBLISH_INTERVAL:
            return
        self._last_publish = now
        trainer = self._trainer
        net = trainer.net if trainer is not None else self._net
        snap = Snapshot(
            generation=self._generation,
            sizes=net.sizes,
            activation=net.activation,
            cost=net.cost,
            theta=net.theta.copy(),
            step=trainer.step_count if trainer else 0,
            epoch=trainer.epoch if trainer else 0,
            epoch_fraction=trainer.position / len(trainer.train_x) if trainer else 0.0,
            samples_seen=trainer.samples_seen if trainer else 0,
            samples_per_second=self._rate.samples_per_second if self._state == "running" else 0.0,
            learning_rate=trainer.learning_rate_at(trainer.step_count) if trainer else 0.0,
            batch_size=self._config.batch_size,
            state=self._state,
            steps=np.concatenate(pending.steps) if pending.steps else np.zeros(0, np.int64),
            costs=np.concatenate(pending.costs) if pending.costs else np.zeros(0),
            evaluations=tuple(pending.evaluations),
            markers=tuple(pending.markers),
        )
        self._pending = _Pending()
        if self.mailbox.put(snap):
            self.snapshot_ready.emit()


class _RateMeter:
    """Samples per second over the last second or so of training."""

    def __init__(self) -> None:
        self._samples = 0.0
        self._seconds = 0.0
        self.seen = False

    def add(self, samples: int, seconds: float) -> None:
        decay = 0.5 ** (seconds / 0.5) if self._seconds else 0.0  # half-life 0.5 s
        self._samples = self._samples * decay + samples
        self._seconds = self._seconds * decay + seconds
        self.seen = True

    @property
    def samples_per_second(self) -> float:
        return self._samples / self._seconds if self._seconds > 0 else 0.0


class WorkerHandle(QObject):
    """A worker and its own thread, with one idempotent :meth:`shutdown`.

    The worker must have a ``run()`` slot (its loop) and a thread-safe
    ``stop()`` that makes ``run()`` return soon.
    """

    def __init__(self, worker: QObject, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)  # type: ignore[attr-defined]
        self.thread.start()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop the worker and wait for its thread; safe to call twice."""
        if not self.thread.isRunning():
            return True
        self.worker.stop()  # type: ignore[attr-defined]
        self.thread.quit()  # ends the thread's event loop once run() returns
        return self.thread.wait(timeout_ms)

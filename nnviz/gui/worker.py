"""The training worker: one QObject in one QThread drives the core trainer.

The GUI thread never trains and the worker never touches a widget. The
worker's thread starts the training engine (:mod:`nnviz.engine`) in its own
process and talks to it through a pipe: commands go out in order and apply
between mini-batches; snapshots come back at most ~30 times a second and wait
in a one-slot :class:`~nnviz.engine.snapshot.Mailbox`, with a ping to the GUI
only when the box was empty.

Why a process: Python runs one thread at a time per process. With the
trainer in this thread, training and drawing took turns on the interpreter
lock: measured 16-35% of headless speed and 90-200 ms event-loop stalls.

Loading (and if needed downloading) MNIST for the GUI also happens in this
thread, so a slow disk or network never freezes the window.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import queue
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from nnviz.engine import training as engine
from nnviz.core import datasets
from nnviz.core.errors import Cancelled, NnvizError
from nnviz.core.network import Network
from nnviz.core.trainer import TrainConfig
from nnviz.engine.snapshot import Mailbox, Snapshot

POLL_SECONDS = 0.01


class TrainingWorker(QObject):
    """Drives the training process; runs in its own thread (see :class:`WorkerHandle`).

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
        Any other failure, with its message.
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
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._download_stop = threading.Event()
        self._dataset: datasets.Dataset | None = None
        self._conn: Connection | None = None
        self._process: Any = None
        self.reset(net, config, 0)

    # ------------------------------------------------------------------ GUI-thread API
    def _send(self, *message: Any) -> None:
        """Queue a command for the engine (thread-safe; sent in order)."""
        self._jobs.put(lambda: self._transmit(message))

    def start_training(self) -> None:
        """Run continuously (until pause, the planned epochs, or divergence)."""
        self._send("start")

    def pause(self) -> None:
        """Stop after the current mini-batch."""
        self._send("pause")

    def step_once(self, n: int = 1) -> None:
        """Run ``n`` mini-batches, then pause."""
        self._send("step", n)

    def step_epoch(self) -> None:
        """Run to the end of the current epoch, then pause."""
        self._send("step_epoch")

    def set_speed(self, steps_per_second: float) -> None:
        """Slow motion (mini-batches per second) or full speed (0)."""
        self._send("speed", steps_per_second)

    def configure(self, label: str = "", **changes: Any) -> None:
        """Change learning rate, batch size, ... live; ``label`` marks the cost curve."""
        self._send("configure", label, changes)

    def reset(self, net: Network, config: TrainConfig, generation: int) -> None:
        """Start over with a new network and settings (paused).

        ``generation`` tags the snapshots of the new network, so the GUI can
        tell them from late snapshots of the old one.
        """
        theta = net.theta.copy()
        self._send(
            "reset",
            generation,
            net.sizes,
            net.activation,
            net.cost,
            theta,
            dataclasses.asdict(config),
        )

    def evaluate(self) -> None:
        """Evaluate on the test set now; the result comes in a snapshot's evaluations."""
        self._send("evaluate")

    def set_theta(self, generation: int, theta: Any, label: str = "") -> None:
        """Replace the trained parameters (a single-example step, an undo) in place."""
        self._send("set_theta", generation, theta.copy(), label)

    def load_data(self, folder: Path | None, download: bool) -> None:
        """Find (and if ``download``, fetch) MNIST; answers with data_ready or data_failed."""
        self._download_stop.clear()
        self._jobs.put(lambda: self._load_data(folder, download))

    def set_dataset(self, dataset: datasets.Dataset) -> None:
        """Train on ``dataset`` (already loaded); answers with data_ready."""
        self._jobs.put(lambda: self._use_dataset(dataset))

    def cancel_download(self) -> None:
        """Stop a running download (thread-safe, immediate)."""
        self._download_stop.set()

    def stop(self) -> None:
        """End the worker loop soon (thread-safe, immediate)."""
        self._stop.set()
        self._download_stop.set()

    # ------------------------------------------------------------------ worker thread
    @Slot()
    def run(self) -> None:
        """Start the engine process, then relay commands and messages until stopped."""
        try:
            self._start_engine()
            while not self._stop.is_set():
                self._run_jobs()
                self._receive()
        except Exception as exc:  # a dead engine or a bug must not kill the thread silently
            self.errored.emit(f"training process failed: {exc}\n{traceback.format_exc()}")
        finally:
            self._stop_engine()

    def _start_engine(self) -> None:
        # "spawn": a fresh interpreter, never a fork of a process running Qt.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=engine.serve, args=(child,), name="nnviz-training", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _run_jobs(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            job()

    def _transmit(self, message: tuple[Any, ...]) -> None:
        assert self._conn is not None
        self._conn.send(message)

    def _receive(self) -> None:
        conn = self._conn
        assert conn is not None
        if not conn.poll(POLL_SECONDS):
            return
        while conn.poll():
            kind, *payload = conn.recv()
            self._dispatch(kind, payload)

    def _dispatch(self, kind: str, payload: list[Any]) -> None:
        if kind == "snapshot":
            snapshot: Snapshot = payload[0]
            if self.mailbox.put(snapshot):
                self.snapshot_ready.emit()
        elif kind == "state":
            self.state_changed.emit(payload[0])
        elif kind == "diverged":
            self.diverged.emit(payload[0])
        elif kind == "error":
            self.errored.emit(payload[0])

    def _stop_engine(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("stop",))
        if self._process is not None and self._process.pid is not None:  # it did start
            self._process.join(0.5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(0.5)
        if self._conn is not None:
            self._conn.close()

    # ------------------------------------------------------------------ data
    def _load_data(self, folder: Path | None, download: bool) -> None:
        if self._dataset is not None:
            self.data_ready.emit(self._dataset)
            return
        try:
            data = datasets.load_dataset(
                datasets.MNIST,
                folder,
                download_missing=download,
                progress=self._progress,
                stop=self._download_stop,
            )
        except (NnvizError, OSError) as exc:
            message = "download cancelled" if isinstance(exc, Cancelled) else str(exc)
            self.data_failed.emit(message)
            return
        self._use_dataset(data)

    def _use_dataset(self, data: datasets.Dataset) -> None:
        self._dataset = data
        self._transmit(("load", str(data.folder)))
        self.data_ready.emit(data)

    def _progress(self, name: str, done: int, total: int | None) -> None:
        self.data_progress.emit(name, done, total or 0)


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

"""The app's side of its two engines: training and the loss surface, one idiom.

Each engine (:class:`~nnviz.engine.runner.Engine`) is owned by one worker
thread, an :class:`EngineThread`. In the default ``process`` mode the
thread drives the server in a child process: it reads its replies, and
starts it again if it dies. In ``thread`` mode (``nnviz --engine thread``) the
very same server loop runs inside the thread itself.

The GUI thread talks to an engine only through :meth:`EngineThread.post`,
which puts a typed command on a queue (thread-safe, never blocks); no
worker thread ever depends on an event loop of its own. Replies wait in an
:class:`~nnviz.engine.runner.Inbox` (a newer snapshot absorbs an older one
still waiting) and the GUI thread gets one ``arrived`` ping whenever the
inbox was empty.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal

from nnviz.engine.runner import Engine, Inbox, ServerFactory
from nnviz.engine.surface import SurfaceServer
from nnviz.engine.training import TrainingServer

#: The loss surface waits for drawing and training (a lower CPU priority),
#: but not so low that a busy machine starves it (nice 19 got ~1.5% of a
#: core beside two busy programs; nice 10 gets ~10%).
SURFACE_NICE = 10
#: How long :meth:`EngineThread.shutdown` waits for the thread (the engine
#: stops its child within about 1.5 s whatever it does).
SHUTDOWN_MS = 2500


class EngineThread(QThread):
    """A worker thread that owns one engine.

    Signals
    -------
    arrived
        Replies wait in :attr:`inbox` (sent only when it was empty).
    died(str)
        The engine's server ended unexpectedly; it was started again (its state
        is gone: the app puts it back), unless the text says it was given up.
    """

    arrived = Signal()
    died = Signal(str)

    def __init__(
        self,
        factory: ServerFactory,
        name: str,
        mode: str = "process",
        nice: int = 0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"nnviz-{name}")
        self.engine = Engine(factory, name, mode, nice)
        self.inbox = Inbox()

    def post(self, command: object) -> None:
        """Send a typed command to the engine (thread-safe, never blocks)."""
        self.engine.post(command)

    def run(self) -> None:
        """The thread: drive the engine until :meth:`shutdown`."""
        self.engine.drive(self._deliver, self.died.emit)

    def _deliver(self, reply: object) -> None:
        if self.inbox.put(reply):
            self.arrived.emit()

    def shutdown(self, timeout_ms: int = SHUTDOWN_MS) -> bool:
        """Stop the engine and wait for the thread; safe to call twice."""
        self.engine.stop()
        return self.wait(timeout_ms) if self.isRunning() else True


class Backend(QObject):
    """Both engines of the app, started in ``mode`` (``"process"`` or ``"thread"``)."""

    def __init__(self, mode: str = "process", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = mode
        self.training = EngineThread(TrainingServer, "training", mode, 0, self)
        self.surface = EngineThread(SurfaceServer, "loss-surface", mode, SURFACE_NICE, self)

    def start(self) -> None:
        """Start both worker threads (and their child processes)."""
        self.training.start()
        self.surface.start()

    def shutdown(self) -> bool:
        """Stop both engines at once, then wait for both (idempotent)."""
        for thread in (self.training, self.surface):
            thread.engine.stop()
        return all([self.training.shutdown(), self.surface.shutdown()])

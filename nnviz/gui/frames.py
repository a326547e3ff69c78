"""All frame pacing of the window in one object: when a snapshot is drawn, and how.

The training server publishes about :data:`FRAME_RATE` snapshots a second
(the scheduler tells it the rate). A snapshot offered to the
:class:`FrameScheduler` waits (newer ones absorb it, keeping every cost)
until drawing it is due:

- while the person is drawing on the canvas, at most every
  :data:`DRAWING_GAP` seconds: their strokes come first;
- not before the previous frame's panel updates have all run;
- leaving the event loop idle for a share of its time: showing snapshots
  takes at most :data:`FRAME_DUTY` of the GUI thread's CPU time, so a slow
  machine shows fewer frames instead of freezing.

A frame's panel updates (the methods panels decorate with
:func:`~nnviz.gui.panels.visibility.while_visible`) are queued while the
snapshot is applied and then run a slice per turn of the event loop, a few
milliseconds of updates each, followed by the repaint they cause: a frame of
all panels took 30-60 ms in one piece, during which no timer, mouse move or
key press was served.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from nnviz.engine.snapshot import Snapshot
from nnviz.gui.panels.visibility import later, out_of_sight

#: Snapshots a second the window asks for while training runs (a few more than
#: the 30 frames a second it aims at: some arrive while a frame is being drawn
#: and are merged into the next).
FRAME_RATE = 32.0
#: Share of the GUI thread's time that showing snapshots may take.
FRAME_DUTY = 0.7
#: While a stroke is drawn, snapshots are shown at most every this many seconds.
DRAWING_GAP = 0.25
DRAWING_RETRY_MS = 50
BUSY_RETRY_MS = 2
#: A turn of the event loop runs queued panel updates until they took this
#: much CPU time; their repaints then share one pass (each pass has its own
#: cost: ~0.5 ms), and a slow panel still runs alone.
SLICE_SECONDS = 0.002

type Call = tuple[QWidget, Callable[..., Any], tuple[Any, ...]]


class FrameScheduler(QObject):
    """Decides when snapshots are drawn and runs the panels' updates in slices.

    Parameters
    ----------
    apply
        Draws a snapshot (updates the state, which makes the panels update).
    drawing
        Whether the person is drawing on the canvas right now.
    """

    def __init__(
        self,
        apply: Callable[[Snapshot], None],
        drawing: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._apply, self._drawing = apply, drawing
        self.pending: Snapshot | None = None
        self.collecting = False
        self._queue: dict[int, dict[str, Call]] = {}  # per panel, its calls (newest arguments)
        self._on_drained: list[Callable[[], None]] = []
        self._last_taken = 0.0
        self._frame_cost = 0.0  # GUI-thread CPU seconds per snapshot shown, smoothed
        self._taken_cpu = 0.0
        # A timer (even of 0 ms) fires only after the posted events, so the
        # repaint that a slice asked for happens before the next slice.
        self._slices = _single_shot(self, self._run_slice)
        self._retry = _single_shot(self, self._try_show)

    # ------------------------------------------------------------------ snapshots
    def offer(self, snapshot: Snapshot) -> None:
        """A new snapshot: drawn now or as soon as it is due (absorbing older ones)."""
        self.pending = snapshot if self.pending is None else snapshot.absorb(self.pending)
        self._try_show()

    def drop_pending(self) -> None:
        """Forget the snapshot waiting (its network was replaced)."""
        self.pending = None

    def _try_show(self) -> None:
        if self.pending is None:
            return
        now = time.perf_counter()
        if self._drawing() and now - self._last_taken < DRAWING_GAP:
            self._later(DRAWING_RETRY_MS)
            return
        if self.busy:  # the last frame is still being drawn
            self._later(BUSY_RETRY_MS)
            return
        wait = self._last_taken + self._frame_cost / FRAME_DUTY - now
        if wait > 0.002:  # the last frame was costly: leave the event loop some idle time
            self._later(int(wait * 1000))
            return
        self._last_taken, self._taken_cpu = now, time.thread_time()
        snapshot, self.pending = self.pending, None
        with self.sliced(on_drained=self._frame_done):
            self._apply(snapshot)

    def _later(self, msecs: int) -> None:
        if not self._retry.isActive():
            self._retry.start(msecs)

    def _frame_done(self) -> None:
        # CPU time of this thread, not wall time: the frame's slices let other
        # events run in between, and the process may wait for a core.
        cost = time.thread_time() - self._taken_cpu
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * cost  # smoothed

    # ------------------------------------------------------------------ slices
    @contextmanager
    def sliced(self, on_drained: Callable[[], None] | None = None) -> Iterator[None]:
        """Queue the panel updates made inside; run them a slice per turn of the event loop.

        ``on_drained`` is called once every queued update has run.
        """
        self.collecting = True
        try:
            yield
        finally:
            self.collecting = False
            if on_drained is not None:
                self._on_drained.append(on_drained)
            self._slices.start()

    def add(self, panel: QWidget, method: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Queue a panel's update (a newer call of the same method replaces it)."""
        self._queue.setdefault(id(panel), {})[method.__name__] = (panel, method, args)

    @property
    def busy(self) -> bool:
        """Whether panel updates of a frame are still waiting their turn."""
        return bool(self._queue) or self.collecting or self._slices.isActive()

    def flush(self) -> None:
        """Run every queued panel update now (before a panel is exported)."""
        while self._queue:
            self._run_calls(self._queue.pop(next(iter(self._queue))))

    def _run_slice(self) -> None:
        if not self._queue:
            callbacks, self._on_drained = self._on_drained, []
            for callback in callbacks:
                callback()
            return
        start = time.thread_time()
        while self._queue and time.thread_time() - start < SLICE_SECONDS:
            self._run_calls(self._queue.pop(next(iter(self._queue))))
        self._slices.start()

    def _run_calls(self, calls: dict[str, Call]) -> None:
        for panel, method, args in calls.values():
            try:
                if out_of_sight(panel):  # hidden since: catch up when shown
                    later(panel, method.__name__, functools.partial(method, panel, *args))
                else:
                    method(panel, *args)
            except RuntimeError:  # the panel's C++ side is gone (window closed)
                return


def _single_shot(parent: QObject, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(0)
    timer.timeout.connect(slot)
    return timer

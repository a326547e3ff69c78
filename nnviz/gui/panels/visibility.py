"""When panels do their drawing work: not while out of sight, and not all at once.

A dock behind another tab, or a closed one, still receives every snapshot;
redrawing it 30 times a second would cost the visible panels their frames.
:func:`while_visible` wraps a panel's update method: while the panel sits in
a shown window but is itself not visible, the newest call is kept and made
when the panel appears. A panel on its own (tests, scripts) is never held back.

Inside :func:`sliced` (the session applies each training snapshot in it), the
calls of visible panels are queued instead and made a few panels per turn of
the event loop (until their updates took :data:`SLICE_SECONDS`), each turn
followed by the repaint it causes: a frame of all panels took 30-60 ms in one
piece, during which no timer, mouse move or key press was served; in slices
the loop waits at most a few milliseconds of updates and their paint.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

F = TypeVar("F", bound=Callable[..., Any])

#: A turn of the event loop runs queued panels until their updates took this
#: much CPU time; their repaints then share one pass (each pass has its own
#: cost: ~0.5 ms), and a slow panel still runs alone.
SLICE_SECONDS = 0.002


def out_of_sight(widget: QWidget) -> bool:
    """Whether ``widget`` is in a shown window but cannot be seen.

    Hidden, or visible but wholly clipped: Qt keeps the docks behind the
    current tab of a tab group "visible" and only moves them out of the window.
    """
    window = widget.window()
    if window is widget or not window.isVisible():
        return False
    if not widget.isVisible():
        return True
    # The widget's rectangle clipped by every parent's (QWidget.visibleRegion
    # would also take away opaque children: empty for a fully covered holder).
    rect, child = widget.rect(), widget
    while child is not window:
        parent = child.parentWidget()
        rect = rect.translated(child.pos()) & parent.rect()
        if rect.isEmpty():
            return True
        child = parent
    return False


def later(panel: QWidget, key: str, call: Callable[[], object]) -> None:
    """Run ``call`` when ``panel`` comes into sight (the newest ``call`` per ``key``)."""
    helper = _catch_up(panel)
    helper.watch_dock()
    helper.pending[key] = call


def wait_until_seen(panel: QWidget, key: str, call: Callable[[], object]) -> bool:
    """For panels that wait even on their own: defer ``call`` while ``panel`` is unseen.

    Returns True (and runs ``call`` when the panel comes into sight) when the
    panel is hidden or out of sight; False when the caller should go on now.
    """
    if panel.isVisible() and not out_of_sight(panel):
        return False
    later(panel, key, call)
    return True


def while_visible[F: Callable[..., Any]](method: F) -> F:
    """Defer ``method`` while the panel is out of sight; the newest call runs on show."""

    # Qt passes a signal's arguments to a slot only as far as it takes them;
    # keep that for the wrapped method (e.g. a combo box's index to refresh()).
    n_args = len(inspect.signature(method).parameters) - 1

    @functools.wraps(method)
    def wrapper(self: QWidget, *args: Any) -> Any:
        args = args[:n_args]
        if out_of_sight(self):
            later(self, method.__name__, functools.partial(method, self, *args))
            return None
        if _slicer is not None and _slicer.collecting:
            _slicer.add(self, method, args)
            return None
        return method(self, *args)

    return wrapper  # type: ignore[return-value]


class _CatchUp(QObject):
    """Replays the deferred calls of one panel when it comes into sight.

    That is a Show event of the panel, or its dock's ``visibilityChanged(True)``
    (its tab became the current one; the calls then run a turn later, once
    the dock has its place in the window).
    """

    def __init__(self, panel: QWidget) -> None:
        super().__init__(panel)
        self.panel = panel
        self.pending: dict[str, Callable[[], object]] = {}
        self.dock: QDockWidget | None = None
        panel.installEventFilter(self)

    def watch_dock(self) -> None:
        """Follow the dock the panel sits in (it may be docked after the first call)."""
        parent = self.panel.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None and parent is not self.dock:
            self.dock = parent
            parent.visibilityChanged.connect(self._on_dock_visibility)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and self.pending:
            self.replay()
        return False

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible and self.pending:
            QTimer.singleShot(0, self, self.replay)

    def replay(self) -> None:
        if self.pending and not out_of_sight(self.panel):
            pending, self.pending = self.pending, {}
            for call in pending.values():
                call()


def _catch_up(panel: QWidget) -> _CatchUp:
    helper = panel.findChild(_CatchUp)
    return helper if helper is not None else _CatchUp(panel)


type Call = tuple[QWidget, Callable[..., Any], tuple[Any, ...]]


class _Slicer(QObject):
    """Runs queued panel calls, a slice per turn of the event loop, newest arguments only."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting = False
        # per panel (in the order they were called) its calls, newest arguments
        self.queue: dict[int, dict[str, Call]] = {}
        self.on_drained: list[Callable[[], None]] = []
        # A timer (even of 0 ms) fires only after the posted events, so the
        # repaint that a call asked for happens before the next call.
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self.run_next)

    def add(self, panel: QWidget, method: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.queue.setdefault(id(panel), {})[method.__name__] = (panel, method, args)

    @property
    def busy(self) -> bool:
        return bool(self.queue) or self.collecting or self.timer.isActive()

    def finish_collecting(self, on_drained: Callable[[], None] | None) -> None:
        self.collecting = False
        if on_drained is not None:
            self.on_drained.append(on_drained)
        self.timer.start()

    def run_next(self) -> None:
        """A slice of panels' calls (they share one repaint), or, once all ran and
        were repainted, the ``on_drained`` callbacks."""
        if not self.queue:
            callbacks, self.on_drained = self.on_drained, []
            for callback in callbacks:
                callback()
            return
        start = time.thread_time()
        while self.queue and time.thread_time() - start < SLICE_SECONDS:
            calls = self.queue.pop(next(iter(self.queue)))
            for panel, method, args in calls.values():
                try:
                    if out_of_sight(panel):  # hidden since: catch up when shown
                        later(panel, method.__name__, functools.partial(method, panel, *args))
                    else:
                        method(panel, *args)
                except RuntimeError:  # the panel's C++ side is gone (window closed)
                    break
        self.timer.start()


_slicer: _Slicer | None = None


@contextmanager
def sliced(on_drained: Callable[[], None] | None = None) -> Iterator[None]:
    """Queue the :func:`while_visible` calls made inside; run them in slices, one per turn.

    ``on_drained`` is called once every queued call has run (at once if none was).
    """
    global _slicer
    if _slicer is None:
        _slicer = _Slicer()
    _slicer.collecting = True
    try:
        yield
    finally:
        _slicer.finish_collecting(on_drained)


def slicing_busy() -> bool:
    """Whether calls of an earlier :func:`sliced` block are still waiting their turn."""
    return _slicer is not None and _slicer.busy

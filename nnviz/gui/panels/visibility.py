"""When panels do their drawing work: not while out of sight, and not all at once.

A dock behind another tab, or a closed one, still receives every snapshot;
redrawing it 30 times a second would cost the visible panels their frames.
:func:`while_visible` wraps a panel's update method: while the panel sits in
a shown window but is itself not visible, the newest call is kept and made
when the panel appears. A panel on its own (tests, scripts) is never held back.

While the window's frame scheduler applies a training snapshot (its
``collecting`` is true), the calls of visible panels go to the scheduler
instead, which runs them a slice per turn of the event loop
(:mod:`nnviz.gui.frames`). The scheduler is found through the panel's window
(its ``frames`` attribute), so there is no global state here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget


class _Collector(Protocol):
    """The part of :class:`~nnviz.gui.frames.FrameScheduler` the panels' updates see."""

    collecting: bool

    def add(self, panel: QWidget, method: Callable[..., Any], args: tuple[Any, ...]) -> None: ...


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
        if parent is None:  # not inside the window after all (being re-parented)
            return False
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
        frames: _Collector | None = getattr(self.window(), "frames", None)
        if frames is not None and frames.collecting:
            frames.add(self, method, args)
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
        """Replay the deferred calls when the panel is shown."""
        if event.type() == QEvent.Type.Show and self.pending:
            self.replay()
        return False

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible and self.pending:
            QTimer.singleShot(0, self, self.replay)

    def replay(self, force: bool = False) -> None:
        """Make the deferred calls (``force``: even while the panel is out of sight)."""
        if self.pending and (force or not out_of_sight(self.panel)):
            pending, self.pending = self.pending, {}
            for call in pending.values():
                call()


def _catch_up(panel: QWidget) -> _CatchUp:
    helper = panel.findChild(_CatchUp)
    return helper if helper is not None else _CatchUp(panel)


def catch_up_now(root: QWidget) -> None:
    """Make every deferred call of ``root`` and the panels inside it, seen or not.

    For a picture of a panel behind a tab: it must show the newest state.
    """
    for helper in root.findChildren(_CatchUp):  # all descendants, the root's own included
        helper.replay(force=True)

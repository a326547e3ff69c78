"""Panels that are out of sight do no drawing work until they are shown again.

A dock behind another tab, or a closed one, still receives every snapshot;
redrawing it 30 times a second would cost the visible panels their frames.
:func:`while_visible` wraps a panel's update method: while the panel sits in
a shown window but is itself not visible, the newest call is kept and made
when the panel appears. A panel on its own (tests, scripts) is never held back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

F = TypeVar("F", bound=Callable[..., Any])


def out_of_sight(widget: QWidget) -> bool:
    """Whether ``widget`` is in a shown window but not visible itself."""
    window = widget.window()
    return window is not widget and window.isVisible() and not widget.isVisible()


def while_visible[F: Callable[..., Any]](method: F) -> F:
    """Defer ``method`` while the panel is out of sight; the newest call runs on show."""

    # Qt passes a signal's arguments to a slot only as far as it takes them;
    # keep that for the wrapped method (e.g. a combo box's index to refresh()).
    n_args = len(inspect.signature(method).parameters) - 1

    @functools.wraps(method)
    def wrapper(self: QWidget, *args: Any) -> Any:
        args = args[:n_args]
        if out_of_sight(self):
            _catch_up(self).pending[method.__name__] = (method, args)
            return None
        return method(self, *args)

    return wrapper  # type: ignore[return-value]


class _CatchUp(QObject):
    """Replays the deferred calls of one panel when it is shown."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__(panel)
        self.panel = panel
        self.pending: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
        panel.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and self.pending:
            pending, self.pending = self.pending, {}
            for method, args in pending.values():
                method(self.panel, *args)
        return False


def _catch_up(panel: QWidget) -> _CatchUp:
    helper = panel.findChild(_CatchUp)
    return helper if helper is not None else _CatchUp(panel)

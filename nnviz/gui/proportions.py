"""The docks keep their proportions when the window is resized.

Qt gives all the room a window gains to one dock area: a window opened small
and then enlarged had a huge drawing column and cramped network and surface
columns until View ▸ Reset layout. Here the columns' widths and the rows'
heights are remembered as fractions and re-applied after the window changed
size.

The fractions kept are the ones meant, not the ones a small window forced: they
are taken from the first-start layout (or the restored one) and after the user
drags a separator, never after a resize squeezed the docks to their minimums.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: A place in the layout: the docks that share it as tabs (any may be in front).
Place = Sequence[QDockWidget]


def _front(place: Place) -> QDockWidget | None:
    """The dock of ``place`` that is docked and in front, if any."""
    for dock in place:
        if dock.isVisible() and not dock.isFloating() and not dock.visibleRegion().isEmpty():
            return dock
    return None


class KeepProportions(QObject):
    """Remember the fractions of ``columns`` (left to right) and of each column's
    ``rows`` (top to bottom), and restore them after the window's size changed.

    Parameters
    ----------
    window
        The main window whose docks are kept in proportion.
    columns
        The places that make the columns (one place per column).
    rows
        Per column that is split, its places from top to bottom.
    """

    def __init__(
        self, window: QMainWindow, columns: Sequence[Place], rows: Sequence[Sequence[Place]]
    ) -> None:
        super().__init__(window)
        self._window = window
        self._columns = list(columns)
        self._rows = [list(r) for r in rows]
        self._size = QSize()
        self._widths: list[float] | None = None
        self._heights: list[list[float] | None] = [None] * len(self._rows)
        self._pressed: list[tuple[int, int]] = []  # the docks' sizes when the mouse went down
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._settle)
        window.installEventFilter(self)

    def intend(self, widths: list[float], heights: list[list[float]]) -> None:
        """Keep these fractions (the first-start layout's), whatever a small window allows now."""
        self._size = self._window.size()
        self._widths = list(widths)
        self._heights = [list(h) for h in heights]

    def remember(self) -> None:
        """Take the present widths and heights as the ones meant."""
        self._size = self._window.size()
        self._widths = self._fractions(self._columns, horizontal=True)
        self._heights = [self._fractions(row, horizontal=False) for row in self._rows]

    def _fractions(self, places: Sequence[Place], horizontal: bool) -> list[float] | None:
        docks = [_front(place) for place in places]
        if None in docks:
            return None  # a place is empty or floating: the user rearranged, leave it
        sizes = [d.width() if horizontal else d.height() for d in docks if d is not None]
        total = sum(sizes)
        return [s / total for s in sizes] if total > 0 else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._timer.start()  # after Qt has laid out the docks
        elif event.type() == QEvent.Type.MouseButtonPress:
            self._pressed = self._dock_sizes()
        elif event.type() == QEvent.Type.MouseButtonRelease:
            QTimer.singleShot(0, self._after_press)
        return False

    def _dock_sizes(self) -> list[tuple[int, int]]:
        places = [*self._columns, *(p for row in self._rows for p in row)]
        return [(d.width(), d.height()) if d else (0, 0) for d in map(_front, places)]

    def _after_press(self) -> None:
        """A press and release on the window itself: if it moved a separator, keep that.

        A click elsewhere that reached the window (one a child ignored) changed
        nothing and is no reason to take the widths a small window forced as meant.
        """
        if self._dock_sizes() != self._pressed:
            self.remember()

    def _settle(self) -> None:
        if not self._window.isVisible() or self._window.size() == self._size:
            return
        if self._size.isValid():
            self._apply()
        self._size = self._window.size()

    def _apply(self) -> None:
        if self._widths is not None:
            self._resize(self._columns, self._widths, Qt.Orientation.Horizontal)
        for row, fractions in zip(self._rows, self._heights, strict=True):
            if fractions is not None:
                self._resize(row, fractions, Qt.Orientation.Vertical)

    def _resize(self, places: Sequence[Place], fractions: list[float], way: Qt.Orientation) -> None:
        """Share the room ``places`` have now in the remembered ``fractions``."""
        found = [_front(place) for place in places]
        docks = [d for d in found if d is not None]
        if len(docks) != len(found):
            return
        horizontal = way == Qt.Orientation.Horizontal
        total = sum(d.width() if horizontal else d.height() for d in docks)
        sizes = [max(round(total * f), 1) for f in fractions]
        self._window.resizeDocks(docks, sizes, way)

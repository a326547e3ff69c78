"""A dock's content holder that keeps per-frame text changes inside the panel.

Every ``QLabel.setText`` asks the label's parents to lay out again, up to
the main window: Qt's ``QLayout.activate`` calls ``updateGeometry()`` on its
widget whether or not its size hints changed. During training the panels
change a few labels 30 times a second, so the main window re-laid out all
nine docks (and made and deleted a property animation per dock and
separator) several times per frame: measured 11 of 55 ms of GUI-thread CPU
per frame.

:class:`LayoutGate` holds one panel without a layout of its own. A layout
request from the panel stops here, and goes on to the dock and the window
only when the panel's size hints or size policy really changed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class LayoutGate(QWidget):
    """Holds ``panel``, filling itself with it; passes on only real size-hint changes."""

    def __init__(self, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        panel.setParent(self)
        self._hints = self._read_hints()
        self._follow(self._hints)

    def _read_hints(self) -> tuple[QSize, QSize, QSize, QSize, QSizePolicy]:
        p = self.panel
        return (p.sizeHint(), p.minimumSizeHint(), p.minimumSize(), p.maximumSize(), p.sizePolicy())

    def _follow(self, hints: tuple[QSize, QSize, QSize, QSize, QSizePolicy]) -> None:
        self.setMaximumSize(hints[3])
        self.setSizePolicy(hints[4])

    def sizeHint(self) -> QSize:
        """The panel's size hint."""
        return self.panel.sizeHint()

    def minimumSizeHint(self) -> QSize:
        """The panel's minimum size hint (its own minimum size, if set, wins)."""
        hint = self.panel.minimumSizeHint()
        return hint.expandedTo(self.panel.minimumSize())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The panel always fills the gate."""
        self.panel.setGeometry(self.rect())
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        """A layout request from the panel: pass it on only if the panel's hints changed."""
        if event.type() == QEvent.Type.LayoutRequest:
            hints = self._read_hints()
            if hints != self._hints:
                self._hints = hints
                self._follow(hints)
                self.updateGeometry()
            return True
        return super().event(event)

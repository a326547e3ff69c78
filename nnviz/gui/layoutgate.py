"""A holder that keeps per-frame text changes from re-laying out the window.

Every ``QLabel.setText`` asks the label's parents to lay out again, up to
the main window: Qt's ``QLayout.activate`` calls ``updateGeometry()`` on its
widget whether or not its size hints changed. During training the panels
change a few labels 30 times a second, so the main window re-laid out all
nine docks (and made and deleted a property animation per dock and
separator) several times per frame: measured 11 of 55 ms of GUI-thread CPU
per frame; inside the loss-surface panel a changing line of figures cost
another 2.5 ms a frame.

:class:`LayoutGate` holds one widget (a whole panel in a dock, or a label
in a panel) without a layout of its own. A layout request from it stops
here, and goes on only when a size hint that its layout can use changed:
not a width hint under an ``Ignored`` policy or a fixed width, say.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

IGNORED = QSizePolicy.Policy.Ignored


class LayoutGate(QWidget):
    """Holds ``inner``, filling itself with it; passes on only size-hint changes that count."""

    def __init__(self, inner: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inner = inner
        inner.setParent(self)
        self._hints = self._read_hints()
        self._follow()

    def _read_hints(self) -> tuple[Any, ...]:
        """What the enclosing layout uses of the inner widget's size wishes."""
        w = self.inner
        policy, low, high = w.sizePolicy(), w.minimumSize(), w.maximumSize()
        hint, least = w.sizeHint(), w.minimumSizeHint()
        free_w = policy.horizontalPolicy() != IGNORED and low.width() != high.width()
        free_h = policy.verticalPolicy() != IGNORED and low.height() != high.height()
        hfw = w.hasHeightForWidth() and free_h
        return (
            policy,
            low,
            high,
            (hint.width(), least.width()) if free_w else None,
            (hint.height(), least.height()) if free_h else None,
            w.heightForWidth(self.width()) if hfw else None,
        )

    def _follow(self) -> None:
        self.setMinimumSize(self.inner.minimumSize())
        self.setMaximumSize(self.inner.maximumSize())
        self.setSizePolicy(self.inner.sizePolicy())

    def sizeHint(self) -> QSize:
        """The inner widget's size hint."""
        return self.inner.sizeHint()

    def minimumSizeHint(self) -> QSize:
        """The inner widget's minimum size hint."""
        return self.inner.minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        """As the inner widget (a word-wrapped label's height follows its width)."""
        return self.inner.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:
        """The inner widget's height for ``width``."""
        return self.inner.heightForWidth(width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The inner widget always fills the gate."""
        self.inner.setGeometry(self.rect())
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        """A layout request from the inner widget: pass it on only if its hints changed."""
        if event.type() == QEvent.Type.LayoutRequest:
            hints = self._read_hints()
            if hints != self._hints:
                self._hints = hints
                self._follow()
                self.updateGeometry()
            return True
        return super().event(event)

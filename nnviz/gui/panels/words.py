"""Words in panels that must fit whatever room a dock gives them.

:class:`FittingLine` is the one way a panel shows a line of text that has
shorter wordings: it is given its wordings from the longest (the full sentence)
to the shortest and shows the first that fits its width, so a narrow dock reads
"blue +, red -; click a neuron" where a wide one says the whole sentence. The
full sentence stays in the tooltip. (Text drawn on plots is
:class:`~nnviz.gui.panels.plots.FastLabel`.)
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class FittingLine(QLabel):
    """One line showing the longest of its wordings that fits its width.

    Parameters
    ----------
    align
        Where the line sits in its room.
    keep_shortest
        True: the shortest wording always shows whole (it sets the minimum
        width, e.g. a step counter); False: when none fits, the shortest is
        elided and the line never asks for width (a hint).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        keep_shortest: bool = False,
    ) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ("",)
        self._keep_shortest = keep_shortest
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(align)
        # the wording adapts to the width: it must not force a minimum width on the dock
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_texts(self, texts: Sequence[str], tip: str | None = None) -> None:
        """Show the longest of ``texts`` (longest first) that fits; ``tip`` (by default
        the longest) in the tooltip."""
        self._texts = tuple(texts) or ("",)
        self.setToolTip(self._texts[0] if tip is None else tip)
        if self._keep_shortest:
            least = self.fontMetrics().horizontalAdvance(self._texts[-1]) + 2
            if self.minimumWidth() < least:  # rarely: a counter grew a digit
                self.setMinimumWidth(least)
        self._fit()

    def texts(self) -> list[str]:
        """The wordings to choose from, longest first."""
        return list(self._texts)

    def full_text(self) -> str:
        """The longest wording, however little of it fits."""
        return self._texts[0]

    def _fit(self) -> None:
        metrics, room = self.fontMetrics(), self.contentsRect().width()
        shown = next((t for t in self._texts if metrics.horizontalAdvance(t) <= room), None)
        if shown is None:
            last = self._texts[-1]
            shown = (
                last
                if self._keep_shortest
                else metrics.elidedText(last, Qt.TextElideMode.ElideRight, room)
            )
        if shown != self.text():
            self.setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Choose the wording again for the new width."""
        super().resizeEvent(event)
        self._fit()

"""A cheap text label for pyqtgraph views.

``pg.TextItem`` re-computes its transform and lays out rich text on every
paint; in views that repaint 30 times a second that cost ~0.3 ms per label
(measured: the network panel's 14 labels took 3.8 ms of its 8.8 ms paint).
:class:`FastLabel` draws plain (multi-line) text at a fixed pixel size,
anchored to a point in view coordinates, with an optional background plate.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

PAD = 2.0


class FastLabel(QGraphicsItem):
    """Plain text at a point; ``anchor`` (0..1, 0..1) is the text box's point at ``pos``."""

    def __init__(
        self,
        text: str = "",
        anchor: tuple[float, float] = (0.0, 0.0),
        color: QColor | None = None,
        font: QFont | None = None,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
    ) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._text = text
        self._anchor = anchor
        self._color = QColor(color) if color is not None else QColor(40, 40, 40)
        self._font = QFont(font) if font is not None else QFont()
        self._align = align
        self._fill: QColor | None = None
        self._text_color: QColor | None = None  # over the fill
        self._rect = QRectF()
        self._measure()

    # ------------------------------------------------------------------ API
    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str, color: QColor | None = None) -> None:
        """New text (and colour); re-measured only when it changed."""
        if color is not None:
            self.setColor(color)
        if text != self._text:
            self._text = text
            self._measure()

    def setColor(self, color: QColor) -> None:
        """The text colour."""
        self._color = QColor(color)
        self.update()

    def setFont(self, font: QFont) -> None:
        """The font."""
        self._font = QFont(font)
        self._measure()

    def set_plate(
        self, fill: QColor | None, text_color: QColor | None = None, bold: bool = False
    ) -> None:
        """A background plate behind the text (``None``: none), optional bold text."""
        self._fill = QColor(fill) if fill is not None else None
        self._text_color = QColor(text_color) if text_color is not None else None
        if self._font.bold() != bold:
            self._font.setBold(bold)
        self._measure()

    def color(self) -> QColor:
        """The text colour (without a plate)."""
        return QColor(self._color)

    def plate(self) -> QColor | None:
        """The background plate colour, or None."""
        return self._fill

    def is_bold(self) -> bool:
        """Whether the text is bold."""
        return self._font.bold()

    # ------------------------------------------------------------------ QGraphicsItem
    def _measure(self) -> None:
        self.prepareGeometryChange()
        metrics = QFontMetricsF(self._font)
        lines = self._text.split("\n") if self._text else [""]
        width = max(metrics.horizontalAdvance(line) for line in lines) + 2 * PAD
        height = metrics.lineSpacing() * len(lines) + 2 * PAD
        ax, ay = self._anchor
        self._rect = QRectF(-ax * width, -ay * height, width, height)
        self.update()

    def boundingRect(self) -> QRectF:
        """The text box around the anchor point, in pixels."""
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self._fill is not None:
            painter.fillRect(self._rect, self._fill)
        painter.setFont(self._font)
        painter.setPen(
            self._text_color if self._fill is not None and self._text_color else self._color
        )
        painter.drawText(self._rect.adjusted(PAD, PAD, -PAD, -PAD), int(self._align), self._text)

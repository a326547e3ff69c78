"""A scrolling gallery of test digits with their true label, answer and confidence.

Its views (:func:`view_indices`): the mistakes the network was surest of, the
right answers it was least sure of, or the digits of one cell of the matrix,
most confident first. The gallery keeps only the list of test-set indices it shows; it paints the
thumbnails that are on screen (a few dozen) straight from the test images at
each paint, so a list of 9,000 mistakes costs no more than a list of 20.
Thumbnails are the 28x28 digits enlarged twice with crisp pixels, ink bright
as in MNIST and the canvas's input preview.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QToolTip, QWidget

from nnviz.core.analysis import ConfusionAnalysis
from nnviz.gui import theme
from nnviz.gui.panels.analysis.matrix import plural

Array = npt.NDArray[Any]

SCALE = 2  # screen pixels per image pixel
PAD = 4  # space around each thumbnail
CAPTION_H = 16
#: The gallery's views: the entries of its box (the third only while a cell is selected).
MISTAKES, UNSURE, SELECTED = 0, 1, 2
#: Short: the count line under the box says the rest ("662 mistakes, most confident first").
VIEW_NAMES = ("surest mistakes", "unsure right answers")


def view_indices(
    analysis: ConfusionAnalysis, view: int, selected: tuple[int, int] | None
) -> tuple[Array, str, str]:
    """The test indices a view shows, a count line, and the text for an empty view.

    ``selected`` is the cell ``(true, predicted)`` or row ``(true, -1)`` of
    the ``SELECTED`` view.
    """
    if view == UNSURE:
        idx = analysis.least_confident_correct(analysis.n)
        return idx, f"{idx.size:,} right, least sure first", "No digit is classified right."
    if view == SELECTED and selected is not None:
        true, predicted = selected
        if predicted < 0:
            idx = analysis.mistakes(true=true)
            text = f"{idx.size:,} of {analysis.row_totals[true]:,} {plural(true)} wrong"
            return idx, text, f"Every {true} is classified right."
        idx = analysis.cell(true, predicted)
        name = "right" if true == predicted else f"taken for {predicted}"
        text = f"{idx.size:,} {plural(true)} {name}, most confident first"
        return idx, text, f"No {true} is classified as {predicted}."
    idx = analysis.mistakes()
    return idx, f"{idx.size:,} mistakes, most confident first", "No mistakes at all."


def selection_name(true: int, predicted: int) -> str:
    """The view box's entry for a selected cell (``predicted = -1``: a row)."""
    if predicted < 0:
        return f"{plural(true)} wrong"
    return f"{plural(true)} right" if true == predicted else f"{plural(true)} as {predicted}"


def format_confidence(value: float, probabilities: bool) -> str:
    """``"97%"`` for softmax probabilities, ``"0.97"`` for a sigmoid activation."""
    return f"{value:.0%}" if probabilities else f"{value:.2f}"


class DigitGallery(QWidget):
    """Thumbnails of test digits in a grid that fills the width; click one to choose it.

    Signals
    -------
    digit_clicked(int)
        The test-set index of the clicked thumbnail.
    """

    digit_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images = np.zeros((0, 784), dtype=np.float32)
        self._side = 28
        self._indices = np.zeros(0, dtype=np.int64)
        self._labels = self._predictions = np.zeros(0, dtype=np.int64)
        self._outputs = np.zeros((0, 10), dtype=np.float32)
        self._probabilities = True
        self._current: int | None = None
        self._empty_text = ""
        self._background, self._foreground = theme.plot_colours(False)
        self._right, self._wrong = theme.sign_colours(False)
        self._frame = QColor(200, 202, 206)
        self._font = QFont()
        self._font.setPixelSize(11)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._metrics = (QFontMetrics(self._font), QFontMetrics(self._bold))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    # ------------------------------------------------------------------ content
    def set_digits(
        self,
        images: Array,
        indices: Array,
        labels: Array,
        predictions: Array,
        outputs: Array,
        probabilities: bool,
        empty_text: str = "",
    ) -> None:
        """Show ``images[indices]`` in this order.

        Parameters
        ----------
        images
            ``(n, side * side)`` test images in [0, 1].
        indices
            Test-set indices to show, in order.
        labels, predictions, outputs
            ``(n,)`` true labels, ``(n,)`` answers and ``(n, classes)`` output
            activations of all test images.
        probabilities
            Whether the outputs are softmax probabilities (shown as percentages).
        empty_text
            Shown when ``indices`` is empty.
        """
        self._images, self._labels, self._outputs = images, labels, outputs
        self._side = math.isqrt(images.shape[1]) if images.ndim == 2 else 28
        self._indices = np.asarray(indices, dtype=np.int64)
        self._predictions = predictions[self._indices]
        self._probabilities = probabilities
        self._empty_text = empty_text
        self._fit_height()
        self.update()

    def clear(self, empty_text: str = "") -> None:
        """Show nothing (or ``empty_text``)."""
        self._indices = np.zeros(0, dtype=np.int64)
        self._predictions = np.zeros(0, dtype=np.int64)
        self._empty_text = empty_text
        self._fit_height()
        self.update()

    def set_current(self, index: int | None) -> None:
        """Outline the thumbnail of test image ``index`` (the one in the canvas), or none."""
        if index != self._current:
            self._current = index
            self.update()

    def current(self) -> int | None:
        """The outlined test index, or None."""
        return self._current

    def set_colours(self, dark: bool, colour_blind: bool) -> None:
        """Follow the palette and the colour-blind choice."""
        self._background, self._foreground = theme.plot_colours(dark)
        self._right, self._wrong = theme.sign_colours(colour_blind)
        self._frame = QColor(90, 93, 100) if dark else QColor(200, 202, 206)
        if dark:  # the lesson colours are too deep to read as text on a dark background
            self._right = theme.blend(self._right, QColor(255, 255, 255), 150)
            self._wrong = theme.blend(self._wrong, QColor(255, 255, 255), 170)
        self.update()

    # ------------------------------------------------------------------ geometry
    @staticmethod
    def cell_size() -> QSize:
        """The grid step: one thumbnail, its caption and padding."""
        return QSize(28 * SCALE + 2 * PAD + 6, 28 * SCALE + CAPTION_H + 2 * PAD)

    def columns(self, width: int | None = None) -> int:
        """Thumbnails per row at ``width`` (the current width by default)."""
        return max(1, (self.width() if width is None else width) // self.cell_size().width())

    def height_for(self, width: int) -> int:
        """The height that shows every thumbnail at ``width``."""
        rows = math.ceil(len(self._indices) / self.columns(width))
        return max(rows * self.cell_size().height(), 40)

    def thumbnail_rect(self, position: int) -> QRect:
        """Where the ``position``-th thumbnail (not its caption) is painted."""
        cols, cell = self.columns(), self.cell_size()
        row, col = divmod(position, cols)
        side = self._side * SCALE
        x = col * cell.width() + (cell.width() - side) // 2
        return QRect(x, row * cell.height() + PAD, side, side)

    def position_at(self, point: QPoint) -> int | None:
        """The position in the list of the thumbnail (or caption) under ``point``."""
        cell = self.cell_size()
        col, row = point.x() // cell.width(), point.y() // cell.height()
        position = row * self.columns() + col
        if point.x() < 0 or col >= self.columns() or not 0 <= position < len(self._indices):
            return None
        return int(position)

    def _fit_height(self) -> None:
        height = self.height_for(self.width())
        if self.minimumHeight() != height:
            self.setMinimumHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """More columns, fewer rows: the height follows the width."""
        super().resizeEvent(event)
        self._fit_height()

    def indices(self) -> Array:
        """The test-set indices shown, in order."""
        return self._indices.copy()

    def caption(self, position: int) -> str:
        """The caption under a thumbnail, e.g. ``"4→9 97%"``."""
        i = int(self._indices[position])
        return "".join(self._caption_parts(i, int(self._predictions[position])))

    def _caption_parts(self, i: int, predicted: int) -> tuple[str, str, str]:
        confidence = format_confidence(float(self._outputs[i, predicted]), self._probabilities)
        return str(int(self._labels[i])), f"→{predicted}", f" {confidence}"

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint only the thumbnails in the exposed rows, straight from the test images."""
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._background)
        if not len(self._indices):
            self._paint_empty(painter)
            painter.end()
            return
        cols, cell_h = self.columns(), self.cell_size().height()
        first = max(0, event.rect().top() // cell_h) * cols
        stop = min(len(self._indices), (event.rect().bottom() // cell_h + 1) * cols)
        if first < stop:
            self._paint_range(painter, first, stop)
        painter.end()

    def _paint_range(self, painter: QPainter, first: int, stop: int) -> None:
        side = self._side
        shown = self._images[self._indices[first:stop]]  # (m, side * side)
        grey = np.ascontiguousarray(np.round(shown * 255.0), dtype=np.uint8)
        strip = QImage(grey.data, side, side * len(grey), side, QImage.Format.Format_Grayscale8)
        painter.setFont(self._font)
        for j, position in enumerate(range(first, stop)):
            rect = self.thumbnail_rect(position)
            painter.drawImage(rect, strip, QRect(0, j * side, side, side))  # nearest: crisp
            painter.setPen(self._frame)
            painter.drawRect(rect.adjusted(-1, -1, 0, 0))
            self._paint_caption(painter, position, rect)
            if self._current == int(self._indices[position]):
                painter.setPen(QPen(theme.HIGHLIGHT, 3))
                painter.drawRect(rect.adjusted(-2, -2, 1, 1))

    def _paint_caption(self, painter: QPainter, position: int, rect: QRect) -> None:
        i = int(self._indices[position])
        predicted = int(self._predictions[position])
        parts = self._caption_parts(i, predicted)
        colour = self._right if predicted == int(self._labels[i]) else self._wrong
        plain, bold = self._metrics
        widths = (
            plain.horizontalAdvance(parts[0]),
            bold.horizontalAdvance(parts[1]),
            plain.horizontalAdvance(parts[2]),
        )
        x = rect.center().x() - sum(widths) // 2
        baseline = rect.bottom() + 3 + plain.ascent()
        painter.setPen(self._foreground)
        painter.drawText(x, baseline, parts[0])
        painter.drawText(x + widths[0] + widths[1], baseline, parts[2])
        painter.setFont(self._bold)
        painter.setPen(colour)
        painter.drawText(x + widths[0], baseline, parts[1])
        painter.setFont(self._font)

    def _paint_empty(self, painter: QPainter) -> None:
        painter.setPen(theme.blend(self._foreground, self._background, 160))
        painter.drawText(
            self.rect().adjusted(8, 8, -8, -8),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            self._empty_text,
        )

    # ------------------------------------------------------------------ mouse
    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A left click chooses the digit under the mouse."""
        if event.button() == Qt.MouseButton.LeftButton:
            position = self.position_at(event.position().toPoint())
            if position is not None:
                self.digit_clicked.emit(int(self._indices[position]))
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        """Tooltips: the digit's answer and runner-up."""
        if event.type() == QEvent.Type.ToolTip:
            position = self.position_at(event.pos())  # type: ignore[attr-defined]
            if position is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip(position), self)  # type: ignore[attr-defined]
            return True
        return super().event(event)

    def tooltip(self, position: int) -> str:
        """A sentence about the ``position``-th digit."""
        i = int(self._indices[position])
        out = self._outputs[i]
        first, second = (int(v) for v in np.argsort(out)[::-1][:2])
        conf = (format_confidence(float(out[c]), self._probabilities) for c in (first, second))
        verdict = "right" if first == int(self._labels[i]) else "wrong"
        meaning = (
            "Confidence: the softmax probability of the answer."
            if self._probabilities
            else "Confidence: the winning sigmoid output (0-1, not a probability)."
        )
        return (
            f"Test digit #{i}: a {int(self._labels[i])}. The network says {first} "
            f"({next(conf)}, {verdict}); runner-up {second} ({next(conf)}).\n"
            f"{meaning}\nClick to load it into the canvas and the network."
        )


class GalleryScroll(QScrollArea):
    """A vertical scroll area whose gallery always fills the width."""

    def __init__(self, gallery: DigitGallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.setWidget(gallery)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # one thumbnail with its caption: the panel fits a small window's quarter
        cell = DigitGallery.cell_size()
        self.setMinimumSize(cell.width() + 20, cell.height())

    def show_position(self, position: int) -> None:
        """Scroll so that the ``position``-th thumbnail is visible."""
        rect = self.gallery.thumbnail_rect(position)
        self.ensureVisible(rect.center().x(), rect.center().y(), 0, rect.height())

"""The confusion matrix of the test set, with the accuracy of each digit beside it.

Rows are the true digits, columns the network's answers. Each cell is
coloured by its share of the row (the row-normalised matrix) through a
square-root colour scale, so a confusion of 2% is still visible next to a
diagonal of 97%; the cell's count is written in it. All cells are ONE 10x10
``ImageItem``; the numbers are :class:`~nnviz.gui.panels.plots.FastLabel`s
created once and updated with ``setText``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QWidget,
)

from nnviz.core.analysis import ConfusionAnalysis
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import FastLabel

Array = npt.NDArray[Any]

MATRIX_HINT = "Rows: the true digit; columns: the network's answer. Click a cell to see its digits."
PLURALS = "zeros ones twos threes fours fives sixes sevens eights nines".split()  # noqa: SIM905

LUT_SIZE = 2048  # per half: mistakes below zero, right answers above
#: The accuracy strip starts this far right of the matrix and is this wide (in cells).
STRIP_GAP, STRIP_WIDTH = 0.35, 2.4
#: Cell counts are hidden when a cell is smaller than this on screen (pixels).
MIN_COUNT_CELL_PX = 15.0
# Colour stops at sqrt(share) = 0, .08, .2, .4, .7, 1. Right answers: ColorBrewer Blues;
# mistakes: Reds (Oranges for the colour-blind map). The dark palette runs from near the
# background to bright.
RAMP = (0.0, 0.08, 0.2, 0.4, 0.7, 1.0)
STOPS = {
    ("right", False): ("#f6f8fb", "#deebf7", "#c6dbef", "#6baed6", "#2171b5", "#083c82"),
    ("wrong", False): ("#f6f8fb", "#fee0d2", "#fcae91", "#ef6548", "#cb181d", "#780a14"),
    ("wrong_cb", False): ("#f6f8fb", "#fee6ce", "#fdbe85", "#fd8d3c", "#d94801", "#7f2704"),
    ("right", True): ("#2f3239", "#283a54", "#24487c", "#2d70be", "#6eacde", "#d6e8fa"),
    ("wrong", True): ("#2f3239", "#5c3234", "#943832", "#c84838", "#f0785a", "#ffc3aa"),
    ("wrong_cb", True): ("#2f3239", "#5c3e2a", "#965420", "#cd6e1e", "#f59b3c", "#ffd7a0"),
}


def plural(digit: int) -> str:
    """``"fours"`` for 4 (any other class: ``"class 12s"``)."""
    return PLURALS[digit] if 0 <= digit < len(PLURALS) else f"class {digit}s"


def cell_text(analysis: ConfusionAnalysis | None, true: int, predicted: int) -> str:
    """The line under the matrix about the hovered cell (``predicted = -1``: a row's
    accuracy bar; ``true = -1``: nothing hovered, the hint)."""
    if analysis is None or true < 0:
        return MATRIX_HINT
    total = int(analysis.row_totals[true])
    if predicted < 0:
        share = analysis.per_class_accuracy[true]
        wrong = total - int(analysis.counts[true, true])
        text = f"{share:.1%} of the {total:,} {plural(true)} right, {wrong:,} wrong"
    elif predicted == true:
        count = int(analysis.counts[true, true])
        text = f"true {true}, answered {true}: {count:,} of {total:,} {plural(true)} right"
    else:
        count = int(analysis.counts[true, predicted])
        share = count / total if total else 0.0
        text = f"true {true}, answered {predicted}: {count:,} {plural(true)} ({share:.1%})"
    return text + ". Click to see them."


def ramp(stops: tuple[str, ...], n: int = LUT_SIZE) -> np.ndarray:
    """``(n, 3)`` colours for shares ``i / (n - 1)``, interpolated along ``sqrt(share)``.

    The square root lifts small confusions (1-5%) out of the background
    without flattening the diagonal.
    """
    where = np.sqrt(np.linspace(0.0, 1.0, n))
    colours = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in stops], float)
    return np.stack([np.interp(where, RAMP, colours[:, c]) for c in range(3)], axis=1)


def share_lut(dark: bool, colour_blind: bool = False, n: int = LUT_SIZE) -> np.ndarray:
    """``(2n, 4)`` uint8 lookup table for signed shares in ``[-1, 1]``.

    The image holds ``-share`` in the mistake cells and ``+share`` on the
    diagonal, so one ``ImageItem`` (levels ``(-1, 1)``) draws right answers
    in blue and mistakes in red (orange), each darker the larger its share.
    """
    wrong = ramp(STOPS[("wrong_cb" if colour_blind else "wrong", dark)], n)
    right = ramp(STOPS[("right", dark)], n)
    lut = np.full((2 * n, 4), 255, dtype=np.uint8)
    lut[:, :3] = np.round(np.concatenate([wrong[::-1], right]))
    return lut


def signed_shares(shares: Array) -> Array:
    """Diagonal positive, mistakes negative (the image data, see :func:`share_lut`)."""
    signed = -np.asarray(shares, dtype=np.float64)
    np.fill_diagonal(signed, np.diag(shares))
    return signed


def contrast_text(lut: np.ndarray, signed: Array) -> Array:
    """Bool array: True where dark text reads better than light text on the cell colour."""
    top = len(lut) - 1
    idx = np.clip(np.round((signed + 1.0) / 2.0 * top).astype(int), 0, top)
    rgb = lut[idx][..., :3].astype(np.float64) / 255.0
    luminance: np.ndarray = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return luminance > 0.42


class ConfusionMatrixView(pg.GraphicsLayoutWidget):
    """A k x k confusion matrix with counts, axis labels and a per-class accuracy strip.

    Signals
    -------
    cell_clicked(int, int)
        ``(true, predicted)`` of the clicked cell; ``(true, -1)`` for a click
        on the accuracy bar of a row.
    cell_hovered(int, int)
        The same for the cell under the mouse, ``(-1, -1)`` over nothing.
    """

    cell_clicked = Signal(int, int)
    cell_hovered = Signal(int, int)

    def __init__(self, k: int = 10, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.k = k
        self._shares = self._signed = np.zeros((k, k))
        self._count_values = np.zeros((k, k), dtype=np.int64)
        self._lut = share_lut(False)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.setMinimumSize(140, 110)
        self._view = plots.still_view(self, lockAspect=True, invertY=True)
        self._view.setDefaultPadding(0.0)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._grid = QGraphicsPathItem(self._grid_path())
        self._outline = QGraphicsRectItem()
        self._outline.setZValue(20)
        self._outline.hide()
        for z, item in enumerate((self._image, self._grid)):
            item.setZValue(z)
            self._view.addItem(item)
        self._view.addItem(self._outline)
        self._build_texts()
        self._build_strip()
        self._frame()
        # fonts follow the cell size, but not from inside the layout's own resize
        self._font_timer = QTimer(self)
        self._font_timer.setSingleShot(True)
        self._font_timer.setInterval(0)
        self._font_timer.timeout.connect(self._fit_fonts)
        self._view.sigResized.connect(self._font_timer.start)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        self.restyle(False)

    # ------------------------------------------------------------------ building
    def _grid_path(self) -> QPainterPath:
        path = QPainterPath()
        for i in range(self.k + 1):
            path.moveTo(i, 0)
            path.lineTo(i, self.k)
            path.moveTo(0, i)
            path.lineTo(self.k, i)
        return path

    def _add_text(self, x: float, y: float, align: float = 0.5, text: str = "") -> FastLabel:
        """Text centred on ``(x, y)`` (``align=1``: ending there), tight: no pad."""
        return plots.add_label(self._view, text, (x, y), (align, 0.5), pad=(0.0, 0.0), z=5)

    def _build_texts(self) -> None:
        k = self.k
        self._counts = [[self._add_text(c + 0.5, r + 0.5) for c in range(k)] for r in range(k)]
        self._row_labels = [self._add_text(-0.3, r + 0.5, 1.0, str(r)) for r in range(k)]
        self._col_labels = [self._add_text(c + 0.5, -0.45, text=str(c)) for c in range(k)]
        self._true_title = self._add_text(-1.15, k / 2, text="true digit")
        self._true_title.setRotation(-90)  # along the rows it names
        self._pred_title = self._add_text(k / 2, -1.2, text="predicted digit")

    def _build_strip(self) -> None:
        k, x0 = self.k, self.k + STRIP_GAP
        self._tracks, self._bars, self._percents = [], [], []
        for r in range(k):
            track = QGraphicsRectItem(QRectF(x0, r + 0.12, STRIP_WIDTH, 0.76))
            bar = QGraphicsRectItem(QRectF(x0, r + 0.12, 0.0, 0.76))
            for z, item in ((2, track), (3, bar)):
                item.setPen(QPen(Qt.PenStyle.NoPen))
                item.setZValue(z)
                self._view.addItem(item)
            self._tracks.append(track)
            self._bars.append(bar)
            self._percents.append(self._add_text(x0 + STRIP_WIDTH / 2, r + 0.5))
        self._strip_title = self._add_text(x0 + STRIP_WIDTH / 2, -0.45, text="right")

    # ------------------------------------------------------------------ data
    def set_analysis(self, analysis: ConfusionAnalysis) -> None:
        """Show ``analysis``: colours from the row shares, counts and per-class accuracy."""
        self._shares = analysis.matrix
        self._signed = signed_shares(self._shares)
        self._image.setImage(self._signed, levels=(-1.0, 1.0), autoLevels=False)
        self._write_counts(analysis.counts)
        self._write_strip(analysis.per_class_accuracy)

    def show_empty(self) -> None:
        """Show an empty matrix (not ``clear``: pyqtgraph binds that name to the layout's)."""
        self._shares = self._signed = np.zeros((self.k, self.k))
        self._image.setImage(self._signed, levels=(-1.0, 1.0), autoLevels=False)
        self._write_counts(np.zeros((self.k, self.k), dtype=np.int64))
        self._write_strip(np.full(self.k, np.nan))
        self.select(None)

    def _write_counts(self, counts: Array) -> None:
        self._count_values = counts
        dark_text = contrast_text(self._lut, self._signed)
        ink = (QColor(25, 25, 30), QColor(250, 250, 252))
        for r, row in enumerate(self._counts):
            for c, item in enumerate(row):
                # zeros stay blank: less clutter, and the non-zero confusions stand out
                item.setText(str(counts[r, c]) if counts[r, c] else "")
                item.setColor(ink[0] if dark_text[r, c] else ink[1])

    def _write_strip(self, accuracy: Array) -> None:
        for r, value in enumerate(accuracy):
            known = bool(np.isfinite(value))
            rect = self._bars[r].rect()
            rect.setWidth(STRIP_WIDTH * float(value) if known else 0.0)
            self._bars[r].setRect(rect)
            self._percents[r].setText(f"{value:.1%}" if known else "")

    # ------------------------------------------------------------------ selection, looks
    def select(self, cell: tuple[int, int] | None) -> None:
        """Outline a cell ``(true, predicted)``, a whole row ``(true, -1)``, or nothing."""
        if cell is None:
            self._outline.hide()
            return
        true, predicted = cell
        if predicted < 0:
            rect = QRectF(0, true, self.k + STRIP_GAP + STRIP_WIDTH, 1)
        else:
            rect = QRectF(predicted, true, 1, 1)
        self._outline.setRect(rect)
        self._outline.show()

    def restyle(self, dark: bool, colour_blind: bool = False) -> None:
        """Colours for the light or the dark palette and the colour map."""
        background, foreground = plots.restyle(self, dark)
        self._lut = share_lut(dark, colour_blind)
        self._image.setLookupTable(self._lut)
        self._grid.setPen(_cosmetic(background, 1.5))
        self._outline.setPen(_cosmetic(theme.HIGHLIGHT, 3.0))
        muted = theme.blend(foreground, background, 150)
        for item in (*self._row_labels, *self._col_labels, *self._percents):
            item.setColor(foreground)
        for item in (self._true_title, self._pred_title, self._strip_title):
            item.setColor(muted)
        track = QColor(56, 59, 66) if dark else QColor(234, 236, 240)
        bar = QColor(52, 92, 150) if dark else QColor(178, 204, 232)
        for t, b in zip(self._tracks, self._bars, strict=True):
            t.setBrush(QBrush(track))
            b.setBrush(QBrush(bar))
        self._write_counts(self._count_values)

    def _frame(self) -> None:
        """Fit matrix, labels and strip in the view (again after a resize or being hidden)."""
        width = self.k + STRIP_GAP + STRIP_WIDTH + 1.85
        self._view.setRange(QRectF(-1.6, -1.75, width, self.k + 1.9), padding=0.0)
        self._fit_fonts()

    def _fit_fonts(self) -> None:
        """Font sizes follow the size of a cell on screen."""
        cell = self.cell_pixels()
        if cell <= 0:
            return
        count_font, label_font, title_font = QFont(), QFont(), QFont()
        count_font.setPixelSize(max(7, min(15, round(cell * 0.34))))
        label_font.setPixelSize(max(8, min(14, round(cell * 0.42))))
        title_font.setPixelSize(max(8, min(13, round(cell * 0.38))))
        for row in self._counts:
            for item in row:
                item.setFont(count_font)
                item.setVisible(cell >= MIN_COUNT_CELL_PX)
        for item in (*self._row_labels, *self._col_labels, *self._percents, self._strip_title):
            item.setFont(label_font)
        for item in (self._true_title, self._pred_title):
            item.setFont(title_font)

    # ------------------------------------------------------------------ queries
    def cell_pixels(self) -> float:
        """The side of one cell on screen, in pixels (0 before the first layout)."""
        size = self._view.viewPixelSize()[0]
        return 1.0 / size if size > 0 else 0.0

    def shares(self) -> Array:
        """The row shares the cells are coloured by, ``(k, k)`` (the row-normalised matrix)."""
        return np.array(self._shares, copy=True)

    def image_data(self) -> Array:
        """The image drawn: shares, negated in the mistake cells."""
        return np.array(self._image.image, copy=True)

    def cell_texts(self) -> list[list[str]]:
        """The numbers written in the cells (``""`` for an empty cell)."""
        return [[item.text() for item in row] for row in self._counts]

    def accuracy_texts(self) -> list[str]:
        """The per-class accuracy strip's texts, digit 0 first."""
        return [item.text() for item in self._percents]

    def outline_rect(self) -> QRectF | None:
        """The selection outline in cell coordinates, or None."""
        return self._outline.rect() if self._outline.isVisible() else None

    def cell_point(self, true: int, predicted: int) -> QPoint:
        """The centre of a cell in this widget's viewport (``predicted = -1``: the row's bar)."""
        x = predicted + 0.5 if predicted >= 0 else self.k + STRIP_GAP + STRIP_WIDTH / 2
        scene = self._view.mapViewToScene(QPointF(x, true + 0.5))
        point: QPoint = self.mapFromScene(scene)
        return point

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """``(true, predicted)`` at view point ``(x, y)``; ``(true, -1)`` on a row's bar."""
        row, col = math.floor(y), math.floor(x)
        if not 0 <= row < self.k:
            return None
        if 0 <= col < self.k:
            return row, col
        if self.k + STRIP_GAP <= x <= self.k + STRIP_GAP + STRIP_WIDTH:
            return row, -1
        return None

    # ------------------------------------------------------------------ mouse
    def _clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._view.mapSceneToView(event.scenePos())
        hit = self.cell_at(point.x(), point.y())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def _hovered(self, scene_pos: QPointF) -> None:
        point = self._view.mapSceneToView(scene_pos)
        self.cell_hovered.emit(*(self.cell_at(point.x(), point.y()) or (-1, -1)))

    def leaveEvent(self, event: QEvent) -> None:
        """Nothing is hovered once the mouse leaves."""
        super().leaveEvent(event)
        self.cell_hovered.emit(-1, -1)


def _cosmetic(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    return pen

"""The Backprop panel's pictures: signed bars, before/after bars, an image pair.

Each is one widget with long-lived pyqtgraph items updated with ``setOpts`` /
``setImage``; colours follow the lessons (blue = up / positive, red = down /
negative, or the colour-blind pair) and the light or dark palette.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from nnviz.gui import theme

Array = npt.NDArray[Any]

pg.setConfigOptions(imageAxisOrder="row-major")

#: The bar range follows the values with this slack, so it is not reset every frame.
RANGE_SLACK = 1.25


def sign_brushes(dark: bool, colour_blind: bool) -> tuple[QColor, QColor]:
    """``(positive, negative)`` bar colours, lighter on a dark background."""
    positive, negative = theme.sign_colours(colour_blind)
    factor = 140 if dark else 100
    return QColor(positive).lighter(factor), QColor(negative).lighter(factor)


def digit_ticks(n: int) -> list[tuple[float, str]]:
    """Tick labels for ``n`` bars: every one up to 10, every 5th up to 50, else about ten."""
    step = 1 if n <= 10 else 5 if n <= 50 else math.ceil(n / 10)
    return [(float(i), str(i)) for i in range(0, n, step)]


class Figure(QWidget):
    """A picture with a caption above it (rich text, wrapped: never widens the panel)."""

    def __init__(self, view: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.caption = QLabel(self)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.caption, 0)
        layout.addWidget(view, 1)

    def set_caption(self, text: str) -> None:
        """Set the caption (rich text; only re-laid out when it changes)."""
        if text != self.caption.text():
            self.caption.setText(text)


class _Plot(pg.PlotWidget):
    """A plot without mouse interaction, menus or buttons, styled by the palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        self._dark = False
        self._colour_blind = False
        self.setMinimumSize(100, 80)

    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Background, axes and title in the palette's colours."""
        self._dark, self._colour_blind = dark, colour_blind
        background, foreground = theme.plot_colours(dark)
        self.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)


class SignedBars(_Plot):
    """Signed bars (blue up, red down) around a zero line, with an optional sum bar.

    With a total, a bar labelled "Σ" stands apart at the right, outlined, and
    a dashed line at its height crosses the plot: the other bars add up to it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.75)
        self.total_bar = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.9)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0)
        self.total_line = pg.InfiniteLine(pos=0.0, angle=0)
        self.note = pg.TextItem("", anchor=(0.5, 0.5))
        for item in (self.zero_line, self.total_line, self.bars, self.total_bar, self.note):
            self.addItem(item)
        self._values = np.zeros(0)
        self._total: float | None = None
        self._labels: list[tuple[float, str]] = []
        self._fixed: float | None = None
        self._range = (-1, 0.0, False)  # (n, top, with total) of the current range

    def set_labels(self, labels: Sequence[tuple[float, str]]) -> None:
        """The x tick labels of the bars (the Σ label is added with a total)."""
        labels = list(labels)
        if labels != self._labels:  # a new range re-lays out the axes: only when needed
            self._labels = labels
            self._range = (-1, 0.0, False)

    def set_fixed_range(self, top: float | None) -> None:
        """A fixed y range ``(-top, top)`` (None: follow the values)."""
        self._fixed = top
        self._range = (-1, 0.0, False)

    def set_values(self, values: npt.ArrayLike, total: float | None = None) -> None:
        """Show ``values`` (one bar each) and, if given, their ``total``."""
        self._values = np.asarray(values, dtype=np.float64).reshape(-1)
        self._total = total
        self._draw()

    def set_note(self, text: str) -> None:
        """A remark in the middle of the plot (empty: none)."""
        if text != self.note.toPlainText():
            self.note.setText(text)
        self.note.setVisible(bool(text))

    def heights(self) -> Array:
        """The bar heights as drawn (without the sum)."""
        return np.asarray(self.bars.opts["height"], dtype=np.float64)

    def total(self) -> float | None:
        """The height of the sum bar, if one is shown."""
        return float(self.total_bar.opts["height"][0]) if self._total is not None else None

    def _draw(self) -> None:
        values, n = self._values, self._values.size
        positive, negative = sign_brushes(self._dark, self._colour_blind)
        brushes = [positive if v >= 0 else negative for v in values]
        self.bars.setOpts(x=np.arange(n), height=values, brushes=brushes, pen=None, width=0.75)
        has_total = self._total is not None
        self.total_bar.setVisible(has_total)
        self.total_line.setVisible(has_total)
        if has_total:
            total = float(self._total)  # type: ignore[arg-type]
            _, foreground = theme.plot_colours(self._dark)
            colour = positive if total >= 0 else negative
            self.total_bar.setOpts(
                x=[n + 0.6], height=[total], width=0.9, brush=colour, pen=pg.mkPen(foreground)
            )
            self.total_line.setPos(total)
        self._fit_range(n, has_total)

    def _fit_range(self, n: int, has_total: bool) -> None:
        extent = [abs(float(v)) for v in self._values] + [abs(self._total or 0.0)]
        m = max(max(extent, default=0.0), 1e-12)
        if self._fixed is not None:
            top = self._fixed
        else:
            top = self._range[1]
            if not 0.45 * top <= m <= top:
                top = m * RANGE_SLACK
        if (n, top, has_total) == self._range:
            return
        self._range = (n, top, has_total)
        right = n + 1.3 if has_total else n - 0.4
        margin = 1.07  # a tick label at the top or bottom stays inside
        self.setRange(xRange=(-0.6, right), yRange=(-top * margin, top * margin), padding=0)
        self.note.setPos((right - 0.6) / 2, top / 2)
        labels = self._labels + ([(n + 0.6, "Σ")] if has_total else [])
        self.getAxis("bottom").setTicks([labels])

    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Palette and sign colours."""
        super().restyle(dark, colour_blind)
        _, foreground = theme.plot_colours(dark)
        self.zero_line.setPen(pg.mkPen(foreground, width=1))
        faint = theme.blend(foreground, theme.plot_colours(dark)[0], 150)
        self.total_line.setPen(pg.mkPen(faint, width=1, style=Qt.PenStyle.DashLine))
        self.note.setColor(foreground)
        self._draw()


class StepBars(_Plot):
    """The outputs before (grey) and after (coloured by the change) one step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.4)
        self.after = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.4)
        self.placeholder = pg.TextItem("", anchor=(0.5, 0.5))
        for item in (self.before, self.after, self.placeholder):
            self.addItem(item)
        self._values: tuple[Array, Array] | None = None
        self._n = 10
        self.set_count(10)

    def set_count(self, n: int) -> None:
        """``n`` outputs, labelled 0..n-1; forgets the step shown."""
        self._n = n
        self.getAxis("bottom").setTicks([digit_ticks(n)])
        self.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        self.setRange(xRange=(-0.6, n - 0.4), yRange=(-0.02, 1.05), padding=0)
        self.show_step(None)

    def show_step(self, outputs: tuple[Array, Array] | None, placeholder: str = "") -> None:
        """Show ``(before, after)`` output activations, or a ``placeholder`` text."""
        self._values = outputs
        shown = outputs is not None
        self.before.setVisible(shown)
        self.after.setVisible(shown)
        self.placeholder.setVisible(not shown)
        self.placeholder.setText(placeholder)
        self.placeholder.setPos((self._n - 1) / 2, 0.5)
        if shown:
            self._draw()

    def heights(self) -> tuple[Array, Array]:
        """``(before, after)`` bar heights as drawn."""
        return (
            np.asarray(self.before.opts["height"], dtype=np.float64),
            np.asarray(self.after.opts["height"], dtype=np.float64),
        )

    def _draw(self) -> None:
        assert self._values is not None
        before, after = self._values
        x = np.arange(before.size)
        grey = QColor(110, 116, 128) if self._dark else QColor(170, 176, 188)
        positive, negative = sign_brushes(self._dark, self._colour_blind)
        brushes = [positive if b >= a else negative for a, b in zip(before, after, strict=True)]
        self.before.setOpts(x=x - 0.21, height=before, width=0.4, brush=grey, pen=None)
        self.after.setOpts(x=x + 0.21, height=after, width=0.4, brushes=brushes, pen=None)

    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Palette and sign colours."""
        super().restyle(dark, colour_blind)
        self.placeholder.setColor(theme.plot_colours(dark)[1])
        if self._values is not None:
            self._draw()


class ImagePair(pg.GraphicsLayoutWidget):
    """Two square images side by side with captions (a weight image and its change)."""

    GAP = 0.12  # between the images, as a fraction of a side

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.box = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.left = pg.ImageItem(axisOrder="row-major")
        self.right = pg.ImageItem(axisOrder="row-major")
        small = QFont()
        small.setPointSizeF(max(small.pointSizeF() - 1.0, 6.0))
        self.captions = [pg.TextItem("", anchor=(0.5, 0)) for _ in range(2)]
        for item in (self.left, self.right, *self.captions):
            self.box.addItem(item)
        for caption in self.captions:
            caption.setFont(small)
        self._side = 0
        self.setMinimumSize(100, 80)

    def set_images(self, left: Array, right: Array, captions: tuple[str, str]) -> None:
        """Two ``(side, side)`` images, each on its own symmetric colour scale."""
        side = left.shape[0]
        for item, image in ((self.left, left), (self.right, right)):
            item.setImage(image, levels=theme.symmetric_levels(image))
        for caption, text in zip(self.captions, captions, strict=True):
            caption.setText(text)
        if side != self._side:
            self._side = side
            gap = side * self.GAP
            self.left.setRect(QRectF(0, 0, side, side))
            self.right.setRect(QRectF(side + gap, 0, side, side))
            self.captions[0].setPos(side / 2, side * 1.02)
            self.captions[1].setPos(side * 1.5 + gap, side * 1.02)
            self.box.setRange(QRectF(-0.5, -0.5, 2 * side + gap + 1, side * 1.22 + 1), padding=0)

    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Palette and the diverging colour map."""
        background, foreground = theme.plot_colours(dark)
        self.setBackground(background)
        lut = theme.diverging_lut(colour_blind)
        for item in (self.left, self.right):
            item.setLookupTable(lut)
        for caption in self.captions:
            caption.setColor(foreground)

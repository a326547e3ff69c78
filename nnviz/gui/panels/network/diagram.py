"""What the network diagram draws besides its nodes: edges, digit labels, captions.

Edges: the diagram redraws all its edges every frame while training. As
``pg.PlotCurveItem`` each of its 16 (sign, magnitude) groups recomputed its
data bounds and pixel padding in Python every time the scene asked for its
bounding rectangle (about 90 times a frame) and re-checked its data on every
``setData``: measured 2.4 ms of bounding rectangles and 2.3 ms of updates a
frame. An edge always runs between two points of the diagram, so
:class:`EdgeBatch` takes the diagram's rectangle as its bounds and only
turns new segments into a path; :func:`restyle_edges` gives each group its
pen. Text: a digit label right of every output neuron (the winner on a
highlighted plate) and a two-line caption under every column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.network import layout as nl
from nnviz.gui.panels.plots import FastLabel

Array = npt.NDArray[Any]

#: Line width (px), opacity (0-255) and antialiasing of the magnitude bins,
#: weakest first. Antialiased lines wider than 1 px cost ~3x more to paint
#: (measured: 7.5 ms against 3.5 ms a frame), so only 1 px lines are smoothed.
EDGE_WIDTHS = (1.0, 1.0, 2.0, 3.0)
EDGE_ALPHAS = (40, 90, 160, 230)
EDGE_ANTIALIAS = (True, True, False, False)
#: The input edges cross the digit: thinner, so the pixels stay visible.
INPUT_EDGE_WIDTHS = (1.0, 1.0, 1.0, 2.0)
INPUT_EDGE_ALPHAS = (50, 100, 150, 210)
INPUT_EDGE_ANTIALIAS = (True, True, True, False)
#: Labels, captions and their plates lie above the nodes.
TEXT_Z = 3


class EdgeBatch(QGraphicsItem):
    """Straight segments ``(x[2i], y[2i]) -> (x[2i+1], y[2i+1])`` in one pen.

    ``bounds`` must contain every segment end (in the item's coordinates);
    the pen is cosmetic (its width in pixels), as pyqtgraph's pens are.
    """

    def __init__(self, antialias: bool, bounds: QRectF | None = None) -> None:
        super().__init__()
        self.antialias = antialias
        self._bounds = QRectF(bounds) if bounds is not None else QRectF()
        self._pen = pg.mkPen(None)
        self._x: Array = np.zeros(0)
        self._y: Array = np.zeros(0)
        self._path = QPainterPath()
        self._lines: list[QLineF] | None = None

    # ------------------------------------------------------------------ data
    def set_bounds(self, bounds: QRectF) -> None:
        """The rectangle every segment lies in (the diagram's extent)."""
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = QRectF(bounds)

    def set_segments(self, x: Array, y: Array) -> None:
        """New segments: ``x`` and ``y`` hold the two ends of each, one after the other."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.size != y.size or x.size % 2:
            raise ValueError(f"segment ends: x has {x.size}, y has {y.size}")
        if np.array_equal(x, self._x) and np.array_equal(y, self._y):
            return  # the same edges in this bin as last frame (common late in training)
        self._x, self._y = x, y
        self._path = pg.arrayToQPath(self._x, self._y, connect="pairs", finiteCheck=False)
        self._lines = None
        self.update()

    def getData(self) -> tuple[Array, Array]:
        """``(x, y)`` of the segment ends, as set."""
        return self._x, self._y

    def setPen(self, pen: QPen) -> None:
        """The pen of every segment."""
        self._pen = QPen(pen)
        self.update()

    def pen(self) -> QPen:
        """The pen of every segment."""
        return QPen(self._pen)

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:
        """The fixed rectangle set by the owner (cheap: the scene asks often)."""
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the segments (wide opaque lines one by one: stroking them as a path is slower)."""
        if self._x.size == 0:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
        painter.setPen(self._pen)
        if self._pen.widthF() > 1.0 and not self.antialias and self._pen.color().alpha() == 255:
            if self._lines is None:
                ends = np.stack([self._x[0::2], self._y[0::2], self._x[1::2], self._y[1::2]], 1)
                self._lines = [QLineF(*row) for row in ends.tolist()]
            painter.drawLines(self._lines)
        else:
            painter.drawPath(self._path)


type EdgeItems = dict[tuple[int, int], EdgeBatch]


def make_edge_items(view: pg.ViewBox, antialias: tuple[bool, ...], z: float) -> EdgeItems:
    """One :class:`EdgeBatch` per (sign, magnitude bin), added to ``view``."""
    items = {}
    for sign in (1, -1):
        for b in range(nl.N_BINS):
            item = EdgeBatch(antialias[b])
            item.setZValue(z)
            view.addItem(item, ignoreBounds=True)
            items[sign, b] = item
    return items


def restyle_edges(items: EdgeItems, over_image: bool, dark: bool, colour_blind: bool) -> None:
    """Pens by sign and magnitude bin: wider and more opaque for larger ``|w|``."""
    widths, alphas = (
        (INPUT_EDGE_WIDTHS, INPUT_EDGE_ALPHAS) if over_image else (EDGE_WIDTHS, EDGE_ALPHAS)
    )
    signs = dict(zip((1, -1), plots.sign_colours(dark, colour_blind), strict=True))
    background = theme.plot_colours(dark)[0]
    for (sign, b), item in items.items():
        colour = QColor(signs[sign])
        if over_image:  # the digit must show through these few lines
            colour.setAlpha(alphas[b])
        else:  # opaque: translucent lines paint several times slower
            colour = theme.blend(colour, QColor(background), alphas[b])
        item.setPen(pg.mkPen(colour, width=widths[b]))


def output_labels(view: pg.ViewBox, layout: nl.Layout, max_labelled: int) -> list[FastLabel]:
    """A digit label right of every output neuron (none for more than ``max_labelled``)."""
    n, last = layout.sizes[-1], len(layout.sizes) - 1
    labels = []
    for j in range(n if n <= max_labelled else 0):
        i = layout.node(last, j)
        at = (layout.x[i] + layout.diameter[i] / 2 + 0.015, layout.y[i])
        labels.append(plots.add_label(view, str(j), at, (0, 0.5), z=TEXT_Z))
    return labels


def style_output_labels(
    labels: list[FastLabel], winner: int | None, room: bool, foreground: QColor
) -> None:
    """Every digit in the foreground colour, the winner bold on a highlight plate;
    without ``room`` (a small view) only the winner is labelled."""
    for j, label in enumerate(labels):
        label.setVisible(room or j == winner)
        label.setText(str(j), color=foreground)
        if j == winner:
            label.set_plate(theme.HIGHLIGHT, QColor(0, 0, 0), bold=True)
        else:
            label.set_plate(None)


def captions(view: pg.ViewBox, layout: nl.Layout, foreground: QColor) -> list[FastLabel]:
    """A two-line caption under every column: its name and size."""
    sizes = layout.sizes
    rows, cols = layout.image_shape()
    names = [("input", f"{rows}x{cols} pixels")]
    names += [(f"hidden {l}", f"{n} neurons") for l, n in enumerate(sizes[1:-1], start=1)]
    names.append(("output", f"{sizes[-1]} digits" if sizes[-1] == 10 else f"{sizes[-1]}"))
    small = plots.small_font()
    return [
        plots.add_label(
            view, f"{name}\n{count}", (x, 1.005), (0.5, 0), color=foreground, font=small, z=TEXT_Z
        )
        for x, (name, count) in zip(layout.column_x, names, strict=True)
    ]

"""The network diagram's edges: line segments of one pen, with fixed bounds.

The diagram redraws all its edges every frame while training. As
``pg.PlotCurveItem`` each of its 16 (sign, magnitude) groups recomputed its
data bounds and pixel padding in Python every time the scene asked for its
bounding rectangle (about 90 times a frame) and re-checked its data on every
``setData``: measured 2.4 ms of bounding rectangles and 2.3 ms of updates a
frame. An edge always runs between two points of the diagram, so
:class:`EdgeBatch` takes the diagram's rectangle as its bounds and only
turns new segments into a path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

Array = npt.NDArray[Any]


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

"""The loss-surface map: a cost heatmap with contours, a colour bar and the SGD path on top.

Every item is made once; a new grid calls ``setImage`` and ``setData``, a path
update only ``setData`` / ``setPos``. The heatmap's pixel centres sit on the
grid nodes (``costs[i, j]`` at ``(a[j], b[i])``) and the contour lines are
computed from the same nodes (marching squares with linear interpolation
along the cell edges), so both line up exactly. Both axes have the same scale
(the view's aspect is locked), so the path's geometry is not distorted. The
path is a dark halo under
a few pieces that go from pale (old) to orange (new), so it stays visible on
every colour of the map.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsRectItem

from nnviz.engine.messages import SurfaceGrid
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import FastLabel
from nnviz.gui.panels.surface.grid import (
    contour_levels,
    contour_segments,
    display_values,
    log_ticks,
    thin_path,
    value_range,
)

Array = npt.NDArray[Any]

pg.setConfigOptions(imageAxisOrder="row-major")

NARROW, SHORT = 330, 230  # pixels: a smaller map hides the colour bar's title
SHORT_AXIS_NAMES = {"main sideways direction": "sideways"}
COLOUR_MAP = "viridis"  # perceptually uniform, readable in grey and with colour-vision deficiencies
PATH_PIECES = 8  # colour steps from the old to the new end of the path
PATH_OLD, PATH_NEW = QColor(245, 245, 245), QColor(255, 120, 40)
HALO = QColor(25, 20, 35)
CURRENT = QColor(255, 200, 40)


# ------------------------------------------------------------------ the map
class SurfaceMap(pg.PlotWidget):
    """Heatmap, contours, colour bar, the path, its start and current markers.

    Signals
    -------
    hovered(float, float)
        The mouse is over the map at ``(a, b)``; NaN, NaN when it left the grid.
    """

    hovered = Signal(float, float)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.grid: SurfaceGrid | None = None
        self.log = False
        self.levels = (0.0, 1.0)
        self.contour_values = np.zeros(0)
        self._view = QRectF(0.0, 0.0, 1.0, 1.0)  # the range shown: the grid, or more
        self._narrow = False
        self._anchors: dict[int, tuple[float, float]] = {}
        plot = self.plot_item = plots.quiet(self.getPlotItem())
        plot.setContentsMargins(2, 6, 2, 2)
        # one unit along a as long on screen as one along b: the planes' directions are
        # equally long (unit vectors for PCA and start to now; filter-normalised random
        # directions both have the length of the network's weights, and in thousands of
        # dimensions two random directions are all but at right angles), so the path's
        # angles and lengths are drawn as they are
        plot.vb.setAspectLocked(True, ratio=1.0)
        self.setAccessibleName("Loss surface map")
        self.setAccessibleDescription(
            "The cost of the network over a plane through its parameters as colours with "
            "contour lines, and the path training took on it from start (white ring) to now "
            "(orange dot)."
        )
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)
            plot.getAxis(name).setTickDensity(0.7)  # tick labels of a narrow map stay apart
        self.image = pg.ImageItem(axisOrder="row-major")
        self.contours = pg.PlotCurveItem(connect="pairs", antialias=True)
        self.contours.setZValue(2)
        for item in (self.image, self.contours):  # they change only with a new grid
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(item)
        self.colour_bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get(COLOUR_MAP), interactive=False, width=14
        )
        self.colour_bar.setImageItem(self.image, insert_in=plot)
        self.bar_marks = pg.PlotCurveItem(connect="pairs")  # the contour levels on the bar
        self.colour_bar.addItem(self.bar_marks)
        self._build_path_items(plot)
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    def _build_path_items(self, plot: pg.PlotItem) -> None:
        # an opaque halo without antialiasing: translucent wide lines paint several times slower
        self.halo = pg.PlotCurveItem(pen=pg.mkPen(HALO, width=5), antialias=False)
        self.halo.setZValue(5)
        plot.addItem(self.halo, ignoreBounds=True)
        self.pieces = []
        for k in range(PATH_PIECES):
            colour = _mix(PATH_OLD, PATH_NEW, (k / (PATH_PIECES - 1)) ** 0.7)
            piece = pg.PlotCurveItem(pen=pg.mkPen(colour, width=2.5), antialias=True)
            piece.setZValue(6)
            plot.addItem(piece, ignoreBounds=True)
            self.pieces.append(piece)
        # plain Qt items moved with setPos: far cheaper per frame than a ScatterPlotItem
        self.start = _marker(13, pg.mkPen("w", width=2), pg.mkBrush(0, 0, 0, 120))
        self.current = _marker(13, pg.mkPen(HALO, width=1.5), pg.mkBrush(CURRENT))
        self.node = _marker(9, pg.mkPen("w", width=1.2), pg.mkBrush(None), square=True)
        for z, item in enumerate((self.start, self.current, self.node), start=7):
            item.setZValue(z)
            plot.addItem(item, ignoreBounds=True)
        self.start_label = _label(plot, "start", (0.5, 1.45), z=10)
        self.now_label = _label(plot, "now", (-0.25, -0.2), z=11)
        self.path_coords = np.zeros((0, 2))
        self.set_path(self.path_coords)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A small map drops the colour bar's title (the readout says what is shown)."""
        super().resizeEvent(event)
        narrow = self.width() < NARROW or self.height() < SHORT
        if hasattr(self, "colour_bar") and narrow != self._narrow:  # (not while being built)
            self._narrow = narrow
            self.colour_bar.getAxis("left").showLabel(not narrow)

    def sizeHint(self) -> QSize:
        """A fixed wish: a graphics view's own hint follows its current size, which
        would let a layout that once made it small keep it small."""
        return QSize(420, 300)

    # ------------------------------------------------------------------ data
    def set_grid(self, grid: SurfaceGrid | None, log: bool) -> None:
        """Show ``grid`` (None: an empty map), colours on a log scale if ``log``."""
        self.grid, self.log = grid, log
        if grid is None:
            self.image.setImage(np.zeros((1, 1)), levels=(0.0, 1.0))
            self.contours.setData([], [])
            self.bar_marks.setData([], [])
            return
        values = display_values(grid.costs, log)
        self.levels = value_range(values)
        self.image.setImage(values, levels=self.levels)
        self.image.setRect(grid_rect(grid))
        self.colour_bar.setLevels(self.levels)
        self.contour_values = contour_levels(*self.levels)
        self.contours.setData(*contour_segments(grid.a, grid.b, values, self.contour_values))
        self._mark_bar()
        self._label_axes(grid)
        self._view = grid_rect(grid)
        self.plot_item.vb.setRange(rect=self._view, padding=0)

    def _mark_bar(self) -> None:
        low, high = self.levels
        heights = 256 * (self.contour_values - low) / (high - low)  # the bar spans 0..256
        self.bar_marks.setData(
            np.tile([0.0, 1.0], len(heights)), np.repeat(heights, 2), connect="pairs"
        )
        self.colour_bar.axis.setTicks([log_ticks(low, high)] if self.log else None)
        name = _cost_words(self.grid.cost_name if self.grid else "")
        title = self.colour_bar.getAxis("left")
        title.setLabel(f"{name} (log)" if self.log else name)
        title.showLabel(not self._narrow)  # setLabel showed it

    def _label_axes(self, grid: SurfaceGrid) -> None:
        self.plot_item.setLabel("bottom", axis_name(grid.label1))
        self.plot_item.setLabel("left", axis_name(grid.label2))

    def set_path(self, coords: Array) -> None:
        """Draw the projected path ``(n, 2)``, oldest first (NaN rows are skipped).

        Points closer than about a pixel to the previous drawn one are left out
        of the lines (the markers are exact); colours follow the point index,
        so they stay a clock: pale at the start, orange now.
        """
        pts = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        pts = self.path_coords = pts[np.all(np.isfinite(pts), axis=1)]
        n = len(pts)
        keep = thin_path(pts, self._pixel_size())
        drawn = pts[keep]
        self.halo.setData(drawn[:, 0], drawn[:, 1])
        bounds = np.searchsorted(keep, np.linspace(0, max(n - 1, 0), PATH_PIECES + 1))
        for piece, lo, hi in zip(self.pieces, bounds[:-1], bounds[1:], strict=True):
            part = drawn[lo : hi + 1] if hi > lo else drawn[:0]
            piece.setData(part[:, 0], part[:, 1])
        for item, index in ((self.start, 0), (self.current, -1)):
            item.setVisible(n > 0)
            if n:
                item.setPos(QPointF(*pts[index]))
        for label, item in ((self.start_label, self.start), (self.now_label, self.current)):
            label.setVisible(n > 1)
            label.setPos(item.pos())
            self._place_label(label, item.pos())
        if n:
            self._keep_in_view(pts[-1])

    def _place_label(self, label: FastLabel, pos: QPointF) -> None:
        """Put a label on the side of its marker that has room (inside the map)."""
        (x0, x1), (y0, y1) = self.plot_item.vb.viewRange()
        fx, fy = (pos.x() - x0) / (x1 - x0 or 1), (pos.y() - y0) / (y1 - y0 or 1)
        if label is self.start_label:  # above the marker, below it near the top
            anchor = (0.5, -0.45) if fy > 0.8 else (0.5, 1.45)
        else:  # right of and below the marker, or left / above near those edges
            anchor = (1.25 if fx > 0.7 else -0.25, 1.2 if fy < 0.2 else -0.2)
        if self._anchors.get(id(label)) != anchor:
            self._anchors[id(label)] = anchor
            label.setAnchor(anchor)

    def _keep_in_view(self, point: Array) -> None:
        """Widen the view when the path leaves the grid (the plain background is "not computed").

        It grows in steps of a quarter of its size, so the axes re-tick rarely.
        """
        view = self._view
        if self.grid is None or view.contains(QPointF(*point)):
            return
        left, right = min(view.left(), point[0]), max(view.right(), point[0])
        bottom, top = min(view.top(), point[1]), max(view.bottom(), point[1])  # y grows up
        grow_x, grow_y = (right - left) / 8, (top - bottom) / 8
        self._view = QRectF(left - grow_x, bottom - grow_y, right - left + 2 * grow_x,
                            top - bottom + 2 * grow_y)  # fmt: skip
        self.plot_item.vb.setRange(rect=self._view, padding=0)

    def _pixel_size(self) -> tuple[float, float]:
        """Data units per screen pixel along a and b (NaN before the view is laid out)."""
        vb = self.plot_item.vb
        if None in vb.pixelVectors():  # not shown yet
            return math.nan, math.nan
        width, height = vb.viewPixelSize()
        return float(width), float(height)

    def path_data(self) -> Array:
        """The path last given to :meth:`set_path` (finite rows), ``(n, 2)``."""
        return self.path_coords.copy()

    def drawn_path(self) -> Array:
        """The path as drawn (thinned to about a point per pixel), ``(m, 2)``."""
        x, y = self.halo.getData()
        if x is None:
            return np.zeros((0, 2))
        return np.stack([x, y], axis=1)

    def marker_positions(self) -> tuple[QPointF, QPointF]:
        """Where the start and the current marker are (in ``(a, b)``)."""
        return self.start.pos(), self.current.pos()

    # ------------------------------------------------------------------ looks, mouse
    def restyle(self, dark: bool) -> None:
        """Follow the light or dark palette (the colour map itself stays)."""
        axes = plots.axes_of(self.plot_item) + plots.axes_of(self.colour_bar, plots.ALL_SIDES)
        plots.restyle(self, dark, *axes)
        contour = QColor(255, 255, 255, 95)
        self.contours.setPen(pg.mkPen(contour, width=1))
        self.bar_marks.setPen(pg.mkPen(QColor(255, 255, 255, 200), width=1))

    def _mouse_moved(self, pos: QPointF) -> None:
        vb = self.plot_item.vb
        grid = self.grid
        if grid is None or not vb.sceneBoundingRect().contains(pos):
            self.show_node(math.nan, math.nan)
            self.hovered.emit(math.nan, math.nan)
            return
        point = vb.mapSceneToView(pos)
        a, b = point.x(), point.y()
        if not grid_rect(grid).contains(QPointF(a, b)):
            a = b = math.nan
        self.show_node(a, b)
        self.hovered.emit(a, b)

    def show_node(self, a: float, b: float) -> None:
        """Outline the grid node nearest to ``(a, b)`` (NaN hides it)."""
        node = nearest_node(self.grid, a, b) if self.grid is not None else None
        self.node.setVisible(node is not None)
        if node is not None and self.grid is not None:
            i, j = node
            self.node.setPos(QPointF(self.grid.a[j], self.grid.b[i]))


def axis_name(label: str) -> str:
    """A plane's axis label, short: its name and the first percentage in it.

    ``"PC 2 (13.6% of the path's variance)"`` -> ``"PC 2 (13.6%)"``;
    ``"random direction 1 (seed 0, filter-normalised)"`` -> ``"random direction 1"``.
    """
    name = label.split(" (")[0]
    name = SHORT_AXIS_NAMES.get(name, name)
    share = re.search(r"\d+(\.\d+)?%", label[len(name) :])
    return f"{name} ({share.group(0)})" if share else name


def grid_rect(grid: SurfaceGrid) -> QRectF:
    """The image's rectangle: pixel centres on the grid nodes."""
    a, b = grid.a, grid.b
    da = (a[-1] - a[0]) / max(len(a) - 1, 1)
    db = (b[-1] - b[0]) / max(len(b) - 1, 1)
    return QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da, b[-1] - b[0] + db)


def nearest_node(grid: SurfaceGrid, a: float, b: float) -> tuple[int, int] | None:
    """``(i, j)`` of the node nearest to ``(a, b)``, or None outside the grid or for NaN."""
    if not (math.isfinite(a) and math.isfinite(b)) or not grid_rect(grid).contains(QPointF(a, b)):
        return None
    return int(np.argmin(np.abs(grid.b - b))), int(np.argmin(np.abs(grid.a - a)))


def _marker(size: float, pen: Any, brush: Any, square: bool = False) -> QGraphicsItem:
    """A marker of ``size`` pixels whatever the zoom, centred on its ``pos()``."""
    rect = QRectF(-size / 2, -size / 2, size, size)
    item = QGraphicsRectItem(rect) if square else QGraphicsEllipseItem(rect)
    item.setPen(pen)
    item.setBrush(brush)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    item.setVisible(False)
    return item


def _mix(old: QColor, new: QColor, t: float) -> QColor:
    """``old`` and ``new`` mixed: ``t = 0`` is ``old``, ``t = 1`` is ``new``."""
    u = (old.redF(), old.greenF(), old.blueF())
    v = (new.redF(), new.greenF(), new.blueF())
    return QColor.fromRgbF(*((1 - t) * p + t * q for p, q in zip(u, v, strict=True)))


def _label(plot: pg.PlotItem, text: str, anchor: tuple[float, float], z: float) -> FastLabel:
    """A hidden white word on a dark translucent plate, readable on every colour of the map."""
    label = plots.add_label(plot, text, anchor=anchor, pad=plots.WIDE_PAD, z=z)
    label.set_plate(QColor(10, 10, 20, 150), QColor(255, 255, 255))
    label.setVisible(False)
    return label


def _cost_words(cost: str) -> str:
    return {"quadratic": "quadratic cost", "cross_entropy": "cross-entropy cost"}.get(cost, "cost")

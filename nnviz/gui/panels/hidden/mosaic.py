"""The drawing of the hidden-neuron panel: every neuron's picture in one mosaic.

:class:`NeuronMosaic` lays the tiles out in rows and columns with a
saturation bar under each, and draws them as ONE ``ImageItem`` (NaN gutters,
as in the weight-image panel) with thin frames, number plates, a dimming cover
over dead units, the selection outline and a colour bar. It holds no
application state: :class:`~nnviz.gui.panels.hidden.HiddenPanel` tells it
what to show.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from nnviz.core.analysis import Saturation
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.hidden.saturation import BAR_GAP, BAR_HEIGHT, SaturationBars
from nnviz.gui.panels.plots import FastLabel
from nnviz.gui.panels.weights.tiles import (
    grid_shape,
    labels_fit,
    show_levels,
    style_tile_labels,
    tile_label,
    weight_bar,
)

Array = npt.NDArray[Any]

COL_GAP = 3  # image pixels between two columns of tiles
ROW_GAP = 3  # image pixels below a tile's bar


class NeuronMosaic(pg.GraphicsLayoutWidget):
    """``n`` square tiles of ``side`` pixels with their bars, in one view box.

    Tile ``j`` sits in row ``j // cols`` and column ``j % cols``; image (= view)
    coordinates are x = column, y = row, in image pixels.
    """

    def __init__(self) -> None:
        super().__init__()
        self.side: int | None = None
        self.rows = self.cols = self.n = 0
        self._buf = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self.labels: list[FastLabel] = []
        self.ci.setContentsMargins(2, 10, 2, 10)
        self.view = plots.still_view(self, row=0, col=0, lockAspect=True, invertY=True)
        self.frames = QGraphicsPathItem()  # a thin line round every tile
        self.dead_cover = QGraphicsPathItem()  # dims the tiles of dead units
        self.dead_cover.setPen(QPen(Qt.PenStyle.NoPen))
        self.image = pg.ImageItem(axisOrder="row-major")
        self.bars = SaturationBars()
        self.outline = QGraphicsRectItem()
        pen = QPen(theme.HIGHLIGHT, 3)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.hide()
        items = (self.image, self.dead_cover, self.frames, self.bars, self.outline)
        for z, item in enumerate(items):
            item.setZValue(z)
            self.view.addItem(item)
        self.colour_bar = weight_bar()
        self.addItem(self.colour_bar, row=0, col=1)

    # ------------------------------------------------------------------ layout
    @property
    def step_x(self) -> int:
        """Image pixels from one column of tiles to the next."""
        return (self.side or 0) + COL_GAP

    @property
    def step_y(self) -> int:
        """Image pixels from one row of tiles (with their bars) to the next."""
        return (self.side or 0) + BAR_GAP + BAR_HEIGHT + ROW_GAP

    def set_grid(self, n: int) -> None:
        """Make room for ``n`` tiles of ``side`` pixels (call :meth:`layout_tiles` next)."""
        self.n = n
        self.rows, self.cols = grid_shape(n)
        shape = (self.rows, self.step_y, self.cols, self.step_x)
        self._buf = np.full(shape, np.nan, dtype=np.float32)

    def layout_tiles(self) -> None:
        """Frames, bar slots, view range and fresh number plates for the grid."""
        path = QPainterPath()
        for j in range(self.n):
            path.addRect(self.tile_rect(j))
        self.frames.setPath(path)
        self.bars.set_slots([self.tile_rect(j) for j in range(self.n)])
        width = self.cols * self.step_x - COL_GAP
        height = self.rows * self.step_y - ROW_GAP
        self.view.setRange(QRectF(0, 0, width, height), padding=0.01)
        for label in self.labels:
            self.view.removeItem(label)
        self.labels = []
        for j in range(self.n):
            corner = self.tile_rect(j).topLeft()
            self.labels.append(tile_label(self.view, str(j), corner.x(), corner.y()))

    def clear(self) -> None:
        """Show no tiles (the grid and plates stay until the next :meth:`set_grid`)."""
        self.n = 0
        self.image.clear()
        self.outline.hide()

    def tile_rect(self, j: int) -> QRectF:
        """Tile ``j``'s rectangle in image (= view) coordinates: x = column, y = row."""
        row, col = divmod(j, max(self.cols, 1))
        side = self.side or 0
        return QRectF(col * self.step_x, row * self.step_y, side, side)

    def tile_at(self, x: float, y: float) -> int | None:
        """The tile whose picture or bar lies under image point ``(x, y)``, or None."""
        if not self.n or x < 0 or y < 0:
            return None
        col, px = divmod(math.floor(x), self.step_x)
        row, py = divmod(math.floor(y), self.step_y)
        j = row * self.cols + col
        side = self.side or 0
        if px >= side or py >= side + BAR_GAP + BAR_HEIGHT or col >= self.cols or j >= self.n:
            return None
        return j

    # ------------------------------------------------------------------ content
    def show_tiles(self, tiles: Array, levels: tuple[float, float], label: str) -> None:
        """Draw ``tiles`` ``(n, side, side)`` with ``levels``; ``label`` names the colour bar."""
        side = self.side or 0
        padded = np.full((self.rows * self.cols, side, side), np.nan, dtype=np.float32)
        padded[: self.n] = tiles
        grid = padded.reshape(self.rows, self.cols, side, side).transpose(0, 2, 1, 3)
        self._buf[:, :side, :, :side] = grid
        self.image.setImage(self._mosaic_view(), levels=levels, autoLevels=False)
        show_levels(self.colour_bar, levels, label)

    def _mosaic_view(self) -> Array:
        rows, step_y, cols, step_x = self._buf.shape
        return self._buf.reshape(rows * step_y, cols * step_x)[:-ROW_GAP, :-COL_GAP]

    def show_saturation(self, result: Saturation | None) -> None:
        """Bars, dimmed tiles and "dead" plates for ``result`` (None: no bars)."""
        self.bars.set_shares(result)
        cover = QPainterPath()
        for j in dead_units(result):
            cover.addRect(self.tile_rect(j))
        self.dead_cover.setPath(cover)
        for j, label in enumerate(self.labels):
            dead = result is not None and bool(result.dead_units[j])
            label.setText(f"{j} dead" if dead else str(j))

    def update_label_visibility(self, result: Saturation | None) -> None:
        """Plates only on tiles big enough to carry them; always on dead units."""
        if not self.labels or self.side is None:
            return
        visible = labels_fit(self.view, self.side)
        for j, label in enumerate(self.labels):
            dead = result is not None and bool(result.dead_units[j])
            label.setVisible(visible or dead)  # a dead unit is always marked

    def outline_tile(self, j: int | None) -> None:
        """Outline tile ``j`` and its bar, or hide the outline (None)."""
        if j is None:
            self.outline.hide()
            return
        rect = self.tile_rect(j).adjusted(-1, -1, 1, 1 + BAR_GAP + BAR_HEIGHT)
        self.outline.setRect(rect)
        self.outline.show()

    # ------------------------------------------------------------------ looks
    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Follow the palette and the colour-blind setting (not the plates)."""
        axes = plots.axes_of(self.colour_bar, plots.ALL_SIDES)
        background, _ = plots.restyle(self, dark, *axes)
        frame = QPen(QColor(110, 113, 119) if dark else QColor(175, 177, 182), 1)
        frame.setCosmetic(True)
        self.frames.setPen(frame)
        self.frames.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        dim = QColor(background)
        dim.setAlpha(170)
        self.dead_cover.setBrush(dim)
        self.image.setLookupTable(theme.diverging_lut(colour_blind, dark=dark))
        self.colour_bar.setColorMap(theme.diverging_colormap(colour_blind, dark))
        self.bars.restyle(dark)

    def style_labels(self, dark: bool) -> None:
        """Colours of the number plates for the light or dark palette."""
        style_tile_labels(self.labels, dark)

    # ------------------------------------------------------------------ queries
    def mosaic(self) -> Array:
        """A copy of the image data shown, NaN between tiles (``(0, 0)`` if none)."""
        return self._mosaic_view().copy() if self.n else np.zeros((0, 0), np.float32)

    def tile_images(self) -> Array:
        """``(n, side, side)``: the tiles cut out of the mosaic."""
        mosaic = self.mosaic()
        return np.array([mosaic[_rect_slice(self.tile_rect(j))] for j in range(self.n)])

    def dead_marked(self) -> list[int]:
        """Tiles whose plate says "dead"."""
        return [j for j, label in enumerate(self.labels) if "dead" in label.text()]


def dead_units(result: Saturation | None) -> list[int]:
    """The units of ``result`` stuck in one flat part on 99% of the images (none for None)."""
    return [] if result is None else [int(j) for j in np.flatnonzero(result.dead_units)]


def _rect_slice(rect: QRectF) -> tuple[slice, slice]:
    top, left = round(rect.y()), round(rect.x())
    return slice(top, top + round(rect.height())), slice(left, left + round(rect.width()))

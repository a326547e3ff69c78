"""Weight images: what each first-layer neuron "looks for" in the 28x28 input.

Every neuron of the first layer has one weight per input pixel, so its weights
form an image: blue where a bright pixel excites it, red where it inhibits it
(as in the lessons). All tiles are drawn as ONE mosaic ``ImageItem`` with
1-pixel NaN gutters (transparent, over a grey backing rectangle), which costs
about 1 ms a frame against 7-15 ms for separate images.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import FastLabel, sign_names
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.panels.weights.tiles import (
    TilePanel,
    grid_shape,
    image_side,
    labels_fit,
    show_levels,
    style_tile_labels,
    tile_label,
    weight_bar,
)
from nnviz.gui.state import AppState

GUTTER = 1
BAR_LABELS = ("weight", "weight / neuron's largest |weight|")


def backing_path(n: int, cols: int, side: int) -> QPainterPath:
    """The area of the ``n`` tiles and the gutters between them (not the empty slots)."""
    step = side + GUTTER
    full, rest = divmod(n, cols)
    path = QPainterPath()
    if full:
        path.addRect(QRectF(0, 0, cols * step - GUTTER, full * step - GUTTER))
    if rest:
        top = max(0, full * step - GUTTER)
        path.addRect(QRectF(0, top, rest * step - GUTTER, full * step + side - top))
    path.setFillRule(Qt.FillRule.WindingFill)
    return path


class WeightsPanel(TilePanel):
    """One image per first-layer neuron, live during training; click to select.

    Parameters
    ----------
    state
        The application state; the panel draws ``state.net.weights[0]``.
    parent
        Optional parent widget.
    """

    title = "Weight images"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__("weight", parent)
        self.state = state
        self._side: int | None = None
        self._rows = self._cols = self._n = 0
        self._buf = np.full((0, 0, 0, 0), np.nan, dtype=np.float32)
        self._tiles = np.zeros((0, 0, 0), dtype=np.float32)
        self._labels: list[FastLabel] = []
        self._build_toolbar()
        self._build_view()
        self._name_for_screen_readers()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._toolbar)
        layout.addWidget(self._graphics, 1)
        layout.addWidget(self._message, 1)
        state.network_replaced.connect(self._rebuild)
        state.params_changed.connect(self.refresh)
        state.selection_changed.connect(self._on_selection_changed)
        state.appearance_changed.connect(self._restyle)
        self._rebuild()
        self._restyle()

    # ------------------------------------------------------------------ building
    def _build_toolbar(self) -> None:
        self._scale_box.currentIndexChanged.connect(self.refresh)
        self._toolbar = QHBoxLayout()
        self._toolbar.addWidget(self._scale_box)
        self._toolbar.addWidget(self._info, 1)

    def _build_view(self) -> None:
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.ci.setContentsMargins(2, 10, 2, 10)  # room for the bar's end labels
        self._view = plots.still_view(self._graphics, row=0, col=0, lockAspect=True, invertY=True)
        self._backing = QGraphicsPathItem()  # shows through the NaN gutters
        self._backing.setPen(QPen(Qt.PenStyle.NoPen))
        self._image = pg.ImageItem(axisOrder="row-major")
        self._outline = QGraphicsRectItem()
        pen = QPen(theme.HIGHLIGHT, 3)
        pen.setCosmetic(True)
        self._outline.setPen(pen)
        self._outline.setZValue(20)
        self._outline.hide()
        for z, item in enumerate((self._backing, self._image, self._outline)):
            item.setZValue(max(item.zValue(), z))
            self._view.addItem(item)
        self._bar = weight_bar()
        self._graphics.addItem(self._bar, row=0, col=1)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.hide()
        scene = self._graphics.scene()
        scene.sigMouseMoved.connect(self._hovered)
        scene.sigMouseClicked.connect(self._clicked)
        self._graphics.viewport().installEventFilter(self)
        self._view.sigResized.connect(self._update_label_visibility)

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Weight images")
        self.setAccessibleDescription(
            "What each first-layer neuron looks for: its 784 weights as a 28 by 28 picture."
        )
        self._graphics.setAccessibleName("Weight images of the first-layer neurons")
        self._graphics.setAccessibleDescription(
            "One picture per first-layer neuron, numbered: a pixel's colour is its weight, "
            "blue where a bright pixel excites the neuron, red where it inhibits it; "
            "the colour bar beside them gives the scale. Click a picture to select its neuron."
        )

    def _rebuild(self) -> None:
        """Lay out the grid for the current architecture (tiles, labels, backing)."""
        sizes = self.state.net.sizes
        self._side = image_side(sizes[0])
        self._n = sizes[1]
        self._rows, self._cols = grid_shape(self._n)
        for label in self._labels:
            self._view.removeItem(label)
        self._labels = []
        if self._side is None:
            self._show_message(sizes[0])
            return
        self._message.hide()
        self._graphics.show()
        step = self._side + GUTTER
        self._buf = np.full((self._rows, step, self._cols, step), np.nan, dtype=np.float32)
        self._tiles = np.full((self._rows * self._cols, self._side, self._side), np.nan, np.float32)
        height, width = self._rows * step - GUTTER, self._cols * step - GUTTER
        self._backing.setPath(backing_path(self._n, self._cols, self._side))
        self._view.setRange(QRectF(0, 0, width, height), padding=0.01)
        self._make_labels()
        self.refresh()
        self._on_selection_changed(*(self.state.selected or (-1, -1)))

    def _make_labels(self) -> None:
        for j in range(self._n):
            corner = self.tile_rect(j).topLeft()
            self._labels.append(tile_label(self._view, str(j), corner.x(), corner.y()))
        self._style_labels()
        self._update_label_visibility()

    def _show_message(self, n_inputs: int) -> None:
        self._image.clear()
        self._outline.hide()
        self._graphics.hide()
        self._message.setText(
            f"Weight images need square image inputs (28x28 = 784 pixels); "
            f"this network has {n_inputs} inputs, so there is nothing to show."
        )
        self._message.show()

    # ------------------------------------------------------------------ drawing
    @while_visible
    def refresh(self) -> None:
        """Redraw the mosaic from the current first-layer weights."""
        if self._side is None or self._n != self.state.net.sizes[1]:
            return
        side = self._side
        tiles = self.state.net.weights[0].T.reshape(self._n, side, side)  # (n, side, side)
        self._tiles[: self._n] = self._scale(tiles)
        grid = self._tiles.reshape(self._rows, self._cols, side, side).transpose(0, 2, 1, 3)
        self._buf[:, :side, :, :side] = grid
        self._image.setImage(self._mosaic_view(), levels=self._levels, autoLevels=False)
        show_levels(self._bar, self._levels, BAR_LABELS[self.per_image_scale])

    def _mosaic_view(self) -> np.ndarray:
        rows, step, cols, _ = self._buf.shape
        return self._buf.reshape(rows * step, cols * step)[:-GUTTER, :-GUTTER]

    def _restyle(self) -> None:
        dark, colour_blind = self.state.dark, self.state.colour_blind
        plots.restyle(self._graphics, dark, *plots.axes_of(self._bar, plots.ALL_SIDES))
        # dark: tiles (zero = a dark grey) stand apart on the background's colour
        gutter = theme.plot_colours(True)[0] if dark else QColor(170, 172, 176)
        self._backing.setBrush(QBrush(gutter))
        self._image.setLookupTable(theme.diverging_lut(colour_blind, dark=dark))
        self._bar.setColorMap(theme.diverging_colormap(colour_blind, dark))
        self._style_labels()
        self._update_hint()

    def _style_labels(self) -> None:
        style_tile_labels(self._labels, self.state.dark)

    def _update_label_visibility(self) -> None:
        if not self._labels or self._side is None:
            return
        visible = labels_fit(self._view, self._side)
        for label in self._labels:
            label.setVisible(visible)

    def _update_hint(self) -> None:
        positive, negative = sign_names(self.state.colour_blind)
        signs = f"{positive} = positive, {negative} = negative weight"
        short = f"{positive} +, {negative} \N{MINUS SIGN}"
        self._show_hint(
            f"{signs}; click a neuron to select it",
            f"{signs}; click a neuron",
            f"{short}; click a neuron",
            short,
        )

    # ------------------------------------------------------------------ queries
    def grid(self) -> tuple[int, int]:
        """``(rows, cols)`` of the tile grid."""
        return self._rows, self._cols

    def mosaic(self) -> np.ndarray:
        """A copy of the image data shown, NaN gutters included (``(0, 0)`` if none)."""
        if self._side is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self._mosaic_view().copy()

    def tile_rect(self, j: int) -> QRectF:
        """Tile ``j``'s rectangle in image (= view) coordinates: x = column, y = row."""
        row, col = divmod(j, self._cols)
        step = (self._side or 0) + GUTTER
        return QRectF(col * step, row * step, self._side or 0, self._side or 0)

    def tile_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """``(neuron, pixel_row, pixel_col)`` under image point ``(x, y)``, or None."""
        if self._side is None or x < 0 or y < 0:
            return None
        step = self._side + GUTTER
        col, px = divmod(math.floor(x), step)
        row, py = divmod(math.floor(y), step)
        j = row * self._cols + col
        if px >= self._side or py >= self._side or col >= self._cols or j >= self._n:
            return None
        return j, py, px

    def outline_rect(self) -> QRectF | None:
        """The selection outline's rectangle, or None when no tile is selected."""
        return self._outline.rect() if self._outline.isVisible() else None

    def view(self) -> pg.ViewBox:
        """The view box holding the mosaic (for mapping points in tests)."""
        return self._view

    def graphics(self) -> pg.GraphicsLayoutWidget:
        """The graphics widget (its viewport receives the mouse)."""
        return self._graphics

    # ------------------------------------------------------------------ mouse
    def _hovered(self, scene_pos: QPointF) -> None:
        point = self._view.mapSceneToView(scene_pos)
        hit = self.tile_at(point.x(), point.y())
        if hit is None:
            self._info.set_texts(self._hint)
            return
        j, row, col = hit
        assert self._side is not None  # a tile was hit, so the input is an image
        w = float(self.state.net.weights[0][row * self._side + col, j])
        self._info.set_texts(
            (
                f"neuron {j}: pixel row {row}, col {col}, weight {w:+.3f}",
                f"neuron {j} ({row}, {col}): {w:+.3f}",
                f"{j}: {w:+.3f}",
            )
        )

    def _clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._view.mapSceneToView(event.scenePos())
        hit = self.tile_at(point.x(), point.y())
        if hit is not None:
            self.state.select(1, hit[0])

    def _on_selection_changed(self, layer: int, neuron: int) -> None:
        if layer != 1 or self._side is None or not 0 <= neuron < self._n:
            self._outline.hide()
            return
        rect = self.tile_rect(neuron)
        half = GUTTER / 2
        self._outline.setRect(rect.adjusted(-half, -half, half, half))
        self._outline.show()

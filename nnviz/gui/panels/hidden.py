"""What the hidden neurons see: one picture per neuron, with a saturation bar.

Layer 1 shows the first-layer weights themselves; a deeper hidden layer ``l``
shows its "effective images" ``W_l ... W_1`` (:func:`nnviz.core.analysis.
effective_images`): the neuron's weights pushed back through the layers below,
a LINEAR view that ignores their activation functions (the caption says so).
All pictures are ONE mosaic ``ImageItem`` as in the weight-image panel, whose
helpers it reuses. Under each picture a bar tells how often the neuron sits in
a flat part of its activation on a fixed sample of training images
(:func:`nnviz.core.analysis.saturation`): for sigmoid the share below 0.05
from the left and above 0.95 from the right, for ReLU the share where it
outputs 0. The images follow every parameter change (~1 ms); the saturation
is recomputed at most about once a second.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.analysis import Saturation, effective_images, saturation
from nnviz.gui import theme
from nnviz.gui.panels.weights import (
    MIN_LABELLED_TILE_PX,
    SCALES,
    grid_shape,
    image_side,
    nice_levels,
    tile_label,
)
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

BAR_GAP = 1  # image pixels between a tile and its bar
BAR_HEIGHT = 3
COL_GAP = 3  # image pixels between two columns of tiles
ROW_GAP = 3  # image pixels below a tile's bar
SAMPLE_SIZE = 2000
SAMPLE_SEED = 0
SATURATION_INTERVAL_S = 1.0
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def ordinal(layer: int) -> str:
    """``"second"`` for 2 (``"layer 7"`` past the list)."""
    return ORDINALS[layer - 1] if 1 <= layer <= len(ORDINALS) else f"layer {layer}"


def caption_for(layer: int, activation: str) -> str:
    """The sentence that says what the pictures of ``layer`` are."""
    if layer == 1:
        return "first-layer weights: the pixel pattern each neuron's weighted sum responds to"
    below = "the first layer" if layer == 2 else f"layers {layer - 1} to 1"
    its = "its" if layer == 2 else "their"
    return (
        f"linear view: {ordinal(layer)}-layer weights pushed back through {below}, "
        f"ignoring {its} {activation}"
    )


def sample_training_images(train_x: Array, n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> Array:
    """The bars' fixed sample: the images ``saturation(..., sample=n, seed=seed)`` picks."""
    if n >= len(train_x):
        return np.ascontiguousarray(train_x)
    idx = np.sort(np.random.default_rng(seed).choice(len(train_x), size=n, replace=False))
    return np.ascontiguousarray(train_x[idx])


class SaturationBars(pg.BarGraphItem):
    """One bar under each tile: the lower flat share from the left, the upper from the right.

    Every bar is three rectangles of one ``BarGraphItem``: the full-width
    track, the share of images in the lower flat part (ReLU: output 0) and
    the share in the upper flat part (sigmoid above ``0.95``, tanh above 0.9).
    """

    def __init__(self) -> None:
        super().__init__(x0=np.zeros(0), y0=np.zeros(0), width=np.zeros(0), height=np.zeros(0))
        self._slots: list[QRectF] = []
        self._left = self._right = np.zeros(0)
        self.colours = (QColor(), QColor(), QColor())
        self.restyle(False)

    def set_slots(self, tiles: list[QRectF]) -> None:
        """Put one bar under each tile rectangle."""
        self._slots = tiles
        self.set_shares(None)

    def set_shares(self, result: Saturation | None) -> None:
        """Show ``result``'s shares, or hide the bars when there is none."""
        self.setVisible(result is not None and len(result.below) == len(self._slots))
        if not self.isVisible() or result is None:
            return
        relu = result.activation == "relu"
        self._left = np.asarray(result.dead if relu else result.below, dtype=np.float64)
        self._right = np.zeros_like(self._left) if relu else np.asarray(result.above, np.float64)
        self._draw()

    def shares(self) -> tuple[Array, Array]:
        """``(left, right)`` shares as drawn: bar widths divided by the tile width."""
        width = np.asarray(self.opts["width"], dtype=np.float64)
        n = len(self._slots)
        side = self._slots[0].width() if n else 1.0
        return width[n : 2 * n] / side, width[2 * n :] / side

    def _draw(self) -> None:
        x = np.array([r.x() for r in self._slots])
        y = np.array([r.bottom() + BAR_GAP for r in self._slots])
        side = self._slots[0].width() if self._slots else 0.0
        track, low, high = self.colours
        n = len(self._slots)
        self.setOpts(
            x0=np.concatenate([x, x, x + side * (1 - self._right)]),
            y0=np.tile(y, 3),
            width=np.concatenate([np.full(n, side), side * self._left, side * self._right]),
            height=np.full(3 * n, float(BAR_HEIGHT)),
            brushes=[track] * n + [low] * n + [high] * n,
            pen=None,
        )

    def restyle(self, dark: bool) -> None:
        """Colours for the light or dark palette (not the weights' blue and red)."""
        if dark:
            self.colours = (QColor(72, 75, 82), QColor(150, 160, 190), QColor(40, 190, 170))
        else:
            self.colours = (QColor(226, 228, 232), QColor(85, 95, 125), QColor(0, 150, 136))
        if self._slots and self.isVisible():
            self._draw()


def legend_html(activation: str, colours: tuple[QColor, QColor, QColor], n_images: int) -> str:
    """The lines under the mosaic that explain the bars."""
    if not n_images:
        return (
            "The saturation bars need MNIST training images: load MNIST "
            "(Random test digit or Train)."
        )
    _, low, high = colours
    swatch = '<span style="color:{}">&#9632;</span>'
    head = f"bar: share of {n_images:,} training images on which the neuron"
    if activation == "relu":
        return (
            f"{head} {swatch.format(low.name())} outputs 0 (no gradient passes). "
            "<b>dead</b>: 0 on at least 99% of them."
        )
    lo, hi = _limits_text(activation)
    return (
        f"{head} sits where its {activation} is flat (little gradient passes): "
        f"{swatch.format(low.name())} a &lt; {lo} from the left, "
        f"{swatch.format(high.name())} a &gt; {hi} from the right. "
        "<b>dead</b>: stuck on 99%."
    )


def _limits_text(activation: str) -> tuple[str, str]:
    return ("0.05", "0.95") if activation == "sigmoid" else ("-0.9", "0.9")


def neuron_text(j: int, result: Saturation | None) -> str:
    """The numbers of neuron ``j`` for the hover line and tooltip."""
    if result is None:
        return f"neuron {j}"
    n = f"{result.n_images:,} training images"
    dead = " (dead)" if result.dead_units[j] else ""
    if result.activation == "relu":
        return f"neuron {j}: a = 0 on {result.dead[j]:.0%} of {n}{dead}"
    lo, hi = _limits_text(result.activation)
    return (
        f"neuron {j}: a < {lo} on {result.below[j]:.0%}, a > {hi} on {result.above[j]:.0%} "
        f"of {n}{dead}"
    )


class HiddenPanel(QWidget):
    """Pictures of a hidden layer's neurons with saturation bars; click to select.

    Parameters
    ----------
    state
        The application state; the panel draws ``state.net`` and samples
        ``state.dataset.train_x`` for the bars.
    parent
        Optional parent widget.
    """

    title = "What neurons see"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._layer = 0
        self._side: int | None = None
        self._rows = self._cols = self._n = 0
        self._buf = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self._levels = (-1.0, 1.0)
        self._labels: list[QGraphicsRectItem] = []
        self._sample: Array | None = None
        self._saturation: list[Saturation] = []
        self._sat_theta: Array | None = None
        self._sat_time = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh_saturation)
        self._build()
        state.network_replaced.connect(self._rebuild)
        state.params_changed.connect(self._on_params_changed)
        state.selection_changed.connect(self._on_selection_changed)
        state.appearance_changed.connect(self._restyle)
        state.dataset_loaded.connect(self._on_dataset_loaded)
        if state.dataset is not None:
            self._sample = sample_training_images(state.dataset.train_x)
        self._rebuild()
        self._restyle()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self._layer_box = QComboBox()
        self._layer_box.setToolTip("Which hidden layer's neurons to show.")
        self._layer_box.activated.connect(self._on_layer_chosen)
        self._scale_box = QComboBox()
        self._scale_box.addItems(SCALES)
        self._scale_box.setCurrentIndex(1)  # effective images differ a lot in size
        self._scale_box.setToolTip(
            "Shared: one colour scale for all neurons, so strengths compare.\n"
            "Per-image: each neuron scaled by its own largest |value|, to see its pattern."
        )
        self._scale_box.currentIndexChanged.connect(self.refresh)
        self._info = QLabel()
        self._info.setTextFormat(Qt.TextFormat.PlainText)
        self._info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self._layer_box)
        toolbar.addWidget(self._scale_box)
        toolbar.addStretch(1)
        self._caption = self._small_label()
        self._legend = self._small_label(rich=True)
        self._build_view()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(toolbar)
        layout.addWidget(self._caption)
        layout.addWidget(self._graphics, 1)
        layout.addWidget(self._message, 1)
        layout.addWidget(self._info)
        layout.addWidget(self._legend)

    @staticmethod
    def _small_label(rich: bool = False) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        label.setFont(font)
        return label

    def _build_view(self) -> None:
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.ci.setContentsMargins(2, 10, 2, 10)
        self._view = self._graphics.addViewBox(
            row=0, col=0, lockAspect=True, invertY=True, enableMouse=False, enableMenu=False
        )
        self._frames = QGraphicsPathItem()  # a thin line round every tile
        self._dead_cover = QGraphicsPathItem()  # dims the tiles of dead units
        self._dead_cover.setPen(QPen(Qt.PenStyle.NoPen))
        self._image = pg.ImageItem(axisOrder="row-major")
        self._bars = SaturationBars()
        self._outline = QGraphicsRectItem()
        pen = QPen(theme.HIGHLIGHT, 3)
        pen.setCosmetic(True)
        self._outline.setPen(pen)
        self._outline.hide()
        items = (self._image, self._dead_cover, self._frames, self._bars, self._outline)
        for z, item in enumerate(items):
            item.setZValue(z)
            self._view.addItem(item)
        self._colour_bar = pg.ColorBarItem(
            values=(-1, 1), width=12, interactive=False, colorMapMenu=False
        )
        self._colour_bar.axis.enableAutoSIPrefix(False)
        self._graphics.addItem(self._colour_bar, row=0, col=1)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.hide()
        scene = self._graphics.scene()
        scene.sigMouseMoved.connect(self._hovered)
        scene.sigMouseClicked.connect(self._clicked)
        self._graphics.viewport().installEventFilter(self)
        self._view.sigResized.connect(self._update_label_visibility)

    # ------------------------------------------------------------------ structure
    def _rebuild(self) -> None:
        """Follow a new architecture: layer list, grid, labels, bars."""
        sizes = self.state.net.sizes
        self._side = image_side(sizes[0])
        n_hidden = len(sizes) - 2
        self._layer_box.clear()
        for l in range(1, n_hidden + 1):
            kind = "weights" if l == 1 else "effective images"
            self._layer_box.addItem(f"layer {l}: {kind} ({sizes[l]})")
        if self._side is None or n_hidden < 1:
            self._show_message(sizes)
            return
        keep = 1 <= self._layer <= n_hidden
        self._saturation, self._sat_theta = [], None  # they belong to the old network
        self.set_layer(self._layer if keep else min(2, n_hidden), force=True)
        self.refresh_saturation()

    def set_layer(self, layer: int, force: bool = False) -> None:
        """Show hidden layer ``layer`` (1 = first-layer weights, 2 = effective images, ...)."""
        if not 1 <= layer <= len(self.state.net.sizes) - 2 or self._side is None:
            raise ValueError(f"no hidden layer {layer} in {self.state.net.describe()}")
        if layer == self._layer and not force:
            return
        self._layer = layer
        self._layer_box.setCurrentIndex(layer - 1)
        self._n = self.state.net.sizes[layer]
        self._rows, self._cols = grid_shape(self._n)
        self._message.hide()
        self._graphics.show()
        shape = (self._rows, self._step_y, self._cols, self._step_x)
        self._buf = np.full(shape, np.nan, dtype=np.float32)
        self._layout_tiles()
        self._caption.setText(caption_for(layer, self.state.net.activation))
        self.refresh()
        self._show_saturation()
        self._on_selection_changed(*(self.state.selected or (-1, -1)))

    def _on_layer_chosen(self, index: int) -> None:
        self.set_layer(index + 1)

    @property
    def _step_x(self) -> int:
        return (self._side or 0) + COL_GAP

    @property
    def _step_y(self) -> int:
        return (self._side or 0) + BAR_GAP + BAR_HEIGHT + ROW_GAP

    def _layout_tiles(self) -> None:
        path = QPainterPath()
        for j in range(self._n):
            path.addRect(self.tile_rect(j))
        self._frames.setPath(path)
        self._bars.set_slots([self.tile_rect(j) for j in range(self._n)])
        width = self._cols * self._step_x - COL_GAP
        height = self._rows * self._step_y - ROW_GAP
        self._view.setRange(QRectF(0, 0, width, height), padding=0.01)
        for label in self._labels:
            self._view.removeItem(label)
        self._labels = []
        for j in range(self._n):
            label = tile_label(str(j))
            label.setPos(self.tile_rect(j).topLeft())
            self._view.addItem(label)
            self._labels.append(label)
        self._style_labels()
        self._update_label_visibility()

    def _show_message(self, sizes: tuple[int, ...]) -> None:
        self._layer, self._n = 0, 0
        self._image.clear()
        self._outline.hide()
        self._graphics.hide()
        self._caption.setText("")
        self._legend.setText("")
        if self._side is None:
            text = (
                f"Neuron pictures need square image inputs (28x28 = 784 pixels); "
                f"this network has {sizes[0]} inputs."
            )
        else:
            text = "This network has no hidden layers: its inputs go straight to the outputs."
        self._message.setText(text)
        self._message.show()

    # ------------------------------------------------------------------ images
    def refresh(self) -> None:
        """Redraw the pictures of the shown layer from the current parameters."""
        if not self._n or self._side is None or self._n != self.state.net.sizes[self._layer]:
            return
        side = self._side
        tiles = effective_images(self.state.net, self._layer).reshape(self._n, side, side)
        if self.per_image_scale:
            peak = np.max(np.abs(tiles), axis=(1, 2))
            tiles = tiles / np.where(peak > 0, peak, 1.0)[:, None, None]
            self._levels = (-1.0, 1.0)
        else:
            self._levels = nice_levels(tiles)
        padded = np.full((self._rows * self._cols, side, side), np.nan, dtype=np.float32)
        padded[: self._n] = tiles
        grid = padded.reshape(self._rows, self._cols, side, side).transpose(0, 2, 1, 3)
        self._buf[:, :side, :, :side] = grid
        self._image.setImage(self._mosaic_view(), levels=self._levels, autoLevels=False)
        if self._colour_bar.levels() != self._levels:
            self._colour_bar.setLevels(self._levels)
        label = self._bar_label()
        if self._colour_bar.axis.labelText != label:
            self._colour_bar.axis.setLabel(label)

    def _bar_label(self) -> str:
        if self.per_image_scale:
            return "value / neuron's largest |value|"
        return "weight" if self._layer == 1 else "effective weight (linear)"

    def _mosaic_view(self) -> Array:
        rows, step_y, cols, step_x = self._buf.shape
        return self._buf.reshape(rows * step_y, cols * step_x)[:-ROW_GAP, :-COL_GAP]

    def _on_params_changed(self) -> None:
        if not self.isVisible():  # a tab behind another: catch up when shown
            self._stale = True
            return
        self.refresh()
        if self._timer.isActive() or self._sample is None:
            return
        wait = SATURATION_INTERVAL_S - (time.perf_counter() - self._sat_time)
        self._timer.start(max(0, round(wait * 1000)))

    def showEvent(self, event: QShowEvent) -> None:
        """Catch up with the weights that changed while hidden."""
        super().showEvent(event)
        if getattr(self, "_stale", False):
            self._stale = False
            self._on_params_changed()

    # ------------------------------------------------------------------ saturation
    def refresh_saturation(self) -> None:
        """Recompute the bars now (the panel calls this at most about once a second)."""
        self._timer.stop()
        net = self.state.net
        if self._sample is None or len(net.sizes) < 3 or self._sample.shape[1] != net.sizes[0]:
            self._saturation = []
        elif self._sat_theta is None or not np.array_equal(self._sat_theta, net.theta):
            self._saturation = saturation(net, self._sample)
            self._sat_theta = net.theta.copy()
            self._sat_time = time.perf_counter()
        self._show_saturation()

    def _show_saturation(self) -> None:
        result = self.saturation_result()
        self._bars.set_shares(result)
        cover = QPainterPath()
        for j in self.dead_units():
            cover.addRect(self.tile_rect(j))
        self._dead_cover.setPath(cover)
        for j, label in enumerate(self._labels):
            dead = result is not None and bool(result.dead_units[j])
            text = _label_text(label)
            text.setText(f"{j} dead" if dead else str(j))
            rect = text.boundingRect()
            label.setRect(QRectF(0, 0, rect.width() + 4, rect.height()))
        self._update_label_visibility()
        self._update_legend()

    def _on_dataset_loaded(self) -> None:
        if self.state.dataset is not None:
            self._sample = sample_training_images(self.state.dataset.train_x)
            self._sat_theta = None
            self.refresh_saturation()

    def _update_legend(self) -> None:
        if self._n:
            self._legend.setText(
                legend_html(self.state.net.activation, self._bars.colours, self._sample_size())
            )

    def _sample_size(self) -> int:
        return 0 if self._sample is None else len(self._sample)

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        background, foreground = theme.plot_colours(self.state.dark)
        self._graphics.setBackground(background)
        frame = QPen(QColor(110, 113, 119) if self.state.dark else QColor(175, 177, 182), 1)
        frame.setCosmetic(True)
        self._frames.setPen(frame)
        self._frames.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        dim = QColor(background)
        dim.setAlpha(170)
        self._dead_cover.setBrush(dim)
        cb = self.state.colour_blind
        self._image.setLookupTable(theme.diverging_lut(cb))
        self._colour_bar.setColorMap(theme.diverging_colormap(cb))
        for name in ("left", "right", "top", "bottom"):
            axis = self._colour_bar.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        self._bars.restyle(self.state.dark)
        self._style_labels()
        self._update_legend()
        self._update_hint()

    def _style_labels(self) -> None:
        background, foreground = theme.plot_colours(self.state.dark)
        fill = QColor(background)
        fill.setAlpha(190)
        for label in self._labels:
            label.setBrush(fill)
            _label_text(label).setBrush(foreground)

    def _update_label_visibility(self) -> None:
        if not self._labels or self._side is None:
            return
        pixel = self._view.viewPixelSize()[0]
        visible = pixel > 0 and self._side / pixel >= MIN_LABELLED_TILE_PX
        result = self.saturation_result()
        for j, label in enumerate(self._labels):
            dead = result is not None and bool(result.dead_units[j])
            label.setVisible(visible or dead)  # a dead unit is always marked

    def _update_hint(self) -> None:
        names = ("purple", "orange") if self.state.colour_blind else ("blue", "red")
        self._hint = (
            f"{names[0]} = positive, {names[1]} = negative; "
            "hover a neuron for its numbers, click to select it"
        )
        self._info.setText(self._hint)

    # ------------------------------------------------------------------ queries
    @property
    def per_image_scale(self) -> bool:
        """Whether each tile is scaled by its own largest magnitude."""
        return self._scale_box.currentIndex() == 1

    def set_per_image_scale(self, on: bool) -> None:
        """Choose per-image (True) or shared (False) colour scaling."""
        self._scale_box.setCurrentIndex(1 if on else 0)

    def layer(self) -> int:
        """The hidden layer shown (0 when there is nothing to show)."""
        return self._layer

    def layer_names(self) -> list[str]:
        """The entries of the layer selector."""
        return [self._layer_box.itemText(i) for i in range(self._layer_box.count())]

    def caption(self) -> str:
        """The sentence above the mosaic."""
        return self._caption.text()

    def levels(self) -> tuple[float, float]:
        """The ``(low, high)`` colour levels of the mosaic (symmetric about zero)."""
        return self._levels

    def grid(self) -> tuple[int, int]:
        """``(rows, cols)`` of the tile grid."""
        return self._rows, self._cols

    def mosaic(self) -> Array:
        """A copy of the image data shown, NaN between tiles (``(0, 0)`` if none)."""
        return self._mosaic_view().copy() if self._n else np.zeros((0, 0), np.float32)

    def tile_images(self) -> Array:
        """``(n, side, side)``: the tiles cut out of the mosaic."""
        mosaic = self.mosaic()
        return np.array([mosaic[_rect_slice(self.tile_rect(j))] for j in range(self._n)])

    def sample(self) -> Array | None:
        """The fixed training images the bars use (None before MNIST is loaded)."""
        return self._sample

    def saturation_result(self) -> Saturation | None:
        """The shown layer's saturation, or None (no data, no layer)."""
        if not self._saturation or not 1 <= self._layer <= len(self._saturation):
            return None
        result = self._saturation[self._layer - 1]
        return result if len(result.below) == self._n else None

    def bar_shares(self) -> tuple[Array, Array] | None:
        """``(left, right)`` shares as drawn under the tiles, or None when hidden."""
        return self._bars.shares() if self._bars.isVisible() else None

    def dead_units(self) -> list[int]:
        """The shown layer's dead units (stuck in one flat part on 99% of the images)."""
        result = self.saturation_result()
        return [] if result is None else [int(j) for j in np.flatnonzero(result.dead_units)]

    def dead_marked(self) -> list[int]:
        """Neurons whose label says "dead" (their tiles are dimmed)."""
        return [j for j, lab in enumerate(self._labels) if "dead" in _label_text(lab).text()]

    def info_text(self) -> str:
        """The line above the mosaic (the hint, or the numbers of the hovered neuron)."""
        return self._info.text()

    def tile_rect(self, j: int) -> QRectF:
        """Tile ``j``'s rectangle in image (= view) coordinates: x = column, y = row."""
        row, col = divmod(j, max(self._cols, 1))
        side = self._side or 0
        return QRectF(col * self._step_x, row * self._step_y, side, side)

    def tile_at(self, x: float, y: float) -> int | None:
        """The neuron whose tile or bar lies under image point ``(x, y)``, or None."""
        if not self._n or x < 0 or y < 0:
            return None
        col, px = divmod(math.floor(x), self._step_x)
        row, py = divmod(math.floor(y), self._step_y)
        j = row * self._cols + col
        side = self._side or 0
        if px >= side or py >= side + BAR_GAP + BAR_HEIGHT or col >= self._cols or j >= self._n:
            return None
        return j

    def outline_rect(self) -> QRectF | None:
        """The selection outline's rectangle, or None when no tile is selected."""
        return self._outline.rect() if self._outline.isVisible() else None

    def view(self) -> pg.ViewBox:
        """The view box holding the mosaic (for mapping points in tests)."""
        return self._view

    def graphics(self) -> pg.GraphicsLayoutWidget:
        """The graphics widget (its viewport receives the mouse)."""
        return self._graphics

    # ------------------------------------------------------------------ mouse, selection
    def _hovered(self, scene_pos: QPointF) -> None:
        point = self._view.mapSceneToView(scene_pos)
        j = self.tile_at(point.x(), point.y())
        text = self._hint if j is None else neuron_text(j, self.saturation_result())
        self._info.setText(text)
        self._graphics.viewport().setToolTip("" if j is None else text)

    def _clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._view.mapSceneToView(event.scenePos())
        j = self.tile_at(point.x(), point.y())
        if j is not None:
            self.state.select(self._layer, j)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Restore the hint when the mouse leaves the mosaic."""
        if event.type() == QEvent.Type.Leave and hasattr(self, "_hint"):
            self._info.setText(self._hint)
        return super().eventFilter(watched, event)

    def _on_selection_changed(self, layer: int, neuron: int) -> None:
        hidden = 1 <= layer <= len(self.state.net.sizes) - 2
        if hidden and layer != self._layer and self._side is not None:
            self.set_layer(layer)  # follow a selection made elsewhere (calls back here)
            return
        if layer != self._layer or not 0 <= neuron < self._n:
            self._outline.hide()
            return
        rect = self.tile_rect(neuron).adjusted(-1, -1, 1, 1 + BAR_GAP + BAR_HEIGHT)
        self._outline.setRect(rect)
        self._outline.show()

    def resizeEvent(self, event: Any) -> None:
        """Show tile labels only when tiles are big enough to carry them."""
        super().resizeEvent(event)
        self._update_label_visibility()


def _label_text(plate: QGraphicsRectItem) -> QGraphicsSimpleTextItem:
    """The number on a :func:`~nnviz.gui.panels.weights.tile_label` plate."""
    text = plate.childItems()[0]
    assert isinstance(text, QGraphicsSimpleTextItem)
    return text


def _rect_slice(rect: QRectF) -> tuple[slice, slice]:
    top, left = round(rect.y()), round(rect.x())
    return slice(top, top + round(rect.height())), slice(left, left + round(rect.width()))

"""What the hidden neurons see: one picture per neuron, with a saturation bar.

Layer 1 shows the first-layer weights themselves; a deeper hidden layer ``l``
shows its "effective images" ``W_l ... W_1`` (:func:`nnviz.core.analysis.
effective_images`): the neuron's weights pushed back through the layers below,
a LINEAR view that ignores their activation functions (the caption says so).
All pictures are ONE mosaic ``ImageItem`` as in the weight-image panel, whose
tiles' helpers it reuses (:mod:`.mosaic` draws it). Under each picture a bar
tells how often the neuron sits in a flat part of its activation on a fixed
sample of training images (:func:`nnviz.core.analysis.saturation`): for
sigmoid the share below 0.05 from the left and above 0.95 from the right,
for ReLU the share where it outputs 0 (:mod:`.saturation`).
The images follow every parameter change (~1 ms); the saturation is
recomputed at most about once a second.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnviz.core.analysis import Saturation, effective_images, saturation
from nnviz.gui.panels.hidden.mosaic import NeuronMosaic, dead_units
from nnviz.gui.panels.hidden.saturation import (
    legend_html,
    neuron_text,
    sample_training_images,
    short_neuron_text,
)
from nnviz.gui.panels.plots import sign_names
from nnviz.gui.panels.visibility import later, out_of_sight, wait_until_seen
from nnviz.gui.panels.weights.tiles import TilePanel, image_side
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

SATURATION_INTERVAL_S = 1.0
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def ordinal(layer: int) -> str:
    """``"second"`` for 2 (``"layer 7"`` past the list)."""
    return ORDINALS[layer - 1] if 1 <= layer <= len(ORDINALS) else f"layer {layer}"


def layer_item(layer: int, n: int) -> str:
    """The layer selector's entry for hidden layer ``layer`` of ``n`` neurons."""
    return f"layer {layer} ({n} neurons)"


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


class HiddenPanel(TilePanel):
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
        super().__init__("value", parent)
        self.state = state
        self._layer = 0
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
        # its items come with each network (perhaps after the first show): follow them
        self._layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._layer_box.setToolTip(
            "Which hidden layer's neurons to show: layer 1 its weights,\n"
            "a deeper layer its effective images (a linear view)."
        )
        self._layer_box.setAccessibleName("Hidden layer")
        self._layer_box.setAccessibleDescription(self._layer_box.toolTip())
        self._layer_box.activated.connect(self._on_layer_chosen)
        self._scale_box.setCurrentIndex(1)  # effective images differ a lot in size
        self._scale_box.currentIndexChanged.connect(self.refresh)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self._layer_box)
        toolbar.addWidget(self._scale_box)
        toolbar.addStretch(1)
        self._caption = self._small_label()
        self._legend = self._small_label(rich=True)
        self._build_view()
        self._name_for_screen_readers()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(toolbar)
        layout.addWidget(self._caption)
        layout.addWidget(self._mosaic, 1)
        layout.addWidget(self._message, 1)
        layout.addWidget(self._info)
        layout.addWidget(self._legend)

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("What neurons see")
        self.setAccessibleDescription(
            "One picture per neuron of a hidden layer, with a bar telling how often it saturates."
        )
        self._mosaic.setAccessibleName("Pictures of the hidden neurons")
        self._mosaic.setAccessibleDescription(
            "One numbered picture per neuron of the chosen layer, blue for positive and red "
            "for negative values; the bar under each is the share of training images on "
            "which the neuron sits in a flat part of its activation. Click one to select it."
        )
        self._caption.setAccessibleName("What the pictures are")
        self._legend.setAccessibleName("How to read the bars")

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
        self._mosaic = NeuronMosaic()
        self._image = self._mosaic.image
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.hide()
        scene = self._mosaic.scene()
        scene.sigMouseMoved.connect(self._hovered)
        scene.sigMouseClicked.connect(self._clicked)
        self._mosaic.viewport().installEventFilter(self)
        self._mosaic.view.sigResized.connect(self._update_label_visibility)

    # ------------------------------------------------------------------ structure
    def _rebuild(self) -> None:
        """Follow a new architecture: layer list, grid, labels, bars.

        Behind its tab the panel waits until it is seen: a new 256-256 network
        cost the window 50 ms here, for pictures no one looked at.
        """
        if out_of_sight(self):  # behind its tab: when it is chosen
            later(self, "rebuild", self._rebuild)
            return
        sizes = self.state.net.sizes
        self._mosaic.side = image_side(sizes[0])
        n_hidden = len(sizes) - 2
        self._layer_box.clear()
        for l in range(1, n_hidden + 1):
            # short items: a narrow dock's box must show them whole; the caption explains
            kind = "weights" if l == 1 else "effective images (a linear view)"
            self._layer_box.addItem(layer_item(l, sizes[l]))
            self._layer_box.setItemData(
                l - 1, f"hidden layer {l}: {kind}", Qt.ItemDataRole.ToolTipRole
            )
        if self._mosaic.side is None or n_hidden < 1:
            self._show_message(sizes)
            return
        keep = 1 <= self._layer <= n_hidden
        self._saturation, self._sat_theta = [], None  # they belong to the old network
        self.set_layer(self._layer if keep else min(2, n_hidden), force=True)
        self.refresh_saturation()

    def set_layer(self, layer: int, force: bool = False) -> None:
        """Show hidden layer ``layer`` (1 = first-layer weights, 2 = effective images, ...)."""
        if not 1 <= layer <= len(self.state.net.sizes) - 2 or self._mosaic.side is None:
            raise ValueError(f"no hidden layer {layer} in {self.state.net.describe()}")
        if layer == self._layer and not force:
            return
        self._layer = layer
        self._layer_box.setCurrentIndex(layer - 1)
        self._mosaic.set_grid(self.state.net.sizes[layer])
        self._message.hide()
        self._mosaic.show()
        self._layout_tiles()
        self._caption.setText(caption_for(layer, self.state.net.activation))
        self.refresh()
        self._show_saturation()
        self._on_selection_changed(*(self.state.selected or (-1, -1)))

    def _on_layer_chosen(self, index: int) -> None:
        self.set_layer(index + 1)

    @property
    def _n(self) -> int:
        return self._mosaic.n

    def _layout_tiles(self) -> None:
        self._mosaic.layout_tiles()
        self._mosaic.style_labels(self.state.dark)
        self._update_label_visibility()

    def _show_message(self, sizes: tuple[int, ...]) -> None:
        self._layer = 0
        self._mosaic.clear()
        self._mosaic.hide()
        self._caption.setText("")
        self._legend.setText("")
        if self._mosaic.side is None:
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
        side = self._mosaic.side
        if not self._n or side is None or self._n != self.state.net.sizes[self._layer]:
            return
        tiles = effective_images(self.state.net, self._layer).reshape(self._n, side, side)
        self._mosaic.show_tiles(self._scale(tiles), self._levels, self._bar_label())

    def _bar_label(self) -> str:
        if self.per_image_scale:
            return "value / neuron's largest |value|"
        return "weight" if self._layer == 1 else "effective weight (linear)"

    def _on_params_changed(self) -> None:
        if wait_until_seen(self, "params", self._on_params_changed):
            return
        self.refresh()
        if self._timer.isActive() or self._sample is None:
            return
        wait = SATURATION_INTERVAL_S - (time.perf_counter() - self._sat_time)
        self._timer.start(max(0, round(wait * 1000)))

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
        self._mosaic.show_saturation(self.saturation_result())
        self._update_label_visibility()
        self._update_legend()

    def _follow_selection(self) -> None:
        self._on_selection_changed(*(self.state.selected or (-1, -1)))

    def _on_dataset_loaded(self) -> None:
        if out_of_sight(self):  # behind its tab: when it is chosen
            later(self, "dataset", self._on_dataset_loaded)
            return
        if self.state.dataset is not None:
            self._sample = sample_training_images(self.state.dataset.train_x)
            self._sat_theta = None
            self.refresh_saturation()

    def _update_legend(self) -> None:
        if self._n:
            colours = self._mosaic.bars.colours
            self._legend.setText(
                legend_html(self.state.net.activation, colours, self._sample_size())
            )

    def _sample_size(self) -> int:
        return 0 if self._sample is None else len(self._sample)

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        self._mosaic.restyle(self.state.dark, self.state.colour_blind)
        self._mosaic.style_labels(self.state.dark)
        self._update_legend()
        self._update_hint()

    def _update_label_visibility(self) -> None:
        self._mosaic.update_label_visibility(self.saturation_result())

    def _update_hint(self) -> None:
        positive, negative = sign_names(self.state.colour_blind)
        signs = f"{positive} = positive, {negative} = negative"
        short = f"{positive} +, {negative} \N{MINUS SIGN}"
        self._show_hint(
            f"{signs}; hover a neuron for its numbers, click to select it",
            f"{signs}; hover or click a neuron",
            f"{short}; hover or click a neuron",
            short,
        )

    # ------------------------------------------------------------------ queries
    def layer(self) -> int:
        """The hidden layer shown (0 when there is nothing to show)."""
        return self._layer

    def layer_names(self) -> list[str]:
        """The entries of the layer selector."""
        return [self._layer_box.itemText(i) for i in range(self._layer_box.count())]

    def caption(self) -> str:
        """The sentence above the mosaic."""
        return self._caption.text()

    def grid(self) -> tuple[int, int]:
        """``(rows, cols)`` of the tile grid."""
        return self._mosaic.rows, self._mosaic.cols

    def mosaic(self) -> Array:
        """A copy of the image data shown, NaN between tiles (``(0, 0)`` if none)."""
        return self._mosaic.mosaic()

    def tile_images(self) -> Array:
        """``(n, side, side)``: the tiles cut out of the mosaic."""
        return self._mosaic.tile_images()

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
        bars = self._mosaic.bars
        return bars.shares() if bars.isVisible() else None

    def dead_units(self) -> list[int]:
        """The shown layer's dead units (stuck in one flat part on 99% of the images)."""
        return dead_units(self.saturation_result())

    def dead_marked(self) -> list[int]:
        """Neurons whose label says "dead" (their tiles are dimmed)."""
        return self._mosaic.dead_marked()

    def tile_rect(self, j: int) -> QRectF:
        """Tile ``j``'s rectangle in image (= view) coordinates: x = column, y = row."""
        return self._mosaic.tile_rect(j)

    def tile_at(self, x: float, y: float) -> int | None:
        """The neuron whose tile or bar lies under image point ``(x, y)``, or None."""
        return self._mosaic.tile_at(x, y)

    def outline_rect(self) -> QRectF | None:
        """The selection outline's rectangle, or None when no tile is selected."""
        outline = self._mosaic.outline
        return outline.rect() if outline.isVisible() else None

    def view(self) -> pg.ViewBox:
        """The view box holding the mosaic (for mapping points in tests)."""
        return self._mosaic.view

    def graphics(self) -> pg.GraphicsLayoutWidget:
        """The graphics widget (its viewport receives the mouse)."""
        return self._mosaic

    # ------------------------------------------------------------------ mouse, selection
    def _hovered(self, scene_pos: QPointF) -> None:
        point = self._mosaic.view.mapSceneToView(scene_pos)
        j = self.tile_at(point.x(), point.y())
        if j is None:
            self._info.set_texts(self._hint)
            self._mosaic.viewport().setToolTip("")
            return
        text = neuron_text(j, self.saturation_result())
        self._info.set_texts((text, short_neuron_text(j, self.saturation_result())))
        self._mosaic.viewport().setToolTip(text)

    def _clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._mosaic.view.mapSceneToView(event.scenePos())
        j = self.tile_at(point.x(), point.y())
        if j is not None:
            self.state.select(self._layer, j)

    def _on_selection_changed(self, layer: int, neuron: int) -> None:
        if out_of_sight(self):  # behind its tab: when it is chosen
            later(self, "selection", self._follow_selection)
            return
        hidden = 1 <= layer <= len(self.state.net.sizes) - 2
        if hidden and layer != self._layer and self._mosaic.side is not None:
            self.set_layer(layer)  # follow a selection made elsewhere (calls back here)
            return
        on = layer == self._layer and 0 <= neuron < self._n
        self._mosaic.outline_tile(neuron if on else None)

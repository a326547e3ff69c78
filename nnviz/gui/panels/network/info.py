"""The info box under the network diagram: one neuron's numbers and weights.

It shows the neuron's activation ``a``, its weighted sum ``z = w . a_prev + b``
(computed here from the network and the previous layer's activations), its
bias, and a picture of its incoming weights: the 28x28 weight image for a
first-hidden-layer neuron, a bar per incoming weight for deeper neurons.
While nudges are shown it also says how the cost wants the neuron to move.
While no neuron is hovered or selected, it explains how to read the diagram.
"""

from __future__ import annotations

import html
import itertools
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from nnviz.core.backprop import Nudges
from nnviz.core.network import Network
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.network import layout as nl
from nnviz.gui.panels.plots import sign_names

Array = npt.NDArray[Any]

#: Narrower than this, the box shows only the text (its lines need ~300 px).
MIN_WIDTH_FOR_PICTURE = 480
#: The box's height with room for everything (six lines and the weight picture),
#: the least it takes (one line) and the share of the panel the diagram keeps.
FULL_HEIGHT, MIN_HEIGHT, DIAGRAM_SHARE = 122, 26, 0.6

#: How a hidden activation maps to brightness (ReLU has no upper bound).
BRIGHTNESS = {
    "sigmoid": "sigmoid, black = 0, white = 1",
    "relu": "ReLU, a / (largest a in the layer): black = 0, white = the largest",
    "tanh": "tanh, black = -1, grey = 0, white = +1",
}

_SQUASH = {"sigmoid": "sigmoid(z)", "relu": "max(0, z)", "tanh": "tanh(z)"}


def layer_name(layer: int, n_layers: int) -> str:
    """``"hidden layer 1"`` or ``"output"`` for state layer index ``layer``."""
    return "output" if layer == n_layers else f"hidden layer {layer}"


def neuron_title(layer: int, neuron: int, n_layers: int) -> str:
    """``"Hidden layer 1, neuron 7"`` or ``"Output 3"``."""
    if layer == n_layers:
        return f"Output {neuron}"
    return f"Hidden layer {layer}, neuron {neuron}"


def neuron_numbers(
    net: Network, activations: list[Array], layer: int, neuron: int
) -> tuple[float, float, float, Array]:
    """``(a, z, b, w)`` of one neuron; ``z = w . a_prev + b`` in float64."""
    w = net.weights[layer - 1][:, neuron]
    b = float(net.biases[layer - 1][neuron])
    z = float(np.dot(activations[layer - 1].astype(np.float64), w.astype(np.float64)) + b)
    return float(activations[layer][neuron]), z, b, w


def squash_text(net: Network, layer: int, neuron: int) -> str:
    """How ``a`` follows from ``z`` for this neuron's layer."""
    if layer < net.n_layers:
        return _SQUASH[net.activation]
    return "sigmoid(z)" if net.cost == "quadratic" else f"softmax(z)[{neuron}]"


def wish_name(layer: int, n_layers: int, cost: str) -> str:
    """The formula of a layer's wish: ``-∂C/∂a`` below the output (see core.backprop)."""
    if layer < n_layers:
        return "\N{MINUS SIGN}∂C/∂a"
    return "2 (y \N{MINUS SIGN} a)" if cost == "quadratic" else "y \N{MINUS SIGN} a"


def wish_line(result: Nudges, layer: int, neuron: int, cost: str) -> str:
    """How the cost wants one neuron to move, for the info box."""
    wish = float(result.wish(layer)[neuron])
    way = "up" if wish > 0 else "down" if wish < 0 else "nowhere"
    name = wish_name(layer, result.n_layers, cost)
    return f"wish {name} = {wish:+.4f}: wants {way} (target {result.target})"


def hint_lines(net: Network, colour_blind: bool, nudges: bool = False) -> list[list[str]]:
    """What the info box says while no neuron is hovered or selected.

    The full explanation first, then shorter ones for a box with less room
    (the diagram keeps its room first; :meth:`NeuronInfo.show_hint`).
    """
    positive, negative = sign_names(colour_blind)
    k = nl.input_edges_per_neuron(net.sizes[1])
    short = "Hover or click a neuron for its numbers."
    if nudges:
        return [
            [
                "Nudges: for this input, how the cost wants every neuron to move. Arrows:"
                " up for the target digit, down for the others (longer = bigger). Halos:"
                f" {positive} = more active, {negative} = less; wider = bigger, relative to"
                " the layer's largest. Hover or click a neuron for its numbers.",
            ],
            [
                f"Nudges: arrows and halos show how the cost wants each neuron to move"
                f" ({positive} = up, {negative} = down). {short}",
            ],
            [short],
        ]
    return [
        [
            "Hover over a neuron to see its activation a, weighted sum z, bias b and"
            " incoming weights; click it to select it.",
            f"Brightness = activation ({BRIGHTNESS[net.activation]}). Lines = weights:"
            f" {positive} positive, {negative} negative, thicker = larger |w|; from the"
            f" input only each neuron's {k} strongest pixel(s).",
        ],
        [
            f"{short} Brightness = activation; lines = weights ({positive} +,"
            f" {negative} \N{MINUS SIGN}, thicker = larger |w|).",
        ],
        [short],
    ]


def info_height(panel_height: int, above: int) -> int:
    """The info box's height in a network panel ``panel_height`` px high.

    The diagram gets the room first: at least :data:`DIAGRAM_SHARE` of the
    panel; the box gets the rest below what is ``above`` the diagram, up to
    :data:`FULL_HEIGHT`, and at least one line (:data:`MIN_HEIGHT`).
    """
    room = int(panel_height * (1.0 - DIAGRAM_SHARE)) - above
    return max(MIN_HEIGHT, min(FULL_HEIGHT, room))


def legend_tooltip(net: Network) -> str:
    """The diagram's tooltip: how brightness and lines are to be read."""
    output = "softmax" if net.cost == "cross_entropy" else "sigmoid"
    k = nl.input_edges_per_neuron(net.sizes[1])
    pairs = itertools.pairwise(net.sizes[1:])
    sparse = any(n_in * n_out > nl.MAX_DENSE_EDGES for n_in, n_out in pairs)
    return (
        "Brightness = the neuron's activation for the current input.\n"
        f"Hidden layers: {BRIGHTNESS[net.activation]}.\n"
        f"Output ({output}): black = 0, white = 1.\n"
        "Lines: weights, blue positive and red negative (purple/orange in the\n"
        "colour-blind map); thicker and more opaque = larger |w| relative to the\n"
        "layer's largest. From the input only each first-layer neuron's\n"
        f"{k} strongest pixel(s) are drawn, starting at those pixels."
        + ("\nBetween large layers only the strongest weights are drawn." if sparse else "")
    )


class NeuronInfo(QWidget):
    """Text and weight picture of the hovered or selected neuron."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plain = ""
        self._colour_blind = False
        self._bar_brushes = (pg.mkBrush(theme.POSITIVE), pg.mkBrush(theme.NEGATIVE))
        self._bar_range = (0, 0.0)
        self._has_picture = False
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack = QStackedWidget(self)
        self._build_image_view()
        self._build_bar_view()
        full = QGraphicsView.ViewportUpdateMode.FullViewportUpdate  # cheaper, as in the diagram
        for view in (self.image_view, self.bar_view):
            view.setViewportUpdateMode(full)
        self.stack.setVisible(False)
        # A fixed height: the text changes every frame while training, and a
        # box that grew and shrank would re-lay out (and repaint) the panel.
        # The panel sets it from its own height (info_height), on resize only.
        self.setFixedHeight(FULL_HEIGHT)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.label.installEventFilter(self)  # a new size: the text is fitted again
        self._lines: list[str] = []
        self._hints: list[list[str]] = []
        self._fitted: tuple[Any, ...] = ()
        self.setAccessibleName("Neuron information")
        self.setAccessibleDescription(
            "The hovered or selected neuron's activation, weighted sum, bias and incoming "
            "weights, or how to read the diagram when no neuron is chosen."
        )
        self.image_view.setAccessibleName("Incoming weights as an image")
        self.image_view.setAccessibleDescription(
            "The chosen first-layer neuron's 784 weights as a 28 by 28 picture, "
            "blue positive and red negative."
        )
        self.bar_view.setAccessibleName("Incoming weights as bars")
        self.bar_view.setAccessibleDescription(
            "One bar per incoming weight of the chosen neuron, up for positive, down for negative."
        )
        self.stack.setFixedSize(168, 112)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.stack, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)

    def _build_image_view(self) -> None:
        self.image_view = pg.GraphicsLayoutWidget()
        self.image_view.setFixedSize(112, 112)
        self.image_view.ci.setContentsMargins(1, 1, 1, 1)
        box = plots.still_view(self.image_view, lockAspect=True, invertY=True)
        self.weight_image = pg.ImageItem(axisOrder="row-major")
        box.addItem(self.weight_image)
        box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)
        self._image_box = box
        self.stack.addWidget(self.image_view)

    def _build_bar_view(self) -> None:
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.setFixedSize(168, 112)
        self.bar_view.ci.setContentsMargins(2, 2, 2, 2)
        box = plots.still_view(self.bar_view)
        self.bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.8)
        self._zero_line = pg.InfiniteLine(pos=0.0, angle=0)
        box.addItem(self._zero_line)
        box.addItem(self.bars)
        self._bar_box = box
        self.stack.addWidget(self.bar_view)

    # ------------------------------------------------------------------ content
    def text(self) -> str:
        """The info as plain text (one line per fact)."""
        return self._plain

    def show_hint(self, variants: list[list[str]]) -> None:
        """No neuron: show an explanation instead, the longest of ``variants`` that fits.

        The full explanation (the first) is :meth:`text` and the box's tooltip.
        """
        self._hints = variants
        self._set_lines(variants[0], title=False)
        self._has_picture = False
        self._fit_picture()

    def show_neuron(
        self,
        net: Network,
        activations: list[Array],
        layer: int,
        neuron: int,
        note: str = "",
        extra: str | None = None,
    ) -> None:
        """Show ``neuron`` of ``layer`` (1 = first hidden layer) for these activations.

        ``extra`` (the neuron's wish, while nudges are shown) replaces the
        line with the largest weight (the box has a fixed height) and comes
        right after the title, as a small box shows only its first lines.
        """
        a, z, b, w = neuron_numbers(net, activations, layer, neuron)
        n_layers = net.n_layers
        title = neuron_title(layer, neuron, n_layers) + (f" ({note})" if note else "")
        source = "the input pixels" if layer == 1 else layer_name(layer - 1, n_layers)
        positive, negative = sign_names(self._colour_blind)
        lines = [
            title,
            f"activation a = {squash_text(net, layer, neuron)} = {a:.4f}",
            f"weighted sum z = w·a_prev + b = {z:.4f}",
            f"bias b = {b:.4f}",
            f"{w.size} weights from {source}: {positive} +, {negative} -",
        ]
        if extra:  # second: a small box shows the first lines only
            lines.insert(1, extra)
        else:
            lines.append(f"largest |w| = {float(np.max(np.abs(w))):.3f}")
        self._set_lines(lines, title=True)
        self._show_weights(w, first_layer=layer == 1)

    def _set_lines(self, lines: list[str], title: bool) -> None:
        # Neuron lines are short and change every frame: no word wrap, whose
        # height-for-width re-layout costs ~2 ms a frame. The hint is long.
        # (QLabel.setWordWrap re-lays out and repaints even when nothing changes.)
        if self.label.wordWrap() == title:
            self.label.setWordWrap(not title)
        self._lines = lines if title else []
        self._plain = "\n".join(lines)
        self._fit_text()

    def _fit_text(self) -> None:
        """Put as much of the text into the label as its size holds; all of it in the tooltip."""
        room = self.label.contentsRect()
        key = (self._plain, bool(self._lines), room.width(), room.height())
        if key == self._fitted:
            return
        self._fitted = key
        if self._lines:
            html_text, whole = self._fit_lines(self._lines, room.width(), room.height())
        else:
            html_text, whole = self._fit_hint(room.width(), room.height())
        self.label.setText(html_text)
        self.setToolTip("" if whole else self._plain)

    def _fit_lines(self, lines: list[str], width: int, height: int) -> tuple[str, bool]:
        """The neuron's lines that fit ``height``, each elided to ``width``; whether all fit."""
        bold = QFont(self.label.font())
        bold.setBold(True)  # the title
        metrics = [QFontMetrics(bold)] + [self.label.fontMetrics()] * (len(lines) - 1)
        shown = [
            m.elidedText(line, Qt.TextElideMode.ElideRight, width)
            for m, line in zip(metrics, lines, strict=True)
        ]
        n = max(1, min(len(lines), height // max(metrics[-1].lineSpacing(), 1)))
        parts = [html.escape(line) for line in shown[:n]]
        parts[0] = f"<b>{parts[0]}</b>"
        return "<br>".join(parts), n == len(lines) and shown == lines

    def _fit_hint(self, width: int, height: int) -> tuple[str, bool]:
        """The longest hint that fits ``width`` x ``height``; whether it is the full one."""
        variants = self._hints or [self._plain.split("\n")]
        for i, lines in enumerate(variants):
            text = "<br>".join(html.escape(line) for line in lines)
            self.label.setText(text)
            if self.label.heightForWidth(width) <= height:
                return text, i == 0
        return text, False

    def _show_weights(self, w: Array, first_layer: bool) -> None:
        side = math.isqrt(w.size)
        if first_layer and side * side == w.size:
            image = w.reshape(side, side)
            self.weight_image.setImage(image, levels=theme.symmetric_levels(image))
            self._image_box.setRange(xRange=(0, side), yRange=(0, side), padding=0)
            self.stack.setCurrentWidget(self.image_view)
        else:
            self._set_bars(w)
            self.stack.setCurrentWidget(self.bar_view)
        self._has_picture = True
        self._fit_picture()

    def _fit_picture(self) -> None:
        """The weight picture, if there is one and room for it beside the text."""
        roomy = self.width() >= MIN_WIDTH_FOR_PICTURE and self.height() >= FULL_HEIGHT
        self.stack.setVisible(self._has_picture and roomy)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Show the weight picture only where the box is large enough."""
        super().resizeEvent(event)
        self._fit_picture()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The label got a new size (the box, or the picture beside it, changed)."""
        if watched is self.label and event.type() == QEvent.Type.Resize:
            self._fit_text()
        return super().eventFilter(watched, event)

    def _set_bars(self, w: Array) -> None:
        positive, negative = self._bar_brushes
        brushes = [positive if v > 0 else negative for v in w]
        self.bars.setOpts(x=np.arange(w.size), height=w, width=0.8, brushes=brushes, pen=None)
        # The range follows |w| with some slack, so it is not reset every frame.
        m = max(float(np.max(np.abs(w))), 1e-12)
        n, top = self._bar_range
        top = plots.stable_top(top if n == w.size else 0.0, m, keep_down_to=0.7, headroom=1.15)
        if (w.size, top) != self._bar_range:
            self._bar_range = (w.size, top)
            self._bar_box.setRange(xRange=(-0.6, w.size - 0.4), yRange=(-top, top), padding=0)

    # ------------------------------------------------------------------ looks
    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Match the palette and the weight colour map."""
        self._colour_blind = colour_blind
        colours = plots.sign_colours(dark, colour_blind)  # as the diagram's edges
        self._bar_brushes = tuple(pg.mkBrush(c) for c in colours)
        self.weight_image.setLookupTable(theme.diverging_lut(colour_blind, dark=dark))
        for view in (self.image_view, self.bar_view):
            _, foreground = plots.restyle(view, dark)
        self._zero_line.setPen(pg.mkPen(foreground, width=1))

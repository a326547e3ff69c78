"""What the cost wants: of the outputs, of the selected neuron, of its weights.

The words (the example's summary, the figures' titles, the selected neuron's
numbers) and the pictures: :class:`SignedBars`, a bar per wish around a zero
line with an optional sum bar, and :class:`ImagePair`, a first-layer neuron's
weight image beside the change its weights wish for. Colours follow the
lessons (blue = up / positive, red = down / negative, or the colour-blind
pair) and the light or dark palette; every item is made once and updated.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from nnviz.core.backprop import Nudges
from nnviz.core.errors import plain_number
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.network.info import neuron_title, wish_name
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

pg.setConfigOptions(imageAxisOrder="row-major")

MINUS = "\N{MINUS SIGN}"
#: The bar range follows the values with this headroom, and is kept while the
#: largest value stays above this share of it: it is not reset every frame.
RANGE_SLACK, RANGE_KEEP = 1.25, 0.45
#: Where the Network panel is, seen from this one, for the hint (None: out of sight).
PLACES = {"left": "on the left", "right": "on the right", "above": "above", "below": "below"}


# ------------------------------------------------------------------ words
def signed(value: float, digits: int = 4) -> str:
    """``+0.0123`` or the same with a real minus sign (U+2212) for negatives.

    Tiny values keep three significant digits, written out (never ``1e-05``).
    """
    text = f"{value:+.{digits}f}"
    if value and abs(value) < 1e-3:
        text = ("+" if value > 0 else "-") + plain_number(abs(value))
    return text.replace("-", MINUS)


def way(value: float) -> str:
    """Which way a wish points."""
    return "wants up" if value > 0 else "wants down" if value < 0 else "content"


def cost_formula(cost: str, target: int) -> str:
    """The cost of one example, as a formula."""
    if cost == "quadratic":
        return "Σ (a − y)², quadratic"
    return f"{MINUS}ln a<sub>{target}</sub>, cross-entropy"


def summary_parts(state: AppState, result: Nudges) -> list[list[str]]:
    """The example: its label, the answer, the target and the cost (two paragraphs' parts)."""
    outputs = result.a[-1]
    answer = int(outputs.argmax())
    label = state.label
    source = f"a test digit, true label {label}" if label is not None else "a drawing (no label)"
    says = f"the network says {answer} (a = {outputs[answer]:.3f})"
    return [
        [f"<b>This example</b>: {source} ·", says],
        [
            f"Target <b>{result.target}</b> · its cost C = <b>{plain_number(result.cost)}</b>",
            f"({cost_formula(state.net.cost, result.target)})",
        ],
    ]


def hint_parts(place: str | None) -> list[list[str]]:
    """What to do to see a neuron's wishes: click it on the Network panel (``place``: where)."""
    where = f"the Network panel {PLACES[place]}" if place in PLACES else "the Network panel"
    words = (
        f"Click a neuron on {where} to see where its wish comes from: the sum of what "
        "every neuron of the next layer wants from it."
    ).split()
    return [[f"<i>{word}</i>" for word in words]]


def content_note(result: Nudges, bound: float) -> str:
    """A remark when the outputs' wishes are too small to see (the network is right).

    It goes under the chart's title, not on the chart: a narrow chart has no
    room for a paragraph. No number in it changes every frame.
    """
    if float(abs(result.wish_out).max()) >= 0.02 * bound:
        return ""
    return f"almost nothing to change: the network already gives {result.target}"


def wish_title(cost: str, note: str = "") -> str:
    """Title of the output wishes' bars, with a ``note`` in italics below it."""
    name = wish_name(1, 1, cost)
    title = f"Desired change of each output: {name}"
    return f"{title}<br><i>{note}</i>" if note else title


def neuron_parts(result: Nudges, layer: int, j: int, cost: str, eta: float) -> list[list[str]]:
    """The selected neuron: activation, wish, delta and its bias gradient (paragraphs' parts)."""
    L = result.n_layers
    a, wish = float(result.a[layer][j]), float(result.wish(layer)[j])
    delta = float(result.delta[layer][j])
    title = html.escape(neuron_title(layer, j, L))
    how = "a − y" if layer == L and cost != "quadratic" else "f′(z)·∂C/∂a"
    how = "∂C/∂z = " + how if layer == L else how
    return [
        [
            f"<b>{title}</b>: a = {a:.4f} ·",
            f"wish {wish_name(layer, L, cost)} = <b>{signed(wish)}</b> ({way(wish)})",
        ],
        [
            f"δ = {how} = {signed(delta)} = ∂C/∂b;",
            f"the step moves b by {MINUS}η·δ = {signed(-eta * delta)}",
        ],
    ]


def sources_title(layer: int, n_layers: int) -> str:
    """Title of the breakdown of a hidden neuron's wish."""
    nxt = "output k" if layer + 1 == n_layers else f"neuron k of layer {layer + 1}"
    return f"Its wish = Σ<sub>k</sub> {MINUS}w<sub>kj</sub>·δ<sub>k</sub>: a bar per {nxt}"


def sent_title(j: int, layer: int) -> str:
    """Title of what an output neuron wants from each neuron of the layer below."""
    below = "pixel" if layer == 1 else f"neuron k of layer {layer - 1}"
    return f"What output {j} wants from each {below}: {MINUS}w<sub>jk</sub>·δ<sub>j</sub>"


def gradient_title(layer: int, n_layers: int) -> str:
    """Title of the bars of a neuron's weight changes."""
    if layer == 1:
        return f"Its weights w and their wish {MINUS}∂C/∂w = {MINUS}δ·x"
    return f"Its weights' wish {MINUS}∂C/∂w = {MINUS}δ·a (a: hidden layer {layer - 1})"


# ------------------------------------------------------------------ pictures
class SignedBars(pg.PlotWidget):
    """Signed bars (blue up, red down) around a zero line, with an optional sum bar.

    With a total, a bar labelled "Σ" stands apart at the right, outlined, and
    a dashed line at its height crosses the plot: the other bars add up to it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plots.quiet(self.getPlotItem())
        self.setMinimumSize(100, 80)
        self._dark = self._colour_blind = False
        self.bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.75)
        self.total_bar = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.9)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0)
        self.total_line = pg.InfiniteLine(pos=0.0, angle=0)
        for item in (self.zero_line, self.total_line, self.bars, self.total_bar):
            self.addItem(item)
        # its lines stay left-aligned, as a paragraph reads
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.note = plots.add_label(self, align=left, pad=plots.WIDE_PAD)
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
        positive, negative = plots.sign_colours(self._dark, self._colour_blind)
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
            top = plots.stable_top(self._range[1], m, RANGE_KEEP, RANGE_SLACK)
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
        self._dark, self._colour_blind = dark, colour_blind
        background, foreground = plots.restyle(self, dark, *plots.axes_of(self))
        self.zero_line.setPen(pg.mkPen(foreground, width=1))
        faint = theme.blend(foreground, background, 150)
        self.total_line.setPen(pg.mkPen(faint, width=1, style=Qt.PenStyle.DashLine))
        self.note.setColor(foreground)
        self._draw()


class ImagePair(pg.GraphicsLayoutWidget):
    """Two square images side by side with captions (a weight image and its change)."""

    GAP = 0.12  # between the images, as a fraction of a side

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.box = plots.still_view(self, lockAspect=True, invertY=True)
        self.left = pg.ImageItem(axisOrder="row-major")
        self.right = pg.ImageItem(axisOrder="row-major")
        for item in (self.left, self.right):
            self.box.addItem(item)
        small = plots.small_font()
        self.captions = [
            plots.add_label(self.box, anchor=(0.5, 0), font=small, pad=plots.WIDE_PAD)
            for _ in range(2)
        ]
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
        _, foreground = plots.restyle(self, dark)
        lut = theme.diverging_lut(colour_blind)
        for item in (self.left, self.right):
            item.setLookupTable(lut)
        for caption in self.captions:
            caption.setColor(foreground)

"""The desired nudges drawn over the network diagram (the lessons' chapter 3).

For one example and a target digit, backpropagation says how the cost wants
every activation to move (:func:`nnviz.core.backprop.nudges`). The diagram
shows it as

- a signed bar beside every output neuron, led by a triangle: up (blue) where
  the output should grow (the target), down (red) where it should shrink, its
  length proportional to the wish on an absolute scale (a full bar is the
  largest possible wish), so a network that is already right shows almost
  nothing;
- a halo behind every hidden neuron, blue (wants up) or red (wants down),
  whose width is proportional to ``|wish|`` relative to the largest in its
  layer (hidden wishes span orders of magnitude between layers).

All of it is a few long-lived items updated with ``setData``: one
``ScatterPlotItem`` of halos, one ``PlotCurveItem(connect="pairs")`` per sign
for the bars (and one for their faint tracks) and one ``ScatterPlotItem`` of
triangles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QTextDocument
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from nnviz.core.backprop import Nudges, nudges
from nnviz.core.errors import plain_number
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.network import layout as nl
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

#: Output wishes are drawn as signed bars right of the digit labels: a
#: triangle (up or down) this many pixels past the label's left edge, then a
#: bar whose full length :data:`BAR_MAX` (view units) is the largest possible
#: wish, over a faint track of that length. The view gains :data:`ARROW_ROOM`.
MARK_PX, BAR_MAX, ARROW_ROOM = 32.0, 0.15, 0.22
#: Largest bar thickness and triangle size, in pixels (less in small views).
BAR_PX, HEAD_PX = 6.0, 11.0
#: A halo's diameter is the node's times ``1 + HALO_GROWTH * |wish| / layer max``.
HALO_GROWTH = 0.75
#: Halo opacity (0-255): edges still show through.
HALO_ALPHA = 190


def output_bound(cost: str) -> float:
    """The largest possible ``|wish_out|``: 1 for softmax (``y - a``), 2 for quadratic."""
    return 2.0 if cost == "quadratic" else 1.0


def relative_sizes(wish: Array) -> Array:
    """``|wish| / max |wish|`` (all zeros when the layer wishes nothing)."""
    magnitude = np.abs(np.asarray(wish, dtype=np.float64))
    top = float(magnitude.max(initial=0.0))
    return magnitude / top if top > 0 else np.zeros_like(magnitude)


def bar_pen(colour: QColor, width: float) -> QPen:
    """A cosmetic, flat-capped pen ``width`` pixels wide (bars end where they should)."""
    pen = QPen(colour)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


def faded(colour: QColor) -> QColor:
    """``colour`` at the halos' opacity."""
    out = QColor(colour)
    out.setAlpha(HALO_ALPHA)
    return out


@dataclass(frozen=True)
class WishBars:
    """Output wishes as bars in view coordinates: one row per output neuron.

    ``mark`` is the x of the up/down triangle, a bar runs from ``start`` to
    ``end`` (``end - start`` is ``|wish| / bound`` of ``BAR_MAX``) at height
    ``y``; ``sign`` is +1 (wants up), -1 (wants down) or 0.
    """

    mark: Array
    start: Array
    end: Array
    full: Array
    y: Array
    sign: Array


def wish_bars(layout: nl.Layout, wish_out: Array, bound: float, px: float) -> WishBars:
    """Bars beside the output neurons for ``px`` pixels per view unit."""
    last = len(layout.sizes) - 1
    nodes = layout.node(last, 0) + np.arange(layout.sizes[last])
    wish = np.asarray(wish_out, dtype=np.float64)
    label_x = layout.x[nodes] + layout.diameter[nodes] / 2 + 0.015  # as the digit labels
    mark = label_x + MARK_PX / px
    start = mark + (HEAD_PX / 2 + 3.0) / px
    length = BAR_MAX * np.clip(np.abs(wish) / bound, 0.0, 1.0)
    return WishBars(
        mark=mark,
        start=start,
        end=start + length,
        full=start + BAR_MAX,
        y=layout.y[nodes],
        sign=np.sign(wish),
    )


def hidden_halos(layout: nl.Layout, nudges: Nudges) -> tuple[Array, Array, Array]:
    """``(node numbers, relative sizes, signs)`` of the hidden neurons' halos."""
    nodes, sizes, signs = [], [], []
    for l in range(1, len(layout.sizes) - 1):
        wish = nudges.wish(l)
        nodes.append(layout.node(l, 0) + np.arange(wish.size))
        sizes.append(relative_sizes(wish))
        signs.append(np.sign(wish))
    if not nodes:
        return np.zeros(0, np.intp), np.zeros(0), np.zeros(0)
    return np.concatenate(nodes), np.concatenate(sizes), np.concatenate(signs)


class NudgeOverlay:
    """Halos and arrows of one backward pass over a network diagram's view box."""

    def __init__(self, viewbox: pg.ViewBox) -> None:
        self.layout: nl.Layout | None = None
        self.nudges: Nudges | None = None
        self._px = 1.0
        self._bound = 1.0
        self._brushes = (QBrush(), QBrush())  # (positive, negative) arrow heads
        self._bar_colours = (QColor(), QColor(), QColor())  # positive, negative, track
        self._bar_width = 0.0
        self._halo_brushes = (QBrush(), QBrush())
        self.halos = pg.ScatterPlotItem(pxMode=True, pen=None, antialias=True)
        self.halos.setZValue(1.5)  # above the edges, behind the nodes
        self.shafts = {
            sign: pg.PlotCurveItem(connect="pairs", antialias=False, skipFiniteCheck=True)
            for sign in (1, -1)
        }
        self.track = pg.PlotCurveItem(connect="pairs", antialias=False, skipFiniteCheck=True)
        self.track.setZValue(2.4)
        self.heads = pg.ScatterPlotItem(pxMode=True, pen=None, antialias=True)
        for item in (*self.shafts.values(), self.heads):
            item.setZValue(2.5)
        for item in self.items():
            viewbox.addItem(item)
            item.setVisible(False)

    def items(self) -> list[pg.GraphicsObject]:
        """Every item of the overlay."""
        return [self.halos, self.track, *self.shafts.values(), self.heads]

    # ------------------------------------------------------------------ content
    def set_layout(self, layout: nl.Layout, cost: str) -> None:
        """A new architecture (and cost function): forget the old nudges."""
        self.layout = layout
        self._bound = output_bound(cost)
        self.show(None)

    def show(self, nudges: Nudges | None) -> None:
        """Draw ``nudges`` (None hides the overlay)."""
        lay = self.layout
        if nudges is not None and (lay is None or nudges.n_layers != len(lay.sizes) - 1):
            nudges = None  # from another architecture (mid-replacement)
        self.nudges = nudges
        for item in self.items():
            item.setVisible(nudges is not None)
        if nudges is not None:
            self._draw()

    def fit_to_scale(self, px: float) -> None:
        """Pixels per view unit changed: halos and heads are sized in pixels."""
        if abs(px - self._px) <= 0.002 * self._px:
            return  # the same to a fraction of a pixel: no redraw
        self._px = px
        if self.nudges is not None:
            self._draw()

    def _draw(self) -> None:
        assert self.layout is not None and self.nudges is not None
        self._draw_halos(self.layout, self.nudges)
        self._draw_arrows(self.layout, self.nudges)

    def _draw_halos(self, lay: nl.Layout, nudges: Nudges) -> None:
        nodes, rel, signs = hidden_halos(lay, nudges)
        node_px = np.maximum(np.round(lay.diameter[nodes] * self._px), 3.0)
        sizes = node_px * (1.0 + HALO_GROWTH * rel)
        positive, negative = self._halo_brushes
        brushes = [positive if s > 0 else negative for s in signs]
        self.halos.setData(x=lay.x[nodes], y=lay.y[nodes], size=sizes, brush=brushes, symbol="o")

    def _draw_arrows(self, lay: nl.Layout, nudges: Nudges) -> None:
        last = len(lay.sizes) - 1
        bars = wish_bars(lay, nudges.wish(last), self._bound, self._px)
        # Bars and triangles fit their rows, however small the view.
        pitch_px = nl.column_shape(lay.sizes[last])[2] * self._px
        self._set_bar_width(float(np.clip(round(0.36 * pitch_px), 2.0, BAR_PX)))
        head_px = min(HEAD_PX, 0.8 * pitch_px)
        x, y = nl.pairs_xy(np.stack([bars.start, bars.y, bars.full, bars.y], axis=1))
        self.track.setData(x=x, y=y, connect="pairs")
        length_px = (bars.end - bars.start) * self._px
        for sign, item in self.shafts.items():
            keep = (bars.sign == sign) & (length_px >= 0.5)
            xy = np.stack([bars.start, bars.y, bars.end, bars.y], axis=1)[keep]
            x, y = nl.pairs_xy(xy)
            item.setData(x=x, y=y, connect="pairs")
        # Triangles shrink with tiny wishes: a negligible wish shows (almost) nothing.
        head = head_px * np.minimum(1.0, length_px / 8.0)
        shown = head >= 3.0
        positive, negative = self._brushes
        self.heads.setData(
            x=bars.mark[shown],
            y=bars.y[shown],
            size=head[shown],
            symbol=["t1" if s > 0 else "t" for s in bars.sign[shown]],  # t1 points up
            brush=[positive if s > 0 else negative for s in bars.sign[shown]],
        )

    # ------------------------------------------------------------------ looks
    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Sign colours for the palette (lighter on dark backgrounds)."""
        positive, negative = plots.sign_colours(dark, colour_blind)
        self._brushes = (QBrush(positive), QBrush(negative))
        self._halo_brushes = (QBrush(faded(positive)), QBrush(faded(negative)))
        background, foreground = theme.plot_colours(dark)
        self._bar_colours = (positive, negative, theme.blend(foreground, background, 28))
        self._bar_width = 0.0  # new pens on the next draw
        if self.nudges is not None:
            self._draw()

    def _set_bar_width(self, width: float) -> None:
        """Bar pens of this width (only when it changes)."""
        if width == self._bar_width:
            return
        self._bar_width = width
        positive, negative, track = self._bar_colours
        self.shafts[1].setPen(bar_pen(positive, width))
        self.shafts[-1].setPen(bar_pen(negative, width))
        self.track.setPen(bar_pen(track, width))


def target_reason(chosen: int | None, label: int | None) -> str:
    """Why the nudges aim at their target: chosen, the true label or the answer."""
    if chosen is not None:
        return "chosen"
    return "true label" if label is not None else "the network's answer"


def legend_html(target: int, reason: str, cost: float, colour_blind: bool, dark: bool) -> list[str]:
    """The bar's one-line legend: target, cost, what the colours mean; then shorter ones."""
    positive, negative = (c.name() for c in plots.sign_colours(dark, colour_blind))
    up = f'<span style="color:{positive}">\N{BLACK UP-POINTING TRIANGLE}'
    down = f'<span style="color:{negative}">\N{BLACK DOWN-POINTING TRIANGLE}'
    signs = f"{up} up</span> {down} down</span>"
    cost_text = f"cost {plain_number(cost)}"
    return [
        f"towards <b>{target}</b> ({reason}), {cost_text} \N{MIDDLE DOT} {signs}",
        f"towards <b>{target}</b>, {cost_text} \N{MIDDLE DOT} {signs}",
        f"towards <b>{target}</b>, {cost_text}",
        f"towards <b>{target}</b>",
    ]


def html_width(html: str, font: QFont) -> float:
    """How wide ``html`` is as one line in ``font`` (pixels)."""
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setDefaultFont(font)
    document.setHtml(html)
    return document.idealWidth()


class NudgeBar(QWidget):
    """The diagram's small tool row: a "Show nudges" switch and a legend."""

    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox("Show nudges", self)
        self.check.setToolTip(
            "Backpropagation for this input: how the cost wants every neuron to move.\n"
            "Arrows beside the outputs: up for the target digit, down for the others,\n"
            "longer = a bigger wish (the longest possible fills a row).\n"
            "Halos behind hidden neurons: blue = wants to be more active, red = less;\n"
            "wider = a bigger wish, relative to the largest in the layer."
        )
        self.legend = QLabel(self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.setToolTip(self.check.toolTip())
        self.legend.setAccessibleName("Nudges legend")
        self.legend.installEventFilter(self)  # a new width: the legend is fitted again
        self._legends: list[str] = [""]
        self._fitted: tuple[tuple[str, ...], int] = ((), -1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.check, 0)
        layout.addWidget(self.legend, 1)
        self.setFixedHeight(self.sizeHint().height())
        self.check.toggled.connect(self.toggled)

    def set_legend(self, variants: list[str]) -> None:
        """Show the longest of ``variants`` (HTML) that fits beside the switch
        (``[]`` while nudges are off)."""
        self._legends = variants or [""]
        self._fit()

    def legend_text(self) -> str:
        """The full legend (shorter words are shown where it does not fit)."""
        return self._legends[0]

    def _fit(self) -> None:
        room = self.legend.contentsRect().width()
        key = (tuple(self._legends), room)
        if key == self._fitted:
            return  # the legend changes with the cost only: measure only then
        self._fitted = key
        font = self.legend.font()
        shown = next((h for h in self._legends if html_width(h, font) <= room), "")
        if shown != self.legend.text():
            self.legend.setText(shown)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The legend got a new width: say as much as fits."""
        if watched is self.legend and event.type() == QEvent.Type.Resize:
            self._fit()
        return super().eventFilter(watched, event)


class DiagramNudges(QObject):
    """The nudges of one diagram: the switch, the target, the computation, the overlay.

    While shown, the backward pass is recomputed for every new input or set
    of weights (about 0.2 ms for 784-16-16-10); while hidden it costs nothing.

    Parameters
    ----------
    state
        The application state (input, label, network, looks).
    viewbox
        The diagram's view box (the overlay's items go there).
    parent
        The panel (it holds the bar in its layout).
    """

    toggled = Signal(bool)
    #: The overlay shows a new backward pass (or None).
    changed = Signal()

    def __init__(self, state: AppState, viewbox: pg.ViewBox, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.chosen: int | None = None  # None: the true label, else the network's answer
        # the panel says whether its layout is current
        self.matches: Callable[[], bool] = lambda: True
        self.bar = NudgeBar(parent)
        self.overlay = NudgeOverlay(viewbox)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.bar.toggled.connect(self._on_toggled)

    def shown(self) -> bool:
        """Whether "Show nudges" is on."""
        return self.bar.check.isChecked()

    def target(self) -> int:
        """The chosen digit, else the input's true label, else the network's answer."""
        if self.chosen is not None and 0 <= self.chosen < self.state.net.sizes[-1]:
            return self.chosen
        return self.state.label if self.state.label is not None else self.state.prediction

    def show(self, result: Nudges | None) -> None:
        """Draw ``result`` and its legend (None clears)."""
        self.overlay.show(result)
        legends: list[str] = []
        if result is not None:
            reason = target_reason(self.chosen, self.state.label)
            dark, blind = self.state.dark, self.state.colour_blind
            legends = legend_html(result.target, reason, result.cost, blind, dark)
        self.bar.set_legend(legends)
        self.changed.emit()

    def refresh(self) -> None:
        """Recompute for the current input, weights and target (clears while hidden)."""
        self._timer.stop()
        if not self.shown() or not self.matches():
            self.show(None)
            return
        self.show(nudges(self.state.net, self.state.input, self.target()))

    def refresh_soon(self) -> None:
        """Recompute once control returns to the event loop (coalesces signals)."""
        if self.shown():
            self._timer.start()

    def _on_toggled(self, shown: bool) -> None:
        self.refresh()
        self.toggled.emit(shown)

"""The network panel: the lessons' picture of the network, live.

Left to right: the 28x28 input, then a column of circles per hidden layer and
the output layer. A circle's brightness is the neuron's activation for the
current input; lines are weights (blue positive, red negative, thicker and
more opaque for larger ``|w|``). From the input only each first-layer
neuron's strongest few pixels are drawn, starting at those pixels. Hover a
neuron for its numbers and incoming weights; click it to select it. "Show
nudges" draws backpropagation's wishes for the current input (arrows at the
outputs, halos on hidden neurons; :mod:`.nudges`).

Drawing follows STYLE.md: all nodes are one ``ScatterPlotItem`` and all edges
a few path items (:class:`.diagram.EdgeBatch`), one per sign and magnitude bin;
positions are computed once per architecture (:mod:`.layout`), a frame only
moves edges between bins and changes node brushes. The info box under the
diagram is :class:`.info.NeuronInfo`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView, QVBoxLayout, QWidget

from nnviz.core.backprop import Nudges
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.network import diagram as nd
from nnviz.gui.panels.network import info as ni
from nnviz.gui.panels.network import layout as nl
from nnviz.gui.panels.network.info import NeuronInfo, hint_lines, info_height, legend_tooltip
from nnviz.gui.panels.network.nudges import ARROW_ROOM, DiagramNudges
from nnviz.gui.panels.plots import FastLabel
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

pg.setConfigOptions(imageAxisOrder="row-major")

#: Output labels are only drawn for layers this small.
MAX_LABELLED = 40
#: Pixels needed by a two-line caption and between digit labels; below that
#: (a small dock) captions are hidden and only the winning digit is labelled.
CAPTION_PX, LABEL_PX = 26, 12


class NetworkPanel(QWidget):
    """The network diagram with an info box for the hovered or selected neuron.

    Parameters
    ----------
    state
        The application state it renders; clicking a neuron calls
        :meth:`AppState.select`.
    parent
        The parent widget.
    """

    title = "Network"
    #: "Show nudges" was switched on or off (by the user or :meth:`set_nudges_shown`).
    nudges_toggled = Signal(bool)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.node_values = np.zeros(0)  # the brightness of every node, layer 1 first
        self.winner: int | None = None
        self._hovered: tuple[int, int] | None = None
        self._label_room = True
        # Reused brushes: the spot atlas keys on the brush object.
        self._greys = [QBrush(QColor(g, g, g)) for g in range(256)]
        self._build_view()
        self.info = NeuronInfo(self)
        # Parameters and activations change together (two signals per frame):
        # the info box is refreshed once, after both.
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(0)
        self._info_timer.timeout.connect(self._refresh_info)
        self.nudge_view = DiagramNudges(state, self.viewbox, self)
        self.nudge_view.matches = self._matches
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nudge_view.bar, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.info, 0)
        self._name_for_screen_readers()
        self._connect()
        self._rebuild()
        self._restyle()

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Network")
        self.setAccessibleDescription(
            "The network as in the lessons: input image, hidden layers and outputs, live."
        )
        self.view.setAccessibleName("Network diagram")
        self.view.setAccessibleDescription(
            "Left to right the 28 by 28 input, a column of circles per hidden layer and the "
            "ten outputs; a circle's brightness is the neuron's activation, a line a weight, "
            "blue positive and red negative. Hover or click a neuron for its numbers."
        )
        check = self.nudge_view.bar.check
        check.setAccessibleName("Show nudges")
        check.setAccessibleDescription(check.toolTip())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The diagram gets the room first; the info box under it takes the rest."""
        super().resizeEvent(event)
        height = info_height(self.height(), self.nudge_view.bar.height())
        if height != self.info.height():
            self.info.setFixedHeight(height)

    # ------------------------------------------------------------------ construction
    def _build_view(self) -> None:
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        # Every frame changes items all over the view; repainting the union of
        # their many small rectangles (pyqtgraph's default) costs twice as much
        # as repainting the whole viewport (measured 11-17 ms against 6 ms).
        self.view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.viewbox = plots.still_view(self.view, lockAspect=True, invertY=True)
        self.input_image = pg.ImageItem(axisOrder="row-major")
        self.input_image.setZValue(-2)
        self.image_frame = QGraphicsRectItem()
        self.image_frame.setZValue(-1)
        # hidden -> hidden and -> output, then pixels -> layer 1 (over the image)
        self.edge_items = nd.make_edge_items(self.viewbox, nd.EDGE_ANTIALIAS, z=0)
        self.input_edge_items = nd.make_edge_items(self.viewbox, nd.INPUT_EDGE_ANTIALIAS, z=1)
        # Pixel-sized spots are drawn from a cached atlas of rendered symbols
        # (0.2 ms a frame against 1.5 ms for scene-sized ones); their sizes
        # follow the view's scale through _fit_to_scale.
        self.nodes = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=None, antialias=True)
        self.nodes.setZValue(2)
        for item in (self.input_image, self.image_frame, self.nodes):
            self.viewbox.addItem(item)
        self.output_labels: list[FastLabel] = []
        self.captions: list[FastLabel] = []

    def _connect(self) -> None:
        s = self.state
        s.network_replaced.connect(self._rebuild)
        s.params_changed.connect(self._on_params_changed)
        s.activations_changed.connect(self._on_activations_changed)
        s.selection_changed.connect(self._on_selection_changed)
        s.appearance_changed.connect(self._restyle)
        self.nodes.sigHovered.connect(self._on_hovered)
        self.nodes.sigClicked.connect(self._on_clicked)
        self.view.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.viewbox.sigTransformChanged.connect(self._fit_to_scale)
        self.nudge_view.toggled.connect(self._on_nudges_toggled)
        self.nudge_view.changed.connect(self._info_timer.start)

    # ------------------------------------------------------------------ public
    def info_text(self) -> str:
        """The info box as plain text (what a user reads under the diagram)."""
        return self.info.text()

    def node_scene_pos(self, layer: int, neuron: int) -> QPointF:
        """Scene position of a neuron's centre (``layer`` 1 = first hidden layer)."""
        i = self.diagram.node(layer, neuron)
        point: QPointF = self.viewbox.mapViewToScene(QPointF(self.diagram.x[i], self.diagram.y[i]))
        return point

    @property
    def nudges(self) -> Nudges | None:
        """The backward pass drawn on the diagram (None while nudges are off)."""
        return self.nudge_view.overlay.nudges

    def nudges_shown(self) -> bool:
        """Whether "Show nudges" is on."""
        return self.nudge_view.shown()

    def set_nudges_shown(self, shown: bool) -> None:
        """Switch the nudges on or off, as the "Show nudges" box does."""
        self.nudge_view.bar.check.setChecked(shown)

    def nudge_target(self) -> int:
        """The digit the nudges aim at: the chosen one, else the true label, else the answer."""
        return self.nudge_view.target()

    def set_nudge_target(self, target: int | None) -> None:
        """Aim the nudges at ``target`` (None: the input's true label, else the answer)."""
        self.nudge_view.chosen = target
        self.nudge_view.refresh()

    def set_nudges(self, result: Nudges | None) -> None:
        """Draw this backward pass now (None clears); while shown, changes recompute it."""
        self.nudge_view.show(result)

    # ------------------------------------------------------------------ structure
    def _rebuild(self) -> None:
        """Lay out a (maybe new) architecture: nodes, image, labels, captions."""
        net = self.state.net
        self.diagram = lay = nl.compute_layout(net.sizes)
        self._kinds = nl.layer_kinds(net.sizes, net.activation, net.cost)
        self._hovered, self.winner = None, None
        self.node_values = np.zeros(lay.n_nodes)
        self.nodes.setData(
            x=lay.x, y=lay.y, size=lay.diameter, data=np.arange(lay.n_nodes), symbol="o"
        )
        rows, cols = lay.image_shape()
        self.input_image.setImage(np.zeros((rows, cols), np.float32), levels=(0.0, 1.0))
        self.input_image.setRect(QRectF(*lay.image_rect))
        self.image_frame.setRect(QRectF(*lay.image_rect))
        x0, y0, x1, y1 = lay.bounds
        for item in (*self.edge_items.values(), *self.input_edge_items.values()):
            item.set_bounds(QRectF(x0, y0, x1 - x0, y1 - y0))
        self._make_labels()
        self.nudge_view.overlay.set_layout(lay, net.cost)
        self._fit_range()
        self.viewbox.setToolTip(legend_tooltip(net))
        self._fit_to_scale()
        self._apply_pens()
        self._on_params_changed()
        self._on_activations_changed()

    def _fit_range(self) -> None:
        """The whole diagram, with room for the output arrows while nudges are shown."""
        x0, y0, x1, y1 = self.diagram.bounds
        x1 += ARROW_ROOM if self.nudges_shown() else 0.0
        self.viewbox.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0)

    def _fit_to_scale(self, *_args: Any) -> None:
        """Spot sizes in pixels for the view's scale; hide text that would collide."""
        unit = self.viewbox.viewPixelSize()[0]  # view units per pixel
        if not (unit > 0 and np.isfinite(unit)):
            return
        px = 1.0 / unit
        roomy = nl.CAPTION_ROOM * px >= CAPTION_PX and nl.COLUMN_GAP * px >= CAPTION_PX * 2.5
        for caption in self.captions:
            caption.setVisible(roomy)
        label_room = nl.column_shape(self.diagram.sizes[-1])[2] * px >= LABEL_PX
        if label_room != self._label_room:
            self._label_room = label_room
            self._style_labels()
        sizes = np.maximum(np.round(self.diagram.diameter * px), 3.0)
        if not np.array_equal(sizes, self.nodes.data["size"]):
            self.nodes.setSize(sizes)
        self.nudge_view.overlay.fit_to_scale(px)

    def _make_labels(self) -> None:
        """Digit labels beside the output layer and a caption under each column."""
        for item in self.output_labels + self.captions:
            self.viewbox.removeItem(item)
        foreground = theme.plot_colours(self.state.dark)[1]
        self.output_labels = nd.output_labels(self.viewbox, self.diagram, MAX_LABELLED)
        self.captions = nd.captions(self.viewbox, self.diagram, foreground)

    def _matches(self) -> bool:
        """Whether net, activations and layout agree (not mid-replacement)."""
        sizes = self.diagram.sizes
        acts = self.state.activations
        return self.state.net.sizes == sizes and tuple(a.size for a in acts) == sizes

    # ------------------------------------------------------------------ per frame
    @while_visible
    def _on_params_changed(self) -> None:
        self._update_edges()
        self._info_timer.start()
        self.nudge_view.refresh_soon()  # once, unless activations_changed follows at once

    @while_visible
    def _on_activations_changed(self) -> None:
        self._update_nodes()
        self._info_timer.start()
        if self.nudges_shown():
            self.nudge_view.refresh()

    def _on_nudges_toggled(self, shown: bool) -> None:
        self._fit_range()
        self.nudges_toggled.emit(shown)

    def _update_edges(self) -> None:
        """Move every edge into its (sign, magnitude) item; positions are fixed."""
        net = self.state.net
        if net.sizes != self.diagram.sizes:
            return
        seg = nl.edge_segments(self.diagram, net.weights)
        from_input = seg.layer == 0
        for items, part in ((self.edge_items, ~from_input), (self.input_edge_items, from_input)):
            for (sign, b), item in items.items():
                item.set_segments(*nl.pairs_xy(seg.xy[part & (seg.sign == sign) & (seg.bin == b)]))

    def _update_nodes(self) -> None:
        """Node brightness, the input image and the winning output."""
        if not self._matches():
            return
        acts = self.state.activations
        values = [nl.brightness(a, kind) for a, kind in zip(acts[1:], self._kinds, strict=True)]
        self.node_values = np.concatenate(values)
        levels = np.rint(self.node_values * 255).astype(np.intp)
        self.nodes.setBrush([self._greys[g] for g in levels])
        rows, cols = self.diagram.image_shape()
        pixels = np.zeros(rows * cols, np.float32)
        pixels[: acts[0].size] = acts[0]
        self.input_image.setImage(pixels.reshape(rows, cols), levels=(0.0, 1.0))
        self._mark_winner(int(np.argmax(acts[-1])))

    def _mark_winner(self, winner: int) -> None:
        if winner == self.winner:
            return
        self.winner = winner
        self._style_labels()

    def _style_labels(self) -> None:
        foreground = theme.plot_colours(self.state.dark)[1]
        nd.style_output_labels(self.output_labels, self.winner, self._label_room, foreground)

    # ------------------------------------------------------------------ selection and hover
    def _apply_pens(self) -> None:
        """Thin outlines, and a highlight ring on the selected neuron."""
        outline = QColor(150, 150, 150) if self.state.dark else QColor(110, 110, 110)
        pens = [pg.mkPen(outline, width=1)] * self.diagram.n_nodes
        selected = self.state.selected
        if selected is not None and self._valid(*selected):
            pens[self.diagram.node(*selected)] = pg.mkPen(theme.HIGHLIGHT, width=3.5)
        self.nodes.setPen(pens)
        self.nodes.opts["hoverPen"] = pg.mkPen(outline.lighter(160), width=2.5)

    def _valid(self, layer: int, neuron: int) -> bool:
        sizes = self.diagram.sizes
        return 1 <= layer < len(sizes) and 0 <= neuron < sizes[layer]

    def _node_of(self, points: Any) -> tuple[int, int] | None:
        if len(points) == 0:
            return None
        i = int(points[0].data())
        return int(self.diagram.layer[i]), int(self.diagram.index[i])

    def _on_hovered(self, _item: Any, points: Any, _event: Any) -> None:
        hovered = self._node_of(points)
        if hovered != self._hovered:
            self._hovered = hovered
            self._refresh_info()

    def _on_clicked(self, _item: Any, points: Any, _event: Any) -> None:
        node = self._node_of(points)
        if node is not None:
            self.state.select(*node)

    def _on_scene_clicked(self, event: Any) -> None:
        """A left click that no neuron took clears the selection."""
        left = event.button() == Qt.MouseButton.LeftButton
        if left and not event.isAccepted() and self.state.selected is not None:
            self.state.select(-1, -1)

    def _on_selection_changed(self, _layer: int, _neuron: int) -> None:
        self._apply_pens()
        self._refresh_info()

    def _refresh_info(self) -> None:
        target = self._hovered or self.state.selected
        if target is None or not self._valid(*target) or not self._matches():
            shown = self.nudges is not None
            self.info.show_hint(hint_lines(self.state.net, self.state.colour_blind, shown))
            return
        layer, neuron = target
        notes = []
        if target == self.state.selected:
            notes.append("selected")
        if layer == len(self.diagram.sizes) - 1 and neuron == self.winner:
            notes.append("the network's answer")
        net, acts = self.state.net, self.state.activations
        extra = None if self.nudges is None else ni.wish_line(self.nudges, layer, neuron, net.cost)
        self.info.show_neuron(net, acts, layer, neuron, note=", ".join(notes), extra=extra)

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        """Palette and colour map: background, edges, outlines, labels, info box."""
        dark, colour_blind = self.state.dark, self.state.colour_blind
        _, foreground = plots.restyle(self.view, dark)
        nd.restyle_edges(self.edge_items, False, dark, colour_blind)
        nd.restyle_edges(self.input_edge_items, True, dark, colour_blind)
        self.image_frame.setPen(pg.mkPen(foreground, width=1))
        for caption in self.captions:
            caption.setColor(foreground)
        self._style_labels()
        self._apply_pens()
        self.info.restyle(dark, colour_blind)
        self.nudge_view.overlay.restyle(dark, colour_blind)
        self.set_nudges(self.nudges)  # the legend's colours
        self._refresh_info()

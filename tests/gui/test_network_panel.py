"""The network panel: node brightness, edges, live updates, hover and click, layouts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor

from nnviz.core.backprop import nudges
from nnviz.core.datasets import Dataset
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.snapshot import Snapshot
from nnviz.gui import theme
from nnviz.gui.panels.network import NetworkPanel
from nnviz.gui.panels.network import layout as nl
from nnviz.gui.panels.network import nudges as nn
from nnviz.gui.panels.network.diagram import EDGE_ALPHAS, EdgeBatch
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path


@pytest.fixture(scope="module")
def trained(mnist: Dataset) -> Network:
    """784-16-16-10 after 600 mini-batches on real MNIST (about 90% right)."""
    net = MODERN.network((784, 16, 16, 10))
    Trainer(net, mnist.train_x, mnist.train_y, MODERN.train_config()).step(600)
    return net


@pytest.fixture
def state(trained: Network, mnist: Dataset) -> AppState:
    state = AppState(trained.copy())
    state.set_input(mnist.test_x[0], int(mnist.test_y[0]))
    return state


@pytest.fixture
def panel(qtbot, state: AppState) -> Iterator[NetworkPanel]:
    widget = NetworkPanel(state)
    qtbot.addWidget(widget)
    widget.resize(600, 460)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def viewport_pos(panel: NetworkPanel, layer: int, neuron: int) -> QPoint:
    """Where a neuron's centre is on the diagram's viewport, in pixels."""
    return panel.view.mapFromScene(panel.node_scene_pos(layer, neuron))


def hover(qtbot, viewport, pos: QPoint) -> None:
    """Move the mouse to ``pos``; pyqtgraph drops moves closer than 10 ms apart."""
    qtbot.wait(25)
    qtbot.mouseMove(viewport, pos)


def number(text: str, name: str) -> float:
    """The number at the end of the info line starting with ``name``."""
    match = re.search(rf"^{re.escape(name)}.*= (-?\d+\.\d+)", text, re.MULTILINE)
    assert match, f"no line {name!r} in:\n{text}"
    return float(match.group(1))


def segments(items: dict) -> dict[tuple[int, int], np.ndarray]:  # type: ignore[type-arg]
    """``(E, 4)`` segments ``x0, y0, x1, y1`` drawn by each (sign, bin) item."""
    out = {}
    for key, item in items.items():
        x, y = item.getData()
        x = np.zeros(0) if x is None else x
        y = np.zeros(0) if y is None else y
        out[key] = np.stack([x[0::2], y[0::2], x[1::2], y[1::2]], axis=1)
    return out


def node_index(panel: NetworkPanel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The node number at each of the points ``(x, y)`` (exact node centres)."""
    lay = panel.diagram
    d = np.hypot(x[:, None] - lay.x[None, :], y[:, None] - lay.y[None, :])
    assert np.all(d.min(axis=1) < 1e-9), "an edge does not end at a node centre"
    return d.argmin(axis=1)


def hidden_pairs(panel: NetworkPanel, sign: int) -> set[tuple[int, int, int]]:
    """``(weight layer, source neuron, target neuron)`` of the drawn hidden edges."""
    lay, pairs = panel.diagram, set()
    for (s, _b), seg in segments(panel.edge_items).items():
        if s != sign or len(seg) == 0:
            continue
        src = node_index(panel, seg[:, 0], seg[:, 1])
        dst = node_index(panel, seg[:, 2], seg[:, 3])
        for i, j in zip(src, dst, strict=True):
            pairs.add((int(lay.layer[i]), int(lay.index[i]), int(lay.index[j])))
    return pairs


def expected_pairs(net: Network, sign: int) -> set[tuple[int, int, int]]:
    """The same triples from the weights: every ``w > 0`` (or ``< 0``) after layer 1."""
    pairs = set()
    for l, w in enumerate(net.weights[1:], start=1):
        for i, j in zip(*np.nonzero(np.sign(w) == sign), strict=True):
            pairs.add((l, int(i), int(j)))
    return pairs


# ---------------------------------------------------------------------- nodes
def test_node_brightness_is_the_activation(panel: NetworkPanel, state: AppState, mnist: Dataset):
    for k in (0, 1, 2):
        state.set_input(mnist.test_x[k], int(mnist.test_y[k]))
        acts = np.concatenate(state.activations[1:])  # sigmoid hidden, softmax output
        assert np.allclose(panel.node_values, acts, atol=1e-6)
        greys = np.array([b.color().red() for b in panel.nodes.data["brush"]])
        assert np.array_equal(greys, np.rint(acts * 255).astype(int))
        image = panel.input_image.image
        assert np.array_equal(image, mnist.test_x[k].reshape(28, 28))
        assert panel.winner == int(np.argmax(state.activations[-1]))


def test_winner_label_moves_with_the_prediction(
    panel: NetworkPanel, state: AppState, mnist: Dataset
):
    seen = set()
    for k in range(12):
        state.set_input(mnist.test_x[k])
        marked = [
            j
            for j, label in enumerate(panel.output_labels)
            if label.is_bold() and label.plate() is not None
        ]
        assert marked == [state.prediction]
        seen.add(state.prediction)
    assert len(seen) >= 3  # the mark really moved between digits


def test_relu_brightness_is_scaled_by_the_layer_maximum(qtbot):
    net = Network((784, 16, 16, 10), activation="relu", cost="cross_entropy", seed=3)
    state = AppState(net)
    state.set_input(np.random.default_rng(0).random(784))
    panel = NetworkPanel(state)
    qtbot.addWidget(panel)
    hidden = state.activations[1]
    assert hidden.max() > 1.0  # unbounded, so it must be scaled
    first = panel.node_values[:16]
    assert np.allclose(first, hidden / hidden.max())
    assert "ReLU" in panel.viewbox.toolTip()


# ---------------------------------------------------------------------- edges
def test_hidden_edges_are_binned_by_sign_and_magnitude(panel: NetworkPanel, state: AppState):
    net = state.net
    for sign in (1, -1):
        assert hidden_pairs(panel, sign) == expected_pairs(net, sign)
    n_positive = sum(int((w > 0).sum()) for w in net.weights[1:])
    drawn = sum(len(s) for (sign, _), s in segments(panel.edge_items).items() if sign == 1)
    assert drawn == n_positive
    # Each edge sits in the bin of its |w| relative to its layer's largest.
    lay = panel.diagram
    for (_sign, b), seg in segments(panel.edge_items).items():
        if len(seg) == 0:
            continue
        src = node_index(panel, seg[:, 0], seg[:, 1])
        dst = node_index(panel, seg[:, 2], seg[:, 3])
        l = lay.layer[src]
        for li, i, j in zip(l, lay.index[src], lay.index[dst], strict=True):
            w = net.weights[li]
            rel = abs(w[i, j]) / np.abs(w).max()
            assert min(int(rel * nl.N_BINS), nl.N_BINS - 1) == b
    widths = [panel.edge_items[1, b].pen().widthF() for b in range(nl.N_BINS)]
    assert widths == sorted(widths) and widths[-1] > widths[0]


def test_input_edges_are_the_strongest_pixels(panel: NetworkPanel, state: AppState):
    w0 = state.net.weights[0]  # (784, 16)
    k = nl.input_edges_per_neuron(16)
    assert 3 <= k <= 5
    px, py = panel.diagram.pixel_centres
    drawn: dict[int, set[int]] = {j: set() for j in range(16)}
    for (sign, _b), seg in segments(panel.input_edge_items).items():
        if len(seg) == 0:
            continue
        pixel = np.hypot(seg[:, :1] - px[None, :], seg[:, 1:2] - py[None, :]).argmin(axis=1)
        assert np.allclose(px[pixel], seg[:, 0]) and np.allclose(py[pixel], seg[:, 1])
        target = node_index(panel, seg[:, 2], seg[:, 3])
        assert np.all(panel.diagram.layer[target] == 1)
        for p, j in zip(pixel, panel.diagram.index[target], strict=True):
            assert np.sign(w0[p, j]) == sign
            drawn[int(j)].add(int(p))
    for j, pixels in drawn.items():
        assert len(pixels) == k
        strongest = set(np.argsort(np.abs(w0[:, j]))[-k:].tolist())
        assert pixels == strongest


def test_edges_follow_new_parameters(panel: NetworkPanel, state: AppState, qtbot):
    before = segments(panel.edge_items)
    # A snapshot from the worker with every weight's sign flipped.
    net = state.net
    snapshot = Snapshot(
        generation=state.generation,
        sizes=net.sizes,
        activation=net.activation,
        cost=net.cost,
        theta=-net.theta.copy(),
    )
    with qtbot.waitSignal(state.params_changed):
        state.apply_snapshot(snapshot)
    after = segments(panel.edge_items)
    for b in range(nl.N_BINS):
        assert np.array_equal(after[1, b], before[-1, b])
        assert np.array_equal(after[-1, b], before[1, b])
    assert hidden_pairs(panel, 1) == expected_pairs(state.net, 1)
    # A direct change of theta announced with params_changed.
    state.net.theta = np.random.default_rng(5).standard_normal(net.n_params)
    state.params_changed.emit()
    assert hidden_pairs(panel, -1) == expected_pairs(state.net, -1)
    assert hidden_pairs(panel, -1) != hidden_pairs(panel, 1)


# ---------------------------------------------------------------------- hover and click
def test_clicking_a_first_layer_neuron_selects_it(panel: NetworkPanel, state: AppState, qtbot):
    j = 5
    qtbot.mouseClick(
        panel.view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos(panel, 1, j)
    )
    assert state.selected == (1, j)
    text = panel.info_text()
    assert text.startswith(f"Hidden layer 1, neuron {j}")
    w, b = state.net.weights[0][:, j], float(state.net.biases[0][j])
    z = float(state.activations[0].astype(np.float64) @ w.astype(np.float64) + b)
    assert number(text, "bias b") == pytest.approx(b, abs=1e-4)
    assert number(text, "weighted sum z") == pytest.approx(z, abs=1e-3)
    assert number(text, "activation a") == pytest.approx(float(state.activations[1][j]), abs=1e-4)
    assert number(text, "activation a") == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-4)
    assert np.array_equal(panel.info.weight_image.image, w.reshape(28, 28))
    assert panel.info.stack.currentWidget() is panel.info.image_view
    pen = panel.nodes.data["pen"][panel.diagram.node(1, j)]
    assert pen.color().rgb() == theme.HIGHLIGHT.rgb() and pen.widthF() > 2
    # Clicking empty space (above the first column) clears the selection.
    empty = panel.view.mapFromScene(panel.viewbox.mapViewToScene(QPointF(0.7, 0.02)))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert state.selected is None
    assert panel.info_text().startswith("Hover over a neuron")


def test_hover_shows_a_neuron_and_keeps_the_selection(
    panel: NetworkPanel,
    state: AppState,
    qtbot,
):
    state.select(1, 2)
    viewport = panel.view.viewport()
    hover(qtbot, viewport, viewport_pos(panel, 3, 4))
    qtbot.waitUntil(lambda: panel.info_text().startswith("Output 4"))
    assert number(panel.info_text(), "activation a") == pytest.approx(
        float(state.activations[3][4]), abs=1e-4
    )
    assert state.selected == (1, 2)  # hovering does not select
    ring = panel.nodes.data["pen"][panel.diagram.node(1, 2)]
    assert ring.color().rgb() == theme.HIGHLIGHT.rgb()
    empty = panel.view.mapFromScene(panel.viewbox.mapViewToScene(QPointF(1.2, 0.03)))
    hover(qtbot, viewport, empty)
    qtbot.waitUntil(lambda: panel.info_text().startswith("Hidden layer 1, neuron 2 (selected"))


def test_selection_from_elsewhere_shows_that_neuron(panel: NetworkPanel, state: AppState):
    state.select(2, 3)
    text = panel.info_text()
    assert text.startswith("Hidden layer 2, neuron 3")
    w = state.net.weights[1][:, 3]
    z = float(state.activations[1].astype(np.float64) @ w + state.net.biases[1][3])
    assert number(text, "weighted sum z") == pytest.approx(z, abs=1e-3)
    assert panel.info.stack.currentWidget() is panel.info.bar_view
    assert np.allclose(panel.info.bars.opts["height"], w)
    assert panel.nodes.data["pen"][panel.diagram.node(2, 3)].color().rgb() == theme.HIGHLIGHT.rgb()
    state.select(-1, -1)
    assert panel.nodes.data["pen"][panel.diagram.node(2, 3)].color().rgb() != theme.HIGHLIGHT.rgb()


def test_info_follows_training(panel: NetworkPanel, state: AppState, qtbot):
    state.select(1, 0)
    new = state.net.theta * 0.5
    state.apply_snapshot(
        Snapshot(state.generation, state.net.sizes, state.net.activation, state.net.cost, new)
    )
    b = float(state.net.biases[0][0])
    qtbot.waitUntil(lambda: number(panel.info_text(), "bias b") == pytest.approx(b, abs=1e-4))
    assert np.array_equal(panel.info.weight_image.image, state.net.weights[0][:, 0].reshape(28, 28))


# ---------------------------------------------------------------------- architectures and looks
@pytest.mark.parametrize("sizes", [(784, 32, 10), (784, 16, 16, 16, 10), (784, 100, 10)])
def test_other_architectures_render(panel: NetworkPanel, state: AppState, sizes, mnist):
    state.set_network(Network(sizes, cost="cross_entropy", init="scaled", seed=1))
    state.set_input(mnist.test_x[3])
    lay = panel.diagram
    assert lay.n_nodes == sum(sizes[1:])
    for l, n in enumerate(sizes[1:], start=1):
        assert int((lay.layer == l).sum()) == n
    assert np.allclose(panel.node_values[-10:], state.activations[-1], atol=1e-6)
    # Nodes never overlap, however many there are.
    d = np.hypot(lay.x[:, None] - lay.x[None, :], lay.y[:, None] - lay.y[None, :])
    np.fill_diagonal(d, np.inf)
    assert np.all(d >= lay.diameter[:, None])
    drawn = hidden_pairs(panel, 1) | hidden_pairs(panel, -1)
    for l, w in enumerate(state.net.weights[1:], start=1):
        pairs = {(i, j) for (layer, i, j) in drawn if layer == l}
        if w.size <= nl.MAX_DENSE_EDGES:  # small layers: every weight
            assert pairs == {(int(i), int(j)) for i, j in zip(*np.nonzero(w), strict=True)}
            continue
        # Large layers (100 -> 10): the strongest few into every neuron.
        assert 0 < len(pairs) <= nl.MAX_DENSE_EDGES
        per_neuron = min(nl.HIDDEN_EDGES_PER_NEURON, nl.MAX_DENSE_EDGES // w.shape[1])
        for j in range(w.shape[1]):
            sources = {i for (i, jj) in pairs if jj == j}
            assert len(sources) == per_neuron
            assert sources == set(np.argsort(np.abs(w[:, j]))[-len(sources) :].tolist())
        assert "only the strongest weights" in panel.viewbox.toolTip()
    n_input = sum(len(s) for s in segments(panel.input_edge_items).values())
    assert n_input == sizes[1] * nl.input_edges_per_neuron(sizes[1])
    assert n_input <= 4 * sizes[1]
    assert not panel.grab().isNull()
    assert len(panel.output_labels) == 10
    _, foreground = theme.plot_colours(False)
    loser = panel.output_labels[(state.prediction + 1) % 10]
    for item in [*panel.captions, loser]:
        assert item.color().rgb() == foreground.rgb()


def test_rendered_nodes_show_their_brightness(panel: NetworkPanel, state: AppState):
    image = panel.view.grab().toImage()
    values = panel.node_values
    bright, dark = int(np.argmax(values)), int(np.argmin(values))
    lay = panel.diagram
    for i, expect_bright in ((bright, True), (dark, False)):
        pos = (
            panel.view.mapFromScene(panel.viewbox.mapViewToScene(QPointF(lay.x[i], lay.y[i])))
            * panel.view.devicePixelRatioF()
        )
        grey = QColor(image.pixel(pos)).lightness()
        assert (grey > 200) if expect_bright else (grey < 60)


def test_colour_blind_and_dark_restyle(panel: NetworkPanel, state: AppState):
    def pens() -> list[int]:
        return [item.pen().color().rgb() & 0xFFFFFF for item in panel.edge_items.values()]

    def faint(colour: QColor) -> int:
        """The weakest bin's colour: pre-blended over the white background (opaque)."""
        white = theme.plot_colours(False)[0]
        return theme.blend(colour, white, EDGE_ALPHAS[0]).rgb() & 0xFFFFFF

    positive, _ = theme.sign_colours(False)
    assert pens()[0] == faint(positive)
    before = pens()
    state.set_appearance(colour_blind=True)
    after = pens()
    assert after != before
    positive_cb, negative_cb = theme.sign_colours(True)
    assert panel.edge_items[1, 0].pen().color().rgb() & 0xFFFFFF == faint(positive_cb)
    assert panel.edge_items[-1, 0].pen().color().rgb() & 0xFFFFFF == faint(negative_cb)
    assert "purple" in panel.info_text()
    state.set_appearance(dark=True)
    background, _ = theme.plot_colours(True)
    assert panel.view.backgroundBrush().color().rgb() == background.rgb()
    assert not panel.grab().isNull()


def test_small_panel_hides_text_that_would_collide(panel: NetworkPanel, state: AppState, qtbot):
    state.select(2, 1)
    assert all(c.isVisible() for c in panel.captions)
    assert all(label.isVisible() for label in panel.output_labels)
    assert panel.info.stack.isVisible()
    panel.resize(340, 280)
    qtbot.waitUntil(lambda: not any(c.isVisible() for c in panel.captions))
    shown = [j for j, label in enumerate(panel.output_labels) if label.isVisible()]
    assert shown == [state.prediction]
    assert not panel.info.stack.isVisible()  # the text keeps the narrow box
    assert panel.info_text().startswith("Hidden layer 2, neuron 1")
    panel.resize(640, 480)
    qtbot.waitUntil(lambda: all(c.isVisible() for c in panel.captions))
    assert all(label.isVisible() for label in panel.output_labels)
    assert panel.info.stack.isVisible()


# ---------------------------------------------------------------------- backprop nudges
@pytest.fixture(scope="module")
def bundled() -> Network:
    """The trained model that ships with nnviz (784-16-16-10, cross-entropy)."""
    return load_model(bundled_model_path())[0]


@pytest.fixture
def nudged(qtbot, bundled: Network, mnist: Dataset) -> Iterator[NetworkPanel]:
    """The bundled model on test digit 0 (a 7) with "Show nudges" on."""
    state = AppState(bundled.copy())
    state.set_input(mnist.test_x[0], int(mnist.test_y[0]))
    widget = NetworkPanel(state)
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_nudges_shown(True)
    yield widget


def drawn_bars(panel: NetworkPanel) -> dict[int, np.ndarray]:
    """Per sign, the output bars drawn: ``(E, 4)`` segments ``x0, y0, x1, y1``."""
    return segments(panel.nudge_view.overlay.shafts)


def check_nudges_drawn(panel: NetworkPanel, target: int) -> None:
    """Bars and halos on the diagram equal core.backprop's nudges for ``target``."""
    state = panel.state
    expected = nudges(state.net, state.input, target)
    drawn = panel.nudges
    assert drawn is not None and drawn.target == target
    assert drawn.cost == pytest.approx(expected.cost, rel=1e-12)
    lay = panel.diagram
    wish = expected.wish_out
    outputs = lay.node(3, 0) + np.arange(10)
    bars = drawn_bars(panel)
    for sign in (1, -1):
        rows = np.flatnonzero(np.sign(wish) == sign)
        seg = bars[sign]
        # One horizontal bar per output wishing that way, on its row...
        assert np.allclose(seg[:, 1], seg[:, 3])
        row_of = np.abs(seg[:, 1:2] - lay.y[outputs][None, :]).argmin(axis=1)
        assert set(row_of.tolist()) <= set(rows.tolist())
        # ...whose length is |wish| of a full bar (softmax: the largest wish is 1).
        length = (seg[:, 2] - seg[:, 0]) / nn.BAR_MAX
        assert np.allclose(length, np.abs(wish[row_of]), atol=1e-9)
        assert len(row_of) == int(np.sum(np.abs(wish[rows]) * nn.BAR_MAX * panel_px(panel) >= 0.5))
    heads = panel.nudge_view.overlay.heads
    up = [s for s in heads.data["symbol"] if s == "t1"]
    assert len(up) <= 1  # only the target can want to go up (softmax)
    # Halos: diameter = node * (1 + growth * |wish| / layer max), coloured by sign.
    halos = panel.nudge_view.overlay.halos.data
    positive, negative = theme.sign_colours(False)
    node_px = np.maximum(np.round(lay.diameter[:32] * panel_px(panel)), 3.0)
    rel = (halos["size"] / node_px - 1.0) / nn.HALO_GROWTH
    for l, part in ((1, slice(0, 16)), (2, slice(16, 32))):
        w = expected.wish(l)
        assert np.allclose(rel[part], np.abs(w) / np.abs(w).max(), atol=1e-9)
        colours = [b.color().rgb() & 0xFFFFFF for b in halos["brush"][part]]
        want = [(positive if v > 0 else negative).rgb() & 0xFFFFFF for v in w]
        assert colours == want


def panel_px(panel: NetworkPanel) -> float:
    """Pixels per view unit of the diagram."""
    return 1.0 / panel.viewbox.viewPixelSize()[0]


def test_nudges_cost_nothing_while_off(panel: NetworkPanel, state: AppState, mnist: Dataset):
    assert not panel.nudges_shown() and panel.nudges is None
    state.set_input(mnist.test_x[5], int(mnist.test_y[5]))
    assert panel.nudges is None
    assert not any(item.isVisible() for item in panel.nudge_view.overlay.items())
    assert panel.nudge_view.bar.legend_text() == ""


def test_nudges_match_backprop_for_the_true_and_another_target(
    nudged: NetworkPanel, mnist: Dataset
):
    label = int(mnist.test_y[0])
    assert nudged.nudge_target() == label
    check_nudges_drawn(nudged, label)
    assert f"towards <b>{label}</b> (true label)" in nudged.nudge_view.bar.legend_text()
    # The bundled model gets this 7 right: tiny bars. Another target: big ones.
    small = drawn_bars(nudged)
    assert max(float(np.max(s[:, 2] - s[:, 0], initial=0)) for s in small.values()) < 0.01
    other = (label + 3) % 10
    nudged.set_nudge_target(other)
    check_nudges_drawn(nudged, other)
    up = drawn_bars(nudged)[1]
    assert len(up) == 1 and (up[0, 2] - up[0, 0]) > 0.9 * nn.BAR_MAX
    assert "(chosen)" in nudged.nudge_view.bar.legend_text()
    nudged.set_nudge_target(None)
    assert nudged.nudges.target == label


def test_show_nudges_box_is_a_real_switch(nudged: NetworkPanel, qtbot):
    check = nudged.nudge_view.bar.check
    with qtbot.waitSignal(nudged.nudges_toggled) as blocker:
        qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    assert nudged.nudges is None
    assert not nudged.nudge_view.overlay.halos.isVisible()
    x_range = nudged.viewbox.viewRange()[0]
    with qtbot.waitSignal(nudged.nudges_toggled) as blocker:
        qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]
    assert nudged.nudges is not None and nudged.nudge_view.overlay.halos.isVisible()
    # Room for the bars: the whole diagram plus the bars stays in view.
    assert nudged.viewbox.viewRange()[0][1] > x_range[1]
    full = drawn_bars(nudged)
    right = max(float(np.max(s[:, 2], initial=0)) for s in full.values())
    assert right <= nudged.viewbox.viewRange()[0][1]


def test_nudges_follow_the_weights_and_the_input(nudged: NetworkPanel, mnist: Dataset, qtbot):
    state = nudged.state
    state.set_input(mnist.test_x[1], int(mnist.test_y[1]))
    check_nudges_drawn(nudged, int(mnist.test_y[1]))
    net = state.net
    theta = net.theta * 0.5
    state.apply_snapshot(Snapshot(state.generation, net.sizes, net.activation, net.cost, theta))
    check_nudges_drawn(nudged, int(mnist.test_y[1]))
    # New weights announced alone are picked up on the next pass of the event loop.
    before = nudged.nudges
    state.net.theta = theta * 1.5
    state.params_changed.emit()
    qtbot.waitUntil(lambda: nudged.nudges is not before)
    check_nudges_drawn(nudged, int(mnist.test_y[1]))
    # A drawing has no label: the nudges aim at the network's answer.
    state.set_input(mnist.test_x[2] * 0.9)
    assert nudged.nudges.target == state.prediction
    assert "the network's answer" in nudged.nudge_view.bar.legend_text()


def test_rendered_bar_of_the_target_is_blue(nudged: NetworkPanel, mnist: Dataset):
    other = (int(mnist.test_y[0]) + 4) % 10
    nudged.set_nudge_target(other)
    seg = drawn_bars(nudged)[1][0]
    image = nudged.view.grab().toImage()
    middle = QPointF((seg[0] + seg[2]) / 2, seg[1])
    pos = nudged.view.mapFromScene(nudged.viewbox.mapViewToScene(middle))
    colour = QColor(image.pixel(pos * nudged.view.devicePixelRatioF()))
    positive, _ = theme.sign_colours(False)
    assert abs(colour.red() - positive.red()) < 30 and abs(colour.blue() - positive.blue()) < 30


def test_hovering_with_nudges_tells_the_wish(nudged: NetworkPanel, qtbot):
    nudged.state.select(2, 4)
    text = nudged.info_text()
    wish = float(nudged.nudges.wish(2)[4])
    line = next(t for t in text.splitlines() if t.startswith("wish"))
    assert float(line.split("= ")[1].split(":")[0]) == pytest.approx(wish, abs=1e-4)
    assert ("wants up" in line) == (wish > 0)
    nudged.state.select(-1, -1)
    assert "Nudges:" in nudged.info_text()


@pytest.mark.parametrize("sizes", [(784, 32, 10), (784, 16, 16, 16, 10)])
def test_nudges_on_other_architectures(nudged: NetworkPanel, sizes, mnist: Dataset):
    state = nudged.state
    state.set_network(Network(sizes, cost="quadratic", init="scaled", seed=2))
    state.set_input(mnist.test_x[4], int(mnist.test_y[4]))
    expected = nudges(state.net, state.input, int(mnist.test_y[4]))
    halos = nudged.nudge_view.overlay.halos.data
    assert len(halos) == sum(sizes[1:-1])
    lay = nudged.diagram
    assert np.allclose(halos["x"], lay.x[: len(halos)])
    bars = drawn_bars(nudged)
    lengths = np.concatenate([s[:, 2] - s[:, 0] for s in bars.values()])
    # Quadratic cost: the wish is 2 (y - a), a full bar is 2.
    drawn = np.sort(lengths / nn.BAR_MAX * 2.0)
    wish = np.abs(expected.wish_out)
    assert np.allclose(drawn, np.sort(wish[wish * nn.BAR_MAX / 2 * panel_px(nudged) >= 0.5]))
    assert not nudged.grab().isNull()


def test_edge_batch_holds_its_segments_inside_fixed_bounds(qtbot) -> None:
    bounds = QRectF(-0.02, -0.02, 1.5, 1.1)
    item = EdgeBatch(antialias=True, bounds=bounds)
    assert item.boundingRect() == bounds  # never recomputed from the data
    with pytest.raises(ValueError, match="segment ends"):
        item.set_segments(np.zeros(3), np.zeros(3))  # half a segment
    x, y = np.array([0.0, 1.0, 0.5, 0.5]), np.array([0.0, 1.0, 0.0, 1.0])
    item.set_segments(x, y)
    np.testing.assert_array_equal(item.getData()[0], x)
    np.testing.assert_array_equal(item.getData()[1], y)
    item.set_bounds(QRectF(0, 0, 2, 2))
    assert item.boundingRect() == QRectF(0, 0, 2, 2)

"""The Backprop panel: output wishes, a neuron's wish by source, gradients, one SGD step."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnviz.core.backprop import nudges, single_example_step, wish_sources
from nnviz.core.datasets import Dataset
from nnviz.core.errors import plain_number
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.engine.snapshot import Snapshot
from nnviz.gui import theme
from nnviz.gui.panels.backprop import BackpropPanel
from nnviz.gui.panels.backprop.panel import DEFAULT_ETA, REFRESH_MS
from nnviz.gui.panels.network import NetworkPanel
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path


@pytest.fixture(scope="module")
def bundled() -> Network:
    return load_model(bundled_model_path())[0]


@pytest.fixture
def state(bundled: Network, mnist: Dataset) -> AppState:
    state = AppState(bundled.copy())
    state.set_input(mnist.test_x[0], int(mnist.test_y[0]))  # a 7, answered right
    return state


@pytest.fixture
def network(qtbot, state: AppState) -> NetworkPanel:
    widget = NetworkPanel(state)
    qtbot.addWidget(widget)
    widget.resize(600, 460)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def panel(qtbot, state: AppState, network: NetworkPanel) -> Iterator[BackpropPanel]:
    widget = BackpropPanel(state, network)
    qtbot.addWidget(widget)
    widget.resize(520, 560)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# ---------------------------------------------------------------------- the example
def test_output_wishes_and_cost_are_backprops(panel: BackpropPanel, state: AppState):
    expected = nudges(state.net, state.input, 7)
    assert panel.target() == 7
    assert np.allclose(panel.wish_plot.heights(), expected.wish_out, atol=1e-12)
    assert panel.nudges is not None and panel.nudges.cost == pytest.approx(expected.cost)
    assert f"C = <b>{plain_number(expected.cost)}</b>" in panel.summary.text()
    assert "true label 7" in panel.summary.text()
    assert panel.target_combo.itemText(0) == "true label (7)"
    # Another target: up for it, down for the rest, sizes from backprop.
    panel.set_target(2)
    expected = nudges(state.net, state.input, 2)
    heights = panel.wish_plot.heights()
    assert np.allclose(heights, expected.wish_out, atol=1e-12)
    assert heights[2] > 0.9 and np.all(np.delete(heights, 2) <= 0)
    brushes = panel.wish_plot.bars.opts["brushes"]
    positive, negative = theme.sign_colours(False)
    assert brushes[2].rgb() == positive.rgb() and brushes[7].rgb() == negative.rgb()


def test_the_target_aims_the_networks_nudges_too(
    panel: BackpropPanel, network: NetworkPanel, qtbot
):
    click(qtbot, panel.show_check)
    assert network.nudges_shown() and network.nudges is not None
    assert network.nudges.target == 7
    panel.target_combo.setCurrentIndex(4)  # digit 3
    assert panel.target() == 3 and network.nudges.target == 3
    assert np.array_equal(network.nudges.wish_out, panel.nudges.wish_out)
    network.set_nudges_shown(False)  # from the other side
    assert not panel.show_check.isChecked()


def test_a_drawing_aims_at_the_networks_answer(panel: BackpropPanel, state: AppState, mnist):
    state.set_input(mnist.test_x[3] * 0.8)  # no label
    assert panel.target() == state.prediction
    assert panel.target_combo.itemText(0) == f"its answer ({state.prediction})"
    assert "drawing (no label)" in panel.summary.text()


# ---------------------------------------------------------------------- the selected neuron
@pytest.mark.parametrize(("layer", "j"), [(2, 3), (1, 9)])
def test_a_hidden_wish_is_the_sum_of_its_sources(
    panel: BackpropPanel, state: AppState, layer: int, j: int
):
    panel.set_target(4)
    state.select(layer, j)
    expected = nudges(state.net, state.input, 4)
    sources = -wish_sources(expected, layer, j)
    bars = panel.source_plot.heights()
    assert bars.size == state.net.sizes[layer + 1]
    assert np.allclose(bars, sources, atol=1e-12)
    total = panel.source_plot.total()
    assert total == pytest.approx(float(expected.wish(layer)[j]), abs=1e-12)
    assert float(bars.sum()) == pytest.approx(total, abs=1e-9)
    assert total == pytest.approx(-float(expected.dC_da[layer][j]), abs=1e-12)
    assert panel.source_plot.total_line.value() == pytest.approx(total)
    text = panel.neuron_text.text()
    assert f"Hidden layer {layer}, neuron {j}" in text
    delta = float(expected.nabla_b[layer][j])
    assert f"{abs(delta):.4f}" in text  # the bias gradient


def test_clicking_a_neuron_on_the_network_shows_it_here(
    panel: BackpropPanel, network: NetworkPanel, state: AppState, qtbot
):
    assert not panel.neuron_box.isVisible()
    pos = network.view.mapFromScene(network.node_scene_pos(2, 6))
    qtbot.mouseClick(network.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.selected == (2, 6)
    assert panel.neuron_box.isVisible()
    expected = nudges(state.net, state.input, 7)
    assert np.allclose(panel.source_plot.heights(), -wish_sources(expected, 2, 6), atol=1e-12)


def test_first_layer_neuron_shows_its_weight_change_beside_its_weights(
    panel: BackpropPanel, state: AppState
):
    panel.set_target(1)
    state.select(1, 5)
    expected = nudges(state.net, state.input, 1)
    image = panel.gradient_image()
    assert image is not None and image.shape == (28, 28)
    assert np.allclose(image, -expected.nabla_w[1][5].reshape(28, 28), atol=1e-12)
    # nabla_w = delta * x: the change is the input image, scaled.
    assert np.allclose(image, -expected.delta[1][5] * state.input.reshape(28, 28), atol=1e-6)
    weights = panel.grad_images.left.image
    assert np.allclose(weights, state.net.weights[0][:, 5].reshape(28, 28), atol=1e-6)
    low, high = panel.grad_images.right.levels
    assert low == pytest.approx(-high) and high == pytest.approx(np.abs(image).max())


def test_deeper_neurons_show_weight_change_bars(panel: BackpropPanel, state: AppState):
    state.select(2, 0)
    expected = nudges(state.net, state.input, 7)
    assert panel.gradient_image() is None
    assert np.allclose(panel.grad_plot.heights(), -expected.nabla_w[2][0], atol=1e-12)
    state.select(3, 7)  # an output neuron: what it wants from each neuron below
    sent = -expected.weights[3][7] * expected.delta[3][7]
    assert np.allclose(panel.source_plot.heights(), sent, atol=1e-12)
    assert panel.source_plot.total() is None
    # Summed over all outputs, these are the wishes of hidden layer 2.
    every = -expected.weights[3] * expected.delta[3][:, None]
    assert np.allclose(every.sum(axis=0), expected.wish(2), atol=1e-12)
    assert np.allclose(panel.grad_plot.heights(), -expected.nabla_w[3][7], atol=1e-12)
    assert "Output 7" in panel.neuron_text.text()
    assert "a − y" in panel.neuron_text.text()


# ---------------------------------------------------------------------- one step
def test_take_this_step_emits_the_cores_step_and_undo_the_old_theta(
    qtbot, state: AppState, network: NetworkPanel, mnist: Dataset
):
    panel = BackpropPanel(state, network, learning_rate=lambda: 0.01)
    qtbot.addWidget(panel)
    panel.resize(520, 560)
    panel.show()
    state.set_input(mnist.test_x[8], int(mnist.test_y[8]))
    target = (int(mnist.test_y[8]) + 1) % 10
    panel.set_target(target)
    assert panel.eta_label.text() == "η = 0.01"
    assert not panel.undo_button.isEnabled()
    old = state.net.theta.copy()
    copy = state.net.copy()
    expected = single_example_step(copy, state.input, target, 0.01)
    with qtbot.waitSignal(panel.theta_change_requested) as blocker:
        click(qtbot, panel.step_button)
    theta, label = blocker.args
    assert label == f"one-example step ({target})"
    assert np.array_equal(theta, copy.theta)
    assert np.array_equal(state.net.theta, old)  # the panel only asks
    before, after = panel.step_plot.heights()
    assert np.allclose(before, expected.outputs_before) and np.allclose(
        after, expected.outputs_after
    )
    assert after[target] > before[target]  # a small step helps the target...
    assert expected.cost_after < expected.cost_before  # ...and lowers this example's cost
    assert "→" in panel.figures["step"].caption.text()
    assert panel.undo_button.isEnabled()
    with qtbot.waitSignal(panel.theta_change_requested) as blocker:
        click(qtbot, panel.undo_button)
    assert blocker.args[1] == "undo"
    assert np.array_equal(blocker.args[0], old)
    assert not panel.undo_button.isEnabled()
    assert "undone" in panel.figures["step"].caption.text()


def test_steps_applied_by_the_window_can_be_undone_one_by_one(
    qtbot, panel: BackpropPanel, state: AppState
):
    """As the main window does: apply each requested theta to the state."""

    def apply(theta: np.ndarray, _label: str) -> None:
        net = state.net
        state.apply_snapshot(Snapshot(state.generation, net.sizes, net.activation, net.cost, theta))

    def caught_up() -> bool:
        """The panel shows the backward pass of the state's current weights."""
        return panel.nudges.cost == nudges(state.net, state.input, 3).cost

    panel.theta_change_requested.connect(apply)
    panel.set_target(3)
    thetas = [state.net.theta.copy()]
    costs = [panel.nudges.cost]
    for _ in range(3):
        click(qtbot, panel.step_button)
        thetas.append(state.net.theta.copy())
        qtbot.waitUntil(caught_up)  # new weights alone: redrawn within REFRESH_MS
        costs.append(panel.nudges.cost)
    assert costs == sorted(costs, reverse=True) and costs[-1] < costs[0]
    for theta in reversed(thetas[:-1]):
        click(qtbot, panel.undo_button)
        assert np.array_equal(state.net.theta, theta)
    assert not panel.undo_button.isEnabled()
    qtbot.waitUntil(caught_up)
    assert panel.nudges.cost == pytest.approx(costs[0])


def test_learning_rate_comes_from_training_or_the_default(panel: BackpropPanel, state: AppState):
    assert panel.learning_rate() == (DEFAULT_ETA, "default learning rate")
    assert panel.eta_label.text() == f"η = {DEFAULT_ETA:g}"
    net = state.net
    snapshot = Snapshot(
        state.generation,
        net.sizes,
        net.activation,
        net.cost,
        net.theta.copy(),
        learning_rate=0.05,
    )
    state.apply_snapshot(snapshot)
    assert panel.learning_rate()[0] == 0.05
    assert panel.eta_label.text() == "η = 0.05"


def test_streamed_weights_redraw_at_most_every_refresh_ms(
    panel: BackpropPanel, state: AppState, mnist: Dataset, qtbot
):
    """Training sends ~30 snapshots a second: the panel redraws ~10 times, the last one too."""
    refreshes = []
    original = panel.refresh

    def counting() -> None:
        refreshes.append(1)
        original()

    panel.refresh = counting  # type: ignore[method-assign]
    panel._timer.timeout.disconnect()
    panel._timer.timeout.connect(panel.refresh)
    net = state.net
    rng = np.random.default_rng(1)
    for _ in range(15):  # ~0.5 s of training at 30 frames a second
        theta = net.theta + 0.01 * rng.standard_normal(net.n_params).astype(np.float32)
        state.apply_snapshot(Snapshot(state.generation, net.sizes, net.activation, net.cost, theta))
        qtbot.wait(33)
    qtbot.wait(2 * REFRESH_MS)
    assert 2 <= len(refreshes) <= 9
    assert panel.nudges.cost == nudges(state.net, state.input, 7).cost  # the newest weights
    state.set_input(mnist.test_x[1], int(mnist.test_y[1]))  # a new input: at once
    assert panel.nudges.target == int(mnist.test_y[1])


# ---------------------------------------------------------------------- architectures, looks
@pytest.mark.parametrize("sizes", [(784, 32, 10), (784, 16, 16, 16, 10)])
def test_other_architectures(qtbot, panel: BackpropPanel, state: AppState, sizes, mnist):
    click(qtbot, panel.step_button)  # undo history of the old network...
    state.set_network(Network(sizes, cost="quadratic", init="scaled", seed=4))
    assert not panel.undo_button.isEnabled()  # ...is gone with it
    state.set_input(mnist.test_x[6], int(mnist.test_y[6]))
    target = int(mnist.test_y[6])
    expected = nudges(state.net, state.input, target)
    assert np.allclose(panel.wish_plot.heights(), expected.wish_out)  # 2 (y - a)
    for layer in range(1, len(sizes) - 1):
        state.select(layer, 1)
        bars = panel.source_plot.heights()
        assert np.allclose(bars, -wish_sources(expected, layer, 1), atol=1e-12)
        assert float(bars.sum()) == pytest.approx(float(expected.wish(layer)[1]), abs=1e-9)
    with qtbot.waitSignal(panel.theta_change_requested) as blocker:
        click(qtbot, panel.step_button)
    copy = state.net.copy()
    single_example_step(copy, state.input, target, DEFAULT_ETA)
    assert np.array_equal(blocker.args[0], copy.theta)
    assert not panel.grab().isNull()


def test_dark_and_colour_blind_restyle(panel: BackpropPanel, state: AppState):
    state.select(1, 2)
    panel.set_target(0)
    state.set_appearance(dark=True, colour_blind=True)
    background, _ = theme.plot_colours(True)
    assert panel.wish_plot.backgroundBrush().color().rgb() == background.rgb()
    positive_cb = theme.sign_colours(True)[0].lighter(140)
    assert panel.wish_plot.bars.opts["brushes"][0].rgb() == positive_cb.rgb()
    assert not panel.grab().isNull()


def test_a_hidden_panel_waits_and_catches_up_when_shown(
    panel: BackpropPanel, state: AppState, mnist: Dataset, qtbot
):
    panel.hide()
    before = panel.nudges
    state.set_input(mnist.test_x[2], int(mnist.test_y[2]))
    assert panel.nudges is before  # no work while hidden (a tabbed-away dock)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.nudges is not before and panel.nudges.target == int(mnist.test_y[2])
    expected = nudges(state.net, state.input, int(mnist.test_y[2]))
    assert np.allclose(panel.wish_plot.heights(), expected.wish_out)

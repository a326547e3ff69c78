"""ProbesPanel: noise, shift, rotate, nudge and dream on the current input."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from nnviz.core import probes
from nnviz.core.datasets import Dataset
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.engine.snapshot import Snapshot
from nnviz.gui.panels.probes import ProbesPanel
from nnviz.gui.panels.probes.summary import a_digit
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def state(mnist: Dataset) -> AppState:
    app_state = AppState(load_model(bundled_model_path())[0])
    app_state.set_input(mnist.test_x[0], int(mnist.test_y[0]))  # a 7, classified as 7
    return app_state


@pytest.fixture
def panel(qtbot: QtBot, state: AppState) -> ProbesPanel:
    widget = ProbesPanel(state)
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    assert widget.wait_idle(5000)


def outputs(net: Network, image: np.ndarray) -> np.ndarray:
    return net.output(np.asarray(image, dtype=np.float32)[None, :])[0]


def assert_predictions_shown(panel: ProbesPanel, state: AppState) -> None:
    """The outputs shown are the net's outputs for the two images shown."""
    np.testing.assert_array_equal(panel.before_outputs(), state.outputs)
    np.testing.assert_allclose(panel.after_outputs(), outputs(state.net, panel.after_image()))
    before, after = panel.bars.heights()
    np.testing.assert_allclose(before, panel.before_outputs())
    np.testing.assert_allclose(after, panel.after_outputs())
    winner = int(np.argmax(panel.after_outputs()))
    assert f">{winner}</span>" in panel.after_label.text()
    changed = winner != int(np.argmax(state.outputs))
    assert ("background" in panel.after_label.text()) == changed
    np.testing.assert_allclose(panel.after_view.values().ravel(), panel.after_image(), atol=1e-6)


def test_noise_is_the_core_noise(qtbot: QtBot, panel: ProbesPanel, state: AppState) -> None:
    panel.noise_slider.setValue(30)
    with qtbot.waitSignal(panel.probe_finished) as blocker:
        qtbot.mouseClick(panel.noise_button, LEFT)
    assert blocker.args == ["noise"]
    x = np.asarray(state.input, dtype=np.float64)
    expected = probes.add_noise(x, 0.30, seed=panel.noise_seed())
    np.testing.assert_array_equal(panel.after_image(), expected)
    assert_predictions_shown(panel, state)
    assert "\u03c3 = 0.30" in panel.summary_text()
    first = panel.after_image()
    qtbot.mouseClick(panel.noise_button, LEFT)  # fresh noise each press
    assert not np.array_equal(panel.after_image(), first)
    panel.noise_slider.setValue(50)  # the slider re-applies the same noise, stronger
    expected = probes.add_noise(x, 0.50, seed=panel.noise_seed())
    np.testing.assert_array_equal(panel.after_image(), expected)
    assert_predictions_shown(panel, state)


@pytest.mark.parametrize(("dy", "dx", "degrees"), [(2, -3, 0), (0, 0, 25), (-1, 4, -30)])
def test_shift_and_rotate_are_the_core_functions(
    qtbot: QtBot, panel: ProbesPanel, state: AppState, dy: int, dx: int, degrees: int
) -> None:
    panel.dy_box.setValue(dy)
    panel.dx_box.setValue(dx)
    panel.angle_box.setValue(degrees)
    qtbot.mouseClick(panel.transform_button, LEFT)
    x = np.asarray(state.input, dtype=np.float64)
    expected = probes.shift(x, dy, dx) if dy or dx else x
    expected = probes.rotate(expected, degrees) if degrees else expected
    np.testing.assert_array_equal(panel.after_image(), expected)
    np.testing.assert_allclose(panel.change_view.values().ravel(), expected - x, atol=1e-6)
    assert_predictions_shown(panel, state)
    assert panel.summary_text().startswith("Shifted" if dy or dx else "Rotated")


def test_cheap_probes_follow_the_input_and_weights(
    qtbot: QtBot, panel: ProbesPanel, state: AppState, mnist: Dataset
) -> None:
    panel.angle_box.setValue(20)
    qtbot.mouseClick(panel.transform_button, LEFT)
    state.set_input(mnist.test_x[1], int(mnist.test_y[1]))
    expected = probes.rotate(np.asarray(state.input, dtype=np.float64), 20)
    np.testing.assert_array_equal(panel.after_image(), expected)
    panel.angle_box.setValue(-10)  # editing the shown probe re-applies it
    expected = probes.rotate(np.asarray(state.input, dtype=np.float64), -10)
    np.testing.assert_array_equal(panel.after_image(), expected)
    shown = panel.after_image().copy()
    net = state.net
    state.apply_snapshot(  # new weights, as from the training worker
        Snapshot(state.generation, net.sizes, net.activation, net.cost, net.theta * 0.3)
    )
    np.testing.assert_array_equal(panel.after_image(), shown)  # same image, new outputs
    assert_predictions_shown(panel, state)


def test_nudge_reaches_the_target(
    qtbot: QtBot, panel: ProbesPanel, state: AppState, mnist: Dataset
) -> None:
    k = 3
    assert state.prediction == 7 and panel.after_image() is None
    panel.target_box.setCurrentIndex(k)
    assert panel.nudge_button.text() == "Nudge to 3"
    with qtbot.waitSignal(panel.probe_finished, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.nudge_button, LEFT)
        assert panel.is_busy() and not panel.nudge_button.isEnabled()
    assert blocker.args == ["nudge"]
    result = panel.probe().result
    reference = probes.nudge_towards(state.net, state.input, k)
    np.testing.assert_array_equal(result.image, reference.image)
    assert result.reached and result.steps == reference.steps > 0
    assert int(np.argmax(panel.after_outputs())) == k
    assert_predictions_shown(panel, state)
    text = panel.summary_text()
    assert f"after {result.steps} steps" in text
    assert f"at most {result.linf:.2f} per pixel" in text
    assert f"mean {result.mean_abs:.3f}" in text
    assert f"{result.changed_pixels} of 784 pixels" in text
    assert panel.change_label.text() == f"up to \u00b1{result.linf:.2f}"
    np.testing.assert_allclose(
        panel.change_view.values().ravel(), result.image - result.original, atol=1e-6
    )


def test_nudge_towards_the_current_digit_does_nothing(
    qtbot: QtBot, panel: ProbesPanel, state: AppState
) -> None:
    with qtbot.waitSignal(panel.probe_finished, timeout=10_000):
        panel.nudge_towards(7)
    assert panel.probe().result.steps == 0
    assert "already classified as 7" in panel.summary_text()


def test_changing_the_input_drops_a_running_nudge(
    qtbot: QtBot, panel: ProbesPanel, state: AppState, mnist: Dataset
) -> None:
    panel.nudge_towards(3)
    state.set_input(mnist.test_x[1], int(mnist.test_y[1]))  # before the result is delivered
    assert panel.wait_idle(5000)
    qtbot.wait(50)  # let the queued result arrive (and be ignored)
    assert panel.probe() is None and not panel.is_busy()
    assert "input changed" in panel.summary_text()


@pytest.mark.parametrize(("k", "start"), [(3, "noise"), (8, "blank")])
def test_dream_is_predicted_as_k(
    qtbot: QtBot, panel: ProbesPanel, state: AppState, k: int, start: str
) -> None:
    panel.target_box.setCurrentIndex(k)
    panel.start_box.setCurrentIndex(0 if start == "noise" else 1)
    with qtbot.waitSignal(panel.probe_finished, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.dream_button, LEFT)
    assert blocker.args == ["dream"]
    image = panel.after_image()
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert int(np.argmax(outputs(state.net, image))) == k
    assert int(np.argmax(panel.after_outputs())) == k
    np.testing.assert_array_equal(panel.before_image(), panel.probe().result.start)
    assert (panel.before_image().any()) == (start == "noise")
    assert f"sure this is {a_digit(k)}" in panel.summary_text()
    np.testing.assert_allclose(panel.after_outputs(), outputs(state.net, image))


def test_use_as_input_sets_the_state_input(
    qtbot: QtBot, panel: ProbesPanel, state: AppState
) -> None:
    assert not panel.use_button.isEnabled()
    panel.angle_box.setValue(15)
    qtbot.mouseClick(panel.transform_button, LEFT)
    rotated = panel.after_image().copy()
    with qtbot.waitSignal(state.activations_changed):
        qtbot.mouseClick(panel.use_button, LEFT)
    np.testing.assert_array_equal(state.input, rotated.astype(np.float32))
    assert state.label is None
    assert panel.probe() is None and "now the input" in panel.summary_text()
    np.testing.assert_array_equal(panel.before_outputs(), state.outputs)


def test_a_784_32_10_network(qtbot: QtBot, panel: ProbesPanel, state: AppState) -> None:
    net = Network((784, 32, 10), cost="cross_entropy", init="scaled", seed=4)
    x = state.input.copy()
    state.set_network(net)
    state.set_input(x)
    assert panel.target_box.count() == 10 and panel.probe() is None
    target = (state.prediction + 1) % 10
    with qtbot.waitSignal(panel.probe_finished, timeout=10_000):
        panel.nudge_towards(target)
    assert panel.probe().result.reached
    assert int(np.argmax(panel.after_outputs())) == target
    assert_predictions_shown(panel, state)
    qtbot.mouseClick(panel.noise_button, LEFT)
    assert_predictions_shown(panel, state)


def test_sigmoid_outputs_are_not_called_probabilities(
    qtbot: QtBot, panel: ProbesPanel, state: AppState
) -> None:
    state.set_network(Network((784, 16, 16, 10), cost="quadratic", seed=2))
    with qtbot.waitSignal(panel.probe_finished, timeout=10_000):
        panel.dream(5, "blank")
    assert "a = " in panel.after_label.text()
    assert "sigmoid" in panel.summary_text()
    assert "%" not in panel.summary_text() + panel.after_label.text()


def test_non_image_networks_disable_the_probes(
    qtbot: QtBot, panel: ProbesPanel, state: AppState
) -> None:
    state.set_network(Network((50, 16, 10), seed=1))
    assert not panel.noise_button.isEnabled() and not panel.nudge_button.isEnabled()
    assert "28x28" in panel.summary_text()
    state.set_network(Network((784, 16, 10), seed=1))
    assert panel.noise_button.isEnabled() and panel.nudge_button.isEnabled()

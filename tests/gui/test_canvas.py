"""Canvas panel: real mouse drags, eraser, clear, test digits, noise, live weights."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QBoxLayout

from nnviz.core.datasets import Dataset
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.core.preprocess import preprocess_drawing
from nnviz.core.presets import CLASSIC
from nnviz.core.trainer import Trainer
from nnviz.engine.snapshot import Snapshot
from nnviz.gui import theme
from nnviz.gui.panels.canvas import CanvasPanel
from nnviz.gui.panels.canvas.drawing import DrawingCanvas
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path


@pytest.fixture(scope="module")
def bundled() -> Network:
    """The trained 784-16-16-10 model the app opens with (softmax outputs)."""
    return load_model(bundled_model_path())[0]


@pytest.fixture(scope="module")
def classic(mnist: Dataset) -> Network:
    """The lessons' set-up (sigmoid outputs, quadratic cost) after one epoch."""
    net = CLASSIC.network()
    Trainer(net, mnist.train_x, mnist.train_y, CLASSIC.train_config(epochs=1)).step_epoch()
    return net


@pytest.fixture
def state(bundled: Network) -> AppState:
    return AppState(bundled.copy())


@pytest.fixture
def panel(qtbot, state: AppState) -> CanvasPanel:
    widget = CanvasPanel(state)
    qtbot.addWidget(widget)
    widget.resize(520, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def at(canvas: DrawingCanvas, fx: float, fy: float) -> QPoint:
    """The widget position at fractions (fx, fy) of the drawing square."""
    rect = canvas.target_rect()
    return QPoint(round(rect.x() + fx * rect.width()), round(rect.y() + fy * rect.height()))


def drag(
    qtbot,
    canvas: DrawingCanvas,
    points: Sequence[tuple[float, float]],
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    steps: int = 6,
) -> None:
    """Press at the first point, move through the others in small steps, release."""
    qtbot.mousePress(canvas, button, pos=at(canvas, *points[0]))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for k in range(1, steps + 1):
            t = k / steps
            qtbot.mouseMove(canvas, at(canvas, x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    qtbot.mouseRelease(canvas, button, pos=at(canvas, *points[-1]))


VERTICAL = [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]


def test_drag_draws_a_stroke_that_becomes_the_input(qtbot, panel: CanvasPanel) -> None:
    state, canvas = panel.state, panel.canvas
    with qtbot.waitSignal(canvas.stroke_finished):
        drag(qtbot, canvas, VERTICAL)
    image = canvas.image()
    side = canvas.side()
    middle = side // 2
    rows = np.arange(round(0.17 * side), round(0.83 * side))
    assert image.dtype == np.float32 and image.shape == (side, side)
    assert image[rows, middle].min() > 0.95  # ink all along the path
    margin = round(canvas.brush_width() / 2) + 3
    assert image[:, : middle - margin].max() == 0.0
    assert image[:, middle + margin :].max() == 0.0
    assert image[: round(0.15 * side) - margin].max() == 0.0

    expected = preprocess_drawing(canvas.image())
    np.testing.assert_array_equal(state.input, expected.reshape(-1))
    assert state.label is None
    image28 = state.input.reshape(28, 28)
    assert image28[:, 12:16].sum() > 20 and image28[:, :9].max() == 0.0
    np.testing.assert_array_equal(panel.preview.values(), image28)
    outputs = state.outputs
    assert outputs.shape == (10,) and np.all(np.isfinite(outputs))
    np.testing.assert_allclose(panel.bars.heights(), outputs, rtol=1e-6)
    assert panel.prediction_label.text().count(str(state.prediction)) >= 1


@pytest.mark.parametrize("which", ["bundled", "classic"])
def test_drawn_one_and_seven_are_recognised(
    qtbot,
    panel: CanvasPanel,
    request: pytest.FixtureRequest,
    which: str,
) -> None:
    state = panel.state
    state.set_network(request.getfixturevalue(which))
    expected_axis = "probability" if which == "bundled" else "activation"
    assert panel.bars.getAxis("left").labelText == expected_axis
    drag(qtbot, panel.canvas, VERTICAL)
    assert state.prediction == 1
    assert np.argmax(panel.bars.heights()) == 1
    assert panel.prediction_label.text().startswith(
        '<span style="font-size:26pt; font-weight:600">1</span>'
    )
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    drag(qtbot, panel.canvas, [(0.3, 0.2), (0.7, 0.2), (0.55, 0.5), (0.45, 0.85)], steps=10)
    assert state.prediction == 7
    assert np.argmax(panel.bars.heights()) == 7


def test_moves_are_coalesced_into_one_change_per_loop_pass(qtbot, panel: CanvasPanel) -> None:
    canvas = panel.canvas
    changes: list[None] = []
    canvas.drawing_changed.connect(lambda: changes.append(None))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 0.5, 0.2))
    for k in range(10):
        qtbot.mouseMove(canvas, at(canvas, 0.5, 0.25 + 0.05 * k))
    assert changes == []  # nothing yet: the event loop has not run
    qtbot.waitUntil(lambda: len(changes) == 1)
    qtbot.mouseMove(canvas, at(canvas, 0.6, 0.8))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 0.6, 0.8))
    assert len(changes) == 2  # the release delivers the pending change at once


def test_right_drag_erases(qtbot, panel: CanvasPanel) -> None:
    canvas = panel.canvas
    drag(qtbot, canvas, VERTICAL)
    ink_before = panel.state.input.sum()
    drag(qtbot, canvas, [(0.2, 0.5), (0.8, 0.5)], button=Qt.MouseButton.RightButton)
    image, side = canvas.image(), canvas.side()
    assert image[side // 2, side // 2] == 0.0  # erased where the eraser crossed
    assert image[round(0.25 * side), side // 2] > 0.95  # kept elsewhere
    assert 0 < panel.state.input.sum() < ink_before
    np.testing.assert_array_equal(panel.state.input, preprocess_drawing(image).reshape(-1))


def test_eraser_toggle_makes_left_drags_erase(qtbot, panel: CanvasPanel) -> None:
    canvas = panel.canvas
    drag(qtbot, canvas, VERTICAL)
    qtbot.mouseClick(panel.eraser_button, Qt.MouseButton.LeftButton)
    assert canvas.is_eraser()
    drag(qtbot, canvas, [(0.2, 0.3), (0.8, 0.3)])
    side = canvas.side()
    assert canvas.image()[round(0.3 * side), side // 2] == 0.0
    assert canvas.image()[round(0.7 * side), side // 2] > 0.95
    qtbot.mouseClick(panel.eraser_button, Qt.MouseButton.LeftButton)
    assert not canvas.is_eraser()
    drag(qtbot, canvas, [(0.2, 0.3), (0.8, 0.3)])
    assert canvas.image()[round(0.3 * side), side // 2] > 0.95


def test_clear_empties_canvas_and_input(qtbot, panel: CanvasPanel) -> None:
    drag(qtbot, panel.canvas, VERTICAL)
    assert panel.state.input.any()
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.canvas.image().max() == 0.0
    assert not panel.state.input.any()
    assert not panel.preview.values().any()
    assert "empty" in panel.info_label.text().lower()


def test_random_test_digit_shows_a_real_test_image(
    qtbot,
    panel: CanvasPanel,
    mnist: Dataset,
) -> None:
    state = panel.state
    state.set_dataset(mnist)
    qtbot.mouseClick(panel.digit_button, Qt.MouseButton.LeftButton)
    matches = np.flatnonzero((mnist.test_x == state.input).all(axis=1))
    assert matches.size >= 1
    label = int(mnist.test_y[matches[0]])
    assert state.label == label
    assert panel.truth_label.isVisible()
    assert panel.truth_label.text() == f"true label: {label}"
    # The canvas shows the same digit, upscaled: its block centres match the pixels.
    shown = panel.canvas.image()[5::10, 5::10]
    assert np.abs(shown - state.input.reshape(28, 28)).max() < 0.15


def test_true_label_is_red_only_when_wrong(panel: CanvasPanel, mnist: Dataset) -> None:
    state = panel.state
    state.set_dataset(mnist)
    predicted = state.net.predict(mnist.test_x[:500])
    wrong = int(np.flatnonzero(predicted != mnist.test_y[:500])[0])
    right = int(np.flatnonzero(predicted == mnist.test_y[:500])[0])
    red = theme.sign_colours(False)[1].name()
    panel.show_test_digit(wrong)
    assert state.prediction != state.label
    assert red in panel.truth_label.styleSheet()
    panel.show_test_digit(right)
    assert state.prediction == state.label
    assert red not in panel.truth_label.styleSheet()


def test_drawing_on_a_test_digit_continues_from_it(
    qtbot,
    panel: CanvasPanel,
    mnist: Dataset,
) -> None:
    panel.state.set_dataset(mnist)
    panel.show_test_digit(0)
    digit_canvas = panel.canvas.image()
    drag(qtbot, panel.canvas, [(0.05, 0.05), (0.15, 0.05)])
    image = panel.canvas.image()
    assert image[10:, 60:].tolist() == digit_canvas[10:, 60:].tolist()  # the digit is kept
    assert image[14, 14:42].min() > 0.95  # the new stroke is there
    assert panel.state.label is None
    np.testing.assert_array_equal(panel.state.input, preprocess_drawing(image).reshape(-1))


def test_without_data_the_panel_asks_for_it(
    qtbot,
    panel: CanvasPanel,
    mnist: Dataset,
) -> None:
    assert panel.state.dataset is None
    with qtbot.waitSignal(panel.data_needed, timeout=1000):
        qtbot.mouseClick(panel.digit_button, Qt.MouseButton.LeftButton)
    assert "loading" in panel.info_label.text()
    assert not panel.state.input.any()
    panel.state.set_dataset(mnist)  # what the main window does in answer
    qtbot.waitUntil(lambda: panel.state.label is not None)
    assert (mnist.test_x == panel.state.input).all(axis=1).any()


def test_a_digit_asked_for_twice_while_loading_is_shown_once(
    qtbot,
    panel: CanvasPanel,
    mnist: Dataset,
) -> None:
    """The main window answers data_needed by loading, then calling random_test_digit."""
    shown: list[int] = []
    panel.state.activations_changed.connect(
        lambda: shown.append(-1 if panel.state.label is None else panel.state.label)
    )
    with qtbot.waitSignal(panel.data_needed):
        panel.random_test_digit()
    panel.state.set_dataset(mnist)
    panel.random_test_digit()
    qtbot.wait(50)
    assert len(shown) == 1 and shown[0] >= 0


def test_noise_is_shown_and_classified(qtbot, panel: CanvasPanel) -> None:
    qtbot.mouseClick(panel.noise_button, Qt.MouseButton.LeftButton)
    state = panel.state
    assert state.input.any() and len(np.unique(state.input)) > 100
    assert state.label is None and not panel.truth_label.isVisible()
    np.testing.assert_allclose(panel.bars.heights(), state.outputs, rtol=1e-6)
    assert str(state.prediction) in panel.prediction_label.text()
    assert "noise" in panel.info_label.text()
    # The canvas shows the noise too, one 10x10 block per input pixel.
    shown = panel.canvas.image()[5::10, 5::10]
    np.testing.assert_allclose(shown, state.input.reshape(28, 28), atol=1 / 255 + 1e-6)


def test_live_weights_update_the_bars_without_drawing(qtbot, panel: CanvasPanel) -> None:
    state = panel.state
    drag(qtbot, panel.canvas, VERTICAL)
    before = panel.bars.heights().copy()
    canvas_before = panel.canvas.image()
    other = Network(state.net.sizes, state.net.activation, state.net.cost, seed=7, init="scaled")
    snapshot = Snapshot(
        generation=state.generation,
        sizes=state.net.sizes,
        activation=state.net.activation,
        cost=state.net.cost,
        theta=other.theta.copy(),
    )
    state.apply_snapshot(snapshot)
    after = panel.bars.heights()
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, other.output(state.input)[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(panel.canvas.image(), canvas_before)


@pytest.mark.parametrize("sizes", [(784, 32, 10), (784, 16, 16, 16, 10), (784, 20, 5)])
def test_architecture_change_keeps_the_panel_working(
    qtbot,
    panel: CanvasPanel,
    sizes: tuple[int, ...],
) -> None:
    state = panel.state
    assert panel.bars.getAxis("left").labelText == "probability"  # softmax outputs
    state.set_network(Network(sizes))
    assert panel.bars.getAxis("left").labelText == "activation"  # sigmoid outputs
    assert panel.bars.heights().size == sizes[-1]
    drag(qtbot, panel.canvas, VERTICAL)
    assert state.outputs.shape == (sizes[-1],)
    np.testing.assert_allclose(panel.bars.heights(), state.outputs, rtol=1e-6)
    np.testing.assert_array_equal(state.input, preprocess_drawing(panel.canvas.image()).reshape(-1))


def test_input_set_elsewhere_appears_on_the_canvas(panel: CanvasPanel, mnist: Dataset) -> None:
    state = panel.state
    state.set_input(mnist.test_x[3], int(mnist.test_y[3]))
    shown = panel.canvas.image()[5::10, 5::10]
    assert np.abs(shown - mnist.test_x[3].reshape(28, 28)).max() < 0.15
    assert panel.truth_label.text() == f"true label: {mnist.test_y[3]}"
    np.testing.assert_allclose(panel.bars.heights(), state.outputs, rtol=1e-6)


def test_layout_follows_the_dock_shape(qtbot, panel: CanvasPanel) -> None:
    canvas, bars = panel.canvas, panel.bars
    assert bars.x() >= canvas.x() + canvas.width()  # 520x400: side by side
    panel.resize(320, 640)
    assert panel.layout().direction() == QBoxLayout.Direction.TopToBottom
    qtbot.waitUntil(lambda: bars.y() >= canvas.y() + canvas.height())  # stacked
    panel.resize(700, 320)
    assert panel.layout().direction() == QBoxLayout.Direction.LeftToRight
    qtbot.waitUntil(lambda: bars.x() >= canvas.x() + canvas.width())


def test_renders_in_both_palettes(qapp, panel: CanvasPanel) -> None:
    for dark in (True, False):
        theme.apply_palette(qapp, dark)
        panel.state.set_appearance(dark=dark)
        picture = panel.grab().toImage()
        assert not picture.isNull() and picture.width() == panel.width()
        background = theme.plot_colours(dark)[0]
        assert panel.bars.backgroundBrush().color() == background


# ---------------------------------------------------------------------- issue 12
def test_a_blank_canvas_shows_no_answer_until_something_is_drawn(qtbot, panel: CanvasPanel) -> None:
    """Fresh: 'Draw a digit', empty bars; a stroke: an answer; Clear: empty again."""

    def looks_empty() -> bool:
        return (
            "Draw a digit" in panel.prediction_label.text()
            and "%" not in panel.prediction_label.text()
            and not panel.bars.heights().any()
            and panel.bars.value_text.text() == ""
        )

    assert looks_empty() and panel.bars.is_empty()
    drag(qtbot, panel.canvas, VERTICAL)
    assert not looks_empty()
    assert panel.prediction_label.text().count("%") == 1
    np.testing.assert_allclose(panel.bars.heights(), panel.state.outputs, rtol=1e-6)
    assert panel.bars.value_text.text() == f"{panel.state.outputs.max():.2f}"
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert looks_empty()


def test_noise_says_a_network_answers_even_noise(qtbot, panel: CanvasPanel) -> None:
    qtbot.mouseClick(panel.noise_button, Qt.MouseButton.LeftButton)
    text = panel.info_label.text()
    assert "answers even noise" in text and "confidently" in text
    assert "%" in panel.prediction_label.text()  # the answer is shown, confident or not


def test_erasing_a_stroke_leaves_no_trace_in_the_input(qtbot, panel: CanvasPanel) -> None:
    """The eraser over the same path leaves no grey outline (issue 12)."""
    path = [(0.3, 0.2), (0.62, 0.37), (0.45, 0.8)]  # slanted: anti-aliased edges
    drag(qtbot, panel.canvas, path)
    assert panel.state.input.any()
    qtbot.mouseClick(panel.eraser_button, Qt.MouseButton.LeftButton)
    drag(qtbot, panel.canvas, path)
    assert panel.canvas.pixels().max() == 0
    assert not panel.state.input.any()
    assert "Draw a digit" in panel.prediction_label.text()


@pytest.mark.parametrize("size", [(320, 240), (440, 250), (600, 420), (330, 560)])
@pytest.mark.parametrize("winner", [0, 9])
def test_the_printed_value_stays_inside_the_plot(
    qtbot, panel: CanvasPanel, size: tuple[int, int], winner: int
) -> None:
    """Over bar 0 and bar 9 the value is slid inside the plot, not cut (".00", "0.9")."""
    panel.resize(*size)
    values = np.full(10, 0.05, dtype=np.float32)
    values[winner] = 1.0
    panel.bars.set_values(values)
    bars, label, view = panel.bars, panel.bars.value_text, panel.bars.getViewBox()

    def inside() -> bool:  # in the view's pixels: the label ignores the view's scale
        box = label.deviceTransform(bars.viewportTransform()).mapRect(label.boundingRect())
        plot = bars.mapFromScene(view.sceneBoundingRect()).boundingRect()
        return view.width() > 0 and QRectF(plot).adjusted(-1, -1, 1, 1).contains(box)

    qtbot.waitUntil(inside)
    assert label.text() == "1.00"


def test_pen_width_control_sets_the_pen(qtbot, panel: CanvasPanel) -> None:
    spin = panel.pen_spin
    assert spin.accessibleName() == "Pen width" and spin.value() == 28
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "10")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert panel.canvas.brush_width() == 10
    drag(qtbot, panel.canvas, VERTICAL)
    row = panel.canvas.image()[panel.canvas.side() // 2]
    assert 9 <= np.count_nonzero(row > 0.5) <= 11


def test_the_panel_fits_a_small_dock_and_names_its_parts(qtbot, panel: CanvasPanel) -> None:
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 240
    for widget in (panel, panel.canvas, panel.preview, panel.bars):
        assert widget.accessibleName() and widget.accessibleDescription()
    controls = (panel.clear_button, panel.eraser_button, panel.digit_button, panel.noise_button)
    assert all(c.accessibleName() for c in (*controls, panel.pen_spin))

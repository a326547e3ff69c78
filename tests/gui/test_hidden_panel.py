"""HiddenPanel: effective images, saturation bars, layer selector, selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from nnviz.core.analysis import effective_images, saturation
from nnviz.core.datasets import Dataset
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.gui import theme
from nnviz.gui.panels.hidden import HiddenPanel
from nnviz.gui.panels.hidden.saturation import SAMPLE_SIZE
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

SIDE = 28


@pytest.fixture
def bundled() -> Network:
    return load_model(bundled_model_path())[0]


def make_panel(qtbot: QtBot, state: AppState) -> HiddenPanel:
    panel = HiddenPanel(state)
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def widget_point(panel: HiddenPanel, x: float, y: float) -> QPoint:
    """Where image point (x, y) of the mosaic lies in the graphics viewport."""
    scene = panel.view().mapViewToScene(QPointF(x, y))
    return panel.graphics().mapFromScene(scene)


def test_mosaic_is_the_tiled_effective_images(qtbot: QtBot, bundled: Network) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    assert panel.layer() == 2
    assert "linear view" in panel.caption() and "ignoring its sigmoid" in panel.caption()
    panel.set_per_image_scale(False)
    effective = effective_images(state.net, 2).reshape(16, SIDE, SIDE)
    assert panel.grid() == (4, 4)
    np.testing.assert_array_equal(panel.tile_images(), effective.astype(np.float32))
    mosaic = panel.mosaic()
    assert np.isfinite(mosaic).sum() == 16 * SIDE * SIDE  # NaN between the tiles
    low, high = panel.levels()
    assert low == -high and np.abs(effective).max() <= high <= 4 / 3 * np.abs(effective).max()
    panel.set_per_image_scale(True)
    peak = np.abs(effective).max(axis=(1, 2))[:, None, None]
    np.testing.assert_allclose(panel.tile_images(), effective / peak, rtol=1e-6)
    assert panel.levels() == (-1.0, 1.0)


def test_images_follow_new_parameters(qtbot: QtBot, bundled: Network) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    panel.set_per_image_scale(False)
    state.net.theta = state.net.theta * 0.5
    state.params_changed.emit()
    expected = effective_images(state.net, 2).reshape(16, SIDE, SIDE).astype(np.float32)
    np.testing.assert_array_equal(panel.tile_images(), expected)


def test_saturation_bars_equal_core_saturation(
    qtbot: QtBot, bundled: Network, mnist: Dataset
) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    assert panel.bar_shares() is None and "need MNIST" in panel._legend.text()
    state.set_dataset(mnist)
    assert panel.sample().shape == (SAMPLE_SIZE, 784)
    expected = saturation(state.net, mnist.train_x, sample=SAMPLE_SIZE, seed=0)
    for layer in (2, 1):
        panel.set_layer(layer)
        left, right = panel.bar_shares()
        np.testing.assert_allclose(left, expected[layer - 1].below, atol=1e-12)
        np.testing.assert_allclose(right, expected[layer - 1].above, atol=1e-12)
    assert left.max() > 0.3 and right.max() > 0.3  # the bundled model saturates often
    assert "2,000 training images" in panel._legend.text()


def test_hover_gives_the_numbers(qtbot: QtBot, bundled: Network, mnist: Dataset) -> None:
    state = AppState(bundled)
    state.set_dataset(mnist)
    panel = make_panel(qtbot, state)
    result = saturation(state.net, mnist.train_x, sample=SAMPLE_SIZE, seed=0)[1]
    j = 7
    centre = panel.tile_rect(j).center()
    qtbot.mouseMove(panel.graphics().viewport(), widget_point(panel, centre.x(), centre.y()))
    expected = (
        f"neuron {j}: a < 0.05 on {result.below[j]:.0%}, a > 0.95 on {result.above[j]:.0%} "
        "of 2,000 training images"
    )
    qtbot.waitUntil(lambda: panel.info_text() == expected)
    assert panel.graphics().viewport().toolTip() == expected


def test_saturation_is_throttled(qtbot: QtBot, bundled: Network, mnist: Dataset) -> None:
    state = AppState(bundled)
    state.set_dataset(mnist)
    panel = make_panel(qtbot, state)
    before = panel.bar_shares()[0].copy()
    state.net.weights[1][...] *= 3.0  # second-layer neurons saturate more
    for _ in range(10):
        state.params_changed.emit()
    np.testing.assert_array_equal(panel.bar_shares()[0], before)  # not per frame
    expected = saturation(state.net, panel.sample())[1].below
    qtbot.waitUntil(lambda: np.allclose(panel.bar_shares()[0], expected), timeout=3000)
    assert not np.allclose(expected, before)


def test_layer_selector_switches(qtbot: QtBot, bundled: Network) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    panel.set_per_image_scale(False)
    assert panel.layer_names() == ["layer 1 (16 neurons)", "layer 2 (16 neurons)"]
    combo = panel._layer_box
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)  # a user's choice emits `activated`
    assert panel.layer() == 1
    assert panel.caption().startswith("first-layer weights")
    weights = state.net.weights[0].T.reshape(16, SIDE, SIDE)
    np.testing.assert_array_equal(panel.tile_images(), weights)
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert panel.layer() == 2


def test_click_selects_the_neuron(qtbot: QtBot, bundled: Network) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    viewport = panel.graphics().viewport()
    for j in (5, 14):
        centre = panel.tile_rect(j).center()
        with qtbot.waitSignal(state.selection_changed) as blocker:
            qtbot.mouseClick(
                viewport, Qt.MouseButton.LeftButton, pos=widget_point(panel, centre.x(), centre.y())
            )
        assert blocker.args == [2, j] and state.selected == (2, j)
        outline = panel.outline_rect()
        assert outline is not None and outline.contains(panel.tile_rect(j))
    bar = panel.tile_rect(3)  # the bar under tile 3 selects neuron 3 too
    point = widget_point(panel, bar.center().x(), bar.bottom() + 2.5)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert state.selected == (2, 3)
    state.select(1, 9)  # a selection made elsewhere: the panel follows its layer
    assert panel.layer() == 1 and panel.outline_rect().contains(panel.tile_rect(9))
    state.select(3, 2)  # an output neuron has no picture here
    assert panel.outline_rect() is None


def test_relu_net_shows_dead_units(qtbot: QtBot, mnist: Dataset) -> None:
    net = Network((784, 16, 16, 10), activation="relu", cost="cross_entropy", init="scaled")
    net.biases[0][5] = -1e4  # z < 0 for every image: output 0, no gradient
    state = AppState(net)
    state.set_dataset(mnist)
    panel = make_panel(qtbot, state)
    assert "ignoring its relu" in panel.caption()
    panel.set_layer(1)
    assert panel.dead_units() == [5] == panel.dead_marked()
    left, right = panel.bar_shares()
    assert left[5] == pytest.approx(1.0) and left[:5].max() < 1.0
    assert not right.any()  # ReLU has no upper flat part
    assert "outputs 0" in panel._legend.text()
    centre = panel.tile_rect(5).center()
    qtbot.mouseMove(panel.graphics().viewport(), widget_point(panel, centre.x(), centre.y()))
    expected = "neuron 5: a = 0 on 100% of 2,000 training images (dead)"
    qtbot.waitUntil(lambda: panel.info_text() == expected)
    panel.set_layer(2)
    assert panel.dead_marked() == panel.dead_units()


@pytest.mark.parametrize(
    ("sizes", "layer", "grid"),
    [((784, 32, 10), 1, (6, 6)), ((784, 100, 10), 1, (10, 10)), ((784, 16, 24, 16, 10), 2, (5, 5))],
)
def test_other_architectures(qtbot: QtBot, sizes, layer, grid) -> None:
    state = AppState(Network((784, 16, 16, 10), seed=1))
    panel = make_panel(qtbot, state)
    state.set_network(Network(sizes, seed=2))
    assert panel.layer_names()[0] == f"layer 1 ({sizes[1]} neurons)"
    assert len(panel.layer_names()) == len(sizes) - 2
    assert panel.layer() == layer and panel.grid() == grid
    panel.set_per_image_scale(False)
    for l in range(1, len(sizes) - 1):
        panel.set_layer(l)
        expected = effective_images(state.net, l).reshape(sizes[l], SIDE, SIDE)
        np.testing.assert_array_equal(panel.tile_images(), expected.astype(np.float32))
    if len(sizes) == 5:
        assert "third-layer weights pushed back through layers 2 to 1" in panel.caption()


def test_bars_follow_a_smaller_network(qtbot: QtBot, mnist: Dataset) -> None:
    state = AppState(Network((784, 100, 10), seed=1))
    state.set_dataset(mnist)
    panel = make_panel(qtbot, state)
    assert len(panel.bar_shares()[0]) == 100
    state.set_network(Network((784, 16, 16, 10), seed=2))
    expected = saturation(state.net, panel.sample())[panel.layer() - 1]
    left, right = panel.bar_shares()
    np.testing.assert_allclose(left, expected.below, atol=1e-12)
    np.testing.assert_allclose(right, expected.above, atol=1e-12)


@pytest.mark.parametrize(("sizes", "words"), [((784, 10), "no hidden"), ((50, 16, 10), "square")])
def test_nothing_to_show(qtbot: QtBot, sizes, words) -> None:
    state = AppState(Network((784, 16, 16, 10), seed=1))
    panel = make_panel(qtbot, state)
    state.set_network(Network(sizes, seed=2))
    assert panel.layer() == 0 and words in panel._message.text()
    assert panel._message.isVisible() and not panel.graphics().isVisible()
    state.set_network(Network((784, 16, 16, 10), seed=3))
    assert panel.layer() == 2 and panel.graphics().isVisible()


def test_appearance_restyles(qtbot: QtBot, bundled: Network) -> None:
    state = AppState(bundled)
    panel = make_panel(qtbot, state)
    state.set_appearance(dark=True, colour_blind=True)
    np.testing.assert_array_equal(panel._image.lut, theme.diverging_lut(True, dark=True))
    assert panel.hint().startswith("purple = positive")
    image = panel.grab().toImage()
    background = theme.plot_colours(True)[0]
    area = panel.graphics().geometry()
    assert image.pixelColor(area.left() + 3, area.top() + 3) == background


def test_hint_says_what_fits_and_the_rest_on_hover(qtbot: QtBot, bundled: Network) -> None:
    panel = make_panel(qtbot, AppState(bundled))
    label = panel._info
    full = "blue = positive, red = negative; hover a neuron for its numbers, click to select it"
    for width in (700, 330):
        panel.resize(width, 300)
        qtbot.waitUntil(lambda w=width: panel.width() == w)
        shown = label.text()
        assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
        assert label.toolTip() == full == panel.info_text()
        assert (shown == full) == (width == 700)
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 240

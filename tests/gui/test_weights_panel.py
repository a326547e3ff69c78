"""WeightsPanel: the mosaic shows the first-layer weights; clicks select neurons."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from nnviz.core.network import Network
from nnviz.engine.snapshot import Snapshot
from nnviz.gui import theme
from nnviz.gui.panels.plots import nice_levels
from nnviz.gui.panels.weights import WeightsPanel
from nnviz.gui.panels.weights.panel import GUTTER
from nnviz.gui.panels.weights.tiles import grid_shape
from nnviz.gui.state import AppState

SIDE = 28
STEP = SIDE + GUTTER


@pytest.fixture
def state() -> AppState:
    return AppState(Network((784, 16, 16, 10), seed=3))


@pytest.fixture
def panel(qtbot: QtBot, state: AppState) -> WeightsPanel:
    widget = WeightsPanel(state)
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tile(mosaic: np.ndarray, r: int, c: int) -> np.ndarray:
    return mosaic[r * STEP : r * STEP + SIDE, c * STEP : c * STEP + SIDE]


def assert_mosaic_shows(mosaic: np.ndarray, weights: np.ndarray, cols: int) -> None:
    n = weights.shape[1]
    for j in range(n):
        r, c = divmod(j, cols)
        np.testing.assert_array_equal(tile(mosaic, r, c), weights[:, j].reshape(SIDE, SIDE))


def view_point_to_widget(panel: WeightsPanel, x: float, y: float) -> QPoint:
    """Where image point (x, y) lies in the graphics viewport (widget pixels)."""
    scene = panel.view().mapViewToScene(QPointF(x, y))
    return panel.graphics().mapFromScene(scene)


def test_mosaic_is_the_tiled_first_layer(panel: WeightsPanel, state: AppState) -> None:
    mosaic = panel.mosaic()
    assert panel.grid() == (4, 4)
    assert mosaic.shape == (4 * STEP - GUTTER, 4 * STEP - GUTTER)
    assert_mosaic_shows(mosaic, state.net.weights[0], cols=4)
    gutter_rows = mosaic[SIDE::STEP, :]
    gutter_cols = mosaic[:, SIDE::STEP]
    assert np.isnan(gutter_rows).all() and np.isnan(gutter_cols).all()
    assert np.isfinite(mosaic).sum() == 16 * SIDE * SIDE


def test_shared_and_per_image_scales(panel: WeightsPanel, state: AppState) -> None:
    w = state.net.weights[0]
    low, high = panel.levels()
    peak = float(np.abs(w).max())
    assert low == -high
    assert peak <= high <= peak * 4 / 3  # rounded up to a nice number, never clipping
    panel.set_per_image_scale(True)
    assert panel.levels() == (-1.0, 1.0)
    mosaic = panel.mosaic()
    for j in range(16):
        expected = w[:, j] / np.abs(w[:, j]).max()
        np.testing.assert_allclose(tile(mosaic, *divmod(j, 4)).ravel(), expected, rtol=1e-6)
        assert np.nanmax(np.abs(tile(mosaic, *divmod(j, 4)))) == pytest.approx(1.0)
    panel.set_per_image_scale(False)
    assert_mosaic_shows(panel.mosaic(), w, cols=4)
    assert panel.levels() == (low, high)


def test_follows_new_parameters(panel: WeightsPanel, state: AppState) -> None:
    other = Network(state.net.sizes, seed=99)
    snap = Snapshot(
        generation=state.generation,
        sizes=other.sizes,
        activation=other.activation,
        cost=other.cost,
        theta=other.theta.copy(),
    )
    state.apply_snapshot(snap)
    assert_mosaic_shows(panel.mosaic(), other.weights[0], cols=4)
    state.net.theta = state.net.theta * 0.5
    state.params_changed.emit()
    assert_mosaic_shows(panel.mosaic(), other.weights[0] * 0.5, cols=4)
    assert panel.levels()[1] < float(np.abs(other.weights[0]).max())


def test_click_on_a_tile_selects_its_neuron(
    qtbot: QtBot, panel: WeightsPanel, state: AppState
) -> None:
    for j in (6, 13):
        centre = panel.tile_rect(j).center()
        point = view_point_to_widget(panel, centre.x(), centre.y())
        with qtbot.waitSignal(state.selection_changed) as blocker:
            qtbot.mouseClick(panel.graphics().viewport(), Qt.MouseButton.LeftButton, pos=point)
        assert blocker.args == [1, j]
        assert state.selected == (1, j)
        assert panel.outline_rect() is not None
        assert panel.outline_rect().center() == centre
    state.select(-1, -1)
    assert panel.outline_rect() is None


def test_selection_from_elsewhere_moves_the_outline(panel: WeightsPanel, state: AppState) -> None:
    state.select(1, 9)
    assert panel.outline_rect().center() == panel.tile_rect(9).center()
    state.select(2, 3)  # a neuron of the second hidden layer has no weight image
    assert panel.outline_rect() is None


def test_click_in_a_gutter_selects_nothing(
    qtbot: QtBot, panel: WeightsPanel, state: AppState
) -> None:
    point = view_point_to_widget(panel, SIDE + 0.5, 10.0)
    qtbot.mouseClick(panel.graphics().viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert state.selected is None


def test_hover_shows_neuron_pixel_and_weight(
    qtbot: QtBot, panel: WeightsPanel, state: AppState
) -> None:
    j, row, col = 5, 12, 7
    rect = panel.tile_rect(j)
    point = view_point_to_widget(panel, rect.x() + col + 0.5, rect.y() + row + 0.5)
    qtbot.mouseMove(panel.graphics().viewport(), point)
    w = state.net.weights[0][row * SIDE + col, j]
    expected = f"neuron {j}: pixel row {row}, col {col}, weight {w:+.3f}"
    qtbot.waitUntil(lambda: panel.info_text() == expected)


@pytest.mark.parametrize(("hidden", "shape"), [(32, (6, 6)), (100, (10, 10)), (10, (3, 4))])
def test_other_first_layer_sizes(
    qtbot, panel: WeightsPanel, state: AppState, hidden, shape
) -> None:
    state.set_network(Network((784, hidden, 10), seed=1))
    assert panel.grid() == shape == grid_shape(hidden)
    mosaic = panel.mosaic()
    assert mosaic.shape == (shape[0] * STEP - GUTTER, shape[1] * STEP - GUTTER)
    assert_mosaic_shows(mosaic, state.net.weights[0], cols=shape[1])
    assert np.isfinite(mosaic).sum() == hidden * SIDE * SIDE  # empty slots stay NaN
    backing = panel._backing.path()  # the grey behind the gutters: tiles only, no empty slot
    slots = [panel.tile_rect(j).center() for j in range(shape[0] * shape[1])]
    assert [backing.contains(c) for c in slots] == [j < hidden for j in range(len(slots))]
    state.select(1, hidden - 1)
    assert panel.outline_rect().center() == panel.tile_rect(hidden - 1).center()
    panel.grab()


def test_non_image_input_shows_a_message(qtbot: QtBot) -> None:
    panel = WeightsPanel(AppState(Network((50, 8, 10), seed=1)))
    qtbot.addWidget(panel)
    panel.show()
    assert panel.mosaic().size == 0
    assert "50 inputs" in panel._message.text()
    assert panel._message.isVisible() and not panel.graphics().isVisible()
    panel.state.select(1, 2)
    assert panel.outline_rect() is None


def test_colour_blind_map_differs(panel: WeightsPanel, state: AppState) -> None:
    default = panel._image.lut.copy()
    np.testing.assert_array_equal(default, theme.diverging_lut(False))
    state.set_appearance(colour_blind=True)
    assert not np.array_equal(panel._image.lut, default)
    np.testing.assert_array_equal(panel._image.lut, theme.diverging_lut(True))
    assert "purple" in panel.info_text()


def test_renders_in_the_dark_palette(panel: WeightsPanel, state: AppState) -> None:
    state.set_appearance(dark=True)
    image = panel.grab().toImage()
    area = panel.graphics().geometry()
    corner = image.pixelColor(area.left() + 3, area.bottom() - 3)  # beside the mosaic
    assert corner.lightness() < 80
    state.set_appearance(dark=False)
    image = panel.grab().toImage()
    assert image.pixelColor(area.left() + 3, area.bottom() - 3).lightness() > 200


def test_colour_levels_stay_still_while_they_fit() -> None:
    """Nice symmetric levels; kept while they hold every weight and are not 1.6x too wide."""
    assert nice_levels(np.array([0.9, -2.3])) == (-2.5, 2.5)
    assert nice_levels(np.array([0.04])) == (-0.04, 0.04)
    shown = (-2.5, 2.5)
    assert nice_levels(np.array([2.0, -1.7]), shown) == shown  # fits: the bar stays still
    assert nice_levels(np.array([1.6]), shown) == shown  # 2.5 <= 1.6 * 2
    assert nice_levels(np.array([2.6]), shown) == (-3.0, 3.0)  # grew past: never clipped
    assert nice_levels(np.array([1.2]), shown) == (-1.25, 1.25)  # 2x too wide: refitted


def test_hint_says_what_fits_and_the_rest_on_hover(qtbot: QtBot, panel: WeightsPanel) -> None:
    full = "blue = positive, red = negative weight; click a neuron to select it"
    label = panel._info
    for width in (700, 330, 240):
        panel.resize(width, 300)
        qtbot.waitUntil(lambda w=width: panel.width() == w)
        shown = label.text()
        assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
        assert label.toolTip() == full == panel.info_text()
        if width == 700:
            assert shown == full
        else:
            assert shown != full and shown.startswith("blue")
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 240

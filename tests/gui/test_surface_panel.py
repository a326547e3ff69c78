"""The loss-surface panel: heatmap, contours, path, honesty figures, chart, controls."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage

from nnviz.core.datasets import Dataset, load_mnist
from nnviz.core.errors import plain_number
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.messages import PathView, SurfaceGrid, SurfaceSettings
from nnviz.engine.snapshot import Snapshot
from nnviz.engine.surface import SurfaceServer
from nnviz.gui import theme
from nnviz.gui.backend import EngineThread
from nnviz.gui.panels.surface import SurfacePanel
from nnviz.gui.panels.surface.grid import bilinear, log_ticks, thin_path
from nnviz.gui.state import AppState
from nnviz.gui.surface_controller import SurfaceController

FIT = 1000  # fit number of the hand-made grids (the server's own fits stay far below)


@pytest.fixture
def state() -> AppState:
    return AppState(MODERN.network())


@pytest.fixture
def controller(qtbot, state: AppState) -> Iterator[SurfaceController]:
    engine = EngineThread(SurfaceServer, "loss-surface", "thread")
    ctl = SurfaceController(state, engine)
    engine.start()
    try:
        # the server publishes the first point's path (no plane yet) once; let it arrive
        qtbot.waitUntil(lambda: ctl.path is not None, timeout=5_000)
        yield ctl
    finally:
        assert engine.shutdown()


@pytest.fixture
def panel(qtbot, state: AppState, controller: SurfaceController) -> SurfacePanel:
    widget = SurfacePanel(state, controller)
    qtbot.addWidget(widget)
    widget.resize(560, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def make_grid(state: AppState, n: int = 21, explained: float = 0.75) -> SurfaceGrid:
    """A grid whose cost rises to the right (a) and twice as fast upwards (b)."""
    a, b = np.linspace(-30.0, 20.0, n), np.linspace(-10.0, 15.0, n)
    costs = 0.2 + 0.02 * (a[None, :] + 30) + 0.08 * (b[:, None] + 10)
    return SurfaceGrid(state.generation, FIT, "pca", "PC 1 (60.0%)",
                       "PC 2 (15.0% of the path's variance)", a, b, costs, explained, 5_000,
                       1.5, "cross_entropy")  # fmt: skip


def make_path(state: AppState, n: int = 30, explained: float = 0.71) -> PathView:
    t = np.linspace(0.0, 1.0, n)
    coords = np.stack([-25 + 40 * t, -8 + 18 * np.sin(2.5 * t)], axis=1)
    distances = np.linspace(0.5, 6.2, n)
    true = 2.0 * np.exp(-3 * t) + 0.25
    true[1::3] = np.nan  # not computed yet
    steps = np.arange(n) * 50
    return PathView(state.generation, FIT, steps, coords, distances, true, explained, 53.1)


def publish(ctl: SurfaceController, grid: SurfaceGrid | None, path: PathView | None) -> None:
    """Hand results to the panel the way the controller does."""
    if grid is not None:
        ctl.grid = grid
        ctl.grid_changed.emit(grid)
    if path is not None:
        ctl.path = path
        ctl.path_changed.emit(path)


def screen_pos(panel: SurfacePanel, a: float, b: float) -> QPoint:
    """The viewport pixel showing the plane point ``(a, b)``."""
    scene = panel.map.plot_item.vb.mapViewToScene(QPointF(a, b))
    return panel.map.mapFromScene(scene)


def brightness(image: QImage, pos: QPoint) -> float:
    return QColor(image.pixel(pos)).lightnessF()


# ------------------------------------------------------------------ the map
def test_the_heatmap_is_the_grid_with_nodes_at_their_coordinates(qtbot, panel, controller, state):
    grid = make_grid(state)
    publish(controller, grid, None)
    image = panel.map.image
    np.testing.assert_array_equal(image.image, grid.costs)
    assert image.getLevels() == pytest.approx((grid.costs.min(), grid.costs.max()))
    for i, j in ((0, 0), (0, 20), (20, 0), (7, 13)):
        centre = image.mapToParent(QPointF(j + 0.5, i + 0.5))  # pixel (row i, column j)
        assert (centre.x(), centre.y()) == pytest.approx((grid.a[j], grid.b[i]))
    # as drawn: low cost (dark in viridis) at the bottom left, high (yellow) at the top right
    shot = panel.map.grab().toImage()
    low = brightness(shot, screen_pos(panel, grid.a[1], grid.b[1]))
    high = brightness(shot, screen_pos(panel, grid.a[-2], grid.b[-2]))
    steep = brightness(shot, screen_pos(panel, grid.a[1], grid.b[-2]))  # b counts twice
    wide = brightness(shot, screen_pos(panel, grid.a[-2], grid.b[1]))
    assert low < wide < steep < high
    assert panel.map.plot_item.getAxis("bottom").labelText == "PC 1 (60.0%)"
    assert panel.map.plot_item.getAxis("left").labelText == "PC 2 (15.0%)"
    assert not panel.showing_hint()


def test_contours_lie_on_their_levels_of_the_heatmap(panel, controller, state):
    grid = make_grid(state)
    grid.costs[:] += 0.3 * np.sin(grid.a[None, :] / 5) * np.cos(grid.b[:, None] / 4)
    publish(controller, grid, None)
    xs, ys = panel.map.contours.getData()
    levels = panel.map.contour_values
    assert len(levels) == 9 and len(xs) > 100 and len(xs) % 2 == 0
    low, high = grid.costs.min(), grid.costs.max()
    np.testing.assert_allclose(levels, low + (high - low) * np.arange(1, 10) / 10)
    at = bilinear(grid.a, grid.b, grid.costs, np.stack([xs, ys], axis=1))
    assert np.max(np.min(np.abs(at[:, None] - levels[None, :]), axis=1)) < 1e-9
    # every level is drawn, and the lines stay inside the map
    assert {int(np.argmin(np.abs(levels - v))) for v in at} == set(range(9))
    assert xs.min() >= grid.a[0] and xs.max() <= grid.a[-1]


def test_the_path_its_start_and_the_current_point(panel, controller, state):
    grid, path = make_grid(state), make_path(state)
    publish(controller, grid, path)
    np.testing.assert_array_equal(panel.map.path_data(), path.coords)
    np.testing.assert_array_equal(panel.map.drawn_path(), path.coords)  # sparse: all drawn
    start, now = panel.map.marker_positions()
    assert (start.x(), start.y()) == pytest.approx(tuple(path.coords[0]))
    assert (now.x(), now.y()) == pytest.approx(tuple(path.coords[-1]))
    assert panel.map.start.isVisible() and panel.map.current.isVisible()
    # the path grows live; colours run from pale (old) to orange (new)
    longer = make_path(state, n=60)
    publish(controller, None, longer)
    np.testing.assert_array_equal(panel.map.path_data(), longer.coords)
    now = panel.map.marker_positions()[1]
    assert (now.x(), now.y()) == pytest.approx(tuple(longer.coords[-1]))
    first, last = (
        piece.opts["pen"].color() for piece in panel.map.pieces[:: len(panel.map.pieces) - 1]
    )
    assert first.saturationF() < 0.2 < last.saturationF()
    # a path that leaves the grid stays in view (beyond the map, on the plain background)
    away = longer.coords.copy()
    away[-1] = (grid.a[-1] + 12.0, grid.b[0] - 6.0)
    publish(controller, None, PathView(state.generation, FIT, longer.steps, away,
                                       longer.distances, longer.true_costs, 0.5, 70.0))  # fmt: skip
    (x0, x1), (y0, y1) = panel.map.plot_item.vb.viewRange()
    assert x0 <= grid.a[0] and x1 > away[-1, 0] and y0 < away[-1, 1] and y1 >= grid.b[-1]
    publish(controller, None, longer)
    # a path seen from another plane waits for its grid
    publish(controller, None, PathView(state.generation, FIT + 1, longer.steps, longer.coords * 2,
                                       longer.distances, longer.true_costs, 0.5, 9.0))  # fmt: skip
    np.testing.assert_array_equal(panel.map.path_data(), longer.coords)


def test_a_long_path_is_thinned_to_about_a_point_per_pixel_with_its_ends() -> None:
    t = np.linspace(0, 1, 2000)
    pts = np.stack([100 * t, 20 * np.sin(6 * t)], axis=1)
    keep = thin_path(pts, (0.25, 0.25), most=10_000)  # 4 pixels a unit
    assert keep[0] == 0 and keep[-1] == 1999 and np.all(np.diff(keep) > 0)
    gaps = np.hypot(*(np.diff(pts[keep], axis=0) / 0.25).T)
    assert np.all(gaps[:-1] > 1.5) and gaps.max() < 2.5  # every 2 px (one step is 0.2 px)
    assert len(keep) < 2000 / 5
    assert len(thin_path(pts, (0.25, 0.25), most=300)) <= 302
    np.testing.assert_array_equal(thin_path(pts, (math.nan, math.nan)), np.arange(2000))


def test_honesty_figures(panel, controller, state):
    grid, path = make_grid(state), make_path(state)
    publish(controller, grid, path)
    details = panel.verdict.toolTip()
    assert "PCA of the path" in details
    assert "the plane holds 71% of the path's movement (75% when fitted)" in details
    assert "up to 6.2 (median 3.35) off the plane" in details
    assert "the map is 50 across and the path on it is 53.1 long" in details
    assert "Green: the map is within 10%" in details  # the thresholds, on hover
    assert panel.verdict.accessibleDescription() == details.replace("\n", " ")
    assert "21\N{MULTIPLICATION SIGN}21 grid" in panel.readout_text()
    assert "5,000 images" in panel.readout_text()
    # a plane that holds little of the path says so in the verdict itself
    publish(controller, None, make_path(state, explained=0.02))
    assert panel.honesty_text().startswith("\N{BLACK CIRCLE} Misleading: ")
    assert "2.0% of the path's movement" in panel.verdict.toolTip()


def test_the_chart_compares_true_costs_with_the_surface(panel, controller, state):
    grid = make_grid(state)
    path = make_path(state)
    coords = path.coords.copy()
    coords[4] = (grid.a[3], grid.b[17])  # exactly on a node
    coords[9] = (grid.a[-1] + 5.0, 0.0)  # off the grid
    path = PathView(path.generation, FIT, path.steps, coords, path.distances, path.true_costs,
                    path.explained, path.path_length)  # fmt: skip
    publish(controller, grid, path)
    true_x, true_y, surface_x, surface_y = panel.chart.data()
    np.testing.assert_array_equal(true_x, path.steps)
    np.testing.assert_array_equal(true_y, path.true_costs)  # NaN where not computed
    np.testing.assert_array_equal(surface_x, path.steps)
    np.testing.assert_allclose(surface_y, panel.surface_costs)
    assert surface_y[4] == pytest.approx(grid.costs[17, 3], rel=1e-12)
    assert math.isnan(surface_y[9])
    # the surface is linear here: bilinear interpolation is exact between the nodes
    inside = np.isfinite(surface_y)
    expected = 0.2 + 0.02 * (coords[:, 0] + 30) + 0.08 * (coords[:, 1] + 10)
    np.testing.assert_allclose(surface_y[inside], expected[inside], rtol=1e-12)
    both = np.isfinite(path.true_costs) & inside
    gap = np.abs(path.true_costs - surface_y)[both]
    assert f"off the true cost by up to {plain_number(gap.max())}" in panel.verdict.toolTip()
    legend = panel.legend.text()
    assert "true cost at the path points" in legend and "the map at their projections" in legend
    # the legend is a line of its own above the chart: it covers none of the data
    assert panel.legend.geometry().bottom() < panel.chart.geometry().top()


def test_log_colours(qtbot, panel, controller, state):
    grid = make_grid(state)
    publish(controller, grid, make_path(state))
    qtbot.mouseClick(panel.log_box, Qt.MouseButton.LeftButton)
    assert panel.log_scale()
    np.testing.assert_allclose(panel.map.image.image, np.log10(grid.costs))
    low, high = np.log10(grid.costs.min()), np.log10(grid.costs.max())
    assert panel.map.image.getLevels() == pytest.approx((low, high))
    assert panel.map.colour_bar.levels() == pytest.approx((low, high))
    ticks = panel.map.colour_bar.axis._tickLevels[0]
    assert ticks and all(pos == pytest.approx(math.log10(float(text))) for pos, text in ticks)
    assert "(log)" in panel.map.colour_bar.getAxis("left").labelText
    chart_ticks = panel.chart.plot_item.getAxis("left")._tickLevels[0]
    assert all(pos == pytest.approx(math.log10(float(text))) for pos, text in chart_ticks)
    path = controller.path
    assert path is not None
    _true_x, true_y, _surface_x, surface_y = panel.chart.data()  # log10 of the costs, as drawn
    np.testing.assert_allclose(true_y, np.log10(path.true_costs))
    np.testing.assert_allclose(surface_y, np.log10(panel.surface_costs))
    (_x0, _x1), (y0, y1) = panel.chart.plot_item.vb.viewRange()
    assert y0 <= np.nanmin(true_y) and np.nanmax(true_y) <= y1
    np.testing.assert_allclose(panel.map.contour_values, low + (high - low) * np.arange(1, 10) / 10)
    qtbot.mouseClick(panel.log_box, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(panel.map.image.image, grid.costs)
    np.testing.assert_array_equal(panel.chart.data()[1], path.true_costs)
    assert "log" not in panel.map.colour_bar.getAxis("left").labelText


def test_hovering_reads_the_cost_at_a_grid_point(qtbot, panel, controller, state):
    grid = make_grid(state)
    publish(controller, grid, make_path(state))
    viewport = panel.map.viewport()
    for i, j in ((5, 8), (17, 2)):
        qtbot.wait(25)  # pyqtgraph drops mouse moves closer than ~10 ms apart
        qtbot.mouseMove(viewport, screen_pos(panel, grid.a[j] + 0.2, grid.b[i] - 0.1))
        cost = plain_number(grid.costs[i, j])
        qtbot.waitUntil(lambda cost=cost: f"cost {cost} at" in panel.readout_text(), timeout=1000)
        a, b = plain_number(grid.a[j]), plain_number(grid.b[i])
        assert f"PC 1 = {a}, PC 2 = {b}" in panel.readout_text()
        node = panel.map.node
        assert node.isVisible() and (node.pos().x(), node.pos().y()) == pytest.approx(
            (grid.a[j], grid.b[i])
        )
    qtbot.wait(25)
    qtbot.mouseMove(viewport, QPoint(2, 2))  # off the map
    qtbot.waitUntil(lambda: "hover the map to read a point" in panel.readout_text())
    assert not panel.map.node.isVisible()


# ------------------------------------------------------------------ controls, hints, looks
def test_controls_configure_the_controller(qtbot, panel, controller):
    assert panel.plane_box.currentData() == controller.settings.plane == "pca"
    panel.plane_box.setFocus()
    qtbot.keyClick(panel.plane_box, Qt.Key.Key_Down)
    assert controller.settings.plane == "random"
    qtbot.keyClick(panel.resolution_box, Qt.Key.Key_Up)
    assert controller.settings.resolution == 31
    qtbot.keyClick(panel.subset_box, Qt.Key.Key_Down)
    assert controller.settings.subset == 10_000
    qtbot.mouseClick(panel.auto_box, Qt.MouseButton.LeftButton)
    assert controller.settings.auto_refit is False
    # settings chosen elsewhere show in the controls
    controller.configure(SurfaceSettings(plane="start_to_now", resolution=61, subset=1_000))
    assert panel.plane_box.currentData() == "start_to_now"
    assert panel.resolution_box.currentData() == 61 and panel.subset_box.currentData() == 1_000
    assert panel.auto_box.isChecked() and controller.settings.auto_refit


def test_hints_instead_of_an_empty_map(qtbot, panel, controller, state, mnist_data):
    assert panel.showing_hint() and "MNIST is needed" in panel.hint.text()
    state.set_dataset(mnist_data)
    assert "Train to draw a path" in panel.hint.text() and "has 1 so far" in panel.hint.text()
    assert f"{state.net.n_params:,} parameters" in panel.hint.text()
    net, frozen = state.net, state.net.theta.copy()
    for step in (1, 2, 3):  # single steps that change nothing: no plane fits such a path
        state.apply_snapshot(Snapshot(state.generation, net.sizes, net.activation, net.cost,
                                      frozen.copy(), step=step, state="paused"))  # fmt: skip
    qtbot.waitUntil(lambda: "could not be made" in panel.hint.text(), timeout=10_000)
    assert "spans no plane" in panel.hint.text() and panel.showing_hint()
    publish(controller, make_grid(state), make_path(state))
    assert not panel.showing_hint()
    state.set_network(Network((784, 32, 10)))  # another architecture: the old map goes
    assert panel.showing_hint() and len(panel.map.path_data()) == 0
    assert "Train to draw a path" in panel.hint.text()


def test_wide_docks_put_the_figures_beside_the_map(qtbot, panel, controller, state):
    publish(controller, make_grid(state), make_path(state, explained=0.02))  # with a warning
    panel.resize(900, 330)
    qtbot.waitUntil(lambda: panel.chart.x() > panel.map.x() + panel.map.width() - 5)
    assert panel.map.height() > 200 and panel.chart.y() < panel.map.height() / 2 + 40
    qtbot.waitUntil(
        lambda: panel.verdict.height() >= panel.verdict.heightForWidth(panel.verdict.width())
    )
    panel.resize(460, 720)
    qtbot.waitUntil(lambda: panel.chart.y() > panel.map.y() + panel.map.height())
    assert panel.map.width() > 400 and panel.map.height() > 250
    # the honesty text always gets the lines it needs at its width (it wraps less when wider)
    qtbot.waitUntil(
        lambda: panel.verdict.height() == panel.verdict.heightForWidth(panel.verdict.width())
    )


def test_dark_palette(qtbot, panel, controller, state):
    publish(controller, make_grid(state), make_path(state))
    state.set_appearance(dark=True)
    background = theme.plot_colours(True)[0]
    assert panel.map.backgroundBrush().color() == background
    assert panel.chart.backgroundBrush().color() == background
    corner = panel.map.grab().toImage().pixelColor(3, 3)
    assert corner.lightnessF() < 0.25
    state.set_appearance(dark=False)
    assert panel.map.grab().toImage().pixelColor(3, 3).lightnessF() > 0.9


# ------------------------------------------------------------------ with real training
@pytest.fixture(scope="module")
def mnist_data(mnist_dir: Path) -> Dataset:
    return load_mnist(mnist_dir, download_missing=False)


def test_live_training_draws_the_surface_and_the_path(qtbot, panel, controller, state, mnist_data):
    net = state.net
    controller.configure(SurfaceSettings(resolution=15, subset=1_000))
    state.set_dataset(mnist_data)
    rows: list[tuple[int, int]] = []
    controller.progress.connect(lambda done, total: rows.append((done, total)))
    trainer = Trainer(net, mnist_data.train_x, mnist_data.train_y, MODERN.config)
    for _ in range(8):
        trainer.step(40)
        state.apply_snapshot(Snapshot(state.generation, net.sizes, net.activation, net.cost,
                                      net.theta.copy(), step=trainer.step_count))  # fmt: skip
        qtbot.wait(15)

    def shown() -> bool:
        grid, path = controller.grid, controller.path
        return (
            grid is not None and path is not None and path.fit == grid.fit and len(path.steps) == 9
        )

    qtbot.waitUntil(shown, timeout=20_000)
    grid, path = controller.grid, controller.path
    assert grid is not None and path is not None
    assert not panel.showing_hint() and grid.costs.shape == (15, 15)
    np.testing.assert_array_equal(panel.map.image.image, grid.costs)
    np.testing.assert_array_equal(panel.map.path_data(), path.coords)
    assert (15, 15) in rows  # every row done
    qtbot.waitUntil(lambda: controller.rows == (0, 0), timeout=20_000)  # then idle
    # "Refit" computes a new surface while the old one stays on screen
    fit = grid.fit
    qtbot.mouseClick(panel.refit_button, Qt.MouseButton.LeftButton)
    computing = "computing the surface: row"
    qtbot.waitUntil(lambda: computing in panel.readout_text() or controller.grid.fit > fit)
    assert panel.map.grid is not None
    qtbot.waitUntil(lambda: controller.grid.fit > fit, timeout=20_000)
    qtbot.waitUntil(lambda: computing not in panel.readout_text())
    np.testing.assert_array_equal(panel.map.image.image, controller.grid.costs)


def test_log_colour_bar_ticks_are_written_plainly() -> None:
    """A surface whose costs reach 0.00002 (a well-trained network) labels its colour bar
    as people read numbers, never "2e-05"."""
    ticks = log_ticks(math.log10(2e-5), math.log10(3.0))
    texts = [text for _, text in ticks]
    assert "0.00002" in texts and "0.0001" in texts and "1" in texts
    assert not any("e" in text for text in texts), texts

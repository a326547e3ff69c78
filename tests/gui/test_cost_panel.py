"""CostPanel: every mini-batch kept, smoothing, test results, markers, CSV, a million steps."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from nnviz.core.network import Network
from nnviz.engine.snapshot import EpochResult, Marker, Snapshot
from nnviz.gui.panels.cost import CostPanel
from nnviz.gui.panels.cost.panel import SMOOTHING
from nnviz.gui.panels.plots import nice_cost_range, nice_extent, stable_range
from nnviz.gui.state import AppState


@pytest.fixture
def state() -> AppState:
    return AppState(Network((784, 16, 16, 10), seed=0))


@pytest.fixture
def panel(qtbot: QtBot, state: AppState) -> CostPanel:
    widget = CostPanel(state)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def snapshot(state: AppState, steps: np.ndarray, costs: np.ndarray, **extra: object) -> Snapshot:
    net = state.net
    return Snapshot(
        generation=state.generation,
        sizes=net.sizes,
        activation=net.activation,
        cost=net.cost,
        theta=net.theta.copy(),
        step=int(steps[-1]) if len(steps) else 0,
        steps=np.asarray(steps, dtype=np.int64),
        costs=np.asarray(costs, dtype=np.float64),
        **extra,  # type: ignore[arg-type]
    )


def feed(state: AppState, costs: np.ndarray, chunk: int, first_step: int = 0) -> None:
    """Send ``costs`` as a worker would: snapshots of ``chunk`` consecutive steps."""
    for start in range(0, len(costs), chunk):
        steps = np.arange(first_step + start, first_step + min(start + chunk, len(costs)))
        state.apply_snapshot(snapshot(state, steps, costs[steps - first_step]))


def ema(costs: np.ndarray, alpha: float) -> np.ndarray:
    out, s = [], None
    for c in costs:
        s = c if s is None else s + alpha * (c - s)
        out.append(s)
    return np.array(out)


def drawn(item: object) -> int:
    """How many points a curve item draws (``getData`` gives None when empty)."""
    x, _ = item.getData()  # type: ignore[attr-defined]
    return 0 if x is None else len(x)


def result(epoch: int, step: int, cost: float, accuracy: float) -> EpochResult:
    return EpochResult(epoch, step, cost, accuracy, np.zeros((10, 10), dtype=np.int64))


def test_every_mini_batch_is_kept_in_order(panel: CostPanel, state: AppState) -> None:
    rng = np.random.default_rng(1)
    costs = 2.0 * np.exp(-np.arange(1000) / 300) + 0.2 * rng.random(1000)
    for chunk in (1, 7, 300):  # snapshots of any size, like an absorbing mailbox makes
        state.history_cleared.emit()
        feed(state, costs, chunk)
        steps, got = panel.history_arrays()
        np.testing.assert_array_equal(steps, np.arange(1000))
        np.testing.assert_array_equal(got, costs)


def test_smoothed_is_the_ema_of_all_costs(panel: CostPanel, state: AppState) -> None:
    rng = np.random.default_rng(2)
    costs = 1.0 + rng.random(2500)
    feed(state, costs, 113)
    np.testing.assert_allclose(panel.smoothed_costs(), ema(costs, SMOOTHING), rtol=1e-12)
    panel.redraw()
    x, y = panel.smoothed_item.getData()
    assert x[-1] == 2499 and y[-1] == pytest.approx(ema(costs, SMOOTHING)[-1])


def test_redraw_is_throttled_then_shows_the_data(
    qtbot: QtBot, panel: CostPanel, state: AppState
) -> None:
    feed(state, np.linspace(3, 1, 50), 50)
    assert drawn(panel.raw_item) == 0  # waits for the timer
    qtbot.waitUntil(lambda: drawn(panel.raw_item) == 50, timeout=1000)
    np.testing.assert_array_equal(panel.raw_item.getData()[1], np.linspace(3, 1, 50))


def test_evaluations_on_the_cost_and_accuracy_axes(panel: CostPanel, state: AppState) -> None:
    evaluations = (result(1, 100, 0.5, 0.81), result(2, 200, 0.4, 0.875))
    state.apply_snapshot(snapshot(state, np.arange(200), np.ones(200), evaluations=evaluations))
    state.apply_snapshot(
        snapshot(state, np.arange(200, 300), np.ones(100), evaluations=(result(3, 300, 0.3, 0.9),))
    )
    panel.redraw()
    x, y = panel.accuracy_item.getData()
    np.testing.assert_array_equal(x, [100, 200, 300])
    np.testing.assert_allclose(y, [81.0, 87.5, 90.0])  # percent, on the right axis
    x, y = panel.test_cost_item.getData()
    np.testing.assert_array_equal(x, [100, 200, 300])
    np.testing.assert_allclose(y, [0.5, 0.4, 0.3])
    right = panel.plot_item.getAxis("right")
    assert right.linkedView() is panel.accuracy_item.getViewBox()
    assert panel.accuracy_item.getViewBox() is not panel.plot_item.vb
    low, high = right.range
    assert low <= 81.0 and 90.0 <= high <= 100.0
    assert "90.0%" in panel.status_text()


def test_markers_draw_labelled_lines(panel: CostPanel, state: AppState) -> None:
    markers = (Marker(40, "lr 3 → 0.5"), Marker(90, "batch 10 → 32"))
    state.apply_snapshot(snapshot(state, np.arange(100), np.ones(100), markers=markers))
    lines = panel.marker_lines()
    assert [line.value() for line in lines] == [40, 90]
    assert all(line.angle == 90 and line.scene() is not None for line in lines)
    panel.redraw()
    texts = [label.text() for label in panel.marker_labels()]
    assert texts == ["lr 3 → 0.5", "batch 10 → 32"]  # far apart: one label each


def test_history_cleared_empties_everything(panel: CostPanel, state: AppState) -> None:
    extra = {"evaluations": (result(1, 9, 0.5, 0.8),), "markers": (Marker(5, "lr"),)}
    state.apply_snapshot(snapshot(state, np.arange(10), np.ones(10), **extra))
    panel.redraw()
    state.set_network(Network((784, 32, 10), cost="cross_entropy"))  # emits history_cleared
    steps, costs = panel.history_arrays()
    assert steps.size == 0 and costs.size == 0
    assert panel.marker_lines() == []
    assert drawn(panel.raw_item) == drawn(panel.accuracy_item) == drawn(panel.test_cost_item) == 0
    assert "cross-entropy" in panel._cost_label.text()
    feed(state, np.array([2.0, 1.0]), 2, first_step=0)  # a new run starts again at step 0
    np.testing.assert_array_equal(panel.smoothed_costs(), [2.0, 2.0 - SMOOTHING])


def test_cost_label_names_the_cost(panel: CostPanel, state: AppState) -> None:
    text = panel._cost_label.text()
    assert "3Blue1Brown" in text and "sum of squares over the 10 outputs" in text


def test_log_scale_toggles_the_cost_axis_only(panel: CostPanel, state: AppState) -> None:
    feed(state, np.geomspace(3, 0.01, 400), 100)
    panel._log_box.click()
    assert panel.log_scale() and panel.plot_item.getAxis("left").logMode
    assert not panel.accuracy_item.getViewBox().state["logMode"][1]
    assert not panel.plot_item.getAxis("right").logMode
    panel.redraw()
    _, y = panel.raw_item.getData()  # data as drawn: log10 of the costs
    assert y[0] == pytest.approx(math.log10(3))
    y0, y1 = panel.plot_item.vb.viewRange()[1]  # log10 units, whole half-decades
    assert y0 <= -2.0 and y1 >= math.log10(3) and y1 - y0 <= 3.5
    panel.set_log_scale(False)
    assert not panel.log_scale() and not panel._log_box.isChecked()
    y0, y1 = panel.plot_item.vb.viewRange()[1]
    assert y0 <= 0 and 3 <= y1 <= 3.2
    panel.set_step_range(100, 200)  # zoomed in, the log switch keeps the steps shown
    panel.set_log_scale(True)
    x0, x1 = panel.plot_item.vb.viewRange()[0]
    assert 95 <= x0 <= 105 and 195 <= x1 <= 205
    y0, y1 = panel.plot_item.vb.viewRange()[1]
    visible = np.log10(np.geomspace(3, 0.01, 400)[99:202])
    assert y0 <= visible.min() and y1 >= visible.max() and y1 - y0 < 1.5


def test_export_csv_round_trips(panel: CostPanel, state: AppState, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    costs = rng.random(700) * 3
    costs[123] = np.inf  # a diverging mini-batch is written as it was
    extra = {
        "evaluations": (result(1, 299, 0.25, 0.9125),),
        "markers": (Marker(300, 'lr 3 → 0.5, "slow"'),),
    }
    state.apply_snapshot(snapshot(state, np.arange(300), costs[:300], **extra))
    feed(state, costs[300:], 150, first_step=300)
    path = tmp_path / "out" / "history.csv"
    panel.export_csv(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    batches = [r for r in rows if r["kind"] == "batch"]
    assert [int(r["step"]) for r in batches] == list(range(700))
    np.testing.assert_array_equal([float(r["cost"]) for r in batches], costs)
    smoothed = [float(r["smoothed_cost"]) for r in batches]
    np.testing.assert_array_equal(smoothed, panel.smoothed_costs())
    (epoch,) = [r for r in rows if r["kind"] == "epoch"]
    assert (int(epoch["epoch"]), int(epoch["step"])) == (1, 299)
    assert (float(epoch["test_cost"]), float(epoch["test_accuracy"])) == (0.25, 0.9125)
    (marker,) = [r for r in rows if r["kind"] == "marker"]
    assert (int(marker["step"]), marker["text"]) == (300, 'lr 3 → 0.5, "slow"')
    assert [p.name for p in path.parent.iterdir()] == ["history.csv"]  # no temporary left


def test_a_million_steps_draw_a_bounded_number_of_points(panel: CostPanel, state: AppState) -> None:
    n = 1_000_000
    rng = np.random.default_rng(4)
    costs = 2.0 * np.exp(-np.arange(n) / 2e5) + 0.1 * rng.random(n)
    feed(state, costs, 300)
    steps, got = panel.history_arrays()
    assert steps.size == n and steps[-1] == n - 1
    np.testing.assert_array_equal(got[-300:], costs[-300:])
    panel.redraw()
    x, y = panel.raw_item.getData()
    assert 100 < len(x) < 10_000
    assert x[0] == 0 and x[-1] >= n - 2**12  # the whole run is covered
    assert y.max() == costs.max() and y.min() == costs.min()  # peaks kept
    assert len(panel.smoothed_item.getData()[0]) < 10_000
    panel.set_step_range(500_000, 500_400)  # zoom in: full detail
    assert not panel.following
    x, y = panel.raw_item.getData()
    assert x[0] <= 500_000 and x[-1] >= 500_400 and len(x) < 1000
    np.testing.assert_array_equal(y, costs[x.astype(int)])
    panel.grab()


def test_the_x_range_follows_the_run_in_nice_jumps(panel: CostPanel, state: AppState) -> None:
    feed(state, np.ones(1000), 300)
    panel.redraw()
    x0, x1 = panel.plot_item.vb.viewRange()[0]
    assert x0 <= 0 and 999 <= x1 <= 1.25 * 1000 + 30
    feed(state, np.ones(10), 10, first_step=1000)  # 1010 steps: the range jumps once ...
    panel.redraw()
    wider = panel.plot_item.vb.viewRange()[0]
    assert wider[1] > x1 and wider[1] >= 1009
    feed(state, np.ones(10), 10, first_step=1010)  # ... and then stays put
    panel.redraw()
    assert panel.plot_item.vb.viewRange()[0] == wider


def test_nice_cost_range() -> None:
    values = np.array([np.nan, 0.02, 2.3, np.inf, 0.7])
    assert nice_cost_range(values, log=False) == (0.0, 2.5)
    assert nice_cost_range(values, log=True) == (-2.0, 0.5)
    assert nice_cost_range(np.array([np.nan]), log=True) == (-1.0, 1.0)


def test_nice_extent() -> None:
    assert [nice_extent(v) for v in (1, 7, 101, 1000, 1001, 1260, 8001)] == [
        1,
        8,
        125,
        1000,
        1250,
        1500,
        10000,
    ]
    spans = np.geomspace(1, 1e7, 500)
    extents = np.array([nice_extent(v) for v in spans])
    assert np.all(extents >= spans) and np.all(extents <= spans * 4 / 3 + 1e-9)


def test_stable_range_keeps_a_range_while_it_fits() -> None:
    assert stable_range(None, (0.0, 2.0)) == (0.0, 2.0)
    assert stable_range((0.0, 2.5), (0.0, 2.0)) == (0.0, 2.5)  # holds it, not too wide
    assert stable_range((0.0, 2.5), (0.0, 3.0)) == (0.0, 3.0)  # the data left it
    assert stable_range((0.0, 2.5), (0.0, 1.25)) == (0.0, 1.25)  # twice too wide
    assert stable_range((-1.0, 1.0), (-0.5, 0.5), slack=2.0) == (-1.0, 1.0)


def test_mouse_wheel_zoom_stops_following_until_show_all(
    qtbot: QtBot, panel: CostPanel, state: AppState
) -> None:
    feed(state, np.linspace(2, 1, 4000), 400)
    panel.redraw()
    QApplication.processEvents()  # the view applies its new range before we map points
    full = panel.plot_item.vb.viewRange()[0]
    centre = panel.plot_item.vb.mapViewToScene(QPointF(2000, 1.5))
    where = QPointF(panel._plot_widget.mapFromScene(centre))
    wheel = QWheelEvent(
        where,
        QPointF(panel._plot_widget.viewport().mapToGlobal(where.toPoint())),
        QPoint(0, 0),
        QPoint(0, 480),  # four notches towards the user: zoom in
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(panel._plot_widget.viewport(), wheel)
    assert not panel.following
    zoomed = panel.plot_item.vb.viewRange()[0]
    assert zoomed[1] - zoomed[0] < 0.8 * (full[1] - full[0])
    feed(state, np.ones(4000), 400, first_step=4000)  # new steps do not move a zoomed view
    panel.redraw()
    assert panel.plot_item.vb.viewRange()[0] == pytest.approx(zoomed)
    x, _ = panel.raw_item.getData()
    assert x[0] >= zoomed[0] - 50 and x[-1] <= zoomed[1] + 50  # only the zoomed part drawn
    panel._all_button.click()
    assert panel.following
    x0, x1 = panel.plot_item.vb.viewRange()[0]
    assert x0 <= 0 and x1 >= 7999

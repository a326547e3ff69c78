"""The loss-surface worker and its controller in a real QThread, fed by a real Trainer run."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from nnviz.core import surface
from nnviz.core.datasets import Dataset, load_mnist
from nnviz.core.errors import Cancelled
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.snapshot import EpochResult, Snapshot
from nnviz.gui.state import AppState
from nnviz.gui.surface_compute import ComputeProcess
from nnviz.gui.surface_controller import SurfaceController
from nnviz.gui.surface_path import next_cost_index, spread
from nnviz.gui.surface_types import SurfaceGrid, SurfaceSettings
from nnviz.gui.surface_worker import MIN_REFIT_GAP

SMALL = SurfaceSettings(resolution=11, subset=1_000)


@pytest.fixture(scope="module")
def data(mnist_dir: Path) -> Dataset:
    return load_mnist(mnist_dir, download_missing=False)


class Run:
    """An AppState fed with snapshots of a real trainer, and the surface controller."""

    def __init__(self, qtbot, data: Dataset, net: Network | None = None) -> None:
        self.qtbot, self.data = qtbot, data
        self.net = net if net is not None else MODERN.network()
        self.state = AppState(self.net)
        self.controller = SurfaceController(self.state)
        self.trainer = Trainer(self.net, data.train_x, data.train_y, MODERN.config)
        self.thetas = [self.net.theta.copy()]  # step 0: what the controller records first
        self.steps = [0]
        self.grids: list[SurfaceGrid] = []
        self.controller.grid_changed.connect(self.grids.append)

    def feed(self, snapshots: int, steps: int = 50, wait_ms: int = 10, epoch: bool = False) -> None:
        """Train ``steps`` mini-batches per snapshot and hand each snapshot to the state."""
        for k in range(snapshots):
            self.trainer.step(steps)
            evaluations = ()
            if epoch and k == snapshots - 1:
                evaluations = (
                    EpochResult(1, self.trainer.step_count, 0.0, 0.0, np.zeros((10, 10))),
                )
            theta = self.net.theta.copy()
            self.state.apply_snapshot(
                Snapshot(
                    self.state.generation, self.net.sizes, self.net.activation, self.net.cost,
                    theta, step=self.trainer.step_count, state="running", evaluations=evaluations,
                )
            )  # fmt: skip
            self.thetas.append(theta)
            self.steps.append(self.trainer.step_count)
            self.qtbot.wait(wait_ms)

    def wait_grid(self, after: int = 0, timeout: int = 30_000) -> SurfaceGrid:
        """The first grid newer than fit ``after``, once its path view arrived too."""
        ctl = self.controller

        def ready() -> bool:
            grid, path = ctl.grid, ctl.path
            return (
                grid is not None and grid.fit > after and path is not None and path.fit == grid.fit
            )

        self.qtbot.waitUntil(ready, timeout=timeout)
        assert ctl.grid is not None
        return ctl.grid

    def subset(self, settings: SurfaceSettings) -> tuple[np.ndarray, np.ndarray]:
        idx = surface.evaluation_subset(len(self.data.train_x), settings.subset, settings.seed)
        return self.data.train_x[idx], self.data.train_y[idx]


def settle(run: Run) -> SurfaceGrid:
    """Wait until no automatic refit is due (early paths refit by themselves)."""
    count = -1
    while count != len(run.grids):
        count = len(run.grids)
        run.qtbot.wait(int(1000 * MIN_REFIT_GAP) + 500)
        run.qtbot.waitUntil(lambda: run.controller.rows == (0, 0), timeout=20_000)
    assert run.controller.grid is not None
    return run.controller.grid


@pytest.fixture
def run(qtbot, data: Dataset) -> Iterator[Run]:
    r = Run(qtbot, data)
    try:
        yield r
    finally:
        assert r.controller.shutdown()


def test_a_refit_gives_the_exact_cost_on_a_grid_of_the_chosen_size(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(6)
    run.controller.refit()
    grid = run.wait_grid(after=max([g.fit for g in run.grids], default=0))
    assert grid.kind == "pca" and grid.costs.shape == (11, 11)
    assert grid.a.shape == grid.b.shape == (11,) and grid.subset == 1_000
    assert grid.plane is not None and grid.cost_name == run.net.cost
    x, y = run.subset(SMALL)
    probe = run.net.copy()
    for i, j in ((0, 0), (5, 5), (10, 3), (2, 10)):
        probe.theta = grid.plane.point(grid.a[j], grid.b[i])
        assert grid.costs[i, j] == pytest.approx(probe.evaluate(x, y)[0], rel=1e-4)
    # the grid holds the whole path, which is where the plane's own projection puts it
    path = run.controller.path
    assert path is not None and len(path.steps) == len(run.steps)
    np.testing.assert_array_equal(path.steps, run.steps)
    coords, distances = surface.project(grid.plane, np.array(run.thetas))
    np.testing.assert_allclose(path.coords, coords, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(path.distances, distances, rtol=1e-6, atol=1e-6)
    assert np.all(path.distances >= 0)
    assert grid.a[0] <= coords[:, 0].min() and coords[:, 0].max() <= grid.a[-1]
    assert grid.b[0] <= coords[:, 1].min() and coords[:, 1].max() <= grid.b[-1]
    assert 0 < grid.explained <= 1 and 0 < path.explained <= 1
    assert path.path_length == pytest.approx(np.sum(np.hypot(*np.diff(coords, axis=0).T)))


def test_switching_planes(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(5)
    fit = run.wait_grid().fit
    for kind in ("start_to_now", "random", "pca"):
        run.controller.configure(dataclasses.replace(SMALL, plane=kind))
        grid = run.wait_grid(after=fit)
        fit = grid.fit
        path = run.controller.path
        assert path is not None and grid.kind == kind and grid.costs.shape == (11, 11)
        assert np.all(np.isfinite(grid.costs)) and np.all(path.distances >= 0)
        if kind == "start_to_now":  # the plane starts at the first point, along the way to now
            np.testing.assert_allclose(path.coords[0], [0.0, 0.0], atol=1e-9)
            assert path.distances[0] == pytest.approx(0.0, abs=1e-9)
            assert grid.label1 == "start to now"
        if kind == "random":  # through the newest point, filter-normalised directions
            assert path.distances[-1] == pytest.approx(0.0, abs=1e-4)
            for axis in (grid.a, grid.b):  # at least +-0.75 weight norms wide, as Li et al.
                assert axis[-1] - axis[0] >= 1.5 - 1e-9 and axis[0] < 0 < axis[-1]
            assert "random direction 1" in grid.label1


def test_a_grid_does_not_block_the_gui(run: Run) -> None:
    run.controller.configure(dataclasses.replace(SMALL, subset=10_000, resolution=41))
    run.state.set_dataset(run.data)
    run.feed(6)
    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    fit = max([g.fit for g in run.grids], default=0)
    run.qtbot.waitUntil(lambda: run.controller.rows[1] == 0, timeout=30_000)  # the first grid
    clock.start()
    timer.start(10)
    busy: list[bool] = []
    run.controller.progress.connect(lambda done, rows: busy.append(rows > 0))
    run.controller.refit()
    run.wait_grid(after=max([g.fit for g in run.grids], default=fit))
    timer.stop()
    assert any(busy), "no grid was computed"
    gaps = np.diff(ticks)
    assert len(ticks) > 20
    assert gaps.max() < 100, f"the event loop stalled for {gaps.max()} ms"


def test_a_new_network_cancels_the_grid_and_starts_a_new_path(run: Run) -> None:
    run.controller.configure(dataclasses.replace(SMALL, subset=60_000, resolution=41))
    run.state.set_dataset(run.data)
    run.feed(5)
    run.qtbot.waitUntil(lambda: run.controller.rows[0] >= 1, timeout=20_000)  # mid-grid
    old = run.state.generation
    start = time.perf_counter()
    run.state.set_network(Network((784, 32, 10), activation="relu", cost="cross_entropy"))
    assert run.controller.grid is None and run.controller.path is None
    run.qtbot.waitUntil(lambda: run.controller.rows == (0, 0), timeout=5_000)
    assert time.perf_counter() - start < 3.0
    assert all(g.generation == old for g in run.grids)  # no grid of the old network since
    run.grids.clear()
    # the new architecture trains and gets its own path and surface
    net = run.state.net
    run.net, run.thetas, run.steps = net, [net.theta.copy()], [0]
    run.trainer = Trainer(net, run.data.train_x, run.data.train_y, MODERN.config)
    run.controller.configure(SMALL)
    run.feed(4)
    grid = run.wait_grid()
    assert grid.generation == run.state.generation and grid.plane is not None
    assert grid.plane.n_params == net.n_params and grid.costs.shape == (11, 11)
    path = run.controller.path
    assert path is not None and path.generation == run.state.generation
    np.testing.assert_array_equal(path.steps, run.steps)  # the old path is gone


def test_shutdown_mid_grid_stops_within_a_second(run: Run) -> None:
    run.controller.configure(dataclasses.replace(SMALL, subset=10_000, resolution=61))
    run.state.set_dataset(run.data)
    run.feed(4)
    run.qtbot.waitUntil(lambda: run.controller.rows[0] >= 1, timeout=20_000)
    start = time.perf_counter()
    assert run.controller.shutdown()
    assert time.perf_counter() - start < 1.0
    assert not run.controller.handle.thread.isRunning()


def test_new_settings_cancel_a_running_grid(run: Run) -> None:
    run.controller.configure(dataclasses.replace(SMALL, subset=60_000, resolution=61))
    run.state.set_dataset(run.data)
    run.feed(4)
    run.qtbot.waitUntil(lambda: run.controller.rows[1] == 61, timeout=10_000)
    start = time.perf_counter()
    run.controller.configure(SMALL)
    grid = run.wait_grid(timeout=10_000)
    assert grid.costs.shape == (11, 11)
    assert time.perf_counter() - start < 8.0  # the 61 x 61 grid on 60,000 images takes minutes
    assert all(g.costs.shape == (11, 11) for g in run.grids)


def test_true_costs_fill_in_over_time(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(8)
    run.wait_grid()
    ctl = run.controller
    run.qtbot.waitUntil(
        lambda: ctl.path is not None and bool(np.all(np.isfinite(ctl.path.true_costs))),
        timeout=30_000,
    )
    assert ctl.path is not None
    x, y = run.subset(SMALL)
    probe = run.net.copy()
    for theta, cost in zip(run.thetas, ctl.path.true_costs, strict=True):
        probe.theta = theta
        assert cost == pytest.approx(probe.evaluate(x, y)[0], rel=1e-9)
    assert ctl.path.true_costs[-1] < ctl.path.true_costs[0]  # training lowered the cost


def test_the_surface_follows_the_path_by_itself(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(3, steps=20)
    run.wait_grid()
    settled = settle(run)
    # the path grows far beyond this grid: a refit follows without being asked
    run.feed(30, steps=100, wait_ms=20)
    grid = run.wait_grid(after=settled.fit, timeout=20_000)
    path = run.controller.path
    assert path is not None and grid.plane is not None
    assert len(path.steps) > 4 + 8  # the plane was fitted to the longer path
    assert grid.a[-1] - grid.a[0] > 2 * (settled.a[-1] - settled.a[0])


def test_an_epoch_end_refits_automatically(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(4)
    run.wait_grid()
    first = settle(run)
    run.qtbot.wait(2_200)  # past the gap between automatic refits
    run.feed(1, steps=1, epoch=True)
    assert run.wait_grid(after=first.fit, timeout=10_000).fit > first.fit


def test_a_path_turning_away_from_the_plane_refits_it(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    rng = np.random.default_rng(0)
    e1, e2, e3 = np.linalg.qr(rng.standard_normal((run.net.n_params, 3)))[0].T  # orthonormal
    origin = run.net.theta.astype(np.float64)

    def point(step: int, theta: np.ndarray) -> None:
        net = run.net
        snapshot = Snapshot(run.state.generation, net.sizes, net.activation, net.cost,
                            theta.astype(np.float32), step=step)  # fmt: skip
        run.state.apply_snapshot(snapshot)
        run.qtbot.wait(30)

    for k in range(1, 8):  # along e1, wobbling along e2: a plane explains it all
        point(k, origin + 0.5 * k * e1 + 0.05 * (-1) ** k * e2)
    first = settle(run)
    assert first.explained > 0.99
    for j in range(1, 8):  # then straight along e3, out of the plane but not out of the grid
        point(7 + j, origin + 3.5 * e1 + 0.6 * j * e3)
    grid = run.wait_grid(after=first.fit, timeout=15_000)
    path = run.controller.path
    assert path is not None and path.fit == grid.fit and grid.explained > 0.9


def test_no_surface_without_data_and_a_clear_failure(run: Run) -> None:
    run.controller.configure(SMALL)
    run.feed(4)
    run.qtbot.wait(300)
    assert run.controller.grid is None  # no MNIST yet: nothing to evaluate
    failures: list[str] = []
    run.controller.failed.connect(failures.append)
    frozen = run.net.theta.copy()
    run.state.set_network(run.net)  # a new path of identical points spans no plane
    run.thetas, run.steps = [frozen], [0]
    for step in (1, 2, 3):
        run.state.apply_snapshot(
            Snapshot(run.state.generation, run.net.sizes, run.net.activation, run.net.cost,
                     frozen.copy(), step=step, state="running")
        )  # fmt: skip
    run.state.set_dataset(run.data)
    run.qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert "equal" in failures[0] and run.controller.error == failures[0]
    assert run.controller.grid is None


def test_cost_order_is_newest_first_then_coarse_to_fine() -> None:
    known = np.zeros(9, dtype=bool)
    order = []
    while (i := next_cost_index(known)) is not None:
        order.append(i)
        known[i] = True
    assert order == [8, 0, 4, 2, 6, 1, 3, 5, 7]


def test_planes_are_fitted_to_evenly_spread_points() -> None:
    path = np.arange(1000.0)[:, None] * np.ones((1, 3))
    picked = spread(path, 300)
    assert len(picked) == 300 and picked[0, 0] == 0 and picked[-1, 0] == 999
    assert np.ptp(np.diff(picked[:, 0])) <= 1
    assert spread(path[:5], 300) is not None and len(spread(path[:5], 300)) == 5
    assert math.isclose(float(picked[150, 0]), 150 * 999 / 299, abs_tol=1)


# ------------------------------------------------------------------ the surface process
class Flag:
    """A stop flag set from the test."""

    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


def test_the_surface_process_computes_cancels_and_restarts(data: Dataset) -> None:
    x, y = data.train_x[:300], data.train_y[:300]
    net = MODERN.network()
    thetas = np.stack([net.theta, net.theta * 0.9, net.theta * 1.1])
    plane = surface.pca_plane(thetas)
    a = b = np.linspace(-0.5, 0.5, 7)
    spec = (net.sizes, net.activation, net.cost)
    engine = ComputeProcess()
    try:
        engine.set_data(x, y)
        rows: list[tuple[int, int]] = []
        grid = engine.grid(spec, plane, a, b, Flag(), Flag(), lambda d, r: rows.append((d, r)))
        np.testing.assert_array_equal(grid, surface.cost_grid(net, plane, x, y, a, b))
        assert rows == [(i, 7) for i in range(1, 8)]
        costs = engine.path_costs(spec, thetas, Flag(), Flag())
        np.testing.assert_array_equal(costs, surface.path_costs(net, thetas, x, y))
        stop = Flag()

        def stop_after_two(done: int, _rows: int) -> None:
            stop.value = done >= 2

        big = np.linspace(-0.5, 0.5, 61)
        with pytest.raises(Cancelled):
            engine.grid(spec, plane, big, big, stop, Flag(), stop_after_two)
        quit_now = Flag()
        quit_now.value = True
        start = time.perf_counter()
        with pytest.raises(Cancelled):
            engine.grid(spec, plane, big, big, Flag(), quit_now, lambda d, r: None)
        assert time.perf_counter() - start < 0.2
        engine._process.kill()  # a crash: the next call restarts it with the same images
        engine._process.join()
        again = engine.path_costs(spec, thetas, Flag(), Flag())
        np.testing.assert_array_equal(again, costs)
    finally:
        engine.close()
    assert engine._process is None

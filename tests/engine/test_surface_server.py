"""The loss-surface server through an Engine (child process and thread), fed by a real run."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator

import numpy as np
import pytest
from engine_helpers import Hosted, hosting

from nnviz.core import surface
from nnviz.core.datasets import Dataset
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.messages import (
    AddPoint,
    ConfigureSurface,
    Failed,
    GridProgress,
    PathView,
    Refit,
    StartPath,
    SurfaceData,
    SurfaceGrid,
    SurfaceSettings,
)
from nnviz.engine.path import next_cost_index, spread
from nnviz.engine.surface import MIN_REFIT_GAP, SurfaceServer

SMALL = SurfaceSettings(resolution=11, subset=1_000)
#: A grid that takes a minute or more (61 rows of 61 costs on all 60,000 images).
BIG = SurfaceSettings(resolution=61, subset=60_000)
#: Long enough to see a grid of SMALL, far too short for one of BIG.
CANCEL_TIMEOUT = 20.0


class Surface:
    """A surface server hosted by an Engine, fed with the path of a real trainer."""

    def __init__(self, hosted: Hosted, data: Dataset) -> None:
        self.hosted, self.data = hosted, data
        self.post, self.wait = hosted.post, hosted.wait
        self.generation = 0
        self.start(MODERN.network())

    def start(self, net: Network) -> None:
        """A new network, as the app announces it: StartPath, then its step 0."""
        self.generation += 1
        self.net = net
        self.trainer = Trainer(net, self.data.train_x, self.data.train_y, MODERN.config)
        self.thetas = [net.theta.copy()]
        self.steps = [0]
        self.post(StartPath(self.generation, net.sizes, net.activation, net.cost))
        self.post(AddPoint(self.generation, 0, net.theta.copy()))

    def feed(self, points: int, steps: int = 50, pause: float = 0.01) -> None:
        """Train ``steps`` mini-batches per point and send each point."""
        for _ in range(points):
            self.trainer.step(steps)
            self.point(self.trainer.step_count, self.net.theta.copy())
            time.sleep(pause)

    def point(self, step: int, theta: np.ndarray) -> None:
        self.thetas.append(theta)
        self.steps.append(step)
        self.post(AddPoint(self.generation, step, theta))

    def subset(self, settings: SurfaceSettings) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.data.train_x)
        idx = surface.evaluation_subset(n, min(settings.subset, n), settings.seed)
        return self.data.train_x[idx], self.data.train_y[idx]

    def send_data(self, settings: SurfaceSettings) -> None:
        self.post(SurfaceData(*self.subset(settings)))

    @property
    def grids(self) -> list[SurfaceGrid]:
        return self.hosted.of(SurfaceGrid)

    def path(self) -> PathView | None:
        """The newest view of the current network's path."""
        views = [v for v in self.hosted.of(PathView) if v.generation == self.generation]
        return views[-1] if views else None

    def progress(self) -> GridProgress | None:
        replies = self.hosted.of(GridProgress)
        return replies[-1] if replies else None

    def wait_grid(
        self, after: int = 0, timeout: float = 60.0, kind: str | None = None
    ) -> tuple[SurfaceGrid, PathView]:
        """The newest grid of this network newer than fit ``after``, once its path view came."""
        found: list[tuple[SurfaceGrid, PathView]] = []

        def ready() -> bool:
            grids = [
                g
                for g in self.grids
                if g.generation == self.generation
                and g.fit > after
                and (kind is None or g.kind == kind)
            ]
            path = self.path()
            if grids and path is not None and path.fit == grids[-1].fit:
                found.append((grids[-1], path))
                return True
            return False

        self.wait(ready, timeout, f"a grid after fit {after}")
        return found[-1]

    def settle(self) -> SurfaceGrid:
        """Wait until no automatic refit is due (early paths refit by themselves)."""
        count = -1
        while count != len(self.grids):
            count = len(self.grids)
            time.sleep(MIN_REFIT_GAP + 0.5)
            self.wait(lambda: self.progress() == GridProgress(0, 0), what="the grid to finish")
        return self.grids[-1]

    def refit_now(self) -> tuple[SurfaceGrid, PathView]:
        """The user's refit, once the server is idle: the grid it gives."""
        self.wait(lambda: self.progress() == GridProgress(0, 0), what="an idle server")
        fit = max(g.fit for g in self.grids)
        self.post(Refit())
        return self.wait_grid(after=fit)


@pytest.fixture
def run(mode: str, mnist: Dataset) -> Iterator[Surface]:
    with hosting(SurfaceServer, mode, "loss-surface") as hosted:
        yield Surface(hosted, mnist)
        assert not hosted.deaths


def no_failures(run: Surface) -> None:
    assert not run.hosted.of(Failed), run.hosted.of(Failed)


def test_a_refit_gives_the_exact_cost_on_a_grid_of_the_chosen_size(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.feed(6)
    run.send_data(SMALL)  # the path is complete before a grid can be computed
    run.post(Refit())
    grid, path = run.wait_grid()
    assert grid.kind == "pca" and grid.costs.shape == (11, 11)
    assert grid.a.shape == grid.b.shape == (11,) and grid.subset == 1_000
    assert grid.plane is not None and grid.cost_name == run.net.cost
    assert grid.generation == run.generation
    x, y = run.subset(SMALL)
    probe = run.net.copy()
    for i, j in ((0, 0), (5, 5), (10, 3), (2, 10)):
        probe.theta = grid.plane.point(grid.a[j], grid.b[i])
        assert grid.costs[i, j] == pytest.approx(probe.evaluate(x, y)[0], rel=1e-4)
    # the grid holds the whole path, which is where the plane's own projection puts it
    np.testing.assert_array_equal(path.steps, run.steps)
    coords, distances = surface.project(grid.plane, np.array(run.thetas))
    np.testing.assert_allclose(path.coords, coords, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(path.distances, distances, rtol=1e-6, atol=1e-6)
    assert np.all(path.distances >= 0)
    assert grid.a[0] <= coords[:, 0].min() and coords[:, 0].max() <= grid.a[-1]
    assert grid.b[0] <= coords[:, 1].min() and coords[:, 1].max() <= grid.b[-1]
    assert 0 < grid.explained <= 1 and 0 < path.explained <= 1
    assert path.path_length == pytest.approx(np.sum(np.hypot(*np.diff(coords, axis=0).T)))
    no_failures(run)


def test_switching_planes(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.feed(5)
    run.send_data(SMALL)
    fit = run.wait_grid()[0].fit
    for kind in ("start_to_now", "random", "pca"):
        run.post(ConfigureSurface(dataclasses.replace(SMALL, plane=kind)))
        grid, path = run.wait_grid(after=fit, kind=kind)
        fit = grid.fit
        assert grid.costs.shape == (11, 11) and np.all(np.isfinite(grid.costs))
        assert np.all(path.distances >= 0)
        np.testing.assert_array_equal(path.steps, run.steps)
        if kind == "start_to_now":  # the plane starts at the first point, along the way to now
            np.testing.assert_allclose(path.coords[0], [0.0, 0.0], atol=1e-9)
            assert path.distances[0] == pytest.approx(0.0, abs=1e-9)
            assert grid.label1 == "start to now"
        if kind == "random":  # through the newest point, filter-normalised directions
            assert path.distances[-1] == pytest.approx(0.0, abs=1e-4)
            for axis in (grid.a, grid.b):  # at least +-0.75 weight norms wide, as Li et al.
                assert axis[-1] - axis[0] >= 1.5 - 1e-9 and axis[0] < 0 < axis[-1]
            assert "random direction 1" in grid.label1
    no_failures(run)


def test_a_new_network_cancels_the_grid_and_starts_a_new_path(run: Surface) -> None:
    run.post(ConfigureSurface(BIG, refit=False))
    run.send_data(BIG)
    run.feed(5)
    run.wait(lambda: (p := run.progress()) is not None and p.done >= 1, what="a grid under way")
    old = run.generation
    count = len(run.hosted.replies)
    run.start(Network((784, 32, 10), activation="relu", cost="cross_entropy"))
    run.wait(
        lambda: GridProgress(0, 0) in run.hosted.replies[count:],
        CANCEL_TIMEOUT,
        "the big grid to be cancelled",
    )
    assert not [g for g in run.grids if g.generation == old]  # the old grid never came
    # the new architecture trains and gets its own path and surface
    run.send_data(SMALL)
    run.post(ConfigureSurface(SMALL))
    run.feed(4)
    grid, path = run.wait_grid(timeout=CANCEL_TIMEOUT)
    assert grid.generation == run.generation and grid.plane is not None
    assert grid.plane.n_params == run.net.n_params and grid.costs.shape == (11, 11)
    assert path.generation == run.generation
    # the new path holds the new network's points only: the old path is gone
    run.wait(lambda: (p := run.path()) is not None and len(p.steps) == len(run.steps))
    newest = run.path()
    assert newest is not None
    np.testing.assert_array_equal(newest.steps, run.steps)
    no_failures(run)


def test_new_settings_cancel_a_running_grid(run: Surface) -> None:
    run.post(ConfigureSurface(BIG, refit=False))
    run.send_data(BIG)
    run.feed(4)
    run.wait(
        lambda: (p := run.progress()) is not None and p.rows == BIG.resolution and p.done >= 1,
        what="a big grid under way",
    )
    run.send_data(SMALL)
    run.post(ConfigureSurface(SMALL))
    grid, _ = run.wait_grid(timeout=CANCEL_TIMEOUT)  # the 61 x 61 grid takes a minute or more
    assert grid.costs.shape == (11, 11) and grid.subset == SMALL.subset
    assert all(g.costs.shape == (11, 11) for g in run.grids)
    no_failures(run)


def test_true_costs_fill_in_over_time(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.feed(8)
    run.send_data(SMALL)
    run.wait_grid()
    run.wait(
        lambda: (p := run.path()) is not None and bool(np.all(np.isfinite(p.true_costs))),
        what="every true cost",
    )
    path = run.path()
    assert path is not None
    np.testing.assert_array_equal(path.steps, run.steps)
    x, y = run.subset(SMALL)
    probe = run.net.copy()
    for theta, cost in zip(run.thetas, path.true_costs, strict=True):
        probe.theta = theta
        assert cost == pytest.approx(probe.evaluate(x, y)[0], rel=1e-9)
    assert path.true_costs[-1] < path.true_costs[0]  # training lowered the cost
    no_failures(run)


def test_the_surface_follows_the_path_by_itself(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.send_data(SMALL)
    run.feed(3, steps=20)
    run.wait_grid()
    settled = run.settle()
    # the path grows far beyond this grid: refits follow without being asked
    run.feed(30, steps=100, pause=0.02)
    found: list[SurfaceGrid] = []

    def covered() -> bool:
        """A newer grid holds the whole path (its view shows every point inside)."""
        grids = [g for g in run.grids if g.fit > settled.fit]
        path = run.path()
        if not grids or path is None or path.fit != grids[-1].fit:
            return False
        grid, (a, b) = grids[-1], path.coords.T
        found.append(grid)
        return len(path.steps) == len(run.steps) and bool(
            grid.a[0] <= a.min() and a.max() <= grid.a[-1]
            and grid.b[0] <= b.min() and b.max() <= grid.b[-1]
        )  # fmt: skip

    run.wait(covered, what="a grid holding the whole path")
    grid = found[-1]
    assert grid.plane is not None
    assert grid.a[-1] - grid.a[0] > 2 * (settled.a[-1] - settled.a[0])
    no_failures(run)


def test_an_epoch_end_refits_automatically(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.send_data(SMALL)
    run.feed(4)
    run.wait_grid()
    first = run.settle()  # nothing is due any more, and the refit gap has passed
    run.post(Refit(auto=True))  # what the app sends at the end of an epoch
    grid, _ = run.wait_grid(after=first.fit)
    assert grid.fit > first.fit
    no_failures(run)


def test_a_path_turning_away_from_the_plane_refits_it(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL, refit=False))
    run.send_data(SMALL)
    rng = np.random.default_rng(0)
    e1, e2, e3 = np.linalg.qr(rng.standard_normal((run.net.n_params, 3)))[0].T  # orthonormal
    origin = run.thetas[0].astype(np.float64)

    def point(step: int, theta: np.ndarray) -> None:
        run.point(step, theta.astype(np.float32))
        time.sleep(0.03)

    for k in range(1, 8):  # along e1, wobbling along e2: a plane explains it all
        point(k, origin + 0.5 * k * e1 + 0.05 * (-1) ** k * e2)
    first = run.settle()
    assert first.explained > 0.99
    for j in range(1, 8):  # then straight along e3, out of the plane but not out of the grid
        point(7 + j, origin + 3.5 * e1 + 0.6 * j * e3)
    grid, path = run.wait_grid(after=first.fit)
    assert path.fit == grid.fit and grid.explained > 0.9
    no_failures(run)


def test_no_surface_without_data_and_a_clear_failure(run: Surface) -> None:
    run.post(ConfigureSurface(SMALL))
    run.feed(4)
    time.sleep(0.5)
    assert run.grids == [] and run.progress() is None  # no images yet: nothing to evaluate
    frozen = run.net.theta.copy()
    run.start(run.net)  # a new path of identical points spans no plane
    for step in (1, 2, 3):
        run.point(step, frozen.copy())
    run.send_data(SMALL)
    run.wait(lambda: run.hosted.of(Failed), what="the failure")
    message = run.hosted.of(Failed)[0].message
    assert "equal" in message and "internal error" not in message
    run.wait(lambda: run.progress() == GridProgress(0, 0), what="the server to be idle")
    assert run.grids == []


# ------------------------------------------------------------------ path helpers
def test_cost_order_is_newest_first_then_coarse_to_fine() -> None:
    known = np.zeros(9, dtype=bool)
    order = []
    while (i := next_cost_index(known)) is not None:
        order.append(i)
        known[i] = True
    assert order == [8, 0, 4, 2, 6, 1, 3, 5, 7]
    assert next_cost_index(np.ones(3, dtype=bool)) is None


def test_planes_are_fitted_to_evenly_spread_points() -> None:
    path = np.arange(1000.0)[:, None] * np.ones((1, 3))
    picked = spread(path, 300)
    assert len(picked) == 300 and picked[0, 0] == 0 and picked[-1, 0] == 999
    assert np.ptp(np.diff(picked[:, 0])) <= 1
    assert len(spread(path[:5], 300)) == 5
    assert math.isclose(float(picked[150, 0]), 150 * 999 / 299, abs_tol=1)

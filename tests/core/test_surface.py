"""Loss-surface planes, projection of the path, and the fast cost grid."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import nnviz.core.surface as surface
from nnviz.core import datasets
from nnviz.core.errors import Cancelled, ConfigError
from nnviz.core.modelio import load_model
from nnviz.core.network import ACTIVATIONS, COSTS, Network
from nnviz.core.surface import (
    Plane,
    cost_grid,
    cost_grid_naive,
    evaluation_subset,
    explained_fraction,
    fit_range,
    path_costs,
    pca_plane,
    project,
    random_plane,
    start_to_now_plane,
)
from nnviz.paths import bundled_model_path

P = 300


@pytest.fixture(scope="module")
def images(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """300 real training images and labels."""
    data = datasets.load_mnist(mnist_dir, download_missing=False)
    idx = evaluation_subset(len(data.train_x), size=300, seed=1)
    return data.train_x[idx], data.train_y[idx]


def skew_plane(rng: np.random.Generator, n: int = P) -> Plane:
    """A plane with non-orthogonal directions of different lengths."""
    d1 = rng.standard_normal(n) * 2.0
    d2 = 0.6 * d1 + rng.standard_normal(n) * 0.5
    return Plane("test", rng.standard_normal(n) * 3, d1, d2, math.nan, "a", "b")


def off_plane(plane: Plane, rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` random unit vectors orthogonal to the plane's directions."""
    q, _ = plane.basis()
    v = rng.standard_normal((k, plane.n_params))
    v -= (v @ q) @ q.T
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def path_in(basis: np.ndarray, centre: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points ``centre + coefficients @ basis`` with decreasing spreads."""
    spreads = 10.0 / np.arange(1, len(basis) + 1) ** 2
    return centre + (rng.standard_normal((n, len(basis))) * spreads) @ basis


# ------------------------------------------------------------------ planes and projection
def test_points_in_the_plane_project_to_their_coordinates() -> None:
    rng = np.random.default_rng(0)
    plane = skew_plane(rng)
    ab = rng.uniform(-5, 5, (40, 2))
    thetas = plane.origin + ab[:, :1] * plane.d1 + ab[:, 1:] * plane.d2
    coords, distances = project(plane, thetas)
    np.testing.assert_allclose(coords, ab, rtol=1e-6, atol=1e-9)
    assert np.all(distances < 1e-9 * np.linalg.norm(thetas - plane.origin, axis=1).max())


def test_offsets_off_the_plane_give_their_distance() -> None:
    rng = np.random.default_rng(1)
    plane = skew_plane(rng)
    ab = rng.uniform(-5, 5, (25, 2))
    lengths = rng.uniform(0.1, 3.0, 25)
    offsets = off_plane(plane, rng, 25) * lengths[:, None]
    thetas = plane.origin + ab[:, :1] * plane.d1 + ab[:, 1:] * plane.d2 + offsets
    coords, distances = project(plane, thetas.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(coords, ab, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(distances, lengths, rtol=1e-5)


def test_projection_of_a_float32_path_in_chunks_matches(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    plane = skew_plane(rng)
    thetas = rng.standard_normal((30, P)).astype(np.float32)
    whole = project(plane, thetas)
    monkeypatch.setattr(surface, "_CHUNK_BYTES", 8 * 30 * 7)  # 7 columns per chunk
    chunked = project(plane, thetas)
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-12)
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-12)
    lstsq = np.linalg.lstsq(np.stack([plane.d1, plane.d2], 1), (thetas - plane.origin).T, None)
    np.testing.assert_allclose(whole[0], lstsq[0].T, rtol=1e-9, atol=1e-12)


def test_plane_refuses_parallel_or_mismatched_directions() -> None:
    d = np.ones(5)
    with pytest.raises(ConfigError, match="parallel"):
        Plane("x", np.zeros(5), d, -2 * d, math.nan, "a", "b")
    with pytest.raises(ConfigError, match="parallel"):
        Plane("x", np.zeros(5), np.zeros(5), d, math.nan, "a", "b")
    with pytest.raises(ConfigError, match="d2"):
        Plane("x", np.zeros(5), d, np.ones(4), math.nan, "a", "b")
    with pytest.raises(ConfigError, match="NaN"):
        Plane("x", np.zeros(5), d, np.full(5, np.nan), math.nan, "a", "b")
    plane = Plane("x", np.zeros(5), d, np.arange(5.0), math.nan, "a", "b")
    with pytest.raises(ValueError):
        plane.d1[0] = 3.0  # read-only
    with pytest.raises(ConfigError, match="parameters"):
        project(plane, np.zeros((2, 6)))


def test_pca_plane_of_a_flat_path_explains_everything() -> None:
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.standard_normal((P, 2)))[0].T
    thetas = path_in(basis, rng.standard_normal(P), 60, rng)
    plane = pca_plane(thetas)
    assert plane.kind == "pca" and plane.explained == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(plane.origin, thetas.mean(axis=0), atol=1e-12)
    gram = np.stack([plane.d1, plane.d2]) @ np.stack([plane.d1, plane.d2]).T
    np.testing.assert_allclose(gram, np.eye(2), atol=1e-12)
    assert np.all(project(plane, thetas)[1] < 1e-9)


def test_pca_plane_of_a_3d_path_explains_the_top_two_variances() -> None:
    rng = np.random.default_rng(4)
    basis = np.linalg.qr(rng.standard_normal((P, 3)))[0].T
    thetas = path_in(basis, rng.standard_normal(P), 80, rng)
    plane = pca_plane(thetas)
    s = np.linalg.svd(thetas - thetas.mean(axis=0), compute_uv=False)
    expected = (s[0] ** 2 + s[1] ** 2) / np.sum(s**2)
    assert plane.explained == pytest.approx(expected, rel=1e-10)
    assert 0.5 < plane.explained < 0.999
    assert plane.explained == pytest.approx(explained_fraction(plane, thetas), rel=1e-12)


@pytest.mark.parametrize("n", [50, 650])  # dense eigh, then subspace iteration
def test_pca_directions_are_the_top_singular_vectors(n: int) -> None:
    rng = np.random.default_rng(5)
    steps = rng.standard_normal((n, P)) * np.linspace(3, 0.1, P)  # anisotropic walk
    thetas = np.cumsum(steps, axis=0).astype(np.float32)
    plane = pca_plane(thetas)
    centred = thetas.astype(np.float64) - thetas.mean(axis=0, dtype=np.float64)
    vt = np.linalg.svd(centred, full_matrices=False)[2]
    assert abs(plane.d1 @ vt[0]) == pytest.approx(1.0, abs=1e-9)
    assert abs(plane.d2 @ vt[1]) == pytest.approx(1.0, abs=1e-9)


def test_pca_signs_make_the_path_run_forward_and_follow_a_previous_plane() -> None:
    rng = np.random.default_rng(6)
    basis = np.linalg.qr(rng.standard_normal((P, 3)))[0].T
    thetas = path_in(basis, np.zeros(P), 40, rng)
    for flip in (1.0, -1.0):
        coords = project(pca_plane(thetas * flip), thetas * flip)[0]
        assert np.all(coords[-1] >= coords[0])
    first = pca_plane(thetas)
    longer = np.vstack([thetas, thetas[-1] + 0.1 * rng.standard_normal((5, P))])
    refit = pca_plane(longer, previous=first)
    assert refit.d1 @ first.d1 > 0 and refit.d2 @ first.d2 > 0


def test_pca_plane_needs_a_path_with_spread() -> None:
    with pytest.raises(ConfigError, match="at least 3"):
        pca_plane(np.zeros((2, 5)))
    with pytest.raises(ConfigError, match="equal"):
        pca_plane(np.ones((4, 5)))
    with pytest.raises(ConfigError, match="float"):
        pca_plane(np.ones(5))
    line = np.outer(np.arange(5.0), np.ones(6) / math.sqrt(6)) + 2.0
    plane = pca_plane(line, seed=3)
    assert "random" in plane.label2 and plane.explained == pytest.approx(1.0)
    assert abs(plane.d1 @ plane.d2) < 1e-12


def test_start_to_now_plane_puts_start_at_zero_and_now_on_the_a_axis() -> None:
    rng = np.random.default_rng(7)
    thetas = np.cumsum(rng.standard_normal((30, P)), axis=0)
    plane = start_to_now_plane(thetas)
    coords, distances = project(plane, thetas)
    length = np.linalg.norm(thetas[-1] - thetas[0])
    np.testing.assert_allclose(coords[0], [0, 0], atol=1e-9)
    np.testing.assert_allclose(coords[-1], [length, 0], atol=1e-9)
    assert distances[0] < 1e-9 and distances[-1] < 1e-9
    assert abs(plane.d1 @ plane.d2) < 1e-12 and np.linalg.norm(plane.d2) == pytest.approx(1)
    assert coords[:, 1].mean() >= 0 and 0 < plane.explained < 1
    # d2 is the top principal direction of the path with d1 removed
    centred = thetas - thetas.mean(axis=0)
    sideways = centred - np.outer(centred @ plane.d1, plane.d1)
    top = np.linalg.svd(sideways, full_matrices=False)[2][0]
    assert abs(top @ plane.d2) == pytest.approx(1.0, abs=1e-9)


def test_start_to_now_plane_of_a_straight_path_falls_back_to_a_random_d2() -> None:
    direction = np.random.default_rng(8).standard_normal(P)
    line = np.outer(np.linspace(0, 3, 7), direction)
    plane = start_to_now_plane(line, seed=1)
    assert "random" in plane.label2 and abs(plane.d1 @ plane.d2) < 1e-12
    assert np.allclose(plane.d2, start_to_now_plane(line, seed=1).d2)
    with pytest.raises(ConfigError, match="equals the first"):
        start_to_now_plane(np.vstack([line, line[:1]]))


def test_random_plane_is_filter_normalised_and_seeded() -> None:
    net = Network((20, 6, 5, 3), seed=2)
    plane = random_plane(net, net.theta, seed=11)
    assert plane.kind == "random" and math.isnan(plane.explained)
    np.testing.assert_array_equal(plane.origin, net.theta.astype(np.float64))
    for d in (plane.d1, plane.d2):
        for l, block in enumerate(net.blocks):
            dir_block = d[net.offsets[l] : net.offsets[l + 1]].reshape(block.shape)
            np.testing.assert_allclose(
                np.linalg.norm(dir_block[:, :-1], axis=1),
                np.linalg.norm(block[:, :-1], axis=1),
                rtol=1e-6,
            )
            assert np.all(dir_block[:, -1] == 0)  # bias directions are zero
    again = random_plane(net, net.theta, seed=11)
    np.testing.assert_array_equal(again.d1, plane.d1)
    np.testing.assert_array_equal(again.d2, plane.d2)
    other = random_plane(net, net.theta, seed=12)
    assert not np.allclose(other.d1, plane.d1)


def test_random_plane_reports_how_little_of_a_path_it_explains() -> None:
    net = Network((20, 6, 3), seed=2)
    rng = np.random.default_rng(9)
    path = net.theta + np.cumsum(rng.standard_normal((20, net.n_params)), axis=0)
    plane = random_plane(net, path[-1], seed=0, path=path)
    assert 0 <= plane.explained < 0.5
    with pytest.raises(ConfigError, match="centre"):
        random_plane(net, np.zeros(net.n_params + 1))
    with pytest.raises(ConfigError, match="zero weights"):
        random_plane(net, np.zeros(net.n_params))


def test_fit_range_covers_the_points_and_the_origin_with_a_margin() -> None:
    coords = np.array([[1.0, 2.0], [3.0, 5.0], [2.0, 4.0]])
    a0, a1, b0, b1 = fit_range(coords, margin=0.25)
    assert (a0, a1) == pytest.approx((-0.75, 3.75))  # box [0, 3] includes a = 0
    assert (b0, b1) == pytest.approx((-1.25, 6.25))  # box [0, 5]
    single = fit_range(np.zeros((1, 2)), margin=0.0, min_span=0.5)
    assert single == pytest.approx((-0.25, 0.25, -0.25, 0.25))
    with pytest.raises(ConfigError, match="margin"):
        fit_range(coords, margin=-1)


# ------------------------------------------------------------------ cost grids
def trained_net() -> Network:
    return load_model(bundled_model_path())[0]


def grid_values() -> tuple[np.ndarray, np.ndarray]:
    return np.array([-0.8, -0.3, 0.0, 0.4, 1.0]), np.array([-0.5, 0.0, 0.3, 0.9])


def test_grid_at_the_origin_is_the_cost_of_the_origin(images) -> None:
    x, y = images
    net = trained_net()
    plane = random_plane(net, net.theta, seed=4)
    a, b = grid_values()
    grid = cost_grid(net, plane, x, y, a, b)
    assert grid.shape == (4, 5) and grid.dtype == np.float64
    assert grid[1, 2] == pytest.approx(net.evaluate(x, y)[0], rel=1e-5)
    assert grid[1, 2] < grid.max()  # the trained point is not the worst one around
    np.testing.assert_allclose(grid, cost_grid_naive(net, plane, x, y, a, b), rtol=1e-5)


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("init", ["normal", "scaled"])
def test_fast_grid_equals_the_naive_grid(images, activation: str, cost: str, init: str) -> None:
    x, y = images
    net = Network((784, 16, 16, 10), activation, cost, seed=3, init=init)
    plane = random_plane(net, net.theta, seed=5)
    a, b = grid_values()
    fast = cost_grid(net, plane, x, y, a, b)
    np.testing.assert_allclose(fast, cost_grid_naive(net, plane, x, y, a, b), rtol=1e-5)


@pytest.mark.parametrize("sizes", [(784, 16, 16, 16, 10), (784, 32, 10), (784, 10)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fast_grid_works_for_other_architectures(images, sizes, activation: str) -> None:
    x, y = images
    for cost in COSTS:
        net = Network(sizes, activation, cost, seed=1, init="scaled")
        rng = np.random.default_rng(2)
        path = net.theta + np.cumsum(rng.standard_normal((6, net.n_params)) * 0.05, axis=0)
        plane = pca_plane(path)
        a, b = grid_values()
        fast = cost_grid(net, plane, x, y, a, b)
        np.testing.assert_allclose(fast, cost_grid_naive(net, plane, x, y, a, b), rtol=1e-5)


def test_fast_grid_in_small_chunks_gives_the_same_costs(images, monkeypatch) -> None:
    x, y = images
    net = Network((784, 20, 12, 10), "sigmoid", "cross_entropy", seed=6)
    plane = start_to_now_plane(
        net.theta + np.random.default_rng(0).standard_normal((5, net.n_params))
    )
    a, b = np.linspace(-1, 1, 7), np.array([0.25, -0.5])
    whole = cost_grid(net, plane, x, y, a, b)
    monkeypatch.setattr(surface, "_IMAGE_CHUNK", 64)  # 300 = 4 x 64 + 44
    monkeypatch.setattr(surface, "_WORK_BYTES", 3 * 64 * 21 * 4)  # 3 points per pass
    np.testing.assert_allclose(cost_grid(net, plane, x, y, a, b), whole, rtol=1e-6)
    np.testing.assert_allclose(whole, cost_grid_naive(net, plane, x, y, a, b), rtol=1e-5)


class CountingStop:
    """A stop flag that becomes set after ``after`` calls of ``is_set``."""

    def __init__(self, after: int) -> None:
        self.after, self.calls = after, 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > self.after


def test_cost_grid_stops_between_rows(images) -> None:
    x, y = images
    net = Network(seed=1)
    plane = random_plane(net, net.theta, seed=1)
    a, b = grid_values()
    out = np.full((4, 5), np.nan)
    rows: list[tuple[int, int]] = []
    stop = CountingStop(after=1)
    with pytest.raises(Cancelled):
        cost_grid(
            net, plane, x, y, a, b, stop=stop, out=out, progress=lambda i, n: rows.append((i, n))
        )
    assert stop.calls == 2 and rows == [(1, 4)]
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1:]))
    done = cost_grid(net, plane, x, y, a, b, stop=CountingStop(after=99), out=out)
    assert done is out and np.all(np.isfinite(out))


def test_cost_grid_threads_give_the_same_grid_and_stop_between_rows(images) -> None:
    x, y = images
    net = Network(seed=2)
    plane = random_plane(net, net.theta, seed=2)
    a, b = np.linspace(-1, 1, 6), np.linspace(-1, 1, 9)
    one = cost_grid(net, plane, x, y, a, b, workers=1)
    rows: list[int] = []
    three = cost_grid(net, plane, x, y, a, b, workers=3, progress=lambda i, n: rows.append(i))
    np.testing.assert_array_equal(three, one)  # rows are independent: bit-identical
    assert rows == list(range(1, 10))  # in order, from the calling thread
    out = np.full((9, 6), np.nan)
    stop = CountingStop(after=4)
    with pytest.raises(Cancelled):
        cost_grid(net, plane, x, y, a, b, stop=stop, out=out, workers=3)
    assert stop.calls == 5  # rows 0-3 were started, then the flag was set
    np.testing.assert_array_equal(out[:4], one[:4])  # rows under way were finished
    assert np.all(np.isnan(out[4:]))


def test_cost_grid_refuses_bad_arguments(images) -> None:
    x, y = images
    net = Network(seed=1)
    plane = random_plane(net, net.theta, seed=1)
    small = random_plane(Network((784, 10)), Network((784, 10)).theta)
    a, b = grid_values()
    with pytest.raises(ConfigError, match="dimensions"):
        cost_grid(net, small, x, y, a, b)
    with pytest.raises(ConfigError, match="a_values"):
        cost_grid(net, plane, x, y, [], b)
    with pytest.raises(ConfigError, match="b_values"):
        cost_grid(net, plane, x, y, a, [0.0, np.inf])
    with pytest.raises(ConfigError, match="out"):
        cost_grid(net, plane, x, y, a, b, out=np.empty((5, 4)))
    with pytest.raises(ConfigError, match="labels"):
        cost_grid(net, plane, x, y[:-1], a, b)
    with pytest.raises(ConfigError, match="workers"):
        cost_grid(net, plane, x, y, a, b, workers=0)


def test_path_costs_are_the_costs_at_each_point(images) -> None:
    x, y = images
    net = trained_net()
    theta = net.theta.copy()
    rng = np.random.default_rng(3)
    path = net.theta + rng.standard_normal((4, net.n_params)).astype(np.float32) * 0.1
    costs = path_costs(net, path, x, y)
    np.testing.assert_array_equal(net.theta, theta)  # the caller's network is untouched
    for cost, point in zip(costs, path, strict=True):
        net.theta = point
        assert cost == net.evaluate(x, y)[0]
    with pytest.raises(Cancelled):
        path_costs(net, path, x, y, stop=CountingStop(after=2))


def test_evaluation_subset_is_fixed_sorted_and_unique() -> None:
    idx = evaluation_subset(60_000)
    assert len(idx) == 10_000 and np.all(np.diff(idx) > 0) and idx[-1] < 60_000
    np.testing.assert_array_equal(idx, evaluation_subset(60_000))
    assert not np.array_equal(idx, evaluation_subset(60_000, seed=1))
    np.testing.assert_array_equal(evaluation_subset(50, size=100), np.arange(50))
    with pytest.raises(ConfigError):
        evaluation_subset(0)


def test_a_grid_of_a_wide_network_stays_within_its_memory_budget() -> None:
    """A 784-1024-1024-10 network: the images a grid may use are capped by the size of the
    first-layer products it keeps, and a row's points are weighed a batch at a time."""
    import tracemalloc

    net = Network((784, 1024, 1024, 10), seed=0)
    assert surface.most_images(net) == 256 * 2**20 // (3 * 1024 * 4) == 21_845
    assert surface.most_images(Network((784, 16, 16, 10))) > 1_000_000  # no cap for the lessons
    rng = np.random.default_rng(0)
    x = rng.random((3000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 3000)
    plane = surface.random_plane(net, net.theta, seed=0)
    axis = np.linspace(-1, 1, 41)
    tracemalloc.start()
    try:
        grid = surface.cost_grid(net, plane, x, y, axis, axis[:2], workers=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.all(np.isfinite(grid))
    # Measured: 141 MB (products 3 x 1024 x 3000 floats, the plane's stacks of 3 x 1.9
    # million values and their copies, buffers); 601 MB when a row's 41 points were
    # weighed at once (41 x 1024 x 1025 floats per wide layer).
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"

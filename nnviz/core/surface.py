"""Loss-surface slices: the path projected onto a plane, and cost grids over it.

The planes ``theta(a, b) = origin + a d1 + b d2`` (``pca``, ``random``,
``start_to_now``, after Li et al. (2018), "Visualizing the Loss Landscape of
Neural Nets") live in :mod:`nnviz.core.planes`; their public names are
re-exported here, so ``surface.pca_plane(...)`` and ``surface.Plane`` work.

Honesty figures, because a projected path can mislead: ``Plane.explained`` is
the fraction of the path's variance that lies in ``span(d1, d2)``, and
:func:`project` returns each point's distance from the plane as well as its
least-squares coordinates. :func:`cost_grid` computes exact mean costs over a
grid of ``(a, b)`` with the batched kernel of :mod:`nnviz.core.surface_kernel`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from nnviz.core.dataset_files import StopFlag
from nnviz.core.errors import Cancelled, ConfigError
from nnviz.core.network import Network
from nnviz.core.planes import (
    _CHUNK_BYTES,
    Plane,
    as_path,
    explained_fraction,
    path_columns,
    pca_plane,
    random_plane,
    start_to_now_plane,
)
from nnviz.core.surface_kernel import GridKernel

__all__ = [
    "Plane",
    "Progress",
    "cost_grid",
    "cost_grid_naive",
    "evaluation_subset",
    "explained_fraction",
    "fit_range",
    "most_images",
    "path_costs",
    "pca_plane",
    "project",
    "random_plane",
    "start_to_now_plane",
]

Array = npt.NDArray[Any]


# ------------------------------------------------------------------ projection
def project(plane: Plane, thetas: npt.ArrayLike) -> tuple[Array, Array]:
    """Least-squares plane coordinates of path points and their distances from the plane.

    For each point ``(a, b) = argmin |theta - origin - a d1 - b d2|`` (solved
    through ``[d1 d2] = Q R``: ``(a, b) = R^-1 Q^T (theta - origin)``, so ``d1``
    and ``d2`` need not be orthogonal) and the distance is the norm of the
    residual ``theta - theta(a, b)``.

    Returns
    -------
    coords : (n, 2) float64, ``[:, 0] = a``, ``[:, 1] = b``
    distances : (n,) float64
    """
    path = as_path(thetas)
    if path.shape[1] != plane.n_params:
        raise ConfigError(f"the path has {path.shape[1]} parameters, the plane {plane.n_params}")
    q, r = plane.basis()
    # This module's _CHUNK_BYTES, read at call time, so it can be tuned here.
    inside = np.zeros((len(path), 2))  # Q^T (theta - origin)
    for cols, dev in path_columns(path, plane.origin, _CHUNK_BYTES):
        inside += dev @ q[cols]
    squared = np.zeros(len(path))
    for cols, dev in path_columns(path, plane.origin, _CHUNK_BYTES):
        dev -= inside @ q[cols].T
        squared += np.einsum("ij,ij->i", dev, dev)
    return np.linalg.solve(r, inside.T).T, np.sqrt(squared)


def fit_range(
    coords: npt.ArrayLike, margin: float = 0.25, min_span: float = 1.0
) -> tuple[float, float, float, float]:
    """A grid range ``(a_min, a_max, b_min, b_max)`` around projected points.

    The bounding box of the points and the plane origin ``(0, 0)``, each side
    widened to at least ``min_span`` (about its centre), then extended by
    ``margin`` times its width on both ends.
    """
    pts = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not (margin >= 0 and min_span > 0):
        raise ConfigError(f"need margin >= 0 and min_span > 0, got {margin}, {min_span}")
    lo, hi = pts.min(axis=0, initial=0.0), pts.max(axis=0, initial=0.0)  # with (0, 0)
    mid, half = (lo + hi) / 2, np.maximum(hi - lo, min_span) / 2
    half *= 1 + 2 * margin
    (a_min, b_min), (a_max, b_max) = (mid - half).tolist(), (mid + half).tolist()
    return a_min, a_max, b_min, b_max


# ------------------------------------------------------------------ cost grids
type Progress = Callable[[int, int], object]
"""``progress(rows_done, rows)``, called after each row of a grid."""

_IMAGE_CHUNK = 1000  # images per pass of the grid kernel (keeps its buffers in cache)
#: Most bytes of first-layer products a grid keeps (three float32 values per image
#: and first-layer neuron): 60,000 images of a 1,024-neuron layer would take 737 MB.
KERNEL_BYTES = 256 * 2**20
_WORK_BYTES = 8 * 2**20  # largest activation buffer of one pass


def _grid_axes(a_values: npt.ArrayLike, b_values: npt.ArrayLike) -> tuple[Array, Array]:
    """Both axes of a grid as float64, each non-empty, 1-D and finite."""
    return _grid_axis(a_values, "a_values"), _grid_axis(b_values, "b_values")


def _grid_axis(values: npt.ArrayLike, name: str) -> Array:
    axis = np.asarray(values, dtype=np.float64)
    if axis.ndim != 1 or len(axis) == 0 or not np.all(np.isfinite(axis)):
        raise ConfigError(f"{name} must be a non-empty 1-D array of finite numbers")
    return axis


def _check_plane(net: Network, plane: Plane) -> None:
    if plane.n_params != net.n_params:
        raise ConfigError(
            f"the plane lives in {plane.n_params} dimensions, the network has {net.n_params}"
        )


def cost_grid(
    net: Network,
    plane: Plane,
    x: npt.ArrayLike,
    labels: npt.ArrayLike,
    a_values: npt.ArrayLike,
    b_values: npt.ArrayLike,
    stop: StopFlag | None = None,
    out: Array | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Array:
    """The exact mean cost at ``theta(a, b)`` for every grid point, fast.

    ``out[i, j]`` is ``net``'s mean cost (same formula as :meth:`Network.evaluate`)
    over ``x``, ``labels`` at ``plane.point(a_values[j], b_values[i])``, for any
    architecture, activation and cost. Always float32 arithmetic (as the
    default network), per-example costs accumulated in float64. See
    :class:`~nnviz.core.surface_kernel.GridKernel` for how the plane's
    structure makes it tens of times faster than evaluating point by point.

    Parameters
    ----------
    stop
        Checked before each row; when set, :class:`~nnviz.core.errors.Cancelled`
        is raised (rows already done stay in ``out``).
    out
        Optional float64 ``(len(b_values), len(a_values))`` array to fill.
    progress
        Called as ``progress(rows_done, rows)`` after each row.
    workers
        Threads computing rows at once (default: one per CPU). NumPy works
        outside the GIL, so two threads nearly halve the time on two cores;
        meanwhile BLAS is held to one thread (threadpoolctl), as its own
        threads would oversubscribe the cores. The result does not depend on
        the number. ``stop`` and ``progress`` are called from this thread.
    """
    _check_plane(net, plane)
    xs = net.check_input(x)
    ys = net.check_labels(labels, len(xs))
    a, b = _grid_axes(a_values, b_values)
    if out is None:
        out = np.empty((len(b), len(a)))
    elif out.shape != (len(b), len(a)) or out.dtype != np.float64:
        raise ConfigError(f"out must be a float64 array of shape {(len(b), len(a))}")
    x32 = xs.astype(np.float32, copy=False)
    kernel = GridKernel(net.copy(np.float32), plane, x32, ys, _IMAGE_CHUNK, _WORK_BYTES)
    n_workers = min(len(b), workers if workers is not None else os.cpu_count() or 1)
    if n_workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")

    def finish(i: int, row: Array | Future[Array]) -> None:
        out[i] = row.result() if isinstance(row, Future) else row
        if progress is not None:
            progress(i + 1, len(b))

    if n_workers == 1:
        for i, b_value in enumerate(b):
            _check_stop(stop)
            finish(i, kernel.row(a, float(b_value)))
        return out
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_workers) as pool:
        running: deque[tuple[int, Future[Array]]] = deque()
        try:
            for i, b_value in enumerate(b):
                _check_stop(stop)  # before each row starts
                running.append((i, pool.submit(kernel.row, a, float(b_value))))
                if len(running) == n_workers:
                    finish(*running.popleft())
        finally:  # rows under way are finished (and kept) even when stopped
            while running:
                finish(*running.popleft())
    return out


def _check_stop(stop: StopFlag | None) -> None:
    if stop is not None and stop.is_set():
        raise Cancelled("the computation was stopped")


def cost_grid_naive(
    net: Network,
    plane: Plane,
    x: npt.ArrayLike,
    labels: npt.ArrayLike,
    a_values: npt.ArrayLike,
    b_values: npt.ArrayLike,
) -> Array:
    """:func:`cost_grid` the plain way: set theta and run ``net.evaluate`` per point."""
    _check_plane(net, plane)
    a, b = _grid_axes(a_values, b_values)
    cost = _true_cost(net, x, labels)
    grid = np.empty((len(b), len(a)))
    for i, j in np.ndindex(grid.shape):
        grid[i, j] = cost(plane.point(float(a[j]), float(b[i])))
    return grid


def path_costs(
    net: Network,
    thetas: npt.ArrayLike,
    x: npt.ArrayLike,
    labels: npt.ArrayLike,
    stop: StopFlag | None = None,
) -> Array:
    """The true mean cost (``net.evaluate``) at each path point, float64 ``(n,)``.

    ``net`` itself is not changed. ``stop`` is checked before each point.
    """
    path = as_path(thetas)
    cost = _true_cost(net, x, labels)
    costs = np.empty(len(path))
    for i, theta in enumerate(path):
        _check_stop(stop)
        costs[i] = cost(theta)
    return costs


def _true_cost(net: Network, x: npt.ArrayLike, labels: npt.ArrayLike) -> Callable[[Array], float]:
    """``cost(theta)``: the mean cost ``net.evaluate`` gives at ``theta``, on a copy of ``net``.

    ``x`` and ``labels`` are checked once, here.
    """
    probe, xs = net.copy(), net.check_input(x)
    ys = net.check_labels(labels, len(xs))

    def cost(theta: Array) -> float:
        probe.theta = theta
        return probe.evaluate(xs, ys)[0]

    return cost


def most_images(net: Network, budget: int = KERNEL_BYTES) -> int:
    """How many images a cost grid of ``net`` may use within ``budget`` bytes.

    The grid kernel keeps ``3 * sizes[1]`` float32 products per image (its
    speed comes from them); a wider first layer affords fewer images: 1.4
    million for 16 neurons, 21,845 for 1,024.
    """
    return max(1, budget // (3 * net.sizes[1] * 4))


def evaluation_subset(n_total: int, size: int = 10_000, seed: int = 0) -> Array:
    """Sorted indices of a fixed, seeded subset of ``size`` of ``n_total`` images.

    All images (``arange(n_total)``) when ``size >= n_total``.
    """
    if n_total < 1 or size < 1:
        raise ConfigError(f"need n_total >= 1 and size >= 1, got {n_total}, {size}")
    if size >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size, replace=False))

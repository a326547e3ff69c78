"""Loss-surface slices: planes through parameter space, the projected path, cost grids.

A :class:`Plane` is ``theta(a, b) = origin + a d1 + b d2``. Three kinds follow
Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets":

- ``pca``: through the mean of the path, spanned by its top two principal
  directions (the plane that best fits the path);
- ``random``: through the current point, two seeded Gaussian directions,
  filter-normalised per neuron;
- ``start_to_now``: through the first point, along the straight line to the
  newest point and the path's main sideways direction.

Honesty figures, because a projected path can mislead: ``Plane.explained`` is
the fraction of the path's variance (sum of squared deviations of its points
from their mean) that lies in ``span(d1, d2)``, and :func:`project` returns each
point's distance from the plane as well as its least-squares coordinates.

The linear algebra of planes runs in float64, over column chunks of the path
so that no float64 copy of a whole path is made; origins and directions are
stored as read-only float64 arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.datasets import StopFlag
from nnviz.core.errors import Cancelled, ConfigError
from nnviz.core.network import Network

Array = npt.NDArray[Any]

_CHUNK_BYTES = 32 * 2**20  # float64 column chunks of a path
_DENSE_EIGH = 600  # paths up to this many points use a full eigendecomposition
_FLAT = 1e-12  # variance below this fraction of the total counts as none


@dataclass(frozen=True, eq=False)
class Plane:
    """The plane ``theta(a, b) = origin + a d1 + b d2`` in parameter space.

    Attributes
    ----------
    kind
        ``"pca"``, ``"random"`` or ``"start_to_now"``.
    origin, d1, d2
        ``(P,)`` float64, read-only. ``d1`` and ``d2`` must be linearly
        independent; they need not be orthogonal or of unit length.
    explained
        Fraction in [0, 1] of the path's variance lying in ``span(d1, d2)``
        (NaN if no path with spread was given).
    label1, label2
        Axis labels for the user.
    """

    kind: str
    origin: Array
    d1: Array
    d2: Array
    explained: float
    label1: str
    label2: str

    def __post_init__(self) -> None:
        for name in ("origin", "d1", "d2"):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.ndim != 1 or value.shape != np.shape(self.origin):
                raise ConfigError(
                    f"plane {name} must be a 1-D array like origin, got {value.shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ConfigError(f"plane {name} has NaN or infinite entries")
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        _, r = self.basis()
        if min(abs(r[0, 0]), abs(r[1, 1])) <= 1e-12 * np.abs(r).max():
            raise ConfigError("the plane's directions d1 and d2 are zero or parallel")

    @property
    def n_params(self) -> int:
        """Dimension ``P`` of the parameter space."""
        return int(self.origin.size)

    def basis(self) -> tuple[Array, Array]:
        """``Q (P, 2)`` orthonormal and ``R (2, 2)`` upper triangular with ``[d1 d2] = Q R``."""
        q, r = np.linalg.qr(np.stack([self.d1, self.d2], axis=1))
        return q, r

    def point(self, a: float, b: float) -> Array:
        """``theta(a, b) = origin + a d1 + b d2`` as float64 ``(P,)``."""
        return self.origin + a * self.d1 + b * self.d2


# ------------------------------------------------------------------ path helpers
def _as_path(thetas: npt.ArrayLike, minimum: int = 1) -> Array:
    path = np.asarray(thetas)
    if path.ndim != 2 or not np.issubdtype(path.dtype, np.floating):
        raise ConfigError(f"a path must be a float (n, P) array, got {path.dtype} {path.shape}")
    if len(path) < minimum:
        raise ConfigError(f"this needs at least {minimum} path points, got {len(path)}")
    return path


def _columns(path: Array, origin: Array) -> Iterator[tuple[slice, Array]]:
    """Column chunks ``path[:, cols] - origin[cols]`` in float64, each about 32 MB."""
    width = max(1, _CHUNK_BYTES // (8 * len(path)))
    for start in range(0, path.shape[1], width):
        cols = slice(start, start + width)
        yield cols, path[:, cols] - origin[cols]


def explained_fraction(plane: Plane, thetas: npt.ArrayLike) -> float:
    """Fraction of the path's variance in ``span(d1, d2)``; NaN if the path has none.

    With ``D`` the path's deviations from its mean and ``Q`` an orthonormal
    basis of the span: ``|D Q|_F^2 / |D|_F^2``.
    """
    path = _as_path(thetas)
    q, _ = plane.basis()
    inside, total = np.zeros((len(path), 2)), 0.0
    for cols, dev in _columns(path, path.mean(axis=0, dtype=np.float64)):
        inside += dev @ q[cols]
        total += float(np.vdot(dev, dev))
    return float(np.sum(inside**2) / total) if total > 0 else math.nan


def _top_eigenvectors(gram: Array, k: int) -> tuple[Array, Array]:
    """The ``k`` largest eigenvalues (descending) and eigenvectors of a PSD matrix.

    Dense ``eigh`` for small matrices; otherwise subspace iteration with
    Rayleigh-Ritz (Saad, "Numerical Methods for Large Eigenvalue Problems"),
    much faster for the top few of a 2000 x 2000 Gram matrix.
    """
    n = len(gram)
    if n <= _DENSE_EIGH:
        w, u = np.linalg.eigh(gram)
        return w[::-1][:k], u[:, ::-1][:, :k]
    u = np.random.default_rng(0).standard_normal((n, min(n, k + 8)))
    for _ in range(500):
        u, _ = np.linalg.qr(gram @ u)
        gu = gram @ u
        w, s = np.linalg.eigh(u.T @ gu)
        w, s = w[::-1], s[:, ::-1]
        u = u @ s
        residual = np.linalg.norm(gu @ s[:, :k] - u[:, :k] * w[:k], axis=0)
        if np.all(residual <= 1e-10 * max(float(w[0]), 1e-300)):
            break
    return w[:k], u[:, :k]


def _sideways_directions(
    path: Array, centre: Array, k: int, away: Array | None = None
) -> tuple[Array, Array, float]:
    """Top ``k`` principal directions of ``D`` = the path minus ``centre``.

    With ``away`` (a unit vector) its component is first removed from every
    row: ``D' = D - (D away) away^T``. Uses the ``(n, n)`` Gram matrix ``D'D'^T``
    (float64, built from column chunks) and maps its eigenvectors ``u`` back to
    parameter space as ``D'^T u``.

    Returns
    -------
    directions : (P, k) float64, orthonormal columns (zero columns if none)
    variances : (k,) the variance ``|D' v|^2`` along each direction
    total : float, ``|D|_F^2`` before the removal
    """
    along = np.zeros(len(path))
    total = 0.0
    if away is not None:
        for cols, dev in _columns(path, centre):
            along += dev @ away[cols]
    gram = np.zeros((len(path), len(path)))
    for cols, dev in _columns(path, centre):
        total += float(np.vdot(dev, dev))
        if away is not None:
            dev -= np.outer(along, away[cols])
        gram += dev @ dev.T
    w, u = _top_eigenvectors(gram, k)
    v = np.zeros((path.shape[1], k))
    for cols, dev in _columns(path, centre):
        if away is not None:
            dev -= np.outer(along, away[cols])
        v[cols] = dev.T @ u
    keep = w > _FLAT * max(total, 1e-300)
    v[:, keep] /= np.linalg.norm(v[:, keep], axis=0)
    v[:, ~keep] = 0.0
    return v, np.where(keep, w, 0.0), total


def _orient(direction: Array, reference: Array) -> Array:
    """``direction`` with its sign chosen so that it does not point against ``reference``."""
    return -direction if float(np.dot(reference, direction)) < 0 else direction


def _random_unit(n: int, seed: int, against: Array) -> Array:
    """A seeded random unit vector orthogonal to the unit vector ``against``."""
    v = np.random.default_rng(seed).standard_normal(n)
    v -= np.dot(v, against) * against
    return v / np.linalg.norm(v)


# ------------------------------------------------------------------ planes
def pca_plane(thetas: npt.ArrayLike, seed: int = 0, previous: Plane | None = None) -> Plane:
    """The plane through the path's centre spanned by its top two principal directions.

    ``origin`` is the mean of the points; ``d1``, ``d2`` are orthonormal, the
    first two principal directions of ``theta_i - origin``. Signs are chosen
    so that the path runs left to right and bottom to top (the newest point
    has a larger ``a`` and ``b`` than the first); with ``previous``, a
    plane fitted earlier to the same run, the signs follow its directions
    instead, which keeps the picture stable between refits. A path along a
    straight line has no second direction: ``d2`` is then a seeded random
    direction and ``label2`` says so.

    Raises
    ------
    ConfigError
        With fewer than 3 points, or when all points are equal.
    """
    path = _as_path(thetas, minimum=3)
    centre = path.mean(axis=0, dtype=np.float64)
    v, var, total = _sideways_directions(path, centre, 2)
    if var[0] <= 0:
        raise ConfigError("all points of the path are equal: it spans no plane")
    forward = (path[-1] - path[0]).astype(np.float64)
    ref1, ref2 = (forward, forward) if previous is None else (previous.d1, previous.d2)
    d1 = _orient(v[:, 0], ref1)
    label2 = f"PC 2 ({var[1] / total:.1%} of the path's variance)"
    if var[1] <= 0:
        d2, label2 = _random_unit(len(d1), seed, d1), "random direction (the path is straight)"
    else:
        d2 = v[:, 1] - np.dot(v[:, 1], d1) * d1  # re-orthogonalise against rounding
        d2 = _orient(d2 / np.linalg.norm(d2), ref2)
    plane = Plane("pca", centre, d1, d2, math.nan, f"PC 1 ({var[0] / total:.1%})", label2)
    return _with_explained(plane, path)


def start_to_now_plane(thetas: npt.ArrayLike, seed: int = 0) -> Plane:
    """The plane through the first point along the line to the newest one.

    ``origin = theta_0``; ``d1 = (theta_now - theta_0) / |theta_now - theta_0|``
    (so the newest point sits at ``(|theta_now - theta_0|, 0)``); ``d2`` is the
    top principal direction of the centred path after removing its component
    along ``d1``, unit length, signed so that the path's mean lies at ``b >= 0``.
    If the path has no variance off the line, ``d2`` is a seeded random unit
    direction orthogonal to ``d1`` and ``label2`` says so.

    Raises
    ------
    ConfigError
        With fewer than 2 points, or when the newest point equals the first.
    """
    path = _as_path(thetas, minimum=2)
    first = path[0].astype(np.float64)
    step = path[-1] - first
    distance = float(np.linalg.norm(step))
    if distance == 0:
        raise ConfigError("the newest point equals the first: there is no start-to-now line")
    d1 = step / distance
    centre = path.mean(axis=0, dtype=np.float64)
    v, var, total = _sideways_directions(path, centre, 1, away=d1)
    if var[0] <= 0:
        d2, label2 = _random_unit(len(d1), seed, d1), "random direction (the path is straight)"
    else:
        d2 = v[:, 0] - np.dot(v[:, 0], d1) * d1
        d2 /= np.linalg.norm(d2)
        d2 = _orient(d2, centre - first)
        label2 = f"main sideways direction ({var[0] / total:.1%} of the variance)"
    plane = Plane("start_to_now", first, d1, d2, math.nan, "start to now", label2)
    return _with_explained(plane, path)


def random_plane(
    net: Network, centre: npt.ArrayLike, seed: int = 0, path: npt.ArrayLike | None = None
) -> Plane:
    """Two seeded Gaussian directions through ``centre``, filter-normalised.

    Following Li et al. (2018), for every neuron (row ``j`` of a layer block)
    the direction's incoming weights are scaled to the norm of that neuron's
    weights in ``centre``: ``d[j, :-1] *= |centre[j, :-1]| / |d[j, :-1]|``.
    The directions' bias entries are set to zero, as Li et al. do, so the
    biases stay at their values in ``centre`` over the whole plane.

    Parameters
    ----------
    net
        Gives the layout (layer blocks) of ``theta``; it is not changed.
    centre
        ``(P,)`` the point the plane goes through (usually the current theta).
    seed
        Seed of the directions.
    path
        Optional ``(n, P)`` path for :attr:`Plane.explained` (else NaN).
    """
    origin = np.asarray(centre, dtype=np.float64)
    if origin.shape != (net.n_params,):
        raise ConfigError(f"centre must have shape ({net.n_params},), got {origin.shape}")
    rng = np.random.default_rng(seed)
    d1, d2 = (_filter_normalised(net, origin, rng.standard_normal(net.n_params)) for _ in "ab")
    if not (np.any(d1) and np.any(d2)):
        raise ConfigError("every neuron of centre has zero weights: no direction can be normalised")
    label1, label2 = (f"random direction {i} (seed {seed}, filter-normalised)" for i in (1, 2))
    plane = Plane("random", origin, d1, d2, math.nan, label1, label2)
    return plane if path is None else _with_explained(plane, _as_path(path))


def _filter_normalised(net: Network, centre: Array, direction: Array) -> Array:
    for l, shape in enumerate(block.shape for block in net.blocks):
        cols = slice(net.offsets[l], net.offsets[l + 1])
        d, c = direction[cols].reshape(shape), centre[cols].reshape(shape)
        d[:, :-1] *= (np.linalg.norm(c[:, :-1], axis=1) / np.linalg.norm(d[:, :-1], axis=1))[
            :, None
        ]
        d[:, -1] = 0.0  # Li et al.: bias directions are zero
    return direction


def _with_explained(plane: Plane, path: Array) -> Plane:
    explained = explained_fraction(plane, path)
    return Plane(
        plane.kind, plane.origin, plane.d1, plane.d2, explained, plane.label1, plane.label2
    )


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
    path = _as_path(thetas)
    if path.shape[1] != plane.n_params:
        raise ConfigError(f"the path has {path.shape[1]} parameters, the plane {plane.n_params}")
    q, r = plane.basis()
    inside = np.zeros((len(path), 2))  # Q^T (theta - origin)
    for cols, dev in _columns(path, plane.origin):
        inside += dev @ q[cols]
    squared = np.zeros(len(path))
    for cols, dev in _columns(path, plane.origin):
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
_WORK_BYTES = 8 * 2**20  # largest activation buffer of one pass


class _GridKernel:
    """The cost on one plane and one image set, for many points ``(a, b)`` at once.

    With ``theta = c + a d1 + b d2`` every layer block is ``B_c + a B_1 + b B_2``.
    The first layer's pre-activations ``B(a, b) [x; 1]`` are therefore
    ``S_c + a S_1 + b S_2`` with ``S_k = B_k [x; 1]`` computed once per image; a
    batch of points costs one product with inner dimension 3 for that layer,
    and batched products with per-point weights for the small layers.

    A sigmoid is evaluated as ``(1 + tanh(z/2)) / 2``; the factors 1/2 are folded
    into the (linear) blocks, so a sigmoid layer costs one ``tanh``: the block
    of a sigmoid layer is halved, and a block fed by sigmoid outputs
    ``s = (1 + t)/2`` gets weights ``W/2`` and biases ``b + W 1/2``. The
    quadratic cost of sigmoid outputs ``(1 + t)/2`` is then
    ``sum_k (t_k + 1 - 2 y_k)**2 / 4``. Same maths as :class:`Network`,
    different float32 rounding.
    """

    def __init__(self, net: Network, plane: Plane, x: Array, labels: Array) -> None:
        self.net, self.n = net, len(x)
        self.stacks = [self._stack(plane, l) for l in range(net.n_layers)]  # (3, out, in+1)
        first = self.stacks[0].astype(np.float32).reshape(-1, net.sizes[0] + 1)
        self.images = []  # (S (3, n1 * m), labels (m,), 1 - 2 y (k, m)) per chunk of m
        for start in range(0, len(x), _IMAGE_CHUNK):
            xs, ys = x[start : start + _IMAGE_CHUNK], labels[start : start + _IMAGE_CHUNK]
            s = first[:, :-1] @ xs.T + first[:, -1:]  # (3 n1, m)
            shift = np.ones((net.sizes[-1], len(ys)), dtype=np.float32)
            shift[ys, np.arange(len(ys))] = -1.0
            self.images.append((s.reshape(3, -1), ys, shift))
        per_point = max(_IMAGE_CHUNK * (size + 1) * 4 for size in net.sizes[1:])
        self.batch = max(1, _WORK_BYTES // per_point)  # grid points per pass
        self.buffers: dict[tuple[int, int], list[Array]] = {}

    def _stack(self, plane: Plane, l: int) -> Array:
        net = self.net
        cols = slice(net.offsets[l], net.offsets[l + 1])
        stack = np.stack([v[cols] for v in (plane.origin, plane.d1, plane.d2)])
        stack = stack.reshape(3, *net.blocks[l].shape)
        if l > 0 and net.activation == "sigmoid":  # input s = (1 + t) / 2
            stack[..., -1] += 0.5 * stack[..., :-1].sum(axis=-1)
            stack[..., :-1] *= 0.5
        last = l == net.n_layers - 1
        if (not last and net.activation == "sigmoid") or (last and net.cost == "quadratic"):
            stack *= 0.5  # sigmoid(z) = (1 + tanh(z/2)) / 2
        return stack

    def row(self, a_values: Array, b: float) -> Array:
        """Mean cost at ``(a, b)`` for every ``a`` in ``a_values``, float64."""
        coef = np.stack([np.ones_like(a_values), a_values, np.full_like(a_values, b)], axis=1)
        weights = [
            (coef @ s.reshape(3, -1)).astype(np.float32).reshape(-1, *s.shape[1:])
            for s in self.stacks[1:]
        ]  # (points, out, in + 1) per layer after the first
        coef32 = coef.astype(np.float32)
        total = np.zeros(len(a_values))
        for s, ys, shift in self.images:
            for i in range(0, len(a_values), self.batch):
                part = slice(i, i + self.batch)
                total[part] += self._pass(coef32[part], [w[part] for w in weights], s, ys, shift)
        return total / self.n

    def _pass(self, coef: Array, weights: list[Array], s: Array, ys: Array, shift: Array) -> Array:
        """Summed cost over one chunk of images for a batch of points."""
        sizes, p, m = self.net.sizes, len(coef), len(ys)
        bufs = self._buffers(p, m)
        out = bufs[0][:, : sizes[1] * m]  # (p, n1 m) view skipping the row of ones
        np.matmul(coef, s, out=out)
        for l, w in enumerate(weights, start=1):
            self._hidden(out)
            prev = bufs[l - 1].reshape(p, sizes[l] + 1, m)
            out = bufs[l].reshape(p, -1, m)[:, : sizes[l + 1]]
            np.matmul(w, prev, out=out)
        return self._cost(out.reshape(p, sizes[-1], m), ys, shift)

    def _buffers(self, p: int, m: int) -> list[Array]:
        """Per layer ``(p, (n + 1) m)``: activations with a last row of ones, reused."""
        bufs = self.buffers.get((p, m))
        if bufs is None:
            bufs = [np.ones((p, (n + 1) * m), dtype=np.float32) for n in self.net.sizes[1:]]
            self.buffers[(p, m)] = bufs
        return bufs

    def _hidden(self, z: Array) -> None:
        if self.net.activation == "relu":
            np.maximum(z, np.float32(0), out=z)
        else:  # tanh, or a sigmoid with its factors 1/2 folded into the blocks
            np.tanh(z, out=z)

    def _cost(self, z: Array, ys: Array, shift: Array) -> Array:
        """Summed cost per point from output pre-activations ``z (p, k, m)``."""
        if self.net.cost == "quadratic":
            np.tanh(z, out=z)
            z += shift  # t + 1 - 2 y
            np.square(z, out=z)
            per_image: Array = z.sum(axis=1)  # 4 x the cost of each example
            return 0.25 * np.sum(per_image, axis=1, dtype=np.float64)
        top = z.max(axis=1)  # (p, m)
        picked = z[:, ys, np.arange(len(ys))]  # z of the right class
        z -= top[:, None, :]
        np.exp(z, out=z)
        lse: Array = np.log(z.sum(axis=1)) + top - picked  # -ln softmax of the right class
        return np.sum(lse, axis=1, dtype=np.float64)


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
) -> Array:
    """The exact mean cost at ``theta(a, b)`` for every grid point, fast.

    ``out[i, j]`` is ``net``'s mean cost (same formula as :meth:`Network.evaluate`)
    over ``x``, ``labels`` at ``plane.point(a_values[j], b_values[i])``, for any
    architecture, activation and cost. Always float32 arithmetic (as the
    default network), per-example costs accumulated in float64. See
    :class:`_GridKernel` for how the plane's structure makes it tens of times
    faster than evaluating point by point.

    Parameters
    ----------
    stop
        Checked before each row; when set, :class:`~nnviz.core.errors.Cancelled`
        is raised (rows already done stay in ``out``).
    out
        Optional float64 ``(len(b_values), len(a_values))`` array to fill.
    progress
        Called as ``progress(rows_done, rows)`` after each row.
    """
    _check_plane(net, plane)
    xs = net.check_input(x)
    ys = net.check_labels(labels, len(xs))
    a, b = _grid_axis(a_values, "a_values"), _grid_axis(b_values, "b_values")
    if out is None:
        out = np.empty((len(b), len(a)))
    elif out.shape != (len(b), len(a)) or out.dtype != np.float64:
        raise ConfigError(f"out must be a float64 array of shape {(len(b), len(a))}")
    kernel = _GridKernel(net.copy(np.float32), plane, xs.astype(np.float32, copy=False), ys)
    for i, b_value in enumerate(b):
        _check_stop(stop)
        out[i] = kernel.row(a, float(b_value))
        if progress is not None:
            progress(i + 1, len(b))
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
    a, b = _grid_axis(a_values, "a_values"), _grid_axis(b_values, "b_values")
    probe, xs = net.copy(), net.check_input(x)
    ys = net.check_labels(labels, len(xs))
    grid = np.empty((len(b), len(a)))
    for i, j in np.ndindex(grid.shape):
        probe.theta = plane.point(float(a[j]), float(b[i]))
        grid[i, j] = probe.evaluate(xs, ys)[0]
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
    path = _as_path(thetas)
    probe, xs = net.copy(), net.check_input(x)
    ys = net.check_labels(labels, len(xs))
    costs = np.empty(len(path))
    for i, theta in enumerate(path):
        _check_stop(stop)
        probe.theta = theta
        costs[i] = probe.evaluate(xs, ys)[0]
    return costs


def evaluation_subset(n_total: int, size: int = 10_000, seed: int = 0) -> Array:
    """Sorted indices of a fixed, seeded subset of ``size`` of ``n_total`` images.

    All images (``arange(n_total)``) when ``size >= n_total``.
    """
    if n_total < 1 or size < 1:
        raise ConfigError(f"need n_total >= 1 and size >= 1, got {n_total}, {size}")
    if size >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size, replace=False))

"""Planes through parameter space for loss-surface slices, and how well they fit a path.

A :class:`Plane` is ``theta(a, b) = origin + a d1 + b d2``. Three kinds follow
Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets":

- ``pca``: through the mean of the path, spanned by its top two principal
  directions (the plane that best fits the path);
- ``random``: through the current point, two seeded Gaussian directions,
  filter-normalised per neuron;
- ``start_to_now``: through the first point, along the straight line to the
  newest point and the path's main sideways direction.

Honesty figure, because a projected path can mislead: ``Plane.explained`` is
the fraction of the path's variance (sum of squared deviations of its points
from their mean) that lies in ``span(d1, d2)``
(:func:`nnviz.core.surface.project` gives each point's distance from the plane).

The linear algebra of planes runs in float64, over column chunks of the path
(:func:`path_columns`) so that no float64 copy of a whole path is made; origins
and directions are stored as read-only float64 arrays. :mod:`nnviz.core.surface`
re-exports the public names of this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError
from nnviz.core.network import Network

__all__ = [
    "Plane",
    "as_path",
    "explained_fraction",
    "path_columns",
    "pca_plane",
    "random_plane",
    "start_to_now_plane",
]

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
def as_path(thetas: npt.ArrayLike, minimum: int = 1) -> Array:
    """``thetas`` as an ``(n, P)`` float array of at least ``minimum`` points (no copy).

    Raises
    ------
    ConfigError
        For another shape or dtype, or too few points.
    """
    path = np.asarray(thetas)
    if path.ndim != 2 or not np.issubdtype(path.dtype, np.floating):
        raise ConfigError(f"a path must be a float (n, P) array, got {path.dtype} {path.shape}")
    if len(path) < minimum:
        raise ConfigError(f"this needs at least {minimum} path points, got {len(path)}")
    return path


def path_columns(
    path: Array, origin: Array, chunk_bytes: int | None = None
) -> Iterator[tuple[slice, Array]]:
    """Column chunks ``path[:, cols] - origin[cols]`` in float64, each about 32 MB.

    ``chunk_bytes`` overrides the size of a chunk (default ``_CHUNK_BYTES``).
    """
    size = _CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    width = max(1, size // (8 * len(path)))
    for start in range(0, path.shape[1], width):
        cols = slice(start, start + width)
        yield cols, path[:, cols] - origin[cols]


def explained_fraction(plane: Plane, thetas: npt.ArrayLike) -> float:
    """Fraction of the path's variance in ``span(d1, d2)``; NaN if the path has none.

    With ``D`` the path's deviations from its mean and ``Q`` an orthonormal
    basis of the span: ``|D Q|_F^2 / |D|_F^2``.
    """
    path = as_path(thetas)
    q, _ = plane.basis()
    inside, total = np.zeros((len(path), 2)), 0.0
    for cols, dev in path_columns(path, path.mean(axis=0, dtype=np.float64)):
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
        for cols, dev in path_columns(path, centre):
            along += dev @ away[cols]
    gram = np.zeros((len(path), len(path)))
    for cols, dev in path_columns(path, centre):
        total += float(np.vdot(dev, dev))
        if away is not None:
            dev -= np.outer(along, away[cols])
        gram += dev @ dev.T
    w, u = _top_eigenvectors(gram, k)
    v = np.zeros((path.shape[1], k))
    for cols, dev in path_columns(path, centre):
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


def _across(v: Array, d1: Array, reference: Array) -> Array:
    """``v`` orthogonalised again against the unit ``d1`` (rounding), unit length, oriented.

    The sign is chosen so that the result does not point against ``reference``.
    """
    d2 = v - np.dot(v, d1) * d1
    return _orient(d2 / np.linalg.norm(d2), reference)


def _random_across(d1: Array, seed: int) -> tuple[Array, str]:
    """A straight path's ``d2``: a seeded random unit vector orthogonal to the unit ``d1``.

    Returned with the axis label that says so.
    """
    v = np.random.default_rng(seed).standard_normal(len(d1))
    v -= np.dot(v, d1) * d1
    return v / np.linalg.norm(v), "random direction (the path is straight)"


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
    path = as_path(thetas, minimum=3)
    centre = path.mean(axis=0, dtype=np.float64)
    v, var, total = _sideways_directions(path, centre, 2)
    if var[0] <= 0:
        raise ConfigError("all points of the path are equal: it spans no plane")
    forward = (path[-1] - path[0]).astype(np.float64)
    ref1, ref2 = (forward, forward) if previous is None else (previous.d1, previous.d2)
    d1 = _orient(v[:, 0], ref1)
    label2 = f"PC 2 ({var[1] / total:.1%} of the path's variance)"
    if var[1] <= 0:
        d2, label2 = _random_across(d1, seed)
    else:
        d2 = _across(v[:, 1], d1, ref2)
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
    path = as_path(thetas, minimum=2)
    first = path[0].astype(np.float64)
    step = path[-1] - first
    distance = float(np.linalg.norm(step))
    if distance == 0:
        raise ConfigError("the newest point equals the first: there is no start-to-now line")
    d1 = step / distance
    centre = path.mean(axis=0, dtype=np.float64)
    v, var, total = _sideways_directions(path, centre, 1, away=d1)
    if var[0] <= 0:
        d2, label2 = _random_across(d1, seed)
    else:
        d2 = _across(v[:, 0], d1, centre - first)
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
    return plane if path is None else _with_explained(plane, as_path(path))


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

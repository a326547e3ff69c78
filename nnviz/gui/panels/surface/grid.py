"""Numbers behind the loss-surface map: colour values, contours, interpolation, thinning.

NumPy only (no Qt): marching-squares contours from the grid nodes, bilinear
interpolation of the grid at the path's projections, colour-bar ticks of a
log scale, and the thinning of a long path to about a point per pixel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import plain_number

Array = npt.NDArray[Any]

CONTOURS = 9  # contour levels, evenly spaced in the displayed (linear or log) scale
LOG_FLOOR = 1e-12  # costs are positive; this only guards log10 of a zero
MOST_DRAWN = 300  # points of the path drawn at most (a path keeps up to 2,000)


def display_values(costs: Array, log: bool) -> Array:
    """The values the map colours: the cost, or log10 of it."""
    values = np.asarray(costs, dtype=np.float64)
    return np.log10(np.maximum(values, LOG_FLOOR)) if log else values


def value_range(values: Array) -> tuple[float, float]:
    """``(low, high)`` of the finite values, never empty."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def contour_levels(low: float, high: float, n: int = CONTOURS) -> Array:
    """``n`` levels evenly spaced strictly inside ``(low, high)``."""
    return low + (high - low) * np.arange(1, n + 1) / (n + 1)


def bilinear(a: Array, b: Array, values: Array, points: Array) -> Array:
    """``values`` (``values[i, j]`` at ``(a[j], b[i])``, evenly spaced) at ``points (n, 2)``.

    Bilinear interpolation; NaN for points outside the grid (or not finite).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.full(len(pts), math.nan)
    if len(a) < 2 or len(b) < 2 or not len(pts):
        return out
    fa = (pts[:, 0] - a[0]) / (a[-1] - a[0]) * (len(a) - 1)
    fb = (pts[:, 1] - b[0]) / (b[-1] - b[0]) * (len(b) - 1)
    eps = 1e-9
    inside = (fa >= -eps) & (fa <= len(a) - 1 + eps) & (fb >= -eps) & (fb <= len(b) - 1 + eps)
    fa, fb = fa[inside], fb[inside]
    j = np.clip(np.floor(fa).astype(int), 0, len(a) - 2)
    i = np.clip(np.floor(fb).astype(int), 0, len(b) - 2)
    tj, ti = np.clip(fa - j, 0, 1), np.clip(fb - i, 0, 1)
    low = (1 - tj) * values[i, j] + tj * values[i, j + 1]
    high = (1 - tj) * values[i + 1, j] + tj * values[i + 1, j + 1]
    out[inside] = (1 - ti) * low + ti * high
    return out


def contour_segments(x: Array, y: Array, z: Array, levels: Array) -> tuple[Array, Array]:
    """Contour lines of ``z`` (``z[i, j]`` at ``(x[j], y[i])``) as segment pairs.

    Marching squares: where a level crosses a cell edge, the point is
    interpolated linearly along that edge; a saddle cell (all four edges
    crossed) is split by the mean of its corners. Returns ``xs, ys`` of even
    length for ``connect="pairs"``; segments touching NaN are left out.
    """
    corners = (z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:])  # 00, 01, 10, 11: (ny-1, nx-1)
    centre = sum(corners) / 4
    pieces: list[tuple[Array, Array, Array, Array]] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for level in levels:
            crossed, px, py = _edge_points(float(level), x, y, corners)
            pieces += _cell_segments(crossed, px, py, corners[0] >= level, centre >= level)
    if not pieces:
        return np.zeros(0), np.zeros(0)
    x1, y1, x2, y2 = (np.concatenate(part) for part in zip(*pieces, strict=True))
    ok = np.isfinite(x1) & np.isfinite(y1) & np.isfinite(x2) & np.isfinite(y2)
    xs = np.stack([x1[ok], x2[ok]], axis=1).ravel()
    ys = np.stack([y1[ok], y2[ok]], axis=1).ravel()
    return xs, ys


def _edge_points(
    level: float, x: Array, y: Array, corners: tuple[Array, ...]
) -> tuple[Array, Array, Array]:
    """Per cell edge (bottom, right, top, left): crossed?, and the crossing's x and y.

    Each result is ``(4, ny - 1, nx - 1)``.
    """
    z00, z01, z10, z11 = corners
    x0, x1 = np.broadcast_to(x[None, :-1], z00.shape), np.broadcast_to(x[None, 1:], z00.shape)
    y0, y1 = np.broadcast_to(y[:-1, None], z00.shape), np.broadcast_to(y[1:, None], z00.shape)
    ends = (
        (z00, z01, x0, x1, y0, y0),  # bottom: corner 00 -> 01
        (z01, z11, x1, x1, y0, y1),  # right: 01 -> 11
        (z10, z11, x0, x1, y1, y1),  # top: 10 -> 11
        (z00, z10, x0, x0, y0, y1),  # left: 00 -> 10
    )
    crossed = np.empty((4, *z00.shape), dtype=bool)
    px, py = np.empty((4, *z00.shape)), np.empty((4, *z00.shape))
    for k, (za, zb, xa, xb, ya, yb) in enumerate(ends):
        t = (level - za) / (zb - za)
        crossed[k] = (za >= level) != (zb >= level)
        px[k] = xa + t * (xb - xa)
        py[k] = ya + t * (yb - ya)
    return crossed, px, py


def _cell_segments(
    crossed: Array, px: Array, py: Array, above00: Array, centre_above: Array
) -> list[tuple[Array, Array, Array, Array]]:
    """Segments ``(x1, y1, x2, y2)`` of the cells a level crosses."""
    count = crossed.sum(axis=0)
    out = []
    two = count == 2
    if two.any():
        c, xs, ys = crossed[:, two], px[:, two], py[:, two]
        first, last = np.argmax(c, axis=0), 3 - np.argmax(c[::-1], axis=0)
        cols = np.arange(c.shape[1])
        out.append((xs[first, cols], ys[first, cols], xs[last, cols], ys[last, cols]))
    saddle = count == 4
    if saddle.any():
        xs, ys = px[:, saddle], py[:, saddle]
        # the lines cut off the two corners on the other side than the centre: 01 and 10
        # (edges bottom-right, top-left) when the centre joins 00 and 11, else 00 and 11
        joined = above00[saddle] == centre_above[saddle]
        pairs = (((0, 1), joined), ((2, 3), joined), ((0, 3), ~joined), ((1, 2), ~joined))
        for (e1, e2), sel in pairs:
            out.append((xs[e1][sel], ys[e1][sel], xs[e2][sel], ys[e2][sel]))
    return out


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Colour-bar ticks for log10 values in ``[low, high]``, labelled with the cost itself."""
    ticks: list[tuple[float, str]] = []
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [
            (math.log10(m) + k, plain_number(m * 10.0**k))
            for k in range(math.floor(low) - 1, math.ceil(high) + 1)
            for m in mantissas
            if low - 1e-9 <= math.log10(m) + k <= high + 1e-9
        ]
        if len(ticks) >= 3:
            break
    return ticks


def thin_path(
    pts: Array, pixel: tuple[float, float], spacing: float = 2.0, most: int = MOST_DRAWN
) -> Array:
    """Indices of the points to draw: about one per ``spacing`` pixels along the path.

    The spacing grows so that at most about ``most`` points are drawn (the
    antialiased path's paint time grows with its points). The first and the
    last point are always kept; with an unknown pixel size (NaN, before
    layout) every point is.
    """
    n = len(pts)
    scale = np.asarray(pixel, dtype=np.float64)
    if n < 3 or not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        return np.arange(n)
    steps = np.hypot(*(np.diff(pts, axis=0) / scale).T)  # in pixels
    along = np.concatenate([[0.0], np.cumsum(steps)])
    bucket = np.floor(along / max(spacing, along[-1] / most))
    keep = np.flatnonzero(np.diff(bucket, prepend=-1.0) > 0)
    return keep if keep[-1] == n - 1 else np.append(keep, n - 1)

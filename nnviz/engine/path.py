"""The SGD path as the surface server keeps it: points, projections, true costs.

Qt-free and single-threaded: only the surface server touches it. The
bounded :class:`~nnviz.core.trajectory.Trajectory` keeps the points (and drops
every other one when full); this class remembers, per kept step, the point's
coordinates on the current plane and its true cost, forgets them when the
trajectory drops the point, and makes the immutable :class:`PathView` the GUI
draws.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core import surface
from nnviz.core.trajectory import Trajectory
from nnviz.engine.messages import PathView

Array = npt.NDArray[Any]

EXPLAINED_POINTS = 200  # the "explained now" figure is estimated from this many points
EXPLAINED_INTERVAL = 1.0  # seconds between two estimates of "explained now"


class ProjectedPath:
    """The recorded path, its projection onto the current plane and its true costs.

    Parameters
    ----------
    n_params
        Length of the parameter vector.
    """

    def __init__(self, n_params: int) -> None:
        self.trajectory = Trajectory(n_params)
        self.plane: surface.Plane | None = None
        self.costs: dict[int, float] = {}  # step -> true cost
        self._coords: dict[int, tuple[float, float, float]] = {}  # step -> (a, b, distance)
        self._explained = (math.nan, -math.inf)  # (estimate, when)
        self._changed = -math.inf  # when a point was last recorded

    def __len__(self) -> int:
        return len(self.trajectory)

    def record(self, step: int, theta: Array) -> tuple[float, float] | None:
        """Keep a point; with a plane, return its coordinates ``(a, b)`` on it."""
        self.trajectory.record(step, theta)
        self._changed = time.perf_counter()
        if self.plane is None:
            return None
        coords, distances = surface.project(self.plane, np.asarray(theta)[None, :])
        a, b = float(coords[0, 0]), float(coords[0, 1])
        self._coords[step] = (a, b, float(distances[0]))
        return a, b

    def set_plane(
        self, plane: surface.Plane, steps: Array, coords: Array, distances: Array
    ) -> None:
        """A new plane, with the projections of the points ``steps`` onto it."""
        self.plane = plane
        self._coords = {
            int(s): (float(c[0]), float(c[1]), float(d))
            for s, c, d in zip(steps, coords, distances, strict=True)
        }
        self._explained = (math.nan, -math.inf)

    def explained_outdated(self, now: float) -> bool:
        """Whether points came after the last estimate of "explained now", which may be redone."""
        when = self._explained[1]
        return self.plane is not None and when < self._changed and now - when >= EXPLAINED_INTERVAL

    def next_cost(self) -> int | None:
        """Index of the point whose true cost to compute next (see :func:`next_cost_index`)."""
        return next_cost_index(
            np.array([s in self.costs for s in self.trajectory.steps.tolist()], dtype=bool)
        )

    def view(self, generation: int, fit: int, now: float) -> PathView:
        """The path as seen from the current plane (NaN coordinates without one)."""
        steps = self.trajectory.steps.copy()
        self._forget_dropped(steps)
        table = np.full((len(steps), 3), math.nan)  # a, b, distance
        explained = math.nan
        if self.plane is not None:
            self._project_missing(steps)
            table[:] = [self._coords[int(s)] for s in steps]
            explained = self._explained_now(now)
        costs = np.array([self.costs.get(int(s), math.nan) for s in steps])
        coords = table[:, :2]
        length = float(np.sum(np.hypot(*np.diff(coords, axis=0).T))) if len(steps) > 1 else 0.0
        length = length if math.isfinite(length) else 0.0
        return PathView(generation, fit, steps, coords, table[:, 2], costs, explained, length)

    def _forget_dropped(self, steps: Array) -> None:
        """Drop coordinates and costs of points the trajectory no longer keeps."""
        keep = set(steps.tolist())
        for table in (self._coords, self.costs):
            for s in [s for s in table if s not in keep]:
                del table[s]

    def _project_missing(self, steps: Array) -> None:
        assert self.plane is not None
        missing = [i for i, s in enumerate(steps) if int(s) not in self._coords]
        if missing:
            coords, distances = surface.project(self.plane, self.trajectory.thetas[missing])
            for i, c, d in zip(missing, coords, distances, strict=True):
                self._coords[int(steps[i])] = (float(c[0]), float(c[1]), float(d))

    def _explained_now(self, now: float) -> float:
        """The plane's share of the path's variance, re-estimated at most once a second."""
        value, when = self._explained
        if now - when >= EXPLAINED_INTERVAL and self.plane is not None:
            thetas = spread(self.trajectory.thetas, EXPLAINED_POINTS)
            value = surface.explained_fraction(self.plane, thetas) if len(thetas) > 1 else math.nan
            self._explained = (value, now)
        return value


def next_cost_index(known: Array) -> int | None:
    """The point whose true cost to compute next, or None when all are known.

    The newest point first (the end of the path matters most), then the first,
    then the middle of the longest run of unknown costs: the comparison chart
    fills in coarse to fine over the whole path.
    """
    if known.all():
        return None
    if not known[-1]:
        return len(known) - 1
    if not known[0]:
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (~known).astype(np.int8), [0]])))
    starts, stops = edges[::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return int((starts[k] + stops[k] - 1) // 2)


def spread(thetas: Array, most: int) -> Array:
    """At most ``most`` rows of ``thetas``, evenly spaced, the first and the last included."""
    if len(thetas) <= most:
        return thetas
    picked: Array = thetas[np.unique(np.linspace(0, len(thetas) - 1, most).round().astype(int))]
    return picked

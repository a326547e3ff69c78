"""The loss-surface server: path recording, plane fits, cost grids and true path costs.

The app sends it the SGD path (:class:`~nnviz.engine.messages.AddPoint`, a few
times a second), the images to measure costs on and the panel's settings. It
keeps the bounded path (:class:`~nnviz.engine.path.ProjectedPath`), projects
new points onto the current plane, fits a new plane and evaluates the cost
grid when asked (or automatically when the path leaves the grid or turns away
from the plane), and fills in the true cost of path points in its spare time.
Replies: :class:`~nnviz.engine.messages.SurfaceGrid`,
:class:`~nnviz.engine.messages.PathView` (at most 10 a second),
:class:`~nnviz.engine.messages.GridProgress` and
:class:`~nnviz.engine.messages.Failed`. The old surface stays until the new
one is ready.

While a grid runs (seconds) the server looks at its commands after every row:
new path points are recorded at once; a new network, new settings, the user's
refit or Stop cancel the grid and are carried out next. Refits the user asks
for start at once; automatic ones wait until the server has been idle for
twice the last fit's duration, so a slow grid never keeps a core busy all the
time. In the app it runs at a low priority (the picture waits; drawing and
training go first).
"""

from __future__ import annotations

import math
import time
import traceback
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core import surface
from nnviz.core.errors import Cancelled, NnvizError
from nnviz.core.network import Network
from nnviz.engine.messages import (
    AddPoint,
    ConfigureSurface,
    Failed,
    GridProgress,
    Refit,
    StartPath,
    Stop,
    SurfaceData,
    SurfaceGrid,
    SurfaceSettings,
)
from nnviz.engine.path import ProjectedPath, spread
from nnviz.engine.runner import Port

Array = npt.NDArray[Any]

PATH_INTERVAL = 1 / 10  # at most 10 path updates a second: smooth enough for a path
MIN_REFIT_GAP = 2.0  # seconds between automatic refits (at least twice the last fit's time)
COST_DUTY = 0.3  # share of the server's time spent on true path costs while training runs
IDLE_COST_DUTY = 0.8  # ... and once no point arrived for a second (paused, finished)
FIT_POINTS = 300  # planes are fitted to at most this many evenly spaced path points
EXPLAINED_DROP = 0.7  # refit (automatically) when the plane explains less than 70% of what it did
RANDOM_SPAN = 1.0  # random planes span at least +-1 filter-normalised unit (Li et al.)
IDLE_SECONDS = 0.1


class SurfaceServer:
    """Owns the path and the current plane; computes surfaces on request."""

    def __init__(self) -> None:
        self.port: Port | None = None
        self.settings = SurfaceSettings()
        self.generation = -1
        self.net: Network | None = None
        self.path: ProjectedPath | None = None
        self.data: tuple[Array, Array] | None = None
        self.fit = 0
        self.range: tuple[float, float, float, float] | None = None
        self.refit_due: float | None = None  # perf_counter time of the next refit
        self.last_fit_end = -math.inf
        self.last_fit_seconds = 0.0
        self.last_path = 0.0
        self.path_dirty = False
        self.cost_debt = 0.0
        self.last_point = -math.inf
        self.deferred: deque[object] = deque()  # commands that cancelled a computation
        self.cancelled = False

    # ------------------------------------------------------------------ loop
    def run(self, port: Port) -> None:
        """Until Stop: commands, path views, grids and true costs."""
        self.port = port
        while not port.stopping:
            command = self.deferred.popleft() if self.deferred else port.receive(0)
            if command is not None:
                self._guarded(self._handle, command)
                continue
            self._publish_path()
            if self._refit_ready():
                self.refit_due = None
                self._guarded(self._compute)
            elif not self._fill_one_cost():
                if self.path is not None and self.path.explained_outdated(time.perf_counter()):
                    self.path_dirty = True  # re-estimate it (and maybe refit) on the next turn
                command = port.receive(self._idle_seconds())
                if command is not None:
                    self._guarded(self._handle, command)

    def send(self, reply: object) -> None:
        """A reply to the app."""
        assert self.port is not None
        self.port.send(reply)

    def _guarded(self, job: Any, *args: Any) -> None:
        try:
            job(*args)
        except Cancelled:
            pass
        except NnvizError as exc:
            self.send(Failed(str(exc)))
        except Exception as exc:  # a bug must not end the server
            self.send(Failed(f"internal error: {exc}\n{traceback.format_exc()}"))

    def _idle_seconds(self) -> float:
        if self.refit_due is None or not self._can_fit():
            return IDLE_SECONDS  # new points, data or commands wake the loop at once
        return min(IDLE_SECONDS, max(0.005, self.refit_due - time.perf_counter()))

    def _handle(self, command: object) -> None:
        match command:
            case AddPoint(generation, step, theta):
                self._record(generation, step, theta)
            case StartPath(generation, sizes, activation, cost):
                self._start(generation, Network(sizes, activation, cost))
            case SurfaceData(x, y):
                self.data = (x, y)
                if self.path is not None:
                    self.path.costs.clear()
                self.path_dirty = True
                if self.range is not None:  # the surface shown was measured on other images
                    self._want_refit(auto=False)
            case ConfigureSurface(settings, refit):
                self.settings = settings
                if refit:
                    self._want_refit(auto=False)
            case Refit(auto):
                self._want_refit(auto)
            case Stop():
                pass  # the port says it is stopping
            case _:
                raise TypeError(f"unknown command {command!r}")

    def _interrupted(self) -> bool:
        """Between rows of a grid: record new points; other commands cancel the grid."""
        assert self.port is not None
        while not self.cancelled:
            command = self.port.receive(0)
            if command is None:
                break
            if isinstance(command, AddPoint):
                self._guarded(self._handle, command)
                continue
            self.deferred.append(command)
            self.cancelled = not (isinstance(command, Refit) and command.auto) and not (
                isinstance(command, ConfigureSurface) and not command.refit
            )
        self._publish_path()
        return self.cancelled or self.port.stopping

    # ------------------------------------------------------------------ commands
    def _start(self, generation: int, net: Network) -> None:
        self.generation, self.net = generation, net
        self.path, self.range = ProjectedPath(net.n_params), None
        self.fit += 1
        self.refit_due = None
        self.last_fit_end, self.last_fit_seconds = -math.inf, 0.0

    def _record(self, generation: int, step: int, theta: Array) -> None:
        path = self.path
        if generation != self.generation or path is None:
            return
        if len(path) and step < path.trajectory.newest.step:
            return
        ab = path.record(step, theta)  # projected now: leaving the grid triggers a refit
        self.path_dirty = True
        self.last_point = time.perf_counter()
        if ab is None or (self.settings.auto_refit and self._left_grid(*ab)):
            self._want_refit(auto=True)

    def _want_refit(self, auto: bool) -> None:
        """Plan a refit: now, or (automatic) once the refit gap after the last fit has passed."""
        due = 0.0
        if auto:
            due = self.last_fit_end + max(MIN_REFIT_GAP, 2 * self.last_fit_seconds)
        self.refit_due = due if self.refit_due is None else min(self.refit_due, due)

    # ------------------------------------------------------------------ fitting
    def _can_fit(self) -> bool:
        needed = 1 if self.settings.plane == "random" else 3
        return (
            self.path is not None
            and len(self.path) >= needed
            and self.data is not None
            and self.net is not None
        )

    def _refit_ready(self) -> bool:
        due = self.refit_due
        return due is not None and time.perf_counter() >= due and self._can_fit()

    def _left_grid(self, a: float, b: float) -> bool:
        if self.range is None:
            return False
        a0, a1, b0, b1 = self.range
        return not (a0 <= a <= a1 and b0 <= b <= b1)

    def _make_plane(self) -> surface.Plane:
        assert self.path is not None and self.net is not None
        thetas, kind = spread(self.path.trajectory.thetas, FIT_POINTS), self.settings.plane
        seed = self.settings.seed
        if kind == "pca":
            old = self.path.plane
            previous = old if old is not None and old.kind == "pca" else None
            return surface.pca_plane(thetas, seed=seed, previous=previous)
        if kind == "start_to_now":
            return surface.start_to_now_plane(thetas, seed=seed)
        path = thetas if len(thetas) > 1 else None
        newest = self.path.trajectory.newest.theta
        return surface.random_plane(self.net, newest, seed=seed, path=path)

    def _compute(self) -> None:
        start = time.perf_counter()
        self.cancelled = False
        try:
            self._compute_grid(start)
        finally:
            self.send(GridProgress(0, 0))
            self.last_fit_end = time.perf_counter()
            self.last_fit_seconds = self.last_fit_end - start

    def _compute_grid(self, start: float) -> None:
        assert self.net is not None and self.path is not None and self.data is not None
        n = self.settings.resolution
        self.send(GridProgress(0, n))
        plane = self._make_plane()
        trajectory = self.path.trajectory
        steps = trajectory.steps.copy()  # points recorded during the grid come later
        coords, distances = surface.project(plane, trajectory.thetas)
        span = RANDOM_SPAN if plane.kind == "random" else _min_span(coords)
        a0, a1, b0, b1 = _square(surface.fit_range(coords, min_span=span))
        a, b = np.linspace(a0, a1, n), np.linspace(b0, b1, n)
        net = self.net
        x, y = self._images(net)
        costs = surface.cost_grid(
            net, plane, x, y, a, b, stop=_Flag(self._interrupted), progress=self._row_done,
            workers=1,  # the app's low-priority helper: one core at most
        )  # fmt: skip
        self.path.set_plane(plane, steps, coords, distances)
        self.range = (a0, a1, b0, b1)
        self.fit += 1
        seconds = time.perf_counter() - start
        self.send(
            SurfaceGrid(
                self.generation, self.fit, plane.kind, plane.label1, plane.label2, a, b, costs,
                plane.explained, len(x), seconds, net.cost, plane,
            )
        )  # fmt: skip
        self.path_dirty = True
        self._publish_path(force=True)

    def _images(self, net: Network) -> tuple[Array, Array]:
        """The images to measure costs on, as many as a grid of ``net`` may keep in memory
        (the subset is a random one: its first images are a random subset too)."""
        assert self.data is not None
        x, y = self.data
        most = surface.most_images(net)
        return (x[:most], y[:most]) if len(x) > most else (x, y)

    def _row_done(self, done: int, rows: int) -> None:
        self.send(GridProgress(done, rows))

    # ------------------------------------------------------------------ path
    def _publish_path(self, force: bool = False) -> None:
        path = self.path
        if path is None or not len(path) or not self.path_dirty:
            return
        now = time.perf_counter()
        if not force and now - self.last_path < PATH_INTERVAL:
            return
        self.last_path, self.path_dirty = now, False
        view = path.view(self.generation, self.fit, now)
        self.send(view)
        plane = path.plane
        if (
            self.settings.auto_refit
            and plane is not None
            and plane.kind != "random"  # a random plane never explains the path
            and view.explained < EXPLAINED_DROP * plane.explained
        ):
            self._want_refit(auto=True)  # the path has turned away from the plane

    def _fill_one_cost(self) -> bool:
        """Compute one missing true path cost, keeping to the duty cycle."""
        path, net, data = self.path, self.net, self.data
        if path is None or net is None or data is None or self.cost_debt > time.perf_counter():
            return False
        i = path.next_cost()
        if i is None:
            return False
        start = time.perf_counter()
        trajectory = path.trajectory
        step, theta = int(trajectory.steps[i]), trajectory.thetas[i : i + 1]
        self.cancelled = False
        try:
            cost = surface.path_costs(net, theta, *self._images(net), stop=_Flag(self._interrupted))
        except Cancelled:
            return False
        path.costs[step] = float(cost[0])
        now = time.perf_counter()
        duty = COST_DUTY if now - self.last_point < 1.0 else IDLE_COST_DUTY
        self.cost_debt = now + (now - start) * (1 - duty) / duty
        self.path_dirty = True
        return True


def _square(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``box`` widened about its centre to a square: the panel draws both axes to one
    scale (the planes' directions are equally long), so a square grid fills its map."""
    a0, a1, b0, b1 = box
    half = max(a1 - a0, b1 - b0) / 2
    ma, mb = (a0 + a1) / 2, (b0 + b1) / 2
    return ma - half, ma + half, mb - half, mb + half


def _min_span(coords: Array) -> float:
    """A tiny path still gets a grid of a sensible size (1% of its extent, at least 1e-3)."""
    extent = float(np.max(np.abs(coords))) if coords.size else 0.0
    return max(1e-3, 0.01 * extent)


class _Flag:
    """A stop flag whose ``is_set`` asks a function (the core checks it between rows)."""

    def __init__(self, ask: Any) -> None:
        self.is_set = ask

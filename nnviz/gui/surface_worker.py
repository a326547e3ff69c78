"""The loss-surface worker: path recording, plane fits and cost grids, off the GUI thread.

A second worker QObject in its own QThread (training never waits for it).
The GUI hands it every snapshot's parameters; it keeps the bounded
:class:`~nnviz.core.trajectory.Trajectory`, projects new points onto the
current plane, fits a new plane and evaluates the cost grid when asked (or
automatically when the path leaves the grid), and fills in the true cost of
path points in its spare time. Results come back as immutable
:class:`SurfaceGrid` / :class:`PathView` objects through one-slot boxes with a
ping, like the training snapshots. The old surface stays until the new one
is ready.

Refits the user asks for (the "refit" button, new settings) start at once and
cancel a grid still running; automatic ones (every epoch, the path left the
grid) wait until the worker has been idle for twice the last fit's duration,
so a slow grid never keeps a core busy all the time.
"""

from __future__ import annotations

import functools
import math
import queue
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from nnviz.core import surface
from nnviz.core.errors import Cancelled, NnvizError
from nnviz.core.network import Network
from nnviz.gui.surface_compute import ComputeProcess
from nnviz.gui.surface_path import ProjectedPath, spread
from nnviz.gui.surface_types import (
    PLANE_NAMES,
    PLANES,
    Box,
    PathView,
    SurfaceGrid,
    SurfaceSettings,
    replace_settings,
)

__all__ = [
    "PLANES",
    "PLANE_NAMES",
    "PathView",
    "SurfaceGrid",
    "SurfaceSettings",
    "SurfaceWorker",
    "replace_settings",
]

Array = npt.NDArray[Any]

PATH_INTERVAL = 1 / 10  # at most 10 path updates a second: smooth enough for a path
MIN_REFIT_GAP = 2.0  # seconds between automatic refits (at least twice the last fit's time)
COST_DUTY = 0.3  # share of the worker's time spent on true path costs while training runs
IDLE_COST_DUTY = 0.8  # ... and once no point arrived for a second (paused, finished)
FIT_POINTS = 300  # planes are fitted to at most this many evenly spaced path points
EXPLAINED_DROP = 0.7  # refit (automatically) when the plane explains less than 70% of what it did
RANDOM_SPAN = 1.0  # random planes span at least +-0.75 filter-normalised units (Li et al.)


class SurfaceWorker(QObject):
    """Owns the path and the current plane; computes surfaces on request.

    Signals
    -------
    grid_ready
        A new :class:`SurfaceGrid` waits in :attr:`grids`.
    path_ready
        A new :class:`PathView` waits in :attr:`paths`.
    progress(int, int)
        Rows of the grid done, rows in all (``0, 0`` when idle).
    failed(str)
        A fit could not be made (too few points, ...): plain words.
    """

    grid_ready = Signal()
    path_ready = Signal()
    progress = Signal(int, int)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.grids = Box()
        self.paths = Box()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._points: queue.SimpleQueue[tuple[int, int, Array]] = queue.SimpleQueue()
        # written from the GUI thread; a running grid stops when either changes
        self._requested_generation = -1
        self._cancels = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._settings = SurfaceSettings()
        self._generation = -1
        self._net: Network | None = None
        self._path: ProjectedPath | None = None
        self._train: tuple[Array, Array] | None = None
        self._subset: tuple[int, int, int] | None = None  # (id of the images, size, seed) sent
        self._engine = ComputeProcess()  # grids and path costs run in a child process
        self._fit = 0
        self._range: tuple[float, float, float, float] | None = None
        self._refit_due: float | None = None  # perf_counter time of the next refit
        self._last_fit_end = -math.inf
        self._last_fit_seconds = 0.0
        self._last_path = 0.0
        self._path_dirty = False
        self._cost_debt = 0.0
        self._last_point = -math.inf

    # ------------------------------------------------------------------ GUI-thread API
    def post(self, command: Callable[[], None]) -> None:
        """Run ``command`` in the worker thread (thread-safe)."""
        self._commands.put(command)
        self._wake.set()

    def start_network(self, generation: int, net: Network) -> None:
        """Forget the old path: a new network (architecture) starts."""
        template = net.copy()
        self._requested_generation = generation  # before the post: see _drain_points
        self.post(lambda: self._start(generation, template))

    def add_point(self, generation: int, step: int, theta: Array) -> None:
        """Record a point of the path (a snapshot's private theta copy)."""
        self._points.put((generation, step, theta))
        self._wake.set()

    def set_data(self, x: Array, y: Array) -> None:
        """The training set; the evaluation subset is drawn from it."""
        self.post(lambda: self._set_data(x, y))

    def configure(self, settings: SurfaceSettings, refit: bool = True) -> None:
        """New panel settings; a refit follows (and cancels a running grid) unless not ``refit``."""
        if refit:
            self._cancels += 1
        self.post(lambda: self._configure(settings, refit))

    def refit(self, auto: bool = False) -> None:
        """Fit the plane to the path so far and compute a new surface.

        An explicit refit starts at once and cancels a running grid; an
        automatic one (``auto``) waits for the refit gap and cancels nothing.
        """
        if not auto:
            self._cancels += 1
        self.post(functools.partial(self._want_refit, auto))

    def stop(self) -> None:
        """End the loop soon, also in the middle of a grid (thread-safe)."""
        self._stop.set()
        self._wake.set()

    # ------------------------------------------------------------------ loop
    @Slot()
    def run(self) -> None:
        """The worker loop."""
        try:
            self._loop()
        finally:
            self._engine.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._drain()
            if self._stop.is_set():
                break
            self._drain_points()
            if self._refit_ready():
                self._refit_due = None
                self._guarded(self._compute)
            elif self._fill_one_cost():
                continue
            else:
                if self._path is not None and self._path.explained_outdated(time.perf_counter()):
                    self._path_dirty = True  # re-estimate it (and maybe refit) on the next turn
                self._wake.wait(self._idle_seconds())
                self._wake.clear()

    def _drain(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._guarded(command)

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Cancelled:
            pass
        except NnvizError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must not end the thread
            self.failed.emit(f"internal error: {exc}\n{traceback.format_exc()}")

    def _idle_seconds(self) -> float:
        if self._refit_due is None or not self._can_fit():
            return 0.1  # new points, data or commands wake the loop at once
        return min(0.1, max(0.005, self._refit_due - time.perf_counter()))

    # ------------------------------------------------------------------ commands
    def _start(self, generation: int, net: Network) -> None:
        self._generation, self._net = generation, net
        self._path, self._range = ProjectedPath(net.n_params), None
        self._fit += 1
        self._refit_due = None
        self._last_fit_end, self._last_fit_seconds = -math.inf, 0.0
        self._set_subset()
        self.grids.take()
        self.paths.take()

    def _record(self, generation: int, step: int, theta: Array) -> None:
        path = self._path
        if generation != self._generation or path is None:
            return
        if len(path) and step < path.trajectory.newest.step:
            return
        ab = path.record(step, theta)  # projected now: leaving the grid triggers a refit
        self._path_dirty = True
        self._last_point = time.perf_counter()
        if ab is None or (self._settings.auto_refit and self._left_grid(*ab)):
            self._want_refit(auto=True)

    def _set_data(self, x: Array, y: Array) -> None:
        self._train = (x, y)
        self._set_subset()

    def _set_subset(self) -> None:
        if self._train is None:
            return
        x, y = self._train
        size = min(self._settings.subset, len(x))
        key = (id(x), size, self._settings.seed)
        if key == self._subset:
            return
        idx = surface.evaluation_subset(len(x), size, self._settings.seed)
        self._engine.set_data(np.ascontiguousarray(x[idx]), np.ascontiguousarray(y[idx]))
        self._subset = key
        if self._path is not None:
            self._path.costs.clear()
        self._path_dirty = True

    def _configure(self, settings: SurfaceSettings, refit: bool) -> None:
        old, self._settings = self._settings, settings
        if (old.subset, old.seed) != (settings.subset, settings.seed):
            self._set_subset()
        if refit:
            self._want_refit(auto=False)

    def _want_refit(self, auto: bool) -> None:
        """Plan a refit: now, or (automatic) once the refit gap after the last fit has passed."""
        due = 0.0
        if auto:
            due = self._last_fit_end + max(MIN_REFIT_GAP, 2 * self._last_fit_seconds)
        self._refit_due = due if self._refit_due is None else min(self._refit_due, due)

    # ------------------------------------------------------------------ fitting
    def _can_fit(self) -> bool:
        needed = 1 if self._settings.plane == "random" else 3
        return (
            self._path is not None
            and len(self._path) >= needed
            and self._subset is not None
            and self._net is not None
        )

    def _refit_ready(self) -> bool:
        due = self._refit_due
        return due is not None and time.perf_counter() >= due and self._can_fit()

    def _left_grid(self, a: float, b: float) -> bool:
        if self._range is None:
            return False
        a0, a1, b0, b1 = self._range
        return not (a0 <= a <= a1 and b0 <= b <= b1)

    def _make_plane(self) -> surface.Plane:
        assert self._path is not None and self._net is not None
        thetas, kind = spread(self._path.trajectory.thetas, FIT_POINTS), self._settings.plane
        seed = self._settings.seed
        if kind == "pca":
            old = self._path.plane
            previous = old if old is not None and old.kind == "pca" else None
            return surface.pca_plane(thetas, seed=seed, previous=previous)
        if kind == "start_to_now":
            return surface.start_to_now_plane(thetas, seed=seed)
        path = thetas if len(thetas) > 1 else None
        newest = self._path.trajectory.newest.theta
        return surface.random_plane(self._net, newest, seed=seed, path=path)

    def _compute(self) -> None:
        start = time.perf_counter()
        try:
            self._compute_grid(start)
        finally:
            self.progress.emit(0, 0)
            self._last_fit_end = time.perf_counter()
            self._last_fit_seconds = self._last_fit_end - start

    def _compute_grid(self, start: float) -> None:
        assert self._net is not None and self._path is not None and self._subset is not None
        generation, cancels, n = self._generation, self._cancels, self._settings.resolution
        self.progress.emit(0, n)
        plane = self._make_plane()
        trajectory = self._path.trajectory
        steps = trajectory.steps.copy()  # points recorded during the grid come later
        coords, distances = surface.project(plane, trajectory.thetas)
        span = RANDOM_SPAN if plane.kind == "random" else _min_span(coords)
        a0, a1, b0, b1 = surface.fit_range(coords, min_span=span)
        a, b = np.linspace(a0, a1, n), np.linspace(b0, b1, n)
        stop = _Interrupt(self, generation, cancels)
        costs = self._engine.grid(
            _spec(self._net), plane, a, b, stop, self._stop, self._grid_progress, self._drain_points
        )
        self._path.set_plane(plane, steps, coords, distances)
        self._range = (a0, a1, b0, b1)
        self._fit += 1
        seconds = time.perf_counter() - start
        grid = SurfaceGrid(
            generation, self._fit, plane.kind, plane.label1, plane.label2, a, b, costs,
            plane.explained, self._subset[1], seconds, self._net.cost, plane,
        )  # fmt: skip
        if self.grids.put(grid):
            self.grid_ready.emit()
        self._path_dirty = True
        self._publish_path(force=True)

    def _grid_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)
        self._drain_points()

    def _drain_points(self) -> None:
        """Record the points that arrived (also between rows of a long grid)."""
        if self._requested_generation != self._generation:
            return  # a new network is on its way: its points wait for it
        while True:
            try:
                generation, step, theta = self._points.get_nowait()
            except queue.Empty:
                break
            self._guarded(functools.partial(self._record, generation, step, theta))
        self._publish_path()

    # ------------------------------------------------------------------ path
    def _publish_path(self, force: bool = False) -> None:
        path = self._path
        if path is None or not len(path) or not self._path_dirty:
            return
        now = time.perf_counter()
        if not force and now - self._last_path < PATH_INTERVAL:
            return
        self._last_path, self._path_dirty = now, False
        view = path.view(self._generation, self._fit, now)
        if self.paths.put(view):
            self.path_ready.emit()
        plane = path.plane
        if (
            self._settings.auto_refit
            and plane is not None
            and plane.kind != "random"  # a random plane never explains the path
            and view.explained < EXPLAINED_DROP * plane.explained
        ):
            self._want_refit(auto=True)  # the path has turned away from the plane

    def _fill_one_cost(self) -> bool:
        """Compute one missing true path cost, keeping to the duty cycle."""
        path, net = self._path, self._net
        if path is None or net is None or self._subset is None:
            return False
        if self._cost_debt > time.perf_counter():
            return False
        i = path.next_cost()
        if i is None:
            return False
        start = time.perf_counter()
        trajectory = path.trajectory
        step, theta = int(trajectory.steps[i]), trajectory.thetas[i : i + 1]
        stop = _Interrupt(self, self._generation, self._cancels)
        try:
            cost = self._engine.path_costs(_spec(net), theta, stop, self._stop, self._drain_points)
        except NnvizError as exc:  # Cancelled, or the process died (it restarts)
            if not isinstance(exc, Cancelled):
                self.failed.emit(str(exc))
            return False
        path.costs[step] = float(cost[0])
        now = time.perf_counter()
        duty = COST_DUTY if now - self._last_point < 1.0 else IDLE_COST_DUTY
        self._cost_debt = now + (now - start) * (1 - duty) / duty
        self._path_dirty = True
        return True


def _spec(net: Network) -> tuple[tuple[int, ...], str, str]:
    """What the surface process needs to build the network: sizes, activation, cost."""
    return tuple(net.sizes), net.activation, net.cost


def _min_span(coords: Array) -> float:
    """A tiny path still gets a grid of a sensible size (1% of its extent, at least 1e-3)."""
    extent = float(np.max(np.abs(coords))) if coords.size else 0.0
    return max(1e-3, 0.01 * extent)


class _Interrupt:
    """Stop flag of a running grid: the app quits, a new network starts, the user asks again."""

    def __init__(self, worker: SurfaceWorker, generation: int, cancels: int) -> None:
        self.worker, self.generation, self.cancels = worker, generation, cancels

    def is_set(self) -> bool:
        worker = self.worker
        return (
            worker._stop.is_set()
            or worker._requested_generation != self.generation
            or worker._cancels != self.cancels
        )

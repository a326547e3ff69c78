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
"""

from __future__ import annotations

import dataclasses
import functools
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from nnviz.core import surface
from nnviz.core.errors import Cancelled, NnvizError
from nnviz.core.network import Network
from nnviz.core.trajectory import Trajectory

Array = npt.NDArray[Any]

PLANES = ("pca", "random", "start_to_now")
PLANE_NAMES = {"pca": "PCA of the path", "random": "random (filter-normalised)",
               "start_to_now": "start to now"}
PATH_INTERVAL = 1 / 20  # at most 20 path updates a second
MIN_REFIT_GAP = 2.0  # seconds between automatic refits
COST_DUTY = 0.3  # share of the worker's time spent on true path costs


@dataclass(frozen=True)
class SurfaceSettings:
    """What the user chose in the surface panel."""

    plane: str = "pca"
    resolution: int = 41
    subset: int = 10_000
    auto_refit: bool = True
    seed: int = 0


@dataclass(frozen=True)
class SurfaceGrid:
    """A computed cost surface on a plane.

    ``costs[i, j]`` is the exact mean cost over the evaluation subset at
    ``origin + a[j] d1 + b[i] d2``.
    """

    generation: int
    fit: int
    kind: str
    label1: str
    label2: str
    a: Array = field(repr=False)
    b: Array = field(repr=False)
    costs: Array = field(repr=False)
    explained: float
    subset: int
    seconds: float
    cost_name: str


@dataclass(frozen=True)
class PathView:
    """The recorded path as seen from the current plane.

    ``coords`` are the least-squares coordinates (a, b) of each point,
    ``distances`` their distance from the plane, ``true_costs`` the exact
    cost on the evaluation subset (NaN until computed), ``explained`` the
    share of the path's variance the plane explains now.
    """

    generation: int
    fit: int
    steps: Array = field(repr=False)
    coords: Array = field(repr=False)
    distances: Array = field(repr=False)
    true_costs: Array = field(repr=False)
    explained: float
    path_length: float


class _Box:
    """A thread-safe one-slot box; ``put`` says whether the reader needs a ping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: Any = None

    def put(self, item: Any) -> bool:
        with self._lock:
            empty, self._item = self._item is None, item
            return empty

    def take(self) -> Any:
        with self._lock:
            item, self._item = self._item, None
            return item


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
        self.grids = _Box()
        self.paths = _Box()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._points: queue.SimpleQueue[tuple[int, int, Array]] = queue.SimpleQueue()
        self._requested_generation = -1  # set from the GUI thread: cancels a stale grid
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._settings = SurfaceSettings()
        self._generation = -1
        self._net: Network | None = None
        self._path: Trajectory | None = None
        self._x: Array | None = None
        self._y: Array | None = None
        self._train: tuple[Array, Array] | None = None
        self._plane: surface.Plane | None = None
        self._fit = 0
        self._range: tuple[float, float, float, float] | None = None
        self._coords: dict[int, tuple[float, float, float]] = {}
        self._costs: dict[int, float] = {}
        self._refit_wanted = False
        self._last_fit = 0.0
        self._last_path = 0.0
        self._path_dirty = False
        self._cost_debt = 0.0

    # ------------------------------------------------------------------ GUI-thread API
    def post(self, command: Callable[[], None]) -> None:
        """Run ``command`` in the worker thread (thread-safe)."""
        self._commands.put(command)
        self._wake.set()

    def start_network(self, generation: int, net: Network) -> None:
        """Forget the old path: a new network (architecture) starts."""
        template = net.copy()
        self._requested_generation = generation
        self.post(lambda: self._start(generation, template))

    def add_point(self, generation: int, step: int, theta: Array) -> None:
        """Record a point of the path (a snapshot's private theta copy)."""
        self._points.put((generation, step, theta))
        self._wake.set()

    def set_data(self, x: Array, y: Array) -> None:
        """The training set; the evaluation subset is drawn from it."""
        self.post(lambda: self._set_data(x, y))

    def configure(self, settings: SurfaceSettings, refit: bool = True) -> None:
        """New panel settings; a refit follows unless ``refit`` is False."""
        self.post(lambda: self._configure(settings, refit))

    def refit(self) -> None:
        """Fit the plane to the path so far and compute a new surface."""
        self.post(self._request_refit)

    def stop(self) -> None:
        """End the loop soon, also in the middle of a grid (thread-safe)."""
        self._stop.set()
        self._wake.set()

    # ------------------------------------------------------------------ loop
    @Slot()
    def run(self) -> None:
        """The worker loop."""
        while not self._stop.is_set():
            self._drain()
            if self._stop.is_set():
                break
            self._drain_points()
            if self._refit_wanted and self._can_fit():
                self._refit_wanted = False
                self._guarded(self._compute)
            elif self._fill_one_cost():
                continue
            else:
                self._wake.wait(0.1)
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

    # ------------------------------------------------------------------ commands
    def _start(self, generation: int, net: Network) -> None:
        self._generation, self._net = generation, net
        self._path = Trajectory(net.n_params)
        self._plane, self._range = None, None
        self._coords.clear()
        self._costs.clear()
        self._fit += 1
        self._refit_wanted = False
        self._set_subset()
        self.grids.take()
        self.paths.take()

    def _record(self, generation: int, step: int, theta: Array) -> None:
        if generation != self._generation or self._path is None:
            return
        if len(self._path) and step < self._path.newest.step:
            return
        self._path.record(step, theta)
        self._path_dirty = True
        if self._settings.auto_refit and (self._plane is None or self._left_grid()):
            if time.perf_counter() - self._last_fit > MIN_REFIT_GAP:
                self._refit_wanted = True

    def _set_data(self, x: Array, y: Array) -> None:
        self._train = (x, y)
        self._set_subset()

    def _set_subset(self) -> None:
        if self._train is None:
            return
        x, y = self._train
        idx = surface.evaluation_subset(len(x), min(self._settings.subset, len(x)),
                                        self._settings.seed)
        self._x, self._y = np.ascontiguousarray(x[idx]), np.ascontiguousarray(y[idx])
        self._costs.clear()

    def _configure(self, settings: SurfaceSettings, refit: bool) -> None:
        old, self._settings = self._settings, settings
        if (old.subset, old.seed) != (settings.subset, settings.seed):
            self._set_subset()
        if refit:
            self._refit_wanted = True

    def _request_refit(self) -> None:
        self._refit_wanted = True

    # ------------------------------------------------------------------ fitting
    def _can_fit(self) -> bool:
        needed = 1 if self._settings.plane == "random" else 3
        return (self._path is not None and len(self._path) >= needed
                and self._x is not None and self._net is not None)

    def _left_grid(self) -> bool:
        if self._range is None or self._path is None:
            return False
        a, b, _ = self._coords.get(self._path.newest.step, (0.0, 0.0, 0.0))
        a0, a1, b0, b1 = self._range
        return not (a0 <= a <= a1 and b0 <= b <= b1)

    def _make_plane(self) -> surface.Plane:
        assert self._path is not None and self._net is not None
        thetas, kind, seed = self._path.thetas, self._settings.plane, self._settings.seed
        if kind == "pca":
            previous = self._plane if self._plane is not None and self._plane.kind == "pca" \
                else None
            return surface.pca_plane(thetas, seed=seed, previous=previous)
        if kind == "start_to_now":
            return surface.start_to_now_plane(thetas, seed=seed)
        return surface.random_plane(self._net, self._path.newest.theta, seed=seed,
                                    path=thetas if len(thetas) > 1 else None)

    def _compute(self) -> None:
        assert self._net is not None and self._x is not None and self._y is not None
        assert self._path is not None
        start = time.perf_counter()
        generation = self._generation
        plane = self._make_plane()
        steps = self._path.steps.copy()  # points recorded during the grid come later
        coords, distances = surface.project(plane, self._path.thetas)
        a0, a1, b0, b1 = surface.fit_range(coords, min_span=_min_span(coords))
        n = self._settings.resolution
        a, b = np.linspace(a0, a1, n), np.linspace(b0, b1, n)
        rows = len(b)

        def progress(done: int, total: int) -> None:
            self.progress.emit(done, total)
            self._drain_points()

        self.progress.emit(0, rows)
        try:
            costs = surface.cost_grid(self._net, plane, self._x, self._y, a, b,
                                      stop=_Interrupt(self, generation), progress=progress)
        finally:
            self.progress.emit(0, 0)
            self._last_fit = time.perf_counter()
        self._plane, self._range = plane, (a0, a1, b0, b1)
        self._fit += 1
        self._coords = {int(s): (float(c[0]), float(c[1]), float(d))
                        for s, c, d in zip(steps, coords, distances, strict=True)}
        grid = SurfaceGrid(generation, self._fit, plane.kind, plane.label1, plane.label2, a, b,
                           costs, plane.explained, len(self._x),
                           time.perf_counter() - start, self._net.cost)
        if self.grids.put(grid):
            self.grid_ready.emit()
        self._path_dirty = True
        self._publish_path(force=True)

    def _drain_points(self) -> None:
        """Record the points that arrived (also between rows of a long grid)."""
        while True:
            try:
                generation, step, theta = self._points.get_nowait()
            except queue.Empty:
                break
            self._guarded(functools.partial(self._record, generation, step, theta))
        self._publish_path()

    # ------------------------------------------------------------------ path
    def _publish_path(self, force: bool = False) -> None:
        path, plane = self._path, self._plane
        if path is None or not len(path) or not self._path_dirty:
            return
        now = time.perf_counter()
        if not force and now - self._last_path < PATH_INTERVAL:
            return
        self._last_path = now
        self._path_dirty = False
        steps = path.steps.copy()
        if plane is not None:
            self._project_new(steps)
            coords = np.array([self._coords[int(s)][:2] for s in steps])
            distances = np.array([self._coords[int(s)][2] for s in steps])
            explained = plane.explained
        else:
            coords, distances, explained = np.zeros((len(steps), 2)), np.zeros(len(steps)), 0.0
        costs = np.array([self._costs.get(int(s), np.nan) for s in steps])
        length = float(np.sum(np.linalg.norm(np.diff(coords, axis=0), axis=1))) \
            if len(coords) > 1 else 0.0
        view = PathView(self._generation, self._fit, steps, coords, distances, costs,
                        explained, length)
        if self.paths.put(view):
            self.path_ready.emit()

    def _project_new(self, steps: Array) -> None:
        assert self._path is not None and self._plane is not None
        keep = set(int(s) for s in steps)
        for s in [s for s in self._coords if s not in keep]:
            del self._coords[s]
        missing = [i for i, s in enumerate(steps) if int(s) not in self._coords]
        if missing:
            coords, distances = surface.project(self._plane, self._path.thetas[missing])
            for i, c, d in zip(missing, coords, distances, strict=True):
                self._coords[int(steps[i])] = (float(c[0]), float(c[1]), float(d))

    def _fill_one_cost(self) -> bool:
        """Compute one missing true path cost, keeping to the duty cycle."""
        path, net = self._path, self._net
        if path is None or net is None or self._x is None or self._y is None:
            return False
        if self._cost_debt > time.perf_counter():
            return False
        missing = [i for i, s in enumerate(path.steps) if int(s) not in self._costs]
        if not missing:
            return False
        i = missing[-1]  # newest first: the end of the path matters most
        start = time.perf_counter()
        step = int(path.steps[i])
        cost = float(surface.path_costs(net, path.thetas[i : i + 1], self._x, self._y)[0])
        self._costs[step] = cost
        spent = time.perf_counter() - start
        self._cost_debt = time.perf_counter() + spent * (1 - COST_DUTY) / COST_DUTY
        self._path_dirty = True
        return True


def _min_span(coords: Array) -> float:
    """A tiny path still gets a grid of a sensible size (1% of its extent, at least 1e-3)."""
    extent = float(np.max(np.abs(coords))) if coords.size else 0.0
    return max(1e-3, 0.01 * extent)


class _Interrupt:
    """Stop flag of a running grid: the app quits or a new network starts."""

    def __init__(self, worker: SurfaceWorker, generation: int) -> None:
        self.worker, self.generation = worker, generation

    def is_set(self) -> bool:
        worker = self.worker
        return worker._stop.is_set() or worker._requested_generation != self.generation


def replace_settings(settings: SurfaceSettings, **changes: Any) -> SurfaceSettings:
    """``settings`` with ``changes`` (validated)."""
    new = dataclasses.replace(settings, **changes)
    if new.plane not in PLANES:
        raise ValueError(f"unknown plane {new.plane!r}")
    return new

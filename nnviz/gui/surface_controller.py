"""GUI-thread side of the loss-surface engine: feeds it, relays its results.

The controller listens to the app state (a new network, every snapshot, the
data set, epoch ends) and sends the surface server what it needs: the path
points (every snapshot's, fewer for large networks), the images to
measure costs on and the panel's settings. The server's replies become
signals the surface panel renders. When the surface process dies it is
started again and given the network, the data and the settings back.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from nnviz.core import surface
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
from nnviz.engine.snapshot import Snapshot
from nnviz.gui.backend import EngineThread
from nnviz.gui.state import AppState

#: Path points (a copy of the parameters each) are sent at most at this many
#: bytes a second: every snapshot's for the lessons' network, fewer for large ones.
POINT_BYTES_PER_SECOND = 20e6
RESOLUTIONS = (21, 31, 41, 61)  # grid points per side the panel offers
SUBSETS = (1_000, 5_000, 10_000, 60_000)  # images a surface's costs may be averaged over


class SurfaceController(QObject):
    """Connects the app state, the surface engine and the surface panel.

    Signals
    -------
    grid_changed(SurfaceGrid)
        A new surface is ready (the old one stays shown until then).
    path_changed(PathView)
        The path as seen from the current plane grew or was re-projected.
    progress(int, int)
        Rows done of the grid being computed; ``(0, 0)`` when idle.
    failed(str)
        A fit could not be made; plain words.
    settings_changed(SurfaceSettings)
        :meth:`configure` was called (the panel shows the new settings).
    """

    grid_changed = Signal(object)
    path_changed = Signal(object)
    progress = Signal(int, int)
    failed = Signal(str)
    settings_changed = Signal(object)

    def __init__(self, state: AppState, engine: EngineThread, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.engine = state, engine
        self.settings = SurfaceSettings()
        self.grid: SurfaceGrid | None = None
        self.path: PathView | None = None
        self.rows = (0, 0)  # the server's last progress: rows done, rows (0, 0 when idle)
        self.error: str | None = None  # the last failure, until the next grid
        self._last_point = -np.inf
        engine.arrived.connect(self._replies)
        engine.died.connect(self._engine_died)
        state.network_replaced.connect(self._network_replaced)
        state.snapshot_received.connect(self._snapshot)
        state.dataset_loaded.connect(self._send_data)
        self._network_replaced()
        self._send_data()

    # ------------------------------------------------------------------ panel API
    def configure(self, settings: SurfaceSettings, refit: bool = True) -> None:
        """Apply the panel's settings (a refit follows unless ``refit`` is False)."""
        old, self.settings = self.settings, settings
        if (old.subset, old.seed) != (settings.subset, settings.seed):
            self._send_data()
        self.engine.post(ConfigureSurface(settings, refit))
        self.settings_changed.emit(settings)

    def refit(self) -> None:
        """Fit the plane to the path so far and compute a new surface now."""
        self.engine.post(Refit())

    # ------------------------------------------------------------------ state
    @Slot()
    def _network_replaced(self) -> None:
        self.grid = self.path = self.error = None
        net, generation = self.state.net, self.state.generation
        self.engine.post(StartPath(generation, net.sizes, net.activation, net.cost))
        self.engine.post(AddPoint(generation, 0, net.theta.copy()))

    @Slot(object)
    def _snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.generation != self.state.generation:
            return
        now = time.perf_counter()
        gap = snapshot.theta.nbytes / POINT_BYTES_PER_SECOND
        if now - self._last_point >= gap or snapshot.state != "running":
            self._last_point = now
            self.engine.post(AddPoint(snapshot.generation, snapshot.step, snapshot.theta))
        if snapshot.evaluations and self.settings.auto_refit:
            self.engine.post(Refit(auto=True))  # every epoch (the server spaces them out)

    @Slot()
    def _send_data(self) -> None:
        data = self.state.dataset
        if data is None:
            return
        size = min(self.settings.subset, len(data.train_x))
        idx = surface.evaluation_subset(len(data.train_x), size, self.settings.seed)
        self.engine.post(SurfaceData(data.train_x[idx], data.train_y[idx]))

    @Slot(str)
    def _engine_died(self, message: str) -> None:
        """The surface process died and was started again: give it everything back."""
        self.engine.post(ConfigureSurface(self.settings, refit=False))
        self._send_data()
        self._network_replaced()
        self._progress(0, 0)
        self._failed(f"{message} The surface is computed again.")

    # ------------------------------------------------------------------ replies
    @Slot()
    def _replies(self) -> None:
        generation = self.state.generation
        for reply in self.engine.inbox.take():
            match reply:
                case SurfaceGrid() if reply.generation == generation:
                    self.grid, self.error = reply, None
                    self.grid_changed.emit(reply)
                case PathView() if reply.generation == generation:
                    self.path = reply
                    self.path_changed.emit(reply)
                case GridProgress(done, rows):
                    self._progress(done, rows)
                case Failed(message):
                    self._failed(message)

    def _progress(self, done: int, rows: int) -> None:
        self.rows = (done, rows)
        self.progress.emit(done, rows)

    def _failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

"""GUI-thread side of the loss-surface worker: feeds it, relays its results.

The controller listens to the app state (new network, every snapshot, the
data set, epoch ends) and forwards what the :class:`SurfaceWorker` needs; it
takes the worker's results from their boxes and re-emits them as signals
the surface panel renders. It owns the worker's thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from nnviz.engine.snapshot import Snapshot
from nnviz.gui.state import AppState
from nnviz.gui.surface_worker import (
    PathView,
    SurfaceGrid,
    SurfaceSettings,
    SurfaceWorker,
)
from nnviz.gui.worker import WorkerHandle


class SurfaceController(QObject):
    """Connects the app state, the surface worker and the surface panel.

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

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = SurfaceSettings()
        self.worker = SurfaceWorker()
        self.handle = WorkerHandle(self.worker, "nnviz-surface", self)
        self.grid: SurfaceGrid | None = None
        self.path: PathView | None = None
        self.rows = (0, 0)  # the worker's last progress: rows done, rows (0, 0 when idle)
        self.error: str | None = None  # the last failure, until the next grid
        self.worker.grid_ready.connect(self._take_grid)
        self.worker.path_ready.connect(self._take_path)
        self.worker.progress.connect(self._progress)
        self.worker.failed.connect(self._failed)
        state.network_replaced.connect(self._network_replaced)
        state.snapshot_received.connect(self._snapshot)
        state.dataset_loaded.connect(self._dataset_loaded)
        self._network_replaced()
        if state.dataset is not None:
            self._dataset_loaded()

    # ------------------------------------------------------------------ panel API
    def configure(self, settings: SurfaceSettings, refit: bool = True) -> None:
        """Apply the panel's settings (a refit follows unless ``refit`` is False)."""
        self.settings = settings
        self.worker.configure(settings, refit)
        self.settings_changed.emit(settings)

    def refit(self) -> None:
        """Fit the plane to the path so far and compute a new surface now."""
        self.worker.refit()

    def shutdown(self) -> bool:
        """Stop the worker thread (idempotent)."""
        return self.handle.shutdown()

    # ------------------------------------------------------------------ state
    @Slot()
    def _network_replaced(self) -> None:
        self.grid = self.path = self.error = None
        self.worker.start_network(self.state.generation, self.state.net)
        self.worker.add_point(self.state.generation, 0, self.state.net.theta.copy())

    @Slot(object)
    def _snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.generation != self.state.generation:
            return
        self.worker.add_point(snapshot.generation, snapshot.step, snapshot.theta)
        if snapshot.evaluations and self.settings.auto_refit:
            self.worker.refit(auto=True)  # every epoch (the worker spaces them out)

    @Slot()
    def _dataset_loaded(self) -> None:
        data = self.state.dataset
        if data is not None:
            self.worker.set_data(data.train_x, data.train_y)

    # ------------------------------------------------------------------ worker results
    @Slot()
    def _take_grid(self) -> None:
        grid = self.worker.grids.take()
        if grid is not None and grid.generation == self.state.generation:
            self.grid, self.error = grid, None
            self.grid_changed.emit(grid)

    @Slot()
    def _take_path(self) -> None:
        path = self.worker.paths.take()
        if path is not None and path.generation == self.state.generation:
            self.path = path
            self.path_changed.emit(path)

    @Slot(int, int)
    def _progress(self, done: int, rows: int) -> None:
        self.rows = (done, rows)
        self.progress.emit(done, rows)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

"""The loss-surface controller and its engine, fed by the app state as in the window.

The server's own behaviour (planes, refits, true costs) is tested without Qt in
tests/engine/test_surface_server.py; here: the GUI side in both engine modes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from nnviz.core import surface
from nnviz.core.datasets import Dataset
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.messages import SurfaceGrid, SurfaceSettings
from nnviz.engine.snapshot import Snapshot
from nnviz.engine.surface import SurfaceServer
from nnviz.gui.backend import EngineThread
from nnviz.gui.state import AppState
from nnviz.gui.surface_controller import SurfaceController

SMALL = SurfaceSettings(resolution=11, subset=1_000)


class Run:
    """An AppState fed with snapshots of a real trainer, and the surface controller."""

    def __init__(self, qtbot, data: Dataset, mode: str) -> None:
        self.qtbot, self.data = qtbot, data
        self.net = MODERN.network()
        self.state = AppState(self.net)
        self.engine = EngineThread(SurfaceServer, "loss-surface", mode)
        self.controller = SurfaceController(self.state, self.engine)
        self.engine.start()
        self.trainer = Trainer(self.net, data.train_x, data.train_y, MODERN.config)
        self.grids: list[SurfaceGrid] = []
        self.controller.grid_changed.connect(self.grids.append)

    def feed(self, snapshots: int, steps: int = 50) -> None:
        """Train ``steps`` mini-batches per snapshot and hand each snapshot to the state."""
        for _ in range(snapshots):
            self.trainer.step(steps)
            net = self.net
            self.state.apply_snapshot(
                Snapshot(self.state.generation, net.sizes, net.activation, net.cost,
                         net.theta.copy(), step=self.trainer.step_count, state="paused")
            )  # fmt: skip

    def wait_grid(self, after: int = 0, timeout: int = 60_000) -> SurfaceGrid:
        """The first grid newer than fit ``after``, once its path view arrived too."""
        ctl = self.controller

        def ready() -> bool:
            grid, path = ctl.grid, ctl.path
            fresh = grid is not None and grid.fit > after
            return fresh and path is not None and grid is not None and path.fit == grid.fit

        self.qtbot.waitUntil(ready, timeout=timeout)
        assert ctl.grid is not None
        return ctl.grid


@pytest.fixture(params=["process", "thread"])
def run(request, qtbot, mnist: Dataset) -> Iterator[Run]:
    r = Run(qtbot, mnist, request.param)
    try:
        yield r
    finally:
        assert r.engine.shutdown()


def test_the_grid_is_the_exact_cost_around_the_path(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(6)
    grid = run.wait_grid()
    assert grid.kind == "pca" and grid.costs.shape == (11, 11) and grid.subset == 1_000
    assert grid.generation == run.state.generation and grid.plane is not None
    idx = surface.evaluation_subset(len(run.data.train_x), SMALL.subset, SMALL.seed)
    x, y = run.data.train_x[idx], run.data.train_y[idx]
    probe = run.net.copy()
    for i, j in ((0, 0), (5, 5), (10, 3)):
        probe.theta = grid.plane.point(grid.a[j], grid.b[i])
        assert grid.costs[i, j] == pytest.approx(probe.evaluate(x, y)[0], rel=1e-4)
    path = run.controller.path
    assert path is not None and len(path.steps) == 7  # the start and six snapshots


def test_a_grid_leaves_the_event_loop_free(run: Run) -> None:
    run.controller.configure(SurfaceSettings(resolution=41, subset=10_000))
    run.state.set_dataset(run.data)
    run.feed(6)
    clock, ticks = QElapsedTimer(), []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    busy: list[bool] = []
    run.controller.progress.connect(lambda _done, rows: busy.append(rows > 0))
    clock.start()
    timer.start(10)
    run.wait_grid()
    timer.stop()
    assert any(busy), "no grid was computed"
    gaps = np.diff(ticks)
    assert len(ticks) > 20 and gaps.max() < 1000, f"the event loop stalled for {gaps.max()} ms"


def test_a_new_network_drops_the_old_surface_and_gets_its_own(run: Run) -> None:
    run.controller.configure(SurfaceSettings(resolution=41, subset=60_000))
    run.state.set_dataset(run.data)
    run.feed(5)
    run.qtbot.waitUntil(lambda: run.controller.rows[0] >= 1, timeout=60_000)  # mid-grid
    old, seen = run.state.generation, len(run.grids)
    run.state.set_network(Network((784, 32, 10), activation="relu", cost="cross_entropy"))
    assert run.controller.grid is None and run.controller.path is None
    run.controller.configure(SMALL)
    net = run.state.net
    run.net, run.trainer = net, Trainer(net, run.data.train_x, run.data.train_y, MODERN.config)
    run.feed(4)
    grid = run.wait_grid()
    assert grid.generation == run.state.generation != old
    assert grid.plane is not None and grid.plane.n_params == net.n_params
    assert all(g.generation == grid.generation for g in run.grids[seen:])  # none of the old


def test_a_killed_surface_process_is_started_again(qtbot, mnist: Dataset) -> None:
    run = Run(qtbot, mnist, "process")
    try:
        _kill_and_recover(run)
    finally:
        assert run.engine.shutdown()


def _kill_and_recover(run: Run) -> None:
    run.controller.configure(SMALL)
    run.state.set_dataset(run.data)
    run.feed(4)
    first = run.wait_grid()
    failures: list[str] = []
    run.controller.failed.connect(failures.append)
    pid = run.engine.engine.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    run.qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert "SIGKILL" in failures[0] and "computed again" in failures[0]
    assert run.engine.engine.pid not in (None, pid)
    run.feed(3)  # the new process has the data and settings back, and starts a new path
    grid = run.wait_grid()
    assert grid is not first and grid.costs.shape == (11, 11)

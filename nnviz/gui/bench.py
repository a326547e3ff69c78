"""``nnviz bench --gui``: the live app against headless training, in one run.

Measures, with every panel live: training samples per second compared with
the same training run headless (the trainer in its guard, as the engine runs
it), in turns with it, and what the guard itself costs against the plain
trainer; how often the panels
refresh; how long the GUI event loop ever waits (a 5 ms timer's lateness);
and the time from a mouse move on the canvas to the updated prediction and
network panel.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QElapsedTimer,
    QEventLoop,
    QObject,
    QPointF,
    QSettings,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from nnviz.core.datasets import Dataset
from nnviz.core.health import Guard
from nnviz.core.modelio import load_model
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.training import CHECK_SECONDS
from nnviz.paths import bundled_model_path

TIMER_MS = 5


class _LoopProbe(QObject):
    """A 5 ms timer whose lateness shows every stall of the event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.last = 0.0

    def start(self) -> None:
        self.clock.start()
        self.last = 0.0
        self.timer.start(TIMER_MS)

    @Slot()
    def tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self.last)
        self.last = now

    def stop(self) -> list[float]:
        self.timer.stop()
        return [max(0.0, gap - TIMER_MS) for gap in self.gaps[1:]]


def _spin(app: QApplication, seconds: float, until: Callable[[], bool] | None = None) -> None:
    """Run the real event loop (it sleeps when idle) for ``seconds`` or until ``until()``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if until is not None:
        poll = QTimer()
        poll.timeout.connect(lambda: loop.quit() if until() else None)
        poll.start(10)
    loop.exec()


def headless_rate(data: Dataset, seconds: float, guarded: bool = True) -> float:
    """Samples per second of the modern preset's trainer, no GUI.

    ``guarded``: as the training engine runs it, in a :class:`~nnviz.core.health.Guard`
    with a health check twice a second (the same work as the live app's engine,
    without the window); else the plain trainer.
    """
    trainer = Trainer(MODERN.network(), data.train_x, data.train_y, MODERN.config)
    guard = Guard(trainer)
    step = guard.step if guarded else trainer.step
    step(50)
    start, samples = time.perf_counter(), trainer.samples_seen
    checked = start
    while (now := time.perf_counter()) - start < seconds:
        step(100)
        if guarded and now - checked >= CHECK_SECONDS:
            checked = now
            guard.check()
    return (trainer.samples_seen - samples) / (time.perf_counter() - start)


def gui_benchmark(data: Dataset, quick: bool = False, engine: str = "process") -> dict[str, Any]:
    """Run the measurements with the engines in ``engine`` mode; a JSON-ready dictionary."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from nnviz.gui.app import create_app, limit_blas_threads
    from nnviz.gui.mainwindow import MainWindow
    from nnviz.gui.panels.visibility import out_of_sight

    limit_blas_threads()

    app = create_app()
    # The first-start layout, whatever this user saved: which panels are in
    # sight (tabs on top, closed docks) changes the figures.
    settings_dir = tempfile.TemporaryDirectory(prefix="nnviz-bench-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir.name)
    rounds, seconds = (2, 2.0) if quick else (3, 3.0)
    net, meta = load_model(bundled_model_path())
    window = MainWindow(net, {**meta, "bundled": True}, engine=engine)
    window.resize(1360, 860)
    window.show()
    window.data.use_dataset(data)
    _spin(app, 0.5)
    in_sight = [name for name, p in window.panels.items() if not out_of_sight(p)]
    live = _measure_training(app, window, data, rounds, seconds)
    drawing = _measure_drawing(app, window)
    window.actions_.train.trigger()  # pause
    window.close()
    settings_dir.cleanup()
    headless = live["headless_samples_per_s"]
    return {
        "headless_samples_per_s": headless,
        "gui_samples_per_s": live["samples_per_s"],
        "gui_ratio": live["samples_per_s"] / headless,
        "plain_trainer_samples_per_s": live["plain_trainer_samples_per_s"],
        "guard_ratio": headless / live["plain_trainer_samples_per_s"],
        "refresh_per_s": live["refresh_per_s"],
        "gui_cpu_ms_per_frame": live["gui_cpu_ms_per_frame"],
        "gui_thread_ms_per_frame": live["gui_thread_ms_per_frame"],
        "gui_cpu_cores": live["gui_cpu_cores"],
        "stall_p99_ms": live["stall_p99_ms"],
        "stall_max_ms": live["stall_max_ms"],
        "draw_to_prediction_ms_median": drawing[0],
        "draw_to_prediction_ms_p95": drawing[1],
        "engine": engine,
        "platform": QApplication.platformName(),
        "panels_in_sight": [window.docks[name].windowTitle() for name in in_sight],
        "rounds": rounds,
    }


def _measure_training(
    app: QApplication, window: Any, data: Dataset, rounds: int, seconds: float
) -> dict[str, float]:
    """Alternate headless and live training, ``rounds`` times each.

    The machine's own speed drifts (other tenants, clock): measured 86k to
    136k samples/s headless from one run to the next. Phases taken in turns
    compare the two at the same moments; the headless phases wait until the
    loss-surface process is idle, as the machine would be without the app.
    """
    state = window.state
    refreshes = [0]
    state.snapshot_received.connect(lambda _s: refreshes.__setitem__(0, refreshes[0] + 1))
    headless: list[float] = []
    plain: list[float] = []
    stalls: list[float] = []
    samples = live_seconds = cpu = gui_thread = 0.0
    shown = 0
    for _ in range(rounds):
        _spin(app, 3.0, lambda: window.surface.rows == (0, 0))
        plain.append(headless_rate(data, seconds / 4, guarded=False))
        headless.append(headless_rate(data, seconds / 2))
        window.actions_.train.trigger()
        target = (state.snapshot.step if state.snapshot is not None else 0) + 200

        def warmed_up(target: int = target) -> bool:
            snap = state.snapshot
            return snap is not None and snap.state == "running" and snap.step > target

        _spin(app, 5.0, warmed_up)
        probe = _LoopProbe()
        first, frames = state.snapshot, refreshes[0]
        start, cpu_start, thread_start = (
            time.perf_counter(),
            time.process_time(),
            time.thread_time(),
        )
        probe.start()
        _spin(app, seconds)
        stalls += probe.stop()
        live_seconds += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        gui_thread += time.thread_time() - thread_start
        shown += refreshes[0] - frames
        last = state.snapshot
        samples += (last.samples_seen - first.samples_seen) if first and last else 0
        window.actions_.train.trigger()  # pause
        _spin(app, 2.0, lambda: state.snapshot is not None and state.snapshot.state != "running")
    return {
        "headless_samples_per_s": float(np.mean(headless)),
        "plain_trainer_samples_per_s": float(np.mean(plain)),
        "samples_per_s": samples / live_seconds,
        "refresh_per_s": shown / live_seconds,
        "gui_cpu_ms_per_frame": cpu / max(shown, 1) * 1e3,
        "gui_thread_ms_per_frame": gui_thread / max(shown, 1) * 1e3,
        "gui_cpu_cores": cpu / live_seconds,
        "stall_p99_ms": float(np.percentile(stalls, 99)) if stalls else 0.0,
        "stall_max_ms": max(stalls, default=0.0),
    }


def _measure_drawing(app: QApplication, window: Any, moves: int = 120) -> tuple[float, float]:
    """Mouse move on the canvas -> prediction and network panel updated (ms)."""
    canvas = window.panels.canvas.canvas
    state = window.state
    rect = canvas.target_rect()
    centre = QPointF(rect.center())
    times = []
    changed = [0]
    state.activations_changed.connect(lambda: changed.__setitem__(0, changed[0] + 1))
    _send(canvas, QMouseEvent.Type.MouseButtonPress, centre)
    for i in range(moves):
        angle = i / moves * 2 * np.pi
        point = centre + QPointF(
            np.cos(angle) * rect.width() * 0.3, np.sin(angle) * rect.height() * 0.3
        )
        count = changed[0]
        start = time.perf_counter()
        _send(canvas, QMouseEvent.Type.MouseMove, point)
        while changed[0] == count and time.perf_counter() - start < 1.0:
            app.processEvents()
        app.processEvents()  # the panels' repaint
        times.append((time.perf_counter() - start) * 1e3)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, centre)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _send(widget: Any, kind: QMouseEvent.Type, pos: QPointF) -> None:
    buttons = (
        Qt.MouseButton.NoButton
        if kind == QMouseEvent.Type.MouseButtonRelease
        else Qt.MouseButton.LeftButton
    )
    event = QMouseEvent(
        kind,
        pos,
        widget.mapToGlobal(pos),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)

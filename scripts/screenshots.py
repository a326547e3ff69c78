"""Make the README screenshots from the real app, mid-training.

    .venv/bin/python scripts/screenshots.py [--data-dir DIR] [--out assets]

Starts the real main window (offscreen unless a display is set), draws a digit
on the canvas with real mouse events, trains a fresh 784-16-16-10 network for
a while, refits the loss surface, and saves pictures of the whole window (light,
dark with the Help dialog open, at 1280x720 and at 1024x700) and of single
panels into ``assets/``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

import numpy as np
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from nnviz.core import datasets
from nnviz.core.modelio import load_model
from nnviz.gui import theme
from nnviz.gui.app import create_app
from nnviz.gui.mainwindow import MainWindow
from nnviz.paths import bundled_model_path

SEVEN = [(-60, -75), (60, -75), (40, -30), (15, 20), (0, 80)]  # a stroke shaped like a 7


def spin(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def draw(window: MainWindow, points: list[tuple[int, int]]) -> None:
    """A real left-button stroke through ``points`` (offsets from the canvas centre)."""
    canvas = window.panels.canvas.canvas
    centre = QPointF(canvas.target_rect().center())
    scale = canvas.target_rect().width() / 280

    def send(kind: QMouseEvent.Type, dx: float, dy: float) -> None:
        pos = centre + QPointF(dx * scale, dy * scale)
        buttons = (
            Qt.MouseButton.NoButton
            if kind == QMouseEvent.Type.MouseButtonRelease
            else Qt.MouseButton.LeftButton
        )
        event = QMouseEvent(
            kind,
            pos,
            canvas.mapToGlobal(pos.toPoint()),
            Qt.MouseButton.LeftButton,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(canvas, event)

    send(QMouseEvent.Type.MouseButtonPress, *points[0])
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for t in range(1, 11):
            send(QMouseEvent.Type.MouseMove, x0 + (x1 - x0) * t / 10, y0 + (y1 - y0) * t / 10)
            QApplication.processEvents()
    send(QMouseEvent.Type.MouseButtonRelease, *points[-1])


def wait_until(app: QApplication, done, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while not done() and time.perf_counter() < end:
        spin(app, 0.1)


def show_mistake(window: MainWindow) -> None:
    """A test digit the network gets wrong, with its true label (a good nudge picture)."""
    data, net = window.state.dataset, window.state.net
    wrong = np.flatnonzero(net.predict(data.test_x[:2000]) != data.test_y[:2000])
    i = int(wrong[0]) if len(wrong) else 0
    window.state.set_input(data.test_x[i], label=int(data.test_y[i]))


def show_tab(app: QApplication, window: MainWindow, name: str) -> None:
    """Bring a tabbed panel to the front and let it catch up."""
    window.docks[name].raise_()
    spin(app, 0.5)


def save(widget, path: Path) -> None:
    """A picture of ``widget``: from the screen on a real display, else rendered."""
    if QApplication.platformName() == "xcb":
        QApplication.processEvents()
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        picture = widget.screen().grabWindow(
            0, top_left.x(), top_left.y(), widget.width(), widget.height()
        )
    else:
        picture = widget.grab()
    if not picture.save(str(path)):
        raise OSError(f"could not write {path}")
    print("wrote", path)


def save_with_dialog(window: MainWindow, dialog: QWidget | None, path: Path) -> None:
    """The window with ``dialog`` open over it, as the screen shows them."""
    if QApplication.platformName() == "xcb" or dialog is None:
        save(window, path)  # the screen's pixels include the dialog
        return
    picture = window.grab()
    painter = QPainter(picture)
    corner = dialog.frameGeometry().topLeft() - window.frameGeometry().topLeft()
    painter.drawPixmap(corner, dialog.grab())
    painter.end()
    if not picture.save(str(path)):
        raise OSError(f"could not write {path}")
    print("wrote", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "assets")
    parser.add_argument("--seconds", type=float, default=12.0, help="training time before shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    # a first start: the user's saved layout and settings are neither read nor changed
    settings_dir = tempfile.TemporaryDirectory(prefix="nnviz-screenshots-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir.name)
    theme.apply_palette(app, dark=False)
    net, meta = load_model(bundled_model_path())
    window = MainWindow(net, {**meta, "bundled": True}, args.data_dir)
    window.resize(1500, 940)
    window.show()
    window.data.use_dataset(datasets.load_mnist(args.data_dir))
    spin(app, 1.5)
    draw(window, SEVEN)
    spin(app, 0.5)
    save(window.docks["canvas"].widget(), args.out / "canvas-bundled-model.png")
    window.run_bar.speed.setValue(window.run_bar.speed.maximum())
    window.actions_.train.trigger()  # a fresh network from random weights
    spin(app, args.seconds)
    window.actions_.train.trigger()  # pause, so that every picture shows one moment
    spin(app, 1.0)
    surface = window.panels.surface
    surface.controller.refit()
    spin(app, 1.0)
    wait_until(
        app,
        lambda: (
            surface.controller.rows == (0, 0)
            and surface.controller.grid is not None
            and surface.controller.path is not None
            and surface.controller.path.fit == surface.controller.grid.fit
        ),
        60,
    )
    draw(window, SEVEN)
    spin(app, 1.5)
    save(window, args.out / "nnviz-training.png")
    for name in ("canvas", "network", "weights", "cost", "surface"):
        save(window.docks[name].widget(), args.out / f"panel-{name}.png")
    show_mistake(window)
    window.panels.network.set_nudges_shown(True)
    window.state.select(2, 3)
    spin(app, 1.0)
    save(window.docks["network"].widget(), args.out / "panel-network-nudges.png")
    show_tab(app, window, "backprop")
    spin(app, 1.0)
    save(window.docks["backprop"].widget(), args.out / "panel-backprop.png")
    window.panels.network.set_nudges_shown(False)
    window.state.select(-1, -1)
    show_tab(app, window, "analysis")
    window.training.evaluate_now()
    spin(app, 3.0)
    save(window.docks["analysis"].widget(), args.out / "panel-analysis.png")
    show_tab(app, window, "hidden")
    spin(app, 1.5)
    save(window.docks["hidden"].widget(), args.out / "panel-hidden.png")
    show_tab(app, window, "probes")
    probes = window.panels.probes
    probes.dream(3, "noise")
    wait_until(app, lambda: not probes.is_busy(), 10)
    spin(app, 0.5)
    save(window.docks["probes"].widget(), args.out / "panel-probes-dream.png")
    for name in ("weights", "network", "cost"):
        window.docks[name].raise_()
    window.set_dark(True)
    spin(app, 1.5)
    save(window, args.out / "nnviz-training-dark.png")
    window.show_help()
    spin(app, 1.0)
    help_dialog = QApplication.activeModalWidget() or window.findChild(QDialog)
    save_with_dialog(window, help_dialog, args.out / "nnviz-dark-help.png")
    if help_dialog is not None:
        help_dialog.close()
    window.set_dark(False)
    for size in ((1280, 720), (1024, 700)):
        window.resize(*size)
        window.reset_layout()
        spin(app, 1.5)
        save(window, args.out / f"nnviz-{size[0]}x{size[1]}.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

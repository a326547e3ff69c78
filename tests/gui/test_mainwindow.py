"""The main window as a user drives it: train, pause, step, reset, files, close."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.gui.mainwindow import MainWindow
from nnviz.gui.panels.visibility import out_of_sight
from nnviz.paths import bundled_model_path


def make_window(qtbot, data_dir: Path | None) -> MainWindow:
    net, meta = load_model(bundled_model_path())
    window = MainWindow(net, {**meta, "bundled": True}, data_dir)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, mnist_dir):
    window = make_window(qtbot, mnist_dir)
    yield window
    window.close()


def process_exists(pid: int) -> bool:
    """Whether a process with this id is still there (not even a zombie: it was reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def snap(window: MainWindow):
    return window.state.snapshot


def answer(qtbot, window: MainWindow, button_text: str) -> None:
    """Click a button of the question box the window shows."""
    qtbot.waitUntil(
        lambda: window.dialogs.message_box is not None and window.dialogs.message_box.isVisible()
    )
    box = window.dialogs.message_box
    assert box is not None
    button = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())


def train_steps(qtbot, window: MainWindow, n: int) -> None:
    start = snap(window).step if snap(window) else 0
    for _ in range(n):
        window.actions_.step.trigger()
    qtbot.waitUntil(
        lambda: snap(window) is not None and snap(window).step == start + n, timeout=15_000
    )
    qtbot.waitUntil(lambda: not window.frames.busy)  # the panels draw a snapshot one by one


def test_opens_with_the_bundled_model_and_classifies_a_drawing(qtbot, window) -> None:
    canvas = window.panels.canvas.canvas
    assert window.state.net.sizes == (784, 16, 16, 10)
    centre = canvas.target_rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(0, -80))
    for dy in range(-80, 81, 10):
        qtbot.mouseMove(canvas, centre + QPoint(0, dy))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(0, 80))
    qtbot.waitUntil(lambda: window.state.input.any())
    assert window.state.prediction == 1
    assert "96" in window.status.accuracy.text()  # the model file's accuracy


def test_steps_update_weight_images_cost_curve_and_status(qtbot, window) -> None:
    window.training.reset(quiet=True)
    train_steps(qtbot, window, 5)
    net = window.state.net
    weights = window.panels.weights
    mosaic = weights.mosaic()
    tile = mosaic[:28, :28]
    np.testing.assert_array_equal(tile, net.weights[0][:, 0].reshape(28, 28))
    steps, costs = window.panels.cost.history_arrays()
    assert steps.tolist() == [0, 1, 2, 3, 4] and np.all(np.isfinite(costs))
    assert window.status.step.text() == "step 5"
    assert window.status.state.text() == "paused"


def test_train_pause_and_go_on(qtbot, window) -> None:
    window.actions_.train.trigger()
    qtbot.waitUntil(
        lambda: (
            snap(window) is not None and snap(window).state == "running" and snap(window).step > 200
        ),
        timeout=15_000,
    )
    assert window.actions_.train.text() == "Pause"
    assert "samples/s" in window.status.speed.text()
    window.actions_.train.trigger()
    qtbot.waitUntil(lambda: snap(window).state == "paused")
    paused_at = snap(window).step
    qtbot.wait(300)
    assert snap(window).step == paused_at
    assert window.actions_.train.text() == "Train"


def test_first_train_starts_a_new_network_over_the_bundled_one(qtbot, window) -> None:
    bundled = window.state.net.theta.copy()
    window.actions_.train.trigger()
    qtbot.waitUntil(lambda: snap(window) is not None and snap(window).step > 0, timeout=15_000)
    window.actions_.train.trigger()
    assert not np.allclose(window.state.net.theta, bundled, atol=0.5)
    window.models.open_bundled_model()
    assert np.array_equal(window.state.net.theta, bundled)


def test_reset_asks_first(qtbot, window) -> None:
    window.training.reset(quiet=True)
    train_steps(qtbot, window, 3)
    before = window.state.net.theta.copy()
    window.actions_.reset.trigger()
    answer(qtbot, window, "Cancel")
    assert np.array_equal(window.state.net.theta, before)
    window.actions_.reset.trigger()
    answer(qtbot, window, "Reset")
    qtbot.waitUntil(lambda: snap(window) is not None and snap(window).step == 0)
    assert window.panels.cost.history_arrays()[0].size == 0


def test_architecture_change_asks_and_resets(qtbot, window) -> None:
    bar = window.network_bar
    bar.hidden.setText("32")
    bar.hidden.editingFinished.emit()
    answer(qtbot, window, "Cancel")
    assert bar.hidden.text() == "16 16" and window.state.net.sizes == (784, 16, 16, 10)
    bar.hidden.setText("32")
    bar.hidden.editingFinished.emit()
    answer(qtbot, window, "Reset network")
    assert window.state.net.sizes == (784, 32, 10)
    train_steps(qtbot, window, 2)
    assert snap(window).sizes == (784, 32, 10)
    assert window.panels.weights.mosaic().shape[0] > 28  # 32 tiles


def test_live_learning_rate_change_is_marked_on_the_cost_curve(qtbot, window) -> None:
    window.training.reset(quiet=True)
    train_steps(qtbot, window, 3)
    window.run_bar.lr.setValue(0.5)
    window.run_bar.lr.editingFinished.emit()
    window.training.change_settings({"schedule": "constant"})
    train_steps(qtbot, window, 2)
    assert snap(window).learning_rate == pytest.approx(0.5)
    qtbot.waitUntil(lambda: bool(window.panels.cost.marker_labels()))
    labels = [label.text() for label in window.panels.cost.marker_labels()]
    assert labels[:1] == ["lr 0.5"]
    assert snap(window).step == 5  # nothing was reset


def test_divergence_pauses_with_a_message(qtbot, window) -> None:
    window.training.reset(quiet=True)
    window.run_bar.lr.setValue(1000)
    window.run_bar.lr.editingFinished.emit()
    window.actions_.train.trigger()
    qtbot.waitUntil(lambda: window.dialogs.message_box is not None, timeout=15_000)
    box = window.dialogs.message_box
    assert box.windowTitle() == "Training diverged"
    assert "learning rate 1000" in box.text() and "Lower the learning rate" in box.text()
    qtbot.waitUntil(lambda: snap(window).state == "diverged")
    assert np.all(np.isfinite(window.state.net.theta))
    assert window.status.state.text() == "diverged"
    box.accept()


def test_save_and_open_round_trip(qtbot, window, tmp_path) -> None:
    window.training.reset(quiet=True)
    train_steps(qtbot, window, 4)
    path = tmp_path / "mine.npz"
    assert window.models.save_model(path)
    saved = window.state.net.theta.copy()
    window.models.open_bundled_model()
    assert not np.array_equal(window.state.net.theta, saved)
    assert window.models.open_model(path)
    np.testing.assert_array_equal(window.state.net.theta, saved)
    _net, meta = load_model(path)
    assert meta["steps_trained"] == 4 and meta["preset"] == "modern"


def test_bad_model_files_give_plain_errors(qtbot, window, tmp_path) -> None:
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    theta = window.state.net.theta.copy()
    assert not window.models.open_model(bad)
    box = window.dialogs.message_box
    assert box is not None and box.windowTitle() == "Cannot open the model"
    assert str(bad) in box.text()
    box.accept()
    other = tmp_path / "other.npz"
    save_model(other, Network((784, 5, 3)))
    assert not window.models.open_model(other)
    assert "10 outputs" in window.dialogs.message_box.text()
    window.dialogs.message_box.accept()
    np.testing.assert_array_equal(window.state.net.theta, theta)  # nothing lost


def test_closing_mid_training_stops_the_worker_quickly(qtbot, mnist_dir) -> None:
    window = make_window(qtbot, mnist_dir)
    window.actions_.train.trigger()
    qtbot.waitUntil(
        lambda: snap(window) is not None and snap(window).state == "running", timeout=15_000
    )
    pids = [window.backend.training.engine.pid, window.backend.surface.engine.pid]
    window.close()
    assert not window.backend.training.isRunning() and not window.backend.surface.isRunning()
    assert all(pid is not None and not process_exists(pid) for pid in pids)


def test_export_panel_png_and_cost_csv(qtbot, window, tmp_path) -> None:
    window.training.reset(quiet=True)
    train_steps(qtbot, window, 3)
    for name in window.docks:
        path = tmp_path / f"{name}.png"
        window.export_panel(name, path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_path = tmp_path / "cost.csv"
    window.panels.cost.export_csv(csv_path)
    rows = list(csv.reader(csv_path.open()))
    assert len([r for r in rows if r and r[0] == "batch"]) == 3


def test_settings_persist_between_runs(qtbot, mnist_dir) -> None:
    first = make_window(qtbot, mnist_dir)
    first.run_bar.lr.setValue(0.25)
    first.run_bar.lr.editingFinished.emit()
    first.run_bar.speed.setValue(2)
    first.dark_action.setChecked(True)
    first.resize(760, 560)
    size = first.size()
    first.close()
    second = make_window(qtbot, mnist_dir)
    try:
        assert second.run_bar.lr.value() == pytest.approx(0.25)
        assert second.run_bar.speed.value() == 2
        assert second.state.dark and second.dark_action.isChecked()
        assert second.size() == size
    finally:
        second.set_dark(False)
        second.close()


def test_space_key_trains_and_pauses(qtbot, window) -> None:
    window.activateWindow()
    window.panels.canvas.canvas.setFocus()
    qtbot.keyClick(window.panels.canvas.canvas, Qt.Key.Key_Space)
    qtbot.waitUntil(
        lambda: snap(window) is not None and snap(window).state == "running", timeout=15_000
    )
    qtbot.keyClick(window.panels.canvas.canvas, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: snap(window).state == "paused")


def test_help_lists_the_shortcuts(qtbot, window) -> None:
    window.show_help()
    dialog = next(
        w
        for w in QApplication.topLevelWidgets()
        if w.windowTitle() == "nnviz help" and w.isVisible()
    )
    text = dialog.browser.toPlainText()
    for key in ("Space", "Ctrl+S", "Ctrl+O", "C", "S"):
        assert key in text
    dialog.close()


def test_dark_palette_is_applied(qtbot, window) -> None:
    window.set_dark(True)
    try:
        window_colour = QApplication.palette().window().color()
        assert window_colour.lightness() < 80
        assert QApplication.palette().windowText().color().lightness() > 180
    finally:
        window.set_dark(False)
    assert QApplication.palette().window().color().lightness() > 180


def test_message_boxes_do_not_block(qtbot, window) -> None:
    window.dialogs.show_error("Title", "text")
    assert isinstance(window.dialogs.message_box, QMessageBox)
    assert window.dialogs.message_box.isVisible()
    window.dialogs.message_box.accept()


def test_panels_behind_a_tab_wait_and_catch_up_when_their_tab_is_chosen(
    qtbot, window, mnist
) -> None:
    """Qt keeps a tabbed-away dock "visible" (only moved out of the window)."""
    backprop = window.docks["backprop"]
    panel = window.panels.backprop
    window.docks["surface"].raise_()  # backprop shares its place with the loss surface
    qtbot.waitUntil(lambda: out_of_sight(panel))
    before = panel.nudges
    window.state.set_input(mnist.test_x[0], int(mnist.test_y[0]))
    assert panel.nudges is before  # no work while behind the Loss surface tab
    assert not out_of_sight(window.docks["surface"].widget())
    backprop.raise_()
    qtbot.waitUntil(lambda: panel.nudges is not before)
    assert panel.nudges.target == int(mnist.test_y[0]) and not out_of_sight(panel)

"""The training controls as a user works them: every command reaches the engine.

Each test acts through the real widgets (the Speed slider, the learning-rate
box, the Train action, message boxes, file dialogs), so the signal travels
from the widget through the training controller and the worker thread to the
engine, in both engine modes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from conftest import User
from nnviz.core.presets import CLASSIC, MODERN
from nnviz.gui.controls import SPEEDS


def move_speed_slider(user: User, steps_per_second: float) -> None:
    """Move the Speed slider with the keyboard to the position of ``steps_per_second``."""
    slider = user.window.run_bar.speed
    slider.setFocus()
    user.qtbot.keyClick(slider, Qt.Key.Key_Home)  # 1 step/s
    for _ in range(SPEEDS.index(steps_per_second)):
        user.qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert user.window.run_bar.speed_value() == steps_per_second


def measure_rate(user: User, speed: float, more_steps: int) -> tuple[int, float]:
    """Steps shown at ``speed`` over the time it took to show ``more_steps`` more, and that time."""
    user.qtbot.waitUntil(lambda: user.snapshot is not None and user.snapshot.speed == speed)
    first, start = user.step, time.perf_counter()
    user.qtbot.waitUntil(lambda: user.step >= first + more_steps, timeout=60_000)
    return user.step - first, time.perf_counter() - start


def assert_about(speed: float, steps: int, elapsed: float) -> None:
    """Never faster than asked (that was the bug); not much slower either.

    The window shows each step a frame or so after the engine made it: a quarter
    of a second of slack on either side of the measured time.
    """
    assert steps <= speed * (elapsed + 0.25) + 1, f"{steps} steps in {elapsed:.2f} s at {speed}/s"
    assert steps >= speed * (elapsed - 0.25) / 2, f"{steps} steps in {elapsed:.2f} s at {speed}/s"


def test_every_speed_is_honoured_while_running_and_from_pause(open_window, engine_mode) -> None:
    user = open_window(engine_mode)
    user.press(user.window.actions_.train)
    user.wait_for_state("running")
    user.wait_for_step(500)  # full speed: hundreds of steps at once
    for speed in (1, 5, 25):  # while running
        move_speed_slider(user, speed)
        user.qtbot.waitUntil(lambda: user.window.training.engine_state == "running")
        assert_about(speed, *measure_rate(user, speed, more_steps=3 * speed))
    user.press(user.window.actions_.train)  # pause
    user.wait_for_state("paused")
    move_speed_slider(user, 10)  # chosen while paused
    user.press(user.window.actions_.train)
    user.wait_for_state("running")
    assert_about(10, *measure_rate(user, 10, more_steps=30))
    user.window.run_bar.speed.setFocus()
    user.qtbot.keyClick(user.window.run_bar.speed, Qt.Key.Key_End)  # full speed again
    assert user.window.run_bar.speed_value() == 0
    start = user.step
    user.wait_for_step(start + 3000)  # thousands of steps: not held back any more
    user.press(user.window.actions_.train)
    user.wait_for_state("paused")


def test_a_diverged_run_goes_back_to_sane_parameters_and_trains_again(
    open_window, engine_mode
) -> None:
    user = open_window(engine_mode)
    window = user.window
    window.training.reset(quiet=True)
    user.press(window.actions_.train)
    user.wait_for_step(1500)  # learn a little first (the guard checks every 1000 steps)
    user.type_into(window.run_bar.lr, "1000")
    text = user.answer("OK")
    assert text.startswith("Training diverged")
    assert "With learning rate 99" in text or "With learning rate 1000" in text  # cosine decay
    assert "e+" not in text
    assert "went back to the parameters of step" in text
    user.wait_for_state("diverged")
    assert window.status.state.text() == "diverged"
    theta = window.state.net.theta
    assert np.all(np.isfinite(theta)) and np.abs(theta).max() < 100  # not blown up
    data = window.state.dataset
    assert data is not None
    cost, outputs = window.state.net.evaluate(data.test_x[:2000], data.test_y[:2000])
    accuracy = np.mean(outputs.argmax(axis=1) == data.test_y[:2000])
    assert cost < 1.5 and accuracy > 0.5  # the parameters from before it blew up
    user.type_into(window.run_bar.lr, "0.1")
    diverged_at = user.step
    user.press(window.actions_.train)
    user.wait_for_state("running")
    user.wait_for_step(diverged_at + 2000)  # it trains again ...
    assert window.dialogs.message_box is None  # ... without tripping again
    user.press(window.actions_.train)
    user.wait_for_state("paused")


def test_a_saturated_run_is_reported_with_a_hint(open_window) -> None:
    user = open_window()
    window = user.window
    combo = window.network_bar.preset
    combo.setFocus()
    user.qtbot.keyClick(combo, Qt.Key.Key_Up)  # "classic" is above "modern"
    assert combo.currentText() == "classic"
    user.answer("Apply preset")
    assert window.run_bar.lr.value() == pytest.approx(CLASSIC.config.learning_rate)
    user.type_into(window.run_bar.lr, "1000")
    user.press(window.actions_.train)
    text = user.answer("OK", timeout=60_000)
    assert text.startswith("Training stopped learning")
    assert "saturated" in text or "stuck" in text
    assert "learning rate" in text and "1000" in text
    user.wait_for_state("stalled")
    assert window.status.state.text() == "stopped learning"


def test_opening_a_model_puts_its_own_settings_in_force(open_window, tmp_path) -> None:
    user = open_window()
    window = user.window
    window.network_bar.preset.setFocus()
    user.qtbot.keyClick(window.network_bar.preset, Qt.Key.Key_Up)
    user.answer("Apply preset")  # classic: lr 1.5, batch 10, no momentum
    hidden = window.network_bar.hidden
    hidden.setFocus()
    hidden.selectAll()
    user.qtbot.keyClicks(hidden, "20 12")
    user.qtbot.keyClick(hidden, Qt.Key.Key_Return)
    user.answer("Reset network")
    user.press(window.actions_.step)
    user.wait_for_step(1)
    saved = tmp_path / "classic.npz"
    user.answer_file_dialog(saved)
    user.menu("File", "Save model")
    user.qtbot.waitUntil(saved.exists)
    user.menu("File", "Open bundled model")  # the modern preset's model
    bar, run = window.network_bar, window.run_bar
    assert bar.preset.currentText() == "modern" and bar.hidden.text() == "16 16"
    assert run.lr.value() == pytest.approx(MODERN.config.learning_rate)
    assert run.batch.value() == MODERN.config.batch_size
    assert run.momentum.value() == pytest.approx(MODERN.config.momentum)
    assert window.training.config == MODERN.config  # what is shown is what is in force
    user.answer_file_dialog(saved)
    user.menu("File", "Open model")
    user.qtbot.waitUntil(lambda: window.state.net.sizes == (784, 20, 12, 10))
    assert bar.preset.currentText() == "classic" and bar.hidden.text() == "20 12"
    assert bar.activation.currentText() == "sigmoid" and bar.cost.currentData() == "quadratic"
    assert run.lr.value() == pytest.approx(1.5) and run.batch.value() == 10
    assert run.momentum.value() == 0
    assert window.training.config.learning_rate == 1.5
    assert window.training.config.batch_size == 10


def grey(path: Path) -> np.ndarray:
    """A PNG file's pixels as grey levels (0-255)."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    assert not image.isNull(), f"{path} is not a readable picture"
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width()].astype(float)


def test_exporting_a_panel_behind_a_tab_draws_it_fresh(open_window, tmp_path) -> None:
    user = open_window()
    window = user.window
    window.training.reset(quiet=True)
    window.docks["analysis"].raise_()  # the cost curve goes behind the analysis tab
    before = tmp_path / "before.png"
    window.export_panel("cost", before)
    for _ in range(40):
        user.press(window.actions_.step)
    user.wait_for_step(40)
    cost = window.panels.cost
    drawn_before = cost.raw_item.getData()[0]
    after = tmp_path / "after.png"
    window.export_panel("cost", after)
    drawn = cost.raw_item.getData()[0]
    assert drawn_before is None or len(drawn_before) < 40  # it waited behind its tab ...
    assert drawn is not None and len(drawn) == 40  # ... and was drawn for the picture
    old, new = grey(before), grey(after)
    assert old.shape == new.shape and np.abs(old - new).mean() > 0.5  # the curve is there


def test_space_trains_while_a_toolbar_field_has_focus(open_window) -> None:
    """Typed into the learning rate, not yet confirmed: Space puts the value in force and trains."""
    user = open_window()
    window = user.window
    lr = window.run_bar.lr
    window.activateWindow()
    lr.setFocus()
    user.qtbot.waitUntil(lr.hasFocus)
    lr.selectAll()
    user.qtbot.keyClicks(lr, "0.05")
    user.qtbot.keyClick(lr, Qt.Key.Key_Space)
    user.wait_for_state("running")
    assert window.training.config.learning_rate == 0.05  # in force before Train ran
    # the engine's rate follows the cosine schedule from there: 0.05 at first, then a hair less
    user.qtbot.waitUntil(
        lambda: user.snapshot is not None
        and user.snapshot.learning_rate == pytest.approx(0.05, rel=0.01)
    )
    assert not lr.hasFocus()
    assert lr.value() == 0.05


def test_enter_in_the_hidden_layers_hands_space_back_to_train(open_window) -> None:
    """The hidden-layers field types its spaces; Enter finishes it, and the next Space trains."""
    user = open_window()
    window = user.window
    hidden = window.network_bar.hidden
    window.activateWindow()
    hidden.setFocus()
    user.qtbot.waitUntil(hidden.hasFocus)
    hidden.selectAll()
    user.qtbot.keyClicks(hidden, "16 16")  # the spaces land in the field
    assert hidden.text() == "16 16"
    assert window.training.engine_state != "running"
    user.qtbot.keyClick(hidden, Qt.Key.Key_Return)
    user.qtbot.waitUntil(lambda: not hidden.hasFocus())
    focus = window.focusWidget() or window
    user.qtbot.keyClick(focus, Qt.Key.Key_Space)
    user.wait_for_state("running")


def test_the_speed_reads_as_people_say_it(open_window) -> None:
    user = open_window()
    move_speed_slider(user, 1)
    assert user.window.run_bar.speed_label.text() == "1 step/s"
    move_speed_slider(user, 5)
    assert user.window.run_bar.speed_label.text() == "5 steps/s"
    assert user.window.run_bar.speed.accessibleName() == "Speed"

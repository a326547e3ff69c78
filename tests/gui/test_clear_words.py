"""Clear words for a learner, through the real toolbar: rates that work, presets, states."""

from __future__ import annotations

from PySide6.QtCore import Qt

from conftest import User


def choose(user: User, combo, text: str) -> None:
    """Pick ``text`` in a toolbar combo box with the keyboard, as a person does."""
    combo.setFocus()
    user.qtbot.keyClicks(combo, text)  # a closed combo box jumps to the item typed
    assert combo.currentText() == text


def test_relu_gets_a_learning_rate_that_works_and_the_question_says_why(open_window) -> None:
    """Relu at the default 0.1 with momentum 0.9 blew up: choosing it suggests its rate."""
    user = open_window()
    window = user.window
    choose(user, window.network_bar.activation, "relu")
    question = user.answer("Reset network")
    assert "learning rate becomes 0.02" in question
    user.qtbot.waitUntil(lambda: window.run_bar.lr.value() == 0.02)
    assert window.training.config.learning_rate == 0.02
    assert window.state.net.activation == "relu"


def test_the_classic_preset_brings_back_the_lessons_16_16(open_window) -> None:
    user = open_window()
    window = user.window
    hidden = window.network_bar.hidden
    hidden.setFocus()
    hidden.selectAll()
    user.qtbot.keyClicks(hidden, "32 32")
    user.qtbot.keyClick(hidden, Qt.Key.Key_Return)
    user.answer("Reset network")
    user.qtbot.waitUntil(lambda: window.state.net.sizes == (784, 32, 32, 10))
    choose(user, window.network_bar.preset, "classic")
    user.answer("Apply preset")
    user.qtbot.waitUntil(lambda: window.state.net.sizes == (784, 16, 16, 10))
    assert hidden.text() == "16 16"


def test_step_epoch_says_stepping_then_the_epoch_is_done(open_window) -> None:
    user = open_window()
    window = user.window
    window.training.reset(quiet=True)
    user.wait_for_step(0)
    user.type_into(window.run_bar.batch, "20")  # an epoch of 3,000 steps: a second or two
    user.press(window.actions_.step_epoch)
    user.qtbot.waitUntil(lambda: window.status.state.text() == "stepping", timeout=10_000)
    user.qtbot.waitUntil(lambda: window.status.epoch.text() == "epoch 1 done", timeout=60_000)
    assert window.status.state.text() == "paused"

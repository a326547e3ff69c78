"""A thousand random actions through the real widgets: no deadlock, no freeze, no crash.

The actions are what a curious person does: every toolbar control, Train,
Step, Reset, architecture changes up to 256 neurons wide (and too large ones,
which are refused), presets, tab switches, strokes on the canvas, message
boxes answered either way. A heartbeat timer records every gap of the event
loop; at the end training must still answer at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QElapsedTimer, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from conftest import User

ACTIONS = 1000
HIDDEN = ("16 16", "32", "8", "64 32", "128 128", "256 256", "256", "24 12 8", "4096 4096")


class Heartbeat:
    """A 10 ms timer; its largest gap is the longest the event loop was busy."""

    def __init__(self, log: list[str]) -> None:
        self.clock = QElapsedTimer()
        self.last = 0
        self.longest = 0
        self.log = log
        self.during: list[str] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.beat)
        self.clock.start()
        self.timer.start(10)

    def beat(self) -> None:
        now = self.clock.elapsed()
        if now - self.last > self.longest:
            self.longest = now - self.last
            self.during = list(self.log[-3:])  # the actions around the longest gap
        self.last = now

    def stop(self) -> int:
        self.timer.stop()
        return self.longest


class Person:
    """Random actions on the window, as a person with a mouse and a keyboard."""

    def __init__(self, user: User, seed: int) -> None:
        self.user, self.window, self.qtbot = user, user.window, user.qtbot
        self.rng = random.Random(seed)
        self.log: list[str] = []
        w = self.window
        self.largest = 0  # parameters of the largest network the window ever showed
        self.actions: list[tuple[str, int, Callable[[], None]]] = [
            ("train", 6, lambda: self.trigger(w.actions_.train)),
            ("step", 4, lambda: self.trigger(w.actions_.step)),
            ("step epoch", 1, lambda: self.trigger(w.actions_.step_epoch)),
            ("reset", 2, lambda: self.trigger(w.actions_.reset)),
            ("speed", 3, self.speed),
            ("lr", 3, lambda: self.spin(w.run_bar.lr, ["0.001", "0.01", "0.1", "0.5", "3", "50"])),
            ("batch", 2, lambda: self.spin(w.run_bar.batch, ["1", "4", "16", "64", "256"])),
            ("momentum", 2, lambda: self.spin(w.run_bar.momentum, ["0", "0.5", "0.9"])),
            ("epochs", 2, lambda: self.spin(w.network_bar.epochs, ["1", "3", "30"])),
            ("seed", 2, lambda: self.spin(w.network_bar.seed, ["0", "1", "7"])),
            ("hidden", 3, self.hidden),
            ("activation", 2, lambda: self.combo(w.network_bar.activation)),
            ("cost", 2, lambda: self.combo(w.network_bar.cost)),
            ("preset", 2, lambda: self.combo(w.network_bar.preset)),
            ("tab", 6, self.tab),
            ("stroke", 8, self.stroke),
            ("clear", 2, lambda: w.panels.canvas.clear()),
            ("digit", 2, lambda: w.panels.canvas.random_test_digit()),
            ("noise", 1, lambda: w.panels.canvas.noise()),
            ("evaluate", 1, lambda: w.training.evaluate_now()),
            ("refit", 1, lambda: w.surface.refit()),
            ("bundled model", 1, lambda: w.models.open_bundled_model()),
        ]

    def act(self) -> None:
        """One random action, then answer any box the window shows."""
        weights = [weight for _, weight, _ in self.actions]
        name, _, action = self.rng.choices(self.actions, weights)[0]
        self.log.append(name)
        action()
        QApplication.processEvents()
        self.answer_boxes()
        self.largest = max(self.largest, self.window.state.net.n_params)

    def answer_boxes(self) -> None:
        box = self.window.dialogs.message_box
        if box is not None and box.isVisible():
            buttons = [b for b in box.buttons() if b.isVisible()]
            button = self.rng.choice(buttons)
            self.log.append(f"box {box.windowTitle()!r}: {button.text()}")
            self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def trigger(self, action: object) -> None:
        action.trigger()  # type: ignore[attr-defined]

    def speed(self) -> None:
        slider = self.window.run_bar.speed
        slider.setFocus()
        key = self.rng.choice([Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End])
        self.qtbot.keyClick(slider, key)

    def spin(self, spin: object, values: list[str]) -> None:
        self.user.type_into(spin, self.rng.choice(values))  # type: ignore[arg-type]

    def hidden(self) -> None:
        edit = self.window.network_bar.hidden
        edit.setFocus()
        edit.selectAll()
        text = self.rng.choice(HIDDEN)
        self.log.append(f"hidden {text}")
        self.qtbot.keyClicks(edit, text)
        self.qtbot.keyClick(edit, Qt.Key.Key_Return)

    def combo(self, combo: object) -> None:
        combo.setFocus()  # type: ignore[attr-defined]
        key = self.rng.choice([Qt.Key.Key_Up, Qt.Key.Key_Down])
        self.qtbot.keyClick(combo, key)  # type: ignore[arg-type]

    def tab(self) -> None:
        name = self.rng.choice(list(self.window.docks))
        self.window.docks[name].raise_()

    def stroke(self) -> None:
        canvas = self.window.panels.canvas.canvas
        rect = canvas.target_rect()
        points = [
            QPoint(
                rect.left() + self.rng.randrange(max(rect.width(), 1)),
                rect.top() + self.rng.randrange(max(rect.height(), 1)),
            )
            for _ in range(4)
        ]
        self.qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
        for point in points[1:]:
            self.qtbot.mouseMove(canvas, point)
        self.qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])


def test_a_thousand_random_actions(open_window, engine_mode) -> None:
    user = open_window(engine_mode)
    window = user.window
    person = Person(user, seed=1)
    heartbeat = Heartbeat(person.log)
    for _ in range(ACTIONS):
        person.act()
    longest = heartbeat.stop()
    print(f"longest gap {longest} ms, during {heartbeat.during}")
    assert longest < 1000, f"the event loop stood still for {longest} ms during {heartbeat.during}"
    # Still alive and answering: close what is open, then train a known network.
    while (box := window.dialogs.message_box) is not None and box.isVisible():
        box.done(QMessageBox.StandardButton.Cancel)
        QApplication.processEvents()
    if window.data.dialog is not None:
        window.data.dialog.reject()
    window.models.open_bundled_model()  # the bundled model's settings, in force again
    user.wait_for_state("paused")
    window.run_bar.speed.setFocus()
    user.qtbot.keyClick(window.run_bar.speed, Qt.Key.Key_End)  # full speed
    start = user.step
    user.press(window.actions_.train)
    user.wait_for_state("running")
    user.wait_for_step(start + 100)
    user.press(window.actions_.train)
    user.wait_for_state("paused")
    assert np.all(np.isfinite(window.state.net.theta))
    log = "\n".join(person.log)
    assert "hidden 4096 4096" in log and "'Network too large'" in log  # refused ...
    assert person.largest < 784 * 4096  # ... before anything was built

"""The status bar: state, epoch, step, samples per second, test accuracy."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QStatusBar

from nnviz.core.errors import plain_number
from nnviz.engine.snapshot import Snapshot

#: Seconds between refreshes of the numbers while nothing else changes.
TEXT_INTERVAL = 0.25
STATE_TEXT = {
    "idle": "ready",
    "running": "training",
    "paused": "paused",
    "finished": "finished",
    "diverged": "diverged",
    "stalled": "stopped learning",
    "stepping": "stepping",
}


def epoch_text(epochs_done: int, fraction: float) -> str:
    """``"epoch 3 (41%)"`` while in epoch 3; ``"epoch 2 done"`` between epochs 2 and 3."""
    if fraction == 0 and epochs_done:
        return f"epoch {epochs_done} done"
    return f"epoch {epochs_done + 1} ({fraction:.0%})"


class TrainingStatus:
    """Permanent labels in the window's status bar, updated from snapshots."""

    def __init__(self, bar: QStatusBar) -> None:
        self.state = QLabel("ready")
        self.epoch = QLabel("epoch –")
        self.step = QLabel("step 0")
        self.speed = QLabel("– samples/s")
        self.accuracy = QLabel("test accuracy –")
        self.learning_rate = QLabel("")
        for label in (
            self.state,
            self.epoch,
            self.step,
            self.speed,
            self.accuracy,
            self.learning_rate,
        ):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        # Room for the widest text each label shows in a long run, so that no
        # text is cut while the bar catches up and nothing jumps as digits grow.
        widest = {
            self.state: max(STATE_TEXT.values(), key=len),
            self.epoch: "epoch 1000 (100%)",
            self.step: "step 10,000,000",
            self.speed: "100,000 samples/s",
            self.accuracy: "test accuracy 100.00% (epoch 1000)",
            self.learning_rate: "lr 0.0001",
        }
        for label, text in widest.items():
            margins = label.contentsMargins()
            room = label.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right()
            label.setMinimumWidth(room + 2)
        names = {
            self.state: "training state",
            self.epoch: "epoch",
            self.step: "step",
            self.speed: "training speed",
            self.accuracy: "test accuracy",
            self.learning_rate: "learning rate in force",
        }
        for label, name in names.items():
            label.setAccessibleName(name)
        self._last_text = 0.0
        self._shown_state = ""

    def show_state(self, state: str) -> None:
        """The worker's state in plain words."""
        self.state.setText(STATE_TEXT.get(state, state))
        trouble = state in ("diverged", "stalled")
        style = "color: #c03030; font-weight: bold;" if trouble else ""
        if self.state.styleSheet() != style:  # restyling is costly: only on a change
            self.state.setStyleSheet(style)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Epoch, step, speed and the newest test accuracy.

        While training runs the numbers are refreshed a few times a second
        only: every text change re-lays-out and repaints the bar, and no one
        reads a number that changes 30 times a second.
        """
        now = time.perf_counter()
        changed = snap.state != self._shown_state or snap.evaluations
        if snap.state == "running" and not changed and now - self._last_text < TEXT_INTERVAL:
            return
        self._last_text, self._shown_state = now, snap.state
        self.show_state(snap.state)
        self.epoch.setText(epoch_text(snap.epoch, snap.epoch_fraction))
        self.step.setText(f"step {snap.step:,}")
        if snap.state == "running" and snap.samples_per_second:
            self.speed.setText(f"{snap.samples_per_second:,.0f} samples/s")
        else:
            self.speed.setText("– samples/s")
        rate = snap.learning_rate
        self.learning_rate.setText(f"lr {plain_number(rate)}" if rate else "")
        if snap.evaluations:
            ev = snap.evaluations[-1]
            self.accuracy.setText(f"test accuracy {ev.accuracy:.2%} (epoch {ev.epoch})")

    def clear_accuracy(self) -> None:
        """A new network has no test result yet."""
        self.accuracy.setText("test accuracy –")

    def show_model_accuracy(self, accuracy: float) -> None:
        """The accuracy recorded in a loaded model file."""
        self.accuracy.setText(f"test accuracy {accuracy:.2%} (model file)")

"""The cost panel's status line: steps done, smoothed cost, test accuracy, as room allows.

The step is counted as the status bar counts it: mini-batches done. The
history numbers mini-batches from 0, so after five steps the newest is
number 4 and the line says "step 5" (it said "step 4" while the status bar
said "step 5"). When the panel is narrow the line drops its less important
parts rather than running under the buttons beside it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from nnviz.gui.panels.cost.history import CostHistory

NO_TRAINING = "no training yet: press Train"


def steps_done(history: CostHistory) -> int:
    """Mini-batches done: one more than the newest step's number (steps count from 0)."""
    return int(history.steps.view[-1]) + 1 if len(history) else 0


def status_texts(history: CostHistory) -> tuple[list[str], str]:
    """The status line from longest to shortest, and its tooltip."""
    if not len(history):
        return [NO_TRAINING, "no training yet"], ""
    done = steps_done(history)
    smoothed = float(history.smoothed.values[-1])
    step, cost = f"step {done:,}", f"smoothed {smoothed:.3g}"
    tip = [f"smoothed cost after {done:,} steps: {smoothed:.6g}"]
    if not len(history.accuracies):
        return [f"{step} · {cost}", step], tip[0]
    epoch, accuracy = int(history.eval_epochs.view[-1]), float(history.accuracies.view[-1])
    test = f"test {accuracy:.1%}"
    tip.append(f"test accuracy after epoch {epoch}: {accuracy:.2%}")
    return [f"{step} · {cost} · {test}", f"{step} · {test}", step], "\n".join(tip)


class FittingLabel(QLabel):
    """A one-line label showing the longest of its texts that fits its width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: list[str] = [""]
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def set_texts(self, texts: list[str], tip: str = "") -> None:
        """The texts to choose from, longest first (the last one always fits)."""
        self._texts = texts or [""]
        least = QFontMetrics(self.font()).horizontalAdvance(self._texts[-1]) + 2
        if self.minimumWidth() < least:  # rarely: a step count grew a digit
            self.setMinimumWidth(least)
        self.setToolTip(tip)
        self._choose()

    def texts(self) -> list[str]:
        """The texts to choose from."""
        return list(self._texts)

    def _choose(self) -> None:
        metrics, room = QFontMetrics(self.font()), self.contentsRect().width()
        text = next(
            (t for t in self._texts if metrics.horizontalAdvance(t) <= room), self._texts[-1]
        )
        if text != self.text():
            self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Choose again for the new width."""
        super().resizeEvent(event)
        self._choose()

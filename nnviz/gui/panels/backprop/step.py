"""One plain SGD step on the current example, and the outputs before and after it.

"Take this step" moves every weight and bias by ``-eta`` times its gradient
of this one example's cost (the panel computes it on a copy of the network
and asks the main window to apply it); :class:`StepBars` then shows the ten
outputs before (grey) and after (coloured by the way they moved).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from nnviz.core.backprop import StepResult
from nnviz.core.errors import plain_number
from nnviz.gui.panels import plots

Array = npt.NDArray[Any]

STEP_TIP = (
    "Apply exactly one plain SGD step (no momentum) on this single example:\n"
    "every weight and bias moves by −η × its gradient of this example's cost.\n"
    "Training is paused; the step is marked on the cost curve."
)
UNDO_TIP = "Put back the parameters from before the last step."
NO_STEP_TITLE = "One SGD step on this example"
NO_STEP_TEXT = "“Take this step”\nshows the outputs\nbefore and after"


def step_title(step: StepResult, undone: bool) -> str:
    """Title of the before/after bars."""
    costs = f"{plain_number(step.cost_before)} → {plain_number(step.cost_after)}"
    text = f"One step towards {step.target}: cost {costs}"
    return text + "<br><i>undone</i>" if undone else text + "<br>grey = before, colour = after"


class StepBars(pg.PlotWidget):
    """The outputs before (grey) and after (coloured by the change) one step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plots.quiet(self.getPlotItem())
        self.setMinimumSize(100, 80)
        self._dark = self._colour_blind = False
        self.before = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.4)
        self.after = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.4)
        for item in (self.before, self.after):
            self.addItem(item)
        # its lines stay left-aligned, as a paragraph reads
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.placeholder = plots.add_label(self, align=left, pad=plots.WIDE_PAD)
        self._values: tuple[Array, Array] | None = None
        self._n = 10
        self.set_count(10)

    def set_count(self, n: int) -> None:
        """``n`` outputs, labelled 0..n-1; forgets the step shown."""
        self._n = n
        self.getAxis("bottom").setTicks([plots.digit_ticks(n)])
        self.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        self.setRange(xRange=(-0.6, n - 0.4), yRange=(-0.02, 1.05), padding=0)
        self.show_step(None)

    def show_step(self, outputs: tuple[Array, Array] | None, placeholder: str = "") -> None:
        """Show ``(before, after)`` output activations, or a ``placeholder`` text."""
        self._values = outputs
        shown = outputs is not None
        self.before.setVisible(shown)
        self.after.setVisible(shown)
        self.placeholder.setVisible(not shown)
        self.placeholder.setText(placeholder)
        self.placeholder.setPos((self._n - 1) / 2, 0.5)
        if shown:
            self._draw()

    def heights(self) -> tuple[Array, Array]:
        """``(before, after)`` bar heights as drawn."""
        return (
            np.asarray(self.before.opts["height"], dtype=np.float64),
            np.asarray(self.after.opts["height"], dtype=np.float64),
        )

    def _draw(self) -> None:
        assert self._values is not None
        before, after = self._values
        x = np.arange(before.size)
        grey = QColor(110, 116, 128) if self._dark else QColor(170, 176, 188)
        positive, negative = plots.sign_colours(self._dark, self._colour_blind)
        brushes = [positive if b >= a else negative for a, b in zip(before, after, strict=True)]
        self.before.setOpts(x=x - 0.21, height=before, width=0.4, brush=grey, pen=None)
        self.after.setOpts(x=x + 0.21, height=after, width=0.4, brushes=brushes, pen=None)

    def restyle(self, dark: bool, colour_blind: bool) -> None:
        """Palette and sign colours."""
        self._dark, self._colour_blind = dark, colour_blind
        _, foreground = plots.restyle(self, dark, *plots.axes_of(self))
        self.placeholder.setColor(foreground)
        if self._values is not None:
            self._draw()

"""Before and after, side by side: the two images, their change and the ten outputs.

:class:`SquarePreview` shows a 28x28 image (the input, the probed one),
:class:`SignedPreview` their difference in the diverging weight colours,
:class:`BeforeAfterBars` the network's outputs for both; the captions under
the images give the predicted digit and its output (:func:`prediction_html`).
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from nnviz.core import probes
from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.canvas.readouts import InputPreview

Array = npt.NDArray[Any]

SIDE = probes.SIDE


def percent(value: float) -> str:
    """A probability as a percentage that never rounds up to a certain 100%."""
    if value >= 0.999:
        return ">99.9%"
    return f"{value:.1%}" if value >= 0.99 else f"{value:.0%}"


def value_text(value: float, softmax: bool) -> str:
    """A softmax output as a percentage; a sigmoid output as the activation it is (HTML)."""
    return escape(percent(value)) if softmax else f"a = {value:.2f}"


def prediction_html(outputs: Array, changed: bool, softmax: bool) -> str:
    """The predicted class of ``outputs`` in large type and its output (HTML).

    Highlighted when the prediction ``changed``.
    """
    k = int(np.argmax(outputs))
    value = value_text(float(outputs[k]), softmax)
    html = f'<span style="font-size:15pt; font-weight:600">{k}</span> {value}'
    if changed:
        style = f"background:{theme.HIGHLIGHT.name()}; color:#202020"
        html = f'<span style="{style}">&nbsp;{html}&nbsp;</span>'
    return html


class SquarePreview(InputPreview):
    """A crisp 28x28 preview whose height never exceeds its (pixel-snapped) width.

    So three previews in a row are the same size and hug their captions.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(SIDE, SIDE, parent)
        self._empty = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Never taller than the pixel-snapped width."""
        super().resizeEvent(event)
        width = self.width()
        side = width - width % SIDE if width >= SIDE else width
        self.setMaximumHeight(max(side, self.minimumHeight()))

    def set_values(self, values: npt.ArrayLike) -> None:
        """Show ``values`` (28x28 in [0, 1])."""
        self._empty = False
        super().set_values(values)

    def set_empty(self) -> None:
        """Show only a dashed frame: there is no image yet."""
        self._empty = True
        self.update()

    def is_empty(self) -> bool:
        """Whether the preview shows no image."""
        return self._empty

    def paintEvent(self, event: QPaintEvent) -> None:
        """The image, or a dashed frame while there is none."""
        if not self._empty:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
        painter.drawRect(self.target_rect().adjusted(0, 0, -1, -1))
        painter.end()


class SignedPreview(SquarePreview):
    """A 28x28 signed image (a change) in the diverging colours, symmetric about 0."""

    def set_signed(self, values: npt.ArrayLike, limit: float, lut: Array) -> None:
        """Show ``values`` with ``-limit`` red, 0 white, ``+limit`` blue (``lut``: (256, 4))."""
        arr = np.asarray(values, dtype=np.float64).reshape(SIDE, SIDE)
        self._values = arr.astype(np.float32)
        self._empty = False
        index = np.clip(np.round((arr / max(limit, 1e-12) + 1.0) * 127.5), 0, 255)
        rgba = np.ascontiguousarray(lut[index.astype(np.intp)], dtype=np.uint8)
        self._image = QImage(rgba.data, SIDE, SIDE, 4 * SIDE, QImage.Format.Format_RGBA8888).copy()
        self.update()


class BeforeAfterBars(pg.PlotWidget):
    """The outputs before (grey) and after (teal) a probe: a row per digit, 0 at the top.

    The pictures' captions carry the colours' key (:meth:`key`).

    Horizontal bars, as the output layer stands in the lessons' diagram: ten
    rows fit the narrow column beside the pictures, their digits never crowd.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plot = plots.quiet(self.getPlotItem())
        plot.invertY(True)
        rows, zero = np.arange(10), np.zeros(10)
        self.before = pg.BarGraphItem(x0=0.0, y=rows - 0.19, width=zero, height=0.36)
        self.after = pg.BarGraphItem(x0=0.0, y=rows + 0.19, width=zero, height=0.36)
        self.addItem(self.before)
        self.addItem(self.after)
        self.getAxis("bottom").setTicks([[(0.0, "0"), (0.5, ".5"), (1.0, "1")]])
        self.getAxis("bottom").setHeight(18)
        self.setXRange(-0.05, 1.1, padding=0)  # room for the "0" and "1" under the bars
        self.setMinimumSize(70, 84)
        self.colours = (QColor(170, 176, 188), QColor(0, 150, 136))
        self._n = 0
        self.set_values(np.zeros(10), None)

    def set_values(self, before: Array, after: Array | None) -> None:
        """Lengths of the bars; ``after=None`` hides the second series."""
        n = before.size
        if n != self._n:
            self._n = n
            self.getAxis("left").setTicks([plots.digit_ticks(n)])
            self.setYRange(-0.6, n - 0.4, padding=0)
        self.before.setOpts(x0=0.0, y=np.arange(n) - 0.19, width=before, height=0.36)
        self.after.setVisible(after is not None)
        if after is not None:
            self.after.setOpts(x0=0.0, y=np.arange(n) + 0.19, width=after, height=0.36)

    def restyle(self, dark: bool) -> None:
        """Follow the light or dark palette."""
        plots.restyle(self, dark, *plots.axes_of(self))
        before = QColor(112, 118, 130) if dark else QColor(170, 176, 188)
        after = QColor(40, 190, 170) if dark else QColor(0, 150, 136)
        self.before.setOpts(brush=before, pen=None)
        self.after.setOpts(brush=after, pen=None)
        self.colours = (before, after)

    def key(self, caption: str, after: bool) -> str:
        """``caption`` after a square in its bars' colour: the pictures' captions are the
        bars' legend (a legend on the bars would not fit their narrow column)."""
        colour = self.colours[int(after)].name()
        return f'<span style="color:{colour}">&#9632;</span> {caption}'

    def heights(self) -> tuple[Array, Array | None]:
        """``(before, after)`` bar lengths as drawn (``after`` None when hidden)."""
        after = np.asarray(self.after.opts["width"]) if self.after.isVisible() else None
        return np.asarray(self.before.opts["width"]), after

"""The widgets of the input-probes panel and their layout.

:class:`SquarePreview` and :class:`SignedPreview` show the 28x28 images before,
after and their change; :class:`BeforeAfterBars` the ten outputs before and
after. :class:`ProbesView` builds the whole panel (pictures, chart, summary and
controls) without behaviour: :class:`~nnviz.gui.panels.probes.ProbesPanel`
subclasses it and connects the controls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnviz.core import probes
from nnviz.gui import theme
from nnviz.gui.panels.canvas_widget import InputPreview
from nnviz.gui.panels.probes_text import DREAM_STEPS, NUDGE_MAX_STEPS, NUDGE_STEP

Array = npt.NDArray[Any]

SIDE = probes.SIDE
NOISE_STEPS = 50  # slider positions: strength = position / 100, 0..0.5


class SquarePreview(InputPreview):
    """A crisp 28x28 preview whose height never exceeds its (pixel-snapped) width.

    So three previews in a row are the same size and hug their captions.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(SIDE, SIDE, parent)
        self._empty = False

    def resizeEvent(self, event: QResizeEvent) -> None:
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
    """The ten outputs before (grey) and after (teal) a probe, side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        self.before = pg.BarGraphItem(x=np.arange(10) - 0.19, height=np.zeros(10), width=0.36)
        self.after = pg.BarGraphItem(x=np.arange(10) + 0.19, height=np.zeros(10), width=0.36)
        self.addItem(self.before)
        self.addItem(self.after)
        self.getAxis("left").setTicks([[(0.0, "0"), (0.5, ".5"), (1.0, "1")]])
        self.getAxis("left").setWidth(26)
        self.setYRange(0.0, 1.04, padding=0)
        self.setMinimumSize(140, 90)
        self.set_values(np.zeros(10), None)

    def set_values(self, before: Array, after: Array | None) -> None:
        """Heights of the bars; ``after=None`` hides the second series."""
        n = before.size
        if self.getAxis("bottom")._tickLevels is None or len(self.before.opts["height"]) != n:
            self.getAxis("bottom").setTicks([[(i, str(i)) for i in range(n)]])
            self.setXRange(-0.6, n - 0.4, padding=0)
        self.before.setOpts(x=np.arange(n) - 0.19, height=before)
        self.after.setVisible(after is not None)
        if after is not None:
            self.after.setOpts(x=np.arange(n) + 0.19, height=after)

    def restyle(self, dark: bool) -> None:
        """Follow the light or dark palette."""
        background, foreground = theme.plot_colours(dark)
        self.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        before = QColor(112, 118, 130) if dark else QColor(170, 176, 188)
        after = QColor(40, 190, 170) if dark else QColor(0, 150, 136)
        self.before.setOpts(brush=before, pen=None)
        self.after.setOpts(brush=after, pen=None)
        swatch = '<span style="color:{}">&#9632;</span>'
        self.setTitle(
            f"{swatch.format(before.name())} before {swatch.format(after.name())} after",
            color=foreground.name(),
            size="8pt",
        )

    def heights(self) -> tuple[Array, Array | None]:
        """``(before, after)`` as drawn (``after`` None when hidden)."""
        after = np.asarray(self.after.opts["height"]) if self.after.isVisible() else None
        return np.asarray(self.before.opts["height"]), after


class ProbesView(QWidget):
    """The probes panel's widgets and their layout, without behaviour.

    :meth:`_build` makes them; the panel calls it after creating its thread
    pool (which must stay its first child) and then connects the controls.
    """

    def _build(self) -> None:
        self.before_view, self.after_view = SquarePreview(self), SquarePreview(self)
        self.change_view = SignedPreview(self)
        self.change_view.setToolTip("probed - before: blue = brighter, red = darker")
        self._before_caption = QLabel("input")
        self.before_label, self.after_label, self.change_label = QLabel(), QLabel(), QLabel()
        arrow = QLabel("\u2192")
        arrow.setStyleSheet("font-size: 18pt")
        pictures = QGridLayout()
        pictures.setVerticalSpacing(2)
        columns = (
            (self._before_caption, self.before_view, self.before_label),
            (QLabel("probed"), self.after_view, self.after_label),
            (QLabel("change"), self.change_view, self.change_label),
        )
        for col, widgets in zip((0, 2, 3), columns, strict=True):
            for row, widget in enumerate(widgets, start=1):
                if isinstance(widget, QLabel):
                    widget.setAlignment(Qt.AlignmentFlag.AlignHCenter)
                pictures.addWidget(widget, row, col)
            pictures.setColumnStretch(col, 1)
        pictures.addWidget(arrow, 2, 1)
        pictures.setRowStretch(0, 1)  # centre the pictures vertically
        pictures.setRowStretch(4, 1)
        self.bars = BeforeAfterBars(self)
        top = QHBoxLayout()
        top.addLayout(pictures, 2)
        top.addWidget(self.bars, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setMinimumHeight(3 * self.summary.fontMetrics().height())
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        controls = self._build_controls()
        result = QHBoxLayout()
        result.addWidget(self.summary, 1)
        result.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top, 1)
        layout.addLayout(result)
        layout.addLayout(controls)

    def _build_controls(self) -> QGridLayout:
        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, NOISE_STEPS)
        self.noise_slider.setValue(20)
        self.noise_slider.setToolTip("Standard deviation of the Gaussian noise (0 to 0.5).")
        self._noise_value = QLabel()
        self.noise_button = QPushButton("Add noise")
        self.dy_box = self._spin(-4, 4, " px", "\u2193 ")
        self.dx_box = self._spin(-4, 4, " px", "\u2192 ")
        self.dy_box.setToolTip("Shift down (negative: up), in pixels.")
        self.dx_box.setToolTip("Shift right (negative: left), in pixels.")
        self.angle_box = self._spin(-30, 30, "\u00b0", "\u27f2 ")
        self.angle_box.setSingleStep(5)
        self.angle_box.setToolTip("Rotate counter-clockwise (negative: clockwise), in degrees.")
        self.transform_button = QPushButton("Apply")
        self.target_box = QComboBox()
        self.target_box.setToolTip("The digit k to nudge towards or to dream of.")
        self.nudge_button = QPushButton()
        self.nudge_button.setToolTip(
            f"Small steps on the input (each pixel moves by {NUDGE_STEP} along the sign of the\n"
            f"gradient that raises k) until the network says k, up to {NUDGE_MAX_STEPS} steps."
        )
        self.start_box = QComboBox()
        self.start_box.addItems(["from noise", "from blank"])
        self.dream_button = QPushButton()
        self.dream_button.setToolTip(
            f"Gradient ascent on the input to raise output k ({DREAM_STEPS} steps), with every\n"
            "pixel kept in [0, 1]: the network's own picture of the digit."
        )
        self.use_button = QPushButton("Use as input")
        self.use_button.setToolTip("Send the probed image to the canvas as the network input.")
        grid = QGridLayout()
        grid.setVerticalSpacing(3)
        rows: list[list[tuple[QWidget, int]]] = [
            [(QLabel("Noise"), 1), (self.noise_slider, 2), (self._noise_value, 1)],
            [(QLabel("Move"), 1), (self.dy_box, 1), (self.dx_box, 1), (self.angle_box, 1)],
            [
                (QLabel("Digit"), 1),
                (self.target_box, 1),
                (self.nudge_button, 1),
                (self.start_box, 1),
            ],
        ]
        buttons = (self.noise_button, self.transform_button, self.dream_button)
        for r, (row, button) in enumerate(zip(rows, buttons, strict=True)):
            col = 0
            for widget, span in row:
                grid.addWidget(widget, r, col, 1, span)
                col += span
            grid.addWidget(button, r, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        return grid

    @staticmethod
    def _spin(low: int, high: int, suffix: str, prefix: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setSuffix(suffix)
        box.setPrefix(prefix)
        return box

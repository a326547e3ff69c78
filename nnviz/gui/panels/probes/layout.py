"""Where the input-probes panel's widgets sit: pictures and chart, summary, controls.

:class:`ProbesLayout` builds the widgets and their layout without behaviour:
:class:`~nnviz.gui.panels.probes.panel.ProbesPanel` subclasses it and
connects the controls. The pictures are :mod:`.pictures`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
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

from nnviz.gui.panels.probes.pictures import BeforeAfterBars, SignedPreview, SquarePreview
from nnviz.gui.panels.probes.summary import DREAM_STEPS, NUDGE_MAX_STEPS, NUDGE_STEP

NOISE_STEPS = 50  # slider positions: strength = position / 100, 0..0.5


class ProbesLayout(QWidget):
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

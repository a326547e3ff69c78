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

#: Screen readers' names and descriptions of the pictures and the result.
VIEW_NAMES = (
    (
        "Input before the probe",
        "The 28 by 28 image before the probe: the input, or a dream's start.",
    ),
    ("Probed image", "The 28 by 28 image after the probe."),
    (
        "Change of each pixel",
        "The probed image minus the one before: blue brighter, red darker.",
    ),
    (
        "Outputs before and after",
        "Bar chart, a row per digit: the network's outputs for the image before (grey) and "
        "after the probe (teal).",
    ),
    ("What the probe found", "A sentence about what the probe did and what the network says."),
)


def fit_button(button: QPushButton, text: str) -> None:
    """Set ``text`` and let the button shrink to it (the style's 80 px minimum is generous)."""
    button.setText(text)
    button.setMinimumWidth(button.fontMetrics().horizontalAdvance(text) + 16)


class ProbesLayout(QWidget):
    """The probes panel's widgets and their layout, without behaviour.

    :meth:`_build` makes them; the panel calls it after creating its thread
    pool (which must stay its first child) and then connects the controls.
    The pictures and the bars sit side by side at every size (the bars are
    horizontal: ten rows fit a narrow column); the controls are three rows
    of their own, each as narrow as its widgets.
    """

    def _build(self) -> None:
        self.before_view, self.after_view = SquarePreview(self), SquarePreview(self)
        self.change_view = SignedPreview(self)
        self.change_view.setToolTip("probed - before: blue = brighter, red = darker")
        self._before_caption, self._after_caption = QLabel("input"), QLabel("probed")
        self.before_label, self.after_label, self.change_label = QLabel(), QLabel(), QLabel()
        self.change_label.setToolTip("The largest change of a pixel (0 = black, 1 = white).")
        arrow = QLabel("\u2192")
        arrow.setStyleSheet("font-size: 18pt")
        pictures = QGridLayout()
        pictures.setVerticalSpacing(2)
        pictures.setHorizontalSpacing(4)
        columns = (
            (self._before_caption, self.before_view, self.before_label),
            (self._after_caption, self.after_view, self.after_label),
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
        self.summary.setMinimumHeight(3 * self.summary.fontMetrics().lineSpacing())
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        controls = self._build_controls()
        result = QHBoxLayout()
        result.addWidget(self.summary, 1)
        result.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top, 1)
        layout.addLayout(result)
        layout.addLayout(controls)
        self._name_for_screen_readers()

    def _build_controls(self) -> QVBoxLayout:
        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, NOISE_STEPS)
        self.noise_slider.setValue(20)
        self.noise_slider.setToolTip("Standard deviation of the Gaussian noise (0 to 0.5).")
        self._noise_value = QLabel()
        self.noise_button = QPushButton()
        fit_button(self.noise_button, "Add noise")
        self.dy_box = self._spin(-4, 4, " px", "\u2193 ")
        self.dx_box = self._spin(-4, 4, " px", "\u2192 ")
        self.dy_box.setToolTip("Shift down (negative: up), in pixels.")
        self.dx_box.setToolTip("Shift right (negative: left), in pixels.")
        self.angle_box = self._spin(-30, 30, "\u00b0", "\u27f2 ")
        self.angle_box.setSingleStep(5)
        self.angle_box.setToolTip("Rotate counter-clockwise (negative: clockwise), in degrees.")
        self.transform_button = QPushButton()
        fit_button(self.transform_button, "Apply")
        self.target_box = QComboBox()
        self.target_box.setToolTip("The digit k to nudge towards or to dream of.")
        self.nudge_button = QPushButton()
        self.nudge_button.setToolTip(
            f"Small steps on the input (each pixel moves by {NUDGE_STEP} along the sign of the\n"
            f"gradient that raises k) until the network says k, up to {NUDGE_MAX_STEPS} steps."
        )
        self.start_box = QComboBox()
        self.start_box.addItems(["noise", "blank"])
        self.start_box.setToolTip("What a dream starts from: random noise or a blank image.")
        self.dream_button = QPushButton()
        self.dream_button.setToolTip(
            f"Gradient ascent on the input to raise output k ({DREAM_STEPS} steps), with every\n"
            "pixel kept in [0, 1]: the network's own picture of the digit."
        )
        self.use_button = QPushButton()
        fit_button(self.use_button, "Use as input")
        self.use_button.setToolTip("Send the probed image to the canvas as the network input.")
        names = [QLabel(text) for text in ("Noise", "Move", "Digit")]
        width = max(label.sizeHint().width() for label in names)
        rows: list[list[QWidget]] = [
            [self.noise_slider, self._noise_value, self.noise_button],
            [self.dy_box, self.dx_box, self.angle_box, self.transform_button],
            [self.target_box, self.nudge_button, self.dream_button, self.start_box],
        ]
        column = QVBoxLayout()
        column.setSpacing(3)
        for label, widgets in zip(names, rows, strict=True):
            label.setFixedWidth(width)  # the rows start in one column
            label.setBuddy(widgets[0])
            row = QHBoxLayout()
            row.addWidget(label)
            for widget in widgets:
                stretch = 0 if isinstance(widget, QLabel) else 1
                row.addWidget(widget, stretch)
            column.addLayout(row)
        return column

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Input probes panel")
        self.setAccessibleDescription(
            "Probe the current input with noise, a shift or rotation, a nudge towards a digit "
            "or a dream of one, and compare the network's answers before and after."
        )
        views: tuple[QWidget, ...] = (
            self.before_view,
            self.after_view,
            self.change_view,
            self.bars,
            self.summary,
        )
        for widget, (name, description) in zip(
            views,
            VIEW_NAMES,
            strict=True,
        ):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(description)
        for widget, name in (
            (self.noise_slider, "Noise strength"),
            (self.dy_box, "Shift down, in pixels"),
            (self.dx_box, "Shift right, in pixels"),
            (self.angle_box, "Rotation, in degrees counter-clockwise"),
            (self.target_box, "Digit k to nudge towards or dream of"),
            (self.start_box, "What a dream starts from"),
            (self.noise_button, "Add noise"),
            (self.transform_button, "Apply the shift and rotation"),
            (self.use_button, "Use the probed image as input"),
        ):
            widget.setAccessibleName(name)

    @staticmethod
    def _spin(low: int, high: int, suffix: str, prefix: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setSuffix(suffix)
        box.setPrefix(prefix)
        box.setMinimumWidth(box.sizeHint().width())  # its widest value fits
        return box

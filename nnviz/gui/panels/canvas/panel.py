"""The Canvas panel: draw a digit and watch the network classify it.

The drawing is pre-processed like MNIST (:func:`nnviz.core.preprocess.
preprocess_drawing`) and becomes the network input of :class:`AppState`; the
panel shows that 28x28 input enlarged, ten output bars with the winner
highlighted, and the prediction in words. A random test digit or uniform
noise can be shown instead; both appear on the canvas too, so that the
canvas and the input agree, and drawing on top continues from them. The bars
follow ``activations_changed``, so during training they use the live weights.

A blank canvas shows no answer ("Draw a digit", empty bars): the network's
answer to an all-black input means nothing to a newcomer. That a network
answers anything, even noise and often confidently, is what the Noise button
shows and says.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.preprocess import FIELD_SIZE, preprocess_drawing
from nnviz.gui import theme
from nnviz.gui.layoutgate import LayoutGate
from nnviz.gui.panels.canvas.drawing import BRUSH_FRACTION, CANVAS_SIDE, DrawingCanvas
from nnviz.gui.panels.canvas.readouts import InputPreview, ProbabilityBars
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

SIGMOID_TIP = (
    "Sigmoid outputs, as in the lessons: each is between 0 and 1 on its own,\n"
    "so they need not sum to 1. The brightest one is the network's answer."
)
SOFTMAX_TIP = "Softmax outputs: probabilities of the ten digits, summing to 1."
DIGIT_TIP = (
    "Show a random digit of the MNIST test set (10,000 digits the network never\n"
    "trains on) with its true label. Loads MNIST first if it is not loaded yet."
)
NOISE_TIP = (
    "Uniform random pixels. The network was never told 'none of these',\n"
    "so it answers anyway, often confidently."
)
NOISE_TEXT = "A network answers even noise, often confidently."
PEN_TIP = (
    "Pen width in pixels of the 280x280 canvas. A digit drawn small wants a\n"
    "thinner pen: MNIST strokes are about a seventh as wide as the digit is tall."
)
PEN_RANGE = (6, 40)
"""Pen widths offered, in canvas pixels (the default is 28, a tenth of the canvas)."""
EMPTY_HTML = '<span style="font-size:15pt">Draw a digit</span>'


def prediction_html(digit: int, probability: float) -> str:
    """The answer as the panel shows it: the digit large, its probability beside it."""
    return (
        f'<span style="font-size:26pt; font-weight:600">{digit}</span>'
        f'<span style="font-size:14pt"> \u2014 {probability:.0%}</span>'
    )


class CanvasPanel(QWidget):
    """Draw a digit; see the 28x28 input, the ten outputs and the prediction.

    Parameters
    ----------
    state
        The application state; the panel sets its input and renders its outputs.
    parent
        The parent widget.
    seed
        Seed of the panel's random choices (test digits, noise).

    Signals
    -------
    data_needed
        "Random test digit" was asked for but no data set is loaded; the main
        window loads MNIST and calls ``state.set_dataset``, then the digit is shown.
    """

    title = "Canvas"
    data_needed = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self.state = state
        self._rng = np.random.default_rng(seed)
        self._source = "empty"  # "empty", "drawing", "test", "noise", "loading"
        self._test_index: int | None = None
        self._setting_input = False
        self._own_input: Array | None = None  # the last input this panel set
        self._build()
        self.canvas.drawing_changed.connect(self._on_drawing_changed)
        state.activations_changed.connect(self._on_activations_changed)
        state.network_replaced.connect(self._on_network_replaced)
        state.appearance_changed.connect(self._restyle)
        state.dataset_loaded.connect(self._on_dataset_loaded)
        self._on_network_replaced()
        self._restyle()
        self._on_activations_changed()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.canvas = DrawingCanvas(parent=self)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview = InputPreview(FIELD_SIZE, FIELD_SIZE, self)
        self.bars = ProbabilityBars(self)
        self.prediction_label = QLabel(self)
        self.prediction_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label = QLabel(self)
        self.info_label.setWordWrap(True)
        self.truth_label = QLabel(self)
        caption = QLabel("network input, 28x28", self)
        caption.setWordWrap(True)
        caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        caption.setToolTip("The drawing cropped, scaled to 20x20 and centred, as in MNIST.")
        self._caption = caption

        # The answer changes every frame while training: a fixed width (room for
        # the widest answer) and a gate keep it from re-laying out the panel.
        self.prediction_label.setText(prediction_html(8, 1.0))
        self.prediction_label.setMinimumSize(self.prediction_label.sizeHint())
        self.prediction_label.setAccessibleName("Network's answer")
        self.prediction_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        text = QVBoxLayout()
        text.addWidget(LayoutGate(self.prediction_label))
        for widget in (self.info_label, self.truth_label):
            text.addWidget(widget)
        text.addStretch(1)
        seen = QVBoxLayout()
        seen.addWidget(caption)
        seen.addWidget(self.preview, 1)
        self._summary = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self._summary.addLayout(text)
        self._summary.addLayout(seen, 1)
        self._side = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self._side.addLayout(self._summary, 2)
        self._side.addWidget(self.bars, 3)

        left = QVBoxLayout()
        left.addWidget(self.canvas, 1)
        left.addLayout(self._build_buttons())
        self._main = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._main.setContentsMargins(6, 6, 6, 6)
        self._main.addLayout(left, 3)
        self._main.addLayout(self._side, 2)

        self._name_widgets()

    def _name_widgets(self) -> None:
        """Names and one-line descriptions for screen readers."""
        self.setAccessibleName("Canvas panel")
        self.setAccessibleDescription(
            "Draw a digit and see the 28x28 input the network gets, its ten outputs and its answer."
        )
        self.info_label.setAccessibleName("What is on the canvas")
        self.truth_label.setAccessibleName("True label")
        for button in (self.clear_button, self.eraser_button, self.digit_button, self.noise_button):
            button.setAccessibleName(button.text())
            button.setAccessibleDescription(button.toolTip().replace("\n", " "))

    def _build_buttons(self) -> QGridLayout:
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip("Erase the canvas (the input becomes all zeros).")
        self.clear_button.clicked.connect(self.clear)
        self.eraser_button = QPushButton("Eraser", self)
        self.eraser_button.setCheckable(True)
        self.eraser_button.setToolTip("Left button erases. The right button always erases.")
        self.eraser_button.toggled.connect(self.canvas.set_eraser)
        self.digit_button = QPushButton("Test digit", self)
        self.digit_button.setToolTip(DIGIT_TIP)
        self.digit_button.clicked.connect(self.random_test_digit)
        self.noise_button = QPushButton("Noise", self)
        self.noise_button.setToolTip(NOISE_TIP)
        self.noise_button.clicked.connect(self.noise)
        grid = QGridLayout()
        grid.addWidget(self.clear_button, 0, 0)
        grid.addWidget(self.eraser_button, 0, 1)
        grid.addWidget(self.digit_button, 1, 0)
        grid.addWidget(self.noise_button, 1, 1)
        grid.addLayout(self._build_pen(), 2, 0, 1, 2)
        return grid

    def _build_pen(self) -> QHBoxLayout:
        self.pen_spin = QSpinBox(self)
        self.pen_spin.setRange(*PEN_RANGE)
        self.pen_spin.setValue(round(CANVAS_SIDE * BRUSH_FRACTION))
        self.pen_spin.setSuffix(" px")
        self.pen_spin.setToolTip(PEN_TIP)
        self.pen_spin.setAccessibleName("Pen width")
        self.pen_spin.setAccessibleDescription(PEN_TIP.replace("\n", " "))
        self.pen_spin.valueChanged.connect(self.canvas.set_brush_width)
        self.canvas.set_brush_width(self.pen_spin.value())
        label = QLabel("Pen", self)
        label.setBuddy(self.pen_spin)
        label.setToolTip(PEN_TIP)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.pen_spin, 1)
        return row

    # ------------------------------------------------------------------ public API
    def clear(self) -> None:
        """Empty the canvas; the network input becomes all zeros."""
        self.canvas.clear()
        self._source = "empty"
        self._set_input(np.zeros((FIELD_SIZE, FIELD_SIZE), dtype=np.float32), None)

    def random_test_digit(self) -> None:
        """Show a random MNIST test digit (asks for the data set first if needed)."""
        dataset = self.state.dataset
        if dataset is None:
            self._source = "loading"
            self._update_text()
            self.data_needed.emit()
            return
        self.show_test_digit(int(self._rng.integers(len(dataset.test_x))))

    def show_test_digit(self, index: int) -> None:
        """Show test digit ``index`` of the loaded data set, with its true label."""
        dataset = self.state.dataset
        if dataset is None:
            raise RuntimeError("no data set is loaded")
        digit = np.asarray(dataset.test_x[index], dtype=np.float32).reshape(FIELD_SIZE, -1)
        self.canvas.set_image(digit)
        self._source, self._test_index = "test", index
        self._set_input(digit, int(dataset.test_y[index]))

    def noise(self) -> None:
        """Show uniform random pixels: the network answers anyway."""
        pixels = self._rng.random((FIELD_SIZE, FIELD_SIZE), dtype=np.float32)
        self.canvas.set_image(pixels, smooth=False)
        self._source = "noise"
        self._set_input(pixels, None)

    def set_eraser(self, on: bool) -> None:
        """Make the left button erase (the Eraser button follows)."""
        self.eraser_button.setChecked(on)

    # ------------------------------------------------------------------ state -> view
    def _set_input(self, image: Array, label: int | None) -> None:
        if image.size != self.state.net.sizes[0]:
            self.info_label.setText(f"this network takes {self.state.net.sizes[0]} inputs, not 784")
            return
        self._setting_input = True
        try:
            self.state.set_input(image, label)
        finally:
            self._setting_input = False

    def _on_drawing_changed(self) -> None:
        image28 = preprocess_drawing(self.canvas.pixels(), self.canvas.brush_width())
        self._source = "drawing" if image28.any() else "empty"
        self._set_input(image28, None)

    @while_visible
    def _on_activations_changed(self) -> None:
        state = self.state
        if self._setting_input:
            self._own_input = state.input
        elif state.input is not self._own_input:
            self._adopt_foreign_input()
        if state.input.size == FIELD_SIZE * FIELD_SIZE:
            self.preview.set_values(state.input.reshape(FIELD_SIZE, FIELD_SIZE))
        self.bars.set_values(state.outputs, empty=self._source == "empty")
        self._update_text()

    def _adopt_foreign_input(self) -> None:
        """Another part of the app set the input: show it on the canvas too."""
        self._own_input = self.state.input
        self._source = "other" if self.state.input.any() else "empty"
        if self.state.input.size == FIELD_SIZE * FIELD_SIZE:
            self.canvas.set_image(self.state.input.reshape(FIELD_SIZE, FIELD_SIZE))

    def _update_text(self) -> None:
        outputs = self.state.outputs
        winner = int(np.argmax(outputs))
        if self._source == "empty":
            self.prediction_label.setText(EMPTY_HTML)
        else:
            self.prediction_label.setText(prediction_html(winner, float(outputs[winner])))
        self.info_label.setText(self._source_text())
        label = self.state.label
        self.truth_label.setVisible(label is not None)
        if label is not None:
            self.truth_label.setText(f"true label: {label}")
            wrong = label != winner
            red = theme.sign_colours(self.state.colour_blind)[1].name()
            self.truth_label.setStyleSheet(f"color: {red}; font-weight: 600" if wrong else "")
            self.truth_label.setToolTip("The network got it wrong." if wrong else "Correct.")

    def _source_text(self) -> str:
        texts = {
            "empty": "Empty. Right button erases.",
            "drawing": "your drawing",
            "test": f"MNIST test digit #{self._test_index}",
            "noise": NOISE_TEXT,
            "loading": "loading MNIST\u2026",
            "other": "input chosen elsewhere",
        }
        return texts[self._source]

    def _on_network_replaced(self) -> None:
        net = self.state.net
        self.bars.set_count(net.sizes[-1])
        softmax = net.cost == "cross_entropy"
        tip = SOFTMAX_TIP if softmax else SIGMOID_TIP
        self.bars.set_axis_label("probability" if softmax else "activation", tip)
        self.prediction_label.setToolTip(
            "The network's answer: the most active output neuron, and its value\n"
            + ("(a probability)." if softmax else "(a sigmoid activation, not a probability).")
        )

    def _on_dataset_loaded(self) -> None:
        # Deferred: the main window may answer data_needed by calling
        # random_test_digit itself right after set_dataset; show one digit, not two.
        QTimer.singleShot(0, self, self._show_pending_digit)

    def _show_pending_digit(self) -> None:
        if self._source == "loading" and self.state.dataset is not None:
            self.random_test_digit()

    def _restyle(self) -> None:
        self.bars.restyle(self.state.dark)

    # ------------------------------------------------------------------ layout
    def resizeEvent(self, event: QResizeEvent) -> None:
        """Rearrange for the new shape (see :meth:`_arrange`)."""
        super().resizeEvent(event)
        self._arrange(event.size().width(), event.size().height())

    def _arrange(self, width: int, height: int) -> None:
        """Side by side in a wide dock, stacked in a tall one.

        The canvas column gets about the square the canvas can fill (its
        buttons take ~70 px), the read-outs at least 35% of the panel; in a
        very wide dock the text sits beside the 28x28 preview.
        """
        ltr, ttb = QBoxLayout.Direction.LeftToRight, QBoxLayout.Direction.TopToBottom
        wide = width >= height
        self._main.setDirection(ltr if wide else ttb)
        self._side.setDirection(ttb if wide else ltr)
        along, across = (width, height - 100) if wide else (height, width + 100)
        canvas_share = min(max(across / max(along, 1), 0.35), 0.65)
        # The answer beside the preview only when the read-outs' column holds both.
        side_width = width * (1 - canvas_share) - 18
        beside = self.prediction_label.minimumWidth() + self.preview.minimumWidth() + 40
        self._summary.setDirection(ltr if wide and side_width >= beside else ttb)
        self._main.setStretch(0, round(100 * canvas_share))
        self._main.setStretch(1, round(100 * (1 - canvas_share)))

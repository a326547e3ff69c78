"""Input probes: poke the current input and watch the prediction change.

The panel works on the current input (``state.input``) and the live network.
It shows the image before and after a probe side by side with the predicted
digit, the change in diverging colours and the ten outputs before and after.

- Noise, shift and rotate (:func:`nnviz.core.probes.add_noise`, ``shift``,
  ``rotate``) take under 1 ms: they run on the GUI thread and follow the
  input and their controls live.
- "Nudge towards k" (:func:`~nnviz.core.probes.nudge_towards`) and "Dream a k"
  (:func:`~nnviz.core.probes.dream`) take 1-3 ms when a nudge flips quickly,
  but 45-130 ms when it gives up after 500 steps and 18-45 ms for a dream
  (measured, 784-16-16-10 to 784-300-100-10), so they run in a private
  ``QThreadPool`` on a copy of the network and report back through a queued
  signal; the panel stays responsive during training.

Both sides are re-classified with the live weights whenever the parameters
change; an expensive probe is never re-run by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShowEvent,
)
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
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

SIDE = probes.SIDE
NOISE_STEPS = 50  # slider positions: strength = position / 100, 0..0.5
NUDGE_STEP, NUDGE_MAX_STEPS = 0.01, 500
DREAM_STEPS = 200


@dataclass
class Probe:
    """What the panel shows: a probe's images and what it found.

    ``before`` is None when the "before" side is the live input.
    """

    kind: str  # "noise", "transform", "nudge", "dream"
    after: Array
    before: Array | None = None
    result: probes.NudgeResult | probes.DreamResult | None = None
    text: str = ""


class _Relay(QObject):
    """Carries a finished background probe to the GUI thread (a queued signal)."""

    finished = Signal(int, object)


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


def a_digit(k: int) -> str:
    """``"a 3"``, ``"an 8"``."""
    return f"an {k}" if str(k)[0] == "8" or k in (11, 18) else f"a {k}"


def percent(value: float) -> str:
    """A probability as a percentage that never rounds up to a certain 100%."""
    if value >= 0.999:
        return ">99.9%"
    return f"{value:.1%}" if value >= 0.99 else f"{value:.0%}"


def transform_text(dy: int, dx: int, degrees: int) -> str:
    """``"shifted 2 px down, 1 px left, rotated 15° counter-clockwise"``."""
    parts = []
    if dy:
        parts.append(f"{abs(dy)} px {'down' if dy > 0 else 'up'}")
    if dx:
        parts.append(f"{abs(dx)} px {'right' if dx > 0 else 'left'}")
    text = f"shifted {', '.join(parts)}" if parts else ""
    if degrees:
        turn = "counter-clockwise" if degrees > 0 else "clockwise"
        text += f"{', ' if text else ''}rotated {abs(degrees)}\u00b0 {turn}"
    return text or "not moved (shift and angle are 0)"


class ProbesPanel(QWidget):
    """Probe the current input: noise, shift/rotate, nudge towards a digit, dream one.

    Parameters
    ----------
    state
        The application state: the panel reads ``state.input`` and ``state.net``
        and sets the input on "Use as input".
    parent
        Optional parent widget.
    seed
        Seed of the panel's random choices (the noise and the dreams' starts).

    Signals
    -------
    probe_finished(str)
        A probe's result is shown (``"noise"``, ``"transform"``, ``"nudge"``,
        ``"dream"``; ``"error"`` when it failed). Emitted in the GUI thread.
    """

    title = "Input probes"
    probe_finished = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self.state = state
        # The pool is the first child: Qt deletes it (waiting for its job) before the relay.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_background_finished)
        self._token = 0
        self._busy: str | None = None
        self._probe: Probe | None = None
        self._seen_input = state.input
        self._adopting = False
        self._weights_moved = False
        self._noise_seed = self._dream_seed = seed
        self._after_out: Array | None = None
        self._build()
        state.activations_changed.connect(self._on_activations_changed)
        state.params_changed.connect(self._on_params_changed)
        state.network_replaced.connect(self._on_network_replaced)
        state.appearance_changed.connect(self._restyle)
        self._on_network_replaced()
        self._restyle()

    # ------------------------------------------------------------------ building
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
            "Small steps on the input (each pixel moves by 0.01 along the sign of the\n"
            "gradient that raises k) until the network says k, up to 500 steps."
        )
        self.start_box = QComboBox()
        self.start_box.addItems(["from noise", "from blank"])
        self.dream_button = QPushButton()
        self.dream_button.setToolTip(
            "Gradient ascent on the input to raise output k (200 steps), with every\n"
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
        self._connect_controls()
        return grid

    @staticmethod
    def _spin(low: int, high: int, suffix: str, prefix: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setSuffix(suffix)
        box.setPrefix(prefix)
        return box

    def _connect_controls(self) -> None:
        self.noise_slider.valueChanged.connect(self._on_noise_strength)
        self.noise_button.clicked.connect(self.add_noise)
        for box in (self.dy_box, self.dx_box, self.angle_box):
            box.valueChanged.connect(self._on_transform_edited)
        self.transform_button.clicked.connect(self.apply_transform)
        self.target_box.currentIndexChanged.connect(self._update_buttons)
        self.nudge_button.clicked.connect(self._on_nudge_clicked)
        self.dream_button.clicked.connect(self._on_dream_clicked)
        self.use_button.clicked.connect(self.use_as_input)
        self._on_noise_strength()

    # ------------------------------------------------------------------ probes
    def add_noise(self) -> None:
        """Fresh Gaussian noise of the slider's strength on the current input."""
        self._noise_seed += 1
        self._show_noise()

    def _show_noise(self) -> None:
        strength = self.noise_strength()
        after = probes.add_noise(self._input(), strength, seed=self._noise_seed)
        text = f"Gaussian noise of strength \u03c3 = {strength:.2f}, clipped to [0, 1]"
        self._show(Probe("noise", after, text=text))

    def apply_transform(self) -> None:
        """Shift by the spin boxes' pixels, then rotate by their angle."""
        dy, dx, degrees = self.dy_box.value(), self.dx_box.value(), self.angle_box.value()
        after = self._input()
        if dy or dx:
            after = probes.shift(after, dy, dx)
        if degrees:
            after = probes.rotate(after, degrees)
        self._show(Probe("transform", after, text=transform_text(dy, dx, degrees).capitalize()))

    def nudge_towards(self, k: int | None = None) -> None:
        """Nudge the input towards digit ``k`` (default: the chosen digit), in the background."""
        k = self.target() if k is None else k
        net, x = self.state.net.copy(), self._input()
        self._start("nudge", lambda: probes.nudge_towards(net, x, k, NUDGE_STEP, NUDGE_MAX_STEPS))

    def dream(self, k: int | None = None, start: str | None = None) -> None:
        """Dream digit ``k`` from ``"noise"`` or ``"blank"`` (defaults: the controls)."""
        k = self.target() if k is None else k
        start = start or self.start_box.currentText().removeprefix("from ")
        self._dream_seed += 1
        net, seed = self.state.net.copy(), self._dream_seed
        self._start("dream", lambda: probes.dream(net, k, DREAM_STEPS, start=start, seed=seed))

    def use_as_input(self) -> None:
        """Make the probed image the network input (the canvas shows it too)."""
        if self._probe is None:
            return
        self._adopting = True
        try:
            self.state.set_input(self._probe.after.reshape(SIDE, SIDE), label=None)
        finally:
            self._adopting = False

    def _on_nudge_clicked(self) -> None:
        self.nudge_towards()  # not clicked's `checked` as k

    def _on_dream_clicked(self) -> None:
        self.dream()

    def _input(self) -> Array:
        return np.array(self.state.input, dtype=np.float64)

    def _start(self, kind: str, compute: Any) -> None:
        """Run ``compute()`` in the pool; its result comes back to the GUI thread."""
        self._token += 1
        token, relay = self._token, self._relay
        self._busy = kind
        self._update_buttons()
        self.summary.setText("Nudging\u2026" if kind == "nudge" else "Dreaming\u2026")

        def job() -> None:
            try:
                result = compute()
            except Exception as exc:  # shown in the panel instead of lost in the pool
                result = exc
            relay.finished.emit(token, result)

        self._pool.start(job)

    def _on_background_finished(self, token: int, result: object) -> None:
        if token != self._token:
            return  # superseded by a newer probe, input or network
        self._busy = None
        if isinstance(result, Exception):
            self._update_buttons()
            self.summary.setText(f"The probe failed: {result}")
            self.probe_finished.emit("error")
        elif isinstance(result, probes.NudgeResult):
            if not np.array_equal(result.original, self.state.input):
                self._clear("The input changed while nudging: press Nudge again.")
                return
            self._show(Probe("nudge", result.image, result=result))
        elif isinstance(result, probes.DreamResult):
            self._show(Probe("dream", result.image, before=result.start, result=result))

    def _show(self, probe: Probe) -> None:
        self._token += 1  # any probe still running is now out of date
        self._busy = None
        self._probe = probe
        self._seen_input = self.state.input
        self._weights_moved = False
        self._refresh()
        self.probe_finished.emit(probe.kind)

    def _clear(self, text: str = "") -> None:
        self._token += 1
        self._busy = None
        self._probe = None
        self._seen_input = self.state.input
        self._refresh()
        if text:
            self.summary.setText(text)

    # ------------------------------------------------------------------ state -> view
    def _on_activations_changed(self) -> None:
        if not self.isVisible():  # a tab behind another: catch up when shown
            self._stale = True
            return
        self._stale = False
        if self.state.input is not self._seen_input:
            self._on_input_changed()
        else:
            self._refresh()

    def _on_input_changed(self) -> None:
        kind = self._probe.kind if self._probe is not None else None
        if self._adopting:
            self._clear("The probed image is now the input (and on the canvas).")
        elif kind == "noise":
            self._show_noise()
        elif kind == "transform":
            self.apply_transform()
        elif kind == "nudge" or self._busy == "nudge":
            self._clear("The input changed: press Nudge again to nudge the new one.")
        else:
            self._seen_input = self.state.input
            self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """Catch up with the input and weights that changed while hidden."""
        super().showEvent(event)
        if getattr(self, "_stale", False):
            self._on_activations_changed()

    def _on_params_changed(self) -> None:
        if self._probe is not None and self._probe.kind in ("nudge", "dream"):
            self._weights_moved = True

    def _on_network_replaced(self) -> None:
        net = self.state.net
        self.target_box.blockSignals(True)
        k = self.target_box.currentIndex()
        self.target_box.clear()
        self.target_box.addItems([str(i) for i in range(net.sizes[-1])])
        self.target_box.setCurrentIndex(k if 0 <= k < net.sizes[-1] else min(3, net.sizes[-1] - 1))
        self.target_box.blockSignals(False)
        self._clear()
        if not self.supported:
            self.summary.setText(
                f"Probes need 28x28 image inputs; this network has {net.sizes[0]} inputs."
            )

    @property
    def supported(self) -> bool:
        """Whether the network takes 28x28 images (the probes' only input)."""
        return self.state.net.sizes[0] == SIDE * SIDE

    def _refresh(self) -> None:
        """Show the images, predictions, bars and summary for the current probe."""
        self._update_buttons()
        if not self.supported:
            return
        probe = self._probe
        before = self.before_image()
        before_out = self.before_outputs()
        self.before_view.set_values(before.reshape(SIDE, SIDE))
        self._before_caption.setText("start" if probe and probe.kind == "dream" else "input")
        if probe is None:
            self._after_out = None
            self._show_empty(before_out)
            return
        self._after_out = np.asarray(self.state.net.output(probe.after[None, :])[0])
        self.after_view.set_values(probe.after.reshape(SIDE, SIDE))
        change = probe.after - before
        limit = float(np.abs(change).max())
        self.change_view.set_signed(change, limit, theme.diverging_lut(self.state.colour_blind))
        self.change_label.setText(f"up to \u00b1{limit:.2f}")
        before_k, after_k = int(np.argmax(before_out)), int(np.argmax(self._after_out))
        self.before_label.setText(self._prediction_html(before_out, False))
        self.after_label.setText(self._prediction_html(self._after_out, after_k != before_k))
        self.bars.set_values(before_out, self._after_out)
        if not self._busy:
            self.summary.setText(self._summary(probe, before_k, after_k))

    def _show_empty(self, before_out: Array) -> None:
        self.after_view.set_empty()
        self.change_view.set_empty()
        self.before_label.setText(self._prediction_html(before_out, False))
        self.after_label.setText("\u2013")
        self.change_label.setText("")
        self.bars.set_values(before_out, None)
        if not self._busy:
            self.summary.setText("Choose a probe below: it works on the current input.")

    def _prediction_html(self, outputs: Array, changed: bool) -> str:
        k = int(np.argmax(outputs))
        value = self._value_text(float(outputs[k]))
        html = f'<span style="font-size:15pt; font-weight:600">{k}</span> {value}'
        if changed:
            style = f"background:{theme.HIGHLIGHT.name()}; color:#202020"
            html = f'<span style="{style}">&nbsp;{html}&nbsp;</span>'
        return html

    def _value_text(self, value: float) -> str:
        """A softmax output as a percentage; a sigmoid output as the activation it is (HTML)."""
        return (
            escape(percent(value)) if self.state.net.cost == "cross_entropy" else f"a = {value:.2f}"
        )

    def _summary(self, probe: Probe, before_k: int, after_k: int) -> str:
        if probe.kind == "nudge":
            text = nudge_text(probe.result)  # type: ignore[arg-type]
        elif probe.kind == "dream":
            text = self._dream_text(probe.result, after_k)  # type: ignore[arg-type]
        elif after_k == before_k:
            text = f"{probe.text}: still {a_digit(after_k)}."
        else:
            text = f"{probe.text}: <b>now {a_digit(after_k)}</b> instead of {a_digit(before_k)}."
        if self._weights_moved:
            text += " <i>(Found with earlier weights; the predictions use the live ones.)</i>"
        return text

    def _dream_text(self, result: probes.DreamResult, label: int) -> str:
        k, value = result.target, float(self._after_out[result.target])  # type: ignore[index]
        start = "noise" if result.start.any() else "a blank image"
        head = f"Dreamt from {start} by {DREAM_STEPS} steps of gradient ascent on output {k}"
        softmax = self.state.net.cost == "cross_entropy"
        if label != k and softmax:
            return f"{head}: output {k} reached only {escape(percent(value))}; it says {label}."
        if label != k:
            return (
                f"{head}: output {k} rose to {value:.2f}, but output {label} is higher still, "
                f"so the network says {label} (sigmoid outputs do not compete)."
            )
        if softmax:
            sure = f"the network is {escape(percent(value))} sure this is {a_digit(k)}"
        else:
            sure = (
                f"output {k} is at {value:.2f} (a sigmoid activation, not a probability): "
                f"the network calls it {a_digit(k)}"
            )
        return f"{head}: <b>{sure}</b>. Its idea of {a_digit(k)} need not look like one."

    def _update_buttons(self) -> None:
        k = self.target()
        self.nudge_button.setText(f"Nudge towards {k}")
        self.dream_button.setText(f"Dream {a_digit(k)}")
        on = self.supported
        for widget in (self.noise_button, self.transform_button, self.noise_slider):
            widget.setEnabled(on)
        for widget in (self.nudge_button, self.dream_button):
            widget.setEnabled(on and self._busy is None)
        self.use_button.setEnabled(on and self._probe is not None)

    def _on_noise_strength(self) -> None:
        self._noise_value.setText(f"\u03c3 = {self.noise_strength():.2f}")
        if self._probe is not None and self._probe.kind == "noise":
            self._show_noise()  # same noise, new strength

    def _on_transform_edited(self) -> None:
        if self._probe is not None and self._probe.kind == "transform":
            self.apply_transform()

    def _restyle(self) -> None:
        self.bars.restyle(self.state.dark)
        self._refresh()

    # ------------------------------------------------------------------ queries
    def noise_strength(self) -> float:
        """The slider's noise strength (standard deviation), 0..0.5."""
        return self.noise_slider.value() / 100

    def noise_seed(self) -> int:
        """The seed of the noise shown (or of the next "Add noise", minus one)."""
        return self._noise_seed

    def target(self) -> int:
        """The chosen digit k."""
        return max(self.target_box.currentIndex(), 0)

    def probe(self) -> Probe | None:
        """The probe shown, or None."""
        return self._probe

    def wait_idle(self, msecs: int = -1) -> bool:
        """Block until no background probe runs (True) or ``msecs`` passed (False)."""
        return bool(self._pool.waitForDone(msecs))

    def is_busy(self) -> bool:
        """Whether a nudge or dream is running in the background."""
        return self._busy is not None

    def before_image(self) -> Array:
        """The "before" image: the live input, or a dream's start."""
        probe = self._probe
        if probe is not None and probe.before is not None:
            return probe.before
        return np.asarray(self.state.input, dtype=np.float64)

    def after_image(self) -> Array | None:
        """The probed image, or None."""
        return None if self._probe is None else self._probe.after

    def before_outputs(self) -> Array:
        """The outputs shown for the "before" image (the live ones for the input)."""
        probe = self._probe
        if probe is None or probe.before is None:
            return np.asarray(self.state.outputs)
        return np.asarray(self.state.net.output(probe.before[None, :])[0])

    def after_outputs(self) -> Array | None:
        """The outputs shown for the probed image, or None."""
        return self._after_out

    def summary_text(self) -> str:
        """The sentence under the pictures."""
        return self.summary.text()


def nudge_text(result: probes.NudgeResult) -> str:
    """What a nudge did, in words and the change figures of ``result``."""
    k, n = result.target, result.steps
    if n == 0:
        return f"The input is already classified as {k}: nothing to nudge."
    size = (
        f"the image changed by at most {result.linf:.2f} per pixel "
        f"(mean {result.mean_abs:.3f}, {result.changed_pixels} of {result.image.size} pixels)"
    )
    if not result.reached:
        return (
            f"Gave up after {n} steps: still not {a_digit(k)} (output {k} rose from "
            f"{result.scores[0]:.2f} to {result.scores[-1]:.2f}); {size}."
        )
    steps = "1 step" if n == 1 else f"{n} steps"
    return (
        f"Nudged towards {k}: <b>now {a_digit(k)}</b> after {steps} of \u00b1{NUDGE_STEP}; {size}."
    )

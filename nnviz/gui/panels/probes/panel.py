"""The input-probes panel itself: it runs the probes on the current input and shows them.

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
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import QWidget

from nnviz.core import probes
from nnviz.gui import theme
from nnviz.gui.panels.probes.layout import ProbesLayout, fit_button
from nnviz.gui.panels.probes.pictures import prediction_html
from nnviz.gui.panels.probes.summary import (
    DREAM_STEPS,
    NUDGE_MAX_STEPS,
    NUDGE_STEP,
    a_digit,
    dream_text,
    nudge_text,
    transform_text,
)
from nnviz.gui.panels.visibility import wait_until_seen
from nnviz.gui.state import AppState

Array = npt.NDArray[Any]

SIDE = probes.SIDE

#: The summary's tooltip once the network has learned since the probe was found.
EARLIER_WEIGHTS = (
    "The probe was found with earlier weights; the predictions shown use the network as it is now."
)


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


class ProbesPanel(ProbesLayout):
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
        self._connect_controls()
        state.activations_changed.connect(self._on_activations_changed)
        state.params_changed.connect(self._on_params_changed)
        state.network_replaced.connect(self._on_network_replaced)
        state.appearance_changed.connect(self._restyle)
        self._on_network_replaced()
        self._restyle()

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
        start = start or self.start_box.currentText()
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
        self._set_probe(probe)
        self._weights_moved = False
        self._refresh()
        self.probe_finished.emit(probe.kind)

    def _clear(self, text: str = "") -> None:
        self._set_probe(None)
        self._refresh()
        if text:
            self.summary.setText(text)

    def _set_probe(self, probe: Probe | None) -> None:
        """Show ``probe`` (or none) for the current input, from the next refresh on."""
        self._token += 1  # any probe still running is now out of date
        self._busy = None
        self._probe = probe
        self._seen_input = self.state.input

    # ------------------------------------------------------------------ state -> view
    def _on_activations_changed(self) -> None:
        if wait_until_seen(self, "activations", self._on_activations_changed):
            return
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
    def _softmax(self) -> bool:
        """Whether the outputs are a softmax (cross-entropy cost), not sigmoid activations."""
        return self.state.net.cost == "cross_entropy"

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
        start = probe is not None and probe.kind == "dream"
        self._before_caption.setText(self.bars.key("start" if start else "input", after=False))
        self._after_caption.setText(self.bars.key("probed", after=True))
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
        changed = after_k != before_k
        self.before_label.setText(prediction_html(before_out, False, self._softmax))
        self.after_label.setText(prediction_html(self._after_out, changed, self._softmax))
        self.bars.set_values(before_out, self._after_out)
        if not self._busy:
            self.summary.setText(self._summary(probe, before_k, after_k))
            self.summary.setToolTip(EARLIER_WEIGHTS if self._weights_moved else "")

    def _show_empty(self, before_out: Array) -> None:
        self.after_view.set_empty()
        self.change_view.set_empty()
        self.before_label.setText(prediction_html(before_out, False, self._softmax))
        self.after_label.setText("\u2013")
        self.change_label.setText("")
        self.bars.set_values(before_out, None)
        if not self._busy:
            self.summary.setText("Choose a probe below: it works on the current input.")

    def _summary(self, probe: Probe, before_k: int, after_k: int) -> str:
        if probe.kind == "nudge":
            text = nudge_text(probe.result)  # type: ignore[arg-type]
        elif probe.kind == "dream":
            value = float(self._after_out[probe.result.target])  # type: ignore[index,union-attr]
            text = dream_text(probe.result, after_k, value, self._softmax)  # type: ignore[arg-type]
        elif after_k == before_k:
            text = f"{probe.text}: still {a_digit(after_k)}."
        else:
            text = f"{probe.text}: <b>now {a_digit(after_k)}</b> instead of {a_digit(before_k)}."
        if self._weights_moved:
            text += " <i>(Found with earlier weights.)</i>"  # the rest on hover
        return text

    def _update_buttons(self) -> None:
        k = self.target()
        fit_button(self.nudge_button, f"Nudge to {k}")
        fit_button(self.dream_button, f"Dream {a_digit(k)}")
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

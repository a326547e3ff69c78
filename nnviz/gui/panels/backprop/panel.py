"""The Backprop panel itself: its controls, the backward pass, the step and its undo.

For the input on the canvas and a target digit (its true label, or one the
user picks) it runs :func:`nnviz.core.backprop.nudges` and shows the result
in the figures of :mod:`.wishes` and :mod:`.step`. The panel never trains:
"Take this step" computes one plain SGD step on a copy of the network and
asks the main window to apply it (:attr:`BackpropPanel.theta_change_requested`);
Undo asks for the previous parameters back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QRect, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.backprop import Nudges, StepResult, nudges, single_example_step, wish_sources
from nnviz.core.errors import plain_number
from nnviz.gui.panels.backprop import step, wishes
from nnviz.gui.panels.backprop.layout import Figure, FlipPair, LinesLabel
from nnviz.gui.panels.backprop.step import StepBars
from nnviz.gui.panels.backprop.wishes import ImagePair, SignedBars
from nnviz.gui.panels.network.nudges import output_bound
from nnviz.gui.panels.plots import digit_ticks
from nnviz.gui.panels.visibility import out_of_sight, wait_until_seen
from nnviz.gui.state import AppState

if TYPE_CHECKING:
    from nnviz.gui.panels.network import NetworkPanel

Array = npt.NDArray[Any]

#: The learning rate of a step when training has not said one.
DEFAULT_ETA = 0.1
#: While training streams new weights, the panel redraws at most this often (ms):
#: a redraw costs ~5-9 ms (four plots), the diagram's nudges keep the full rate.
REFRESH_MS = 100
#: Undo goes back this many steps at most.
MAX_UNDO = 50
TARGET_TIP = (
    "The digit the cost wants: the input's true label (a test digit), the\n"
    "network's answer (a drawing has no label), or any digit you pick."
)
SHOW_TIP = (
    "Draw these nudges on the Network panel (arrows at the outputs, halos on hidden neurons)."
)


#: Screen readers' names and descriptions of the pictures, by attribute.
VIEW_NAMES = {
    "wish_plot": (
        "Desired change of each output",
        "Bar chart: how the cost wants each output to move; blue up, red down.",
    ),
    "step_plot": (
        "Outputs before and after one step",
        "Bar chart: each output before the step in grey and after it in colour.",
    ),
    "source_plot": (
        "Where the neuron's wish comes from",
        "Bar chart: what each neuron of the next layer wants from the selected one, and the sum.",
    ),
    "grad_images": (
        "The neuron's weights and their wish",
        "Two 28 by 28 pictures: the selected neuron's incoming weights and how the cost wants "
        "them to change; blue positive, red negative.",
    ),
    "grad_plot": (
        "The wish of the neuron's weights",
        "Bar chart: how the cost wants each incoming weight of the selected neuron to change.",
    ),
}


def set_text(label: QLabel, text: str) -> None:
    """Set a label's text only when it changed (each change re-lays it out)."""
    if text != label.text():
        label.setText(text)


def auto_target_text(label: int | None, answer: int) -> str:
    """The target box's first item: what "automatic" aims at now."""
    return f"true label ({label})" if label is not None else f"its answer ({answer})"


class BackpropPanel(QWidget):
    """Desired nudges, their sources, and one SGD step on the current example.

    Parameters
    ----------
    state
        The application state (input, label, network, selection, looks).
    network_panel
        The Network panel, if any: the target chosen here aims its nudges, and
        "Show on the network" switches them.
    parent
        The parent widget.
    learning_rate
        Returns the learning rate of a step (the training's); without it the
        newest snapshot's learning rate is used, else :data:`DEFAULT_ETA`.

    Signals
    -------
    theta_change_requested(object, str)
        New parameters (a flat array shaped like ``state.net.theta``) and a
        label for the cost curve: ``"one-example step (7)"`` or ``"undo"``.
    """

    title = "Backprop"
    theta_change_requested = Signal(object, str)

    def __init__(
        self,
        state: AppState,
        network_panel: NetworkPanel | None = None,
        parent: QWidget | None = None,
        learning_rate: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.network_panel = network_panel
        self._learning_rate = learning_rate
        self.nudges: Nudges | None = None
        self.last_step: StepResult | None = None
        self._undo: list[Array] = []
        self._dirty = False
        self._shown_input: Array | None = None
        self._last_refresh = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self._connect()
        self._rebuild()
        self._restyle()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        self.target_combo = QComboBox(self)
        self.target_combo.addItems(["true label", *(str(d) for d in range(10))])
        # wide enough for its widest item at every size (the first one changes)
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.target_combo.setToolTip(TARGET_TIP)
        self.show_check = QCheckBox("Show on network", self)
        self.show_check.setToolTip(SHOW_TIP)
        self.show_check.setVisible(self.network_panel is not None)
        self.eta_label = QLabel(self)
        self.step_button = QPushButton("Take this step", self)
        self.step_button.setToolTip(step.STEP_TIP)
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setToolTip(step.UNDO_TIP)
        self.undo_button.setEnabled(False)
        self.summary = LinesLabel(self)
        self.wish_plot = SignedBars()
        self.step_plot = StepBars()
        self.neuron_text = LinesLabel(self)
        self.source_plot = SignedBars()
        self.grad_images = ImagePair()
        self.grad_plot = SignedBars()
        self.grad_stack = QStackedWidget()
        self.grad_stack.addWidget(self.grad_images)
        self.grad_stack.addWidget(self.grad_plot)
        self.figures = {
            name: Figure(view, self)
            for name, view in (
                ("wish", self.wish_plot),
                ("step", self.step_plot),
                ("sources", self.source_plot),
                ("gradient", self.grad_stack),
            )
        }
        self.example_box = FlipPair(self.figures["wish"], self.figures["step"], self)
        self.neuron_box = FlipPair(self.figures["sources"], self.figures["gradient"], self)
        self._lay_out()
        self._name_for_screen_readers()

    def _lay_out(self) -> None:
        """Controls on top, then the example's charts, then the selected neuron's.

        The neuron's charts get the larger share of the height: they are
        what a click on the Network panel asks to see.
        """
        target_label = QLabel("Target:", self)
        target_label.setBuddy(self.target_combo)
        controls = QHBoxLayout()
        controls.addWidget(target_label)
        controls.addWidget(self.target_combo)
        controls.addStretch(1)
        controls.addWidget(self.show_check)
        step_row = QHBoxLayout()
        step_row.addWidget(self.eta_label)
        step_row.addStretch(1)
        step_row.addWidget(self.step_button)
        step_row.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(controls)
        layout.addLayout(step_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.example_box, 2)
        layout.addWidget(self.neuron_text)
        layout.addWidget(self.neuron_box, 3)

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Backprop panel")
        self.setAccessibleDescription(
            "What backpropagation computes for the current input and a target digit: how the "
            "cost wants each output to move, where a selected neuron's wish comes from, and "
            "one gradient step on this example."
        )
        self.target_combo.setAccessibleName("Target digit")
        self.target_combo.setAccessibleDescription(TARGET_TIP.replace("\n", " "))
        self.show_check.setAccessibleName("Show the nudges on the Network panel")
        self.step_button.setAccessibleName("Take one gradient step on this example")
        self.undo_button.setAccessibleName("Undo the last step")
        self.eta_label.setAccessibleName("Learning rate of the step")
        self.summary.setAccessibleName("This example")
        self.neuron_text.setAccessibleName("Selected neuron")
        for attribute, (name, description) in VIEW_NAMES.items():
            widget = getattr(self, attribute)
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(description)

    def _connect(self) -> None:
        s = self.state
        s.network_replaced.connect(self._rebuild)
        s.params_changed.connect(self._refresh_soon)
        s.activations_changed.connect(self._on_activations_changed)
        s.selection_changed.connect(lambda *_: self.refresh())
        s.snapshot_received.connect(lambda _snapshot: self._show_eta())
        s.appearance_changed.connect(self._restyle)
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        self.step_button.clicked.connect(self.take_step)
        self.undo_button.clicked.connect(self.undo)
        if self.network_panel is not None:
            self.show_check.setChecked(self.network_panel.nudges_shown())
            self.show_check.toggled.connect(self.network_panel.set_nudges_shown)
            self.network_panel.nudges_toggled.connect(self.show_check.setChecked)

    # ------------------------------------------------------------------ public
    def target(self) -> int:
        """The target digit: the chosen one, else the true label, else the network's answer."""
        chosen = self.chosen_target()
        if chosen is not None and chosen < self.state.net.sizes[-1]:
            return chosen
        return self.state.label if self.state.label is not None else self.state.prediction

    def chosen_target(self) -> int | None:
        """The digit picked in the combo box (None: "true label")."""
        index = self.target_combo.currentIndex()
        return None if index <= 0 else index - 1

    def set_target(self, target: int | None) -> None:
        """Pick a target digit (None: the input's true label)."""
        self.target_combo.setCurrentIndex(0 if target is None else target + 1)

    def learning_rate(self) -> tuple[float, str]:
        """``(eta, where it comes from)`` for "Take this step"."""
        if self._learning_rate is not None:
            return float(self._learning_rate()), "training's learning rate"
        snapshot = self.state.snapshot
        if snapshot is not None and snapshot.learning_rate > 0:
            return float(snapshot.learning_rate), "training's learning rate"
        return DEFAULT_ETA, "default learning rate"

    def take_step(self) -> None:
        """One plain SGD step on this example (on a copy); ask for its parameters."""
        net = self.state.net.copy()
        eta, _ = self.learning_rate()
        target = self.target()
        result = single_example_step(net, self.state.input, target, eta)
        self.last_step = result
        self._undo = [*self._undo[-(MAX_UNDO - 1) :], result.theta_before]
        self.undo_button.setEnabled(True)
        self._show_step(undone=False)
        self.theta_change_requested.emit(net.theta.copy(), f"one-example step ({target})")

    def undo(self) -> None:
        """Ask for the parameters from before the last step."""
        if not self._undo:
            return
        theta = self._undo.pop()
        self.undo_button.setEnabled(bool(self._undo))
        self._show_step(undone=True)
        self.theta_change_requested.emit(theta.copy(), "undo")

    # ------------------------------------------------------------------ updates
    def _rebuild(self) -> None:
        """A new network: forget steps; labels for its sizes."""
        self._undo, self.last_step = [], None
        self.undo_button.setEnabled(False)
        n_out = self.state.net.sizes[-1]
        self.wish_plot.set_labels(digit_ticks(n_out))
        self.wish_plot.set_fixed_range(output_bound(self.state.net.cost))
        self.step_plot.set_count(n_out)
        self._show_step(undone=False)
        self._show_eta()
        self.refresh()

    def _on_activations_changed(self) -> None:
        """A new input shows at once; new weights alone at most every REFRESH_MS."""
        if self.state.input is not self._shown_input:
            self.refresh()
        else:
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Refresh for new weights, at most every REFRESH_MS while training streams them."""
        if not self._timer.isActive():
            elapsed = (time.perf_counter() - self._last_refresh) * 1000.0
            self._timer.start(max(0, round(REFRESH_MS - elapsed)))

    def refresh(self) -> None:
        """Recompute the backward pass and everything shown (skipped while hidden)."""
        self._timer.stop()
        self._last_refresh = time.perf_counter()
        self._shown_input = self.state.input
        if wait_until_seen(self, "refresh", self.refresh):  # hidden, or behind a tab
            return
        net = self.state.net
        if tuple(a.size for a in self.state.activations) != net.sizes:
            return  # mid-replacement
        self.nudges = result = nudges(net, self.state.input, self.target())
        label = self.state.label
        answer = int(np.argmax(result.a[-1]))
        auto = auto_target_text(label, answer)
        if auto != self.target_combo.itemText(0):
            self.target_combo.setItemText(0, auto)
            # Qt keeps the combo's first minimum size hint: ask again for the new item
            self.target_combo.setMinimumWidth(self.target_combo.sizeHint().width())
        self.summary.set_paragraphs(wishes.summary_parts(self.state, result))
        note = wishes.content_note(result, output_bound(net.cost))
        self.figures["wish"].set_caption(wishes.wish_title(net.cost, note))
        self._show_eta()
        self.wish_plot.set_values(result.wish(result.n_layers))

        self._show_neuron(result)

    def _on_target_changed(self, _index: int) -> None:
        if self.network_panel is not None:
            self.network_panel.set_nudge_target(self.chosen_target())
        self.refresh()

    def _show_eta(self) -> None:
        eta, source = self.learning_rate()
        set_text(self.eta_label, f"η = {plain_number(eta)}")
        self.eta_label.setToolTip(f"{source}; the step is plain SGD (no momentum)")

    def _show_step(self, undone: bool) -> None:
        last = self.last_step
        if last is None:
            self.figures["step"].set_caption(step.NO_STEP_TITLE)
            self.step_plot.show_step(None, step.NO_STEP_TEXT)
            return
        self.figures["step"].set_caption(step.step_title(last, undone))
        self.step_plot.show_step((last.outputs_before, last.outputs_after))

    # ------------------------------------------------------------------ the selected neuron
    def _show_neuron(self, result: Nudges) -> None:
        selected = self.state.selected
        net = self.state.net
        if selected is None or not 1 <= selected[0] <= result.n_layers:
            self.neuron_text.set_paragraphs(wishes.hint_parts(self.network_place()))
            self.neuron_box.setVisible(False)
            return
        layer, j = selected
        self.neuron_box.setVisible(True)
        eta = self.learning_rate()[0]
        self.neuron_text.set_paragraphs(wishes.neuron_parts(result, layer, j, net.cost, eta))
        if layer < result.n_layers:
            sources = -wish_sources(result, layer, j)  # what each next-layer neuron wants
            self.source_plot.set_labels(digit_ticks(sources.size))
            self.figures["sources"].set_caption(wishes.sources_title(layer, result.n_layers))
            self.source_plot.set_values(sources, total=float(result.wish(layer)[j]))
        else:  # what this output wants from each neuron below it
            sent = -result.weights[layer][j] * result.delta[layer][j]
            self.source_plot.set_labels(digit_ticks(sent.size))
            self.figures["sources"].set_caption(wishes.sent_title(j, layer))
            self.source_plot.set_values(sent)
        self._show_gradient(result, layer, j)

    def _show_gradient(self, result: Nudges, layer: int, j: int) -> None:
        change = -result.nabla_w[layer][j]  # the desired change of its incoming weights
        side = math.isqrt(change.size)
        if layer == 1 and side * side == change.size and side > 1:
            weights = np.asarray(result.weights[1][j]).reshape(side, side)
            self.grad_images.set_images(
                weights, change.reshape(side, side), ("weights w", "their wish")
            )
            self.grad_stack.setCurrentWidget(self.grad_images)
            self.figures["gradient"].set_caption(wishes.gradient_title(layer, result.n_layers))
            return
        self.grad_plot.set_labels(digit_ticks(change.size))
        self.figures["gradient"].set_caption(wishes.gradient_title(layer, result.n_layers))
        self.grad_plot.set_values(change)
        self.grad_stack.setCurrentWidget(self.grad_plot)

    def network_place(self) -> str | None:
        """Where the Network panel is, seen from here: ``"left"``, ``"right"``, ``"above"``,
        ``"below"``; None when it is out of sight or in another window."""
        net = self.network_panel
        if net is None or net.window() is not self.window() or not net.isVisible():
            return None
        if out_of_sight(net):
            return None
        mine = QRect(self.mapTo(self.window(), QPoint(0, 0)), self.size())
        theirs = QRect(net.mapTo(self.window(), QPoint(0, 0)), net.size())
        if theirs.right() < mine.left():
            return "left"
        if theirs.left() > mine.right():
            return "right"
        if theirs.bottom() < mine.top():
            return "above"
        return "below" if theirs.top() > mine.bottom() else None

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new place in the window: the hint says where the Network panel is now."""
        super().resizeEvent(event)
        self._show_hint()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown (a dock raised or opened): the hint says where the Network panel is."""
        super().showEvent(event)
        self._show_hint()

    def _show_hint(self) -> None:
        if self.neuron_box.isHidden() and self.nudges is not None:
            self.neuron_text.set_paragraphs(wishes.hint_parts(self.network_place()))

    def gradient_image(self) -> Array | None:
        """The weight-change image shown for a first-layer neuron (None otherwise)."""
        if self.grad_stack.currentWidget() is not self.grad_images:
            return None
        return np.asarray(self.grad_images.right.image)

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        dark, colour_blind = self.state.dark, self.state.colour_blind
        views = (self.wish_plot, self.step_plot, self.source_plot, self.grad_plot)
        for view in (*views, self.grad_images):
            view.restyle(dark, colour_blind)
        self.refresh()

"""The training controls: two toolbars, one for the run, one for the network.

The run toolbar holds what changes live (learning rate, batch size, momentum,
speed) and the Train / Pause / Step / Step epoch / Reset actions. The network
toolbar holds what needs a new network (preset, hidden layers, activation,
cost, epochs planned, seed); the main window asks before it resets.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolBar,
    QWidget,
)

from nnviz.core.limits import MAX_WIDTH
from nnviz.core.network import ACTIVATIONS, COSTS
from nnviz.core.presets import DEFAULT_SIZES, PRESETS

#: What the controls accept (saved settings are checked against the same ranges).
LR = (1e-4, 1000.0)
BATCH = (1, 10_000)
MOMENTUM = (0.0, 0.999)
EPOCHS = (1, 1000)
SEED = (0, 2**31 - 1)
#: Slider positions: mini-batches per second; 0 means full speed.
SPEEDS: tuple[float, ...] = (1, 2, 5, 10, 25, 50, 100, 250, 1000, 0)
COST_LABELS = {"quadratic": "quadratic (3B1B)", "cross_entropy": "cross-entropy"}


@dataclass(frozen=True)
class Architecture:
    """What the network toolbar describes (a change needs a new network)."""

    preset: str
    hidden: tuple[int, ...]
    activation: str
    cost: str
    seed: int


def parse_hidden(text: str) -> tuple[int, ...] | None:
    """``"16 16"`` -> ``(16, 16)``; None if not a list of positive layer sizes.

    Sizes beyond what nnviz supports pass here: the controller refuses them
    with a message that says why (:func:`~nnviz.core.limits.check_sizes`).
    """
    try:
        sizes = tuple(int(part) for part in text.replace(",", " ").split())
    except ValueError:
        return None
    return sizes if sizes and all(s >= 1 for s in sizes) else None


class Actions(QObject):
    """The main training actions, with their keyboard shortcuts."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.train = _action(parent, "Train", "Space", "Train / pause (Space)")
        self.train.setCheckable(True)
        self.step = _action(parent, "Step", "S", "Run one mini-batch, then pause (S)")
        self.step_epoch = _action(parent, "Step epoch", "E", "Run to the end of the epoch (E)")
        self.reset = _action(parent, "Reset", "Ctrl+R", "New network from random weights (Ctrl+R)")


@dataclass(frozen=True)
class Controls:
    """The training controls the training controller drives and shows."""

    actions: Actions
    run_bar: RunToolbar
    network_bar: NetworkToolbar


def _action(parent: QWidget, text: str, shortcut: str, tip: str) -> QAction:
    action = QAction(text, parent)
    action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(tip)
    action.setStatusTip(tip)
    return action


class RunToolbar(QToolBar):
    """Train/Pause, Step, Step epoch, Reset; speed, learning rate, batch, momentum.

    Signals
    -------
    speed_changed(float)
        Mini-batches per second (0: full speed).
    settings_changed(dict)
        Live optimiser settings that changed, e.g. ``{"learning_rate": 0.5}``.
    """

    speed_changed = Signal(float)
    settings_changed = Signal(dict)

    def __init__(self, actions: Actions, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("run_toolbar")
        for action in (actions.train, actions.step, actions.step_epoch, actions.reset):
            self.addAction(action)
        self.addSeparator()
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(len(SPEEDS) - 1)
        self.speed.setFixedWidth(110)
        self.speed.setToolTip("Speed: from slow motion (single SGD steps) to full speed")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(72)
        self._labelled("Speed", self.speed)
        self.addWidget(self.speed_label)
        self.lr = _double_spin(*LR, 4, "Learning rate (changes live)")
        self._labelled("Learning rate", self.lr)
        self.batch = QSpinBox()
        self.batch.setRange(*BATCH)
        self.batch.setToolTip("Mini-batch size (changes live)")
        self._labelled("Batch", self.batch)
        self.momentum = _double_spin(*MOMENTUM, 3, "Momentum (changes live)")
        self.momentum.setSingleStep(0.05)
        self._labelled("Momentum", self.momentum)
        self.speed.valueChanged.connect(self._speed_moved)
        self.lr.editingFinished.connect(lambda: self._emit("learning_rate", self.lr.value()))
        self.batch.editingFinished.connect(lambda: self._emit("batch_size", self.batch.value()))
        self.momentum.editingFinished.connect(lambda: self._emit("momentum", self.momentum.value()))
        self._last: dict[str, float] = {}
        self._speed_moved(self.speed.value())

    def _labelled(self, text: str, widget: QWidget) -> None:
        _add_labelled(self, text, widget)

    def _speed_moved(self, index: int) -> None:
        speed = SPEEDS[index]
        self.speed_label.setText(speed_text(speed))
        self.speed.setAccessibleDescription(f"Training speed: {speed_text(speed)}")
        self.speed_changed.emit(speed)

    def _emit(self, key: str, value: float) -> None:
        if self._last.get(key) != value:
            self._last[key] = value
            self.settings_changed.emit({key: value})

    def show_settings(self, learning_rate: float, batch_size: int, momentum: float) -> None:
        """Display settings without emitting ``settings_changed``."""
        self._last = {
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "momentum": momentum,
        }
        for widget in (self.lr, self.batch, self.momentum):
            widget.blockSignals(True)
        self.lr.setValue(learning_rate)
        self.batch.setValue(batch_size)
        self.momentum.setValue(momentum)
        for widget in (self.lr, self.batch, self.momentum):
            widget.blockSignals(False)

    def speed_value(self) -> float:
        """Mini-batches per second (0: full speed)."""
        return SPEEDS[self.speed.value()]


def speed_text(speed: float) -> str:
    """``"full speed"``, ``"1 step/s"``, ``"25 steps/s"``."""
    if speed == 0:
        return "full speed"
    return f"{speed:g} step/s" if speed == 1 else f"{speed:g} steps/s"


class HandsBackSpace(QObject):
    """Space trains, and Enter hands the keyboard back, while a toolbar field has focus.

    A spin box would swallow Space (it is a character it could type), so the
    Train shortcut never fired while the learning rate had focus. Here Space
    first finishes the edit (the value is in force) and then lets the window's
    shortcut have it. The hidden-layers field needs its spaces ("16 16"):
    there Enter finishes the edit and gives the focus back to the window, so
    the next Space trains.
    """

    def __init__(self, parent: QObject, spaces_typed: QWidget) -> None:
        super().__init__(parent)
        self._spaces_typed = spaces_typed

    def watch(self, field: QWidget) -> None:
        """Watch ``field`` (a spin box is watched through its line edit)."""
        field.installEventFilter(self)
        edit = field.findChild(QLineEdit) if isinstance(field, QAbstractSpinBox) else None
        if edit is not None:
            edit.installEventFilter(self)

    def _field(self, watched: QObject) -> QWidget | None:
        parent = watched.parent()
        if isinstance(parent, QAbstractSpinBox):
            return parent
        return watched if isinstance(watched, QWidget) else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        field = self._field(watched)
        if field is None or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if event.type() == QEvent.Type.ShortcutOverride and key == Qt.Key.Key_Space:
            if field is self._spaces_typed or event.modifiers() != Qt.KeyboardModifier.NoModifier:
                return False
            self._hand_back(field)  # the edit is finished before Train runs
            event.ignore()  # the window's shortcut takes the key
            return True
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if event.type() == QEvent.Type.KeyPress and enter and field is self._spaces_typed:
            # let the field finish its edit first, then hand the focus back
            QTimer.singleShot(0, lambda: self._hand_back(field))
        return False

    @staticmethod
    def _hand_back(field: QWidget) -> None:
        focus = QApplication.focusWidget()
        if focus is not None and (focus is field or field.isAncestorOf(focus)):
            focus.clearFocus()  # a spin box finishes its edit as it loses the focus


def _double_spin(low: float, high: float, decimals: int, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tip)
    return spin


def _add_labelled(bar: QToolBar, text: str, widget: QWidget) -> None:
    """A toolbar field with its label, named for screen readers."""
    label = QLabel(f" {text} ")
    label.setBuddy(widget)
    widget.setAccessibleName(text)
    widget.setAccessibleDescription(widget.toolTip())
    bar.addWidget(label)
    bar.addWidget(widget)


class NetworkToolbar(QToolBar):
    """Preset, hidden layers, activation, cost, planned epochs, seed.

    Signals
    -------
    architecture_edited(object)
        The user asked for another :class:`Architecture` (needs a reset).
    preset_chosen(str)
        A preset was picked: its settings should be applied (needs a reset).
    epochs_changed(int)
        The planned number of epochs changed (live: the schedule's horizon).
    """

    architecture_edited = Signal(object)
    preset_chosen = Signal(str)
    epochs_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Network", parent)
        self.setObjectName("network_toolbar")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("A whole set-up at once: architecture, cost and training settings")
        for i, preset in enumerate(PRESETS.values()):
            self.preset.setItemData(i, preset.description, Qt.ItemDataRole.ToolTipRole)
        self._labelled("Preset", self.preset)
        self.hidden = QLineEdit(" ".join(map(str, DEFAULT_SIZES[1:-1])))
        self.hidden.setFixedWidth(80)
        self.hidden.setToolTip(
            f"Hidden layer sizes, e.g. '16 16' or '32' or '64 32 16' (up to {MAX_WIDTH} each)"
        )
        self._labelled("Hidden", self.hidden)
        self.activation = QComboBox()
        self.activation.addItems(list(ACTIVATIONS))
        self.activation.setToolTip("The hidden neurons' activation function")
        self._labelled("Activation", self.activation)
        self.cost = QComboBox()
        for name in COSTS:
            self.cost.addItem(COST_LABELS[name], name)
        self.cost.setToolTip(
            "quadratic: sigmoid outputs, sum of squared differences over the 10 outputs "
            "(the lessons' cost)\ncross-entropy: softmax outputs, -ln(probability of the label)"
        )
        self._labelled("Cost", self.cost)
        self.epochs = QSpinBox()
        self.epochs.setRange(*EPOCHS)
        self.epochs.setToolTip("Epochs to run (also the length of the cosine schedule)")
        self._labelled("Epochs", self.epochs)
        self.seed = QSpinBox()
        self.seed.setRange(*SEED)
        self.seed.setToolTip("Seed of the initial weights and of the shuffling")
        self._labelled("Seed", self.seed)
        self.preset.activated.connect(lambda i: self.preset_chosen.emit(self.preset.itemText(i)))
        self.hidden.editingFinished.connect(self._edited)
        self.activation.activated.connect(self._edited)
        self.cost.activated.connect(self._edited)
        self.seed.editingFinished.connect(self._edited)
        self.epochs.editingFinished.connect(lambda: self.epochs_changed.emit(self.epochs.value()))
        self._shown: Architecture | None = None

    def _labelled(self, text: str, widget: QWidget) -> None:
        _add_labelled(self, text, widget)

    def architecture(self) -> Architecture | None:
        """What the controls describe now; None if the hidden sizes are invalid."""
        hidden = parse_hidden(self.hidden.text())
        if hidden is None:
            return None
        return Architecture(
            self.preset.currentText(),
            hidden,
            self.activation.currentText(),
            str(self.cost.currentData()),
            self.seed.value(),
        )

    def show_architecture(self, arch: Architecture, epochs: int) -> None:
        """Display ``arch`` without emitting signals."""
        self._shown = arch
        widgets = (self.preset, self.hidden, self.activation, self.cost, self.seed, self.epochs)
        for widget in widgets:
            widget.blockSignals(True)
        self.preset.setCurrentText(arch.preset)
        self.hidden.setText(" ".join(map(str, arch.hidden)))
        self.activation.setCurrentText(arch.activation)
        self.cost.setCurrentIndex(max(self.cost.findData(arch.cost), 0))
        self.seed.setValue(arch.seed)
        self.epochs.setValue(epochs)
        for widget in widgets:
            widget.blockSignals(False)
        self.hidden.setStyleSheet("")

    def _edited(self, *_: object) -> None:
        arch = self.architecture()
        if arch is None:
            self.hidden.setStyleSheet("QLineEdit { border: 1px solid #d03030; }")
            self.hidden.setToolTip("Give hidden layer sizes as numbers, e.g. '16 16'")
            return
        self.hidden.setStyleSheet("")
        if arch != self._shown:
            self.architecture_edited.emit(arch)

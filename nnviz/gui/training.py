"""The training controller: the one owner of the network's architecture and settings.

It turns the toolbars' and menus' actions into typed commands for the
training engine, the engine's replies into state, messages and frames, and
keeps what the controls show equal to what is in force: the
:class:`~nnviz.gui.controls.Architecture` (preset, hidden layers,
activation, cost, seed) and the :class:`~nnviz.core.trainer.TrainConfig`,
validated once, here. When the training process dies it is started again
from the last snapshot's parameters and settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Slot

from nnviz.core.errors import NnvizError, plain_number
from nnviz.core.health import Trouble
from nnviz.core.limits import check_sizes
from nnviz.core.network import Network
from nnviz.core.presets import DEFAULT_SIZES, PRESETS, get_preset
from nnviz.core.trainer import TrainConfig
from nnviz.engine.messages import (
    Configure,
    Evaluate,
    Failed,
    LoadData,
    Pause,
    Progress,
    Run,
    SetSnapshotRate,
    SetSpeed,
    SetTheta,
    StateChanged,
    Step,
    StepEpoch,
    UseNetwork,
)
from nnviz.engine.snapshot import EpochResult, Snapshot
from nnviz.gui.backend import EngineThread
from nnviz.gui.controls import Architecture, Controls
from nnviz.gui.datasource import DataSource
from nnviz.gui.dialogs import Dialogs
from nnviz.gui.frames import FRAME_RATE, FrameScheduler
from nnviz.gui.state import AppState
from nnviz.gui.statusbar import TrainingStatus

COST_NAMES = {"quadratic": "quadratic", "cross_entropy": "cross-entropy"}
SHORT_NAMES = {"learning_rate": "lr", "batch_size": "batch"}


def settings_of_model(net: Network, meta: dict[str, Any]) -> tuple[Architecture, TrainConfig]:
    """The architecture and training settings a model file was made with.

    A file without them (or with ones nnviz cannot use) gets its preset's,
    else the modern preset's.
    """
    name = str(meta.get("preset", "modern"))
    preset = PRESETS.get(name, PRESETS["modern"])
    config = preset.config
    saved = meta.get("config")
    if isinstance(saved, dict):
        with contextlib.suppress(TypeError, NnvizError):  # else keep the preset's
            config = TrainConfig(**saved)
    arch = Architecture(preset.name, net.sizes[1:-1], net.activation, net.cost, config.seed)
    return arch, config


class TrainingController(QObject):
    """Commands to the training engine; its replies to the window."""

    def __init__(
        self,
        state: AppState,
        engine: EngineThread,
        controls: Controls,
        status: TrainingStatus,
        dialogs: Dialogs,
        data: DataSource,
        drawing: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.engine, self.controls = state, engine, controls
        self.status, self.dialogs, self.data = status, dialogs, data
        self.frames = FrameScheduler(self._show, drawing, self)
        self.arch = Architecture("modern", DEFAULT_SIZES[1:-1], "sigmoid", "cross_entropy", 0)
        self.config = get_preset("modern").config
        self.model_meta: dict[str, Any] = {}
        self.origin = "file"  # "bundled", "file" or "new"
        self.trained_here = False
        self.generation = state.generation
        self.engine_state = "idle"
        self.last_evaluation: EpochResult | None = None
        self._connect()

    def _connect(self) -> None:
        c = self.controls
        self.engine.arrived.connect(self._replies)
        self.engine.died.connect(self._engine_died)
        c.actions.train.triggered.connect(self.toggle_training)
        c.actions.step.triggered.connect(lambda: self.data.with_data(self._step))
        c.actions.step_epoch.triggered.connect(lambda: self.data.with_data(self._step_epoch))
        c.actions.reset.triggered.connect(self.ask_reset)
        c.run_bar.speed_changed.connect(self.set_speed)
        c.run_bar.settings_changed.connect(self.change_settings)
        c.network_bar.architecture_edited.connect(self.ask_architecture)
        c.network_bar.preset_chosen.connect(self.ask_preset)
        c.network_bar.epochs_changed.connect(lambda n: self.change_settings({"epochs": n}))
        self.data.loaded.connect(lambda dataset: self.engine.post(LoadData(str(dataset.folder))))

    def start(self, net: Network, meta: dict[str, Any], origin: str) -> None:
        """Show the first network and tell the engine everything.

        A model file given at start brings its own settings; with the bundled
        model (shown for drawing; Train starts a new network) the settings
        restored from the last run stay in force.
        """
        self.engine.post(SetSnapshotRate(FRAME_RATE))
        self.set_speed(self.controls.run_bar.speed_value())
        if origin == "file":
            self.arch, self.config = settings_of_model(net, meta)
        self.model_meta, self.origin, self.trained_here = meta, origin, False
        self._replace_network(net)
        self.show_controls()
        self._show_model_accuracy()

    # ------------------------------------------------------------------ the controls
    def show_controls(self) -> None:
        """Put the settings in force into the toolbars."""
        cfg = self.config
        self.controls.run_bar.show_settings(cfg.learning_rate, cfg.batch_size, cfg.momentum)
        self.controls.network_bar.show_architecture(self.arch, cfg.epochs)

    def _show_model_accuracy(self) -> None:
        accuracy = self.model_meta.get("test_accuracy")
        if isinstance(accuracy, float):
            self.status.show_model_accuracy(accuracy)
        else:
            self.status.clear_accuracy()

    # ------------------------------------------------------------------ training
    @property
    def running(self) -> bool:
        """Whether training runs (as far as the engine has said)."""
        return self.engine_state == "running"

    def toggle_training(self) -> None:
        """Train (starting a fresh network over the bundled model) or pause."""
        if self.running:
            self.engine.post(Pause())
            return
        if self.origin == "bundled" and not self.trained_here:
            self.reset(quiet=True)
            self.dialogs.status(
                "Training a new network from random weights; the bundled trained model is "
                "under File ▸ Open bundled model.",
                8000,
            )
        self.data.with_data(lambda: self.engine.post(Run()))

    def _step(self) -> None:
        self.engine.post(Step(1))

    def _step_epoch(self) -> None:
        self.engine.post(StepEpoch())

    def set_speed(self, steps_per_second: float) -> None:
        """Slow motion (mini-batches per second) or full speed (0)."""
        self.engine.post(SetSpeed(steps_per_second))

    def evaluate_now(self) -> None:
        """Evaluate the test set now (for the analysis panel), loading MNIST if needed."""
        self.data.with_data(lambda: self.engine.post(Evaluate()))

    @Slot(object, str)
    def apply_theta(self, theta: object, label: str) -> None:
        """A single-example step (or its undo) from the backprop panel: pause, replace."""
        self.engine.post(Pause())
        self.engine.post(SetTheta(self.generation, theta, label))  # type: ignore[arg-type]
        self.state.set_theta(theta)  # type: ignore[arg-type]

    def reset(self, quiet: bool = False) -> None:
        """A new network from random weights with the architecture in force."""
        preset = get_preset(self.arch.preset)
        sizes = (DEFAULT_SIZES[0], *self.arch.hidden, DEFAULT_SIZES[-1])
        net = preset.network(sizes, self.arch.seed, self.arch.activation, self.arch.cost)
        self.origin, self.trained_here, self.model_meta = "new", True, {}
        self._replace_network(net)
        self._show_model_accuracy()
        if not quiet:
            self.dialogs.status(f"New network: {net.describe()}")

    def use_model(self, net: Network, meta: dict[str, Any], origin: str) -> None:
        """Show a loaded model and put the settings it was trained with in force."""
        self.arch, self.config = settings_of_model(net, meta)
        self.model_meta, self.origin, self.trained_here = meta, origin, False
        self._replace_network(net)
        self.show_controls()
        self._show_model_accuracy()

    def _replace_network(self, net: Network, progress: Progress | None = None) -> None:
        if progress is None:
            self.generation += 1
            self.last_evaluation = None
            self.frames.drop_pending()
            self.state.set_network(net, self.generation)
        self.engine.post(
            UseNetwork(
                self.generation, net.sizes, net.activation, net.cost, net.theta.copy(),
                self.config, progress,
            )
        )  # fmt: skip

    # ------------------------------------------------------------------ settings
    def ask_reset(self) -> None:
        """Reset after a confirmation (the current network is replaced)."""
        self.dialogs.ask(
            "Start a new network from random weights? The current network and its "
            "training history will be replaced.",
            "Reset",
            self.reset,
        )

    def ask_architecture(self, arch: Architecture) -> None:
        """The user edited the network toolbar: check the size, confirm, then reset."""
        sizes = (DEFAULT_SIZES[0], *arch.hidden, DEFAULT_SIZES[-1])
        try:
            check_sizes(sizes)
        except NnvizError as exc:
            self.dialogs.show_error("Network too large", str(exc))
            self.show_controls()
            return
        config, advice = self._rate_for(arch)
        text = (
            f"Start a new {'-'.join(map(str, sizes))} network ({arch.activation}, "
            f"{COST_NAMES[arch.cost]} cost, seed {arch.seed})? The current network and "
            f"its training history will be replaced.{advice}"
        )

        def accept() -> None:
            self.arch, self.config = arch, config
            self.show_controls()
            self.engine.post(Configure(config))
            self.reset()

        self.dialogs.ask(text, "Reset network", accept, on_cancel=self.show_controls)

    def ask_preset(self, name: str) -> None:
        """A preset was chosen: confirm, then apply its settings and reset."""
        preset = get_preset(name)

        hidden = DEFAULT_SIZES[1:-1]  # the lessons' network, as the preset was made for

        def accept() -> None:
            self.arch = Architecture(name, hidden, preset.activation, preset.cost, self.arch.seed)
            self.config = dataclasses.replace(preset.config, seed=self.arch.seed)
            self.show_controls()
            self.engine.post(Configure(self.config))
            self.reset()

        network = "-".join(map(str, DEFAULT_SIZES))
        self.dialogs.ask(
            f"Apply the {name} preset? {preset.description} A new {network} network starts "
            "from random weights.",
            "Apply preset",
            accept,
            on_cancel=self.show_controls,
        )

    def _rate_for(self, arch: Architecture) -> tuple[TrainConfig, str]:
        """The settings for a new architecture: with another activation, a learning rate
        that works for it with this preset, and a sentence saying so (else none)."""
        config = dataclasses.replace(self.config, seed=arch.seed)
        if arch.activation == self.arch.activation and arch.preset == self.arch.preset:
            return config, ""
        preset = get_preset(arch.preset)
        rate = preset.rate_for(arch.activation)
        if rate is None:
            return config, (
                f"\n\nNote: with the {preset.name} preset {arch.activation} neurons rarely "
                "learn, whatever the learning rate (its weights make them saturate or die at "
                "once); the modern preset suits them."
            )
        if rate == config.learning_rate:
            return config, ""
        return dataclasses.replace(config, learning_rate=rate), (
            f"\n\nThe learning rate becomes {plain_number(rate)}: with the {preset.name} "
            f"preset, {arch.activation} neurons learn best at about that rate (larger "
            "steps can make them stop learning or blow up)."
        )

    def change_settings(self, changes: dict[str, Any]) -> None:
        """Live settings (learning rate, batch size, momentum, epochs); marked on the curve."""
        try:
            self.config = dataclasses.replace(self.config, **changes)
        except NnvizError as exc:
            self.dialogs.show_error("Setting not accepted", str(exc))
            self.show_controls()
            return
        label = ", ".join(f"{SHORT_NAMES.get(k, k)} {_value(v)}" for k, v in changes.items())
        self.engine.post(Configure(self.config, label))

    # ------------------------------------------------------------------ replies
    @Slot()
    def _replies(self) -> None:
        for reply in self.engine.inbox.take():
            match reply:
                case Snapshot():
                    if reply.generation == self.generation:
                        self.frames.offer(reply)
                case StateChanged(state):
                    self._state_changed(state)
                case Trouble():
                    self._trouble(reply)
                case Failed(message):
                    self.dialogs.show_error("Something went wrong", message)

    def _show(self, snapshot: Snapshot) -> None:
        """Draw a snapshot (the frame scheduler calls this when it is due)."""
        if snapshot.generation != self.generation:
            return  # from before a reset that the engine had not applied yet
        if snapshot.last_evaluation is not None:
            self.last_evaluation = snapshot.last_evaluation
        self.state.apply_snapshot(snapshot)
        self.status.show_snapshot(snapshot)

    def _state_changed(self, state: str) -> None:
        self.engine_state = state
        train = self.controls.actions.train
        train.setChecked(state == "running")
        train.setText("Pause" if state == "running" else "Train")
        self.status.show_state(state)
        if state == "running":
            self.trained_here = True

    def _trouble(self, trouble: Trouble) -> None:
        title = "Training diverged" if trouble.kind == "diverged" else "Training stopped learning"
        self.dialogs.show_error(title, trouble.message)

    @Slot(str)
    def _engine_died(self, message: str) -> None:
        """The training process died: it was started again; give it the run back."""
        snap = self.frames.pending or self.state.snapshot
        net = self.state.net.copy()
        progress = Progress(0, 0, 0, 0)
        if snap is not None and snap.generation == self.generation:
            net.theta = snap.theta  # the newest parameters the window has
            progress = Progress(snap.step, snap.epoch, snap.position, snap.samples_seen)
        self.engine_state = "idle"
        self.engine.post(SetSnapshotRate(FRAME_RATE))
        self.set_speed(self.controls.run_bar.speed_value())
        if self.state.dataset is not None:
            self.engine.post(LoadData(str(self.state.dataset.folder)))
        self._replace_network(net, progress)
        self.dialogs.show_error(
            "Training process restarted",
            f"{message}\n\nnnviz started it again with the network as shown (step "
            f"{progress.step:,}) and the settings in force. Press Train to go on.",
        )

    # ------------------------------------------------------------------ settings
    def use_settings(self, arch: Architecture, config: TrainConfig) -> None:
        """Put checked settings in force (those saved from the last run)."""
        self.arch, self.config = arch, dataclasses.replace(config, seed=arch.seed)
        self.engine.post(Configure(self.config))
        self.show_controls()


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)

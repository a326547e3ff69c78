"""The training session behind the main window.

Turns toolbar and menu actions into worker commands, worker signals into
state updates and messages, and keeps what the user chose (preset,
architecture, live settings) between runs. Owns the worker thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, QTimer, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnviz.core import datasets
from nnviz.core.errors import DataError, NnvizError
from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.core.presets import DEFAULT_SIZES, get_preset
from nnviz.core.trainer import TrainConfig
from nnviz.gui.controls import Architecture
from nnviz.gui.datadialog import DataDialog
from nnviz.gui.panels.visibility import sliced, slicing_busy
from nnviz.engine.snapshot import EpochResult
from nnviz.gui.worker import TrainingWorker, WorkerHandle
from nnviz.paths import bundled_model_path

if TYPE_CHECKING:
    from nnviz.gui.mainwindow import MainWindow

#: While a stroke is drawn, snapshots are shown at most every this many seconds.
DRAWING_SNAPSHOT_GAP = 0.25
DRAWING_DEFER_MS = 50
#: Share of the GUI thread's time that showing snapshots may take; the rest
#: stays free for input and other events (a slow machine shows fewer frames).
FRAME_DUTY = 0.7
FRAME_BUSY_RETRY_MS = 2
COST_NAMES = {"quadratic": "quadratic", "cross_entropy": "cross-entropy"}


class Session(QObject):
    """Glue between the window's controls, the worker and the state."""

    def __init__(self, window: MainWindow, model_meta: dict[str, Any], data_dir: Path | None):
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.model_meta = model_meta
        self.data_dir = data_dir
        self.origin = "bundled" if model_meta.get("bundled") else "file"
        preset = get_preset(str(model_meta.get("preset", "modern")))
        net = self.state.net
        self.arch = Architecture(preset.name, net.sizes[1:-1], net.activation, net.cost, 0)
        self.config = preset.config
        self.trained_here = False
        self.generation = 0
        self._last_taken = 0.0
        self._frame_cost = 0.0  # GUI-thread CPU seconds per snapshot shown, smoothed
        self._taken_cpu = 0.0
        self._retry_pending = False
        self.last_evaluation: EpochResult | None = None
        self.message_box: QMessageBox | None = None
        self.data_dialog: DataDialog | None = None
        self._after_data: list[Callable[[], None]] = []
        self._data_loading = False
        self.worker = TrainingWorker(net, self.config)
        self.handle = WorkerHandle(self.worker, "nnviz-training", self)
        self._connect()
        self._show_controls()
        self._show_model_accuracy()

    def _show_model_accuracy(self) -> None:
        accuracy = self.model_meta.get("test_accuracy")
        if isinstance(accuracy, float):
            self.window.status.show_model_accuracy(accuracy)
        else:
            self.window.status.clear_accuracy()

    def _connect(self) -> None:
        w, win = self.worker, self.window
        w.snapshot_ready.connect(self._take_snapshot)
        w.state_changed.connect(self._state_changed)
        w.diverged.connect(self._diverged)
        w.errored.connect(self._errored)
        w.data_ready.connect(self._data_ready)
        w.data_failed.connect(self._data_failed)
        w.data_progress.connect(self._data_progress)
        a = win.actions_
        a.train.triggered.connect(self.toggle_training)
        a.step.triggered.connect(lambda: self._with_data(self.worker.step_once))
        a.step_epoch.triggered.connect(lambda: self._with_data(self.worker.step_epoch))
        a.reset.triggered.connect(self.ask_reset)
        win.run_bar.speed_changed.connect(self.worker.set_speed)
        win.run_bar.settings_changed.connect(self.change_settings)
        win.network_bar.architecture_edited.connect(self.ask_architecture)
        win.network_bar.preset_chosen.connect(self.ask_preset)
        win.network_bar.epochs_changed.connect(lambda n: self.change_settings({"epochs": n}))
        win.canvas.data_needed.connect(lambda: self._with_data(win.canvas.random_test_digit))
        win.panels["analysis"].evaluation_requested.connect(self.evaluate_now)
        win.panels["backprop"].theta_change_requested.connect(self.apply_theta)

    def _show_controls(self) -> None:
        cfg = self.config
        self.window.run_bar.show_settings(cfg.learning_rate, cfg.batch_size, cfg.momentum)
        self.window.network_bar.show_architecture(self.arch, cfg.epochs)

    # ------------------------------------------------------------------ training
    def toggle_training(self) -> None:
        """Train (starting a fresh network over the bundled model) or pause."""
        snap = self.state.snapshot
        running = snap is not None and snap.state == "running"
        if running:
            self.worker.pause()
            return
        if self.origin == "bundled" and not self.trained_here:
            self.reset(quiet=True)
            self.window.statusBar().showMessage(
                "Training a new network from random weights; the bundled trained model is "
                "under File ▸ Open bundled model.",
                8000,
            )
        self._with_data(self.worker.start_training)

    def reset(self, quiet: bool = False) -> None:
        """A new network from random weights with the chosen architecture."""
        preset = get_preset(self.arch.preset)
        sizes = (DEFAULT_SIZES[0], *self.arch.hidden, DEFAULT_SIZES[-1])
        net = preset.network(sizes, self.arch.seed, self.arch.activation, self.arch.cost)
        self.config = dataclasses.replace(self.config, seed=self.arch.seed)
        self.origin = "new"
        self.trained_here = True
        self.model_meta = {}
        self._replace_network(net)
        self._show_model_accuracy()
        if not quiet:
            self.window.statusBar().showMessage(f"New network: {net.describe()}", 5000)

    @Slot()
    def evaluate_now(self) -> None:
        """Evaluate the test set now (for the analysis panel), loading MNIST if needed."""
        self._with_data(self.worker.evaluate)

    @Slot(object, str)
    def apply_theta(self, theta: object, label: str) -> None:
        """A single-example step (or its undo) from the backprop panel: pause, replace."""
        self.worker.pause()
        self.worker.set_theta(self.state.generation, theta, label)
        self.state.set_theta(theta)  # type: ignore[arg-type]

    def ask_reset(self) -> None:
        """Reset after a confirmation (the current network is replaced)."""
        self.ask(
            "Start a new network from random weights? The current network and its "
            "training history will be replaced.",
            "Reset",
            self.reset,
        )

    def ask_architecture(self, arch: Architecture) -> None:
        """The user edited the network toolbar: confirm, then reset."""
        sizes = "-".join(map(str, (784, *arch.hidden, 10)))
        text = (
            f"Start a new {sizes} network ({arch.activation}, "
            f"{COST_NAMES[arch.cost]} cost, seed {arch.seed})? The current network and "
            "its training history will be replaced."
        )

        def accept() -> None:
            self.arch = arch
            self.reset()

        self.ask(text, "Reset network", accept, on_cancel=self._show_controls)

    def ask_preset(self, name: str) -> None:
        """A preset was chosen: confirm, then apply its settings and reset."""
        preset = get_preset(name)

        def accept() -> None:
            self.arch = Architecture(
                name, self.arch.hidden, preset.activation, preset.cost, self.arch.seed
            )
            self.config = dataclasses.replace(preset.config, seed=self.arch.seed)
            self._show_controls()
            self.reset()

        self.ask(
            f"Apply the {name} preset? {preset.description} A new network starts from "
            "random weights.",
            "Apply preset",
            accept,
            on_cancel=self._show_controls,
        )

    def change_settings(self, changes: dict[str, Any]) -> None:
        """Live settings (learning rate, batch size, momentum, epochs); marked on the curve."""
        try:
            self.config = dataclasses.replace(self.config, **changes)
        except NnvizError as exc:
            self.show_error("Setting not accepted", str(exc))
            self._show_controls()
            return
        label = ", ".join(f"{_short(k)} {_value(v)}" for k, v in changes.items())
        self.worker.configure(label=label, **changes)

    # ------------------------------------------------------------------ worker signals
    @Slot()
    def _take_snapshot(self) -> None:
        now = time.perf_counter()
        if self.window.canvas.canvas.is_drawing() and self._drawn_recently():
            # The person is drawing: their strokes come first. The snapshot
            # waits in the box (newer ones merge into it) for a few frames.
            self._retry(DRAWING_DEFER_MS)
            return
        if slicing_busy():  # the last frame is still being drawn
            self._retry(FRAME_BUSY_RETRY_MS)
            return
        wait = self._last_taken + self._frame_cost / FRAME_DUTY - now
        if wait > 0.002:
            # The last frame was costly: leave the event loop some idle time
            # (mouse, timers, the other panels) before drawing the next one.
            self._retry(int(wait * 1000))
            return
        self._last_taken, self._taken_cpu = now, time.thread_time()
        snapshot = self.worker.mailbox.take()
        if snapshot is None:
            return
        if snapshot.generation < self.state.generation:
            return  # from before a reset that the worker has not applied yet
        if snapshot.last_evaluation is not None:
            self.last_evaluation = snapshot.last_evaluation
        # The panels' updates and repaints, a few panels per turn of the event loop.
        with sliced(on_drained=self._frame_done):
            self.state.apply_snapshot(snapshot)
            self.window.status.show_snapshot(snapshot)

    @Slot()
    def _frame_done(self) -> None:
        # CPU time of this thread, not wall time: the frame's slices let other
        # events run in between, and the process may wait for a core.
        cost = time.thread_time() - self._taken_cpu
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * cost  # smoothed

    def _retry(self, msecs: int) -> None:
        if not self._retry_pending:
            self._retry_pending = True
            QTimer.singleShot(msecs, self._retry_now)

    @Slot()
    def _retry_now(self) -> None:
        self._retry_pending = False
        self._take_snapshot()

    def _drawn_recently(self) -> bool:
        return time.perf_counter() - self._last_taken < DRAWING_SNAPSHOT_GAP

    @Slot(str)
    def _state_changed(self, state: str) -> None:
        train = self.window.actions_.train
        train.setChecked(state == "running")
        train.setText("Pause" if state == "running" else "Train")
        self.window.status.show_state(state)
        if state == "running":
            self.trained_here = True

    @Slot(str)
    def _errored(self, message: str) -> None:
        self.show_error("Something went wrong", message)

    @Slot(str)
    def _diverged(self, message: str) -> None:
        self.show_error(
            "Training diverged",
            f"{message}\n\nTraining is paused. Lower the learning rate in the toolbar, then "
            "press Train to go on from the last good parameters, or Reset to start over.",
        )

    # ------------------------------------------------------------------ data
    def _with_data(self, then: Callable[[], None]) -> None:
        """Run ``then`` once MNIST is loaded (loading or asking first if needed)."""
        if self.state.dataset is not None:
            then()
            return
        self._after_data.append(then)
        if self._data_loading:
            return
        try:
            folder = datasets.find_data_dir(datasets.MNIST, self.data_dir)
        except DataError as exc:
            self._open_data_dialog(str(exc))
            return
        if folder is None:
            self._open_data_dialog()
        else:
            self._load_data(folder, download=False)

    def use_dataset(self, dataset: datasets.Dataset) -> None:
        """Use an already loaded data set (the GUI benchmark, tests)."""
        self._data_loading = True
        self.worker.set_dataset(dataset)

    def preload_data(self) -> None:
        """Load MNIST in the background at start if it is already on disk."""
        try:
            folder = datasets.find_data_dir(datasets.MNIST, self.data_dir)
        except DataError:
            return
        if folder is not None and self.state.dataset is None and not self._data_loading:
            self._load_data(folder, download=False)

    def _load_data(self, folder: Path | None, download: bool) -> None:
        self._data_loading = True
        self.window.status.show_state("loading MNIST")
        self.worker.load_data(folder, download)

    def _open_data_dialog(self, reason: str = "") -> None:
        dialog = DataDialog(reason, self.window)
        dialog.download_requested.connect(lambda: self._load_data(None, download=True))
        dialog.cancel_requested.connect(self.worker.cancel_download)
        dialog.folder_chosen.connect(self._folder_chosen)
        dialog.rejected.connect(self._after_data.clear)
        self.data_dialog = dialog
        dialog.open()

    def _folder_chosen(self, folder: str) -> None:
        if self.data_dialog is not None:
            self.data_dialog.chosen_folder(folder)
        self.data_dir = Path(folder)
        self._load_data(self.data_dir, download=False)

    def choose_data_folder(self) -> None:
        """File ▸ Choose MNIST folder."""
        folder = QFileDialog.getExistingDirectory(self.window, "Folder holding the MNIST files")
        if folder:
            self.data_dir = Path(folder)
            if self.state.dataset is None:
                self._load_data(self.data_dir, download=False)

    @Slot(object)
    def _data_ready(self, dataset: datasets.Dataset) -> None:
        self._data_loading = False
        self.state.set_dataset(dataset)
        self.window.status.show_state(
            self.state.snapshot.state if self.state.snapshot else "paused"
        )
        if self.data_dialog is not None:
            self.data_dialog.accept()
            self.data_dialog = None
        pending, self._after_data = self._after_data, []
        for then in pending:
            then()

    @Slot(str)
    def _data_failed(self, message: str) -> None:
        self._data_loading = False
        self.window.status.show_state("no data")
        if self.data_dialog is None:
            self._open_data_dialog(message)
        self.data_dialog.show_failure(message)  # type: ignore[union-attr]

    @Slot(str, int, int)
    def _data_progress(self, name: str, done: int, total: int) -> None:
        if self.data_dialog is not None:
            self.data_dialog.show_progress(name, done, total)

    # ------------------------------------------------------------------ model files
    def open_model(self, path: str | Path) -> bool:
        """Load a model file; errors are shown in plain words. True on success."""
        try:
            net, meta = load_model(path)
        except NnvizError as exc:
            self.show_error("Cannot open the model", str(exc))
            return False
        if net.sizes[0] != 784 or net.sizes[-1] != 10:
            self.show_error(
                "Cannot open the model",
                f"{path}: nnviz needs 784 inputs and 10 outputs, this model has "
                f"{net.sizes[0]} and {net.sizes[-1]}",
            )
            return False
        self._use_model(net, meta, "file")
        self.window.statusBar().showMessage(f"Opened {path}: {net.describe()}", 6000)
        return True

    def _use_model(self, net: Network, meta: dict[str, Any], origin: str) -> None:
        self.model_meta, self.origin, self.trained_here = meta, origin, False
        preset = str(meta.get("preset", self.arch.preset))
        self.arch = Architecture(
            preset if preset in ("classic", "modern") else "modern",
            net.sizes[1:-1],
            net.activation,
            net.cost,
            self.arch.seed,
        )
        self._replace_network(net)
        self._show_controls()
        self._show_model_accuracy()

    def _replace_network(self, net: Network) -> None:
        self.generation += 1
        self.last_evaluation = None
        self.worker.reset(net, self.config, self.generation)
        self.state.set_network(net, self.generation)

    def open_bundled_model(self) -> None:
        """File ▸ Open bundled model."""
        net, meta = load_model(bundled_model_path())
        self._use_model(net, {**meta, "bundled": True}, "bundled")

    def save_model(self, path: str | Path) -> bool:
        """Save the network as shown, with its training metadata. True on success."""
        snap = self.state.snapshot
        meta: dict[str, Any] = {
            "preset": self.arch.preset,
            "network": self.state.net.describe(),
            "config": dataclasses.asdict(self.config),
            "steps_trained": snap.step if snap else 0,
            "epochs_trained": snap.epoch if snap else 0,
            "saved_by": "nnviz app",
        }
        if self.last_evaluation is not None:
            meta["test_accuracy"] = self.last_evaluation.accuracy
            meta["test_cost"] = self.last_evaluation.test_cost
        try:
            save_model(path, self.state.net, meta)
        except NnvizError as exc:
            self.show_error("Cannot save the model", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def open_model_dialog(self) -> None:
        """File ▸ Open model."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open model", "", "nnviz models (*.npz);;All files (*)"
        )
        if path:
            self.open_model(path)

    def save_model_dialog(self) -> None:
        """File ▸ Save model."""
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save model", "model.npz", "nnviz models (*.npz)"
        )
        if path:
            self.save_model(path)

    # ------------------------------------------------------------------ dialogs
    def ask(
        self,
        text: str,
        yes: str,
        on_yes: Callable[[], None],
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        """A non-blocking question; ``on_yes`` runs if the user agrees."""
        box = QMessageBox(
            QMessageBox.Icon.Question, "nnviz", text, QMessageBox.StandardButton.Cancel, self.window
        )
        accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(accept)

        def finished() -> None:
            if box.clickedButton() is accept:
                on_yes()
            elif on_cancel is not None:
                on_cancel()
            self.message_box = None

        box.finished.connect(finished)
        self.message_box = box
        box.open()

    def show_error(self, title: str, text: str) -> None:
        """A non-blocking message in plain words."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.window
        )
        box.finished.connect(lambda _r: setattr(self, "message_box", None))
        self.message_box = box
        self.window.statusBar().showMessage(f"{title}: {text.splitlines()[0]}", 10000)
        box.open()

    # ------------------------------------------------------------------ settings
    def restore_settings(self, settings: QSettings) -> None:
        """Last architecture and live settings (the shown model stays as it is)."""
        try:
            hidden = tuple(int(v) for v in str(settings.value("net/hidden", "")).split())
            arch = Architecture(
                str(settings.value("net/preset", self.arch.preset)),
                hidden or self.arch.hidden,
                str(settings.value("net/activation", self.arch.activation)),
                str(settings.value("net/cost", self.arch.cost)),
                int(settings.value("net/seed", self.arch.seed)),  # type: ignore[arg-type]
            )
            get_preset(arch.preset)
            config = TrainConfig(
                learning_rate=float(settings.value("train/lr", self.config.learning_rate)),  # type: ignore[arg-type]
                batch_size=int(settings.value("train/batch", self.config.batch_size)),  # type: ignore[arg-type]
                momentum=float(settings.value("train/momentum", self.config.momentum)),  # type: ignore[arg-type]
                weight_decay=self.config.weight_decay,
                schedule=self.config.schedule,
                epochs=int(settings.value("train/epochs", self.config.epochs)),  # type: ignore[arg-type]
                seed=arch.seed,
            )
            Network((784, *arch.hidden, 10), arch.activation, arch.cost)
        except (ValueError, TypeError, NnvizError):
            return  # unreadable settings: keep the defaults
        self.arch, self.config = arch, config
        speed = settings.value("train/speed_index")
        if speed is not None:
            self.window.run_bar.speed.setValue(int(speed))  # type: ignore[call-overload]
        folder = settings.value("data/folder")
        if folder and self.data_dir is None:
            self.data_dir = Path(str(folder))
        self.worker.configure(**dataclasses.asdict(config))
        self._show_controls()

    def save_settings(self, settings: QSettings) -> None:
        """Write the architecture and live settings."""
        settings.setValue("net/preset", self.arch.preset)
        settings.setValue("net/hidden", " ".join(map(str, self.arch.hidden)))
        settings.setValue("net/activation", self.arch.activation)
        settings.setValue("net/cost", self.arch.cost)
        settings.setValue("net/seed", self.arch.seed)
        settings.setValue("train/lr", self.config.learning_rate)
        settings.setValue("train/batch", self.config.batch_size)
        settings.setValue("train/momentum", self.config.momentum)
        settings.setValue("train/epochs", self.config.epochs)
        settings.setValue("train/speed_index", self.window.run_bar.speed.value())
        if self.data_dir is not None:
            settings.setValue("data/folder", str(self.data_dir))

    def shutdown(self) -> None:
        """Stop the worker threads and the training process (idempotent)."""
        self.handle.shutdown()
        self.window.surface.shutdown()
        probes = self.window.panels.get("probes")
        if probes is not None:
            probes.wait_idle(1000)  # type: ignore[attr-defined]


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _short(key: str) -> str:
    return {
        "learning_rate": "lr",
        "batch_size": "batch",
        "momentum": "momentum",
        "epochs": "epochs",
    }.get(key, key)

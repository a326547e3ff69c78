"""File ▸ Open model, Save model, Open bundled model.

A model file is opened with :func:`~nnviz.core.modelio.load_model` (no
pickles; a wrong or damaged file gives an error that names it) and checked
against what the app supports before anything is replaced; saving is atomic
and keeps the training settings, so opening the file again puts them back in
force.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from nnviz.core.errors import NnvizError
from nnviz.core.limits import MAX_PARAMETERS, check_sizes
from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.gui.dialogs import Dialogs
from nnviz.gui.training import TrainingController
from nnviz.paths import bundled_model_path


def load_supported_model(path: str | Path) -> tuple[Network, dict[str, Any]]:
    """A model file nnviz can show and train: 784 inputs, 10 outputs, a supported size.

    Too large a network is refused before it is built (from the sizes in the file).

    Raises
    ------
    NnvizError
        The file cannot be read, is damaged, or holds a network nnviz does not support.
    """
    net, meta = load_model(path, max_parameters=MAX_PARAMETERS)
    if net.sizes[0] != 784 or net.sizes[-1] != 10:
        raise NnvizError(
            f"{path}: nnviz needs 784 inputs and 10 outputs, this model has "
            f"{net.sizes[0]} and {net.sizes[-1]}"
        )
    try:
        check_sizes(net.sizes)
    except NnvizError as exc:
        raise NnvizError(f"{path}: {exc}") from exc
    return net, meta


class ModelFiles(QObject):
    """Opening and saving models for the window."""

    def __init__(self, window: QWidget, training: TrainingController, dialogs: Dialogs) -> None:
        super().__init__(window)
        self.window, self.training, self.dialogs = window, training, dialogs

    def open_model(self, path: str | Path) -> bool:
        """Load a model file; errors are shown in plain words. True on success."""
        try:
            net, meta = load_supported_model(path)
        except NnvizError as exc:
            self.dialogs.show_error("Cannot open the model", str(exc))
            return False
        self.training.use_model(net, meta, "file")
        self.dialogs.status(f"Opened {path}: {net.describe()}", 6000)
        return True

    def open_bundled_model(self) -> None:
        """File ▸ Open bundled model."""
        net, meta = load_model(bundled_model_path())
        self.training.use_model(net, {**meta, "bundled": True}, "bundled")

    def save_model(self, path: str | Path) -> bool:
        """Save the network as shown, with its training settings. True on success."""
        training = self.training
        snap = training.state.snapshot
        meta: dict[str, Any] = {
            "preset": training.arch.preset,
            "network": training.state.net.describe(),
            "config": dataclasses.asdict(training.config),
            "steps_trained": snap.step if snap else 0,
            "epochs_trained": snap.epoch if snap else 0,
            "saved_by": "nnviz app",
        }
        if training.last_evaluation is not None:
            meta["test_accuracy"] = training.last_evaluation.accuracy
            meta["test_cost"] = training.last_evaluation.test_cost
        try:
            save_model(path, training.state.net, meta)
        except NnvizError as exc:
            self.dialogs.show_error("Cannot save the model", str(exc))
            return False
        self.dialogs.status(f"Saved {path}")
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

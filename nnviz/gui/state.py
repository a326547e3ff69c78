"""The GUI's model: the network panels show, the current input, the selection.

Panels never compute training; they render this state and subscribe to its
signals. It lives in the GUI thread. The training worker's snapshots arrive
through :meth:`AppState.apply_snapshot`, which copies the newest parameters
into the GUI's own network, so drawing is classified with the live weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from nnviz.core.datasets import Dataset
from nnviz.core.network import Network
from nnviz.engine.snapshot import Snapshot

Array = npt.NDArray[Any]


class AppState(QObject):
    """Shared state of the main window.

    Signals
    -------
    network_replaced
        A different network (maybe another architecture): rebuild structure.
    params_changed
        The parameters changed (a snapshot, a loaded model, a reset).
    activations_changed
        The input or the parameters changed: activations are new.
    snapshot_received(Snapshot)
        Every snapshot the GUI takes from the worker, with its new costs.
    history_cleared
        The training history starts over (reset, loaded model).
    selection_changed(int, int)
        ``(layer, neuron)`` selected; layer 1 is the first hidden layer,
        ``(-1, -1)`` clears the selection.
    dataset_loaded
        :attr:`dataset` is now available.
    appearance_changed
        Colour-blind map or palette switched.
    """

    network_replaced = Signal()
    params_changed = Signal()
    activations_changed = Signal()
    snapshot_received = Signal(object)
    history_cleared = Signal()
    selection_changed = Signal(int, int)
    dataset_loaded = Signal()
    appearance_changed = Signal()

    def __init__(self, net: Network, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.net = net
        self.generation = 0
        self.snapshot: Snapshot | None = None
        self.dataset: Dataset | None = None
        self.input: Array = np.zeros(net.sizes[0], dtype=np.float32)
        self.label: int | None = None
        self.activations: list[Array] = []
        self.selected: tuple[int, int] | None = None
        self.colour_blind = False
        self.dark = False
        self._forward()

    # ------------------------------------------------------------------ network
    def set_network(self, net: Network, generation: int | None = None) -> None:
        """Show ``net`` (a copy is kept); clears history and selection."""
        self.net = net.copy()
        self.generation = self.generation + 1 if generation is None else generation
        self.snapshot = None
        self.selected = None
        if self.input.size != self.net.sizes[0]:
            self.input = np.zeros(self.net.sizes[0], dtype=np.float32)
        self._forward(emit=False)  # activations match the new net before anyone asks
        self.network_replaced.emit()
        self.history_cleared.emit()
        self.selection_changed.emit(-1, -1)
        self.params_changed.emit()
        self.activations_changed.emit()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Take the newest parameters and history from the worker."""
        same = (snapshot.sizes, snapshot.activation, snapshot.cost) == (
            self.net.sizes,
            self.net.activation,
            self.net.cost,
        )
        if not same or snapshot.generation != self.generation:
            net = Network(snapshot.sizes, snapshot.activation, snapshot.cost)
            net.theta = snapshot.theta
            self.set_network(net, snapshot.generation)
        else:
            self.net.theta = snapshot.theta
            self.params_changed.emit()
            self._forward()
        self.snapshot = snapshot
        self.snapshot_received.emit(snapshot)

    def set_theta(self, theta: npt.ArrayLike) -> None:
        """New parameters for the shown network (a single-example step, an undo)."""
        self.net.theta = theta
        self.params_changed.emit()
        self._forward()

    # ------------------------------------------------------------------ input
    def set_input(self, image: npt.ArrayLike, label: int | None = None) -> None:
        """The network input (28x28 or 784 values in [0, 1]) and its true label."""
        pixels = np.asarray(image, dtype=np.float32).reshape(-1)
        if pixels.size != self.net.sizes[0]:
            raise ValueError(f"input needs {self.net.sizes[0]} values, got {pixels.size}")
        self.input = np.clip(pixels, 0.0, 1.0)
        self.label = label
        self._forward()

    def _forward(self, emit: bool = True) -> None:
        self.activations = [a[0] for a in self.net.forward(self.input[None, :])]
        if emit:
            self.activations_changed.emit()

    @property
    def outputs(self) -> Array:
        """The output activations for the current input."""
        return self.activations[-1]

    @property
    def prediction(self) -> int:
        """The most active output neuron."""
        return int(np.argmax(self.outputs))

    # ------------------------------------------------------------------ selection, looks
    def select(self, layer: int, neuron: int) -> None:
        """Select a neuron (``layer`` >= 1) or clear the selection (``-1, -1``)."""
        valid = 1 <= layer < len(self.net.sizes) and 0 <= neuron < self.net.sizes[layer]
        self.selected = (layer, neuron) if valid else None
        self.selection_changed.emit(*(self.selected or (-1, -1)))

    def set_dataset(self, dataset: Dataset) -> None:
        """The loaded data set (its test images feed "random test digit")."""
        self.dataset = dataset
        self.dataset_loaded.emit()

    def set_appearance(self, dark: bool | None = None, colour_blind: bool | None = None) -> None:
        """Switch palette and/or colour map; views restyle on ``appearance_changed``."""
        if dark is not None:
            self.dark = dark
        if colour_blind is not None:
            self.colour_blind = colour_blind
        self.appearance_changed.emit()

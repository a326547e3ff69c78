"""What the training worker tells the GUI: immutable snapshots, one-slot mailbox.

The worker publishes the newest :class:`Snapshot` at most ~30 times a second.
The :class:`Mailbox` keeps one; a snapshot that arrives before the GUI took
the previous one absorbs it (its costs, evaluations and events are kept, its
parameters dropped), so the cost curve never loses a mini-batch while panels
only ever draw the newest parameters. No Qt here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class EpochResult:
    """Test-set figures after one epoch (or on demand: ``on_demand`` True).

    ``outputs`` holds the output activations for every test image (row ``i``
    for test image ``i``), for galleries of mistakes.
    """

    epoch: int
    step: int
    test_cost: float
    accuracy: float
    confusion: Array = field(repr=False)
    outputs: Array | None = field(default=None, repr=False)
    on_demand: bool = False


@dataclass(frozen=True)
class Marker:
    """A settings change at a step, drawn on the cost curve."""

    step: int
    text: str


@dataclass(frozen=True)
class Snapshot:
    """The training state at one moment, safe to read from any thread.

    Attributes
    ----------
    generation
        Increases when the network is replaced (reset, model loaded): the
        GUI clears its history when it changes.
    theta
        A private copy of the parameters.
    steps, costs
        Global step index and mean cost of every mini-batch since the
        previous snapshot the GUI took.
    evaluations, markers
        Test results and settings changes since the previous snapshot taken.
    state
        ``"idle"``, ``"running"``, ``"paused"``, ``"finished"`` or ``"diverged"``.
    """

    generation: int
    sizes: tuple[int, ...]
    activation: str
    cost: str
    theta: Array = field(repr=False)
    step: int = 0
    epoch: int = 0
    epoch_fraction: float = 0.0
    samples_seen: int = 0
    samples_per_second: float = 0.0
    learning_rate: float = 0.0
    batch_size: int = 0
    state: str = "idle"
    steps: Array = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    costs: Array = field(default_factory=lambda: np.zeros(0), repr=False)
    evaluations: tuple[EpochResult, ...] = ()
    markers: tuple[Marker, ...] = ()

    def absorb(self, older: Snapshot) -> Snapshot:
        """This snapshot carrying also the history of an older one not yet taken."""
        if older.generation != self.generation:
            return self
        return replace(
            self,
            steps=np.concatenate([older.steps, self.steps]),
            costs=np.concatenate([older.costs, self.costs]),
            evaluations=older.evaluations + self.evaluations,
            markers=older.markers + self.markers,
        )

    @property
    def last_evaluation(self) -> EpochResult | None:
        """The newest test result in this snapshot, if any."""
        return self.evaluations[-1] if self.evaluations else None


class Mailbox:
    """A one-slot, thread-safe box for the newest snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slot: Snapshot | None = None

    def put(self, snapshot: Snapshot) -> bool:
        """Store ``snapshot``; True if the box was empty (the GUI needs a ping)."""
        with self._lock:
            was_empty = self._slot is None
            self._slot = snapshot if was_empty else snapshot.absorb(self._slot)  # type: ignore[arg-type]
            return was_empty

    def take(self) -> Snapshot | None:
        """Remove and return the snapshot, or None."""
        with self._lock:
            snapshot, self._slot = self._slot, None
            return snapshot

"""What the training server tells the app: immutable snapshots of the run.

The server publishes the newest :class:`Snapshot` about 30 times a second
while training runs (and once after a command changed what is shown). A
snapshot that arrives before the app took the previous one absorbs it
(:meth:`Snapshot.absorb`: its costs, evaluations and markers are kept, its
parameters dropped), so the cost curve never loses a mini-batch while panels
only ever draw the newest parameters.
"""

from __future__ import annotations

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
    epoch_fraction, position
        How far the current epoch is: a fraction, and in examples.
    speed
        The mini-batches per second training runs at (0: full speed).
    steps, costs
        Global step index and mean cost of every mini-batch since the
        previous snapshot the GUI took.
    evaluations, markers
        Test results and settings changes since the previous snapshot taken.
    state
        ``"idle"``, ``"running"``, ``"paused"``, ``"finished"``, ``"diverged"``
        or ``"stalled"`` (the run stopped learning).
    """

    generation: int
    sizes: tuple[int, ...]
    activation: str
    cost: str
    theta: Array = field(repr=False)
    step: int = 0
    epoch: int = 0
    epoch_fraction: float = 0.0
    position: int = 0
    samples_seen: int = 0
    samples_per_second: float = 0.0
    speed: float = 0.0
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

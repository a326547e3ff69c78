"""What the app and its engines say to each other: one small frozen dataclass each.

Commands go from the app to a server, replies come back; both are matched by
type (``match message: case Step(n): ...``), never by a name string. They
cross a pipe (pickled) when the server runs in a child process, or a queue
when it runs in a thread, so every field is a plain value or a NumPy array.

The snapshot of training (:class:`~nnviz.engine.snapshot.Snapshot`) and the
loss-surface results (:class:`SurfaceGrid`, :class:`PathView`) are replies
too; so is the core's :class:`~nnviz.core.health.Trouble`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from nnviz.core import surface
from nnviz.core.trainer import TrainConfig

Array = npt.NDArray[Any]


# ------------------------------------------------------------------ both servers
@dataclass(frozen=True)
class Stop:
    """End the server loop (also in the middle of a long computation)."""


@dataclass(frozen=True)
class Ready:
    """The first reply of a server: it has started (the runner's handshake)."""

    pid: int


@dataclass(frozen=True)
class Failed:
    """A command could not be carried out; ``message`` says why in plain words."""

    message: str


# ------------------------------------------------------------------ training: commands
@dataclass(frozen=True)
class Progress:
    """Where a run stands: a network put back after a restart keeps counting from here."""

    step: int
    epoch: int
    position: int
    samples_seen: int


@dataclass(frozen=True)
class UseNetwork:
    """Train this network with these settings from now on (paused).

    ``generation`` tags its snapshots so the app can tell them from late
    snapshots of the network it replaces; ``progress`` continues a run
    (after the training process was restarted) instead of starting at step 0.
    """

    generation: int
    sizes: tuple[int, ...]
    activation: str
    cost: str
    theta: Array = field(repr=False)
    config: TrainConfig
    progress: Progress | None = None


@dataclass(frozen=True)
class LoadData:
    """Train on the MNIST files in ``folder`` (already checked by the app)."""

    folder: str


@dataclass(frozen=True)
class Run:
    """Train continuously (until Pause, the planned epochs, or trouble)."""


@dataclass(frozen=True)
class Pause:
    """Stop after the current mini-batch."""


@dataclass(frozen=True)
class Step:
    """Run ``n`` mini-batches at full speed, then pause."""

    n: int = 1


@dataclass(frozen=True)
class StepEpoch:
    """Run to the end of the current epoch at full speed, then pause."""


@dataclass(frozen=True)
class SetSpeed:
    """Mini-batches per second while running; 0 is full speed."""

    steps_per_second: float


@dataclass(frozen=True)
class SetSnapshotRate:
    """Snapshots per second while training runs (the window's frame rate)."""

    per_second: float


@dataclass(frozen=True)
class Configure:
    """New live settings (already validated); ``label`` marks the cost curve."""

    config: TrainConfig
    label: str = ""


@dataclass(frozen=True)
class Evaluate:
    """Evaluate the current parameters on the test set now."""


@dataclass(frozen=True)
class SetTheta:
    """Replace the parameters of network ``generation`` (a single-example step, an undo)."""

    generation: int
    theta: Array = field(repr=False)
    label: str = ""


# ------------------------------------------------------------------ training: replies
@dataclass(frozen=True)
class StateChanged:
    """``idle``, ``running``, ``paused``, ``finished``, ``diverged`` or ``stalled``."""

    state: str


# ------------------------------------------------------------------ loss surface
PLANES = ("pca", "random", "start_to_now")


@dataclass(frozen=True)
class SurfaceSettings:
    """What the user chose in the surface panel."""

    plane: str = "pca"
    resolution: int = 41
    subset: int = 5_000  # a 41 x 41 grid on 5,000 images takes ~1 s (~5 s while training)
    auto_refit: bool = True
    seed: int = 0


@dataclass(frozen=True)
class SurfaceData:
    """The images (and labels) every cost on the surface is measured on."""

    x: Array = field(repr=False)
    y: Array = field(repr=False)


@dataclass(frozen=True)
class StartPath:
    """Forget the old path: network ``generation`` (this architecture) starts."""

    generation: int
    sizes: tuple[int, ...]
    activation: str
    cost: str


@dataclass(frozen=True)
class AddPoint:
    """A point of the SGD path: the parameters of network ``generation`` at ``step``."""

    generation: int
    step: int
    theta: Array = field(repr=False)


@dataclass(frozen=True)
class ConfigureSurface:
    """New panel settings; a refit follows (and cancels a running grid) if ``refit``."""

    settings: SurfaceSettings
    refit: bool = True


@dataclass(frozen=True)
class Refit:
    """Fit the plane to the path so far and compute a new surface.

    The user's refit starts at once and cancels a running grid; an automatic
    one (``auto``) waits for the refit gap and cancels nothing.
    """

    auto: bool = False


@dataclass(frozen=True)
class GridProgress:
    """Rows of the grid done, rows in all (``0, 0`` when idle)."""

    done: int
    rows: int

    def absorb(self, older: GridProgress) -> GridProgress:
        """Only the newest progress matters."""
        return self


@dataclass(frozen=True)
class SurfaceGrid:
    """A computed cost surface on a plane.

    ``costs[i, j]`` is the exact mean cost over the evaluation subset at
    ``plane.point(a[j], b[i])`` (``origin + a[j] d1 + b[i] d2``). ``explained``
    is the share of the path's variance the plane explained when it was fitted.
    """

    generation: int
    fit: int
    kind: str
    label1: str
    label2: str
    a: Array = field(repr=False)
    b: Array = field(repr=False)
    costs: Array = field(repr=False)
    explained: float
    subset: int
    seconds: float
    cost_name: str
    plane: surface.Plane | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PathView:
    """The recorded path as seen from the current plane.

    ``coords`` are the least-squares coordinates (a, b) of each point,
    ``distances`` their distance from the plane (both NaN before the first
    plane), ``true_costs`` the exact cost on the evaluation subset (NaN until
    computed), ``explained`` the share of the path's variance the plane
    explains now (estimated from evenly spaced points; NaN without a plane)
    and ``path_length`` the length of the projected path.
    """

    generation: int
    fit: int
    steps: Array = field(repr=False)
    coords: Array = field(repr=False)
    distances: Array = field(repr=False)
    true_costs: Array = field(repr=False)
    explained: float
    path_length: float

    def absorb(self, older: PathView) -> PathView:
        """A newer view of the path replaces an older one."""
        return self

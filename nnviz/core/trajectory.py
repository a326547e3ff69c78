"""The SGD path through parameter space, recorded in bounded memory.

A :class:`Trajectory` keeps copies of ``theta`` at training steps, evenly
spaced in step: the kept steps are ``s_0, s_0 + stride, s_0 + 2 stride, ...``
(exactly so when every step is offered; at least ``stride`` apart otherwise),
plus the newest recorded point, which is always kept as a "tentative head".
When the preallocated buffer is full, every other point is dropped (the first
and the newest always stay) and the stride doubles, so any length of training
fits in ``capacity`` points and the path keeps its whole history at an
ever coarser resolution.

The true cost at a point may be unknown when it is recorded (the trainer only
knows mini-batch costs); :meth:`Trajectory.set_cost` fills it in later.
Indices move when the buffer is decimated: a background job that computes
costs should find its point again with :meth:`Trajectory.index_of`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError

Array = npt.NDArray[Any]


class TrajectoryPoint(NamedTuple):
    """One recorded point: its step, a read-only view of its theta, its cost (NaN if unknown)."""

    step: int
    theta: Array
    cost: float


class Trajectory:
    """Recorder of the optimisation path with a fixed memory budget.

    Parameters
    ----------
    n_params
        Length ``P`` of the parameter vector.
    capacity
        Most points kept.
    max_bytes
        Upper bound of the theta buffer; the effective capacity is
        ``min(capacity, max_bytes // (n_params * itemsize))``, but at least 3.
    dtype
        Storage type of the points (float32 or float64).

    Notes
    -----
    One ``(capacity, n_params)`` array is allocated up front and never
    reallocated; decimation compacts it in place, row by row (so no
    temporary copy of the path is made either).
    """

    def __init__(
        self,
        n_params: int,
        capacity: int = 2000,
        max_bytes: int = 128 * 2**20,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"trajectory dtype must be float32 or float64, got {self.dtype}")
        if int(n_params) != n_params or n_params < 1:
            raise ConfigError(f"n_params must be a positive integer, got {n_params}")
        if capacity < 1 or max_bytes < 1:
            raise ConfigError(
                f"capacity and max_bytes must be positive, got {capacity}, {max_bytes}"
            )
        rows = max(3, min(int(capacity), int(max_bytes) // (int(n_params) * self.dtype.itemsize)))
        self._thetas = np.empty((rows, int(n_params)), dtype=self.dtype)
        self._steps = np.zeros(rows, dtype=np.int64)
        self._costs = np.full(rows, math.nan)
        self._n = 0
        self._stride = 1
        self._tentative = False  # whether the newest point is off the stride grid

    # ------------------------------------------------------------------ recording
    def record(self, step: int, theta: npt.ArrayLike, cost: float = math.nan) -> None:
        """Offer the parameters after training step ``step``.

        Parameters
        ----------
        step
            Training step; must not be smaller than the newest recorded step
            (an equal step replaces the newest point).
        theta
            The parameters ``(n_params,)``; they are copied.
        cost
            The true cost at ``theta`` if known, else NaN.

        Raises
        ------
        ConfigError
            If ``step`` goes backwards or ``theta`` has the wrong shape.
        """
        step, value, n = int(step), self._checked(theta), self._n
        if n and step < self._steps[n - 1]:
            raise ConfigError(
                f"trajectory steps must increase: got step {step} after {self._steps[n - 1]}"
            )
        if n and step == self._steps[n - 1]:
            self._write(n - 1, step, value, cost)
            return
        if n == 0:
            self._write(0, step, value, cost)
            self._n, self._tentative = 1, False
            return
        slot = n - 1 if self._tentative else n  # a tentative head is overwritten
        if slot == len(self._thetas):
            self._decimate()
            slot = self._n - 1 if self._tentative else self._n
        self._write(slot, step, value, cost)
        self._tentative = step < self._last_kept_step() + self._stride
        self._n = slot + 1

    def _checked(self, theta: npt.ArrayLike) -> Array:
        value = np.asarray(theta)
        if value.shape != self._thetas.shape[1:]:
            raise ConfigError(f"theta must have shape {self._thetas.shape[1:]}, got {value.shape}")
        return value

    def _write(self, slot: int, step: int, value: Array, cost: float) -> None:
        np.copyto(self._thetas[slot], value, casting="same_kind")
        self._steps[slot] = step
        self._costs[slot] = cost

    def _last_kept_step(self) -> int:
        """Step of the newest point on the stride grid, not counting the slot being written."""
        n = self._n if not self._tentative else self._n - 1
        return int(self._steps[n - 1])

    def _decimate(self) -> None:
        """Keep points 0, 2, 4, ... of the grid and the newest; double the stride."""
        on_grid = self._n - 1 if self._tentative else self._n
        keep = list(range(0, on_grid, 2))
        newest = self._n - 1
        self._tentative = keep[-1] != newest
        if self._tentative:
            keep.append(newest)
        for new, old in enumerate(keep):  # new <= old: a forward in-place compaction
            if new != old:
                self._thetas[new] = self._thetas[old]
                self._steps[new] = self._steps[old]
                self._costs[new] = self._costs[old]
        self._n = len(keep)
        self._stride *= 2

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        """Most points kept (the rows of the preallocated buffer)."""
        return len(self._thetas)

    @property
    def nbytes(self) -> int:
        """Bytes of the preallocated theta buffer."""
        return int(self._thetas.nbytes)

    @property
    def stride(self) -> int:
        """Current spacing, in steps, of the kept points (a power of two)."""
        return self._stride

    @property
    def steps(self) -> Array:
        """Steps of the kept points, int64 ``(n,)`` view, increasing."""
        return self._steps[: self._n]

    @property
    def thetas(self) -> Array:
        """The kept points, ``(n, n_params)`` view of the buffer, oldest first."""
        return self._thetas[: self._n]

    @property
    def costs(self) -> Array:
        """True cost at each kept point, float64 ``(n,)`` view; NaN where unknown."""
        return self._costs[: self._n]

    @property
    def first(self) -> TrajectoryPoint:
        """The first recorded point (never dropped)."""
        return self._point(0)

    @property
    def newest(self) -> TrajectoryPoint:
        """The most recently recorded point (never dropped)."""
        return self._point(self._n - 1)

    def _point(self, index: int) -> TrajectoryPoint:
        if not self._n:
            raise IndexError("the trajectory is empty")
        theta = self._thetas[index].view()
        theta.flags.writeable = False
        return TrajectoryPoint(int(self._steps[index]), theta, float(self._costs[index]))

    def index_of(self, step: int) -> int | None:
        """Index of the kept point recorded at ``step``, or None if it is not kept."""
        i = int(np.searchsorted(self.steps, step))
        return i if i < self._n and self._steps[i] == step else None

    def set_cost(self, index: int, cost: float) -> None:
        """Store the true cost of point ``index`` (computed later, e.g. by a worker)."""
        if not -self._n <= index < self._n:
            raise IndexError(f"point {index} out of range for {self._n} points")
        self._costs[index % self._n] = cost

    def missing_cost_indices(self) -> Array:
        """Indices of the points whose cost is still unknown (NaN)."""
        return np.flatnonzero(np.isnan(self.costs))

    def clear(self) -> None:
        """Forget every point and reset the stride; the buffer is kept."""
        self._n, self._stride, self._tentative = 0, 1, False
        self._costs[:] = math.nan

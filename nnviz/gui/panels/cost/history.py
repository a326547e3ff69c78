"""Training-history buffers for the cost panel: growing arrays, EMA, peak pyramid.

A training run can last millions of mini-batches. Python lists of floats cost
~32 bytes a value and a redraw that walks them all grows with the run, so the
history lives in NumPy buffers that grow geometrically, the smoothed cost is
computed as costs arrive, and a min/max pyramid lets the plot draw about two
points per screen pixel whatever the length of the run. No Qt here.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.fileio import atomic_write

Array = npt.NDArray[Any]


class GrowingArray:
    """A 1-D NumPy buffer with amortised O(1) appends (capacity doubles).

    Parameters
    ----------
    dtype
        Element type.
    capacity
        Initial capacity (elements).
    """

    def __init__(self, dtype: npt.DTypeLike = np.float64, capacity: int = 1024) -> None:
        self._data = np.empty(max(int(capacity), 1), dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def view(self) -> Array:
        """The filled part (a view: copy it if you keep it past the next append)."""
        return self._data[: self._size]

    def append(self, values: npt.ArrayLike) -> None:
        """Append ``values`` (a scalar or a 1-D array)."""
        new = np.atleast_1d(np.asarray(values, dtype=self._data.dtype))
        end = self._size + new.size
        if end > self._data.size:
            grown = np.empty(max(end, 2 * self._data.size), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : end] = new
        self._size = end

    def clear(self) -> None:
        """Forget the contents (the capacity is kept)."""
        self._size = 0


class EmaSmoother:
    """Exponential moving average computed incrementally, chunk by chunk.

    ``s_0 = c_0`` and ``s_i = s_(i-1) + alpha * (c_i - s_(i-1))``; non-finite
    costs (a diverging run) leave the average unchanged. Each chunk is solved in
    closed form, ``s_i = (1-alpha)^(i+1) s_(-1) + alpha * sum_j (1-alpha)^(i-j) c_j``,
    in sub-chunks short enough that ``(1-alpha)^-L`` stays below 1e6.
    """

    def __init__(self, alpha: float = 0.02) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        self.alpha = alpha
        self._decay = 1.0 - alpha
        block = 6 * math.log(10) / -math.log(self._decay) if alpha < 1.0 else 1024
        self._block = int(min(max(block, 1), 1024))
        self.last: float | None = None

    def reset(self) -> None:
        """Start a new average."""
        self.last = None

    def smooth(self, costs: Array) -> Array:
        """The smoothed values of ``costs``, continuing from the previous call."""
        costs = np.asarray(costs, dtype=np.float64)
        out = np.empty_like(costs)
        for start in range(0, costs.size, self._block):
            out[start : start + self._block] = self._smooth_block(
                costs[start : start + self._block]
            )
        return out

    def _smooth_block(self, c: Array) -> Array:
        finite = np.isfinite(c)
        first = 0
        if self.last is None:
            if not finite.any():
                return np.full_like(c, np.nan)
            first = int(np.argmax(finite))
            self.last = float(c[first])
        c = np.where(finite, c, 0.0)
        # non-finite entries keep the average: their weight is 0 and no decay applies
        decay = np.where(finite, self._decay, 1.0)
        power = np.cumprod(decay)  # (1-alpha)^(number of finite entries so far)
        out = power * (self.last + np.cumsum(self.alpha * c / power))
        out[:first] = np.nan  # nothing to average before the first finite cost
        self.last = float(out[-1])
        return out


class PeakPyramid:
    """Min/max of a growing series over blocks of ``2**k`` samples, k = 1, 2, ...

    Level ``k`` holds the minimum and maximum of every complete block of
    ``2**k`` samples, built from level ``k-1`` as samples arrive (NaN ignored).
    :meth:`decimate` then returns at most ~``2 * max_blocks`` points for any
    index range in time proportional to ``max_blocks``, not to the range.
    """

    def __init__(self, levels: int = 24) -> None:
        self._mins = [GrowingArray(np.float64) for _ in range(levels)]
        self._maxs = [GrowingArray(np.float64) for _ in range(levels)]
        self._values = GrowingArray(np.float64)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def values(self) -> Array:
        """The whole series (a view)."""
        return self._values.view

    def clear(self) -> None:
        """Forget everything."""
        for buf in (*self._mins, *self._maxs, self._values):
            buf.clear()

    def append(self, values: Array) -> None:
        """Add samples at the end of the series."""
        self._values.append(values)
        lower_min = lower_max = self._values.view
        for level, (mins, maxs) in enumerate(zip(self._mins, self._maxs, strict=True)):
            complete = len(lower_min) // 2
            if complete == len(mins):
                break
            pairs = slice(2 * len(mins), 2 * complete)
            low, high = lower_min[pairs], lower_max[pairs]
            if level == 0:  # an infinite cost (divergence) must not set the scale
                low = high = np.where(np.isfinite(low), low, np.nan)
            mins.append(np.fmin(low[0::2], low[1::2]))
            maxs.append(np.fmax(high[0::2], high[1::2]))
            lower_min, lower_max = mins.view, maxs.view

    def decimate(self, start: int, stop: int, max_blocks: int) -> tuple[Array, Array]:
        """Sample indices and values of samples ``[start, stop)`` to draw.

        Returns all samples when there are at most ``2 * max_blocks``; else, per
        block of the coarsest level that yields at most ``max_blocks`` blocks,
        its first index twice with its min and its max (a vertical stroke),
        then the last sample of the range.
        """
        n = len(self._values)
        start, stop = max(0, start), min(n, stop)
        if stop - start <= 2 * max_blocks:
            return np.arange(start, stop), self._values.view[start:stop]
        level = max(1, math.ceil(math.log2((stop - start) / max_blocks)))
        level = min(level, len(self._mins))
        size = 1 << level
        first, last = start // size, min(-(-stop // size), len(self._mins[level - 1]))
        mins = self._mins[level - 1].view[first:last]
        maxs = self._maxs[level - 1].view[first:last]
        tail = self._values.view[last * size : stop]  # the incomplete last block
        finite = tail[np.isfinite(tail)]
        if tail.size:
            mins = np.append(mins, finite.min() if finite.size else np.nan)
            maxs = np.append(maxs, finite.max() if finite.size else np.nan)
        index = np.repeat(np.arange(first, first + mins.size) * size, 2)
        values = np.column_stack([mins, maxs]).reshape(-1)
        # end on the newest sample itself, so the curve reaches the current step and value
        index = np.append(index, stop - 1)
        values = np.append(values, self._values.view[stop - 1])
        return index, values


CSV_HEADER = (
    "kind",
    "step",
    "epoch",
    "cost",
    "smoothed_cost",
    "test_cost",
    "test_accuracy",
    "text",
)


class CostHistory:
    """Everything the cost panel plots, in growing NumPy buffers.

    Parameters
    ----------
    smoothing
        ``alpha`` of the exponential moving average of the mini-batch costs.
    """

    def __init__(self, smoothing: float = 0.02) -> None:
        self.steps = GrowingArray(np.int64)
        self.costs = PeakPyramid()
        self.smoothed = PeakPyramid()
        self._ema = EmaSmoother(smoothing)
        self.eval_epochs = GrowingArray(np.int64, 64)
        self.eval_steps = GrowingArray(np.int64, 64)
        self.test_costs = GrowingArray(np.float64, 64)
        self.accuracies = GrowingArray(np.float64, 64)
        self.markers: list[tuple[int, str]] = []
        self.monotonic = True  # steps only increase: view ranges map to index ranges

    def __len__(self) -> int:
        return len(self.steps)

    def clear(self) -> None:
        """Forget the whole history."""
        self.steps.clear()
        self.costs.clear()
        self.smoothed.clear()
        self._ema.reset()
        for buf in (self.eval_epochs, self.eval_steps, self.test_costs, self.accuracies):
            buf.clear()
        self.markers.clear()
        self.monotonic = True

    def add_batches(self, steps: npt.ArrayLike, costs: npt.ArrayLike) -> None:
        """Append mini-batch results (``steps[i]`` had mean cost ``costs[i]``)."""
        steps = np.asarray(steps, dtype=np.int64).reshape(-1)
        costs = np.asarray(costs, dtype=np.float64).reshape(-1)
        if steps.shape != costs.shape:
            raise ValueError(f"{steps.size} steps but {costs.size} costs")
        if steps.size == 0:
            return
        last = self.steps.view[-1] if len(self.steps) else None
        if (last is not None and steps[0] <= last) or np.any(np.diff(steps) <= 0):
            self.monotonic = False
        self.steps.append(steps)
        self.costs.append(costs)
        self.smoothed.append(self._ema.smooth(costs))

    def add_evaluation(self, epoch: int, step: int, test_cost: float, accuracy: float) -> None:
        """Append one end-of-epoch test result (accuracy as a fraction)."""
        self.eval_epochs.append(epoch)
        self.eval_steps.append(step)
        self.test_costs.append(test_cost)
        self.accuracies.append(accuracy)

    def index_range(self, x0: float, x1: float) -> tuple[int, int]:
        """Indices ``[start, stop)`` of the batches in steps ``[x0, x1]``, one more each side."""
        n = len(self.steps)
        if not self.monotonic:
            return 0, n
        steps = self.steps.view
        # integer keys: a float key would make NumPy convert the whole array (2.5 ms at 1e6)
        lo = np.int64(math.floor(min(max(x0, -(2.0**62)), 2.0**62)))
        hi = np.int64(math.ceil(min(max(x1, -(2.0**62)), 2.0**62)))
        start = int(np.searchsorted(steps, lo, side="left")) - 1
        stop = int(np.searchsorted(steps, hi, side="right")) + 1
        return max(0, start), min(n, stop)

    def export_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the history as one UTF-8 CSV file, atomically.

        Columns ``kind, step, epoch, cost, smoothed_cost, test_cost,
        test_accuracy, text``; the ``kind`` says which are filled:
        ``batch`` rows (step, cost, smoothed_cost: every mini-batch, in order),
        then ``epoch`` rows (epoch, step, test_cost, test_accuracy as a fraction),
        then ``marker`` rows (step, text: a settings change). Empty cells are
        blank; floats are written exactly (shortest round-trip form).
        """
        with atomic_write(path) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(CSV_HEADER)
            self._write_batches(text)
            evaluations = zip(
                self.eval_epochs.view.tolist(),
                self.eval_steps.view.tolist(),
                self.test_costs.view.tolist(),
                self.accuracies.view.tolist(),
                strict=True,
            )
            writer.writerows(("epoch", s, e, "", "", c, a, "") for e, s, c, a in evaluations)
            writer.writerows(("marker", s, "", "", "", "", "", t) for s, t in self.markers)
            text.flush()
            text.detach()  # leave the binary handle open for atomic_write to sync and rename

    def _write_batches(self, text: io.TextIOWrapper) -> None:
        """The batch rows: numbers only, so no quoting; twice as fast as ``csv.writer``."""
        steps, costs, smoothed = self.steps.view, self.costs.values, self.smoothed.values
        for start in range(0, len(steps), 65536):  # one chunk of Python floats at a time
            chunk = slice(start, start + 65536)
            columns = (steps[chunk].tolist(), costs[chunk].tolist(), smoothed[chunk].tolist())
            rows = zip(*columns, strict=True)
            text.write("".join([f"batch,{s},,{c!r},{m!r},,,\n" for s, c, m in rows]))

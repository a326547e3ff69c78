"""Can the loss-surface picture be trusted? A traffic light, one sentence, and the figures.

A path projected onto a plane can mislead in two ways, and each has one
figure that a learner can relate to:

- **The colours under the path.** The map shows, under each projected path
  point, the cost of the network at that point *of the plane*; the network
  itself was elsewhere (off the plane), where the cost may differ. The gap
  between the two, at the worst path point, is compared with **how far the
  cost fell along the path** (the highest minus the lowest true cost): that
  fall is the story the map tells, so an error that is small beside it leaves
  the story right. Thresholds: within 10% (about one of the map's ten contour
  steps when the map spans the fall) is green, within 30% amber, more red.
- **The path's shape.** ``explained`` is the share of the path's movement
  (variance) lying in the plane. The movement off the plane is
  ``sqrt((1 - e) / e)`` times the movement on it: at ``e >= 0.8`` at most half
  as large (green), at ``e >= 0.5`` at most as large (amber), below that the
  hidden movement is the larger part and the drawn path is only its shadow
  (red).

The verdict is the worse of the two; its sentence names the reason. Until the
true costs along the path are known only the shape is judged, and a verdict
that would be green waits ("checking"). No Qt here: the panel colours it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import plain_number

Array = npt.NDArray[Any]

GOOD, ROUGH, MISLEADING, CHECKING = "good", "rough", "misleading", "checking"
HEADLINES = {GOOD: "Trustworthy", ROUGH: "Rough", MISLEADING: "Misleading", CHECKING: "Checking"}
GAP_GOOD, GAP_ROUGH = 0.10, 0.30  # worst gap as a share of the cost's fall along the path
SHAPE_GOOD, SHAPE_ROUGH = 0.8, 0.5  # share of the path's movement in the plane
_RANK = {GOOD: 0, CHECKING: 1, ROUGH: 2, MISLEADING: 3}

THRESHOLDS = (
    f"Green: the map is within {GAP_GOOD:.0%} of the true cost along the path (compared with "
    f"how far the cost fell) and the plane holds at least {SHAPE_GOOD:.0%} of the path's "
    f"movement. Amber: within {GAP_ROUGH:.0%}, at least {SHAPE_ROUGH:.0%}. Red: worse."
)


@dataclass(frozen=True)
class Gap:
    """The worst difference between the map and the true cost along the path.

    ``size`` is ``|true - map|`` at step ``step``, where the true cost was
    ``true`` and the map shows ``shown``; ``fall`` is how far the true cost
    fell along the path and ``share = size / fall``.
    """

    size: float
    step: int
    true: float
    shown: float
    fall: float

    @property
    def share(self) -> float:
        """The gap as a share of the cost's fall along the path."""
        return self.size / self.fall


@dataclass(frozen=True)
class Verdict:
    """``level`` (:data:`GOOD`, :data:`ROUGH`, :data:`MISLEADING`, :data:`CHECKING`) and words."""

    level: str
    sentence: str

    @property
    def headline(self) -> str:
        """One word: Trustworthy, Rough, Misleading or Checking."""
        return HEADLINES[self.level]


def worst_gap(steps: Array, true_costs: Array, shown_costs: Array) -> Gap | None:
    """The largest ``|true - shown|`` where both are known (None if nowhere yet)."""
    both = np.isfinite(true_costs) & np.isfinite(shown_costs)
    if not both.any():
        return None
    true, shown = true_costs[both], shown_costs[both]
    k = int(np.argmax(np.abs(true - shown)))
    known = true_costs[np.isfinite(true_costs)]
    # a path whose cost hardly moved: compare with the cost itself instead
    fall = max(float(known.max() - known.min()), 0.05 * float(np.abs(known).mean()), 1e-12)
    size = float(abs(true[k] - shown[k]))
    return Gap(size, int(np.asarray(steps)[both][k]), float(true[k]), float(shown[k]), fall)


def judge(explained: float, gap: Gap | None) -> Verdict:
    """The verdict on a picture whose plane holds ``explained`` of the path's movement."""
    shape = _shape_level(explained)
    cost = CHECKING if gap is None else _gap_level(gap.share)
    level = max(shape, cost, key=_RANK.__getitem__)
    if level == GOOD:
        assert gap is not None
        return Verdict(GOOD, (
            f"the map matches the true cost along the path within {_share(gap.share)} of "
            f"how far the cost fell, and the plane holds {_share(explained)} of its movement."
        ))  # fmt: skip
    if level == CHECKING:
        return Verdict(CHECKING, "the true cost along the path is being computed…")
    if cost == level:  # the colours are the worse problem: say where and how much
        assert gap is not None
        return Verdict(level, (
            f"at step {gap.step:,} the map shows a cost of {plain_number(gap.shown)} where "
            f"the network's was {plain_number(gap.true)} ({_share(gap.share)} of how far "
            "the cost fell): the path is off the plane there."
        ))  # fmt: skip
    hidden = "most of the path's movement is" if level == MISLEADING else "some of it is"
    return Verdict(level, (
        f"the plane holds {_share(explained)} of the path's movement; {hidden} in directions "
        "the map cannot show, so the path's turns and lengths are distorted."
    ))  # fmt: skip


def _shape_level(explained: float) -> str:
    if not math.isfinite(explained):
        return CHECKING
    return GOOD if explained >= SHAPE_GOOD else ROUGH if explained >= SHAPE_ROUGH else MISLEADING


def _gap_level(share: float) -> str:
    return GOOD if share <= GAP_GOOD else ROUGH if share <= GAP_ROUGH else MISLEADING


def _share(value: float) -> str:
    """``0.934`` as ``"93%"`` (one decimal under 10%)."""
    if not math.isfinite(value):
        return "?"
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"

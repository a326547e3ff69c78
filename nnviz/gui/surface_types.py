"""What the loss-surface worker and the surface panel exchange: settings, grids, paths.

Immutable values, safe to hand between threads, and the one-slot box the
worker publishes them through (a ping only when the box was empty).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from nnviz.core import surface

Array = npt.NDArray[Any]

PLANES = ("pca", "random", "start_to_now")
PLANE_NAMES = {
    "pca": "PCA of the path",
    "random": "random (filter-normalised)",
    "start_to_now": "start to now",
}


@dataclass(frozen=True)
class SurfaceSettings:
    """What the user chose in the surface panel."""

    plane: str = "pca"
    resolution: int = 41
    subset: int = 5_000  # a 41 x 41 grid on 5,000 images takes ~1 s (~5 s while training)
    auto_refit: bool = True
    seed: int = 0


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


class Box:
    """A thread-safe one-slot box; ``put`` says whether the reader needs a ping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: Any = None

    def put(self, item: Any) -> bool:
        with self._lock:
            empty, self._item = self._item is None, item
            return empty

    def take(self) -> Any:
        with self._lock:
            item, self._item = self._item, None
            return item


def replace_settings(settings: SurfaceSettings, **changes: Any) -> SurfaceSettings:
    """``settings`` with ``changes`` (validated)."""
    new = dataclasses.replace(settings, **changes)
    if new.plane not in PLANES:
        raise ValueError(f"unknown plane {new.plane!r}")
    return new

"""The saturation bars of the hidden-neuron panel: their sample, legend and hover text.

Under each neuron's picture a bar tells how often the neuron sits in a flat
part of its activation on a fixed sample of training images
(:func:`nnviz.core.analysis.saturation`): for sigmoid the share below 0.05
from the left and above 0.95 from the right (tanh: below -0.9 and above 0.9),
for ReLU the share where it outputs 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from nnviz.core.analysis import Saturation

Array = npt.NDArray[Any]

BAR_GAP = 1  # image pixels between a tile and its bar
BAR_HEIGHT = 3
SAMPLE_SIZE = 2000
SAMPLE_SEED = 0


def sample_training_images(train_x: Array, n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> Array:
    """The bars' fixed sample: the images ``saturation(..., sample=n, seed=seed)`` picks."""
    if n >= len(train_x):
        return np.ascontiguousarray(train_x)
    idx = np.sort(np.random.default_rng(seed).choice(len(train_x), size=n, replace=False))
    return np.ascontiguousarray(train_x[idx])


class SaturationBars(pg.BarGraphItem):
    """One bar under each tile: the lower flat share from the left, the upper from the right.

    Every bar is three rectangles of one ``BarGraphItem``: the full-width
    track, the share of images in the lower flat part (ReLU: output 0) and
    the share in the upper flat part (sigmoid above ``0.95``, tanh above 0.9).
    """

    def __init__(self) -> None:
        super().__init__(x0=np.zeros(0), y0=np.zeros(0), width=np.zeros(0), height=np.zeros(0))
        self._slots: list[QRectF] = []
        self._left = self._right = np.zeros(0)
        self.colours = (QColor(), QColor(), QColor())
        self.restyle(False)

    def set_slots(self, tiles: list[QRectF]) -> None:
        """Put one bar under each tile rectangle."""
        self._slots = tiles
        self.set_shares(None)

    def set_shares(self, result: Saturation | None) -> None:
        """Show ``result``'s shares, or hide the bars when there is none."""
        self.setVisible(result is not None and len(result.below) == len(self._slots))
        if not self.isVisible() or result is None:
            return
        relu = result.activation == "relu"
        self._left = np.asarray(result.dead if relu else result.below, dtype=np.float64)
        self._right = np.zeros_like(self._left) if relu else np.asarray(result.above, np.float64)
        self._draw()

    def shares(self) -> tuple[Array, Array]:
        """``(left, right)`` shares as drawn: bar widths divided by the tile width."""
        width = np.asarray(self.opts["width"], dtype=np.float64)
        n = len(self._slots)
        side = self._slots[0].width() if n else 1.0
        return width[n : 2 * n] / side, width[2 * n :] / side

    def _draw(self) -> None:
        x = np.array([r.x() for r in self._slots])
        y = np.array([r.bottom() + BAR_GAP for r in self._slots])
        side = self._slots[0].width() if self._slots else 0.0
        track, low, high = self.colours
        n = len(self._slots)
        self.setOpts(
            x0=np.concatenate([x, x, x + side * (1 - self._right)]),
            y0=np.tile(y, 3),
            width=np.concatenate([np.full(n, side), side * self._left, side * self._right]),
            height=np.full(3 * n, float(BAR_HEIGHT)),
            brushes=[track] * n + [low] * n + [high] * n,
            pen=None,
        )

    def restyle(self, dark: bool) -> None:
        """Colours for the light or dark palette (not the weights' blue and red)."""
        if dark:
            self.colours = (QColor(72, 75, 82), QColor(150, 160, 190), QColor(40, 190, 170))
        else:
            self.colours = (QColor(226, 228, 232), QColor(85, 95, 125), QColor(0, 150, 136))
        if self._slots and self.isVisible():
            self._draw()


def legend_html(activation: str, colours: tuple[QColor, QColor, QColor], n_images: int) -> str:
    """The lines under the mosaic that explain the bars."""
    if not n_images:
        return (
            "The saturation bars need MNIST training images: load MNIST "
            "(Random test digit or Train)."
        )
    _, low, high = colours
    swatch = '<span style="color:{}">&#9632;</span>'
    head = f"bar: share of {n_images:,} training images on which the neuron"
    if activation == "relu":
        return (
            f"{head} {swatch.format(low.name())} outputs 0 (no gradient passes). "
            "<b>dead</b>: 0 on at least 99% of them."
        )
    lo, hi = _limits_text(activation)
    return (
        f"{head} sits where its {activation} is flat (little gradient passes): "
        f"{swatch.format(low.name())} a &lt; {lo} from the left, "
        f"{swatch.format(high.name())} a &gt; {hi} from the right. "
        "<b>dead</b>: stuck on 99%."
    )


def _limits_text(activation: str) -> tuple[str, str]:
    return ("0.05", "0.95") if activation == "sigmoid" else ("-0.9", "0.9")


def neuron_text(j: int, result: Saturation | None) -> str:
    """The numbers of neuron ``j`` for the hover line and tooltip."""
    if result is None:
        return f"neuron {j}"
    n = f"{result.n_images:,} training images"
    dead = " (dead)" if result.dead_units[j] else ""
    if result.activation == "relu":
        return f"neuron {j}: a = 0 on {result.dead[j]:.0%} of {n}{dead}"
    lo, hi = _limits_text(result.activation)
    return (
        f"neuron {j}: a < {lo} on {result.below[j]:.0%}, a > {hi} on {result.above[j]:.0%} "
        f"of {n}{dead}"
    )


def short_neuron_text(j: int, result: Saturation | None) -> str:
    """:func:`neuron_text` in few words, for a narrow panel (the tooltip has it all)."""
    if result is None:
        return f"neuron {j}"
    dead = ", dead" if result.dead_units[j] else ""
    if result.activation == "relu":
        return f"neuron {j}: 0 on {result.dead[j]:.0%}{dead}"
    return f"neuron {j}: flat {result.below[j]:.0%} low, {result.above[j]:.0%} high{dead}"

"""The cost plot's axes: steps as people read them, a log cost axis of decades, accuracy in %.

pyqtgraph draws every label of its first tick level, however close: at 330 px
the step axis ran "1000020000", and a log axis labelled every digit of a
decade ("10 8 7 6 ..."). These axes pick their ticks from the room they have,
measured with the tick font, so labels never touch at any size.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from nnviz.core.errors import plain_number

#: Room between two tick labels, in pixels.
LABEL_GAP = 12.0
#: Steps between step-axis ticks: 1, 2 or 5 times a power of ten.
NICE_STEPS = (1.0, 2.0, 5.0)


def step_unit(largest: float) -> tuple[float, str]:
    """The unit of an axis whose largest step is ``largest``: one, thousands ("k"), millions."""
    if abs(largest) >= 1_000_000:
        return 1e6, "M"
    if abs(largest) >= 10_000:
        return 1e3, "k"
    return 1.0, ""


def step_text(value: float, largest: float | None = None) -> str:
    """A step number as people read it, in the unit of an axis reaching ``largest``:
    ``"800"``, ``"5000"``; ``"5k"``, ``"20k"``; ``"1.5M"``."""
    unit, suffix = step_unit(value if largest is None else largest)
    v = round(value)
    return f"{v / unit:g}{suffix}" if v else "0"


def _font_metrics(axis: pg.AxisItem) -> QFontMetricsF:
    font = axis.style.get("tickFont")
    return QFontMetricsF(font if font is not None else QFont())


def step_spacing(low: float, high: float, pixels: float, metrics: QFontMetricsF) -> float:
    """The smallest 1-2-5 spacing whose tick labels keep ``LABEL_GAP`` pixels apart."""
    span = max(high - low, 1.0)
    decade = 10.0 ** math.floor(math.log10(span))
    for power in (decade / 1000, decade / 100, decade / 10, decade, decade * 10):
        for m in NICE_STEPS:
            spacing = max(m * power, 1.0)
            gap = spacing * pixels / span  # pixels between two ticks
            if gap < LABEL_GAP + 6:  # not even room for a digit
                continue
            ticks = np.arange(math.ceil(low / spacing) * spacing, high + 1e-9, spacing)
            texts = [step_text(v, high) for v in ticks]
            widest = max((metrics.horizontalAdvance(t) for t in texts), default=0.0)
            if gap >= widest + LABEL_GAP:
                return spacing
    return 10.0 * decade


class StepAxis(pg.AxisItem):
    """The step axis: whole steps, as few ticks as keep their labels apart."""

    def __init__(self, orientation: str = "bottom") -> None:
        # the first and last labels may reach into the corners beside the axis
        super().__init__(orientation)
        self.setStyle(hideOverlappingLabels=16)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """One level of ticks (no minor ticks: they add nothing to a step count)."""
        return [(step_spacing(minVal, maxVal, size, _font_metrics(self)), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """``"20k"`` rather than ``"20000"`` (or ``"2e+04"``), one unit for the axis."""
        largest = max((abs(v * scale) for v in values), default=0.0)
        return [step_text(v * scale, largest) for v in values]


def log_ticks(low: float, high: float, pixels: float, text_height: float) -> list[float]:
    """Tick positions (log10 units) on a log axis: decades, and 2 and 5 when there is room.

    ``low`` and ``high`` are the visible range in log10 units, ``pixels`` its
    length on screen; the ticks are at least a label's height plus a gap apart.
    """
    span = max(high - low, 1e-9)
    per_decade = pixels / span  # pixels per factor of ten
    room = text_height + LABEL_GAP / 2
    first, last = math.floor(low), math.ceil(high)
    mantissas: tuple[float, ...] = (1.0,)
    # log10(2) = 0.30 and log10(5/2) = 0.40: both gaps must hold a label
    if per_decade * math.log10(2) >= room:
        mantissas = (1.0, 2.0, 5.0)
    step = 1
    while per_decade * step < room and step < 64:  # decades too close: every 2nd, 4th ...
        step *= 2
    ticks = [
        math.log10(m) + k
        for k in range(first, last + 1)
        if step == 1 or k % step == 0
        for m in mantissas
    ]
    return [t for t in ticks if low - 1e-9 <= t <= high + 1e-9]


class CostAxis(pg.AxisItem):
    """The cost axis: pyqtgraph's in linear mode; decades (and 2, 5) in log mode."""

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        """Log mode: one level of :func:`log_ticks`; linear: pyqtgraph's."""
        if not self.logMode:
            return list(super().tickValues(minVal, maxVal, size))
        low, high = sorted((minVal, maxVal))
        return [(1.0, log_ticks(low, high, size, _font_metrics(self).height()))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Log mode: the cost itself, written plainly (``"0.01"``, ``"2"``)."""
        if not self.logMode:
            return list(super().tickStrings(values, scale, spacing))
        return [plain_number(float(10.0**v)) for v in np.asarray(values, dtype=np.float64)]


class PercentAxis(pg.AxisItem):
    """The accuracy axis: values are percent; it stays linear when the cost axis goes log."""

    def setLogMode(self, *args: object, **kwargs: object) -> None:
        """Ignore log mode (``PlotItem`` switches every axis; accuracy stays linear)."""
        super().setLogMode(False, False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Ticks as ``"95%"`` (one decimal when ticks are closer than 1%)."""
        decimals = 0 if spacing >= 1 else 1
        return [f"{v:.{decimals}f}%" for v in values]

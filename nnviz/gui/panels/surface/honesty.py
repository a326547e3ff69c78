"""How far to trust the loss-surface picture: figures in words, and a cost comparison chart.

A path projected onto a plane can mislead: the network never was at the
projected points, so the colour under the path need not be the cost it met.
The panel therefore gives a verdict (:mod:`.verdict`: a traffic light and
one sentence), the figures behind it in words (how much of the path's
movement the plane holds, how far the real points are from it, how far the
map is off the true cost), and draws the true cost at the path points beside
the cost the map shows at their projections.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor

from nnviz.core.errors import plain_number
from nnviz.engine.messages import PathView, SurfaceGrid
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import Extent, follow_extent
from nnviz.gui.panels.surface.grid import log_ticks
from nnviz.gui.panels.surface.toolbar import PLANE_NAMES
from nnviz.gui.panels.surface.verdict import (
    CHECKING,
    GOOD,
    MISLEADING,
    ROUGH,
    THRESHOLDS,
    Gap,
    Verdict,
)

Array = npt.NDArray[Any]

# Okabe-Ito: distinguishable with every common colour-vision deficiency
TRUE_LIGHT, TRUE_DARK = QColor(213, 94, 0), QColor(230, 130, 50)
SURFACE_LIGHT, SURFACE_DARK = QColor(0, 114, 178), QColor(86, 180, 233)
TRUE_LABEL = "true cost at the path points"
SURFACE_LABEL = "the map at their projections"
VERDICT_COLOURS = {  # Okabe-Ito bluish green, orange, vermillion; grey while checking
    GOOD: QColor(0, 158, 115),
    ROUGH: QColor(230, 159, 0),
    MISLEADING: QColor(213, 94, 0),
    CHECKING: QColor(128, 128, 128),
}


def percent(value: float) -> str:
    """``0.934`` as ``"93%"`` (one decimal under 10%); ``"?"`` for NaN."""
    if not math.isfinite(value):
        return "?"
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def number(value: float) -> str:
    """A distance or cost as people write it (never ``1.3e+02``); ``"?"`` for NaN."""
    return plain_number(value) if math.isfinite(value) else "?"


def explained_now(grid: SurfaceGrid, path: PathView | None) -> float:
    """The share of the path's movement in the plane now (when fitted, if not known now)."""
    now = path.explained if path is not None and path.fit == grid.fit else math.nan
    return now if math.isfinite(now) else grid.explained


def plane_text(grid: SurfaceGrid, path: PathView | None) -> str:
    """Which plane, and the share of the path's movement it holds (now and when fitted)."""
    name = PLANE_NAMES.get(grid.kind, grid.kind)
    now = path.explained if path is not None and path.fit == grid.fit else math.nan
    if math.isfinite(now):
        share = f"{percent(now)} of the path's movement ({percent(grid.explained)} when fitted)"
    else:
        share = f"{percent(grid.explained)} of the path's movement when it was fitted"
    return (
        f"{name[0].upper()}{name[1:]}: the plane holds {share}; the rest is in "
        "directions the map cannot show."
    )


def distance_text(grid: SurfaceGrid, path: PathView | None) -> str:
    """How far the real path points are from the plane, beside the map's own size."""
    if path is None or not np.isfinite(path.distances).any():
        return "The path is projected onto the plane when the surface is ready."
    unit = map_unit(grid)
    d = path.distances[np.isfinite(path.distances)] / unit
    width = float(grid.a[-1] - grid.a[0]) if len(grid.a) > 1 else math.nan
    return (
        f"Path points lie up to {number(float(d.max()))} (median {number(float(np.median(d)))}) "
        f"off the plane, in the map's units: the map is {number(width)} across and the path "
        f"on it is {number(path.path_length)} long."
    )


def map_unit(grid: SurfaceGrid) -> float:
    """Parameter-space length of one unit along the map's first axis (1 for unit directions)."""
    if grid.plane is None:
        return 1.0
    length = float(np.linalg.norm(grid.plane.d1))
    return length if length > 0 else 1.0


def gap_text(gap: Gap | None) -> str:
    """The worst difference between the map and the true cost along the path, in words."""
    if gap is None:
        return "The true costs along the path are being computed…"
    return (
        f"Along the path the map's colour is off the true cost by up to {number(gap.size)} "
        f"(at step {gap.step:,}: {number(gap.shown)} shown, {number(gap.true)} true), "
        f"{percent(gap.share)} of the {number(gap.fall)} the cost fell along the path."
    )


def details_text(grid: SurfaceGrid, path: PathView | None, gap: Gap | None) -> str:
    """The figures behind the verdict, one per line (the verdict's tooltip)."""
    return "\n".join([plane_text(grid, path), distance_text(grid, path), gap_text(gap), THRESHOLDS])


def grid_text(grid: SurfaceGrid) -> str:
    """What the colours are computed from: the grid, the images, how long it took."""
    return (
        f"{len(grid.a)}\N{MULTIPLICATION SIGN}{len(grid.b)} grid, mean cost over "
        f"{grid.subset:,} images ({number(round(grid.seconds, 1))} s)"
    )


def cost_name(cost: str) -> str:
    """The cost function in a few words."""
    return {"quadratic": "quadratic cost", "cross_entropy": "cross-entropy cost"}.get(cost, cost)


def verdict_html(verdict: Verdict, dark: bool) -> str:
    """The traffic light: a coloured dot, the verdict's word in bold, its sentence."""
    colour = VERDICT_COLOURS[verdict.level]
    if dark:
        colour = colour.lighter(125)
    return (
        f'<span style="color:{colour.name()}">\N{BLACK CIRCLE}</span> '
        f"<b>{html.escape(verdict.headline)}</b>: {html.escape(verdict.sentence)}"
    )


def legend_html(dark: bool) -> str:
    """The chart's legend, as a line of text above it (it never covers the data)."""
    true, shown = chart_colours(dark)
    return (
        f'<span style="color:{true.name()}"><b>\N{EM DASH}\N{EM DASH}</b></span> {TRUE_LABEL} '
        f'&nbsp; <span style="color:{shown.name()}"><b>- -</b></span> {SURFACE_LABEL}'
    )


def chart_colours(dark: bool) -> tuple[QColor, QColor]:
    """``(true cost, surface)`` line colours."""
    return (TRUE_DARK, SURFACE_DARK) if dark else (TRUE_LIGHT, SURFACE_LIGHT)


class ComparisonChart(pg.PlotWidget):
    """True cost at the path points against the surface at their projections, by step."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        plot = self.plot_item = plots.quiet(self.getPlotItem())
        plot.disableAutoRange()
        plot.setContentsMargins(2, 4, 2, 2)
        self.setToolTip(
            "x: training step. Where the two lines part, the surface under the path\n"
            "is not the cost the network met: its points lie off the plane."
        )
        plot.getAxis("left").setWidth(42)
        self.true_line = pg.PlotCurveItem(connect="finite")
        self.true_dots = pg.ScatterPlotItem(size=3.5, pen=None)
        self.surface_line = pg.PlotCurveItem(connect="finite")
        for z, item in enumerate((self.surface_line, self.true_line, self.true_dots)):
            item.setZValue(z)
            plot.addItem(item)
        self.setAccessibleName("True cost against the map along the path")
        self.setAccessibleDescription(
            f"By training step: the {TRUE_LABEL} (solid) and {SURFACE_LABEL} (dashed); "
            "where they part, the map's colour under the path is not the cost the network met."
        )
        self.log = False
        self._dots: tuple[Array, Array] | None = None
        self._extent: Extent | None = None

    def sizeHint(self) -> QSize:
        """A fixed wish (a graphics view's own hint follows its current size)."""
        return QSize(420, 100)

    def set_data(self, steps: Array, true_costs: Array, surface_costs: Array) -> None:
        """Draw both series (NaN where unknown or off the grid).

        The lines get about a point per pixel; the dots mark every point
        whose true cost is known (redrawn only when that changes). On a log
        axis the items hold log10 of the costs (pyqtgraph's log mode only
        transforms ``PlotDataItem``s).
        """
        x = np.asarray(steps, dtype=np.float64)
        raw = np.concatenate([true_costs, surface_costs])
        true_costs, surface_costs = self._shown(true_costs), self._shown(surface_costs)
        every = max(1, math.ceil(len(x) / max(self.plot_item.vb.width(), 100)))
        thin = np.unique(np.append(np.arange(0, len(x), every), len(x) - 1)) if len(x) else x[:0]
        thin = thin.astype(int)
        self.true_line.setData(x[thin], true_costs[thin])  # gaps where not yet computed
        self.surface_line.setData(x[thin], surface_costs[thin])
        known = np.isfinite(true_costs)
        dots = (x[known], true_costs[known])
        if self._dots is None or not all(
            np.array_equal(u, v) for u, v in zip(dots, self._dots, strict=True)
        ):
            self._dots = dots
            self.true_dots.setData(*dots)
        self._fit_view(x, raw)

    def _shown(self, costs: Array) -> Array:
        """Costs in the axis' units: themselves, or log10 (NaN for none > 0)."""
        if not self.log:
            return costs
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(costs > 0, np.log10(costs), np.nan)

    def data(self) -> tuple[Array, Array, Array, Array]:
        """``(true x, true cost, surface x, surface cost)`` as drawn (log10 on a log axis)."""
        tx, ty = self.true_line.getData()
        sx, sy = self.surface_line.getData()
        empty = np.zeros(0)
        return tuple(empty if v is None else v for v in (tx, ty, sx, sy))  # type: ignore[return-value]

    def set_log(self, log: bool) -> None:
        """A logarithmic cost axis (as the map's colours)."""
        self.log = log
        self._extent = self._dots = None

    def _fit_view(self, steps: Array, costs: Array) -> None:
        """Both axes grow in nice jumps, so the axes re-tick rarely."""
        x, y = follow_extent(self._extent, steps, costs, self.log)
        if (x, y) != self._extent:
            self._extent = (x, y)
            self.plot_item.vb.setRange(xRange=x, yRange=y, padding=0.02)
            # a log axis labels every minor tick of a short range: label 1-2-5 costs only
            self.plot_item.getAxis("left").setTicks([log_ticks(*y)] if self.log else None)

    def restyle(self, dark: bool) -> None:
        """Follow the light or dark palette."""
        plots.restyle(self, dark, *plots.axes_of(self.plot_item))
        true, surface = chart_colours(dark)
        self.true_line.setPen(pg.mkPen(true, width=2))
        self.true_dots.setBrush(pg.mkBrush(true))
        self.surface_line.setPen(pg.mkPen(surface, width=2, style=Qt.PenStyle.DashLine))

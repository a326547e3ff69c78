"""How far to trust the loss-surface picture: figures in words, and a cost comparison chart.

A path projected onto a plane can mislead: the network never was at the
projected points, so the colour under the path need not be the cost it met.
The panel therefore says how much of the path's movement the plane explains,
how far the real points are from it, and draws the true cost at the path
points beside the cost the surface shows at their projections.
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

from nnviz.engine.messages import PathView, SurfaceGrid
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import Extent, follow_extent
from nnviz.gui.panels.surface.grid import log_ticks
from nnviz.gui.panels.surface.toolbar import PLANE_NAMES

Array = npt.NDArray[Any]

# Okabe-Ito: distinguishable with every common colour-vision deficiency
TRUE_LIGHT, TRUE_DARK = QColor(213, 94, 0), QColor(230, 130, 50)
SURFACE_LIGHT, SURFACE_DARK = QColor(0, 114, 178), QColor(86, 180, 233)
WARNING = QColor(213, 94, 0)
TRUE_LABEL = "true cost at the path points"
SURFACE_LABEL = "surface at their projections"
POORLY_EXPLAINED = 0.5  # below this share of the variance the picture gets a warning


def percent(value: float) -> str:
    """``0.934`` as ``"93%"`` (one decimal under 10%); ``"?"`` for NaN."""
    if not math.isfinite(value):
        return "?"
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def number(value: float, digits: int = 3) -> str:
    """A distance or cost with ``digits`` significant digits."""
    return f"{value:.{digits}g}" if math.isfinite(value) else "?"


def plane_text(grid: SurfaceGrid, path: PathView | None) -> str:
    """Which plane, and the share of the path's variance it explains (now and when fitted)."""
    name = PLANE_NAMES.get(grid.kind, grid.kind)
    now = path.explained if path is not None and path.fit == grid.fit else math.nan
    if math.isfinite(now):
        share = f"{percent(now)} of the path's variance ({percent(grid.explained)} when fitted)"
    else:
        share = f"{percent(grid.explained)} of the path's variance when it was fitted"
    return f"{name[0].upper()}{name[1:]}: the plane holds {share}."


def distance_text(path: PathView | None) -> str:
    """How far the real path points are from the plane, and how long the projected path is."""
    if path is None or not np.isfinite(path.distances).any():
        return "The path is projected onto the plane when the surface is ready."
    d = path.distances[np.isfinite(path.distances)]
    # two digits: enough to judge, and the text (a re-layout) changes less often
    far, median = number(float(d.max()), 2), number(float(np.median(d)), 2)
    return (
        f"Path points lie up to {far} (median {median}) off the plane; "
        f"the projected path is {number(path.path_length, 2)} long."
    )


def grid_text(grid: SurfaceGrid) -> str:
    """What the colours are computed from: the grid, the images, how long it took."""
    return (
        f"{len(grid.a)}\N{MULTIPLICATION SIGN}{len(grid.b)} grid, exact mean over "
        f"{grid.subset:,} training images ({grid.seconds:.1f} s)"
    )


def cost_name(cost: str) -> str:
    """The cost function in a few words."""
    return {"quadratic": "quadratic cost", "cross_entropy": "cross-entropy cost"}.get(cost, cost)


def warning_text(grid: SurfaceGrid, path: PathView | None) -> str:
    """A plain warning when the plane explains little of the path, else ``""``."""
    explained = path.explained if path is not None and path.fit == grid.fit else grid.explained
    if math.isfinite(explained) and explained < POORLY_EXPLAINED:
        return (
            "Most of the path's movement is not in this plane: the colour under "
            "the path is not the cost the network met (see the chart)."
        )
    return ""


def gap_text(true_costs: Array, surface_costs: Array) -> str:
    """The largest difference between the true cost and the surface along the path."""
    both = np.isfinite(true_costs) & np.isfinite(surface_costs)
    if not both.any():
        return "The true costs along the path are being computed…"
    gap = np.abs(true_costs[both] - surface_costs[both])
    k = int(np.argmax(gap))
    relative = gap[k] / max(abs(float(true_costs[both][k])), 1e-12)
    return (
        f"Along the path the surface is off the true cost by up to {number(float(gap[k]), 2)} "
        f"({percent(relative)})."
    )


def honesty_html(grid: SurfaceGrid, path: PathView | None, gap: str, dark: bool) -> str:
    """The honesty lines under the map as rich text (``gap`` from :func:`gap_text`)."""
    lines = [plane_text(grid, path), distance_text(path), gap]
    body = "<br>".join(html.escape(line) for line in lines)
    warning = warning_text(grid, path)
    if warning:
        colour = WARNING.lighter(130) if dark else WARNING
        text = f"\N{WARNING SIGN} {html.escape(warning)}"
        body += f'<br><span style="color:{colour.name()}">{text}</span>'
    return body


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
        self.legend = pg.LegendItem(offset=(-4, 2), verSpacing=-6, labelTextSize="8pt")
        self.legend.setParentItem(plot.vb)
        self.legend.addItem(self.true_line, TRUE_LABEL)
        self.legend.addItem(self.surface_line, SURFACE_LABEL)
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
        background, foreground = plots.restyle(self, dark, *plots.axes_of(self.plot_item))
        true, surface = chart_colours(dark)
        self.true_line.setPen(pg.mkPen(true, width=2))
        self.true_dots.setBrush(pg.mkBrush(true))
        self.surface_line.setPen(pg.mkPen(surface, width=2, style=Qt.PenStyle.DashLine))
        plate = QColor(background)
        plate.setAlpha(235)  # readable over the lines it may cross
        self.legend.setBrush(pg.mkBrush(plate))
        self.legend.setLabelTextColor(foreground)
        for sample, label in self.legend.items:  # labels keep the colour they were made with
            label.setText(label.text, color=foreground)
            sample.update()

"""Settings changes on the cost curve: a dashed line each, and labels that never overlap.

Each change (``"lr 0.001"``, ``"batch 64"``) is a dashed vertical line and a
label at the top of the plot, right of its line. Changes close together on
screen share one label, one line per change (a stack), so no two labels
overlap; a label that would leave the plot on the right moves left. The
labels are laid out again whenever the view moves or resizes (rarely: the
view follows the run in jumps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetricsF

from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import FastLabel

#: Pixels between a line and its label, and between two labels.
OFFSET, GAP = 3.0, 6.0
#: A stack longer than this many lines ends with "+ n more" (the rest in its tooltip).
MAX_LINES = 4
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass
class Cluster:
    """Changes that share one label: their indices and the label's left edge (pixels)."""

    members: list[int] = field(default_factory=list)
    left: float = 0.0
    width: float = 0.0

    @property
    def right(self) -> float:
        """The label's right edge (pixels)."""
        return self.left + self.width


def place_labels(xs: list[float], widths: list[float], right: float) -> list[Cluster]:
    """Group labels of lines at pixels ``xs`` (ascending) so that no two labels overlap.

    A label starts ``OFFSET`` right of its line, moves left to end before
    ``right``; a label that would touch the previous one joins it (a stack,
    as wide as its widest line).
    """
    clusters: list[Cluster] = []
    for i, (x, width) in enumerate(zip(xs, widths, strict=True)):
        clusters.append(Cluster([i], min(x + OFFSET, right - width), width))
        while len(clusters) > 1 and clusters[-1].left < clusters[-2].right + GAP:
            last = clusters.pop()
            into = clusters[-1]
            into.members += last.members
            into.width = max(into.width, last.width)
            into.left = max(0.0, min(into.left, right - into.width))
    return clusters


def stack_text(texts: list[str]) -> tuple[str, str]:
    """The text of a stack of changes (at most ``MAX_LINES`` lines) and its tooltip."""
    if len(texts) <= MAX_LINES:
        return "\n".join(texts), ""
    shown = [*texts[: MAX_LINES - 1], f"+ {len(texts) - MAX_LINES + 1} more"]
    return "\n".join(shown), "\n".join(texts)


class MarkerLayer:
    """The settings-change lines and their labels on a plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.markers: list[tuple[int, str]] = []
        self.lines: list[pg.InfiniteLine] = []
        self.labels: list[FastLabel] = []
        self._background = QColor("white")
        self._foreground = QColor("black")
        plot.vb.sigRangeChanged.connect(self.layout)
        plot.vb.sigResized.connect(self.layout)

    def add(self, step: int, text: str) -> None:
        """A change at ``step``: its line now, its label at the next layout."""
        line = pg.InfiniteLine(pos=step, angle=90, movable=False)
        line.setPen(pg.mkPen(self._foreground, width=1, style=Qt.PenStyle.DashLine))
        self.plot.addItem(line, ignoreBounds=True)
        self.markers.append((step, text))
        self.lines.append(line)
        self.layout()

    def clear(self) -> None:
        """Remove every line and label."""
        for item in [*self.lines, *self.labels]:
            self.plot.removeItem(item)
        self.markers.clear()
        self.lines.clear()
        self.labels.clear()

    def restyle(self, dark: bool) -> None:
        """The palette's colours for lines and labels."""
        self._background, self._foreground = theme.plot_colours(dark)
        for line in self.lines:
            line.setPen(pg.mkPen(self._foreground, width=1, style=Qt.PenStyle.DashLine))
        for label in self.labels:
            self._style(label)

    def _style(self, label: FastLabel) -> None:
        plate = QColor(self._background)
        plate.setAlpha(215)  # readable over the curves it crosses
        label.setColor(self._foreground)
        label.set_plate(plate, self._foreground)

    def layout(self) -> None:
        """Place the labels for the view as it is now."""
        vb = self.plot.vb
        (x0, x1), (_, y1) = vb.viewRange()
        pixels = vb.width()
        if pixels <= 0 or x1 <= x0 or not self.markers:
            self._show([], [], 0.0, 0.0, 0.0)
            return
        per_px = (x1 - x0) / pixels
        order = sorted(range(len(self.markers)), key=lambda i: self.markers[i][0])
        visible = [i for i in order if x0 <= self.markers[i][0] <= x1]
        metrics = QFontMetricsF(plots.small_font())
        xs = [(self.markers[i][0] - x0) / per_px for i in visible]
        widths = [metrics.horizontalAdvance(self.markers[i][1]) + 2 * plots.PAD for i in visible]
        clusters = place_labels(xs, widths, pixels - 1.0)
        texts = [[self.markers[visible[m]][1] for m in c.members] for c in clusters]
        self._show(clusters, texts, x0, per_px, y1)

    def _show(
        self, clusters: list[Cluster], texts: list[list[str]], x0: float, per_px: float, top: float
    ) -> None:
        while len(self.labels) < len(clusters):
            label = plots.add_label(
                self.plot, anchor=(0.0, 0.0), font=plots.small_font(), align=LEFT, z=20
            )
            self._style(label)
            self.labels.append(label)
        for label, cluster, lines in zip(self.labels, clusters, texts, strict=False):
            text, tip = stack_text(lines)
            label.setText(text)
            label.setToolTip(tip)
            label.setPos(x0 + cluster.left * per_px, top)
            label.setVisible(True)
        for label in self.labels[len(clusters) :]:
            label.setVisible(False)

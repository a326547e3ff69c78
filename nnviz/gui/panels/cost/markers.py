"""Settings changes on the cost curve: a dashed line each, and labels that never overlap.

Each change (``"lr 0.001"``, ``"batch 64"``) is a dashed vertical line and a
label at the top of the plot, right of its line. Changes close together on
screen share one label, one line per change (a stack), so no two labels
overlap; a label that would leave the plot on the right moves left. The
labels are laid out again whenever the view moves or resizes (rarely: the
view follows the run in jumps).
"""

from __future__ import annotations

import math
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
#: At most this many rows of labels (and no more than fill half the plot's height).
MAX_ROWS = 3
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass
class Cluster:
    """Changes that share one label: their indices, its row and left edge (pixels)."""

    members: list[int] = field(default_factory=list)
    left: float = 0.0
    width: float = 0.0
    row: int = 0

    @property
    def right(self) -> float:
        """The label's right edge (pixels)."""
        return self.left + self.width


def place_labels(xs: list[float], widths: list[float], right: float, rows: int) -> list[Cluster]:
    """Labels of lines at pixels ``xs`` (ascending) in ``rows`` rows, no two overlapping.

    A label starts ``OFFSET`` right of its line (moved left to end before
    ``right``) in the first row where it clears the row's last label by
    ``GAP``. When no row has room it joins the last label of the bottom row,
    one line more (a stack that grows downwards, where no row lies).
    """
    placed: list[list[Cluster]] = [[] for _ in range(max(rows, 1))]
    for i, (x, width) in enumerate(zip(xs, widths, strict=True)):
        left = max(0.0, min(x + OFFSET, right - width))
        row = next((r for r, rs in enumerate(placed) if not rs or rs[-1].right + GAP <= left), None)
        if row is not None:
            placed[row].append(Cluster([i], left, width, row))
            continue
        bottom = placed[-1]
        bottom[-1].members.append(i)
        bottom[-1].width = max(bottom[-1].width, width)
        _settle(bottom, right)
    return [cluster for row_clusters in placed for cluster in row_clusters]


def _settle(row: list[Cluster], right: float) -> None:
    """Keep the row's last label inside ``right``, merging it leftwards while it touches."""
    last = row[-1]
    last.left = max(0.0, min(last.left, right - last.width))
    while len(row) > 1 and row[-1].left < row[-2].right + GAP:
        gone, into = row.pop(), row[-1]
        into.members += gone.members
        into.width = max(into.width, gone.width)
        into.left = max(0.0, min(into.left, right - into.width))


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
        width, height = vb.width(), vb.height()
        if width <= 0 or x1 <= x0 or not self.markers:
            self._show([], [], (0.0, 0.0, 0.0, 0.0))
            return
        per_px, per_px_y = vb.viewPixelSize()
        order = sorted(range(len(self.markers)), key=lambda i: self.markers[i][0])
        visible = [i for i in order if x0 <= self.markers[i][0] <= x1]
        metrics = QFontMetricsF(plots.small_font())
        pitch = math.ceil(metrics.lineSpacing()) + 2 * plots.PAD + 1  # one row of labels
        xs = [(self.markers[i][0] - x0) / per_px for i in visible]
        widths = [metrics.horizontalAdvance(self.markers[i][1]) + 2 * plots.PAD for i in visible]
        rows = min(MAX_ROWS, max(1, int(0.5 * height // pitch)))
        clusters = place_labels(xs, widths, width - 1.0, rows)
        texts = [[self.markers[visible[m]][1] for m in c.members] for c in clusters]
        self._show(clusters, texts, (x0, per_px, y1, pitch * per_px_y))

    def _show(
        self, clusters: list[Cluster], texts: list[list[str]], frame: tuple[float, ...]
    ) -> None:
        """Show ``clusters``; ``frame``: first step, steps a pixel, top, a row's height."""
        x0, per_px, top, row_height = frame
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
            label.setPos(x0 + cluster.left * per_px, top - cluster.row * row_height)
            label.setVisible(True)
        for label in self.labels[len(clusters) :]:
            label.setVisible(False)

"""Loss surface: the SGD path on a 2-D slice of the cost landscape, while the network trains.

The :class:`~nnviz.gui.surface_controller.SurfaceController` (made by the main
window) feeds a worker thread that records the path, fits a plane through
parameter space (Li et al. 2018: PCA of the path, filter-normalised random
directions, or start to now) and evaluates the exact cost on a grid of it.
This panel only renders what comes back and sends the user's settings:

- the cost on the plane as a heatmap with contours and a colour bar (linear
  or log colours), the projected path coloured from old to new, its start and
  the current point; hovering reads the cost at a grid point;
- honesty: how much of the path's movement the plane explains, how far the
  real points are from it, and a chart of the true cost at the path points
  against the cost the surface shows at their projections.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QResizeEvent, QTextDocumentFragment
from PySide6.QtWidgets import (
    QBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.engine.messages import PathView, SurfaceGrid, SurfaceSettings
from nnviz.gui.layoutgate import LayoutGate
from nnviz.gui.panels.surface.grid import bilinear
from nnviz.gui.panels.surface.honesty import (
    SURFACE_LABEL,
    TRUE_LABEL,
    ComparisonChart,
    details_text,
    explained_now,
    grid_text,
    legend_html,
    number,
    verdict_html,
)
from nnviz.gui.panels.surface.map import SurfaceMap, nearest_node
from nnviz.gui.panels.surface.toolbar import SurfaceToolbar
from nnviz.gui.panels.surface.verdict import Verdict, judge, worst_gap
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.settings import SurfaceChoice
from nnviz.gui.state import AppState
from nnviz.gui.surface_controller import SurfaceController

SIDE_BY_SIDE = 1.3  # wider than this times the height: the figures go beside the map
HOVER_HINT = "hover the map to read the cost at a grid point"
READOUT_LINES = 2  # the read-out keeps room for two lines (a narrow panel wraps it)


class SurfacePanel(QWidget):
    """The cost landscape on a plane through parameter space, with the SGD path on it.

    Parameters
    ----------
    state
        The application state (new network, data set, appearance).
    controller
        Feeds the surface worker; the panel renders its ``grid_changed`` /
        ``path_changed`` results and sends settings through ``configure``.
    parent
        Optional parent widget.
    """

    title = "Loss surface"

    def __init__(
        self, state: AppState, controller: SurfaceController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state, self.controller = state, controller
        self.log = False
        self.surface_costs = np.zeros(0)  # the surface at the drawn path's projections
        self._shown_path: PathView | None = None
        self._honesty_html = ""
        self._hover = self._failure = ""  # the read-out's hovered point, the last refit failure
        self.judged: Verdict | None = None
        self._rows = controller.rows  # the surface being computed: rows done, rows
        self._build_toolbar()
        self._build_content()
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(self.toolbar)
        layout.addWidget(self._stack, 1)
        controller.grid_changed.connect(self.show_grid)
        controller.path_changed.connect(self.show_path)
        controller.progress.connect(self._progress_changed)
        controller.failed.connect(self._failed)
        controller.settings_changed.connect(self._sync_controls)
        state.network_replaced.connect(self._network_replaced)
        state.dataset_loaded.connect(self._update_hint)
        state.appearance_changed.connect(self._restyle)
        self.setAccessibleName("Loss surface")
        self.setAccessibleDescription(
            "The cost of the network on a plane through its parameters, with the path "
            "training took, a verdict on how far the picture can be trusted, and a chart of the "
            "true cost along the path against the map."
        )
        self._restyle()
        self._progress_changed(*controller.rows)
        self.show_grid(controller.grid)

    # ------------------------------------------------------------------ building
    def _build_toolbar(self) -> None:
        self.toolbar = SurfaceToolbar()
        bar = self.toolbar
        self.plane_box, self.resolution_box, self.subset_box = (
            bar.plane_box,
            bar.resolution_box,
            bar.subset_box,
        )
        self.auto_box, self.log_box, self.refit_button = bar.auto_box, bar.log_box, bar.refit_button
        bar.show_settings(self.controller.settings)
        for box, name in ((self.plane_box, "plane"), (self.resolution_box, "resolution"),
                          (self.subset_box, "subset")):  # fmt: skip
            box.activated.connect(lambda _i, b=box, n=name: self._configure(**{n: b.currentData()}))
        self.auto_box.toggled.connect(lambda on: self._configure(refit=False, auto_refit=on))
        self.log_box.toggled.connect(self.set_log_scale)
        self.refit_button.clicked.connect(self.controller.refit)

    def _build_content(self) -> None:
        self.map = SurfaceMap()
        self.map.setMinimumSize(200, 120)
        self.map.hovered.connect(self._hovered)
        self.chart = ComparisonChart()
        self.chart.setMinimumHeight(64)
        # one line of room per text that changes as the mouse moves or the grid is computed:
        # the hover read-out, or else the progress, or else what the grid is (never overlapping).
        # A plain label, not a QProgressBar: QProgressBar.setValue repaints at
        # once, which forces the whole window's pending paints to happen then
        # (measured: 8-14% of the GUI thread's time while training).
        self.readout = FittedLabel(HOVER_HINT, Qt.TextFormat.PlainText, lines=READOUT_LINES)
        self.readout.setAccessibleName("Surface read-out")
        self.verdict = FittedLabel("", Qt.TextFormat.RichText)
        self.verdict.setAccessibleName("Can the surface picture be trusted")
        self.legend = FittedLabel("", Qt.TextFormat.RichText)
        self.legend.setAccessibleName("Legend of the cost chart")
        self.legend.setAccessibleDescription(f"solid: {TRUE_LABEL}; dashed: {SURFACE_LABEL}")
        map_column, info_column = QVBoxLayout(), QVBoxLayout()
        map_column.addWidget(self.map, 1)
        map_column.addWidget(LayoutGate(self.readout))  # its text changes as the mouse moves
        info_column.addWidget(LayoutGate(self.verdict))  # and this one every frame
        info_column.addWidget(self.legend)
        info_column.addWidget(self.chart, 1)
        for column in (map_column, info_column):
            column.setSpacing(2)
        content = QWidget()
        self._columns = QBoxLayout(QBoxLayout.Direction.TopToBottom, content)
        self._columns.setContentsMargins(0, 0, 0, 0)
        self._columns.addLayout(map_column, 5)
        self._columns.addLayout(info_column, 3)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setMargin(24)
        font = self.hint.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.hint.setFont(font)
        self._stack = QStackedWidget()
        self._stack.addWidget(content)
        self._stack.addWidget(self.hint)

    def minimumSizeHint(self) -> QSize:
        """Room for the toolbar in two rows (it chooses one or two rows from the width)."""
        hint = super().minimumSizeHint()
        margins = self._layout.contentsMargins()
        least = self.toolbar.two_row_width + margins.left() + margins.right()
        return QSize(max(hint.width(), least), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Map and figures side by side in a wide dock, stacked in a tall one."""
        super().resizeEvent(event)
        self.toolbar.set_compact(self.width() < self.toolbar.one_row_width + 8)
        wide = self.width() > SIDE_BY_SIDE * self.height()
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self._columns.direction() != direction:
            self._columns.setDirection(direction)

    # ------------------------------------------------------------------ settings
    @Slot(object)
    def _sync_controls(self, settings: SurfaceSettings) -> None:
        self.toolbar.show_settings(settings)

    def _configure(self, refit: bool = True, **changes: Any) -> None:
        settings = dataclasses.replace(self.controller.settings, **changes)
        if settings != self.controller.settings or refit:
            self.controller.configure(settings, refit=refit)
        self._update_hint()

    def use_choice(self, saved: SurfaceChoice) -> None:
        """Take the choices kept from an earlier run (the window reads and checks them)."""
        if saved.settings != self.controller.settings:
            self.controller.configure(saved.settings, refit=False)
        self.toolbar.show_settings(saved.settings)
        self.log_box.setChecked(saved.log)

    def choice(self) -> SurfaceChoice:
        """The choices to keep for the next run."""
        return SurfaceChoice(self.controller.settings, self.log)

    def set_log_scale(self, on: bool) -> None:
        """Colour the map (and the chart's cost axis) on a log scale."""
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)  # comes back here through toggled
            return
        self.log = on
        self.chart.set_log(on)
        self.show_grid(self.controller.grid)

    def log_scale(self) -> bool:
        """Whether the colours are logarithmic."""
        return self.log

    # ------------------------------------------------------------------ results
    @Slot(object)
    @while_visible
    def show_grid(self, grid: SurfaceGrid | None) -> None:
        """Show a new surface (None: no surface yet), then the path on it."""
        self.map.set_grid(grid, self.log)
        self._shown_path = None
        path = self.controller.path
        if grid is not None and path is not None and path.fit == grid.fit:
            self.show_path(path)
        else:  # no path on this plane yet (it follows at once): draw none rather than a wrong one
            self.map.set_path(np.zeros((0, 2)))
            self.chart.set_data(np.zeros(0), np.zeros(0), np.zeros(0))
        self._hovered(math.nan, math.nan)
        self._update_hint()

    @Slot(object)
    @while_visible
    def show_path(self, path: PathView) -> None:
        """Draw the path, the comparison chart and the honesty figures."""
        grid = self.controller.grid
        if grid is None or path.fit != grid.fit:  # not on this plane: its grid is on the way
            self._update_hint()
            return
        self._shown_path = path
        self.map.set_path(path.coords)
        self.surface_costs = bilinear(grid.a, grid.b, grid.costs, path.coords)
        self.chart.set_data(path.steps, path.true_costs, self.surface_costs)
        gap = worst_gap(path.steps, path.true_costs, self.surface_costs)
        self.judged = judge(explained_now(grid, path), gap)
        text = verdict_html(self.judged, self.state.dark)
        if text != self._honesty_html:
            self._honesty_html = text
            self.verdict.setText(text)
        details = details_text(grid, path, gap)
        if details != self.verdict.toolTip():
            self.verdict.setToolTip(details)
            self.verdict.setAccessibleDescription(details.replace("\n", " "))

    @Slot(int, int)
    def _progress_changed(self, done: int, rows: int) -> None:
        self._rows = (done, rows)
        self._show_readout()
        if self.controller.grid is None:
            self._update_hint()

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self.controller.grid is not None:
            self._failure = f"Refit failed: {message.splitlines()[0]}"
            self._show_readout()
        self._update_hint()

    @Slot()
    def _network_replaced(self) -> None:
        self.show_grid(None)

    # ------------------------------------------------------------------ hint, hover, looks
    def hint_text(self) -> str:
        """What the panel says instead of a map ("" when a surface is shown)."""
        controller = self.controller
        if controller.grid is not None:
            return ""
        if controller.error:
            return f"The surface could not be made: {controller.error.splitlines()[0]}"
        if self.state.dataset is None:
            return (
                "MNIST is needed to evaluate the surface.\n"
                "It is loaded when you press Train (or open a data folder)."
            )
        done, rows = controller.rows
        if rows:
            return f"Computing the first surface: {done} of {rows} rows…"
        points = len(controller.path.steps) if controller.path is not None else 0
        if controller.settings.plane != "random" and points < 3:
            return (
                "Train to draw a path.\n\nThe map is a slice through the network's "
                f"{self.state.net.n_params:,} parameters: a plane fitted to the path that "
                f"gradient descent takes (it needs 3 points; the path has {points} so far)."
            )
        return "Waiting for the first surface…"

    def _update_hint(self) -> None:
        text = self.hint_text()
        if text:
            self.hint.setText(text)
        self._stack.setCurrentIndex(1 if text else 0)

    def showing_hint(self) -> bool:
        """Whether the hint is shown instead of the map."""
        return self._stack.currentIndex() == 1

    @Slot(float, float)
    def _hovered(self, a: float, b: float) -> None:
        grid = self.controller.grid
        node = nearest_node(grid, a, b) if grid is not None else None
        self._hover = ""
        if grid is not None and node is not None:
            i, j = node
            name1, name2 = (label.split(" (")[0] for label in (grid.label1, grid.label2))
            self._hover = (
                f"cost {number(float(grid.costs[i, j]))} at {name1} = {number(grid.a[j])}, "
                f"{name2} = {number(grid.b[i])}"
            )
        self._show_readout()

    def _show_readout(self) -> None:
        """The read-out line: the hovered point, else the progress, else the grid."""
        done, rows = self._rows
        grid = self.controller.grid
        if self._hover:
            text = self._hover
        elif rows:
            text = progress_text(done, rows)
        elif self._failure:
            text = self._failure
        else:
            text = f"{grid_text(grid)} · hover the map to read a point" if grid else HOVER_HINT
        if text != self.readout.text():
            self.readout.setText(text)

    def honesty_text(self) -> str:
        """The verdict under the map, as plain text."""
        return QTextDocumentFragment.fromHtml(self.verdict.text()).toPlainText()

    def readout_text(self) -> str:
        """The hover readout line."""
        return self.readout.text()

    @Slot()
    def _restyle(self) -> None:
        dark = self.state.dark
        self.map.restyle(dark)
        self.chart.restyle(dark)
        self.legend.setText(legend_html(dark))
        self._honesty_html = ""
        if self._shown_path is not None:
            self.show_path(self._shown_path)


def progress_text(done: int, rows: int) -> str:
    """The progress line while a surface is computed."""
    return f"computing the surface: row {done} of {rows}…"


class FittedLabel(QLabel):
    """A word-wrapped label as high as its lines at its width, and at least ``lines`` high.

    Its height is fixed (set again when its width or its number of lines
    changes): inside a :class:`LayoutGate`, a new text (up to 20 a second)
    then re-lays out nothing.
    """

    def __init__(self, text: str, form: Qt.TextFormat, lines: int = 1) -> None:
        super().__init__(text)
        self.lines = lines
        self.setTextFormat(form)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit()

    def setText(self, text: str) -> None:
        """Show ``text``, growing or shrinking to its lines."""
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new width may need another number of lines."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self, self._fit)  # not while the layout is being applied

    def _fit(self) -> None:
        least = self.lines * self.fontMetrics().lineSpacing() + 2
        needed = max(self.heightForWidth(max(self.width(), 50)), least)
        if needed != self.height() or self.minimumHeight() != self.maximumHeight():
            self.setFixedHeight(needed)

"""Cost: the training curve, test results per epoch and settings changes.

Every mini-batch's cost is kept (a snapshot carries all of them since the
previous one), smoothed as it arrives, and drawn with about one min/max pair
per two screen pixels from a peak pyramid (:mod:`.history`), so a redraw costs
the same after a thousand steps or a million. Test accuracy has its own axis
on the right (a linked ``ViewBox``, pyqtgraph's "multiple axes" pattern).
"""

from __future__ import annotations

import html
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnviz.engine.snapshot import Snapshot
from nnviz.gui import theme
from nnviz.gui.layoutgate import LayoutGate
from nnviz.gui.panels import plots
from nnviz.gui.panels.cost.axes import CostAxis, PercentAxis, StepAxis
from nnviz.gui.panels.cost.history import CostHistory
from nnviz.gui.panels.cost.markers import MarkerLayer
from nnviz.gui.panels.cost.status import status_texts
from nnviz.gui.panels.plots import Extent, follow_extent
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.panels.words import FittingLine
from nnviz.gui.state import AppState

#: Shortest gap between redraws (about 30 per second).
REDRAW_MS = 33
#: Screen pixels per drawn min/max pair.
PIXELS_PER_BLOCK = 2
#: alpha of the exponential moving average (a memory of about 100 mini-batches).
SMOOTHING = 0.01
# Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
TRAIN_LIGHT, TRAIN_DARK = QColor(0, 114, 178), QColor(86, 180, 233)
TEST_COST = QColor(213, 94, 0)
ACCURACY = QColor(0, 158, 115)


def describe_cost(cost: str, n_outputs: int) -> str:
    """The cost function in words, as the panel states it."""
    if cost == "quadratic":
        return (
            f"cost: 3Blue1Brown's quadratic cost (sum of squares over the {n_outputs} "
            "outputs, mean over the examples)"
        )
    if cost == "cross_entropy":
        return (
            "cost: cross-entropy (\N{MINUS SIGN}ln of the softmax output for the true digit, "
            "mean over the examples)"
        )
    return f"cost: {cost}"


def legend_html(train: QColor, faint: QColor) -> str:
    """The legend line: coloured marks and their meaning."""
    marks = [(faint, "━", "mini-batch"), (train, "━", "smoothed")]
    marks += [(TEST_COST, "●", "test cost"), (ACCURACY, "■", "test accuracy")]
    return "&nbsp;&nbsp; ".join(
        f'<span style="color:{colour.name()}">{mark}</span>&nbsp;{text.replace(" ", "&nbsp;")}'
        for colour, mark, text in marks
    )


class CostPanel(QWidget):
    """Mini-batch cost (raw and smoothed), test cost and accuracy per epoch.

    Parameters
    ----------
    state
        The application state; the panel listens to ``snapshot_received``,
        ``history_cleared``, ``network_replaced`` and ``appearance_changed``.
    parent
        Optional parent widget.
    """

    title = "Cost"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.history = CostHistory(SMOOTHING)
        self._drawn_evaluations = -1
        self._follow = True  # the x range shows the whole run (False once the user zooms)
        self._extent: Extent | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._build_toolbar()
        self._build_plot()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(self._toolbar)
        layout.addWidget(self._cost_label)
        layout.addWidget(self._plot_widget, 1)
        self._name_for_screen_readers()
        state.snapshot_received.connect(self.add_snapshot)
        state.history_cleared.connect(self.clear)
        state.network_replaced.connect(self._describe_cost)
        state.appearance_changed.connect(self._restyle)
        self._restyle()
        self.redraw()

    # ------------------------------------------------------------------ building
    def _build_toolbar(self) -> None:
        self._log_box = QCheckBox("log scale")
        self._log_box.setToolTip("Show the cost on a logarithmic axis (late progress is visible)")
        self._log_box.toggled.connect(self.set_log_scale)
        self._all_button = QToolButton()
        self._all_button.setText("show all")
        self._all_button.setToolTip("Zoom out to the whole run and follow the new steps")
        self._all_button.clicked.connect(self.follow_latest)
        self._status = FittingLine(
            align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, keep_shortest=True
        )
        self._cost_label = QLabel()  # legend and which cost is shown
        self._cost_label.setTextFormat(Qt.TextFormat.RichText)
        self._cost_label.setWordWrap(True)
        self._cost_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._toolbar = QHBoxLayout()
        self._toolbar.addWidget(self._log_box)
        self._toolbar.addWidget(self._all_button)
        self._toolbar.addWidget(LayoutGate(self._status), 1)  # its text changes every frame

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Cost panel")
        self.setAccessibleDescription(
            "How wrong the network is as it trains: the cost curve, test results, settings changes."
        )
        self._plot_widget.setAccessibleName("Cost curve")
        self._plot_widget.setAccessibleDescription(
            "The cost of every mini-batch and its smoothed average over the training steps, "
            "the test cost and test accuracy after each epoch, and dashed lines where a "
            "setting changed."
        )
        self._log_box.setAccessibleName("Logarithmic cost axis")
        self._all_button.setAccessibleName("Show all steps")
        self._status.setAccessibleName("Training progress")
        self._cost_label.setAccessibleName("Legend and cost function")

    def _build_plot(self) -> None:
        axes = {"left": CostAxis("left"), "bottom": StepAxis("bottom")}
        self._plot_widget = pg.PlotWidget(axisItems={**axes, "right": PercentAxis("right")})
        plot = self.plot_item = self._plot_widget.getPlotItem()
        plot.setLabel("bottom", "mini-batch (step)")
        plot.setLabel("left", "cost")
        plot.setContentsMargins(2, 10, 2, 2)  # room for the top tick labels
        plots.quiet(plot, zoom=True)  # the mouse zooms into the run
        # no grid: its alpha-blended lines tripled the cost of a repaint (~1.5 -> 5 ms)
        self._raw = plot.plot(connect="finite")
        self._smoothed = plot.plot(connect="finite")
        self._smoothed.setZValue(2)
        self._test_cost = plot.plot(symbol="o", symbolSize=7)
        self._test_cost.setZValue(3)
        self._build_accuracy_axis(plot)
        self._markers = MarkerLayer(plot)
        # the view follows the run in "nice" jumps, not every frame: re-ticking the axes
        # each frame doubled the cost of a redraw
        plot.disableAutoRange()
        plot.vb.sigXRangeChanged.connect(self._view_moved)
        plot.vb.sigRangeChangedManually.connect(self._user_moved_view)

    def _build_accuracy_axis(self, plot: pg.PlotItem) -> None:
        self._acc_view = pg.ViewBox(enableMenu=False)
        # above the plot (and its band of mini-batch costs): a ViewBox sits at z -100
        self._acc_view.setZValue(plot.zValue() + 1)
        plot.showAxis("right")
        plot.scene().addItem(self._acc_view)
        axis = plot.getAxis("right")
        axis.linkToView(self._acc_view)
        axis.setLabel("test accuracy")
        self._acc_view.setXLink(plot)
        self._acc_view.setMouseEnabled(x=False, y=False)
        self._accuracy = pg.PlotDataItem(symbol="s", symbolSize=7)
        self._acc_view.addItem(self._accuracy)
        plot.vb.sigResized.connect(self._align_accuracy_view)

    def _align_accuracy_view(self) -> None:
        self._acc_view.setGeometry(self.plot_item.vb.sceneBoundingRect())
        self._acc_view.linkedViewChanged(self.plot_item.vb, self._acc_view.XAxis)

    # ------------------------------------------------------------------ data in
    def add_snapshot(self, snapshot: Snapshot) -> None:
        """Take a snapshot's mini-batch costs, test results and markers."""
        self.history.add_batches(snapshot.steps, snapshot.costs)
        for result in snapshot.evaluations:
            self.history.add_evaluation(
                result.epoch, result.step, result.test_cost, result.accuracy
            )
        for marker in snapshot.markers:
            self.history.markers.append((marker.step, marker.text))
            self._markers.add(marker.step, marker.text)
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        """Forget the history (a new network or a reset) and redraw at once."""
        self.history.clear()
        self._markers.clear()
        self._drawn_evaluations = -1
        self.follow_latest()

    # ------------------------------------------------------------------ drawing
    @while_visible
    def redraw(self) -> None:
        """Draw the curves now (normally called by the ~30 Hz timer)."""
        self._timer.stop()
        history = self.history
        vb = self.plot_item.vb
        start, stop = (0, len(history)) if self._follow else history.index_range(*vb.viewRange()[0])
        blocks = max(100, int(vb.width()) // PIXELS_PER_BLOCK)
        steps, drawn = history.steps.view, [history.test_costs.view]
        for item, series in ((self._raw, history.costs), (self._smoothed, history.smoothed)):
            index, values = series.decimate(start, stop, blocks)
            drawn.append(np.where(np.isfinite(values), values, np.nan))
            item.setData(steps[index].astype(np.float64), drawn[-1])
        if self._drawn_evaluations != len(history.eval_steps):  # new test results only
            self._drawn_evaluations = len(history.eval_steps)
            self._test_cost.setData(history.eval_steps.view.copy(), history.test_costs.view.copy())
            self._draw_accuracy()
        if self._follow:
            self._fit_view(np.concatenate(drawn))
        self._update_status()

    def _draw_accuracy(self) -> None:
        percent = self.history.accuracies.view * 100.0
        self._accuracy.setData(self.history.eval_steps.view.copy(), percent)
        if percent.size:
            low, high = float(percent.min()), float(percent.max())
            self._acc_view.setYRange(max(0.0, low - 3.0), min(100.0, high + 1.5), padding=0)
        else:
            self._acc_view.setYRange(0.0, 100.0, padding=0)

    def _fit_view(self, costs: np.ndarray) -> None:
        """Show the whole run; the ranges grow in jumps (at most a third too big)."""
        steps = self.history.steps.view
        x, y = follow_extent(self._extent, steps, costs, self.log_scale(), inclusive=True)
        if (x, y) != self._extent:
            self._extent = (x, y)
            self.plot_item.vb.setRange(xRange=x, yRange=y, padding=0.02)

    def _view_moved(self) -> None:
        """The view moved: when zoomed in, draw the detail of the new range."""
        if not self._follow and not self._timer.isActive():
            self._timer.start()

    def _user_moved_view(self) -> None:
        """The user zoomed or panned with the mouse: stop following the run."""
        self._follow = False
        self._view_moved()

    def _update_status(self) -> None:
        self._status.set_texts(*status_texts(self.history))

    def _describe_cost(self) -> None:
        net = self.state.net
        text = html.escape(describe_cost(net.cost, net.sizes[-1]))
        self._cost_label.setText(f"{getattr(self, '_legend', '')}<br>{text}")

    def _restyle(self) -> None:
        axes = plots.axes_of(self.plot_item, ("left", "bottom", "right"))
        background, _ = plots.restyle(self._plot_widget, self.state.dark, *axes)
        train = TRAIN_DARK if self.state.dark else TRAIN_LIGHT
        faint = theme.blend(QColor(train), QColor(background), 55 if self.state.dark else 50)
        self._raw.setPen(pg.mkPen(faint, width=1))
        self._smoothed.setPen(pg.mkPen(train, width=2))
        self._test_cost.setPen(pg.mkPen(TEST_COST, width=1.5))
        self._test_cost.setSymbolBrush(TEST_COST)
        self._test_cost.setSymbolPen(pg.mkPen(background))
        self._accuracy.setPen(pg.mkPen(ACCURACY, width=1.5, style=Qt.PenStyle.DashLine))
        self._accuracy.setSymbolBrush(ACCURACY)
        self._accuracy.setSymbolPen(pg.mkPen(background))
        self._markers.restyle(self.state.dark)
        # the thin faint line needs a stronger tint as a short mark
        self._legend = legend_html(train, theme.blend(QColor(train), QColor(background), 110))
        self._describe_cost()

    # ------------------------------------------------------------------ public queries
    def set_log_scale(self, on: bool) -> None:
        """Show the cost axis logarithmically (the accuracy axis stays linear)."""
        if self._log_box.isChecked() != on:
            self._log_box.setChecked(on)  # comes back here through toggled
            return
        shown = self.plot_item.vb.viewRange()[0]
        self.plot_item.setLogMode(x=False, y=on)
        self.plot_item.disableAutoRange()  # setLogMode switched auto-range on
        self._extent = None
        if not self._follow:  # zoomed in: keep the steps, fit the cost axis to them
            self.plot_item.vb.setXRange(*shown, padding=0)
            self.plot_item.enableAutoRange(y=True)
        self.redraw()

    def follow_latest(self) -> None:
        """Show the whole run again and follow the new steps (the "show all" button)."""
        self._follow = True
        self._extent = None
        self.redraw()

    def set_step_range(self, first: float, last: float) -> None:
        """Zoom to steps ``[first, last]`` (stops following the run, as a mouse zoom does)."""
        self._follow = False
        self.plot_item.vb.setXRange(first, last, padding=0)
        self.redraw()

    @property
    def following(self) -> bool:
        """Whether the view shows the whole run and follows new steps."""
        return self._follow

    def log_scale(self) -> bool:
        """Whether the cost axis is logarithmic."""
        return bool(self.plot_item.vb.state["logMode"][1])

    def history_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of every mini-batch's ``(steps, costs)`` received, in order."""
        return self.history.steps.view.copy(), self.history.costs.values.copy()

    def smoothed_costs(self) -> np.ndarray:
        """A copy of the smoothed cost of every mini-batch."""
        return self.history.smoothed.values.copy()

    @property
    def raw_item(self) -> pg.PlotDataItem:
        """The curve of the raw mini-batch costs (as drawn: decimated)."""
        return self._raw

    @property
    def smoothed_item(self) -> pg.PlotDataItem:
        """The curve of the smoothed cost (as drawn: decimated)."""
        return self._smoothed

    @property
    def test_cost_item(self) -> pg.PlotDataItem:
        """Test cost per epoch (left axis)."""
        return self._test_cost

    @property
    def accuracy_item(self) -> pg.PlotDataItem:
        """Test accuracy per epoch in percent (right axis)."""
        return self._accuracy

    def marker_lines(self) -> list[pg.InfiniteLine]:
        """The vertical lines of the settings changes."""
        return list(self._markers.lines)

    def marker_labels(self) -> list[plots.FastLabel]:
        """The labels of the settings changes shown now (one per stack of close changes)."""
        return [label for label in self._markers.labels if label.isVisible()]

    def status_text(self) -> str:
        """The status line as shown (``"step 5 · smoothed 0.31"``)."""
        return self._status.text()

    def export_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the history as CSV (layout: :meth:`CostHistory.export_csv`)."""
        self.history.export_csv(path)

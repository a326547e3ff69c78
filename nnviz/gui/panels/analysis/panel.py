"""Test-set analysis: which digits does the network confuse, and which ones exactly?

After every epoch the training engine evaluates the 10,000 test digits (in
its own process) and the result arrives in a snapshot; "Analyse now" asks
for the same on demand. The panel shows the confusion matrix (rows: true
digit, columns: the network's answer), the accuracy of each digit, and a
gallery of test digits: the mistakes the network was surest of, the correct
answers it was least sure of, or the digits of one clicked cell (say, 4s
taken for 9s). Clicking a digit loads it into the canvas and the network.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.analysis import ConfusionAnalysis
from nnviz.core.errors import ConfigError
from nnviz.engine.snapshot import EpochResult, Snapshot
from nnviz.gui.panels.analysis.gallery import (
    MISTAKES,
    SELECTED,
    VIEW_NAMES,
    DigitGallery,
    GalleryScroll,
    selection_name,
    view_indices,
)
from nnviz.gui.panels.analysis.matrix import MATRIX_HINT, ConfusionMatrixView, cell_text
from nnviz.gui.panels.visibility import while_visible
from nnviz.gui.state import AppState

#: Matrix above gallery only from this height of the panel (else side by side).
STACK_FROM = 400
HINT = "Press Analyse now (or finish an epoch) to evaluate the test set."
NO_DATA_TIP = "MNIST is not loaded yet: it is loaded first, then the test set is evaluated."
ANALYSE_TIP = (
    "Evaluate the 10,000 test digits (never used for training) with the current weights.\n"
    "This also happens by itself after every epoch."
)


def summary_text(result: EpochResult, analysis: ConfusionAnalysis) -> str:
    """``"After epoch 3 (step 11,250): 93.4% of 10,000 test digits right, 662 wrong"``."""
    if result.on_demand:
        when = f"At step {result.step:,}" if result.step else "With the current weights"
    else:
        when = f"After epoch {result.epoch} (step {result.step:,})"
    wrong = analysis.n - int(np.trace(analysis.counts))
    return f"{when}: {result.accuracy:.1%} of {analysis.n:,} test digits right, {wrong:,} wrong"


class AnalysisPanel(QWidget):
    """Confusion matrix, per-digit accuracy and a gallery of test digits.

    Parameters
    ----------
    state
        The application state; the panel reads the evaluations in its
        snapshots and its data set's test labels and images.
    parent
        Optional parent widget.

    Signals
    -------
    evaluation_requested
        "Analyse now" was pressed; connect it to the worker's ``evaluate``
        (loading MNIST first if :attr:`AppState.dataset` is None).
    """

    title = "Test-set analysis"
    evaluation_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._result: EpochResult | None = None
        self._analysis: ConfusionAnalysis | None = None
        self._selected: tuple[int, int] | None = None
        self._current: int | None = None  # the test digit shown in the canvas
        self._balanced = False
        self._build()
        state.snapshot_received.connect(self._on_snapshot)
        state.history_cleared.connect(self.clear)
        state.network_replaced.connect(self.clear)
        state.dataset_loaded.connect(self._on_dataset_loaded)
        state.appearance_changed.connect(self._restyle)
        state.activations_changed.connect(self._follow_input)
        self._on_dataset_loaded()
        self._restyle()
        self.clear()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self._analyse = QPushButton("Analyse now")
        self._analyse.clicked.connect(self._request_evaluation)
        self._summary = QLabel()
        self._summary.setWordWrap(True)
        self._summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        top = QHBoxLayout()
        top.addWidget(self._analyse)
        top.addWidget(self._summary, 1)
        self._matrix = ConfusionMatrixView()
        self._matrix.cell_clicked.connect(self.select_cell)
        self._matrix.cell_hovered.connect(self._show_cell_info)
        self._info = QLabel(MATRIX_HINT)
        self._info.setWordWrap(True)
        self._info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(_column(self._matrix, self._info))
        self._splitter.addWidget(self._build_gallery())
        self._splitter.setStretchFactor(0, 5)
        self._splitter.setStretchFactor(1, 4)
        self._hint = QLabel(HINT)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._pages = QStackedWidget()
        self._pages.addWidget(self._hint)
        self._pages.addWidget(self._splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._pages, 1)
        self._name_for_screen_readers()

    def _name_for_screen_readers(self) -> None:
        self.setAccessibleName("Test-set analysis panel")
        self.setAccessibleDescription(
            "Which test digits the network gets wrong: a confusion matrix and a gallery of digits."
        )
        self._analyse.setAccessibleName("Analyse the test set now")
        self._matrix.setAccessibleName("Confusion matrix")
        self._matrix.setAccessibleDescription(
            "How often each true digit (rows) got each answer (columns) on the 10,000 test "
            "digits, with each digit's accuracy beside it; click a cell to see its digits."
        )
        self._view_box.setAccessibleName("Digits shown in the gallery")
        self._gallery.setAccessibleName("Gallery of test digits")
        self._gallery.setAccessibleDescription(
            "Test digits with their true label, the network's answer and its confidence; "
            "click one to load it into the canvas."
        )
        self._scroll.setAccessibleName("Gallery of test digits, scrolling")
        self._summary.setAccessibleName("Test-set summary")
        self._info.setAccessibleName("Matrix cell details")

    def _build_gallery(self) -> QWidget:
        self._view_box = QComboBox()
        self._view_box.addItems(VIEW_NAMES)
        self._view_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._view_box.currentIndexChanged.connect(self._on_view_changed)
        self._count = QLabel()
        self._count.setWordWrap(True)
        self._count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self._gallery = DigitGallery()
        self._gallery.digit_clicked.connect(self.load_digit)
        self._scroll = GalleryScroll(self._gallery)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._view_box, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._count)
        layout.addWidget(self._scroll, 1)
        return box

    def _request_evaluation(self) -> None:
        self.evaluation_requested.emit()

    # ------------------------------------------------------------------ results
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        for result in reversed(snapshot.evaluations):
            if result.outputs is not None:
                self.show_result(result)
                return
        self._mark_stale(snapshot.step)

    def show_result(self, result: EpochResult) -> None:
        """Analyse a test-set evaluation (its outputs for every test image) and show it."""
        self._result = result
        self._draw_result()

    @while_visible
    def _draw_result(self) -> None:
        """Analyse and draw the newest result (deferred while the panel is out of sight)."""
        result = self._result
        if result is None:
            return
        dataset = self.state.dataset
        if dataset is None or result.outputs is None:
            return  # shown once the data set (its labels) arrives
        try:
            analysis = ConfusionAnalysis.from_outputs(result.outputs, dataset.test_y)
        except ConfigError as exc:
            self._summary.setText(f"Cannot analyse this evaluation: {exc}")
            return
        self._analysis = analysis
        self._matrix.set_analysis(analysis)
        self._summary.setText(summary_text(result, analysis))
        self._summary.setToolTip(f"Test cost {result.test_cost:.4f}")
        self._pages.setCurrentIndex(1)
        self._refresh_gallery()

    def _mark_stale(self, step: int) -> None:
        if self._result is None or self._analysis is None:
            return
        stale = step > self._result.step
        base = summary_text(self._result, self._analysis)
        text = f"{base} (the weights have moved on since)" if stale else base
        if text != self._summary.text():
            self._summary.setText(text)

    def clear(self) -> None:
        """Forget the evaluation (a reset or another network): show the hint."""
        self._result = self._analysis = None
        self._selected = None
        self._matrix.show_empty()
        self._gallery.clear()
        self._set_selection_entry()
        self._summary.setText("")
        self._summary.setToolTip("")
        self._pages.setCurrentIndex(0)

    def _on_dataset_loaded(self) -> None:
        self._analyse.setToolTip(ANALYSE_TIP if self.state.dataset is not None else NO_DATA_TIP)
        if self._result is not None and self._analysis is None:
            self.show_result(self._result)

    # ------------------------------------------------------------------ selection and views
    def select_cell(self, true: int, predicted: int) -> None:
        """Show the digits of one cell (``predicted = -1``: all mistakes of digit ``true``)."""
        if self._analysis is None:
            return
        self._selected = (true, predicted)
        self._set_selection_entry()
        if self._view_box.currentIndex() == SELECTED:
            self._refresh_gallery()
        else:
            self._view_box.setCurrentIndex(SELECTED)  # refreshes through the signal

    def set_view(self, view: int) -> None:
        """Choose the gallery: ``MISTAKES``, ``UNSURE`` or ``SELECTED`` (needs a selected cell)."""
        self._view_box.setCurrentIndex(view)

    def _set_selection_entry(self) -> None:
        box = self._view_box
        box.blockSignals(True)
        if self._selected is None:
            if box.count() > SELECTED:
                if box.currentIndex() == SELECTED:
                    box.setCurrentIndex(MISTAKES)  # not the next entry Qt would pick
                box.removeItem(SELECTED)
        else:
            text = selection_name(*self._selected)
            if box.count() > SELECTED:
                box.setItemText(SELECTED, text)
            else:
                box.addItem(text)
        box.blockSignals(False)

    def _on_view_changed(self, _index: int) -> None:
        self._refresh_gallery()

    def _refresh_gallery(self) -> None:
        analysis, dataset, result = self._analysis, self.state.dataset, self._result
        self._matrix.select(self._selected if self._view_box.currentIndex() == SELECTED else None)
        if analysis is None or dataset is None or result is None or result.outputs is None:
            self._gallery.clear()
            self._count.setText("")
            return
        view = self._view_box.currentIndex()
        idx, count, empty = view_indices(analysis, view, self._selected)
        probabilities = self.state.net.cost == "cross_entropy"
        self._gallery.set_digits(
            dataset.test_x,
            idx,
            dataset.test_y,
            analysis.predictions,
            result.outputs,
            probabilities,
            empty,
        )
        self._count.setText(count)
        self._scroll.verticalScrollBar().setValue(0)

    # ------------------------------------------------------------------ digits
    def load_digit(self, index: int) -> None:
        """Show test digit ``index`` in the canvas and the network (with its true label)."""
        dataset = self.state.dataset
        if dataset is None:
            return
        self.state.set_input(dataset.test_x[index], label=int(dataset.test_y[index]))
        self._current = index
        self._gallery.set_current(index)

    def _follow_input(self) -> None:
        """Drop the outline once the canvas shows something else."""
        dataset = self.state.dataset
        if self._current is None or dataset is None:
            return
        if not np.array_equal(self.state.input, dataset.test_x[self._current]):
            self._current = None
            self._gallery.set_current(None)

    def _show_cell_info(self, true: int, predicted: int) -> None:
        self._info.setText(cell_text(self._analysis, true, predicted))

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        self._matrix.restyle(self.state.dark, self.state.colour_blind)
        self._gallery.set_colours(self.state.dark, self.state.colour_blind)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Side by side, unless the panel is tall and has the height that stacking needs.

        Stacked, the panel needs about 310 px of height; it stacks only from
        ``STACK_FROM`` px, so a panel made shorter goes side by side (whose
        least height is 190 px) before its stacked minimum could hold it up.
        """
        super().resizeEvent(event)
        wide = self.height() < STACK_FROM or self.width() >= 1.15 * self.height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self._splitter.orientation() != orientation or not self._balanced:
            self._splitter.setOrientation(orientation)
            self._balance()

    def _balance(self) -> None:
        """Give the matrix about the room it can use and the gallery the rest."""
        width, height = self._pages.width(), self._pages.height()
        if width < 50 or height < 50:
            return
        if self._splitter.orientation() == Qt.Orientation.Horizontal:
            matrix = min(round(0.62 * width), round(1.3 * height))
            self._splitter.setSizes([matrix, width - matrix])
        else:
            matrix = min(round(0.6 * height), round(0.8 * width) + 40)
            self._splitter.setSizes([matrix, height - matrix])
        self._balanced = True

    # ------------------------------------------------------------------ queries
    @property
    def analysis(self) -> ConfusionAnalysis | None:
        """The analysis shown, or None."""
        return self._analysis

    @property
    def selected_cell(self) -> tuple[int, int] | None:
        """``(true, predicted)`` of the selected cell, ``(true, -1)`` for a row, or None."""
        return self._selected

    @property
    def view(self) -> int:
        """The gallery view: ``MISTAKES``, ``UNSURE`` or ``SELECTED``."""
        return self._view_box.currentIndex()

    def summary(self) -> str:
        """The summary line above the matrix."""
        return self._summary.text()

    def showing_hint(self) -> bool:
        """Whether the panel shows the "press Analyse" hint instead of results."""
        return self._pages.currentIndex() == 0

    def matrix_view(self) -> ConfusionMatrixView:
        """The confusion-matrix widget."""
        return self._matrix

    def gallery(self) -> DigitGallery:
        """The gallery of digits."""
        return self._gallery

    def gallery_scroll(self) -> GalleryScroll:
        """The scroll area around the gallery."""
        return self._scroll

    def analyse_button(self) -> QPushButton:
        """The "Analyse now" button."""
        return self._analyse


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for widget in widgets:
        layout.addWidget(widget, 1 if widget is widgets[0] else 0)
    return box

"""AnalysisPanel: confusion matrix, per-digit accuracy and the gallery of test digits.

Uses the bundled model, the real MNIST test set and a real evaluation by the
core trainer, delivered through ``AppState.apply_snapshot`` as the worker does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from pytestqt.qtbot import QtBot

from nnviz.core.datasets import Dataset, load_mnist
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.core.trainer import Evaluation, evaluate
from nnviz.engine.snapshot import EpochResult, Snapshot
from nnviz.gui.panels.analysis import AnalysisPanel
from nnviz.gui.panels.analysis.gallery import MISTAKES, SELECTED, UNSURE
from nnviz.gui.panels.analysis.matrix import contrast_text, share_lut, signed_shares
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

N_TEST = 10_000


@pytest.fixture(scope="module")
def data(mnist_dir: Path) -> Dataset:
    return load_mnist(mnist_dir, download_missing=False)


@pytest.fixture(scope="module")
def net() -> Network:
    return load_model(bundled_model_path())[0]


@pytest.fixture(scope="module")
def ev(net: Network, data: Dataset) -> Evaluation:
    return evaluate(net, data.test_x, data.test_y)


@pytest.fixture
def state(net: Network, data: Dataset) -> AppState:
    s = AppState(net)
    s.set_dataset(data)
    return s


@pytest.fixture
def panel(qtbot: QtBot, state: AppState) -> AnalysisPanel:
    widget = AnalysisPanel(state)
    qtbot.addWidget(widget)
    widget.resize(900, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def result(ev: Evaluation, epoch: int = 1, step: int = 100, on_demand: bool = False) -> EpochResult:
    outputs = ev.outputs.astype(np.float32)
    return EpochResult(epoch, step, ev.cost, ev.accuracy, ev.confusion, outputs, on_demand)


def deliver(state: AppState, *results: EpochResult, step: int = 100) -> None:
    net = state.net
    state.apply_snapshot(
        Snapshot(
            state.generation,
            net.sizes,
            net.activation,
            net.cost,
            net.theta.copy(),
            step=step,
            evaluations=results,
        )
    )


def shown_counts(panel: AnalysisPanel) -> np.ndarray:
    texts = panel.matrix_view().cell_texts()
    return np.array([[int(t) if t else 0 for t in row] for row in texts])


def expected_order(indices: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Most confident first (ties by index), computed independently of the panel."""
    return indices[np.lexsort((indices, -confidence[indices]))]


def click_cell(qtbot: QtBot, panel: AnalysisPanel, true: int, predicted: int) -> None:
    view = panel.matrix_view()
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.cell_point(true, predicted)
    )


def click_thumbnail(qtbot: QtBot, panel: AnalysisPanel, position: int) -> None:
    panel.gallery_scroll().show_position(position)
    rect = panel.gallery().thumbnail_rect(position)
    qtbot.mouseClick(panel.gallery(), Qt.MouseButton.LeftButton, pos=rect.center())


# ---------------------------------------------------------------------- the matrix
def test_matrix_sums_to_the_test_set_and_its_diagonal_is_the_accuracy(
    panel: AnalysisPanel, state: AppState, ev: Evaluation
) -> None:
    assert panel.showing_hint()
    deliver(state, result(ev, epoch=3, step=11_250))
    counts = shown_counts(panel)
    assert not panel.showing_hint()
    assert counts.sum() == N_TEST
    assert np.trace(counts) / N_TEST == pytest.approx(ev.accuracy, abs=1e-12)
    assert 0.95 < ev.accuracy < 0.98  # the bundled model, not an empty matrix
    np.testing.assert_array_equal(counts, ev.confusion)  # the engine's own confusion matrix
    assert panel.summary().startswith("After epoch 3 (step 11,250): ")
    assert f"{ev.accuracy:.1%} of 10,000 test digits right" in panel.summary()
    assert f"{N_TEST - np.trace(counts):,} wrong" in panel.summary()


def test_cells_are_coloured_by_the_row_share_and_write_the_counts(
    panel: AnalysisPanel, state: AppState, ev: Evaluation
) -> None:
    deliver(state, result(ev))
    conf = ev.confusion
    texts = panel.matrix_view().cell_texts()
    for r in range(10):
        for c in range(10):
            assert texts[r][c] == (str(conf[r, c]) if conf[r, c] else "")
    shares = conf / conf.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(panel.matrix_view().shares(), shares)
    np.testing.assert_allclose(panel.matrix_view().image_data(), signed_shares(shares))
    image = panel.matrix_view().image_data()
    assert (np.diag(image) > 0.9).all()  # right answers on the positive (blue) side
    off = ~np.eye(10, dtype=bool)
    assert (image[off] <= 0).all()  # mistakes on the negative (red) side
    assert image[4, 9] == pytest.approx(-conf[4, 9] / conf[4].sum())


def test_per_class_accuracy(panel: AnalysisPanel, state: AppState, ev: Evaluation) -> None:
    deliver(state, result(ev))
    conf = ev.confusion
    expected = [f"{conf[d, d] / conf[d].sum():.1%}" for d in range(10)]
    assert panel.matrix_view().accuracy_texts() == expected
    np.testing.assert_allclose(panel.analysis.per_class_accuracy, np.diag(conf) / conf.sum(axis=1))


def test_on_demand_summary_and_the_newest_evaluation_with_outputs(
    panel: AnalysisPanel, state: AppState, ev: Evaluation
) -> None:
    older = result(ev, epoch=2, step=7_500)
    newest = result(ev, epoch=2, step=7_600, on_demand=True)
    without_outputs = EpochResult(2, 7_700, ev.cost, ev.accuracy, ev.confusion, None)
    deliver(state, older, newest, without_outputs, step=7_700)
    assert panel.summary().startswith("At step 7,600: ")
    deliver(state, step=7_800)  # a training snapshot without evaluations
    assert panel.summary().startswith("At step 7,600: ")
    assert "moved on" in panel.summary()
    assert shown_counts(panel).sum() == N_TEST


def test_an_evaluation_waits_for_the_data_set(
    qtbot: QtBot, net: Network, data: Dataset, ev: Evaluation
) -> None:
    state = AppState(net)
    widget = AnalysisPanel(state)
    qtbot.addWidget(widget)
    deliver(state, result(ev))
    assert widget.showing_hint() and widget.analysis is None
    state.set_dataset(data)
    assert not widget.showing_hint()
    assert shown_counts(widget).sum() == N_TEST


# ---------------------------------------------------------------------- the gallery
def test_default_gallery_is_all_mistakes_most_confident_first(
    panel: AnalysisPanel, state: AppState, ev: Evaluation, data: Dataset
) -> None:
    deliver(state, result(ev))
    assert panel.view == MISTAKES
    outputs = ev.outputs.astype(np.float32).astype(np.float64)
    predictions = outputs.argmax(axis=1)
    confidence = outputs.max(axis=1)
    wrong = np.flatnonzero(predictions != data.test_y)
    shown = panel.gallery().indices()
    np.testing.assert_array_equal(shown, expected_order(wrong, confidence))
    assert shown.size == N_TEST - np.trace(ev.confusion)
    first = int(shown[0])
    label, answer = int(data.test_y[first]), int(predictions[first])
    assert panel.gallery().caption(0) == f"{label}→{answer} {confidence[first]:.0%}"


def test_clicking_a_cell_shows_exactly_its_digits(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation, data: Dataset
) -> None:
    deliver(state, result(ev))
    outputs = ev.outputs.astype(np.float32).astype(np.float64)
    predictions = outputs.argmax(axis=1)
    confidence = outputs.max(axis=1)
    for true, predicted in ((4, 9), (3, 5), (7, 7)):
        click_cell(qtbot, panel, true, predicted)
        assert panel.selected_cell == (true, predicted)
        assert panel.view == SELECTED
        cell = np.flatnonzero((data.test_y == true) & (predictions == predicted))
        shown = panel.gallery().indices()
        assert shown.size == ev.confusion[true, predicted] > 0
        np.testing.assert_array_equal(shown, expected_order(cell, confidence))
        assert np.all(np.diff(confidence[shown]) <= 0)
        assert panel.matrix_view().outline_rect() == QRectF(predicted, true, 1, 1)
    assert panel.gallery().caption(0).startswith("7→7 ")


def test_clicking_a_rows_accuracy_bar_shows_that_digits_mistakes(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation, data: Dataset
) -> None:
    deliver(state, result(ev))
    predictions = ev.outputs.argmax(axis=1)
    click_cell(qtbot, panel, 5, -1)
    assert panel.selected_cell == (5, -1)
    shown = panel.gallery().indices()
    assert set(shown) == set(np.flatnonzero((data.test_y == 5) & (predictions != 5)))


def test_clicking_a_thumbnail_loads_that_test_digit(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation, data: Dataset
) -> None:
    deliver(state, result(ev))
    for position in (2, 41):
        i = int(panel.gallery().indices()[position])
        with qtbot.waitSignal(state.activations_changed):
            click_thumbnail(qtbot, panel, position)
        np.testing.assert_array_equal(state.input, data.test_x[i])
        assert state.label == int(data.test_y[i])
        assert state.prediction != state.label  # it is one of the mistakes
        assert panel.gallery().current() == i
    state.set_input(np.zeros(784, dtype=np.float32))  # the canvas shows something else
    assert panel.gallery().current() is None


def test_least_confident_correct_in_ascending_confidence(
    panel: AnalysisPanel, state: AppState, ev: Evaluation, data: Dataset
) -> None:
    deliver(state, result(ev))
    panel.set_view(UNSURE)
    outputs = ev.outputs.astype(np.float32).astype(np.float64)
    predictions = outputs.argmax(axis=1)
    confidence = outputs.max(axis=1)
    shown = panel.gallery().indices()
    assert np.all(predictions[shown] == data.test_y[shown])
    assert shown.size == np.trace(ev.confusion)
    assert np.all(np.diff(confidence[shown]) >= 0)
    right = np.flatnonzero(predictions == data.test_y)
    assert int(shown[0]) == int(right[np.argmin(confidence[right])])
    assert confidence[shown[0]] < 0.5  # the least sure right answers are close calls


def test_a_new_evaluation_keeps_the_chosen_cell(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation
) -> None:
    deliver(state, result(ev))
    click_cell(qtbot, panel, 4, 9)
    deliver(state, result(ev, epoch=2, step=200), step=200)
    assert panel.view == SELECTED and panel.selected_cell == (4, 9)
    assert panel.gallery().indices().size == ev.confusion[4, 9]


# ---------------------------------------------------------------------- commands and resets
def test_analyse_button_emits_evaluation_requested(qtbot: QtBot, panel: AnalysisPanel) -> None:
    with qtbot.waitSignal(panel.evaluation_requested, timeout=1000):
        qtbot.mouseClick(panel.analyse_button(), Qt.MouseButton.LeftButton)


def test_analyse_without_data_still_asks(qtbot: QtBot, net: Network) -> None:
    widget = AnalysisPanel(AppState(net))
    qtbot.addWidget(widget)
    widget.show()
    assert widget.analyse_button().isEnabled()
    assert "loaded first" in widget.analyse_button().toolTip()
    with qtbot.waitSignal(widget.evaluation_requested, timeout=1000):
        qtbot.mouseClick(widget.analyse_button(), Qt.MouseButton.LeftButton)


def test_history_cleared_empties_the_view(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation, net: Network
) -> None:
    deliver(state, result(ev))
    click_cell(qtbot, panel, 4, 9)
    state.set_network(net)  # a reset or a loaded model: history_cleared
    assert panel.showing_hint()
    assert panel.analysis is None and panel.selected_cell is None
    assert panel.gallery().indices().size == 0
    assert all(t == "" for row in panel.matrix_view().cell_texts() for t in row)
    assert panel.matrix_view().outline_rect() is None
    assert panel.view == MISTAKES
    deliver(state, result(ev))
    assert shown_counts(panel).sum() == N_TEST


def test_another_architecture(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, data: Dataset
) -> None:
    other = Network((784, 32, 10), seed=1)
    state.set_network(other)
    deliver(state, result(evaluate(other, data.test_x, data.test_y), epoch=0, step=0))
    counts = shown_counts(panel)
    assert counts.sum() == N_TEST
    assert panel.gallery().indices().size == N_TEST - np.trace(counts)


# ---------------------------------------------------------------------- looks
def test_count_text_contrasts_with_its_cell() -> None:
    for dark in (False, True):
        lut = share_lut(dark)
        shares = np.full((10, 10), 0.002)
        np.fill_diagonal(shares, 0.97)
        dark_text = contrast_text(lut, signed_shares(shares))
        # light palette: deep blue diagonal, pale mistakes; dark palette: the reverse
        assert (np.diag(dark_text) == dark).all()
        assert dark_text[0, 1] == (not dark)


def test_appearance_switches_the_colours(panel: AnalysisPanel, state: AppState) -> None:
    image = panel.matrix_view()._image
    light = image.lut.copy()
    state.set_appearance(dark=True)
    assert not np.array_equal(image.lut, light)
    state.set_appearance(dark=False, colour_blind=True)
    cb = image.lut
    assert np.array_equal(cb[len(cb) // 2 :], light[len(light) // 2 :])  # right answers: blue
    assert not np.array_equal(cb[: len(cb) // 2], light[: len(light) // 2])  # mistakes: orange


# ---------------------------------------------------------------------- sizes and names
def test_fits_a_small_window_and_shrinks_from_stacked_to_side_by_side(
    qtbot: QtBot, panel: AnalysisPanel, state: AppState, ev: Evaluation
) -> None:
    deliver(state, result(ev))
    click_cell(qtbot, panel, 4, 9)  # the longest entry of the view box is in it
    splitter = panel._splitter
    for size, stacked in (((330, 700), True), ((330, 300), False), ((320, 240), False)):
        panel.resize(*size)
        qtbot.waitUntil(lambda s=stacked: (splitter.orientation() == Qt.Orientation.Vertical) == s)
        hint = panel.minimumSizeHint()
        assert hint.width() <= 320 and hint.height() <= min(size[1], 240 if not stacked else 700)
    assert panel.minimumSizeHint().width() <= 320 and panel.minimumSizeHint().height() <= 240
    for widget in (panel, panel.matrix_view(), panel.gallery()):
        assert widget.accessibleName() and widget.accessibleDescription()
    assert panel._view_box.accessibleName() and panel.analyse_button().accessibleName()

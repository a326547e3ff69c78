"""The cost plot readable at any size: tick labels apart, change labels apart, layers, status."""

from __future__ import annotations

from itertools import combinations, pairwise

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from nnviz.core.network import Network
from nnviz.engine.snapshot import EpochResult, Marker, Snapshot
from nnviz.gui.panels.cost import CostPanel
from nnviz.gui.panels.cost.markers import GAP, MAX_LINES, place_labels, stack_text
from nnviz.gui.state import AppState

SIZES = [(250, 240), (320, 240), (330, 300), (600, 400), (1000, 500)]


@pytest.fixture
def state() -> AppState:
    return AppState(Network((784, 16, 16, 10), seed=0))


def make_panel(qtbot: QtBot, state: AppState, width: int, height: int) -> CostPanel:
    panel = CostPanel(state)
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def feed(state: AppState, costs: np.ndarray, **extra: object) -> None:
    net, steps = state.net, np.arange(len(costs))
    snap = Snapshot(
        generation=state.generation,
        sizes=net.sizes,
        activation=net.activation,
        cost=net.cost,
        theta=net.theta.copy(),
        step=len(costs),
        steps=steps,
        costs=costs,
        **extra,  # type: ignore[arg-type]
    )
    state.apply_snapshot(snap)


def tick_labels(panel: CostPanel, side: str) -> list[tuple[QRectF, str]]:
    """The tick labels an axis draws now: their boxes and texts."""
    axis = panel.plot_item.getAxis(side)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(QRectF(rect), text) for rect, _flags, text in texts]


def apart(boxes: list[QRectF], gap: float) -> bool:
    grown = [b.adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2) for b in boxes]
    return not any(a.intersects(b) for a, b in combinations(grown, 2))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("steps", [900, 12_345, 23_456, 1_234_567])
def test_step_ticks_keep_apart_and_read_plainly(qtbot, state, size, steps) -> None:
    panel = make_panel(qtbot, state, *size)
    feed(state, np.linspace(2, 0.3, steps))
    panel.redraw()
    QApplication.processEvents()
    labels = tick_labels(panel, "bottom")
    texts = [text for _, text in labels]
    assert len(labels) >= 2, texts
    assert apart([box for box, _ in labels], 8), f"step ticks touch at {size}: {texts}"
    assert all("e" not in text and len(text) <= 5 for text in texts), texts
    if steps > 100_000:
        assert any(text.endswith("M") or text.endswith("k") for text in texts), texts


@pytest.mark.parametrize("height", [240, 400, 900])
@pytest.mark.parametrize("lowest", [0.002, 0.2])
def test_log_ticks_are_decades_written_plainly_and_apart(qtbot, state, height, lowest) -> None:
    panel = make_panel(qtbot, state, 500, height)
    feed(state, np.geomspace(3, lowest, 2000))
    panel._log_box.click()
    panel.redraw()
    QApplication.processEvents()
    labels = tick_labels(panel, "left")
    texts = [text for _, text in labels]
    assert len(labels) >= 2, texts
    assert apart([box for box, _ in labels], 2), f"log ticks touch at height {height}: {texts}"
    for text in texts:
        assert text.lstrip("0.").rstrip("0") in {"1", "2", "5"}, texts  # 1, 2 or 5 times 10^k
    assert "1" in texts and ("0.01" in texts or lowest > 0.01)


def test_test_accuracy_is_drawn_above_the_mini_batch_band(qtbot, state) -> None:
    panel = make_panel(qtbot, state, 600, 400)
    result = EpochResult(1, 500, 0.5, 0.5, np.zeros((10, 10), dtype=np.int64))
    feed(state, np.full(1000, 1.0), evaluations=(result,))
    panel.redraw()
    QApplication.processEvents()
    symbol = panel.accuracy_item.scatter
    where = panel.plot_item.vb.sceneBoundingRect()  # both draw in it
    stacked = panel.plot_item.scene().items(
        where, Qt.ItemSelectionMode.IntersectsItemBoundingRect, Qt.SortOrder.DescendingOrder
    )
    band = panel.raw_item.curve
    assert band in stacked and symbol in stacked
    assert stacked.index(symbol) < stacked.index(band)  # nearer the viewer


def test_close_changes_get_rows_then_stack_never_overlapping() -> None:
    xs = [100.0, 102.0, 104.0, 106.0, 108.0, 400.0]
    widths = [60.0] * 6
    clusters = place_labels(xs, widths, right=300.0, rows=3)
    assert sorted(m for c in clusters for m in c.members) == list(range(6))  # all labelled
    assert [c.row for c in clusters if 0 in c.members or 1 in c.members] == [0, 1]
    boxes = {}
    for c in clusters:
        boxes.setdefault(c.row, []).append((c.left, c.right))
        assert c.left >= 0 and c.right <= 300.0  # inside the plot
    for row in boxes.values():
        row.sort()
        assert all(a[1] + GAP <= b[0] for a, b in pairwise(row))
    text, tip = stack_text([f"lr {i}" for i in range(MAX_LINES + 2)])
    assert text.count("\n") == MAX_LINES - 1 and text.endswith("+ 3 more") and "lr 5" in tip


def test_change_labels_inside_the_plot_at_the_right_edge(qtbot, state) -> None:
    panel = make_panel(qtbot, state, 330, 260)
    markers = (Marker(995, "batch 64"), Marker(996, "momentum 0.5"), Marker(10, "lr 0.05"))
    feed(state, np.linspace(2, 0.3, 1000), markers=markers)
    panel.redraw()
    QApplication.processEvents()
    view = panel._plot_widget
    area = panel.plot_item.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    labels = panel.marker_labels()
    boxes = [
        lab.deviceTransform(view.viewportTransform()).mapRect(lab.boundingRect()) for lab in labels
    ]
    assert sorted("\n".join(lab.text() for lab in labels).splitlines()) == [
        "batch 64",
        "lr 0.05",
        "momentum 0.5",
    ]
    assert all(area.contains(box) for box in boxes)
    assert apart(boxes, 0)


@pytest.mark.parametrize("width", [250, 320, 600])
def test_status_line_never_runs_under_the_buttons(qtbot, state, width) -> None:
    panel = make_panel(qtbot, state, width, 240)
    result = EpochResult(3, 123_456, 0.2, 0.9345, np.zeros((10, 10), dtype=np.int64))
    feed(state, np.linspace(2, 0.3, 123_457), evaluations=(result,))
    panel.redraw()
    QApplication.processEvents()
    status = panel._status
    text = panel.status_text()
    assert text.startswith("step 123,457")
    assert status.fontMetrics().horizontalAdvance(text) <= status.contentsRect().width() + 1
    corner = status.mapTo(panel, status.rect().topLeft())
    button = panel._all_button.geometry()
    assert button.right() < corner.x(), "the status line runs under 'show all'"
    assert "93.45%" in status.toolTip()


def test_sizes_and_names(qtbot, state) -> None:
    panel = make_panel(qtbot, state, 600, 400)
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 240
    for widget in (panel, panel._plot_widget):
        assert widget.accessibleName() and widget.accessibleDescription()
    assert panel._log_box.accessibleName() and panel._all_button.accessibleName()

"""The cost panel in the real window: settings changed while training, the step it reports."""

from __future__ import annotations

from itertools import combinations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication
from textfit import misfits


def _cost_panel(user):
    window = user.window
    window.docks["cost"].raise_()
    QApplication.processEvents()
    return window.panels.cost


def on_screen(panel, label) -> QRectF:
    """A plot label's box in the plot widget's pixels, as drawn (it ignores the zoom)."""
    view = panel._plot_widget
    return label.deviceTransform(view.viewportTransform()).mapRect(label.boundingRect())


def test_quick_setting_changes_while_training_are_each_labelled_apart(open_window) -> None:
    user = open_window()
    window = user.window
    panel = _cost_panel(user)
    user.wait_for_step(0)
    start = user.step
    user.press(window.actions_.train)
    user.wait_for_state("running")
    user.wait_for_step(start + 300)
    # three changes in quick succession, typed into the toolbar as a learner does
    user.type_into(window.run_bar.lr, "0.05")
    user.type_into(window.run_bar.batch, "64")
    user.type_into(window.run_bar.momentum, "0.5")
    user.qtbot.waitUntil(lambda: len(panel.marker_lines()) == 3, timeout=10_000)
    user.press(window.actions_.train)
    user.wait_for_state("paused")
    panel.redraw()
    QApplication.processEvents()
    labels = panel.marker_labels()
    lines = "\n".join(label.text() for label in labels).splitlines()
    for change in ("lr 0.05", "batch 64", "momentum 0.5"):
        assert change in lines, f"{change!r} is not labelled: {lines}"
    boxes = [on_screen(panel, label) for label in labels]
    plot_area = panel.plot_item.vb.sceneBoundingRect()
    for box in boxes:
        assert plot_area.adjusted(-1, -1, 1, 1).contains(box), "a label leaves the plot"
    for a, b in combinations(boxes, 2):
        assert not a.intersects(b), "two change labels overlap"
    # (textfit measures a plot text by its sceneBoundingRect, which scales a FastLabel's
    # pixel box by the view's zoom: the boxes above are measured as drawn instead)
    assert not [p for p in misfits(window) if "CostPanel" in p and "plot text" not in p]


def test_the_cost_panel_and_the_status_bar_count_the_same_step(open_window) -> None:
    user = open_window()
    window = user.window
    panel = _cost_panel(user)
    user.wait_for_step(0)
    start = user.step
    for n in range(1, 6):
        user.press(window.actions_.step)
        user.wait_for_step(start + n)
        user.wait_for_state("paused")
        user.qtbot.waitUntil(lambda: panel.status_text().startswith("step "))
        panel.redraw()
        header = panel.status_text().split(" · ")[0]
        assert header == window.status.step.text() == f"step {start + n:,}"

"""The Backprop panel in the window: beside the Network panel, readable at every size.

Issue 12: the target box was cut ("network's"), the hint sent the learner to a
Network panel hidden behind the Backprop tab, and the per-neuron charts had no
room. These tests drive the real window the way a learner does.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyleOptionComboBox
from textfit import misfits

from nnviz.gui.panels.backprop.layout import plain
from nnviz.gui.panels.visibility import out_of_sight

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]


def shown(label) -> str:  # type: ignore[no-untyped-def]
    """The words a label shows (its rich text without the markup), on one line."""
    return " ".join(plain(label.text().replace("<br>", " ")).split())


def click_neuron(user, layer: int, j: int) -> None:  # type: ignore[no-untyped-def]
    network = user.window.panels.network
    pos = network.view.mapFromScene(network.node_scene_pos(layer, j))
    user.qtbot.mouseClick(network.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def field_width(combo: QComboBox) -> int:
    """The width of a combo box's text field, as the style draws it."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    rect = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    return rect.width()


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)], ids=["1024x700", "1920x1080"])
def test_the_target_box_shows_every_item_in_full(open_window, size) -> None:
    user = open_window()
    window = user.lay_out(*size, front="backprop")
    combo = window.panels.backprop.target_combo
    # a drawing: the first item names the network's answer
    user.qtbot.waitUntil(lambda: combo.itemText(0).startswith("its answer ("))
    QApplication.processEvents()
    assert_items_fit(combo)
    # a test digit, as the Test digit button gives: "true label (7)" fits too
    user.qtbot.mouseClick(window.panels.canvas.digit_button, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(lambda: combo.itemText(0).startswith("true label ("))
    QApplication.processEvents()
    assert_items_fit(combo)


def assert_items_fit(combo: QComboBox) -> None:
    metrics = QFontMetrics(combo.font())
    room = field_width(combo)
    for index in range(combo.count()):
        text = combo.itemText(index)
        assert metrics.horizontalAdvance(text) <= room + 1, f"{text!r} in {room} px"


def test_a_neuron_clicked_on_the_network_shows_its_wish_here_without_a_tab_switch(
    open_window,
) -> None:
    user = open_window()
    window = user.lay_out(1500, 940, front="backprop")
    panel, network = window.panels.backprop, window.panels.network
    # both in sight, the Network panel to the left: the hint says so
    assert not out_of_sight(network)
    assert panel.network_place() == "left"
    user.qtbot.waitUntil(lambda: "Network panel on the left" in shown(panel.neuron_text))
    click_neuron(user, 2, 6)
    user.qtbot.waitUntil(lambda: panel.neuron_box.isVisible())
    assert "Hidden layer 2, neuron 6" in panel.neuron_text.text()
    assert panel.nudges is not None
    assert window.state.selected == (2, 6)
    assert not out_of_sight(network) and not out_of_sight(panel)  # nothing was switched


def test_the_hint_does_not_point_at_a_network_panel_out_of_sight(open_window) -> None:
    user = open_window()
    window = user.lay_out(1500, 940, front="backprop")
    panel = window.panels.backprop
    window.docks["network"].close()
    user.qtbot.waitUntil(lambda: panel.network_place() is None)
    panel.resize(panel.width() - 1, panel.height())  # any new layout renews the hint
    user.qtbot.waitUntil(lambda: "Network panel to see" in shown(panel.neuron_text))
    assert "on the left" not in shown(panel.neuron_text)


def chart_area(widget) -> int:  # type: ignore[no-untyped-def]
    return int(widget.width() * widget.height())


def test_the_neurons_charts_grow_with_the_window(open_window) -> None:
    user = open_window()
    user.lay_out(1024, 700, front="backprop")
    panel = user.window.panels.backprop
    click_neuron(user, 1, 3)
    user.qtbot.waitUntil(lambda: panel.neuron_box.isVisible())
    seen: dict[tuple[int, int], tuple[int, int, bool]] = {}
    for size in SIZES:
        user.lay_out(*size, front="backprop")
        user.qtbot.waitUntil(lambda: panel.neuron_box.isVisible())
        source, gradient = panel.source_plot, panel.grad_stack
        seen[size] = (chart_area(source), source.height(), panel.neuron_box.stacked())
        # the neuron's charts get the larger share of the room
        assert chart_area(source) >= chart_area(panel.wish_plot), size
        assert chart_area(gradient) >= chart_area(panel.wish_plot), size
    # a larger window, larger charts
    assert seen[(1500, 940)][0] > 2 * seen[(1024, 700)][0]
    assert seen[(1920, 1080)][1] > 2 * seen[(1024, 700)][1]
    # in the tall, narrow column at 1500 x 940 they are stacked, each the panel's full width
    assert seen[(1500, 940)][2]


def test_the_panel_fits_a_320_by_480_column_whatever_it_shows(open_window) -> None:
    user = open_window()
    window = user.lay_out(1024, 700, front="backprop")
    panel = window.panels.backprop
    click_neuron(user, 1, 3)  # the tallest texts: a neuron's numbers, a step's title
    user.qtbot.waitUntil(lambda: panel.neuron_box.isVisible())
    user.qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(lambda: panel.undo_button.isEnabled())
    QApplication.processEvents()
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 480, hint


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_cut_with_a_neuron_and_a_step_shown(open_window, size) -> None:
    user = open_window()
    window = user.lay_out(*size, front="backprop")
    panel = window.panels.backprop
    for layer, j in ((1, 3), (3, 5)):  # a first-layer neuron (pictures), an output (bars)
        click_neuron(user, layer, j)
        user.qtbot.waitUntil(lambda: panel.neuron_box.isVisible())
        user.qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
        user.qtbot.waitUntil(lambda: panel.undo_button.isEnabled())
        user.qtbot.waitUntil(lambda: not window.frames.busy)
        QApplication.processEvents()
        problems = [p for p in misfits(window) if "'Backprop'" in p]
        assert not problems, "\n".join(problems)

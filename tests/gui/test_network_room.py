"""The network diagram gets the room first; the words under it fit what is left."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractButton, QComboBox, QGraphicsView
from textfit import misfits

from nnviz.core.modelio import load_model
from nnviz.gui.panels.network import NetworkPanel
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]


def network_misfits(window) -> list[str]:
    return [p for p in misfits(window) if "NetworkPanel" in p]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_diagram_keeps_the_room_and_the_words_fit(open_window, size) -> None:
    user = open_window()
    window = user.lay_out(*size, front="network")
    user.wait_for_step(0)
    user.settle()
    panel = window.panels.network
    assert panel.view.height() >= 0.6 * panel.height(), (panel.view.size(), panel.size())
    assert network_misfits(window) == []
    assert panel.info.toolTip() in ("", panel.info_text())  # the full words on hover
    # a neuron chosen with the mouse: its numbers fit (or say the rest on hover)
    point = panel.view.mapFromScene(panel.node_scene_pos(1, 3))
    user.qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    user.qtbot.waitUntil(lambda: panel.info_text().startswith("Hidden layer 1, neuron 3"))
    user.settle()
    assert network_misfits(window) == []
    shown = panel.info.label.text()
    assert "Hidden layer 1, neuron 3" in shown
    if panel.info.toolTip():
        assert panel.info.toolTip() == panel.info_text()
    # the nudges' legend beside its switch fits too
    user.qtbot.mouseClick(panel.nudge_view.bar.check, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(panel.nudges_shown)
    user.settle()
    assert network_misfits(window) == []


def shown_text(panel: NetworkPanel) -> str:
    """What the info box's label reads, as plain text."""
    document = QTextDocument()
    document.setHtml(panel.info.label.text())
    return document.toPlainText()


def test_small_panel_shortens_the_explanation(qtbot) -> None:
    panel = NetworkPanel(AppState(load_model(bundled_model_path())[0]))
    qtbot.addWidget(panel)
    panel.resize(330, 240)  # a network dock at 1024x700
    panel.show()
    qtbot.waitExposed(panel)
    full = panel.info_text()
    assert full.startswith("Hover over a neuron")
    qtbot.waitUntil(lambda: panel.view.height() >= 0.6 * panel.height())
    qtbot.waitUntil(lambda: panel.info.toolTip() == full)  # the whole of it on hover
    assert shown_text(panel).startswith("Hover or click a neuron for its numbers.")
    assert len(shown_text(panel)) < len(full) / 2
    label = panel.info.label
    assert label.heightForWidth(label.contentsRect().width()) <= label.contentsRect().height()
    panel.resize(700, 600)
    qtbot.waitUntil(lambda: panel.info.toolTip() == "")
    assert shown_text(panel) == full


def test_minimum_size_is_small(open_window) -> None:
    user = open_window()
    for name in ("network", "weights", "hidden"):
        hint = user.window.docks[name].widget().minimumSizeHint()
        assert hint.width() <= 320 and hint.height() <= 240, (name, hint)


def test_panels_name_their_parts_for_screen_readers(open_window) -> None:
    user = open_window()
    panels = user.window.panels
    for panel in (panels.network, panels.weights, panels.hidden):
        assert panel.accessibleName() and panel.accessibleDescription()
        for view in panel.findChildren(QGraphicsView):
            assert view.accessibleName(), f"a plot of {panel.accessibleName()} has no name"
            assert view.accessibleDescription().endswith("."), view.accessibleName()
        controls = [*panel.findChildren(QComboBox), *panel.findChildren(QAbstractButton)]
        for control in controls:
            assert control.accessibleName(), control
    hidden = panels.hidden
    names = {c.accessibleName() for c in hidden.findChildren(QComboBox)}
    assert names == {"Hidden layer", "Colour scale"}

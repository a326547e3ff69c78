"""The Input probes panel in a small corner of the window, and both panels for screen readers.

At 1024x700 the probes share the left column's lower third (~320 x 300 px):
the pictures, the ten bars and the controls must all stay readable there.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGraphicsView,
    QScrollBar,
)
from textfit import misfits

from nnviz.gui.panels.canvas.readouts import InputPreview

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]


def click(user, button) -> None:  # type: ignore[no-untyped-def]
    user.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def nudge_a_test_digit(user) -> None:  # type: ignore[no-untyped-def]
    """A test digit (a 7) nudged towards 3: the longest sentence the panel writes."""
    window = user.window
    click(user, window.panels.canvas.digit_button)
    user.qtbot.waitUntil(lambda: window.state.label is not None)  # the digit is the input
    QApplication.processEvents()
    panel = window.panels.probes
    panel.target_box.setCurrentIndex(3)
    click(user, panel.nudge_button)
    user.qtbot.waitUntil(lambda: not panel.is_busy() and panel.probe() is not None)
    QApplication.processEvents()


def test_the_panel_fits_a_320_by_240_corner_whatever_it_shows(open_window) -> None:
    user = open_window()
    window = user.lay_out(1024, 700, front="probes")
    panel = window.panels.probes
    nudge_a_test_digit(user)
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 240, hint


def nothing_cut(user) -> None:  # type: ignore[no-untyped-def]
    """Once the panel has laid out its new words (a turn or two of the event loop; longer
    on a busy machine), nothing in it is cut."""

    def problems() -> list[str]:
        return [p for p in misfits(user.window) if "'Input probes'" in p]

    user.settle()
    try:
        user.qtbot.waitUntil(lambda: not problems(), timeout=5000)
    finally:
        assert not problems(), "\n".join(problems())


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_cut_after_a_nudge_and_a_dream(open_window, size) -> None:
    user = open_window()
    window = user.lay_out(*size, front="probes")
    panel = window.panels.probes
    nudge_a_test_digit(user)
    nothing_cut(user)
    # the network learns a step: the result says it was found with earlier weights (longer)
    user.press(window.actions_.step)
    user.qtbot.waitUntil(lambda: "earlier weights" in panel.summary.text(), timeout=30_000)
    nothing_cut(user)
    click(user, panel.dream_button)
    user.qtbot.waitUntil(lambda: not panel.is_busy() and panel.probe().kind == "dream")
    nothing_cut(user)
    # a row per digit, each as tall as a digit: their labels never run together
    bars = panel.bars
    rows = bars.getPlotItem().getViewBox().height() / 10
    assert rows >= QFontMetrics(bars.getAxis("left").font()).ascent(), rows


def test_the_bars_captions_are_their_key(open_window) -> None:
    user = open_window()
    window = user.lay_out(1280, 720, front="probes")
    panel = window.panels.probes
    nudge_a_test_digit(user)
    before, after = panel.bars.colours
    assert before.name() in panel._before_caption.text()
    assert after.name() in panel._after_caption.text()
    assert panel.bars.before.opts["brush"].name() == before.name()


def test_every_picture_and_control_has_a_name_for_screen_readers(open_window) -> None:
    user = open_window()
    window = user.window
    for panel in (window.panels.probes, window.panels.backprop):
        assert panel.accessibleName() and panel.accessibleDescription()
        pictures = [*panel.findChildren(QGraphicsView), *panel.findChildren(InputPreview)]
        assert len(pictures) >= 4
        for picture in pictures:
            assert picture.accessibleName(), type(picture).__name__
            assert picture.accessibleDescription(), picture.accessibleName()
        controls = [
            *panel.findChildren(QComboBox),
            *panel.findChildren(QAbstractSpinBox),
            *panel.findChildren(QAbstractSlider),
            *panel.findChildren(QAbstractButton),
        ]
        for control in controls:
            if isinstance(control, QScrollBar) or isinstance(
                control.parentWidget(), (QComboBox, QAbstractSpinBox)
            ):
                continue  # a part of a plot or a control (a view's scroll bar, an arrow)
            assert control.accessibleName() or getattr(control, "text", str)(), control

"""View ▸ Dark reaches the Help dialog and the weight tiles, and light comes back."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from nnviz.gui.help import HelpDialog


def pixels(widget: QWidget, rect: QRect | None = None) -> np.ndarray:
    """``(h, w, 3)`` RGB of what ``widget`` shows now (``rect``: a part of it)."""
    image = widget.grab(rect or QRect(0, 0, -1, -1)).toImage()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, line = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=line * height)
    return data.reshape(height, line)[:, : 3 * width].reshape(height, width, 3)


def lightness(widget: QWidget, rect: QRect | None = None) -> float:
    """The mean grey level (0-255) of what ``widget`` shows."""
    return float(pixels(widget, rect).mean())


def open_help(user) -> HelpDialog:
    user.window.show_help()  # as F1 does
    user.qtbot.waitUntil(lambda: any(d.isVisible() for d in user.window.findChildren(HelpDialog)))
    dialog = next(d for d in user.window.findChildren(HelpDialog) if d.isVisible())
    QApplication.processEvents()
    return dialog


def test_help_dialog_follows_the_palette(open_window) -> None:
    user = open_window()
    window = user.window
    window.set_dark(True)
    dialog = open_help(user)
    try:
        assert lightness(dialog) < 80, "dark palette: the help's background is dark"
        text = pixels(dialog.browser.viewport())
        assert text.max() > 180, "and its text light"
        window.set_dark(False)  # while the dialog is open
        QApplication.processEvents()
        assert lightness(dialog) > 200, "back to light"
        window.set_dark(True)
        QApplication.processEvents()
        assert lightness(dialog) < 80
    finally:
        dialog.close()
        window.set_dark(False)


def _gutter_point(panel, x: float, y: float) -> QPointF:
    """Widget coordinates (of the graphics view) of view point ``(x, y)`` of a mosaic."""
    scene = panel.view().mapViewToScene(QPointF(x, y))
    return QPointF(panel.graphics().mapFromScene(scene))


def _widget_rect(panel, rect: QRectF) -> QRect:
    """Widget pixels inside the mosaic rectangle ``rect`` (view coordinates)."""
    scene = panel.view().mapRectToScene(rect)
    return panel.graphics().mapFromScene(scene).boundingRect().adjusted(2, 2, -2, -2)


def test_weight_tiles_follow_the_palette(open_window) -> None:
    user = open_window()
    window = user.window
    window.docks["weights"].raise_()
    panel = window.panels.weights
    user.qtbot.waitUntil(panel.graphics().isVisible)
    first, second = panel.tile_rect(0), panel.tile_rect(1)
    try:
        for dark in (True, False, True):
            window.set_dark(dark)
            QApplication.processEvents()
            between = _gutter_point(panel, (first.right() + second.left()) / 2, first.center().y())
            tile = _widget_rect(panel, first)
            image = pixels(panel.graphics())
            x, y = round(between.x()), round(between.y())
            gutter = image[y, x - 2 : x + 3].mean(axis=1).min()  # the gutter is ~2 px wide
            shown = image[tile.top() : tile.bottom(), tile.left() : tile.right()].mean()
            if dark:
                assert gutter < 45, "the background between tiles is dark"
                assert shown < 110, "a tile's zero is dark too: light strokes on dark"
            else:
                assert gutter > 150 and shown > 180, "light palette: light tiles, grey gutters"
    finally:
        window.set_dark(False)


def test_hidden_tiles_follow_the_palette(open_window) -> None:
    user = open_window()
    window = user.window
    window.docks["hidden"].raise_()
    panel = window.panels.hidden
    user.qtbot.waitUntil(panel.graphics().isVisible)
    try:
        window.set_dark(True)
        QApplication.processEvents()
        tile = _widget_rect(panel, panel.tile_rect(0))
        assert lightness(panel.graphics(), tile) < 110
        assert lightness(panel.graphics()) < 80, "the whole mosaic reads dark"
        window.set_dark(False)
        QApplication.processEvents()
        assert lightness(panel.graphics(), tile) > 180
    finally:
        window.set_dark(False)

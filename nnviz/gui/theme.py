"""Colours and palettes shared by every panel.

Weights: positive blue, negative red, zero white, as in the lessons. The
colour-blind-safe alternative is purple/orange (the two ends of ColorBrewer's
PuOr scheme, distinguishable with every common colour-vision deficiency).
In the dark palette zero is a dark grey a little lighter than the plots'
background (so a tile still shows its edge) and both ends are lighter, as
on every dark plot: a picture of weights then reads as light strokes on dark.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

POSITIVE = QColor(40, 110, 220)
NEGATIVE = QColor(215, 45, 40)
POSITIVE_CB = QColor(84, 39, 136)  # PuOr purple
NEGATIVE_CB = QColor(230, 97, 1)  # PuOr orange
HIGHLIGHT = QColor(255, 190, 30)  # the winning output, the selected neuron
#: Zero on the dark diverging map: the dark plots' background, a little lighter.
DARK_ZERO = QColor(58, 60, 66)
#: How much lighter (Qt's ``QColor.lighter`` factor) the weight colours are on dark plots.
DARK_LIGHTER = 140


def blend(colour: QColor, background: QColor, alpha: int) -> QColor:
    """``colour`` at opacity ``alpha`` (0-255) over ``background``, as an OPAQUE colour.

    Qt's raster engine paints translucent lines several times slower than
    opaque ones (measured 5x for a 600-point curve), so faint lines that are
    drawn over a plain background use the pre-blended colour instead.
    """
    t = alpha / 255.0
    mix = [round(c * t + b * (1 - t)) for c, b in zip(_rgb(colour), _rgb(background), strict=True)]
    return QColor(*mix)


def _rgb(colour: QColor) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()


def sign_colours(colour_blind: bool = False) -> tuple[QColor, QColor]:
    """``(positive, negative)`` colours for weights and edges."""
    return (POSITIVE_CB, NEGATIVE_CB) if colour_blind else (POSITIVE, NEGATIVE)


def diverging_colormap(colour_blind: bool = False, dark: bool = False) -> pg.ColorMap:
    """Negative -> zero -> positive, symmetric about zero (use symmetric levels).

    Zero is white in the light palette and :data:`DARK_ZERO` in the dark one,
    whose ends are lighter (:data:`DARK_LIGHTER`).
    """
    positive, negative = sign_colours(colour_blind)
    zero = QColor(255, 255, 255)
    if dark:
        positive, negative = positive.lighter(DARK_LIGHTER), negative.lighter(DARK_LIGHTER)
        zero = DARK_ZERO
    stops = np.array([0.0, 0.5, 1.0])
    colours = [negative.getRgb(), zero.getRgb(), positive.getRgb()]
    return pg.ColorMap(stops, colours)


def diverging_lut(colour_blind: bool = False, n: int = 256, dark: bool = False) -> np.ndarray:
    """The diverging map as an ``(n, 4)`` uint8 lookup table for ``ImageItem``."""
    colormap = diverging_colormap(colour_blind, dark)
    lut: np.ndarray = colormap.getLookupTable(0.0, 1.0, n, alpha=True)
    return lut


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """``(-m, m)`` with ``m`` the largest finite magnitude (at least a tiny value)."""
    finite = values[np.isfinite(values)]
    m = float(np.max(np.abs(finite))) if finite.size else 1.0
    return -max(m, 1e-12), max(m, 1e-12)


def dark_palette() -> QPalette:
    """A readable dark palette for the Fusion style."""
    p = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 49), QColor(225, 227, 230)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 80, 80),
        QPalette.ColorRole.Link: QColor(110, 170, 255),
        QPalette.ColorRole.Highlight: QColor(60, 120, 215),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.PlaceholderText: QColor(140, 143, 148),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    disabled = QColor(120, 122, 126)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_palette(app: QApplication, dark: bool) -> None:
    """Switch the whole application between the light and the dark palette."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    pg.setConfigOptions(
        background=(30, 31, 34) if dark else "w",
        foreground=(225, 227, 230) if dark else (40, 40, 40),
    )


def plot_colours(dark: bool) -> tuple[QColor, QColor]:
    """``(background, foreground)`` for pyqtgraph views in the current palette."""
    if dark:
        return QColor(30, 31, 34), QColor(225, 227, 230)
    return QColor(255, 255, 255), QColor(40, 40, 40)

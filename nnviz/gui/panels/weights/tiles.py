"""Tiles in a mosaic, shared by the weight-image and the hidden-neuron panels.

Both draw one picture per neuron in a near-square grid, as ONE ``ImageItem``
with NaN gutters, each tile with a small number plate, and a colour bar of the
diverging weight colours beside it. Here are the grid's shape, the plates
(shown only while a tile is big enough to carry one), the colour bar and
:class:`TilePanel`: the scale choice and the hint line
(:class:`~nnviz.gui.panels.words.FittingLine`) both panels have.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QComboBox, QWidget

from nnviz.gui import theme
from nnviz.gui.panels import plots
from nnviz.gui.panels.plots import FastLabel, nice_levels
from nnviz.gui.panels.words import FittingLine

Array = npt.NDArray[Any]

#: The colour-scale choices of a mosaic.
SCALES = ("shared scale", "per-image scale")
#: Tile labels are hidden when a tile is smaller than this on screen (pixels).
MIN_LABELLED_TILE_PX = 44.0
#: The plates' point size and their z value (above the tiles and frames).
LABEL_POINTS, LABEL_Z = 7.5, 10


def grid_shape(n: int) -> tuple[int, int]:
    """``(rows, cols)`` of a near-square grid for ``n`` tiles (4x4 for 16, 6x6 for 32)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def image_side(n_inputs: int) -> int | None:
    """The side of a square input image, or None when ``n_inputs`` is not a square."""
    side = math.isqrt(n_inputs)
    return side if side * side == n_inputs and side > 1 else None


def tile_label(view: pg.ViewBox, text: str, x: float, y: float) -> FastLabel:
    """A small number on a translucent plate with its top left at ``(x, y)`` of ``view``."""
    label = plots.add_label(
        view, text, (x, y), (0.0, 0.0), font=plots.small_font(LABEL_POINTS), pad=(2.0, 0.0)
    )
    label.setZValue(LABEL_Z)
    return label


def style_tile_labels(labels: list[FastLabel], dark: bool) -> None:
    """Plates of the background colour (translucent) with text in the foreground colour."""
    background, foreground = theme.plot_colours(dark)
    fill = QColor(background)
    fill.setAlpha(190)
    for label in labels:
        label.set_plate(fill, foreground)


def labels_fit(view: pg.ViewBox, side: int) -> bool:
    """Whether a tile of ``side`` image pixels is big enough on screen to carry a plate."""
    pixel = view.viewPixelSize()[0]
    return bool(pixel > 0 and side / pixel >= MIN_LABELLED_TILE_PX)


def weight_bar() -> pg.ColorBarItem:
    """The colour bar beside a mosaic: fixed, no menu, plain numbers on its axis."""
    bar = pg.ColorBarItem(values=(-1, 1), width=12, interactive=False, colorMapMenu=False)
    bar.axis.enableAutoSIPrefix(False)  # "0.4", not "400 (x0.001)"
    return bar


def show_levels(bar: pg.ColorBarItem, levels: tuple[float, float], label: str) -> None:
    """Show ``levels`` under the title ``label``, touching the bar only for a change:
    redrawing the bar's axis costs ~2 ms."""
    if bar.levels() != levels:
        bar.setLevels(levels)
    if bar.axis.labelText != label:
        bar.axis.setLabel(label)


class TilePanel(QWidget):
    """A panel of neuron tiles: the colour-scale choice, the levels and the hint line.

    The weight-image and hidden-neuron panels derive from it: each builds its
    mosaic, places :attr:`_scale_box` and :attr:`_info`, connects the box to
    its redraw, passes its tiles through :meth:`_scale` and says its hint
    with :meth:`_show_hint`.

    Parameters
    ----------
    what
        What a tile's pixels are (``"weight"``, ``"value"``), for the tooltip.
    parent
        Optional parent widget.
    """

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._levels = (-1.0, 1.0)
        self._shared_levels: tuple[float, float] | None = None  # kept while they fit
        self._hint: tuple[str, ...] = ("",)
        self._scale_box = QComboBox()
        self._scale_box.addItems(SCALES)
        self._scale_box.setToolTip(
            "Shared: one colour scale for all neurons, so strengths compare.\n"
            f"Per-image: each neuron scaled by its own largest |{what}|, to see its pattern."
        )
        self._scale_box.setAccessibleName("Colour scale")
        self._scale_box.setAccessibleDescription(self._scale_box.toolTip())
        self._info = FittingLine()
        self._info.setAccessibleName("Hint and hovered neuron")

    @property
    def per_image_scale(self) -> bool:
        """Whether each tile is scaled by its own largest magnitude."""
        return self._scale_box.currentIndex() == 1

    def set_per_image_scale(self, on: bool) -> None:
        """Choose per-image (True) or shared (False) colour scaling."""
        self._scale_box.setCurrentIndex(1 if on else 0)

    def levels(self) -> tuple[float, float]:
        """The ``(low, high)`` colour levels of the mosaic (symmetric about zero)."""
        return self._levels

    def _scale(self, tiles: Array) -> Array:
        """``tiles`` ``(n, side, side)`` as drawn; sets the levels they are drawn with.

        Per image: each tile divided by its own largest ``|value|``, levels
        ``(-1, 1)``. Shared: the tiles themselves, on nice symmetric levels
        kept while they fit (:func:`~nnviz.gui.panels.plots.nice_levels`).
        """
        if self.per_image_scale:
            peak = np.max(np.abs(tiles), axis=(1, 2))
            self._levels = (-1.0, 1.0)
            return tiles / np.where(peak > 0, peak, 1.0)[:, None, None]
        self._levels = self._shared_levels = nice_levels(tiles, self._shared_levels)
        return tiles

    def _show_hint(self, *texts: str) -> None:
        """What the line says while no tile is hovered: the full sentence, then shorter ones."""
        self._hint = texts
        self._info.set_texts(texts)

    def hint(self) -> str:
        """The full hint sentence (shorter words are shown where it does not fit)."""
        return self._hint[0]

    def info_text(self) -> str:
        """The line's full text: the hint, or the numbers of the hovered neuron."""
        return self._info.full_text()

    def _update_label_visibility(self) -> None:
        """Show the tiles' plates only where they fit (the subclass knows its tiles)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Restore the hint when the mouse leaves the mosaic."""
        if event.type() == QEvent.Type.Leave:
            self._info.set_texts(self._hint)
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Show tile labels only when tiles are big enough to carry them."""
        super().resizeEvent(event)
        self._update_label_visibility()

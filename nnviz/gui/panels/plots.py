"""How every plot of the panels is set up: palette, stillness, ranges and text.

The panels draw with pyqtgraph; what their plots share lives here, so that a
plot looks and behaves the same in every panel:

- looks: :func:`restyle` paints a plot's background and axes in the
  palette's colours; :func:`sign_colours` are the weights' colours on a plot;
- stillness: the panels' plots are pictures, not instruments: :func:`quiet`
  takes a plot's mouse, menu and buttons away, :func:`still_view` adds such a
  view box to a graphics layout;
- ranges that follow live data in rare "nice" jumps, because re-ticking an
  axis costs a few milliseconds a frame: :func:`stable_range`,
  :func:`follow_extent`, :func:`nice_levels`, :func:`stable_top`;
- text: every text drawn on a plot is a :class:`FastLabel`, added by
  :func:`add_label`. It draws plain text with one ``QPainter.drawText``.
  Measured with 16 labels on a view (offscreen, this machine): 11 us a label
  to repaint and 20 us when its text changed, against 27 and 55 us for
  ``pg.TextItem`` (rich text, whose transform is recomputed at every paint:
  56 and 88 us while the view zooms) and 6 and 14 us for a
  ``QGraphicsSimpleTextItem`` on a plate item (two items, left-aligned lines
  only, no anchor).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnviz.gui import theme

Array = npt.NDArray[Any]

#: Every side of a colour bar, whose axes all take the palette.
ALL_SIDES = ("left", "right", "top", "bottom")


# ------------------------------------------------------------------ looks
def restyle(widget: pg.GraphicsView, dark: bool, *axes: pg.AxisItem) -> tuple[QColor, QColor]:
    """Paint ``widget``'s background and ``axes`` in the palette; ``(background, foreground)``."""
    background, foreground = theme.plot_colours(dark)
    widget.setBackground(background)
    for axis in axes:
        axis.setPen(foreground)
        axis.setTextPen(foreground)
    return background, foreground


def axes_of(owner: Any, sides: tuple[str, ...] = ("left", "bottom")) -> list[pg.AxisItem]:
    """The axes of a plot (or a colour bar: ``sides=ALL_SIDES``) on ``sides``."""
    return [owner.getAxis(side) for side in sides]


def sign_colours(dark: bool, colour_blind: bool) -> tuple[QColor, QColor]:
    """``(positive, negative)`` weight colours for a plot: lighter on a dark background,
    where the dark purple of the colour-blind map would vanish."""
    factor = 140 if dark else 100
    positive, negative = theme.sign_colours(colour_blind)
    return QColor(positive).lighter(factor), QColor(negative).lighter(factor)


def sign_names(colour_blind: bool) -> tuple[str, str]:
    """The names of the positive and negative weight colours, for hints and legends."""
    return ("purple", "orange") if colour_blind else ("blue", "red")


def digit_ticks(n: int) -> list[tuple[float, str]]:
    """Tick labels for ``n`` bars: every one up to 10, every 5th up to 50, else about ten."""
    step = 1 if n <= 10 else 5 if n <= 50 else math.ceil(n / 10)
    return [(float(i), str(i)) for i in range(0, n, step)]


# ------------------------------------------------------------------ stillness
def quiet(plot: pg.PlotItem, zoom: bool = False) -> pg.PlotItem:
    """No context menu, no "A" button and, unless ``zoom``, no mouse panning or zooming."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    if not zoom:
        plot.setMouseEnabled(x=False, y=False)
    return plot


def still_view(layout: pg.GraphicsLayoutWidget, **options: Any) -> pg.ViewBox:
    """A view box added to ``layout`` that the mouse neither moves nor opens a menu on."""
    return layout.addViewBox(enableMouse=False, enableMenu=False, **options)


# ------------------------------------------------------------------ ranges
#: A range shown is kept while at most this many times wider than needed.
STILL_SLACK = 1.6


def nice_ceiling(value: float) -> float:
    """The smallest ``m * 10**k`` (m in 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8) >= ``value`` > 0."""
    decade = 10.0 ** math.floor(math.log10(value))
    for m in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0):
        if m * decade >= value * (1 - 1e-12):
            return m * decade
    return 10.0 * decade


def nice_extent(span: float) -> float:
    """A step-axis width at least ``span`` (and 1), at most a third wider: few jumps."""
    return nice_ceiling(max(span, 1.0))


def nice_cost_range(values: Array, log: bool) -> tuple[float, float]:
    """A cost-axis range holding ``values`` that changes rarely as training goes on.

    Linear: ``(0, nice_ceiling(max))``. Log: whole half-decades, in log10 units
    (what a log-mode ``ViewBox`` takes). NaN, infinities (and, in log, values
    <= 0) are ignored.
    """
    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
        if not finite.size:
            return -1.0, 1.0
        low = math.floor(2 * math.log10(finite.min())) / 2
        return low, max(math.ceil(2 * math.log10(finite.max())) / 2, low + 0.5)
    if not finite.size or finite.max() <= 0:
        return 0.0, 1.0
    return min(0.0, float(finite.min())), nice_ceiling(float(finite.max()))


def stable_range(
    shown: tuple[float, float] | None, needed: tuple[float, float], slack: float = STILL_SLACK
) -> tuple[float, float]:
    """``shown`` while it holds ``needed`` and is at most ``slack`` times wider, else ``needed``.

    Axes that follow live data keep their range (and their ticks: re-ticking
    an axis costs a few ms) until the data leave it or shrink well inside it.
    """
    if shown is None:
        return needed
    (low, high), (a, b) = shown, needed
    if low <= a and b <= high and high - low <= slack * (b - a):
        return shown
    return needed


def stable_top(top: float, peak: float, keep_down_to: float, headroom: float) -> float:
    """The top of a symmetric bar range for values up to ``peak``: ``top`` while
    ``keep_down_to * top <= peak <= top``, else ``peak * headroom``."""
    return top if keep_down_to * top <= peak <= top else peak * headroom


def nice_levels(values: Array, shown: tuple[float, float] | None = None) -> tuple[float, float]:
    """Symmetric levels ``(-m, m)`` holding every ``|value|``, with ``m`` a "nice" number.

    ``m`` is 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten (at
    most a third above the largest ``|value|``). Given the levels ``shown``
    now, they are kept while they still hold every value and are not more
    than 1.6 times too wide: a colour bar then stays still while training
    nudges the weights (re-ticking its axis cost ~3 ms, and changed on
    almost every frame with two-digit rounding). No value is ever clipped.
    """
    m = nice_ceiling(theme.symmetric_levels(values)[1])
    return stable_range(shown, (-m, m))


type Extent = tuple[tuple[float, float], tuple[float, float]]


def follow_extent(
    shown: Extent | None, steps: Array, costs: Array, log: bool, inclusive: bool = False
) -> Extent:
    """``(x, y)`` ranges of a view that follows a run of costs over steps.

    x starts at the first step and grows in nice jumps (``inclusive``: it counts
    the steps, one more than their span); y is the nice cost range, kept while
    the one ``shown`` still fits (:func:`stable_range`).
    """
    first = float(steps[0]) if steps.size else 0.0
    last = float(steps[-1]) if steps.size else 100.0
    x = (first, first + nice_extent(last - first + (1 if inclusive else 0)))
    y = stable_range(shown[1] if shown else None, nice_cost_range(costs, log))
    return x, y


# ------------------------------------------------------------------ text
#: Room between a label's text and the edges of its box (and plate), in pixels:
#: tight for numbers on a diagram or a tile, wider for a note or a caption that
#: stands on its own (as wide as the document margin of the ``pg.TextItem``s
#: these replaced, so the notes stayed where they were).
PAD = 2.0
WIDE_PAD = (4.0, 4.0)


def small_font(points: float | None = None) -> QFont:
    """The application's font at ``points``, or a point smaller (captions under pictures)."""
    font = QFont()
    font.setPointSizeF(points if points is not None else max(font.pointSizeF() - 1.0, 6.0))
    return font


class FastLabel(QGraphicsItem):
    """Plain (multi-line) text at a point of a view, the same size at every zoom.

    Parameters
    ----------
    text
        The text; ``"\\n"`` starts a new line.
    anchor
        The point of the text's box at ``pos()``: (0, 0) its top left,
        (1, 1) its bottom right (values beyond keep a distance from ``pos()``).
    color, font
        The text colour (dark grey by default) and font (the application's).
    align
        How lines of different widths align inside the box.
    pad
        Room between the text and the box's edges (across, down), in pixels.
    """

    def __init__(
        self,
        text: str = "",
        anchor: tuple[float, float] = (0.0, 0.0),
        color: QColor | None = None,
        font: QFont | None = None,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
        pad: tuple[float, float] = (PAD, PAD),
    ) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._text = text
        self._anchor = anchor
        self._color = QColor(color) if color is not None else QColor(40, 40, 40)
        self._font = QFont(font) if font is not None else QFont()
        self._align = align
        self._pad = pad
        self._fill: QColor | None = None
        self._text_color: QColor | None = None  # over the fill
        self._rect = QRectF()
        self._measure()

    # ------------------------------------------------------------------ API
    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str, color: QColor | None = None) -> None:
        """New text (and colour); re-measured only when it changed."""
        if color is not None:
            self.setColor(color)
        if text != self._text:
            self._text = text
            self._measure()

    def setColor(self, color: QColor) -> None:
        """The text colour."""
        self._color = QColor(color)
        self.update()

    def color(self) -> QColor:
        """The text colour (without a plate)."""
        return QColor(self._color)

    def setFont(self, font: QFont) -> None:
        """The font."""
        self._font = QFont(font)
        self._measure()

    def setAnchor(self, anchor: tuple[float, float]) -> None:
        """The point of the text's box at ``pos()`` (see the class)."""
        if anchor != self._anchor:
            self._anchor = anchor
            self._measure()

    def set_plate(
        self, fill: QColor | None, text_color: QColor | None = None, bold: bool = False
    ) -> None:
        """A background plate behind the text (``None``: none), optional bold text."""
        self._fill = QColor(fill) if fill is not None else None
        self._text_color = QColor(text_color) if text_color is not None else None
        if self._font.bold() != bold:
            self._font.setBold(bold)
        self._measure()

    def plate(self) -> QColor | None:
        """The background plate colour, or None."""
        return self._fill

    def is_bold(self) -> bool:
        """Whether the text is bold."""
        return self._font.bold()

    # ------------------------------------------------------------------ QGraphicsItem
    def _measure(self) -> None:
        self.prepareGeometryChange()
        metrics = QFontMetricsF(self._font)
        lines = self._text.split("\n") if self._text else [""]
        pad_x, pad_y = self._pad
        width = max(metrics.horizontalAdvance(line) for line in lines) + 2 * pad_x
        # whole pixels down, as Qt lays out a line of text: a plate then covers its last row
        height = math.ceil(metrics.lineSpacing() * len(lines)) + 2 * pad_y
        ax, ay = self._anchor
        self._rect = QRectF(-ax * width, -ay * height, width, height)
        self.update()

    def boundingRect(self) -> QRectF:
        """The text box around the anchor point, in pixels."""
        return self._rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """The plate, if any, then the text (laid out by ``drawText``: no cached document)."""
        if self._fill is not None:
            painter.fillRect(self._rect, self._fill)
        painter.setFont(self._font)
        painter.setPen(
            self._text_color if self._fill is not None and self._text_color else self._color
        )
        pad_x, pad_y = self._pad
        inner = self._rect.adjusted(pad_x, pad_y, -pad_x, -pad_y)
        painter.drawText(inner, int(self._align), self._text)


def add_label(
    owner: Any,
    text: str = "",
    at: tuple[float, float] | None = None,
    anchor: tuple[float, float] = (0.5, 0.5),
    *,
    color: QColor | None = None,
    font: QFont | None = None,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
    pad: tuple[float, float] = (PAD, PAD),
    z: float | None = None,
) -> FastLabel:
    """A :class:`FastLabel` on ``owner`` (a view box or a plot), at view point ``at``.

    The label never widens the view's automatic range (``ignoreBounds``): its
    box is in pixels, not in the view's units.
    """
    label = FastLabel(text, anchor, color, font, align, pad)
    if at is not None:
        label.setPos(*at)
    if z is not None:
        label.setZValue(z)
    owner.addItem(label, ignoreBounds=True)
    return label

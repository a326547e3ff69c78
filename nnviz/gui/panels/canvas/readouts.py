"""What the network sees and says: the 28x28 input enlarged, and its ten outputs.

:class:`InputPreview` paints a small grayscale image with crisp pixels (the
probes panel shows its images with it too); :class:`ProbabilityBars` are the
ten output bars with the winner highlighted and its value printed above it
(kept inside the plot, over the first and last bar too), or no bars at all
while the canvas is empty.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

from nnviz.gui import theme
from nnviz.gui.panels import plots


class InputPreview(QWidget):
    """A small grayscale image (the 28x28 network input) enlarged with crisp pixels."""

    def __init__(self, rows: int = 28, cols: int = 28, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = np.zeros((rows, cols), dtype=np.float32)
        self._image = QImage(cols, rows, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self.setMinimumSize(2 * cols, 2 * rows)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Network input")
        self.setAccessibleDescription(
            f"The {rows}x{cols} image the network is given, enlarged: bright pixels are ink."
        )

    def values(self) -> npt.NDArray[np.float32]:
        """The image shown, ``float32`` in [0, 1]."""
        return self._values.copy()

    def set_values(self, values: npt.ArrayLike) -> None:
        """Show ``values`` (2-D, in [0, 1]; a flat array is reshaped to a square)."""
        arr = np.asarray(values, dtype=np.float32)
        if arr.ndim == 1:
            side = round(arr.size**0.5)
            arr = arr.reshape(side, -1)
        self._values = np.clip(arr, 0.0, 1.0)
        grey = np.ascontiguousarray(np.round(self._values * 255.0), dtype=np.uint8)
        rows, cols = grey.shape
        self._image = QImage(grey.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()
        self.update()

    def target_rect(self) -> QRect:
        """The centred square; a whole number of screen pixels per image pixel if possible."""
        n = max(self._image.width(), self._image.height())
        side = min(self.width(), self.height())
        if side >= n:
            side -= side % n
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def sizeHint(self) -> QSize:
        """A comfortable size: five screen pixels per pixel of a 28x28 image."""
        return QSize(140, 140)

    def paintEvent(self, event: QPaintEvent) -> None:
        """The image with crisp pixels, a faint pixel grid when large, and a frame."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        rect = self.target_rect()
        painter.drawImage(rect, self._image)  # no smoothing: nearest neighbour
        self._draw_grid(painter, rect)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.end()

    def _draw_grid(self, painter: QPainter, rect: QRect) -> None:
        """Faint pixel borders, only when the pixels are big enough to show them."""
        cols, rows = self._image.width(), self._image.height()
        cell = rect.width() / cols
        if cell < 6:
            return
        painter.setPen(QPen(QColor(128, 128, 128, 45), 1))
        for k in range(1, cols):
            x = rect.x() + round(k * cell)
            painter.drawLine(x, rect.top(), x, rect.bottom())
        for k in range(1, rows):
            y = rect.y() + round(k * rect.height() / rows)
            painter.drawLine(rect.left(), y, rect.right(), y)


class ProbabilityBars(pg.PlotWidget):
    """Ten output bars, y fixed to 0..1, the winner highlighted with its value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = np.zeros(10, dtype=np.float32)
        self._bar_colour = QColor(150, 158, 172)
        self._text_colour = QColor(40, 40, 40)
        plots.quiet(self.getPlotItem())
        # A grid would hide the "0" tick label (pyqtgraph clips labels to the view
        # when a grid is shown); one dashed line marks the top value, 1.
        self.top_line = pg.InfiniteLine(pos=1.0, angle=0, movable=False)
        self.addItem(self.top_line)
        self.bar_item = pg.BarGraphItem(x=np.arange(10), height=self._values, width=0.72)
        self.addItem(self.bar_item)
        self.value_text = plots.add_label(self, anchor=(0.5, 1.0), pad=plots.WIDE_PAD)
        self.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        self.setMinimumSize(120, 72)
        self.setAccessibleName("Output bars")
        self.setAccessibleDescription(
            "One bar per digit: how strongly the network answers each; the highest"
            " is highlighted with its value."
        )
        self._empty = False
        self.getViewBox().sigResized.connect(self._fit_y_range)
        self.getViewBox().sigResized.connect(self._keep_value_text_inside)
        self.set_count(10)

    def set_count(self, n: int) -> None:
        """Use ``n`` bars, labelled 0..n-1."""
        self._values = np.zeros(n, dtype=np.float32)
        self.getAxis("bottom").setTicks([plots.digit_ticks(n)])
        self.setXRange(-0.6, n - 0.4, padding=0)
        self._fit_y_range()
        self.set_values(self._values)

    def _fit_y_range(self) -> None:
        """Values lie in 0..1; keep ~24 px of headroom above 1 for the printed value."""
        low, headroom = -0.02, 24.0
        height = max(self.getViewBox().height(), 2 * headroom)
        top = (1.0 - headroom * low / height) / (1.0 - headroom / height)
        self.setYRange(low, top, padding=0)

    def set_axis_label(self, text: str, tooltip: str) -> None:
        """Name the y axis (``probability`` or ``activation``) and explain it."""
        self.setLabel("left", text)
        self.setToolTip(tooltip)

    def set_values(self, values: npt.ArrayLike, empty: bool = False) -> None:
        """Show ``values`` (one per bar); the largest is highlighted and printed.

        ``empty``: there is nothing to classify (a blank canvas); the bars are
        drawn empty, with no winner, whatever ``values`` are.
        """
        self._empty = bool(empty)
        self._values = np.asarray(values, dtype=np.float32).reshape(-1).copy()
        if self._empty:
            self._values[:] = 0.0
        n = self._values.size
        winner = int(np.argmax(self._values)) if n and not self._empty else -1
        brushes = [theme.HIGHLIGHT if i == winner else self._bar_colour for i in range(n)]
        self.bar_item.setOpts(x=np.arange(n), height=self._values, brushes=brushes, pen=None)
        self._place_value_text(winner)

    def heights(self) -> npt.NDArray[np.float32]:
        """The bar heights as drawn (read back from the bar item)."""
        return np.asarray(self.bar_item.opts["height"], dtype=np.float32)

    def restyle(self, dark: bool) -> None:
        """Follow the light or dark palette."""
        _, foreground = plots.restyle(self, dark, *plots.axes_of(self))
        self._bar_colour = QColor(105, 112, 124) if dark else QColor(160, 168, 182)
        self._text_colour = foreground
        line = QColor(foreground)
        line.setAlpha(110)
        self.top_line.setPen(pg.mkPen(line, width=1, style=Qt.PenStyle.DashLine))
        self.set_values(self._values, self._empty)

    def is_empty(self) -> bool:
        """Whether the bars are shown empty (nothing to classify)."""
        return self._empty

    def _place_value_text(self, winner: int) -> None:
        """Print the winner's value just above its bar."""
        if winner < 0:
            self.value_text.setText("")
            return
        value = float(self._values[winner])
        self.value_text.setText(f"{value:.2f}", color=self._text_colour)
        self.value_text.setPos(winner, max(value, 0.0) + 0.01)
        self._keep_value_text_inside()

    def _keep_value_text_inside(self) -> None:
        """Slide the value's box sideways so it stays inside the plot.

        Centred over bar 0 or the last bar, half the text would hang over the
        plot's edge, where the view cuts it off (".00", "0.9").
        """
        label, view = self.value_text, self.getViewBox()
        width = label.boundingRect().width()
        x = view.mapViewToScene(label.pos()).x() - view.sceneBoundingRect().left()
        room = view.width()
        if width <= 0 or room <= width:
            label.setAnchor((0.5, 1.0))
            return
        left = min(max(x - width / 2, 0.0), room - width)
        label.setAnchor(((x - left) / width, 1.0))

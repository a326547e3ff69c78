"""The drawing surface of the Canvas panel: white ink on black, like MNIST.

A plain ``QWidget`` painting into a ``QImage`` (STYLE.md: pyqtgraph's draw
kernel leaves gaps in fast strokes). Every mouse move draws one anti-aliased
round-cap line from the previous point, so strokes stay connected however
fast the pen moves. Pen tablets work through the mouse events Qt synthesises
from unhandled tablet events.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

Array = npt.NDArray[Any]

CANVAS_SIDE = 280
"""Side of the drawing in image pixels (ten times MNIST's 28)."""

BRUSH_FRACTION = 1 / 10
"""Brush width as a fraction of the canvas side (28 px of 280).

Measured on the MNIST test set, the ones' strokes are 2.9 px wide (median
ink mass over length; quartiles 2.4-3.4) in the 20 px box. A vertical stroke
with this brush pre-processes to 3.1 px when drawn 180 px tall and 2.5 px
when 224 px tall (80% of the canvas); 1/12 would give 2.6 and 2.1 px, thinner
than MNIST for a digit drawn across the canvas. The Pen control of the panel
changes it; :func:`nnviz.core.preprocess.preprocess_drawing` thins strokes
that come out thicker than MNIST's after scaling (a small digit drawn with a
wide pen).
"""

ERASER_EXTRA = 4.0
"""The eraser is this many image pixels wider than the pen, and not anti-aliased.

An anti-aliased eraser over anti-aliased ink leaves a faint grey outline
(each edge pixel only partly covered twice) that reaches the network input;
a hard-edged eraser a little wider than the ink's soft edge removes it all.
"""


class DrawingCanvas(QWidget):
    """A square grayscale drawing surface; left button draws, right button erases.

    Signals
    -------
    drawing_changed
        The drawing changed; emitted at most once per event-loop pass while a
        stroke is drawn (and once more, at once, when the button is released).
    stroke_finished
        The mouse button that drew or erased was released.
    """

    drawing_changed = Signal()
    stroke_finished = Signal()

    def __init__(self, side: int = CANVAS_SIDE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage(side, side, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._brush_width = side * BRUSH_FRACTION
        self._eraser = False
        self._stroke_erases: bool | None = None  # None: no stroke in progress
        self._last: QPointF | None = None
        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(0)
        self._change_timer.timeout.connect(self.drawing_changed)
        self.setMinimumSize(100, 100)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip(
            "Draw a digit: left button draws, right button erases.\n"
            "It is cropped, scaled to 20x20 and centred in 28x28, as MNIST digits were."
        )
        self.setAccessibleName("Drawing canvas")
        self.setAccessibleDescription(
            "A square to draw a digit on with the mouse, white ink on black;"
            " the right button erases."
        )
        self._update_cursor()

    # ------------------------------------------------------------------ public API
    def is_drawing(self) -> bool:
        """Whether a stroke is in progress (a mouse button is down on the canvas)."""
        return self._last is not None

    def side(self) -> int:
        """Side of the drawing in image pixels."""
        return self._image.width()

    def brush_width(self) -> float:
        """Brush width in image pixels."""
        return self._brush_width

    def set_brush_width(self, width: float) -> None:
        """Set the brush width in image pixels."""
        self._brush_width = max(1.0, float(width))
        self._update_cursor()

    def is_eraser(self) -> bool:
        """Whether the left button erases."""
        return self._eraser

    def set_eraser(self, on: bool) -> None:
        """Make the left button erase (``True``) or draw (``False``)."""
        self._eraser = bool(on)
        self._update_cursor()

    def pixels(self) -> npt.NDArray[np.uint8]:
        """A copy of the drawing as ``uint8`` ``(side, side)``, ink 255."""
        image = self._image
        raw = np.frombuffer(image.constBits(), dtype=np.uint8)
        rows = raw.reshape(image.height(), image.bytesPerLine())
        return rows[:, : image.width()].copy()

    def image(self) -> npt.NDArray[np.float32]:
        """The drawing as ``float32`` ``(side, side)`` in [0, 1], ink bright."""
        return self.pixels().astype(np.float32) * np.float32(1.0 / 255.0)

    def clear(self) -> None:
        """Erase everything (no signal: the caller knows the canvas is empty)."""
        self._image.fill(0)
        self.update()

    def set_image(self, array: npt.ArrayLike, smooth: bool = True) -> None:
        """Show ``array`` (2-D, values in [0, 1]) scaled to the whole canvas.

        Parameters
        ----------
        array
            A grayscale image, e.g. a 28x28 MNIST digit, ink bright.
        smooth
            Bilinear upscaling (a digit looks drawn); ``False`` keeps square
            pixels (noise looks like noise).
        """
        values = np.asarray(array, dtype=np.float32)
        if values.ndim != 2 or values.size == 0:
            raise ValueError(f"set_image needs a non-empty 2-D array, got shape {values.shape}")
        grey = np.ascontiguousarray(np.round(np.clip(values, 0.0, 1.0) * 255.0), dtype=np.uint8)
        rows, cols = grey.shape
        source = QImage(grey.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
        mode = (
            Qt.TransformationMode.SmoothTransformation
            if smooth
            else Qt.TransformationMode.FastTransformation
        )
        side = self.side()
        scaled = source.scaled(side, side, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
        self._image = scaled.convertToFormat(QImage.Format.Format_Grayscale8)
        self.update()

    # ------------------------------------------------------------------ geometry
    def target_rect(self) -> QRect:
        """The centred square of the widget where the drawing is shown."""
        side = max(1, min(self.width(), self.height()))
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def to_image(self, point: QPointF) -> QPointF:
        """Map a widget position to image coordinates."""
        rect = self.target_rect()
        scale = self.side() / rect.width()
        return QPointF((point.x() - rect.x()) * scale, (point.y() - rect.y()) * scale)

    def sizeHint(self) -> QSize:
        """The drawing at its own size."""
        return QSize(CANVAS_SIDE, CANVAS_SIDE)

    # ------------------------------------------------------------------ Qt events
    def paintEvent(self, event: QPaintEvent) -> None:
        """The drawing in the centred square, framed, on the window colour."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        rect = self.target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF(rect), self._image)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The cursor stays as wide as the brush on screen."""
        super().resizeEvent(event)
        self._update_cursor()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke: the left button draws (or erases), the right one erases."""
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            super().mousePressEvent(event)
            return
        self._stroke_erases = button == Qt.MouseButton.RightButton or self._eraser
        self._last = self.to_image(event.position())
        self._paint_segment(self._last, self._last)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Continue the stroke with a segment from the previous point."""
        if self._stroke_erases is None or self._last is None:
            super().mouseMoveEvent(event)
            return
        point = self.to_image(event.position())
        self._paint_segment(self._last, point)
        self._last = point
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End the stroke; the last change is delivered at once."""
        if self._stroke_erases is None:
            super().mouseReleaseEvent(event)
            return
        self._stroke_erases = None
        self._last = None
        if self._change_timer.isActive():  # deliver the last change now, not later
            self._change_timer.stop()
            self.drawing_changed.emit()
        self.stroke_finished.emit()
        event.accept()

    # ------------------------------------------------------------------ helpers
    def _paint_segment(self, start: QPointF, end: QPointF) -> None:
        """Draw (or erase) a round-capped line into the image; schedule a change."""
        erases = bool(self._stroke_erases)
        ink = QColor(0, 0, 0) if erases else QColor(255, 255, 255)
        width = self._brush_width + (ERASER_EXTRA if erases else 0.0)
        pen = QPen(ink, width, Qt.PenStyle.SolidLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not erases)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self._update_region(start, end)
        if not self._change_timer.isActive():
            self._change_timer.start()

    def _update_region(self, start: QPointF, end: QPointF) -> None:
        """Repaint only the part of the widget the segment touched."""
        rect = self.target_rect()
        scale = rect.width() / self.side()
        pad = (self._brush_width + ERASER_EXTRA) / 2 + 2
        box = QRectF(start, end).normalized().adjusted(-pad, -pad, pad, pad)
        on_widget = QRectF(
            rect.x() + box.x() * scale,
            rect.y() + box.y() * scale,
            box.width() * scale,
            box.height() * scale,
        )
        self.update(on_widget.toAlignedRect().adjusted(-1, -1, 1, 1))

    def _update_cursor(self) -> None:
        """A circle cursor as wide as the brush on screen (dashed when erasing)."""
        scale = self.target_rect().width() / self.side()
        diameter = int(min(max(self._brush_width * scale, 6.0), 120.0))
        pixmap = QPixmap(diameter + 4, diameter + 4)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        circle = QRectF(2, 2, diameter, diameter)
        style = Qt.PenStyle.DashLine if self._eraser else Qt.PenStyle.SolidLine
        for colour, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255), 1.2)):
            painter.setPen(QPen(colour, width, style))
            painter.drawEllipse(circle)
        painter.end()
        hot = (diameter + 4) // 2
        self.setCursor(QCursor(pixmap, hot, hot))

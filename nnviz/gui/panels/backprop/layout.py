"""How the backprop panel's pieces share its room, at any size.

:class:`Figure` is a picture under its caption; :class:`FlipPair` two
figures side by side, or one above the other when the pair is narrow and
tall enough (the panel sits in a tall, narrow column: the charts then get
the full width); :class:`LinesLabel` rich text broken into lines between
its parts as its width needs, without Qt's word wrap (a wrapped label's
height-for-width re-layout cost several ms per frame, and these numbers
change every frame while training runs).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

#: A pair stays side by side from this width on (each chart then has ~260 px).
SIDE_BY_SIDE_FROM = 540
#: Stacked, each of a pair's pictures keeps at least this height (px).
STACKED_VIEW_HEIGHT = 110
#: Lines are broken for at least this width (px): before the first layout a
#: label is 100 px wide, and the panel's narrowest content is wider than this.
NARROWEST = 290

_TAG = re.compile(r"<[^>]*>")


def plain(rich: str) -> str:
    """The text a rich-text snippet shows."""
    return html.unescape(_TAG.sub("", rich))


class Figure(QWidget):
    """A picture with a caption above it (rich text, wrapped: never widens the panel)."""

    def __init__(self, view: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.caption = QLabel(self)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(1)
        self.box.addWidget(self.caption, 0)
        self.box.addWidget(view, 1)

    def set_caption(self, text: str) -> None:
        """Set the caption (rich text; only re-laid out when it changes)."""
        if text != self.caption.text():
            self.caption.setText(text)
            self.setAccessibleDescription(plain(text))

    def height_for(self, width: int, view_height: int) -> int:
        """The height this figure needs at ``width`` with a picture ``view_height`` high."""
        caption = self.caption.heightForWidth(width) if self.caption.text() else 0
        return caption + view_height + self.box.spacing()


class FlipPair(QWidget):
    """Two figures side by side, or stacked when the pair is narrow and tall enough.

    Its size hints are always those of the side-by-side arrangement, so the
    room the panel gives it never depends on the arrangement (no back and
    forth); the pair stacks only when that room holds both figures stacked.
    """

    def __init__(self, first: Figure, second: Figure, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figures = (first, second)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        for figure in self.figures:
            self.box.addWidget(figure, 1)

    def stacked(self) -> bool:
        """Whether the figures are one above the other."""
        return self.box.direction() == QBoxLayout.Direction.TopToBottom

    def minimumSizeHint(self) -> QSize:
        """Side by side: the two minimum widths and the taller minimum height."""
        a, b = (figure.minimumSizeHint() for figure in self.figures)
        return QSize(a.width() + b.width() + self.box.spacing(), max(a.height(), b.height()))

    def sizeHint(self) -> QSize:
        """As small as allowed: the panel's stretch factors share out the rest."""
        return self.minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        """No: the pair takes the height it is given (and arranges itself in it)."""
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Stack when narrow, if both figures fit one above the other."""
        super().resizeEvent(event)
        self._arrange()

    def showEvent(self, event: QShowEvent) -> None:
        """Arrange for the size shown (the pair may have been hidden while resized)."""
        super().showEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        width = self.width()
        needed = sum(f.height_for(width, STACKED_VIEW_HEIGHT) for f in self.figures)
        stack = width < SIDE_BY_SIDE_FROM and self.height() >= needed + self.box.spacing()
        direction = QBoxLayout.Direction.TopToBottom if stack else QBoxLayout.Direction.LeftToRight
        if direction != self.box.direction():
            self.box.setDirection(direction)


class LinesLabel(QLabel):
    """Rich text in lines: each paragraph's parts fill a line as far as the width allows.

    Parts never break inside; the label's height follows its number of lines
    and only changes when that number does.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.font())
        bold.setBold(True)  # measure as if all bold: a line never comes out too long
        self._metrics = QFontMetrics(bold)
        self._paragraphs: list[list[str]] = []
        self._room = -1
        self.setFixedHeight(self._height(1))

    def set_paragraphs(self, paragraphs: Sequence[Sequence[str]]) -> None:
        """Show ``paragraphs``: each a list of rich-text parts joined by spaces."""
        self._paragraphs = [list(p) for p in paragraphs]
        self._fit()

    def line_count(self) -> int:
        """How many lines the text takes now."""
        return self.text().count("<br>") + 1 if self.text() else 0

    def resizeEvent(self, event: QResizeEvent) -> None:
        """New width, new line breaks."""
        super().resizeEvent(event)
        if self.contentsRect().width() != self._room:
            self._fit()

    def _fit(self) -> None:
        self._room = self.contentsRect().width()
        room = max(self._room, NARROWEST)
        lines: list[str] = []
        for paragraph in self._paragraphs:
            line = ""
            for part in paragraph:
                longer = f"{line} {part}" if line else part
                if line and self._metrics.horizontalAdvance(plain(longer)) > room:
                    lines.append(line)
                    line = part
                else:
                    line = longer
            lines.append(line)
        text = "<br>".join(lines)
        if text != self.text():
            self.setText(text)
        height = self._height(len(lines))
        if height != self.minimumHeight():
            self.setFixedHeight(height)

    def _height(self, lines: int) -> int:
        return lines * QFontMetrics(self.font()).lineSpacing() + 4

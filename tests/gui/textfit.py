"""Does every text in sight fit its widget? Measured the way Qt draws it.

:func:`misfits` walks a window and returns one line per problem:

- a label whose text (a line of it, or its wrapped height) needs more room than
  the label has;
- a button, check box or tool button narrower than its text needs;
- a combo box whose edit field is narrower than its widest item (the user
  picks any of them), a spin box or line edit narrower than its text;
- a tab (dock tabs too) whose title is elided;
- a text drawn on a plot (:class:`~nnviz.gui.panels.plots.FastLabel`) that
  leaves its view or overlaps another one there;
- two visible sibling widgets or two docks that overlap.

Only what a person can see is checked: widgets that are shown, not behind a
tab, with a non-empty visible region.
"""

from __future__ import annotations

from itertools import combinations

from PySide6 import QtGui
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QGraphicsItem,
    QGraphicsView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)

from nnviz.gui.panels.plots import FastLabel

#: Pixels a text may exceed its room by (anti-aliasing, rounding).
SLACK = 1


def name(widget: QWidget) -> str:
    """A readable path of a widget: its dock, class and object name or text."""
    parts: list[str] = []
    w: QWidget | None = widget
    while w is not None and not isinstance(w, QMainWindow):
        label = w.objectName() or type(w).__name__
        if isinstance(w, QDockWidget):
            label = f"dock {w.windowTitle()!r}"
        parts.append(label)
        w = w.parentWidget()
    return " / ".join(reversed(parts[:4]))


def in_sight(widget: QWidget) -> bool:
    """Shown, and some of it is on screen (not behind a tab, not clipped away)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _plain(text: str, widget: QLabel) -> str:
    if widget.textFormat() == Qt.TextFormat.RichText or (
        widget.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    ):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _label(label: QLabel) -> str | None:
    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    room = label.contentsRect().adjusted(
        label.margin(), label.margin(), -label.margin(), -label.margin()
    )
    if label.indent() > 0:
        room.adjust(label.indent(), 0, 0, 0)
    plain = _plain(text, label)
    metrics = QFontMetrics(label.font())
    if label.wordWrap():
        needed = label.heightForWidth(label.contentsRect().width())
        if needed > label.contentsRect().height() + SLACK:
            has = label.contentsRect().height()
            return f"wrapped text needs {needed} px of height, has {has}: {plain!r}"
        # a single word longer than the line cannot wrap
        for word in plain.split():
            if metrics.horizontalAdvance(word) > room.width() + SLACK:
                return f"word {word!r} is wider than the label ({room.width()} px)"
        return None
    for line in plain.splitlines() or [""]:
        width = metrics.horizontalAdvance(line)
        if width > room.width() + SLACK:
            return f"text needs {width} px, has {room.width()}: {line!r}"
    height = metrics.lineSpacing() * max(len(plain.splitlines()), 1)
    if height > room.height() + metrics.leading() + 2 + SLACK:
        return f"text needs {height} px of height, has {room.height()}: {plain!r}"
    return None


def _button(button: QAbstractButton) -> str | None:
    if not button.text():
        return None
    needed = button.sizeHint().width()
    if isinstance(button, QPushButton):
        # the style's own margins beyond the text are generous; the text itself must fit
        metrics = QFontMetrics(button.font())
        text = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        needed = metrics.horizontalAdvance(text) + 8
        if not button.icon().isNull():
            needed += button.iconSize().width() + 4
    if needed > button.width() + SLACK:
        return f"needs {needed} px, has {button.width()}: {button.text()!r}"
    return None


def _combo(combo: QComboBox) -> str | None:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    metrics = QFontMetrics(combo.font())
    for index in range(combo.count()):
        text = combo.itemText(index)
        width = metrics.horizontalAdvance(text)
        if not combo.itemIcon(index).isNull():
            width += combo.iconSize().width() + 4
        if width > field.width() + SLACK:
            return f"item {text!r} needs {width} px, the field has {field.width()}"
    return None


def _edit(edit: QLineEdit) -> str | None:
    text = edit.text() or edit.placeholderText()
    if not text:
        return None
    width = QFontMetrics(edit.font()).horizontalAdvance(text)
    margins = edit.textMargins()
    room = edit.contentsRect().width() - margins.left() - margins.right() - 4
    if width > room + SLACK:
        return f"text needs {width} px, has {room}: {text!r}"
    return None


def _on_top(widget: QWidget) -> bool:
    """``widget`` is what the window shows at its centre (Qt keeps old dock tab bars
    around, visible but covered, after a layout is restored)."""
    window = widget.window()
    centre = widget.mapTo(window, widget.rect().center())
    shown = window.childAt(centre)
    return shown is not None and (shown is widget or widget.isAncestorOf(shown))


def _tabs(bar: QTabBar) -> list[str]:
    if not _on_top(bar):
        return []
    if bar.sizeHint().width() > bar.width() + SLACK:  # Qt squeezes the tabs: their titles elide
        titles = ", ".join(repr(bar.tabText(i)) for i in range(bar.count()))
        return [f"tabs {titles} need {bar.sizeHint().width()} px, have {bar.width()}"]
    problems = []
    metrics = QFontMetrics(bar.font())
    for index in range(bar.count()):
        text = bar.tabText(index).replace("&", "")
        rect = bar.tabRect(index)
        if metrics.horizontalAdvance(text) > rect.width() - 4 + SLACK:
            problems.append(f"tab {text!r} is elided ({rect.width()} px)")
    return problems


def _plot_texts(view: QGraphicsView) -> list[str]:
    scene = view.scene()
    if scene is None:
        return []
    viewport = QRectF(view.viewport().rect())
    labels = [
        item
        for item in scene.items()
        if isinstance(item, FastLabel) and item.isVisible() and item.text().strip()
    ]
    boxes: list[tuple[FastLabel, QRectF]] = []
    problems = []
    for label in labels:
        # a FastLabel ignores the view's zoom: its box is in pixels, placed by the device transform
        rect = label.deviceTransform(view.viewportTransform()).mapRect(label.boundingRect())
        boxes.append((label, rect))
        area = _clipping_area(label, view) or viewport
        if not area.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect):
            problems.append(f"plot text {label.text()!r} is cut by its plot's edge")
    for (a, ra), (b, rb) in combinations(boxes, 2):
        overlap = ra.intersected(rb)
        if overlap.width() > 2 and overlap.height() > 2:
            problems.append(f"plot texts {a.text()!r} and {b.text()!r} overlap")
    return problems


def _clipping_area(item: QGraphicsItem, view: QGraphicsView) -> QRectF | None:
    """The viewport rectangle of the nearest ancestor that clips ``item`` (a plot's view box)."""
    parent = item.parentItem()
    while parent is not None:
        if parent.flags() & QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape:
            return view.mapFromScene(parent.sceneBoundingRect()).boundingRect().toRectF()
        parent = parent.parentItem()
    return None


def _overlaps(parent: QWidget) -> list[str]:
    children = [
        c
        for c in parent.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if in_sight(c) and not c.isWindow() and c.width() > 0 and c.height() > 0
    ]
    problems = []
    for a, b in combinations(children, 2):
        overlap: QRect = a.geometry().intersected(b.geometry())
        if overlap.width() > SLACK and overlap.height() > SLACK:
            problems.append(
                f"{name(a)} and {name(b)} overlap ({overlap.width()}×{overlap.height()} px)"
            )
    return problems


def misfits(window: QMainWindow) -> list[str]:
    """Every text in sight that does not fit, and every overlap, as readable lines."""
    problems: list[str] = []
    docks = [d for d in window.findChildren(QDockWidget) if in_sight(d) and not d.isFloating()]
    for a, b in combinations(docks, 2):
        overlap = a.geometry().intersected(b.geometry())
        if overlap.width() > 0 and overlap.height() > 0:
            problems.append(f"docks {a.windowTitle()!r} and {b.windowTitle()!r} overlap")
    for widget in [window, *window.findChildren(QWidget)]:
        if not in_sight(widget) or widget.window() is not window:
            continue
        problem: str | None = None
        if isinstance(widget, QLabel):
            problem = _label(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button(widget)
        elif isinstance(widget, QComboBox):
            problem = _combo(widget)
        elif isinstance(widget, QLineEdit) and not isinstance(widget.parentWidget(), QComboBox):
            problem = _edit(widget)
        if problem is not None:
            problems.append(f"{name(widget)}: {problem}")
        if isinstance(widget, QTabBar):
            problems.extend(f"{name(widget)}: {p}" for p in _tabs(widget))
        if isinstance(widget, QGraphicsView):
            problems.extend(f"{name(widget)}: {p}" for p in _plot_texts(widget))
        # the window's own children are docks (checked above), tool bars and Qt's tab bars
        skip = (QMainWindow, QAbstractSpinBox, QComboBox, QGraphicsView, QDockWidget)
        if not isinstance(widget, skip):
            problems.extend(_overlaps(widget))
    return problems

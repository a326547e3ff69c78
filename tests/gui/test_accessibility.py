"""Every control reachable by keyboard and named for screen readers; every plot described."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QGraphicsView,
    QLineEdit,
    QWidget,
)

from nnviz.gui.layoutgate import LayoutGate

CONTROLS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)


def _spoken_name(widget: QWidget) -> str:
    """What a screen reader says for ``widget``: its accessible name, else its own text."""
    if widget.accessibleName():
        return widget.accessibleName()
    if isinstance(widget, QAbstractButton):
        return widget.text().replace("&", "")
    return ""


def _part_of_another_control(widget: QWidget) -> bool:
    """A spin box's or combo box's own line edit, a scroll bar's arrows and the like."""
    parent = widget.parentWidget()
    qt_own = ("QScrollBar", "QDockWidgetTitleButton", "QToolBarExtension")
    return (
        isinstance(parent, (QAbstractSpinBox, QComboBox))
        or type(widget).__name__ in qt_own
        or widget.objectName() == "qt_toolbar_ext_button"  # the toolbar's » (Qt names it)
    )


def test_every_control_is_named_and_every_plot_described(open_window) -> None:
    user = open_window()
    window = user.window
    unnamed: list[str] = []
    undescribed: list[str] = []
    for name, dock in window.docks.items():
        dock.raise_()
        QApplication.processEvents()
        gate = dock.widget()
        panel = gate.inner if isinstance(gate, LayoutGate) else gate
        if not panel.accessibleName():
            unnamed.append(f"the {name} panel")
        for widget in panel.findChildren(QWidget):
            if _part_of_another_control(widget):
                continue
            where = f"{name}: {type(widget).__name__} {widget.objectName()!r}"
            if isinstance(widget, CONTROLS) and not _spoken_name(widget):
                unnamed.append(where)
            if isinstance(widget, QGraphicsView):
                if not widget.accessibleName():
                    unnamed.append(where)
                if not widget.accessibleDescription():
                    undescribed.append(where)
    for toolbar in (window.run_bar, window.network_bar):
        for widget in toolbar.findChildren(QWidget):
            control = isinstance(widget, CONTROLS) and not _part_of_another_control(widget)
            if control and not _spoken_name(widget):
                unnamed.append(f"{toolbar.windowTitle()} toolbar: {type(widget).__name__}")
    assert not unnamed, "no accessible name: " + "; ".join(unnamed)
    assert not undescribed, "no description of what the plot shows: " + "; ".join(undescribed)


def test_every_control_is_reached_with_tab(open_window) -> None:
    """Tab walks through the toolbars' fields and every panel in sight: none is skipped."""
    user = open_window()
    window = user.window
    window.activateWindow()
    window.run_bar.lr.setFocus()
    user.qtbot.waitUntil(window.run_bar.lr.hasFocus)
    reached: set[int] = set()
    for _ in range(400):
        focus = QApplication.focusWidget()
        if focus is not None:
            reached.add(id(focus))
            parent = focus.parentWidget()
            if parent is not None:
                reached.add(id(parent))
        user.qtbot.keyClick(focus or window, Qt.Key.Key_Tab)
    wanted = [
        window.run_bar.lr,
        window.run_bar.batch,
        window.run_bar.momentum,
        window.run_bar.speed,
        window.network_bar.preset,
        window.network_bar.hidden,
        window.network_bar.activation,
        window.network_bar.cost,
        window.network_bar.epochs,
        window.network_bar.seed,
    ]
    # and the first control of each panel in sight
    for dock in window.findChildren(QDockWidget):
        if dock.visibleRegion().isEmpty():
            continue
        controls = [
            w
            for w in dock.findChildren(QWidget)
            if isinstance(w, CONTROLS)
            and w.isVisible()
            and w.isEnabled()
            and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not _part_of_another_control(w)
        ]
        wanted.extend(controls[:1])
    missed = [f"{type(w).__name__} {_spoken_name(w)!r}" for w in wanted if id(w) not in reached]
    assert not missed, f"Tab never reaches: {missed}"

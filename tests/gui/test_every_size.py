"""Every tab at every size a learner's screen has: nothing cut off, nothing overlapping."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QTabBar
from textfit import misfits

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]

#: Docks that share a place, shown one after another (the first is in front).
TABS = [
    ("canvas",),
    ("weights", "hidden", "probes"),
    ("network",),
    ("cost", "analysis"),
    ("surface", "backprop"),
]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_fits(open_window, size) -> None:
    width, height = size
    user = open_window()
    window = user.lay_out(width, height)
    user.wait_for_step(0)
    user.settle()
    problems: list[str] = []
    seen: set[str] = set()
    for group in TABS:
        for name in group:
            if name not in window.docks:
                continue
            window.docks[name].raise_()
            user.settle()
            for problem in misfits(window):
                if problem not in seen:
                    seen.add(problem)
                    problems.append(f"[{name}] {problem}")
    assert not problems, f"at {width}×{height}:\n" + "\n".join(problems)


def _widths(window) -> list[int]:
    return [window.docks[name].width() for name in ("canvas", "network", "surface")]


def test_an_enlarged_window_keeps_its_columns_balanced(open_window) -> None:
    """Opened small, then enlarged: the columns share the room as at a first start there."""
    user = open_window()
    window = user.window
    smallest = window.minimumSizeHint()
    window.resize(smallest)
    window.reset_layout()
    user.settle()
    # a click that reaches the window (a label passes it on) is not a separator drag
    user.qtbot.mouseClick(window.status.state, Qt.MouseButton.LeftButton)
    user.settle()
    window.resize(1920, 1080)
    user.qtbot.waitUntil(lambda: window.width() == 1920)
    user.settle()
    enlarged = _widths(window)
    window.reset_layout()
    user.settle()
    fresh = _widths(window)
    for got, meant in zip(enlarged, fresh, strict=True):
        assert abs(got - meant) <= 0.03 * sum(fresh), (enlarged, fresh)


def test_a_dragged_separator_is_kept_when_the_window_grows(open_window) -> None:
    """The user widened the drawing column: it stays wider in a larger window."""
    user = open_window()
    window = user.window
    window.resize(1500, 940)
    window.reset_layout()
    user.settle()
    canvas, network = window.docks["canvas"].geometry(), window.docks["network"].geometry()
    start = QPoint((canvas.right() + network.left()) // 2, network.top() + 40)  # the separator
    qtbot = user.qtbot
    qtbot.mouseMove(window, start)  # the pointer comes to the separator first
    qtbot.mousePress(window, Qt.MouseButton.LeftButton, pos=start)
    for dx in (20, 40, 60, 80):
        qtbot.mouseMove(window, start + QPoint(dx, 0))
        QApplication.processEvents()
    qtbot.mouseRelease(window, Qt.MouseButton.LeftButton, pos=start + QPoint(80, 0))
    user.settle()
    dragged = _widths(window)
    assert dragged[0] > 0.31 * 1500 + 40, dragged  # the drag took
    share = dragged[0] / sum(dragged)
    window.resize(1920, 1080)
    user.qtbot.waitUntil(lambda: window.width() == 1920)
    user.settle()
    grown = _widths(window)
    assert abs(grown[0] / sum(grown) - share) < 0.02, (dragged, grown)


def _leftover_tab_bars(window) -> list[str]:
    """Shown tab bars that lie under a dock or under another bar (Qt leaves them behind)."""
    docks = [d.geometry() for d in window.docks.values() if d.isVisible() and not d.isFloating()]
    left = []
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if not bar.isVisible():
            continue
        shown = window.childAt(bar.geometry().center())
        on_top = shown is bar or (shown is not None and bar.isAncestorOf(shown))
        if not on_top or any(bar.geometry().intersects(g) for g in docks):
            left.append(f"{[bar.tabText(i) for i in range(bar.count())]} at {bar.geometry()}")
    return left


def _laid_out(window) -> bool:
    """The docks in front are in their places (during a restore they are briefly hidden)."""
    fronts = ("canvas", "network", "weights", "cost", "surface")
    return all(not window.docks[name].visibleRegion().isEmpty() for name in fronts)


def test_no_tab_bar_is_left_behind_and_every_tab_works(open_window) -> None:
    """Bits of old tab bars peeked out between docks ("lysis" over the Cost panel)."""
    user = open_window()
    window = user.window
    for width, height in ((1280, 720), (1500, 940)):
        window.resize(width, height)
        window.reset_layout()
        user.qtbot.waitUntil(lambda: _laid_out(window) and not _leftover_tab_bars(window))
    bars = [
        b
        for b in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if b.isVisible()
    ]
    assert len(bars) == len([g for g in TABS if len(g) > 1])  # one bar per tab group
    titles = {dock.windowTitle(): dock for dock in window.docks.values()}
    for bar in bars:
        for index in range(bar.count()):
            user.qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
            dock = titles[bar.tabText(index)]
            user.qtbot.waitUntil(lambda dock=dock: not dock.visibleRegion().isEmpty())

"""Every tab at every size a learner's screen has: nothing cut off, nothing overlapping."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from textfit import misfits

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]

#: Docks that share a place, shown one after another (the first is in front).
TABS = [("canvas",), ("weights", "hidden", "probes"), ("network",), ("cost", "analysis"),
        ("surface", "backprop")]


def _settle(user) -> None:
    QApplication.processEvents()
    user.qtbot.waitUntil(lambda: not user.window.frames.busy)
    QApplication.processEvents()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_fits(open_window, size) -> None:
    width, height = size
    user = open_window()
    window = user.window
    window.resize(width, height)
    window.reset_layout()
    QApplication.processEvents()
    smallest = window.minimumSizeHint()
    assert (window.width(), window.height()) == size, f"the window cannot be smaller than {smallest}"
    user.wait_for_step(0)
    _settle(user)
    problems: list[str] = []
    seen: set[str] = set()
    for group in TABS:
        for name in group:
            if name not in window.docks:
                continue
            window.docks[name].raise_()
            _settle(user)
            for problem in misfits(window):
                if problem not in seen:
                    seen.add(problem)
                    problems.append(f"[{name}] {problem}")
    assert not problems, f"at {width}×{height}:\n" + "\n".join(problems)

"""Digits drawn small, large, in a corner or in the middle classify alike.

Real digit shapes: MNIST test digits thinned to one-pixel skeletons
(Zhang-Suen), traced into pen paths and drawn on the real canvas with real
mouse drags at several sizes and places, with the default pen. The bundled
model's accuracy at each size and place is compared with a centred digit of
the size people draw on an empty canvas.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from nnviz.core.datasets import Dataset
from nnviz.core.modelio import load_model
from nnviz.gui.panels.canvas import CanvasPanel
from nnviz.gui.panels.canvas.drawing import DrawingCanvas
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

Path = list[tuple[float, float]]  # (row, col) points in MNIST's 28x28 pixel units

N_DIGITS = 100
SIZES = {"large": 0.75, "medium": 0.55, "small": 0.3}
"""Longer side of the pen path, as a fraction of the canvas side (drawn with the 28 px pen)."""
TINY = {"tiny": 0.2}
"""So small (56 px) that the default pen fills loops; drawn with a 12 px pen."""
PLACES = {"centre": (0.5, 0.5), "top left": (0.0, 0.0), "bottom right": (1.0, 1.0)}
"""Where the path's box sits: fractions of the room left around it (0: touching the edge)."""
TOLERANCE = 0.07
"""Accuracy may fall at most 7 points below the centred medium digit's (98%).

With 100 digits one changed answer moves accuracy by 1 point. The same 100
digits are drawn at every size and place, so the comparison is paired; 7
points leaves room for a few ambiguous digits to flip with pixel rounding,
and still fails what issue 12 saw. Measured before the fix (default pen):
small 90-91%, tiny 43-47%; after it: small 94-96%, tiny 82-85% with the
default pen and 93-97% with the 12 px pen.
"""


# ---------------------------------------------------------------------- shapes
def _neighbours(mask: np.ndarray) -> list[np.ndarray]:
    """P2..P9 of Zhang-Suen, clockwise from north, for every pixel."""
    p = np.pad(mask, 1).astype(np.uint8)
    rows, cols = mask.shape

    def at(dr: int, dc: int) -> np.ndarray:
        return p[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]

    steps = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
    return [at(dr, dc) for dr, dc in steps]


def skeleton(image: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of ``image > 0.4``: a one-pixel-wide skeleton."""
    mask = image > 0.4
    changed = True
    while changed:
        changed = False
        for first in (True, False):
            n = _neighbours(mask)
            count = sum(x.astype(int) for x in n)
            ring = [*n, n[0]]
            turns = sum(((a == 0) & (b == 1)).astype(int) for a, b in itertools.pairwise(ring))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if first:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            drop = mask & (count >= 2) & (count <= 6) & (turns == 1) & cond
            if drop.any():
                mask = mask & ~drop
                changed = True
    return mask


def pen_paths(mask: np.ndarray) -> list[Path]:
    """Walk the skeleton's 8-connected edges into as few pen paths as greedily found."""
    pixels = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask), strict=True)}
    edges = {
        frozenset((a, (a[0] + dr, a[1] + dc)))
        for a in pixels
        for dr, dc in itertools.product((-1, 0, 1), repeat=2)
        if (dr, dc) != (0, 0) and (a[0] + dr, a[1] + dc) in pixels
    }
    paths: list[Path] = []
    for lone in sorted(p for p in pixels if not any(p in e for e in edges)):
        paths.append([lone, lone])
    while edges:
        degree = {p: sum(p in e for e in edges) for p in pixels}
        start = min((p for p in degree if degree[p]), key=lambda p: (degree[p] % 2 == 0, p))
        path, here = [start], start
        while nxt := next((q for e in edges if here in e for q in e if q != here), None):
            edges.discard(frozenset((here, nxt)))
            path.append(nxt)
            here = nxt
        paths.append([(float(r), float(c)) for r, c in path])
    return paths


def placed(paths: list[Path], size: float, place: tuple[float, float]) -> list[Path]:
    """The paths scaled so their longer side is ``size`` of the canvas, at ``place``."""
    points = np.array([p for path in paths for p in path])
    low, high = points.min(axis=0), points.max(axis=0)
    scale = size / max(float((high - low).max()), 1.0)
    margin = 0.08  # the pen's half width and a little air stay on the canvas
    room = 1.0 - 2 * margin - scale * (high - low)  # (row, col)
    offset = margin + np.array([place[1], place[0]]) * room
    return [[tuple(offset + scale * (np.array(p) - low)) for p in path] for path in paths]


# ---------------------------------------------------------------------- drawing
def at(canvas: DrawingCanvas, row: float, col: float) -> QPoint:
    rect = canvas.target_rect()
    return QPoint(round(rect.x() + col * rect.width()), round(rect.y() + row * rect.height()))


def draw(qtbot, canvas: DrawingCanvas, paths: list[Path]) -> None:
    """Each path one drag of the left button, as a person draws it."""
    left = Qt.MouseButton.LeftButton
    for path in paths:
        qtbot.mousePress(canvas, left, pos=at(canvas, *path[0]))
        for point in path[1:]:
            qtbot.mouseMove(canvas, at(canvas, *point))
        qtbot.mouseRelease(canvas, left, pos=at(canvas, *path[-1]))


def accuracies(
    qtbot, panel: CanvasPanel, mnist: Dataset, sizes: dict[str, float]
) -> Iterator[tuple[str, str, float]]:
    """(size, place, accuracy) of the shown model on the drawn test digits."""
    shapes = [pen_paths(skeleton(mnist.test_x[i].reshape(28, 28))) for i in range(N_DIGITS)]
    labels = mnist.test_y[:N_DIGITS]
    for (size_name, size), (place_name, place) in itertools.product(sizes.items(), PLACES.items()):
        right = 0
        for shape, label in zip(shapes, labels, strict=True):
            qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
            draw(qtbot, panel.canvas, placed(shape, size, place))
            right += panel.state.prediction == label
        yield size_name, place_name, right / N_DIGITS


@pytest.fixture
def panel(qtbot) -> CanvasPanel:
    widget = CanvasPanel(AppState(load_model(bundled_model_path())[0]))
    qtbot.addWidget(widget)
    widget.resize(600, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_skeleton_paths_redraw_the_digit(mnist: Dataset) -> None:
    """The traced paths pass through every skeleton pixel, and only through them."""
    for i in range(20):
        mask = skeleton(mnist.test_x[i].reshape(28, 28))
        visited = {p for path in pen_paths(mask) for p in path}
        assert visited == {(float(r), float(c)) for r, c in zip(*np.nonzero(mask), strict=True)}
        assert 0 < mask.sum() < (mnist.test_x[i] > 0.4).sum()


def check(table: dict[tuple[str, str], float], reference: float, pen: str) -> None:
    print(f"\naccuracy of the bundled model on drawn MNIST skeletons ({pen} pen):")
    for (size, place), acc in table.items():
        print(f"  {size:>6} {place:<12} {acc:.0%}")
    assert reference >= 0.9  # the traced digits are recognisable at all
    low = {key: acc for key, acc in table.items() if acc < reference - TOLERANCE}
    assert not low, f"reference {reference:.0%}; below it by more than {TOLERANCE:.0%}: {low}"


def test_every_size_and_place_classifies_like_a_centred_digit(
    qtbot, panel: CanvasPanel, mnist: Dataset
) -> None:
    assert panel.pen_spin.value() == 28 and panel.canvas.brush_width() == 28
    table = {(s, p): acc for s, p, acc in accuracies(qtbot, panel, mnist, SIZES)}
    check(table, table[("medium", "centre")], "28 px")


def test_tiny_digits_with_a_thin_pen_classify_like_a_centred_digit(
    qtbot, panel: CanvasPanel, mnist: Dataset
) -> None:
    reference = dict(((s, p), a) for s, p, a in accuracies(qtbot, panel, mnist, {"medium": 0.55}))
    spin = panel.pen_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "12")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert panel.canvas.brush_width() == 12
    table = {(s, p): acc for s, p, acc in accuracies(qtbot, panel, mnist, TINY)}
    check(table, reference[("medium", "centre")], "12 px")

"""preprocess_drawing(pen_width=...): a small digit drawn with a wide pen is thinned."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.datasets import Dataset
from nnviz.core.preprocess import MAX_STROKE, STROKE_WIDTH, preprocess_drawing


def _ring(side: int, pen: float, canvas: int = 280, corner: int = 10) -> np.ndarray:
    """An 'O' of outer diameter ``side`` drawn with a round pen ``pen`` px wide."""
    y, x = np.mgrid[:canvas, :canvas] + 0.5
    centre = corner + side / 2
    r = np.hypot(y - centre, x - centre)
    mid = (side - pen) / 2
    return np.clip(pen / 2 - np.abs(r - mid) + 0.5, 0.0, 1.0).astype(np.float32)


def _stroke_in_box(field: np.ndarray) -> float:
    """Width of the ring's stroke along the row through its centre of mass, in px."""
    row = field[14]
    return float(row.sum() / 2)  # two crossings of the ring


def test_a_small_o_drawn_with_a_wide_pen_gets_mnist_strokes() -> None:
    drawing = _ring(side=70, pen=28)  # a 70 px 'O' drawn with the default 28 px pen
    blobby = preprocess_drawing(drawing)
    thinned = preprocess_drawing(drawing, pen_width=28)
    assert _stroke_in_box(blobby) > 7.0  # 28 * 20 / 70 = 8 px: the hole nearly gone
    assert _stroke_in_box(thinned) == pytest.approx(STROKE_WIDTH, abs=0.8)
    assert thinned[13:15, 13:15].max() < 0.05  # the hole is open


def test_a_pen_in_proportion_is_not_thinned() -> None:
    drawing = _ring(side=200, pen=28)  # 28 * 20 / 200 = 2.8 px <= MAX_STROKE
    assert MAX_STROKE >= 28 * 20 / 200
    np.testing.assert_array_equal(
        preprocess_drawing(drawing, pen_width=28), preprocess_drawing(drawing)
    )


def test_mnist_digits_blown_up_come_back_unchanged_with_their_pen(mnist: Dataset) -> None:
    """A 10x MNIST digit has strokes ~29 px wide in a ~200 px box: below the limit."""
    for digit in mnist.test_x[:50]:
        big = np.kron(digit.reshape(28, 28), np.ones((10, 10), dtype=np.float32))
        np.testing.assert_array_equal(
            preprocess_drawing(big, pen_width=29), preprocess_drawing(big)
        )


@pytest.mark.parametrize("pen", [float("nan"), float("inf"), 0.0, -3.0, 1e9])
def test_odd_pen_widths_never_fail(pen: float) -> None:
    field = preprocess_drawing(_ring(side=70, pen=28), pen_width=pen)
    assert field.shape == (28, 28) and field.any() and np.isfinite(field).all()


def test_a_dot_stays_a_dot() -> None:
    drawing = np.zeros((280, 280), dtype=np.float32)
    drawing[100:128, 100:128] = 1.0  # one click with the 28 px pen
    field = preprocess_drawing(drawing, pen_width=28)
    assert field.max() > 0.9 and np.count_nonzero(field > 0.5) > 100

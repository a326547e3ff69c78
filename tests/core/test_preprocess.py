"""Tests of nnviz.core.preprocess: drawings in, MNIST-style 28x28 images out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.errors import ConfigError
from nnviz.core.idx import read_images
from nnviz.core.preprocess import COM_TARGET, center_of_mass, preprocess_drawing


@pytest.fixture(scope="module")
def digits(mnist_dir: Path) -> np.ndarray:
    """All 10,000 MNIST test digits, (10000, 28, 28) float32 in [0, 1]."""
    pixels = read_images(mnist_dir / "t10k-images-idx3-ubyte.gz")
    return pixels.reshape(-1, 28, 28).astype(np.float32) / 255.0


def _ink_box(image: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    """Height and width of the pixels above `threshold`."""
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _ring(height: int, width: int, thickness: float) -> np.ndarray:
    """An elliptical '0'-like stroke filling a (height, width) array."""
    y = (np.arange(height) + 0.5 - height / 2)[:, None] / (height / 2)
    x = (np.arange(width) + 0.5 - width / 2)[None, :] / (width / 2)
    r = np.sqrt(y**2 + x**2)
    return (np.abs(r - (1 - thickness)) < thickness).astype(np.float64)


def _paste(shape: tuple[int, int], drawing: np.ndarray, top: int, left: int) -> np.ndarray:
    canvas = np.zeros(shape, dtype=drawing.dtype)
    canvas[top : top + drawing.shape[0], left : left + drawing.shape[1]] = drawing
    return canvas


def _upscale_nearest(digit: np.ndarray, k: int) -> np.ndarray:
    return np.kron(digit, np.ones((k, k), dtype=digit.dtype))


def _upscale_bilinear(digit: np.ndarray, k: int) -> np.ndarray:
    """Bilinear interpolation between pixel centres (edges clamped), 28k x 28k."""
    n = digit.shape[0]
    src = np.clip((np.arange(n * k) + 0.5) / k - 0.5, 0, n - 1)  # source coordinate
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = (src - lo).astype(np.float32)
    interp = np.zeros((n * k, n), dtype=np.float32)
    np.add.at(interp, (np.arange(n * k), lo), 1 - frac)
    np.add.at(interp, (np.arange(n * k), hi), frac)
    return interp @ digit @ interp.T


def _round_trip(
    digits: np.ndarray, upscale: Callable[[np.ndarray, int], np.ndarray], count: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Blow up real digits by 3..10, paste at random on 400x400, pre-process.

    Returns the mean absolute pixel difference and the Pearson correlation with
    the original digit, one value per digit.
    """
    canvas = 400
    rng = np.random.default_rng(2024)
    mads, corrs = [], []
    for index in rng.choice(len(digits), size=count, replace=False):
        digit = digits[index]
        big = upscale(digit, int(rng.integers(3, 11)))
        top, left = rng.integers(0, canvas - big.shape[0] + 1, size=2)
        out = preprocess_drawing(_paste((canvas, canvas), big, int(top), int(left)))
        mads.append(np.abs(out - digit).mean())
        corrs.append(np.corrcoef(out.ravel(), digit.ravel())[0, 1])
    return np.array(mads), np.array(corrs)


# --- output contract -------------------------------------------------------------------


def test_output_is_28x28_float32_in_unit_range() -> None:
    canvas = _paste((280, 280), _ring(200, 120, 0.12), 40, 60)
    out = preprocess_drawing(canvas)
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.99  # a solid stroke thicker than the scale stays at full ink


def test_uint8_input_is_scaled_by_1_over_255() -> None:
    drawing = (_paste((280, 280), _ring(200, 120, 0.12), 40, 60) * 200).astype(np.uint8)
    from_uint8 = preprocess_drawing(drawing)
    from_float = preprocess_drawing(drawing / 255.0)
    np.testing.assert_allclose(from_uint8, from_float, atol=1e-6)
    assert from_uint8.max() == pytest.approx(200 / 255, abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_empty_canvas_gives_zeros(dtype: type) -> None:
    out = preprocess_drawing(np.zeros((280, 280), dtype=dtype))
    assert out.shape == (28, 28) and not out.any()


def test_almost_zero_noise_counts_as_empty() -> None:
    rng = np.random.default_rng(0)
    assert not preprocess_drawing(rng.uniform(0, 0.005, size=(280, 280))).any()


def test_stray_faint_pixel_does_not_widen_the_ink_box() -> None:
    drawing = _paste((400, 400), _ring(200, 100, 0.15), 100, 150)
    with_stray = drawing.copy()
    with_stray[5, 5] = 0.005
    np.testing.assert_array_equal(preprocess_drawing(with_stray), preprocess_drawing(drawing))


def test_faint_stroke_stays_faint() -> None:
    out = preprocess_drawing(0.3 * _paste((280, 280), _ring(200, 120, 0.12), 40, 60))
    assert out.max() == pytest.approx(0.3, abs=1e-6)


# --- degenerate drawings ---------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3])
def test_single_dot_fills_the_box_at_the_centre(size: int) -> None:
    canvas = np.zeros((280, 280))
    canvas[100 : 100 + size, 50 : 50 + size] = 1.0
    out = preprocess_drawing(canvas)
    assert np.isfinite(out).all()
    assert _ink_box(out) == (20, 20)
    assert center_of_mass(out) == pytest.approx((COM_TARGET, COM_TARGET), abs=0.5)


@pytest.mark.parametrize("shape", [(4, 200), (200, 4), (1, 50), (50, 1)])
def test_thin_line_is_20_px_long_and_at_most_one_px_thick(shape: tuple[int, int]) -> None:
    canvas = _paste((560, 560), np.ones(shape), 300, 20)
    out = preprocess_drawing(canvas)
    assert np.isfinite(out).all() and out.max() <= 1.0
    long_side, short_side = sorted(_ink_box(out), reverse=True)
    assert long_side == 20 and short_side == 1
    # The line keeps its area: a 1:50 line is 0.4 px thick, so its pixels are faint.
    assert out.sum() == pytest.approx(20 * 20 * min(shape) / max(shape), rel=1e-5)


# --- geometry ---------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(300, 150), (150, 300), (360, 90)])
def test_longer_side_is_20_px_and_aspect_ratio_kept(height: int, width: int) -> None:
    canvas = _paste((400, 400), _ring(height, width, 0.15), 20, 30)
    out_height, out_width = _ink_box(out := preprocess_drawing(canvas))
    assert max(out_height, out_width) in (20, 21)
    assert out_width / out_height == pytest.approx(width / height, abs=1.5 / 20)
    assert out.max() <= 1.0


def test_centre_of_mass_of_a_corner_blob_lands_at_the_field_centre() -> None:
    # A lopsided shape (ring plus a heavy tail) in the bottom-right corner of a big canvas.
    drawing = _ring(120, 80, 0.2)
    drawing[80:, 50:] = 1.0
    out = preprocess_drawing(_paste((560, 560), drawing, 440, 480))
    row, col = center_of_mass(out)
    assert abs(row - COM_TARGET) <= 0.5 and abs(col - COM_TARGET) <= 0.5


def test_moving_the_drawing_on_the_canvas_does_not_change_the_output() -> None:
    drawing = _ring(150, 90, 0.18)
    first = preprocess_drawing(_paste((500, 500), drawing, 10, 20))
    moved = preprocess_drawing(_paste((500, 500), drawing, 333, 401))
    np.testing.assert_allclose(moved, first, atol=1e-6)


def test_fine_pattern_is_averaged_not_aliased() -> None:
    # Alternating 1-px ink and gap columns, 400 px wide: each output pixel covers 20
    # columns, so area averaging gives 0.5 everywhere; point sampling would give 0 or 1.
    stripes = np.zeros((400, 400))
    stripes[:, ::2] = 1.0
    out = preprocess_drawing(stripes)
    assert _ink_box(out) == (20, 20)
    box = out[out > 0]
    np.testing.assert_allclose(box, 0.5, atol=0.03)


# --- real MNIST digits ----------------------------------------------------------------


def test_mnist_centre_of_mass_convention_matches_com_target(digits: np.ndarray) -> None:
    centres = np.array([center_of_mass(d) for d in digits[:2000]])
    assert centres.mean(axis=0) == pytest.approx((COM_TARGET, COM_TARGET), abs=0.05)
    # Whole-pixel placement: every centre is within half a pixel of the target.
    assert np.abs(centres - COM_TARGET).max() <= 0.5 + 1e-6


def test_mnist_digit_is_a_fixed_point(digits: np.ndarray) -> None:
    outs = np.array([preprocess_drawing(d) for d in digits[:300]])
    exact = np.abs(outs - digits[:300]).max(axis=(1, 2)) < 1e-5
    assert exact.mean() >= 0.97  # measured: all 300 here, 9,980 of all 10,000 test digits


def test_round_trip_of_nearest_upscaled_digits_is_exact(digits: np.ndarray) -> None:
    mads, corrs = _round_trip(digits, _upscale_nearest)
    # Measured: every one of the 500 digits came back to within float round-off.
    assert (mads < 1e-4).mean() >= 0.98
    assert np.median(corrs) > 0.999


def test_round_trip_of_bilinear_upscaled_digits_is_close(digits: np.ndarray) -> None:
    mads, corrs = _round_trip(digits, _upscale_bilinear)
    # Measured: mean MAD 0.034, median correlation 0.967. Blurred edges grow the ink box
    # a little and can move the whole-pixel placement by one pixel, hence not exact.
    assert mads.mean() < 0.045
    assert np.median(corrs) > 0.94


# --- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((28, 28, 3)), "2-D"),
        (np.zeros(784), "2-D"),
        (np.full((5, 5), np.nan), "NaN"),
        (np.full((5, 5), 1.5), r"\[0, 1\]"),
        (np.full((5, 5), -0.1), r"\[0, 1\]"),
        (np.full((5, 5), np.inf), r"\[0, 1\]"),
        (np.zeros((5, 5), dtype=np.int64), "dtype"),
    ],
    ids=["3-D", "1-D", "NaN", "above-1", "negative", "inf", "int64"],
)
def test_bad_input_raises_config_error(image: np.ndarray, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        preprocess_drawing(image)


def test_one_nan_among_ink_is_reported() -> None:
    canvas = _paste((100, 100), _ring(50, 40, 0.2), 10, 10)
    canvas[60, 70] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        preprocess_drawing(canvas)


# --- center_of_mass ---------------------------------------------------------------------


def test_center_of_mass_uses_index_coordinates() -> None:
    image = np.zeros((6, 7))
    image[1, 2] = 1.0
    image[3, 5] = 3.0
    assert center_of_mass(image) == pytest.approx((2.5, 4.25))


def test_center_of_mass_rejects_empty_and_non_2d_images() -> None:
    with pytest.raises(ConfigError, match="no positive intensity"):
        center_of_mass(np.zeros((4, 4)))
    with pytest.raises(ConfigError, match="2-D"):
        center_of_mass(np.ones((2, 2, 2)))

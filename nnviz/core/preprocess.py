"""Turn a free-hand drawing into a 28x28 input the way MNIST digits were made.

LeCun, Cortes & Burges describe MNIST as: size-normalised "to fit in a 20x20
pixel box while preserving their aspect ratio", anti-aliased, then "centered
in a 28x28 image by computing the center of mass of the pixels, and
translating the image so as to position this point at the center of the
28x28 field". :func:`preprocess_drawing` does exactly that.

Conventions (checked on the 10,000 MNIST test digits)
------------------------------------------------------
- Coordinates are array indices: pixel ``(i, j)`` has its centre at
  ``(i, j)``. The geometric middle of the field is therefore 13.5.
- MNIST's centre of mass is at **14.0** in these coordinates (measured mean
  row 13.993, column 14.008), i.e. half a pixel below and right of the
  geometric middle.
- Every measured centre of mass lies in [13.5, 14.5] with a flat histogram
  and standard deviation 0.29 (= 1/sqrt(12)): MNIST moved its 20x20 box by
  a *whole* number of pixels, the rounding of ``14 - com``. Every test
  digit's ink box is exactly 20 px on its longer side, with both ink edges
  on the pixel grid (a sub-pixel shift would smear them over 21 pixels).
- The shorter side is not centred at a fractional offset either: digits
  whose short side is 19 px wide occupy 19 whole pixels. So the scaled ink
  starts on the pixel grid at its top-left corner and only the whole-pixel
  centre-of-mass shift moves it. The ink is resampled once, with no extra
  blur, and a digit blown up by an integer factor comes back exactly.
- MNIST's strokes are about 2.9 px wide in the 20 px box (median over the
  test set; quartiles 2.4-3.4). A digit drawn small with a wide pen would come
  out with strokes of 5-8 px, blobby enough to turn a 7 into a 9. A caller
  that knows its pen width (the canvas) passes it, and strokes whose scaled
  width would pass :data:`MAX_STROKE` are first thinned (grey erosion) to
  :data:`STROKE_WIDTH`. Without a pen width nothing is thinned.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nnviz.core.errors import ConfigError

__all__ = [
    "BOX_SIZE",
    "COM_TARGET",
    "FIELD_SIZE",
    "INK_THRESHOLD",
    "MAX_STROKE",
    "STROKE_WIDTH",
    "center_of_mass",
    "preprocess_drawing",
]

FIELD_SIZE = 28
"""Side of the output image, in pixels."""

BOX_SIZE = 20
"""The longer side of the ink is scaled to this many pixels."""

COM_TARGET = 14.0
"""Where MNIST puts the centre of mass, in index coordinates (row and column)."""

INK_THRESHOLD = 0.01
"""Pixels above this value count as ink when cropping; fainter ones are noise."""

STROKE_WIDTH = 2.9
"""MNIST's median stroke width in the 20 px box (ink mass over stroke length)."""

MAX_STROKE = 3.5
"""A pen whose width scaled into the 20 px box passes this is thinned first.

Just above the upper quartile of MNIST's stroke widths (3.4 px): a default
28 px pen is thinned for digits drawn less than ~160 px tall on the canvas.
"""


def preprocess_drawing(image: NDArray[Any], pen_width: float | None = None) -> NDArray[np.float32]:
    """Crop, scale and centre a drawing into a 28x28 MNIST-style image.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Grayscale drawing of any size, ink bright on a dark background.
        Floating point in [0, 1], or ``uint8`` in [0, 255] (divided by 255).
    pen_width : float, optional
        Width of the pen the drawing was made with, in its pixels. Given,
        strokes that would be wider than :data:`MAX_STROKE` px in the 20 px
        box are first eroded to :data:`STROKE_WIDTH` px there.

    Returns
    -------
    ndarray of float32, shape (28, 28), values in [0, 1]
        The pixels above :data:`INK_THRESHOLD` define the ink box; the whole
        box (fainter pixels inside it included) is scaled by one factor so
        that its longer side is 20 px (aspect ratio kept), its top-left
        corner on the pixel grid. The scaling integrates each output pixel
        over the input (area averaging), so strokes are anti-aliased for any
        scale factor. The box is then moved by whole pixels so the intensity
        centre of mass lands within half a pixel of (14.0, 14.0) in index
        coordinates (see the module notes). Ink moved past the border is cut
        off, as in MNIST. Intensities are not renormalised: a faint stroke
        stays faint. A drawing without ink returns all zeros.

    Raises
    ------
    ConfigError
        If `image` is not 2-D, has an unsupported dtype, contains NaN, or
        has values outside [0, 1].
    """
    pixels = np.asarray(image)
    ink_rows, ink_cols = _ink_rows_and_cols(pixels)
    rows, cols = np.flatnonzero(ink_rows), np.flatnonzero(ink_cols)
    field = np.zeros((FIELD_SIZE, FIELD_SIZE), dtype=np.float32)
    if rows.size == 0 or cols.size == 0:
        return field
    crop = _unit_float32(pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    if pen_width is not None:
        crop = _thin_strokes(crop, float(pen_width))
    box = _fit_box(crop)
    com_row, com_col = center_of_mass(box)
    _paste(field, box, _whole_shift(com_row), _whole_shift(com_col))
    # Area weights are non-negative and sum to at most 1, so this only
    # removes float round-off. We do not stretch the peak to 1: MNIST strokes
    # already peak at ~1 and a genuinely faint stroke should stay faint.
    return np.clip(field, 0.0, 1.0, out=field)


def center_of_mass(image: NDArray[Any]) -> tuple[float, float]:
    """Return the intensity-weighted centre of a 2-D image.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Non-negative intensities.

    Returns
    -------
    (row, col) : tuple of float
        ``sum(i * image[i, j]) / sum(image)`` and likewise for ``j``, in index
        coordinates (the centre of pixel ``(i, j)`` is ``(i, j)``).

    Raises
    ------
    ConfigError
        If `image` is not 2-D or its total intensity is not positive.
    """
    values = np.asarray(image, dtype=np.float64)
    if values.ndim != 2:
        raise ConfigError(f"center_of_mass needs a 2-D image, got shape {values.shape}")
    total = float(values.sum())
    if not total > 0.0:
        raise ConfigError("center_of_mass is undefined: the image has no positive intensity")
    row = float(values.sum(axis=1) @ np.arange(values.shape[0])) / total
    col = float(values.sum(axis=0) @ np.arange(values.shape[1])) / total
    return row, col


def _thin_strokes(crop: NDArray[np.float32], width: float) -> NDArray[np.float32]:
    """Erode strokes of pen ``width`` that would be wider than MAX_STROKE px in the box.

    Eroding by ``e`` pixels on every side narrows a stroke of width ``w`` to
    ``w - 2e`` and the ink box of longer side ``L`` to ``L - 2e``;
    ``e`` solves ``(w - 2e) * 20 / (L - 2e) = STROKE_WIDTH``.
    """
    longer = max(crop.shape)
    if not (math.isfinite(width) and width * BOX_SIZE / longer > MAX_STROKE):
        return crop
    ratio = STROKE_WIDTH / BOX_SIZE
    # A pen wider than the drawing (a dot, a wrong width) erodes at most to its middle.
    most = min(math.floor(width / 2), longer // 2) - 1
    steps = min(round((width - ratio * longer) / (2 * (1 - ratio))), most)
    if steps < 1:
        return crop
    thinned = _erode(crop, steps)
    rows = np.flatnonzero((thinned > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((thinned > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return crop
    return thinned[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _erode(image: NDArray[np.float32], steps: int) -> NDArray[np.float32]:
    """Grey erosion by ``steps`` pixels: minimum over a near-disc (octagon).

    Alternating 4- and 8-neighbour minima grow an octagon, closer to the round
    pen than either alone; outside the image counts as background.
    """
    out = np.pad(image, 1)
    for step in range(steps):
        centre = out[1:-1, 1:-1]
        low = np.minimum.reduce(
            [centre, out[:-2, 1:-1], out[2:, 1:-1], out[1:-1, :-2], out[1:-1, 2:]]
        )
        if step % 2:
            low = np.minimum.reduce([low, out[:-2, :-2], out[:-2, 2:], out[2:, :-2], out[2:, 2:]])
        out = np.pad(low, 1)
    return np.ascontiguousarray(out[1:-1, 1:-1])


def _ink_rows_and_cols(pixels: NDArray[Any]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Validate the drawing; return which rows and which columns hold ink."""
    _check_drawing(pixels)
    # Compare in the input's own units: uint8 v is ink when v / 255 > threshold.
    if pixels.dtype == np.uint8:
        ink = pixels > math.floor(INK_THRESHOLD * 255)  # (rows, cols)
    else:
        ink = pixels > INK_THRESHOLD
    return ink.any(axis=1), ink.any(axis=0)


def _check_drawing(pixels: NDArray[Any]) -> None:
    """Raise ConfigError unless `pixels` is a 2-D uint8, or float image in [0, 1]."""
    if pixels.ndim != 2:
        raise ConfigError(
            f"drawing must be a 2-D grayscale array (rows, cols), got shape {pixels.shape}"
        )
    if pixels.dtype != np.uint8 and pixels.dtype.kind != "f":
        raise ConfigError(f"drawing must be float in [0, 1] or uint8, got dtype {pixels.dtype}")
    if pixels.dtype == np.uint8 or pixels.size == 0:
        return
    low, high = float(pixels.min()), float(pixels.max())  # NaN propagates to both
    if math.isnan(high):
        raise ConfigError("drawing contains NaN values")
    if low < 0.0 or high > 1.0:
        raise ConfigError(f"drawing values must lie in [0, 1], found range [{low}, {high}]")


def _unit_float32(pixels: NDArray[Any]) -> NDArray[np.float32]:
    """Convert (already validated) pixels to float32 in [0, 1]."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) * np.float32(1.0 / 255.0)
    return pixels.astype(np.float32, copy=False)


def _fit_box(crop: NDArray[np.float32]) -> NDArray[np.float32]:
    """Scale the ink box so its longer side fills BOX_SIZE pixels; return (20, 20).

    The scaled ink starts at the box's top-left corner; rows or columns
    beyond its shorter side stay zero.
    """
    height, width = crop.shape
    scale = BOX_SIZE / max(height, width)
    resample_rows = _area_weights(height, scale)  # (20, height)
    resample_cols = _area_weights(width, scale)  # (20, width)
    box = resample_rows @ crop @ resample_cols.T  # (20, 20)
    return box.astype(np.float32, copy=False)


def _area_weights(n_in: int, scale: float) -> NDArray[np.float32]:
    """Weights of 1-D area resampling of `n_in` pixels into BOX_SIZE pixels.

    Input pixel ``i`` is mapped to the interval ``[i*s, (i+1)*s]`` of the
    output axis (``s = scale``); output pixel ``j`` covers ``[j, j+1]``. The
    weight is their overlap, so ``out[j] = sum_i w[j, i] * in[i]`` is the mean
    intensity over output pixel ``j``: a box filter whose support grows with
    the downscale factor.
    """
    edges = scale * np.arange(n_in + 1)  # (n_in + 1,)
    out_lo = np.arange(BOX_SIZE, dtype=np.float64)[:, None]  # (20, 1)
    overlap = np.minimum(out_lo + 1.0, edges[1:]) - np.maximum(out_lo, edges[:-1])
    weights: NDArray[np.float64] = np.clip(overlap, 0.0, None)  # (20, n_in)
    return weights.astype(np.float32)


def _whole_shift(com: float) -> int:
    """Whole-pixel offset of the box that brings `com` nearest to COM_TARGET."""
    return math.floor(COM_TARGET - com + 0.5)


def _paste(field: NDArray[np.float32], box: NDArray[np.float32], top: int, left: int) -> None:
    """Copy `box` into `field` with its corner at (top, left), cutting off the overflow."""
    r0, r1 = max(top, 0), min(top + BOX_SIZE, FIELD_SIZE)
    c0, c1 = max(left, 0), min(left + BOX_SIZE, FIELD_SIZE)
    if r0 < r1 and c0 < c1:
        field[r0:r1, c0:c1] = box[r0 - top : r1 - top, c0 - left : c1 - left]

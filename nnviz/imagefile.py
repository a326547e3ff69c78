"""Read a picture of a digit from an image file (PNG, JPEG, BMP, ...).

Uses QtGui's image readers (Qt is already a dependency; no extra imaging
library). Works without a running application or a display.

Pictures of more than :data:`MAX_PIXELS` pixels are refused from their header,
before they are decoded: a digit needs nowhere near that many, and reading one
takes about 20 bytes of memory per pixel.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import DataError, plain_number

#: Most pixels (width x height) of a picture nnviz reads: 50 million, e.g.
#: 7000 x 7000 or a 48-megapixel phone photo. Its 8-bit RGBA copy (200 MB)
#: stays under Qt's default allocation limit (256 MB).
MAX_PIXELS = 50_000_000


def read_drawing(path: str | os.PathLike[str]) -> npt.NDArray[np.float32]:
    """A grayscale drawing in [0, 1] with the ink bright on a dark background.

    Transparent pixels count as background. Pictures with dark ink on a light
    background (the usual scan or paint-program export) are inverted: the
    polarity is judged from the border pixels.

    Raises
    ------
    DataError
        The file is missing, is not an image Qt reads, is damaged, or has more
        than :data:`MAX_PIXELS` pixels (refused before it is decoded).
    """
    from PySide6.QtGui import QImage

    image = _read_image(path)
    rgba = _rgba_array(image.convertToFormat(QImage.Format.Format_RGBA8888))
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255.0
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    if float(alpha.min()) < 1.0:
        # Transparent background: the ink is where the picture is opaque and
        # differs from the background. Composite on the opposite of the ink.
        ink_is_dark = float(np.average(gray, weights=alpha + 1e-6)) < 0.5
        background = 1.0 if ink_is_dark else 0.0
        gray = gray * alpha + background * (1.0 - alpha)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if float(np.median(border)) > 0.5:
        gray = 1.0 - gray
    return np.clip(gray, 0.0, 1.0).astype(np.float32)


def _read_image(path: str | os.PathLike[str]) -> Any:
    """The decoded QImage of ``path``; DataError naming the file when there is none."""
    from PySide6.QtGui import QImage, QImageReader

    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    reader = QImageReader(os.fspath(path))
    # From the header only, before decoding (a failed read() forgets them).
    size, pixel_format = reader.size(), reader.imageFormat()  # invalid when unknown
    if size.isValid() and size.width() * size.height() > MAX_PIXELS:
        raise DataError(
            f"{path}: the image is too large: {_dimensions(size)}; nnviz reads images of up "
            f"to {plain_number(MAX_PIXELS)} pixels (such as 7000 x 7000): shrink it first, "
            "a digit needs far fewer"
        )
    image = reader.read()
    if not image.isNull():
        return image
    error = reader.error()
    if os.path.isdir(path):
        raise DataError(f"{path}: is a folder, not an image file")
    if error == QImageReader.ImageReaderError.FileNotFoundError:
        raise DataError(f"{path}: file not found")
    if error == QImageReader.ImageReaderError.DeviceError:
        raise DataError(f"{path}: cannot read the file ({reader.errorString()})")
    if error == QImageReader.ImageReaderError.UnsupportedFormatError:
        raise DataError(f"{path}: not a readable image (not a picture in a format Qt reads)")
    # Qt refuses to decode more than its allocation limit (a 16-bit RGBA image
    # within MAX_PIXELS can exceed it); say so rather than "damaged".
    depth = QImage.toPixelFormat(pixel_format).bitsPerPixel()
    needed = size.width() * size.height() * depth / 8 if size.isValid() else 0.0
    limit = QImageReader.allocationLimit()
    if limit > 0 and needed > limit * 2**20:
        raise DataError(
            f"{path}: the image is too large to decode: {_dimensions(size)} at {depth} bits "
            f"per pixel needs {plain_number(needed / 2**20)} MB; Qt decodes images of up to "
            f"{limit} MB"
        )
    raise DataError(
        f"{path}: not a readable image: the file is damaged or truncated ({reader.errorString()})"
    )


def _dimensions(size: Any) -> str:
    """``"30000 x 30000 pixels (900 million)"``."""
    width, height = size.width(), size.height()
    return f"{width} x {height} pixels ({plain_number(width * height)})"


def _rgba_array(image: Any) -> npt.NDArray[np.uint8]:
    height, width = image.height(), image.width()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
    rows = buffer.reshape(height, image.bytesPerLine())[:, : width * 4]
    return rows.reshape(height, width, 4).copy()

"""Read a picture of a digit from an image file (PNG, JPEG, BMP, ...).

Uses QtGui's image readers (Qt is already a dependency; no extra imaging
library). Works without a running application or a display.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import DataError


def read_drawing(path: str | os.PathLike[str]) -> npt.NDArray[np.float32]:
    """A grayscale drawing in [0, 1] with the ink bright on a dark background.

    Transparent pixels count as background. Pictures with dark ink on a light
    background (the usual scan or paint-program export) are inverted: the
    polarity is judged from the border pixels.
    """
    from PySide6.QtGui import QImage

    image = QImage(os.fspath(path))
    if image.isNull():
        reason = "file not found" if not os.path.exists(path) else "not a readable image"
        raise DataError(f"{path}: {reason}")
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


def _rgba_array(image: Any) -> npt.NDArray[np.uint8]:
    height, width = image.height(), image.width()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
    rows = buffer.reshape(height, image.bytesPerLine())[:, : width * 4]
    return rows.reshape(height, width, 4).copy()

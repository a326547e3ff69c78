"""Read IDX files (the MNIST format), plain or gzip-compressed, with full validation.

An IDX file is a header followed by the raw array in C order::

    magic   4 bytes   0x00 0x00 <type code> <number of dimensions>
    dims    4 bytes per dimension, big-endian int32
    data    product(dims) items of the type, big-endian

MNIST uses type code 0x08 (unsigned byte): images have magic 2051 (0x00000803,
3 dimensions) and labels magic 2049 (0x00000801, 1 dimension).

Every problem is reported as a :class:`~nnviz.core.errors.DataError` whose message
starts with the file path and says in plain words what is wrong. :func:`read_images`
and :func:`read_labels` check the magic number before anything else in the
header, so a labels file given as images is named as such.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import DataError, plain_number

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "read_images", "read_labels"]

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> (big-endian dtype as stored, human name).
_TYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "unsigned byte"),
    0x09: (">i1", "signed byte"),
    0x0B: (">i2", "16-bit integer"),
    0x0C: (">i4", "32-bit integer"),
    0x0D: (">f4", "32-bit float"),
    0x0E: (">f8", "64-bit float"),
}


def read_idx(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Read one IDX file into a new, writable array.

    Parameters
    ----------
    path
        An IDX file, plain or gzip-compressed. Compression is detected from the
        gzip magic bytes ``1f 8b``, not from the file name.

    Returns
    -------
    numpy.ndarray
        Shape ``dims`` from the header, native byte order; dtype ``uint8`` for
        type code 0x08 (the other IDX types are read too).

    Raises
    ------
    DataError
        The file cannot be read, is empty, is corrupt gzip, has a bad magic
        number or type code, a non-positive dimension, or its data is shorter
        or longer than the header says.
    """
    return _parse(path, _load_bytes(path))


def read_images(
    path: str | os.PathLike[str], shape: tuple[int, int] = (28, 28)
) -> npt.NDArray[np.uint8]:
    """Read an IDX image file (magic 2051) as one flattened image per row.

    Parameters
    ----------
    path
        The images file, plain or gzip-compressed.
    shape
        The required ``(rows, cols)`` of every image.

    Returns
    -------
    numpy.ndarray
        ``uint8``, shape ``(n, rows * cols)``, row-major pixels, 0 = background.

    Raises
    ------
    DataError
        Everything :func:`read_idx` raises, and: the magic number is not 2051
        (0x00000803, a 3-D unsigned-byte file; checked before the sizes), or
        the images are not ``rows x cols`` pixels.
    """
    array = _parse(path, _load_bytes(path), wanted=IMAGES_MAGIC)
    n, rows, cols = array.shape
    if (rows, cols) != tuple(shape):
        raise DataError(
            f"{path}: the images are {rows} x {cols} pixels, expected {shape[0]} x {shape[1]}"
        )
    return array.reshape(n, rows * cols)


def read_labels(path: str | os.PathLike[str], num_classes: int = 10) -> npt.NDArray[np.uint8]:
    """Read an IDX label file (magic 2049) and check every label is a class index.

    Parameters
    ----------
    path
        The labels file, plain or gzip-compressed.
    num_classes
        Labels must lie in ``0 .. num_classes - 1``.

    Returns
    -------
    numpy.ndarray
        ``uint8``, shape ``(n,)``.

    Raises
    ------
    DataError
        Everything :func:`read_idx` raises, and: the magic number is not 2049
        (0x00000801, a 1-D unsigned-byte file; checked before the sizes), or a
        label is out of range (the message names the first bad value and its
        index).
    """
    labels = _parse(path, _load_bytes(path), wanted=LABELS_MAGIC)
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{path}: label {int(labels[i])} at index {i} is outside 0-{num_classes - 1}"
            f" ({bad.size} bad labels in all)"
        )
    return labels


def _load_bytes(path: str | os.PathLike[str]) -> bytes:
    """Return the file's bytes, decompressed when it starts with the gzip magic."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if not raw:
        raise DataError(f"{path}: the file is empty")
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile (bad CRC or length) is an OSError; a cut-off stream is an EOFError.
        raise DataError(f"{path}: the gzip data is corrupt or truncated ({exc})") from exc


def _parse(
    path: str | os.PathLike[str], data: bytes, wanted: int | None = None
) -> npt.NDArray[Any]:
    """Validate the IDX header of ``data`` and return its array.

    ``wanted``: the magic number the caller needs, checked before the
    dimensions and the size of the data are read.
    """
    if len(data) < 4:
        raise DataError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if wanted is not None and magic != wanted:
        kind, meaning = _WANTED[wanted]
        raise DataError(
            f"{path}: not an MNIST {kind} file: magic number 0x{magic:08x}"
            f" ({_magic_meaning(magic)}); expected 0x{wanted:08x} ({meaning})"
        )
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path}: not an IDX file: magic number 0x{magic:08x}"
            " does not start with two zero bytes"
        )
    if data[2] not in _TYPES:
        raise DataError(f"{path}: unsupported IDX data type code 0x{data[2]:02x}")
    dtype = np.dtype(_TYPES[data[2]][0])
    dims = _parse_dims(path, data, ndim=data[3])
    header = 4 + 4 * len(dims)
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise DataError(
            f"{path}: truncated: expected {_bytes(expected)} of data, found {_bytes(found)}"
        )
    if found > expected:
        raise DataError(
            f"{path}: {_number(found - expected)} extra bytes after the data"
            f" (expected {_bytes(expected)} of data, found {_bytes(found)})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    # astype copies into native byte order: the result is writable and owns its memory.
    return array.astype(dtype.newbyteorder("="))


def _magic_meaning(magic: int) -> str:
    """What a magic number found in a file says about it: ``"a labels file?"``."""
    if magic == IMAGES_MAGIC:
        return "an images file?"
    if magic == LABELS_MAGIC:
        return "a labels file?"
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16:
        return "not an IDX file: an IDX magic number starts with two zero bytes"
    if code not in _TYPES:
        return f"unknown IDX data type code 0x{code:02x}"
    return f"{_TYPES[code][1]} values, {ndim} dimension{'' if ndim == 1 else 's'}"


#: What read_images and read_labels want: (the files' name, their magic in words).
_WANTED = {
    IMAGES_MAGIC: ("images", "unsigned-byte images, 3 dimensions"),
    LABELS_MAGIC: ("labels", "unsigned-byte labels, 1 dimension"),
}


def _bytes(n: int) -> str:
    """``"10 bytes"``, ``"47,040,016 bytes"``, ``"10^28 bytes"``: exact while readable."""
    return f"{_number(n)} byte{'' if n == 1 else 's'}"


def _number(n: int) -> str:
    """A count in plain words: exact with thousands separators below 10^15.

    255 dimensions of 2**31 - 1 make a number of 2,400 digits: beyond a
    float's range it is written as a power of ten.
    """
    if n < 10**15:
        return f"{n:,}"
    if n < 10**300:
        return plain_number(float(n))
    return f"about 10^{math.floor(n.bit_length() * math.log10(2))}"


def _parse_dims(path: str | os.PathLike[str], data: bytes, ndim: int) -> tuple[int, ...]:
    """Read the ``ndim`` big-endian int32 sizes after the magic number."""
    if ndim == 0:
        raise DataError(f"{path}: the IDX header declares 0 dimensions")
    if len(data) < 4 + 4 * ndim:
        raise DataError(
            f"{path}: truncated header: {ndim} dimensions need {4 + 4 * ndim} bytes,"
            f" the file has {len(data)}"
        )
    dims: tuple[int, ...] = struct.unpack(f">{ndim}i", data[4 : 4 + 4 * ndim])
    for axis, size in enumerate(dims):
        if size <= 0:
            raise DataError(f"{path}: dimension {axis} has size {size}; sizes must be positive")
    return dims

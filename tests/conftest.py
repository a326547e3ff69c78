"""Shared pytest fixtures."""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.datasets import Dataset, load_mnist

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four original MNIST .gz files.

    ``$NNVIZ_TEST_DATA`` if set, else ``shared/data/mnist`` beside the repository.
    A test that needs the data fails (never skips) when they are not there.
    """
    env = os.environ.get("NNVIZ_TEST_DATA")
    repo = Path(__file__).resolve().parents[1]
    folder = Path(env) if env else repo / ".." / "shared" / "data" / "mnist"
    missing = [name for name in MNIST_FILES if not (folder / name).is_file()]
    if missing:
        origin = "NNVIZ_TEST_DATA" if env else "the default location"
        pytest.fail(
            f"MNIST test data not found in {folder} ({origin}); missing: {', '.join(missing)}."
            " Set NNVIZ_TEST_DATA to a folder holding the four MNIST .gz files.",
            pytrace=False,
        )
    return folder.resolve()


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path) -> Dataset:
    """The real MNIST sets, loaded once (tests read them, never change them)."""
    return load_mnist(mnist_dir, download_missing=False)


_IDX_TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def _idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as an IDX file: big-endian header, then big-endian data."""
    code = _IDX_TYPE_CODES[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def write_idx() -> Callable[..., Path]:
    """``write_idx(path, array, compress=True)``: write an IDX file, gzipped or plain."""

    def write(path: Path, array: np.ndarray, compress: bool = True) -> Path:
        data = _idx_bytes(array)
        path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
        return path

    return write

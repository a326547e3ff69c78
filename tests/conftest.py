"""Shared pytest fixtures."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gzip
import os
import resource
import signal
import struct
import subprocess
from collections.abc import Callable, Iterator
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


@pytest.fixture
def unreadable_folder(tmp_path: Path, mnist_dir: Path) -> Iterator[Path]:
    """A folder holding the MNIST files that an ordinary user cannot open (mode 000)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    for name in MNIST_FILES:
        (folder / name).symlink_to(mnist_dir / name)
    folder.chmod(0)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


@pytest.fixture
def without_root_powers() -> Callable[[list[str]], list[str]]:
    """A command run as an ordinary user would run it: root's powers to read any file dropped.

    As root (CI and these machines), ``setpriv`` (util-linux) removes the
    capabilities that let root read past file permissions; as anyone else the
    command is left as it is.
    """

    def wrap(command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]

    return wrap


@dataclasses.dataclass
class FullDisk:
    """A folder on a file system with no room left, and how that was arranged."""

    folder: Path
    how: str  # "tmpfs" (a real small file system, filled up) or "rlimit" (see below)

    def write_old(self, name: str, data: bytes) -> Path:
        """A file that was there before the disk filled up."""
        path = self.folder / name
        with self.room():
            path.write_bytes(data)
        return path

    @contextlib.contextmanager
    def room(self) -> Iterator[None]:
        """Briefly make room (to put the old files there)."""
        filler = self.folder / ".filler"
        if self.how == "tmpfs":
            filler.unlink()
            try:
                yield
            finally:
                _fill(filler)
        else:
            yield

    @contextlib.contextmanager
    def full(self) -> Iterator[None]:
        """Inside: writing more than a few bytes fails as on a full disk."""
        if self.how == "tmpfs":
            yield
            return
        old = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, old[1]))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, old)
            signal.signal(signal.SIGXFSZ, handler)


def _fill(filler: Path) -> None:
    """Write zeros until the file system says it is full (unbuffered, so that nothing
    is left to flush, and fail on the close, once it is)."""
    block = bytes(4096)
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                os.write(descriptor, block)
            except OSError as error:
                if error.errno in (errno.ENOSPC, errno.EDQUOT):
                    return
                raise
    finally:
        os.close(descriptor)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[FullDisk]:
    """A real small file system (a 512 KB tmpfs) filled to the brim, where the machine
    lets the tests mount one (root, as here and in CI); elsewhere writes are made to
    fail at the operating system with a file-size limit (RLIMIT_FSIZE: ``EFBIG``), the
    nearest real failure an ordinary user can arrange."""
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        command = ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)]
        mounted = subprocess.run(command, capture_output=True).returncode == 0
    except OSError:  # no mount command
        mounted = False

    disk = FullDisk(folder, "tmpfs" if mounted else "rlimit")
    try:
        if mounted:
            _fill(folder / ".filler")
        yield disk
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)

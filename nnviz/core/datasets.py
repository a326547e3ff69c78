"""Data sets: loading them, and one import for everything about them.

A :class:`DatasetSpec` names the four IDX files of an MNIST-like data set (roles
``train_images``, ``train_labels``, ``test_images``, ``test_labels``), their
published checksums and the mirrors they can be downloaded from
(:mod:`nnviz.core.dataset_specs`). Files are looked up in an explicit folder,
then ``$NNVIZ_DATA_DIR``, then the user cache folder (:func:`user_cache_dir` /
``spec.key``) and checked (:mod:`nnviz.core.dataset_files`); :func:`load_dataset`
downloads them into the cache when none is found (:mod:`nnviz.core.download`,
whose :func:`download` is re-exported here, as are the names of the other two).

Every failure is a :class:`~nnviz.core.errors.DataError` (a
:class:`~nnviz.core.errors.DownloadError` when no mirror delivered a good file)
whose message names the file or folder and says what is wrong.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nnviz.core.dataset_files import (
    DATA_DIR_ENV,
    FileReport,
    ProgressCallback,
    StopFlag,
    _locate,
    _published_problem,
    default_data_dir,
    find_data_dir,
    user_cache_dir,
    verify_dir,
)
from nnviz.core.dataset_specs import (
    DATASETS,
    FASHION_MNIST,
    MNIST,
    ROLES,
    DatasetFile,
    DatasetSpec,
)
from nnviz.core.errors import DataError
from nnviz.core.idx import read_images, read_labels

if TYPE_CHECKING:
    from nnviz.core.download import download

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "FASHION_MNIST",
    "MNIST",
    "ROLES",
    "Dataset",
    "DatasetFile",
    "DatasetSpec",
    "FileReport",
    "ProgressCallback",
    "StopFlag",
    "clear_cache",
    "default_data_dir",
    "download",
    "find_data_dir",
    "load_dataset",
    "load_mnist",
    "user_cache_dir",
    "verify_dir",
]

_CACHE_SIZE = 2


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded data set. The arrays are read-only (they may be shared by a cache).

    ``train_x`` is float32 ``(n_train, 784)`` with pixels in [0, 1] (row-major
    28x28, 0 = background); ``train_y`` is uint8 ``(n_train,)`` class indices;
    ``test_x`` and ``test_y`` likewise for the test set.
    """

    train_x: npt.NDArray[np.float32]
    train_y: npt.NDArray[np.uint8]
    test_x: npt.NDArray[np.float32]
    test_y: npt.NDArray[np.uint8]
    spec: DatasetSpec
    folder: Path


# ---------------------------------------------------------------- loading

_cache: dict[tuple[object, ...], Dataset] = {}


def load_dataset(
    spec: DatasetSpec = MNIST,
    folder: str | os.PathLike[str] | None = None,
    download_missing: bool = True,
    progress: ProgressCallback | None = None,
    stop: StopFlag | None = None,
) -> Dataset:
    """Find (see :func:`find_data_dir`), download if needed, check and load a data set.

    Published ``.gz`` files must match their size and checksum, so files of
    another data set with the same names are refused. Pixels become float32
    ``x / 255`` in [0, 1]. Loading the same unchanged files again in one process
    returns the cached :class:`Dataset`.

    Raises
    ------
    DataError
        No files and ``download_missing`` is False, a folder is incomplete, a
        file is damaged, or an images file and its labels file disagree on the
        number of examples (the message names both files and both counts).
    DownloadError, Cancelled
        As :func:`download`.
    """
    found = find_data_dir(spec, folder)
    if found is None:
        if not download_missing:
            raise DataError(
                f"{default_data_dir(spec)}: no {spec.title} files here and {DATA_DIR_ENV} is"
                " not set; allow the download, or give a folder holding the files"
            )
        from nnviz.core.download import download  # it imports this module

        found = download(spec, progress=progress, stop=stop)
    return _load_folder(spec, found)


def load_mnist(
    folder: str | os.PathLike[str] | None = None,
    download_missing: bool = True,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """:func:`load_dataset` for :data:`MNIST`."""
    return load_dataset(MNIST, folder, download_missing, progress)


def clear_cache() -> None:
    """Forget the data sets kept in memory by :func:`load_dataset`."""
    _cache.clear()


def _load_folder(spec: DatasetSpec, folder: Path) -> Dataset:
    paths = _locate(spec, folder)[0]
    key = _cache_key(spec, paths)
    if key in _cache:
        # The same files may be reached through another (symlinked) folder.
        return dataclasses.replace(_cache[key], spec=spec, folder=folder)
    _check_published(spec, folder, paths)
    classes = len(spec.class_names)
    train_x, train_y = _load_pair(paths["train_images"], paths["train_labels"], classes)
    test_x, test_y = _load_pair(paths["test_images"], paths["test_labels"], classes)
    dataset = Dataset(train_x, train_y, test_x, test_y, spec, folder)
    while len(_cache) >= _CACHE_SIZE:
        del _cache[next(iter(_cache))]
    _cache[key] = dataset
    return dataset


def _check_published(spec: DatasetSpec, folder: Path, paths: Mapping[str, Path]) -> None:
    """Refuse a ``.gz`` file whose size or checksum is not the published one."""
    for role, path in paths.items():
        file = spec.files[role]
        if problem := _published_problem(path, file):
            hint = "; delete it to download it again" if folder == default_data_dir(spec) else ""
            raise DataError(
                f"{path}: {problem}: not the published {spec.title} file"
                f" (it is damaged or belongs to another data set){hint}"
            )


def _cache_key(spec: DatasetSpec, paths: Mapping[str, Path]) -> tuple[object, ...]:
    """Identify the files by spec, resolved path, size and modification time."""
    try:
        stats = [(str(paths[r].resolve()), paths[r].stat()) for r in ROLES]
    except OSError as exc:
        raise DataError(f"{exc.filename}: cannot read the file ({exc.strerror})") from exc
    files = tuple(spec.files[r] for r in ROLES)
    return (spec.key, files, *((p, s.st_size, s.st_mtime_ns) for p, s in stats))


def _load_pair(
    images_path: Path, labels_path: Path, num_classes: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Read matching images and labels; pixels as float32 in [0, 1], read-only."""
    images = read_images(images_path)  # (n, 784) uint8
    labels = read_labels(labels_path, num_classes)  # (n,)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds"
            f" {len(labels)} labels: the two files do not belong together"
        )
    # One float32 pass, no float64 intermediate; 255 * float32(1/255) rounds to exactly 1.
    pixels = np.multiply(images, np.float32(1 / 255), dtype=np.float32)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        # Keeps `from nnviz.core.datasets import download` working; resolved on first
        # use because nnviz.core.download imports this module (PEP 562).
        if name == "download":
            from nnviz.core.download import download

            return download
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), "download"})

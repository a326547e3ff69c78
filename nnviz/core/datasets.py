"""Data sets: where their files live, checking them, loading them.

A :class:`DatasetSpec` names the four IDX files of an MNIST-like data set (roles
``train_images``, ``train_labels``, ``test_images``, ``test_labels``), their
published checksums and the mirrors they can be downloaded from. Files are
looked up in an explicit folder, then ``$NNVIZ_DATA_DIR``, then the user cache
folder (:func:`user_cache_dir` / ``spec.key``); :func:`load_dataset` downloads
them into the cache when none is found (:mod:`nnviz.core.download`, whose
:func:`download` is re-exported here).

Every failure is a :class:`~nnviz.core.errors.DataError` (a
:class:`~nnviz.core.errors.DownloadError` when no mirror delivered a good file)
whose message names the file or folder and says what is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError, DataError
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

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
DATA_DIR_ENV = "NNVIZ_DATA_DIR"

type ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(file_name, bytes_done, bytes_total)``; the total is None when unknown."""

_CACHE_SIZE = 2


class StopFlag(Protocol):
    """Anything with ``is_set()``, such as a :class:`threading.Event`."""

    def is_set(self) -> bool: ...


class _Hasher(Protocol):
    @property
    def name(self) -> str: ...
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class DatasetFile:
    """One published file: its name, checksums (lower-case hex) and size in bytes."""

    name: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """An MNIST-like data set: four IDX files, their mirrors and the class names.

    ``files`` maps each of :data:`ROLES` to a :class:`DatasetFile`; every mirror
    is a base URL ending with ``/`` to which a file name is appended.
    """

    key: str
    title: str
    files: Mapping[str, DatasetFile]
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    homepage: str = ""
    license_note: str = ""

    def __post_init__(self) -> None:
        missing = [role for role in ROLES if role not in self.files]
        if missing:
            raise ConfigError(f"data set {self.key!r}: no file for {', '.join(missing)}")
        bad = [mirror for mirror in self.mirrors if not mirror.endswith("/")]
        if bad:
            raise ConfigError(f"data set {self.key!r}: mirrors must end with '/': {bad}")


MNIST = DatasetSpec(
    key="mnist",
    title="MNIST",
    files={
        "train_images": DatasetFile(
            "train-images-idx3-ubyte.gz",
            sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
            size=9912422,
        ),
        "train_labels": DatasetFile(
            "train-labels-idx1-ubyte.gz",
            sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            md5="d53e105ee54ea40749a09fcbcd1e9432",
            size=28881,
        ),
        "test_images": DatasetFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            md5="9fb629c4189551a2d022fa330f9573f3",
            size=1648877,
        ),
        "test_labels": DatasetFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            md5="ec29112dd5afa0611ce80d1b7f02629c",
            size=4542,
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    ),
    class_names=tuple(str(digit) for digit in range(10)),
    homepage="https://yann.lecun.com/exdb/mnist/",
    license_note="Yann LeCun, Corinna Cortes and Christopher J. C. Burges; CC BY-SA 3.0.",
)

# Checksums: md5 from the zalandoresearch/fashion-mnist README (and torchvision),
# sha256 and sizes as listed by other loaders. The S3 "website" endpoint is HTTP
# only (S3 website endpoints do not serve HTTPS); the files are checksummed anyway.
FASHION_MNIST = DatasetSpec(
    key="fashion-mnist",
    title="Fashion-MNIST",
    files={
        "train_images": DatasetFile(
            "train-images-idx3-ubyte.gz",
            sha256="08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            size=26421880,
        ),
        "train_labels": DatasetFile(
            "train-labels-idx1-ubyte.gz",
            sha256="b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            md5="25c81989df183df01b3e8a0aad5dffbe",
            size=29515,
        ),
        "test_images": DatasetFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            md5="bef4ecab320f06d8554ea6380940ec79",
            size=4422102,
        ),
        "test_labels": DatasetFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
            md5="bb300cfdad3c16e7a12a480ee83cd310",
            size=5148,
        ),
    },
    mirrors=(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license_note="Zalando SE; MIT license.",
)

DATASETS: dict[str, DatasetSpec] = {MNIST.key: MNIST, FASHION_MNIST.key: FASHION_MNIST}


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


@dataclass(frozen=True)
class FileReport:
    """The verdict on one file of a data set folder (see :func:`verify_dir`)."""

    name: str
    path: Path
    ok: bool
    problem: str | None = None


# ---------------------------------------------------------------- where files live


def user_cache_dir() -> Path:
    """nnviz's cache folder: ``$XDG_CACHE_HOME/nnviz`` or ``~/.cache/nnviz`` on Linux,
    ``~/Library/Caches/nnviz`` on macOS, ``%LOCALAPPDATA%\\nnviz\\Cache`` on Windows."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "nnviz" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nnviz"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative path.
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "nnviz"


def default_data_dir(spec: DatasetSpec) -> Path:
    """The cache folder for ``spec``'s files: ``user_cache_dir() / spec.key``."""
    return user_cache_dir() / spec.key


def find_data_dir(spec: DatasetSpec, folder: str | os.PathLike[str] | None = None) -> Path | None:
    """Find the folder holding ``spec``'s four files.

    Lookup order: ``folder`` if given, else ``$NNVIZ_DATA_DIR`` if set, else the
    cache folder :func:`default_data_dir`. A folder holds a file if it has the
    published name (``x.gz``) or the decompressed one (``x``). A given folder
    (or ``$NNVIZ_DATA_DIR``) with a subfolder named ``spec.key`` means that
    subfolder, so one ``$NNVIZ_DATA_DIR`` can hold several data sets.

    Returns
    -------
    Path or None
        The folder, or None when the cache folder is incomplete and nothing
        else was asked for (the caller may then :func:`download`).

    Raises
    ------
    DataError
        ``folder`` or ``$NNVIZ_DATA_DIR`` is given but misses a file; the
        message names the folder and the missing files.
    """
    if folder is not None:
        return _require_complete(spec, _data_subdir(spec, Path(folder)), "")
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return _require_complete(spec, _data_subdir(spec, Path(env)), f" (from {DATA_DIR_ENV})")
    cache = default_data_dir(spec)
    return cache if not _locate(spec, cache)[1] else None


def _data_subdir(spec: DatasetSpec, folder: Path) -> Path:
    sub = folder / spec.key
    return sub if sub.is_dir() else folder


def _find_file(folder: Path, file: DatasetFile) -> Path | None:
    """The file as published (``x.gz``) or decompressed (``x``), if present."""
    for candidate in (folder / file.name, folder / file.name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _locate(spec: DatasetSpec, folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Return ``({role: path} of the files found, [names of the files missing])``."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for role in ROLES:
        path = _find_file(folder, spec.files[role])
        if path is None:
            missing.append(spec.files[role].name)
        else:
            found[role] = path
    return found, missing


def _require_complete(spec: DatasetSpec, folder: Path, origin: str) -> Path:
    if not folder.is_dir():
        raise DataError(f"{folder}{origin}: no such folder")
    missing = _locate(spec, folder)[1]
    if missing:
        raise DataError(
            f"{folder}{origin}: the folder does not hold the {spec.title} files; missing:"
            f" {', '.join(missing)} (gzip-compressed or decompressed without '.gz')"
        )
    return folder


# ---------------------------------------------------------------- checking files


def verify_dir(spec: DatasetSpec, folder: str | os.PathLike[str]) -> list[FileReport]:
    """Check each of ``spec``'s files in ``folder``, in :data:`ROLES` order.

    A published ``.gz`` file must have the published size and checksum (sha256
    if known, else md5); a decompressed file, or one without a known checksum,
    must parse as a valid IDX file of its role.
    """
    return [_verify_file(Path(folder), role, spec.files[role]) for role in ROLES]


def _verify_file(folder: Path, role: str, file: DatasetFile) -> FileReport:
    path = _find_file(folder, file)
    if path is None:
        return FileReport(file.name, folder / file.name, ok=False, problem="missing")
    if path.name == file.name and (file.sha256 or file.md5):
        problem = _file_problem(path, file)
    else:
        problem = _parse_problem(path, role)
    return FileReport(file.name, path, ok=problem is None, problem=problem)


def _parse_problem(path: Path, role: str) -> str | None:
    try:
        (read_images if role.endswith("images") else read_labels)(path)
    except DataError as exc:
        return str(exc).removeprefix(f"{path}: ")
    return None


def _file_problem(path: Path, file: DatasetFile) -> str | None:
    """Why ``path`` is not the published ``file`` (size, then checksum), or None."""
    try:
        size = path.stat().st_size
        if file.size is not None and size != file.size:
            return f"size is {size} bytes, expected {file.size}"
        hasher = _new_hasher(file)
        if hasher is None:
            return None
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                hasher.update(block)
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or exc})"
    return _digest_problem(hasher, file)


def _published_problem(path: Path, file: DatasetFile) -> str | None:
    """:func:`_file_problem` for the file as published (``x.gz``); None for ``x``."""
    return _file_problem(path, file) if path.name == file.name else None


def _new_hasher(file: DatasetFile) -> _Hasher | None:
    """A fresh hashlib object for the best known checksum of ``file``, or None."""
    if file.sha256:
        return hashlib.sha256()
    if file.md5:
        return hashlib.md5(usedforsecurity=False)
    return None


def _digest_problem(hasher: _Hasher, file: DatasetFile) -> str | None:
    """Why the bytes fed to ``hasher`` (from :func:`_new_hasher`) are not ``file``, or None."""
    digest = hasher.hexdigest()
    expected = (file.sha256 if hasher.name == "sha256" else file.md5) or ""
    if digest == expected.lower():
        return None
    return f"{hasher.name} checksum mismatch: {digest}, expected {expected}"


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

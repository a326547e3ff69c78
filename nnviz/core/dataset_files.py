"""Where a data set's files live and whether they are the published ones.

Files are looked up in an explicit folder, then ``$NNVIZ_DATA_DIR``, then the
user cache folder (:func:`user_cache_dir` / ``spec.key``); :func:`verify_dir`
checks them against their published sizes and checksums, or parses them.
:mod:`nnviz.core.datasets` re-exports the public names of this module;
:mod:`nnviz.core.download` imports the file checks from here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import platformdirs

from nnviz.core.dataset_specs import ROLES, DatasetFile, DatasetSpec
from nnviz.core.errors import DataError
from nnviz.core.idx import read_images, read_labels

__all__ = [
    "DATA_DIR_ENV",
    "FileReport",
    "ProgressCallback",
    "StopFlag",
    "default_data_dir",
    "find_data_dir",
    "user_cache_dir",
    "verify_dir",
]


type ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(file_name, bytes_done, bytes_total)``; the total is None when unknown."""


class StopFlag(Protocol):
    """Anything with ``is_set()``, such as a :class:`threading.Event`."""

    def is_set(self) -> bool: ...


DATA_DIR_ENV = "NNVIZ_DATA_DIR"


class _Hasher(Protocol):
    @property
    def name(self) -> str: ...
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class FileReport:
    """The verdict on one file of a data set folder (see :func:`verify_dir`)."""

    name: str
    path: Path
    ok: bool
    problem: str | None = None


# ---------------------------------------------------------------- where files live


def user_cache_dir() -> Path:
    """nnviz's cache folder, where each platform keeps caches (platformdirs):
    ``$XDG_CACHE_HOME/nnviz`` or ``~/.cache/nnviz`` on Linux, ``~/Library/Caches/nnviz``
    on macOS, ``%LOCALAPPDATA%\\nnviz\\Cache`` on Windows."""
    return Path(platformdirs.user_cache_dir("nnviz", appauthor=False))


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
    return sub if _exists(sub, Path.is_dir) else folder


def _find_file(folder: Path, file: DatasetFile) -> Path | None:
    """The file as published (``x.gz``) or decompressed (``x``), if present."""
    for candidate in (folder / file.name, folder / file.name.removesuffix(".gz")):
        if _exists(candidate, Path.is_file):
            return candidate
    return None


def _exists(path: Path, kind: Callable[[Path], bool]) -> bool:
    """``kind(path)`` (``Path.is_file``, ``Path.is_dir``); a folder that cannot be
    read is a :class:`~nnviz.core.errors.DataError` that names it."""
    try:
        return kind(path)
    except OSError as exc:
        raise DataError(f"{path.parent}: cannot read the folder ({exc.strerror or exc})") from exc


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
    if not _exists(folder, Path.is_dir):
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

"""Downloading a data set's files: mirror after mirror, verified, placed atomically.

Each file is streamed into a temporary file beside its target while its
checksum is computed, checked for size and checksum, and only then renamed
into place (:func:`~nnviz.core.fileio.atomic_write`). A mirror that fails is
remembered with its reason; when none delivers, a
:class:`~nnviz.core.errors.DownloadError` lists them all, and suggests being
offline when none could be reached.

:func:`download` is also importable from :mod:`nnviz.core.datasets`.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nnviz import __version__
from nnviz.core.datasets import (
    DATA_DIR_ENV,
    ROLES,
    DatasetFile,
    DatasetSpec,
    ProgressCallback,
    StopFlag,
    _digest_problem,
    _find_file,
    _new_hasher,
    _published_problem,
    default_data_dir,
)
from nnviz.core.errors import Cancelled, ConfigError, DataError, DownloadError
from nnviz.core.fileio import atomic_write

__all__ = ["download"]

_CHUNK_SIZE = 64 * 1024
MIRRORS_ENV = "NNVIZ_MIRRORS"


def _mirrors(spec: DatasetSpec) -> tuple[str, ...]:
    """``NNVIZ_MIRRORS`` (comma-separated base URLs) if set, else the spec's mirrors."""
    env = os.environ.get(MIRRORS_ENV, "").strip()
    if not env:
        return spec.mirrors
    return tuple(
        url.strip() if url.strip().endswith("/") else url.strip() + "/"
        for url in env.split(",")
        if url.strip()
    )


@dataclass(frozen=True)
class _Transfer:
    progress: ProgressCallback | None
    timeout: float
    stop: StopFlag | None


class _MirrorFailure(Exception):
    """One mirror did not deliver a good file; ``unreachable`` if it never answered."""

    def __init__(self, url: str, reason: str, unreachable: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason, self.unreachable = url, reason, unreachable


def download(
    spec: DatasetSpec,
    folder: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float = 30.0,
    stop: StopFlag | None = None,
    roles: Iterable[str] | None = None,
) -> Path:
    """Download the missing or damaged files of ``spec`` into ``folder``.

    Each file is tried on every mirror in turn; it is streamed into a temporary
    file beside its target, its size and checksum are verified, and only then
    is it renamed into place. A good ``.gz`` file, or a decompressed one, that
    is already there is kept. ``progress(name, done, total)`` is called per
    chunk (it restarts from 0 when the next mirror is tried); ``stop.is_set()``
    is checked per chunk.

    Parameters
    ----------
    folder
        Where to put the files; default :func:`~nnviz.core.datasets.default_data_dir`.
    mirrors
        Base URLs ending with ``/`` used instead of ``spec.mirrors``. When not
        given, the environment variable ``NNVIZ_MIRRORS`` (base URLs separated
        by commas) overrides ``spec.mirrors``: for a local mirror or a proxy.
    timeout
        Seconds to wait for a connection or for data before giving up on a mirror.
    roles
        A subset of :data:`~nnviz.core.datasets.ROLES` to download; default all four.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    DownloadError
        No mirror delivered a good copy of a file; the message names the file
        and every mirror tried with its reason.
    Cancelled
        ``stop`` was set; no partial or temporary file is left behind.
    DataError
        The folder cannot be written.
    """
    target = Path(folder) if folder is not None else default_data_dir(spec)
    bases = _mirrors(spec) if mirrors is None else tuple(mirrors)
    transfer = _Transfer(progress, timeout, stop)
    for role in ROLES if roles is None else tuple(roles):
        if role not in spec.files:
            raise ConfigError(f"unknown file role {role!r}; expected one of {ROLES}")
        file = spec.files[role]
        if _needs_download(target, file):
            _download_file(spec, file, target / file.name, bases, transfer)
    return target


def _needs_download(folder: Path, file: DatasetFile) -> bool:
    path = _find_file(folder, file)
    return path is None or _published_problem(path, file) is not None


def _download_file(
    spec: DatasetSpec, file: DatasetFile, dest: Path, bases: tuple[str, ...], transfer: _Transfer
) -> None:
    failures: list[_MirrorFailure] = []
    for base in bases:
        try:
            _fetch(base + file.name, dest, file, transfer)
            return
        except _MirrorFailure as failure:
            failures.append(failure)
    lines = [f"{dest}: could not download {file.name} from any mirror:"]
    lines += [f"  {failure}" for failure in failures] or ["  (no mirrors to try)"]
    if failures and all(failure.unreachable for failure in failures):
        lines.append(
            "could not reach any mirror: are you offline? You can also point nnviz at a"
            f" folder holding the {spec.title} files with --data-dir or {DATA_DIR_ENV}"
        )
    raise DownloadError("\n".join(lines))


def _fetch(url: str, dest: Path, file: DatasetFile, transfer: _Transfer) -> None:
    """Stream ``url`` into ``dest`` atomically, verifying it before the rename."""
    _check_stop(transfer.stop, file.name)
    try:
        with atomic_write(dest) as out:
            _stream(url, out, file, transfer)
    except OSError as exc:
        # Network errors arrive as _MirrorFailure; an OSError here is local (disk full...).
        raise DataError(f"{dest}: cannot save the download ({exc.strerror or exc})") from exc


def _stream(url: str, out: BinaryIO, file: DatasetFile, transfer: _Transfer) -> None:
    hasher = _new_hasher(file)
    done = 0
    with _open_url(url, transfer.timeout) as response:
        total = response.length if response.length is not None else file.size
        _report(transfer, file.name, 0, total)
        while chunk := _read_chunk(response, url):
            _check_stop(transfer.stop, file.name)
            out.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            done += len(chunk)
            _report(transfer, file.name, done, total)
    if total is not None and done < total:
        raise _MirrorFailure(url, f"the download stopped after {done} of {total} bytes")
    if file.size is not None and done != file.size:
        raise _MirrorFailure(url, f"the download has {done} bytes, expected {file.size}")
    if hasher is not None and (problem := _digest_problem(hasher, file)):
        raise _MirrorFailure(url, problem)


def _open_url(url: str, timeout: float) -> http.client.HTTPResponse:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise _MirrorFailure(url, "not an http or https URL")
    request = urllib.request.Request(url, headers={"User-Agent": f"nnviz/{__version__}"})
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _MirrorFailure(url, f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        unreachable = isinstance(exc.reason, OSError)
        raise _MirrorFailure(url, _describe(exc.reason), unreachable) from exc
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise _MirrorFailure(url, _describe(exc), isinstance(exc, TimeoutError)) from exc
    return response


def _read_chunk(response: http.client.HTTPResponse, url: str) -> bytes:
    try:
        return response.read(_CHUNK_SIZE)
    except (http.client.HTTPException, OSError) as exc:
        raise _MirrorFailure(url, f"the connection broke off ({_describe(exc)})") from exc


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _report(transfer: _Transfer, name: str, done: int, total: int | None) -> None:
    if transfer.progress is not None:
        transfer.progress(name, done, total)


def _check_stop(stop: StopFlag | None, name: str) -> None:
    if stop is not None and stop.is_set():
        raise Cancelled(f"download of {name} cancelled")

"""Downloading a data set's files: mirror after mirror, verified, placed atomically.

Each file is streamed into a temporary file beside its target while its
checksum is computed, checked for size and checksum, and only then renamed
into place (:func:`~nnviz.core.fileio.atomic_write`). A mirror that fails is
remembered with its reason; when none delivers, a
:class:`~nnviz.core.errors.DownloadError` lists them all, and suggests being
offline when none could be reached. A mirror that could not be reached, timed
out or was too slow is not tried again for the other files of the same call.

A hostile or broken mirror cannot fill the disk or hold the download forever:
a ``Content-Length`` other than the file's known size is refused before any
byte is read, a body is cut off as soon as it passes the file's size (or
:data:`MAX_UNKNOWN_SIZE` when the size is not known), and a transfer must keep
an average rate (see :func:`download`'s ``min_rate`` and ``grace``).

Connections are made with :mod:`http.client` on sockets made here, so that a
watcher thread can shut the socket down, on a cancel or when the transfer is
too slow: a slow or silent mirror cannot hold a cancelled download for the
length of its timeout, nor a trickling one the download for ever.

:func:`download` is also importable from :mod:`nnviz.core.datasets`.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from nnviz import __version__
from nnviz.core.dataset_files import (
    DATA_DIR_ENV,
    ProgressCallback,
    StopFlag,
    _digest_problem,
    _find_file,
    _Hasher,
    _new_hasher,
    _published_problem,
    default_data_dir,
)
from nnviz.core.dataset_specs import ROLES, DatasetFile, DatasetSpec
from nnviz.core.errors import Cancelled, ConfigError, DataError, DownloadError
from nnviz.core.fileio import atomic_write

__all__ = ["download"]

_CHUNK_SIZE = 64 * 1024
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PORTS = {"http": 80, "https": 443}
_POLL_SECONDS = 0.05  # how often a download looks at its stop flag and its deadline
MIRRORS_ENV = "NNVIZ_MIRRORS"
#: The most bytes accepted for a file whose size the spec does not give.
MAX_UNKNOWN_SIZE = 100_000_000
#: Default of :func:`download`'s ``min_rate``: the average bytes per second a transfer must keep.
MIN_RATE = 20_000.0
#: Default of :func:`download`'s ``grace``: seconds allowed on top of ``received / min_rate``.
GRACE_SECONDS = 30.0


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
    min_rate: float
    grace: float


class _MirrorFailure(Exception):
    """One mirror did not deliver a good file.

    ``unreachable`` if it never answered (which suggests being offline);
    ``lasting`` if it is not worth trying for the other files (unreachable,
    timed out, too slow): by default, when it is unreachable.
    """

    def __init__(
        self, url: str, reason: str, unreachable: bool = False, lasting: bool | None = None
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason, self.unreachable = url, reason, unreachable
        self.lasting = unreachable if lasting is None else lasting


def download(
    spec: DatasetSpec,
    folder: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float = 30.0,
    stop: StopFlag | None = None,
    roles: Iterable[str] | None = None,
    *,
    min_rate: float = MIN_RATE,
    grace: float = GRACE_SECONDS,
) -> Path:
    """Download the missing or damaged files of ``spec`` into ``folder``.

    Each file is tried on every mirror in turn; it is streamed into a temporary
    file beside its target, its size and checksum are verified, and only then
    is it renamed into place. A good ``.gz`` file, or a decompressed one, that
    is already there is kept. ``progress(name, done, total)`` is called per
    chunk (it restarts from 0 when the next mirror is tried), as soon as some
    bytes arrived. ``stop.is_set()`` is looked at every 50 ms from another
    thread while a file is fetched, and the connection is then shut down, so a
    cancel takes effect at once whatever the mirror does (except while a host
    name is being looked up). Redirects (at most five, to http or https URLs)
    are followed, and the ``http_proxy``/``https_proxy``/``no_proxy``
    environment variables are honoured as by :mod:`urllib.request`.

    A mirror fails at once when it announces (``Content-Length``) another size
    than the file's, or sends more bytes than that (more than
    :data:`MAX_UNKNOWN_SIZE` when the spec gives no size). A mirror that could
    not be reached, timed out or was too slow (see ``min_rate``) is not tried
    again for the files that follow in the same call.

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
    min_rate, grace
        A mirror is too slow, and the next one is tried, when ``t`` seconds
        after it was first contacted for a file it has sent fewer than
        ``(t - grace) * min_rate`` bytes of it: the deadline, ``grace +
        received / min_rate`` seconds, moves on with every byte received, up to
        ``grace + size / min_rate`` for the whole file. By default 30 s +
        received / (20 KB/s): at most 8 min 46 s for MNIST's largest file
        (9.9 MB), while a mirror that trickles a few bytes a second (which the
        socket's timeout never catches) is left after about 30 s.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    DownloadError
        No mirror delivered a good copy of a file; the message names the file
        and every mirror with its reason (for one not tried again, the reason
        it failed for an earlier file).
    Cancelled
        ``stop`` was set; no partial or temporary file is left behind.
    DataError
        The folder cannot be written.
    """
    if not (min_rate > 0 and grace >= 0):
        raise ConfigError(f"min_rate must be > 0 and grace >= 0, not {min_rate} and {grace}")
    target = Path(folder) if folder is not None else default_data_dir(spec)
    bases = _mirrors(spec) if mirrors is None else tuple(mirrors)
    transfer = _Transfer(progress, timeout, stop, min_rate, grace)
    given_up: dict[str, tuple[str, _MirrorFailure]] = {}  # base URL: (file name, failure)
    for role in ROLES if roles is None else tuple(roles):
        if role not in spec.files:
            raise ConfigError(f"unknown file role {role!r}; expected one of {ROLES}")
        file = spec.files[role]
        if _needs_download(target, file):
            _download_file(spec, file, target / file.name, bases, transfer, given_up)
    return target


def _needs_download(folder: Path, file: DatasetFile) -> bool:
    path = _find_file(folder, file)
    return path is None or _published_problem(path, file) is not None


def _download_file(
    spec: DatasetSpec,
    file: DatasetFile,
    dest: Path,
    bases: tuple[str, ...],
    transfer: _Transfer,
    given_up: dict[str, tuple[str, _MirrorFailure]],
) -> None:
    """Try each mirror for ``file``, but those in ``given_up``, and add to it those to skip."""
    failures: list[_MirrorFailure] = []
    for base in bases:
        if base in given_up:
            name, earlier = given_up[base]
            reason = f"not tried again after failing for {name}: {earlier.reason}"
            failures.append(_MirrorFailure(base + file.name, reason, earlier.unreachable))
            continue
        try:
            _fetch(base + file.name, dest, file, transfer)
            return
        except _MirrorFailure as failure:
            # A cancel breaks the connection: that is no fault of the mirror.
            _check_stop(transfer.stop, file.name)
            failures.append(failure)
            if failure.lasting:
                given_up[base] = (file.name, failure)
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
    with _Watcher(transfer.stop, transfer.min_rate, transfer.grace) as watcher:
        try:
            total = _receive(url, out, file, transfer, watcher, hasher)
        except _MirrorFailure as failure:
            # A shut socket breaks the connection: say why it was shut.
            _check_stop(transfer.stop, file.name)
            if watcher.expired:
                raise watcher.too_slow(url) from failure
            raise
    # A cancel or a passed deadline shuts the socket down, which a read may see as
    # the end of the body.
    _check_stop(transfer.stop, file.name)
    done = watcher.received
    if watcher.expired and (total is None or done < total):
        raise watcher.too_slow(url)
    if total is not None and done < total:
        raise _MirrorFailure(url, f"the download stopped after {done} of {total} bytes")
    if file.size is not None and done != file.size:
        raise _MirrorFailure(url, f"the download has {done} bytes, expected {file.size}")
    if hasher is not None and (problem := _digest_problem(hasher, file)):
        raise _MirrorFailure(url, problem)


def _receive(
    url: str,
    out: BinaryIO,
    file: DatasetFile,
    transfer: _Transfer,
    watcher: _Watcher,
    hasher: _Hasher | None,
) -> int | None:
    """GET ``url`` and write its body to ``out``; returns the size expected (if known).

    Refuses an announced size other than the file's before reading the body,
    and stops as soon as more bytes arrive than the file may have.
    """
    with _get(url, transfer.timeout, watcher) as response:
        announced = response.length  # None without a (valid) Content-Length
        if file.size is not None:
            limit = file.size
            if announced is not None and announced != file.size:
                raise _MirrorFailure(
                    url, f"the mirror announces {announced:,} bytes; the file has {file.size:,}"
                )
            too_much = f"the mirror sent more than the {file.size:,} bytes of the file"
        else:
            limit = MAX_UNKNOWN_SIZE
            if announced is not None and announced > limit:
                raise _MirrorFailure(
                    url,
                    f"the mirror announces {announced:,} bytes, more than the {limit:,}"
                    " accepted for a file of unknown size",
                )
            too_much = f"the mirror sent more than {limit:,} bytes, the most accepted for a file"
            too_much += " of unknown size"
        total = announced if announced is not None else file.size
        _report(transfer, file.name, 0, total)
        # One byte more than the limit is asked for, to tell "exactly the limit" from "more".
        while chunk := _read_chunk(response, url, min(_CHUNK_SIZE, limit - watcher.received + 1)):
            _check_stop(transfer.stop, file.name)
            if watcher.received + len(chunk) > limit:
                raise _MirrorFailure(url, too_much)
            out.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            watcher.received += len(chunk)
            _report(transfer, file.name, watcher.received, total)
    return total


class _Watcher:
    """Shut the current connection down when ``stop`` is set or the transfer is too slow.

    A daemon thread looks every 50 ms at ``stop`` and at the deadline, ``grace +
    received / min_rate`` seconds after the watcher was started (``received``:
    the bytes counted so far by the downloading thread). Once ``stop`` is set,
    or the deadline passed (``expired``), the socket being watched is shut
    down, so that a connect, TLS handshake or read blocked in the downloading
    thread returns at once, however slow the mirror.
    It watches a duplicate of the socket's descriptor: shutdown acts on the
    socket they share, and the duplicate stays valid when wrapping the socket
    in TLS detaches the original socket object.
    """

    def __init__(self, stop: StopFlag | None, min_rate: float, grace: float) -> None:
        self._stop = stop
        self.min_rate, self.grace = min_rate, grace
        self.received = 0  # bytes of the body so far: written by the downloading thread only
        self.expired = False
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nnviz-download-watch", daemon=True)

    def __enter__(self) -> Self:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self.watch(None)

    def watch(self, sock: socket.socket | None) -> None:
        """Watch ``sock`` (``None``: nothing) instead of the socket watched so far."""
        copy = sock.dup() if sock is not None else None
        with self._lock:
            previous, self._sock = self._sock, copy
            if self._fired:
                self._shut()
        if previous is not None:
            previous.close()

    def too_slow(self, url: str) -> _MirrorFailure:
        """The failure of a mirror whose deadline passed."""
        seconds = time.monotonic() - self._start
        reason = (
            f"too slow: {self.received:,} bytes in {seconds:.1f} s"
            f" (at least {self.min_rate / 1000:g} KB/s needed)"
        )
        return _MirrorFailure(url, reason, lasting=True)

    def _run(self) -> None:
        while not self._done.wait(_POLL_SECONDS):
            stopped = self._stop is not None and self._stop.is_set()
            late = time.monotonic() - self._start > self.grace + self.received / self.min_rate
            if stopped or late:
                with self._lock:
                    self.expired = not stopped
                    self._fired = True
                    self._shut()
                return

    def _shut(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # not connected yet, or already closed
                self._sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def _get(url: str, timeout: float, watcher: _Watcher) -> Iterator[http.client.HTTPResponse]:
    """GET ``url``, following up to five redirects, and yield the successful response.

    Parameters
    ----------
    url
        The mirror's URL of the file, named in every :class:`_MirrorFailure`.
    timeout
        Seconds to wait for a connection or for data.
    watcher
        Watches each connection made.

    Raises
    ------
    _MirrorFailure
        The mirror could not be reached, refused, or answered with an error.
    """
    target = url
    for _ in range(_MAX_REDIRECTS + 1):
        scheme = urllib.parse.urlsplit(target).scheme
        if scheme not in ("http", "https"):
            where = "" if target == url else f"redirected to {target}: "
            raise _MirrorFailure(url, where + "not an http or https URL")
        connection = _connect(url, target, timeout, watcher)
        with contextlib.closing(connection), _response(connection, url) as response:
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                target = urllib.parse.urljoin(target, location)
                continue
            if not 200 <= response.status < 300:
                raise _MirrorFailure(url, f"HTTP {response.status} {response.reason}")
            yield response
            return
    raise _MirrorFailure(url, f"more than {_MAX_REDIRECTS} redirects")


def _connect(
    url: str, target: str, timeout: float, watcher: _Watcher
) -> http.client.HTTPConnection:
    """Connect for ``target``, through the environment's proxy if any, and send the GET.

    The socket is made here rather than by :mod:`http.client`, so that the
    watcher watches it from before the connect (a connection given its
    ``sock`` does not connect by itself). As with :mod:`urllib`, an http URL
    goes to its proxy as an absolute URL, an https URL through a CONNECT
    tunnel, and certificates are checked against the system's trusted ones.
    """
    parts = urllib.parse.urlsplit(target)
    connection = None
    try:
        if not parts.hostname:
            raise ValueError("no host in the URL")
        host, port = parts.hostname, parts.port or _PORTS[parts.scheme]
        hostport = parts.netloc.rpartition("@")[2]
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        headers = {"Host": hostport, "User-Agent": f"nnviz/{__version__}", "Connection": "close"}
        tls_host = host if parts.scheme == "https" else None
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        proxy = _proxy(parts.scheme, hostport)
        if proxy is None:
            connection.sock = _open_socket(host, port, timeout, watcher)
        else:
            proxy_host, proxy_port = proxy.hostname or "", proxy.port or _PORTS[proxy.scheme]
            connection.sock = _open_socket(proxy_host, proxy_port, timeout, watcher)
            if tls_host is not None:  # https: TLS with the mirror, through a tunnel
                _tunnel(
                    connection.sock, f"[{host}]:{port}" if ":" in host else f"{host}:{port}", proxy
                )
            else:  # http: the proxy fetches the whole URL
                path = urllib.parse.urlunsplit(parts._replace(fragment=""))
                headers |= _proxy_authorization(proxy)
                tls_host = proxy_host if proxy.scheme == "https" else None
        if tls_host is not None:
            context = ssl.create_default_context()
            context.set_alpn_protocols(["http/1.1"])  # as http.client does
            connection.sock = context.wrap_socket(connection.sock, server_hostname=tls_host)
        connection.request("GET", path, headers=headers)
    except (http.client.HTTPException, OSError, ValueError) as exc:
        if connection is not None:
            connection.close()
        raise _MirrorFailure(url, _describe(exc), isinstance(exc, OSError)) from exc
    return connection


def _open_socket(host: str, port: int, timeout: float, watcher: _Watcher) -> socket.socket:
    """:func:`socket.create_connection`, with each socket watched before it connects."""
    errors: list[OSError] = []
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        watcher.watch(sock)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            errors.append(exc)
    raise errors[0] if errors else OSError(f"no address found for {host}")


def _proxy(scheme: str, hostport: str) -> urllib.parse.SplitResult | None:
    """The proxy urllib would use for a ``scheme`` URL to ``hostport`` (``http_proxy``...)."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(hostport):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if parts.scheme not in _PORTS or not parts.hostname:
        raise ValueError(f"the {scheme} proxy is not an http or https URL")
    return parts


def _proxy_authorization(proxy: urllib.parse.SplitResult) -> dict[str, str]:
    if not (proxy.username and proxy.password):
        return {}
    user = f"{urllib.parse.unquote(proxy.username)}:{urllib.parse.unquote(proxy.password)}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(user.encode()).decode("ascii")}


def _tunnel(sock: socket.socket, hostport: str, proxy: urllib.parse.SplitResult) -> None:
    """Ask the proxy on ``sock`` for a tunnel to ``hostport`` (HTTP CONNECT)."""
    lines = [f"CONNECT {hostport} HTTP/1.1", f"Host: {hostport}"]
    lines += [f"{name}: {value}" for name, value in _proxy_authorization(proxy).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    # Read only the reply's head: the proxy sends nothing more before our TLS hello.
    reply = b""
    while b"\r\n\r\n" not in reply:
        data = sock.recv(4096)
        if not data or len(reply) > 65536:
            raise OSError("the proxy broke off the tunnel")
        reply += data
    status = reply.partition(b"\r\n")[0].decode("latin-1")
    if status.split(" ")[1:2] != ["200"]:
        raise OSError(f"the proxy refused the tunnel ({status})")


@contextlib.contextmanager
def _response(
    connection: http.client.HTTPConnection, url: str
) -> Iterator[http.client.HTTPResponse]:
    """The response's head (its status and headers); the response is closed afterwards."""
    try:
        response = connection.getresponse()
    except (http.client.HTTPException, OSError) as exc:
        raise _MirrorFailure(url, _describe(exc), isinstance(exc, TimeoutError)) from exc
    with response:
        yield response


def _read_chunk(response: http.client.HTTPResponse, url: str, size: int) -> bytes:
    # read1 returns what has arrived, so a trickling mirror still shows progress.
    try:
        return response.read1(size)
    except (http.client.HTTPException, OSError) as exc:
        reason = f"the connection broke off ({_describe(exc)})"
        raise _MirrorFailure(url, reason, lasting=isinstance(exc, TimeoutError)) from exc


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

"""Downloads from a real HTTP server on 127.0.0.1: mirrors, fallback, checks, cancel."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import http.server
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import nnviz.core.download
from nnviz.core.datasets import (
    FASHION_MNIST,
    MNIST,
    ROLES,
    DatasetFile,
    DatasetSpec,
    clear_cache,
    default_data_dir,
    download,
    load_dataset,
    verify_dir,
)
from nnviz.core.errors import Cancelled, DataError, DownloadError

NAMES = [MNIST.files[role].name for role in ROLES]
LABELS = ("train_labels", "test_labels")  # small files, for the mirror logic
Progress = list[tuple[str, int, int | None]]
WriteIdx = Callable[..., Path]


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; ``/truncated/x`` sends half of ``good/x``; ``/hang/x`` never answers.

    ``/redirect/x`` redirects to ``/good/x``, ``/ftp/x`` to an ftp URL, ``/loop/x`` to
    itself. As a proxy, it serves ``http://any.host/path`` as ``/path`` and answers
    CONNECT with 407 after noting the request in ``tunnels``. Hostile mirrors:
    ``/huge/x`` announces 20 GB and sends ``good/x``; ``/endless/x`` sends ``good/x``
    then zeros with no ``Content-Length``, until the client hangs up (then the path
    is added to ``cut_off``) or 64 MB were sent; ``/stall/x`` reads the request and says
    nothing until the client hangs up. ``requests`` counts the requests per first
    folder of the path.
    """

    tunnels: ClassVar[list[tuple[str, str | None]]] = []
    requests: ClassVar[Counter[str]] = Counter()
    cut_off: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        name = self.path.split("/")[-1]
        self.requests[self.path.split("/")[1]] += 1
        if self.path.startswith("http://"):
            self.path = urllib.parse.urlsplit(self.path).path
            super().do_GET()
        elif self.path.startswith("/truncated/"):
            self.send_truncated(Path(self.directory) / "good" / name)
        elif self.path.startswith("/hang/"):
            time.sleep(3.0)
        elif self.path.startswith("/stall/"):
            self.wait_for_hang_up()
        elif self.path.startswith(("/huge/", "/endless/")):
            self.send_hostile(name, endless=self.path.startswith("/endless/"))
        elif self.path.startswith(("/redirect/", "/ftp/", "/loop/")):
            self.send_response(302)
            locations = {"redirect": f"/good/{name}", "ftp": f"ftp://127.0.0.1/{name}"}
            self.send_header("Location", locations.get(self.path.split("/")[1], self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            super().do_GET()

    def do_CONNECT(self) -> None:
        self.tunnels.append((self.path, self.headers.get("Proxy-Authorization")))
        self.send_response(407)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_hostile(self, name: str, endless: bool) -> None:
        self.send_response(200)
        if not endless:
            self.send_header("Content-Length", str(20_000_000_000))
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write((Path(self.directory) / "good" / name).read_bytes())
            for _ in range(1024 if endless else 0):
                self.wfile.write(bytes(64 * 1024))
        except OSError:  # the client hung up
            self.cut_off.append(self.path)

    def wait_for_hang_up(self) -> None:
        self.connection.settimeout(0.1)
        for _ in range(200):  # 20 s at most
            try:
                if not self.connection.recv(1):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def send_truncated(self, source: Path) -> None:
        data = source.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a cancelled client hung up
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Server:
    url: str  # base URL, ending with "/"
    root: Path  # the folder it serves


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Iterator[Server]:
    """A server with folders good/ (the real files) and bad/ (each damaged in one byte)."""
    root = tmp_path_factory.mktemp("www")
    (root / "good").mkdir()
    (root / "bad").mkdir()
    for name in NAMES:
        (root / "good" / name).symlink_to(mnist_dir / name)
        data = bytearray((mnist_dir / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (root / "bad" / name).write_bytes(bytes(data))
    httpd = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{httpd.server_address[1]}/", root)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No proxy between us and 127.0.0.1; no real user cache or data folder."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("NNVIZ_DATA_DIR", raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on which nothing listens (a port just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def recorder(calls: Progress) -> Callable[[str, int, int | None], None]:
    return lambda name, done, total: calls.append((name, done, total))


def test_download_everything_from_a_good_mirror(server: str, tmp_path: Path) -> None:
    calls: Progress = []
    folder = download(
        MNIST, tmp_path / "data", progress=recorder(calls), mirrors=[server + "good/"]
    )
    assert folder == tmp_path / "data"
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)  # no temporary files
    assert all(report.ok for report in verify_dir(MNIST, folder))
    for role in ROLES:
        file = MNIST.files[role]
        done = [d for name, d, _ in calls if name == file.name]
        assert done[0] == 0 and done[-1] == file.size
        assert done == sorted(done)
        assert {total for name, _, total in calls if name == file.name} == {file.size}
    assert len([c for c in calls if c[0] == NAMES[0]]) > 100  # streamed in chunks


def test_default_folder_is_the_cache(server: str, tmp_path: Path) -> None:
    folder = download(MNIST, mirrors=[server + "good/"], roles=LABELS)
    assert folder == default_data_dir(MNIST) == tmp_path / "xdg-cache" / "nnviz" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted([NAMES[1], NAMES[3]])


@pytest.mark.parametrize("first", ["missing/", "bad/", "truncated/"])
def test_falls_back_to_the_next_mirror(server: str, tmp_path: Path, first: str) -> None:
    folder = download(MNIST, tmp_path, mirrors=[server + first, server + "good/"], roles=LABELS)
    reports = verify_dir(MNIST, folder)
    assert reports[1].ok and reports[3].ok
    assert not (folder / NAMES[0]).exists()
    assert not list(folder.glob(".*.tmp"))


def test_every_mirror_fails(server: str, tmp_path: Path) -> None:
    mirrors = [server + "missing/", server + "bad/", server + "truncated/"]
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=mirrors, roles=["train_labels"])
    message = str(caught.value)
    url = "{}" + NAMES[1]
    assert message.startswith(f"{tmp_path / NAMES[1]}: could not download {NAMES[1]}")
    assert f"{url.format(mirrors[0])}: HTTP 404" in message
    assert f"{url.format(mirrors[1])}: sha256 checksum mismatch" in message
    assert f"{url.format(mirrors[2])}: the download stopped after 14440 of 28881 bytes" in message
    assert "offline" not in message  # the mirrors answered
    assert list(tmp_path.iterdir()) == []


def test_offline(closed_port_url: str, tmp_path: Path) -> None:
    mirrors = [closed_port_url, closed_port_url + "other/"]
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=mirrors, roles=["test_labels"])
    message = str(caught.value)
    assert f"{closed_port_url}{NAMES[3]}: Connection refused" in message
    assert "could not reach any mirror: are you offline?" in message
    assert "--data-dir or NNVIZ_DATA_DIR" in message
    assert list(tmp_path.iterdir()) == []


def test_one_mirror_answered_so_not_offline(
    server: str, closed_port_url: str, tmp_path: Path
) -> None:
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=[closed_port_url, server + "missing/"], roles=LABELS)
    assert "Connection refused" in str(caught.value) and "HTTP 404" in str(caught.value)
    assert "offline" not in str(caught.value)


def test_only_http_mirrors(tmp_path: Path, mnist_dir: Path) -> None:
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=[mnist_dir.as_uri() + "/"], roles=["test_labels"])
    assert f"{mnist_dir.as_uri()}/{NAMES[3]}: not an http or https URL" in str(caught.value)


def test_timeout(server: str, tmp_path: Path) -> None:
    # The server answers after 3 s; a 0.2 s timeout gives up before that.
    with pytest.raises(DownloadError, match=r"hang/t10k-labels-idx1-ubyte\.gz: timed out"):
        download(MNIST, tmp_path, mirrors=[server + "hang/"], timeout=0.2, roles=["test_labels"])


# ------------------------------------------------------------------ hostile mirrors


def test_a_size_other_than_the_files_is_refused_at_once(server: str, tmp_path: Path) -> None:
    calls: Progress = []
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, recorder(calls), [server + "huge/"], roles=["train_images"])
    assert (
        f"{server}huge/{NAMES[0]}: the mirror announces 20,000,000,000 bytes;"
        " the file has 9,912,422\n" in str(caught.value) + "\n"
    )
    assert calls == []  # not a byte of the body was taken
    assert list(tmp_path.iterdir()) == []


def test_an_endless_body_is_cut_at_the_files_size(server: str, tmp_path: Path) -> None:
    mirror = f"{server}endless/{tmp_path.name}/"  # a path of this test's own
    calls: Progress = []
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, recorder(calls), [mirror], roles=["test_labels"])
    reason = "the mirror sent more than the 4,542 bytes of the file"
    assert f"{mirror}{NAMES[3]}: {reason}" in str(caught.value)
    assert max(done for _, done, _ in calls) <= SIZES[NAMES[3]] == 4542  # none counted beyond
    assert list(tmp_path.iterdir()) == []
    path = urllib.parse.urlsplit(mirror + NAMES[3]).path
    assert wait_until(lambda: path in Handler.cut_off), "the server is still sending"


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("huge/", "the mirror announces 20,000,000,000 bytes, more than the 1,000,000 accepted"),
        ("endless/", "the mirror sent more than 1,000,000 bytes, the most accepted"),
    ],
)
def test_a_file_of_unknown_size_is_capped(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, reason: str
) -> None:
    # The cap is 100 MB; 1 MB keeps the test short.
    monkeypatch.setattr(nnviz.core.download, "MAX_UNKNOWN_SIZE", 1_000_000)
    labels = dataclasses.replace(MNIST.files["test_labels"], size=None)
    spec = dataclasses.replace(MNIST, files={**MNIST.files, "test_labels": labels})
    calls: Progress = []
    with pytest.raises(DownloadError) as caught:
        download(spec, tmp_path, recorder(calls), [server + folder], roles=["test_labels"])
    assert f"{server}{folder}{NAMES[3]}: {reason} for a file of unknown size" in str(caught.value)
    assert max((done for _, done, _ in calls), default=0) <= 1_000_000
    assert list(tmp_path.iterdir()) == []
    # The same file, served as it should be, is taken.
    download(spec, tmp_path, mirrors=[server + "good/"], roles=["test_labels"])
    assert verify_dir(MNIST, tmp_path)[3].ok


def test_a_stalled_mirror_is_tried_for_the_first_file_only(server: str, tmp_path: Path) -> None:
    Handler.requests.clear()
    download(MNIST, tmp_path, mirrors=[server + "stall/", server + "good/"], timeout=0.5)
    assert all(report.ok for report in verify_dir(MNIST, tmp_path))
    assert Handler.requests == {"stall": 1, "good": 4}


def test_a_mirror_given_up_is_named_in_the_error(
    www: Server, tmp_path: Path, closed_port_url: str
) -> None:
    # The stalled mirror times out for the train labels and is not asked for the test
    # labels, which the other mirror does not have.
    folder = www.root / f"train-labels-only-{tmp_path.name}"
    folder.mkdir()
    (folder / NAMES[1]).symlink_to(www.root / "good" / NAMES[1])
    stall, other = www.url + "stall/", f"{www.url}{folder.name}/"
    Handler.requests.clear()
    with pytest.raises(DownloadError) as caught:
        download(
            MNIST, tmp_path, mirrors=[closed_port_url, stall, other], timeout=0.5, roles=LABELS
        )
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / NAMES[3]}: could not download {NAMES[3]}")
    assert (
        f"{closed_port_url}{NAMES[3]}: not tried again after failing for {NAMES[1]}:"
        " Connection refused" in message
    )
    assert f"{stall}{NAMES[3]}: not tried again after failing for {NAMES[1]}: timed out" in message
    assert f"{other}{NAMES[3]}: HTTP 404" in message
    assert "offline" not in message  # a mirror answered
    assert Handler.requests == {"stall": 1, folder.name: 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAMES[1]]


def test_cancel_leaves_nothing_behind(server: str, tmp_path: Path) -> None:
    stop = threading.Event()
    calls: Progress = []

    def progress(name: str, done: int, total: int | None) -> None:
        calls.append((name, done, total))
        if done > 0:
            stop.set()  # as a GUI's Cancel button would, from another thread

    with pytest.raises(Cancelled, match=r"train-images-idx3-ubyte\.gz"):
        download(MNIST, tmp_path, progress=progress, mirrors=[server + "good/"], stop=stop)
    assert list(tmp_path.iterdir()) == []
    assert calls[-1][1] < 1_000_000  # stopped early, not after the whole file


def test_already_stopped(server: str, tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        download(MNIST, tmp_path, mirrors=[server + "good/"], stop=stop, roles=LABELS)
    assert list(tmp_path.iterdir()) == []


def test_good_files_are_not_downloaded_again(
    server: str, tmp_path: Path, closed_port_url: str
) -> None:
    download(MNIST, tmp_path, mirrors=[server + "good/"], roles=LABELS)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    calls: Progress = []
    download(MNIST, tmp_path, recorder(calls), mirrors=[closed_port_url], roles=LABELS)
    assert calls == []
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_a_damaged_file_is_replaced(server: str, tmp_path: Path) -> None:
    (tmp_path / NAMES[3]).write_bytes(b"not the labels")
    download(MNIST, tmp_path, mirrors=[server + "good/"], roles=["test_labels"])
    assert verify_dir(MNIST, tmp_path)[3].ok


# ------------------------------------------------------------------ a second data set


@pytest.fixture
def server(www: Server) -> str:
    return www.url


@pytest.fixture
def small_fashion(www: Server, tmp_path: Path, write_idx: WriteIdx) -> DatasetSpec:
    """FASHION_MNIST with small generated files (100 train, 20 test), served under a new folder."""
    folder = www.root / f"fashion-{tmp_path.name}"
    folder.mkdir()
    rng = np.random.default_rng(1)
    arrays = {
        "train_images": rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 100, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 20, dtype=np.uint8),
    }
    files = {}
    for role, array in arrays.items():
        name = FASHION_MNIST.files[role].name
        data = write_idx(folder / name, array).read_bytes()
        files[role] = DatasetFile(
            name, hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), len(data)
        )
    mirrors = (www.url + "missing/", f"{www.url}{folder.name}/")
    return dataclasses.replace(FASHION_MNIST, files=files, mirrors=mirrors)


def test_fashion_spec_downloads_and_loads(small_fashion: DatasetSpec, tmp_path: Path) -> None:
    calls: Progress = []
    data = load_dataset(small_fashion, progress=recorder(calls))
    assert data.folder == tmp_path / "xdg-cache" / "nnviz" / "fashion-mnist"
    assert data.train_x.shape == (100, 784) and data.test_x.shape == (20, 784)
    assert (
        data.train_x.dtype == np.float32 and 0.0 <= data.train_x.min() < data.train_x.max() <= 1.0
    )
    assert data.spec.class_names[int(data.train_y[0])] in FASHION_MNIST.class_names
    assert {name for name, _, _ in calls} == set(NAMES)
    # The real Fashion-MNIST checksums refuse these files: the spec is what is checked.
    with pytest.raises(DataError, match="not the published Fashion-MNIST file"):
        load_dataset(FASHION_MNIST, data.folder)


def test_mirrors_from_the_environment(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NNVIZ_MIRRORS replaces the spec's mirror list (no trailing slash needed).
    monkeypatch.setenv("NNVIZ_MIRRORS", f"{server}missing/, {server}good")
    folder = download(MNIST, tmp_path, roles=LABELS)
    reports = verify_dir(MNIST, folder)
    assert reports[1].ok and reports[3].ok
    monkeypatch.setenv("NNVIZ_MIRRORS", f"{server}missing/")
    with pytest.raises(DownloadError, match="missing/"):
        download(MNIST, tmp_path / "other", roles=LABELS)


# ------------------------------------------------------------------ redirects and proxies


def test_follows_a_redirect(server: str, tmp_path: Path) -> None:
    download(MNIST, tmp_path, mirrors=[server + "redirect/"], roles=["test_labels"])
    assert verify_dir(MNIST, tmp_path)[3].ok


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("ftp/", f"redirected to ftp://127.0.0.1/{NAMES[3]}: not an http or https URL"),
        ("loop/", "more than 5 redirects"),
    ],
)
def test_refuses_a_bad_redirect(server: str, tmp_path: Path, folder: str, reason: str) -> None:
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=[server + folder], roles=["test_labels"])
    assert f"{server}{folder}{NAMES[3]}: {reason}" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_http_proxy_from_the_environment(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port_url: str
) -> None:
    # The mirror's name cannot be resolved: only the proxy can fetch it.
    monkeypatch.setenv("http_proxy", server)
    download(MNIST, tmp_path, mirrors=["http://mirror.invalid/good/"], roles=["test_labels"])
    assert verify_dir(MNIST, tmp_path)[3].ok
    # no_proxy names hosts reached directly: the proxy (nothing listening) is not used.
    monkeypatch.setenv("http_proxy", closed_port_url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    download(MNIST, tmp_path / "direct", mirrors=[server + "good/"], roles=["test_labels"])
    assert verify_dir(MNIST, tmp_path / "direct")[3].ok


def test_https_goes_through_a_proxy_tunnel(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Handler.tunnels.clear()
    monkeypatch.setenv("https_proxy", server.replace("http://", "http://me:p%40ss@"))
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path, mirrors=["https://mirror.invalid/x/"], roles=["test_labels"])
    assert "the proxy refused the tunnel (HTTP/1.0 407 Proxy Authentication Required)" in str(
        caught.value
    )
    assert Handler.tunnels == [
        ("mirror.invalid:443", "Basic " + base64.b64encode(b"me:p@ss").decode())
    ]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ cancel on a slow mirror

SIZES = {file.name: file.size for file in MNIST.files.values()}
CANCELLER = "nnviz-download-watch"  # the thread that watches the stop flag and the deadline


class SlowServer(QuietServer):
    """A server for :class:`SlowHandler`, with what it saw."""

    def __init__(self, mnist_dir: Path) -> None:
        super().__init__(("127.0.0.1", 0), SlowHandler)
        self.mnist_dir = mnist_dir
        self.complete: set[str] = set()  # names served whole, whatever the path
        self.requests: Counter[str] = Counter()  # "mode/name" of each request
        self.requested = threading.Event()  # a request arrived
        self.hung_up = threading.Event()  # a client closed its connection
        self.finished = threading.Event()  # the test is over: handlers return
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """``/trickle/x``: headers and 10 bytes, then one byte every 0.25 s for two minutes;
    ``/mute/x``: headers, then nothing; ``/silent/x``: not even headers."""

    server: SlowServer

    def do_GET(self) -> None:
        mode, name = self.path.strip("/").split("/")
        self.server.requests[f"{mode}/{name}"] += 1
        if name in self.server.complete:
            data = (self.server.mnist_dir / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.server.requested.set()
        if mode != "silent":
            self.send_response(200)
            self.send_header("Content-Length", str(SIZES[name]))
            self.end_headers()
        if mode == "trickle":
            self.trickle()
        else:
            self.wait_for_hang_up()

    def trickle(self) -> None:
        try:
            self.wfile.write(bytes(10))
            for _ in range(480):
                if self.server.finished.wait(0.25):
                    return
                self.wfile.write(b"\x01")
        except OSError:  # the client closed the connection
            self.server.hung_up.set()

    def wait_for_hang_up(self) -> None:
        self.connection.settimeout(0.1)
        while not self.server.finished.is_set():
            try:
                if not self.connection.recv(1):
                    self.server.hung_up.set()
                    return
            except TimeoutError:
                continue
            except OSError:
                self.server.hung_up.set()
                return

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow(mnist_dir: Path) -> Iterator[SlowServer]:
    httpd = SlowServer(mnist_dir)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.finished.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@dataclasses.dataclass
class Run:
    """A download in a thread of its own, and how it ended."""

    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(
        self,
        mirror: str | list[str],
        folder: Path,
        progress: Callable[..., None] | None = None,
        roles: tuple[str, ...] = ("test_labels",),
        grace: float = 30.0,
    ) -> Run:
        mirrors = [mirror] if isinstance(mirror, str) else mirror

        def target() -> None:
            try:
                # A timeout far beyond the test's waits: only a cancel ends it in time.
                download(MNIST, folder, progress, mirrors, 600.0, self.stop, roles, grace=grace)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        return self

    def wait(self) -> BaseException | None:
        """Wait for the download to end by itself (it must, within 20 s)."""
        assert self.thread is not None
        self.thread.join(20.0)
        if self.thread.is_alive():
            self.cancel()
            pytest.fail("the download did not end by itself")
        return self.error

    def cancel(self) -> BaseException | None:
        """Set the stop flag and wait for the download to end (it must, within 20 s)."""
        assert self.thread is not None
        self.stop.set()
        self.thread.join(20.0)
        assert not self.thread.is_alive(), "the download did not stop"
        assert not [t for t in threading.enumerate() if t.name == CANCELLER]
        return self.error


def test_cancel_a_trickling_mirror(slow: SlowServer, tmp_path: Path) -> None:
    slow.complete.add(NAMES[1])  # the train labels come whole; the test labels trickle
    calls: Progress = []
    arrived = threading.Event()

    def progress(name: str, done: int, total: int | None) -> None:
        calls.append((name, done, total))
        if name == NAMES[3] and done > 0:
            arrived.set()

    run = Run().start(slow.url + "trickle/", tmp_path, progress, LABELS)
    assert arrived.wait(20.0), "no progress from a trickling mirror"
    error = run.cancel()
    assert isinstance(error, Cancelled)
    assert str(error) == f"download of {NAMES[3]} cancelled"
    assert slow.hung_up.wait(20.0), "the server still has its connection"
    assert [p.name for p in tmp_path.iterdir()] == [NAMES[1]]  # no partial or temporary file
    assert verify_dir(MNIST, tmp_path)[1].ok  # the complete file is kept
    assert 0 < max(d for n, d, _ in calls if n == NAMES[3]) < SIZES[NAMES[3]]


def test_a_trickling_mirror_is_too_slow(slow: SlowServer, www: Server, tmp_path: Path) -> None:
    # Bytes come every 0.25 s, so no read times out: the deadline, 0.5 s + received /
    # (20 KB/s), is passed after about half a second.
    error = Run().start(slow.url + "trickle/", tmp_path, grace=0.5).wait()
    assert isinstance(error, DownloadError)
    assert re.search(
        rf"{slow.url}trickle/{NAMES[3]}: too slow: 1\d bytes in \d+\.\d s"
        r" \(at least 20 KB/s needed\)",
        str(error),
    ), str(error)
    assert "offline" not in str(error)  # the mirror answered
    assert list(tmp_path.iterdir()) == []
    assert slow.hung_up.wait(20.0), "the server still has its connection"
    # With a good mirror next, the download succeeds; the trickling mirror is given
    # up after the first file.
    slow.requests.clear()
    mirrors = [slow.url + "trickle/", www.url + "good/"]
    assert Run().start(mirrors, tmp_path, roles=LABELS, grace=0.5).wait() is None
    reports = verify_dir(MNIST, tmp_path)
    assert reports[1].ok and reports[3].ok
    assert slow.requests == {f"trickle/{NAMES[1]}": 1}


@pytest.mark.parametrize("mode", ["silent", "mute"])
def test_cancel_while_the_mirror_says_nothing(slow: SlowServer, tmp_path: Path, mode: str) -> None:
    # silent: cancelled while waiting for the headers; mute: for the body.
    started = threading.Event()
    run = Run().start(slow.url + f"{mode}/", tmp_path, lambda *_: started.set())
    assert slow.requested.wait(20.0)
    if mode == "mute":
        assert started.wait(20.0)  # the headers came: the download waits for the body
    assert isinstance(run.cancel(), Cancelled)
    assert slow.hung_up.wait(20.0), "the server still has its connection"
    assert list(tmp_path.iterdir()) == []
    assert started.is_set() == (mode == "mute")


def test_cancel_during_the_tls_handshake(tmp_path: Path) -> None:
    """A server that accepts the connection and never answers the TLS hello."""
    hello, hung_up = threading.Event(), threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                if conn.recv(1024):
                    hello.set()
                    while conn.recv(1024):
                        pass
                    hung_up.set()

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        run = Run().start(f"https://127.0.0.1:{listener.getsockname()[1]}/", tmp_path)
        assert hello.wait(20.0)
        assert isinstance(run.cancel(), Cancelled)
        assert hung_up.wait(20.0)
        server.join(20.0)
    assert list(tmp_path.iterdir()) == []


def connecting_to(port: int) -> bool:
    """Whether a socket of this machine waits for 127.0.0.1:port to answer its SYN (Linux)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return any(row[2] == f"0100007F:{port:04X}" and row[3] == "02" for row in rows)


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_cancel_while_connecting(tmp_path: Path) -> None:
    """A server whose queue of connections to accept is full drops the SYNs: connect waits."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        address = listener.getsockname()
        queued = []
        while len(queued) < 50:  # fill the queue: a connection that is not taken in time
            probe = socket.socket()
            probe.settimeout(0.5)
            try:
                probe.connect(address)
            except TimeoutError:
                probe.close()
                break
            queued.append(probe)
        run = Run().start(f"http://127.0.0.1:{address[1]}/", tmp_path)
        try:
            assert wait_until(lambda: connecting_to(address[1])), "the download never connected"
            assert isinstance(run.cancel(), Cancelled)
        finally:
            for probe in queued:
                probe.close()
    assert list(tmp_path.iterdir()) == []

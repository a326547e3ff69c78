"""Downloads from a real HTTP server on 127.0.0.1: mirrors, fallback, checks, cancel."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

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
    """Serves the folder; ``/truncated/x`` sends half of ``good/x``; ``/hang/x`` never answers."""

    def do_GET(self) -> None:
        if self.path.startswith("/truncated/"):
            self.send_truncated(Path(self.directory) / "good" / self.path.split("/")[-1])
        elif self.path.startswith("/hang/"):
            time.sleep(3.0)
        else:
            super().do_GET()

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
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"hang/t10k-labels-idx1-ubyte\.gz: timed out"):
        download(MNIST, tmp_path, mirrors=[server + "hang/"], timeout=0.2, roles=["test_labels"])
    assert time.perf_counter() - start < 1.5  # gave up long before the server's 3 s


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

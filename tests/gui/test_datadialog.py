"""The MNIST dialog: progress of any size, failures shown whole, a hostile mirror end to end."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from nnviz.core.datasets import MNIST, download
from nnviz.core.errors import DownloadError
from nnviz.core.modelio import load_model
from nnviz.gui.datadialog import DataDialog, format_size
from nnviz.gui.datasource import DataSource
from nnviz.gui.state import AppState
from nnviz.paths import bundled_model_path

IMAGES = MNIST.files["train_images"].name  # 9,912,422 bytes


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy between us and 127.0.0.1; an empty cache; no data folder."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NNVIZ_DATA_DIR", raising=False)
    monkeypatch.delenv("NNVIZ_MIRRORS", raising=False)


@pytest.fixture
def dialog(qtbot: QtBot) -> DataDialog:
    """The dialog as it opens, shown at its default size."""
    shown = DataDialog()
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def shows_all_its_text(label: QLabel) -> bool:
    """Whether ``label`` is as high as its wrapped text needs at its width."""
    return label.height() >= label.heightForWidth(label.width())


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 KB"),
        (28_881, "28.9 KB"),
        (999_999, "1.0 MB"),
        (9_912_422, "9.9 MB"),
        (20_000_000_000, "20.0 GB"),
        (5 * 10**15, "5000.0 TB"),
    ],
)
def test_sizes_as_people_read_them(size: int, text: str) -> None:
    assert format_size(size) == text


@pytest.mark.parametrize(
    ("total", "steps"),
    [
        (
            20_000_000_000,
            [(0, "0 bytes of 20.0 GB", 0), (12_345_678_901, "12.3 GB of 20.0 GB", 617)],
        ),
        (9_912_422, [(4_000_000, "4.0 MB of 9.9 MB", 403), (9_912_422, "9.9 MB of 9.9 MB", 1000)]),
    ],
)
def test_progress_of_any_size(
    dialog: DataDialog, qtbot: QtBot, total: int, steps: list[tuple[int, str, int]]
) -> None:
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert (dialog.progress.minimum(), dialog.progress.maximum()) == (0, 0)  # busy
    for done, text, value in steps:
        dialog.show_progress(IMAGES, done, total)
        assert dialog.file_label.text() == f"Downloading {IMAGES}: {text}"
        assert (dialog.progress.maximum(), dialog.progress.value()) == (1000, value)
        assert dialog.progress.text() == f"{value // 10}%"
    # A mirror that does not say the size: the bar stays busy.
    dialog.show_progress(IMAGES, 28_881, 0)
    assert dialog.file_label.text() == f"Downloading {IMAGES}: 28.9 KB"
    assert (dialog.progress.minimum(), dialog.progress.maximum()) == (0, 0)


def test_the_whole_offline_message_shows(dialog: DataDialog, qtbot: QtBot, tmp_path: Path) -> None:
    assert shows_all_its_text(dialog.message)
    # A real offline failure: three mirrors with paths like the real ones, nothing listening.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mirrors = [
        f"http://127.0.0.1:{port}/{path}/"
        for path in ("ossci-datasets/mnist", "cvdf-datasets/mnist", "exdb/mnist")
    ]
    with pytest.raises(DownloadError) as caught:
        download(MNIST, tmp_path / "cache" / "nnviz" / "mnist", mirrors=mirrors)
    message = str(caught.value)
    assert message.endswith("--data-dir or NNVIZ_DATA_DIR")  # the hint comes last
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    dialog.show_failure(message)
    assert dialog.error.text() == message
    qtbot.waitUntil(lambda: shows_all_its_text(dialog.error))
    assert dialog.error.geometry().bottom() < dialog.buttons.geometry().top()
    assert dialog.width() == 460  # it grew in height, not in width
    assert dialog.frameGeometry().height() <= dialog.screen().availableGeometry().height()
    assert shows_all_its_text(dialog.message)


def test_a_reason_is_shown_as_plain_text(qtbot: QtBot) -> None:
    shown = DataDialog("<b>not</b> a folder:\nsecond line")
    qtbot.addWidget(shown)
    assert "&lt;b&gt;not&lt;/b&gt; a folder:<br>second line" in shown.message.text()
    assert shown.error.textFormat() == Qt.TextFormat.PlainText


# ------------------------------------------------------------------ a hostile mirror, end to end
class HugeHandler(http.server.BaseHTTPRequestHandler):
    """Announces 20 GB for any file and sends a little."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(20_000_000_000))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hung up
            self.wfile.write(bytes(64 * 1024))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def huge_mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HugeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setenv("NNVIZ_MIRRORS", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_mirror_announcing_20_gb_fails_in_the_dialog(
    qtbot: QtBot, huge_mirror: str, tmp_path: Path
) -> None:
    net, _ = load_model(bundled_model_path())
    window = QWidget()
    qtbot.addWidget(window)
    source = DataSource(AppState(net), window, None)
    source.with_data(lambda: None)  # no MNIST: the dialog opens
    shown = source.dialog
    assert shown is not None
    qtbot.mouseClick(shown.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not source.loading and shown.error.text() != "", timeout=10_000)
    assert (
        f"{huge_mirror}{IMAGES}: the mirror announces 20,000,000,000 bytes; the file has 9,912,422"
        in shown.error.text()
    )
    assert shown.download_button.text() == "Try again"
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []

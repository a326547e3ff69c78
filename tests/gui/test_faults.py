"""Faults a user meets: a dead training process, quitting past stuck children, a slow mirror.

Everything acts through the window's real widgets and real child processes:
processes are killed and stopped with real signals, the mirror is a real
HTTP server on 127.0.0.1 that trickles its bytes.
"""

from __future__ import annotations

import http.server
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from conftest import User, spawned_children
from nnviz.core.datasets import MNIST
from nnviz.engine.messages import SurfaceSettings


def process_exists(pid: int) -> bool:
    """Whether a process with this id is still there (a zombie counts: not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def child_pids(user: User) -> list[int]:
    """The training and loss-surface processes of the window."""
    backend = user.window.backend
    pids = [backend.training.engine.pid, backend.surface.engine.pid]
    return [pid for pid in pids if pid is not None]


def own_children() -> set[int]:
    """The engine processes this one spawned."""
    return spawned_children(os.getpid())


def test_a_killed_training_process_is_restarted_from_the_last_snapshot(open_window) -> None:
    user = open_window()
    window = user.window
    window.training.reset(quiet=True)
    user.press(window.actions_.train)
    user.wait_for_step(500)
    user.press(window.actions_.train)
    user.wait_for_state("paused")
    user.qtbot.waitUntil(lambda: not window.frames.busy)
    step, theta = user.step, window.state.net.theta.copy()
    old = window.backend.training.engine.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    text = user.answer("OK")
    assert text.startswith("Training process restarted")
    assert "SIGKILL" in text and f"step {step:,}" in text and "Press Train" in text
    new = window.backend.training.engine.pid
    assert new not in (None, old) and not process_exists(old)
    user.wait_for_state("paused")  # the new process has the network back ...
    assert user.step == step  # ... counting on from where it was
    np.testing.assert_array_equal(window.state.net.theta, theta)
    user.press(window.actions_.train)  # and Train works at once
    user.wait_for_state("running")
    user.wait_for_step(step + 500)
    assert window.training.generation == user.snapshot.generation  # the same run, not a new one
    user.press(window.actions_.train)
    user.wait_for_state("paused")


@pytest.mark.parametrize("children", ["stopped", "busy", "dead"])
def test_ctrl_q_quits_whatever_the_child_processes_do(open_window, children: str) -> None:
    before = own_children()
    user = open_window()
    window = user.window
    user.press(window.actions_.train)
    user.wait_for_step(200)
    pids = child_pids(user)
    assert len(pids) == 2 and set(pids) <= own_children()
    if children == "stopped":
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
    elif children == "dead":
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    else:  # a long grid: the surface process looks at its commands only between rows
        window.surface.configure(SurfaceSettings(resolution=61, subset=60_000))
        user.qtbot.waitUntil(lambda: window.surface.rows[1] == 61, timeout=60_000)
    window.activateWindow()
    canvas = window.panels.canvas.canvas
    user.qtbot.keyClick(canvas, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    user.qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert not window.backend.training.isRunning() and not window.backend.surface.isRunning()
    assert not any(process_exists(pid) for pid in pids)
    assert own_children() <= before, "a child process was left behind"


# ------------------------------------------------------------------ a slow mirror
class TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Headers and a few bytes, then one byte every 0.2 s, for far longer than any test."""

    server: TrickleServer

    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-1]
        size = next(f.size for f in MNIST.files.values() if f.name == name)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            self.wfile.write(bytes(100))
            while not self.server.finished.wait(0.2):
                self.wfile.write(b"\x01")
        except OSError:  # the client hung up
            self.server.hung_up.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


class TrickleServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TrickleHandler)
        self.finished = threading.Event()
        self.hung_up = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def trickling_mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TrickleServer]:
    """The only mirror trickles; the cache folder is empty; no MNIST folder is set."""
    server = TrickleServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NNVIZ_MIRRORS", server.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NNVIZ_DATA_DIR", raising=False)
    try:
        yield server
    finally:
        server.finished.set()
        server.shutdown()
        server.server_close()
        thread.join()


def start_download(user: User) -> None:
    """Train with no MNIST: the dialog opens; press Download and wait for bytes."""
    window = user.window
    user.press(window.actions_.train)
    user.qtbot.waitUntil(lambda: window.data.dialog is not None and window.data.dialog.isVisible())
    dialog = window.data.dialog
    assert dialog is not None
    user.qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(lambda: "Downloading" in dialog.file_label.text(), timeout=10_000)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_cancel_stops_a_trickling_download_and_a_folder_chosen_then_loads(
    open_window, trickling_mirror: TrickleServer, tmp_path: Path, mnist_dir: Path
) -> None:
    user = open_window(data_dir=None)
    window = user.window
    start_download(user)
    dialog = window.data.dialog
    assert dialog is not None
    user.qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(lambda: "cancelled" in dialog.error.text(), timeout=10_000)
    assert trickling_mirror.hung_up.wait(10)  # the transfer really stopped
    assert not window.data.loading
    assert files_in(tmp_path / "cache") == []  # no partial or temporary file
    assert not any(t.name.startswith("nnviz-download") for t in threading.enumerate())

    def choose_folder() -> None:
        chooser = QApplication.activeModalWidget()
        if not isinstance(chooser, QFileDialog):
            QTimer.singleShot(50, choose_folder)
            return
        name = chooser.findChild(QLineEdit, "fileNameEdit")
        assert name is not None
        name.setText(str(mnist_dir))
        chooser.accept()

    QTimer.singleShot(50, choose_folder)
    user.qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
    user.qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=30_000)
    assert window.data.folder == mnist_dir
    user.wait_for_state("running")  # the Train press that asked for the data goes on
    user.press(window.actions_.train)
    user.wait_for_state("paused")


def test_closing_the_window_during_a_download_exits_cleanly(
    open_window, trickling_mirror: TrickleServer, tmp_path: Path
) -> None:
    user = open_window(data_dir=None)
    start_download(user)
    user.window.close()
    assert not user.window.data.loading
    assert trickling_mirror.hung_up.wait(10)
    assert files_in(tmp_path / "cache") == []
    assert not any(t.name.startswith("nnviz-d") for t in threading.enumerate())

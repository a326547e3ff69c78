"""Qt fixtures: offscreen platform, private settings, no leftover threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QLineEdit,
    QMessageBox,
)
from pytestqt.qtbot import QtBot

from nnviz.core.modelio import load_model
from nnviz.engine.snapshot import Snapshot
from nnviz.gui.mainwindow import MainWindow
from nnviz.gui.panels.visibility import out_of_sight
from nnviz.paths import bundled_model_path


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own empty QSettings store (never the user's)."""
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("nnviz-tests")
    QCoreApplication.setApplicationName("nnviz-tests")
    yield folder


@pytest.fixture(autouse=True)
def no_threads_left(qapp) -> Iterator[None]:
    """Fail any test that leaves a QThread running (as napari does)."""
    yield
    QCoreApplication.processEvents()
    running = [t.objectName() or repr(t) for t in _live_threads() if _is_running(t)]
    assert not running, f"QThreads left running: {running}"


def _live_threads() -> list[QThread]:
    import gc

    return [obj for obj in gc.get_objects() if isinstance(obj, QThread)]


def _is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is already deleted
        return False


def spawned_children(pid: int) -> set[int]:
    """The engine processes ``pid`` spawned (zombies and multiprocessing's resource
    tracker not counted), from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
            except OSError:
                continue  # it ended meanwhile
            if int(fields[1]) == pid and spawned:
                children.add(int(entry.name))
    return children


# ------------------------------------------------------------------ the window, as a user drives it
class User:
    """Drives a :class:`~nnviz.gui.mainwindow.MainWindow` through its real widgets."""

    def __init__(self, qtbot: QtBot, window: MainWindow) -> None:
        self.qtbot, self.window = qtbot, window

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot the window shows."""
        return self.window.state.snapshot

    @property
    def step(self) -> int:
        """The step the window shows."""
        snap = self.window.state.snapshot
        return snap.step if snap is not None else 0

    def press(self, action: QAction) -> None:
        """A toolbar or menu action, as its button or shortcut does."""
        action.trigger()

    def type_into(self, spin: QAbstractSpinBox, text: str) -> None:
        """Select what a spin box holds, type ``text`` and press Return."""
        spin.setFocus()
        spin.selectAll()
        self.qtbot.keyClicks(spin, text)
        self.qtbot.keyClick(spin, Qt.Key.Key_Return)

    def answer(self, button_text: str, timeout: int = 15_000) -> str:
        """Click a button of the message box the window shows; returns the box's text."""
        dialogs = self.window.dialogs
        self.qtbot.waitUntil(
            lambda: dialogs.message_box is not None and dialogs.message_box.isVisible(),
            timeout=timeout,
        )
        box = dialogs.message_box
        assert box is not None
        text = f"{box.windowTitle()}\n{box.text()}"
        button = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        self.qtbot.waitUntil(lambda: not box.isVisible())
        return text

    def menu(self, *path: str) -> None:
        """Choose a menu item by the texts the user reads: ``menu("File", "Save model")``."""
        actions = self.window.menuBar().actions()
        for text in path:
            action = next(a for a in actions if a.text().replace("&", "").rstrip("…") == text)
            menu = action.menu()
            if menu is None:
                action.trigger()
                return
            actions = menu.actions()
        raise AssertionError(f"{' ▸ '.join(path)} is a menu, not an item")

    def answer_file_dialog(self, path: Path) -> None:
        """Answer the next file dialog with ``path``, as a person types it and presses Enter
        (and agrees to replace a file that is there)."""

        def answer() -> None:
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, QFileDialog):
                QTimer.singleShot(50, answer)
                return
            dialog.setDirectory(str(path.parent))
            name = dialog.findChild(QLineEdit, "fileNameEdit")
            assert name is not None
            name.setText(path.name)
            saving = dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
            if saving and path.exists():  # only a save dialog asks to replace
                QTimer.singleShot(50, replace)
            dialog.accept()

        def replace() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):  # "... already exists. Replace it?"
                QTimer.singleShot(50, replace)
                return
            yes = box.button(QMessageBox.StandardButton.Yes)
            assert yes is not None, box.text()
            yes.click()

        QTimer.singleShot(50, answer)

    def wait_for_step(self, step: int, timeout: int = 30_000) -> None:
        """Until the window shows ``step`` or later, and the frame is fully drawn."""
        self.qtbot.waitUntil(lambda: self.step >= step, timeout=timeout)
        self.qtbot.waitUntil(lambda: not self.window.frames.busy)

    def lay_out(self, width: int, height: int, front: str | None = None) -> MainWindow:
        """The window at ``width`` x ``height`` in its first-start layout, the dock ``front``
        (a panel's name) raised and in sight."""
        window = self.window
        window.resize(width, height)
        window.reset_layout()
        QApplication.processEvents()
        smallest = window.minimumSizeHint()
        size = (window.width(), window.height())
        assert size == (width, height), f"the window cannot be smaller than {smallest}"
        if front is not None:
            window.docks[front].raise_()
            panel = getattr(window.panels, front)
            self.qtbot.waitUntil(lambda: not out_of_sight(panel))
            QApplication.processEvents()
        return window

    def settle(self) -> None:
        """Until pending events are handled and the newest frame is fully drawn."""
        QApplication.processEvents()
        self.qtbot.waitUntil(lambda: not self.window.frames.busy)
        QApplication.processEvents()

    def wait_for_state(self, state: str, timeout: int = 30_000) -> None:
        """Until the engine says it is in ``state`` and the window shows it."""
        self.qtbot.waitUntil(
            lambda: (
                self.window.training.engine_state == state
                and self.snapshot is not None
                and self.snapshot.state == state
            ),
            timeout=timeout,
        )


@pytest.fixture(params=["process", "thread"])
def engine_mode(request: pytest.FixtureRequest) -> str:
    """Both ways the app can run its engines."""
    return str(request.param)


@pytest.fixture
def open_window(qtbot: QtBot, mnist_dir: Path) -> Iterator[Callable[..., User]]:
    """``open_window(engine="process", data_dir=MNIST)``: a shown window with the bundled model."""
    windows: list[MainWindow] = []

    def open_one(engine: str = "process", data_dir: Path | None = mnist_dir) -> User:
        net, meta = load_model(bundled_model_path())
        window = MainWindow(net, {**meta, "bundled": True}, data_dir, engine)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        return User(qtbot, window)

    yield open_one
    for window in windows:
        window.close()

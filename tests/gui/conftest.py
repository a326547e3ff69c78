"""Qt fixtures: offscreen platform, private settings, no leftover threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QThread


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

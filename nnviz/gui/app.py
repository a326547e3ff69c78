"""Start the desktop app: ``nnviz`` or ``python -m nnviz``."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from nnviz import __version__
from nnviz.core.errors import NnvizError
from nnviz.paths import bundled_model_path, icon_path


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with nnviz's names (they key the saved settings)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    QCoreApplication.setOrganizationName("nnviz")
    QCoreApplication.setApplicationName("nnviz")
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("nnviz")  # the launcher's entry (nnviz desktop-entry)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))  # the window's and the taskbar's icon
    return app


def limit_blas_threads() -> None:
    """One BLAS thread in the training and surface processes started from now on.

    The app already runs three busy processes (GUI, training, loss surface);
    OpenBLAS's own threads on top oversubscribed a 2-core machine (measured:
    a 41x41 grid 5 s -> 0.9 s and training 43k -> 103k samples/s with one).
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def run(model: Path | None = None, data_dir: Path | None = None, engine: str = "process") -> int:
    """Open the main window; returns the exit code when it closes.

    ``engine`` says where training and the loss surface run: ``"process"``
    (child processes) or ``"thread"`` (worker threads of this process).
    """
    limit_blas_threads()
    app = create_app()
    from nnviz.gui import theme
    from nnviz.gui.mainwindow import MainWindow

    theme.apply_palette(app, dark=False)
    from nnviz.gui.modelfiles import load_supported_model

    path = model or bundled_model_path()
    try:
        net, meta = load_supported_model(path)
    except NnvizError as exc:
        print(f"nnviz: error: {exc}", file=sys.stderr)
        return 1
    if model is None:
        meta = {**meta, "bundled": True}
    window = MainWindow(net, meta, data_dir, engine)
    _install_excepthook(window)
    window.show()
    window.data.preload()
    # Hooks for the start-up smoke test: start training at once, quit after N s.
    if os.environ.get("NNVIZ_START_TRAINING"):
        QTimer.singleShot(0, window.actions_.train.trigger)
    seconds = float(os.environ.get("NNVIZ_QUIT_AFTER", "0") or 0)
    if seconds > 0:
        QTimer.singleShot(int(seconds * 1000), window.close)
    return app.exec()


_open_boxes: list[QMessageBox] = []


def _install_excepthook(window: object) -> None:
    """Show unexpected errors in a message box instead of crashing the app."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        print(text, file=sys.stderr)
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "nnviz: unexpected error",
            f"{kind.__name__}: {value}\n\nThe app keeps running; details were "
            "printed to the terminal.",
        )
        box.setDetailedText(text)
        _open_boxes.append(box)  # keep it alive while it is shown
        box.finished.connect(lambda _r: _open_boxes.remove(box))
        box.open()

    sys.excepthook = hook

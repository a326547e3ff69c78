"""The dialog shown when MNIST is not on this computer: download or choose a folder.

It never downloads by itself: the training worker does (so the window stays
responsive); the dialog shows progress, offers Cancel, and shows failures in
plain words with a way to try again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nnviz.core import datasets


class DataDialog(QDialog):
    """Ask how to get MNIST; follow a download.

    Signals
    -------
    download_requested
        The user pressed Download.
    folder_chosen(str)
        The user picked a folder that should hold the MNIST files.
    cancel_requested
        The user cancelled a running download.
    """

    download_requested = Signal()
    folder_chosen = Signal(str)
    cancel_requested = Signal()

    def __init__(self, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MNIST needed")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        spec = datasets.MNIST
        total = sum(f.size or 0 for f in spec.files.values())
        self.message = QLabel(
            f"<p>To train, nnviz needs the MNIST handwritten digits "
            f"({total / 1e6:.0f} MB, downloaded once and checked against their checksums).</p>"
            f"<p>They were not found in <tt>{datasets.default_data_dir(spec)}</tt>"
            f"{' (' + reason + ')' if reason else ''}.</p>"
        )
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.file_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c03030;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        self.download_button = self.buttons.addButton(
            "Download", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.folder_button = self.buttons.addButton(
            "Choose folder…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        for widget in (self.message, self.file_label, self.progress, self.error, self.buttons):
            layout.addWidget(widget)
        self.download_button.clicked.connect(self._download)
        self.folder_button.clicked.connect(self._choose_folder)
        self.cancel_button.clicked.connect(self._cancel)
        self.downloading = False
        self.resize(460, 0)

    def _download(self) -> None:
        self.downloading = True
        self.error.clear()
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)  # busy until the first bytes arrive
        self.download_button.setEnabled(False)
        self.folder_button.setEnabled(False)
        self.download_requested.emit()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder holding the MNIST files")
        if folder:
            self.folder_chosen.emit(folder)

    def _cancel(self) -> None:
        if self.downloading:
            self.cancel_requested.emit()
            self.file_label.setText("Cancelling…")
        else:
            self.reject()

    def show_progress(self, name: str, done: int, total: int) -> None:
        """Progress of the file being downloaded (``total`` 0 if unknown)."""
        self.file_label.setText(
            f"Downloading {name}: {done / 1e6:.1f}"
            + (f" of {total / 1e6:.1f} MB" if total else " MB")
        )
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def show_failure(self, message: str) -> None:
        """The download or the chosen folder failed: say why, allow another try."""
        self.downloading = False
        self.progress.setVisible(False)
        self.file_label.clear()
        self.error.setText(message)
        self.download_button.setEnabled(True)
        self.download_button.setText("Try again")
        self.folder_button.setEnabled(True)

    def chosen_folder(self, folder: str) -> Path:
        """Record a chosen folder while it is checked."""
        self.error.clear()
        self.file_label.setText(f"Looking for MNIST in {folder}…")
        return Path(folder)

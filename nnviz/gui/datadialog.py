"""The dialog shown when MNIST is not on this computer: download or choose a folder.

It never downloads by itself: the training worker does (so the window stays
responsive); the dialog shows progress, offers Cancel, and shows failures in
plain words with a way to try again. Its texts wrap, and it grows to show them
whole: a window does not follow the height its wrapped labels need by itself.
"""

from __future__ import annotations

import html
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

#: The progress bar counts in thousandths of the file: a QProgressBar holds 32-bit ints.
PROGRESS_STEPS = 1000
#: The width the dialog opens with.
WIDTH = 460


def format_size(size: int) -> str:
    """A size in bytes as people read it: 812 bytes, 28.9 KB, 9.9 MB, 20.0 GB (powers of 1000)."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"


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
        folder = html.escape(str(datasets.default_data_dir(spec)))
        because = f" ({_html_lines(reason)})" if reason else ""
        self.message = QLabel(
            f"<p>To train, nnviz needs the MNIST handwritten digits "
            f"({format_size(total)}, downloaded once and checked against their checksums).</p>"
            f"<p>They were not found in <tt>{folder}</tt>{because}.</p>"
        )
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.file_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # a message is never read as HTML
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
        self._layout = QVBoxLayout(self)
        for widget in (self.message, self.file_label, self.progress, self.error, self.buttons):
            self._layout.addWidget(widget)
        self.download_button.clicked.connect(self._download)
        self.folder_button.clicked.connect(self._choose_folder)
        self.cancel_button.clicked.connect(self._cancel)
        self.downloading = False
        self.resize(WIDTH, 0)
        self._fit()

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

    def show_progress(self, name: str, done: int, total: int | None) -> None:
        """Progress of the file being downloaded (``total`` 0 or None if unknown), of any size.

        The bar counts thousandths of the file: sizes beyond 2 GB do not fit a
        QProgressBar's ints. With no total it stays busy.
        """
        if total:
            self.file_label.setText(
                f"Downloading {name}: {format_size(done)} of {format_size(total)}"
            )
            self.progress.setRange(0, PROGRESS_STEPS)
            self.progress.setValue(min(max(done, 0) * PROGRESS_STEPS // total, PROGRESS_STEPS))
        else:
            self.file_label.setText(f"Downloading {name}: {format_size(done)}")
            self.progress.setRange(0, 0)

    def show_failure(self, message: str) -> None:
        """The download or the chosen folder failed: say why, allow another try."""
        self.downloading = False
        self.progress.setVisible(False)
        self.file_label.clear()
        self.error.setText(message)
        self.download_button.setEnabled(True)
        self.download_button.setText("Try again")
        self.folder_button.setEnabled(True)
        self._fit()

    def chosen_folder(self, folder: str) -> Path:
        """Record a chosen folder while it is checked."""
        self.error.clear()
        self.file_label.setText(f"Looking for MNIST in {folder}…")
        return Path(folder)

    def _fit(self) -> None:
        """Grow to the height the wrapped texts need at the dialog's width.

        A layout gives a window its minimum size, but not the height its
        word-wrapped labels need (their height for width): without this the
        last lines of a long message, such as the offline hint that ends a
        failed download's, would be cut off. The height is kept within the screen.
        """
        self._layout.activate()
        needed = self._layout.totalHeightForWidth(self.width())
        screen = self.screen().availableGeometry().height() if self.screen() else needed
        height = min(needed, screen)
        if height > self.height():
            self.resize(self.width(), height)


def _html_lines(text: str) -> str:
    """Plain text for a rich-text label: escaped, its line breaks kept."""
    return "<br>".join(html.escape(line) for line in text.splitlines())

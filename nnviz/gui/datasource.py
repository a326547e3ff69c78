"""Where the app's MNIST comes from: the cache, a folder, or a download.

Loading (and downloading) runs in a background thread so a slow disk or
network never freezes the window; Cancel stops a download within a fraction
of a second (:func:`~nnviz.core.download.download` watches its stop flag
while it waits for bytes) and leaves no partial file. When MNIST is not on
this computer, :class:`~nnviz.gui.datadialog.DataDialog` offers the download
or a folder of the user's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from nnviz.core import datasets
from nnviz.core.errors import Cancelled, DataError, NnvizError
from nnviz.gui.datadialog import DataDialog
from nnviz.gui.state import AppState

#: How long closing the window waits for a load to end (a download stops at once;
#: reading files from disk takes about a second and is not interrupted).
JOIN_SECONDS = 1.0


class DataSource(QObject):
    """Finds, loads or downloads MNIST for the window.

    Signals
    -------
    loaded(Dataset)
        The data set is loaded (also set on the state).
    """

    loaded = Signal(object)
    _progress = Signal(str, object, object)  # from the loading thread: name, done, total
    _finished = Signal(object, object)  # the load's cancel flag; a Dataset or a failure's text
    status_changed = Signal(str)

    def __init__(self, state: AppState, window: QWidget, folder: Path | None) -> None:
        super().__init__(window)
        self.state, self.window, self.folder = state, window, folder
        self.dialog: DataDialog | None = None
        self._waiting: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._progress.connect(self._show_progress)
        self._finished.connect(self._load_finished)

    @property
    def loading(self) -> bool:
        """Whether a load (or download) runs."""
        return self._thread is not None and self._thread.is_alive()

    def with_data(self, then: Callable[[], None]) -> None:
        """Run ``then`` once MNIST is loaded (loading, or asking how, first if needed)."""
        if self.state.dataset is not None:
            then()
            return
        self._waiting.append(then)
        if self.loading:
            return
        try:
            folder = datasets.find_data_dir(datasets.MNIST, self.folder)
        except DataError as exc:
            self._open_dialog(str(exc))
            return
        if folder is None:
            self._open_dialog()
        else:
            self._load(folder, download=False)

    def preload(self) -> None:
        """Load MNIST in the background at start if it is already on disk."""
        try:
            folder = datasets.find_data_dir(datasets.MNIST, self.folder)
        except DataError:
            return
        if folder is not None and self.state.dataset is None and not self.loading:
            self._load(folder, download=False)

    def use_dataset(self, dataset: datasets.Dataset) -> None:
        """Use an already loaded data set (the GUI benchmark, scripts)."""
        self._accept(dataset)

    def choose_folder(self) -> None:
        """File ▸ Choose MNIST folder."""
        folder = QFileDialog.getExistingDirectory(self.window, "Folder holding the MNIST files")
        if folder:
            self.folder = Path(folder)
            if self.state.dataset is None:
                self._load(self.folder, download=False)

    def cancel(self) -> None:
        """Stop a running download (thread-safe, at once)."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Cancel a download and wait a moment for the loading thread (idempotent)."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(JOIN_SECONDS)

    # ------------------------------------------------------------------ loading
    def _load(self, folder: Path | None, download: bool) -> None:
        self._cancel = threading.Event()  # a fresh flag: an old cancel does not stop this load
        self.status_changed.emit("downloading MNIST" if download else "loading MNIST")
        self._thread = threading.Thread(
            target=self._load_in_thread,
            args=(folder, download, self._cancel),
            name="nnviz-data",
            daemon=True,
        )
        self._thread.start()

    def _load_in_thread(self, folder: Path | None, download: bool, cancel: threading.Event) -> None:
        try:
            data = datasets.load_dataset(
                datasets.MNIST,
                folder,
                download_missing=download,
                progress=lambda name, done, total: self._progress.emit(name, done, total or 0),
                stop=cancel,
            )
        except Cancelled:
            self._finished.emit(cancel, "The download was cancelled; nothing was kept.")
        except (NnvizError, OSError) as exc:
            self._finished.emit(cancel, str(exc))
        else:
            self._finished.emit(cancel, data)

    @Slot(object, object)
    def _load_finished(self, load: threading.Event, result: object) -> None:
        if load is not self._cancel:
            return  # a load that was cancelled and replaced by another
        if isinstance(result, datasets.Dataset):
            self._accept(result)
        else:
            self._failed(str(result))

    def _accept(self, result: datasets.Dataset) -> None:
        self.state.set_dataset(result)
        self.loaded.emit(result)
        if self.dialog is not None:
            self.dialog.accept()
            self.dialog = None
        waiting, self._waiting = self._waiting, []
        for then in waiting:
            then()

    def _failed(self, message: str) -> None:
        self.status_changed.emit("no data")
        if self.dialog is None:
            self._open_dialog()  # the failure is shown once, below
        assert self.dialog is not None
        self.dialog.show_failure(message)

    @Slot(str, object, object)
    def _show_progress(self, name: str, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.show_progress(name, done, total)

    # ------------------------------------------------------------------ the dialog
    def _open_dialog(self, reason: str = "") -> None:
        dialog = DataDialog(reason, self.window)
        dialog.download_requested.connect(lambda: self._load(None, download=True))
        dialog.cancel_requested.connect(self.cancel)
        dialog.folder_chosen.connect(self._folder_chosen)
        dialog.rejected.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self) -> None:
        self._waiting.clear()
        self.cancel()
        self.dialog = None

    def _folder_chosen(self, folder: str) -> None:
        if self.dialog is not None:
            self.dialog.chosen_folder(folder)
        self.folder = Path(folder)
        self._load(self.folder, download=False)

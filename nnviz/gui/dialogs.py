"""Questions and messages in plain words, never blocking the window.

Boxes are opened with ``open()`` (window-modal, the event loop goes on), so
training keeps drawing behind them and tests can answer them with clicks.
Every message also goes to the status bar. The box shown last stays in
:attr:`Dialogs.message_box` until it is closed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

STATUS_MS = 10_000


class Dialogs(QObject):
    """The window's question and message boxes."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.message_box: QMessageBox | None = None

    def ask(
        self,
        text: str,
        yes: str,
        on_yes: Callable[[], None],
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        """A question; ``on_yes`` runs if the user agrees, ``on_cancel`` otherwise."""
        box = QMessageBox(
            QMessageBox.Icon.Question, "nnviz", text, QMessageBox.StandardButton.Cancel, self.window
        )
        accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(accept)

        def finished() -> None:
            self._forget(box)
            if box.clickedButton() is accept:
                on_yes()
            elif on_cancel is not None:
                on_cancel()

        box.finished.connect(finished)
        self._show(box)

    def show_error(self, title: str, text: str) -> None:
        """A message that something did not work, and what to do."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.window
        )
        box.finished.connect(lambda _result: self._forget(box))
        self.status(f"{title}: {text.splitlines()[0]}", STATUS_MS)
        self._show(box)

    def status(self, text: str, msecs: int = 5000) -> None:
        """A passing note in the status bar."""
        self.window.statusBar().showMessage(text, msecs)

    def _show(self, box: QMessageBox) -> None:
        self.message_box = box
        box.open()

    def _forget(self, box: QMessageBox) -> None:
        if self.message_box is box:
            self.message_box = None

"""Help: keyboard shortcuts, a few tips, and the About text.

The help dialog follows the application's palette (View ▸ Dark) while it is
open: its text is re-rendered with the palette's colours whenever the palette
changes, so no colour of the light palette is left behind in the document.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from nnviz.core import datasets
from nnviz.paths import bundled_model_path

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Space", "Train / pause"),
    ("S", "One mini-batch (an SGD step), then pause"),
    ("E", "Run to the end of the epoch"),
    ("Ctrl+R", "Reset: a new network from random weights"),
    ("C", "Clear the canvas"),
    ("R", "Random test digit (with its true label)"),
    ("N", "Random noise as input"),
    ("Ctrl+O", "Open a model file"),
    ("Ctrl+S", "Save the model"),
    ("Ctrl+D", "Dark palette on/off"),
    ("F1", "This help"),
    ("Ctrl+Q", "Quit"),
)

TIPS = (
    "Draw with the left mouse button; the right button erases.",
    "At first start the bundled trained model classifies your drawings. Train starts a "
    "new network from random weights, so you can watch it learn; File ▸ Open bundled "
    "model brings the trained one back.",
    "Slide the speed to the left to watch single SGD steps in slow motion.",
    "Learning rate, batch size, momentum and speed change live; each change is marked "
    "on the cost curve. Changing the hidden layers, activation, cost or seed starts a "
    "new network (nnviz asks first).",
    "Try a learning rate of 1000: training diverges, nnviz pauses and keeps the last "
    "good parameters.",
    "Click a neuron in the network panel, or a weight image, to see what it looks for.",
)


def help_html() -> str:
    """The help text as HTML."""
    rows = "".join(f"<tr><td><b>{key}</b></td><td>{what}</td></tr>" for key, what in SHORTCUTS)
    tips = "".join(f"<li>{tip}</li>" for tip in TIPS)
    return (
        f"<h3>Keyboard shortcuts</h3><table cellspacing='6'>{rows}</table>"
        f"<h3>Tips</h3><ul>{tips}</ul>"
    )


def document_css(palette: QPalette) -> str:
    """The help document's colours, taken from ``palette`` (text, background, links)."""
    text = palette.color(QPalette.ColorRole.Text).name()
    base = palette.color(QPalette.ColorRole.Base).name()
    link = palette.color(QPalette.ColorRole.Link).name()
    return f"body {{ color: {text}; background-color: {base}; }} a {{ color: {link}; }}"


class HelpDialog(QDialog):
    """Shortcuts and tips (F1), in the colours of the current palette."""

    _PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("nnviz help")
        self.setAccessibleName("nnviz help")
        self.setAccessibleDescription("Keyboard shortcuts and tips for using nnviz.")
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Shortcuts and tips")
        self.browser.setAccessibleDescription(
            "A table of keyboard shortcuts followed by a list of tips."
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.follow_palette()
        self.resize(520, 520)

    def follow_palette(self) -> None:
        """Render the text again in the colours of the palette the dialog has now."""
        palette = self.palette()
        self.browser.setPalette(palette)
        self.browser.document().setDefaultStyleSheet(document_css(palette))
        self.browser.setHtml(help_html())

    def changeEvent(self, event: QEvent) -> None:
        """Follow a switch between the light and the dark palette while open."""
        super().changeEvent(event)
        if event.type() in self._PALETTE_EVENTS:
            self.follow_palette()


def about_text(version: str, meta: dict[str, Any]) -> str:
    """Version, the model shown, and where data and models live."""
    accuracy = meta.get("test_accuracy")
    model = f"{meta.get('network', 'a network')}" + (
        f", test accuracy {accuracy:.2%}" if isinstance(accuracy, float) else ""
    )
    return (
        f"<h3>nnviz {version}</h3>"
        "<p>The 3Blue1Brown neural-network lessons, live: draw a digit, watch the "
        "784-16-16-10 network classify it, train it on MNIST and watch it learn.</p>"
        f"<p>Model at start: {model}<br>Bundled model: <tt>{bundled_model_path()}</tt><br>"
        f"MNIST cache: <tt>{datasets.default_data_dir(datasets.MNIST)}</tt></p>"
    )

"""The layout gate: text changes stay inside, real size changes pass on."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from nnviz.gui.layoutgate import LayoutGate


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_text_changes_stay_inside_the_gate_and_size_changes_pass(qtbot) -> None:
    outer = QWidget()
    layout = QVBoxLayout(outer)
    gated = QLabel("short")
    gated.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    gate = LayoutGate(gated)
    plain = QLabel("short")
    plain.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    layout.addWidget(gate)
    layout.addWidget(plain)
    requests = LayoutRequests(outer)
    qtbot.addWidget(outer)
    outer.show()
    qtbot.waitExposed(outer)
    qtbot.wait(50)

    requests.count = 0
    plain.setText("a much longer line of figures, as every frame brings")
    qtbot.wait(50)
    assert requests.count >= 1  # without a gate, any new text re-lays out the parent

    requests.count = 0
    gated.setText("a much longer line of figures, as every frame brings")
    qtbot.wait(50)
    assert requests.count == 0
    assert gated.geometry() == gate.rect()  # the label fills its gate

    gated.setFixedHeight(80)  # a size the parent's layout must know
    qtbot.waitUntil(lambda: gate.height() == 80, timeout=2000)
    assert requests.count >= 1 and gated.height() == 80


def test_a_word_wrapped_label_passes_on_its_new_height(qtbot) -> None:
    outer = QWidget()
    outer.resize(200, 300)
    layout = QVBoxLayout(outer)
    label = QLabel("one line")
    label.setWordWrap(True)
    gate = LayoutGate(label)
    layout.addWidget(gate)
    layout.addStretch(1)
    qtbot.addWidget(outer)
    outer.show()
    qtbot.waitExposed(outer)
    before = gate.height()
    label.setText(" ".join(["many words that wrap onto several lines"] * 4))
    qtbot.waitUntil(lambda: gate.height() > before, timeout=2000)
    assert label.height() == gate.height()

"""The loss-surface panel's toolbar: plane, grid size, images, auto-refit, log colours, refit."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnviz.engine.messages import PLANES, SurfaceSettings
from nnviz.gui.surface_controller import RESOLUTIONS, SUBSETS

PLANE_NAMES = {
    "pca": "PCA of the path",
    "random": "random (filter-normalised)",
    "start_to_now": "start to now",
}

SHORT_PLANE_NAMES = {
    "pca": "PCA of the path",
    "random": "random directions",
    "start_to_now": "start to now",
}


class SurfaceToolbar(QWidget):
    """One row of controls; the panel connects to its widgets.

    ``plane_box``, ``resolution_box`` and ``subset_box`` hold the setting as
    item data; :meth:`show_settings` shows settings chosen anywhere.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane_box = _combo([(SHORT_PLANE_NAMES[k], k) for k in PLANES])
        self.plane_box.setToolTip(
            "The plane through parameter space (Li et al. 2018):\n"
            + "\n".join(f"• {PLANE_NAMES[k]}" for k in PLANES)
        )
        self.resolution_box = _combo([(f"{n} \N{MULTIPLICATION SIGN} {n}", n) for n in RESOLUTIONS])
        self.resolution_box.setToolTip("Grid points per side (more: finer, slower)")
        self.subset_box = _combo([(f"{n // 1000}k images", n) for n in SUBSETS])
        self.subset_box.setToolTip(
            "Training images the cost is averaged over (more: exact, slower)"
        )
        self.auto_box = QCheckBox("auto")
        self.auto_box.setToolTip(
            "Refit the plane every epoch, when the path leaves the grid\n"
            "and when the plane explains much less of the path than when it was fitted"
        )
        self.log_box = QCheckBox("log")
        self.log_box.setToolTip("Colour the cost on a logarithmic scale (the valley floor shows)")
        self.refit_button = QPushButton("Refit")
        self.refit_button.setToolTip("Fit the plane to the path so far and compute the surface now")
        for widget, name in (
            (self.plane_box, "Surface plane"),
            (self.resolution_box, "Surface grid size"),
            (self.subset_box, "Images the surface cost is averaged over"),
            (self.auto_box, "Refit the surface automatically"),
            (self.log_box, "Logarithmic surface colours"),
            (self.refit_button, "Refit the surface now"),
        ):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(widget.toolTip().replace("\n", " "))
        self._rows = QVBoxLayout(self)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(2)
        self._first, self._second = QHBoxLayout(), QHBoxLayout()
        for row in (self._first, self._second):
            row.setSpacing(4)
            self._rows.addLayout(row)
        self.compact = True
        self.set_compact(False)
        self.one_row_width = super().minimumSizeHint().width()
        self.set_compact(True)
        self.two_row_width = super().minimumSizeHint().width()
        self.set_compact(False)
        # the panel chooses one row or two from its width: the wider row must not set its minimum
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the two-row layout (what the panel uses in a narrow dock)."""
        return QSize(self.two_row_width, super().minimumSizeHint().height())

    def set_compact(self, compact: bool) -> None:
        """Two rows (plane and grid; the rest) for a narrow dock, or one."""
        if compact == self.compact:
            return
        self.compact = compact
        first: tuple[QWidget, ...] = (self.plane_box, self.resolution_box)
        second: tuple[QWidget, ...] = (self.subset_box, self.auto_box, self.log_box)
        if not compact:
            first, second = first + second, ()
        for row in (self._first, self._second):
            while row.count():
                row.takeAt(0)
        for widget in first:
            self._first.addWidget(widget)
        for widget in second:
            self._second.addWidget(widget)
        (self._second if compact else self._first).addStretch(1)
        (self._second if compact else self._first).addWidget(self.refit_button)
        if compact:
            self._first.addStretch(1)
        self._rows.invalidate()

    def show_settings(self, settings: SurfaceSettings) -> None:
        """Show ``settings`` without reporting them back as the user's choice."""
        for box, value in (
            (self.plane_box, settings.plane),
            (self.resolution_box, settings.resolution),
            (self.subset_box, settings.subset),
        ):
            index = box.findData(value)
            if index < 0:  # a value set elsewhere: offer it too
                box.addItem(str(value), value)
                index = box.count() - 1
            box.setCurrentIndex(index)
        self.auto_box.blockSignals(True)
        self.auto_box.setChecked(settings.auto_refit)
        self.auto_box.blockSignals(False)


def _combo(items: list[tuple[str, object]]) -> QComboBox:
    box = QComboBox()
    for text, value in items:
        box.addItem(text, value)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box

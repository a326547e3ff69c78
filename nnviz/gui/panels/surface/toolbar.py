"""The loss-surface panel's toolbar: plane, grid size, images, auto-refit, log colours, refit."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QPushButton, QSizePolicy, QWidget

from nnviz.engine.messages import PLANES, SurfaceSettings

PLANE_NAMES = {
    "pca": "PCA of the path",
    "random": "random (filter-normalised)",
    "start_to_now": "start to now",
}

RESOLUTIONS = (21, 31, 41, 61)
SUBSETS = (1_000, 5_000, 10_000, 60_000)
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
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        self.compact = True
        self.set_compact(False)
        self.one_row_width = self.minimumSizeHint().width()
        # the panel chooses one row or two from its width: this row must not set its minimum
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_compact(self, compact: bool) -> None:
        """Two rows (for a narrow dock) or one."""
        if compact == self.compact:
            return
        self.compact = compact
        widgets: tuple[QWidget, ...] = (self.plane_box, self.resolution_box, self.subset_box,
                                        self.auto_box, self.log_box, self.refit_button)  # fmt: skip
        for widget in widgets:
            self._grid.removeWidget(widget)
        for column in range(8):
            self._grid.setColumnStretch(column, 0)
        if compact:  # the choices, then the switches and the button
            places = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2))
            self._grid.setColumnStretch(3, 1)
        else:
            places = ((0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 6))
            self._grid.setColumnStretch(5, 1)
        for widget, (row, column) in zip(widgets, places, strict=True):
            self._grid.addWidget(widget, row, column)
        self._grid.invalidate()

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

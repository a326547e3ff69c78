"""The main window: dockable panels, training toolbars, status bar, menus.

It wires the pieces together and keeps little logic of its own: the
:class:`~nnviz.gui.state.AppState` is the model the panels render; the
:class:`~nnviz.gui.backend.Backend` owns the training and loss-surface
engines; the :class:`~nnviz.gui.training.TrainingController` turns the
toolbars into engine commands and owns the settings; the
:class:`~nnviz.gui.datasource.DataSource` finds MNIST;
:class:`~nnviz.gui.modelfiles.ModelFiles` opens and saves models; the
training controller's :class:`~nnviz.gui.frames.FrameScheduler` paces frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QGraphicsItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabBar,
    QWidget,
)

from nnviz import __version__
from nnviz.core.fileio import atomic_write_bytes
from nnviz.core.network import Network
from nnviz.gui import theme
from nnviz.gui.backend import Backend
from nnviz.gui.controls import Actions, Controls, HandsBackSpace, NetworkToolbar, RunToolbar
from nnviz.gui.datasource import DataSource
from nnviz.gui.dialogs import Dialogs
from nnviz.gui.help import HelpDialog, about_text
from nnviz.gui.layoutgate import LayoutGate
from nnviz.gui.modelfiles import ModelFiles
from nnviz.gui.panels.analysis import AnalysisPanel
from nnviz.gui.panels.backprop import BackpropPanel
from nnviz.gui.panels.canvas import CanvasPanel
from nnviz.gui.panels.cost import CostPanel
from nnviz.gui.panels.hidden import HiddenPanel
from nnviz.gui.panels.network import NetworkPanel
from nnviz.gui.panels.probes import ProbesPanel
from nnviz.gui.panels.surface import SurfacePanel
from nnviz.gui.panels.visibility import catch_up_now
from nnviz.gui.panels.weights import WeightsPanel
from nnviz.gui.proportions import KeepProportions
from nnviz.gui.settings import UserSettings, read_settings, write_settings
from nnviz.gui.state import AppState
from nnviz.gui.statusbar import TrainingStatus
from nnviz.gui.surface_controller import SurfaceController
from nnviz.gui.training import TrainingController

#: Bump when the set or arrangement of panels changes: a saved layout of
#: another version is ignored (its docks would land in odd places).
#: The first-start layout: the columns' shares of the width, the left rows' of the height.
COLUMNS = (0.31, 0.37, 0.32)
LEFT_ROWS = (0.42, 0.58)
#: Docks that share a place as tabs.
TAB_GROUPS = (("weights", "hidden", "probes"), ("cost", "analysis"), ("surface", "backprop"))
LAYOUT_VERSION = 3  # 3: backprop beside the network (tabbed with the surface)
LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea


@dataclass(frozen=True)
class Panels:
    """Every panel of the window, by name (the field name is also its dock's name)."""

    canvas: CanvasPanel
    weights: WeightsPanel
    hidden: HiddenPanel
    probes: ProbesPanel
    network: NetworkPanel
    backprop: BackpropPanel
    cost: CostPanel
    analysis: AnalysisPanel
    surface: SurfacePanel

    def items(self) -> Iterator[tuple[str, QWidget]]:
        """``(name, panel)`` pairs in layout order."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)


def cache_axes(root: QWidget) -> None:
    """Let every plot axis keep its picture between repaints.

    Axes change only when their range does, but each repaint of a view
    replayed them: 7.5% of the GUI thread's time while training. With a
    device-coordinate cache a repaint blits the stored pixels.
    """
    for view in root.findChildren(pg.GraphicsView):
        for item in view.items():
            if isinstance(item, pg.AxisItem):
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class MainWindow(QMainWindow):
    """The nnviz window.

    Parameters
    ----------
    net
        The network shown at start (the bundled trained model).
    model_meta
        Its metadata (shown in the status bar and the About box).
    data_dir
        A folder holding MNIST, overriding the lookup order.
    engine
        Where the training and loss-surface engines run: ``"process"`` (child
        processes, the default) or ``"thread"`` (worker threads of this process).
    """

    def __init__(
        self,
        net: Network,
        model_meta: dict[str, object] | None = None,
        data_dir: Path | None = None,
        engine: str = "process",
    ) -> None:
        super().__init__()
        self.setWindowTitle("nnviz — the 3Blue1Brown network, live")
        self.setDockNestingEnabled(True)
        self.setAutoFillBackground(True)  # the gaps between docks never keep stale pixels
        self._relayout_watch = _RepaintAfterRelayout(self)
        self.settings = QSettings()
        self.state = AppState(net, self)
        self.backend = Backend(engine, self)
        self.dialogs = Dialogs(self)
        self.actions_ = Actions(self)
        self.run_bar = RunToolbar(self.actions_, self)
        self.network_bar = NetworkToolbar(self)
        self.addToolBar(self.run_bar)
        self.addToolBarBreak()
        self.addToolBar(self.network_bar)
        self._space = HandsBackSpace(self, self.network_bar.hidden)
        for field in (
            self.run_bar.lr,
            self.run_bar.batch,
            self.run_bar.momentum,
            self.network_bar.hidden,
            self.network_bar.epochs,
            self.network_bar.seed,
        ):
            self._space.watch(field)
        self.surface = SurfaceController(self.state, self.backend.surface, self)
        self.docks: dict[str, QDockWidget] = {}
        self.panels = self._make_panels()
        d = self.docks
        self._proportions = KeepProportions(
            self,
            columns=[[d["canvas"]], [d["network"]], [d["surface"], d["backprop"]]],
            rows=[
                [[d["canvas"]], [d["weights"], d["hidden"], d["probes"]]],
                [[d["network"]], [d["cost"], d["analysis"]]],
            ],
        )
        self.status = TrainingStatus(self.statusBar())
        self.data = DataSource(self.state, self, data_dir)
        self.training = TrainingController(
            self.state,
            self.backend.training,
            Controls(self.actions_, self.run_bar, self.network_bar),
            self.status,
            self.dialogs,
            self.data,
            self.panels.canvas.canvas.is_drawing,
            self,
        )
        self.frames = self.training.frames  # the panels' updates find it here
        self.models = ModelFiles(self, self.training, self.dialogs)
        self._connect_panels()
        self._make_menus()
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._sized = False
        self._restored_layout = False
        self._restore_settings()
        meta = dict(model_meta or {})
        self.training.start(net, meta, "bundled" if meta.get("bundled") else "file")
        self.backend.start()
        self._closed = False
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ panels
    def _make_panels(self) -> Panels:
        """Three columns: drawing | network and cost | loss surface or backprop; more in tabs.

        Views used together sit side by side: the network (click a neuron) beside
        backprop (its wishes), the canvas beside the network it feeds.
        """
        state = self.state
        network = NetworkPanel(state, self)
        panels = Panels(
            canvas=CanvasPanel(state, self),
            weights=WeightsPanel(state, self),
            hidden=HiddenPanel(state, self),
            probes=ProbesPanel(state, self),
            network=network,
            backprop=BackpropPanel(state, network, self, self._learning_rate),
            cost=CostPanel(state, self),
            analysis=AnalysisPanel(state, self),
            surface=SurfacePanel(state, self.surface, self),
        )
        left = {"canvas", "weights", "hidden", "probes"}
        for name, panel in panels.items():
            self.add_panel(name, panel, LEFT if name in left else RIGHT)
        d = self.docks
        self.splitDockWidget(d["canvas"], d["weights"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["network"], d["surface"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["network"], d["cost"], Qt.Orientation.Vertical)
        for group in TAB_GROUPS:  # backprop beside the network it explains
            for first, second in itertools.pairwise(group):
                self.tabifyDockWidget(d[first], d[second])
        for group in TAB_GROUPS:
            room_for_tab_titles([d[name] for name in group])
        for front in ("weights", "surface", "cost"):
            d[front].raise_()
        cache_axes(self)
        # The central widget is unused: the panels share the whole window.
        placeholder = QWidget(self)
        placeholder.setMaximumSize(0, 0)
        self.setCentralWidget(placeholder)
        return panels

    def _connect_panels(self) -> None:
        p, training = self.panels, self.training
        p.canvas.data_needed.connect(lambda: self.data.with_data(p.canvas.random_test_digit))
        p.analysis.evaluation_requested.connect(training.evaluate_now)
        p.backprop.theta_change_requested.connect(training.apply_theta)
        self.data.status_changed.connect(self.status.show_state)

    def _learning_rate(self) -> float:
        """The learning rate set in the toolbar (for the backprop panel's one step)."""
        return float(self.run_bar.lr.value())

    def _default_sizes(self) -> None:
        """Column widths and row heights of the first-start layout (needs a shown window)."""
        d = self.docks
        width = max(self.width(), 900)
        columns = [round(width * f) for f in COLUMNS]
        self.resizeDocks(
            [d["canvas"], d["network"], d["surface"]], columns, Qt.Orientation.Horizontal
        )
        height = max(self.height() - 120, 500)
        rows = [round(height * f) for f in LEFT_ROWS]
        self.resizeDocks([d["canvas"], d["weights"]], rows, Qt.Orientation.Vertical)
        self.resizeDocks([d["network"], d["cost"]], [height // 2] * 2, Qt.Orientation.Vertical)
        self._proportions.intend(list(COLUMNS), [list(LEFT_ROWS), [0.5, 0.5]])

    def showEvent(self, event: QShowEvent) -> None:
        """At the first show without a saved layout, size the columns sensibly."""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self._restored_layout:
                QTimer.singleShot(0, self._default_sizes)
            else:
                QTimer.singleShot(0, self._proportions.remember)

    def add_panel(self, name: str, panel: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add another panel as a dock (used by later panels such as the loss surface)."""
        dock = QDockWidget(getattr(panel, "title", name), self)
        dock.setObjectName(f"dock_{name}")
        panel.setAutoFillBackground(True)  # exposed areas never keep stale pixels
        dock.setWidget(LayoutGate(panel))
        dock.installEventFilter(self._relayout_watch)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    # ------------------------------------------------------------------ menus
    def _make_menus(self) -> None:
        m = self.models
        file = self.menuBar().addMenu("&File")
        self._menu_action(file, "&Open model…", QKeySequence.StandardKey.Open, m.open_model_dialog)
        self._menu_action(file, "&Save model…", QKeySequence.StandardKey.Save, m.save_model_dialog)
        self._menu_action(file, "Open &bundled model", None, m.open_bundled_model)
        file.addSeparator()
        export = file.addMenu("&Export panel as PNG")
        for name, dock in self.docks.items():
            self._menu_action(export, dock.windowTitle(), None, self._exporter(name))
        self._menu_action(file, "Export cost &history as CSV…", None, self.export_csv_dialog)
        file.addSeparator()
        self._menu_action(file, "Choose &MNIST folder…", None, self.data.choose_folder)
        file.addSeparator()
        self._menu_action(file, "&Quit", "Ctrl+Q", self.close)  # no standard key on Windows

        train = self.menuBar().addMenu("&Train")
        for action in (
            self.actions_.train,
            self.actions_.step,
            self.actions_.step_epoch,
            self.actions_.reset,
        ):
            train.addAction(action)

        canvas = self.menuBar().addMenu("&Canvas")
        self._menu_action(canvas, "&Clear", "C", self.panels.canvas.clear)
        self._menu_action(canvas, "&Random test digit", "R", self.panels.canvas.random_test_digit)
        self._menu_action(canvas, "&Noise", "N", self.panels.canvas.noise)

        view = self.menuBar().addMenu("&View")
        self.dark_action = self._menu_action(view, "&Dark palette", "Ctrl+D", None)
        self.dark_action.setCheckable(True)
        self.dark_action.toggled.connect(self.set_dark)
        self.cb_action = self._menu_action(view, "&Colour-blind-safe colours", None, None)
        self.cb_action.setCheckable(True)
        self.cb_action.toggled.connect(lambda on: self.state.set_appearance(colour_blind=on))
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._menu_action(view, "Reset &layout", None, self.reset_layout)

        help_menu = self.menuBar().addMenu("&Help")
        self._menu_action(help_menu, "&Keyboard shortcuts and tips", "F1", self.show_help)
        self._menu_action(help_menu, "&About nnviz", None, self.show_about)

    def _menu_action(
        self,
        menu: QMenu,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        slot: Callable[[], object] | None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    # ------------------------------------------------------------------ appearance
    def set_dark(self, dark: bool) -> None:
        """Switch between the light and the dark palette."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_palette(app, dark)
        self.state.set_appearance(dark=dark)
        if self.dark_action.isChecked() != dark:
            self.dark_action.setChecked(dark)

    def reset_layout(self) -> None:
        """Put every panel back where it was at first start."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._default_sizes()

    # ------------------------------------------------------------------ export
    def export_panel(self, name: str, path: str | Path) -> None:
        """Save a picture of a panel as PNG, drawn fresh (also when it sits behind a tab).

        A panel out of sight has put off its updates: they are made first, so
        the picture shows the newest state. The file is written atomically.
        """
        widget = self.docks[name].widget()
        self.frames.flush()
        catch_up_now(widget)
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not widget.grab().save(buffer, "PNG"):
            raise OSError(f"could not make a PNG picture of the {name} panel")
        atomic_write_bytes(path, bytes(buffer.data().data()))

    def export_panel_dialog(self, name: str) -> None:
        """Ask for a file name, then export the panel."""
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export {self.docks[name].windowTitle()} as PNG",
            f"nnviz-{name}.png",
            "PNG images (*.png)",
        )
        if path:
            self._export(path, lambda: self.export_panel(name, path))

    def _export(self, path: str, write: Callable[[], None]) -> None:
        """Write an export; a failure (a full disk, ...) is said in plain words."""
        try:
            write()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.dialogs.show_error(
                "Export failed", f"{path}: cannot write the file ({reason}); nothing was changed."
            )
        else:
            self.dialogs.status(f"Saved {path}", 4000)

    def _exporter(self, name: str) -> Callable[[], None]:
        return lambda: self.export_panel_dialog(name)

    def export_csv_dialog(self) -> None:
        """Ask for a file name, then export the cost history as CSV."""
        path, _ = QFileDialog.getSaveFileName(
            self, "Export cost history", "nnviz-cost.csv", "CSV files (*.csv)"
        )
        if path:
            self._export(path, lambda: self.panels.cost.export_csv(path))

    # ------------------------------------------------------------------ help
    def show_help(self) -> None:
        """The keyboard shortcuts and a few tips."""
        dialog = HelpDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per opening, not kept
        dialog.open()

    def show_about(self) -> None:
        """Version, model and where things are."""
        QMessageBox.about(self, "About nnviz", about_text(__version__, self.training.model_meta))

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 940)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self._restored_layout = self.restoreState(state, LAYOUT_VERSION)
        saved = read_settings(self.settings)
        self.set_dark(saved.dark)
        self.cb_action.setChecked(saved.colour_blind)
        self.training.use_settings(saved.arch, saved.config)
        self.run_bar.speed.setValue(saved.speed_index)
        self.panels.surface.use_choice(saved.surface)
        if self.data.folder is None:
            self.data.folder = saved.data_folder
        if saved.reset:
            self.dialogs.status(saved.reset_text(), 20_000)

    def save_settings(self) -> None:
        """Write layout, sizes and last settings (QSettings)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        write_settings(
            self.settings,
            UserSettings(
                self.training.arch,
                self.training.config,
                self.run_bar.speed.value(),
                self.state.dark,
                self.state.colour_blind,
                self.data.folder,
                surface=self.panels.surface.choice(),
            ),
        )
        self.settings.sync()

    def shutdown(self) -> None:
        """Stop the engines, their threads and child processes, and any download (idempotent)."""
        self.data.shutdown()
        self.backend.shutdown()
        self.panels.probes.wait_idle(1000)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save settings and stop the engines (within about two seconds) before closing."""
        if not self._closed:
            self._closed = True
            self.save_settings()
            self.shutdown()
        event.accept()


def room_for_tab_titles(docks: list[QDockWidget]) -> None:
    """Make tabbed ``docks`` at least as wide as their tab titles need, so that Qt never
    cuts them ("Weight im…" in a 1024-pixel window). Only where a panel would let its
    dock be narrower: an explicit minimum replaces the panel's own."""
    bar = QTabBar()
    for dock in docks:
        bar.addTab(dock.windowTitle())
    needed = bar.sizeHint().width()
    bar.deleteLater()
    for dock in docks:
        if needed > dock.minimumSizeHint().width():
            dock.setMinimumWidth(needed)


class _RepaintAfterRelayout(QObject):
    """Tidies the window shortly after docks moved or resized.

    Qt leaves tab bars behind when docks are tabified, split or restored: still
    shown, under the docks or in the gaps between them, where bits of them
    peeked out ("lysis" over the Cost panel, a second "Cost" tab). 50 ms after
    the last move the bars no dock group uses are hidden (a bar in use lies
    between docks, never under one, and is the top one at its place), and
    the whole window is repainted.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.tidy)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self.timer.start()
        return False

    def tidy(self) -> None:
        """Hide the tab bars left behind, then repaint."""
        window = self.window
        docks = [
            d.geometry()
            for d in window.findChildren(QDockWidget)
            if d.isVisible() and not d.isFloating()
        ]
        for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if not bar.isVisible():
                continue
            shown = window.childAt(bar.geometry().center())
            on_top = shown is bar or (shown is not None and bar.isAncestorOf(shown))
            under_a_dock = any(bar.geometry().intersects(g) for g in docks)
            if under_a_dock or not on_top:
                bar.hide()
        window.update()

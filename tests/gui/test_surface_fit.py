"""The loss-surface panel at every window size: nothing cut, equal scales, names for readers."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QApplication, QWidget
from test_surface_panel import FIT, controller, make_grid, make_path, panel, publish, state  # noqa: F401
from textfit import misfits

SIZES = [(1024, 700), (1280, 720), (1500, 940), (1920, 1080)]


def test_the_panel_fits_a_narrow_column(panel) -> None:  # noqa: F811
    hint = panel.minimumSizeHint()
    assert hint.width() <= 320 and hint.height() <= 480, hint
    # at its narrowest the toolbar takes two rows and no combo box is cut
    panel.resize(hint.width(), 480)
    QApplication.processEvents()
    assert panel.toolbar.compact
    for box in (panel.plane_box, panel.resolution_box, panel.subset_box):
        assert box.width() >= box.minimumSizeHint().width()


@pytest.mark.parametrize("kind", ["pca", "start_to_now", "random"])
@pytest.mark.parametrize("size", [(560, 520), (900, 330), (320, 700)])
def test_one_unit_is_as_long_on_both_axes(qtbot, panel, controller, state, kind, size) -> None:  # noqa: F811
    grid = dataclasses.replace(make_grid(state), kind=kind)  # a grid 50 wide and 25 high
    panel.resize(*size)
    publish(controller, grid, make_path(state))
    vb = panel.map.plot_item.vb
    qtbot.waitUntil(lambda: vb.width() > 50 and vb.height() > 50)
    per_x, per_y = vb.viewPixelSize()  # plane units per screen pixel
    assert per_x == pytest.approx(per_y, rel=0.01)
    (x0, x1), (y0, y1) = vb.viewRange()  # and the whole grid is in view
    assert x0 <= grid.a[0] and grid.a[-1] <= x1 and y0 <= grid.b[0] and grid.b[-1] <= y1


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_cut_at_any_size_even_while_hovering(open_window, size) -> None:
    user = open_window(engine="thread")
    window, qtbot = user.lay_out(*size, front="surface"), user.qtbot
    user.wait_for_step(0)
    shown = window.panels.surface
    grid = dataclasses.replace(make_grid(window.state, n=61), fit=FIT)
    path = dataclasses.replace(make_path(window.state), fit=FIT)
    publish(window.surface, grid, path)
    window.surface.progress.emit(17, 61)  # a refit under way: its progress shares the line
    qtbot.waitUntil(lambda: "row 17 of 61" in shown.readout_text())
    _no_surface_misfits(qtbot, window)
    window.surface.progress.emit(0, 0)
    vb = shown.map.plot_item.vb
    scene = vb.mapViewToScene(QPointF(grid.a[40], grid.b[3]))
    target = shown.map.mapFromScene(scene)
    qtbot.mouseMove(shown.map.viewport(), QPoint(3, 3))
    nudge = itertools.cycle((QPoint(0, 0), QPoint(1, 0)))

    def hovered() -> bool:
        # pyqtgraph drops moves closer than ~10 ms apart: move (a pixel to and fro) until one counts
        qtbot.mouseMove(shown.map.viewport(), target + next(nudge))
        return shown.readout_text().startswith("cost ")

    qtbot.waitUntil(hovered)
    assert "PC 1 = " in shown.readout_text() and "PC 2 = " in shown.readout_text()
    _no_surface_misfits(qtbot, window)


def _no_surface_misfits(qtbot, window) -> None:
    """Once the layout has settled (a few turns of the event loop), nothing is cut."""

    def problems() -> list[str]:
        return [p for p in misfits(window) if "SurfacePanel" in p or "Loss surface" in p]

    try:
        qtbot.waitUntil(lambda: not problems(), timeout=2000)
    finally:
        assert not problems(), "\n".join(problems())


def test_names_for_screen_readers(panel) -> None:  # noqa: F811
    widgets: list[QWidget] = [panel, panel.map, panel.chart, panel.verdict, panel.readout,
                              panel.legend]  # fmt: skip
    for widget in widgets:
        assert widget.accessibleName(), widget
    for widget in (panel, panel.map, panel.chart):
        assert widget.accessibleDescription().endswith("."), widget
    bar = panel.toolbar
    for control in (bar.plane_box, bar.resolution_box, bar.subset_box, bar.auto_box,
                    bar.log_box, bar.refit_button):  # fmt: skip
        assert control.accessibleName(), control
    names = [w.accessibleName() for w in widgets]
    assert len(set(names)) == len(names)


def test_the_legend_never_covers_the_chart(qtbot, panel, controller, state) -> None:  # noqa: F811
    publish(controller, make_grid(state), make_path(state))
    for size in ((300, 480), (560, 520), (900, 330)):
        panel.resize(*size)
        legend, chart = panel.legend, panel.chart
        qtbot.waitUntil(  # above the chart, and as high as its lines (not cut)
            lambda legend=legend, chart=chart: legend.geometry().bottom() < chart.geometry().top()
            and legend.height() >= legend.heightForWidth(legend.width())
        )

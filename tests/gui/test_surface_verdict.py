"""The loss surface's traffic light, judged on surfaces and paths computed by the real core."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from test_surface_panel import controller, panel, publish, state  # noqa: F401 (fixtures)

from nnviz.core import surface
from nnviz.core.datasets import Dataset
from nnviz.core.network import Network
from nnviz.core.presets import MODERN
from nnviz.core.trainer import Trainer
from nnviz.engine.messages import PathView, SurfaceGrid
from nnviz.gui.panels.surface.honesty import VERDICT_COLOURS
from nnviz.gui.panels.surface.verdict import (
    CHECKING,
    GOOD,
    MISLEADING,
    ROUGH,
    Gap,
    judge,
    worst_gap,
)

FIT = 2000
STEPS = 40  # mini-batches between the path's points


@pytest.fixture(scope="module")
def trained(mnist: Dataset) -> tuple[Network, np.ndarray, Dataset]:
    """A real training path: 13 points, 40 mini-batches apart, from the lessons' start."""
    net = MODERN.network()
    trainer = Trainer(net, mnist.train_x, mnist.train_y, MODERN.config)
    thetas = [net.theta.copy()]
    for _ in range(12):
        trainer.step(STEPS)
        thetas.append(net.theta.copy())
    return net, np.array(thetas), mnist


def real_results(
    net: Network, thetas: np.ndarray, data: Dataset, plane: surface.Plane, generation: int
) -> tuple[SurfaceGrid, PathView]:
    """The grid and the path view the engine would send, computed by the core as it does."""
    x, y = data.train_x[:1000], data.train_y[:1000]
    coords, distances = surface.project(plane, thetas)
    a0, a1, b0, b1 = surface.fit_range(coords)
    a, b = np.linspace(a0, a1, 21), np.linspace(b0, b1, 21)
    costs = surface.cost_grid(net, plane, x, y, a, b)
    true = surface.path_costs(net, thetas, x, y)
    steps = np.arange(len(thetas)) * STEPS
    length = float(np.hypot(*np.diff(coords, axis=0).T).sum())
    grid = SurfaceGrid(generation, FIT, plane.kind, plane.label1, plane.label2, a, b, costs,
                       plane.explained, len(x), 0.4, net.cost, plane)  # fmt: skip
    path = PathView(generation, FIT, steps, coords, distances, true, plane.explained, length)
    return grid, path


def off_plane(thetas: np.ndarray, k: float) -> np.ndarray:
    """The path with its movement off its PCA plane scaled by ``k`` (0: all in the plane)."""
    plane = surface.pca_plane(thetas)
    coords, _ = surface.project(plane, thetas)
    inside = plane.origin + coords[:, :1] * plane.d1 + coords[:, 1:] * plane.d2
    return inside + k * (thetas - inside)


@pytest.mark.parametrize(
    ("k", "kind", "level", "words"),
    [
        (0.0, "pca", GOOD, "Trustworthy: the map matches the true cost along the path within"),
        (1.5, "pca", ROUGH, "Rough: at step"),
        (4.0, "pca", MISLEADING, "Misleading: at step"),
        (1.0, "random", MISLEADING, "Misleading: at step"),
    ],
    ids=["in the plane", "a little off", "far off", "random plane"],
)
def test_each_verdict_on_real_surfaces(panel, controller, state, trained, k, kind, level, words):  # noqa: F811
    net, thetas, data = trained
    path = off_plane(thetas, k)
    if kind == "pca":
        plane = surface.pca_plane(path)
    else:
        plane = surface.random_plane(net, path[-1], path=path)
    grid, view = real_results(net, path, data, plane, state.generation)
    publish(controller, grid, view)
    verdict = panel.judged
    assert verdict is not None and verdict.level == level
    text = panel.honesty_text()
    assert text.startswith(f"\N{BLACK CIRCLE} {words}"), text
    assert VERDICT_COLOURS[level].name() in panel.verdict.text()  # the dot's colour
    # the figures behind it, on hover, in plain numbers
    details = panel.verdict.toolTip()
    assert "of the path's movement" in details and "off the plane" in details
    assert "off the true cost by up to" in details
    for shown in (text, details, panel.readout_text()):
        assert not re.search(r"\de[+-]?\d", shown), shown  # never 1.3e+02


def test_checking_until_the_true_costs_are_known(panel, controller, state, trained):  # noqa: F811
    net, thetas, data = trained
    path = off_plane(thetas, 0.0)
    grid, view = real_results(net, path, data, surface.pca_plane(path), state.generation)
    unknown = np.full(len(view.steps), math.nan)
    publish(controller, grid, PathView(view.generation, FIT, view.steps, view.coords,
                                       view.distances, unknown, view.explained, 1.0))  # fmt: skip
    assert panel.judged is not None and panel.judged.level == CHECKING
    assert panel.honesty_text().startswith("\N{BLACK CIRCLE} Checking: the true cost")
    assert VERDICT_COLOURS[CHECKING].name() in panel.verdict.text()


def test_the_thresholds() -> None:
    def gap(share: float) -> Gap:
        return Gap(size=share * 2.0, step=120, true=1.0, shown=1.0 + share * 2.0, fall=2.0)

    assert judge(0.95, gap(0.10)).level == GOOD
    assert judge(0.95, gap(0.11)).level == ROUGH
    assert judge(0.95, gap(0.30)).level == ROUGH
    assert judge(0.95, gap(0.31)).level == MISLEADING
    assert judge(0.79, gap(0.01)).level == ROUGH
    assert judge(0.49, gap(0.01)).level == MISLEADING
    assert judge(0.49, None).level == MISLEADING  # no need to wait for the costs
    assert judge(0.95, None).level == CHECKING
    assert "movement" in judge(0.6, gap(0.01)).sentence  # the worse problem is named
    assert "at step 120" in judge(0.95, gap(0.5)).sentence
    # the gap is measured against how far the cost fell along the path
    found = worst_gap(np.array([0, 10, 20]), np.array([2.5, 1.0, 0.5]), np.array([2.4, 1.3, 0.5]))
    assert found is not None and found.step == 10 and found.share == pytest.approx(0.3 / 2.0)

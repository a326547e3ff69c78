"""Saved settings are read back checked: the app never fails to start because of them."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings, Qt

from conftest import User
from nnviz.core.limits import check_sizes
from nnviz.core.presets import MODERN
from nnviz.engine.messages import PLANES, SurfaceSettings
from nnviz.gui.controls import BATCH, EPOCHS, LR, MOMENTUM, SEED, SPEEDS
from nnviz.gui.settings import read_settings
from nnviz.gui.surface_controller import RESOLUTIONS, SUBSETS

#: The values of the bug report: each one aborted the start, hung it, or was kept.
HOSTILE = {
    "train/speed_index": "fast",
    "net/seed": str(2**40),
    "train/epochs": str(10**12),
    "train/batch": str(10**12),
    "net/hidden": "100000000",
    "train/lr": "1e308",
    "train/momentum": "nan",
    "net/activation": "softsign",
    "appearance/dark": "maybe",
}
KEYS = (*HOSTILE, "net/preset", "net/cost", "appearance/colour_blind", "data/folder",
        "surface/plane", "surface/resolution", "surface/images", "surface/auto_refit",
        "surface/log")  # fmt: skip


def test_hostile_settings_are_reset_and_the_window_says_which(open_window) -> None:
    store = QSettings()
    for key, value in HOSTILE.items():
        store.setValue(key, value)
    store.setValue("net/hidden", "100000")  # this one hung the start (a 78-million-weight net)
    store.sync()
    user: User = open_window()
    window = user.window
    message = window.statusBar().currentMessage()
    for name in ("speed", "seed", "epochs", "batch size", "hidden layers", "learning rate",
                 "momentum", "activation", "dark palette"):  # fmt: skip
        assert name in message, f"{name} is not named in {message!r}"
    assert "100,000" in message and "1e+308" not in message
    bar, run = window.network_bar, window.run_bar
    assert bar.hidden.text() == "16 16" and bar.seed.value() == 0
    assert bar.epochs.value() == MODERN.config.epochs
    assert run.lr.value() == pytest.approx(MODERN.config.learning_rate)
    assert run.batch.value() == MODERN.config.batch_size
    assert run.speed_value() == 0  # full speed
    assert window.training.config == MODERN.config  # what is shown is what is in force
    window.close()
    reread = read_settings(QSettings())  # and what is written back is sane
    assert reread.reset == [] and reread.config == MODERN.config


def test_a_start_with_hostile_settings_and_an_unreadable_folder(
    tmp_path: Path, unreadable_folder: Path, without_root_powers
) -> None:
    """The real entry point, as an ordinary user: it starts, runs and quits normally."""
    config = tmp_path / "config"
    ini = config / "nnviz" / "nnviz.conf"
    ini.parent.mkdir(parents=True)
    sections: dict[str, list[str]] = {"data": [f"folder={unreadable_folder}"]}
    for key, value in HOSTILE.items():
        section, name = key.split("/")
        sections.setdefault(section, []).append(f"{name}={value}")
    ini.write_text("".join(f"[{s}]\n" + "\n".join(v) + "\n" for s, v in sections.items()))
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NNVIZ_QUIT_AFTER": "3",
    }
    environment.pop("NNVIZ_DATA_DIR", None)
    nnviz = Path(sys.executable).parent / "nnviz"
    for args in ([], ["--data-dir", str(unreadable_folder)]):
        done = subprocess.run(
            without_root_powers([str(nnviz), *args]),
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    # QSettings is created once per example; the fixture only fixes where it is stored
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.dictionaries(st.sampled_from(KEYS), st.text(max_size=30) | st.integers().map(str)))
def test_any_saved_values_read_back_as_valid_settings(values: dict[str, str]) -> None:
    store = QSettings()
    store.clear()
    for key, value in values.items():
        store.setValue(key, value)
    saved = read_settings(store)
    config, arch = saved.config, saved.arch
    assert LR[0] <= config.learning_rate <= LR[1] and math.isfinite(config.learning_rate)
    assert BATCH[0] <= config.batch_size <= BATCH[1]
    assert MOMENTUM[0] <= config.momentum <= MOMENTUM[1]
    assert EPOCHS[0] <= config.epochs <= EPOCHS[1] and SEED[0] <= arch.seed <= SEED[1]
    assert 0 <= saved.speed_index < len(SPEEDS)
    check_sizes((784, *arch.hidden, 10))  # a network nnviz supports
    assert saved.data_folder is None or saved.data_folder.is_dir()
    assert saved.surface is not None and saved.surface.settings.plane in PLANES
    assert saved.surface.settings.resolution in RESOLUTIONS
    assert saved.surface.settings.subset in SUBSETS
    assert len(saved.reset) <= len(values)


# ------------------------------------------------------------------ the loss surface's choices
def test_the_surface_choices_are_kept_between_runs(open_window) -> None:
    user: User = open_window(engine="thread")
    qtbot, panel = user.qtbot, user.window.panels.surface
    user.window.docks["surface"].raise_()
    panel.plane_box.setFocus()  # choices made with the keyboard in the real combo boxes
    qtbot.keyClick(panel.plane_box, Qt.Key.Key_Down)  # PCA -> random
    panel.resolution_box.setFocus()
    qtbot.keyClick(panel.resolution_box, Qt.Key.Key_Home)  # 41 x 41 -> 21 x 21
    qtbot.mouseClick(panel.log_box, Qt.MouseButton.LeftButton)
    assert user.window.surface.settings.plane == "random" and panel.log_scale()
    assert user.window.surface.settings.resolution == 21
    user.window.close()  # saves the settings
    again = open_window(engine="thread")
    window, panel = again.window, again.window.panels.surface
    assert panel.plane_box.currentData() == "random"
    assert panel.resolution_box.currentData() == 21 and panel.log_box.isChecked()
    assert window.surface.settings.plane == "random" and window.surface.settings.resolution == 21
    assert window.statusBar().currentMessage() == ""  # nothing was reset
    again.press(window.actions_.step)  # loads MNIST and takes a step: the surface is computed
    again.qtbot.waitUntil(lambda: window.surface.grid is not None, timeout=60_000)
    grid = window.surface.grid
    assert grid.kind == "random" and grid.costs.shape == (21, 21)
    again.qtbot.waitUntil(lambda: panel.map.grid is grid)
    np.testing.assert_allclose(panel.map.image.image, np.log10(grid.costs))  # log colours


def test_unusable_surface_choices_are_reset_and_named(open_window) -> None:
    store = QSettings()
    for key, value in (("surface/plane", "sideways"), ("surface/resolution", "7"),
                       ("surface/images", "lots"), ("surface/log", "perhaps")):  # fmt: skip
        store.setValue(key, value)
    store.sync()
    window = open_window(engine="thread").window
    message = window.statusBar().currentMessage()
    for name in ("surface plane", "surface resolution", "surface images", "surface log colours"):
        assert name in message, f"{name} is not named in {message!r}"
    panel = window.panels.surface
    default = SurfaceSettings()
    assert panel.plane_box.currentData() == default.plane
    assert panel.resolution_box.currentData() == default.resolution
    assert panel.subset_box.currentData() == default.subset and not panel.log_box.isChecked()
    assert window.surface.settings == default

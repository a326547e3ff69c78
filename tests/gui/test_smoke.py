"""The real entry point in a subprocess: it starts, runs, and exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import spawned_children

IGNORED = ("propagateSizeHints",)  # the offscreen platform's harmless notice


def app_environment(tmp_path: Path, seconds: float, **env: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NNVIZ_QUIT_AFTER": str(seconds),
        **env,
    }
    environment.pop("NNVIZ_DATA_DIR", None)
    return environment


NNVIZ = Path(sys.executable).parent / "nnviz"


def run_app(
    tmp_path: Path, seconds: float, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = app_environment(tmp_path, seconds, **env)
    return subprocess.run(
        [str(NNVIZ), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def meaningful(stderr: str) -> list[str]:
    return [
        line for line in stderr.splitlines() if line.strip() and not any(i in line for i in IGNORED)
    ]


def test_app_starts_and_quits_cleanly(tmp_path: Path) -> None:
    done = run_app(tmp_path, 3)
    assert done.returncode == 0, done.stderr
    assert meaningful(done.stderr) == []


def test_app_trains_and_quits_mid_training(tmp_path: Path, mnist_dir: Path) -> None:
    done = run_app(tmp_path, 4, "--data-dir", str(mnist_dir), NNVIZ_START_TRAINING="1")
    assert done.returncode == 0, done.stderr
    assert meaningful(done.stderr) == []
    assert "QThread" not in done.stderr


def test_app_quits_with_its_child_processes_stopped(tmp_path: Path, mnist_dir: Path) -> None:
    """SIGSTOP on the training and surface processes: the app still quits and ends them."""
    environment = app_environment(tmp_path, 8, NNVIZ_START_TRAINING="1")
    app = subprocess.Popen(
        [str(NNVIZ), "--data-dir", str(mnist_dir)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stopped: set[int] = set()
        while len(stopped) < 2 and app.poll() is None:  # both engines' processes
            for pid in spawned_children(app.pid) - stopped:
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
        _out, err = app.communicate(timeout=60)
    finally:
        app.kill()
    assert len(stopped) == 2, err
    assert app.returncode == 0, err
    assert meaningful(err) == []
    for pid in stopped:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} was left behind"


def test_bad_model_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    done = run_app(tmp_path, 1, "app", "--model", str(bad))
    assert done.returncode == 1
    assert f"nnviz: error: {bad}" in done.stderr


def test_gui_benchmark_measures_the_live_app(tmp_path: Path, mnist_dir: Path) -> None:
    """``nnviz bench --gui`` (its live part, quick): every figure measured, none made up."""
    code = (
        "import json, sys; from nnviz.core.datasets import load_mnist; "
        "from nnviz.gui.bench import gui_benchmark; "
        "print(json.dumps(gui_benchmark(load_mnist(sys.argv[1]), quick=True)))"
    )
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-c", code, str(mnist_dir)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert meaningful(done.stderr) == []
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["rounds"] == 2
    assert figures["headless_samples_per_s"] > 0 and figures["gui_samples_per_s"] > 0
    ratio = figures["gui_samples_per_s"] / figures["headless_samples_per_s"]
    assert figures["gui_ratio"] == pytest.approx(ratio)
    assert figures["refresh_per_s"] > 0 and figures["gui_cpu_ms_per_frame"] > 0
    plain = figures["plain_trainer_samples_per_s"]
    assert figures["guard_ratio"] == pytest.approx(figures["headless_samples_per_s"] / plain)
    assert figures["engine"] == "process"
    assert 0 <= figures["stall_p99_ms"] <= figures["stall_max_ms"]
    assert 0 < figures["draw_to_prediction_ms_median"] <= figures["draw_to_prediction_ms_p95"]
    # the first-start layout, whatever the user saved
    assert figures["panels_in_sight"] == [
        "Canvas",
        "Weight images",
        "Network",
        "Cost",
        "Loss surface",
    ]

"""The real entry point in a subprocess: it starts, runs, and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

IGNORED = ("propagateSizeHints",)  # the offscreen platform's harmless notice


def run_app(
    tmp_path: Path, seconds: float, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NNVIZ_QUIT_AFTER": str(seconds),
        **env,
    }
    environment.pop("NNVIZ_DATA_DIR", None)
    nnviz = Path(sys.executable).parent / "nnviz"
    return subprocess.run(
        [str(nnviz), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def meaningful(stderr: str) -> list[str]:
    return [
        line for line in stderr.splitlines() if line.strip() and not any(i in line for i in IGNORED)
    ]


def test_app_starts_and_quits_cleanly(tmp_path: Path) -> None:
    start = time.perf_counter()
    done = run_app(tmp_path, 3)
    assert done.returncode == 0, done.stderr
    assert meaningful(done.stderr) == []
    assert time.perf_counter() - start < 30


def test_app_trains_and_quits_mid_training(tmp_path: Path, mnist_dir: Path) -> None:
    done = run_app(tmp_path, 4, "--data-dir", str(mnist_dir), NNVIZ_START_TRAINING="1")
    assert done.returncode == 0, done.stderr
    assert meaningful(done.stderr) == []
    assert "QThread" not in done.stderr


def test_bad_model_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    done = run_app(tmp_path, 1, "app", "--model", str(bad))
    assert done.returncode == 1
    assert f"nnviz: error: {bad}" in done.stderr

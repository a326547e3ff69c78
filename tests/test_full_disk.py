"""Writes onto a full disk: nothing that was there is lost, and the message says why.

The ``full_disk`` fixture (tests/conftest.py) is a real 512 KB tmpfs filled to the
brim where the machine allows mounting one, else a file-size limit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nnviz.core.errors import ModelFileError
from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.core.presets import MODERN


def test_saving_a_model_onto_a_full_disk_keeps_the_old_file(full_disk) -> None:
    net = MODERN.network()
    old = Network((784, 3, 10))
    path = full_disk.folder / "model.npz"
    with full_disk.room():
        save_model(path, old)
    before = path.read_bytes()
    with full_disk.full(), pytest.raises(ModelFileError) as error:
        save_model(path, net)
    assert str(error.value).startswith(f"{path}: cannot write the model file (")
    assert "space" in str(error.value) or "too large" in str(error.value)
    assert path.read_bytes() == before  # byte for byte
    assert (
        sorted(p.name for p in full_disk.folder.iterdir())
        == [".filler", "model.npz"][full_disk.how != "tmpfs" :]
    )


def nnviz_train(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    nnviz = Path(sys.executable).parent / "nnviz"
    command = [str(nnviz), "train", "--epochs", "1", "--batch-size", "200", "--quiet"]
    return subprocess.run(
        [*command, "--data-dir", str(data), *args], capture_output=True, text=True, timeout=120
    )


def test_train_refuses_an_unwritable_out_before_training(tmp_path: Path, mnist_dir: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = nnviz_train("--out", str(blocker / "model.npz"), data=mnist_dir)
    assert done.returncode == 1
    assert f"{blocker / 'model.npz'}: cannot write the model file there" in done.stderr
    assert "nothing was trained" in done.stderr and "epoch" not in done.stdout


def test_a_trained_network_is_kept_when_the_disk_is_full(
    full_disk, mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if full_disk.how != "tmpfs":
        pytest.skip(
            "needs a real full file system beside a writable one; this machine cannot mount a tmpfs"
        )
    out = full_disk.folder / "model.npz"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    done = nnviz_train("--out", str(out), data=mnist_dir)
    assert done.returncode == 1
    assert "epoch   1" in done.stdout  # it trained
    assert f"{out}: cannot write the model file (No space left on device)" in done.stderr
    rescued = Path(done.stderr.split("the trained network was saved to ")[1].strip())
    assert rescued.parent == tmp_path / "cache" / "nnviz" / "rescued"
    net, meta = load_model(rescued)
    assert net.sizes == (784, 16, 16, 10) and meta["epochs_trained"] == 1
    assert not out.exists()

"""Damaged and oversized model files, in the app and at its start: a clear answer, nothing lost."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import User
from nnviz.core.modelio import FORMAT, FORMAT_VERSION, save_model
from nnviz.core.network import Network


def wide_model(path: Path) -> Path:
    """A small file that says it holds a 784-100000-10 network (79.5 million parameters)."""
    net = Network()
    np.savez(
        path,
        format=np.array(FORMAT),
        format_version=np.array(FORMAT_VERSION, dtype=np.int64),
        sizes=np.array([784, 100_000, 10], dtype=np.int64),
        activation=np.array(net.activation),
        cost=np.array(net.cost),
        theta=net.theta,
        meta=np.array(json.dumps({})),
    )
    return path


def huge_header_model(path: Path) -> Path:
    """A model file whose parameters' header claims 10^12 floats (4 TB)."""
    good = path.with_name("good.npz")
    save_model(good, Network(seed=1))
    with zipfile.ZipFile(good) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name == "theta.npy":
                source = io.BytesIO(data)
                np.lib.format.read_magic(source)
                _shape, fortran, dtype = np.lib.format.read_array_header_1_0(source)
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header,
                    {"descr": dtype.str, "fortran_order": fortran, "shape": (10**12,)},
                )
                data = header.getvalue() + source.read()
            archive.writestr(name, data)
    return path


CASES = {
    "wide": (wide_model, "the 784-100000-10 network in this file has 79,500,010 parameters"),
    "huge header": (huge_header_model, "its .npy header claims an array of shape (1000000000000,)"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_app_refuses_the_file_and_keeps_its_network(open_window, tmp_path, case) -> None:
    make, phrase = CASES[case]
    path = make(tmp_path / "model.npz")
    before = path.read_bytes()
    user: User = open_window()
    window = user.window
    theta = window.state.net.theta.copy()
    user.answer_file_dialog(path)
    user.menu("File", "Open model")
    text = user.answer("OK")
    assert text.startswith("Cannot open the model") and phrase in text and str(path) in text
    np.testing.assert_array_equal(window.state.net.theta, theta)  # nothing lost
    assert path.read_bytes() == before


@pytest.mark.parametrize("case", CASES)
def test_starting_with_the_file_is_a_clear_error(tmp_path: Path, case: str) -> None:
    make, phrase = CASES[case]
    path = make(tmp_path / "model.npz")
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NNVIZ_QUIT_AFTER": "2"}
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    nnviz = Path(sys.executable).parent / "nnviz"
    done = subprocess.run(
        [str(nnviz), "--model", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"nnviz: error: {path}: ") and phrase in done.stderr
    assert "Traceback" not in done.stderr

"""The nnviz command line, run as a user would (in-process and as a subprocess)."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from nnviz.cli import main
from nnviz.core.modelio import load_model
from nnviz.core.presets import MODERN


def write_png(path: Path, image: np.ndarray) -> Path:
    """Save a float image in [0, 1] as an 8-bit grayscale PNG (through Qt)."""
    from PySide6.QtGui import QImage

    pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    h, w = pixels.shape
    qimage = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8)
    assert qimage.save(str(path))
    return path


def test_train_prints_epochs_and_saves_a_model(tmp_path, mnist_dir, capsys) -> None:
    out = tmp_path / "m.npz"
    code = main(
        [
            "train",
            "--preset",
            "classic",
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--data-dir",
            str(mnist_dir),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "784-8-10 sigmoid, quadratic cost" in text
    assert "epoch   1" in text and "epoch   2" in text and "test accuracy" in text
    net, meta = load_model(out)
    assert net.sizes == (784, 8, 10)
    assert meta["epochs_trained"] == 2 and meta["preset"] == "classic"
    assert meta["config"]["learning_rate"] == 1.5
    assert meta["history"][1]["accuracy"] == meta["test_accuracy"] > 0.8


def test_explicit_options_override_the_preset(tmp_path, mnist_dir, capsys) -> None:
    out = tmp_path / "m.npz"
    main(
        [
            "train",
            "--preset",
            "modern",
            "--epochs",
            "1",
            "--lr",
            "0.05",
            "--batch-size",
            "64",
            "--activation",
            "relu",
            "--cost",
            "quadratic",
            "--seed",
            "3",
            "--hidden",
            "12",
            "6",
            "--data-dir",
            str(mnist_dir),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    net, meta = load_model(out)
    assert (net.sizes, net.activation, net.cost) == ((784, 12, 6, 10), "relu", "quadratic")
    cfg = meta["config"]
    assert (cfg["learning_rate"], cfg["batch_size"], cfg["seed"], cfg["momentum"]) == (
        0.05,
        64,
        3,
        0.9,
    )
    assert "learning rate 0.05 (cosine), batch size 64, momentum 0.9" in capsys.readouterr().out


def test_divergence_stops_training_and_saves_the_healthy_parameters(
    tmp_path, mnist_dir, capsys
) -> None:
    out = tmp_path / "m.npz"
    code = main(
        [
            "train",
            "--lr",
            "1000",
            "--schedule",
            "constant",
            "--epochs",
            "1",
            "--data-dir",
            str(mnist_dir),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    err = captured.err
    assert re.search(r"Training diverged at step \d+: the cost shot up from", err)
    assert "learning rate 1000 and momentum 0.9" in err
    assert "went back to the parameters of step 0" in err
    assert "Run nnviz train again with a lower --lr." in err
    assert "e+" not in err and "float32" not in err
    assert f"saved {out}: the last healthy parameters, those of step 0 (diverged" in captured.out
    net, meta = load_model(out)  # the restored (here: the initial) parameters
    np.testing.assert_array_equal(net.theta, MODERN.network().theta)
    assert meta["outcome"] == "diverged" and meta["restored_step"] == 0
    assert meta["epochs_trained"] == 0 and 0.0 < meta["test_accuracy"] < 0.2


def test_a_stalled_run_stops_with_a_hint(tmp_path, mnist_dir, capsys) -> None:
    code = main(
        [
            "train",
            "--preset",
            "classic",
            "--lr",
            "1000",
            "--data-dir",
            str(mnist_dir),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert re.search(
        r"Training stalled at step \d+: all 16 neurons of hidden layer 2 are stuck", err
    )
    assert "The steps are too large (learning rate 1000)" in err
    assert "went back to the parameters of step 0" in err


def test_classify_a_png_of_a_real_digit(tmp_path, mnist, capsys) -> None:
    correct = 0
    for i in range(5):
        digit = mnist.test_x[i].reshape(28, 28)
        big = np.kron(digit, np.ones((8, 8)))
        path = write_png(tmp_path / f"d{i}.png", 1.0 - big)  # dark ink on white, like a scan
        assert main(["classify", str(path)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len([ln for ln in lines if "probability" in ln]) == 10
        correct += lines[-1] == f"digit: {mnist.test_y[i]}"
    assert correct >= 4


def test_classify_show_prints_the_input(tmp_path, mnist, capsys) -> None:
    path = write_png(tmp_path / "d.png", np.kron(mnist.test_x[0].reshape(28, 28), np.ones((4, 4))))
    main(["classify", "--show", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert len(out[0]) == 56 and "@" in "".join(out[:28])


def test_classify_errors_name_the_file(tmp_path, capsys) -> None:
    bad_model = tmp_path / "bad.npz"
    bad_model.write_text("not a model")
    image = write_png(tmp_path / "x.png", np.zeros((50, 50)))
    assert main(["classify", str(image), "--model", str(bad_model)]) == 1
    assert f"nnviz: error: {bad_model}" in capsys.readouterr().err
    assert main(["classify", str(tmp_path / "missing.png")]) == 1
    assert "missing.png: file not found" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert main(["classify", str(text)]) == 1
    assert "notes.png: not a readable image" in capsys.readouterr().err


def blank_png(width: int, height: int, depth: int = 8, channels: int = 1) -> bytes:
    """A valid PNG of black (all-zero) pixels, small on disk however large it is.

    Written by hand: the zero rows are deflated once in blocks of 1000 rows
    ended by a full flush (no reference across blocks), so the same bytes are
    repeated for the whole image. ``height`` must be a multiple of 1000.
    """
    color_type = {1: 0, 4: 6}[channels]  # grayscale, or RGBA
    row = 1 + width * channels * depth // 8  # filter byte + pixels
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(row * 1000)) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)
    adler32 = ((row * height % 65521) << 16) | 1  # Adler-32 of that many zero bytes
    stream = b"\x78\xda" + block * (height // 1000) + end + struct.pack(">I", adler32)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")
    )


def test_the_blank_png_helper_makes_real_pictures(tmp_path) -> None:
    from nnviz.imagefile import read_drawing

    for depth, channels in ((8, 1), (16, 4)):
        path = tmp_path / f"blank{depth}.png"
        path.write_bytes(blank_png(1200, 1000, depth, channels))
        drawing = read_drawing(path)
        assert drawing.shape == (1000, 1200) and not drawing.any()  # black paper, no ink


def test_classify_refuses_a_huge_picture_from_its_header(tmp_path, capsys) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(blank_png(30000, 30000))  # 900 million pixels in under 1 MB
    before = path.read_bytes()
    assert len(before) < 1_000_000
    assert main(["classify", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"nnviz: error: {path}: the image is too large: 30000 x 30000 pixels (900 million);"
        " nnviz reads images of up to 50 million pixels (such as 7000 x 7000): shrink it"
        " first, a digit needs far fewer\n"
    )
    assert path.read_bytes() == before


@pytest.mark.qt_log_ignore("Rejecting image as it exceeds the current allocation limit")
def test_classify_explains_qts_allocation_limit(tmp_path, capsys) -> None:
    from PySide6.QtGui import QImageReader

    # 40 million pixels (within nnviz's limit) of 16-bit RGBA: 305 MB to decode.
    path = tmp_path / "deep.png"
    path.write_bytes(blank_png(8000, 5000, depth=16, channels=4))
    before = path.read_bytes()
    limit = QImageReader.allocationLimit()
    assert limit == 256  # Qt's default
    assert main(["classify", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"nnviz: error: {path}: the image is too large to decode: 8000 x 5000 pixels"
        " (40 million) at 64 bits per pixel needs 305 MB; Qt decodes images of up to 256 MB\n"
    )
    assert path.read_bytes() == before


@pytest.mark.qt_log_ignore("libpng error")
def test_classify_damaged_and_non_pictures(tmp_path, capsys) -> None:
    cut = tmp_path / "cut.png"
    cut.write_bytes(blank_png(3000, 2000)[:3000])
    assert main(["classify", str(cut)]) == 1
    assert capsys.readouterr().err.startswith(
        f"nnviz: error: {cut}: not a readable image: the file is damaged or truncated ("
    )
    folder = tmp_path / "folder.png"
    folder.mkdir()
    assert main(["classify", str(folder)]) == 1
    assert capsys.readouterr().err == f"nnviz: error: {folder}: is a folder, not an image file\n"
    for name, data in (("notes.png", b"hello"), ("empty.png", b""), ("zeros.jpg", bytes(5000))):
        path = tmp_path / name
        path.write_bytes(data)
        assert main(["classify", str(path)]) == 1
        assert capsys.readouterr().err == (
            f"nnviz: error: {path}: not a readable image (not a picture in a format Qt reads)\n"
        )
        assert path.read_bytes() == data


def test_classify_an_empty_picture_guesses_and_says_so(tmp_path, capsys) -> None:
    image = write_png(tmp_path / "blank.png", np.ones((60, 60)))  # white paper, no ink
    assert main(["classify", str(image)]) == 0
    assert "no ink" in capsys.readouterr().out


def test_data_path_and_verify(mnist_dir, capsys) -> None:
    assert main(["data", "path", "--dir", str(mnist_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(mnist_dir)
    assert main(["data", "verify", "--dir", str(mnist_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok  ") == 4


def test_data_path_when_nothing_is_there(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("NNVIZ_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["data", "path"]) == 1
    assert "not found" in capsys.readouterr().err


def test_bench_json(mnist_dir, capsys) -> None:
    assert main(["bench", "--json", "--quick", "--data-dir", str(mnist_dir)]) == 0
    results = json.loads(capsys.readouterr().out)
    batches = [row["batch_size"] for row in results["training"]]
    assert batches == [10, 100]
    for row in results["training"]:
        assert row["nnviz"] > 0 and row["reference"] > 0
        assert row["agreement"] < 1e-4  # the two loops do the same arithmetic
    assert results["classify"]["milliseconds"] > 0


def test_entry_point_and_python_m(tmp_path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for command in (
        [sys.executable, "-m", "nnviz", "--version"],
        [str(Path(sys.executable).parent / "nnviz"), "--version"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("nnviz ")

"""Model files: exact round trips, atomic saves, and a clear ModelFileError for every bad file."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnviz.core.errors import ModelFileError
from nnviz.core.limits import MAX_PARAMETERS
from nnviz.core.modelio import FORMAT, FORMAT_VERSION, load_model, save_model
from nnviz.core.network import Network

META = {
    "preset": "lessons",
    "epochs": 3,
    "learning_rate": 0.5,
    "batch_size": 10,
    "seed": 7,
    "test_accuracy": 0.9412,
    "created": "2024-05-01T12:00:00+00:00",
    "nnviz_version": "0.1.0",
    "history": {"cost": [0.9, 0.4, 0.2]},
}


def trained_ish(sizes: tuple[int, ...] = (784, 32, 10)) -> Network:
    """A network whose theta is not any initialisation's (seeded random values)."""
    net = Network(sizes, "relu", "cross_entropy", seed=1)
    net.theta = np.random.default_rng(42).normal(0.0, 0.3, net.n_params).astype(np.float32)
    return net


def model_arrays() -> dict[str, Any]:
    """The entries of a valid model file for a 784-16-16-10 net."""
    net = Network()
    return {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activation": np.array(net.activation),
        "cost": np.array(net.cost),
        "theta": net.theta.copy(),
        "meta": np.array(json.dumps(META)),
    }


def write_npz(path: Path, **changes: Any) -> Path:
    """A model file with some entries replaced; ``None`` leaves an entry out.

    Written with plain ``np.savez`` (pickling allowed), so object arrays get in.
    """
    arrays = model_arrays()
    arrays.update(changes)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


class Payload:
    """Unpickling this creates the file ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


# ------------------------------------------------------------------ round trip


def test_round_trip_is_exact(tmp_path: Path) -> None:
    net = trained_ish()
    path = tmp_path / "model.npz"
    save_model(path, net, META)
    loaded, meta = load_model(path)
    assert loaded.sizes == (784, 32, 10)
    assert (loaded.activation, loaded.cost) == ("relu", "cross_entropy")
    assert loaded.theta.dtype == np.float32
    assert np.array_equal(loaded.theta, net.theta)
    assert meta == META
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    for a, b in zip(loaded.forward(x), net.forward(x), strict=True):
        assert np.array_equal(a, b)


def test_round_trip_of_the_lessons_net_with_str_path_and_no_meta(tmp_path: Path) -> None:
    net = Network(seed=5)
    save_model(str(tmp_path / "m.npz"), net)
    loaded, meta = load_model(str(tmp_path / "m.npz"))
    assert meta == {}
    assert loaded.same_architecture(net)
    assert loaded.describe() == "784-16-16-10 sigmoid, quadratic cost"
    assert np.array_equal(loaded.theta, net.theta)


def test_float64_network_is_stored_as_float32(tmp_path: Path) -> None:
    net = trained_ish().copy(np.float64)
    net.theta[0] = 1.0 + 1e-12  # not representable in float32
    save_model(tmp_path / "m.npz", net)
    loaded, _ = load_model(tmp_path / "m.npz")
    assert loaded.dtype == np.float32
    assert np.array_equal(loaded.theta, net.theta.astype(np.float32))


def test_the_path_is_used_exactly_as_given(tmp_path: Path) -> None:
    save_model(tmp_path / "sub" / "model", trained_ish())
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["model"]
    assert load_model(tmp_path / "sub" / "model")[0].sizes == (784, 32, 10)


def test_file_format_keys_and_dtypes_load_without_pickle(tmp_path: Path) -> None:
    net = trained_ish()
    save_model(tmp_path / "m.npz", net, {"seed": 7})
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(
            ["format", "format_version", "sizes", "activation", "cost", "theta", "meta"]
        )
        assert str(data["format"]) == "nnviz-model" and data["format"].dtype.kind == "U"
        assert data["format_version"].dtype == np.int64 and int(data["format_version"]) == 1
        assert data["sizes"].dtype == np.int64 and data["sizes"].tolist() == [784, 32, 10]
        assert str(data["activation"]) == "relu" and str(data["cost"]) == "cross_entropy"
        assert data["theta"].dtype == np.float32 and data["theta"].shape == (net.n_params,)
        assert json.loads(str(data["meta"])) == {"seed": 7}
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        info = archive.getinfo("theta.npy")
        assert info.compress_type == zipfile.ZIP_DEFLATED


# ------------------------------------------------------------------ atomic saving


def test_successful_save_over_an_old_file_leaves_no_temp_files(tmp_path: Path) -> None:
    save_model(tmp_path / "m.npz", Network())
    save_model(tmp_path / "m.npz", trained_ish(), META)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert load_model(tmp_path / "m.npz")[0].sizes == (784, 32, 10)


@pytest.mark.parametrize(
    ("meta", "phrase"),
    [
        ({"tags": {"a", "b"}}, "not JSON-serialisable"),
        ({"trainer": object()}, "not JSON-serialisable"),
        ({"test_accuracy": math.nan}, "not JSON-serialisable"),
        ({1: "one"}, "keys must be strings"),
    ],
)
def test_bad_meta_raises_before_writing_and_keeps_the_old_file(
    tmp_path: Path, meta: Any, phrase: str
) -> None:
    path = tmp_path / "m.npz"
    old = trained_ish()
    save_model(path, old, META)
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match=phrase) as info:
        save_model(path, Network(), meta)
    assert str(info.value).startswith(str(path))
    assert path.read_bytes() == before
    assert np.array_equal(load_model(path)[0].theta, old.theta)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_bad_meta_writes_nothing_when_there_was_no_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not JSON-serialisable"):
        save_model(tmp_path / "m.npz", Network(), {"x": {1, 2}})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e39])
def test_non_finite_parameters_are_not_saved(tmp_path: Path, bad: float) -> None:
    net = trained_ish().copy(np.float64)  # 1e39 is finite in float64, inf in float32
    net.theta[3] = bad
    with pytest.raises(ModelFileError, match="1 of the network's parameters are NaN or infinite"):
        save_model(tmp_path / "m.npz", net)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_is_a_model_file_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    path = tmp_path / "file" / "m.npz"
    with pytest.raises(ModelFileError, match="cannot write the model file") as info:
        save_model(path, Network())
    assert str(info.value).startswith(str(path))
    assert isinstance(info.value.__cause__, OSError)


def test_an_interrupted_save_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.npz"
    save_model(path, trained_ish(), META)
    before = path.read_bytes()

    def crash(file: Any, **arrays: Any) -> None:
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, Network())
    assert path.read_bytes() == before
    assert temp_files(tmp_path) == []


# ------------------------------------------------------------------ bad files

Maker = Callable[[Path, Path], Path]  # (folder, a good model file) -> the bad file


def _bytes(name: str, data: bytes) -> Maker:
    def make(folder: Path, good: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _npz(**changes: Any) -> Maker:
    return lambda folder, good: write_npz(folder / "bad.npz", **changes)


def _truncated(folder: Path, good: Path) -> Path:
    data = good.read_bytes()
    path = folder / "truncated.npz"
    path.write_bytes(data[: len(data) // 2])
    return path


def _bad_crc(folder: Path, good: Path) -> Path:
    path = write_npz(folder / "crc.npz")  # stored uncompressed: theta's bytes are in the file
    data = bytearray(path.read_bytes())
    start = data.find(model_arrays()["theta"][:8].tobytes())
    assert start > 0
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _npy(folder: Path, good: Path) -> Path:
    path = folder / "theta.npy"
    np.save(path, Network().theta)
    return path


def _folder(folder: Path, good: Path) -> Path:
    path = folder / "a_folder.npz"
    path.mkdir()
    return path


def _no_format(folder: Path, good: Path) -> Path:
    np.savez(folder / "other.npz", weights=np.zeros(3))
    return folder / "other.npz"


# Each bad file and a phrase (plain text) its error message must contain.
BAD_FILES: dict[str, tuple[Maker, str]] = {
    "missing": (lambda folder, good: folder / "nope.npz", "file not found"),
    "folder": (_folder, "is a folder"),
    "empty": (_bytes("empty.npz", b""), "the file is empty"),
    "text": (_bytes("notes.npz", b"epochs=3\nlearning rate 0.5\n"), "not an .npz archive"),
    "random": (
        _bytes("random.npz", b"\x00" + np.random.default_rng(3).bytes(4000)),
        "not an .npz archive",
    ),
    "png": (_bytes("digit.npz", b"\x89PNG\r\n\x1a\n" + bytes(100)), "not an .npz archive"),
    "npy": (_npy, "not an .npz archive"),
    "truncated": (_truncated, "archive is damaged or truncated"),
    "bad crc": (_bad_crc, "archive is damaged or truncated"),
    "plain npz": (_no_format, "not an nnviz model file"),
    "object array": (
        _npz(theta=np.array([1.0, "x", None], dtype=object)),
        "entry 'theta' contains pickled Python objects, which nnviz refuses to load for safety",
    ),
    "no theta": (_npz(theta=None), "missing theta"),
    "no cost, meta": (_npz(cost=None, meta=None), "missing cost, meta"),
    "format marker": (_npz(format=np.array("keras-model")), "format marker 'keras-model'"),
    "format int": (_npz(format=np.array(1)), "format must be a text string"),
    "newer version": (
        _npz(format_version=np.array(2)),
        "newer nnviz (model format version 2; this nnviz reads version 1)",
    ),
    "version 0": (_npz(format_version=np.array(0)), "invalid format_version 0"),
    "version float": (_npz(format_version=np.array(1.0)), "format_version must be one integer"),
    "theta length": (
        _npz(theta=np.zeros(12000, np.float32)),
        "theta has 12000 parameters, but 784-16-16-10 needs 13002",
    ),
    "theta int": (_npz(theta=np.zeros(13002, np.int32)), "floating-point numbers, got int32"),
    "theta 2-D": (_npz(theta=np.zeros((2, 6501), np.float32)), "flat 1-D array"),
    "theta NaN": (
        _npz(theta=np.where(np.arange(13002) % 1000 == 0, np.nan, 0.0).astype(np.float32)),
        "theta contains 14 NaN or infinite values",
    ),
    "theta inf": (_npz(theta=np.full(13002, -np.inf, np.float32)), "13002 NaN or infinite"),
    "theta too big": (_npz(theta=np.full(13002, 1e39)), "NaN or infinite"),
    "activation": (
        _npz(activation=np.array("swish")),
        "unknown activation 'swish' (nnviz knows sigmoid, relu, tanh)",
    ),
    "cost": (
        _npz(cost=np.array("hinge")),
        "unknown cost 'hinge' (nnviz knows quadratic, cross_entropy)",
    ),
    "activation bytes": (_npz(activation=np.array(b"relu")), "activation must be a text string"),
    "sizes one layer": (_npz(sizes=np.array([784])), "two or more positive layer sizes"),
    "sizes zero": (_npz(sizes=np.array([784, 0, 10])), "got [784, 0, 10]"),
    "sizes negative": (_npz(sizes=np.array([784, -16, 10])), "two or more positive"),
    "sizes 2-D": (_npz(sizes=np.array([[784, 16], [16, 10]])), "1-D array of integers"),
    "sizes float": (_npz(sizes=np.array([784.0, 16, 16, 10])), "1-D array of integers"),
    "one output": (
        _npz(sizes=np.array([784, 1]), theta=np.zeros(785, np.float32)),
        "at least two neurons",
    ),
    "meta not JSON": (_npz(meta=np.array("{'epochs': 3")), "meta is not valid JSON"),
    "meta list": (_npz(meta=np.array("[1, 2]")), "meta must be a JSON object"),
    "meta not text": (_npz(meta=np.zeros(3)), "meta must be a text string"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_a_clear_model_file_error(tmp_path: Path, case: str) -> None:
    good = tmp_path / "good.npz"
    save_model(good, Network(), META)
    make, phrase = BAD_FILES[case]
    path = make(tmp_path, good)
    with pytest.raises(ModelFileError, match=re.escape(phrase)) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: ")


def test_a_good_file_passes_the_bad_file_helpers(tmp_path: Path) -> None:
    # The changes above are the only thing wrong with each bad file.
    net, meta = load_model(write_npz(tmp_path / "ok.npz"))
    assert net.sizes == (784, 16, 16, 10) and meta == META


# ------------------------------------------------------------------ never unpickle


def test_the_payload_would_run_if_unpickled(tmp_path: Path) -> None:
    pickle.loads(pickle.dumps(Payload(tmp_path / "ran")))  # the payload is live
    assert (tmp_path / "ran").exists()


def test_a_pickle_file_is_refused_without_running_it(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"theta": Payload(tmp_path / "ran")}))
    with pytest.raises(ModelFileError, match=r"not an \.npz archive"):
        load_model(path)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("key", ["theta", "meta", "sizes"])
def test_an_object_array_is_refused_without_running_it(tmp_path: Path, key: str) -> None:
    bad = np.empty(1, dtype=object)
    bad[0] = Payload(tmp_path / "ran")
    path = write_npz(tmp_path / "model.npz", **{key: bad})
    with pytest.raises(ModelFileError, match="pickled Python objects"):
        load_model(path)
    assert not (tmp_path / "ran").exists()


# ------------------------------------------------------------------ headers that lie


def npy_with_shape(data: bytes, shape: tuple[int, ...], descr: str | None = None) -> bytes:
    """An .npy file's bytes with its header rewritten to claim ``shape``; the data kept."""
    source = io.BytesIO(data)
    version = np.lib.format.read_magic(source)
    assert version == (1, 0)
    _, fortran_order, dtype = np.lib.format.read_array_header_1_0(source)
    body = source.read()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header,
        {
            "descr": descr or np.lib.format.dtype_to_descr(dtype),
            "fortran_order": fortran_order,
            "shape": shape,
        },
    )
    return header.getvalue() + body


def rewrite_member(
    good: Path, path: Path, key: str, shape: tuple[int, ...], descr: str | None = None
) -> Path:
    """A copy of the model file ``good`` whose entry ``key`` claims ``shape`` in its header."""
    with zipfile.ZipFile(good) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, data in members:
            if filename == f"{key}.npy":
                data = npy_with_shape(data, shape, descr)
            archive.writestr(filename, data)
    return path


def test_the_header_helper_changes_only_the_shape(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    save_model(good, Network(seed=1), META)
    same = rewrite_member(good, tmp_path / "same.npz", "theta", (13002,))
    assert np.array_equal(load_model(same)[0].theta, load_model(good)[0].theta)
    with np.load(rewrite_member(good, tmp_path / "two.npz", "theta", (2, 6501))) as data:
        assert data["theta"].shape == (2, 6501)  # NumPy believes the header


def test_a_header_claiming_a_trillion_floats_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.npz"
    save_model(good, Network(seed=1), META)
    path = rewrite_member(good, tmp_path / "huge.npz", "theta", (10**12,))
    with np.load(path) as data, pytest.raises(MemoryError):
        data["theta"]  # NumPy alone asks for 4 TB
    before = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        held = archive.getinfo("theta.npy").file_size - 128  # the 1.0 header is 128 bytes
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == (
        f"{path}: entry 'theta' is damaged: its .npy header claims an array of shape "
        f"(1000000000000,) of float32, 4 trillion bytes of data, but the file holds "
        f"{held:,} bytes for it (refused before allocating the memory)"
    )
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "shape", "phrase"),
    [
        (
            "sizes",
            (10**9,),
            "entry 'sizes' is damaged: its .npy header claims an array of shape "
            "(1000000000,) of int64, 8 billion bytes of data, but the file holds 32 bytes",
        ),
        ("meta", (10**9, 10**9), "shape (1000000000, 1000000000) of <U214, 8.56 × 10^20 bytes"),
        ("theta", (13003,), "52,012 bytes of data, but the file holds 52,008 bytes"),
        ("theta", (-1,), "shape (-1,), which no array can have (sizes must be 0 or more"),
        ("format", (10**17,), "shape (100000000000000000,) of <U11, 4.4 × 10^18 bytes"),
    ],
)
def test_any_entry_claiming_more_than_the_file_holds_is_refused(
    tmp_path: Path, key: str, shape: tuple[int, ...], phrase: str
) -> None:
    good = tmp_path / "good.npz"
    save_model(good, Network(seed=1), META)
    path = rewrite_member(good, tmp_path / "bad.npz", key, shape)
    with pytest.raises(ModelFileError, match=re.escape(phrase)) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: entry {key!r} is damaged")


# Found by the property tests: NumPy computes an array's item count before
# anything else, and overflows (OverflowError, or a warning and a wrong count)
# on sizes whose product passes 2**63, even beside a size 0 or for an object
# array it would refuse to unpickle next.
@pytest.mark.parametrize(
    ("shape", "descr", "text"),
    [
        ((0, 2**63), None, "(0, 9.22 × 10^18)"),
        ((0, 2**63), "|O", "(0, 9.22 × 10^18)"),
        ((2**62, 4, 0), None, "(4.61 × 10^18, 4, 0)"),
        ((2**40, 2**40, 0), "<U0", "(1099511627776, 1099511627776, 0)"),
    ],
)
def test_a_shape_numpy_cannot_count_is_refused(
    tmp_path: Path, shape: tuple[int, ...], descr: str | None, text: str
) -> None:
    good = tmp_path / "good.npz"
    save_model(good, Network(seed=1), META)
    path = rewrite_member(good, tmp_path / "bad.npz", "format", shape, descr)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == (
        f"{path}: entry 'format' is damaged: its .npy header claims an array of shape "
        f"{text}, which no array can have (sizes must be 0 or more, multiplying to at "
        "most 9.22 × 10^18)"
    )


def set_directory_size(path: Path, member: str, size: int) -> None:
    """Overwrite the uncompressed size the zip's central directory gives ``member``."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start >= 0:
        name_length = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + name_length] == member.encode():
            data[start + 24 : start + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        start = data.find(b"PK\x01\x02", start + 4)
    raise AssertionError(f"no {member} in {path}")


def test_a_directory_size_the_compressed_data_cannot_hold_is_refused(tmp_path: Path) -> None:
    # Header and zip directory agree on 4 GB; the 50 KB of deflated data cannot make that.
    good = tmp_path / "good.npz"
    save_model(good, Network(seed=1), META)
    path = rewrite_member(good, tmp_path / "bad.npz", "theta", (10**9,))
    set_directory_size(path, "theta.npy", 4 * 10**9 + 128)
    with zipfile.ZipFile(path) as archive:
        compressed = archive.getinfo("theta.npy").compress_size
    before = path.read_bytes()
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == (
        f"{path}: the .npz archive is damaged: its directory says entry 'theta' holds "
        f"4 billion bytes, but its {compressed:,} bytes of compressed data can hold at most "
        f"{compressed * 1032 / 1e6:.3g} million bytes"
    )
    assert path.read_bytes() == before


def test_out_of_memory_is_a_model_file_error(tmp_path: Path) -> None:
    # A real MemoryError: an honest 120 MB theta loaded under a 64 MB address-space margin.
    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in model_arrays().items():
            if key != "theta":
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
        with archive.open("theta.npy", "w", force_zip64=True) as member:
            n = 30_000_000
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f4", "fortran_order": False, "shape": (n,)}
            )
            chunk = bytes(4_000_000)
            for _ in range(n * 4 // len(chunk)):
                member.write(chunk)
    script = f"""
import resource, sys
from nnviz.core.modelio import load_model
from nnviz.core.errors import ModelFileError
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 64 * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))
try:
    load_model({str(path)!r})
except ModelFileError as exc:
    print("ModelFileError:", exc)
"""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.stdout.strip() == (
        f"ModelFileError: {path}: not enough memory to load this model (the file may be "
        "damaged, or the network too large for this computer)"
    ), done.stderr


# ------------------------------------------------------------------ max_parameters


def test_max_parameters_refuses_a_larger_model_before_reading_its_parameters(
    tmp_path: Path,
) -> None:
    # A 784-100000-10 network: 79.5 million parameters. Its theta here is far too short,
    # so a loader that read theta first would complain about theta instead.
    path = write_npz(tmp_path / "wide.npz", sizes=np.array([784, 100_000, 10]))
    before = path.read_bytes()
    with pytest.raises(ModelFileError) as info:
        load_model(path, max_parameters=MAX_PARAMETERS)
    assert str(info.value) == (
        f"{path}: the 784-100000-10 network in this file has 79,500,010 parameters (318 MB "
        "per copy); nnviz opens models of up to 2,000,000 parameters: it keeps dozens of "
        "copies of them at once across training, the window and the loss surface"
    )
    assert path.read_bytes() == before
    with pytest.raises(ModelFileError, match="theta has 13002 parameters, but 784-100000-10"):
        load_model(path)  # without a limit the core reads any size


def test_max_parameters_is_inclusive_and_none_means_any_size(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_model(path, Network(seed=2))  # 13,002 parameters
    assert load_model(path, max_parameters=13002)[0].n_params == 13002
    assert load_model(path, max_parameters=None)[0].n_params == 13002
    with pytest.raises(ModelFileError, match=r"has 13,002 parameters .* up to 13,001 parameters"):
        load_model(path, max_parameters=13001)


def test_a_real_too_large_model_file_is_small_on_disk_but_refused(tmp_path: Path) -> None:
    # Saved by nnviz itself: zeros compress to almost nothing.
    net = Network((784, 1200, 1200, 10), seed=0)
    net.theta = np.zeros(net.n_params, np.float32)
    path = tmp_path / "big.npz"
    save_model(path, net)
    assert path.stat().st_size < 100_000
    with pytest.raises(
        ModelFileError,
        match=r"784-1200-1200-10 network in this file has "
        r"2,395,210 parameters \(9.58 MB per copy\)",
    ):
        load_model(path, max_parameters=MAX_PARAMETERS)
    assert load_model(path)[0].n_params == 2_395_210

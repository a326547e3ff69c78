"""Property tests: damaged files and odd drawings give nnviz's own errors, nothing else.

Every test runs a fixed set of examples (``derandomize=True``, no example
database), so CI sees the same cases on every run.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnviz.core.errors import ConfigError, DataError, ModelFileError
from nnviz.core.idx import read_idx, read_images, read_labels
from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.core.preprocess import FIELD_SIZE, INK_THRESHOLD, preprocess_drawing

EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, database=None)

# A NumPy overflow warning on the way to an error means a check came too late.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

KEYS = ("format", "format_version", "sizes", "activation", "cost", "theta", "meta")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module: the examples of a test overwrite one file in it."""
    return tmp_path_factory.mktemp("properties")


# ------------------------------------------------------------------ byte damage


@st.composite
def flipped(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to four bytes XORed with a non-zero mask."""
    damaged = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        damaged[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(damaged)


@st.composite
def truncated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut at a random length (possibly empty)."""
    return data[: draw(st.integers(0, len(data) - 1))]


@st.composite
def inserted(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to three runs of random bytes inserted."""
    damaged = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(damaged)))
        damaged[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(damaged)


DAMAGE: dict[str, Callable[[bytes], st.SearchStrategy[bytes]]] = {
    "flip": flipped,
    "truncate": truncated,
    "insert": inserted,
}

# Sizes a damaged header might claim: small, typical, at the edges of int32,
# int64 and intp, and far beyond anything a file could hold.
DIMS = st.one_of(
    st.integers(-3, 30),
    st.sampled_from([0, 784, 13002, 60000, 2**31 - 1, 2**32, 10**12, 2**63 - 1, 2**63, 10**30]),
    st.integers(-(2**31), 2**31 - 1),
)


# ------------------------------------------------------------------ model files


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(members: list[tuple[str, bytes]], compression: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def models(folder: Path) -> dict[str, bytes]:
    """A valid saved model, as written (deflated) and re-zipped uncompressed.

    In the uncompressed copy the ``.npy`` headers lie in the open, so byte
    damage hits the shapes and dtypes themselves rather than deflate's bits.
    """
    net = Network((6, 5, 3), "relu", "cross_entropy", seed=3)
    path = folder / "good.npz"
    save_model(path, net, {"epochs": 2, "note": "for property tests"})
    deflated = path.read_bytes()
    return {"deflated": deflated, "stored": rezip(zip_members(deflated), zipfile.ZIP_STORED)}


def check_model_file(path: Path, data: bytes) -> None:
    """``load_model`` on ``data`` loads a valid model or raises ModelFileError, nothing else."""
    path.write_bytes(data)
    try:
        net, meta = load_model(path)
    except ModelFileError as exc:
        assert str(exc).startswith(f"{path}: ")
    else:
        assert isinstance(net, Network) and isinstance(meta, dict)
        assert net.theta.dtype == np.float32 and net.theta.shape == (net.n_params,)
        assert np.isfinite(net.theta).all()
    assert path.read_bytes() == data  # loading never writes


@pytest.mark.parametrize("variant", ["deflated", "stored"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
@EXAMPLES
@given(data=st.data())
def test_a_damaged_model_file_gives_only_model_file_errors(
    folder: Path, models: dict[str, bytes], variant: str, damage: str, data: st.DataObject
) -> None:
    damaged = data.draw(DAMAGE[damage](models[variant]), label="file")
    check_model_file(folder / f"model-{variant}-{damage}.npz", damaged)


DESCRS = st.sampled_from(
    [
        *("<f4", ">f4", "<f8", "<f2", "<i8", "|u1", "|b1", "<c16"),
        *("<U5", "<U0", "|S3", "|V0", "|V7", "|O", "<M8[s]", "[('a', '<f4')]", "not a dtype"),
    ]
)


@st.composite
def header_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """The model ``data`` with one entry's ``.npy`` header rewritten, its data kept.

    The new header may claim any shape (up to 10**30 items), another dtype or
    the same, Fortran order, and format version 1.0 or 2.0; the archive is
    written deflated or uncompressed.
    """
    key = draw(st.sampled_from(KEYS))
    members = zip_members(data)
    for i, (name, member) in enumerate(members):
        if name != f"{key}.npy":
            continue
        source = io.BytesIO(member)
        np.lib.format.read_magic(source)
        _, fortran_order, dtype = np.lib.format.read_array_header_1_0(source)
        body = source.read()
        header = {
            "descr": draw(st.just(np.lib.format.dtype_to_descr(dtype)) | DESCRS),
            "fortran_order": draw(st.just(fortran_order) | st.booleans()),
            "shape": tuple(draw(st.lists(DIMS, max_size=4))),
        }
        out = io.BytesIO()
        if draw(st.booleans()):
            np.lib.format.write_array_header_1_0(out, header)
        else:
            np.lib.format.write_array_header_2_0(out, header)
        members[i] = (name, out.getvalue() + body)
    return rezip(members, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))


@EXAMPLES
@given(data=st.data())
def test_a_model_file_with_edited_headers_gives_only_model_file_errors(
    folder: Path, models: dict[str, bytes], data: st.DataObject
) -> None:
    edited = data.draw(header_edits(models["deflated"]), label="file")
    check_model_file(folder / "model-header.npz", edited)


def test_the_model_variants_load(folder: Path, models: dict[str, bytes]) -> None:
    # The properties start from files that do load.
    for variant, data in models.items():
        path = folder / f"{variant}.npz"
        path.write_bytes(data)
        assert load_model(path)[0].sizes == (6, 5, 3)


# ------------------------------------------------------------------ IDX files


def idx_bytes(magic: int, dims: tuple[int, ...], body: bytes) -> bytes:
    return struct.pack(f">I{len(dims)}i", magic, *dims) + body


LABELS = idx_bytes(0x801, (12,), bytes([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]))
IMAGES = idx_bytes(
    0x803, (2, 28, 28), np.random.default_rng(5).integers(0, 256, 1568, dtype=np.uint8).tobytes()
)
IDX_FILES = {"labels": LABELS, "images": IMAGES}


def check_idx_file(path: Path, data: bytes) -> None:
    """Each IDX reader gives a valid array or raises DataError, nothing else."""
    path.write_bytes(data)
    for read in (read_idx, read_images, read_labels):
        try:
            array = read(path)
        except DataError as exc:
            assert str(exc).startswith(f"{path}: ")
            continue
        assert isinstance(array, np.ndarray) and array.dtype.isnative
        if read is read_images:
            assert array.dtype == np.uint8 and array.ndim == 2 and array.shape[1] == 784
        if read is read_labels:
            assert array.dtype == np.uint8 and array.ndim == 1 and int(array.max()) < 10
    assert path.read_bytes() == data


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("kind", sorted(IDX_FILES))
@pytest.mark.parametrize("damage", sorted(DAMAGE))
@EXAMPLES
@given(data=st.data())
def test_a_damaged_idx_file_gives_only_data_errors(
    folder: Path, kind: str, compress: bool, damage: str, data: st.DataObject
) -> None:
    good = IDX_FILES[kind]
    good = gzip.compress(good, mtime=0) if compress else good
    damaged = data.draw(DAMAGE[damage](good), label="file")
    check_idx_file(folder / f"{kind}-{damage}-{compress}.idx", damaged)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@EXAMPLES
@given(
    kind=st.sampled_from(sorted(IDX_FILES)),
    magic=st.sampled_from([0x801, 0x803, 0x804, 0x800, 0xD03, 0xE01, 0x0A01])
    | st.integers(0, 2**32 - 1),
    dims=st.lists(DIMS.filter(lambda d: -(2**31) <= d < 2**31), max_size=5),
)
def test_an_idx_file_with_an_edited_header_gives_only_data_errors(
    folder: Path, kind: str, magic: int, dims: list[int], compress: bool
) -> None:
    body = IDX_FILES[kind][16 if kind == "images" else 8 :]
    data = idx_bytes(magic, tuple(dims), body)
    check_idx_file(
        folder / f"header-{compress}.idx", gzip.compress(data, mtime=0) if compress else data
    )


def test_the_idx_originals_read(folder: Path) -> None:
    path = folder / "labels.idx"
    path.write_bytes(LABELS)
    assert read_labels(path).tolist() == [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    path.write_bytes(gzip.compress(IMAGES))
    assert read_images(path).shape == (2, 784)


# ------------------------------------------------------------------ drawings


FLOAT_TYPES = ("float16", "float32", "float64")


@st.composite
def drawings(draw: st.DrawFn) -> np.ndarray:
    """Arrays of the accepted dtypes (and some refused ones), mostly 2-D.

    Float values are mostly in [0, 1] (so there is ink to process), with
    values outside it, NaN and infinities mixed in.
    """
    dtype = np.dtype(draw(st.sampled_from([*FLOAT_TYPES, "uint8", "int32", "bool", "complex64"])))
    shape = draw(
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=40)
        | hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)
    )
    if dtype.kind == "f":
        width = dtype.itemsize * 8
        elements: st.SearchStrategy[Any] = st.one_of(
            st.floats(0.0, 1.0, width=width),
            st.sampled_from([0.0, INK_THRESHOLD, 1.0]),
            st.floats(width=width),  # anything: out of range, NaN, infinities, -0.0
        )
        if draw(st.booleans()):
            elements = st.floats(0.0, 1.0, width=width)  # a valid drawing
    else:
        elements = hnp.from_dtype(dtype)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _valid(image: np.ndarray) -> bool:
    """What preprocess_drawing's docstring accepts: 2-D uint8, or float in [0, 1] without NaN."""
    if image.ndim != 2:
        return False
    if image.dtype == np.uint8:
        return True
    if image.dtype.kind != "f":
        return False
    return image.size == 0 or bool(np.all((image >= 0) & (image <= 1)))  # NaN fails both


def _has_ink(image: np.ndarray) -> bool:
    if image.dtype == np.uint8:
        return bool((image.astype(np.float64) / 255 > INK_THRESHOLD).any())
    return bool((image > INK_THRESHOLD).any())


@EXAMPLES
@given(image=drawings())
def test_preprocess_drawing_gives_a_field_in_the_unit_range_or_a_config_error(
    image: np.ndarray,
) -> None:
    before = image.copy()
    try:
        field = preprocess_drawing(image)
    except ConfigError:
        assert not _valid(image), "a valid drawing was refused"
    else:
        assert _valid(image), "an invalid drawing was accepted"
        assert field.shape == (FIELD_SIZE, FIELD_SIZE) and field.dtype == np.float32
        assert np.isfinite(field).all() and field.min() >= 0.0 and field.max() <= 1.0
        assert bool(field.any()) == _has_ink(image)  # no ink gives all zeros, ink shows
    np.testing.assert_array_equal(image, before)  # the drawing itself is left alone


def test_the_drawing_strategy_makes_valid_and_invalid_drawings() -> None:
    # Both branches of the property are reached (guards against a strategy that
    # only ever makes refused arrays).
    seen: set[tuple[bool, bool]] = set()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(image=drawings())
    def collect(image: np.ndarray) -> None:
        seen.add((_valid(image), _valid(image) and _has_ink(image)))

    collect()
    assert seen == {(False, False), (True, False), (True, True)}

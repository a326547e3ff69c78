"""IDX reading: the real MNIST files, and every kind of bad file gives a clear DataError."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.errors import DataError
from nnviz.core.idx import read_idx, read_images, read_labels

WriteIdx = Callable[..., Path]


def labels_header(n: int) -> bytes:
    return struct.pack(">ii", 0x801, n)


# ------------------------------------------------------------------ real files


def test_real_training_images(mnist_dir: Path) -> None:
    images = read_images(mnist_dir / "train-images-idx3-ubyte.gz")
    assert images.shape == (60000, 784)
    assert images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert images.flags.writeable and images.flags.c_contiguous


def test_real_labels_and_test_set(mnist_dir: Path) -> None:
    train_labels = read_labels(mnist_dir / "train-labels-idx1-ubyte.gz")
    assert train_labels.dtype == np.uint8 and train_labels.shape == (60000,)
    assert train_labels[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert np.bincount(train_labels).tolist()[1] == 6742  # the published count of ones
    assert read_images(mnist_dir / "t10k-images-idx3-ubyte.gz").shape == (10000, 784)
    assert read_labels(mnist_dir / "t10k-labels-idx1-ubyte.gz")[:3].tolist() == [7, 2, 1]


def test_read_idx_keeps_the_header_shape(mnist_dir: Path) -> None:
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    # Row-major: flattened row 0 of read_images is the 28x28 image read row by row.
    flat = read_images(mnist_dir / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(flat[0], images[0].ravel())


# ------------------------------------------------------------------ good generated files


def test_plain_and_gzip_detected_by_content_not_name(tmp_path: Path, write_idx: WriteIdx) -> None:
    labels = np.arange(10, dtype=np.uint8)
    plain = write_idx(tmp_path / "labels.gz", labels, compress=False)  # misleading name
    packed = write_idx(tmp_path / "labels.idx", labels, compress=True)
    np.testing.assert_array_equal(read_labels(plain), labels)
    np.testing.assert_array_equal(read_labels(packed), labels)


def test_other_idx_types_are_read_in_native_byte_order(tmp_path: Path, write_idx: WriteIdx) -> None:
    values = np.array([[1, -2, 70000], [3, 4, -5]], dtype=np.int32)
    array = read_idx(write_idx(tmp_path / "ints.idx", values))
    np.testing.assert_array_equal(array, values)
    assert array.dtype == np.dtype(np.int32) and array.dtype.isnative


def test_images_shape_parameter(tmp_path: Path, write_idx: WriteIdx) -> None:
    images = np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3)
    flat = read_images(write_idx(tmp_path / "small.gz", images), shape=(4, 3))
    np.testing.assert_array_equal(flat, images.reshape(2, 12))


# ------------------------------------------------------------------ bad files


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


BAD_FILES = {
    "empty": (b"", "the file is empty"),
    "short": (b"\x00\x00", "too short for an IDX header"),
    "magic": (b"\x50\x4b\x03\x04" + bytes(8), "not an IDX file: magic number 0x504b0304"),
    "type": (b"\x00\x00\x0a\x01" + struct.pack(">i", 1) + b"\x00", "data type code 0x0a"),
    "no-dims": (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    "short-header": (b"\x00\x00\x08\x03" + struct.pack(">i", 5), "truncated header"),
    "zero-size": (labels_header(0), "dimension 0 has size 0; sizes must be positive"),
    "negative": (labels_header(-3), "dimension 0 has size -3"),
    "truncated": (labels_header(10) + bytes(5), "truncated: expected 10 bytes of data, found 5"),
    "extra": (labels_header(4) + bytes(7), "3 extra bytes after the data"),
    "gz-truncated-data": (gz(labels_header(10) + bytes(9)), "truncated: expected 10 bytes"),
    "gz-cut": (gz(labels_header(100) + bytes(range(100)))[:40], "gzip data is corrupt"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_gives_clear_error(tmp_path: Path, case: str) -> None:
    data, message = BAD_FILES[case]
    path = tmp_path / f"bad-{case}.idx"
    path.write_bytes(data)
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_corrupt_gzip_middle_bytes(tmp_path: Path, mnist_dir: Path) -> None:
    data = bytearray((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(b ^ 0xFF for b in data[middle : middle + 4])
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="gzip data is corrupt or truncated") as caught:
        read_labels(path)
    assert str(caught.value).startswith(str(path))


def test_gzip_bad_crc(tmp_path: Path, write_idx: WriteIdx) -> None:
    path = write_idx(tmp_path / "labels.gz", np.zeros(50, np.uint8))
    data = bytearray(path.read_bytes())
    data[-8] ^= 0x01  # the CRC-32 of the trailer
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="CRC"):
        read_labels(path)


def test_truncated_real_gzip(tmp_path: Path, mnist_dir: Path) -> None:
    data = (mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: the gzip data is corrupt"):
        read_images(path)


def test_random_damage_never_escapes_as_another_error(tmp_path: Path, write_idx: WriteIdx) -> None:
    rng = np.random.default_rng(7)
    good = write_idx(tmp_path / "good.gz", rng.integers(0, 10, 300, dtype=np.uint8)).read_bytes()
    path = tmp_path / "damaged.gz"
    failures = 0
    for _ in range(200):
        data = bytearray(good)
        spots = rng.integers(0, len(data), 3)
        data[spots[0]] ^= 1 << int(rng.integers(8))
        data[spots[1]] = int(rng.integers(256))
        path.write_bytes(bytes(data[: int(spots[2]) + 1]) if rng.random() < 0.3 else bytes(data))
        try:
            read_labels(path)
        except DataError as exc:
            assert str(exc).startswith(str(path))
            failures += 1
    assert failures > 150  # gzip's CRC catches nearly every change


def test_label_out_of_range(tmp_path: Path, write_idx: WriteIdx) -> None:
    labels = np.array([0, 1, 2, 12, 4, 255], dtype=np.uint8)
    path = write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(DataError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "label 12 at index 3 is outside 0-9" in message and "2 bad labels" in message


def test_images_of_the_wrong_size(tmp_path: Path, write_idx: WriteIdx) -> None:
    path = write_idx(tmp_path / "images.gz", np.zeros((3, 20, 20), np.uint8))
    with pytest.raises(DataError, match=r"images are 20 x 20 pixels, expected 28 x 28"):
        read_images(path)


def test_labels_file_is_not_an_images_file(tmp_path: Path, write_idx: WriteIdx) -> None:
    labels = write_idx(tmp_path / "labels.gz", np.zeros(5, np.uint8))
    images = write_idx(tmp_path / "images.gz", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError) as caught:
        read_images(labels)
    assert str(caught.value) == (
        f"{labels}: not an MNIST images file: magic number 0x00000801 (a labels file?);"
        " expected 0x00000803 (unsigned-byte images, 3 dimensions)"
    )
    with pytest.raises(DataError) as caught:
        read_labels(images)
    assert str(caught.value) == (
        f"{images}: not an MNIST labels file: magic number 0x00000803 (an images file?);"
        " expected 0x00000801 (unsigned-byte labels, 1 dimension)"
    )
    floats = write_idx(tmp_path / "floats.gz", np.zeros(5, np.float32))
    with pytest.raises(DataError, match=r"magic number 0x00000d01 \(32-bit float values, 1 "):
        read_labels(floats)


# A wrong magic number used to be read as a header anyway: the sizes came from the
# data, giving "dimension 3 has size 0" or an absurd byte count. Each file below
# has such a header; the magic number is now named first.
WRONG_MAGIC = {
    # 4 dimensions: the fourth "size" is the first pixel row (zeros).
    "four dims": (
        "images",
        struct.pack(">iiiii", 0x804, 2, 28, 28, 0) + bytes(2 * 784),
        "magic number 0x00000804 (unsigned byte values, 4 dimensions)",
    ),
    # 64-bit floats of 2**31-1 x 2**31-1 x 2**31-1: an astronomical size.
    "float images": (
        "images",
        struct.pack(">iiii", 0xE03, 2**31 - 1, 2**31 - 1, 2**31 - 1) + bytes(100),
        "magic number 0x00000e03 (64-bit float values, 3 dimensions)",
    ),
    "zip as images": (
        "images",
        b"PK\x03\x04" + bytes(100),
        "magic number 0x504b0304 (not an IDX file: an IDX magic number starts with two zero"
        " bytes); expected 0x00000803",
    ),
    "unknown type as labels": (
        "labels",
        struct.pack(">ii", 0x0A01, 3) + bytes(3),
        "magic number 0x00000a01 (unknown IDX data type code 0x0a); expected 0x00000801",
    ),
    "images with 1 dim as labels": (
        "labels",
        struct.pack(">ii", 0x803, 0) + bytes(20),
        "not an MNIST labels file: magic number 0x00000803 (an images file?)",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_MAGIC))
def test_a_wrong_magic_number_is_named_before_the_sizes_are_read(tmp_path: Path, case: str) -> None:
    kind, data, phrase = WRONG_MAGIC[case]
    for compress in (False, True):
        path = tmp_path / f"{case}.idx"
        path.write_bytes(gz(data) if compress else data)
        before = path.read_bytes()
        reader = read_images if kind == "images" else read_labels
        with pytest.raises(DataError) as caught:
            reader(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: not an MNIST {kind} file: ")
        assert phrase in message
        assert "has size" not in message and "of data" not in message  # no sizes were read
        assert path.read_bytes() == before


def test_absurd_sizes_are_written_plainly(tmp_path: Path) -> None:
    three = struct.pack(">iiii", 0xE03, 2**31 - 1, 2**31 - 1, 2**31 - 1) + bytes(100)
    path = tmp_path / "huge.idx"
    path.write_bytes(three)
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value) == (
        f"{path}: truncated: expected 7.92 × 10^28 bytes of data, found 100 bytes"
    )
    # 255 dimensions of 2**31 - 1: a size of 2,380 digits (4.4 * 10**2379), beyond any float.
    path.write_bytes(bytes([0, 0, 8, 255]) + struct.pack(">255i", *[2**31 - 1] * 255))
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value) == (
        f"{path}: truncated: expected about 10^2379 bytes of data, found 0 bytes"
    )
    images = struct.pack(">iiii", 0x803, 60000, 28, 28) + bytes(60000 * 784 - 1)
    path.write_bytes(images)
    with pytest.raises(DataError) as caught:
        read_images(path)
    assert str(caught.value) == (
        f"{path}: truncated: expected 47,040,000 bytes of data, found 47,039,999 bytes"
    )


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothing.gz: file not found"):
        read_idx(tmp_path / "nothing.gz")
    with pytest.raises(DataError, match=r": cannot read the file"):
        read_idx(tmp_path)

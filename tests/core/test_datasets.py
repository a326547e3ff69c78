"""Data sets: loading MNIST, folder lookup order, verification, specs."""

from __future__ import annotations

import dataclasses
import gzip
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.datasets import (
    DATASETS,
    FASHION_MNIST,
    MNIST,
    ROLES,
    DatasetFile,
    DatasetSpec,
    clear_cache,
    default_data_dir,
    find_data_dir,
    load_dataset,
    load_mnist,
    user_cache_dir,
    verify_dir,
)
from nnviz.core.errors import ConfigError, DataError
from nnviz.core.idx import read_images

WriteIdx = Callable[..., Path]
NAMES = [MNIST.files[role].name for role in ROLES]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the real user cache, a user's NNVIZ_DATA_DIR or another test's data."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("NNVIZ_DATA_DIR", raising=False)
    clear_cache()
    yield
    clear_cache()


def linked_copy(mnist_dir: Path, folder: Path, names: list[str] = NAMES) -> Path:
    """``folder`` with symbolic links to some of the real MNIST files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(mnist_dir / name)
    return folder


# ------------------------------------------------------------------ loading


def test_load_mnist_from_the_shared_folder(mnist_dir: Path) -> None:
    data = load_mnist(mnist_dir)
    assert data.train_x.shape == (60000, 784) and data.test_x.shape == (10000, 784)
    assert data.train_x.dtype == np.float32 and data.test_x.dtype == np.float32
    assert data.train_y.dtype == np.uint8 and data.train_y.shape == (60000,)
    assert data.test_y.shape == (10000,)
    assert data.train_x.min() == 0.0 and data.train_x.max() == 1.0
    assert data.train_y[0] == 5 and data.test_y[0] == 7
    raw = read_images(mnist_dir / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_allclose(data.test_x, raw / 255.0, rtol=1e-6)
    assert data.spec is MNIST and data.folder == mnist_dir
    assert data.spec.class_names[data.train_y[0]] == "5"


def test_loaded_arrays_are_read_only_and_cached(mnist_dir: Path) -> None:
    first = load_mnist(mnist_dir)
    with pytest.raises(ValueError, match="read-only"):
        first.train_x[0, 0] = 1.0
    again = load_mnist(mnist_dir)  # same files, same process: no second read
    assert again.train_x is first.train_x and again.test_y is first.test_y


def test_cache_hit_through_another_folder_reports_that_folder(
    mnist_dir: Path, tmp_path: Path
) -> None:
    first = load_mnist(mnist_dir)
    other = load_mnist(linked_copy(mnist_dir, tmp_path / "other"))
    assert other.folder == tmp_path / "other"
    assert other.train_x is first.train_x


def test_decompressed_files_are_accepted(mnist_dir: Path, tmp_path: Path) -> None:
    folder = linked_copy(mnist_dir, tmp_path / "plain", NAMES[:1])
    for name in NAMES[1:]:
        data = gzip.decompress((mnist_dir / name).read_bytes())
        (folder / name.removesuffix(".gz")).write_bytes(data)
    loaded = load_mnist(folder)
    assert loaded.test_x.shape == (10000, 784) and loaded.train_y[:3].tolist() == [5, 0, 4]
    assert all(report.ok for report in verify_dir(MNIST, folder))


def test_files_of_another_data_set_are_refused(mnist_dir: Path) -> None:
    with pytest.raises(DataError) as caught:
        load_dataset(FASHION_MNIST, mnist_dir)
    message = str(caught.value)
    assert "size is" in message and "not the published Fashion-MNIST file" in message
    assert message.startswith(str(mnist_dir))


def test_damaged_file_in_the_cache(mnist_dir: Path) -> None:
    cache = linked_copy(mnist_dir, default_data_dir(MNIST), NAMES[:3])
    (cache / NAMES[3]).write_bytes((mnist_dir / NAMES[2]).read_bytes())
    with pytest.raises(DataError) as caught:
        load_mnist()
    assert str(caught.value).startswith(f"{cache / NAMES[3]}: size is 1648877 bytes")
    assert str(caught.value).endswith("delete it to download it again")


def test_count_mismatch_names_both_files(tmp_path: Path, write_idx: WriteIdx) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "mismatch"
    folder.mkdir()
    spec = small_spec_without_checksums()
    write_idx(folder / NAMES[0], rng.integers(0, 256, (5, 28, 28), dtype=np.uint8))
    write_idx(folder / NAMES[1], rng.integers(0, 10, 4, dtype=np.uint8))
    write_idx(folder / NAMES[2], rng.integers(0, 256, (3, 28, 28), dtype=np.uint8))
    write_idx(folder / NAMES[3], rng.integers(0, 10, 3, dtype=np.uint8))
    with pytest.raises(DataError) as caught:
        load_dataset(spec, folder)
    message = str(caught.value)
    assert f"{folder / NAMES[0]} holds 5 images" in message
    assert f"{folder / NAMES[1]} holds 4 labels" in message


def small_spec_without_checksums() -> DatasetSpec:
    files = {role: DatasetFile(MNIST.files[role].name) for role in ROLES}
    return dataclasses.replace(MNIST, key="test-small", files=files)


def test_no_data_and_no_download(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no MNIST files here and NNVIZ_DATA_DIR is not set"):
        load_mnist(download_missing=False)


# ------------------------------------------------------------------ lookup order


def test_lookup_order(mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = linked_copy(mnist_dir, tmp_path / "explicit")
    env = linked_copy(mnist_dir, tmp_path / "env")
    cache = linked_copy(mnist_dir, tmp_path / "xdg-cache" / "nnviz" / "mnist")
    assert default_data_dir(MNIST) == cache
    assert find_data_dir(MNIST) == cache
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(env))
    assert find_data_dir(MNIST) == env
    assert find_data_dir(MNIST, explicit) == explicit
    assert find_data_dir(MNIST, str(explicit)) == explicit


def test_nothing_found_returns_none(mnist_dir: Path, tmp_path: Path) -> None:
    assert find_data_dir(MNIST) is None
    linked_copy(mnist_dir, default_data_dir(MNIST), NAMES[:3])  # an interrupted download
    assert find_data_dir(MNIST) is None


def test_data_dir_env_may_hold_one_subfolder_per_data_set(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked_copy(mnist_dir, tmp_path / "data" / "mnist")
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "data"))
    assert find_data_dir(MNIST) == tmp_path / "data" / "mnist"


def test_incomplete_explicit_folder_is_an_error_even_with_a_good_env(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(mnist_dir))
    folder = linked_copy(mnist_dir, tmp_path / "partial", NAMES[1:3])
    with pytest.raises(DataError) as caught:
        find_data_dir(MNIST, folder)
    message = str(caught.value)
    assert message.startswith(f"{folder}: the folder does not hold the MNIST files")
    assert "train-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in message
    assert "train-labels" not in message


def test_incomplete_env_folder_is_an_error(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked_copy(mnist_dir, default_data_dir(MNIST))  # a complete cache is not a fallback
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty \(from NNVIZ_DATA_DIR\): the folder does not"):
        load_mnist()


def test_missing_explicit_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere: no such folder"):
        load_mnist(tmp_path / "nowhere")


def test_user_cache_dir_on_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "nnviz"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert user_cache_dir() == tmp_path / ".cache" / "nnviz"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == tmp_path / ".cache" / "nnviz"
    # macOS and Windows folders come from platformdirs, which chooses them at import.


# ------------------------------------------------------------------ verification


def test_verify_the_real_folder(mnist_dir: Path) -> None:
    reports = verify_dir(MNIST, mnist_dir)
    assert [report.name for report in reports] == NAMES
    assert all(report.ok and report.problem is None for report in reports)


def test_verify_reports_each_bad_file(mnist_dir: Path, tmp_path: Path) -> None:
    folder = linked_copy(mnist_dir, tmp_path / "damaged", NAMES[:1])
    labels = bytearray((mnist_dir / NAMES[1]).read_bytes())
    labels[1000] ^= 0x40
    (folder / NAMES[1]).write_bytes(bytes(labels))  # same size, other bytes
    (folder / NAMES[2]).write_bytes((mnist_dir / NAMES[2]).read_bytes()[:1000])
    reports = verify_dir(MNIST, folder)
    assert [report.ok for report in reports] == [True, False, False, False]
    assert reports[1].problem is not None
    assert reports[1].problem.startswith("sha256 checksum mismatch")
    assert reports[1].path == folder / NAMES[1]
    assert reports[2].problem == "size is 1000 bytes, expected 1648877"
    assert reports[3].problem == "missing"


def test_verify_parses_decompressed_files(
    tmp_path: Path, write_idx: WriteIdx, mnist_dir: Path
) -> None:
    folder = linked_copy(mnist_dir, tmp_path / "mixed", NAMES[:3])
    plain = folder / NAMES[3].removesuffix(".gz")
    write_idx(plain, np.array([1, 2, 11], np.uint8), compress=False)
    report = verify_dir(MNIST, folder)[3]
    assert not report.ok and report.path == plain
    assert report.problem is not None and "label 11 at index 2" in report.problem


# ------------------------------------------------------------------ specs


def test_mnist_spec_matches_the_shared_checksums(mnist_dir: Path) -> None:
    sums = dict(
        reversed(line.split()) for line in (mnist_dir / "SHA256SUMS").read_text().splitlines()
    )
    for role in ROLES:
        file = MNIST.files[role]
        assert file.sha256 == sums[file.name]
        assert file.size == (mnist_dir / file.name).stat().st_size


@pytest.mark.parametrize("spec", DATASETS.values(), ids=DATASETS.keys())
def test_specs_are_well_formed(spec: DatasetSpec) -> None:
    assert DATASETS[spec.key] is spec
    assert set(spec.files) == set(ROLES)
    for file in spec.files.values():
        assert file.md5 is not None and re.fullmatch(r"[0-9a-f]{32}", file.md5)
        assert file.sha256 is not None and re.fullmatch(r"[0-9a-f]{64}", file.sha256)
        assert file.size is not None and file.size > 0 and file.name.endswith("-ubyte.gz")
    assert len(spec.mirrors) >= 2
    assert all(re.fullmatch(r"https?://[^/]+/(.*/)?", mirror) for mirror in spec.mirrors)
    assert len(spec.class_names) == 10


def test_fashion_spec_details() -> None:
    assert FASHION_MNIST.files["test_labels"].md5 == "bb300cfdad3c16e7a12a480ee83cd310"
    assert FASHION_MNIST.class_names[0] == "T-shirt/top"
    assert FASHION_MNIST.class_names[9] == "Ankle boot"
    assert [FASHION_MNIST.files[r].name for r in ROLES] == NAMES


def test_spec_validation() -> None:
    with pytest.raises(ConfigError, match="no file for test_labels"):
        dataclasses.replace(MNIST, files={r: MNIST.files[r] for r in ROLES[:3]})
    with pytest.raises(ConfigError, match="must end with '/'"):
        dataclasses.replace(MNIST, mirrors=("https://example.org/mnist",))


def test_an_unreadable_folder_is_a_clear_error(
    unreadable_folder: Path, without_root_powers
) -> None:
    """``nnviz data verify`` and the lookup say the folder cannot be read (no traceback)."""
    nnviz = Path(sys.executable).parent / "nnviz"
    done = subprocess.run(
        without_root_powers([str(nnviz), "data", "verify", "--dir", str(unreadable_folder)]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"nnviz: error: {unreadable_folder}: cannot read the folder")
    assert "Permission denied" in done.stderr and "Traceback" not in done.stderr
    code = (
        "import sys; from nnviz.core.datasets import MNIST, find_data_dir, DataError\n"
        "try:\n    find_data_dir(MNIST, sys.argv[1])\n"
        "except DataError as exc:\n    print('DataError:', exc)\n"
    )
    done = subprocess.run(
        without_root_powers([sys.executable, "-c", code, str(unreadable_folder)]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.startswith(f"DataError: {unreadable_folder}: cannot read the folder")

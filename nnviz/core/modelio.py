"""Model files: one network and its training metadata in a NumPy ``.npz`` archive.

File format, version 1: a zip archive written by :func:`numpy.savez_compressed`
holding seven arrays, none of them an object array, so the file loads with
``allow_pickle=False``::

    format          0-d unicode  "nnviz-model"
    format_version  0-d int64    1
    sizes           (L+1,) int64 neurons per layer, input first, e.g. [784, 16, 16, 10]
    activation      0-d unicode  hidden activation, one of network.ACTIVATIONS
    cost            0-d unicode  one of network.COSTS
    theta           (P,) float32 all parameters in Network's flat layout,
                                 P = sum((n_in + 1) * n_out) over the layers
    meta            0-d unicode  a JSON object: training metadata chosen by the caller

Readers ignore extra entries; a newer ``format_version`` is refused.

Every problem is reported as a :class:`~nnviz.core.errors.ModelFileError` whose
message starts with the file path and says in plain words what is wrong; no
NumPy or zipfile exception escapes on its own.

Before NumPy allocates an entry, its ``.npy`` header is read from the zip and
checked against the bytes the archive really holds for it, so a damaged or
forged header (``shape (10**12,)`` in a 100 KB file) is refused without asking
for terabytes of memory.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError, ModelFileError, plain_number
from nnviz.core.fileio import atomic_write
from nnviz.core.limits import parameter_count
from nnviz.core.network import ACTIVATIONS, COSTS, Network

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

Array = npt.NDArray[Any]
PathArg = str | os.PathLike[str]

FORMAT = "nnviz-model"
FORMAT_VERSION = 1
_KEYS = ("format", "format_version", "sizes", "activation", "cost", "theta", "meta")
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip starts with a file or end record
# Errors NumPy and zipfile raise for a damaged archive or a damaged entry in it
# (NotImplementedError: an unknown compression method; RuntimeError: an
# encrypted entry).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
# Deflate turns every 2 bits into at most 258 bytes: no entry expands more.
_MAX_DEFLATE_RATIO = 1032
# The most items of a NumPy array (its sizes, zeros left out, must not overflow).
_MAX_ITEMS = int(np.iinfo(np.intp).max)


# ------------------------------------------------------------------ saving
def save_model(path: PathArg, net: Network, meta: Mapping[str, object] | None = None) -> None:
    """Write ``net`` and ``meta`` to the model file ``path``, atomically.

    Parameters
    ----------
    path
        The file to write, used exactly as given: no ``.npz`` suffix is added
        (choosing the name is the caller's job). Missing parent folders are
        created. An existing file is replaced only once the new one is complete;
        after a crash or an error it is left as it was.
    net
        The network. Its parameters are stored as float32 (a float64 network
        loses the extra precision).
    meta
        Training metadata (preset, epochs, learning rate, seed, accuracy,
        timestamp, ...), stored as a JSON object. Keys must be strings and
        values plain JSON (dict, list, str, int, float, bool, None; tuples come
        back as lists); NaN and infinity are refused so the JSON stays standard.

    Raises
    ------
    ModelFileError
        ``meta`` is not JSON-serialisable or the parameters are not all finite
        (both checked before anything is written), or the file cannot be
        written.
    """
    name = os.fspath(path)
    arrays = _arrays_of(name, net, meta)
    try:
        with atomic_write(name) as handle:
            # A file handle, not a path: given a path NumPy would append ".npz".
            np.savez_compressed(handle, **arrays)
    except OSError as exc:
        raise ModelFileError(f"{name}: cannot write the model file ({_reason(exc)})") from exc


def _arrays_of(name: str, net: Network, meta: Mapping[str, object] | None) -> dict[str, Any]:
    """The arrays of the file format, validated, before anything is written.

    Typed ``Any``: NumPy's stubs would match ``**dict[str, ndarray]`` against
    ``savez_compressed``'s ``allow_pickle`` keyword.
    """
    meta_text = _meta_json(name, meta)
    with np.errstate(over="ignore"):  # float64 beyond float32's range -> inf, caught below
        theta = np.ascontiguousarray(net.theta, dtype=np.float32)
    n_bad = int(np.count_nonzero(~np.isfinite(theta)))
    if n_bad:
        raise ModelFileError(
            f"{name}: not saved: {n_bad} of the network's parameters are NaN or infinite"
        )
    return {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activation": np.array(net.activation),
        "cost": np.array(net.cost),
        "theta": theta,
        "meta": np.array(meta_text),
    }


def _meta_json(name: str, meta: Mapping[str, object] | None) -> str:
    """``meta`` as a JSON object text; ModelFileError if it cannot be one."""
    if meta is None:
        return "{}"
    if not isinstance(meta, Mapping):
        raise ModelFileError(f"{name}: not saved: meta must be a mapping, got {type(meta)}")
    bad_keys = [key for key in meta if not isinstance(key, str)]
    if bad_keys:
        raise ModelFileError(f"{name}: not saved: meta keys must be strings, got {bad_keys!r}")
    try:
        return json.dumps(dict(meta), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{name}: not saved: meta is not JSON-serialisable ({exc})") from exc


def _reason(exc: OSError) -> str:
    """The operating system's short explanation of ``exc``."""
    return str(exc.strerror or exc)


# ------------------------------------------------------------------ loading
def load_model(
    path: PathArg, *, max_parameters: int | None = None
) -> tuple[Network, dict[str, Any]]:
    """Read a model file written by :func:`save_model`.

    The file is read with ``allow_pickle=False`` and only after its first bytes
    show a zip archive, so loading never runs code stored in the file. Each
    entry's ``.npy`` header is checked against the bytes the archive holds for
    it before NumPy allocates the array.

    Parameters
    ----------
    path
        The model file (``.npz``).
    max_parameters
        The most parameters (weights and biases) a model may have; a larger one
        is refused from its ``sizes`` entry, before its parameters are read and
        before the network is built. ``None`` (the default) loads any size. The
        app and ``nnviz classify`` pass :data:`nnviz.core.limits.MAX_PARAMETERS`.

    Returns
    -------
    net : Network
        A float32 network with the stored sizes, activation, cost and ``theta``.
    meta : dict
        The stored metadata (an empty dict if none was given).

    Raises
    ------
    ModelFileError
        The file is missing or unreadable, not an ``.npz`` archive, damaged or
        truncated, an entry's header claims more data than the file holds,
        contains pickled objects, is not an nnviz model or comes from a newer
        format version, misses an entry, holds invalid values (sizes,
        activation, cost, theta length/type/non-finite, meta), has more than
        ``max_parameters`` parameters, or needs more memory than there is. The
        message starts with the path. No other exception escapes.
    """
    name = os.fspath(path)
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below; open errors get their own messages
    except OSError as exc:
        raise ModelFileError(f"{name}: {_open_problem(exc)}") from exc
    try:
        with handle:
            arrays = _read_archive(name, handle, max_parameters)
        return _network_from(name, arrays), _meta_from(name, arrays["meta"])
    except MemoryError as exc:
        # A last resort: the header checks refuse damaged files before this.
        raise ModelFileError(
            f"{name}: not enough memory to load this model (the file may be damaged, or "
            "the network too large for this computer)"
        ) from exc


def _open_problem(exc: OSError) -> str:
    """Plain words for why a model file could not be opened."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a model file"
    return f"cannot read the file ({_reason(exc)})"


def _read_archive(name: str, handle: IO[bytes], max_parameters: int | None) -> dict[str, Array]:
    """Every entry of :data:`_KEYS` from the open file, after the format checks."""
    _require_zip(name, handle)
    try:
        with np.load(handle, allow_pickle=False) as archive:
            _check_headers(name, archive.zip)
            _check_format(name, archive)
            if max_parameters is not None:
                _check_parameters(
                    name, _sizes(name, _entry(name, archive, "sizes")), max_parameters
                )
            return {key: _entry(name, archive, key) for key in _KEYS}
    except _ARCHIVE_ERRORS as exc:
        raise ModelFileError(f"{name}: the .npz archive is damaged or truncated ({exc})") from exc


def _check_headers(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse an entry that claims more data than the file holds, before NumPy allocates it.

    For each entry nnviz reads: the zip directory's uncompressed size must be
    one the compressed bytes can produce, and the array the ``.npy`` header
    describes must fit in that size. NumPy allocates the whole array from the
    header before reading any data, so without this a header edited to claim
    ``shape (10**12,)`` would ask for 4 TB.
    """
    for info in archive.infolist():
        key = info.filename.removesuffix(".npy")
        if key not in _KEYS:
            continue  # extra entries are never read
        _check_directory_size(name, key, info)
        with archive.open(info) as member:
            if member.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                continue  # not an .npy: NumPy reads its bytes, checked as a bad entry later
            member.seek(0)
            _check_npy_header(name, key, member, info.file_size)


def _check_directory_size(name: str, key: str, info: zipfile.ZipInfo) -> None:
    """ModelFileError if the zip directory's size of an entry is more than its bytes can hold."""
    if info.compress_type == zipfile.ZIP_STORED:
        most = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        most = _MAX_DEFLATE_RATIO * info.compress_size
    else:
        return  # zipfile refuses methods it does not know; others are checked as they are read
    if info.file_size > most:
        raise ModelFileError(
            f"{name}: the .npz archive is damaged: its directory says entry {key!r} holds "
            f"{_byte_count(info.file_size)}, but its {_byte_count(info.compress_size)} of "
            f"compressed data can hold at most {_byte_count(most)}"
        )


def _check_npy_header(name: str, key: str, member: IO[bytes], file_size: int) -> None:
    """ModelFileError if the ``.npy`` header of ``member`` claims more than its ``file_size``."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ModelFileError(
            f"{name}: entry {key!r} is an .npy array of format version "
            f"{version[0]}.{version[1]}, which nnviz model files do not use"
        )
    if min(shape, default=0) < 0 or math.prod(size for size in shape if size) > _MAX_ITEMS:
        # NumPy would overflow on it, even beside a size 0 (a claim of 0 bytes) and
        # for an object array (before it refuses to unpickle one).
        raise ModelFileError(
            f"{name}: entry {key!r} is damaged: its .npy header claims an array of shape "
            f"{_shape_text(shape)}, which no array can have (sizes must be 0 or more, "
            f"multiplying to at most {_plain_int(_MAX_ITEMS)})"
        )
    if dtype.hasobject:
        return  # never read: NumPy refuses object arrays without allow_pickle
    held = file_size - member.tell()
    # A zero-width item (dtype "U0") still counts one byte: an array of 10**20
    # of them is no more real than one of 10**20 floats.
    claimed = math.prod(shape) * max(dtype.itemsize, 1)
    if claimed > held:
        raise ModelFileError(
            f"{name}: entry {key!r} is damaged: its .npy header claims an array of shape "
            f"{_shape_text(shape)} of {dtype}, {_byte_count(claimed)} of data, but the file "
            f"holds {_byte_count(held)} for it (refused before allocating the memory)"
        )


def _check_parameters(name: str, sizes: Sequence[int], max_parameters: int) -> None:
    """ModelFileError if a network of ``sizes`` has more than ``max_parameters`` parameters."""
    count = parameter_count(sizes)
    if count > max_parameters:
        raise ModelFileError(
            f"{name}: the {'-'.join(map(str, sizes))} network in this file has {count:,} "
            f"parameters ({_megabytes(count * 4)} per copy); nnviz opens models of up to "
            f"{max_parameters:,} parameters: it keeps dozens of copies of them at once "
            "across training, the window and the loss surface"
        )


def _byte_count(n: int) -> str:
    """``"52,008 bytes"``, ``"4 trillion bytes"``: a byte count as people read it."""
    return f"{_plain_int(n)} byte{'' if n == 1 else 's'}"


def _plain_int(n: int) -> str:
    """An integer of any size (a header may hold 5000 digits) in plain words.

    ``"52,008"``, ``"4 trillion"``, ``"5.2 \u00d7 10^37"``, ``"about 10^400"``.
    """
    if abs(n) < 1_000_000:
        return f"{n:,}"
    if abs(n) < 10**300:
        return plain_number(float(n))
    return f"about {'-' if n < 0 else ''}10^{math.floor(abs(n).bit_length() * math.log10(2))}"


def _shape_text(shape: Sequence[int]) -> str:
    """``"(1000000000000,)"`` as NumPy writes it; absurdly long numbers in words."""
    dims = [str(d) if abs(d) < 10**18 else _plain_int(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _megabytes(n: int) -> str:
    """``"318 MB"``: a byte count in megabytes, plain."""
    return f"{plain_number(n / 1e6)} MB"


def _require_zip(name: str, handle: IO[bytes]) -> None:
    """ModelFileError unless the file starts like a zip archive (an ``.npz``).

    Checked here rather than left to :func:`numpy.load`, which treats any other
    file as a pickle: nothing that is not a zip ever reaches NumPy.
    """
    try:
        magic = handle.read(4)
        handle.seek(0)
    except OSError as exc:
        raise ModelFileError(f"{name}: cannot read the file ({_reason(exc)})") from exc
    if not magic:
        raise ModelFileError(f"{name}: the file is empty")
    if not magic.startswith(_ZIP_MAGICS):
        raise ModelFileError(
            f"{name}: not an nnviz model file (not an .npz archive; it starts with {magic!r})"
        )


def _check_format(name: str, archive: Any) -> None:
    """The format marker and version, then the presence of every entry."""
    if "format" not in archive.files:
        raise ModelFileError(
            f"{name}: not an nnviz model file (an .npz archive without a 'format' entry; "
            f"it holds {', '.join(archive.files) or 'nothing'})"
        )
    marker = _text(name, _entry(name, archive, "format"), "format")
    if marker != FORMAT:
        raise ModelFileError(
            f"{name}: not an nnviz model file (format marker {marker!r}, expected {FORMAT!r})"
        )
    missing = [key for key in _KEYS if key not in archive.files]
    if missing:
        raise ModelFileError(f"{name}: the model file is missing {', '.join(missing)}")
    _check_version(name, _entry(name, archive, "format_version"))


def _check_version(name: str, arr: Array) -> None:
    """ModelFileError unless ``format_version`` is one integer this code can read."""
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise ModelFileError(f"{name}: format_version must be one integer, got {_kind(arr)}")
    version = int(arr)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: written by a newer nnviz (model format version {version}; this "
            f"nnviz reads version {FORMAT_VERSION}): update nnviz to open it"
        )
    if version < 1:
        raise ModelFileError(f"{name}: invalid format_version {version}")


def _entry(name: str, archive: Any, key: str) -> Array:
    """One array of the archive; an object (pickled) array is refused."""
    try:
        return np.asarray(archive[key])
    except ValueError as exc:
        # NumPy's refusal reads "Object arrays cannot be loaded when allow_pickle=False".
        if "allow_pickle" not in str(exc):
            raise
        raise ModelFileError(
            f"{name}: entry {key!r} contains pickled Python objects, "
            "which nnviz refuses to load for safety"
        ) from exc


# ------------------------------------------------------------------ validation
def _network_from(name: str, arrays: Mapping[str, Array]) -> Network:
    """A float32 Network from validated entries."""
    sizes = _sizes(name, arrays["sizes"])
    activation = _choice(name, arrays["activation"], "activation", ACTIVATIONS)
    cost = _choice(name, arrays["cost"], "cost", COSTS)
    theta = _theta(name, arrays["theta"], sizes)  # checked first: bounds the allocation
    try:
        net = Network(sizes, activation, cost)
    except ConfigError as exc:
        raise ModelFileError(f"{name}: {exc}") from exc
    net.theta = theta
    return net


def _sizes(name: str, arr: Array) -> tuple[int, ...]:
    """Layer sizes: a 1-D integer array of two or more positive values."""
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ModelFileError(
            f"{name}: sizes must be a 1-D array of integers (neurons per layer), got {_kind(arr)}"
        )
    sizes = tuple(int(s) for s in arr)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ModelFileError(
            f"{name}: sizes must be two or more positive layer sizes, got {list(sizes)}"
        )
    return sizes


def _choice(name: str, arr: Array, kind: str, allowed: tuple[str, ...]) -> str:
    """A text entry that must be one of ``allowed``."""
    value = _text(name, arr, kind)
    if value not in allowed:
        raise ModelFileError(f"{name}: unknown {kind} {value!r} (nnviz knows {', '.join(allowed)})")
    return value


def _theta(name: str, arr: Array, sizes: Sequence[int]) -> Array:
    """The parameters as float32: flat, floating, finite, of the right length."""
    if arr.dtype.kind != "f":
        raise ModelFileError(f"{name}: theta must hold floating-point numbers, got {_kind(arr)}")
    if arr.ndim != 1:
        raise ModelFileError(f"{name}: theta must be a flat 1-D array, got {_kind(arr)}")
    needed = sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))
    if arr.size != needed:
        raise ModelFileError(
            f"{name}: theta has {arr.size} parameters, but "
            f"{'-'.join(map(str, sizes))} needs {needed}"
        )
    with np.errstate(over="ignore"):  # float64 beyond float32's range -> inf, caught below
        theta = arr.astype(np.float32)
    n_bad = int(np.count_nonzero(~np.isfinite(theta)))
    if n_bad:
        raise ModelFileError(f"{name}: theta contains {n_bad} NaN or infinite values")
    return theta


def _meta_from(name: str, arr: Array) -> dict[str, Any]:
    """The metadata: a JSON object text, parsed."""
    text = _text(name, arr, "meta")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{name}: meta is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ModelFileError(
            f"{name}: meta must be a JSON object ({{...}}), got {type(meta).__name__}"
        )
    return meta


def _text(name: str, arr: Array, key: str) -> str:
    """A 0-d unicode entry as a Python string."""
    if arr.ndim != 0 or arr.dtype.kind != "U":
        raise ModelFileError(f"{name}: {key} must be a text string, got {_kind(arr)}")
    return str(arr[()])


def _kind(arr: Array) -> str:
    """``"int64 array of shape (2, 3)"``: what an entry actually is."""
    return f"{arr.dtype} array of shape {arr.shape}"

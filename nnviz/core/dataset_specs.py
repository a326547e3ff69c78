"""The data sets nnviz knows: their four IDX files, checksums, mirrors and classes.

A :class:`DatasetSpec` names the four IDX files of an MNIST-like data set (roles
``train_images``, ``train_labels``, ``test_images``, ``test_labels``), their
published checksums and the mirrors they can be downloaded from. :data:`MNIST`
and :data:`FASHION_MNIST` are the two built in, :data:`DATASETS` maps their
keys to them. :mod:`nnviz.core.datasets` re-exports every name of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nnviz.core.errors import ConfigError

__all__ = ["DATASETS", "FASHION_MNIST", "MNIST", "ROLES", "DatasetFile", "DatasetSpec"]

ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DatasetFile:
    """One published file: its name, checksums (lower-case hex) and size in bytes."""

    name: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """An MNIST-like data set: four IDX files, their mirrors and the class names.

    ``files`` maps each of :data:`ROLES` to a :class:`DatasetFile`; every mirror
    is a base URL ending with ``/`` to which a file name is appended.
    """

    key: str
    title: str
    files: Mapping[str, DatasetFile]
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    homepage: str = ""
    license_note: str = ""

    def __post_init__(self) -> None:
        missing = [role for role in ROLES if role not in self.files]
        if missing:
            raise ConfigError(f"data set {self.key!r}: no file for {', '.join(missing)}")
        bad = [mirror for mirror in self.mirrors if not mirror.endswith("/")]
        if bad:
            raise ConfigError(f"data set {self.key!r}: mirrors must end with '/': {bad}")


MNIST = DatasetSpec(
    key="mnist",
    title="MNIST",
    files={
        "train_images": DatasetFile(
            "train-images-idx3-ubyte.gz",
            sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
            size=9912422,
        ),
        "train_labels": DatasetFile(
            "train-labels-idx1-ubyte.gz",
            sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            md5="d53e105ee54ea40749a09fcbcd1e9432",
            size=28881,
        ),
        "test_images": DatasetFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            md5="9fb629c4189551a2d022fa330f9573f3",
            size=1648877,
        ),
        "test_labels": DatasetFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            md5="ec29112dd5afa0611ce80d1b7f02629c",
            size=4542,
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    ),
    class_names=tuple(str(digit) for digit in range(10)),
    homepage="https://yann.lecun.com/exdb/mnist/",
    license_note="Yann LeCun, Corinna Cortes and Christopher J. C. Burges; CC BY-SA 3.0.",
)

# Checksums: md5 from the zalandoresearch/fashion-mnist README (and torchvision),
# sha256 and sizes as listed by other loaders. The S3 "website" endpoint is HTTP
# only (S3 website endpoints do not serve HTTPS); the files are checksummed anyway.
FASHION_MNIST = DatasetSpec(
    key="fashion-mnist",
    title="Fashion-MNIST",
    files={
        "train_images": DatasetFile(
            "train-images-idx3-ubyte.gz",
            sha256="08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            size=26421880,
        ),
        "train_labels": DatasetFile(
            "train-labels-idx1-ubyte.gz",
            sha256="b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            md5="25c81989df183df01b3e8a0aad5dffbe",
            size=29515,
        ),
        "test_images": DatasetFile(
            "t10k-images-idx3-ubyte.gz",
            sha256="78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            md5="bef4ecab320f06d8554ea6380940ec79",
            size=4422102,
        ),
        "test_labels": DatasetFile(
            "t10k-labels-idx1-ubyte.gz",
            sha256="42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
            md5="bb300cfdad3c16e7a12a480ee83cd310",
            size=5148,
        ),
    },
    mirrors=(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license_note="Zalando SE; MIT license.",
)

DATASETS: dict[str, DatasetSpec] = {MNIST.key: MNIST, FASHION_MNIST.key: FASHION_MNIST}

"""nnviz.core: the NumPy library under nnviz. No Qt; usable from a notebook.

>>> from nnviz.core import Network, Trainer, load_mnist, MODERN
>>> data = load_mnist()
>>> net = MODERN.network()
>>> trainer = Trainer(net, data.train_x, data.train_y, MODERN.config, data.test_x, data.test_y)
>>> trainer.step_epoch().costs.mean()  # doctest: +SKIP
"""

from nnviz.core.datasets import FASHION_MNIST, MNIST, Dataset, load_dataset, load_mnist
from nnviz.core.errors import (
    Cancelled,
    ConfigError,
    DataError,
    DivergenceError,
    DownloadError,
    ModelFileError,
    NnvizError,
    plain_number,
)
from nnviz.core.health import Guard, Health, Trouble
from nnviz.core.modelio import load_model, save_model
from nnviz.core.network import Network
from nnviz.core.preprocess import preprocess_drawing
from nnviz.core.presets import CLASSIC, MODERN, PRESETS, Preset, get_preset
from nnviz.core.trainer import Evaluation, StepReport, TrainConfig, Trainer, evaluate

__all__ = [
    "CLASSIC",
    "FASHION_MNIST",
    "MNIST",
    "MODERN",
    "PRESETS",
    "Cancelled",
    "ConfigError",
    "DataError",
    "Dataset",
    "DivergenceError",
    "DownloadError",
    "Evaluation",
    "Guard",
    "Health",
    "ModelFileError",
    "Network",
    "NnvizError",
    "Preset",
    "StepReport",
    "TrainConfig",
    "Trainer",
    "Trouble",
    "evaluate",
    "get_preset",
    "load_dataset",
    "load_mnist",
    "load_model",
    "plain_number",
    "preprocess_drawing",
    "save_model",
]

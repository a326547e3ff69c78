"""Errors raised by the core. Each message names the thing that is wrong."""

from __future__ import annotations


class NnvizError(Exception):
    """Base class of every error nnviz raises on purpose."""


class ConfigError(NnvizError, ValueError):
    """A setting (architecture, activation, learning rate, ...) is not valid."""


class DataError(NnvizError):
    """A data file is missing, truncated, corrupt or of the wrong kind."""


class DownloadError(DataError):
    """A data set could not be downloaded from any mirror."""


class ModelFileError(NnvizError):
    """A model file cannot be read or does not describe a valid network."""


class DivergenceError(NnvizError, FloatingPointError):
    """Training produced a NaN or infinite cost; the parameters were rolled back.

    Attributes
    ----------
    step : int
        The number of mini-batches completed before the bad one.
    cost : float
        The non-finite cost that was detected.
    """

    def __init__(self, message: str, step: int, cost: float) -> None:
        super().__init__(message)
        self.step = step
        self.cost = cost


class Cancelled(NnvizError):
    """A long computation was stopped through its stop flag."""

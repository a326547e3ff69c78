"""Errors raised by the core. Each message names the thing that is wrong.

Numbers in messages are written as people read them (:func:`plain_number`):
``1000``, ``0.31``, ``0.0001``, ``4.2 million``, never ``1e+03``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Names of the powers of a thousand :func:`plain_number` writes in words.
_LARGE = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def plain_number(x: float) -> str:
    """``x`` written for a person: three significant digits, no ``e+03``.

    Parameters
    ----------
    x
        Any float (NaN and infinities included).

    Returns
    -------
    str
        ``"1000"`` for 1000.0, ``"0.31"`` for 0.3104, ``"167"`` for 167.3,
        ``"12346"`` for 12345.6 (digits as they are typed), ``"0.0001"``,
        ``"4.2 million"`` for 4.2e6, ``"infinity"``, ``"not a number"``; from a
        thousand trillion up and below a millionth, a power of ten:
        ``"5.2 \u00d7 10^37"``, ``"10^-7"``.
    """
    if math.isnan(x):
        return "not a number"
    sign, a = ("-" if x < 0 else ""), abs(x)
    if math.isinf(a):
        return f"{sign}infinity"
    if a >= 1e15 or 0 < a < 1e-6:
        return sign + _power_of_ten(a)
    for size, name in _LARGE:
        if a >= size:
            return f"{sign}{_significant(a / size)} {name}"
    if a >= 1000:
        return f"{sign}{min(round(a), 999999)}"
    return sign + _significant(a) if a else "0"


def _significant(a: float) -> str:
    """``a`` in [0, 1e6) with three significant digits, in plain decimals."""
    decimals = max(0, 2 - math.floor(math.log10(a))) if a else 0
    text = f"{a:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _power_of_ten(a: float) -> str:
    """``a > 0`` as ``"m \u00d7 10^e"`` (``"10^e"`` when ``m`` rounds to 1)."""
    mantissa, exponent = f"{a:.2e}".split("e")
    m = mantissa.rstrip("0").rstrip(".")
    return f"10^{int(exponent)}" if m == "1" else f"{m} × 10^{int(exponent)}"


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
    """Training produced a NaN or infinite cost or update; that step was not applied.

    Attributes
    ----------
    step : int
        The number of mini-batches completed before the bad one.
    cost : float
        The cost of the bad mini-batch (NaN, infinite, or finite when it was
        the update that overflowed).
    costs : tuple of float
        The costs of the mini-batches completed in the same call before the
        bad one, in order (they were applied).
    """

    def __init__(self, message: str, step: int, cost: float, costs: Sequence[float] = ()) -> None:
        super().__init__(message)
        self.step = step
        self.cost = cost
        self.costs = tuple(float(c) for c in costs)


class Cancelled(NnvizError):
    """A long computation was stopped through its stop flag."""

"""Test-set analysis and "what the hidden neurons see".

- :class:`ConfusionAnalysis`: the confusion matrix of a labelled data set and
  galleries of examples (mistakes by confidence, one cell of the matrix).
- :func:`effective_images`: a hidden neuron's weights pushed back into the
  input space through the layers below it (a linear view).
- :func:`saturation`: how often each hidden neuron sits in the flat part of
  its activation function, where little or no gradient passes through it.

Confidence of a prediction is the output activation of the predicted (most
active) neuron: the softmax probability for a cross-entropy network, and the
sigmoid activation of the winning neuron for a quadratic-cost network. The
latter is not a probability (the ten sigmoid outputs need not sum to 1) but it
is the bar the lessons show, and it orders examples by how sure the network is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError
from nnviz.core.network import Network
from nnviz.core.trainer import Evaluation

Array = npt.NDArray[Any]

#: ``|a| > TANH_LIMIT`` counts as saturated for tanh neurons (``f' < 0.19`` there).
TANH_LIMIT = 0.9


def _readonly(arr: Array) -> Array:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class ConfusionAnalysis:
    """Confusion matrix and example galleries of one labelled data set.

    Build it with :meth:`from_evaluation` or :meth:`from_outputs`. Index
    arrays refer to the rows of the evaluated data set; every gallery is
    sorted by confidence (module docstring) and, for equal confidence, by index.

    Attributes
    ----------
    counts
        ``(k, k)`` int64; row = true class, column = predicted class.
    labels, predictions
        ``(n,)`` int64 true and predicted classes.
    confidence
        ``(n,)`` float64, the output activation of the predicted neuron.
    """

    counts: Array
    labels: Array
    predictions: Array
    confidence: Array
    _order: Array = field(init=False, repr=False)  # all indices, most confident first

    def __post_init__(self) -> None:
        order = np.lexsort((np.arange(self.confidence.size), -self.confidence))
        object.__setattr__(self, "_order", _readonly(order.astype(np.int64)))

    @classmethod
    def from_outputs(cls, outputs: npt.ArrayLike, labels: npt.ArrayLike) -> ConfusionAnalysis:
        """Analyse the ``(n, k)`` output activations of ``n`` examples with true ``labels``."""
        out = np.asarray(outputs, dtype=np.float64)
        if out.ndim != 2 or out.shape[1] < 2:
            raise ConfigError(f"outputs must have shape (n, classes), got {out.shape}")
        lab = np.asarray(labels)
        n, k = out.shape
        if lab.shape != (n,) or (n and not np.issubdtype(lab.dtype, np.integer)):
            raise ConfigError(f"labels must be {n} integers, got shape {lab.shape} {lab.dtype}")
        lab = lab.astype(np.int64)
        if n and (lab.min() < 0 or lab.max() >= k):
            raise ConfigError(f"labels must lie in [0, {k}), got {lab.min()}..{lab.max()}")
        predictions = np.argmax(out, axis=1).astype(np.int64)
        confidence = out[np.arange(n), predictions]
        counts = np.bincount(lab * k + predictions, minlength=k * k).reshape(k, k)
        arrays = (counts.astype(np.int64), lab, predictions, confidence)
        return cls(*(_readonly(a) for a in arrays))

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> ConfusionAnalysis:
        """Analyse an :class:`~nnviz.core.trainer.Evaluation`."""
        return cls.from_outputs(evaluation.outputs, evaluation.labels)

    # ------------------------------------------------------------------ summary figures
    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.labels.size)

    @property
    def n_classes(self) -> int:
        """Number of classes ``k``."""
        return int(self.counts.shape[0])

    @property
    def accuracy(self) -> float:
        """Fraction of correct predictions, ``trace(counts) / n`` (0 for no examples)."""
        return float(np.trace(self.counts)) / self.n if self.n else 0.0

    @property
    def row_totals(self) -> Array:
        """``(k,)`` examples per true class."""
        return np.asarray(self.counts.sum(axis=1))

    @property
    def matrix(self) -> Array:
        """``(k, k)`` row-normalised counts: row ``t`` is where class ``t`` went (0 rows stay 0)."""
        totals = self.row_totals[:, None].astype(np.float64)
        return np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)

    @property
    def per_class_accuracy(self) -> Array:
        """``(k,)`` ``diag(counts) / row totals``; NaN for a class with no examples."""
        totals = self.row_totals.astype(np.float64)
        diag: Array = np.diag(self.counts).astype(np.float64)
        share: Array = np.divide(diag, totals, out=np.full(diag.shape, np.nan), where=totals > 0)
        return share

    # ------------------------------------------------------------------ galleries
    def _check(self, value: int | None, what: str) -> None:
        if value is not None and not 0 <= value < self.n_classes:
            raise ConfigError(f"the {what} class must lie in [0, {self.n_classes}), got {value}")

    def _select(self, mask: Array, most_confident_first: bool = True) -> Array:
        order = self._order if most_confident_first else self._order[::-1]
        return np.asarray(order[mask[order]])

    def cell(self, true: int, predicted: int) -> Array:
        """Indices of the examples of class ``true`` predicted as ``predicted``.

        The diagonal cells hold the correct predictions. Most confident first.
        """
        self._check(true, "true")
        self._check(predicted, "predicted")
        return self._select((self.labels == true) & (self.predictions == predicted))

    def mistakes(self, true: int | None = None, predicted: int | None = None) -> Array:
        """Indices of the misclassified examples, most confident wrong prediction first.

        Parameters
        ----------
        true, predicted
            Restrict to one true class, one predicted class, or (both) one
            off-diagonal cell; a diagonal cell has no mistakes.
        """
        self._check(true, "true")
        self._check(predicted, "predicted")
        mask = self.labels != self.predictions
        if true is not None:
            mask &= self.labels == true
        if predicted is not None:
            mask &= self.predictions == predicted
        return self._select(mask)

    def most_confident_mistakes(self, n: int) -> Array:
        """The ``n`` mistakes the network was surest of (fewer if there are fewer)."""
        return self.mistakes()[: max(n, 0)]

    def least_confident_correct(self, n: int) -> Array:
        """The ``n`` correct predictions the network was least sure of, least sure first."""
        mask = self.labels == self.predictions
        return self._select(mask, most_confident_first=False)[: max(n, 0)]


def effective_images(net: Network, layer: int = 2) -> Array:
    """Each neuron of ``layer`` seen in input space through the weights below it.

    A linear view that ignores the nonlinearities and biases of the layers in
    between: ``E_l = W_l W_{l-1} ... W_1`` with ``W_m`` the ``(n_m, n_{m-1})``
    neuron-major weights, so for ``layer = 2``
    ``E[j] = sum_i W_2[j, i] W_1[i, :]``. Row ``j`` is the pixel pattern that
    would raise neuron ``j``'s pre-activation most if the first layer's sigmoid
    were a straight line; with the sigmoid in place it is only a rough picture.

    Parameters
    ----------
    net
        The network.
    layer
        ``1..L``; ``1`` returns the first layer's weights themselves.

    Returns
    -------
    array
        ``(n_layer, sizes[0])`` float64, one image per neuron.
    """
    if not 1 <= layer <= net.n_layers:
        raise ConfigError(f"the layer must lie in [1, {net.n_layers}], got {layer}")
    effective = net.blocks[0][:, :-1].astype(np.float64)  # (n_1, 784)
    for block in net.blocks[1:layer]:
        effective = block[:, :-1].astype(np.float64) @ effective  # (n_m, 784)
    return effective


@dataclass(frozen=True, eq=False)
class Saturation:
    """How often each neuron of one hidden layer sits in a flat part of its activation.

    The flat parts: sigmoid ``a < low`` and ``a > high``; tanh ``a < -TANH_LIMIT``
    and ``a > TANH_LIMIT`` (``f'(z) = 1 - a^2 < 0.19``); ReLU ``a == 0`` (no
    upper flat part, ``above`` is 0). All shares are fractions of the images.

    Attributes
    ----------
    layer
        The hidden layer's number (1 = first hidden layer).
    activation
        ``"sigmoid"``, ``"relu"`` or ``"tanh"``.
    n_images
        Number of images used.
    below, above
        ``(n_l,)`` share of images in the lower / upper flat part.
    saturated
        ``below + above``.
    dead
        ``(n_l,)`` share of images with the activation exactly 0 (ReLU's dead
        region; for sigmoid or tanh only float underflow or ``z == 0`` give it).
    dead_units
        ``(n_l,)`` bool: the neuron sits in the same flat part on at least
        ``dead_threshold`` of the images, so its output is (nearly) constant
        and (nearly) no gradient reaches its incoming weights.
    mean_activation
        ``(n_l,)`` the neuron's mean activation over the images.
    """

    layer: int
    activation: str
    n_images: int
    below: Array
    above: Array
    saturated: Array
    dead: Array
    dead_units: Array
    mean_activation: Array


def _limits(activation: str, low: float, high: float) -> tuple[float, float]:
    """Thresholds ``(lower, upper)``: below ``lower`` or above ``upper`` is flat."""
    if activation == "sigmoid":
        return low, high
    if activation == "tanh":
        return -TANH_LIMIT, TANH_LIMIT
    return 0.0, np.inf  # ReLU: exactly 0 is flat (a < 0 never happens)


def _sample(n: int, sample: int | None, seed: int) -> Array:
    if sample is None or sample >= n:
        return np.arange(n)
    if sample < 1:
        raise ConfigError(f"the sample size must be positive, got {sample}")
    return np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))


def saturation(
    net: Network,
    x: npt.ArrayLike,
    low: float = 0.05,
    high: float = 0.95,
    dead_threshold: float = 0.99,
    sample: int | None = None,
    seed: int = 0,
    chunk: int = 2000,
) -> list[Saturation]:
    """Saturation of every hidden layer over a set of images.

    Parameters
    ----------
    net
        The network.
    x
        Images ``(n, sizes[0])``, e.g. the training set.
    low, high
        The sigmoid's flat parts, ``0 < low < high < 1``.
    dead_threshold
        Share of images above which a neuron stuck in one flat part is dead.
    sample, seed
        Use a seeded random sample of this many images (all if ``None``).
    chunk
        Images per forward pass (bounds the memory).

    Returns
    -------
    list of Saturation
        One per hidden layer, first hidden layer first (none for a network
        without hidden layers).
    """
    if not 0.0 < low < high < 1.0:
        raise ConfigError(f"need 0 < low < high < 1, got low={low}, high={high}")
    if not 0.0 < dead_threshold <= 1.0:
        raise ConfigError(f"the dead threshold must lie in (0, 1], got {dead_threshold}")
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != net.sizes[0]:
        raise ConfigError(f"images must have shape (n, {net.sizes[0]}), got {arr.shape}")
    idx = _sample(len(arr), sample, seed)
    if idx.size == 0:
        raise ConfigError("saturation needs at least one image")
    hidden = net.sizes[1:-1]
    if not hidden:
        return []
    lower, upper = _limits(net.activation, low, high)
    sums = np.zeros((4, sum(hidden)))  # rows: below, above, exactly 0, sum of a
    for start in range(0, idx.size, max(chunk, 1)):
        sums += _chunk_counts(net, arr[idx[start : start + chunk]], lower, upper)
    shares = sums / idx.size
    return _per_layer(net, shares, idx.size, dead_threshold)


def _chunk_counts(net: Network, xs: Array, lower: float, upper: float) -> Array:
    """``(4, hidden neurons)`` counts of one chunk: below, above, zero, sum of a."""
    ws = net.workspace(len(xs))
    net.forward_into(net.check_input(xs), ws)
    a = np.concatenate(ws.a[:-1])  # (hidden neurons, chunk), neuron-major
    flat_low = (a == 0.0) if net.activation == "relu" else (a < lower)
    return np.stack(
        [
            np.count_nonzero(flat_low, axis=1),
            np.count_nonzero(a > upper, axis=1),
            np.count_nonzero(a == 0.0, axis=1),
            a.sum(axis=1, dtype=np.float64),
        ]
    )


def _per_layer(net: Network, shares: Array, n: int, dead_threshold: float) -> list[Saturation]:
    result, start = [], 0
    for l, size in enumerate(net.sizes[1:-1], start=1):
        below, above, zero, mean = (_readonly(s[start : start + size].copy()) for s in shares)
        stuck = _readonly(np.maximum(below, above) >= dead_threshold)
        saturated = _readonly(below + above)
        result.append(Saturation(l, net.activation, n, below, above, saturated, zero, stuck, mean))
        start += size
    return result

"""The network of the lessons: fully connected layers, one flat parameter vector.

All weights and biases live in ONE flat array ``theta``. Layer ``l`` owns the
block ``theta[offsets[l]:offsets[l + 1]]``, laid out neuron by neuron as an
``(n_out, n_in + 1)`` row-major matrix: row ``j`` holds the weights INTO
neuron ``j`` followed by its bias. So a first-layer neuron's 784 weights are
contiguous (its weight image), and with the activations augmented by a
constant 1 a layer is one product ``z = block @ [a; 1]``; its whole gradient is
one product too. ``weights[l]`` is the ``(n_in, n_out)`` view ``block[:, :-1].T``
and ``biases[l]`` the view ``block[:, -1]``.

Conventions (the maths contract)
--------------------------------
- ``x``: inputs, shape ``(n, sizes[0])``; ``labels``: integer classes ``(n,)``.
- Hidden layers: ``a = f(z)``, ``z = a_prev @ W + b``, with ``f`` sigmoid,
  ReLU or tanh.
- ``cost="quadratic"``: sigmoid outputs and 3Blue1Brown's cost, the sum of the
  squared differences over the output neurons, averaged over the examples:
  ``C = mean_i sum_k (a_ik - y_ik)**2``, ``y`` the one-hot label (no factor 1/2).
- ``cost="cross_entropy"``: softmax outputs, ``C = mean_i -ln a_i,label_i``,
  computed stably as ``logsumexp(z_i) - z_i,label_i``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError

Array = npt.NDArray[Any]

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "relu", "tanh")
COSTS: tuple[str, ...] = ("quadratic", "cross_entropy")
INITS: tuple[str, ...] = ("normal", "scaled")


def check_choice(kind: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"unknown {kind} {value!r}: choose one of {', '.join(allowed)}")


class Workspace:
    """Preallocated buffers for one batch size, in neuron-major layout.

    Activations are stored transposed, ``(neurons, batch)``, so every buffer a
    ufunc writes is contiguous; ``act[l]`` has a last row of ones (the bias
    input) and ``x`` (the input, batch-major) a last column of ones. Reusing the
    buffers keeps a training step free of allocations; constants are 0-d
    arrays because NumPy mixes those with arrays faster than Python floats.
    """

    def __init__(self, sizes: Sequence[int], n: int, dtype: npt.DTypeLike) -> None:
        self.n = n
        self.x = np.ones((n, sizes[0] + 1), dtype=dtype)
        self.x_view = self.x[:, :-1]
        self.half = np.array(0.5, dtype=dtype)
        self.one = np.array(1.0, dtype=dtype)
        self.zero = np.array(0.0, dtype=dtype)
        self.scale = np.array(1.0, dtype=dtype)
        self.flat = np.empty(n, dtype=np.intp)  # flat index of (label, example) in delta
        self.act = [np.ones((size + 1, n), dtype=dtype) for size in sizes[1:]]
        self.a = [act[:-1] for act in self.act]  # (size, n) contiguous views
        self.z = [np.empty((size, n), dtype=dtype) for size in sizes[1:]]
        self.delta = [np.empty((size, n), dtype=dtype) for size in sizes[1:]]
        self.tmp = [np.empty((size, n), dtype=dtype) for size in sizes[1:]]
        self.columns = np.arange(n)
        self.n_arr = np.array(n, dtype=np.intp)
        self.lse = np.empty(n, dtype=dtype)  # ln sum exp(z - max z), softmax only
        self.grad = np.empty(sum((i + 1) * o for i, o in itertools.pairwise(sizes)), dtype)


class Network:
    """A fully connected network whose parameters are one flat vector.

    Parameters
    ----------
    sizes
        Neurons per layer, input first: ``(784, 16, 16, 10)`` is the lessons' net.
    activation
        Hidden-layer activation: ``"sigmoid"``, ``"relu"`` or ``"tanh"``.
    cost
        ``"quadratic"`` (sigmoid outputs, sum of squares) or ``"cross_entropy"``
        (softmax outputs). The module docstring gives the exact formulas.
    seed
        Seed of the initialisation; the same seed gives the same network.
    init
        ``"normal"``: every weight and bias N(0, 1), as in the lessons.
        ``"scaled"``: weights N(0, 1/n_in) (He: N(0, 2/n_in) for ReLU), biases 0.
    dtype
        ``np.float32`` (default, fast) or ``np.float64`` (gradient checks).
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 16, 16, 10),
        activation: str = "sigmoid",
        cost: str = "quadratic",
        seed: int = 0,
        init: str = "normal",
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        self.sizes: tuple[int, ...] = tuple(int(s) for s in sizes)
        if len(self.sizes) < 2 or any(s < 1 for s in self.sizes):
            raise ConfigError(f"layer sizes must be two or more positive numbers, got {sizes}")
        if self.sizes[-1] < 2:
            raise ConfigError("the output layer needs at least two neurons (classes)")
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("cost", cost, COSTS)
        self.activation: str = activation
        self.cost: str = cost
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype}")
        blocks = [(i + 1) * o for i, o in itertools.pairwise(self.sizes)]
        self.offsets: tuple[int, ...] = tuple(int(v) for v in np.cumsum([0, *blocks]))
        self._theta = np.zeros(self.offsets[-1], dtype=self.dtype)
        self._make_views()
        self.initialize(seed, init)

    def _make_views(self) -> None:
        self.blocks: list[Array] = [
            self._theta[self.offsets[l] : self.offsets[l + 1]].reshape(n_out, n_in + 1)
            for l, (n_in, n_out) in enumerate(itertools.pairwise(self.sizes))
        ]
        self.weights: list[Array] = [b[:, :-1].T for b in self.blocks]  # (n_in, n_out)
        self.biases: list[Array] = [b[:, -1] for b in self.blocks]  # (n_out,)
        self._workspaces: dict[int, Workspace] = {}

    # ------------------------------------------------------------------ parameters
    @property
    def theta(self) -> Array:
        """All parameters in one flat array; the layer views share its memory."""
        return self._theta

    @theta.setter
    def theta(self, value: npt.ArrayLike) -> None:
        new = np.asarray(value)
        if new.shape != self._theta.shape:
            raise ConfigError(
                f"theta must have shape {self._theta.shape} for sizes "
                f"{'-'.join(map(str, self.sizes))}, got {new.shape}"
            )
        np.copyto(self._theta, new, casting="same_kind")

    @property
    def n_params(self) -> int:
        """Number of parameters (13,002 for 784-16-16-10)."""
        return int(self._theta.size)

    @property
    def n_layers(self) -> int:
        """Number of weight layers (3 for 784-16-16-10)."""
        return len(self.blocks)

    def initialize(self, seed: int = 0, init: str = "normal") -> None:
        """Draw new parameters in place (``init`` as in the class docstring)."""
        check_choice("initialisation", init, INITS)
        rng = np.random.default_rng(seed)
        for w, b in zip(self.weights, self.biases, strict=True):
            if init == "normal":
                w[...] = rng.standard_normal(w.shape)
                b[...] = rng.standard_normal(b.shape)
            else:
                gain = 2.0 if self.activation == "relu" else 1.0
                w[...] = rng.standard_normal(w.shape) * math.sqrt(gain / w.shape[0])
                b[...] = 0.0

    def copy(self, dtype: npt.DTypeLike | None = None) -> Network:
        """An independent copy, optionally in another float type."""
        other = Network.__new__(Network)
        other.sizes, other.activation, other.cost = self.sizes, self.activation, self.cost
        other.dtype = np.dtype(dtype or self.dtype)
        other.offsets = self.offsets
        other._theta = self._theta.astype(other.dtype, copy=True)
        other._make_views()
        return other

    def same_architecture(self, other: Network) -> bool:
        """Whether ``other`` has the same sizes, activation and cost."""
        return (self.sizes, self.activation, self.cost) == (
            other.sizes,
            other.activation,
            other.cost,
        )

    def describe(self) -> str:
        """A short description, e.g. ``784-16-16-10 sigmoid, quadratic cost``."""
        cost = self.cost.replace("_", "-")
        return f"{'-'.join(map(str, self.sizes))} {self.activation}, {cost} cost"

    # ------------------------------------------------------------------ forward
    def workspace(self, n: int) -> Workspace:
        """Buffers for batches of ``n`` examples (a few sizes are cached)."""
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= 8:
                self._workspaces.clear()
            ws = self._workspaces[n] = Workspace(self.sizes, n, self.dtype)
        return ws

    def check_input(self, x: npt.ArrayLike) -> Array:
        """``x`` as a C-contiguous ``(n, sizes[0])`` array of this net's dtype."""
        arr = np.asarray(x)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.sizes[0]:
            raise ConfigError(f"input must have shape (n, {self.sizes[0]}), got {np.shape(x)}")
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def check_labels(self, labels: npt.ArrayLike, n: int) -> Array:
        """``labels`` as ``n`` integers in ``[0, sizes[-1])``."""
        lab = np.asarray(labels)
        if lab.shape != (n,) or not np.issubdtype(lab.dtype, np.integer):
            raise ConfigError(f"labels must be {n} integers, got shape {lab.shape} {lab.dtype}")
        if n and (lab.min() < 0 or lab.max() >= self.sizes[-1]):
            raise ConfigError(
                f"labels must lie in [0, {self.sizes[-1]}), got {lab.min()}..{lab.max()}"
            )
        return lab.astype(np.intp, copy=False)

    def _hidden(self, z: Array, out: Array, ws: Workspace) -> None:
        """``out = f(z)`` for the hidden activation (``z`` may be overwritten)."""
        if self.activation == "sigmoid":
            _sigmoid(z, out, ws)
        elif self.activation == "relu":
            np.maximum(z, ws.zero, out=out)
        else:
            np.tanh(z, out=out)

    def _hidden_derivative(self, a: Array, delta: Array, tmp: Array, ws: Workspace) -> None:
        """``delta *= f'(z)``, with ``f'`` written in terms of the output ``a = f(z)``."""
        if self.activation == "sigmoid":
            _sigmoid_derivative(a, delta, tmp, ws)
            return
        if self.activation == "relu":
            np.greater(a, ws.zero, out=tmp, casting="unsafe")
        else:
            np.multiply(a, a, out=tmp)
            np.subtract(ws.one, tmp, out=tmp)
        np.multiply(delta, tmp, out=delta)

    def _output(self, z: Array, out: Array, ws: Workspace) -> None:
        """Sigmoid outputs (quadratic cost) or softmax (cross-entropy).

        For softmax ``z`` is left holding ``z - max z`` per example and
        ``ws.lse`` receives ``ln sum exp(z - max z)``, so ``-ln a_y = lse - z_y``.
        """
        if self.cost == "quadratic":
            _sigmoid(z, out, ws)
            return
        np.subtract(z, z.max(axis=0), out=z)
        np.exp(z, out=out)
        sums = out.sum(axis=0)
        np.divide(out, sums, out=out)
        np.log(sums, out=ws.lse)

    def forward_into(self, x: Array, ws: Workspace) -> None:
        """Forward pass of a validated ``(ws.n, sizes[0])`` batch into ``ws``."""
        np.copyto(ws.x_view, x)
        last = self.n_layers - 1
        for l, block in enumerate(self.blocks):
            np.matmul(block, ws.x.T if l == 0 else ws.act[l - 1], out=ws.z[l])
            if l < last:
                self._hidden(ws.z[l], ws.a[l], ws)
            else:
                self._output(ws.z[l], ws.a[l], ws)

    def forward(self, x: npt.ArrayLike) -> list[Array]:
        """Activations of every layer, input first.

        Parameters
        ----------
        x
            Inputs ``(n, sizes[0])``; a single ``(sizes[0],)`` vector counts as
            ``n = 1``.

        Returns
        -------
        list of arrays
            ``[x, a1, ..., aL]``, each ``(n, sizes[l])``, freshly allocated.
        """
        arr = self.check_input(x)
        ws = self.workspace(len(arr))
        self.forward_into(arr, ws)
        return [arr, *(a.T.copy() for a in ws.a)]

    def output(self, x: npt.ArrayLike) -> Array:
        """The output activations for ``x``, shape ``(n, sizes[-1])``."""
        return self.forward(x)[-1]

    def predict(self, x: npt.ArrayLike) -> Array:
        """The index of the most active output neuron for each example."""
        return np.argmax(self.output(x), axis=1)

    # ------------------------------------------------------------------ cost and gradient
    def _cost_and_delta(self, labels: Array, ws: Workspace, grad_scale: float) -> float:
        """Summed cost of the batch in ``ws``; ``ws.delta[-1] = grad_scale * dC_sum/dz``."""
        a, delta = ws.a[-1], ws.delta[-1]
        np.copyto(delta, a)
        np.multiply(labels, ws.n_arr, out=ws.flat)
        np.add(ws.flat, ws.columns, out=ws.flat)
        delta.reshape(-1)[ws.flat] -= ws.one  # a - y, y one-hot
        ws.scale[...] = grad_scale
        if self.cost == "quadratic":
            cost = float(np.vdot(delta, delta))
            _sigmoid_derivative(a, delta, ws.tmp[-1], ws)
            ws.scale *= 2.0  # d/da of a sum of squares is 2 (a - y)
            np.multiply(delta, ws.scale, out=delta)
            return cost
        # softmax with cross-entropy: dC/dz = a - y
        cost = float(ws.lse.sum()) - float(ws.z[-1].reshape(-1)[ws.flat].sum())
        np.multiply(delta, ws.scale, out=delta)
        return cost

    def backprop(self, x: Array, labels: Array, ws: Workspace, grad_scale: float) -> float:
        """Forward and backward pass of one batch; the fast path of training.

        Parameters
        ----------
        x, labels
            A validated batch of ``ws.n`` examples.
        ws
            Buffers from :meth:`workspace`; ``ws.grad`` receives
            ``grad_scale * d(summed cost)/d(theta)``.
        grad_scale
            ``1/n`` gives the gradient of the mean cost; a trainer folds its
            learning rate in here so that the update is a single subtraction.

        Returns
        -------
        float
            The cost summed over the batch.
        """
        self.forward_into(x, ws)
        cost = self._cost_and_delta(labels, ws, grad_scale)
        for l in range(self.n_layers - 1, -1, -1):
            gblock = ws.grad[self.offsets[l] : self.offsets[l + 1]].reshape(self.blocks[l].shape)
            if l == 0:
                np.matmul(ws.delta[0], ws.x, out=gblock)
                break
            np.matmul(ws.delta[l], ws.act[l - 1].T, out=gblock)
            np.matmul(self.blocks[l][:, :-1].T, ws.delta[l], out=ws.delta[l - 1])
            self._hidden_derivative(ws.a[l - 1], ws.delta[l - 1], ws.tmp[l - 1], ws)
        return cost

    def cost_and_gradient(self, x: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[float, Array]:
        """Mean cost of a batch and its gradient, by vectorised backpropagation.

        The whole batch goes through each layer as one matrix product; there is
        no loop over examples.

        Parameters
        ----------
        x
            Inputs ``(n, sizes[0])``.
        labels
            Integer classes ``(n,)`` in ``[0, sizes[-1])``.

        Returns
        -------
        cost : float
            The mean cost (formulas in the module docstring).
        gradient : array
            dC/dtheta, a new flat array shaped like ``theta``.
        """
        arr = self.check_input(x)
        lab = self.check_labels(labels, len(arr))
        ws = self.workspace(len(arr))
        cost = self.backprop(arr, lab, ws, 1.0 / len(arr))
        return cost / len(arr), ws.grad.copy()

    def evaluate(
        self, x: npt.ArrayLike, labels: npt.ArrayLike, chunk: int = 2000
    ) -> tuple[float, Array]:
        """Mean cost and the output activations of a whole data set.

        Same formulas as training; evaluated in chunks of ``chunk`` examples.

        Returns
        -------
        cost : float
            The mean cost.
        outputs : array
            ``(n, sizes[-1])`` output activations (float32 for a float32 net).
        """
        arr = self.check_input(x)
        lab = self.check_labels(labels, len(arr))
        outputs = np.empty((len(arr), self.sizes[-1]), dtype=self.dtype)
        total = 0.0
        for start in range(0, len(arr), chunk):
            xs, ys = arr[start : start + chunk], lab[start : start + chunk]
            ws = self.workspace(len(xs))
            self.forward_into(xs, ws)
            outputs[start : start + len(xs)] = ws.a[-1].T
            total += self._cost_and_delta(ys, ws, 0.0)
        return total / max(len(arr), 1), outputs

    def cost_of(self, x: npt.ArrayLike, labels: npt.ArrayLike) -> float:
        """Mean cost over a batch or data set (no gradient)."""
        return self.evaluate(x, labels)[0]


def _sigmoid(z: Array, out: Array, ws: Workspace) -> None:
    """``out = 1 / (1 + exp(-z))``, computed as ``(1 + tanh(z/2)) / 2``.

    The tanh form cannot overflow (no warnings for large ``|z|``). ``z`` is
    overwritten.
    """
    np.multiply(z, ws.half, out=z)
    np.tanh(z, out=z)
    np.multiply(z, ws.half, out=out)
    np.add(out, ws.half, out=out)


def _sigmoid_derivative(a: Array, delta: Array, tmp: Array, ws: Workspace) -> None:
    """``delta *= a * (1 - a)``: the sigmoid's derivative at the output ``a``."""
    np.subtract(ws.one, a, out=tmp)
    np.multiply(tmp, a, out=tmp)
    np.multiply(delta, tmp, out=delta)

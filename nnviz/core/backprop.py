"""Backpropagation as "desired nudges" for one example (3Blue1Brown, chapter 3).

For one input ``x`` and its target class ``t`` (one-hot ``y``), with layers
numbered as in the lessons, ``l = 0`` the input and ``l = L`` the output::

    z_l = W_l a_{l-1} + b_l        W_l: (n_l, n_{l-1}), neuron-major like Network.blocks
    a_l = f(z_l)                   f: the hidden activation; sigmoid or softmax at l = L

The backward pass, in the lessons' words "what the cost wants each neuron to do":

- ``dC_da[l] = dC/da_l``. At the output it is the partial derivative of the
  cost with the activations treated as free variables: ``2 (a_L - y)`` for the
  quadratic cost ``C = sum_k (a_Lk - y_k)**2`` and ``-y / a_L`` (non-zero only
  at the target) for softmax with ``C = -ln a_Lt``. For a hidden layer (and
  for the input pixels, ``l = 0``) it is the sum of the wishes of all
  next-layer neurons: ``dC_da[l][j] = sum_k W_{l+1}[k, j] delta[l+1][k]``
  (:func:`wish_sources` returns the terms).
- ``delta[l] = dC/dz_l = J_l^T dC_da[l]`` with ``J_l = da_l/dz_l``: ``f'(z_l)``
  elementwise for sigmoid, ReLU and tanh, and for softmax the full Jacobian
  ``diag(a) - a a^T``, which gives ``delta[L] = a_L - y``.
- ``nabla_b[l] = delta[l]`` and ``nabla_w[l] = outer(delta[l], a[l-1])``; the
  SGD step moves every parameter by ``-eta * nabla``.

Softmax outputs are coupled (they sum to 1), so ``-dC_da[L]`` (pull the target
up, leave the others) is not what the lessons draw. ``Nudges.wish_out`` is the
desired change of the outputs as the lessons draw it, up for the target and
down for the rest: ``-delta[L] = y - a`` for softmax (the steepest-descent
direction of the output pre-activations) and ``-dC_da[L] = 2 (y - a)`` for the
quadratic cost. Either way the hidden layers' wishes are built from
``delta[L]``, so the decomposition of :func:`wish_sources` holds exactly.

Everything here runs in float64 on a float64 copy of the parameters, whatever
the network's own dtype.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError
from nnviz.core.network import Network

Array = npt.NDArray[Any]


def _frozen(arr: Array) -> Array:
    """``arr`` as a read-only float64 array (a copy unless it is already one)."""
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


_EMPTY = _frozen(np.empty(0))
_EMPTY_2D = _frozen(np.empty((0, 0)))


def check_example(net: Network, x: npt.ArrayLike) -> Array:
    """One input as a new float64 ``(sizes[0],)`` vector (a ``(1, sizes[0])`` row is accepted)."""
    arr = np.array(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.shape != (net.sizes[0],):
        raise ConfigError(f"one input of shape ({net.sizes[0]},) is needed, got {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError("the input contains NaN or infinite values")
    return arr


def check_class(net: Network, k: object, what: str = "target") -> int:
    """``k`` as a class index in ``[0, sizes[-1])``."""
    try:
        value = operator.index(k)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigError(f"the {what} class must be an integer, got {k!r}") from None
    if isinstance(k, bool) or not 0 <= value < net.sizes[-1]:
        raise ConfigError(f"the {what} class must lie in [0, {net.sizes[-1]}), got {k!r}")
    return value


def _sigmoid(z: Array) -> Array:
    """``1 / (1 + exp(-z))`` as ``(1 + tanh(z/2)) / 2`` (no overflow), like the network."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


@dataclass(frozen=True, eq=False)
class Layers64:
    """A float64 snapshot of a network's parameters, indexed by layer number.

    Attributes
    ----------
    w
        ``w[l]`` is ``W_l``, ``(n_l, n_{l-1})`` neuron-major, for ``l = 1..L``;
        ``w[0]`` is an empty placeholder so that the index is the layer number.
    b
        ``b[l]``, ``(n_l,)``; ``b[0]`` empty.
    activation, cost
        As in :class:`~nnviz.core.network.Network`.
    """

    w: tuple[Array, ...]
    b: tuple[Array, ...]
    activation: str
    cost: str

    @classmethod
    def of(cls, net: Network) -> Layers64:
        """Copy ``net``'s current parameters in float64."""
        w = (_EMPTY_2D, *(_frozen(block[:, :-1]) for block in net.blocks))
        b = (_EMPTY, *(_frozen(block[:, -1]) for block in net.blocks))
        return cls(w, b, net.activation, net.cost)

    @property
    def n_layers(self) -> int:
        """``L``, the number of weight layers."""
        return len(self.w) - 1

    def forward(self, x: Array) -> tuple[list[Array], list[Array]]:
        """``(z, a)`` of one example: ``a[0] = x``; ``z[0]`` is empty."""
        z, a = [_EMPTY], [x]
        for l in range(1, self.n_layers + 1):
            z.append(self.w[l] @ a[-1] + self.b[l])
            a.append(self._hidden(z[-1]) if l < self.n_layers else self._output(z[-1]))
        return z, a

    def _hidden(self, z: Array) -> Array:
        if self.activation == "sigmoid":
            return _sigmoid(z)
        if self.activation == "relu":
            return np.maximum(z, 0.0)
        return np.tanh(z)

    def _output(self, z: Array) -> Array:
        if self.cost == "quadratic":
            return _sigmoid(z)
        e: Array = np.exp(z - z.max())
        e /= e.sum()
        return e

    def hidden_derivative(self, a: Array) -> Array:
        """``f'(z)`` written with the activation ``a = f(z)`` (ReLU: 0 at ``z = 0``)."""
        if self.activation == "sigmoid":
            return a * (1.0 - a)
        if self.activation == "relu":
            return (a > 0.0).astype(np.float64)
        return 1.0 - a * a

    def backward(self, a: list[Array], delta_out: Array) -> tuple[list[Array], list[Array]]:
        """Backpropagate ``delta_out = dS/dz_L`` of any scalar ``S`` of the outputs.

        Returns
        -------
        delta, grad_a : lists of arrays
            ``delta[l] = dS/dz_l`` (``delta[0]`` empty) and ``grad_a[l] = dS/da_l``
            for ``l < L`` (``grad_a[0]`` is ``dS/dx``; ``grad_a[L]`` is empty, the
            output's own derivative depends on ``S``).
        """
        L = self.n_layers
        delta: list[Array] = [_EMPTY] * (L + 1)
        grad_a: list[Array] = [_EMPTY] * (L + 1)
        delta[L] = delta_out
        for l in range(L - 1, -1, -1):
            grad_a[l] = self.w[l + 1].T @ delta[l + 1]  # the sum of the next layer's wishes
            if l > 0:
                delta[l] = grad_a[l] * self.hidden_derivative(a[l])
        return delta, grad_a


@dataclass(frozen=True, eq=False)
class Nudges:
    """The backward pass of one example, layer by layer (all float64, read-only).

    Every tuple is indexed by the layer number ``l = 0..L`` (0 = input). The
    input layer has no pre-activation and no parameters, so ``z[0]``,
    ``delta[0]``, ``nabla_b[0]`` and ``nabla_w[0]`` are empty arrays.

    Attributes
    ----------
    target
        The target class ``t``.
    cost
        The example's cost ``C`` (network's cost function, one example).
    a, z
        Activations ``a[l]`` (``a[0] = x``) and pre-activations ``z[l]``.
    dC_da
        ``dC/da_l``; ``dC_da[0]`` is the gradient with respect to the pixels.
        The wished-for move of an activation is ``-dC_da`` (module docstring).
    delta
        ``dC/dz_l``.
    nabla_w, nabla_b
        ``dC/dW_l = outer(delta[l], a[l-1])`` ``(n_l, n_{l-1})`` and
        ``dC/db_l = delta[l]``.
    wish_out
        Desired change of the outputs: ``y - a_L`` (softmax) or ``2 (y - a_L)``
        (quadratic); up for the target, down for the rest.
    weights
        ``W_l`` at the time of the pass (``weights[0]`` empty), for
        :func:`wish_sources`.
    """

    target: int
    cost: float
    a: tuple[Array, ...]
    z: tuple[Array, ...]
    dC_da: tuple[Array, ...]
    delta: tuple[Array, ...]
    nabla_w: tuple[Array, ...]
    nabla_b: tuple[Array, ...]
    wish_out: Array
    weights: tuple[Array, ...]

    @property
    def n_layers(self) -> int:
        """``L``, the number of weight layers."""
        return len(self.weights) - 1

    def wish(self, l: int) -> Array:
        """Desired move of layer ``l``'s activations: ``-dC_da[l]``, or ``wish_out`` at ``L``."""
        if not 0 <= l <= self.n_layers:
            raise ConfigError(f"the layer must lie in [0, {self.n_layers}], got {l}")
        return self.wish_out if l == self.n_layers else -self.dC_da[l]

    def flat_gradient(self) -> Array:
        """``dC/dtheta`` in the network's flat layout (each block ``[nabla_w | nabla_b]``)."""
        parts = [
            np.column_stack([self.nabla_w[l], self.nabla_b[l]]).ravel()
            for l in range(1, self.n_layers + 1)
        ]
        return np.concatenate(parts)


def _output_terms(
    layers: Layers64, z: Array, a: Array, target: int
) -> tuple[float, Array, Array, Array]:
    """``(C, dC/da_L, delta_L, wish_out)`` of one example at the output layer."""
    y = np.zeros_like(a)
    y[target] = 1.0
    if layers.cost == "quadratic":
        dC_da = 2.0 * (a - y)
        return float(np.sum((a - y) ** 2)), dC_da, dC_da * a * (1.0 - a), -dC_da
    m = float(z.max())
    cost = m + float(np.log(np.sum(np.exp(z - m)))) - float(z[target])  # -ln a_t, stably
    dC_da = np.zeros_like(a)
    with np.errstate(over="ignore"):
        dC_da[target] = -np.exp(cost)  # -1 / a_t
    return cost, dC_da, a - y, y - a


def nudges(net: Network, x: npt.ArrayLike, target: int) -> Nudges:
    """Backpropagation of one example's cost, kept layer by layer.

    Parameters
    ----------
    net
        The network (any dtype; the pass runs in float64).
    x
        One input, ``(sizes[0],)``.
    target
        The desired class.

    Returns
    -------
    Nudges
        Activations, ``dC/da``, ``delta = dC/dz`` and the parameter gradients of
        every layer; the maths is in the module docstring.
    """
    arr = check_example(net, x)
    t = check_class(net, target)
    layers = Layers64.of(net)
    z, a = layers.forward(arr)
    L = layers.n_layers
    cost, dC_da_out, delta_out, wish_out = _output_terms(layers, z[L], a[L], t)
    delta, dC_da = layers.backward(a, delta_out)
    dC_da[L] = dC_da_out
    nabla_w = [_EMPTY_2D, *(np.outer(delta[l], a[l - 1]) for l in range(1, L + 1))]
    return Nudges(
        target=t,
        cost=cost,
        a=tuple(map(_frozen, a)),
        z=tuple(map(_frozen, z)),
        dC_da=tuple(map(_frozen, dC_da)),
        delta=tuple(map(_frozen, delta)),
        nabla_w=tuple(map(_frozen, nabla_w)),
        nabla_b=tuple(map(_frozen, delta)),
        wish_out=_frozen(wish_out),
        weights=layers.w,
    )


def wish_sources(result: Nudges, l: int, j: int) -> Array:
    """Where neuron ``j`` of layer ``l`` gets its wish from, next-layer neuron by neuron.

    Parameters
    ----------
    result
        A backward pass from :func:`nudges`.
    l
        A layer below the output, ``0 <= l < L`` (0: ``j`` is a pixel).
    j
        A neuron of layer ``l``.

    Returns
    -------
    array
        ``(n_{l+1},)`` float64: term ``k`` is ``W_{l+1}[k, j] * delta[l+1][k]``,
        next-layer neuron ``k``'s wish for ``a_l[j]``. The terms sum to
        ``dC_da[l][j]`` (up to float rounding).
    """
    L = result.n_layers
    if not 0 <= l < L:
        raise ConfigError(f"the layer must lie in [0, {L}) (its wishes come from layer l + 1)")
    n = result.a[l].size
    if not 0 <= j < n:
        raise ConfigError(f"layer {l} has {n} neurons, got neuron {j}")
    return np.asarray(result.weights[l + 1][:, j] * result.delta[l + 1])


@dataclass(frozen=True, eq=False)
class StepResult:
    """One SGD step on a single example, with what is needed to undo it.

    Attributes
    ----------
    target, eta
        The example's class and the learning rate.
    theta_before
        A copy of the parameters before the step (the network's dtype).
    gradient
        ``dC/dtheta`` of the example's cost (the network's dtype); the step was
        ``theta -= eta * gradient``.
    outputs_before, outputs_after
        The output activations, float64 ``(sizes[-1],)``.
    cost_before, cost_after
        The example's cost before and after the step.
    """

    target: int
    eta: float
    theta_before: Array
    gradient: Array
    outputs_before: Array
    outputs_after: Array
    cost_before: float
    cost_after: float

    @property
    def cost_change(self) -> float:
        """``cost_after - cost_before`` (negative when the step helped)."""
        return self.cost_after - self.cost_before


def single_example_step(net: Network, x: npt.ArrayLike, target: int, eta: float) -> StepResult:
    """Apply exactly one SGD step on one example: ``theta -= eta * dC/dtheta``.

    The gradient is ``net.cost_and_gradient(x[None], [target])``, the very
    gradient training uses, in the network's dtype. ``net.theta`` changes in
    place; :func:`undo` puts it back.

    Raises
    ------
    ConfigError
        For a bad input, class, or a learning rate that is not a positive number.
    """
    arr = check_example(net, x)[None, :]
    t = check_class(net, target)
    if not (np.isfinite(eta) and eta > 0):
        raise ConfigError(f"the learning rate must be a positive number, got {eta}")
    labels = np.array([t])
    theta_before = net.theta.copy()
    outputs_before = net.output(arr)[0].astype(np.float64)
    cost_before, gradient = net.cost_and_gradient(arr, labels)
    np.subtract(net.theta, eta * gradient, out=net.theta, casting="same_kind")
    cost_after, outputs = net.evaluate(arr, labels)
    return StepResult(
        target=t,
        eta=float(eta),
        theta_before=theta_before,
        gradient=gradient,
        outputs_before=outputs_before,
        outputs_after=outputs[0].astype(np.float64),
        cost_before=cost_before,
        cost_after=cost_after,
    )


def undo(net: Network, result: StepResult) -> None:
    """Restore the parameters from before ``result``'s step (exactly)."""
    net.theta = result.theta_before

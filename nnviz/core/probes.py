"""Input probes: poke a 28x28 input and watch the prediction.

Images are ``(784,)`` vectors in [0, 1] (row-major 28x28, as MNIST); every
function returns a new float64 image and leaves its input alone.

- Transformations: :func:`add_noise`, :func:`shift`, :func:`rotate`, with
  :func:`compare` for the prediction before and after.
- :func:`input_gradient`: how each pixel moves the class score, by
  backpropagation down to the input.
- :func:`nudge_towards`: the smallest-looking change that flips the prediction
  (fast-gradient-sign steps).
- :func:`dream`: the image the network finds most like a class, grown from
  noise or from a blank image (it need not look like a digit).

The class score ``S_k`` these use: ``ln p_k`` (the log-probability) for a
softmax network, ``a_k`` (the output activation) for a sigmoid (quadratic-cost)
network. Recorded trajectories report ``p_k`` or ``a_k`` itself, the number
the output bars show; ``p_k`` and ``ln p_k`` rise and fall together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.backprop import Layers64, check_class, check_example
from nnviz.core.errors import ConfigError
from nnviz.core.network import Network

Array = npt.NDArray[Any]

SIDE = 28
#: A pixel counts as changed when it moved by more than this.
CHANGE_TOLERANCE = 1e-6


def _image(x: npt.ArrayLike) -> Array:
    """``x`` as a float64 ``(784,)`` copy."""
    arr = np.array(x, dtype=np.float64)
    if arr.shape != (SIDE * SIDE,):
        raise ConfigError(f"an image must have shape ({SIDE * SIDE},), got {arr.shape}")
    return arr


# ---------------------------------------------------------------- transformations


def add_noise(x: npt.ArrayLike, strength: float, seed: int = 0) -> Array:
    """``clip(x + strength * N(0, 1), 0, 1)``: Gaussian noise of standard deviation ``strength``."""
    if not (math.isfinite(strength) and strength >= 0):
        raise ConfigError(f"the noise strength must be >= 0, got {strength}")
    noise = np.random.default_rng(seed).standard_normal(SIDE * SIDE)
    return np.clip(_image(x) + strength * noise, 0.0, 1.0)


def shift(x: npt.ArrayLike, dy: int, dx: int) -> Array:
    """Move the image by whole pixels (``dy`` down, ``dx`` right); uncovered pixels are 0."""
    img = _image(x).reshape(SIDE, SIDE)
    out = np.zeros_like(img)
    dy, dx = int(dy), int(dx)
    if abs(dy) < SIDE and abs(dx) < SIDE:
        src = img[max(-dy, 0) : SIDE - max(dy, 0), max(-dx, 0) : SIDE - max(dx, 0)]
        out[max(dy, 0) : SIDE - max(-dy, 0), max(dx, 0) : SIDE - max(-dx, 0)] = src
    return out.ravel()


def rotate(x: npt.ArrayLike, degrees: float) -> Array:
    """Rotate about the image centre, counter-clockwise as seen on screen.

    Each output pixel samples the input at the inversely rotated position
    with bilinear interpolation; positions outside the image read 0.
    """
    if not math.isfinite(degrees):
        raise ConfigError(f"the angle must be a finite number, got {degrees}")
    padded = np.pad(_image(x).reshape(SIDE, SIDE), 1)  # zero border for the fill
    t = math.radians(degrees)
    c = (SIDE - 1) / 2
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    u, v = cols - c, c - rows  # x right, y up
    # source = R(-t) (u, v)
    src_col = math.cos(t) * u + math.sin(t) * v + c + 1
    src_row = c - (-math.sin(t) * u + math.cos(t) * v) + 1
    return _bilinear(padded, src_row, src_col).ravel()


def _bilinear(img: Array, r: Array, c: Array) -> Array:
    """Sample ``img`` at float positions; outside it the (zero) border is read."""
    last = img.shape[0] - 1
    r, c = np.clip(r, 0, last), np.clip(c, 0, last)
    r0 = np.minimum(np.floor(r).astype(np.intp), last - 1)
    c0 = np.minimum(np.floor(c).astype(np.intp), last - 1)
    fr, fc = r - r0, c - c0
    top = img[r0, c0] * (1 - fc) + img[r0, c0 + 1] * fc
    bottom = img[r0 + 1, c0] * (1 - fc) + img[r0 + 1, c0 + 1] * fc
    return np.asarray(top * (1 - fr) + bottom * fr)


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """The prediction for an image before and after a probe.

    Attributes
    ----------
    before_probs, after_probs
        Output activations, float64 ``(sizes[-1],)``.
    before_label, after_label
        The predicted classes.
    """

    before_probs: Array
    after_probs: Array
    before_label: int
    after_label: int

    @property
    def changed(self) -> bool:
        """Whether the predicted class changed."""
        return self.before_label != self.after_label


def compare(net: Network, x: npt.ArrayLike, x_after: npt.ArrayLike) -> ProbeResult:
    """Classify ``x`` and ``x_after`` (e.g. ``rotate(x, 20)``) with ``net``."""
    layers = Layers64.of(net)
    before = layers.forward(check_example(net, x))[1][-1]
    after = layers.forward(check_example(net, x_after))[1][-1]
    return ProbeResult(before, after, int(np.argmax(before)), int(np.argmax(after)))


# ---------------------------------------------------------------- gradients


def _score_delta(layers: Layers64, out: Array, k: int) -> Array:
    """``dS_k/dz_L``: ``e_k - a`` for ``S_k = ln p_k``; ``a_k (1 - a_k) e_k`` for ``S_k = a_k``."""
    if layers.cost == "cross_entropy":
        delta = -out
        delta[k] += 1.0
        return delta
    delta = np.zeros_like(out)
    delta[k] = out[k] * (1.0 - out[k])
    return delta


def _outputs_and_gradient(layers: Layers64, x: Array, k: int) -> tuple[Array, Array]:
    """The outputs at ``x`` and ``dS_k/dx``."""
    _, a = layers.forward(x)
    _, grad_a = layers.backward(a, _score_delta(layers, a[-1], k))
    return a[-1], grad_a[0]


def input_gradient(net: Network, x: npt.ArrayLike, k: int) -> Array:
    """``dS_k/dx``: how the class score moves with each pixel, by backpropagation.

    ``S_k = ln p_k`` for a softmax network and ``S_k = a_k`` for a sigmoid
    (quadratic-cost) network (module docstring). ``x`` is not clipped or
    checked to lie in [0, 1].

    Returns
    -------
    array
        ``(sizes[0],)`` float64.
    """
    return _outputs_and_gradient(Layers64.of(net), check_example(net, x), check_class(net, k))[1]


# ---------------------------------------------------------------- nudging and dreaming


@dataclass(frozen=True, eq=False)
class NudgeResult:
    """What :func:`nudge_towards` did.

    Attributes
    ----------
    target
        The class ``k`` aimed for.
    original, image
        The starting and the final image, float64 ``(784,)`` in [0, 1].
    steps
        Steps taken (0 if the image was already classified as ``k``).
    reached
        Whether the final image is classified as ``k``.
    scores
        ``(steps + 1,)`` ``p_k`` (softmax) or ``a_k`` (sigmoid) before each step
        and at the end.
    probs_before, probs_after
        Output activations for the original and the final image.
    linf, l2, mean_abs
        Size of the change ``image - original``: largest, Euclidean and mean
        absolute pixel change.
    changed_pixels
        Pixels that moved by more than :data:`CHANGE_TOLERANCE`.
    """

    target: int
    original: Array
    image: Array
    steps: int
    reached: bool
    scores: Array
    probs_before: Array
    probs_after: Array
    linf: float
    l2: float
    mean_abs: float
    changed_pixels: int


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number, got {value}")
    return float(value)


def _count(name: str, value: int) -> int:
    if int(value) != value or value < 0:
        raise ConfigError(f"{name} must be a whole number >= 0, got {value}")
    return int(value)


def nudge_towards(
    net: Network, x: npt.ArrayLike, k: int, step: float = 0.01, max_steps: int = 500
) -> NudgeResult:
    """Push an image towards class ``k`` until the network says ``k``.

    Fast-gradient-sign steps, ``x <- clip(x + step * sign(dS_k/dx), 0, 1)``,
    until the predicted class is ``k`` or ``max_steps`` steps are done. Every
    pixel moves by at most ``step`` per step, so the change stays faint.

    Parameters
    ----------
    net
        The network.
    x
        The starting image ``(784,)`` in [0, 1].
    k
        The class to reach.
    step
        Pixel change per step.
    max_steps
        Give up after this many steps.
    """
    layers, t = Layers64.of(net), check_class(net, k)
    original = check_example(net, x)
    eta, limit = _positive("the step", step), _count("max_steps", max_steps)
    img = original
    _, a = layers.forward(img)
    probs_before, scores, n = a[-1], [a[-1][t]], 0
    while int(np.argmax(a[-1])) != t and n < limit:
        _, grad_a = layers.backward(a, _score_delta(layers, a[-1], t))
        img = np.clip(img + eta * np.sign(grad_a[0]), 0.0, 1.0)
        _, a = layers.forward(img)
        scores.append(a[-1][t])
        n += 1
    change = np.abs(img - original)
    return NudgeResult(
        target=t,
        original=original,
        image=img,
        steps=n,
        reached=int(np.argmax(a[-1])) == t,
        scores=np.array(scores),
        probs_before=probs_before,
        probs_after=a[-1],
        linf=float(change.max()),
        l2=float(np.sqrt(np.sum(change**2))),
        mean_abs=float(change.mean()),
        changed_pixels=int(np.count_nonzero(change > CHANGE_TOLERANCE)),
    )


@dataclass(frozen=True, eq=False)
class DreamResult:
    """What :func:`dream` grew.

    Attributes
    ----------
    target
        The class ``k`` dreamt of.
    start, image
        The first and the final image, float64 ``(784,)`` in [0, 1].
    scores
        ``(steps + 1,)`` ``p_k`` (softmax) or ``a_k`` (sigmoid) at the start
        and after each step.
    objective
        ``(steps + 1,)`` the ascended ``G = S_k - penalty * sum(x^2)``; never
        decreases.
    probs
        Output activations for the final image.
    label
        The class the network predicts for the final image.
    """

    target: int
    start: Array
    image: Array
    scores: Array
    objective: Array
    probs: Array
    label: int


def _start_image(start: str, seed: int, n: int) -> Array:
    if start == "noise":
        return np.random.default_rng(seed).random(n)
    if start == "blank":
        return np.zeros(n)
    raise ConfigError(f"the dream starts from 'noise' or 'blank', got {start!r}")


class _Ascent:
    """The dream's objective ``G(x) = S_k(x) - penalty * sum(x^2)`` at one image."""

    def __init__(self, layers: Layers64, k: int, penalty: float, x: Array) -> None:
        self.layers, self.k, self.penalty, self.x = layers, k, penalty, x
        _, self.a = layers.forward(x)
        out = self.a[-1]
        score = math.log(max(out[k], 1e-300)) if layers.cost == "cross_entropy" else out[k]
        self.value = float(score - penalty * np.dot(x, x))

    @property
    def out(self) -> Array:
        return self.a[-1]

    def gradient(self) -> Array:
        """``dG/dx``."""
        _, grad_a = self.layers.backward(self.a, _score_delta(self.layers, self.out, self.k))
        return grad_a[0] - 2.0 * self.penalty * self.x


def dream(
    net: Network,
    k: int,
    steps: int = 200,
    rate: float = 0.05,
    start: str = "noise",
    seed: int = 0,
    penalty: float = 0.0,
) -> DreamResult:
    """The image the network finds most like class ``k``: gradient ascent on the input.

    Projected gradient ascent on ``G(x) = S_k(x) - penalty * sum(x^2)`` (``S_k``
    in the module docstring): a step tries
    ``x <- clip(x + eta * g / max|g|, 0, 1)`` with ``g = dG/dx``, so pixels stay
    in [0, 1] at every step and the largest pixel change is ``eta`` whatever the
    scale of the gradient. The step size adapts ("bold driver"): a step that
    raises ``G`` is kept and ``eta`` grows by 1.2 (up to 1); one that lowers it
    is undone and ``eta`` halves. So ``G`` never decreases, and a fixed step
    cannot oscillate around the optimum.

    The range [0, 1] is kept by the projection, so no penalty is needed for
    it. The optional "ink" penalty dims pixels that do not help the score:
    without it (the default) a dream from noise stays noise-like, the
    lessons' point that the network is confident about images that look
    nothing like digits; with ``penalty = 0.01`` the dream becomes a sparse
    pattern of a few bright pixels (and ``p_k`` may dip slightly while ``G``
    rises).

    Parameters
    ----------
    net
        The network.
    k
        The class to dream of.
    steps
        Ascent steps (undone steps count).
    rate
        The first step size ``eta``: largest pixel change per step.
    start
        ``"noise"`` (uniform random pixels, seeded) or ``"blank"`` (all 0).
    seed
        Seed of the noise.
    penalty
        Weight of the ink penalty, ``>= 0``; 0 makes ``G = S_k``, so the
        recorded scores never decrease.
    """
    layers, t = Layers64.of(net), check_class(net, k)
    n, eta = _count("steps", steps), _positive("the rate", rate)
    if not (math.isfinite(penalty) and penalty >= 0):
        raise ConfigError(f"the penalty must be >= 0, got {penalty}")
    first = _start_image(start, seed, net.sizes[0])
    here = _Ascent(layers, t, penalty, first)
    scores, objective = np.empty(n + 1), np.empty(n + 1)
    scores[0], objective[0] = here.out[t], here.value
    grad = here.gradient()
    for i in range(1, n + 1):
        step = eta / max(float(np.abs(grad).max()), 1e-300)
        there = _Ascent(layers, t, penalty, np.clip(here.x + step * grad, 0.0, 1.0))
        if there.value >= here.value:
            here, eta = there, min(1.2 * eta, 1.0)
            grad = here.gradient()
        else:
            eta *= 0.5
        scores[i], objective[i] = here.out[t], here.value
    return DreamResult(t, first, here.x, scores, objective, here.out, int(np.argmax(here.out)))

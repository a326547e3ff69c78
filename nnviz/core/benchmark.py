"""Measurements behind ``nnviz bench``: our trainer against a plain NumPy loop.

The reference is the straightforward vectorised implementation of the same
network and step that anyone would write first (gather the mini-batch, three
matrix products, sigmoid via ``np.exp``, backpropagation, update). Both run
from the same parameters over the same mini-batches, interleaved in short
rounds so that a busy machine slows them alike; the figures are medians.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.network import Network
from nnviz.core.preprocess import preprocess_drawing
from nnviz.core.presets import CLASSIC
from nnviz.core.trainer import TrainConfig, Trainer

Array = npt.NDArray[Any]


class ReferenceSGD:
    """The plain vectorised loop: sigmoid layers, quadratic cost, plain SGD.

    It mirrors Nielsen's ``network.py`` with the per-example loop replaced by
    matrix products, and the 3Blue1Brown cost (sum of squares, so the output
    error is ``2 (a - y)``).
    """

    def __init__(self, net: Network, x: Array, y: Array, eta: float, batch_size: int) -> None:
        self.weights = [w.astype(np.float32) for w in net.weights]
        self.biases = [b.astype(np.float32) for b in net.biases]
        self.x, self.y = x, y
        self.eta, self.batch_size = eta, batch_size
        self.eye = np.eye(net.sizes[-1], dtype=np.float32)

    def step(self, idx: Array) -> float:
        """One mini-batch SGD step on the examples ``idx``; returns the mean cost."""
        x, y = self.x[idx], self.eye[self.y[idx]]
        activations = [x]
        for w, b in zip(self.weights, self.biases, strict=True):
            activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ w + b))))
        a = activations[-1]
        cost = float(np.sum((a - y) ** 2)) / len(idx)
        delta = 2.0 * (a - y) * a * (1.0 - a) / len(idx)
        for l in range(len(self.weights) - 1, -1, -1):
            nabla_w = activations[l].T @ delta
            nabla_b = delta.sum(axis=0)
            if l > 0:
                a_prev = activations[l]
                delta = (delta @ self.weights[l].T) * a_prev * (1.0 - a_prev)
            self.weights[l] -= self.eta * nabla_w
            self.biases[l] -= self.eta * nabla_b
        return cost


@dataclass(frozen=True)
class TrainingSpeed:
    """Samples per second of our trainer and the reference at one batch size."""

    batch_size: int
    nnviz: float
    reference: float
    agreement: float

    @property
    def ratio(self) -> float:
        """How many times faster nnviz is than the reference."""
        return self.nnviz / self.reference


def _rate(run: Callable[[], None], samples: int) -> float:
    start = time.perf_counter()
    run()
    return samples / (time.perf_counter() - start)


def training_speed(
    x: Array, y: Array, batch_size: int, steps: int = 2000, rounds: int = 7
) -> TrainingSpeed:
    """Median training speed of nnviz and the reference, measured interleaved.

    Both start from the same 784-16-16-10 classic network (sigmoid, quadratic
    cost, N(0, 1), the classic learning rate) and see the same mini-batches in the
    same order. ``agreement`` is the largest parameter difference after the
    first 100 steps: near float32 rounding, it shows that both do the same
    arithmetic (SGD at this learning rate is chaotic, so rounding differences
    grow over thousands of steps).
    """
    net = Network((x.shape[1], 16, 16, 10))
    eta = CLASSIC.config.learning_rate
    reference = ReferenceSGD(net, x, y, eta, batch_size)
    trainer = Trainer(net, x, y, TrainConfig(learning_rate=eta, batch_size=batch_size))
    ours: list[float] = []
    theirs: list[float] = []
    agreement = float("nan")
    for round_ in range(rounds):
        batches = trainer.upcoming_batches(100 if round_ == 0 else steps)
        n = len(batches)

        def run_reference(batches: list[Array] = batches) -> None:
            with np.errstate(over="ignore"):  # exp(-z) overflows to inf harmlessly
                for idx in batches:
                    reference.step(idx)

        theirs.append(_rate(run_reference, n * batch_size))

        def run_ours(n: int = n) -> None:
            trainer.step(n)

        ours.append(_rate(run_ours, n * batch_size))
        if round_ == 0:
            agreement = _max_difference(reference, net)
            ours.pop(), theirs.pop()  # a warm-up round
    return TrainingSpeed(batch_size, statistics.median(ours), statistics.median(theirs), agreement)


def _max_difference(reference: ReferenceSGD, net: Network) -> float:
    pairs = zip(reference.weights + reference.biases, net.weights + net.biases, strict=True)
    return max(float(np.max(np.abs(a - b))) for a, b in pairs)


def classify_latency(net: Network, image: Array, repeats: int = 300) -> float:
    """Median seconds to pre-process one drawing and run it through ``net``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        net.output(preprocess_drawing(image).reshape(1, -1))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def as_dict(speed: TrainingSpeed) -> dict[str, float]:
    """A JSON-ready dictionary of a :class:`TrainingSpeed`, with its ratio."""
    return {**asdict(speed), "ratio": speed.ratio}


def sample_drawing(image: Array, size: int = 280) -> Array:
    """A 28x28 digit blown up onto a ``size``-pixel canvas, like a mouse drawing."""
    factor = size // 28
    return np.kron(image.reshape(28, 28), np.ones((factor, factor), dtype=np.float32))


def run_all(
    data: Any, quick: bool = False, progress: Callable[[str], object] | None = None
) -> dict[str, Any]:
    """Every core measurement of ``nnviz bench``, as a JSON-ready dictionary."""
    say = progress or (lambda _message: None)
    rounds = 3 if quick else 7
    results: dict[str, Any] = {"training": []}
    for batch_size, steps in ((10, 2000), (100, 200)):
        steps = steps // 5 if quick else steps
        say(f"measuring training at batch size {batch_size} ...")
        speed = training_speed(data.train_x, data.train_y, batch_size, steps, rounds)
        results["training"].append(as_dict(speed))
    say("measuring classification of one drawing ...")
    net = Network()
    canvas = sample_drawing(data.test_x[0])
    latency = classify_latency(net, canvas)
    results["classify"] = {"canvas": list(canvas.shape), "milliseconds": latency * 1e3}
    say("measuring a 41x41 loss-surface grid against point-by-point evaluation ...")
    results["surface"] = surface_speed(
        data, rounds=2 if quick else 5, naive_points=20 if quick else 60
    )
    return results


def format_results(results: dict[str, Any]) -> str:
    """The figures of :func:`run_all` as a readable table."""
    lines = ["training speed (samples/s, 784-16-16-10 classic, median of interleaved rounds)"]
    lines.append(f"{'batch':>7} {'nnviz':>10} {'plain NumPy':>12} {'ratio':>7} {'epoch':>8}")
    for row in results["training"]:
        epoch = 60000 / row["nnviz"]
        lines.append(
            f"{row['batch_size']:>7} {row['nnviz']:>10,.0f} {row['reference']:>12,.0f} "
            f"{row['ratio']:>6.2f}x {epoch:>7.2f}s"
        )
    agreement = max(row["agreement"] for row in results["training"])
    lines.append(f"same arithmetic: parameters agree to {agreement:.1e} after 100 steps")
    c = results["classify"]
    lines.append(
        f"classify one drawing ({c['canvas'][0]}x{c['canvas'][1]} canvas, pre-process "
        f"+ forward): {c['milliseconds']:.3f} ms"
    )
    for key, block in results.items():
        if key not in ("training", "classify") and isinstance(block, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {name}: {value}" for name, value in block.items())
    return "\n".join(lines)


def _surface_network() -> Network:
    """The bundled trained 784-16-16-10 model, or one trained briefly if it is missing."""
    from nnviz.core.errors import ModelFileError
    from nnviz.core.modelio import load_model
    from nnviz.paths import bundled_model_path  # Qt-free; imported late to keep core lean

    try:
        return load_model(bundled_model_path())[0]
    except (FileNotFoundError, ModelFileError):
        from nnviz.core.datasets import load_mnist
        from nnviz.core.presets import MODERN

        data = load_mnist(download_missing=False)
        net = MODERN.network()
        Trainer(net, data.train_x, data.train_y, MODERN.config).step(500)
        return net


def surface_speed(
    data: Any, size: int = 10_000, resolution: int = 41, naive_points: int = 60, rounds: int = 5
) -> dict[str, Any]:
    """Seconds for a loss-surface grid, fast and point by point (extrapolated).

    On the bundled 784-16-16-10 model and a filter-normalised random plane
    through it (``a, b`` in [-1, 1]), :func:`~nnviz.core.surface.cost_grid`
    computes ``resolution**2`` costs on ``size`` training images; its time is
    the median of ``rounds`` runs, with one thread per CPU (its default) and
    with one thread (as in the app, where training has the other core).
    After each run, a share of ``naive_points`` seeded grid points is
    evaluated the plain way (:func:`~nnviz.core.surface.cost_grid_naive`, one
    ``net.evaluate`` per point); their mean time per point times
    ``resolution**2`` is the naive estimate. ``max_relative_difference``
    compares those points' costs with the fast grid's (float32 rounding, ~1e-7).
    """
    from nnviz.core.surface import cost_grid, cost_grid_naive, evaluation_subset, random_plane

    net = _surface_network()
    idx = evaluation_subset(len(data.train_x), size)
    x, y = data.train_x[idx], data.train_y[idx]
    plane = random_plane(net, net.theta, seed=0)
    axis = np.linspace(-1.0, 1.0, resolution)
    rng = np.random.default_rng(0)
    sample = rng.integers(0, resolution, (max(naive_points, rounds), 2))
    grid_times, one_thread_times, naive_times, worst = [], [], [], 0.0
    for part in np.array_split(sample, rounds):
        start = time.perf_counter()
        grid = cost_grid(net, plane, x, y, axis, axis)
        grid_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        cost_grid(net, plane, x, y, axis, axis, workers=1)
        one_thread_times.append(time.perf_counter() - start)
        for i, j in part:
            start = time.perf_counter()
            naive = cost_grid_naive(net, plane, x, y, axis[j : j + 1], axis[i : i + 1])[0, 0]
            naive_times.append(time.perf_counter() - start)
            worst = max(worst, abs(grid[i, j] - naive) / abs(naive))
    naive_estimate = statistics.fmean(naive_times) * resolution**2
    grid_seconds = statistics.median(grid_times)
    return {
        "grid_seconds": grid_seconds,
        "grid_seconds_min": min(grid_times),
        "grid_workers": min(resolution, os.cpu_count() or 1),
        "grid_seconds_one_thread": statistics.median(one_thread_times),
        "naive_seconds_estimated": naive_estimate,
        "naive_ms_per_point": statistics.fmean(naive_times) * 1e3,
        "speedup": naive_estimate / grid_seconds,
        "resolution": resolution,
        "images": len(x),
        "rounds": rounds,
        "naive_points": len(naive_times),
        "max_relative_difference": worst,
    }

"""The network: parameter layout, forward pass, costs and backpropagation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnviz.core.errors import ConfigError
from nnviz.core.network import ACTIVATIONS, COSTS, Network

COMBOS = list(itertools.product(ACTIVATIONS, COSTS))


def reference_forward(net: Network, x: np.ndarray) -> list[np.ndarray]:
    """The textbook forward pass, layer by layer, in float64."""
    f = {
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
    }[net.activation]
    acts = [x.astype(np.float64)]
    for l, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        z = acts[-1] @ w.astype(np.float64) + b
        if l < net.n_layers - 1:
            acts.append(f(z))
        elif net.cost == "quadratic":
            acts.append(1 / (1 + np.exp(-z)))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(e / e.sum(axis=1, keepdims=True))
    return acts


def numeric_gradient(net: Network, x: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    theta = net.theta.copy()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        net.theta[i] = theta[i] + eps
        plus = net.cost_of(x, y)
        net.theta[i] = theta[i] - eps
        minus = net.cost_of(x, y)
        net.theta[i] = theta[i]
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def test_default_network_is_the_lessons_net() -> None:
    net = Network()
    assert net.sizes == (784, 16, 16, 10)
    assert net.n_params == net.theta.size == 13_002
    assert net.theta.dtype == np.float32
    assert [w.shape for w in net.weights] == [(784, 16), (16, 16), (16, 10)]
    assert [b.shape for b in net.biases] == [(16,), (16,), (10,)]


def test_weight_and_bias_views_share_theta() -> None:
    net = Network((5, 3, 2), seed=1)
    net.weights[0][4, 2] = 123.0
    net.biases[1][1] = -7.0
    assert np.count_nonzero(net.theta == 123.0) == 1
    assert np.count_nonzero(net.theta == -7.0) == 1
    net.theta = np.arange(net.n_params, dtype=np.float32)
    # neuron-major blocks: neuron j's weights then its bias, layer by layer
    assert net.weights[0][:, 0].tolist() == [0, 1, 2, 3, 4]
    assert net.biases[0][0] == 5
    assert net.weights[0][:, 1].tolist() == [6, 7, 8, 9, 10]
    assert net.biases[1].tolist() == [net.offsets[1] + 3, net.offsets[1] + 7]


def test_setting_theta_changes_the_network() -> None:
    net = Network((4, 3, 2), seed=0)
    x = np.random.default_rng(0).random((2, 4))
    before = net.output(x)
    net.theta = net.theta * 2
    assert not np.allclose(net.output(x), before)
    with pytest.raises(ConfigError, match="theta must have shape"):
        net.theta = np.zeros(5)


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_forward_matches_textbook_computation(activation: str, cost: str) -> None:
    net = Network((12, 7, 5, 4), activation, cost, seed=3, dtype=np.float64)
    x = np.random.default_rng(1).random((9, 12))
    acts = net.forward(x)
    expected = reference_forward(net, x)
    assert [a.shape for a in acts] == [(9, 12), (9, 7), (9, 5), (9, 4)]
    for got, want in zip(acts, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_gradient_matches_finite_differences(activation: str, cost: str) -> None:
    net = Network((6, 5, 4, 3), activation, cost, seed=2, dtype=np.float64)
    rng = np.random.default_rng(4)
    x, y = rng.random((7, 6)), rng.integers(0, 3, 7)
    cost_value, grad = net.cost_and_gradient(x, y)
    assert cost_value == pytest.approx(net.cost_of(x, y), rel=1e-12)
    numeric = numeric_gradient(net, x, y)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_gradient_of_a_deeper_network() -> None:
    net = Network((5, 4, 4, 4, 3), "tanh", "cross_entropy", seed=5, dtype=np.float64)
    rng = np.random.default_rng(5)
    x, y = rng.random((4, 5)), rng.integers(0, 3, 4)
    np.testing.assert_allclose(
        net.cost_and_gradient(x, y)[1], numeric_gradient(net, x, y), rtol=1e-6, atol=1e-8
    )


def test_batch_gradient_is_mean_of_single_example_gradients() -> None:
    net = Network((8, 6, 3), seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.random((5, 8)), rng.integers(0, 3, 5)
    singles = [net.cost_and_gradient(x[i : i + 1], y[i : i + 1]) for i in range(5)]
    cost, grad = net.cost_and_gradient(x, y)
    assert cost == pytest.approx(np.mean([c for c, _ in singles]))
    np.testing.assert_allclose(grad, np.mean([g for _, g in singles], axis=0), atol=1e-12)


def test_quadratic_cost_is_sum_of_squares_averaged_over_examples() -> None:
    net = Network((3, 4), cost="quadratic", seed=0, dtype=np.float64)
    x = np.array([[0.1, 0.2, 0.3], [0.9, 0.8, 0.7]])
    y = np.array([1, 3])
    a = net.output(x)
    expected = np.mean([np.sum((a[i] - np.eye(4)[y[i]]) ** 2) for i in range(2)])
    assert net.cost_of(x, y) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_is_minus_log_probability_and_stable() -> None:
    net = Network((2, 3), cost="cross_entropy", seed=0, dtype=np.float64)
    net.theta = np.array([100.0, 0.0, 0.0, -100.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    x = np.array([[5.0, 0.0]])  # logits 500, -500, 0
    assert net.cost_of(x, [0]) == pytest.approx(0.0, abs=1e-12)
    assert net.cost_of(x, [1]) == pytest.approx(1000.0)  # finite although exp underflows
    probs = net.output(x)[0]
    assert probs.sum() == pytest.approx(1.0)


def test_float32_training_path_agrees_with_float64() -> None:
    net = Network(seed=7)
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 784)), rng.integers(0, 10, 10)
    c32, g32 = net.cost_and_gradient(x.astype(np.float32), y)
    c64, g64 = net.copy(np.float64).cost_and_gradient(x, y)
    assert g32.dtype == np.float32
    assert c32 == pytest.approx(c64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_initialisation_schemes() -> None:
    normal = Network((784, 100, 10), init="normal", seed=0)
    assert np.std(normal.weights[0]) == pytest.approx(1.0, rel=0.02)
    assert np.std(normal.biases[0]) == pytest.approx(1.0, rel=0.3)
    scaled = Network((784, 100, 10), init="scaled", seed=0)
    assert np.std(scaled.weights[0]) == pytest.approx(1 / np.sqrt(784), rel=0.02)
    assert not scaled.biases[0].any()
    he = Network((784, 100, 10), activation="relu", init="scaled", seed=0)
    assert np.std(he.weights[0]) == pytest.approx(np.sqrt(2 / 784), rel=0.02)


def test_same_seed_same_network_other_seed_other_network() -> None:
    assert np.array_equal(Network(seed=3).theta, Network(seed=3).theta)
    assert not np.array_equal(Network(seed=3).theta, Network(seed=4).theta)


def test_copy_is_independent() -> None:
    net = Network((4, 3, 2))
    other = net.copy()
    other.theta[0] += 1
    assert net.theta[0] != other.theta[0]
    assert other.weights[0][0, 0] == other.theta[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "softsign"}, "unknown activation 'softsign': choose one of sigmoid"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"init": "xavier"}, "unknown initialisation 'xavier'"),
        ({"sizes": (784,)}, "two or more positive numbers"),
        ({"sizes": (784, 0, 10)}, "two or more positive numbers"),
        ({"sizes": (784, 1)}, "at least two neurons"),
        ({"dtype": np.int32}, "float32 or float64"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Network(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs_raise_clear_errors() -> None:
    net = Network()
    with pytest.raises(ConfigError, match=r"input must have shape \(n, 784\), got \(3, 28, 28\)"):
        net.forward(np.zeros((3, 28, 28)))
    with pytest.raises(ConfigError, match=r"labels must lie in \[0, 10\), got 0..10"):
        net.cost_and_gradient(np.zeros((2, 784)), [0, 10])
    with pytest.raises(ConfigError, match="labels must be 2 integers"):
        net.cost_and_gradient(np.zeros((2, 784)), [0.5, 1.0])


def test_single_vector_counts_as_one_example() -> None:
    net = Network()
    assert net.output(np.zeros(784)).shape == (1, 10)

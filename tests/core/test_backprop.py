"""Backprop as desired nudges: against the network's gradient, finite differences, SGD."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.backprop import (
    Layers64,
    nudges,
    single_example_step,
    undo,
    wish_sources,
)
from nnviz.core.errors import ConfigError
from nnviz.core.modelio import load_model
from nnviz.core.network import ACTIVATIONS, COSTS, Network
from nnviz.core.presets import CLASSIC, MODERN, Preset
from nnviz.paths import bundled_model_path

COMBOS = list(itertools.product(ACTIVATIONS, COSTS))
SIZES = (784, 16, 16, 10)


def make_net(activation: str, cost: str, sizes: tuple[int, ...] = SIZES) -> Network:
    return Network(sizes, activation, cost, seed=3, init="scaled", dtype=np.float64)


def example(seed: int = 0, n: int = 784) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def cost_from_layer(net: Network, l: int, a_l: np.ndarray, target: int) -> float:
    """The example's cost with layer ``l``'s activations set to ``a_l`` (float64 reference)."""

    def hidden(z: np.ndarray) -> np.ndarray:
        if net.activation == "sigmoid":
            return 1 / (1 + np.exp(-z))
        return np.maximum(z, 0) if net.activation == "relu" else np.tanh(z)

    a = a_l
    for m in range(l, net.n_layers):
        z = a @ net.weights[m].astype(np.float64) + net.biases[m]
        a = hidden(z) if m < net.n_layers - 1 else z
    if net.cost == "quadratic":
        y = np.eye(net.sizes[-1])[target]
        return float(np.sum((1 / (1 + np.exp(-a)) - y) ** 2))
    return float(np.log(np.sum(np.exp(a - a.max()))) + a.max() - a[target])


def blocks_of(net: Network, flat: np.ndarray) -> list[np.ndarray]:
    return [
        flat[net.offsets[l] : net.offsets[l + 1]].reshape(net.blocks[l].shape)
        for l in range(net.n_layers)
    ]


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_nudges_match_the_networks_gradient(activation: str, cost: str) -> None:
    net = make_net(activation, cost)
    for seed, target in [(0, 3), (1, 0), (2, 9)]:
        x = example(seed)
        r = nudges(net, x, target)
        c, grad = net.cost_and_gradient(x[None], [target])
        assert r.cost == pytest.approx(c, rel=1e-12)
        for l, block in enumerate(blocks_of(net, grad), start=1):
            np.testing.assert_allclose(r.nabla_w[l], block[:, :-1], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(r.nabla_b[l], block[:, -1], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(r.delta[l], block[:, -1], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(r.nabla_w[l], np.outer(r.delta[l], r.a[l - 1]))
        np.testing.assert_allclose(r.flat_gradient(), grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_activations_match_the_forward_pass(activation: str, cost: str) -> None:
    net = make_net(activation, cost)
    x = example(4)
    r = nudges(net, x, 5)
    for l, ref in enumerate(net.forward(x)):
        np.testing.assert_allclose(r.a[l], ref[0], rtol=1e-12, atol=1e-15)
    assert r.n_layers == 3
    assert [v.shape for v in r.z] == [(0,), (16,), (16,), (10,)]
    assert [v.shape for v in r.nabla_w] == [(0, 0), (16, 784), (16, 16), (10, 16)]
    assert [v.shape for v in r.dC_da] == [(784,), (16,), (16,), (10,)]


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_dC_da_against_finite_differences(activation: str, cost: str) -> None:
    """Perturb one activation and run the rest of the network forward from there."""
    net = make_net(activation, cost)
    target, eps = 7, 1e-6
    r = nudges(net, example(5), target)
    for l in range(0, net.n_layers):  # input pixels and hidden layers
        for j in range(0, r.a[l].size, max(1, r.a[l].size // 12)):
            up, down = r.a[l].copy(), r.a[l].copy()
            up[j] += eps
            down[j] -= eps
            numeric = cost_from_layer(net, l, up, target) - cost_from_layer(net, l, down, target)
            assert r.dC_da[l][j] == pytest.approx(numeric / (2 * eps), rel=1e-5, abs=1e-9)


def test_output_dC_da_and_delta_are_consistent_for_both_costs() -> None:
    x, target = example(6), 2
    for cost in COSTS:
        r = nudges(make_net("sigmoid", cost), x, target)
        a, y = r.a[3], np.eye(10)[target]
        if cost == "quadratic":
            np.testing.assert_allclose(r.dC_da[3], 2 * (a - y))
            np.testing.assert_allclose(r.delta[3], 2 * (a - y) * a * (1 - a))
            np.testing.assert_allclose(r.wish_out, 2 * (y - a))
        else:
            jacobian = np.diag(a) - np.outer(a, a)  # softmax, symmetric
            np.testing.assert_allclose(r.dC_da[3], -y / a, rtol=1e-12)
            np.testing.assert_allclose(jacobian @ r.dC_da[3], r.delta[3], atol=1e-12)
            np.testing.assert_allclose(r.delta[3], a - y, atol=1e-15)
            np.testing.assert_allclose(r.wish_out, y - a, atol=1e-15)
        assert r.wish_out[target] > 0
        assert np.all(np.delete(r.wish_out, target) < 0)


@pytest.mark.parametrize(("activation", "cost"), COMBOS)
def test_wish_sources_sum_to_the_backprop_gradient(activation: str, cost: str) -> None:
    net = make_net(activation, cost)
    r = nudges(net, example(7), 1)
    for l in range(net.n_layers):
        for j in range(0, r.a[l].size, 37 if l == 0 else 1):
            terms = wish_sources(r, l, j)
            assert terms.shape == (net.sizes[l + 1],)
            assert terms.sum() == pytest.approx(r.dC_da[l][j], abs=1e-12)
            np.testing.assert_allclose(terms, r.weights[l + 1][:, j] * r.delta[l + 1])


def test_wish_is_minus_the_gradient_below_the_output() -> None:
    r = nudges(make_net("relu", "cross_entropy"), example(2), 8)
    for l in range(3):
        np.testing.assert_array_equal(r.wish(l), -r.dC_da[l])
    np.testing.assert_array_equal(r.wish(3), r.wish_out)
    for l in (-1, 4):
        with pytest.raises(ConfigError, match="layer"):
            r.wish(l)


def test_wish_sources_reject_bad_layers_and_neurons() -> None:
    r = nudges(make_net("sigmoid", "quadratic"), example(0), 0)
    for l, j in [(3, 0), (-1, 0), (1, 16), (2, -1)]:
        with pytest.raises(ConfigError):
            wish_sources(r, l, j)


def test_nudges_of_a_float32_net_run_in_float64() -> None:
    net32 = make_net("sigmoid", "cross_entropy").copy(np.float32)
    r = nudges(net32, example(1).astype(np.float32), 4)
    ref = nudges(net32.copy(np.float64), example(1).astype(np.float32), 4)
    assert all(v.dtype == np.float64 for v in (*r.a, *r.delta, *r.nabla_w, r.wish_out))
    np.testing.assert_array_equal(r.flat_gradient(), ref.flat_gradient())
    assert not r.a[1].flags.writeable and not r.weights[1].flags.writeable


def test_nudges_reject_bad_input() -> None:
    net = make_net("sigmoid", "quadratic")
    with pytest.raises(ConfigError, match="one input"):
        nudges(net, np.zeros(783), 0)
    with pytest.raises(ConfigError, match="one input"):
        nudges(net, np.zeros((2, 784)), 0)
    with pytest.raises(ConfigError, match="NaN"):
        nudges(net, np.full(784, np.nan), 0)
    for bad in (10, -1, 2.5, "3", True):
        with pytest.raises(ConfigError, match="class"):
            nudges(net, np.zeros(784), bad)  # type: ignore[arg-type]


def test_layers64_backward_gives_the_input_gradient_of_any_output_score() -> None:
    net = make_net("tanh", "cross_entropy")
    layers = Layers64.of(net)
    x = example(8)
    _, a = layers.forward(x)
    delta_out = np.zeros(10)
    delta_out[4] = 1.0  # S = z_L[4]
    _, grad_a = layers.backward(a, delta_out)
    eps, i = 1e-6, 300
    up, down = x.copy(), x.copy()
    up[i] += eps
    down[i] -= eps
    numeric = (layers.forward(up)[0][3][4] - layers.forward(down)[0][3][4]) / (2 * eps)
    assert grad_a[0][i] == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("preset", [CLASSIC, MODERN], ids=lambda p: p.name)
def test_single_example_step_lowers_that_examples_cost(
    preset: Preset, mnist: datasets.Dataset
) -> None:
    net = preset.network()
    for i in range(8):
        x, target = mnist.train_x[i], int(mnist.train_y[i])
        result = single_example_step(net, x, target, eta=0.05)
        assert result.cost_after < result.cost_before
        assert result.cost_change < 0
        assert result.outputs_after.shape == (10,)


def test_single_example_step_on_the_bundled_model_and_undo(mnist: datasets.Dataset) -> None:
    net, _ = load_model(bundled_model_path())
    original = net.theta.copy()
    for i in range(5):
        x, target = mnist.test_x[i], int(mnist.test_y[(i + 1) % 5])  # often a wrong label
        result = single_example_step(net, x, target, eta=0.1)
        assert result.cost_after < result.cost_before
        assert result.outputs_after[target] > result.outputs_before[target]
        undo(net, result)
        np.testing.assert_array_equal(net.theta, original)


def test_single_example_step_is_exactly_one_sgd_step_with_the_networks_gradient() -> None:
    net = make_net("relu", "quadratic")
    x, target, eta = example(9), 6, 0.3
    original = net.theta.copy()
    cost, grad = net.cost_and_gradient(x[None], [target])
    expected = net.theta - eta * grad
    result = single_example_step(net, x, target, eta)
    np.testing.assert_array_equal(net.theta, expected)
    np.testing.assert_array_equal(result.gradient, grad)
    assert result.cost_before == cost
    assert result.cost_after == pytest.approx(net.cost_of(x[None], [target]))
    np.testing.assert_allclose(result.outputs_after, net.output(x)[0])
    assert result.eta == eta and result.target == target
    undo(net, result)
    np.testing.assert_array_equal(net.theta, original)


def test_single_example_step_rejects_bad_learning_rates() -> None:
    net = make_net("sigmoid", "quadratic")
    before = net.theta.copy()
    for eta in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="learning rate"):
            single_example_step(net, example(0), 1, eta)
    np.testing.assert_array_equal(net.theta, before)

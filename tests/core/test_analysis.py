"""Test-set analysis, effective images and saturation."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.analysis import (
    TANH_LIMIT,
    ConfusionAnalysis,
    effective_images,
    saturation,
)
from nnviz.core.errors import ConfigError
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.core.trainer import Evaluation, evaluate
from nnviz.paths import bundled_model_path


@pytest.fixture(scope="module")
def bundled() -> Network:
    return load_model(bundled_model_path())[0]


@pytest.fixture(scope="module")
def test_eval(bundled: Network, mnist: datasets.Dataset) -> Evaluation:
    return evaluate(bundled, mnist.test_x, mnist.test_y)


@pytest.fixture(scope="module")
def analysis(test_eval: Evaluation) -> ConfusionAnalysis:
    return ConfusionAnalysis.from_evaluation(test_eval)


# ---------------------------------------------------------------- confusion analysis


def test_confusion_matrix_on_the_real_test_set(
    analysis: ConfusionAnalysis, test_eval: Evaluation
) -> None:
    a = analysis
    assert a.n == 10_000 and a.n_classes == 10
    assert a.counts.shape == (10, 10) and a.counts.sum() == 10_000
    np.testing.assert_array_equal(a.counts, test_eval.confusion)
    assert a.accuracy == np.trace(a.counts) / 10_000 == pytest.approx(test_eval.accuracy)
    assert a.accuracy >= 0.96
    np.testing.assert_array_equal(a.row_totals, np.bincount(test_eval.labels, minlength=10))
    np.testing.assert_allclose(a.per_class_accuracy, np.diag(a.counts) / a.counts.sum(axis=1))
    np.testing.assert_allclose(a.matrix.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.diag(a.matrix), a.per_class_accuracy)


def test_confidence_is_the_winners_output(
    analysis: ConfusionAnalysis, test_eval: Evaluation
) -> None:
    np.testing.assert_array_equal(analysis.predictions, test_eval.predictions)
    np.testing.assert_allclose(analysis.confidence, test_eval.outputs.max(axis=1))


def test_mistakes_are_the_off_diagonal_examples_by_descending_confidence(
    analysis: ConfusionAnalysis,
) -> None:
    a = analysis
    wrong = a.mistakes()
    assert wrong.size == a.n - np.trace(a.counts)
    assert set(wrong.tolist()) == set(np.flatnonzero(a.labels != a.predictions).tolist())
    assert np.all(np.diff(a.confidence[wrong]) <= 0)
    np.testing.assert_array_equal(a.most_confident_mistakes(7), wrong[:7])
    assert a.most_confident_mistakes(0).size == 0
    assert a.most_confident_mistakes(10**6).size == wrong.size


def test_restricted_mistakes_and_cells(analysis: ConfusionAnalysis) -> None:
    a = analysis
    for true in range(10):
        by_true = a.mistakes(true=true)
        assert by_true.size == a.counts[true].sum() - a.counts[true, true]
        assert np.all(a.labels[by_true] == true)
        for pred in range(10):
            cell = a.cell(true, pred)
            assert cell.size == a.counts[true, pred]
            assert np.all(a.labels[cell] == true) and np.all(a.predictions[cell] == pred)
            assert np.all(np.diff(a.confidence[cell]) <= 0)
            restricted = a.mistakes(true, pred)
            np.testing.assert_array_equal(restricted, cell if true != pred else [])
    for pred in range(10):
        assert np.all(a.predictions[a.mistakes(predicted=pred)] == pred)


def test_cells_partition_the_test_set(analysis: ConfusionAnalysis) -> None:
    cells = [analysis.cell(t, p) for t in range(10) for p in range(10)]
    together = np.concatenate(cells)
    assert together.size == 10_000
    np.testing.assert_array_equal(np.sort(together), np.arange(10_000))


def test_least_confident_correct(analysis: ConfusionAnalysis) -> None:
    a = analysis
    shaky = a.least_confident_correct(25)
    assert shaky.size == 25
    assert np.all(a.labels[shaky] == a.predictions[shaky])
    assert np.all(np.diff(a.confidence[shaky]) >= 0)
    correct = a.labels == a.predictions
    assert a.confidence[shaky[0]] == a.confidence[correct].min()
    assert a.confidence[shaky[-1]] <= np.sort(a.confidence[correct])[25]


def test_from_outputs_small_example_with_ties_and_an_empty_class() -> None:
    outputs = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0], [0.2, 0.8, 0.0]])
    a = ConfusionAnalysis.from_outputs(outputs, np.array([0, 0, 1, 1]))
    np.testing.assert_array_equal(a.counts, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    assert a.accuracy == 0.5
    np.testing.assert_array_equal(a.mistakes(), [1, 2])  # 0.8 before 0.6
    np.testing.assert_array_equal(a.cell(1, 1), [3])
    assert np.isnan(a.per_class_accuracy[2])
    np.testing.assert_array_equal(a.matrix[2], [0, 0, 0])
    np.testing.assert_array_equal(a.least_confident_correct(5), [3, 0])  # 0.8, then 0.9
    assert not a.counts.flags.writeable and not a.confidence.flags.writeable


def test_confusion_analysis_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="outputs"):
        ConfusionAnalysis.from_outputs(np.zeros(10), np.zeros(10, dtype=int))
    with pytest.raises(ConfigError, match="labels"):
        ConfusionAnalysis.from_outputs(np.zeros((4, 10)), np.zeros(3, dtype=int))
    with pytest.raises(ConfigError, match="labels"):
        ConfusionAnalysis.from_outputs(np.zeros((4, 10)), np.full(4, 0.5))
    with pytest.raises(ConfigError, match=r"\[0, 10\)"):
        ConfusionAnalysis.from_outputs(np.zeros((2, 10)), np.array([0, 10]))
    a = ConfusionAnalysis.from_outputs(np.eye(10), np.arange(10))
    with pytest.raises(ConfigError, match="true class"):
        a.cell(10, 0)
    with pytest.raises(ConfigError, match="true class"):
        a.mistakes(true=-1)
    with pytest.raises(ConfigError, match="predicted class"):
        a.cell(0, 11)


def test_empty_data_set() -> None:
    a = ConfusionAnalysis.from_outputs(np.zeros((0, 10)), np.zeros(0, dtype=int))
    assert a.n == 0 and a.accuracy == 0.0 and a.mistakes().size == 0


# ---------------------------------------------------------------- effective images


def test_effective_images_against_an_explicit_loop() -> None:
    net = Network((784, 16, 12, 10), seed=2)
    w1, w2, w3 = (w.astype(np.float64) for w in net.weights)  # (n_in, n_out)
    np.testing.assert_array_equal(effective_images(net, 1), w1.T)
    second = effective_images(net, 2)
    assert second.shape == (12, 784) and second.dtype == np.float64
    loop = np.zeros((12, 784))
    for j in range(12):
        for i in range(16):
            loop[j] += w2[i, j] * w1[:, i]
    np.testing.assert_allclose(second, loop, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(effective_images(net, 3), (w1 @ w2 @ w3).T, atol=1e-12)
    assert effective_images(net).shape == (12, 784)


def test_effective_images_reject_bad_layers() -> None:
    net = Network((784, 16, 16, 10))
    for layer in (0, 4, -1):
        with pytest.raises(ConfigError, match="layer"):
            effective_images(net, layer)


# ---------------------------------------------------------------- saturation


def _net_with_hidden_bias(activation: str, bias: float) -> Network:
    net = Network((784, 8, 6, 10), activation=activation, seed=1, init="scaled")
    for l in range(2):
        net.weights[l][...] = 0.0
        net.biases[l][...] = bias
    return net


def test_huge_positive_sigmoid_bias_saturates_everything_above() -> None:
    x = np.random.default_rng(0).random((300, 784))
    layers = saturation(_net_with_hidden_bias("sigmoid", 20.0), x, chunk=64)
    assert [s.layer for s in layers] == [1, 2]
    for s in layers:
        assert s.n_images == 300 and s.activation == "sigmoid"
        np.testing.assert_array_equal(s.above, 1.0)
        np.testing.assert_array_equal(s.below, 0.0)
        np.testing.assert_array_equal(s.saturated, 1.0)
        assert s.dead_units.all()


def test_huge_negative_relu_bias_kills_the_units() -> None:
    x = np.random.default_rng(1).random((120, 784))
    net = _net_with_hidden_bias("relu", -5.0)
    net.weights[0][:, :4] = np.abs(net.weights[0][:, :4]) + 1.0  # four first-layer units live
    first, second = saturation(net, x)
    np.testing.assert_array_equal(first.dead, [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(first.dead_units, [False] * 4 + [True] * 4)
    np.testing.assert_array_equal(first.below, first.dead)
    np.testing.assert_array_equal(first.above, 0.0)
    assert second.dead_units.all()


def test_tanh_thresholds() -> None:
    x = np.zeros((10, 784))
    net = _net_with_hidden_bias("tanh", 0.0)
    net.biases[0][...] = [-3, -1.4, -1.5, 0, 1.4, 1.5, 3, 0.1]  # tanh(1.5) = 0.905 > 0.9
    first = saturation(net, x)[0]
    np.testing.assert_array_equal(first.below, [1, 0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(first.above, [0, 0, 0, 0, 0, 1, 1, 0])
    np.testing.assert_allclose(first.mean_activation, np.tanh(net.biases[0]), rtol=1e-6)
    assert np.tanh(1.4) < TANH_LIMIT < np.tanh(1.5)


def test_saturation_on_real_training_images(bundled: Network, mnist: datasets.Dataset) -> None:
    layers = saturation(bundled, mnist.train_x, sample=3000, seed=4, chunk=700)
    assert len(layers) == 2
    for s in layers:
        assert s.n_images == 3000
        for share in (s.below, s.above, s.saturated, s.dead):
            assert share.shape == (16,) and share.dtype == np.float64
            assert np.all((share >= 0) & (share <= 1))
        np.testing.assert_allclose(s.saturated, s.below + s.above)
        assert np.all((s.mean_activation > 0) & (s.mean_activation < 1))
    again = saturation(bundled, mnist.train_x, sample=3000, seed=4, chunk=3000)
    for s, t in zip(layers, again, strict=True):
        np.testing.assert_array_equal(s.below, t.below)
        np.testing.assert_allclose(s.mean_activation, t.mean_activation, rtol=1e-12)


def test_saturation_rejects_bad_settings() -> None:
    net = Network((784, 4, 10))
    x = np.zeros((5, 784))
    for kwargs in ({"low": 0.6, "high": 0.5}, {"low": 0.0}, {"dead_threshold": 0.0}):
        with pytest.raises(ConfigError):
            saturation(net, x, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="shape"):
        saturation(net, np.zeros((5, 783)))
    with pytest.raises(ConfigError, match="at least one"):
        saturation(net, np.zeros((0, 784)))
    with pytest.raises(ConfigError, match="sample"):
        saturation(net, x, sample=0)
    assert saturation(Network((784, 10)), x) == []

"""The trainer: mini-batches, epochs, schedules, live settings, divergence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.errors import ConfigError, DivergenceError
from nnviz.core.network import Network
from nnviz.core.presets import CLASSIC, MODERN, get_preset
from nnviz.core.trainer import TrainConfig, Trainer, evaluate


@pytest.fixture
def toy() -> tuple[np.ndarray, np.ndarray]:
    """100 examples of 8 features, three classes that depend on the features."""
    rng = np.random.default_rng(0)
    x = rng.random((100, 8)).astype(np.float32)
    y = np.argmax(x[:, :3], axis=1)
    return x, y


def make(toy: tuple[np.ndarray, np.ndarray], **config: object) -> Trainer:
    net = Network((8, 6, 3), seed=1)
    cfg = TrainConfig(**{"learning_rate": 0.5, "batch_size": 10, **config})  # type: ignore[arg-type]
    return Trainer(net, toy[0], toy[1], cfg, toy[0], toy[1])


def test_step_runs_n_minibatches_and_reports_their_costs(toy) -> None:
    trainer = make(toy)
    report = trainer.step(3)
    assert report.costs.shape == (3,) and np.all(np.isfinite(report.costs))
    assert report.first_step == 0 and trainer.step_count == 3
    assert trainer.samples_seen == 30 and trainer.position == 30
    assert report.learning_rates.tolist() == [0.5, 0.5, 0.5]
    assert trainer.step(2).first_step == 3


def test_step_cost_is_the_cost_of_that_minibatch_before_the_update(toy) -> None:
    trainer = make(toy)
    idx = trainer.upcoming_batches(1)[0]
    expected = trainer.net.cost_of(toy[0][idx], toy[1][idx])
    assert trainer.step(1).costs[0] == pytest.approx(expected, rel=1e-5)


def test_sgd_update_is_theta_minus_eta_gradient(toy) -> None:
    trainer = make(toy)
    net = trainer.net
    idx = trainer.upcoming_batches(1)[0]
    theta = net.theta.copy()
    _, grad = net.cost_and_gradient(toy[0][idx], toy[1][idx])
    trainer.step(1)
    np.testing.assert_allclose(net.theta, theta - 0.5 * grad, atol=1e-6)


def test_momentum_update(toy) -> None:
    trainer = make(toy, momentum=0.9)
    net = trainer.net
    velocity = np.zeros_like(net.theta)
    for _ in range(3):
        idx = trainer.upcoming_batches(1)[0]
        theta = net.theta.copy()
        _, grad = net.cost_and_gradient(toy[0][idx], toy[1][idx])
        velocity = 0.9 * velocity - 0.5 * grad
        trainer.step(1)
        np.testing.assert_allclose(net.theta, theta + velocity, atol=1e-5)


def test_weight_decay_shrinks_weights_but_not_biases(toy) -> None:
    plain, decayed = make(toy), make(toy, weight_decay=0.1)
    theta = plain.net.theta.copy()
    plain.step(1)
    decayed.step(1)
    diff = decayed.net.theta - plain.net.theta
    for l in range(plain.net.n_layers):
        w_index = slice(None), slice(None, -1)
        block_theta = theta[plain.net.offsets[l] : plain.net.offsets[l + 1]]
        expected = -0.5 * 0.1 * block_theta.reshape(plain.net.blocks[l].shape)[w_index]
        block_diff = diff[plain.net.offsets[l] : plain.net.offsets[l + 1]]
        np.testing.assert_allclose(
            block_diff.reshape(plain.net.blocks[l].shape)[w_index], expected, atol=1e-6
        )
        assert not block_diff.reshape(plain.net.blocks[l].shape)[:, -1].any()


def test_epochs_visit_every_example_once_in_a_seeded_order(toy) -> None:
    trainer = make(toy)
    seen = np.concatenate(trainer.upcoming_batches(100))
    assert sorted(seen.tolist()) == list(range(100))
    report = trainer.step(12)
    assert report.epochs_completed == (1,)
    assert trainer.epoch == 1 and trainer.position == 20
    second = np.concatenate(make(toy).upcoming_batches(10))
    assert np.array_equal(seen, second)  # same seed, same order
    assert not np.array_equal(seen, np.concatenate(make(toy, seed=1).upcoming_batches(10)))


def test_step_can_stop_at_the_end_of_an_epoch(toy) -> None:
    trainer = make(toy)
    trainer.step(4)
    report = trainer.step_epoch()
    assert len(report.costs) == 6 and report.epochs_completed == (1,)
    assert trainer.position == 0


def test_same_seed_gives_the_same_run(toy) -> None:
    a, b, c = make(toy), make(toy), make(toy, seed=5)
    for t in (a, b, c):
        t.step(25)
    assert np.array_equal(a.net.theta, b.net.theta)
    assert not np.array_equal(a.net.theta, c.net.theta)


def test_settings_change_between_steps_without_resetting(toy) -> None:
    trainer = make(toy, momentum=0.5)
    trainer.step(3)
    theta, position = trainer.net.theta.copy(), trainer.position
    trainer.configure(learning_rate=0.1, batch_size=7, momentum=0.8)
    assert np.array_equal(trainer.net.theta, theta)
    assert trainer.position == position and trainer.step_count == 3
    report = trainer.step(1)
    assert report.learning_rates[0] == 0.1
    assert trainer.position == position + 7
    with pytest.raises(ConfigError, match="unknown training setting"):
        trainer.configure(learnin_rate=1.0)


def test_last_partial_batch_of_an_epoch(toy) -> None:
    trainer = make(toy, batch_size=30)
    assert trainer.steps_per_epoch == 4
    report = trainer.step(4)
    assert report.epochs_completed == (1,) and trainer.samples_seen == 100


def test_cosine_schedule(toy) -> None:
    trainer = make(toy, schedule="cosine", epochs=2)  # 20 steps in all
    assert trainer.learning_rate_at(0) == pytest.approx(0.5)
    assert trainer.learning_rate_at(10) == pytest.approx(0.25)
    assert trainer.learning_rate_at(5) == pytest.approx(0.25 * (1 + math.cos(math.pi / 4)))
    assert trainer.learning_rate_at(20) == pytest.approx(0.0)
    assert trainer.learning_rate_at(40) == pytest.approx(0.0)
    rates = trainer.step(20).learning_rates
    assert np.all(np.diff(rates) < 0) and trainer.finished


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rate": 0.0}, "learning rate must be a positive number"),
        ({"learning_rate": float("nan")}, "learning rate must be a positive number"),
        ({"batch_size": 0}, "batch size must be a positive integer"),
        ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
        ({"weight_decay": -1.0}, "weight decay must be >= 0"),
        ({"schedule": "step"}, "unknown learning-rate schedule 'step'"),
        ({"epochs": 0}, "epochs must be a positive integer"),
    ],
)
def test_bad_settings_raise_clear_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)  # type: ignore[arg-type]


def test_divergence_is_detected_and_parameters_are_kept(toy) -> None:
    net = Network((8, 6, 3), cost="cross_entropy", seed=0)
    trainer = Trainer(net, toy[0] * 50, toy[1], TrainConfig(learning_rate=0.5, batch_size=10))
    trainer.step(3)
    last_good = net.theta.copy()
    trainer.configure(learning_rate=1e20)  # the update overflows float32 at once
    with pytest.raises(DivergenceError, match="training diverged at step 4: ") as info:
        trainer.step(5)
    message = str(info.value)
    assert "the change of the weights grew too large for the computer to hold" in message
    assert "learning rate 10^20" in message and "e+" not in message
    assert "lower the learning rate" in message
    assert np.array_equal(net.theta, last_good)
    assert info.value.step == trainer.step_count == 3 and info.value.costs == ()


def test_a_cost_that_is_not_a_number_is_detected(toy) -> None:
    net = Network((8, 6, 3), cost="cross_entropy", seed=0)
    trainer = Trainer(net, toy[0], toy[1], TrainConfig(learning_rate=0.5, batch_size=10))
    trainer.step(2)
    net.theta[...] = 3e38  # finite, but z = W x overflows
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(DivergenceError, match="at step 3: the cost grew too large") as info,
    ):
        trainer.step(1)
    assert not math.isfinite(info.value.cost) and np.all(net.theta == np.float32(3e38))


def test_a_finite_blown_up_cost_is_left_to_the_guard(toy) -> None:
    # The trainer raises only for numbers that are not finite; nnviz.core.health.Guard
    # reports a cost that shot up while finite (here far above ln 3).
    net = Network((8, 6, 3), cost="cross_entropy", seed=0)
    trainer = Trainer(net, toy[0] * 50, toy[1], TrainConfig(learning_rate=1e4, batch_size=10))
    costs = trainer.step(100).costs
    assert np.all(np.isfinite(costs)) and costs.max() > 1000


def test_clear_momentum_makes_the_next_step_plain_sgd(toy) -> None:
    trainer = make(toy, momentum=0.9)
    trainer.step(3)
    trainer.clear_momentum()
    net = trainer.net
    idx = trainer.upcoming_batches(1)[0]
    theta = net.theta.copy()
    _, grad = net.cost_and_gradient(toy[0][idx], toy[1][idx])
    trainer.step(1)
    np.testing.assert_allclose(net.theta, theta - 0.5 * grad, atol=1e-6)


def test_divergence_with_finite_cost_but_overflowing_update(toy) -> None:
    # ReLU activations grow without bound, sigmoid outputs stay finite: the
    # cost is finite but the update overflows. It must still be caught.
    net = Network((8, 6, 3), activation="relu", seed=0)
    trainer = Trainer(net, toy[0], toy[1], TrainConfig(learning_rate=1e30, batch_size=10))
    with pytest.raises(DivergenceError) as info:
        trainer.step(50)
    assert np.all(np.isfinite(net.theta))
    assert len(info.value.costs) == info.value.step  # costs of the completed steps


def test_evaluation_confusion_matrix(toy) -> None:
    trainer = make(toy, learning_rate=3.0)
    trainer.step(300)
    ev = trainer.evaluate()
    assert ev.confusion.shape == (3, 3) and ev.confusion.sum() == 100
    assert np.trace(ev.confusion) / 100 == pytest.approx(ev.accuracy)
    assert np.array_equal(ev.confusion.sum(axis=1), np.bincount(toy[1], minlength=3))
    assert ev.accuracy > 0.8  # it learned something
    assert ev.cost == pytest.approx(trainer.net.cost_of(*toy))


def test_evaluate_needs_a_test_set(toy) -> None:
    trainer = Trainer(Network((8, 6, 3)), toy[0], toy[1])
    with pytest.raises(ConfigError, match="no test set"):
        trainer.evaluate()


def test_presets() -> None:
    assert get_preset("classic") is CLASSIC
    assert CLASSIC.config.learning_rate == 1.5 and CLASSIC.config.batch_size == 10
    assert (CLASSIC.activation, CLASSIC.cost, CLASSIC.init) == ("sigmoid", "quadratic", "normal")
    assert MODERN.cost == "cross_entropy" and MODERN.config.momentum == 0.9
    assert MODERN.config.schedule == "cosine" and MODERN.init == "scaled"
    assert MODERN.train_config(learning_rate=1.0, batch_size=None).learning_rate == 1.0
    with pytest.raises(ConfigError, match="unknown preset 'fancy': choose one of classic, modern"):
        get_preset("fancy")


def test_classic_preset_learns_real_mnist_in_one_epoch(mnist_dir: Path) -> None:
    data = datasets.load_mnist(mnist_dir, download_missing=False)
    net = CLASSIC.network()
    trainer = Trainer(net, data.train_x, data.train_y, CLASSIC.config, data.test_x, data.test_y)
    before = trainer.evaluate().accuracy
    trainer.step_epoch()
    after = evaluate(net, data.test_x, data.test_y)
    assert before < 0.2 and after.accuracy > 0.85
    assert after.confusion.sum() == 10_000


def test_resume_goes_on_with_the_same_minibatches(mnist) -> None:
    """A run resumed at a point trains exactly the mini-batches the first run trained next."""
    config = CLASSIC.config
    first = Trainer(CLASSIC.network(), mnist.train_x, mnist.train_y, config)
    first.step(7)
    theta, position = first.net.theta.copy(), first.position
    upcoming = first.upcoming_batches(3)
    again = Trainer(CLASSIC.network(), mnist.train_x, mnist.train_y, config)
    again.net.theta = theta
    again.resume(first.step_count, first.epoch, position, first.samples_seen)
    for mine, theirs in zip(again.upcoming_batches(3), upcoming, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    first.step(3)
    report = again.step(3)  # plain SGD (classic): the same steps give the same parameters
    assert report.first_step == 7 and again.step_count == first.step_count == 10
    np.testing.assert_array_equal(again.net.theta, first.net.theta)
    assert again.samples_seen == first.samples_seen and again.position == first.position
    with pytest.raises(ConfigError):
        again.resume(-1, 0, 0, 0)

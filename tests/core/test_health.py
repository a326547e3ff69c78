"""The guard on real MNIST: divergence, saturation, checkpoints and plain messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.errors import ConfigError, plain_number
from nnviz.core.health import Guard, Health, Trouble, chance_cost
from nnviz.core.modelio import load_model
from nnviz.core.network import Network
from nnviz.core.presets import CLASSIC, MODERN, Preset
from nnviz.core.trainer import Trainer
from nnviz.paths import bundled_model_path

#: An exponent in a message (``1e+03``, ``2.5e-05``): numbers must be plain.
EXPONENT = re.compile(r"\de[+-]?\d")


def guarded(
    data: datasets.Dataset,
    preset: Preset,
    sizes: tuple[int, ...] = (784, 16, 16, 10),
    activation: str | None = None,
    **config: object,
) -> Guard:
    """A guard around a fresh network of ``preset`` on the MNIST training set.

    It checks every 250 mini-batches (the default is 1000) to keep the tests short.
    """
    net = preset.network(sizes, activation=activation)
    trainer = Trainer(net, data.train_x, data.train_y, preset.train_config(**config))
    return Guard(trainer, check_every=250)


def run(guard: Guard, steps: int) -> tuple[list[float], Trouble | None]:
    """``steps`` mini-batches in chunks of 50, as the app runs them; stops at trouble."""
    costs: list[float] = []
    for _ in range(steps // 50):
        report, trouble = guard.step(50)
        costs += report.costs.tolist()
        if trouble is not None:
            return costs, trouble
    return costs, None


def probe(guard: Guard) -> Health:
    return guard.probe.measure(guard.trainer.net, guard.trainer.step_count)


# ---------------------------------------------------------------------- diverged
def test_divergence_after_learning_goes_back_to_the_last_healthy_parameters(mnist) -> None:
    guard = guarded(mnist, MODERN)
    trainer = guard.trainer
    assert run(guard, 500)[1] is None
    saved = guard.checkpoint
    assert saved.step == 500 and saved.accuracy > 0.7
    trainer.configure(learning_rate=1000)
    report, trouble = guard.step(100)
    assert trouble is not None and trouble.kind == "diverged"
    assert 500 < trouble.step <= 510  # early: the cost shot up within a few steps
    assert trouble.step <= trainer.step_count < trouble.step + guard.look_every
    assert trainer.step_count == 500 + len(report.costs)
    assert report.first_step == 500 and np.all(np.isfinite(report.costs))
    assert report.costs.max() > 100  # the spike the cost curve shows
    assert trouble.restored_step == saved.step
    now = probe(guard)
    assert np.all(np.isfinite(trainer.net.theta))
    assert now.cost == pytest.approx(saved.cost) and now.accuracy == saved.accuracy > 0.7


def test_lowering_the_rate_after_a_divergence_trains_normally(mnist) -> None:
    guard = guarded(mnist, MODERN)
    trainer = guard.trainer
    run(guard, 250)  # a check at step 250: the checkpoint
    trainer.configure(learning_rate=1000)
    restored = guard.checkpoint
    assert guard.step(100)[1] is not None
    assert probe(guard).cost == pytest.approx(restored.cost)
    trainer.configure(learning_rate=0.0001)  # the bug report: even this diverged again
    costs, trouble = run(guard, 300)
    assert trouble is None and np.mean(costs) < 1.5 * restored.cost
    trainer.configure(learning_rate=0.1)
    costs, trouble = run(guard, 500)
    assert trouble is None
    assert np.mean(costs[-100:]) < 0.8 * np.mean(costs[:100])  # the cost falls
    assert guard.check() is None and guard.last.cost < restored.cost


def test_divergence_from_scratch_restores_the_initial_parameters(mnist) -> None:
    guard = guarded(mnist, MODERN, learning_rate=1000, schedule="constant")
    initial = guard.trainer.net.theta.copy()
    trouble = guard.step(1000)[1]
    assert trouble is not None and trouble.kind == "diverged"
    assert trouble.restored_step == 0 and trouble.step <= 10
    np.testing.assert_array_equal(guard.trainer.net.theta, initial)
    steps = guard.trainer.step_count  # never goes back; a few ran before the guard looked
    assert trouble.step <= steps < trouble.step + guard.look_every
    guard.trainer.configure(learning_rate=1e-9)
    guard.trainer.step(1)  # the momentum was cleared: a tiny rate makes a tiny step
    assert np.abs(guard.trainer.net.theta - initial).max() < 1e-6


def test_divergence_message_says_what_happened_and_what_to_do(mnist) -> None:
    guard = guarded(mnist, MODERN)
    run(guard, 300)
    guard.trainer.configure(learning_rate=1000)
    trouble = guard.step(100)[1]
    assert trouble is not None
    text = trouble.message
    assert text.startswith(f"Training diverged at step {trouble.step}: the cost shot up from")
    assert "learning rate 1000 and momentum 0.9 each step overshoots" in text
    restored = f"went back to the parameters of step {trouble.restored_step}, whose cost was"
    assert restored in text
    assert text.endswith("Lower the learning rate and press Train, or press Reset to start again.")
    assert not EXPONENT.search(text) and "float32" not in text


def test_an_overflowing_step_also_goes_back_to_the_checkpoint(mnist) -> None:
    guard = guarded(mnist, MODERN)
    run(guard, 250)
    theta = guard.trainer.net.theta.copy()
    guard.trainer.configure(learning_rate=1e20)  # the first step's update overflows float32
    report, trouble = guard.step(10)
    assert trouble is not None and trouble.kind == "diverged"
    assert len(report.costs) == 0 and trouble.restored_step == 250
    np.testing.assert_array_equal(guard.trainer.net.theta, theta)
    assert "larger than the computer can hold" in trouble.message
    assert "learning rate 10^20" in trouble.message


def test_a_relu_net_with_momentum_is_stopped_before_it_diverges(mnist) -> None:
    # Unguarded, this run loses its ReLUs and diverges at step 3796.
    guard = guarded(mnist, MODERN, (784, 32, 32, 10), activation="relu")
    trouble = run(guard, 3700)[1]
    assert trouble is not None and trouble.step < 3796
    restored = probe(guard)
    assert restored.accuracy > 0.2 and np.isfinite(restored.cost)


# ---------------------------------------------------------------------- stalled
def test_classic_at_learning_rate_1000_stalls_with_a_hint(mnist) -> None:
    guard = guarded(mnist, CLASSIC, learning_rate=1000)
    initial = guard.trainer.net.theta.copy()
    trouble = run(guard, 3000)[1]
    assert trouble is not None and trouble.kind == "stalled"
    assert trouble.step <= 1000 and trouble.restored_step == 0
    assert guard.last.accuracy <= 0.2 and guard.last.stuck_fraction >= 0.75
    np.testing.assert_array_equal(guard.trainer.net.theta, initial)
    text = trouble.message
    assert text.startswith(f"Training stalled at step {trouble.step}: all 16 neurons of hidden")
    assert "stuck at 0 or 1" in text and "no better than guessing" in text
    assert "The steps are too large (learning rate 1000)" in text
    assert "went back to the parameters of step 0, whose cost was 4.41" in text
    assert "Lower the learning rate" in text and not EXPONENT.search(text)


def test_after_a_stall_the_classic_rate_learns(mnist) -> None:
    guard = guarded(mnist, CLASSIC, learning_rate=1000)
    assert run(guard, 3000)[1] is not None
    guard.trainer.configure(learning_rate=1.5)
    assert run(guard, 2000)[1] is None
    assert guard.check() is None and guard.last.accuracy > 0.8


def test_a_stall_is_reported_only_after_the_patience(mnist) -> None:
    guard = guarded(mnist, CLASSIC, learning_rate=1000)
    guard.patience = 2000
    trouble = run(guard, 3000)[1]
    assert trouble is not None and 2000 <= trouble.step <= 2500


# ---------------------------------------------------------------------- healthy
@pytest.mark.parametrize(("preset", "accuracy"), [(MODERN, 0.9), (CLASSIC, 0.85)])
def test_runs_that_learn_are_never_reported(mnist, preset: Preset, accuracy: float) -> None:
    guard = guarded(mnist, preset)
    trouble = run(guard, 4000)[1]
    assert trouble is None
    assert guard.checkpoint.step == 4000 and guard.checkpoint.accuracy > accuracy


def test_untrained_networks_are_never_reported(mnist) -> None:
    for preset in (CLASSIC, MODERN):
        net = preset.network()
        trainer = Trainer(
            net, mnist.train_x, mnist.train_y, preset.train_config(learning_rate=1e-9)
        )
        guard = Guard(trainer, check_every=1, patience=1)  # any stuck check would be reported
        assert guard.checkpoint.accuracy < 0.2  # near chance, yet not stuck:
        assert guard.checkpoint.stuck == (0,) * len(guard.checkpoint.units)
        assert guard.step(20)[1] is None and guard.checkpoint.step == 20


def test_trained_networks_are_never_reported(mnist) -> None:
    modern, _ = load_model(bundled_model_path())
    classic = CLASSIC.network()
    Trainer(classic, mnist.train_x, mnist.train_y, CLASSIC.config).step_epoch()
    for net, preset in ((modern, MODERN), (classic, CLASSIC)):
        trainer = Trainer(net, mnist.train_x, mnist.train_y, preset.config)
        guard = Guard(trainer, check_every=1, patience=1)
        assert guard.checkpoint.accuracy > 0.9
        assert guard.step(20)[1] is None and guard.checkpoint.step == 20


# ---------------------------------------------------------------------- mechanics
def test_rebase_makes_replaced_parameters_the_checkpoint(mnist) -> None:
    guard = guarded(mnist, MODERN)
    run(guard, 300)
    replaced = MODERN.network(seed=5).theta
    guard.trainer.net.theta = replaced
    guard.rebase()
    assert guard.checkpoint.step == 300 and guard.check() is None  # nothing ran since
    guard.trainer.configure(learning_rate=1000)
    trouble = guard.step(100)[1]
    assert trouble is not None and trouble.restored_step == 300
    np.testing.assert_array_equal(guard.trainer.net.theta, replaced)


def test_check_keeps_healthy_parameters_as_the_checkpoint(mnist) -> None:
    guard = guarded(mnist, MODERN)
    guard.trainer.step(40)  # outside the guard, as between the app's checks
    assert guard.checkpoint.step == 0
    assert guard.check() is None and guard.checkpoint.step == 40
    assert guard.checkpoint.cost < 2.3 < chance_cost(guard.trainer.net)


def test_step_reports_every_minibatch_and_stops_at_the_end_of_an_epoch(mnist) -> None:
    net = MODERN.network()
    trainer = Trainer(net, mnist.train_x[:800], mnist.train_y[:800], MODERN.config)
    guard = Guard(trainer)
    report, trouble = guard.step(30)
    assert trouble is None and report.first_step == 0 and len(report.costs) == 30
    assert len(report.learning_rates) == 30 and trainer.step_count == 30
    report, _ = guard.step(100, stop_at_epoch_end=True)  # 50 steps per epoch
    assert len(report.costs) == 20 and report.epochs_completed == (1,)
    assert report.first_step == 30 and trainer.position == 0


def test_same_seed_same_run_with_the_guard(mnist) -> None:
    results = []
    for _ in range(2):
        guard = guarded(mnist, MODERN)
        run(guard, 300)
        guard.trainer.configure(learning_rate=1000)
        report, trouble = guard.step(100)
        results.append((report.costs, trouble, guard.trainer.net.theta.copy()))
    (costs_a, trouble_a, theta_a), (costs_b, trouble_b, theta_b) = results
    np.testing.assert_array_equal(costs_a, costs_b)
    np.testing.assert_array_equal(theta_a, theta_b)
    assert trouble_a == trouble_b


def test_the_guard_refuses_meaningless_settings(mnist) -> None:
    trainer = Trainer(Network(), mnist.train_x[:100], mnist.train_y[:100])
    with pytest.raises(ConfigError, match="the guard's counts must be >= 1"):
        Guard(trainer, window=0)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1000.0, "1000"),
        (0.3104, "0.31"),
        (167.3, "167"),
        (0.0001, "0.0001"),
        (2.302585, "2.3"),
        (12345.6, "12346"),
        (4.2e6, "4.2 million"),
        (1e20, "10^20"),
        (5.2e37, "5.2 × 10^37"),
        (float("inf"), "infinity"),
        (0.0, "0"),
    ],
)
def test_numbers_are_written_as_people_read_them(x: float, text: str) -> None:
    assert plain_number(x) == text

"""The training server through an Engine (child process and thread) on the real MNIST files."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import Hosted, hosting

from nnviz.core.health import Trouble
from nnviz.core.presets import MODERN
from nnviz.core.trainer import TrainConfig
from nnviz.engine.messages import (
    Configure,
    Evaluate,
    Failed,
    LoadData,
    Pause,
    Progress,
    Run,
    SetSnapshotRate,
    SetSpeed,
    SetTheta,
    StateChanged,
    Step,
    StepEpoch,
    UseNetwork,
)
from nnviz.engine.snapshot import Marker, Snapshot
from nnviz.engine.training import TrainingServer

BATCH = MODERN.config.batch_size
STEPS_PER_EPOCH = math.ceil(60_000 / BATCH)


class Training:
    """A training server hosted by an Engine, and what it said."""

    def __init__(self, hosted: Hosted) -> None:
        self.hosted = hosted
        self.post = hosted.post
        self.wait = hosted.wait

    def use(self, generation: int, seed: int = 0, progress: Progress | None = None) -> None:
        net = MODERN.network(seed=seed)
        self.post(
            UseNetwork(
                generation, net.sizes, net.activation, net.cost, net.theta, MODERN.config, progress
            )
        )

    def snapshots(self, generation: int | None = None) -> list[Snapshot]:
        every = self.hosted.of(Snapshot)
        return [s for s in every if generation is None or s.generation == generation]

    @property
    def last(self) -> Snapshot:
        snapshots = self.snapshots()
        assert snapshots, "no snapshot yet"
        return snapshots[-1]

    def last_is(self, **fields: object) -> bool:
        """Whether a snapshot arrived and the newest has these field values."""
        snapshots = self.snapshots()
        return bool(snapshots) and all(getattr(snapshots[-1], k) == v for k, v in fields.items())

    def all_steps(self, generation: int | None = None) -> np.ndarray:
        return np.concatenate([s.steps for s in self.snapshots(generation)])

    def all_costs(self, generation: int | None = None) -> np.ndarray:
        return np.concatenate([s.costs for s in self.snapshots(generation)])

    def markers(self) -> list[Marker]:
        return [m for s in self.snapshots() for m in s.markers]

    @property
    def states(self) -> list[str]:
        return [r.state for r in self.hosted.of(StateChanged)]

    def paused_after(self, count: int) -> bool:
        """Whether a paused snapshot arrived after the first ``count`` snapshots."""
        return any(s.state == "paused" for s in self.snapshots()[count:])


@pytest.fixture
def training(mode: str, mnist_dir: Path) -> Iterator[Training]:
    """A paused training server with the modern network and MNIST loaded."""
    with hosting(TrainingServer, mode, "training") as hosted:
        t = Training(hosted)
        t.use(generation=1)
        t.post(LoadData(str(mnist_dir)))
        t.wait(lambda: t.last_is(state="paused"), what="the data to load")
        assert t.last.step == 0 and t.last.generation == 1
        yield t
        assert not hosted.of(Failed), hosted.of(Failed)
        assert not hosted.deaths


def config(**changes: object) -> TrainConfig:
    return dataclasses.replace(MODERN.config, **changes)  # type: ignore[arg-type]


def test_snapshots_carry_every_minibatch_cost_exactly_once(training: Training) -> None:
    t = training
    t.post(Run())
    t.wait(lambda: t.last.step > 2000, what="2000 steps")
    count = len(t.snapshots())
    t.post(Pause())
    t.wait(lambda: t.paused_after(count), what="the pause")
    last = t.last
    assert last.state == "paused"
    assert np.array_equal(t.all_steps(), np.arange(last.step))  # none lost, none twice
    assert np.all(np.isfinite(t.all_costs()))
    assert t.states[-2:] == ["running", "paused"]
    assert last.samples_seen == last.step * BATCH
    assert last.epoch == last.step // STEPS_PER_EPOCH


@pytest.mark.parametrize("speed", [0.0, 250.0], ids=["full-speed", "fast-slow-motion"])
def test_snapshots_while_running_keep_to_the_snapshot_rate(
    training: Training, speed: float
) -> None:
    """At most ``rate`` snapshots a second, also when slow motion runs more steps than that."""
    t = training
    rate = 10.0
    t.post(SetSnapshotRate(rate), SetSpeed(speed))
    count = len(t.snapshots())
    start = time.perf_counter()
    t.post(Run())
    t.wait(
        lambda: time.perf_counter() - start > 1.5 and len(t.snapshots()) >= count + 5,
        what="snapshots while running",
    )
    timed = t.hosted.timed(Snapshot)[count:]
    states = [snap.state for _, snap in timed]
    first = states.index("running")  # before it: the settings commands' snapshot, if any
    assert set(states[:first]) <= {"paused"} and set(states[first:]) == {"running"}
    for k, (when, _) in enumerate(timed[first:], start=1):
        # the first (Run) at once, then at most one each 1/rate seconds
        assert k <= rate * (when - start) + 2, f"snapshot {k} after {when - start:.3f} s"
    count = len(t.snapshots())
    t.post(Pause())
    t.wait(lambda: t.paused_after(count), what="the pause")
    assert np.array_equal(t.all_steps(), np.arange(t.last.step))  # every cost, once


def test_no_snapshots_while_paused_and_nothing_changes(training: Training) -> None:
    """Each snapshot redraws every panel: a paused server stays quiet."""
    t = training
    t.post(Run())
    t.wait(lambda: t.last.step > 100, what="100 steps")
    count = len(t.snapshots())
    t.post(Pause())
    t.wait(lambda: t.paused_after(count), what="the pause")
    settled = len(t.snapshots())
    assert t.last.state == "paused"  # the pause's snapshot is the last one
    time.sleep(1.2)
    assert len(t.snapshots()) == settled
    assert np.array_equal(t.all_steps(), np.arange(t.last.step))  # none held back
    t.post(Step(1))  # a command still answers at once
    t.wait(lambda: len(t.snapshots()) > settled, what="the step's snapshot")


def test_single_steps_while_paused(training: Training) -> None:
    t = training
    t.post(Step(1))
    t.wait(lambda: t.last.step == 1, what="step 1")
    t.post(Step(5))
    t.wait(lambda: t.last.step == 6, what="step 6")
    time.sleep(0.2)
    assert t.last.step == 6 and t.last.state == "paused"
    assert t.all_steps().tolist() == [0, 1, 2, 3, 4, 5]
    assert "running" not in t.states


def test_step_epoch_runs_to_the_end_of_the_epoch_and_evaluates(training: Training) -> None:
    t = training
    t.post(Step(10), StepEpoch())
    t.wait(lambda: any(s.evaluations for s in t.snapshots()), what="the evaluation")
    t.wait(lambda: t.last_is(state="paused", step=STEPS_PER_EPOCH), what="the end of the epoch")
    results = [e for s in t.snapshots() for e in s.evaluations]
    assert len(results) == 1
    result = results[0]
    assert result.epoch == 1 and result.step == STEPS_PER_EPOCH and not result.on_demand
    assert 0.85 < result.accuracy <= 1.0
    assert result.confusion.sum() == 10_000
    assert t.last.epoch == 1 and t.last.epoch_fraction == 0.0 and t.last.position == 0
    assert np.array_equal(t.all_steps(), np.arange(STEPS_PER_EPOCH))


def test_live_settings_change_is_marked(training: Training) -> None:
    t = training
    t.post(Step(3))
    t.wait(lambda: t.last.step == 3, what="step 3")
    t.post(Configure(config(learning_rate=0.02, schedule="constant"), "lr 0.02"), Step(2))
    t.wait(lambda: t.last.step == 5, what="step 5")
    assert t.markers() == [Marker(3, "lr 0.02")]
    assert t.last.learning_rate == pytest.approx(0.02)


def test_divergence_pauses_with_trouble_and_training_on_works(training: Training) -> None:
    t = training
    t.post(Configure(config(learning_rate=1000.0, schedule="constant")), Run())
    t.wait(lambda: t.hosted.of(Trouble), what="the trouble report")
    t.wait(lambda: t.last_is(state="diverged"), what="the diverged snapshot")
    (trouble,) = t.hosted.of(Trouble)
    assert trouble.kind == "diverged"
    assert "diverged" in trouble.message and "learning rate 1000" in trouble.message
    assert "diverged" in t.states
    last = t.last
    assert np.all(np.isfinite(last.theta))
    assert any(m.text.startswith("back to step") for m in t.markers())
    count = len(t.snapshots())
    time.sleep(0.3)
    assert len(t.snapshots()) == count and t.last.step == last.step  # it really stopped
    # a sane learning rate trains on from the parameters put back
    t.post(Configure(config(learning_rate=0.1), "lr 0.1"), Run())
    t.wait(lambda: t.last.step > last.step + 1500, what="1500 more steps")
    count = len(t.snapshots())
    t.post(Pause())
    t.wait(lambda: t.paused_after(count), what="the pause")
    assert len(t.hosted.of(Trouble)) == 1
    assert t.states[-2:] == ["running", "paused"]
    assert np.all(np.isfinite(t.last.theta))
    costs = t.all_costs()[-300:]
    assert np.all(np.isfinite(costs)) and costs.mean() < 1.0  # learning (chance: 2.3)


def test_evaluate_on_demand_sends_outputs(training: Training) -> None:
    t = training
    t.post(Evaluate())
    t.wait(lambda: any(s.evaluations for s in t.snapshots()), what="the evaluation")
    (result,) = [e for s in t.snapshots() for e in s.evaluations]
    assert result.on_demand and result.outputs is not None
    assert result.outputs.shape == (10_000, 10)
    predictions = result.outputs.argmax(axis=1)
    assert result.confusion.sum() == 10_000
    assert np.trace(result.confusion) == pytest.approx(result.accuracy * 10_000)
    assert np.bincount(predictions, minlength=10).tolist() == result.confusion.sum(axis=0).tolist()
    assert t.last.step == 0 and t.last.state == "paused"


def test_set_theta_replaces_parameters_and_ignores_another_generation(
    training: Training,
) -> None:
    t = training
    t.post(Step(3))
    t.wait(lambda: t.last.step == 3, what="step 3")
    theta = t.last.theta + 0.5
    t.post(SetTheta(1, theta, "one example"))
    t.wait(lambda: np.array_equal(t.last.theta, theta), what="the new parameters")
    t.post(SetTheta(8, theta * 0, "other"), Evaluate())  # another network: ignored
    t.wait(lambda: any(s.evaluations for s in t.snapshots()), what="the evaluation")
    assert np.array_equal(t.last.theta, theta) and t.last.step == 3
    assert t.markers() == [Marker(3, "one example")]
    t.post(Step(2))  # the run goes on from the new parameters
    t.wait(lambda: t.last.step == 5, what="step 5")
    assert not np.array_equal(t.last.theta, theta)


def test_a_network_put_back_continues_counting_from_its_progress(training: Training) -> None:
    t = training
    t.post(Step(3))
    t.wait(lambda: t.last.step == 3, what="step 3")
    step, position = STEPS_PER_EPOCH + 50, 50 * BATCH
    progress = Progress(step, 1, position, 60_000 + position)
    t.use(generation=2, seed=5, progress=progress)
    t.wait(lambda: t.snapshots(2), what="the new network")
    first = t.snapshots(2)[0]
    assert first.state == "paused" and first.step == step and first.epoch == 1
    assert first.position == position and first.samples_seen == progress.samples_seen
    assert first.epoch_fraction == pytest.approx(position / 60_000)
    assert np.array_equal(first.theta, MODERN.network(seed=5).theta)
    assert first.steps.size == 0  # nothing of the network it replaced
    t.post(Step(4))
    t.wait(lambda: t.last_is(generation=2, step=step + 4), what="four more steps")
    assert t.all_steps(2).tolist() == list(range(step, step + 4))
    last = t.last
    assert last.position == position + 4 * BATCH and last.epoch == 1
    assert last.samples_seen == progress.samples_seen + 4 * BATCH


def test_slow_motion_never_runs_faster_than_asked(training: Training) -> None:
    t = training
    speed = 5.0
    t.post(Run())
    t.wait(lambda: t.last.step > 50, what="50 steps at full speed")
    start = time.perf_counter()  # slow motion starts after this
    t.post(SetSpeed(speed), Configure(MODERN.config, "slow"))
    t.wait(t.markers, what="the marker")
    (marker,) = t.markers()
    first = marker.step  # at least the step count when slow motion started
    t.wait(
        lambda: time.perf_counter() - start > 2.0 and t.last.step >= first + 5,
        what="a few slow steps",
    )
    for when, snap in t.hosted.timed(Snapshot):
        if when > start and snap.step > first:
            assert snap.step - first <= speed * (when - start) + 2, (
                f"{snap.step - first} steps in {when - start:.3f} s at {speed} steps a second"
            )
    assert t.last.state == "running"
    # full speed again: thousands of steps
    slow = t.last.step
    t.post(SetSpeed(0))
    t.wait(lambda: t.last.step > slow + 5000, what="5000 steps at full speed")
    t.post(Pause())

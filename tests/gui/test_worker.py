"""The training worker in a real QThread: commands, snapshots, divergence, shutdown."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from nnviz.core.presets import MODERN
from nnviz.engine.snapshot import Mailbox, Marker, Snapshot
from nnviz.gui.worker import TrainingWorker, WorkerHandle


class Receiver(QObject):
    """Lives in the GUI thread and takes every snapshot, like the main window."""

    def __init__(self, worker: TrainingWorker) -> None:
        super().__init__()
        self.worker = worker
        self.snapshots: list[Snapshot] = []
        self.states: list[str] = []
        self.diverged: list[str] = []
        self.data: list[object] = []
        worker.snapshot_ready.connect(self.take)
        worker.state_changed.connect(self.on_state)
        worker.diverged.connect(self.on_diverged)
        worker.data_ready.connect(self.on_data)

    @Slot()
    def take(self) -> None:
        snap = self.worker.mailbox.take()
        if snap is not None:
            self.snapshots.append(snap)

    @Slot(str)
    def on_state(self, state: str) -> None:
        self.states.append(state)

    @Slot(str)
    def on_diverged(self, message: str) -> None:
        self.diverged.append(message)

    @Slot(object)
    def on_data(self, data: object) -> None:
        self.data.append(data)

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    def all_steps(self) -> np.ndarray:
        return np.concatenate([s.steps for s in self.snapshots])


@pytest.fixture
def running(qtbot, mnist_dir: Path):
    net = MODERN.network()
    worker = TrainingWorker(net, MODERN.config)
    receiver = Receiver(worker)
    handle = WorkerHandle(worker, "test-training")
    try:
        worker.load_data(mnist_dir, download=False)
        qtbot.waitUntil(lambda: bool(receiver.data), timeout=10_000)
        yield worker, receiver, handle
    finally:
        assert handle.shutdown()


def test_mailbox_keeps_every_cost_but_only_the_newest_parameters() -> None:
    box = Mailbox()
    theta = np.zeros(3)
    first = Snapshot(
        0,
        (1, 2),
        "sigmoid",
        "quadratic",
        theta,
        step=2,
        steps=np.array([0, 1]),
        costs=np.array([1.0, 0.9]),
        markers=(Marker(1, "lr 0.1"),),
    )
    second = Snapshot(
        0,
        (1, 2),
        "sigmoid",
        "quadratic",
        theta + 1,
        step=3,
        steps=np.array([2]),
        costs=np.array([0.8]),
    )
    assert box.put(first) is True  # empty: the GUI needs a ping
    assert box.put(second) is False  # not taken yet: merged, no second ping
    taken = box.take()
    assert taken is not None and box.take() is None
    assert taken.steps.tolist() == [0, 1, 2] and taken.costs.tolist() == [1.0, 0.9, 0.8]
    assert taken.theta[0] == 1 and taken.step == 3
    assert taken.markers == (Marker(1, "lr 0.1"),)


def test_mailbox_drops_history_of_a_replaced_network() -> None:
    box = Mailbox()
    old = Snapshot(
        0, (1, 2), "sigmoid", "quadratic", np.zeros(3), steps=np.array([5]), costs=np.array([1.0])
    )
    new = Snapshot(1, (1, 2), "sigmoid", "quadratic", np.zeros(3))
    box.put(old)
    box.put(new)
    taken = box.take()
    assert taken is not None and taken.generation == 1 and taken.costs.size == 0


def test_training_sends_snapshots_with_every_minibatch_cost(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.start_training()
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.step > 2000), timeout=10_000)
    worker.pause()
    qtbot.waitUntil(lambda: bool(receiver.last.state == "paused"), timeout=5000)
    steps = receiver.all_steps()
    assert np.array_equal(steps, np.arange(receiver.last.step))  # none lost, none twice
    assert all(np.isfinite(s.costs).all() for s in receiver.snapshots)
    assert "running" in receiver.states and receiver.states[-1] == "paused"
    assert receiver.last.samples_seen == receiver.last.step * MODERN.config.batch_size


def test_snapshots_are_capped_near_30_per_second(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.start_training()
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.state == "running"))
    before, start = len(receiver.snapshots), time.perf_counter()
    qtbot.wait(1500)
    rate = (len(receiver.snapshots) - before) / (time.perf_counter() - start)
    worker.pause()
    assert 5 < rate <= 40


def test_no_snapshots_while_paused_and_nothing_changes(qtbot, running) -> None:
    """Each snapshot redraws every panel: a paused engine stays quiet (it sent 4 a second)."""
    worker, receiver, _ = running
    worker.start_training()
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.step > 100), timeout=10_000)
    worker.pause()
    qtbot.waitUntil(lambda: bool(receiver.last.state == "paused"), timeout=5000)
    qtbot.wait(300)  # the last costs of the run may follow the pause
    settled = len(receiver.snapshots)
    qtbot.wait(1200)
    assert len(receiver.snapshots) == settled
    assert np.array_equal(receiver.all_steps(), np.arange(receiver.last.step))  # none held back
    worker.step_once(1)  # a command still answers at once
    qtbot.waitUntil(lambda: len(receiver.snapshots) > settled, timeout=5000)


def test_single_steps_while_paused(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.step_once(1)
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.step == 1), timeout=5000)
    worker.step_once(5)
    qtbot.waitUntil(lambda: bool(receiver.last.step == 6), timeout=5000)
    qtbot.wait(200)
    assert receiver.last.step == 6 and receiver.last.state == "paused"


def test_step_epoch_runs_to_the_end_of_the_epoch_and_evaluates(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.step_once(10)
    worker.step_epoch()
    qtbot.waitUntil(lambda: bool(any(s.evaluations for s in receiver.snapshots)), timeout=20_000)
    qtbot.waitUntil(lambda: bool(receiver.last.state == "paused"), timeout=5000)
    result = next(s for s in receiver.snapshots if s.evaluations).evaluations[0]
    assert result.epoch == 1 and 0.85 < result.accuracy <= 1.0
    assert result.confusion.sum() == 10_000
    assert receiver.last.epoch == 1 and receiver.last.epoch_fraction == 0.0


def test_live_learning_rate_change_is_marked(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.step_once(3)
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.step == 3), timeout=5000)
    worker.configure(label="lr 0.02", learning_rate=0.02, schedule="constant")
    worker.step_once(2)
    qtbot.waitUntil(lambda: bool(receiver.last.step == 5), timeout=5000)
    markers = [m for s in receiver.snapshots for m in s.markers]
    assert markers == [Marker(3, "lr 0.02")]
    assert receiver.last.learning_rate == pytest.approx(0.02)


def test_divergence_pauses_and_keeps_finite_parameters(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.configure(learning_rate=1000.0, schedule="constant")
    worker.start_training()
    qtbot.waitUntil(lambda: bool(receiver.diverged), timeout=10_000)
    qtbot.waitUntil(lambda: bool(receiver.last.state == "diverged"), timeout=5000)
    assert "diverged" in receiver.diverged[0] and "learning rate 1000" in receiver.diverged[0]
    assert np.all(np.isfinite(receiver.last.theta))
    step = receiver.last.step
    qtbot.wait(300)
    assert receiver.last.step == step  # it really stopped


def test_shutdown_mid_training_is_quick(qtbot, running) -> None:
    worker, receiver, handle = running
    worker.start_training()
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.state == "running"))
    start = time.perf_counter()
    assert handle.shutdown(timeout_ms=1000)
    assert time.perf_counter() - start < 1.0
    assert handle.shutdown()  # idempotent


def test_evaluate_on_demand_sends_outputs(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.evaluate()
    qtbot.waitUntil(lambda: any(s.evaluations for s in receiver.snapshots), timeout=10_000)
    result = next(s for s in receiver.snapshots if s.evaluations).evaluations[-1]
    assert result.on_demand and result.outputs.shape == (10_000, 10)
    predictions = result.outputs.argmax(axis=1)
    assert result.confusion.sum() == 10_000
    assert np.trace(result.confusion) == pytest.approx(result.accuracy * 10_000)
    assert np.bincount(predictions, minlength=10).tolist() == result.confusion.sum(axis=0).tolist()


def test_set_theta_replaces_parameters_and_keeps_the_run(qtbot, running) -> None:
    worker, receiver, _ = running
    worker.step_once(3)
    qtbot.waitUntil(lambda: bool(receiver.snapshots and receiver.last.step == 3), timeout=5000)
    theta = receiver.last.theta + 0.5
    worker.set_theta(receiver.last.generation, theta, "one example")
    worker.set_theta(receiver.last.generation + 7, theta * 0, "")  # another network: ignored
    qtbot.waitUntil(lambda: bool(np.allclose(receiver.last.theta, theta)), timeout=5000)
    qtbot.wait(200)
    assert np.allclose(receiver.last.theta, theta) and receiver.last.step == 3
    assert Marker(3, "one example") in [m for s in receiver.snapshots for m in s.markers]

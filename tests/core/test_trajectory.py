"""The SGD-path recorder: even spacing, bounded memory, first and newest kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnviz.core.errors import ConfigError
from nnviz.core.trajectory import Trajectory


def theta_at(step: int, n: int = 4) -> np.ndarray:
    """A distinct, recognisable parameter vector for each step."""
    return np.arange(n, dtype=np.float32) + np.float32(step)


def test_points_are_copies_with_their_steps_and_costs() -> None:
    traj = Trajectory(4, capacity=10)
    theta = theta_at(0)
    traj.record(0, theta, cost=2.5)
    theta += 100  # the recorder holds its own copy
    traj.record(1, theta_at(1))
    assert len(traj) == 2
    np.testing.assert_array_equal(traj.thetas, [theta_at(0), theta_at(1)])
    assert traj.steps.tolist() == [0, 1] and traj.steps.dtype == np.int64
    assert traj.costs[0] == 2.5 and math.isnan(traj.costs[1])
    assert traj.first.step == 0 and traj.newest.step == 1
    np.testing.assert_array_equal(traj.newest.theta, theta_at(1))


def test_first_and_newest_are_always_kept() -> None:
    traj = Trajectory(4, capacity=7)
    for step in range(5, 1000):
        traj.record(step, theta_at(step))
        assert traj.first.step == 5 and traj.newest.step == step
        np.testing.assert_array_equal(traj.thetas[0], theta_at(5))
        np.testing.assert_array_equal(traj.thetas[-1], theta_at(step))


def test_memory_is_bounded_and_the_buffer_never_reallocated() -> None:
    traj = Trajectory(4, capacity=50)
    traj.record(0, theta_at(0))
    base, nbytes = traj.thetas.base, traj.nbytes
    for step in range(1, 100_000):
        traj.record(step, theta_at(step))
        assert len(traj) <= 50
    assert traj.thetas.base is base and traj.nbytes == nbytes == 50 * 4 * 4
    assert traj.steps.base is not None and traj.costs.base is not None
    assert traj.stride >= 100_000 // 50


def test_kept_steps_are_evenly_spaced_by_the_stride() -> None:
    traj = Trajectory(3, capacity=40)
    for step in range(10_000):
        traj.record(step, theta_at(step, 3))
        gaps = np.diff(traj.steps)
        assert np.all(gaps[:-1] == traj.stride), (step, traj.steps)
        assert len(gaps) == 0 or 1 <= gaps[-1] <= traj.stride
    assert traj.stride in (2**k for k in range(20)) and traj.stride > 1
    # the stride grid starts at the first step and covers the whole run
    assert traj.steps[0] == 0 and traj.steps[-1] == 9999
    assert len(traj) > 40 // 2


def test_irregular_steps_are_at_least_a_stride_apart() -> None:
    rng = np.random.default_rng(0)
    traj = Trajectory(2, capacity=16)
    step = 0
    for _ in range(3000):
        step += int(rng.integers(1, 9))
        traj.record(step, theta_at(step, 2))
    gaps = np.diff(traj.steps)
    assert np.all(gaps[:-1] >= traj.stride) and len(traj) <= 16
    assert traj.newest.step == step


def test_max_bytes_caps_the_capacity() -> None:
    traj = Trajectory(1000, capacity=2000, max_bytes=40_000)
    assert traj.capacity == 10 and traj.nbytes == 40_000
    wide = Trajectory(1000, capacity=2000, max_bytes=40_000, dtype=np.float64)
    assert wide.capacity == 5 and wide.nbytes <= 40_000
    tiny = Trajectory(1000, max_bytes=1)
    assert tiny.capacity == 3  # never fewer than three points
    for step in range(100):
        tiny.record(step, np.full(1000, step, dtype=np.float32))
    assert len(tiny) <= 3 and tiny.first.step == 0 and tiny.newest.step == 99


def test_costs_follow_their_points_through_decimation() -> None:
    traj = Trajectory(2, capacity=8)
    for step in range(8):
        traj.record(step, theta_at(step, 2))
    assert traj.missing_cost_indices().tolist() == list(range(8))
    for i in range(8):
        traj.set_cost(i, 10.0 * traj.steps[i])
    traj.set_cost(-1, 70.0)
    assert traj.missing_cost_indices().size == 0
    for step in range(8, 12):
        traj.record(step, theta_at(step, 2))
    known = ~np.isnan(traj.costs)
    np.testing.assert_array_equal(traj.costs[known], 10.0 * traj.steps[known])
    assert traj.missing_cost_indices().tolist() == np.flatnonzero(~known).tolist()
    index = traj.index_of(4)
    assert index is not None and traj.costs[index] == 40.0
    assert traj.index_of(5) is None  # dropped when the stride doubled
    with pytest.raises(IndexError):
        traj.set_cost(len(traj), 1.0)


def test_steps_must_not_go_backwards_and_equal_steps_replace() -> None:
    traj = Trajectory(2)
    traj.record(5, theta_at(5, 2), cost=1.0)
    traj.record(5, theta_at(50, 2))
    assert len(traj) == 1 and math.isnan(traj.costs[0])
    np.testing.assert_array_equal(traj.newest.theta, theta_at(50, 2))
    with pytest.raises(ConfigError, match="steps must increase"):
        traj.record(4, theta_at(4, 2))
    assert len(traj) == 1


def test_bad_shapes_and_settings_are_refused() -> None:
    traj = Trajectory(3, capacity=3)
    with pytest.raises(ConfigError, match="shape"):
        traj.record(0, np.zeros(4))
    assert len(traj) == 0
    for step in range(3):
        traj.record(step, np.zeros(3))
    with pytest.raises(ConfigError, match="shape"):
        traj.record(3, np.zeros((3, 1)))  # even when the buffer is full
    assert traj.steps.tolist() == [0, 1, 2]
    with pytest.raises(ConfigError, match="dtype"):
        Trajectory(3, dtype=np.int32)
    with pytest.raises(ConfigError, match="n_params"):
        Trajectory(0)


def test_clear_forgets_the_points_but_keeps_the_buffer() -> None:
    traj = Trajectory(2, capacity=4)
    for step in range(20):
        traj.record(step, theta_at(step, 2), cost=1.0)
    base = traj.thetas.base
    traj.clear()
    assert len(traj) == 0 and traj.stride == 1
    with pytest.raises(IndexError, match="empty"):
        _ = traj.newest
    traj.record(3, theta_at(3, 2))
    assert traj.thetas.base is base and traj.steps.tolist() == [3]
    assert math.isnan(traj.costs[0])


def test_views_of_first_and_newest_are_read_only() -> None:
    traj = Trajectory(2)
    traj.record(0, theta_at(0, 2))
    with pytest.raises(ValueError):
        traj.first.theta[0] = 1.0

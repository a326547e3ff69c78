"""The runner: an Engine hosting a small test server in a child process or in a thread.

The test servers live at module level: a spawned child unpickles the factory
by reference and imports this module (the parent's ``sys.path``, which holds
this folder, is handed to it).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import struct
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
from engine_helpers import Hosted, hosting, process_gone, wait_until

from nnviz.engine.messages import (
    Failed,
    GridProgress,
    PathView,
    StateChanged,
    Stop,
)
from nnviz.engine.runner import MAX_RESTARTS, Engine, Inbox, Port
from nnviz.engine.snapshot import Marker, Snapshot

#: Floats in each large array (8 bytes each: 32 MB).
BIG = 4_000_000


# ------------------------------------------------------------------ the test server
@dataclass(frozen=True)
class Echo:
    """Answered with itself."""

    value: object


@dataclass(frozen=True)
class Blob:
    """A large array; answered with itself."""

    tag: int
    data: np.ndarray


@dataclass(frozen=True)
class Flood:
    """Send ``n`` blobs of ``size`` floats at once (tags -1, -2, ...)."""

    n: int
    size: int


@dataclass(frozen=True)
class Crash:
    """Raise from ``run``."""

    message: str


@dataclass(frozen=True)
class Spin:
    """Say Echo("spinning"), then compute forever without looking at the commands."""


@dataclass(frozen=True)
class HalfReply:
    """Child only: write the first bytes of a 1 MB reply, then stop (SIGSTOP) itself."""


class EchoServer:
    """Answers every command, in order; a few commands misbehave on purpose."""

    def run(self, port: Port) -> None:
        while not port.stopping:
            command = port.receive(0.05)
            match command:
                case None | Stop():
                    pass
                case Flood(n, size):
                    for i in range(1, n + 1):
                        port.send(Blob(-i, np.full(size, float(-i))))
                case Crash(message):
                    raise RuntimeError(message)
                case Spin():
                    port.send(Echo("spinning"))
                    while True:  # never reads a command again
                        sum(range(1000))
                case HalfReply():
                    # A Connection message is a 4-byte length, then the pickle. Write
                    # the length of 1 MB and 100 bytes, as a child stopped mid-send.
                    pipe = port._replies  # type: ignore[attr-defined]  # the child's PipePort
                    os.write(pipe.fileno(), struct.pack("!i", 1_000_000) + bytes(100))
                    os.kill(os.getpid(), signal.SIGSTOP)
                case _:
                    port.send(command)


def echoed(hosted: Hosted) -> list[object]:
    """The values of the Echo replies so far."""
    return [reply.value for reply in hosted.of(Echo)]


def answered(hosted: Hosted, value: object) -> None:
    """Post Echo(value) and wait for its answer."""
    hosted.post(Echo(value))
    hosted.wait(lambda: value in echoed(hosted), what=f"the answer to Echo({value!r})")


# ------------------------------------------------------------------ order and size
def test_commands_and_replies_keep_their_order(mode: str) -> None:
    hosted = Hosted(EchoServer, mode)
    try:
        hosted.post(*(Echo(i) for i in range(10)))  # before drive() starts: kept, in order
        hosted.start()
        hosted.post(*(Echo(i) for i in range(10, 2000)))
        hosted.wait(lambda: len(echoed(hosted)) >= 2000, what="2000 answers")
        assert echoed(hosted) == list(range(2000))
        assert not hosted.deaths
    finally:
        hosted.stop()


def test_large_messages_both_ways_at_once_never_deadlock(mode: str) -> None:
    """Several 32 MB arrays each way at the same time: the server sends while the app writes."""
    with hosting(EchoServer, mode) as hosted:
        sent = 4
        hosted.post(Flood(sent, BIG))
        hosted.post(*(Blob(tag, np.full(BIG, float(tag))) for tag in range(sent)))
        hosted.wait(lambda: len(hosted.of(Blob)) >= 2 * sent, what="every large array")
        blobs = hosted.of(Blob)
        assert [b.tag for b in blobs] == [-1, -2, -3, -4, 0, 1, 2, 3]
        for blob in blobs:
            assert blob.data.shape == (BIG,) and np.all(blob.data == blob.tag)
        hosted.clear()
        answered(hosted, "still there")
        assert not hosted.deaths


# ------------------------------------------------------------------ deaths
def test_a_killed_child_is_restarted_and_given_up_after_too_many_deaths() -> None:
    with hosting(EchoServer, "process") as hosted:
        pids: list[int] = []
        for death in range(1, MAX_RESTARTS + 2):
            answered(hosted, death)  # the (new) child answers
            pid = hosted.wait_pid()
            assert pid not in pids
            pids.append(pid)
            os.kill(pid, signal.SIGKILL)
            hosted.wait(lambda n=death: len(hosted.deaths) >= n, what=f"death {death} noticed")
            assert len(hosted.deaths) == death
            assert "SIGKILL" in hosted.deaths[-1], hosted.deaths[-1]
        for message in hosted.deaths[:MAX_RESTARTS]:
            assert "stopped unexpectedly" in message
        last = hosted.deaths[-1]
        assert "does not start it again" in last and f"{MAX_RESTARTS + 1} times" in last
        # given up: no new child was started, and the engine still stops cleanly
        assert multiprocessing.active_children() == []
    assert hosted.deaths[-1] == last  # stopping is not a death
    assert all(process_gone(pid) for pid in pids)


def test_a_server_that_raises_is_reported_and_served_again(mode: str) -> None:
    with hosting(EchoServer, mode) as hosted:
        answered(hosted, "before")
        for crash in range(1, MAX_RESTARTS + 2):
            hosted.post(Crash(f"boom {crash}"))
            hosted.wait(lambda n=crash: len(hosted.deaths) >= n, what=f"crash {crash} reported")
            message = hosted.deaths[-1]
            if mode == "thread":  # the exception itself is reported
                assert f"boom {crash}" in message
                failures = hosted.of(Failed)
                assert len(failures) == crash and f"boom {crash}" in failures[-1].message
            else:  # the child exited with the exception's traceback
                assert "exited with code 1" in message, message
            if crash <= MAX_RESTARTS:
                assert "stopped unexpectedly" in message
                answered(hosted, crash)  # served again, from scratch
        assert "does not start it again" in hosted.deaths[-1]
        assert len(hosted.deaths) == MAX_RESTARTS + 1


# ------------------------------------------------------------------ stopping
def test_stop_ends_drive(mode: str) -> None:
    hosted = Hosted(EchoServer, mode).start()
    answered(hosted, 1)
    pid = hosted.engine.pid
    hosted.stop()
    assert not hosted.deaths
    if mode == "process":
        assert pid is not None and process_gone(pid)
        assert hosted.engine.pid is None


def test_stop_before_drive_starts(mode: str) -> None:
    hosted = Hosted(EchoServer, mode)
    hosted.post(Echo(1))
    hosted.engine.stop()
    hosted.start()
    hosted.thread.join(60)
    assert not hosted.thread.is_alive(), "drive() did not return"
    assert not hosted.deaths


def is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (state T in /proc; Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


@pytest.mark.parametrize("how", ["sigstop", "sigstop-mid-reply", "busy", "dead"])
def test_stop_leaves_no_process_whatever_the_child_does(how: str) -> None:
    """A stopped child (also half-way through a reply), one that never reads its commands,
    one already dead: all end."""
    hosted = Hosted(EchoServer, "process").start()
    try:
        answered(hosted, 1)
        pid = hosted.wait_pid()
        if how == "sigstop":
            os.kill(pid, signal.SIGSTOP)
            hosted.post(*(Blob(tag, np.zeros(BIG)) for tag in range(3)))  # the pipe is full
        elif how == "sigstop-mid-reply":  # the app is in the middle of reading a reply
            hosted.post(HalfReply())
            wait_until(lambda: is_stopped(pid), what="the child to stop itself")
        elif how == "busy":
            hosted.post(Spin())
            hosted.wait(lambda: "spinning" in echoed(hosted), what="the child to spin")
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        try:
            hosted.stop()
        finally:
            if not process_gone(pid):  # a failure here: do not leave it to the next tests
                os.kill(pid, signal.SIGKILL)
                multiprocessing.active_children()  # reaps it
    assert process_gone(pid)
    assert hosted.engine.pid is None


def test_a_stopped_child_does_not_block_post() -> None:
    """post() never blocks, even when the child is stopped and its pipe is full."""
    hosted = Hosted(EchoServer, "process").start()
    try:
        answered(hosted, 1)
        pid = hosted.wait_pid()
        os.kill(pid, signal.SIGSTOP)
        posted = threading.Event()

        def post_a_lot() -> None:
            for tag in range(4):  # far more than a pipe holds
                hosted.post(Blob(tag, np.zeros(BIG)))
            posted.set()

        threading.Thread(target=post_a_lot, daemon=True).start()
        wait_until(posted.is_set, what="post() to return")
        os.kill(pid, signal.SIGCONT)
        hosted.wait(lambda: len(hosted.of(Blob)) == 4, what="the arrays, once the child runs")
        hosted.clear()
    finally:
        hosted.stop()
    assert process_gone(pid)


# ------------------------------------------------------------------ the inbox
def snapshot(generation: int, theta: float, steps: list[int], **fields: object) -> Snapshot:
    costs = np.array([1.0 / (1 + s) for s in steps])
    return Snapshot(
        generation,
        (1, 2),
        "sigmoid",
        "quadratic",
        np.full(3, theta),
        steps=np.array(steps, dtype=np.int64),
        costs=costs,
        **fields,
    )


def test_inbox_keeps_every_cost_but_only_the_newest_parameters() -> None:
    box = Inbox()
    first = snapshot(0, 0.0, [0, 1], step=2, markers=(Marker(1, "lr 0.1"),))
    second = snapshot(0, 1.0, [2], step=3)
    assert box.put(first) is True  # empty: the reader needs a ping
    assert box.put(second) is False  # not taken yet: merged, no second ping
    taken = box.take()
    assert box.take() == []
    assert len(taken) == 1
    merged = taken[0]
    assert merged.steps.tolist() == [0, 1, 2] and merged.costs.tolist() == [1.0, 0.5, 1 / 3]
    assert merged.theta[0] == 1 and merged.step == 3
    assert merged.markers == (Marker(1, "lr 0.1"),)
    assert box.put(second) is True  # emptied by take: a ping again


def test_inbox_drops_the_history_of_a_replaced_network() -> None:
    box = Inbox()
    box.put(snapshot(0, 0.0, [5], markers=(Marker(5, "old"),)))
    box.put(snapshot(1, 0.0, []))
    (taken,) = box.take()
    assert taken.generation == 1 and taken.costs.size == 0 and taken.markers == ()


def test_inbox_keeps_the_order_and_merges_only_neighbours_of_one_type() -> None:
    box = Inbox()
    replies: list[object] = [
        snapshot(0, 0.0, [0]),
        StateChanged("running"),
        snapshot(0, 1.0, [1]),
        snapshot(0, 2.0, [2]),  # merges into the one before
        GridProgress(1, 5),
        GridProgress(2, 5),  # only the newest progress
        Failed("one"),
        Failed("two"),  # no absorb: both kept
        StateChanged("paused"),
        StateChanged("paused"),
    ]
    pings = [box.put(reply) for reply in replies]
    assert pings == [True] + [False] * (len(replies) - 1)
    taken = box.take()
    assert [type(r).__name__ for r in taken] == [
        "Snapshot",
        "StateChanged",
        "Snapshot",
        "GridProgress",
        "Failed",
        "Failed",
        "StateChanged",
        "StateChanged",
    ]
    assert taken[0].steps.tolist() == [0]
    assert taken[2].steps.tolist() == [1, 2] and taken[2].theta[0] == 2.0
    assert taken[3] == GridProgress(2, 5)
    assert [taken[4].message, taken[5].message] == ["one", "two"]


def test_inbox_keeps_the_newest_path_view() -> None:
    def view(fit: int) -> PathView:
        empty = np.zeros(0)
        return PathView(0, fit, empty, np.zeros((0, 2)), empty, empty, float("nan"), 0.0)

    box = Inbox()
    box.put(view(1))
    box.put(view(2))
    (taken,) = box.take()
    assert taken.fit == 2


def test_inbox_is_thread_safe() -> None:
    """Writers in four threads, a reader taking meanwhile: every cost arrives exactly once."""
    box = Inbox()
    received: list[int] = []
    done = threading.Event()

    def steps(items: list[object]) -> list[int]:
        return [int(s) for r in items if isinstance(r, Snapshot) for s in r.steps]

    def write(first: int) -> None:
        for s in range(first, first + 5000):
            box.put(snapshot(0, 0.0, [s]))
            box.put(Echo(s))

    def read() -> None:
        while not done.is_set():
            received.extend(steps(box.take()))
            time.sleep(0.001)

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(k * 10_000,)) for k in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    reader.join(60)
    assert not reader.is_alive()
    received.extend(steps(box.take()))
    assert sorted(received) == [k * 10_000 + s for k in range(4) for s in range(5000)]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="engine mode"):
        Engine(EchoServer, "test", "fork")

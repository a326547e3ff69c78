"""Helpers of the engine tests: an Engine driven in a thread, its replies, polling waits.

Never a wall-clock limit in an assertion: tests wait for conditions with
generous timeouts (the suite runs on a loaded two-core machine too).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nnviz.engine.runner import Engine, ServerFactory

#: Both ways an engine can host its server.
MODES = ("process", "thread")
#: Seconds a test waits for a condition that normally holds within a second.
TIMEOUT = 60.0


def wait_until(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail clearly after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(0.01)


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` exists any more (a zombie still exists: it must be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class Hosted:
    """An :class:`Engine` whose :meth:`Engine.drive` runs in a thread of the test.

    Every reply is kept with the time it was delivered (``time.perf_counter``),
    every ``died`` message too; both lists are read under a lock.
    """

    def __init__(self, factory: ServerFactory, mode: str, name: str = "test") -> None:
        self.engine = Engine(factory, name, mode)
        self._lock = threading.Lock()
        self._replies: list[tuple[float, object]] = []
        self._deaths: list[str] = []
        self.thread = threading.Thread(
            target=self.engine.drive,
            args=(self._deliver, self._died),
            name=f"drive-{name}-{mode}",
            daemon=True,
        )

    def start(self) -> Hosted:
        """Start driving the engine."""
        self.thread.start()
        return self

    def _deliver(self, reply: object) -> None:
        with self._lock:
            self._replies.append((time.perf_counter(), reply))

    def _died(self, message: str) -> None:
        with self._lock:
            self._deaths.append(message)

    def post(self, *commands: object) -> None:
        """Post the commands, in order."""
        for command in commands:
            self.engine.post(command)

    @property
    def replies(self) -> list[object]:
        """Every reply so far, in order."""
        with self._lock:
            return [reply for _, reply in self._replies]

    def timed[T](self, kind: type[T]) -> list[tuple[float, T]]:
        """``(delivery time, reply)`` of every reply of type ``kind``."""
        with self._lock:
            return [(t, r) for t, r in self._replies if isinstance(r, kind)]

    def of[T](self, kind: type[T]) -> list[T]:
        """Every reply of type ``kind``, in order."""
        return [reply for _, reply in self.timed(kind)]

    def clear(self) -> None:
        """Forget the replies so far (large ones take memory)."""
        with self._lock:
            self._replies.clear()

    @property
    def deaths(self) -> list[str]:
        """Every ``died`` message so far."""
        with self._lock:
            return list(self._deaths)

    def wait(
        self, predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = ""
    ) -> None:
        """:func:`wait_until`."""
        wait_until(predicate, timeout, what)

    def wait_pid(self) -> int:
        """The child's process id (process mode), once it exists."""
        wait_until(lambda: self.engine.pid is not None, what="the child process")
        pid = self.engine.pid
        assert pid is not None
        return pid

    def stop(self, timeout: float = TIMEOUT) -> None:
        """Stop the engine and join the drive thread; fail if it does not end."""
        self.engine.stop()
        if self.thread.ident is not None:  # it was started
            self.thread.join(timeout)
        assert not self.thread.is_alive(), f"drive() did not end within {timeout:g} s of stop()"


@contextmanager
def hosting(factory: ServerFactory, mode: str, name: str = "test") -> Iterator[Hosted]:
    """A started :class:`Hosted` engine, stopped (and its thread joined) at the end."""
    hosted = Hosted(factory, mode, name).start()
    try:
        yield hosted
    finally:
        hosted.stop()

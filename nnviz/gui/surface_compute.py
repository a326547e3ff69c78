"""Loss-surface number crunching in a child process (no Qt here).

Cost grids and true path costs keep a core busy for seconds. In a thread of
the GUI process they made the event loop stall for 0.5-1 s while training ran
(measured with the whole main window on 2 cores: every callback from Qt into
Python waited for the interpreter lock), so, like training
(:mod:`nnviz.engine`), they run in a separate process. The surface worker
thread keeps the path and the plane and sends jobs through a pipe:

- ``("data", job, x, y)``: the evaluation subset (sent once per subset);
- ``("grid", job, spec, plane, a, b)``: :func:`~nnviz.core.surface.cost_grid`,
  with ``("progress", job, rows_done, rows)`` after every row;
- ``("costs", job, spec, thetas)``: :func:`~nnviz.core.surface.path_costs`;
- ``("cancel", job)`` stops a running job after its current row or point;
  ``("stop",)`` ends the process.

Replies: ``("result", job, value)``, ``("cancelled", job)``, ``("failed", job, text)``.
``spec`` is ``(sizes, activation, cost)``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core import surface
from nnviz.core.datasets import StopFlag
from nnviz.core.errors import Cancelled, NnvizError
from nnviz.core.network import Network

Array = npt.NDArray[Any]
Spec = tuple[tuple[int, ...], str, str]

POLL_SECONDS = 0.02  # how often the waiting worker thread looks at its stop flags
NICE = 19  # lowest CPU priority: the picture waits; drawing and training go first
JOIN_SECONDS = 0.3  # how long a stopping process may finish its row before it is ended


# ------------------------------------------------------------------ the child process
def serve(conn: Connection) -> None:
    """Entry point of the surface process: answer jobs until ``stop`` or a closed pipe."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(NICE)  # the picture waits; drawing and training go first
    try:
        _Server(conn).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the app went away
    finally:
        conn.close()


class _Server:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.x: Array | None = None
        self.y: Array | None = None
        self.stopping = False

    def run(self) -> None:
        while not self.stopping:
            kind, *args = self.conn.recv()
            if kind == "stop":
                return
            if kind == "cancel":
                continue  # for a job that already ended
            job = args[0]
            try:
                self.conn.send(("result", job, getattr(self, f"do_{kind}")(job, *args[1:])))
            except Cancelled:
                self.conn.send(("cancelled", job))
            except NnvizError as exc:
                self.conn.send(("failed", job, str(exc)))
            except Exception as exc:  # a bug must not end the process
                self.conn.send(("failed", job, f"internal error: {exc}\n{traceback.format_exc()}"))

    def do_data(self, job: int, x: Array, y: Array) -> int:
        self.x, self.y = x, y
        return len(x)

    def do_grid(self, job: int, spec: Spec, plane: surface.Plane, a: Array, b: Array) -> Array:
        assert self.x is not None and self.y is not None

        def progress(done: int, rows: int) -> None:
            self.conn.send(("progress", job, done, rows))

        net = Network(*spec)
        # One thread: this process runs beside training and the GUI on few cores.
        return surface.cost_grid(
            net, plane, self.x, self.y, a, b, stop=_Cancel(self, job), progress=progress, workers=1
        )

    def do_costs(self, job: int, spec: Spec, thetas: Array) -> Array:
        assert self.x is not None and self.y is not None
        return surface.path_costs(Network(*spec), thetas, self.x, self.y, stop=_Cancel(self, job))


class _Cancel:
    """Stop flag of a running job: a ``cancel`` for it (or ``stop``) has arrived."""

    def __init__(self, server: _Server, job: int) -> None:
        self.server, self.job, self.cancelled = server, job, False

    def is_set(self) -> bool:
        conn = self.server.conn
        while not self.cancelled and conn.poll():
            kind, *args = conn.recv()
            if kind == "stop":
                self.server.stopping = self.cancelled = True
            elif kind == "cancel" and args[0] == self.job:
                self.cancelled = True
        return self.cancelled


# ------------------------------------------------------------------ the worker thread's side
class ComputeProcess:
    """The surface process as the worker thread sees it: blocking calls with a stop flag.

    The process starts on the first call (a fresh interpreter: ``spawn``, never a
    fork of a process running Qt) and again after it died; the evaluation
    subset is sent again then.
    """

    def __init__(self) -> None:
        self._process: Any = None
        self._conn: Connection | None = None
        self._job = 0
        self._data: tuple[Array, Array] | None = None

    def set_data(self, x: Array, y: Array) -> None:
        """The images and labels every later job evaluates the cost on."""
        self._data = (x, y)
        if self._alive():
            self._send_data()

    def grid(
        self, spec: Spec, plane: surface.Plane, a: Array, b: Array, stop: StopFlag,
        abandon: StopFlag, progress: Callable[[int, int], object],
        idle: Callable[[], object] | None = None,
    ) -> Array:  # fmt: skip
        """:func:`~nnviz.core.surface.cost_grid` in the process.

        ``stop`` cancels the job (the process ends its row first: the call
        returns when it has); ``abandon`` (the app quits) returns at once.
        Both raise :class:`~nnviz.core.errors.Cancelled`. ``progress(rows_done,
        rows)`` follows every row; ``idle()`` is called every ~20 ms meanwhile.
        """
        request = ("grid", spec, plane, a, b)
        result: Array = self._call(request, stop, abandon, progress, idle)
        return result

    def path_costs(
        self, spec: Spec, thetas: Array, stop: StopFlag, abandon: StopFlag,
        idle: Callable[[], object] | None = None,
    ) -> Array:  # fmt: skip
        """:func:`~nnviz.core.surface.path_costs` in the process."""
        request = ("costs", spec, np.ascontiguousarray(thetas))
        result: Array = self._call(request, stop, abandon, None, idle)
        return result

    def close(self) -> None:
        """End the process (it may finish its row), then kill it if it has not (idempotent)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("stop",))
        if process is not None:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(JOIN_SECONDS)
        if conn is not None:
            conn.close()

    # ------------------------------------------------------------------ internals
    def _alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _start(self) -> None:
        self.close()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child,), name="nnviz-surface", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        self._send_data()

    def _send_data(self) -> None:
        if self._data is not None:
            self._call(("data", *self._data), _NEVER, _NEVER)

    def _call(
        self, request: tuple[Any, ...], stop: StopFlag, abandon: StopFlag,
        progress: Callable[[int, int], object] | None = None,
        idle: Callable[[], object] | None = None,
    ) -> Any:  # fmt: skip
        if not self._alive():
            self._start()
        conn = self._conn
        assert conn is not None
        self._job += 1
        job = self._job
        try:
            conn.send((request[0], job, *request[1:]))
            return self._wait(conn, job, stop, abandon, progress, idle)
        except (EOFError, OSError) as exc:
            self.close()
            raise NnvizError(f"the loss-surface process stopped ({exc}); it restarts") from exc

    def _wait(
        self, conn: Connection, job: int, stop: StopFlag, abandon: StopFlag,
        progress: Callable[[int, int], object] | None, idle: Callable[[], object] | None,
    ) -> Any:  # fmt: skip
        cancelled = False
        while True:
            if abandon.is_set():
                raise Cancelled("the app is closing")
            if not cancelled and stop.is_set():
                conn.send(("cancel", job))
                cancelled = True
            if not conn.poll(POLL_SECONDS):
                if idle is not None:
                    idle()
                continue
            kind, reply_job, *payload = conn.recv()
            if reply_job != job:
                continue  # a late reply to an abandoned job
            if kind == "progress" and progress is not None:
                progress(*payload)
            elif kind == "result":
                if cancelled:  # it finished before it saw the cancel: stale all the same
                    raise Cancelled("the computation was stopped")
                return payload[0]
            elif kind == "cancelled":
                raise Cancelled("the computation was stopped")
            elif kind == "failed":
                raise NnvizError(payload[0])


class _Never:
    def is_set(self) -> bool:
        return False


_NEVER = _Never()

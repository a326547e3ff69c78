"""Running a server in a child process or in a thread, with one interface.

A *server* (the training server, the loss-surface server) is an object with
``run(port)``: it reads commands from the :class:`Port`, works, sends
replies, and returns when the port says it is stopping. An :class:`Engine`
hosts one server for the app:

- ``mode="process"`` (the default): the server runs in a fresh interpreter
  (``spawn``, never a fork of a process running Qt), so training and drawing
  do not take turns on one interpreter lock. Two one-way pipes join them.
  Nothing can deadlock whatever the message size, because each pipe always
  has a reader: in the child a reader thread drains commands into a queue
  while the server works; in the app a reader thread drains replies into a
  queue the owner thread (:meth:`Engine.drive`) takes them from (so a child
  stopped half-way through a reply cannot block it), and commands are written
  by a writer thread from an outbox, so :meth:`Engine.post` never blocks,
  even when the child is stopped.
- ``mode="thread"``: the very same server loop runs in the thread that calls
  :meth:`Engine.drive`, fed through a queue (no child process).

Either way :meth:`Engine.post` is thread-safe and puts a typed command on a
queue; the owner thread never needs an event loop of its own. A child that
dies is noticed at once (its reply pipe ends), started again, and reported through
``died`` so the app can put its state back. :meth:`Engine.stop` ends it all
within a deadline: a ``Stop`` command, then SIGTERM, then SIGKILL (which also
ends a stopped process).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from nnviz.engine.messages import Failed, Ready, Stop

#: Where an engine runs its server: a child process, or the owner thread.
ENGINE_MODES = ("process", "thread")
#: Seconds a stopping child may take to finish its current piece of work.
STOP_SECONDS = 0.5
#: Seconds to wait after SIGTERM before SIGKILL.
TERMINATE_SECONDS = 0.2
#: A server that dies this many times within RESTART_WINDOW seconds is given up.
MAX_RESTARTS = 3
RESTART_WINDOW = 60.0
#: How often the owner thread looks at its stop flag while nothing arrives.
POLL_SECONDS = 0.05


class Port(Protocol):
    """What a server sees of the app: commands in, replies out."""

    @property
    def stopping(self) -> bool:
        """A :class:`~nnviz.engine.messages.Stop` arrived, or the app went away."""
        ...

    def receive(self, timeout: float) -> object | None:
        """The next command, waiting at most ``timeout`` seconds; None if none came."""
        ...

    def send(self, reply: object) -> None:
        """A reply to the app."""
        ...


class Server(Protocol):
    """A loop that serves commands until its port is stopping."""

    def run(self, port: Port) -> None: ...


type ServerFactory = Callable[[], Server]


class QueuePort:
    """The port of a server running in a thread: a command queue, replies to a callback."""

    def __init__(self) -> None:
        self.commands: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.deliver: Callable[[object], None] = lambda _reply: None
        self._stop = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def post(self, command: object) -> None:
        """Queue a command (thread-safe); a Stop is seen at once, also mid-computation."""
        if isinstance(command, Stop):
            self._stop.set()
        self.commands.put(command)

    def receive(self, timeout: float) -> object | None:
        try:
            if timeout <= 0:
                return self.commands.get_nowait()
            return self.commands.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, reply: object) -> None:
        self.deliver(reply)


class PipePort(QueuePort):
    """The port of a server in a child process: a reader thread keeps the command pipe drained."""

    def __init__(self, commands: Connection, replies: Connection) -> None:
        super().__init__()
        self._replies = replies
        threading.Thread(target=self._read, args=(commands,), daemon=True).start()

    def _read(self, conn: Connection) -> None:
        try:
            while True:
                self.post(conn.recv())
        except (EOFError, OSError):
            self.post(Stop())  # the app went away: end too

    def send(self, reply: object) -> None:
        self._replies.send(reply)


def serve(commands: Connection, replies: Connection, factory: ServerFactory, nice: int) -> None:
    """Entry point of a child process: build the server, say Ready, serve until Stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the app's to handle
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(nice)
    port = PipePort(commands, replies)
    try:
        server = factory()
        port.send(Ready(os.getpid()))
        server.run(port)
    except (EOFError, BrokenPipeError):
        pass  # the app went away
    finally:
        replies.close()


class EngineDied(Exception):
    """The child process ended without being asked to."""


class ChildProcess:
    """A server in a child process, seen from the app: spawn, post, receive, stop.

    ``post`` may be called from any thread; ``receive`` and ``close`` belong
    to one owner thread.
    """

    def __init__(self, factory: ServerFactory, name: str, nice: int) -> None:
        context = multiprocessing.get_context("spawn")
        command_out, self._commands = context.Pipe(duplex=False)  # (reader, writer)
        self._replies, reply_in = context.Pipe(duplex=False)
        self.process = context.Process(
            target=serve, args=(command_out, reply_in, factory, nice), name=name, daemon=True
        )
        self.process.start()
        command_out.close()
        reply_in.close()
        self.ready = False
        self._outbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name=f"{name}-writer", daemon=True)
        self._writer.start()
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name=f"{name}-reader", daemon=True)
        self._reader.start()

    def post(self, command: object) -> None:
        """Queue a command for the child; never blocks."""
        self._outbox.put(command)

    def _write(self) -> None:
        while (command := self._outbox.get()) is not _CLOSED:
            try:
                self._commands.send(command)
            except (OSError, ValueError):
                return  # the child is gone; its commands go with it

    def _read(self) -> None:
        """Take whole replies off the pipe (a half-sent one blocks this thread only)."""
        try:
            while True:
                self._inbox.put(self._replies.recv())
        except (EOFError, OSError):
            self._inbox.put(_CLOSED)  # the child ended (or is ending)

    def receive(self, timeout: float) -> object | None:
        """The next reply within ``timeout`` seconds, or None.

        Raises
        ------
        EngineDied
            The process ended (killed, crashed, or could not start).
        """
        try:
            reply = self._inbox.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if reply is _CLOSED:  # every reply before it was taken
            self._inbox.put(_CLOSED)  # it stays closed
            self.process.join(timeout)
            if self.process.exitcode is None:
                return None  # still ending
            raise EngineDied(self._epitaph())
        if isinstance(reply, Ready):
            self.ready = True
            return None
        return reply

    def _epitaph(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                how = f"it was killed by signal {signal.Signals(-code).name}"
                return how if self.ready else f"it could not start ({how})"
        how = f"it exited with code {code}"
        return how if self.ready else f"it could not start ({how})"

    def close(self, seconds: float = STOP_SECONDS) -> None:
        """Ask the child to stop; after ``seconds`` terminate it, then kill it (idempotent)."""
        self.post(Stop())
        process = self.process
        if process.pid is not None:
            process.join(seconds)
            if process.is_alive():
                process.terminate()  # a busy child that does not look at its commands
                process.join(TERMINATE_SECONDS)
            if process.is_alive():
                process.kill()  # a stopped (SIGSTOP) child: only SIGKILL ends it
                process.join()
        self._outbox.put(_CLOSED)
        # Both threads end now that the child is gone; only then are their pipes closed
        # (a writer half-way through a large command would write to a closed handle).
        self._writer.join(STOP_SECONDS)
        self._reader.join(STOP_SECONDS)
        for conn in (self._commands, self._replies):
            conn.close()


_CLOSED = object()


class Engine:
    """One server for the app, in a child process or in the owner thread.

    Parameters
    ----------
    factory
        Makes the server (a class with no arguments; in process mode it is
        called in the child, so it must be importable there).
    name
        Name of the child process (and of log messages).
    mode
        ``"process"`` or ``"thread"``.
    nice
        Scheduling priority of the child process (0 as the app; higher waits).
    """

    def __init__(
        self, factory: ServerFactory, name: str, mode: str = "process", nice: int = 0
    ) -> None:
        if mode not in ENGINE_MODES:
            raise ValueError(f"engine mode must be one of {ENGINE_MODES}, got {mode!r}")
        self.factory, self.name, self.mode, self.nice = factory, name, mode, nice
        self._stop = threading.Event()
        self._port = QueuePort()  # thread mode
        self._child: ChildProcess | None = None  # process mode, owned by drive()
        self._early: list[object] = []  # process mode: commands posted before the child exists
        self._lock = threading.Lock()
        self._deaths: list[float] = []
        self._given_up = False  # died too often (or could not start): commands are dropped

    @property
    def kind(self) -> str:
        """What hosts the server, in words: "process" or "thread"."""
        return self.mode

    @property
    def pid(self) -> int | None:
        """The child process's id (None in thread mode or before it started)."""
        child = self._child
        return child.process.pid if child is not None else None

    def post(self, command: object) -> None:
        """Send a command to the server (thread-safe, never blocks; dropped once given up)."""
        with self._lock:
            if self._given_up:
                return
            if self.mode == "thread":
                self._port.post(command)
            elif self._child is None:
                self._early.append(command)
            else:
                self._child.post(command)

    def stop(self) -> None:
        """Ask :meth:`drive` to end soon (thread-safe, idempotent)."""
        self._stop.set()
        self._port.post(Stop())

    def drive(self, deliver: Callable[[object], None], died: Callable[[str], None]) -> None:
        """Run the engine in the calling thread until :meth:`stop`.

        ``deliver(reply)`` gets every reply, ``died(message)`` says that the
        server ended unexpectedly and was started again (its state is gone:
        the app puts it back) or, after too many deaths, given up.
        """
        if self.mode == "thread":
            self._drive_thread(deliver, died)
        else:
            self._drive_process(deliver, died)

    # ------------------------------------------------------------------ thread mode
    def _drive_thread(self, deliver: Callable[[object], None], died: Callable[[str], None]) -> None:
        port = self._port
        port.deliver = deliver
        while not port.stopping:
            try:
                self.factory().run(port)
            except Exception as exc:  # a bug: report it, then serve again from scratch
                deliver(Failed(f"internal error: {exc}\n{traceback.format_exc()}"))
                if not self._may_restart(died, f"it failed ({exc})"):
                    return

    # ------------------------------------------------------------------ process mode
    def _drive_process(
        self, deliver: Callable[[object], None], died: Callable[[str], None]
    ) -> None:
        try:
            self._start_child()
            while not self._stop.is_set():
                child = self._child
                assert child is not None
                try:
                    reply = child.receive(POLL_SECONDS)
                except EngineDied as exc:
                    if self._stop.is_set():
                        return
                    child.close(0)
                    if not self._may_restart(died, str(exc)):
                        return
                    continue
                if reply is not None:
                    deliver(reply)
        except Exception as exc:  # no process could be started (no memory, no handles, ...)
            self._give_up()
            died(f"The {self.name} process could not be started: {exc}. Restart nnviz.")
        finally:
            with self._lock:
                child, self._child = self._child, None
            if child is not None:
                child.close()

    def _give_up(self) -> None:
        with self._lock:
            self._given_up, self._early = True, []

    def _start_child(self) -> None:
        child = ChildProcess(self.factory, self.name, self.nice)
        with self._lock:
            self._child = child
            early, self._early = self._early, []
        for command in early:
            child.post(command)

    def _may_restart(self, died: Callable[[str], None], reason: str) -> bool:
        """Start the server again unless it died too often lately; tell the app either way."""
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW] + [now]
        if len(self._deaths) > MAX_RESTARTS:
            self._give_up()
            died(
                f"The {self.name} {self.kind} stopped: {reason}. It stopped "
                f"{len(self._deaths)} times within a minute, so nnviz does not start it "
                "again; restart nnviz."
            )
            return False
        if self.mode == "process":
            self._start_child()
        died(f"The {self.name} {self.kind} stopped unexpectedly: {reason}.")
        return True


class Inbox:
    """Replies waiting for the app's GUI thread, in order, newest state merged.

    A reply with an ``absorb(older)`` method (a snapshot, a path view, grid
    progress) merges into one of its type waiting right before it, so a slow
    reader never falls behind: it takes the newest state with all the history
    it carries.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Any] = []

    def put(self, reply: object) -> bool:
        """Store ``reply``; True if the inbox was empty (the reader needs a ping)."""
        with self._lock:
            was_empty = not self._items
            last = self._items[-1] if self._items else None
            if last is not None and type(last) is type(reply) and hasattr(reply, "absorb"):
                self._items[-1] = reply.absorb(last)
            else:
                self._items.append(reply)
            return was_empty

    def take(self) -> list[Any]:
        """Every waiting reply, oldest first; the inbox is then empty."""
        with self._lock:
            items, self._items = self._items, []
            return items

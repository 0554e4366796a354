"""The live demo in a process of its own, beside the console.

``paneglass demo`` forks this process once the console has imported what both
need (the store, the config, the connectors' contract) and before it imports
Textual. The emulators, the Acme world, Dovecot and the year of history run
here, so the console's interpreter (and its GIL) is free for its own imports,
its first frame and its collector, which polls the emulators over loopback
HTTP as before; this process starts its servers while the console imports the
rest of itself.

Lifetime: the console holds the only write end of this process's command pipe.
When that pipe ends (the console closed it, or died, SIGKILL included) the demo
stops its history, world, emulators and Dovecot and removes its folder. A
terminal's SIGHUP and SIGINT are the console's to act on (it quits, which
closes the pipe), so this process ignores them; SIGTERM (a ``kill`` of the
whole process group) stops it too, once the console has let go of the store or
after a few seconds. It never touches the terminal: stdin, stdout and stderr
are ``/dev/null`` here.

One message comes back on the other pipe: an 8-byte length, then a pickle of
the demo's vendors, store and start notes (or the traceback that stopped the
start). One command goes the other way: ``started``, after which the rest of
the history goes in (see :func:`paneglass.demo.session.start_demo`).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paneglass.errors import UserError
from paneglass.loading import loaded

if TYPE_CHECKING:
    from connectors import VendorConfig
    from paneglass.config import Config
    from paneglass.demo.session import DemoSession

__all__ = ["DemoProcess", "DemoReady"]

START_SECONDS = 60.0
"""How long the console waits for the demo to start."""
STOP_SECONDS = 30.0
"""How long the console waits for the demo to stop before it kills it."""
TERM_GRACE = 3.0
"""After SIGTERM, how long the demo waits for the console to let go of the store first."""
HISTORY_AT_LATEST = 10.0
"""Seconds after the start when the history goes on even if the console never said so."""
_LENGTH = struct.Struct(">Q")
_STARTED = b"started\n"


@dataclass(frozen=True)
class DemoReady:
    """Where the running demo is: its vendors and its store."""

    vendors: tuple[VendorConfig, ...]
    db_url: str
    notes: tuple[str, ...] = ()
    """Lines the start printed (e.g. that Dovecot is missing), for the console to show."""

    @property
    def config(self) -> Config:
        """The demo's config over its vendors."""
        from paneglass.demo.config import demo_config

        return demo_config(self.vendors)


class DemoProcess:
    """The demo's process, seen from the console: :meth:`ready`, :meth:`started`, :meth:`close`.

    Where ``os.fork`` is missing the demo runs in the console's own process, as before.
    """

    def __init__(self, pid: int, commands: int, messages: int) -> None:
        self.pid = pid
        self._commands = commands
        self._messages = messages
        self._ready: DemoReady | None = None
        self._session: DemoSession | None = None
        self._closed = False

    @classmethod
    def start(cls) -> DemoProcess:
        """Start the demo (returns at once; :meth:`ready` waits for it)."""
        if not hasattr(os, "fork"):
            return cls(0, -1, -1)
        commands_in, commands_out = os.pipe()
        messages_in, messages_out = os.pipe()
        pid = os.fork()
        if pid == 0:  # the demo: never returns into the console's code
            code = 1
            try:
                os.close(commands_out)
                os.close(messages_in)
                code = _serve(commands_in, messages_out)
            finally:
                os._exit(code)  # no straggling thread may hold the interpreter's exit
        os.close(commands_in)
        os.close(messages_out)
        return cls(pid, commands_out, messages_in)

    def ready(self, timeout: float = START_SECONDS) -> DemoReady:
        """Wait until the demo runs; its start's notes go to stderr (before any screen)."""
        if self._ready is not None:
            return self._ready
        if self.pid == 0:
            return self._start_here()
        header = self._read(_LENGTH.size, timeout)
        message = pickle.loads(self._read(_LENGTH.unpack(header)[0], timeout))
        if isinstance(message, str):  # the start failed: its traceback
            raise RuntimeError(f"the demo did not start:\n{message}")
        ready = DemoReady(**message)
        for note in ready.notes:
            print(note, file=sys.stderr)
        self._ready = ready
        return ready

    def _start_here(self) -> DemoReady:
        from paneglass.demo.session import start_demo

        self._session = start_demo()
        self._ready = DemoReady(self._session.config.vendors, self._session.db_url)
        return self._ready

    def _read(self, size: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        data = b""
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._messages], [], [], left)[0]:
                raise UserError(f"the demo did not start within {timeout:g} s")
            chunk = os.read(self._messages, size - len(data))
            if not chunk:
                raise RuntimeError(f"the demo stopped at its start (exit status {self._reap()})")
            data += chunk
        return data

    def started(self) -> None:
        """The console has started (first frame shown, collecting): the history goes on."""
        if self._session is not None:
            self._session.resume_history()
        elif self.pid and not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._commands, _STARTED)

    def close(self) -> None:
        """Stop the demo (servers, world, history) and wait until its files are gone."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None:
            self._session.close()
            return
        if not self.pid:  # no fork here and no demo started in this process: nothing to stop
            return
        for fd in (self._commands, self._messages):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._reap()

    def _reap(self) -> int:
        """Wait for the demo to exit (killing it after :data:`STOP_SECONDS`); its status."""
        deadline = time.monotonic() + STOP_SECONDS
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if pid:
                return status
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                return os.waitpid(self.pid, 0)[1]
            time.sleep(0.02)


# -- the demo's side ------------------------------------------------------------------------


def _serve(commands: int, messages: int) -> int:
    """Run the demo until the console lets go of ``commands`` (or SIGTERM); then clean up."""
    loaded()  # the console's collector pause is the console's: this process runs on its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    terminated = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: terminated.set())
    nowhere = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the terminal is the console's
        os.dup2(nowhere, fd)
    printed = io.StringIO()
    try:
        from paneglass.demo.session import start_demo

        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            session = start_demo(console_apart=True)
    except BaseException:
        _send(messages, traceback.format_exc())
        return 1
    released = threading.Event()

    def listen() -> None:
        """``started`` resumes the history; the end of the pipe releases the demo."""
        with os.fdopen(commands, "rb", buffering=0) as pipe:
            while line := pipe.readline():
                if line == _STARTED:
                    session.resume_history()
        released.set()

    threading.Thread(target=listen, name="demo-console", daemon=True).start()
    try:
        message = {
            "vendors": session.config.vendors,
            "db_url": session.db_url,
            "notes": tuple(printed.getvalue().splitlines()),
        }
        _send(messages, message)
        os.close(messages)
        deadline = time.monotonic() + HISTORY_AT_LATEST
        while not released.wait(0.2):
            if time.monotonic() > deadline:
                session.resume_history()
            if terminated.is_set():
                released.wait(TERM_GRACE)
                break
    finally:
        session.close()
    return 0


def _send(fd: int, message: object) -> None:
    data = pickle.dumps(message)
    data = _LENGTH.pack(len(data)) + data
    with contextlib.suppress(OSError):  # a console that is gone reads nothing
        while data:
            data = data[os.write(fd, data) :]

"""Benchmark: how long paneglass takes from launch to the first painted ticket.

Every figure is measured from outside, in a pseudo-terminal (160x48), from
just before the process is spawned to the moment the first ticket's title
reaches the terminal (the child's output is read as it comes and searched,
escape sequences stripped, for a title the store is known to hold). In the
same run, for comparison:

* a bare Textual app's first frame (a ``Static`` with a known text), the
  floor any Textual program pays (interpreter, Textual import, first paint);
* ``import textual.app`` and ``import paneglass.ui.app``, timed inside a
  fresh interpreter (so without the interpreter's own start, printed too);
* ``paneglass demo``: nine emulators start on loopback, the collector polls
  them, the first ticket appears;
* ``paneglass --config C --db D`` over a configured store holding ~10,000
  tickets written through ``Store.apply`` (with SLA clocks and events), one
  configured vendor (a ServiceNow emulator on loopback).

The runs are interleaved (bare, paneglass, bare, …) so a busy machine slows
both sides alike; each figure is the median of ``--runs`` (default 5), with
the fastest run beside it. Each case is launched once first, uncounted, so
every counted launch finds compiled bytecode as a user's second start does
(``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment).
Prints figures and ratios; asserts nothing.

``python bench/startup.py [--runs N] [--tickets N]``
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import random
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, LINES = 160, 48
ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)
TIMEOUT = 60.0

BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare textual first frame")

Bare().run()
"""

IMPORT_TIMER = """
import sys, time
started = time.perf_counter()
__import__(sys.argv[1])
print(f"{time.perf_counter() - started:.4f}")
"""

TITLE_WORDS = ("printer", "vpn", "outlook", "disk", "backup", "server", "laptop", "teams")


def launch_to_marker(argv: list[str], markers: tuple[bytes, ...], env: dict[str, str]) -> float:
    """Seconds from spawning ``argv`` in a pty until one of ``markers`` is on the terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < TIMEOUT:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            seen += chunk
            text = ESCAPES.sub(b"", seen[-(1 << 18) :])
            if any(marker in text for marker in markers):
                return time.perf_counter() - started
        tail = ESCAPES.sub(b"", seen[-2000:]).decode(errors="replace")
        raise RuntimeError(f"{argv[-1]}: no marker within {TIMEOUT:.0f} s; last output: {tail}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


def import_seconds(module: str, env: dict[str, str]) -> float:
    """``import module`` in a fresh interpreter, timed inside it."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_TIMER, module],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def interpreter_seconds(env: dict[str, str]) -> float:
    """``python -c pass``: what every process pays before its first import."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - started


def build_store(url: str, count: int, base_url: str) -> None:
    """``count`` tickets written through ``Store.apply`` (clocks, events), 500 a batch."""
    from connectors import VendorConfig
    from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
    from paneglass.store import PollRunInfo, Store

    store = Store(url)
    store.sync_vendors([VendorConfig(name="hosting", kind="servicenow", base_url=base_url)])
    now = datetime.now(UTC)
    rng = random.Random(3)
    statuses = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED)
    started = time.perf_counter()
    for first in range(0, count, 500):
        batch = []
        for n in range(first, min(first + 500, count)):
            created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 20))
            batch.append(
                TicketRecord(
                    external_id=f"b{n}",
                    key=f"INC{n:07d}",
                    title=f"Bench ticket {n}: {rng.choice(TITLE_WORDS)} {rng.choice(TITLE_WORDS)}",
                    status=rng.choice(statuses),
                    raw_status="x",
                    priority=rng.choice(list(Priority)),
                    raw_priority=None,
                    created_at=created,
                    updated_at=created + timedelta(minutes=rng.randint(0, 300)),
                    assignee=f"agent {n % 37}",
                    requester=f"user {n % 2011}",
                )
            )
        run = PollRunInfo(now, now, True, records_seen=len(batch))
        store.apply("hosting", PollResult(tickets=tuple(batch)), run, now)
    store.close()
    print(f"(built {count:,} tickets through Store.apply in {time.perf_counter() - started:.1f} s)")


def median_and_best(samples: list[float]) -> str:
    return f"{1000 * statistics.median(samples):7.0f} ms  (best {1000 * min(samples):5.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tickets", type=int, default=10_000)
    options = parser.parse_args()

    from connectors.emulators.servicenow import ServiceNowEmulator

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        home.mkdir()
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "PYTHONPATH": str(ROOT),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
        }
        # A user's interpreter keeps compiled bytecode (pip compiles an installed package;
        # an editable install writes it on the first run): so does every launch here.
        for name in (
            "PANEGLASS_CONFIG",
            "PANEGLASS_DB",
            "TEXTUAL_DRIVER",
            "PYTHONDONTWRITEBYTECODE",
        ):
            env.pop(name, None)

        emulator = ServiceNowEmulator()
        emulator.start()
        settings = emulator.vendor_settings()
        config = Path(folder) / "config.toml"
        lines = ['[display]\ntimezone = "UTC"\n', "[vendors.hosting]"]
        lines += [f'{key} = "{value}"' for key, value in settings.items()]
        lines.append(f'base_url = "{emulator.base_url}"')
        config.write_text("\n".join(lines) + "\n")
        db = f"sqlite:///{folder}/configured.db"
        build_store(db, options.tickets, emulator.base_url)

        from paneglass.demo.world import ROLES

        demo_markers = tuple(t[:14].encode() for role in ROLES.values() for t in role.titles)
        python = sys.executable
        cases: list[tuple[str, Callable[[], float]]] = [
            (
                "bare Textual app, first frame",
                lambda: launch_to_marker(
                    [python, "-c", BARE_APP], (b"bare textual first frame",), env
                ),
            ),
            (
                "paneglass demo, first painted ticket",
                lambda: launch_to_marker([python, "-m", "paneglass", "demo"], demo_markers, env),
            ),
            (
                f"paneglass, configured store ({options.tickets:,} tickets)",
                lambda: launch_to_marker(
                    [python, "-m", "paneglass", "--config", str(config), "--db", db],
                    (b"Bench ticket",),
                    env,
                ),
            ),
            ("python -c pass (interpreter start)", lambda: interpreter_seconds(env)),
            ("import textual.app (in-process)", lambda: import_seconds("textual.app", env)),
            (
                "import paneglass.ui.app (in-process)",
                lambda: import_seconds("paneglass.ui.app", env),
            ),
        ]
        for _, measure in cases:
            measure()  # a first launch, not counted: it writes the bytecode a user's first run does
        samples: dict[str, list[float]] = {label: [] for label, _ in cases}
        for _ in range(options.runs):
            for label, measure in cases:
                samples[label].append(measure())
        emulator.stop()

    print(f"startup, {COLUMNS}x{LINES} pty, median of {options.runs} runs (interleaved)")
    for label, values in samples.items():
        print(f"  {label:<52} {median_and_best(values)}")
    bare = statistics.median(samples[cases[0][0]])
    textual_import = statistics.median(samples["import textual.app (in-process)"])
    paneglass_import = statistics.median(samples["import paneglass.ui.app (in-process)"])
    print("ratios")
    for label, _ in cases[1:3]:
        launch = statistics.median(samples[label])
        print(
            f"  {label:<52} {launch / bare:5.2f}x the bare app's first frame"
            f" ({1000 * (launch - bare):+.0f} ms)"
        )
    print(
        f"  {'import paneglass.ui.app':<52} {paneglass_import / textual_import:5.2f}x"
        f" import textual.app ({1000 * (paneglass_import - textual_import):+.0f} ms)"
    )


if __name__ == "__main__":
    main()

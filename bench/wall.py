"""Benchmark: an idle wall in a 200x50 pseudo-terminal, and one visible ticket changing.

Runs the real ``paneglass wall`` as a viewer (another process writes) over a
seeded store and measures, from outside the process:

* idle for 60 s (clock and countdowns ticking): CPU share of one core and
  bytes written to the terminal per minute (targets: <= 1 % and <= 30 KB/min);
* one visible ticket changing: bytes written beyond the idle ticking (target
  <= 1 KB);
* the baseline, in the same run: a minimal Textual app showing a 1 Hz clock.

Prints figures and ratios; asserts nothing. ``python bench/wall.py [SECONDS]``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from connectors.records import PollResult
from paneglass.demo.fixture import seed_store
from paneglass.store import PollRunInfo, Store, TicketQuery

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, LINES = 200, 50
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")

BASELINE_APP = """
from datetime import datetime
from textual.app import App
from textual.widgets import Static

class ClockApp(App):
    def compose(self):
        yield Static(id="clock")
    def on_mount(self):
        self.set_interval(1, lambda: self.query_one(Static).update(f"{datetime.now():%H:%M:%S}"))

ClockApp().run()
"""


class Terminal:
    """A child process on a pseudo-terminal of a fixed size; counts what it writes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.master = master
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
        )
        os.close(slave)
        self.bytes = 0

    def pump(self, seconds: float) -> int:
        """Read for ``seconds``; return the bytes the child wrote meanwhile."""
        got = 0
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    got += len(os.read(self.master, 65536))
                except OSError:
                    break
        self.bytes += got
        return got

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def measure_idle(term: Terminal, seconds: float) -> tuple[float, float]:
    """(CPU share of one core, bytes per minute) over ``seconds`` of idling."""
    term.pump(6.0)  # start-up and first paint are not idle
    cpu0, t0 = term.cpu_seconds(), time.monotonic()
    written = term.pump(seconds)
    elapsed = time.monotonic() - t0
    return (term.cpu_seconds() - cpu0) / elapsed, written / elapsed * 60


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "COLORTERM": ""}
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/wall.db"
        store = Store(db)
        seed_store(store, datetime.now(UTC))
        config = Path(folder) / "config.toml"
        config.write_text('[display]\ntimezone = "UTC"\n[wall]\npanes = ["sla", "vendors"]\n')
        wall = [sys.executable, "-m", "paneglass", "wall", "--config", str(config), "--db", db]

        term = Terminal(wall, env)
        wall_cpu, wall_bytes = measure_idle(term, seconds)
        term.close()

        base = Terminal([sys.executable, "-c", BASELINE_APP], env)
        base_cpu, base_bytes = measure_idle(base, seconds)
        base.close()

        tickets = Path(folder) / "tickets.toml"
        tickets.write_text('[display]\ntimezone = "UTC"\n[wall]\npanes = ["tickets"]\n')
        term = Terminal([*wall[:5], str(tickets), *wall[6:]], env)
        term.pump(6.0)
        idle = round(term.pump(9.0) / 3)  # the clock ticks meanwhile: average 3 s of it
        # A visible ticket of a healthy vendor (a poll of the failing one would also lift
        # the stale banner: a real change of layout, not "one ticket changed").
        row = next(r for r in store.ticket_window(TicketQuery(), 0, 40) if r.vendor == "hosting")
        detail = store.ticket_detail(row.id)
        assert detail is not None
        changed = _record(detail)
        now = datetime.now(UTC)
        store.apply(detail.vendor, PollResult(tickets=(changed,)), PollRunInfo(now, now, True), now)
        after = term.pump(3.0)
        term.close()
        store.close()

    print(f"idle wall, {COLUMNS}x{LINES}, {seconds:.0f} s (clock and countdowns ticking)")
    print(f"  CPU                      {100 * wall_cpu:6.2f} % of a core   (target <= 1 %)")
    print(f"  written to the terminal  {wall_bytes / 1024:6.1f} KB/min       (target <= 30 KB/min)")
    print("baseline: a bare Textual app updating a 1 Hz clock")
    print(f"  CPU                      {100 * base_cpu:6.2f} % of a core")
    print(f"  written to the terminal  {base_bytes / 1024:6.1f} KB/min")
    print(
        f"ratio wall / baseline: CPU {wall_cpu / max(base_cpu, 1e-9):.1f}x, "
        f"bytes {wall_bytes / max(base_bytes, 1):.1f}x"
    )
    print("one visible ticket changes (tickets pane)")
    print(
        f"  3 s idle (mean of 9 s): {idle} B; 3 s with the change: {after} B; "
        f"the change cost about {max(after - idle, 0)} B (target <= 1 KB)"
    )


def _record(detail):  # type: ignore[no-untyped-def]
    from connectors.records import Priority, TicketRecord, TicketStatus

    return replace(
        TicketRecord(
            external_id=detail.external_id,
            key=detail.key,
            title=detail.title + " (updated)",
            status=TicketStatus(detail.status),
            raw_status=detail.raw_status,
            priority=Priority(detail.priority) if detail.priority else None,
            raw_priority=detail.raw_priority,
            created_at=detail.created_at,
            updated_at=detail.updated_at,
        ),
    )


if __name__ == "__main__":
    main()

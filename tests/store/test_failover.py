"""Two collectors on one PostgreSQL: one polls each vendor; kill it, the other takes over.

Both run as real ``paneglass collect`` processes against the Zendesk
emulator. While both live, every poll run comes from one of them; after the
active one is killed with SIGKILL, the other polls the vendor within one poll
interval (plus the moment PostgreSQL needs to notice the dead session), and
the store ends with every ticket exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connectors.emulators.base import WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 1.0


def ticket(n: int) -> WorldTicket:
    now = datetime.now(UTC)
    return WorldTicket(f"f{n}", f"failover {n}", TicketStatus.OPEN, Priority.P3, now, now)


def runs(db: str) -> list[tuple[str, float]]:
    engine = create_engine(db)
    with engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('pollrun')")).scalar():
            return []  # the first collector has not migrated the database yet
        rows = conn.execute(
            text("SELECT collector, extract(epoch from started_at) FROM pollrun ORDER BY id")
        ).all()
    engine.dispose()
    return [(str(owner), float(started)) for owner, started in rows]


@pytest.mark.slow
def test_collectors_fail_over_without_gap_or_duplicate(tmp_path: Path, pg_database: str) -> None:
    db = pg_database
    with ZendeskEmulator() as emulator:
        for n in range(3):
            emulator.put_ticket(ticket(n))
        settings = emulator.vendor_settings()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.desk]\nkind = "zendesk"\nbase_url = "{emulator.base_url}"\n'
            f'email = "{settings["email"]}"\napi_token = "{settings["api_token"]}"\n'
            f"poll_interval = {INTERVAL}\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        def collector() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-m", "paneglass", "collect", "--config", str(config), "--db", db],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

        def wait_for_runs(count: int) -> None:
            """Wait for polls, not for a guess at how long a process takes to start."""
            deadline = time.monotonic() + 60
            while len(runs(db)) < count and time.monotonic() < deadline:
                time.sleep(0.2)

        first = collector()
        wait_for_runs(1)
        second = collector()
        wait_for_runs(len(runs(db)) + 2)
        try:
            before = runs(db)
            owners = {owner for owner, _ in before}
            assert len(owners) == 1 and owners == {f"{os.uname().nodename}:{first.pid}"}, owners
            emulator.put_ticket(ticket(3))
            os.kill(first.pid, signal.SIGKILL)
            killed = time.time()
            first.wait(timeout=10)
            deadline = time.monotonic() + 20
            taken = None
            while time.monotonic() < deadline and taken is None:
                taken = next((t for owner, t in runs(db) if owner.endswith(f":{second.pid}")), None)
                time.sleep(0.2)
            assert taken is not None, "the second collector never took the vendor over"
            takeover = taken - killed
            emulator.put_ticket(ticket(4))
            time.sleep(3 * INTERVAL)
        finally:
            second.send_signal(signal.SIGTERM)
            out = second.communicate(timeout=30)[0]
            if first.poll() is None:
                first.kill()
        assert second.returncode == 0, out[-2000:]
    print(f"take-over {takeover:.2f} s after SIGKILL")
    assert takeover < INTERVAL + 3.0
    engine = create_engine(db)
    with engine.connect() as conn:
        total, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT external_id) FROM ticket")
        ).one()
    engine.dispose()
    assert total == distinct == 5, "a gap or a duplicate after the fail-over"

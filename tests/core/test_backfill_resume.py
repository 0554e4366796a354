"""A first sync survives being killed, and reads every open ticket whatever its age.

Both run the real ``paneglass collect`` as a child process against a
ServiceNow emulator on loopback, into a real SQLite file.

* SIGKILL ten times during the backfill of a 20,000-incident tenant, each
  time after the restarted collector has committed a new page: in the end
  every incident is stored exactly once, the backfill's progress never went
  back, and the emulator served fewer than twice the tenant's rows in total
  (a backfill that started over after each kill would serve about six times).
* A tenant whose 5,000 open incidents were all last touched long before
  ``backfill_days``: ``collect --once`` stores every one of them, and none of
  the old closed ones.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.records import Priority, TicketStatus

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = "/api/now/table/incident"
NOW = datetime.now(UTC)


class CountingServiceNow(ServiceNowEmulator):
    """The emulator, counting the incident rows it serves (the tenant fetched in total)."""

    served = 0

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        if request.path == INCIDENTS and isinstance(reply.body, dict):
            self.served += len(reply.body.get("result") or ())
        return reply


def _tenant(
    count: int, *, age: timedelta, status: TicketStatus, prefix: str = ""
) -> Iterator[WorldTicket]:
    for n in range(count):
        at = NOW - age - timedelta(minutes=n)
        yield WorldTicket(
            ref=f"{prefix}{status.value}-{n}",
            title=f"Printer queue stuck {n}",
            status=status,
            priority=Priority.P3,
            created_at=at - timedelta(days=1),
            updated_at=at,
            resolved_at=at if not status.is_active else None,
        )


def _config(tmp_path: Path, emulator: ServiceNowEmulator, **extra: Any) -> Path:
    settings = emulator.vendor_settings()
    lines = [
        "[vendors.hosting]",
        'kind = "servicenow"',
        f'base_url = "{emulator.base_url}"',
        f'username = "{settings["username"]}"',
        f'password = "{settings["password"]}"',
        "poll_interval = 1",
        "conversations = false",
    ]
    lines += [f"{key} = {value!r}" for key, value in extra.items()]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def _collect(config: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "paneglass", "collect", *extra]
    return subprocess.Popen(
        [*argv, "--config", str(config), "--db", f"sqlite:///{db}"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _progress(db: Path) -> tuple[str | None, int]:
    """(phase, records done) as the store last committed them."""
    if not db.exists():
        return None, 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT sync_phase, sync_done FROM vendor WHERE name = 'hosting'"
            ).fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return None, 0
    return (row[0], row[1] or 0) if row else (None, 0)


@pytest.mark.slow
def test_ten_sigkills_during_a_backfill_lose_nothing_and_never_start_over(
    tmp_path: Path,
) -> None:
    tenant = 20_000
    db = tmp_path / "store.db"
    rng = random.Random(13)
    with CountingServiceNow(latency=0.01) as emulator:
        emulator.put_tickets(_tenant(tenant, age=timedelta(days=3), status=TicketStatus.OPEN))
        config = _config(tmp_path, emulator, page_size=200)
        seen: list[int] = []
        for _ in range(10):
            _, before = _progress(db)
            proc = _collect(config, db)
            deadline = time.monotonic() + 90
            while _progress(db)[1] <= before:  # wait for a page committed by this process
                assert proc.poll() is None, proc.communicate()[0][-2000:]
                assert time.monotonic() < deadline, "the restarted collector committed nothing"
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            phase, done = _progress(db)
            assert phase == "backfill", "the backfill finished before ten kills: make it longer"
            seen.append(done)
        assert seen == sorted(seen), f"the backfill went back after a kill: {seen}"
        finish = _collect(config, db, "--once")
        output = finish.communicate(timeout=300)[0]
        assert finish.returncode == 0, output[-2000:]
        served = emulator.served
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM ticket"
        ).fetchone()
        titles = {title for (title,) in conn.execute("SELECT title FROM ticket")}
    assert total == distinct == tenant
    assert titles == {f"Printer queue stuck {n}" for n in range(tenant)}
    assert served < 2 * tenant, f"{served} rows fetched for a tenant of {tenant}: it started over"
    print(f"kills at backfill progress {seen}; rows served {served} for {tenant}")


def test_every_open_ticket_appears_whatever_its_age(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with ServiceNowEmulator() as emulator:
        emulator.put_tickets(_tenant(5_000, age=timedelta(days=200), status=TicketStatus.OPEN))
        emulator.put_tickets(_tenant(300, age=timedelta(days=200), status=TicketStatus.CLOSED))
        recent = _tenant(40, age=timedelta(days=2), status=TicketStatus.CLOSED, prefix="recent-")
        emulator.put_tickets(recent)
        config = _config(tmp_path, emulator, backfill_days=30)
        proc = _collect(config, db, "--once")
        output = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, output[-2000:]
    with sqlite3.connect(db) as conn:
        by_status = dict(conn.execute("SELECT status, count(*) FROM ticket GROUP BY status"))
    assert by_status == {"open": 5_000, "closed": 40}, by_status

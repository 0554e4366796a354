"""Benchmark: the shared deployment — ingest on PostgreSQL next to SQLite, and how
fast 20 viewers show a commit.

* ingest: the same 20,000 normalized tickets applied through ``Store.apply`` in
  batches of 500 (upsert, events, SLA clocks, cursor, poll run per batch), first
  as inserts, then as updates, on SQLite (WAL file) and on a PostgreSQL 15
  server started here (initdb/pg_ctl on a temporary folder, loopback only);
* notice-to-screen: 20 real viewer processes (the wall, headless) follow one
  database; the writer commits one new ticket five times; for each commit and
  viewer, the time until that viewer shows it. Median and p95, per backend.

Prints figures; asserts nothing. ``python bench/shared_store.py [VIEWERS]``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.store import PollRunInfo, Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.pg_server import postgres_server  # noqa: E402  (the same server the tests start)

COUNT, BATCH = 20_000, 500
NOW = datetime.now(UTC)


def records(touch: int) -> list[TicketRecord]:
    return [
        TicketRecord(
            external_id=f"e{n}",
            key=f"INC{n:07d}",
            title=f"ticket {n} v{touch}",
            status=TicketStatus.OPEN if touch == 0 else TicketStatus.PENDING,
            raw_status="2",
            priority=Priority.P3,
            raw_priority="3",
            created_at=NOW - timedelta(hours=1),
            updated_at=NOW + timedelta(seconds=touch),
            assignee=f"agent {n % 40}",
            requester=f"user {n % 900}",
        )
        for n in range(COUNT)
    ]


def ingest(url: str) -> tuple[float, float]:
    store = Store(url)
    store.sync_vendors([VendorConfig(name="v", kind="servicenow", base_url="http://127.0.0.1:9")])
    rates = []
    for touch in (0, 1):
        batch = records(touch)
        started = time.perf_counter()
        for start in range(0, COUNT, BATCH):
            run = PollRunInfo(NOW, NOW, True, requests=1)
            result = PollResult(tickets=tuple(batch[start : start + BATCH]), cursor={"n": start})
            store.apply("v", result, run, NOW)
        rates.append(COUNT / (time.perf_counter() - started))
    store.close()
    return rates[0], rates[1]


def latency(url: str, viewers: int, folder: Path) -> list[float]:
    store = Store(url)
    store.sync_vendors([VendorConfig(name="v", kind="servicenow", base_url="http://127.0.0.1:9")])
    base = [
        TicketRecord(
            external_id=f"x{n}",
            key=f"K{n}",
            title=f"t{n}",
            status=TicketStatus.OPEN,
            raw_status="2",
            priority=Priority.P3,
            raw_priority="3",
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(10)
    ]
    store.apply("v", PollResult(tickets=tuple(base)), PollRunInfo(NOW, NOW, True), NOW)
    config = folder / "viewer.toml"
    config.write_text('[display]\ntimezone = "UTC"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ui.viewer_probe", str(config), url, "90"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(viewers)
    ]
    outputs = [""] * viewers
    ready = [threading.Event() for _ in procs]

    def follow(index: int) -> None:
        for line in procs[index].stdout:  # type: ignore[union-attr]
            outputs[index] += line
            if line.startswith("seen ") and line.split()[2] == "10":
                ready[index].set()

    readers = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(viewers)]
    for reader in readers:
        reader.start()
    for event in ready:  # every viewer up and showing the first ten before the first commit
        event.wait(timeout=120)
    time.sleep(2)
    commits = []
    for n in range(5):
        record = TicketRecord(
            external_id=f"new{n}",
            key=f"NEW{n}",
            title="new",
            status=TicketStatus.OPEN,
            raw_status="2",
            priority=Priority.P2,
            raw_priority="2",
            created_at=NOW,
            updated_at=NOW,
        )
        now = datetime.now(UTC)
        store.apply("v", PollResult(tickets=(record,)), PollRunInfo(now, now, True), now)
        commits.append(time.time())
        time.sleep(3)
    time.sleep(2)
    for proc in procs:
        proc.terminate()
    for reader in readers:
        reader.join(timeout=30)
    store.close()
    samples = []
    for output in outputs:
        seen = {}
        for line in output.splitlines():
            if line.startswith("seen "):
                _, when, count = line.split()
                seen.setdefault(int(count), float(when))
        for n, committed in enumerate(commits):
            if 11 + n in seen:
                samples.append(seen[11 + n] - committed)
    return samples


def report(name: str, samples: list[float], expected: int) -> None:
    if not samples:
        print(f"  {name:<11} no viewer showed a commit")
        return
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"  {name:<11} median {1000 * statistics.median(ordered):6.0f} ms"
        f"   p95 {1000 * p95:6.0f} ms"
        f"   max {1000 * ordered[-1]:6.0f} ms   ({len(samples)} of {expected} commits seen)"
    )


def main() -> None:
    viewers = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as folder, postgres_server() as pg_root:
        admin = create_engine(pg_root + "postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "ingest"'))
            conn.execute(text('CREATE DATABASE "viewers"'))
        admin.dispose()
        print(f"ingest: {COUNT:,} tickets through Store.apply, batches of {BATCH}")
        for name, url in (
            ("SQLite", f"sqlite:///{folder}/ingest.db"),
            ("PostgreSQL", pg_root + "ingest"),
        ):
            inserts, updates = ingest(url)
            print(
                f"  {name:<11} insert {inserts:8,.0f} tickets/s   update {updates:8,.0f} tickets/s"
            )
        print(f"notice to screen: {viewers} viewer processes, 5 commits each")
        for name, url in (
            ("SQLite", f"sqlite:///{folder}/viewers.db"),
            ("PostgreSQL", pg_root + "viewers"),
        ):
            report(name, latency(url, viewers, Path(folder)), viewers * 5)


if __name__ == "__main__":
    main()

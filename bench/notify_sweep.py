"""Benchmark: the notifier's sweep over a large store, against the queries every console runs.

Builds a SQLite store with N open tickets (default 100,000; their clocks
computed by the real ``Store.apply``), a tenth of them already past a
threshold. Then, in the same run, measures:

* the first sweep (every urgent clock is new to the log: it records them);
* a steady sweep (nothing new: what the collector pays every second);
* a sweep after 500 clocks crossed a threshold (a busy second), with dispatch;
* the baseline: ``Store.headline`` + ``Store.sla_rows``, which every console
  runs on each change notice.

Prints figures and ratios; asserts nothing. Usage: ``python bench/notify_sweep.py [N]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.collect.notifier import Notifier
from paneglass.demo.notify import DEMO_NOTIFY
from paneglass.store import PollRunInfo, Store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def write(fn: Any, *args: Any) -> Any:
    return fn(*args)


def build(path: Path, count: int) -> Store:
    store = Store(f"sqlite:///{path}")
    store.sync_vendors([VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")])
    synced = NOW - timedelta(days=2)
    store.apply("hosting", None, PollRunInfo(synced, synced, True), synced)
    priorities = (Priority.P1, Priority.P2, Priority.P3, Priority.P4)
    batch: list[TicketRecord] = []
    for n in range(count):
        urgent = n % 10 == 0
        # Urgent: P3 (24 h) opened 15 h ago, past 50 %; the rest opened an hour ago.
        age = timedelta(hours=15) if urgent else timedelta(hours=1)
        priority = Priority.P3 if urgent else priorities[n % 4]
        batch.append(
            TicketRecord(
                external_id=str(n),
                key=f"INC{n:07d}",
                title=f"ticket {n}",
                status=TicketStatus.OPEN,
                raw_status="In Progress",
                priority=priority,
                raw_priority=priority.value,
                created_at=NOW - age,
                updated_at=NOW - age,
            )
        )
        if len(batch) == 2000:
            store.apply("hosting", PollResult(tickets=tuple(batch)), None, NOW - timedelta(days=1))
            batch.clear()
    if batch:
        store.apply("hosting", PollResult(tickets=tuple(batch)), None, NOW - timedelta(days=1))
    return store


def timed(label: str, fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<46} {best * 1000:9.1f} ms")
    return best


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        store = build(Path(folder) / "bench.db", count)
        print(f"store: {count:,} tickets in {time.perf_counter() - t0:.1f} s")
        clock = {"now": NOW}
        notifier = Notifier(store, DEMO_NOTIFY, write, lambda: clock["now"])

        def sweep() -> None:
            asyncio.run(notifier.sweep())

        def sweep_and_dispatch() -> None:
            asyncio.run(notifier.run())

        first = timed("first sweep (records every urgent clock)", sweep, repeat=1)
        steady = timed("steady sweep (nothing new)", sweep)
        clock["now"] = NOW + timedelta(hours=3)  # urgent P3s pass 75 %: a busy second
        busy = timed("sweep + dispatch, every urgent clock climbed", sweep_and_dispatch, repeat=1)
        baseline = timed(
            "baseline: headline + sla_rows (each console)",
            lambda: (store.headline(clock["now"]), store.sla_rows(clock["now"], 300)),
        )
        print(f"steady sweep / console refresh: {steady / baseline:.2f}x")
        print(
            f"first sweep / console refresh: {first / baseline:.1f}x; busy: {busy / baseline:.1f}x"
        )
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

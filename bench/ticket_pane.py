"""Benchmark: the ticket pane over a very large store, against Textual's DataTable.

Builds a SQLite store with N tickets (default 1,000,000) the way the
collector does, through ``Store.apply`` in pages of 500 (so every ticket has
its SLA clocks and events; this takes a while at a million, with progress
printed), then measures, in the same run:

* store queries behind the pane: count, a window at the start, middle and end
  of every sort order, filtered counts;
* the real app headless at 200x50: time to first paint of the ticket pane and
  of the whole dashboard (header counters, SLA pane, vendors, tickets),
  page-down, jump to the end, a re-sort, and the process's memory;
* the baseline: a stock ``DataTable`` holding 10,000 rows (time to first paint).

Prints figures and ratios; asserts nothing (targets live in the issue, not in
the test suite). Usage: ``python bench/ticket_pane.py [N]``.
"""

from __future__ import annotations

import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.config import Config, DisplayConfig
from paneglass.store import SortKey, Store, TicketQuery
from paneglass.store.tables import CLOCKS, EVENTS
from paneglass.ui.app import PaneglassApp
from paneglass.ui.widgets.header_bar import HeaderBar
from paneglass.ui.widgets.ticket_table import TicketTable

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
WORDS = (
    "printer",
    "vpn",
    "outlook",
    "disk",
    "backup",
    "server",
    "laptop",
    "teams",
    "excel",
    "network",
    "storage",
)


def rss_mib() -> float:
    """Current resident memory of this process (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def build(path: Path, count: int) -> Store:
    """``count`` tickets written the way the collector writes them: ``Store.apply``, 500 a
    page, so every ticket has its contract clocks and its "created" event."""
    store = Store(f"sqlite:///{path}")
    names = ("hosting", "desktop", "network", "print-fleet")
    store.sync_vendors(
        [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in names]
    )
    rng = random.Random(1)
    statuses = list(TicketStatus)
    priorities = [*Priority, None]
    started = time.perf_counter()
    last_report = started
    for first in range(0, count, 500):
        page = []
        for n in range(first, min(first + 500, count)):
            created = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            status = rng.choice(statuses)
            page.append(
                TicketRecord(
                    external_id=f"e{n}",
                    key=f"INC{n:08d}",
                    title=f"{rng.choice(WORDS)} {rng.choice(WORDS)} issue {n}",
                    status=status,
                    raw_status=status.value,
                    priority=rng.choice(priorities),
                    raw_priority=None,
                    created_at=created,
                    updated_at=created + timedelta(minutes=rng.randint(0, 600)),
                    assignee=f"agent {n % 97}",
                    requester=f"user {n % 5003}",
                    resolved_at=created + timedelta(hours=rng.randint(1, 48))
                    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
                    else None,
                )
            )
        store.apply(names[(first // 500) % len(names)], PollResult(tickets=tuple(page)), None, NOW)
        if time.perf_counter() - last_report > 15:
            last_report = time.perf_counter()
            done = first + len(page)
            rate = done / (last_report - started)
            print(
                f"  built {done:,} / {count:,} tickets ({rate:,.0f}/s,"
                f" ~{(count - done) / rate / 60:.0f} min left)",
                flush=True,
            )
    with store.engine.connect() as conn:
        clocks = conn.execute(select(func.count()).select_from(CLOCKS)).scalar_one()
        events = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    elapsed = time.perf_counter() - started
    print(
        f"built {count:,} tickets through Store.apply (500 a page) in {elapsed:.0f} s:"
        f" {clocks:,} SLA clocks, {events:,} events"
    )
    return store


def timed(label: str, fn: Any, *args: Any) -> Any:
    started = time.perf_counter()
    result = fn(*args)
    print(f"  {label:<46} {1000 * (time.perf_counter() - started):8.1f} ms")
    return result


def bench_queries(store: Store, count: int) -> None:
    print("store queries behind the pane")
    timed("count (no filter)", store.ticket_count, TicketQuery())
    for sort in SortKey:
        for offset in (0, count // 2, count - 60):
            timed(
                f"window 60 rows, sort {sort.value}, offset {offset:,}",
                store.ticket_window,
                TicketQuery(sort=sort),
                offset,
                60,
                count,
            )
    timed(
        "count vendor:hosting status:open,pending",
        store.ticket_count,
        TicketQuery(text="vendor:hosting status:open,pending"),
    )
    timed("count words 'printer vpn'", store.ticket_count, TicketQuery(text="printer vpn"))
    print("store queries behind the header and the SLA pane")
    timed("headline (breached, at risk, open P1, ...)", store.headline, NOW)
    timed("SLA rows (300 most urgent clocks)", store.sla_rows, NOW, 300)
    timed("SLA counts per vendor", store.sla_counts, NOW)
    timed("vendor health", store.vendor_health)


class BaselineTable(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Vendor", "Key", "P", "Status", "Title", "Assignee", "Age", "Updated")
        table.add_rows(
            [
                (
                    "hosting",
                    f"INC{n:08d}",
                    "P3",
                    "open",
                    f"printer issue {n}",
                    "agent",
                    "1d",
                    "12:00",
                )
                for n in range(self.rows)
            ]
        )


async def first_paint_baseline(rows: int) -> float:
    app = BaselineTable(rows)
    started = time.perf_counter()
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        app.save_screenshot(
            filename="baseline.svg", path=tempfile.gettempdir()
        )  # forces a full paint
        return time.perf_counter() - started


async def bench_app(store: Store) -> tuple[dict[str, float], float]:
    figures: dict[str, float] = {}
    app = PaneglassApp(
        store, Config(display=DisplayConfig(timezone="UTC")), clock=lambda: NOW, collect=False
    )
    started = time.perf_counter()
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.screen.query_one(TicketTable)
        header = app.screen.query_one(HeaderBar)
        while not table._loaded:  # noqa: ASYNC110 (polling a widget flag is the measurement)
            await asyncio.sleep(0.005)
        app.save_screenshot(filename="pane.svg", path=tempfile.gettempdir())
        figures["first paint"] = time.perf_counter() - started
        while header.headline is None:  # noqa: ASYNC110 (header, SLA and vendors land together)
            await asyncio.sleep(0.005)
        app.save_screenshot(filename="dashboard.svg", path=tempfile.gettempdir())
        figures["whole dashboard (header, SLA pane, tickets)"] = time.perf_counter() - started

        async def step(label: str, *keys: str) -> None:
            t0 = time.perf_counter()
            await pilot.press(*keys)
            await app.workers.wait_for_complete()
            await pilot.pause()
            figures[label] = time.perf_counter() - t0

        await step("10 x page down", *["pagedown"] * 10)
        await step("jump to last ticket (G)", "G")
        await step("re-sort by priority (s)", "s")
        t0 = time.perf_counter()
        table.ticket_query = TicketQuery(text="vendor:hosting prio:P1")
        await app.workers.wait_for_complete()
        await pilot.pause()
        figures["filter 'vendor:hosting prio:P1' (count + window)"] = time.perf_counter() - t0
        rss = rss_mib()
    return figures, rss


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        store = build(Path(folder) / "bench.db", count)
        bench_queries(store, count)
        rss_before = rss_mib()
        figures, rss_in_app = asyncio.run(bench_app(store))
        baseline = asyncio.run(first_paint_baseline(10_000))
        print(f"app at 200x50 over {count:,} tickets")
        for label, seconds in figures.items():
            print(f"  {label:<46} {1000 * seconds:8.1f} ms")
        print(
            f"  {'RSS with the app running (MiB)':<46} {rss_in_app:8.1f}"
            f"  (before the app: {rss_before:.1f})"
        )
        print("baseline: stock DataTable, 10,000 rows, first paint")
        print(f"  {'first paint':<46} {1000 * baseline:8.1f} ms")
        ratio = baseline / figures["first paint"]
        print(
            f"ratio: paneglass first paint at {count:,} rows is {ratio:.1f}x faster"
            " than DataTable at 10,000"
        )
        store.close()


if __name__ == "__main__":
    main()

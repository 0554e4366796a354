"""Benchmark: one month's vendor scorecard over a year of history at a large customer's size.

Builds (or reuses, with ``--db``) a SQLite store holding N tickets (default
1,000,000) over the twelve months before 1 December 2026, about ten events a
ticket (10,000,000), their contract clocks (response and resolution, a
re-opened cycle for one ticket in twenty), a status page with incidents and
hand-off links, written with bulk inserts straight into the schema the
migrations made. Then measures, in the same run:

* November's scorecard for every vendor (the issue's target: under 2 s),
  with the backlog at its end;
* what the scorecards pane reads: twelve months of trend plus the chosen and
  previous month's backlog;
* the baseline: what a Python scorecard would start with, reading the month's
  stopped clocks into Python (one figure of the dozen) and sorting them.

Prints figures and ratios; asserts nothing.
Usage: ``python bench/scorecard.py [N] [--db PATH]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connectors import VendorConfig
from paneglass.metrics.periods import parse_period
from paneglass.store import Store
from paneglass.store.tables import CLOCKS, TICKETS

NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)
YEAR = 365 * 86400
VENDORS = ("hosting", "desktop", "network", "print-fleet", "app-partner", "on-call", "field", "noc")
FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def stamp(seconds: float) -> str:
    """An instant ``seconds`` after the epoch, as SQLAlchemy stores it in SQLite."""
    return datetime.fromtimestamp(seconds, UTC).strftime(FORMAT)


def build(path: Path, count: int) -> Store:
    """A store with ``count`` tickets, ~10 events each, clocks, incidents and links."""
    store = Store(f"sqlite:///{path}")
    store.sync_vendors(
        [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in VENDORS]
        + [VendorConfig(name="hosting-status", kind="statuspage", base_url="http://127.0.0.1:9")]
    )
    store.close()
    rng = random.Random(16)
    end = NOW.timestamp()
    started = time.perf_counter()
    # A bulk load, not the collector: no journal, a large cache; WAL again at the end.
    raw = sqlite3.connect(path, isolation_level=None)
    cursor = raw.cursor()
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -4000000"):
        cursor.execute(f"PRAGMA {pragma}").fetchall()
    cursor.execute("BEGIN")
    tickets: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    clocks: list[tuple[object, ...]] = []
    event_count = 0

    def flush() -> None:
        cursor.executemany(
            "INSERT INTO ticket (id, vendor_id, external_id, key, title, status, raw_status, "
            "priority, raw_priority, assignee, group_name, requester, asset, created_at, "
            "updated_at, resolved_at, first_response_at, vendor_breached, first_seen_at, "
            "last_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            tickets,
        )
        cursor.executemany(
            "INSERT INTO ticketevent (ticket_id, field_name, old_value, new_value, vendor_time, "
            "seen_at) VALUES (?,?,?,?,?,?)",
            events,
        )
        cursor.executemany(
            "INSERT INTO slaclock (ticket_id, metric, cycle, policy, target_seconds, "
            "elapsed_seconds, paused, due_at, at_risk_at, state, breach_at, started_at, "
            "stopped_at, computed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            clocks,
        )
        tickets.clear()
        events.clear()
        clocks.clear()

    for n in range(1, count + 1):
        vendor = 1 + n % len(VENDORS)
        # Rows land in the order a collector writes them: a ticket when it first appears, its
        # events as they happen; so a month's rows sit together on disk, as they would.
        created = end - YEAR + (n - rng.random()) / count * YEAR
        response = rng.expovariate(1 / 1800)
        work = rng.expovariate(1 / 100_000)
        open_now = created + response + work > end or rng.random() < 0.03
        reopened = not open_now and rng.random() < 0.05
        resolved = None if open_now else created + response + work
        c, r = stamp(created), stamp(created + response)
        status = "open" if open_now else "resolved"
        flag = rng.random() < 0.5 and not open_now
        tickets.append(
            (
                n, vendor, f"e{n}", f"K{n:08d}", f"ticket {n}", status, status, "P3", "3",
                f"agent {n % 97}", "Desk", f"user {n % 5003}", None, c,
                stamp(resolved or created + response), stamp(resolved) if resolved else None,
                r, (rng.random() < 0.1) if flag else None, c, c,
            )
        )  # fmt: skip
        at = created
        history = [("created", None, "new"), ("assignee", None, "agent"), ("status", "new", "open")]
        history += [("group_name", None, "Desk"), ("raw_status", "new", "open")]
        history += [("status", "open", "pending"), ("status", "pending", "open")]
        history += [("priority", "P4", "P3")]
        if resolved is not None:
            history += [("status", "open", "resolved"), ("resolved_at", None, stamp(resolved))]
            if reopened:
                history += [("status", "resolved", "open"), ("status", "open", "resolved")]
        step = ((resolved or end) - created) / len(history)
        for name, old, new in history:
            events.append((n, name, old, new, stamp(at), stamp(at)))
            at += step
        event_count += len(history)
        response_target, resolution_target = 4 * 3600, 24 * 3600
        business = 0.4  # office hours: about 40 % of wall time counts
        response_elapsed = int(response * business)
        clocks.append(
            (
                n, "response", 0, "P3 default", response_target, response_elapsed, 0, None, None,
                "met" if response_elapsed <= response_target else "missed",
                stamp(created + response_target / business)
                if response_elapsed > response_target else None,
                c, r, r,
            )
        )  # fmt: skip
        cycles = 2 if reopened else 1
        for cycle in range(cycles):
            elapsed = int((work / cycles) * business)
            start = created + cycle * work / cycles
            stop = None if open_now else start + work / cycles
            missed = elapsed > resolution_target
            breach = stamp(start + resolution_target / business) if missed else None
            state = ("breached" if missed else "ok") if stop is None else (
                "missed" if missed else "met"
            )  # fmt: skip
            clocks.append(
                (
                    n, "resolution", cycle, "P3 default", resolution_target, elapsed, 0,
                    None, None, state, breach, stamp(start),
                    stamp(stop) if stop is not None else None, c,
                )
            )  # fmt: skip
        if len(tickets) >= 20_000:
            flush()
    flush()
    incidents = []
    for i in range(200):
        start = end - rng.random() * YEAR
        incidents.append(
            (9, f"inc{i}", f"incident {i}", "resolved", "major", stamp(start), stamp(start),
             stamp(start + rng.expovariate(1 / 7200)), 0)
        )  # fmt: skip
    cursor.executemany(
        "INSERT INTO vendorincident (vendor_id, external_id, name, status, impact, created_at, "
        "updated_at, resolved_at, active) VALUES (?,?,?,?,?,?,?,?,?)",
        incidents,
    )
    cursor.executemany(
        "INSERT INTO ticketlink (from_vendor_id, from_external_id, to_vendor_id, to_external_id,"
        " mirror_comments, created_at, created_by) VALUES (?,?,?,?,0,?,?)",
        [
            (1 + i % 8, f"e{i}", 1 + (i + 3) % 8, f"h{i}", stamp(end - rng.random() * YEAR), "kim")
            for i in range(10_000)
        ],
    )
    cursor.execute("COMMIT")
    cursor.execute("ANALYZE")
    cursor.execute("PRAGMA journal_mode = WAL").fetchall()
    raw.close()
    print(
        f"built {count:,} tickets, {event_count:,} events in "
        f"{time.perf_counter() - started:.0f} s ({path.stat().st_size / 2**30:.1f} GiB)"
    )
    return Store(f"sqlite:///{path}")


def timed(label: str, runs: int, fn: object, *args: object, **kwargs: object) -> float:
    """Run ``fn`` ``runs`` times; print and return the median in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(*args, **kwargs)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"  {label:<62} {median * 1000:8.0f} ms  (best {min(times) * 1000:.0f})")
    return median


def python_baseline(store: Store, start: datetime, end: datetime) -> None:
    """Read the month's stopped clocks into Python and sort them: one figure's starting point."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(TICKETS.c.vendor_id, CLOCKS.c.metric, CLOCKS.c.elapsed_seconds)
            .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
            .where(CLOCKS.c.stopped_at >= start, CLOCKS.c.stopped_at < end)
        ).all()
    groups: dict[tuple[int, str], list[int]] = {}
    for vendor, metric, elapsed in rows:
        groups.setdefault((vendor, metric), []).append(elapsed)
    for values in groups.values():
        values.sort()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or create) this SQLite file")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="paneglass-scorecard-")
    path = args.db or Path(folder) / "bench.db"
    store = Store(f"sqlite:///{path}") if path.exists() else build(path, args.count)
    zone = ZoneInfo("UTC")
    november = parse_period("2026-11", zone, NOW)
    trend = november.trailing(12)
    pages = {"hosting": ["hosting-status"]}
    print(f"python {sys.version.split()[0]}, {args.count:,} tickets, period {november.title}")
    rows = store.scorecards([november.span], NOW, status_pages=pages, backlog_periods=[0])
    hosting = next(r for r in rows if r.vendor == "hosting")
    print(
        f"  hosting in November: opened {hosting.opened:,}, resolved {hosting.resolved:,}, "
        f"backlog {hosting.backlog:,}, MTTR p50 {hosting.mttr.business_p50:,.0f} s, "
        f"credit {hosting.credit_minutes:,.0f} min"
    )
    print("scorecards (median of 5 runs, warm cache)")
    one = timed(
        "one month, every vendor, with backlog (the issue's target < 2 s)",
        5,
        store.scorecards,
        [november.span],
        NOW,
        status_pages=pages,
        backlog_periods=[0],
    )
    timed(
        "the pane: 12 months of trend + backlog of the last two",
        3,
        store.scorecards,
        [p.span for p in trend],
        NOW,
        status_pages=pages,
        backlog_periods=[10, 11],
    )
    baseline = timed(
        "baseline: the month's stopped clocks read into Python and sorted",
        5,
        python_baseline,
        store,
        *november.span,
    )
    print(f"  the whole scorecard costs {one / baseline:.1f}x the baseline's one figure")
    store.close()


if __name__ == "__main__":
    main()

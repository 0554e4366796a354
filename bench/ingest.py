"""Benchmark: ingest through ``Store.apply`` next to a raw upsert of the same rows.

Realistic pages: 20,000 tickets (about 20 fields each, a ServiceNow-like
``raw`` payload of about 1 KB, a mix of priorities and statuses, an SLA
config with 24x7 and business-hours policies so every ticket gets clocks),
applied in pages of 500, one transaction per page, measured in one run:

(a) a raw ``sqlite3`` ``executemany`` upsert of the same rows into the same
    table (schema and indexes made by the store's own migrations), from
    pre-built tuples, one ``BEGIN IMMEDIATE … COMMIT`` per page. Exactly what
    it times: per page, ``BEGIN IMMEDIATE``, one ``INSERT … ON CONFLICT
    (vendor_id, external_id) DO UPDATE`` executemany of 500 tuples, ``COMMIT``;
    on a connection set up as the store's writer is (WAL, ``synchronous=NORMAL``,
    foreign keys on, the default page cache). The tuples are the ticket rows the
    store writes, every value already in stored form (datetimes as SQLite text,
    the payload's JSON by the store's own ``raw_json``), built before the timer
    starts. It writes no event, no clock and no cursor, and reads nothing: the
    ticket table's own cost (row, primary key, unique key, ten indexes) and the
    commit of its pages, the floor of any ingest of these rows;
(b) ``Store.apply`` first inserts, (c) ``Store.apply`` updates (the same
    tickets again, every one moved on, some with a new status, assignee or
    priority) on a real SQLite file in WAL mode; the ratios (b)/(a), (c)/(a);
(d) the same pages through ``Store.apply`` on a PostgreSQL 15 server started
    here (``tests/pg_server.py``: initdb/pg_ctl on a temporary folder, loopback
    only; the tests' settings: ``fsync=off``, otherwise initdb's defaults,
    ``shared_buffers`` 128 MB, a checkpoint every 5 minutes or 1 GB of WAL),
    tickets/s, with each way of sending rows the store knows
    (``ingest_postgres.METHODS``; the chosen one is ``pg_apply_…``), next to a
    raw upsert of the same rows (binary COPY into a temporary table, one
    ``INSERT … ON CONFLICT`` merge, a commit per page).

Every rate is given twice: per wall second, and per CPU second (this
process's, plus the server's on PostgreSQL, read from ``/proc``): on a shared
machine the second is the steadier one, and what a machine with a free core
for each process would see. Each figure is the best of ``repeats``
interleaved rounds (the best round is the one least disturbed).

Prints figures; asserts nothing.
``python bench/ingest.py [--count N] [--repeats R] [--no-sqlite] [--no-postgres]``.
:func:`measure` returns the same figures by name for other benches (``bench/sync.py``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from connectors import VendorConfig  # noqa: E402
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus  # noqa: E402
from paneglass.sla import SlaSettings, parse_sla  # noqa: E402
from paneglass.store import Store  # noqa: E402
from paneglass.store.ingest import raw_json  # noqa: E402
from paneglass.store.ingest_rows import COLUMNS  # noqa: E402

__all__ = ["build_records", "measure", "sla_settings"]

COUNT, BATCH, REPEATS = 20_000, 500, 3
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday afternoon
VENDOR = "hosting"

SLA_CONFIG: dict[str, Any] = {
    "calendars": {
        "uk-office": {"timezone": "Europe/London", "hours": "08:00-18:00", "country": "GB"}
    },
    "policies": [
        {"name": "P1 24x7", "priorities": ["P1"], "response": "15m", "resolution": "4h"},
        {"name": "P2 24x7", "priorities": ["P2"], "response": "1h", "resolution": "8h"},
        {
            "name": "P3 office",
            "priorities": ["P3"],
            "response": "4h",
            "resolution": "3d",
            "calendar": "uk-office",
            "pause_raw_statuses": ["Awaiting Vendor"],
        },
        {
            "name": "P4/P5 office",
            "priorities": ["P4", "P5"],
            "response": "8h",
            "resolution": "10d",
            "calendar": "uk-office",
        },
        {"name": "unprioritised", "response": "1d", "resolution": "20d"},
    ],
}

_STATES = {
    TicketStatus.NEW: "1",
    TicketStatus.OPEN: "2",
    TicketStatus.PENDING: "3",
    TicketStatus.RESOLVED: "6",
    TicketStatus.CLOSED: "7",
}
_RAW_STATUS = {
    TicketStatus.NEW: "New",
    TicketStatus.OPEN: "In Progress",
    TicketStatus.PENDING: "On Hold",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}
_GROUPS = ["Managed Hosting L2", "Service Desk", "Network Ops", "Storage", "DBA", "Backup"]
_WORDS = [
    "server",
    "disk",
    "slow",
    "login",
    "printer",
    "vpn",
    "backup",
    "mail",
    "latency",
    "outage",
    "queue",
    "certificate",
]


def sla_settings() -> SlaSettings:
    """The bench's contract: P1/P2 round the clock, the rest in UK office hours."""
    return parse_sla(SLA_CONFIG, "bench")


def _snow_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _payload(n: int, rec: dict[str, Any], touch: int) -> dict[str, Any]:
    """About 1 KB of a ServiceNow incident, as its Table API returns it."""
    sys_id = f"{n:08x}" + "9d3a1c0e4b7f2a6d5c8e1b3a"
    return {
        "sys_id": sys_id,
        "number": rec["key"],
        "short_description": rec["title"],
        "description": f"User reports: {rec['title']}. Steps tried: restart, re-login.",
        "state": _STATES[rec["status"]],
        "incident_state": _STATES[rec["status"]],
        "priority": rec["raw_priority"] or "",
        "impact": "2",
        "urgency": "2",
        "category": "software",
        "subcategory": "application",
        "assigned_to": {"link": f"/api/now/table/sys_user/{sys_id}", "value": sys_id},
        "assignment_group": {"display_value": rec["group"], "value": f"g{n % 6:031x}"},
        "caller_id": {"display_value": rec["requester"], "value": f"u{n % 900:031x}"},
        "cmdb_ci": {"display_value": rec["asset"], "value": f"c{n % 300:031x}"},
        "opened_at": _snow_time(rec["created_at"]),
        "resolved_at": _snow_time(rec["resolved_at"]),
        "sys_created_on": _snow_time(rec["created_at"]),
        "sys_updated_on": _snow_time(rec["updated_at"]),
        "sys_updated_by": "svc_integration",
        "sys_mod_count": str(3 + touch),
        "sys_domain": {"link": "/api/now/table/sys_user_group/global", "value": "global"},
        "contact_type": "self-service",
        "made_sla": "true" if not rec["vendor_breached"] else "false",
        "work_notes_list": "",
        "close_code": "Solved (Permanently)" if rec["resolved_at"] else "",
    }


def build_records(count: int = COUNT, touch: int = 0, seed: int = 13) -> list[TicketRecord]:
    """``count`` realistic tickets; ``touch`` > 0 gives the same tickets moved on ``touch`` times.

    Every ticket of a touched set has a new ``updated_at`` (a poll only sees
    what moved); about a third change status, a fifth their assignee, a
    twentieth their priority, as an incremental poll of a busy desk would.
    """
    records = []
    statuses = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.PENDING]
    statuses += [TicketStatus.RESOLVED, TicketStatus.CLOSED]
    priorities: list[Priority | None] = [Priority.P1, Priority.P2, Priority.P3, Priority.P3]
    priorities += [Priority.P4, Priority.P4, Priority.P5, None]
    for n in range(count):
        rng = random.Random(seed * 1_000_003 + n)  # the ticket as first seen, whatever ``touch``
        created = NOW - timedelta(minutes=rng.randrange(10, 60 * 24 * 45))
        status = rng.choice(statuses)
        priority = rng.choice(priorities)
        assignee = f"agent {rng.randrange(60)}"
        updated = created + (NOW - created) * rng.uniform(0.1, 0.9)
        responded = created + timedelta(minutes=rng.randrange(5, 300))
        title = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} at site {n % 97}"
        group, requester = rng.choice(_GROUPS), f"user {rng.randrange(900)}"
        asset, due_hours = f"srv-{rng.randrange(300):04d}", rng.choice((4, 8, 24, 72))
        breached = rng.random() < 0.1
        mover = random.Random(seed * 7_000_003 + n)
        for _ in range(touch):
            updated = updated + (NOW - updated) * mover.uniform(0.1, 0.5)
            roll = mover.random()
            if roll < 0.33:
                status = mover.choice(statuses)
            elif roll < 0.53:
                assignee = f"agent {mover.randrange(60)}"
            elif roll < 0.58:
                priority = mover.choice(priorities)
        resolved = updated if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else None
        rec: dict[str, Any] = {
            "key": f"INC{n:07d}",
            "title": title,
            "status": status,
            "raw_status": _RAW_STATUS[status],
            "priority": priority,
            "raw_priority": f"{priority.value[1]} - {priority.name}" if priority else None,
            "group": group,
            "requester": requester,
            "asset": asset,
            "created_at": created,
            "updated_at": updated,
            "resolved_at": resolved,
            "vendor_breached": breached,
        }
        records.append(
            TicketRecord(
                external_id=f"{n:08x}9d3a1c0e4b7f2a6d5c8e1b3a",
                key=rec["key"],
                title=rec["title"],
                status=status,
                raw_status=rec["raw_status"],
                priority=priority,
                raw_priority=rec["raw_priority"],
                created_at=created,
                updated_at=updated,
                assignee=assignee,
                group=rec["group"],
                requester=rec["requester"],
                asset=rec["asset"],
                resolved_at=resolved,
                first_response_at=responded if status is not TicketStatus.NEW else None,
                vendor_due_at=created + timedelta(hours=due_hours),
                vendor_breached=rec["vendor_breached"],
                url=f"https://acme.service-now.com/incident.do?sys_id={n:08x}",
                description=f"User reports: {rec['title']}.",
                raw=_payload(n, rec, touch),
            )
        )
    return records


def pages(records: Sequence[TicketRecord], batch: int = BATCH) -> list[PollResult]:
    """The records in pages, each with its own cursor checkpoint."""
    return [
        PollResult(
            tickets=tuple(records[start : start + batch]),
            cursor={"updated_after": records[start].updated_at.isoformat(), "offset": start},
        )
        for start in range(0, len(records), batch)
    ]


# -- (a) the raw baseline ---------------------------------------------------------------------

_COLUMNS = COLUMNS
_KEEP = {"vendor_id", "external_id", "first_seen_at"}
RAW_UPSERT = (
    f"INSERT INTO ticket ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (vendor_id, external_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in _KEEP)
)


def _stamp(value: datetime | None) -> str | None:
    """A UTC instant as the store keeps it in SQLite."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if value else None


def raw_rows(
    records: Sequence[TicketRecord],
    vendor_id: int,
    _stamp: Callable[[datetime | None], Any] = _stamp,
) -> list[tuple[Any, ...]]:
    """The ticket rows as plain tuples, every value already in its stored form (datetimes
    by ``_stamp``: SQLite's text by default)."""
    now = _stamp(NOW)
    return [
        (
            vendor_id,
            r.external_id,
            r.key,
            r.title,
            r.status.value,
            r.raw_status,
            r.priority.value if r.priority else None,
            r.raw_priority,
            r.assignee,
            r.group,
            r.requester,
            r.asset,
            _stamp(r.created_at),
            _stamp(r.updated_at),
            _stamp(r.resolved_at),
            _stamp(r.first_response_at),
            _stamp(r.vendor_due_at),
            r.vendor_breached,
            r.url,
            raw_json(r.raw),
            now,
            now,
            r.description,
        )
        for r in records
    ]


@contextmanager
def _timed(
    count: int, rates: list[tuple[float, float]], server: Callable[[], float] | None = None
) -> Iterator[None]:
    """Append (count per wall second, count per CPU second); the CPU is this process's,
    plus the database server's when ``server`` tells its CPU seconds so far."""
    busy = server or (lambda: 0.0)
    wall, cpu, served = time.perf_counter(), time.process_time(), busy()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu + busy() - served
    rates.append((count / wall, count / max(cpu, 1e-9)))


def _server_cpu(store: Store) -> Callable[[], float] | None:
    """CPU seconds used so far by the PostgreSQL server's processes (``None`` on SQLite)."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        pids = [int(pid) for (pid,) in conn.execute(text("SELECT pid FROM pg_stat_activity"))]
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    return used


def _new_store(url: str, settings: SlaSettings) -> Store:
    store = Store(url, sla=settings)
    store.sync_vendors(
        [VendorConfig(name=VENDOR, kind="servicenow", base_url="http://127.0.0.1:9")]
    )
    return store


def raw_sqlite(
    path: Path, phases: Sequence[Sequence[TicketRecord]], batch: int
) -> list[tuple[float, float]]:
    """Rows/s (wall, CPU) of a raw executemany upsert per phase (schema from the migrations)."""
    _new_store(f"sqlite:///{path}", sla_settings()).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    vendor_id = conn.execute("SELECT id FROM vendor").fetchone()[0]
    rates = []
    for records in phases:
        rows = raw_rows(records, vendor_id)
        chunks = [rows[start : start + batch] for start in range(0, len(rows), batch)]
        with _timed(len(rows), rates):
            for chunk in chunks:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(RAW_UPSERT, chunk)
                conn.execute("COMMIT")
    conn.close()
    return rates


def raw_postgres(
    url: str, phases: Sequence[Sequence[TicketRecord]], batch: int
) -> list[tuple[float, float]]:
    """Rows/s (wall, CPU of client and server) of a raw upsert on PostgreSQL: pre-built
    rows by binary COPY into a temporary table, one INSERT … ON CONFLICT merge, a commit
    per page."""
    store = _new_store(url, sla_settings())
    server = _server_cpu(store)
    with store.engine.connect() as conn:
        vendor_id = conn.execute(text("SELECT id FROM vendor")).scalar_one()
        types = dict(
            conn.execute(
                text(
                    "SELECT attname, atttypid::int FROM pg_attribute "
                    "WHERE attrelid = 'ticket'::regclass AND attnum > 0"
                )
            ).all()
        )
    names = ", ".join(f'"{c}"' for c in _COLUMNS)
    merge = (
        f"INSERT INTO ticket ({names}) SELECT {names} FROM raw_stage "
        "ON CONFLICT (vendor_id, external_id) DO UPDATE SET "
        + ", ".join(f'"{c}" = excluded."{c}"' for c in _COLUMNS if c not in _KEEP)
    )
    raw = store.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute(
        f"CREATE TEMPORARY TABLE raw_stage ON COMMIT DELETE ROWS AS "
        f"SELECT {names} FROM ticket WITH NO DATA"
    )
    raw.commit()
    rates: list[tuple[float, float]] = []
    for records in phases:
        rows = raw_rows(records, vendor_id, lambda value: value)
        chunks = [rows[start : start + batch] for start in range(0, len(rows), batch)]
        with _timed(len(rows), rates, server):
            for chunk in chunks:
                with cursor.copy(f"COPY raw_stage ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types([types[c] for c in _COLUMNS])
                    for row in chunk:
                        copy.write_row(row)
                cursor.execute(merge)
                raw.commit()
    raw.close()
    store.close()
    return rates


# -- (b), (c), (d) through the store -------------------------------------------------------------


def through_store(
    url: str, phases: Sequence[Sequence[TicketRecord]], batch: int, settings: SlaSettings
) -> list[tuple[float, float]]:
    """Tickets/s (wall, CPU) of ``Store.apply``, one page per call (as the streaming
    collector calls it); the CPU includes the server's on PostgreSQL."""
    store = _new_store(url, settings)
    server = _server_cpu(store)
    rates = []
    for records in phases:
        polls = pages(records, batch)
        with _timed(len(records), rates, server):
            for page in polls:
                store.apply(VENDOR, page, None, NOW)
    store.close()
    return rates


@contextmanager
def postgres(url: str | None) -> Iterator[Callable[[], str]]:
    """A factory of fresh databases on ``url`` (a URL prefix ending in ``/``) or on a new server."""
    from tests.pg_server import postgres_server

    names = iter(range(1_000_000))

    def fresh(prefix: str) -> str:
        name = f"bench_ingest_{next(names)}"
        admin = create_engine(prefix + "postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return prefix + name

    if url is not None:
        yield lambda: fresh(url)
        return
    with postgres_server() as prefix:
        yield lambda: fresh(prefix)


def measure(
    count: int = COUNT,
    batch: int = BATCH,
    repeats: int = REPEATS,
    *,
    sqlite: bool = True,
    postgresql: bool = True,
    alternatives: bool = True,
    pg_url: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Every figure of this bench, by name (rates in rows or tickets per second, ratios).

    Names: ``sqlite_raw_{insert,update}_rows_s``, ``sqlite_apply_{insert,update}_tickets_s``,
    ``sqlite_ratio_{insert,update}``; ``pg_apply_{insert,update}_tickets_s``,
    ``pg_<method>_{insert,update}_tickets_s`` (the row methods not chosen),
    ``pg_raw_{insert,update}_rows_s``, ``pg_ratio_{insert,update}``; each also with
    ``_cpu`` appended (per CPU second instead of per wall second).

    ``pg_url`` reuses a running server (a SQLAlchemy URL prefix ending in ``/``);
    without it a throwaway server is started; ``postgresql=False`` skips that half.
    ``alternatives`` also measures the PostgreSQL row methods not chosen
    (``pg_<method>_…``; the chosen one is ``pg_apply_…``). ``…_cpu`` rates are per
    CPU second, on PostgreSQL this process's and the server's together: what a
    machine with a core free for each would see, without waiting on the network.
    """
    say = log or (lambda _line: None)
    settings = sla_settings()
    phases = [build_records(count, 0), build_records(count, 1)]
    best: dict[str, float] = {}

    def keep(name: str, rates: tuple[float, float]) -> None:
        for suffix, value in zip(("", "_cpu"), rates, strict=True):
            best[name + suffix] = max(best.get(name + suffix, 0.0), value)
        say(f"  {name:<32} {rates[0]:>10,.0f}/s wall {rates[1]:>10,.0f}/s CPU")

    with tempfile.TemporaryDirectory(prefix="paneglass-ingest-") as folder:
        for round_ in range(repeats if sqlite else 0):
            say(f"round {round_ + 1}/{repeats}")
            raw = raw_sqlite(Path(folder) / f"raw{round_}.db", phases, batch)
            keep("sqlite_raw_insert_rows_s", raw[0])
            keep("sqlite_raw_update_rows_s", raw[1])
            url = f"sqlite:///{Path(folder) / f'store{round_}.db'}"
            applied = through_store(url, phases, batch, settings)
            keep("sqlite_apply_insert_tickets_s", applied[0])
            keep("sqlite_apply_update_tickets_s", applied[1])
    for phase, suffix in itertools.product(("insert", "update"), ("", "_cpu")):
        if not sqlite:
            break
        best[f"sqlite_ratio_{phase}{suffix}"] = (
            best[f"sqlite_apply_{phase}_tickets_s{suffix}"]
            / best[f"sqlite_raw_{phase}_rows_s{suffix}"]
        )
    if postgresql:
        from paneglass.store.ingest_postgres import METHODS, PostgresWriter

        chosen = PostgresWriter.method
        with postgres(pg_url) as fresh:
            for round_ in range(repeats):
                for method in METHODS if alternatives else (chosen,):
                    say(f"postgresql round {round_ + 1}/{repeats}, rows by {method}")
                    PostgresWriter.method = method
                    try:
                        applied = through_store(fresh(), phases, batch, settings)
                    finally:
                        PostgresWriter.method = chosen
                    name = "apply" if method == chosen else method
                    keep(f"pg_{name}_insert_tickets_s", applied[0])
                    keep(f"pg_{name}_update_tickets_s", applied[1])
                raw = raw_postgres(fresh(), phases, batch)
                keep("pg_raw_insert_rows_s", raw[0])
                keep("pg_raw_update_rows_s", raw[1])
        for phase, suffix in itertools.product(("insert", "update"), ("", "_cpu")):
            best[f"pg_ratio_{phase}{suffix}"] = (
                best[f"pg_apply_{phase}_tickets_s{suffix}"] / best[f"pg_raw_{phase}_rows_s{suffix}"]
            )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-alternatives", action="store_true")
    parser.add_argument("--pg-url", help="reuse a server: postgresql+psycopg://user@host:port/")
    args = parser.parse_args()
    figures = measure(
        args.count,
        args.batch,
        args.repeats,
        sqlite=not args.no_sqlite,
        postgresql=not args.no_postgres,
        alternatives=not args.no_alternatives,
        pg_url=args.pg_url,
        log=print,
    )
    print(f"\ningest of {args.count:,} tickets in pages of {args.batch} (best of {args.repeats})")
    for name, value in figures.items():
        shown = f"{value:.3f}" if "ratio" in name else f"{value:,.0f}"
        print(f"  {name:<32} {shown:>12}")


if __name__ == "__main__":
    main()

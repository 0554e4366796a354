"""The set-based ingest gives exactly what the old row-by-row SQLAlchemy path gave.

The old path (``Store.apply`` before the ingest work: SQLAlchemy Core with a
bind processor per value, a second read for new ids, every history read back
and every clock deleted and re-inserted) is kept here as the reference. The
same randomised pages (new tickets, updates, status changes, re-opens,
priority changes, pauses, breaches, duplicates, pages that change nothing)
go through both, into two vendors of one database, and tickets, events,
clocks, their time-travel versions and the counts ``Store.apply`` reports must
agree, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, Table, and_, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.sla import (
    FieldsChange,
    SlaSettings,
    StatusChange,
    covered_since,
    parse_sla,
    ticket_clocks,
)
from paneglass.store import Store, ingest_postgres, ingest_sqlite, writes
from paneglass.store.column_types import UTCDateTime
from paneglass.store.history import CLOCK_FIELDS, TICKET_FIELDS
from paneglass.store.ingest import raw_json
from paneglass.store.ingest_rows import COLUMNS
from paneglass.store.tables import CLOCK_VERSIONS, CLOCKS, EVENTS, TICKET_VERSIONS, TICKETS, VENDORS
from paneglass.store.vendors import vendor_row_id

TRACKED_FIELDS = (
    "key",
    "title",
    "status",
    "raw_status",
    "priority",
    "raw_priority",
    "assignee",
    "group_name",
    "requester",
    "asset",
    "resolved_at",
    "first_response_at",
    "vendor_due_at",
    "vendor_breached",
)
_CHUNK = 500

# -- the reference: the old path, verbatim ----------------------------------------------------


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _row(vendor_id: int, record: TicketRecord, now: datetime) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "external_id": record.external_id,
        "key": record.key,
        "title": record.title,
        "status": record.status.value,
        "raw_status": record.raw_status,
        "priority": record.priority.value if record.priority else None,
        "raw_priority": record.raw_priority,
        "assignee": record.assignee,
        "group_name": record.group,
        "requester": record.requester,
        "asset": record.asset,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "resolved_at": record.resolved_at,
        "first_response_at": record.first_response_at,
        "vendor_due_at": record.vendor_due_at,
        "vendor_breached": record.vendor_breached,
        "url": record.url,
        "raw": json.dumps(record.raw, default=str, ensure_ascii=False) if record.raw else None,
        "first_seen_at": now,
        "last_seen_at": now,
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_tickets(
    conn: Connection, vendor_id: int, records: list[TicketRecord], now: datetime
) -> tuple[int, int, int, set[int]]:
    """Upsert changed tickets and append their events; return counts and changed ids."""
    existing: dict[str, dict[str, Any]] = {}
    columns = [TICKETS.c.id, TICKETS.c.external_id, TICKETS.c.updated_at]
    columns += [TICKETS.c[name] for name in TRACKED_FIELDS]
    for chunk in _chunks([r.external_id for r in records]):
        rows = conn.execute(
            select(*columns).where(
                and_(TICKETS.c.vendor_id == vendor_id, TICKETS.c.external_id.in_(chunk))
            )
        ).mappings()
        existing.update({row["external_id"]: dict(row) for row in rows})

    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    pending_events: list[tuple[str, str, Any, Any, datetime]] = []
    seen_only: list[int] = []
    for record in records:
        row = _row(vendor_id, record, now)
        old = existing.get(record.external_id)
        if old is None:
            new_rows.append(row)
            pending_events.append(
                (record.external_id, "created", None, row["status"], record.updated_at)
            )
            continue
        diffs = [name for name in TRACKED_FIELDS if old[name] != row[name]]
        if diffs or old["updated_at"] != row["updated_at"]:
            changed_rows.append(row)
            pending_events.extend(
                (record.external_id, name, old[name], row[name], record.updated_at)
                for name in diffs
            )
        else:
            seen_only.append(old["id"])

    upsert_rows = new_rows + changed_rows
    if upsert_rows:
        stmt = _insert(conn, TICKETS)
        refreshed = {
            c.name: stmt.excluded[c.name]
            for c in TICKETS.columns
            if c.name not in ("id", "vendor_id", "external_id", "first_seen_at")
        }
        stmt = stmt.on_conflict_do_update(
            index_elements=["vendor_id", "external_id"], set_=refreshed
        )
        for chunk in _chunks(upsert_rows):
            conn.execute(stmt, list(chunk))
    for chunk in _chunks(seen_only):
        conn.execute(update(TICKETS).where(TICKETS.c.id.in_(chunk)).values(last_seen_at=now))

    ids: dict[str, int] = {ext: old["id"] for ext, old in existing.items()}
    missing = [row["external_id"] for row in new_rows]
    for chunk in _chunks(missing):
        found = conn.execute(
            select(TICKETS.c.id, TICKETS.c.external_id).where(
                and_(TICKETS.c.vendor_id == vendor_id, TICKETS.c.external_id.in_(chunk))
            )
        )
        ids.update({ext: tid for tid, ext in found})
    event_rows = [
        {
            "ticket_id": ids[ext],
            "field_name": name,
            "old_value": _text(old_value),
            "new_value": _text(new_value),
            "vendor_time": vendor_time,
            "seen_at": now,
        }
        for ext, name, old_value, new_value, vendor_time in pending_events
    ]
    for chunk in _chunks(event_rows):
        conn.execute(EVENTS.insert(), list(chunk))
    changed_ids = {ids[row["external_id"]] for row in upsert_rows}
    return len(new_rows), len(changed_rows), len(event_rows), changed_ids


def _histories(conn: Connection, ids: Sequence[int]) -> dict[int, list[StatusChange]]:
    """Each ticket's status history (normalised and raw) from its events, oldest first."""
    rows = conn.execute(
        select(
            EVENTS.c.ticket_id,
            EVENTS.c.field_name,
            EVENTS.c.old_value,
            EVENTS.c.new_value,
            EVENTS.c.vendor_time,
            EVENTS.c.seen_at,
        )
        .where(
            EVENTS.c.ticket_id.in_(ids),
            EVENTS.c.field_name.in_(("created", "status", "raw_status")),
        )
        .order_by(EVENTS.c.id)
    ).all()
    first_raw: dict[int, str] = {}
    for tid, name, old, _new, _at, _seen in rows:
        if name == "raw_status":
            first_raw.setdefault(tid, old or "")
    histories: dict[int, list[StatusChange]] = {tid: [] for tid in ids}
    current: dict[int, tuple[str, str]] = {}
    for tid, name, _old, new, at, seen in rows:
        status, raw = current.get(tid, ("open", first_raw.get(tid, "")))
        if name in ("created", "status"):
            status = new or "open"
        else:
            raw = new or ""
        current[tid] = (status, raw)
        histories[tid].append(StatusChange(at or seen, status, raw))
    return histories


def _coverage(
    conn: Connection, ids: Sequence[int], current: dict[int, tuple[str | None, str | None]]
) -> dict[int, list[FieldsChange]]:
    """Each re-prioritised or re-grouped ticket's (priority, group) over time (issue #15:
    a clock starts when its policy first covers the ticket); the old values hold from
    creation."""
    rows = conn.execute(
        select(
            EVENTS.c.ticket_id,
            EVENTS.c.field_name,
            EVENTS.c.old_value,
            EVENTS.c.new_value,
            EVENTS.c.vendor_time,
            EVENTS.c.seen_at,
        )
        .where(EVENTS.c.ticket_id.in_(ids), EVENTS.c.field_name.in_(("priority", "group_name")))
        .order_by(EVENTS.c.id)
    ).all()
    first: dict[tuple[int, str], str | None] = {}
    for tid, name, old, _new, _at, _seen in rows:
        first.setdefault((tid, name), old)
    found: dict[int, list[FieldsChange]] = {}
    for tid, name, _old, new, at, seen in rows:
        if tid not in found:
            priority, group = current[tid]
            found[tid] = [
                FieldsChange(
                    at or seen,
                    first.get((tid, "priority"), priority),
                    first.get((tid, "group_name"), group),
                )
            ]
        last = found[tid][-1]
        if name == "priority":
            found[tid].append(FieldsChange(at or seen, new, last.group))
        else:
            found[tid].append(FieldsChange(at or seen, last.priority, new))
    return found


def recompute_clocks(
    conn: Connection, ticket_ids: Iterable[int], now: datetime, settings: SlaSettings
) -> None:
    """Recompute and store the contract clocks of these tickets (pure engine, stored result)."""
    for chunk in _chunks(sorted(ticket_ids)):
        tickets = conn.execute(
            select(
                TICKETS.c.id,
                VENDORS.c.name,
                TICKETS.c.priority,
                TICKETS.c.group_name,
                TICKETS.c.created_at,
                TICKETS.c.first_response_at,
                TICKETS.c.resolved_at,
                TICKETS.c.raw_status,
            )
            .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
            .where(TICKETS.c.id.in_(chunk))
        ).all()
        histories = _histories(conn, chunk)
        coverage = _coverage(conn, chunk, {t.id: (t.priority, t.group_name) for t in tickets})
        latched = {
            (tid, metric, cycle): breach_at
            for tid, metric, cycle, breach_at in conn.execute(
                select(
                    CLOCKS.c.ticket_id, CLOCKS.c.metric, CLOCKS.c.cycle, CLOCKS.c.breach_at
                ).where(CLOCKS.c.ticket_id.in_(chunk))
            )
        }
        rows = []
        for (
            tid,
            vendor,
            priority,
            group,
            created_at,
            first_response_at,
            resolved_at,
            raw,
        ) in tickets:
            history = histories[tid]
            if history:  # the first-seen status holds from creation
                first = history[0]
                first_raw = first.raw_status or raw
                if first.status in ("resolved", "closed"):  # first seen already done
                    done_at = max(resolved_at or first.at, created_at)
                    history[0] = StatusChange(done_at, first.status, first_raw)
                    history.insert(0, StatusChange(created_at, "open", ""))
                else:
                    history[0] = StatusChange(created_at, first.status, first_raw)
            policy = settings.match(vendor, priority, group)
            changes = coverage.get(tid)
            clocks = ticket_clocks(
                policy=policy,
                created_at=created_at,
                first_response_at=first_response_at,
                resolved_at=resolved_at,
                history=history,
                now=now,
                since=covered_since(policy, vendor, created_at, changes)
                if policy is not None and changes
                else None,
            )
            for clock in clocks:
                key = (tid, clock.metric.value, clock.cycle)
                rows.append(
                    {
                        "ticket_id": tid,
                        "metric": clock.metric.value,
                        "cycle": clock.cycle,
                        "policy": clock.policy,
                        "target_seconds": int(clock.target.total_seconds()),
                        "elapsed_seconds": int(clock.elapsed.total_seconds()),
                        "paused": clock.paused,
                        "due_at": clock.due_at,
                        "at_risk_at": clock.at_risk_at,
                        "state": clock.state.value,
                        "breach_at": latched.get(key) or clock.breach_at,
                        "started_at": clock.started_at,
                        "stopped_at": clock.stopped_at,
                        "computed_at": now,
                        "pause_reason": clock.pause_reason,
                        "near_breach_at": clock.near_breach_at,
                    }
                )
        conn.execute(CLOCKS.delete().where(CLOCKS.c.ticket_id.in_(chunk)))
        if rows:
            conn.execute(CLOCKS.insert(), rows)


def reference_history(conn: Connection, ticket_ids: Iterable[int], now: datetime) -> None:
    """The old time-travel history of a page (``history.record_page`` before it took what
    ingest holds): every changed ticket's open version closed by a read of every open
    version, a new one copied from the ticket; each clock read back from the table, diffed
    with its open version, closed by id and versioned anew."""
    tv, cv = TICKET_VERSIONS, CLOCK_VERSIONS
    for chunk in _chunks(sorted(ticket_ids)):
        conn.execute(
            update(tv)
            .where(tv.c.ticket_id.in_(chunk), tv.c.valid_to.is_(None))
            .values(valid_to=now)
        )
        conn.execute(
            tv.insert().from_select(
                ["ticket_id", "valid_from", *TICKET_FIELDS],
                select(
                    TICKETS.c.id,
                    literal(now, UTCDateTime()),
                    *(TICKETS.c[name] for name in TICKET_FIELDS),
                ).where(TICKETS.c.id.in_(chunk)),
            )
        )
        current = {
            (row.ticket_id, row.metric, row.cycle): tuple(getattr(row, n) for n in CLOCK_FIELDS)
            for row in conn.execute(
                select(
                    CLOCKS.c.ticket_id,
                    CLOCKS.c.metric,
                    CLOCKS.c.cycle,
                    *(CLOCKS.c[n] for n in CLOCK_FIELDS),
                ).where(CLOCKS.c.ticket_id.in_(chunk))
            )
        }
        open_versions = {
            (row.ticket_id, row.metric, row.cycle): (
                row.id,
                tuple(getattr(row, n) for n in CLOCK_FIELDS),
            )
            for row in conn.execute(
                select(
                    cv.c.id,
                    cv.c.ticket_id,
                    cv.c.metric,
                    cv.c.cycle,
                    *(cv.c[n] for n in CLOCK_FIELDS),
                ).where(cv.c.ticket_id.in_(chunk), cv.c.valid_to.is_(None))
            )
        }
        closing = [
            vid for key, (vid, values) in open_versions.items() if current.get(key) != values
        ]
        opening = [
            {
                "ticket_id": key[0],
                "metric": key[1],
                "cycle": key[2],
                "valid_from": now,
                **dict(zip(CLOCK_FIELDS, values, strict=True)),
            }
            for key, values in current.items()
            if key not in open_versions or open_versions[key][1] != values
        ]
        if closing:
            conn.execute(update(cv).where(cv.c.id.in_(closing)).values(valid_to=now))
        if opening:
            conn.execute(cv.insert(), opening)


def reference_apply(
    conn: Connection,
    vendor_id: int,
    records: Sequence[TicketRecord],
    now: datetime,
    settings: SlaSettings,
) -> tuple[int, int, int]:
    """The old ``apply_batch`` for a page of tickets, its history included:
    (added, updated, events)."""
    unique = list({r.external_id: r for r in records}.values())
    added, updated, events, changed_ids = _upsert_tickets(conn, vendor_id, unique, now)
    recompute_clocks(conn, changed_ids, now, settings)
    reference_history(conn, changed_ids, now)
    return added, updated, events


# -- randomised pages -----------------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)  # a Friday afternoon
SETTINGS = parse_sla(
    {
        "calendars": {
            "office": {"timezone": "Europe/London", "hours": "08:00-18:00", "country": "GB"},
            "ny": {
                "timezone": "America/New_York",
                "hours": {"mon": "09:00-17:00", "sat": "10:00-14:00"},
            },
        },
        "policies": [
            {"name": "P1", "priorities": ["P1"], "response": "15m", "resolution": "4h"},
            {
                "name": "P2 office",
                "priorities": ["P2"],
                "response": "1h",
                "resolution": "8h",
                "calendar": "office",
                "pause_raw_statuses": ["Awaiting Vendor"],
                "thresholds": [0.75],
            },
            {"name": "DBA", "groups": ["DBA"], "resolution": "2h", "calendar": "ny"},
            {
                "name": "P3 office",
                "priorities": ["P3"],
                "response": "4h",
                "resolution": "1d",
                "calendar": "office",
            },
            {"name": "P4", "priorities": ["P4"], "resolution": "3d"},
        ],
    },
    "test",
)
"""Round-the-clock and office-hours policies, a pause status, a group policy; P5 and
tickets without a priority have no clock (a priority change can drop a ticket's clocks)."""

STATUSES = list(TicketStatus)
PRIORITIES: list[Priority | None] = [*Priority, None]
RAW = {
    "new": "New",
    "open": "In Progress",
    "pending": "On Hold",
    "resolved": "Resolved",
    "closed": "Closed",
}


class World:
    """A vendor's tickets changing page after page, as a poll would see them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tickets: dict[str, dict[str, Any]] = {}
        self.serial = 0

    def _new(self, now: datetime) -> dict[str, Any]:
        rng = self.rng
        self.serial += 1
        created = now - timedelta(minutes=rng.choice([1, 20, 200, 3000, 20000]))
        status = rng.choice(STATUSES)
        fields: dict[str, Any] = {
            "external_id": f"x{self.serial}",
            "key": f"INC{self.serial:05d}",
            "title": f"ticket {self.serial}",
            "status": status,
            "raw_status": RAW[status.value],
            "priority": rng.choice(PRIORITIES),
            "raw_priority": rng.choice(["1", "2", None]),
            "created_at": created,
            "updated_at": created + (now - created) * rng.random(),
            "assignee": rng.choice(["Kim", "Ana", None]),
            "group": rng.choice(["DBA", "Service Desk", None]),
            "requester": "Maria",
            "asset": rng.choice(["srv-1", None]),
            "resolved_at": None,
            "first_response_at": rng.choice([None, created + timedelta(minutes=3)]),
            "vendor_due_at": rng.choice([None, created + timedelta(hours=4)]),
            "vendor_breached": rng.choice([None, False, True]),
            "url": f"https://vendor.example/{self.serial}",
            "raw": {"n": self.serial, "v": 0, "note": "café ✓"} if rng.random() < 0.8 else {},
        }
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            fields["resolved_at"] = rng.choice([None, fields["updated_at"]])
        return fields

    def _move(self, fields: dict[str, Any], now: datetime) -> None:
        rng = self.rng
        kind = rng.choice(
            ["status", "status", "reopen", "priority", "assignee", "pause", "raw", "same", "quiet"]
        )
        if kind != "quiet":  # "quiet": a tracked field moves without updated_at
            fields["updated_at"] = max(
                fields["updated_at"], now - timedelta(minutes=rng.randrange(0, 6))
            )
        if kind == "status":
            status = rng.choice(STATUSES)
            fields["status"], fields["raw_status"] = status, RAW[status.value]
            done = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
            fields["resolved_at"] = fields["updated_at"] if done else None
            if rng.random() < 0.3:
                fields["first_response_at"] = fields["updated_at"]
        elif kind == "reopen":
            fields["status"], fields["raw_status"] = TicketStatus.OPEN, "Reopened"
            fields["resolved_at"] = None
        elif kind == "priority":
            fields["priority"] = rng.choice(PRIORITIES)
        elif kind == "assignee":
            fields["assignee"] = rng.choice(["Kim", "Ana", "Lee", None])
            fields["group"] = rng.choice(["DBA", "Service Desk", None])
        elif kind == "pause":
            fields["status"] = TicketStatus.PENDING
            fields["raw_status"] = rng.choice(["Awaiting Vendor", "On Hold"])
        elif kind == "raw":
            fields["raw"] = {**fields["raw"], "v": fields["raw"].get("v", 0) + 1}
            fields["vendor_breached"] = rng.choice([None, False, True])
            fields["vendor_due_at"] = rng.choice([None, now + timedelta(hours=1)])
        elif kind == "quiet":
            fields["title"] = fields["title"] + "!"

    def page(self, now: datetime) -> list[TicketRecord]:
        rng = self.rng
        page = []
        for _ in range(rng.randrange(1, 40)):
            if not self.tickets or rng.random() < 0.35:
                fields = self._new(now)
                self.tickets[fields["external_id"]] = fields
            else:
                fields = self.tickets[rng.choice(sorted(self.tickets))]
                if rng.random() < 0.8:
                    self._move(fields, now)
            page.append(TicketRecord(**fields))
        return page


# -- what a vendor's tickets look like in the store ----------------------------------------------


def snapshot(store: Store, vendor: str) -> dict[str, Any]:
    """Tickets, events, clocks and their versions of one vendor, keyed by external id (row
    ids differ)."""
    with store.engine.connect() as conn:
        vendor_id = vendor_row_id(conn, vendor)
        columns = [c for c in TICKETS.columns if c.name not in ("id", "vendor_id")]
        tickets = {
            # The payload as a document: its JSON text's spacing is no behaviour.
            row.external_id: {**row._mapping, "raw": json.loads(row.raw) if row.raw else row.raw}
            for row in conn.execute(select(*columns).where(TICKETS.c.vendor_id == vendor_id))
        }
        events: dict[str, list[tuple[Any, ...]]] = {}
        for row in conn.execute(
            select(
                TICKETS.c.external_id,
                EVENTS.c.field_name,
                EVENTS.c.old_value,
                EVENTS.c.new_value,
                EVENTS.c.vendor_time,
                EVENTS.c.seen_at,
            )
            .join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id)
            .where(TICKETS.c.vendor_id == vendor_id)
            .order_by(EVENTS.c.id)
        ):
            events.setdefault(row[0], []).append(tuple(row[1:]))
        clock_columns = [c for c in CLOCKS.columns if c.name not in ("id", "ticket_id")]
        clocks: dict[str, list[dict[str, Any]]] = {}
        for row in conn.execute(
            select(TICKETS.c.external_id, *clock_columns)
            .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
            .where(TICKETS.c.vendor_id == vendor_id)
        ):
            clocks.setdefault(row[0], []).append(dict(row._mapping))
        versions: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
        for table in (TICKET_VERSIONS, CLOCK_VERSIONS):
            kept = [c for c in table.columns if c.name not in ("id", "ticket_id")]
            found = versions[table.name] = {}
            for row in conn.execute(
                select(TICKETS.c.external_id, *kept)
                .join(TICKETS, TICKETS.c.id == table.c.ticket_id)
                .where(TICKETS.c.vendor_id == vendor_id)
            ):
                found.setdefault(row[0], []).append(tuple(row[1:]))
    return {
        "tickets": tickets,
        "events": events,
        "clocks": {
            k: sorted(v, key=lambda c: (c["metric"], c["cycle"])) for k, v in clocks.items()
        },
        # Every version time travel reads, in an order that does not hang on row ids.
        **{
            name: {k: sorted(v, key=repr) for k, v in found.items()}
            for name, found in versions.items()
        },
    }


@pytest.fixture
def two_vendors(any_db_url: str) -> Iterator[Store]:
    store = Store(any_db_url, sla=SETTINGS)
    store.sync_vendors(
        [
            VendorConfig(name=name, kind="servicenow", base_url="http://127.0.0.1:1")
            for name in ("new", "old")
        ]
    )
    yield store
    store.close()


def apply_both(store: Store, page: list[TicketRecord], now: datetime) -> None:
    change = store.apply("new", PollResult(tickets=tuple(page)), None, now)
    with store.engine.begin() as conn:
        expected = reference_apply(conn, vendor_row_id(conn, "old"), page, now, SETTINGS)
    assert (change.added, change.updated, change.events) == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_random_pages_give_what_the_old_path_gave(two_vendors: Store, seed: int) -> None:
    world = World(seed)
    now = T0
    for number in range(30):
        apply_both(two_vendors, world.page(now), now)
        if number % 10 == 9:
            assert snapshot(two_vendors, "new") == snapshot(two_vendors, "old")
        now += timedelta(minutes=world.rng.choice([1, 7, 45, 600]))
    new, old = snapshot(two_vendors, "new"), snapshot(two_vendors, "old")
    assert new == old
    # The pages exercised what they were written to exercise.
    fields = {e[0] for history in new["events"].values() for e in history}
    assert {"created", "status", "raw_status", "priority", "resolved_at", "title"} <= fields
    clocks = [c for rows in new["clocks"].values() for c in rows]
    assert {"ok", "breached", "met"} <= {c["state"] for c in clocks}
    assert any(c["breach_at"] is not None for c in clocks)
    assert any(c["paused"] for c in clocks)
    assert any(c["cycle"] > 0 for c in clocks)  # a re-opened ticket's second cycle
    assert any(c["metric"] == "response" for c in clocks)


def test_a_large_page_is_one_page(two_vendors: Store) -> None:
    world = World(7)
    for _ in range(1_234):
        fields = world._new(T0)
        world.tickets[fields["external_id"]] = fields
    page = [TicketRecord(**fields) for fields in world.tickets.values()]
    apply_both(two_vendors, page, T0)
    later = T0 + timedelta(hours=2)
    for fields in world.tickets.values():
        world._move(fields, later)
    moved = [TicketRecord(**fields) for fields in world.tickets.values()]
    apply_both(two_vendors, page[:600] + moved, later)  # duplicates: the last one wins
    assert snapshot(two_vendors, "new") == snapshot(two_vendors, "old")


def test_every_ticket_column_is_written() -> None:
    assert set(COLUMNS) == {c.name for c in TICKETS.columns} - {"id"}


def test_a_page_that_fails_half_way_leaves_nothing(
    two_vendors: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(3)
    first = world.page(T0)
    two_vendors.apply("new", PollResult(tickets=tuple(first), cursor={"page": 1}), None, T0)
    before = snapshot(two_vendors, "new")
    later = T0 + timedelta(hours=1)
    second = world.page(later)

    def broken(self: object, *rows: object) -> None:
        raise RuntimeError("the disk is full")

    for writer in (ingest_sqlite.SqliteWriter, ingest_postgres.PostgresWriter):
        monkeypatch.setattr(writer, "write_clocks", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        two_vendors.apply("new", PollResult(tickets=tuple(second), cursor={"page": 2}), None, later)
    assert snapshot(two_vendors, "new") == before  # tickets and events written before: gone
    assert two_vendors.load_cursor("new") == {"page": 1}
    monkeypatch.undo()
    two_vendors.apply("new", PollResult(tickets=tuple(second), cursor={"page": 2}), None, later)
    assert two_vendors.load_cursor("new") == {"page": 2}


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), ZoneInfo("Asia/Kolkata")]),
    )
)
def test_sqlite_text_of_a_datetime_is_what_sqlalchemy_writes(value: datetime) -> None:
    expected = value.astimezone(UTC).replace(tzinfo=None)
    assert ingest_sqlite.stamp(value) == expected.isoformat(" ", "microseconds")
    # compared in UTC: Python calls an instant inside a fold (Kolkata's 1870 change from
    # local mean time) unequal to every instant of another zone
    assert ingest_sqlite.unstamp(ingest_sqlite.stamp(value)) == value.astimezone(UTC)


def test_a_naive_datetime_is_refused_as_before() -> None:
    for writer in (ingest_sqlite, ingest_postgres):
        with pytest.raises(ValueError, match="naive"):
            writer.stamp(datetime(2026, 1, 1))


def test_a_ticket_that_loses_its_policy_loses_its_clocks(two_vendors: Store) -> None:
    world = World(11)
    fields = world._new(T0) | {"priority": Priority.P1, "group": None}
    apply_both(two_vendors, [TicketRecord(**fields)], T0)
    assert snapshot(two_vendors, "new")["clocks"]
    later = T0 + timedelta(minutes=30)
    fields |= {"priority": Priority.P5, "updated_at": later}
    apply_both(two_vendors, [TicketRecord(**fields)], later)
    assert snapshot(two_vendors, "new") == snapshot(two_vendors, "old")
    assert not snapshot(two_vendors, "new")["clocks"]


def test_recompute_clocks_gives_the_clocks_ingest_gave(two_vendors: Store) -> None:
    world = World(5)
    now = T0
    for _ in range(5):
        two_vendors.apply("new", PollResult(tickets=tuple(world.page(now))), None, now)
        now += timedelta(minutes=45)
    now -= timedelta(minutes=45)
    before = snapshot(two_vendors, "new")
    with two_vendors.engine.begin() as conn:
        ids = list(conn.execute(select(TICKETS.c.id)).scalars())
        conn.execute(CLOCKS.delete())
        writes.recompute_clocks(conn, ids, now, SETTINGS)
    after = snapshot(two_vendors, "new")
    # Recomputed as of the last page: the same clocks for the tickets that page touched.
    touched = {k for k, rows in before["clocks"].items() if rows[0]["computed_at"] == now}
    assert touched
    assert {k: after["clocks"][k] for k in touched} == {k: before["clocks"][k] for k in touched}
    assert set(after["clocks"]) == set(before["clocks"])


@dataclass
class _Note:
    text: str


@pytest.mark.parametrize(
    "raw",
    [
        {"number": "INC1", "nested": {"a": [1, 2.5, None, True]}, "text": "café \u2028 \x00 é"},
        {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
        {"at": datetime(2026, 1, 1, 9, 30, tzinfo=UTC), "day": date(2026, 1, 2)},
        {"big": 2**70, "small": -(2**63), "float": 1e16, "tiny": 0.1},
        {"note": _Note("hi"), "set": {1}, "bytes": b"x", "tuple": (1, 2)},
        [{"a": 1}, "list payload"],
    ],
)
def test_a_payload_is_stored_as_the_json_it_was(raw: Any) -> None:
    """The stored payload reads back as the document ``json.dumps`` wrote before orjson."""
    before = json.dumps(raw, default=str, ensure_ascii=False)
    assert json.loads(raw_json(raw)) == json.loads(before)

"""Every write the store makes, each batch in one transaction.

A poll batch is applied set-based: one SELECT for the rows it touches, one
``INSERT … ON CONFLICT DO UPDATE`` for the tickets that changed, one INSERT
for their events, the SLA clocks of those tickets recomputed, the cursor
saved, the poll run recorded, then COMMIT. If anything fails, nothing of the
batch lands, the cursor included, so the next poll re-reads what was lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from connectors.records import PollResult, StatusSnapshot, TicketRecord
from paneglass.sla import SlaSettings, StatusChange, ticket_clocks
from paneglass.store.conversations import apply_entries
from paneglass.store.inputs import PollRunInfo
from paneglass.store.schema import (
    CLOCKS,
    COMPONENTS,
    EVENTS,
    INCIDENTS,
    RUNS,
    STATUS,
    TICKETS,
    VENDORS,
)
from paneglass.store.vendors import save_page
from paneglass.store.views import ChangeSet

__all__ = ["TRACKED_FIELDS", "apply_batch", "recompute_clocks", "tick_clocks"]

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
"""Ticket columns whose every change appends a TicketEvent."""

_CHUNK = 500


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
        "description": record.description,
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


def apply_batch(
    conn: Connection,
    vendor_id: int,
    vendor_name: str,
    result: PollResult | None,
    run: PollRunInfo | None,
    now: datetime,
    settings: SlaSettings,
) -> ChangeSet:
    """Apply one page of a poll and/or record a finished poll, in the caller's transaction.

    A streamed poll calls this once per page with ``run=None`` (the page, its
    cursor and its clocks commit together), and once at its end with the run
    and no page; a one-shot poll passes both.
    """
    added = updated = events = entries = 0
    changed_ids: set[int] = set()
    status_changed = False
    records_seen = 0
    if result is not None:
        records = list({r.external_id: r for r in result.tickets}.values())
        records_seen = len(records)
        added, updated, events, changed_ids = _upsert_tickets(conn, vendor_id, records, now)
        if result.status is not None:
            _replace_status(conn, vendor_id, result.status, now)
            status_changed = True
        entries = apply_entries(conn, vendor_id, result, now)
        save_page(conn, vendor_id, result.cursor, result.progress, now if run is None else None)
        recompute_clocks(conn, changed_ids, now, settings)
    if conn.dialect.name == "postgresql":  # viewers LISTEN; delivered when this commits
        conn.execute(text("SELECT pg_notify('paneglass', :vendor)"), {"vendor": vendor_name})
    if run is not None:
        conn.execute(
            RUNS.insert().values(
                vendor_id=vendor_id,
                started_at=run.started_at,
                finished_at=run.finished_at,
                ok=run.ok,
                error_kind=run.error_kind,
                error_message=run.error_message,
                http_status=run.http_status,
                records_seen=run.records_seen + records_seen,
                records_changed=run.records_changed + added + updated,
                requests=run.requests,
                collector=run.collector,
                duration_ms=int((run.finished_at - run.started_at).total_seconds() * 1000),
            )
        )
    return ChangeSet(
        vendor=vendor_name,
        added=added,
        updated=updated,
        events=events,
        status_changed=status_changed,
        ok=run.ok if run is not None else True,
        ticket_ids=frozenset(changed_ids),
        entries=entries,
    )


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
        # A connector that did not read the description this time sends None: keep the stored one.
        refreshed["description"] = func.coalesce(stmt.excluded.description, TICKETS.c.description)
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
            clocks = ticket_clocks(
                policy=settings.match(vendor, priority, group),
                created_at=created_at,
                first_response_at=first_response_at,
                resolved_at=resolved_at,
                history=history,
                now=now,
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
                    }
                )
        conn.execute(CLOCKS.delete().where(CLOCKS.c.ticket_id.in_(chunk)))
        if rows:
            conn.execute(CLOCKS.insert(), rows)


def _replace_status(
    conn: Connection, vendor_id: int, snapshot: StatusSnapshot, now: datetime
) -> None:
    """Store a status snapshot: rollup, the full component list, incidents (inactive when gone)."""
    values = {
        "vendor_id": vendor_id,
        "indicator": snapshot.indicator,
        "description": snapshot.description,
        "page_url": snapshot.page_url,
        "updated_at": snapshot.updated_at,
        "fetched_at": now,
    }
    stmt = _insert(conn, STATUS)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["vendor_id"], set_={k: v for k, v in values.items() if k != "vendor_id"}
        ),
        values,
    )
    conn.execute(COMPONENTS.delete().where(COMPONENTS.c.vendor_id == vendor_id))
    if snapshot.components:
        conn.execute(
            COMPONENTS.insert(),
            [
                {
                    "vendor_id": vendor_id,
                    "external_id": c.external_id,
                    "name": c.name,
                    "state": c.state.value,
                    "raw_status": c.raw_status,
                    "group_name": c.group,
                    "position": c.position,
                    "updated_at": c.updated_at,
                }
                for c in {c.external_id: c for c in snapshot.components}.values()
            ],
        )
    conn.execute(update(INCIDENTS).where(INCIDENTS.c.vendor_id == vendor_id).values(active=False))
    if snapshot.incidents:
        stmt = _insert(conn, INCIDENTS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["vendor_id", "external_id"],
            set_={
                c.name: stmt.excluded[c.name]
                for c in INCIDENTS.columns
                if c.name not in ("id", "vendor_id", "external_id")
            },
        )
        conn.execute(
            stmt,
            [
                {
                    "vendor_id": vendor_id,
                    "external_id": i.external_id,
                    "name": i.name,
                    "status": i.status,
                    "impact": i.impact,
                    "created_at": i.created_at,
                    "updated_at": i.updated_at,
                    "resolved_at": i.resolved_at,
                    "latest_update": i.latest_update,
                    "url": i.url,
                    "active": True,
                }
                for i in {i.external_id: i for i in snapshot.incidents}.values()
            ],
        )


def tick_clocks(conn: Connection, now: datetime) -> int:
    """Move running clocks whose stored due/at-risk time has passed; return how many moved.

    Clocks change state with time alone, not only when a ticket changes; this
    set-based pass keeps the stored state (and the latched breach time) true
    between polls without recomputing every ticket.
    """
    running = and_(CLOCKS.c.stopped_at.is_(None), CLOCKS.c.paused.is_(False))
    breached = conn.execute(
        update(CLOCKS)
        .where(running, CLOCKS.c.due_at <= now, CLOCKS.c.state != "breached")
        .values(state="breached", breach_at=func.coalesce(CLOCKS.c.breach_at, CLOCKS.c.due_at))
    ).rowcount
    at_risk = conn.execute(
        update(CLOCKS)
        .where(running, CLOCKS.c.at_risk_at <= now, CLOCKS.c.state == "ok")
        .values(state="at_risk")
    ).rowcount
    moved = int(breached or 0) + int(at_risk or 0)
    if moved and conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify('paneglass', 'sla')"))
    return moved

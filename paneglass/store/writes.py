"""Every write the store makes, each batch in one transaction.

A poll batch is applied set-based (:mod:`paneglass.store.ingest`): one read
of the rows it touches, one statement per kind of row written (new tickets,
changed tickets, tickets only seen again, events, clocks), the SLA clocks of
the changed tickets recomputed, the cursor saved, the poll run recorded, then
COMMIT. If anything fails, nothing of the batch lands, the cursor included,
so the next poll re-reads what was lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from connectors.records import PollResult, StatusSnapshot
from paneglass.sla import SlaSettings
from paneglass.store import mail, maintenance
from paneglass.store.conversations import apply_entries
from paneglass.store.history import record_page
from paneglass.store.ingest import apply_tickets, writer_for
from paneglass.store.ingest_clocks import ClockInput, recompute
from paneglass.store.ingest_rows import TRACKED_FIELDS
from paneglass.store.inputs import PollRunInfo
from paneglass.store.tables import CLOCKS, COMPONENTS, INCIDENTS, RUNS, STATUS, TICKETS, VENDORS
from paneglass.store.vendors import save_page
from paneglass.store.views import ChangeSet

__all__ = ["TRACKED_FIELDS", "apply_batch", "recompute_clocks", "tick_clocks"]

_CHUNK = 500


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


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
    fresh: frozenset[int] = frozenset()
    clocks: dict[int, list[tuple[Any, ...]]] = {}
    """The clocks of the changed tickets as stored, by ticket (the last recompute wins)."""
    status_changed = False
    records_seen = 0
    if result is not None:
        records_seen = len({r.external_id for r in result.tickets})
        windows = (
            maintenance.windows_for(conn, [vendor_name])
            if result.tickets and maintenance.pausing(settings)
            else None
        )
        added, updated, events, changed_ids, fresh, clocks = apply_tickets(
            conn, vendor_id, vendor_name, result.tickets, now, settings, windows
        )
        if result.status is not None:
            before = maintenance.seen(conn, vendor_id) if maintenance.pausing(settings) else None
            _replace_status(conn, vendor_id, result.status, now)
            status_changed = True
            if before is not None:
                recomputed = _maintenance_clocks(conn, vendor_id, now, settings, before)
                changed_ids |= recomputed.keys()
                clocks.update(recomputed)
        entries = apply_entries(conn, vendor_id, result, now)
        save_page(conn, vendor_id, result.cursor, result.progress, now if run is None else None)
        record_page(  # time travel's history
            conn, vendor_id, changed_ids, status_changed, now, fresh=fresh, clocks=clocks
        )
    if conn.dialect.name == "postgresql":  # viewers LISTEN; delivered when this commits
        conn.execute(text("SELECT pg_notify('paneglass', :vendor)"), {"vendor": vendor_name})
    if run is not None and _kind(conn, vendor_id) == mail.MAIL_KIND:
        mail.join_mail(conn, vendor_id, now)
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


def _kind(conn: Connection, vendor_id: int) -> str | None:
    return conn.execute(select(VENDORS.c.kind).where(VENDORS.c.id == vendor_id)).scalar()


def _maintenance_clocks(
    conn: Connection,
    status_vendor_id: int,
    now: datetime,
    settings: SlaSettings,
    before: maintenance.Seen,
) -> dict[int, list[tuple[Any, ...]]]:
    """A status feed's maintenance may be announced, move, start or end: then recompute the
    clocks of the active tickets of the vendors it covers, and audit each window that
    pauses them. A snapshot that changes no window, with no window edge passed since the
    feed's last snapshot, recomputes nothing (a status poll stays cheap).

    Returns the recomputed tickets' clocks as stored, by ticket."""
    covered, windows = maintenance.covering(conn, status_vendor_id)
    if not covered or not maintenance.moved(before, windows, now):
        return {}
    if windows:
        maintenance.audit_new_pauses(conn, covered, dict.fromkeys(covered, windows), now)
    ids = maintenance.active_tickets(conn, covered)
    return recompute_clocks(conn, ids, now, settings)


def recompute_clocks(
    conn: Connection, ticket_ids: Iterable[int], now: datetime, settings: SlaSettings
) -> dict[int, list[tuple[Any, ...]]]:
    """Recompute and store the contract clocks of these tickets (pure engine, stored result);
    return them as stored, by ticket (rows of ``ingest_clocks.CLOCK_COLUMNS``)."""
    writer = writer_for(conn)
    ticket_ids = list(ticket_ids)
    windows = (
        maintenance.windows_for(
            conn,
            [
                row[0]
                for row in conn.execute(
                    select(VENDORS.c.name).where(VENDORS.c.status_source.is_not(None))
                )
            ],
        )
        if maintenance.pausing(settings)
        else None
    )
    written: dict[int, list[tuple[Any, ...]]] = {}
    for chunk in _chunks(sorted(ticket_ids)):
        tickets = [
            ClockInput._make(row)
            for row in conn.execute(
                select(
                    TICKETS.c.id,
                    VENDORS.c.name,
                    TICKETS.c.priority,
                    TICKETS.c.group_name,
                    TICKETS.c.created_at,
                    TICKETS.c.first_response_at,
                    TICKETS.c.resolved_at,
                    TICKETS.c.raw_status,
                    TICKETS.c.status,
                    TICKETS.c.updated_at,
                )
                .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
                .where(TICKETS.c.id.in_(chunk))
            )
        ]
        written.update(recompute(writer, [], tickets, now, settings, windows))
    return written


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
                    "maintenance": i.maintenance,
                    "scheduled_for": i.scheduled_for,
                    "scheduled_until": i.scheduled_until,
                    "components": json.dumps(list(i.components)) if i.components else None,
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
    near = conn.execute(
        update(CLOCKS)
        .where(
            running,
            CLOCKS.c.near_breach_at <= now,
            CLOCKS.c.state.in_(("ok", "at_risk")),
        )
        .values(state="near_breach")
    ).rowcount
    at_risk = conn.execute(
        update(CLOCKS)
        .where(running, CLOCKS.c.at_risk_at <= now, CLOCKS.c.state == "ok")
        .values(state="at_risk")
    ).rowcount
    moved = int(breached or 0) + int(near or 0) + int(at_risk or 0)
    if moved and conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify('paneglass', 'sla')"))
    return moved

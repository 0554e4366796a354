"""Shift handovers: what the report reads, and the signature and acknowledgement (both audited).

The report's parts are small indexed reads (breaches since, clocks due soon,
open P1/P2, new tickets per vendor, failed outbox actions, cases changed);
a signed handover keeps the report as it was signed, so the incoming shift
reads what the outgoing one saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select, union, update

from paneglass.store.inputs import Actor
from paneglass.store.metric_views import HandoverClock, HandoverRecord, HandoverTicket
from paneglass.store.outbox import audit
from paneglass.store.tables import (
    AUDIT,
    CASES,
    CLOCKS,
    EVENTS,
    HANDOVERS,
    MEMBERS,
    OUTBOX,
    TICKETS,
    VENDORS,
)

__all__ = [
    "acknowledge",
    "breaches_since",
    "by_id",
    "cases_changed",
    "due_within",
    "failed_actions",
    "latest",
    "new_tickets",
    "open_urgent",
    "pending",
    "sign",
]

_ACTIVE = ("new", "open", "pending")


def _clock_columns() -> tuple[object, ...]:
    return (
        VENDORS.c.name,
        TICKETS.c.key,
        TICKETS.c.priority,
        TICKETS.c.title,
        CLOCKS.c.metric,
    )


def breaches_since(
    conn: Connection, since: datetime, now: datetime, limit: int = 200
) -> list[HandoverClock]:
    """Contract clocks that breached in ``[since, now]``, most recent first."""
    rows = conn.execute(
        select(*_clock_columns(), CLOCKS.c.breach_at)  # type: ignore[call-overload]
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(CLOCKS.c.breach_at >= since, CLOCKS.c.breach_at <= now)
        .order_by(CLOCKS.c.breach_at.desc())
        .limit(limit)
    )
    return [HandoverClock(*row) for row in rows]


def due_within(
    conn: Connection, now: datetime, within: timedelta, limit: int = 200
) -> list[HandoverClock]:
    """Running, unpaused clocks due in ``(now, now + within]``, soonest first."""
    rows = conn.execute(
        select(*_clock_columns(), CLOCKS.c.due_at)  # type: ignore[call-overload]
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(
            CLOCKS.c.stopped_at.is_(None),
            CLOCKS.c.paused.is_(False),
            CLOCKS.c.due_at > now,
            CLOCKS.c.due_at <= now + within,
        )
        .order_by(CLOCKS.c.due_at)
        .limit(limit)
    )
    return [HandoverClock(*row) for row in rows]


def open_urgent(conn: Connection, limit: int = 200) -> list[HandoverTicket]:
    """Open P1 and P2 tickets, P1 first, oldest first."""
    rows = conn.execute(
        select(
            VENDORS.c.name,
            TICKETS.c.key,
            TICKETS.c.priority,
            TICKETS.c.status,
            TICKETS.c.title,
            TICKETS.c.assignee,
            TICKETS.c.created_at,
        )
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(TICKETS.c.priority.in_(("P1", "P2")), TICKETS.c.status.in_(_ACTIVE))
        .order_by(TICKETS.c.priority, TICKETS.c.created_at)
        .limit(limit)
    )
    return [HandoverTicket(*row) for row in rows]


def new_tickets(conn: Connection, since: datetime) -> dict[str, int]:
    """Tickets created since ``since``, per vendor (vendors with none left out)."""
    rows = conn.execute(
        select(VENDORS.c.name, func.count())
        .join(TICKETS, TICKETS.c.vendor_id == VENDORS.c.id)
        .where(TICKETS.c.created_at >= since)
        .group_by(VENDORS.c.name)
        .order_by(VENDORS.c.name)
    )
    return {name: int(count) for name, count in rows}


def failed_actions(
    conn: Connection, limit: int = 100
) -> list[tuple[str, str | None, str, str | None, datetime]]:
    """Outbox actions waiting on an operator after failing: (vendor, key, summary, error, when)."""
    rows = conn.execute(
        select(
            VENDORS.c.name,
            OUTBOX.c.ticket_key,
            OUTBOX.c.summary,
            OUTBOX.c.last_error,
            OUTBOX.c.updated_at,
        )
        .join(VENDORS, VENDORS.c.id == OUTBOX.c.vendor_id)
        .where(OUTBOX.c.state == "failed")
        .order_by(OUTBOX.c.updated_at.desc())
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def cases_changed(conn: Connection, since: datetime) -> list[tuple[int, str, bool]]:
    """Cases an operator changed, or whose tickets changed, since ``since``: (id, title, closed)."""
    by_operator = select(AUDIT.c.case_id.label("case_id")).where(
        AUDIT.c.at >= since, AUDIT.c.case_id.is_not(None)
    )
    by_vendor = (
        select(MEMBERS.c.case_id.label("case_id"))
        .join(
            TICKETS,
            and_(
                TICKETS.c.vendor_id == MEMBERS.c.vendor_id,
                TICKETS.c.external_id == MEMBERS.c.external_id,
            ),
        )
        .where(
            select(EVENTS.c.id)
            .where(EVENTS.c.ticket_id == TICKETS.c.id, EVENTS.c.seen_at >= since)
            .exists()
        )
    )
    changed = union(by_operator, by_vendor).subquery("changed")
    rows = conn.execute(
        select(CASES.c.id, CASES.c.title, CASES.c.closed_at.is_not(None))
        .join(changed, changed.c.case_id == CASES.c.id)
        .order_by(CASES.c.id)
    )
    return [(int(i), str(t), bool(c)) for i, t, c in rows]


def sign(
    conn: Connection,
    actor: Actor,
    now: datetime,
    since: datetime,
    note: str,
    summary: str,
) -> int:
    """Store a signed handover and its audit entry; return its id."""
    key = conn.execute(
        HANDOVERS.insert().values(
            since=since,
            signed_at=now,
            signed_by=actor.user,
            signed_terminal=actor.terminal,
            note=note,
            summary=summary,
        )
    ).inserted_primary_key
    assert key is not None
    handover_id = int(key[0])
    audit(conn, actor, "handover-signed", now, detail=f"handover {handover_id}: {note}".strip())
    return handover_id


def acknowledge(conn: Connection, actor: Actor, now: datetime, handover_id: int) -> bool:
    """Mark a handover acknowledged (once); False when it was already, or does not exist."""
    done = conn.execute(
        update(HANDOVERS)
        .where(HANDOVERS.c.id == handover_id, HANDOVERS.c.acknowledged_at.is_(None))
        .values(
            acknowledged_at=now,
            acknowledged_by=actor.user,
            acknowledged_terminal=actor.terminal,
        )
    ).rowcount
    if not done:
        return False
    audit(conn, actor, "handover-acknowledged", now, detail=f"handover {handover_id}")
    return True


def _record(row: object) -> HandoverRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return HandoverRecord(
        id=r["id"],
        since=r["since"],
        signed_at=r["signed_at"],
        signed_by=r["signed_by"],
        signed_terminal=r["signed_terminal"],
        note=r["note"],
        summary=r["summary"],
        acknowledged_at=r["acknowledged_at"],
        acknowledged_by=r["acknowledged_by"],
    )


def latest(conn: Connection) -> HandoverRecord | None:
    """The newest signed handover."""
    row = conn.execute(select(HANDOVERS).order_by(HANDOVERS.c.signed_at.desc()).limit(1)).first()
    return None if row is None else _record(row)


def pending(conn: Connection) -> HandoverRecord | None:
    """The newest handover nobody has acknowledged yet (``None`` when all are)."""
    row = conn.execute(
        select(HANDOVERS)
        .where(HANDOVERS.c.acknowledged_at.is_(None))
        .order_by(HANDOVERS.c.signed_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _record(row)


def by_id(conn: Connection, handover_id: int) -> HandoverRecord | None:
    """One handover."""
    row = conn.execute(select(HANDOVERS).where(HANDOVERS.c.id == handover_id)).first()
    return None if row is None else _record(row)

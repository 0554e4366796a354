"""The outbox and the audit log: write-back actions are stored before they are sent.

An operator's action becomes a ``queued`` row and an audit entry in one
transaction, so a crash after the operator confirmed loses nothing. The
collector claims a row (``sending``) in its own transaction before it talks to
the vendor and records the answer after, so a row can never be sent by two
processes; a row a killed process left in ``sending`` is settled on the next
start by :func:`settle_interrupted`, which re-queues only what is safe to send
twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text, update

from paneglass.store.inputs import Actor, NewAction, ProcessGone
from paneglass.store.tables import AUDIT, OUTBOX, VENDORS
from paneglass.store.vendors import vendor_row_id
from paneglass.store.views import AuditRow, OutboxItem

__all__ = [
    "INTERRUPTED",
    "audit",
    "audit_rows",
    "cancel",
    "claim",
    "due",
    "enqueue",
    "iter_audit",
    "outbox_items",
    "record_failure",
    "record_success",
    "retry",
    "settle_interrupted",
]

INTERRUPTED = (
    "interrupted while sending: it may or may not have reached the vendor; "
    "check the ticket there before you retry"
)
STALE_SENDING = timedelta(minutes=2)
"""A ``sending`` row older than this is settled even if its process may live elsewhere."""


def audit(
    conn: Connection,
    actor: Actor,
    action: str,
    now: datetime,
    *,
    vendor: str | None = None,
    external_id: str | None = None,
    ticket_key: str | None = None,
    case_id: int | None = None,
    outbox_id: int | None = None,
    detail: str | None = None,
    answer: str | None = None,
) -> None:
    """Append one audit entry (the table refuses updates and deletes).

    Every outbox, link and case change writes one, so this is also where
    PostgreSQL viewers are told to look again.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify('paneglass', 'actions')"))
    conn.execute(
        AUDIT.insert().values(
            at=now,
            user=actor.user,
            terminal=actor.terminal,
            action=action,
            vendor=vendor,
            external_id=external_id,
            ticket_key=ticket_key,
            case_id=case_id,
            outbox_id=outbox_id,
            detail=detail,
            answer=answer,
        )
    )


def enqueue(conn: Connection, actor: Actor, now: datetime, action: NewAction) -> int:
    """Queue one action and audit it; return the outbox id."""
    source = action.source
    outbox_id = int(
        conn.execute(
            OUTBOX.insert()
            .values(
                vendor_id=vendor_row_id(conn, action.vendor),
                external_id=action.external_id,
                ticket_key=action.ticket_key,
                kind=action.kind,
                payload=action.payload,
                summary=action.summary,
                state="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                requested_by=actor.user,
                terminal=actor.terminal,
                source_vendor_id=vendor_row_id(conn, source[0]) if source else None,
                source_external_id=source[1] if source else None,
                case_id=action.case_id,
                mirror_comments=action.mirror_comments,
            )
            .returning(OUTBOX.c.id)
        ).scalar_one()
    )
    audit(
        conn,
        actor,
        f"queued {action.kind}",
        now,
        vendor=action.vendor,
        external_id=action.external_id,
        ticket_key=action.ticket_key,
        case_id=action.case_id,
        outbox_id=outbox_id,
        detail=f"{action.summary}\n{action.detail}",
    )
    return outbox_id


def due(conn: Connection, now: datetime, limit: int = 20) -> list[OutboxItem]:
    """Queued actions whose time has come, oldest first."""
    stmt = (
        _items_select()
        .where(OUTBOX.c.state == "queued", OUTBOX.c.next_attempt_at <= now)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    return [_item(row) for row in conn.execute(stmt).mappings()]


def claim(conn: Connection, outbox_id: int, now: datetime, owner: str) -> bool:
    """Move a queued action to ``sending`` for ``owner``; False if someone else took it."""
    result = conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id, OUTBOX.c.state == "queued")
        .values(
            state="sending",
            attempts=OUTBOX.c.attempts + 1,
            updated_at=now,
            claimed_by=owner,
        )
    )
    return result.rowcount == 1


def record_success(
    conn: Connection,
    outbox_id: int,
    now: datetime,
    answer: str,
    http_status: int | None,
    created: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    """Mark an action sent with the vendor's answer; return its row (for links and cases)."""
    values: dict[str, Any] = {
        "state": "sent",
        "answer": answer,
        "http_status": http_status,
        "last_error": None,
        "updated_at": now,
    }
    if created is not None:
        values["created_external_id"], values["created_key"] = created
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))
    row = _row(conn, outbox_id)
    audit(
        conn,
        Actor(row["requested_by"], row["terminal"]),
        f"sent {row['kind']}",
        now,
        vendor=row["vendor"],
        external_id=row["external_id"] or values.get("created_external_id"),
        ticket_key=row["ticket_key"] or values.get("created_key"),
        case_id=row["case_id"],
        outbox_id=outbox_id,
        detail=row["summary"],
        answer=answer,
    )
    return row


def record_failure(
    conn: Connection,
    outbox_id: int,
    now: datetime,
    reason: str,
    http_status: int | None,
    retry_at: datetime | None,
) -> None:
    """Record a failed attempt: back to ``queued`` for ``retry_at``, or ``failed`` for good."""
    state = "queued" if retry_at is not None else "failed"
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id)
        .values(
            state=state,
            last_error=reason,
            answer=reason,
            http_status=http_status,
            next_attempt_at=retry_at,
            updated_at=now,
        )
    )
    row = _row(conn, outbox_id)
    when = f"; next try at {retry_at:%H:%M:%S} UTC" if retry_at else ""
    audit(
        conn,
        Actor(row["requested_by"], row["terminal"]),
        f"failed {row['kind']}" if retry_at is None else f"attempt {row['attempts']} failed",
        now,
        vendor=row["vendor"],
        external_id=row["external_id"],
        ticket_key=row["ticket_key"],
        case_id=row["case_id"],
        outbox_id=outbox_id,
        detail=row["summary"] + when,
        answer=reason,
    )


def retry(conn: Connection, outbox_id: int, actor: Actor, now: datetime) -> bool:
    """An operator re-queues a failed action; False when it is not failed."""
    result = conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id, OUTBOX.c.state == "failed")
        .values(state="queued", next_attempt_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    _audit_operator(conn, outbox_id, actor, "retried", now)
    return True


def cancel(conn: Connection, outbox_id: int, actor: Actor, now: datetime) -> bool:
    """An operator cancels a queued or failed action; False when it is sent or sending."""
    result = conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id, OUTBOX.c.state.in_(("queued", "failed")))
        .values(state="cancelled", next_attempt_at=None, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    _audit_operator(conn, outbox_id, actor, "cancelled", now)
    return True


def settle_interrupted(
    conn: Connection,
    now: datetime,
    owner: str,
    safe_to_resend: Callable[[str, str], bool],
    process_gone: ProcessGone,
) -> int:
    """Settle actions a dead process left in ``sending``; return how many.

    A claimant counts as dead when ``process_gone(claimed_by)`` says so (the
    collector asks its OS) or when its claim is older than :data:`STALE_SENDING`.

    ``safe_to_resend(vendor, payload)`` says whether sending again cannot
    double the action (idempotent, or a create the vendor can de-duplicate);
    those go back to the queue, the rest fail with :data:`INTERRUPTED` for the
    operator to decide.
    """
    rows = conn.execute(
        _items_select(OUTBOX.c.claimed_by).where(OUTBOX.c.state == "sending")
    ).mappings()
    settled = 0
    for row in list(rows):
        if row["claimed_by"] == owner or not _claimant_gone(
            row["claimed_by"], row["updated_at"], now, process_gone
        ):
            continue
        item = _item(row)
        if safe_to_resend(item.vendor, item.payload):
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == item.id, OUTBOX.c.state == "sending")
                .values(state="queued", next_attempt_at=now, updated_at=now)
            )
            action = "requeued after interruption"
            answer = "safe to send again"
        else:
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == item.id, OUTBOX.c.state == "sending")
                .values(state="failed", last_error=INTERRUPTED, answer=INTERRUPTED, updated_at=now)
            )
            action = "failed after interruption"
            answer = INTERRUPTED
        audit(
            conn,
            Actor(item.requested_by, None),
            action,
            now,
            vendor=item.vendor,
            external_id=item.external_id,
            ticket_key=item.ticket_key,
            outbox_id=item.id,
            detail=item.summary,
            answer=answer,
        )
        settled += 1
    return settled


def outbox_items(
    conn: Connection,
    limit: int = 500,
    *,
    vendor: str | None = None,
    external_id: str | None = None,
) -> list[OutboxItem]:
    """Outbox rows newest first, optionally only those aimed at one ticket."""
    stmt = _items_select().order_by(OUTBOX.c.id.desc()).limit(limit)
    if vendor is not None and external_id is not None:
        # Aimed at the ticket, or a hand-off made from it (whose target is another vendor).
        vendor_id = select(VENDORS.c.id).where(VENDORS.c.name == vendor).scalar_subquery()
        aimed = and_(
            VENDORS.c.name == vendor,
            or_(OUTBOX.c.external_id == external_id, OUTBOX.c.created_external_id == external_id),
        )
        handed = and_(
            OUTBOX.c.source_vendor_id == vendor_id, OUTBOX.c.source_external_id == external_id
        )
        stmt = stmt.where(or_(aimed, handed))
    elif vendor is not None:
        stmt = stmt.where(VENDORS.c.name == vendor)
    return [_item(row) for row in conn.execute(stmt).mappings()]


def audit_rows(
    conn: Connection,
    *,
    vendor: str | None = None,
    external_id: str | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """Audit entries newest first, optionally for one ticket."""
    stmt = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
    if vendor is not None:
        stmt = stmt.where(AUDIT.c.vendor == vendor)
    if external_id is not None:
        stmt = stmt.where(AUDIT.c.external_id == external_id)
    return [
        AuditRow(
            id=row["id"],
            at=row["at"],
            user=row["user"],
            terminal=row["terminal"],
            action=row["action"],
            vendor=row["vendor"],
            ticket_key=row["ticket_key"],
            detail=row["detail"],
            answer=row["answer"],
        )
        for row in conn.execute(stmt).mappings()
    ]


def iter_audit(conn: Connection, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every audit entry for export, oldest first."""
    last_id = 0
    while True:
        rows = (
            conn.execute(
                select(AUDIT).where(AUDIT.c.id > last_id).order_by(AUDIT.c.id).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last_id = rows[-1]["id"]


def _claimant_gone(
    claimed_by: str | None, updated_at: datetime, now: datetime, process_gone: ProcessGone
) -> bool:
    """Is the process that claimed a row dead (the caller knows processes; else: too old)?"""
    if now - updated_at > STALE_SENDING or not claimed_by:
        return True
    return process_gone(claimed_by)


def _audit_operator(
    conn: Connection, outbox_id: int, actor: Actor, action: str, now: datetime
) -> None:
    row = _row(conn, outbox_id)
    audit(
        conn,
        actor,
        f"{action} {row['kind']}",
        now,
        vendor=row["vendor"],
        external_id=row["external_id"],
        ticket_key=row["ticket_key"],
        case_id=row["case_id"],
        outbox_id=outbox_id,
        detail=row["summary"],
    )


def _items_select(*extra: Any) -> Any:
    # A notification delivery has no vendor: its channel stands in the vendor's place.
    return select(
        OUTBOX.c.id,
        func.coalesce(VENDORS.c.name, OUTBOX.c.channel).label("vendor"),
        OUTBOX.c.external_id,
        OUTBOX.c.ticket_key,
        OUTBOX.c.kind,
        OUTBOX.c.payload,
        OUTBOX.c.summary,
        OUTBOX.c.state,
        OUTBOX.c.attempts,
        OUTBOX.c.created_at,
        OUTBOX.c.updated_at,
        OUTBOX.c.requested_by,
        OUTBOX.c.last_error,
        OUTBOX.c.answer,
        OUTBOX.c.created_key,
        OUTBOX.c.next_attempt_at,
        OUTBOX.c.channel,
        OUTBOX.c.idempotency_key,
        *extra,
    ).outerjoin(VENDORS, VENDORS.c.id == OUTBOX.c.vendor_id)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(**{name: row[name] for name in OutboxItem.__dataclass_fields__})


def _row(conn: Connection, outbox_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            select(OUTBOX, func.coalesce(VENDORS.c.name, OUTBOX.c.channel).label("vendor"))
            .outerjoin(VENDORS, VENDORS.c.id == OUTBOX.c.vendor_id)
            .where(OUTBOX.c.id == outbox_id)
        )
        .mappings()
        .one()
    )
    return dict(row)

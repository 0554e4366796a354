"""The mirroring ledger: each reply that arrives on a mirrored ticket travels once, or never.

A new entry (not a system one) on a ticket with a link that mirrors
comments becomes a ``pending`` row here, in the transaction that stores the
entry. The write-back side (:mod:`paneglass.writeback.mirror`) then settles
each pending row in one transaction: ``mirrored`` together with the outbox
actions that copy it to the linked tickets, or ``own`` when paneglass itself
wrote it (a comment an operator sent, a mirrored copy, a hand-off's text) so
it must not bounce back, or ``skipped``. The row is the durable dedupe: a
restart, a second collector or a re-read of the same entry finds it settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, tuple_, update

from paneglass.store.tables import ENTRIES, LINKS, MIRRORS, TICKETS, VENDORS
from paneglass.store.views import PendingMirror

__all__ = ["LATE_ENTRY", "mirror_states", "pending", "record_candidates", "settle"]

LATE_ENTRY = timedelta(minutes=10)
"""An entry written this long before its ticket's mirroring link existed is history, not a
reply to mirror (a backfill reading old comments); the slack covers clock skew and polling."""


def _mirror_since(
    conn: Connection, vendor_id: int, ticket_external_ids: Sequence[str]
) -> dict[str, datetime]:
    """Per ticket with a mirroring link (either end): when its first such link was made."""
    since: dict[str, datetime] = {}
    for end in ("from", "to"):
        rows = conn.execute(
            select(LINKS.c[f"{end}_external_id"], func.min(LINKS.c.created_at))
            .where(
                LINKS.c.mirror_comments.is_(True),
                LINKS.c[f"{end}_vendor_id"] == vendor_id,
                LINKS.c[f"{end}_external_id"].in_(list(ticket_external_ids)),
            )
            .group_by(LINKS.c[f"{end}_external_id"])
        )
        for external_id, created_at in rows:
            if external_id not in since or created_at < since[external_id]:
                since[external_id] = created_at
    return since


def record_candidates(
    conn: Connection, vendor_id: int, new_rows: Sequence[dict[str, Any]], now: datetime
) -> int:
    """Ledger the page's new entries that may need mirroring (``pending``); return how many."""
    spoken = [row for row in new_rows if row["visibility"] != "system"]
    if not spoken:
        return 0
    since = _mirror_since(conn, vendor_id, sorted({row["ticket_external_id"] for row in spoken}))
    keys = [
        (row["ticket_external_id"], row["external_id"])
        for row in spoken
        if row["ticket_external_id"] in since
        and row["created_at"] >= since[row["ticket_external_id"]] - LATE_ENTRY
    ]
    if not keys:
        return 0
    ids = conn.execute(
        select(ENTRIES.c.id).where(
            ENTRIES.c.vendor_id == vendor_id,
            tuple_(ENTRIES.c.ticket_external_id, ENTRIES.c.external_id).in_(keys),
        )
    ).scalars()
    rows = [{"entry_id": entry_id, "state": "pending", "decided_at": now} for entry_id in ids]
    if rows:
        conn.execute(MIRRORS.insert(), rows)
    return len(rows)


def pending(conn: Connection, limit: int = 50) -> list[PendingMirror]:
    """Entries waiting for a mirroring decision, oldest first."""
    stmt = (
        select(
            ENTRIES.c.id,
            VENDORS.c.name.label("vendor"),
            ENTRIES.c.ticket_external_id,
            TICKETS.c.key.label("ticket_key"),
            ENTRIES.c.author,
            ENTRIES.c.visibility,
            ENTRIES.c.body,
            ENTRIES.c.created_at,
        )
        .join(MIRRORS, MIRRORS.c.entry_id == ENTRIES.c.id)
        .join(VENDORS, VENDORS.c.id == ENTRIES.c.vendor_id)
        .outerjoin(
            TICKETS,
            and_(
                TICKETS.c.vendor_id == ENTRIES.c.vendor_id,
                TICKETS.c.external_id == ENTRIES.c.ticket_external_id,
            ),
        )
        .where(MIRRORS.c.state == "pending")
        .order_by(ENTRIES.c.id)
        .limit(limit)
    )
    return [
        PendingMirror(
            entry_id=row.id,
            vendor=row.vendor,
            ticket_external_id=row.ticket_external_id,
            ticket_key=row.ticket_key,
            author=row.author,
            visibility=row.visibility,
            body=row.body,
            created_at=row.created_at,
        )
        for row in conn.execute(stmt)
    ]


def settle(conn: Connection, entry_id: int, state: str, detail: str, now: datetime) -> bool:
    """Settle a pending entry; False when it was settled already (by another process)."""
    result = conn.execute(
        update(MIRRORS)
        .where(MIRRORS.c.entry_id == entry_id, MIRRORS.c.state == "pending")
        .values(state=state, detail=detail, decided_at=now)
    )
    return result.rowcount == 1


def mirror_states(conn: Connection, entry_ids: Sequence[int]) -> dict[int, str]:
    """The ledger's decision on each of these entries (those it holds)."""
    if not entry_ids:
        return {}
    rows = conn.execute(
        select(MIRRORS.c.entry_id, MIRRORS.c.state).where(
            or_(*(MIRRORS.c.entry_id.in_(chunk) for chunk in _chunks(entry_ids)))
        )
    )
    return {int(entry_id): str(state) for entry_id, state in rows}


def _chunks(items: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]

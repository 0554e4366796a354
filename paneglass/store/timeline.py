"""One story per ticket or case: vendor entries, field changes and paneglass's own actions.

A ticket's screen and a case's screen show the same kind of timeline, oldest
first: what the vendors' people wrote (replies, notes, log entries, from the
conversations), what changed in the fields as polls saw it (events), and
what operators did through paneglass (the audit log, hand-offs made from the
ticket included). Each source is capped at its newest ``limit`` items, so a
ticket with thousands of log entries still opens at once; the number left
out is returned with the story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from paneglass.store.tables import AUDIT, EVENTS, OUTBOX, VENDORS
from paneglass.store.views import TimelineEntry

__all__ = ["LIMIT", "StoryTicket", "event_text", "story"]

LIMIT = 500
"""Newest items read per source (entries, events, actions)."""


@dataclass(frozen=True)
class StoryTicket:
    """A ticket whose story is told: by row id when stored, always by vendor and external id."""

    ticket_id: int | None
    vendor: str
    external_id: str
    key: str | None


def event_text(event: Any) -> str:
    """A field change as one line: ``status: new → open``."""
    name = event["field_name"]
    if name == "created":
        return f"first seen as {event['new_value']}"
    old, new = event["old_value"], event["new_value"]
    if old is None:
        return f"{name} set to {new}"
    return f"{name}: {old} → {new}"


def _events(
    conn: Connection, by_id: dict[int, StoryTicket], limit: int
) -> tuple[list[TimelineEntry], int]:
    stmt = (
        select(
            EVENTS.c.ticket_id,
            EVENTS.c.field_name,
            EVENTS.c.old_value,
            EVENTS.c.new_value,
            EVENTS.c.seen_at,
            EVENTS.c.vendor_time,
        )
        .where(EVENTS.c.ticket_id.in_(list(by_id)))
        .order_by(EVENTS.c.seen_at.desc(), EVENTS.c.id.desc())
        .limit(limit + 1)
    )
    rows = list(conn.execute(stmt).mappings())
    omitted = 0
    if len(rows) > limit:
        rows = rows[:limit]
        total = conn.execute(
            select(func.count()).where(EVENTS.c.ticket_id.in_(list(by_id)))
        ).scalar_one()
        omitted = int(total) - limit
    return [
        TimelineEntry(
            at=row["vendor_time"] or row["seen_at"],
            vendor=by_id[row["ticket_id"]].vendor,
            key=by_id[row["ticket_id"]].key,
            source="vendor",
            text=event_text(row),
        )
        for row in rows
    ], omitted


def _conversation(
    conn: Connection, by_id: dict[int, StoryTicket], limit: int
) -> tuple[list[TimelineEntry], int]:
    # Imported here: conversations brings both SQL dialects' inserts (no first frame needs them).
    from paneglass.store.conversations import entries_of

    found, omitted = entries_of(conn, list(by_id), limit)
    items = []
    for ticket_id, entries in found.items():
        ticket = by_id[ticket_id]
        for entry in entries:
            first = entry.body.strip().split("\n", 1)[0]
            items.append(
                TimelineEntry(
                    at=entry.created_at,
                    vendor=ticket.vendor,
                    key=ticket.key,
                    source="conversation",
                    text=first,
                    entry=entry,
                )
            )
    return items, omitted


def _actions(
    conn: Connection, tickets: Sequence[StoryTicket], case_id: int | None, limit: int
) -> list[TimelineEntry]:
    matches: list[Any] = []
    for ticket in tickets:
        matches.append(
            and_(AUDIT.c.vendor == ticket.vendor, AUDIT.c.external_id == ticket.external_id)
        )
        source_vendor = (
            select(VENDORS.c.id).where(VENDORS.c.name == ticket.vendor).scalar_subquery()
        )
        handed = select(OUTBOX.c.id).where(
            OUTBOX.c.source_vendor_id == source_vendor,
            OUTBOX.c.source_external_id == ticket.external_id,
        )
        matches.append(AUDIT.c.outbox_id.in_(handed))
    if case_id is not None:
        matches.append(AUDIT.c.case_id == case_id)
    if not matches:
        return []
    rows = conn.execute(
        select(AUDIT).where(or_(*matches)).order_by(AUDIT.c.id.desc()).limit(limit)
    ).mappings()
    items = []
    for row in rows:
        summary = (row["detail"] or "").split("\n", 1)[0]
        text = f"{row['user']}: {row['action']}"
        if summary:
            text += f" — {summary}"
        if row["answer"] and not row["action"].startswith("queued"):
            text += f" [{row['answer']}]"
        items.append(
            TimelineEntry(
                at=row["at"],
                vendor=row["vendor"],
                key=row["ticket_key"],
                source="paneglass",
                text=text,
            )
        )
    return items


def story(
    conn: Connection,
    tickets: Sequence[StoryTicket],
    *,
    case_id: int | None = None,
    limit: int = LIMIT,
) -> tuple[list[TimelineEntry], int]:
    """The merged timeline of these tickets (and a case's own actions), oldest first.

    Returns the items and how many older entries and events were left out.
    """
    by_id = {t.ticket_id: t for t in tickets if t.ticket_id is not None}
    items: list[TimelineEntry] = []
    omitted = 0
    if by_id:
        events, left = _events(conn, by_id, limit)
        talk, more = _conversation(conn, by_id, limit)
        items += events + talk
        omitted = left + more
    items += _actions(conn, tickets, case_id, limit)
    items.sort(key=lambda item: item.at)
    return items, omitted

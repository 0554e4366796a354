"""Ticket conversations: the replies, notes and log entries each vendor keeps, and their files.

:func:`apply_entries` is called by :func:`paneglass.store.writes.apply_batch`
for every page, inside the page's transaction, after its tickets are stored.
Entries are upserted by (vendor, ticket external id, entry external id), the
vendor's own ids, so re-reading an overlap changes nothing. An entry whose
ticket is not stored yet (connectors may send it on an earlier page than its
ticket) is kept under the ticket's external id and joined to the ticket row
as soon as that arrives. A new entry on a ticket whose links mirror comments
is written to the mirroring ledger in the same transaction
(:mod:`paneglass.store.mirroring`), so it is mirrored once even if the
process dies right after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from connectors.records import ConversationEntry, PollResult
from paneglass.store.mirroring import record_candidates
from paneglass.store.search import forget_conversations, index_conversations
from paneglass.store.tables import ATTACHMENTS, ENTRIES, TICKETS, VENDORS
from paneglass.store.views import AttachmentView, EntryView

__all__ = ["apply_entries", "entries_of", "iter_attachments", "iter_entries"]

_CHUNK = 400
_COMPARED = ("author", "visibility", "body", "raw_format", "raw_body", "updated_at")
"""Entry columns whose change rewrites the stored entry (and its search index)."""


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _values(entry: ConversationEntry) -> dict[str, Any]:
    return {
        "author": entry.author,
        "visibility": entry.visibility.value,
        "body": entry.body,
        "raw_format": entry.raw_format,
        "raw_body": entry.raw_body or None,
        "updated_at": entry.updated_at,
    }


def apply_entries(conn: Connection, vendor_id: int, result: PollResult, now: datetime) -> int:
    """Store a page's conversation entries and attachments; return how many are new or changed.

    The conversations they touch are taken out of the search index before the
    rows change and indexed again after (:mod:`paneglass.store.search`).
    """
    entries = list({(e.ticket_external_id, e.external_id): e for e in result.entries}.values())
    orphans = _orphaned(conn, vendor_id, [t.external_id for t in result.tickets])
    if not entries and not orphans:
        return 0
    ticket_ids = _ticket_ids(conn, vendor_id, {e.ticket_external_id for e in entries} | orphans)
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    for chunk in _chunks([(e.ticket_external_id, e.external_id) for e in entries]):
        rows = conn.execute(
            select(
                ENTRIES.c.id,
                ENTRIES.c.ticket_id,
                ENTRIES.c.ticket_external_id,
                ENTRIES.c.external_id,
            )
            .add_columns(*(ENTRIES.c[name] for name in _COMPARED))
            .where(
                ENTRIES.c.vendor_id == vendor_id,
                tuple_(ENTRIES.c.ticket_external_id, ENTRIES.c.external_id).in_(list(chunk)),
            )
        ).mappings()
        stored.update({(row["ticket_external_id"], row["external_id"]): dict(row) for row in rows})
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    touched = {ticket_ids[ext] for ext in orphans if ext in ticket_ids}
    for entry in entries:
        values = _values(entry)
        old = stored.get((entry.ticket_external_id, entry.external_id))
        if old is None:
            ticket_id = ticket_ids.get(entry.ticket_external_id)
            new_rows.append(
                {
                    **values,
                    "vendor_id": vendor_id,
                    "ticket_external_id": entry.ticket_external_id,
                    "external_id": entry.external_id,
                    "ticket_id": ticket_id,
                    "created_at": entry.created_at,
                    "first_seen_at": now,
                }
            )
        elif any(old[name] != values[name] for name in _COMPARED):
            changed_rows.append({**values, "entry_id": old["id"]})
            ticket_id = old["ticket_id"]
        else:
            continue
        if ticket_id is not None:
            touched.add(ticket_id)
    forget_conversations(conn, touched)
    if orphans:
        _adopt_orphans(conn, vendor_id, sorted(orphans))
    for chunk in _chunks(new_rows):
        conn.execute(ENTRIES.insert(), list(chunk))
    if changed_rows:
        conn.execute(
            update(ENTRIES)
            .where(ENTRIES.c.id == bindparam("entry_id"))
            .values({name: bindparam(name) for name in _COMPARED}),
            changed_rows,
        )
    index_conversations(conn, touched)
    _upsert_attachments(conn, vendor_id, entries)
    if new_rows:
        record_candidates(conn, vendor_id, new_rows, now)
    return len(new_rows) + len(changed_rows)


def _ticket_ids(conn: Connection, vendor_id: int, external_ids: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(external_ids)):
        found.update(
            (ext, tid)
            for tid, ext in conn.execute(
                select(TICKETS.c.id, TICKETS.c.external_id).where(
                    TICKETS.c.vendor_id == vendor_id, TICKETS.c.external_id.in_(chunk)
                )
            )
        )
    return found


def _orphaned(conn: Connection, vendor_id: int, ticket_external_ids: Sequence[str]) -> set[str]:
    """Which of these tickets have entries stored before the ticket itself was.

    Such entries are rare and short-lived, so one probe of the entries without a
    ticket (``ix_entry_ticket_created`` holds them first) answers most pages
    without looking the page's tickets up one by one (13 us a ticket on PostgreSQL).
    """
    found: set[str] = set()
    waiting = select(ENTRIES.c.id).where(
        ENTRIES.c.ticket_id.is_(None), ENTRIES.c.vendor_id == vendor_id
    )
    if conn.execute(waiting.limit(1)).first() is None:
        return found
    for chunk in _chunks(list(ticket_external_ids)):
        found.update(
            conn.execute(
                select(ENTRIES.c.ticket_external_id)
                .where(
                    ENTRIES.c.vendor_id == vendor_id,
                    ENTRIES.c.ticket_external_id.in_(chunk),
                    ENTRIES.c.ticket_id.is_(None),
                )
                .distinct()
            ).scalars()
        )
    return found


def _adopt_orphans(conn: Connection, vendor_id: int, ticket_external_ids: Sequence[str]) -> None:
    """Join entries stored before their ticket to the ticket row, now that it exists."""
    owner = (
        select(TICKETS.c.id)
        .where(
            TICKETS.c.vendor_id == vendor_id,
            TICKETS.c.external_id == ENTRIES.c.ticket_external_id,
        )
        .scalar_subquery()
    )
    for chunk in _chunks(list(ticket_external_ids)):
        conn.execute(
            update(ENTRIES)
            .where(
                ENTRIES.c.vendor_id == vendor_id,
                ENTRIES.c.ticket_external_id.in_(chunk),
                ENTRIES.c.ticket_id.is_(None),
            )
            .values(ticket_id=owner)
        )


def _upsert_attachments(
    conn: Connection, vendor_id: int, entries: Sequence[ConversationEntry]
) -> None:
    rows = {
        (entry.ticket_external_id, attachment.external_id): {
            "vendor_id": vendor_id,
            "ticket_external_id": entry.ticket_external_id,
            "entry_external_id": entry.external_id,
            "external_id": attachment.external_id,
            "name": attachment.name,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "url": attachment.url,
        }
        for entry in entries
        for attachment in entry.attachments
    }
    if not rows:
        return
    stmt = _insert(conn, ATTACHMENTS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["vendor_id", "ticket_external_id", "external_id"],
        set_={
            name: stmt.excluded[name]
            for name in ("entry_external_id", "name", "size", "content_type", "url")
        },
    )
    for chunk in _chunks(list(rows.values())):
        conn.execute(stmt, list(chunk))


def entries_of(
    conn: Connection, ticket_ids: Sequence[int], limit: int = 500
) -> tuple[dict[int, list[EntryView]], int]:
    """The newest ``limit`` entries of these tickets (oldest first, with their files).

    Returns them by ticket id, and how many older entries were left out.
    """
    if not ticket_ids:
        return {}, 0
    rows = conn.execute(
        select(
            ENTRIES.c.id,
            ENTRIES.c.vendor_id,
            ENTRIES.c.ticket_id,
            ENTRIES.c.ticket_external_id,
            ENTRIES.c.external_id,
            ENTRIES.c.author,
            ENTRIES.c.visibility,
            ENTRIES.c.body,
            ENTRIES.c.created_at,
            ENTRIES.c.updated_at,
            ENTRIES.c.raw_format,
        )
        .where(ENTRIES.c.ticket_id.in_(ticket_ids))
        .order_by(ENTRIES.c.created_at.desc(), ENTRIES.c.id.desc())
        .limit(limit + 1)
    ).all()
    omitted = 0
    if len(rows) > limit:
        rows = rows[:limit]
        total = conn.execute(
            select(func.count()).where(ENTRIES.c.ticket_id.in_(ticket_ids))
        ).scalar_one()
        omitted = int(total) - limit
    files: dict[tuple[int, str, str], list[AttachmentView]] = {}
    for vendor_id, ticket_ext, entry_ext, name, size, content_type, url in conn.execute(
        select(
            ATTACHMENTS.c.vendor_id,
            ATTACHMENTS.c.ticket_external_id,
            ATTACHMENTS.c.entry_external_id,
            ATTACHMENTS.c.name,
            ATTACHMENTS.c.size,
            ATTACHMENTS.c.content_type,
            ATTACHMENTS.c.url,
        )
        .where(
            tuple_(ATTACHMENTS.c.vendor_id, ATTACHMENTS.c.ticket_external_id).in_(
                list({(row.vendor_id, row.ticket_external_id) for row in rows})
            )
        )
        .order_by(ATTACHMENTS.c.id)
    ):
        files.setdefault((vendor_id, ticket_ext, entry_ext), []).append(
            AttachmentView(name, size, content_type, url)
        )
    found: dict[int, list[EntryView]] = {}
    for row in reversed(rows):
        found.setdefault(row.ticket_id, []).append(
            EntryView(
                id=row.id,
                external_id=row.external_id,
                author=row.author,
                visibility=row.visibility,
                body=row.body,
                created_at=row.created_at,
                updated_at=row.updated_at,
                raw_format=row.raw_format,
                attachments=tuple(
                    files.get((row.vendor_id, row.ticket_external_id, row.external_id), ())
                ),
            )
        )
    return found, omitted


def iter_entries(
    conn: Connection, vendor: str | None = None, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every conversation entry for export, in id order (optionally of one vendor)."""
    last_id = 0
    while True:
        stmt = (
            select(
                ENTRIES.c.id,
                VENDORS.c.name.label("vendor"),
                ENTRIES.c.ticket_external_id,
                TICKETS.c.key.label("ticket_key"),
                ENTRIES.c.external_id,
                ENTRIES.c.author,
                ENTRIES.c.visibility,
                ENTRIES.c.body,
                ENTRIES.c.raw_format,
                ENTRIES.c.raw_body,
                ENTRIES.c.created_at,
                ENTRIES.c.updated_at,
                ENTRIES.c.first_seen_at,
            )
            .join(VENDORS, VENDORS.c.id == ENTRIES.c.vendor_id)
            .outerjoin(TICKETS, TICKETS.c.id == ENTRIES.c.ticket_id)
            .where(ENTRIES.c.id > last_id)
            .order_by(ENTRIES.c.id)
            .limit(batch)
        )
        if vendor is not None:
            stmt = stmt.where(VENDORS.c.name == vendor)
        rows = conn.execute(stmt).mappings().all()
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last_id = rows[-1]["id"]


def iter_attachments(
    conn: Connection, vendor: str | None = None, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every attachment's metadata for export, in id order (optionally of one vendor)."""
    last_id = 0
    while True:
        stmt = (
            select(ATTACHMENTS, VENDORS.c.name.label("vendor"))
            .join(VENDORS, VENDORS.c.id == ATTACHMENTS.c.vendor_id)
            .where(and_(ATTACHMENTS.c.id > last_id))
            .order_by(ATTACHMENTS.c.id)
            .limit(batch)
        )
        if vendor is not None:
            stmt = stmt.where(VENDORS.c.name == vendor)
        rows = conn.execute(stmt).mappings().all()
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last_id = rows[-1]["id"]

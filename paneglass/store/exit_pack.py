"""The exit pack's rows: everything the store holds about one vendor, out and back in.

Each kind (tickets, events, conversations, attachments, sla, links, audit)
is a stream of plain dicts that name tickets by vendor and external id, never
by this database's row ids, so a pack means the same in any store.
:func:`pack_rows` reads them a batch at a time; :func:`restore` writes a
pack into a store in the caller's transaction (all of it or nothing), with
the search index kept as every write keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, or_, select

from paneglass.store.search import forget_conversations, index_conversations
from paneglass.store.tables import (
    ATTACHMENTS,
    AUDIT,
    CLOCKS,
    ENTRIES,
    EVENTS,
    LINKS,
    TICKETS,
    VENDORS,
)

__all__ = ["KINDS", "TIMES", "PackError", "pack_rows", "restore", "vendors_of"]

KINDS = ("tickets", "events", "conversations", "attachments", "sla", "links", "audit")
"""Every kind of row in a pack, in the order a restore needs them."""

_TICKET_COLUMNS = tuple(c.name for c in TICKETS.columns if c.name not in ("id", "vendor_id"))
_CLOCK_COLUMNS = tuple(c.name for c in CLOCKS.columns if c.name not in ("id", "ticket_id"))
_EVENT_COLUMNS = ("field_name", "old_value", "new_value", "vendor_time", "seen_at")
_ENTRY_COLUMNS = tuple(
    c.name for c in ENTRIES.columns if c.name not in ("id", "vendor_id", "ticket_id")
)
_ATTACHMENT_COLUMNS = tuple(
    c.name for c in ATTACHMENTS.columns if c.name not in ("id", "vendor_id")
)
_AUDIT_COLUMNS = tuple(c.name for c in AUDIT.columns if c.name != "id")
_LINK_COLUMNS = (
    "from_external_id",
    "to_external_id",
    "to_key",
    "mirror_comments",
    "created_at",
    "created_by",
)

TIMES = frozenset(
    name
    for table in (TICKETS, CLOCKS, EVENTS, ENTRIES, AUDIT, LINKS)
    for name, column in table.columns.items()
    if column.type.__class__.__name__ == "UTCDateTime"
)
"""Fields that hold times (ISO 8601 in a pack)."""


class PackError(ValueError):
    """A pack that cannot be restored here; the message says why, in one line."""


def _batched(conn: Connection, stmt: Any, key: Any, batch: int = 5000) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = conn.execute(stmt.where(key > last).order_by(key).limit(batch)).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = rows[-1][key.name]


def _vendor_id(conn: Connection, vendor: str) -> int:
    found = conn.execute(select(VENDORS.c.id).where(VENDORS.c.name == vendor)).scalar()
    if found is None:
        raise PackError(f"there is no vendor {vendor!r} in this store")
    return int(found)


def vendors_of(conn: Connection, vendor: str) -> list[dict[str, Any]]:
    """The vendor itself, then every vendor its tickets are linked to (name, kind, URL)."""
    vendor_id = _vendor_id(conn, vendor)
    ids = [vendor_id]
    for mine, theirs in (("from", "to"), ("to", "from")):
        ids += conn.execute(
            select(LINKS.c[f"{theirs}_vendor_id"])
            .where(LINKS.c[f"{mine}_vendor_id"] == vendor_id)
            .distinct()
        ).scalars()
    rows = conn.execute(
        select(VENDORS.c.id, VENDORS.c.name, VENDORS.c.kind, VENDORS.c.base_url).where(
            VENDORS.c.id.in_(ids)
        )
    ).mappings()
    found = {row["id"]: row for row in rows}
    return [
        {"name": found[i]["name"], "kind": found[i]["kind"], "base_url": found[i]["base_url"]}
        for i in dict.fromkeys(ids)
        if i in found
    ]


def pack_rows(conn: Connection, kind: str, vendor: str) -> Iterator[dict[str, Any]]:
    """Every row of one kind for one vendor, oldest first, in the pack's own shape."""
    vendor_id = _vendor_id(conn, vendor)
    if kind == "tickets":
        stmt = select(TICKETS.c.id, *(TICKETS.c[c] for c in _TICKET_COLUMNS)).where(
            TICKETS.c.vendor_id == vendor_id
        )
        for row in _batched(conn, stmt, TICKETS.c.id):
            row.pop("id")
            row["raw"] = json.loads(row["raw"]) if row["raw"] else None
            yield {"vendor": vendor, **row}
    elif kind == "events":
        stmt = (
            select(EVENTS.c.id, TICKETS.c.external_id, *(EVENTS.c[c] for c in _EVENT_COLUMNS))
            .join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id)
            .where(TICKETS.c.vendor_id == vendor_id)
        )
        for row in _batched(conn, stmt, EVENTS.c.id):
            row.pop("id")
            yield {"vendor": vendor, **row}
    elif kind == "conversations":
        stmt = select(ENTRIES.c.id, *(ENTRIES.c[c] for c in _ENTRY_COLUMNS)).where(
            ENTRIES.c.vendor_id == vendor_id
        )
        for row in _batched(conn, stmt, ENTRIES.c.id):
            row.pop("id")
            yield {"vendor": vendor, **row}
    elif kind == "attachments":
        stmt = select(ATTACHMENTS.c.id, *(ATTACHMENTS.c[c] for c in _ATTACHMENT_COLUMNS)).where(
            ATTACHMENTS.c.vendor_id == vendor_id
        )
        for row in _batched(conn, stmt, ATTACHMENTS.c.id):
            row.pop("id")
            yield {"vendor": vendor, **row}
    elif kind == "sla":
        stmt = (
            select(CLOCKS.c.id, TICKETS.c.external_id, *(CLOCKS.c[c] for c in _CLOCK_COLUMNS))
            .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
            .where(TICKETS.c.vendor_id == vendor_id)
        )
        for row in _batched(conn, stmt, CLOCKS.c.id):
            row.pop("id")
            yield {"vendor": vendor, **row}
    elif kind == "links":
        other_from, other_to = VENDORS.alias("from_vendor"), VENDORS.alias("to_vendor")
        stmt = (
            select(
                LINKS.c.id,
                other_from.c.name.label("from_vendor"),
                other_to.c.name.label("to_vendor"),
                *(LINKS.c[c] for c in _LINK_COLUMNS),
            )
            .join(other_from, other_from.c.id == LINKS.c.from_vendor_id)
            .join(other_to, other_to.c.id == LINKS.c.to_vendor_id)
            .where(or_(LINKS.c.from_vendor_id == vendor_id, LINKS.c.to_vendor_id == vendor_id))
        )
        for row in _batched(conn, stmt, LINKS.c.id):
            row.pop("id")
            yield row
    elif kind == "audit":
        stmt = select(AUDIT).where(AUDIT.c.vendor == vendor)
        for row in _batched(conn, stmt, AUDIT.c.id):
            row.pop("id")
            yield row
    else:
        raise PackError(f"no such kind of row: {kind!r}")


def _ensure_vendors(conn: Connection, vendors: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Vendor rows for every vendor a pack names (added disabled, until a config enables them)."""
    ids: dict[str, int] = {}
    for vendor in vendors:
        name = str(vendor["name"])
        found = conn.execute(
            select(VENDORS.c.id, VENDORS.c.kind).where(VENDORS.c.name == name)
        ).first()
        if found is not None:
            if found.kind != vendor["kind"]:
                kind = vendor["kind"]
                raise PackError(f"vendor {name!r} is {found.kind} here but {kind} in the pack")
            ids[name] = int(found.id)
            continue
        ids[name] = int(
            conn.execute(
                VENDORS.insert()
                .values(name=name, kind=vendor["kind"], base_url=vendor["base_url"], enabled=False)
                .returning(VENDORS.c.id)
            ).scalar_one()
        )
    return ids


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def restore(
    conn: Connection,
    vendor: str,
    vendors: list[Mapping[str, Any]],
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
) -> dict[str, int]:
    """Write a pack's rows for ``vendor`` into the store (the caller's one transaction).

    The vendor must hold no ticket here yet: a pack is a history to start
    from, not a merge. Returns how many rows of each kind were written.
    """
    ids = _ensure_vendors(conn, vendors)
    vendor_id = ids[vendor]
    held = conn.execute(select(TICKETS.c.id).where(TICKETS.c.vendor_id == vendor_id).limit(1))
    if held.first() is not None:
        raise PackError(
            f"vendor {vendor!r} already has tickets in this store: restore into a fresh "
            "database (--db) or under another name (--as NAME)"
        )
    counts = dict.fromkeys(KINDS, 0)
    tickets: dict[str, int] = {}
    for batch in _batches(rows.get("tickets", ())):
        values = []
        for row in batch:
            value = {c: row.get(c) for c in _TICKET_COLUMNS}
            raw = value["raw"]
            value["raw"] = json.dumps(raw, ensure_ascii=False) if raw is not None else None
            values.append({**value, "vendor_id": vendor_id})
        _insert(conn, TICKETS, values)
        for tid, ext in conn.execute(
            select(TICKETS.c.id, TICKETS.c.external_id).where(
                TICKETS.c.vendor_id == vendor_id,
                TICKETS.c.external_id.in_([v["external_id"] for v in values]),
            )
        ):
            tickets[ext] = int(tid)
        counts["tickets"] += len(values)

    def ticket_id(row: Mapping[str, Any]) -> int:
        found = tickets.get(str(row.get("external_id") or row.get("ticket_external_id")))
        if found is None:
            raise PackError(f"a row names ticket {row.get('external_id')!r}, not in the pack")
        return found

    for batch in _batches(rows.get("events", ())):
        _insert(
            conn,
            EVENTS,
            [{**{c: r.get(c) for c in _EVENT_COLUMNS}, "ticket_id": ticket_id(r)} for r in batch],
        )
        counts["events"] += len(batch)
    talked: set[int] = set()
    for batch in _batches(rows.get("conversations", ())):
        values = [
            {
                **{c: r.get(c) for c in _ENTRY_COLUMNS},
                "vendor_id": vendor_id,
                "ticket_id": tickets.get(str(r["ticket_external_id"])),
            }
            for r in batch
        ]
        # A restored ticket was indexed with no conversation: forget that document before
        # its first entry lands, index it whole once every entry is in.
        fresh = {v["ticket_id"] for v in values if v["ticket_id"] is not None} - talked
        forget_conversations(conn, fresh)
        talked |= fresh
        _insert(conn, ENTRIES, values)
        counts["conversations"] += len(values)
    index_conversations(conn, talked)
    for batch in _batches(rows.get("attachments", ())):
        _insert(
            conn,
            ATTACHMENTS,
            [{**{c: r.get(c) for c in _ATTACHMENT_COLUMNS}, "vendor_id": vendor_id} for r in batch],
        )
        counts["attachments"] += len(batch)
    for batch in _batches(rows.get("sla", ())):
        _insert(
            conn,
            CLOCKS,
            [{**{c: r.get(c) for c in _CLOCK_COLUMNS}, "ticket_id": ticket_id(r)} for r in batch],
        )
        counts["sla"] += len(batch)
    pair = ("from_vendor_id", "from_external_id", "to_vendor_id", "to_external_id")
    for row in rows.get("links", ()):
        link = {c: row.get(c) for c in _LINK_COLUMNS}
        link["from_vendor_id"] = ids[str(row["from_vendor"])]
        link["to_vendor_id"] = ids[str(row["to_vendor"])]
        same = and_(*(LINKS.c[name] == link[name] for name in pair))
        if conn.execute(select(LINKS.c.id).where(same)).first() is None:
            conn.execute(LINKS.insert().values(**link))
            counts["links"] += 1
    for batch in _batches(rows.get("audit", ())):
        _insert(conn, AUDIT, [{c: r.get(c) for c in _AUDIT_COLUMNS} for r in batch])
        counts["audit"] += len(batch)
    return counts


def _batches(
    rows: Iterable[Mapping[str, Any]], size: int = 2000
) -> Iterator[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def parse_time(value: Any) -> datetime | None:
    """A pack's ISO 8601 time back into an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

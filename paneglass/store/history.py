"""The store's own history: every version of what the panes show, for time travel.

Events (:class:`TicketEvent`) already record each changed ticket field; what
they do not hold is the rest of what a screen shows at an instant: a ticket's
``updated_at``, its contract clocks (their states, due times, breaches), a
vendor's published status, components and incidents. This module appends a
version of each of those whenever it changes, in the transaction of the
change (``writes.apply_batch`` calls :func:`record_page`), and closes the
version it replaces (``valid_to``). A row's state at instant *T* is then the
version with ``valid_from <= T < valid_to`` (see :mod:`paneglass.store.as_of`).

Clock ticks (ok → at risk → breached with time alone) are not versioned: they
follow from the stored due and at-risk times, and :mod:`as_of` applies the
same rule at *T* as :func:`paneglass.store.writes.tick_clocks` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, literal, select, update

from paneglass.store.column_types import UTCDateTime
from paneglass.store.tables import (
    CLOCK_VERSIONS,
    CLOCKS,
    COMPONENT_VERSIONS,
    COMPONENTS,
    INCIDENT_VERSIONS,
    INCIDENTS,
    STATUS,
    STATUS_VERSIONS,
    TICKET_VERSIONS,
    TICKETS,
)

__all__ = ["CLOCK_FIELDS", "TICKET_FIELDS", "record_page"]


def _versioned(table: Table, *identity: str) -> tuple[str, ...]:
    """A history table's kept columns: all but its id, its validity and what names the row.

    Derived from the schema, so a column added to a version table is kept with no list to
    update by hand."""
    skip = {"id", "valid_from", "valid_to", *identity}
    return tuple(c.name for c in table.columns if c.name not in skip)


TICKET_FIELDS = _versioned(TICKET_VERSIONS, "ticket_id")
"""Ticket columns kept in each version (the raw payload is not: it can be large)."""

CLOCK_FIELDS = _versioned(CLOCK_VERSIONS, "ticket_id", "metric", "cycle")
"""Clock columns whose change starts a new version (``computed_at`` alone does not)."""

_STATUS_FIELDS = _versioned(STATUS_VERSIONS, "vendor_id")
_STATUS_COMPARED = tuple(name for name in _STATUS_FIELDS if name != "fetched_at")
_COMPONENT_FIELDS = _versioned(COMPONENT_VERSIONS, "vendor_id", "external_id")
_INCIDENT_FIELDS = _versioned(INCIDENT_VERSIONS, "vendor_id", "external_id")
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def record_page(
    conn: Connection, vendor_id: int, ticket_ids: Iterable[int], status_changed: bool, now: datetime
) -> None:
    """Version the tickets and clocks this page changed, and the vendor's status if it came."""
    ids = sorted(ticket_ids)
    for chunk in _chunks(ids):
        _record_tickets(conn, chunk, now)
        _record_clocks(conn, chunk, now)
    if status_changed:
        _record_status(conn, vendor_id, now)


def _record_tickets(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Close each ticket's open version and open one holding its current fields."""
    tv = TICKET_VERSIONS
    conn.execute(
        update(tv).where(tv.c.ticket_id.in_(ids), tv.c.valid_to.is_(None)).values(valid_to=now)
    )
    conn.execute(
        tv.insert().from_select(
            ["ticket_id", "valid_from", *TICKET_FIELDS],
            select(
                TICKETS.c.id,
                literal(now, UTCDateTime()),
                *(TICKETS.c[name] for name in TICKET_FIELDS),
            ).where(TICKETS.c.id.in_(ids)),
        )
    )


def _record_clocks(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Version each clock whose stored values differ from its open version (or that vanished)."""
    cv = CLOCK_VERSIONS
    current = {
        (row.ticket_id, row.metric, row.cycle): tuple(getattr(row, name) for name in CLOCK_FIELDS)
        for row in conn.execute(
            select(CLOCKS.c.ticket_id, CLOCKS.c.metric, CLOCKS.c.cycle, *_columns(CLOCKS)).where(
                CLOCKS.c.ticket_id.in_(ids)
            )
        )
    }
    open_versions = {
        (row.ticket_id, row.metric, row.cycle): (
            row.id,
            tuple(getattr(row, n) for n in CLOCK_FIELDS),
        )
        for row in conn.execute(
            select(cv.c.id, cv.c.ticket_id, cv.c.metric, cv.c.cycle, *_columns(cv)).where(
                cv.c.ticket_id.in_(ids), cv.c.valid_to.is_(None)
            )
        )
    }
    closing = [
        version_id
        for key, (version_id, values) in open_versions.items()
        if current.get(key) != values
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
    _close(conn, cv, closing, now)
    if opening:
        conn.execute(cv.insert(), opening)


def _columns(table: Table) -> list[Any]:
    return [table.c[name] for name in CLOCK_FIELDS]


def _close(conn: Connection, table: Table, version_ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(version_ids):
        conn.execute(update(table).where(table.c.id.in_(chunk)).values(valid_to=now))


def _record_status(conn: Connection, vendor_id: int, now: datetime) -> None:
    """Version the vendor's rollup, components and incidents where they changed."""
    _record_keyed(
        conn,
        live=STATUS,
        versions=STATUS_VERSIONS,
        vendor_id=vendor_id,
        key=None,
        stored=_STATUS_FIELDS,
        compared=_STATUS_COMPARED,
        now=now,
    )
    for live, versions, fields in (
        (COMPONENTS, COMPONENT_VERSIONS, _COMPONENT_FIELDS),
        (INCIDENTS, INCIDENT_VERSIONS, _INCIDENT_FIELDS),
    ):
        _record_keyed(
            conn,
            live=live,
            versions=versions,
            vendor_id=vendor_id,
            key="external_id",
            stored=fields,
            compared=fields,
            now=now,
        )


def _record_keyed(
    conn: Connection,
    *,
    live: Table,
    versions: Table,
    vendor_id: int,
    key: str | None,
    stored: Sequence[str],
    compared: Sequence[str],
    now: datetime,
) -> None:
    """Diff one vendor's live rows against their open versions, by ``key`` (one row if None)."""

    def key_of(row: Any) -> str:
        return str(row._mapping[key]) if key else ""

    key_columns = [live.c[key]] if key else []
    current = {
        key_of(row): row._mapping
        for row in conn.execute(
            select(*key_columns, *(live.c[n] for n in stored)).where(live.c.vendor_id == vendor_id)
        )
    }
    version_keys = [versions.c[key]] if key else []
    open_rows = {
        key_of(row): row._mapping
        for row in conn.execute(
            select(versions.c.id, *version_keys, *(versions.c[n] for n in stored)).where(
                and_(versions.c.vendor_id == vendor_id, versions.c.valid_to.is_(None))
            )
        )
    }

    def same(a: Any, b: Any) -> bool:
        return all(a[n] == b[n] for n in compared)

    closing = [
        row["id"] for k, row in open_rows.items() if k not in current or not same(current[k], row)
    ]
    opening = [
        {
            "vendor_id": vendor_id,
            "valid_from": now,
            **({key: k} if key else {}),
            **{n: row[n] for n in stored},
        }
        for k, row in current.items()
        if k not in open_rows or not same(row, open_rows[k])
    ]
    _close(conn, versions, closing, now)
    if opening:
        conn.execute(versions.insert(), opening)

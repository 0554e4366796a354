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

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, and_, select, update

from paneglass.store.ingest_clocks import CLOCK_COLUMNS
from paneglass.store.ingest_postgres import ANY_IDS, PostgresWriter
from paneglass.store.ingest_sqlite import SqliteWriter
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
    conn: Connection,
    vendor_id: int,
    ticket_ids: Iterable[int],
    status_changed: bool,
    now: datetime,
    *,
    fresh: Collection[int] = frozenset(),
    clocks: Mapping[int, Sequence[tuple[Any, ...]]] | None = None,
) -> None:
    """Version the tickets and clocks this page changed, and the vendor's status if it came.

    ``fresh``: the tickets this page inserted, which have no version to close yet (a new
    ticket takes an id no ticket had: no version can name it). ``clocks``: the clocks the
    page stored, by ticket, every clock of each ticket (rows of
    :data:`~paneglass.store.ingest_clocks.CLOCK_COLUMNS`, stored form), as ingest holds them;
    a changed ticket missing there has its clocks read from the table.
    """
    ids = sorted(ticket_ids)
    if not ids:
        if status_changed:
            _record_status(conn, vendor_id, now)
        return
    versions = _Versions(conn, now)
    known = [tid for tid in ids if tid not in fresh]
    new = [tid for tid in ids if tid in fresh]
    versions.tickets(known, new)
    versions.new_clocks(new)
    given = clocks or {}
    current = {tid: given[tid] for tid in known if tid in given}
    missing = [tid for tid in known if tid not in given]
    if missing:
        current.update(versions.stored_clocks(missing))
    versions.clocks(known, current)
    if status_changed:
        _record_status(conn, vendor_id, now)


_CLOCK_VERSION_COLUMNS = ("ticket_id", "metric", "cycle", "valid_from", *CLOCK_FIELDS)
_KEY_AND_FIELDS = itemgetter(
    *(CLOCK_COLUMNS.index(name) for name in ("ticket_id", "metric", "cycle", *CLOCK_FIELDS))
)
"""A stored clock row (:data:`CLOCK_COLUMNS`) as its key, then its versioned fields."""
_TICKET_NAMES = ", ".join(f'"{name}"' for name in TICKET_FIELDS)
_CLOCK_NAMES = ", ".join(f'"{name}"' for name in CLOCK_FIELDS)


class _Versions:
    """The page's ticket and clock versions, on the connection's own driver cursor, values in
    each backend's stored form (as ingest wrote them; nothing converted through SQLAlchemy).

    Open versions are found by ticket, on ``(ticket_id, valid_to)``; on PostgreSQL each by
    its own lookup (``unnest`` of the ids, ``CROSS JOIN LATERAL`` a subquery kept apart by
    ``OFFSET 0``), so the plan is a probe of that index per ticket, with or without
    statistics. With ``ticket_id = ANY(ids) AND valid_to IS NULL`` the planner took every
    open version of the table (from the index on ``(valid_from, valid_to)`` before
    statistics, by a sequential scan after) and filtered them; with the lateral join alone
    it hashed every open version: either way 20,000 rows read for a page of 500 at 20,000
    tickets, a page's cost growing with the store. A new ticket (``fresh``) has no version
    to look for.
    """

    def __init__(self, conn: Connection, now: datetime) -> None:
        self._postgres = conn.dialect.name == "postgresql"
        self._writer = PostgresWriter(conn) if self._postgres else SqliteWriter(conn)
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._now = self._writer.stamp(now)

    def _in(self, column: str, ids: Sequence[int]) -> Iterable[tuple[str, tuple[Any, ...]]]:
        """``column`` among ``ids``, as a condition and its parameters (chunked on SQLite)."""
        if self._postgres:
            yield f"{column} = {ANY_IDS}", (_ids(ids),)
            return
        for chunk in _chunks(ids):
            yield f"{column} IN ({', '.join('?' * len(chunk))})", tuple(chunk)

    def _mark(self) -> str:
        return "%s" if self._postgres else "?"

    def _open_lookup(self, table: str, columns: str) -> str:
        """PostgreSQL: the open versions of the tickets of an ``int[]`` parameter, by ticket."""
        return (
            f"SELECT {columns} FROM unnest(%s::int[]) AS page(ticket_id) CROSS JOIN LATERAL "
            f"(SELECT * FROM {table} AS v WHERE v.ticket_id = page.ticket_id "
            "AND v.valid_to IS NULL OFFSET 0) AS v"
        )

    def tickets(self, known: Sequence[int], fresh: Sequence[int]) -> None:
        """Close the open version of each ``known`` ticket; open one for every ticket."""
        table, mark = TICKET_VERSIONS.name, self._mark()
        if known and self._postgres:
            self._cursor.execute(
                f"UPDATE {table} SET valid_to = %s WHERE id = ANY(ARRAY("
                f"{self._open_lookup(table, 'v.id')}))",
                (self._now, _ids(known)),
            )
        elif known:
            for condition, params in self._in("ticket_id", known):
                self._cursor.execute(
                    f"UPDATE {table} SET valid_to = ? WHERE {condition} AND valid_to IS NULL",
                    (self._now, *params),
                )
        for condition, params in self._in("id", sorted((*known, *fresh))):
            self._cursor.execute(
                f"INSERT INTO {table} (ticket_id, valid_from, {_TICKET_NAMES}) "
                f"SELECT id, {mark}, {_TICKET_NAMES} FROM {TICKETS.name} WHERE {condition} "
                "ORDER BY id",
                (self._now, *params),
            )

    def stored_clocks(self, ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
        """The stored clocks of these tickets, rows of :data:`CLOCK_COLUMNS` by ticket."""
        found: dict[int, list[tuple[Any, ...]]] = {tid: [] for tid in ids}
        names = ", ".join(f'"{name}"' for name in CLOCK_COLUMNS)
        for condition, params in self._in("ticket_id", ids):
            self._cursor.execute(f"SELECT {names} FROM {CLOCKS.name} WHERE {condition}", params)
            for row in self._cursor.fetchall():
                found[row[0]].append(tuple(row))
        return found

    def new_clocks(self, fresh: Sequence[int]) -> None:
        """Open a version of every clock of tickets that have none yet: a copy of the stored
        clock, made by the database (no row crosses to Python and back)."""
        if not fresh:
            return
        mark = self._mark()
        for condition, params in self._in("ticket_id", fresh):
            self._cursor.execute(
                f"INSERT INTO {CLOCK_VERSIONS.name} (ticket_id, metric, cycle, valid_from, "
                f"{_CLOCK_NAMES}) SELECT ticket_id, metric, cycle, {mark}, {_CLOCK_NAMES} "
                f"FROM {CLOCKS.name} WHERE {condition} ORDER BY ticket_id, metric, cycle",
                (self._now, *params),
            )

    def clocks(
        self, known: Sequence[int], current: Mapping[int, Sequence[tuple[Any, ...]]]
    ) -> None:
        """Version each clock whose stored values differ from its open version (or that
        vanished); ``known``: the tickets that may have open versions."""
        table = CLOCK_VERSIONS.name
        open_versions: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}
        if known and self._postgres:
            self._cursor.execute(
                self._open_lookup(table, f"v.id, v.ticket_id, v.metric, v.cycle, {_CLOCK_NAMES}")
                + " ORDER BY v.id",
                (_ids(known),),
            )
            rows = self._cursor.fetchall()
        else:
            rows = []
            for condition, params in self._in("ticket_id", known) if known else ():
                self._cursor.execute(
                    f"SELECT id, ticket_id, metric, cycle, {_CLOCK_NAMES} FROM {table} "
                    f"WHERE {condition} AND valid_to IS NULL ORDER BY id",
                    params,
                )
                rows += self._cursor.fetchall()
        for version_id, ticket_id, metric, cycle, *values in rows:
            open_versions[(ticket_id, metric, cycle)] = (version_id, tuple(values))
        closing: list[int] = []
        seen: set[tuple[Any, ...]] = set()
        opening: list[tuple[Any, ...]] = []
        now = self._now
        for tid in sorted(current):
            for row in current[tid]:
                ticket_id, metric, cycle, *values = _KEY_AND_FIELDS(row)
                key = (ticket_id, metric, cycle)
                seen.add(key)
                old = open_versions.get(key)
                fields = tuple(values)
                if old is not None and old[1] == fields:
                    continue
                if old is not None:
                    closing.append(old[0])
                opening.append((ticket_id, metric, cycle, now, *fields))
        closing += [vid for key, (vid, _values) in open_versions.items() if key not in seen]
        if closing:
            for condition, params in self._in("id", sorted(closing)):
                self._cursor.execute(
                    f"UPDATE {table} SET valid_to = {self._mark()} WHERE {condition}",
                    (now, *params),
                )
        if opening:
            self._writer.insert_rows(table, _CLOCK_VERSION_COLUMNS, opening)


def _close(conn: Connection, table: Table, version_ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(version_ids):
        conn.execute(update(table).where(table.c.id.in_(chunk)).values(valid_to=now))


def _ids(values: Iterable[int]) -> str:
    """Integers as one PostgreSQL ``int[]`` literal."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


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

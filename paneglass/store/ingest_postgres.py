"""How a page's rows go into PostgreSQL: a few round trips per page, whatever its size.

On the connection's own psycopg cursor, inside the caller's transaction:

* the stored tickets a page touches are read with one query, each looked up
  by its key (``unnest`` of the page's external ids, ``CROSS JOIN LATERAL``
  an equality on the unique index): a plan that holds before the table has
  statistics (a first backfill) and at any size, where ``= ANY(…)`` was
  planned as a scan of the vendor's every ticket (57 ms a page at 10,000);
* new tickets take their ids from the table's sequence in one query, so
  they are written without ``RETURNING`` and without a second read;
* rows go in by :attr:`PostgresWriter.method`: ``copy`` (binary ``COPY …
  FROM STDIN``: straight into the table for new rows, into a temporary table
  and one ``UPDATE … FROM`` for rewritten tickets and clocks), ``copy_text``
  (the same in COPY's text format), ``executemany`` (psycopg sends a batch's
  statements in one pipeline) or ``values`` (one multi-row statement per
  1,000 rows). ``copy`` is the default, chosen by measurement
  (``bench/ingest.py`` prints them all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, ClassVar

from sqlalchemy import Connection

from paneglass.store.ingest_clocks import CLOCK_COLUMNS, StoredClock
from paneglass.store.ingest_rows import COLUMNS, COMPARED, KEPT_WHEN_NONE
from paneglass.store.tables import CLOCKS, EVENTS, TICKETS

__all__ = ["ANY_IDS", "METHODS", "PostgresWriter"]

METHODS = ("copy", "copy_text", "executemany", "values")

_VALUES_ROWS = 1000
"""Rows per multi-row VALUES statement (PostgreSQL takes at most 65,535 parameters)."""

_EVENT_COLUMNS = ("ticket_id", "field_name", "old_value", "new_value", "vendor_time", "seen_at")
_CLOCK_REWRITTEN = tuple(c for c in CLOCK_COLUMNS if c not in ("ticket_id", "metric", "cycle"))
_CLOCK_REWRITTEN_OF = itemgetter(*(1 + CLOCK_COLUMNS.index(c) for c in _CLOCK_REWRITTEN), 0)
"""A rewritten clock (its id, then its row) as its rewritten columns, then its id."""
_REWRITTEN = tuple(c for c in COLUMNS if c not in ("vendor_id", "external_id", "first_seen_at"))
_COMPARED_NAMES = [f'"{name}"' for name in COMPARED]
_REWRITTEN_OF = itemgetter(*(COLUMNS.index(c) for c in _REWRITTEN))


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def stamp(value: datetime | None) -> datetime | None:
    """A UTC datetime as psycopg sends it to a ``timestamptz`` column."""
    if value is None or value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


ANY_IDS = "ANY(ARRAY(SELECT unnest(%s::int[])))"
"""``column = {ANY_IDS}``: the rows of an ``int[]`` parameter's ids, from the column's index.

The array is read in a sub-select, so the planner does not see how many ids it holds and
plans a few: an index scan. Given the array itself, it weighed a page's 500 to 1,000 ids
against the table and chose a sequential scan of every row up to a size far beyond a
tenant (every stored clock read for each page: 40,000 at 20,000 tickets, 10 ms a page,
growing with the store)."""


def _ids(values: Iterable[int]) -> str:
    """Integers as one ``int[]`` literal (psycopg adapts a list value by value, in Python)."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def _texts(values: Iterable[str]) -> str:
    """Strings as one ``text[]`` literal, each quoted."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def unstamp(value: Any) -> datetime | None:
    """A ``timestamptz`` as psycopg returns it, in UTC."""
    return value.astimezone(UTC) if value is not None else None


class PostgresWriter:
    """The page's reads and writes on the connection's own psycopg cursor."""

    method: ClassVar[str] = "copy"
    """How rows are sent: one of :data:`METHODS`."""

    stamp = staticmethod(stamp)
    unstamp = staticmethod(unstamp)

    def __init__(self, conn: Connection) -> None:
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._types: dict[str, dict[str, int]] = conn.connection.info.setdefault(
            "paneglass_column_types", {}
        )
        """Per table, each column's type oid (binary COPY needs them); kept per connection."""

    def _copy(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], like: str
    ) -> None:
        """COPY ``rows`` into ``table``, whose columns have the types of table ``like``'s."""
        names = _names(columns)
        if self.method == "copy_text":
            with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        if like not in self._types:
            self._cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (like,),
            )
            self._types[like] = {name: int(oid) for name, oid in self._cursor.fetchall()}
        types = self._types[like]
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[c] for c in columns])
            for row in rows:
                copy.write_row(row)

    def _rows(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` of ``columns`` into ``table`` by :attr:`method`."""
        names = _names(columns)
        if self.method in ("copy", "copy_text"):
            self._copy(table, columns, rows, table)
        elif self.method == "executemany":
            marks = ", ".join(["%s"] * len(columns))
            self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        else:
            one = "(" + ", ".join(["%s"] * len(columns)) + ")"
            for start in range(0, len(rows), _VALUES_ROWS):
                chunk = rows[start : start + _VALUES_ROWS]
                self._cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}",
                    [value for row in chunk for value in row],
                )

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (values of ``columns``, stored form) into ``table`` by :attr:`method`."""
        self._rows(table, columns, rows)

    # -- tickets ------------------------------------------------------------------------------

    def existing(self, vendor_id: int, external_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        self._cursor.execute(
            f"SELECT t.external_id, t.id, {', '.join(f't.{c}' for c in _COMPARED_NAMES)} "
            "FROM unnest(%s::text[]) AS page(external_id) CROSS JOIN LATERAL "
            f"(SELECT * FROM {TICKETS.name} WHERE vendor_id = %s "
            "AND external_id = page.external_id) AS t",
            (_texts(external_ids), vendor_id),
        )
        return {row[0]: row[1:] for row in self._cursor.fetchall()}

    def insert_tickets(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        self._cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (TICKETS.name, len(rows)),
        )
        ids = [int(tid) for (tid,) in self._cursor.fetchall()]
        self._rows(
            TICKETS.name,
            ("id", *COLUMNS),
            [(tid, *row) for tid, row in zip(ids, rows, strict=True)],
        )
        return ids

    def _rewrite(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Set ``columns`` of ``table``'s rows by id; each row is its values, then its id."""
        if self.method in ("copy", "copy_text"):
            stage = f"paneglass_ingest_{table}"  # the session's own, emptied at every commit
            self._cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {_names((*columns, 'id'))} FROM {table} WITH NO DATA"
            )
            self._copy(stage, (*columns, "id"), rows, table)
            assignments = ", ".join(
                f'"{c}" = coalesce(s."{c}", t."{c}")' if c in KEPT_WHEN_NONE else f'"{c}" = s."{c}"'
                for c in columns
            )
            # ``t.id = ANY(ids)`` as well as the join: the staging table has no statistics, and
            # on the join alone the planner hashed the whole target table for every page (a
            # sequential scan of every stored clock, 40,000 at 20,000 tickets: the page's cost
            # grew with the table). With the ids (hidden from the planner, see ``ANY_IDS``)
            # it reads only the page's rows, by primary key.
            self._cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM {stage} AS s "
                f"WHERE t.id = s.id AND t.id = {ANY_IDS}",
                (_ids(row[-1] for row in rows),),
            )
            return
        assignments = ", ".join(
            f'"{c}" = coalesce(%s, "{c}")' if c in KEPT_WHEN_NONE else f'"{c}" = %s'
            for c in columns
        )
        self._cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)

    def update_tickets(
        self, rows: Sequence[tuple[Any, ...]], ids: Sequence[int], moved: Sequence[frozenset[str]]
    ) -> None:
        # Every column: PostgreSQL writes a new row version with all its index entries
        # whichever columns moved (updated_at, indexed, always does).
        values = [(*_REWRITTEN_OF(row), tid) for row, tid in zip(rows, ids, strict=True)]
        self._rewrite(TICKETS.name, _REWRITTEN, values)

    def touch_tickets(self, ids: Sequence[int], now: Any) -> None:
        self._cursor.execute(
            f"UPDATE {TICKETS.name} SET last_seen_at = %s WHERE id = {ANY_IDS}",
            (now, _ids(ids)),
        )

    def describe_tickets(self, described: Sequence[tuple[int, str]]) -> None:
        self._cursor.execute(
            f"UPDATE {TICKETS.name} AS t SET description = p.description "
            "FROM unnest(%s::int[], %s::text[]) AS p(id, description) "
            "WHERE t.id = p.id AND t.description IS DISTINCT FROM p.description",
            ([tid for tid, _ in described], [text for _, text in described]),
        )

    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._rows(EVENTS.name, _EVENT_COLUMNS, rows)

    # -- clocks --------------------------------------------------------------------------------

    def status_events(
        self, ticket_ids: Sequence[int]
    ) -> Iterable[tuple[int, str, str | None, str | None, Any, Any]]:
        self._cursor.execute(
            "SELECT ticket_id, field_name, old_value, new_value, vendor_time, seen_at "
            f"FROM {EVENTS.name} WHERE ticket_id = {ANY_IDS} "
            "AND field_name IN ('created', 'status', 'raw_status', 'priority', 'group_name') "
            "ORDER BY id",
            (_ids(ticket_ids),),
        )
        return self._cursor.fetchall()

    def stored_clocks(self, ticket_ids: Sequence[int]) -> dict[tuple[int, str, int], StoredClock]:
        self._cursor.execute(
            f"SELECT ticket_id, metric, cycle, id, state, due_at, breach_at FROM {CLOCKS.name} "
            f"WHERE ticket_id = {ANY_IDS}",
            (_ids(ticket_ids),),
        )
        return {(t, m, c): StoredClock(*rest) for t, m, c, *rest in self._cursor.fetchall()}

    def write_clocks(
        self,
        inserted: Sequence[tuple[Any, ...]],
        updated: Sequence[tuple[Any, ...]],
        moved: Sequence[bool],
        deleted: Sequence[int],
    ) -> None:
        if deleted:
            self._cursor.execute(
                f"DELETE FROM {CLOCKS.name} WHERE id = {ANY_IDS}", (_ids(deleted),)
            )
        if updated:
            self._rewrite(CLOCKS.name, _CLOCK_REWRITTEN, [_CLOCK_REWRITTEN_OF(r) for r in updated])
        if inserted:
            self._rows(CLOCKS.name, CLOCK_COLUMNS, inserted)

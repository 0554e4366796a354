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
  (``bench/ingest.py`` prints them all);
* inside :meth:`PostgresWriter.overlapped` (a page's writes, see
  :func:`paneglass.store.ingest.apply_tickets`) the writes run in order on a
  worker thread while this thread goes on computing (the page's clocks): the
  server writes the ticket rows, its longest work, on one core while Python
  computes on the other, where before each waited for the other. What the
  clocks read (the changed tickets' status events and stored clocks) is read
  before the first write (:meth:`PostgresWriter.prefetch`), the page's own
  events added to it as they are sent, so no read waits for the writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

from psycopg import adapt, pq
from sqlalchemy import Connection

from paneglass.store.ingest_clocks import CLOCK_COLUMNS, StoredClock
from paneglass.store.ingest_rows import COLUMNS, COMPARED, KEPT_WHEN_NONE
from paneglass.store.tables import CLOCKS, EVENTS, TICKETS

try:  # psycopg's own binary COPY row format, to build a COPY's data off the worker thread
    from psycopg._copy_base import BinaryFormatter
except ImportError:  # pragma: no cover - another psycopg: rows are formatted as they are sent
    BinaryFormatter = None  # type: ignore[assignment,misc]

__all__ = ["ANY_IDS", "METHODS", "PostgresWriter"]

METHODS = ("copy", "copy_text", "executemany", "values")

_VALUES_ROWS = 1000
"""Rows per multi-row VALUES statement (PostgreSQL takes at most 65,535 parameters)."""

_EVENT_COLUMNS = ("ticket_id", "field_name", "old_value", "new_value", "vendor_time", "seen_at")
_HISTORY_FIELDS = ("created", "status", "raw_status", "priority", "group_name")
"""The events a ticket's clocks are computed from (:meth:`PostgresWriter.status_events`)."""
_HISTORY_FIELD_SET = frozenset(_HISTORY_FIELDS)
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


class _CopyData(NamedTuple):
    """Rows already in binary COPY format (signature, rows, trailer)."""

    data: bytes | bytearray


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
        self._worker: ThreadPoolExecutor | None = None
        self._sent: list[Future[None]] = []
        self._prefetched: frozenset[int] | None = None
        """The tickets whose status events and clocks were read by :meth:`prefetch`."""
        self._events: list[tuple[Any, ...]] = []
        """Prefetched: their status events as stored before the page, oldest first, then the
        page's own as sent."""
        self._clocks: dict[tuple[int, str, int], StoredClock] | None = None
        """Prefetched: the stored clocks of the page's changed tickets."""

    # -- overlapped writes ----------------------------------------------------------------------

    @contextmanager
    def overlapped(self) -> Iterator[None]:
        """Writes made inside run in order on a worker thread while this one goes on; a read
        waits for them first. Every write has finished when the block ends (the first error,
        if any, raised then), whatever happens inside it: the connection is idle again before
        the caller commits or rolls back."""
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="paneglass-pg-writes")
        try:
            yield
            self._drain()
        finally:
            worker, self._worker = self._worker, None
            worker.shutdown(wait=True)
            self._sent.clear()

    def _send(self, write: Callable[..., None], *args: Any) -> None:
        """Run a write now, or on the worker inside :meth:`overlapped`."""
        if self._worker is None:
            write(*args)
        else:
            self._sent.append(self._worker.submit(write, *args))

    def _drain(self) -> None:
        """Wait for the writes sent so far; raise the first one's error."""
        sent, self._sent = self._sent, []
        for future in sent:
            future.result()

    def prefetch(self, ticket_ids: Sequence[int]) -> None:
        """Read now what the clocks of these (stored, changed) tickets will be computed from:
        their status events and stored clocks, so :meth:`status_events` and
        :meth:`stored_clocks` need not wait for the page's writes (the page's own events are
        added as :meth:`insert_events` sends them)."""
        self._drain()
        self._prefetched = frozenset(ticket_ids)
        if not ticket_ids:
            self._events, self._clocks = [], {}
            return
        ids = _ids(ticket_ids)
        self._events = self._read_status_events(ids)
        self._clocks = self._read_clocks(ids)

    def _oids(self, like: str, columns: Sequence[str]) -> list[int]:
        """The type oids of ``columns`` of table ``like`` (read once per connection)."""
        if like not in self._types:
            self._drain()
            self._cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (like,),
            )
            self._types[like] = {name: int(oid) for name, oid in self._cursor.fetchall()}
        types = self._types[like]
        return [types[c] for c in columns]

    def _prepared(
        self, like: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> Sequence[tuple[Any, ...]] | _CopyData:
        """Rows about to go to the worker, as their binary COPY data built here.

        Inside :meth:`overlapped` the worker then only sends bytes and waits for the server,
        without Python's lock: formatting there, row by row, contended with this thread's
        computing for that lock, and the server waited for rows (measured: slower than no
        worker at all when one core was busy elsewhere)."""
        if self._worker is None or self.method != "copy" or BinaryFormatter is None:
            return rows
        transformer = adapt.Transformer(self._cursor)  # type: ignore[arg-type]
        transformer.set_dumper_types(self._oids(like, columns), pq.Format.BINARY)
        formatter = BinaryFormatter(transformer)
        data = bytearray()
        for row in rows:
            data += formatter.write_row(row)
        data += formatter.end()
        return _CopyData(data)

    def _staged(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> _CopyData | None:
        """Rewritten rows (values of ``columns``, then the id) as prepared COPY data."""
        prepared = self._prepared(table, (*columns, "id"), rows)
        return prepared if isinstance(prepared, _CopyData) else None

    def _copy(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]] | _CopyData,
        like: str,
    ) -> None:
        """COPY ``rows`` into ``table``, whose columns have the types of table ``like``'s."""
        names = _names(columns)
        if isinstance(rows, _CopyData):
            with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(rows.data)
            return
        if self.method == "copy_text":
            with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        oids = self._oids(like, columns)
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(oids)
            for row in rows:
                copy.write_row(row)

    def _rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]] | _CopyData
    ) -> None:
        """Insert ``rows`` of ``columns`` into ``table`` by :attr:`method`."""
        names = _names(columns)
        if self.method in ("copy", "copy_text") or isinstance(rows, _CopyData):
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
        self._drain()
        self._cursor.execute(
            f"SELECT t.external_id, t.id, {', '.join(f't.{c}' for c in _COMPARED_NAMES)} "
            "FROM unnest(%s::text[]) AS page(external_id) CROSS JOIN LATERAL "
            f"(SELECT * FROM {TICKETS.name} WHERE vendor_id = %s "
            "AND external_id = page.external_id) AS t",
            (_texts(external_ids), vendor_id),
        )
        return {row[0]: row[1:] for row in self._cursor.fetchall()}

    def insert_tickets(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        self._drain()
        self._cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (TICKETS.name, len(rows)),
        )
        ids = [int(tid) for (tid,) in self._cursor.fetchall()]
        columns = ("id", *COLUMNS)
        new = [(tid, *row) for tid, row in zip(ids, rows, strict=True)]
        self._send(self._rows, TICKETS.name, columns, self._prepared(TICKETS.name, columns, new))
        return ids

    def _rewrite(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        data: _CopyData | None = None,
    ) -> None:
        """Set ``columns`` of ``table``'s rows by id; each row is its values, then its id
        (``data``: the same rows as binary COPY data, already built)."""
        if self.method in ("copy", "copy_text"):
            stage = f"paneglass_ingest_{table}"  # the session's own, emptied at every commit
            self._cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {_names((*columns, 'id'))} FROM {table} WITH NO DATA"
            )
            self._copy(stage, (*columns, "id"), rows if data is None else data, table)
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
        self._send(
            self._rewrite,
            TICKETS.name,
            _REWRITTEN,
            values,
            self._staged(TICKETS.name, _REWRITTEN, values),
        )

    def touch_tickets(self, ids: Sequence[int], now: Any) -> None:
        self._send(
            self._cursor.execute,
            f"UPDATE {TICKETS.name} SET last_seen_at = %s WHERE id = {ANY_IDS}",
            (now, _ids(ids)),
        )

    def describe_tickets(self, described: Sequence[tuple[int, str]]) -> None:
        self._send(
            self._cursor.execute,
            f"UPDATE {TICKETS.name} AS t SET description = p.description "
            "FROM unnest(%s::int[], %s::text[]) AS p(id, description) "
            "WHERE t.id = p.id AND t.description IS DISTINCT FROM p.description",
            ([tid for tid, _ in described], [text for _, text in described]),
        )

    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if self._prefetched:
            prefetched = self._prefetched
            self._events += [
                row for row in rows if row[0] in prefetched and row[1] in _HISTORY_FIELD_SET
            ]
        self._send(
            self._rows,
            EVENTS.name,
            _EVENT_COLUMNS,
            self._prepared(EVENTS.name, _EVENT_COLUMNS, rows),
        )

    # -- clocks --------------------------------------------------------------------------------

    def _read_status_events(self, ids: str) -> list[tuple[Any, ...]]:
        names = ", ".join(f"'{name}'" for name in _HISTORY_FIELDS)
        self._cursor.execute(
            "SELECT ticket_id, field_name, old_value, new_value, vendor_time, seen_at "
            f"FROM {EVENTS.name} WHERE ticket_id = {ANY_IDS} AND field_name IN ({names}) "
            "ORDER BY id",
            (ids,),
        )
        return [tuple(row) for row in self._cursor.fetchall()]

    def status_events(
        self, ticket_ids: Sequence[int]
    ) -> Iterable[tuple[int, str, str | None, str | None, Any, Any]]:
        prefetched = self._prefetched
        if prefetched is not None and prefetched.issuperset(ticket_ids):
            # Stored events by id, then the page's own, which take higher ids in the order
            # sent: the order of the query's ``ORDER BY id``.
            wanted = set(ticket_ids)
            return [row for row in self._events if row[0] in wanted]
        self._drain()
        return self._read_status_events(_ids(ticket_ids))

    def _read_clocks(self, ids: str) -> dict[tuple[int, str, int], StoredClock]:
        self._cursor.execute(
            f"SELECT ticket_id, metric, cycle, id, state, due_at, breach_at FROM {CLOCKS.name} "
            f"WHERE ticket_id = {ANY_IDS}",
            (ids,),
        )
        return {(t, m, c): StoredClock(*rest) for t, m, c, *rest in self._cursor.fetchall()}

    def stored_clocks(self, ticket_ids: Sequence[int]) -> dict[tuple[int, str, int], StoredClock]:
        clocks, prefetched = self._clocks, self._prefetched
        if clocks is not None and prefetched is not None and prefetched.issuperset(ticket_ids):
            wanted = set(ticket_ids)
            return {key: clock for key, clock in clocks.items() if key[0] in wanted}
        self._drain()
        return self._read_clocks(_ids(ticket_ids))

    def write_clocks(
        self,
        inserted: Sequence[tuple[Any, ...]],
        updated: Sequence[tuple[Any, ...]],
        moved: Sequence[bool],
        deleted: Sequence[int],
    ) -> None:
        # The prefetched clocks are stale once these land (a later page prefetches again).
        self._prefetched, self._clocks, self._events = None, None, []
        if deleted:
            self._send(
                self._cursor.execute,
                f"DELETE FROM {CLOCKS.name} WHERE id = {ANY_IDS}",
                (_ids(deleted),),
            )
        if updated:
            rewritten = [_CLOCK_REWRITTEN_OF(r) for r in updated]
            staged = self._staged(CLOCKS.name, _CLOCK_REWRITTEN, rewritten)
            self._send(self._rewrite, CLOCKS.name, _CLOCK_REWRITTEN, rewritten, staged)
        if inserted:
            prepared = self._prepared(CLOCKS.name, CLOCK_COLUMNS, inserted)
            self._send(self._rows, CLOCKS.name, CLOCK_COLUMNS, prepared)

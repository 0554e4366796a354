"""How a page's rows go into SQLite: pre-built tuples through the driver's executemany.

The page's transaction is the caller's (``BEGIN IMMEDIATE``: this process is
the only writer until it commits), so what it reads stays true until then:

* datetimes are stored as SQLAlchemy stores them for a UTC column (naive UTC
  text, ``YYYY-MM-DD HH:MM:SS.ffffff``), built once per value, compared as
  text;
* new tickets get their ids here (the next free ones, in page order), so no
  second read finds them;
* a rewritten ticket's UPDATE sets only those indexed columns whose value
  moved (every other column is set unconditionally): SQLite rewrites the
  entries of every index whose column is named in SET, changed or not, and
  most moves touch two or three of the ticket's eleven indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, PrimaryKeyConstraint, Table, UniqueConstraint

from paneglass.store.ingest_clocks import CLOCK_COLUMNS, StoredClock
from paneglass.store.ingest_rows import COLUMNS, COMPARED, KEPT_WHEN_NONE
from paneglass.store.tables import CLOCKS, EVENTS, TICKETS

__all__ = ["SqliteWriter", "stamp"]

_CHUNK = 500
"""Ids per ``IN (…)`` list (far below SQLite's 32,766 parameters)."""


_DAYS: dict[int, str] = {}
"""``YYYY-MM-DD `` per day ordinal, made once."""
_MINUTES = [f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60)]
_SECONDS = [f"{second:02d}" for second in range(60)]


def stamp(value: datetime | None) -> str | None:
    """A UTC datetime as text, exactly as :class:`~paneglass.store.schema.UTCDateTime` stores it
    (``value.isoformat(" ", "microseconds")`` in UTC, without the offset: the same text,
    built from parts at half the cost; ingest stamps every datetime it writes)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    ordinal = value.toordinal()
    day = _DAYS.get(ordinal)
    if day is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        day = _DAYS[ordinal] = value.date().isoformat() + " "
    return (
        f"{day}{_MINUTES[value.hour * 60 + value.minute]}{_SECONDS[value.second]}"
        f".{str(value.microsecond + 1_000_000)[1:]}"
    )


def unstamp(value: Any) -> datetime | None:
    """Stored text back as an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _indexed(table: Table) -> frozenset[str]:
    names = {column.name for index in table.indexes for column in index.columns}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint):
            names.update(column.name for column in constraint.columns)
    return frozenset(names)


_AT = {name: i for i, name in enumerate(COLUMNS)}
_KEPT = {"vendor_id", "external_id", "first_seen_at"}
"""Never rewritten: the ticket's identity, and when paneglass first saw it."""
_INDEXED = _indexed(TICKETS)
_ALWAYS = tuple(c for c in COLUMNS if c not in _KEPT and (c not in _INDEXED or c not in COMPARED))
"""Set on every rewrite: unindexed columns, and indexed ones a page is not compared on."""
_WHEN_MOVED = tuple(c for c in COMPARED if c in _INDEXED and c not in _KEPT)
"""Set only when their value moved."""
_WHEN_MOVED_SET = frozenset(_WHEN_MOVED)
_CLOCK_REWRITTEN = tuple(
    c for c in CLOCK_COLUMNS if c not in ("ticket_id", "metric", "cycle", "state", "due_at")
)
"""A stored clock's columns set on every rewrite (its key never moves; state and due time,
indexed, only when they do)."""


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


class SqliteWriter:
    """The page's reads and writes on the connection's own sqlite3 cursor."""

    stamp = staticmethod(stamp)
    unstamp = staticmethod(unstamp)

    def __init__(self, conn: Connection) -> None:
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (values of ``columns``, stored form) into ``table``: one executemany."""
        self._cursor.executemany(
            f"INSERT INTO {table} ({_names(columns)}) VALUES ({_marks(len(columns))})", rows
        )

    # -- tickets ------------------------------------------------------------------------------

    def existing(self, vendor_id: int, external_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        head = (
            f"SELECT external_id, id, {_names(COMPARED)} FROM {TICKETS.name} "
            "WHERE vendor_id = ? AND external_id IN "
        )
        for chunk in _chunks(external_ids):
            self._cursor.execute(f"{head}({_marks(len(chunk))})", (vendor_id, *chunk))
            found.update((row[0], row[1:]) for row in self._cursor.fetchall())
        return found

    def insert_tickets(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        self._cursor.execute(f"SELECT coalesce(max(id), 0) FROM {TICKETS.name}")
        row = self._cursor.fetchone()
        assert row is not None  # max() always answers one row
        first = int(row[0]) + 1
        ids = list(range(first, first + len(rows)))
        self._cursor.executemany(
            f"INSERT INTO {TICKETS.name} (id, {_names(COLUMNS)}) "
            f"VALUES ({_marks(1 + len(COLUMNS))})",
            [(tid, *row) for tid, row in zip(ids, rows, strict=True)],
        )
        return ids

    def update_tickets(
        self, rows: Sequence[tuple[Any, ...]], ids: Sequence[int], moved: Sequence[frozenset[str]]
    ) -> None:
        by_columns: dict[frozenset[str], list[tuple[Any, ...]]] = {}
        for row, tid, changed in zip(rows, ids, moved, strict=True):
            by_columns.setdefault(changed & _WHEN_MOVED_SET, []).append((*row, tid))
        for changed, group in by_columns.items():
            columns = _ALWAYS + tuple(c for c in _WHEN_MOVED if c in changed)
            assignments = ", ".join(
                f'"{c}" = coalesce(?, "{c}")' if c in KEPT_WHEN_NONE else f'"{c}" = ?'
                for c in columns
            )
            pick = itemgetter(*(_AT[c] for c in columns), len(COLUMNS))  # ..., and the id
            self._cursor.executemany(
                f"UPDATE {TICKETS.name} SET {assignments} WHERE id = ?", [pick(r) for r in group]
            )

    def touch_tickets(self, ids: Sequence[int], now: Any) -> None:
        for chunk in _chunks(ids):
            self._cursor.execute(
                f"UPDATE {TICKETS.name} SET last_seen_at = ? WHERE id IN ({_marks(len(chunk))})",
                (now, *chunk),
            )

    def describe_tickets(self, described: Sequence[tuple[int, str]]) -> None:
        self._cursor.executemany(
            f"UPDATE {TICKETS.name} SET description = ? WHERE id = ? AND description IS NOT ?",
            [(text, tid, text) for tid, text in described],
        )

    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._cursor.executemany(
            f"INSERT INTO {EVENTS.name} "
            "(ticket_id, field_name, old_value, new_value, vendor_time, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- clocks --------------------------------------------------------------------------------

    def status_events(
        self, ticket_ids: Sequence[int]
    ) -> Iterator[tuple[int, str, str | None, str | None, Any, Any]]:
        for chunk in _chunks(ticket_ids):
            self._cursor.execute(
                "SELECT ticket_id, field_name, old_value, new_value, vendor_time, seen_at "
                f"FROM {EVENTS.name} WHERE ticket_id IN ({_marks(len(chunk))}) "
                "AND field_name IN ('created', 'status', 'raw_status', 'priority', 'group_name') "
                "ORDER BY id",
                tuple(chunk),
            )
            yield from self._cursor.fetchall()

    def stored_clocks(self, ticket_ids: Sequence[int]) -> dict[tuple[int, str, int], StoredClock]:
        found: dict[tuple[int, str, int], StoredClock] = {}
        for chunk in _chunks(ticket_ids):
            self._cursor.execute(
                f"SELECT ticket_id, metric, cycle, id, state, due_at, breach_at FROM {CLOCKS.name} "
                f"WHERE ticket_id IN ({_marks(len(chunk))})",
                tuple(chunk),
            )
            found.update(
                ((t, m, c), StoredClock(*rest)) for t, m, c, *rest in self._cursor.fetchall()
            )
        return found

    def write_clocks(
        self,
        inserted: Sequence[tuple[Any, ...]],
        updated: Sequence[tuple[Any, ...]],
        moved: Sequence[bool],
        deleted: Sequence[int],
    ) -> None:
        for chunk in _chunks(deleted):
            self._cursor.execute(
                f"DELETE FROM {CLOCKS.name} WHERE id IN ({_marks(len(chunk))})", tuple(chunk)
            )
        for indexed in (False, True):  # the indexed state and due time only where they moved
            group = [row for row, flag in zip(updated, moved, strict=True) if flag is indexed]
            if group:
                columns = _CLOCK_REWRITTEN + (("state", "due_at") if indexed else ())
                pick = itemgetter(*(1 + CLOCK_COLUMNS.index(c) for c in columns), 0)
                assignments = ", ".join(f'"{c}" = ?' for c in columns)
                self._cursor.executemany(
                    f"UPDATE {CLOCKS.name} SET {assignments} WHERE id = ?",
                    [pick(row) for row in group],
                )
        if inserted:
            self._cursor.executemany(
                f"INSERT INTO {CLOCKS.name} ({_names(CLOCK_COLUMNS)}) "
                f"VALUES ({_marks(len(CLOCK_COLUMNS))})",
                inserted,
            )

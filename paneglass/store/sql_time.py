"""Time arithmetic in SQL that reads the same on SQLite and PostgreSQL.

SQLite keeps UTC datetimes as text and subtracts them with ``julianday``;
PostgreSQL subtracts timestamps into intervals. Scorecards need seconds
between two instants and the earlier or later of several, inside aggregates,
so each is one SQL function compiled per dialect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement, GenericFunction

from paneglass.store.column_types import UTCDateTime

__all__ = ["greatest", "least", "seconds_between"]


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds (a float)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


class greatest(GenericFunction[Any]):
    """The latest (largest) of its arguments; none may be NULL (SQLite would return NULL)."""

    type = UTCDateTime()
    inherit_cache = True


class least(GenericFunction[Any]):
    """The earliest (smallest) of its arguments; none may be NULL."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "postgresql")
def _greatest_postgresql(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(least, "postgresql")
def _least_postgresql(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"

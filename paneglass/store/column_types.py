"""Column types and SQL words shared by the schema's models and the run-time tables.

Kept apart from :mod:`paneglass.store.schema` so that the tables the queries use
(:mod:`paneglass.store.tables`) need neither SQLModel nor pydantic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["DONE_CHANGES", "STATUS_TIMES", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


STATUS_TIMES = "field_name IN ('created', 'status')"
"""The rows of the partial index ``ix_event_status_time`` (migration 0005 on both dialects)."""

DONE_CHANGES = (
    "field_name IN ('created', 'status') "
    "AND (new_value IN ('resolved', 'closed') OR old_value IN ('resolved', 'closed'))"
)
"""The rows of ``ix_event_done_time`` (migration 0008): changes into or out of resolved or
closed, about one status event in ten; a query names them in these very words (SQLite uses
a partial index only when the query repeats its condition)."""

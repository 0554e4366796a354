"""Noticing another process's commits without polling the tables.

* SQLite: ``PRAGMA data_version`` changes when any *other* connection commits;
  reading it costs microseconds, so a viewer asks once a second on one
  dedicated connection and re-queries only when it moved.
* PostgreSQL: the writer sends ``NOTIFY paneglass`` inside each batch's
  transaction (delivered on commit); a viewer ``LISTEN``s on one dedicated
  connection and drains what arrived, without a query.
"""

from __future__ import annotations

import sqlite3
from typing import Protocol

from sqlalchemy.engine import make_url

from paneglass.store.engine import sqlite_path

__all__ = ["CHANNEL", "ChangeWatcher", "watcher_for"]

CHANNEL = "paneglass"


class ChangeWatcher(Protocol):
    """Tells whether the database changed since the last call."""

    def changed(self) -> bool: ...
    def close(self) -> None: ...


class SqliteWatcher:
    """``PRAGMA data_version`` on a dedicated read-only connection."""

    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        assert path is not None
        self._connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )
        self._version = self._read()

    def _read(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """True once per batch of foreign commits."""
        version = self._read()
        if version == self._version:
            return False
        self._version = version
        return True

    def close(self) -> None:
        """Close the watching connection."""
        self._connection.close()


class PostgresWatcher:
    """``LISTEN paneglass`` on a dedicated autocommit connection."""

    def __init__(self, url: str) -> None:
        import psycopg

        parsed = make_url(url).set(drivername="postgresql")
        self._connection = psycopg.connect(
            parsed.render_as_string(hide_password=False), autocommit=True
        )
        self._connection.execute(f"LISTEN {CHANNEL}")

    def changed(self) -> bool:
        """True when at least one notice arrived since the last call."""
        return any(True for _ in self._connection.notifies(timeout=0, stop_after=1000))

    def close(self) -> None:
        """Close the listening connection."""
        self._connection.close()


def watcher_for(url: str) -> ChangeWatcher | None:
    """The right watcher for the database behind ``url`` (``None`` for in-memory SQLite)."""
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresWatcher(url)
    path = sqlite_path(url)
    if path is None or not path.exists():
        return None
    return SqliteWatcher(url)

"""Noticing another process's commits without polling the tables.

SQLite's ``PRAGMA data_version`` changes when any *other* connection commits;
reading it costs microseconds, so a viewer asks once a second on one
dedicated connection and re-queries only when it moved.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["ChangeWatcher"]


class ChangeWatcher:
    """Tells whether the database changed since the last call (SQLite file)."""

    def __init__(self, path: Path) -> None:
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

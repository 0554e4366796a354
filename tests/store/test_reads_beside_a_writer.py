"""A read never waits for SQLite's write lock, even on a store opened as a writer.

The console opens its store as a writer (it may collect). Its start-up check
for another collector once ran inside ``BEGIN IMMEDIATE`` and so queued behind
any other writer: the demo's history replay held the lock longer than the busy
timeout and the console failed with "database is locked".
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from paneglass.store import Store


def test_the_collector_check_reads_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    holder = Store(url)
    console = Store(url)
    try:
        with holder.engine.begin() as busy:  # BEGIN IMMEDIATE: the write lock, held
            busy.execute(text("SELECT 1"))
            # Waiting for the lock would take the whole busy timeout (10 s), then fail
            # with "database is locked".
            owner = console.live_collector(datetime.now(UTC), stale_after=30.0)
            version = console.data_version()
        assert owner is None
        assert version is not None
    finally:
        console.close()
        holder.close()

"""A writer store's reads never queue for SQLite's write lock.

The console's store is a writer (its collector writes through it), and its
screens read through the same store. A read used to open ``BEGIN IMMEDIATE``
like a write, so every count and window of the first frame, and every refresh
during a long sync, waited for the collector's open transaction (or for
another process's writer) before it could read the last commit.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from paneglass.store import Store, TicketQuery
from paneglass.store.engine import sqlite_path


def test_a_read_goes_on_while_another_connection_holds_the_write_lock(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'reads.db'}")
    path = sqlite_path(store.url)
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a collector's page, half written
    answers: list[object] = []
    reader = threading.Thread(
        target=lambda: answers.extend(
            [store.ticket_count(TicketQuery()), store.vendor_health(), store.load_cursor("x")]
        )
    )
    try:
        reader.start()
        reader.join(timeout=5.0)  # the busy timeout is 10 s: a queued read would still wait
        assert not reader.is_alive(), "the reads waited for the write lock"
        assert answers == [0, [], None]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        reader.join()
        store.close()

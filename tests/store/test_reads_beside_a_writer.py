"""A read never waits for SQLite's write lock, even on a store opened as a writer.

The console opens its store as a writer (it may collect). Its start-up check
for another collector once ran inside ``BEGIN IMMEDIATE`` and so queued behind
any other writer: the demo's history replay held the lock longer than the busy
timeout and the console failed with "database is locked".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
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


def _page(n: int) -> PollResult:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    record = TicketRecord(
        f"r{n}", f"R-{n}", f"replayed {n}", TicketStatus.OPEN, "open", Priority.P3, "3", now, now
    )
    return PollResult(tickets=(record,))


def test_a_replay_stands_aside_for_a_writer_waiting_for_the_lock(tmp_path: Path) -> None:
    """The demo's console collects beside the history replay in the same process. SQLite's
    busy wait is no queue: a replay that began again at once after each commit starved the
    collector until it failed with "database is locked". The replay now lets it go first."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    replayer, collector = Store(url), Store(url)
    names = [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in "ab"]
    replayer.sync_vendors(names)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    collected = threading.Event()
    seen_at_second_commit: list[bool] = []

    def collect() -> None:
        collector.apply("b", _page(100_000), None, at)
        collected.set()

    def steps() -> Iterator[tuple[str, PollResult, datetime]]:
        # Pulled inside the replay's first transaction: the write lock is held.
        writer = threading.Thread(target=collect)
        writer.start()
        time.sleep(0.5)  # the collector now waits in SQLite's busy handler
        yield "a", _page(0), at
        # Pulled inside the second transaction: the collector must have had its turn.
        seen_at_second_commit.append(collected.is_set())
        yield "a", _page(1), at
        writer.join()

    try:
        assert replayer.replay(steps(), per_commit=1) == 2
    finally:
        collector.close()
        replayer.close()
    assert seen_at_second_commit == [True], "the replay took the lock again before the writer"
    assert collector_count(url) == 1


def collector_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM ticket WHERE key LIKE 'R-1_____'"))
        value = int(count.scalar_one())
    engine.dispose()
    return value

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.store import Store
from paneglass.store import engine as engine_module


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


def test_a_writer_beside_a_long_replay_gets_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's console collects beside the history replay in the same process: the replay
    stands aside between commits while it waits (SQLite's busy wait alone starved it)."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 100)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    replayer, collector = Store(url), Store(url)
    names = [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in "ab"]
    replayer.sync_vendors(names)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    done = threading.Event()

    def steps() -> Iterator[tuple[str, PollResult, datetime]]:
        for n in range(5000):
            if done.is_set():
                return
            yield "a", _page(n), at + timedelta(seconds=n)

    replay = threading.Thread(target=replayer.replay, args=(steps(),), kwargs={"per_commit": 10})
    try:
        replay.start()
        written = 0
        while replay.is_alive() and written < 100:
            collector.apply("b", _page(100_000 + written), None, at)  # raised "database is locked"
            written += 1
            time.sleep(0.02)  # a collector writes a page, then waits for the vendor
        assert written == 100, "the replay ended before the writer had its turns"
    finally:
        done.set()
        replay.join()
        collector.close()
        replayer.close()
    assert collector_count(url) == 100


def collector_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM ticket WHERE key LIKE 'R-1_____'"))
        value = int(count.scalar_one())
    engine.dispose()
    return value

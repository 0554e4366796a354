"""The notifier's sweep holds a batch of clocks, never the tenant's.

A first sync of a large tenant finds most of its year-old open tickets breached:
the first clock sweep after it used to read every such clock and build every
notification at once (16,575 clocks, +34 MB of the collector's peak RSS for one
Jira vendor of 30,000 requests). The sweep now reads and records them in batches
of :data:`~paneglass.collect.notifier.CLOCK_BATCH`: its Python peak is the same for
a tenant 6 times larger, and every clock is still recorded once, as the backlog.
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.collect import notifier as notifier_module
from paneglass.collect.notifier import Notifier
from paneglass.notify.rules import NotifySettings
from paneglass.store import PollRunInfo, Store
from paneglass.store.tables import NOTIFICATIONS

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
VENDOR = VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")
BATCH = 200


async def write(fn: Any, *args: Any) -> Any:
    return fn(*args)


def backlog(path: Path, count: int) -> Store:
    """A store whose vendor's first sync brought ``count`` open P3s, all long breached."""
    store = Store(f"sqlite:///{path}")
    store.sync_vendors([VENDOR])
    synced = NOW - timedelta(minutes=1)
    tickets = tuple(
        TicketRecord(
            external_id=str(n),
            key=f"INC{n:07d}",
            title=f"Benchmark ticket {n}: printer queue stuck on floor {n % 12}",
            status=TicketStatus.OPEN,
            raw_status="In Progress",
            priority=Priority.P3,
            raw_priority="3",
            created_at=NOW - timedelta(days=30 + n % 300),
            updated_at=NOW - timedelta(days=30),
        )
        for n in range(count)
    )
    store.apply("hosting", PollResult(tickets=tickets), PollRunInfo(synced, synced, True), synced)
    return store


async def first_sweep_peak(path: Path, count: int) -> tuple[int, Store]:
    """The Python heap's peak above its level before the first sweep, in bytes."""
    store = backlog(path, count)
    notifier = Notifier(store, NotifySettings(), write, lambda: NOW, vendors=[VENDOR])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await notifier.sweep()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, store


async def test_the_first_sweep_of_a_large_backlog_is_bounded_by_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "CLOCK_BATCH", BATCH, raising=False)
    await first_sweep_peak(tmp_path / "warm.db", 10)  # queries compiled, modules imported
    small, _ = await first_sweep_peak(tmp_path / "small.db", 2 * BATCH)
    large, store = await first_sweep_peak(tmp_path / "large.db", 12 * BATCH)
    # Holding every clock costs about 2 kB of Python objects each (some 4 MB more here, without
    # the batches).
    assert large - small < 1_000_000, (small, large)
    with store.engine.connect() as conn:
        rows = conn.execute(select(NOTIFICATIONS.c.event, NOTIFICATIONS.c.state)).all()
    assert len(rows) == 12 * BATCH, len(rows)  # each ticket's breached clock, once
    assert set(rows) == {("sla-breached", "baseline")}
    assert await Notifier(store, NotifySettings(), write, lambda: NOW).sweep() == 0


async def test_a_sweep_cut_between_batches_leaves_the_rest_to_the_next_as_the_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "CLOCK_BATCH", BATCH)
    store = backlog(tmp_path / "cut.db", 3 * BATCH)
    calls = 0

    async def dies_on_the_second_batch(fn: Any, *args: Any) -> Any:
        nonlocal calls
        if fn == store.record_notifications:
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt  # the collector killed mid-sweep
        return fn(*args)

    cut = Notifier(store, NotifySettings(), dies_on_the_second_batch, lambda: NOW)
    with pytest.raises(KeyboardInterrupt):
        await cut.sweep()
    later = NOW + timedelta(minutes=1)
    assert await Notifier(store, NotifySettings(), write, lambda: later).sweep() == 2 * BATCH
    with store.engine.connect() as conn:
        rows = conn.execute(select(NOTIFICATIONS.c.state)).all()
    assert rows == [("baseline",)] * 3 * BATCH  # the backlog, never news


def test_a_batch_walks_the_clocks_in_id_order_without_reading_every_running_clock(
    tmp_path: Path,
) -> None:
    """A batch reads from ``after`` on, in the primary key's order: no sort of every running
    clock per batch (that made the first sweep of a large tenant quadratic)."""
    store = backlog(tmp_path / "plan.db", 50)
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "slaclock" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", keep)
    batch, last = store.clock_candidates(NOW, 0, 20)
    event.remove(store.engine, "before_cursor_execute", keep)
    assert len(batch) == 20 and last > 0
    (statement, parameters), *_ = statements
    with store.engine.connect() as conn:
        plan = " | ".join(
            row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "SEARCH slaclock USING INTEGER PRIMARY KEY (rowid>?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan

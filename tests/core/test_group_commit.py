"""Group commit: pages that wait for the writer together share one commit, each with its
own cursor and its own result; a bad page fails only its own vendor."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.collect.group_commit import GroupCommit, Write
from paneglass.store import Store
from paneglass.store.tables import TICKETS

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
VENDORS = [VendorConfig(name, "servicenow", "http://127.0.0.1:9") for name in ("a", "b", "c")]


def page(vendor: str, count: int) -> PollResult:
    tickets = tuple(
        TicketRecord(
            external_id=f"{vendor}{n}",
            key=f"{vendor.upper()}-{n}",
            title=f"Ticket {n} of {vendor}",
            status=TicketStatus.OPEN,
            raw_status="open",
            priority=Priority.P3,
            raw_priority="3",
            created_at=NOW - timedelta(hours=n + 1),
            updated_at=NOW - timedelta(minutes=n + 1),
        )
        for n in range(count)
    )
    return PollResult(tickets=tickets, cursor={"after": f"{vendor}-{count}"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'group.db'}")
    store.sync_vendors(VENDORS)
    yield store
    store.close()


@pytest.fixture
def writer() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=1)
    yield executor
    executor.shutdown(wait=True)


@pytest.fixture
def write(writer: ThreadPoolExecutor) -> Write:
    """Runs a store call in the one writer thread, as the collector does."""

    async def run(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(writer, fn, *args)

    return run


def tickets_of(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TICKETS)).scalar_one())


async def test_pages_that_wait_together_share_one_commit_each_with_its_own_cursor(
    store: Store, write: Write
) -> None:
    group = GroupCommit(store, write)
    changes = await asyncio.gather(
        *(group.apply(v.name, page(v.name, 3 + i), NOW) for i, v in enumerate(VENDORS))
    )
    assert group.commits == 1
    assert [c.vendor for c in changes] == ["a", "b", "c"]
    assert [c.added for c in changes] == [3, 4, 5]
    assert tickets_of(store) == 12
    assert [store.load_cursor(v.name) for v in VENDORS] == [
        {"after": "a-3"},
        {"after": "b-4"},
        {"after": "c-5"},
    ]
    # Alone, a page is applied at once in its own commit.
    assert (await group.apply("a", page("a", 4), NOW)).added == 1
    assert group.commits == 2


async def test_a_bad_page_in_a_shared_commit_fails_only_its_own_vendor(
    store: Store, write: Write
) -> None:
    group = GroupCommit(store, write)
    results = await asyncio.gather(
        group.apply("a", page("a", 2), NOW),
        group.apply("ghost", page("ghost", 2), NOW),  # not a configured vendor: the store refuses
        group.apply("b", page("b", 3), NOW),
        return_exceptions=True,
    )
    assert isinstance(results[1], KeyError) and "ghost" in str(results[1])
    assert [r.added for r in (results[0], results[2])] == [2, 3]  # type: ignore[union-attr]
    assert tickets_of(store) == 5
    assert store.load_cursor("a") == {"after": "a-2"}
    assert store.load_cursor("b") == {"after": "b-3"}
    assert group.commits == 1 + 3  # the shared attempt, rolled back; then one by one

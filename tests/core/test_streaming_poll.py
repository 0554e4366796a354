"""The collector streams a poll page by page, against a real emulator over loopback.

* A poll that fails on a later page keeps every page committed before it, and
  the next poll resumes from the last checkpoint instead of starting over.
* A poll is never cut short while pages keep arriving, however long it runs;
  a poll that stops delivering pages is cancelled after ``stall_seconds``.
* Progress reaches ``on_progress`` and the Vendors pane's view of the vendor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest

from connectors import VendorConfig
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.records import PollResult, Priority, Progress, TicketRecord, TicketStatus
from paneglass.collect import Collector
from paneglass.store import ChangeSet, Store, TicketQuery

INCIDENTS = "/api/now/table/incident"
NOW = datetime.now(UTC)


class FaultyServiceNow(ServiceNowEmulator):
    """Answers the n-th page of incidents with a fault (and counts the rows it served).

    Only pages count, not the one-row reads the connector makes for totals.
    """

    def __init__(self, *, fail_page: int | None = None, fault: Reply | None = None, **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.fail_page = fail_page
        self.fault = fault or Reply(500, {"error": {"message": "boom"}})
        self.pages = 0
        self.served = 0

    def route(self, request: Request) -> Reply:
        if request.path == INCIDENTS and request.param("sysparm_limit") != "1":
            self.pages += 1
            if self.pages == self.fail_page:
                return self.fault
        reply = super().route(request)
        if request.path == INCIDENTS and isinstance(reply.body, dict):
            self.served += len(reply.body.get("result") or ())
        return reply


def _tickets(count: int) -> Iterator[WorldTicket]:
    for n in range(count):
        at = NOW - timedelta(days=90, minutes=n)
        yield WorldTicket(f"t{n}", f"ticket {n}", TicketStatus.OPEN, Priority.P3, at, at)


def _vendor(emulator: ServiceNowEmulator) -> VendorConfig:
    settings = emulator.vendor_settings()
    settings.pop("kind")
    return VendorConfig(
        name="hosting",
        kind="servicenow",
        base_url=emulator.base_url,
        poll_interval=60,
        settings={**settings, "page_size": 100, "conversations": False},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'stream.db'}")
    yield s
    s.close()


async def test_a_failed_page_keeps_the_pages_before_it_and_the_next_poll_resumes(
    store: Store,
) -> None:
    with FaultyServiceNow(fail_page=4) as emulator:
        emulator.put_tickets(_tickets(1_000))
        collector = Collector(store, [_vendor(emulator)])
        failed = await collector.poll_once("hosting")
        assert not failed.ok and "500" in (failed.error or "")
        kept = store.ticket_count(TicketQuery())
        assert kept == 300, "the three pages before the failure must stay committed"
        (health,) = store.vendor_health()
        assert (health.sync_phase, health.sync_done, health.sync_total) == ("backfill", 300, 1000)
        collector.gates["hosting"].not_before = 0.0  # skip the backoff; resuming is the point
        done = await collector.poll_once("hosting")
        await collector.aclose()
    assert done.ok, done.error
    assert store.ticket_count(TicketQuery()) == 1_000
    # Resumed after the third page: 300 + 700 rows, not 300 + 1,000.
    assert emulator.served < 1_100, emulator.served


async def test_a_long_poll_that_keeps_delivering_pages_is_not_cut_short(store: Store) -> None:
    progress: list[Progress] = []
    with FaultyServiceNow(latency=0.15) as emulator:
        emulator.put_tickets(_tickets(1_200))
        collector = Collector(
            store,
            [_vendor(emulator)],
            stall_seconds=2.0,
            on_progress=lambda _vendor, p: progress.append(p),
        )
        started = datetime.now(UTC)
        outcome = await collector.poll_once("hosting")
        took = (datetime.now(UTC) - started).total_seconds()
        await collector.aclose()
    assert outcome.ok, outcome.error
    assert took > 2.0, "the poll was meant to outlast stall_seconds: make it longer"
    assert store.ticket_count(TicketQuery()) == 1_200
    backfill = [p.done for p in progress if p.phase == "backfill"]
    assert backfill == sorted(backfill) and backfill[-1] == 1_200
    assert any(p.total == 1_200 for p in progress), "ServiceNow says how many: X-Total-Count"


async def test_a_poll_without_new_pages_is_cancelled_after_stall_seconds(store: Store) -> None:
    # stall_seconds leaves a loaded machine room to fetch and apply the first pages; the
    # stuck page waits far longer than that.
    stuck = Reply(200, {"result": []}, delay=30.0)
    with FaultyServiceNow(fail_page=3, fault=stuck) as emulator:
        emulator.put_tickets(_tickets(500))
        collector = Collector(store, [_vendor(emulator)], stall_seconds=5.0)
        outcome = await collector.poll_once("hosting")
        await collector.aclose()
    assert not outcome.ok
    assert "no page for 5 s" in (outcome.error or "")
    # The connector reads one page ahead: the first page is handed on (and stays) once the
    # second has arrived; the stuck third never comes.
    assert store.ticket_count(TicketQuery()) == 100


class CountedPages:
    """A connector's page stream that notes how many pages have been asked for."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked = 0
        self.client = httpx2.AsyncClient()

    async def pages(self, cursor: object) -> AsyncIterator[PollResult]:
        for n in range(self.count):
            self.asked += 1
            await asyncio.sleep(0.01)  # the vendor's answer on its way
            yield PollResult(tickets=(_ticket(n),), cursor={"page": n})


def _ticket(n: int) -> TicketRecord:
    at = NOW - timedelta(days=1, minutes=n)
    return TicketRecord(
        external_id=f"p{n}",
        key=f"P-{n}",
        title=f"page {n}",
        status=TicketStatus.OPEN,
        raw_status="open",
        priority=Priority.P3,
        raw_priority="3",
        created_at=at,
        updated_at=at,
    )


async def test_the_next_page_is_on_its_way_while_this_one_commits(store: Store) -> None:
    """A vendor 50 ms away waits for the network and the writer at once, not in turn."""
    asked_during_commit: list[int] = []
    stream = CountedPages(3)
    vendor = VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")
    collector = Collector(store, [vendor])
    collector._connectors["hosting"] = stream  # type: ignore[assignment]
    commit = collector.group_commit.apply

    async def slow_commit(name: str, page: PollResult, now: datetime) -> ChangeSet:
        await asyncio.sleep(0.1)  # the writer busy with other vendors' pages
        asked_during_commit.append(stream.asked)
        return await commit(name, page, now)

    collector.group_commit.apply = slow_commit  # type: ignore[method-assign, assignment]
    outcome = await collector.poll_once("hosting")
    await collector.aclose()
    assert outcome.ok, outcome.error
    # While page n committed, page n + 1 had been asked for (and nothing further).
    assert asked_during_commit == [2, 3, 3]
    assert store.ticket_count(TicketQuery()) == 3
    assert store.load_cursor("hosting") == {"page": 2}

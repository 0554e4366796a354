"""Zendesk's two-phase sync over real HTTP: what the backfill reads, resuming, and hand-over."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.emulators.base import Reply, Request, WorldEntry
from connectors.emulators.zendesk import SEARCH_EXPORT_PATH, SHOW_MANY_PATH, ZendeskEmulator
from connectors.errors import TransientError
from connectors.records import Cursor, PollResult, TicketStatus
from connectors.sync import BACKFILL, INCREMENTAL
from connectors.zendesk import ZendeskConnector
from tests.connectors.test_zendesk import NOW, config_for, connector_for, world

LONG_AGO = NOW - timedelta(days=3)
"""Older than the hand-over overlap: the incremental phase does not re-read these."""


def phase(pages: list[PollResult], name: str) -> list[PollResult]:
    return [p for p in pages if p.progress is not None and p.progress.phase == name]


def keys(pages: list[PollResult]) -> Counter[str]:
    return Counter(t.key for p in pages for t in p.tickets)


def tickets_served(emu: ZendeskEmulator) -> int:
    """Tickets the emulator handed out in full (``show_many`` ids)."""
    return sum(
        len((r.param("ids") or "").split(",")) for r in emu.requests if r.path == SHOW_MANY_PATH
    )


@asynccontextmanager
async def fresh_connector(emu: ZendeskEmulator, **settings: Any) -> AsyncIterator[ZendeskConnector]:
    """A connector as after a restart: nothing cached from an earlier instance."""
    config = config_for(emu, **settings)
    async with ZendeskConnector.make_client(config) as client:
        yield ZendeskConnector(config, client)


async def run(
    zd: ZendeskConnector, cursor: Cursor | None, stop_after: int | None = None
) -> list[PollResult]:
    pages: list[PollResult] = []
    async for page in zd.pages(cursor):
        pages.append(page)
        if stop_after is not None and len(pages) == stop_after:
            break
    return pages


def tenant(emu: ZendeskEmulator) -> set[str]:
    """40 unsolved tickets of every age (some created in the same second), 10 recently
    solved, 10 closed long ago; none changed within the hand-over overlap."""
    wanted: set[str] = set()
    statuses = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
    for i in range(40):
        created = NOW - timedelta(days=700 - i * 17, seconds=i % 3)  # pairs share a second
        ticket = world(f"u{i}", status=statuses[i % 3], created_at=created, updated_at=LONG_AGO)
        wanted.add(emu.put_ticket(ticket))
    for i in range(10):
        ticket = world(
            f"s{i}",
            status=TicketStatus.RESOLVED if i % 2 else TicketStatus.CLOSED,
            created_at=NOW - timedelta(days=90 + i),
            updated_at=NOW - timedelta(days=i + 2),
        )
        wanted.add(emu.put_ticket(ticket))
    for i in range(10):
        emu.put_ticket(
            world(
                f"c{i}",
                status=TicketStatus.CLOSED,
                created_at=NOW - timedelta(days=400),
                updated_at=NOW - timedelta(days=200 + i),
            )
        )
    return wanted


async def test_backfill_reads_old_open_tickets_and_skips_old_closed_ones() -> None:
    with ZendeskEmulator() as emu:
        old = NOW - timedelta(days=400)
        old_open = emu.put_ticket(world("old-open", created_at=old, updated_at=old))
        old_hold = emu.put_ticket(world("old-hold", created_at=old, updated_at=old))
        emu.set_native("old-hold", status="hold", updated_at="2025-01-01T00:00:00Z")
        old_closed = emu.put_ticket(
            world("old-closed", status=TicketStatus.CLOSED, created_at=old, updated_at=old)
        )
        recent = emu.put_ticket(
            world("recent", status=TicketStatus.RESOLVED, created_at=old, updated_at=LONG_AGO)
        )
        async with connector_for(emu, backfill_days=30) as zd:
            pages = await run(zd, None)
    backfill = phase(pages, BACKFILL)
    assert set(keys(backfill)) == {old_open, old_hold, recent}
    assert old_closed not in keys(pages)
    assert backfill[0].progress is not None and backfill[0].progress.total == 3
    assert backfill[-1].progress is not None and backfill[-1].progress.done == 3
    queries = [r.param("query") for r in emu.requests if r.path == SEARCH_EXPORT_PATH]
    since = (datetime.now(UTC) - timedelta(days=30)).timestamp()
    assert queries[0] == "status<solved"
    recent_query = queries[-1] or ""
    assert recent_query.startswith("status>=solved updated>")
    bound = datetime.fromisoformat(recent_query.rsplit(">", 1)[1]).timestamp()
    assert abs(bound - since) < 120


async def test_restart_from_the_last_yielded_cursor_reads_every_ticket_once() -> None:
    with ZendeskEmulator() as emu:
        wanted = tenant(emu)
        async with connector_for(emu, page_size=4, conversations="off") as zd:
            first = await run(zd, None, stop_after=3)
        cursor = first[-1].cursor
        assert cursor is not None and cursor["backfill"]["position"]["stage"] == "open"
        async with fresh_connector(emu, page_size=4, conversations="off") as zd:
            rest = await run(zd, cursor)
    seen = keys(first) + keys(rest)
    assert set(seen) == wanted
    assert set(seen.values()) == {1}, "a ticket was read twice"
    assert tickets_served(emu) < 2 * len(wanted)
    last = phase(rest, BACKFILL)[-1].progress
    assert last is not None and (last.done, last.total) == (len(wanted), len(wanted))
    assert phase(rest, INCREMENTAL) and not keys(phase(rest, INCREMENTAL))


async def test_restart_after_the_search_cursor_expired_continues_from_the_keyset() -> None:
    with ZendeskEmulator() as emu:
        wanted = tenant(emu)
        async with connector_for(emu, page_size=4, conversations="off") as zd:
            first = await run(zd, None, stop_after=5)
        cursor = first[-1].cursor
        assert cursor is not None
        position = cursor["backfill"]["position"]
        position["issued"] = time.time() - 3 * 3600  # the hour-long search cursor is gone
        sent = len(emu.requests)
        async with fresh_connector(emu, page_size=4, conversations="off") as zd:
            rest = await run(zd, cursor)
    restart = next(r for r in emu.requests[sent:] if r.path == SEARCH_EXPORT_PATH)
    assert restart.param("page[after]") is None
    assert restart.param("query") == f"status<solved created<={position['created']}"
    seen = keys(first) + keys(rest)
    assert set(seen) == wanted
    repeated = {key for key, count in seen.items() if count > 1}
    assert len(repeated) <= 2  # only rows of the keyset's own second come back
    assert tickets_served(emu) < 2 * len(wanted)


async def test_a_cursor_the_vendor_refuses_falls_back_to_the_keyset() -> None:
    with ZendeskEmulator() as emu:
        wanted = tenant(emu)
        async with connector_for(emu, page_size=4, conversations="off") as zd:
            first = await run(zd, None, stop_after=2)
        cursor = first[-1].cursor
        assert cursor is not None
        cursor["backfill"]["position"]["after"] = "bm90LWEtY3Vyc29y"  # e.g. the vendor restarted
        async with fresh_connector(emu, page_size=4, conversations="off") as zd:
            rest = await run(zd, cursor)
    assert set(keys(first) + keys(rest)) == wanted


async def test_changes_made_during_the_backfill_reach_the_incremental_phase() -> None:
    with ZendeskEmulator() as emu:
        for i in range(12):
            emu.put_ticket(world(f"t{i}", updated_at=LONG_AGO, created_at=NOW - timedelta(days=i)))
        pages: list[PollResult] = []
        async with connector_for(emu, page_size=3) as zd:
            async for page in zd.pages(None):
                pages.append(page)
                if len(pages) == 1:
                    read = page.tickets[0]
                    ref = f"t{int(read.title.removeprefix('Ticket t'))}"
                    now = datetime.now(UTC)
                    emu.put_ticket(
                        world(
                            ref,
                            title="solved meanwhile",
                            status=TicketStatus.RESOLVED,
                            updated_at=now,
                        )
                    )
                    new_key = emu.put_ticket(world("during", updated_at=now, created_at=now))
                    emu.put_entry(ref, WorldEntry("late", "Kim Lee", "Fixed it meanwhile.", now))
    incremental = phase(pages, INCREMENTAL)
    latest = {t.key: t for p in incremental for t in p.tickets}
    assert latest[read.key].title == "solved meanwhile"
    assert latest[read.key].status is TicketStatus.RESOLVED
    assert new_key in latest
    assert "Fixed it meanwhile." in [e.body for p in incremental for e in p.entries]


class FlakyComments(ZendeskEmulator):
    """Answers the ``fail_on``-th comments request with ``reply`` (once)."""

    def __init__(self, fail_on: int, reply: Reply) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.reply = reply
        self.comment_calls = 0

    def route(self, request: Request) -> Reply:
        if request.path.endswith("/comments.json"):
            self.comment_calls += 1
            if self.comment_calls == self.fail_on:
                return self.reply
        return super().route(request)


async def test_a_short_429_in_the_comment_fan_out_is_waited_out() -> None:
    limited = Reply(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "1"})
    with FlakyComments(fail_on=2, reply=limited) as emu:
        for i in range(4):
            emu.put_ticket(world(f"t{i}", updated_at=LONG_AGO))
            emu.put_entry(f"t{i}", WorldEntry(f"e{i}", "Kim Lee", f"note {i}", LONG_AGO))
        async with connector_for(emu, page_size=2) as zd:
            pages = await run(zd, None)
    assert len(keys(pages)) == 4
    assert sorted(e.body for p in pages for e in p.entries) == [f"note {i}" for i in range(4)]
    assert emu.comment_calls == 5  # one retried


async def test_a_500_in_the_fan_out_fails_the_page_and_a_restart_resumes_after_the_last() -> None:
    failing = Reply(500, {"error": "InternalServerError"})
    with FlakyComments(fail_on=5, reply=failing) as emu:
        wanted = {emu.put_ticket(world(f"t{i}", updated_at=LONG_AGO)) for i in range(9)}
        for i in range(9):
            emu.put_entry(f"t{i}", WorldEntry(f"e{i}", "Kim Lee", f"note {i}", LONG_AGO))
        pages: list[PollResult] = []
        cursor: Cursor | None = None
        failures = 0
        for _ in range(5):  # polls, each by a fresh connector as after a restart
            async with fresh_connector(emu, page_size=3, backfill_comments_per_poll=3) as zd:
                try:
                    async for page in zd.pages(cursor):
                        pages.append(page)
                        cursor = page.cursor
                except TransientError as exc:
                    assert exc.http_status == 500
                    failures += 1
    assert failures == 1  # the second stretch of the walk failed once, then went through
    seen = keys(pages)
    assert set(seen) == wanted and set(seen.values()) == {1}
    notes = Counter(e.body for p in pages for e in p.entries)
    assert set(notes) == {f"note {i}" for i in range(9)}
    assert emu.comment_calls == 12  # nine tickets; the failed stretch of three read again
    assert cursor is not None and cursor["incremental"]["comments"] is None

"""ConnectWise's two phases: every open ticket whatever its age, by keyset, then what changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from connectors.emulators.base import Reply, Request
from connectors.emulators.connectwise import ConnectWiseEmulator
from connectors.records import PollResult, TicketStatus
from tests.connectors.test_connectwise import (
    COUNT,
    NOW,
    TICKETS,
    connector_for,
    ticket_requests,
    world,
)


async def test_backfill_reads_every_open_ticket_whatever_its_age_and_recent_closed_ones() -> None:
    old = NOW - timedelta(days=400)
    with ConnectWiseEmulator() as emu:
        ancient_open = emu.put_ticket(world("ancient", created_at=old, updated_at=old))
        waiting = emu.put_ticket(
            world("waiting", status=TicketStatus.PENDING, created_at=old, updated_at=old)
        )
        # Resolved is a board status a tenant names: not closed yet, so it still counts as open.
        resolved = emu.put_ticket(
            world("resolved", status=TicketStatus.RESOLVED, created_at=old, updated_at=old)
        )
        emu.put_ticket(
            world("old-closed", status=TicketStatus.CLOSED, created_at=old, updated_at=old)
        )
        recent_closed = emu.put_ticket(
            world("recent-closed", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(days=3))
        )
        async with connector_for(emu, backfill_days=7) as cw:
            pages = [page async for page in cw.pages(None)]
    keys = {t.key for page in pages for t in page.tickets}
    assert keys == {ancient_open, waiting, resolved, recent_closed}
    assert pages[0].progress is not None
    assert (pages[0].progress.phase, pages[0].progress.total) == ("backfill", 4)
    assert emu.requests[0].path == COUNT


async def test_a_poll_stopped_after_some_pages_resumes_after_the_last_committed_one() -> None:
    with ConnectWiseEmulator() as emu:
        keys = {emu.put_ticket(world(f"t{i:02}", description=f"About {i}")) for i in range(23)}
        async with connector_for(emu, page_size=5) as cw:
            first: list[PollResult] = []
            async for page in cw.pages(None):
                first.append(page)
                if len(first) == 2:
                    break  # killed here: only these two pages were committed
        saved = first[-1].cursor
        assert saved is not None and saved["backfill"]["position"] == {
            "after": emu.ticket_id("t09")
        }
        assert saved["backfill"]["done"] == 10 and saved["backfill"]["total"] == 23
        emu.requests.clear()
        async with connector_for(emu, page_size=5) as cw:
            rest = [page async for page in cw.pages(saved)]
        resumed = ticket_requests(emu)[0].param("conditions") or ""
        assert resumed.endswith(f" and id > {emu.ticket_id('t09')}")
        assert COUNT not in [r.path for r in emu.requests]  # the total was kept in the cursor

    pages = first + rest
    backfilled = [p for p in pages if p.progress and p.progress.phase == "backfill"]
    seen = Counter(t.key for page in backfilled for t in page.tickets)
    assert set(seen) == keys and set(seen.values()) == {1}  # every ticket exactly once
    assert sum(seen.values()) < 2 * len(keys)
    entries = Counter(e.external_id for page in pages for e in page.entries)
    assert len(entries) == 23 and set(entries.values()) == {1}
    assert all(len(page.tickets) <= 5 for page in pages)  # memory bounded by a page
    backfill = [p for p in rest if p.progress and p.progress.phase == "backfill"]
    assert backfill[-1].progress is not None and backfill[-1].progress.done == 23


class EditsBehindTheKeyset(ConnectWiseEmulator):
    """During the backfill: edits a ticket already read, and opens a new one."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        conditions = request.param("conditions") or ""
        if request.path == TICKETS and " and id > " in conditions and not self.done:
            self.done = True
            now = self.clock()
            self.put_ticket(
                world("t0", title="t0, reassigned", assignee="Ana Ruiz", updated_at=now)
            )
            self.put_ticket(world("new", created_at=now, updated_at=now))
        return reply


async def test_changes_made_during_the_backfill_are_read_by_the_incremental_phase() -> None:
    with EditsBehindTheKeyset() as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}"))
        async with connector_for(emu, page_size=2, read_notes=False) as cw:
            pages = [page async for page in cw.pages(None)]
    incremental = [p for p in pages if p.progress and p.progress.phase == "incremental"]
    changed = {t.key: t for p in incremental for t in p.tickets}
    t0 = changed[f"#{emu.ticket_id('t0')}"]
    assert (t0.title, t0.assignee) == ("t0, reassigned", "Ana Ruiz")
    assert f"#{emu.ticket_id('new')}" in {t.key for p in pages for t in p.tickets}


async def test_an_incremental_window_resumes_mid_walk_with_its_held_back_start() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with ConnectWiseEmulator() as emu:
        for i in range(7):
            emu.put_ticket(world(f"c{i}", updated_at=now - timedelta(minutes=20 - i)))
        saved = {
            "v": 2,
            "incremental": {"from": (now - timedelta(hours=1)).isoformat()},
            "incremental_from": None,
            "backfill": None,
        }
        async with connector_for(emu, page_size=3, read_notes=False) as cw:
            stream = cw.pages(saved)
            page = await anext(stream)
            await stream.aclose()  # stopped after one committed page
        middle = page.cursor
        assert middle is not None
        position = middle["incremental"]
        assert position["after"] == emu.ticket_id("c2")
        assert position["from"] == (now - timedelta(hours=1)).isoformat()
        async with connector_for(emu, page_size=3, read_notes=False) as cw:
            rest = [p async for p in cw.pages(middle)]
        read = [t.key for p in [page, *rest] for t in p.tickets]
        assert sorted(read) == sorted(f"#{emu.ticket_id(f'c{i}')}" for i in range(7))
        final = rest[-1].cursor
        assert final is not None
        started = datetime.fromisoformat(position["started"])  # kept across the restart
        assert final["incremental"] == {"from": (started - timedelta(seconds=60)).isoformat()}


async def test_notes_are_read_in_parallel_within_the_vendor_bound() -> None:
    with ConnectWiseEmulator(latency=0.05) as emu:
        for i in range(12):
            emu.put_ticket(world(f"t{i}", description=f"About {i}"))
        async with connector_for(emu, page_size=12, concurrency=3) as cw:
            pages = [page async for page in cw.pages(None)]
        assert cw.limiter.peak == 3
    assert sum(len(p.entries) for p in pages) == 12
    notes = [r for r in emu.requests if r.path.endswith("/notes")]
    assert len(notes) == 12

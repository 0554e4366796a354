"""Jira's two-phase sync against the emulator: a resumable backfill, incremental pages,
and the comment fan-out under 429s and 5xx."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.base import Reply, WorldEntry
from connectors.emulators.jira import COUNT_PATH, JiraEmulator
from connectors.errors import TransientError
from connectors.records import Cursor, PollResult, TicketStatus
from tests.connectors.test_jira import (
    NOW,
    by_key,
    connector_for,
    incremental,
    jql_of,
    position,
    world,
)

INCREMENTAL = "incremental"


def tenant(emu: JiraEmulator) -> set[str]:
    """Open tickets of every age, closed ones recent and old; three share one instant."""
    keys = set()
    for i in range(13):
        created = NOW - timedelta(days=400 - i, minutes=i)
        keys.add(emu.put_ticket(world(f"open{i}", created_at=created, updated_at=created)))
    same = NOW - timedelta(days=50)
    for i in range(3):
        keys.add(emu.put_ticket(world(f"twin{i}", created_at=same, updated_at=same)))
    for i in range(7):
        closed = NOW - timedelta(days=20 - i, hours=i)
        keys.add(
            emu.put_ticket(
                world(
                    f"closed{i}",
                    status=TicketStatus.CLOSED,
                    created_at=closed - timedelta(days=3),
                    updated_at=closed,
                )
            )
        )
    for i in range(4):
        long_ago = NOW - timedelta(days=90 + i)
        emu.put_ticket(
            world(
                f"ancient{i}",
                status=TicketStatus.RESOLVED,
                created_at=long_ago - timedelta(days=1),
                updated_at=long_ago,
            )
        )
    return keys


async def test_backfill_reads_every_open_ticket_whatever_its_age_and_recent_closed_ones() -> None:
    with JiraEmulator() as emu:
        old_open = emu.put_ticket(
            world(
                "old-open",
                created_at=NOW - timedelta(days=400),
                updated_at=NOW - timedelta(days=300),
            )
        )
        recent_closed = emu.put_ticket(
            world("recent-closed", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(days=2))
        )
        emu.put_ticket(
            world("old-closed", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(days=100))
        )
        async with connector_for(emu, backfill_days=30) as jira:
            pages = [page async for page in jira.pages(None)]
        assert set(by_key(tuple(t for p in pages for t in p.tickets))) == {old_open, recent_closed}
        backfill = [p for p in pages if p.progress is not None and p.progress.phase == "backfill"]
        assert backfill[0].progress is not None and backfill[0].progress.total == 2
        assert backfill[-1].progress is not None and backfill[-1].progress.done == 2
        (count,) = [r for r in emu.requests if r.path == COUNT_PATH]
        assert count.json()["jql"].startswith('(statusCategory != Done OR updated >= "')


@pytest.mark.parametrize("stop_after", [1, 2, 4, 6, 7, 9])
async def test_a_stopped_backfill_resumes_after_its_last_page_reading_each_ticket_once(
    stop_after: int,
) -> None:
    with JiraEmulator() as emu:
        keys = tenant(emu)
        async with connector_for(emu, page_size=3) as jira:
            before: list[PollResult] = []
            async for page in jira.pages(None):
                before.append(page)
                if len(before) == stop_after:
                    break
        assert before[-1].cursor is not None
        saved: Cursor = before[-1].cursor
        async with connector_for(emu, page_size=3) as restarted:  # a new process
            after = [page async for page in restarted.pages(saved)]
        read = Counter(t.key for page in before + after for t in page.tickets)
        assert set(read) == keys
        assert set(read.values()) == {1}, "a ticket read twice"
        assert emu.issues_served < 2 * len(keys)
        progress = after[-1].progress
        assert progress is not None and progress.phase == INCREMENTAL


async def test_a_resumed_open_query_starts_at_the_minute_it_stopped_in() -> None:
    with JiraEmulator() as emu:
        tenant(emu)
        async with connector_for(emu, page_size=3, service_desk=False) as jira:
            pages = jira.pages(None)
            first = await anext(pages)
            await pages.aclose()
            assert first.cursor is not None
            stopped = first.cursor["backfill"]["position"]
            assert stopped["phase"] == "open" and len(stopped["ids"]) == 1
            emu.requests.clear()
            [page async for page in jira.pages(first.cursor)]
        # (the first run may have asked for its next page already: that one has a token)
        (resumed, *_) = [
            r for r in jql_of(emu, "statusCategory != Done") if "nextPageToken" not in r.json()
        ]
        stamp = datetime.fromisoformat(stopped["at"]).astimezone(emu.zone)
        assert f'AND created >= "{stamp:%Y-%m-%d %H:%M}" ORDER BY' in resumed.json()["jql"]
        assert [r for r in emu.requests if r.path == COUNT_PATH] == []  # counted once only


async def test_changes_made_during_a_backfill_are_read_by_the_incremental_phase() -> None:
    with JiraEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(days=10, hours=i)))
        async with connector_for(emu, page_size=2) as jira:
            phases: list[tuple[str, PollResult]] = []
            async for page in jira.pages(None):
                assert page.progress is not None
                phases.append((page.progress.phase, page))
                if len(phases) == 1:  # while the backfill runs, agents work on read tickets
                    first = page.tickets[0]
                    emu.put_ticket(
                        world(
                            next(f"t{i}" for i in range(6) if emu.issue_key(f"t{i}") == first.key),
                            title="changed during the backfill",
                            created_at=first.created_at,
                            updated_at=datetime.now(UTC),
                        )
                    )
                    emu.put_entry(
                        "t0",
                        WorldEntry("late", "Maria Jensen", "any news?", datetime.now(UTC)),
                    )
        later = [p for phase, p in phases if phase == INCREMENTAL]
        seen = {t.key: t for p in later for t in p.tickets}
        assert seen[first.key].title == "changed during the backfill"
        assert emu.issue_key("t0") in seen
        assert [e.body for p in later for e in p.entries] == ["any news?"]


async def test_incremental_pages_each_carry_a_resume_point_that_skips_nothing() -> None:
    start = NOW - timedelta(hours=2)
    with JiraEmulator() as emu:
        for i in range(9):
            emu.put_ticket(world(f"u{i}", updated_at=start + timedelta(minutes=5 * i + 1)))
        saved = incremental(f"{start.astimezone(emu.zone):%Y-%m-%dT%H:%M:%S.000%z}")
        async with connector_for(emu, page_size=3, service_desk=False) as jira:
            pages = jira.pages(saved)
            first = await anext(pages)
            # While the next pages are read, a read ticket and an unread one change.
            emu.put_ticket(world("u0", title="u0 again", updated_at=datetime.now(UTC)))
            emu.put_ticket(world("u5", title="u5 again", updated_at=datetime.now(UTC)))
            rest = [page async for page in pages]
        titles = {t.title for p in [first, *rest] for t in p.tickets}
        assert {"u0 again", "u5 again"} <= titles
        assert {f"Ticket u{i}" for i in range(9) if i not in (0, 5)} <= titles
        assert first.cursor is not None
        after_first = position(first.cursor)["updated"]
        assert after_first == emu.issue("u2")["fields"]["updated"]
        async with connector_for(emu, page_size=3, service_desk=False) as restarted:
            again = await restarted.poll(first.cursor)
        # Restarting from the first page's position reads every later change again.
        assert {f"Ticket u{i}" for i in (3, 4, 6, 7, 8)} | {"u0 again", "u5 again"} <= {
            t.title for t in again.tickets
        }


def commented(emu: JiraEmulator, ref: str, count: int) -> None:
    for n in range(count):
        at = NOW - timedelta(minutes=60 - n)
        emu.put_entry(ref, WorldEntry(f"{ref}-{n}", "Kim Lee", f"{ref} note {n}", at, "internal"))


async def test_a_short_429_in_the_comment_fan_out_is_waited_out() -> None:
    with JiraEmulator(comment_field_cap=2) as emu:
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref))
            commented(emu, ref, 3)
        emu.inject_at(
            r"/comment$",
            Reply(
                429,
                {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                headers={"Retry-After": "0", "RateLimit-Reason": "jira-burst-based"},
            ),
        )
        async with connector_for(emu, service_desk=False) as jira:
            result = await jira.poll(None)
        assert Counter(e.ticket_external_id for e in result.entries) == {
            emu.issue(ref)["id"]: 3 for ref in ("a", "b", "c")
        }
        assert len([r for r in emu.requests if r.path.endswith("/comment")]) == 3 + 1


async def test_a_server_error_in_the_comment_fan_out_fails_that_page_only() -> None:
    with JiraEmulator(comment_field_cap=1) as emu:
        for i in range(4):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(days=3, hours=i)))
            commented(emu, f"t{i}", 2)
        async with connector_for(emu, page_size=2, service_desk=False) as jira:
            pages = jira.pages(None)
            first = await anext(pages)
            emu.inject_at(r"/comment$", Reply(500, {"errorMessages": ["Oops"], "errors": {}}))
            with pytest.raises(TransientError) as failed:
                await anext(pages)
            assert failed.value.http_status == 500
            assert len(first.tickets) == 2 and first.cursor is not None
            resumed = await jira.poll(first.cursor)  # the next poll resumes after page one
        assert len(resumed.tickets) == 2
        assert not {t.key for t in resumed.tickets} & {t.key for t in first.tickets}
        assert Counter(e.ticket_external_id for e in resumed.entries) == {
            t.external_id: 2 for t in resumed.tickets
        }


async def test_requests_per_thousand_tickets() -> None:
    """The cost of a first sync: searches of 100, plus one comment read per long thread."""
    with JiraEmulator() as emu:
        emu.put_tickets(
            world(f"t{i}", created_at=NOW - timedelta(days=40, minutes=i)) for i in range(1000)
        )
        for i in range(0, 1000, 100):
            commented(emu, f"t{i}", 2)
        commented(emu, "t7", 25)  # more than a search carries
        async with connector_for(emu) as jira:
            result = await jira.poll(None)
        assert len(result.tickets) == 1000
        assert len(result.entries) == 10 * 2 + 25
        # myself, field, count; 10 open pages, 1 closed, 1 incremental; 1 comment read
        assert result.requests == len(emu.requests) == 3 + 10 + 1 + 1 + 1


async def test_without_a_profile_zone_a_resumed_backfill_still_reads_each_ticket_once() -> None:
    refused = Reply(404, {"errorMessages": ["Not found"], "errors": {}})
    with JiraEmulator(time_zone="America/Los_Angeles") as emu:
        keys = tenant(emu)
        emu.inject(refused)  # no profile zone: literals must not land late
        async with connector_for(emu, page_size=3, service_desk=False) as jira:
            pages = jira.pages(None)
            before = [await anext(pages), await anext(pages)]
            await pages.aclose()
            assert jira.user_zone is None
        emu.inject(refused)
        async with connector_for(emu, page_size=3, service_desk=False) as restarted:
            assert before[-1].cursor is not None
            after = [page async for page in restarted.pages(before[-1].cursor)]
        read = Counter(t.key for page in before + after for t in page.tickets)
        assert set(read) == keys and set(read.values()) == {1}
        (closed, *_) = jql_of(emu, "statusCategory = Done")
        bound = datetime.fromisoformat(closed.json()["jql"].split('"')[1])
        # Written in UTC 14 hours early: read in Los Angeles it is still before the window.
        window = (datetime.now(UTC) - timedelta(days=30)).replace(tzinfo=None)
        assert window - timedelta(hours=15) < bound <= window - timedelta(hours=14)

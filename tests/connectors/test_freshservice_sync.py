"""Freshservice's two-phase sync against the emulator: backfill, restarts, passes, fan-out."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldEntry
from connectors.emulators.freshservice import FILTER_PATH, TICKETS_PATH, FreshserviceEmulator
from connectors.errors import TransientError
from connectors.freshservice import FreshserviceConnector
from connectors.records import PollResult, Priority, TicketStatus
from tests.connectors.test_freshservice import NOW, config_for, connector_for, world

DAY = timedelta(days=1)


def titles(pages: list[PollResult]) -> Counter[str]:
    return Counter(t.title for p in pages for t in p.tickets)


def conversation_requests(emu: FreshserviceEmulator) -> int:
    return sum(1 for r in emu.requests if r.path.endswith("/conversations"))


async def test_backfill_reads_an_old_open_ticket_and_skips_an_old_closed_one() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("ancient", created_at=NOW - 900 * DAY, updated_at=NOW - 800 * DAY))
        emu.put_ticket(
            world(
                "ancient-pending",
                status=TicketStatus.PENDING,
                created_at=NOW - 400 * DAY,
                updated_at=NOW - 300 * DAY,
            )
        )
        emu.put_ticket(
            world(
                "old-closed",
                status=TicketStatus.CLOSED,
                created_at=NOW - 90 * DAY,
                updated_at=NOW - 60 * DAY,
            )
        )
        emu.put_ticket(
            world(
                "recent-closed",
                status=TicketStatus.CLOSED,
                created_at=NOW - 20 * DAY,
                updated_at=NOW - 10 * DAY,
            )
        )
        emu.put_ticket(world("fresh"))
        async with connector_for(emu, backfill_days=30) as fs:
            result = await fs.poll(None)
    assert sorted(t.title for t in result.tickets) == [
        "Ticket ancient",
        "Ticket ancient-pending",
        "Ticket fresh",
        "Ticket recent-closed",
    ]
    query = next(r for r in emu.requests if r.path == FILTER_PATH).param("query")
    assert query == '"status:2 OR status:3 OR status:>6"'
    assert result.progress is not None


async def test_backfill_windows_by_creation_day_and_reports_the_vendors_count() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(40):  # open tickets spread over two years, none touched lately
            created = NOW - (20 + 18 * i) * DAY
            emu.put_ticket(world(f"o{i}", created_at=created, updated_at=created + DAY))
        async with connector_for(emu, page_size=5, conversations=False) as fs:
            pages = [p async for p in fs.pages(None)]
    seen = titles(pages)
    assert set(seen) == {f"Ticket o{i}" for i in range(40)}
    assert max(seen.values()) == 1  # windows never overlap
    first_backfill = next(p for p in pages if p.progress and p.progress.total)
    assert first_backfill.progress is not None and first_backfill.progress.total == 40
    filters = [r for r in emu.requests if r.path == FILTER_PATH]
    assert all(r.param("per_page") == "5" for r in filters)
    bounded = [r.param("query") or "" for r in filters[1:]]
    assert all("created_at:" in q for q in bounded)
    # Each window fits a page: nothing was offset-paged.
    assert {r.param("page") for r in filters} == {"1"}


async def test_a_day_denser_than_a_page_is_paged_and_split_by_priority_past_the_cap() -> None:
    with FreshserviceEmulator(page_size=30) as emu:
        busy = NOW - 200 * DAY
        emu.put_tickets(
            world(
                f"d{i}",
                created_at=busy + timedelta(seconds=i),
                updated_at=busy,
                priority=list(Priority)[i % 4],
            )
            for i in range(48)
        )
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            pages = [p async for p in fs.pages(None)]
    seen = titles(pages)
    assert set(seen) == {f"Ticket d{i}" for i in range(48)}
    assert max(seen.values()) == 1
    queries = [r.param("query") or "" for r in emu.requests if r.path == FILTER_PATH]
    assert any("priority:4" in q for q in queries)  # 48 > 10 pages of 2: split
    assert max(int(r.param("page") or 1) for r in emu.requests if r.path == FILTER_PATH) <= 10


async def test_a_restarted_backfill_continues_and_reads_each_ticket_once() -> None:
    with FreshserviceEmulator() as emu:
        tickets = []
        for i in range(60):
            created = NOW - (2 + 11 * i) * DAY
            old = i % 2 == 0
            tickets.append(
                world(
                    f"t{i}",
                    created_at=created,
                    updated_at=created + DAY if old else NOW - timedelta(hours=i),
                    status=TicketStatus.OPEN if i % 3 else TicketStatus.RESOLVED,
                )
            )
        emu.put_tickets(tickets)
        expected = {
            t.title
            for t in tickets
            if t.status is TicketStatus.OPEN or t.updated_at > NOW - 30 * DAY
        }
        async with connector_for(emu, page_size=4) as fs:
            pages = fs.pages(None)
            before = [await anext(pages) for _ in range(5)]  # then the process dies
            await pages.aclose()
            cursor = before[-1].cursor
            assert cursor is not None and cursor["backfill"] is not None
            after = [p async for p in fs.pages(cursor)]
            later: list[PollResult] = []
            cursor = after[-1].cursor
            for _ in range(5):  # more polls, until the history walk is done
                if cursor is None or "history" not in cursor:
                    break
                later += [p async for p in fs.pages(cursor)]
                cursor = later[-1].cursor
    backfilled = [p for p in before + after if p.progress and p.progress.phase == "backfill"]
    seen = titles(backfilled)
    assert set(seen) == expected
    assert max(seen.values()) == 1
    # listed by the backfill once, and once more by the history walk; never from the top
    assert emu.rows_served < 3 * len(tickets)
    # The backfill read no conversation; the history walk follows, five pages a poll.
    assert not [p for p in backfilled if p.entries]
    reads = Counter(r.path for r in emu.requests if r.path.endswith("/conversations"))
    assert len(reads) == len(expected) and set(reads.values()) == {1}  # each exactly once
    walked = [p for p in before + after + later if p.progress and p.progress.phase == "history"]
    assert set(titles(walked)) == expected
    assert cursor is not None and "history" not in cursor


async def test_changes_made_during_the_backfill_are_read_by_the_incremental_pass() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(12):
            created = NOW - (40 + 30 * i) * DAY
            emu.put_ticket(world(f"t{i}", created_at=created, updated_at=created))
        async with connector_for(emu, page_size=3, conversations=False) as fs:
            pages = fs.pages(None)
            first = await anext(pages)
            assert first.progress is not None and first.progress.phase == "backfill"
            emu.set_native("t0", subject="resolved while the backfill ran", status=4)
            emu.put_ticket(world("born-during-backfill", updated_at=datetime.now(UTC)))
            rest = [p async for p in pages]
    incremental = [p for p in rest if p.progress and p.progress.phase == "incremental"]
    seen = {t.title for p in incremental for t in p.tickets}
    assert {"resolved while the backfill ran", "Ticket born-during-backfill"} <= seen
    final = {t.external_id: t for p in [first, *rest] for t in p.tickets}
    assert final[str(emu.ticket_id("t0"))].status is TicketStatus.RESOLVED


async def test_conversations_ride_on_the_history_page_of_their_ticket() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", requester="Maria Jensen"))
        emu.put_entry("a", WorldEntry("e1", "Maria Jensen", "Printer says 49.4C02", NOW - DAY))
        emu.put_entry(
            "a", WorldEntry("e2", "Kim Lee", "Checked the toner", NOW, visibility="internal")
        )
        async with connector_for(emu) as fs:
            pages = [p async for p in fs.pages(None)]
    (listed,) = [p for p in pages if p.tickets and p.progress and p.progress.phase == "backfill"]
    assert listed.entries == ()  # the queue first …
    (page,) = [p for p in pages if p.tickets and p.progress and p.progress.phase == "history"]
    assert [t.key for t in page.tickets] == [key]  # … then each page's conversations
    assert [(e.body, e.visibility.value) for e in page.entries] == [
        ("Printer says 49.4C02", "public"),
        ("Checked the toner", "internal"),
    ]
    assert page.entries[0].author == "Maria Jensen"  # the requester, named by the embed
    assert {e.ticket_external_id for e in page.entries} == {key[1:]}


async def test_an_incremental_pass_reads_only_new_and_changed_conversations() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - 3 * DAY))
        emu.put_ticket(world("quiet", updated_at=NOW - 3 * DAY))
        emu.put_entry("a", WorldEntry("old", "Kim Lee", "first note", NOW - 3 * DAY))
        async with connector_for(emu) as fs:
            first = await fs.poll(None)
            assert [e.body for e in first.entries] == ["first note"]
            written = datetime.now(UTC) - timedelta(seconds=5)
            emu.put_entry("a", WorldEntry("new", "Kim Lee", "second note", written))
            before = conversation_requests(emu)
            second = await fs.poll(first.cursor)
            spent = conversation_requests(emu) - before
            third = await fs.poll(second.cursor)
    assert [e.body for e in second.entries] == ["second note"]
    assert spent == 1  # only the changed ticket, not "quiet"
    # The overlap shows "a" again, at the same updated_at: its conversations are not re-read.
    assert third.entries == ()


async def test_a_short_429_mid_fan_out_is_waited_out() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}"))
        path = f"{TICKETS_PATH}/{emu.ticket_id('t3')}/conversations"
        emu.inject_on(path, Reply(429, {"message": "slow down"}, headers={"Retry-After": "0"}))
        async with connector_for(emu) as fs:
            result = await fs.poll(None)
    assert len(result.tickets) == 6
    assert sum(1 for r in emu.requests if r.path == path) == 2  # refused once, then read


async def test_a_500_mid_fan_out_fails_the_page_and_a_retry_resumes_it() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=10 - i)))
        path = f"{TICKETS_PATH}/{emu.ticket_id('t4')}/conversations"
        emu.inject_on(path, Reply(500, {"message": "Internal Server Error"}))
        committed: list[PollResult] = []
        async with connector_for(emu, page_size=2) as fs:
            with pytest.raises(TransientError) as failed:
                async for page in fs.pages(None):
                    committed.append(page)
            assert failed.value.http_status == 500
            cursor = committed[-1].cursor
            rest = [p async for p in fs.pages(cursor)]

    def phase(pages: list[PollResult], name: str) -> list[PollResult]:
        return [p for p in pages if p.progress and p.progress.phase == name]

    backfilled = titles(phase(committed, "backfill")) + titles(phase(rest, "backfill"))
    assert set(backfilled) == {f"Ticket t{i}" for i in range(6)}
    assert max(backfilled.values()) == 1
    walked = titles(phase(committed, "history")) + titles(phase(rest, "history"))
    assert set(walked) == {f"Ticket t{i}" for i in range(6)}
    assert max(walked.values()) == 1  # the failed page was not committed, so it is read once


async def test_fan_out_stays_within_the_concurrency_setting() -> None:
    with FreshserviceEmulator(latency=0.02) as emu:
        for i in range(12):
            emu.put_ticket(world(f"t{i}"))
        async with connector_for(emu, concurrency=3) as fs:
            await fs.poll(None)
            assert fs.limiter.peak == 3


async def test_conversations_can_be_switched_off() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("e", "Kim Lee", "note", NOW))
        async with connector_for(emu, conversations=False) as fs:
            result = await fs.poll(None)
    assert result.entries == () and conversation_requests(emu) == 0


async def test_an_old_open_ticket_gets_its_first_response_from_its_conversations() -> None:
    """The filter answer has no ``stats`` embed: the first public agent reply stands in."""
    with FreshserviceEmulator() as emu:
        created = NOW - 200 * DAY
        emu.put_ticket(
            world("old", created_at=created, updated_at=created, requester="Maria Jensen")
        )
        emu.put_entry("old", WorldEntry("q", "Maria Jensen", "any news?", created + DAY))
        emu.put_entry(
            "old", WorldEntry("n", "Kim Lee", "internal", created + 2 * DAY, visibility="internal")
        )
        emu.put_entry("old", WorldEntry("r", "Kim Lee", "on it", created + 3 * DAY))
        async with connector_for(emu) as fs:
            (ticket,) = (await fs.poll(None)).tickets
    assert ticket.first_response_at == created + 3 * DAY


def test_plan_action_needs_no_client_and_holds_no_key() -> None:
    from connectors.actions import Action, ActionKind

    config = VendorConfig(
        "fs", "freshservice", "https://acme.freshservice.com", settings={"api_key": "s3cret"}
    )
    (planned,) = FreshserviceConnector.plan_action(
        config, Action(ActionKind.COMMENT, "42", "#42", text="hello")
    )
    assert (planned.method, planned.path) == ("POST", "/api/v2/tickets/42/notes")
    assert "s3cret" not in planned.describe()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"page_size": 101}, "page_size"),
        ({"concurrency": 0}, "concurrency"),
        ({"workspace_id": "main"}, "workspace_id"),
        ({"conversations": "sometimes"}, "conversations"),
        ({"default_requester_email": "desk"}, "default_requester_email"),
        ({"pagesize": 10}, "pagesize"),
        ({"api_key": ""}, "api_key"),
    ],
)
def test_settings_errors_name_the_key(settings: dict[str, Any], named: str) -> None:
    from connectors.errors import ConfigurationError

    config = VendorConfig(
        "fs",
        "freshservice",
        "https://acme.freshservice.com",
        settings={"api_key": "k", **settings},
    )
    with pytest.raises(ConfigurationError, match=named):
        FreshserviceConnector.validate(config)


def test_settings_defaults_are_freshservices() -> None:
    settings = FreshserviceConnector.parse_settings(
        VendorConfig("fs", "freshservice", "https://a.freshservice.com", settings={"api_key": "k"})
    )
    assert (settings.page_size, settings.concurrency, settings.conversations) == (100, 8, True)
    assert "SecretStr('**********')" in repr(settings)


async def test_the_dry_run_and_auth_come_from_the_parsed_settings() -> None:
    with FreshserviceEmulator(api_key="s3cret") as emu:
        config = config_for(emu)
        parsed = FreshserviceConnector.parse_settings(config)
        loaded = VendorConfig(
            config.name, config.kind, config.base_url, settings=config.settings, options=parsed
        )
        assert FreshserviceConnector.parse_settings(loaded) is parsed
        async with FreshserviceConnector.make_client(loaded) as client:
            fs = FreshserviceConnector(loaded, client, parsed)
            assert await fs.check() == "ok, signed in as Desk Agent"
        assert isinstance(FreshserviceConnector.auth(loaded), httpx2.BasicAuth)


async def test_old_open_tickets_get_their_requesters_named_once_per_person() -> None:
    """The filter answer has no ``requester`` embed: each person is viewed once."""
    with FreshserviceEmulator() as emu:
        for i in range(6):
            created = NOW - (100 + 40 * i) * DAY
            who = "Maria Jensen" if i % 2 else None  # None: the agent itself raised it
            emu.put_ticket(world(f"o{i}", created_at=created, updated_at=created, requester=who))
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            result = await fs.poll(None)
    assert {t.requester for t in result.tickets} == {"Maria Jensen", "Desk Agent"}
    views = [
        r.path
        for r in emu.requests
        if r.path.startswith(("/api/v2/requesters/", "/api/v2/agents/"))
    ]
    # Maria Jensen; the desk agent (no requester of that id: an agent); Kim Lee, assigned
    assert sorted(p.split("/")[3] for p in views) == [
        "agents",
        "agents",
        "requesters",
        "requesters",
    ]


async def test_a_low_minute_spaces_request_starts_at_the_plans_rate() -> None:
    import asyncio
    import time

    from connectors.freshservice.pacing import MinuteBudget
    from connectors.http import RateHeaders

    budget = MinuteBudget(RateHeaders("x-ratelimit-remaining", "x-ratelimit-total"))
    budget.observe({"x-ratelimit-remaining": "500", "x-ratelimit-total": "600"})
    await budget.wait()
    assert budget.waited == 0  # plenty left: no wait at all (work, not time)
    budget.observe({"x-ratelimit-remaining": "5", "x-ratelimit-total": "600"})
    budget.spent.clear()  # the minute was spent by the customer's other integrations
    starts: list[float] = []

    async def one() -> None:
        await budget.wait()
        starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(4)))
    # 600 a minute: one start per 0.1 s, whichever request asks (never sooner)
    assert max(starts) - min(starts) >= 0.29
    assert budget.waited >= 0.6 - 0.05  # 0 + 0.1 + 0.2 + 0.3, less the clock's grain


async def test_the_next_page_is_read_while_the_collector_commits_this_one() -> None:
    import asyncio

    from tests.connectors.test_freshservice import incremental_cursor, list_requests

    with FreshserviceEmulator(latency=0.05) as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=9 - i), updated_at=NOW))
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            pages = fs.pages(incremental_cursor(NOW - timedelta(minutes=5)))
            first = await anext(pages)
            assert [t.title for t in first.tickets] == ["Ticket t0", "Ticket t1"]
            await asyncio.sleep(0.5)  # the collector commits page 1 ...
            asked = [r.param("page") for r in list_requests(emu)]
            assert asked == ["1", "2"]  # ... while page 2 is already read
            rest = [p async for p in pages]
    assert [t.title for p in rest for t in p.tickets] == [f"Ticket t{i}" for i in range(2, 6)]


async def test_a_low_minute_waits_for_our_own_credits_to_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from connectors.freshservice import pacing
    from connectors.http import RateHeaders

    monkeypatch.setattr(pacing, "WINDOW", 0.5)  # a half-second "minute" for the test
    budget = pacing.MinuteBudget(RateHeaders("x-ratelimit-remaining", "x-ratelimit-total"))
    spent_at = time.monotonic()
    for left in (12, 11, 10):  # three answers of ours, the last leaving a tenth of 100
        budget.observe(
            {
                "x-ratelimit-remaining": str(left),
                "x-ratelimit-total": "100",
                "x-ratelimit-used-currentrequest": "1",
            }
        )
    await budget.wait()
    assert time.monotonic() - spent_at >= 0.5  # not before our first credit is back
    assert len(budget.spent) == 2


async def test_a_filter_serving_smaller_pages_than_asked_still_reads_every_open_ticket() -> None:
    with FreshserviceEmulator(filter_page_limit=3) as emu:
        for i in range(25):
            created = NOW - (40 + 3 * i) * DAY
            emu.put_ticket(world(f"o{i}", created_at=created, updated_at=created))
        async with connector_for(emu, page_size=10, conversations=False) as fs:
            pages = [p async for p in fs.pages(None)]
    seen = titles(pages)
    assert set(seen) == {f"Ticket o{i}" for i in range(25)}
    assert max(seen.values()) == 1


async def test_assigned_agents_are_named_once_each_across_pages_and_polls() -> None:
    """The list has no agent embed: ``responder_id`` is looked up once per agent, so the
    print-fleet pane shows "Kim Lee", not "agent 21001397571"."""
    with FreshserviceEmulator() as emu:
        for i in range(9):
            who = ("Kim Lee", "Ana Ruiz", None)[i % 3]
            emu.put_ticket(world(f"t{i}", assignee=who, created_at=NOW - timedelta(hours=20 - i)))
        async with connector_for(emu, page_size=2) as fs:
            first = await fs.poll(None)
            emu.set_native("t0", subject="changed")
            second = await fs.poll(first.cursor)
    names = {t.title: t.assignee for t in first.tickets}
    assert names["Ticket t0"] == "Kim Lee" and names["Ticket t1"] == "Ana Ruiz"
    assert names["Ticket t2"] is None
    assert [t.assignee for t in second.tickets if t.title == "changed"] == ["Kim Lee"]
    lookups = [r.path for r in emu.requests if r.path.startswith("/api/v2/agents/")]
    assert sorted(lookups) == sorted(
        f"/api/v2/agents/{emu.agent_named(n)}" for n in ("Kim Lee", "Ana Ruiz")
    )

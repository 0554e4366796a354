"""PagerDuty: the keyset backfill, the log-entry feed and conversations, over real loopback HTTP."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors import VendorConfig
from connectors.actions import Action, ActionKind
from connectors.emulators.base import Reply, WorldEntry, WorldTicket
from connectors.emulators.pagerduty import PagerDutyEmulator
from connectors.errors import AuthError, ConfigurationError, RateLimited, TransientError
from connectors.pagerduty import PagerDutyConnector
from connectors.pagerduty.mapping import incident_to_record
from connectors.records import Cursor, PollResult, Priority, TicketStatus, Visibility
from connectors.sync import SyncState
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "pagerduty-incidents.json"
NOW = datetime.now(UTC).replace(microsecond=0)


def world(n: int, status: TicketStatus = TicketStatus.NEW, **extra: object) -> WorldTicket:
    ticket = WorldTicket(
        f"w{n}",
        f"incident {n}",
        status,
        Priority.P1 if n % 2 else Priority.P4,
        NOW - timedelta(hours=2),
        NOW - timedelta(hours=1),
        assignee="DC on-call",
        asset="Storage",
    )
    return replace(ticket, **extra)  # type: ignore[arg-type]


def connector_for(emu: PagerDutyEmulator, **settings: Any) -> PagerDutyConnector:
    config = VendorConfig(
        "on-call", "pagerduty", emu.base_url, settings={"api_token": emu.api_token, **settings}
    )
    PagerDutyConnector.validate(config)
    return PagerDutyConnector(config, PagerDutyConnector.make_client(config))


class Clock:
    """An emulator clock the test moves: world changes are stamped with it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def drain(
    connector: PagerDutyConnector, cursor: Cursor | None = None, *, stop_after: int | None = None
) -> list[PollResult]:
    pages = []
    async for page in connector.pages(cursor):
        pages.append(page)
        if stop_after is not None and len(pages) >= stop_after:
            break
    return pages


def backfilled(pages: list[PollResult]) -> list[str]:
    return [
        t.external_id
        for p in pages
        if p.progress is not None and p.progress.phase == "backfill"
        for t in p.tickets
    ]


def paths(emu: PagerDutyEmulator, pattern: str) -> list[Any]:
    return [r for r in emu.requests if re.fullmatch(pattern, r.path)]


def walked(emu: PagerDutyEmulator) -> list[str]:
    """The incidents whose log the history walk (or an incremental poll) read, in order."""
    return [r.path.split("/")[2] for r in paths(emu, r"/incidents/\w+/log_entries")]


def phase_of(page: PollResult) -> str | None:
    return page.progress.phase if page.progress else None


def test_the_real_capture() -> None:
    incidents = json.loads(CAPTURE.read_text())["incidents"]
    records = [incident_to_record(i) for i in incidents]
    assert [r.external_id for r in records] == ["number:1578", "number:1579"]  # ids are blanked
    assert [r.key for r in records] == ["#1578", "#1579"]
    first = records[0]
    assert (first.status, first.raw_status) == (TicketStatus.RESOLVED, "resolved")
    assert (first.priority, first.raw_priority) == (Priority.P2, "urgency high")
    assert (first.group, first.asset, first.assignee) == ("Default", "API Service", None)
    assert first.created_at == datetime(2023, 11, 19, 5, 51, 15, tzinfo=UTC)
    assert first.resolved_at == datetime(2023, 11, 19, 5, 51, 28, tzinfo=UTC)
    assert first.description == "this is a test"
    assert first.url is None  # html_url is vendor text: links come only from ui_url + id


def test_emulator_list_records_carry_the_captures_keys() -> None:
    captured = set(json.loads(CAPTURE.read_text())["incidents"][0])
    with PagerDutyEmulator() as emu:
        emu.put_ticket(world(1))
        headers = {"Authorization": f"Token token={emu.api_token}"}
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            body = client.get("/incidents", params={"date_range": "all"}).json()
            assert set(body["incidents"][0]) == captured | {"priority"}  # see the docstring
            assert body["total"] is None and body["more"] is False
            counted = client.get("/incidents", params={"date_range": "all", "total": "true"})
            assert counted.json()["total"] == 1
            capped = client.get("/incidents", params={"offset": 9950, "limit": 100})
            assert capped.status_code == 400
            wide = client.get(
                "/incidents",
                params={"since": "2025-01-01T00:00:00Z", "until": "2025-08-01T00:00:00Z"},
            )
            assert wide.status_code == 400 and "6 months" in wide.text


async def test_first_poll_then_only_changes() -> None:
    with PagerDutyEmulator(rate_limit=960) as emu:  # PagerDuty's own budget, a rolling minute
        for n in range(130):  # more than one page of open incidents, all created in one second
            emu.put_ticket(world(n))
        emu.put_ticket(world(500, TicketStatus.RESOLVED))
        emu.put_ticket(world(501, TicketStatus.OPEN, first_response_at=NOW - timedelta(minutes=50)))
        connector = connector_for(emu, ui_url="https://acme.pagerduty.com")
        first = await connector.poll(None)
        assert len(first.tickets) == 132
        by_key = {r.title: r for r in first.tickets}
        assert (
            by_key["incident 0"].status is TicketStatus.NEW
            and by_key["incident 1"].priority is Priority.P1
        )
        assert by_key["incident 500"].status is TicketStatus.RESOLVED
        acked = by_key["incident 501"]
        assert acked.status is TicketStatus.OPEN and acked.first_response_at is not None
        assert acked.url is not None and acked.url.startswith(
            "https://acme.pagerduty.com/incidents/"
        )
        assert first.progress is not None and first.progress.phase == "history"
        assert SyncState.load(first.cursor, NOW).history is None  # 132 incidents: 2 walk pages
        assert connector.budget.limit == 960
        assert connector.budget.remaining == 960 - len(emu.requests)

        emu.put_ticket(world(3, TicketStatus.RESOLVED))  # leaves the open set
        second = await connector.poll(first.cursor)
        resolved = [r for r in second.tickets if r.title == "incident 3"]
        assert resolved and resolved[0].status is TicketStatus.RESOLVED
        await connector.client.aclose()


async def test_backfill_reads_open_incidents_of_any_age_and_recent_resolved_ones() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        ancient = NOW - timedelta(days=400)
        emu.put_ticket(world(1, created_at=ancient, updated_at=ancient))  # open, 400 days old
        old_done = world(2, TicketStatus.RESOLVED, created_at=ancient, updated_at=ancient)
        emu.put_ticket(old_done)
        for n, days in ((4, 350), (5, 100)):  # gaps wider than one six-month window
            emu.put_ticket(world(n, created_at=NOW - timedelta(days=days)))
        for n in range(10, 35):  # recent open ones: many pages at page_size 2
            emu.put_ticket(world(n, created_at=NOW - timedelta(days=1, minutes=n)))
        emu.put_ticket(world(3, TicketStatus.RESOLVED, created_at=NOW - timedelta(days=3)))
        connector = connector_for(emu, page_size=2, backfill_days=30)
        pages = await drain(connector)
        await connector.client.aclose()
    ids = backfilled(pages)
    assert {emu.incident_id(r) for r in ("w1", "w3", "w4", "w5")} <= set(ids)
    assert emu.incident_id("w2") not in {t.external_id for p in pages for t in p.tickets}
    assert len(ids) == len(set(ids)) == 29
    listed = paths(emu, "/incidents")
    assert listed[0].param("date_range") == "all" and listed[0].param("total") == "true"
    assert listed[0].param("sort_by") == "created_at:asc,incident_number:asc"
    windows = [r for r in listed if r.param("since")]
    for request in windows:  # never a range PagerDuty refuses, never a deep offset
        since, until = (datetime.fromisoformat(request.param(k)) for k in ("since", "until"))
        assert until - since <= timedelta(days=180)
        assert int(request.param("offset")) == 0
    resolved = [r for r in listed if r.query.get("statuses[]") == ["resolved"]]
    assert resolved and resolved[0].param("total") == "true"
    last = [p.progress for p in pages if p.progress and p.progress.phase == "backfill"][-1]
    assert last is not None and (last.done, last.total) == (29, 29)


async def test_a_restart_resumes_after_the_last_page_and_reads_each_incident_once() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        for n in range(95):
            emu.put_ticket(world(n, created_at=NOW - timedelta(hours=3, seconds=n % 40)))
        for n in range(100, 130):
            made = NOW - timedelta(days=2, minutes=n)
            emu.put_ticket(world(n, TicketStatus.RESOLVED, created_at=made, updated_at=made))
        first = connector_for(emu, page_size=20)
        stopped = await drain(first, stop_after=4)
        await first.client.aclose()
        second = connector_for(emu, page_size=20)
        rest = await drain(second, stopped[-1].cursor)
        await second.client.aclose()
        walked_before_the_third = walked(emu)
        third = connector_for(emu, page_size=20)
        finish = await drain(third, rest[-1].cursor)
        await third.client.aclose()
    ids = backfilled(stopped) + backfilled(rest)
    assert sorted(ids) == sorted({emu.incident_id(f"w{n}") for n in [*range(95), *range(100, 130)]})
    fetched = sum(len(p.tickets) for p in stopped + rest)
    assert fetched < 2 * 125
    assert "incremental" in [phase_of(p) for p in rest]
    assert rest[-1].progress is not None and rest[-1].progress.phase == "history"
    every = {emu.incident_id(f"w{n}") for n in [*range(95), *range(100, 130)]}
    five = walked_before_the_third  # five walk pages in the second poll
    assert 0 < len(five) == len(set(five)) < 125
    assert SyncState.load(finish[-1].cursor, NOW).history is None
    assert sorted(walked(emu)) == sorted(every), "each incident's history read exactly once"


async def test_the_backfill_lists_only_and_the_history_walk_reads_each_incident_once() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        for n in range(50):
            emu.put_ticket(world(n, created_at=NOW - timedelta(hours=3, minutes=n)))
        emu.put_entry("w7", WorldEntry("n7", "Kim Lee", "a note", NOW - timedelta(minutes=30)))
        every = {emu.incident_id(f"w{n}") for n in range(50)}
        cursor: Cursor | None = None
        polls: list[list[PollResult]] = []
        for _ in range(6):  # 10 incidents a page, 2 walk pages a poll: three polls finish it
            connector = connector_for(emu, page_size=10, history_pages_per_poll=2)
            polls.append(await drain(connector, cursor))
            await connector.client.aclose()
            cursor = polls[-1][-1].cursor
            if SyncState.load(cursor, NOW).history is None:
                break
    first = polls[0]
    backfill = [p for p in first if phase_of(p) == "backfill"]
    per_path = Counter(
        "list" if r.path == "/incidents" else r.path.split("/")[-1] for r in emu.requests
    )
    # The backfill: list requests only, one per page of 10 (and the empty end of a stage).
    assert sum(p.requests for p in backfill) <= 7
    assert len(backfilled(first)) == 50
    assert [phase_of(p) for p in first][-2:] == ["history", "history"]
    # Five pages of open incidents, two a poll; the fourth poll reads the resolved stage's
    # one empty page and ends the walk.
    assert len(polls) == 4
    last = [p for p in polls[-1] if phase_of(p) == "history"]
    assert sum(p.requests for p in last) == 1 and not any(p.entries for p in last)
    # Across the three polls, every incident's log read exactly once, notes only where logged.
    assert sorted(walked(emu)) == sorted(every)
    assert per_path["notes"] == 1
    history = [p for poll in polls for p in poll if phase_of(p) == "history"]
    assert sum(len(p.entries) for p in history) >= 51  # a trigger each, and the note
    assert all(not p.tickets for p in history)
    assert {e.ticket_external_id for p in history for e in p.entries} == every
    assert history[-1].progress is not None and history[-1].progress.done == 50
    # Entries arrive after their tickets: every entry's incident was on an earlier page.
    seen: set[str] = set()
    for page in [p for poll in polls for p in poll]:
        assert {e.ticket_external_id for e in page.entries} <= seen
        seen |= {t.external_id for t in page.tickets}


async def test_changes_during_the_backfill_reach_the_incremental_phase() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        for n in range(30):
            emu.put_ticket(world(n, created_at=NOW - timedelta(hours=3, minutes=n)))
        connector = connector_for(emu, page_size=10)
        seen: dict[str, tuple[str, TicketStatus]] = {}
        phases = []
        async for page in connector.pages(None):
            if not phases:  # after the first page: the world moves on
                clock.at = datetime.now(UTC)
                emu.put_ticket(world(0, TicketStatus.RESOLVED))  # already read
                emu.put_ticket(world(29, title="renamed", status=TicketStatus.OPEN))  # not yet
                emu.put_ticket(world(77, created_at=datetime.now(UTC)))  # new
            assert page.progress is not None
            phases.append(page.progress.phase)
            seen.update({t.external_id: (t.title, t.status) for t in page.tickets})
        await connector.client.aclose()
    assert phases[0] == "backfill" and "incremental" in phases and phases[-1] == "history"
    assert seen[emu.incident_id("w0")][1] is TicketStatus.RESOLVED
    assert seen[emu.incident_id("w29")] == ("renamed", TicketStatus.OPEN)
    assert emu.incident_id("w77") in seen


async def test_an_incremental_window_resumes_inside_itself() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        connector = connector_for(emu, page_size=10)
        done = await connector.poll(None)
        clock.at = datetime.now(UTC)
        for n in range(25):
            emu.put_ticket(world(n))
        pages = await drain(connector, done.cursor, stop_after=2)  # 25 trigger + 25 assign
        resumed = await drain(connector, pages[-1].cursor)
        await connector.client.aclose()
    logs = paths(emu, "/log_entries")
    second = next(r for r in logs if r.param("offset") == "10")
    window = [
        r
        for r in logs
        if r.query["since"] + r.query["until"] == second.query["since"] + second.query["until"]
    ]
    assert [r.param("offset") for r in window] == ["0", "10", "20", "30", "40"]  # resumed inside
    assert window[0].param("include[]") == "incidents" and window[0].param("total") == "true"
    assert window[1].param("total") is None
    ids = {t.external_id for p in pages + resumed for t in p.tickets}
    assert ids == {emu.incident_id(f"w{n}") for n in range(25)}
    assert not paths(emu, r"/incidents/\w+")  # incidents came embedded in the log: no GETs


async def test_conversations_map_notes_as_internal_and_the_log_as_system() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        emu.put_ticket(world(1, TicketStatus.OPEN, first_response_at=NOW - timedelta(minutes=55)))
        emu.put_ticket(world(2))
        at = NOW - timedelta(minutes=30)
        note_id = emu.put_entry("w1", WorldEntry("n1", "Kim Lee", "Vendor engaged\r\nETA 1h", at))
        emu.put_entry("w1", WorldEntry("s1", "Ops bot", "Escalated to level 2", at, "system"))
        connector = connector_for(emu)
        result = await connector.poll(None)
        await connector.client.aclose()
    ident = emu.incident_id("w1")
    mine = [e for e in result.entries if e.ticket_external_id == ident]
    note = next(e for e in mine if e.external_id == note_id)
    assert (note.visibility, note.author, note.body) == (
        Visibility.INTERNAL,
        "Kim Lee",
        "Vendor engaged\nETA 1h",
    )
    system = {e.body: e for e in mine if e.visibility is Visibility.SYSTEM}
    assert "Escalated to level 2" in system
    assert "Acknowledged by DC on-call." in system
    assert system["Acknowledged by DC on-call."].author == "DC on-call"
    assert all(e.visibility is not Visibility.PUBLIC for e in result.entries)
    assert not any("Note added" in e.body for e in mine)  # the note itself stands for it
    # Notes are asked for only where the log shows one.
    notes = paths(emu, r"/incidents/\w+/notes")
    assert [r.path for r in notes] == [f"/incidents/{ident}/notes"]


async def test_incremental_poll_reads_only_new_notes() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        emu.put_ticket(world(1))
        emu.put_entry("w1", WorldEntry("n1", "Kim Lee", "first", NOW - timedelta(minutes=20)))
        connector = connector_for(emu)
        first = await connector.poll(None)
        clock.at = datetime.now(UTC)
        emu.put_entry("w1", WorldEntry("n2", "Kim Lee", "second", clock.at))
        second = await connector.poll(first.cursor)
        await connector.client.aclose()
    assert [e.body for e in second.entries if e.visibility is Visibility.INTERNAL] == ["second"]
    assert [t.external_id for t in second.tickets] == [emu.incident_id("w1")]


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_text_never_survives_as_an_escape(hostile: str) -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        emu.put_ticket(world(1, title=hostile, description=hostile, assignee=hostile[:60]))
        emu.put_entry("w1", WorldEntry("n", hostile[:80], hostile, NOW - timedelta(minutes=5)))
        connector = connector_for(emu, conversations=True)
        result = await connector.poll(None)
        await connector.client.aclose()
    (ticket,) = {t.external_id: t for t in result.tickets}.values()
    texts = [ticket.title, ticket.description or "", ticket.assignee or ""]
    texts += [text for e in result.entries for text in (e.body, e.raw_body, e.author or "")]
    assert not any(has_forbidden(text) for text in texts)


async def test_a_429_inside_the_fan_out_is_waited_out() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        for n in range(6):
            emu.put_ticket(world(n))
        target = f"/incidents/{emu.incident_id('w3')}/log_entries"
        limited = Reply(
            429,
            {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
            {"Retry-After": "0.05"},
        )
        emu.inject_on(target, limited)
        connector = connector_for(emu, concurrency=3)
        result = await connector.poll(None)
        await connector.client.aclose()
    assert len(result.tickets) == 6
    assert len(paths(emu, re.escape(target))) == 2  # refused once, then answered
    assert connector.limiter.peak <= 3


async def test_a_500_inside_the_fan_out_fails_the_page_and_a_retry_resumes() -> None:
    clock = Clock(NOW - timedelta(minutes=10))
    with PagerDutyEmulator(clock=clock) as emu:
        for n in range(25):
            emu.put_ticket(world(n, created_at=NOW - timedelta(hours=3, minutes=n)))
        connector = connector_for(emu, page_size=10)
        kept: list[PollResult] = []
        emu.inject_on(
            f"/incidents/{emu.incident_id('w12')}/log_entries",
            Reply(500, {"error": {"message": "Internal Server Error", "code": 1}}),
        )
        with pytest.raises(TransientError, match="HTTP 500"):
            async for page in connector.pages(None):
                kept.append(page)
        # The queue is all in; of the walk, only the page before w12's was handed out.
        assert len(backfilled(kept)) == 25
        assert [phase_of(p) for p in kept].count("history") == 1
        rest = await drain(connector, kept[-1].cursor)
        await connector.client.aclose()
    ids = backfilled(kept) + backfilled(rest)
    assert sorted(ids) == sorted(emu.incident_id(f"w{n}") for n in range(25))
    entries = {e.ticket_external_id for p in kept + rest for e in p.entries}
    assert entries == {emu.incident_id(f"w{n}") for n in range(25)}
    reads = Counter(walked(emu))  # only the failed page (w14 … w5, oldest first) is read again
    assert set(reads) == {emu.incident_id(f"w{n}") for n in range(25)}
    again = {ident for ident, count in reads.items() if count > 1}
    assert emu.incident_id("w12") in again
    assert again <= {emu.incident_id(f"w{n}") for n in range(5, 15)}
    assert max(reads.values()) == 2


async def test_auth_and_rate_limit_errors() -> None:
    with PagerDutyEmulator() as emu:
        wrong = PagerDutyConnector(
            VendorConfig("x", "pagerduty", emu.base_url, settings={"api_token": "nope"}),
            PagerDutyConnector.make_client(
                VendorConfig("x", "pagerduty", emu.base_url, settings={"api_token": "nope"})
            ),
        )
        with pytest.raises(AuthError, match="Unauthorized"):
            await wrong.poll(None)
        await wrong.client.aclose()
        connector = connector_for(emu)
        emu.inject(
            Reply(
                429,
                {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                headers={"Retry-After": "9"},
            )
        )
        with pytest.raises(RateLimited) as limited:
            await connector.poll(None)
        assert limited.value.retry_after == 9.0
        assert (await connector.check()).startswith("ok")
        await connector.client.aclose()


def test_the_emulator_limits_a_rolling_minute() -> None:
    with PagerDutyEmulator(rate_limit=3) as emu:
        headers = {"Authorization": f"Token token={emu.api_token}"}
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            left = [client.get("/abilities").headers["ratelimit-remaining"] for _ in range(3)]
            refused = client.get("/abilities")
    assert left == ["2", "1", "0"]
    assert refused.status_code == 429 and int(refused.headers["ratelimit-reset"]) <= 61
    assert refused.json()["error"]["code"] == 2020


def test_plan_action_needs_no_client_and_shows_no_secret() -> None:
    config = VendorConfig(
        "on-call",
        "pagerduty",
        "https://api.pagerduty.com",
        settings={"api_token": "s3cret-token", "from_email": "bot@acme.example"},
    )
    (planned,) = PagerDutyConnector.plan_action(
        config, Action(ActionKind.RESOLVE, "Q1", "#1", text="fixed")
    )
    assert (planned.method, planned.path) == ("PUT", "/incidents/Q1")
    assert planned.headers == {"From": "bot@acme.example"}
    assert "s3cret-token" not in planned.describe()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"page_size": 101}, r"page_size:"),
        ({"page_size": "many"}, r"page_size:"),
        ({"concurrency": 0}, r"concurrency:"),
        ({"backfill_days": -1}, r"backfill_days:"),
        ({"ui_url": "acme.pagerduty.com"}, r"ui_url:"),
        ({"status_map": {"acknowledged": "asleep"}}, r"status_map"),
        ({"api_tokn": "x"}, r"unknown setting 'api_tokn'"),
        ({"api_token": ""}, r"needs api_token"),
    ],
)
def test_settings_errors_name_the_key(settings: dict[str, Any], message: str) -> None:
    config = VendorConfig(
        "on-call", "pagerduty", "https://api.pagerduty.com", settings={"api_token": "t", **settings}
    )
    with pytest.raises(ConfigurationError, match=message):
        PagerDutyConnector.validate(config)


def test_the_emulator_holds_a_large_account_and_pages_it_in_constant_time() -> None:
    made = NOW - timedelta(days=20)
    tickets: Callable[[int, int], list[WorldTicket]] = lambda lo, hi: [  # noqa: E731
        WorldTicket(
            f"big{n}",
            f"incident {n}",
            TicketStatus.RESOLVED if n % 3 else TicketStatus.NEW,
            Priority.P3,
            made + timedelta(seconds=n),
            made + timedelta(seconds=n),
        )
        for n in range(lo, hi)
    ]
    with PagerDutyEmulator(rate_limit=None) as emu:
        emu.put_tickets(tickets(0, 100_000))
        emu.put_ticket(tickets(100_000, 100_001)[0])  # one more, the ordinary way
        headers = {"Authorization": f"Token token={emu.api_token}"}
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            params = {
                "statuses[]": ["triggered", "acknowledged"],
                "sort_by": "created_at:asc,incident_number:asc",
                "limit": 100,
            }
            before = emu.examined
            deep = client.get(
                "/incidents",
                params={
                    **params,
                    "since": (made + timedelta(days=1)).isoformat(),
                    "until": (made + timedelta(days=2)).isoformat(),
                    "total": "true",
                },
            )
            examined = emu.examined - before
            before = emu.examined
            log = client.get("/log_entries", params={"limit": 100, "offset": 9_900})
            log_examined = emu.examined - before
    body = deep.json()
    assert body["total"] == len([n for n in range(86_400, 100_001) if n % 3 == 0])
    assert len(body["incidents"]) == 100
    assert examined == 100  # a bisection and 100 views, not a scan of 100,000
    assert len(log.json()["log_entries"]) == 100
    assert log_examined == 100


def test_a_bulk_loaded_account_dates_its_log_when_things_happened() -> None:
    """Loaded at once, an account's log is still spread over its incidents' own times (a load
    that dated every entry "now" put 14,000 entries in one second, which the connector's
    halving of a 10,000-entry window cannot split, and no real account has)."""
    with PagerDutyEmulator() as emu:
        tickets = [
            world(n, TicketStatus.RESOLVED, created_at=NOW - timedelta(days=n + 2))
            for n in range(3)
        ]
        tickets = [replace(t, updated_at=t.created_at + timedelta(hours=1)) for t in tickets]
        emu.put_tickets(tickets)
        for ticket in tickets:
            stamps = [entry["created_at"] for entry in emu.log_entries(emu.incident_id(ticket.ref))]
            assert stamps[0] == ticket.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # triggered
            assert stamps[-1] == ticket.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # resolved

"""The Jira connector against the Jira emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.emulators.base import Reply, Request, WorldEntry, WorldTicket
from connectors.emulators.jira import (
    COUNT_PATH,
    FIELD_PATH,
    RESOLUTION_SLA_FIELD,
    SEARCH_PATH,
    SLA_FIELDS,
    TEAM_FIELD,
    JiraEmulator,
)
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.jira import JiraConnector
from connectors.records import Cursor, Priority, TicketRecord, TicketStatus
from connectors.sync import SyncState
from tests.hostile import has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
CAPTURE = Path(__file__).parent / "captures" / "jira-search.json"
CREDS = {"email": "a@b.example", "api_token": "t"}


def world(ref: str, **fields: Any) -> WorldTicket:
    """A world ticket with sensible defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "ref": ref,
        "title": f"Ticket {ref}",
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "created_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=1),
        "requester": "Maria Jensen",
        "assignee": "Kim Lee",
        "group": "Network Ops",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: JiraEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="network", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(emu: JiraEmulator, **settings: Any) -> AsyncIterator[JiraConnector]:
    config = config_for(emu, **settings)
    JiraConnector.validate(config)
    async with JiraConnector.make_client(config) as client:
        yield JiraConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def incremental(updated: str) -> Cursor:
    """A saved cursor whose backfill is done and whose incremental position is ``updated``."""
    return SyncState(incremental={"updated": updated}).dump()


def position(cursor: Cursor | None) -> Any:
    """The connector's own incremental position inside a saved cursor."""
    assert cursor is not None
    return cursor["incremental"]


def searches(emu: JiraEmulator) -> list[Request]:
    return [r for r in emu.requests if r.path == SEARCH_PATH]


def jql_of(emu: JiraEmulator, start: str) -> list[Request]:
    """The searches whose JQL (after any project restriction) starts with ``start``."""
    return [
        r
        for r in searches(emu)
        if re.sub(r'^project = "[^"]*" AND ', "", r.json()["jql"]).startswith(start)
    ]


def jql_literal(request: Request, field: str = "updated") -> datetime:
    """The ``<field> >= "…"`` literal of a search request, as a naive local time."""
    match = re.search(rf'{field} >= "([^"]+)"', request.json()["jql"])
    assert match is not None
    return datetime.fromisoformat(match[1])


async def test_full_poll_follows_short_pages_to_the_end() -> None:
    with JiraEmulator(page_cap=2) as emu:
        keys = [
            emu.put_ticket(world(f"t{i}", updated_at=NOW - timedelta(hours=i + 1)))
            for i in range(5)
        ]
        async with connector_for(emu) as jira:
            result = await jira.poll(None)

        tickets = by_key(result.tickets)
        assert set(tickets) == set(keys) == {f"ITSD-{n}" for n in range(1, 6)}
        for key in keys:
            assert tickets[key].url == f"{emu.base_url}/browse/{key}"
            assert tickets[key].group == "Network Ops"
            assert tickets[key].assignee == "Kim Lee"
            assert tickets[key].requester == "Maria Jensen"
        assert [r.path for r in emu.requests[:3]] == [
            "/rest/api/3/myself",  # the profile zone, asked once
            FIELD_PATH,  # the JSM SLA fields, asked once an hour
            COUNT_PATH,  # the backfill's size
        ]
        opened = jql_of(emu, "statusCategory != Done")
        assert len(opened) == 3  # 2 + 2 + 1, though maxResults asked for 100
        bodies = [r.json() for r in opened]
        assert all(b["maxResults"] == 100 for b in bodies)
        assert bodies[0]["jql"] == "statusCategory != Done ORDER BY created ASC, key ASC"
        assert "nextPageToken" not in bodies[0]
        assert (
            bodies[1]["nextPageToken"] and bodies[2]["nextPageToken"] != bodies[1]["nextPageToken"]
        )
        wanted = set(bodies[0]["fields"])
        assert {TEAM_FIELD, "updated", "description", "comment", "attachment"} <= wanted
        assert set(SLA_FIELDS) <= wanted
        (closed,) = jql_of(emu, "statusCategory = Done")
        literal = jql_literal(closed).replace(tzinfo=emu.zone)  # in the user's zone
        assert abs(literal - (datetime.now(UTC) - timedelta(days=30))) < timedelta(minutes=2)
        assert [r for r in emu.requests if "/servicedeskapi/" in r.path] == []  # SLAs: fields
        assert result.requests == len(emu.requests)
        assert all(t.vendor_breached is None for t in result.tickets)
        assert result.progress is not None and result.progress.phase == "incremental"
        assert position(result.cursor) is None  # nothing updated since the backfill began


async def test_a_poll_costs_the_same_requests_whatever_the_issues_hold() -> None:
    """No per-issue request on the normal path: SLAs and comments come with the search."""
    with JiraEmulator() as emu:
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref, due_at=NOW + timedelta(hours=2)))
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            emu.put_ticket(world("a", title="changed", updated_at=datetime.now(UTC)))
            again = await jira.poll(first.cursor)
        assert first.requests == 3 + 2 + 1  # myself, field, count; two backfill and one search
        assert again.requests == 1  # the zone and the SLA fields are not asked again
        assert [t.title for t in again.tickets] == ["changed"]
        assert by_key(first.tickets)["ITSD-1"].vendor_due_at == NOW + timedelta(hours=2)


async def test_basic_auth_is_email_colon_token() -> None:
    with JiraEmulator(email="ops@acme.example", api_token="s3cret") as emu:
        async with connector_for(emu) as jira:
            assert await jira.check() == "ok, signed in as Desk Agent"
        header = emu.requests[-1].headers["authorization"]
        assert base64.b64decode(header.removeprefix("Basic ")) == b"ops@acme.example:s3cret"
        assert emu.requests[-1].path == "/rest/api/3/myself"


async def test_empty_pages_with_a_token_are_not_the_end() -> None:
    with JiraEmulator(page_cap=1) as emu:
        for i in range(4):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=9 - i)))
        emu.hide("t0")
        emu.hide("t1")  # the first two windows come back empty, each with a token
        async with connector_for(emu, service_desk=False) as jira:
            pages = [page async for page in jira.pages(None)]
        assert sorted(t.title for p in pages for t in p.tickets) == ["Ticket t2", "Ticket t3"]
        assert len(jql_of(emu, "statusCategory != Done")) == 4
        # An empty first page still names where the backfill stands: from the start.
        assert pages[0].tickets == () and pages[0].cursor is not None
        assert pages[0].cursor["backfill"]["position"] is None


async def test_second_poll_reads_changes_and_the_overlap_only() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("old", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("a", updated_at=NOW - timedelta(minutes=30)))
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            assert len(first.tickets) == 2
            now = datetime.now(UTC)
            emu.put_ticket(
                world("a", title="Ticket a, resolved", status=TicketStatus.RESOLVED, updated_at=now)
            )
            new_key = emu.put_ticket(world("new", updated_at=now - timedelta(seconds=20)))
            second = await jira.poll(first.cursor)

            changed = by_key(second.tickets)
            assert set(changed) == {emu.issue_key("a"), new_key}
            assert changed[emu.issue_key("a")].status is TicketStatus.RESOLVED
            assert changed[emu.issue_key("a")].title == "Ticket a, resolved"
            assert position(second.cursor) == {"updated": emu.issue("a")["fields"]["updated"]}

            third = await jira.poll(second.cursor)
            # Only the overlap is re-read (harmless: the store upserts), and the cursor holds.
            assert set(by_key(third.tickets)) <= {emu.issue_key("a"), new_key}
            assert emu.issue_key("a") in by_key(third.tickets)
            assert third.cursor == second.cursor


async def test_update_in_the_cursors_own_millisecond_is_not_missed() -> None:
    stamp = NOW - timedelta(minutes=10)
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", updated_at=stamp))
        saved = emu.issue("a")["fields"]["updated"]
        async with connector_for(emu, service_desk=False) as jira:
            late_key = emu.put_ticket(world("late", updated_at=stamp))
            earlier_key = emu.put_ticket(
                world("indexed-late", updated_at=stamp - timedelta(seconds=50))
            )
            second = await jira.poll(incremental(saved))
        assert {late_key, earlier_key} <= set(by_key(second.tickets))


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
async def test_jql_literal_is_written_in_the_users_profile_zone(zone: str) -> None:
    updated = datetime(2025, 3, 4, 9, 12, 44, 123000, tzinfo=UTC)
    with JiraEmulator(time_zone=zone) as emu:
        emu.put_ticket(world("a", created_at=updated - timedelta(hours=1), updated_at=updated))
        async with connector_for(emu, service_desk=False) as jira:
            # A cursor written in another offset (+0100) still means the same instant.
            first = await jira.poll(incremental("2025-03-04T10:00:00.000+0100"))
            assert position(first.cursor) == {"updated": emu.issue("a")["fields"]["updated"]}
            second = await jira.poll(first.cursor)
        assert [t.title for t in second.tickets] == ["Ticket a"]
        local = (updated - timedelta(seconds=60)).astimezone(ZoneInfo(zone))
        expected = local.replace(second=0, microsecond=0, tzinfo=None)
        assert jql_literal(searches(emu)[-1]) == expected
        first_local = datetime(2025, 3, 4, 8, 59, tzinfo=UTC).astimezone(ZoneInfo(zone))
        assert jql_literal(searches(emu)[0]) == first_local.replace(tzinfo=None)


async def test_jql_literal_is_right_across_a_daylight_saving_change() -> None:
    # Copenhagen springs from 02:00 CET to 03:00 CEST at 01:00 UTC on 2025-03-30.
    cursor_at = datetime(2025, 3, 30, 1, 0, 30, tzinfo=UTC)  # written 03:00:30.000+0200
    with JiraEmulator(time_zone="Europe/Copenhagen") as emu:
        emu.put_ticket(world("a", created_at=cursor_at, updated_at=cursor_at))
        emu.put_ticket(world("b", updated_at=cursor_at + timedelta(minutes=20)))
        saved = emu.issue("a")["fields"]["updated"]
        assert saved == "2025-03-30T03:00:30.000+0200"
        async with connector_for(emu, service_desk=False) as jira:
            result = await jira.poll(incremental(saved))
        # 00:59:30 UTC is 01:59 CET; the cursor's own +0200 would say "02:59", a local
        # time that does not exist that night and is read an hour late.
        assert jql_literal(searches(emu)[-1]) == datetime(2025, 3, 30, 1, 59)
        assert sorted(t.title for t in result.tickets) == ["Ticket a", "Ticket b"]


async def test_without_a_profile_zone_the_cursors_offset_is_used() -> None:
    with JiraEmulator(time_zone="Asia/Kolkata") as emu:
        emu.put_ticket(world("a", updated_at=datetime(2025, 3, 4, 9, 12, 44, tzinfo=UTC)))
        saved = emu.issue("a")["fields"]["updated"]  # 2025-03-04T14:42:44.000+0530
        emu.inject(Reply(404, {"errorMessages": ["Not found"], "errors": {}}))
        async with connector_for(emu, service_desk=False) as jira:
            result = await jira.poll(incremental(saved))
            assert jira.user_zone is None
        assert jql_literal(searches(emu)[-1]) == datetime(2025, 3, 4, 14, 41)
        assert [t.title for t in result.tickets] == ["Ticket a"]


async def test_nothing_new_keeps_the_old_cursor() -> None:
    saved = incremental("2025-03-04T10:00:00.000+0100")
    with JiraEmulator() as emu:
        async with connector_for(emu) as jira:
            assert (await jira.poll(saved)).cursor == saved
            empty_backfill = await jira.poll(None)
        assert empty_backfill.tickets == ()
        state = SyncState.load(empty_backfill.cursor, datetime.now(UTC))
        assert state.backfill is None and state.incremental is None
        assert state.incremental_from is not None  # the next poll reads from the backfill's start


async def test_cursor_never_moves_back_to_an_overlap_reread() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(seconds=50)))
        ahead = (NOW - timedelta(seconds=20)).astimezone(emu.zone)
        saved = f"{ahead:%Y-%m-%dT%H:%M:%S}.000{ahead:%z}"
        async with connector_for(emu, service_desk=False) as jira:
            result = await jira.poll(incremental(saved))
        assert [t.title for t in result.tickets] == ["Ticket a"]
        assert position(result.cursor) == {"updated": saved}


async def test_issue_seen_twice_in_one_page_is_kept_once_in_its_newest_state() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", title="new title", status=TicketStatus.PENDING))
        current = emu.issue("a")
        stale = {
            **current,
            "fields": {
                **current["fields"],
                "summary": "old title",
                "updated": "2000-01-01T00:00:00.000+0000",
            },
        }
        async with connector_for(emu, service_desk=False) as jira:
            await jira.check()
            emu.inject(Reply(200, {"issues": [current, stale], "isLast": True}))
            result = await jira.poll(incremental("2025-03-04T10:00:00.000+0100"))
        assert [(t.key, t.title, t.status) for t in result.tickets] == [
            ("ITSD-1", "new title", TicketStatus.PENDING)
        ]


async def test_status_and_priority_mapping_over_the_wire() -> None:
    cases = {
        "new": (TicketStatus.NEW, Priority.P1),
        "open": (TicketStatus.OPEN, Priority.P2),
        "pending": (TicketStatus.PENDING, Priority.P3),
        "resolved": (TicketStatus.RESOLVED, Priority.P4),
        "closed": (TicketStatus.CLOSED, Priority.P5),
    }
    with JiraEmulator() as emu:
        for ref, (status, priority) in cases.items():
            emu.put_ticket(world(ref, status=status, priority=priority))
        for ref, native in (("canceled", "Canceled"), ("queue", "Waiting for support")):
            emu.put_ticket(world(ref))
            emu.set_native(ref, status=native)
        emu.put_ticket(world("no-priority", priority=None))
        async with connector_for(emu, service_desk=False) as jira:
            tickets = by_key((await jira.poll(None)).tickets)

    def mapped(ref: str) -> tuple[Any, ...]:
        t = tickets[emu.issue_key(ref)]
        return t.status, t.raw_status, t.priority, t.raw_priority

    assert mapped("new") == (TicketStatus.NEW, "Open", Priority.P1, "Highest")
    assert mapped("open") == (TicketStatus.OPEN, "Work in progress", Priority.P2, "High")
    assert mapped("pending") == (
        TicketStatus.PENDING,
        "Waiting for customer",
        Priority.P3,
        "Medium",
    )
    assert mapped("resolved") == (TicketStatus.RESOLVED, "Resolved", Priority.P4, "Low")
    assert mapped("closed") == (TicketStatus.CLOSED, "Closed", Priority.P5, "Lowest")
    assert mapped("canceled") == (TicketStatus.CLOSED, "Canceled", Priority.P3, "Medium")
    assert mapped("queue") == (TicketStatus.NEW, "Waiting for support", Priority.P3, "Medium")
    assert mapped("no-priority") == (TicketStatus.OPEN, "Work in progress", None, None)
    resolved = tickets[emu.issue_key("resolved")]
    assert resolved.resolved_at == NOW - timedelta(hours=1)
    assert tickets[emu.issue_key("canceled")].resolved_at is not None
    assert tickets[emu.issue_key("open")].resolved_at is None


async def test_tenant_overrides_win_over_the_built_in_mapping() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", status=TicketStatus.OPEN, priority=Priority.P3))
        emu.put_ticket(world("b", status=TicketStatus.NEW, priority=Priority.P5))
        async with connector_for(
            emu,
            service_desk=False,
            status_map={"work in progress": "pending"},
            priority_map={"Medium": "P1"},
        ) as jira:
            tickets = by_key((await jira.poll(None)).tickets)
    a, b = tickets[emu.issue_key("a")], tickets[emu.issue_key("b")]
    assert (a.status, a.raw_status, a.priority, a.raw_priority) == (
        TicketStatus.PENDING,
        "Work in progress",
        Priority.P1,
        "Medium",
    )
    assert (b.status, b.priority) == (TicketStatus.NEW, Priority.P5)


async def test_vendor_sla_and_first_response_from_jsm() -> None:
    overdue = NOW - timedelta(minutes=20)
    later = NOW + timedelta(hours=3)
    replied = NOW - timedelta(hours=4, minutes=30)
    with JiraEmulator() as emu:
        emu.put_ticket(world("overdue", due_at=overdue))
        emu.put_ticket(world("on-time", due_at=later, first_response_at=replied))
        emu.put_ticket(world("met", due_at=later, status=TicketStatus.RESOLVED, resolved_at=NOW))
        emu.put_ticket(
            world(
                "missed",
                due_at=overdue,
                status=TicketStatus.CLOSED,
                resolved_at=NOW - timedelta(minutes=5),
            )
        )
        emu.put_ticket(world("flagged", due_at=later, breached=True))
        emu.put_ticket(world("no-sla"))
        async with connector_for(emu) as jira:
            tickets = by_key((await jira.poll(None)).tickets)

    def sla(ref: str) -> tuple[datetime | None, bool | None]:
        t = tickets[emu.issue_key(ref)]
        return t.vendor_due_at, t.vendor_breached

    assert sla("overdue") == (overdue, True)
    assert sla("on-time") == (later, False)
    assert sla("met") == (None, False)
    assert sla("missed") == (None, True)
    assert sla("flagged") == (later, True)
    assert sla("no-sla") == (None, None)
    assert tickets[emu.issue_key("on-time")].first_response_at == replied
    assert tickets[emu.issue_key("overdue")].first_response_at is None
    raw_sla = tickets[emu.issue_key("overdue")].raw["sla"]
    assert raw_sla[0]["name"] == "Time to resolution"
    assert raw_sla[0]["ongoingCycle"]["remainingTime"]["millis"] < 0
    assert [r for r in emu.requests if "/servicedeskapi/" in r.path] == []


async def test_sla_fields_are_found_by_their_type_and_asked_for_by_id() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", due_at=NOW + timedelta(hours=2)))
        async with connector_for(emu) as jira:
            (ticket,) = (await jira.poll(None)).tickets
            assert jira.sla_fields == SLA_FIELDS
        (asked,) = [r for r in emu.requests if r.path == FIELD_PATH]
        assert asked.method == "GET"
        assert all(set(SLA_FIELDS) <= set(r.json()["fields"]) for r in searches(emu))
        assert ticket.vendor_due_at == NOW + timedelta(hours=2)
        assert [v["name"] for v in ticket.raw["sla"]] == ["Time to resolution"]
        assert RESOLUTION_SLA_FIELD in ticket.raw["fields"]


async def test_plain_jira_issues_have_no_sla_and_do_not_fail_the_poll() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("desk", due_at=NOW + timedelta(hours=1)))
        emu.put_ticket(world("software", due_at=NOW + timedelta(hours=1)))
        emu.set_native("software", project="DEV")
        async with connector_for(emu, group_field="") as jira:
            tickets = by_key((await jira.poll(None)).tickets)
        software = tickets[emu.issue_key("software")]
        assert software.key.startswith("DEV-")
        assert (software.vendor_due_at, software.vendor_breached) == (None, None)
        assert "sla" not in software.raw
        assert software.group == "DEV"  # no group_field: the project key
        assert tickets[emu.issue_key("desk")].vendor_due_at == NOW + timedelta(hours=1)
        assert tickets[emu.issue_key("desk")].group == "ITSD"


async def test_service_desk_off_asks_for_no_sla_fields() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", due_at=NOW + timedelta(hours=1)))
        async with connector_for(emu, service_desk="false") as jira:
            (ticket,) = (await jira.poll(None)).tickets
        assert [r for r in emu.requests if r.path == FIELD_PATH] == []
        assert not set(SLA_FIELDS) & set(searches(emu)[0].json()["fields"])
        assert ticket.vendor_due_at is None


async def test_field_list_forbidden_means_no_slas_not_a_failed_poll() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", due_at=NOW + timedelta(hours=1)))
        async with connector_for(emu) as jira:
            await jira.check()
            emu.inject(Reply(403, {"errorMessages": ["You may not list fields."], "errors": {}}))
            (ticket,) = (await jira.poll(None)).tickets
        assert ticket.vendor_due_at is None
        assert not set(SLA_FIELDS) & set(searches(emu)[0].json()["fields"])


async def test_wrong_token_is_an_auth_error_with_jiras_message() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu, api_token="wrong") as jira:
            with pytest.raises(AuthError) as info:
                await jira.poll(None)
            with pytest.raises(AuthError):
                await jira.check()
        assert info.value.http_status == 401
        assert "Client must be authenticated" in str(info.value)
        assert "wrong" not in str(info.value)


async def test_server_error_is_transient() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu) as jira:
            await jira.check()
            emu.inject(Reply(503, {"errorMessages": ["Service unavailable"], "errors": {}}))
            with pytest.raises(TransientError) as info:
                await jira.poll(incremental("2025-03-04T10:00:00.000+0100"))
        assert info.value.http_status == 503


async def test_injected_429_carries_retry_after() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu, service_desk=False) as jira:
            await jira.check()
            emu.inject(
                Reply(
                    429,
                    {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                    headers={"Retry-After": "17", "RateLimit-Reason": "jira-burst-based"},
                )
            )
            with pytest.raises(RateLimited) as info:
                await jira.poll(None)
        assert info.value.retry_after == 17.0


async def test_budget_reads_jiras_rate_limit_headers() -> None:
    with JiraEmulator(rate_limit=300) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as jira:
            result = await jira.poll(None)
            assert result.requests == 6  # myself, field, count, two backfill searches, one more
            assert jira.budget.limit == 300
            assert jira.budget.remaining == 294
            assert jira.budget.reset_in is not None and 0 <= jira.budget.reset_in <= 61
            assert jira.budget.waited == 0


async def test_budget_paces_before_jira_has_to_say_429() -> None:
    with JiraEmulator(rate_limit=3, rate_window=1.0) as emu:
        for i in range(4):
            emu.put_ticket(world(f"t{i}"))
        async with connector_for(emu, page_size=2) as jira:
            result = await jira.poll(None)  # 7 requests against 3 a second
        assert len(result.tickets) == 4
        assert jira.budget.waited > 0
        assert all(r.path for r in emu.requests)  # every request was answered, none refused


async def test_emulator_rate_limit_becomes_rate_limited() -> None:
    with JiraEmulator(rate_limit=1, rate_window=3600.0) as emu:
        async with connector_for(emu) as jira:
            await jira.check()
            jira.budget.remaining = None  # forget the budget: make the vendor say it
            with pytest.raises(RateLimited) as info:
                await jira.check()
        assert info.value.retry_after is not None and 1 <= info.value.retry_after <= 3600


async def test_invalid_next_page_token_is_jiras_400() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, service_desk=False) as jira:
            await jira.check()
            emu.inject(Reply(200, {"issues": [], "nextPageToken": "not-a-token", "isLast": False}))
            with pytest.raises(ConnectorError) as info:
                await jira.poll(incremental("2025-03-04T10:00:00.000+0100"))
        assert info.value.http_status == 400
        assert "next page token is invalid" in str(info.value)
        assert searches(emu)[-1].json()["nextPageToken"] == "not-a-token"


async def test_continuation_contradictions_are_bad_payload() -> None:
    saved = incremental("2025-03-04T10:00:00.000+0100")
    with JiraEmulator() as emu:
        async with connector_for(emu, service_desk=False) as jira:
            await jira.check()
            emu.inject(Reply(200, {"issues": [], "isLast": False}))
            with pytest.raises(BadPayload, match="no nextPageToken"):
                await jira.poll(saved)
            same = {"issues": [], "nextPageToken": "abc", "isLast": False}
            emu.inject(Reply(200, same), Reply(200, same))
            with pytest.raises(BadPayload, match="no progress"):
                await jira.poll(saved)


async def test_garbage_body_is_bad_payload() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu, service_desk=False) as jira:
            await jira.check()
            emu.inject(Reply(200, raw=b"<html>Atlassian Cloud Notifications</html>"))
            with pytest.raises(BadPayload):
                await jira.poll(incremental("2025-03-04T10:00:00.000+0100"))


async def test_project_setting_restricts_the_jql() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("desk"))
        emu.put_ticket(world("software"))
        emu.set_native("software", project="DEV")
        async with connector_for(emu, project="ITSD", service_desk=False) as jira:
            (ticket,) = (await jira.poll(None)).tickets
            assert ticket.key == emu.issue_key("desk")
        counted = next(r for r in emu.requests if r.path == COUNT_PATH).json()["jql"]
        assert counted.startswith('project = "ITSD" AND (statusCategory != Done OR updated >= "')
        assert searches(emu)[0].json()["jql"] == (
            'project = "ITSD" AND statusCategory != Done ORDER BY created ASC, key ASC'
        )
        assert all(r.json()["jql"].startswith('project = "ITSD" AND ') for r in searches(emu))
        async with connector_for(emu, project='No "Such" Project') as jira:
            with pytest.raises(ConnectorError) as info:
                await jira.poll(None)
        assert info.value.http_status == 400
        assert "does not exist for the field 'project'" in str(info.value)


async def test_foreign_cursor_means_backfill_and_backfill_days_is_honoured() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(
            world("closed-long-ago", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(days=3))
        )
        async with connector_for(emu, backfill_days=2, service_desk=False) as jira:
            result = await jira.poll({"after_cursor": "from another connector"})
        assert [t.title for t in result.tickets] == ["Ticket a"]
        (closed,) = jql_of(emu, "statusCategory = Done")
        literal = jql_literal(closed).replace(tzinfo=emu.zone)
        assert abs(literal - (datetime.now(UTC) - timedelta(days=2))) < timedelta(minutes=2)


async def test_hostile_summary_and_names_are_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with JiraEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, requester="Eve \x1b[31mRed\u202e"))
        async with connector_for(emu) as jira:
            (ticket,) = (await jira.poll(None)).tickets
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"
    assert ticket.requester is not None and not has_forbidden(ticket.requester)


async def test_site_url_and_rest_suffix_in_base_url() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a"))
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig(
            name="n",
            kind="jira",
            base_url=f"{emu.base_url}/rest/api/3/",
            settings={**values, "site_url": "https://acme.atlassian.net/"},
        )
        JiraConnector.validate(config)
        async with JiraConnector.make_client(config) as client:
            (ticket,) = (await JiraConnector(config, client).poll(None)).tickets
        assert ticket.url == f"https://acme.atlassian.net/browse/{key}"


@pytest.mark.parametrize(
    "bad",
    [
        {"page_size": "0"},
        {"page_size": "5001"},
        {"page_size": "2.5"},
        {"backfill_days": "soon"},
        {"backfill_days": "-1"},
        {"service_desk": "maybe"},
        {"group_field": "customfield 10001; drop"},
        {"site_url": "acme.atlassian.net"},
        {"status_map": {"Work in progress": "stalled"}},
        {"priority_map": {"High": "urgent"}},
        {"status_map": "Work in progress=pending"},
    ],
)
def test_validate_rejects_settings_that_cannot_work_naming_the_key(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as refused:
        JiraConnector.validate(
            VendorConfig(
                name="n",
                kind="jira",
                base_url="https://acme.atlassian.net",
                settings={**CREDS, **bad},
            )
        )
    (key,) = bad
    assert str(refused.value).startswith(f"vendor 'n' (jira): {key}")


def test_an_unknown_setting_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown setting 'servicedesk'"):
        JiraConnector.validate(
            VendorConfig(
                name="n",
                kind="jira",
                base_url="https://acme.atlassian.net",
                settings={**CREDS, "servicedesk": False},
            )
        )


def test_settings_are_typed_once_with_jiras_defaults() -> None:
    config = VendorConfig("n", "jira", "https://acme.atlassian.net", settings=CREDS)
    settings = JiraConnector.settings_of(config)
    assert (settings.page_size, settings.concurrency, settings.backfill_days) == (100, 4, 30.0)
    assert settings.service_desk is True and settings.create_issue_type == "Task"
    assert "'t'" not in repr(settings)  # the token is a secret


def test_validate_needs_email_and_token_and_accepts_good_overrides() -> None:
    with pytest.raises(ConfigurationError, match="email\\+api_token"):
        JiraConnector.validate(
            VendorConfig(
                name="n",
                kind="jira",
                base_url="https://acme.atlassian.net",
                settings={"email": "x"},
            )
        )
    JiraConnector.validate(
        VendorConfig(
            name="n",
            kind="jira",
            base_url="https://acme.atlassian.net",
            settings={
                **CREDS,
                "status_map": {"Awaiting vendor": "pending"},
                "priority_map": {"Critical": "p1"},
                "service_desk": False,
                "page_size": 100,
            },
        )
    )


# -- the emulator's own wire behaviour ------------------------------------------------


def client_for(emu: JiraEmulator) -> httpx2.Client:
    return httpx2.Client(base_url=emu.base_url, auth=httpx2.BasicAuth(emu.email, emu.api_token))


def test_emulator_defaults_work_for_demo_mode() -> None:
    emu = JiraEmulator()
    assert emu.vendor_settings() == {
        "kind": "jira",
        "email": "desk@acme.example",
        "api_token": "demo-token",
        "group_field": TEAM_FIELD,
    }
    with emu:
        key = emu.put_ticket(world("a", asset="PRN-3F-EAST"))
        assert key == "ITSD-1"
        assert emu.issue("a")["fields"]["labels"] == ["PRN-3F-EAST"]
        assert emu.put_ticket(world("a", title="again")) == "ITSD-1"
        with client_for(emu) as client:
            issue = client.get(f"/rest/api/3/issue/{key}").json()
        assert issue["fields"]["summary"] == "again"
        assert issue["fields"]["project"]["key"] == "ITSD"
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}", issue["fields"]["created"]
        )


def test_emulator_get_search_returns_only_requested_fields() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a"))
        with client_for(emu) as client:
            answer = client.get(
                SEARCH_PATH,
                params={"jql": "project = ITSD ORDER BY key DESC", "fields": "summary,status"},
            )
            bare = client.get(SEARCH_PATH, params={"jql": "key = ITSD-1"})
        body = answer.json()
        assert answer.status_code == 200
        assert set(body["issues"][0]["fields"]) == {"summary", "status"}
        assert body["isLast"] is True and "nextPageToken" not in body
        assert answer.headers["X-RateLimit-Limit"] == "500"
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", answer.headers["X-RateLimit-Reset"]
        )
        assert "fields" not in bare.json()["issues"][0]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("ORDER BY updated", "Unbounded"),
        ('updated >= "yesterday"', "Date value 'yesterday'"),
        ("summary ~ printer", "Field 'summary' does not exist"),
        ("project = ITSD AND", "Expecting"),
        ('project = "NOPE"', "The value 'NOPE' does not exist for the field 'project'."),
        ("project in (ITSD", "Expecting"),
    ],
)
def test_emulator_refuses_bad_jql_with_jiras_body(jql: str, message: str) -> None:
    with JiraEmulator() as emu, client_for(emu) as client:
        answer = client.post(SEARCH_PATH, json={"jql": jql})
    assert answer.status_code == 400
    body = answer.json()
    assert body["errors"] == {}
    assert message in body["errorMessages"][0]


def test_emulator_legacy_search_is_gone_and_auth_is_checked() -> None:
    with JiraEmulator() as emu:
        with client_for(emu) as client:
            gone = client.get("/rest/api/3/search", params={"jql": "project = ITSD"})
        with httpx2.Client(base_url=emu.base_url) as anonymous:
            refused = anonymous.get("/rest/api/3/myself")
    assert gone.status_code == 410
    assert "/rest/api/3/search/jql" in gone.json()["errorMessages"][0]
    assert refused.status_code == 401
    assert refused.json() == {
        "errorMessages": ["Client must be authenticated to access this resource."],
        "errors": {},
    }


def test_emulator_jql_dates_are_minute_precision_in_the_users_zone() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    updated = datetime(2025, 3, 4, 9, 12, 44, tzinfo=UTC)  # 14:42:44 in Kolkata
    with JiraEmulator(time_zone="Asia/Kolkata") as emu, client_for(emu) as client:
        emu.put_ticket(world("a", created_at=updated, updated_at=updated))

        def hits(literal: str) -> int:
            body = client.post(SEARCH_PATH, json={"jql": f'updated >= "{literal}"'}).json()
            return len(body["issues"])

        assert updated.astimezone(zone).strftime("%H:%M") == "14:42"
        assert hits("2025-03-04 14:42") == 1
        assert hits("2025/03/04 14:43") == 0
        assert hits("2025-03-04") == 1
        assert hits(str(int(updated.timestamp() * 1000))) == 1
        assert emu.issue("a")["fields"]["updated"] == "2025-03-04T14:42:44.000+0530"


def test_emulator_sla_endpoint_pages_and_404s_outside_service_desks() -> None:
    with JiraEmulator(sla_page_limit=1) as emu, client_for(emu) as client:
        emu.put_ticket(world("a", due_at=NOW + timedelta(hours=1), first_response_at=NOW))
        emu.put_ticket(world("b"))
        emu.set_native("b", project="DEV")
        first = client.get("/rest/servicedeskapi/request/ITSD-1/sla").json()
        second = client.get(
            "/rest/servicedeskapi/request/ITSD-1/sla", params={"start": 1, "limit": 10}
        ).json()
        missing = client.get(f"/rest/servicedeskapi/request/{emu.issue_key('b')}/sla")
    assert (first["size"], first["start"], first["limit"], first["isLastPage"]) == (1, 0, 1, False)
    assert "start=1" in first["_links"]["next"]
    assert second["isLastPage"] is True and second["values"][0]["name"] == "Time to resolution"
    breach = second["values"][0]["ongoingCycle"]["breachTime"]
    assert breach["epochMillis"] == int((NOW + timedelta(hours=1)).timestamp() * 1000)
    assert missing.status_code == 404
    assert "errorMessage" in missing.json() and "i18nErrorMessage" in missing.json()


def test_emulator_token_is_bound_to_its_query() -> None:
    with JiraEmulator() as emu, client_for(emu) as client:
        for ref in ("a", "b"):
            emu.put_ticket(world(ref))
        first = client.post(SEARCH_PATH, json={"jql": "project = ITSD", "maxResults": 1}).json()
        token = first["nextPageToken"]
        other = client.post(SEARCH_PATH, json={"jql": "project = DEV", "nextPageToken": token})
        follow = client.post(
            SEARCH_PATH, json={"jql": "project = ITSD", "maxResults": 1, "nextPageToken": token}
        ).json()
    assert other.status_code == 400
    assert [i["key"] for i in first["issues"] + follow["issues"]] == ["ITSD-1", "ITSD-2"]
    assert follow["isLast"] is True


def test_emulator_issues_carry_the_keys_of_the_real_capture() -> None:
    """Same keys as the capture's issues and field objects: none extra, none missing."""
    capture = json.loads(CAPTURE.read_text(encoding="utf-8"))["issues"][0]
    with JiraEmulator() as emu:
        emu.put_ticket(
            world("a", status=TicketStatus.RESOLVED, description="You better be created")
        )
        emu.put_entry(
            "a", WorldEntry("c", "Kim Lee", "Dummy link 2", NOW - timedelta(hours=2), "internal")
        )
        with client_for(emu) as client:
            fields = sorted(capture["fields"])
            answer = client.post(SEARCH_PATH, json={"jql": "key = ITSD-1", "fields": fields})
        (issue,) = answer.json()["issues"]
    # renderedFields and transitions are in the capture only because it asked to expand them.
    assert set(issue) == set(capture) - {"renderedFields", "transitions"}
    ours, theirs = issue["fields"], capture["fields"]
    for name in ("status", "priority", "project", "issuetype", "description", "comment"):
        assert set(ours[name]) == set(theirs[name]), name
    assert set(ours["status"]["statusCategory"]) == set(theirs["status"]["statusCategory"])
    assert set(ours["comment"]["comments"][0]) == set(theirs["comment"]["comments"][0])
    for person in ("assignee", "reporter", "creator"):  # an e-mail only where the user shows it
        assert set(ours[person]) - {"emailAddress"} == set(theirs[person]) - {"emailAddress"}
    assert set(ours["resolution"]) == {"self", "id", "description", "name"}

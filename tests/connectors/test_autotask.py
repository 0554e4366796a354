"""The Autotask connector against the Autotask emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.autotask import AutotaskConnector
from connectors.autotask.api import is_trusted_api_url, is_trusted_web_url
from connectors.base import VendorConfig
from connectors.emulators.autotask import AutotaskEmulator
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_iso
from tests.hostile import has_forbidden

NOW = datetime.now(UTC)
QUERY = "/ATServicesRest/V1.0/Tickets/query"
OVERLAP = timedelta(seconds=60)
"""The default ``overlap_seconds``."""


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
        "group": "Service Desk",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: AutotaskEmulator, base_url: str | None = None, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="psa", kind=kind, base_url=base_url or emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(
    emu: AutotaskEmulator, base_url: str | None = None, **settings: Any
) -> AsyncIterator[AutotaskConnector]:
    config = config_for(emu, base_url, **settings)
    AutotaskConnector.validate(config)
    async with AutotaskConnector.make_client(config) as client:
        yield AutotaskConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def sent(emu: AutotaskEmulator, path: str) -> list[Request]:
    return [r for r in emu.requests if r.path.lower().startswith(path.lower())]


def ticket_pages(emu: AutotaskEmulator, phase: str | None = None) -> list[Request]:
    """Ticket query pages (not counts); ``backfill`` or ``incremental`` ones only when asked."""
    pages = [r for r in emu.requests if r.path in (QUERY, f"{QUERY}/next")]
    if phase is None:
        return pages
    backfill = [r for r in pages if r.json()["filter"][-1]["op"] == "or"]
    return backfill if phase == "backfill" else [r for r in pages if r not in backfill]


def incremental_since(cursor: dict[str, Any] | None) -> datetime:
    """The incremental ``since`` in a two-phase cursor."""
    assert cursor is not None and cursor["incremental"] is not None
    return datetime.fromisoformat(cursor["incremental"]["since"])


def zone_reply(emu: AutotaskEmulator, **fields: Any) -> Reply:
    return Reply(
        200,
        {
            "zoneName": "America East",
            "url": f"{emu.base_url}/ATServicesRest/",
            "webUrl": f"{emu.base_url}/",
            "ci": 29683,
            **fields,
        },
    )


async def test_full_poll_follows_next_page_urls_with_the_same_body() -> None:
    with AutotaskEmulator() as emu:
        keys = [emu.put_ticket(world(f"t{i}", assignee=f"Agent {i % 2}")) for i in range(5)]
        async with connector_for(emu, page_size=2) as at:
            polled_at = datetime.now(UTC)  # NOW is the module's import time
            result = await at.poll(None)

        tickets = by_key(result.tickets)
        assert set(tickets) == set(keys)
        for key in keys:
            ticket = tickets[key]
            native_id = int(ticket.external_id)
            assert ticket.group == "Service Desk"
            assert ticket.requester == "Maria Jensen"
            assert ticket.url == (
                f"{emu.base_url}/Mvc/ServiceDesk/TicketDetail.mvc"
                f"?workspace=False&ids%5B0%5D={native_id}&ticketId={native_id}"
            )
        assert {t.assignee for t in result.tickets} == {"Agent 0", "Agent 1"}
        pages = ticket_pages(emu, "backfill")
        assert [r.path for r in pages] == [QUERY, f"{QUERY}/next", f"{QUERY}/next"]
        assert all(r.method == "POST" for r in pages)
        bodies = [r.json() for r in pages]
        assert all(b == bodies[0] for b in bodies)
        assert bodies[0]["MaxRecords"] == 2
        assert "id" in bodies[0]["IncludeFields"]
        (scope,) = bodies[0]["filter"]
        not_closed, recent = scope["items"]
        assert (not_closed["op"], not_closed["field"], not_closed["value"]) == (
            "notIn",
            "status",
            [5, 21],  # Complete, and this tenant's custom "Resolved"
        )
        assert (recent["op"], recent["field"]) == ("gte", "lastActivityDate")
        since = parse_iso(recent["value"])
        assert (
            since is not None
            and abs((since - (polled_at - timedelta(days=30))).total_seconds()) < 120
        )
        (count,) = sent(emu, f"{QUERY}/count")
        assert count.json() == {"filter": [scope]}
        # Every request is accounted for on some page: zone, threshold, picklists, count,
        # 3 ticket pages with their notes and attachments, 2 name lookups, 1 incremental page.
        assert result.requests == len(emu.requests) == 16
        assert result.progress is not None and result.progress.phase == "incremental"
        (incremental,) = ticket_pages(emu, "incremental")
        assert incremental.json()["filter"][0]["field"] == "lastActivityDate"
        assert result.cursor is not None and result.cursor["backfill"] is None
        assert incremental_since(result.cursor) <= datetime.now(UTC) - OVERLAP


async def test_zone_is_discovered_once_and_every_call_carries_the_auth_headers() -> None:
    with AutotaskEmulator(username="api@acme.example", secret="s3cret") as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            await at.poll(first.cursor)
        zone_calls = sent(emu, "/atservicesrest/v1.0/zoneInformation")
        assert len(zone_calls) == 1
        assert zone_calls[0].param("user") == "api@acme.example"
        assert emu.requests[0] is zone_calls[0]
        for request in emu.requests:
            assert request.headers["username"] == "api@acme.example"
            assert request.headers["secret"] == "s3cret"
            assert request.headers["apiintegrationcode"] == emu.integration_code
        assert all(r.path.startswith("/ATServicesRest/V1.0/") for r in emu.requests[1:])


async def test_zone_on_a_foreign_host_is_refused_before_any_credentials_leave() -> None:
    with AutotaskEmulator() as emu:
        emu.inject(zone_reply(emu, url="https://webservices5.autotask.net/ATServicesRest/"))
        async with connector_for(emu) as at:
            with pytest.raises(ConfigurationError, match=r"webservices5\.autotask\.net"):
                await at.poll(None)
            assert at.api.zone is None
        assert len(emu.requests) == 1


async def test_next_page_url_off_the_zone_is_not_followed() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        emu.link_root = "https://evil.example"
        async with connector_for(emu, page_size=1) as at:
            with pytest.raises(BadPayload, match=r"evil\.example"):
                await at.poll(None)
        assert len(ticket_pages(emu)) == 1


def test_which_hosts_may_receive_credentials_and_links() -> None:
    lookup = "https://webservices.autotask.net"
    assert is_trusted_api_url("https://webservices5.autotask.net/ATServicesRest/", lookup)
    assert is_trusted_api_url("https://webservices.autotask.net/ATServicesRest/", lookup)
    assert not is_trusted_api_url("http://webservices5.autotask.net/ATServicesRest/", lookup)
    assert not is_trusted_api_url("https://webservices5.autotask.net.evil.example/", lookup)
    assert not is_trusted_api_url("https://user@webservices5.autotask.net/", lookup)
    assert not is_trusted_api_url("http://127.0.0.1:9/ATServicesRest/", lookup)
    assert is_trusted_api_url("https://psa.example/ATServicesRest/", "https://psa.example")
    assert not is_trusted_api_url("https://other.example/", "https://psa.example")
    assert is_trusted_api_url("http://127.0.0.1:9/x/", "http://127.0.0.1:8")
    assert not is_trusted_api_url("https://webservices5.autotask.net/", "http://127.0.0.1:8")
    assert is_trusted_web_url("https://ww5.autotask.net/", lookup)
    assert not is_trusted_web_url("http://ww5.autotask.net/", lookup)
    assert not is_trusted_web_url("https://evil.example/", lookup)
    assert not is_trusted_web_url("https://ww5.autotask.net/?x=1", lookup)
    assert is_trusted_web_url("http://127.0.0.1:8/", "http://127.0.0.1:8")


async def test_zone_url_with_doubled_slashes_is_tidied() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.inject(zone_reply(emu, url=f"{emu.base_url}//ATServicesRest"))
        async with connector_for(emu) as at:
            assert len((await at.poll(None)).tickets) == 1
            assert at.api.zone is not None
            assert at.api.zone.api_url == f"{emu.base_url}/ATServicesRest/"


async def test_untrusted_web_url_means_no_ticket_links() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.inject(zone_reply(emu, webUrl="https://evil.example/"))
        async with connector_for(emu) as at:
            (ticket,) = (await at.poll(None)).tickets
        assert ticket.url is None


async def test_empty_page_with_a_next_url_is_not_the_end() -> None:
    with AutotaskEmulator() as emu:
        keys = {ref: emu.put_ticket(world(ref)) for ref in ("a", "b", "c", "d")}
        emu.hide("a")
        emu.hide("b")
        async with connector_for(emu, page_size=2) as at:
            result = await at.poll(None)
        assert set(by_key(result.tickets)) == {keys["c"], keys["d"]}
        pages = ticket_pages(emu, "backfill")
        assert len(pages) == 2
        assert pages[1].path == f"{QUERY}/next"


async def test_poll_from_cursor_returns_what_changed_plus_the_overlap() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("b", updated_at=NOW - timedelta(hours=2)))
        emu.put_ticket(world("c", updated_at=NOW - timedelta(hours=3)))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            assert len(first.tickets) == 3
            assert first.cursor is not None

            changed_at = datetime.now(UTC)  # changes after the first sync, stamped as they happen
            key_b = emu.put_ticket(
                world("b", title="now waiting", status=TicketStatus.PENDING, updated_at=changed_at)
            )
            key_d = emu.put_ticket(world("d", updated_at=changed_at))
            second = await at.poll(first.cursor)
            changed = by_key(second.tickets)
            assert set(changed) == {key_b, key_d}
            assert changed[key_b].status is TicketStatus.PENDING
            assert changed[key_b].raw_status == "Waiting Vendor"
            assert changed[key_b].title == "now waiting"
            condition = ticket_pages(emu)[-1].json()["filter"][0]
            assert condition["field"] == "lastActivityDate"
            sent_since = parse_iso(condition["value"])  # Autotask's form: milliseconds
            assert sent_since is not None
            wanted = incremental_since(first.cursor) - OVERLAP
            assert timedelta(0) <= wanted - sent_since < timedelta(milliseconds=1)

            third = await at.poll(second.cursor)
            # Nothing changed: only the overlap window is read again, and the cursor stays.
            assert set(by_key(third.tickets)) == {key_b, key_d}
            assert third.cursor == second.cursor


async def test_an_update_sharing_the_cursor_instant_is_not_missed() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            stamp = datetime.now(UTC)
            emu.put_ticket(world("a", updated_at=stamp))
            second = await at.poll(first.cursor)
            assert incremental_since(second.cursor) == stamp.replace(
                microsecond=stamp.microsecond // 1000 * 1000
            )
            key = emu.put_ticket(world("b", updated_at=stamp))
            third = await at.poll(second.cursor)
        assert key in by_key(third.tickets)


async def test_cursor_never_passes_the_polls_own_start() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("future", updated_at=NOW + timedelta(hours=2)))
        async with connector_for(emu) as at:
            before = datetime.now(UTC)
            result = await at.poll(None)
        since = incremental_since(result.cursor)
        assert before - OVERLAP <= since <= datetime.now(UTC)


async def test_ticket_seen_twice_in_one_poll_is_kept_once_in_its_latest_state() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a", title="first title"))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            key = emu.put_ticket(world("a", title="new title", updated_at=datetime.now(UTC)))
            stale = emu.ticket("a") | {
                "title": "old title",
                "lastActivityDate": "2000-01-01T00:00:00.000Z",
            }
            paging = json.dumps({"pageSize": 500, "previousIds": [-1], "nextIds": [-1]})
            emu.inject(
                Reply(
                    200,
                    {
                        "items": [stale],
                        "pageDetails": {
                            "count": 1,
                            "requestCount": 500,
                            "prevPageUrl": None,
                            "nextPageUrl": f"{emu.base_url}{QUERY}/next?paging={paging}",
                        },
                    },
                )
            )
            second = await at.poll(first.cursor)
        assert [(t.key, t.title) for t in second.tickets] == [(key, "new title")]


async def test_status_priority_and_overrides_over_the_wire() -> None:
    cases = {
        "new": (TicketStatus.NEW, Priority.P1),
        "open": (TicketStatus.OPEN, Priority.P2),
        "pending": (TicketStatus.PENDING, Priority.P3),
        "resolved": (TicketStatus.RESOLVED, Priority.P4),
        "closed": (TicketStatus.CLOSED, Priority.P5),
    }
    with AutotaskEmulator() as emu:
        keys = {
            ref: emu.put_ticket(world(ref, status=s, priority=p)) for ref, (s, p) in cases.items()
        }
        keys["customer"] = emu.put_ticket(world("customer"))
        emu.set_native("customer", status=7)
        async with connector_for(emu) as at:
            plain = by_key((await at.poll(None)).tickets)
        async with connector_for(
            emu, status_map={"8": "pending"}, priority_map={"High": "P1"}
        ) as at:
            custom = by_key((await at.poll(None)).tickets)

    def mapped(tickets: dict[str, TicketRecord], ref: str) -> tuple[Any, ...]:
        t = tickets[keys[ref]]
        return t.status, t.raw_status, t.priority, t.raw_priority

    assert mapped(plain, "new") == (TicketStatus.NEW, "New", Priority.P1, "Critical")
    assert mapped(plain, "open") == (TicketStatus.OPEN, "In Progress", Priority.P2, "High")
    assert mapped(plain, "pending") == (
        TicketStatus.PENDING,
        "Waiting Vendor",
        Priority.P3,
        "Medium",
    )
    assert mapped(plain, "resolved") == (TicketStatus.RESOLVED, "Resolved", Priority.P4, "Low")
    assert mapped(plain, "closed") == (TicketStatus.CLOSED, "Complete", Priority.P4, "Low")
    assert mapped(plain, "customer")[:2] == (TicketStatus.PENDING, "Waiting Customer")
    assert mapped(custom, "open") == (TicketStatus.PENDING, "In Progress", Priority.P1, "High")
    assert mapped(custom, "new")[:3] == (TicketStatus.NEW, "New", Priority.P1)


def test_invalid_overrides_are_configuration_errors() -> None:
    creds = {"username": "u", "secret": "s", "integration_code": "c"}
    for bad in (
        {"status_map": {"8": "waiting"}},
        {"priority_map": {"1": "P9"}},
        {"status_map": "8=pending"},
    ):
        with pytest.raises(ConfigurationError):
            AutotaskConnector.validate(
                VendorConfig(
                    name="psa",
                    kind="autotask",
                    base_url="https://webservices.autotask.net",
                    settings={**creds, **bad},
                )
            )


async def test_without_field_metadata_codes_still_map() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.PENDING, priority=Priority.P2))
        emu.inject(
            zone_reply(emu),
            Reply(200, {"externalRequestThreshold": 10000, "currentTimeframeRequestCount": 5}),
            Reply(403, {"errors": ["The logged in user does not have access to this entity."]}),
        )
        async with connector_for(emu) as at:
            (ticket,) = (await at.poll(None)).tickets
        assert ticket.key == key
        assert (ticket.status, ticket.raw_status) == (TicketStatus.PENDING, "12")
        assert (ticket.priority, ticket.raw_priority) == (Priority.P2, "1")
        assert ticket.group == f"queue {emu.queue_id('Service Desk')}"


async def test_configuration_item_names_are_resolved_and_cached() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a", asset="FW-HQ-01"))
        async with connector_for(emu) as at:
            (ticket,) = (await at.poll(None)).tickets
            assert ticket.asset == "FW-HQ-01"
            await at.poll(None)
        assert len(sent(emu, "/ATServicesRest/V1.0/ConfigurationItems/query")) == 1
        assert len(sent(emu, "/ATServicesRest/V1.0/Resources/query")) == 1


async def test_names_without_permission_fall_back_to_ids_and_are_not_retried() -> None:
    with AutotaskEmulator() as emu:
        emu.denied_entities.add("Resources")
        emu.put_ticket(world("a"))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            emu.put_ticket(
                world(
                    "b",
                    assignee="New Tech",
                    requester="New Person",
                    updated_at=datetime.now(UTC),
                )
            )
            second = await at.poll(first.cursor)
        (old,) = first.tickets
        assert old.assignee == f"resource {emu.ticket('a')['assignedResourceID']}"
        assert old.requester == "Maria Jensen"  # only the refused entity falls back
        new = by_key(second.tickets)[emu.ticket("b")["ticketNumber"]]
        assert new.assignee == f"resource {emu.ticket('b')['assignedResourceID']}"
        assert new.requester == "New Person"
        assert len(sent(emu, "/ATServicesRest/V1.0/Resources/query")) == 1


async def test_names_can_be_switched_off() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, resolve_names="false") as at:
            (ticket,) = (await at.poll(None)).tickets
        assert ticket.assignee is not None and ticket.assignee.startswith("resource ")
        assert ticket.requester is not None and ticket.requester.startswith("contact ")
        assert sent(emu, "/ATServicesRest/V1.0/Resources") == []


async def test_vendor_sla_fields() -> None:
    overdue = NOW - timedelta(minutes=20)
    later = NOW + timedelta(hours=3)
    answered = NOW - timedelta(hours=4)
    with AutotaskEmulator() as emu:
        keys = {
            "overdue": emu.put_ticket(world("overdue", due_at=overdue)),
            "on-time": emu.put_ticket(world("on-time", due_at=later, first_response_at=answered)),
            "flagged": emu.put_ticket(world("flagged", due_at=later, breached=True)),
            "met": emu.put_ticket(world("met", due_at=later, status=TicketStatus.CLOSED)),
            "none": emu.put_ticket(world("none")),
        }
        async with connector_for(emu) as at:
            tickets = by_key((await at.poll(None)).tickets)

    def sla(ref: str) -> tuple[datetime | None, bool | None]:
        t = tickets[keys[ref]]
        return t.vendor_due_at, t.vendor_breached

    ms = overdue.microsecond // 1000 * 1000
    assert sla("overdue") == (overdue.replace(microsecond=ms), True)
    assert sla("on-time") == (later.replace(microsecond=later.microsecond // 1000 * 1000), False)
    assert sla("flagged")[1] is True
    assert sla("met")[1] is False
    assert sla("none") == (None, None)
    first = tickets[keys["on-time"]].first_response_at
    assert first == answered.replace(microsecond=answered.microsecond // 1000 * 1000)
    assert tickets[keys["met"]].resolved_at is not None


async def test_wrong_secret_is_an_auth_error() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu, secret="wrong-secret") as at:
            with pytest.raises(AuthError) as info:
                await at.poll(None)
        assert info.value.http_status == 401
        assert "not valid" in str(info.value)
        assert "wrong-secret" not in str(info.value)


async def test_server_error_is_transient_and_429_is_rate_limited() -> None:
    with AutotaskEmulator() as emu:
        emu.inject(
            Reply(500, {"errors": ["Object reference not set to an instance of an object."]})
        )
        async with connector_for(emu) as at:
            with pytest.raises(TransientError) as transient:
                await at.poll(None)
            emu.inject(Reply(429, {"errors": ["Too many requests"]}, headers={"Retry-After": "30"}))
            with pytest.raises(RateLimited) as limited:
                await at.poll(None)
    assert transient.value.http_status == 500
    assert "Object reference" in str(transient.value)
    assert limited.value.retry_after == 30.0


async def test_threshold_reading_feeds_the_budget() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as at:
            await at.poll(None)
            assert at.budget.limit == 10_000
            assert at.budget.remaining == 10_000 - emu.usage()
            assert at.budget.waited == 0.0
            checked = at.api.threshold_checked_at
            await at.poll(None)
            # Under half the threshold, the reading is not repeated every poll.
            assert at.api.threshold_checked_at == checked
        assert len(sent(emu, "/ATServicesRest/V1.0/ThresholdInformation")) == 1


@pytest.mark.slow
async def test_busy_tenant_is_paced_and_rechecked_every_poll() -> None:
    with AutotaskEmulator(request_threshold=100, prior_usage=80, inject_latency=False) as emu:
        async with connector_for(emu, resolve_names="false") as at:
            await at.poll(None)
            assert at.budget.remaining is not None and at.budget.remaining <= 25
            assert at.budget.waited >= 2.0  # picklists, count and query each waited a second
            readings = len(sent(emu, "/ATServicesRest/V1.0/ThresholdInformation"))
            await at.poll(None)
        # Past half the threshold, every phase of every poll reads it again.
        assert readings == 2  # backfill, then incremental
        assert len(sent(emu, "/ATServicesRest/V1.0/ThresholdInformation")) == 2 * readings


async def test_tenant_at_its_threshold_stops_before_querying() -> None:
    with AutotaskEmulator(request_threshold=50, prior_usage=49, inject_latency=False) as emu:
        async with connector_for(emu) as at:
            with pytest.raises(RateLimited, match="50 of 50") as info:
                await at.poll(None)
        assert info.value.retry_after == 300.0
        assert sent(emu, QUERY) == []  # neither a count nor a page


async def test_garbage_body_is_bad_payload() -> None:
    with AutotaskEmulator() as emu:
        emu.inject(Reply(200, raw=b"<html>maintenance</html>"))
        async with connector_for(emu) as at:
            with pytest.raises(BadPayload):
                await at.poll(None)


async def test_hostile_title_and_names_are_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, assignee="Eve \x1b[31mRed\u202e"))
        async with connector_for(emu) as at:
            (ticket,) = (await at.poll(None)).tickets
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"
    assert ticket.assignee is not None and not has_forbidden(ticket.assignee)


async def test_check_reports_the_zone() -> None:
    with AutotaskEmulator(zone_name="America West 5") as emu:
        async with connector_for(emu) as at:
            assert await at.check() == "ok, zone America West 5"
        assert emu.requests[-1].path == "/ATServicesRest/V1.0/Tickets/entityInformation"
        emu.inject(zone_reply(emu), Reply(200, {"info": {"name": "Ticket", "canQuery": False}}))
        async with connector_for(emu) as at:
            with pytest.raises(ConnectorError, match="may not query tickets"):
                await at.check()


async def test_unknown_user_fails_at_the_zone_lookup() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu, username="nobody@acme.example") as at:
            with pytest.raises(TransientError) as info:
                await at.check()
        assert info.value.http_status == 500


async def test_base_url_with_the_rest_path_is_tolerated() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, base_url=f"{emu.base_url}/ATServicesRest/V1.0/") as at:
            assert len((await at.poll(None)).tickets) == 1
        assert emu.requests[0].path == "/atservicesrest/v1.0/zoneInformation"


def test_validate_rejects_missing_credentials_and_bad_numbers() -> None:
    base = "https://webservices.autotask.net"
    with pytest.raises(ConfigurationError, match="username\\+secret\\+integration_code"):
        AutotaskConnector.validate(
            VendorConfig(name="p", kind="autotask", base_url=base, settings={"username": "u"})
        )
    creds = {"username": "u", "secret": "s", "integration_code": "c"}
    for bad in ({"page_size": "0"}, {"page_size": "501"}, {"backfill_days": "-1"}):
        with pytest.raises(ConfigurationError):
            AutotaskConnector.validate(
                VendorConfig(name="p", kind="autotask", base_url=base, settings={**creds, **bad})
            )


# -- the emulator's own wire behaviour ------------------------------------------------


def test_emulator_wire_format() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        zone = httpx2.get(
            f"{emu.base_url}/ATServicesRest/V1.0/zoneInformation", params={"user": emu.username}
        )
        assert zone.json()["url"] == f"{emu.base_url}/ATServicesRest/"
        refused = httpx2.post(f"{emu.base_url}{QUERY}", json={"filter": []})
        assert refused.status_code == 401 and isinstance(refused.json()["errors"], list)
        headers = {
            "ApiIntegrationCode": emu.integration_code,
            "UserName": emu.username,
            "Secret": emu.secret,
        }
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            search = {"MaxRecords": 1, "filter": [{"op": "exist", "field": "id"}]}
            first = client.get(
                "/atservicesrest/v1.0/tickets/query", params={"search": json.dumps(search)}
            )
            assert first.status_code == 200
            page = first.json()
            assert page["pageDetails"]["count"] == 1 and page["pageDetails"]["requestCount"] == 1
            next_url = page["pageDetails"]["nextPageUrl"]
            assert "/query/next?paging=" in next_url and "&search=" in next_url
            assert client.get(next_url).json()["pageDetails"]["nextPageUrl"] is None
            posted = client.post(QUERY, json=search).json()["pageDetails"]["nextPageUrl"]
            wrong = client.get(posted)
            assert wrong.status_code == 405
            assert "does not support http method 'GET'" in wrong.json()["Message"]
            assert client.post(posted, json=search).json()["items"][0]["id"] == emu.ticket_id("b")
            too_many = client.post(QUERY, json={"MaxRecords": 501, "filter": search["filter"]})
            assert too_many.status_code == 500 and "MaxRecords" in too_many.json()["errors"][0]
            unknown = client.post(
                QUERY, json={"filter": [{"op": "eq", "field": "nope", "value": 1}]}
            )
            assert unknown.status_code == 500
            threshold = client.get("/ATServicesRest/V1.0/ThresholdInformation").json()
            assert threshold == {
                "externalRequestThreshold": 10000,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": 8,
            }


def test_emulator_keeps_native_shapes() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.CLOSED, asset="FW-HQ-01"))
        native = emu.ticket("a")
        assert key == native["ticketNumber"]
        assert key == f"T{(NOW - timedelta(hours=5)).strftime('%Y%m%d')}.0001"
        assert native["status"] == 5 and native["priority"] == 2
        assert native["createDate"].endswith("Z") and len(native["createDate"]) == 24
        assert native["completedDate"] is not None and native["companyID"] == 174
        assert isinstance(native["configurationItemID"], int)
        assert emu.put_ticket(world("a")) == key
        assert emu.ticket("a")["completedDate"] is None


def test_emulator_injects_latency_and_refuses_at_the_threshold() -> None:
    emu = AutotaskEmulator(request_threshold=10, prior_usage=5)
    headers = {
        "apiintegrationcode": emu.integration_code,
        "username": emu.username,
        "secret": emu.secret,
    }
    request = Request("GET", "/ATServicesRest/V1.0/ThresholdInformation", {}, headers)
    delays = [emu.handle(request).delay for _ in range(5)]
    assert delays == [0.5, 0.5, 1.0, 1.0, 1.0]
    over = emu.handle(request)
    assert over.status == 429 and over.body is not None and "threshold" in over.body["errors"][0]

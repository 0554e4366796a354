"""The Zendesk connector against the Zendesk emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.zendesk import (
    EVENTS_PATH,
    EXPORT_PATH,
    SEARCH_COUNT_PATH,
    SEARCH_EXPORT_PATH,
    SHOW_MANY_PATH,
    ZendeskEmulator,
    encode_cursor,
)
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.zendesk import ZendeskConnector
from tests.hostile import has_forbidden

NOW = datetime.now(UTC)
GROUPS = ("Desktop Support", "Network", "Desktop Support", "Network", "HR")


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
        "group": "Desktop Support",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: ZendeskEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="desk", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(emu: ZendeskEmulator, **settings: Any) -> AsyncIterator[ZendeskConnector]:
    config = config_for(emu, **settings)
    ZendeskConnector.validate(config)
    async with ZendeskConnector.make_client(config) as client:
        yield ZendeskConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def export_requests(emu: ZendeskEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path == EXPORT_PATH]


def event_requests(emu: ZendeskEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path == EVENTS_PATH]


def incremental_cursor(cursor: Any) -> dict[str, Any]:
    """The connector's own incremental position inside the two-phase cursor."""
    assert isinstance(cursor, dict) and cursor["v"] == 2 and cursor["backfill"] is None
    position: dict[str, Any] = cursor["incremental"]
    return position


async def synced(zd: ZendeskConnector) -> dict[str, Any]:
    """Run a first poll (backfill and incremental) to the end; return its cursor."""
    first = await zd.poll(None)
    assert first.cursor is not None
    return first.cursor


async def test_first_poll_backfills_then_reads_the_export_with_sideloaded_names() -> None:
    with ZendeskEmulator() as emu:
        keys = {
            emu.put_ticket(
                world(f"t{i}", requester=f"Requester {i}", assignee=f"Agent {i % 2}", group=g)
            ): i
            for i, g in enumerate(GROUPS)
        }
        before = datetime.now(UTC)
        async with connector_for(emu, page_size=2) as zd:
            result = await zd.poll(None)

        tickets = by_key(result.tickets)
        assert set(tickets) == set(keys)
        for key, i in keys.items():
            ticket = tickets[key]
            assert ticket.requester == f"Requester {i}"
            assert ticket.assignee == f"Agent {i % 2}"
            assert ticket.group == GROUPS[i]
            assert ticket.url == f"{emu.base_url}/agent/tickets/{key.removeprefix('#')}"
        first_export = next(i for i, r in enumerate(emu.requests) if r.path == EXPORT_PATH)
        searches = [r for r in emu.requests[:first_export] if r.path == SEARCH_EXPORT_PATH]
        assert [r.param("page[size]") for r in searches] == ["2", "2", "2", "2"]
        assert all(r.param("filter[type]") == "ticket" for r in searches)
        assert [r.param("query") for r in searches[:3]] == ["status<solved"] * 3
        assert (searches[3].param("query") or "").startswith("status>=solved updated>")
        show_many = [r for r in emu.requests if r.path == SHOW_MANY_PATH]
        assert all(r.param("include") == "users,groups,slas" for r in show_many)
        # The incremental phase starts where the backfill began, minus the 600 s overlap.
        sent = export_requests(emu)
        assert all(r.param("per_page") == "2" for r in sent)
        assert all(r.param("include") == "users,groups,slas" for r in sent)
        start_time = int(sent[0].param("start_time") or 0)
        # The backfill began after ``before`` (however long a loaded machine took to page).
        assert (before - timedelta(seconds=601)).timestamp() <= start_time
        assert start_time <= (datetime.now(UTC) - timedelta(seconds=599)).timestamp()
        assert all(r.param("start_time") is None and r.param("cursor") for r in sent[1:])
        position = incremental_cursor(result.cursor)
        assert isinstance(position["after_cursor"], str)
        assert isinstance(position["events_from"], int)
        assert result.requests == len(emu.requests)


async def test_basic_auth_uses_email_slash_token() -> None:
    with ZendeskEmulator(email="ops@acme.example", api_token="s3cret") as emu:
        async with connector_for(emu) as zd:
            await zd.check()
        header = emu.requests[-1].headers["authorization"]
        assert base64.b64decode(header.removeprefix("Basic ")) == b"ops@acme.example/token:s3cret"


async def test_empty_page_without_end_of_stream_is_not_the_end() -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        async with connector_for(emu) as zd:
            cursor = await synced(zd)
            before = len(export_requests(emu))
            from_start = encode_cursor(0, -1)
            emu.inject(
                Reply(
                    200,
                    {
                        "tickets": [],
                        "after_cursor": from_start,
                        "after_url": f"{emu.base_url}{EXPORT_PATH}?cursor={from_start}",
                        "before_cursor": None,
                        "before_url": None,
                        "end_of_stream": False,
                    },
                )
            )
            result = await zd.poll(cursor)
        assert sorted(t.title for t in result.tickets) == ["Ticket a", "Ticket b"]
        sent = export_requests(emu)[before:]
        assert len(sent) == 2
        assert sent[1].param("cursor") == from_start


async def test_poll_from_saved_cursor_returns_only_what_changed() -> None:
    with ZendeskEmulator() as emu:
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref))
        async with connector_for(emu) as zd:
            first = await zd.poll(None)
            assert len(first.tickets) == 3

            emu.put_ticket(world("b", title="Ticket b, now solved", status=TicketStatus.RESOLVED))
            new_key = emu.put_ticket(world("d"))
            sent = len(emu.requests)
            second = await zd.poll(first.cursor)

            changed = by_key(second.tickets)
            assert set(changed) == {f"#{emu.ticket_id('b')}", new_key}
            assert changed[f"#{emu.ticket_id('b')}"].status is TicketStatus.RESOLVED
            assert changed[f"#{emu.ticket_id('b')}"].title == "Ticket b, now solved"
            assert export_requests(emu)[-1].param("start_time") is None
            assert (
                export_requests(emu)[-1].param("cursor")
                == (incremental_cursor(first.cursor)["after_cursor"])
            )
            assert [r.path for r in emu.requests[sent:]] == [EXPORT_PATH, EVENTS_PATH]

            third = await zd.poll(second.cursor)
            assert third.tickets == ()
            assert incremental_cursor(third.cursor)["after_cursor"]


async def test_ticket_seen_twice_in_one_page_is_kept_once_in_its_latest_state() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a", title="new title"))
        async with connector_for(emu) as zd:
            cursor = await synced(zd)
            native = emu.ticket("a")
            stale = native | {"subject": "old title", "status": "new"}
            emu.inject(
                Reply(
                    200,
                    {
                        "tickets": [stale, native],
                        "after_cursor": encode_cursor(2**40, 0),
                        "before_cursor": None,
                        "end_of_stream": True,
                    },
                )
            )
            result = await zd.poll(cursor)
        assert [(t.key, t.title, t.status) for t in result.tickets] == [
            (key, "new title", TicketStatus.OPEN)
        ]


async def test_status_and_priority_mapping_over_the_wire() -> None:
    cases = {
        "new": (TicketStatus.NEW, Priority.P1),
        "open": (TicketStatus.OPEN, Priority.P2),
        "pending": (TicketStatus.PENDING, Priority.P3),
        "resolved": (TicketStatus.RESOLVED, Priority.P4),
        "closed": (TicketStatus.CLOSED, Priority.P5),
    }
    with ZendeskEmulator() as emu:
        for ref, (status, priority) in cases.items():
            emu.put_ticket(world(ref, status=status, priority=priority))
        emu.put_ticket(world("hold", status=TicketStatus.OPEN))
        emu.set_native("hold", status="hold")
        emu.put_ticket(world("deleted"))
        emu.delete_ticket("deleted")
        emu.put_ticket(world("no-priority", priority=None))
        async with connector_for(emu) as zd:
            tickets = by_key((await zd.poll(None)).tickets)

    def mapped(ref: str) -> tuple[Any, ...]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.status, t.raw_status, t.priority, t.raw_priority

    assert mapped("new") == (TicketStatus.NEW, "new", Priority.P1, "urgent")
    assert mapped("open") == (TicketStatus.OPEN, "open", Priority.P2, "high")
    assert mapped("pending") == (TicketStatus.PENDING, "pending", Priority.P3, "normal")
    assert mapped("resolved") == (TicketStatus.RESOLVED, "solved", Priority.P4, "low")
    assert mapped("closed") == (TicketStatus.CLOSED, "closed", Priority.P4, "low")
    assert mapped("hold") == (TicketStatus.PENDING, "hold", Priority.P3, "normal")
    assert mapped("deleted") == (TicketStatus.CLOSED, "deleted", Priority.P3, "normal")
    assert mapped("no-priority") == (TicketStatus.OPEN, "open", None, None)


async def test_vendor_sla_from_the_slas_sideload() -> None:
    overdue = NOW - timedelta(minutes=20)
    later = NOW + timedelta(hours=3)
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("overdue", due_at=overdue))
        emu.put_ticket(world("on-time", due_at=later, first_response_at=NOW - timedelta(hours=4)))
        emu.put_ticket(world("solved", due_at=overdue, status=TicketStatus.RESOLVED))
        emu.put_ticket(world("no-sla"))
        emu.put_ticket(world("two-clocks"))
        emu.set_native(
            "two-clocks",
            slas=[
                {"metric": "next_reply_time", "stage": "active", "breach_at": later},
                {"metric": "resolution_time", "stage": "active", "breach_at": later + timedelta(1)},
                {"metric": "periodic_update_time", "stage": "paused", "breach_at": None},
            ],
        )
        async with connector_for(emu) as zd:
            tickets = by_key((await zd.poll(None)).tickets)

    def sla(ref: str) -> tuple[datetime | None, bool | None]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.vendor_due_at, t.vendor_breached

    assert sla("overdue") == (overdue.replace(microsecond=0), True)
    assert sla("on-time") == (later.replace(microsecond=0), False)
    assert sla("solved") == (None, None)
    assert sla("no-sla") == (None, None)
    assert sla("two-clocks") == (later.replace(microsecond=0), False)
    assert tickets[f"#{emu.ticket_id('on-time')}"].first_response_at is None
    raw_metrics = tickets[f"#{emu.ticket_id('overdue')}"].raw["slas"]["policy_metrics"]
    assert raw_metrics[0]["stage"] == "active" and raw_metrics[0]["minutes"] < 0


async def test_wrong_token_is_an_auth_error() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu, api_token="wrong") as zd:
            with pytest.raises(AuthError) as info:
                await zd.poll(None)
        assert info.value.http_status == 401
        assert "Couldn't authenticate you" in str(info.value)
        assert "wrong" not in str(info.value)


async def test_server_error_is_transient() -> None:
    with ZendeskEmulator() as emu:
        emu.inject(Reply(500, {"error": "InternalServerError"}))
        async with connector_for(emu) as zd:
            with pytest.raises(TransientError) as info:
                await zd.poll(None)
        assert info.value.http_status == 500


async def test_rate_limit_on_the_export_carries_retry_after() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu) as zd:
            cursor = await synced(zd)
            emu.inject(Reply(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "17"}))
            with pytest.raises(RateLimited) as info:
                await zd.poll(cursor)
        assert info.value.retry_after == 17.0


async def test_short_rate_limit_in_the_backfill_is_waited_out() -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.inject(Reply(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "1"}))
        async with connector_for(emu) as zd:
            result = await zd.poll(None)
        assert [t.title for t in result.tickets] == ["Ticket a"]
        limited = emu.requests[0]  # the 429 went to whichever request arrived first
        assert limited.path in (SEARCH_COUNT_PATH, SEARCH_EXPORT_PATH)
        again = [r for r in emu.requests[1:] if (r.path, r.query) == (limited.path, limited.query)]
        assert again, "the request that drew the 429 was not sent again"


async def test_export_limit_mid_poll_keeps_the_pages_already_read() -> None:
    with ZendeskEmulator() as emu:
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref))
        async with connector_for(emu, page_size=1) as zd:
            cursor = await synced(zd)
            # Another tool spent the account's export budget: Zendesk answers 429.
            emu.export_requests_per_minute = 2
            emu._recent_exports.clear()
            for ref in ("a", "b", "c"):
                emu.put_ticket(world(ref, title=f"Ticket {ref} again"))
            partial = await zd.poll(cursor)
            assert sorted(t.title for t in partial.tickets) == ["Ticket a again", "Ticket b again"]
            assert partial.requests == 2
            position = incremental_cursor(partial.cursor)

            with pytest.raises(RateLimited) as info:
                await zd.poll(partial.cursor)
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
        assert export_requests(emu)[-1].param("cursor") == position["after_cursor"]


async def test_the_connector_paces_the_export_below_the_limit_itself() -> None:
    with ZendeskEmulator() as emu:  # the emulator has no limit: only the connector paces
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref))
        async with connector_for(emu, page_size=1, export_requests_per_minute=2) as zd:
            cursor = await synced(zd)  # the ticket export and the event export: the budget
            assert len(export_requests(emu)) == 1 and len(event_requests(emu)) == 1
            for ref in ("a", "b", "c"):
                emu.put_ticket(world(ref, title=f"Ticket {ref} again"))
            second = await zd.poll(cursor)  # its first request always goes, then it stops
            third = await zd.poll(second.cursor)
        assert [t.title for t in second.tickets] == ["Ticket a again"]
        assert [t.title for t in third.tickets] == ["Ticket b again"]
        assert len(export_requests(emu)) == 3 and len(event_requests(emu)) == 1
        assert (
            export_requests(emu)[-1].param("cursor")
            == (incremental_cursor(second.cursor)["after_cursor"])
        )


async def test_garbage_body_is_bad_payload() -> None:
    with ZendeskEmulator() as emu:
        emu.inject(Reply(200, raw=b"<html>oops"))
        async with connector_for(emu) as zd:
            with pytest.raises(BadPayload):
                await zd.poll(None)


async def test_page_without_continuation_is_bad_payload() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu) as zd:
            cursor = await synced(zd)
            emu.inject(Reply(200, {"tickets": [], "end_of_stream": False, "after_cursor": None}))
            with pytest.raises(BadPayload, match="neither end_of_stream nor after_cursor"):
                await zd.poll(cursor)


async def test_hostile_subject_and_names_are_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, requester="Eve \x1b[31mRed\u202e"))
        async with connector_for(emu) as zd:
            (ticket,) = (await zd.poll(None)).tickets
    assert not has_forbidden(ticket.title)
    assert "\x1b" not in ticket.title and "\u202e" not in ticket.title
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"
    assert ticket.requester is not None and not has_forbidden(ticket.requester)


async def test_check_names_the_signed_in_agent() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu) as zd:
            assert await zd.check() == "ok, signed in as Desk Agent (agent)"
        assert emu.requests[-1].path == "/api/v2/users/me.json"


async def test_check_rejects_the_anonymous_user() -> None:
    with ZendeskEmulator() as emu:
        emu.inject(Reply(200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}}))
        async with connector_for(emu) as zd:
            with pytest.raises(ConnectorError, match="anonymous"):
                await zd.check()


async def test_invalid_saved_cursor_is_the_vendors_400() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu) as zd:
            with pytest.raises(ConnectorError) as info:
                await zd.poll({"after_cursor": "not-a-cursor!"})
        assert info.value.http_status == 400
        assert "InvalidPaginationParameter" in str(info.value)


async def test_foreign_cursor_means_backfill_and_backfill_days_is_honoured() -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a"))
        before = datetime.now(UTC)
        async with connector_for(emu, backfill_days=2) as zd:
            result = await zd.poll({"etag": "from another connector"})
        assert len(result.tickets) == 1
        start_time = int(export_requests(emu)[0].param("start_time") or 0)
        assert (before - timedelta(days=2, seconds=1)).timestamp() <= start_time
        assert (
            start_time <= (datetime.now(UTC) - timedelta(days=2) + timedelta(seconds=1)).timestamp()
        )


async def test_api_v2_suffix_in_base_url_is_tolerated() -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a"))
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig(
            name="desk", kind="zendesk", base_url=f"{emu.base_url}/api/v2/", settings=values
        )
        async with ZendeskConnector.make_client(config) as client:
            (ticket,) = (await ZendeskConnector(config, client).poll(None)).tickets
        assert ticket.url == f"{emu.base_url}/agent/tickets/{emu.ticket_id('a')}"


def test_validate_rejects_missing_credentials_and_bad_numbers() -> None:
    with pytest.raises(ConfigurationError, match="email\\+api_token"):
        ZendeskConnector.validate(
            VendorConfig(name="d", kind="zendesk", base_url="https://x.zendesk.com", settings={})
        )
    creds = {"email": "a@b.example", "api_token": "t"}
    for bad in ({"page_size": "0"}, {"page_size": "5000"}, {"backfill_days": "soon"}):
        with pytest.raises(ConfigurationError):
            ZendeskConnector.validate(
                VendorConfig(
                    name="d",
                    kind="zendesk",
                    base_url="https://x.zendesk.com",
                    settings={**creds, **bad},
                )
            )


# -- the emulator's own wire behaviour ------------------------------------------------


def test_emulator_refuses_too_recent_start_time_and_reports_rate_limits() -> None:
    frozen = datetime.now(UTC).replace(second=5)  # one clock minute: one rate-limit window
    with ZendeskEmulator(clock=lambda: frozen) as emu:
        auth = httpx2.BasicAuth("desk@acme.example/token", "demo-token")
        with httpx2.Client(base_url=emu.base_url, auth=auth) as client:
            recent = int(frozen.timestamp()) - 10
            answer = client.get(EXPORT_PATH, params={"start_time": recent})
            assert answer.status_code == 400
            assert answer.json() == {
                "error": "InvalidValue",
                "description": "Too recent start_time. Use a start_time older than 1 minute.",
            }
            assert answer.headers["X-Rate-Limit"] == "700"
            assert answer.headers["X-Rate-Limit-Remaining"] == "699"
            assert answer.headers["ratelimit-remaining"] == "699"
            assert answer.headers["ratelimit-reset"] == "55"  # the minute's window ends
            ok = client.get(EXPORT_PATH, params={"start_time": recent - 3600})
            assert ok.status_code == 200
            assert ok.headers["X-Rate-Limit-Remaining"] == "698"
            body = ok.json()
            assert body["tickets"] == [] and body["end_of_stream"] is True
            assert body["after_url"].startswith(f"{emu.base_url}{EXPORT_PATH}?cursor=")
            assert "users" not in body
        anonymous = httpx2.get(f"{emu.base_url}/api/v2/users/me.json")
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error": "Couldn't authenticate you"}


def test_emulator_keeps_native_shapes() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(
            world("a", priority=Priority.P5, status=TicketStatus.RESOLVED, asset="PRN-3F-EAST")
        )
        native = emu.ticket("a")
        assert key == f"#{native['id']}"
        assert native["status"] == "solved" and native["priority"] == "low"
        assert native["tags"] == ["prn-3f-east"]
        assert native["created_at"].endswith("Z") and "." not in native["created_at"]
        assert "generated_timestamp" not in native  # only the export carries it
        assert native["requester_id"] >= 10**12 and native["group_id"] >= 10**12
        before = emu._tickets[native["id"]]["generated_timestamp"]
        assert isinstance(before, int)
        emu.put_ticket(world("a", status=TicketStatus.CLOSED))
        assert emu._tickets[native["id"]]["generated_timestamp"] >= before
        assert emu.put_ticket(world("a")) == key


async def test_rate_limit_headers_are_read_for_pacing() -> None:
    from connectors import VendorConfig
    from connectors.zendesk import ZendeskConnector

    with ZendeskEmulator() as emu:
        config = VendorConfig(
            name="desk", kind="zendesk", base_url=emu.base_url, settings=emu.vendor_settings()
        )
        connector = ZendeskConnector(config, ZendeskConnector.make_client(config))
        await connector.poll(None)
        await connector.client.aclose()
    assert connector.budget.limit == 700
    assert connector.budget.remaining is not None and connector.budget.remaining < 700

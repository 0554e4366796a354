"""The ConnectWise connector against the ConnectWise emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.connectwise import ConnectWiseConnector
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.connectwise import API_ROOT, ConnectWiseEmulator, cw_stamp
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    RateLimited,
    TransientError,
)
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_iso
from tests.hostile import has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
TICKETS = f"{API_ROOT}/service/tickets"


def world(ref: str, **fields: Any) -> WorldTicket:
    """A world ticket with sensible defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "ref": ref,
        "title": f"Ticket {ref}",
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "created_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=1),
        "requester": "Lee Park",
        "assignee": "Jo Kim",
        "group": "Help Desk",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: ConnectWiseEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    merged = {"min_request_interval": 0, **values, **settings}
    return VendorConfig(name="msp", kind=kind, base_url=emu.base_url, settings=merged)


@asynccontextmanager
async def connector_for(
    emu: ConnectWiseEmulator, **settings: Any
) -> AsyncIterator[ConnectWiseConnector]:
    config = config_for(emu, **settings)
    ConnectWiseConnector.validate(config)
    async with ConnectWiseConnector.make_client(config) as client:
        yield ConnectWiseConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def ticket_requests(emu: ConnectWiseEmulator) -> list[Request]:
    return [r for r in emu.requests if r.path == TICKETS]


def since_of(request: Request) -> datetime:
    conditions = request.param("conditions") or ""
    assert conditions.startswith("lastUpdated > [")
    stamp = parse_iso(conditions.split("[", 1)[1].split("]", 1)[0])
    assert stamp is not None
    return stamp


def link_to(emu: ConnectWiseEmulator, page: int) -> dict[str, str]:
    return {"Link": f'<{emu.base_url}/service/tickets/?page={page}&pageSize=1>; rel="next"'}


async def test_backfill_pages_through_everything_with_names_and_links() -> None:
    with ConnectWiseEmulator() as emu:
        keys = {
            emu.put_ticket(world(f"t{i}", assignee=f"Agent {i}", requester=f"Contact {i}")): i
            for i in range(5)
        }
        async with connector_for(emu, page_size=2) as cw:
            result = await cw.poll(None)

        tickets = by_key(result.tickets)
        assert set(tickets) == set(keys)
        for key, i in keys.items():
            ticket = tickets[key]
            assert ticket.assignee == f"Agent {i}"
            assert ticket.requester == f"Contact {i}"
            assert ticket.group == "Help Desk"
            assert (ticket.status, ticket.raw_status) == (TicketStatus.OPEN, "In Progress")
            assert ticket.url == (
                f"{emu.site_url}/v4_6_release/services/system_io/Service/"
                f"fv_sr100_request.rails?service_recid={key.removeprefix('#')}"
            )
        assert result.requests == 3
        sent = ticket_requests(emu)
        assert [r.param("page") for r in sent] == ["1", "2", "3"]
        assert {(r.param("pageSize"), r.param("orderBy")) for r in sent} == {("2", "id asc")}
        assert abs(since_of(sent[0]) - (NOW - timedelta(days=30))).total_seconds() < 120
        assert result.cursor == {"since": (NOW - timedelta(hours=1)).isoformat()}


async def test_credentials_client_id_and_model_version_are_sent() -> None:
    with ConnectWiseEmulator(company_id="northwind", public_key="pub", private_key="priv") as emu:
        async with connector_for(emu, api_version="2025.1") as cw:
            assert await cw.check() == "ok, version v2025.1.10432 (cloud)"
        sent = emu.requests[-1]
        assert sent.path == f"{API_ROOT}/system/info"
        assert base64.b64decode(sent.headers["authorization"].removeprefix("Basic ")) == (
            b"northwind+pub:priv"
        )
        assert sent.headers["clientid"] == emu.client_id
        assert sent.headers["accept"] == "application/vnd.connectwise.com+json; version=2025.1"


async def test_default_model_version_is_pinned() -> None:
    with ConnectWiseEmulator() as emu:
        async with connector_for(emu) as cw:
            await cw.check()
        assert emu.requests[-1].headers["accept"] == (
            "application/vnd.connectwise.com+json; version=2022.1"
        )


async def test_short_and_empty_pages_with_a_next_link_are_not_the_end() -> None:
    with ConnectWiseEmulator(hidden_boards={"Finance"}) as emu:
        emu.put_ticket(world("hidden-1", group="Finance"))
        emu.put_ticket(world("hidden-2", group="Finance"))
        emu.put_ticket(world("hidden-3", group="Finance"))
        visible = {emu.put_ticket(world("a")), emu.put_ticket(world("b"))}
        async with connector_for(emu, page_size=2) as cw:
            result = await cw.poll(None)
        assert set(by_key(result.tickets)) == visible
        assert result.requests == 3  # page 1 empty, page 2 short, page 3 short and last


async def test_injected_empty_page_with_next_link_is_followed() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        key_b = emu.put_ticket(world("b"))
        emu.inject(Reply(200, [], headers=link_to(emu, 2)))
        async with connector_for(emu, page_size=1) as cw:
            result = await cw.poll(None)
        assert [t.key for t in result.tickets] == [key_b]
        assert [r.param("page") for r in ticket_requests(emu)] == ["1", "2"]


async def test_incremental_poll_rereads_only_the_overlap_and_what_changed() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("b", updated_at=NOW - timedelta(hours=2)))
        key_c = emu.put_ticket(world("c", updated_at=NOW - timedelta(hours=1)))
        async with connector_for(emu) as cw:
            first = await cw.poll(None)
            assert len(first.tickets) == 3
            assert first.cursor == {"since": (NOW - timedelta(hours=1)).isoformat()}

            key_b = emu.put_ticket(
                world("b", title="b, now waiting", status=TicketStatus.PENDING, updated_at=NOW)
            )
            key_d = emu.put_ticket(world("d", updated_at=NOW - timedelta(minutes=5)))
            second = await cw.poll(first.cursor)

            changed = by_key(second.tickets)
            # c shares the cursor's instant: re-read inside the overlap (the store upserts).
            assert set(changed) == {key_b, key_c, key_d}
            assert (changed[key_b].title, changed[key_b].status) == (
                "b, now waiting",
                TicketStatus.PENDING,
            )
            assert since_of(ticket_requests(emu)[-1]) == NOW - timedelta(hours=1, seconds=60)
            assert second.cursor == {"since": NOW.isoformat()}

            third = await cw.poll(second.cursor)
            assert [t.key for t in third.tickets] == [key_b]
            assert third.cursor == second.cursor


async def test_nothing_new_keeps_the_old_cursor() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=2)))
        async with connector_for(emu) as cw:
            saved = {"since": (NOW - timedelta(minutes=30)).isoformat()}
            result = await cw.poll(saved)
        assert result.tickets == ()
        assert result.cursor == saved


async def test_update_in_the_same_second_as_the_cursor_is_not_missed() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(minutes=10)))
        async with connector_for(emu) as cw:
            first = await cw.poll(None)
            late = emu.put_ticket(world("late", updated_at=NOW - timedelta(minutes=10)))
            second = await cw.poll(first.cursor)
        assert late in by_key(second.tickets)


async def test_cursor_never_moves_past_the_polls_start() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("future", updated_at=NOW + timedelta(hours=2)))
        async with connector_for(emu) as cw:
            before = datetime.now(UTC)
            result = await cw.poll(None)
        assert result.cursor is not None
        since = datetime.fromisoformat(result.cursor["since"])
        assert before - timedelta(seconds=1) <= since <= datetime.now(UTC)


class ChangeDuringPaging(ConnectWiseEmulator):
    """Updates ticket ``a`` right after page 1 is served, as an agent might mid-poll."""

    changed = False

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        if request.path == TICKETS and request.param("page") == "1" and not self.changed:
            self.changed = True
            self.put_ticket(world("a", title="a, edited mid-poll", updated_at=NOW))
        return reply


async def test_ticket_changed_while_paging_skips_nothing_and_is_seen_next_poll() -> None:
    with ChangeDuringPaging() as emu:
        keys = {emu.put_ticket(world(r, updated_at=NOW - timedelta(hours=1))) for r in "abcd"}
        async with connector_for(emu, page_size=1) as cw:
            first = await cw.poll(None)
            assert set(by_key(first.tickets)) == keys  # id order: nothing shifted off a page
            second = await cw.poll(first.cursor)
        titles = {t.key: t.title for t in second.tickets}
        assert titles[f"#{emu.ticket_id('a')}"] == "a, edited mid-poll"


async def test_ticket_seen_twice_in_one_poll_is_kept_once_in_its_newest_state() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", title="fresh", updated_at=NOW))
        fresh = emu.ticket("a")
        stale = {**fresh, "summary": "stale", "_info": {**fresh["_info"]}}
        stale["_info"]["lastUpdated"] = cw_stamp(NOW - timedelta(hours=1))
        emu.inject(
            Reply(200, [fresh], headers=link_to(emu, 2)),
            Reply(200, [stale]),
        )
        async with connector_for(emu, page_size=1) as cw:
            result = await cw.poll(None)
        assert [(t.key, t.title) for t in result.tickets] == [(key, "fresh")]


async def test_built_in_status_and_priority_mapping_over_the_wire() -> None:
    cases = {
        "new": (TicketStatus.NEW, Priority.P1, "New", "Priority 1 - Emergency Response"),
        "open": (TicketStatus.OPEN, Priority.P2, "In Progress", "Priority 2 - Quick Response"),
        "pending": (
            TicketStatus.PENDING,
            Priority.P3,
            "Waiting Customer",
            "Priority 3 - Normal Response",
        ),
        "resolved": (
            TicketStatus.RESOLVED,
            Priority.P4,
            "Resolved",
            "Priority 4 - Schedule Maintenance",
        ),
        "closed": (TicketStatus.CLOSED, Priority.P5, ">Closed", "Priority 5 - Next Time"),
    }
    with ConnectWiseEmulator() as emu:
        for ref, (status, priority, _, _) in cases.items():
            emu.put_ticket(world(ref, status=status, priority=priority))
        emu.put_ticket(world("default-priority", priority=None))
        async with connector_for(emu) as cw:
            tickets = by_key((await cw.poll(None)).tickets)

    def mapped(ref: str) -> tuple[Any, ...]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.status, t.priority, t.raw_status, t.raw_priority

    for ref, expected in cases.items():
        assert mapped(ref) == expected
    assert mapped("default-priority")[1] is Priority.P3  # CW always has a priority


async def test_tenant_board_statuses_and_overrides() -> None:
    overrides = {
        "status_map": {"awaiting sign-off": "resolved", "Escalated to Tier 3": "pending"},
        "priority_map": {"Priority 2 - Quick Response": "P1"},
    }
    with ConnectWiseEmulator() as emu:
        for ref in ("vendor", "signoff", "tier3"):
            emu.put_ticket(world(ref, priority=Priority.P2))
        emu.set_status("vendor", "Waiting on Vendor Parts")
        emu.set_status("signoff", "Awaiting Sign-off")
        emu.set_status("tier3", "Escalated to Tier 3")
        async with connector_for(emu) as cw:
            plain = by_key((await cw.poll(None)).tickets)
        async with connector_for(emu, **overrides) as cw:
            tuned = by_key((await cw.poll(None)).tickets)

    def state(tickets: dict[str, TicketRecord], ref: str) -> tuple[Any, ...]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.status, t.priority, t.raw_status

    assert state(plain, "vendor") == (TicketStatus.PENDING, Priority.P2, "Waiting on Vendor Parts")
    assert state(plain, "signoff") == (TicketStatus.OPEN, Priority.P2, "Awaiting Sign-off")
    assert state(plain, "tier3") == (TicketStatus.OPEN, Priority.P2, "Escalated to Tier 3")
    assert state(tuned, "vendor") == (TicketStatus.PENDING, Priority.P1, "Waiting on Vendor Parts")
    assert state(tuned, "signoff") == (TicketStatus.RESOLVED, Priority.P1, "Awaiting Sign-off")
    assert state(tuned, "tier3") == (TicketStatus.PENDING, Priority.P1, "Escalated to Tier 3")


async def test_a_closing_tenant_status_sets_closed_flag() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        emu.set_status("a", "Completed - Invoiced", closes=True)
        async with connector_for(emu) as cw:
            (ticket,) = (await cw.poll(None)).tickets
        assert (ticket.key, ticket.status, ticket.raw_status) == (
            key,
            TicketStatus.CLOSED,
            "Completed - Invoiced",
        )


async def test_vendor_sla_flags_and_dates_over_the_wire() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("overdue", due_at=NOW - timedelta(minutes=20)))
        emu.put_ticket(world("on-time", due_at=NOW + timedelta(hours=3)))
        emu.put_ticket(
            world(
                "met",
                status=TicketStatus.RESOLVED,
                due_at=NOW - timedelta(minutes=20),
                resolved_at=NOW - timedelta(minutes=30),
                first_response_at=NOW - timedelta(hours=4, minutes=51),
            )
        )
        emu.put_ticket(world("flagged", breached=True))
        emu.put_ticket(world("no-clock"))
        async with connector_for(emu) as cw:
            tickets = by_key((await cw.poll(None)).tickets)

    def sla(ref: str) -> tuple[Any, ...]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.vendor_breached, t.vendor_due_at

    assert sla("overdue") == (True, None)
    assert sla("on-time") == (False, None)
    assert sla("met") == (False, None)
    assert sla("flagged") == (True, None)
    assert sla("no-clock") == (False, None)
    met = tickets[f"#{emu.ticket_id('met')}"]
    assert met.first_response_at == NOW - timedelta(hours=4, minutes=51)
    assert met.resolved_at == NOW - timedelta(minutes=30)
    assert met.raw["respondMinutes"] == 9  # minutes taken, not a target


async def test_board_setting_filters_with_an_escaped_condition() -> None:
    board = 'Network "Core"'
    with ConnectWiseEmulator() as emu:
        wanted = emu.put_ticket(world("a", group=board))
        emu.put_ticket(world("b", group="Help Desk"))
        async with connector_for(emu, board=board) as cw:
            result = await cw.poll(None)
        assert [t.key for t in result.tickets] == [wanted]
        assert result.tickets[0].group == board
        conditions = ticket_requests(emu)[0].param("conditions") or ""
        assert conditions.endswith(' and board/name = "Network \\"Core\\""')


async def test_wrong_private_key_is_an_auth_error_without_the_secret() -> None:
    with ConnectWiseEmulator(private_key="right-key") as emu:
        async with connector_for(emu, private_key="wrong-key") as cw:
            with pytest.raises(AuthError) as info:
                await cw.poll(None)
        assert info.value.http_status == 401
        assert "Authentication failed" in str(info.value)
        assert "wrong-key" not in str(info.value) and "right-key" not in str(info.value)


async def test_wrong_client_id_is_an_auth_error() -> None:
    with ConnectWiseEmulator() as emu:
        async with connector_for(emu, client_id="not-registered") as cw:
            with pytest.raises(AuthError, match="clientId"):
                await cw.check()


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_with_retry_after_is_rate_limited(status: int) -> None:
    with ConnectWiseEmulator() as emu:
        emu.inject(
            Reply(
                status,
                {"code": "TooManyRequests", "message": "Too many requests"},
                headers={"Retry-After": "12"},
            )
        )
        async with connector_for(emu) as cw:
            with pytest.raises(RateLimited) as info:
                await cw.poll(None)
        assert (info.value.retry_after, info.value.http_status) == (12.0, status)


async def test_server_error_is_transient() -> None:
    with ConnectWiseEmulator() as emu:
        emu.inject(Reply(500, {"code": "InternalServerError", "message": "An error occurred"}))
        async with connector_for(emu) as cw:
            with pytest.raises(TransientError) as info:
                await cw.poll(None)
        assert info.value.http_status == 500


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(200, raw=b"<html>maintenance</html>"), "not JSON"),
        (Reply(200, {"tickets": []}), "not a JSON array"),
        (Reply(200, [{"id": "7"}]), "integer id"),
        (Reply(200, [], headers={"Link": '<http://x/a?pageSize=1>; rel="next"'}), "no page"),
        (Reply(200, [], headers={"Link": '<http://x/a?page=1>; rel="next"'}), "no progress"),
    ],
)
async def test_unreadable_answers_are_bad_payload(reply: Reply, message: str) -> None:
    with ConnectWiseEmulator() as emu:
        emu.inject(reply)
        async with connector_for(emu) as cw:
            with pytest.raises(BadPayload, match=message):
                await cw.poll(None)


async def test_pacing_keeps_the_minimum_interval_between_requests() -> None:
    with ConnectWiseEmulator() as emu:
        for ref in "abc":
            emu.put_ticket(world(ref))
        async with connector_for(emu, page_size=1, min_request_interval=0.15) as cw:
            started = time.monotonic()
            result = await cw.poll(None)
            elapsed = time.monotonic() - started
        assert result.requests == 3
        assert elapsed >= 0.29
        assert cw.pacer.waited >= 0.2
        async with connector_for(emu, page_size=1, min_request_interval=0) as fast:
            await fast.poll(None)
        assert fast.pacer.waited == 0


async def test_foreign_cursor_means_backfill_and_backfill_days_is_honoured() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, backfill_days=2) as cw:
            result = await cw.poll({"after_cursor": "from another connector"})
        assert len(result.tickets) == 1
        assert (
            abs(since_of(ticket_requests(emu)[0]) - (NOW - timedelta(days=2))).total_seconds() < 120
        )


async def test_without_ui_url_there_is_no_link() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        values = emu.vendor_settings()
        values.pop("kind")
        values.pop("ui_url")
        config = VendorConfig(
            name="msp", kind="connectwise", base_url=emu.base_url, settings=values
        )
        async with ConnectWiseConnector.make_client(config) as client:
            (ticket,) = (await ConnectWiseConnector(config, client).poll(None)).tickets
        assert ticket.url is None


async def test_hostile_summary_and_names_are_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, requester="Eve \x1b[31mRed\u202e"))
        async with connector_for(emu) as cw:
            (ticket,) = (await cw.poll(None)).tickets
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"
    assert ticket.requester == "Eve [31mRed"
    assert not has_forbidden(ticket.title)


def settings(**extra: Any) -> dict[str, Any]:
    creds = {"company_id": "c", "public_key": "p", "private_key": "k", "client_id": "id"}
    return {**creds, **extra}


def test_validate_rejects_missing_credentials() -> None:
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
        settings={"company_id": "c", "public_key": "p", "private_key": "k"},
    )
    with pytest.raises(
        ConfigurationError, match="company_id\\+public_key\\+private_key\\+client_id"
    ):
        ConnectWiseConnector.validate(config)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"status_map": {"Waiting Customer": "snoozed"}}, "status_map"),
        ({"priority_map": {"Priority 1 - Emergency Response": "P0"}}, "priority_map"),
        ({"status_map": "pending"}, "must be a table"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"backfill_days": "-1"}, "backfill_days"),
        ({"min_request_interval": "-0.1"}, "min_request_interval"),
        ({"min_request_interval": "11"}, "min_request_interval"),
        ({"min_request_interval": "fast"}, "min_request_interval"),
        ({"ui_url": "na.myconnectwise.net"}, "ui_url"),
        ({"ui_url": "https://na.myconnectwise.net/?x=1"}, "ui_url"),
    ],
)
def test_validate_rejects_bad_settings(extra: dict[str, Any], message: str) -> None:
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
        settings=settings(**extra),
    )
    with pytest.raises(ConfigurationError, match=message):
        ConnectWiseConnector.validate(config)


async def test_validate_accepts_good_overrides_and_codebase_comes_from_base_url() -> None:
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://cw.example.com/v2024_1/apis/3.0/",
        settings=settings(
            status_map={"Waiting Vendor": "pending"},
            priority_map={"Priority 2 - Quick Response": "p1"},
            ui_url="https://cw.example.com/",
        ),
    )
    ConnectWiseConnector.validate(config)
    async with ConnectWiseConnector.make_client(config) as client:
        connector = ConnectWiseConnector(config, client)
    assert (connector.codebase, connector.ui_url) == ("v2024_1", "https://cw.example.com")


# -- the emulator's own wire behaviour --------------------------------------------------


def test_emulator_defaults_work_for_the_demo() -> None:
    emu = ConnectWiseEmulator()
    assert "ui_url" not in emu.vendor_settings()  # not started: no site yet
    with emu:
        settings = emu.vendor_settings()
        assert settings["kind"] == "connectwise"
        assert settings["ui_url"] == emu.site_url
        assert emu.base_url == f"{emu.site_url}{API_ROOT}"
        config = VendorConfig(
            name="msp", kind="connectwise", base_url=emu.base_url, settings=settings
        )
        ConnectWiseConnector.validate(config)


def test_emulator_keeps_native_shapes() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", group="Help Desk", status=TicketStatus.CLOSED))
        emu.put_ticket(world("b", group="Network", status=TicketStatus.CLOSED))
        native = emu.ticket("a")
        assert key == f"#{native['id']}"
        assert native["closedFlag"] is True and native["status"]["name"] == ">Closed"
        assert native["closedDate"] is not None and native["dateResolved"] is not None
        assert native["status"]["id"] != emu.ticket("b")["status"]["id"]  # board-specific
        assert native["owner"] == {
            "id": native["owner"]["id"],
            "identifier": "jkim",
            "name": "Jo Kim",
            "_info": {"member_href": f"{emu.base_url}/system/members/{native['owner']['id']}"},
        }
        assert native["resources"] == "jkim"
        assert native["priority"]["sort"] == 3
        stamp = native["_info"]["lastUpdated"]
        assert stamp.endswith("Z") and "." not in stamp
        assert (
            native["_info"]["notes_href"] == f"{emu.base_url}/service/tickets/{native['id']}/notes"
        )
        assert emu.put_ticket(world("a")) == key


def test_emulator_wire_errors_links_and_count() -> None:
    with ConnectWiseEmulator(page_size=1) as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        emu.put_ticket(world("c"))
        auth = httpx2.BasicAuth(f"{emu.company_id}+{emu.public_key}", emu.private_key)
        headers = {"clientId": emu.client_id}
        with httpx2.Client(base_url=emu.base_url, auth=auth, headers=headers) as client:
            page = client.get("/service/tickets", params={"page": 2})
            assert page.status_code == 200
            assert [row["id"] for row in page.json()] == [emu.ticket_id("b")]
            assert page.headers["x-cw-request-id"]
            links = page.links
            assert set(links) == {"first", "prev", "next", "last"}
            assert "page=3" in links["next"]["url"] and "page=3" in links["last"]["url"]
            ordered = client.get(
                "/service/tickets", params={"orderBy": "id desc", "pageSize": 1000}
            )
            assert [r["id"] for r in ordered.json()] == [
                emu.ticket_id("c"),
                emu.ticket_id("b"),
                emu.ticket_id("a"),
            ]
            assert "next" not in ordered.links
            count = client.get(
                "/service/tickets/count", params={"conditions": f"id > {emu.ticket_id('a')}"}
            )
            assert count.json() == {"count": 2}
            bad = client.get("/service/tickets", params={"conditions": "id ~ 4"})
            assert bad.status_code == 400 and bad.json()["code"] == "InvalidObject"
            missing = client.get("/service/tickets/1")
            assert missing.status_code == 404
            assert missing.json() == {"code": "NotFound", "message": "Ticket recId 1 not found."}
        anonymous = httpx2.get(f"{emu.base_url}/system/info")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == "Unauthorized"

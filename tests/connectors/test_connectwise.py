"""The ConnectWise connector against the ConnectWise emulator, over real HTTP on 127.0.0.1.

Polls here run both phases of :mod:`connectors.sync` through ``Connector.poll`` (which
drains ``pages()``); the phases themselves, restarts and notes have their own files.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import VendorConfig
from connectors.connectwise import ConnectWiseConnector
from connectors.connectwise.connector import RequestPacer
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.connectwise import API_ROOT, ConnectWiseEmulator
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    RateLimited,
    TransientError,
)
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_iso
from tests.hostile import has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
TICKETS = f"{API_ROOT}/service/tickets"
COUNT = f"{API_ROOT}/service/tickets/count"


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
    merged = {k: v for k, v in merged.items() if v is not None}
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


def incremental(position: Cursor) -> Cursor:
    """A saved cursor whose backfill is done, at this incremental position."""
    return {"v": 2, "incremental": position, "incremental_from": None, "backfill": None}


def stamp_in(conditions: str) -> datetime:
    """The first ``[…]`` timestamp of a conditions string."""
    stamp = parse_iso(conditions.split("[", 1)[1].split("]", 1)[0])
    assert stamp is not None
    return stamp


def link_to(emu: ConnectWiseEmulator, page: int) -> dict[str, str]:
    return {"Link": f'<{emu.base_url}/service/tickets/?page={page}&pageSize=1>; rel="next"'}


COUNTED = Reply(200, {"count": 1})
"""The answer to the backfill's first request (``/service/tickets/count``)."""


async def test_backfill_pages_by_id_keyset_with_names_and_links() -> None:
    with ConnectWiseEmulator() as emu:
        keys = {
            emu.put_ticket(world(f"t{i}", assignee=f"Agent {i}", requester=f"Contact {i}")): i
            for i in range(5)
        }
        ids = [emu.ticket_id(f"t{i}") for i in range(5)]
        async with connector_for(emu, page_size=2, read_notes=False) as cw:
            before = datetime.now(UTC)
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
        # count, three keyset pages, one incremental page
        assert result.requests == 5
        assert [r.path for r in emu.requests] == [COUNT] + [TICKETS] * 4
        backfill = [r.param("conditions") or "" for r in ticket_requests(emu)[:3]]
        base = backfill[0]
        assert base.startswith("(closedFlag = false or lastUpdated >= [")
        assert abs(stamp_in(base) - (before - timedelta(days=30))).total_seconds() < 120
        assert backfill[1:] == [f"{base} and id > {ids[1]}", f"{base} and id > {ids[3]}"]
        assert emu.requests[0].param("conditions") == base
        assert {
            (r.param("page"), r.param("pageSize"), r.param("orderBy")) for r in ticket_requests(emu)
        } == {("1", "2", "id asc")}
        changes = ticket_requests(emu)[-1].param("conditions") or ""
        assert changes.startswith("lastUpdated >= [")
        assert abs(stamp_in(changes) - (before - timedelta(seconds=60))).total_seconds() < 5
        # read_notes off: no history to walk, so the walk ends at once, without a request
        assert result.progress is not None and result.progress.phase == "history"
        assert result.cursor is not None and result.cursor["backfill"] is None
        assert "history" not in result.cursor


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
        async with connector_for(emu, page_size=2, read_notes=False) as cw:
            result = await cw.poll(None)
        assert set(by_key(result.tickets)) == visible
        backfill = ticket_requests(emu)[:3]
        # page 1 empty (hidden), page 2 short: the next page number, then the keyset again
        assert [r.param("page") for r in backfill] == ["1", "2", "1"]
        assert (backfill[1].param("conditions") or "").endswith("])")
        assert (backfill[2].param("conditions") or "").endswith(f"and id > {emu.ticket_id('a')}")


async def test_injected_empty_page_with_next_link_is_followed_by_page_number() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        key_b = emu.put_ticket(world("b"))
        emu.inject(COUNTED, Reply(200, [], headers=link_to(emu, 2)))
        async with connector_for(emu, page_size=1, read_notes=False) as cw:
            result = await cw.poll(None)
        assert [t.key for t in result.tickets] == [key_b]
        assert [r.param("page") for r in ticket_requests(emu)[:2]] == ["1", "2"]


def held_from(result: PollResult) -> datetime:
    """Where the next incremental window of a finished poll starts."""
    assert result.cursor is not None
    return datetime.fromisoformat(result.cursor["incremental"]["from"])


async def test_incremental_poll_reads_its_window_and_holds_the_cursor_back() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(hours=3)))
        key_b = emu.put_ticket(world("b", updated_at=now - timedelta(minutes=30)))
        key_c = emu.put_ticket(world("c", updated_at=now - timedelta(minutes=10)))
        saved = incremental({"from": (now - timedelta(hours=1)).isoformat()})
        async with connector_for(emu, read_notes=False) as cw:
            before = datetime.now(UTC)
            first = await cw.poll(saved)
            after = datetime.now(UTC)
            assert set(by_key(first.tickets)) == {key_b, key_c}
            conditions = ticket_requests(emu)[-1].param("conditions") or ""
            assert stamp_in(conditions) == now - timedelta(hours=1)
            # The site's clock when the window began, less the overlap.
            held = held_from(first)
            overlap = timedelta(seconds=60)
            assert before - overlap - timedelta(seconds=1) <= held <= after - overlap

            key_b = emu.put_ticket(
                world("b", title="b, now waiting", status=TicketStatus.PENDING, updated_at=now)
            )
            second = await cw.poll(first.cursor)
            changed = by_key(second.tickets)
            assert set(changed) == {key_b}
            assert (changed[key_b].title, changed[key_b].status) == (
                "b, now waiting",
                TicketStatus.PENDING,
            )
            assert stamp_in(ticket_requests(emu)[-1].param("conditions") or "") == held.replace(
                microsecond=0
            )
            third = await cw.poll(second.cursor)
        assert [t.key for t in third.tickets] == [key_b]  # inside the overlap: read again
        assert held_from(third) >= held_from(second)


async def test_an_empty_window_moves_forward_to_the_sites_clock_less_the_overlap() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=2)))
        site_clock = {"Date": "Wed, 01 Jan 2025 09:00:00 GMT"}
        emu.inject(Reply(200, [], headers=site_clock))
        async with connector_for(emu) as cw:
            saved = incremental({"from": (NOW - timedelta(minutes=30)).isoformat()})
            result = await cw.poll(saved)
        assert result.tickets == ()
        assert result.requests == 1
        assert held_from(result) == datetime(2025, 1, 1, 8, 59, tzinfo=UTC)


async def test_a_write_in_the_same_second_as_the_held_start_is_read() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(minutes=10)))
        async with connector_for(emu) as cw:
            first = await cw.poll(incremental({"from": (NOW - timedelta(minutes=15)).isoformat()}))
            late = emu.put_ticket(world("late", updated_at=held_from(first)))
            second = await cw.poll(first.cursor)
        assert late in by_key(second.tickets)


async def test_cursor_never_moves_past_the_polls_start() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("future", updated_at=NOW + timedelta(hours=2)))
        async with connector_for(emu) as cw:
            result = await cw.poll(incremental({"from": (NOW - timedelta(hours=1)).isoformat()}))
        assert len(result.tickets) == 1
        assert result.cursor is not None
        held = datetime.fromisoformat(result.cursor["incremental"]["from"])
        assert held <= datetime.now(UTC) - timedelta(seconds=60)


async def test_a_legacy_cursor_is_kept_as_the_window_and_a_backfill_runs_once() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        legacy = {"since": (NOW - timedelta(hours=2)).isoformat()}  # before the two phases
        async with connector_for(emu, read_notes=False) as cw:
            result = await cw.poll(legacy)
        assert len(result.tickets) == 1
        first = ticket_requests(emu)[0].param("conditions") or ""
        window = ticket_requests(emu)[-1].param("conditions") or ""
        assert first.startswith("(closedFlag = false or")
        assert stamp_in(window) == NOW - timedelta(hours=2, seconds=60)


class ChangeDuringPaging(ConnectWiseEmulator):
    """Updates ticket ``a`` right after the first ticket page is served, as an agent might."""

    changed = False

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        if request.path == TICKETS and not self.changed:
            self.changed = True
            self.put_ticket(world("a", title="a, edited mid-poll", updated_at=self.clock()))
        return reply


async def test_ticket_changed_while_paging_skips_nothing_and_is_read_again() -> None:
    with ChangeDuringPaging() as emu:
        keys = {emu.put_ticket(world(r, updated_at=NOW - timedelta(hours=1))) for r in "abcd"}
        async with connector_for(emu, page_size=1, read_notes=False) as cw:
            pages = [page async for page in cw.pages(None)]
        seen = [t.key for page in pages for t in page.tickets]
        backfill = [
            t for p in pages if p.progress and p.progress.phase == "backfill" for t in p.tickets
        ]
        assert {t.key for t in backfill} == keys  # id order: nothing shifted off a page
        edited = [
            t.title for page in pages for t in page.tickets if t.key == f"#{emu.ticket_id('a')}"
        ]
        assert edited[-1] == "a, edited mid-poll"  # the incremental phase of the same poll
        assert len(seen) == 5


async def test_a_site_that_ignores_the_keyset_is_bad_payload_not_a_loop() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        same = emu.ticket("a")
        emu.inject(
            COUNTED,
            Reply(200, [same], headers=link_to(emu, 2)),
            Reply(200, [same], headers=link_to(emu, 3)),
        )
        async with connector_for(emu, page_size=1, read_notes=False) as cw:
            with pytest.raises(BadPayload, match="no progress"):
                await cw.poll(None)


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
        for request in [emu.requests[0], *ticket_requests(emu)]:
            conditions = request.param("conditions") or ""
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
        throttled = Reply(
            status,
            {"code": "TooManyRequests", "message": "Too many requests"},
            headers={"Retry-After": "12"},
        )
        emu.inject(COUNTED, throttled)
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


async def test_an_unreadable_count_only_costs_the_progress_total() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.inject(Reply(200, raw=b"<html>maintenance</html>"))
        async with connector_for(emu) as cw:
            pages = [page async for page in cw.pages(None)]
        backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
        assert [t.key for p in backfill for t in p.tickets] == [f"#{emu.ticket_id('a')}"]
        assert pages[0].progress is not None and pages[0].progress.total is None


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
        emu.inject(COUNTED, reply)
        async with connector_for(emu) as cw:
            with pytest.raises(BadPayload, match=message):
                await cw.poll(None)


async def test_pacing_keeps_the_minimum_interval_between_requests() -> None:
    with ConnectWiseEmulator() as emu:
        for ref in "abc":
            emu.put_ticket(world(ref))
        async with connector_for(
            emu, page_size=1, min_request_interval=0.15, read_notes=False
        ) as cw:
            started = time.monotonic()
            result = await cw.poll(None)
            elapsed = time.monotonic() - started
        assert result.requests == 5  # count, three pages, the incremental page
        assert elapsed >= 0.15 * 4 - 0.01  # sleeps never end early: the pacer held them apart
        async with connector_for(emu, page_size=1, min_request_interval=0) as fast:
            await fast.poll(None)
        assert fast.pacer.waited == 0


async def test_the_pacer_spaces_concurrent_callers_too() -> None:
    pacer = RequestPacer(0.05)
    starts: list[float] = []

    async def one() -> None:
        await pacer.wait()
        starts.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(one() for _ in range(5)))
    # Each caller reserved its own slot: the k-th starts no sooner than k intervals in.
    for k, started in enumerate(sorted(starts)):
        assert started - began >= k * 0.05 - 0.002, (k, started - began)
    assert pacer.waited > 0


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


# -- settings ----------------------------------------------------------------------------


def settings(**extra: Any) -> dict[str, Any]:
    creds = {"company_id": "c", "public_key": "p", "private_key": "k", "client_id": "id"}
    return {**creds, **extra}


def section(**extra: Any) -> VendorConfig:
    return VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
        settings=settings(**extra),
    )


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
        ({"status_map": "pending"}, "status_map: .*must be a table"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"backfill_days": "-1"}, "backfill_days"),
        ({"min_request_interval": "-0.1"}, "min_request_interval"),
        ({"min_request_interval": "11"}, "min_request_interval"),
        ({"min_request_interval": "fast"}, "min_request_interval"),
        ({"concurrency": "0"}, "concurrency"),
        ({"concurrency": "17"}, "concurrency"),
        ({"ui_url": "na.myconnectwise.net"}, "ui_url"),
        ({"ui_url": "https://na.myconnectwise.net/?x=1"}, "ui_url"),
        ({"api_version": "latest"}, "api_version"),
        ({"create_board_id": "help desk"}, "create_board_id"),
        ({"read_notes": "sometimes"}, "read_notes"),
        ({"pagesize": "100"}, "unknown setting 'pagesize'"),
        ({"min_request_interval": 0.1, "board": ["a"]}, "board"),
    ],
)
def test_validate_rejects_bad_settings_and_names_the_key(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        ConnectWiseConnector.validate(section(**extra))
    assert str(caught.value).startswith("vendor 'msp' (connectwise)")


def test_a_settings_error_never_echoes_the_private_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ConnectWiseConnector.validate(section(private_key=["s3cret-key"]))
    assert "private_key" in str(caught.value)
    assert "s3cret-key" not in str(caught.value)


async def test_validate_accepts_good_overrides_and_codebase_comes_from_base_url() -> None:
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://cw.example.com/v2024_1/apis/3.0/",
        settings=settings(
            private_key="s3cret-key",
            status_map={"Waiting Vendor": "pending"},
            priority_map={"Priority 2 - Quick Response": "p1"},
            ui_url="https://cw.example.com/",
            page_size="500",
            concurrency=2,
        ),
    )
    ConnectWiseConnector.validate(config)
    async with ConnectWiseConnector.make_client(config) as client:
        connector = ConnectWiseConnector(config, client)
    assert (connector.codebase, connector.ui_url) == ("v2024_1", "https://cw.example.com")
    assert (connector.settings.page_size, connector.limiter.limit) == (500, 2)
    assert "s3cret-key" not in repr(connector.settings)  # the secret is masked


def test_defaults_are_the_vendors() -> None:
    parsed = ConnectWiseConnector.parse_settings(section())
    assert (parsed.page_size, parsed.concurrency, parsed.min_request_interval) == (250, 3, 0)
    assert (parsed.backfill_days, parsed.overlap_seconds, parsed.read_notes) == (30, 60, True)
    assert ConnectWiseConnector.parse_settings(section()) == parsed

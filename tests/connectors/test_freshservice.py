"""The Freshservice connector against the Freshservice emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.freshservice import FILTER_PATH, TICKETS_PATH, FreshserviceEmulator
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.freshservice import FreshserviceConnector
from connectors.freshservice.connector import AGENTS_PATH
from connectors.records import Priority, TicketRecord, TicketStatus
from tests.hostile import has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)


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


def config_for(emu: FreshserviceEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="fs", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(
    emu: FreshserviceEmulator, **settings: Any
) -> AsyncIterator[FreshserviceConnector]:
    config = config_for(emu, **settings)
    FreshserviceConnector.validate(config)
    async with FreshserviceConnector.make_client(config) as client:
        yield FreshserviceConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def list_requests(emu: FreshserviceEmulator) -> list[Request]:
    return [r for r in emu.requests if r.path == TICKETS_PATH]


def backfill_lists(emu: FreshserviceEmulator) -> list[Request]:
    """The list requests of the backfill's second part (``updated_since`` days back)."""
    floor = datetime.now(UTC) - timedelta(days=1)
    dated = [r for r in list_requests(emu) if r.param("updated_since")]
    return [r for r in dated if since_of(r) < floor]


def incremental_cursor(since: datetime) -> dict[str, Any]:
    """A saved cursor whose backfill is done: the next poll is one incremental pass."""
    return {
        "v": 2,
        "incremental": {"since": since.isoformat(), "page": 1},
        "incremental_from": None,
        "backfill": None,
    }


def since_of(request: Request) -> datetime:
    return datetime.strptime(request.param("updated_since") or "", "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )


async def test_backfill_follows_next_links_to_the_end_with_embeds() -> None:
    with FreshserviceEmulator() as emu:
        keys = {
            emu.put_ticket(
                world(
                    f"t{i}",
                    created_at=NOW - timedelta(hours=10 - i),
                    requester=f"Requester {i}",
                )
            ): i
            for i in range(5)
        }
        # List paging alone: the history walk (conversations) runs the same lists again.
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            polled_at = datetime.now(UTC)  # NOW is the module's import time
            result = await fs.poll(None)

        tickets = by_key(result.tickets)
        assert set(tickets) == set(keys)
        for key, i in keys.items():
            ticket = tickets[key]
            assert ticket.requester == f"Requester {i}"
            assert ticket.assignee == "Kim Lee"  # responder_id, looked up once (one agent)
            assert ticket.group is not None and ticket.group.startswith("group ")
            assert ticket.url == f"{emu.base_url}/a/tickets/{key.removeprefix('#')}"
        sent = backfill_lists(emu)
        assert [r.param("page") for r in sent] == ["1", "2", "3"]
        assert len([r for r in emu.requests if r.path.startswith(f"{AGENTS_PATH}/")]) == 1
        assert all(r.param("per_page") == "2" for r in list_requests(emu))
        assert all(r.param("order_type") == "asc" for r in list_requests(emu))
        assert all(r.param("include") == "requester,stats" for r in list_requests(emu))
        assert abs((since_of(sent[0]) - (polled_at - timedelta(days=30))).total_seconds()) < 120
        # After the backfill, one incremental pass from where it began (minus the overlap).
        (incremental,) = [r for r in list_requests(emu) if r not in sent]
        assert abs((since_of(incremental) - polled_at).total_seconds()) < 200
        assert result.cursor is not None and result.cursor["backfill"] is None
        watermark = datetime.fromisoformat(result.cursor["incremental"]["since"])
        assert abs((watermark - datetime.now(UTC)).total_seconds()) < 60


async def test_basic_auth_is_api_key_and_x() -> None:
    with FreshserviceEmulator(api_key="s3cret") as emu:
        async with connector_for(emu) as fs:
            await fs.check()
        header = emu.requests[-1].headers["authorization"]
        assert base64.b64decode(header.removeprefix("Basic ")) == b"s3cret:X"


async def test_short_and_empty_pages_with_a_next_link_are_not_the_end() -> None:
    with FreshserviceEmulator(filter_after_paging=True) as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=10 - i)))
        emu.delete_ticket("t0")
        emu.delete_ticket("t1")
        emu.set_native("t2", spam=True)
        with httpx2.Client(base_url=emu.base_url, auth=(emu.api_key, "X")) as client:
            raw_first = client.get(TICKETS_PATH, params={"per_page": 2, "order_type": "asc"})
        assert raw_first.json() == {"tickets": []} and "next" in raw_first.links
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            result = await fs.poll(None)
        assert sorted(t.title for t in result.tickets) == ["Ticket t3", "Ticket t4", "Ticket t5"]
        assert [r.param("page") for r in backfill_lists(emu)] == ["1", "2", "3"]


async def test_next_link_back_to_the_same_page_is_bad_payload() -> None:
    with FreshserviceEmulator() as emu:
        emu.inject_on(
            TICKETS_PATH,
            Reply(
                200,
                {"tickets": []},
                headers={"Link": f'<{emu.base_url}{TICKETS_PATH}?page=1&per_page=1>; rel="next"'},
            ),
        )
        async with connector_for(emu, page_size=1) as fs:
            with pytest.raises(BadPayload, match="no progress"):
                await fs.poll(None)
        assert len(list_requests(emu)) == 1


async def test_next_link_to_another_host_only_lends_its_page_number() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", created_at=NOW - timedelta(hours=9)))
        emu.put_ticket(world("b", created_at=NOW - timedelta(hours=8)))
        emu.inject_on(
            TICKETS_PATH,
            Reply(
                200,
                {"tickets": []},
                headers={"Link": '<https://evil.example/steal?page=2&per_page=1>; rel="next"'},
            ),
        )
        async with connector_for(emu, page_size=1, conversations=False) as fs:
            result = await fs.poll(None)
        assert "Ticket b" in [t.title for t in result.tickets]
        assert all(
            r.path in (TICKETS_PATH, FILTER_PATH) or r.path.startswith(f"{AGENTS_PATH}/")
            for r in emu.requests
        )
        assert [r.param("page") for r in backfill_lists(emu)] == ["1", "2"]


async def test_next_link_without_page_is_bad_payload() -> None:
    with FreshserviceEmulator() as emu:
        emu.inject_on(
            TICKETS_PATH,
            Reply(200, {"tickets": []}, headers={"Link": f'<{emu.base_url}/x?p=2>; rel="next"'}),
        )
        async with connector_for(emu) as fs:
            with pytest.raises(BadPayload, match="no page number"):
                await fs.poll(None)


async def test_poll_from_cursor_uses_overlap_and_returns_only_changes() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=5)))
        emu.put_ticket(world("b", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("c", updated_at=NOW - timedelta(hours=4)))
        async with connector_for(emu) as fs:
            first = await fs.poll(None)
            assert len(first.tickets) == 3
            assert first.cursor is not None
            watermark = datetime.fromisoformat(first.cursor["incremental"]["since"])

            now = datetime.now(UTC).replace(microsecond=0)  # a vendor stamps a change "now"
            emu.put_ticket(
                world("b", title="Ticket b, resolved", status=TicketStatus.RESOLVED, updated_at=now)
            )
            new_key = emu.put_ticket(world("d", updated_at=now))
            second = await fs.poll(first.cursor)

            changed = by_key(second.tickets)
            assert set(changed) == {f"#{emu.ticket_id('b')}", new_key}
            resolved = changed[f"#{emu.ticket_id('b')}"]
            assert resolved.status is TicketStatus.RESOLVED
            assert resolved.title == "Ticket b, resolved"
            assert resolved.resolved_at == now
            sent = since_of(list_requests(emu)[-1])
            # The held-back watermark (when the last pass began) minus the overlap.
            assert sent == (watermark - timedelta(seconds=60)).replace(microsecond=0)
            assert second.cursor is not None
            assert second.cursor["incremental"]["since"] >= first.cursor["incremental"]["since"]

            third = await fs.poll(second.cursor)
            # only what the overlap re-reads, and the watermark moves to this pass's start
            # (the vendor's Date header: whole seconds, so two quick passes may share one)
            assert {t.updated_at for t in third.tickets} <= {now}
            assert third.cursor is not None
            assert third.cursor["incremental"]["since"] >= second.cursor["incremental"]["since"]


async def test_a_change_in_the_second_a_pass_began_is_read_by_the_next_pass() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(minutes=10)))
        async with connector_for(emu) as fs:
            first = await fs.poll(None)
            assert first.cursor is not None
            began = datetime.fromisoformat(first.cursor["incremental"]["since"])
            # Committed by Freshservice in the very second the last pass began.
            emu.put_ticket(world("late", updated_at=began.replace(microsecond=0)))
            second = await fs.poll(first.cursor)
        assert "Ticket late" in {t.title for t in second.tickets}


async def test_an_update_while_a_pass_pages_is_read_by_the_next_one() -> None:
    """Creation order cannot show a change behind us: the watermark is held back."""
    now = datetime.now(UTC)  # not the module's NOW: the pass's watermark follows the real clock
    with FreshserviceEmulator() as emu:
        for i in range(4):
            emu.put_ticket(world(f"t{i}", created_at=now - timedelta(hours=9 - i), updated_at=now))
        async with connector_for(emu, page_size=2, conversations=False) as fs:
            first = await fs.poll(incremental_cursor(now - timedelta(minutes=5)))
            pages = fs.pages(first.cursor)
            page = await anext(pages)  # t0, t1 read ...
            assert [t.title for t in page.tickets] == ["Ticket t0", "Ticket t1"]
            emu.set_native("t0", subject="changed behind the pass")  # ... then t0 changes
            rest = [p async for p in pages]
            assert "changed behind the pass" not in {t.title for p in rest for t in p.tickets}
            again = await fs.poll(rest[-1].cursor)
        assert "changed behind the pass" in {t.title for t in again.tickets}


async def test_nothing_new_still_moves_the_held_back_watermark() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu, conversations=False) as fs:  # the lists: no history walk
            empty = await fs.poll(None)
            assert empty.tickets == () and empty.cursor is not None
            saved = {"updated_since": "2025-03-04T09:03:58Z"}  # a cursor of the old poll()
            again = await fs.poll(saved)
        assert again.tickets == ()
        assert list_requests(emu)[-1].param("updated_since") == "2025-03-04T09:02:58Z"
        assert again.cursor is not None and again.cursor["backfill"] is None
        watermark = datetime.fromisoformat(again.cursor["incremental"]["since"])
        assert abs((watermark - datetime.now(UTC)).total_seconds()) < 60


async def test_ticket_seen_twice_in_one_poll_is_kept_once_in_its_newest_state() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", created_at=NOW - timedelta(hours=9)))
        key = emu.put_ticket(world("b", title="older title", created_at=NOW - timedelta(hours=8)))
        fresher = emu.ticket("b") | {
            "subject": "newer title",
            "updated_at": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        emu.inject_on(TICKETS_PATH, Reply(200, {"tickets": [fresher, emu.ticket("b")]}))
        async with connector_for(emu, page_size=2) as fs:
            pages = [p async for p in fs.pages(None)]
        backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
        (page,) = [p for p in backfill if any(t.key == key for t in p.tickets)]
        assert [(t.key, t.title) for t in page.tickets] == [(key, "newer title")]


async def test_status_and_priority_mapping_over_the_wire() -> None:
    cases = {
        "new": (TicketStatus.NEW, Priority.P1),
        "open": (TicketStatus.OPEN, Priority.P2),
        "pending": (TicketStatus.PENDING, Priority.P3),
        "resolved": (TicketStatus.RESOLVED, Priority.P4),
        "closed": (TicketStatus.CLOSED, Priority.P5),
    }
    with FreshserviceEmulator() as emu:
        for ref, (status, priority) in cases.items():
            emu.put_ticket(world(ref, status=status, priority=priority))
        emu.put_ticket(world("custom"))
        emu.set_native("custom", status=6)
        async with connector_for(emu) as fs:
            tickets = by_key((await fs.poll(None)).tickets)

    def mapped(ref: str) -> tuple[Any, ...]:
        t = tickets[f"#{emu.ticket_id(ref)}"]
        return t.status, t.raw_status, t.priority, t.raw_priority

    assert mapped("new") == (TicketStatus.OPEN, "Open", Priority.P1, "Urgent")
    assert mapped("open") == (TicketStatus.OPEN, "Open", Priority.P2, "High")
    assert mapped("pending") == (TicketStatus.PENDING, "Pending", Priority.P3, "Medium")
    assert mapped("resolved") == (TicketStatus.RESOLVED, "Resolved", Priority.P4, "Low")
    assert mapped("closed") == (TicketStatus.CLOSED, "Closed", Priority.P4, "Low")
    assert mapped("custom") == (TicketStatus.OPEN, "6", Priority.P3, "Medium")


async def test_status_and_priority_overrides_from_config() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("custom", priority=Priority.P2))
        emu.set_native("custom", status=6)
        emu.put_ticket(world("pending", status=TicketStatus.PENDING, priority=Priority.P4))
        async with connector_for(
            emu,
            status_map={"6": "pending", "Pending": "open"},
            priority_map={"high": "P1", "1": "P5"},
        ) as fs:
            tickets = by_key((await fs.poll(None)).tickets)
    custom = tickets[f"#{emu.ticket_id('custom')}"]
    assert (custom.status, custom.priority) == (TicketStatus.PENDING, Priority.P1)
    pending = tickets[f"#{emu.ticket_id('pending')}"]
    assert (pending.status, pending.raw_status) == (TicketStatus.OPEN, "Pending")
    assert (pending.priority, pending.raw_priority) == (Priority.P5, "Low")


@pytest.mark.parametrize(
    "bad",
    [
        {"status_map": {"6": "waiting"}},
        {"status_map": "6=pending"},
        {"priority_map": {"Urgent": "P0"}},
        {"page_size": "0"},
        {"page_size": "101"},
        {"page_size": "2.5"},
        {"backfill_days": "soon"},
        {"backfill_days": "-1"},
        {"backfill_days": "1e12"},
        {"max_pages": "0"},
    ],
)
def test_validate_rejects_settings_that_cannot_work(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        FreshserviceConnector.validate(
            VendorConfig(
                name="fs",
                kind="freshservice",
                base_url="https://acme.freshservice.com",
                settings={"api_key": "k", **bad},
            )
        )


def test_validate_names_the_missing_api_key() -> None:
    with pytest.raises(ConfigurationError, match="api_key"):
        FreshserviceConnector.validate(
            VendorConfig(name="fs", kind="freshservice", base_url="https://acme.freshservice.com")
        )


async def test_vendor_sla_stats_and_escalation() -> None:
    overdue = NOW - timedelta(minutes=20)
    later = NOW + timedelta(hours=3)
    answered = NOW - timedelta(hours=4)
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("overdue", due_at=overdue))
        emu.put_ticket(world("on-time", due_at=later, first_response_at=answered))
        emu.put_ticket(world("pinned", due_at=overdue, breached=False))
        emu.put_ticket(world("default-policy", priority=Priority.P1))
        async with connector_for(emu) as fs:
            tickets = by_key((await fs.poll(None)).tickets)

    def t(ref: str) -> TicketRecord:
        return tickets[f"#{emu.ticket_id(ref)}"]

    assert (t("overdue").vendor_due_at, t("overdue").vendor_breached) == (overdue, True)
    assert (t("on-time").vendor_due_at, t("on-time").vendor_breached) == (later, False)
    assert t("on-time").first_response_at == answered
    assert t("overdue").first_response_at is None
    assert t("pinned").vendor_breached is False
    created = NOW - timedelta(hours=5)
    default = t("default-policy")
    assert default.vendor_due_at == created + timedelta(hours=4)
    assert default.vendor_breached is True  # 4 h urgent target, created 5 h ago
    assert default.raw["fr_due_by"] == (created + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert default.raw["fr_escalated"] is True
    assert t("on-time").raw["stats"]["first_responded_at"] is not None


async def test_wrong_key_is_an_auth_error_with_the_vendors_text() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu, api_key="wrong-key") as fs:
            with pytest.raises(AuthError) as info:
                await fs.poll(None)
        assert info.value.http_status == 401
        assert "You have to be logged in to perform this action." in str(info.value)
        assert "wrong-key" not in str(info.value)


async def test_server_error_is_transient() -> None:
    with FreshserviceEmulator() as emu:
        emu.inject(Reply(502, {"message": "Bad Gateway"}))
        async with connector_for(emu) as fs:
            with pytest.raises(TransientError) as info:
                await fs.poll(None)
        assert info.value.http_status == 502


async def test_injected_429_carries_retry_after() -> None:
    with FreshserviceEmulator() as emu:
        emu.inject(Reply(429, {"message": "slow down"}, headers={"Retry-After": "17"}))
        async with connector_for(emu) as fs:
            with pytest.raises(RateLimited) as info:
                await fs.poll(None)
        assert info.value.retry_after == 17.0


async def test_a_minute_spent_by_another_integration_is_rate_limited_with_retry_after() -> None:
    with FreshserviceEmulator(rate_limit_per_minute=5) as emu:
        emu.put_ticket(world("t0"))
        with httpx2.Client(base_url=emu.base_url, auth=(emu.api_key, "X")) as other:
            for _ in range(5):  # the customer's other integration spends the minute
                assert other.get("/api/v2/agents/me").status_code == 200
            refused = other.get("/api/v2/agents/me")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        async with connector_for(emu, conversations=False) as fs:
            with pytest.raises(RateLimited) as info:
                await fs.poll(None)
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60


async def test_rate_limit_headers_feed_the_pacing_budget() -> None:
    with FreshserviceEmulator(rate_limit_per_minute=200) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, conversations=False) as fs:
            await fs.poll(None)
            assert fs.budget.limit == 200
            # a filter count (1 credit), the backfill's and the pass's list calls (3 each),
            # the assigned agent's name (1)
            assert fs.budget.remaining == 192
            await fs.check()
            assert fs.budget.remaining == 191


async def test_garbage_and_wrong_shapes_are_bad_payload() -> None:
    with FreshserviceEmulator() as emu:
        emu.inject(Reply(200, raw=b"<html>maintenance</html>"))
        emu.inject(Reply(200, [{"id": 1}]))
        emu.inject(Reply(200, {"tickets": [{"id": 1, "status": 2, "updated_at": "x"}]}))
        async with connector_for(emu) as fs:
            for _ in range(3):
                with pytest.raises(BadPayload):
                    await fs.poll(None)


async def test_hostile_subject_and_names_are_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, requester="Eve \x1b[31mRed\u202e"))
        async with connector_for(emu) as fs:
            (ticket,) = (await fs.poll(None)).tickets
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"
    assert ticket.requester is not None and not has_forbidden(ticket.requester)


async def test_check_names_the_signed_in_agent() -> None:
    with FreshserviceEmulator(agent_name="Rachel Green") as emu:
        async with connector_for(emu) as fs:
            assert await fs.check() == "ok, signed in as Rachel Green"
        assert emu.requests[-1].path == "/api/v2/agents/me"


async def test_check_with_wrong_key_is_an_auth_error() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu, api_key="nope") as fs:
            with pytest.raises(AuthError):
                await fs.check()


async def test_max_pages_guard_ends_the_poll_and_the_next_one_finishes_the_pass() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=9 - i)))
        saved = incremental_cursor(NOW - timedelta(days=1))
        async with connector_for(emu, page_size=1, max_pages=2, conversations=False) as fs:
            result = await fs.poll(saved)
            assert len(result.tickets) == 2
            assert result.cursor is not None
            moving = result.cursor["incremental"]
            assert moving["page"] == 3  # the pass is not over: the next poll finishes it
            rest = await fs.poll(result.cursor)
        assert [t.title for t in rest.tickets] == ["Ticket t2"]
        asked = {r.param("updated_since") for r in list_requests(emu)}
        assert asked == {moving["asked"][:19] + "Z"}
        assert rest.cursor is not None and rest.cursor["incremental"]["page"] == 1


async def test_max_pages_guard_pauses_a_backfill_which_the_next_poll_resumes() -> None:
    with FreshserviceEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=9 - i)))
        seen: list[str] = []
        cursor: dict[str, Any] | None = None
        async with connector_for(emu, page_size=1, max_pages=2, conversations=False) as fs:
            for _poll in range(20):
                pages, paused = await _until_paused(fs.pages(cursor))
                assert len([p for p in pages if p.cursor["backfill"]]) <= 2
                seen += [t.title for p in pages if p.cursor["backfill"] for t in p.tickets]
                cursor = pages[-1].cursor
                if not paused:
                    break
        assert cursor is not None and cursor["backfill"] is None
        assert sorted(seen) == ["Ticket t0", "Ticket t1", "Ticket t2"]


async def _until_paused(pages: Any) -> tuple[list[Any], bool]:
    got = []
    try:
        async for page in pages:
            got.append(page)
    except ConnectorError as exc:
        assert "max_pages" in str(exc)
        return got, True
    return got, False


async def test_foreign_cursor_means_backfill_and_workspace_is_passed_on() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, backfill_days=2, workspace_id=0) as fs:
            polled_at = datetime.now(UTC)  # NOW is the module's import time
            result = await fs.poll({"after_cursor": "from another connector"})
        assert len(result.tickets) == 1
        sent = list_requests(emu)[0]
        assert abs((since_of(sent) - (polled_at - timedelta(days=2))).total_seconds()) < 120
        assert sent.param("workspace_id") == "0"


async def test_api_v2_suffix_in_base_url_is_tolerated() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a"))
        config = VendorConfig(
            name="fs",
            kind="freshservice",
            base_url=f"{emu.base_url}/api/v2/",
            settings={"api_key": emu.api_key},
        )
        async with FreshserviceConnector.make_client(config) as client:
            (ticket,) = (await FreshserviceConnector(config, client).poll(None)).tickets
        assert ticket.url == f"{emu.base_url}/a/tickets/{emu.ticket_id('a')}"


# -- the emulator's own wire behaviour ------------------------------------------------


def test_emulator_validates_parameters_with_freshservice_bodies() -> None:
    with FreshserviceEmulator() as emu:
        auth = httpx2.BasicAuth(emu.api_key, "X")
        with httpx2.Client(base_url=emu.base_url, auth=auth) as client:
            too_big = client.get(TICKETS_PATH, params={"per_page": 101})
            assert too_big.status_code == 400
            assert too_big.json() == {
                "description": "Validation failed",
                "errors": [
                    {
                        "field": "per_page",
                        "message": "It should be a Positive Integer less than or equal to 100",
                        "code": "invalid_value",
                    }
                ],
            }
            bad_since = client.get(TICKETS_PATH, params={"updated_since": "yesterday"})
            assert bad_since.json()["errors"][0]["field"] == "updated_since"
            ok = client.get(TICKETS_PATH, params={"include": "requester,stats"})
            assert ok.status_code == 200 and ok.json() == {"tickets": []}
            assert ok.headers["X-RateLimit-Total"] == "400"
            assert ok.headers["X-RateLimit-Used-CurrentRequest"] == "3"
            assert "link" not in ok.headers
        anonymous = httpx2.get(f"{emu.base_url}{TICKETS_PATH}")
        assert anonymous.status_code == 401
        assert anonymous.json() == {
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action.",
        }


def test_emulator_lists_newest_created_first_by_default_and_links_the_next_page() -> None:
    with FreshserviceEmulator(page_size=2) as emu:
        for i in range(3):
            emu.put_ticket(world(f"t{i}", created_at=NOW - timedelta(hours=9 - i)))
        old = world("old", created_at=NOW - timedelta(days=40), updated_at=NOW - timedelta(days=40))
        emu.put_ticket(old)
        with httpx2.Client(base_url=emu.base_url, auth=(emu.api_key, "X")) as client:
            first = client.get(TICKETS_PATH)
            assert [t["subject"] for t in first.json()["tickets"]] == ["Ticket t2", "Ticket t1"]
            assert first.links["next"]["url"].endswith("page=2&per_page=2")
            second = client.get(first.links["next"]["url"])
            assert [t["subject"] for t in second.json()["tickets"]] == ["Ticket t0"]
            assert "next" not in second.links  # "old" is outside the default 30-day window
            one = client.get(f"/api/v2/tickets/{emu.ticket_id('t0')}", params={"include": "stats"})
            assert one.json()["ticket"]["stats"]["ticket_id"] == emu.ticket_id("t0")


def test_emulator_keeps_native_shapes() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P5, status=TicketStatus.CLOSED))
        native = emu.ticket("a")
        assert key == f"#{native['id']}"
        assert native["status"] == 5 and native["priority"] == 1 and native["source"] == 2
        assert native["created_at"].endswith("Z") and "." not in native["created_at"]
        assert native["requester_id"] >= 10**10 and native["responder_id"] >= 10**10
        assert native["description"] == "<div>Ticket a</div>"
        assert native["workspace_id"] == 2
        assert emu.put_ticket(world("a", title="renamed")) == key
        assert emu.ticket("a")["subject"] == "renamed"
        with pytest.raises(KeyError):
            emu.set_native("a", nonsense=1)
        with pytest.raises(ValueError):
            emu.set_native("a", status="Open")

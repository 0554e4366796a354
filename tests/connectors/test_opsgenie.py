"""The Opsgenie connector against the Opsgenie emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.opsgenie import ALERTS_PATH, OpsgenieEmulator, format_timestamp
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    RateLimited,
    TransientError,
)
from connectors.opsgenie import OpsgenieConnector
from connectors.records import Priority, TicketRecord, TicketStatus
from tests.hostile import has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)


def world(ref: str, **fields: Any) -> WorldTicket:
    """A world ticket with sensible defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "ref": ref,
        "title": f"Alert {ref}",
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "created_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=1),
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: OpsgenieEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="alerts", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(emu: OpsgenieEmulator, **settings: Any) -> AsyncIterator[OpsgenieConnector]:
    config = config_for(emu, **settings)
    OpsgenieConnector.validate(config)
    async with OpsgenieConnector.make_client(config) as client:
        yield OpsgenieConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate alerts in one poll: {keys}"
    return {t.key: t for t in tickets}


def list_requests(emu: OpsgenieEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path == ALERTS_PATH]


def page(emu: OpsgenieEmulator, alerts: list[dict[str, Any]], next_offset: int | None) -> Reply:
    """A list page as Opsgenie writes it, with ``paging.next`` on the public host."""
    paging = {"first": "https://api.opsgenie.com/v2/alerts?limit=100&offset=0"}
    if next_offset is not None:
        paging["next"] = (
            "https://api.opsgenie.com/v2/alerts?limit=100&sort=updatedAt"
            f"&offset={next_offset}&order=desc"
        )
    return Reply(200, {"data": alerts, "paging": paging, "took": 0.01, "requestId": "r-1"})


async def test_backfill_pages_through_everything_once() -> None:
    with OpsgenieEmulator() as emu:
        keys = [
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=10 * i)))
            for i in range(5)
        ]
        async with connector_for(emu, page_size=2) as og:
            result = await og.poll(None)

        assert set(by_key(result.tickets)) == set(keys)
        assert keys == ["#1201", "#1202", "#1203", "#1204", "#1205"]
        assert result.requests == 3
        sent = list_requests(emu)
        assert [r.param("offset") for r in sent] == ["0", "2", "4"]
        assert all(r.param("limit") == "2" for r in sent)
        assert all(r.param("sort") == "updatedAt" and r.param("order") == "desc" for r in sent)
        assert all(r.param("query") is None for r in sent)
        assert result.cursor == {"updated_at": NOW.isoformat()}


async def test_genie_key_header_is_sent() -> None:
    with OpsgenieEmulator(api_key="k-123") as emu:
        async with connector_for(emu) as og:
            assert await og.check() == "ok"
        assert emu.requests[-1].headers["authorization"] == "GenieKey k-123"
        assert emu.requests[-1].path == ALERTS_PATH
        assert emu.requests[-1].param("limit") == "1"


async def test_short_pages_are_not_the_end_while_paging_next_exists() -> None:
    with OpsgenieEmulator(page_cap=2) as emu:
        for i in range(7):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i)))
        async with connector_for(emu, page_size=5) as og:
            result = await og.poll(None)
        assert len(result.tickets) == 7
        assert [r.param("offset") for r in list_requests(emu)] == ["0", "2", "4", "6"]


async def test_empty_page_with_next_is_followed() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b", updated_at=NOW - timedelta(hours=2)))
        emu.inject(page(emu, [], next_offset=0 + 1))
        async with connector_for(emu) as og:
            result = await og.poll(None)
        # The second request starts at offset 1, so only the older alert is on it.
        assert [t.title for t in result.tickets] == ["Alert b"]
        assert result.requests == 2
        assert list_requests(emu)[1].param("offset") == "1"


async def test_paging_stops_at_the_cutoff_and_drops_older_alerts() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(2):
            emu.put_ticket(world(f"new{i}", updated_at=NOW - timedelta(hours=i + 1)))
        for i in range(4):
            emu.put_ticket(world(f"old{i}", updated_at=NOW - timedelta(days=3, hours=i)))
        async with connector_for(emu, page_size=2, backfill_days=1) as og:
            result = await og.poll(None)
        assert sorted(t.title for t in result.tickets) == ["Alert new0", "Alert new1"]
        assert result.requests == 2  # page 2 reached past the cutoff: page 3 is never read


async def test_incremental_poll_rereads_only_the_overlap() -> None:
    with OpsgenieEmulator() as emu:
        for hours, ref in ((3, "a"), (2, "b"), (1, "c")):
            emu.put_ticket(world(ref, updated_at=NOW - timedelta(hours=hours)))
        async with connector_for(emu) as og:
            first = await og.poll(None)
            assert len(first.tickets) == 3
            assert first.cursor == {"updated_at": (NOW - timedelta(hours=1)).isoformat()}

            changed = emu.put_ticket(
                world("b", title="b, now closed", status=TicketStatus.RESOLVED, updated_at=NOW)
            )
            added = emu.put_ticket(world("d", updated_at=NOW - timedelta(minutes=5)))
            second = await og.poll(first.cursor)

        tickets = by_key(second.tickets)
        key_c = f"#{emu.alert('c')['tinyId']}"
        assert set(tickets) == {changed, added, key_c}  # c is the overlap, a is not read again
        assert tickets[changed].status is TicketStatus.RESOLVED
        assert tickets[changed].title == "b, now closed"
        assert second.requests == 1
        assert second.cursor == {"updated_at": NOW.isoformat()}


async def test_update_sharing_the_cursor_instant_is_not_missed() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW))
        async with connector_for(emu) as og:
            first = await og.poll(None)
            same_instant = emu.put_ticket(world("b", updated_at=NOW))
            # Written late: stamped half a minute before the cursor, visible only now.
            committed_late = emu.put_ticket(world("c", updated_at=NOW - timedelta(seconds=30)))
            second = await og.poll(first.cursor)
        assert {same_instant, committed_late} <= set(by_key(second.tickets))
        assert second.cursor == first.cursor


async def test_nothing_new_keeps_the_cursor() -> None:
    with OpsgenieEmulator() as emu:
        async with connector_for(emu) as og:
            empty = await og.poll(None)
            assert (empty.tickets, empty.cursor) == ((), None)
            saved = {"updated_at": (NOW - timedelta(days=1)).isoformat()}
            assert (await og.poll(saved)).cursor == saved


async def test_alert_seen_twice_in_one_poll_is_kept_once_in_its_newest_state() -> None:
    with OpsgenieEmulator() as emu:
        key = emu.put_ticket(world("x", title="new title", updated_at=NOW))
        emu.put_ticket(world("y", updated_at=NOW - timedelta(hours=1)))
        fresh = emu.alert("x")
        stale = fresh | {"message": "old title", "updatedAt": format_timestamp(NOW - timedelta(1))}
        emu.inject(page(emu, [fresh], next_offset=1), page(emu, [stale, emu.alert("y")], None))
        async with connector_for(emu, backfill_days=2) as og:
            result = await og.poll(None)
        assert by_key(result.tickets)[key].title == "new title"
        assert len(result.tickets) == 2


async def test_status_priority_and_times_over_the_wire() -> None:
    created = NOW - timedelta(hours=5)
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("new", status=TicketStatus.NEW, priority=Priority.P1))
        emu.put_ticket(
            world(
                "acked",
                priority=Priority.P2,
                assignee="Jo Kim",
                first_response_at=created + timedelta(minutes=7),
            )
        )
        emu.put_ticket(world("snoozed", status=TicketStatus.PENDING, priority=Priority.P4))
        emu.put_ticket(
            world(
                "closed",
                status=TicketStatus.CLOSED,
                priority=Priority.P5,
                resolved_at=created + timedelta(hours=2),
            )
        )
        emu.put_ticket(world("no-priority", priority=None, asset="db-eu-3"))
        async with connector_for(emu) as og:
            tickets = {t.title: t for t in (await og.poll(None)).tickets}

    def mapped(ref: str) -> tuple[Any, ...]:
        t = tickets[f"Alert {ref}"]
        return t.status, t.raw_status, t.priority, t.raw_priority

    assert mapped("new") == (TicketStatus.OPEN, "open", Priority.P1, "P1")
    assert mapped("acked") == (TicketStatus.OPEN, "acknowledged", Priority.P2, "P2")
    assert mapped("snoozed") == (TicketStatus.PENDING, "snoozed", Priority.P4, "P4")
    assert mapped("closed") == (TicketStatus.RESOLVED, "closed", Priority.P5, "P5")
    assert mapped("no-priority") == (TicketStatus.OPEN, "open", Priority.P3, "P3")
    acked = tickets["Alert acked"]
    assert acked.first_response_at == created + timedelta(minutes=7)
    assert acked.assignee == "jo.kim@acme.example"
    assert tickets["Alert closed"].resolved_at == created + timedelta(hours=2)
    assert tickets["Alert new"].assignee is None  # owner ""
    assert tickets["Alert no-priority"].asset == "db-eu-3"
    assert tickets["Alert new"].asset == "198.51.100.7"  # the default source, the sender's IP


async def test_status_and_priority_overrides_from_config() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("acked", first_response_at=NOW - timedelta(hours=4)))
        emu.put_ticket(world("closed", status=TicketStatus.RESOLVED, priority=Priority.P5))
        async with connector_for(
            emu,
            status_map={"acknowledged": "pending", "closed": "closed"},
            priority_map={"P5": "P4"},
        ) as og:
            tickets = {t.title: t for t in (await og.poll(None)).tickets}
    assert tickets["Alert acked"].status is TicketStatus.PENDING
    assert tickets["Alert closed"].status is TicketStatus.CLOSED
    assert (tickets["Alert closed"].priority, tickets["Alert closed"].raw_priority) == (
        Priority.P4,
        "P5",
    )


async def test_team_names_come_from_the_teams_list_once() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", group="Database"))
        emu.put_ticket(world("b", group="Network"))
        emu.put_ticket(world("c"))
        async with connector_for(emu) as og:
            tickets = {t.title: t for t in (await og.poll(None)).tickets}
            emu.put_ticket(world("d", group="Database", updated_at=NOW))
            again = await og.poll(None)
        assert (tickets["Alert a"].group, tickets["Alert b"].group) == ("Database", "Network")
        assert tickets["Alert c"].group is None
        assert {t.title: t.group for t in again.tickets}["Alert d"] == "Database"
        assert [r.path for r in emu.requests].count("/v2/teams") == 1


async def test_alerts_only_key_leaves_groups_empty_without_failing() -> None:
    with OpsgenieEmulator(teams_readable=False) as emu:
        emu.put_ticket(world("a", group="Database"))
        async with connector_for(emu) as og:
            (ticket,) = (await og.poll(None)).tickets
            await og.poll(None)
        assert ticket.group is None
        assert [r.path for r in emu.requests].count("/v2/teams") == 1


async def test_failed_team_lookup_keeps_the_alerts_and_is_retried() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", group="Database"))
        async with connector_for(emu) as og:
            emu.inject(page(emu, [emu.alert("a")], None), Reply(500, {"message": "oops"}))
            (first,) = (await og.poll(None)).tickets
            (second,) = (await og.poll(None)).tickets
        assert (first.group, second.group) == (None, "Database")
        assert [r.path for r in emu.requests].count("/v2/teams") == 2


async def test_query_setting_is_passed_through() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("open"))
        emu.put_ticket(world("closed", status=TicketStatus.CLOSED))
        async with connector_for(emu, query="status: open") as og:
            result = await og.poll(None)
        assert [t.title for t in result.tickets] == ["Alert open"]
        assert list_requests(emu)[0].param("query") == "status: open"


async def test_ui_url_builds_links_from_the_id_only() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, ui_url="https://acme.app.opsgenie.com/") as og:
            (ticket,) = (await og.poll(None)).tickets
        assert (
            ticket.url == f"https://acme.app.opsgenie.com/alert/detail/{emu.alert_id('a')}/details"
        )


async def test_wrong_key_is_an_auth_error() -> None:
    with OpsgenieEmulator() as emu:
        async with connector_for(emu, api_key="wrong-key") as og:
            with pytest.raises(AuthError) as info:
                await og.poll(None)
        assert info.value.http_status == 401
        assert "Could not authenticate" in str(info.value)
        assert "wrong-key" not in str(info.value)


async def test_forbidden_is_an_auth_error() -> None:
    with OpsgenieEmulator() as emu:
        emu.inject(Reply(403, {"message": "Could not authenticate", "took": 0.0, "requestId": "r"}))
        async with connector_for(emu) as og:
            with pytest.raises(AuthError) as info:
                await og.check()
        assert info.value.http_status == 403


async def test_server_error_is_transient() -> None:
    with OpsgenieEmulator() as emu:
        emu.inject(Reply(503, {"message": "Service Unavailable", "took": 0.0, "requestId": "r"}))
        async with connector_for(emu) as og:
            with pytest.raises(TransientError):
                await og.poll(None)


async def test_throttled_account_is_rate_limited_and_then_paced() -> None:
    with OpsgenieEmulator(requests_per_period=1, rate_period=1) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as og:
            await og.poll(None)
            assert (og.budget.state, og.budget.remaining) == ("OK", 1)
            with pytest.raises(RateLimited) as info:
                await og.poll(None)
            assert info.value.retry_after == 1.0  # no Retry-After: the period that ran out
            assert (og.budget.state, og.budget.reason, og.budget.period) == (
                "THROTTLED",
                "ACCOUNT",
                1.0,
            )
            started = time.monotonic()
            (ticket,) = (await og.poll(None)).tickets
            assert time.monotonic() - started >= 0.5
        assert og.budget.waited > 0.5
        assert og.budget.state == "OK"
        assert ticket.title == "Alert a"


async def test_throttled_ok_answer_paces_the_next_page() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        throttled = page(emu, [], next_offset=0 + 1)
        throttled.headers.update(
            {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"}
        )
        emu.inject(throttled)
        async with connector_for(emu) as og:
            started = time.monotonic()
            await og.poll(None)
            elapsed = time.monotonic() - started
        assert elapsed >= 0.8
        assert 0.8 <= og.budget.waited <= 1.0


async def test_rate_limit_mid_poll_keeps_pages_read_and_the_old_cursor() -> None:
    with OpsgenieEmulator(requests_per_period=2) as emu:
        for i in range(4):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i)))
        saved = {"updated_at": (NOW - timedelta(days=1)).isoformat()}
        async with connector_for(emu, page_size=1) as og:
            result = await og.poll(saved)
        assert [t.title for t in result.tickets] == ["Alert a0", "Alert a1"]
        assert result.requests == 3
        assert result.cursor == saved


async def test_page_guard_stops_and_keeps_the_cursor() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i)))
        async with connector_for(emu, page_size=1, max_pages=2) as og:
            result = await og.poll(None)
        assert len(result.tickets) == 2
        assert result.cursor is None


async def test_garbage_and_backwards_paging_are_bad_payload() -> None:
    with OpsgenieEmulator() as emu:
        emu.inject(Reply(200, raw=b"<html>maintenance</html>"))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload):
                await og.poll(None)
        emu.inject(page(emu, [], next_offset=5), page(emu, [], next_offset=5))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload, match="goes back"):
                await og.poll(None)
        emu.inject(Reply(200, {"data": [{"message": "no id"}], "paging": {}}))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload):
                await og.poll(None)


async def test_hostile_message_is_cleaned() -> None:
    hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202egnp.exe"
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile))
        async with connector_for(emu) as og:
            (ticket,) = (await og.poll(None)).tickets
    assert not has_forbidden(ticket.title)
    assert ticket.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/] gnp.exe"


async def test_foreign_cursor_means_backfill_and_v2_suffix_is_tolerated() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(days=2)))
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig(
            name="alerts",
            kind="opsgenie",
            base_url=f"{emu.base_url}/v2/",
            settings={**values, "backfill_days": 3},
        )
        async with OpsgenieConnector.make_client(config) as client:
            result = await OpsgenieConnector(config, client).poll({"after_cursor": "zendesk"})
        assert [t.title for t in result.tickets] == ["Alert a"]


@pytest.mark.parametrize(
    "bad",
    [
        {"status_map": {"open": "bogus"}},
        {"status_map": "open=pending"},
        {"priority_map": {"P1": "P0"}},
        {"page_size": "101"},
        {"page_size": "0"},
        {"backfill_days": "-1"},
        {"max_pages": "1.5"},
        {"ui_url": "acme.app.opsgenie.com"},
    ],
)
def test_validate_rejects_what_cannot_work(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        OpsgenieConnector.validate(
            VendorConfig(
                name="o",
                kind="opsgenie",
                base_url="https://api.opsgenie.com",
                settings={"api_key": "k", **bad},
            )
        )


def test_validate_needs_the_api_key() -> None:
    with pytest.raises(ConfigurationError, match="api_key"):
        OpsgenieConnector.validate(
            VendorConfig(name="o", kind="opsgenie", base_url="https://api.opsgenie.com")
        )


# -- the emulator's own wire behaviour ------------------------------------------------


def test_emulator_speaks_opsgenies_wire_format() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"a{i}"))
        headers = {"Authorization": f"GenieKey {emu.api_key}"}
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            answer = client.get(ALERTS_PATH, params={"limit": 2})
            assert answer.status_code == 200
            assert answer.headers["X-RateLimit-State"] == "OK"
            body = answer.json()
            assert set(body) == {"data", "paging", "took", "requestId"}
            assert body["requestId"] == answer.headers["X-Request-ID"]
            assert body["paging"]["next"] == (
                "https://api.opsgenie.com/v2/alerts?limit=2&sort=createdAt&offset=2&order=desc"
            )
            assert body["paging"]["last"].endswith("offset=2&order=desc")
            assert [a["tinyId"] for a in body["data"]] == ["1203", "1202"]  # createdAt ties
            last = client.get(ALERTS_PATH, params={"limit": 2, "offset": 2}).json()
            assert "next" not in last["paging"] and last["paging"]["prev"].endswith(
                "offset=0&order=desc"
            )
            invalid = client.get(ALERTS_PATH, params={"limit": 101})
            assert invalid.status_code == 422 and "limit" in invalid.json()["errors"]
            one = client.get(f"{ALERTS_PATH}/1201", params={"identifierType": "tiny"})
            assert one.json()["data"]["id"] == emu.alert_id("a0")
        anonymous = httpx2.get(f"{emu.base_url}{ALERTS_PATH}")
        assert anonymous.status_code == 401
        assert anonymous.json()["message"] == "Could not authenticate"
        assert set(anonymous.json()) == {"message", "took", "requestId"}


def test_emulator_keeps_native_shapes() -> None:
    with OpsgenieEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.RESOLVED, group="Database"))
        native = emu.alert("a")
        assert key == f"#{native['tinyId']}" and native["tinyId"].isdigit()
        assert (
            re.fullmatch(r"[0-9a-f-]{36}-\d{13}", native["id"]) and native["alias"] == native["id"]
        )
        assert native["status"] == "closed" and native["priority"] == "P3"
        assert native["owner"] == "" and native["responders"] == [
            {"type": "team", "id": emu.team_id("Database")}
        ]
        assert isinstance(native["report"]["closeTime"], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,3}Z", native["updatedAt"])
        assert emu.put_ticket(world("a")) == key
        assert emu.alert("a")["status"] == "open"
        emu.set_native("a", acknowledged=True)
        assert emu.alert("a")["acknowledged"] is True
        with pytest.raises(ValueError):
            emu.set_native("a", status="resolved")


def test_timestamps_drop_trailing_zeros_like_the_capture() -> None:
    at = datetime(2021, 11, 24, 12, 14, 41, 30000, tzinfo=UTC)
    assert format_timestamp(at) == "2021-11-24T12:14:41.03Z"
    assert format_timestamp(at.replace(microsecond=926400)) == "2021-11-24T12:14:41.926Z"
    assert format_timestamp(at.replace(microsecond=0)) == "2021-11-24T12:14:41.0Z"

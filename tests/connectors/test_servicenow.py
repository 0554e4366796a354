"""The ServiceNow connector against the ServiceNow emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors import load_connector
from connectors.actions import Action, ActionKind
from connectors.base import VendorConfig
from connectors.emulators import emulator_for
from connectors.emulators.base import Reply, Request, WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.errors import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.servicenow import ServiceNowConnector
from connectors.servicenow.settings import ServiceNowSettings
from connectors.timestamps import format_servicenow
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
INCIDENTS = "/api/now/table/incident"
TASK_SLA = "/api/now/table/task_sla"


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
        "assignee": "Dana Ortiz",
        "group": "Network Ops",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: ServiceNowEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="snow", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(
    emu: ServiceNowEmulator, **settings: Any
) -> AsyncIterator[ServiceNowConnector]:
    config = config_for(emu, **settings)
    ServiceNowConnector.validate(config)
    async with ServiceNowConnector.make_client(config) as client:
        yield ServiceNowConnector(config, client)


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


def requests_to(emu: ServiceNowEmulator, path: str) -> list[Request]:
    return [r for r in emu.requests if r.path == path]


def cursor_at(since: datetime) -> dict[str, Any]:
    """A saved two-phase cursor with the backfill done and the incremental phase at ``since``."""
    return {
        "v": 2,
        "incremental": {"since": since.isoformat()},
        "incremental_from": None,
        "backfill": None,
    }


def incremental_of(cursor: dict[str, Any] | None) -> Any:
    """The connector's own incremental position inside a saved cursor."""
    assert cursor is not None and cursor["v"] == 2
    return cursor["incremental"]


def put_series(emu: ServiceNowEmulator, count: int, **fields: Any) -> list[str]:
    """``count`` incidents updated one minute apart, oldest first; their numbers."""
    return [
        emu.put_ticket(world(f"t{i}", updated_at=NOW - timedelta(minutes=count - i), **fields))
        for i in range(count)
    ]


# -- discovery and config ----------------------------------------------------------------


def test_entry_point_and_emulator_are_registered() -> None:
    assert load_connector("servicenow") is ServiceNowConnector
    assert emulator_for("servicenow") is ServiceNowEmulator


def test_credentials_and_settings_are_validated() -> None:
    base = {"name": "snow", "kind": "servicenow", "base_url": "https://acme.service-now.com"}
    ServiceNowConnector.validate(VendorConfig(**base, settings={"token": "t"}))
    ServiceNowConnector.validate(VendorConfig(**base, settings={"username": "u", "password": "p"}))
    with pytest.raises(ConfigurationError, match="username\\+password or token"):
        ServiceNowConnector.validate(VendorConfig(**base, settings={"username": "u"}))
    config = VendorConfig(**base, settings={"token": "t", "page_size": "zero"})
    with pytest.raises(ConfigurationError, match="page_size"):
        ServiceNowConnector(config, httpx2.AsyncClient())


def test_basic_auth_wins_over_token_and_token_becomes_bearer() -> None:
    base = {"name": "snow", "kind": "servicenow", "base_url": "https://acme.service-now.com"}
    both = VendorConfig(**base, settings={"username": "u", "password": "p", "token": "t"})
    assert isinstance(ServiceNowConnector.auth(both), httpx2.BasicAuth)
    assert ServiceNowConnector.headers(both) == {}
    token = VendorConfig(**base, settings={"token": "t0k"})
    assert ServiceNowConnector.auth(token) is None
    assert ServiceNowConnector.headers(token) == {"Authorization": "Bearer t0k"}


def test_settings_are_typed_and_errors_name_the_key() -> None:
    base = {"name": "snow", "kind": "servicenow", "base_url": "https://acme.service-now.com"}
    settings = ServiceNowConnector.options_of(VendorConfig(**base, settings={"token": "t"}))
    assert (settings.page_size, settings.concurrency, settings.backfill_days) == (200, 4, 30.0)
    assert (settings.close_code, settings.hold_reason, settings.conversations) == (
        "Solved (Permanently)",
        "1",
        True,
    )
    for bad, key in (
        ({"pagesize": "5"}, "unknown setting 'pagesize'"),
        ({"page_size": "20000"}, "page_size"),
        ({"conversations": "maybe"}, "conversations"),
        ({"concurrency": "0"}, "concurrency"),
        ({"backfill_days": "-1"}, "backfill_days"),
    ):
        config = VendorConfig(**base, settings={"token": "hunter2", **bad})
        with pytest.raises(ConfigurationError, match=key) as caught:
            ServiceNowConnector.validate(config)
        assert "hunter2" not in str(caught.value)


def test_settings_carried_by_the_config_are_not_parsed_again() -> None:
    base = {"name": "snow", "kind": "servicenow", "base_url": "https://acme.service-now.com"}
    parsed = ServiceNowSettings.parse("snow", "servicenow", {"token": "t", "page_size": 50})
    config = VendorConfig(**base, settings={"token": "t"}, options=parsed)
    assert ServiceNowConnector.options_of(config) is parsed
    assert ServiceNowConnector(config, httpx2.AsyncClient()).options.page_size == 50


def test_the_dry_run_needs_no_client_and_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a dry run built an HTTP client")

    monkeypatch.setattr(httpx2, "AsyncClient", no_client)
    config = VendorConfig(
        name="snow",
        kind="servicenow",
        base_url="https://acme.service-now.com",
        settings={"username": "svc", "password": "s3cret-pw", "hold_reason": "4"},
    )
    hold = Action(ActionKind.SET_STATUS, "abc", "INC1", status=TicketStatus.PENDING)
    (planned,) = ServiceNowConnector.plan_action(config, hold)
    assert (planned.method, planned.path) == ("PATCH", f"{INCIDENTS}/abc")
    assert planned.body == {"state": "3", "hold_reason": "4"}
    assert "s3cret-pw" not in repr(planned) and "svc" not in repr(planned)


# -- records ------------------------------------------------------------------------------


async def test_records_carry_every_unified_field() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(
            world(
                "vpn",
                title="VPN gateway EU-2 dropping tunnels",
                status=TicketStatus.RESOLVED,
                priority=Priority.P1,
                asset="vpn-gw-eu2",
                created_at=NOW - timedelta(hours=3),
                updated_at=NOW - timedelta(minutes=5),
                resolved_at=NOW - timedelta(minutes=6),
            )
        )
        async with connector_for(emu) as connector:
            result = await connector.poll(None)

        record = by_key(result.tickets)[number]
        sys_id = emu.sys_id_of("vpn")
        assert number == "INC0010001"
        assert len(sys_id) == 32 and int(sys_id, 16) >= 0
        assert record.external_id == sys_id
        assert record.title == "VPN gateway EU-2 dropping tunnels"
        assert record.status is TicketStatus.RESOLVED
        assert record.raw_status == "Resolved"
        assert record.priority is Priority.P1
        assert record.raw_priority == "1 - Critical"
        assert record.assignee == "Dana Ortiz"
        assert record.requester == "Lee Park"
        assert record.group == "Network Ops"
        assert record.asset == "vpn-gw-eu2"
        assert record.created_at == NOW - timedelta(hours=3)
        assert record.updated_at == NOW - timedelta(minutes=5)
        assert record.resolved_at == NOW - timedelta(minutes=6)
        assert record.url == f"{emu.base_url}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}"
        assert record.raw["number"] == {"display_value": number, "value": number}


async def test_native_state_codes_are_normalised() -> None:
    with ServiceNowEmulator() as emu:
        statuses = list(TicketStatus)
        numbers = [emu.put_ticket(world(s.value, status=s)) for s in statuses]
        canceled = emu.put_ticket(world("canceled"))
        custom = emu.put_ticket(world("custom"))
        emu.set_native("canceled", state="8")
        emu.set_native("custom", state="42")
        async with connector_for(emu) as connector:
            tickets = by_key((await connector.poll(None)).tickets)

        assert [tickets[n].status for n in numbers] == statuses
        assert [tickets[n].raw_status for n in numbers] == [
            "New",
            "In Progress",
            "On Hold",
            "Resolved",
            "Closed",
        ]
        assert (tickets[canceled].status, tickets[canceled].raw_status) == (
            TicketStatus.CLOSED,
            "Canceled",
        )
        assert (tickets[custom].status, tickets[custom].raw_status) == (TicketStatus.OPEN, "42")


async def test_a_404_that_is_not_no_record_found_is_an_error() -> None:
    with ServiceNowEmulator() as emu:
        emu.inject(Reply(404, raw=b"<html>Not Found</html>", headers={"Content-Type": "text/html"}))
        async with connector_for(emu) as connector:
            with pytest.raises(ConnectorError) as caught:
                await connector.poll(None)
        assert caught.value.http_status == 404


# -- vendor SLA -------------------------------------------------------------------------------


async def test_vendor_sla_from_task_sla(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.servicenow.connector.ID_BATCH", 2)
    with ServiceNowEmulator() as emu:
        due = NOW + timedelta(hours=2)
        running = emu.put_ticket(world("running", due_at=due))
        late = emu.put_ticket(world("late", due_at=NOW - timedelta(minutes=10)))
        flagged = emu.put_ticket(world("flagged", due_at=due, breached=True))
        done = emu.put_ticket(world("done", due_at=due, status=TicketStatus.RESOLVED))
        plain = emu.put_ticket(world("plain"))
        async with connector_for(emu) as connector:
            result = await connector.poll(None)

        tickets = by_key(result.tickets)
        assert (tickets[running].vendor_due_at, tickets[running].vendor_breached) == (due, False)
        assert tickets[late].vendor_due_at == NOW - timedelta(minutes=10)
        assert tickets[late].vendor_breached is True
        assert (tickets[flagged].vendor_due_at, tickets[flagged].vendor_breached) == (due, True)
        assert (tickets[done].vendor_due_at, tickets[done].vendor_breached) == (None, None)
        assert (tickets[plain].vendor_due_at, tickets[plain].vendor_breached) == (None, None)
        sla_queries = [r.param("sysparm_query") or "" for r in requests_to(emu, TASK_SLA)]
        assert all(q.startswith("taskIN") and q.endswith("^active=true") for q in sla_queries)
        asked = [
            q.removeprefix("taskIN").removesuffix("^active=true").split(",") for q in sla_queries
        ]
        assert all(len(ids) <= 2 for ids in asked)  # batches of ID_BATCH incidents
        assert {i for ids in asked for i in ids} == {t.external_id for t in result.tickets}
        # four open incidents (one page, two batches) and one resolved (the second walk)
        assert len(sla_queries) == 3


async def test_emulator_task_sla_rows_look_like_the_real_table() -> None:
    with ServiceNowEmulator() as emu:
        due = NOW + timedelta(hours=2)
        number = emu.put_ticket(world("x", priority=Priority.P2, due_at=due))
        async with connector_for(emu) as connector:
            answer = await connector.client.get(
                TASK_SLA,
                params={
                    "sysparm_query": "active=true^task.number=" + number,
                    "sysparm_display_value": "all",
                    "sysparm_fields": "task,task.number,sla,stage,has_breached,planned_end_time",
                },
            )
        row = answer.json()["result"][0]
        sys_id = emu.sys_id_of("x")
        assert row["task"] == {
            "display_value": number,
            "link": f"{emu.base_url}/api/now/table/incident/{sys_id}",
            "value": sys_id,
        }
        assert row["task.number"] == {"display_value": number, "value": number}
        assert row["sla"]["display_value"] == "P2 resolution"
        assert row["stage"] == {"display_value": "In progress", "value": "in_progress"}
        assert row["has_breached"] == {"display_value": "false", "value": "false"}
        assert row["planned_end_time"]["value"] == format_servicenow(due)
        berlin = due.astimezone(emu.user_zone).strftime("%d/%m/%Y %H:%M:%S")
        assert row["planned_end_time"]["display_value"] == berlin


# -- emulator wire format ----------------------------------------------------------------------


async def test_emulator_flat_shape_links_and_headers() -> None:
    with ServiceNowEmulator() as emu:
        put_series(emu, 3)
        async with connector_for(emu) as connector:
            answer = await connector.client.get(
                INCIDENTS,
                params={
                    "sysparm_limit": "1",
                    "sysparm_offset": "1",
                    "sysparm_fields": "number,assigned_to,cmdb_ci",
                },
            )
        assert answer.headers["X-Total-Count"] == "3"
        links = {rel: link["url"] for rel, link in answer.links.items()}
        assert set(links) == {"first", "prev", "next", "last"}
        assert all(url.startswith(f"{emu.base_url}{INCIDENTS}?") for url in links.values())
        assert "sysparm_offset=2" in links["next"] and "sysparm_offset=2" in links["last"]
        [row] = answer.json()["result"]
        assert row["number"] == "INC0010002"
        assert set(row) == {"number", "assigned_to", "cmdb_ci"}
        assert row["assigned_to"]["link"].startswith(f"{emu.base_url}/api/now/table/sys_user/")
        assert len(row["assigned_to"]["value"]) == 32
        assert row["cmdb_ci"] == ""


# -- errors -----------------------------------------------------------------------------------


async def test_wrong_password_is_an_auth_error_with_the_vendor_body() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu, password="wrong") as connector:
            with pytest.raises(AuthError, match="User Not Authenticated") as caught:
                await connector.poll(None)
            raw = await httpx2.AsyncClient(base_url=emu.base_url).get(INCIDENTS)
        assert caught.value.http_status == 401
        assert "wrong" not in str(caught.value)
        assert raw.status_code == 401
        assert raw.json() == {
            "error": {
                "message": "User Not Authenticated",
                "detail": "Required to provide Auth information",
            },
            "status": "failure",
        }


async def test_bearer_token_is_accepted() -> None:
    with ServiceNowEmulator(token="oauth-abc") as emu:
        number = put_series(emu, 1)[0]
        config = VendorConfig(
            name="snow", kind="servicenow", base_url=emu.base_url, settings={"token": "oauth-abc"}
        )
        async with ServiceNowConnector.make_client(config) as client:
            result = await ServiceNowConnector(config, client).poll(None)
        assert [t.key for t in result.tickets] == [number]
        assert emu.requests[0].headers["authorization"] == "Bearer oauth-abc"


async def test_basic_auth_header_is_sent() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as connector:
            await connector.check()
        expected = base64.b64encode(b"svc_paneglass:demo-password").decode()
        assert emu.requests[0].headers["authorization"] == f"Basic {expected}"


async def test_server_error_is_transient() -> None:
    with ServiceNowEmulator() as emu:
        put_series(emu, 1)
        emu.inject(Reply(500, {"error": {"message": "Transaction cancelled"}, "status": "failure"}))
        async with connector_for(emu) as connector:
            with pytest.raises(TransientError, match="Transaction cancelled") as caught:
                await connector.poll(None)
        assert caught.value.http_status == 500


async def test_429_with_a_long_retry_after_is_rate_limited() -> None:
    with ServiceNowEmulator() as emu:
        put_series(emu, 1)
        emu.inject(
            Reply(
                429,
                {"error": {"message": "Rate limit exceeded"}, "status": "failure"},
                headers={"Retry-After": "120"},
            )
        )
        async with connector_for(emu) as connector:
            with pytest.raises(RateLimited) as caught:
                await connector.poll(None)
        assert caught.value.retry_after == 120


async def test_429_with_a_short_retry_after_is_waited_out() -> None:
    with ServiceNowEmulator() as emu:
        number = put_series(emu, 1)[0]
        emu.inject(
            Reply(
                429,
                {"error": {"message": "Rate limit exceeded"}, "status": "failure"},
                headers={"Retry-After": "0.2"},
            )
        )
        async with connector_for(emu) as connector:
            result = await connector.poll(None)
        assert number in by_key(result.tickets)
        assert sum(r.path == INCIDENTS for r in emu.requests) >= 4  # the refused one, again


async def test_failure_on_a_later_page_fails_the_poll_after_the_pages_before_it() -> None:
    class BusyLaterEmulator(ServiceNowEmulator):
        """Answers the first incident page, then runs out of semaphores."""

        def route(self, request: Request) -> Reply:
            keyset = "sys_id>" in (request.param("sysparm_query") or "")
            if request.path == INCIDENTS and keyset:
                return Reply(503, {"error": {"message": "busy"}}, headers={"Retry-After": "300"})
            return super().route(request)

    with BusyLaterEmulator() as emu:
        put_series(emu, 4)
        async with connector_for(emu, page_size="2") as connector:
            yielded = []
            with pytest.raises(RateLimited) as caught:
                async for page in connector.pages(None):
                    yielded.append(page)
        assert (caught.value.http_status, caught.value.retry_after) == (503, 300)
        assert [len(p.tickets) for p in yielded] == [2]  # committed before the failure
        assert yielded[0].cursor is not None and yielded[0].cursor["backfill"]["position"]


async def test_hostile_titles_and_names_arrive_clean() -> None:
    with ServiceNowEmulator() as emu:
        extra = ("\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/]\u202eevil",)
        for index, text in enumerate(HOSTILE_STRINGS + extra):
            emu.put_ticket(world(f"h{index}", title=text, assignee=text[:80], group=text[:80]))
        async with connector_for(emu) as connector:
            result = await connector.poll(None)

        assert len(result.tickets) == len(HOSTILE_STRINGS) + 1
        for record in result.tickets:
            for text in (record.title, record.assignee or "", record.group or ""):
                assert not has_forbidden(text), repr(text[:60])
        last = by_key(result.tickets)[f"INC{10001 + len(HOSTILE_STRINGS):07d}"]
        assert last.title == "[2J]52;c;ZXZpbA==[@click=app.quit]x[/]evil"


# -- check -------------------------------------------------------------------------------------


async def test_check_reports_visible_incidents() -> None:
    with ServiceNowEmulator() as emu:
        put_series(emu, 1234)
        async with connector_for(emu) as connector:
            assert await connector.check() == "ok, 1,234 incidents visible"
        [request] = emu.requests
        assert request.param("sysparm_limit") == "1"


async def test_check_on_an_empty_table_and_with_bad_credentials() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as connector:
            assert await connector.check() == "ok, 0 incidents visible"
        async with connector_for(emu, password="nope") as connector:
            with pytest.raises(AuthError):
                await connector.check()

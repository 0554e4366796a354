"""PagerDuty: open incidents plus the log-entry change feed, over real loopback HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.pagerduty import PagerDutyEmulator
from connectors.errors import AuthError, RateLimited
from connectors.pagerduty import PagerDutyConnector
from connectors.pagerduty.mapping import incident_to_record
from connectors.records import Priority, TicketStatus

CAPTURE = Path(__file__).parent / "captures" / "pagerduty-incidents.json"
NOW = datetime.now(UTC)


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


def connector_for(emu: PagerDutyEmulator, **settings: str) -> PagerDutyConnector:
    config = VendorConfig(
        "on-call", "pagerduty", emu.base_url, settings={"api_token": emu.api_token, **settings}
    )
    PagerDutyConnector.validate(config)
    return PagerDutyConnector(config, PagerDutyConnector.make_client(config))


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
    assert first.url is None  # html_url is vendor text: links come only from ui_url + id


async def test_first_poll_then_only_changes() -> None:
    with PagerDutyEmulator() as emu:
        for n in range(130):  # more than one page of open incidents
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
        assert connector.budget.remaining is not None and connector.budget.limit == 960

        emu.put_ticket(world(3, TicketStatus.RESOLVED))  # leaves the open set
        second = await connector.poll(first.cursor)
        resolved = [r for r in second.tickets if r.title == "incident 3"]
        assert resolved and resolved[0].status is TicketStatus.RESOLVED
        await connector.client.aclose()


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

"""Jira at a real customer's size and distance: 10,000 JSM requests 50 ms away, and an
emulator whose pages cost the same at 1,000 and 100,000 issues."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.base import Request, WorldEntry, WorldTicket
from connectors.emulators.jira import COUNT_PATH, SEARCH_PATH, SLA_FIELDS, JiraEmulator
from connectors.jira.connector import ISSUE_FIELDS
from connectors.records import Priority, TicketStatus
from tests.connectors.test_jira import connector_for

NOW = datetime.now(UTC).replace(microsecond=0)
MIX = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED)


def requests(count: int, *, lean: bool = False) -> Iterator[WorldTicket]:
    """JSM requests of every state, each with its SLA clocks (``lean``: no people, no SLA)."""
    for i in range(count):
        created = NOW - timedelta(days=20, minutes=i)
        status = TicketStatus.CLOSED if i % 10 == 9 else MIX[i % 4]
        yield WorldTicket(
            ref=f"r{i}",
            title=f"Printer {i} offline",
            status=status,
            priority=Priority.P3,
            created_at=created,
            updated_at=created + timedelta(hours=3),
            assignee=None if lean else f"Agent {i % 17}",
            requester=None if lean else f"User {i % 301}",
            group=None if lean else "Network Ops",
            description="" if lean else f"Printer {i} shows 49.4C02.",
            due_at=None if lean else created + timedelta(hours=8),
            first_response_at=None if lean else created + timedelta(minutes=30),
        )


@pytest.mark.slow
async def test_a_jsm_tenant_of_10000_requests_50ms_away_syncs_in_one_search_per_100() -> None:
    with JiraEmulator(latency=0.05) as emu:
        emu.put_tickets(requests(10_000))
        for i in range(0, 10_000, 50):
            emu.put_entry(
                f"r{i}", WorldEntry("q", f"User {i}", "any news?", NOW - timedelta(days=19))
            )
        async with connector_for(emu) as jira:
            started, cpu = time.monotonic(), time.process_time()
            result = await jira.poll(None)
            took, cpu = time.monotonic() - started, time.process_time() - cpu
        assert len(result.tickets) == 10_000 and len(result.entries) == 200
        assert sum(t.vendor_due_at is not None for t in result.tickets) > 5_000
        # One search per 100 requests, nothing per request: 10,000 SLA reads were the defect.
        assert result.requests <= 3 + 100 + 2 + 1
        assert [r for r in emu.requests if "/servicedeskapi/" in r.path] == []
        # How long it takes at 50 ms is bench/sync.py's business ("JSM alone"); this test
        # holds the cause of the old defect: requests that grow with the tenant.
        print(f"first sync at 50 ms: {took:.1f} s ({cpu:.1f} s CPU)")


def _search(
    emu: JiraEmulator, jql: str, token: str | None = None
) -> tuple[float, dict[str, object]]:
    """Process time of one search answered (JSON out included) and its body."""
    auth = base64.b64encode(f"{emu.email}:{emu.api_token}".encode()).decode()
    body = {"jql": jql, "fields": [*ISSUE_FIELDS, *SLA_FIELDS], "maxResults": 100}
    if token is not None:
        body["nextPageToken"] = token
    request = Request(
        "POST", SEARCH_PATH, {}, {"authorization": f"Basic {auth}"}, json.dumps(body).encode()
    )
    started = time.process_time()
    reply = emu.handle(request)
    reply.encode()
    assert reply.status == 200, reply.body
    return time.process_time() - started, reply.body


def _page_costs(emu: JiraEmulator) -> list[float]:
    """The cost of a middle page of each query a sync sends, and of the backfill count."""
    since = f'"{NOW - timedelta(days=30):%Y-%m-%d %H:%M}"'
    costs = []
    for jql in (
        "statusCategory != Done ORDER BY created ASC, key ASC",
        f"statusCategory = Done AND updated >= {since} ORDER BY updated ASC, key ASC",
        f"updated >= {since} ORDER BY updated ASC, key ASC",
    ):
        _, first = _search(emu, jql)
        token = first.get("nextPageToken")
        assert isinstance(token, str)
        best = min(_search(emu, jql, token)[0] for _ in range(3))
        costs.append(best)
    auth = base64.b64encode(f"{emu.email}:{emu.api_token}".encode()).decode()
    count = Request(
        "POST",
        COUNT_PATH,
        {},
        {"authorization": f"Basic {auth}"},
        json.dumps({"jql": f"(statusCategory != Done OR updated >= {since})"}).encode(),
    )
    started = time.process_time()
    assert emu.handle(count).status == 200
    costs.append(time.process_time() - started)
    return costs


@pytest.mark.slow
def test_emulator_pages_cost_the_same_at_1000_and_100000_issues() -> None:
    small, large = JiraEmulator(), JiraEmulator()
    small.put_tickets(requests(1_000, lean=True))
    large.put_tickets(requests(100_000, lean=True))
    small_costs, large_costs = _page_costs(small), _page_costs(large)
    for few, many in zip(small_costs, large_costs, strict=True):
        # A scan of 100,000 issues per page would cost 100x; indexes keep it flat.
        assert many < 3 * few + 0.005, (small_costs, large_costs)

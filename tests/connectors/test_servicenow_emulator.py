"""The ServiceNow emulator itself: the real list shape, its indexes, bulk loading, latency."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors.emulators.base import WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator, _Store
from connectors.records import Priority, TicketStatus
from tests.connectors.test_servicenow import INCIDENTS, world

CAPTURE = Path(__file__).parent / "captures" / "servicenow-incidents.json"
STATUSES = list(TicketStatus)


def client_for(emu: ServiceNowEmulator) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=emu.base_url, auth=(emu.username, emu.password))


def tenant(count: int, now: datetime) -> Iterator[WorldTicket]:
    for i in range(count):
        yield WorldTicket(
            f"t{i}",
            f"Ticket {i}",
            STATUSES[i % len(STATUSES)],
            Priority.P3,
            now - timedelta(days=400),
            now - timedelta(minutes=i),
            assignee=f"Agent {i % 7}",
            due_at=now + timedelta(hours=i % 5),
        )


async def test_list_records_carry_exactly_the_keys_of_the_real_answer() -> None:
    real = json.loads(CAPTURE.read_text())["result"][0]
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", asset="srv-1"))
        async with client_for(emu) as client:
            flat = (await client.get(INCIDENTS)).json()["result"][0]
            both = await client.get(INCIDENTS, params={"sysparm_display_value": "all"})
    assert set(flat) == set(real)
    # references: {"link", "value"} when set, "" when empty, as in the capture
    assert set(flat["assigned_to"]) == {"link", "value"}
    assert flat["assigned_to"]["link"].startswith(f"{emu.base_url}/api/now/table/sys_user/")
    assert flat["problem_id"] == "" and real["rfc"] == "" and flat["rfc"] == ""
    assert flat["sys_domain"] == {
        "link": f"{emu.base_url}/api/now/table/sys_domain/global",
        "value": "global",
    }
    row = both.json()["result"][0]
    assert set(row) == set(real)
    assert all(set(v) >= {"display_value", "value"} for v in row.values())


async def test_connector_queries_use_indexes_not_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.connectors.test_servicenow import connector_for

    scans = 0
    values = _Store.values

    def counted(self: _Store) -> Any:
        nonlocal scans
        scans += 1
        return values(self)

    now = datetime.now(UTC).replace(microsecond=0)
    with ServiceNowEmulator() as emu:
        emu.put_tickets(tenant(600, now))
        monkeypatch.setattr(_Store, "values", counted)
        async with connector_for(emu, page_size="50") as connector:
            result = await connector.poll(None)
    assert len(result.tickets) > 300
    assert scans == 0


async def test_bulk_loading_matches_one_by_one_loading() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    one, bulk = ServiceNowEmulator(), ServiceNowEmulator()
    for ticket in tenant(30, now):
        one.put_ticket(ticket)
    assert bulk.put_tickets(tenant(30, now)) == 30
    for i in range(30):
        assert one.incident(f"t{i}") == bulk.incident(f"t{i}")
        assert one.sla_row(f"t{i}") == bulk.sla_row(f"t{i}")


async def test_indexes_follow_writes_through_the_api() -> None:
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a"))
        sys_id = emu.sys_id_of("a")
        async with client_for(emu) as client:
            resolved = await client.patch(
                f"{INCIDENTS}/{sys_id}",
                json={"state": "6", "close_code": "Solved (Permanently)", "close_notes": "done"},
            )
            assert resolved.status_code == 200
            still_open = await client.get(
                INCIDENTS, params={"sysparm_query": "stateNOT IN6,7,8^ORDERBYsys_id"}
            )
            finished = await client.get(
                INCIDENTS,
                params={"sysparm_query": "stateIN6,7,8^ORDERBYsys_updated_on^ORDERBYsys_id"},
            )
    assert still_open.status_code == 404  # v1: no record found
    assert [r["sys_id"] for r in finished.json()["result"]] == [sys_id]


async def test_latency_delays_every_answer_and_answers_overlap() -> None:
    with ServiceNowEmulator(latency=0.25) as emu:
        async with client_for(emu) as client:
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(client.get(INCIDENTS, params={"sysparm_limit": "1"}) for _ in range(8))
            )
            took = time.perf_counter() - started
    assert all(a.status_code == 404 for a in answers)
    # Each answer waited its latency; one after another, eight would take 2 s.
    assert 0.25 <= took < 1.5


async def test_keyset_terms_select_exactly_the_rows_after_a_point() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with ServiceNowEmulator() as emu:
        for i in range(6):  # three share one second
            at = now - timedelta(minutes=1 if i < 3 else i)
            emu.put_ticket(world(f"t{i}", updated_at=at))
        rows = sorted(
            (emu.incident(f"t{i}")["sys_updated_on"], emu.incident(f"t{i}")["sys_id"])
            for i in range(6)
        )
        at, after = rows[3]
        query = (
            f"sys_updated_on>={rows[0][0]}^sys_updated_on>={at}^sys_updated_on>{at}"
            f"^ORsys_id>{after}^ORDERBYsys_updated_on^ORDERBYsys_id"
        )
        async with client_for(emu) as client:
            answer = await client.get(INCIDENTS, params={"sysparm_query": query})
    got = [(r["sys_updated_on"], r["sys_id"]) for r in answer.json()["result"]]
    assert got == rows[4:]
    assert answer.headers["X-Total-Count"] == "2"

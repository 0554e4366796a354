"""ServiceNow's two-phase sync against the emulator: resumable backfill, keyset incremental."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.emulators.base import Reply, Request
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.errors import TransientError
from connectors.records import PollResult, TicketStatus
from connectors.servicenow.connector import ServiceNowConnector
from connectors.timestamps import format_servicenow
from tests.connectors.test_servicenow import (
    INCIDENTS,
    by_key,
    connector_for,
    cursor_at,
    incremental_of,
    requests_to,
    world,
)

ORDER_BY_UPDATED = "^ORDERBYsys_updated_on^ORDERBYsys_id"


def fresh_now() -> datetime:
    """This test's now, to the second (the instance's precision)."""
    return datetime.now(UTC).replace(microsecond=0)


async def all_pages(connector: ServiceNowConnector, cursor: Any) -> list[PollResult]:
    return [page async for page in connector.pages(cursor)]


def queries(emu: ServiceNowEmulator) -> list[tuple[str, str]]:
    """Every incident list request as (sysparm_query, sysparm_offset), oldest first."""
    return [
        (r.param("sysparm_query") or "", r.param("sysparm_offset") or "")
        for r in requests_to(emu, INCIDENTS)
        if r.param("sysparm_limit") != "1"  # the one-row count of the second walk
    ]


# -- backfill -------------------------------------------------------------------------------------


async def test_backfill_reads_old_open_tickets_and_only_recent_finished_ones() -> None:
    now = fresh_now()
    old = now - timedelta(days=400)
    with ServiceNowEmulator() as emu:
        ancient_open = emu.put_ticket(world("a", created_at=old, updated_at=old))
        ancient_hold = emu.put_ticket(
            world("b", status=TicketStatus.PENDING, created_at=old, updated_at=old)
        )
        ancient_closed = emu.put_ticket(
            world("c", status=TicketStatus.CLOSED, created_at=old, updated_at=old)
        )
        ancient_resolved = emu.put_ticket(
            world("d", status=TicketStatus.RESOLVED, created_at=old, updated_at=old)
        )
        recent_closed = emu.put_ticket(
            world("e", status=TicketStatus.CLOSED, updated_at=now - timedelta(days=3))
        )
        canceled = emu.put_ticket(world("f", updated_at=now - timedelta(days=3)))
        emu.set_native("f", state="8", sys_updated_on=format_servicenow(old))
        async with connector_for(emu, backfill_days="30") as connector:
            pages = await all_pages(connector, None)

    seen = {t.key for page in pages for t in page.tickets}
    assert {ancient_open, ancient_hold, recent_closed} <= seen
    assert not {ancient_closed, ancient_resolved, canceled} & seen
    backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
    assert backfill[0].progress is not None and backfill[0].progress.total == 3


async def test_backfill_query_shapes_are_the_documented_ones() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=90)))
        emu.put_ticket(world("b", status=TicketStatus.CLOSED, updated_at=now - timedelta(days=1)))
        async with connector_for(emu, backfill_days="2") as connector:
            started = datetime.now(UTC)
            await connector.poll(None)

    incident_requests = requests_to(emu, INCIDENTS)
    first = next(r for r in incident_requests if r.param("sysparm_limit") == "200")
    assert first.param("sysparm_query") == "stateNOT IN6,7,8^ORDERBYsys_id"
    assert first.param("sysparm_offset") == "0"
    assert first.param("sysparm_display_value") == "all"
    assert first.param("sysparm_exclude_reference_link") == "true"
    assert "sys_updated_on" in (first.param("sysparm_fields") or "").split(",")
    asked = [q for q, _ in queries(emu)]
    closed = next(q for q in asked if q.startswith("stateIN6,7,8^"))
    floor_text = closed.removeprefix("stateIN6,7,8^sys_updated_on>=")[:19]
    floor = datetime.fromisoformat(floor_text).replace(tzinfo=UTC)
    assert abs(floor - (started - timedelta(days=2))) < timedelta(seconds=30)
    assert closed.endswith(ORDER_BY_UPDATED)
    incremental = asked[-1]
    assert incremental.startswith("sys_updated_on>=") and incremental.endswith(ORDER_BY_UPDATED)
    since = datetime.fromisoformat(incremental[16:35]).replace(tzinfo=UTC)
    assert abs(since - (started - timedelta(seconds=60))) < timedelta(seconds=30)


async def test_backfill_follows_next_links_past_short_and_empty_acl_pages() -> None:
    with ServiceNowEmulator() as emu:
        numbers = [emu.put_ticket(world(f"t{i}")) for i in range(7)]
        ids = {emu.sys_id_of(f"t{i}"): numbers[i] for i in range(7)}
        order = sorted(ids)  # the open walk reads by sys_id
        # Pages of 2 by sys_id: [o0 o1] [o1 o2]→hidden… the limit counts hidden rows.
        for hidden in (order[1], order[2], order[3]):
            emu.hidden_sys_ids.add(hidden)
        async with connector_for(emu, page_size="2") as connector:
            result = await connector.poll(None)

    visible = {ids[i] for i in order if i not in emu.hidden_sys_ids}
    assert set(by_key(result.tickets)) == visible
    walk = [(q, o) for q, o in queries(emu) if q.startswith("stateNOT IN")]
    assert walk == [
        ("stateNOT IN6,7,8^ORDERBYsys_id", "0"),  # o0 (o1 hidden): a short page
        (f"stateNOT IN6,7,8^sys_id>{order[0]}^ORDERBYsys_id", "0"),  # o1 o2 hidden: empty
        (f"stateNOT IN6,7,8^sys_id>{order[0]}^ORDERBYsys_id", "2"),  # o3 hidden, o4
        (f"stateNOT IN6,7,8^sys_id>{order[4]}^ORDERBYsys_id", "0"),  # o5 o6, no next link
    ]


async def test_a_stopped_backfill_resumes_after_its_last_page_and_reads_each_ticket_once() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        expected = set()
        for i in range(40):
            status = TicketStatus.CLOSED if i % 4 == 0 else TicketStatus.OPEN
            age = timedelta(days=200 if i % 3 == 0 and status is TicketStatus.OPEN else 2)
            expected.add(emu.put_ticket(world(f"t{i}", status=status, updated_at=now - age)))
        async with connector_for(emu, page_size="7") as connector:
            first_run: list[PollResult] = []
            async for page in connector.pages(None):
                first_run.append(page)
                if len(first_run) == 3:
                    break  # the collector was killed after committing three pages
            second_run = await all_pages(connector, first_run[-1].cursor)

    def backfilled(pages: list[PollResult]) -> list[str]:
        return [
            t.key
            for p in pages
            if p.progress is not None and p.progress.phase == "backfill"
            for t in p.tickets
        ]

    counts = Counter(backfilled(first_run) + backfilled(second_run))
    assert set(counts) == expected
    assert set(counts.values()) == {1}  # every ticket exactly once
    read = sum(len(p.tickets) for p in first_run + second_run)
    assert read < 2 * len(expected)
    done = [p.progress.done for p in second_run if p.progress and p.progress.phase == "backfill"]
    assert done[-1] == len(expected)  # counted across the restart
    last = second_run[-1].cursor
    assert last is not None and last["backfill"] is None


async def test_the_backfill_keyset_continues_into_the_second_walk_after_a_restart() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        for i in range(5):
            emu.put_ticket(
                world(f"c{i}", status=TicketStatus.CLOSED, updated_at=now - timedelta(hours=i))
            )
        async with connector_for(emu, page_size="2") as connector:
            pages = []
            async for page in connector.pages(None):
                pages.append(page)
                if len(pages) == 2:
                    break
            position = pages[-1].cursor["backfill"]["position"]  # type: ignore[index]
            assert position["walk"] == "closed" and position["after"]
            emu.requests.clear()
            rest = await all_pages(connector, pages[-1].cursor)
    resumed = queries(emu)[0][0]
    at, after = position["at"], position["after"]
    assert resumed.startswith("stateIN6,7,8^sys_updated_on>=")
    assert f"^sys_updated_on>={at}^sys_updated_on>{at}^ORsys_id>{after}" in resumed
    done = {t.key for p in pages + rest for t in p.tickets}
    assert len(done) == 5


async def test_changes_made_during_the_backfill_are_read_by_the_incremental_phase() -> None:
    class BusyInstance(ServiceNowEmulator):
        """An agent edits one incident and opens another while the first page is served."""

        changed = False

        def route(self, request: Request) -> Reply:
            reply = super().route(request)
            query = request.param("sysparm_query") or ""
            if request.path == INCIDENTS and query.startswith("stateNOT IN") and not self.changed:
                self.changed = True
                edited = datetime.now(UTC).replace(microsecond=0)
                self.put_ticket(world("t0", title="Edited during the backfill", updated_at=edited))
                self.put_ticket(world("new", title="Opened during the backfill", updated_at=edited))
            return reply

    now = fresh_now()
    with BusyInstance() as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", updated_at=now - timedelta(days=5)))
        async with connector_for(emu, page_size="2") as connector:
            pages = await all_pages(connector, None)

    incremental = [
        t for p in pages if p.progress and p.progress.phase == "incremental" for t in p.tickets
    ]
    titles = {t.title for t in incremental}
    assert {"Edited during the backfill", "Opened during the backfill"} <= titles


# -- incremental ---------------------------------------------------------------------------------


async def test_incremental_keeps_same_second_updates_and_moves_the_cursor() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"t{i}", updated_at=now - timedelta(minutes=3 - i)))
        async with connector_for(emu) as connector:
            first = await connector.poll(None)
            assert len(first.tickets) == 3
            at = now + timedelta(seconds=10)
            emu.put_ticket(world("a", updated_at=at))
            second = await connector.poll(first.cursor)
            assert incremental_of(second.cursor) == {"since": at.isoformat()}

            # Committed late, in the very second the cursor holds; and a later change.
            late = emu.put_ticket(world("late", updated_at=at))
            emu.put_ticket(world("t0", title="Changed", updated_at=at + timedelta(seconds=10)))
            emu.requests.clear()
            third = await connector.poll(second.cursor)

    changed = by_key(third.tickets)
    assert late in changed
    assert any(t.title == "Changed" for t in third.tickets)
    assert incremental_of(third.cursor) == {"since": (at + timedelta(seconds=10)).isoformat()}
    (query, _offset) = queries(emu)[0]
    assert query == f"sys_updated_on>={format_servicenow(at - timedelta(seconds=60))}" + (
        ORDER_BY_UPDATED
    )


async def test_incremental_pages_use_an_exact_keyset_within_a_poll() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        same = now - timedelta(minutes=5)
        for i in range(5):  # five updates in one second: more than a page
            emu.put_ticket(world(f"t{i}", updated_at=same))
        async with connector_for(emu, page_size="2") as connector:
            result = await connector.poll(cursor_at(now - timedelta(minutes=10)))

    assert len(by_key(result.tickets)) == 5
    asked = [q for q, _ in queries(emu)]
    stamp = format_servicenow(same)
    assert asked[0].startswith("sys_updated_on>=")
    assert all(f"^sys_updated_on>={stamp}^sys_updated_on>{stamp}^ORsys_id>" in q for q in asked[1:])
    assert len(asked) == 3


async def test_an_update_while_paging_is_read_again_and_nothing_is_skipped() -> None:
    class ShufflingEmulator(ServiceNowEmulator):
        """Updates t0 right after serving the first incident page, as a busy instance would."""

        def route(self, request: Request) -> Reply:
            reply = super().route(request)
            keyset = "^ORsys_id>" in (request.param("sysparm_query") or "")
            if (
                request.path == INCIDENTS
                and not keyset
                and "Edited" not in self.incident("t0")["short_description"]
            ):
                self.put_ticket(world("t0", title="Edited meanwhile", updated_at=fresh_now()))
            return reply

    now = fresh_now()
    with ShufflingEmulator() as emu:
        numbers = [
            emu.put_ticket(world(f"t{i}", updated_at=now - timedelta(minutes=5 - i)))
            for i in range(5)
        ]
        async with connector_for(emu, page_size="2") as connector:
            result = await connector.poll(cursor_at(now - timedelta(minutes=10)))

    seen = by_key(result.tickets)
    assert set(seen) == set(numbers)
    assert seen[numbers[0]].title == "Edited meanwhile"  # read again at its new place


async def test_quiet_poll_gets_v1_404_and_keeps_the_cursor() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(hours=2)))
        cursor = cursor_at(now + timedelta(hours=1))
        async with connector_for(emu) as connector:
            result = await connector.poll(cursor)
            raw = await connector.client.get(INCIDENTS, params={"sysparm_query": "number=NONE"})

    assert result.tickets == ()
    assert result.cursor == cursor
    assert result.requests == 1  # no sub-request for nothing
    assert raw.status_code == 404
    assert raw.json() == {
        "error": {
            "message": "No Record found",
            "detail": "Records matching query not found. Check query parameter or offered values",
        },
        "status": "failure",
    }


async def test_empty_instance_first_sync_finishes_the_backfill() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as connector:
            result = await connector.poll(None)
    assert result.tickets == ()
    assert result.cursor is not None and result.cursor["backfill"] is None
    assert result.cursor["incremental"] is None and result.cursor["incremental_from"]
    # walk 1 (404), the walk-2 count, walk 2 (404), the incremental phase (404)
    assert result.requests == 4


async def test_unreadable_positions_start_their_phase_over() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a", updated_at=now - timedelta(seconds=5)))
        async with connector_for(emu) as connector:
            broken_backfill = {
                "v": 2,
                "incremental": None,
                "incremental_from": None,
                "backfill": {"position": {"walk": "sideways"}, "started": now.isoformat()},
            }
            again = await connector.poll(broken_backfill)
            legacy = await connector.poll({"since": "yesterday-ish"})

    assert [t.key for t in again.tickets] == [number]
    assert number in by_key(legacy.tickets)  # a pre-kit cursor: one backfill, then incremental


async def test_a_pre_kit_cursor_is_kept_for_the_incremental_phase() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(minutes=30)))
        old_cursor = {"since": (now - timedelta(minutes=40)).isoformat()}
        async with connector_for(emu) as connector:
            await connector.poll(old_cursor)
    last = queries(emu)[-1][0]
    expected = now - timedelta(minutes=40) - timedelta(seconds=60)
    assert last.startswith(f"sys_updated_on>={format_servicenow(expected)}^ORDERBY")


# -- the page's sub-requests -------------------------------------------------------------------


async def test_a_page_costs_one_incident_request_and_three_bulk_queries_per_batch() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        for i in range(250):
            emu.put_ticket(world(f"t{i}", updated_at=now - timedelta(minutes=30)))
        async with connector_for(emu) as connector:
            pages = await all_pages(connector, cursor_at(now - timedelta(hours=1)))

    (page,) = [p for p in pages if p.tickets and len(p.tickets) == 200]
    assert page.requests == 1 + 2 * 3  # 200 incidents: two batches of 100 ids
    paths = Counter(r.path for r in emu.requests)
    assert paths[INCIDENTS] == 2  # 200 + 50
    assert paths["/api/now/table/task_sla"] == 3
    assert paths["/api/now/table/sys_journal_field"] == 3
    assert paths["/api/now/table/sys_attachment"] == 3


async def test_sub_requests_run_side_by_side_within_the_concurrency_bound() -> None:
    now = fresh_now()
    with ServiceNowEmulator(latency=0.05) as emu:
        for i in range(400):
            emu.put_ticket(world(f"t{i}", updated_at=now - timedelta(minutes=30)))
        async with connector_for(emu, concurrency="3") as connector:
            await connector.poll(cursor_at(now - timedelta(hours=1)))
            assert connector.limiter.peak == 3


async def test_a_short_429_in_the_middle_of_a_page_is_waited_out() -> None:
    class Throttled(ServiceNowEmulator):
        refused = 0

        def route(self, request: Request) -> Reply:
            if request.path == "/api/now/table/sys_journal_field" and not self.refused:
                self.refused += 1
                body = {"error": {"message": "Too many requests"}, "status": "failure"}
                return Reply(429, body, headers={"Retry-After": "0.1"})
            return super().route(request)

    now = fresh_now()
    with Throttled() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(minutes=3)))
        async with connector_for(emu) as connector:
            result = await connector.poll(cursor_at(now - timedelta(minutes=10)))
    assert len(result.tickets) == 1
    assert emu.refused == 1
    assert len(requests_to(emu, "/api/now/table/sys_journal_field")) == 2


async def test_a_500_in_a_sub_request_fails_the_page_and_keeps_the_cursor() -> None:
    class Broken(ServiceNowEmulator):
        def route(self, request: Request) -> Reply:
            if request.path == "/api/now/table/sys_attachment":
                return Reply(500, {"error": {"message": "Transaction cancelled"}})
            return super().route(request)

    now = fresh_now()
    with Broken() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(minutes=3)))
        async with connector_for(emu) as connector:
            cursor = cursor_at(now - timedelta(minutes=10))
            pages = []
            with pytest.raises(TransientError, match="Transaction cancelled"):
                async for page in connector.pages(cursor):
                    pages.append(page)
    assert pages == []  # nothing half-read was handed on: the saved cursor stays

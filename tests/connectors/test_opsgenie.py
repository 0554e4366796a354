"""The Opsgenie connector against the Opsgenie emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors.actions import Action, ActionKind
from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldEntry, WorldTicket
from connectors.emulators.opsgenie import ALERTS_PATH, OpsgenieEmulator, format_timestamp
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.opsgenie import OpsgenieConnector
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus, Visibility
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
CAPTURE = Path(__file__).parent / "captures" / "opsgenie-alerts.json"
LEAN = {"details": False, "conversations": False}
"""Settings for tests about the list walk alone: no per-alert requests."""


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


async def drain(
    og: OpsgenieConnector, cursor: Cursor | None = None, *, stop_after: int | None = None
) -> list[PollResult]:
    pages = []
    async for page in og.pages(cursor):
        pages.append(page)
        if stop_after is not None and len(pages) >= stop_after:
            break
    return pages


def backfilled(pages: list[PollResult]) -> list[str]:
    return [
        t.external_id
        for p in pages
        if p.progress is not None and p.progress.phase == "backfill"
        for t in p.tickets
    ]


def incremental_cursor(since: datetime) -> Cursor:
    """A saved cursor of a vendor whose backfill is done, at ``since``."""
    return {
        "v": 2,
        "incremental": {"since": since.isoformat()},
        "incremental_from": None,
        "backfill": None,
    }


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


# -- the backfill --------------------------------------------------------------------------


async def test_backfill_walks_open_alerts_by_created_at_then_recent_closed_ones() -> None:
    with OpsgenieEmulator() as emu:
        keys = [
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=5, minutes=i)))
            for i in range(5)
        ]
        closed = emu.put_ticket(world("c", status=TicketStatus.CLOSED))
        async with connector_for(emu, page_size=2, **LEAN) as og:
            result = await og.poll(None)

    assert set(by_key(result.tickets)) == {*keys, closed}
    sent = list_requests(emu)
    opened = [r for r in sent if "status: open" in (r.param("query") or "")]

    def ms(minutes: int) -> int:
        return int((NOW - timedelta(hours=5, minutes=minutes)).timestamp() * 1000)

    assert [r.param("query") for r in opened] == [
        "status: open",
        f"status: open AND createdAt >= {ms(3)}",
        f"status: open AND createdAt >= {ms(2)}",
        f"status: open AND createdAt >= {ms(1)}",
    ]  # each page repeats the last one read (>=) and drops it: none is ever skipped
    assert all(r.param("sort") == "createdAt" and r.param("order") == "asc" for r in opened)
    assert all(r.param("offset") == "0" and r.param("limit") == "2" for r in opened)
    closing = [r for r in sent if r.param("query") == "status: closed"]
    assert [(r.param("sort"), r.param("order")) for r in closing] == [("updatedAt", "desc")]
    counts = [r.param("query") for r in emu.requests if r.path == "/v2/alerts/count"]
    assert counts[0] == "status: open" and counts[1].startswith("status: closed AND createdAt >= ")
    # Nothing to read per alert (LEAN): the history walk ends at once, without a request.
    assert result.progress is not None and result.progress.phase == "history"
    assert result.cursor is not None and "history" not in result.cursor


async def test_backfill_reads_an_old_open_alert_and_skips_an_old_closed_one() -> None:
    with OpsgenieEmulator() as emu:
        ancient = NOW - timedelta(days=400)
        old_open = emu.put_ticket(world("old-open", created_at=ancient, updated_at=ancient))
        emu.put_ticket(
            world("old-closed", status=TicketStatus.CLOSED, created_at=ancient, updated_at=ancient)
        )
        recent = emu.put_ticket(world("recent-closed", status=TicketStatus.CLOSED))
        async with connector_for(emu, backfill_days=30, **LEAN) as og:
            pages = await drain(og)
    keys = {t.key for p in pages for t in p.tickets}
    assert {old_open, recent} <= keys
    assert f"#{emu.alert('old-closed')['tinyId']}" not in keys
    done = [p.progress for p in pages if p.progress and p.progress.phase == "backfill"][-1]
    assert done is not None and (done.done, done.total) == (2, 2)


async def test_alerts_sharing_one_millisecond_are_walked_past() -> None:
    with OpsgenieEmulator(page_cap=2) as emu:  # short pages that are not the end, too
        for i in range(7):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i)))
        async with connector_for(emu, page_size=5, **LEAN) as og:
            pages = await drain(og)
    ids = backfilled(pages)
    assert len(ids) == len(set(ids)) == 7
    opened = [r for r in list_requests(emu) if "status: open" in (r.param("query") or "")]
    assert [r.param("offset") for r in opened] == ["0", "0", "2", "4", "6"]


async def test_an_empty_page_with_next_is_not_the_end() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b", created_at=NOW - timedelta(hours=6)))
        emu.inject_on(ALERTS_PATH, page(emu, [], next_offset=1))
        async with connector_for(emu, **LEAN) as og:
            pages = await drain(og)
    # The second request starts at offset 1, so only the newer alert is on it.
    assert backfilled(pages) == [emu.alert_id("a")]
    opened = [r for r in list_requests(emu) if "status: open" in (r.param("query") or "")]
    assert [r.param("offset") for r in opened] == ["0", "1"]


async def test_closed_stage_stops_at_the_cutoff_and_drops_older_alerts() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(2):
            emu.put_ticket(
                world(
                    f"new{i}", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(hours=i + 1)
                )
            )
        for i in range(4):
            emu.put_ticket(
                world(
                    f"old{i}",
                    status=TicketStatus.CLOSED,
                    updated_at=NOW - timedelta(days=3, hours=i),
                )
            )
        async with connector_for(emu, page_size=2, backfill_days=1, **LEAN) as og:
            pages = await drain(og)
    titles = sorted(t.title for p in pages for t in p.tickets)
    assert titles == ["Alert new0", "Alert new1"]
    closing = [r for r in list_requests(emu) if r.param("query") == "status: closed"]
    assert [r.param("offset") for r in closing] == ["0", "2"]  # page 3 is never read


async def test_a_restart_resumes_after_the_last_page_and_reads_each_alert_once() -> None:
    with OpsgenieEmulator() as emu:
        refs = []
        for i in range(23):
            refs.append(f"o{i}")
            made = NOW - timedelta(hours=6, seconds=i // 2)  # pairs share a millisecond
            emu.put_ticket(world(f"o{i}", created_at=made))
        for i in range(12):
            refs.append(f"c{i}")
            emu.put_ticket(
                world(f"c{i}", status=TicketStatus.CLOSED, updated_at=NOW - timedelta(hours=i))
            )
        async with connector_for(emu, page_size=5) as og:
            stopped = await drain(og, stop_after=4)
        async with connector_for(emu, page_size=5) as og:
            rest = await drain(og, stopped[-1].cursor)
    ids = backfilled(stopped) + backfilled(rest)
    assert sorted(ids) == sorted(emu.alert_id(ref) for ref in refs)
    listed = [p for p in stopped + rest if p.progress and p.progress.phase == "backfill"]
    assert sum(len(p.tickets) for p in listed) < 2 * len(refs)
    assert "incremental" in [p.progress.phase for p in rest if p.progress]
    assert rest[-1].progress is not None and rest[-1].progress.phase == "history"
    whole = [  # GET /v2/alerts/{id}
        r.path for r in emu.requests if r.path.count("/") == 3 and not r.path.endswith("/count")
    ]
    assert 0 < len(whole) == len(set(whole)) <= len(refs)  # the walk so far: once each


async def test_changes_during_the_backfill_reach_the_incremental_phase() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=5, minutes=i)))
        async with connector_for(emu, page_size=2, **LEAN) as og:
            seen: dict[str, tuple[str, TicketStatus]] = {}
            phases: list[str] = []
            async for result in og.pages(None):
                if not phases:  # after the first page: the world moves on
                    now = datetime.now(UTC)
                    emu.put_ticket(world("a5", status=TicketStatus.CLOSED, updated_at=now))
                    emu.put_ticket(world("a0", title="renamed", updated_at=now))
                    emu.put_ticket(world("new", created_at=now, updated_at=now))
                assert result.progress is not None
                phases.append(result.progress.phase)
                seen.update({t.external_id: (t.title, t.status) for t in result.tickets})
    assert phases[0] == "backfill" and "incremental" in phases and phases[-1] == "history"
    assert seen[emu.alert_id("a5")][1] is TicketStatus.RESOLVED
    assert seen[emu.alert_id("a0")][0] == "renamed"
    assert emu.alert_id("new") in seen


# -- the incremental phase -------------------------------------------------------------------


async def test_incremental_poll_rereads_only_the_overlap() -> None:
    with OpsgenieEmulator() as emu:
        for hours, ref in ((3, "a"), (2, "b"), (1, "c")):
            emu.put_ticket(world(ref, updated_at=NOW - timedelta(hours=hours)))
        async with connector_for(emu, **LEAN) as og:
            saved = incremental_cursor(NOW - timedelta(hours=1, minutes=30))
            first = await og.poll(saved)
            assert [t.title for t in first.tickets] == ["Alert c"]
            assert first.cursor is not None
            since = first.cursor["incremental"]["since"]
            assert since == (NOW - timedelta(hours=1, seconds=60)).isoformat()
            now = datetime.now(UTC).replace(microsecond=0)
            changed = emu.put_ticket(
                world("b", title="b, now closed", status=TicketStatus.RESOLVED, updated_at=now)
            )
            added = emu.put_ticket(world("d", updated_at=now - timedelta(seconds=5)))
            second = await og.poll(first.cursor)

        tickets = by_key(second.tickets)
        key_c = f"#{emu.alert('c')['tinyId']}"
        assert set(tickets) == {changed, added, key_c}  # c is the overlap, a is not read again
        assert tickets[changed].status is TicketStatus.RESOLVED
        assert tickets[changed].title == "b, now closed"
        assert second.requests == 1
        assert second.cursor is not None
        assert second.cursor["incremental"] == {"since": (now - timedelta(seconds=60)).isoformat()}


async def test_update_sharing_the_cursor_instant_is_not_missed() -> None:
    with OpsgenieEmulator() as emu:
        top = NOW - timedelta(minutes=10)
        emu.put_ticket(world("a", updated_at=top))
        async with connector_for(emu, **LEAN) as og:
            first = await og.poll(incremental_cursor(top - timedelta(minutes=1)))
            same_instant = emu.put_ticket(world("b", updated_at=top))
            # Written late: stamped half a minute before the newest change, visible only now.
            committed_late = emu.put_ticket(world("c", updated_at=top - timedelta(seconds=30)))
            second = await og.poll(first.cursor)
        assert {same_instant, committed_late} <= set(by_key(second.tickets))
        assert second.cursor == first.cursor


async def test_nothing_new_keeps_the_cursor() -> None:
    with OpsgenieEmulator() as emu:
        async with connector_for(emu, **LEAN) as og:
            saved = incremental_cursor(NOW - timedelta(days=1))
            result = await og.poll(saved)
        assert result.tickets == ()
        assert result.cursor == saved


async def test_an_incremental_walk_resumes_deeper_in_the_same_walk() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i + 1)))
        async with connector_for(emu, page_size=2, **LEAN) as og:
            saved = incremental_cursor(NOW - timedelta(hours=1))
            stopped = await drain(og, saved, stop_after=1)
            assert stopped[-1].cursor is not None
            walk = stopped[-1].cursor["incremental"]
            assert walk["offset"] == 2 and walk["top"] == (NOW - timedelta(minutes=1)).isoformat()
            rest = await drain(og, stopped[-1].cursor)
    titles = [t.title for p in stopped + rest for t in p.tickets]
    assert titles == [f"Alert a{i}" for i in range(5)]
    assert rest[-1].cursor is not None
    assert rest[-1].cursor["incremental"] == {
        "since": (NOW - timedelta(minutes=1, seconds=60)).isoformat()
    }


async def test_rate_limit_mid_walk_keeps_the_pages_read_and_resumes() -> None:
    with OpsgenieEmulator(requests_per_period=2, rate_period=1) as emu:
        for i in range(4):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(minutes=i)))
        async with connector_for(emu, page_size=1, **LEAN) as og:
            kept: list[PollResult] = []
            with pytest.raises(RateLimited) as info:
                async for result in og.pages(incremental_cursor(NOW - timedelta(days=1))):
                    kept.append(result)
            assert info.value.retry_after == 1.0
            assert [t.title for p in kept for t in p.tickets] == ["Alert a0", "Alert a1"]
            await asyncio.sleep(1.1)
            rest = await drain(og, kept[-1].cursor)
    assert [t.title for p in rest for t in p.tickets] == ["Alert a2", "Alert a3"]


async def test_the_page_guard_raises_and_keeps_what_was_read() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=5, minutes=i)))
        async with connector_for(emu, page_size=2, max_pages=2, **LEAN) as og:
            kept: list[PollResult] = []
            with pytest.raises(ConnectorError, match="max_pages=2"):
                async for result in og.pages(None):
                    kept.append(result)
        assert len(kept) == 2 and len(backfilled(kept)) == 3
        async with connector_for(emu, page_size=2, **LEAN) as og:
            more = await drain(og, kept[-1].cursor)
        assert sorted(backfilled(kept) + backfilled(more)) == sorted(
            emu.alert_id(f"a{i}") for i in range(5)
        )


# -- per alert: the whole alert, notes and log -------------------------------------------------


def test_list_items_carry_the_captures_keys_and_only_get_shows_entity() -> None:
    captured = set(json.loads(CAPTURE.read_text())["data"][0])
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", asset="db-eu-3", description="Disk at 95%"))
        headers = {"Authorization": f"GenieKey {emu.api_key}"}
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            (listed,) = client.get(ALERTS_PATH).json()["data"]
            whole = client.get(f"{ALERTS_PATH}/{emu.alert_id('a')}").json()["data"]
    assert set(listed) == captured
    assert (whole["entity"], whole["description"]) == ("db-eu-3", "Disk at 95%")
    assert set(whole) - set(listed) == {"entity", "description", "details", "actions"}


async def test_asset_and_description_come_from_the_alert_itself() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", asset="db-eu-3", description="Disk at <b>95%</b>\r\nsee runbook"))
        async with connector_for(emu) as og:
            (ticket,) = (await og.poll(None)).tickets
        async with connector_for(emu, **LEAN) as og:
            (lean,) = (await og.poll(None)).tickets
    assert (ticket.asset, ticket.description) == ("db-eu-3", "Disk at <b>95%</b>\nsee runbook")
    assert (lean.asset, lean.description) == ("db-eu-3", None)  # the source is the asset here


async def test_the_backfill_lists_only_and_the_history_walk_reads_each_alert_once() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(9):
            made = NOW - timedelta(hours=6, minutes=i)
            emu.put_ticket(world(f"o{i}", created_at=made, asset=f"db-{i}", description=f"d{i}"))
        emu.put_ticket(world("c", status=TicketStatus.CLOSED, asset="db-c", description="dc"))
        emu.put_entry("o4", WorldEntry("n", "Kim Lee", "looking", NOW - timedelta(minutes=30)))
        every = {emu.alert_id(f"o{i}") for i in range(9)} | {emu.alert_id("c")}
        polls: list[list[PollResult]] = []
        cursor: Cursor | None = None
        for _ in range(6):  # 2 alerts a page, 2 walk pages a poll
            async with connector_for(emu, page_size=2, history_pages_per_poll=2) as og:
                polls.append(await drain(og, cursor))
            cursor = polls[-1][-1].cursor
            assert cursor is not None
            if "history" not in cursor:
                break
        done = len(emu.requests)
        emu.put_entry("o1", WorldEntry("m", "Kim Lee", "fixed", datetime.now(UTC)))
        emu.put_ticket(world("o1", asset="db-1", description="d1", updated_at=datetime.now(UTC)))
        async with connector_for(emu, page_size=2, history_pages_per_poll=2) as og:
            later = await drain(og, cursor)
    pages = [p for poll in polls for p in poll]
    backfill = [p for p in polls[0] if p.progress and p.progress.phase == "backfill"]
    kinds = Counter(r.path.rsplit("/", 1)[-1] for r in emu.requests[:done])
    # The backfill: counts and lists only; the list items carry the source, no description.
    assert {t.external_id for p in backfill for t in p.tickets} == every
    spent = sum(p.requests for p in backfill)
    assert {r.path for r in emu.requests[:spent]} <= {ALERTS_PATH, "/v2/alerts/count", "/v2/teams"}
    # at page_size 2 each keyset page repeats its boundary alert: about one list an alert
    assert len([r for r in emu.requests[:spent] if r.path == ALERTS_PATH]) <= len(every)
    assert {t.description for p in backfill for t in p.tickets} == {None}
    # The walk: every alert read whole, with notes and log, exactly once across the polls.
    per_alert = [
        r.path
        for r in emu.requests[:done]
        if r.path.count("/") >= 3 and not r.path.endswith("/count")
    ]
    assert Counter(per_alert).most_common(1)[0][1] == 1
    assert kinds["notes"] == kinds["logs"] == len(every) and len(per_alert) == 3 * len(every)
    history = [p for p in pages if p.progress and p.progress.phase == "history"]
    whole = {t.external_id: t for p in history for t in p.tickets}
    assert set(whole) == every and whole[emu.alert_id("o3")].description == "d3"
    assert whole[emu.alert_id("c")].asset == "db-c"
    assert "looking" in {e.body for p in history for e in p.entries}
    assert len(polls) >= 3 and all(
        [p.progress.phase for p in poll if p.progress].count("history") <= 2 for poll in polls
    )
    seen: set[str] = set()  # entries arrive after their alerts
    for page in pages:
        assert {e.ticket_external_id for e in page.entries} <= seen
        seen |= {t.external_id for t in page.tickets}
    # An incremental poll after the walk reads the changed alert's new note inline.
    assert "fixed" in {e.body for p in later for e in p.entries}
    assert all(p.progress and p.progress.phase == "incremental" for p in later if p.entries)


async def test_conversations_notes_internal_and_log_lines_system() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", first_response_at=NOW - timedelta(hours=4), assignee="Jo Kim"))
        at = NOW - timedelta(hours=2)
        note_id = emu.put_entry("a", WorldEntry("n1", "Jo Kim", "Restarted the\r\nservice", at))
        emu.put_entry("a", WorldEntry("s1", "System", "Escalated to NOC", at, "system"))
        async with connector_for(emu) as og:
            result = await og.poll(None)
    alert_id = emu.alert_id("a")
    note = next(e for e in result.entries if e.external_id == note_id)
    assert (note.visibility, note.author, note.body, note.created_at) == (
        Visibility.INTERNAL,
        "Jo Kim",
        "Restarted the\nservice",
        at,
    )
    system = {e.body for e in result.entries if e.visibility is Visibility.SYSTEM}
    assert {"Alert created via API", "Escalated to NOC"} <= system
    assert any(body.startswith("Alert acknowledged by") for body in system)
    assert all(e.ticket_external_id == alert_id for e in result.entries)
    asked = {r.path for r in emu.requests if r.path.startswith(f"{ALERTS_PATH}/{alert_id}")}
    assert asked == {f"{ALERTS_PATH}/{alert_id}{p}" for p in ("", "/notes", "/logs")}


async def test_many_notes_are_paged_by_their_offset() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        for i in range(130):
            emu.put_entry(
                "a", WorldEntry(f"n{i}", "Jo Kim", f"note {i}", NOW - timedelta(minutes=200 - i))
            )
        async with connector_for(emu) as og:
            result = await og.poll(None)
    notes = [e.body for e in result.entries if e.visibility is Visibility.INTERNAL]
    assert sorted(notes) == sorted(f"note {i}" for i in range(130))
    asked = [r for r in emu.requests if r.path.endswith("/notes")]
    assert [r.param("direction") for r in asked] == [None, "next"]
    assert asked[1].param("offset") is not None


async def test_an_incremental_poll_reads_only_new_notes() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("n1", "Jo Kim", "first", NOW - timedelta(hours=2)))
        async with connector_for(emu) as og:
            first = await og.poll(None)
            emu.put_entry("a", WorldEntry("n2", "Jo Kim", "second", datetime.now(UTC)))
            second = await og.poll(first.cursor)
    assert [e.body for e in second.entries if e.visibility is Visibility.INTERNAL] == ["second"]
    assert [t.title for t in second.tickets] == ["Alert a"]


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_text_never_survives_as_an_escape(hostile: str) -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, description=hostile, asset=hostile[:90]))
        emu.put_entry("evil", WorldEntry("n", hostile[:90], hostile, NOW - timedelta(hours=1)))
        emu.put_entry(
            "evil", WorldEntry("s", "System", hostile, NOW - timedelta(hours=1), "system")
        )
        async with connector_for(emu) as og:
            result = await og.poll(None)
    (ticket,) = result.tickets
    texts = [ticket.title, ticket.description or "", ticket.asset or ""]
    texts += [text for e in result.entries for text in (e.body, e.raw_body, e.author or "")]
    assert not any(has_forbidden(text) for text in texts)


async def test_a_429_inside_the_fan_out_is_waited_out() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(4):
            emu.put_ticket(world(f"a{i}"))
        throttled = Reply(
            429,
            {"message": "TooManyRequests", "took": 0.0, "requestId": ""},
            {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"},
        )
        target = f"{ALERTS_PATH}/{emu.alert_id('a2')}/notes"
        emu.inject_on(target, throttled)
        async with connector_for(emu, concurrency=3) as og:
            started = time.monotonic()
            result = await og.poll(None)
            elapsed = time.monotonic() - started
            assert og.limiter.peak <= 3
    assert len(result.tickets) == 4
    assert [r.path for r in emu.requests].count(target) == 2  # refused once, then read
    assert elapsed >= 0.9  # the period Opsgenie named


async def test_a_500_inside_the_fan_out_fails_the_page_and_a_retry_resumes() -> None:
    with OpsgenieEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=5, minutes=i)))
        emu.inject_on(
            f"{ALERTS_PATH}/{emu.alert_id('a2')}/logs",
            Reply(500, {"message": "Internal error", "took": 0.0, "requestId": ""}),
        )
        async with connector_for(emu, page_size=2) as og:
            kept: list[PollResult] = []
            with pytest.raises(TransientError, match="HTTP 500"):
                async for result in og.pages(None):
                    kept.append(result)
            assert sorted(backfilled(kept)) == sorted(emu.alert_id(f"a{i}") for i in range(6))
            walked = [p for p in kept if p.progress and p.progress.phase == "history"]
            assert emu.alert_id("a2") not in {t.external_id for p in walked for t in p.tickets}
            rest = await drain(og, kept[-1].cursor)  # its page was never handed out: again
    history = [p for p in kept + rest if p.progress and p.progress.phase == "history"]
    assert sorted(t.external_id for p in history for t in p.tickets) == sorted(
        emu.alert_id(f"a{i}") for i in range(6)
    )
    assert emu.alert_id("a2") in {e.ticket_external_id for p in history for e in p.entries}


# -- status, overrides, teams and links ---------------------------------------------------------


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
            **LEAN,
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
        async with connector_for(emu, **LEAN) as og:
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
        async with connector_for(emu, **LEAN) as og:
            (ticket,) = (await og.poll(None)).tickets
            await og.poll(None)
        assert ticket.group is None
        assert [r.path for r in emu.requests].count("/v2/teams") == 1


async def test_failed_team_lookup_keeps_the_alerts_and_is_retried() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", group="Database"))
        async with connector_for(emu, **LEAN) as og:
            emu.inject_on("/v2/teams", Reply(500, {"message": "oops"}))
            (first,) = (await og.poll(None)).tickets
            (second,) = (await og.poll(None)).tickets
        assert (first.group, second.group) == (None, "Database")
        assert [r.path for r in emu.requests].count("/v2/teams") == 2


async def test_query_setting_is_anded_with_ours() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("p1", priority=Priority.P1))
        emu.put_ticket(world("p3", priority=Priority.P3))
        emu.put_ticket(world("closed", status=TicketStatus.CLOSED, priority=Priority.P1))
        async with connector_for(emu, query="priority: P1", **LEAN) as og:
            result = await og.poll(None)
        assert sorted(t.title for t in result.tickets) == ["Alert closed", "Alert p1"]
        assert list_requests(emu)[0].param("query") == "(priority: P1) AND status: open"


async def test_ui_url_builds_links_from_the_id_only() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, ui_url="https://acme.app.opsgenie.com/", **LEAN) as og:
            (ticket,) = (await og.poll(None)).tickets
        assert (
            ticket.url == f"https://acme.app.opsgenie.com/alert/detail/{emu.alert_id('a')}/details"
        )


# -- errors and throttling -----------------------------------------------------------------------


async def test_genie_key_header_is_sent() -> None:
    with OpsgenieEmulator(api_key="k-123") as emu:
        async with connector_for(emu) as og:
            assert await og.check() == "ok"
        assert emu.requests[-1].headers["authorization"] == "GenieKey k-123"
        assert emu.requests[-1].path == ALERTS_PATH
        assert emu.requests[-1].param("limit") == "1"


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
    with OpsgenieEmulator(requests_per_period=5, rate_period=2) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, **LEAN) as og:
            await og.poll(None)  # five requests: two counts, two lists, one change list
            assert (og.budget.state, og.budget.remaining) == ("OK", 1)
            with pytest.raises(RateLimited) as info:
                await og.poll(None)
            assert info.value.retry_after == 2.0  # no Retry-After: the period that ran out
            assert (og.budget.state, og.budget.reason, og.budget.period) == (
                "THROTTLED",
                "ACCOUNT",
                2.0,
            )
            started = time.monotonic()
            (ticket,) = (await og.poll(None)).tickets
            assert time.monotonic() - started >= 1.0
        assert og.budget.waited > 1.0
        assert og.budget.state == "OK"
        assert ticket.title == "Alert a"


async def test_throttled_ok_answer_paces_the_next_request() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        throttled = page(emu, [], next_offset=0 + 1)
        throttled.headers.update(
            {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"}
        )
        emu.inject(throttled)
        async with connector_for(emu, **LEAN) as og:
            started = time.monotonic()
            await og.poll(None)
            elapsed = time.monotonic() - started
        assert elapsed >= 0.8
        assert 0.8 <= og.budget.waited <= 1.0


async def test_garbage_and_backwards_paging_are_bad_payload() -> None:
    with OpsgenieEmulator() as emu:
        emu.inject(Reply(200, raw=b"<html>maintenance</html>"))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload):
                await og.poll(None)
        emu.inject(page(emu, [], next_offset=5), page(emu, [], next_offset=5))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload, match="goes back"):
                await og.poll(incremental_cursor(NOW))
        emu.inject(Reply(200, {"data": [{"message": "no id"}], "paging": {}}))
        async with connector_for(emu) as og:
            with pytest.raises(BadPayload):
                await og.poll(incremental_cursor(NOW))


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


# -- settings and the dry run --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"status_map": {"open": "bogus"}}, "status_map"),
        ({"status_map": "open=pending"}, "status_map"),
        ({"priority_map": {"P1": "P0"}}, "priority_map"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"backfill_days": "-1"}, "backfill_days"),
        ({"max_pages": "1.5"}, "max_pages"),
        ({"ui_url": "acme.app.opsgenie.com"}, "ui_url"),
        ({"concurrency": 65}, "concurrency"),
        ({"detials": False}, "detials"),
    ],
)
def test_validate_rejects_what_cannot_work_and_names_the_key(bad: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
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


def test_plan_action_needs_no_client_and_shows_no_secret() -> None:
    config = VendorConfig(
        "alerts",
        "opsgenie",
        "https://api.opsgenie.com",
        settings={"api_key": "s3cret-genie-key", "action_user": "noc-bot"},
    )
    (planned,) = OpsgenieConnector.plan_action(
        config, Action(ActionKind.ACKNOWLEDGE, "abc-1", "#1201", text="looking")
    )
    assert (planned.method, planned.path) == ("POST", "/v2/alerts/abc-1/acknowledge")
    assert planned.body == {"user": "noc-bot", "source": "paneglass", "note": "looking"}
    assert "s3cret-genie-key" not in planned.describe()


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
            unsearchable = client.get(ALERTS_PATH, params={"query": "updatedAt > 5"})
            assert unsearchable.status_code == 422
            one = client.get(f"{ALERTS_PATH}/1201", params={"identifierType": "tiny"})
            assert one.json()["data"]["id"] == emu.alert_id("a0")
            counted = client.get("/v2/alerts/count", params={"query": "status: open"}).json()
            assert counted["data"] == {"count": 3}
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
        assert "entity" not in native and "description" not in native
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,3}Z", native["updatedAt"])
        assert emu.put_ticket(world("a")) == key
        assert emu.alert("a")["status"] == "open" and "report" not in emu.alert("a")
        emu.set_native("a", acknowledged=True)
        assert emu.alert("a")["acknowledged"] is True
        with pytest.raises(ValueError, match="open or closed"):
            emu.set_native("a", status="resolved")


def test_timestamps_drop_trailing_zeros_like_the_capture() -> None:
    at = datetime(2021, 11, 24, 12, 14, 41, 30000, tzinfo=UTC)
    assert format_timestamp(at) == "2021-11-24T12:14:41.03Z"
    assert format_timestamp(at.replace(microsecond=926400)) == "2021-11-24T12:14:41.926Z"
    assert format_timestamp(at.replace(microsecond=0)) == "2021-11-24T12:14:41.0Z"


def test_the_emulator_holds_a_large_account_and_pages_it_in_constant_time() -> None:
    made = NOW - timedelta(days=20)
    with OpsgenieEmulator() as emu:
        emu.put_tickets(
            WorldTicket(
                f"big{n}",
                f"alert {n}",
                TicketStatus.CLOSED if n % 3 else TicketStatus.OPEN,
                Priority.P3,
                made + timedelta(seconds=n),
                made + timedelta(seconds=n, minutes=5),
            )
            for n in range(100_000)
        )
        emu.put_ticket(world("one-more"))
        headers = {"Authorization": f"GenieKey {emu.api_key}"}
        bound = int((made + timedelta(days=1)).timestamp() * 1000)
        with httpx2.Client(base_url=emu.base_url, headers=headers) as client:
            before = emu.examined
            deep = client.get(
                ALERTS_PATH,
                params={
                    "query": f"status: open AND createdAt >= {bound}",
                    "sort": "createdAt",
                    "order": "asc",
                    "limit": 100,
                },
            )
            changed = client.get(
                ALERTS_PATH,
                params={
                    "query": "status: closed",
                    "sort": "updatedAt",
                    "order": "desc",
                    "limit": 100,
                    "offset": 40_000,
                },
            )
            examined = emu.examined - before
            counted = client.get("/v2/alerts/count", params={"query": "status: open"})
    assert len(deep.json()["data"]) == 100 and len(changed.json()["data"]) == 100
    assert deep.json()["data"][0]["message"] == "alert 86400"
    assert counted.json()["data"]["count"] == 33_334 + 1
    assert examined == 200  # two bisections and 200 views, not scans of 100,000

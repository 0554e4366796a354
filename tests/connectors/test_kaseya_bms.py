"""The Kaseya BMS connector against the BMS emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors import load_connector
from connectors.actions import Action, ActionKind, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldAttachment, WorldEntry, WorldTicket
from connectors.emulators.kaseya_bms import LIST_FIELDS, TICKETS_PATH, KaseyaBmsEmulator
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.kaseya.auth import TokenAuth
from connectors.kaseya.bms import KaseyaBmsConnector
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus, Visibility
from tests.connectors.test_action_plans import dry_run
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
NOTES = "/v2/servicedesk/tickets/{id}/notes"


def world(ref: str, **fields: Any) -> WorldTicket:
    values: dict[str, Any] = {
        "ref": ref,
        "title": f"Ticket {ref}",
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "created_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=1),
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: KaseyaBmsEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig("psa", kind, emu.base_url, settings={**values, **settings})


@asynccontextmanager
async def connector_for(
    emu: KaseyaBmsEmulator, **settings: Any
) -> AsyncIterator[KaseyaBmsConnector]:
    config = config_for(emu, **settings)
    KaseyaBmsConnector.validate(config)
    async with KaseyaBmsConnector.make_client(config) as client:
        yield KaseyaBmsConnector(config, client)


async def drain(
    bms: KaseyaBmsConnector, cursor: Cursor | None = None, *, stop_after: int | None = None
) -> list[PollResult]:
    pages = []
    async for page in bms.pages(cursor):
        pages.append(page)
        if stop_after is not None and len(pages) >= stop_after:
            break
    return pages


def by_key(tickets: Any) -> dict[str, TicketRecord]:
    return {t.key: t for t in tickets}


def lists(emu: KaseyaBmsEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path == TICKETS_PATH]


def sign_in(client: httpx2.Client, emu: KaseyaBmsEmulator) -> dict[str, str]:
    answer = client.post(
        "/v2/security/authenticate",
        data={
            "userName": emu.username,
            "password": emu.password,
            "tenant": emu.tenant,
            "grantType": "password",
        },
    ).json()
    return {"Authorization": f"Bearer {answer['result']['accessToken']}"}


# -- the emulator's wire ------------------------------------------------------------------------


def test_emulator_speaks_the_bms_envelope_in_camel_case() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"a{i}"))
        with httpx2.Client(base_url=emu.base_url) as client:
            wrong = client.post(
                "/v2/security/authenticate",
                data={"UserName": emu.username, "Password": "x", "Tenant": emu.tenant},
            )
            assert wrong.status_code == 200 and wrong.json()["success"] is False
            assert wrong.json()["error"]["code"] == 401
            multipart = client.post(
                "/v2/security/authenticate",
                files={
                    "UserName": (None, emu.username),
                    "Password": (None, emu.password),
                    "Tenant": (None, emu.tenant),
                    "GrantType": (None, "password"),
                },
            ).json()
            assert multipart["success"] is True
            assert set(multipart["result"]) == {
                "accessToken",
                "refreshToken",
                "accessTokenExpireOn",
                "refreshTokenExpireOn",
            }
            anonymous = client.get(TICKETS_PATH)
            assert anonymous.status_code == 401 and anonymous.content == b""
            headers = sign_in(client, emu)
            page = client.get(TICKETS_PATH, params={"PageSize": 2}, headers=headers).json()
            assert set(page) == {"success", "error", "result", "totalRecords"}
            assert page["totalRecords"] == 3 and len(page["result"]) == 2
            assert list(page["result"][0]) == list(LIST_FIELDS)  # every TicketListDto property
            assert "." not in page["result"][0]["lastActivityUpdate"][:19]
            assert page["result"][0]["lastActivityUpdate"][-1].isdigit()  # no offset
            big = client.get(TICKETS_PATH, params={"PageSize": 500}, headers=headers).json()
            assert len(big["result"]) == 3
            missing = client.get(f"{TICKETS_PATH}/1", headers=headers)
            assert missing.status_code == 404 and missing.json()["success"] is False
            invalid = client.post(
                f"{TICKETS_PATH}/{emu.ticket_id('a0')}/notes",
                json={"Details": "x"},
                headers=headers,
            )
            assert invalid.status_code == 400 and "IsInternal" in invalid.json()["error"]["details"]


def test_the_emulator_holds_a_large_tenant_and_pages_it_in_constant_time() -> None:
    made = NOW - timedelta(days=20)
    with KaseyaBmsEmulator(hourly_limit=None) as emu:
        emu.put_tickets(
            world(
                f"big{n}",
                status=TicketStatus.CLOSED if n % 3 == 0 else TicketStatus.OPEN,
                created_at=made + timedelta(seconds=n),
                updated_at=made + timedelta(seconds=n, minutes=5),
            )
            for n in range(100_000)
        )
        emu.put_ticket(world("one-more"))
        bound = (made + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
        with httpx2.Client(base_url=emu.base_url) as client:
            headers = sign_in(client, emu)
            started = time.perf_counter()
            deep = client.get(
                TICKETS_PATH,
                params={
                    "Filter.ExcludeCompleted": 1,
                    "Filter.LastActivityUpdateTo": bound,
                    "PageSize": 100,
                    "PageNumber": 500,
                },
                headers=headers,
            ).json()
            window = client.get(
                TICKETS_PATH,
                params={
                    "Filter.LastActivityUpdateFrom": (made + timedelta(hours=1)).isoformat()[:19],
                    "Filter.LastActivityUpdateTo": (made + timedelta(hours=2)).isoformat()[:19],
                    "PageSize": 100,
                },
                headers=headers,
            ).json()
            elapsed = time.perf_counter() - started
    assert len(deep["result"]) == 100 and deep["totalRecords"] == 66_667
    assert window["totalRecords"] == 3601
    assert elapsed < 1.0, f"two pages of a 100,000-ticket tenant took {elapsed:.2f} s"


# -- backfill and polls ----------------------------------------------------------------------------


async def test_backfill_reads_open_tickets_of_any_age_and_recently_completed_ones() -> None:
    with KaseyaBmsEmulator() as emu:
        ancient = NOW - timedelta(days=400)
        keys = [emu.put_ticket(world(f"a{i}")) for i in range(5)]
        old_open = emu.put_ticket(world("old-open", created_at=ancient, updated_at=ancient))
        old_done = emu.put_ticket(
            world("old-done", status=TicketStatus.CLOSED, created_at=ancient, updated_at=ancient)
        )
        recent_done = emu.put_ticket(world("recent", status=TicketStatus.RESOLVED))
        async with connector_for(emu, page_size=2, backfill_days=30) as bms:
            pages = await drain(bms)
    backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
    read = {t.key for p in backfill for t in p.tickets}
    assert read == {*keys, old_open, recent_done}
    assert old_done not in read
    first = lists(emu)[0]
    assert first.param("Filter.ExcludeCompleted") == "1" and first.param("PageNumber") == "1"
    assert first.param("Filter.LastActivityUpdateTo") is not None
    closed = [r for r in lists(emu) if r.param("Filter.CompletedDateFrom")]
    assert closed and all(r.param("Filter.ExcludeCompleted") is None for r in closed)
    assert backfill[-1].progress is not None and backfill[-1].progress.total == 7


async def test_a_ticket_leaving_the_set_mid_scan_skips_nothing() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(9):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(hours=3, minutes=i)))
        async with connector_for(emu, page_size=3, conversations=False) as bms:
            seen: list[str] = []
            async for page in bms.pages(None):
                seen += [
                    t.key
                    for t in page.tickets
                    if page.progress and page.progress.phase == "backfill"
                ]
                if len(seen) == 3:
                    # Two tickets of the first page change: they leave the backfill's bounded
                    # set, and the six not read yet move up under the page numbers.
                    for ref in ("a8", "a7"):
                        emu.put_ticket(world(ref, title="changed", updated_at=datetime.now(UTC)))
            total = await bms.poll(page.cursor)
    all_keys = {emu.ticket(f"a{i}")["ticketNumber"] for i in range(9)}
    assert set(seen) == all_keys  # the backfill stepped back and read the six
    numbers = [r.param("PageNumber") for r in lists(emu) if r.param("Filter.ExcludeCompleted")]
    assert numbers[:3] == ["1", "2", "1"]  # totalRecords fell by two: page 1 again
    assert total is not None


async def test_incremental_polls_read_what_changed_with_its_notes() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        async with connector_for(emu) as bms:
            first = await bms.poll(None)
            changed_at = datetime.now(UTC)
            emu.put_ticket(world("b", status=TicketStatus.PENDING, updated_at=changed_at))
            emu.put_entry(
                "b",
                WorldEntry(
                    "n1",
                    "Ana Ruiz",
                    "",
                    changed_at,
                    visibility="public",
                    html="<p>Called <b>the vendor</b></p>",
                    attachments=(WorldAttachment("trace.txt", 120, "text/plain"),),
                ),
            )
            emu.put_entry(
                "b", WorldEntry("n2", "Kim Lee", "internal remark", changed_at, "internal")
            )
            second = await bms.poll(first.cursor)
            third = await bms.poll(second.cursor)
    (ticket,) = second.tickets
    assert (ticket.key, ticket.status, ticket.raw_status) == (
        emu.ticket("b")["ticketNumber"],
        TicketStatus.PENDING,
        "Waiting Customer",
    )
    bodies = {e.body: e for e in second.entries}
    assert bodies["Called the vendor"].visibility is Visibility.PUBLIC
    assert bodies["Called the vendor"].attachments[0].name == "trace.txt"
    assert bodies["Called the vendor"].attachments[0].url is None
    assert bodies["internal remark"].visibility is Visibility.INTERNAL
    window = [r for r in lists(emu) if r.param("Filter.LastActivityUpdateFrom")][-1]
    assert window.param("Filter.LastActivityUpdateTo") is not None
    # The overlap re-reads b once more; nothing else has changed.
    assert {t.key for t in third.tickets} <= {ticket.key}


async def test_a_stopped_backfill_resumes_after_its_last_page() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(7):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(hours=2, minutes=i)))
        async with connector_for(emu, page_size=3) as bms:
            (page,) = await drain(bms, stop_after=1)
        async with connector_for(emu, page_size=3) as bms:
            rest = await drain(bms, page.cursor)
    later = [
        t.key for p in rest if p.progress and p.progress.phase == "backfill" for t in p.tickets
    ]
    assert len(page.tickets) == 3 and len(later) == 4
    assert not set(later) & {t.key for t in page.tickets}


async def test_a_stopped_window_resumes_inside_itself() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("seed"))
        async with connector_for(emu, page_size=2, conversations=False) as bms:
            idle = (await bms.poll(None)).cursor
            for i in range(5):
                emu.put_ticket(world(f"n{i}", updated_at=datetime.now(UTC)))
            (first,) = await drain(bms, idle, stop_after=1)
            rest = await drain(bms, first.cursor)
    assert first.cursor is not None and first.cursor["incremental"]["until"] is not None
    keys = [t.key for t in first.tickets] + [t.key for p in rest for t in p.tickets]
    assert {emu.ticket(f"n{i}")["ticketNumber"] for i in range(5)} <= set(keys)


async def test_the_time_zone_setting_reads_naive_date_times() -> None:
    with KaseyaBmsEmulator(zone="Europe/Amsterdam") as emu:
        emu.put_ticket(world("a", created_at=datetime(2026, 7, 4, 9, 0, tzinfo=UTC)))
        assert emu.ticket("a")["createdOn"] == "2026-07-04T11:00:00"
        async with connector_for(emu, time_zone="Europe/Amsterdam") as bms:
            (ticket,) = (await bms.poll(None)).tickets
    assert ticket.created_at == datetime(2026, 7, 4, 9, 0, tzinfo=UTC)
    sent = lists(emu)[0].param("Filter.LastActivityUpdateTo")
    assert sent is not None and "+" not in sent and "Z" not in sent


# -- the token ---------------------------------------------------------------------------------


async def test_one_sign_in_serves_the_polls_and_no_password_shows() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}"))
        async with connector_for(emu, page_size=2) as bms:
            result = await bms.poll(None)
            await bms.poll(result.cursor)
            assert emu.password not in repr(bms.client.auth) + repr(bms.settings)
    assert emu.sign_ins == 1
    (login,) = [r for r in emu.requests if r.path == "/v2/security/authenticate"]
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"GrantType=password" in login.body and b"Tenant=Acme" in login.body


async def test_the_token_is_refreshed_before_it_lapses() -> None:
    with KaseyaBmsEmulator(token_ttl=600) as emu:
        async with connector_for(emu) as bms:
            await bms.check()
            auth = bms.client.auth
            assert isinstance(auth, TokenAuth)
            later = time.monotonic() + 400  # inside the last five minutes of its ten
            auth.clock = lambda: later
            await bms.check()
    assert (emu.sign_ins, emu.refreshes) == (1, 1)
    refresh = next(r for r in emu.requests if r.path == "/v2/security/refreshtoken")
    assert b"RefreshToken=" in refresh.body and b"AccessToken=" in refresh.body


async def test_a_refused_refresh_signs_in_again() -> None:
    with KaseyaBmsEmulator(token_ttl=600, refresh_ttl=0.0) as emu:
        async with connector_for(emu) as bms:
            await bms.check()
            auth = bms.client.auth
            assert isinstance(auth, TokenAuth)
            later = time.monotonic() + 400
            auth.clock = lambda: later
            assert (await bms.check()).startswith("ok")
    assert (emu.sign_ins, emu.refreshes) == (2, 0)


async def test_a_401_signs_in_again_and_the_request_goes_again() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as bms:
            first = await bms.poll(None)
            emu.expire_tokens()
            emu.put_ticket(world("a", title="after expiry", updated_at=datetime.now(UTC)))
            second = await bms.poll(first.cursor)
    assert [t.title for t in second.tickets] == ["after expiry"]
    assert emu.sign_ins == 2


@pytest.mark.parametrize("status", [200, 401, 400])
async def test_a_wrong_password_is_an_auth_error_without_the_password(status: int) -> None:
    with KaseyaBmsEmulator(auth_failure_status=status) as emu:
        async with connector_for(emu, password="hunter2-wrong") as bms:
            with pytest.raises(AuthError) as info:
                await bms.check()
    assert "Invalid username, password or company name" in str(info.value)
    assert "hunter2" not in str(info.value)


# -- faults ------------------------------------------------------------------------------------


async def test_a_500_mid_backfill_keeps_the_pages_before_it_and_a_retry_resumes() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(hours=2, minutes=i)))
        async with connector_for(emu, page_size=2) as bms:
            pages: list[PollResult] = []
            with pytest.raises(TransientError, match="HTTP 500"):
                async for page in bms.pages(None):
                    pages.append(page)
                    emu.inject_on(
                        TICKETS_PATH,
                        Reply(
                            500,
                            {"success": False, "error": {"code": 500, "message": "Server Error"}},
                        ),
                    )
            rest = await drain(bms, pages[0].cursor)
    keys = {t.key for t in pages[0].tickets} | {t.key for p in rest for t in p.tickets}
    assert len(keys) == 5


async def test_429_with_and_without_retry_after() -> None:
    with KaseyaBmsEmulator() as emu:
        body = {"success": False, "error": {"code": 429, "message": "API call limit reached"}}
        emu.inject_on(TICKETS_PATH, Reply(429, body, {"Retry-After": "120"}))
        async with connector_for(emu) as bms:
            with pytest.raises(RateLimited) as info:
                await bms.poll(None)
        assert info.value.retry_after == 120.0
        emu.inject_on(TICKETS_PATH, Reply(429, body))
        async with connector_for(emu) as bms:
            with pytest.raises(RateLimited) as info:
                await bms.poll(None)
        assert info.value.retry_after is None and "API call limit" in str(info.value)


async def test_success_false_with_http_200_is_an_error() -> None:
    with KaseyaBmsEmulator() as emu:
        refused = {"success": False, "error": {"code": 400, "message": "Invalid filter"}}
        emu.inject_on(TICKETS_PATH, Reply(200, refused))
        async with connector_for(emu) as bms:
            with pytest.raises(ConnectorError, match="ticket list failed: Invalid filter"):
                await bms.poll(None)


async def test_garbage_and_a_missing_total_are_bad_payload() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.inject_on(TICKETS_PATH, Reply(200, raw=b"<html>IIS maintenance</html>"))
        async with connector_for(emu) as bms:
            with pytest.raises(BadPayload, match="not JSON"):
                await bms.poll(None)
        emu.inject_on(TICKETS_PATH, Reply(200, {"success": True, "result": []}))
        async with connector_for(emu) as bms:
            with pytest.raises(BadPayload, match="totalRecords"):
                await bms.poll(None)


async def test_a_hanging_answer_times_out_as_transient() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.inject_on(TICKETS_PATH, Reply(200, {"success": True, "result": []}, delay=2.0))
        async with connector_for(emu) as bms:
            bms.deadline = 0.3
            with pytest.raises(TransientError, match=r"within 0\.3 s"):
                await bms.poll(None)


async def test_each_endpoint_is_paced_within_its_hourly_limit() -> None:
    with KaseyaBmsEmulator(hourly_limit=10) as emu:
        for i in range(4):
            emu.put_ticket(world(f"a{i}", updated_at=datetime.now(UTC)))
        async with connector_for(
            emu, requests_per_hour=10, pace_ratio=0.5, conversations=False
        ) as bms:
            cursor = None
            with pytest.raises(RateLimited) as info:
                for _ in range(10):
                    cursor = (await bms.poll(cursor)).cursor
            assert bms.budget_for(f"GET {TICKETS_PATH}").ours() == 5
            assert bms.budget_for("GET /v2/security/userinfo").ours() == 0
    # Five list requests an hour are ours to make (half of ten): the sixth would wait an
    # hour, so the poll stops with that wait instead of drawing BMS's 429.
    assert info.value.http_status is None and 3500 < (info.value.retry_after or 0) <= 3600
    assert len(lists(emu)) == 5


async def test_the_history_walk_brings_the_notes_of_backfilled_tickets() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(hours=3, minutes=i)))
            emu.put_entry(
                f"a{i}", WorldEntry(f"n{i}", "Kim", f"note {i}", NOW - timedelta(hours=4))
            )
        async with connector_for(emu, page_size=2, history_pages_per_poll=2) as bms:
            first = await drain(bms)
            second = await drain(bms, first[-1].cursor)
    backfill = [p for p in first if p.progress and p.progress.phase == "backfill"]
    assert all(not p.entries for p in backfill)  # tickets first: the queue shows at once
    history = [p for p in first if p.progress and p.progress.phase == "history"]
    assert len([e for p in history for e in p.entries]) == 4  # two pages of two tickets
    assert "history" in (first[-1].cursor or {})  # the rest waits for the next poll
    everything = {e.body for p in [*first, *second] for e in p.entries}
    assert everything == {f"note {i}" for i in range(5)}
    assert second[-1].progress is not None and second[-1].progress.done == 5


async def test_the_history_waits_for_the_notes_budget_without_requests() -> None:
    with KaseyaBmsEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", updated_at=NOW - timedelta(hours=3, minutes=i)))
            emu.put_entry(
                f"a{i}", WorldEntry(f"n{i}", "Kim", f"note {i}", NOW - timedelta(hours=4))
            )
        async with connector_for(emu, page_size=2) as bms:
            notes = bms.budget_for(f"GET {NOTES}")
            notes.allowance = 3  # three notes requests an hour
            first = await drain(bms)
            asked = len(emu.requests)
            waiting = await drain(bms, first[-1].cursor)
            assert len(emu.requests) - asked == 1  # the incremental window only
            later = time.monotonic() + 3601
            notes.clock = lambda: later  # an hour on: the budget has room again
            rest = await drain(bms, waiting[-1].cursor)
    read = [e.body for p in first for e in p.entries]
    assert len(read) == 3
    assert not [e for p in waiting for e in p.entries]
    assert {e.body for p in rest for e in p.entries} | set(read) == {f"note {i}" for i in range(5)}


async def test_a_429_in_the_history_walk_never_fails_the_poll() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("n", "Kim", "old note", NOW - timedelta(hours=4)))
        limited = Reply(429, {"success": False, "error": {"code": 429}}, {"Retry-After": "900"})
        emu.inject_on(f"{TICKETS_PATH}/{emu.ticket_id('a')}/notes", limited)
        async with connector_for(emu) as bms:
            first = await drain(bms)  # the walk meets the 429 and waits in place
            second = await drain(bms, first[-1].cursor)
    assert [p.progress.phase for p in first if p.progress][-1] == "history"
    assert not [e for p in first for e in p.entries]
    assert [e.body for p in second for e in p.entries] == ["old note"]


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_text_never_survives_as_an_escape(hostile: str) -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(
            world(
                "evil",
                title=hostile,
                description=hostile,
                assignee=hostile[:80],
                group=hostile[:80],
            )
        )
        emu.put_entry("evil", WorldEntry("n", hostile[:80], hostile, NOW - timedelta(hours=2)))
        async with connector_for(emu) as bms:
            result = await bms.poll(None)
    (ticket,) = result.tickets
    texts = [ticket.title, ticket.description or "", ticket.assignee or "", ticket.group or ""]
    texts += [t for e in result.entries for t in (e.body, e.raw_body, e.author or "")]
    assert not any(has_forbidden(text) for text in texts)


# -- write-back ---------------------------------------------------------------------------------


async def test_comment_is_a_note_with_its_visibility_and_the_next_poll_shows_it() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        ticket_id = str(emu.ticket_id("a"))
        async with connector_for(emu, note_type_id=7) as bms:
            first = await bms.poll(None)
            public = await bms.perform(
                Action(ActionKind.COMMENT, ticket_id, text="On my way", public=True)
            )
            await bms.perform(Action(ActionKind.COMMENT, ticket_id, text="internal only"))
            second = await bms.poll(first.cursor)
    assert public.summary.startswith("HTTP 200: note ") and public.summary.endswith(" added")
    posts = [
        json.loads(r.body) for r in emu.requests if r.method == "POST" and r.path.endswith("/notes")
    ]
    assert [(p["Details"], p["IsInternal"], p["TypeId"]) for p in posts] == [
        ("On my way", False, 7),
        ("internal only", True, 7),
    ]
    assert all(len(p["NoteDate"]) == 19 for p in posts)  # the moment sent, no offset
    assert [(c.text, c.public) for c in emu.comments_on(ticket_id)] == [
        ("On my way", True),
        ("internal only", False),
    ]
    assert {e.body for e in second.entries} >= {"On my way", "internal only"}


async def test_set_status_by_name_looks_the_id_up_once_and_by_id_directly() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        ticket_id = str(emu.ticket_id("a"))
        async with connector_for(emu) as bms:
            done = await bms.perform(
                Action(ActionKind.SET_STATUS, ticket_id, status=TicketStatus.PENDING, text="asked")
            )
            await bms.perform(Action(ActionKind.SET_STATUS, ticket_id, status=TicketStatus.OPEN))
            await bms.perform(Action(ActionKind.SET_STATUS, ticket_id, status=TicketStatus.CLOSED))
    assert (
        done.summary
        == "HTTP 200: status Waiting Customer; HTTP 200: note " + done.summary.split("note ")[1]
    )
    patches = [json.loads(r.body) for r in emu.requests if r.method == "PATCH"]
    assert [p[0]["value"] for p in patches] == [3, 2, 6]
    assert all(p[0]["op"] == "replace" and p[0]["path"] == "/StatusId" for p in patches)
    lookups = [r for r in emu.requests if r.path == "/v2/system/statuses/lookup"]
    assert len(lookups) == 1
    assert emu.ticket("a")["statusName"] == "Closed" and emu.ticket("a")["completedDate"]


async def test_set_status_without_a_configured_status_is_refused_before_sending() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, status_ids={}) as bms:
            with pytest.raises(UnsupportedAction, match=r"status_ids\.resolved"):
                await bms.perform(
                    Action(
                        ActionKind.SET_STATUS, str(emu.ticket_id("a")), status=TicketStatus.RESOLVED
                    )
                )
            with pytest.raises(UnsupportedAction, match="numeric id"):
                bms.plan(Action(ActionKind.COMMENT, "T20260304.0001", text="x"))
    assert not [r for r in emu.requests if r.method != "GET" and "/security/" not in r.path]


async def test_resolve_sends_its_comment_and_the_ticket_completes() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        ticket_id = str(emu.ticket_id("a"))
        async with connector_for(emu) as bms:
            first = await bms.poll(None)
            result = await bms.perform(
                Action(ActionKind.RESOLVE, ticket_id, text="Replaced the toner")
            )
            second = await bms.poll(first.cursor)
    assert result.summary == "HTTP 200: resolved, status Resolved"
    (post,) = [json.loads(r.body) for r in emu.requests if r.path.endswith("/resolve")]
    assert post == {"Comment": "Replaced the toner", "IsInternal": True, "StatusId": 5}
    (ticket,) = second.tickets
    assert ticket.status is TicketStatus.RESOLVED and ticket.resolved_at is not None


async def test_a_refused_write_names_bmss_reason() -> None:
    with KaseyaBmsEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, status_ids={"closed": "99"}) as bms:
            with pytest.raises(ConnectorError, match="Status 99 does not exist") as info:
                await bms.perform(
                    Action(
                        ActionKind.SET_STATUS, str(emu.ticket_id("a")), status=TicketStatus.CLOSED
                    )
                )
    assert info.value.http_status == 400


def test_plan_action_needs_no_client_and_shows_no_secret() -> None:
    config = VendorConfig(
        "psa",
        "kaseya-bms",
        "https://api.bmsemea.kaseya.com",
        settings={
            "username": "svc",
            "password": "s3cret-bms",
            "tenant": "Acme",
            "status_ids": {"resolved": "Resolved"},
        },
    )
    planned = KaseyaBmsConnector.plan_action(
        config, Action(ActionKind.SET_STATUS, "41007", status=TicketStatus.RESOLVED)
    )
    assert [(p.method, p.path) for p in planned] == [
        ("GET", "/v2/system/statuses/lookup"),
        ("PATCH", "/v2/servicedesk/tickets/41007"),
    ]
    text = "\n".join(p.describe() for p in planned)
    assert "s3cret-bms" not in text and "<id of 'Resolved'>" in text


@pytest.mark.parametrize(
    ("wanted", "priority_id", "name"), [(Priority.P1, 1, "Critical"), (Priority.P5, 5, "Very Low")]
)
async def test_set_priority_looks_up_the_tenants_priority_and_the_next_poll_reads_it(
    wanted: Priority, priority_id: int, name: str
) -> None:
    with KaseyaBmsEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        ticket_id = str(emu.ticket_id("a"))
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=wanted)
        planned, text = dry_run(KaseyaBmsConnector, config_for(emu), action)
        assert [(p.method, p.path) for p in planned] == [
            ("GET", "/v2/system/priorities/lookup"),
            ("PATCH", f"/v2/servicedesk/tickets/{ticket_id}"),
        ]
        assert f"first priority that reads as {wanted.value}" in text
        async with connector_for(emu) as bms:
            first = await bms.poll(None)
            before = by_key(first.tickets)[key]
            result = await bms.perform(action)
            second = await bms.poll(first.cursor)
    assert result.summary == f"HTTP 200: priority {name}"
    patches = [json.loads(r.body) for r in emu.requests if r.method == "PATCH"]
    assert patches == [[{"op": "replace", "path": "/PriorityId", "value": priority_id}]]
    assert before.priority is Priority.P3
    seen = by_key(second.tickets)[key]
    assert (seen.priority, seen.raw_priority) == (wanted, name)


async def test_set_priority_is_refused_when_no_tenant_priority_reads_as_it() -> None:
    with KaseyaBmsEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        ticket_id = str(emu.ticket_id("a"))
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=Priority.P5)
        async with connector_for(emu, priority_map={"Very Low": "P4"}) as bms:
            with pytest.raises(UnsupportedAction) as refused:
                await bms.perform(action)
            with pytest.raises(ConnectorError, match="Priority 42 does not exist") as info:
                await bms.request(
                    "PATCH",
                    "/v2/servicedesk/tickets/{id}",
                    f"/v2/servicedesk/tickets/{ticket_id}",
                    body=[{"op": "replace", "path": "/PriorityId", "value": 42}],
                )
    assert "no priority here reads as P5" in str(refused.value)
    assert "Very Low (P4)" in str(refused.value)
    assert info.value.http_status == 400
    assert emu.ticket("a")["priorityName"] == "High"


def test_datto_rmm_cannot_set_a_priority() -> None:
    """Its alert API reads, resolves and (formerly) mutes alerts: no priority change."""
    assert ActionKind.SET_PRIORITY not in load_connector("datto-rmm").supported_actions
    assert ActionKind.SET_PRIORITY in KaseyaBmsConnector.supported_actions


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"page_size": 101}, "page_size"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"ticket_url": "bms.example/{id}"}, "ticket_url"),
        ({"ticket_url": "https://bms.example/{ticket}"}, "ticket_url"),
        ({"status_ids": {"sleeping": "Zzz"}}, "status_ids"),
        ({"status_ids": "resolved=5"}, "status_ids"),
        ({"requests_per_hour": 0}, "requests_per_hour"),
        ({"note_type_id": -1}, "note_type_id"),
        ({"api_key": "x"}, "api_key"),
    ],
)
def test_settings_errors_name_the_key(bad: dict[str, Any], key: str) -> None:
    config = VendorConfig(
        "psa",
        "kaseya-bms",
        "https://api.bms.kaseya.com",
        settings={"username": "u", "password": "pw-secret", "tenant": "t", **bad},
    )
    with pytest.raises(ConfigurationError, match=key) as info:
        KaseyaBmsConnector.validate(config)
    assert "pw-secret" not in str(info.value)


def test_settings_need_username_password_and_tenant() -> None:
    config = VendorConfig(
        "psa", "kaseya-bms", "https://x", settings={"username": "u", "password": "p"}
    )
    with pytest.raises(ConfigurationError, match=r"needs username\+password\+tenant"):
        KaseyaBmsConnector.validate(config)


async def test_the_entry_point_and_a_base_url_with_the_v2_suffix() -> None:
    assert load_connector("kaseya-bms") is KaseyaBmsConnector
    with KaseyaBmsEmulator() as emu:
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig("psa", "kaseya-bms", f"{emu.base_url}/v2/", settings=values)
        async with KaseyaBmsConnector.make_client(config) as client:
            assert (
                await KaseyaBmsConnector(config, client).check()
            ) == "ok, signed in as paneglass Service"

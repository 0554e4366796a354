"""The Datto RMM connector against the Datto RMM emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors import load_connector
from connectors.actions import Action, ActionKind, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.datto_rmm import (
    OPEN_PATH,
    PUBLIC_HOST,
    RESOLVED_PATH,
    DattoRmmEmulator,
)
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    RateLimited,
    TransientError,
)
from connectors.kaseya.datto_rmm import DattoRmmConnector
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
CAPTURE = Path(__file__).parent / "captures" / "kaseya-datto-rmm-alert.json"
QUIET = {"calibrate": False}
"""Settings for tests that count list requests: no request_rate read at each poll's start."""


def world(ref: str, **fields: Any) -> WorldTicket:
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


def config_for(emu: DattoRmmEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig("rmm", kind, emu.base_url, settings={**values, **settings})


@asynccontextmanager
async def connector_for(emu: DattoRmmEmulator, **settings: Any) -> AsyncIterator[DattoRmmConnector]:
    config = config_for(emu, **settings)
    DattoRmmConnector.validate(config)
    async with DattoRmmConnector.make_client(config) as client:
        yield DattoRmmConnector(config, client)


async def drain(
    rmm: DattoRmmConnector, cursor: Cursor | None = None, *, stop_after: int | None = None
) -> list[PollResult]:
    pages = []
    async for page in rmm.pages(cursor):
        pages.append(page)
        if stop_after is not None and len(pages) >= stop_after:
            break
    return pages


def by_uid(tickets: tuple[TicketRecord, ...] | list[TicketRecord]) -> dict[str, TicketRecord]:
    ids = [t.external_id for t in tickets]
    assert len(ids) == len(set(ids)), f"an alert twice in one poll: {ids}"
    return {t.external_id: t for t in tickets}


def list_requests(emu: DattoRmmEmulator, path: str = OPEN_PATH) -> list[Any]:
    return [r for r in emu.requests if r.path == path]


def emitted(pages: list[PollResult]) -> list[str]:
    return [t.external_id for p in pages for t in p.tickets]


# -- the capture and the emulator's shape ---------------------------------------------------


def test_emulator_alerts_carry_the_captures_keys() -> None:
    captured = set(json.loads(CAPTURE.read_text()))
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("r", status=TicketStatus.RESOLVED, description="exit 2"))
        assert set(emu.alert("a")) == captured
        assert set(emu.alert("r")) == captured | {"diagnostics", "resolvedBy", "resolvedOn"}
        for key in ("alertContext", "alertSourceInfo", "alertMonitorInfo"):
            assert set(emu.alert("a")[key]) == set(json.loads(CAPTURE.read_text())[key])


def test_emulator_speaks_datto_rmms_wire_format() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(minutes=i)))
        emu.put_ticket(world("r", status=TicketStatus.RESOLVED))
        with httpx2.Client(base_url=emu.base_url) as client:
            refused = client.post(
                "/auth/oauth/token",
                data={"grant_type": "password", "username": emu.api_key, "password": "nope"},
                auth=("public-client", "public"),
            )
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
            token = client.post(
                "/auth/oauth/token",
                data={
                    "grant_type": "password",
                    "username": emu.api_key,
                    "password": emu.api_secret,
                },
                auth=("public-client", "public"),
            ).json()
            assert {"access_token", "refresh_token", "expires_in"} <= set(token)
            anonymous = client.get(OPEN_PATH)
            assert anonymous.status_code == 401
            assert set(anonymous.json()) == {"timestamp", "status", "error", "path"}
            assert anonymous.json()["path"] == "/v2/account/alerts/open"
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            first = client.get(OPEN_PATH, params={"max": 2}, headers=headers).json()
            assert set(first) == {"pageDetails", "alerts"}
            assert first["pageDetails"] == {
                "count": 2,
                "prevPageUrl": None,
                "nextPageUrl": f"{PUBLIC_HOST}/api/v2/account/alerts/open?max=2&page=1",
            }  # no totalCount for open alerts
            oldest = [a["timestamp"] for a in first["alerts"]]
            assert oldest == sorted(oldest)
            capped = client.get(OPEN_PATH, params={"max": 1000}, headers=headers).json()
            assert (
                capped["pageDetails"]["count"] == 5 and capped["pageDetails"]["nextPageUrl"] is None
            )
            resolved = client.get(RESOLVED_PATH, headers=headers).json()
            assert resolved["pageDetails"]["totalCount"] == 1
            assert client.get("/api/v2/system/pagination", headers=headers).json() == {"max": 250}
            rate = client.get("/api/v2/system/request_rate", headers=headers).json()
            assert rate["accountRateLimit"] == 600 and rate["accountCount"] == 5
            missing = client.get("/api/v2/alert/nope", headers=headers)
            assert missing.status_code == 404 and missing.json()["error"] == "Not Found"


def test_the_emulator_holds_a_large_account_and_pages_it_in_constant_time() -> None:
    made = NOW - timedelta(days=20)
    with DattoRmmEmulator(read_limit=None) as emu:
        emu.put_tickets(
            world(
                f"big{n}",
                status=TicketStatus.RESOLVED if n % 4 == 0 else TicketStatus.OPEN,
                created_at=made + timedelta(seconds=n),
                updated_at=made + timedelta(seconds=n, minutes=5),
            )
            for n in range(100_000)
        )
        emu.put_ticket(world("one-more"))
        with httpx2.Client(base_url=emu.base_url) as client:
            token = client.post(
                "/auth/oauth/token",
                data={
                    "grant_type": "password",
                    "username": emu.api_key,
                    "password": emu.api_secret,
                },
                auth=("public-client", "public"),
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            started = time.perf_counter()
            deep = client.get(OPEN_PATH, params={"page": 250, "max": 250}, headers=headers)
            first = client.get(RESOLVED_PATH, params={"page": 0, "max": 250}, headers=headers)
            elapsed = time.perf_counter() - started
    assert deep.json()["pageDetails"]["count"] == 250
    assert first.json()["pageDetails"]["totalCount"] == 25_000
    assert elapsed < 1.0, f"two pages of a 100,000-alert account took {elapsed:.2f} s"


# -- backfill and polls -----------------------------------------------------------------------


async def test_backfill_pages_open_then_recent_resolved_to_the_end() -> None:
    with DattoRmmEmulator() as emu:
        opened = [
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(days=i))) for i in range(7)
        ]
        ancient = NOW - timedelta(days=400)
        emu.put_ticket(world("old-open", created_at=ancient, updated_at=ancient))
        emu.put_ticket(
            world(
                "old-resolved",
                status=TicketStatus.RESOLVED,
                created_at=ancient,
                updated_at=ancient,
                resolved_at=ancient,
            )
        )
        emu.put_ticket(world("recent-resolved", status=TicketStatus.RESOLVED))
        async with connector_for(emu, page_size=3, backfill_days=30, **QUIET) as rmm:
            pages = await drain(rmm)
    backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
    keys = {t.key for p in backfill for t in p.tickets}
    assert (
        set(opened) | {emu.alert_uid("old-open")[:8], emu.alert_uid("recent-resolved")[:8]} == keys
    )
    assert emu.alert_uid("old-resolved")[:8] not in keys
    assert [r.param("page") for r in list_requests(emu)][:3] == ["0", "1", "2"]
    assert all(r.param("max") == "3" for r in list_requests(emu))
    assert backfill[-1].progress is not None and backfill[-1].progress.done == 9


async def test_a_poll_emits_only_new_and_changed_alerts() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(6):
            emu.put_ticket(world(f"a{i}"))
        async with connector_for(emu, page_size=4, **QUIET) as rmm:
            first = await rmm.poll(None)
            assert len(first.tickets) == 6
            quiet = await rmm.poll(first.cursor)
            assert quiet.tickets == ()  # the store's upserts were done: nothing re-sent
            emu.put_ticket(world("a2", priority=Priority.P1))
            emu.put_ticket(world("new"))
            changed = await rmm.poll(quiet.cursor)
    assert {t.external_id: t.priority for t in changed.tickets} == {
        emu.alert_uid("a2"): Priority.P1,
        emu.alert_uid("new"): Priority.P3,
    }


async def test_an_alert_gone_from_the_open_list_is_confirmed_resolved_or_removed() -> None:
    with DattoRmmEmulator() as emu:
        for ref in ("keep", "fixed", "deleted"):
            emu.put_ticket(world(ref))
        async with connector_for(emu, **QUIET) as rmm:
            first = await rmm.poll(None)
            emu.resolve("fixed", by="k.lee", at=NOW)
            gone = emu.alert_uid("deleted")
            emu.delete("deleted")
            second = await rmm.poll(first.cursor)
    (record,) = second.tickets
    assert record.external_id == emu.alert_uid("fixed")
    assert (record.status, record.assignee, record.resolved_at) == (
        TicketStatus.RESOLVED,
        "k.lee",
        NOW,
    )
    assert second.removed == (gone,)
    confirmed = [r.path for r in emu.requests if r.path.startswith("/api/v2/alert/")]
    assert sorted(confirmed) == sorted(
        [f"/api/v2/alert/{emu.alert_uid('fixed')}", f"/api/v2/alert/{gone}"]
    )


async def test_a_new_process_sweeps_the_resolved_list_from_the_saved_cursor() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        async with connector_for(emu, **QUIET) as rmm:
            first = await rmm.poll(None)
        emu.resolve("b", at=datetime.now(UTC))  # while paneglass was not running
        async with connector_for(emu, **QUIET) as rmm:  # a restart: nothing in memory
            second = await rmm.poll(first.cursor)
    states = {t.external_id: t.status for t in second.tickets}
    assert states[emu.alert_uid("b")] is TicketStatus.RESOLVED  # from the sweep
    assert states[emu.alert_uid("a")] is TicketStatus.OPEN  # a new process re-sends once


async def test_the_sweep_runs_only_when_due() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, resolved_sweep_minutes=60, **QUIET) as rmm:
            first = await rmm.poll(None)
            sweeps = len(list_requests(emu, RESOLVED_PATH))
            await rmm.poll(first.cursor)
            assert len(list_requests(emu, RESOLVED_PATH)) == sweeps  # not due yet
        async with connector_for(emu, resolved_sweep_minutes=0, **QUIET) as rmm:
            result = await rmm.poll(first.cursor)
            await rmm.poll(result.cursor)
        assert len(list_requests(emu, RESOLVED_PATH)) == sweeps + 2


async def test_newest_first_stops_the_sweep_at_the_window() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(9):
            at = NOW - timedelta(days=10 * i + 1)
            emu.put_ticket(
                world(f"r{i}", status=TicketStatus.RESOLVED, created_at=at, resolved_at=at)
            )
        async with connector_for(
            emu, page_size=2, backfill_days=15, resolved_newest_first=True, **QUIET
        ) as rmm:
            pages = await drain(rmm)
    kept = {t.external_id for p in pages for t in p.tickets}
    assert kept == {emu.alert_uid("r0"), emu.alert_uid("r1")}
    # The backfill stops after the first page wholly older than its window (page 1); the
    # sweep after it stops at page 0 (all resolved before the backfill began).
    assert [r.param("page") for r in list_requests(emu, RESOLVED_PATH)] == ["0", "1", "0"]


async def test_a_stopped_backfill_resumes_after_its_last_page() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(7):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=i)))
        async with connector_for(emu, page_size=3, **QUIET) as rmm:
            (page,) = await drain(rmm, stop_after=1)
        assert len(page.tickets) == 3
        async with connector_for(emu, page_size=3, **QUIET) as rmm:
            rest = await drain(rmm, page.cursor)
    backfill = [t for p in rest if p.progress and p.progress.phase == "backfill" for t in p.tickets]
    assert len(backfill) == 4  # pages 1 and 2 only
    assert not {t.external_id for t in backfill} & {t.external_id for t in page.tickets}


async def test_a_stopped_poll_resumes_its_open_read_and_loses_nothing() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(7):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=i)))
        async with connector_for(emu, page_size=3, **QUIET) as rmm:
            idle = (await rmm.poll(None)).cursor
        for i in range(7):
            emu.put_ticket(
                world(f"a{i}", created_at=NOW - timedelta(hours=i), priority=Priority.P1)
            )
        async with connector_for(emu, page_size=3, **QUIET) as rmm:  # a new process
            (first,) = await drain(rmm, idle, stop_after=1)
        async with connector_for(emu, page_size=3, **QUIET) as rmm:
            rest = await drain(rmm, first.cursor)
    changed = [*first.tickets, *(t for p in rest for t in p.tickets)]
    assert {t.priority for t in changed} == {Priority.P1}
    assert len(by_uid([t for t in changed if t.status is TicketStatus.OPEN])) == 7


async def test_next_page_url_is_followed_by_its_query_on_our_own_host() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(3):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=i)))
        page = {
            "pageDetails": {
                "count": 1,
                "prevPageUrl": None,
                "nextPageUrl": "https://evil.example/steal?page=2&max=1",
            },
            "alerts": [emu.alert("a0")],
        }
        emu.inject_on(OPEN_PATH, Reply(200, page))
        async with connector_for(emu, **QUIET) as rmm:
            pages = await drain(rmm, stop_after=2)
    sent = list_requests(emu)
    assert [(r.param("page"), r.param("max")) for r in sent] == [("0", "250"), ("2", "1")]
    assert all(r.headers.get("host", "").startswith("127.0.0.1") for r in sent)
    assert emitted(pages)[0] == emu.alert_uid("a0")


async def test_next_page_url_that_does_not_move_is_bad_payload() -> None:
    with DattoRmmEmulator() as emu:
        stuck = {"pageDetails": {"count": 0, "nextPageUrl": f"{PUBLIC_HOST}{OPEN_PATH}?page=0"}}
        emu.inject_on(OPEN_PATH, Reply(200, {**stuck, "alerts": []}))
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(BadPayload, match="does not move past page 0"):
                await rmm.poll(None)


# -- the token -----------------------------------------------------------------------------------


async def test_one_token_serves_a_whole_poll_and_the_secret_never_shows() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(9):
            emu.put_ticket(world(f"a{i}"))
        async with connector_for(emu, page_size=2) as rmm:
            await rmm.poll(None)
            assert "s3cr3t" not in repr(rmm.client.auth) + repr(rmm.settings)
    assert emu.token_requests == 1
    (token_request,) = [r for r in emu.requests if r.path == "/auth/oauth/token"]
    assert token_request.headers["authorization"] == "Basic cHVibGljLWNsaWVudDpwdWJsaWM="
    assert b"grant_type=password" in token_request.body


async def test_the_token_is_renewed_before_it_lapses() -> None:
    with DattoRmmEmulator(token_ttl=2.0) as emu:  # expires_in: 1 s
        async with connector_for(emu) as rmm:
            await rmm.check()
            await rmm.check()
            assert emu.token_requests == 1
            await asyncio.sleep(0.6)  # past half its life (the margin for so short a token)
            await rmm.check()
    assert emu.token_requests == 2


async def test_a_401_renews_the_token_once_and_the_request_goes_again() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, **QUIET) as rmm:
            first = await rmm.poll(None)
            emu.expire_tokens()  # the 100 hours are over (or the token was revoked)
            emu.put_ticket(world("a", priority=Priority.P1))
            second = await rmm.poll(first.cursor)
    assert [t.priority for t in second.tickets] == [Priority.P1]
    assert emu.token_requests == 2


async def test_wrong_secret_is_an_auth_error_that_names_no_secret() -> None:
    with DattoRmmEmulator() as emu:
        async with connector_for(emu, api_secret="hunter2-wrong") as rmm:
            with pytest.raises(AuthError) as info:
                await rmm.check()
    assert info.value.http_status == 400
    assert "invalid_grant" in str(info.value) and "hunter2" not in str(info.value)


async def test_a_token_refused_again_after_renewal_is_an_auth_error() -> None:
    with DattoRmmEmulator() as emu:
        emu.inject_on("/api/v2/account", Reply(401, {"status": 401, "error": "Unauthorized"}))
        emu.inject_on("/api/v2/account", Reply(401, {"status": 401, "error": "Unauthorized"}))
        async with connector_for(emu) as rmm:
            with pytest.raises(AuthError, match="Unauthorized"):
                await rmm.check()
    assert emu.token_requests == 2


# -- faults ------------------------------------------------------------------------------------


async def test_a_500_mid_read_keeps_the_pages_before_it_and_a_retry_resumes() -> None:
    with DattoRmmEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"a{i}", created_at=NOW - timedelta(hours=i)))
        async with connector_for(emu, page_size=2, **QUIET) as rmm:
            pages: list[PollResult] = []
            with pytest.raises(TransientError, match="HTTP 500"):
                async for page in rmm.pages(None):
                    pages.append(page)
                    if len(pages) == 1:
                        emu.inject_on(
                            OPEN_PATH, Reply(500, {"status": 500, "error": "Internal Server Error"})
                        )
            assert len(pages) == 1
            rest = await drain(rmm, pages[0].cursor)
    assert len(by_uid([*pages[0].tickets, *(t for p in rest for t in p.tickets)])) == 5


async def test_429_with_retry_after_is_rate_limited_with_that_wait() -> None:
    with DattoRmmEmulator() as emu:
        limited = Reply(429, {"status": 429, "error": "Too Many Requests"}, {"Retry-After": "17"})
        emu.inject_on(OPEN_PATH, limited)
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(RateLimited) as info:
                await rmm.poll(None)
    assert info.value.retry_after == 17.0


async def test_429_without_retry_after_is_rate_limited_without_a_wait() -> None:
    with DattoRmmEmulator() as emu:
        emu.inject_on(OPEN_PATH, Reply(429, {"status": 429, "error": "Too Many Requests"}))
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(RateLimited) as info:
                await rmm.poll(None)
    assert info.value.retry_after is None


async def test_a_short_429_in_the_closure_fan_out_is_waited_out() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, **QUIET) as rmm:
            first = await rmm.poll(None)
            emu.resolve("a")
            path = f"/api/v2/alert/{emu.alert_uid('a')}"
            emu.inject_on(path, Reply(429, {"status": 429}, {"Retry-After": "0"}))
            second = await rmm.poll(first.cursor)
    assert [t.status for t in second.tickets] == [TicketStatus.RESOLVED]


async def test_the_emulator_limits_reads_and_the_connector_paces_below_it() -> None:
    with DattoRmmEmulator(read_limit=10, slow_delay=0.0) as emu:
        emu.spend_reads(9)  # another integration spent nine of ten this minute
        async with connector_for(emu, reads_per_minute=10) as rmm:
            with pytest.raises(RateLimited) as info:
                await rmm.poll(None)
    # Calibrated from request_rate: nine of the nine allowed (90 %) are gone, so the
    # connector stops itself instead of drawing Datto's 429.
    assert info.value.http_status is None and 50 < (info.value.retry_after or 0) <= 60
    assert not [r for r in emu.requests if r.path == OPEN_PATH]


async def test_over_the_limit_the_emulator_answers_429_with_retry_after() -> None:
    with DattoRmmEmulator(read_limit=3) as emu:
        emu.spend_reads(3)
        async with connector_for(emu, calibrate=False) as rmm:
            with pytest.raises(RateLimited) as info:
                await rmm.check()
    assert info.value.http_status == 429 and info.value.retry_after is not None


async def test_garbage_body_is_bad_payload() -> None:
    with DattoRmmEmulator() as emu:
        emu.inject_on(OPEN_PATH, Reply(200, raw=b"<html>maintenance</html>"))
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(BadPayload, match="not JSON"):
                await rmm.poll(None)
        emu.inject_on(OPEN_PATH, Reply(200, {"alerts": [{"priority": "High"}]}))
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(BadPayload, match="alertUid"):
                await rmm.poll(None)


async def test_a_hanging_answer_times_out_as_transient() -> None:
    with DattoRmmEmulator() as emu:
        emu.inject_on(OPEN_PATH, Reply(200, {"alerts": []}, delay=2.0))
        async with connector_for(emu, **QUIET) as rmm:
            rmm.deadline = 0.3
            with pytest.raises(TransientError, match=r"within 0\.3 s"):
                await rmm.poll(None)


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_text_never_survives_as_an_escape(hostile: str) -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("evil", title=hostile, description=hostile, asset=hostile[:90]))
        emu.patch_alert("evil", resolvedBy=hostile, ticketNumber=hostile)
        async with connector_for(emu, **QUIET) as rmm:
            (ticket,) = (await rmm.poll(None)).tickets
    for text in (ticket.title, ticket.description or "", ticket.asset or ""):
        assert not has_forbidden(text)


async def test_other_timestamp_encodings_over_the_wire() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("iso", status=TicketStatus.RESOLVED))
        emu.patch_alert("iso", resolvedOn="2026-08-25T07:26:00Z", timestamp=1787645215.44)
        emu.put_ticket(world("min", status=TicketStatus.RESOLVED))
        emu.patch_alert("min", resolvedOn=-62135596800000)
        async with connector_for(emu, backfill_days=36_500, **QUIET) as rmm:
            records = by_uid((await rmm.poll(None)).tickets)
    iso = records[emu.alert_uid("iso")]
    assert iso.created_at == datetime(2026, 8, 25, 8, 6, 55, 440000, tzinfo=UTC)
    assert iso.resolved_at == datetime(2026, 8, 25, 7, 26, tzinfo=UTC)
    minimum = records[emu.alert_uid("min")]
    assert minimum.resolved_at == minimum.created_at  # "no date": falls back


# -- write-back ----------------------------------------------------------------------------------


async def test_resolve_reaches_datto_and_the_next_poll() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, **QUIET) as rmm:
            first = await rmm.poll(None)
            uid = emu.alert_uid("a")
            result = await rmm.perform(Action(ActionKind.RESOLVE, uid, uid[:8], text="rebooted"))
            second = await rmm.poll(first.cursor)
    assert (result.http_status, result.summary) == (200, "HTTP 200: alert resolved")
    (post,) = [r for r in emu.requests if r.method == "POST" and r.path.endswith("/resolve")]
    assert post.body == b""  # Datto's resolve takes no body
    (record,) = second.tickets
    assert (record.status, record.assignee) == (TicketStatus.RESOLVED, emu.api_user)


async def test_set_status_resolves_and_refuses_the_rest() -> None:
    with DattoRmmEmulator() as emu:
        emu.put_ticket(world("a"))
        uid = emu.alert_uid("a")
        async with connector_for(emu, **QUIET) as rmm:
            await rmm.perform(Action(ActionKind.SET_STATUS, uid, status=TicketStatus.CLOSED))
            with pytest.raises(UnsupportedAction, match="not set to pending"):
                rmm.plan(Action(ActionKind.SET_STATUS, uid, status=TicketStatus.PENDING))
            with pytest.raises(UnsupportedAction, match="only resolve"):
                rmm.plan(Action(ActionKind.COMMENT, uid, text="hi"))
    assert emu.alert("a")["resolved"] is True


async def test_resolving_an_unknown_alert_names_datto_s_answer() -> None:
    with DattoRmmEmulator() as emu:
        async with connector_for(emu, **QUIET) as rmm:
            with pytest.raises(Exception, match="HTTP 404: Not Found"):
                await rmm.perform(Action(ActionKind.RESOLVE, "no-such-alert"))


def test_plan_action_needs_no_client_and_shows_no_secret() -> None:
    config = VendorConfig(
        "rmm",
        "datto-rmm",
        "https://merlot-api.centrastage.net",
        settings={"api_key": "KEY-12345", "api_secret": "s3cret-datto"},
    )
    (planned,) = DattoRmmConnector.plan_action(
        config, Action(ActionKind.RESOLVE, "e001f43c-1a2b/x", text="done")
    )
    assert (planned.method, planned.path, planned.body) == (
        "POST",
        "/api/v2/alert/e001f43c-1a2b%2Fx/resolve",
        None,
    )
    described = planned.describe()
    assert "KEY-12345" not in described and "s3cret-datto" not in described
    assert "audit log" in described


# -- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"page_size": 251}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"cutoff_ratio": 1.5}, "cutoff_ratio"),
        ({"reads_per_minute": 0}, "reads_per_minute"),
        ({"resolved_sweep_minutes": -1}, "resolved_sweep_minutes"),
        ({"alert_url": "merlot.centrastage.net/{alert_uid}"}, "alert_url"),
        ({"alert_url": "https://x/{ticket}"}, "alert_url"),
        ({"api_token": "x"}, "api_token"),
    ],
)
def test_settings_errors_name_the_key(bad: dict[str, Any], key: str) -> None:
    config = VendorConfig(
        "rmm",
        "datto-rmm",
        "https://merlot-api.centrastage.net",
        settings={"api_key": "k", "api_secret": "s", **bad},
    )
    with pytest.raises(ConfigurationError, match=key) as info:
        DattoRmmConnector.validate(config)
    assert "'s'" not in str(info.value)


def test_settings_need_key_and_secret() -> None:
    config = VendorConfig("rmm", "datto-rmm", "https://x", settings={"api_key": "k"})
    with pytest.raises(ConfigurationError, match=r"needs api_key\+api_secret"):
        DattoRmmConnector.validate(config)


async def test_the_entry_point_and_a_base_url_with_api_suffix() -> None:
    assert load_connector("datto-rmm") is DattoRmmConnector
    with DattoRmmEmulator() as emu:
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig("rmm", "datto-rmm", f"{emu.base_url}/api/v2/", settings=values)
        async with DattoRmmConnector.make_client(config) as client:
            assert (await DattoRmmConnector(config, client).check()).startswith("ok, account")


@pytest.mark.slow
async def test_a_large_account_streams_in_pages_and_a_quiet_poll_emits_only_changes() -> None:
    made = NOW - timedelta(days=3)
    with DattoRmmEmulator(read_limit=None) as emu:
        emu.put_tickets(
            world(f"big{n}", created_at=made + timedelta(seconds=n)) for n in range(10_000)
        )
        async with connector_for(emu, reads_per_minute=100_000, **QUIET) as rmm:
            first = await drain(rmm)
            assert max(len(p.tickets) for p in first) <= 250  # memory bounded by a page
            assert len({t.external_id for p in first for t in p.tickets}) == 10_000
            for n in (5, 500, 9_999):
                emu.put_ticket(
                    world(f"big{n}", created_at=made + timedelta(seconds=n), priority=Priority.P1)
                )
            emu.resolve("big7")
            second = await drain(rmm, first[-1].cursor)
            assert len(rmm._known) == 9_999 and not rmm._seen  # the map holds open alerts only
    changed = {t.external_id: t for p in second for t in p.tickets}
    assert set(changed) == {emu.alert_uid(f"big{n}") for n in (5, 500, 9_999, 7)}
    assert changed[emu.alert_uid("big7")].status is TicketStatus.RESOLVED

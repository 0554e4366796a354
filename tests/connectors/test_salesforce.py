"""The Salesforce connector against the Salesforce emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import load_connector
from connectors.base import VendorConfig
from connectors.emulators import emulator_for
from connectors.emulators.base import Reply, Request, WorldEntry, WorldTicket
from connectors.emulators.salesforce import SalesforceEmulator
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus, Visibility
from connectors.salesforce import SalesforceConnector
from connectors.salesforce import api as sf_api
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC).replace(microsecond=0)
QUERY = "/services/data/v66.0/query"
TOKEN = "/services/oauth2/token"


def world(ref: str, **fields: Any) -> WorldTicket:
    """A world ticket with sensible defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "ref": ref,
        "title": f"Case {ref}",
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "created_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=1),
        "requester": "Maria Jensen",
        "assignee": "Kim Lee",
        **fields,
    }
    return WorldTicket(**values)


def config_for(emu: SalesforceEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="partner", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(
    emu: SalesforceEmulator, **settings: Any
) -> AsyncIterator[SalesforceConnector]:
    config = config_for(emu, **settings)
    SalesforceConnector.validate(config)
    async with SalesforceConnector.make_client(config) as client:
        yield SalesforceConnector(config, client)


def queries(emu: SalesforceEmulator) -> list[str]:
    """The SOQL of every first query request, oldest first."""
    return [r.param("q") or "" for r in emu.requests if r.path == QUERY]


def by_key(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    keys = [t.key for t in tickets]
    assert len(keys) == len(set(keys)), f"duplicate tickets in one poll: {keys}"
    return {t.key: t for t in tickets}


async def all_pages(connector: SalesforceConnector, cursor: Any) -> list[PollResult]:
    return [page async for page in connector.pages(cursor)]


def test_entry_point_and_emulator_are_registered() -> None:
    assert load_connector("salesforce") is SalesforceConnector
    assert emulator_for("salesforce") is SalesforceEmulator


async def test_first_poll_backfills_open_and_recent_closed_cases_then_goes_incremental() -> None:
    old = NOW - timedelta(days=400)
    with SalesforceEmulator() as emu:
        ancient_open = emu.put_ticket(world("a", created_at=old, updated_at=old))
        emu.put_ticket(world("b", status=TicketStatus.CLOSED, created_at=old, updated_at=old))
        recent_closed = emu.put_ticket(world("c", status=TicketStatus.CLOSED))
        pending = emu.put_ticket(world("d", status=TicketStatus.PENDING, group="Tier 2"))
        async with connector_for(emu) as sf:
            pages = await all_pages(sf, None)

        tickets = by_key(tuple(t for p in pages for t in p.tickets))
        assert set(tickets) == {ancient_open, recent_closed, pending}
        assert tickets[recent_closed].status is TicketStatus.CLOSED
        assert tickets[pending].status is TicketStatus.PENDING  # "On Hold" by name
        assert tickets[ancient_open].status is TicketStatus.OPEN
        soql = queries(emu)
        assert soql[0].startswith("SELECT Id, CaseNumber, Subject")
        assert "FROM Case WHERE IsClosed = false ORDER BY Id" in soql[0]
        assert any(q.startswith("SELECT COUNT() FROM Case WHERE IsClosed = true") for q in soql)
        closed_walk = next(
            q for q in soql if q.startswith("SELECT Id") and "WHERE IsClosed = true AND" in q
        )
        assert closed_walk.endswith("ORDER BY SystemModstamp, Id")
        assert pages[0].progress is not None and pages[0].progress.total == 3
        assert pages[0].progress.phase == "backfill"
        cursor = pages[-1].cursor
        assert cursor is not None and cursor["backfill"] is None
        assert set(cursor["incremental"]) == {
            "cases",
            "milestones",
            "comments",
            "emails",
            "deleted",
        }
        case_queries = [r for r in emu.requests if r.path == QUERY and "FROM Case" in r.param("q")]
        assert all(
            r.headers.get("sforce-query-options") == "batchSize=2000"
            for r in case_queries
            if "COUNT()" not in (r.param("q") or "")
        )


async def test_records_carry_every_unified_field() -> None:
    with SalesforceEmulator() as emu:
        key = emu.put_ticket(
            world(
                "a",
                description="Toner <b>low</b>\n\nerror 49.4C02",
                asset="PRN-3F-EAST",
                due_at=NOW + timedelta(hours=3),
                breached=False,
                first_response_at=NOW - timedelta(hours=4, minutes=30),
            )
        )
        queued = emu.put_ticket(world("q", assignee=None, group="Printing Queue"))
        async with connector_for(emu) as sf:
            result = await sf.poll(None)
        tickets = by_key(result.tickets)
        ticket = tickets[key]
        case_id = emu.case_id("a")
        assert ticket.external_id == case_id and len(case_id) == 18
        assert ticket.title == "Case a" and ticket.raw_status == "Working"
        assert (ticket.priority, ticket.raw_priority) == (Priority.P3, "Medium")
        assert ticket.assignee == "Kim Lee" and ticket.group is None
        assert ticket.requester == "Maria Jensen"
        assert ticket.asset == "PRN-3F-EAST"
        assert ticket.description == "Toner <b>low</b>\n\nerror 49.4C02"  # plain text, kept
        assert ticket.created_at == NOW - timedelta(hours=5)
        assert ticket.updated_at == NOW - timedelta(hours=1)
        assert ticket.vendor_due_at == NOW + timedelta(hours=3)
        assert ticket.vendor_breached is False
        assert ticket.first_response_at == NOW - timedelta(hours=4, minutes=30)
        assert ticket.url == f"{emu.base_url}/lightning/r/Case/{case_id}/view"
        assert tickets[queued].group == "Printing Queue" and tickets[queued].assignee is None


async def test_token_is_requested_once_reused_and_renewed_after_invalid_session() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        for i in range(450):
            emu.put_ticket(world(f"t{i}"))
        async with connector_for(emu) as sf:
            first = await sf.poll(None)
            assert len(first.tickets) == 450
            assert emu.token_requests == 1
            token_calls = [r for r in emu.requests if r.path == TOKEN]
            assert len(token_calls) == 1
            assert token_calls[0].method == "POST"
            body = token_calls[0].body.decode()
            assert "grant_type=client_credentials" in body
            bearer = {r.headers.get("authorization") for r in emu.requests if r.path != TOKEN}
            assert len(bearer) == 1 and next(iter(bearer), "").startswith("Bearer 00D")

            emu.expire_tokens()
            emu.put_ticket(world("t1", title="after expiry"))
            before = len(emu.requests)
            second = await sf.poll(first.cursor)
        assert [t.title for t in second.tickets] == ["after expiry"]
        assert emu.token_requests == 2
        sent = emu.requests[before:]
        assert sent[0].path == QUERY and sent[1].path == TOKEN and sent[2].path == QUERY
        assert sent[2].param("q") == sent[0].param("q")  # the same request, sent again


async def test_wrong_secret_is_an_auth_error_that_never_shows_the_secret() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, client_secret="hunter2-wrong") as sf:
            with pytest.raises(AuthError) as caught:
                await sf.poll(None)
        message = str(caught.value)
        assert "token request refused" in message and "invalid_client" in message
        assert "hunter2" not in message and emu.client_secret not in message


async def test_a_401_after_renewal_is_an_auth_error_naming_the_code() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            await sf.check()
            emu.session_seconds = -1  # every token is refused, the renewed one too
            with pytest.raises(AuthError, match="INVALID_SESSION_ID: Session expired"):
                await sf.check()
        assert emu.token_requests == 2  # renewed once, not in a loop


async def test_batches_are_followed_to_done_whatever_their_size() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"t{i:04d}") for i in range(1001)])
        async with connector_for(emu, page_size=500) as sf:
            result = await sf.poll(None)
        assert len(result.tickets) == 1001
        more = [r for r in emu.requests if "/query/01g" in r.path]
        assert len(more) >= 5  # 200-record batches, though 500 were asked for
        assert all(r.headers.get("sforce-query-options") == "batchSize=500" for r in more)


async def test_only_the_path_of_next_records_url_is_followed_on_our_own_host() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"t{i:03d}") for i in range(300)])
        async with connector_for(emu) as sf:
            real = emu.route

            def hostile(request: Request) -> Reply:
                reply = real(request)
                if isinstance(reply.body, dict) and "nextRecordsUrl" in reply.body:
                    path = reply.body["nextRecordsUrl"]
                    reply.body["nextRecordsUrl"] = f"https://evil.example{path}"
                return reply

            emu.route = hostile  # type: ignore[method-assign]
            result = await sf.poll(None)
        assert len(result.tickets) == 300
        assert any("/query/01g" in r.path for r in emu.requests)  # followed here, not there


async def test_a_next_records_url_that_is_no_query_locator_is_refused() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            bad = Reply(
                200,
                {
                    "totalSize": 2,
                    "done": False,
                    "nextRecordsUrl": "/services/data/v66.0/sobjects/User/005x",
                    "records": [],
                },
            )
            # Twice: the open walk and the closed count go out together, in either order.
            emu.inject(bad, bad)
            with pytest.raises(BadPayload, match="not a query locator"):
                await sf.poll(None)


async def test_incremental_reads_changes_comments_emails_and_deletions() -> None:
    with SalesforceEmulator() as emu:
        for ref in ("a", "b", "c"):
            emu.put_ticket(world(ref))
        async with connector_for(emu) as sf:
            first = await sf.poll(None)
            assert len(first.tickets) == 3
            changed = emu.put_ticket(world("b", title="now escalated", priority=Priority.P1))
            now = datetime.now(UTC)
            emu.put_entry(
                "a", WorldEntry("n1", "Kim Lee", "checked the queue", now, visibility="internal")
            )
            emu.put_entry(
                "b",
                WorldEntry(
                    "m1",
                    "Maria Jensen",
                    "Still broken",
                    now,
                    html="<p>Still <b>broken</b></p><div>On Tue, Kim Lee wrote:<br>"
                    "&gt; try again</div>",
                ),
            )
            gone = emu.delete_ticket("c")
            # getDeleted covers whole minutes that have ended: let two of them pass.
            emu.clock = sf.clock = lambda: datetime.now(UTC) + timedelta(minutes=2)
            second = await sf.poll(first.cursor)
        assert [t.key for t in second.tickets] == [changed]
        assert second.tickets[0].priority is Priority.P1
        assert second.tickets[0].raw_priority == "Critical"
        entries = {e.body: e for e in second.entries}
        note = entries["checked the queue"]
        assert note.visibility is Visibility.INTERNAL and note.author == "Kim Lee"
        assert note.ticket_external_id == emu.case_id("a")
        mail = next(e for e in second.entries if e.raw_format == "html")
        assert mail.body == "Still **broken**" or mail.body.startswith("Still")
        assert "try again" not in mail.body  # the quoted reply is folded away
        assert mail.visibility is Visibility.PUBLIC and mail.author == "Maria Jensen"
        assert second.removed == (gone,)
        deleted = [r for r in emu.requests if r.path.endswith("/sobjects/Case/deleted/")]
        assert deleted and deleted[-1].param("start") and deleted[-1].param("end")


async def test_a_milestone_change_alone_brings_its_case_again() -> None:
    with SalesforceEmulator() as emu:
        key = emu.put_ticket(world("a", due_at=NOW + timedelta(hours=4)))
        async with connector_for(emu) as sf:
            first = await sf.poll(None)
            assert first.tickets[0].vendor_breached is False
            # The org's entitlement process marks the milestone violated; the case is untouched.
            table = emu.tables["CaseMilestone"]
            (milestone,) = table.children[emu.case_id("a")]
            stamp = emu._stamp(datetime.now(UTC) + timedelta(seconds=1))
            emu._update("CaseMilestone", milestone, {"IsViolated": True, "SystemModstamp": stamp})
            second = await sf.poll(first.cursor)
        assert [t.key for t in second.tickets] == [key]
        assert second.tickets[0].vendor_breached is True
        assert any("FROM CaseMilestone WHERE SystemModstamp >=" in q for q in queries(emu))


async def test_backfill_reads_each_cases_conversation() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("c1", "Kim Lee", "public reply", NOW - timedelta(hours=2)))
        emu.put_entry(
            "a",
            WorldEntry("c2", "Kim Lee", "note", NOW - timedelta(hours=2), visibility="internal"),
        )
        async with connector_for(emu) as sf:
            pages = await all_pages(sf, None)
        backfill_entries = [e for p in pages[:1] for e in p.entries]
        assert {(e.body, e.visibility) for e in backfill_entries} == {
            ("public reply", Visibility.PUBLIC),
            ("note", Visibility.INTERNAL),
        }
        soql = queries(emu)
        assert any("FROM CaseComment WHERE ParentId IN ('500" in q for q in soql)
        assert any("FROM EmailMessage WHERE ParentId IN ('500" in q for q in soql)
        assert any("FROM CaseMilestone WHERE CaseId IN ('500" in q for q in soql)


async def test_conversations_and_milestones_can_be_switched_off() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a", due_at=NOW + timedelta(hours=1)))
        emu.put_entry("a", WorldEntry("c1", "Kim Lee", "reply", NOW - timedelta(hours=2)))
        async with connector_for(emu, conversations=False, milestones=False) as sf:
            result = await sf.poll(None)
        assert result.entries == ()
        assert result.tickets[0].vendor_due_at is None
        soql = queries(emu)
        assert not any(
            "CaseMilestone" in q or "CaseComment" in q or "EmailMessage" in q for q in soql
        )


async def test_a_stopped_backfill_resumes_after_its_last_page_and_loses_nothing() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"o{i:03d}") for i in range(500)])
        emu.put_tickets([world(f"c{i:03d}", status=TicketStatus.CLOSED) for i in range(300)])
        async with connector_for(emu) as sf:
            seen: list[str] = []
            cursor = None
            async for page in sf.pages(None):  # the collector stops after two pages
                seen += [t.external_id for t in page.tickets]
                cursor = page.cursor
                if len(seen) >= 400:
                    break
            assert cursor is not None and cursor["backfill"]["position"]["walk"] == "open"
            resumed = await all_pages(sf, cursor)
        rest = [t.external_id for p in resumed for t in p.tickets]
        assert len(set(seen) | set(rest)) == 800
        assert not set(seen) & set(rest)  # the keyset resumes after the last committed row
        resumed_query = next(q for q in queries(emu)[::-1] if "IsClosed = false AND Id >" in q)
        assert resumed_query.endswith("ORDER BY Id")


async def test_a_stop_inside_the_closed_walk_resumes_on_its_stamp_and_id_keyset() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"c{i:03d}", status=TicketStatus.CLOSED) for i in range(500)])
        async with connector_for(emu) as sf:
            seen: list[str] = []
            cursor = None
            async for page in sf.pages(None):
                seen += [t.external_id for t in page.tickets]
                cursor = page.cursor
                if len(seen) >= 200:
                    break
            assert cursor is not None
            position = cursor["backfill"]["position"]
            assert position["walk"] == "closed" and position["at"] and position["after"]
            rest = [t.external_id for p in await all_pages(sf, cursor) for t in p.tickets]
        assert len(seen) + len(rest) == 500 and len(set(seen) | set(rest)) == 500
        keyset = next(q for q in queries(emu)[::-1] if "(SystemModstamp >" in q)
        assert "OR (SystemModstamp = " in keyset and "AND Id > '500" in keyset


async def test_an_expired_query_locator_is_run_again_from_the_keyset() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"t{i:03d}") for i in range(600)])
        async with connector_for(emu) as sf:
            real = emu.route
            expired = {"done": False}

            def expire_once(request: Request) -> Reply:
                if "/query/01g" in request.path and not expired["done"]:
                    expired["done"] = True
                    emu.expire_locators()
                return real(request)

            emu.route = expire_once  # type: ignore[method-assign]
            result = await sf.poll(None)
        assert len(result.tickets) == 600
        again = [q for q in queries(emu) if "IsClosed = false AND Id >" in q]
        assert len(again) == 1


async def test_a_500_fails_the_poll_and_keeps_every_page_before_it() -> None:
    with SalesforceEmulator(page_size=200) as emu:
        emu.put_tickets([world(f"t{i:03d}") for i in range(500)])
        async with connector_for(emu, milestones=False, conversations=False) as sf:
            await sf.check()
            kept: list[PollResult] = []
            real = emu.route
            calls = {"more": 0}

            def fail_second_locator(request: Request) -> Reply:
                if "/query/01g" in request.path:
                    calls["more"] += 1
                    if calls["more"] == 2:
                        return Reply(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}])
                return real(request)

            emu.route = fail_second_locator  # type: ignore[method-assign]
            with pytest.raises(TransientError, match="HTTP 500 UNKNOWN_EXCEPTION: boom"):
                async for page in sf.pages(None):
                    kept.append(page)
            emu.route = real  # type: ignore[method-assign]
            assert sum(len(p.tickets) for p in kept) == 400
            resumed = await sf.poll(kept[-1].cursor)
        assert (
            len(
                {t.external_id for p in kept for t in p.tickets}
                | {t.external_id for t in resumed.tickets}
            )
            == 500
        )


async def test_429_with_a_long_retry_after_is_rate_limited_and_a_short_one_waited_out() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(429, [{"errorCode": "X", "message": "slow"}], {"Retry-After": "600"}))
            with pytest.raises(RateLimited) as caught:
                await sf.poll(None)
            assert caught.value.retry_after == 600
            emu.inject(Reply(429, [], {"Retry-After": "0"}))
            result = await sf.poll(None)
        assert len(result.tickets) == 1


async def test_429_without_retry_after_is_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("connectors.fanout.random.uniform", lambda low, high: 0.0)
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(429, []))
            assert len((await sf.poll(None)).tickets) == 1  # one 429: tried again, nothing lost
            emu.inject(*[Reply(429, [])] * 10)  # more than both first requests retry
            with pytest.raises(RateLimited) as caught:
                await sf.poll(None)
        assert caught.value.retry_after is None


async def test_request_limit_exceeded_is_rate_limited_for_an_hour() -> None:
    with SalesforceEmulator(api_allocation=50) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            emu.api_used = 50
            sf.budget.used = None  # as if the last answer had not told us
            with pytest.raises(RateLimited) as caught:
                await sf.poll(None)
        assert "HTTP 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded." in str(caught.value)
        assert caught.value.retry_after == 3600


async def test_pacing_slows_near_the_allocation_and_stops_at_the_reserve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(sf_api.asyncio, "sleep", fake_sleep)
    with SalesforceEmulator(api_allocation=86_400) as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu, milestones=False, conversations=False) as sf:
            emu.api_used = 100
            await sf.check()
            assert sf.budget.used == 101 and slept == []
            emu.api_used = int(86_400 * 0.85)
            await sf.check()  # observes 85 %
            await sf.check()
            await sf.check()
            assert slept and all(s > 0 for s in slept)
            assert max(slept) <= 60
            sent = len(emu.requests)
            emu.api_used = int(86_400 * 0.96)
            await sf.check()  # observes 96 %: past the 5 % reserve
            with pytest.raises(RateLimited, match="leaves the last 5%"):
                await sf.check()
        assert len(emu.requests) == sent + 1  # the refused call never went out


async def test_garbage_body_is_bad_payload() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(200, raw=b"<html>Illegal Request</html>"))
            with pytest.raises(BadPayload, match="not JSON"):
                await sf.poll(None)


async def test_html_error_page_is_quoted_as_text() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(400, raw=b"<html><body><h1>Illegal Request</h1></body></html>"))
            with pytest.raises(ConnectorError, match="HTTP 400: Illegal Request") as caught:
                await sf.check()
        assert "<" not in str(caught.value)


async def test_a_hanging_answer_hits_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sf_api, "DEADLINE", 0.5)
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(hang=True))
            with pytest.raises(TransientError, match=r"no complete answer within 0\.5 s"):
                await sf.check()


async def test_invalid_field_is_a_configuration_error_with_a_hint() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(
                Reply(
                    400,
                    [
                        {
                            "message": "sObject type 'CaseMilestone' is not supported.",
                            "errorCode": "INVALID_TYPE",
                        }
                    ],
                )
            )
            with pytest.raises(ConfigurationError, match="milestones = false"):
                await sf.check()


async def test_hostile_text_arrives_clean() -> None:
    with SalesforceEmulator() as emu:
        for i, text in enumerate(HOSTILE_STRINGS):
            emu.put_ticket(world(f"h{i}", title=text, assignee=text[:60] or "x", description=text))
            emu.put_entry(f"h{i}", WorldEntry(f"c{i}", "Kim", text, NOW - timedelta(hours=1)))
            emu.put_entry(
                f"h{i}", WorldEntry(f"m{i}", "Kim", text, NOW - timedelta(hours=1), html=text)
            )
        async with connector_for(emu) as sf:
            result = await sf.poll(None)
        assert len(result.tickets) == len(HOSTILE_STRINGS)
        for ticket in result.tickets:
            for value in (ticket.title, ticket.assignee, ticket.description or ""):
                assert not has_forbidden(value or ""), repr(value)[:80]
        for entry in result.entries:
            assert not has_forbidden(entry.body) and not has_forbidden(entry.raw_body)
            assert not has_forbidden(entry.author or "")


async def test_check_reports_visible_cases_and_api_usage() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b", status=TicketStatus.CLOSED))
        async with connector_for(emu) as sf:
            summary = await sf.check()
        assert summary == "ok, 2 cases visible; API usage 1/100,000 in 24 h"
        assert queries(emu) == ["SELECT COUNT() FROM Case"]


def test_settings_are_typed_and_errors_name_the_key() -> None:
    def parse(**section: Any) -> Any:
        values = {"client_id": "id", "client_secret": "s3cret-value", **section}
        config = VendorConfig(
            "partner", "salesforce", "https://acme.my.salesforce.com", settings=values
        )
        SalesforceConnector.validate(config)
        return SalesforceConnector.options_of(config)

    options = parse(page_size="500", backfill_days=7, status_values={"Pending": "On Hold"})
    assert options.page_size == 500 and options.status_values["pending"] == "On Hold"
    assert options.status_values["open"] == "Working"  # the defaults stay
    for key, value, pattern in (
        ("page_size", 100, "page_size"),
        ("page_size", 5000, "page_size"),
        ("api_version", "v66", "api_version"),
        ("external_id_field", "bad field", "external_id_field"),
        ("status_values", {"sleeping": "Zzz"}, "status_values"),
        ("priority_values", {"P9": "Low"}, "priority_values"),
        ("pagesize", 5, "unknown setting 'pagesize'"),
        ("api_usage_reserve", 0.5, "api_usage_reserve"),
    ):
        with pytest.raises(ConfigurationError, match=pattern) as caught:
            parse(**{key: value})
        assert "s3cret-value" not in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"needs client_id\+client_secret"):
        SalesforceConnector.validate(
            VendorConfig(
                "p", "salesforce", "https://x.my.salesforce.com", settings={"client_id": "i"}
            )
        )


async def test_no_credential_in_reprs_or_errors() -> None:
    with SalesforceEmulator(client_secret="top-secret-value") as emu:
        config = config_for(emu)
        options = SalesforceConnector.options_of(config)
        assert "top-secret-value" not in repr(options)
        assert "top-secret-value" not in repr(config)
        async with SalesforceConnector.make_client(config) as client:
            assert "top-secret-value" not in repr(client.auth)
            sf = SalesforceConnector(config, client)
            await sf.check()
            token = next(iter(emu.tokens))
            emu.inject(Reply(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "oops"}]))
            with pytest.raises(TransientError) as caught:
                await sf.check()
        for text in (str(caught.value), repr(caught.value)):
            assert "top-secret-value" not in text and token not in text


async def test_a_status_map_that_makes_a_closed_status_active_widens_the_open_walk() -> None:
    old = NOW - timedelta(days=400)
    with SalesforceEmulator() as emu:
        parked = emu.put_ticket(
            world("a", status=TicketStatus.CLOSED, created_at=old, updated_at=old)
        )
        async with connector_for(emu, status_map={"Closed": "pending"}) as sf:
            result = await sf.poll(None)
        assert [(t.key, t.status) for t in result.tickets] == [(parked, TicketStatus.PENDING)]
        assert "WHERE (IsClosed = false OR Status IN ('closed')) ORDER BY Id" in queries(emu)[0]


async def test_a_purged_delete_log_is_logged_and_the_poll_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            first = await sf.poll(None)
            emu.purge_delete_log(datetime.now(UTC) + timedelta(minutes=1))
            emu.clock = sf.clock = lambda: datetime.now(UTC) + timedelta(minutes=3)
            with caplog.at_level("WARNING", logger="connectors.salesforce"):
                second = await sf.poll(first.cursor)
        assert second.removed == ()
        assert "purged its delete log" in caplog.text

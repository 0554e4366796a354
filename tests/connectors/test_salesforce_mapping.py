"""Salesforce mapping on the real captures, and the emulator's answers against their shape."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.salesforce import SalesforceEmulator, case_safe_id
from connectors.errors import AuthError, BadPayload, ConfigurationError
from connectors.records import Priority, TicketStatus, Visibility
from connectors.salesforce.api import ClientCredentials, raise_for_salesforce
from connectors.salesforce.mapping import (
    case_to_record,
    comment_to_entry,
    email_to_entry,
    milestones_by_case,
)
from connectors.salesforce.soql import datetime_literal, id_literal, string_literal
from tests.connectors.test_salesforce import connector_for, world
from tests.hostile import has_forbidden

CAPTURES = Path(__file__).parent / "captures"


def capture(name: str) -> Any:
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


def response(status: int, body: Any) -> httpx2.Response:
    return httpx2.Response(status, content=json.dumps(body).encode())


# -- the real captures ------------------------------------------------------------------------


def test_captured_milestone_gives_the_vendor_due_time_and_no_breach() -> None:
    rows = capture("salesforce-casemilestone-query.json")["records"]
    summary = milestones_by_case(rows, first_response="SLA de atendimento")
    sla = summary["500be00000K8ULaAAN"]
    assert sla.due_at == datetime(2026, 10, 8, 13, 59, tzinfo=UTC)
    assert sla.breached is False
    assert sla.first_response_at is None  # still open: not a response yet


def test_completed_and_violated_milestones_are_read_like_the_capture() -> None:
    (row,) = capture("salesforce-casemilestone-query.json")["records"]
    late = {**row, "IsViolated": True}
    done = {
        **row,
        "Id": "555be00000uWhhiAAC",
        "IsCompleted": True,
        "CompletionDate": "2026-10-02T09:00:00.000+0000",
    }
    sla = milestones_by_case([late, done], first_response="sla de ATENDIMENTO")[
        "500be00000K8ULaAAN"
    ]
    assert sla.breached is True
    assert sla.due_at == datetime(2026, 10, 8, 13, 59, tzinfo=UTC)  # the one still running
    assert sla.first_response_at == datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def test_captured_error_list_names_code_and_message() -> None:
    body = capture("salesforce-error-invalid-field.json")
    with pytest.raises(ConfigurationError) as caught:
        raise_for_salesforce(response(400, body))
    assert str(caught.value).startswith(
        "HTTP 400 INVALID_FIELD: No such column 'foo' on sobject of type Bar"
    )


def test_captured_token_answer_is_accepted() -> None:
    auth = ClientCredentials("https://x.my.salesforce.com/services/oauth2/token", "id", "secret")
    auth._accept(response(200, capture("salesforce-oauth-token.json")))
    assert auth._token == "<ACCESS_TOKEN>" and auth._expires_at is None


def test_token_answer_with_expires_in_is_renewed_before_it_runs_out() -> None:
    now = [1000.0]
    auth = ClientCredentials("https://x/services/oauth2/token", "id", "s", clock=lambda: now[0])
    auth._accept(response(200, {"access_token": "t", "expires_in": 3600}))
    assert auth._fresh()
    now[0] += 3600 - 10
    assert not auth._fresh()


def test_token_refusals_map_to_the_error_tree() -> None:
    auth = ClientCredentials("https://x/services/oauth2/token", "id", "client-secret-text")
    bad = {"error": "invalid_grant", "error_description": "authentication failure"}
    with pytest.raises(AuthError, match="invalid_grant: authentication failure") as caught:
        auth._accept(response(400, bad))
    assert "client-secret-text" not in str(caught.value)
    with pytest.raises(BadPayload, match="no access_token"):
        auth._accept(response(200, {"token_type": "Bearer"}))


async def test_captured_getdeleted_answer_becomes_removed_ids() -> None:
    body = capture("salesforce-getdeleted.json")
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(Reply(200, body))
            removed, covered = await sf._deleted(
                (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            )
    assert removed == ["a00D0000008pQRAIA2"]
    # latestDateCovered is the next start, unless it lies before this look's own start.
    assert covered > "2026"


def test_case_rows_map_with_queue_owner_and_closed_status() -> None:
    row = {
        "attributes": {"type": "Case", "url": "/services/data/v66.0/sobjects/Case/500x"},
        "Id": "500be00000K8ULaAAN",
        "CaseNumber": "00001027",
        "Subject": "Cannot print \x1b]52;c;ZXZpbA==\x07 49.4C02",
        "Description": None,
        "Status": "Closed",
        "Priority": "High",
        "IsClosed": True,
        "ClosedDate": "2026-10-02T10:00:00.000+0000",
        "CreatedDate": "2026-10-01T13:59:15.000+0000",
        "SystemModstamp": "2026-10-02T10:00:00.000+0000",
        "OwnerId": "00GbL000000AbCdUAK",
        "Owner": {"attributes": {"type": "Group", "url": "/x"}, "Name": "Tier 2"},
        "Contact": None,
        "SuppliedEmail": "user@customer.example",
        "Asset": None,
    }
    ticket = case_to_record(row, "https://acme.my.salesforce.com")
    assert ticket.status is TicketStatus.CLOSED and ticket.raw_status == "Closed"
    assert ticket.priority is Priority.P2
    assert (ticket.group, ticket.assignee) == ("Tier 2", None)
    assert ticket.requester == "user@customer.example"
    assert ticket.resolved_at == datetime(2026, 10, 2, 10, 0, tzinfo=UTC)
    assert not has_forbidden(ticket.title)
    assert ticket.url == "https://acme.my.salesforce.com/lightning/r/Case/500be00000K8ULaAAN/view"
    with pytest.raises(BadPayload, match="without Id"):
        case_to_record({**row, "Id": None}, "https://x")


def test_comment_and_email_rows_map_to_entries() -> None:
    comment = comment_to_entry(
        {
            "Id": "00abL000001XyZaQAK",
            "ParentId": "500be00000K8ULaAAN",
            "CommentBody": "Swapped the toner\r\n\r\n\r\n\r\nThanks",
            "IsPublished": False,
            "CreatedBy": {"attributes": {"type": "User"}, "Name": "Kim Lee"},
            "CreatedDate": "2026-10-01T14:00:00.000+0000",
        }
    )
    assert comment.visibility is Visibility.INTERNAL and comment.author == "Kim Lee"
    assert comment.body == "Swapped the toner\n\nThanks"
    mail = email_to_entry(
        {
            "Id": "02sbL000000AbCdQAK",
            "ParentId": "500be00000K8ULaAAN",
            "HtmlBody": "<p>Still failing</p><p>On Mon, Oct 1, 2026 Kim Lee wrote:</p>"
            "<blockquote>&gt; try again</blockquote>",
            "TextBody": "Still failing",
            "FromName": "Maria Jensen",
            "FromAddress": "maria@customer.example",
            "MessageDate": "2026-10-01T15:00:00.000+0000",
        }
    )
    assert mail.body == "Still failing" and mail.raw_format == "html"
    assert mail.visibility is Visibility.PUBLIC and mail.author == "Maria Jensen"


def test_soql_literals_cannot_be_widened_by_payload_text() -> None:
    assert string_literal("O'Brien \\ x") == "'O\\'Brien \\\\ x'"
    assert id_literal("500be00000K8ULaAAN") == "'500be00000K8ULaAAN'"
    for hostile in ("500' OR Id != '", "x", "500be00000K8ULaAAN'", None, 5):
        with pytest.raises(BadPayload):
            id_literal(hostile)
    when = datetime(2026, 3, 4, 10, 0, 1, 999, tzinfo=UTC)
    assert datetime_literal(when) == "2026-03-04T10:00:01Z"


# -- the emulator against the captures ----------------------------------------------------------


def test_case_safe_ids_match_salesforce_suffix_rule() -> None:
    assert case_safe_id("500be00000K8ULa") == "500be00000K8ULaAAN"  # the captured CaseId
    assert case_safe_id("555be00000uWhhh") == "555be00000uWhhhAAC"  # the captured milestone Id


async def test_emulator_milestones_carry_the_captured_keys() -> None:
    expected = capture("salesforce-casemilestone-query.json")["records"][0]
    now = datetime.now(UTC).replace(microsecond=0)
    with SalesforceEmulator() as emu:
        # As tests/connectors/test_emulators_match_captures.py puts them: no due time given,
        # the org's entitlement process sets the target.
        emu.put_ticket(world("a", priority=Priority.P2, created_at=now - timedelta(days=1)))
        async with connector_for(emu) as sf:
            await sf.check()
            soql = "SELECT FIELDS(ALL), MilestoneType.Name FROM CaseMilestone LIMIT 200"
            body = json.loads((await sf._get("/services/data/v66.0/query", {"q": soql})).content)
            refused = await sf.client.get(
                "/services/data/v66.0/query",
                params={"q": "SELECT FIELDS(ALL) FROM CaseMilestone"},
            )
    (record,) = body["records"]
    assert set(record) == set(expected)
    assert set(record["MilestoneType"]) == set(expected["MilestoneType"])
    for key, value in expected.items():
        if value is not None and key not in ("attributes", "MilestoneType"):
            number = (int, float)
            same = type(record[key]) is type(value) or (
                isinstance(value, number) and isinstance(record[key], number)
            )
            assert same, key
    assert record["ElapsedTimeInMins"] is None  # open: no elapsed time yet
    assert record["IsViolated"] is True  # 8 hours for High, a day ago
    assert record["TimeSinceTargetInMins"] != "00:00"
    assert record["TimeRemainingInMins"].count(":") == 1
    assert record["TargetDate"].endswith(".000+0000")
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "MALFORMED_QUERY"


async def test_emulator_error_and_deleted_answers_have_the_captured_shape() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as sf:
            await sf.check()
            bad = await sf.client.get(
                "/services/data/v66.0/query", params={"q": "SELECT Foo FROM Case"}
            )
            start = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
            end = datetime.now(UTC).isoformat(timespec="seconds")
            deleted = await sf.client.get(
                "/services/data/v66.0/sobjects/Case/deleted/", params={"start": start, "end": end}
            )
    error_keys = set(capture("salesforce-error-invalid-field.json")[0])
    assert bad.status_code == 400 and set(bad.json()[0]) == error_keys
    assert bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert set(deleted.json()) == set(capture("salesforce-getdeleted.json"))
    assert deleted.json()["latestDateCovered"].endswith(":00.000+0000")
    assert "api-usage=" in deleted.headers["sforce-limit-info"]


async def test_emulator_token_answer_has_the_captured_keys() -> None:
    with SalesforceEmulator() as emu:
        emu.start()
        async with httpx2.AsyncClient(base_url=emu.base_url) as client:
            answer = await client.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": emu.client_id,
                    "client_secret": emu.client_secret,
                },
            )
            refused = await client.post("/services/oauth2/token", data={"grant_type": "password"})
    assert set(capture("salesforce-oauth-token.json")) <= set(answer.json())
    assert answer.json()["token_type"] == "Bearer" and "refresh_token" not in answer.json()
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported_grant_type"


# -- scale ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_emulator_holds_100000_cases_without_per_page_scans() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    emu = SalesforceEmulator(entitlements=False)
    emu.put_tickets(
        WorldTicket(
            ref=f"t{i}",
            title=f"Case {i}",
            status=TicketStatus.CLOSED if i % 4 == 0 else TicketStatus.OPEN,
            priority=Priority.P3,
            created_at=now - timedelta(days=30),
            updated_at=now - timedelta(seconds=100_000 - i),
        )
        for i in range(100_000)
    )
    assert len(emu.tables["Case"].rows) == 100_000

    def ask(soql: str) -> dict[str, Any]:
        from connectors.emulators.base import Request

        token = "t"
        emu.tokens[token] = datetime.now(UTC)
        reply = emu.handle(
            Request(
                "GET",
                "/services/data/v66.0/query",
                {"q": [soql]},
                {"authorization": f"Bearer {token}", "sforce-query-options": "batchSize=2000"},
            )
        )
        assert reply.status == 200, reply.body
        body: dict[str, Any] = reply.body
        return body

    fields = "Id, CaseNumber, Subject, Status, SystemModstamp, Owner.Name"
    cutoff = (now - timedelta(seconds=500)).strftime("%Y-%m-%dT%H:%M:%SZ")
    walks = (
        f"SELECT {fields} FROM Case WHERE IsClosed = false ORDER BY Id",
        f"SELECT {fields} FROM Case WHERE IsClosed = false AND Id > '{emu.case_id('t90000')}' "
        "ORDER BY Id",
        f"SELECT {fields} FROM Case WHERE SystemModstamp >= {cutoff} ORDER BY SystemModstamp, Id",
        f"SELECT {fields} FROM Case WHERE IsClosed = true AND SystemModstamp >= {cutoff} "
        "ORDER BY SystemModstamp, Id",
    )
    for soql in walks:
        started = time.perf_counter()
        body = ask(soql)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5, f"{elapsed:.3f} s for {soql[:60]}"
        assert len(body["records"]) == min(body["totalSize"], 2000)
    assert ask(walks[0])["totalSize"] == 75_000
    assert ask(walks[2])["totalSize"] == 500

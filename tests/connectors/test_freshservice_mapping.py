"""Freshservice ticket → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import VendorConfig
from connectors.errors import BadPayload
from connectors.freshservice.mapping import (
    conversation_to_entry,
    first_response,
    format_timestamp,
    is_open_code,
    normalise_priority,
    normalise_status,
    ticket_to_record,
    ticket_url,
)
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus, Visibility
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "freshservice-tickets.json"
BASE = "https://acme.freshservice.com"


def capture_tickets() -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = json.loads(CAPTURE.read_text(encoding="utf-8"))["tickets"]
    return tickets


def minimal(**fields: Any) -> dict[str, Any]:
    return {
        "id": 40233,
        "subject": "Laptop cannot reach intranet over VPN",
        "status": 3,
        "priority": 3,
        "requester_id": 21000411872,
        "responder_id": 21000398811,
        "group_id": 21000150033,
        "fr_due_by": "2025-03-04T10:00:00Z",
        "due_by": "2025-03-05T09:00:00Z",
        "fr_escalated": False,
        "is_escalated": False,
        "created_at": "2025-03-04T08:00:04Z",
        "updated_at": "2025-03-04T09:03:58Z",
        **fields,
    }


def overrides(**settings: Any) -> Overrides:
    return Overrides.from_config(
        VendorConfig(name="fs", kind="freshservice", base_url=BASE, settings=settings)
    )


def test_capture_first_ticket_maps_field_by_field() -> None:
    raw = capture_tickets()[0]
    r = ticket_to_record(raw, base_url=BASE)
    assert r.external_id == "1"
    assert r.key == "#1"
    assert r.title == "What's wrong with my email?"
    assert r.status is TicketStatus.RESOLVED
    assert r.raw_status == "Resolved"
    assert r.priority is Priority.P3
    assert r.raw_priority == "Medium"
    assert r.created_at == datetime(2023, 1, 4, 14, 22, 43, tzinfo=UTC)
    assert r.updated_at == datetime(2023, 1, 4, 14, 22, 43, tzinfo=UTC)
    assert r.requester == "requester 21001397563"  # no include=requester in the capture
    assert r.assignee == "agent 21001397559"
    assert r.group is None
    assert r.asset is None
    assert r.resolved_at is None  # no include=stats in the capture
    assert r.first_response_at is None
    assert r.vendor_due_at is None  # "tickets[0]_due_by" is a placeholder, not a time
    assert r.vendor_breached is True
    assert r.url == "https://acme.freshservice.com/a/tickets/1"
    assert r.description == (
        "Hi Team, I have been unable to send any emails since this morning. "
        "What's going on? Regards, Andrea"
    )
    assert r.raw == raw


def test_capture_second_ticket_keeps_the_curly_apostrophe() -> None:
    raw = capture_tickets()[1]
    r = ticket_to_record(raw, base_url=BASE)
    assert r.key == "#2"
    assert r.title == "What\u2019s wrong with my email?"
    assert "\u2019" in r.raw["description_text"]
    assert r.status is TicketStatus.OPEN and r.raw_status == "Open"
    assert r.priority is Priority.P4 and r.raw_priority == "Low"
    assert r.assignee is None
    assert r.vendor_due_at is None
    assert r.vendor_breached is True
    assert r.raw["fr_escalated"] is True


def test_embeds_give_requester_name_and_stats_times() -> None:
    r = ticket_to_record(
        minimal(
            requester={"email": "maria@acme.example", "id": 21000411872, "name": "Maria Jensen"},
            stats={
                "first_responded_at": "2025-03-04T08:20:00Z",
                "resolved_at": "2025-03-04T09:00:00Z",
                "closed_at": None,
            },
        ),
        base_url=BASE + "/",
    )
    assert r.requester == "Maria Jensen"
    assert r.first_response_at == datetime(2025, 3, 4, 8, 20, tzinfo=UTC)
    assert r.resolved_at == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert r.vendor_due_at == datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert r.vendor_breached is False
    assert r.group == "group 21000150033"
    assert r.url == "https://acme.freshservice.com/a/tickets/40233"


def test_requester_embed_without_name_falls_back_to_email_then_id() -> None:
    with_email = minimal(requester={"email": "x@acme.example", "id": 5, "name": " "})
    assert ticket_to_record(with_email, base_url=BASE).requester == "x@acme.example"
    assert ticket_to_record(minimal(requester=None), base_url=BASE).requester == (
        "requester 21000411872"
    )


def test_closed_ticket_without_resolved_at_uses_closed_at() -> None:
    r = ticket_to_record(
        minimal(status=5, stats={"resolved_at": None, "closed_at": "2025-03-04T11:00:00Z"}),
        base_url=BASE,
    )
    assert r.status is TicketStatus.CLOSED
    assert r.resolved_at == datetime(2025, 3, 4, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "status", "raw"),
    [
        (2, TicketStatus.OPEN, "Open"),
        (3, TicketStatus.PENDING, "Pending"),
        (4, TicketStatus.RESOLVED, "Resolved"),
        (5, TicketStatus.CLOSED, "Closed"),
        (6, TicketStatus.OPEN, "6"),
        (21, TicketStatus.OPEN, "21"),
    ],
)
def test_status_codes(code: int, status: TicketStatus, raw: str) -> None:
    r = ticket_to_record(minimal(status=code), base_url=BASE)
    assert (r.status, r.raw_status) == (status, raw)


@pytest.mark.parametrize(
    ("code", "priority", "raw"),
    [
        (4, Priority.P1, "Urgent"),
        (3, Priority.P2, "High"),
        (2, Priority.P3, "Medium"),
        (1, Priority.P4, "Low"),
        (9, None, "9"),
        (None, None, None),
    ],
)
def test_priority_codes(code: int | None, priority: Priority | None, raw: str | None) -> None:
    r = ticket_to_record(minimal(priority=code), base_url=BASE)
    assert (r.priority, r.raw_priority) == (priority, raw)


def test_overrides_match_the_code_or_the_name() -> None:
    table = overrides(
        status_map={"6": "pending", "resolved": "closed"},
        priority_map={"Medium": "P2", "1": "P5"},
    )
    assert normalise_status(6, table) is TicketStatus.PENDING
    assert normalise_status(4, table) is TicketStatus.CLOSED
    assert normalise_status(2, table) is TicketStatus.OPEN
    assert normalise_status(7, table) is TicketStatus.OPEN
    assert normalise_priority(2, table) is Priority.P2
    assert normalise_priority(1, table) is Priority.P5
    assert normalise_priority(4, table) is Priority.P1
    r = ticket_to_record(minimal(status=6, priority=1), base_url=BASE, overrides=table)
    assert (r.status, r.raw_status, r.priority, r.raw_priority) == (
        TicketStatus.PENDING,
        "6",
        Priority.P5,
        "Low",
    )


@pytest.mark.parametrize("due", ["tickets[0]_due_by", "soon", "2025-03-05", 1741165200, ""])
def test_unparseable_due_by_is_unknown_not_fatal(due: Any) -> None:
    assert ticket_to_record(minimal(due_by=due), base_url=BASE).vendor_due_at is None


@pytest.mark.parametrize("breached", [None, "true", 1])
def test_non_boolean_is_escalated_is_unknown(breached: Any) -> None:
    assert ticket_to_record(minimal(is_escalated=breached), base_url=BASE).vendor_breached is None


@pytest.mark.parametrize(
    "bad",
    [
        {"updated_at": "tickets[0]_updated_at"},
        {"updated_at": None},
        {"created_at": "2025-03-04 08:00:04"},
        {"created_at": None},
        {"id": None},
        {"id": "40233"},
        {"id": True},
        {"status": "Open"},
        {"status": None},
        {"priority": "High"},
        {"stats": {"resolved_at": "yesterday"}},
    ],
)
def test_broken_tickets_are_bad_payload(bad: dict[str, Any]) -> None:
    with pytest.raises(BadPayload):
        ticket_to_record(minimal(**bad), base_url=BASE)


def test_non_object_is_bad_payload() -> None:
    with pytest.raises(BadPayload):
        ticket_to_record(["not", "a", "ticket"], base_url=BASE)


def test_missing_subject_gets_a_placeholder_title() -> None:
    assert ticket_to_record(minimal(subject="  "), base_url=BASE).title == "(no subject)"
    assert ticket_to_record(minimal(subject=None), base_url=BASE).title == "(no subject)"


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(hostile: str) -> None:
    r = ticket_to_record(
        minimal(subject=hostile, requester={"id": 1, "name": hostile}), base_url=BASE
    )
    assert not has_forbidden(r.title)
    assert r.requester is not None and not has_forbidden(r.requester)


def test_url_and_timestamp_helpers() -> None:
    assert (
        ticket_url("https://acme.freshservice.com/", 7)
        == "https://acme.freshservice.com/a/tickets/7"
    )
    stamp = datetime(2025, 3, 4, 10, 0, 4, 999_000, tzinfo=UTC)
    assert format_timestamp(stamp) == "2025-03-04T10:00:04Z"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2025, 3, 4))  # naive on purpose: it must be refused


def test_description_falls_back_to_the_html_made_plain() -> None:
    r = ticket_to_record(
        minimal(description="<div>Line one<br>Line <b>two</b> &amp; more</div>"), base_url=BASE
    )
    assert r.description is not None
    assert [line.strip() for line in r.description.split("\n")] == ["Line one", "Line two & more"]
    assert ticket_to_record(minimal(), base_url=BASE).description is None


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_description_is_cleaned(hostile: str) -> None:
    for fields in ({"description_text": hostile}, {"description": f"<p>{hostile}</p>"}):
        r = ticket_to_record(minimal(**fields), base_url=BASE)
        assert r.description is None or not has_forbidden(r.description)


def test_open_codes_are_open_pending_and_custom() -> None:
    assert [c for c in range(1, 9) if is_open_code(c)] == [2, 3, 6, 7, 8]
    assert not is_open_code(True) and not is_open_code("2")


def conversation(**fields: Any) -> dict[str, Any]:
    return {
        "id": 21001400001,
        "user_id": 21000411872,
        "to_emails": [],
        "from_email": None,
        "cc_emails": [],
        "bcc_emails": [],
        "body": "<div>Printer shows <b>49.4C02</b></div>",
        "body_text": "Printer shows 49.4C02",
        "ticket_id": 40233,
        "created_at": "2025-03-04T08:10:00Z",
        "updated_at": "2025-03-04T08:12:00Z",
        "incoming": False,
        "private": False,
        "source": 0,
        "support_email": None,
        "attachments": [],
        **fields,
    }


def entry(**fields: Any) -> Any:
    return conversation_to_entry(
        conversation(**fields), ticket_id="40233", base_url=BASE, names={21000411872: "Maria"}
    )


def test_conversation_maps_field_by_field() -> None:
    e = entry()
    assert (e.ticket_external_id, e.external_id) == ("40233", "21001400001")
    assert e.visibility is Visibility.PUBLIC
    assert e.body == "Printer shows 49.4C02"  # Freshservice's own plain text
    assert (e.raw_format, e.raw_body) == ("html", "<div>Printer shows <b>49.4C02</b></div>")
    assert e.author == "Maria"
    assert e.created_at == datetime(2025, 3, 4, 8, 10, tzinfo=UTC)
    assert e.updated_at == datetime(2025, 3, 4, 8, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "visibility"),
    [
        ({"private": True, "source": 2}, Visibility.INTERNAL),
        ({"private": False, "source": 2}, Visibility.PUBLIC),
        ({"private": False, "source": 0, "incoming": True}, Visibility.PUBLIC),
        ({"private": False, "source": 4}, Visibility.SYSTEM),
        ({"private": True, "source": 3}, Visibility.SYSTEM),
    ],
)
def test_conversation_visibility(fields: dict[str, Any], visibility: Visibility) -> None:
    assert entry(**fields).visibility is visibility


def test_conversation_without_plain_text_reads_the_html() -> None:
    e = entry(body_text="", body="<p>First</p><ul><li>one</li><li>two</li></ul>")
    assert e.body.split("\n") == ["First", "", "  * one", "  * two"]


def test_quoted_earlier_replies_are_folded_away_from_the_body() -> None:
    text = "Still broken.\n\nOn Tue, 4 Mar 2025 at 09:00, Kim Lee wrote:\n> Try a reboot"
    e = entry(body_text=text, incoming=True)
    assert e.body == "Still broken."
    assert "Try a reboot" in e.raw_body or "Try a reboot" in text


def test_authors_by_name_sender_or_id() -> None:
    assert entry(user_id=7).author == "user 7"
    assert entry(user_id=7, incoming=True, from_email="x@ex.example").author == "x@ex.example"


def test_attachments_are_metadata_with_urls_built_from_our_host() -> None:
    e = entry(
        attachments=[
            {
                "id": 5001,
                "name": "config.txt",
                "content_type": "text/plain",
                "size": 1024,
                "attachment_url": "https://evil.example/steal?x=1",
            },
            {"id": "not-an-id", "name": "skipped"},
        ]
    )
    (a,) = e.attachments
    assert (a.external_id, a.name, a.size, a.content_type) == (
        "5001",
        "config.txt",
        1024,
        "text/plain",
    )
    assert a.url == "https://acme.freshservice.com/api/v2/attachments/5001"


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_conversations_never_keep_an_escape(hostile: str) -> None:
    escaped = html.escape(hostile)
    numeric = "".join(f"&#{ord(c)};" if ord(c) < 32 or ord(c) == 127 else c for c in escaped)
    for fields in (
        {"body_text": hostile, "body": f"<p>{escaped}</p>"},
        {"body_text": "", "body": f"<p>{numeric}</p>"},
        {"body_text": "", "body": hostile},
    ):
        e = entry(
            **fields,
            user_id=9,
            incoming=True,
            from_email=f"{hostile}@x.example",
            attachments=[{"id": 1, "name": hostile, "content_type": hostile, "size": 1}],
        )
        texts = [e.body, e.raw_body, e.author or "", e.attachments[0].name]
        texts.append(e.attachments[0].content_type or "")
        assert not any(has_forbidden(t) for t in texts), fields


@pytest.mark.parametrize(
    "bad",
    [{"id": None}, {"id": "1"}, {"created_at": None}, {"created_at": "yesterday"}],
)
def test_broken_conversations_are_bad_payload(bad: dict[str, Any]) -> None:
    with pytest.raises(BadPayload):
        entry(**bad)


def test_first_response_is_the_first_public_reply_of_the_desk() -> None:
    raws = [
        conversation(id=1, incoming=True, created_at="2025-03-04T08:00:00Z"),
        conversation(id=2, private=True, source=2, created_at="2025-03-04T08:30:00Z"),
        conversation(id=3, created_at="2025-03-04T09:00:00Z"),
        conversation(id=4, created_at="2025-03-04T10:00:00Z"),
    ]
    entries = [conversation_to_entry(r, ticket_id="1", base_url=BASE) for r in raws]
    assert first_response(raws, entries) == datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert first_response(raws[:2], entries[:2]) is None

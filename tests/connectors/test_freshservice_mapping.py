"""Freshservice ticket → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import VendorConfig
from connectors.errors import BadPayload
from connectors.freshservice.mapping import (
    format_timestamp,
    normalise_priority,
    normalise_status,
    ticket_to_record,
    ticket_url,
)
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus
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

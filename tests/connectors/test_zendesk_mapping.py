"""Zendesk ticket → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus
from connectors.zendesk.mapping import index_by_id, sla_state, ticket_to_record
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "zendesk-ticket.json"
BASE = "https://acme.zendesk.com"
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def capture_ticket() -> dict[str, Any]:
    ticket: dict[str, Any] = json.loads(CAPTURE.read_text(encoding="utf-8"))["ticket"]
    return ticket


def minimal(**fields: Any) -> dict[str, Any]:
    return {
        "id": 88214,
        "subject": "Card terminal offline",
        "status": "open",
        "priority": "urgent",
        "created_at": "2025-03-04T08:31:02Z",
        "updated_at": "2025-03-04T09:04:47Z",
        **fields,
    }


def record(ticket: Any, users: Any = None, groups: Any = None) -> Any:
    return ticket_to_record(
        ticket,
        users=index_by_id(users or []),
        groups=index_by_id(groups or []),
        base_url=BASE,
        now=NOW,
    )


def test_capture_ticket_maps_field_by_field() -> None:
    raw = capture_ticket()
    users = [
        {"id": 4678475376118, "name": "Avery Agent", "role": "agent"},
        {"id": 1908275070358, "name": "Sam Submitter", "role": "end-user"},
    ]
    groups = [{"id": 4678483739819, "name": "Support"}]
    r = record(raw, users, groups)
    assert r.external_id == "10"
    assert r.key == "#10"
    assert r.title == "one more"
    assert r.status is TicketStatus.OPEN
    assert r.raw_status == "open"
    assert r.priority is Priority.P4
    assert r.raw_priority == "low"
    assert r.created_at == datetime(2022, 8, 8, 8, 14, 25, tzinfo=UTC)
    assert r.updated_at == datetime(2022, 8, 25, 20, 36, 36, tzinfo=UTC)
    assert r.assignee == "Avery Agent"
    assert r.requester == "Avery Agent"  # the capture's requester is also its assignee
    assert r.group == "Support"
    assert r.asset is None
    assert r.resolved_at is None
    assert r.first_response_at is None
    assert r.vendor_due_at is None
    assert r.vendor_breached is None
    assert r.url == "https://acme.zendesk.com/agent/tickets/10"  # not the capture's API url
    assert r.raw == raw


def test_capture_without_sideloads_falls_back_to_ids() -> None:
    r = record(capture_ticket())
    assert r.requester == "user 4678475376118"
    assert r.assignee == "user 4678475376118"
    assert r.group == "group 4678483739819"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("new", TicketStatus.NEW),
        ("open", TicketStatus.OPEN),
        ("pending", TicketStatus.PENDING),
        ("hold", TicketStatus.PENDING),
        ("solved", TicketStatus.RESOLVED),
        ("closed", TicketStatus.CLOSED),
        ("deleted", TicketStatus.CLOSED),
        ("archived_someday", TicketStatus.OPEN),
    ],
)
def test_status_mapping(raw: str, expected: TicketStatus) -> None:
    r = record(minimal(status=raw))
    assert (r.status, r.raw_status) == (expected, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("urgent", Priority.P1),
        ("high", Priority.P2),
        ("normal", Priority.P3),
        ("low", Priority.P4),
        (None, None),
        ("", None),
    ],
)
def test_priority_mapping(raw: str | None, expected: Priority | None) -> None:
    r = record(minimal(priority=raw))
    assert r.priority == expected
    assert r.raw_priority == (raw or None)


def test_unassigned_ticket_has_no_names() -> None:
    r = record(minimal(requester_id=None, assignee_id=None, group_id=None))
    assert (r.requester, r.assignee, r.group) == (None, None, None)


def test_missing_subject_and_updated_at_fall_back() -> None:
    r = record(minimal(subject=None, raw_subject="  ", updated_at=None))
    assert r.title == "(no subject)"
    assert r.updated_at == datetime(2025, 3, 4, 8, 31, 2, tzinfo=UTC)


def test_sla_state_takes_earliest_active_breach() -> None:
    slas = {
        "policy_metrics": [
            {"metric": "first_reply_time", "stage": "achieved", "breach_at": None},
            {"metric": "resolution_time", "stage": "active", "breach_at": "2025-03-04T12:00:00Z"},
            {"metric": "next_reply_time", "stage": "active", "breach_at": "2025-03-04T10:00:00Z"},
            {"metric": "periodic_update_time", "stage": "paused", "breach_at": None},
        ]
    }
    assert sla_state(slas, NOW) == (datetime(2025, 3, 4, 10, tzinfo=UTC), False)
    assert sla_state(slas, NOW + timedelta(hours=1, minutes=1)) == (
        datetime(2025, 3, 4, 10, tzinfo=UTC),
        True,
    )


def test_sla_state_is_defensive() -> None:
    assert sla_state(None, NOW) == (None, None)
    assert sla_state({}, NOW) == (None, None)
    assert sla_state({"policy_metrics": "nope"}, NOW) == (None, None)
    junk = {
        "policy_metrics": [
            "x",
            {"stage": "active"},
            {"stage": "active", "breach_at": "tomorrow"},
            {"stage": "achieved", "breach_at": "2025-03-01T00:00:00Z"},
            {"stage": "active", "breach_at": "2025-03-04T08:00:00Z", "hours": -1},
        ]
    }
    assert sla_state(junk, NOW) == (datetime(2025, 3, 4, 8, tzinfo=UTC), True)


def test_sla_reaches_the_record() -> None:
    slas = {"policy_metrics": [{"stage": "active", "breach_at": "2025-03-04T08:59:00Z"}]}
    r = record(minimal(slas=slas))
    assert r.vendor_due_at == datetime(2025, 3, 4, 8, 59, tzinfo=UTC)
    assert r.vendor_breached is True


@pytest.mark.parametrize(
    "ticket",
    [
        "not a dict",
        minimal(id=None),
        minimal(id="88214"),
        minimal(id=True),
        minimal(status=None),
        minimal(priority=3),
        minimal(created_at=None),
        minimal(created_at="2025-03-04 08:31:02"),
    ],
)
def test_malformed_tickets_are_bad_payload(ticket: Any) -> None:
    with pytest.raises(BadPayload):
        record(ticket)


def test_url_never_comes_from_the_vendor() -> None:
    r = record(minimal(url="https://evil.example/phish"))
    assert r.url == "https://acme.zendesk.com/agent/tickets/88214"


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(text: str) -> None:
    users = [{"id": 1, "name": text}]
    groups = [{"id": 2, "name": text}]
    r = record(minimal(subject=text, requester_id=1, assignee_id=1, group_id=2), users, groups)
    for value in (r.title, r.requester, r.assignee, r.group):
        assert value is not None and not has_forbidden(value)


def test_index_by_id_skips_malformed_rows() -> None:
    rows = [{"id": 1, "name": "a"}, {"id": "2"}, "x", {"name": "no id"}, {"id": False}]
    assert list(index_by_id(rows)) == [1]
    assert index_by_id(None) == {}

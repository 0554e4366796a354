"""Kaseya BMS envelope, ticket and note mapping (no HTTP; no real BMS capture exists).

The rows here are shaped as the emulator sends them (every ``TicketListDto``
property, camelCased), and again in the spec's PascalCase, so the mapping is
known to read both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import AuthError, BadPayload, ConnectorError, RateLimited, TransientError
from connectors.kaseya.bms.mapping import (
    format_bms_time,
    normalize_priority,
    normalize_status,
    note_to_entry,
    parse_bms_time,
    ticket_to_record,
    unwrap,
)
from connectors.records import Priority, TicketStatus, Visibility
from tests.hostile import HOSTILE_STRINGS, has_forbidden

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 41007,
        "ticketNumber": "T20260304.0042",
        "title": "Printer VLAN unreachable",
        "details": "<p>Floor 3 printers <b>offline</b></p>",
        "accountName": "Acme Corporation",
        "contactName": "Maria Jensen",
        "queueName": "Network",
        "statusId": 3,
        "statusName": "Waiting Vendor",
        "priorityId": 2,
        "priorityName": "High",
        "assigneeName": "Ana Ruiz",
        "hardwareAssetName": "PRN-3F-EAST",
        "createdOn": "2026-03-04T09:02:37.123",
        "openDate": "2026-03-04T09:02:37.123",
        "lastActivityUpdate": "2026-03-04T10:15:00",
        "modifiedOn": "2026-03-04T10:14:00",
        "completedDate": None,
        "dueDate": "2026-03-05T09:00:00",
        "resolutionTargetTime": "2026-03-04T17:00:00",
        "firstResponseActualTime": "2026-03-04T09:20:00",
        "hasMetSLA": False,
    }
    base.update(changes)
    return base


def test_a_ticket_maps_field_by_field() -> None:
    record = ticket_to_record(row(), ticket_url="https://bms.example/t/{id}?n={number}")
    assert (record.external_id, record.key) == ("41007", "T20260304.0042")
    assert record.title == "Printer VLAN unreachable"
    assert (record.status, record.raw_status) == (TicketStatus.PENDING, "Waiting Vendor")
    assert (record.priority, record.raw_priority) == (Priority.P2, "High")
    assert (record.assignee, record.group, record.requester, record.asset) == (
        "Ana Ruiz",
        "Network",
        "Maria Jensen",
        "PRN-3F-EAST",
    )
    assert record.created_at == datetime(2026, 3, 4, 9, 2, 37, 123000, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
    assert record.vendor_due_at == datetime(2026, 3, 4, 17, tzinfo=UTC)  # target before due
    assert record.first_response_at == datetime(2026, 3, 4, 9, 20, tzinfo=UTC)
    assert record.vendor_breached is True
    assert record.resolved_at is None
    assert record.description == "Floor 3 printers offline"
    assert record.url == "https://bms.example/t/41007?n=T20260304.0042"


def test_the_specs_pascal_case_reads_the_same() -> None:
    pascal = {key[:1].upper() + key[1:]: value for key, value in row().items()}
    assert ticket_to_record(pascal) == ticket_to_record(row())


def test_a_completed_ticket_is_resolved_or_closed_by_its_name() -> None:
    closed = ticket_to_record(row(statusName="Closed", completedDate="2026-03-04T12:00:00"))
    assert (closed.status, closed.resolved_at) == (
        TicketStatus.CLOSED,
        datetime(2026, 3, 4, 12, tzinfo=UTC),
    )
    odd = ticket_to_record(row(statusName="Billing Review", completedDate="2026-03-04T12:00:00"))
    assert odd.status is TicketStatus.RESOLVED  # completed: never active, whatever the name


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("New", TicketStatus.NEW),
        ("In Progress", TicketStatus.OPEN),
        ("Assigned", TicketStatus.OPEN),
        ("Waiting Customer", TicketStatus.PENDING),
        ("On Hold", TicketStatus.PENDING),
        ("Resolved", TicketStatus.RESOLVED),
        ("Closed", TicketStatus.CLOSED),
        ("Cancelled", TicketStatus.CLOSED),
        ("Completed", TicketStatus.CLOSED),
    ],
)
def test_status_names(name: str, status: TicketStatus) -> None:
    assert normalize_status(name, completed=False) is status


@pytest.mark.parametrize(
    ("name", "priority"),
    [
        ("Critical", Priority.P1),
        ("Urgent", Priority.P1),
        ("High", Priority.P2),
        ("Medium", Priority.P3),
        ("Normal", Priority.P3),
        ("Low", Priority.P4),
        ("Very Low", Priority.P5),
        ("Planning", Priority.P5),
        ("Gold customer", None),
        ("", None),
    ],
)
def test_priority_names(name: str, priority: Priority | None) -> None:
    assert normalize_priority(name) is priority


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-03-04T09:02:37", UTC, datetime(2026, 3, 4, 9, 2, 37, tzinfo=UTC)),
        ("2026-03-04T09:02:37.1234567", UTC, datetime(2026, 3, 4, 9, 2, 37, 123456, tzinfo=UTC)),
        ("2026-03-04T10:02:37", AMSTERDAM, datetime(2026, 3, 4, 9, 2, 37, tzinfo=UTC)),
        ("2026-07-04T11:02:37", AMSTERDAM, datetime(2026, 7, 4, 9, 2, 37, tzinfo=UTC)),  # CEST
        ("2026-03-04T09:02:37Z", AMSTERDAM, datetime(2026, 3, 4, 9, 2, 37, tzinfo=UTC)),
        ("2026-03-04T11:02:37+02:00", UTC, datetime(2026, 3, 4, 9, 2, 37, tzinfo=UTC)),
        ("0001-01-01T00:00:00", UTC, None),  # DateTime.MinValue
        (None, UTC, None),
        ("", UTC, None),
    ],
)
def test_date_times_with_and_without_an_offset(
    value: str | None, zone: Any, expected: datetime | None
) -> None:
    assert parse_bms_time(value, zone) == expected


def test_filter_values_are_sent_without_an_offset_in_the_zone() -> None:
    at = datetime(2026, 3, 4, 9, 2, 37, 500000, tzinfo=UTC)
    assert format_bms_time(at) == "2026-03-04T09:02:37.500000"
    assert format_bms_time(at, AMSTERDAM) == "2026-03-04T10:02:37.500000"


def test_the_envelope_is_checked_before_its_result() -> None:
    assert unwrap({"success": True, "error": None, "result": [1]}, "x") == [1]
    assert unwrap({"Success": True, "Result": {"a": 1}}, "x") == {"a": 1}
    failures: list[tuple[int, type[Exception]]] = [
        (401, AuthError),
        (429, RateLimited),
        (500, TransientError),
        (400, ConnectorError),
    ]
    for code, error in failures:
        body = {"success": False, "error": {"code": code, "message": "Nope", "details": "why"}}
        with pytest.raises(error, match="BMS x failed: Nope: why") as info:
            unwrap(body, "x")
        assert info.value.http_status == code  # type: ignore[attr-defined]
    with pytest.raises(BadPayload):
        unwrap(["not", "an", "envelope"], "x")


def test_a_note_maps_with_its_visibility_html_and_attachments() -> None:
    note = {
        "id": 880001,
        "createdOn": "2026-03-04T09:30:00",
        "modifiedOn": None,
        "details": "<p>Swapped the <b>patch cable</b>.</p>",
        "isInternal": True,
        "createdByName": "Ana Ruiz",
        "attachments": [
            {
                "id": 5,
                "originalFileName": "port.png",
                "fileType": "image/png",
                "url": "https://evil.example/x",
            }
        ],
    }
    entry = note_to_entry(note, "41007")
    assert (entry.ticket_external_id, entry.external_id) == ("41007", "880001")
    assert entry.visibility is Visibility.INTERNAL
    assert entry.body == "Swapped the patch cable."
    assert (entry.raw_format, entry.raw_body) == ("html", note["details"])
    assert entry.author == "Ana Ruiz"
    (attachment,) = entry.attachments
    assert (attachment.external_id, attachment.name, attachment.url) == ("5", "port.png", None)
    public = note_to_entry({**note, "isInternal": False, "details": "plain"}, "41007")
    assert (public.visibility, public.body, public.raw_format) == (
        Visibility.PUBLIC,
        "plain",
        "text",
    )


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"title": "no id", "createdOn": "2026-03-04T09:02:37"},
        {"id": "41007", "createdOn": "2026-03-04T09:02:37"},
        {"id": 1, "createdOn": None, "openDate": None},
        {"id": 1, "createdOn": "yesterday"},
        {"id": 1, "createdOn": 1772614957},
    ],
)
def test_malformed_tickets_are_bad_payload(bad: Any) -> None:
    with pytest.raises(BadPayload):
        ticket_to_record(bad)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(text: str) -> None:
    record = ticket_to_record(
        row(title=text, details=text, assigneeName=text, statusName=text, contactName=text)
    )
    entry = note_to_entry(
        {"id": 1, "createdOn": "2026-03-04T09:30:00", "details": text, "createdByName": text}, "1"
    )
    for value in (
        record.title,
        record.description,
        record.assignee,
        record.raw_status,
        record.requester,
        entry.body,
        entry.raw_body,
        entry.author,
    ):
        assert value is None or not has_forbidden(value)

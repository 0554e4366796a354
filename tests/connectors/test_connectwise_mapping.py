"""ConnectWise tickets and notes → records as pure functions, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.connectwise.mapping import (
    description_text,
    is_description,
    normalise_priority,
    normalise_status,
    note_to_entry,
    note_visibility,
    ticket_to_record,
    ticket_url,
)
from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus, Visibility
from connectors.timestamps import parse_iso
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "connectwise-ticket.json"
UI = "https://na.myconnectwise.net"


def capture_ticket() -> dict[str, Any]:
    rows: list[dict[str, Any]] = json.loads(CAPTURE.read_text(encoding="utf-8"))
    assert len(rows) == 1  # the capture is GET /service/tickets' bare array
    return rows[0]


def minimal(**fields: Any) -> dict[str, Any]:
    return {
        "id": 104233,
        "summary": "Site-to-site VPN to branch 7 down",
        "board": {"id": 1, "name": "Help Desk"},
        "status": {"id": 16, "name": "In Progress"},
        "priority": {"id": 6, "name": "Priority 1 - Emergency Response", "sort": 1},
        "closedFlag": False,
        "_info": {"lastUpdated": "2025-03-04T09:02:10Z", "dateEntered": "2025-03-04T08:40:00Z"},
        **fields,
    }


def test_capture_ticket_maps_field_by_field() -> None:
    raw = capture_ticket()
    r = ticket_to_record(raw)
    assert r.external_id == "69"
    assert r.key == "#69"
    assert r.title == "Schedule and Execute Conversion"
    assert r.status is TicketStatus.NEW
    assert r.raw_status == "New"
    # The capture's priority is the full object: sortOrder 6 is a display position, not the
    # level, so the level comes from the name.
    assert r.priority is Priority.P3
    assert r.raw_priority == "Priority 3 - Normal Response"
    assert r.created_at == datetime(2005, 5, 27, 17, 30, 19, tzinfo=UTC)
    assert r.updated_at == datetime(2016, 3, 8, 21, 59, 20, tzinfo=UTC)
    assert r.assignee == "Training User1"  # a full member object: firstName + lastName
    assert r.group == "Service A"
    assert r.requester == "Gregg Kegle"
    assert r.asset is None
    assert r.resolved_at is None
    assert r.first_response_at is None
    assert r.vendor_due_at is None  # minutes taken are not a target: no due time from a ticket
    assert r.vendor_breached is True  # isInSla false on a ticket with "Standard SLA"
    assert r.url is None  # no ui_url configured, and payload hrefs are never used
    assert r.raw == raw


def test_capture_quirks_do_not_reach_the_record() -> None:
    raw = capture_ticket()
    # The nested company carries timestamps with spaces and hrefs with "https: //".
    broken = raw["company"]["_info"]["lastUpdated"]
    assert broken == "2015-12-24T22: 08: 22Z"
    with pytest.raises(BadPayload):
        parse_iso(broken)
    assert raw["company"]["billToCompany"]["_info"]["company_href"].startswith("https: //")
    r = ticket_to_record(raw, ui_url=UI)
    assert r.updated_at == datetime(2016, 3, 8, 21, 59, 20, tzinfo=UTC)
    assert r.url == (
        "https://na.myconnectwise.net/v4_6_release/services/system_io/Service/"
        "fv_sr100_request.rails?service_recid=69"
    )


def test_ticket_url_keeps_the_sites_codebase() -> None:
    assert ticket_url("https://cw.example.com/", "v2024_1", 5) == (
        "https://cw.example.com/v2024_1/services/system_io/Service/"
        "fv_sr100_request.rails?service_recid=5"
    )
    assert ticket_to_record(minimal(), ui_url=UI, codebase="v2024_1").url == (
        f"{UI}/v2024_1/services/system_io/Service/fv_sr100_request.rails?service_recid=104233"
    )


@pytest.mark.parametrize(
    ("name", "closed", "expected"),
    [
        ("New", False, TicketStatus.NEW),
        ("New (Email)", False, TicketStatus.NEW),
        ("In Progress", False, TicketStatus.OPEN),
        ("Scheduled", False, TicketStatus.OPEN),
        ("Customer Updated", False, TicketStatus.OPEN),
        ("Renewal Review", False, TicketStatus.OPEN),  # "new" inside a word is not New
        ("Waiting Customer", False, TicketStatus.PENDING),
        ("Pending Vendor", False, TicketStatus.PENDING),
        ("On Hold", False, TicketStatus.PENDING),
        ("Resolved", False, TicketStatus.RESOLVED),
        ("Completed", False, TicketStatus.RESOLVED),
        ("Cancelled", False, TicketStatus.CLOSED),
        (">Closed", True, TicketStatus.CLOSED),
        ("In Progress", True, TicketStatus.CLOSED),  # closedFlag is the fact
        ("Waiting Customer", True, TicketStatus.CLOSED),
    ],
)
def test_status_normalisation(name: str, closed: bool, expected: TicketStatus) -> None:
    assert normalise_status(name, closed) is expected
    row = minimal(status={"id": 3, "name": name}, closedFlag=closed)
    record = ticket_to_record(row)
    assert (record.status, record.raw_status) == (expected, name)


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ({"name": "Priority 1 - Emergency Response", "sort": 1}, Priority.P1),
        ({"name": "Priority 2 - Quick Response", "sort": 2}, Priority.P2),
        ({"name": "Critical", "sort": 3}, Priority.P3),
        ({"name": "Priority 4 - Schedule Maintenance", "sort": 4}, Priority.P4),
        ({"name": "Next Time", "sort": 5}, Priority.P5),
        ({"name": "Priority 2 - Quick Response", "sort": 4}, Priority.P4),  # sort wins
        ({"name": "Priority 2 - Quick Response", "sort": 9}, Priority.P2),  # out of range
        ({"name": "Priority 5 - Next Time"}, Priority.P5),
        ({"name": "priority 3-normal", "sortOrder": 1}, Priority.P3),
        ({"name": "Priority 7 - Someday"}, None),
        ({"name": "Do Not Respond", "sort": True}, None),
        ({"id": 4}, None),
        (None, None),
    ],
)
def test_priority_normalisation(priority: dict[str, Any] | None, expected: Priority) -> None:
    assert normalise_priority(priority) is expected
    record = ticket_to_record(minimal(priority=priority))
    assert record.priority is expected
    assert record.raw_priority == (priority or {}).get("name")


def test_assignee_falls_back_to_identifier_then_first_resource() -> None:
    owner = {"id": 176, "identifier": "jkim", "name": "Jo Kim"}
    assert ticket_to_record(minimal(owner=owner)).assignee == "Jo Kim"
    assert ticket_to_record(minimal(owner={"id": 1, "identifier": "jkim"})).assignee == "jkim"
    member = {"id": 1, "identifier": "jkim", "firstName": "Jo", "lastName": " Kim "}
    assert ticket_to_record(minimal(owner=member)).assignee == "Jo Kim"
    assert ticket_to_record(minimal(owner=None, resources=" asmith, jkim")).assignee == "asmith"
    assert ticket_to_record(minimal(owner=None, resources="")).assignee is None
    assert ticket_to_record(minimal()).assignee is None


def test_requester_and_group_fallbacks() -> None:
    company = {"id": 250, "identifier": "NorthWind", "name": "Northwind Traders"}
    contact = {"id": 1880, "name": "Lee Park"}
    assert ticket_to_record(minimal(contact=contact, company=company)).requester == "Lee Park"
    assert ticket_to_record(minimal(contactName="Lee P.", company=company)).requester == "Lee P."
    assert ticket_to_record(minimal(company=company)).requester == "Northwind Traders"
    no_board = minimal(board=None, team={"id": 25, "name": "Windows Team"})
    assert ticket_to_record(no_board).group == "Windows Team"
    assert ticket_to_record(minimal(board=None)).group is None


def test_dates_sla_and_asset() -> None:
    r = ticket_to_record(
        minimal(
            dateResponded="2025-03-04T08:49:00Z",
            dateResolved="2025-03-04T10:00:00Z",
            closedDate="2025-03-04T11:00:00Z",
            sla={"id": 3, "name": "Standard SLA"},
            isInSla=True,
            configurations=[{"id": 9}, {"id": 10, "name": "FW-BRANCH7"}],
        )
    )
    assert r.first_response_at == datetime(2025, 3, 4, 8, 49, tzinfo=UTC)
    assert r.resolved_at == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    assert r.vendor_breached is False
    assert r.vendor_due_at is None
    assert r.asset == "FW-BRANCH7"
    closed_only = ticket_to_record(minimal(closedDate="2025-03-04T11:00:00Z"))
    assert closed_only.resolved_at == datetime(2025, 3, 4, 11, 0, tzinfo=UTC)
    # An unreadable optional date is absent, not a failed ticket.
    assert (
        ticket_to_record(minimal(dateResponded="2025-03-04T08: 49: 00Z")).first_response_at is None
    )


def test_sla_flag_needs_an_sla_and_a_boolean() -> None:
    assert ticket_to_record(minimal(isInSla=False)).vendor_breached is None  # no sla reference
    sla = {"id": 3, "name": "Standard SLA"}
    assert ticket_to_record(minimal(sla=sla, isInSla=None)).vendor_breached is None
    assert ticket_to_record(minimal(sla=sla, isInSla=False)).vendor_breached is True


def test_date_entered_falls_back_to_top_level_and_updated_to_created() -> None:
    r = ticket_to_record(minimal(_info=None, dateEntered="2025-03-04T08:40:00Z"))
    assert r.created_at == r.updated_at == datetime(2025, 3, 4, 8, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "ticket",
    [
        "not an object",
        {k: v for k, v in minimal().items() if k != "id"},
        minimal(id=True),
        minimal(id="104233"),
        minimal(_info={"lastUpdated": "2025-03-04T09:02:10Z"}),
        minimal(_info={"dateEntered": "2025-03-04 08:40"}),
        minimal(status=None),
        minimal(status={"id": 1, "name": "  "}),
    ],
)
def test_unreadable_tickets_are_bad_payload(ticket: Any) -> None:
    with pytest.raises(BadPayload):
        ticket_to_record(ticket)


def test_missing_summary_gets_a_placeholder() -> None:
    assert ticket_to_record(minimal(summary=None)).title == "(no summary)"


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(hostile: str) -> None:
    r = ticket_to_record(
        minimal(
            summary=hostile,
            status={"id": 1, "name": hostile},
            owner={"id": 1, "name": hostile},
            contact={"id": 2, "name": hostile},
            board={"id": 1, "name": hostile},
        )
    )
    for text in (r.title, r.raw_status, r.assignee, r.requester, r.group):
        assert text is not None and not has_forbidden(text)


def note(**fields: Any) -> dict[str, Any]:
    return {
        "id": 3001,
        "ticketId": 104233,
        "text": "Restarted the spooler",
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": False,
        "resolutionFlag": False,
        "member": {"id": 176, "identifier": "jkim", "name": "Jo Kim"},
        "contact": None,
        "dateCreated": "2025-03-04T09:05:00Z",
        "createdBy": "jkim",
        "_info": {"lastUpdated": "2025-03-04T09:07:00Z", "updatedBy": "jkim"},
        **fields,
    }


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"detailDescriptionFlag": True}, Visibility.PUBLIC),
        ({"resolutionFlag": True}, Visibility.PUBLIC),
        ({"internalAnalysisFlag": True}, Visibility.INTERNAL),
        ({"detailDescriptionFlag": True, "internalFlag": True}, Visibility.INTERNAL),
        ({"internalAnalysisFlag": True, "resolutionFlag": True}, Visibility.INTERNAL),
        ({}, Visibility.INTERNAL),  # a member wrote it, no flag says the customer sees it
        ({"member": None}, Visibility.SYSTEM),  # nobody wrote it: a workflow did
        ({"member": None, "contact": {"id": 9, "name": "Lee Park"}}, Visibility.INTERNAL),
    ],
)
def test_note_visibility_follows_the_flags(flags: dict[str, Any], expected: Visibility) -> None:
    assert note_visibility(note(**flags)) is expected
    assert note_to_entry(note(**flags), "104233").visibility is expected


def test_note_maps_field_by_field() -> None:
    entry = note_to_entry(note(detailDescriptionFlag=True), "104233")
    assert (entry.ticket_external_id, entry.external_id) == ("104233", "3001")
    assert entry.created_at == datetime(2025, 3, 4, 9, 5, tzinfo=UTC)
    assert entry.updated_at == datetime(2025, 3, 4, 9, 7, tzinfo=UTC)
    assert (entry.author, entry.body, entry.raw_body, entry.raw_format) == (
        "Jo Kim",
        "Restarted the spooler",
        "Restarted the spooler",
        "text",
    )
    assert entry.attachments == ()


def test_note_author_falls_back_to_identifier_contact_then_created_by() -> None:
    assert note_to_entry(note(member={"id": 1, "identifier": "jkim"}), "1").author == "jkim"
    customer = note(member=None, contact={"id": 9, "name": "Lee Park"})
    assert note_to_entry(customer, "1").author == "Lee Park"
    assert note_to_entry(note(member=None, createdBy="Workflow"), "1").author == "Workflow"
    assert note_to_entry(note(member=None, createdBy=None), "1").author is None


def test_note_body_is_tidy_text_with_earlier_replies_folded() -> None:
    text = (
        "Fixed now.\r\n\r\n\r\n\r\nOn Tue, 4 Mar 2025 at 09:00, Lee Park wrote:\r\n> still broken"
    )
    entry = note_to_entry(note(text=text), "1")
    assert entry.body == "Fixed now."
    assert entry.raw_body == text.replace("\r\n", "\n")  # kept whole (control characters cleaned)
    literal = note_to_entry(note(text="<script>x</script> [b]bold[/b]"), "1")
    assert literal.body == "<script>x</script> [b]bold[/b]"  # text, never parsed as markup


def test_note_dates_fall_back_and_unreadable_notes_are_bad_payload() -> None:
    no_created = note_to_entry(note(dateCreated=None), "1")
    assert no_created.created_at == datetime(2025, 3, 4, 9, 7, tzinfo=UTC)
    with pytest.raises(BadPayload):
        note_to_entry(note(dateCreated=None, _info=None), "1")
    with pytest.raises(BadPayload):
        note_to_entry(note(id="3001"), "1")
    with pytest.raises(BadPayload):
        note_to_entry(["not", "a", "note"], "1")
    assert note_to_entry(note(text=None), "1").body == ""


def test_description_is_the_first_discussion_note_as_text() -> None:
    assert is_description(note(detailDescriptionFlag=True))
    assert not is_description(note(internalAnalysisFlag=True))
    assert description_text(note(text="  Printer down\r\n\r\n\r\nsince 9:00  ")) == (
        "Printer down\n\nsince 9:00"
    )
    assert description_text(note(text="   ")) is None
    assert description_text(note(text=None)) is None
    record = ticket_to_record(minimal(), description="Printer down")
    assert record.description == "Printer down"


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_note_text_is_cleaned(hostile: str) -> None:
    entry = note_to_entry(
        note(text=hostile, member={"id": 1, "name": hostile}, createdBy=hostile), "104233"
    )
    for text in (entry.body, entry.raw_body, entry.author or ""):
        assert not has_forbidden(text)
    record = ticket_to_record(minimal(), description=description_text(note(text=hostile)))
    assert record.description is None or not has_forbidden(record.description)

"""Autotask ticket item → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.autotask.mapping import (
    EntryContext,
    MappingContext,
    Picklists,
    attachment_to_entry,
    normalise_priority,
    normalise_status,
    note_to_entry,
    note_visibility,
    parse_autotask_time,
    sla_state,
    ticket_to_record,
    ticket_url,
)
from connectors.base import VendorConfig
from connectors.errors import BadPayload
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus, Visibility
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "autotask-tickets-query.json"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
NO_OVERRIDES = Overrides({}, {})


def capture_item() -> dict[str, Any]:
    body = json.loads(CAPTURE.read_text(encoding="utf-8"))
    assert body["pageDetails"]["nextPageUrl"] is None
    (item,) = body["items"]
    assert isinstance(item, dict)
    return item


def reference_item(**fields: Any) -> dict[str, Any]:
    """The vendor reference's illustrative query item (§7.10)."""
    return {
        "id": 41877,
        "ticketNumber": "T20250304.0042",
        "title": "Firewall HA pair failover at client site",
        "status": 11,
        "priority": 1,
        "queueID": 29683354,
        "assignedResourceID": 29683794,
        "companyID": 174,
        "contactID": 29683586,
        "createDate": "2025-03-04T08:12:31.527Z",
        "lastActivityDate": "2025-03-04T09:04:10.903Z",
        "dueDateTime": "2025-03-04T16:00:00Z",
        "firstResponseDueDateTime": "2025-03-04T09:12:31Z",
        "firstResponseDateTime": "2025-03-04T08:40:02Z",
        "resolvedDueDateTime": "2025-03-04T16:12:31Z",
        "resolvedDateTime": None,
        "serviceLevelAgreementID": 3,
        "serviceLevelAgreementHasBeenMet": None,
        "userDefinedFields": [],
        **fields,
    }


def overrides(**tables: dict[str, str]) -> Overrides:
    return Overrides.from_config(
        VendorConfig(name="psa", kind="autotask", base_url="https://x", settings=tables)
    )


def test_capture_item_maps_field_by_field() -> None:
    raw = capture_item()
    assert raw["userDefinedFields"] == {}
    r = ticket_to_record(raw, MappingContext(now=NOW))
    assert r.external_id == "7688"
    assert r.key == "T20120604.0002.005"
    assert r.title == "Monthy Services Checkup*"
    # Without the tenant's labels, code 10 is an unknown non-system status: work in progress.
    assert (r.status, r.raw_status) == (TicketStatus.OPEN, "10")
    assert (r.priority, r.raw_priority) == (Priority.P4, "3")
    assert r.created_at == datetime(2019, 8, 18, 1, 0, tzinfo=UTC)
    assert r.updated_at == datetime(2019, 9, 23, 11, 0, tzinfo=UTC)
    assert r.resolved_at == datetime(2019, 9, 5, 8, 23, tzinfo=UTC)  # completedDate
    assert r.first_response_at == datetime(2012, 6, 18, 1, 0, tzinfo=UTC)
    assert r.assignee == "resource 29683794"
    assert r.group == "queue 29682833"
    assert r.requester == "contact 29683586"
    assert r.asset is None
    assert (r.vendor_due_at, r.vendor_breached) == (None, None)
    assert r.url is None
    assert r.raw["description"] == "Monthy Services Checkup"


def test_capture_item_with_tenant_labels_names_and_web_url() -> None:
    context = MappingContext(
        now=NOW,
        picklists=Picklists(
            statuses={"10": "Scheduled"},
            priorities={"3": "Low"},
            queues={"29682833": "Monitoring Alert"},
        ),
        resources={29683794: "Kim Lee"},
        contacts={29683586: "Maria Jensen"},
        web_url="https://ww5.autotask.net/",
    )
    r = ticket_to_record(capture_item(), context)
    assert (r.status, r.raw_status) == (TicketStatus.OPEN, "Scheduled")
    assert (r.priority, r.raw_priority) == (Priority.P4, "Low")
    assert (r.assignee, r.requester, r.group) == ("Kim Lee", "Maria Jensen", "Monitoring Alert")
    assert r.url == (
        "https://ww5.autotask.net/Mvc/ServiceDesk/TicketDetail.mvc"
        "?workspace=False&ids%5B0%5D=7688&ticketId=7688"
    )


def test_reference_item_sla_and_response_times() -> None:
    r = ticket_to_record(reference_item(), MappingContext(now=NOW))
    assert r.key == "T20250304.0042"
    assert r.status is TicketStatus.OPEN and r.raw_status == "11"
    assert r.priority is Priority.P2 and r.raw_priority == "1"
    assert r.created_at == datetime(2025, 3, 4, 8, 12, 31, 527000, tzinfo=UTC)
    assert r.first_response_at == datetime(2025, 3, 4, 8, 40, 2, tzinfo=UTC)
    # Resolution (not first-response) due time; past noon it is not yet due.
    assert r.vendor_due_at == datetime(2025, 3, 4, 16, 12, 31, tzinfo=UTC)
    assert r.vendor_breached is False
    assert r.resolved_at is None


def test_requester_falls_back_to_the_company_without_a_contact() -> None:
    r = ticket_to_record(
        reference_item(contactID=None), MappingContext(now=NOW, companies={174: "Acme Retail"})
    )
    assert r.requester == "Acme Retail"
    bare = ticket_to_record(reference_item(contactID=None), MappingContext(now=NOW))
    assert bare.requester == "company 174"


@pytest.mark.parametrize(
    ("code", "label", "expected"),
    [
        ("1", None, TicketStatus.NEW),
        ("5", None, TicketStatus.CLOSED),
        ("9", None, TicketStatus.PENDING),
        ("12", None, TicketStatus.PENDING),
        ("11", None, TicketStatus.OPEN),
        ("8", "In Progress", TicketStatus.OPEN),
        ("7", "Waiting Customer", TicketStatus.PENDING),
        ("17", "On Hold", TicketStatus.PENDING),
        ("21", "Resolved", TicketStatus.RESOLVED),
        ("22", "Cancelled", TicketStatus.CLOSED),
        # A tenant that relabels 9: the label wins over the reference's default.
        ("9", "Dispatched", TicketStatus.OPEN),
        # System values cannot be relabelled into another meaning.
        ("5", "Done", TicketStatus.CLOSED),
    ],
)
def test_status_normalisation(code: str, label: str | None, expected: TicketStatus) -> None:
    assert normalise_status(code, label, NO_OVERRIDES) is expected


def test_status_and_priority_overrides_by_code_and_by_label() -> None:
    custom = overrides(
        status_map={"8": "pending", "Scheduled": "new", "5": "resolved"},
        priority_map={"1": "P1", "medium": "P2"},
    )
    assert normalise_status("8", "In Progress", custom) is TicketStatus.PENDING
    assert normalise_status("10", "Scheduled", custom) is TicketStatus.NEW
    assert normalise_status("5", "Complete", custom) is TicketStatus.RESOLVED
    assert normalise_status("11", "Escalate", custom) is TicketStatus.OPEN
    assert normalise_priority("1", "High", custom) is Priority.P1
    assert normalise_priority("2", "Medium", custom) is Priority.P2
    assert normalise_priority("3", "Low", custom) is Priority.P4


@pytest.mark.parametrize(
    ("code", "label", "expected"),
    [
        ("4", None, Priority.P1),
        ("1", None, Priority.P2),
        ("2", None, Priority.P3),
        ("3", None, Priority.P4),
        ("6", None, None),
        ("6", "Urgent", Priority.P1),
        ("7", "Planning", Priority.P5),
        ("8", "Normal", Priority.P3),
        # Labels beat the default codes: this tenant reordered its picklist.
        ("1", "Low", Priority.P4),
    ],
)
def test_priority_normalisation(code: str, label: str | None, expected: Priority | None) -> None:
    assert normalise_priority(code, label, NO_OVERRIDES) is expected


def test_sla_verdicts() -> None:
    due = "2025-03-04T11:00:00.000Z"
    past = datetime(2025, 3, 4, 11, 0, tzinfo=UTC)
    assert sla_state({"resolvedDueDateTime": due}, NOW) == (past, True)
    assert sla_state(
        {"resolvedDueDateTime": due, "resolvedDateTime": "2025-03-04T10:00:00Z"}, NOW
    ) == (past, False)
    assert sla_state(
        {"resolvedDueDateTime": due, "serviceLevelAgreementHasBeenMet": True}, NOW
    ) == (
        past,
        False,
    )
    assert sla_state({"serviceLevelAgreementHasBeenMet": False}, NOW) == (None, True)
    assert sla_state({}, NOW) == (None, None)
    assert sla_state({"resolvedDueDateTime": "soon"}, NOW) == (None, None)


def test_autotask_time_forms() -> None:
    expected = datetime(2025, 3, 4, 9, 12, 44, 123456, tzinfo=UTC)
    assert parse_autotask_time("2025-03-04T09:12:44.1234567Z") == expected
    assert parse_autotask_time("2025-03-04T09:12:44.1234567") == expected
    assert parse_autotask_time("2019-08-18T01:00:00.000Z") == datetime(2019, 8, 18, 1, tzinfo=UTC)
    assert parse_autotask_time("2025-03-04T09:12:44+01:00") == datetime(
        2025, 3, 4, 8, 12, 44, tzinfo=UTC
    )
    assert parse_autotask_time(None) is None
    assert parse_autotask_time("") is None
    with pytest.raises(BadPayload):
        parse_autotask_time("04/03/2025 09:12")


def test_picklists_from_entity_fields_skip_odd_entries() -> None:
    body = {
        "fields": [
            {"name": "id", "isPickList": False, "picklistValues": None},
            {
                "name": "status",
                "isPickList": True,
                "picklistValues": [
                    {"value": "1", "label": "New"},
                    {"value": 8, "label": " In Progress "},
                    {"value": "9", "label": ""},
                    {"value": True, "label": "bool"},
                    "junk",
                ],
            },
            {"name": "priority", "picklistValues": [{"value": "1", "label": "High"}]},
            {"name": "queueID", "picklistValues": [{"value": "29682833", "label": "Tier 1"}]},
            {"name": 7},
        ]
    }
    picklists = Picklists.from_fields(body)
    assert picklists.statuses == {"1": "New", "8": "In Progress"}
    assert picklists.priorities == {"1": "High"}
    assert picklists.queues == {"29682833": "Tier 1"}
    assert Picklists.from_fields(["not", "an", "object"]) == Picklists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "id"),
        ({"id": "41877"}, "id"),
        ({"createDate": None}, "createDate"),
        ({"status": None}, "status"),
        ({"createDate": "yesterday"}, "timestamp"),
    ],
)
def test_unreadable_items_are_bad_payload(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        ticket_to_record(reference_item(**change), MappingContext(now=NOW))


def test_missing_optional_fields_degrade_gracefully() -> None:
    item = reference_item(
        ticketNumber=None, title="  ", priority=None, queueID=None, lastActivityDate=None
    )
    r = ticket_to_record(item, MappingContext(now=NOW))
    assert r.key == "41877"
    assert r.title == "(no title)"
    assert (r.priority, r.raw_priority, r.group) == (None, None, None)
    assert r.updated_at == r.created_at
    with pytest.raises(BadPayload):
        ticket_to_record(["not", "a", "ticket"], MappingContext(now=NOW))


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(hostile: str) -> None:
    context = MappingContext(
        now=NOW,
        picklists=Picklists(statuses={"11": hostile}, queues={"29683354": hostile}),
        resources={29683794: hostile},
    )
    r = ticket_to_record(reference_item(title=hostile), context)
    for text in (r.title, r.raw_status, r.group or "", r.assignee or ""):
        assert not has_forbidden(text)


def test_ticket_url_uses_only_the_root_and_the_id() -> None:
    assert ticket_url("http://127.0.0.1:8080", 5) == (
        "http://127.0.0.1:8080/Mvc/ServiceDesk/TicketDetail.mvc"
        "?workspace=False&ids%5B0%5D=5&ticketId=5"
    )
    assert (
        ticket_to_record(reference_item(), MappingContext(now=NOW + timedelta(days=1))).url is None
    )


# -- conversations ------------------------------------------------------------------------

NOTE = {
    "id": 29684001,
    "ticketID": 41877,
    "title": "Called the customer",
    "description": "Printer is back.\r\n\r\n\r\n\r\nClosing tomorrow.",
    "noteType": 1,
    "publish": 1,
    "createDateTime": "2025-03-04T10:00:00.000Z",
    "lastActivityDate": "2025-03-04T10:05:00.000Z",
    "creatorResourceID": 29683794,
    "createdByContactID": None,
}


@pytest.mark.parametrize(
    ("publish", "publish_label", "type_label", "expected"),
    [
        ("1", "All Autotask Users", "Task Summary", Visibility.PUBLIC),
        ("2", "Internal Project Team", "Task Detail", Visibility.INTERNAL),
        ("4", "Internal & Co-Managed", None, Visibility.INTERNAL),
        ("1", "All Autotask Users", "Workflow Rule", Visibility.SYSTEM),
        ("2", None, "Service Desk Notification", Visibility.SYSTEM),
        ("1", None, None, Visibility.PUBLIC),  # no labels: the default picklist's codes
        ("2", None, None, Visibility.INTERNAL),
        ("9", "Project Team", None, Visibility.INTERNAL),  # unknown: never public by guess
    ],
)
def test_note_visibility(
    publish: str, publish_label: str | None, type_label: str | None, expected: Visibility
) -> None:
    assert note_visibility(publish, publish_label, type_label) is expected


def test_note_maps_title_body_author_and_times() -> None:
    context = EntryContext(resources={29683794: "Kim Lee"}, publish={"1": "All Autotask Users"})
    entry = note_to_entry(NOTE, context)
    assert (entry.ticket_external_id, entry.external_id) == ("41877", "29684001")
    assert entry.body == "Called the customer\n\nPrinter is back.\n\nClosing tomorrow."
    assert entry.raw_format == "text" and "Printer is back." in entry.raw_body
    assert (entry.visibility, entry.author) == (Visibility.PUBLIC, "Kim Lee")
    assert entry.created_at == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    assert entry.updated_at == datetime(2025, 3, 4, 10, 5, tzinfo=UTC)
    portal = note_to_entry(
        {**NOTE, "creatorResourceID": None, "createdByContactID": 29683586}, EntryContext()
    )
    assert portal.author == "contact 29683586"
    same = note_to_entry({**NOTE, "title": "Printer is back."}, context)
    assert same.body.startswith("Printer is back.")  # the title is not said twice
    with pytest.raises(BadPayload):
        note_to_entry({**NOTE, "ticketID": None}, context)


def test_attachment_url_is_built_from_the_zone_and_ids_never_the_payload() -> None:
    item = {
        "id": 29684100,
        "parentID": 41877,
        "title": "",
        "fullPath": "https://evil.example/steal?x=1",
        "fileSize": 52000.0,
        "contentType": "image/jpeg",
        "attachDate": "2025-03-04T10:00:00.000Z",
        "publish": 2,
        "attachedByResourceID": 29683794,
    }
    context = EntryContext(
        resources={29683794: "Kim Lee"},
        api_url="https://webservices5.autotask.net/ATServicesRest/",
    )
    entry = attachment_to_entry(item, context)
    (record,) = entry.attachments
    assert record.url == (
        "https://webservices5.autotask.net/ATServicesRest/V1.0/Tickets/41877/Attachments/29684100"
    )
    assert (record.name, record.size, record.content_type) == (
        "https://evil.example/steal?x=1",  # shown as a name, never used as a link
        52000,
        "image/jpeg",
    )
    assert (entry.external_id, entry.visibility, entry.author) == (
        "attachment-29684100",
        Visibility.INTERNAL,
        "Kim Lee",
    )
    assert attachment_to_entry(item, EntryContext()).attachments[0].url is None


def test_an_empty_description_is_none_and_text_is_tidied() -> None:
    assert (
        ticket_to_record(reference_item(description=""), MappingContext(now=NOW)).description
        is None
    )
    tidy = ticket_to_record(
        reference_item(description="a\r\n\r\n\r\n\r\nb  \n"), MappingContext(now=NOW)
    )
    assert tidy.description == "a\n\nb"

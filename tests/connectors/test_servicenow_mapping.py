"""ServiceNow payloads to TicketRecord without HTTP: the real capture and display values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus, Visibility
from connectors.servicenow.mapping import (
    attachment_entry,
    incident_to_record,
    journal_entry,
    journal_text,
    sla_summary,
    slas_by_task,
)

CAPTURE = Path(__file__).parent / "captures" / "servicenow-incidents.json"
BASE = "https://acme.service-now.com"


def capture_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(CAPTURE.read_text())["result"]
    return rows


def display_all_incident(**overrides: Any) -> dict[str, Any]:
    """The vendor reference's illustrative ``sysparm_display_value=all`` record."""
    row: dict[str, Any] = {
        "sys_id": {
            "display_value": "4f2a9c1e1b8e5110a1b2c3d4e5f60718",
            "value": "4f2a9c1e1b8e5110a1b2c3d4e5f60718",
        },
        "number": {"display_value": "INC0041187", "value": "INC0041187"},
        "short_description": {
            "display_value": "VPN gateway EU-2 dropping tunnels",
            "value": "VPN gateway EU-2 dropping tunnels",
        },
        "state": {"display_value": "In Progress", "value": "2"},
        "priority": {"display_value": "1 - Critical", "value": "1"},
        "assigned_to": {"display_value": "Dana Ortiz", "value": "6816f79cc0a8016401c5a33be04be441"},
        "assignment_group": {
            "display_value": "Network Ops",
            "value": "287ebd7da9fe198100f92cc8d1d2154e",
        },
        "caller_id": {"display_value": "Lee Park", "value": "77ad8176731313005754660c4cf6a7de"},
        "cmdb_ci": {"display_value": "", "value": ""},
        "opened_at": {"display_value": "04/03/2025 10:51:10", "value": "2025-03-04 08:51:10"},
        "sys_updated_on": {"display_value": "04/03/2025 11:02:37", "value": "2025-03-04 09:02:37"},
        "resolved_at": {"display_value": "", "value": ""},
        "active": {"display_value": "true", "value": "true"},
        "sys_mod_count": {"display_value": "4", "value": "4"},
    }
    row.update(overrides)
    return row


def test_capture_incident_1_closed() -> None:
    row = capture_rows()[0]
    record = incident_to_record(row, BASE)
    assert record.external_id == "sys_id"
    assert record.key == "INC0000001"
    assert record.title == "Can't read email"
    assert record.status is TicketStatus.CLOSED
    assert record.raw_status == "7"
    assert record.priority is Priority.P1
    assert record.raw_priority == "1"
    assert record.created_at == datetime(2018, 4, 3, 18, 24, 13, tzinfo=UTC)
    assert record.updated_at == datetime(2019, 12, 3, 20, 16, 7, tzinfo=UTC)
    assert record.resolved_at == datetime(2019, 12, 3, 19, 56, 12, tzinfo=UTC)
    # The flat shape has no display values: references fall back to the value they hold.
    assert record.assignee == "admin"
    assert record.requester == "admin"
    assert record.group == "admin"
    assert record.asset == "admin"
    assert record.url == f"{BASE}/nav_to.do?uri=incident.do%3Fsys_id%3Dsys_id"
    assert record.vendor_due_at is None
    assert record.vendor_breached is None
    assert record.raw == row


def test_capture_incident_2_on_hold() -> None:
    record = incident_to_record(capture_rows()[1], BASE)
    assert record.key == "INC0000002"
    assert record.title == "Network file shares access issue"
    assert record.status is TicketStatus.PENDING
    assert record.raw_status == "3"
    assert record.priority is Priority.P1
    assert record.created_at == datetime(2018, 3, 23, 22, 30, 6, tzinfo=UTC)
    assert record.updated_at == datetime(2019, 12, 3, 19, 51, 11, tzinfo=UTC)
    assert record.resolved_at is None


def test_capture_incident_3_in_progress_without_ci() -> None:
    record = incident_to_record(capture_rows()[2], BASE)
    assert record.key == "INC0000003"
    assert record.title == "Wireless access is down in my area"
    assert record.status is TicketStatus.OPEN
    assert record.raw_status == "2"
    assert record.priority is Priority.P1
    assert record.created_at == datetime(2018, 4, 7, 14, 41, 46, tzinfo=UTC)
    assert record.updated_at == datetime(2019, 12, 3, 19, 51, 14, tzinfo=UTC)
    assert record.resolved_at is None
    assert record.asset is None  # "" reference means no CI
    assert record.assignee == "admin"


def test_capture_timestamps_are_all_aware_utc() -> None:
    for row in capture_rows():
        record = incident_to_record(row, BASE)
        for moment in (record.created_at, record.updated_at, record.resolved_at):
            assert moment is None or moment.utcoffset() is not None
            assert moment is None or moment.tzinfo is UTC


def test_display_value_all_shape_reads_values_for_logic_and_display_for_people() -> None:
    record = incident_to_record(display_all_incident(), BASE)
    assert record.external_id == "4f2a9c1e1b8e5110a1b2c3d4e5f60718"
    assert record.key == "INC0041187"
    assert record.title == "VPN gateway EU-2 dropping tunnels"
    assert record.status is TicketStatus.OPEN
    assert record.raw_status == "In Progress"
    assert record.priority is Priority.P1
    assert record.raw_priority == "1 - Critical"
    assert record.assignee == "Dana Ortiz"
    assert record.group == "Network Ops"
    assert record.requester == "Lee Park"
    assert record.asset is None
    # The localised display value (04/03/2025 11:02:37, a UTC+2 user) is never parsed.
    assert record.updated_at == datetime(2025, 3, 4, 9, 2, 37, tzinfo=UTC)
    # No sys_created_on requested: opened_at stands in.
    assert record.created_at == datetime(2025, 3, 4, 8, 51, 10, tzinfo=UTC)
    assert record.resolved_at is None
    assert record.url == (
        f"{BASE}/nav_to.do?uri=incident.do%3Fsys_id%3D4f2a9c1e1b8e5110a1b2c3d4e5f60718"
    )


@pytest.mark.parametrize(
    ("code", "label", "status"),
    [
        ("1", "New", TicketStatus.NEW),
        ("2", "In Progress", TicketStatus.OPEN),
        ("3", "On Hold", TicketStatus.PENDING),
        ("6", "Resolved", TicketStatus.RESOLVED),
        ("7", "Closed", TicketStatus.CLOSED),
        ("8", "Canceled", TicketStatus.CLOSED),
        ("-5", "Awaiting Triage", TicketStatus.OPEN),
    ],
)
def test_state_codes(code: str, label: str, status: TicketStatus) -> None:
    record = incident_to_record(
        display_all_incident(state={"display_value": label, "value": code}), BASE
    )
    assert record.status is status
    assert record.raw_status == label


@pytest.mark.parametrize(
    ("value", "priority", "raw"),
    [
        ({"display_value": "5 - Planning", "value": "5"}, Priority.P5, "5 - Planning"),
        ({"display_value": "", "value": ""}, None, None),
        ({"display_value": "9 - Custom", "value": "9"}, None, "9 - Custom"),
        ("4", Priority.P4, "4"),
    ],
)
def test_priorities(value: Any, priority: Priority | None, raw: str | None) -> None:
    record = incident_to_record(display_all_incident(priority=value), BASE)
    assert record.priority == priority
    assert record.raw_priority == raw


def test_url_uses_configured_base_and_quotes_the_sys_id() -> None:
    row = display_all_incident(sys_id="abc&x=1/../evil")
    record = incident_to_record(row, "https://acme.service-now.com/")
    assert record.url == (
        "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3Dabc%26x%3D1%2F..%2Fevil"
    )


def test_hostile_text_is_cleaned() -> None:
    row = display_all_incident(
        short_description={"display_value": "x", "value": "\x1b[2Jboom \u202egnp.exe"},
        assigned_to={"display_value": "\x1b]52;c;ZXZpbA==\x07Eve", "value": "1"},
    )
    record = incident_to_record(row, BASE)
    assert record.title == "[2Jboom gnp.exe"
    assert record.assignee == "]52;c;ZXZpbA==Eve"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sys_id": ""}, "without sys_id"),
        ({"sys_updated_on": {"display_value": "", "value": ""}}, "no sys_updated_on"),
        ({"sys_updated_on": "04/03/2025 11:02:37"}, "not a ServiceNow timestamp"),
        ({"state": {"value": ["2"]}}, "unexpected list"),
    ],
)
def test_unreadable_incidents_raise_bad_payload(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        incident_to_record(display_all_incident(**change), BASE)


def test_not_an_object_raises_bad_payload() -> None:
    with pytest.raises(BadPayload, match="not an object"):
        incident_to_record(["INC1"], BASE)  # type: ignore[arg-type]


def test_sla_summary_takes_earliest_due_and_any_breach() -> None:
    rows = [
        {"task": "a", "planned_end_time": "2025-03-04 12:51:10", "has_breached": "false"},
        {"task": "a", "planned_end_time": "2025-03-04 10:00:00", "has_breached": "true"},
        {"task": "a", "planned_end_time": "", "has_breached": "false"},
    ]
    assert sla_summary(rows) == (datetime(2025, 3, 4, 10, 0, tzinfo=UTC), True)
    assert sla_summary(rows[:1]) == (datetime(2025, 3, 4, 12, 51, 10, tzinfo=UTC), False)
    assert sla_summary([]) == (None, None)


def test_slas_are_grouped_by_task_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.servicenow import mapping

    parsed = 0
    parse = mapping.parse_servicenow

    def counted(value: object) -> datetime | None:
        nonlocal parsed
        parsed += 1
        return parse(value)

    monkeypatch.setattr(mapping, "parse_servicenow", counted)
    rows = [
        {
            "task": f"t{i % 50}",
            "planned_end_time": f"2025-03-04 1{i % 10}:00:00",
            "has_breached": "false",
        }
        for i in range(3000)
    ]
    rows.append({"task": "t7", "planned_end_time": "2025-03-04 08:00:00", "has_breached": "true"})
    summary = slas_by_task(rows)
    assert parsed == len(rows)  # each row read once, whatever the number of tasks
    assert len(summary) == 50
    assert summary["t7"] == (datetime(2025, 3, 4, 8, 0, tzinfo=UTC), True)
    assert summary["t0"] == (datetime(2025, 3, 4, 10, 0, tzinfo=UTC), False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain\r\nline two", "plain\nline two"),
        ("error <null> & more", "error <null> & more"),
        ("before [code]<p>Hi <b>you</b></p>[/code] after", "before\nHi you\nafter"),
        ("[CODE]<ul><li>a</li></ul>[/CODE]", "  * a"),
        ("[code]<script>x()</script>[/code]", ""),
        ("", ""),
    ],
)
def test_journal_text(value: str, text: str) -> None:
    assert journal_text(value) == text


def test_journal_row_to_entry() -> None:
    """The shape of a real ``sys_journal_field`` row (as a public client shows it)."""
    row = {
        "sys_id": "43551aa",
        "sys_created_on": "2021-09-03 10:29:48",
        "name": "incident",
        "element_id": "552c4bb",
        "sys_tags": "",
        "value": "test",
        "sys_created_by": "admin",
        "element": "comments",
    }
    entry = journal_entry(row)
    assert (entry.ticket_external_id, entry.external_id) == ("552c4bb", "43551aa")
    assert entry.created_at == datetime(2021, 9, 3, 10, 29, 48, tzinfo=UTC)
    assert (entry.visibility, entry.body, entry.author) == (Visibility.PUBLIC, "test", "admin")
    assert journal_entry({**row, "element": "work_notes"}).visibility is Visibility.INTERNAL
    assert journal_entry({**row, "sys_created_by": "system"}).visibility is Visibility.SYSTEM
    with pytest.raises(BadPayload, match="element_id"):
        journal_entry({**row, "element_id": ""})
    with pytest.raises(BadPayload, match="sys_created_on"):
        journal_entry({**row, "sys_created_on": ""})


def test_attachment_url_is_built_from_config_not_payload() -> None:
    row = {
        "sys_id": "a539ce1b",
        "table_sys_id": "552c4bb",
        "file_name": "image.png",
        "content_type": "image/png",
        "size_bytes": "62192",
        "sys_created_on": "2020-11-23 12:11:54",
        "sys_created_by": "admin",
        "download_link": "https://evil.example/steal",
    }
    entry = attachment_entry(row, BASE + "/")
    (file,) = entry.attachments
    assert file.url == f"{BASE}/api/now/attachment/a539ce1b/file"
    assert (file.name, file.size, file.content_type) == ("image.png", 62192, "image/png")
    assert entry.visibility is Visibility.SYSTEM

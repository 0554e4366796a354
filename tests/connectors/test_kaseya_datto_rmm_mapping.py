"""Datto RMM alert → TicketRecord on the real capture and hand-made variants (no HTTP)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload
from connectors.kaseya.datto_rmm.mapping import (
    MIN_VALUE_MS,
    alert_link,
    alert_to_record,
    parse_datto_time,
)
from connectors.records import Priority, TicketStatus
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "kaseya-datto-rmm-alert.json"


def capture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CAPTURE.read_text())
    return data


def alert(**changes: Any) -> dict[str, Any]:
    """The capture with some keys changed (``None`` removes a key)."""
    data = copy.deepcopy(capture())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_capture_maps_field_by_field() -> None:
    record = alert_to_record(capture())
    assert record.external_id == "e001f43c-..."  # the author elided the uid; kept as sent
    assert record.key == "e001f43c"
    assert record.title == "Component script: BSODView Command has Failed: ..."
    assert (record.status, record.raw_status) == (TicketStatus.OPEN, "open")
    assert (record.priority, record.raw_priority) == (Priority.P3, "Moderate")
    assert record.created_at == datetime(2026, 8, 25, 7, 38, 15, tzinfo=UTC)  # epoch ms
    assert record.updated_at == record.created_at
    assert record.asset == "LAPTOP-VOORBEELD (Voorbeeld Klant B.V.)"
    assert record.assignee is None and record.resolved_at is None and record.requester is None
    assert record.url is None  # no alert_url configured: no link is guessed
    assert record.description == "Alert: BSODView Command has Failed: ..."
    assert record.raw["alertContext"]["@class"] == "comp_script_ctx"


def test_a_resolved_alert_carries_who_and_when() -> None:
    record = alert_to_record(
        alert(
            resolved=True,
            resolvedBy="j.devries",
            resolvedOn=1787650000000,
            ticketNumber="T20260825.0042",
            diagnostics="BSODView exited 1\nsee the log",
            responseActions=[
                {
                    "actionTime": 1787643600000,
                    "actionType": "TICKET_CREATED",
                    "description": "Ticket T20260825.0042 created",
                    "actionReference": "T20260825.0042",
                    "actionReferenceInt": None,
                }
            ],
        )
    )
    assert (record.status, record.raw_status) == (TicketStatus.RESOLVED, "resolved")
    assert record.resolved_at == datetime(2026, 8, 25, 9, 26, 40, tzinfo=UTC)
    assert record.updated_at == record.resolved_at  # the latest of its instants
    assert record.assignee == "j.devries"
    assert record.description == (
        "BSODView exited 1\nsee the log\n\nAlert: BSODView Command has Failed: ...\n"
        "PSA ticket: T20260825.0042\nTICKET_CREATED: Ticket T20260825.0042 created"
    )


def test_muted_alerts_wait_and_overrides_win() -> None:
    assert alert_to_record(alert(muted=True)).status is TicketStatus.PENDING
    assert alert_to_record(alert(muted=True)).raw_status == "muted"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Critical", Priority.P1),
        ("High", Priority.P2),
        ("Moderate", Priority.P3),
        ("Low", Priority.P4),
        ("Information", Priority.P5),
        ("Unknown", None),
        ("Catastrophic", None),  # a level Datto may add later: kept raw, not guessed
    ],
)
def test_priorities(raw: str, expected: Priority | None) -> None:
    record = alert_to_record(alert(priority=raw))
    assert (record.priority, record.raw_priority) == (expected, raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1787643495000, datetime(2026, 8, 25, 7, 38, 15, tzinfo=UTC)),  # epoch ms (alerts)
        ("1787643495000", datetime(2026, 8, 25, 7, 38, 15, tzinfo=UTC)),
        (1787645215.44, datetime(2026, 8, 25, 8, 6, 55, 440000, tzinfo=UTC)),  # epoch s
        ("1787645215.44", datetime(2026, 8, 25, 8, 6, 55, 440000, tzinfo=UTC)),
        ("2026-08-25T07:26:00Z", datetime(2026, 8, 25, 7, 26, tzinfo=UTC)),  # ISO (devices)
        ("2026-08-25T09:26:00+02:00", datetime(2026, 8, 25, 7, 26, tzinfo=UTC)),
        ("2026-08-25T07:26:00", datetime(2026, 8, 25, 7, 26, tzinfo=UTC)),  # no zone: UTC
        (MIN_VALUE_MS, None),  # .NET DateTime.MinValue: "no date"
        (-62135596800, None),
        ("-62135596800000", None),
        ("0001-01-01T00:00:00Z", None),
        (None, None),
        ("", None),
    ],
)
def test_the_three_timestamp_encodings_and_min_value(
    value: object, expected: datetime | None
) -> None:
    assert parse_datto_time(value) == expected


@pytest.mark.parametrize("value", [True, "yesterday", [1], {"t": 1}, 10**20])
def test_unreadable_timestamps_are_bad_payload(value: object) -> None:
    with pytest.raises(BadPayload):
        parse_datto_time(value)


def test_min_value_resolved_on_falls_back_and_min_value_timestamp_uses_resolved_on() -> None:
    record = alert_to_record(alert(resolved=True, resolvedOn=MIN_VALUE_MS))
    assert record.resolved_at == record.created_at
    record = alert_to_record(alert(timestamp=MIN_VALUE_MS, resolvedOn="2026-08-25T07:26:00Z"))
    assert record.created_at == datetime(2026, 8, 25, 7, 26, tzinfo=UTC)
    with pytest.raises(BadPayload, match="no timestamp"):
        alert_to_record(alert(timestamp=MIN_VALUE_MS))


@pytest.mark.parametrize(
    ("context", "diagnostics", "title"),
    [
        (
            {"@class": "comp_script_ctx", "samples": {}},
            "Exit code 3\nmore",
            "Component script: Exit code 3",
        ),
        (
            {"@class": "perf_disk_usage_ctx", "samples": {}, "diskName": "C:"},
            None,
            "Disk usage: C:",
        ),
        (
            {"@class": "online_offline_status_ctx", "status": "OFFLINE"},
            None,
            "Online status: OFFLINE",
        ),
        ({"@class": "quantum_flux_ctx"}, None, "Quantum flux"),  # a class Datto added later
        ({}, "only diagnostics", "only diagnostics"),
        ({}, None, "(no details)"),
    ],
)
def test_title_falls_back_from_samples_to_context_fields_to_diagnostics(
    context: dict[str, Any], diagnostics: str | None, title: str
) -> None:
    record = alert_to_record(alert(alertContext=context, diagnostics=diagnostics))
    assert record.title == title


def test_alert_url_is_built_from_the_template_and_quoted_ids_only() -> None:
    evil = alert(
        alertUid="x/../../evil?y=1",
        alertSourceInfo={"deviceUid": "d 1", "siteUid": "https://evil.example/"},
    )
    link = alert_link("https://merlot.centrastage.net/csm/device/{device_uid}#{alert_uid}", evil)
    assert link == "https://merlot.centrastage.net/csm/device/d%201#x%2F..%2F..%2Fevil%3Fy%3D1"
    record = alert_to_record(evil, alert_url="https://rmm.example/site/{site_uid}")
    assert record.url == "https://rmm.example/site/https%3A%2F%2Fevil.example%2F"


@pytest.mark.parametrize(
    "bad",
    [
        [],
        "alert",
        {"priority": "High"},
        {"alertUid": "", "timestamp": 1},
        {"alertUid": 7, "timestamp": 1},
        {"alertUid": "u", "timestamp": "soon"},
    ],
)
def test_malformed_alerts_are_bad_payload(bad: Any) -> None:
    with pytest.raises(BadPayload):
        alert_to_record(bad)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(text: str) -> None:
    record = alert_to_record(
        alert(
            diagnostics=text,
            resolvedBy=text,
            resolved=True,
            alertContext={"@class": text, "samples": {text[:40]: text}},
            alertSourceInfo={"deviceName": text, "siteName": text},
        )
    )
    for value in (record.title, record.description, record.asset, record.assignee):
        assert value is not None and not has_forbidden(value)

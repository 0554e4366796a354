"""Opsgenie alert → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload, ConfigurationError
from connectors.opsgenie.mapping import (
    alert_to_record,
    priority_overrides,
    raw_status,
    status_overrides,
    team_ids,
)
from connectors.records import Priority, TicketRecord, TicketStatus
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "opsgenie-alerts.json"
CREATED = datetime(2025, 3, 4, 8, 22, 1, 337000, tzinfo=UTC)


def capture_alert() -> dict[str, Any]:
    alert: dict[str, Any] = json.loads(CAPTURE.read_text(encoding="utf-8"))["data"][0]
    return alert


def minimal(**fields: Any) -> dict[str, Any]:
    return {
        "id": "70413a06-38d6-4c85-92b8-5ebc900d42e2-1741076521337",
        "tinyId": "1791",
        "message": "Disk usage 95% on db-eu-3",
        "status": "open",
        "acknowledged": False,
        "snoozed": False,
        "priority": "P2",
        "owner": "",
        "createdAt": "2025-03-04T08:22:01.337Z",
        "updatedAt": "2025-03-04T09:03:40.2Z",
        **fields,
    }


def record(alert: Any, **kwargs: Any) -> TicketRecord:
    return alert_to_record(alert, **kwargs)


def test_capture_alert_maps_field_by_field() -> None:
    raw = capture_alert()
    r = record(raw)
    assert r.external_id == "b7da6303-0da4-43e2-8e21-9e22faedc594-1637756080926"
    assert r.key == "#163"
    assert r.title == "1234"
    assert r.status is TicketStatus.OPEN
    assert r.raw_status == "open"
    assert r.priority is Priority.P3
    assert r.raw_priority == "P3"
    assert r.created_at == datetime(2021, 11, 24, 12, 14, 40, 926000, tzinfo=UTC)
    assert r.updated_at == datetime(2021, 11, 24, 12, 14, 41, 30000, tzinfo=UTC)  # "41.03Z"
    assert r.assignee is None  # owner is "" in the capture
    assert r.group is None
    assert r.requester is None
    assert r.asset == "192.168.x.x"  # no entity, so the source
    assert r.resolved_at is None
    assert r.first_response_at is None
    assert r.vendor_due_at is None
    assert r.vendor_breached is None
    assert r.url is None  # no ui_url configured; never the capture's api.opsgenie.com links
    assert r.raw == raw


def test_capture_alert_links_to_the_configured_ui() -> None:
    r = record(capture_alert(), ui_url="https://acme.app.opsgenie.com/")
    assert r.url == (
        "https://acme.app.opsgenie.com/alert/detail/"
        "b7da6303-0da4-43e2-8e21-9e22faedc594-1637756080926/details"
    )


@pytest.mark.parametrize(
    ("fields", "word", "expected"),
    [
        ({}, "open", TicketStatus.OPEN),
        ({"acknowledged": True}, "acknowledged", TicketStatus.OPEN),
        ({"snoozed": True}, "snoozed", TicketStatus.PENDING),
        ({"snoozed": True, "acknowledged": True}, "snoozed", TicketStatus.PENDING),
        ({"status": "closed"}, "closed", TicketStatus.RESOLVED),
        (
            {"status": "closed", "snoozed": True, "acknowledged": True},
            "closed",
            TicketStatus.RESOLVED,
        ),
        ({"status": "Closed"}, "closed", TicketStatus.RESOLVED),
        ({"status": "archived"}, "archived", TicketStatus.OPEN),
    ],
)
def test_status_folds_three_fields_into_one_word(
    fields: dict[str, Any], word: str, expected: TicketStatus
) -> None:
    r = record(minimal(**fields))
    assert (r.raw_status, r.status) == (word, expected)
    assert raw_status(minimal(**fields)) == word


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("P1", Priority.P1),
        ("P2", Priority.P2),
        ("P3", Priority.P3),
        ("P4", Priority.P4),
        ("P5", Priority.P5),
        ("p4", Priority.P4),
        ("P9", None),
    ],
)
def test_priority_is_verbatim(raw: str, expected: Priority | None) -> None:
    r = record(minimal(priority=raw))
    assert (r.priority, r.raw_priority) == (expected, raw)


def test_missing_priority_is_opsgenies_default_p3() -> None:
    r = record(minimal(priority=None))
    assert (r.priority, r.raw_priority) == (Priority.P3, None)


def test_ack_and_close_times_are_durations_since_creation() -> None:
    acked = record(
        minimal(acknowledged=True, report={"ackTime": 431000, "acknowledgedBy": "jo@acme.example"})
    )
    assert acked.first_response_at == CREATED + timedelta(seconds=431)
    assert acked.resolved_at is None
    closed = record(
        minimal(status="closed", acknowledged=True, report={"ackTime": 1500, "closeTime": 3600000})
    )
    assert closed.first_response_at == CREATED + timedelta(milliseconds=1500)
    assert closed.resolved_at == CREATED + timedelta(hours=1)
    # A report time without the matching state (or a nonsense value) is not trusted.
    stale = record(minimal(acknowledged=False, report={"ackTime": 1000, "closeTime": 2000}))
    assert (stale.first_response_at, stale.resolved_at) == (None, None)
    odd = record(minimal(acknowledged=True, report={"ackTime": "soon"}))
    assert odd.first_response_at is None


def test_owner_entity_and_team_names() -> None:
    r = record(
        minimal(owner=" jo.kim@acme.example ", entity="db-eu-3", source="prometheus"),
    )
    assert (r.assignee, r.asset) == ("jo.kim@acme.example", "db-eu-3")
    team = "4513b7ea-3b91-438f-b7e4-e3e54af9147c"
    alert = minimal(
        responders=[
            {"type": "user", "id": "u-1"},
            {"type": "team", "id": "unknown-team"},
            {"type": "team", "id": team},
        ]
    )
    assert team_ids(alert) == ["unknown-team", team]
    assert record(alert, team_names={team: "Database"}).group == "Database"
    assert record(alert).group is None
    named = minimal(responders=[{"type": "team", "id": team, "name": "DB Oncall"}])
    assert record(named, team_names={team: "Database"}).group == "DB Oncall"


def test_fraction_digits_one_to_three() -> None:
    for text, micros in (("40.9Z", 900000), ("40.93Z", 930000), ("40.926Z", 926000)):
        r = record(minimal(updatedAt=f"2025-03-04T09:00:{text}"))
        assert r.updated_at == datetime(2025, 3, 4, 9, 0, 40, micros, tzinfo=UTC)


def test_key_and_title_fall_back() -> None:
    r = record(minimal(tinyId=None, message="  ", updatedAt=None))
    assert r.key == r.external_id
    assert r.title == "(no message)"
    assert r.updated_at == CREATED


def test_overrides_win_over_the_built_in_mapping() -> None:
    statuses = status_overrides({"Acknowledged": "pending", "closed": "CLOSED"})
    priorities = priority_overrides({"p5": "P4", "P9": "p1"})
    kw: dict[str, Any] = {"status_map": statuses, "priority_map": priorities}
    assert record(minimal(acknowledged=True), **kw).status is TicketStatus.PENDING
    assert record(minimal(status="closed"), **kw).status is TicketStatus.CLOSED
    assert record(minimal(), **kw).status is TicketStatus.OPEN
    assert record(minimal(priority="P5"), **kw).priority is Priority.P4
    assert record(minimal(priority="P9"), **kw).priority is Priority.P1
    assert record(minimal(priority="P2"), **kw).priority is Priority.P2


@pytest.mark.parametrize(
    "bad",
    [{"open": "bogus"}, {"open": None}, {"closed": "done"}, "open=pending", ["open"]],
)
def test_invalid_status_override_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="status_map"):
        status_overrides(bad)


@pytest.mark.parametrize("bad", [{"P1": "P0"}, {"P1": "urgent"}, {"P1": 1}])
def test_invalid_priority_override_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="priority_map"):
        priority_overrides(bad)


def test_empty_overrides_are_nothing() -> None:
    assert status_overrides(None) == {} and status_overrides({}) == {}
    assert priority_overrides("") == {}


@pytest.mark.parametrize(
    "alert",
    [
        "not a dict",
        minimal(id=None),
        minimal(id=""),
        minimal(id=163),
        minimal(status=None),
        minimal(status=""),
        minimal(priority=1),
        minimal(createdAt=None),
        minimal(createdAt="2025-03-04 08:22:01"),
        minimal(updatedAt="yesterday"),
    ],
)
def test_malformed_alerts_are_bad_payload(alert: Any) -> None:
    with pytest.raises(BadPayload):
        record(alert)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(text: str) -> None:
    alert = minimal(
        message=text,
        owner=text,
        entity=text,
        responders=[{"type": "team", "id": "t", "name": text}],
    )
    r = record(alert)
    for value in (r.title, r.assignee, r.asset, r.group, r.raw_status):
        assert value is None or not has_forbidden(value)

"""Jira issue (+ JSM SLA values) → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload
from connectors.jira.mapping import (
    SlaState,
    conversation,
    field_text,
    issue_to_record,
    issue_url,
    jira_offset,
    jira_time,
    normalise_status,
    sla_state,
)
from connectors.records import Priority, TicketStatus, Visibility
from tests.hostile import HOSTILE_STRINGS, has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "jira-search.json"
BASE = "https://acme.atlassian.net"
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def capture_issues() -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads(CAPTURE.read_text(encoding="utf-8"))["issues"]
    return issues


def minimal(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "summary": "Payroll app returns 502 for EU users",
        "status": {
            "id": "10012",
            "name": "Work in progress",
            "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"},
        },
        "priority": {"id": "2", "name": "High"},
        "assignee": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Sam Po"},
        "reporter": {"accountId": "qm:3c1f", "displayName": "Alex Chen"},
        "created": "2025-03-04T08:40:12.511+0000",
        "updated": "2025-03-04T09:05:02.004+0000",
        "resolutiondate": None,
        "project": {"id": "10001", "key": "ITSD", "name": "IT Service Desk"},
        **fields,
    }
    return {"id": "48211", "key": "ITSD-1932", "fields": values}


def status(name: str, category: str) -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": category}}


def record(issue: Any, **kwargs: Any) -> Any:
    return issue_to_record(issue, base_url=BASE, now=NOW, **kwargs)


def cycle(**values: Any) -> dict[str, Any]:
    """A JSM cycle whose instants are given as datetimes (converted to DateDTOs)."""
    return {
        k: {"epochMillis": int(v.timestamp() * 1000), "friendly": "Today"}
        if isinstance(v, datetime)
        else v
        for k, v in values.items()
    }


def test_capture_issues_map_field_by_field() -> None:
    first, second = capture_issues()
    a, b = record(first), record(second)

    assert (a.external_id, a.key, a.title) == ("21422", "COMPANYSA-28", "Issue for demo")
    assert (a.status, a.raw_status) == (TicketStatus.RESOLVED, "Done")
    assert (a.priority, a.raw_priority) == (Priority.P1, "Highest")
    # 2023-01-29T20:47:43.378+0200 and 2023-05-01T00:24:14.022+0300
    assert a.created_at == datetime(2023, 1, 29, 18, 47, 43, 378000, tzinfo=UTC)
    assert a.updated_at == datetime(2023, 4, 30, 21, 24, 14, 22000, tzinfo=UTC)

    assert (b.external_id, b.key, b.title) == ("21404", "COMPANYSA-14", "You have to work")
    assert (b.status, b.raw_status) == (TicketStatus.RESOLVED, "Done")
    assert (b.priority, b.raw_priority) == (Priority.P2, "High")
    # 2023-01-26T19:50:03.576+0200 and 2023-04-09T18:11:15.295+0300
    assert b.created_at == datetime(2023, 1, 26, 17, 50, 3, 576000, tzinfo=UTC)
    assert b.updated_at == datetime(2023, 4, 9, 15, 11, 15, 295000, tzinfo=UTC)

    for r in (a, b):
        assert r.assignee == "Example User"
        assert r.requester == "Example User"
        assert r.group == "COMPANYSA"
        assert r.asset is None
        assert r.resolved_at is None  # the capture's Done issues carry no resolutiondate
        assert (r.vendor_due_at, r.vendor_breached, r.first_response_at) == (None, None, None)
    # Built from our base URL, never from the capture's api.atlassian.com "self" link.
    assert a.url == "https://acme.atlassian.net/browse/COMPANYSA-28"
    assert b.url == "https://acme.atlassian.net/browse/COMPANYSA-14"
    # The raw payload keeps everything but the comments: they travel as entries.
    assert a.raw == {
        **first,
        "fields": {k: v for k, v in first["fields"].items() if k != "comment"},
    }
    assert (a.description, b.description) == (None, "You better be created")


def test_capture_comments_become_public_entries() -> None:
    first, _ = capture_issues()
    (entry,) = conversation(
        first["id"],
        first["fields"]["comment"]["comments"],
        first["fields"]["attachment"],
        api_root=BASE,
    )
    assert (entry.ticket_external_id, entry.external_id) == ("21422", "18253")
    assert (entry.visibility, entry.body, entry.author) == (
        Visibility.PUBLIC,
        "Dummy link 2",
        "Example User",
    )
    assert entry.raw_format == "adf" and '"Dummy link 2"' in entry.raw_body
    assert entry.created_at == entry.updated_at == datetime(2023, 2, 14, 21, 40, 44, 939000, UTC)


@pytest.mark.parametrize(
    ("name", "category", "expected"),
    [
        ("Open", "new", TicketStatus.NEW),
        ("To Do", "new", TicketStatus.NEW),
        ("Waiting for support", "new", TicketStatus.NEW),
        ("Work in progress", "indeterminate", TicketStatus.OPEN),
        ("Waiting for customer", "indeterminate", TicketStatus.PENDING),
        ("Pending", "indeterminate", TicketStatus.PENDING),
        ("Waiting for approval", "new", TicketStatus.PENDING),
        ("Resolved", "done", TicketStatus.RESOLVED),
        ("Done", "done", TicketStatus.RESOLVED),
        ("Closed", "done", TicketStatus.CLOSED),
        ("Canceled", "done", TicketStatus.CLOSED),
        ("Cancelled", "done", TicketStatus.CLOSED),
        ("Pending closure", "done", TicketStatus.RESOLVED),
        ("Triage", "undefined", TicketStatus.OPEN),
        ("Triage", None, TicketStatus.OPEN),
    ],
)
def test_status_normalisation(name: str, category: str | None, expected: TicketStatus) -> None:
    assert normalise_status(name, category) is expected
    r = record(minimal(status=status(name, category) if category else {"name": name}))
    assert (r.status, r.raw_status) == (expected, name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Highest", Priority.P1),
        ("High", Priority.P2),
        ("Medium", Priority.P3),
        ("Low", Priority.P4),
        ("Lowest", Priority.P5),
        ("Blocker", Priority.P1),
        ("Trivial", Priority.P5),
        ("Someday", None),
    ],
)
def test_priority_mapping(name: str, expected: Priority | None) -> None:
    r = record(minimal(priority={"id": "9", "name": name}))
    assert (r.priority, r.raw_priority) == (expected, name)


def test_issue_without_priority_assignee_or_summary() -> None:
    r = record(minimal(priority=None, assignee=None, summary="  "))
    assert (r.priority, r.raw_priority, r.assignee) == (None, None, None)
    assert r.title == "(no summary)"


def test_resolutiondate_and_updated_fallback() -> None:
    r = record(minimal(resolutiondate="2025-03-04T10:00:00.000+0100", updated=None))
    assert r.resolved_at == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert r.updated_at == datetime(2025, 3, 4, 8, 40, 12, 511000, tzinfo=UTC)


def test_group_field_wins_over_the_project_key_when_set() -> None:
    team = {"id": "5a1b", "name": "Network Ops", "title": "Network Ops"}
    assert record(minimal(customfield_10001=team), group_field="customfield_10001").group == (
        "Network Ops"
    )
    assert record(minimal(customfield_10001=None), group_field="customfield_10001").group == "ITSD"
    assert record(minimal(customfield_10001=team)).group == "ITSD"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EMEA desk", "EMEA desk"),
        ("  ", None),
        (42, "42"),
        ({"self": "x", "value": "Tier 2", "id": "10020"}, "Tier 2"),
        ({"displayName": "Sam Po"}, "Sam Po"),
        ([{"value": "Network"}, {"value": "Firewall"}], "Network, Firewall"),
        ({"id": "1"}, None),
        (True, None),
        (None, None),
    ],
)
def test_field_text(value: Any, expected: str | None) -> None:
    assert field_text(value) == expected


def test_sla_state_with_nothing_known() -> None:
    assert sla_state(None, NOW) == SlaState()
    assert sla_state([], NOW) == SlaState()
    assert sla_state(["junk", 3], NOW) == SlaState()


def test_sla_state_takes_the_earliest_running_breach_time() -> None:
    values = [
        {
            "name": "Time to resolution",
            "ongoingCycle": cycle(breachTime=NOW + timedelta(hours=3), breached=False),
            "completedCycles": [],
        },
        {
            "name": "Time to close after resolution",
            "ongoingCycle": cycle(breachTime=NOW + timedelta(hours=1), breached=False),
        },
        {
            "name": "Time waiting on vendor",
            "ongoingCycle": cycle(breachTime=NOW + timedelta(minutes=5), paused=True),
        },
    ]
    assert sla_state(values, NOW) == SlaState(NOW + timedelta(hours=1), False, None)


def test_sla_breach_from_flag_from_completed_cycle_or_from_the_clock() -> None:
    later = NOW + timedelta(hours=2)
    flagged = [{"ongoingCycle": cycle(breachTime=later, breached=True)}]
    assert sla_state(flagged, NOW) == SlaState(later, True, None)
    completed = [
        {"ongoingCycle": cycle(breachTime=later, breached=False)},
        {"completedCycles": [cycle(stopTime=NOW, breached=False), cycle(breached=True)]},
    ]
    assert sla_state(completed, NOW).breached is True
    overdue = [{"ongoingCycle": cycle(breachTime=NOW - timedelta(minutes=1), breached=False)}]
    assert sla_state(overdue, NOW) == SlaState(NOW - timedelta(minutes=1), True, None)
    met = [{"completedCycles": [cycle(stopTime=NOW, breached=False)]}]
    assert sla_state(met, NOW) == SlaState(None, False, None)


def test_first_response_from_the_first_response_sla() -> None:
    replied = NOW - timedelta(hours=2)
    values = [
        {"name": "Time to resolution", "completedCycles": [cycle(stopTime=NOW, breached=False)]},
        {
            "name": "Time to first response",
            "completedCycles": [
                cycle(stopTime=replied + timedelta(hours=1)),
                cycle(stopTime=replied, breached=False),
            ],
        },
    ]
    assert sla_state(values, NOW).first_response_at == replied


def test_sla_instants_fall_back_to_iso8601_and_skip_junk() -> None:
    values = [
        {"ongoingCycle": {"breachTime": {"iso8601": "2025-03-04T12:40:12+0200"}}},
        {"ongoingCycle": {"breachTime": {"epochMillis": "soon"}}},
        {"ongoingCycle": {"breachTime": {"iso8601": "Today 12:40"}}},
        {"ongoingCycle": "broken", "completedCycles": "broken"},
    ]
    assert sla_state(values, NOW) == SlaState(datetime(2025, 3, 4, 10, 40, 12, tzinfo=UTC), False)


def test_sla_reaches_the_record_and_its_raw_payload() -> None:
    due = NOW + timedelta(minutes=30)
    values = [{"name": "Time to resolution", "ongoingCycle": cycle(breachTime=due, breached=False)}]
    r = record(minimal(), slas=values)
    assert (r.vendor_due_at, r.vendor_breached) == (due, False)
    assert r.raw["sla"] == values


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("2023-05-01T00:24:14.022+0300", 180),
        ("2025-03-04T09:12:44.123-0530", -330),
        ("2025-03-04T09:12:44.123+01:00", 60),
        ("2025-03-04T09:12:44Z", 0),
    ],
)
def test_jira_offset(text: str, minutes: int) -> None:
    assert jira_offset(text) == timezone(timedelta(minutes=minutes))


def test_jira_offset_of_text_without_one() -> None:
    assert jira_offset("2025-03-04 09:12") is None


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("ITSD-7", "https://acme.atlassian.net/browse/ITSD-7"),
        ("OPS_2-812", "https://acme.atlassian.net/browse/OPS_2-812"),
        ("../../logout", None),
        ("ITSD-7?x=1", None),
        ("itsd-7", None),
    ],
)
def test_issue_url_only_for_jira_shaped_keys(key: str, url: str | None) -> None:
    assert issue_url(BASE + "/", key) == url


@pytest.mark.parametrize(
    "issue",
    [
        "not an object",
        {"key": "ITSD-1", "fields": minimal()["fields"]},
        {"id": True, "key": "ITSD-1", "fields": minimal()["fields"]},
        {"id": "1", "fields": minimal()["fields"]},
        {"id": "1", "key": "ITSD-1"},
        minimal(status=None),
        minimal(status={"name": ""}),
        minimal(created=None),
        minimal(created="2025-03-04 08:40"),
        minimal(updated="Today 12:24 AM"),
    ],
)
def test_malformed_issues_are_bad_payload(issue: Any) -> None:
    with pytest.raises(BadPayload):
        record(issue)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_cleaned(text: str) -> None:
    person = {"displayName": text}
    r = record(
        minimal(summary=text, assignee=person, reporter=person, customfield_10001={"name": text}),
        group_field="customfield_10001",
    )
    for value in (r.title, r.assignee, r.requester, r.group):
        assert value is not None and not has_forbidden(value)


def test_sla_custom_fields_of_the_issue_itself_give_the_clocks() -> None:
    due = NOW + timedelta(hours=1)
    replied = NOW - timedelta(minutes=40)
    issue = minimal(
        customfield_10071={"ongoingCycle": cycle(breachTime=due, breached=False)},
        customfield_10072={
            "name": "Time to first response",
            "completedCycles": [cycle(stopTime=replied, breached=False)],
        },
        customfield_10099=None,
    )
    fields = {
        "customfield_10071": "Time to resolution",
        "customfield_10072": "Time to first response",
        "customfield_10099": "Time to close after resolution",
    }
    r = record(issue, sla_fields=fields)
    assert (r.vendor_due_at, r.vendor_breached, r.first_response_at) == (due, False, replied)
    assert [v["name"] for v in r.raw["sla"]] == ["Time to resolution", "Time to first response"]
    plain = record(minimal(), sla_fields=fields)
    assert (plain.vendor_due_at, plain.vendor_breached) == (None, None) and "sla" not in plain.raw


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-01T00:24:14.022+0300", datetime(2023, 4, 30, 21, 24, 14, 22000, tzinfo=UTC)),
        ("2025-03-04T09:12:44.123Z", datetime(2025, 3, 4, 9, 12, 44, 123000, tzinfo=UTC)),
        ("2025-03-04T09:12:44.123456789+0100", datetime(2025, 3, 4, 8, 12, 44, 123456, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_jira_time_reads_jiras_shape_fast_and_the_rest_as_before(
    text: str | None, expected: datetime | None
) -> None:
    assert jira_time(text) == expected


@pytest.mark.parametrize("text", ["2025-03-04 08:40", "2025-03-04T08:40:00.000", "Today 12:24 AM"])
def test_jira_time_refuses_times_without_an_offset(text: str) -> None:
    with pytest.raises(BadPayload):
        jira_time(text)

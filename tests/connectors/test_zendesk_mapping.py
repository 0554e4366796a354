"""Zendesk ticket → TicketRecord as a pure function, including the real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus, Visibility
from connectors.zendesk.mapping import (
    NameCache,
    comment_to_entry,
    index_by_id,
    sla_state,
    ticket_to_record,
)
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


# -- comments ---------------------------------------------------------------------------


def comment(**fields: Any) -> dict[str, Any]:
    return {
        "id": 39016700000001,
        "type": "Comment",
        "author_id": 1,
        "body": "Reseated the tray.",
        "html_body": '<div class="zd-comment"><p>Reseated the tray.</p></div>',
        "plain_body": "Reseated the tray.",
        "public": True,
        "attachments": [],
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": "2025-03-04T08:40:00Z",
        **fields,
    }


def entry(raw: Any, users: Any = None) -> Any:
    return comment_to_entry(raw, ticket_id=88214, users=index_by_id(users or []), base_url=BASE)


def test_comment_maps_field_by_field() -> None:
    e = entry(comment(), [{"id": 1, "name": "Kim Lee"}])
    assert (e.ticket_external_id, e.external_id) == ("88214", "39016700000001")
    assert e.created_at == datetime(2025, 3, 4, 8, 40, tzinfo=UTC)
    assert (e.visibility, e.author, e.body) == (Visibility.PUBLIC, "Kim Lee", "Reseated the tray.")
    assert (e.raw_format, e.raw_body) == ("html", comment()["html_body"])
    assert e.updated_at is None and e.attachments == ()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"public": True}, Visibility.PUBLIC),
        ({"public": False}, Visibility.INTERNAL),
        ({"public": None}, Visibility.INTERNAL),
        ({"author_id": -1}, Visibility.SYSTEM),
        ({"via": {"channel": "rule"}}, Visibility.SYSTEM),
        ({"via": {"channel": "merge"}, "public": True}, Visibility.SYSTEM),
        ({"via": "odd"}, Visibility.PUBLIC),
    ],
)
def test_comment_visibility(fields: dict[str, Any], expected: Visibility) -> None:
    assert entry(comment(**fields)).visibility is expected


def test_event_stream_comment_without_plain_body_uses_body_then_html() -> None:
    from_body = entry(comment(plain_body=None, body="Plain **words**"))
    assert from_body.body == "Plain **words**"
    from_html = entry(
        comment(
            plain_body=None,
            body=None,
            html_body="<p>Line <b>one</b></p><ul><li>a</li><li>b</li></ul><script>x()</script>",
        )
    )
    assert "Line one" in from_html.body and "a" in from_html.body
    assert "<" not in from_html.body and "x()" not in from_html.body
    text_only = entry(comment(html_body=None))
    assert (text_only.raw_format, text_only.raw_body) == ("text", "Reseated the tray.")


def test_comment_author_falls_back_to_the_id_and_system_is_named() -> None:
    assert entry(comment(author_id=7)).author == "user 7"
    assert entry(comment(author_id=-1)).author == "Zendesk"
    assert entry(comment(author_id=None)).author is None


def test_attachments_are_metadata_with_urls_built_from_our_host() -> None:
    rows = [
        {
            "id": 26915300000001,
            "file_name": "scan.pdf",
            "size": 4096,
            "content_type": "application/pdf",
            "content_url": "https://evil.example/steal",
        },
        {"id": "x"},
        "junk",
        {"id": 26915300000012, "file_name": "", "size": "big", "content_type": None},
    ]
    first, second = entry(comment(attachments=rows)).attachments
    assert (first.name, first.size, first.content_type) == ("scan.pdf", 4096, "application/pdf")
    assert first.url == f"{BASE}/api/v2/attachments/26915300000001.json"
    assert (second.name, second.size, second.content_type) == (
        "attachment 26915300000012",
        None,
        None,
    )


@pytest.mark.parametrize(
    "raw",
    ["nope", comment(id=None), comment(id="1"), comment(created_at=None), comment(created_at=3)],
)
def test_malformed_comments_are_bad_payload(raw: Any) -> None:
    with pytest.raises(BadPayload):
        entry(raw)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_comment_text_is_cleaned(text: str) -> None:
    raw = comment(
        body=text,
        plain_body=text,
        html_body=f"<p>{text}</p>",
        attachments=[{"id": 5, "file_name": text, "size": 1, "content_type": text}],
    )
    e = entry(raw, [{"id": 1, "name": text}])
    for value in (e.body, e.raw_body, e.author or "", e.attachments[0].name):
        assert not has_forbidden(value)


def test_description_is_plain_text() -> None:
    r = record(minimal(description="Printer on floor 3\r\n\r\n\r\n\r\nshows 49.4C02  \n"))
    assert r.description == "Printer on floor 3\n\nshows 49.4C02"
    assert record(minimal()).description is None


def test_name_cache_is_bounded_and_learns_names_only() -> None:
    cache = NameCache(limit=2)
    cache.learn([{"id": 1, "name": "a", "email": "x@y"}, {"id": 2, "name": "b"}, {"id": 3}, "x"])
    assert list(cache) == [2, 3]
    assert cache[2] == {"name": "b"} and cache[3] == {"name": None}
    assert cache.missing([3, 4, 4, -1, "5", True]) == [4]

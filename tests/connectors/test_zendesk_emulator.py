"""The Zendesk emulator on the wire: list shapes, search export, comments, events, scale."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest

from connectors.emulators.base import WorldAttachment, WorldEntry, WorldTicket
from connectors.emulators.zendesk import (
    EVENTS_PATH,
    EXPORT_PATH,
    SEARCH_COUNT_PATH,
    SEARCH_EXPORT_PATH,
    SHOW_MANY_PATH,
    ZendeskEmulator,
)
from connectors.records import Priority, TicketStatus
from tests.connectors.test_zendesk import NOW, world

CAPTURE = Path(__file__).parent / "captures" / "zendesk-ticket.json"
CAPTURE_KEYS = frozenset(json.loads(CAPTURE.read_text(encoding="utf-8"))["ticket"])
AUTH = httpx2.BasicAuth("desk@acme.example/token", "demo-token")


def client_for(emu: ZendeskEmulator) -> httpx2.Client:
    return httpx2.Client(base_url=emu.base_url, auth=AUTH)


@pytest.fixture
def emu() -> Iterator[ZendeskEmulator]:
    with ZendeskEmulator() as emulator:
        yield emulator


def test_every_list_answer_carries_the_captures_keys(emu: ZendeskEmulator) -> None:
    key = emu.put_ticket(world("a", asset="PRN-1"))
    ticket_id = int(key[1:])
    with client_for(emu) as client:
        shown = client.get(f"/api/v2/tickets/{ticket_id}.json").json()["ticket"]
        many = client.get(SHOW_MANY_PATH, params={"ids": ticket_id}).json()["tickets"]
        listed = client.get("/api/v2/tickets.json").json()["tickets"]
        export = client.get(EXPORT_PATH, params={"start_time": 0}).json()["tickets"]
        search = client.get(
            SEARCH_EXPORT_PATH, params={"query": "status<solved", "filter[type]": "ticket"}
        ).json()["results"]
    assert set(shown) == set(many[0]) == set(listed[0]) == CAPTURE_KEYS
    assert set(export[0]) == CAPTURE_KEYS | {"generated_timestamp"}
    assert set(search[0]) == CAPTURE_KEYS | {"result_type"}
    assert search[0]["result_type"] == "ticket"


def test_search_export_orders_by_created_descending_and_pages_by_cursor(
    emu: ZendeskEmulator,
) -> None:
    same = NOW - timedelta(days=10)
    for i in range(5):
        emu.put_ticket(world(f"o{i}", created_at=NOW - timedelta(days=i)))
    twins = [emu.put_ticket(world(f"twin{i}", created_at=same)) for i in range(2)]
    emu.put_ticket(world("solved", status=TicketStatus.RESOLVED))
    params = {"query": "status<solved", "filter[type]": "ticket", "page[size]": "3"}
    seen: list[tuple[str, int]] = []
    with client_for(emu) as client:
        body = client.get(SEARCH_EXPORT_PATH, params=params).json()
        while True:
            seen += [(r["created_at"], r["id"]) for r in body["results"]]
            assert body["links"]["prev"] is None and "count" not in body
            if not body["meta"]["has_more"]:
                assert body["meta"]["after_cursor"] is None and body["links"]["next"] is None
                break
            after = body["meta"]["after_cursor"]
            assert body["links"]["next"].startswith(f"{emu.base_url}{SEARCH_EXPORT_PATH}?")
            body = client.get(SEARCH_EXPORT_PATH, params={**params, "page[after]": after}).json()
        count = client.get(SEARCH_COUNT_PATH, params={"query": "type:ticket status<solved"})
        keyset = client.get(
            SEARCH_EXPORT_PATH,
            params={**params, "query": f"status<solved created<={seen[4][0]}"},
        ).json()
    assert len(seen) == 7
    assert seen == sorted(seen, key=lambda row: (-_ts(row[0]), row[1]))
    assert [f"#{i}" for _, i in seen[5:]] == twins  # same second: id ascending
    assert count.json() == {"count": 7}
    assert [r["id"] for r in keyset["results"]] == [i for _, i in seen[4:7]]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_search_export_refusals(emu: ZendeskEmulator) -> None:
    now = [datetime.now(UTC)]
    emu.clock = lambda: now[0]
    for i in range(3):
        emu.put_ticket(world(f"o{i}"))
    params = {"query": "status<solved", "filter[type]": "ticket", "page[size]": "1"}
    with client_for(emu) as client:
        typed = client.get(
            SEARCH_EXPORT_PATH, params={**params, "query": "type:ticket status<solved"}
        )
        untyped = client.get(SEARCH_EXPORT_PATH, params={"query": "status<solved"})
        after = client.get(SEARCH_EXPORT_PATH, params=params).json()["meta"]["after_cursor"]
        other = client.get(
            SEARCH_EXPORT_PATH, params={**params, "query": "status:open", "page[after]": after}
        )
        now[0] += timedelta(hours=1, seconds=1)
        expired = client.get(SEARCH_EXPORT_PATH, params={**params, "page[after]": after})
    for answer in (typed, untyped, other, expired):
        assert answer.status_code == 400 and answer.json()["error"] == "invalid"
    assert "expired" in expired.json()["description"]


def test_show_many_limits_ids_and_hides_deleted(emu: ZendeskEmulator) -> None:
    keys = [emu.put_ticket(world(f"t{i}")) for i in range(3)]
    emu.delete_ticket("t1")
    ids = ",".join(k[1:] for k in keys)
    with client_for(emu) as client:
        body = client.get(
            SHOW_MANY_PATH, params={"ids": ids, "include": "users,groups,slas"}
        ).json()
        too_many = client.get(SHOW_MANY_PATH, params={"ids": ",".join(map(str, range(1, 102)))})
    assert [f"#{t['id']}" for t in body["tickets"]] == [keys[0], keys[2]]
    assert all("slas" in t for t in body["tickets"])
    assert {u["name"] for u in body["users"]} == {"Maria Jensen", "Kim Lee"}
    assert [g["name"] for g in body["groups"]] == ["Desktop Support"]
    assert too_many.status_code == 400


def test_comments_page_by_cursor_and_sideload_authors(emu: ZendeskEmulator) -> None:
    key = emu.put_ticket(world("a"))
    for i in range(150):
        author = "Kim Lee" if i % 2 else "Maria Jensen"
        emu.put_entry(
            "a", WorldEntry(f"e{i}", author, f"comment {i}", NOW - timedelta(minutes=150 - i))
        )
    emu.put_entry(
        "a",
        WorldEntry(
            "file",
            "Kim Lee",
            "log attached",
            NOW,
            attachments=(WorldAttachment("a.log", 9, "text/plain"),),
        ),
    )
    path = f"/api/v2/tickets/{key[1:]}/comments.json"
    with client_for(emu) as client:
        first = client.get(path, params={"page[size]": 100, "include": "users"}).json()
        second = client.get(
            path, params={"page[size]": 100, "page[after]": first["meta"]["after_cursor"]}
        ).json()
        offset = client.get(path).json()
        too_big = client.get(path, params={"page[size]": 101})
    assert len(first["comments"]) == 100 and first["meta"]["has_more"] is True
    assert {u["name"] for u in first["users"]} == {"Kim Lee", "Maria Jensen"}
    assert len(second["comments"]) == 51 and second["meta"]["has_more"] is False
    assert second["comments"][-1]["attachments"][0]["file_name"] == "a.log"
    assert {
        "id",
        "author_id",
        "body",
        "html_body",
        "plain_body",
        "public",
        "attachments",
        "via",
        "created_at",
        "type",
        "audit_id",
        "metadata",
    } == set(first["comments"][0])
    assert offset["count"] == 151 and "next_page" in offset and len(offset["comments"]) == 100
    assert too_big.status_code == 400


def test_ticket_events_carry_comments_only_with_the_sideload(emu: ZendeskEmulator) -> None:
    emu.put_ticket(world("a"))
    emu.put_entry("a", WorldEntry("e", "Kim Lee", "hello", NOW, visibility="internal"))
    emu.set_native("a", status="hold")
    with client_for(emu) as client:
        plain = client.get(EVENTS_PATH, params={"start_time": 0}).json()
        full = client.get(EVENTS_PATH, params={"start_time": 0, "include": "comment_events"}).json()
        later = client.get(EVENTS_PATH, params={"start_time": full["end_time"] + 1}).json()
    assert plain["count"] == full["count"] == 3 and full["end_of_stream"] is True
    assert [e["event_type"] for e in full["ticket_events"]] == ["Audit"] * 3
    assert full["end_time"] == full["ticket_events"][-1]["timestamp"]
    assert f"start_time={full['end_time']}" in full["next_page"]
    comment = full["ticket_events"][1]["child_events"][0]
    assert (comment["event_type"], comment["body"], comment["public"]) == (
        "Comment",
        "hello",
        False,
    )
    assert comment["audit_id"] == full["ticket_events"][1]["id"]
    assert plain["ticket_events"][1]["child_events"][0] == {
        "id": comment["id"],
        "event_type": "Comment",
        "comment_present": True,
        "comment_public": False,
    }
    change = full["ticket_events"][2]["child_events"][0]
    assert (change["field_name"], change["previous_value"], change["value"]) == (
        "status",
        "open",
        "hold",
    )
    assert later == {
        "ticket_events": [],
        "next_page": None,
        "count": 0,
        "end_of_stream": True,
        "end_time": None,
    }


def test_export_limit_answers_429_with_retry_after() -> None:
    with ZendeskEmulator(export_requests_per_minute=1) as emu, client_for(emu) as client:
        ok = client.get(EVENTS_PATH, params={"start_time": 0})
        limited = client.get(EXPORT_PATH, params={"start_time": 0})
    assert ok.status_code == 200
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"] == "APIRateLimitExceeded"


def bulk(n: int) -> Iterator[WorldTicket]:
    """``n`` tickets: the newest 1,000 changed within the last day, the rest months ago."""
    statuses = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED)
    for i in range(n):
        yield WorldTicket(
            ref=f"t{i}",
            title=f"Ticket {i}",
            status=statuses[i % 4],
            priority=Priority.P3,
            created_at=NOW - timedelta(minutes=i),
            updated_at=NOW - timedelta(minutes=i if i < 1000 else 200_000 + i),
            requester=f"Requester {i % 300}",
            assignee=f"Agent {i % 20}",
            group=f"Group {i % 5}",
        )


def page_work(emu: ZendeskEmulator) -> int:
    """Index entries and tickets looked at to answer one page of each listing (no HTTP)."""
    from connectors.emulators.base import Request

    since = (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = base64.b64encode(b"desk@acme.example/token:demo-token").decode()
    auth = {"authorization": f"Basic {token}"}
    requests = [
        Request(
            "GET",
            EXPORT_PATH,
            {
                "start_time": [str(int(NOW.timestamp()) - 600)],
                "per_page": ["100"],
                "include": ["users,groups,slas"],
            },
            auth,
        ),
        Request(
            "GET",
            SEARCH_EXPORT_PATH,
            {"query": ["status<solved"], "filter[type]": ["ticket"], "page[size]": ["100"]},
            auth,
        ),
        Request(
            "GET",
            SEARCH_EXPORT_PATH,
            {
                "query": [f"status>=solved updated>{since}"],
                "filter[type]": ["ticket"],
                "page[size]": ["100"],
            },
            auth,
        ),
        Request("GET", SEARCH_COUNT_PATH, {"query": ["type:ticket status<solved"]}, auth),
    ]
    before = emu.examined
    for request in requests:
        assert emu._answer(request, NOW.timestamp()).status == 200
    return emu.examined - before


def test_a_page_costs_the_same_at_1000_and_100000_tickets() -> None:
    small, large = ZendeskEmulator(), ZendeskEmulator()
    small.put_tickets(bulk(1_000))
    large.put_tickets(bulk(100_000))  # bench/emulators.py prints how long this takes
    large.put_ticket(WorldTicket("one-more", "x", TicketStatus.OPEN, None, NOW, NOW))
    assert len(large._tickets) == 100_001
    # Unsolved pages and counts are a bisect and a slice; the solved-stage query snapshots
    # its matches, which scale with the window's activity (the same 500 rows in both
    # tenants here), not with the tenant's history.
    small_work, large_work = page_work(small), page_work(large)
    assert large_work <= small_work + 2, (small_work, large_work)  # "one-more" aside
    assert large_work < 1_000

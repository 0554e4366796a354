"""The Freshservice emulator's own wire behaviour: filter, conversations, keys, scale, latency."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors.emulators.base import Request, WorldAttachment, WorldEntry, WorldTicket
from connectors.emulators.freshservice import FILTER_PATH, TICKETS_PATH, FreshserviceEmulator
from connectors.records import Priority, TicketStatus
from tests.connectors.test_freshservice import NOW, world

CAPTURE = Path(__file__).parent / "captures" / "freshservice-tickets.json"
DAY = timedelta(days=1)
AUTH = "Basic " + base64.b64encode(b"demo-freshservice-key:X").decode()


def client(emu: FreshserviceEmulator) -> httpx2.Client:
    return httpx2.Client(base_url=emu.base_url, auth=(emu.api_key, "X"))


def query(text: str, **params: Any) -> dict[str, Any]:
    return {"query": f'"{text}"', **params}


def test_list_and_filter_rows_carry_exactly_the_captured_keys() -> None:
    captured = json.loads(CAPTURE.read_text(encoding="utf-8"))["tickets"]
    keys = {frozenset(t) for t in captured}
    assert len(keys) == 1
    with FreshserviceEmulator() as emu, client(emu) as http:
        emu.put_ticket(world("a"))
        listed = http.get(TICKETS_PATH).json()["tickets"]
        filtered = http.get(FILTER_PATH, params=query("status:2")).json()["tickets"]
    assert {frozenset(t) for t in listed} == keys
    assert {frozenset(t) for t in filtered} == keys


def test_filter_counts_and_answers_newest_created_first() -> None:
    with FreshserviceEmulator() as emu, client(emu) as http:
        for i in range(5):
            emu.put_ticket(world(f"t{i}", created_at=NOW - (5 - i) * DAY))
        emu.put_ticket(world("closed", status=TicketStatus.CLOSED))
        emu.put_ticket(world("custom"))
        emu.set_native("custom", status=7)
        emu.put_ticket(world("gone"))
        emu.delete_ticket("gone")
        body = http.get(FILTER_PATH, params=query("status:2 OR status:>6", per_page=3)).json()
        assert body["total"] == 6
        assert [t["subject"] for t in body["tickets"]] == [
            "Ticket custom",
            "Ticket t4",
            "Ticket t3",
        ]
        third = http.get(FILTER_PATH, params=query("status:2 OR status:>6", per_page=3, page=2))
        assert [t["subject"] for t in third.json()["tickets"]] == [
            "Ticket t2",
            "Ticket t1",
            "Ticket t0",
        ]
        assert "link" not in third.headers


def test_filter_dates_are_whole_days_and_inclusive() -> None:
    day = (NOW - 10 * DAY).replace(hour=0, minute=0, second=0)
    with FreshserviceEmulator() as emu, client(emu) as http:
        emu.put_ticket(world("morning", created_at=day + timedelta(minutes=1)))
        emu.put_ticket(world("evening", created_at=day + timedelta(hours=23, minutes=59)))
        emu.put_ticket(world("next", created_at=day + DAY))
        date = day.date().isoformat()
        text = f"status:2 AND created_at:>'{date}' AND created_at:<'{date}'"
        body = http.get(FILTER_PATH, params=query(text)).json()
    assert sorted(t["subject"] for t in body["tickets"]) == ["Ticket evening", "Ticket morning"]


def test_filter_mixes_and_or_and_parentheses_with_other_fields() -> None:
    with FreshserviceEmulator() as emu, client(emu) as http:
        emu.put_ticket(world("urgent", priority=Priority.P1))
        emu.put_ticket(world("low", priority=Priority.P4))
        emu.put_ticket(world("pending-urgent", priority=Priority.P1, status=TicketStatus.PENDING))
        text = "(status:2 OR status:3) AND priority:4"
        body = http.get(FILTER_PATH, params=query(text)).json()
    assert body["total"] == 2
    assert {t["subject"] for t in body["tickets"]} == {"Ticket urgent", "Ticket pending-urgent"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"query": "status:2"}, "query"),  # not in double quotes
        (query("colour:2"), "query"),
        (query("status:2 AND (priority:1"), "query"),
        (query("status:2 OR " * 60 + "status:3"), "query"),  # longer than 512 characters
        (query("status:2", page=11), "page"),
        (query("status:2", per_page=101), "per_page"),
        (query("status:2", include="stats"), "include"),
    ],
)
def test_filter_refusals_are_freshservice_validation_bodies(
    params: dict[str, Any], field: str
) -> None:
    with FreshserviceEmulator() as emu, client(emu) as http:
        answer = http.get(FILTER_PATH, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["description"] == "Validation failed"
    assert body["errors"][0]["field"] == field


def test_conversations_page_oldest_first_with_links_and_a_count() -> None:
    with FreshserviceEmulator() as emu, client(emu) as http:
        emu.put_ticket(world("a", updated_at=NOW - DAY))
        for i in range(5):
            emu.put_entry("a", WorldEntry(f"e{i}", "Kim Lee", f"note {i}", NOW - (5 - i) * DAY))
        path = f"{TICKETS_PATH}/{emu.ticket_id('a')}/conversations"
        first = http.get(path, params={"per_page": 2})
        second = http.get(first.links["next"]["url"])
        last = http.get(path, params={"per_page": 2, "page": 3})
    assert [c["body_text"] for c in first.json()["conversations"]] == ["note 0", "note 1"]
    assert first.json()["meta"] == {"count": 5}
    assert [c["body_text"] for c in second.json()["conversations"]] == ["note 2", "note 3"]
    assert "next" not in last.links


def test_put_entry_keeps_freshservices_shape_and_bumps_the_ticket() -> None:
    with FreshserviceEmulator() as emu, client(emu) as http:
        emu.put_ticket(world("a", requester="Maria Jensen", updated_at=NOW - DAY))
        reply_id = emu.put_entry(
            "a",
            WorldEntry(
                "r",
                "Maria Jensen",
                "see attached",
                NOW,
                attachments=(WorldAttachment("log.txt", 2048, "text/plain"),),
            ),
        )
        note_id = emu.put_entry(
            "a", WorldEntry("n", "Kim Lee", "a <b>", NOW, visibility="internal")
        )
        emu.put_entry("a", WorldEntry("s", "Kim Lee", "status changed", NOW, visibility="system"))
        assert emu.put_entry("a", WorldEntry("n", "Kim Lee", "edited", NOW)) == note_id
        rows = http.get(f"{TICKETS_PATH}/{emu.ticket_id('a')}/conversations").json()
        ticket = http.get(f"{TICKETS_PATH}/{emu.ticket_id('a')}").json()["ticket"]
    reply, note, system = rows["conversations"]
    assert reply["id"] == int(reply_id)
    assert (reply["incoming"], reply["private"], reply["source"]) == (True, False, 0)
    assert reply["from_email"] == "maria.jensen@acme.example"
    (attachment,) = reply["attachments"]
    assert {k: attachment[k] for k in ("name", "size", "content_type")} == {
        "name": "log.txt",
        "size": 2048,
        "content_type": "text/plain",
    }
    assert attachment["attachment_url"].startswith("https://s3.amazonaws.com/")
    assert (note["incoming"], note["private"], note["source"]) == (False, False, 0)
    assert note["body_text"] == "edited"  # replaced by its ref, same id
    assert system["source"] == 4
    assert ticket["updated_at"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_answer_waits_the_latency_outside_the_lock() -> None:
    with FreshserviceEmulator(latency=0.2) as emu:
        clients = [client(emu) for _ in range(4)]
        durations: list[float] = []
        barrier = threading.Barrier(len(clients))

        def one(http: httpx2.Client) -> None:
            barrier.wait()
            started = time.perf_counter()
            http.get("/api/v2/agents/me")
            durations.append(time.perf_counter() - started)

        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        for c in clients:
            c.close()
    assert min(durations) >= 0.2
    assert elapsed < 0.6 * sum(durations)  # the answers overlapped instead of waiting in turn


def big_world(n: int, seed: int = 7) -> Iterator[WorldTicket]:
    rng = random.Random(seed)
    statuses = list(TicketStatus)
    for i in range(n):
        created = NOW - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        age = int((NOW - created).total_seconds())
        yield WorldTicket(
            ref=f"t{i}",
            title=f"Ticket {i}",
            status=rng.choices(statuses, weights=[1, 3, 2, 10, 30])[0],
            priority=rng.choice(list(Priority)),
            created_at=created,
            updated_at=created + timedelta(seconds=rng.randint(0, age)),
            requester=f"User {i % 500}",
            assignee=f"Agent {i % 40}",
            group=f"Group {i % 8}",
        )


@pytest.mark.slow
def test_a_hundred_thousand_tickets_answer_each_page_without_a_scan() -> None:
    """Work, not time (bench/emulators.py prints the times): a page is cut from an index."""
    emu = FreshserviceEmulator(rate_limit_per_minute=10**9)
    emu.put_tickets(big_world(100_000))
    since = (NOW - 400 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")

    def page_work(params: dict[str, Any], path: str = TICKETS_PATH) -> int:
        request = Request(
            "GET", path, {k: [str(v)] for k, v in params.items()}, {"authorization": AUTH}
        )
        emu.route(request)  # the first page of a pass sorts its matches once
        before = emu.examined
        reply = emu.route(request)
        assert reply.status == 200 and len(reply.body["tickets"]) == 100  # type: ignore[index]
        return emu.examined - before

    listing = {"updated_since": since, "per_page": 100, "order_type": "asc"}
    assert page_work({**listing, "page": 300}) == 100  # its own rows, not the 100,000
    probe = {"query": '"status:2 OR status:3 OR status:>6"', "per_page": 100}
    assert page_work({**probe, "page": 10}, FILTER_PATH) == 1000  # merged to the page only
    before = emu.examined
    for i in range(200):  # changes keep the indexes (and a pass's sorted matches) current
        emu.set_native(f"t{i}", status=4)
    assert emu.examined - before == 200  # one entry moved each, no rebuild
    assert page_work({**listing, "page": 300}) == 100

"""The ConnectWise emulator's own wire behaviour, shapes and size."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from connectors.base import VendorConfig
from connectors.connectwise import ConnectWiseConnector
from connectors.emulators.base import WorldEntry
from connectors.emulators.connectwise import API_ROOT, ConnectWiseEmulator
from connectors.records import TicketStatus
from tests.connectors.test_connectwise import NOW, world

CAPTURE = Path(__file__).parent / "captures" / "connectwise-ticket.json"
NOTE_KEYS = {
    "id",
    "ticketId",
    "text",
    "detailDescriptionFlag",
    "internalAnalysisFlag",
    "resolutionFlag",
    "issueFlag",
    "member",
    "contact",
    "customerUpdatedFlag",
    "dateCreated",
    "createdBy",
    "internalFlag",
    "externalFlag",
    "_info",
}
"""The ServiceNote model of the published API (no capture of a note exists)."""


def client_for(emu: ConnectWiseEmulator) -> httpx2.Client:
    auth = httpx2.BasicAuth(f"{emu.company_id}+{emu.public_key}", emu.private_key)
    return httpx2.Client(base_url=emu.base_url, auth=auth, headers={"clientId": emu.client_id})


def test_emulator_defaults_work_for_the_demo() -> None:
    emu = ConnectWiseEmulator()
    assert "ui_url" not in emu.vendor_settings()  # not started: no site yet
    with emu:
        settings = emu.vendor_settings()
        assert settings.pop("kind") == "connectwise"
        assert settings["ui_url"] == emu.site_url
        assert emu.base_url == f"{emu.site_url}{API_ROOT}"
        config = VendorConfig(
            name="msp", kind="connectwise", base_url=emu.base_url, settings=settings
        )
        ConnectWiseConnector.validate(config)


def test_list_rows_carry_exactly_the_captured_keys() -> None:
    captured: dict[str, Any] = json.loads(CAPTURE.read_text(encoding="utf-8"))[0]
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b", status=TicketStatus.CLOSED, assignee=None, requester=None))
        with client_for(emu) as client:
            rows = client.get("/service/tickets").json()
    for row in rows:
        assert list(row) == list(captured)  # same keys, same order, nothing extra
        assert list(row["_info"]) == list(captured["_info"])


def test_note_rows_follow_the_published_model() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", description="First"))
        emu.put_entry("a", WorldEntry("n", "Jo Kim", "Second", NOW, visibility="internal"))
        with client_for(emu) as client:
            notes = client.get(f"/service/tickets/{emu.ticket_id('a')}/notes").json()
    assert [set(note) for note in notes] == [NOTE_KEYS, NOTE_KEYS]
    first, second = notes
    assert (first["detailDescriptionFlag"], first["contact"]["name"]) == (True, "Lee Park")
    assert (second["internalAnalysisFlag"], second["member"]["name"]) == (True, "Jo Kim")
    assert first["member"] is None and second["contact"] is None


def test_emulator_keeps_native_shapes() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", group="Help Desk", status=TicketStatus.CLOSED))
        emu.put_ticket(world("b", group="Network", status=TicketStatus.CLOSED))
        native = emu.ticket("a")
        assert key == f"#{native['id']}"
        assert native["closedFlag"] is True and native["status"]["name"] == ">Closed"
        assert native["closedDate"] is not None and native["dateResolved"] is not None
        assert native["status"]["id"] != emu.ticket("b")["status"]["id"]  # board-specific
        assert native["owner"] == {
            "id": native["owner"]["id"],
            "identifier": "jkim",
            "name": "Jo Kim",
            "_info": {"member_href": f"{emu.base_url}/system/members/{native['owner']['id']}"},
        }
        assert native["resources"] == "jkim"
        assert native["priority"]["sort"] == 3
        stamp = native["_info"]["lastUpdated"]
        assert stamp.endswith("Z") and "." not in stamp
        assert (
            native["_info"]["notes_href"] == f"{emu.base_url}/service/tickets/{native['id']}/notes"
        )
        assert emu.put_ticket(world("a")) == key


def test_emulator_wire_errors_links_and_count() -> None:
    with ConnectWiseEmulator(page_size=1) as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        emu.put_ticket(world("c"))
        with client_for(emu) as client:
            page = client.get("/service/tickets", params={"page": 2})
            assert page.status_code == 200
            assert [row["id"] for row in page.json()] == [emu.ticket_id("b")]
            assert page.headers["x-cw-request-id"]
            links = page.links
            assert set(links) == {"first", "prev", "next", "last"}
            assert "page=3" in links["next"]["url"] and "page=3" in links["last"]["url"]
            ordered = client.get(
                "/service/tickets", params={"orderBy": "id desc", "pageSize": 1000}
            )
            assert [r["id"] for r in ordered.json()] == [
                emu.ticket_id("c"),
                emu.ticket_id("b"),
                emu.ticket_id("a"),
            ]
            assert "next" not in ordered.links
            by_summary = client.get(
                "/service/tickets", params={"orderBy": "summary desc", "pageSize": 2}
            )
            assert [r["summary"] for r in by_summary.json()] == ["Ticket c", "Ticket b"]
            count = client.get(
                "/service/tickets/count", params={"conditions": f"id > {emu.ticket_id('a')}"}
            )
            assert count.json() == {"count": 2}
            bad = client.get("/service/tickets", params={"conditions": "id ~ 4"})
            assert bad.status_code == 400 and bad.json()["code"] == "InvalidObject"
            unknown = client.get("/service/tickets", params={"conditions": "colour = 4"})
            assert unknown.status_code == 400 and "colour" in unknown.json()["message"]
            missing = client.get("/service/tickets/1")
            assert missing.status_code == 404
            assert missing.json() == {"code": "NotFound", "message": "Ticket recId 1 not found."}
        anonymous = httpx2.get(f"{emu.base_url}/system/info")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == "Unauthorized"


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("closedFlag = false", {"a", "b"}),
        ('closedFlag = false or summary = "Ticket c"', {"a", "b", "c"}),
        (
            '(closedFlag = false or lastUpdated >= [2000-01-01T00:00:00Z]) and board/name = "Net"',
            {"b", "c"},
        ),
        ('not (board/name = "Net") and closedFlag = false', {"a"}),
        ('status/name in ("New", ">Closed")', {"a", "c"}),
        ('status/name not in ("New", ">Closed")', {"b"}),
        ('summary contains "ET B"', {"b"}),
        ('summary like "Ticket %" and _info/lastUpdated < [2100-01-01T00:00:00Z]', {"a", "b", "c"}),
        ('BOARD/NAME = "net" AND closedflag = TRUE', {"c"}),
        ("contact = null", {"c"}),
    ],
)
def test_conditions_with_or_not_parentheses_and_in(conditions: str, expected: set[str]) -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", status=TicketStatus.NEW))
        emu.put_ticket(world("b", group="Net"))
        emu.put_ticket(world("c", group="Net", status=TicketStatus.CLOSED, requester=None))
        refs = {emu.ticket_id(r): r for r in "abc"}
        with client_for(emu) as client:
            answer = client.get("/service/tickets", params={"conditions": conditions})
        assert answer.status_code == 200, answer.text
        assert {refs[row["id"]] for row in answer.json()} == expected


def test_a_keyset_walk_is_answered_from_one_maintained_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ConnectWiseEmulator() as emu:
        for i in range(40):
            emu.put_ticket(
                world(f"t{i}", status=TicketStatus.CLOSED if i % 4 else TicketStatus.OPEN)
            )
        builds: list[object] = []
        build = emu._build
        monkeypatch.setattr(emu, "_build", lambda node: builds.append(node) or build(node))
        cutoff = f"{NOW - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
        base = f"(closedFlag = false or lastUpdated >= [{cutoff}])"
        seen: list[int] = []
        after = 0
        with client_for(emu) as client:
            while True:
                rows = client.get(
                    "/service/tickets",
                    params={"conditions": f"{base} and id > {after}", "pageSize": 7},
                ).json()
                if not rows:
                    break
                seen += [row["id"] for row in rows]
                after = rows[-1]["id"]
                if len(seen) == 14:  # a write in the middle of the walk
                    emu.put_ticket(world("late", updated_at=NOW))
        assert len(builds) == 1
        assert len(seen) == 41 and seen == sorted(seen)


def test_put_entry_adds_then_replaces_and_moves_the_ticket() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        first = emu.put_entry("a", WorldEntry("n", "Jo Kim", "One", NOW - timedelta(hours=1)))
        assert (
            emu.ticket("a")["_info"]["lastUpdated"]
            == f"{NOW - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
        )
        again = emu.put_entry(
            "a", WorldEntry("n", "Jo Kim", "One, edited", NOW - timedelta(hours=1))
        )
        assert again == first
        (note,) = emu.notes(emu.ticket_id("a"))
        assert note["text"] == "One, edited"
        assert note["_info"]["lastUpdated"] > note["dateCreated"]


def test_latency_makes_every_answer_wait() -> None:
    with ConnectWiseEmulator(latency=0.1) as emu, client_for(emu) as client:
        started = time.monotonic()
        client.get("/system/info")
        assert time.monotonic() - started >= 0.1


def test_a_hundred_thousand_tickets_load_and_page_without_a_scan() -> None:
    """Work, not time (bench/emulators.py prints the times): a keyset page of a query
    already answered costs its own rows, never a scan of the 100,000."""
    emu = ConnectWiseEmulator()
    tickets = (
        world(
            f"t{i}",
            status=TicketStatus.CLOSED if i % 5 else TicketStatus.OPEN,
            updated_at=NOW - timedelta(minutes=i),
            assignee=f"Agent {i % 50}",
            requester=f"Contact {i % 700}",
        )
        for i in range(100_000)
    )
    emu.put_tickets(tickets)
    with emu, client_for(emu) as client:
        cutoff = f"{NOW - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ}"
        base = f"(closedFlag = false or lastUpdated >= [{cutoff}])"
        before = emu.examined
        count = client.get("/service/tickets/count", params={"conditions": base}).json()
        assert count == {"count": 20_000 + 10_080 - 2_016}
        # The query is built once, from its indexes: open ids and the recent updates.
        assert emu.examined - before <= 20_000 + 10_080
        middle = emu.ticket_id("t50000")
        costs = []
        for step in range(5):
            before = emu.examined
            rows = client.get(
                "/service/tickets",
                params={"conditions": f"{base} and id > {middle + step}", "pageSize": 1000},
            ).json()
            costs.append(emu.examined - before)
            assert len(rows) == 1000 and rows[0]["id"] > middle
    assert costs == [1000] * 5, costs

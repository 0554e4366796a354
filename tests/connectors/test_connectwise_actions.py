"""ConnectWise write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.base import VendorConfig
from connectors.connectwise import ConnectWiseConnector
from connectors.connectwise.actions import LOOKED_UP
from connectors.emulators.connectwise import API_ROOT, ConnectWiseEmulator
from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_connectwise import NOW, by_key, config_for, connector_for, world


def handoff(correlation: str = "desktop:#4201", **extra: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Laptop cannot reach the ERP",
        "description": "VPN drops every few minutes.",
        "source_vendor": "desktop",
        "source_key": "#4201",
        "source_external_id": "4201",
        "correlation": correlation,
        "requester": "Maria Jensen",
        "asset": "LT-0042",
        "priority": Priority.P2,
        **extra,
    }
    return Handoff(**values)  # type: ignore[arg-type]


def sent(emu: ConnectWiseEmulator, method: str) -> list[tuple[str, object]]:
    """(path below the API root, JSON body) of every ``method`` request the emulator received."""
    return [(r.path.removeprefix(API_ROOT), r.json()) for r in emu.requests if r.method == method]


async def test_internal_and_public_notes_reach_the_ticket_and_move_it_in_the_poll() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as cw:
            before = by_key((await cw.poll(None)).tickets)[key].updated_at
            internal = Action(ActionKind.COMMENT, ticket_id, key, text="Checked the firewall")
            (planned,) = cw.plan(internal)
            assert (planned.method, planned.path) == ("POST", f"/service/tickets/{ticket_id}/notes")
            assert planned.body == {
                "text": "Checked the firewall",
                "detailDescriptionFlag": False,
                "internalAnalysisFlag": True,
                "resolutionFlag": False,
            }
            first = await cw.perform(internal)
            public = Action(ActionKind.COMMENT, ticket_id, key, text="On it", public=True)
            assert cw.plan(public)[0].body["detailDescriptionFlag"] is True
            await cw.perform(public)
            after = by_key((await cw.poll(None)).tickets)[key]
        notes = emu.notes(int(ticket_id))
    assert first.http_status == 201 and ticket_id in first.summary
    assert [(c.text, c.public) for c in emu.comments_on(ticket_id)] == [
        ("Checked the firewall", False),
        ("On it", True),
    ]
    assert [(n["internalAnalysisFlag"], n["detailDescriptionFlag"]) for n in notes] == [
        (True, False),
        (False, True),
    ]
    assert after.updated_at > before  # the world stamped it an hour ago; the note moved it


async def test_assign_by_member_identifier_shows_in_the_next_incremental_poll() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("b", assignee="Ana Ruiz"))  # newer: the cursor lands on it
        ana = emu.member_identifier("Ana Ruiz")
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as cw:
            first = await cw.poll(None)
            action = Action(ActionKind.ASSIGN, ticket_id, key, assignee=ana)
            (planned,) = cw.plan(action)
            assert (planned.method, planned.path) == ("PATCH", f"/service/tickets/{ticket_id}")
            assert planned.body == [
                {"op": "replace", "path": "owner", "value": {"identifier": ana}}
            ]
            result = await cw.perform(action)
            second = by_key((await cw.poll(first.cursor)).tickets)
    assert result.http_status == 200
    assert second[key].assignee == "Ana Ruiz"  # only the write brings the older ticket back
    assert emu.ticket("a")["resources"] == ana


async def test_unknown_member_is_refused_with_connectwise_reason() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as cw:
            with pytest.raises(ConnectorError, match="HTTP 400: Owner 'nobody'") as caught:
                await cw.perform(Action(ActionKind.ASSIGN, key[1:], key, assignee="nobody"))
            last = emu.requests[-1]
        assert caught.value.http_status == 400
        assert emu.ticket("a")["owner"]["name"] == "Jo Kim"
        assert last.method == "PATCH"


async def test_names_and_odd_ids_are_refused_before_sending() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as cw:
            count = len(emu.requests)
            with pytest.raises(UnsupportedAction, match="member identifier"):
                await cw.perform(Action(ActionKind.ASSIGN, key[1:], key, assignee="Jo Kim"))
            with pytest.raises(UnsupportedAction, match="numbers"):
                cw.plan(Action(ActionKind.COMMENT, "1/../2", key, text="x"))
            with pytest.raises(UnsupportedAction, match="connectwise cannot acknowledge"):
                cw.plan(Action(ActionKind.ACKNOWLEDGE, key[1:], key))
        assert len(emu.requests) == count


async def test_set_status_looks_up_the_boards_status_and_shows_in_the_poll() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("first", group="Network"))  # another board, other status ids
        key = emu.put_ticket(world("a", group="Help Desk"))
        ticket_id = key.removeprefix("#")
        action = Action(
            ActionKind.SET_STATUS, ticket_id, key, status=TicketStatus.RESOLVED, text="Fixed"
        )
        async with connector_for(emu) as cw:
            planned = cw.plan(action)
            assert [(p.method, p.path) for p in planned] == [
                ("GET", f"/service/tickets/{ticket_id}"),
                ("GET", "/service/boards/{board id}/statuses"),
                ("PATCH", f"/service/tickets/{ticket_id}"),
                ("POST", f"/service/tickets/{ticket_id}/notes"),
            ]
            assert planned[2].body == [
                {"op": "replace", "path": "status", "value": {"id": LOOKED_UP}}
            ]
            assert "looked up at send time" in planned[2].note
            assert "looked up at send time" in planned[2].describe()
            result = await cw.perform(action)
            seen = by_key((await cw.poll(None)).tickets)[key]
        board = emu.board_id("Help Desk")
        resolved_id = emu._boards["Help Desk"]["statuses"]["Resolved"]["id"]
        elsewhere = emu._boards["Network"]["statuses"]["Resolved"]["id"]
    assert resolved_id != elsewhere  # status ids are the board's own
    assert (f"/service/boards/{board}/statuses", None) in sent(emu, "GET")
    assert sent(emu, "PATCH") == [
        (
            f"/service/tickets/{ticket_id}",
            [{"op": "replace", "path": "status", "value": {"id": resolved_id}}],
        )
    ]
    assert "Resolved" in result.summary
    assert (seen.status, seen.raw_status) == (TicketStatus.RESOLVED, "Resolved")
    assert seen.resolved_at is not None
    assert [(c.text, c.public) for c in emu.comments_on(ticket_id)] == [("Fixed", False)]


async def test_resolve_and_close_pick_the_closing_status() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as cw:
            await cw.perform(Action(ActionKind.RESOLVE, key[1:], key))
            resolved = by_key((await cw.poll(None)).tickets)[key]
            closing = Action(ActionKind.SET_STATUS, key[1:], key, status=TicketStatus.CLOSED)
            await cw.perform(closing)
            closed = by_key((await cw.poll(None)).tickets)[key]
    assert resolved.raw_status == "Resolved"
    assert (closed.status, closed.raw_status) == (TicketStatus.CLOSED, ">Closed")
    assert emu.ticket("a")["closedFlag"] is True
    assert emu.comments_on(key[1:]) == []  # no text, no note


async def test_status_map_overrides_choose_the_tenants_status() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        emu.set_status("b", "Done by vendor")  # a tenant status the keywords read as open
        status_map = {"Resolved": "pending", "Done by vendor": "resolved"}
        async with connector_for(emu, status_map=status_map) as cw:
            await cw.perform(
                Action(ActionKind.SET_STATUS, key[1:], key, status=TicketStatus.RESOLVED)
            )
            seen = by_key((await cw.poll(None)).tickets)[key]
    assert (seen.status, seen.raw_status) == (TicketStatus.RESOLVED, "Done by vendor")


async def test_no_status_reading_as_wanted_is_refused_without_a_patch() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu, status_map={"Resolved": "open"}) as cw:
            with pytest.raises(UnsupportedAction, match="no active status that reads as resolved"):
                await cw.perform(
                    Action(ActionKind.SET_STATUS, key[1:], key, status=TicketStatus.RESOLVED)
                )
    assert sent(emu, "PATCH") == []
    assert emu.ticket("a")["status"]["name"] == "In Progress"


async def test_a_status_of_another_board_is_refused_by_the_emulator() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", group="Help Desk"))
        emu.put_ticket(world("b", group="Network"))
        foreign = emu.ticket("b")["status"]["id"]
        async with connector_for(emu) as cw:
            body = [{"op": "replace", "path": "status", "value": {"id": foreign}}]
            with pytest.raises(ConnectorError, match="not a status of board Help Desk") as caught:
                await cw.send_planned(
                    PlannedRequest("PATCH", f"/service/tickets/{key[1:]}", body=body)
                )
    assert caught.value.http_status == 400


async def test_create_carries_external_xref_and_dedupe_finds_it_again() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as cw:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await cw.find_existing(action) is None
            lookup, post = cw.plan(action)
            assert (lookup.method, lookup.path) == ("GET", "/service/priorities")
            assert (post.method, post.path) == ("POST", "/service/tickets")
            body = post.body
            assert body["summary"] == "Laptop cannot reach the ERP"
            assert body["board"] == {"id": emu.default_board_id}
            assert body["company"] == {"id": 250}
            assert body["externalXRef"] == "desktop:#4201"
            assert body["priority"] == {"id": LOOKED_UP}
            assert "desktop #4201" in body["initialDescription"]
            assert "LT-0042" in body["initialDescription"]
            made = await cw.perform(action)
            again = await cw.find_existing(action)
            polled = by_key((await cw.poll(None)).tickets)
        posted = sent(emu, "POST")
    assert made.created_id is not None and made.created_key == f"#{made.created_id}"
    assert made.http_status == 201 and not made.existing
    assert again is not None and again.existing and again.created_id == made.created_id
    assert emu.created == [made.created_id]
    assert posted[-1][1]["priority"] == {"id": 15}  # "Priority 2 - Quick Response" here
    new = polled[made.created_key]
    assert new.title == "Laptop cannot reach the ERP"
    assert (new.status, new.priority, new.group) == (TicketStatus.NEW, Priority.P2, "Help Desk")
    assert new.raw["externalXRef"] == "desktop:#4201"


async def test_create_without_priority_sends_one_request() -> None:
    with ConnectWiseEmulator() as emu:
        async with connector_for(emu) as cw:
            action = Action(ActionKind.CREATE, handoff=handoff(priority=None))
            (post,) = cw.plan(action)
            assert "priority" not in post.body
            made = await cw.perform(action)
    assert [r.method for r in emu.requests] == ["POST"]
    assert made.created_id is not None


async def test_dedupe_lookup_survives_quotes_in_the_correlation() -> None:
    with ConnectWiseEmulator() as emu:
        async with connector_for(emu) as cw:
            tricky = Action(ActionKind.CREATE, handoff=handoff('net "core" or 1=1'))
            plain = Action(ActionKind.CREATE, handoff=handoff("net"))
            made = await cw.perform(tricky)
            found = await cw.find_existing(tricky)
            other = await cw.find_existing(plain)
    assert found is not None and found.created_id == made.created_id
    assert other is None


async def test_create_needs_board_and_company_settings() -> None:
    with ConnectWiseEmulator() as emu:
        action = Action(ActionKind.CREATE, handoff=handoff())
        async with connector_for(emu, create_board_id="") as cw:
            with pytest.raises(UnsupportedAction, match="create_board_id"):
                cw.plan(action)
        async with connector_for(emu, create_company_id="") as cw:
            with pytest.raises(UnsupportedAction, match="create_company_id"):
                cw.plan(action)
        assert emu.requests == []


async def test_create_on_an_unknown_board_is_refused_with_the_reason() -> None:
    with ConnectWiseEmulator() as emu:
        async with connector_for(emu, create_board_id=999) as cw:
            with pytest.raises(ConnectorError, match="board is invalid") as caught:
                await cw.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert caught.value.http_status == 400
    assert emu.created == []


def test_plan_action_needs_no_client_and_holds_no_credential() -> None:
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
        settings={
            "company_id": "acmemsp",
            "public_key": "pub-Xq8fPz2L",
            "private_key": "priv-b3Vd9sHk",
            "client_id": "client-3f6c2a8e",
            "create_board_id": "7",
            "create_company_id": 250,
        },
    )
    comment = Action(ActionKind.COMMENT, "104233", "#104233", text="On it", public=True)
    (note,) = ConnectWiseConnector.plan_action(config, comment)
    assert (note.method, note.path) == ("POST", "/service/tickets/104233/notes")
    create = ConnectWiseConnector.plan_action(config, Action(ActionKind.CREATE, handoff=handoff()))
    assert create[-1].body["board"] == {"id": 7}
    text = "\n".join(r.describe() for r in (note, *create))
    for secret in ("pub-Xq8fPz2L", "priv-b3Vd9sHk", "client-3f6c2a8e", "acmemsp"):
        assert secret not in text
    resolve = Action(ActionKind.RESOLVE, "104233", "#104233")
    assert [r.method for r in ConnectWiseConnector.plan_action(config, resolve)] == [
        "GET",
        "GET",
        "PATCH",
    ]


def test_plan_action_reads_settings_once_from_a_loaded_config() -> None:
    raw = {"company_id": "c", "public_key": "p", "private_key": "k", "client_id": "i"}
    parsed = ConnectWiseConnector.Settings.parse("msp", "connectwise", raw)
    config = VendorConfig(
        name="msp",
        kind="connectwise",
        base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
        settings={},  # everything comes from the parsed settings
        options=parsed,
    )
    assert ConnectWiseConnector.parse_settings(config) is parsed
    with pytest.raises(UnsupportedAction, match="create_board_id"):
        ConnectWiseConnector.plan_action(config, Action(ActionKind.CREATE, handoff=handoff()))


@pytest.mark.parametrize(
    ("wanted", "priority_id", "name"),
    [
        (Priority.P1, 6, "Priority 1 - Emergency Response"),
        (Priority.P4, 7, "Priority 4 - Schedule Maintenance"),
    ],
)
async def test_set_priority_looks_up_the_tenants_priority_and_shows_in_the_poll(
    wanted: Priority, priority_id: int, name: str
) -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        ticket_id = key.removeprefix("#")
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=wanted)
        planned, text = dry_run(ConnectWiseConnector, config_for(emu), action)
        assert [(p.method, p.path) for p in planned] == [
            ("GET", "/service/priorities"),
            ("PATCH", f"/service/tickets/{ticket_id}"),
        ]
        replace = {"op": "replace", "path": "priority", "value": {"id": LOOKED_UP}}
        assert planned[1].body == [replace]
        assert f"looked up at send time: the first priority that reads as {wanted.value}" in text
        async with connector_for(emu) as cw:
            first = await cw.poll(None)
            before = by_key(first.tickets)[key]
            result = await cw.perform(action)
            seen = by_key((await cw.poll(first.cursor)).tickets)[key]
    assert sent(emu, "PATCH") == [
        (
            f"/service/tickets/{ticket_id}",
            [{"op": "replace", "path": "priority", "value": {"id": priority_id}}],
        )
    ]
    assert name in result.summary
    assert before.priority is Priority.P3
    assert (seen.priority, seen.raw_priority) == (wanted, name)
    assert seen.updated_at > before.updated_at


async def test_set_priority_is_refused_at_send_time_when_no_priority_reads_as_it() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        ticket_id = key.removeprefix("#")
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=Priority.P5)
        # This tenant reads "Next Time" as P4: nothing it has is P5.
        async with connector_for(emu, priority_map={"Priority 5 - Next Time": "P4"}) as cw:
            with pytest.raises(UnsupportedAction) as refused:
                await cw.perform(action)
            unknown = PlannedRequest(
                "PATCH",
                f"/service/tickets/{ticket_id}",
                body=[{"op": "replace", "path": "priority", "value": {"id": 999}}],
            )
            with pytest.raises(ConnectorError, match="Priority '999' not found") as caught:
                await cw.send_planned(unknown)
    assert "no priority here reads as P5" in str(refused.value)
    assert "Priority 5 - Next Time (P4)" in str(refused.value)
    assert [path for path, _ in sent(emu, "PATCH")] == [f"/service/tickets/{ticket_id}"]
    assert caught.value.http_status == 400
    assert emu.ticket("a")["priority"]["name"] == "Priority 2 - Quick Response"  # unchanged

"""Autotask write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.autotask import AutotaskConnector
from connectors.autotask.actions import DEFAULT_RESOLUTION
from connectors.emulators.autotask import DEFAULT_ROLE_ID, AutotaskEmulator
from connectors.emulators.base import Request
from connectors.errors import ConfigurationError, ConnectorError, TransientError
from connectors.records import Priority, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_autotask import by_key, config_for, connector_for, world

TICKETS = "/V1.0/Tickets"


def handoff(correlation: str = "network:OPS-1", **fields: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Printer VLAN unreachable",
        "description": "Floor 3 printers drop off the network.",
        "source_vendor": "network",
        "source_key": "OPS-1",
        "source_external_id": "10001",
        "correlation": correlation,
        "requester": "Maria Jensen",
        "asset": "PRN-0042",
        "priority": Priority.P2,
        "source_url": "https://jira.acme.example/browse/OPS-1",
        **fields,
    }
    return Handoff(**values)  # type: ignore[arg-type]


def writes(emu: AutotaskEmulator) -> list[tuple[str, str]]:
    """Every request that could change the tenant (queries are POSTs too, so not those)."""
    return [
        (r.method, r.path)
        for r in emu.requests
        if r.method in ("PATCH", "PUT") or (r.method == "POST" and "/query" not in r.path.lower())
    ]


async def test_internal_and_public_notes_reach_the_ticket_and_show_in_the_next_poll() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            first = await at.poll(None)
            before = by_key(first.tickets)[key].updated_at
            internal = Action(ActionKind.COMMENT, str(ticket_id), key, text="Checked cabling")
            (planned,) = at.plan(internal)
            assert (planned.method, planned.path) == ("POST", f"{TICKETS}/{ticket_id}/Notes")
            assert planned.body == {
                "ticketID": ticket_id,
                "title": "Checked cabling",
                "description": "Checked cabling",
                "noteType": 1,
                "publish": 2,
            }
            result = await at.perform(internal)
            public = Action(
                ActionKind.COMMENT, str(ticket_id), key, text="We are on it", public=True
            )
            assert at.plan(public)[0].body["publish"] == 1
            await at.perform(public)
            later = await at.poll(first.cursor)  # incremental: only what changed since
    assert result.http_status == 200
    assert [(c.text, c.public) for c in emu.comments_on(str(ticket_id))] == [
        ("Checked cabling", False),
        ("We are on it", True),
    ]
    assert [(n["publish"], n["noteType"]) for n in emu.notes(ticket_id)] == [(2, 1), (1, 1)]
    assert by_key(later.tickets)[key].updated_at > before


async def test_note_type_comes_from_the_setting() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu, note_type="3") as at:
            await at.perform(Action(ActionKind.COMMENT, str(ticket_id), key, text="x"))
    assert [n["noteType"] for n in emu.notes(ticket_id)] == [3]


async def test_assign_sends_resource_and_role_and_shows_the_name_in_the_next_poll() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        ticket_id = emu.ticket_id("a")
        ana = emu.resource_named("Ana Ruiz")
        async with connector_for(emu) as at:
            first = await at.poll(None)
            action = Action(ActionKind.ASSIGN, str(ticket_id), key, assignee=str(ana))
            (planned,) = at.plan(action)
            assert (planned.method, planned.path, planned.body) == (
                "PATCH",
                TICKETS,
                {"id": ticket_id, "assignedResourceID": ana, "assignedResourceRoleID": 29683396},
            )
            await at.perform(action)
            later = await at.poll(first.cursor)
    assert by_key(later.tickets)[key].assignee == "Ana Ruiz"
    assert emu.ticket("a")["assignedResourceRoleID"] == DEFAULT_ROLE_ID


async def test_assign_without_a_role_setting_or_by_name_is_refused_before_sending() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = str(emu.ticket_id("a"))
        async with connector_for(emu, assign_role_id="") as at:
            with pytest.raises(UnsupportedAction, match="assign_role_id"):
                await at.perform(Action(ActionKind.ASSIGN, ticket_id, key, assignee="29682870"))
        async with connector_for(emu) as at:
            with pytest.raises(UnsupportedAction, match="resource id"):
                await at.perform(Action(ActionKind.ASSIGN, ticket_id, key, assignee="Kim Lee"))
            (planned,) = at.plan(
                Action(ActionKind.ASSIGN, ticket_id, key, assignee="resource 29682870")
            )
            assert planned.body["assignedResourceID"] == 29682870
    assert emu.requests == []  # refused before even the zone lookup


async def test_unknown_resource_is_refused_with_autotasks_reason_as_a_plain_error() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            with pytest.raises(ConnectorError, match="assignedResourceID") as caught:
                await at.perform(Action(ActionKind.ASSIGN, str(ticket_id), key, assignee="99"))
            seen = by_key((await at.poll(None)).tickets)[key]
    assert caught.value.http_status == 500
    # A refused write is not an outage: it must not be retried as a transient failure.
    assert not isinstance(caught.value, TransientError)
    assert seen.assignee == "Kim Lee"


@pytest.mark.parametrize(
    ("status", "code", "raw"),
    [
        (TicketStatus.NEW, 1, "New"),
        (TicketStatus.OPEN, 8, "In Progress"),
        (TicketStatus.PENDING, 7, "Waiting Customer"),
        (TicketStatus.RESOLVED, 5, "Complete"),  # no fixed "resolved" in Autotask: completes
        (TicketStatus.CLOSED, 5, "Complete"),
    ],
)
async def test_every_status_maps_to_its_code_and_reads_back(
    status: TicketStatus, code: int, raw: str
) -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.PENDING))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            first = await at.poll(None)
            action = Action(ActionKind.SET_STATUS, str(ticket_id), key, status=status)
            await at.perform(action)
            later = await at.poll(first.cursor)
            sent = [r.json() for r in emu.requests if r.method == "PATCH"]
    assert sent[0]["status"] == code
    seen = by_key(later.tickets)[key]
    expected = TicketStatus.CLOSED if status is TicketStatus.RESOLVED else status
    assert (seen.status, seen.raw_status) == (expected, raw)


async def test_completing_sends_the_resolution_and_stamps_completion() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            await at.poll(None)  # the picklists are known from here on
            action = Action(
                ActionKind.SET_STATUS,
                str(ticket_id),
                key,
                status=TicketStatus.CLOSED,
                text="Swapped",
            )
            (planned,) = at.plan(action)
            assert planned.body == {"id": ticket_id, "status": 5, "resolution": "Swapped"}
            await at.perform(action)
            bare = Action(ActionKind.SET_STATUS, str(ticket_id), key, status=TicketStatus.CLOSED)
            assert at.plan(bare)[0].body["resolution"] == DEFAULT_RESOLUTION
            seen = by_key((await at.poll(None)).tickets)[key]
    native = emu.ticket("a")
    assert native["resolution"] == "Swapped" and native["completedDate"] is not None
    assert seen.resolved_at is not None


async def test_completing_without_a_resolution_is_refused_by_the_tenant_rule() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            bare = PlannedRequest("PATCH", TICKETS, body={"id": ticket_id, "status": 5})
            with pytest.raises(ConnectorError, match="resolution is required") as caught:
                await at.send_planned(bare)
    assert caught.value.http_status == 500
    assert emu.ticket("a")["status"] == 8  # unchanged


async def test_status_change_with_a_reason_adds_an_internal_note_after_the_patch() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        async with connector_for(emu) as at:
            action = Action(
                ActionKind.SET_STATUS,
                str(ticket_id),
                key,
                status=TicketStatus.PENDING,
                text="parts",
            )
            await at.perform(action)
    assert writes(emu) == [
        ("PATCH", "/ATServicesRest/V1.0/Tickets"),
        ("POST", f"/ATServicesRest/V1.0/Tickets/{ticket_id}/Notes"),
    ]
    assert [(c.text, c.public) for c in emu.comments_on(str(ticket_id))] == [("parts", False)]


async def test_status_and_priority_codes_follow_the_overrides() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        overrides = connector_for(emu, status_map={"21": "resolved"}, priority_map={"3": "P5"})
        async with overrides as at:
            first = await at.poll(None)
            resolve = Action(
                ActionKind.SET_STATUS, str(ticket_id), key, status=TicketStatus.RESOLVED
            )
            (planned,) = at.plan(resolve)
            assert planned.body == {"id": ticket_id, "status": 21, "resolution": DEFAULT_RESOLUTION}
            await at.perform(resolve)
            seen = by_key((await at.poll(first.cursor)).tickets)[key]
            create = at.plan(Action(ActionKind.CREATE, handoff=handoff(priority=Priority.P5)))
    assert (seen.status, seen.raw_status) == (TicketStatus.RESOLVED, "Resolved")
    assert seen.resolved_at is not None
    assert create[0].body["priority"] == 3


async def test_the_dry_run_is_what_is_sent_even_before_any_poll() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = emu.ticket_id("a")
        action = Action(ActionKind.SET_STATUS, str(ticket_id), key, status=TicketStatus.PENDING)
        async with connector_for(emu) as planner:
            (dry_run,) = planner.plan(action)  # a connector that never polled, as the UI's
        async with connector_for(emu) as at:
            await at.poll(None)
            await at.perform(action)
    (sent,) = [r.json() for r in emu.requests if r.method == "PATCH"]
    assert sent == dry_run.body == {"id": ticket_id, "status": 7}


async def test_create_carries_external_id_and_dedupe_finds_it_again() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu, queue_id=str(emu.queue_id("Service Desk"))) as at:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await at.find_existing(action) is None
            made = await at.perform(action)
            (planned,) = at.plan(action)
            again = await at.find_existing(action)
            polled = by_key((await at.poll(None)).tickets)
    assert (planned.method, planned.path) == ("POST", TICKETS)
    body = planned.body
    assert {k: body[k] for k in ("companyID", "title", "status", "priority", "externalID")} == {
        "companyID": 174,
        "title": "Printer VLAN unreachable",
        "status": 1,
        "priority": 1,  # P2 is High in this tenant
        "externalID": "network:OPS-1",
    }
    assert body["queueID"] == emu.queue_id("Service Desk")
    assert "Handed off from network OPS-1" in body["description"]
    assert "https://jira.acme.example/browse/OPS-1" in body["description"]
    assert made.created_id is not None and made.created_key is not None
    assert emu.created == [made.created_id]
    native = emu.native(int(made.created_id))
    assert made.created_key == native["ticketNumber"] and made.created_key.startswith("T")
    assert again is not None and again.existing
    assert (again.created_id, again.created_key) == (made.created_id, made.created_key)
    new = polled[made.created_key]
    assert new.title == "Printer VLAN unreachable"
    assert new.status is TicketStatus.NEW and new.priority is Priority.P2
    assert new.group == "Service Desk"
    assert AutotaskConnector.create_dedupe == "externalID"


async def test_a_long_correlation_is_shortened_stably_for_external_id() -> None:
    correlation = "servicenow:" + "x" * 80
    with AutotaskEmulator() as emu:
        async with connector_for(emu) as at:
            action = Action(ActionKind.CREATE, handoff=handoff(correlation))
            made = await at.perform(action)
            again = await at.find_existing(action)
            other = await at.find_existing(
                Action(ActionKind.CREATE, handoff=handoff(correlation + "y"))
            )
    external = emu.native(int(str(made.created_id)))["externalID"]
    assert len(external) == 50 and external.startswith("servicenow:xxx")
    assert again is not None and again.created_id == made.created_id
    assert other is None


async def test_create_without_company_names_the_setting() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu, company_id="") as at:
            with pytest.raises(UnsupportedAction, match="company_id"):
                await at.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert writes(emu) == [] and emu.created == []


async def test_create_for_an_unknown_company_carries_autotasks_reason() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu, company_id="999") as at:
            with pytest.raises(ConnectorError, match="companyID") as caught:
                await at.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert caught.value.http_status == 500
    assert emu.created == []


async def test_note_on_a_missing_ticket_is_refused() -> None:
    with AutotaskEmulator() as emu:
        async with connector_for(emu) as at:
            with pytest.raises(ConnectorError, match="Unable to find the parent Ticket"):
                await at.perform(Action(ActionKind.COMMENT, "123", "T1", text="hello"))
    assert emu.comments_on("123") == []


def test_emulator_serves_the_ticket_note_picklists() -> None:
    with AutotaskEmulator() as emu:
        reply = emu.handle(
            emu_request(emu, "GET", "/ATServicesRest/V1.0/TicketNotes/entityInformation/fields")
        )
    assert reply.status == 200 and reply.body is not None
    fields = {f["name"]: f for f in reply.body["fields"]}
    publish = {v["value"]: v["label"] for v in fields["publish"]["picklistValues"]}
    assert publish["1"] == "All Autotask Users" and publish["2"] == "Internal Project Team"
    assert fields["noteType"]["isRequired"] and fields["title"]["isRequired"]


def emu_request(emu: AutotaskEmulator, method: str, path: str) -> Request:
    headers = {
        "apiintegrationcode": emu.integration_code,
        "username": emu.username,
        "secret": emu.secret,
    }
    return Request(method, path, {}, headers)


def test_write_settings_must_be_whole_numbers() -> None:
    with AutotaskEmulator() as emu:
        for key in ("company_id", "queue_id", "assign_role_id", "note_type"):
            with pytest.raises(ConfigurationError, match=key):
                AutotaskConnector.validate(config_for(emu, **{key: "Acme"}))


@pytest.mark.parametrize(
    ("wanted", "code", "label"),
    [(Priority.P1, 4, "Critical"), (Priority.P2, 1, "High"), (Priority.P4, 3, "Low")],
)
async def test_set_priority_patches_the_picklist_code_and_the_next_poll_reads_it(
    wanted: Priority, code: int, label: str
) -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        ticket_id = emu.ticket_id("a")
        action = Action(ActionKind.SET_PRIORITY, str(ticket_id), key, priority=wanted)
        (planned,), text = dry_run(AutotaskConnector, config_for(emu), action)
        assert (planned.method, planned.path) == ("PATCH", TICKETS)
        assert planned.body == {"id": ticket_id, "priority": code}
        assert "default picklist" in text
        async with connector_for(emu) as at:
            first = await at.poll(None)
            before = by_key(first.tickets)[key]
            await at.perform(action)
            seen = by_key((await at.poll(first.cursor)).tickets)[key]
    assert writes(emu) == [("PATCH", "/ATServicesRest/V1.0/Tickets")]
    assert before.priority is Priority.P3
    assert (seen.priority, seen.raw_priority) == (wanted, label)
    assert emu.ticket("a")["priority"] == code


async def test_set_priority_refuses_p5_unless_a_code_is_mapped_to_it() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        ticket_id = str(emu.ticket_id("a"))
        to_p5 = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=Priority.P5)
        with pytest.raises(UnsupportedAction) as refused:
            AutotaskConnector.plan_action(config_for(emu), to_p5)
        mapped = config_for(emu, priority_map={"3": "P5"})
        (planned,), _ = dry_run(AutotaskConnector, mapped, to_p5)
        to_p4 = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=Priority.P4)
        with pytest.raises(UnsupportedAction, match="reads as P4"):
            AutotaskConnector.plan_action(mapped, to_p4)
        async with connector_for(emu) as at:
            bad = PlannedRequest("PATCH", TICKETS, body={"id": int(ticket_id), "priority": 9})
            with pytest.raises(ConnectorError) as caught:
                await at.send_planned(bad)
    assert "no priority here reads as P5" in str(refused.value)
    assert "4 Critical (P1), 1 High (P2), 2 Medium (P3), 3 Low (P4)" in str(refused.value)
    assert planned.body == {"id": int(ticket_id), "priority": 3}
    assert caught.value.http_status == 500
    assert "Value 9 for field priority is not a valid picklist value" in str(caught.value)
    assert emu.ticket("a")["priority"] == 1

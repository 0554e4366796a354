"""ServiceNow write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.emulators.base import WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from connectors.servicenow.connector import ServiceNowConnector
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_servicenow import (
    INCIDENTS,
    NOW,
    by_key,
    config_for,
    connector_for,
    world,
)

WRITE_FIELDS = "sys_id,number,state,sys_updated_on"


def stale(ref: str, **fields: Any) -> WorldTicket:
    """A ticket changed well before the newest one (an anchor put next to it), so it is
    outside the next incremental poll unless a write moves its ``sys_updated_on``."""
    return world(ref, updated_at=NOW - timedelta(hours=3), **fields)


def handoff(correlation: str = "network:OPS-1", **fields: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Printer VLAN unreachable",
        "description": "Handed over from network OPS-1.",
        "source_vendor": "network",
        "source_key": "OPS-1",
        "source_external_id": "10001",
        "correlation": correlation,
        "requester": "Maria Jensen",
        "asset": "PRN-0042",
        "priority": Priority.P2,
        "source_url": "https://acme.atlassian.net/browse/OPS-1",
        **fields,
    }
    return Handoff(**values)  # type: ignore[arg-type]


async def test_work_note_and_public_comment_reach_the_journal_and_the_next_poll() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(stale("a"))
        emu.put_ticket(world("anchor"))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as snow:
            first = await snow.poll(None)
            before = by_key(first.tickets)[number].updated_at
            note = Action(ActionKind.COMMENT, sys_id, number, text="Checked cabling")
            (planned,) = snow.plan(note)
            assert planned.method == "PATCH" and planned.path == f"{INCIDENTS}/{sys_id}"
            assert planned.body == {"work_notes": "Checked cabling"}
            assert dict(planned.params) == {"sysparm_fields": WRITE_FIELDS}
            result = await snow.perform(note)
            public = Action(ActionKind.COMMENT, sys_id, number, text="We are on it", public=True)
            assert snow.plan(public)[0].body == {"comments": "We are on it"}
            await snow.perform(public)
            later = await snow.poll(first.cursor)
    assert result.http_status == 200 and number in result.summary
    assert [(c.text, c.public) for c in emu.comments_on(sys_id)] == [
        ("Checked cabling", False),
        ("We are on it", True),
    ]
    seen = by_key(later.tickets)[number]
    assert seen.updated_at > before
    assert emu.incident("a")["sys_mod_count"] == "2"


async def test_assign_by_display_name_and_by_sys_id_show_in_the_next_poll() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(stale("a", assignee="Dana Ortiz"))
        emu.put_ticket(world("b", assignee="Sam Po"))
        emu.put_ticket(world("c", assignee="Ana Ruiz"))
        sys_id = emu.sys_id_of("a")
        ana = emu.incident("c")["assigned_to"]
        async with connector_for(emu) as snow:
            first = await snow.poll(None)
            by_name = Action(ActionKind.ASSIGN, sys_id, number, assignee="Sam Po")
            (planned,) = snow.plan(by_name)
            assert planned.method == "PATCH" and planned.body == {"assigned_to": "Sam Po"}
            assert planned.params["sysparm_input_display_value"] == "true"
            await snow.perform(by_name)
            after_name = by_key((await snow.poll(first.cursor)).tickets)[number]
            by_id = Action(ActionKind.ASSIGN, sys_id, number, assignee=ana)
            assert "sysparm_input_display_value" not in snow.plan(by_id)[0].params
            await snow.perform(by_id)
            after_id = by_key((await snow.poll(first.cursor)).tickets)[number]
    assert after_name.assignee == "Sam Po"
    assert after_id.assignee == "Ana Ruiz"


async def test_assign_to_an_unknown_name_is_refused_with_the_instances_reason() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a", assignee="Dana Ortiz"))
        sys_id = emu.sys_id_of("a")
        dana = emu.incident("a")["assigned_to"]
        async with connector_for(emu) as snow:
            with pytest.raises(ConnectorError) as caught:
                await snow.perform(
                    Action(ActionKind.ASSIGN, sys_id, number, assignee="Nobody Here")
                )
    assert caught.value.http_status == 400
    assert "Invalid reference" in str(caught.value)
    assert "no sys_user record matches 'Nobody Here'" in str(caught.value)
    assert emu.incident("a")["assigned_to"] == dana
    assert emu.incident("a")["sys_mod_count"] == "0"


@pytest.mark.parametrize(
    ("status", "text", "state", "label", "extra"),
    [
        (TicketStatus.NEW, "", "1", "New", {}),
        (TicketStatus.OPEN, "picked up", "2", "In Progress", {"work_notes": "picked up"}),
        (TicketStatus.PENDING, "", "3", "On Hold", {"hold_reason": "1"}),
        (
            TicketStatus.RESOLVED,
            "Replaced the switch port",
            "6",
            "Resolved",
            {"close_code": "Solved (Permanently)", "close_notes": "Replaced the switch port"},
        ),
        (
            TicketStatus.RESOLVED,
            "",
            "6",
            "Resolved",
            {"close_code": "Solved (Permanently)", "close_notes": "Resolved from paneglass"},
        ),
        (
            TicketStatus.CLOSED,
            "",
            "7",
            "Closed",
            {"close_code": "Solved (Permanently)", "close_notes": "Closed from paneglass"},
        ),
    ],
)
async def test_set_status_sends_the_state_code_and_what_its_policy_needs(
    status: TicketStatus, text: str, state: str, label: str, extra: dict[str, str]
) -> None:
    start = TicketStatus.NEW if status is not TicketStatus.NEW else TicketStatus.OPEN
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(stale("a", status=start, due_at=NOW - timedelta(hours=2)))
        emu.put_ticket(world("anchor"))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as snow:
            first = await snow.poll(None)
            action = Action(ActionKind.SET_STATUS, sys_id, number, status=status, text=text)
            (planned,) = snow.plan(action)
            assert planned.method == "PATCH" and planned.path == f"{INCIDENTS}/{sys_id}"
            assert planned.body == {"state": state, **extra}
            await snow.perform(action)
            seen = by_key((await snow.poll(first.cursor)).tickets)[number]
    assert seen.status is status and seen.raw_status == label
    native = emu.incident("a")
    assert native["state"] == native["incident_state"] == state
    finished = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    assert bool(native["resolved_at"]) is finished
    assert native["active"] == ("false" if status is TicketStatus.CLOSED else "true")
    sla = emu.sla_row("a")
    assert sla is not None
    expected_stage = {TicketStatus.PENDING: "paused"}.get(
        status, "completed" if finished else "in_progress"
    )
    assert sla["stage"] == expected_stage
    if "work_notes" in extra:
        assert [c.text for c in emu.comments_on(sys_id)] == [extra["work_notes"]]


async def test_close_code_and_hold_reason_come_from_settings() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a"))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu, close_code="Workaround provided", hold_reason="4") as snow:
            resolve = Action(ActionKind.SET_STATUS, sys_id, number, status=TicketStatus.RESOLVED)
            hold = Action(ActionKind.SET_STATUS, sys_id, number, status=TicketStatus.PENDING)
            assert snow.plan(resolve)[0].body["close_code"] == "Workaround provided"
            assert snow.plan(hold)[0].body["hold_reason"] == "4"
            await snow.perform(hold)
    assert emu.incident("a")["hold_reason"] == "4"


async def test_resolving_without_close_fields_is_refused_by_the_data_policy() -> None:
    """A client that forgets close_code/close_notes gets the instance's reason, not a guess."""
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a"))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as snow:
            bare = PlannedRequest("PATCH", f"{INCIDENTS}/{sys_id}", body={"state": "6"})
            with pytest.raises(ConnectorError) as caught:
                await snow.send_planned(bare)
            hold = PlannedRequest("PATCH", f"{INCIDENTS}/{sys_id}", body={"state": "3"})
            with pytest.raises(ConnectorError, match="On hold reason"):
                await snow.send_planned(hold)
    assert caught.value.http_status == 403
    assert "Operation Failed" in str(caught.value)
    assert "mandatory: Resolution code, Resolution notes" in str(caught.value)
    assert emu.incident("a")["state"] == "2"


async def test_a_closed_incident_is_read_only() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a", status=TicketStatus.CLOSED))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as snow:
            with pytest.raises(ConnectorError) as caught:
                await snow.perform(Action(ActionKind.COMMENT, sys_id, number, text="late note"))
    assert caught.value.http_status == 403
    assert "ACL Exception Update Failed" in str(caught.value)
    assert emu.comments_on(sys_id) == []


async def test_create_carries_correlation_id_and_dedupe_finds_it_again() -> None:
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("seed", requester="Maria Jensen", asset="PRN-0042"))
        async with connector_for(emu) as snow:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await snow.find_existing(action) is None
            (planned,) = snow.plan(action)
            assert planned.method == "POST" and planned.path == INCIDENTS
            assert planned.params["sysparm_input_display_value"] == "true"
            body = planned.body
            assert body["correlation_id"] == "network:OPS-1"
            assert body["correlation_display"] == "paneglass"
            assert body["short_description"] == "Printer VLAN unreachable"
            assert (body["caller_id"], body["cmdb_ci"]) == ("Maria Jensen", "PRN-0042")
            assert (body["impact"], body["urgency"]) == ("1", "2")
            assert "priority" not in body
            assert "Handed off from network OPS-1" in body["description"]
            assert "https://acme.atlassian.net/browse/OPS-1" in body["description"]
            made = await snow.perform(action)
            again = await snow.find_existing(action)
            other = await snow.find_existing(
                Action(ActionKind.CREATE, handoff=handoff("network:OPS-2"))
            )
            polled = by_key((await snow.poll(None)).tickets)
    assert made.http_status == 201
    assert made.created_id is not None and made.created_key is not None
    assert made.created_key.startswith("INC")
    assert again is not None and again.existing
    assert (again.created_id, again.created_key) == (made.created_id, made.created_key)
    assert other is None
    assert emu.created == [made.created_id]
    new = polled[made.created_key]
    assert new.external_id == made.created_id
    assert new.title == "Printer VLAN unreachable"
    assert new.status is TicketStatus.NEW and new.priority is Priority.P2
    assert new.requester == "Maria Jensen" and new.asset == "PRN-0042"
    native = emu.incident_by_sys_id(made.created_id)
    assert native["correlation_id"] == "network:OPS-1"
    assert native["correlation_display"] == "paneglass"


async def test_create_for_an_unknown_caller_keeps_the_name_in_the_description() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as snow:
            made = await snow.perform(
                Action(ActionKind.CREATE, handoff=handoff(requester="Walk In", priority=None))
            )
    assert made.created_id is not None
    native = emu.incident_by_sys_id(made.created_id)
    assert native["caller_id"] == ""  # no such sys_user: the reference stays empty
    assert "Requester: Walk In" in native["description"]
    assert (native["impact"], native["urgency"], native["priority"]) == ("3", "3", "5")


async def test_create_without_a_title_is_refused_by_the_data_policy() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as snow:
            with pytest.raises(ConnectorError, match="Short description") as caught:
                await snow.perform(Action(ActionKind.CREATE, handoff=handoff(title=" ")))
    assert caught.value.http_status == 403
    assert emu.created == []


async def test_a_correlation_that_cannot_be_queried_is_refused_before_sending() -> None:
    with ServiceNowEmulator() as emu:
        async with connector_for(emu) as snow:
            sent = len(emu.requests)
            action = Action(ActionKind.CREATE, handoff=handoff("x^ORDERBYnumber"))
            with pytest.raises(UnsupportedAction, match="encoded query"):
                snow.plan(action)
            with pytest.raises(UnsupportedAction):
                await snow.find_existing(action)
    assert len(emu.requests) == sent


async def test_acknowledge_and_resolve_are_not_offered() -> None:
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as snow:
            assert ActionKind.ACKNOWLEDGE not in snow.supported_actions
            assert snow.create_dedupe == "correlation_id"
            with pytest.raises(UnsupportedAction):
                snow.plan(Action(ActionKind.ACKNOWLEDGE, emu.sys_id_of("a")))


@pytest.mark.parametrize(
    ("wanted", "impact", "urgency", "label"),
    [
        (Priority.P1, "1", "1", "1 - Critical"),
        (Priority.P2, "1", "2", "2 - High"),
        (Priority.P4, "2", "3", "4 - Low"),
        (Priority.P5, "3", "3", "5 - Planning"),
    ],
)
async def test_set_priority_sends_impact_and_urgency_and_the_next_poll_reads_it(
    wanted: Priority, impact: str, urgency: str, label: str
) -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(stale("a", priority=Priority.P3))
        emu.put_ticket(world("anchor"))
        sys_id = emu.sys_id_of("a")
        action = Action(ActionKind.SET_PRIORITY, sys_id, number, priority=wanted)
        (planned,), text = dry_run(ServiceNowConnector, config_for(emu), action)
        assert planned.method == "PATCH" and planned.path == f"{INCIDENTS}/{sys_id}"
        assert planned.body == {"impact": impact, "urgency": urgency}  # never priority itself
        assert planned.params["sysparm_fields"] == f"{WRITE_FIELDS},priority"
        assert "impact x urgency" in text and label in text
        async with connector_for(emu) as snow:
            first = await snow.poll(None)
            before = by_key(first.tickets)[number]
            result = await snow.perform(action)
            seen = by_key((await snow.poll(first.cursor)).tickets)[number]
    assert result.http_status == 200 and f"priority now {label}" in result.summary
    native = emu.incident("a")
    assert (native["impact"], native["urgency"], native["priority"]) == (
        impact,
        urgency,
        label[0],
    )
    assert before.priority is Priority.P3
    assert seen.priority is wanted and seen.raw_priority == label
    assert seen.updated_at > before.updated_at


async def test_the_instance_derives_priority_from_every_impact_and_urgency() -> None:
    """The emulator's lookup is the out-of-box one: 1/1 → 1 … 3/3 → 5, both ways round."""
    lookup = {
        ("1", "1"): "1",
        ("1", "2"): "2",
        ("2", "1"): "2",
        ("1", "3"): "3",
        ("2", "2"): "3",
        ("3", "1"): "3",
        ("2", "3"): "4",
        ("3", "2"): "4",
        ("3", "3"): "5",
    }
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a"))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as snow:
            for (impact, urgency), priority in lookup.items():
                body = {"impact": impact, "urgency": urgency}
                await snow.send_planned(PlannedRequest("PATCH", f"{INCIDENTS}/{sys_id}", body=body))
                assert emu.incident("a")["priority"] == priority, (impact, urgency)
            bad = {"impact": "9"}
            with pytest.raises(ConnectorError, match="Invalid choice") as caught:
                await snow.send_planned(PlannedRequest("PATCH", f"{INCIDENTS}/{sys_id}", body=bad))
    assert caught.value.http_status == 400
    assert emu.incident("a")["priority"] == "5"  # the refused write changed nothing


async def test_set_priority_runs_priority_map_backwards_and_refuses_what_nothing_reads_as() -> None:
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a"))
        sys_id = emu.sys_id_of("a")
        # This tenant reads its "1 - Critical" as P2: nothing is P1 any more.
        config = config_for(emu, priority_map={"1 - Critical": "P2"})
        to_p1 = Action(ActionKind.SET_PRIORITY, sys_id, number, priority=Priority.P1)
        with pytest.raises(UnsupportedAction) as refused:
            ServiceNowConnector.plan_action(config, to_p1)
        to_p2 = Action(ActionKind.SET_PRIORITY, sys_id, number, priority=Priority.P2)
        (planned,), _ = dry_run(ServiceNowConnector, config, to_p2)
    assert "no priority here reads as P1" in str(refused.value)
    assert "1 - Critical (P2)" in str(refused.value)
    assert planned.body == {"impact": "1", "urgency": "1"}  # the first that reads as P2

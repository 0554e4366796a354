"""Opsgenie write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.emulators.base import Reply
from connectors.emulators.opsgenie import ALERTS_PATH, OpsgenieEmulator
from connectors.errors import ConnectorError, TransientError
from connectors.opsgenie import OpsgenieConnector
from connectors.records import Priority, TicketRecord, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_opsgenie import NOW, config_for, connector_for, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden

ACTOR = {"user": "paneglass", "source": "paneglass"}


def by_id(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    return {t.external_id: t for t in tickets}


def handoff(correlation: str = "desktop:#4201", **extra: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Printer VLAN unreachable",
        "description": "Floor 3 printers went offline at 09:12.",
        "source_vendor": "desktop",
        "source_key": "#4201",
        "source_external_id": "4201",
        "correlation": correlation,
        "requester": "Maria Jensen",
        "asset": "PRN-0042",
        "priority": Priority.P2,
        **extra,
    }
    return Handoff(**values)  # type: ignore[arg-type]


def status_lookups(emu: OpsgenieEmulator) -> int:
    return sum(r.path.startswith(f"{ALERTS_PATH}/requests/") for r in emu.requests)


async def test_note_is_internal_names_the_request_and_moves_the_alert_in_the_poll() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("b"))  # newer: the cursor lands on it
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            first = await og.poll(None)
            action = Action(ActionKind.COMMENT, alert_id, "#1201", text="Checked the switch")
            (planned,) = og.plan(action)
            assert (planned.method, planned.path) == ("POST", f"/v2/alerts/{alert_id}/notes")
            assert dict(planned.params) == {"identifierType": "id"}
            assert planned.body == {"note": "Checked the switch", **ACTOR}
            result = await og.perform(action)
            second = by_id((await og.poll(first.cursor)).tickets)
    assert result.http_status == 202
    assert "Added note" in result.summary and "request " in result.summary
    assert [(c.text, c.public) for c in emu.comments_on(alert_id)] == [
        ("Checked the switch", False)
    ]
    assert [n["owner"] for n in emu.notes_on(alert_id)] == ["paneglass"]
    assert alert_id in second  # only the note brings the older alert back


async def test_public_comment_is_refused_because_notes_are_internal() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as og:
            action = Action(ActionKind.COMMENT, emu.alert_id("a"), "#1201", text="x", public=True)
            with pytest.raises(UnsupportedAction, match="internal only"):
                await og.perform(action)
    assert emu.requests == []


async def test_acknowledge_with_a_note_shows_as_a_first_response() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        alert_id = emu.alert_id("a")
        action_user = "noc-bot"
        async with connector_for(emu, action_user=action_user) as og:
            action = Action(ActionKind.ACKNOWLEDGE, alert_id, "#1201", text="Looking")
            (planned,) = og.plan(action)
            assert planned.path == f"/v2/alerts/{alert_id}/acknowledge"
            assert planned.body == {"user": action_user, "source": "paneglass", "note": "Looking"}
            result = await og.perform(action)
            seen = by_id((await og.poll(None)).tickets)[alert_id]
    assert "Acknowledged" in result.summary
    assert (seen.status, seen.raw_status) == (TicketStatus.OPEN, "acknowledged")
    assert seen.first_response_at is not None
    assert emu.alert("a")["report"]["acknowledgedBy"] == action_user
    assert [c.text for c in emu.comments_on(alert_id)] == ["Looking"]


async def test_resolve_closes_the_alert_in_the_next_poll() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            first = await og.poll(None)
            action = Action(ActionKind.RESOLVE, alert_id, "#1201")
            (planned,) = og.plan(action)
            assert (planned.path, planned.body) == (f"/v2/alerts/{alert_id}/close", ACTOR)
            await og.perform(action)
            seen = by_id((await og.poll(first.cursor)).tickets)[alert_id]
    assert (seen.status, seen.raw_status) == (TicketStatus.RESOLVED, "closed")
    assert seen.resolved_at is not None
    assert emu.comments_on(alert_id) == []  # no text, no note


async def test_set_status_maps_open_and_closed_and_refuses_the_rest() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            opened = Action(ActionKind.SET_STATUS, alert_id, status=TicketStatus.OPEN)
            closed = Action(ActionKind.SET_STATUS, alert_id, status=TicketStatus.CLOSED)
            assert og.plan(opened)[0].path.endswith("/acknowledge")
            assert og.plan(closed)[0].path.endswith("/close")
            pending = Action(ActionKind.SET_STATUS, alert_id, status=TicketStatus.PENDING)
            with pytest.raises(UnsupportedAction, match="not set to pending"):
                og.plan(pending)
            await og.perform(closed)
    assert emu.alert("a")["status"] == "closed"


async def test_assign_by_username_and_by_user_id() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", assignee="Jo Kim"))
        alert_id = emu.alert_id("a")
        ana = emu.add_user("Ana Ruiz")
        kim = emu.add_user("Kim Lee")
        async with connector_for(emu) as og:
            to_ana = Action(ActionKind.ASSIGN, alert_id, assignee=ana)
            (planned,) = og.plan(to_ana)
            assert planned.path == f"/v2/alerts/{alert_id}/assign"
            assert planned.body == {"owner": {"username": ana}, **ACTOR}
            await og.perform(to_ana)
            first = by_id((await og.poll(None)).tickets)[alert_id].assignee
            to_kim = Action(ActionKind.ASSIGN, alert_id, assignee=emu.user_id(kim))
            assert og.plan(to_kim)[0].body["owner"] == {"id": emu.user_id(kim)}
            await og.perform(to_kim)
            second = by_id((await og.poll(None)).tickets)[alert_id].assignee
            with pytest.raises(UnsupportedAction, match="not by name"):
                og.plan(Action(ActionKind.ASSIGN, alert_id, assignee="Kim Lee"))
    assert (first, second) == (ana, kim)


async def test_a_failed_request_raises_with_opsgenies_reason() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", assignee="Jo Kim"))
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            with pytest.raises(ConnectorError, match="Alert does not exist") as missing:
                await og.perform(Action(ActionKind.ACKNOWLEDGE, "no-such-alert"))
            nobody = Action(ActionKind.ASSIGN, alert_id, assignee="nobody@acme.example")
            with pytest.raises(ConnectorError, match=r"User \[nobody@acme.example\] does not"):
                await og.perform(nobody)
    assert missing.value.http_status == 202  # accepted, then failed: see the message
    assert emu.alert("a")["owner"] == "jo.kim@acme.example"


async def test_an_invalid_body_is_refused_at_once_with_422() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            too_long = Action(ActionKind.COMMENT, alert_id, text="x" * 25_001)
            with pytest.raises(ConnectorError, match=r"HTTP 422: note: .*25000") as caught:
                await og.perform(too_long)
    assert caught.value.http_status == 422  # refused at once, the field and its reason named
    assert emu.comments_on(alert_id) == []
    assert status_lookups(emu) == 0


async def test_a_request_not_processed_yet_is_asked_again() -> None:
    with OpsgenieEmulator(unprocessed_lookups=2) as emu:
        emu.put_ticket(world("a"))
        alert_id = emu.alert_id("a")
        async with connector_for(emu) as og:
            og.request_waits = (0.0, 0.01, 0.01)
            done = await og.perform(Action(ActionKind.ACKNOWLEDGE, alert_id))
            og.request_waits = (0.0, 0.01)
            pending = await og.perform(Action(ActionKind.RESOLVE, alert_id))
    assert "Acknowledged" in done.summary
    assert "not done yet" in pending.summary and pending.http_status == 202
    assert status_lookups(emu) == 3 + 2


async def test_create_carries_the_alias_and_dedupe_finds_it_again() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as og:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await og.find_existing(action) is None
            (post,) = og.plan(action)
            assert (post.method, post.path) == ("POST", "/v2/alerts")
            assert post.body == {
                "message": "Printer VLAN unreachable",
                "alias": "desktop:#4201",
                "description": post.body["description"],
                "priority": "P2",
                "tags": ["from-paneglass"],
                "details": {"origin": "desktop", "ticket": "#4201", "requester": "Maria Jensen"},
                "entity": "PRN-0042",
                **ACTOR,
            }
            assert "desktop #4201" in post.body["description"]
            made = await og.perform(action)
            again = await og.find_existing(action)
            polled = by_id((await og.poll(None)).tickets)
    assert made.http_status == 202 and made.created_id is not None and not made.existing
    assert made.created_id != emu.alert_id("a")
    assert again is not None and again.existing
    assert (again.created_id, again.created_key) == (made.created_id, made.created_key)
    assert emu.created == [made.created_id]
    new = polled[made.created_id]
    assert new.key == made.created_key
    assert (new.title, new.priority, new.asset) == (
        "Printer VLAN unreachable",
        Priority.P2,
        "PRN-0042",
    )


async def test_a_repeated_create_folds_into_the_open_alert() -> None:
    with OpsgenieEmulator() as emu:
        async with connector_for(emu) as og:
            action = Action(ActionKind.CREATE, handoff=handoff("net/core:#7"))
            first = await og.perform(action)
            second = await og.perform(action)
            found = await og.find_existing(action)
            assert first.created_id is not None
            await og.perform(Action(ActionKind.RESOLVE, first.created_id))
            third = await og.perform(action)  # a closed alert's alias is free again
            latest = await og.find_existing(action)
    assert second.created_id == first.created_id and "count" in second.summary
    assert found is not None and found.created_id == first.created_id
    assert third.created_id not in (None, first.created_id)
    assert latest is not None and latest.created_id == third.created_id
    assert emu.created == [first.created_id, third.created_id]


async def test_create_learns_its_id_by_alias_when_the_request_is_slow() -> None:
    with OpsgenieEmulator(unprocessed_lookups=9) as emu:
        async with connector_for(emu) as og:
            og.request_waits = (0.0,)
            made = await og.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert made.created_id == emu.created[0] and made.created_key is not None
    assert made.created_key.startswith("#")


async def test_create_not_processed_and_not_found_is_transient() -> None:
    with OpsgenieEmulator() as emu:
        async with connector_for(emu) as og:
            og.request_waits = (0.0,)
            emu.inject(  # the 202, then "not processed yet" twice: by request and by alias
                Reply(202, {"result": "Request will be processed", "requestId": "r-1"}),
                Reply(404, {"message": "Request not found.", "took": 0, "requestId": "x"}),
                Reply(404, {"message": "Alert does not exist", "took": 0, "requestId": "y"}),
            )
            with pytest.raises(TransientError, match="not processed create request r-1"):
                await og.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert emu.created == []


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS[6:13])
async def test_hostile_request_status_text_is_cleaned(hostile: str) -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a"))
        async with connector_for(emu) as og:
            og.request_waits = (0.0,)
            emu.inject(
                Reply(202, {"result": "Request will be processed", "requestId": "r-9"}),
                Reply(200, {"data": {"isSuccess": False, "status": hostile}, "requestId": "s"}),
            )
            with pytest.raises(ConnectorError) as caught:
                await og.perform(Action(ActionKind.ACKNOWLEDGE, emu.alert_id("a")))
    assert "request r-9" in str(caught.value)
    assert not has_forbidden(str(caught.value))


@pytest.mark.parametrize("wanted", [Priority.P1, Priority.P5])
async def test_set_priority_puts_the_priority_and_the_next_poll_reads_it(
    wanted: Priority,
) -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", priority=Priority.P3, updated_at=NOW - timedelta(hours=3)))
        emu.put_ticket(world("b"))  # newer: the cursor lands on it
        alert_id = emu.alert_id("a")
        action = Action(ActionKind.SET_PRIORITY, alert_id, "#1201", priority=wanted)
        (planned,), _ = dry_run(OpsgenieConnector, config_for(emu), action)
        assert (planned.method, planned.path) == ("PUT", f"/v2/alerts/{alert_id}/priority")
        assert dict(planned.params) == {"identifierType": "id"}
        assert planned.body == {"priority": wanted.value}  # the endpoint takes nothing else
        async with connector_for(emu) as og:
            first = await og.poll(None)
            before = by_id(first.tickets)[alert_id]
            result = await og.perform(action)
            second = by_id((await og.poll(first.cursor)).tickets)
    assert result.http_status == 202 and "Updated priority" in result.summary
    assert before.priority is Priority.P3
    assert alert_id in second  # only the change brings the older alert back
    assert (second[alert_id].priority, second[alert_id].raw_priority) == (wanted, wanted.value)
    assert emu.alert("a")["priority"] == wanted.value


async def test_set_priority_refuses_an_unmapped_p_and_opsgenie_refuses_a_bad_value() -> None:
    with OpsgenieEmulator() as emu:
        emu.put_ticket(world("a", priority=Priority.P2))
        alert_id = emu.alert_id("a")
        # This tenant reads P5 as P4: no value is left for P5.
        mapped = config_for(emu, priority_map={"P5": "P4"})
        to_p5 = Action(ActionKind.SET_PRIORITY, alert_id, "#1201", priority=Priority.P5)
        with pytest.raises(UnsupportedAction) as refused:
            OpsgenieConnector.plan_action(mapped, to_p5)
        async with connector_for(emu) as og:
            bad = PlannedRequest(
                "PUT",
                f"/v2/alerts/{alert_id}/priority",
                params={"identifierType": "id"},
                body={"priority": "urgent"},
            )
            with pytest.raises(ConnectorError) as caught:
                await og.send_planned(bad)
            wrong_verb = PlannedRequest(
                "POST", f"/v2/alerts/{alert_id}/priority", body={"priority": "P1"}
            )
            with pytest.raises(ConnectorError) as not_post:
                await og.send_planned(wrong_verb)
    assert "no priority here reads as P5" in str(refused.value)
    assert "P5 (P4)" in str(refused.value)
    assert caught.value.http_status == 422
    assert not_post.value.http_status == 404
    assert emu.alert("a")["priority"] == "P2"

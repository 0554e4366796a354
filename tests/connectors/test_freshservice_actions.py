"""Freshservice write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

import json

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.emulators.freshservice import FreshserviceEmulator
from connectors.errors import ConfigurationError, ConnectorError
from connectors.freshservice import FreshserviceConnector
from connectors.records import Priority, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_freshservice import by_key, config_for, connector_for, world


def handoff(requester: str | None = "Maria Jensen", **fields: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Printer VLAN unreachable",
        "description": "Floor 3 printers drop off the network.",
        "source_vendor": "network",
        "source_key": "OPS-1",
        "source_external_id": "10001",
        "correlation": "network:OPS-1",
        "requester": requester,
        "asset": "PRN-0042",
        "priority": Priority.P2,
        "source_url": "https://jira.acme.example/browse/OPS-1",
        **fields,
    }
    return Handoff(**values)  # type: ignore[arg-type]


def writes(emu: FreshserviceEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emu.requests if r.method not in ("GET", "HEAD")]


async def test_internal_comment_is_a_private_html_note_and_bumps_the_ticket() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as fs:
            before = by_key((await fs.poll(None)).tickets)[key].updated_at
            action = Action(ActionKind.COMMENT, ticket_id, key, text="Checked cabling")
            (planned,) = fs.plan(action)
            assert (planned.method, planned.path) == ("POST", f"/api/v2/tickets/{ticket_id}/notes")
            assert planned.body == {"body": "<p>Checked cabling</p>", "private": True}
            result = await fs.perform(action)
            after = by_key((await fs.poll(None)).tickets)[key]
    assert result.http_status == 201
    notes = emu.comments_on(ticket_id)
    assert [(c.text, c.public) for c in notes] == [("<p>Checked cabling</p>", False)]
    assert after.updated_at > before  # the note moved updated_at, so an incremental poll sees it


async def test_public_comment_is_a_reply_and_counts_as_the_first_response() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as fs:
            action = Action(ActionKind.COMMENT, ticket_id, key, text="We are on it", public=True)
            (planned,) = fs.plan(action)
            assert (planned.method, planned.path) == ("POST", f"/api/v2/tickets/{ticket_id}/reply")
            assert planned.body == {"body": "<p>We are on it</p>"}
            await fs.perform(action)
            seen = by_key((await fs.poll(None)).tickets)[key]
    assert [(c.text, c.public) for c in emu.comments_on(ticket_id)] == [
        ("<p>We are on it</p>", True)
    ]
    assert seen.first_response_at is not None


async def test_operator_markup_arrives_escaped_never_as_html() -> None:
    hostile = 'see <script>alert("x")</script> & <b>bold</b>\nsecond line'
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as fs:
            await fs.perform(Action(ActionKind.COMMENT, ticket_id, key, text=hostile))
    (note,) = emu.comments_on(ticket_id)
    assert "<script>" not in note.text and "<b>" not in note.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in note.text
    assert note.text.endswith("<br>second line</p>")
    # What Freshservice shows as plain text is exactly what the operator typed.
    (conversation,) = emu._conversations[int(ticket_id)]
    assert conversation["body_text"] == hostile


async def test_assign_and_status_change_show_in_the_next_poll() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        ticket_id = key.removeprefix("#")
        ana = emu.agent_named("Ana Ruiz")
        async with connector_for(emu) as fs:
            first = await fs.poll(None)
            assign = Action(ActionKind.ASSIGN, ticket_id, key, assignee=str(ana))
            (planned,) = fs.plan(assign)
            assert (planned.method, planned.path, planned.body) == (
                "PUT",
                f"/api/v2/tickets/{ticket_id}",
                {"responder_id": ana},
            )
            await fs.perform(assign)
            resolve = Action(ActionKind.SET_STATUS, ticket_id, key, status=TicketStatus.RESOLVED)
            (planned,) = fs.plan(resolve)
            assert planned.body == {"status": 4}
            await fs.perform(resolve)
            later = await fs.poll(first.cursor)  # incremental: only what changed since
    seen = by_key(later.tickets)[key]
    assert seen.assignee == "Ana Ruiz"  # responder_id, named by one agent lookup
    assert seen.status is TicketStatus.RESOLVED and seen.raw_status == "Resolved"
    assert seen.resolved_at is not None


async def test_assign_accepts_the_agent_label_the_connector_shows() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ana = emu.agent_named("Ana Ruiz")
        async with connector_for(emu) as fs:
            (planned,) = fs.plan(Action(ActionKind.ASSIGN, key[1:], key, assignee=f"agent {ana}"))
    assert planned.body == {"responder_id": ana}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (TicketStatus.NEW, 2),
        (TicketStatus.OPEN, 2),
        (TicketStatus.PENDING, 3),
        (TicketStatus.RESOLVED, 4),
        (TicketStatus.CLOSED, 5),
    ],
)
async def test_every_status_maps_to_its_freshservice_code_and_back(
    status: TicketStatus, code: int
) -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.PENDING))
        async with connector_for(emu) as fs:
            await fs.perform(Action(ActionKind.SET_STATUS, key[1:], key, status=status))
            seen = by_key((await fs.poll(None)).tickets)[key]
    assert emu.ticket("a")["status"] == code
    expected = TicketStatus.OPEN if status is TicketStatus.NEW else status
    assert seen.status is expected


async def test_status_change_with_a_reason_adds_a_private_note_after_the_put() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as fs:
            action = Action(
                ActionKind.SET_STATUS, ticket_id, key, status=TicketStatus.PENDING, text="vendor"
            )
            put, note = fs.plan(action)
            assert (put.method, put.body) == ("PUT", {"status": 3})
            assert (note.method, note.path) == ("POST", f"/api/v2/tickets/{ticket_id}/notes")
            await fs.perform(action)
    assert writes(emu) == [
        ("PUT", f"/api/v2/tickets/{ticket_id}"),
        ("POST", f"/api/v2/tickets/{ticket_id}/notes"),
    ]
    assert [(c.text, c.public) for c in emu.comments_on(ticket_id)] == [("<p>vendor</p>", False)]


async def test_assign_by_name_or_email_is_refused_before_sending() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as fs:
            for who in ("Kim Lee", "kim.lee@acme.example"):
                with pytest.raises(UnsupportedAction, match="agent id"):
                    await fs.perform(Action(ActionKind.ASSIGN, key[1:], key, assignee=who))
    assert writes(emu) == []


async def test_unknown_agent_is_refused_with_freshservices_validation_reason() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        async with connector_for(emu) as fs:
            with pytest.raises(ConnectorError, match="no agent matching") as caught:
                await fs.perform(Action(ActionKind.ASSIGN, key[1:], key, assignee="999"))
            seen = by_key((await fs.poll(None)).tickets)[key]
    assert caught.value.http_status == 400
    refusal = next(r for r in emu.requests if r.method == "PUT")
    assert refusal.json() == {"responder_id": 999}
    assert seen.assignee == "Kim Lee"  # unchanged


async def test_comment_on_a_missing_ticket_is_a_404_connector_error() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu) as fs:
            with pytest.raises(ConnectorError, match="404") as caught:
                await fs.perform(Action(ActionKind.COMMENT, "777", "#777", text="hello"))
    assert caught.value.http_status == 404
    assert emu.comments_on("777") == []


async def test_create_sends_escaped_html_and_the_new_ticket_shows_in_the_next_poll() -> None:
    with FreshserviceEmulator() as emu:
        emu.put_ticket(world("a", requester="Maria Jensen"))
        async with connector_for(emu) as fs:
            action = Action(
                ActionKind.CREATE,
                handoff=handoff(
                    requester="maria.jensen@acme.example", description="Ports <down> & flapping"
                ),
            )
            (planned,) = fs.plan(action)
            made = await fs.perform(action)
            polled = by_key((await fs.poll(None)).tickets)
    assert (planned.method, planned.path) == ("POST", "/api/v2/tickets")
    body = planned.body
    assert {k: body[k] for k in ("email", "subject", "priority", "status", "source")} == {
        "email": "maria.jensen@acme.example",
        "subject": "Printer VLAN unreachable",
        "priority": 3,
        "status": 2,
        "source": 2,
    }
    assert "<p>Ports &lt;down&gt; &amp; flapping</p>" in body["description"]
    assert "Handed off from network OPS-1" in body["description"]
    assert 'href="https://jira.acme.example/browse/OPS-1"' in body["description"]
    assert made.created_id is not None and made.created_key == f"#{made.created_id}"
    assert made.http_status == 201 and not made.existing
    assert emu.created == [made.created_id]
    new = polled[made.created_key]
    assert new.title == "Printer VLAN unreachable"
    assert new.requester == "Maria Jensen"  # found by e-mail, not a second requester
    assert new.priority is Priority.P2 and new.status is TicketStatus.OPEN
    assert emu.native(int(made.created_id))["description_text"].startswith(
        "Ports <down> & flapping"
    )


async def test_create_for_a_named_requester_uses_the_default_requester_email() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu, default_requester_email="desk@acme.example") as fs:
            action = Action(ActionKind.CREATE, handoff=handoff(requester="Maria Jensen"))
            (planned,) = fs.plan(action)
            made = await fs.perform(action)
            polled = by_key((await fs.poll(None)).tickets)
    assert planned.body["email"] == "desk@acme.example"
    assert "Requester: Maria Jensen" in planned.body["description"]
    assert polled[str(made.created_key)].requester == "desk"


async def test_create_without_any_requester_email_names_the_setting() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu, default_requester_email="") as fs:
            action = Action(ActionKind.CREATE, handoff=handoff(requester="Maria Jensen"))
            with pytest.raises(UnsupportedAction, match="default_requester_email"):
                await fs.perform(action)
    assert writes(emu) == []


async def test_create_cannot_be_deduplicated_at_freshservice() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu) as fs:
            action = Action(ActionKind.CREATE, handoff=handoff(requester="a@acme.example"))
            await fs.perform(action)
            assert await fs.find_existing(action) is None
    assert FreshserviceConnector.create_dedupe is None


async def test_vendor_refusal_of_a_create_carries_every_reason() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu) as fs:
            # A raw write past the connector's own checks: no subject, description or codes.
            bare = PlannedRequest("POST", "/api/v2/tickets", body={"email": "a@acme.example"})
            with pytest.raises(ConnectorError, match="It should be a/an String") as caught:
                await fs.send_planned(bare)
    assert caught.value.http_status == 400
    assert emu.created == []


async def test_writes_without_json_content_type_get_freshservices_415() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as fs:
            response = await fs.client.post(
                f"/api/v2/tickets/{key[1:]}/notes",
                content=json.dumps({"body": "x"}),
                headers={"Content-Type": "text/plain"},
            )
    assert response.status_code == 415
    assert response.json()["code"] == "invalid_content_type"


def test_a_default_requester_that_is_not_an_email_is_a_config_error() -> None:
    with FreshserviceEmulator() as emu:
        config = config_for(emu, default_requester_email="Service Desk")
        with pytest.raises(ConfigurationError, match="default_requester_email"):
            FreshserviceConnector.validate(config)


async def test_acknowledge_is_not_a_freshservice_action() -> None:
    with FreshserviceEmulator() as emu:
        async with connector_for(emu) as fs:
            assert ActionKind.ACKNOWLEDGE not in fs.supported_actions
            with pytest.raises(UnsupportedAction):
                fs.plan(Action(ActionKind.ACKNOWLEDGE, "1", "#1"))


@pytest.mark.parametrize(
    ("wanted", "code", "name"),
    [(Priority.P1, 4, "Urgent"), (Priority.P2, 3, "High"), (Priority.P4, 1, "Low")],
)
async def test_set_priority_puts_the_code_and_the_next_poll_reads_it(
    wanted: Priority, code: int, name: str
) -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        ticket_id = key.removeprefix("#")
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=wanted)
        (planned,), _ = dry_run(FreshserviceConnector, config_for(emu), action)
        assert (planned.method, planned.path, planned.body) == (
            "PUT",
            f"/api/v2/tickets/{ticket_id}",
            {"priority": code},
        )
        async with connector_for(emu) as fs:
            first = await fs.poll(None)
            before = by_key(first.tickets)[key]
            result = await fs.perform(action)
            later = await fs.poll(first.cursor)  # incremental: only what changed since
    seen = by_key(later.tickets)[key]
    assert result.http_status == 200
    assert before.priority is Priority.P3
    assert seen.priority is wanted and seen.raw_priority == name
    assert emu.ticket("a")["priority"] == code


async def test_set_priority_refuses_p5_and_an_invalid_code_gets_the_validation_error() -> None:
    with FreshserviceEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        ticket_id = key.removeprefix("#")
        to_p5 = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=Priority.P5)
        with pytest.raises(UnsupportedAction) as refused:
            FreshserviceConnector.plan_action(config_for(emu), to_p5)
        # A tenant reading Low as P5 sets P5 with code 1 (and has no P4 left).
        mapped = config_for(emu, priority_map={"Low": "P5"})
        (planned,), _ = dry_run(FreshserviceConnector, mapped, to_p5)
        async with connector_for(emu) as fs:
            bad = PlannedRequest("PUT", f"/api/v2/tickets/{ticket_id}", body={"priority": 5})
            with pytest.raises(ConnectorError) as caught:
                await fs.send_planned(bad)
    assert "no priority here reads as P5" in str(refused.value)
    assert "4 Urgent (P1), 3 High (P2), 2 Medium (P3), 1 Low (P4)" in str(refused.value)
    assert planned.body == {"priority": 1}
    assert caught.value.http_status == 400
    assert emu.ticket("a")["priority"] == 3

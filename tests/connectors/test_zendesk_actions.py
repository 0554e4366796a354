"""Zendesk write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

import pytest

from connectors.actions import Action, ActionKind, Handoff, UnsupportedAction
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from tests.connectors.test_zendesk import by_key, connector_for, world


def handoff(correlation: str = "network:OPS-1") -> Handoff:
    return Handoff(
        title="Printer VLAN unreachable",
        description="Handed over from network OPS-1.",
        source_vendor="network",
        source_key="OPS-1",
        source_external_id="10001",
        correlation=correlation,
        requester="Maria Jensen",
        asset="PRN-0042",
        priority=Priority.P2,
    )


async def test_comment_internal_and_public_reach_the_ticket_and_show_in_the_next_poll() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as zd:
            before = by_key((await zd.poll(None)).tickets)[key].updated_at
            (planned,) = zd.plan(Action(ActionKind.COMMENT, ticket_id, key, text="Checked cabling"))
            assert planned.method == "PUT" and planned.path == f"/api/v2/tickets/{ticket_id}.json"
            assert planned.body == {
                "ticket": {"comment": {"body": "Checked cabling", "public": False}}
            }
            await zd.perform(Action(ActionKind.COMMENT, ticket_id, key, text="Checked cabling"))
            await zd.perform(
                Action(ActionKind.COMMENT, ticket_id, key, text="We are on it", public=True)
            )
            after = by_key((await zd.poll(None)).tickets)[key]
    notes = emu.comments_on(ticket_id)
    assert [(c.text, c.public) for c in notes] == [
        ("Checked cabling", False),
        ("We are on it", True),
    ]
    assert after.updated_at >= before


async def test_status_and_assignee_change_show_in_the_next_poll() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        emu.put_ticket(world("b", assignee="Ana Ruiz"))
        ticket_id = key.removeprefix("#")
        ana = next(u for u in emu._users.values() if u["name"] == "Ana Ruiz")
        async with connector_for(emu) as zd:
            await zd.perform(Action(ActionKind.ASSIGN, ticket_id, key, assignee=ana["email"]))
            await zd.perform(
                Action(ActionKind.SET_STATUS, ticket_id, key, status=TicketStatus.RESOLVED)
            )
            seen = by_key((await zd.poll(None)).tickets)[key]
    assert seen.assignee == "Ana Ruiz"
    assert seen.status is TicketStatus.RESOLVED and seen.raw_status == "solved"


async def test_assign_by_display_name_is_refused_before_sending() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as zd:
            sent = len(emu.requests)
            with pytest.raises(UnsupportedAction, match="id or e-mail"):
                zd.plan(Action(ActionKind.ASSIGN, key[1:], key, assignee="Kim Lee"))
    assert len(emu.requests) == sent


async def test_vendor_refusal_carries_the_vendors_reason() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.CLOSED))
        async with connector_for(emu) as zd:
            with pytest.raises(ConnectorError, match="422") as caught:
                await zd.perform(Action(ActionKind.COMMENT, key[1:], key, text="late note"))
    assert caught.value.http_status == 422
    assert emu.comments_on(key[1:]) == []


async def test_create_carries_external_id_and_dedupe_finds_it_again() -> None:
    with ZendeskEmulator() as emu:
        async with connector_for(emu) as zd:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await zd.find_existing(action) is None
            (planned,) = zd.plan(action)
            assert planned.body["ticket"]["external_id"] == "network:OPS-1"
            made = await zd.perform(action)
            again = await zd.find_existing(action)
            polled = by_key((await zd.poll(None)).tickets)
    assert made.created_id is not None and made.created_key == f"#{made.created_id}"
    assert again is not None and again.existing and again.created_id == made.created_id
    assert emu.created == [made.created_id]
    new = polled[made.created_key]
    assert new.title == "Printer VLAN unreachable"
    assert new.requester == "Maria Jensen" and new.priority is Priority.P2
    native = emu._tickets[int(made.created_id)]
    assert "prn-0042" in native["tags"]  # Zendesk has no asset field: the asset travels as a tag

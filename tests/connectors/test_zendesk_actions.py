"""Zendesk write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

import httpx2
import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.errors import ConfigurationError, ConnectorError
from connectors.records import Priority, TicketStatus
from connectors.zendesk import ZendeskConnector
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_zendesk import by_key, config_for, connector_for, world


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


# -- the dry run and the settings, without any client ------------------------------------

SECTION = {"email": "ops@acme.example", "api_token": "s3cret-token-value"}


def test_plan_action_needs_no_client_and_holds_no_credential() -> None:
    config = VendorConfig("desktop", "zendesk", "https://acme.zendesk.com/api/v2", settings=SECTION)
    planned = [
        ZendeskConnector.plan_action(config, action)
        for action in (
            Action(ActionKind.COMMENT, "42", "#42", text="Checked cabling", public=True),
            Action(ActionKind.ASSIGN, "42", "#42", assignee="kim@acme.example"),
            Action(ActionKind.SET_STATUS, "42", "#42", status=TicketStatus.RESOLVED, text="done"),
            Action(ActionKind.CREATE, handoff=handoff()),
        )
    ]
    assert [(p.method, p.path) for (p,) in planned] == [
        ("PUT", "/api/v2/tickets/42.json"),
        ("PUT", "/api/v2/tickets/42.json"),
        ("PUT", "/api/v2/tickets/42.json"),
        ("POST", "/api/v2/tickets.json"),
    ]
    assert planned[2][0].body == {
        "ticket": {"status": "solved", "comment": {"body": "done", "public": False}}
    }
    shown = repr(planned) + "".join(p.describe() for (p,) in planned)
    assert "s3cret-token-value" not in shown and "ops@acme.example" not in shown


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"pagesize": 5}, r"unknown setting 'pagesize'"),
        ({"page_size": 1001}, r"page_size: "),
        ({"page_size": "lots"}, r"page_size: "),
        ({"backfill_days": "soon"}, r"backfill_days: "),
        ({"concurrency": 0}, r"concurrency: "),
        ({"conversations": "some"}, r"conversations: "),
        ({"export_requests_per_minute": 0}, r"export_requests_per_minute: "),
        ({"status_map": {"hold": "sleeping"}}, r"status_map"),
    ],
)
def test_settings_errors_name_the_key(extra: dict[str, object], named: str) -> None:
    config = VendorConfig(
        "desktop", "zendesk", "https://acme.zendesk.com", settings={**SECTION, **extra}
    )
    with pytest.raises(ConfigurationError, match=named) as caught:
        ZendeskConnector.validate(config)
    assert "s3cret" not in str(caught.value)


def test_settings_defaults_and_a_section_that_still_names_its_kind() -> None:
    config = VendorConfig(
        "desktop", "zendesk", "https://acme.zendesk.com", settings={**SECTION, "kind": "zendesk"}
    )
    settings = ZendeskConnector.parse_settings(config)
    assert (settings.page_size, settings.concurrency, settings.overlap_seconds) == (1000, 4, 600)
    assert (settings.conversations, settings.export_requests_per_minute) == ("all", 10)
    assert settings.backfill_days == 30
    assert "s3cret" not in repr(settings)
    with pytest.raises(ConfigurationError, match=r"needs email\+api_token"):
        ZendeskConnector.validate(
            VendorConfig("desktop", "zendesk", "https://acme.zendesk.com", settings={"email": "x"})
        )


def test_a_connector_built_only_to_plan_needs_no_secret_but_config_load_does() -> None:
    bare = VendorConfig("desktop", "zendesk", "http://127.0.0.1:9")  # the console's fixture
    planner = ZendeskConnector(bare, httpx2.AsyncClient())
    (planned,) = planner.plan(Action(ActionKind.COMMENT, "42", "#42", text="hello"))
    assert planned.path == "/api/v2/tickets/42.json"
    with pytest.raises(ConfigurationError, match=r"needs email\+api_token"):
        ZendeskConnector.validate(bare)
    with pytest.raises(ConfigurationError, match="page_size"):
        ZendeskConnector(
            VendorConfig("desktop", "zendesk", "http://127.0.0.1:9", settings={"page_size": 0}),
            httpx2.AsyncClient(),
        )


@pytest.mark.parametrize(
    ("wanted", "value"),
    [(Priority.P1, "urgent"), (Priority.P2, "high"), (Priority.P4, "low")],
)
async def test_set_priority_puts_the_zendesk_value_and_the_next_poll_reads_it(
    wanted: Priority, value: str
) -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        ticket_id = key.removeprefix("#")
        action = Action(ActionKind.SET_PRIORITY, ticket_id, key, priority=wanted)
        (planned,), _ = dry_run(ZendeskConnector, config_for(emu), action)
        assert planned.method == "PUT" and planned.path == f"/api/v2/tickets/{ticket_id}.json"
        assert planned.body == {"ticket": {"priority": value}}
        async with connector_for(emu) as zd:
            first = await zd.poll(None)
            before = by_key(first.tickets)[key]
            result = await zd.perform(action)
            seen = by_key((await zd.poll(first.cursor)).tickets)[key]
    assert result.http_status == 200
    assert before.priority is Priority.P3
    assert seen.priority is wanted and seen.raw_priority == value
    assert emu._tickets[int(ticket_id)]["priority"] == value


async def test_set_priority_refuses_p5_which_zendesk_cannot_express() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a"))
        to_p5 = Action(ActionKind.SET_PRIORITY, key[1:], key, priority=Priority.P5)
        with pytest.raises(UnsupportedAction) as refused:
            ZendeskConnector.plan_action(config_for(emu), to_p5)
        # A tenant that reads "low" as P5 can: P4 then has no value of its own.
        mapped = config_for(emu, priority_map={"low": "P5"})
        (planned,), _ = dry_run(ZendeskConnector, mapped, to_p5)
        to_p4 = Action(ActionKind.SET_PRIORITY, key[1:], key, priority=Priority.P4)
        with pytest.raises(UnsupportedAction, match="reads as P4"):
            ZendeskConnector.plan_action(mapped, to_p4)
    assert "no priority here reads as P5" in str(refused.value)
    assert "urgent (P1), high (P2), normal (P3), low (P4)" in str(refused.value)
    assert planned.body == {"ticket": {"priority": "low"}}


async def test_an_invalid_priority_gets_zendesks_record_invalid() -> None:
    with ZendeskEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        ticket_id = key.removeprefix("#")
        async with connector_for(emu) as zd:
            bad = PlannedRequest(
                "PUT", f"/api/v2/tickets/{ticket_id}.json", body={"ticket": {"priority": "P1"}}
            )
            with pytest.raises(ConnectorError) as caught:
                await zd.send_planned(bad)
    assert caught.value.http_status == 422
    assert "RecordInvalid: Record validation errors" in str(caught.value)
    assert emu._tickets[int(ticket_id)]["priority"] == "high"

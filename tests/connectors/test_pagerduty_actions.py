"""PagerDuty write-back against the emulator: the request on the wire and the next poll."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.pagerduty import PagerDutyEmulator
from connectors.errors import ConnectorError
from connectors.pagerduty import PagerDutyConnector
from connectors.pagerduty.actions import LOOKED_UP
from connectors.records import Priority, TicketRecord, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_pagerduty import connector_for, world


@asynccontextmanager
async def writer(emu: PagerDutyEmulator, **settings: str) -> AsyncIterator[PagerDutyConnector]:
    """A connector with the write-back settings the emulator offers (overridable)."""
    values = {"from_email": emu.from_email, "service_id": emu.service_id, **settings}
    connector = connector_for(emu, **{k: v for k, v in values.items() if v})
    try:
        yield connector
    finally:
        await connector.client.aclose()


def by_id(tickets: tuple[TicketRecord, ...]) -> dict[str, TicketRecord]:
    return {t.external_id: t for t in tickets}


def handoff(correlation: str = "desktop:#4201", **extra: object) -> Handoff:
    values: dict[str, object] = {
        "title": "Storage array degraded",
        "description": "Controller B reports a failed disk.",
        "source_vendor": "desktop",
        "source_key": "#4201",
        "source_external_id": "4201",
        "correlation": correlation,
        "asset": "SAN-01",
        "priority": Priority.P2,
        **extra,
    }
    return Handoff(**values)  # type: ignore[arg-type]


def writes(emu: PagerDutyEmulator) -> list[tuple[str, str, str | None, object]]:
    """(method, path, From header, JSON body) of every write the emulator received."""
    return [
        (r.method, r.path, r.headers.get("from"), r.json())
        for r in emu.requests
        if r.method in ("POST", "PUT")
    ]


async def test_internal_note_carries_from_and_shows_on_the_incident() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        ident = emu.incident_id("w1")
        async with writer(emu) as pd:
            before = by_id((await pd.poll(None)).tickets)[ident].updated_at
            action = Action(ActionKind.COMMENT, ident, key, text="Vendor engaged")
            (planned,) = pd.plan(action)
            assert (planned.method, planned.path) == ("POST", f"/incidents/{ident}/notes")
            assert planned.body == {"note": {"content": "Vendor engaged"}}
            assert planned.headers == {"From": emu.from_email}
            assert "From: paneglass-bot@acme.example" in planned.describe()
            result = await pd.perform(action)
            after = by_id((await pd.poll(None)).tickets)[ident]
    assert result.http_status == 201 and key in result.summary
    assert [(c.text, c.public) for c in emu.comments_on(ident)] == [("Vendor engaged", False)]
    assert writes(emu)[0][2] == emu.from_email
    assert after.updated_at > before
    assert emu.log_entries(ident)[-1]["type"] == "annotate_log_entry"


async def test_public_comment_is_refused_because_notes_are_internal() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        async with writer(emu) as pd:
            action = Action(ActionKind.COMMENT, emu.incident_id("w1"), key, text="hi", public=True)
            with pytest.raises(UnsupportedAction, match="internal only"):
                await pd.perform(action)
    assert emu.requests == []


async def test_writes_need_from_email_and_create_needs_service_id() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        note = Action(ActionKind.COMMENT, emu.incident_id("w1"), key, text="x")
        create = Action(ActionKind.CREATE, handoff=handoff())
        async with writer(emu, from_email="") as pd:
            with pytest.raises(UnsupportedAction, match="from_email"):
                pd.plan(note)
        async with writer(emu, service_id="") as pd:
            with pytest.raises(UnsupportedAction, match="service_id"):
                pd.plan(create)
            assert pd.plan(note)  # notes do not need a service
    assert emu.requests == []


async def test_from_who_is_no_user_is_refused_with_pagerdutys_reason() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        ident = emu.incident_id("w1")
        async with writer(emu, from_email="stranger@example.com") as pd:
            with pytest.raises(
                ConnectorError, match="HTTP 400: Requester User Not Found"
            ) as caught:
                await pd.perform(Action(ActionKind.COMMENT, ident, key, text="x"))
    assert caught.value.http_status == 400
    assert emu.comments_on(ident) == []


async def test_acknowledge_shows_as_open_with_a_first_response() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))  # triggered
        ident = emu.incident_id("w1")
        async with writer(emu) as pd:
            first = await pd.poll(None)
            assert by_id(first.tickets)[ident].status is TicketStatus.NEW
            action = Action(ActionKind.ACKNOWLEDGE, ident, key, text="Looking")
            put, note = pd.plan(action)
            assert (put.method, put.path) == ("PUT", f"/incidents/{ident}")
            assert put.body == {
                "incident": {"type": "incident_reference", "status": "acknowledged"}
            }
            assert put.headers == {"From": emu.from_email}
            assert note.body == {"note": {"content": "Looking"}}
            await pd.perform(action)
            seen = by_id((await pd.poll(first.cursor)).tickets)[ident]
    assert (seen.status, seen.raw_status) == (TicketStatus.OPEN, "acknowledged")
    assert seen.first_response_at is not None
    assert [c.text for c in emu.comments_on(ident)] == ["Looking"]


async def test_resolve_with_resolution_reaches_the_next_incremental_poll() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1, TicketStatus.OPEN))
        ident = emu.incident_id("w1")
        async with writer(emu) as pd:
            first = await pd.poll(None)
            action = Action(ActionKind.RESOLVE, ident, key, text="Disk replaced")
            (put,) = pd.plan(action)
            assert put.body == {
                "incident": {
                    "type": "incident_reference",
                    "status": "resolved",
                    "resolution": "Disk replaced",
                }
            }
            result = await pd.perform(action)
            second = by_id((await pd.poll(first.cursor)).tickets)
    # Resolved incidents leave the open list: only the log entry brings this one back.
    assert second[ident].status is TicketStatus.RESOLVED
    assert second[ident].resolved_at is not None and second[ident].assignee is None
    assert "resolved" in result.summary
    last = emu.log_entries(ident)[-1]
    assert (last["type"], last["note"]) == ("resolve_log_entry", "Disk replaced")


async def test_set_status_maps_open_and_closed_and_refuses_the_rest() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        ident = emu.incident_id("w1")
        async with writer(emu) as pd:
            opened = Action(ActionKind.SET_STATUS, ident, key, status=TicketStatus.OPEN)
            closed = Action(ActionKind.SET_STATUS, ident, key, status=TicketStatus.CLOSED)
            assert pd.plan(opened)[0].body["incident"]["status"] == "acknowledged"
            assert pd.plan(closed)[0].body["incident"]["status"] == "resolved"
            pending = Action(ActionKind.SET_STATUS, ident, key, status=TicketStatus.PENDING)
            with pytest.raises(UnsupportedAction, match="not set to pending"):
                pd.plan(pending)
            await pd.perform(closed)
    assert emu.incident(ident)["status"] == "resolved"


async def test_assign_by_user_id_and_by_email() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1))
        ident = emu.incident_id("w1")
        kim = emu.add_user("Kim Lee")
        ana = emu.add_user("Ana Ruiz")
        async with writer(emu) as pd:
            by_user_id = Action(ActionKind.ASSIGN, ident, key, assignee=kim)
            (put,) = pd.plan(by_user_id)
            assert put.body == {
                "incident": {
                    "type": "incident_reference",
                    "assignments": [{"assignee": {"id": kim, "type": "user_reference"}}],
                }
            }
            await pd.perform(by_user_id)
            to_kim = by_id((await pd.poll(None)).tickets)[ident].assignee
            email = emu.user(ana)["email"]
            by_email = Action(ActionKind.ASSIGN, ident, key, assignee=email)
            lookup, put = pd.plan(by_email)
            assert (lookup.method, lookup.path, dict(lookup.params)) == (
                "GET",
                "/users",
                {"query": email},
            )
            assert put.body["incident"]["assignments"][0]["assignee"]["id"] == LOOKED_UP
            assert "looked up at send time" in put.note
            await pd.perform(by_email)
            to_ana = by_id((await pd.poll(None)).tickets)[ident].assignee
    assert (to_kim, to_ana) == ("Kim Lee", "Ana Ruiz")
    assert writes(emu)[-1][3]["incident"]["assignments"][0]["assignee"]["id"] == ana


async def test_assign_refusals() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(1, TicketStatus.RESOLVED))
        ident = emu.incident_id("w1")
        kim = emu.add_user("Kim Lee")
        async with writer(emu) as pd:
            with pytest.raises(UnsupportedAction, match="not by name"):
                pd.plan(Action(ActionKind.ASSIGN, ident, key, assignee="Kim Lee"))
            with pytest.raises(ConnectorError, match="no user with the e-mail"):
                await pd.perform(Action(ActionKind.ASSIGN, ident, key, assignee="x@nowhere.test"))
            with pytest.raises(ConnectorError, match="Incident Already Resolved") as caught:
                await pd.perform(Action(ActionKind.ASSIGN, ident, key, assignee=kim))
    assert caught.value.http_status == 400
    assert emu.incident(ident)["assignments"] == []


async def test_create_with_incident_key_and_dedupe_finds_it_again() -> None:
    with PagerDutyEmulator() as emu:
        emu.put_ticket(world(1))
        async with writer(emu) as pd:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await pd.find_existing(action) is None
            (post,) = pd.plan(action)
            assert (post.method, post.path) == ("POST", "/incidents")
            assert post.headers == {"From": emu.from_email}
            incident = post.body["incident"]
            assert incident["type"] == "incident" and incident["title"] == "Storage array degraded"
            assert incident["service"] == {"id": emu.service_id, "type": "service_reference"}
            assert (incident["urgency"], incident["incident_key"]) == ("high", "desktop:#4201")
            assert "desktop #4201" in incident["body"]["details"]
            made = await pd.perform(action)
            again = await pd.find_existing(action)
            polled = by_id((await pd.poll(None)).tickets)
    assert made.http_status == 201 and made.created_id is not None and not made.existing
    assert made.created_key == f"#{emu.incident(made.created_id)['incident_number']}"
    assert again is not None and again.existing
    assert (again.created_id, again.created_key) == (made.created_id, made.created_key)
    assert emu.created == [made.created_id]
    new = polled[made.created_id]
    assert (new.title, new.status, new.priority) == (
        "Storage array degraded",
        TicketStatus.NEW,
        Priority.P2,  # urgency high
    )


async def test_reusing_an_open_incident_key_is_refused_and_dedupe_finds_the_first() -> None:
    with PagerDutyEmulator() as emu:
        async with writer(emu) as pd:
            action = Action(ActionKind.CREATE, handoff=handoff())
            made = await pd.perform(action)
            with pytest.raises(ConnectorError, match="HTTP 400") as caught:
                await pd.perform(action)
            found = await pd.find_existing(action)
        refusal = emu.requests[-2]  # the second POST, before the dedupe lookup
    assert caught.value.http_status == 400
    assert (refusal.method, refusal.path) == ("POST", "/incidents")
    assert found is not None and found.existing and found.created_id == made.created_id
    assert emu.created == [made.created_id]


async def test_the_dedupe_refusal_names_pagerdutys_reason() -> None:
    with PagerDutyEmulator() as emu:
        async with writer(emu) as pd:
            action = Action(ActionKind.CREATE, handoff=handoff())
            await pd.perform(action)
            with pytest.raises(ConnectorError, match="matching dedup key already exists"):
                await pd.perform(action)


async def test_a_resolved_incident_frees_its_key_and_dedupe_prefers_the_open_one() -> None:
    with PagerDutyEmulator() as emu:
        async with writer(emu) as pd:
            action = Action(ActionKind.CREATE, handoff=handoff(priority=Priority.P4))
            first = await pd.perform(action)
            assert first.created_id is not None
            await pd.perform(Action(ActionKind.RESOLVE, first.created_id, first.created_key))
            second = await pd.perform(action)  # PagerDuty dedupes open incidents only
            found = await pd.find_existing(action)
    assert emu.incident(first.created_id)["urgency"] == "low"
    assert second.created_id not in (None, first.created_id)
    assert found is not None and found.created_id == second.created_id


def pd_config(emu: PagerDutyEmulator, **settings: object) -> VendorConfig:
    values = emu.vendor_settings()
    values.pop("kind")
    return VendorConfig("on-call", "pagerduty", emu.base_url, settings={**values, **settings})


@pytest.mark.parametrize("wanted", [Priority.P1, Priority.P5])
async def test_set_priority_looks_up_the_accounts_priority_and_the_log_feed_shows_it(
    wanted: Priority,
) -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(2, priority=Priority.P3))
        ident = emu.incident_id("w2")
        action = Action(ActionKind.SET_PRIORITY, ident, key, priority=wanted)
        (lookup, put), text = dry_run(PagerDutyConnector, pd_config(emu), action)
        assert (lookup.method, lookup.path) == ("GET", "/priorities")
        assert (put.method, put.path) == ("PUT", f"/incidents/{ident}")
        assert put.headers == {"From": emu.from_email}
        assert put.body == {
            "incident": {
                "type": "incident_reference",
                "priority": {"id": LOOKED_UP, "type": "priority_reference"},
            }
        }
        assert f"first priority that reads as {wanted.value}" in text
        async with writer(emu) as pd:
            first = await pd.poll(None)
            before = by_id(first.tickets)[ident]
            result = await pd.perform(action)
            seen = by_id((await pd.poll(first.cursor)).tickets)[ident]
    assert writes(emu) == [
        (
            "PUT",
            f"/incidents/{ident}",
            emu.from_email,
            {
                "incident": {
                    "type": "incident_reference",
                    "priority": {"id": f"PRI{wanted.value}", "type": "priority_reference"},
                }
            },
        )
    ]
    assert f"priority set to {wanted.value}" in result.summary
    assert before.priority is Priority.P3
    assert (seen.priority, seen.raw_priority) == (wanted, wanted.value)
    assert seen.updated_at > before.updated_at
    logged = [e for e in emu.log_entries(ident) if e["type"] == "field_value_change_log_entry"]
    assert [e["summary"] for e in logged] == [
        f"Priority changed to {wanted.value} by Paneglass Bot."
    ]


async def test_set_priority_on_an_account_without_priorities_is_refused_clearly() -> None:
    with PagerDutyEmulator(priorities=False) as emu:
        key = emu.put_ticket(world(2))
        ident = emu.incident_id("w2")
        action = Action(ActionKind.SET_PRIORITY, ident, key, priority=Priority.P1)
        async with writer(emu) as pd:
            with pytest.raises(UnsupportedAction) as refused:
                await pd.perform(action)  # GET /priorities answers 402
            direct = PlannedRequest(
                "PUT",
                f"/incidents/{ident}",
                body={"incident": {"type": "incident_reference", "priority": "P1"}},
                headers={"From": emu.from_email},
            )
            with pytest.raises(ConnectorError) as caught:
                await pd.send_planned(direct)
    assert "has no priorities" in str(refused.value)
    assert "Standard and Enterprise" in str(refused.value)
    assert caught.value.http_status == 402
    assert [w[0] for w in writes(emu)] == ["PUT"]  # only the direct one reached the account


async def test_set_priority_refuses_what_no_priority_of_the_account_reads_as() -> None:
    with PagerDutyEmulator() as emu:
        key = emu.put_ticket(world(2))
        ident = emu.incident_id("w2")
        action = Action(ActionKind.SET_PRIORITY, ident, key, priority=Priority.P5)
        async with writer(emu, priority_map={"P5": "P4"}) as pd:  # type: ignore[arg-type]
            with pytest.raises(UnsupportedAction) as refused:
                await pd.perform(action)
            unknown = PlannedRequest(
                "PUT",
                f"/incidents/{ident}",
                body={
                    "incident": {
                        "type": "incident_reference",
                        "priority": {"id": "PNOPE99", "type": "priority_reference"},
                    }
                },
                headers={"From": emu.from_email},
            )
            with pytest.raises(ConnectorError) as caught:
                await pd.send_planned(unknown)
    assert "no priority here reads as P5" in str(refused.value)
    assert "P5 (P4)" in str(refused.value)
    assert caught.value.http_status == 400
    assert emu.incident(ident)["priority"]["name"] == "P4"  # unchanged (world 2 is a P4)

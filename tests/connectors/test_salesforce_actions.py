"""Salesforce write-back against the emulator: comments, status, owner, hand-off by upsert."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from connectors.actions import Action, ActionKind, Handoff, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.base import Reply
from connectors.emulators.salesforce import EXTERNAL_ID_FIELD, SalesforceEmulator
from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from connectors.salesforce import SalesforceConnector
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_salesforce import by_key, config_for, connector_for, world

HANDOFF = Handoff(
    title="Printer VLAN unreachable",
    description="VLAN 40 drops the print server",
    source_vendor="desktop",
    source_key="#4201",
    source_external_id="4201",
    correlation="desktop:4201",
    requester="maria.jensen@acme.example",
    asset="PRN-3F-EAST",
    priority=Priority.P1,
    source_url="https://desk.example/4201",
)


def create() -> Action:
    return Action(ActionKind.CREATE, handoff=HANDOFF)


async def test_comment_is_a_case_comment_published_or_internal() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        case_id = emu.case_id("a")
        async with connector_for(emu) as sf:
            public = await sf.perform(
                Action(ActionKind.COMMENT, case_id, "00001001", "on it", True)
            )
            await sf.perform(Action(ActionKind.COMMENT, case_id, text="cable swapped"))
        assert public.http_status == 201 and "case 00001001 updated" in public.summary
        written = emu.comments_on(case_id)
        assert [(c.text, c.public) for c in written] == [("on it", True), ("cable swapped", False)]
        posts = [r for r in emu.requests if r.path.endswith("/sobjects/CaseComment")]
        assert posts[0].json() == {"ParentId": case_id, "CommentBody": "on it", "IsPublished": True}


async def test_set_status_writes_the_orgs_picklist_value_and_a_note() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        case_id = emu.case_id("a")
        async with connector_for(emu) as sf:
            await sf.perform(Action(ActionKind.SET_STATUS, case_id, status=TicketStatus.PENDING))
            assert emu.case("a")["Status"] == "On Hold"
            await sf.perform(
                Action(ActionKind.SET_STATUS, case_id, text="fixed", status=TicketStatus.CLOSED)
            )
        case = emu.case("a")
        assert case["Status"] == "Closed" and case["IsClosed"] is True and case["ClosedDate"]
        assert [(c.text, c.public) for c in emu.comments_on(case_id)] == [("fixed", False)]


async def test_a_status_the_org_has_no_value_for_is_refused_before_sending() -> None:
    with SalesforceEmulator() as emu:
        config = config_for(emu, status_values={})
        settings = dict(config.settings)
        settings.pop("status_values")
        config = VendorConfig("p", "salesforce", emu.base_url, settings=settings)
        action = Action(ActionKind.SET_STATUS, "500Dx0000000001AAA", status=TicketStatus.PENDING)
        with pytest.raises(UnsupportedAction, match=r"status_values = \{ pending"):
            SalesforceConnector.plan_action(config, action)


async def test_a_value_outside_the_picklist_is_a_clear_vendor_error() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        case_id = emu.case_id("a")
        async with connector_for(emu, status_values={"pending": "Waiting"}) as sf:
            with pytest.raises(ConnectorError) as caught:
                await sf.perform(
                    Action(ActionKind.SET_STATUS, case_id, status=TicketStatus.PENDING)
                )
        message = str(caught.value)
        assert message.startswith("HTTP 400 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
        assert "(Status)" in message


async def test_assign_by_user_id_by_queue_id_and_by_e_mail() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b", assignee=None, group="Tier 2"))
        case_id = emu.case_id("a")
        ana = emu._named("User", "Ana Ruiz", email="ana.ruiz@acme.example")
        queue = emu.case("b")["OwnerId"]
        async with connector_for(emu) as sf:
            await sf.perform(Action(ActionKind.ASSIGN, case_id, assignee=queue))
            assert emu.case("a")["OwnerId"] == queue
            await sf.perform(Action(ActionKind.ASSIGN, case_id, assignee="ana.ruiz@acme.example"))
            assert emu.case("a")["OwnerId"] == ana
            lookup = [r for r in emu.requests if "FROM User" in (r.param("q") or "")]
            assert lookup[0].param("q") == (
                "SELECT Id FROM User WHERE Email = 'ana.ruiz@acme.example' "
                "AND IsActive = true LIMIT 2"
            )
            with pytest.raises(UnsupportedAction, match="no active Salesforce users"):
                await sf.perform(Action(ActionKind.ASSIGN, case_id, assignee="nobody@acme.example"))
            with pytest.raises(UnsupportedAction, match="user or queue Id"):
                await sf.perform(Action(ActionKind.ASSIGN, case_id, assignee="Ana Ruiz"))
            with pytest.raises(ConnectorError, match="INVALID_CROSS_REFERENCE_KEY"):
                await sf.perform(Action(ActionKind.ASSIGN, case_id, assignee="005Dx0000009ZZZAAA"))


async def test_hand_off_is_an_upsert_by_external_id_and_reads_the_case_number_back() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            result = await sf.perform(create())
            assert result.http_status == 201 and result.created_id and result.created_key
            case = emu.case(result.created_id)
            assert result.created_key == case["CaseNumber"]
            assert result.summary == f"HTTP 201: created case {case['CaseNumber']}"
            assert case[EXTERNAL_ID_FIELD] == "desktop:4201"
            assert case["Subject"] == "Printer VLAN unreachable"
            assert case["Priority"] == "Critical"  # P1 in this org's priority_values
            assert case["SuppliedEmail"] == "maria.jensen@acme.example"
            assert "Handed over from desktop #4201 (desktop:4201)." in case["Description"]
            upsert = next(r for r in emu.requests if r.method == "PATCH")
            assert (
                upsert.path
                == f"/services/data/v66.0/sobjects/Case/{EXTERNAL_ID_FIELD}/desktop%3A4201"
            )
            assert EXTERNAL_ID_FIELD not in (upsert.json() or {})

            # The same hand-off again (its answer was lost): no second case.
            again = await sf.perform(create())
        assert again.existing is True and again.created_id == result.created_id
        assert again.http_status == 200
        assert emu.created == [result.created_id]


async def test_a_retried_hand_off_asks_first_and_never_overwrites() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            assert await sf.find_existing(create()) is None
            made = await sf.perform(create())
            assert made.created_id is not None
            emu._update("Case", made.created_id, {"Subject": "renamed by the partner"})
            sent = len(emu.requests)
            found = await sf.find_existing(create())
        assert found is not None and found.existing
        assert (found.created_id, found.created_key) == (made.created_id, made.created_key)
        assert [r.method for r in emu.requests[sent:]] == ["GET"]
        assert emu.case(made.created_id)["Subject"] == "renamed by the partner"
        assert SalesforceConnector.create_dedupe


async def test_several_cases_with_one_external_id_are_reported() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu) as sf:
            made = await sf.perform(create())
            assert made.created_id is not None
            emu.put_ticket(world("dup"))
            emu._update("Case", emu.case_id("dup"), {EXTERNAL_ID_FIELD: "desktop:4201"})
            with pytest.raises(ConnectorError, match="mark the field Unique"):
                await sf.find_existing(create())
            with pytest.raises(ConnectorError, match="HTTP 300"):
                await sf.perform(create())


async def test_a_missing_external_id_field_is_a_clear_error() -> None:
    with SalesforceEmulator() as emu:
        async with connector_for(emu, external_id_field="Other_Ref__c") as sf:
            with pytest.raises(ConnectorError, match="NOT_FOUND: Provided external ID field"):
                await sf.perform(create())


async def test_an_overlong_comment_is_refused_before_sending() -> None:
    with SalesforceEmulator() as emu:
        config = config_for(emu)
        action = Action(ActionKind.COMMENT, "500Dx0000000001AAA", text="é" * 2001)
        with pytest.raises(UnsupportedAction, match="4,000 bytes"):
            SalesforceConnector.plan_action(config, action)


def test_the_dry_run_needs_no_client_and_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a dry run built an HTTP client")

    monkeypatch.setattr(httpx2, "AsyncClient", no_client)
    emu = SalesforceEmulator(client_secret="dry-run-secret")
    settings = emu.vendor_settings()
    settings.pop("kind")
    config = VendorConfig("p", "salesforce", "https://acme.my.salesforce.com", settings=settings)
    case_id = "500Dx0000000001AAA"
    actions = [
        Action(ActionKind.COMMENT, case_id, text="hello", public=True),
        Action(ActionKind.ASSIGN, case_id, assignee="005Dx0000000001AAA"),
        Action(ActionKind.ASSIGN, case_id, assignee="kim@acme.example"),
        Action(ActionKind.SET_STATUS, case_id, text="done", status=TicketStatus.RESOLVED),
        Action(ActionKind.SET_PRIORITY, case_id, priority=Priority.P1),
        create(),
    ]
    assert {a.kind for a in actions} == set(SalesforceConnector.supported_actions)
    for action in actions:
        planned = SalesforceConnector.plan_action(config, action)
        text = "\n".join(p.describe() for p in planned)
        assert text and "dry-run-secret" not in text and settings["client_id"] not in text
        assert all("authorization" not in {h.lower() for h in p.headers} for p in planned)
    (upsert,) = SalesforceConnector.plan_action(config, create())
    assert upsert.method == "PATCH"
    assert upsert.path.endswith(f"/sobjects/Case/{EXTERNAL_ID_FIELD}/desktop%3A4201")


async def test_writes_are_paced_and_mapped_like_polls() -> None:
    with SalesforceEmulator() as emu:
        emu.put_ticket(world("a"))
        case_id = emu.case_id("a")
        async with connector_for(emu) as sf:
            await sf.check()
            emu.inject(
                Reply(
                    403,
                    [
                        {
                            "errorCode": "REQUEST_LIMIT_EXCEEDED",
                            "message": "TotalRequests Limit exceeded.",
                        }
                    ],
                )
            )
            from connectors.errors import RateLimited

            with pytest.raises(RateLimited):
                await sf.perform(Action(ActionKind.COMMENT, case_id, text="x"))
            await sf.perform(Action(ActionKind.COMMENT, case_id, text="y"))
        assert sf.budget.used is not None
        assert [c.text for c in emu.comments_on(case_id)] == ["y"]


@pytest.mark.parametrize(
    ("wanted", "value"), [(Priority.P1, "Critical"), (Priority.P2, "High"), (Priority.P4, "Low")]
)
async def test_set_priority_patches_the_case_and_the_next_poll_reads_it(
    wanted: Priority, value: str
) -> None:
    with SalesforceEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        case_id = emu.case_id("a")
        # The emulator's org declares its top value: priority_values = { P1 = "Critical" }.
        action = Action(ActionKind.SET_PRIORITY, case_id, key, priority=wanted)
        (planned,), _ = dry_run(SalesforceConnector, config_for(emu), action)
        assert planned.method == "PATCH" and planned.path.endswith(f"/sobjects/Case/{case_id}")
        assert planned.body == {"Priority": value}
        async with connector_for(emu) as sf:
            first = await sf.poll(None)
            before = by_key(first.tickets)[key]
            result = await sf.perform(action)
            seen = by_key((await sf.poll(first.cursor)).tickets)[key]
    assert result.http_status == 204
    assert before.priority is Priority.P3
    assert (seen.priority, seen.raw_priority) == (wanted, value)
    assert emu.case("a")["Priority"] == value


async def test_set_priority_out_of_the_box_has_no_p1_and_never_sends_high_for_it() -> None:
    with SalesforceEmulator() as emu:
        config = config_for(emu)
        settings = {k: v for k, v in config.settings.items() if k != "priority_values"}
        plain = VendorConfig("p", "salesforce", emu.base_url, settings=settings)
        to_p1 = Action(ActionKind.SET_PRIORITY, "500Dx0000000001AAA", priority=Priority.P1)
        with pytest.raises(UnsupportedAction) as refused:
            SalesforceConnector.plan_action(plain, to_p1)
        to_p5 = Action(ActionKind.SET_PRIORITY, "500Dx0000000001AAA", priority=Priority.P5)
        with pytest.raises(UnsupportedAction, match="reads as P5"):
            SalesforceConnector.plan_action(config, to_p5)
        # An org whose lowest value is "Planning": declared alone, nothing reads it as P5…
        declared = {**settings, "priority_values": {"P5": "Planning"}}
        unread = VendorConfig("p", "salesforce", emu.base_url, settings=declared)
        with pytest.raises(UnsupportedAction, match="reads as P5"):
            SalesforceConnector.plan_action(unread, to_p5)
        # …declared and mapped, it is sent.
        mapped = VendorConfig(
            "p",
            "salesforce",
            emu.base_url,
            settings={**declared, "priority_map": {"Planning": "P5"}},
        )
        (planned,), _ = dry_run(SalesforceConnector, mapped, to_p5)
    message = str(refused.value)
    assert "no priority here reads as P1" in message
    assert "High (P2), Medium (P3), Low (P4)" in message
    assert 'priority_values = { P1 = "…" }' in message
    assert planned.body == {"Priority": "Planning"}


async def test_a_priority_outside_the_picklist_is_the_orgs_restricted_picklist_error() -> None:
    with SalesforceEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P2))
        case_id = emu.case_id("a")
        # A value declared for P5 that this org's picklist does not have.
        async with connector_for(
            emu, priority_values={"P5": "Lowest"}, priority_map={"Lowest": "P5"}
        ) as sf:
            with pytest.raises(ConnectorError) as caught:
                await sf.perform(
                    Action(ActionKind.SET_PRIORITY, case_id, key, priority=Priority.P5)
                )
    message = str(caught.value)
    assert message.startswith("HTTP 400 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert "(Priority)" in message
    assert emu.case("a")["Priority"] == "High"

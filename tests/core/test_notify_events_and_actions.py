"""Every kind of transition a rule can listen to, escalation actions, and the webhook shapes.

Real parts: a SQLite file, the real notifier and outbox sender, the ServiceNow
connector's own dry run, ``paneglass check --rules`` through the CLI, and a
webhook receiver on 127.0.0.1; the clock is moved by hand.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.actions import Action, ActionKind
from connectors.base import VendorConfig
from connectors.emulators.base import WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.records import (
    ComponentRecord,
    ComponentState,
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from connectors.servicenow.connector import ServiceNowConnector
from paneglass.cli import main
from paneglass.collect.notifier import Notifier
from paneglass.collect.outbox_sender import OutboxSender
from paneglass.config import parse_config
from paneglass.notify.rules import Webhook
from paneglass.notify.webhook import send_webhook
from paneglass.store import (
    Actor,
    NewAction,
    NotificationView,
    OutboxItem,
    PollRunInfo,
    Store,
)
from tests.core.test_notifications import T0, TOAST_RULE, World, settings, ticket, write
from tests.hostile import HOSTILE_STRINGS
from tests.notify_servers import WebhookReceiver
from tests.ui.test_notify_demo import Viewer, wait_for

EVERYTHING = """
[[notify.rules]]
name = "all"
when = ["ticket-new", "vendor", "connector", "outbox-failed", "case-changed"]
channels = ["toast"]
"""


async def test_every_kind_of_transition_is_recorded_once_and_fired(tmp_path: Path) -> None:
    world = World(tmp_path, settings(tmp_path, EVERYTHING))
    store, now = world.store, T0
    await world.at(0)
    assert world.events() == []
    # A new P1 after the vendor's first sync; a P4 is no news.
    world.add(ticket("7", T0), ticket("8", T0, priority=Priority.P4))
    # The status page: a component down and an incident opened.
    status = StatusSnapshot(
        "major",
        "Partial outage",
        components=(
            ComponentRecord(
                "c1", "Email", ComponentState.MAJOR_OUTAGE, "major_outage", None, 0, T0
            ),
        ),
        incidents=(IncidentRecord("i1", "Email delays", "investigating", "major", T0, T0),),
    )
    store.apply("hosting", PollResult(status=status), None, now)
    # A failed poll: the connector is failing.
    store.apply("hosting", None, PollRunInfo(now, now, False, "auth", "401 from the vendor"), now)
    # A write-back action that failed for good.
    action = Action(ActionKind.COMMENT, "7", "INC7", text="hello", public=False)
    queued = store.enqueue_action(
        Actor("maria"),
        now,
        NewAction(
            vendor="hosting",
            kind="comment",
            payload=action.to_json(),
            summary="comment on INC7",
            detail="",
            external_id="7",
            ticket_key="INC7",
        ),
    )
    store.claim_action(queued, now, "test:1")
    store.action_failed(queued, now, "HTTP 403 forbidden", 403, None)
    # A case opened.
    store.create_case(Actor("maria"), now, "Email outage")
    for minute in (0.2, 0.4, 0.6):
        await world.at(minute)
    events = sorted(e for e, _, _ in world.events())
    assert events == [
        "case-changed",
        "connector-failing",
        "outbox-failed",
        "ticket-new",
        "vendor-degraded",
        "vendor-incident",
    ], events
    assert sorted(kind for kind, _ in world.sends()) == ["first"] * 6
    rows = {r.event: r for r in store.notification_rows()}
    assert rows["ticket-new"].ticket_key == "INC7"
    assert "401" in rows["connector-failing"].detail
    assert rows["vendor-incident"].title == "Email delays"
    # Nothing fires twice on later passes.
    await world.at(5)
    assert len(world.sends()) == 6


ACT = """
[[notify.rules]]
name = "desk"
when = ["sla-breached"]
channels = ["toast"]
act_after = "10m"
act = "comment"
act_text = "Breach not acknowledged at the NOC: please call"
"""


VENDOR_TOML = (
    '[vendors.hosting]\nkind = "servicenow"\nbase_url = "http://127.0.0.1:9"\n'
    'username = "u"\npassword = "p"\n'
)


def acting_world(tmp_path: Path, *, allowed: bool) -> World:
    """A world whose notifier knows the vendor (with credentials) and may or may not act."""
    config = parse_config(tomllib.loads(VENDOR_TOML + ACT))
    world = World(tmp_path, config.notify)
    world.notifier = Notifier(
        world.store,
        config.notify,
        write,
        world.clock,
        vendors=list(config.vendors),
        actions_allowed=allowed,
    )
    world.add(ticket("3", T0 - timedelta(minutes=14)))
    return world


def action_sends(world: World) -> list[str]:
    item = world.store.notification_rows()[0]
    sends = world.store.notification_sends([item.id]).get(item.id, [])
    return [s.summary for s in sends if s.kind == "action"]


async def test_an_escalation_action_is_queued_once_and_audited(tmp_path: Path) -> None:
    world = acting_world(tmp_path, allowed=True)
    await world.at(1)  # breached at 1 min
    await world.at(2)
    await world.at(9)
    assert world.store.outbox_items() == [], "not before act_after"
    for minute in (12, 13, 20):
        await world.at(minute)
    actions = [i for i in world.store.outbox_items() if i.channel is None]
    assert len(actions) == 1, actions
    queued = actions[0]
    assert queued.kind == "comment" and queued.external_id == "3"
    assert queued.summary.startswith("escalation (desk): ")
    assert queued.requested_by == "rule desk"
    assert "please call" in json.loads(queued.payload)["text"]
    audit = world.store.audit_rows(limit=20)
    queued_audit = [a for a in audit if a.action == "queued comment"]
    assert [a.user for a in queued_audit] == ["rule desk"]
    assert "escalation (desk)" in (queued_audit[0].detail or "")
    assert len(action_sends(world)) == 1


async def test_a_read_only_collector_never_acts_at_the_vendor(tmp_path: Path) -> None:
    world = acting_world(tmp_path, allowed=False)
    for minute in (1, 2, 12, 13, 30):
        await world.at(minute)
    assert [i for i in world.store.outbox_items() if i.channel is None] == []
    said = action_sends(world)
    assert len(said) == 1 and "not sent (read-only console)" in said[0]


def test_check_rules_shows_each_escalation_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paneglass.toml"
    config.write_text(
        VENDOR_TOML
        + '[vendors.status]\nkind = "statuspage"\nbase_url = "http://127.0.0.1:9"\n'
        + ACT
        + '\n[[notify.rules]]\nname = "raise"\nwhen = ["sla-breached"]\nchannels = ["toast"]\n'
        'act_after = "1h"\nact = "raise-priority"\nact_priority = "P2"\n'
    )
    assert main(["check", "--rules", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "rule 'desk'" in out and "after 10 min unacknowledged: comment" in out
    dry = out.split("hosting (servicenow) dry run:", 1)[1]
    assert "TICKET_ID" in dry and "please call" in dry  # the connector's own request
    assert "127.0.0.1:9" in out or "POST" in dry or "PATCH" in dry
    raise_rule = out.split("rule 'raise'", 1)[1]
    assert "after 60 min unacknowledged: raise priority to P2" in raise_rule
    assert "never lowers: a ticket already at or above P2 is left" in raise_rule
    raised = raise_rule.split("hosting (servicenow) dry run:", 1)[1]
    assert "PATCH /api/now/table/incident/TICKET_ID" in raised
    assert '"impact": "1"' in raised and '"urgency": "2"' in raised  # P2 at the instance
    assert "impact x urgency" in raised
    assert "status (statuspage): refused — statuspage does not support set priority" in out


@pytest.mark.parametrize("shape", ["generic", "slack", "teams"])
async def test_webhook_shapes_reach_a_real_receiver(shape: str) -> None:
    event = {
        "event": "sla-breached",
        "rule": "P1 SLA",
        "summary": "INC1 P1 hosting response breached <!channel> & more",
        "detail": HOSTILE_STRINGS[0],
        "vendor": "hosting",
        "ticket_key": "INC1",
        "priority": "P1",
        "idempotency_key": "paneglass-first-1-P1_SLA-webhook",
    }
    with WebhookReceiver() as hook:
        answer = await send_webhook(
            Webhook(hook.url, shape), event, "paneglass-first-1-P1_SLA-webhook", deadline=10
        )
    assert "HTTP 200" in answer
    assert len(hook.posts) == 1
    key, body = hook.posts[0]
    assert key == "paneglass-first-1-P1_SLA-webhook"
    if shape == "generic":
        assert body == event
    elif shape == "slack":
        # Slack incoming webhooks: top-level text (the fallback) and Block Kit blocks.
        assert body["text"] == event["summary"]
        section = body["blocks"][0]
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        assert "<!channel>" not in section["text"]["text"]  # vendor text cannot ping everyone
        assert "&lt;!channel&gt; &amp; more" in section["text"]["text"]
    else:
        # Teams (Workflows / incoming webhook): a message with one Adaptive Card attachment.
        assert body["type"] == "message"
        (attachment,) = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == event["summary"]
        facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
        assert facts["Ticket"] == "INC1" and facts["Priority"] == "P1"


def test_store_is_closed_cleanly(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    assert store.unacked_notifications() == 0
    store.close()


async def test_an_acknowledgement_in_one_console_shows_in_another(tmp_path: Path) -> None:
    """A second console (its own process, following the store) shows who acknowledged."""
    world = World(tmp_path, settings(tmp_path, EVERYTHING))
    await world.at(0)
    world.add(ticket("7", T0))
    await world.at(0.5)
    (item,) = world.store.notification_rows()
    world.store.close()
    viewer = Viewer(world.store.url, "pane")
    try:
        assert await asyncio.to_thread(viewer.ready.wait, 60), viewer.lines[-20:]
        await wait_for(lambda: f"pane {item.id}:-" in viewer.lines, 30, "the pane to show it")
        other = Store(world.store.url)
        other.acknowledge(Actor("maria", "pts/3"), T0, notification_id=item.id)
        other.close()
        await wait_for(
            lambda: f"pane {item.id}:maria" in viewer.lines, 30, "the other console to see it"
        )
    finally:
        viewer.stop()


async def test_a_wall_shows_each_firing_but_never_rings_unless_told(tmp_path: Path) -> None:
    """Default [wall]: toasts, no bell, no desktop notification; a console rings once."""
    world = World(tmp_path, settings(tmp_path, TOAST_RULE))
    world.add(ticket("5", T0 - timedelta(minutes=14)))
    viewers = [Viewer(world.store.url, "wall"), Viewer(world.store.url, "console")]
    try:
        for viewer in viewers:
            assert await asyncio.to_thread(viewer.ready.wait, 60), viewer.lines[-20:]
        await world.at(1)  # breached at 1 min: one firing with toast and bell
        await world.at(2)
        assert world.sends() == [("first", "P1 SLA")]
        await wait_for(lambda: all(v.last[0] for v in viewers), 30, "both to show it")
        await asyncio.sleep(2)  # anything doubled would show by now
        wall, console = (v.last for v in viewers)
        assert len(wall[0]) == 1 and wall[1] == 0 and wall[2] == 0, wall
        assert len(console[0]) == 1 and console[1] == 1, console
    finally:
        for viewer in viewers:
            viewer.stop()


def test_which_tickets_a_rule_covers() -> None:
    notify = parse_config(
        tomllib.loads(
            """
[[notify.rules]]
name = "hosting only"
when = ["sla"]
vendors = ["hosting"]
channels = ["toast"]

[[notify.rules]]
name = "P1 and P2"
when = ["sla-breached"]
priorities = ["P1", "P2"]
channels = ["toast"]

[[notify.rules]]
name = "DBA"
when = ["sla"]
groups = ["DBA"]
channels = ["toast"]

[[notify.rules]]
name = "gold contract"
when = ["sla", "ticket-new"]
policies = ["Gold P1"]
channels = ["toast"]
"""
        )
    ).notify
    base = NotificationView(
        id=1, subject="ticket:1", clock="resolution", cycle=0, event="sla-breached",
        ticket_id=1, vendor="hosting", ticket_key="INC1", priority="P1", group_name="dba",
        policy="Gold P1", title="t", detail="", occurred_at=T0, recorded_at=T0,
        state="pending", rules="", acked_at=None, acked_by=None, snoozed_until=None,
        snoozed_by=None,
    )  # fmt: skip

    def names(**changes: object) -> list[str]:
        return [r.name for r in notify.matching(replace(base, **changes))]  # type: ignore[arg-type]

    assert names() == ["hosting only", "P1 and P2", "DBA", "gold contract"]
    assert names(vendor="jira") == ["P1 and P2", "DBA", "gold contract"]
    assert names(priority="P3") == ["hosting only", "DBA", "gold contract"]
    assert names(group_name="Service Desk") == ["hosting only", "P1 and P2", "gold contract"]
    assert names(policy="Silver") == ["hosting only", "P1 and P2", "DBA"]
    assert names(event="sla-at-risk") == ["hosting only", "DBA", "gold contract"]
    assert names(event="ticket-new") == ["gold contract"]


RAISE = """
[[notify.rules]]
name = "raise"
when = ["sla-breached"]
channels = ["toast"]
act_after = "10m"
act = "raise-priority"
"""


class RaisingWorld:
    """A world whose notifier raises priorities at a real ServiceNow emulator, and whose
    outbox sender sends there; :meth:`restart` is a collector started again on the file."""

    def __init__(self, tmp_path: Path, emu: ServiceNowEmulator, *, allowed: bool = True) -> None:
        settings = emu.vendor_settings()
        settings.pop("kind")
        self.vendor = VendorConfig("hosting", "servicenow", emu.base_url, settings=settings)
        self.notify = parse_config(tomllib.loads(RAISE)).notify
        self.allowed = allowed
        self.world = World(tmp_path, self.notify)
        self.connector = ServiceNowConnector(
            self.vendor, ServiceNowConnector.make_client(self.vendor)
        )
        self.restart(same_store=True)

    def restart(self, *, same_store: bool = False) -> None:
        world = self.world
        if not same_store:
            world.store.close()
            world.store = Store(str(world.store.engine.url))
        world.notifier = Notifier(
            world.store,
            self.notify,
            write,
            world.clock,
            vendors=[self.vendor],
            actions_allowed=self.allowed,
        )
        world.sender = OutboxSender(
            world.store, write, lambda vendor: self.connector, world.clock, "test:1"
        )

    def actions(self) -> list[OutboxItem]:
        return [i for i in self.world.store.outbox_items() if i.channel is None]

    async def aclose(self) -> None:
        await self.connector.client.aclose()
        self.world.store.close()


def incident(emu: ServiceNowEmulator, priority: Priority) -> tuple[str, TicketRecord]:
    """An incident at the emulator and the same ticket as the store holds it, breaching
    its response target (4 h at P3, 15 min at P1) one minute after T0."""
    target = {Priority.P1: timedelta(minutes=15), Priority.P3: timedelta(hours=4)}[priority]
    created = T0 - target + timedelta(minutes=1)
    number = emu.put_ticket(
        WorldTicket("r", "GP app server slow", TicketStatus.NEW, priority, created, created)
    )
    sys_id = emu.sys_id_of("r")
    record = ticket("r", created, priority=priority, raw_priority=priority.value[1:])
    return number, replace(record, external_id=sys_id, key=number)


async def test_raise_priority_raises_a_p3_to_p1_exactly_once_across_sweeps_and_a_restart(
    tmp_path: Path,
) -> None:
    with ServiceNowEmulator() as emu:
        number, record = incident(emu, Priority.P3)
        raising = RaisingWorld(tmp_path, emu)
        world = raising.world
        try:
            world.add(record)
            for minute in (1, 2, 9):
                await world.at(minute)
            assert raising.actions() == [], "not before act_after"
            await world.at(12)  # queued, and sent by the same pass's outbox sender
            await world.at(13)  # a second sweep: nothing more
            (sent,) = raising.actions()
            assert emu.incident("r")["priority"] == "1"
            # The next poll brings the change home; then the collector restarts.
            world.add(replace(record, priority=Priority.P1, raw_priority="1"))
            raising.restart()
            for minute in (20, 30, 90):
                await world.at(minute)
            (again,) = raising.actions()
            audit = world.store.audit_rows(limit=50)
            items = world.store.notification_rows()
            by_item = world.store.notification_sends([i.id for i in items])
            said = {
                i.event + " " + i.clock: [
                    s.summary for s in by_item.get(i.id, []) if s.kind == "action"
                ]
                for i in items
            }
        finally:
            await raising.aclose()
    patches = [r for r in emu.requests if r.method == "PATCH"]
    assert len(patches) == 1 and patches[0].json() == {"impact": "1", "urgency": "1"}
    assert again.id == sent.id and sent.state == "sent" and again.state == "sent"
    assert sent.kind == "set_priority" and sent.external_id == record.external_id
    assert sent.summary == "escalation (raise): set priority → P1"
    assert sent.requested_by == "rule raise"
    assert json.loads(sent.payload)["priority"] == "P1"
    queued = [a for a in audit if a.action == "queued set_priority"]
    assert [a.user for a in queued] == ["rule raise"]
    assert number in (queued[0].ticket_key or "")
    (raised,) = said.pop("sla-breached response")
    assert raised.endswith("escalation (raise): set priority → P1")
    # At P1 the resolution target is shorter: that breach too is past act_after, and
    # its escalation finds the ticket already raised.
    assert [s[-1].split(" — ")[1] for s in said.values()] == [
        "raise-priority: nothing to do (already P1, at or above P1)"
    ]


async def test_raise_priority_leaves_a_ticket_already_at_p1_alone_and_says_why(
    tmp_path: Path,
) -> None:
    with ServiceNowEmulator() as emu:
        _, record = incident(emu, Priority.P1)
        raising = RaisingWorld(tmp_path, emu)
        world = raising.world
        try:
            world.add(record)
            for minute in (1, 2, 12, 13, 30):
                await world.at(minute)
            assert raising.actions() == []
            item = world.store.notification_rows()[0]
            sends = world.store.notification_sends([item.id]).get(item.id, [])
        finally:
            await raising.aclose()
    assert not [r for r in emu.requests if r.method != "GET"]
    said = [s.summary for s in sends if s.kind == "action"]
    assert len(said) == 1
    assert "raise-priority: nothing to do (already P1, at or above P1)" in said[0]


async def test_a_read_only_collector_never_raises_a_priority(tmp_path: Path) -> None:
    with ServiceNowEmulator() as emu:
        _, record = incident(emu, Priority.P3)
        raising = RaisingWorld(tmp_path, emu, allowed=False)
        world = raising.world
        try:
            world.add(record)
            for minute in (1, 2, 12, 13, 30):
                await world.at(minute)
            assert raising.actions() == []
            item = world.store.notification_rows()[0]
            sends = world.store.notification_sends([item.id]).get(item.id, [])
        finally:
            await raising.aclose()
    assert not [r for r in emu.requests if r.method != "GET"]
    said = [s.summary for s in sends if s.kind == "action"]
    assert len(said) == 1 and "raise-priority: not sent (read-only console)" in said[0]
    assert emu.incident("r")["priority"] == "3"

"""Notifications on a controlled clock: each transition once, quiet hours, repeat, escalation.

A real store (a SQLite file), the real notifier and outbox sender, and a real
subprocess for the command channel; the clock is moved by hand.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.collect.notifier import Notifier
from paneglass.collect.outbox_sender import OutboxSender
from paneglass.config import parse_config
from paneglass.notify.rules import NotifySettings
from paneglass.store import Actor, PollRunInfo, Store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
VENDOR = VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def write(fn: Any, *args: Any) -> Any:
    return fn(*args)


def ticket(ref: str, created: datetime, **fields: Any) -> TicketRecord:
    values: dict[str, Any] = {
        "title": f"GP app server down {ref}",
        "status": TicketStatus.NEW,
        "raw_status": "New",
        "priority": Priority.P1,
        "raw_priority": "1",
        "created_at": created,
        "updated_at": created,
    }
    values.update(fields)
    return TicketRecord(external_id=ref, key=f"INC{ref}", **values)


def settings(tmp_path: Path, rules: str) -> NotifySettings:
    import tomllib

    return parse_config(tomllib.loads(rules)).notify


class World:
    """A store with one vendor past its first sync, the notifier and the outbox sender."""

    def __init__(self, tmp_path: Path, notify: NotifySettings, *tickets: TicketRecord) -> None:
        self.clock = Clock()
        self.store = Store(f"sqlite:///{tmp_path / 'n.db'}")
        self.store.sync_vendors([VENDOR])
        synced = self.clock.now - timedelta(minutes=1)  # the vendor's first sync: its backlog
        run = PollRunInfo(synced, synced, True)
        self.store.apply("hosting", PollResult(tickets=tickets), run, synced)
        self.notifier = Notifier(self.store, notify, write, self.clock, vendors=[VENDOR])
        self.sender = OutboxSender(
            self.store,
            write,
            lambda vendor: None,
            self.clock,
            "test:1",
            deliver=self.notifier.deliver,
        )

    async def at(self, minutes: float) -> int:
        self.clock.now = T0 + timedelta(minutes=minutes)
        self.store.tick_clocks(self.clock.now)
        fired = await self.notifier.run()
        await self.sender.send_due()
        return fired

    def add(self, *tickets: TicketRecord) -> None:
        self.store.apply("hosting", PollResult(tickets=tickets), None, self.clock.now)

    def events(self) -> list[tuple[str, str, str]]:
        return [(n.event, n.clock, n.state) for n in reversed(self.store.notification_rows())]

    def sends(self) -> list[tuple[str, str]]:
        return [(s.kind, s.rule) for s in self.store.notification_sends_after(0, 1000)]


TOAST_RULE = """
[[notify.rules]]
name = "P1 SLA"
when = ["sla"]
priorities = ["P1"]
channels = ["toast", "bell"]
"""


async def test_each_level_fires_once(tmp_path: Path) -> None:
    world = World(tmp_path, settings(tmp_path, TOAST_RULE))
    world.add(ticket("1", T0 + timedelta(minutes=1)))  # after the first sync: news
    await world.at(2)
    assert world.events() == []
    for minute in (9, 9.5, 10):  # 15 min response target: 50 % at 8.5 min after creation
        await world.at(minute)
    assert world.events() == [("sla-at-risk", "response", "dispatched")]
    await world.at(13)  # 75 %: 12.25 min
    await world.at(16.5)  # breached: 16 min
    await world.at(17)
    events = [e for e, _, _ in world.events()]
    assert events == ["sla-at-risk", "sla-near-breach", "sla-breached"]
    assert world.sends() == [("first", "P1 SLA")] * 3
    sends = world.store.notification_sends_after(0)
    assert all(s.channels == {"toast", "bell"} for s in sends)
    assert "INC1 P1 hosting response breached" in sends[-1].summary


async def test_a_first_sync_backlog_is_recorded_but_never_announced(tmp_path: Path) -> None:
    old = ticket("9", T0 - timedelta(hours=2), status=TicketStatus.OPEN)  # long breached
    world = World(tmp_path, settings(tmp_path, TOAST_RULE), old)
    await world.at(0.1)
    await world.at(1)
    assert ("sla-breached", "resolution", "baseline") not in world.events()  # not in the pane
    assert world.sends() == []
    assert world.store.unacked_notifications() == 0


async def test_quiet_hours_hold_and_the_digest_delivers(tmp_path: Path) -> None:
    out = tmp_path / "received.jsonl"
    script = tmp_path / "receive.py"
    script.write_text(
        "import sys, os\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    f.write(sys.stdin.read().replace('\\n', ' ') + '\\n')\n"
    )
    rules = f"""
[[notify.rules]]
name = "night desk"
when = ["sla-breached"]
channels = ["toast", "command"]
command = ["{sys.executable}", "{script}"]
quiet_hours = "09:00-09:30"
timezone = "UTC"
"""
    world = World(tmp_path, settings(tmp_path, rules))
    world.add(ticket("2", T0 - timedelta(minutes=1)))
    await world.at(1)
    await world.at(15)  # breached at 14 min, inside the quiet time
    assert [e for e, _, s in world.events()] == ["sla-breached"]
    assert world.sends() == [], "held: nothing shown, nothing sent"
    assert not out.exists()
    await world.at(29)
    assert not out.exists()
    await world.at(31)  # quiet time over: one digest
    await world.at(32)
    assert world.sends() == [("digest", "night desk")]
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    body = json.loads(lines[0])
    assert body["event"] == "digest" and len(body["items"]) == 1
    assert "INC2" in body["items"][0]
    assert body["idempotency_key"].startswith("paneglass-digest-night_desk")


async def test_repeat_until_acknowledged_and_escalate_to_another_rule(tmp_path: Path) -> None:
    rules = """
[[notify.rules]]
name = "desk"
when = ["sla-breached"]
channels = ["toast"]
repeat = "5m"
escalate_after = "12m"
escalate_to = "duty manager"

[[notify.rules]]
name = "duty manager"
when = ["vendor-incident"]
channels = ["toast", "bell"]
"""
    world = World(tmp_path, settings(tmp_path, rules))
    world.add(ticket("3", T0 - timedelta(minutes=14)))
    await world.at(1)  # breached at 1 min
    await world.at(2)
    assert world.sends() == [("first", "desk")]
    await world.at(5.9)
    assert len(world.sends()) == 1
    await world.at(6.1)  # 5 min after the first firing
    await world.at(11.2)
    assert world.sends() == [("first", "desk"), ("repeat", "desk"), ("repeat", "desk")]
    await world.at(13.5)  # 12 min unacknowledged: the duty manager's channels
    assert ("escalation", "duty manager") in world.sends()
    escalated = world.store.notification_sends_after(0, 100)[-1]
    assert escalated.channels == {"toast", "bell"}
    notification = world.store.notification_rows()[0]
    assert (
        world.store.acknowledge(
            Actor("maria", "pts/3"), world.clock.now, notification_id=notification.id
        )
        == 1
    )
    before = len(world.sends())
    await world.at(30)
    await world.at(60)
    assert len(world.sends()) == before, "an acknowledged notification never fires again"
    shown = world.store.notification_rows()[0]
    assert shown.acked_by == "maria" and shown.acked_at == T0 + timedelta(minutes=13.5)
    audit = world.store.audit_rows(limit=5)
    assert audit[0].action == "notification-ack" and audit[0].user == "maria"


async def test_snooze_holds_repeats_until_it_ends(tmp_path: Path) -> None:
    rules = """
[[notify.rules]]
name = "desk"
when = ["sla-breached"]
channels = ["toast"]
repeat = "5m"
"""
    world = World(tmp_path, settings(tmp_path, rules))
    world.add(ticket("4", T0 - timedelta(minutes=14)))
    await world.at(1)
    await world.at(2)
    notification = world.store.notification_rows()[0]
    world.store.snooze(
        Actor("tom"), world.clock.now, T0 + timedelta(minutes=20), ticket_id=notification.ticket_id
    )
    await world.at(10)
    await world.at(19)
    assert world.sends() == [("first", "desk")]
    await world.at(21)
    assert world.sends() == [("first", "desk"), ("repeat", "desk")]


async def test_two_notifiers_on_one_store_record_and_fire_once(tmp_path: Path) -> None:
    notify = settings(tmp_path, TOAST_RULE)
    world = World(tmp_path, notify)
    other_store = Store(world.store.url)
    other = Notifier(other_store, notify, write, world.clock)
    world.add(ticket("5", T0 - timedelta(minutes=14)))
    world.clock.now = T0 + timedelta(minutes=2)
    for _ in range(3):
        await world.notifier.run()
        await other.run()
    assert [e for e, _, _ in world.events()] == ["sla-breached"]
    assert world.sends() == [("first", "P1 SLA")]
    other_store.close()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[notify.rules]]\nname="x"\nwhen=["sla-late"]\nchannels=["toast"]', "not an event"),
        ('[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["pager"]', "is not one of"),
        ('[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["webhook"]', "needs webhook"),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["email"]\nemail_to=["a@b"]',
            "[notify.smtp]",
        ),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["toast"]\nquiet_hours="25:00-07:00"',
            "impossible",
        ),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["toast"]\nescalate_after="5m"',
            "go together",
        ),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["toast"]\nescalate_after="5m"\nescalate_to="y"',
            "not a rule",
        ),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["toast"]\nact="reboot"\nact_after="1m"',
            "act is one of",
        ),
        ('[notify.smtp]\nhost="m"\nusername="u"', "go together"),
        (
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["webhook"]\nwebhook="${NO_SUCH_HOOK}"',
            "NO_SUCH_HOOK",
        ),
    ],
)
def test_rule_mistakes_are_one_clear_line(toml: str, message: str) -> None:
    import tomllib

    from paneglass.errors import UserError

    with pytest.raises(UserError) as raised:
        parse_config(tomllib.loads(toml))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    monkeypatch.setenv("HOOK", "https://hooks.example/T000/B000/s3cr3t")
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    config = parse_config(
        tomllib.loads(
            '[notify.smtp]\nhost="127.0.0.1"\nusername="u"\npassword="${SMTP_PASSWORD}"\n'
            '[[notify.rules]]\nname="x"\nwhen=["sla"]\nchannels=["webhook","email"]\n'
            'webhook="${HOOK}"\nemail_to=["noc@acme.example"]\n'
        )
    )
    shown = repr(config.notify)
    assert "s3cr3t" not in shown and "hunter2" not in shown
    assert config.notify.rules[0].webhook is not None
    assert config.notify.rules[0].webhook.shown == "https://hooks.example/…"

"""A rule may mute notifications for a vendor's tickets during its announced maintenance.

``mute_in_maintenance = true`` on a ``[[notify.rules]]`` entry: while the
ticket's vendor is inside a maintenance window its status source announced,
the rule fires nothing for that vendor's tickets, and each muted
notification is written once to the audit log; other rules, other vendors
and the time outside the window are untouched.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.records import IncidentRecord, PollResult, StatusSnapshot
from paneglass.collect.notifier import Notifier
from paneglass.config import parse_config
from paneglass.errors import UserError
from paneglass.notify.plan import describe_rules
from paneglass.store import PollRunInfo, Store
from tests.core.test_notifications import T0, Clock, ticket, write

HOSTING = VendorConfig(
    "hosting", "servicenow", "http://127.0.0.1:9", status_source="hosting-status"
)
STATUS = VendorConfig("hosting-status", "statuspage", "http://127.0.0.1:8")
START, END = T0 + timedelta(minutes=5), T0 + timedelta(minutes=65)

RULES = """
[[notify.rules]]
name = "quiet in maintenance"
when = ["ticket-new"]
channels = ["toast"]
mute_in_maintenance = true

[[notify.rules]]
name = "always"
when = ["ticket-new"]
channels = ["bell"]
"""


def maintenance(status: str = "scheduled") -> StatusSnapshot:
    return StatusSnapshot(
        "none",
        "All systems operational",
        incidents=(
            IncidentRecord(
                "mnt-1",
                "Storage firmware upgrade",
                status,
                "maintenance",
                T0 - timedelta(days=1),
                T0 - timedelta(days=1),
                maintenance=True,
                scheduled_for=START,
                scheduled_until=END,
            ),
        ),
    )


async def test_a_rule_mutes_a_vendors_tickets_during_its_maintenance(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(f"sqlite:///{tmp_path / 'n.db'}")
    store.sync_vendors([HOSTING, STATUS])
    synced = T0 - timedelta(minutes=1)
    store.apply("hosting", PollResult(), PollRunInfo(synced, synced, True), synced)
    store.apply("hosting-status", PollResult(status=maintenance()), None, synced)
    notifier = Notifier(store, parse_config(tomllib.loads(RULES)).notify, write, clock)

    async def new_ticket(ref: str, minutes: float) -> list[tuple[str, str]]:
        clock.now = T0 + timedelta(minutes=minutes)
        store.apply("hosting", PollResult(tickets=(ticket(ref, clock.now),)), None, clock.now)
        await notifier.run()
        return [
            (s.rule, s.local)
            for s in store.notification_sends_after(0, 100)
            if s.summary.find(f"INC{ref}") >= 0
        ]

    assert await new_ticket("1", 1) == [("quiet in maintenance", "toast"), ("always", "bell")]
    assert await new_ticket("2", 10) == [("always", "bell")]  # inside the window: muted
    assert await new_ticket("3", 70) == [("quiet in maintenance", "toast"), ("always", "bell")]
    muted = [a for a in store.audit_rows() if a.action == "notification muted: vendor maintenance"]
    assert [(a.user, a.vendor, a.ticket_key) for a in muted] == [("paneglass", "hosting", "INC2")]
    assert "'quiet in maintenance'" in (muted[0].detail or "")
    await notifier.run()  # nothing is muted or audited twice
    assert len([a for a in store.audit_rows() if a.action.startswith("notification muted")]) == 1
    store.close()


def test_the_key_is_checked_and_described() -> None:
    bad = RULES.replace("mute_in_maintenance = true", 'mute_in_maintenance = "yes"')
    with pytest.raises(UserError, match="mute_in_maintenance must be true or false"):
        parse_config(tomllib.loads(bad))
    settings = parse_config(tomllib.loads(RULES)).notify
    lines = describe_rules(settings, [], lambda rule, spec, vendor: ("", None))
    assert any("announced maintenance" in line for line in lines)

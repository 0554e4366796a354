"""A hand-off carries the ticket: description, requester, asset and, if asked, the conversation.

Checked on every connector's own dry run (the plan the operator confirms),
since each vendor puts the text in a field of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind
from connectors.emulators import emulator_for
from paneglass.store import EntryView, TicketDetail, TimelineEntry
from paneglass.writeback.service import conversation_text, handoff_from

AT = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
EXTRA = {
    "autotask": {"company_id": 1},
    "jira": {"project": "ITSD"},
    "pagerduty": {"from_email": "desk@acme.example", "service_id": "PSVC1"},
    "connectwise": {"create_board_id": 1, "create_company_id": 2},
    "opsgenie": {"action_user": "desk@acme.example"},
}


def _entry(n: int, author: str, body: str, visibility: str) -> TimelineEntry:
    at = AT + timedelta(minutes=n)
    view = EntryView(n, f"c{n}", author, visibility, body, at, None, "text")
    return TimelineEntry(at, "desktop", "#48299", "conversation", body, view)


def printer_ticket(*entries: TimelineEntry) -> TicketDetail:
    return TicketDetail(
        id=1, vendor="desktop", kind="zendesk", external_id="48299", key="#48299",
        title="Cannot print, error code 49.4C02", status="open", raw_status="open",
        priority="P2", raw_priority="high", assignee="Kim Lee", group_name="Desk",
        requester="Maria Jensen", asset="PRN-3F-EAST", created_at=AT, updated_at=AT,
        resolved_at=None, first_response_at=None, vendor_due_at=None, vendor_breached=None,
        url="https://acme.zendesk.example/agent/tickets/48299", raw=None, first_seen_at=AT,
        last_seen_at=AT, description="The 3rd floor printer shows 49.4C02 since this morning.",
        timeline=entries,
    )  # fmt: skip


CONVERSATION = (
    _entry(1, "Maria Jensen", "It stops at every job with 49.4C02.", "public"),
    _entry(2, "Kim Lee", "Firmware 4.2 went out last night.", "internal"),
    _entry(3, "Zendesk", "Status changed to open", "system"),
)


def test_the_handoff_text_is_note_description_then_conversation() -> None:
    ticket = printer_ticket(*CONVERSATION)
    plain = handoff_from(ticket, "Please check VLAN 40")
    assert plain.description == (
        "Please check VLAN 40\n\nThe 3rd floor printer shows 49.4C02 since this morning."
    )
    assert (plain.requester, plain.asset) == ("Maria Jensen", "PRN-3F-EAST")
    told = handoff_from(ticket, "Please check VLAN 40", conversation=True).description
    assert told.endswith(
        "Conversation so far at desktop #48299 (2 entries, oldest first):\n\n"
        "— 2026-11-22 13:01 UTC · Maria Jensen · reply\nIt stops at every job with 49.4C02.\n\n"
        "— 2026-11-22 13:02 UTC · Kim Lee · internal note\nFirmware 4.2 went out last night."
    )
    assert "Status changed" not in told, "system entries stay behind"
    assert handoff_from(printer_ticket()).description.startswith("The 3rd floor printer")


def test_a_long_conversation_keeps_its_newest_entries() -> None:
    many = [_entry(n, "Ana", f"reply {n} " + "x" * 500, "public") for n in range(1, 40)]
    told = conversation_text(printer_ticket(*many), limit=3000)
    assert "(5 of 39 entries, oldest first)" in told
    assert "reply 39 " in told and "reply 34 " not in told


@pytest.mark.parametrize("kind", [*EXTRA, "servicenow", "zendesk", "freshservice"])
def test_every_vendors_create_plan_shows_the_whole_ticket(kind: str) -> None:
    settings = emulator_for(kind)().vendor_settings()
    settings.pop("kind")
    config = VendorConfig(
        "v", kind, "http://127.0.0.1:9", settings={**settings, **EXTRA.get(kind, {})}
    )
    handoff = handoff_from(printer_ticket(*CONVERSATION), "Please check VLAN 40", conversation=True)
    planned = load_connector(kind).plan_action(config, Action(ActionKind.CREATE, handoff=handoff))
    shown = "\n".join(request.describe() for request in planned)
    for expected in (
        "Please check VLAN 40",
        "shows 49.4C02 since this morning",
        "Conversation so far at desktop #48299",
        "It stops at every job with 49.4C02.",
        "Firmware 4.2 went out last night.",
        "Maria Jensen",
    ):
        assert expected in shown, f"{kind}: {expected!r} missing from\n{shown}"
    assert "prn-3f-east" in shown.lower(), f"{kind}: the asset is missing from\n{shown}"

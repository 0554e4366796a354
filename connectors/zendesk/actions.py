"""Zendesk write-back: what an action sends, planned from settings alone, and its answer.

Comments, status, assignee and priority all go in one ``PUT /api/v2/tickets/{id}.json``
(Zendesk has no comment endpoint of its own); a hand-off is ``POST
/api/v2/tickets.json`` carrying ``external_id``, which
``GET /api/v2/tickets.json?external_id=`` finds again before a retried create.
Credentials live on the HTTP client, so no plan ever holds one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    PlannedRequest,
    PriorityChoice,
    UnsupportedAction,
    vendor_priority,
)
from connectors.errors import BadPayload
from connectors.http import decode_json
from connectors.records import Priority, TicketStatus
from connectors.settings import ConnectorSettings
from connectors.zendesk.mapping import PRIORITY_MAP

if TYPE_CHECKING:
    from connectors.zendesk.connector import ZendeskConnector

__all__ = ["PRIORITY_OUT", "STATUS_OUT", "TICKETS_PATH", "find_existing", "perform", "plan"]

TICKETS_PATH = "/api/v2/tickets.json"
STATUS_OUT = {
    TicketStatus.NEW: "new",
    TicketStatus.OPEN: "open",
    TicketStatus.PENDING: "pending",
    TicketStatus.RESOLVED: "solved",
    TicketStatus.CLOSED: "closed",
}
PRIORITY_OUT = {
    Priority.P1: "urgent",
    Priority.P2: "high",
    Priority.P3: "normal",
    Priority.P4: "low",
    Priority.P5: "low",
}
"""A hand-off's priority: the nearest Zendesk value (P5 has none of its own)."""


def plan(action: Action, settings: ConnectorSettings | None = None) -> tuple[PlannedRequest, ...]:
    """The one request ``action`` sends: a ticket PUT, or a POST for a hand-off.

    ``settings`` matter only to a priority change (its ``priority_map``).
    """
    if action.kind is ActionKind.CREATE:
        return (PlannedRequest("POST", TICKETS_PATH, body={"ticket": _new_ticket(action)}),)
    change: dict[str, Any] = {}
    if action.kind is ActionKind.COMMENT:
        change["comment"] = {"body": action.text, "public": action.public}
    elif action.kind is ActionKind.ASSIGN:
        change.update(_assignee_field(action.assignee))
    elif action.kind is ActionKind.SET_STATUS and action.status is not None:
        change["status"] = STATUS_OUT[action.status]
        if action.text:
            change["comment"] = {"body": action.text, "public": False}
    elif action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        change["priority"] = priority_value(settings or ConnectorSettings(), action.priority)
    else:
        raise UnsupportedAction(f"zendesk cannot {action.kind.label}")
    path = f"/api/v2/tickets/{action.ticket_id}.json"
    return (PlannedRequest("PUT", path, body={"ticket": change}),)


async def perform(connector: ZendeskConnector, action: Action) -> ActionResult:
    """Send the planned request; for a create, read the new ticket's id from the answer."""
    (request,) = connector.plan(action)
    response = await connector.send_planned(request)
    status = f"HTTP {response.status_code}"
    if action.kind is not ActionKind.CREATE:
        return ActionResult(f"{status}: ticket updated", response.status_code)
    ticket = decode_json(response).get("ticket") if response.content else None
    if not isinstance(ticket, Mapping) or ticket.get("id") is None:
        raise BadPayload("Zendesk create answer has no ticket id", http_status=response.status_code)
    new_id = str(ticket["id"])
    return ActionResult(f"{status}: created #{new_id}", response.status_code, new_id, f"#{new_id}")


async def find_existing(connector: ZendeskConnector, action: Action) -> ActionResult | None:
    """A ticket already carrying this hand-off's ``external_id`` (dedupe before a retry)."""
    if action.handoff is None:
        return None
    body = await connector.get_object(TICKETS_PATH, {"external_id": action.handoff.correlation})
    rows = body.get("tickets")
    found = [t for t in rows if isinstance(t, Mapping)] if isinstance(rows, list) else []
    if not found or found[0].get("id") is None:
        return None
    old_id = str(found[0]["id"])
    return ActionResult(
        f"already at Zendesk as #{old_id}", 200, old_id, f"#{old_id}", existing=True
    )


def priority_value(settings: ConnectorSettings, wanted: Priority) -> str:
    """The Zendesk priority a poll would read as ``wanted`` (``priority_map`` included).

    Zendesk has four fixed values (urgent, high, normal, low → P1..P4): P5 has
    none unless ``priority_map`` maps one to it.
    """
    overrides = settings.priority_map
    choices = (
        PriorityChoice(value, value, overrides.get(value) or reading)
        for value, reading in PRIORITY_MAP.items()
    )
    return vendor_priority("zendesk", wanted, choices)


def _assignee_field(assignee: str) -> dict[str, Any]:
    """Zendesk takes an agent by numeric id or by e-mail, never by display name."""
    text = assignee.strip()
    if text.isdigit():
        return {"assignee_id": int(text)}
    if "@" in text:
        return {"assignee_email": text}
    raise UnsupportedAction("Zendesk assigns by agent id or e-mail address, not by name")


def _new_ticket(action: Action) -> dict[str, Any]:
    handoff = action.handoff
    assert handoff is not None
    ticket: dict[str, Any] = {
        "subject": handoff.title,
        "comment": {"body": handoff.description, "public": False},
        "external_id": handoff.correlation,
        "tags": ["from_paneglass"],
    }
    if handoff.priority is not None:
        ticket["priority"] = PRIORITY_OUT[handoff.priority]
    if handoff.requester:
        who = handoff.requester
        ticket["requester"] = {"email": who} if "@" in who else {"name": who}
    if handoff.asset:
        ticket["tags"].append(re.sub(r"[^a-z0-9_\-]+", "_", handoff.asset.lower()).strip("_"))
    return ticket

"""Freshservice write-back: the dry run from settings alone, and sending it.

vendor-apis.md §6.8: an internal comment is a private note
(``POST /tickets/{id}/notes``), a public one a reply (``POST …/reply``); an
assignee, status or priority change is a ``PUT /tickets/{id}`` (priority 1 Low
… 4 Urgent, the code a poll reads back as the wanted P1..P4); a hand-off is
``POST /tickets``. Bodies are HTML, so operator text is always escaped.
Freshservice assigns by agent id only, and needs a requester e-mail to create
a ticket: ``default_requester_email`` is used when the hand-off's requester is
a name. There is no field a create could be found again by, so the connector's
``create_dedupe`` is ``None`` and a failed create is never retried blindly.

:func:`plan` needs only the parsed settings (no HTTP client), so the console's
dry run never builds one; the plan holds no credential (auth lives on the
client).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx2

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
from connectors.freshservice.mapping import PRIORITY_NAMES, normalise_priority
from connectors.freshservice.settings import FreshserviceSettings
from connectors.http import decode_json
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

if TYPE_CHECKING:
    from connectors.freshservice.connector import FreshserviceConnector

__all__ = ["PRIORITY_OUT", "STATUS_OUT", "TICKETS_PATH", "perform", "plan"]

TICKETS_PATH = "/api/v2/tickets"
STATUS_OUT: Mapping[TicketStatus, int] = {
    TicketStatus.NEW: 2,  # Freshservice has no "new": a fresh ticket is Open
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.RESOLVED: 4,
    TicketStatus.CLOSED: 5,
}
PRIORITY_OUT: Mapping[Priority, int] = {
    Priority.P1: 4,  # Urgent
    Priority.P2: 3,  # High
    Priority.P3: 2,  # Medium
    Priority.P4: 1,  # Low
    Priority.P5: 1,
}
"""A hand-off's priority: the nearest Freshservice code (P5 has none of its own)."""
DEFAULT_PRIORITY = 2
"""Medium, for a hand-off whose source had no priority (P3, as elsewhere)."""
SOURCE_PORTAL = 2
"""Freshservice ``source`` code of a ticket raised through the portal/API."""
_AGENT_ID = re.compile(r"(?:agent\s+)?(\d+)", re.IGNORECASE)
"""An agent id, bare or as the connector shows it (``agent 21001397559``)."""


def plan(settings: FreshserviceSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """Notes and replies are POSTs of HTML; assignee and status one ticket PUT."""
    if action.kind is ActionKind.CREATE:
        return (PlannedRequest("POST", TICKETS_PATH, body=_new_ticket(settings, action)),)
    ticket_path = f"{TICKETS_PATH}/{_ticket_number(action)}"
    if action.kind is ActionKind.COMMENT:
        return (_comment(ticket_path, action.text, public=action.public),)
    if action.kind is ActionKind.ASSIGN:
        return (PlannedRequest("PUT", ticket_path, body={"responder_id": _agent(action)}),)
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        change = PlannedRequest("PUT", ticket_path, body={"status": STATUS_OUT[action.status]})
        if not action.text.strip():
            return (change,)
        # A ticket PUT carries no note: the reason follows as a private note.
        return (change, _comment(ticket_path, action.text, public=False))
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        code = priority_code(settings, action.priority)
        return (PlannedRequest("PUT", ticket_path, body={"priority": code}),)
    raise UnsupportedAction(f"freshservice cannot {action.kind.label}")


async def perform(connector: FreshserviceConnector, action: Action) -> ActionResult:
    """Send the plan in order; for a create, read the new ticket's id from the answer."""
    response: httpx2.Response | None = None
    for request in connector.plan(action):
        response = await connector.send_planned(request)
    assert response is not None  # every plan holds at least one request
    status = f"HTTP {response.status_code}"
    if action.kind is ActionKind.COMMENT:
        what = "reply sent" if action.public else "private note added"
        return ActionResult(f"{status}: {what}", response.status_code)
    if action.kind is not ActionKind.CREATE:
        return ActionResult(f"{status}: ticket updated", response.status_code)
    body = decode_json(response) if response.content else None
    ticket = body.get("ticket") if isinstance(body, Mapping) else None
    new_id = ticket.get("id") if isinstance(ticket, Mapping) else None
    if not isinstance(new_id, int) or isinstance(new_id, bool):
        raise BadPayload(
            "Freshservice create answer has no ticket id", http_status=response.status_code
        )
    return ActionResult(
        f"{status}: created #{new_id}", response.status_code, str(new_id), f"#{new_id}"
    )


def priority_code(settings: FreshserviceSettings, wanted: Priority) -> int:
    """The priority code a poll would read as ``wanted`` (``priority_map`` included).

    Freshservice has four (1 Low … 4 Urgent → P4..P1): P5 has none unless
    ``priority_map`` maps one to it.
    """
    overrides = Overrides.from_settings(settings)
    choices = (
        PriorityChoice(code, f"{code} {PRIORITY_NAMES[code]}", normalise_priority(code, overrides))
        for code in sorted(PRIORITY_NAMES, reverse=True)
    )
    return vendor_priority("freshservice", wanted, choices)


def _new_ticket(settings: FreshserviceSettings, action: Action) -> dict[str, Any]:
    """The create body: requester e-mail, subject, escaped HTML description, codes."""
    handoff = action.handoff
    assert handoff is not None  # Action guarantees it for CREATE
    who = (handoff.requester or "").strip()
    email = who if "@" in who else settings.default_requester_email
    if email is None:
        raise UnsupportedAction(
            "Freshservice needs the requester's e-mail to create a ticket; the hand-off "
            "names none, so set default_requester_email for this vendor"
        )
    ticket: dict[str, Any] = {
        "email": email,
        "subject": one_line(handoff.title, 255) or "(no subject)",
        "description": _handoff_html(action),
        "priority": PRIORITY_OUT[handoff.priority] if handoff.priority else DEFAULT_PRIORITY,
        "status": STATUS_OUT[TicketStatus.OPEN],
        "source": SOURCE_PORTAL,
    }
    if settings.workspace_id:
        ticket["workspace_id"] = settings.workspace_id
    return ticket


def _ticket_number(action: Action) -> int:
    """Freshservice addresses tickets by their integer id."""
    text = (action.ticket_id or "").strip().removeprefix("#")
    if not text.isdigit():
        raise UnsupportedAction(f"Freshservice ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


def _agent(action: Action) -> int:
    """Freshservice assigns by agent id only (names and e-mails are not accepted)."""
    match = _AGENT_ID.fullmatch(action.assignee.strip())
    if match is None:
        raise UnsupportedAction(
            "Freshservice assigns by agent id (a number such as 21001397559), not by name or e-mail"
        )
    return int(match[1])


def _comment(ticket_path: str, text: str, *, public: bool) -> PlannedRequest:
    """A public reply or a private note; the body is HTML, so the text is escaped."""
    if public:
        return PlannedRequest("POST", f"{ticket_path}/reply", body={"body": _html(text)})
    return PlannedRequest(
        "POST", f"{ticket_path}/notes", body={"body": _html(text), "private": True}
    )


def _html(text: str) -> str:
    """Operator text as one HTML paragraph: escaped, line breaks kept."""
    lines = clean_text(text).strip().split("\n")
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


def _handoff_html(action: Action) -> str:
    """The new ticket's description: the source text, where it came from, its link."""
    handoff = action.handoff
    assert handoff is not None
    parts = [_html(handoff.description)] if handoff.description.strip() else []
    parts.append(_html(f"Handed off from {handoff.source_vendor} {handoff.source_key}"))
    if handoff.requester and "@" not in handoff.requester:
        parts.append(_html(f"Requester: {handoff.requester}"))
    if handoff.asset:
        parts.append(_html(f"Asset: {handoff.asset}"))
    url = (handoff.source_url or "").strip()
    if url.startswith(("https://", "http://")):
        link = html.escape(url, quote=True)
        parts.append(f'<p><a href="{link}">{link}</a></p>')
    elif url:
        parts.append(_html(url))
    return "".join(parts)

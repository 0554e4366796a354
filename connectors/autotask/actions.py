"""Autotask write-back: the dry run from settings alone, then sending it (vendor-apis.md §7.9).

Every path is under the zone's API root (learned at send time, so a plan
shows the path only):

* comment: ``POST V1.0/Tickets/{id}/Notes`` with ``ticketID``, ``title``,
  ``description``, ``noteType`` (setting ``note_type``, default ``1``) and
  ``publish``. TicketNotes' publish picklist: ``1`` "All Autotask Users" is
  the state client-portal users can read, so a public comment; ``2``
  "Internal Project Team" is an internal one.
* assign: ``PATCH V1.0/Tickets`` with ``assignedResourceID`` (a numeric
  resource id) and ``assignedResourceRoleID`` (setting ``assign_role_id``):
  Autotask refuses a resource without its role.
* set status: ``PATCH V1.0/Tickets`` with a status code: a ``status_map``
  code for that status, else New 1, In Progress 8, Waiting Customer 7,
  Complete 5 (resolved and closed both complete: Autotask fixes no other end
  state). Codes come from settings only, never from a poll, so the dry run is
  exactly what is sent. Completing sends ``resolution`` too, as tenant rules
  may ask.
* set priority: ``PATCH V1.0/Tickets`` with the ``priority`` picklist code a
  poll reads back as the wanted P1..P5: a ``priority_map`` code first, else
  the default picklist (4 Critical P1, 1 High P2, 2 Medium P3, 3 Low P4; no
  P5 unless mapped). From settings alone, like status codes.
* create: ``POST V1.0/Tickets`` with ``companyID`` (setting ``company_id``),
  title, description, status New, priority, optional ``queueID`` (setting
  ``queue_id``) and ``externalID`` = the hand-off's correlation, which
  :func:`find_existing` queries so a retried create never makes a second
  ticket. The answer is ``{"itemId": N}``; one ``GET Tickets/N`` learns the
  ``ticketNumber`` shown as the key.

Autotask answers a refused write with HTTP 500 and ``{"errors": [...]}``
(validation and business rules alike); on a write that is a refusal, not an
outage, so it becomes a plain :class:`ConnectorError` that is not retried
blindly (a retried note would post twice). No credential is part of any
plan: they ride on the client's headers, added at send time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

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
from connectors.autotask.api import AutotaskApi
from connectors.autotask.mapping import normalise_priority
from connectors.autotask.settings import AutotaskSettings
from connectors.errors import BadPayload, ConnectorError, TransientError
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

__all__ = [
    "DEFAULT_RESOLUTION",
    "find_existing",
    "perform",
    "plan_action",
    "send_planned",
]

WRITE_TICKETS = "/V1.0/Tickets"
"""Ticket create and update, relative to the zone's API root (``…/atservicesrest``)."""
ZONE_NOTE = "path under the tenant's zone API root, from zoneInformation"
"""Dry-run note: the host is learned at send time, so the plan shows the path only."""
NOTE_PUBLISH_ALL = 1
"""TicketNotes ``publish`` "All Autotask Users": visible to client-portal users too."""
NOTE_PUBLISH_INTERNAL = 2
"""TicketNotes ``publish`` "Internal Project Team": for the service desk only."""
DEFAULT_NOTE_TYPE = 1
"""TicketNotes ``noteType`` used unless ``note_type`` says otherwise (tenant picklist)."""
STATUS_NEW = 1
"""System status New: every Autotask tenant has it."""
STATUS_PREFERRED: Mapping[TicketStatus, str] = {
    TicketStatus.NEW: "1",  # New (system)
    TicketStatus.OPEN: "8",  # In Progress
    TicketStatus.PENDING: "7",  # Waiting Customer
    TicketStatus.RESOLVED: "5",  # Complete (system): there is no fixed "resolved"
    TicketStatus.CLOSED: "5",  # Complete (system)
}
"""The code sent for each status unless a ``status_map`` code says otherwise."""
PRIORITY_PREFERRED: Mapping[Priority, str] = {
    Priority.P1: "4",  # Critical
    Priority.P2: "1",  # High
    Priority.P3: "2",  # Medium
    Priority.P4: "3",  # Low
    Priority.P5: "3",  # Low (the default picklist has nothing lower)
}
"""A hand-off's priority code unless a ``priority_map`` code says otherwise (nearest)."""
DEFAULT_PRIORITY_LABELS: Mapping[str, str] = {
    "4": "Critical",
    "1": "High",
    "2": "Medium",
    "3": "Low",
}
"""The default Ticket priority picklist (tenants may relabel or add values)."""
PRIORITY_NOTE = (
    "priority picklist code: a priority_map code first, else the default picklist "
    "(4 Critical, 1 High, 2 Medium, 3 Low)"
)
DEFAULT_RESOLUTION = "Resolved from paneglass."
"""Sent with a completing status when the operator gave no text (tenant rules may need one)."""
EXTERNAL_ID_LIMIT = 50
"""Length of the Tickets ``externalID`` field."""
TITLE_LIMIT = 255
DESCRIPTION_LIMIT = 8000
NOTE_TITLE_LIMIT = 250


def plan_action(settings: AutotaskSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """Notes are a child POST; assignee and status a sparse PATCH; a hand-off a POST.

    Pure: settings and the action only, so the dry run needs no client and
    equals what :func:`perform` sends.
    """
    overrides = Overrides.from_settings(settings)
    if action.kind is ActionKind.CREATE:
        return (_write("POST", WRITE_TICKETS, _new_ticket(settings, overrides, action)),)
    ticket_id = _ticket_number(action)
    if action.kind is ActionKind.COMMENT:
        return (_note(settings, ticket_id, action.text, public=action.public),)
    if action.kind is ActionKind.ASSIGN:
        if settings.assign_role_id is None:
            raise UnsupportedAction(
                "Autotask assigns a resource together with a role: set assign_role_id "
                "for this vendor"
            )
        assign = {
            "id": ticket_id,
            "assignedResourceID": _resource(action.assignee),
            "assignedResourceRoleID": settings.assign_role_id,
        }
        return (_write("PATCH", WRITE_TICKETS, assign),)
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        code = _status_code(overrides, action.status)
        change: dict[str, Any] = {"id": ticket_id, "status": int(code)}
        completes = action.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        if completes:
            change["resolution"] = action.text.strip() or DEFAULT_RESOLUTION
        patch = _write("PATCH", WRITE_TICKETS, change)
        if completes or not action.text.strip():
            return (patch,)
        return (patch, _note(settings, ticket_id, action.text, public=False))
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        code = priority_code(overrides, action.priority)
        change = {"id": ticket_id, "priority": int(code)}
        note = f"{ZONE_NOTE}; {PRIORITY_NOTE}"
        return (PlannedRequest("PATCH", WRITE_TICKETS, body=change, note=note),)
    raise UnsupportedAction(f"autotask cannot {action.kind.label}")


async def perform(api: AutotaskApi, settings: AutotaskSettings, action: Action) -> ActionResult:
    """Find the zone, send the plan; a create also reads its new ticket's number."""
    planned = plan_action(settings, action)  # refuses what cannot be sent before any request
    zone = await api.tenant_zone()
    await api.pace()  # a write adds to the tenant's shared hourly threshold
    response: httpx2.Response | None = None
    for request in planned:
        response = await send_planned(api, request)
    assert response is not None  # every plan holds at least one request
    item_id = _item_id(response)
    status = f"HTTP {response.status_code}"
    if action.kind is ActionKind.COMMENT:
        # The note exists once Autotask said 2xx; a missing itemId must not invite a
        # retry that would post it twice.
        what = f"note {item_id} added" if item_id is not None else "note added"
        return ActionResult(f"{status}: {what}", response.status_code)
    if action.kind is not ActionKind.CREATE:
        return ActionResult(f"{status}: ticket updated", response.status_code)
    if item_id is None:
        # Safe to fail: a retry first finds the ticket again by its externalID.
        raise BadPayload("Autotask create answer has no itemId", http_status=response.status_code)
    try:
        body = await api.get(zone.endpoint(f"Tickets/{item_id}"))
    except ConnectorError as exc:
        # The ticket exists; only its number is unknown until the next poll.
        return ActionResult(
            f"{status}: created ticket {item_id} (number not read: {exc})",
            response.status_code,
            str(item_id),
        )
    item = body.get("item")
    number = item.get("ticketNumber") if isinstance(item, Mapping) else None
    key = number.strip() if isinstance(number, str) and number.strip() else str(item_id)
    return ActionResult(f"{status}: created {key}", response.status_code, str(item_id), key)


async def find_existing(api: AutotaskApi, action: Action) -> ActionResult | None:
    """The ticket whose ``externalID`` already holds this hand-off's correlation."""
    if action.handoff is None:
        return None
    wanted = _external_id(action.handoff.correlation)
    query = [{"op": "eq", "field": "externalID", "value": wanted}]
    async for item in api.query("Tickets", query, ("id", "ticketNumber", "externalID")):
        item_id = item.get("id")
        if not isinstance(item_id, int) or isinstance(item_id, bool):
            continue
        if item.get("externalID") != wanted:
            continue
        number = item.get("ticketNumber")
        key = number.strip() if isinstance(number, str) and number.strip() else str(item_id)
        return ActionResult(f"already at Autotask as {key}", 200, str(item_id), key, existing=True)
    return None


async def send_planned(api: AutotaskApi, request: PlannedRequest) -> httpx2.Response:
    """Send one write to the zone; a 500 refusal is a plain error, not an outage."""
    zone = await api.tenant_zone()
    api.requests += 1
    api.spend()
    try:
        return await send(
            api.client,
            request.method,
            f"{zone.api_url}{request.path.lstrip('/')}",
            params=dict(request.params) or None,
            json_body=request.body,
            budget=api.budget,
        )
    except TransientError as exc:
        if exc.http_status != 500:
            raise
        raise ConnectorError(str(exc), http_status=500) from None


def _note(settings: AutotaskSettings, ticket_id: int, text: str, *, public: bool) -> PlannedRequest:
    clean = clean_text(text).strip()
    title = one_line(clean, NOTE_TITLE_LIMIT) or "Note"
    body = {
        "ticketID": ticket_id,
        "title": title,
        "description": clean,
        "noteType": settings.note_type or DEFAULT_NOTE_TYPE,
        "publish": NOTE_PUBLISH_ALL if public else NOTE_PUBLISH_INTERNAL,
    }
    return _write("POST", f"{WRITE_TICKETS}/{ticket_id}/Notes", body)


def _new_ticket(settings: AutotaskSettings, overrides: Overrides, action: Action) -> dict[str, Any]:
    """The create body: the company (required), New, the mapped priority, the dedupe key."""
    handoff = action.handoff
    assert handoff is not None  # Action guarantees it for CREATE
    if settings.company_id is None:
        raise UnsupportedAction(
            "Autotask needs a company for every ticket: set company_id for this vendor"
        )
    lines = [handoff.description.strip()] if handoff.description.strip() else []
    lines.append(f"Handed off from {handoff.source_vendor} {handoff.source_key}")
    if handoff.requester:
        lines.append(f"Requester: {handoff.requester}")
    if handoff.asset:
        lines.append(f"Asset: {handoff.asset}")
    if handoff.source_url:
        lines.append(handoff.source_url)
    description = clean_text("\n\n".join(lines))
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    ticket: dict[str, Any] = {
        "companyID": settings.company_id,
        "title": one_line(clean_text(handoff.title), TITLE_LIMIT) or "(no title)",
        "description": description,
        "status": STATUS_NEW,
        "priority": int(_priority_code(overrides, handoff.priority or Priority.P3)),
        "externalID": _external_id(handoff.correlation),
    }
    if settings.queue_id is not None:
        ticket["queueID"] = settings.queue_id
    return ticket


def _status_code(overrides: Overrides, wanted: TicketStatus) -> str:
    """The connector's status mapping reversed, from settings alone.

    A ``status_map`` code mapped to ``wanted`` wins; else the usual code:
    New 1, In Progress 8, Waiting Customer 7, Complete 5 (Autotask has no
    fixed "resolved", so resolving completes). Never the picklist read by a
    poll: the dry run plans without a client, and it must show exactly what
    will be sent.
    """
    for code, status in overrides.statuses.items():
        if code.isdigit() and status is wanted:
            return code
    return STATUS_PREFERRED[wanted]


def _priority_code(overrides: Overrides, wanted: Priority) -> str:
    """The priority mapping reversed like :func:`_status_code` (P5 shares Low with P4)."""
    for code, priority in overrides.priorities.items():
        if code.isdigit() and priority is wanted:
            return code
    return PRIORITY_PREFERRED[wanted]


def priority_code(overrides: Overrides, wanted: Priority) -> str:
    """The priority code a poll would read as ``wanted``: the reading run backwards.

    ``priority_map`` codes come first (the tenant named them), then the default
    picklist's codes read with their default labels, exactly as
    :func:`~connectors.autotask.mapping.normalise_priority` reads them.
    """
    mapped = [code for code in overrides.priorities if code.isdigit()]
    codes = dict.fromkeys([*mapped, *DEFAULT_PRIORITY_LABELS])
    choices = (
        PriorityChoice(
            code,
            f"{code} {DEFAULT_PRIORITY_LABELS.get(code, '(mapped)')}",
            normalise_priority(code, DEFAULT_PRIORITY_LABELS.get(code), overrides),
        )
        for code in codes
    )
    return vendor_priority("autotask", wanted, choices)


def _write(method: str, path: str, body: dict[str, Any]) -> PlannedRequest:
    return PlannedRequest(method, path, body=body, note=ZONE_NOTE)


def _ticket_number(action: Action) -> int:
    """Autotask addresses tickets by their integer ``id`` (not the ``T…`` number)."""
    text = (action.ticket_id or "").strip()
    if not text.isdigit():
        raise UnsupportedAction(f"Autotask ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


_RESOURCE_ID = re.compile(r"(?:resource\s+)?(\d+)", re.IGNORECASE)


def _resource(assignee: str) -> int:
    """A resource id, bare or as the connector shows an unnamed one (``resource 29682870``)."""
    match = _RESOURCE_ID.fullmatch(assignee.strip())
    if match is None:
        raise UnsupportedAction(
            "Autotask assigns by resource id (a number such as 29682870), not by name or e-mail"
        )
    return int(match[1])


def _external_id(correlation: str) -> str:
    """The hand-off's correlation as an ``externalID`` (50 characters at most, stable).

    A longer one keeps its start and gains a hash of the whole, so create and
    lookup always compute the same value.
    """
    text = correlation.strip()
    if len(text) <= EXTERNAL_ID_LIMIT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{text[: EXTERNAL_ID_LIMIT - 13]}~{digest}"


def _item_id(response: httpx2.Response) -> int | None:
    """The ``itemId`` Autotask answers a create or update with (``None`` if unreadable)."""
    try:
        body = decode_json(response) if response.content else None
    except BadPayload:
        return None
    item_id = body.get("itemId") if isinstance(body, Mapping) else None
    return item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None

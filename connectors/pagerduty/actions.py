"""PagerDuty write-back: the dry run from settings alone, then sending it (``vendor-apis.md`` §5.8).

Every write carries a ``From`` header naming a PagerDuty user: the setting
``from_email``. Notes are internal only in PagerDuty (the people on the
incident see them; nobody "requests" an incident), so a public comment is
refused rather than quietly posted as a note. Acknowledge and resolve are
``PUT /incidents/{id}`` (a resolve carries the text as its ``resolution``); a
status change maps open → acknowledged and resolved/closed → resolved.
Assignment takes a user id, or an e-mail looked up at send time. A priority
change is ``PUT /incidents/{id}`` with a ``priority_reference``: priorities are
the account's own objects (Standard and Enterprise plans only), so their ids
are read from ``GET /priorities`` at send time and the first whose name a poll
reads as the wanted P1..P5 (``priority_map`` included) is set; an account
without priorities gets a clear refusal. A hand-off
opens an incident on the service ``service_id`` with the correlation as
``incident_key``, which PagerDuty itself refuses to reuse while that incident
is open, so a retried create can never make a second one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    Handoff,
    PlannedRequest,
    PriorityChoice,
    UnsupportedAction,
    vendor_priority,
)
from connectors.errors import BadPayload, ConnectorError
from connectors.http import decode_json
from connectors.pagerduty.settings import PagerDutySettings
from connectors.records import Priority, TicketStatus

if TYPE_CHECKING:
    from connectors.pagerduty.connector import PagerDutyConnector

__all__ = ["LOOKED_UP", "find_existing", "perform", "plan"]

INCIDENTS_PATH = "/incidents"
USERS_PATH = "/users"
PRIORITIES_PATH = "/priorities"
PRIORITIES_LIMIT = "100"
"""One page holds an account's priorities (PagerDuty offers a handful, P1..P5 by default)."""
NO_PRIORITIES = (
    "this PagerDuty account has no priorities (a Standard and Enterprise plan feature, "
    "turned on under Incident Priority Settings): its incidents have only an urgency"
)
LOOKED_UP = "<looked up at send time>"
"""Stands in a planned body for an id only a lookup can tell (the dry run shows it)."""
_USER_ID = re.compile(r"P[A-Z0-9]{5,13}")
"""PagerDuty object ids: upper-case letters and digits; user ids start with ``P``."""
_OPEN = ("triggered", "acknowledged")
_SET_STATUS = {
    TicketStatus.OPEN: "acknowledged",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "resolved",
}


def plan(settings: PagerDutySettings, vendor: str, action: Action) -> tuple[PlannedRequest, ...]:
    """The requests ``action`` sends, each with the ``From`` header PagerDuty demands."""
    headers = {"From": _from_email(settings, vendor)}
    if action.kind is ActionKind.CREATE:
        assert action.handoff is not None  # Action guarantees it for CREATE
        incident = _new_incident(action.handoff, _service_id(settings, vendor))
        return (
            PlannedRequest("POST", INCIDENTS_PATH, body={"incident": incident}, headers=headers),
        )
    path = f"{INCIDENTS_PATH}/{quote(action.ticket_id or '', safe='')}"
    if action.kind is ActionKind.COMMENT:
        if action.public:
            raise UnsupportedAction(
                "PagerDuty notes are internal only (responders see them, no requester "
                "does): send it as an internal comment"
            )
        return (_note_request(path, action.text, headers),)
    if action.kind is ActionKind.ASSIGN:
        return _plan_assign(path, action.assignee.strip(), headers)
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        return _plan_priority(path, action.priority, headers)
    status = _target_status(action)
    change: dict[str, Any] = {"type": "incident_reference", "status": status}
    if status == "resolved" and action.text.strip():
        change["resolution"] = action.text
    planned = [PlannedRequest("PUT", path, body={"incident": change}, headers=headers)]
    if status == "acknowledged" and action.text.strip():
        planned.append(_note_request(path, action.text, headers))  # an ack carries no text
    return tuple(planned)


async def perform(connector: PagerDutyConnector, action: Action) -> ActionResult:
    """Send the plan; an e-mail assignee becomes a user id first, a create reports its id."""
    planned = connector.plan(action)  # validates before anything is sent
    if action.kind is ActionKind.SET_PRIORITY:
        return await _set_priority(connector, action, planned)
    if planned[0].method == "GET":  # assignment by e-mail: find the user first
        lookup, put = planned
        user_id = await _user_id(connector, lookup.params["query"])
        planned = (replace(put, body=_assignment(user_id), note=""),)
    responses = [await connector.send_planned(request) for request in planned]
    first = responses[0]
    status = f"HTTP {first.status_code}"
    if action.kind is not ActionKind.CREATE:
        if action.kind is ActionKind.COMMENT:
            what = "note added"
        elif action.kind is ActionKind.ASSIGN:
            what = "reassigned"
        else:
            what = f"set to {_target_status(action)}"
        target = action.ticket_key or action.ticket_id
        return ActionResult(f"{status}: {target} {what}", first.status_code)
    body = decode_json(first)
    incident = body.get("incident") if isinstance(body, Mapping) else None
    if not isinstance(incident, Mapping) or not incident.get("id"):
        raise BadPayload(
            "PagerDuty create answer has no incident id", http_status=first.status_code
        )
    return _created(incident, f"{status}: created", first.status_code, existing=False)


async def find_existing(connector: PagerDutyConnector, action: Action) -> ActionResult | None:
    """The incident already carrying this hand-off's ``incident_key`` (open ones first)."""
    if action.handoff is None:
        return None
    body = await connector.get(
        INCIDENTS_PATH,
        [("incident_key", action.handoff.correlation), ("date_range", "all")],
    )
    found = [i for i in body.get("incidents") or [] if isinstance(i, Mapping) and i.get("id")]
    if not found:
        return None
    found.sort(key=lambda i: (i.get("status") in _OPEN, str(i.get("created_at") or "")))
    return _created(found[-1], "already at PagerDuty as", 200, existing=True)


def _plan_assign(path: str, assignee: str, headers: dict[str, str]) -> tuple[PlannedRequest, ...]:
    if _USER_ID.fullmatch(assignee):
        return (PlannedRequest("PUT", path, body=_assignment(assignee), headers=headers),)
    if "@" not in assignee:
        raise UnsupportedAction(
            "PagerDuty assigns by user id (e.g. PXPGF42) or a user's e-mail, not by name"
        )
    return (
        PlannedRequest(
            "GET", USERS_PATH, params={"query": assignee}, note="finds the user id for this e-mail"
        ),
        PlannedRequest(
            "PUT",
            path,
            body=_assignment(LOOKED_UP),
            headers=headers,
            note="user id looked up at send time",
        ),
    )


def _plan_priority(
    path: str, wanted: Priority, headers: dict[str, str]
) -> tuple[PlannedRequest, ...]:
    return (
        PlannedRequest(
            "GET",
            PRIORITIES_PATH,
            params={"limit": PRIORITIES_LIMIT},
            note="the account's priorities: their ids differ per account",
        ),
        PlannedRequest(
            "PUT",
            path,
            body=_priority_change(LOOKED_UP),
            headers=headers,
            note=f"priority id looked up at send time: the account's first priority that reads "
            f"as {wanted.value} here (priority_map included); refused if none does",
        ),
    )


async def _set_priority(
    connector: PagerDutyConnector, action: Action, planned: tuple[PlannedRequest, ...]
) -> ActionResult:
    assert action.priority is not None  # Action guarantees it for SET_PRIORITY
    lookup, put = planned
    try:
        body = await connector.get(lookup.path, list(lookup.params.items()))
    except ConnectorError as exc:
        if exc.http_status == 402:  # "Account does not have the abilities…"
            raise UnsupportedAction(NO_PRIORITIES) from None
        raise
    rows = body.get("priorities")
    if not isinstance(rows, list):
        raise BadPayload("PagerDuty priorities answer has no priorities list")
    overrides = connector.settings.priority_map
    choices = [
        PriorityChoice(
            str(row["id"]),
            str(row["name"]),
            overrides.get(str(row["name"]).strip().lower()) or _named(str(row["name"])),
        )
        for row in rows
        if isinstance(row, Mapping) and isinstance(row.get("id"), str) and row.get("name")
    ]
    if not choices:
        raise UnsupportedAction(NO_PRIORITIES)
    priority_id = vendor_priority("pagerduty", action.priority, choices)
    response = await connector.send_planned(
        replace(put, body=_priority_change(priority_id), note="")
    )
    name = next(c.shown for c in choices if c.value == priority_id)
    target = action.ticket_key or action.ticket_id
    return ActionResult(
        f"HTTP {response.status_code}: {target} priority set to {name}", response.status_code
    )


def _named(name: str) -> Priority | None:
    """How a poll reads a priority's name: P1..P5 as they are (any case), else nothing."""
    try:
        return Priority(name.upper())
    except ValueError:
        return None


def _priority_change(priority_id: str) -> dict[str, Any]:
    return {
        "incident": {
            "type": "incident_reference",
            "priority": {"id": priority_id, "type": "priority_reference"},
        }
    }


async def _user_id(connector: PagerDutyConnector, email: str) -> str:
    body = await connector.get(USERS_PATH, [("query", email)])
    for user in body.get("users") or []:
        if (
            isinstance(user, Mapping)
            and str(user.get("email", "")).lower() == email.lower()
            and isinstance(user.get("id"), str)
        ):
            return str(user["id"])
    raise ConnectorError(f"PagerDuty has no user with the e-mail {email}")


def _from_email(settings: PagerDutySettings, vendor: str) -> str:
    email = settings.from_email
    if email is None or "@" not in email:
        raise UnsupportedAction(
            f"vendor {vendor!r}: PagerDuty writes need the setting 'from_email' "
            "(the e-mail of a PagerDuty user they are made as)"
        )
    return email.strip()


def _service_id(settings: PagerDutySettings, vendor: str) -> str:
    if settings.service_id is None:
        raise UnsupportedAction(
            f"vendor {vendor!r}: a hand-off to PagerDuty needs the setting "
            "'service_id' (the service new incidents open on)"
        )
    return settings.service_id.strip()


def _target_status(action: Action) -> str:
    """The PagerDuty status an acknowledge, resolve or status change asks for."""
    if action.kind is ActionKind.ACKNOWLEDGE:
        return "acknowledged"
    if action.kind is ActionKind.RESOLVE:
        return "resolved"
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        status = _SET_STATUS.get(action.status)
        if status is None:
            raise UnsupportedAction(
                f"PagerDuty incidents can be acknowledged or resolved, not set to "
                f"{action.status.value}"
            )
        return status
    raise UnsupportedAction(f"pagerduty cannot {action.kind.label}")


def _note_request(path: str, text: str, headers: dict[str, str]) -> PlannedRequest:
    return PlannedRequest(
        "POST", f"{path}/notes", body={"note": {"content": text}}, headers=headers
    )


def _assignment(user_id: str) -> dict[str, Any]:
    return {
        "incident": {
            "type": "incident_reference",
            "assignments": [{"assignee": {"id": user_id, "type": "user_reference"}}],
        }
    }


def _new_incident(handoff: Handoff, service_id: str) -> dict[str, Any]:
    """``POST /incidents``: urgency from the priority; the correlation is the dedupe key."""
    incident: dict[str, Any] = {
        "type": "incident",
        "title": " ".join(handoff.title.split()) or "(no title)",
        "service": {"id": service_id, "type": "service_reference"},
        "incident_key": handoff.correlation,
        "body": {"type": "incident_body", "details": handoff.body_text()},
    }
    if handoff.priority is not None:
        urgent = handoff.priority in (Priority.P1, Priority.P2)
        incident["urgency"] = "high" if urgent else "low"
    return incident


def _created(
    incident: Mapping[str, Any], summary: str, http_status: int, *, existing: bool
) -> ActionResult:
    ident = str(incident["id"])
    number = incident.get("incident_number")
    key = f"#{number}" if number is not None else ident
    return ActionResult(f"{summary} {key}", http_status, ident, key, existing=existing)

"""Opsgenie write-back: the dry run from settings alone, then sending it (``vendor-apis.md`` §9.8).

Writes are asynchronous at Opsgenie: a note, acknowledge, close or assign
answers 202 with a ``requestId`` and is carried out afterwards. So
:func:`perform` asks ``GET /v2/alerts/requests/{requestId}`` how it went
(briefly retrying while Opsgenie answers 404, "not processed yet") and raises
when Opsgenie reports the request failed. Notes are internal only (as in
PagerDuty, a public comment is refused). Requests name ``action_user`` (default
``paneglass``) as their user and ``paneglass`` as their source. A hand-off
creates an alert whose ``alias`` is the correlation; Opsgenie folds a create
into an open alert with the same alias, so a retried create never makes a
second one, and the new alert's id comes from the request status. A priority
change is ``PUT /v2/alerts/{id}/priority`` with the P1..P5 a poll reads back as
the wanted one (``priority_map`` included); it is asynchronous like the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
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
from connectors.errors import BadPayload, ConnectorError, TransientError
from connectors.http import decode_json
from connectors.opsgenie.mapping import PRIORITY_MAP
from connectors.opsgenie.settings import OpsgenieSettings
from connectors.records import Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

if TYPE_CHECKING:
    from connectors.opsgenie.connector import OpsgenieConnector

__all__ = ["ALERTS_PATH", "SOURCE", "alert_by_alias", "find_existing", "perform", "plan"]

ALERTS_PATH = "/v2/alerts"
SOURCE = "paneglass"
"""The ``source`` every write names, so Opsgenie's log shows where a change came from."""
MESSAGE_LIMIT = 130
"""Opsgenie keeps the first 130 characters of an alert message."""
_USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_STATUS_VERB = {
    TicketStatus.OPEN: "acknowledge",
    TicketStatus.RESOLVED: "close",
    TicketStatus.CLOSED: "close",
}


def plan(settings: OpsgenieSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """One request per action (a POST, a PUT for the priority); the alert is addressed by id."""
    actor: dict[str, Any] = {"user": settings.action_user, "source": SOURCE}
    if action.kind is ActionKind.CREATE:
        assert action.handoff is not None  # Action guarantees it for CREATE
        return (PlannedRequest("POST", ALERTS_PATH, body=_new_alert(action.handoff, actor)),)
    path = f"{ALERTS_PATH}/{quote(action.ticket_id or '', safe='')}"
    by_id = {"identifierType": "id"}
    if action.kind is ActionKind.COMMENT:
        if action.public:
            raise UnsupportedAction(
                "Opsgenie notes are internal only (responders see them, no requester "
                "does): send it as an internal comment"
            )
        body = {"note": action.text, **actor}
        return (PlannedRequest("POST", f"{path}/notes", params=by_id, body=body),)
    if action.kind is ActionKind.ASSIGN:
        body = {"owner": _owner(action.assignee), **actor}
        return (PlannedRequest("POST", f"{path}/assign", params=by_id, body=body),)
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        # The priority endpoint takes the priority alone (no user, source or note).
        body = {"priority": priority_value(settings, action.priority)}
        return (PlannedRequest("PUT", f"{path}/priority", params=by_id, body=body),)
    verb = _verb(action)
    body = {**actor, "note": action.text} if action.text.strip() else actor
    return (PlannedRequest("POST", f"{path}/{verb}", params=by_id, body=body),)


def priority_value(settings: OpsgenieSettings, wanted: Priority) -> str:
    """The Opsgenie priority a poll would read as ``wanted`` (``priority_map`` included)."""
    overrides = settings.priority_map
    choices = (
        PriorityChoice(value, value, overrides.get(value.lower()) or reading)
        for value, reading in PRIORITY_MAP.items()
    )
    return vendor_priority("opsgenie", wanted, choices)


async def perform(connector: OpsgenieConnector, action: Action) -> ActionResult:
    """Send the request, then read how Opsgenie carried it out."""
    (request,) = connector.plan(action)  # validates before anything is sent
    response = await connector.send_planned(request)
    answer = decode_json(response) if response.content else None
    request_id = answer.get("requestId") if isinstance(answer, Mapping) else None
    if not isinstance(request_id, str) or not request_id:
        raise BadPayload(
            "Opsgenie accepted the request without a requestId", http_status=response.status_code
        )
    code = response.status_code
    outcome = await _request_status(connector, request_id)
    if outcome is not None and outcome.get("isSuccess") is not True:
        reason = vendor_text(outcome.get("status")) or "no reason given"
        raise ConnectorError(
            f"HTTP {code}, then Opsgenie failed request {request_id}: {reason}", http_status=code
        )
    if action.kind is ActionKind.CREATE:
        return await _created(connector, action, request_id, outcome, code)
    if outcome is None:
        return ActionResult(f"HTTP {code}: accepted as request {request_id}, not done yet", code)
    what = vendor_text(outcome.get("status")) or "done"
    return ActionResult(f"HTTP {code}: {what} (request {request_id})", code)


async def find_existing(connector: OpsgenieConnector, action: Action) -> ActionResult | None:
    """The alert whose alias is this hand-off's correlation (a 404 means none)."""
    if action.handoff is None:
        return None
    alert = await alert_by_alias(connector, action.handoff.correlation)
    if alert is None:
        return None
    key = key_of(alert)
    return ActionResult(f"already at Opsgenie as {key}", 200, str(alert["id"]), key, existing=True)


async def alert_by_alias(connector: OpsgenieConnector, alias: str) -> Mapping[str, Any] | None:
    """``GET /v2/alerts/{alias}?identifierType=alias``; ``None`` when Opsgenie says 404."""
    try:
        body = await connector.get(
            f"{ALERTS_PATH}/{quote(alias, safe='')}", {"identifierType": "alias"}
        )
    except ConnectorError as exc:
        if exc.http_status == 404:
            return None
        raise
    alert = body.get("data")
    if not isinstance(alert, Mapping) or not isinstance(alert.get("id"), str):
        raise BadPayload("Opsgenie alert answer has no data with an id")
    return alert


async def _request_status(
    connector: OpsgenieConnector, request_id: str
) -> Mapping[str, Any] | None:
    """The processed request's status, or ``None`` if Opsgenie has not got to it yet."""
    path = f"{ALERTS_PATH}/requests/{quote(request_id, safe='')}"
    for pause in connector.request_waits:
        if pause:
            await asyncio.sleep(pause)
        try:
            body = await connector.get(path, {})
        except ConnectorError as exc:
            if exc.http_status == 404:
                continue  # "not processed yet"
            raise
        data = body.get("data")
        if isinstance(data, Mapping):
            return data
    return None


async def _created(
    connector: OpsgenieConnector,
    action: Action,
    request_id: str,
    outcome: Mapping[str, Any] | None,
    code: int,
) -> ActionResult:
    """The created (or deduplicated-into) alert's id and tiny id."""
    alert_id = outcome.get("alertId") if outcome is not None else None
    if not isinstance(alert_id, str) or not alert_id:
        assert action.handoff is not None
        found = await alert_by_alias(connector, action.handoff.correlation)
        if found is None or found.get("status") != "open":
            # Safe to retry: the alias makes a second create fold into the first.
            raise TransientError(
                f"HTTP {code}: Opsgenie has not processed create request {request_id} yet",
                http_status=code,
            )
        key = key_of(found)
        return ActionResult(
            f"HTTP {code}: created {key} (request {request_id})", code, str(found["id"]), key
        )
    body = await connector.get(
        f"{ALERTS_PATH}/{quote(alert_id, safe='')}", {"identifierType": "id"}
    )
    alert = body.get("data")
    key = key_of(alert) if isinstance(alert, Mapping) else alert_id
    what = vendor_text(outcome.get("status")) if outcome is not None else None
    return ActionResult(
        f"HTTP {code}: {what or 'created'}: {key} (request {request_id})", code, alert_id, key
    )


def _owner(assignee: str) -> dict[str, str]:
    """Opsgenie assigns to a user by username (an e-mail) or by user id, never by name."""
    text = assignee.strip()
    if "@" in text and " " not in text:
        return {"username": text}
    if _USER_ID.fullmatch(text):
        return {"id": text}
    raise UnsupportedAction("Opsgenie assigns by username (an e-mail) or user id, not by name")


def _verb(action: Action) -> str:
    """The alert action an acknowledge, resolve or status change is."""
    if action.kind is ActionKind.ACKNOWLEDGE:
        return "acknowledge"
    if action.kind is ActionKind.RESOLVE:
        return "close"
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        verb = _STATUS_VERB.get(action.status)
        if verb is None:
            raise UnsupportedAction(
                f"Opsgenie alerts can be acknowledged or closed, not set to {action.status.value}"
            )
        return verb
    raise UnsupportedAction(f"opsgenie cannot {action.kind.label}")


def _new_alert(handoff: Handoff, actor: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v2/alerts``: the correlation is the alias Opsgenie deduplicates on."""
    title = " ".join(handoff.title.split()) or "(no title)"
    details = {"origin": handoff.source_vendor, "ticket": handoff.source_key}
    if handoff.source_url:
        details["url"] = handoff.source_url
    if handoff.requester:
        details["requester"] = handoff.requester
    alert: dict[str, Any] = {
        "message": title[:MESSAGE_LIMIT],
        "alias": handoff.correlation,
        "description": handoff.body_text(),
        "tags": ["from-paneglass"],
        "details": details,
        **actor,
    }
    if handoff.priority is not None:
        alert["priority"] = handoff.priority.value
    if handoff.asset:
        alert["entity"] = handoff.asset
    return alert


def key_of(alert: Mapping[str, Any]) -> str:
    """``#tinyId``, else the long id, cleaned for a summary line."""
    tiny = alert.get("tinyId")
    if isinstance(tiny, (str, int)) and not isinstance(tiny, bool) and str(tiny).strip():
        return vendor_text(f"#{str(tiny).strip()}")
    return vendor_text(alert.get("id"))


def vendor_text(value: Any) -> str:
    """Vendor text bound for a summary or error: cleaned of control bytes, one short line."""
    return one_line(clean_text(str(value)), 160) if value is not None else ""

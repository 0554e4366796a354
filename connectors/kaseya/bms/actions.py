"""Kaseya BMS write-back: notes, status changes and resolving (BMS-OAS operations).

* **comment** → ``POST /v2/servicedesk/tickets/{id}/notes`` with
  ``TicketNotePostInputDto`` (``Details``, ``IsInternal``, ``TypeId``, ``NoteDate``:
  all four required). ``NoteDate`` is the moment it is sent; ``TypeId`` is the
  ``note_type_id`` setting (BMS does not document its values).
* **set_status** → ``PATCH /v2/servicedesk/tickets/{id}`` with a JSON Patch
  ``[{"op": "replace", "path": "/StatusId", "value": …}]``. Statuses are
  tenant-defined, so the ``status_ids`` setting says which BMS status each
  normalized status is: an id is sent as it is; a name is looked up once with
  ``GET /v2/system/statuses/lookup``. Text given with the change follows as an
  internal note.
* **set_priority** → the same ``PATCH`` on ``/PriorityId``. Priorities are the
  tenant's own (``GET /v2/system/priorities/lookup``: ``Id``, ``Name``), so they
  are read at send time and the first whose name this connector reads as the
  wanted P1..P5 (``priority_map`` included) is set; none: a refusal naming them.
* **resolve** → ``POST /v2/servicedesk/tickets/{id}/resolve`` with
  ``ResolveTicketDto`` (``Comment`` is required: the operator's text, else
  "Resolved in paneglass"; ``StatusId`` when ``status_ids.resolved`` is set).

Request bodies use the spec's PascalCase names (ASP.NET binds names
case-insensitively). Every answer is the BMS envelope; ``success: false`` is a
failure whatever the HTTP status. BMS has no idempotency key and a note sent
twice is two notes: a failed comment is not retried blindly (the outbox's
``Action.idempotent`` is false for comments).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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
from connectors.kaseya.bms.mapping import normalize_priority, pick, unwrap
from connectors.kaseya.bms.settings import KaseyaBmsSettings
from connectors.records import TicketStatus
from connectors.sanitize import clean_text, one_line

if TYPE_CHECKING:
    from connectors.kaseya.bms.connector import KaseyaBmsConnector

__all__ = [
    "NOTES_PATH",
    "PRIORITIES_PATH",
    "RESOLVE_PATH",
    "STATUSES_PATH",
    "TICKET_PATH",
    "perform",
    "plan",
]

TICKET_PATH = "/v2/servicedesk/tickets/{id}"
NOTES_PATH = "/v2/servicedesk/tickets/{id}/notes"
RESOLVE_PATH = "/v2/servicedesk/tickets/{id}/resolve"
STATUSES_PATH = "/v2/system/statuses/lookup"
PRIORITIES_PATH = "/v2/system/priorities/lookup"
LOOKED_UP = "<looked up at send time>"
SENT_AT = "(the moment it is sent)"
DEFAULT_RESOLUTION = "Resolved in paneglass"


def plan(settings: KaseyaBmsSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """The requests ``action`` sends; a status named in ``status_ids`` is looked up first."""
    ticket = _ticket_id(action)
    if action.kind is ActionKind.COMMENT:
        return (_note(settings, ticket, action.text, internal=not action.public),)
    if action.kind is ActionKind.SET_STATUS:
        assert action.status is not None  # Action guarantees it
        target = settings.status_ids.get(action.status)
        if target is None:
            raise UnsupportedAction(
                f"BMS statuses are the tenant's own: set status_ids.{action.status.value} "
                "to the BMS status (name or id) to write"
            )
        planned = [*_lookup(target)]
        patch = [{"op": "replace", "path": "/StatusId", "value": _status_value(target)}]
        planned.append(PlannedRequest("PATCH", TICKET_PATH.format(id=ticket), body=patch))
        if action.text.strip():
            planned.append(_note(settings, ticket, action.text, internal=True))
        return tuple(planned)
    if action.kind is ActionKind.SET_PRIORITY:
        assert action.priority is not None  # Action guarantees it
        patch = [{"op": "replace", "path": "/PriorityId", "value": LOOKED_UP}]
        return (
            PlannedRequest("GET", PRIORITIES_PATH, note="the tenant's priorities (its own ids)"),
            PlannedRequest(
                "PATCH",
                TICKET_PATH.format(id=ticket),
                body=patch,
                note=f"priority id looked up at send time: the first priority that reads as "
                f"{action.priority.value} here (priority_map included); refused if none does",
            ),
        )
    if action.kind is ActionKind.RESOLVE:
        target = settings.status_ids.get(TicketStatus.RESOLVED)
        body: dict[str, Any] = {
            "Comment": action.text.strip() or DEFAULT_RESOLUTION,
            "IsInternal": not action.public,
        }
        if target is not None:
            body["StatusId"] = _status_value(target)
        lookups = _lookup(target) if target is not None else ()
        return (*lookups, PlannedRequest("POST", RESOLVE_PATH.format(id=ticket), body=body))
    raise UnsupportedAction(f"kaseya-bms cannot {action.kind.label}")


async def perform(connector: KaseyaBmsConnector, action: Action) -> ActionResult:
    """Send the planned requests in order; a status name becomes its id on the way."""
    planned = connector.plan(action)  # refuses before anything is sent
    if action.kind is ActionKind.SET_PRIORITY:
        return await _set_priority(connector, action, planned)
    said: list[str] = []
    code = 200
    for request in planned:
        if request.path == STATUSES_PATH:
            await _learn_statuses(connector)
            continue
        body = _filled(connector, request.body)
        endpoint = _endpoint(request.path)
        response = await connector.request(request.method, endpoint, request.path, body=body)
        code = response.status_code
        result = unwrap(decode_json(response), f"{request.method} {endpoint}")
        said.append(_said(request, result, code))
    return ActionResult("; ".join(said) or f"HTTP {code}", code)


async def _set_priority(
    connector: KaseyaBmsConnector, action: Action, planned: tuple[PlannedRequest, ...]
) -> ActionResult:
    assert action.priority is not None  # Action guarantees it for SET_PRIORITY
    lookup, patch = planned
    rows = await connector.get(lookup.path, lookup.path, {}, "priority lookup")
    overrides = connector.settings.priority_map
    choices: list[PriorityChoice[int]] = []
    for row in rows if isinstance(rows, list) else []:
        priority_id = pick(row, "Id") if isinstance(row, Mapping) else None
        name = pick(row, "Name") if isinstance(row, Mapping) else None
        if not isinstance(priority_id, int) or isinstance(priority_id, bool):
            continue
        if not isinstance(name, str) or not name.strip():
            continue
        reading = overrides.get(name.strip().lower()) or normalize_priority(name)
        choices.append(PriorityChoice(priority_id, one_line(clean_text(name), 60), reading))
    chosen = vendor_priority("kaseya-bms", action.priority, choices)
    body = [{"op": "replace", "path": "/PriorityId", "value": chosen}]
    endpoint = _endpoint(patch.path)
    response = await connector.request(patch.method, endpoint, patch.path, body=body)
    result = unwrap(decode_json(response), f"{patch.method} {endpoint}")
    if not isinstance(result, Mapping):
        raise BadPayload(f"BMS answered {patch.method} {patch.path} without a result")
    shown = pick(result, "PriorityName")
    name = (
        one_line(clean_text(shown), 60)
        if isinstance(shown, str)
        else next(c.shown for c in choices if c.value == chosen)
    )
    return ActionResult(f"HTTP {response.status_code}: priority {name}", response.status_code)


def _note(settings: KaseyaBmsSettings, ticket: str, text: str, *, internal: bool) -> PlannedRequest:
    body = {
        "Details": text,
        "IsInternal": internal,
        "TypeId": settings.note_type_id,
        "NoteDate": SENT_AT,
    }
    return PlannedRequest("POST", NOTES_PATH.format(id=ticket), body=body)


def _lookup(target: str) -> tuple[PlannedRequest, ...]:
    if target.isdigit():
        return ()
    return (PlannedRequest("GET", STATUSES_PATH, note=f"the id of the status named {target!r}"),)


def _status_value(target: str) -> int | str:
    return int(target) if target.isdigit() else f"<id of {target!r}>"


def _ticket_id(action: Action) -> str:
    ticket = (action.ticket_id or "").strip()
    if not ticket.isdigit():
        raise UnsupportedAction(f"a BMS ticket is addressed by its numeric id, not {ticket!r}")
    return ticket


async def _learn_statuses(connector: KaseyaBmsConnector) -> None:
    if connector.status_ids:
        return
    rows = await connector.get(STATUSES_PATH, STATUSES_PATH, {}, "status lookup")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, Mapping):
            continue
        status_id, name = pick(row, "Id"), pick(row, "Name")
        if isinstance(status_id, int) and isinstance(name, str) and name.strip():
            connector.status_ids[name.strip().lower()] = status_id


def _filled(connector: KaseyaBmsConnector, body: Any) -> Any:
    """The planned body with its placeholders filled: the send time, status ids."""
    if isinstance(body, list):
        return [_filled(connector, item) for item in body]
    if not isinstance(body, Mapping):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "NoteDate" and value == SENT_AT:
            value = datetime.now(UTC).astimezone(connector.zone).strftime("%Y-%m-%dT%H:%M:%S")
        elif isinstance(value, str) and value.startswith("<id of "):
            name = value[len("<id of ") : -1].strip("'\"")
            found = connector.status_ids.get(name.lower())
            if found is None:
                raise UnsupportedAction(f"BMS has no status named {one_line(name, 60)!r}")
            value = found
        out[key] = value
    return out


def _endpoint(path: str) -> str:
    """The path's template (``…/tickets/{id}/notes``): what BMS counts calls per."""
    parts = path.split("/")
    return "/".join("{id}" if part.isdigit() else part for part in parts)


def _said(request: PlannedRequest, result: Any, code: int) -> str:
    if not isinstance(result, Mapping):
        raise BadPayload(f"BMS answered {request.method} {request.path} without a result")
    if request.path.endswith("/notes"):
        return f"HTTP {code}: note {pick(result, 'Id')} added"
    status = pick(result, "StatusName")
    text = one_line(clean_text(status), 60) if isinstance(status, str) else "changed"
    if request.path.endswith("/resolve"):
        return f"HTTP {code}: resolved, status {text}"
    return f"HTTP {code}: status {text}"

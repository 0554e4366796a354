"""ConnectWise write-back: the dry run from settings alone, and the sends that need lookups.

``vendor-apis.md`` §8.8: a comment is a ticket note, an assignment a
JSON-Patch of ``owner`` by member identifier. Status ids belong to a board, so
a status change reads the ticket's board and that board's statuses at send
time and picks the first one this connector (with the tenant's
``status_map``) reads as the wanted status. Priority ids are tenant data too: a
priority change reads ``/service/priorities`` at send time and patches the
first priority this connector (with ``priority_map``) reads as the wanted
P1..P5, or refuses naming what there is. A hand-off is
``POST /service/tickets`` on the board ``create_board_id`` for the company
``create_company_id``, carrying the correlation in ``externalXRef`` so a
retried create finds the first one (:func:`find_existing`).

:func:`plan` needs only the parsed settings: the console's dry run builds no
HTTP client and a plan never holds a credential (those live on the client).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
from connectors.connectwise.mapping import normalise_priority, normalise_status
from connectors.connectwise.settings import ConnectWiseSettings
from connectors.errors import BadPayload
from connectors.http import decode_json
from connectors.records import Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

if TYPE_CHECKING:
    from connectors.connectwise.connector import ConnectWiseConnector

__all__ = [
    "BOARD_PLACEHOLDER",
    "LOOKED_UP",
    "find_existing",
    "perform",
    "plan",
    "quoted",
    "rows_of",
]

TICKETS_PATH = "/service/tickets"
PRIORITIES_PATH = "/service/priorities"
LOOKUP_PAGE_SIZE = 1000
"""One page of board statuses or priorities holds them all (tenants have a few dozen)."""
SUMMARY_LIMIT = 100
"""ConnectWise refuses a ticket summary longer than 100 characters."""
LOOKED_UP = "<looked up at send time>"
"""Stands in a planned body for an id only a lookup can tell (the dry run shows it)."""
BOARD_PLACEHOLDER = "{board id}"
_MEMBER_IDENTIFIER = re.compile(r"[A-Za-z0-9._\-]+")


def plan(settings: ConnectWiseSettings, vendor: str, action: Action) -> tuple[PlannedRequest, ...]:
    """The requests ``action`` sends; lookups a status or priority id needs come first."""
    if action.kind is ActionKind.CREATE:
        return _plan_create(settings, vendor, action)
    path = f"{TICKETS_PATH}/{_ticket_number(action)}"
    if action.kind is ActionKind.COMMENT:
        return (PlannedRequest("POST", f"{path}/notes", body=_note(action.text, action.public)),)
    if action.kind is ActionKind.ASSIGN:
        owner = {"identifier": _member_identifier(action.assignee)}
        return (PlannedRequest("PATCH", path, body=[_replace_op("owner", owner)]),)
    if action.kind in (ActionKind.SET_STATUS, ActionKind.RESOLVE):
        wanted = _wanted_status(action)
        planned = [
            PlannedRequest(
                "GET",
                path,
                params={"fields": "id,board,status"},
                note="reads the ticket's board: status ids belong to a board",
            ),
            PlannedRequest(
                "GET",
                f"/service/boards/{BOARD_PLACEHOLDER}/statuses",
                params={"pageSize": str(LOOKUP_PAGE_SIZE)},
                note="the board id comes from the answer above",
            ),
            PlannedRequest(
                "PATCH",
                path,
                body=[_replace_op("status", {"id": LOOKED_UP})],
                note=f"status id looked up at send time: the board's first status "
                f"that reads as {wanted.value} here (status_map included)",
            ),
        ]
        if action.text.strip():  # the note that goes with the change stays internal
            planned.append(
                PlannedRequest("POST", f"{path}/notes", body=_note(action.text, public=False))
            )
        return tuple(planned)
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        return (
            PlannedRequest(
                "GET",
                PRIORITIES_PATH,
                params={"pageSize": str(LOOKUP_PAGE_SIZE)},
                note="priority ids differ per tenant",
            ),
            PlannedRequest(
                "PATCH",
                path,
                body=[_replace_op("priority", {"id": LOOKED_UP})],
                note=f"priority id looked up at send time: the first priority that reads as "
                f"{action.priority.value} here (priority_map included); refused if none does",
            ),
        )
    raise UnsupportedAction(f"connectwise cannot {action.kind.label}")


async def perform(cw: ConnectWiseConnector, action: Action) -> ActionResult:
    """Send the plan, filling in the looked-up status or priority id."""
    planned = cw.plan(action)  # validates before anything is sent
    if action.kind is ActionKind.CREATE:
        return await _create(cw, action, planned)
    if action.kind in (ActionKind.SET_STATUS, ActionKind.RESOLVE):
        return await _set_status(cw, action, planned)
    if action.kind is ActionKind.SET_PRIORITY:
        return await _set_priority(cw, action, planned)
    (request,) = planned
    response = await cw.send_planned(request)
    what = "note added to" if action.kind is ActionKind.COMMENT else "owner changed on"
    return ActionResult(
        f"HTTP {response.status_code}: {what} #{action.ticket_id}", response.status_code
    )


async def find_existing(cw: ConnectWiseConnector, action: Action) -> ActionResult | None:
    """A ticket whose ``externalXRef`` is already this hand-off's correlation."""
    if action.handoff is None:
        return None
    params = {
        "conditions": f'externalXRef = "{quoted(action.handoff.correlation)}"',
        "orderBy": "id asc",
        "pageSize": 1,
        "fields": "id,summary,externalXRef",
    }
    rows = rows_of(await cw.get(TICKETS_PATH, params))
    ticket_id = rows[0].get("id") if rows else None
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        return None
    return ActionResult(
        f"already at ConnectWise as #{ticket_id}",
        200,
        str(ticket_id),
        f"#{ticket_id}",
        existing=True,
    )


def rows_of(response: Any) -> list[Mapping[str, Any]]:
    """The bare JSON array ConnectWise answers a list request with."""
    body = decode_json(response)
    if not isinstance(body, list) or not all(isinstance(row, Mapping) for row in body):
        raise BadPayload("ConnectWise answer is not a JSON array of objects")
    return body


def quoted(text: str) -> str:
    """Text for a double-quoted conditions string (backslash and quote escaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


# -- sends that need a lookup ---------------------------------------------------------


async def _create(
    cw: ConnectWiseConnector, action: Action, planned: Sequence[PlannedRequest]
) -> ActionResult:
    handoff = action.handoff
    assert handoff is not None
    post = planned[-1]
    body = dict(post.body)
    if handoff.priority is not None:
        priorities = rows_of(await cw.get(PRIORITIES_PATH, {"pageSize": LOOKUP_PAGE_SIZE}))
        priority_id = _priority_id(cw.settings, priorities, handoff.priority)
        if priority_id is None:
            body.pop("priority")  # the board's default priority applies
        else:
            body["priority"] = {"id": priority_id}
    response = await cw.send_planned(replace(post, body=body, note=""))
    ticket = decode_json(response)
    ticket_id = ticket.get("id") if isinstance(ticket, Mapping) else None
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise BadPayload(
            "ConnectWise create answer has no ticket id", http_status=response.status_code
        )
    return ActionResult(
        f"HTTP {response.status_code}: created #{ticket_id}",
        response.status_code,
        str(ticket_id),
        f"#{ticket_id}",
    )


async def _set_status(
    cw: ConnectWiseConnector, action: Action, planned: Sequence[PlannedRequest]
) -> ActionResult:
    wanted = _wanted_status(action)
    read_ticket, _, patch, *notes = planned
    ticket = decode_json(await cw.get(read_ticket.path, read_ticket.params))
    board = ticket.get("board") if isinstance(ticket, Mapping) else None
    board_id = board.get("id") if isinstance(board, Mapping) else None
    if not isinstance(board_id, int) or isinstance(board_id, bool):
        raise BadPayload(f"ConnectWise ticket #{action.ticket_id} has no board id")
    statuses = rows_of(
        await cw.get(f"/service/boards/{board_id}/statuses", {"pageSize": LOOKUP_PAGE_SIZE})
    )
    status = _status_for(cw.settings, statuses, wanted)
    if status is None:
        board_name = board.get("name") if isinstance(board, Mapping) else None
        where = one_line(clean_text(str(board_name or board_id)), 80)
        raise UnsupportedAction(
            f"ConnectWise board {where} has no active status that reads "
            f"as {wanted.value}; map one with status_map"
        )
    body = [_replace_op("status", {"id": status["id"]})]
    response = await cw.send_planned(replace(patch, body=body, note=""))
    for note in notes:
        await cw.send_planned(note)
    return ActionResult(
        f"HTTP {response.status_code}: #{action.ticket_id} set to "
        f"{one_line(clean_text(str(status['name'])), 80)}",
        response.status_code,
    )


async def _set_priority(
    cw: ConnectWiseConnector, action: Action, planned: Sequence[PlannedRequest]
) -> ActionResult:
    assert action.priority is not None  # Action guarantees it for SET_PRIORITY
    lookup, patch = planned
    priorities = rows_of(await cw.get(lookup.path, lookup.params))
    choices = _priority_choices(cw.settings, priorities)
    priority_id = vendor_priority("connectwise", action.priority, choices)
    body = [_replace_op("priority", {"id": priority_id})]
    response = await cw.send_planned(replace(patch, body=body, note=""))
    name = next(c.shown for c in choices if c.value == priority_id)
    return ActionResult(
        f"HTTP {response.status_code}: #{action.ticket_id} priority set to {name}",
        response.status_code,
    )


def _status_for(
    settings: ConnectWiseSettings, statuses: Sequence[Mapping[str, Any]], wanted: TicketStatus
) -> Mapping[str, Any] | None:
    """The first active board status that this connector reads as ``wanted``."""
    for status in statuses:
        name = status.get("name")
        status_id = status.get("id")
        if not isinstance(name, str) or not isinstance(status_id, int):
            continue
        if status.get("inactive") is True:
            continue
        reading = settings.status_map.get(name.strip().lower()) or normalise_status(
            name, status.get("closedStatus") is True
        )
        if reading is wanted:
            return status
    return None


def _priority_id(
    settings: ConnectWiseSettings, priorities: Sequence[Mapping[str, Any]], wanted: Priority
) -> int | None:
    """The first priority that this connector reads as ``wanted``."""
    for choice in _priority_choices(settings, priorities):
        if choice.reads_as is wanted:
            return choice.value
    return None


def _priority_choices(
    settings: ConnectWiseSettings, priorities: Sequence[Mapping[str, Any]]
) -> list[PriorityChoice[int]]:
    """The tenant's priorities (``/service/priorities``) and how a poll reads each one."""
    choices: list[PriorityChoice[int]] = []
    for priority in priorities:
        name = priority.get("name")
        priority_id = priority.get("id")
        if not isinstance(priority_id, int) or isinstance(priority_id, bool):
            continue
        key = name.strip().lower() if isinstance(name, str) else ""
        override = settings.priority_map.get(key) if key else None
        shown = one_line(clean_text(name), 60) if isinstance(name, str) else f"id {priority_id}"
        choices.append(PriorityChoice(priority_id, shown, override or normalise_priority(priority)))
    return choices


# -- plan helpers -----------------------------------------------------------------------


def _plan_create(
    settings: ConnectWiseSettings, vendor: str, action: Action
) -> tuple[PlannedRequest, ...]:
    handoff = action.handoff
    assert handoff is not None  # Action guarantees it for CREATE
    board_id = _id_setting(vendor, "create_board_id", settings.create_board_id)
    company_id = _id_setting(vendor, "create_company_id", settings.create_company_id)
    body: dict[str, Any] = {
        "summary": _summary(handoff.title),
        "board": {"id": board_id},
        "company": {"id": company_id},
        "externalXRef": handoff.correlation,
        "initialDescription": handoff.body_text(),
    }
    if handoff.priority is None:
        return (PlannedRequest("POST", TICKETS_PATH, body=body),)
    body["priority"] = {"id": LOOKED_UP}
    return (
        PlannedRequest(
            "GET",
            PRIORITIES_PATH,
            params={"pageSize": str(LOOKUP_PAGE_SIZE)},
            note="priority ids differ per tenant",
        ),
        PlannedRequest(
            "POST",
            TICKETS_PATH,
            body=body,
            note=f"priority id looked up at send time: the first priority that reads as "
            f"{handoff.priority.value} here (priority_map included); left out if none does",
        ),
    )


def _ticket_number(action: Action) -> int:
    """ConnectWise ticket ids are integers; anything else never reaches a URL."""
    text = (action.ticket_id or "").strip().removeprefix("#")
    if not text.isdigit():
        raise UnsupportedAction(f"ConnectWise ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


def _member_identifier(assignee: str) -> str:
    """ConnectWise assigns by member identifier (``jkim``); a name or e-mail is not one."""
    text = assignee.strip()
    if not _MEMBER_IDENTIFIER.fullmatch(text):
        raise UnsupportedAction(
            "ConnectWise assigns by member identifier (e.g. jkim), not by name or e-mail"
        )
    return text


def _wanted_status(action: Action) -> TicketStatus:
    if action.kind is ActionKind.RESOLVE:
        return TicketStatus.RESOLVED
    assert action.status is not None  # Action guarantees it for SET_STATUS
    return action.status


def _note(text: str, public: bool) -> dict[str, Any]:
    """A ticket note: Discussion (the customer sees it) or Internal Analysis."""
    return {
        "text": text,
        "detailDescriptionFlag": public,
        "internalAnalysisFlag": not public,
        "resolutionFlag": False,
    }


def _replace_op(path: str, value: Any) -> dict[str, Any]:
    """One JSON-Patch operation, as ConnectWise's PATCH takes a list of them."""
    return {"op": "replace", "path": path, "value": value}


def _id_setting(vendor: str, key: str, value: int | None) -> int:
    """A numeric id a hand-off needs from config, or an UnsupportedAction naming the setting."""
    if value is None:
        raise UnsupportedAction(
            f"vendor {vendor!r}: a hand-off to ConnectWise needs the setting {key!r}"
        )
    return value


def _summary(title: str) -> str:
    flat = " ".join(title.split()) or "(no title)"
    return flat if len(flat) <= SUMMARY_LIMIT else flat[: SUMMARY_LIMIT - 1] + "…"

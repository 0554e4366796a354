"""Datto RMM write-back: resolving an alert (the one write the alert API has).

``POST /api/v2/alert/{alertUid}/resolve`` (DRMM-OAS ``resolveAlert``): the spec
declares no request body and answers 200 with none; DattoRMM.Core sends it
without a body too. Whether Datto would take a note with it is not documented,
so none is sent and an action's text stays in paneglass's audit log only.
Notes, assignment and muting have no API (muting ended in Datto RMM 8.9.0).
Nor has priority: an alert's priority is its monitor's, and the alert API's
only operations are read, resolve and (retired) mute/unmute, so set priority is
not among ``supported_actions`` (an escalation's raise-priority is refused).
``set_status`` to resolved or closed is the same resolve; other statuses are
refused. Resolving an alert that is already resolved is harmless (idempotent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.records import TicketStatus

if TYPE_CHECKING:
    from connectors.kaseya.datto_rmm.connector import DattoRmmConnector

__all__ = ["RESOLVE_PATH", "perform", "plan"]

RESOLVE_PATH = "/api/v2/alert/{uid}/resolve"
NOTE = "the alert API takes no note: the text stays in paneglass's audit log"


def plan(action: Action) -> tuple[PlannedRequest, ...]:
    """One POST, no body; the alert is addressed by its uid."""
    resolving = action.kind is ActionKind.RESOLVE or (
        action.kind is ActionKind.SET_STATUS
        and action.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    )
    if not resolving:
        if action.kind is ActionKind.SET_STATUS and action.status is not None:
            raise UnsupportedAction(
                f"Datto RMM alerts can be resolved, not set to {action.status.value}"
            )
        raise UnsupportedAction(f"Datto RMM alerts cannot {action.kind.label}: only resolve")
    uid = (action.ticket_id or "").strip()
    if not uid:
        raise UnsupportedAction("resolving a Datto RMM alert needs its alertUid")
    path = RESOLVE_PATH.format(uid=quote(uid, safe=""))
    return (PlannedRequest("POST", path, note=NOTE if action.text.strip() else ""),)


async def perform(connector: DattoRmmConnector, action: Action) -> ActionResult:
    """Send the resolve, paced by the account's write quota."""
    (request,) = connector.plan(action)  # refuses before anything is sent
    connector.requests += 1
    response = await connector.send_planned(request)
    code = response.status_code
    return ActionResult(f"HTTP {code}: alert resolved", code)

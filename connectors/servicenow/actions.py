"""ServiceNow write-back: the dry run from settings alone, sending, and the create lookup.

Everything goes through the Table API: comments, work notes, state,
assignee and priority are one ``PATCH`` of the incident; a hand-off is a ``POST`` carrying
the source's reference in ``correlation_id``, which is also how a retried
create finds the incident it already made. ``close_code`` (default
"Solved (Permanently)") and ``hold_reason`` (default 1, Awaiting Caller) fill
what the instance's data policies demand for Resolved/Closed and On Hold.
An incident's ``priority`` is calculated by the instance from ``impact`` and
``urgency`` (the Priority Lookup rules), so a priority change sends the impact
and urgency that the out-of-box rules turn into it.

:func:`plan` needs only the parsed settings, so the console's dry run builds
no HTTP client; credentials live on the client, so no plan can show them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
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
from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus
from connectors.servicenow.mapping import PRIORITY_BY_CODE, raw_value
from connectors.servicenow.settings import ServiceNowSettings
from connectors.servicenow.table import INCIDENT_PATH, get_or_none, result_rows, written_record

if TYPE_CHECKING:
    from connectors.servicenow.connector import ServiceNowConnector

__all__ = ["SUPPORTED", "find_existing", "perform", "plan"]

SUPPORTED = frozenset(
    {
        ActionKind.COMMENT,
        ActionKind.ASSIGN,
        ActionKind.SET_STATUS,
        ActionKind.SET_PRIORITY,
        ActionKind.CREATE,
    }
)
WRITE_FIELDS = "sys_id,number,state,sys_updated_on"
"""``sysparm_fields`` on a PATCH/POST: trims the answer to what the result reports."""
STATE_OUT: Mapping[TicketStatus, str] = {
    TicketStatus.NEW: "1",
    TicketStatus.OPEN: "2",
    TicketStatus.PENDING: "3",
    TicketStatus.RESOLVED: "6",
    TicketStatus.CLOSED: "7",
}
"""Out-of-box incident states: New, In Progress, On Hold, Resolved, Closed."""
IMPACT_URGENCY: Mapping[Priority, tuple[str, str]] = {
    Priority.P1: ("1", "1"),
    Priority.P2: ("1", "2"),
    Priority.P3: ("2", "2"),
    Priority.P4: ("2", "3"),
    Priority.P5: ("3", "3"),
}
"""Impact and urgency the out-of-box priority lookup turns into each priority (the
``priority`` field itself is calculated by the instance, so it is never sent)."""
PRIORITY_LABELS: Mapping[str, str] = {
    "1": "1 - Critical",
    "2": "2 - High",
    "3": "3 - Moderate",
    "4": "4 - Low",
    "5": "5 - Planning",
}
"""The out-of-box incident priority choices, as a poll shows them (``raw_priority``)."""
LOOKUP_NOTE = (
    "the instance calculates priority from impact x urgency (out-of-box lookup: 1/1 -> 1, "
    "1/2 or 2/1 -> 2, 2/2 -> 3, 2/3 -> 4, 3/3 -> 5)"
)
CORRELATION_DISPLAY = "paneglass"
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


def plan(settings: ServiceNowSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """One incident PATCH (journal, state, assignee) or, for a hand-off, one POST."""
    if action.kind is ActionKind.CREATE and action.handoff is not None:
        params = {"sysparm_input_display_value": "true", "sysparm_fields": WRITE_FIELDS}
        body = _new_incident(action.handoff)
        return (PlannedRequest("POST", INCIDENT_PATH, params=params, body=body),)
    params = {"sysparm_fields": WRITE_FIELDS}
    change: dict[str, str] = {}
    if action.kind is ActionKind.COMMENT:
        change["comments" if action.public else "work_notes"] = action.text
    elif action.kind is ActionKind.ASSIGN:
        who = action.assignee.strip()
        if not _SYS_ID.match(who):
            # A person's name: the instance resolves it to the sys_user it names.
            params["sysparm_input_display_value"] = "true"
        change["assigned_to"] = who
    elif action.kind is ActionKind.SET_STATUS and action.status is not None:
        change.update(_state_change(settings, action.status, action.text))
    elif action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        code = priority_code(settings, action.priority)
        params["sysparm_fields"] = f"{WRITE_FIELDS},priority"  # the answer shows the result
        change["impact"], change["urgency"] = IMPACT_URGENCY[PRIORITY_BY_CODE[code]]
        path = f"{INCIDENT_PATH}/{quote(str(action.ticket_id), safe='')}"
        note = f"priority {PRIORITY_LABELS[code]}: {LOOKUP_NOTE}"
        return (PlannedRequest("PATCH", path, params=params, body=change, note=note),)
    else:
        raise UnsupportedAction(f"servicenow cannot {action.kind.label}")
    path = f"{INCIDENT_PATH}/{quote(str(action.ticket_id), safe='')}"
    return (PlannedRequest("PATCH", path, params=params, body=change),)


def priority_code(settings: ServiceNowSettings, wanted: Priority) -> str:
    """The incident priority code a poll would read as ``wanted`` (``priority_map`` included).

    The reading maps the code (1..5) to P1..P5 unless ``priority_map`` says otherwise
    for its label (``"2 - High"``) or code; this runs it backwards.
    """
    overrides = settings.priority_map
    choices = (
        PriorityChoice(
            code,
            label,
            overrides.get(label.lower()) or overrides.get(code) or PRIORITY_BY_CODE[code],
        )
        for code, label in PRIORITY_LABELS.items()
    )
    return vendor_priority("servicenow", wanted, choices)


async def perform(connector: ServiceNowConnector, action: Action) -> ActionResult:
    """Send the planned request; report the incident number the instance answers with."""
    (request,) = connector.plan(action)
    response = await connector.send_planned(request)
    record = written_record(response)
    number = raw_value(record, "number")
    status = f"HTTP {response.status_code}"
    if action.kind is not ActionKind.CREATE:
        name = number or action.ticket_key or str(action.ticket_id)
        if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
            shown = raw_value(record, "priority")
            now = f" (priority now {PRIORITY_LABELS.get(shown, shown)})" if shown else ""
            return ActionResult(f"{status}: {name} updated{now}", response.status_code)
        return ActionResult(f"{status}: {name} updated", response.status_code)
    sys_id = raw_value(record, "sys_id")
    if not sys_id:
        raise BadPayload("ServiceNow create answer has no sys_id", http_status=response.status_code)
    return ActionResult(
        f"{status}: created {number or sys_id}", response.status_code, sys_id, number or sys_id
    )


async def find_existing(connector: ServiceNowConnector, action: Action) -> ActionResult | None:
    """The incident already carrying this hand-off's ``correlation_id``, oldest first."""
    if action.handoff is None:
        return None
    correlation = _query_value(action.handoff.correlation)
    params = {
        "sysparm_query": f"correlation_id={correlation}^ORDERBYsys_created_on",
        "sysparm_fields": "sys_id,number",
        "sysparm_limit": "1",
    }
    rows = result_rows(await get_or_none(connector.client, INCIDENT_PATH, params))
    sys_id = raw_value(rows[0], "sys_id") if rows else ""
    if not sys_id:
        return None
    number = raw_value(rows[0], "number") or sys_id
    return ActionResult(f"already at ServiceNow as {number}", 200, sys_id, number, existing=True)


def _state_change(settings: ServiceNowSettings, status: TicketStatus, text: str) -> dict[str, str]:
    """The fields a state change needs to pass the instance's data policies."""
    change = {"state": STATE_OUT[status]}
    if status is TicketStatus.PENDING:
        change["hold_reason"] = settings.hold_reason
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        change["close_code"] = settings.close_code
        verb = "Resolved" if status is TicketStatus.RESOLVED else "Closed"
        change["close_notes"] = text.strip() or f"{verb} from paneglass"
    elif text.strip():
        change["work_notes"] = text
    return change


def _new_incident(handoff: Handoff) -> dict[str, str]:
    """A hand-off as incident fields (display values: names, not sys_ids)."""
    incident = {
        "short_description": handoff.title,
        "description": _handoff_text(handoff),
        "correlation_id": _query_value(handoff.correlation),
        "correlation_display": CORRELATION_DISPLAY,
        "contact_type": "integration",
    }
    if handoff.requester:
        incident["caller_id"] = handoff.requester
    if handoff.asset:
        incident["cmdb_ci"] = handoff.asset
    if handoff.priority is not None:
        incident["impact"], incident["urgency"] = IMPACT_URGENCY[handoff.priority]
    return incident


def _handoff_text(handoff: Handoff) -> str:
    """The description plus where it came from, so nothing depends on references resolving."""
    origin = f"Handed off from {handoff.source_vendor} {handoff.source_key}"
    lines = [handoff.description.strip(), "", origin]
    if handoff.source_url:
        lines.append(handoff.source_url)
    if handoff.requester:
        lines.append(f"Requester: {handoff.requester}")
    if handoff.asset:
        lines.append(f"Asset: {handoff.asset}")
    return "\n".join(lines).strip()


def _query_value(value: str) -> str:
    """A value that can sit in an encoded query as one term (``^`` separates terms)."""
    if "^" in value or "\n" in value or not value.strip():
        raise UnsupportedAction(
            f"correlation {value[:60]!r} cannot be matched in a ServiceNow encoded query"
        )
    return value

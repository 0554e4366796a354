"""One ServiceNow ``incident`` (or ``task_sla``) payload to the unified shape.

The Table API sends the same record in two shapes: with
``sysparm_display_value=all`` every field is ``{"display_value", "value"}``
(plus ``link`` on references), and by default every field is a flat string,
references being ``{"link", "value"}`` or ``""`` when empty. Logic only ever
reads the raw ``value`` (display values are localised: user time zone, date
format, language); display values are kept for people to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_servicenow

__all__ = [
    "PRIORITY_BY_CODE",
    "STATUS_BY_STATE",
    "display",
    "incident_to_record",
    "incident_url",
    "raw_value",
    "sla_summary",
]

STATUS_BY_STATE: Mapping[str, TicketStatus] = {
    "1": TicketStatus.NEW,
    "2": TicketStatus.OPEN,
    "3": TicketStatus.PENDING,
    "6": TicketStatus.RESOLVED,
    "7": TicketStatus.CLOSED,
    "8": TicketStatus.CLOSED,
}
"""Out-of-box incident ``state`` choices; instances may add more (those count as open)."""

PRIORITY_BY_CODE: Mapping[str, Priority] = {
    "1": Priority.P1,
    "2": Priority.P2,
    "3": Priority.P3,
    "4": Priority.P4,
    "5": Priority.P5,
}


def raw_value(payload: Mapping[str, Any], name: str) -> str:
    """The field's raw value as text in either shape; ``""`` when missing or empty."""
    field = payload.get(name)
    if isinstance(field, Mapping):
        field = field.get("value")
    if field is None:
        return ""
    if isinstance(field, (dict, list)):
        raise BadPayload(f"ServiceNow field {name!r} has an unexpected {type(field).__name__}")
    return str(field)


def display(payload: Mapping[str, Any], name: str) -> str | None:
    """The field's display value, else its raw value; ``None`` when both are empty.

    The flat shape carries no display values, so references fall back to the
    sys_id they hold: better an id than nothing in the assignee column.
    """
    field = payload.get(name)
    if isinstance(field, Mapping):
        shown = field.get("display_value")
        if shown not in (None, ""):
            return str(shown)
    value = raw_value(payload, name)
    return value or None


def incident_url(base_url: str, sys_id: str) -> str:
    """The incident's form in the instance UI, built only from our own base URL.

    Payload links are never trusted as where to send the operator.
    """
    return f"{base_url.rstrip('/')}/nav_to.do?uri=incident.do%3Fsys_id%3D{quote(sys_id, safe='')}"


def incident_to_record(payload: Mapping[str, Any], base_url: str) -> TicketRecord:
    """Map one incident in either wire shape; :class:`BadPayload` if it cannot be read."""
    if not isinstance(payload, Mapping):
        raise BadPayload(f"ServiceNow incident is a {type(payload).__name__}, not an object")
    sys_id = raw_value(payload, "sys_id")
    if not sys_id:
        raise BadPayload("ServiceNow incident without sys_id")
    state = raw_value(payload, "state")
    priority = raw_value(payload, "priority")
    updated_at = _required_time(payload, "sys_updated_on", sys_id)
    created_at = (
        parse_servicenow(raw_value(payload, "sys_created_on"))
        or parse_servicenow(raw_value(payload, "opened_at"))
        or updated_at
    )
    return TicketRecord(
        external_id=sys_id,
        key=raw_value(payload, "number") or sys_id,
        title=raw_value(payload, "short_description"),
        status=STATUS_BY_STATE.get(state, TicketStatus.OPEN),
        raw_status=display(payload, "state") or state,
        priority=PRIORITY_BY_CODE.get(priority),
        raw_priority=display(payload, "priority"),
        created_at=created_at,
        updated_at=updated_at,
        assignee=display(payload, "assigned_to"),
        group=display(payload, "assignment_group"),
        requester=display(payload, "caller_id"),
        asset=display(payload, "cmdb_ci"),
        resolved_at=parse_servicenow(raw_value(payload, "resolved_at")),
        url=incident_url(base_url, sys_id),
        raw=dict(payload),
    )


def sla_summary(rows: list[Mapping[str, Any]]) -> tuple[datetime | None, bool | None]:
    """Earliest breach time and "any breached" over one incident's active ``task_sla`` rows."""
    due: datetime | None = None
    breached: bool | None = None
    for row in rows:
        planned = parse_servicenow(raw_value(row, "planned_end_time"))
        if planned is not None and (due is None or planned < due):
            due = planned
        flag = raw_value(row, "has_breached")
        if flag:
            breached = bool(breached) or flag == "true"
    return due, breached


def _required_time(payload: Mapping[str, Any], name: str, sys_id: str) -> datetime:
    value = parse_servicenow(raw_value(payload, name))
    if value is None:
        raise BadPayload(f"ServiceNow incident {sys_id[:40]!r} has no {name}")
    return value

"""PagerDuty incident JSON → TicketRecord (pure functions).

PagerDuty has no SLA object and no "updated since" sort, so the connector
reads two feeds (see ``connector``); this module only maps one incident.
Status: ``triggered`` → new (nobody has responded), ``acknowledged`` → open
(a responder owns it; it must not pause a contract clock), ``resolved`` →
resolved. The first acknowledgement is the first response. Priority is the
account's ``priority.name`` (P1..P5) when priorities are enabled, else
urgency high → P2, low → P4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import BadPayload
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["STATUSES", "incident_id", "incident_to_record"]

STATUSES = {
    "triggered": TicketStatus.NEW,
    "acknowledged": TicketStatus.OPEN,
    "resolved": TicketStatus.RESOLVED,
}
_URGENCY = {"high": Priority.P2, "low": Priority.P4}
_PRIORITY_NAMES = {p.value for p in Priority}


def _summary(value: Any) -> str | None:
    if isinstance(value, Mapping):
        text = value.get("summary")
        return str(text) if text else None
    return None


def incident_id(incident: Mapping[str, Any]) -> str:
    """The stable id; sanitised exports blank ``id``, so fall back to the number."""
    value = incident.get("id")
    if isinstance(value, str) and value:
        return value
    number = incident.get("incident_number")
    if isinstance(number, int) and not isinstance(number, bool):
        return f"number:{number}"
    raise BadPayload("PagerDuty incident without id or incident_number")


def incident_to_record(incident: Mapping[str, Any], *, ui_url: str | None = None) -> TicketRecord:
    """One incident in the unified shape."""
    raw_status = str(incident.get("status") or "")
    status = STATUSES.get(raw_status, TicketStatus.OPEN)
    priority_obj = incident.get("priority")
    name = priority_obj.get("name") if isinstance(priority_obj, Mapping) else None
    urgency = str(incident.get("urgency") or "")
    if isinstance(name, str) and name.upper() in _PRIORITY_NAMES:
        priority: Priority | None = Priority(name.upper())
        raw_priority: str | None = name
    else:
        priority = _URGENCY.get(urgency)
        raw_priority = f"urgency {urgency}" if urgency else None
    created = parse_iso(incident.get("created_at"))
    if created is None:
        raise BadPayload("PagerDuty incident without created_at")
    updated = (
        parse_iso(incident.get("updated_at") or incident.get("last_status_change_at")) or created
    )
    acks = incident.get("acknowledgements") or []
    ack_times = [parse_iso(a.get("at")) for a in acks if isinstance(a, Mapping)]
    first_ack = min((t for t in ack_times if t is not None), default=None)
    if first_ack is None and raw_status == "acknowledged":
        first_ack = parse_iso(incident.get("last_status_change_at"))
    assignments = incident.get("assignments") or []
    assignee = next(
        (_summary(a.get("assignee")) for a in assignments if isinstance(a, Mapping)), None
    )
    ident = incident_id(incident)
    number = incident.get("incident_number")
    url = f"{ui_url.rstrip('/')}/incidents/{ident}" if ui_url and incident.get("id") else None
    return TicketRecord(
        external_id=ident,
        key=f"#{number}" if number is not None else ident,
        title=str(incident.get("title") or "(no title)"),
        status=status,
        raw_status=raw_status,
        priority=priority,
        raw_priority=raw_priority,
        created_at=created,
        updated_at=updated,
        assignee=assignee,
        group=_summary(incident.get("escalation_policy")),
        asset=_summary(incident.get("service")),
        resolved_at=parse_iso(incident.get("resolved_at")),
        first_response_at=first_ack,
        url=url,
        raw=dict(incident),
    )

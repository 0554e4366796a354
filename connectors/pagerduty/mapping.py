"""PagerDuty incident, log entry and note JSON → records (pure functions).

PagerDuty has no SLA object and no "updated since" sort, so the connector
reads two feeds (see ``connector``); this module only maps what they return.
Status: ``triggered`` → new (nobody has responded), ``acknowledged`` → open
(a responder owns it; it must not pause a contract clock), ``resolved`` →
resolved. The first acknowledgement is the first response. Priority is the
account's ``priority.name`` (P1..P5) when priorities are enabled, else
urgency high → P2, low → P4. The incident's ``description`` (plain text in
list answers) becomes the ticket's description.

Conversations: notes (``GET /incidents/{id}/notes``) are internal (only
responders see them); log entries of the kinds that change an incident
(trigger, acknowledge, resolve, assign, escalate, …) are system entries, their
``summary`` the body and a resolve's ``note`` (its resolution) appended. Note
and notification log entries are left out: a note is read from the notes
endpoint with its full text, and a notification per page sent is noise.
PagerDuty keeps no attachments on incidents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import BadPayload
from connectors.records import ConversationEntry, Priority, TicketRecord, TicketStatus, Visibility
from connectors.richtext import markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "STATUSES",
    "SYSTEM_LOG_TYPES",
    "incident_id",
    "incident_to_record",
    "log_entry_to_entry",
    "note_to_entry",
]

STATUSES = {
    "triggered": TicketStatus.NEW,
    "acknowledged": TicketStatus.OPEN,
    "resolved": TicketStatus.RESOLVED,
}
_URGENCY = {"high": Priority.P2, "low": Priority.P4}
SYSTEM_LOG_TYPES = frozenset(
    {
        "trigger_log_entry",
        "acknowledge_log_entry",
        "unacknowledge_log_entry",
        "resolve_log_entry",
        "assign_log_entry",
        "delegate_log_entry",
        "escalate_log_entry",
        "exhaust_escalation_path_log_entry",
        "repeat_escalation_path_log_entry",
        "reach_ack_limit_log_entry",
        "reach_trigger_limit_log_entry",
        "snooze_log_entry",
        "urgency_change_log_entry",
        "field_value_change_log_entry",
        "custom_field_value_change_log_entry",
    }
)
"""Log entry types kept as system conversation entries (not notes, not notifications)."""
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
        description=_description(incident.get("description")),
        raw=incident,  # the page's own decoded object: no copy
    )


def _description(value: Any) -> str | None:
    """Plain text in PagerDuty: tidied, never rendered."""
    if not isinstance(value, str):
        return None
    return markdown_to_text(value) or None


def log_entry_to_entry(entry: Mapping[str, Any], ticket_id: str) -> ConversationEntry | None:
    """One log entry as a system conversation entry; ``None`` for the kinds left out."""
    kind = entry.get("type")
    ident = entry.get("id")
    if kind not in SYSTEM_LOG_TYPES or not isinstance(ident, str) or not ident:
        return None
    created = parse_iso(entry.get("created_at"))
    if created is None:
        raise BadPayload(f"PagerDuty log entry {ident} has no created_at")
    summary = entry.get("summary")
    text = summary if isinstance(summary, str) and summary else str(kind).replace("_", " ")
    note = entry.get("note")
    if isinstance(note, str) and note.strip():
        text = f"{text}\n{note}"
    return ConversationEntry(
        ticket_external_id=ticket_id,
        external_id=ident,
        created_at=created,
        visibility=Visibility.SYSTEM,
        body=markdown_to_text(text),
        author=_summary(entry.get("agent")),
        raw_format="text",
        raw_body=text,
    )


def note_to_entry(note: Mapping[str, Any], ticket_id: str) -> ConversationEntry:
    """One incident note: internal, plain text, by the user (or rule) that wrote it."""
    ident = note.get("id")
    created = parse_iso(note.get("created_at"))
    if not isinstance(ident, str) or not ident or created is None:
        raise BadPayload("PagerDuty note without id or created_at")
    content = note.get("content")
    text = content if isinstance(content, str) else ""
    return ConversationEntry(
        ticket_external_id=ticket_id,
        external_id=ident,
        created_at=created,
        visibility=Visibility.INTERNAL,
        body=markdown_to_text(text),
        author=_summary(note.get("user")),
        raw_format="text",
        raw_body=text,
        updated_at=parse_iso(note.get("updated_at")),
    )

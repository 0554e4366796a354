"""Jira issue (plus its JSM SLAs) → :class:`TicketRecord`, purely.

Kept apart from HTTP so the real capture and hand-made payloads can be mapped
in tests without a server. Jira reports a status as a tenant-defined name plus
one of three fixed categories (``new``, ``indeterminate``, ``done``); the
category is the reliable part, the name refines it (waiting states, closed vs
resolved). SLAs come from ``/rest/servicedeskapi/request/{key}/sla`` as
cycles; only their ``epochMillis`` instants are used (the other renderings
follow the API user's locale and zone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import from_epoch_seconds, parse_iso

__all__ = [
    "PRIORITY_MAP",
    "SlaState",
    "field_text",
    "issue_to_record",
    "issue_url",
    "jira_offset",
    "normalise_status",
    "sla_state",
]

CATEGORY_MAP: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "indeterminate": TicketStatus.OPEN,
}
"""``statusCategory.key`` of statuses that still need work (``done`` is decided by name)."""

CLOSED_NAMES = frozenset({"closed", "canceled", "cancelled"})
"""Done-category status names that mean closed rather than resolved."""

WAITING_WORDS = ("waiting", "pending")
"""A status name with one of these words waits on someone other than the agent."""

AGENT_QUEUE_NAMES = frozenset({"waiting for support"})
"""JSM's default queue status: it waits on the *agent*, so it is work, not pending."""

PRIORITY_MAP: Mapping[str, Priority] = {
    "highest": Priority.P1,
    "high": Priority.P2,
    "medium": Priority.P3,
    "low": Priority.P4,
    "lowest": Priority.P5,
    # The older default scheme, still found on long-lived tenants.
    "blocker": Priority.P1,
    "critical": Priority.P1,
    "major": Priority.P2,
    "minor": Priority.P4,
    "trivial": Priority.P5,
}

FIRST_RESPONSE_WORDS = "first response"
"""JSM's default "Time to first response" SLA; its first completed cycle ends at the reply."""

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")
_OFFSET = re.compile(r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2}))$")


def normalise_status(name: str, category_key: str | None) -> TicketStatus:
    """The normalised status for a Jira status name and its category key."""
    lowered = name.strip().lower()
    if category_key == "done":
        return TicketStatus.CLOSED if lowered in CLOSED_NAMES else TicketStatus.RESOLVED
    if lowered not in AGENT_QUEUE_NAMES and any(word in lowered for word in WAITING_WORDS):
        return TicketStatus.PENDING
    # An unknown category (``undefined`` on broken workflows) must stay visible: open.
    return CATEGORY_MAP.get(category_key or "", TicketStatus.OPEN)


def issue_url(base_url: str, key: str) -> str | None:
    """``{site}/browse/{key}``, only for a key shaped like a Jira key (never vendor-sent URLs)."""
    if not _ISSUE_KEY.match(key):
        return None
    return f"{base_url.rstrip('/')}/browse/{quote(key, safe='-_')}"


def jira_offset(value: str) -> timezone | None:
    """The UTC offset a Jira timestamp was written in (the API user's profile zone)."""
    match = _OFFSET.search(value.strip())
    if match is None:
        return None
    if match["z"]:
        return UTC
    minutes = int(match["hh"]) * 60 + int(match["mm"])
    return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))


@dataclass(frozen=True)
class SlaState:
    """What a request's JSM SLAs say, reduced to the unified record's fields."""

    due_at: datetime | None = None
    breached: bool | None = None
    first_response_at: datetime | None = None


def sla_state(values: Sequence[Any] | None, now: datetime) -> SlaState:
    """``vendor_due_at``, ``vendor_breached`` and first response from SLA ``values``.

    The due time is the earliest ``breachTime`` among running (not paused)
    ongoing cycles: a paused clock's breach time moves, so it is no deadline.
    Breached is true when any ongoing or completed cycle says so, or a running
    cycle's breach time has passed (JSM updates the flag lazily). With no SLA
    at all we know nothing, so both stay ``None``. Odd entries are skipped.
    """
    metrics = [m for m in values or () if isinstance(m, Mapping)]
    if not metrics:
        return SlaState()
    deadlines: list[datetime] = []
    breached = False
    first_response: datetime | None = None
    for metric in metrics:
        ongoing = metric.get("ongoingCycle")
        if isinstance(ongoing, Mapping):
            breached = breached or ongoing.get("breached") is True
            deadline = _instant(ongoing.get("breachTime"))
            if deadline is not None and ongoing.get("paused") is not True:
                deadlines.append(deadline)
                breached = breached or deadline <= now
        completed = [c for c in _as_list(metric.get("completedCycles")) if isinstance(c, Mapping)]
        breached = breached or any(c.get("breached") is True for c in completed)
        name = metric.get("name")
        if isinstance(name, str) and FIRST_RESPONSE_WORDS in name.lower():
            stops = [s for c in completed if (s := _instant(c.get("stopTime"))) is not None]
            if first_response is not None:
                stops.append(first_response)
            first_response = min(stops, default=None)
    return SlaState(min(deadlines) if deadlines else None, breached, first_response)


def issue_to_record(
    issue: Any,
    *,
    base_url: str,
    group_field: str | None = None,
    slas: Sequence[Any] | None = None,
    now: datetime,
) -> TicketRecord:
    """Map one issue of a ``search/jql`` page (or ``GET /issue/{key}``) with its SLA values."""
    if not isinstance(issue, Mapping):
        raise BadPayload("Jira issue is not an object")
    issue_id, key = issue.get("id"), issue.get("key")
    if not isinstance(issue_id, str | int) or isinstance(issue_id, bool) or not str(issue_id):
        raise BadPayload("Jira issue without an id")
    if not isinstance(key, str) or not key:
        raise BadPayload(f"Jira issue {issue_id} has no key")
    fields = issue.get("fields")
    if not isinstance(fields, Mapping):
        raise BadPayload(f"Jira issue {key} has no fields (were they requested?)")
    status = fields.get("status")
    raw_status = status.get("name") if isinstance(status, Mapping) else None
    if not isinstance(raw_status, str) or not raw_status.strip():
        raise BadPayload(f"Jira issue {key} has no status name")
    category = status.get("statusCategory") if isinstance(status, Mapping) else None
    category_key = category.get("key") if isinstance(category, Mapping) else None
    raw_priority = _name(fields.get("priority"), "name")
    created_at = parse_iso(fields.get("created"))
    if created_at is None:
        raise BadPayload(f"Jira issue {key} has no created time")
    sla = sla_state(slas, now)
    raw = dict(issue) if slas is None else {**issue, "sla": list(slas)}
    return TicketRecord(
        external_id=str(issue_id),
        key=key,
        title=_title(fields.get("summary")),
        status=normalise_status(
            raw_status, category_key if isinstance(category_key, str) else None
        ),
        raw_status=raw_status.strip(),
        priority=PRIORITY_MAP.get(raw_priority.lower()) if raw_priority else None,
        raw_priority=raw_priority,
        created_at=created_at,
        updated_at=parse_iso(fields.get("updated")) or created_at,
        assignee=_name(fields.get("assignee"), "displayName"),
        group=_group(fields, group_field),
        requester=_name(fields.get("reporter"), "displayName"),
        resolved_at=parse_iso(fields.get("resolutiondate")),
        first_response_at=sla.first_response_at,
        vendor_due_at=sla.due_at,
        vendor_breached=sla.breached,
        url=issue_url(base_url, key),
        raw=raw,
    )


def field_text(value: Any) -> str | None:
    """Readable text of a custom field: a string, an option, a user, a team, or a list of them."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping):
        for key in ("value", "name", "displayName", "title", "key"):
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
        return None
    if isinstance(value, list):
        parts = [text for item in value if (text := field_text(item))]
        return ", ".join(parts) or None
    return None


def _group(fields: Mapping[str, Any], group_field: str | None) -> str | None:
    """The configured group field's text, else the project key."""
    if group_field:
        text = field_text(fields.get(group_field))
        if text:
            return text
    return _name(fields.get("project"), "key")


def _title(summary: Any) -> str:
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    return "(no summary)"


def _name(value: Any, key: str) -> str | None:
    text = value.get(key) if isinstance(value, Mapping) else None
    return (text.strip() or None) if isinstance(text, str) else None


def _instant(value: Any) -> datetime | None:
    """A JSM DateDTO as UTC: ``epochMillis`` first, ``iso8601`` as a fallback; else ``None``."""
    if not isinstance(value, Mapping):
        return None
    millis = value.get("epochMillis")
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        try:
            return from_epoch_seconds(millis / 1000)
        except BadPayload:
            return None
    try:
        return parse_iso(value.get("iso8601"))
    except BadPayload:
        return None


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()

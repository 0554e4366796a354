"""Zendesk ticket dict (plus sideloaded users and groups) → :class:`TicketRecord`, purely.

Kept apart from HTTP so the real capture and hand-made hostile payloads can be
mapped in tests without a server. Names come from the ``users`` and ``groups``
sideloads of the same export, because a ticket only carries ids; an id missing
from the sideload still shows as ``user <id>`` rather than vanishing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeGuard

from connectors.errors import BadPayload
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.timestamps import parse_iso

__all__ = [
    "PRIORITY_MAP",
    "STATUS_MAP",
    "index_by_id",
    "sla_state",
    "ticket_to_record",
    "ticket_url",
]

STATUS_MAP: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "hold": TicketStatus.PENDING,
    "solved": TicketStatus.RESOLVED,
    "closed": TicketStatus.CLOSED,
    "deleted": TicketStatus.CLOSED,
}
"""Zendesk's fixed status categories; the export reports deleted tickets as ``deleted``."""

PRIORITY_MAP: Mapping[str, Priority] = {
    "urgent": Priority.P1,
    "high": Priority.P2,
    "normal": Priority.P3,
    "low": Priority.P4,
}

Lookup = Mapping[int, Mapping[str, Any]]
"""Sideloaded users or groups by id."""


def index_by_id(rows: Any) -> dict[int, Mapping[str, Any]]:
    """Sideload rows (``users``/``groups``) keyed by id; malformed rows are skipped, not fatal."""
    if not isinstance(rows, list):
        return {}
    index: dict[int, Mapping[str, Any]] = {}
    for row in rows:
        if isinstance(row, Mapping) and _is_id(row.get("id")):
            index[row["id"]] = row
    return index


def ticket_url(base_url: str, ticket_id: int) -> str:
    """The agent UI link, built only from our configured host (never a vendor-sent URL)."""
    return f"{base_url.rstrip('/')}/agent/tickets/{ticket_id}"


def ticket_to_record(
    ticket: Any,
    *,
    users: Lookup,
    groups: Lookup,
    base_url: str,
    now: datetime,
) -> TicketRecord:
    """Map one ticket of an export page (or of ``GET /tickets/{id}.json``'s ``ticket``)."""
    if not isinstance(ticket, Mapping):
        raise BadPayload("Zendesk ticket is not an object")
    ticket_id = ticket.get("id")
    if not _is_id(ticket_id):
        raise BadPayload("Zendesk ticket id missing or not an integer")
    raw_status = ticket.get("status")
    if not isinstance(raw_status, str) or not raw_status:
        raise BadPayload(f"Zendesk ticket {ticket_id} has no status")
    raw_priority = ticket.get("priority")
    if raw_priority is not None and not isinstance(raw_priority, str):
        raise BadPayload(f"Zendesk ticket {ticket_id} priority is not text")
    created_at = parse_iso(ticket.get("created_at"))
    if created_at is None:
        raise BadPayload(f"Zendesk ticket {ticket_id} has no created_at")
    due_at, breached = sla_state(ticket.get("slas"), now)
    return TicketRecord(
        external_id=str(ticket_id),
        key=f"#{ticket_id}",
        title=_title(ticket),
        # An unknown status (a future category) must stay visible, so it counts as open.
        status=STATUS_MAP.get(raw_status, TicketStatus.OPEN),
        raw_status=raw_status,
        priority=PRIORITY_MAP.get(raw_priority) if raw_priority else None,
        raw_priority=raw_priority or None,
        created_at=created_at,
        updated_at=parse_iso(ticket.get("updated_at")) or created_at,
        assignee=_name(ticket.get("assignee_id"), users, "user"),
        group=_name(ticket.get("group_id"), groups, "group"),
        requester=_name(ticket.get("requester_id"), users, "user"),
        vendor_due_at=due_at,
        vendor_breached=breached,
        url=ticket_url(base_url, ticket_id),
        raw=dict(ticket),
    )


def sla_state(slas: Any, now: datetime) -> tuple[datetime | None, bool | None]:
    """``(vendor_due_at, vendor_breached)`` from the ``slas`` sideload of one ticket.

    Only ``active`` metrics have a running clock: paused and achieved ones carry
    no ``breach_at``. With no active metric we know nothing, so both are ``None``.
    The sideload is loosely documented, so odd entries are skipped, not fatal.
    """
    metrics = slas.get("policy_metrics") if isinstance(slas, Mapping) else None
    deadlines = [
        deadline
        for metric in _as_list(metrics)
        if isinstance(metric, Mapping) and metric.get("stage") == "active"
        for deadline in [_lenient_time(metric.get("breach_at"))]
        if deadline is not None
    ]
    if not deadlines:
        return None, None
    return min(deadlines), any(deadline <= now for deadline in deadlines)


def _title(ticket: Mapping[str, Any]) -> str:
    """``subject``; some channels create tickets without one, so fall back like the agent UI."""
    for key in ("subject", "raw_subject"):
        value = ticket.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "(no subject)"


def _name(entity_id: Any, lookup: Lookup, noun: str) -> str | None:
    if not _is_id(entity_id):
        return None
    row = lookup.get(entity_id)
    name = row.get("name") if row is not None else None
    if isinstance(name, str) and name.strip():
        return name.strip()
    return f"{noun} {entity_id}"


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()


def _lenient_time(value: Any) -> datetime | None:
    try:
        return parse_iso(value)
    except BadPayload:
        return None

"""ConnectWise PSA service ticket (REST 3.0 JSON) → :class:`TicketRecord`, purely.

Kept apart from HTTP so the real capture and hand-made payloads can be mapped
in tests without a server. A ticket carries short references (``{id, name}``)
for its board, status, priority, owner, contact and company, so one row holds
everything a record needs; only the fields named here are read, so odd values
elsewhere in the row (the capture's ``"2015-12-24T22: 08: 22Z"`` inside its
``company``, or ``"https: //…"`` hrefs) cannot break a ticket.

Status: every tenant names its own board statuses, so only ``closedFlag`` is a
fact; the rest is read from the status name by keyword and is exactly what
``status_map`` overrides exist for. Priority: ``priority.sort`` 1..5 when the
reference carries it, else the level in names like "Priority 2 - Quick Response".

Notes (``GET /service/tickets/{id}/notes``, the ServiceNote model) become
:class:`ConversationEntry` s. ConnectWise keeps a note as plain text (its e-mail
connector strips HTML before it writes one; newer sites allow Markdown in the
editor), so the body is that text tidied, with earlier e-mail replies it quotes
folded away (:func:`connectors.richtext.fold_quoted`); the raw body keeps it
whole. Who may read a note follows its flags: Internal Analysis (or
``internalFlag``) is internal; Discussion (``detailDescriptionFlag``) and
Resolution are what the customer sees; a note with no flag and no member or
contact behind it was written by the system (a workflow rule), otherwise it is
treated as internal (never claimed public without a flag saying so). The first
Discussion note is the ticket's initial description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard

from connectors.errors import BadPayload
from connectors.records import ConversationEntry, Priority, TicketRecord, TicketStatus, Visibility
from connectors.richtext import fold_quoted, markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "DEFAULT_CODEBASE",
    "description_text",
    "is_description",
    "normalise_priority",
    "normalise_status",
    "note_to_entry",
    "note_visibility",
    "parse_cw_time",
    "ticket_to_record",
    "ticket_url",
]

DEFAULT_CODEBASE = "v4_6_release"
"""The codebase segment of every cloud URL (API and UI alike)."""

_PENDING_WORDS = re.compile(r"\b(waiting|pending|hold)\b", re.IGNORECASE)
_RESOLVED_WORDS = re.compile(r"\b(resolved|completed?)\b", re.IGNORECASE)
_CLOSED_WORDS = re.compile(r"\b(closed|cancell?ed)\b", re.IGNORECASE)
_NEW_WORD = re.compile(r"\bnew\b", re.IGNORECASE)
_PRIORITY_LEVEL = re.compile(r"^\s*priority\s*(\d)\b", re.IGNORECASE)
_LEVELS = (Priority.P1, Priority.P2, Priority.P3, Priority.P4, Priority.P5)


def parse_cw_time(value: object) -> datetime | None:
    """A ConnectWise timestamp (``2016-03-08T21:59:20Z``, always UTC) as aware UTC."""
    return parse_iso(value)


def ticket_url(ui_url: str, codebase: str, ticket_id: int) -> str:
    """The classic service-ticket deep link, built only from our configured UI host and the id."""
    return (
        f"{ui_url.rstrip('/')}/{codebase}/services/system_io/Service/"
        f"fv_sr100_request.rails?service_recid={ticket_id}"
    )


def normalise_status(status_name: str, closed: bool) -> TicketStatus:
    """``closedFlag`` first; then the board status name by keyword (tenants name them freely).

    Checked in this order: waiting/pending/hold → pending, resolved/completed →
    resolved, closed/cancelled (a closing status whose flag is not set yet) →
    closed, the word "new" → new, anything else → open, so an unknown status
    stays visible as work in progress.
    """
    if closed:
        return TicketStatus.CLOSED
    if _PENDING_WORDS.search(status_name):
        return TicketStatus.PENDING
    if _RESOLVED_WORDS.search(status_name):
        return TicketStatus.RESOLVED
    if _CLOSED_WORDS.search(status_name):
        return TicketStatus.CLOSED
    if _NEW_WORD.search(status_name):
        return TicketStatus.NEW
    return TicketStatus.OPEN


def normalise_priority(priority: Mapping[str, Any] | None) -> Priority | None:
    """``sort`` 1..5 → P1..P5; else the digit of a "Priority N - …" name; else ``None``.

    (The full priority object has a ``sortOrder`` too, a display position that is
    not the level, so it is never read.)
    """
    if priority is None:
        return None
    sort = priority.get("sort")
    if _is_int(sort) and 1 <= sort <= len(_LEVELS):
        return _LEVELS[sort - 1]
    name = priority.get("name")
    match = _PRIORITY_LEVEL.match(name) if isinstance(name, str) else None
    if match is not None and 1 <= int(match[1]) <= len(_LEVELS):
        return _LEVELS[int(match[1]) - 1]
    return None


def ticket_to_record(
    ticket: Any,
    *,
    ui_url: str | None = None,
    codebase: str = DEFAULT_CODEBASE,
    description: str | None = None,
) -> TicketRecord:
    """Map one row of ``GET /service/tickets`` (or ``GET /service/tickets/{id}``)."""
    if not isinstance(ticket, Mapping):
        raise BadPayload("ConnectWise ticket is not an object")
    ticket_id = ticket.get("id")
    if not _is_int(ticket_id):
        raise BadPayload("ConnectWise ticket id missing or not an integer")
    info = _ref(ticket.get("_info")) or {}
    created_at = parse_cw_time(info.get("dateEntered") or ticket.get("dateEntered"))
    if created_at is None:
        raise BadPayload(f"ConnectWise ticket {ticket_id} has no _info.dateEntered")
    updated_at = parse_cw_time(info.get("lastUpdated")) or created_at
    status = _ref(ticket.get("status"))
    raw_status = _text(status, "name")
    if raw_status is None:
        raise BadPayload(f"ConnectWise ticket {ticket_id} has no status name")
    closed = ticket.get("closedFlag") is True
    priority = _ref(ticket.get("priority"))
    breached = _breached(ticket)
    return TicketRecord(
        external_id=str(ticket_id),
        key=f"#{ticket_id}",
        title=_title(ticket),
        status=normalise_status(raw_status, closed),
        raw_status=raw_status,
        priority=normalise_priority(priority),
        raw_priority=_text(priority, "name"),
        created_at=created_at,
        updated_at=updated_at,
        assignee=_assignee(ticket),
        group=_text(_ref(ticket.get("board")), "name") or _text(_ref(ticket.get("team")), "name"),
        requester=_requester(ticket),
        asset=_first_configuration(ticket.get("configurations")),
        resolved_at=_optional_time(ticket.get("dateResolved"))
        or _optional_time(ticket.get("closedDate")),
        first_response_at=_optional_time(ticket.get("dateResponded")),
        # ``respondMinutes``/``resolveMinutes`` are minutes *taken*; the targets live on
        # the SLA definition, so the ticket alone gives no due time (vendor-apis.md 8.7).
        vendor_due_at=None,
        vendor_breached=breached,
        url=ticket_url(ui_url, codebase, ticket_id) if ui_url else None,
        description=description,
        raw=dict(ticket),
    )


def note_visibility(note: Mapping[str, Any]) -> Visibility:
    """Who can read a note at ConnectWise, from its flags (see the module docstring)."""
    if note.get("internalAnalysisFlag") is True or note.get("internalFlag") is True:
        return Visibility.INTERNAL
    if note.get("detailDescriptionFlag") is True or note.get("resolutionFlag") is True:
        return Visibility.PUBLIC
    if _ref(note.get("member")) is None and _ref(note.get("contact")) is None:
        return Visibility.SYSTEM
    return Visibility.INTERNAL


def is_description(note: Mapping[str, Any]) -> bool:
    """A Discussion note: the first one (by id) is the ticket's initial description."""
    return note.get("detailDescriptionFlag") is True


def description_text(note: Mapping[str, Any]) -> str | None:
    """The description a note carries, as tidy plain text (``None`` when empty)."""
    text = note.get("text")
    if not isinstance(text, str):
        return None
    return markdown_to_text(text).strip() or None


def note_to_entry(note: Any, ticket_id: str) -> ConversationEntry:
    """Map one ServiceNote of ``GET /service/tickets/{id}/notes``."""
    if not isinstance(note, Mapping):
        raise BadPayload(f"ConnectWise note on ticket {ticket_id} is not an object")
    note_id = note.get("id")
    if not _is_int(note_id):
        raise BadPayload(f"ConnectWise note on ticket {ticket_id} has no integer id")
    info = _ref(note.get("_info")) or {}
    created = _optional_time(note.get("dateCreated")) or _optional_time(info.get("dateEntered"))
    updated = _optional_time(info.get("lastUpdated"))
    created = created or updated
    if created is None:
        raise BadPayload(f"ConnectWise note {note_id} has no dateCreated")
    raw = note.get("text")
    raw_text = raw if isinstance(raw, str) else ""
    body, _quoted = fold_quoted(markdown_to_text(raw_text))
    return ConversationEntry(
        ticket_external_id=ticket_id,
        external_id=str(note_id),
        created_at=created,
        visibility=note_visibility(note),
        body=body,
        author=_note_author(note),
        raw_format="text",
        raw_body=raw_text,
        updated_at=updated,
    )


def _note_author(note: Mapping[str, Any]) -> str | None:
    """The member who wrote it, else the contact (a customer reply), else ``createdBy``."""
    member = _ref(note.get("member"))
    contact = _ref(note.get("contact"))
    return (
        _text(member, "name")
        or _text(member, "identifier")
        or _text(contact, "name")
        or _text(note, "createdBy")
    )


def _breached(ticket: Mapping[str, Any]) -> bool | None:
    """``isInSla`` false means ConnectWise counts the ticket out of its SLA: breached.

    Without an ``sla`` reference, or without a boolean ``isInSla``, we know nothing.
    """
    in_sla = ticket.get("isInSla")
    if _ref(ticket.get("sla")) is None or not isinstance(in_sla, bool):
        return None
    return not in_sla


def _title(ticket: Mapping[str, Any]) -> str:
    summary = ticket.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    return "(no summary)"


def _assignee(ticket: Mapping[str, Any]) -> str | None:
    """The owner's name (or identifier); else the first of the comma-separated ``resources``."""
    owner = _ref(ticket.get("owner"))
    full_name = " ".join(filter(None, (_text(owner, "firstName"), _text(owner, "lastName"))))
    # A reference has ``name``; a full member object (as in the capture) has first/last names.
    name = _text(owner, "name") or full_name or _text(owner, "identifier")
    if name is not None:
        return name
    resources = ticket.get("resources")
    if isinstance(resources, str):
        first = resources.split(",")[0].strip()
        return first or None
    return None


def _requester(ticket: Mapping[str, Any]) -> str | None:
    """The contact; a ticket raised for a whole company names only the company."""
    return (
        _text(_ref(ticket.get("contact")), "name")
        or _text(ticket, "contactName")
        or _text(_ref(ticket.get("company")), "name")
    )


def _first_configuration(value: Any) -> str | None:
    """First configuration's name, when a payload carries them (list rows normally do not)."""
    if not isinstance(value, list):
        return None
    for item in value:
        item_ref = _ref(item)
        name = _text(item_ref, "name") or _text(item_ref, "deviceIdentifier")
        if name is not None:
            return name
    return None


def _optional_time(value: Any) -> datetime | None:
    """An optional date; an unreadable one is treated as absent rather than failing the ticket."""
    try:
        return parse_cw_time(value)
    except BadPayload:
        return None


def _ref(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _text(row: Mapping[str, Any] | None, key: str) -> str | None:
    value = row.get(key) if row is not None else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)

"""Kaseya BMS envelope, ticket and note dicts → records, purely (no HTTP).

**Key case.** The BMS OpenAPI names every property in PascalCase
(``TicketNumber``, ``Result``), but clients written against the live API read
camelCase (``result.accessToken``, ``ticketNumber``, ``createdOn``: ASP.NET's
default serializer), so :func:`pick` reads either, camelCase first.

**Envelope.** Every answer is ``{success, error, result, totalRecords}``; a
refusal can arrive with HTTP 200 and ``success: false`` (api-evangelist's
reading of the spec: it declares 200 responses only), so :func:`unwrap` checks
``success`` before trusting ``result`` and maps ``error.code`` like an HTTP status.

Choices the reference (``vendor-apis-2.md`` §2.2) leaves open:

* **Status.** Statuses are tenant-defined names. The name decides: "new" →
  new; "resolv…" → resolved; "clos…", "complet…", "cancel…" → closed; "wait…",
  "pend…", "hold", "customer", "vendor", "scheduled" → pending; anything else
  open. A ticket with a ``completedDate`` is never active: an active-looking
  name then reads resolved. ``status_map`` overrides by name.
* **Priority.** By name: critical/urgent/emergency P1, high P2,
  medium/normal/moderate P3, low P4, very low/lowest/planning P5; others
  keep no normalized priority (``priority_map`` overrides).
* **People and things.** assignee ``assigneeName``, group ``queueName``,
  requester ``contactName`` (else ``accountName``), asset ``hardwareAssetName``.
* **Times.** created ``createdOn`` (else ``openDate``); updated
  ``lastActivityUpdate`` (else ``modifiedOn``); resolved ``completedDate``;
  vendor due ``resolutionTargetTime`` (else ``dueDate``); first response
  ``firstResponseActualTime``; vendor breach ``hasMetSLA is false``. BMS
  date-times carry no offset in .NET's default serialisation, and the spec does
  not say which zone they are in: one without an offset is read in the
  ``time_zone`` setting (UTC unless configured); .NET's ``DateTime.MinValue``
  (``0001-01-01T00:00:00``) means none.
* **Text.** ``details`` and note ``details`` may hold HTML (BMS's editor): a body
  with tags goes through :func:`~connectors.richtext.html_to_text`, plain text
  through the tidy-up only; e-mail replies are folded.
* **Notes.** ``isInternal`` → internal, else public; attachments as metadata
  (``originalFileName``, ``fileType``) without the payload's URLs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from connectors.errors import AuthError, BadPayload, ConnectorError, RateLimited, TransientError
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import fold_quoted, html_to_text, markdown_to_text
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = [
    "format_bms_time",
    "normalize_priority",
    "normalize_status",
    "note_to_entry",
    "parse_bms_time",
    "pick",
    "ticket_link",
    "ticket_to_record",
    "unwrap",
]

_HTML = re.compile(r"<\s*(?:p|br|div|span|b|i|u|a|ul|ol|li|table|tr|td|h\d|strong|em)\b", re.I)
_NAIVE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$")


def pick(row: Mapping[str, Any], name: str) -> Any:
    """``row``'s property ``name`` in camelCase (the wire) or PascalCase (the spec)."""
    camel = name[:1].lower() + name[1:]
    value = row.get(camel)
    return row.get(name) if value is None else value


def unwrap(body: Any, what: str) -> Any:
    """The envelope's ``result``; a ``success: false`` raises as its ``error`` says."""
    if not isinstance(body, Mapping):
        raise BadPayload(f"BMS {what} answer is not a JSON object")
    if pick(body, "Success") is False:
        error = pick(body, "Error")
        error = error if isinstance(error, Mapping) else {}
        code = pick(error, "Code")
        parts = [pick(error, "Message"), pick(error, "Details")]
        text = ": ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        message = one_line(clean_text(f"BMS {what} failed: {text or 'no reason given'}"), 300)
        status = code if isinstance(code, int) and not isinstance(code, bool) else None
        if status in (401, 403):
            raise AuthError(message, http_status=status)
        if status == 429:
            raise RateLimited(message, retry_after=None, http_status=429)
        if status is not None and status >= 500:
            raise TransientError(message, http_status=status)
        raise ConnectorError(message, http_status=status)
    return pick(body, "Result")


def parse_bms_time(value: object, zone: tzinfo = UTC) -> datetime | None:
    """A BMS date-time as aware UTC: with an offset as given, without one in ``zone``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(f"BMS date-time is a {type(value).__name__}")
    text = value.strip()
    if text.startswith("0001-01-01"):
        return None  # DateTime.MinValue: "no date"
    match = _NAIVE.match(text)
    if match is None:
        return parse_iso(text)
    fraction = (match[3] or "0")[:6].ljust(6, "0")
    try:
        naive = datetime.fromisoformat(f"{match[1]}T{match[2]}.{fraction}")
    except ValueError:
        raise BadPayload(f"invalid BMS date-time {text[:40]!r}") from None
    return naive.replace(tzinfo=zone).astimezone(UTC)


def format_bms_time(value: datetime, zone: tzinfo = UTC) -> str:
    """An instant as BMS filters take it: to the microsecond, without an offset, in ``zone``.

    Full precision matters for upper bounds: a ticket that changes while a bounded set
    is read must leave the set (its new time is past the bound), never move inside it,
    and a change just before the bound must fall inside it.
    """
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S.%f")


def normalize_status(name: str | None, completed: bool) -> TicketStatus:
    """A tenant's status name (and whether the ticket is completed) → a normalized status."""
    text = (name or "").strip().lower()
    if "resolv" in text:
        found = TicketStatus.RESOLVED
    elif any(word in text for word in ("clos", "complet", "cancel")):
        found = TicketStatus.CLOSED
    elif text == "new" or text.startswith("new "):
        found = TicketStatus.NEW
    elif any(
        word in text
        for word in ("wait", "pend", "hold", "customer", "vendor", "scheduled", "deferred")
    ):
        found = TicketStatus.PENDING
    else:
        found = TicketStatus.OPEN
    if completed and found.is_active:
        return TicketStatus.RESOLVED
    return found


def normalize_priority(name: str | None) -> Priority | None:
    """A tenant's priority name → P1..P5, or ``None`` when the name says nothing known."""
    text = (name or "").strip().lower()
    if not text:
        return None
    if any(word in text for word in ("critical", "urgent", "emergency")):
        return Priority.P1
    if any(word in text for word in ("very low", "lowest", "planning")):
        return Priority.P5
    if "high" in text:
        return Priority.P2
    if any(word in text for word in ("medium", "normal", "moderate")):
        return Priority.P3
    if "low" in text:
        return Priority.P4
    return None


def ticket_link(template: str, ticket_id: str, number: str | None) -> str:
    """The ``ticket_url`` template with the ticket's id and number URL-quoted into it."""
    link = template.replace("{id}", quote(ticket_id, safe=""))
    return link.replace("{number}", quote(number or "", safe=""))


def ticket_to_record(
    ticket: Any,
    *,
    zone: tzinfo = UTC,
    ticket_url: str | None = None,
) -> TicketRecord:
    """Map one ``result`` row of ``GET /v2/servicedesk/tickets`` (``TicketListDto``)."""
    if not isinstance(ticket, Mapping):
        raise BadPayload("BMS ticket is not an object")
    raw_id = pick(ticket, "Id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int):
        raise BadPayload("BMS ticket without an integer id")
    ticket_id = str(raw_id)
    number = _text(pick(ticket, "TicketNumber"))

    def when(name: str) -> datetime | None:
        return parse_bms_time(pick(ticket, name), zone)

    created = when("CreatedOn") or when("OpenDate")
    if created is None:
        raise BadPayload(f"BMS ticket {ticket_id} has no createdOn")
    updated = when("LastActivityUpdate") or when("ModifiedOn") or created
    completed = when("CompletedDate")
    raw_status = _text(pick(ticket, "StatusName")) or str(pick(ticket, "StatusId") or "")
    raw_priority = _text(pick(ticket, "PriorityName"))
    status = normalize_status(raw_status, completed is not None)
    met = pick(ticket, "HasMetSLA")
    return TicketRecord(
        external_id=ticket_id,
        key=number or ticket_id,
        title=one_line(_text(pick(ticket, "Title")) or "(no title)", 300),
        status=status,
        raw_status=raw_status or "unknown",
        priority=normalize_priority(raw_priority),
        raw_priority=raw_priority,
        created_at=created,
        updated_at=max(updated, created),
        assignee=_text(pick(ticket, "AssigneeName")),
        group=_text(pick(ticket, "QueueName")),
        requester=_text(pick(ticket, "ContactName")) or _text(pick(ticket, "AccountName")),
        asset=_text(pick(ticket, "HardwareAssetName")),
        resolved_at=(completed or updated) if not status.is_active else None,
        first_response_at=when("FirstResponseActualTime"),
        vendor_due_at=when("ResolutionTargetTime") or when("DueDate"),
        vendor_breached=(met is False) if isinstance(met, bool) else None,
        url=ticket_link(ticket_url, ticket_id, number) if ticket_url else None,
        description=_body(pick(ticket, "Details"))[0] or None,
        raw=ticket,
    )


def note_to_entry(note: Any, ticket_id: str, *, zone: tzinfo = UTC) -> ConversationEntry:
    """One ``result`` row of ``GET /v2/servicedesk/tickets/{id}/notes``."""
    if not isinstance(note, Mapping):
        raise BadPayload("BMS note is not an object")
    note_id = pick(note, "Id")
    if isinstance(note_id, bool) or not isinstance(note_id, int):
        raise BadPayload(f"BMS note of ticket {ticket_id} without an integer id")
    created = parse_bms_time(pick(note, "CreatedOn"), zone)
    if created is None:
        raise BadPayload(f"BMS note {note_id} has no createdOn")
    body, raw_format = _body(pick(note, "Details"))
    text, _quoted = fold_quoted(body) if body else ("", "")
    raw = pick(note, "Details")
    attachments = []
    for item in pick(note, "Attachments") or []:
        if not isinstance(item, Mapping):
            continue
        attachment_id = pick(item, "Id")
        name = _text(pick(item, "OriginalFileName")) or _text(pick(item, "AliasName"))
        if isinstance(attachment_id, int) and not isinstance(attachment_id, bool):
            attachments.append(
                AttachmentRecord(
                    external_id=str(attachment_id),
                    name=name or f"attachment {attachment_id}",
                    content_type=_text(pick(item, "FileType")),
                )
            )
    return ConversationEntry(
        ticket_external_id=ticket_id,
        external_id=str(note_id),
        created_at=created,
        visibility=Visibility.INTERNAL if pick(note, "IsInternal") is True else Visibility.PUBLIC,
        body=text or body,
        author=_text(pick(note, "CreatedByName")) or _text(pick(note, "CreatedByEmail")),
        raw_format=raw_format,
        raw_body=raw if isinstance(raw, str) else "",
        updated_at=parse_bms_time(pick(note, "ModifiedOn"), zone),
        attachments=tuple(attachments),
    )


def _body(value: Any) -> tuple[str, str]:
    """``(plain text, raw format)`` of a BMS text field that may hold HTML."""
    if not isinstance(value, str) or not value.strip():
        return "", "text"
    if _HTML.search(value):
        return html_to_text(value), "html"
    return markdown_to_text(value), "text"


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None

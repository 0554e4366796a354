"""Freshservice ticket and conversation dicts → records, purely.

Kept apart from HTTP so the real capture and hand-made hostile payloads can be
mapped in tests without a server. Freshservice sends ``status`` and
``priority`` as integers (vendor-apis.md §6.6); the four built-in statuses and
priorities get their display names as ``raw_status``/``raw_priority``, any
other (custom) code stays as its number in text. ``status_map`` and
``priority_map`` overrides may be keyed on either the code (``"6"``) or the
name (``"Pending"``).

Key and link: the key is ``#<id>`` (vendor-apis.md §0.2: the human key is
``id``). The agent UI prefixes it by type (``INC-12``, ``SR-12``), but ``type``
names vary by account, so we do not guess the prefix. The link is the agent UI
path ``/a/tickets/{id}`` on the configured host (the legacy
``/helpdesk/tickets/{id}`` path still redirects there).

Names: the list endpoint carries only ids. The requester's name comes from the
documented ``include=requester`` embed; agents and groups have no embed on the
list, so the mapping gives ``agent <id>`` / ``group <id>`` rather than a guessed
name, and the connector replaces the agent's with the name it looks up once per
agent (``GET /agents/{id}``).

SLA: ``due_by`` (resolution due) becomes ``vendor_due_at``; ``is_escalated``
(Freshservice's own "resolution SLA violated" flag) becomes ``vendor_breached``.
``fr_due_by``/``fr_escalated`` (first response) stay in ``raw``. A due date
that is not a timestamp (the capture holds placeholders such as
``"tickets[0]_due_by"``) is treated as unknown, while a bad ``created_at`` or
``updated_at`` is a :class:`BadPayload`: without those the ticket cannot be
placed in time at all.

Description: the list answer carries ``description`` (HTML) and
``description_text`` (Freshservice's own plain text, see the capture); the
plain text is used as it is (no parsing cost per ticket), the HTML goes through
:func:`connectors.richtext.html_to_text` only when the plain text is missing.

Conversations (``GET /api/v2/tickets/{id}/conversations``, vendor-apis.md §6.1
and the freshworks-api-sdk spec): ``private`` notes are internal, ``source`` 3
(status) and 4 (meta) are written by Freshservice itself (system), everything
else is public. The body is ``body_text`` when Freshservice sends it, else the
HTML ``body`` through richtext; earlier e-mail replies quoted at the end are
folded away (:func:`connectors.richtext.fold_quoted`), the HTML stays whole in
``raw_body``. Attachments are metadata only, with a URL built from our
configured host and the attachment id (``/api/v2/attachments/{id}``, the
documented download path), never the ``attachment_url`` of the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard

from connectors.errors import BadPayload
from connectors.overrides import Overrides
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import fold_quoted, html_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "OPEN_CODES_FROM",
    "PRIORITY_MAP",
    "PRIORITY_NAMES",
    "STATUS_MAP",
    "STATUS_NAMES",
    "attachment_url",
    "conversation_to_entry",
    "first_response",
    "format_timestamp",
    "is_open_code",
    "normalise_priority",
    "normalise_status",
    "ticket_to_record",
    "ticket_url",
]

STATUS_NAMES: Mapping[int, str] = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
STATUS_MAP: Mapping[int, TicketStatus] = {
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
    4: TicketStatus.RESOLVED,
    5: TicketStatus.CLOSED,
}
"""Built-in statuses; a custom status code is work in progress (open) unless overridden."""
OPEN_CODES_FROM = 6
"""Custom statuses are numbered from 6 up (the built-ins are 2-5)."""
SYSTEM_SOURCES = frozenset({3, 4})
"""Conversation ``source`` codes Freshservice writes itself: 3 status, 4 meta."""

PRIORITY_NAMES: Mapping[int, str] = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
PRIORITY_MAP: Mapping[int, Priority] = {
    4: Priority.P1,
    3: Priority.P2,
    2: Priority.P3,
    1: Priority.P4,
}

_NO_OVERRIDES = Overrides(statuses={}, priorities={})


def format_timestamp(value: datetime) -> str:
    """Freshservice's own form (``2023-01-04T14:22:43Z``), for ``updated_since``."""
    if value.tzinfo is None:
        raise ValueError("Freshservice timestamps are formatted from aware datetimes only")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_open_code(code: object) -> bool:
    """Open (2), Pending (3) or a custom status (6 and up): what the backfill reads at any age."""
    return _is_id(code) and (code in (2, 3) or code >= OPEN_CODES_FROM)


def attachment_url(base_url: str, attachment_id: int) -> str:
    """The documented download path on our configured host, from the id alone."""
    return f"{base_url.rstrip('/')}/api/v2/attachments/{attachment_id}"


def ticket_url(base_url: str, ticket_id: int) -> str:
    """The agent UI link (``/a/tickets/{id}``), built from our configured host and the id only."""
    return f"{base_url.rstrip('/')}/a/tickets/{ticket_id}"


def normalise_status(code: int, overrides: Overrides = _NO_OVERRIDES) -> TicketStatus:
    """An override by code or name wins; then the built-ins; custom codes count as open."""
    name = STATUS_NAMES.get(code)
    override = overrides.statuses.get(str(code)) or (
        overrides.statuses.get(name.lower()) if name else None
    )
    return override or STATUS_MAP.get(code, TicketStatus.OPEN)


def normalise_priority(code: int | None, overrides: Overrides = _NO_OVERRIDES) -> Priority | None:
    """An override by code or name wins; then the built-ins; an unknown code has no priority."""
    if code is None:
        return None
    name = PRIORITY_NAMES.get(code)
    override = overrides.priorities.get(str(code)) or (
        overrides.priorities.get(name.lower()) if name else None
    )
    return override or PRIORITY_MAP.get(code)


def ticket_to_record(
    ticket: Any,
    *,
    base_url: str,
    overrides: Overrides = _NO_OVERRIDES,
) -> TicketRecord:
    """Map one ticket of ``GET /api/v2/tickets`` (with or without its embeds)."""
    if not isinstance(ticket, Mapping):
        raise BadPayload("Freshservice ticket is not an object")
    ticket_id = ticket.get("id")
    if not _is_id(ticket_id):
        raise BadPayload("Freshservice ticket id missing or not an integer")
    status = ticket.get("status")
    if not _is_id(status):
        raise BadPayload(f"Freshservice ticket {ticket_id} status is not an integer code")
    priority = ticket.get("priority")
    if priority is not None and not _is_id(priority):
        raise BadPayload(f"Freshservice ticket {ticket_id} priority is not an integer code")
    created_at = parse_iso(ticket.get("created_at"))
    if created_at is None:
        raise BadPayload(f"Freshservice ticket {ticket_id} has no created_at")
    updated_at = parse_iso(ticket.get("updated_at"))
    if updated_at is None:
        raise BadPayload(f"Freshservice ticket {ticket_id} has no updated_at")
    stats = ticket.get("stats")
    stats = stats if isinstance(stats, Mapping) else {}
    breached = ticket.get("is_escalated")
    return TicketRecord(
        external_id=str(ticket_id),
        key=f"#{ticket_id}",
        title=_title(ticket),
        status=normalise_status(status, overrides),
        raw_status=STATUS_NAMES.get(status, str(status)),
        priority=normalise_priority(priority, overrides),
        raw_priority=None if priority is None else PRIORITY_NAMES.get(priority, str(priority)),
        created_at=created_at,
        updated_at=updated_at,
        assignee=_labelled_id(ticket.get("responder_id"), "agent"),
        group=_labelled_id(ticket.get("group_id"), "group"),
        requester=_requester(ticket),
        resolved_at=parse_iso(stats.get("resolved_at")) or parse_iso(stats.get("closed_at")),
        first_response_at=parse_iso(stats.get("first_responded_at")),
        vendor_due_at=_lenient_time(ticket.get("due_by")),
        vendor_breached=breached if isinstance(breached, bool) else None,
        url=ticket_url(base_url, ticket_id),
        description=_description(ticket),
        raw=dict(ticket),
    )


def conversation_to_entry(
    conversation: Any,
    *,
    ticket_id: str,
    base_url: str,
    names: Mapping[int, str] | None = None,
) -> ConversationEntry:
    """Map one conversation of ``GET /api/v2/tickets/{id}/conversations``.

    ``names`` resolves a ``user_id`` the connector already knows (the
    ticket's requester from the ``requester`` embed); anyone else is shown
    by id, or by the sender's address for an incoming e-mail.
    """
    if not isinstance(conversation, Mapping):
        raise BadPayload("Freshservice conversation is not an object")
    entry_id = conversation.get("id")
    if not _is_id(entry_id):
        raise BadPayload(f"Freshservice conversation on {ticket_id} has no integer id")
    created_at = parse_iso(conversation.get("created_at"))
    if created_at is None:
        raise BadPayload(f"Freshservice conversation {entry_id} has no created_at")
    html = conversation.get("body")
    html = html if isinstance(html, str) else ""
    text = conversation.get("body_text")
    plain = text if isinstance(text, str) and text.strip() else html_to_text(html)
    body, _quoted = fold_quoted(plain.strip())
    return ConversationEntry(
        ticket_external_id=ticket_id,
        external_id=str(entry_id),
        created_at=created_at,
        visibility=_visibility(conversation),
        body=body,
        author=_author(conversation, names or {}),
        raw_format="html" if html else "text",
        raw_body=html or plain,
        updated_at=parse_iso(conversation.get("updated_at")),
        attachments=_attachments(conversation.get("attachments"), base_url),
    )


def first_response(conversations: list[Any], entries: list[ConversationEntry]) -> datetime | None:
    """The first public reply written by the service desk (not an incoming e-mail).

    Used only where Freshservice's own ``stats.first_responded_at`` is not in
    the answer (the filter endpoint carries no embeds).
    """
    replies = [
        entry.created_at
        for raw, entry in zip(conversations, entries, strict=True)
        if entry.visibility is Visibility.PUBLIC and raw.get("incoming") is not True
    ]
    return min(replies, default=None)


def _visibility(conversation: Mapping[str, Any]) -> Visibility:
    if conversation.get("source") in SYSTEM_SOURCES:
        return Visibility.SYSTEM
    if conversation.get("private") is True:
        return Visibility.INTERNAL
    return Visibility.PUBLIC


def _author(conversation: Mapping[str, Any], names: Mapping[int, str]) -> str | None:
    user = conversation.get("user_id")
    if _is_id(user) and user in names:
        return names[user]
    sender = conversation.get("from_email")
    if conversation.get("incoming") is True and isinstance(sender, str) and "@" in sender:
        return sender.strip()
    return _labelled_id(user, "user")


def _attachments(value: Any, base_url: str) -> tuple[AttachmentRecord, ...]:
    if not isinstance(value, list):
        return ()
    found: list[AttachmentRecord] = []
    for item in value:
        if not isinstance(item, Mapping) or not _is_id(item.get("id")):
            continue
        size = item.get("size")
        kind = item.get("content_type")
        name = item.get("name")
        found.append(
            AttachmentRecord(
                external_id=str(item["id"]),
                name=name if isinstance(name, str) and name.strip() else f"attachment {item['id']}",
                size=size if _is_id(size) else None,
                content_type=kind if isinstance(kind, str) else None,
                url=attachment_url(base_url, item["id"]),
            )
        )
    return tuple(found)


def _description(ticket: Mapping[str, Any]) -> str | None:
    """Freshservice's own plain text, else the HTML made plain; ``None`` when both are empty."""
    text = ticket.get("description_text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    html = ticket.get("description")
    if isinstance(html, str) and html.strip():
        return html_to_text(html).strip() or None
    return None


def _title(ticket: Mapping[str, Any]) -> str:
    subject = ticket.get("subject")
    if isinstance(subject, str) and subject.strip():
        return subject.strip()
    return "(no subject)"


def _requester(ticket: Mapping[str, Any]) -> str | None:
    """The embedded requester's name (``include=requester``), else ``requester <id>``."""
    embedded = ticket.get("requester")
    if isinstance(embedded, Mapping):
        name = embedded.get("name")
        if isinstance(name, str) and name.strip():
            return name.strip()
        email = embedded.get("email")
        if isinstance(email, str) and email.strip():
            return email.strip()
    return _labelled_id(ticket.get("requester_id"), "requester")


def _labelled_id(entity_id: Any, noun: str) -> str | None:
    return f"{noun} {entity_id}" if _is_id(entity_id) else None


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _lenient_time(value: Any) -> datetime | None:
    """An SLA due time, or ``None`` when the vendor sent something that is not one."""
    try:
        return parse_iso(value)
    except BadPayload:
        return None

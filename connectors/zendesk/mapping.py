"""Zendesk tickets and comments → :class:`TicketRecord` / :class:`ConversationEntry`, purely.

Kept apart from HTTP so the real capture and hand-made hostile payloads can be
mapped in tests without a server. Names come from ``users`` and ``groups``
sideloads (or a bounded cache of earlier ones), because a ticket and a comment
only carry ids; an id missing from both still shows as ``user <id>`` rather
than vanishing.

Comment bodies: Zendesk keeps three forms. ``plain_body`` (comments API) is its
own plain-text rendering and is used when present; the event stream sends only
``body`` (the plain text the author typed, possibly Markdown) and ``html_body``.
Either way the text is tidied by :mod:`connectors.richtext` and quoted earlier
e-mail replies are folded away; the HTML stays as ``raw_body``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeGuard

from connectors.errors import BadPayload
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import fold_quoted, html_to_text, markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "PRIORITY_MAP",
    "STATUS_MAP",
    "SYSTEM_AUTHOR",
    "SYSTEM_CHANNELS",
    "NameCache",
    "attachment_url",
    "comment_to_entry",
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

SYSTEM_AUTHOR = -1
"""The author id Zendesk gives changes its own system made (triggers, automations)."""
SYSTEM_CHANNELS = frozenset({"rule", "system", "merge", "batch"})
"""``via.channel`` values of comments written by Zendesk itself rather than a person."""

Lookup = Mapping[int, Mapping[str, Any]]
"""Sideloaded users or groups by id (only ``name`` is read)."""


class NameCache(OrderedDict[int, Mapping[str, Any]]):
    """The names of users or groups seen in sideloads, newest kept, at most ``limit``.

    Pages of one poll share it, so an agent named on page 1 needs no lookup on
    page 50; the bound keeps a long-running collector's memory flat.
    """

    def __init__(self, limit: int = 20_000) -> None:
        super().__init__()
        self.limit = limit

    def learn(self, rows: Any) -> None:
        """Keep the name of every well-formed sideload row."""
        if not isinstance(rows, list):
            return
        for row in rows:
            if isinstance(row, Mapping) and _is_id(row.get("id")):
                name = row.get("name")
                self[row["id"]] = {"name": name if isinstance(name, str) else None}
                self.move_to_end(row["id"])
        while len(self) > self.limit:
            self.popitem(last=False)

    def missing(self, ids: Iterable[Any]) -> list[int]:
        """The ids (in first-seen order, without repeats) this cache has no name for."""
        return [i for i in dict.fromkeys(ids) if _is_id(i) and i not in self and i >= 0]


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


def attachment_url(base_url: str, attachment_id: int) -> str:
    """Zendesk's own attachment resource, built from our host and the id (never ``content_url``)."""
    return f"{base_url.rstrip('/')}/api/v2/attachments/{attachment_id}.json"


def ticket_to_record(
    ticket: Any,
    *,
    users: Lookup,
    groups: Lookup,
    base_url: str,
    now: datetime,
) -> TicketRecord:
    """Map one ticket of an export page, a search result or ``show_many``/``show``."""
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
    slas = ticket.get("slas")
    due_at, breached = sla_state(slas, now) if slas else (None, None)
    description = ticket.get("description")
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
        # The first comment as Zendesk keeps it on the ticket: plain text (maybe Markdown).
        description=markdown_to_text(description) if isinstance(description, str) else None,
        raw=ticket,  # a fresh dict decoded for this page: no copy needed
    )


def comment_to_entry(
    comment: Any,
    *,
    ticket_id: int,
    users: Lookup,
    base_url: str,
) -> ConversationEntry:
    """One comment of ``GET /tickets/{id}/comments`` or one ``Comment`` child event."""
    if not isinstance(comment, Mapping):
        raise BadPayload(f"Zendesk comment on ticket {ticket_id} is not an object")
    comment_id = comment.get("id")
    if not _is_id(comment_id):
        raise BadPayload(f"Zendesk comment on ticket {ticket_id} has no integer id")
    created_at = parse_iso(comment.get("created_at"))
    if created_at is None:
        raise BadPayload(f"Zendesk comment {comment_id} has no created_at")
    html = comment.get("html_body")
    plain = comment.get("plain_body")
    if not isinstance(plain, str):
        plain = comment.get("body")
    if isinstance(plain, str):
        text = markdown_to_text(plain)
    elif isinstance(html, str):
        text = html_to_text(html)
    else:
        text = ""
    visible, _quoted = fold_quoted(text)
    author_id = comment.get("author_id")
    if isinstance(html, str):
        raw_format, raw_body = "html", html
    else:
        raw_format, raw_body = "text", plain if isinstance(plain, str) else ""
    return ConversationEntry(
        ticket_external_id=str(ticket_id),
        external_id=str(comment_id),
        created_at=created_at,
        visibility=_visibility(comment, author_id),
        body=visible,
        author=("Zendesk" if author_id == SYSTEM_AUTHOR else _name(author_id, users, "user")),
        raw_format=raw_format,
        raw_body=raw_body,
        attachments=_attachments(comment.get("attachments"), base_url),
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


def _visibility(comment: Mapping[str, Any], author_id: Any) -> Visibility:
    via = comment.get("via")
    channel = via.get("channel") if isinstance(via, Mapping) else None
    if author_id == SYSTEM_AUTHOR or channel in SYSTEM_CHANNELS:
        return Visibility.SYSTEM
    return Visibility.PUBLIC if comment.get("public") is True else Visibility.INTERNAL


def _attachments(rows: Any, base_url: str) -> tuple[AttachmentRecord, ...]:
    if not isinstance(rows, list):
        return ()
    found: list[AttachmentRecord] = []
    for row in rows:
        if not isinstance(row, Mapping) or not _is_id(row.get("id")):
            continue
        name, size, kind = row.get("file_name"), row.get("size"), row.get("content_type")
        found.append(
            AttachmentRecord(
                external_id=str(row["id"]),
                name=name if isinstance(name, str) and name else f"attachment {row['id']}",
                size=size if _is_id(size) else None,
                content_type=kind if isinstance(kind, str) and kind else None,
                url=attachment_url(base_url, row["id"]),
            )
        )
    return tuple(found)


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

"""Autotask ticket item (plus the tenant's picklists and resolved names) → :class:`TicketRecord`.

Kept apart from HTTP so the real capture and hand-made payloads map in tests
without a server. Autotask sends codes, not words: ``status``, ``priority`` and
``queueID`` are per-tenant picklist integers, and people are ids. Labels come
from ``Tickets/entityInformation/fields`` and names from small id queries; when
either is missing the record still shows the code (``queue 29682833``) rather
than nothing.

Normalisation, in order (first match wins):

* status: the tenant's ``status_map`` by code, then by label; the two system
  values ``1`` New and ``5`` Complete; the label's own words (``Waiting …``,
  ``On Hold`` → pending, ``Resolved`` → resolved, ``Closed``/``Cancelled`` →
  closed); the reference's observed defaults ``9`` Waiting Materials and
  ``12`` Waiting Vendor → pending; anything else is work in progress → open.
* priority: ``priority_map`` by code, then by label; the label's words
  (Critical/Urgent → P1, High → P2, Medium/Normal → P3, Low → P4,
  Lowest/Planning → P5); the default picklist ``4`` Critical → P1, ``1`` High
  → P2, ``2`` Medium → P3, ``3`` Low → P4 (only ``1`` = High is confirmed by
  the reference; High sits at P2 as it does for Zendesk and Jira).

Notes (``TicketNotes``) and the ticket's own attachments (``TicketAttachments``)
become :class:`ConversationEntry` records. Visibility comes from the note's
``publish`` picklist label (``All Autotask Users`` is what the client portal
and an outsourced copy of the ticket show: public; a label with "internal":
internal; without labels, code ``1`` is public and anything else internal)
and from its ``noteType`` label: workflow-rule and notification notes are the
system's own. Autotask's API returns a note's text-only version (its rich text
is not readable through the API), so bodies are plain text: tidied and split
from quoted earlier replies by :mod:`connectors.richtext`, then cleaned of
control characters by the record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
from connectors.richtext import fold_quoted, markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "DEFAULT_PRIORITY_CODES",
    "DEFAULT_STATUS_CODES",
    "EntryContext",
    "MappingContext",
    "Picklists",
    "attachment_to_entry",
    "attachment_url",
    "closed_status_codes",
    "display_name",
    "normalise_priority",
    "normalise_status",
    "note_to_entry",
    "note_visibility",
    "parse_autotask_time",
    "plain_text",
    "sla_state",
    "ticket_to_record",
    "ticket_url",
]

SYSTEM_STATUS_CODES: Mapping[str, TicketStatus] = {
    "1": TicketStatus.NEW,
    "5": TicketStatus.CLOSED,
}
"""Status values Autotask fixes for every tenant: New and Complete."""

DEFAULT_STATUS_CODES: Mapping[str, TicketStatus] = {
    **SYSTEM_STATUS_CODES,
    "9": TicketStatus.PENDING,  # Waiting Materials
    "12": TicketStatus.PENDING,  # Waiting Vendor
}
"""Used only when the tenant's label for a code is unknown (values vary per tenant)."""

DEFAULT_PRIORITY_CODES: Mapping[str, Priority] = {
    "4": Priority.P1,  # Critical
    "1": Priority.P2,  # High
    "2": Priority.P3,  # Medium
    "3": Priority.P4,  # Low
}

_PENDING_WORDS = re.compile(r"\b(wait|waiting|hold|pending|paused|on-hold)\b")
_CLOSED_WORDS = re.compile(r"\b(complete|completed|closed|cancel+ed|canceled|cancelled)\b")
_PRIORITY_WORDS: tuple[tuple[re.Pattern[str], Priority], ...] = (
    (re.compile(r"\b(critical|urgent|emergency)\b"), Priority.P1),
    (re.compile(r"\b(lowest|planning)\b"), Priority.P5),
    (re.compile(r"\bhigh\b"), Priority.P2),
    (re.compile(r"\b(medium|normal|moderate)\b"), Priority.P3),
    (re.compile(r"\blow\b"), Priority.P4),
)
_NAIVE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


@dataclass(frozen=True)
class Picklists:
    """The tenant's ticket picklists: code (as text) → label."""

    statuses: Mapping[str, str] = field(default_factory=dict)
    priorities: Mapping[str, str] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_fields(cls, body: Any) -> Picklists:
        """Read ``{"fields": [{"name", "isPickList", "picklistValues": [{value, label}]}]}``."""
        return cls.from_labels(cls.labels_of(body))

    @classmethod
    def from_labels(cls, lists: Mapping[str, Mapping[str, str]]) -> Picklists:
        """The ticket picklists out of :meth:`labels_of`'s answer."""
        return cls(
            statuses=lists.get("status", {}),
            priorities=lists.get("priority", {}),
            queues=lists.get("queueid", {}),
        )

    @staticmethod
    def labels_of(body: Any) -> dict[str, dict[str, str]]:
        """``{field name (lower case): {code: label}}`` of an ``entityInformation/fields`` answer.

        The answer is large and loosely typed, so odd entries are skipped, not fatal.
        """
        fields = body.get("fields") if isinstance(body, Mapping) else None
        lists: dict[str, dict[str, str]] = {}
        for entry in fields if isinstance(fields, list) else ():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                continue
            values = entry.get("picklistValues")
            labels: dict[str, str] = {}
            for value in values if isinstance(values, list) else ():
                if not isinstance(value, Mapping):
                    continue
                code, label = value.get("value"), value.get("label")
                if _is_scalar(code) and isinstance(label, str) and label.strip():
                    labels[str(code).strip()] = label.strip()
            lists[entry["name"].lower()] = labels
        return lists


@dataclass(frozen=True)
class MappingContext:
    """Everything besides the item that a record needs, gathered once per poll."""

    now: datetime
    picklists: Picklists = field(default_factory=Picklists)
    overrides: Overrides = field(default_factory=lambda: Overrides({}, {}))
    resources: Mapping[int, str] = field(default_factory=dict)
    contacts: Mapping[int, str] = field(default_factory=dict)
    companies: Mapping[int, str] = field(default_factory=dict)
    assets: Mapping[int, str] = field(default_factory=dict)
    """Configuration item ``referenceTitle`` by id."""
    web_url: str | None = None
    """The zone's UI root (``https://ww5.autotask.net/``), already checked by the connector."""
    normalised: dict[tuple[str, str | None], tuple[TicketStatus, Priority | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Status and priority verdicts by code and label, worked out once per page."""


@dataclass(frozen=True)
class EntryContext:
    """What a conversation entry needs besides its item: labels, names and the API root."""

    note_types: Mapping[str, str] = field(default_factory=dict)
    """TicketNotes ``noteType`` code → label."""
    publish: Mapping[str, str] = field(default_factory=dict)
    """TicketNotes ``publish`` code → label."""
    resources: Mapping[int, str] = field(default_factory=dict)
    contacts: Mapping[int, str] = field(default_factory=dict)
    api_url: str | None = None
    """The zone's API root (ends in ``/``, already vetted) attachment URLs are built on."""


def ticket_url(web_url: str, ticket_id: int) -> str:
    """The ticket detail page in the zone's web UI, built from the vetted root and the id."""
    return (
        f"{web_url.rstrip('/')}/Mvc/ServiceDesk/TicketDetail.mvc"
        f"?workspace=False&ids%5B0%5D={ticket_id}&ticketId={ticket_id}"
    )


def parse_autotask_time(value: Any) -> datetime | None:
    """Autotask datetimes: UTC with ``Z`` and 0 to 7 fraction digits; a bare value is UTC too.

    The REST API stores and returns UTC, and a few fields come without the
    ``Z``; those get it explicitly so :func:`parse_iso` never guesses a zone.
    The common ``…Z`` form goes straight to :meth:`datetime.fromisoformat` (C,
    no regex; Python 3.11 reads seven fraction digits and ``Z`` as UTC).
    """
    if value is None:
        return None
    if type(value) is str and len(value) >= 20 and value[-1] == "Z" and value[10] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, str) and _NAIVE_ISO.match(value.strip()):
        value = value.strip() + "Z"
    return parse_iso(value)


def normalise_status(code: str, label: str | None, overrides: Overrides) -> TicketStatus:
    """A status code and its tenant label → normalised status (see the module docstring)."""
    by_override = overrides.statuses.get(code) or (
        overrides.statuses.get(label.strip().lower()) if label else None
    )
    if by_override is not None:
        return by_override
    if code in SYSTEM_STATUS_CODES:
        return SYSTEM_STATUS_CODES[code]
    if label:
        words = label.lower()
        if _CLOSED_WORDS.search(words):
            return TicketStatus.CLOSED
        if "resolved" in words:
            return TicketStatus.RESOLVED
        if _PENDING_WORDS.search(words):
            return TicketStatus.PENDING
        if words.strip() == "new":
            return TicketStatus.NEW
        return TicketStatus.OPEN
    return DEFAULT_STATUS_CODES.get(code, TicketStatus.OPEN)


def normalise_priority(code: str, label: str | None, overrides: Overrides) -> Priority | None:
    """A priority code and its tenant label → P1..P5, or ``None`` when nothing says which."""
    by_override = overrides.priorities.get(code) or (
        overrides.priorities.get(label.strip().lower()) if label else None
    )
    if by_override is not None:
        return by_override
    if label:
        words = label.lower()
        for pattern, priority in _PRIORITY_WORDS:
            if pattern.search(words):
                return priority
    return DEFAULT_PRIORITY_CODES.get(code)


def sla_state(item: Mapping[str, Any], now: datetime) -> tuple[datetime | None, bool | None]:
    """``(vendor_due_at, vendor_breached)`` from the resolution SLA fields.

    ``serviceLevelAgreementHasBeenMet`` is Autotask's own verdict: ``false``
    means breached, ``true`` met. While it is ``null`` the clock may still run,
    so a resolution due time already past with no ``resolvedDateTime`` counts
    as breached (the reference's breach test); otherwise a due time means "not
    yet", and no due time means we know nothing.
    """
    due = _lenient_time(item.get("resolvedDueDateTime"))
    met = item.get("serviceLevelAgreementHasBeenMet")
    if met is False:
        return due, True
    if met is True:
        return due, False
    if due is None:
        return None, None
    resolved = _lenient_time(item.get("resolvedDateTime"))
    return due, resolved is None and due <= now


def ticket_to_record(item: Any, context: MappingContext) -> TicketRecord:
    """Map one item of a ``Tickets/query`` page (or the ``item`` of ``GET Tickets/{id}``)."""
    if not isinstance(item, Mapping):
        raise BadPayload("Autotask ticket is not an object")
    ticket_id = item.get("id")
    if not _is_id(ticket_id):
        raise BadPayload("Autotask ticket id missing or not an integer")
    created_at = parse_autotask_time(item.get("createDate"))
    if created_at is None:
        raise BadPayload(f"Autotask ticket {ticket_id} has no createDate")
    updated_at = (
        parse_autotask_time(item.get("lastActivityDate"))
        or parse_autotask_time(item.get("lastTrackedModificationDateTime"))
        or created_at
    )
    status_code = _code(item.get("status"))
    if status_code is None:
        raise BadPayload(f"Autotask ticket {ticket_id} has no status")
    priority_code = _code(item.get("priority"))
    status, status_label, priority, priority_label = _verdicts(status_code, priority_code, context)
    due_at, breached = sla_state(item, context.now)
    number = item.get("ticketNumber")
    description = item.get("description")
    return TicketRecord(
        external_id=str(ticket_id),
        key=number.strip() if isinstance(number, str) and number.strip() else str(ticket_id),
        title=_title(item),
        status=status,
        raw_status=status_label or status_code,
        priority=priority,
        raw_priority=(priority_label or priority_code) if priority_code else None,
        created_at=created_at,
        updated_at=updated_at,
        assignee=_named(item.get("assignedResourceID"), context.resources, "resource"),
        group=_queue(item.get("queueID"), context.picklists.queues),
        requester=(
            _named(item.get("contactID"), context.contacts, "contact")
            or _named(item.get("companyID"), context.companies, "company")
        ),
        asset=_named(item.get("configurationItemID"), context.assets, "configuration item"),
        resolved_at=(
            parse_autotask_time(item.get("resolvedDateTime"))
            or parse_autotask_time(item.get("completedDate"))
        ),
        first_response_at=parse_autotask_time(item.get("firstResponseDateTime")),
        vendor_due_at=due_at,
        vendor_breached=breached,
        url=ticket_url(context.web_url, ticket_id) if context.web_url else None,
        description=(plain_text(description) or None) if isinstance(description, str) else None,
        raw=item,
    )


def _verdicts(
    status_code: str, priority_code: str | None, context: MappingContext
) -> tuple[TicketStatus, str | None, Priority | None, str | None]:
    """Status and priority with their labels, each (code, label) pair worked out once."""
    picklists = context.picklists
    status_label = picklists.statuses.get(status_code)
    priority_label = picklists.priorities.get(priority_code) if priority_code else None
    key = (status_code, priority_code)
    known = context.normalised.get(key)
    if known is None:
        known = (
            normalise_status(status_code, status_label, context.overrides),
            normalise_priority(priority_code, priority_label, context.overrides)
            if priority_code
            else None,
        )
        context.normalised[key] = known
    return known[0], status_label, known[1], priority_label


def closed_status_codes(picklists: Picklists, overrides: Overrides) -> list[int]:
    """Status codes that mean resolved or closed in this tenant (always ``5`` Complete).

    The backfill reads every ticket whose status is not one of these.
    """
    codes = {5}
    for code, label in picklists.statuses.items():
        status = normalise_status(code, label, overrides)
        if not status.is_active and code.isdigit():
            codes.add(int(code))
    for code, status in overrides.statuses.items():
        if not status.is_active and code.isdigit():
            codes.add(int(code))
    return sorted(codes)


def plain_text(text: str) -> str:
    """Autotask's text-only bodies, tidied (line endings, blank runs, spaces) as plain text."""
    return markdown_to_text(text)


_SYSTEM_NOTE = re.compile(r"\b(workflow|notification|system|automat\w*)\b")


def note_visibility(
    publish: str | None, publish_label: str | None, note_type_label: str | None
) -> Visibility:
    """Who reads a note at Autotask (see the module docstring for the rule)."""
    if note_type_label and _SYSTEM_NOTE.search(note_type_label.lower()):
        return Visibility.SYSTEM
    if publish_label:
        words = publish_label.lower()
        if "internal" in words:
            return Visibility.INTERNAL
        return Visibility.PUBLIC if words.startswith("all ") else Visibility.INTERNAL
    return Visibility.PUBLIC if publish == "1" else Visibility.INTERNAL


def note_to_entry(item: Any, context: EntryContext) -> ConversationEntry:
    """Map one ``TicketNotes`` item to a conversation entry."""
    if not isinstance(item, Mapping):
        raise BadPayload("Autotask ticket note is not an object")
    note_id, ticket_id = item.get("id"), item.get("ticketID")
    if not _is_id(note_id) or not _is_id(ticket_id):
        raise BadPayload("Autotask ticket note without an integer id and ticketID")
    updated_at = _lenient_time(item.get("lastActivityDate"))
    created_at = parse_autotask_time(item.get("createDateTime")) or updated_at
    if created_at is None:
        raise BadPayload(f"Autotask ticket note {note_id} has no createDateTime")
    publish = _code(item.get("publish"))
    note_type = _code(item.get("noteType"))
    visibility = note_visibility(
        publish,
        context.publish.get(publish) if publish else None,
        context.note_types.get(note_type) if note_type else None,
    )
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    description = item.get("description") if isinstance(item.get("description"), str) else ""
    assert isinstance(title, str) and isinstance(description, str)
    raw = _titled(title.strip(), description)
    body, _quoted = fold_quoted(plain_text(raw))
    return ConversationEntry(
        ticket_external_id=str(ticket_id),
        external_id=str(note_id),
        created_at=created_at,
        visibility=visibility,
        body=body,
        author=_author(item, "creatorResourceID", "createdByContactID", context),
        raw_format="text",
        raw_body=raw,
        updated_at=updated_at,
    )


def attachment_url(api_url: str, ticket_id: int, attachment_id: int) -> str:
    """The one-file download of a ticket attachment, built from the zone's API root and ids."""
    return f"{api_url.rstrip('/')}/V1.0/Tickets/{ticket_id}/Attachments/{attachment_id}"


def attachment_to_entry(item: Any, context: EntryContext) -> ConversationEntry:
    """Map one ``TicketAttachments`` item to an entry that carries the file's metadata.

    Autotask lists a file attached to the ticket as its own activity, so it is
    an entry of its own (``attachment-{id}``), its visibility from its
    ``publish`` code (``1`` all users: public; else internal).
    """
    if not isinstance(item, Mapping):
        raise BadPayload("Autotask ticket attachment is not an object")
    attachment_id, ticket_id = item.get("id"), item.get("parentID")
    if not _is_id(attachment_id) or not _is_id(ticket_id):
        raise BadPayload("Autotask ticket attachment without an integer id and parentID")
    created_at = parse_autotask_time(item.get("attachDate"))
    if created_at is None:
        raise BadPayload(f"Autotask ticket attachment {attachment_id} has no attachDate")
    name = next(
        (
            value.strip()
            for value in (item.get("title"), item.get("fullPath"))
            if isinstance(value, str) and value.strip()
        ),
        f"attachment {attachment_id}",
    )
    size = item.get("fileSize")
    content_type = item.get("contentType")
    record = AttachmentRecord(
        external_id=str(attachment_id),
        name=name,
        size=int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None,
        content_type=content_type if isinstance(content_type, str) and content_type else None,
        url=attachment_url(context.api_url, ticket_id, attachment_id) if context.api_url else None,
    )
    publish = _code(item.get("publish"))
    return ConversationEntry(
        ticket_external_id=str(ticket_id),
        external_id=f"attachment-{attachment_id}",
        created_at=created_at,
        visibility=Visibility.PUBLIC if publish == "1" else Visibility.INTERNAL,
        body=f"Attached {name}",
        author=_author(item, "attachedByResourceID", "attachedByContactID", context),
        raw_format="text",
        updated_at=created_at,
        attachments=(record,),
    )


def display_name(entity: str, row: Mapping[str, Any]) -> str | None:
    """A resource's, contact's, company's or configuration item's name from its query row."""
    if entity == "Companies":
        parts = [row.get("companyName")]
    elif entity == "ConfigurationItems":
        parts = [row.get("referenceTitle")]
    else:
        parts = [row.get("firstName"), row.get("lastName")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return name or None


def _titled(title: str, description: str) -> str:
    """A note's text: its title first unless the description already starts with it."""
    if not title or description.lstrip().startswith(title):
        return description
    if not description.strip():
        return title
    return f"{title}\n\n{description}"


def _author(
    item: Mapping[str, Any], resource_field: str, contact_field: str, context: EntryContext
) -> str | None:
    return _named(item.get(resource_field), context.resources, "resource") or _named(
        item.get(contact_field), context.contacts, "contact"
    )


def _title(item: Mapping[str, Any]) -> str:
    title = item.get("title")
    return title.strip() if isinstance(title, str) and title.strip() else "(no title)"


def _code(value: Any) -> str | None:
    """A picklist value as the text the picklist and the overrides use (``3``, not ``3.0``)."""
    if type(value) is int:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _named(entity_id: Any, names: Mapping[int, str], noun: str) -> str | None:
    if type(entity_id) is not int:
        return None
    return names.get(entity_id) or f"{noun} {entity_id}"


def _queue(queue_id: Any, labels: Mapping[str, str]) -> str | None:
    code = _code(queue_id)
    if code is None:
        return None
    return labels.get(code) or f"queue {code}"


def _is_id(value: Any) -> TypeGuard[int]:
    return type(value) is int  # not a bool, which is an int subclass


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _lenient_time(value: Any) -> datetime | None:
    """SLA times are advisory: an unreadable one is dropped, not fatal for the ticket."""
    try:
        return parse_autotask_time(value)
    except BadPayload:
        return None

"""Normalized records: what every connector returns, whatever the vendor.

Records are frozen and built only through their constructors, which clean
every text field (:func:`connectors.sanitize.clean_text`) and insist on
timezone-aware datetimes, converted to UTC. So a record can never carry raw
vendor control characters or a naive time into the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from connectors.sanitize import clean_text

__all__ = [
    "AttachmentRecord",
    "ComponentRecord",
    "ComponentState",
    "ConversationEntry",
    "Cursor",
    "IncidentRecord",
    "PollResult",
    "Priority",
    "Progress",
    "StatusSnapshot",
    "TicketRecord",
    "TicketStatus",
    "Visibility",
]

Cursor = dict[str, Any]
"""A connector's own position in the vendor's change feed; JSON-serialisable."""


class TicketStatus(StrEnum):
    """Normalized ticket status (DESIGN: new, open, pending, resolved, closed)."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """True while work is still owed on the ticket."""
        return self in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class Priority(StrEnum):
    """Normalized priority, P1 most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


class ComponentState(StrEnum):
    """Published state of one component of a vendor's service."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "under_maintenance"


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _clean_fields(record: object) -> None:
    """Clean every str field and normalise every datetime field to UTC, in place.

    Runs for every record a connector builds, so it is kept cheap: the field
    names are looked up once per class, and text that needs no cleaning is
    left as it is (one regex search, see :func:`clean_text`).
    """
    cls = type(record)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(record))  # type: ignore[arg-type]
    for name in names:
        value = getattr(record, name)
        kind = type(value)
        if kind is str:
            cleaned = clean_text(value)
            if cleaned is not value:
                object.__setattr__(record, name, cleaned)
        elif kind is datetime:
            if value.tzinfo is not UTC:
                object.__setattr__(record, name, _utc(value, name))
        elif isinstance(value, Enum) or value is None:
            continue
        elif isinstance(value, str):
            object.__setattr__(record, name, clean_text(value))
        elif isinstance(value, datetime):
            object.__setattr__(record, name, _utc(value, name))


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """One vendor ticket, incident, alert or request in the unified shape."""

    external_id: str
    key: str
    title: str
    status: TicketStatus
    raw_status: str
    priority: Priority | None
    raw_priority: str | None
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None
    group: str | None = None
    requester: str | None = None
    asset: str | None = None
    resolved_at: datetime | None = None
    first_response_at: datetime | None = None
    vendor_due_at: datetime | None = None
    vendor_breached: bool | None = None
    url: str | None = None
    description: str | None = None
    """The ticket's own text as sanitised plain text (rich text already converted)."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The vendor's payload, kept for the detail view; never rendered as markup."""

    def __post_init__(self) -> None:
        _clean_fields(self)
        if not self.external_id:
            raise ValueError("external_id must not be empty")


class Visibility(StrEnum):
    """Who can read a conversation entry at the vendor."""

    PUBLIC = "public"
    """A reply the requester sees."""
    INTERNAL = "internal"
    """A note only agents see (work note, private note, internal comment)."""
    SYSTEM = "system"
    """Written by the vendor's system (log entries, automatic notices)."""


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    """A file on a ticket, as metadata only: the bytes stay at the vendor.

    ``url`` is built by the connector from its configured base URL and the
    vendor's ids, never taken from payload text (a hostile payload must not
    choose where an operator's click goes).
    """

    external_id: str
    name: str
    size: int | None = None
    content_type: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        _clean_fields(self)
        if not self.external_id:
            raise ValueError("attachment external_id must not be empty")


@dataclass(frozen=True, slots=True)
class ConversationEntry:
    """One comment, note or log entry on a ticket, in the vendor's order of time.

    ``body`` is sanitised plain text (through :mod:`connectors.richtext`);
    ``raw_body`` keeps the vendor's own format (HTML, ADF JSON, Markdown or
    text), cleaned of control characters like every record field, and is
    never rendered as markup.
    """

    ticket_external_id: str
    external_id: str
    created_at: datetime
    visibility: Visibility
    body: str
    author: str | None = None
    raw_format: str = "text"
    """``text``, ``html``, ``adf`` or ``markdown``: what ``raw_body`` holds."""
    raw_body: str = ""
    updated_at: datetime | None = None
    attachments: tuple[AttachmentRecord, ...] = ()

    def __post_init__(self) -> None:
        _clean_fields(self)
        if not self.external_id or not self.ticket_external_id:
            raise ValueError("a conversation entry needs its own and its ticket's id")


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    """One component on a vendor's status page."""

    external_id: str
    name: str
    state: ComponentState
    raw_status: str
    group: str | None = None
    position: int = 0
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        _clean_fields(self)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One published incident or maintenance on a vendor's status page."""

    external_id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    latest_update: str | None = None
    url: str | None = None
    maintenance: bool = False
    """A planned maintenance window rather than an incident."""
    scheduled_for: datetime | None = None
    """Maintenance: when the window starts."""
    scheduled_until: datetime | None = None
    """Maintenance: when the window is announced to end."""
    components: tuple[str, ...] = ()
    """Names of the components it affects, as the page names them."""

    def __post_init__(self) -> None:
        _clean_fields(self)
        object.__setattr__(self, "components", tuple(clean_text(c) for c in self.components))


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """A vendor's published service status at one moment."""

    indicator: str
    """Rollup: none, minor, major, critical or maintenance."""
    description: str
    components: tuple[ComponentRecord, ...] = ()
    incidents: tuple[IncidentRecord, ...] = ()
    page_url: str | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        _clean_fields(self)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a long read has come, for progress bars and the Vendors pane."""

    phase: str
    """``backfill`` (the first sync of everything open) or ``incremental``."""
    done: int
    """Records read so far in this phase, counted across restarts."""
    total: int | None = None
    """What the vendor says the phase holds, where it says (an estimate)."""


@dataclass(frozen=True, slots=True)
class PollResult:
    """One page of a poll: what it saw and where to resume once it is committed.

    A connector yields these one at a time (:meth:`connectors.base.Connector.pages`);
    the collector commits each with its ``cursor`` before asking for the next,
    so a poll that fails or is killed keeps every page committed before it.
    """

    tickets: tuple[TicketRecord, ...] = ()
    status: StatusSnapshot | None = None
    cursor: Cursor | None = None
    """The checkpoint after this page: a restart resumes from here."""
    requests: int = 0
    """HTTP requests this page cost (for the poll-run record)."""
    entries: tuple[ConversationEntry, ...] = ()
    """Conversation entries new or changed since the cursor, for tickets of any page."""
    removed: tuple[str, ...] = ()
    """External ids the vendor reports as deleted."""
    progress: Progress | None = None

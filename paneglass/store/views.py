"""Frozen read models (views) the UI receives: never live ORM objects.

Plain dataclasses cross threads safely (queries run in worker threads, the UI
renders on the main thread) and cannot lazy-load behind the UI's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from paneglass.sla import ClockState

__all__ = [
    "MAIL_KIND",
    "AttachmentView",
    "AuditRow",
    "CaseDetail",
    "CaseMemberView",
    "CaseRow",
    "ChangeSet",
    "ClockView",
    "ComponentView",
    "EntryView",
    "EventView",
    "Headline",
    "IncidentView",
    "LinkView",
    "OutboxItem",
    "PendingMirror",
    "SearchMatch",
    "SlaRow",
    "TicketDetail",
    "TicketRow",
    "TimelineEntry",
    "VendorHealth",
]

MAIL_KIND = "imap"
"""The vendor kind whose tickets are mail items (an operator may attach them to a ticket)."""


@dataclass(frozen=True)
class SearchMatch:
    """Where a free-word filter found a ticket: shown on the row's second line."""

    where: str
    """``reply``, ``note``, ``system entry``, ``description``, or the ticket's own fields
    (``title``, ``key, requester``, …)."""
    author: str | None
    at: datetime | None
    snippet: tuple[tuple[str, bool], ...] = ()
    """A few words around the match, as (text, is a matched word) parts."""


@dataclass(frozen=True)
class TicketRow:
    """One line of the ticket pane."""

    id: int
    vendor: str
    key: str
    priority: str | None
    status: str
    title: str
    assignee: str | None
    requester: str | None
    created_at: datetime
    updated_at: datetime
    sla_state: ClockState = ClockState.NONE
    """Worst running contract clock state (breached > at_risk > ok > none)."""
    vendor_incident: str | None = None
    """The vendor's own published incident the ticket was opened or open during."""
    match: SearchMatch | None = None
    """With a free-word filter: where it matched (a reply, a note, the description, …)."""


@dataclass(frozen=True)
class EventView:
    """One entry of a ticket's history."""

    field_name: str
    old_value: str | None
    new_value: str | None
    seen_at: datetime
    vendor_time: datetime | None


@dataclass(frozen=True)
class AttachmentView:
    """A file on a conversation entry (the bytes stay at the vendor)."""

    name: str
    size: int | None
    content_type: str | None
    url: str | None


@dataclass(frozen=True)
class EntryView:
    """One comment, note or log entry of a ticket's conversation."""

    id: int
    external_id: str
    author: str | None
    visibility: str
    """``public``, ``internal`` or ``system``."""
    body: str
    created_at: datetime
    updated_at: datetime | None
    raw_format: str
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class ClockView:
    """One contract clock as stored."""

    metric: str
    cycle: int
    policy: str
    state: ClockState
    target_seconds: int
    elapsed_seconds: int
    paused: bool
    due_at: datetime | None
    breach_at: datetime | None
    stopped_at: datetime | None
    near_breach_at: datetime | None = None
    started_at: datetime | None = None
    pause_reason: str | None = None
    """``status`` or ``vendor maintenance`` while paused."""


@dataclass(frozen=True)
class TicketDetail:
    """Everything the store holds about one ticket."""

    id: int
    vendor: str
    kind: str
    external_id: str
    key: str
    title: str
    status: str
    raw_status: str
    priority: str | None
    raw_priority: str | None
    assignee: str | None
    group_name: str | None
    requester: str | None
    asset: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    first_response_at: datetime | None
    vendor_due_at: datetime | None
    vendor_breached: bool | None
    url: str | None
    raw: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    events: tuple[EventView, ...] = ()
    clocks: tuple[ClockView, ...] = ()
    vendor_incident: str | None = None
    """The vendor's own published incident the ticket was opened or open during."""
    description: str | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    """Vendor entries, field changes and paneglass's own actions, oldest first."""
    timeline_omitted: int = 0
    """Older timeline items left out (a ticket with thousands of log entries)."""


@dataclass(frozen=True)
class SlaRow:
    """A running clock that has breached or is at risk."""

    ticket_id: int
    vendor: str
    key: str
    priority: str | None
    title: str
    metric: str
    state: ClockState
    due_at: datetime | None
    breach_at: datetime | None
    paused: bool
    vendor_due_at: datetime | None
    vendor_breached: bool | None
    near_breach_at: datetime | None = None


@dataclass(frozen=True)
class ComponentView:
    """A status-page component that is not operational."""

    name: str
    state: str
    group_name: str | None


@dataclass(frozen=True)
class IncidentView:
    """An active published incident."""

    name: str
    status: str
    impact: str
    updated_at: datetime
    latest_update: str | None
    maintenance: bool = False
    """A planned maintenance window rather than an incident."""
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None


@dataclass(frozen=True)
class VendorHealth:
    """A vendor's connector health and published status, from its poll history."""

    name: str
    kind: str
    poll_interval: float
    enabled: bool
    stale_after: float
    last_run_at: datetime | None
    last_ok_at: datetime | None
    last_ok: bool | None
    last_error_kind: str | None
    last_error_message: str | None
    last_duration_ms: int | None
    consecutive_failures: int
    open_tickets: int
    indicator: str | None = None
    status_description: str | None = None
    components: tuple[ComponentView, ...] = ()
    incidents: tuple[IncidentView, ...] = ()
    last_page_at: datetime | None = None
    """When the latest page landed (pages land during a poll, before its run is recorded)."""
    sync_phase: str | None = None
    """``backfill`` while the first sync of everything open is still running."""
    sync_done: int | None = None
    sync_total: int | None = None

    @property
    def backfilling(self) -> bool:
        """True while the vendor's first full read of everything open is unfinished."""
        return self.sync_phase == "backfill"


@dataclass(frozen=True)
class Headline:
    """The counters in the header."""

    breached: int
    at_risk: int
    open_tickets: int
    open_p1: int
    last_ok_at: datetime | None
    """The newest good poll of any vendor: the age of the freshest data."""


@dataclass(frozen=True)
class ChangeSet:
    """What one committed batch changed; carried to the UI in the change notice."""

    vendor: str
    added: int = 0
    updated: int = 0
    events: int = 0
    status_changed: bool = False
    ok: bool = True
    ticket_ids: frozenset[int] = field(default_factory=frozenset)
    entries: int = 0
    """Conversation entries new or changed."""


@dataclass(frozen=True)
class OutboxItem:
    """One write-back action in the outbox, as the sender and the outbox view see it."""

    id: int
    vendor: str
    external_id: str | None
    ticket_key: str | None
    kind: str
    payload: str
    summary: str
    state: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    requested_by: str
    last_error: str | None
    answer: str | None
    created_key: str | None
    next_attempt_at: datetime | None
    channel: str | None = None
    """For a notification delivery: webhook, email or command (``vendor`` repeats it)."""
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AuditRow:
    """One audit-log entry."""

    id: int
    at: datetime
    user: str
    terminal: str | None
    action: str
    vendor: str | None
    ticket_key: str | None
    detail: str | None
    answer: str | None


@dataclass(frozen=True)
class LinkView:
    """The other end of a link, seen from one ticket, with its current status."""

    vendor: str
    external_id: str
    key: str | None
    status: str | None
    """``None`` until the linked ticket has been polled."""
    ticket_id: int | None
    mirror_comments: bool
    direction: str
    """``to`` (handed to the other) or ``from`` (handed over from it)."""
    mail: bool = False
    """A mail item's link to the ticket it is about (not a hand-off)."""


@dataclass(frozen=True)
class CaseRow:
    """One case in the cases pane."""

    id: int
    title: str
    members: int
    open_members: int
    vendors: tuple[str, ...]
    worst_state: ClockState
    """The case's SLA state: its worst member's (breached, at_risk, ok or none)."""
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class CaseMemberView:
    """A ticket in a case, with what the store knows about it now."""

    vendor: str
    external_id: str
    key: str | None
    ticket_id: int | None
    title: str | None
    status: str | None
    priority: str | None
    sla_state: ClockState


@dataclass(frozen=True)
class TimelineEntry:
    """One item of a ticket's or a case's merged timeline."""

    at: datetime
    vendor: str | None
    key: str | None
    source: str
    """``vendor`` (a change seen in a poll), ``paneglass`` (an operator's action) or
    ``conversation`` (a reply, note or log entry written at the vendor: see ``entry``)."""
    text: str
    entry: EntryView | None = None


@dataclass(frozen=True)
class CaseDetail:
    """A case with its members and one merged timeline, oldest first."""

    id: int
    title: str
    worst_state: ClockState
    created_at: datetime
    created_by: str
    members: tuple[CaseMemberView, ...]
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class PendingMirror:
    """An entry that arrived on a mirrored ticket and waits to be copied (or not)."""

    entry_id: int
    vendor: str
    ticket_external_id: str
    ticket_key: str | None
    author: str | None
    visibility: str
    body: str
    created_at: datetime

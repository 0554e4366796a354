"""The database schema: the only ``table=True`` classes in paneglass.

Every datetime column is :class:`UTCDateTime`: stored as UTC, returned aware.
Alembic migrations in ``paneglass/store/migrations`` are generated from these
classes; change both together. The store's queries run against the same tables
as plain Core code, :mod:`paneglass.store.tables`, written from these classes by
``python -m paneglass.store.table_code`` (so a start imports no SQLModel).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from paneglass.store.column_types import DONE_CHANGES, STATUS_TIMES, UTCDateTime

__all__ = [
    "ATTACHMENTS",
    "AUDIT",
    "CASES",
    "CLOCKS",
    "CLOCK_VERSIONS",
    "COMPONENTS",
    "COMPONENT_VERSIONS",
    "ENTRIES",
    "EVENTS",
    "HANDOVERS",
    "INCIDENTS",
    "INCIDENT_VERSIONS",
    "LEASE",
    "LINKS",
    "MEMBERS",
    "MIRRORS",
    "NOTIFICATIONS",
    "NOTIFIER",
    "OUTBOX",
    "RUNS",
    "SENDS",
    "STATUS",
    "STATUS_VERSIONS",
    "TICKETS",
    "TICKET_VERSIONS",
    "VENDORS",
    "AuditEntry",
    "Case",
    "CaseMember",
    "ClockVersion",
    "CollectorLease",
    "ComponentVersion",
    "EntryAttachment",
    "EntryMirror",
    "Handover",
    "IncidentVersion",
    "Notification",
    "NotificationSend",
    "NotifierState",
    "OutboxAction",
    "PollRun",
    "SlaClock",
    "StatusVersion",
    "Ticket",
    "TicketEntry",
    "TicketEvent",
    "TicketLink",
    "TicketVersion",
    "UTCDateTime",
    "Vendor",
    "VendorComponent",
    "VendorIncident",
    "VendorStatus",
]


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Vendor(SQLModel, table=True):
    """A configured source, and where its change feed was last read to."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str
    base_url: str
    poll_interval: float = 60.0
    enabled: bool = True
    stale_after: float = 2.0
    """Poll intervals without a good poll before the vendor's data counts as stale."""
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON of the connector's cursor, saved in the same transaction as the data it covers."""
    last_page_at: datetime | None = _when()
    """When the last page of a poll was committed (a long backfill is fresh while pages land)."""
    sync_phase: str | None = None
    """``backfill`` while the first sync of everything open runs, then ``incremental``."""
    sync_done: int | None = None
    """Records the current phase has read so far (across restarts, for a backfill)."""
    sync_total: int | None = None
    """What the vendor said the phase holds, where it says."""
    status_source: str | None = None
    """The configured status feed (vendor name) that publishes this vendor's status: its
    incidents mark this vendor's tickets, its maintenance can pause their clocks."""


class Ticket(SQLModel, table=True):
    """One vendor ticket in the unified shape; (vendor, external id) is unique."""

    __table_args__ = (
        UniqueConstraint("vendor_id", "external_id", name="uq_ticket_vendor_external"),
        # One index per sort order of the ticket pane, each ending in id (the tiebreak).
        Index("ix_ticket_updated", "updated_at", "id"),
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_status", "status", "id"),
        Index("ix_ticket_priority", "priority", "id"),
        Index("ix_ticket_key", "key", "id"),
        Index("ix_ticket_vendor_order", "vendor_id", "id"),
        Index("ix_ticket_title", "title", "id"),
        Index("ix_ticket_assignee", "assignee", "id"),
        Index("ix_ticket_requester", "requester"),
        Index("ix_ticket_asset", "asset"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    external_id: str
    key: str
    title: str
    status: str
    raw_status: str
    priority: str | None = None
    raw_priority: str | None = None
    assignee: str | None = None
    group_name: str | None = None
    requester: str | None = None
    asset: str | None = None
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    resolved_at: datetime | None = _when()
    first_response_at: datetime | None = _when()
    vendor_due_at: datetime | None = _when()
    vendor_breached: bool | None = None
    url: str | None = None
    raw: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The vendor payload as JSON (cleaned text); shown folded, never as markup."""
    first_seen_at: datetime = _when(nullable=False)
    last_seen_at: datetime = _when(nullable=False)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The ticket's own text as sanitised plain text (searched; never markup)."""


class TicketEvent(SQLModel, table=True):
    """Append-only history: one row per field that changed, as paneglass saw it."""

    __table_args__ = (
        Index("ix_event_ticket_seen", "ticket_id", "seen_at"),
        # Scorecards: status changes (resolutions, re-opens) in a period, by the vendor's time.
        Index(
            "ix_event_status_time",
            "vendor_time",
            sqlite_where=text(STATUS_TIMES),
            # postgresql_where: added by postgresql_options() when Alembic runs on PostgreSQL
            # (a dialect keyword here would import the PostgreSQL dialect with the schema).
        ),
        # Scorecards: resolutions and re-opens in a period, read from the index alone.
        Index(
            "ix_event_done_time",
            "vendor_time",
            "ticket_id",
            "field_name",
            "old_value",
            "new_value",
            sqlite_where=text(DONE_CHANGES),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    field_name: str
    old_value: str | None = None
    new_value: str | None = None
    vendor_time: datetime | None = _when()
    """The ticket's own ``updated_at`` when the change was seen."""
    seen_at: datetime = _when(nullable=False)


class SlaClock(SQLModel, table=True):
    """One contract clock per ticket and metric, recomputed with every change."""

    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle", name="uq_sla_ticket_metric_cycle"),
        Index("ix_sla_state_due", "state", "due_at"),
        # Scorecards: clocks decided (stopped, or breached) in a period.
        Index("ix_sla_stopped", "stopped_at", "breach_at"),
        Index("ix_sla_breach", "breach_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    metric: str
    """``response`` or ``resolution``."""
    cycle: int = 0
    """0 for the first; a re-opened ticket starts resolution cycle 1, 2, …"""
    policy: str
    target_seconds: int
    elapsed_seconds: int
    paused: bool = False
    due_at: datetime | None = _when()
    """When the clock breaches if it keeps running (None while paused or stopped)."""
    at_risk_at: datetime | None = _when()
    """When the clock turns at risk if it keeps running (None while paused or stopped)."""
    state: str
    """ok, at_risk, breached, met, missed or paused."""
    breach_at: datetime | None = _when()
    """Set once, when the clock first crossed its target."""
    started_at: datetime | None = _when()
    stopped_at: datetime | None = _when()
    computed_at: datetime = _when(nullable=False)
    near_breach_at: datetime | None = _when()
    """When the clock reaches the policy's second threshold if it keeps running."""
    pause_reason: str | None = None
    """Why a paused clock is paused: ``status`` (a pause status) or ``vendor maintenance``."""


class VendorStatus(SQLModel, table=True):
    """A vendor's latest published rollup status."""

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True)
    indicator: str
    description: str
    page_url: str | None = None
    updated_at: datetime | None = _when()
    fetched_at: datetime = _when(nullable=False)


class VendorComponent(SQLModel, table=True):
    """One component on a vendor's status page."""

    __table_args__ = (
        UniqueConstraint("vendor_id", "external_id", name="uq_component_vendor_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    external_id: str
    name: str
    state: str
    raw_status: str
    group_name: str | None = None
    position: int = 0
    updated_at: datetime | None = _when()


class VendorIncident(SQLModel, table=True):
    """A published incident or maintenance; ``active`` false once it left the page."""

    __table_args__ = (
        UniqueConstraint("vendor_id", "external_id", name="uq_incident_vendor_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    external_id: str
    name: str
    status: str
    impact: str
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    resolved_at: datetime | None = _when()
    latest_update: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    url: str | None = None
    active: bool = True
    maintenance: bool = False
    """A planned maintenance window rather than an incident."""
    scheduled_for: datetime | None = _when()
    scheduled_until: datetime | None = _when()
    components: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON list of the affected components' names, as the page names them."""


class PollRun(SQLModel, table=True):
    """One connector run: the source of every health and freshness figure."""

    __table_args__ = (Index("ix_pollrun_vendor_started", "vendor_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    started_at: datetime = _when(nullable=False)
    finished_at: datetime = _when(nullable=False)
    ok: bool
    error_kind: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    records_seen: int = 0
    records_changed: int = 0
    requests: int = 0
    duration_ms: int = 0
    collector: str | None = None
    """``host:pid`` of the collector that ran the poll (fail-over is visible in history)."""


class CollectorLease(SQLModel, table=True):
    """Who is collecting: one row, refreshed by the collector's heartbeat.

    Viewers (another console, a wall screen) that find a fresh lease do not
    poll vendors themselves; they only read and follow the changes.
    """

    id: int = Field(default=1, primary_key=True)
    owner: str
    """``host:pid`` of the collecting process."""
    heartbeat_at: datetime = _when(nullable=False)


class OutboxAction(SQLModel, table=True):
    """A write-back action: stored first, then sent by the collector's scheduler.

    States: ``queued`` → ``sending`` → ``sent``; or ``failed`` (with the
    vendor's reason) and then ``queued`` again on an operator's retry, or
    ``cancelled``. A row left in ``sending`` by a killed process is settled
    on the next start without ever sending a non-idempotent action twice.
    """

    __table_args__ = (
        Index("ix_outbox_state_due", "state", "next_attempt_at"),
        Index("ix_outbox_ticket", "vendor_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id")
    """The vendor acted on; ``None`` for a notification delivery (``channel`` says where)."""
    external_id: str | None = None
    """The target ticket's id at the vendor (``None`` for a create)."""
    ticket_key: str | None = None
    kind: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """The :class:`connectors.actions.Action` as JSON."""
    summary: str
    state: str = "queued"
    attempts: int = 0
    claimed_by: str | None = None
    """``host:pid`` of the process sending it (while ``sending``)."""
    next_attempt_at: datetime | None = _when()
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    requested_by: str
    terminal: str | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The vendor's answer to the last attempt, one line."""
    http_status: int | None = None
    created_external_id: str | None = None
    created_key: str | None = None
    source_vendor_id: int | None = Field(default=None, foreign_key="vendor.id")
    """For a hand-off: the vendor of the ticket it came from (linked once created)."""
    source_external_id: str | None = None
    case_id: int | None = Field(default=None, foreign_key="case.id")
    """For a hand-off from a case ticket: the case the new ticket joins."""
    mirror_comments: bool = False
    channel: str | None = None
    """For a notification delivery: ``webhook``, ``email`` or ``command`` (vendor_id is None)."""
    idempotency_key: str | None = None
    """Sent with every attempt of a notification delivery, so a receiver can drop a repeat."""


class AuditEntry(SQLModel, table=True):
    """Append-only: who did what to which ticket from where, and what the vendor said.

    Triggers (see migration 0002) refuse UPDATE and DELETE on this table.
    """

    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_ticket", "vendor", "external_id"),
        Index("ix_audit_case", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(nullable=False)
    user: str
    terminal: str | None = None
    action: str
    """``queued``, ``sent``, ``failed``, ``retried``, ``cancelled``, ``case-add`` …"""
    vendor: str | None = None
    external_id: str | None = None
    ticket_key: str | None = None
    case_id: int | None = None
    outbox_id: int | None = None
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TicketLink(SQLModel, table=True):
    """Two tickets at two vendors that are one piece of work (a hand-off made them)."""

    __table_args__ = (
        UniqueConstraint(
            "from_vendor_id",
            "from_external_id",
            "to_vendor_id",
            "to_external_id",
            name="uq_link_pair",
        ),
        Index("ix_link_to", "to_vendor_id", "to_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    from_vendor_id: int = Field(foreign_key="vendor.id")
    from_external_id: str
    to_vendor_id: int = Field(foreign_key="vendor.id")
    to_external_id: str
    to_key: str | None = None
    mirror_comments: bool = False
    """Comments written in paneglass on either ticket are also sent to the other."""
    created_at: datetime = _when(nullable=False)
    created_by: str


class Case(SQLModel, table=True):
    """Tickets of several vendors that are one user's problem."""

    id: int | None = Field(default=None, primary_key=True)
    title: str
    created_at: datetime = _when(nullable=False)
    created_by: str
    closed_at: datetime | None = _when()


class CaseMember(SQLModel, table=True):
    """A ticket in a case, by vendor and external id (it may not be polled yet)."""

    __table_args__ = (
        UniqueConstraint("case_id", "vendor_id", "external_id", name="uq_case_member"),
        Index("ix_case_member_ticket", "vendor_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    vendor_id: int = Field(foreign_key="vendor.id")
    external_id: str
    ticket_key: str | None = None
    added_at: datetime = _when(nullable=False)
    added_by: str


class Notification(SQLModel, table=True):
    """The notification log: one row per transition, recorded once (the unique key).

    ``subject`` names what changed (``ticket:42``, ``vendor:hosting``,
    ``outbox:7``, ``case:3``); ``clock`` and ``cycle`` say which contract clock
    (or which episode of a vendor's trouble); ``event`` is the transition. The
    collector records it, matches the rules, and marks it dispatched in the
    same transaction that queues its deliveries; acknowledgement and snooze
    are kept here and audited.
    """

    __table_args__ = (
        UniqueConstraint("subject", "clock", "cycle", "event", name="uq_notification_transition"),
        Index("ix_notification_state", "state", "id"),
        Index("ix_notification_open", "acked_at", "id"),
        Index("ix_notification_ticket", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject: str
    clock: str = ""
    cycle: int = 0
    event: str
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    vendor: str | None = None
    ticket_key: str | None = None
    priority: str | None = None
    group_name: str | None = None
    policy: str | None = None
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Cleaned one-line text (the ticket's title, the vendor's incident name, …)."""
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    occurred_at: datetime = _when(nullable=False)
    recorded_at: datetime = _when(nullable=False)
    state: str = "pending"
    """``pending`` (rules not yet applied), ``dispatched``, ``silent`` (no rule matched) or
    ``baseline`` (seen during a vendor's first sync: recorded, never announced)."""
    rules: str = ""
    """Names of the rules that matched, one per line."""
    acked_at: datetime | None = _when()
    acked_by: str | None = None
    snoozed_until: datetime | None = _when()
    snoozed_by: str | None = None


class NotificationSend(SQLModel, table=True):
    """One firing of a rule's channels for a notification (first, repeat, escalation, digest).

    Viewers follow these rows (toast and bell once each); the collector queues
    the external channels in the outbox. ``dedupe`` makes each firing happen
    once, whichever collector decides it.
    """

    __table_args__ = (
        UniqueConstraint("dedupe", name="uq_notification_send"),
        Index("ix_send_state_due", "state", "due_at"),
        Index("ix_send_notification", "notification_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe: str
    notification_id: int | None = Field(default=None, foreign_key="notification.id")
    rule: str
    kind: str
    """``first``, ``repeat``, ``escalation``, ``digest`` or ``action``."""
    local: str = ""
    """Console channels, space-separated: ``toast bell desktop``."""
    remote: str = ""
    """External channels, space-separated: ``webhook email command``."""
    state: str = "sent"
    """``sent`` (consoles show it), ``held`` (quiet hours until ``due_at``) or ``digested``."""
    due_at: datetime | None = _when()
    created_at: datetime = _when(nullable=False)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    """The one line a toast, a desktop notification and a subject line show."""


class NotifierState(SQLModel, table=True):
    """How far the transition detector has looked (one row): what is new since its last sweep."""

    id: int = Field(default=1, primary_key=True)
    swept_at: datetime | None = _when()
    last_ticket_id: int = 0
    """Tickets above this id are seen for the first time by the next sweep."""
    last_audit_id: int = 0
    """Audit entries above this id are case changes the next sweep has not looked at."""


class TicketVersion(SQLModel, table=True):
    """A ticket's fields as they stood from ``valid_from`` until ``valid_to`` (time travel).

    Written in the transaction of every change (``store.history``); ``valid_to``
    is ``None`` for the version that holds now.
    """

    __table_args__ = (
        Index("ix_ticket_version_ticket", "ticket_id", "valid_to"),
        Index("ix_ticket_version_window", "valid_from", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    valid_from: datetime = _when(nullable=False)
    valid_to: datetime | None = _when()
    key: str
    title: str
    status: str
    raw_status: str
    priority: str | None = None
    raw_priority: str | None = None
    assignee: str | None = None
    group_name: str | None = None
    requester: str | None = None
    asset: str | None = None
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    resolved_at: datetime | None = _when()
    first_response_at: datetime | None = _when()
    vendor_due_at: datetime | None = _when()
    vendor_breached: bool | None = None
    url: str | None = None


class ClockVersion(SQLModel, table=True):
    """A contract clock as stored from ``valid_from`` until ``valid_to`` (its transitions)."""

    __table_args__ = (
        Index("ix_clock_version_ticket", "ticket_id", "valid_to"),
        Index("ix_clock_version_window", "valid_from", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    metric: str
    cycle: int = 0
    valid_from: datetime = _when(nullable=False)
    valid_to: datetime | None = _when()
    policy: str
    target_seconds: int
    elapsed_seconds: int
    paused: bool = False
    due_at: datetime | None = _when()
    at_risk_at: datetime | None = _when()
    near_breach_at: datetime | None = _when()
    state: str
    breach_at: datetime | None = _when()
    started_at: datetime | None = _when()
    stopped_at: datetime | None = _when()
    pause_reason: str | None = None
    """``status`` or ``vendor maintenance`` while paused (migration 0007; null before)."""


class StatusVersion(SQLModel, table=True):
    """A vendor's published rollup status from ``valid_from`` until ``valid_to``."""

    __table_args__ = (Index("ix_status_version_vendor", "vendor_id", "valid_to"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    valid_from: datetime = _when(nullable=False)
    valid_to: datetime | None = _when()
    indicator: str
    description: str
    page_url: str | None = None
    updated_at: datetime | None = _when()
    fetched_at: datetime = _when(nullable=False)


class ComponentVersion(SQLModel, table=True):
    """A status-page component's state from ``valid_from`` until ``valid_to``."""

    __table_args__ = (Index("ix_component_version_vendor", "vendor_id", "valid_to"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    valid_from: datetime = _when(nullable=False)
    valid_to: datetime | None = _when()
    external_id: str
    name: str
    state: str
    raw_status: str
    group_name: str | None = None
    position: int = 0
    updated_at: datetime | None = _when()


class IncidentVersion(SQLModel, table=True):
    """A published incident as it stood from ``valid_from`` until ``valid_to``."""

    __table_args__ = (Index("ix_incident_version_vendor", "vendor_id", "valid_to"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    valid_from: datetime = _when(nullable=False)
    valid_to: datetime | None = _when()
    external_id: str
    name: str
    status: str
    impact: str
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    resolved_at: datetime | None = _when()
    latest_update: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    url: str | None = None
    active: bool = True
    maintenance: bool = False
    scheduled_for: datetime | None = _when()
    scheduled_until: datetime | None = _when()
    components: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Handover(SQLModel, table=True):
    """A shift handover: signed by the outgoing operator, acknowledged by the incoming one.

    ``summary`` is the report as the outgoing operator signed it (JSON), so
    what was handed over stays readable after the data moved on.
    """

    __table_args__ = (Index("ix_handover_signed", "signed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    since: datetime = _when(nullable=False)
    signed_at: datetime = _when(nullable=False)
    signed_by: str
    signed_terminal: str | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    acknowledged_at: datetime | None = _when()
    acknowledged_by: str | None = None
    acknowledged_terminal: str | None = None


class TicketEntry(SQLModel, table=True):
    """One comment, note or log entry of a ticket's conversation, as the vendor wrote it.

    Named by (vendor, ticket external id, entry external id), like links and
    case members, so an entry that arrives before its ticket (on an earlier
    page) is kept; ``ticket_id`` is filled in as soon as the ticket is stored.
    """

    __table_args__ = (
        UniqueConstraint(
            "vendor_id", "ticket_external_id", "external_id", name="uq_entry_vendor_ticket_external"
        ),
        Index("ix_entry_ticket_created", "ticket_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    ticket_external_id: str
    external_id: str
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    """The stored ticket (``None`` until the ticket itself has been stored)."""
    author: str | None = None
    visibility: str
    """``public`` (a reply the requester sees), ``internal`` (a note) or ``system``."""
    body: str = Field(sa_column=Column(Text, nullable=False))
    """Sanitised plain text (searched; never markup)."""
    raw_format: str = "text"
    """``text``, ``html``, ``adf`` or ``markdown``: what ``raw_body`` holds."""
    raw_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The vendor's own format, kept as it came (cleaned of control characters)."""
    created_at: datetime = _when(nullable=False)
    updated_at: datetime | None = _when()
    first_seen_at: datetime = _when(nullable=False)
    """When paneglass first stored it."""


class EntryAttachment(SQLModel, table=True):
    """A file on a conversation entry, as metadata: the bytes stay at the vendor."""

    __table_args__ = (
        UniqueConstraint(
            "vendor_id", "ticket_external_id", "external_id", name="uq_attachment_vendor_external"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    ticket_external_id: str
    entry_external_id: str
    external_id: str
    name: str
    size: int | None = None
    content_type: str | None = None
    url: str | None = None
    """Built by the connector from the configured base URL and ids, never from payload text."""


class EntryMirror(SQLModel, table=True):
    """The durable mirroring ledger: one row per entry that arrived on a mirrored ticket.

    Written in the transaction that stores the entry (state ``pending``), then
    settled once, in the transaction that queues its copies (``mirrored``) or
    decides it must not travel (``own``: paneglass wrote it; ``skipped``).
    So a reply is mirrored exactly once, across restarts and processes.
    """

    __table_args__ = (Index("ix_mirror_state", "state"),)

    entry_id: int = Field(foreign_key="ticketentry.id", primary_key=True)
    state: str = "pending"
    decided_at: datetime = _when(nullable=False)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Why it was settled so (``own: outbox 12``), or the outbox ids of its copies."""


def _table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for set-based SQL."""
    return model.__table__  # type: ignore[attr-defined,no-any-return]


# Table handles: every module of the store writes its SQL against these.
VENDORS = _table(Vendor)
TICKETS = _table(Ticket)
EVENTS = _table(TicketEvent)
CLOCKS = _table(SlaClock)
STATUS = _table(VendorStatus)
COMPONENTS = _table(VendorComponent)
INCIDENTS = _table(VendorIncident)
RUNS = _table(PollRun)
LEASE = _table(CollectorLease)
OUTBOX = _table(OutboxAction)
AUDIT = _table(AuditEntry)
LINKS = _table(TicketLink)
CASES = _table(Case)
MEMBERS = _table(CaseMember)
NOTIFICATIONS = _table(Notification)
SENDS = _table(NotificationSend)
NOTIFIER = _table(NotifierState)
TICKET_VERSIONS = _table(TicketVersion)
CLOCK_VERSIONS = _table(ClockVersion)
STATUS_VERSIONS = _table(StatusVersion)
COMPONENT_VERSIONS = _table(ComponentVersion)
INCIDENT_VERSIONS = _table(IncidentVersion)
HANDOVERS = _table(Handover)
ENTRIES = _table(TicketEntry)
ATTACHMENTS = _table(EntryAttachment)
MIRRORS = _table(EntryMirror)


def postgresql_options() -> None:
    """PostgreSQL's own index and table options, set when Alembic runs on PostgreSQL
    (idempotent).

    Kept off the schema's import: naming a dialect's keyword on an ``Index`` imports that
    dialect, and a SQLite console (the common case) never needs PostgreSQL's.

    The clocks' fill factor (migration 0009) leaves room on each page for in-place (HOT)
    rewrites of clocks whose indexed columns stay (Alembic does not compare it).
    """
    CLOCKS.dialect_options["postgresql"]["with"] = {"fillfactor": 50}
    for index in EVENTS.indexes:
        if index.name == "ix_event_status_time":
            index.dialect_options["postgresql"]["where"] = text(STATUS_TIMES)
        elif index.name == "ix_event_done_time":
            index.dialect_options["postgresql"]["where"] = text(DONE_CHANGES)

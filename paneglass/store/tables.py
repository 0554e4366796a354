"""GENERATED from :mod:`paneglass.store.schema` by :mod:`paneglass.store.table_code`.

Do not edit: change the schema's classes and run the command again (a test
fails while the two differ). The same tables as plain SQLAlchemy Core, which
is all the store's queries need, without SQLModel's import cost.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

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
]

metadata = MetaData()


AUDIT = Table(
    "auditentry",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user", String(), nullable=False),
    Column("terminal", String()),
    Column("action", String(), nullable=False),
    Column("vendor", String()),
    Column("external_id", String()),
    Column("ticket_key", String()),
    Column("case_id", Integer()),
    Column("outbox_id", Integer()),
    Column("detail", Text()),
    Column("answer", Text()),
)
Index("ix_audit_at", AUDIT.c.at)
Index("ix_audit_case", AUDIT.c.case_id)
Index("ix_audit_ticket", AUDIT.c.vendor, AUDIT.c.external_id)

CASES = Table(
    "case",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("title", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(), nullable=False),
    Column("closed_at", UTCDateTime()),
)

LEASE = Table(
    "collectorlease",
    metadata,
    Column("id", Integer(), primary_key=True, default=1),
    Column("owner", String(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
)

HANDOVERS = Table(
    "handover",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("since", UTCDateTime(), nullable=False),
    Column("signed_at", UTCDateTime(), nullable=False),
    Column("signed_by", String(), nullable=False),
    Column("signed_terminal", String()),
    Column("note", Text(), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("acknowledged_at", UTCDateTime()),
    Column("acknowledged_by", String()),
    Column("acknowledged_terminal", String()),
)
Index("ix_handover_signed", HANDOVERS.c.signed_at)

NOTIFIER = Table(
    "notifierstate",
    metadata,
    Column("id", Integer(), primary_key=True, default=1),
    Column("swept_at", UTCDateTime()),
    Column("last_ticket_id", Integer(), nullable=False, default=0),
    Column("last_audit_id", Integer(), nullable=False, default=0),
)

VENDORS = Table(
    "vendor",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("name", String(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("base_url", String(), nullable=False),
    Column("poll_interval", Float(), nullable=False, default=60.0),
    Column("enabled", Boolean(), nullable=False, default=True),
    Column("stale_after", Float(), nullable=False, default=2.0),
    Column("cursor", Text()),
    Column("last_page_at", UTCDateTime()),
    Column("sync_phase", String()),
    Column("sync_done", Integer()),
    Column("sync_total", Integer()),
    Column("status_source", String()),
    UniqueConstraint("name"),
)

MEMBERS = Table(
    "casemember",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("case_id", Integer(), ForeignKey("case.id"), nullable=False),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("ticket_key", String()),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("added_by", String(), nullable=False),
    UniqueConstraint("case_id", "vendor_id", "external_id", name="uq_case_member"),
)
Index("ix_case_member_ticket", MEMBERS.c.vendor_id, MEMBERS.c.external_id)

COMPONENT_VERSIONS = Table(
    "componentversion",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Column("external_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("state", String(), nullable=False),
    Column("raw_status", String(), nullable=False),
    Column("group_name", String()),
    Column("position", Integer(), nullable=False, default=0),
    Column("updated_at", UTCDateTime()),
)
Index("ix_component_version_vendor", COMPONENT_VERSIONS.c.vendor_id, COMPONENT_VERSIONS.c.valid_to)

ATTACHMENTS = Table(
    "entryattachment",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("ticket_external_id", String(), nullable=False),
    Column("entry_external_id", String(), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("size", Integer()),
    Column("content_type", String()),
    Column("url", String()),
    UniqueConstraint(
        "vendor_id", "ticket_external_id", "external_id", name="uq_attachment_vendor_external"
    ),
)

INCIDENT_VERSIONS = Table(
    "incidentversion",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Column("external_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("status", String(), nullable=False),
    Column("impact", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("latest_update", Text()),
    Column("url", String()),
    Column("active", Boolean(), nullable=False, default=True),
    Column("maintenance", Boolean(), nullable=False, default=False),
    Column("scheduled_for", UTCDateTime()),
    Column("scheduled_until", UTCDateTime()),
    Column("components", Text()),
)
Index("ix_incident_version_vendor", INCIDENT_VERSIONS.c.vendor_id, INCIDENT_VERSIONS.c.valid_to)

OUTBOX = Table(
    "outboxaction",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id")),
    Column("external_id", String()),
    Column("ticket_key", String()),
    Column("kind", String(), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("summary", String(), nullable=False),
    Column("state", String(), nullable=False, default="queued"),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("claimed_by", String()),
    Column("next_attempt_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("requested_by", String(), nullable=False),
    Column("terminal", String()),
    Column("last_error", Text()),
    Column("answer", Text()),
    Column("http_status", Integer()),
    Column("created_external_id", String()),
    Column("created_key", String()),
    Column("source_vendor_id", Integer(), ForeignKey("vendor.id")),
    Column("source_external_id", String()),
    Column("case_id", Integer(), ForeignKey("case.id")),
    Column("mirror_comments", Boolean(), nullable=False, default=False),
    Column("channel", String()),
    Column("idempotency_key", String()),
)
Index("ix_outbox_state_due", OUTBOX.c.state, OUTBOX.c.next_attempt_at)
Index("ix_outbox_ticket", OUTBOX.c.vendor_id, OUTBOX.c.external_id)

RUNS = Table(
    "pollrun",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("ok", Boolean(), nullable=False),
    Column("error_kind", String()),
    Column("error_message", String()),
    Column("http_status", Integer()),
    Column("records_seen", Integer(), nullable=False, default=0),
    Column("records_changed", Integer(), nullable=False, default=0),
    Column("requests", Integer(), nullable=False, default=0),
    Column("duration_ms", Integer(), nullable=False, default=0),
    Column("collector", String()),
)
Index("ix_pollrun_vendor_started", RUNS.c.vendor_id, RUNS.c.started_at)

STATUS_VERSIONS = Table(
    "statusversion",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Column("indicator", String(), nullable=False),
    Column("description", String(), nullable=False),
    Column("page_url", String()),
    Column("updated_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime(), nullable=False),
)
Index("ix_status_version_vendor", STATUS_VERSIONS.c.vendor_id, STATUS_VERSIONS.c.valid_to)

TICKETS = Table(
    "ticket",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("key", String(), nullable=False),
    Column("title", String(), nullable=False),
    Column("status", String(), nullable=False),
    Column("raw_status", String(), nullable=False),
    Column("priority", String()),
    Column("raw_priority", String()),
    Column("assignee", String()),
    Column("group_name", String()),
    Column("requester", String()),
    Column("asset", String()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("first_response_at", UTCDateTime()),
    Column("vendor_due_at", UTCDateTime()),
    Column("vendor_breached", Boolean()),
    Column("url", String()),
    Column("raw", Text()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("description", Text()),
    UniqueConstraint("vendor_id", "external_id", name="uq_ticket_vendor_external"),
)
Index("ix_ticket_asset", TICKETS.c.asset)
Index("ix_ticket_assignee", TICKETS.c.assignee, TICKETS.c.id)
Index("ix_ticket_created", TICKETS.c.created_at, TICKETS.c.id)
Index("ix_ticket_key", TICKETS.c.key, TICKETS.c.id)
Index("ix_ticket_priority", TICKETS.c.priority, TICKETS.c.id)
Index("ix_ticket_requester", TICKETS.c.requester)
Index("ix_ticket_status", TICKETS.c.status, TICKETS.c.id)
Index("ix_ticket_title", TICKETS.c.title, TICKETS.c.id)
Index("ix_ticket_updated", TICKETS.c.updated_at, TICKETS.c.id)
Index("ix_ticket_vendor_order", TICKETS.c.vendor_id, TICKETS.c.id)

LINKS = Table(
    "ticketlink",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("from_vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("from_external_id", String(), nullable=False),
    Column("to_vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("to_external_id", String(), nullable=False),
    Column("to_key", String()),
    Column("mirror_comments", Boolean(), nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(), nullable=False),
    UniqueConstraint(
        "from_vendor_id", "from_external_id", "to_vendor_id", "to_external_id", name="uq_link_pair"
    ),
)
Index("ix_link_to", LINKS.c.to_vendor_id, LINKS.c.to_external_id)

COMPONENTS = Table(
    "vendorcomponent",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("state", String(), nullable=False),
    Column("raw_status", String(), nullable=False),
    Column("group_name", String()),
    Column("position", Integer(), nullable=False, default=0),
    Column("updated_at", UTCDateTime()),
    UniqueConstraint("vendor_id", "external_id", name="uq_component_vendor_external"),
)
Index("ix_vendorcomponent_vendor_id", COMPONENTS.c.vendor_id)

INCIDENTS = Table(
    "vendorincident",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("status", String(), nullable=False),
    Column("impact", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("latest_update", Text()),
    Column("url", String()),
    Column("active", Boolean(), nullable=False, default=True),
    Column("maintenance", Boolean(), nullable=False, default=False),
    Column("scheduled_for", UTCDateTime()),
    Column("scheduled_until", UTCDateTime()),
    Column("components", Text()),
    UniqueConstraint("vendor_id", "external_id", name="uq_incident_vendor_external"),
)
Index("ix_vendorincident_vendor_id", INCIDENTS.c.vendor_id)

STATUS = Table(
    "vendorstatus",
    metadata,
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), primary_key=True),
    Column("indicator", String(), nullable=False),
    Column("description", String(), nullable=False),
    Column("page_url", String()),
    Column("updated_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime(), nullable=False),
)

CLOCK_VERSIONS = Table(
    "clockversion",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", Integer(), ForeignKey("ticket.id"), nullable=False),
    Column("metric", String(), nullable=False),
    Column("cycle", Integer(), nullable=False, default=0),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Column("policy", String(), nullable=False),
    Column("target_seconds", Integer(), nullable=False),
    Column("elapsed_seconds", Integer(), nullable=False),
    Column("paused", Boolean(), nullable=False, default=False),
    Column("due_at", UTCDateTime()),
    Column("at_risk_at", UTCDateTime()),
    Column("near_breach_at", UTCDateTime()),
    Column("state", String(), nullable=False),
    Column("breach_at", UTCDateTime()),
    Column("started_at", UTCDateTime()),
    Column("stopped_at", UTCDateTime()),
    Column("pause_reason", String()),
)
Index("ix_clock_version_ticket", CLOCK_VERSIONS.c.ticket_id, CLOCK_VERSIONS.c.valid_to)
Index("ix_clock_version_window", CLOCK_VERSIONS.c.valid_from, CLOCK_VERSIONS.c.valid_to)

NOTIFICATIONS = Table(
    "notification",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("subject", String(), nullable=False),
    Column("clock", String(), nullable=False, default=""),
    Column("cycle", Integer(), nullable=False, default=0),
    Column("event", String(), nullable=False),
    Column("ticket_id", Integer(), ForeignKey("ticket.id")),
    Column("vendor", String()),
    Column("ticket_key", String()),
    Column("priority", String()),
    Column("group_name", String()),
    Column("policy", String()),
    Column("title", Text(), nullable=False),
    Column("detail", Text(), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("state", String(), nullable=False, default="pending"),
    Column("rules", String(), nullable=False, default=""),
    Column("acked_at", UTCDateTime()),
    Column("acked_by", String()),
    Column("snoozed_until", UTCDateTime()),
    Column("snoozed_by", String()),
    UniqueConstraint("subject", "clock", "cycle", "event", name="uq_notification_transition"),
)
Index("ix_notification_open", NOTIFICATIONS.c.acked_at, NOTIFICATIONS.c.id)
Index("ix_notification_state", NOTIFICATIONS.c.state, NOTIFICATIONS.c.id)
Index("ix_notification_ticket", NOTIFICATIONS.c.ticket_id)

CLOCKS = Table(
    "slaclock",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", Integer(), ForeignKey("ticket.id"), nullable=False),
    Column("metric", String(), nullable=False),
    Column("cycle", Integer(), nullable=False, default=0),
    Column("policy", String(), nullable=False),
    Column("target_seconds", Integer(), nullable=False),
    Column("elapsed_seconds", Integer(), nullable=False),
    Column("paused", Boolean(), nullable=False, default=False),
    Column("due_at", UTCDateTime()),
    Column("at_risk_at", UTCDateTime()),
    Column("state", String(), nullable=False),
    Column("breach_at", UTCDateTime()),
    Column("started_at", UTCDateTime()),
    Column("stopped_at", UTCDateTime()),
    Column("computed_at", UTCDateTime(), nullable=False),
    Column("near_breach_at", UTCDateTime()),
    Column("pause_reason", String()),
    UniqueConstraint("ticket_id", "metric", "cycle", name="uq_sla_ticket_metric_cycle"),
)
Index("ix_sla_breach", CLOCKS.c.breach_at)
Index("ix_sla_state_due", CLOCKS.c.state, CLOCKS.c.due_at)
Index("ix_sla_stopped", CLOCKS.c.stopped_at, CLOCKS.c.breach_at)

ENTRIES = Table(
    "ticketentry",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("vendor_id", Integer(), ForeignKey("vendor.id"), nullable=False),
    Column("ticket_external_id", String(), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("ticket_id", Integer(), ForeignKey("ticket.id")),
    Column("author", String()),
    Column("visibility", String(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("raw_format", String(), nullable=False, default="text"),
    Column("raw_body", Text()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime()),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "vendor_id", "ticket_external_id", "external_id", name="uq_entry_vendor_ticket_external"
    ),
)
Index("ix_entry_ticket_created", ENTRIES.c.ticket_id, ENTRIES.c.created_at)

EVENTS = Table(
    "ticketevent",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", Integer(), ForeignKey("ticket.id"), nullable=False),
    Column("field_name", String(), nullable=False),
    Column("old_value", String()),
    Column("new_value", String()),
    Column("vendor_time", UTCDateTime()),
    Column("seen_at", UTCDateTime(), nullable=False),
)
Index(
    "ix_event_done_time",
    EVENTS.c.vendor_time,
    EVENTS.c.ticket_id,
    EVENTS.c.field_name,
    EVENTS.c.old_value,
    EVENTS.c.new_value,
    sqlite_where=text(DONE_CHANGES),
)
Index("ix_event_status_time", EVENTS.c.vendor_time, sqlite_where=text(STATUS_TIMES))
Index("ix_event_ticket_seen", EVENTS.c.ticket_id, EVENTS.c.seen_at)

TICKET_VERSIONS = Table(
    "ticketversion",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", Integer(), ForeignKey("ticket.id"), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Column("key", String(), nullable=False),
    Column("title", String(), nullable=False),
    Column("status", String(), nullable=False),
    Column("raw_status", String(), nullable=False),
    Column("priority", String()),
    Column("raw_priority", String()),
    Column("assignee", String()),
    Column("group_name", String()),
    Column("requester", String()),
    Column("asset", String()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("first_response_at", UTCDateTime()),
    Column("vendor_due_at", UTCDateTime()),
    Column("vendor_breached", Boolean()),
    Column("url", String()),
)
Index("ix_ticket_version_ticket", TICKET_VERSIONS.c.ticket_id, TICKET_VERSIONS.c.valid_to)
Index("ix_ticket_version_window", TICKET_VERSIONS.c.valid_from, TICKET_VERSIONS.c.valid_to)

MIRRORS = Table(
    "entrymirror",
    metadata,
    Column("entry_id", Integer(), ForeignKey("ticketentry.id"), primary_key=True),
    Column("state", String(), nullable=False, default="pending"),
    Column("decided_at", UTCDateTime(), nullable=False),
    Column("detail", Text()),
)
Index("ix_mirror_state", MIRRORS.c.state)

SENDS = Table(
    "notificationsend",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("dedupe", String(), nullable=False),
    Column("notification_id", Integer(), ForeignKey("notification.id")),
    Column("rule", String(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("local", String(), nullable=False, default=""),
    Column("remote", String(), nullable=False, default=""),
    Column("state", String(), nullable=False, default="sent"),
    Column("due_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("summary", Text(), nullable=False),
    UniqueConstraint("dedupe", name="uq_notification_send"),
)
Index("ix_send_notification", SENDS.c.notification_id)
Index("ix_send_state_due", SENDS.c.state, SENDS.c.due_at)

"""The shape of a ticket row on its way into the store, shared by every backend's writer.

Rows are plain tuples of :data:`COLUMNS` in each backend's stored form; what
a page is compared with is :data:`COMPARED`, read back as ``(id, *COMPARED)``.
"""

from __future__ import annotations

__all__ = ["COLUMNS", "COMPARED", "KEPT_WHEN_NONE", "TRACKED_FIELDS"]

TRACKED_FIELDS = (
    "key",
    "title",
    "status",
    "raw_status",
    "priority",
    "raw_priority",
    "assignee",
    "group_name",
    "requester",
    "asset",
    "resolved_at",
    "first_response_at",
    "vendor_due_at",
    "vendor_breached",
)
"""Ticket columns whose every change appends a TicketEvent."""

COLUMNS = (
    "vendor_id",
    "external_id",
    "key",
    "title",
    "status",
    "raw_status",
    "priority",
    "raw_priority",
    "assignee",
    "group_name",
    "requester",
    "asset",
    "created_at",
    "updated_at",
    "resolved_at",
    "first_response_at",
    "vendor_due_at",
    "vendor_breached",
    "url",
    "raw",
    "first_seen_at",
    "last_seen_at",
    "description",
)
"""Every ticket column but ``id``, in the order rows are built."""

KEPT_WHEN_NONE = frozenset({"description"})
"""Columns a rewrite leaves as stored when the page gives None: a connector that did not
read the description this time (it comes from another endpoint, or a later walk) sends None."""

COMPARED = ("updated_at", "created_at", *TRACKED_FIELDS)
"""The stored columns a page is compared with (read back as ``(id, *COMPARED)``)."""

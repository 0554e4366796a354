"""What each export holds: its fields, in order, and the rows the store gives for it.

The ticket fields and their names are a promise to users (DESIGN, "Modes and
commands"): add fields, never rename or drop one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from paneglass.store import Store

__all__ = [
    "AUDIT_FIELDS",
    "COMMENT_FIELDS",
    "EVENT_FIELDS",
    "EXPORTS",
    "SLA_FIELDS",
    "TICKET_FIELDS",
    "Rows",
]

Rows = Callable[[Store, str | None], Iterator[dict[str, Any]]]
"""The rows of one export (of one vendor, or all), read from the store a batch at a time."""

TICKET_FIELDS = (
    "vendor",
    "kind",
    "external_id",
    "key",
    "title",
    "status",
    "raw_status",
    "priority",
    "raw_priority",
    "assignee",
    "requester",
    "group",
    "asset",
    "created_at",
    "updated_at",
    "resolved_at",
    "vendor_due_at",
    "vendor_breached",
    "url",
)
EVENT_FIELDS = (
    "vendor",
    "key",
    "external_id",
    "field",
    "old_value",
    "new_value",
    "vendor_time",
    "seen_at",
)
SLA_FIELDS = (
    "vendor",
    "key",
    "external_id",
    "priority",
    "metric",
    "policy",
    "state",
    "target_seconds",
    "elapsed_seconds",
    "paused",
    "due_at",
    "breach_at",
    "stopped_at",
    "vendor_due_at",
    "vendor_breached",
)


AUDIT_FIELDS = (
    "id",
    "at",
    "user",
    "terminal",
    "action",
    "vendor",
    "external_id",
    "ticket_key",
    "case_id",
    "outbox_id",
    "detail",
    "answer",
)


COMMENT_FIELDS = (
    "vendor",
    "ticket_key",
    "ticket_external_id",
    "external_id",
    "author",
    "visibility",
    "created_at",
    "updated_at",
    "body",
    "attachments",
)
"""``--what comments``: every conversation entry the vendors keep (``visibility`` is
``public``, ``internal`` or ``system``; ``body`` is plain text; ``attachments`` the
files' names, ``; ``-separated)."""


def _tickets(store: Store, vendor: str | None) -> Iterator[dict[str, Any]]:
    for row in store.iter_tickets():
        if vendor is not None and row["vendor_name"] != vendor:
            continue
        yield {
            "vendor": row["vendor_name"],
            "kind": row["kind"],
            "external_id": row["external_id"],
            "key": row["key"],
            "title": row["title"],
            "status": row["status"],
            "raw_status": row["raw_status"],
            "priority": row["priority"],
            "raw_priority": row["raw_priority"],
            "assignee": row["assignee"],
            "requester": row["requester"],
            "group": row["group_name"],
            "asset": row["asset"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "resolved_at": row["resolved_at"],
            "vendor_due_at": row["vendor_due_at"],
            "vendor_breached": row["vendor_breached"],
            "url": row["url"],
        }


def _events(store: Store, vendor: str | None) -> Iterator[dict[str, Any]]:
    for row in store.iter_events():
        if vendor is not None and row["vendor"] != vendor:
            continue
        yield {**{k: row[k] for k in EVENT_FIELDS if k != "field"}, "field": row["field_name"]}


def _clocks(store: Store, vendor: str | None) -> Iterator[dict[str, Any]]:
    yield from (row for row in store.iter_clocks() if vendor in (None, row["vendor"]))


def _audit(store: Store, vendor: str | None) -> Iterator[dict[str, Any]]:
    yield from (row for row in store.iter_audit() if vendor in (None, row["vendor"]))


def _comments(store: Store, vendor: str | None) -> Iterator[dict[str, Any]]:
    files: dict[tuple[str, str, str], list[str]] = {}
    for file in store.iter_attachments(vendor):
        key = (file["vendor"], file["ticket_external_id"], file["entry_external_id"])
        files.setdefault(key, []).append(file["name"])
    for row in store.iter_entries(vendor):
        key = (row["vendor"], row["ticket_external_id"], row["external_id"])
        yield {**row, "attachments": "; ".join(files.get(key, ()))}


EXPORTS: dict[str, tuple[tuple[str, ...], Rows]] = {
    "tickets": (TICKET_FIELDS, _tickets),
    "events": (EVENT_FIELDS, _events),
    "sla": (SLA_FIELDS, _clocks),
    "audit": (AUDIT_FIELDS, _audit),
    "comments": (COMMENT_FIELDS, _comments),
}
"""Every export by name (``--what``): its fields and its rows."""

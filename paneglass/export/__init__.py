"""``paneglass export``: what the store holds, as JSON or CSV, for scripts.

The ticket fields and their names are a promise to users (DESIGN, "Modes and
commands"): add fields, never rename or drop one. Times are ISO 8601 UTC.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from paneglass.store import Store

__all__ = ["EXPORTS", "export"]

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


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


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


def _tickets(store: Store) -> Iterator[dict[str, Any]]:
    for row in store.iter_tickets():
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


def _events(store: Store) -> Iterator[dict[str, Any]]:
    for row in store.iter_events():
        yield {**{k: row[k] for k in EVENT_FIELDS if k != "field"}, "field": row["field_name"]}


def _clocks(store: Store) -> Iterator[dict[str, Any]]:
    yield from store.iter_clocks()


def _audit(store: Store) -> Iterator[dict[str, Any]]:
    yield from store.iter_audit()


EXPORTS = {
    "tickets": (TICKET_FIELDS, _tickets),
    "events": (EVENT_FIELDS, _events),
    "sla": (SLA_FIELDS, _clocks),
    "audit": (AUDIT_FIELDS, _audit),
}


def export(store: Store, what: str, fmt: str, out: TextIO) -> int:
    """Write every ``what`` row to ``out`` as ``fmt``; return the row count."""
    fields, rows = EXPORTS[what]
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for row in rows(store):
            writer.writerow({k: _iso(row.get(k)) for k in fields})
            count += 1
        return count
    out.write("[")
    for row in rows(store):
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps({k: _iso(row.get(k)) for k in fields}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count

"""The configured vendors and the cursor of each one's change feed.

A vendor row is kept from the config (never its secrets); its cursor is
saved in the same transaction as the batch it covers, so a poll resumes
exactly after the last committed data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from connectors import VendorConfig
from connectors.records import Cursor, Progress
from paneglass.store.tables import VENDORS

__all__ = ["load_cursor", "save_page", "sync_vendors", "vendor_name", "vendor_row_id"]


def sync_vendors(conn: Connection, vendors: Iterable[VendorConfig]) -> None:
    """Record the configured vendors (name, kind, URL, interval); secrets are never stored."""
    for vendor in vendors:
        found = conn.execute(select(VENDORS.c.id).where(VENDORS.c.name == vendor.name)).scalar()
        values = {
            "kind": vendor.kind,
            "base_url": vendor.base_url,
            "poll_interval": vendor.poll_interval,
            "stale_after": vendor.stale_after,
            "enabled": vendor.enabled,
            "status_source": vendor.status_source,
        }
        if found is None:
            conn.execute(VENDORS.insert().values(name=vendor.name, **values))
        else:
            conn.execute(update(VENDORS).where(VENDORS.c.id == found).values(**values))


def vendor_row_id(conn: Connection, vendor: str) -> int:
    """The row id of a configured vendor, or a KeyError naming it."""
    found = conn.execute(select(VENDORS.c.id).where(VENDORS.c.name == vendor)).scalar()
    if found is None:
        raise KeyError(f"vendor {vendor!r} is not in the store")
    return int(found)


def vendor_name(conn: Connection, vendor_id: int) -> str:
    """The config name of the vendor with this row id."""
    return str(conn.execute(select(VENDORS.c.name).where(VENDORS.c.id == vendor_id)).scalar_one())


def load_cursor(conn: Connection, vendor: str) -> Cursor | None:
    """The cursor saved with the vendor's last committed batch."""
    raw = conn.execute(select(VENDORS.c.cursor).where(VENDORS.c.name == vendor)).scalar()
    return json.loads(raw) if raw else None


def save_page(
    conn: Connection,
    vendor_id: int,
    cursor: Cursor | None,
    progress: Progress | None,
    landed_at: datetime | None,
) -> None:
    """Save the cursor (and how far the read has come) inside the transaction of its page.

    ``landed_at`` is set for a page of a poll still running (its run is recorded
    at its end); a whole poll applied at once is covered by its run record.
    """
    values: dict[str, Any] = {}
    if landed_at is not None:
        values["last_page_at"] = landed_at
    if cursor is not None:
        values["cursor"] = json.dumps(cursor, sort_keys=True)
    if progress is not None:
        values.update(sync_phase=progress.phase, sync_done=progress.done, sync_total=progress.total)
    if values:
        conn.execute(update(VENDORS).where(VENDORS.c.id == vendor_id).values(**values))

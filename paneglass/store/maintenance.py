"""Announced maintenance windows, as the clocks of the vendors they cover need them.

A vendor names its status feed in config (``status_source``); that feed's
scheduled maintenances (kept in the incidents table, ``maintenance`` true)
are the windows during which a policy with ``pause_in_maintenance`` stops the
vendor's clocks. A window is ``[scheduled_for, resolved_at or
scheduled_until)``; a cancelled one, or one with no end announced, is none.
Windows stay after they leave the page, so recomputing an old ticket gives
the same clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, select

from paneglass.sla import SlaSettings, Window
from paneglass.store.inputs import Actor
from paneglass.store.outbox import audit
from paneglass.store.tables import AUDIT, INCIDENTS, STATUS, TICKETS, VENDORS

__all__ = [
    "SYSTEM",
    "Seen",
    "active_tickets",
    "audit_new_pauses",
    "covering",
    "in_progress",
    "moved",
    "pausing",
    "seen",
    "windows_for",
]

SYSTEM = Actor("paneglass", None)
"""The audit log's actor for what paneglass does by policy, not for an operator."""
_CANCELLED = ("cancelled", "canceled")


def pausing(settings: SlaSettings) -> bool:
    """Does any policy stop clocks in maintenance? (else nothing here needs reading)"""
    return any(p.pause_in_maintenance for p in settings.policies)


def windows_for(conn: Connection, vendor_names: Iterable[str]) -> dict[str, list[Window]]:
    """Each of these vendors' maintenance windows, from its status source, by vendor name."""
    names = sorted(set(vendor_names))
    if not names:
        return {}
    source = VENDORS.alias("source")
    rows = conn.execute(
        select(
            VENDORS.c.name,
            INCIDENTS.c.scheduled_for,
            INCIDENTS.c.scheduled_until,
            INCIDENTS.c.resolved_at,
            INCIDENTS.c.status,
        )
        .join(source, source.c.name == VENDORS.c.status_source)
        .join(INCIDENTS, and_(INCIDENTS.c.vendor_id == source.c.id, INCIDENTS.c.maintenance))
        .where(VENDORS.c.name.in_(names), INCIDENTS.c.scheduled_for.is_not(None))
    )
    found: dict[str, list[Window]] = {}
    for name, *fields in rows:
        window = _window(*fields)
        if window is not None:
            found.setdefault(name, []).append(window)
    return found


def in_progress(conn: Connection, vendor_names: Iterable[str], now: datetime) -> dict[str, Window]:
    """The announced maintenance window each of these vendors is inside at ``now``."""
    return {
        name: window
        for name, windows in windows_for(conn, vendor_names).items()
        for window in sorted(windows)
        if window[0] <= now < window[1]
    }


def _window(
    start: datetime, until: datetime | None, resolved: datetime | None, status: str
) -> Window | None:
    """``[start, resolved or until)``; none for a cancelled window or one without an end."""
    end = resolved or until
    if end is None or end <= start or status.lower() in _CANCELLED:
        return None
    return (start, end)


class Seen(NamedTuple):
    """A status feed's maintenance windows and when its last snapshot came, before a new one."""

    windows: list[Window]
    fetched_at: datetime | None


def _feed_windows(conn: Connection, status_vendor_id: int) -> list[Window]:
    rows = conn.execute(
        select(
            INCIDENTS.c.scheduled_for,
            INCIDENTS.c.scheduled_until,
            INCIDENTS.c.resolved_at,
            INCIDENTS.c.status,
        ).where(
            INCIDENTS.c.vendor_id == status_vendor_id,
            INCIDENTS.c.maintenance,
            INCIDENTS.c.scheduled_for.is_not(None),
        )
    )
    return sorted(w for w in (_window(*row) for row in rows) if w is not None)


def seen(conn: Connection, status_vendor_id: int) -> Seen:
    """What the store knew of this feed's windows before a new snapshot is stored."""
    fetched = conn.execute(
        select(STATUS.c.fetched_at).where(STATUS.c.vendor_id == status_vendor_id)
    ).scalar()
    return Seen(_feed_windows(conn, status_vendor_id), fetched)


def covering(conn: Connection, status_vendor_id: int) -> tuple[list[str], list[Window]]:
    """The vendors whose status source is this feed, and the feed's windows now."""
    source = conn.execute(select(VENDORS.c.name).where(VENDORS.c.id == status_vendor_id)).scalar()
    covered = [
        row[0]
        for row in conn.execute(select(VENDORS.c.name).where(VENDORS.c.status_source == source))
    ]
    return covered, (_feed_windows(conn, status_vendor_id) if covered else [])


def moved(before: Seen, windows: list[Window], now: datetime) -> bool:
    """Must clocks be recomputed? A window was announced, moved or dropped, or one of its
    edges passed since the feed's previous snapshot (a clock pauses or resumes there)."""
    if windows != before.windows:
        return True
    if before.fetched_at is None:
        return bool(windows)
    last = before.fetched_at
    return any(last < edge <= now for window in windows for edge in window)


def active_tickets(conn: Connection, vendors: Iterable[str]) -> list[int]:
    """Ids of the active tickets of these vendors."""
    return [
        row[0]
        for row in conn.execute(
            select(TICKETS.c.id)
            .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
            .where(
                VENDORS.c.name.in_(list(vendors)),
                TICKETS.c.status.in_(("new", "open", "pending")),
            )
        )
    ]


def audit_new_pauses(
    conn: Connection, covered: Iterable[str], windows: dict[str, list[Window]], now: datetime
) -> None:
    """One audit entry per vendor and window the first time a window is seen to pause clocks."""
    for vendor in sorted(covered):
        for start, end in windows.get(vendor, ()):
            detail = f"clocks pause {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC"
            seen = conn.execute(
                select(AUDIT.c.id).where(
                    AUDIT.c.action == "sla paused: vendor maintenance",
                    AUDIT.c.vendor == vendor,
                    AUDIT.c.detail == detail,
                )
            ).first()
            if seen is None:
                audit(
                    conn,
                    SYSTEM,
                    "sla paused: vendor maintenance",
                    now,
                    vendor=vendor,
                    detail=detail,
                )

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

from sqlalchemy import Connection, and_, select

from paneglass.sla import SlaSettings, Window
from paneglass.store.inputs import Actor
from paneglass.store.outbox import audit
from paneglass.store.schema import AUDIT, INCIDENTS, TICKETS, VENDORS

__all__ = ["SYSTEM", "audit_new_pauses", "covered_tickets", "pausing", "windows_for"]

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
    for name, start, until, resolved, status in rows:
        end = resolved or until
        if end is None or end <= start or status.lower() in _CANCELLED:
            continue
        found.setdefault(name, []).append((start, end))
    return found


def covered_tickets(conn: Connection, status_vendor_id: int) -> tuple[list[str], list[int]]:
    """The vendors whose status source is this feed, and their active tickets' ids."""
    source = conn.execute(select(VENDORS.c.name).where(VENDORS.c.id == status_vendor_id)).scalar()
    covered = [
        row[0]
        for row in conn.execute(select(VENDORS.c.name).where(VENDORS.c.status_source == source))
    ]
    if not covered:
        return [], []
    ids = conn.execute(
        select(TICKETS.c.id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(VENDORS.c.name.in_(covered), TICKETS.c.status.in_(("new", "open", "pending")))
    )
    return covered, [row[0] for row in ids]


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

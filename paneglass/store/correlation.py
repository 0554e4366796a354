"""Which tickets a vendor's own published incident may explain.

A vendor names its status feed in config (``status_source``). A ticket of that
vendor opened or still open while one of the feed's incidents (not a planned
maintenance) was open carries that incident: the queue and the ticket screen
mark it "vendor incident", so an operator sees that the vendor already knows.
Read for the tickets on screen only (a window of the queue, one ticket).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, or_, select

from paneglass.store.tables import INCIDENTS, TICKETS, VENDORS

__all__ = ["vendor_incidents"]


def vendor_incidents(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Ticket id → the name of the newest vendor incident it overlapped (only marked ones)."""
    if not ticket_ids:
        return {}
    source = VENDORS.alias("source")
    rows = conn.execute(
        select(TICKETS.c.id, INCIDENTS.c.name)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .join(source, source.c.name == VENDORS.c.status_source)
        .join(
            INCIDENTS,
            and_(INCIDENTS.c.vendor_id == source.c.id, INCIDENTS.c.maintenance.is_(False)),
        )
        .where(
            TICKETS.c.id.in_(list(ticket_ids)),
            or_(INCIDENTS.c.resolved_at.is_(None), TICKETS.c.created_at < INCIDENTS.c.resolved_at),
            or_(TICKETS.c.resolved_at.is_(None), TICKETS.c.resolved_at > INCIDENTS.c.created_at),
            # A ticket closed without a resolution time counts until its last change.
            or_(
                TICKETS.c.status.in_(("new", "open", "pending")),
                TICKETS.c.resolved_at.is_not(None),
                TICKETS.c.updated_at > INCIDENTS.c.created_at,
            ),
        )
        .order_by(INCIDENTS.c.created_at)
    )
    return {int(ticket_id): str(name) for ticket_id, name in rows}

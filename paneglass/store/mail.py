"""Mail items and the tickets they are about.

The IMAP connector turns a thread of mail into a "mail" item of the mailbox
vendor, with ``raw["links"]``: the vendor tickets its subjects name, found by
each vendor's ticket-number pattern (``INC0012231``, ``[#48211]``, …). At
the end of every poll of a mailbox, each recent mail item's links are joined
to the named tickets that the store holds (a ticket link, mail → ticket,
audited once as ``mail joined``): a later poll joins what an earlier one could
not yet find. A mail no pattern matched stays a queue item of its own, which
an operator attaches to a ticket (:func:`attach_mail`, audited) or to a case.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from paneglass.store.cases import add_link
from paneglass.store.inputs import Actor
from paneglass.store.maintenance import SYSTEM
from paneglass.store.outbox import audit
from paneglass.store.tables import LINKS, TICKETS, VENDORS
from paneglass.store.views import MAIL_KIND

__all__ = ["MAIL_KIND", "attach_mail", "join_mail"]

"""The connector kind whose items are mail."""
RECENT = timedelta(days=14)
"""Mail items changed this recently are joined again at each poll (older ones stay as joined)."""


def _linked(conn: Connection, source: tuple[int, str], target: tuple[int, str]) -> bool:
    return (
        conn.execute(
            select(LINKS.c.id).where(
                LINKS.c.from_vendor_id == source[0],
                LINKS.c.from_external_id == source[1],
                LINKS.c.to_vendor_id == target[0],
                LINKS.c.to_external_id == target[1],
            )
        ).first()
        is not None
    )


def join_mail(conn: Connection, mailbox_id: int, now: datetime) -> int:
    """Link this mailbox's recent mail items to the tickets their subjects name; return how
    many new links were made."""
    mailbox = str(conn.execute(select(VENDORS.c.name).where(VENDORS.c.id == mailbox_id)).scalar())
    rows = conn.execute(
        select(TICKETS.c.external_id, TICKETS.c.key, TICKETS.c.raw).where(
            TICKETS.c.vendor_id == mailbox_id,
            TICKETS.c.last_seen_at >= now - RECENT,
            or_(  # orjson writes the payload compact; rows stored before it, with spaces
                TICKETS.c.raw.like('%"links":[{%'),
                TICKETS.c.raw.like('%"links": [{%'),
            ),
        )
    ).all()
    made = 0
    for external_id, key, raw in rows:
        try:
            links = json.loads(raw).get("links") or []
        except (ValueError, AttributeError):
            continue
        for link in links:
            if not isinstance(link, dict):
                continue
            target = conn.execute(
                select(VENDORS.c.id, TICKETS.c.external_id, TICKETS.c.key)
                .join(TICKETS, TICKETS.c.vendor_id == VENDORS.c.id)
                .where(
                    VENDORS.c.name == str(link.get("vendor")),
                    func.lower(TICKETS.c.key) == str(link.get("key", "")).lower(),
                )
            ).first()
            if target is None or _linked(conn, (mailbox_id, external_id), (target[0], target[1])):
                continue
            vendor = str(link["vendor"])
            add_link(
                conn, SYSTEM, now, (mailbox, external_id), (vendor, target[1]), target[2], False
            )
            audit(
                conn,
                SYSTEM,
                "mail joined",
                now,
                vendor=mailbox,
                external_id=external_id,
                ticket_key=key,
                detail=f"to {vendor} {target[2]} (subject names it)",
            )
            made += 1
    return made


def attach_mail(
    conn: Connection,
    actor: Actor,
    now: datetime,
    mail: tuple[str, str, str],
    target: tuple[str, str, str],
) -> bool:
    """An operator attaches a mail item (vendor, external id, key) to a ticket; False when it
    already was."""
    mail_vendor = conn.execute(select(VENDORS.c.id).where(VENDORS.c.name == mail[0])).scalar()
    target_vendor = conn.execute(select(VENDORS.c.id).where(VENDORS.c.name == target[0])).scalar()
    if mail_vendor is None or target_vendor is None:
        return False
    if _linked(conn, (mail_vendor, mail[1]), (target_vendor, target[1])):
        return False
    add_link(conn, actor, now, (mail[0], mail[1]), (target[0], target[1]), target[2], False)
    audit(
        conn,
        actor,
        "mail attached",
        now,
        vendor=mail[0],
        external_id=mail[1],
        ticket_key=mail[2],
        detail=f"to {target[0]} {target[2]}",
    )
    return True

"""Ticket links and cases: how tickets at different vendors become one story.

Links and case members name tickets by (vendor, external id), not by row id,
because a ticket created by a hand-off exists at the vendor before the next
poll brings it into the store; joins pick the row up as soon as it arrives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, case, delete, func, or_, select, update

from paneglass.sla import ClockState, worst
from paneglass.store.inputs import Actor
from paneglass.store.outbox import audit
from paneglass.store.tables import CASES, CLOCKS, LINKS, MEMBERS, TICKETS, VENDORS
from paneglass.store.timeline import StoryTicket, story
from paneglass.store.vendors import vendor_row_id
from paneglass.store.views import (
    CaseDetail,
    CaseMemberView,
    CaseRow,
    LinkView,
    TimelineEntry,
)

__all__ = [
    "add_link",
    "add_member",
    "case_detail",
    "case_rows",
    "cases_of",
    "close_case",
    "create_case",
    "links_of",
    "remove_member",
    "set_mirror",
]

_ACTIVE = ("new", "open", "pending")
_TIMELINE_LIMIT = 500


def add_link(
    conn: Connection,
    actor: Actor,
    now: datetime,
    source: tuple[str, str],
    target: tuple[str, str],
    target_key: str | None,
    mirror_comments: bool,
) -> None:
    """Link a ticket to the one it was handed to (idempotent)."""
    from_id, to_id = vendor_row_id(conn, source[0]), vendor_row_id(conn, target[0])
    exists = conn.execute(
        select(LINKS.c.id).where(
            LINKS.c.from_vendor_id == from_id,
            LINKS.c.from_external_id == source[1],
            LINKS.c.to_vendor_id == to_id,
            LINKS.c.to_external_id == target[1],
        )
    ).first()
    if exists is not None:
        return
    conn.execute(
        LINKS.insert().values(
            from_vendor_id=from_id,
            from_external_id=source[1],
            to_vendor_id=to_id,
            to_external_id=target[1],
            to_key=target_key,
            mirror_comments=mirror_comments,
            created_at=now,
            created_by=actor.user,
        )
    )


def links_of(conn: Connection, vendor: str, external_id: str) -> list[LinkView]:
    """Both directions of every link of one ticket, with the other side's status."""
    vendor_id = vendor_row_id(conn, vendor)
    mine_kind = conn.execute(select(VENDORS.c.kind).where(VENDORS.c.id == vendor_id)).scalar()
    views: list[LinkView] = []
    for mine, theirs, direction in (("from", "to", "to"), ("to", "from", "from")):
        other_vendor = VENDORS.alias("other_vendor")
        stmt = (
            select(
                other_vendor.c.name.label("vendor"),
                other_vendor.c.kind.label("other_kind"),
                LINKS.c[f"{theirs}_external_id"].label("external_id"),
                LINKS.c.to_key,
                LINKS.c.mirror_comments,
                TICKETS.c.id.label("ticket_id"),
                TICKETS.c.key,
                TICKETS.c.status,
            )
            .join(other_vendor, other_vendor.c.id == LINKS.c[f"{theirs}_vendor_id"])
            .outerjoin(
                TICKETS,
                and_(
                    TICKETS.c.vendor_id == LINKS.c[f"{theirs}_vendor_id"],
                    TICKETS.c.external_id == LINKS.c[f"{theirs}_external_id"],
                ),
            )
            .where(
                LINKS.c[f"{mine}_vendor_id"] == vendor_id,
                LINKS.c[f"{mine}_external_id"] == external_id,
            )
            .order_by(LINKS.c.id)
        )
        for row in conn.execute(stmt).mappings():
            key = row["key"] or (row["to_key"] if direction == "to" else None)
            views.append(
                LinkView(
                    vendor=row["vendor"],
                    external_id=row["external_id"],
                    key=key,
                    status=row["status"],
                    ticket_id=row["ticket_id"],
                    mirror_comments=bool(row["mirror_comments"]),
                    direction=direction,
                    mail=(mine_kind if direction == "to" else row["other_kind"]) == "imap",
                )
            )
    return views


def set_mirror(
    conn: Connection,
    actor: Actor,
    now: datetime,
    vendor: str,
    external_id: str,
    mirror: bool,
) -> int:
    """Turn comment mirroring on or off for every link of a ticket; return links changed."""
    vendor_id = vendor_row_id(conn, vendor)
    result = conn.execute(
        update(LINKS)
        .where(
            or_(
                and_(LINKS.c.from_vendor_id == vendor_id, LINKS.c.from_external_id == external_id),
                and_(LINKS.c.to_vendor_id == vendor_id, LINKS.c.to_external_id == external_id),
            )
        )
        .values(mirror_comments=mirror)
    )
    audit(
        conn,
        actor,
        "mirror comments on" if mirror else "mirror comments off",
        now,
        vendor=vendor,
        external_id=external_id,
        ticket_key=_key_of(conn, vendor_id, external_id),
    )
    return int(result.rowcount)


def create_case(conn: Connection, actor: Actor, now: datetime, title: str) -> int:
    """Open a case; return its id."""
    case_id = int(
        conn.execute(
            CASES.insert()
            .values(title=title, created_at=now, created_by=actor.user)
            .returning(CASES.c.id)
        ).scalar_one()
    )
    audit(conn, actor, "case opened", now, case_id=case_id, detail=title)
    return case_id


def add_member(
    conn: Connection,
    actor: Actor,
    now: datetime,
    case_id: int,
    vendor: str,
    external_id: str,
    ticket_key: str | None = None,
) -> bool:
    """Put a ticket in a case; False when it already is."""
    vendor_id = vendor_row_id(conn, vendor)
    if conn.execute(select(CASES.c.id).where(CASES.c.id == case_id)).first() is None:
        raise KeyError(f"there is no case {case_id}")
    exists = conn.execute(
        select(MEMBERS.c.id).where(
            MEMBERS.c.case_id == case_id,
            MEMBERS.c.vendor_id == vendor_id,
            MEMBERS.c.external_id == external_id,
        )
    ).first()
    if exists is not None:
        return False
    key = ticket_key or _key_of(conn, vendor_id, external_id)
    conn.execute(
        MEMBERS.insert().values(
            case_id=case_id,
            vendor_id=vendor_id,
            external_id=external_id,
            ticket_key=key,
            added_at=now,
            added_by=actor.user,
        )
    )
    audit(
        conn,
        actor,
        "case add",
        now,
        vendor=vendor,
        external_id=external_id,
        ticket_key=key,
        case_id=case_id,
        detail=f"added to case {case_id}",
    )
    return True


def remove_member(
    conn: Connection, actor: Actor, now: datetime, case_id: int, vendor: str, external_id: str
) -> bool:
    """Take a ticket out of a case; False when it was not in it."""
    vendor_id = vendor_row_id(conn, vendor)
    result = conn.execute(
        delete(MEMBERS).where(
            MEMBERS.c.case_id == case_id,
            MEMBERS.c.vendor_id == vendor_id,
            MEMBERS.c.external_id == external_id,
        )
    )
    if result.rowcount != 1:
        return False
    audit(
        conn,
        actor,
        "case remove",
        now,
        vendor=vendor,
        external_id=external_id,
        ticket_key=_key_of(conn, vendor_id, external_id),
        case_id=case_id,
        detail=f"removed from case {case_id}",
    )
    return True


def close_case(conn: Connection, actor: Actor, now: datetime, case_id: int) -> bool:
    """Close a case (it leaves the cases pane; its timeline stays in the store)."""
    result = conn.execute(
        update(CASES)
        .where(CASES.c.id == case_id, CASES.c.closed_at.is_(None))
        .values(closed_at=now)
    )
    if result.rowcount != 1:
        return False
    audit(conn, actor, "case closed", now, case_id=case_id)
    return True


def cases_of(conn: Connection, vendor: str, external_id: str) -> list[tuple[int, str]]:
    """(id, title) of the open cases a ticket belongs to."""
    vendor_id = vendor_row_id(conn, vendor)
    rows = conn.execute(
        select(CASES.c.id, CASES.c.title)
        .join(MEMBERS, MEMBERS.c.case_id == CASES.c.id)
        .where(
            MEMBERS.c.vendor_id == vendor_id,
            MEMBERS.c.external_id == external_id,
            CASES.c.closed_at.is_(None),
        )
        .order_by(CASES.c.id)
    )
    return [(int(cid), str(title)) for cid, title in rows]


def case_rows(conn: Connection) -> list[CaseRow]:
    """Every open case with its size, vendors and worst SLA state, worst first."""
    cases = conn.execute(
        select(CASES).where(CASES.c.closed_at.is_(None)).order_by(CASES.c.id.desc())
    ).mappings()
    rows: list[CaseRow] = []
    for found in list(cases):
        members = _members(conn, int(found["id"]))
        rows.append(
            CaseRow(
                id=int(found["id"]),
                title=found["title"],
                members=len(members),
                open_members=sum(1 for m in members if m.status in _ACTIVE),
                vendors=tuple(sorted({m.vendor for m in members})),
                worst_state=worst(m.sla_state for m in members),
                created_at=found["created_at"],
                created_by=found["created_by"],
            )
        )
    rows.sort(key=lambda r: (-r.worst_state.urgency, -r.id))
    return rows


def case_detail(conn: Connection, case_id: int) -> CaseDetail | None:
    """A case's members and its merged timeline (vendor changes and operator actions)."""
    found = conn.execute(select(CASES).where(CASES.c.id == case_id)).mappings().first()
    if found is None:
        return None
    members = _members(conn, case_id)
    return CaseDetail(
        id=case_id,
        title=found["title"],
        worst_state=worst(m.sla_state for m in members),
        created_at=found["created_at"],
        created_by=found["created_by"],
        members=tuple(members),
        timeline=tuple(_timeline(conn, case_id, members)),
    )


def _members(conn: Connection, case_id: int) -> list[CaseMemberView]:
    rank = case(
        (CLOCKS.c.state == ClockState.BREACHED, ClockState.BREACHED.urgency),
        (CLOCKS.c.state == ClockState.NEAR_BREACH, ClockState.NEAR_BREACH.urgency),
        (CLOCKS.c.state == ClockState.AT_RISK, ClockState.AT_RISK.urgency),
        else_=ClockState.OK.urgency,
    )
    worst = (
        select(func.max(rank))
        .where(CLOCKS.c.ticket_id == TICKETS.c.id, CLOCKS.c.stopped_at.is_(None))
        .scalar_subquery()
    )
    stmt = (
        select(
            VENDORS.c.name.label("vendor"),
            MEMBERS.c.external_id,
            MEMBERS.c.ticket_key,
            TICKETS.c.id.label("ticket_id"),
            TICKETS.c.key,
            TICKETS.c.title,
            TICKETS.c.status,
            TICKETS.c.priority,
            worst.label("worst"),
        )
        .join(VENDORS, VENDORS.c.id == MEMBERS.c.vendor_id)
        .outerjoin(
            TICKETS,
            and_(
                TICKETS.c.vendor_id == MEMBERS.c.vendor_id,
                TICKETS.c.external_id == MEMBERS.c.external_id,
            ),
        )
        .where(MEMBERS.c.case_id == case_id)
        .order_by(MEMBERS.c.id)
    )
    by_urgency = {state.urgency: state for state in ClockState if state.urgency}
    return [
        CaseMemberView(
            vendor=row["vendor"],
            external_id=row["external_id"],
            key=row["key"] or row["ticket_key"],
            ticket_id=row["ticket_id"],
            title=row["title"],
            status=row["status"],
            priority=row["priority"],
            sla_state=by_urgency.get(row["worst"] or 0, ClockState.NONE),
        )
        for row in conn.execute(stmt).mappings()
    ]


def _timeline(conn: Connection, case_id: int, members: list[CaseMemberView]) -> list[TimelineEntry]:
    tickets = [StoryTicket(m.ticket_id, m.vendor, m.external_id, m.key) for m in members]
    items, _omitted = story(conn, tickets, case_id=case_id, limit=_TIMELINE_LIMIT)
    return items


def _key_of(conn: Connection, vendor_id: int, external_id: str) -> str | None:
    found = conn.execute(
        select(TICKETS.c.key).where(
            TICKETS.c.vendor_id == vendor_id, TICKETS.c.external_id == external_id
        )
    ).scalar()
    return str(found) if found is not None else None

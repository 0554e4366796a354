"""Every read the UI and the export need, paged and index-backed.

Queries return the frozen views of :mod:`paneglass.store.views`; the UI never
builds SQL and never holds more tickets than it shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, not_, or_, select, true

from paneglass.sla import ClockState
from paneglass.store.correlation import vendor_incidents
from paneglass.store.filter import SortKey, Term, TicketQuery
from paneglass.store.search import (
    Plan,
    SearchWord,
    count_matching,
    matches_for,
    search_word,
    words_condition,
)
from paneglass.store.tables import (
    CLOCKS,
    COMPONENTS,
    EVENTS,
    INCIDENTS,
    RUNS,
    STATUS,
    TICKETS,
    VENDORS,
)
from paneglass.store.timeline import StoryTicket, story
from paneglass.store.views import (
    ClockView,
    ComponentView,
    EventView,
    Headline,
    IncidentView,
    SlaRow,
    TicketDetail,
    TicketRow,
    VendorHealth,
)

__all__ = [
    "find_tickets",
    "headline",
    "iter_clocks",
    "iter_events",
    "iter_tickets",
    "sla_counts",
    "sla_rows",
    "ticket_count",
    "ticket_detail",
    "ticket_window",
    "vendor_health",
]

_ACTIVE = ("new", "open", "pending")
_SORT_COLUMNS = {
    SortKey.UPDATED: TICKETS.c.updated_at,
    SortKey.CREATED: TICKETS.c.created_at,
    SortKey.PRIORITY: TICKETS.c.priority,
    SortKey.STATUS: TICKETS.c.status,
    SortKey.VENDOR: TICKETS.c.vendor_id,  # config order: index-backed, unlike sorting by name
    SortKey.KEY: TICKETS.c.key,
    SortKey.TITLE: TICKETS.c.title,
    SortKey.ASSIGNEE: TICKETS.c.assignee,
}
_NULLABLE_SORTS = {SortKey.PRIORITY, SortKey.ASSIGNEE}


_TEXT_COLUMNS = ("key", "title", "requester", "assignee")
_REGEX_COLUMNS = (*_TEXT_COLUMNS, "description")
_SUBSTRING_COLUMNS = {
    "assignee": "assignee",
    "requester": "requester",
    "group": "group_name",
    "asset": "asset",
    "key": "key",
}


def _text(column: str) -> Any:
    return func.coalesce(TICKETS.c[column], "")


def _term_condition(term: Term, dialect: str) -> Any:
    """One parsed filter term as a SQL condition (never negated here)."""
    values = term.values
    if term.field == "text":
        word = search_word(values[0])
        if word is not None:  # the full-text indexes: titles, descriptions, conversations
            return words_condition(dialect, [word])
        return or_(*(_text(c).icontains(values[0], autoescape=True) for c in _TEXT_COLUMNS))
    if term.field == "regex":
        pattern = f"(?i){values[0]}"  # embedded flag: understood by Python re and PostgreSQL
        return or_(*(_text(c).regexp_match(pattern) for c in _REGEX_COLUMNS))
    if term.field in ("vendor", "kind"):
        vendor_column = VENDORS.c.name if term.field == "vendor" else VENDORS.c.kind
        matching = select(VENDORS.c.id).where(func.lower(vendor_column).in_(values))
        return TICKETS.c.vendor_id.in_(matching)
    if term.field == "status":
        return TICKETS.c.status.in_(values)
    if term.field == "priority":
        return TICKETS.c.priority.in_(values)
    if term.field == "sla":
        running = select(CLOCKS.c.ticket_id).where(CLOCKS.c.stopped_at.is_(None))
        parts = []
        for value in values:
            if value == "none":
                parts.append(TICKETS.c.id.not_in(running))
            elif value == "paused":
                parts.append(TICKETS.c.id.in_(running.where(CLOCKS.c.paused)))
            elif value == "at_risk":  # at risk or nearer: past the first threshold
                alarmed = CLOCKS.c.state.in_(("at_risk", "near_breach"))
                parts.append(TICKETS.c.id.in_(running.where(alarmed)))
            else:
                parts.append(TICKETS.c.id.in_(running.where(CLOCKS.c.state == value)))
        return or_(*parts)
    column = _SUBSTRING_COLUMNS[term.field]
    return or_(*(_text(column).icontains(v, autoescape=True) for v in values))


def _filtered(
    stmt: Select[Any], query: TicketQuery, dialect: str, *, plan: Plan = Plan.MATCHES_FIRST
) -> Select[Any]:
    if query.active_only:
        stmt = stmt.where(TICKETS.c.status.in_(_ACTIVE))
    for column, value in query.exact:
        stmt = stmt.where(TICKETS.c[column] == value)
    words = _searched_words(query)
    if words:  # every free word in one full-text condition (SQLite: one MATCH)
        stmt = stmt.where(words_condition(dialect, words, plan))
    for term in query.terms:
        if term.field == "text" and not term.negated and search_word(term.values[0]):
            continue
        condition = _term_condition(term, dialect)
        stmt = stmt.where(not_(condition) if term.negated else condition)
    return stmt


def _words_only(query: TicketQuery) -> bool:
    """Nothing but free words: the full-text index alone can count the tickets."""
    return (
        not query.active_only
        and not query.exact
        and all(
            t.field == "text" and not t.negated and search_word(t.values[0]) for t in query.terms
        )
    )


def ticket_count(conn: Connection, query: TicketQuery) -> int:
    """How many tickets match the query."""
    if _words_only(query):
        counted = count_matching(conn, _searched_words(query))
        if counted is not None:
            return counted
    stmt = _filtered(select(func.count()).select_from(TICKETS), query, conn.dialect.name)
    return int(conn.execute(stmt).scalar_one())


LIST_WALK_LIMIT = 100_000
"""Most index entries a window may walk testing each ticket against the list of matches."""
PROBE_SHARE = 0.9
"""Share of all tickets the words must match before each ticket is asked about in turn."""


def search_plan(conn: Connection, query: TicketQuery, rows: int, total: int | None) -> Plan:
    """How the window should find the tickets holding the free words (see :class:`Plan`).

    Walking the sort order reaches the first ``rows`` matches after about
    ``rows * tickets / total`` tickets; collecting and sorting every match of a
    common word took 200-1,000 ms at a million tickets, a walk of a few
    thousand entries takes a few. A rare word would make the walk long, so it
    keeps the match-first plan.
    """
    if conn.dialect.name != "sqlite" or not total or not _searched_words(query):
        return Plan.MATCHES_FIRST
    tickets = conn.execute(select(func.max(TICKETS.c.id))).scalar() or 0
    if total >= PROBE_SHARE * tickets:
        return Plan.PROBE_WALK
    if rows * tickets <= LIST_WALK_LIMIT * total:
        return Plan.LIST_WALK
    return Plan.MATCHES_FIRST


def ticket_window(
    conn: Connection, query: TicketQuery, offset: int, limit: int, total: int | None = None
) -> list[TicketRow]:
    """The rows ``offset .. offset+limit`` of the query, in its sort order.

    Each sort order walks its own index. Past the middle of a known ``total``
    the window is read from the other end of the index (and flipped), so the
    offset SQLite must skip never exceeds half the table.
    """
    offset = max(offset, 0)
    descending = query.descending
    flipped = total is not None and offset > total // 2
    if flipped:
        assert total is not None
        end = min(offset + limit, total)
        offset, limit = total - end, max(end - offset, 0)
        descending = not descending
    column = _SORT_COLUMNS[query.sort]
    order = column.desc() if descending else column.asc()
    if query.sort in _NULLABLE_SORTS:  # tickets without a value always come last
        order = order.nulls_first() if flipped else order.nulls_last()
    tiebreak = TICKETS.c.id.desc() if descending else TICKETS.c.id.asc()
    # Skip the offset on the sort index alone (ids only, no row lookups), then fetch the rows.
    page = _filtered(
        select(TICKETS.c.id).order_by(order, tiebreak).offset(offset).limit(limit),
        query,
        conn.dialect.name,
        plan=search_plan(conn, query, offset + limit, total),
    ).subquery()
    stmt = (
        select(
            TICKETS.c.id,
            VENDORS.c.name.label("vendor"),
            TICKETS.c.key,
            TICKETS.c.priority,
            TICKETS.c.status,
            TICKETS.c.title,
            TICKETS.c.assignee,
            TICKETS.c.requester,
            TICKETS.c.created_at,
            TICKETS.c.updated_at,
        )
        .join(page, page.c.id == TICKETS.c.id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .order_by(order, tiebreak)
    )
    rows = list(conn.execute(stmt).all())
    if flipped:
        rows.reverse()
    states = _worst_states(conn, [row[0] for row in rows])
    incidents = vendor_incidents(conn, [row[0] for row in rows])
    found = matches_for(conn, _searched_words(query), rows)
    return [
        TicketRow(
            **row._mapping,
            sla_state=states.get(row.id, ClockState.NONE),
            vendor_incident=incidents.get(row.id),
            match=found.get(row.id),
        )
        for row in rows
    ]


def _searched_words(query: TicketQuery) -> list[SearchWord]:
    """The free words a ticket must hold (negated ones say nothing about where it matched)."""
    words = (search_word(t.values[0]) for t in query.terms if t.field == "text" and not t.negated)
    return [word for word in words if word is not None]


def _worst_states(conn: Connection, ids: list[int]) -> dict[int, ClockState]:
    if not ids:
        return {}
    rank = case(
        (CLOCKS.c.state == ClockState.BREACHED, 3),
        (CLOCKS.c.state == ClockState.NEAR_BREACH, 2),
        (CLOCKS.c.state == ClockState.AT_RISK, 1),
        else_=0,
    )
    rows = conn.execute(
        select(CLOCKS.c.ticket_id, func.max(rank))
        .where(CLOCKS.c.ticket_id.in_(ids), CLOCKS.c.stopped_at.is_(None))
        .group_by(CLOCKS.c.ticket_id)
    )
    names = {
        3: ClockState.BREACHED,
        2: ClockState.NEAR_BREACH,
        1: ClockState.AT_RISK,
        0: ClockState.OK,
    }
    return {tid: names[int(worst)] for tid, worst in rows}


def ticket_detail(conn: Connection, ticket_id: int) -> TicketDetail | None:
    """One ticket with its event history (oldest first) and clocks."""
    row = (
        conn.execute(
            select(TICKETS, VENDORS.c.name.label("vendor_name"), VENDORS.c.kind)
            .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
            .where(TICKETS.c.id == ticket_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    events = tuple(
        EventView(*event)
        for event in conn.execute(
            select(
                EVENTS.c.field_name,
                EVENTS.c.old_value,
                EVENTS.c.new_value,
                EVENTS.c.seen_at,
                EVENTS.c.vendor_time,
            )
            .where(EVENTS.c.ticket_id == ticket_id)
            .order_by(EVENTS.c.id)
        )
    )
    clocks = tuple(
        ClockView(**{**clock._mapping, "state": ClockState(clock.state)})
        for clock in conn.execute(
            select(
                CLOCKS.c.metric,
                CLOCKS.c.cycle,
                CLOCKS.c.policy,
                CLOCKS.c.state,
                CLOCKS.c.target_seconds,
                CLOCKS.c.elapsed_seconds,
                CLOCKS.c.paused,
                CLOCKS.c.due_at,
                CLOCKS.c.breach_at,
                CLOCKS.c.stopped_at,
                CLOCKS.c.near_breach_at,
                CLOCKS.c.started_at,
                CLOCKS.c.pause_reason,
            )
            .where(CLOCKS.c.ticket_id == ticket_id)
            .order_by(CLOCKS.c.metric.desc(), CLOCKS.c.cycle)
        )
    )
    timeline, omitted = story(
        conn, [StoryTicket(row["id"], row["vendor_name"], row["external_id"], row["key"])]
    )
    return TicketDetail(
        description=row["description"],
        timeline=tuple(timeline),
        timeline_omitted=omitted,
        id=row["id"],
        vendor=row["vendor_name"],
        kind=row["kind"],
        external_id=row["external_id"],
        key=row["key"],
        title=row["title"],
        status=row["status"],
        raw_status=row["raw_status"],
        priority=row["priority"],
        raw_priority=row["raw_priority"],
        assignee=row["assignee"],
        group_name=row["group_name"],
        requester=row["requester"],
        asset=row["asset"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        first_response_at=row["first_response_at"],
        vendor_due_at=row["vendor_due_at"],
        vendor_breached=row["vendor_breached"],
        url=row["url"],
        raw=row["raw"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
        events=events,
        clocks=clocks,
        vendor_incident=vendor_incidents(conn, [ticket_id]).get(ticket_id),
    )


def sla_rows(
    conn: Connection,
    now: datetime,
    limit: int = 500,
    vendor: str | None = None,
    priority: str | None = None,
) -> list[SlaRow]:
    """Running clocks that are breached or at risk: breached first, then soonest due.

    One row per ticket (its most urgent clock), optionally for one vendor or priority.
    """
    urgent = or_(
        CLOCKS.c.state.in_(("breached", "near_breach", "at_risk")), CLOCKS.c.at_risk_at <= now
    )
    breached_first = case((CLOCKS.c.state == "breached", 0), (CLOCKS.c.due_at <= now, 0), else_=1)
    stmt = (
        select(
            TICKETS.c.id.label("ticket_id"),
            VENDORS.c.name.label("vendor"),
            TICKETS.c.key,
            TICKETS.c.priority,
            TICKETS.c.title,
            CLOCKS.c.metric,
            CLOCKS.c.state,
            CLOCKS.c.due_at,
            CLOCKS.c.breach_at,
            CLOCKS.c.paused,
            TICKETS.c.vendor_due_at,
            TICKETS.c.vendor_breached,
            CLOCKS.c.near_breach_at,
        )
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(
            CLOCKS.c.stopped_at.is_(None),
            urgent,
            VENDORS.c.name == vendor if vendor else true(),
            TICKETS.c.priority == priority if priority else true(),
        )
        .order_by(
            breached_first, func.coalesce(CLOCKS.c.breach_at, CLOCKS.c.due_at).asc().nulls_last()
        )
        .limit(limit * 2)
    )
    rows: dict[int, SlaRow] = {}
    for row in conn.execute(stmt):  # one row per ticket: its most urgent clock
        rows.setdefault(row.ticket_id, SlaRow(**{**row._mapping, "state": ClockState(row.state)}))
    return list(rows.values())[:limit]


def sla_counts(conn: Connection, now: datetime) -> dict[str, tuple[int, int]]:
    """Per vendor: (tickets breached, tickets at risk) among running clocks."""
    worst = _worst_running(now)
    rows = conn.execute(
        select(
            VENDORS.c.name,
            func.count(case((worst.c.worst == 2, 1))),
            func.count(case((worst.c.worst == 1, 1))),
        )
        .select_from(worst)
        .join(TICKETS, TICKETS.c.id == worst.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .group_by(VENDORS.c.name)
        .order_by(VENDORS.c.name)
    )
    return {name: (int(b), int(r)) for name, b, r in rows if b or r}


def _worst_running(now: datetime) -> Any:
    """Subquery: each ticket's worst running clock (2 breached, 1 at risk, 0 ok)."""
    rank = case(
        (or_(CLOCKS.c.state == "breached", CLOCKS.c.due_at <= now), 2),
        (
            or_(CLOCKS.c.state.in_(("at_risk", "near_breach")), CLOCKS.c.at_risk_at <= now),
            1,
        ),
        else_=0,
    )
    return (
        select(CLOCKS.c.ticket_id, func.max(rank).label("worst"))
        .where(CLOCKS.c.stopped_at.is_(None))
        .group_by(CLOCKS.c.ticket_id)
        .subquery()
    )


def headline(conn: Connection, now: datetime) -> Headline:
    """The header counters."""
    worst = _worst_running(now)
    breached, at_risk = conn.execute(
        select(func.count(case((worst.c.worst == 2, 1))), func.count(case((worst.c.worst == 1, 1))))
    ).one()
    open_tickets, open_p1 = conn.execute(
        select(func.count(), func.count(case((TICKETS.c.priority == "P1", 1)))).where(
            TICKETS.c.status.in_(_ACTIVE)
        )
    ).one()
    last_ok = conn.execute(select(func.max(RUNS.c.finished_at)).where(RUNS.c.ok.is_(True))).scalar()
    return Headline(
        breached=int(breached or 0),
        at_risk=int(at_risk or 0),
        open_tickets=int(open_tickets),
        open_p1=int(open_p1 or 0),
        last_ok_at=last_ok,
    )


def vendor_health(conn: Connection) -> list[VendorHealth]:
    """Every configured vendor's poll health and published status, in name order."""
    result = []
    vendors = conn.execute(
        select(
            VENDORS.c.id,
            VENDORS.c.name,
            VENDORS.c.kind,
            VENDORS.c.poll_interval,
            VENDORS.c.enabled,
            VENDORS.c.stale_after,
            VENDORS.c.last_page_at,
            VENDORS.c.sync_phase,
            VENDORS.c.sync_done,
            VENDORS.c.sync_total,
        ).order_by(VENDORS.c.name)
    ).all()
    open_counts: dict[int, int] = dict(
        conn.execute(
            select(TICKETS.c.vendor_id, func.count())
            .where(TICKETS.c.status.in_(_ACTIVE))
            .group_by(TICKETS.c.vendor_id)
        ).all()
    )
    for (
        vendor_id,
        name,
        kind,
        interval,
        enabled,
        stale_after,
        last_page_at,
        sync_phase,
        sync_done,
        sync_total,
    ) in vendors:
        runs = conn.execute(
            select(
                RUNS.c.ok,
                RUNS.c.finished_at,
                RUNS.c.error_kind,
                RUNS.c.error_message,
                RUNS.c.duration_ms,
            )
            .where(RUNS.c.vendor_id == vendor_id)
            .order_by(RUNS.c.id.desc())
            .limit(20)
        ).all()
        last_ok_at = conn.execute(
            select(func.max(RUNS.c.finished_at)).where(
                and_(RUNS.c.vendor_id == vendor_id, RUNS.c.ok.is_(True))
            )
        ).scalar()
        failures = 0
        for run in runs:
            if run.ok:
                break
            failures += 1
        last = runs[0] if runs else None
        last_error = next((run for run in runs if not run.ok), None)
        status = conn.execute(
            select(STATUS.c.indicator, STATUS.c.description).where(STATUS.c.vendor_id == vendor_id)
        ).first()
        components = tuple(
            ComponentView(*c)
            for c in conn.execute(
                select(COMPONENTS.c.name, COMPONENTS.c.state, COMPONENTS.c.group_name)
                .where(COMPONENTS.c.vendor_id == vendor_id, COMPONENTS.c.state != "operational")
                .order_by(COMPONENTS.c.position, COMPONENTS.c.name)
            )
        )
        incidents = tuple(
            IncidentView(*i)
            for i in conn.execute(
                select(
                    INCIDENTS.c.name,
                    INCIDENTS.c.status,
                    INCIDENTS.c.impact,
                    INCIDENTS.c.updated_at,
                    INCIDENTS.c.latest_update,
                    INCIDENTS.c.maintenance,
                    INCIDENTS.c.scheduled_for,
                    INCIDENTS.c.scheduled_until,
                )
                .where(INCIDENTS.c.vendor_id == vendor_id, INCIDENTS.c.active.is_(True))
                .order_by(INCIDENTS.c.updated_at.desc())
            )
        )
        result.append(
            VendorHealth(
                name=name,
                kind=kind,
                poll_interval=interval,
                enabled=enabled,
                stale_after=stale_after,
                last_run_at=last.finished_at if last else None,
                last_ok_at=last_ok_at,
                last_ok=last.ok if last else None,
                last_error_kind=last_error.error_kind if last_error and not last.ok else None,  # type: ignore[union-attr]
                last_error_message=(
                    last_error.error_message if last_error and not last.ok else None  # type: ignore[union-attr]
                ),
                last_duration_ms=last.duration_ms if last else None,
                consecutive_failures=failures,
                open_tickets=int(open_counts.get(vendor_id, 0)),
                indicator=status[0] if status else None,
                status_description=status[1] if status else None,
                components=components,
                incidents=incidents,
                last_page_at=last_page_at,
                sync_phase=sync_phase,
                sync_done=sync_done,
                sync_total=sync_total,
            )
        )
    return result


def find_tickets(conn: Connection, key: str, limit: int = 10) -> list[tuple[int, str, str, str]]:
    """(id, vendor, key, title) of tickets whose key is ``key``, then those starting with it."""
    text = key.strip().lower()
    if not text:
        return []
    lowered = func.lower(TICKETS.c.key)
    rows = conn.execute(
        select(TICKETS.c.id, VENDORS.c.name, TICKETS.c.key, TICKETS.c.title)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(or_(lowered == text, lowered.startswith(text, autoescape=True)))
        .order_by(case((lowered == text, 0), else_=1), TICKETS.c.key)
        .limit(limit)
    ).all()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def iter_tickets(conn: Connection, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every ticket for export, in (vendor, key) order, a batch at a time."""
    last_id = 0
    while True:
        rows = (
            conn.execute(
                select(TICKETS, VENDORS.c.name.label("vendor_name"), VENDORS.c.kind)
                .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
                .where(TICKETS.c.id > last_id)
                .order_by(TICKETS.c.id)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last_id = rows[-1]["id"]


def iter_events(conn: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every ticket event for export, oldest first."""
    last_id = 0
    while True:
        rows = (
            conn.execute(
                select(
                    EVENTS.c.id,
                    VENDORS.c.name.label("vendor"),
                    TICKETS.c.key,
                    TICKETS.c.external_id,
                    EVENTS.c.field_name,
                    EVENTS.c.old_value,
                    EVENTS.c.new_value,
                    EVENTS.c.vendor_time,
                    EVENTS.c.seen_at,
                )
                .join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id)
                .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
                .where(EVENTS.c.id > last_id)
                .order_by(EVENTS.c.id)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last_id = rows[-1]["id"]


def iter_clocks(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every contract clock for export, by vendor and key."""
    rows = conn.execute(
        select(
            VENDORS.c.name.label("vendor"),
            TICKETS.c.key,
            TICKETS.c.external_id,
            TICKETS.c.priority,
            CLOCKS.c.metric,
            CLOCKS.c.policy,
            CLOCKS.c.state,
            CLOCKS.c.target_seconds,
            CLOCKS.c.elapsed_seconds,
            CLOCKS.c.paused,
            CLOCKS.c.due_at,
            CLOCKS.c.breach_at,
            CLOCKS.c.stopped_at,
            TICKETS.c.vendor_due_at,
            TICKETS.c.vendor_breached,
        )
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .order_by(VENDORS.c.name, TICKETS.c.key, CLOCKS.c.metric)
        .execution_options(yield_per=2000)
    ).mappings()
    yield from (dict(row) for row in rows)

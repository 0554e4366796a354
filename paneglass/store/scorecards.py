"""Vendor scorecards as SQL aggregates: one statement per family of figures, every period at once.

Periods arrive as a list of ``[start, end)`` instants and become a small
derived table ``p(i, s, e)`` joined by range to indexed columns, so twelve
months cost about what one does: nothing is loaded ticket by ticket into
Python. Business time is not recomputed here: every contract clock stores its
elapsed working time in its policy's calendar (pauses excluded), computed by
the SLA engine when the ticket changed.

Each figure is defined in one sentence in the README ("Scorecards"); the
comments below name the sentence each query implements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    case,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)

from paneglass.store.column_types import DONE_CHANGES, UTCDateTime
from paneglass.store.metric_views import AGE_BUCKETS, ScorecardRow, Spread
from paneglass.store.sql_time import greatest, least, seconds_between
from paneglass.store.tables import CLOCKS, EVENTS, INCIDENTS, LINKS, TICKETS, VENDORS

__all__ = ["ACTIVE", "DONE", "scorecards"]

ACTIVE = ("new", "open", "pending")
DONE = ("resolved", "closed")

_STATUS_EVENTS = EVENTS.c.field_name.in_([literal_column("'created'"), literal_column("'status'")])
"""Written with constants, as the partial index ``ix_event_status_time`` is: SQLite uses a
partial index only when the query repeats its condition literally (not as parameters)."""


def _when(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _periods(periods: Sequence[tuple[datetime, datetime]]) -> Any:
    """The periods as a derived table ``p(i, s, e)``."""
    rows = [
        select(literal(i, Integer()).label("i"), _when(start).label("s"), _when(end).label("e"))
        for i, (start, end) in enumerate(periods)
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("p")


Figures = dict[tuple[int, int], dict[str, Any]]
"""Per (period index, vendor id), the figures found so far."""

PARALLEL_READS = 2
"""Families of figures computed at once, each on its own connection (the database answers
them side by side: a million-ticket month took the sum of six queries, now about the longest)."""


def scorecards(
    connect: Callable[[], AbstractContextManager[Connection]],
    periods: Sequence[tuple[datetime, datetime]],
    now: datetime,
    *,
    status_pages: Mapping[str, Sequence[str]] | None = None,
    backlog_periods: Sequence[int] = (),
) -> list[ScorecardRow]:
    """Every ticketing vendor's figures for each period, in vendor-name order per period.

    ``connect`` opens a reading connection; each family of figures runs on its
    own, ``PARALLEL_READS`` at a time. ``status_pages`` names, per ticketing
    vendor, the vendors whose published incidents are its own (for SLA credit
    evidence); ``backlog_periods`` are the indexes of the periods whose
    end-of-period backlog is wanted (it reads every status change after the
    period's end, so the trend leaves it out).
    """
    if not periods:
        return []
    with connect() as conn:
        names = dict(conn.execute(select(VENDORS.c.id, VENDORS.c.name)).all())
        vendor_ids = conn.execute(select(TICKETS.c.vendor_id).distinct()).all()
    ticketing = {vid for (vid,) in vendor_ids if vid in names}
    ticketing |= {vid for vid, name in names.items() if status_pages and name in status_pages}
    p = _periods(periods)
    families: list[Callable[[Connection, Figures], None]] = [  # the longest first
        lambda conn, f: _speed(conn, p, f),
        lambda conn, f: _decided(conn, p, now, f),
        lambda conn, f: _volume(conn, p, f),
        lambda conn, f: _handoffs(conn, p, f),
    ]
    if status_pages:
        by_name = {name: vid for vid, name in names.items()}
        pages = status_pages
        families.append(lambda conn, f: _credit(conn, periods, now, pages, by_name, f))
    families += [partial(_backlog, index=i, at=periods[i][1]) for i in backlog_periods]

    def run(family: Callable[[Connection, Figures], None]) -> Figures:
        found: Figures = defaultdict(dict)
        with connect() as conn:
            family(conn, found)
        return found

    figures: Figures = defaultdict(dict)
    with ThreadPoolExecutor(PARALLEL_READS, thread_name_prefix="scorecard") as pool:
        for found in pool.map(run, families):
            for key, values in found.items():
                figures[key].update(values)
    empty_backlog = {"backlog": 0, "backlog_ages": (0,) * len(AGE_BUCKETS)}
    return [
        ScorecardRow(
            vendor=names[vid],
            period=index,
            **{**(empty_backlog if index in backlog_periods else {}), **figures[(index, vid)]},
        )
        for index in range(len(periods))
        for vid in sorted(ticketing, key=lambda v: names[v])
    ]


def _volume(conn: Connection, p: Any, figures: dict[tuple[int, int], dict[str, Any]]) -> None:
    """Opened (created in the period); resolved and re-opened (status changes in the period)."""
    opened = conn.execute(
        select(p.c.i, TICKETS.c.vendor_id, func.count())
        .select_from(p)
        .join(TICKETS, and_(TICKETS.c.created_at >= p.c.s, TICKETS.c.created_at < p.c.e))
        .group_by(p.c.i, TICKETS.c.vendor_id)
    )
    for i, vid, count in opened:
        figures[(i, vid)]["opened"] = int(count)
    into_done = or_(
        and_(EVENTS.c.field_name == "created", EVENTS.c.new_value.in_(DONE)),
        and_(
            EVENTS.c.field_name == "status",
            EVENTS.c.new_value.in_(DONE),
            or_(EVENTS.c.old_value.is_(None), EVENTS.c.old_value.not_in(DONE)),
        ),
    )
    reopened = and_(
        EVENTS.c.field_name == "status",
        EVENTS.c.old_value.in_(DONE),
        EVENTS.c.new_value.in_(ACTIVE),
    )
    changes = conn.execute(
        select(
            p.c.i,
            TICKETS.c.vendor_id,
            func.count(case((into_done, 1))),
            func.count(case((reopened, 1))),
        )
        .select_from(p)
        .join(
            EVENTS,
            and_(
                text(DONE_CHANGES),  # the partial index's own words: read from it alone
                EVENTS.c.vendor_time >= p.c.s,
                EVENTS.c.vendor_time < p.c.e,
            ),
        )
        .join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id)
        .group_by(p.c.i, TICKETS.c.vendor_id)
    )
    for i, vid, resolved, again in changes:
        figures[(i, vid)]["resolved"] = int(resolved)
        figures[(i, vid)]["reopened"] = int(again)


def _speed(conn: Connection, p: Any, figures: dict[tuple[int, int], dict[str, Any]]) -> None:
    """MTTA / MTTR: median and p90 (nearest rank) of clocks stopped in the period."""
    wall = seconds_between(CLOCKS.c.stopped_at, CLOCKS.c.started_at)
    stopped = (
        select(
            p.c.i,
            TICKETS.c.vendor_id,
            CLOCKS.c.metric,
            CLOCKS.c.elapsed_seconds.label("business"),
            wall.label("wall"),
        )
        .select_from(p)
        .join(CLOCKS, and_(CLOCKS.c.stopped_at >= p.c.s, CLOCKS.c.stopped_at < p.c.e))
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .subquery("stopped")
    )
    group = (stopped.c.i, stopped.c.vendor_id, stopped.c.metric)
    ranked = select(
        *group,
        stopped.c.business,
        stopped.c.wall,
        func.row_number().over(partition_by=group, order_by=stopped.c.business).label("rb"),
        func.row_number().over(partition_by=group, order_by=stopped.c.wall).label("rw"),
        func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")
    r = ranked.c

    def rank_at(rank: Any, value: Any, share: tuple[int, int]) -> Any:
        """The value at nearest rank ceil(n * share): the smallest one ranked at or past it."""
        part, whole = share
        return func.min(case((rank * whole >= r.n * part, value)))

    rows = conn.execute(
        select(
            r.i,
            r.vendor_id,
            r.metric,
            func.count(),
            rank_at(r.rb, r.business, (1, 2)),
            rank_at(r.rb, r.business, (9, 10)),
            rank_at(r.rw, r.wall, (1, 2)),
            rank_at(r.rw, r.wall, (9, 10)),
        ).group_by(r.i, r.vendor_id, r.metric)
    )
    for i, vid, metric, count, b50, b90, w50, w90 in rows:
        spread = Spread(int(count), _num(b50), _num(b90), _num(w50), _num(w90))
        figures[(i, vid)]["mtta" if metric == "response" else "mttr"] = spread


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _decided(
    conn: Connection, p: Any, now: datetime, figures: dict[tuple[int, int], dict[str, Any]]
) -> None:
    """SLA met %, the vendor's own claim and disagreement, over clocks decided in the period.

    A clock is decided when it stopped within its target (met) or when it
    breached; each is counted once, in the period of that moment.
    """
    met = (
        select(
            p.c.i, CLOCKS.c.ticket_id, CLOCKS.c.metric, CLOCKS.c.stopped_at, literal(0).label("b")
        )
        .select_from(p)
        .join(
            CLOCKS,
            and_(
                CLOCKS.c.stopped_at >= p.c.s,
                CLOCKS.c.stopped_at < p.c.e,
                CLOCKS.c.state == "met",
            ),
        )
    )
    breached = (
        select(
            p.c.i, CLOCKS.c.ticket_id, CLOCKS.c.metric, CLOCKS.c.stopped_at, literal(1).label("b")
        )
        .select_from(p)
        .join(
            CLOCKS,
            and_(
                CLOCKS.c.breach_at >= p.c.s,
                CLOCKS.c.breach_at < p.c.e,
                CLOCKS.c.state != "met",
            ),
        )
    )
    d = union_all(met, breached).subquery("decided")
    # The vendor's word: its breach flag, else whether its own due time passed before the stop.
    vendor_breached = case(
        (TICKETS.c.vendor_breached.is_not(None), TICKETS.c.vendor_breached),
        (
            TICKETS.c.vendor_due_at.is_not(None),
            func.coalesce(d.c.stopped_at, _when(now)) > TICKETS.c.vendor_due_at,
        ),
        else_=None,
    )
    word = case((vendor_breached.is_(None), None), (vendor_breached, 1), else_=0)
    resolution = d.c.metric == "resolution"
    rows = conn.execute(
        select(
            d.c.i,
            TICKETS.c.vendor_id,
            d.c.metric,
            func.count(),
            func.count(case((d.c.b == 0, 1))),
            func.count(case((and_(resolution, word.is_not(None)), 1))),
            func.count(case((and_(resolution, word == 0), 1))),
            func.count(case((and_(resolution, word.is_not(None), word != d.c.b), 1))),
        )
        .select_from(d)
        .join(TICKETS, TICKETS.c.id == d.c.ticket_id)
        .group_by(d.c.i, TICKETS.c.vendor_id, d.c.metric)
    )
    for i, vid, metric, decided, met_count, claims, claim_met, disagreed in rows:
        f = figures[(i, vid)]
        f[f"{metric}_decided"] = int(decided)
        f[f"{metric}_met"] = int(met_count)
        if metric == "resolution":
            f["vendor_claim_total"] = int(claims)
            f["vendor_claim_met"] = int(claim_met)
            f["compared"] = int(claims)
            f["disagreed"] = int(disagreed)


def _handoffs(conn: Connection, p: Any, figures: dict[tuple[int, int], dict[str, Any]]) -> None:
    """Hand-offs sent (linked from this vendor's ticket) and received (to it), by link time."""
    for column, name in ((LINKS.c.from_vendor_id, "sent"), (LINKS.c.to_vendor_id, "received")):
        rows = conn.execute(
            select(p.c.i, column, func.count())
            .select_from(p)
            .join(LINKS, and_(LINKS.c.created_at >= p.c.s, LINKS.c.created_at < p.c.e))
            .group_by(p.c.i, column)
        )
        for i, vid, count in rows:
            figures[(i, vid)][f"handoffs_{name}"] = int(count)


def _islands(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping incident spans merged, so a minute under two incidents counts once."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged


def _credit(
    conn: Connection,
    periods: Sequence[tuple[datetime, datetime]],
    now: datetime,
    status_pages: Mapping[str, Sequence[str]],
    by_name: Mapping[str, int],
    figures: dict[tuple[int, int], dict[str, Any]],
) -> None:
    """Breach minutes inside the vendor's own published incidents, per period.

    A clock's breach lasts from its breach time to its stop (or now); the
    vendor's incidents (from their published start to their resolution, or
    now while open) are merged first; their intersection, cut to the period,
    is summed over the vendor's clocks.
    """
    owners = {
        by_name[page]: by_name[vendor]
        for vendor, pages in status_pages.items()
        if vendor in by_name
        for page in pages
        if page in by_name
    }
    if not owners:
        return
    first, last = min(s for s, _ in periods), max(e for _, e in periods)
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    end = case(
        (INCIDENTS.c.resolved_at.is_not(None), INCIDENTS.c.resolved_at),
        (INCIDENTS.c.active, _when(now)),
        else_=INCIDENTS.c.updated_at,
    )
    for vid, start, stop in conn.execute(
        select(INCIDENTS.c.vendor_id, INCIDENTS.c.created_at, end).where(
            INCIDENTS.c.vendor_id.in_(list(owners))
        )
    ):
        spans[owners[vid]].append((start, stop))
    islands = [
        select(
            literal(vid, Integer()).label("vendor_id"),
            _when(start).label("s"),
            _when(stop).label("e"),
        )
        for vid, vendor_spans in spans.items()
        for start, stop in _islands(vendor_spans)
        if start < last and stop > first  # only incidents that touch the periods
    ]
    if not islands:
        return
    isl = (islands[0] if len(islands) == 1 else union_all(*islands)).subquery("isl")
    p = _periods(periods)
    # Clocks in breach at some time in the period, each part on an index: breached in it;
    # breached before it and stopped in it or later; breached before it and still running.
    breached = and_(CLOCKS.c.breach_at.is_not(None), not_(CLOCKS.c.state == "met"))
    parts = [
        and_(CLOCKS.c.breach_at >= p.c.s, CLOCKS.c.breach_at < p.c.e),
        and_(CLOCKS.c.stopped_at >= p.c.s, CLOCKS.c.breach_at < p.c.s),
        and_(CLOCKS.c.stopped_at.is_(None), CLOCKS.c.breach_at < p.c.s),
    ]
    in_breach = union_all(
        *(
            select(p.c.i, p.c.s, p.c.e, CLOCKS.c.id, CLOCKS.c.ticket_id, CLOCKS.c.breach_at,
                   CLOCKS.c.stopped_at)
            .select_from(p)
            .join(CLOCKS, and_(part, breached))
            for part in parts
        )
    ).subquery("in_breach")  # fmt: skip
    b = in_breach.c
    breach_end = func.coalesce(b.stopped_at, _when(now))
    window_start = greatest(b.breach_at, isl.c.s, b.s)
    window_end = least(breach_end, isl.c.e, b.e)
    rows = conn.execute(
        select(
            b.i,
            TICKETS.c.vendor_id,
            func.sum(seconds_between(window_end, window_start)),
            func.count(func.distinct(b.id)),
        )
        .select_from(in_breach)
        .join(
            TICKETS,
            and_(TICKETS.c.id == b.ticket_id, TICKETS.c.vendor_id.in_(list(set(owners.values())))),
        )
        .join(
            isl,
            and_(
                isl.c.vendor_id == TICKETS.c.vendor_id,
                isl.c.s < b.e,
                isl.c.e > b.s,
                isl.c.s < breach_end,
                isl.c.e > b.breach_at,
            ),
        )
        .where(window_end > window_start)
        .group_by(b.i, TICKETS.c.vendor_id)
    )
    for i, vid, seconds, clocks in rows:
        figures[(i, vid)]["credit_minutes"] = round(float(seconds or 0) / 60, 1)
        figures[(i, vid)]["credit_clocks"] = int(clocks)


def _backlog(conn: Connection, figures: Figures, *, index: int, at: datetime) -> None:
    """Tickets open at ``at`` (created before it, in new/open/pending then), by age.

    A ticket's status at ``at`` is the one before its first status change
    after ``at``; with none, its current status. A ticket first seen after
    ``at`` (a backfill) counts as open from creation until its resolution.
    """
    after = (
        select(
            EVENTS.c.ticket_id,
            EVENTS.c.field_name,
            EVENTS.c.old_value,
            func.row_number()
            .over(partition_by=EVENTS.c.ticket_id, order_by=(EVENTS.c.vendor_time, EVENTS.c.id))
            .label("rn"),
        )
        .where(_STATUS_EVENTS, EVENTS.c.vendor_time >= _when(at))
        .subquery("after")
    )
    first = select(after).where(after.c.rn == 1).subquery("first_after")
    # Only tickets open now or changed since: a list of ids the query walks (a join let
    # SQLite scan all tickets and probe the list, 1.5 s at a million).
    candidates = (
        select(TICKETS.c.id).where(TICKETS.c.status.in_(ACTIVE)).union(select(first.c.ticket_id))
    )
    open_then = case(
        (first.c.ticket_id.is_(None), TICKETS.c.status.in_(ACTIVE)),
        (first.c.field_name == "status", first.c.old_value.in_(ACTIVE)),
        else_=or_(TICKETS.c.resolved_at.is_(None), TICKETS.c.resolved_at > _when(at)),
    )
    buckets = []
    lower: Any = None
    for _label, bound in AGE_BUCKETS:
        older = TICKETS.c.created_at <= _when(at - bound) if bound is not None else None
        condition = and_(
            *(c for c in (not_(older) if older is not None else None, lower) if c is not None)
        )
        buckets.append(func.count(case((condition, 1))))
        lower = older
    rows = conn.execute(
        select(TICKETS.c.vendor_id, func.count(), *buckets)
        .select_from(TICKETS)
        .outerjoin(first, first.c.ticket_id == TICKETS.c.id)
        .where(TICKETS.c.id.in_(candidates), TICKETS.c.created_at < _when(at), open_then)
        .group_by(TICKETS.c.vendor_id)
    )
    for vid, count, *ages in rows:
        figures[(index, vid)]["backlog"] = int(count)
        figures[(index, vid)]["backlog_ages"] = tuple(int(a) for a in ages)

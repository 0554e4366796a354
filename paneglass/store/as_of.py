"""Time travel: the store as it stood at one instant, read through the live queries.

:class:`StoreAsOf` is a :class:`~paneglass.store.Store` whose connections
rewrite every statement before it runs: each live table the UI reads
(tickets, clocks, vendor status, components, incidents, poll runs, events,
links, cases, audit, outbox, handovers) is replaced by its state at the
instant, built from the history (:mod:`paneglass.store.history`) and the
append-only tables. The screens therefore run the very queries they run live,
and show what they showed then: a snapshot taken at 03:12 and ``:at 03:12``
render the same lines. Writes are refused (there is no transaction to begin).

Clock states at the instant apply the rule of
:func:`paneglass.store.writes.tick_clocks` to the version then current (a
running clock past its due time is breached from that time on), so what the
collector's tick would have stored by then is what the instant shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Executable,
    FromClause,
    Table,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.sql.visitors import replacement_traverse

from paneglass.errors import UserError
from paneglass.store.column_types import UTCDateTime
from paneglass.store.engine import reading
from paneglass.store.tables import (
    AUDIT,
    CASES,
    CLOCK_VERSIONS,
    CLOCKS,
    COMPONENT_VERSIONS,
    COMPONENTS,
    EVENTS,
    HANDOVERS,
    INCIDENT_VERSIONS,
    INCIDENTS,
    LINKS,
    MEMBERS,
    OUTBOX,
    RUNS,
    STATUS,
    STATUS_VERSIONS,
    TICKET_VERSIONS,
    TICKETS,
    VENDORS,
)

__all__ = ["AsOfEngine", "history_since", "tables_at"]


def _at(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _valid(versions: Table, at: datetime) -> Any:
    return and_(
        versions.c.valid_from <= _at(at),
        or_(versions.c.valid_to.is_(None), versions.c.valid_to > _at(at)),
    )


def _tickets_at(at: datetime) -> FromClause:
    tv = TICKET_VERSIONS
    columns: list[Any] = []
    for column in TICKETS.columns:
        name = column.name
        if name == "id":
            columns.append(tv.c.ticket_id.label("id"))
        elif name in ("vendor_id", "external_id", "first_seen_at"):
            columns.append(TICKETS.c[name])
        elif name == "raw":
            columns.append(null().label("raw"))  # the payload is not versioned
        elif name == "description":  # long text, not versioned: today's description
            columns.append(TICKETS.c.description)
        elif name == "last_seen_at":  # a sighting without a change is not versioned (no pane
            columns.append(tv.c.valid_from.label("last_seen_at"))  # shows it): the last change
        else:
            columns.append(tv.c[name])
    return (
        select(*columns)
        .join(TICKETS, TICKETS.c.id == tv.c.ticket_id)
        .where(_valid(tv, at))
        .subquery("ticket_at")
    )


def _clocks_at(at: datetime) -> FromClause:
    cv = CLOCK_VERSIONS
    when = _at(at)
    running = and_(cv.c.stopped_at.is_(None), cv.c.paused.is_(False))
    past_due = and_(running, cv.c.due_at <= when)
    state = case(
        (past_due, "breached"),
        (
            and_(running, cv.c.near_breach_at <= when, cv.c.state.in_(("ok", "at_risk"))),
            "near_breach",
        ),
        (and_(running, cv.c.at_risk_at <= when, cv.c.state == "ok"), "at_risk"),
        else_=cv.c.state,
    )
    breach_at = case((past_due, func.coalesce(cv.c.breach_at, cv.c.due_at)), else_=cv.c.breach_at)
    columns: list[Any] = []
    for column in CLOCKS.columns:
        name = column.name
        if name == "state":
            columns.append(state.label("state"))
        elif name == "breach_at":
            columns.append(breach_at.label("breach_at"))
        elif name == "computed_at":
            columns.append(cv.c.valid_from.label("computed_at"))
        else:
            columns.append(cv.c[name])
    return select(*columns).where(_valid(cv, at)).subquery("slaclock_at")


def _versioned(live: Table, versions: Table, at: datetime, name: str) -> FromClause:
    columns = [versions.c[c.name] for c in live.columns]
    return select(*columns).where(_valid(versions, at)).subquery(name)


def _until(table: Table, column: Column[Any], at: datetime, name: str) -> FromClause:
    return select(table).where(column <= _at(at)).subquery(name)


def tables_at(at: datetime) -> dict[Table, FromClause]:
    """Each live table the UI reads, replaced by its state at ``at``."""
    vendors = [
        VENDORS.c[c.name]
        if c.name != "last_page_at"
        else case((VENDORS.c.last_page_at <= _at(at), VENDORS.c.last_page_at)).label("last_page_at")
        for c in VENDORS.columns
    ]
    handovers = [
        HANDOVERS.c[c.name]
        if not c.name.startswith("acknowledged")
        else case((HANDOVERS.c.acknowledged_at <= _at(at), HANDOVERS.c[c.name])).label(c.name)
        for c in HANDOVERS.columns
    ]
    return {
        TICKETS: _tickets_at(at),
        CLOCKS: _clocks_at(at),
        STATUS: _versioned(STATUS, STATUS_VERSIONS, at, "vendorstatus_at"),
        COMPONENTS: _versioned(COMPONENTS, COMPONENT_VERSIONS, at, "vendorcomponent_at"),
        INCIDENTS: _versioned(INCIDENTS, INCIDENT_VERSIONS, at, "vendorincident_at"),
        VENDORS: select(*vendors).subquery("vendor_at"),
        RUNS: _until(RUNS, RUNS.c.finished_at, at, "pollrun_at"),
        EVENTS: _until(EVENTS, EVENTS.c.seen_at, at, "ticketevent_at"),
        LINKS: _until(LINKS, LINKS.c.created_at, at, "ticketlink_at"),
        CASES: _until(CASES, CASES.c.created_at, at, "case_at"),
        MEMBERS: _until(MEMBERS, MEMBERS.c.added_at, at, "casemember_at"),
        AUDIT: _until(AUDIT, AUDIT.c.at, at, "auditentry_at"),
        OUTBOX: _until(OUTBOX, OUTBOX.c.created_at, at, "outboxaction_at"),
        HANDOVERS: select(*handovers)
        .where(HANDOVERS.c.signed_at <= _at(at))
        .subquery("handover_at"),
    }


class _AsOfConnection:
    """A connection whose statements read the tables as they stood at one instant."""

    def __init__(self, conn: Connection, tables: dict[Table, FromClause]) -> None:
        self._conn = conn
        self._tables = tables
        self.dialect = conn.dialect

    def _swap(self, element: Any, **_kw: Any) -> Any:
        if isinstance(element, Table) and element in self._tables:
            return self._tables[element]
        table = getattr(element, "table", None)
        if isinstance(element, Column) and isinstance(table, Table) and table in self._tables:
            return self._tables[table].c[element.name]
        return None

    def execute(self, statement: Executable, *args: Any, **kwargs: Any) -> Any:
        """Run ``statement`` against the instant's tables (reads only)."""
        if not getattr(statement, "is_select", False):
            raise UserError("time travel is read-only")
        rewritten = replacement_traverse(cast(Any, statement), {}, self._swap)
        return self._conn.execute(rewritten, *args, **kwargs)

    def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        """Driver-level SQL (PRAGMAs) passes through unchanged."""
        return self._conn.exec_driver_sql(*args, **kwargs)


class AsOfEngine:
    """Stands in for the store's engine in :class:`StoreAsOf`: reads at an instant, no writes."""

    def __init__(self, engine: Engine, at: datetime) -> None:
        self._engine = engine
        self.at = at
        self.dialect = engine.dialect
        self.url = engine.url
        self._tables = tables_at(at)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read connection whose statements see the instant."""
        with reading(self._engine) as conn:
            yield cast(Connection, _AsOfConnection(conn, self._tables))

    def begin(self) -> Any:
        """Time travel never writes."""
        raise UserError("time travel is read-only")

    def dispose(self) -> None:
        """The live store owns the engine."""


def history_since(conn: Connection) -> datetime | None:
    """The first instant the store holds history for (``None`` before any)."""
    return cast(
        datetime | None, conn.execute(select(func.min(TICKET_VERSIONS.c.valid_from))).scalar()
    )

"""Pages ingested through ``Store.apply`` leave the history that ``Store.as_of`` reads back.

The fast ingest (:mod:`paneglass.store.ingest`) writes tickets, events and
clocks set-based; the history versions are written after it in the same
transaction (:func:`paneglass.store.history.record_page`). Here a queue moves
through five timed pages on each backend: a bulk first page (more rows than
one statement chunk), tickets answered, paused, resolved, re-opened, seen
again unchanged, a status page degrading and recovering. At each instant the
live reads are kept; after the run has moved on, the store read ``as_of``
each instant must answer exactly what was read live then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import VendorConfig
from connectors.records import (
    ComponentRecord,
    ComponentState,
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.sla import Policy, SlaSettings
from paneglass.store import PollRunInfo, Store, TicketQuery
from paneglass.store.tables import CLOCK_VERSIONS, TICKET_VERSIONS

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
BULK = 1_200
"""Tickets on the first page: more than one chunk of every statement the ingest writes."""

SETTINGS = SlaSettings(
    (Policy("desk 24x7", timedelta(hours=1), timedelta(hours=4), vendors=frozenset({"desk"})),)
)
VENDORS = tuple(
    VendorConfig(name=name, kind=kind, base_url="http://127.0.0.1:9", poll_interval=60)
    for name, kind in (("desk", "servicenow"), ("desk-status", "statuspage"))
)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _ticket(ref: str, at: datetime, status: TicketStatus, **extra: Any) -> TicketRecord:
    priority = extra.pop("priority", Priority.P2)
    return TicketRecord(
        external_id=ref,
        key=ref.upper(),
        title=extra.pop("title", f"ticket {ref}"),
        status=status,
        raw_status=status.value,
        priority=priority,
        raw_priority=priority.value,
        created_at=extra.pop("created_at", T0),
        updated_at=at,
        **extra,
    )


def _status(indicator: str, state: ComponentState, *, incident: bool) -> PollResult:
    incidents = (
        (IncidentRecord("i1", "Mail delayed", "investigating", "major", _at(20), _at(20)),)
        if incident
        else ()
    )
    snapshot = StatusSnapshot(
        indicator,
        "Mail delayed" if incident else "All systems operational",
        (ComponentRecord("c1", "Mail", state, state.value),),
        incidents,
    )
    return PollResult(status=snapshot)


def _pages() -> list[tuple[int, str, PollResult]]:
    """(minutes after T0, vendor, page): what a collector committed, in order."""
    new, open_, pending, resolved = (
        TicketStatus.NEW,
        TicketStatus.OPEN,
        TicketStatus.PENDING,
        TicketStatus.RESOLVED,
    )
    bulk = tuple(_ticket(f"q{n}", _at(0), open_, priority=Priority.P4) for n in range(BULK))
    urgent = _ticket("p1", _at(0), new, priority=Priority.P1)
    answered = {"first_response_at": _at(20), "assignee": "Dana Ortiz"}
    return [
        (0, "desk", PollResult(tickets=(urgent, _ticket("p2", _at(0), new), *bulk))),
        (0, "desk-status", _status("none", ComponentState.OPERATIONAL, incident=False)),
        (
            20,
            "desk",
            PollResult(
                tickets=(
                    _ticket("p1", _at(20), open_, priority=Priority.P1, **answered),
                    _ticket("p2", _at(0), new),  # seen again, unchanged
                    *bulk[:3],  # seen again, unchanged
                    _ticket("q3", _at(20), open_, priority=Priority.P4, title="renamed"),
                )
            ),
        ),
        (20, "desk-status", _status("major", ComponentState.MAJOR_OUTAGE, incident=True)),
        (
            50,
            "desk",
            PollResult(
                tickets=(
                    _ticket("p1", _at(50), pending, priority=Priority.P1, **answered),
                    _ticket("q4", _at(50), resolved, priority=Priority.P4, resolved_at=_at(50)),
                )
            ),
        ),
        (
            90,
            "desk",
            PollResult(
                tickets=(
                    _ticket("p1", _at(90), open_, priority=Priority.P1, **answered),
                    _ticket("q4", _at(90), open_, priority=Priority.P4),  # re-opened
                )
            ),
        ),
        (90, "desk-status", _status("none", ComponentState.OPERATIONAL, incident=False)),
    ]


INSTANTS = (_at(10), _at(30), _at(75), _at(100))
"""Between the pages; p2's response clock (1 h, never answered) breaches after the second."""


@dataclass(frozen=True)
class Reads:
    """What the panes read at one instant."""

    count: int
    active: int
    first_rows: list[Any]
    details: dict[str, Any]
    sla: list[Any]
    counts: dict[str, tuple[int, int]]
    headline: Any
    health: list[Any]


def _reads(store: Store, now: datetime, ids: dict[str, int]) -> Reads:
    everything, active = TicketQuery(), TicketQuery(active_only=True)
    health = [
        (h.name, h.indicator, h.status_description, h.components, h.incidents, h.open_tickets)
        for h in store.vendor_health()
    ]
    return Reads(
        count=store.ticket_count(everything),
        active=store.ticket_count(active),
        first_rows=store.ticket_window(everything, 0, 20),
        details={ref: _detail(store, tid) for ref, tid in ids.items()},
        sla=store.sla_rows(now),
        counts=store.sla_counts(now),
        headline=_headline(store, now),
        health=health,
    )


def _detail(store: Store, ticket_id: int) -> Any:
    """The ticket as its pane shows it; ``last_seen_at`` (shown nowhere) is left out: history
    versions a ticket when it changes, not each time a poll sees it again unchanged."""
    detail = store.ticket_detail(ticket_id)
    assert detail is not None
    return replace(detail, last_seen_at=None)


def _headline(store: Store, now: datetime) -> tuple[int, int, int, int]:
    line = store.headline(now)
    return (line.breached, line.at_risk, line.open_tickets, line.open_p1)


def _run(store: Store, after: datetime | None, until: datetime) -> None:
    """Apply the pages in ``(after, until]`` as the collector would, then tick at ``until``."""
    for minutes, vendor, page in _pages():
        when = _at(minutes)
        if (after is not None and when <= after) or when > until:
            continue
        store.tick_clocks(when)
        store.apply(vendor, page, PollRunInfo(when - timedelta(seconds=1), when, True), when)
    store.tick_clocks(until)


@pytest.fixture
def store(any_db_url: str) -> Any:
    store = Store(any_db_url, sla=SETTINGS)
    store.sync_vendors(VENDORS)
    yield store
    store.close()


def test_as_of_answers_what_was_read_live_after_ingest(store: Store) -> None:
    live: list[Reads] = []
    ids: dict[str, int] = {}
    previous = None
    for instant in INSTANTS:
        _run(store, previous, instant)
        previous = instant
        if not ids:
            ids = {ref: tid for tid, _v, ref, _t in _ids(store, ("P1", "P2", "Q3", "Q4"))}
        live.append(_reads(store, instant, ids))
    _run(store, previous, _at(240))  # the run moves on: everything breaches or closes

    assert len(ids) == 4
    for instant, then in zip(INSTANTS, live, strict=True):
        past = store.as_of(instant)
        assert _reads(past, instant, ids) == then, f"as_of {instant:%H:%M} differs from live"

    # The instants differ from one another, so the comparison above can fail.
    first, second, third, fourth = live
    assert first.count == BULK + 2 and first.active == BULK + 2
    assert first.details["P1"].status == "new" and second.details["P1"].status == "open"
    assert third.details["P1"].status == "pending" and fourth.details["P1"].status == "open"
    assert second.details["Q3"].title == "renamed" and first.details["Q3"].title == "ticket q3"
    assert third.active == BULK + 1 and fourth.active == BULK + 2  # q4 resolved, then re-opened
    indicators = [{h[0]: h[1] for h in reads.health}["desk-status"] for reads in live]
    assert indicators == ["none", "major", "major", "none"]
    # p2 never answered: its response clock (1 h) breached at T0 + 60 min.
    assert not any(row.key == "P2" for row in second.sla if row.state.value == "breached")
    assert any(row.key == "P2" and row.state.value == "breached" for row in third.sla)


def test_ingest_versions_only_what_changed(store: Store) -> None:
    _run(store, None, _at(30))
    with store.engine.connect() as conn:
        tickets = conn.execute(TICKET_VERSIONS.select()).all()
        clocks = conn.execute(CLOCK_VERSIONS.select()).all()
    # First page: one version per ticket; at +20 min: p1 and q3 changed (p2 and q0-q2 were only
    # seen again), so exactly two more, each closing the one it replaced at +20 min.
    assert len(tickets) == BULK + 2 + 2
    closed = [row for row in tickets if row.valid_to is not None]
    assert len(closed) == 2
    assert {row.valid_to.astimezone(UTC) for row in closed} == {_at(20)}
    # Every ticket got a response and a resolution clock version from the first page. At +20
    # min p1 was answered (its response clock stopped, met; its resolution clock's elapsed time
    # moved) and q3 renamed (its resolution clock's elapsed time moved): three more versions.
    p1 = next(row.ticket_id for row in tickets if row.key == "P1")
    assert len([row for row in clocks if row.ticket_id == p1]) == 4
    assert len(clocks) == 2 * (BULK + 2) + 3
    assert len([row for row in clocks if row.valid_to is not None]) == 3


def _ids(store: Store, keys: tuple[str, ...]) -> list[tuple[int, str, str, str]]:
    return [found for key in keys for found in store.find_tickets(key, 1)]


def test_replay_commits_in_steps_and_applies_every_page(store: Store) -> None:
    steps = [(vendor, page, _at(minutes)) for minutes, vendor, page in _pages()]
    assert store.replay(iter(steps), per_commit=2) == len(steps)
    live = Store(store.url, sla=SETTINGS)  # another connection sees every step committed
    try:
        assert live.ticket_count(TicketQuery()) == BULK + 2
        past = live.as_of(_at(30))
        assert {h.name: h.indicator for h in past.vendor_health()}["desk-status"] == "major"
    finally:
        live.close()

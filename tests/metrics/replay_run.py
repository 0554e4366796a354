"""A recorded run of the fixture world: timed pages, replayed through the collector's write path.

The run starts from the fixed Acme fixture (``seed_store``) and then, minute
by minute, receives what a collector would have committed: a P1 that goes
at risk, breaches its response, is answered and then waits on the customer;
a desktop ticket that arrives and is resolved; the hosting status page that
recovers. Each step is ``Store.apply`` plus the SLA tick at its own instant,
so the store's history is exactly what a live collector leaves behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.records import (
    ComponentRecord,
    ComponentState,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.demo.fixture import FIXTURE_NOW, seed_store
from paneglass.store import PollRunInfo, Store

__all__ = ["INSTANTS", "START", "run_until"]

START = FIXTURE_NOW - timedelta(hours=2)
INSTANTS = (
    START + timedelta(minutes=15),
    START + timedelta(minutes=32),
    START + timedelta(minutes=70),
)
"""The three instants snapshotted live and then travelled back to."""


def _ticket(
    ref: str,
    key: str,
    title: str,
    status: TicketStatus,
    created: datetime,
    at: datetime,
    **extra: object,
) -> TicketRecord:
    return TicketRecord(
        external_id=ref,
        key=key,
        title=title,
        status=status,
        raw_status=status.value,
        priority=extra.pop("priority", Priority.P1),  # type: ignore[arg-type]
        raw_priority="1",
        created_at=created,
        updated_at=at,
        **extra,  # type: ignore[arg-type]
    )


def _steps() -> list[tuple[int, str, PollResult | None]]:
    """(minutes after START, vendor, page)."""
    p1 = START + timedelta(minutes=5)
    r2 = START + timedelta(minutes=12)
    new, open_, pending, resolved = (
        TicketStatus.NEW,
        TicketStatus.OPEN,
        TicketStatus.PENDING,
        TicketStatus.RESOLVED,
    )
    healthy = StatusSnapshot(
        "none",
        "All systems operational",
        (ComponentRecord("c1", "Virtual servers", ComponentState.OPERATIONAL, "operational"),),
    )
    title = "GP app server unresponsive"
    answered = {"assignee": "Dana Ortiz", "first_response_at": START + timedelta(minutes=30)}
    scanner = {"priority": Priority.P2}

    def at(minutes: int) -> datetime:
        return START + timedelta(minutes=minutes)

    def p1_page(status: TicketStatus, minutes: int, **extra: object) -> PollResult:
        record = _ticket("r1", "INC0099001", title, status, p1, at(minutes), **extra)
        return PollResult(tickets=(record,))

    def scanner_page(status: TicketStatus, minutes: int, **extra: object) -> PollResult:
        record = _ticket("r2", "#49001", "Scanner offline", status, r2, at(minutes), **extra)
        return PollResult(tickets=(record,))

    return [
        (5, "hosting", p1_page(new, 5)),
        (12, "desktop", scanner_page(open_, 12, **scanner)),
        (20, "hosting", None),
        (30, "hosting", p1_page(open_, 30, **answered)),
        (35, "hosting-status", PollResult(status=healthy)),
        (45, "desktop", None),
        (60, "hosting", p1_page(pending, 60, **answered)),
        (80, "desktop", scanner_page(resolved, 80, resolved_at=at(80), **scanner)),
        (95, "hosting", None),
    ]


def start(store: Store) -> None:
    """The fixture world as it stood when the run began."""
    seed_store(store, START)


def run_until(store: Store, after: datetime | None, until: datetime) -> None:
    """Apply the run's steps in ``(after, until]``, then tick the clocks at ``until``."""
    for minutes, vendor, page in _steps():
        when = START + timedelta(minutes=minutes)
        if (after is not None and when <= after) or when > until:
            continue
        store.tick_clocks(when)
        run = PollRunInfo(when - timedelta(seconds=2), when, True, requests=1)
        store.apply(vendor, page, run, when)
    store.tick_clocks(until)

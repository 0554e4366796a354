"""A small world with known answers: two vendors through November 2026, every step timed.

``alpha`` works to an office calendar (Mon-Fri 09:00-17:00 UTC), ``beta`` 24x7;
both contracts are response 1 h, resolution 8 h. Each ticket moves through
the real write path (``Store.apply`` at the instant of each change, the
clocks ticked as the collector does), so the clocks, events and history are
the ones a live collector would have stored. The expected figures are worked
out by hand in ``test_scorecard_figures.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors import VendorConfig
from connectors.records import (
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.sla import Calendar, Policy, SlaSettings
from paneglass.store import Actor, NewAction, Store

__all__ = ["NOW", "SETTINGS", "VENDORS", "at", "build_world"]

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
"""When the scorecard is read: after November ended."""

OFFICE = Calendar("office", ZoneInfo("UTC"), ((time(9), time(17)),) * 5 + (None, None))
SETTINGS = SlaSettings(
    (
        Policy(
            "alpha office hours",
            timedelta(hours=1),
            timedelta(hours=8),
            calendar=OFFICE,
            vendors=frozenset({"alpha"}),
        ),
        Policy("beta 24x7", timedelta(hours=1), timedelta(hours=8), vendors=frozenset({"beta"})),
    )
)
VENDORS = tuple(
    VendorConfig(name=name, kind=kind, base_url="http://127.0.0.1:9", poll_interval=60)
    for name, kind in (("alpha", "servicenow"), ("beta", "zendesk"), ("alpha-status", "statuspage"))
)


def at(text: str) -> datetime:
    """``"11-02 10:30"`` → 2026-11-02 10:30 UTC (``"10-28 …"`` is October)."""
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


@dataclass
class _Ticket:
    """One ticket's life: its record as it stood after each timed change."""

    vendor: str
    ref: str
    created: datetime
    steps: list[tuple[datetime, TicketRecord]] = field(default_factory=list)
    fields: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.change(self.created, status=TicketStatus.NEW)

    def change(self, when: datetime, **changes: object) -> _Ticket:
        self.fields.update(changes)
        status = self.fields["status"]
        assert isinstance(status, TicketStatus)
        record = TicketRecord(
            external_id=self.ref,
            key=self.ref.upper(),
            title=f"ticket {self.ref}",
            status=status,
            raw_status=status.value,
            priority=Priority.P2,
            raw_priority="2",
            created_at=self.created,
            updated_at=when,
            first_response_at=self.fields.get("first_response_at"),  # type: ignore[arg-type]
            resolved_at=self.fields.get("resolved_at"),  # type: ignore[arg-type]
            vendor_due_at=self.fields.get("vendor_due_at"),  # type: ignore[arg-type]
            vendor_breached=self.fields.get("vendor_breached"),  # type: ignore[arg-type]
        )
        self.steps.append((when, record))
        return self

    def respond(self, when: datetime) -> _Ticket:
        return self.change(when, status=TicketStatus.OPEN, first_response_at=when)

    def resolve(self, when: datetime, **extra: object) -> _Ticket:
        return self.change(when, status=TicketStatus.RESOLVED, resolved_at=when, **extra)


def _tickets() -> list[_Ticket]:
    open_, pending = TicketStatus.OPEN, TicketStatus.PENDING
    return [
        # alpha, office hours
        _Ticket("alpha", "a0", at("10-28 09:00")).respond(at("10-28 09:30")),
        _Ticket("alpha", "a1", at("11-02 08:00"))
        .respond(at("11-02 10:30"))
        .resolve(at("11-02 15:00"), vendor_breached=False),
        _Ticket("alpha", "a2", at("11-03 16:00"), fields={"vendor_due_at": at("11-04 12:00")})
        .respond(at("11-03 16:30"))
        .change(at("11-04 09:00"), status=pending)
        .change(at("11-04 13:00"), status=open_)
        .resolve(at("11-04 17:00")),
        _Ticket("alpha", "a3", at("11-05 09:00"))
        .respond(at("11-05 09:10"))
        .resolve(at("11-05 12:00"), vendor_breached=False)
        .change(at("11-06 09:00"), status=open_, resolved_at=None)
        .resolve(at("11-09 13:00")),
        _Ticket("alpha", "a4", at("11-20 10:00")).respond(at("11-20 10:20")),
        # beta, 24x7
        _Ticket("beta", "b1", at("11-10 00:00"))
        .respond(at("11-10 00:30"))
        .resolve(at("11-10 06:00")),
        _Ticket("beta", "b2", at("11-12 12:00"))
        .respond(at("11-12 14:00"))
        .resolve(at("11-13 12:00")),
        _Ticket("beta", "b3", at("10-30 12:00"))
        .respond(at("10-30 12:15"))
        .resolve(at("11-01 12:00")),
        _Ticket("beta", "b4", at("11-25 08:00")),
    ]


def _incident(ref: str, name: str, start: str, end: str) -> IncidentRecord:
    return IncidentRecord(ref, name, "resolved", "major", at(start), at(end), at(end))


INCIDENTS = (
    _incident("i1", "Storage array degraded", "11-06 16:00", "11-07 02:00"),
    _incident("i2", "Network maintenance overran", "11-07 00:00", "11-07 04:00"),
    _incident("i3", "Portal slow", "11-02 10:20", "11-02 11:00"),
)


def build_world(url: str) -> Store:
    """A store holding the whole story, every change applied at its own instant."""
    store = Store(url, sla=SETTINGS)
    store.sync_vendors(VENDORS)
    steps = sorted(
        ((when, ticket.vendor, record) for ticket in _tickets() for when, record in ticket.steps),
        key=lambda step: step[0],
    )
    for when, vendor, record in steps:
        store.tick_clocks(when)
        store.apply(vendor, PollResult(tickets=(record,)), None, when)
    # The hand-off from a2 to beta (it became b2), sent on 12 November.
    kim = Actor("kim", "/dev/pts/1")
    sent = at("11-12 12:00")
    handoff = store.enqueue_action(
        kim,
        sent,
        NewAction(
            vendor="beta", kind="create", payload="{}", summary="hand off", source=("alpha", "a2")
        ),
    )
    store.claim_action(handoff, sent, "test:1")
    store.action_sent(handoff, sent, "HTTP 201", 201, ("b2", "B2"))
    store.apply(
        "alpha-status",
        PollResult(status=StatusSnapshot("none", "All good", incidents=INCIDENTS)),
        None,
        at("11-30 12:00"),
    )
    store.tick_clocks(NOW)
    return store

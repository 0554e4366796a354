"""Frozen read models of the metrics: scorecard rows and handovers.

The counterpart of :mod:`paneglass.store.views` for scorecards, shift
handovers and their reports; plain values that cross threads safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "AGE_BUCKETS",
    "HandoverClock",
    "HandoverRecord",
    "HandoverTicket",
    "ScorecardRow",
    "Spread",
]

AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("<1d", timedelta(days=1)),
    ("1-3d", timedelta(days=3)),
    ("3-7d", timedelta(days=7)),
    ("7-30d", timedelta(days=30)),
    (">30d", None),
)
"""Backlog age buckets: a ticket falls in the first whose upper bound its age is below."""


@dataclass(frozen=True)
class Spread:
    """A duration figure over a set of clocks: how many, median and 90th percentile (seconds)."""

    count: int = 0
    business_p50: float | None = None
    business_p90: float | None = None
    wall_p50: float | None = None
    wall_p90: float | None = None


@dataclass(frozen=True)
class ScorecardRow:
    """One vendor's figures for one period (see the README, "Scorecards", for each definition)."""

    vendor: str
    period: int
    """Index of the period in the list asked for."""
    opened: int = 0
    resolved: int = 0
    reopened: int = 0
    backlog: int | None = None
    """Open at the period's end (``None`` where it was not asked for)."""
    backlog_ages: tuple[int, ...] = ()
    """Backlog counts per :data:`AGE_BUCKETS`."""
    mtta: Spread = Spread()
    mttr: Spread = Spread()
    response_met: int = 0
    response_decided: int = 0
    resolution_met: int = 0
    resolution_decided: int = 0
    vendor_claim_met: int = 0
    vendor_claim_total: int = 0
    disagreed: int = 0
    compared: int = 0
    handoffs_sent: int = 0
    handoffs_received: int = 0
    credit_minutes: float = 0.0
    credit_clocks: int = 0


@dataclass(frozen=True)
class HandoverClock:
    """A contract clock in a handover: breached since, or due soon."""

    vendor: str
    key: str
    priority: str | None
    title: str
    metric: str
    at: datetime
    """Breach time, or due time."""


@dataclass(frozen=True)
class HandoverTicket:
    """An open P1/P2 ticket in a handover."""

    vendor: str
    key: str
    priority: str | None
    status: str
    title: str
    assignee: str | None
    created_at: datetime


@dataclass(frozen=True)
class HandoverRecord:
    """A signed handover and whether it was acknowledged."""

    id: int
    since: datetime
    signed_at: datetime
    signed_by: str
    signed_terminal: str | None
    note: str
    summary: str
    """The report as signed, JSON."""
    acknowledged_at: datetime | None
    acknowledged_by: str | None

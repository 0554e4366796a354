"""The SLA engine: pure functions over (status history, policy, now).

No I/O and no clock of its own, so it can be property-tested and replayed.
Time counts on a 24x7 calendar in this first version; business calendars
and config-defined policies plug in here (issue #4).

A clock runs from the ticket's creation, pauses while the ticket sits in a
pause status (normalised ``pending`` by default) and stops at the first
response (response metric) or at resolution (resolution metric). Elapsed time
may exceed the target; the breach moment is the instant running time reached it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "DEFAULT_POLICIES",
    "ClockResult",
    "ClockState",
    "Metric",
    "Policy",
    "StatusChange",
    "compute_clock",
    "ticket_clocks",
]


class Metric(StrEnum):
    """What a clock measures."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    """Where a clock stands; ``met``/``missed`` once it has stopped."""

    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class Policy:
    """Targets for one class of tickets."""

    name: str
    response: timedelta | None
    resolution: timedelta | None
    at_risk_share: float = 0.75
    pause_statuses: frozenset[str] = frozenset({"pending"})


DEFAULT_POLICIES: dict[str, Policy] = {
    "P1": Policy("P1 default", timedelta(minutes=15), timedelta(hours=4)),
    "P2": Policy("P2 default", timedelta(hours=1), timedelta(hours=8)),
    "P3": Policy("P3 default", timedelta(hours=4), timedelta(hours=24)),
    "P4": Policy("P4 default", timedelta(hours=8), timedelta(hours=72)),
    "P5": Policy("P5 default", timedelta(hours=24), timedelta(days=10)),
}
"""Built-in 24x7 targets by priority until contracts come from config."""


@dataclass(frozen=True)
class StatusChange:
    """The ticket entered ``status`` at ``at``."""

    at: datetime
    status: str


@dataclass(frozen=True)
class ClockResult:
    """One clock as of ``now``."""

    metric: Metric
    policy: str
    target: timedelta
    elapsed: timedelta
    paused: bool
    due_at: datetime | None
    state: ClockState
    breach_at: datetime | None
    stopped_at: datetime | None
    at_risk_share: float = 0.75


def _running_spans(
    start: datetime, end: datetime, history: Sequence[StatusChange], pause: frozenset[str]
) -> Iterable[tuple[datetime, datetime]]:
    """Yield the spans in [start, end] during which the clock was running."""
    ordered = sorted(history, key=lambda change: change.at)
    status = ordered[0].status if ordered else "open"
    cursor = start
    for change in ordered:
        if change.at <= cursor:
            status = change.status
            continue
        if change.at >= end:
            break
        if status not in pause:
            yield cursor, change.at
        cursor, status = change.at, change.status
    if cursor < end and status not in pause:
        yield cursor, end


def compute_clock(
    metric: Metric,
    policy: Policy,
    target: timedelta,
    *,
    start: datetime,
    stop: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
) -> ClockResult:
    """One clock from ``start`` until ``stop`` (or ``now`` while running)."""
    end = min(stop, now) if stop is not None else now
    end = max(end, start)
    elapsed = timedelta(0)
    breach_at: datetime | None = None
    for span_start, span_end in _running_spans(start, end, history, policy.pause_statuses):
        span = span_end - span_start
        if breach_at is None and elapsed + span >= target:
            breach_at = span_start + (target - elapsed)
        elapsed += span
    ordered = sorted(history, key=lambda change: change.at)  # stable: ties keep arrival order
    current = ordered[-1].status if ordered else "open"
    paused = stop is None and current in policy.pause_statuses
    if stop is not None:
        state = ClockState.MISSED if elapsed > target else ClockState.MET
        due_at = None
    else:
        if elapsed >= target:
            state = ClockState.BREACHED
        elif elapsed >= target * policy.at_risk_share:
            state = ClockState.AT_RISK
        else:
            state = ClockState.OK
        due_at = None if paused else now + (target - elapsed)
    return ClockResult(
        metric=metric,
        policy=policy.name,
        target=target,
        elapsed=elapsed,
        paused=paused,
        due_at=due_at,
        state=state,
        breach_at=breach_at,
        stopped_at=stop,
        at_risk_share=policy.at_risk_share,
    )


def ticket_clocks(
    *,
    priority: str | None,
    created_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
    policies: dict[str, Policy] = DEFAULT_POLICIES,
) -> list[ClockResult]:
    """Every contract clock of one ticket; none when no policy matches its priority."""
    policy = policies.get(priority or "")
    if policy is None:
        return []
    results = []
    if policy.response is not None:
        stops = [t for t in (first_response_at, resolved_at) if t is not None]
        results.append(
            compute_clock(
                Metric.RESPONSE,
                policy,
                policy.response,
                start=created_at,
                stop=min(stops) if stops else None,
                history=history,
                now=now,
            )
        )
    if policy.resolution is not None:
        results.append(
            compute_clock(
                Metric.RESOLUTION,
                policy,
                policy.resolution,
                start=created_at,
                stop=resolved_at,
                history=history,
                now=now,
            )
        )
    return results

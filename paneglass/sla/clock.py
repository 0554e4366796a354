"""The SLA engine: pure functions over (status history, policy, calendar, now).

No I/O and no clock of its own, so it can be property-tested and replayed.
Semantics follow what ServiceNow, Jira Service Management and Zendesk users
expect (DESIGN, "SLA semantics"):

* a clock starts when the ticket is created and counts working time in its
  policy's calendar (24x7 unless the contract says otherwise); a ticket that
  came under its policy later (a priority or group change) starts it then,
  not retroactively from creation;
* it pauses while the ticket is in a pause status (normalised ``pending`` by
  default, plus any vendor statuses the policy names) and resumes after;
* the response clock stops at the first response the vendor reports; where a
  vendor reports none, when the ticket first leaves New (or resolution, if
  that comes first); a ticket first seen already past New with no response
  time from the vendor has an *unknown* response clock, never "met at 0 %";
  the resolution clock stops at resolution;
* a re-opened ticket starts a new resolution cycle and keeps the old one;
* states go ok → at risk (the first threshold, default 50 % of the target) →
  near breach (the second, default 75 %) → breached, or met/missed once
  stopped; elapsed time may exceed the target, and the breach instant is the
  moment working time reached the target;
* where the policy says so, a clock does not run while the ticket's vendor is
  in an announced maintenance window (``suspended`` spans): it shows paused,
  reason ``vendor maintenance``, and its due, at-risk and near-breach times
  move past the window. Windows compose with ``since`` (only the part after
  the clock's start counts) and never touch an *unknown* response clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from paneglass.sla.calendar import Calendar
from paneglass.sla.policy import Policy
from paneglass.sla.states import ClockState

__all__ = [
    "MAINTENANCE",
    "ClockResult",
    "ClockValues",
    "Metric",
    "StatusChange",
    "Window",
    "compute_clock",
    "ticket_clock_values",
    "ticket_clocks",
]

MAINTENANCE = "vendor maintenance"
"""The pause reason of a clock stopped by its vendor's announced maintenance."""
STATUS = "status"
"""The pause reason of a clock stopped by the ticket's own (pause) status."""

Window = tuple[datetime, datetime]
"""A span ``[start, end)`` during which clocks do not run (an announced maintenance)."""

ACTIVE = frozenset({"new", "open", "pending"})
DONE = frozenset({"resolved", "closed"})
_ZERO = timedelta(0)


class Metric(StrEnum):
    """What a clock measures."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class StatusChange:
    """The ticket entered ``status`` (vendor's own: ``raw_status``) at ``at``."""

    at: datetime
    status: str
    raw_status: str = ""


@dataclass(frozen=True)
class ClockResult:
    """One clock (one cycle of one metric) as of ``now``."""

    metric: Metric
    cycle: int
    policy: str
    target: timedelta
    elapsed: timedelta
    paused: bool
    due_at: datetime | None
    """When it breaches if it keeps running (None while paused or stopped; past once breached)."""
    at_risk_at: datetime | None
    state: ClockState
    breach_at: datetime | None
    started_at: datetime
    stopped_at: datetime | None
    at_risk_share: float = 0.5
    near_breach_at: datetime | None = None
    """When the running clock reaches the second threshold (None: stopped, paused, or no
    second threshold); ``now`` once past it."""
    pause_reason: str | None = None
    """Why a paused clock is paused: :data:`STATUS` or :data:`MAINTENANCE`."""


ClockValues = tuple[
    Metric,
    int,
    str,
    timedelta,
    timedelta,
    bool,
    datetime | None,
    datetime | None,
    ClockState,
    datetime | None,
    datetime,
    datetime | None,
    float,
    datetime | None,
    str | None,
]
"""A :class:`ClockResult`'s fields in order, as a plain tuple: what
:func:`ticket_clock_values` gives a caller that stores clocks and never needs the objects
(a frozen dataclass sets each of its 15 fields through ``object.__setattr__``, several
times the cost of the tuple). ``ClockResult(*values)`` is the same clock."""


def _at(change: StatusChange) -> datetime:
    return change.at


def _ordered(history: Iterable[StatusChange]) -> list[StatusChange]:
    return sorted(history, key=_at)  # stable: ties keep arrival order


def _running_spans(
    start: datetime, end: datetime, ordered: Sequence[StatusChange], policy: Policy
) -> Iterable[tuple[datetime, datetime]]:
    """Yield the spans in [start, end) during which the clock was not paused."""
    current = ordered[0] if ordered else StatusChange(start, "open")
    cursor = start
    for change in ordered:
        if change.at <= cursor:
            current = change
            continue
        if change.at >= end:
            break
        if not policy.pauses(current.status, current.raw_status):
            yield cursor, change.at
        cursor, current = change.at, change
    if cursor < end and not policy.pauses(current.status, current.raw_status):
        yield cursor, end


def _minus(
    spans: Iterable[tuple[datetime, datetime]], windows: Sequence[Window]
) -> Iterable[tuple[datetime, datetime]]:
    """``spans`` with every part inside a window cut out (``windows`` sorted by start)."""
    for start, end in spans:
        cursor = start
        for w_start, w_end in windows:
            if w_end <= cursor or w_start >= end:
                continue
            if w_start > cursor:
                yield cursor, w_start
            cursor = max(cursor, w_end)
            if cursor >= end:
                break
        if cursor < end:
            yield cursor, end


def _add(
    calendar: Calendar, start: datetime, amount: timedelta, windows: Sequence[Window]
) -> datetime:
    """``amount`` of working time from ``start``, skipping the windows (sorted by start)."""
    cursor, left = start, amount
    for w_start, w_end in windows:
        if w_end <= cursor:
            continue
        done = calendar.add_business(cursor, left)
        if w_start >= done:
            return done
        left -= calendar.business_between(cursor, max(cursor, w_start))
        cursor = max(cursor, w_end)
    return calendar.add_business(cursor, left)


def compute_clock(
    metric: Metric,
    policy: Policy,
    target: timedelta,
    *,
    start: datetime,
    stop: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
    cycle: int = 0,
    suspended: Sequence[Window] = (),
) -> ClockResult:
    """One clock from ``start`` until ``stop`` (or ``now`` while running)."""
    windows = sorted(suspended)
    return ClockResult(
        *_clock(metric, policy, target, start, stop, _ordered(history), now, cycle, windows)
    )


def _clock(
    metric: Metric,
    policy: Policy,
    target: timedelta,
    start: datetime,
    stop: datetime | None,
    ordered: Sequence[StatusChange],
    now: datetime,
    cycle: int,
    windows: Sequence[Window] = (),
) -> ClockValues:
    """:func:`compute_clock` over a history already in order of time (``windows`` sorted),
    as :data:`ClockValues`."""
    calendar = policy.calendar
    end = max(min(stop, now) if stop is not None else now, start)
    elapsed = _ZERO
    breach_at: datetime | None = None
    spans = _running_spans(start, end, ordered, policy)
    for span_start, span_end in _minus(spans, windows) if windows else spans:
        span = calendar.business_between(span_start, span_end)
        if breach_at is None and elapsed + span >= target:
            breach_at = calendar.add_business(span_start, target - elapsed)
        elapsed += span
    # The last change up to ``end`` (the changes up to ``end`` are a prefix of ``ordered``).
    current = next((h for h in reversed(ordered) if h.at <= end), None) or StatusChange(
        start, "open"
    )
    reason = None
    if stop is None:
        if policy.pauses(current.status, current.raw_status):
            reason = STATUS
        elif any(w_start <= end < w_end for w_start, w_end in windows):
            reason = MAINTENANCE
    paused = reason is not None
    share = policy.at_risk_share
    risk = target * share
    second = policy.near_breach_share
    near = target * second if second is not None else None
    due_at = at_risk_at = near_breach_at = None
    if stop is not None:
        state = ClockState.MISSED if breach_at is not None and elapsed > target else ClockState.MET
    else:
        if elapsed >= target:
            state = ClockState.BREACHED
        elif near is not None and elapsed >= near:
            state = ClockState.NEAR_BREACH
        elif elapsed >= risk:
            state = ClockState.AT_RISK
        else:
            state = ClockState.OK
        if not paused:
            ahead = [w for w in windows if w[1] > now]
            due_at = breach_at or _add(calendar, now, target - elapsed, ahead)
            at_risk_at = now if elapsed >= risk else _add(calendar, now, risk - elapsed, ahead)
            if near is not None:
                near_breach_at = (
                    now if elapsed >= near else _add(calendar, now, near - elapsed, ahead)
                )
    return (  # ClockResult's fields in order: metric, cycle, policy, target, elapsed, paused,
        # due_at, at_risk_at, state, breach_at, started_at, stopped_at, at_risk_share,
        # near_breach_at, pause_reason
        metric,
        cycle,
        policy.name,
        target,
        elapsed,
        paused,
        due_at,
        at_risk_at,
        state,
        breach_at,
        start,
        stop,
        share,
        near_breach_at,
        reason,
    )


def _unknown_response(policy: Policy, start: datetime) -> ClockValues:
    """A response clock that cannot be judged: first seen past New, no response time given."""
    assert policy.response is not None
    return (  # ClockResult's fields in order (see _clock)
        Metric.RESPONSE,
        0,
        policy.name,
        policy.response,
        _ZERO,
        False,
        None,
        None,
        ClockState.UNKNOWN,
        None,
        start,
        start,
        policy.at_risk_share,
        None,
        None,
    )


@dataclass
class _Cycle:
    start: datetime
    stop: datetime | None = None
    history: list[StatusChange] = field(default_factory=list)


def _resolution_cycles(
    created_at: datetime, ordered: Sequence[StatusChange], resolved_at: datetime | None
) -> list[_Cycle]:
    """Split the history (in order of time) into cycles: each ends at resolution, a
    re-open starts the next."""
    cycles = [_Cycle(created_at)]
    for change in ordered:
        cycle = cycles[-1]
        if cycle.stop is None:
            cycle.history.append(change)
            if change.status in DONE:
                cycle.stop = change.at
        elif change.status in ACTIVE:
            cycles.append(_Cycle(change.at, history=[change]))
    last = cycles[-1]
    if last.stop is not None and resolved_at is not None and len(cycles) == 1:
        last.stop = min(last.stop, resolved_at)  # the vendor's own resolution time when it has one
    return cycles


def ticket_clocks(
    *,
    policy: Policy | None,
    created_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
    since: datetime | None = None,
    suspended: Sequence[Window] = (),
) -> list[ClockResult]:
    """Every contract clock of one ticket under ``policy`` (none without a policy).

    ``since`` is when the ticket came under ``policy`` (see
    :func:`paneglass.sla.coverage.covered_since`); clocks start then, not at
    creation, and a resolution cycle over before it has no clock.

    ``suspended``: the vendor's announced maintenance windows; they stop the
    clocks only where the policy says ``pause_in_maintenance``.
    """
    return [
        ClockResult(*values)
        for values in ticket_clock_values(
            policy=policy,
            created_at=created_at,
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            history=history,
            now=now,
            since=since,
            suspended=suspended,
        )
    ]


def ticket_clock_values(
    *,
    policy: Policy | None,
    created_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
    since: datetime | None = None,
    suspended: Sequence[Window] = (),
) -> list[ClockValues]:
    """:func:`ticket_clocks`, each clock as :data:`ClockValues` (the same values, for a
    caller that stores them and never needs the :class:`ClockResult` objects)."""
    if policy is None:
        return []
    windows = sorted(suspended) if policy.pause_in_maintenance else []
    # One change (a ticket just created) is in order already: no sort, no key calls.
    ordered = (_ordered(history) if len(history) > 1 else list(history)) or [
        StatusChange(created_at, "open")
    ]
    cycles = _resolution_cycles(created_at, ordered, resolved_at)
    begin = max(since, created_at) if since is not None else created_at
    results: list[ClockValues] = []
    if policy.response is not None:
        # The vendor's first response when it reports one; else the moment the ticket left
        # New (picked up); else resolution. First seen already past New with no response
        # time from the vendor: nobody knows when it was answered (maintenance or not).
        if first_response_at is None and ordered[0].status != "new":
            results.append(_unknown_response(policy, begin))
        else:
            left_new = next((c.at for c in ordered if c.status != "new"), None)
            stops = [t for t in (first_response_at, left_new, cycles[0].stop) if t is not None]
            stop = max(min(stops), begin) if stops else None
            results.append(
                _clock(
                    Metric.RESPONSE, policy, policy.response, begin, stop, ordered, now, 0, windows
                )
            )
    if policy.resolution is not None:
        for index, cycle in enumerate(cycles):  # each cycle's history is in order of time
            if begin > created_at and cycle.stop is not None and cycle.stop <= begin:
                continue  # over before the ticket came under this policy
            start = max(cycle.start, begin)
            stop = max(cycle.stop, start) if cycle.stop is not None else None
            results.append(
                _clock(
                    Metric.RESOLUTION,
                    policy,
                    policy.resolution,
                    start,
                    stop,
                    cycle.history,
                    now,
                    index,
                    windows,
                )
            )
    return results

"""The faster SLA engine computes exactly what the plain one computes.

Ingest recomputes the clocks of every changed ticket, so the engine was made
faster: calendars keep running totals per day instead of walking every day
between two instants, and a ticket's history is sorted once. The old
day-walking calendar and the old clock functions are kept here as the
reference (with the second threshold, several spans a day, night shifts and
the unknown response clock of issue #15), and random calendars (zones with
DST, holidays, odd hours, split days, night shifts, closed days), histories
and policies must give identical results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paneglass.sla import (
    Calendar,
    ClockResult,
    ClockState,
    Metric,
    Policy,
    StatusChange,
    compute_clock,
    ticket_clocks,
)

# -- the reference: the old engine, calendar arithmetic day by day -------------------------------

_MAX_DAYS = 366 * 5


def _ref_spans(calendar: Calendar, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Every span opening on the days ``first`` to ``last``, day by day, overlaps merged."""
    merged: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for lo, hi in calendar._day_spans(day):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        day += timedelta(days=1)
    return merged


def ref_business_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    if end <= start:
        return timedelta(0)
    if calendar.always_open:
        return end - start
    total = timedelta(0)
    first = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date()
    for span in _ref_spans(calendar, first, last):
        lo, hi = max(span[0], start), min(span[1], end)
        if lo < hi:
            total += hi - lo
    return total


def ref_add_business(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    if calendar.always_open:
        return start + amount
    if amount <= timedelta(0):
        return start
    remaining = amount
    first = start.astimezone(calendar.zone).date() - timedelta(days=1)
    for span in _ref_spans(calendar, first, first + timedelta(days=_MAX_DAYS)):
        if span[1] <= start:
            continue
        lo = max(span[0], start)
        available = span[1] - lo
        if available >= remaining:
            return lo + remaining
        remaining -= available
    raise ValueError(f"calendar {calendar.name!r} has no working time in {_MAX_DAYS} days")


def _ordered(history: Sequence[StatusChange]) -> list[StatusChange]:
    return sorted(history, key=lambda change: change.at)


def _running_spans(
    start: datetime, end: datetime, history: Sequence[StatusChange], policy: Policy
) -> list[tuple[datetime, datetime]]:
    ordered = _ordered(history)
    current = ordered[0] if ordered else StatusChange(start, "open")
    cursor, spans = start, []
    for change in ordered:
        if change.at <= cursor:
            current = change
            continue
        if change.at >= end:
            break
        if not policy.pauses(current.status, current.raw_status):
            spans.append((cursor, change.at))
        cursor, current = change.at, change
    if cursor < end and not policy.pauses(current.status, current.raw_status):
        spans.append((cursor, end))
    return spans


def ref_compute_clock(
    metric: Metric,
    policy: Policy,
    target: timedelta,
    *,
    start: datetime,
    stop: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
    cycle: int = 0,
) -> ClockResult:
    calendar = policy.calendar
    end = max(min(stop, now) if stop is not None else now, start)
    elapsed = timedelta(0)
    breach_at: datetime | None = None
    for span_start, span_end in _running_spans(start, end, history, policy):
        span = ref_business_between(calendar, span_start, span_end)
        if breach_at is None and elapsed + span >= target:
            breach_at = ref_add_business(calendar, span_start, target - elapsed)
        elapsed += span
    ordered = _ordered([h for h in history if h.at <= end])
    current = ordered[-1] if ordered else StatusChange(start, "open")
    paused = stop is None and policy.pauses(current.status, current.raw_status)
    risk = target * policy.at_risk_share
    near = target * policy.thresholds[1] if len(policy.thresholds) > 1 else None
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
            due_at = breach_at or ref_add_business(calendar, now, target - elapsed)
            at_risk_at = now if elapsed >= risk else ref_add_business(calendar, now, risk - elapsed)
            if near is not None:
                near_breach_at = (
                    now if elapsed >= near else ref_add_business(calendar, now, near - elapsed)
                )
    return ClockResult(
        metric=metric,
        cycle=cycle,
        policy=policy.name,
        target=target,
        elapsed=elapsed,
        paused=paused,
        due_at=due_at,
        at_risk_at=at_risk_at,
        state=state,
        breach_at=breach_at,
        started_at=start,
        stopped_at=stop,
        at_risk_share=policy.at_risk_share,
        near_breach_at=near_breach_at,
    )


@dataclass
class _Cycle:
    start: datetime
    stop: datetime | None = None
    history: list[StatusChange] = field(default_factory=list)


def ref_ticket_clocks(
    *,
    policy: Policy,
    created_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    history: Sequence[StatusChange],
    now: datetime,
) -> list[ClockResult]:
    history = list(history) or [StatusChange(created_at, "open")]
    cycles = [_Cycle(created_at)]
    for change in _ordered(history):
        cycle = cycles[-1]
        if cycle.stop is None:
            cycle.history.append(change)
            if change.status in ("resolved", "closed"):
                cycle.stop = change.at
        elif change.status in ("new", "open", "pending"):
            cycles.append(_Cycle(change.at, history=[change]))
    if cycles[-1].stop is not None and resolved_at is not None and len(cycles) == 1:
        cycles[-1].stop = min(cycles[-1].stop, resolved_at)
    results: list[ClockResult] = []
    if (
        policy.response is not None
        and first_response_at is None
        and _ordered(history)[0].status != "new"  # first seen past New: nobody knows
    ):
        results.append(
            ClockResult(
                Metric.RESPONSE,
                0,
                policy.name,
                policy.response,
                timedelta(0),
                False,
                None,
                None,
                ClockState.UNKNOWN,
                None,
                created_at,
                created_at,
                policy.at_risk_share,
            )
        )
    if policy.response is not None and not results:
        left_new = next((c.at for c in _ordered(history) if c.status != "new"), None)
        stops = [t for t in (first_response_at, left_new, cycles[0].stop) if t is not None]
        results.append(
            ref_compute_clock(
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
        for index, cycle in enumerate(cycles):
            results.append(
                ref_compute_clock(
                    Metric.RESOLUTION,
                    policy,
                    policy.resolution,
                    start=cycle.start,
                    stop=cycle.stop,
                    history=cycle.history,
                    now=now,
                    cycle=index,
                )
            )
    return results


# -- random calendars, instants, histories --------------------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _quarter(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


@st.composite
def hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...] | tuple[time, time] | None:
    kind = draw(st.sampled_from(["closed", "one", "one", "split", "night"]))
    if kind == "closed":
        return None
    if kind == "night":  # 22:00-06:00: runs past midnight
        opens = draw(st.integers(12 * 4, 23 * 4)) * 15
        closes = draw(st.integers(0, opens // 15 - 1)) * 15
        return _quarter(opens), _quarter(closes)
    opens = draw(st.integers(0, 23 * 4)) * 15
    closes = draw(st.integers(opens // 15 + 1, 24 * 4)) * 15
    if kind == "one" or closes - opens < 60:
        return _quarter(opens), _quarter(closes)
    lunch = draw(st.integers(opens // 15 + 1, closes // 15 - 2)) * 15  # a break of 15 min+
    return (_quarter(opens), _quarter(lunch)), (_quarter(lunch + 15), _quarter(closes))


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    if draw(st.integers(0, 5)) == 0:
        return Calendar("24x7")
    week = tuple(draw(hours()) for _ in range(7))
    holidays = frozenset(
        T0.date() + timedelta(days=d) for d in draw(st.lists(st.integers(-400, 800), max_size=20))
    )
    country = draw(st.sampled_from([None, None, "GB", "US"]))
    return Calendar("random", ZoneInfo(draw(st.sampled_from(ZONES))), week, holidays, country)


instants = st.integers(-300 * 86400, 600 * 86400).map(
    lambda s: T0 + timedelta(seconds=s, microseconds=s % 7 * 111)
)
amounts = st.integers(0, 40 * 86400).map(lambda s: timedelta(seconds=s))


@settings(max_examples=150, deadline=None)
@given(calendars(), st.lists(st.tuples(instants, instants, amounts), min_size=1, max_size=12))
def test_calendar_arithmetic_is_unchanged(
    calendar: Calendar, queries: list[tuple[datetime, datetime, timedelta]]
) -> None:
    # One calendar answers many questions, in any order: its timeline grows both ways.
    for start, end, amount in queries:
        assert calendar.business_between(start, end) == ref_business_between(calendar, start, end)
        try:
            expected: datetime | str = ref_add_business(calendar, start, amount)
        except ValueError as exc:
            expected = str(exc)
        try:
            got: datetime | str = calendar.add_business(start, amount)
        except ValueError as exc:
            got = str(exc)
        assert got == expected


def test_a_closed_calendar_still_refuses_to_add() -> None:
    closed = Calendar("closed", ZoneInfo("Europe/London"), (None,) * 7)
    for _ in range(2):  # the second time from a timeline that already covers five years
        with pytest.raises(ValueError, match="no working time in 1830 days"):
            closed.add_business(T0, timedelta(seconds=1))
    assert closed.business_between(T0, T0 + timedelta(days=3000)) == timedelta(0)


STATUSES = ["new", "open", "pending", "resolved", "closed"]


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    response = draw(st.sampled_from([None, timedelta(minutes=15), timedelta(hours=4)]))
    resolution = draw(st.sampled_from([None, timedelta(hours=8), timedelta(days=3)]))
    if response is None and resolution is None:
        resolution = timedelta(hours=1)
    return Policy(
        "p",
        response,
        resolution,
        calendar=draw(calendars()),
        pause_raw_statuses=frozenset({"awaiting vendor"}),
        thresholds=draw(st.sampled_from([(0.5, 0.75), (0.9,), ()])),
    )


changes = st.lists(
    st.builds(
        StatusChange,
        st.integers(0, 30 * 86400).map(lambda s: T0 + timedelta(seconds=s)),
        st.sampled_from(STATUSES),
        st.sampled_from(["", "Awaiting Vendor", "In Progress"]),
    ),
    max_size=8,
)
offsets = st.one_of(st.none(), st.integers(0, 20 * 86400).map(lambda s: timedelta(seconds=s)))


@settings(max_examples=200, deadline=None)
@given(policies(), changes, offsets, offsets, st.integers(0, 40 * 86400))
def test_ticket_clocks_are_unchanged(
    policy: Policy,
    history: list[StatusChange],
    responded: timedelta | None,
    resolved: timedelta | None,
    now_offset: int,
) -> None:
    inputs = {
        "policy": policy,
        "created_at": T0,
        "first_response_at": T0 + responded if responded is not None else None,
        "resolved_at": T0 + resolved if resolved is not None else None,
        "history": history,
        "now": T0 + timedelta(seconds=now_offset),
    }
    try:
        expected: list[ClockResult] | str = ref_ticket_clocks(**inputs)  # type: ignore[arg-type]
    except ValueError as exc:  # a calendar without working hours: both refuse alike
        expected = str(exc)
    try:
        got: list[ClockResult] | str = ticket_clocks(**inputs)  # type: ignore[arg-type]
    except ValueError as exc:
        got = str(exc)
    assert got == expected
    if history:
        one = {"start": T0, "stop": inputs["resolved_at"], "history": history, "now": inputs["now"]}
        target = timedelta(hours=2)
        assert compute_clock(Metric.RESOLUTION, policy, target, **one) == ref_compute_clock(  # type: ignore[arg-type]
            Metric.RESOLUTION,
            policy,
            target,
            **one,  # type: ignore[arg-type]
        )

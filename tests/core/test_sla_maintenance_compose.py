"""Maintenance pause windows compose with the other SLA rules (merge of issue #17 and main).

A window stops a ``pause_in_maintenance`` clock; it must also move the
near-breach time (the second threshold), count only after ``since`` (a ticket
that came under its policy later), and leave an *unknown* response clock
unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from paneglass.sla import (
    MAINTENANCE,
    ClockResult,
    ClockState,
    Metric,
    Policy,
    StatusChange,
    Window,
    ticket_clocks,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
POLICY = Policy(
    "P1",
    response=timedelta(hours=1),
    resolution=timedelta(hours=4),
    pause_in_maintenance=True,
)


def _resolution(
    *, now: datetime, since: datetime | None = None, suspended: Sequence[Window] = ()
) -> ClockResult:
    clocks = ticket_clocks(
        policy=POLICY,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=[StatusChange(T0, "new")],
        now=now,
        since=since,
        suspended=suspended,
    )
    return next(c for c in clocks if c.metric is Metric.RESOLUTION)


def test_a_window_ahead_moves_the_near_breach_time_past_it() -> None:
    now = T0 + timedelta(hours=1)
    window = (T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    plain = _resolution(now=now)
    paused = _resolution(now=now, suspended=[window])
    assert plain.near_breach_at == T0 + timedelta(hours=3)  # 75 % of 4 h
    assert paused.near_breach_at == T0 + timedelta(hours=4)  # the window's hour added
    assert paused.due_at == T0 + timedelta(hours=5)
    assert paused.at_risk_at == T0 + timedelta(hours=2)  # before the window: unmoved


def test_a_window_passed_keeps_the_clock_below_near_breach() -> None:
    now = T0 + timedelta(hours=3, minutes=30)  # 3.5 h in, 1 h of it in maintenance
    window = (T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert _resolution(now=now).state is ClockState.NEAR_BREACH
    clock = _resolution(now=now, suspended=[window])
    assert clock.elapsed == timedelta(hours=2, minutes=30)
    assert clock.state is ClockState.AT_RISK
    assert clock.near_breach_at == T0 + timedelta(hours=4)


def test_during_a_window_the_clock_reads_paused_for_maintenance() -> None:
    now = T0 + timedelta(hours=1, minutes=30)
    clock = _resolution(now=now, suspended=[(T0 + timedelta(hours=1), T0 + timedelta(hours=2))])
    assert clock.paused and clock.pause_reason == MAINTENANCE
    assert clock.due_at is clock.near_breach_at is clock.at_risk_at is None


def test_only_the_part_of_a_window_after_since_counts() -> None:
    since = T0 + timedelta(hours=2)  # raised to P1 at 10:00
    window = (T0 + timedelta(hours=1), T0 + timedelta(hours=3))  # 09:00-11:00
    now = T0 + timedelta(hours=4)
    clock = _resolution(now=now, since=since, suspended=[window])
    assert clock.started_at == since
    assert clock.elapsed == timedelta(hours=1)  # 10:00-12:00 less 10:00-11:00
    assert not clock.paused


def test_an_unknown_response_clock_stays_unknown_in_maintenance() -> None:
    now = T0 + timedelta(hours=1)
    clocks = ticket_clocks(
        policy=POLICY,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=[StatusChange(T0, "open")],  # first seen past New, no response time
        now=now,
        suspended=[(T0, T0 + timedelta(hours=2))],
    )
    response = next(c for c in clocks if c.metric is Metric.RESPONSE)
    assert response.state is ClockState.UNKNOWN and response.pause_reason is None

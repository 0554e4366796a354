"""The SLA engine: pure, pauses excluded, breach latched at the right instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from paneglass.sla import (
    DEFAULT_POLICIES,
    ClockState,
    Metric,
    StatusChange,
    compute_clock,
    ticket_clocks,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
P1 = DEFAULT_POLICIES["P1"]


def clock(
    history: list[StatusChange], now: datetime, stop: datetime | None = None, target: float = 4
):
    return compute_clock(
        Metric.RESOLUTION,
        P1,
        timedelta(hours=target),
        start=T0,
        stop=stop,
        history=history,
        now=now,
    )


def test_running_clock_states() -> None:
    history = [StatusChange(T0, "open")]
    assert clock(history, T0 + timedelta(hours=1)).state is ClockState.OK
    assert clock(history, T0 + timedelta(hours=3, minutes=1)).state is ClockState.AT_RISK
    late = clock(history, T0 + timedelta(hours=5))
    assert late.state is ClockState.BREACHED
    assert late.breach_at == T0 + timedelta(hours=4)
    assert late.elapsed == timedelta(hours=5)  # may exceed the target


def test_pending_pauses_the_clock() -> None:
    history = [
        StatusChange(T0, "open"),
        StatusChange(T0 + timedelta(hours=1), "pending"),
        StatusChange(T0 + timedelta(hours=3), "open"),
    ]
    result = clock(history, T0 + timedelta(hours=4))
    assert result.elapsed == timedelta(hours=2)
    assert result.due_at == T0 + timedelta(hours=6)
    paused = clock(history[:2], T0 + timedelta(hours=2))
    assert paused.paused and paused.due_at is None


def test_stopped_clock_is_met_or_missed() -> None:
    history = [StatusChange(T0, "open")]
    assert (
        clock(history, T0 + timedelta(days=1), stop=T0 + timedelta(hours=2)).state is ClockState.MET
    )
    missed = clock(history, T0 + timedelta(days=1), stop=T0 + timedelta(hours=6))
    assert missed.state is ClockState.MISSED
    assert missed.breach_at == T0 + timedelta(hours=4)


def test_no_policy_no_clock() -> None:
    assert (
        ticket_clocks(
            priority=None,
            created_at=T0,
            first_response_at=None,
            resolved_at=None,
            history=[],
            now=T0,
        )
        == []
    )
    clocks = ticket_clocks(
        priority="P2",
        created_at=T0,
        first_response_at=T0 + timedelta(minutes=5),
        resolved_at=None,
        history=[StatusChange(T0, "open")],
        now=T0 + timedelta(hours=1),
    )
    assert [(c.metric, c.state) for c in clocks] == [
        (Metric.RESPONSE, ClockState.MET),
        (Metric.RESOLUTION, ClockState.OK),
    ]


statuses = st.sampled_from(["open", "pending", "new"])


@given(
    st.lists(st.tuples(st.integers(0, 600), statuses), max_size=12),
    st.integers(0, 900),
    st.integers(0, 300),
)
def test_elapsed_is_bounded_monotone_and_replayable(changes, now_minutes, extra) -> None:
    unique = {m: s for m, s in changes if m > 0}  # one change per instant
    history = [StatusChange(T0, "open")] + [
        StatusChange(T0 + timedelta(minutes=m), s) for m, s in unique.items()
    ]
    now = T0 + timedelta(minutes=now_minutes)
    first = clock(history, now)
    assert timedelta(0) <= first.elapsed <= now - T0
    later = clock(history, now + timedelta(minutes=extra))
    assert later.elapsed >= first.elapsed
    assert clock(list(reversed(history)), now) == first  # order of arrival does not matter
    assert (first.state is ClockState.BREACHED) == (first.elapsed >= first.target)

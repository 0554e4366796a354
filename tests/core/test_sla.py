"""The SLA engine: pure; pauses, calendars, cycles; breach latched at the right instant."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from paneglass.sla import (
    DEFAULT_SETTINGS,
    Calendar,
    ClockState,
    Metric,
    Policy,
    SlaSettings,
    StatusChange,
    compute_clock,
    ticket_clocks,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
P1 = Policy("P1", timedelta(minutes=15), timedelta(hours=4), thresholds=(0.75,))


def clock(
    history: list[StatusChange], now: datetime, stop: datetime | None = None, policy: Policy = P1
):
    return compute_clock(
        Metric.RESOLUTION, policy, timedelta(hours=4), start=T0, stop=stop, history=history, now=now
    )


def test_running_clock_states() -> None:
    history = [StatusChange(T0, "open")]
    assert clock(history, T0 + timedelta(hours=1)).state is ClockState.OK
    assert clock(history, T0 + timedelta(hours=3, minutes=1)).state is ClockState.AT_RISK
    late = clock(history, T0 + timedelta(hours=5))
    assert late.state is ClockState.BREACHED
    assert late.breach_at == T0 + timedelta(hours=4)
    assert late.due_at == late.breach_at
    assert late.elapsed == timedelta(hours=5)  # may exceed the target


def test_default_threshold_is_half_the_target() -> None:
    policy = DEFAULT_SETTINGS.match("any", "P1", None)
    assert policy is not None and policy.thresholds == (0.5, 0.75)
    result = clock([StatusChange(T0, "open")], T0 + timedelta(hours=2, minutes=1), policy=policy)
    assert result.state is ClockState.AT_RISK
    assert result.at_risk_at is not None


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


def test_vendor_statuses_named_in_the_policy_pause_too() -> None:
    policy = Policy(
        "p", None, timedelta(hours=4), pause_raw_statuses=frozenset({"awaiting vendor"})
    )
    history = [
        StatusChange(T0, "open", "In Progress"),
        StatusChange(T0 + timedelta(hours=1), "open", "Awaiting Vendor"),
    ]
    result = clock(history, T0 + timedelta(hours=3), policy=policy)
    assert result.elapsed == timedelta(hours=1) and result.paused


def test_stopped_clock_is_met_or_missed() -> None:
    history = [StatusChange(T0, "open")]
    assert (
        clock(history, T0 + timedelta(days=1), stop=T0 + timedelta(hours=2)).state is ClockState.MET
    )
    missed = clock(history, T0 + timedelta(days=1), stop=T0 + timedelta(hours=6))
    assert missed.state is ClockState.MISSED
    assert missed.breach_at == T0 + timedelta(hours=4)


def test_business_calendar_counts_only_working_hours() -> None:
    london = ZoneInfo("Europe/London")
    office = Calendar("office", london, ((time(9), time(17)),) * 5 + (None, None))
    policy = Policy("office P2", None, timedelta(hours=8), calendar=office)
    friday_3pm = datetime(2026, 11, 20, 15, tzinfo=london)
    result = compute_clock(
        Metric.RESOLUTION,
        policy,
        timedelta(hours=8),
        start=friday_3pm,
        stop=None,
        history=[StatusChange(friday_3pm, "open")],
        now=friday_3pm + timedelta(hours=1),
    )
    assert result.elapsed == timedelta(hours=1)
    assert result.due_at == datetime(2026, 11, 23, 15, tzinfo=london)  # Monday 15:00


def test_policies_first_match_wins_and_no_match_no_clock() -> None:
    settings = SlaSettings(
        (
            Policy(
                "hosting P1",
                None,
                timedelta(hours=2),
                vendors=frozenset({"hosting"}),
                priorities=frozenset({"P1"}),
            ),
            Policy("network team", None, timedelta(hours=6), groups=frozenset({"network ops"})),
            Policy("any P1", None, timedelta(hours=4), priorities=frozenset({"P1"})),
        )
    )
    assert settings.match("hosting", "P1", None).name == "hosting P1"  # type: ignore[union-attr]
    assert settings.match("desktop", "P3", "Network Ops").name == "network team"  # type: ignore[union-attr]
    assert settings.match("desktop", "P1", None).name == "any P1"  # type: ignore[union-attr]
    assert settings.match("desktop", "P2", None) is None
    assert (
        ticket_clocks(
            policy=None, created_at=T0, first_response_at=None, resolved_at=None, history=[], now=T0
        )
        == []
    )


def test_response_stops_at_first_response() -> None:
    clocks = ticket_clocks(
        policy=DEFAULT_SETTINGS.match("x", "P2", None),
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


def test_reopen_starts_a_new_cycle_and_keeps_the_old() -> None:
    history = [
        StatusChange(T0, "open"),
        StatusChange(T0 + timedelta(hours=1), "resolved"),
        StatusChange(T0 + timedelta(hours=5), "open"),
    ]
    clocks = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=T0 + timedelta(minutes=1),
        resolved_at=None,
        history=history,
        now=T0 + timedelta(hours=6),
    )
    cycles = [(c.cycle, c.state, c.started_at) for c in clocks if c.metric is Metric.RESOLUTION]
    assert cycles == [
        (0, ClockState.MET, T0),
        (1, ClockState.OK, T0 + timedelta(hours=5)),
    ]


statuses = st.sampled_from(["open", "pending", "new"])


@given(
    st.lists(st.tuples(st.integers(1, 600), statuses), max_size=12),
    st.integers(0, 900),
    st.integers(0, 300),
)
def test_elapsed_is_bounded_monotone_and_replayable(changes, now_minutes, extra) -> None:
    unique = dict(changes)  # one change per instant
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


def test_response_without_a_vendor_answer_stops_when_the_ticket_leaves_new() -> None:
    history = [StatusChange(T0, "new"), StatusChange(T0 + timedelta(minutes=10), "open")]
    clocks = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=history,
        now=T0 + timedelta(hours=1),
    )
    response = next(c for c in clocks if c.metric is Metric.RESPONSE)
    assert response.stopped_at == T0 + timedelta(minutes=10) and response.state is ClockState.MET
    waiting = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=history[:1],
        now=T0 + timedelta(minutes=20),
    )
    assert next(c for c in waiting if c.metric is Metric.RESPONSE).state is ClockState.BREACHED

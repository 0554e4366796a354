"""The SLA engine, finished (issue #15): near breach, split days and night shifts, clocks that
start when the policy first covers the ticket, an unknown response clock, and the ≠ mark."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.config import parse_config
from paneglass.errors import UserError
from paneglass.sla import (
    Calendar,
    ClockState,
    FieldsChange,
    Metric,
    Policy,
    StatusChange,
    compute_clock,
    covered_since,
    live_state,
    ticket_clocks,
)
from paneglass.store import PollRunInfo, SlaRow, Store
from paneglass.ui.screens.ticket_detail import render_detail
from paneglass.ui.widgets.sla_list import disagrees, sla_face

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
LONDON = ZoneInfo("Europe/London")
P1 = Policy("P1", timedelta(minutes=20), timedelta(hours=4), priorities=frozenset({"P1"}))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


def test_the_second_threshold_is_a_level_of_its_own() -> None:
    history = [StatusChange(T0, "open")]

    def at(minutes: int) -> ClockState:
        now = T0 + timedelta(minutes=minutes)
        clock = compute_clock(
            Metric.RESPONSE,
            P1,
            P1.response,
            start=T0,
            stop=None,
            history=history,
            now=now,  # type: ignore[arg-type]
        )
        return clock.state

    assert [at(m) for m in (5, 10, 14, 15, 19, 20)] == [
        ClockState.OK,
        ClockState.AT_RISK,
        ClockState.AT_RISK,
        ClockState.NEAR_BREACH,
        ClockState.NEAR_BREACH,
        ClockState.BREACHED,
    ]
    clock = compute_clock(
        Metric.RESPONSE,
        P1,
        P1.response,
        start=T0,
        stop=None,
        history=history,
        now=T0,  # type: ignore[arg-type]
    )
    assert clock.near_breach_at == T0 + timedelta(minutes=15)
    # Between ticks a view judges it live from its times.
    later = T0 + timedelta(minutes=16)
    assert live_state(ClockState.AT_RISK, clock.due_at, later, clock.near_breach_at) is (
        ClockState.NEAR_BREACH
    )
    one_threshold = Policy("x", timedelta(minutes=20), None, thresholds=(0.5,))
    assert one_threshold.near_breach_share is None


def test_a_day_with_a_lunch_break() -> None:
    split = ((time(8), time(12)), (time(13), time(17)))
    office = Calendar("split", LONDON, (split,) * 5 + (None, None))
    monday = london(2026, 11, 23, 11)
    assert office.business_between(monday, london(2026, 11, 23, 14)) == timedelta(hours=2)
    assert office.add_business(monday, timedelta(hours=2)) == london(2026, 11, 23, 14)
    assert office.add_business(london(2026, 11, 23, 16), timedelta(hours=2)) == london(
        2026, 11, 24, 9
    )


def test_a_night_shift_runs_across_midnight() -> None:
    night = (time(22), time(6))
    nights = Calendar("nights", LONDON, (night,) * 5 + (None, None))
    monday_23 = london(2026, 11, 23, 23)
    assert nights.business_between(monday_23, london(2026, 11, 24, 7)) == timedelta(hours=7)
    assert nights.add_business(monday_23, timedelta(hours=7)) == london(2026, 11, 24, 6)
    assert nights.add_business(monday_23, timedelta(hours=8)) == london(2026, 11, 24, 23)
    # Friday's shift ends on Saturday morning; Saturday has none.
    friday_23 = london(2026, 11, 27, 23)
    assert nights.add_business(friday_23, timedelta(hours=8)) == london(2026, 11, 30, 23)


def test_calendar_config_reads_spans_and_shifts() -> None:
    config = parse_config(
        tomllib.loads(
            "[sla.calendars.desk]\n"
            'timezone = "Europe/London"\n'
            'hours = { mon = "08:00-12:00, 13:00-17:00", tue = ["22:00-06:00"] }\n'
            '[[sla.policies]]\nname = "x"\nresolution = "4h"\ncalendar = "desk"\n'
        )
    )
    calendar = config.sla.policies[0].calendar
    assert calendar.week is not None
    assert calendar.week[0] == ((time(8), time(12)), (time(13), time(17)))
    assert calendar.week[1] == ((time(22), time(6)),)
    for bad, message in (
        ('hours = "08:00-13:00, 12:00-17:00"', "overlapping"),
        ("thresholds = [0.5, 0.75, 0.9]", "one or two"),
    ):
        text = f"[sla]\n{bad}\n" if bad.startswith("thresholds") else f"[sla.calendars.c]\n{bad}\n"
        with pytest.raises(UserError, match=message):
            parse_config(tomllib.loads(text))


def test_a_clock_starts_when_its_policy_first_covers_the_ticket() -> None:
    raised = T0 + timedelta(hours=2)
    changes = [FieldsChange(T0, "P3", None), FieldsChange(raised, "P1", None)]
    assert covered_since(P1, "hosting", T0, changes) == raised
    assert covered_since(P1, "hosting", T0, [FieldsChange(T0, "P1", None)]) == T0
    # Out of the policy and back: the latest return counts.
    back = raised + timedelta(hours=1)
    wobble = [*changes, FieldsChange(raised + timedelta(minutes=5), "P2", None)]
    assert covered_since(P1, "hosting", T0, [*wobble, FieldsChange(back, "P1", None)]) == back
    clocks = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=[StatusChange(T0, "new")],
        now=raised + timedelta(minutes=10),
        since=raised,
    )
    response, resolution = clocks
    assert response.started_at == raised and response.state is ClockState.AT_RISK
    assert resolution.started_at == raised and resolution.elapsed == timedelta(minutes=10)


def test_the_store_starts_the_clock_at_the_priority_change(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.sync_vendors([VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")])

    def record(priority: Priority, updated: datetime) -> TicketRecord:
        return TicketRecord(
            external_id="1",
            key="INC1",
            title="GP slow",
            status=TicketStatus.OPEN,
            raw_status="In Progress",
            priority=priority,
            raw_priority=priority.value,
            created_at=T0,
            updated_at=updated,
        )

    run = PollRunInfo(T0, T0, True)
    store.apply("hosting", PollResult(tickets=(record(Priority.P3, T0),)), run, T0)
    raised = T0 + timedelta(hours=3)
    store.apply("hosting", PollResult(tickets=(record(Priority.P1, raised),)), None, raised)
    detail = store.ticket_detail(1)
    assert detail is not None
    resolution = next(c for c in detail.clocks if c.metric == "resolution")
    assert resolution.policy == "P1 default"
    assert resolution.started_at == raised, "not retroactively from creation"
    assert resolution.state is ClockState.OK
    store.close()


def test_response_is_unknown_when_first_seen_past_new_without_a_response_time() -> None:
    seen_open = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=None,
        resolved_at=None,
        history=[StatusChange(T0, "open")],
        now=T0 + timedelta(hours=1),
    )
    assert seen_open[0].metric is Metric.RESPONSE and seen_open[0].state is ClockState.UNKNOWN
    answered = ticket_clocks(
        policy=P1,
        created_at=T0,
        first_response_at=T0 + timedelta(minutes=5),
        resolved_at=None,
        history=[StatusChange(T0, "open")],
        now=T0 + timedelta(hours=1),
    )
    assert answered[0].state is ClockState.MET


def _row(**fields: object) -> SlaRow:
    values: dict[str, object] = {
        "ticket_id": 1,
        "vendor": "hosting",
        "key": "INC1",
        "priority": "P1",
        "title": "GP slow",
        "metric": "resolution",
        "state": ClockState.AT_RISK,
        "due_at": T0 + timedelta(hours=1),
        "breach_at": None,
        "paused": False,
        "vendor_due_at": None,
        "vendor_breached": None,
    }
    values.update(fields)
    return SlaRow(**values)  # type: ignore[arg-type]


def test_the_sla_pane_marks_vendor_disagreement() -> None:
    now = T0
    assert not disagrees(_row(), now)
    assert not disagrees(_row(vendor_due_at=T0 + timedelta(hours=1, minutes=10)), now)
    assert disagrees(_row(vendor_due_at=T0 + timedelta(hours=2)), now)
    assert disagrees(_row(vendor_breached=True), now)
    assert not disagrees(_row(vendor_breached=True, due_at=T0 - timedelta(minutes=1)), now)
    near = _row(near_breach_at=T0 - timedelta(minutes=1))
    assert sla_face(near, now).word == "near breach"


def test_detail_shows_unknown_and_disagreement(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    store.sync_vendors([VendorConfig("hosting", "servicenow", "http://127.0.0.1:9")])
    ticket = TicketRecord(
        external_id="7",
        key="INC7",
        title="GP slow",
        status=TicketStatus.OPEN,
        raw_status="In Progress",
        priority=Priority.P1,
        raw_priority="1",
        created_at=T0,
        updated_at=T0,
        vendor_due_at=T0 + timedelta(hours=9),
    )
    store.apply("hosting", PollResult(tickets=(ticket,)), PollRunInfo(T0, T0, True), T0)
    detail = store.ticket_detail(1)
    assert detail is not None
    text = render_detail(detail, T0 + timedelta(minutes=5), UTC).plain
    assert "? unknown" in text and "no response time" in text
    assert "≠ the vendor's SLA disagrees" in text
    agreeing = replace(ticket, vendor_due_at=T0 + timedelta(hours=4))
    store.apply("hosting", PollResult(tickets=(agreeing,)), None, T0)
    detail = store.ticket_detail(1)
    assert detail is not None
    assert "≠" not in render_detail(detail, T0 + timedelta(minutes=5), UTC).plain
    store.close()

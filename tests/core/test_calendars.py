"""Business calendars: working hours in a zone, holidays, DST, and the 24x7 default."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paneglass.sla import ALWAYS, Calendar

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = (time(9), time(17))
OFFICE = Calendar("office", LONDON, (NINE_TO_FIVE,) * 5 + (None, None))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


def test_24x7_counts_everything() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    assert ALWAYS.business_between(start, start + timedelta(days=2)) == timedelta(days=2)
    assert ALWAYS.add_business(start, timedelta(hours=5)) == start + timedelta(hours=5)


def test_weekend_and_evenings_do_not_count() -> None:
    friday_4pm = london(2026, 11, 20, 16)
    monday_10am = london(2026, 11, 23, 10)
    assert OFFICE.business_between(friday_4pm, monday_10am) == timedelta(hours=2)
    assert OFFICE.add_business(friday_4pm, timedelta(hours=2)) == monday_10am


def test_dst_change_keeps_local_office_hours() -> None:
    # UK clocks go forward on Sunday 29 March 2026: office opens 09:00 local = 08:00 UTC after.
    friday = london(2026, 3, 27, 9)
    monday = london(2026, 3, 30, 9)
    assert friday.hour == 9 and monday.hour == 8
    assert OFFICE.business_between(friday, monday + timedelta(hours=8)) == timedelta(hours=16)


def test_explicit_and_public_holidays() -> None:
    with_dates = Calendar("x", LONDON, OFFICE.week, holidays=frozenset({date(2026, 11, 23)}))
    monday = london(2026, 11, 23, 9)
    assert with_dates.business_between(monday, monday + timedelta(hours=8)) == timedelta(0)
    england = Calendar("gb", LONDON, OFFICE.week, country="GB", subdivision="ENG")
    christmas = london(2026, 12, 25, 9)  # a Friday
    assert england.is_holiday(date(2026, 12, 25))
    assert england.business_between(christmas, christmas + timedelta(hours=8)) == timedelta(0)
    assert england.add_business(london(2026, 12, 24, 16), timedelta(hours=2)) == london(
        2026, 12, 29, 10
    )


def test_a_calendar_with_no_hours_refuses_to_add() -> None:
    closed = Calendar("closed", LONDON, (None,) * 7)
    with pytest.raises(ValueError, match="no working time"):
        closed.add_business(london(2026, 1, 5, 9), timedelta(hours=1))


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_add_business_inverts_business_between(start: datetime, minutes: int) -> None:
    amount = timedelta(minutes=minutes)
    end = OFFICE.add_business(start, amount)
    assert OFFICE.business_between(start, end) == amount
    assert end >= start

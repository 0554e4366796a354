"""Business calendars: when a contract's clock is allowed to count.

A calendar is weekly working hours in a named time zone, minus holidays
(explicit dates and/or a country's public holidays from the ``holidays``
package). A day may have several spans (a lunch break), and a span may run
past midnight (a night shift ``22:00-06:00`` belongs to the day it starts on;
the holiday rule looks at that day too). ``24x7`` counts every second. All
arithmetic is done on real instants: each working day's hours are placed in the calendar's zone and
converted to UTC, so a clock is correct across DST changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_data

__all__ = ["ALWAYS", "Calendar", "DayHours", "WorkingHours"]

WorkingHours = tuple[time, time]
"""Open from the first time to the second on one weekday (end ``00:00`` means midnight;
an end at or before the start runs into the next day)."""

DayHours = tuple[WorkingHours, ...]
"""Every span of one weekday, in order of opening."""

_MAX_DAYS = 366 * 5
"""How far ``add_business`` searches before it gives up (a calendar with no hours)."""


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_data.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class Calendar:
    """Working time: weekly hours in ``zone`` minus holidays; no hours at all means 24x7."""

    name: str
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    week: tuple[DayHours | WorkingHours | None, ...] | None = None
    """Monday..Sunday: one span, several, or ``None`` (closed); ``None`` for the whole
    tuple means open 24x7."""
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if self.week is None:
            return
        days: list[DayHours | None] = []
        for day in self.week:
            if day is None or not day:
                days.append(None)
            elif isinstance(day[0], time):  # one span given alone
                days.append((day,))
            else:
                days.append(tuple(sorted(day)))
        object.__setattr__(self, "week", tuple(days))

    @property
    def always_open(self) -> bool:
        """True for a 24x7 calendar."""
        return self.week is None

    def is_holiday(self, day: date) -> bool:
        """An explicit or a public holiday."""
        if day in self.holidays:
            return True
        if self.country:
            return day in _public_holidays(self.country, self.subdivision, day.year)
        return False

    def _day_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The spans that open on ``day`` (local), in UTC; a night shift ends the next day."""
        assert self.week is not None
        hours = self.week[day.weekday()]
        if hours is None or self.is_holiday(day):
            return []
        spans = []
        for opens, closes in hours:  # type: ignore[misc]
            start = datetime.combine(day, opens, self.zone)
            end_day = day + timedelta(days=1) if closes <= opens else day
            end = datetime.combine(end_day, closes, self.zone)
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
        return spans

    def _spans(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        """Working spans opening from ``first`` to ``last`` (local days), overlaps merged."""
        pending: tuple[datetime, datetime] | None = None
        day = first
        while day <= last:
            for lo, hi in self._day_spans(day):
                if pending is not None and lo <= pending[1]:
                    pending = (pending[0], max(pending[1], hi))
                    continue
                if pending is not None:
                    yield pending
                pending = (lo, hi)
            day += timedelta(days=1)
        if pending is not None:
            yield pending

    def open_spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working spans inside [start, end), in order."""
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        for span_start, span_end in self._spans(first, last):
            lo, hi = max(span_start, start), min(span_end, end)
            if lo < hi:
                yield lo, hi

    def business_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end)."""
        return sum((hi - lo for lo, hi in self.open_spans(start, end)), timedelta(0))

    def add_business(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has passed since ``start``."""
        if self.always_open:
            return start + amount
        if amount <= timedelta(0):
            return start
        remaining = amount
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        for span_start, span_end in self._spans(first, first + timedelta(days=_MAX_DAYS)):
            if span_end <= start:
                continue
            lo = max(span_start, start)
            available = span_end - lo
            if available >= remaining:
                return lo + remaining
            remaining -= available
        raise ValueError(f"calendar {self.name!r} has no working time in {_MAX_DAYS} days")


ALWAYS = Calendar("24x7")
"""The built-in round-the-clock calendar."""

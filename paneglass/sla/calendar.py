"""Business calendars: when a contract's clock is allowed to count.

A calendar is weekly working hours in a named time zone, minus holidays
(explicit dates and/or a country's public holidays from the ``holidays``
package). ``24x7`` counts every second. All arithmetic is done on real
instants: each working day's hours are placed in the calendar's zone and
converted to UTC, so a clock is correct across DST changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["ALWAYS", "Calendar", "WorkingHours"]

WorkingHours = tuple[time, time]
"""Open from the first time to the second on one weekday (end ``00:00`` means midnight)."""

_MAX_DAYS = 366 * 5
"""How far ``add_business`` searches before it gives up (a calendar with no hours)."""


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays as holiday_data  # only when a calendar names a country (a slow import)

    return frozenset(holiday_data.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class Calendar:
    """Working time: weekly hours in ``zone`` minus holidays; no hours at all means 24x7."""

    name: str
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    week: tuple[WorkingHours | None, ...] | None = None
    """Monday..Sunday; ``None`` for the whole tuple means open 24x7."""
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

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

    def _day_span(self, day: date) -> tuple[datetime, datetime] | None:
        assert self.week is not None
        hours = self.week[day.weekday()]
        if hours is None or self.is_holiday(day):
            return None
        opens, closes = hours
        start = datetime.combine(day, opens, self.zone)
        end = (
            datetime.combine(day + timedelta(days=1), time(0), self.zone)
            if closes == time(0)
            else datetime.combine(day, closes, self.zone)
        )
        return start.astimezone(UTC), end.astimezone(UTC)

    def open_spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working spans inside [start, end), in order."""
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            span = self._day_span(day)
            if span is not None:
                lo, hi = max(span[0], start), min(span[1], end)
                if lo < hi:
                    yield lo, hi
            day += timedelta(days=1)

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
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            span = self._day_span(day)
            day += timedelta(days=1)
            if span is None or span[1] <= start:
                continue
            lo = max(span[0], start)
            available = span[1] - lo
            if available >= remaining:
                return lo + remaining
            remaining -= available
        raise ValueError(f"calendar {self.name!r} has no working time in {_MAX_DAYS} days")


ALWAYS = Calendar("24x7")
"""The built-in round-the-clock calendar."""

"""Business calendars: when a contract's clock is allowed to count.

A calendar is weekly working hours in a named time zone, minus holidays
(explicit dates and/or a country's public holidays from the ``holidays``
package). ``24x7`` counts every second. All arithmetic is done on real
instants: each working day's hours are placed in the calendar's zone and
converted to UTC, so a clock is correct across DST changes.

Each calendar keeps a timeline of the days it was asked about: per local day
its working span and a running total of working time. Working time between
two instants is then the difference of two running totals, whatever the
distance, and adding working time is a binary search over the totals; a day
is placed in its zone only once. The timeline is a memo of pure values, so a
calendar stays a pure function of its fields.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
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


class _Days(NamedTuple):
    """A run of consecutive local days from ``first`` (an ordinal), one entry per day."""

    first: int
    before: list[timedelta]
    """Working time of the timeline's earlier days (a running total)."""
    through: list[timedelta]
    """The same, the day itself included (never decreasing: a sorted list)."""
    opens: list[datetime | None]
    """The day's working span in UTC, ``None`` on a closed day."""
    closes: list[datetime | None]


class _Timeline:
    """A calendar's working time day by day, with running totals (a memo of pure values).

    Covers a run of consecutive days, widened on demand (forwards by appending,
    backwards by rebuilding the run); every total is an exact sum of whole
    microseconds. Readers take the current run without locking: a published
    run only ever grows at its end, and its entries never change.
    """

    __slots__ = ("_calendar", "_days", "_lock")

    _STEP = 32
    """Days added at a time when the run grows forwards."""

    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self._days: _Days | None = None
        self._lock = threading.Lock()

    def _span(self, ordinal: int) -> tuple[datetime, datetime] | tuple[None, None]:
        span = self._calendar._day_span(date.fromordinal(ordinal))
        if span is None or span[1] <= span[0]:
            return None, None
        return span

    def cover(self, low: int, high: int) -> _Days:
        """The run, grown to cover the ordinals ``low`` to ``high``."""
        days = self._days
        if days is not None and days.first <= low and high < days.first + len(days.through):
            return days
        with self._lock:
            days = self._days
            if days is None:
                days = _Days(low, [], [], [], [])
                total = timedelta(0)
            else:
                total = days.through[-1]
            if days.first > low:  # rebuild the run from ``low``; the totals move, not the sums
                spans = [self._span(o) for o in range(low, days.first)]
                shift = sum(
                    (c - o for o, c in spans if o is not None and c is not None), timedelta(0)
                )
                fresh = _Days(low, [], [], [], [])
                running = days.before[0] - shift if days.before else timedelta(0)
                for opens, closes in spans:
                    fresh.before.append(running)
                    if opens is not None and closes is not None:
                        running = running + (closes - opens)
                    fresh.through.append(running)
                    fresh.opens.append(opens)
                    fresh.closes.append(closes)
                fresh.before.extend(days.before)
                fresh.through.extend(days.through)
                fresh.opens.extend(days.opens)
                fresh.closes.extend(days.closes)
                days = fresh
                total = days.through[-1] if days.through else timedelta(0)
            last = days.first + len(days.through) - 1
            if last < high:
                for ordinal in range(last + 1, max(high, last + self._STEP) + 1):
                    opens, closes = self._span(ordinal)
                    days.before.append(total)
                    if opens is not None and closes is not None:
                        total = total + (closes - opens)
                    days.through.append(total)
                    days.opens.append(opens)
                    days.closes.append(closes)
            self._days = days
            return days

    def worked(self, instant: datetime) -> tuple[int, timedelta]:
        """(local day ordinal, working time on the timeline before ``instant``)."""
        ordinal = instant.astimezone(self._calendar.zone).toordinal()
        days = self.cover(ordinal, ordinal)
        at = ordinal - days.first
        opens, closes = days.opens[at], days.closes[at]
        if opens is None or closes is None or instant <= opens:
            return ordinal, days.before[at]
        return ordinal, days.before[at] + (min(instant, closes) - opens)


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
    _timeline: _Timeline = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_timeline", _Timeline(self))

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
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        return self._timeline.worked(end)[1] - self._timeline.worked(start)[1]

    def add_business(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has passed since ``start``."""
        if self.always_open:
            return start + amount
        if amount <= timedelta(0):
            return start
        # The first day whose running total reaches the goal is open, and ends after ``start``
        # (every earlier instant has worked less than the goal).
        timeline = self._timeline
        ordinal, worked = timeline.worked(start)
        goal = worked + amount
        last = ordinal - 2 + _MAX_DAYS
        high = ordinal
        while True:
            days = timeline.cover(ordinal, high)
            found = bisect_left(days.through, goal, ordinal - days.first)
            if found < len(days.through):
                if days.first + found > last:
                    break
                opens = days.opens[found]
                assert opens is not None
                return opens + (goal - days.before[found])
            if days.first + len(days.through) > last:
                break
            high = days.first + len(days.through) + 4 * _Timeline._STEP
        raise ValueError(f"calendar {self.name!r} has no working time in {_MAX_DAYS} days")


ALWAYS = Calendar("24x7")
"""The built-in round-the-clock calendar."""

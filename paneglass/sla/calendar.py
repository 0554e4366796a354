"""Business calendars: when a contract's clock is allowed to count.

A calendar is weekly working hours in a named time zone, minus holidays
(explicit dates and/or a country's public holidays from the ``holidays``
package). A day may have several spans (a lunch break), and a span may run
past midnight (a night shift ``22:00-06:00`` belongs to the day it starts on;
the holiday rule looks at that day too). ``24x7`` counts every second. All
arithmetic is done on real instants: each working day's hours are placed in
the calendar's zone and converted to UTC, so a clock is correct across DST
changes.

Each calendar keeps a timeline of the working spans of the days it was asked
about (overlapping spans merged), each with a running total of working time.
Working time between two instants is then the difference of two running
totals, whatever the distance, and adding working time is a binary search
over the totals; a day is placed in its zone only once. The timeline is a
memo of pure values, so a calendar stays a pure function of its fields.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

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
    import holidays as holiday_data  # only when a calendar names a country (a slow import)

    return frozenset(holiday_data.country_holidays(country, subdiv=subdivision, years=year))


class _Spans(NamedTuple):
    """The merged working spans opening on local days ``first`` to ``last`` (ordinals)."""

    first: int
    last: int
    starts: list[datetime]
    ends: list[datetime]
    before: list[timedelta]
    """Working time of the timeline's earlier spans (a running total)."""
    through: list[timedelta]
    """The same, the span itself included (never decreasing: a sorted list)."""


class _Timeline:
    """A calendar's working spans with running totals (a memo of pure values).

    Covers the spans of a run of consecutive days, widened on demand; a wider
    run is built as a new object and published whole, so readers never lock.
    Totals already handed out never change: spans added before the run get
    totals below its first one, spans added after continue from its last.
    """

    __slots__ = ("_calendar", "_lock", "_spans")

    _STEP = 32
    """Days added at a time when the run grows forwards."""

    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self._spans: _Spans | None = None
        self._lock = threading.Lock()

    def _raw(self, low: int, high: int) -> list[tuple[datetime, datetime]]:
        """Merged spans opening on days ``low`` to ``high``."""
        merged: list[tuple[datetime, datetime]] = []
        for ordinal in range(low, high + 1):
            for lo, hi in self._calendar._day_spans(date.fromordinal(ordinal)):
                if merged and lo <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
                else:
                    merged.append((lo, hi))
        return merged

    def cover(self, low: int, high: int) -> _Spans:
        """The run, grown to cover the days ``low`` to ``high``."""
        spans = self._spans
        if spans is not None and spans.first <= low and high <= spans.last:
            return spans
        with self._lock:
            spans = self._spans
            if spans is not None and spans.first <= low and high <= spans.last:
                return spans
            if spans is None or low < spans.first:
                spans = self._build(low, max(high, low + self._STEP), spans)
            else:
                spans = self._extend(spans, max(high, spans.last + self._STEP))
            self._spans = spans
            return spans

    def _build(self, first: int, last: int, old: _Spans | None) -> _Spans:
        """Every span of days ``first`` to ``last``, totals aligned with ``old``'s."""
        if old is not None:
            last = max(last, old.last)
        starts, ends, before, through = [], [], [], []
        total = timedelta(0)
        for lo, hi in self._raw(first, last):
            starts.append(lo)
            ends.append(hi)
            before.append(total)
            total += hi - lo
            through.append(total)
        built = _Spans(first, last, starts, ends, before, through)
        if old is not None and old.starts:
            shift = old.before[0] - _worked_in(built, old.starts[0])
            built = _Spans(
                first,
                last,
                starts,
                ends,
                [b + shift for b in before],
                [t + shift for t in through],
            )
        return built

    def _extend(self, old: _Spans, last: int) -> _Spans:
        """``old`` and the spans of the days after it, up to ``last`` (a new object)."""
        starts, ends = list(old.starts), list(old.ends)
        before, through = list(old.before), list(old.through)
        total = through[-1] if through else timedelta(0)
        for lo, hi in self._raw(old.last + 1, last):
            if ends and lo <= ends[-1]:  # a night shift running into the next day's span
                if hi > ends[-1]:
                    total += hi - ends[-1]
                    ends[-1] = hi
                    through[-1] = total
                continue
            starts.append(lo)
            ends.append(hi)
            before.append(total)
            total += hi - lo
            through.append(total)
        return _Spans(old.first, last, starts, ends, before, through)

    def around(self, start: datetime, end: datetime) -> tuple[int, _Spans]:
        """(``start``'s local day ordinal, a run covering both instants).

        Running totals are only comparable within one run: a run widened backwards
        may merge a night shift of an earlier day into its first spans, so totals
        taken from two runs must never be subtracted.
        """
        zone = self._calendar.zone
        first = start.astimezone(zone).toordinal()
        last = end.astimezone(zone).toordinal()
        return first, self.cover(first - 1, last + 1)  # a night shift opens the day before


def _worked_in(spans: _Spans, instant: datetime) -> timedelta:
    """Working time on the run ``spans`` before ``instant``."""
    at = bisect_right(spans.starts, instant) - 1
    if at < 0:
        return spans.before[0] if spans.before else timedelta(0)
    if instant >= spans.ends[at]:
        return spans.through[at]
    return spans.before[at] + (instant - spans.starts[at])


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
    _timeline: _Timeline = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_timeline", _Timeline(self))
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
            lo, hi = start.astimezone(UTC), end.astimezone(UTC)
            if lo < hi:
                spans.append((lo, hi))
        return spans

    def open_spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working spans inside [start, end), in order."""
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        first = start.astimezone(self.zone).toordinal() - 1
        last = end.astimezone(self.zone).toordinal()
        spans = self._timeline.cover(first, last)
        for lo, hi in zip(spans.starts, spans.ends, strict=True):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                yield lo, hi

    def business_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end)."""
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        spans = self._timeline.around(start, end)[1]
        return _worked_in(spans, end) - _worked_in(spans, start)

    def add_business(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has passed since ``start``."""
        if self.always_open:
            return start + amount
        if amount <= timedelta(0):
            return start
        # The first span whose running total reaches the goal ends after ``start`` (every
        # earlier instant has worked less than the goal).
        timeline = self._timeline
        ordinal, spans = timeline.around(start, start)
        limit = ordinal + _MAX_DAYS
        high = ordinal + 1
        while True:
            spans = timeline.cover(ordinal - 1, high)
            goal = _worked_in(spans, start) + amount  # totals of this run only
            found = bisect_left(spans.through, goal)
            if found < len(spans.through):
                return spans.starts[found] + (goal - spans.before[found])
            if spans.last >= limit:
                break
            high = spans.last + 4 * _Timeline._STEP
        raise ValueError(f"calendar {self.name!r} has no working time in {_MAX_DAYS} days")


ALWAYS = Calendar("24x7")
"""The built-in round-the-clock calendar."""

"""Reporting periods: calendar months (the default), quarters, ISO weeks and years.

A period is a half-open span ``[start, end)`` of local days in the operator's
zone, stored as UTC instants, so "November" means November where the service
desk is, across a DST change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from paneglass.errors import UserError

__all__ = ["Period", "current_month", "last_month", "parse_period"]

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_WEEK = re.compile(r"^(\d{4})-[Ww](\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _instant(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """One reporting period: local days ``[first, after)`` in ``zone``."""

    kind: str
    """``month``, ``quarter``, ``week`` or ``year``."""
    first: date
    after: date
    zone: tzinfo

    @property
    def start(self) -> datetime:
        """The first instant (UTC)."""
        return _instant(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant just after the period (UTC)."""
        return _instant(self.after, self.zone)

    @property
    def span(self) -> tuple[datetime, datetime]:
        """``(start, end)`` as the store takes it."""
        return self.start, self.end

    @property
    def label(self) -> str:
        """The period as typed on the command line: ``2026-11``, ``2026-Q4``, ``2026-W47``."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.year}"

    @property
    def title(self) -> str:
        """For people: ``November 2026``, ``Q4 2026``, ``Week 47, 2026``, ``2026``."""
        if self.kind == "month":
            return f"{self.first:%B %Y}"
        if self.kind == "quarter":
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"Week {week}, {year}"
        return str(self.first.year)

    @property
    def short(self) -> str:
        """A column heading: ``Nov``, ``Q4``, ``W47``, ``2026``."""
        if self.kind == "month":
            return f"{self.first:%b}"
        return self.label.split("-")[-1]

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` before (negative) or after (positive) this one."""
        if self.kind in ("month", "quarter", "year"):
            size = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            first = _add_months(self.first, steps * size)
            return Period(self.kind, first, _add_months(first, size), self.zone)
        first = self.first + timedelta(weeks=steps)
        return Period(self.kind, first, first + timedelta(weeks=1), self.zone)

    def previous(self) -> Period:
        """The period before."""
        return self.shifted(-1)

    def trailing(self, count: int) -> list[Period]:
        """``count`` periods ending with this one, oldest first."""
        return [self.shifted(step) for step in range(1 - count, 1)]


def current_month(now: datetime, zone: tzinfo) -> Period:
    """The month ``now`` falls in, in ``zone``."""
    today = now.astimezone(zone).date()
    first = today.replace(day=1)
    return Period("month", first, _add_months(first, 1), zone)


def last_month(now: datetime, zone: tzinfo) -> Period:
    """The last complete calendar month before ``now`` (the default period)."""
    return current_month(now, zone).previous()


def parse_period(text: str, zone: tzinfo, now: datetime) -> Period:
    """``2026-11``, ``2026-Q4``, ``2026-W47``, ``2026``, ``last-month`` or ``this-month``."""
    value = text.strip()
    word = value.lower().replace(" ", "-").replace("_", "-")
    if word in ("last-month", "previous-month", ""):
        return last_month(now, zone)
    if word in ("this-month", "current-month"):
        return current_month(now, zone)
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            first = date(year, month, 1)
            return Period("month", first, _add_months(first, 1), zone)
    elif match := _QUARTER.match(value):
        first = date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1)
        return Period("quarter", first, _add_months(first, 3), zone)
    elif match := _WEEK.match(value):
        try:
            first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
        else:
            return Period("week", first, first + timedelta(weeks=1), zone)
    elif match := _YEAR.match(value):
        first = date(int(match[1]), 1, 1)
        return Period("year", first, date(first.year + 1, 1, 1), zone)
    raise UserError(
        f"period {text!r} is not a period: use 2026-11 (a month), 2026-Q4, 2026-W47, 2026 "
        "or last-month"
    )

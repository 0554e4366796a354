"""The ``[sla]`` config section: calendars and ordered contract policies.

Shape (documented in the README)::

    [sla]
    thresholds = [0.5, 0.75]          # at-risk shares of the target, for every policy
    pause_statuses = ["pending"]      # normalised statuses that pause every clock

    [sla.calendars.uk-office]
    timezone = "Europe/London"
    hours = "08:00-12:00, 13:00-17:00"  # Monday to Friday (a lunch break); or a table
                                      # {mon = "…", sat = "…"}; "22:00-06:00" runs overnight
    holidays = ["2026-12-24"]         # explicit dates
    country = "GB"                    # public holidays (``holidays`` package)
    subdivision = "ENG"

    [[sla.policies]]                  # first match wins
    name = "Hosting P1"
    vendors = ["hosting"]             # omitted: every vendor
    priorities = ["P1"]               # omitted: every priority
    groups = ["Managed Hosting L2"]   # omitted: any group
    response = "15m"
    resolution = "4h"
    calendar = "uk-office"            # default "24x7"
    pause_raw_statuses = ["Awaiting Vendor"]
    pause_in_maintenance = true       # no clock runs during the vendor's announced maintenance

Without ``[[sla.policies]]`` the built-in 24x7 targets by priority apply.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paneglass.errors import UserError
from paneglass.sla.calendar import ALWAYS, Calendar, DayHours, WorkingHours
from paneglass.sla.policy import DEFAULT_SETTINGS, Policy, SlaSettings

__all__ = ["parse_duration", "parse_sla"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PRIORITIES = {"P1", "P2", "P3", "P4", "P5"}


def parse_duration(value: Any, label: str) -> timedelta:
    """``"4h"``, ``"1h30m"``, ``"2d"``, ``"90s"`` or a number of minutes."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(minutes=value)
    text = str(value).strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UserError(f"{label}: {value!r} is not a duration (use e.g. 15m, 4h, 1h30m, 2d)")
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    seconds = sum(float(n) * unit[u] for n, u in parts)
    if seconds <= 0:
        raise UserError(f"{label}: a target must be longer than zero")
    return timedelta(seconds=seconds)


def _span(value: str, label: str) -> WorkingHours:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", value.strip())
    if match is None:
        raise UserError(f'{label}: {value!r} is not a time range like "08:00-18:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        opens = time(h1, m1)
        closes = time(0) if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise UserError(f"{label}: {value!r} has an impossible time") from None
    if closes == opens and closes != time(0):
        raise UserError(f"{label}: {value!r} opens and closes at the same time")
    return opens, closes


def _hours(value: Any, label: str) -> DayHours:
    """One day's spans: ``"08:00-12:00, 13:00-17:00"`` or a list; an end at or before the
    start runs past midnight (a night shift)."""
    parts = value if isinstance(value, list) else str(value).split(",")
    spans = sorted(_span(str(part), label) for part in parts if str(part).strip())
    if not spans:
        raise UserError(f'{label}: {value!r} has no time range like "08:00-18:00"')
    for (o1, c1), (o2, _c2) in itertools.pairwise(spans):
        if c1 > o2 or c1 <= o1:  # an overnight span can only be the day's last
            raise UserError(f"{label}: {value!r} has overlapping spans")
    return tuple(spans)


def _calendar(name: str, section: Any, where: str) -> Calendar:
    label = f"{where}: [sla.calendars.{name}]"
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    unknown = set(section) - {"timezone", "hours", "holidays", "country", "subdivision"}
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    try:
        zone = ZoneInfo(str(section.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{label}: timezone {section.get('timezone')!r} is not a known zone"
        ) from None
    hours = section.get("hours", "09:00-17:00")
    week: list[DayHours | None]
    if isinstance(hours, dict):
        bad = set(hours) - set(_DAYS)
        if bad:
            raise UserError(f"{label}: hours has unknown day(s) {', '.join(sorted(bad))}")
        week = [_hours(hours[d], f"{label} hours.{d}") if d in hours else None for d in _DAYS]
    else:
        weekday = _hours(hours, f"{label} hours")
        week = [weekday] * 5 + [None, None]
    dates = set()
    for value in section.get("holidays", []):
        try:
            dates.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise UserError(f"{label}: holiday {value!r} is not a date (YYYY-MM-DD)") from None
    country = section.get("country")
    subdivision = section.get("subdivision")
    if country is not None:
        import holidays as holiday_data  # only when a calendar names a country (a slow import)

        try:
            holiday_data.country_holidays(str(country), subdiv=subdivision, years=2026)
        except NotImplementedError:
            raise UserError(f"{label}: no public holidays known for country {country!r}") from None
    return Calendar(
        name,
        zone,
        tuple(week),
        frozenset(dates),
        str(country) if country else None,
        str(subdivision) if subdivision else None,
    )


def _names(section: dict[str, Any], single: str, plural: str) -> list[str]:
    value = section.get(plural, section.get(single, []))
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _thresholds(value: Any, label: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise UserError(f"{label}: thresholds must be a list like [0.5, 0.75]")
    shares = tuple(float(v) for v in value)
    if any(not 0 < s <= 1 for s in shares) or list(shares) != sorted(shares):
        raise UserError(f"{label}: thresholds are rising shares of the target between 0 and 1")
    if len(shares) > 2:
        raise UserError(f"{label}: thresholds are one or two shares (at risk, near breach)")
    return shares


def parse_sla(section: Any, where: str) -> SlaSettings:
    """Validate ``[sla]`` into settings; no policies means the built-in defaults."""
    if section is None:
        return DEFAULT_SETTINGS
    if not isinstance(section, dict):
        raise UserError(f"{where}: [sla] must be a table")
    unknown = set(section) - {"thresholds", "pause_statuses", "calendars", "policies"}
    if unknown:
        raise UserError(f"{where}: [sla] has unknown key(s) {', '.join(sorted(unknown))}")
    thresholds = _thresholds(section.get("thresholds", [0.5, 0.75]), f"{where}: [sla]")
    pause = frozenset(str(s) for s in section.get("pause_statuses", ["pending"]))
    calendars = {"24x7": ALWAYS}
    for name, cal in section.get("calendars", {}).items():
        calendars[name] = _calendar(name, cal, where)
    policies = []
    for index, raw in enumerate(section.get("policies", []), start=1):
        label = f"{where}: [[sla.policies]] #{index}"
        if not isinstance(raw, dict):
            raise UserError(f"{label} must be a table")
        allowed = {
            "name",
            "vendor",
            "vendors",
            "priority",
            "priorities",
            "group",
            "groups",
            "response",
            "resolution",
            "calendar",
            "pause_raw_statuses",
            "thresholds",
            "pause_in_maintenance",
        }
        bad = set(raw) - allowed
        if bad:
            raise UserError(f"{label} has unknown key(s) {', '.join(sorted(bad))}")
        name = str(raw.get("name", f"policy {index}"))
        label = f"{where}: policy {name!r}"
        if "response" not in raw and "resolution" not in raw:
            raise UserError(f"{label} needs a response or a resolution target")
        priorities = _names(raw, "priority", "priorities")
        wrong = [p for p in priorities if p not in _PRIORITIES]
        if wrong:
            raise UserError(f"{label}: priorities are P1..P5, not {', '.join(wrong)}")
        in_maintenance = raw.get("pause_in_maintenance", False)
        if not isinstance(in_maintenance, bool):
            raise UserError(f"{label}: pause_in_maintenance must be true or false")
        calendar_name = str(raw.get("calendar", "24x7"))
        if calendar_name not in calendars:
            raise UserError(
                f"{label}: calendar {calendar_name!r} is not defined under [sla.calendars]"
            )
        policies.append(
            Policy(
                name=name,
                response=parse_duration(raw["response"], f"{label} response")
                if "response" in raw
                else None,
                resolution=(
                    parse_duration(raw["resolution"], f"{label} resolution")
                    if "resolution" in raw
                    else None
                ),
                calendar=calendars[calendar_name],
                vendors=frozenset(_names(raw, "vendor", "vendors")),
                priorities=frozenset(priorities),
                groups=frozenset(g.lower() for g in _names(raw, "group", "groups")),
                pause_statuses=pause,
                pause_raw_statuses=frozenset(
                    s.lower() for s in _names(raw, "", "pause_raw_statuses")
                ),
                thresholds=_thresholds(raw["thresholds"], label)
                if "thresholds" in raw
                else thresholds,
                pause_in_maintenance=in_maintenance,
            )
        )
    return SlaSettings(tuple(policies)) if policies else DEFAULT_SETTINGS

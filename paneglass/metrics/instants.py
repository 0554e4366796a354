"""Instants and spans as an operator types them: ``:at 2026-11-20 03:12``, ``--since 8h``.

Local times are read in the operator's zone (``[display] timezone``), as the
console shows them; an explicit offset or ``Z`` wins.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from paneglass.errors import UserError
from paneglass.sla import parse_duration

__all__ = ["parse_instant", "parse_span"]

_AGO = re.compile(r"^-\s*(.+)$|^(.+?)\s+ago$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_span(text: str, label: str = "--since") -> timedelta:
    """``8h``, ``90m``, ``1h30m``, ``2d``: a span back from now."""
    return parse_duration(text.strip().lstrip("-"), label)


def parse_instant(text: str, zone: tzinfo, now: datetime) -> datetime:
    """``2026-11-20 03:12``, ``2026-11-20T03:12:00Z``, ``03:12`` (today), ``-2h``, ``2h ago``.

    Returns an aware UTC instant; one in the future is refused.
    """
    value = text.strip()
    if not value:
        raise UserError("at: give an instant, e.g. 2026-11-20 03:12, 03:12 or 2h ago")
    ago = _AGO.match(value)
    if ago:
        when = now - parse_duration(ago[1] or ago[2], "at")
    elif clock := _CLOCK.match(value):
        local = now.astimezone(zone)
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        try:
            when = local.replace(hour=hour, minute=minute, second=second, microsecond=0)
        except ValueError:
            raise UserError(f"at: {text!r} is not a time of day") from None
        if when > local:  # 03:12 typed at 02:00 means last night's 03:12
            when -= timedelta(days=1)
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(
                f"at: {text!r} is not an instant (use 2026-11-20 03:12, 03:12 or 2h ago)"
            ) from None
        when = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    when = when.astimezone(UTC)
    if when > now:
        raise UserError(f"at: {when:%Y-%m-%d %H:%M} UTC is in the future")
    return when

"""Vendor timestamp formats, each parsed with an explicit offset.

Vendors disagree: ServiceNow sends ``2025-03-04 09:02:37`` (UTC, no zone),
Jira ``2025-03-04T09:12:44.123+0300`` (offset without colon), Opsgenie a
fraction of one to three digits. Every parser here returns an aware UTC
datetime or ``None`` for the vendor's "empty" value, and raises
:class:`connectors.errors.BadPayload` for anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from connectors.errors import BadPayload

__all__ = ["format_servicenow", "from_epoch_seconds", "parse_iso", "parse_servicenow"]

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_iso(value: object) -> datetime | None:
    """Parse ISO 8601 with ``Z`` or a numeric offset (colon optional), any fraction length.

    The common shapes (``…Z``, ``…+00:00``, up to six fraction digits) go straight
    to :meth:`datetime.fromisoformat`, which is C code; the regular expression only
    sorts out the rest (``+0300``, nine-digit fractions, a missing seconds field).
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    if (len(value) >= 20 and value[10] in "T " and value[-1] in "Zz") or value[-3:-2] == ":":
        try:
            fast = datetime.fromisoformat(value)
        except ValueError:
            fast = None
        if fast is not None and fast.tzinfo is not None:
            return fast.astimezone(UTC)
    match = _ISO.match(value.strip())
    if match is None:
        raise BadPayload(f"not an ISO 8601 timestamp with an offset: {value[:40]!r}")
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    tz = match["tz"]
    tz = "+00:00" if tz in ("Z", "z") else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}")
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{time}.{frac}{tz}")
    except ValueError as exc:
        raise BadPayload(f"invalid timestamp {value[:40]!r}: {exc}") from None
    return parsed.astimezone(UTC)


def parse_servicenow(value: object) -> datetime | None:
    """Parse ServiceNow's raw ``YYYY-MM-DD HH:MM:SS`` (always UTC in raw values)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(f"expected a ServiceNow timestamp, got {type(value).__name__}")
    if len(value) == 19 and value[10] == " ":
        try:  # the common case: one C call, the zone given in the text (~4x replace())
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            raise BadPayload(f"not a ServiceNow timestamp: {value[:40]!r}") from None
    text = value.strip()
    if len(text) != 19 or text[10] != " ":
        raise BadPayload(f"not a ServiceNow timestamp: {value[:40]!r}")
    try:
        # Exactly ``YYYY-MM-DD HH:MM:SS``: fromisoformat is C and ~20x faster than strptime.
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadPayload(f"not a ServiceNow timestamp: {value[:40]!r}") from None
    return parsed.replace(tzinfo=UTC)


def format_servicenow(value: datetime) -> str:
    """Format an aware datetime as ServiceNow's raw UTC form."""
    if value.year < 1000:  # isoformat pads years; ServiceNow has none this early anyway
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return value.astimezone(UTC).isoformat(" ", "seconds")[:19]


def from_epoch_seconds(value: object) -> datetime:
    """Unix seconds (int, float or numeric string) to aware UTC."""
    try:
        return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise BadPayload(f"not a Unix timestamp: {str(value)[:40]!r}") from None

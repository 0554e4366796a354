"""Putting vendor text and times on screen safely and consistently.

Vendor text is already cleaned of control characters when records are built
(:mod:`connectors.sanitize`); here it is cleaned again (cheap, and it covers
text read back from an older database) and only ever wrapped as plain
:class:`~textual.content.Content` or :class:`rich.text.Text` — never parsed as
markup, so ``[@click=…]`` or an unclosed ``[`` is just text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from rich.cells import cell_len, set_cell_size
from textual.content import Content

from connectors.sanitize import clean_text, one_line

__all__ = [
    "age",
    "countdown",
    "fit",
    "local_time",
    "plain",
    "safe_line",
]


def plain(text: object) -> Content:
    """Vendor (or any) text as content that is never parsed as markup."""
    return Content(clean_text(str(text)))


def safe_line(text: object, limit: int | None = None) -> str:
    """Cleaned, single-line text for a table cell."""
    if text is None:
        return ""
    return one_line(clean_text(str(text)), limit)


def fit(text: str, width: int) -> str:
    """Pad or crop ``text`` to exactly ``width`` terminal cells (wide characters counted)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width)


def age(then: datetime | None, now: datetime, *, seconds_precision: bool = True) -> str:
    """A compact age: ``42s``, ``7m``, ``3h``, ``2d``; ``—`` when unknown.

    Without ``seconds_precision`` anything under a minute reads ``<1m``, so
    the text changes at most once a minute (walls and other always-on views).
    """
    if then is None:
        return "—"
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s" if seconds_precision else "<1m"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def countdown(remaining: timedelta) -> str:
    """Time to a deadline (``-`` once past it), as precise as it needs to be.

    It ticks in seconds only around the deadline (the last ten minutes
    before it, the first minute after: ``09:42``, ``-00:31``); elsewhere it
    reads in minutes (``42m``), hours and minutes (``1h 50m``) or days and
    hours (``3d 15h``), which change at most once a minute, so a wall full of
    clocks sends almost nothing to the terminal between minutes.
    """
    total = int(remaining.total_seconds())
    sign = "-" if total < 0 else " "
    seconds = abs(total)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if -60 <= total <= 600:
        return f"{sign}{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}m"


def local_time(value: datetime | None, zone: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time in the operator's zone (the system zone when ``zone`` is None)."""
    if value is None:
        return "—"
    return value.astimezone(zone or datetime.now(UTC).astimezone().tzinfo).strftime(fmt)

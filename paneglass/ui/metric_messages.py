"""What a screen or a ``:`` command asks the app for in the metrics room.

Posted like :mod:`paneglass.ui.navigation`'s messages; the app decides which
screen answers (a read-only console gets the read-only handover screen).
"""

from __future__ import annotations

from textual.message import Message

__all__ = ["OpenHandover", "OpenScorecards", "TimeTravel"]


class OpenScorecards(Message):
    """Show the scorecards pane (for a period as typed, e.g. ``2026-11``; last month if None)."""

    def __init__(self, period: str | None = None) -> None:
        super().__init__()
        self.period = period


class OpenHandover(Message):
    """Show the shift handover."""


class TimeTravel(Message):
    """Show the console as it stood at an instant as typed (``""`` or ``now``: back to live)."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when

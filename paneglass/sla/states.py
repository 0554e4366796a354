"""Where a contract clock stands: the states the engine computes and the views carry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

__all__ = ["ClockState", "live_state", "worst"]


class ClockState(StrEnum):
    """Where a clock stands; ``met``/``missed`` once it has stopped."""

    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"
    NONE = "none"
    """No running contract clock: the worst state of a ticket or case without one."""

    @property
    def urgency(self) -> int:
        """How much a running state calls for attention (breached 3 … no clock 0)."""
        return _URGENCY.get(self, 0)


_URGENCY = {ClockState.BREACHED: 3, ClockState.AT_RISK: 2, ClockState.OK: 1}


def live_state(state: ClockState, due_at: datetime | None, now: datetime) -> ClockState:
    """The stored state as of ``now``: a running clock whose due time has passed is breached.

    Stored states move on the collector's tick; between ticks a view judges
    breach live from the due time, so a countdown never shows past zero as
    merely at risk.
    """
    if due_at is not None and due_at <= now and state in (ClockState.OK, ClockState.AT_RISK):
        return ClockState.BREACHED
    return state


def worst(states: Iterable[ClockState]) -> ClockState:
    """The most urgent of ``states`` (:attr:`ClockState.NONE` when there are none)."""
    return max(states, key=lambda state: state.urgency, default=ClockState.NONE)

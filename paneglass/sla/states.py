"""Where a contract clock stands: the states the engine computes and the views carry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

__all__ = ["RUNNING_ALARMS", "ClockState", "live_state", "worst"]


class ClockState(StrEnum):
    """Where a clock stands; ``met``/``missed`` once it has stopped."""

    OK = "ok"
    AT_RISK = "at_risk"
    """Past the policy's first threshold (default 50 % of the target)."""
    NEAR_BREACH = "near_breach"
    """Past the policy's second threshold (default 75 %): a level of its own."""
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"
    NONE = "none"
    """No running contract clock: the worst state of a ticket or case without one."""
    UNKNOWN = "unknown"
    """Cannot be judged: a response clock of a ticket first seen past New with no response
    time from the vendor (not "met at 0 %")."""

    @property
    def urgency(self) -> int:
        """How much a running state calls for attention (breached 3 … no clock 0)."""
        return _URGENCY.get(self, 0)


_URGENCY = {
    ClockState.BREACHED: 4,
    ClockState.NEAR_BREACH: 3,
    ClockState.AT_RISK: 2,
    ClockState.OK: 1,
}

RUNNING_ALARMS = (ClockState.AT_RISK, ClockState.NEAR_BREACH, ClockState.BREACHED)
"""The levels a running clock climbs through, in order (what notifications are about)."""


def live_state(
    state: ClockState,
    due_at: datetime | None,
    now: datetime,
    near_breach_at: datetime | None = None,
) -> ClockState:
    """The stored state as of ``now``: a running clock whose due time has passed is breached.

    Stored states move on the collector's tick; between ticks a view judges
    breach live from the due time (and the second threshold from its time), so
    a countdown never shows past zero as merely at risk.
    """
    climbing = (ClockState.OK, ClockState.AT_RISK, ClockState.NEAR_BREACH)
    if due_at is not None and due_at <= now and state in climbing:
        return ClockState.BREACHED
    if near_breach_at is not None and near_breach_at <= now and state in climbing[:2]:
        return ClockState.NEAR_BREACH
    return state


def worst(states: Iterable[ClockState]) -> ClockState:
    """The most urgent of ``states`` (:attr:`ClockState.NONE` when there are none)."""
    return max(states, key=lambda state: state.urgency, default=ClockState.NONE)

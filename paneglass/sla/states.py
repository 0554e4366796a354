"""Where a contract clock stands: the states the engine computes and the views carry."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ClockState"]


class ClockState(StrEnum):
    """Where a clock stands; ``met``/``missed`` once it has stopped."""

    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"

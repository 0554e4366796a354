"""Contract terms: which tickets a policy covers, its targets, pauses and thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from paneglass.sla.calendar import ALWAYS, Calendar

__all__ = ["DEFAULT_SETTINGS", "Policy", "SlaSettings"]


@dataclass(frozen=True)
class Policy:
    """One contract term: which tickets it covers and their targets."""

    name: str
    response: timedelta | None
    resolution: timedelta | None
    calendar: Calendar = ALWAYS
    vendors: frozenset[str] = frozenset()
    """Vendor names (config names) it covers; empty means every vendor."""
    priorities: frozenset[str] = frozenset()
    """P1..P5 it covers; empty means every priority (tickets with none included)."""
    groups: frozenset[str] = frozenset()
    """Assignment groups it covers (case-insensitive); empty means any."""
    pause_statuses: frozenset[str] = frozenset({"pending"})
    pause_raw_statuses: frozenset[str] = frozenset()
    """Vendor statuses (lower case) that also pause, e.g. "awaiting vendor"."""
    thresholds: tuple[float, ...] = (0.5, 0.75)
    """Shares of the target: the first turns a running clock at risk, the second near breach."""

    @property
    def at_risk_share(self) -> float:
        """The share of the target at which the clock turns at risk."""
        return self.thresholds[0] if self.thresholds else 1.0

    @property
    def near_breach_share(self) -> float | None:
        """The share at which the clock turns near breach (``None``: one threshold only)."""
        return self.thresholds[1] if len(self.thresholds) > 1 else None

    def matches(self, vendor: str, priority: str | None, group: str | None) -> bool:
        """Does this policy cover a ticket with these fields?"""
        if self.vendors and vendor not in self.vendors:
            return False
        if self.priorities and (priority or "") not in self.priorities:
            return False
        return not self.groups or (group or "").lower() in self.groups

    def pauses(self, status: str, raw_status: str) -> bool:
        """Is the clock paused in this state?"""
        return status in self.pause_statuses or raw_status.lower() in self.pause_raw_statuses


@dataclass(frozen=True)
class SlaSettings:
    """The ``[sla]`` section: ordered policies, first match wins."""

    policies: tuple[Policy, ...] = ()

    def match(self, vendor: str, priority: str | None, group: str | None) -> Policy | None:
        """The first policy covering the ticket, or ``None`` (no contract clock)."""
        return next((p for p in self.policies if p.matches(vendor, priority, group)), None)


DEFAULT_SETTINGS = SlaSettings(
    tuple(
        Policy(f"{prio} default", response, resolution, priorities=frozenset({prio}))
        for prio, response, resolution in (
            ("P1", timedelta(minutes=15), timedelta(hours=4)),
            ("P2", timedelta(hours=1), timedelta(hours=8)),
            ("P3", timedelta(hours=4), timedelta(hours=24)),
            ("P4", timedelta(hours=8), timedelta(hours=72)),
            ("P5", timedelta(hours=24), timedelta(days=10)),
        )
    )
)
"""Built-in 24x7 targets by priority, used when the config has no ``[sla]`` policies."""

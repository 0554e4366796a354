"""The shared status vocabulary of every feed, and the worst-of rollup.

Vendors name the same things differently (Google ``SERVICE_OUTAGE``, AWS
status ``"3"``, Instatus ``MAJOROUTAGE``, Status.io ``500``). Every feed maps
its own words onto Atlassian Statuspage's, which the store and the UI already
know, and keeps the vendor's own word in ``raw_status``:

* snapshot **indicator** (page rollup): ``none`` < ``maintenance`` < ``minor``
  < ``major`` < ``critical``;
* incident **impact**: ``none``, ``minor``, ``major``, ``critical``; a
  maintenance window's impact is ``maintenance``;
* incident **status**: ``investigating``, ``identified``, ``monitoring``
  (open), ``resolved``; ``active`` where a source publishes no lifecycle at
  all (Google, AWS, Azure);
* maintenance **status**: ``scheduled`` (announced, not started),
  ``in_progress``, ``verifying``, ``completed``.

An unknown vendor word always maps to something that is not green: a status
page must never show healthy because its vendor invented a new word.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from connectors.records import ComponentRecord, ComponentState, IncidentRecord

__all__ = [
    "ACTIVE",
    "IMPACT_FOR_STATE",
    "INDICATORS",
    "MAINTENANCE_ACTIVE",
    "MAINTENANCE_DONE",
    "MAINTENANCE_UPCOMING",
    "describe",
    "indicator_for_impact",
    "maintenance_in_effect",
    "rollup",
    "state_for_impact",
    "worst_indicator",
    "worst_state",
]

INDICATORS = ("none", "maintenance", "minor", "major", "critical")
"""Snapshot indicators, least to most severe."""
_RANK = {name: rank for rank, name in enumerate(INDICATORS)}

ACTIVE = "active"
"""Incident status of a source that publishes no lifecycle (open until it leaves the feed)."""
MAINTENANCE_UPCOMING = "scheduled"
MAINTENANCE_ACTIVE = frozenset({"in_progress", "verifying"})
MAINTENANCE_DONE = "completed"

IMPACT_FOR_STATE = {
    ComponentState.OPERATIONAL: "none",
    ComponentState.MAINTENANCE: "maintenance",
    ComponentState.DEGRADED: "minor",
    ComponentState.PARTIAL_OUTAGE: "major",
    ComponentState.MAJOR_OUTAGE: "critical",
}
"""What a component's state says about the page: degraded is minor, a major outage critical."""
_STATE_FOR_IMPACT = {
    "none": ComponentState.OPERATIONAL,
    "maintenance": ComponentState.MAINTENANCE,
    "minor": ComponentState.DEGRADED,
    "major": ComponentState.PARTIAL_OUTAGE,
    "critical": ComponentState.MAJOR_OUTAGE,
}
_STATE_RANK = {
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL_OUTAGE: 3,
    ComponentState.MAJOR_OUTAGE: 4,
}
_DESCRIPTION = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}


def worst_indicator(indicators: Iterable[str]) -> str:
    """The most severe indicator (``none`` for none); an unknown word ranks as ``minor``."""
    worst = "none"
    for indicator in indicators:
        known = indicator if indicator in _RANK else "minor"
        if _RANK[known] > _RANK[worst]:
            worst = known
    return worst


def worst_state(states: Iterable[ComponentState]) -> ComponentState:
    """The most severe component state (operational for none)."""
    return max(states, key=_STATE_RANK.__getitem__, default=ComponentState.OPERATIONAL)


def indicator_for_impact(impact: str) -> str:
    """An open incident's impact as a page indicator (an unknown impact counts as minor)."""
    return impact if impact in _RANK else "minor"


def state_for_impact(impact: str) -> ComponentState:
    """The state a component affected by an incident of this impact is shown in."""
    return _STATE_FOR_IMPACT.get(impact, ComponentState.DEGRADED)


def describe(indicator: str) -> str:
    """Statuspage's own words for an indicator."""
    return _DESCRIPTION.get(indicator, "Service Status Unknown")


def rollup(
    components: Iterable[ComponentRecord], incidents: Iterable[IncidentRecord]
) -> tuple[str, str]:
    """(indicator, description) for a source that publishes no page rollup of its own.

    The worst of: every component's state, every open incident's impact, and
    ``maintenance`` while a window is in progress. An announced window that has
    not started changes nothing.
    """
    found = [IMPACT_FOR_STATE[c.state] for c in components]
    for incident in incidents:
        if incident.maintenance:
            if incident.status in MAINTENANCE_ACTIVE:
                found.append("maintenance")
        elif incident.status != "resolved":
            found.append(indicator_for_impact(incident.impact))
    indicator = worst_indicator(found)
    return indicator, describe(indicator)


def maintenance_in_effect(incident: IncidentRecord, at: datetime) -> bool:
    """True while a published maintenance window covers ``at``.

    In progress by the vendor's word, or announced and ``at`` inside
    ``[scheduled_for, scheduled_until)`` (pages often flip the status a little
    late, or never when the window was set to start on its own). A completed
    window never is. What a pause-the-clock policy asks.
    """
    if not incident.maintenance or incident.status == MAINTENANCE_DONE:
        return False
    if incident.status in MAINTENANCE_ACTIVE:
        return True
    start, end = incident.scheduled_for, incident.scheduled_until
    if start is None or at < start:
        return False
    return end is None or at < end

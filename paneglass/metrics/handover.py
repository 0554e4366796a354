"""The shift handover: what changed since the shift began, and what is coming.

Built from small store reads into one plain, JSON-able mapping: the same
mapping is shown on the handover screen, printed by ``paneglass report
handover`` and kept, as signed, with the handover itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from paneglass.collect import Freshness, freshness
from paneglass.store import Store

__all__ = ["DUE_WITHIN", "HandoverReport", "build_handover"]

DUE_WITHIN = timedelta(hours=4)
"""How far ahead "clocks due" looks by default."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class HandoverReport:
    """The report as a plain mapping (see :meth:`as_dict` for its keys)."""

    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """``since``, ``at``, ``due_within_minutes``, ``breaches``, ``due``, ``urgent``,
        ``new_tickets``, ``vendors``, ``failed_actions``, ``cases``."""
        return self.data

    def to_json(self) -> str:
        """As stored with a signed handover."""
        return json.dumps(self.data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HandoverReport:
        """A stored report."""
        return cls(json.loads(text or "{}"))

    @property
    def counts(self) -> dict[str, int]:
        """How many of each, for a one-line summary."""
        d = self.data
        return {
            "breaches": len(d.get("breaches", [])),
            "due": len(d.get("due", [])),
            "urgent": len(d.get("urgent", [])),
            "new": sum(d.get("new_tickets", {}).values()),
            "vendors": len(d.get("vendors", [])),
            "failed": len(d.get("failed_actions", [])),
            "cases": len(d.get("cases", [])),
        }


def build_handover(
    store: Store, since: datetime, now: datetime, due_within: timedelta = DUE_WITHIN
) -> HandoverReport:
    """Read the handover for the shift that began at ``since``."""
    vendors = []
    for health in store.vendor_health():
        state = freshness(health, now)
        problems = []
        if state in (Freshness.STALE, Freshness.FAILING):
            problems.append(state.value)
        if health.indicator not in (None, "none"):
            problems.append(f"published status {health.indicator}")
        if problems:
            vendors.append(
                {
                    "vendor": health.name,
                    "problems": problems,
                    "last_ok_at": _iso(health.last_ok_at),
                    "error": health.last_error_message if state is Freshness.FAILING else None,
                    "components": [f"{c.name}: {c.state}" for c in health.components],
                }
            )

    def clocks(rows: Any) -> list[dict[str, Any]]:
        return [
            {
                "vendor": r.vendor,
                "key": r.key,
                "priority": r.priority,
                "title": r.title,
                "metric": r.metric,
                "at": _iso(r.at),
            }
            for r in rows
        ]

    return HandoverReport(
        {
            "since": _iso(since),
            "at": _iso(now),
            "due_within_minutes": int(due_within.total_seconds() // 60),
            "breaches": clocks(store.breaches_since(since, now)),
            "due": clocks(store.due_within(now, due_within)),
            "urgent": [
                {
                    "vendor": t.vendor,
                    "key": t.key,
                    "priority": t.priority,
                    "status": t.status,
                    "title": t.title,
                    "assignee": t.assignee,
                    "created_at": _iso(t.created_at),
                }
                for t in store.open_urgent()
            ],
            "new_tickets": store.new_tickets(since),
            "vendors": vendors,
            "failed_actions": [
                {"vendor": v, "key": k, "summary": s, "error": e, "at": _iso(at)}
                for v, k, s, e, at in store.failed_actions()
            ],
            "cases": [
                {"id": i, "title": t, "closed": closed}
                for i, t, closed in store.cases_changed(since)
            ],
        }
    )

"""A scorecard as flat rows, one per vendor: what CSV, JSON and ``export --what scorecard`` hold.

Durations are seconds, shares are percentages with one decimal, times ISO
8601 UTC; field names are a promise to scripts (add, never rename).
"""

from __future__ import annotations

from typing import Any

from paneglass.metrics.figures import BACKLOG_AGES, figure
from paneglass.metrics.scorecard import Scorecard
from paneglass.store import ScorecardRow

__all__ = ["SCORECARD_FIELDS", "scorecard_rows"]

SCORECARD_FIELDS: tuple[str, ...] = (
    "vendor",
    "period",
    "period_start",
    "period_end",
    "opened",
    "resolved",
    "reopened",
    "backlog",
    *(f"backlog_{label}" for label in BACKLOG_AGES),
    "mtta_clocks",
    "mtta_business_p50_s",
    "mtta_business_p90_s",
    "mtta_wall_p50_s",
    "mtta_wall_p90_s",
    "mttr_clocks",
    "mttr_business_p50_s",
    "mttr_business_p90_s",
    "mttr_wall_p50_s",
    "mttr_wall_p90_s",
    "response_met",
    "response_decided",
    "response_met_pct",
    "resolution_met",
    "resolution_decided",
    "resolution_met_pct",
    "vendor_claim_met",
    "vendor_claim_total",
    "vendor_claim_pct",
    "disagreed",
    "compared",
    "disagree_pct",
    "handoffs_sent",
    "handoffs_received",
    "credit_minutes",
    "credit_clocks",
)


def _row(card: Scorecard, row: ScorecardRow) -> dict[str, Any]:
    ages = dict(zip(BACKLOG_AGES, row.backlog_ages or (None,) * len(BACKLOG_AGES), strict=True))
    return {
        "vendor": row.vendor,
        "period": card.period.label,
        "period_start": card.period.start,
        "period_end": card.period.end,
        "opened": row.opened,
        "resolved": row.resolved,
        "reopened": row.reopened,
        "backlog": row.backlog,
        **{f"backlog_{label}": count for label, count in ages.items()},
        "mtta_clocks": row.mtta.count,
        "mtta_business_p50_s": row.mtta.business_p50,
        "mtta_business_p90_s": row.mtta.business_p90,
        "mtta_wall_p50_s": row.mtta.wall_p50,
        "mtta_wall_p90_s": row.mtta.wall_p90,
        "mttr_clocks": row.mttr.count,
        "mttr_business_p50_s": row.mttr.business_p50,
        "mttr_business_p90_s": row.mttr.business_p90,
        "mttr_wall_p50_s": row.mttr.wall_p50,
        "mttr_wall_p90_s": row.mttr.wall_p90,
        "response_met": row.response_met,
        "response_decided": row.response_decided,
        "response_met_pct": figure("response_met").value(row),
        "resolution_met": row.resolution_met,
        "resolution_decided": row.resolution_decided,
        "resolution_met_pct": figure("resolution_met").value(row),
        "vendor_claim_met": row.vendor_claim_met,
        "vendor_claim_total": row.vendor_claim_total,
        "vendor_claim_pct": figure("vendor_claim").value(row),
        "disagreed": row.disagreed,
        "compared": row.compared,
        "disagree_pct": figure("disagreed").value(row),
        "handoffs_sent": row.handoffs_sent,
        "handoffs_received": row.handoffs_received,
        "credit_minutes": row.credit_minutes,
        "credit_clocks": row.credit_clocks,
    }


def scorecard_rows(card: Scorecard) -> list[dict[str, Any]]:
    """One flat row per vendor for the scorecard's period."""
    return [_row(card, score.row) for score in card.vendors]

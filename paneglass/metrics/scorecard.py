"""A period's scorecard: every vendor's figures, the previous period's, and a twelve-period trend.

Two store reads: the headline, the chosen and previous period with every
figure (backlog and credit evidence included), and the trend's twelve periods
with the figures the trend charts (backlog, which reads every status change
since, and credit evidence are left out of it). The pane shows the headline
as soon as it is read and the trend when it follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from paneglass.metrics.figures import FIGURES, Figure, Trend, compare
from paneglass.metrics.periods import Period
from paneglass.store import ScorecardRow, Store

__all__ = [
    "TREND_FIGURES",
    "TREND_PERIODS",
    "Scorecard",
    "VendorScore",
    "build_scorecard",
    "headline_scorecard",
    "status_pages",
    "with_trend",
]

TREND_PERIODS = 12
TREND_FIGURES = ("resolved", "resolution_met", "mttr_p50", "response_met")
"""The figures charted per vendor across the trend's periods."""


@dataclass(frozen=True)
class VendorScore:
    """One vendor: this period, the one before, and the trend (oldest first)."""

    vendor: str
    row: ScorecardRow
    previous: ScorecardRow | None
    trend: tuple[ScorecardRow, ...]

    def trend_of(self, fig: Figure) -> list[float | None]:
        """The figure's value in each trend period, oldest first."""
        return [fig.value(row) for row in self.trend]

    def compared(self, fig: Figure) -> Trend:
        """This period against the previous one."""
        return compare(fig, self.row, self.previous)


@dataclass(frozen=True)
class Scorecard:
    """Everything a scorecard pane or report shows."""

    period: Period
    previous: Period
    trend_periods: tuple[Period, ...]
    vendors: tuple[VendorScore, ...]
    generated_at: datetime
    status_pages: Mapping[str, tuple[str, ...]]

    @property
    def figures(self) -> tuple[Figure, ...]:
        """Every figure, in report order."""
        return FIGURES


def status_pages(
    vendors: Sequence[tuple[str, str]], configured: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Whose published incidents count as whose: the config's map, else ``X-status`` → ``X``.

    ``vendors`` are (name, kind) pairs, from the config or the store.
    """
    names = {name for name, _ in vendors}
    found = {vendor: tuple(pages) for vendor, pages in configured.items()}
    for name, kind in vendors:
        if kind == "statuspage" and name.endswith("-status"):
            owner = name.removesuffix("-status")
            if owner in names and owner not in found:
                found[owner] = (name,)
    return found


def build_scorecard(
    store: Store,
    period: Period,
    now: datetime,
    *,
    pages: Mapping[str, tuple[str, ...]] | None = None,
    trend: int = TREND_PERIODS,
) -> Scorecard:
    """Read the scorecard of ``period`` (figures as of ``now``) from the store."""
    card = headline_scorecard(store, period, now, pages=pages)
    return with_trend(store, card, trend) if trend > 1 else card


def headline_scorecard(
    store: Store,
    period: Period,
    now: datetime,
    *,
    pages: Mapping[str, tuple[str, ...]] | None = None,
) -> Scorecard:
    """The period and the one before with every figure, no trend yet (the quick first read:
    the trend's twelve periods cost several times as much on a large store)."""
    previous = period.previous()
    main = store.scorecards(
        [previous.span, period.span], now, status_pages=pages or {}, backlog_periods=(0, 1)
    )
    before = {row.vendor: row for row in main if row.period == 0}
    vendors = tuple(
        VendorScore(vendor=row.vendor, row=row, previous=before.get(row.vendor), trend=())
        for row in main
        if row.period == 1
    )
    return Scorecard(period, previous, (), vendors, now, dict(pages or {}))


def with_trend(store: Store, card: Scorecard, trend: int = TREND_PERIODS) -> Scorecard:
    """``card`` with each vendor's trend across the ``trend`` periods ending with its own."""
    trend_periods = tuple(card.period.trailing(trend))
    series = store.scorecards([p.span for p in trend_periods], card.generated_at)
    by_vendor: dict[str, list[ScorecardRow]] = {}
    for row in series:
        by_vendor.setdefault(row.vendor, []).append(row)
    vendors = tuple(
        replace(score, trend=tuple(sorted(by_vendor.get(score.vendor, []), key=_period)))
        for score in card.vendors
    )
    return replace(card, trend_periods=trend_periods, vendors=vendors)


def _period(row: ScorecardRow) -> int:
    return row.period

"""Every scorecard figure: its name, unit, which way is better, and its one-sentence definition.

The pane, the reports, the export and the README all read this one list, so
a figure means the same thing everywhere (a test checks the README carries
each definition word for word).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from paneglass.store import AGE_BUCKETS, ScorecardRow

__all__ = [
    "BACKLOG_AGES",
    "FIGURES",
    "TREND_MARKS",
    "Better",
    "Figure",
    "Trend",
    "compare",
    "duration_text",
    "figure",
]


class Better(StrEnum):
    """Which way a figure improves."""

    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"
    """Volume: more or fewer tickets is neither good nor bad in itself."""


class Trend(StrEnum):
    """A figure against the previous period."""

    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    UP = "up"
    """A neutral figure rose."""
    DOWN = "down"
    NONE = "none"
    """Nothing to compare (no value in one of the periods)."""


TREND_MARKS: dict[Trend, tuple[str, str]] = {
    Trend.BETTER: ("▲", "better"),
    Trend.WORSE: ("▼", "worse"),
    Trend.SAME: ("=", "same"),
    Trend.UP: ("+", "more"),
    Trend.DOWN: ("−", "fewer"),
    Trend.NONE: ("", ""),
}
"""Glyph and word per comparison, so it reads without colour (reports, a monochrome wall)."""


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Figure:
    """One column of the scorecard."""

    id: str
    label: str
    unit: str
    """``count``, ``seconds``, ``percent`` or ``minutes``."""
    better: Better
    definition: str
    """One sentence, as the README states it."""
    value: Callable[[ScorecardRow], float | None]

    def text(self, row: ScorecardRow) -> str:
        """The value as people read it: ``41``, ``3h 05m``, ``92.5 %``, ``—``."""
        value = self.value(row)
        if value is None:
            return "—"
        if self.unit == "seconds":
            return duration_text(value)
        if self.unit == "percent":
            return f"{value:.1f} %"
        if self.unit == "minutes":
            return f"{value:,.0f} min"
        return f"{value:,.0f}"


def duration_text(seconds: float) -> str:
    """``45s``, ``12m``, ``3h 05m``, ``2d 04h``: two units at most, as the SLA pane reads."""
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


_RESPONSE = "the response clocks that stopped in the period"
_RESOLUTION = (
    "the resolution clocks (each cycle of a re-opened ticket on its own) that stopped in the period"
)
_DECIDED = (
    "of the {metric} clocks decided in the period (stopped within target, or breached; each "
    "counted once, in the period of that moment), the share that met the contract's target."
)
_SPREAD = (
    "{what}: over {clocks}, the {stat} of their {time}, nearest rank, per the matching "
    "policy's calendar{pauses}."
)

FIGURES: tuple[Figure, ...] = (
    Figure(
        "opened",
        "Opened",
        "count",
        Better.NEITHER,
        "Opened: tickets whose creation time (the vendor's) falls in the period.",
        lambda r: r.opened,
    ),
    Figure(
        "resolved",
        "Resolved",
        "count",
        Better.NEITHER,
        "Resolved: changes of a ticket into resolved or closed in the period (a ticket resolved, "
        "re-opened and resolved again counts twice; one first seen already resolved counts once).",
        lambda r: r.resolved,
    ),
    Figure(
        "reopened",
        "Re-opened",
        "count",
        Better.LOWER,
        "Re-opened: changes of a ticket from resolved or closed back to new, open or pending in "
        "the period.",
        lambda r: r.reopened,
    ),
    Figure(
        "backlog",
        "Backlog",
        "count",
        Better.LOWER,
        "Backlog: tickets created before the period's end and new, open or pending at that "
        "instant (their status then, from the history), shown with their ages at that instant.",
        lambda r: r.backlog,
    ),
    Figure(
        "mtta_p50",
        "MTTA p50",
        "seconds",
        Better.LOWER,
        _SPREAD.format(
            what="MTTA p50 (time to first response)",
            clocks=_RESPONSE,
            stat="median",
            time="working time",
            pauses=", pauses excluded",
        ),
        lambda r: r.mtta.business_p50,
    ),
    Figure(
        "mtta_p90",
        "MTTA p90",
        "seconds",
        Better.LOWER,
        "MTTA p90: the same clocks' 90th percentile of working time.",
        lambda r: r.mtta.business_p90,
    ),
    Figure(
        "mtta_wall_p50",
        "MTTA wall p50",
        "seconds",
        Better.LOWER,
        "MTTA wall p50 / p90: the same clocks' median and 90th percentile of wall-clock time "
        "from creation to first response.",
        lambda r: r.mtta.wall_p50,
    ),
    Figure(
        "mtta_wall_p90",
        "MTTA wall p90",
        "seconds",
        Better.LOWER,
        "MTTA wall p90: see MTTA wall p50.",
        lambda r: r.mtta.wall_p90,
    ),
    Figure(
        "mttr_p50",
        "MTTR p50",
        "seconds",
        Better.LOWER,
        _SPREAD.format(
            what="MTTR p50 (time to resolve)",
            clocks=_RESOLUTION,
            stat="median",
            time="working time",
            pauses=", pauses excluded",
        ),
        lambda r: r.mttr.business_p50,
    ),
    Figure(
        "mttr_p90",
        "MTTR p90",
        "seconds",
        Better.LOWER,
        "MTTR p90: the same clocks' 90th percentile of working time.",
        lambda r: r.mttr.business_p90,
    ),
    Figure(
        "mttr_wall_p50",
        "MTTR wall p50",
        "seconds",
        Better.LOWER,
        "MTTR wall p50 / p90: the same clocks' median and 90th percentile of wall-clock time "
        "from the start of the cycle to its resolution.",
        lambda r: r.mttr.wall_p50,
    ),
    Figure(
        "mttr_wall_p90",
        "MTTR wall p90",
        "seconds",
        Better.LOWER,
        "MTTR wall p90: see MTTR wall p50.",
        lambda r: r.mttr.wall_p90,
    ),
    Figure(
        "response_met",
        "Response met",
        "percent",
        Better.HIGHER,
        "Response met %: " + _DECIDED.format(metric="response"),
        lambda r: _share(r.response_met, r.response_decided),
    ),
    Figure(
        "resolution_met",
        "Resolution met",
        "percent",
        Better.HIGHER,
        "Resolution met %: " + _DECIDED.format(metric="resolution"),
        lambda r: _share(r.resolution_met, r.resolution_decided),
    ),
    Figure(
        "vendor_claim",
        "Vendor claims",
        "percent",
        Better.HIGHER,
        "Vendor claims %: of those resolution clocks on tickets where the vendor gives its own "
        "verdict (its breach flag, else whether its own due time passed before the resolution), "
        "the share it reports as met; — where it gives none.",
        lambda r: _share(r.vendor_claim_met, r.vendor_claim_total),
    ),
    Figure(
        "disagreed",
        "Disagree",
        "percent",
        Better.LOWER,
        "Disagree % (trust): of the clocks compared for the vendor's claim, the share where the "
        "vendor's verdict and the contract's differ.",
        lambda r: _share(r.disagreed, r.compared),
    ),
    Figure(
        "handoffs_sent",
        "Hand-offs out",
        "count",
        Better.NEITHER,
        "Hand-offs out / in: links made in the period from a ticket of this vendor to another "
        "vendor's new ticket / to this vendor from another's.",
        lambda r: r.handoffs_sent,
    ),
    Figure(
        "handoffs_received",
        "Hand-offs in",
        "count",
        Better.NEITHER,
        "Hand-offs in: see hand-offs out.",
        lambda r: r.handoffs_received,
    ),
    Figure(
        "credit_minutes",
        "Credit evidence",
        "minutes",
        Better.LOWER,
        "Credit evidence: minutes in the period during which a contract clock of this vendor "
        "stood breached while the vendor's own status page showed an incident (overlapping "
        "incidents counted once), summed over its clocks.",
        lambda r: r.credit_minutes,
    ),
)
"""Every figure, in the order reports show them."""

BACKLOG_AGES = tuple(label for label, _ in AGE_BUCKETS)
"""Backlog age bucket names, in order."""


def figure(figure_id: str) -> Figure:
    """The figure called ``figure_id``."""
    return next(f for f in FIGURES if f.id == figure_id)


def compare(fig: Figure, now: ScorecardRow, before: ScorecardRow | None) -> Trend:
    """This period's value against the previous period's, in the figure's own terms."""
    if before is None:
        return Trend.NONE
    a, b = fig.value(now), fig.value(before)
    if a is None or b is None:
        return Trend.NONE
    if a == b:
        return Trend.SAME
    if fig.better is Better.NEITHER:
        return Trend.UP if a > b else Trend.DOWN
    improved = a > b if fig.better is Better.HIGHER else a < b
    return Trend.BETTER if improved else Trend.WORSE

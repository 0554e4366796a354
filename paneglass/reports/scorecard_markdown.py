"""The scorecard as Markdown: for a ticket, a wiki page or an e-mail."""

from __future__ import annotations

from paneglass.metrics.figures import BACKLOG_AGES, FIGURES, TREND_MARKS, Figure, figure
from paneglass.metrics.scorecard import TREND_FIGURES, Scorecard, VendorScore

__all__ = ["scorecard_markdown"]

SUMMARY = (
    "opened",
    "resolved",
    "reopened",
    "backlog",
    "mtta_p50",
    "mtta_p90",
    "mttr_p50",
    "mttr_p90",
    "response_met",
    "resolution_met",
    "vendor_claim",
    "disagreed",
    "handoffs_sent",
    "handoffs_received",
    "credit_minutes",
)


def _cell(score: VendorScore, fig: Figure) -> str:
    glyph, _ = TREND_MARKS[score.compared(fig)]
    text = fig.text(score.row).replace("|", "\\|")
    return f"{text} {glyph}".strip()


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def scorecard_markdown(card: Scorecard) -> str:
    """The whole report."""
    lines = [
        f"# Vendor scorecard: {card.period.title}",
        "",
        f"Period {card.period.start:%Y-%m-%d %H:%M} to {card.period.end:%Y-%m-%d %H:%M} UTC; "
        f"compared with {card.previous.title} "
        f"(▲ better, ▼ worse, = same, + more, − fewer). "
        f"Generated {card.generated_at:%Y-%m-%d %H:%M} UTC by paneglass from the customer's own "
        "store. MTTA and MTTR are working time in each contract's calendar.",
        "",
    ]
    figs = [figure(f) for f in SUMMARY]
    lines.append("| Vendor | " + " | ".join(f.label for f in figs) + " |")
    lines.append("|---|" + "---:|" * len(figs))
    for score in card.vendors:
        cells = " | ".join(_cell(score, f) for f in figs)
        lines.append(f"| {_escape(score.vendor)} | {cells} |")
    lines += ["", "## Wall-clock time", ""]
    wall = [figure(f) for f in ("mtta_wall_p50", "mtta_wall_p90", "mttr_wall_p50", "mttr_wall_p90")]
    lines.append("| Vendor | " + " | ".join(f.label for f in wall) + " |")
    lines.append("|---|" + "---:|" * len(wall))
    for score in card.vendors:
        lines.append(
            f"| {_escape(score.vendor)} | " + " | ".join(_cell(score, f) for f in wall) + " |"
        )
    lines += ["", f"## Backlog at the end of {card.period.title}, by age", ""]
    lines.append("| Vendor | Backlog | " + " | ".join(BACKLOG_AGES) + " |")
    lines.append("|---|---:|" + "---:|" * len(BACKLOG_AGES))
    for score in card.vendors:
        ages = score.row.backlog_ages or (0,) * len(BACKLOG_AGES)
        lines.append(
            f"| {_escape(score.vendor)} | {score.row.backlog or 0} | "
            + " | ".join(str(a) for a in ages)
            + " |"
        )
    periods = card.trend_periods
    for fig_id in TREND_FIGURES:
        fig = figure(fig_id)
        lines += ["", f"## Trend: {fig.label}, last {len(periods)} periods", ""]
        lines.append("| Vendor | " + " | ".join(p.label for p in periods) + " |")
        lines.append("|---|" + "---:|" * len(periods))
        for score in card.vendors:
            values = [fig.text(row) for row in score.trend]
            lines.append(f"| {_escape(score.vendor)} | " + " | ".join(values) + " |")
    if card.status_pages:
        pages = "; ".join(f"{v}: {', '.join(p)}" for v, p in card.status_pages.items())
        lines += ["", f"Credit evidence reads the incidents published on: {_escape(pages)}."]
    lines += ["", "## Definitions", ""]
    lines += [f"* {fig.definition}" for fig in FIGURES]
    return "\n".join(lines) + "\n"

"""The scorecard as one self-contained HTML file: inline CSS and SVG, no script, no network.

Fit to attach to a contract review: it prints on A4 landscape, every figure
carries its glyph (▲ better, ▼ worse) as well as its colour, and the
definitions travel with the numbers.
"""

from __future__ import annotations

from html import escape

from paneglass.metrics.figures import BACKLOG_AGES, FIGURES, TREND_MARKS, Figure, Trend, figure
from paneglass.metrics.scorecard import TREND_FIGURES, Scorecard, VendorScore
from paneglass.reports.scorecard_markdown import SUMMARY
from paneglass.reports.svg_chart import bar_chart, sparkline

__all__ = ["scorecard_html"]

_STYLE = """
:root { --ink: #1d2430; --muted: #5b6573; --rule: #d5dae1; --better: #1a7f37; --worse: #c2261d;
        --bar: #3465a4; --spark: #3465a4; }
* { box-sizing: border-box; }
body { font: 13px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 28px 36px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 26px 0 8px; border-bottom: 1px solid var(--rule);
     padding-bottom: 3px; }
p.meta { color: var(--muted); margin: 0 0 14px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--rule); text-align: right;
         white-space: nowrap; }
th { font-weight: 600; background: #f3f5f8; font-size: 12px; }
th:first-child, td:first-child { text-align: left; }
td.better { color: var(--better); font-weight: 600; }
td.worse { color: var(--worse); font-weight: 600; }
.mark { font-size: 10px; margin-left: 3px; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px 30px; }
.charts figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.bars rect { fill: var(--bar); }
svg.bars text { font-size: 11px; fill: var(--ink); }
svg.spark polyline { fill: none; stroke: var(--spark); stroke-width: 1.6; }
svg.spark circle { fill: var(--spark); }
ul.defs { padding-left: 18px; color: var(--ink); }
ul.defs li { margin-bottom: 3px; }
.legend span { margin-right: 14px; }
@media print { body { margin: 10mm; } h2 { break-after: avoid; } table { font-size: 10px; } }
@page { size: A4 landscape; }
"""


def _cell(score: VendorScore, fig: Figure) -> str:
    trend = score.compared(fig)
    glyph, word = TREND_MARKS[trend]
    css = trend.value if trend in (Trend.BETTER, Trend.WORSE) else ""
    mark = f'<span class="mark" title="{word}">{glyph}</span>' if glyph else ""
    return f'<td class="{css}">{escape(fig.text(score.row))}{mark}</td>'


def _table(card: Scorecard, figure_ids: tuple[str, ...]) -> str:
    figs = [figure(f) for f in figure_ids]
    head = "".join(f"<th>{escape(f.label)}</th>" for f in figs)
    body = "".join(
        f"<tr><td>{escape(s.vendor)}</td>{''.join(_cell(s, f) for f in figs)}</tr>"
        for s in card.vendors
    )
    return f"<table><thead><tr><th>Vendor</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(card: Scorecard) -> str:
    def bars(fig_id: str, scale: float = 1.0, unit: str = "") -> str:
        fig = figure(fig_id)
        values = [(s.vendor, fig.value(s.row)) for s in card.vendors]
        return bar_chart([(v, (x or 0) / scale) for v, x in values], unit=unit)

    charts = (
        ("Resolution SLA met (%)", bars("resolution_met", unit=" %")),
        ("Response SLA met (%)", bars("response_met", unit=" %")),
        ("MTTR median, working hours", bars("mttr_p50", 3600, " h")),
        ("Backlog at period end", bars("backlog")),
        ("Credit evidence (breach minutes in vendor incidents)", bars("credit_minutes")),
        ("Opened in the period", bars("opened")),
    )
    return "".join(
        f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>" for title, svg in charts
    )


def _trend(card: Scorecard) -> str:
    figs = [figure(f) for f in TREND_FIGURES]
    first, last = card.trend_periods[0], card.trend_periods[-1]
    head = "".join(
        f"<th>{escape(f.label)} ({escape(first.label)} → {escape(last.label)})</th>" for f in figs
    )
    rows = []
    for score in card.vendors:
        cells = []
        for fig in figs:
            values = score.trend_of(fig)
            latest = fig.text(score.trend[-1]) if score.trend else "—"
            cells.append(f"<td>{sparkline(values)} {escape(latest)}</td>")
        rows.append(f"<tr><td>{escape(score.vendor)}</td>{''.join(cells)}</tr>")
    body = "".join(rows)
    return f"<table><thead><tr><th>Vendor</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _backlog(card: Scorecard) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label in BACKLOG_AGES)
    rows = []
    for score in card.vendors:
        ages = score.row.backlog_ages or (0,) * len(BACKLOG_AGES)
        cells = "".join(f"<td>{a}</td>" for a in ages)
        rows.append(
            f"<tr><td>{escape(score.vendor)}</td><td>{score.row.backlog or 0}</td>{cells}</tr>"
        )
    return (
        f"<table><thead><tr><th>Vendor</th><th>Backlog</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def scorecard_html(card: Scorecard) -> str:
    """The whole report as one HTML document."""
    title = f"Vendor scorecard: {card.period.title}"
    wall = ("mtta_wall_p50", "mtta_wall_p90", "mttr_wall_p50", "mttr_wall_p90")
    pages = ""
    if card.status_pages:
        listed = "; ".join(f"{v}: {', '.join(p)}" for v, p in card.status_pages.items())
        pages = (
            f"<p class='meta'>Credit evidence reads the incidents published on {escape(listed)}."
        )
    legend = (
        '<p class="meta legend"><span class="better">▲ better</span>'
        '<span class="worse">▼ worse</span><span>= same</span><span>+ more</span>'
        f"<span>− fewer</span> than {escape(card.previous.title)}</p>"
    )
    definitions = "".join(f"<li>{escape(f.definition)}</li>" for f in FIGURES)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{card.period.start:%Y-%m-%d %H:%M} to {card.period.end:%Y-%m-%d %H:%M} UTC ·
generated {card.generated_at:%Y-%m-%d %H:%M} UTC by paneglass from the customer's own store ·
MTTA and MTTR in working time of each contract's calendar</p>
{legend}
<h2>Figures</h2>
{_table(card, SUMMARY)}
<h2>Charts</h2>
<div class="charts">{_charts(card)}</div>
<h2>Trend, last {len(card.trend_periods)} periods</h2>
{_trend(card)}
<h2>Wall-clock time</h2>
{_table(card, wall)}
<h2>Backlog at the end of {escape(card.period.title)}, by age</h2>
{_backlog(card)}
{pages}
<h2>Definitions</h2>
<ul class="defs">{definitions}</ul>
</body></html>
"""

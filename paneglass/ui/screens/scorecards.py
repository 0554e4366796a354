"""The scorecards pane: every vendor by every figure for a period, and a twelve-period trend.

Each figure carries a glyph against the previous period (▲ better, ▼ worse,
= same; + and - for volume, which is neither) and the theme's colour on top, so
the table reads on a monochrome wall. The trend is one Textual ``Sparkline``
per vendor and figure: a row each fits nine vendors at 80x24, draws in the
theme's colours, and costs nothing at startup (textual-plotext was tried:
one multi-line plot of nine vendors reads only in colour, and imports a
plotting library). Figures come from a thread worker (SQL aggregates in the
store); ``[`` and ``]`` step through the periods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static
from textual.worker import get_current_worker

from paneglass.metrics.figures import Figure, figure
from paneglass.metrics.periods import Period, last_month
from paneglass.metrics.scorecard import (
    TREND_FIGURES,
    TREND_PERIODS,
    Scorecard,
    VendorScore,
    headline_scorecard,
    with_trend,
)
from paneglass.store import Store
from paneglass.ui.display import plain, safe_line
from paneglass.ui.states import METRIC_TREND

__all__ = ["ScorecardsScreen"]

WIDE = (
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
NARROW = ("opened", "resolved", "backlog", "mttr_p50", "resolution_met", "response_met")
WIDE_FROM = 150
FULL_FROM = 180
"""Hand-off counts join the table from this many columns."""
"""Below this many columns the table keeps the figures a contract review reads first."""
_TREND_VENDOR = 14
_TREND_LATEST = 1 + 9 + 2
"""Columns of a trend row besides its sparklines: the vendor; per figure, its latest value."""
_TREND_PRIORITY = ("resolution_met", "mttr_p50", "response_met", "resolved")
"""The trend's figures in the order they give way on a narrow terminal (last goes first)."""
_SHORT = {
    "reopened": "Re-open",
    "response_met": "Resp met",
    "resolution_met": "Res met",
    "vendor_claim": "Vendor says",
    "handoffs_sent": "H/O out",
    "handoffs_received": "H/O in",
    "credit_minutes": "Credit min",
}


class ScorecardsScreen(Screen[None]):
    """Vendor scorecards for one period (last month by default)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "step(-1)", "Previous period", id="scorecards.previous"),
        Binding("right_square_bracket", "step(1)", "Next period", id="scorecards.next"),
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="scorecards.back"),
    ]
    DEFAULT_CSS = """
    #scorecard-table { height: auto; max-height: 60%; }
    #trend-scroll { height: 1fr; border-top: solid $panel; border-title-color: $text; }
    .trend-row { height: 1; }
    .trend-row > .vendor { width: 14; }
    .trend-row > Sparkline { margin-right: 1; }
    .trend-row > .latest { width: 9; text-align: right; margin-right: 2; }
    #trend-head { height: 1; color: $text-muted; }
    #trend-head > .vendor { width: 14; }
    #trend-head > .title { margin-right: 2; }
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        status_pages: Mapping[str, tuple[str, ...]] | None = None,
        period: Period | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.zone = zone or clock().astimezone().tzinfo
        self.status_pages = dict(status_pages or {})
        self.period = period or last_month(clock(), self.zone)  # type: ignore[arg-type]
        self.card: Scorecard | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="scorecards-pane", classes="pane"):
            yield DataTable(id="scorecard-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="trend-scroll"):
                yield Horizontal(id="trend-head")
                yield Vertical(id="trend")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._repaint())
        self.refresh_data()

    # -- data ------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Re-read the scorecard (after a change notice, or another period)."""
        pane = self.query_one("#scorecards-pane")
        pane.border_title = plain(f"Scorecards  {self.period.title}  ·  reading …")
        self._load(self.period)

    @work(thread=True, exclusive=True, group="scorecards-query", exit_on_error=False)
    def _load(self, period: Period) -> None:
        card = headline_scorecard(self.store, period, self.clock(), pages=self.status_pages)
        self.app.call_from_thread(self._show, card)
        if get_current_worker().is_cancelled:  # another period was asked for meanwhile
            return
        card = with_trend(self.store, card)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, card)

    def action_step(self, steps: int) -> None:
        """Show the period before (-1) or after (+1); never one that has not begun."""
        wanted = self.period.shifted(steps)
        if wanted.start > self.clock():
            self.notify(f"{wanted.title} has not begun yet.", markup=False)
            return
        self.period = wanted
        self.refresh_data()

    def on_resize(self) -> None:
        self._repaint()

    def _repaint(self) -> None:
        if self.card is not None:
            self._show(self.card)

    # -- rendering -----------------------------------------------------------------------

    def _figures(self) -> list[Figure]:
        ids: tuple[str, ...] = WIDE if self.size.width >= WIDE_FROM else NARROW
        if self.size.width < FULL_FROM:  # hand-offs are in the reports; the credit is not
            ids = tuple(f for f in ids if not f.startswith("handoffs"))
        return [figure(f) for f in ids]

    def _cell(self, score: VendorScore, fig: Figure) -> Text:
        face = METRIC_TREND[score.compared(fig)]
        text = fig.text(score.row)
        if face.glyph:
            text = f"{text} {face.glyph}"
        return Text(text, style=face.rich_style(self.app.theme_variables), justify="right")

    def _show(self, card: Scorecard) -> None:
        self.card = card
        legend = " ".join(
            f"{METRIC_TREND[t].glyph} {METRIC_TREND[t].word}" for t in list(METRIC_TREND)[:5]
        )
        self.query_one("#scorecards-pane").border_title = plain(
            f"Scorecards  {card.period.title}  ·  vs {card.previous.title}  ·  {legend}"
        )
        self.query_one("#scorecards-pane").border_subtitle = plain(
            "[ ] period  ·  MTTA / MTTR: working time in each contract's calendar"
        )
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        figs = self._figures()
        table.clear(columns=True)
        table.add_column("Vendor", key="vendor")
        for fig in figs:
            table.add_column(Text(_SHORT.get(fig.id, fig.label), justify="right"), key=fig.id)
        for score in card.vendors:
            table.add_row(Text(safe_line(score.vendor, 20)), *(self._cell(score, f) for f in figs))
        if card.vendors:
            table.move_cursor(row=min(cursor, len(card.vendors) - 1))
        if not card.trend_periods:  # the headline came first: the trend is being read
            self.query_one("#trend-scroll").border_title = plain(
                f"Trend, last {TREND_PERIODS} periods  ·  reading …"
            )
            self.query_one("#trend-head", Horizontal).remove_children()
            self.query_one("#trend", Vertical).remove_children()
            return
        first, last = card.trend_periods[0], card.trend_periods[-1]
        self.query_one("#trend-scroll").border_title = plain(
            f"Trend, last {len(card.trend_periods)} periods  ({first.title} → {last.title})"
        )
        self._show_trend(card)

    def _trend_layout(self, vendors: int, periods: int) -> tuple[tuple[str, ...], int, int]:
        """The trend's figures, sparkline width and height for this terminal.

        A sparkline is a whole number of columns per period (bars of unequal width
        read as a change), at least one; figures are dropped, least read first, until
        each has that; rows grow to three lines where the height allows.
        """
        periods = max(periods, 1)
        room = self.size.width - 2 - _TREND_VENDOR  # inside the pane's border
        count = max(1, min(len(TREND_FIGURES), room // (periods + _TREND_LATEST)))
        ids = tuple(f for f in TREND_FIGURES if f in _TREND_PRIORITY[:count])
        width = max(1, (room // count - _TREND_LATEST) // periods) * periods
        table = self.query_one(DataTable)
        # Rows left under the table: footer, the pane's border, the trend's rule and head.
        left = self.size.height - 1 - 2 - table.row_count - 1 - 2
        height = 1
        for lines in (3, 2):
            if vendors * (lines + 1) <= left:
                height = lines
                break
        return ids, width, height

    def _show_trend(self, card: Scorecard) -> None:
        ids, width, height = self._trend_layout(len(card.vendors), len(card.trend_periods))
        head = self.query_one("#trend-head", Horizontal)
        head.remove_children()
        titles: list[Static] = [Static("", classes="vendor")]
        for fig_id in ids:
            title = Static(figure(fig_id).label, classes="title", markup=False)
            title.styles.width = width + _TREND_LATEST - 2  # over its sparkline and value
            titles.append(title)
        head.mount_all(titles)
        trend = self.query_one("#trend", Vertical)
        trend.remove_children()
        rows = []
        for score in card.vendors:
            cells: list[Static | Sparkline] = [
                Static(safe_line(score.vendor, 13), classes="vendor", markup=False)
            ]
            for fig_id in ids:
                fig = figure(fig_id)
                values = [v if v is not None else 0.0 for v in score.trend_of(fig)]
                spark = Sparkline(values, summary_function=max)
                spark.styles.width = width
                spark.styles.height = height
                cells.append(spark)
                latest = fig.text(score.trend[-1]) if score.trend else "—"
                cells.append(Static(latest, classes="latest", markup=False))
            row = Horizontal(*cells, classes="trend-row")
            row.styles.height = height
            row.styles.margin = (0, 0, 1 if height > 1 else 0, 0)
            rows.append(row)
        trend.mount_all(rows)

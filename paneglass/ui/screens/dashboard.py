"""The main screen: Tickets, SLA and Vendors panes under a headline bar.

At 100 columns and wider all three panes show side by side; narrower, one
pane fills the screen and ``1``/``2``/``3`` (or tab) switch between them.
The screen re-queries the store when told the store changed, in a thread
worker, and hands frozen rows to its widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from paneglass.collect import Freshness, freshness
from paneglass.config import SavedView
from paneglass.sla import ClockState
from paneglass.store import (
    FilterError,
    Headline,
    SlaRow,
    SortKey,
    Store,
    TicketQuery,
    VendorHealth,
)
from paneglass.ui.commands import run_command
from paneglass.ui.display import age, plain
from paneglass.ui.messages import FirstDataShown
from paneglass.ui.navigation import OpenTicket
from paneglass.ui.states import FRESHNESS, SLA
from paneglass.ui.widgets.header_bar import HeaderBar
from paneglass.ui.widgets.prompt_bar import PromptBar
from paneglass.ui.widgets.sla_list import SlaList
from paneglass.ui.widgets.ticket_table import TicketTable
from paneglass.ui.widgets.vendor_list import VendorList

__all__ = ["DashboardScreen"]

_BREACHED, _AT_RISK = SLA[ClockState.BREACHED], SLA[ClockState.AT_RISK]
_STALE, _FAILING = FRESHNESS[Freshness.STALE], FRESHNESS[Freshness.FAILING]

NARROW_BELOW = 100
PANES = ("tickets", "sla", "vendors")


@dataclass(frozen=True)
class _Snapshot:
    headline: Headline
    sla: list[SlaRow]
    sla_counts: dict[str, tuple[int, int]]
    vendors: list[VendorHealth]
    unacked: int = 0


class DashboardScreen(Screen[None]):
    """Tickets, SLA and Vendors in one view."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_pane('tickets')", "Tickets", id="pane.tickets"),
        Binding("2", "show_pane('sla')", "SLA", id="pane.sla"),
        Binding("3", "show_pane('vendors')", "Vendors", id="pane.vendors"),
        Binding("4", "app.open_cases", "Cases", id="pane.cases", show=False),
        Binding("5", "app.open_outbox", "Outbox", id="pane.outbox", show=False),
        Binding(
            "6", "app.open_notifications", "Notifications", id="pane.notifications", show=False
        ),
        Binding("tab", "next_pane(1)", "Next pane", show=False, priority=True, id="pane.next"),
        Binding(
            "shift+tab",
            "next_pane(-1)",
            "Previous pane",
            show=False,
            priority=True,
            id="pane.previous",
        ),
        Binding("z", "toggle_zoom", "Zoom", id="pane.zoom"),
        Binding("slash", "prompt('filter')", "Filter", id="tickets.filter"),
        Binding("colon", "prompt('command')", "Command", id="app.command"),
        Binding("V", "next_view", "Next view", id="tickets.view"),
        Binding("r", "history('requester')", "Requester history", id="tickets.requester"),
        Binding("a", "history('asset')", "Asset history", id="tickets.asset"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        zone_name: str,
        demo: bool,
        views: tuple[SavedView, ...] = (),
    ) -> None:
        super().__init__()
        self.views = views
        self.view_index = -1
        self.store = store
        self.clock = clock
        self.zone = zone
        self.zone_name = zone_name
        self.demo = demo
        self.active = "tickets"
        self.zoomed = False
        self._vendors: list[VendorHealth] = []
        self._first_data_shown = False

    def compose(self) -> ComposeResult:
        yield HeaderBar(clock=self.clock, zone=self.zone, zone_name=self.zone_name, demo=self.demo)
        with Horizontal(id="panes"):
            with Vertical(id="tickets-pane", classes="pane -active"):
                yield TicketTable(self.store, clock=self.clock, zone=self.zone, id="tickets")
            with Vertical(id="side"):
                with Vertical(id="sla-pane", classes="pane"):
                    yield SlaList(clock=self.clock, id="sla")
                with VerticalScroll(id="vendors-pane", classes="pane"):
                    yield VendorList(clock=self.clock, id="vendors", zone=self.zone)
        yield PromptBar(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tickets-pane").border_title = "Tickets"
        self.query_one("#sla-pane").border_title = "SLA  breached & at risk"
        self.query_one("#vendors-pane").border_title = "Vendors"
        self.query_one(TicketTable).focus()
        self._apply_layout()
        self._load_side()  # the ticket table read its first window when it mounted
        self.set_interval(5.0, self._recheck_freshness)

    def on_resize(self) -> None:
        self._apply_layout()

    # -- data -----------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Re-query every pane (after a change notice)."""
        self.query_one(TicketTable).reload()
        self._load_side()

    def _load_side(self) -> None:
        """Re-query header, SLA and vendors; the SLA filter is read here, not in the worker."""
        sla = self.query_one(SlaList)
        self._load(sla.vendor_filter, sla.priority_filter)

    @work(thread=True, exclusive=True, group="dashboard-query", exit_on_error=False)
    def _load(self, vendor: str | None, priority: str | None) -> None:
        now = self.clock()
        rows = self.store.sla_rows(now, limit=300, vendor=vendor, priority=priority)
        snapshot = _Snapshot(
            self.store.headline(now),
            rows,
            self.store.sla_counts(now),
            self.store.vendor_health(),
            self.store.unacked_notifications(),
        )
        self.app.call_from_thread(self._show, snapshot)

    def _show(self, snapshot: _Snapshot) -> None:
        with self.app.batch_update():
            self.query_one(HeaderBar).set_data(
                snapshot.headline, snapshot.vendors, snapshot.unacked
            )
            self._mark_stale(snapshot.vendors)
            sla = self.query_one(SlaList)
            sla.vendor_names = [v.name for v in snapshot.vendors]
            sla.set_rows(snapshot.sla)
            self.query_one(VendorList).set_vendors(snapshot.vendors)
            h = snapshot.headline
            pane = self.query_one("#sla-pane")
            title = f"SLA  {_BREACHED.glyph} {h.breached} {_BREACHED.word}"
            title += f" · {_AT_RISK.glyph} {h.at_risk} {_AT_RISK.word}"
            if sla.filter_label:
                title += f"  · only {sla.filter_label}"
            pane.border_title = plain(title)
            counts = [
                f"{name} {_BREACHED.glyph}{b} {_AT_RISK.glyph}{r}"
                for name, (b, r) in snapshot.sla_counts.items()
            ]
            data_age = age(h.last_ok_at, self.clock(), seconds_precision=False)
            pane.border_subtitle = plain(" · ".join([*counts, f"data {data_age} old"]))
            unhealthy = [v for v in snapshot.vendors if v.last_ok is False]
            self.query_one("#vendors-pane").border_title = f"Vendors  {len(snapshot.vendors)}" + (
                f" · {_FAILING.glyph} {len(unhealthy)} failing" if unhealthy else ""
            )

    def _mark_stale(self, vendors: list[VendorHealth]) -> None:
        now = self.clock()
        stale = frozenset(
            v.name for v in vendors if freshness(v, now) in (Freshness.STALE, Freshness.FAILING)
        )
        self.query_one(TicketTable).set_stale_vendors(stale)
        self._vendors = vendors
        # Every pane says how old its data is; stale vendors are named where their rows are.
        ages = [v.last_ok_at for v in vendors if v.last_ok_at is not None]
        newest = age(max(ages), now, seconds_precision=False) if ages else "—"
        marked = f" · {_STALE.glyph} stale: {', '.join(sorted(stale))}" if stale else ""
        note = f"data {newest} old{marked}"
        pane = self.query_one("#tickets-pane")
        if str(pane.border_subtitle or "") != note:
            pane.border_subtitle = plain(note)

    def _recheck_freshness(self) -> None:
        """Data goes stale with time alone: re-judge it every few seconds without a query."""
        self._mark_stale(self._vendors)

    @on(SlaList.FilterChanged)
    def _sla_filter(self) -> None:
        self._load_side()

    @on(TicketTable.Counted)
    def _counted(self, event: TicketTable.Counted) -> None:
        query = event.ticket_query
        direction = "▼" if query.descending else "▲"
        count = f"{event.total:,}"
        if event.total_all is not None:
            count = f"{event.total:,} of {event.total_all:,}"
        title = f"Tickets  {count}  ·  sort {query.sort.value} {direction}"
        if self.view_index >= 0:
            title += f"  ·  view {self.views[self.view_index].name}"
        if query.text:
            title += f"  ·  / {query.text}"
        self.query_one("#tickets-pane").border_title = plain(title)
        if not self._first_data_shown:
            self._first_data_shown = True
            self.post_message(FirstDataShown())

    @on(TicketTable.Selected)
    @on(SlaList.Selected)
    def _open(self, event: TicketTable.Selected | SlaList.Selected) -> None:
        self.post_message(OpenTicket(event.ticket_id))

    # -- layout ----------------------------------------------------------------------------

    @property
    def narrow(self) -> bool:
        """True when only one pane fits."""
        return self.size.width < NARROW_BELOW

    def _apply_layout(self) -> None:
        single = self.narrow or self.zoomed
        panes = self.query_one("#panes")
        panes.set_class(single, "-single")
        panes.set_class(self.active != "tickets", "-side-active")
        for name in PANES:
            self.query_one(f"#{name}-pane").set_class(name == self.active, "-active")

    def action_show_pane(self, name: str) -> None:
        """Bring a pane forward and focus it."""
        self.active = name
        self._apply_layout()
        target = {"tickets": "#tickets", "sla": "#sla", "vendors": "#vendors-pane"}[name]
        self.query_one(target).focus()

    def action_next_pane(self, step: int) -> None:
        """Cycle through the panes."""
        index = (PANES.index(self.active) + step) % len(PANES)
        self.action_show_pane(PANES[index])

    # -- prompt, commands, views, histories ----------------------------------------------

    def action_prompt(self, mode: str) -> None:
        """Open the filter (``/``) or command (``:``) prompt."""
        current = self.query_one(TicketTable).ticket_query.text if mode == "filter" else ""
        self.query_one(PromptBar).open(mode, current)

    @on(PromptBar.Answered)
    def _answered(self, event: PromptBar.Answered) -> None:
        prompt = self.query_one(PromptBar)
        error = (
            self.apply_filter(event.value)
            if event.mode == "filter"
            else run_command(self, event.value)
        )
        if error:
            prompt.show_error(error)
        else:
            prompt.action_close()

    def apply_filter(self, text: str) -> str | None:
        """Filter the ticket pane; return an error message instead when the text is bad."""
        table = self.query_one(TicketTable)
        try:
            query = replace(table.ticket_query, text=text)
        except FilterError as exc:
            return str(exc)
        table.ticket_query = query
        if self.active != "tickets":
            self.action_show_pane("tickets")
        return None

    def sort_tickets(self, sort: SortKey, descending: bool) -> None:
        """Sort the ticket pane and bring it forward."""
        table = self.query_one(TicketTable)
        table.ticket_query = replace(table.ticket_query, sort=sort, descending=descending)
        self.action_show_pane("tickets")

    def apply_view(self, name: str) -> str | None:
        """Switch the ticket pane to a saved view."""
        for index, view in enumerate(self.views):
            if view.name == name:
                self.view_index = index
                table = self.query_one(TicketTable)
                table.ticket_query = view.query
                self.action_show_pane("tickets")
                return None
        names = ", ".join(v.name for v in self.views) or "none configured"
        return f"no view {name!r} (views: {names})"

    def action_next_view(self) -> None:
        """Cycle through the saved views (then back to everything)."""
        if not self.views:
            self.notify("No saved views: add [views.NAME] to the config.", markup=False)
            return
        self.view_index += 1
        if self.view_index >= len(self.views):
            self.view_index = -1
            self.query_one(TicketTable).ticket_query = TicketQuery()
            return
        self.apply_view(self.views[self.view_index].name)

    def action_history(self, column: str) -> None:
        """Every ticket of the selected ticket's requester (or asset), across vendors."""
        row = self.query_one(TicketTable).current_row
        if row is None:
            return
        self._open_history(row.id, column)

    @work(thread=True, exclusive=True, group="history-lookup", exit_on_error=False)
    def _open_history(self, ticket_id: int, column: str) -> None:
        detail = self.store.ticket_detail(ticket_id)
        value = (
            None
            if detail is None
            else (detail.requester if column == "requester" else detail.asset)
        )
        self.app.call_from_thread(self._push_history, column, value)

    def _push_history(self, column: str, value: str | None) -> None:
        from paneglass.ui.screens.ticket_list import open_history

        open_history(self, self.store, column, value, clock=self.clock, zone=self.zone)

    def open_ticket_key(self, key: str) -> None:
        """Open the ticket whose key is ``key`` (exact, else the first match)."""
        self._find_key(key)

    @work(thread=True, exclusive=True, group="key-lookup", exit_on_error=False)
    def _find_key(self, key: str) -> None:
        found = self.store.find_tickets(key, limit=1)
        self.app.call_from_thread(self._open_found, key, found)

    def _open_found(self, key: str, found: list[tuple[int, str, str, str]]) -> None:
        if not found:
            self.notify(f"No ticket with key {key}.", markup=False, severity="warning")
            return
        self.post_message(OpenTicket(found[0][0]))

    def action_help(self) -> None:
        """Show every key that works here."""
        from paneglass.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    def action_toggle_zoom(self) -> None:
        """Let the active pane fill the screen, or go back to all panes."""
        self.zoomed = not self.zoomed
        self._apply_layout()

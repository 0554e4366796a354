"""The wall: headline counters, a clock and the panes, for a screen across the room.

Read-only by construction: this screen registers no action that changes
anything, opens nothing on click, and offers no palette. A loud banner names
every vendor whose data is stale or failing, so an old number is never
mistaken for a current one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Digits, Static

from paneglass.collect import Freshness, freshness
from paneglass.config import WallConfig
from paneglass.store import Headline, SlaRow, Store, VendorHealth
from paneglass.ui.display import age, safe_line
from paneglass.ui.messages import FirstDataShown
from paneglass.ui.states import FRESHNESS
from paneglass.ui.widgets.sla_list import SlaList
from paneglass.ui.widgets.ticket_table import TicketTable
from paneglass.ui.widgets.vendor_list import VendorList

__all__ = ["WallScreen", "stale_banner"]

_TITLES = {"sla": "SLA  breached & at risk", "tickets": "Tickets", "vendors": "Vendors"}


@dataclass(frozen=True)
class _Snapshot:
    headline: Headline
    sla: list[SlaRow]
    vendors: list[VendorHealth]
    unacked: int = 0


def stale_banner(vendors: list[VendorHealth], now: datetime) -> Content | None:
    """The loud line naming every stale or failing vendor; ``None`` when all are fresh."""
    bad = []
    for vendor in vendors:
        state = freshness(vendor, now)
        if state in (Freshness.STALE, Freshness.FAILING):
            why = f" ({vendor.last_error_kind})" if state is Freshness.FAILING else ""
            data_age = age(vendor.last_ok_at, now, seconds_precision=False)
            bad.append(f"{vendor.name} {FRESHNESS[state].word}{why}, data {data_age} old")
    if not bad:
        return None
    alarm = f"{FRESHNESS[Freshness.STALE].glyph} STALE DATA — "
    text = safe_line(alarm + " · ".join(bad) + " — figures may be out of date")
    return Content.styled(f" {text} ", "bold")


class _Counter(Vertical):
    """A label over big digits."""

    DEFAULT_CSS = """
    _Counter { width: 1fr; height: 6; border: round $panel-lighten-2; }
    _Counter > .label { text-align: center; text-style: bold; color: $text-muted; }
    _Counter > Digits { width: 100%; text-align: center; }
    _Counter.-alert { border: round $sla-breached; }
    _Counter.-alert > Digits { color: $sla-breached; text-style: bold; }
    _Counter.-warn > Digits { color: $sla-at-risk; }
    """

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id)
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="label", markup=False)
        yield Digits("–")

    def show(self, value: int, level: str = "") -> None:
        digits = self.query_one(Digits)
        if digits.value != str(value):  # repaint only a changed number
            digits.update(str(value))
        self.set_class(level == "alert" and value > 0, "-alert")
        self.set_class(level == "warn" and value > 0, "-warn")


class WallScreen(Screen[None], inherit_bindings=False):
    """Counters, clock, stale banner and one or two panes, rotating if asked."""

    BINDINGS = []
    DEFAULT_CSS = """
    WallScreen { layout: vertical; }
    #wall-head { height: 1; width: 100%; background: $panel; }
    #wall-foot { width: 100%; }
    #counters { height: 6; }
    #clock { width: 22; height: 6; border: round $panel-lighten-2; }
    #clock > Digits { width: 100%; text-align: center; }
    #seconds { width: 100%; text-align: center; color: $text-muted; }
    #banner { height: 1; width: 100%; }
    #banner.-shown { background: $vendor-failing; color: $background; }
    #wall-body { height: 1fr; }
    #wall-body > .pane { width: 1fr; }
    #wall-body > .pane.-hidden { display: none; }
    #wall-foot { height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        store: Store,
        settings: WallConfig,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        zone_name: str,
        demo: bool,
        rotate: float | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.clock = clock
        self.zone = zone
        self.zone_name = zone_name
        self.demo = demo
        self.rotate = settings.rotate if rotate is None else rotate
        self.playlist = settings.panes
        self.showing = 0
        self.vendors: list[VendorHealth] = []
        self._banner_text = ""
        self._shown: dict[str, str] = {}
        self._first_data_shown = False

    def compose(self) -> ComposeResult:
        yield Static("", id="wall-head", markup=False)
        with Horizontal(id="counters"):
            yield _Counter("BREACHED", id="c-breached")
            yield _Counter("AT RISK", id="c-risk")
            yield _Counter("OPEN P1", id="c-p1")
            yield _Counter("VENDORS DEGRADED", id="c-degraded")
            yield _Counter("TO ACK", id="c-unacked")
            with Vertical(id="clock"):
                yield Digits("--:--")
                yield Static("", id="seconds", markup=False)
        yield Static("", id="banner", markup=False)
        sla = SlaList(clock=self.clock, id="sla")
        tickets = TicketTable(self.store, clock=self.clock, zone=self.zone, id="tickets")
        vendors = VerticalScroll(id="wall-vendors", classes="pane")
        for widget in (sla, tickets, vendors):
            widget.can_focus = False  # nobody is at the keyboard: no cursor, no selection
        with Horizontal(id="wall-body"):
            with Vertical(id="wall-sla", classes="pane"):
                yield sla
            with Vertical(id="wall-tickets", classes="pane"):
                yield tickets
            with vendors:
                yield VendorList(clock=self.clock, id="vendors", zone=self.zone)
        yield Static("", id="wall-foot", markup=False)

    def on_mount(self) -> None:
        for name, title in _TITLES.items():
            self.query_one(f"#wall-{name}").border_title = title
        self._layout()
        self._tick()
        self.set_interval(1.0, self._tick)
        if self.rotate > 0 and len(self.playlist) > 1:
            self.set_interval(self.rotate, self._next_pane)
        self.refresh_data()

    # -- layout ----------------------------------------------------------------------------

    def _visible(self) -> tuple[str, ...]:
        if self.rotate > 0:
            return (self.playlist[self.showing % len(self.playlist)],)
        return tuple(p for p in ("sla", "vendors") if p in self.playlist) or self.playlist[:1]

    def _layout(self) -> None:
        visible = self._visible()
        for name in _TITLES:
            self.query_one(f"#wall-{name}").set_class(name not in visible, "-hidden")
        mode = f"rotating every {self.rotate:g} s" if self.rotate > 0 else "fixed layout"
        shown = " + ".join(_TITLES[v].split()[0] for v in visible)
        self.query_one("#wall-foot", Static).update(
            Content(f" read-only · {mode} · showing {shown}")
        )

    def _next_pane(self) -> None:
        self.showing = (self.showing + 1) % len(self.playlist)
        self._layout()
        self.refresh_data()

    # -- data -------------------------------------------------------------------------------

    def _set(self, selector: str, text: str | Content) -> None:
        """Update a widget only when what it shows changes (every repaint costs bytes)."""
        key = text.plain if isinstance(text, Content) else text
        if self._shown.get(selector) == key:
            return
        self._shown[selector] = key
        widget = self.query_one(selector)
        if isinstance(widget, Digits):
            widget.update(key)
        else:  # one-line, fixed-size widgets: a repaint, never a re-layout
            widget.update(text, layout=False)  # type: ignore[attr-defined]

    def _tick(self) -> None:
        """Once a second: the clock and the header; data comes with change notices."""
        now = self.clock()
        local = now.astimezone(self.zone) if self.zone else now.astimezone()
        self._set("#clock Digits", f"{local:%H:%M}")
        self._set("#seconds", f"{local:%H:%M:%S}")
        title = self.settings.title or "paneglass wall"
        head = [(f" {title}", "bold $primary")]
        if self.demo:
            head += [("  ", ""), (" DEMO DATA ", "bold reverse $demo-banner")]
        right = f"{local:%a %d %b %Y}  {self.zone_name} "
        left = Content.assemble(*head)
        width = self.query_one("#wall-head").size.width or self.size.width or 120
        gap = max(width - left.cell_length - len(right), 1)
        self._set("#wall-head", Content.assemble(left, " " * gap, right))
        self._banner(now)

    def refresh_data(self) -> None:
        """Re-query counters and panes (after a change notice)."""
        self._load()
        if "tickets" in self._visible():
            self.query_one(TicketTable).reload()

    @work(thread=True, exclusive=True, group="wall-query", exit_on_error=False)
    def _load(self) -> None:
        now = self.clock()
        snapshot = _Snapshot(
            self.store.headline(now),
            self.store.sla_rows(now, limit=200),
            self.store.vendor_health(),
            self.store.unacked_notifications(),
        )
        self.app.call_from_thread(self._show, snapshot)

    def _show(self, snapshot: _Snapshot) -> None:
        now = self.clock()
        h = snapshot.headline
        degraded = sum(
            1
            for v in snapshot.vendors
            if v.indicator not in (None, "none")
            or freshness(v, now) in (Freshness.STALE, Freshness.FAILING)
        )
        with self.app.batch_update():
            self.query_one("#c-breached", _Counter).show(h.breached, "alert")
            self.query_one("#c-risk", _Counter).show(h.at_risk, "warn")
            self.query_one("#c-p1", _Counter).show(h.open_p1, "warn")
            self.query_one("#c-degraded", _Counter).show(degraded, "alert")
            self.query_one("#c-unacked", _Counter).show(snapshot.unacked, "warn")
            visible = self._visible()
            if "sla" in visible:  # hidden panes catch up when the rotation shows them
                self.query_one(SlaList).set_rows(snapshot.sla)
            if "vendors" in visible:
                self.query_one(VendorList).set_vendors(snapshot.vendors)
        self.vendors = snapshot.vendors
        self._banner(now)
        if not self._first_data_shown:
            self._first_data_shown = True
            self.post_message(FirstDataShown())

    def _banner(self, now: datetime) -> None:
        """Show or hide the stale-data banner; repaint only when its text changes."""
        banner = stale_banner(self.vendors, now)
        fresh = FRESHNESS[Freshness.FRESH].glyph
        calm = Content.styled(f" {fresh} {len(self.vendors)} vendors reporting", "$text-muted")
        shown = banner or (calm if self.vendors else Content(""))
        if shown.plain == self._banner_text:
            return
        self._banner_text = shown.plain
        widget = self.query_one("#banner", Static)
        widget.set_class(banner is not None, "-shown")
        # The line is always there: showing or clearing the alarm never moves the panes.
        widget.update(shown, layout=False)

    def on_resize(self) -> None:
        self._tick()

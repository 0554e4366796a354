"""Breached and at-risk clocks, most urgent first, counting down every second.

Rows come from the store (stored due times); the countdown is recomputed from
those due times once a second without touching the database, and only the
countdown column is repainted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from paneglass.sla import ClockState, live_state, vendor_disagrees
from paneglass.store import SlaRow
from paneglass.ui.bindings import LIST_MOVEMENT
from paneglass.ui.display import countdown, fit, safe_line
from paneglass.ui.states import PAUSED, SLA, StateFace

__all__ = ["SlaList", "disagrees", "sla_face"]

_COUNTDOWN_WIDTH = 10
_TITLE_AT_LEAST = 14
"""The fewest cells a title is shown in; metric and state word give way to it first."""
_PRIORITIES = (None, "P1", "P2", "P3", "P4", "P5")


_ACCENTS = {
    SLA[ClockState.BREACHED]: "sla-list--breached",
    SLA[ClockState.NEAR_BREACH]: "sla-list--near-breach",
    PAUSED: "sla-list--paused",
}
"""The component class (theme colour) of each face; at risk otherwise."""


def disagrees(row: SlaRow, now: datetime) -> bool:
    """Does the vendor's own SLA word contradict the contract clock?"""
    return vendor_disagrees(
        state=row.state,
        due_at=row.due_at,
        vendor_breached=row.vendor_breached,
        vendor_due_at=row.vendor_due_at,
        now=now,
    )


def sla_face(row: SlaRow, now: datetime) -> StateFace:
    """How a clock looks at ``now`` (breach and near breach are judged live from their times)."""
    state = live_state(row.state, row.due_at, now, row.near_breach_at)
    if state is not ClockState.BREACHED and row.paused:
        return PAUSED
    if state in (ClockState.BREACHED, ClockState.NEAR_BREACH):
        return SLA[state]
    return SLA[ClockState.AT_RISK]


class SlaList(ScrollView, can_focus=True):
    """The SLA pane's list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *LIST_MOVEMENT,
        Binding("enter", "select", "Open", id="sla.open"),
        Binding("v", "cycle_vendor", "Vendor filter", id="sla.vendor"),
        Binding("p", "cycle_priority", "Priority filter", id="sla.priority"),
        Binding("x", "clear_filter", "Clear filter", show=False, id="sla.clear"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "sla-list--breached",
        "sla-list--at-risk",
        "sla-list--near-breach",
        "sla-list--paused",
        "sla-list--cursor",
        "sla-list--empty",
    }
    DEFAULT_CSS = """
    SlaList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    cursor_row: reactive[int] = reactive(0)

    class FilterChanged(Message):
        """The vendor or priority filter changed; the pane must re-query."""

    class Selected(Message):
        """The operator asked to open the ticket behind a clock."""

        def __init__(self, ticket_id: int) -> None:
            super().__init__()
            self.ticket_id = ticket_id

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.rows: list[SlaRow] = []
        self._painted: dict[int, tuple[str, str]] = {}
        """Row index → (glyph, countdown) as last painted, so ticks repaint only changes."""
        self.vendor_names: list[str] = []
        """Vendors the filter cycles through (set by the screen)."""
        self.vendor_filter: str | None = None
        self.priority_filter: str | None = None

    @property
    def filter_label(self) -> str:
        """The active filter in words, for the pane title."""
        parts = [p for p in (self.vendor_filter, self.priority_filter) if p]
        return " ".join(parts)

    def action_cycle_vendor(self) -> None:
        """Show only the next vendor's clocks (then all again)."""
        choices: list[str | None] = [None, *self.vendor_names]
        index = choices.index(self.vendor_filter) if self.vendor_filter in choices else 0
        self.vendor_filter = choices[(index + 1) % len(choices)]
        self.post_message(self.FilterChanged())

    def action_cycle_priority(self) -> None:
        """Show only the next priority's clocks (then all again)."""
        index = _PRIORITIES.index(self.priority_filter)
        self.priority_filter = _PRIORITIES[(index + 1) % len(_PRIORITIES)]
        self.post_message(self.FilterChanged())

    def action_clear_filter(self) -> None:
        """Show every vendor and priority."""
        self.vendor_filter = self.priority_filter = None
        self.post_message(self.FilterChanged())

    def set_rows(self, rows: list[SlaRow]) -> None:
        """Replace the rows (after a store change)."""
        if rows == self.rows:
            return
        self.rows = rows
        self._painted.clear()
        self.virtual_size = Size(self.size.width, len(rows))
        self.cursor_row = min(self.cursor_row, max(len(rows) - 1, 0))
        self.refresh()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """Repaint only the rows whose countdown (or glyph) reads differently now."""
        if not self.rows:
            return
        now = self.clock()
        width = self.scrollable_content_region.width
        top = int(self.scroll_y)
        for y in range(self.size.height):
            index = top + y
            if index >= len(self.rows):
                break
            shown = self._face(self.rows[index], now)
            painted = self._painted.get(index)
            if painted == shown:
                continue
            if painted is not None and painted[0] == shown[0]:  # only the countdown moved
                self.refresh(Region(max(width - _COUNTDOWN_WIDTH, 0), y, _COUNTDOWN_WIDTH, 1))
                self._painted[index] = shown
            else:
                self.refresh(Region(0, y, width, 1))

    @staticmethod
    def _face(row: SlaRow, now: datetime) -> tuple[str, str]:
        """What a row shows that moves with time: its glyph and its countdown."""
        remaining = countdown(row.due_at - now) if row.due_at else "paused"
        return sla_face(row, now).glyph, remaining

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = int(self.scroll_y) + y
        if not self.rows:
            if y == 0:
                style = base + self.get_component_rich_style("sla-list--empty")
                text = " No clock breached or at risk" + (
                    f" for {self.filter_label}." if self.filter_label else "."
                )
                return Strip([Segment(fit(text, width), style)], width)
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        now = self.clock()
        self._painted[index] = self._face(row, now)
        face = sla_face(row, now)
        glyph, word = face.glyph, face.word
        accent_name = _ACCENTS.get(face, "sla-list--at-risk")
        row_style = base
        if index == self.cursor_row and self.has_focus:
            row_style += self.get_component_rich_style("sla-list--cursor")
        accent = row_style + self.get_component_rich_style(accent_name)
        remaining = countdown(row.due_at - now) if row.due_at else "  paused"
        middle = self._middle(row, word, max(width - 4 - _COUNTDOWN_WIDTH, 0))
        segments = [
            Segment(f"{glyph} ", accent),
            Segment(middle, row_style),
            Segment(" ≠" if disagrees(row, now) else "  ", accent),
            Segment(fit(remaining, _COUNTDOWN_WIDTH - 1).rjust(_COUNTDOWN_WIDTH), accent),
        ]
        # Merge same-style neighbours: fewer SGR codes on the wire for every repainted row.
        return Strip(segments).extend_cell_length(width, row_style).crop(0, width).simplify()

    @staticmethod
    def _middle(row: SlaRow, word: str, room: int) -> str:
        """Key, priority, vendor, then the title (what a NOC reads first), then metric and
        state word if there is still room; narrower, key, priority and title alone; where
        no readable title fits, the vendor with metric and word. Exactly ``room`` cells."""
        key = f"{fit(safe_line(row.key), 11)} {row.priority or '–':2} "
        vendor = safe_line(row.vendor)
        metric = "resp" if row.metric == "response" else "res"
        short_vendor = min(max(len(vendor), 4), 10)
        left = room - len(key) - short_vendor - 2  # a space each side of the title
        if left >= _TITLE_AT_LEAST:
            tail = ""
            if left >= _TITLE_AT_LEAST + 17:  # "near breach" is the longest word
                tail = f" {metric:4} {word:>11}"
            elif left >= _TITLE_AT_LEAST + 5:
                tail = f" {metric:4}"
            title = fit(safe_line(row.title), left - len(tail))
            return fit(f"{key}{fit(vendor, short_vendor)} {title}{tail} ", room)
        if room - len(key) - 1 >= _TITLE_AT_LEAST - 4:  # narrow: the title before the vendor
            return fit(f"{key}{fit(safe_line(row.title), room - len(key) - 1)} ", room)
        vendor_width = min(max(len(vendor), 4), 14, max(room - len(key) - 5, 4))
        text = f"{key}{fit(vendor, vendor_width)} {metric:4}"
        if room >= len(text) + 13:  # room for the state in words, not only the glyph
            text = f"{text} {word:>11}"
        return fit(text, room)

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        for index in (old, new):
            if 0 <= index - top < self.size.height:
                self.refresh(Region(0, index - top, self.size.width, 1))
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + self.size.height:
            self.scroll_to(y=new - self.size.height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor."""
        if self.rows:
            self.cursor_row = min(max(self.cursor_row + delta, 0), len(self.rows) - 1)

    def action_page(self, direction: int) -> None:
        """Move the cursor a page up or down."""
        self.action_cursor(direction * max(self.size.height, 1))

    def action_jump(self, index: int) -> None:
        """Jump to the first (0) or last (-1) clock."""
        if self.rows:
            self.cursor_row = len(self.rows) - 1 if index < 0 else 0

    def action_select(self) -> None:
        """Open the ticket under the cursor."""
        if 0 <= self.cursor_row < len(self.rows):
            self.post_message(self.Selected(self.rows[self.cursor_row].ticket_id))

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

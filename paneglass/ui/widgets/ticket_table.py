"""The ticket list: a window onto the store, never the whole table in memory.

Built on Textual's line API (``ScrollView.render_line``): the widget knows the
total number of matching tickets (for the scrollbar) and holds only the rows
around the visible window, fetched by a thread worker when the view scrolls
or the store changes. When new data arrives only the lines whose row changed
are refreshed. Cells are built as segments of plain text, so a vendor title
is never parsed as markup.

While the filter holds free words, every row takes two lines: the second says
where the words matched (``↳ matched in a reply by Ana Ruiz on 22 Nov 13:05 ·
…snippet…``), so a ticket found through its conversation explains itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from paneglass.collect import Freshness
from paneglass.sla import ClockState
from paneglass.store import SortKey, TicketQuery, TicketRow
from paneglass.ui.bindings import LIST_MOVEMENT
from paneglass.ui.display import age, fit, local_time, safe_line
from paneglass.ui.states import FRESHNESS, SLA, VENDOR_INCIDENT

__all__ = ["TicketSource", "TicketTable"]


class TicketSource(Protocol):
    """What the table reads from (the store satisfies it)."""

    def ticket_count(self, query: TicketQuery) -> int: ...
    def ticket_window(
        self, query: TicketQuery, offset: int, limit: int, total: int | None = None
    ) -> list[TicketRow]: ...


@dataclass(frozen=True)
class _Column:
    title: str
    width: int
    """0 means: take the remaining width."""
    min_table_width: int = 0
    """Only shown when the table is at least this wide."""
    sort: SortKey | None = None
    below_table_width: int | None = None
    """Only shown when the table is narrower than this."""


WORDS_FROM = 100
"""From this table width the state column reads as glyph and word (``✖ breached``)."""

_COLUMNS = (
    _Column(" ", 1, below_table_width=WORDS_FROM),
    _Column("State", 13, min_table_width=WORDS_FROM),  # "◆ near breach", the longest
    _Column("Vendor", 12, sort=SortKey.VENDOR),
    _Column("Key", 11, sort=SortKey.KEY),
    _Column("P", 2, sort=SortKey.PRIORITY),
    _Column("Status", 8, sort=SortKey.STATUS),
    _Column("Title", 0, sort=SortKey.TITLE),
    _Column("Assignee", 14, min_table_width=90, sort=SortKey.ASSIGNEE),
    # Where the state column has just taken its words' room, the age gives it back.
    _Column("Age", 4, min_table_width=70, sort=SortKey.CREATED, below_table_width=WORDS_FROM),
    _Column("Age", 4, min_table_width=WORDS_FROM + 10, sort=SortKey.CREATED),
    _Column("Updated", 9, min_table_width=100, sort=SortKey.UPDATED),
)
_SORT_ORDER = (
    SortKey.UPDATED,
    SortKey.PRIORITY,
    SortKey.CREATED,
    SortKey.VENDOR,
    SortKey.STATUS,
    SortKey.KEY,
    SortKey.ASSIGNEE,
    SortKey.TITLE,
)
_INCIDENT_WORD_FROM = 120
"""Table width from which the vendor-incident mark carries its word, not the glyph alone."""
_MARKED = {
    ClockState.BREACHED: "breached",
    ClockState.NEAR_BREACH: "near-breach",
    ClockState.AT_RISK: "at-risk",
}
"""SLA states marked in the first column (glyph, and the component class of its colour)."""
_ENTRY_WORDS = {"reply": "a reply", "note": "an internal note", "system entry": "a system entry"}
_ENTRY_STYLE = {"reply": "match-public", "note": "match-internal"}


def _hit_in_view(parts: tuple[tuple[str, bool], ...], room: int) -> tuple[tuple[str, bool], ...]:
    """A snippet cut from the left, behind an ellipsis, until its first hit fits in ``room``
    (with a few characters after it): on a narrow screen the matched word stays in view."""
    first = next((i for i, (_, matched) in enumerate(parts) if matched), None)
    if first is None:
        return parts
    through_hit = sum(len(text) for text, _ in parts[: first + 1])
    keep_after = min(12, sum(len(text) for text, _ in parts[first + 1 :]))
    start = 0
    while start < first and through_hit + keep_after > room:
        through_hit -= len(parts[start][0])
        start += 1
    if start == 0:
        return parts
    while start < first and parts[start][0].isspace():
        start += 1
    return (("…", False), *parts[start:])


def _searching(query: TicketQuery) -> bool:
    """Free words in the filter: rows show where they matched, on a second line."""
    return any(term.field == "text" and not term.negated for term in query.terms)


@dataclass(frozen=True)
class _Window:
    query: TicketQuery
    total: int
    start: int
    rows: tuple[TicketRow, ...]
    total_all: int | None = None

    def row(self, index: int) -> TicketRow | None:
        offset = index - self.start
        return self.rows[offset] if 0 <= offset < len(self.rows) else None

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and min(end, self.total) <= self.start + len(self.rows)


class TicketTable(ScrollView, can_focus=True):
    """Every ticket in the store, sorted and filtered in SQL, one screenful at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *LIST_MOVEMENT,
        Binding("enter", "select", "Open", id="tickets.open"),
        Binding("s", "cycle_sort", "Sort", id="tickets.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="tickets.reverse"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-table--header",
        "ticket-table--cursor",
        "ticket-table--p1",
        "ticket-table--p2",
        "ticket-table--p3",
        "ticket-table--p4",
        "ticket-table--p5",
        "ticket-table--breached",
        "ticket-table--at-risk",
        "ticket-table--near-breach",
        "ticket-table--closed",
        "ticket-table--loading",
        "ticket-table--match",
        "ticket-table--hit",
        "ticket-table--match-public",
        "ticket-table--match-internal",
    }

    DEFAULT_CSS = """
    TicketTable { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    cursor_row: reactive[int] = reactive(0)
    ticket_query: reactive[TicketQuery] = reactive(TicketQuery, init=False)

    class Selected(Message):
        """The operator asked to open a ticket."""

        def __init__(self, ticket_id: int) -> None:
            super().__init__()
            self.ticket_id = ticket_id

    class Counted(Message):
        """The number of matching tickets changed."""

        def __init__(self, total: int, query: TicketQuery, total_all: int | None) -> None:
            super().__init__()
            self.total = total
            self.ticket_query = query
            self.total_all = total_all
            """All tickets, when a filter narrows the view (for "12 of 1,204")."""

    def __init__(
        self,
        source: TicketSource,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.clock = clock
        self.zone = zone
        self._window = _Window(TicketQuery(), 0, 0, ())
        self._loaded = False
        self.stale_vendors: frozenset[str] = frozenset()
        """Vendors whose data is stale or failing: their rows are dimmed and marked ◌."""

    # -- data -------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Matching tickets, as last counted."""
        return self._window.total

    @property
    def row_height(self) -> int:
        """Lines per ticket: two while free words are searched (where they matched), else one.

        Follows the window on screen, whose rows carry the matches, not a filter still loading.
        """
        return 2 if _searching(self._window.query) else 1

    @property
    def visible_rows(self) -> int:
        """How many tickets fit under the header."""
        return max((self.size.height - 1) // self.row_height, 1)

    @property
    def top_row(self) -> int:
        """The ticket at the top of the view."""
        return int(self.scroll_y) // self.row_height

    def reload(self) -> None:
        """Re-read the visible window from the store (after a change notice)."""
        self._load(self.ticket_query, self._fetch_start())

    def _fetch_start(self) -> int:
        """Start a window a screenful above the view, so scrolling either way stays loaded."""
        return max(self.top_row - self.visible_rows, 0)

    def _load(self, query: TicketQuery, start: int, *, recount: bool = True) -> None:
        """Read a window around ``start``; scrolling reuses the counts (they did not change).

        The widget's state (size, loaded window) is read here, on the UI thread;
        the worker gets plain values.
        """
        limit = max(self.visible_rows * 4, 80)
        known = self._window
        counts = None if recount or known.query != query else (known.total, known.total_all)
        self._fetch(query, start, limit, counts)

    @work(thread=True, exclusive=True, group="ticket-window", exit_on_error=False)
    def _fetch(
        self, query: TicketQuery, start: int, limit: int, counts: tuple[int, int | None] | None
    ) -> None:
        """Count (unless ``counts`` are known) and read one window, off the UI thread."""
        if counts is None:
            total = self.source.ticket_count(query)
            total_all = self.source.ticket_count(TicketQuery()) if query.text else None
        else:
            total, total_all = counts
        rows = self.source.ticket_window(query, start, limit, total)
        self.app.call_from_thread(self._apply, _Window(query, total, start, tuple(rows), total_all))

    def _apply(self, window: _Window) -> None:
        if window.query != self.ticket_query:
            # A superseded read: a thread worker cannot be stopped mid-query, so an
            # older window may land after the current one. Drop it.
            return
        old, self._window = self._window, window
        first = not self._loaded
        self._loaded = True
        if (
            old.total != window.total
            or old.query != window.query
            or old.total_all != window.total_all
            or first
        ):
            self.virtual_size = Size(self.size.width, window.total * self.row_height + 1)
            self.cursor_row = min(self.cursor_row, max(window.total - 1, 0))
            self.post_message(self.Counted(window.total, window.query, window.total_all))
            self.refresh()
            return
        top = int(self.scroll_y)
        for line in range(1, self.size.height):
            index = (top + line - 1) // self.row_height
            if old.row(index) != window.row(index):
                self.refresh(Region(0, line, self.size.width, 1))

    def watch_ticket_query(self) -> None:
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False)
        self._load(self.ticket_query, 0)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        top = int(new_value) // self.row_height
        if self._loaded and not self._window.covers(top, top + self.visible_rows):
            self._load(self.ticket_query, self._fetch_start(), recount=False)

    def on_mount(self) -> None:
        self._load(self.ticket_query, 0)
        self.set_interval(60, self.refresh)  # ages and "updated" times move with the clock

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._window.total * self.row_height + 1)
        if self._loaded and not self._window.covers(self.top_row, self.top_row + self.visible_rows):
            self._load(self.ticket_query, self._fetch_start())

    # -- cursor and actions ---------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        height = self.row_height
        for index in (old, new):
            line = index * height - int(self.scroll_y) + 1
            self.refresh(Region(0, max(line, 1), self.size.width, height))
        top = self.top_row
        if new < top:
            self.scroll_to(y=new * height, animate=False)
        elif new >= top + self.visible_rows:
            self.scroll_to(y=(new - self.visible_rows + 1) * height, animate=False)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        if self.total:
            self.cursor_row = min(max(self.cursor_row + delta, 0), self.total - 1)

    def action_page(self, direction: int) -> None:
        """Move the cursor a page up or down."""
        self.action_cursor(direction * self.visible_rows)

    def action_jump(self, index: int) -> None:
        """Jump to the first (0) or last (-1) row."""
        if self.total:
            self.cursor_row = self.total - 1 if index < 0 else 0

    def action_select(self) -> None:
        """Open the ticket under the cursor."""
        row = self._window.row(self.cursor_row)
        if row is not None:
            self.post_message(self.Selected(row.id))

    def action_cycle_sort(self) -> None:
        """Sort by the next column (updated, priority, age, vendor, status, key)."""
        current = (
            _SORT_ORDER.index(self.ticket_query.sort)
            if self.ticket_query.sort in _SORT_ORDER
            else -1
        )
        sort = _SORT_ORDER[(current + 1) % len(_SORT_ORDER)]
        descending = sort in (SortKey.UPDATED, SortKey.CREATED)
        self.ticket_query = replace(self.ticket_query, sort=sort, descending=descending)

    def action_reverse_sort(self) -> None:
        """Reverse the sort direction."""
        self.ticket_query = replace(self.ticket_query, descending=not self.ticket_query.descending)

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        if y >= 1:
            index = (int(self.scroll_y) + y - 1) // self.row_height
            if index < self.total:
                self.cursor_row = index

    def set_stale_vendors(self, names: frozenset[str]) -> None:
        """Mark the rows of these vendors as stale (repaint only when the set changes)."""
        if names != self.stale_vendors:
            self.stale_vendors = names
            self.refresh()

    @property
    def current_row(self) -> TicketRow | None:
        """The loaded row under the cursor."""
        return self._window.row(self.cursor_row)

    # -- rendering ------------------------------------------------------------------------

    def _layout(self, width: int) -> list[tuple[_Column, int]]:
        shown = [
            c
            for c in _COLUMNS
            if width >= c.min_table_width
            and (c.below_table_width is None or width < c.below_table_width)
        ]
        fixed = sum(c.width for c in shown) + len(shown) - 1
        flex = max(width - fixed, 8)
        return [(c, c.width or flex) for c in shown]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        index, second = divmod(int(self.scroll_y) + y - 1, self.row_height)
        if index >= self._window.total:
            return Strip.blank(width, base)
        row = self._window.row(index)
        if row is None:
            style = base + self.get_component_rich_style("ticket-table--loading")
            return Strip([Segment(fit("  …" if not second else "", width), style)], width)
        if second:
            return self._match_strip(row, width, base, index == self.cursor_row)
        return self._row_strip(row, width, base, index == self.cursor_row)

    def _match_strip(self, row: TicketRow, width: int, base: Style, is_cursor: bool) -> Strip:
        """The second line of a row found by free words: where, by whom, when, a snippet."""
        line_style = base + self.get_component_rich_style("ticket-table--match")
        if is_cursor:
            line_style += self.get_component_rich_style("ticket-table--cursor")
        match = row.match
        segments = [Segment("   ↳ ", line_style)]
        if match is None:
            return Strip(segments).extend_cell_length(width, line_style).crop(0, width)
        where = _ENTRY_WORDS.get(match.where)
        if where is not None:
            accent = _ENTRY_STYLE.get(match.where)
            where_style = line_style
            if accent is not None:
                where_style += self._accent(f"ticket-table--{accent}", is_cursor)
            said = f"matched in {where}"
            if match.author:
                said += f" by {safe_line(match.author, 30)}"
            if match.at is not None:
                said += f" on {local_time(match.at, self.zone, '%d %b %H:%M')}"
            segments.append(Segment(said, where_style))
        elif match.where == "description":
            segments.append(Segment("matched in the description", line_style))
        else:
            segments.append(Segment(f"matched in the {match.where}", line_style))
        if match.snippet:
            segments.append(Segment("  ", line_style))
            hit = line_style + self._accent("ticket-table--hit", is_cursor)
            room = width - sum(segment.cell_length for segment in segments)
            for part, matched in _hit_in_view(match.snippet, room):
                text = part if part.isspace() else safe_line(part)
                segments.append(Segment(text, hit if matched else line_style))
        return Strip(segments).extend_cell_length(width, line_style).crop(0, width).simplify()

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("ticket-table--header")
        cells = []
        for column, col_width in self._layout(width):
            title = column.title
            if column.sort is not None and column.sort == self.ticket_query.sort:
                title += " ▼" if self.ticket_query.descending else " ▲"
            cells.append(fit(title, col_width))
        return Strip([Segment(fit(" ".join(cells), width), style)], width)

    def _row_strip(self, row: TicketRow, width: int, base: Style, is_cursor: bool) -> Strip:
        now = self.clock()
        row_style = base
        stale = row.vendor in self.stale_vendors
        if row.status in ("resolved", "closed") or stale:
            row_style += self.get_component_rich_style("ticket-table--closed")
        if is_cursor:
            row_style += self.get_component_rich_style("ticket-table--cursor")
        updated = row.updated_at.astimezone(self.zone) if self.zone else row.updated_at.astimezone()
        updated_text = (
            updated.strftime("%H:%M:%S")
            if (now - row.updated_at).total_seconds() < 86400
            else updated.strftime("%b %d")
        )
        marked = row.sla_state in _MARKED
        # A stale row says so once: in words in the state column where that column shows
        # (and holds no SLA state), else as a glyph before the vendor.
        stale_in_words = stale and not marked and width >= WORDS_FROM
        values = {
            " ": SLA[row.sla_state].glyph if marked else " ",
            # The state in words where there is room: the SLA state, else the data's staleness.
            "State": SLA[row.sla_state].label
            if marked
            else (FRESHNESS[Freshness.STALE].label if stale else ""),
            # Last-known-good rows of a stale or failing vendor stay, marked as such.
            "Vendor": (
                f"{FRESHNESS[Freshness.STALE].glyph} " if stale and not stale_in_words else ""
            )
            + safe_line(row.vendor),
            "Key": safe_line(row.key),
            "P": row.priority or "–",
            "Status": row.status,
            "Title": _marked_title(row, width),
            "Assignee": safe_line(row.assignee) or "—",
            "Age": age(row.created_at, now),
            "Updated": updated_text,
        }
        segments: list[Segment] = []
        for position, (column, col_width) in enumerate(self._layout(width)):
            style = row_style
            if column.title == "P" and row.priority:
                style += self._accent(f"ticket-table--{row.priority.lower()}", is_cursor)
            elif column.title in (" ", "State") and marked:
                style += self._accent(f"ticket-table--{_MARKED[row.sla_state]}", is_cursor)
            if position:
                segments.append(Segment(" ", row_style))
            segments.append(Segment(fit(values[column.title], col_width), style))
        # Merge same-style neighbours: fewer SGR codes on the wire for every repainted row.
        return Strip(segments).extend_cell_length(width, row_style).crop(0, width).simplify()

    def _accent(self, name: str, is_cursor: bool) -> Style:
        style = self.get_component_rich_style(name)
        return Style(color=style.color, bold=style.bold) if is_cursor else style


def _marked_title(row: TicketRow, width: int) -> str:
    """The title, after the vendor-incident mark (glyph, and its word where there is room)."""
    title = safe_line(row.title)
    if row.vendor_incident is None:
        return title
    face = VENDOR_INCIDENT
    return (
        f"{face.glyph} {face.word}: {title}"
        if width >= _INCIDENT_WORD_FROM
        else f"{face.glyph} {title}"
    )

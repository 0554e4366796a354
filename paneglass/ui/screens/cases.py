"""Cases: tickets of several vendors that are one user's problem, and one timeline.

The cases pane lists open cases, worst SLA state first; a case shows its
members with their live status and SLA state, and one merged timeline of
what every vendor's people wrote (the conversations of all its tickets),
what changed as polls saw it and what operators did. Editing (new case, remove a
member) lives in subclasses the read-only console never uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static

from paneglass.sla import ClockState
from paneglass.store import CaseDetail, CaseRow, Store
from paneglass.ui.display import local_time, plain, safe_line
from paneglass.ui.navigation import OpenTicket
from paneglass.ui.screens.table_pane import TablePaneScreen
from paneglass.ui.states import SLA
from paneglass.ui.widgets.list_table import ListTable
from paneglass.ui.widgets.timeline import TimelineView, legend, render_timeline
from paneglass.writeback import CaseEdits

__all__ = ["CaseScreen", "CasesScreen", "EditableCaseScreen", "EditableCasesScreen"]


class CasesScreen(TablePaneScreen[CaseRow]):
    """The cases pane: every open case, worst first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="cases.back"),
    ]
    PANE_ID = "cases-pane"
    PANE_TITLE = "Cases"
    COLUMNS = ("Case", "SLA", "Title", "Tickets", "Open", "Vendors", "Opened by", "Opened")
    NARROW = (("Case", 4), ("SLA", 11), ("Title", 0), ("Open", 4), ("Vendors", 16))

    def fetch(self) -> list[CaseRow]:
        """Open cases, worst first."""
        return self.store.case_rows()

    def row_key(self, row: CaseRow) -> str:
        """Case id."""
        return str(row.id)

    def cells(self, row: CaseRow) -> Sequence[Text]:
        """The case's SLA state as glyph and word, its title, size and vendors."""
        face = SLA[row.worst_state]
        return (
            Text(str(row.id)),
            Text(face.label, style=face.rich_style(self.app.theme_variables)),
            Text(safe_line(row.title, 60)),
            Text(str(row.members)),
            Text(str(row.open_members)),
            Text(", ".join(row.vendors)),
            Text(safe_line(row.created_by, 16)),
            Text(local_time(row.created_at, self.zone)),
        )

    def shown(self, rows: list[CaseRow]) -> None:
        """How many cases, and how many breached, in the title."""
        breached = sum(1 for r in rows if r.worst_state is ClockState.BREACHED)
        self.query_one(f"#{self.PANE_ID}").border_title = plain(
            f"Cases  {len(rows)} open" + (f" · {breached} breached" if breached else "")
        )

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_case(int(event.row_key.value))

    def open_case(self, case_id: int) -> None:
        """Show one case."""
        self.app.push_screen(self.case_screen(case_id))

    def case_screen(self, case_id: int) -> CaseScreen:
        """The screen for one case (the writable console returns the editable one)."""
        return CaseScreen(self.store, case_id, clock=self.clock, zone=self.zone)


class CaseScreen(Screen[None]):
    """One case: members with live status and SLA state, and the merged timeline."""

    DEFAULT_CSS = """
    #case-members { height: auto; max-height: 12; }
    #case-timeline-scroll {
        height: 1fr; border-top: solid $panel; border-title-color: $text;
        scrollbar-gutter: stable;
    }
    #case-timeline { width: 100%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="case.back"),
        Binding("e", "unfold", "Unfold entries", id="case.unfold"),
        Binding("t", "people_only", "Replies & notes only", id="case.people"),
    ]

    def __init__(
        self, store: Store, case_id: int, *, clock: Callable[[], datetime], zone: tzinfo | None
    ) -> None:
        super().__init__()
        self.store = store
        self.case_id = case_id
        self.clock = clock
        self.zone = zone
        self.detail: CaseDetail | None = None
        self.view = TimelineView(show_ticket=True)
        """How the merged timeline is shown (unfolded, replies and notes only)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="case-pane", classes="pane"):
            yield ListTable(id="case-members", zebra_stripes=False)
            with VerticalScroll(id="case-timeline-scroll"):
                yield Static("", id="case-timeline", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#case-members", DataTable)
        table.add_columns("Vendor", "Key", "Status", "P", "SLA", "Title")
        self.query_one("#case-timeline-scroll").border_title = Content.assemble(
            "Timeline, oldest first   ", legend()
        )
        table.focus()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.on_resize())
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read the case (after a change notice)."""
        self._load()

    @work(thread=True, exclusive=True, group="case-query", exit_on_error=False)
    def _load(self) -> None:
        detail = self.store.case_detail(self.case_id)
        self.app.call_from_thread(self._show, detail)

    def on_resize(self) -> None:
        if self.detail is not None:
            self._show(self.detail)

    def _show(self, detail: CaseDetail | None) -> None:
        self.detail = detail
        pane = self.query_one("#case-pane")
        if detail is None:
            pane.border_title = plain(f"Case {self.case_id} no longer exists")
            return
        state = SLA[detail.worst_state].label
        pane.border_title = plain(
            f"Case {detail.id}  {safe_line(detail.title, 60)}  ·  {state}  ·  "
            f"{len(detail.members)} tickets"
        )
        table = self.query_one("#case-members", DataTable)
        cursor = table.cursor_row
        table.clear()
        variables = self.app.theme_variables
        for member in detail.members:
            face = SLA[member.sla_state]
            table.add_row(
                Text(member.vendor),
                Text(safe_line(member.key or member.external_id, 20)),
                Text(member.status or "not polled yet"),
                Text(member.priority or "—"),
                Text(face.label, style=face.rich_style(variables)),
                Text(safe_line(member.title or "", 60)),
            )
        if detail.members:
            table.move_cursor(row=min(cursor, len(detail.members) - 1))
        self._render_timeline()

    def _render_timeline(self) -> None:
        timeline = self.query_one("#case-timeline", Static)
        if self.detail is None:
            return
        if not self.detail.timeline:
            timeline.update(plain("Nothing has happened yet."))
            return
        width = self.query_one("#case-timeline-scroll").scrollable_content_region.width - 1
        timeline.update(
            render_timeline(self.detail.timeline, zone=self.zone, width=width, view=self.view)
        )

    def action_unfold(self) -> None:
        """Unfold long entries and quoted earlier replies (or fold them again)."""
        self.view = replace(self.view, expanded=not self.view.expanded)
        self._render_timeline()

    def action_people_only(self) -> None:
        """Show only what people wrote (or everything again)."""
        self.view = replace(self.view, people_only=not self.view.people_only)
        self._render_timeline()

    @on(DataTable.RowSelected, "#case-members")
    def _open_member(self, event: DataTable.RowSelected) -> None:
        if self.detail is None or event.cursor_row >= len(self.detail.members):
            return
        member = self.detail.members[event.cursor_row]
        if member.ticket_id is None:
            self.notify("That ticket has not been polled yet.", markup=False)
            return
        self.post_message(OpenTicket(member.ticket_id))


class EditableCasesScreen(CasesScreen):
    """The cases pane with "new case" (writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_case", "New case", id="cases.new"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        case_edits: CaseEdits,
    ) -> None:
        super().__init__(store, clock=clock, zone=zone)
        self.case_edits = case_edits

    def compose_below(self) -> Iterable[Widget]:
        """The title box of a new case (shown by ``n``)."""
        yield Input(placeholder="title of the new case, Enter to open it", id="new-case")

    def on_mount(self) -> None:
        # Textual runs the base class's on_mount too: only the extra part here.
        self.query_one("#new-case").display = False

    def action_new_case(self) -> None:
        """Ask for the title of a new case."""
        box = self.query_one("#new-case", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#new-case")
    def _create(self, event: Input.Submitted) -> None:
        event.input.display = False
        event.input.value = ""
        self.query_one(DataTable).focus()
        if event.value.strip():
            self._save(event.value.strip())

    @work(thread=True, exit_on_error=False)
    def _save(self, title: str) -> None:
        case_id = self.case_edits.open_case(title)
        self.app.call_from_thread(self.notify, f"Case {case_id} opened.", markup=False)
        self.app.call_from_thread(self.refresh_data)

    def case_screen(self, case_id: int) -> CaseScreen:
        """The editable case screen."""
        return EditableCaseScreen(
            self.store, case_id, clock=self.clock, zone=self.zone, case_edits=self.case_edits
        )


class EditableCaseScreen(CaseScreen):
    """One case with "remove ticket" (writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "remove_member", "Remove ticket", id="case.remove"),
        Binding("D", "close_case", "Close case", id="case.close"),
    ]

    def __init__(
        self,
        store: Store,
        case_id: int,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        case_edits: CaseEdits,
    ) -> None:
        super().__init__(store, case_id, clock=clock, zone=zone)
        self.case_edits = case_edits

    def action_remove_member(self) -> None:
        """Take the highlighted ticket out of this case."""
        table = self.query_one("#case-members", DataTable)
        if self.detail is None or table.cursor_row >= len(self.detail.members):
            return
        member = self.detail.members[table.cursor_row]
        self._remove(member.vendor, member.external_id)

    def action_close_case(self) -> None:
        """Close this case: it leaves the cases pane, its story stays in the store."""
        self._close()

    @work(thread=True, exit_on_error=False)
    def _close(self) -> None:
        if self.case_edits.close_case(self.case_id):
            self.app.call_from_thread(self.notify, f"Case {self.case_id} closed.", markup=False)
        self.app.call_from_thread(self.app.pop_screen)

    @work(thread=True, exit_on_error=False)
    def _remove(self, vendor: str, external_id: str) -> None:
        self.case_edits.remove_ticket(self.case_id, vendor, external_id)
        self.app.call_from_thread(self.refresh_data)

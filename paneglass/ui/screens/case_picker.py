"""Put a ticket in a case: pick an open case or name a new one."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from paneglass.store import Store, TicketDetail
from paneglass.ui.display import plain, safe_line
from paneglass.writeback import CaseEdits

__all__ = ["CasePicker"]


class CasePicker(ModalScreen[bool]):
    """Choose the case for one ticket (writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, store: Store, case_edits: CaseEdits, ticket: TicketDetail) -> None:
        super().__init__()
        self.store = store
        self.case_edits = case_edits
        self.ticket = ticket

    def compose(self) -> ComposeResult:
        with Vertical(id="action-dialog"):
            yield Label(
                plain(f"Add {self.ticket.vendor} {safe_line(self.ticket.key, 24)} to a case")
            )
            yield Select([], prompt="an open case…", id="case")
            yield Input(placeholder="…or the title of a new case", id="title")
            with Horizontal(id="action-buttons"):
                yield Button("Add", id="add", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#action-dialog").border_title = "Case"
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        rows = self.store.case_rows()
        options = [(plain(f"{row.id}  {safe_line(row.title, 50)}"), row.id) for row in rows]
        self.app.call_from_thread(self._offer, options)

    def _offer(self, options: list[tuple[Content, int]]) -> None:
        self.query_one("#case", Select).set_options(options)
        # With no open case yet, the operator is about to name one.
        (self.query_one("#case", Select) if options else self.query_one("#title", Input)).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#add")
    @on(Input.Submitted, "#title")
    def _add(self) -> None:
        chosen = self.query_one("#case", Select).value
        title = self.query_one("#title", Input).value.strip()
        if not title and not isinstance(chosen, int):
            self.notify("Pick a case or give a new case a title.", markup=False)
            return
        self._save(chosen if isinstance(chosen, int) and not title else None, title)

    @work(thread=True, exit_on_error=False)
    def _save(self, case_id: int | None, title: str) -> None:
        ticket = self.ticket
        if case_id is None:
            case_id = self.case_edits.open_case(title)
        self.case_edits.add_ticket(case_id, ticket)
        self.app.call_from_thread(self.notify, f"{ticket.key} is in case {case_id}.", markup=False)
        self.app.call_from_thread(self.dismiss, True)

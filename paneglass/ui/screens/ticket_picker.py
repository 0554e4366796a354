"""Attach a mail item to a ticket: type its key, pick it among the matches."""

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

__all__ = ["TicketPicker"]


class TicketPicker(ModalScreen[bool]):
    """Choose the ticket a mail item is about (writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, store: Store, case_edits: CaseEdits, mail: TicketDetail) -> None:
        super().__init__()
        self.store = store
        self.case_edits = case_edits
        self.mail = mail
        self.matches: dict[int, tuple[str, str, str]] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="action-dialog"):
            yield Label(plain(f"Attach mail {safe_line(self.mail.key, 24)} to a ticket"))
            yield Input(placeholder="the ticket's key, e.g. INC0012231", id="key")
            yield Select([], prompt="matching tickets…", id="ticket")
            with Horizontal(id="action-buttons"):
                yield Button("Attach", id="attach", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#action-dialog").border_title = "Attach mail"
        self.query_one("#key", Input).focus()

    @on(Input.Changed, "#key")
    def _typed(self, event: Input.Changed) -> None:
        self._find(event.value)

    @work(thread=True, exclusive=True, group="find", exit_on_error=False)
    def _find(self, key: str) -> None:
        found = [row for row in self.store.find_tickets(key) if row[1] != self.mail.vendor]
        self.app.call_from_thread(self._offer, found)

    def _offer(self, found: list[tuple[int, str, str, str]]) -> None:
        self.matches = {row[0]: (row[1], row[2], row[3]) for row in found}
        options: list[tuple[Content, int]] = [
            (plain(f"{vendor}  {safe_line(key, 16)}  {safe_line(title, 40)}"), ticket_id)
            for ticket_id, (vendor, key, title) in self.matches.items()
        ]
        select = self.query_one("#ticket", Select)
        select.set_options(options)
        if options:
            select.value = options[0][1]

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#attach")
    @on(Input.Submitted, "#key")
    def _attach_chosen(self) -> None:
        chosen = self.query_one("#ticket", Select).value
        if not isinstance(chosen, int):
            self.notify("Type a ticket's key and pick the ticket.", markup=False)
            return
        self._save(chosen)

    @work(thread=True, exit_on_error=False)
    def _save(self, ticket_id: int) -> None:
        target = self.store.ticket_detail(ticket_id)
        if target is None:
            return
        self.case_edits.attach_mail(self.mail, target)
        self.app.call_from_thread(
            self.notify, f"Mail attached to {target.vendor} {target.key}.", markup=False
        )
        self.app.call_from_thread(self.dismiss, True)

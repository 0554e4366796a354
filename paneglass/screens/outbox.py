"""The outbox view: every write-back action, its state and the vendor's answer.

The base screen only shows; the writable console's subclass adds retry and
cancel, so a read-only console has no way to reach either.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from paneglass.display import OUTBOX_STATES, plain, safe_line
from paneglass.store import Store
from paneglass.store.views import OutboxItem
from paneglass.write_back import WriteBack

__all__ = ["ManagedOutboxScreen", "OutboxScreen"]

STATE_STYLES = {"sent": "green", "failed": "bold red", "cancelled": "dim"}
"""Colour on top of the glyph and word (``display.OUTBOX_STATES``), never instead of them."""


class OutboxScreen(Screen[None]):
    """Every action paneglass was asked to send, newest first."""

    DEFAULT_CSS = """
    #outbox-table { height: 1fr; }
    #outbox-answer { height: auto; max-height: 6; border-top: solid $panel; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="outbox.back"),
    ]

    def __init__(self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.zone = zone
        self.items: list[OutboxItem] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="outbox-pane", classes="pane"):
            yield DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="outbox-answer", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "#", "State", "Queued", "Vendor", "Ticket", "Action", "By", "Vendor's answer"
        )
        self.query_one("#outbox-pane").border_title = "Outbox"
        table.focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read the outbox (after a change notice)."""
        self._load()

    @work(thread=True, exclusive=True, group="outbox-query", exit_on_error=False)
    def _load(self) -> None:
        items = self.store.outbox_items(500)
        self.app.call_from_thread(self._show, items)

    def _show(self, items: list[OutboxItem]) -> None:
        self.items = items
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for item in items:
            mark, word = OUTBOX_STATES.get(item.state, ("?", item.state))
            table.add_row(
                Text(str(item.id)),
                Text(f"{mark} {word}", style=STATE_STYLES.get(item.state, "bold")),
                Text(item.created_at.astimezone(self.zone).strftime("%d %b %H:%M")),
                Text(item.vendor),
                Text(safe_line(item.ticket_key or item.created_key or "new ticket", 20)),
                Text(safe_line(item.summary, 38)),
                Text(safe_line(item.requested_by, 12)),
                Text(safe_line(item.answer or "", 36)),
                key=str(item.id),
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        counts = {state: sum(1 for i in items if i.state == state) for state in OUTBOX_STATES}
        summary = "  ".join(f"{n} {state}" for state, n in counts.items() if n)
        self.query_one("#outbox-pane").border_title = plain(f"Outbox  {summary or 'empty'}")
        self._explain()

    def on_data_table_row_highlighted(self) -> None:
        self._explain()

    def selected(self) -> OutboxItem | None:
        """The highlighted action."""
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    def _explain(self) -> None:
        item = self.selected()
        lines: list[str] = []
        if item is not None:
            where = item.ticket_key or item.created_key or "new ticket"
            lines.append(f"#{item.id} {item.state} · {item.vendor} {where} · {item.summary}")
            if item.last_error:
                lines.append(f"vendor's reason: {item.last_error}")
            elif item.answer:
                lines.append(f"vendor's answer: {item.answer}")
            lines.append(f"attempts: {item.attempts} · asked by {item.requested_by}")
        text = "\n".join(safe_line(line, 300) for line in lines)
        self.query_one("#outbox-answer", Static).update(plain(text))


class ManagedOutboxScreen(OutboxScreen):
    """The outbox with retry and cancel (the writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "retry", "Retry failed", id="outbox.retry"),
        Binding("x", "cancel_action", "Cancel action", id="outbox.cancel"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        write_back: WriteBack,
    ) -> None:
        super().__init__(store, clock=clock, zone=zone)
        self.write_back = write_back

    def action_retry(self) -> None:
        """Queue the highlighted failed action again."""
        item = self.selected()
        if item is None or item.state != "failed":
            self.notify("Only a failed action can be retried.", markup=False)
            return
        self._operate(item.id, retry=True)

    def action_cancel_action(self) -> None:
        """Drop the highlighted queued or failed action."""
        item = self.selected()
        if item is None or item.state not in ("queued", "failed"):
            self.notify("Only a queued or failed action can be cancelled.", markup=False)
            return
        self._operate(item.id, retry=False)

    @work(thread=True, group="outbox-op", exit_on_error=False)
    def _operate(self, outbox_id: int, *, retry: bool) -> None:
        wb = self.write_back
        done = wb.retry(outbox_id) if retry else wb.cancel(outbox_id)
        verb = "queued again" if retry else "cancelled"
        message = (
            f"Action {outbox_id} {verb}." if done else f"Action {outbox_id} changed meanwhile."
        )
        self.app.call_from_thread(self.notify, message, markup=False)
        self.app.call_from_thread(self.refresh_data)

"""The outbox view: every write-back action, its state and the vendor's answer.

The base screen only shows; the writable console's subclass adds retry and
cancel, so a read-only console has no way to reach either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from paneglass.store import OutboxItem, Store
from paneglass.ui.display import plain, safe_line
from paneglass.ui.screens.table_pane import TablePaneScreen
from paneglass.ui.states import OUTBOX, outbox_face
from paneglass.writeback import WriteBack

__all__ = ["ManagedOutboxScreen", "OutboxScreen"]


class OutboxScreen(TablePaneScreen[OutboxItem]):
    """Every action paneglass was asked to send, newest first."""

    DEFAULT_CSS = """
    OutboxScreen DataTable { height: 1fr; }
    #outbox-answer { height: auto; max-height: 6; border-top: solid $panel; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="outbox.back"),
    ]
    PANE_ID = "outbox-pane"
    PANE_TITLE = "Outbox"
    COLUMNS = ("#", "State", "Queued", "Vendor", "Ticket", "Action", "By", "Vendor's answer")
    NARROW = (("State", 9), ("Vendor", 12), ("Ticket", 12), ("Action", 0))

    def compose_below(self) -> Iterable[Widget]:
        """The highlighted action's full answer."""
        yield Static("", id="outbox-answer", markup=False)

    def fetch(self) -> list[OutboxItem]:
        """The newest 500 actions."""
        return self.store.outbox_items(500)

    def row_key(self, row: OutboxItem) -> str:
        """Outbox id."""
        return str(row.id)

    def cells(self, row: OutboxItem) -> Sequence[Text]:
        """State as glyph and word, then who asked what of whom, and the answer."""
        face = outbox_face(row.state)
        return (
            Text(str(row.id)),
            Text(face.label, style=face.rich_style(self.app.theme_variables)),
            Text(row.created_at.astimezone(self.zone).strftime("%d %b %H:%M")),
            Text(row.vendor),
            Text(safe_line(row.ticket_key or row.created_key or "new ticket", 20)),
            Text(safe_line(row.summary, 38)),
            Text(safe_line(row.requested_by, 12)),
            Text(safe_line(row.answer or "", 36)),
        )

    def shown(self, rows: list[OutboxItem]) -> None:
        """Counts per state in the title; the highlighted action's detail below."""
        counts = {state: sum(1 for i in rows if i.state == state) for state in OUTBOX}
        summary = "  ".join(f"{n} {state}" for state, n in counts.items() if n)
        self.query_one(f"#{self.PANE_ID}").border_title = plain(f"Outbox  {summary or 'empty'}")
        self._explain()

    def on_data_table_row_highlighted(self) -> None:
        self._explain()

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

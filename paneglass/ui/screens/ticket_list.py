"""Every ticket of one requester or one asset, across all vendors.

Owning the data means being able to ask it: from any ticket, ``r`` lists
everything the same person has raised with any vendor, ``a`` everything
about the same asset or CI.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer

from paneglass.store import SortKey, Store, TicketQuery
from paneglass.ui.display import plain, safe_line
from paneglass.ui.navigation import OpenTicket
from paneglass.ui.widgets.ticket_table import TicketTable

__all__ = ["TicketListScreen", "open_history"]

_LABELS = {"requester": "Requester", "asset": "Asset / CI"}


def open_history(
    screen: Screen[Any],
    store: Store,
    column: str,
    value: str | None,
    *,
    clock: Callable[[], datetime],
    zone: tzinfo | None,
) -> None:
    """Push the history of one requester or asset, or say the ticket has none."""
    if not value:
        screen.notify(f"This ticket has no {column}.", markup=False)
        return
    screen.app.push_screen(
        TicketListScreen(
            store, column=column, value=value, label=_LABELS[column], clock=clock, zone=zone
        )
    )


class TicketListScreen(Screen[None]):
    """A ticket table with a fixed query (requester or asset history)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="history.back"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        column: str,
        value: str,
        label: str,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
    ) -> None:
        super().__init__()
        self.store = store
        self.column = column
        self.value = value
        self.label = label
        self.clock = clock
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="history-pane", classes="pane"):
            yield TicketTable(self.store, clock=self.clock, zone=self.zone, id="history")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(TicketTable)
        table.ticket_query = TicketQuery(
            sort=SortKey.CREATED, descending=True, exact=((self.column, self.value),)
        )
        table.focus()
        self._title(None)

    def _title(self, total: int | None) -> None:
        count = "" if total is None else f"  {total:,} across all vendors"
        self.query_one("#history-pane").border_title = plain(
            f"{self.label} {safe_line(self.value, 60)}{count}"
        )

    @on(TicketTable.Counted)
    def _counted(self, event: TicketTable.Counted) -> None:
        self._title(event.total)

    @on(TicketTable.Selected)
    def _open(self, event: TicketTable.Selected) -> None:
        self.post_message(OpenTicket(event.ticket_id))

    def refresh_data(self) -> None:
        """Re-query after a change notice."""
        self.query_one(TicketTable).reload()

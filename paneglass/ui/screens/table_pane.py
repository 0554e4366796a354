"""A full-screen pane of one store query shown as a table (cases, outbox).

The query runs in a thread worker on every change notice; the table is
refilled in place and keeps the highlighted row. Subclasses name the query,
the columns and the cells; every cell is a ``rich`` Text built from cleaned
text, so nothing in a row is ever parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer

from paneglass.store import Store
from paneglass.ui.widgets.list_table import ListTable

__all__ = ["TablePaneScreen"]

Row = TypeVar("Row")


class TablePaneScreen(Screen[None], Generic[Row]):
    """One query, one table, refreshed on change notices."""

    PANE_ID: ClassVar[str]
    PANE_TITLE: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]

    def __init__(self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.zone = zone
        self.rows: list[Row] = []

    def compose(self) -> ComposeResult:
        with Vertical(id=self.PANE_ID, classes="pane"):
            yield ListTable()
            yield from self.compose_below()
        yield Footer()

    def compose_below(self) -> Iterable[Widget]:
        """Widgets under the table (none by default)."""
        return ()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.COLUMNS)
        self.query_one(f"#{self.PANE_ID}").border_title = self.PANE_TITLE
        table.focus()
        # Cells are Rich text with the theme's colours resolved: a new theme repaints them.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show(self.rows))
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read the rows (after a change notice)."""
        self._load()

    @work(thread=True, exclusive=True, group="table-pane-query", exit_on_error=False)
    def _load(self) -> None:
        rows = self.fetch()
        self.app.call_from_thread(self._show, rows)

    def fetch(self) -> list[Row]:
        """The rows, from the store (runs in a worker thread)."""
        raise NotImplementedError

    def cells(self, row: Row) -> Sequence[Text]:
        """One table row's cells."""
        raise NotImplementedError

    def row_key(self, row: Row) -> str:
        """The DataTable key of a row."""
        raise NotImplementedError

    def shown(self, rows: list[Row]) -> None:
        """After the table was filled (titles, details)."""

    def _show(self, rows: list[Row]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*self.cells(row), key=self.row_key(row))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self.shown(rows)

    def selected(self) -> Row | None:
        """The highlighted row, or ``None``."""
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

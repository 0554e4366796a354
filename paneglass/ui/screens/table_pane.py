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
    NARROW: ClassVar[tuple[tuple[str, int], ...]] = ()
    """Below :attr:`WIDE` columns: the columns kept, each with its widest cell; one at 0
    takes what is left (cut with an ellipsis), so the table never scrolls sideways."""
    WIDE: ClassVar[int] = 120

    def __init__(self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.zone = zone
        self.rows: list[Row] = []
        self._columns: tuple[tuple[int, int], ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id=self.PANE_ID, classes="pane"):
            yield ListTable()
            yield from self.compose_below()
        yield Footer()

    def compose_below(self) -> Iterable[Widget]:
        """Widgets under the table (none by default)."""
        return ()

    def _layout(self) -> tuple[tuple[int, int], ...]:
        """(column index, widest cell; 0: no limit) of each column shown at this width."""
        if not self.NARROW or self.size.width >= self.WIDE:
            return tuple((i, 0) for i in range(len(self.COLUMNS)))
        fixed = sum(width + 2 for _, width in self.NARROW if width)  # a cell pads 1 a side
        rest = max(self.size.width - 4 - fixed - 2, 8)  # the pane's border and padding
        return tuple((self.COLUMNS.index(name), width or rest) for name, width in self.NARROW)

    def on_resize(self) -> None:
        if not self.NARROW:
            return
        layout = self._layout()
        if layout != self._columns:
            self._columns = layout
            table = self.query_one(DataTable)
            table.clear(columns=True)
            table.add_columns(*(self.COLUMNS[i] for i, _ in layout))
            self._show(self.rows)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self._columns = self._layout()
        table.add_columns(*(self.COLUMNS[i] for i, _ in self._columns))
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
            cells = self.cells(row)
            if self.NARROW:
                cells = [_cut(cells[i], width) for i, width in self._columns]
            table.add_row(*cells, key=self.row_key(row))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self.shown(rows)

    def selected(self) -> Row | None:
        """The highlighted row, or ``None``."""
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]


def _cut(cell: Text, width: int) -> Text:
    """``cell`` no wider than ``width`` cells (0: as it is), an ellipsis marking the cut."""
    if not width or cell.cell_len <= width:
        return cell
    cut = cell.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut

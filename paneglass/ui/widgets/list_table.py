"""A row-cursor table (cases, the outbox, a case's members) with the shared list keys.

Textual's ``DataTable`` binds its own keys without ids; this one binds the
console's list movement (:data:`~paneglass.ui.bindings.LIST_MOVEMENT`), so a
``[keys]`` remap of ``list.down`` moves these lists as it moves the ticket
list.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from paneglass.ui.bindings import LIST_MOVEMENT

__all__ = ["ListTable"]


class ListTable(DataTable[Any], inherit_bindings=False):
    """A ``DataTable`` with a row cursor, zebra stripes and remappable list keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *LIST_MOVEMENT,
        Binding("enter", "select_cursor", "Open", show=False, id="list.open"),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        if self.row_count:
            row = min(max(self.cursor_row + delta, 0), self.row_count - 1)
            self.move_cursor(row=row)

    def action_page(self, direction: int) -> None:
        """Move the cursor a page up or down."""
        self.action_cursor(direction * max(self.scrollable_content_region.height - 1, 1))

    def action_jump(self, index: int) -> None:
        """Jump to the first (0) or last (-1) row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1 if index < 0 else 0)

"""Key bindings several widgets share, under one id each, so one ``[keys]`` line remaps all.

List movement is the same everywhere a list has the cursor (tickets, SLA
clocks, cases, the outbox, a case's members): ``list.down = "n"`` in the
config moves every list with ``n``. Each widget maps the ids to its own
actions, which take the same arguments.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

__all__ = ["LIST_MOVEMENT"]

LIST_MOVEMENT: list[BindingType] = [
    Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up"),
    Binding("down,j", "cursor(1)", "Down", show=False, id="list.down"),
    Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
    Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
    Binding("home,g", "jump(0)", "First", show=False, id="list.first"),
    Binding("end,G", "jump(-1)", "Last", show=False, id="list.last"),
]
"""Actions every list widget offers: ``cursor(delta)``, ``page(direction)``, ``jump(0|-1)``."""

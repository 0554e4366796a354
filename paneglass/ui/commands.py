"""The ``:`` command mode (k9s style) and the command palette's entries.

Both reach the same small set of screen methods, so a command typed after
``:`` and one picked in the palette (ctrl+p) behave identically.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.command import Hit, Hits, Provider

from paneglass.store import SortKey, Store
from paneglass.ui.display import plain, safe_line

if TYPE_CHECKING:
    from paneglass.ui.screens.dashboard import DashboardScreen


@runtime_checkable
class _TicketScreen(Protocol):
    """A screen the palette can open tickets from."""

    store: Store
    clock: Callable[[], datetime]
    zone: tzinfo | None


__all__ = ["KNOWN", "TicketKeyProvider", "run_command"]

KNOWN = (
    "tickets",
    "sla",
    "vendors",
    "vendor",
    "filter",
    "sort",
    "view",
    "ticket",
    "cases",
    "case",
    "outbox",
    "theme",
    "help",
    "quit",
)

_PANES = {
    "tickets": "tickets",
    "t": "tickets",
    "sla": "sla",
    "s": "sla",
    "vendors": "vendors",
    "v": "vendors",
}


def run_command(screen: DashboardScreen, text: str) -> str | None:
    """Run one ``:`` command on the dashboard; return an error message, or ``None``."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return f"cannot read the command: {exc}"
    if not words:
        return None
    verb, args = words[0].lower(), words[1:]
    rest = " ".join(args)
    if verb in _PANES and not args:
        screen.action_show_pane(_PANES[verb])
        return None
    if verb == "vendor":
        if not args:
            return "usage: vendor NAME"
        return screen.apply_filter(f'vendor:"{rest}"')
    if verb in ("filter", "f"):
        return screen.apply_filter(rest)
    if verb == "view":
        return screen.apply_view(rest) if args else "usage: view NAME"
    if verb == "sort":
        if not args or args[0] not in {s.value for s in SortKey}:
            return (
                "usage: sort updated|created|priority|status|vendor|key|title|assignee [asc|desc]"
            )
        from dataclasses import replace

        from paneglass.ui.widgets.ticket_table import TicketTable

        table = screen.query_one(TicketTable)
        descending = (
            (args[1].lower() != "asc") if len(args) > 1 else args[0] in ("updated", "created")
        )
        table.ticket_query = replace(
            table.ticket_query, sort=SortKey(args[0]), descending=descending
        )
        screen.action_show_pane("tickets")
        return None
    if verb == "theme":
        if rest not in screen.app.available_themes:
            return f"no theme {rest!r} (themes: {', '.join(sorted(screen.app.available_themes))})"
        screen.app.theme = rest
        return None
    if verb in ("ticket", "open", "goto"):
        if not args:
            return "usage: ticket KEY"
        screen.open_ticket_key(rest)
        return None
    if verb == "cases" and not args:
        screen.app.open_cases()  # type: ignore[attr-defined]
        return None
    if verb == "case":
        if len(args) != 1 or not args[0].isdigit():
            return "usage: case NUMBER (or :cases for the list)"
        screen.app.open_cases(int(args[0]))  # type: ignore[attr-defined]
        return None
    if verb == "outbox" and not args:
        screen.app.open_outbox()  # type: ignore[attr-defined]
        return None
    if verb in ("help", "h", "?"):
        screen.action_help()
        return None
    if verb in ("quit", "q", "q!"):
        screen.app.exit()
        return None
    return f"unknown command {verb!r}: try {', '.join(KNOWN)}"


class TicketKeyProvider(Provider):
    """Palette entries "Go to KEY" read from the store; vendor text is shown as plain text."""

    async def search(self, query: str) -> Hits:
        from paneglass.ui.screens.ticket_detail import TicketDetailScreen

        screen = self.screen
        if not isinstance(screen, _TicketScreen):
            return
        store = screen.store
        text = query.strip()
        if len(text) < 2:
            return
        found = await asyncio.to_thread(store.find_tickets, text, 8)
        for rank, (ticket_id, vendor, key, title) in enumerate(found):
            label = plain(
                f"Go to {safe_line(key, 24)}  ·  {safe_line(vendor, 16)}  ·  {safe_line(title, 60)}"
            )

            def open_ticket(ticket_id: int = ticket_id) -> None:
                opener = getattr(self.app, "open_ticket", None)
                if opener is not None:
                    opener(ticket_id)
                else:
                    self.app.push_screen(
                        TicketDetailScreen(store, ticket_id, clock=screen.clock, zone=screen.zone)
                    )

            yield Hit(1.0 - rank * 0.01, label, open_ticket, text=f"Go to {key}")

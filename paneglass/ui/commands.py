"""The ``:`` command mode (k9s style) and the command palette's entries.

Both reach the same small set of screen methods, so a command typed after
``:`` and one picked in the palette (ctrl+p) behave identically.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.command import Hit, Hits, Provider
from textual.message import Message

from paneglass.store import SortKey, Store
from paneglass.ui.display import plain, safe_line
from paneglass.ui.metric_messages import OpenHandover, OpenScorecards, TimeTravel
from paneglass.ui.navigation import OpenCase, OpenPane, OpenTicket


class CommandTarget(Protocol):
    """What ``:`` commands act on (the dashboard): its panes, filter, views and sort."""

    @property
    def app(self) -> App[Any]: ...
    def post_message(self, message: Message) -> bool: ...
    def action_show_pane(self, name: str) -> None: ...
    def action_help(self) -> None: ...
    def apply_filter(self, text: str) -> str | None: ...
    def apply_view(self, name: str) -> str | None: ...
    def sort_tickets(self, sort: SortKey, descending: bool) -> None: ...
    def open_ticket_key(self, key: str) -> None: ...


@runtime_checkable
class _StoreScreen(Protocol):
    """A screen the palette can look tickets up from."""

    store: Store


__all__ = ["KNOWN", "CommandTarget", "TicketKeyProvider", "run_command"]

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
    "notifications",
    "scorecards",
    "handover",
    "at",
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


def run_command(screen: CommandTarget, text: str) -> str | None:
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
        descending = (
            (args[1].lower() != "asc") if len(args) > 1 else args[0] in ("updated", "created")
        )
        screen.sort_tickets(SortKey(args[0]), descending)
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
        screen.post_message(OpenPane("cases"))
        return None
    if verb == "case":
        if len(args) != 1 or not args[0].isdigit():
            return "usage: case NUMBER (or :cases for the list)"
        screen.post_message(OpenCase(int(args[0])))
        return None
    if verb == "outbox" and not args:
        screen.post_message(OpenPane("outbox"))
        return None
    if verb in ("notifications", "notify", "n") and not args:
        screen.post_message(OpenPane("notifications"))
        return None
    if verb in ("scorecards", "scorecard"):
        screen.post_message(OpenScorecards(rest or None))
        return None
    if verb == "handover" and not args:
        screen.post_message(OpenHandover())
        return None
    if verb == "at":
        screen.post_message(TimeTravel(rest))
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
        screen = self.screen
        if not isinstance(screen, _StoreScreen):
            return
        text = query.strip()
        if len(text) < 2:
            return
        found = await asyncio.to_thread(screen.store.find_tickets, text, 8)
        for rank, (ticket_id, vendor, key, title) in enumerate(found):
            label = plain(
                f"Go to {safe_line(key, 24)}  ·  {safe_line(vendor, 16)}  ·  {safe_line(title, 60)}"
            )

            def open_ticket(ticket_id: int = ticket_id) -> None:
                screen.post_message(OpenTicket(ticket_id))

            yield Hit(1.0 - rank * 0.01, label, open_ticket, text=f"Go to {key}")

"""What a screen asks the app to open: a ticket, a pane or a case.

Screens post these (they bubble from the screen to the app); the app alone
decides which screen answers, so a read-only console opens its read-only
variants and no screen needs to know the app it runs in.
"""

from __future__ import annotations

from typing import Literal

from textual.message import Message

__all__ = ["OpenCase", "OpenPane", "OpenTicket", "Pane"]

Pane = Literal["cases", "outbox", "notifications"]
"""The full-screen panes beside the dashboard (keys 4, 5 and 6)."""


class OpenTicket(Message):
    """Show one ticket."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id


class OpenPane(Message):
    """Show the cases pane, the outbox or the notifications."""

    def __init__(self, pane: Pane) -> None:
        super().__init__()
        self.pane: Pane = pane


class OpenCase(Message):
    """Show one case (over the cases pane)."""

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id

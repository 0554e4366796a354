"""The one-line prompt under the panes: ``/`` filters tickets, ``:`` runs a command.

Like k9s: the prompt remembers what was typed (up/down walk the history of
the same mode), enter submits, escape closes without changing anything.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from paneglass.ui.display import plain

__all__ = ["PromptBar"]

_PLACEHOLDERS = {
    "filter": "words  vendor:hosting  status:open,pending  prio:P1  -status:closed  /regex/",
    "command": "tickets  sla  vendors  vendor NAME  theme NAME  view NAME  ticket KEY  help  quit",
}


class PromptBar(Input):
    """A filter or command prompt with per-mode history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close prompt", show=False, id="prompt.close"),
        Binding("up", "history(-1)", "Earlier entry", show=False, id="prompt.earlier"),
        Binding("down", "history(1)", "Later entry", show=False, id="prompt.later"),
    ]
    DEFAULT_CSS = """
    PromptBar { dock: bottom; height: 3; display: none; }
    PromptBar.-open { display: block; }
    """

    class Answered(Message):
        """The operator submitted the prompt."""

        def __init__(self, mode: str, value: str) -> None:
            super().__init__()
            self.mode = mode
            self.value = value

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = "filter"
        self.history: dict[str, list[str]] = {"filter": [], "command": []}
        self._position = 0

    def open(self, mode: str, value: str = "") -> None:
        """Show the prompt in ``mode`` (``filter`` or ``command``), pre-filled with ``value``."""
        self.mode = mode
        self.placeholder = _PLACEHOLDERS[mode]
        self.border_title = "/ filter" if mode == "filter" else ": command"
        self.value = value
        self.cursor_position = len(value)
        self._position = len(self.history[mode])
        self.add_class("-open")
        self.focus()

    def action_close(self) -> None:
        """Hide the prompt, changing nothing."""
        self.remove_class("-open")
        self.screen.focus_next()

    def action_history(self, step: int) -> None:
        """Walk through earlier entries of this mode."""
        entries = self.history[self.mode]
        if not entries:
            return
        self._position = min(max(self._position + step, 0), len(entries))
        self.value = entries[self._position] if self._position < len(entries) else ""
        self.cursor_position = len(self.value)

    def show_error(self, message: str) -> None:
        """Keep the prompt open and say what is wrong (the typed text stays)."""
        self.border_subtitle = plain(message[:120])
        self.add_class("-error")

    async def action_submit(self) -> None:
        value = self.value.strip()
        entries = self.history[self.mode]
        if value and (not entries or entries[-1] != value):
            entries.append(value)
        self.border_subtitle = ""
        self.remove_class("-error")
        self.post_message(self.Answered(self.mode, value))

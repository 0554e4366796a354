"""App-wide messages."""

from __future__ import annotations

from textual.message import Message

from paneglass.store import ChangeSet

__all__ = ["FirstDataShown", "StoreChanged"]


class StoreChanged(Message):
    """A batch was committed; panes re-query. A newer notice replaces a queued older one."""

    def __init__(self, change: ChangeSet | None = None) -> None:
        super().__init__()
        self.change = change

    def can_replace(self, message: Message) -> bool:
        """Panes re-query whole views, so an older queued notice adds nothing."""
        return isinstance(message, StoreChanged)


class FirstDataShown(Message):
    """A screen painted what the store held when it opened (the app may start collecting).

    Starting the collector loads the scheduler and every configured connector; doing
    that after the first frame with tickets keeps it off the path to that frame.
    """

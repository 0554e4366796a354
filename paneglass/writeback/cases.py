"""The console's case and link edits: open, fill and close cases, mirror comments, attach mail.

Like write-back actions (:mod:`paneglass.writeback.service`), every edit is
made for one operator (the :class:`~paneglass.store.Actor` of the console)
and lands in the store's audit log; screens ask this service and never call
the store's write methods themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from paneglass.store import Actor, Store, TicketDetail

__all__ = ["CaseEdits"]


class CaseEdits:
    """Case and link edits of one console, audited as its operator."""

    def __init__(self, store: Store, actor: Actor, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.actor = actor
        self.clock = clock

    def open_case(self, title: str) -> int:
        """Open a case; return its id."""
        return self.store.create_case(self.actor, self.clock(), title)

    def add_ticket(self, case_id: int, ticket: TicketDetail) -> bool:
        """Put a ticket in a case; False when it already is."""
        return self.store.add_case_member(
            self.actor, self.clock(), case_id, ticket.vendor, ticket.external_id, ticket.key
        )

    def remove_ticket(self, case_id: int, vendor: str, external_id: str) -> bool:
        """Take a ticket out of a case; False when it was not in it."""
        return self.store.remove_case_member(self.actor, self.clock(), case_id, vendor, external_id)

    def close_case(self, case_id: int) -> bool:
        """Close a case; False when it was already closed or does not exist."""
        return self.store.close_case(self.actor, self.clock(), case_id)

    def mirror_comments(self, ticket: TicketDetail, mirror: bool) -> int:
        """Mirror comments over every link of ``ticket`` (or stop); return links changed."""
        return self.store.set_mirror(
            self.actor, self.clock(), ticket.vendor, ticket.external_id, mirror
        )

    def attach_mail(self, mail: TicketDetail, target: TicketDetail) -> bool:
        """Attach a mail item to the ticket it is about; False when it already was."""
        return self.store.attach_mail(
            self.actor,
            self.clock(),
            (mail.vendor, mail.external_id, mail.key),
            (target.vendor, target.external_id, target.key),
        )

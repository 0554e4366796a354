"""The console's acknowledgements: acknowledge or snooze a notification, or a whole ticket.

Local to paneglass (nothing is sent to the vendor), made for one operator
(the console's :class:`~paneglass.store.Actor`) and audited; every console
following the store shows "acknowledged by maria 14:02".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from paneglass.store import Actor, Store

__all__ = ["Acknowledgements"]


class Acknowledgements:
    """Acknowledge and snooze notifications as one operator."""

    def __init__(self, store: Store, actor: Actor, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.actor = actor
        self.clock = clock

    def acknowledge(self, notification_id: int) -> int:
        """Acknowledge one notification (repeats and escalations stop); how many changed."""
        return self.store.acknowledge(self.actor, self.clock(), notification_id=notification_id)

    def acknowledge_ticket(self, ticket_id: int) -> int:
        """Acknowledge every open notification of a ticket."""
        return self.store.acknowledge(self.actor, self.clock(), ticket_id=ticket_id)

    def snooze(
        self,
        until: datetime | timedelta,
        *,
        notification_id: int | None = None,
        ticket_id: int | None = None,
    ) -> int:
        """Hold repeats and escalations until ``until`` (an instant, or a span from now)."""
        now = self.clock()
        when = now + until if isinstance(until, timedelta) else until
        return self.store.snooze(
            self.actor, now, when, notification_id=notification_id, ticket_id=ticket_id
        )

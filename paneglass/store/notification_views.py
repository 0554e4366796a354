"""What the notification log takes in and gives out: frozen values, like the other views.

Write side: :class:`NewNotification` (a transition the detector found),
:class:`NewSend` (one firing of a rule's channels) and :class:`NewDelivery`
(an external channel's message, sent through the outbox). Read side:
:class:`NotificationView`, :class:`SendView` and the detector's
:class:`TransitionCandidates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ClockCandidate",
    "MutedRule",
    "NewDelivery",
    "NewNotification",
    "NewSend",
    "NotificationView",
    "SendView",
    "TransitionCandidates",
    "VendorCandidate",
]


@dataclass(frozen=True)
class NewNotification:
    """A transition to record once: (subject, clock, cycle, event) is its identity."""

    subject: str
    event: str
    occurred_at: datetime
    clock: str = ""
    cycle: int = 0
    ticket_id: int | None = None
    vendor: str | None = None
    ticket_key: str | None = None
    priority: str | None = None
    group_name: str | None = None
    policy: str | None = None
    title: str = ""
    detail: str = ""
    baseline: bool = False
    """Seen during a vendor's first sync: recorded so it is never announced later."""


@dataclass(frozen=True)
class NewDelivery:
    """One external message (webhook, e-mail, command) for the outbox to send."""

    channel: str
    payload: str
    """JSON: the event, the rule and the channel; never a secret (URLs and passwords stay in
    the config and are looked up when it is sent)."""
    summary: str
    idempotency_key: str


@dataclass(frozen=True)
class MutedRule:
    """A rule that matched a ticket's notification but stays quiet: the ticket's vendor is
    inside the maintenance window its status source announced (``[start, end)``)."""

    rule: str
    event: str
    vendor: str
    ticket_key: str | None
    window: tuple[datetime, datetime]


@dataclass(frozen=True)
class NewSend:
    """One firing of a rule's channels; ``dedupe`` makes it happen once."""

    dedupe: str
    rule: str
    kind: str
    notification_id: int | None
    local: str
    remote: str
    summary: str
    held_until: datetime | None = None
    deliveries: tuple[NewDelivery, ...] = ()


@dataclass(frozen=True)
class NotificationView:
    """One logged notification as the pane, the rules and the timers see it."""

    id: int
    subject: str
    clock: str
    cycle: int
    event: str
    ticket_id: int | None
    vendor: str | None
    ticket_key: str | None
    priority: str | None
    group_name: str | None
    policy: str | None
    title: str
    detail: str
    occurred_at: datetime
    recorded_at: datetime
    state: str
    rules: str
    acked_at: datetime | None
    acked_by: str | None
    snoozed_until: datetime | None
    snoozed_by: str | None

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The rules that matched."""
        return tuple(r for r in self.rules.split("\n") if r)

    def quiet(self, now: datetime) -> bool:
        """Acknowledged, or snoozed until later than ``now``."""
        return self.acked_at is not None or (
            self.snoozed_until is not None and self.snoozed_until > now
        )


@dataclass(frozen=True)
class SendView:
    """One firing of a rule's channels, as consoles show it (toast, bell, desktop)."""

    id: int
    notification_id: int | None
    rule: str
    kind: str
    local: str
    remote: str
    state: str
    due_at: datetime | None
    created_at: datetime
    summary: str
    event: str | None = None
    ticket_id: int | None = None

    @property
    def channels(self) -> frozenset[str]:
        """Console channels of this firing."""
        return frozenset(self.local.split())


@dataclass(frozen=True)
class ClockCandidate:
    """A running clock past a threshold, with what the detector needs to judge it."""

    ticket_id: int
    metric: str
    cycle: int
    state: str
    due_at: datetime | None
    at_risk_at: datetime | None
    near_breach_at: datetime | None
    breach_at: datetime | None
    paused: bool
    policy: str
    target_seconds: int
    vendor: str
    key: str
    title: str
    priority: str | None
    group_name: str | None
    first_seen_at: datetime


@dataclass(frozen=True)
class VendorCandidate:
    """A vendor's published status and polling health, for status and connector events."""

    name: str
    first_ok_at: datetime | None
    """When the vendor's first good poll ended: tickets first seen before it are its backlog."""
    indicator: str | None
    description: str | None
    components: tuple[tuple[str, str, str, datetime | None], ...]
    """(external id, name, state, updated at) of each component not operational."""
    incidents: tuple[tuple[str, str, str], ...]
    """(external id, name, impact) of each active incident."""
    last_ok_run_id: int
    """The id of the vendor's last good poll run (0: none): one trouble episode per good run."""
    status_fetched_at: datetime | None = None
    """When the status page answered what ``components`` and ``incidents`` hold."""


@dataclass(frozen=True)
class TransitionCandidates:
    """Everything a sweep may turn into notifications, read in one transaction."""

    now: datetime
    swept_at: datetime | None
    last_ticket_id: int
    last_audit_id: int
    max_ticket_id: int
    max_audit_id: int
    clocks: tuple[ClockCandidate, ...] = ()
    new_tickets: tuple[tuple[int, str, str, str, str | None, str | None, bool], ...] = ()
    """(id, vendor, key, title, priority, group, vendor's first sync done) of new P1/P2s."""
    vendors: tuple[VendorCandidate, ...] = ()
    failed_actions: tuple[tuple[int, str, str | None, str, int, str | None], ...] = ()
    """(outbox id, vendor, ticket key, summary, attempts, reason) of failed vendor actions."""
    case_changes: tuple[tuple[int, int, str, str, str | None], ...] = field(default=())
    """(audit id, case id, case title, action, detail) since the last sweep."""
    clocks_swept: bool = True
    """The SLA clocks were read (a full sweep): new tickets count as seen after it."""

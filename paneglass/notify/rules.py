"""Notification rules: when, which tickets, which channels, and the controls on top.

A rule matches a logged notification by event and by the ticket's vendor,
priority, group and contract policy (each list empty means "any"). Its
channels fire once per transition; quiet hours hold them (and a digest goes
out when the quiet time ends); ``repeat`` fires them again until someone
acknowledges; ``escalate_after`` fires another rule's channels; ``act_after``
queues a write-back action at the vendor through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from paneglass.notify.events import Event
from paneglass.store import NotificationView

__all__ = [
    "LOCAL_CHANNELS",
    "REMOTE_CHANNELS",
    "EscalationAction",
    "NotifySettings",
    "QuietHours",
    "Rule",
    "SmtpSettings",
    "Webhook",
]

LOCAL_CHANNELS = ("toast", "bell", "desktop")
"""Shown by every console following the store (desktop: OSC 9 and OSC 777)."""
REMOTE_CHANNELS = ("webhook", "email", "command")
"""Sent once by the collector, through the outbox."""


@dataclass(frozen=True)
class QuietHours:
    """A daily quiet time in a zone (``22:00-07:00`` runs past midnight)."""

    start: time
    end: time
    zone: ZoneInfo

    def until(self, now: datetime) -> datetime | None:
        """The end of the quiet time ``now`` falls in, or ``None`` outside it."""
        local = now.astimezone(self.zone)
        for day in (local.date() - timedelta(days=1), local.date()):
            opens = datetime.combine(day, self.start, self.zone)
            end_day = day + timedelta(days=1) if self.end <= self.start else day
            closes = datetime.combine(end_day, self.end, self.zone)
            if opens <= local < closes:
                return closes.astimezone(now.tzinfo)
        return None

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


@dataclass(frozen=True)
class Webhook:
    """Where a rule posts, and in which shape (the URL is a secret: never shown or stored)."""

    url: str = field(repr=False)
    format: str = "generic"
    """``generic`` (paneglass's JSON), ``slack`` or ``teams``."""

    @property
    def shown(self) -> str:
        """The URL's scheme and host only, for ``check --rules`` and the outbox."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"


@dataclass(frozen=True)
class EscalationAction:
    """A write-back action a rule queues at the vendor after ``after`` unacknowledged."""

    after: timedelta
    kind: str
    """``comment``, ``assign`` or ``raise-priority``."""
    text: str = ""
    assignee: str = ""
    priority: str = "P1"


@dataclass(frozen=True)
class Rule:
    """One ``[[notify.rules]]`` entry, validated."""

    name: str
    events: frozenset[Event]
    channels: tuple[str, ...]
    vendors: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    """Lower case."""
    policies: frozenset[str] = frozenset()
    webhook: Webhook | None = None
    email_to: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    quiet: QuietHours | None = None
    repeat: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: str | None = None
    action: EscalationAction | None = None

    @property
    def local(self) -> str:
        """Console channels, space-separated."""
        return " ".join(c for c in self.channels if c in LOCAL_CHANNELS)

    @property
    def remote(self) -> tuple[str, ...]:
        """External channels."""
        return tuple(c for c in self.channels if c in REMOTE_CHANNELS)

    def matches(self, item: NotificationView) -> bool:
        """Does this rule cover the notification?"""
        if item.event not in self.events:
            return False
        if self.vendors and (item.vendor or "") not in self.vendors:
            return False
        if self.priorities and (item.priority or "") not in self.priorities:
            return False
        if self.groups and (item.group_name or "").lower() not in self.groups:
            return False
        return not self.policies or (item.policy or "") in self.policies


@dataclass(frozen=True)
class SmtpSettings:
    """``[notify.smtp]``: the mail relay (credentials from the environment)."""

    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "paneglass@localhost"
    ca_file: str | None = None
    """A private CA to trust for STARTTLS (default: the system's)."""
    timeout: float = 30.0


@dataclass(frozen=True)
class NotifySettings:
    """``[notify]`` and its rules."""

    rules: tuple[Rule, ...] = ()
    smtp: SmtpSettings | None = None
    toast_seconds: float = 12.0
    webhook_timeout: float = 15.0
    command_timeout: float = 30.0

    def rule(self, name: str) -> Rule | None:
        """The rule called ``name``."""
        return next((r for r in self.rules if r.name == name), None)

    def matching(self, item: NotificationView) -> list[Rule]:
        """Every rule covering the notification, in config order."""
        return [rule for rule in self.rules if rule.matches(item)]

"""What can be notified: the transitions the collector records, and their JSON form.

Every event is a transition (something moved into a worse state), named
``<area>-<what>``. A rule's ``when`` lists them; ``sla`` stands for the three
SLA ones. The JSON form (:func:`event_body`) is what webhooks, e-mails and
commands receive: one flat object, the same for every channel.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from paneglass.store import NotificationView

__all__ = ["ALIASES", "Event", "event_body", "headline"]


class Event(StrEnum):
    """A transition worth telling someone about."""

    SLA_AT_RISK = "sla-at-risk"
    """A contract clock passed its first threshold (default 50 %)."""
    SLA_NEAR_BREACH = "sla-near-breach"
    """… its second threshold (default 75 %)."""
    SLA_BREACHED = "sla-breached"
    """… its target."""
    TICKET_NEW = "ticket-new"
    """A new P1 or P2 ticket (seen after the vendor's first sync)."""
    VENDOR_DEGRADED = "vendor-degraded"
    """A component on a vendor's status page is no longer operational."""
    VENDOR_INCIDENT = "vendor-incident"
    """A vendor's status page opened an incident."""
    CONNECTOR_STALE = "connector-stale"
    """No good poll of a vendor for ``stale_after`` intervals."""
    CONNECTOR_FAILING = "connector-failing"
    """A vendor's latest poll failed."""
    OUTBOX_FAILED = "outbox-failed"
    """A write-back action failed for good (it waits for an operator)."""
    CASE_CHANGED = "case-changed"
    """A case was opened, closed, or gained or lost a ticket."""

    @property
    def words(self) -> str:
        """How the event reads in a sentence."""
        return _WORDS[self]


_WORDS = {
    Event.SLA_AT_RISK: "at risk",
    Event.SLA_NEAR_BREACH: "near breach",
    Event.SLA_BREACHED: "breached",
    Event.TICKET_NEW: "new ticket",
    Event.VENDOR_DEGRADED: "vendor degraded",
    Event.VENDOR_INCIDENT: "vendor incident",
    Event.CONNECTOR_STALE: "connector stale",
    Event.CONNECTOR_FAILING: "connector failing",
    Event.OUTBOX_FAILED: "action failed",
    Event.CASE_CHANGED: "case changed",
}

ALIASES: dict[str, frozenset[Event]] = {
    "sla": frozenset({Event.SLA_AT_RISK, Event.SLA_NEAR_BREACH, Event.SLA_BREACHED}),
    "connector": frozenset({Event.CONNECTOR_STALE, Event.CONNECTOR_FAILING}),
    "vendor": frozenset({Event.VENDOR_DEGRADED, Event.VENDOR_INCIDENT}),
}
"""Shorthands a rule's ``when`` may use."""


def headline(item: NotificationView) -> str:
    """One line for a toast, a desktop notification, a chat message or a subject."""
    event = Event(item.event)
    if item.ticket_key:
        prio = f" {item.priority}" if item.priority else ""
        clock = f" {item.clock}" if item.clock else ""
        return f"{item.ticket_key}{prio} {item.vendor}{clock} {event.words}: {item.title}"
    where = f"{item.vendor}: " if item.vendor else ""
    return f"{event.words}: {where}{item.title}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_body(item: NotificationView, *, rule: str, kind: str, key: str) -> dict[str, Any]:
    """The event as JSON for webhooks, e-mail and commands (times ISO 8601 UTC)."""
    return {
        "id": item.id,
        "idempotency_key": key,
        "event": item.event,
        "rule": rule,
        "firing": kind,
        "summary": headline(item),
        "subject": item.subject,
        "vendor": item.vendor,
        "ticket_key": item.ticket_key,
        "priority": item.priority,
        "group": item.group_name,
        "policy": item.policy,
        "clock": item.clock or None,
        "cycle": item.cycle,
        "title": item.title,
        "detail": item.detail,
        "occurred_at": _iso(item.occurred_at),
        "recorded_at": _iso(item.recorded_at),
    }

"""What callers hand the store's writes: who acts, what to queue, how a poll went.

Frozen values, the write-side counterpart of :mod:`paneglass.store.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Actor", "NewAction", "PollRunInfo", "ProcessGone"]


@dataclass(frozen=True)
class Actor:
    """Who acts and from where, as the audit log records it."""

    user: str
    terminal: str | None = None


@dataclass(frozen=True)
class NewAction:
    """An action the operator confirmed, as the outbox stores it."""

    vendor: str
    kind: str
    payload: str
    """The :class:`connectors.actions.Action` as JSON."""
    summary: str
    detail: str = ""
    """The dry-run text (kept in the audit log)."""
    external_id: str | None = None
    ticket_key: str | None = None
    source: tuple[str, str] | None = None
    """For a hand-off: (vendor, external id) of the ticket it came from."""
    case_id: int | None = None
    mirror_comments: bool = False


@dataclass(frozen=True)
class PollRunInfo:
    """How a poll went, as the scheduler measured it."""

    started_at: datetime
    finished_at: datetime
    ok: bool
    error_kind: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    requests: int = 0
    collector: str | None = None
    records_seen: int = 0
    """Records the whole poll read, over all its pages (a streamed poll commits them page by
    page and records the run once, at its end, with these totals)."""
    records_changed: int = 0


ProcessGone = Callable[[str], bool]
"""Told ``host:pid``: is that process known to be dead? The collector answers
(:func:`paneglass.collect.liveness.process_gone`); the store knows only rows."""

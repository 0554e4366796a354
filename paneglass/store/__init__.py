"""The store: owner of the schema, of every write and of every query the UI needs.

One :class:`Store` per process. The writer (the process that runs the
scheduler) migrates the schema on open and writes each poll batch in one
``BEGIN IMMEDIATE`` transaction; viewers only read. Every method is blocking
and thread-safe (a new connection per call), so callers run them off the
event loop (thread workers in the UI, a writer thread in the scheduler).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from connectors import VendorConfig
from connectors.records import Cursor, PollResult
from paneglass.errors import UserError
from paneglass.sla import DEFAULT_SETTINGS, SlaSettings
from paneglass.store import exit_pack, lease, queries, vendors
from paneglass.store.engine import make_engine, reading, sqlite_path, yield_to_waiting_writers
from paneglass.store.exit_pack import TIMES as PACK_TIMES
from paneglass.store.exit_pack import PackError
from paneglass.store.filter import FilterError, SortKey, Term, TicketQuery
from paneglass.store.inputs import Actor, NewAction, PollRunInfo, ProcessGone
from paneglass.store.lazy import on_first_use
from paneglass.store.lease import VendorLocks
from paneglass.store.metric_views import (
    AGE_BUCKETS,
    HandoverClock,
    HandoverRecord,
    HandoverTicket,
    ScorecardRow,
    Spread,
)
from paneglass.store.migrate import is_current, upgrade
from paneglass.store.notification_views import (
    ClockCandidate,
    MutedRule,
    NewDelivery,
    NewNotification,
    NewSend,
    NotificationView,
    SendView,
    TransitionCandidates,
    VendorCandidate,
)
from paneglass.store.views import (
    MAIL_KIND,
    AttachmentView,
    AuditRow,
    CaseDetail,
    CaseMemberView,
    CaseRow,
    ChangeSet,
    ClockView,
    ComponentView,
    EntryView,
    EventView,
    Headline,
    IncidentView,
    LinkView,
    OutboxItem,
    PendingMirror,
    SearchMatch,
    SlaRow,
    TicketDetail,
    TicketRow,
    TimelineEntry,
    VendorHealth,
)

_ON_FIRST_USE = (
    "cases",
    "conversations",
    "handovers",
    "mirroring",
    "notifications",
    "outbox",
    "scorecards",
    "writes",
    "mail",
    "maintenance",
)
if TYPE_CHECKING:
    from paneglass.store import (
        cases,
        conversations,
        handovers,
        mail,
        maintenance,
        mirroring,
        notifications,
        outbox,
        scorecards,
        writes,
    )
else:  # the writers' modules pull in both SQL dialects: nothing a first frame needs
    (
        cases,
        conversations,
        handovers,
        mirroring,
        notifications,
        outbox,
        scorecards,
        writes,
        mail,
        maintenance,
    ) = (on_first_use(f"paneglass.store.{n}") for n in _ON_FIRST_USE)

__all__ = [
    "AGE_BUCKETS",
    "MAIL_KIND",
    "PACK_TIMES",
    "Actor",
    "AttachmentView",
    "AuditRow",
    "CaseDetail",
    "CaseMemberView",
    "CaseRow",
    "ChangeSet",
    "ClockCandidate",
    "ClockView",
    "ComponentView",
    "EntryView",
    "EventView",
    "FilterError",
    "HandoverClock",
    "HandoverRecord",
    "HandoverTicket",
    "Headline",
    "IncidentView",
    "LinkView",
    "MutedRule",
    "NewAction",
    "NewDelivery",
    "NewNotification",
    "NewSend",
    "NotificationView",
    "OutboxItem",
    "PackError",
    "PendingMirror",
    "PollRunInfo",
    "ProcessGone",
    "ScorecardRow",
    "SearchMatch",
    "SendView",
    "SlaRow",
    "SortKey",
    "Spread",
    "Store",
    "Term",
    "TicketDetail",
    "TicketQuery",
    "TicketRow",
    "TimelineEntry",
    "TransitionCandidates",
    "VendorCandidate",
    "VendorHealth",
    "VendorLocks",
]


class Store:
    """The database a customer owns, behind one small API."""

    def __init__(
        self, url: str, *, writer: bool = True, sla: SlaSettings = DEFAULT_SETTINGS
    ) -> None:
        self.url = url
        self.writer = writer
        self.sla = sla
        """Contract policies the clocks are computed against."""
        self.engine: Engine = make_engine(url, writer=writer)
        try:
            if writer:
                upgrade(self.engine)
            elif not is_current(self.engine):
                raise UserError(
                    f"database {self._safe_url()} has an older schema: run the collector first"
                )
        except OperationalError as exc:
            raise UserError(f"cannot open database {self._safe_url()}: {exc.orig}") from None

    def _safe_url(self) -> str:
        path = sqlite_path(self.url)
        return str(path) if path else self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    # -- vendors and cursors ----------------------------------------------------

    def sync_vendors(self, configured: Iterable[VendorConfig]) -> None:
        """Record the configured vendors (name, kind, URL, interval); secrets are never stored."""
        with self.engine.begin() as conn:
            vendors.sync_vendors(conn, configured)

    def load_cursor(self, vendor: str) -> Cursor | None:
        """The cursor saved with the vendor's last committed batch."""
        with reading(self.engine) as conn:
            return vendors.load_cursor(conn, vendor)

    # -- writes ---------------------------------------------------------------------

    def apply(
        self, vendor: str, result: PollResult | None, run: PollRunInfo | None, now: datetime
    ) -> ChangeSet:
        """Apply one page (records, status, cursor, clocks) and/or a poll's run, in one commit."""
        with self.engine.begin() as conn:
            vendor_id = vendors.vendor_row_id(conn, vendor)
            return writes.apply_batch(conn, vendor_id, vendor, result, run, now, self.sla)

    def apply_pages(self, pages: Sequence[tuple[str, PollResult, datetime]]) -> list[ChangeSet]:
        """Apply several vendors' pages (vendor, page, now) in one commit, in order.

        The collector's group commit: every page commits with its own cursor, as
        :meth:`apply` would, but a commit costs the same for one page as for ten
        (SQLite writes each changed index page once per commit), so pages that
        waited for the writer together share one. All or nothing: on an error the
        caller applies them one by one, so one vendor's bad page fails only it.
        """
        with self.engine.begin() as conn:
            return [
                writes.apply_batch(
                    conn, vendors.vendor_row_id(conn, vendor), vendor, page, None, now, self.sla
                )
                for vendor, page, now in pages
            ]

    def tick_clocks(self, now: datetime) -> int:
        """Move clocks whose due or at-risk time has passed; return how many moved."""
        with self.engine.begin() as conn:
            return writes.tick_clocks(conn, now)

    # -- reads ------------------------------------------------------------------------

    def ticket_count(self, query: TicketQuery) -> int:
        """How many tickets match."""
        with reading(self.engine) as conn:
            return queries.ticket_count(conn, query)

    def ticket_window(
        self, query: TicketQuery, offset: int, limit: int, total: int | None = None
    ) -> list[TicketRow]:
        """One window of the ticket list (``total`` lets the store read from the nearer end)."""
        with reading(self.engine) as conn:
            return queries.ticket_window(conn, query, offset, limit, total)

    def find_tickets(self, key: str, limit: int = 10) -> list[tuple[int, str, str, str]]:
        """(id, vendor, key, title) for a key or key prefix, exact match first."""
        with reading(self.engine) as conn:
            return queries.find_tickets(conn, key, limit)

    def ticket_detail(self, ticket_id: int) -> TicketDetail | None:
        """One ticket with history and clocks."""
        with reading(self.engine) as conn:
            return queries.ticket_detail(conn, ticket_id)

    def sla_rows(
        self,
        now: datetime,
        limit: int = 500,
        *,
        vendor: str | None = None,
        priority: str | None = None,
    ) -> list[SlaRow]:
        """Breached and at-risk tickets, most urgent first, optionally filtered."""
        with reading(self.engine) as conn:
            return queries.sla_rows(conn, now, limit, vendor, priority)

    def sla_counts(self, now: datetime) -> dict[str, tuple[int, int]]:
        """Per vendor: (breached, at risk) ticket counts."""
        with reading(self.engine) as conn:
            return queries.sla_counts(conn, now)

    def headline(self, now: datetime) -> Headline:
        """Header counters."""
        with reading(self.engine) as conn:
            return queries.headline(conn, now)

    def vendor_health(self) -> list[VendorHealth]:
        """Per-vendor health and published status."""
        with reading(self.engine) as conn:
            return queries.vendor_health(conn)

    def iter_tickets(self) -> Iterator[dict[str, Any]]:
        """Every ticket row, for export."""
        with reading(self.engine) as conn:
            yield from queries.iter_tickets(conn)

    def iter_events(self) -> Iterator[dict[str, Any]]:
        """Every ticket event, for export."""
        with reading(self.engine) as conn:
            yield from queries.iter_events(conn)

    def iter_clocks(self) -> Iterator[dict[str, Any]]:
        """Every contract clock, for export."""
        with reading(self.engine) as conn:
            yield from queries.iter_clocks(conn)

    # -- write-back: outbox and audit -------------------------------------------------------

    def enqueue_action(self, actor: Actor, now: datetime, action: NewAction) -> int:
        """Store an action (and its audit entry) for the collector to send; return its id."""
        with self.engine.begin() as conn:
            return outbox.enqueue(conn, actor, now, action)

    def due_actions(self, now: datetime, limit: int = 20) -> list[OutboxItem]:
        """Queued actions whose time has come, oldest first."""
        with reading(self.engine) as conn:
            return outbox.due(conn, now, limit)

    def claim_action(self, outbox_id: int, now: datetime, owner: str) -> bool:
        """Mark an action as being sent by ``owner``; False when another sender took it."""
        with self.engine.begin() as conn:
            return outbox.claim(conn, outbox_id, now, owner)

    def action_sent(
        self,
        outbox_id: int,
        now: datetime,
        answer: str,
        http_status: int | None,
        created: tuple[str, str | None] | None = None,
    ) -> None:
        """Record success; a created ticket is linked to its source and joins its case."""
        with self.engine.begin() as conn:
            row = outbox.record_success(conn, outbox_id, now, answer, http_status, created)
            if created is None or row["source_external_id"] is None:
                return
            actor = Actor(row["requested_by"], row["terminal"])
            source_vendor = vendors.vendor_name(conn, row["source_vendor_id"])
            source = (source_vendor, str(row["source_external_id"]))
            target = (row["vendor"], created[0])
            cases.add_link(conn, actor, now, source, target, created[1], row["mirror_comments"])
            if row["case_id"] is not None:
                cases.add_member(conn, actor, now, row["case_id"], *source)
                cases.add_member(conn, actor, now, row["case_id"], *target, created[1])

    def action_failed(
        self,
        outbox_id: int,
        now: datetime,
        reason: str,
        http_status: int | None,
        retry_at: datetime | None,
    ) -> None:
        """Record a failed attempt (re-queued for ``retry_at``, or failed for good)."""
        with self.engine.begin() as conn:
            outbox.record_failure(conn, outbox_id, now, reason, http_status, retry_at)

    def retry_action(self, outbox_id: int, actor: Actor, now: datetime) -> bool:
        """Operator: send a failed action again."""
        with self.engine.begin() as conn:
            return outbox.retry(conn, outbox_id, actor, now)

    def cancel_action(self, outbox_id: int, actor: Actor, now: datetime) -> bool:
        """Operator: drop a queued or failed action."""
        with self.engine.begin() as conn:
            return outbox.cancel(conn, outbox_id, actor, now)

    def settle_interrupted(
        self,
        now: datetime,
        owner: str,
        safe_to_resend: Callable[[str, str], bool],
        process_gone: ProcessGone,
    ) -> int:
        """Settle actions a killed sender left half-done (see :func:`outbox.settle_interrupted`)."""
        with self.engine.begin() as conn:
            return outbox.settle_interrupted(conn, now, owner, safe_to_resend, process_gone)

    def outbox_items(
        self, limit: int = 500, *, vendor: str | None = None, external_id: str | None = None
    ) -> list[OutboxItem]:
        """The outbox, newest first (or only one ticket's actions)."""
        with reading(self.engine) as conn:
            return outbox.outbox_items(conn, limit, vendor=vendor, external_id=external_id)

    def audit_rows(
        self, *, vendor: str | None = None, external_id: str | None = None, limit: int = 200
    ) -> list[AuditRow]:
        """Audit entries, newest first."""
        with reading(self.engine) as conn:
            return outbox.audit_rows(conn, vendor=vendor, external_id=external_id, limit=limit)

    def iter_audit(self) -> Iterator[dict[str, Any]]:
        """Every audit entry, for export."""
        with reading(self.engine) as conn:
            yield from outbox.iter_audit(conn)

    # -- links and cases ----------------------------------------------------------------------

    def links_of(self, vendor: str, external_id: str) -> list[LinkView]:
        """The tickets linked to this one, with their status."""
        with reading(self.engine) as conn:
            return cases.links_of(conn, vendor, external_id)

    def attach_mail(
        self,
        actor: Actor,
        now: datetime,
        mail_item: tuple[str, str, str],
        target: tuple[str, str, str],
    ) -> bool:
        """Link a mail item (vendor, external id, key) to a ticket, audited; False if it was."""
        with self.engine.begin() as conn:
            return mail.attach_mail(conn, actor, now, mail_item, target)

    def set_mirror(
        self, actor: Actor, now: datetime, vendor: str, external_id: str, mirror: bool
    ) -> int:
        """Mirror comments between this ticket and its linked tickets (or stop)."""
        with self.engine.begin() as conn:
            return cases.set_mirror(conn, actor, now, vendor, external_id, mirror)

    def create_case(self, actor: Actor, now: datetime, title: str) -> int:
        """Open a case."""
        with self.engine.begin() as conn:
            return cases.create_case(conn, actor, now, title)

    def add_case_member(
        self,
        actor: Actor,
        now: datetime,
        case_id: int,
        vendor: str,
        external_id: str,
        ticket_key: str | None = None,
    ) -> bool:
        """Put a ticket in a case."""
        with self.engine.begin() as conn:
            return cases.add_member(conn, actor, now, case_id, vendor, external_id, ticket_key)

    def remove_case_member(
        self, actor: Actor, now: datetime, case_id: int, vendor: str, external_id: str
    ) -> bool:
        """Take a ticket out of a case."""
        with self.engine.begin() as conn:
            return cases.remove_member(conn, actor, now, case_id, vendor, external_id)

    def close_case(self, actor: Actor, now: datetime, case_id: int) -> bool:
        """Close a case; False when it was already closed or does not exist."""
        with self.engine.begin() as conn:
            return cases.close_case(conn, actor, now, case_id)

    def cases_of(self, vendor: str, external_id: str) -> list[tuple[int, str]]:
        """The open cases a ticket is in."""
        with reading(self.engine) as conn:
            return cases.cases_of(conn, vendor, external_id)

    def case_rows(self) -> list[CaseRow]:
        """Open cases, worst SLA state first."""
        with reading(self.engine) as conn:
            return cases.case_rows(conn)

    def case_detail(self, case_id: int) -> CaseDetail | None:
        """One case: members and merged timeline."""
        with reading(self.engine) as conn:
            return cases.case_detail(conn, case_id)

    # -- the collector lease ----------------------------------------------------------------

    def claim_collector(
        self, owner: str, now: datetime, stale_after: float, process_gone: ProcessGone
    ) -> str | None:
        """Take (or refresh) the collector lease; return the other live owner if there is one.

        A holder ``process_gone`` reports dead (killed on this host) need not be waited for.
        """
        with self.engine.begin() as conn:
            return lease.claim(conn, owner, now, stale_after, process_gone)

    def heartbeat(self, owner: str, now: datetime) -> None:
        """Renew the lease unconditionally (shared PostgreSQL mode: any live collector will do)."""
        with self.engine.begin() as conn:
            lease.heartbeat(conn, owner, now)

    @property
    def shared(self) -> bool:
        """True on PostgreSQL: several collectors may run, each vendor held by one of them."""
        return self.engine.dialect.name == "postgresql"

    def vendor_locks(self) -> VendorLocks:
        """Per-vendor advisory locks on a dedicated session (PostgreSQL only)."""
        return VendorLocks(self.engine)

    def release_collector(self, owner: str) -> None:
        """Give the lease up (on a clean exit), so viewers notice at once."""
        with self.engine.begin() as conn:
            lease.release(conn, owner)

    def live_collector(self, now: datetime, stale_after: float) -> str | None:
        """The owner of a fresh lease, or ``None`` when nobody is collecting."""
        with reading(self.engine) as conn:
            return lease.live_holder(conn, now, stale_after)

    def data_version(self) -> int | None:
        """SQLite's ``PRAGMA data_version`` (changes when another connection commits)."""
        if self.engine.dialect.name != "sqlite":
            return None
        try:
            with reading(self.engine) as conn:
                return int(conn.execute(text("PRAGMA data_version")).scalar_one())
        except SQLAlchemyError:
            return None

    # -- notifications: the transition log, its firings, acknowledgement ----------------------

    def transition_candidates(self, now: datetime, clocks: bool = True) -> TransitionCandidates:
        """What the notifier's next sweep may turn into notifications (``clocks``: the SLA
        clocks too, a scan of the running ones)."""
        with reading(self.engine) as conn:
            return notifications.candidates(conn, now, clocks)

    def clock_candidates(
        self, now: datetime, after: int, limit: int
    ) -> tuple[tuple[ClockCandidate, ...], int]:
        """One batch of the running clocks a sweep judges (ids above ``after``, at most
        ``limit``) and the last id read: the notifier sweeps a large tenant batch by batch."""
        with reading(self.engine) as conn:
            return notifications.clock_candidates(conn, now, after, limit)

    def record_notifications(
        self,
        items: Iterable[NewNotification],
        now: datetime,
        swept: TransitionCandidates | None = None,
    ) -> int:
        """Record transitions once each (and the sweep's marks); return how many were new."""
        with self.engine.begin() as conn:
            return notifications.record(conn, list(items), now, swept)

    def pending_notifications(self, limit: int = 200) -> list[NotificationView]:
        """Recorded transitions not yet matched against the rules."""
        with reading(self.engine) as conn:
            return notifications.pending(conn, limit)

    def dispatch_notification(
        self,
        notification_id: int,
        rules: list[str],
        sends: list[NewSend],
        now: datetime,
        muted: Sequence[MutedRule] = (),
    ) -> bool:
        """Mark a notification dispatched and queue its firings, atomically; False if taken.

        ``muted`` rules (the vendor's announced maintenance) are audited in the same commit.
        """
        with self.engine.begin() as conn:
            return notifications.dispatch(conn, notification_id, rules, sends, now, muted)

    def maintenance_now(
        self, vendors: Iterable[str], now: datetime
    ) -> dict[str, tuple[datetime, datetime]]:
        """The announced maintenance window each of these vendors is inside at ``now``."""
        with reading(self.engine) as conn:
            return maintenance.in_progress(conn, vendors, now)

    def add_notification_send(
        self, send: NewSend, now: datetime, action: NewAction | None = None
    ) -> int | None:
        """Record one firing (repeat, escalation, …) once, with its vendor action if any."""
        with self.engine.begin() as conn:
            return notifications.add_send(conn, send, now, action)

    def notification_sends_after(self, after_id: int, limit: int = 50) -> list[SendView]:
        """Firings a console has not shown yet, oldest first."""
        with reading(self.engine) as conn:
            return notifications.sends_after(conn, after_id, limit)

    def last_notification_send_id(self) -> int:
        """The newest firing's id."""
        with reading(self.engine) as conn:
            return notifications.last_send_id(conn)

    def notification_sends(self, notification_ids: list[int]) -> dict[int, list[SendView]]:
        """The firings of these notifications."""
        with reading(self.engine) as conn:
            return notifications.sends_of(conn, notification_ids)

    def open_notifications(self, limit: int = 1000) -> list[NotificationView]:
        """Dispatched, unacknowledged notifications."""
        with reading(self.engine) as conn:
            return notifications.open_notifications(conn, limit)

    def held_sends_due(self, now: datetime) -> list[SendView]:
        """Firings held by quiet hours that may go now."""
        with reading(self.engine) as conn:
            return notifications.held_due(conn, now)

    def release_held_sends(self, held_ids: list[int], digest: NewSend, now: datetime) -> bool:
        """Fire one digest for these held firings (once)."""
        with self.engine.begin() as conn:
            return notifications.release_held(conn, held_ids, digest, now)

    def acknowledge(
        self,
        actor: Actor,
        now: datetime,
        *,
        notification_id: int | None = None,
        ticket_id: int | None = None,
    ) -> int:
        """Acknowledge a notification or a ticket's open notifications (audited)."""
        with self.engine.begin() as conn:
            return notifications.acknowledge(
                conn, actor, now, notification_id=notification_id, ticket_id=ticket_id
            )

    def snooze(
        self,
        actor: Actor,
        now: datetime,
        until: datetime,
        *,
        notification_id: int | None = None,
        ticket_id: int | None = None,
    ) -> int:
        """Snooze a notification or a ticket's open notifications until ``until`` (audited)."""
        with self.engine.begin() as conn:
            return notifications.snooze(
                conn, actor, now, until, notification_id=notification_id, ticket_id=ticket_id
            )

    def notification_rows(self, limit: int = 300) -> list[NotificationView]:
        """The notifications pane: unacknowledged first, then recent."""
        with reading(self.engine) as conn:
            return notifications.notification_rows(conn, limit)

    def unacked_notifications(self) -> int:
        """How many notifications wait for an acknowledgement (header and wall)."""
        with reading(self.engine) as conn:
            return notifications.unacked_count(conn)

    # -- metrics: scorecards --------------------------------------------------------------

    def scorecards(
        self,
        periods: Sequence[tuple[datetime, datetime]],
        now: datetime,
        *,
        status_pages: Mapping[str, Sequence[str]] | None = None,
        backlog_periods: Sequence[int] = (),
    ) -> list[ScorecardRow]:
        """Every ticketing vendor's scorecard figures for each ``[start, end)`` period."""
        return scorecards.scorecards(
            lambda: reading(self.engine),
            periods,
            now,
            status_pages=status_pages,
            backlog_periods=backlog_periods,
        )

    # -- metrics: shift handover ----------------------------------------------------------

    def breaches_since(self, since: datetime, now: datetime) -> list[HandoverClock]:
        """Clocks that breached in ``[since, now]``, most recent first."""
        with reading(self.engine) as conn:
            return handovers.breaches_since(conn, since, now)

    def due_within(self, now: datetime, within: timedelta) -> list[HandoverClock]:
        """Running clocks due within ``within`` of ``now``, soonest first."""
        with reading(self.engine) as conn:
            return handovers.due_within(conn, now, within)

    def open_urgent(self) -> list[HandoverTicket]:
        """Open P1 and P2 tickets."""
        with reading(self.engine) as conn:
            return handovers.open_urgent(conn)

    def new_tickets(self, since: datetime) -> dict[str, int]:
        """Tickets created since ``since``, per vendor."""
        with reading(self.engine) as conn:
            return handovers.new_tickets(conn, since)

    def failed_actions(self) -> list[tuple[str, str | None, str, str | None, datetime]]:
        """Outbox actions that failed and wait on an operator."""
        with reading(self.engine) as conn:
            return handovers.failed_actions(conn)

    def cases_changed(self, since: datetime) -> list[tuple[int, str, bool]]:
        """Cases changed by an operator or a vendor since ``since``."""
        with reading(self.engine) as conn:
            return handovers.cases_changed(conn, since)

    def sign_handover(
        self, actor: Actor, now: datetime, since: datetime, note: str, summary: str
    ) -> int:
        """Store a signed handover (audited); return its id."""
        with self.engine.begin() as conn:
            return handovers.sign(conn, actor, now, since, note, summary)

    def acknowledge_handover(self, actor: Actor, now: datetime, handover_id: int) -> bool:
        """Acknowledge a handover (audited); False when it already was."""
        with self.engine.begin() as conn:
            return handovers.acknowledge(conn, actor, now, handover_id)

    def latest_handover(self) -> HandoverRecord | None:
        """The newest signed handover."""
        with reading(self.engine) as conn:
            return handovers.latest(conn)

    def pending_handover(self) -> HandoverRecord | None:
        """The newest handover not yet acknowledged."""
        with reading(self.engine) as conn:
            return handovers.pending(conn)

    def handover(self, handover_id: int) -> HandoverRecord | None:
        """One handover by id."""
        with reading(self.engine) as conn:
            return handovers.by_id(conn, handover_id)

    # -- metrics: time travel ---------------------------------------------------------------

    def as_of(self, at: datetime) -> Store:
        """The store as it stood at ``at``: every read answered from history, no write."""
        from paneglass.store.time_travel import StoreAsOf

        return StoreAsOf(self, at)

    def replay(
        self,
        steps: Iterable[tuple[str, PollResult, datetime]],
        *,
        per_commit: int = 50,
        pause: float = 0.0,
    ) -> int:
        """Apply recorded pages in order, each at its own instant, ``per_commit`` to a commit.

        Each step is what a collector would have committed at that instant (the
        clocks ticked first, as its SLA tick does), so a recorded run, or a
        history brought in from elsewhere, lands exactly as if it had been
        collected live. Short commits let a collector writing beside the replay
        (the demo's) wait for one of them, not for the whole history: between
        commits the replay stands aside while a writer of this process waits
        for the lock (SQLite's busy wait is not a queue: a replay that begins
        again at once can starve it). ``pause`` seconds between commits do the
        same for a writer in another process. Return how many steps were applied.
        """
        count = 0
        pending = iter(steps)
        while True:
            with self.engine.begin() as conn:
                applied = 0
                for vendor, result, now in pending:
                    writes.tick_clocks(conn, now)
                    vendor_id = vendors.vendor_row_id(conn, vendor)
                    writes.apply_batch(conn, vendor_id, vendor, result, None, now, self.sla)
                    applied += 1
                    if applied == per_commit:
                        break
            count += applied
            if applied < per_commit:
                return count
            yield_to_waiting_writers(self.engine)
            if pause:
                time.sleep(pause)

    # -- conversations and mirroring (issue #14) ----------------------------------------------

    def iter_entries(self, vendor: str | None = None) -> Iterator[dict[str, Any]]:
        """Every conversation entry (of one vendor), for export."""
        with reading(self.engine) as conn:
            yield from conversations.iter_entries(conn, vendor)

    def iter_attachments(self, vendor: str | None = None) -> Iterator[dict[str, Any]]:
        """Every attachment's metadata (of one vendor), for export."""
        with reading(self.engine) as conn:
            yield from conversations.iter_attachments(conn, vendor)

    def pending_mirrors(self, limit: int = 50) -> list[PendingMirror]:
        """Replies that arrived on mirrored tickets and wait to be copied (or not)."""
        with reading(self.engine) as conn:
            return mirroring.pending(conn, limit)

    def settle_mirror(
        self,
        entry_id: int,
        state: str,
        detail: str,
        now: datetime,
        copies: Iterable[tuple[Actor, NewAction]] = (),
    ) -> bool:
        """Settle a pending reply and queue its copies, in one commit; False if already settled."""
        with self.engine.begin() as conn:
            if not mirroring.settle(conn, entry_id, state, detail, now):
                return False
            for actor, action in copies:
                outbox.enqueue(conn, actor, now, action)
            return True

    # -- the exit pack (issue #14) ----------------------------------------------------------------

    def pack_vendors(self, vendor: str) -> list[dict[str, Any]]:
        """The vendor and every vendor its tickets are linked to (name, kind, base URL)."""
        with reading(self.engine) as conn:
            return exit_pack.vendors_of(conn, vendor)

    def iter_pack(self, kind: str, vendor: str) -> Iterator[dict[str, Any]]:
        """Every row of one kind of the vendor's exit pack (:mod:`paneglass.store.exit_pack`)."""
        with reading(self.engine) as conn:
            yield from exit_pack.pack_rows(conn, kind, vendor)

    def restore_pack(
        self,
        vendor: str,
        vendors: list[Mapping[str, Any]],
        rows: Mapping[str, Iterable[Mapping[str, Any]]],
    ) -> dict[str, int]:
        """Write an exit pack into this store in one transaction; return rows per kind."""
        with self.engine.begin() as conn:
            return exit_pack.restore(conn, vendor, vendors, rows)

    def schema_version(self) -> str | None:
        """The database's migration revision (``0004``)."""
        with reading(self.engine) as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

"""The collector: owns timing. One APScheduler job per vendor, one run at a time.

A poll streams ``connector.pages(cursor)`` on the event loop; each page is
committed in the single writer thread (so SQLite sees exactly one writer)
together with the cursor to resume after it, before the next page is asked
for; pages of several vendors that wait for the writer together share one
commit (:mod:`paneglass.collect.group_commit`). Memory stays bounded by a
page, and a poll that fails or is killed keeps every page committed before
it: the next one resumes from the last checkpoint. Failures are recorded as
poll runs too, and push the vendor's next run back: the vendor's Retry-After when it gave one, else
exponential backoff with full jitter. APScheduler 3.11's ``AsyncIOScheduler``
must be started inside a running loop (the Textual app's, or ``asyncio.run``).

The deadline rule: every HTTP request has its own overall deadline
(:data:`connectors.http.DEFAULT_DEADLINE`, 30 s). A poll has none as a whole:
one that keeps delivering pages runs as long as its backfill needs. A poll is
cancelled only when no page has arrived for :data:`STALL_SECONDS`, which
is what "stuck" means (the vendor's pacing waits at most a minute per request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from connectors import Connector, VendorConfig, load_connector
from connectors.errors import ConnectorError, RateLimited
from connectors.records import PollResult, Progress
from paneglass.collect.backoff import VendorGate
from paneglass.collect.group_commit import GroupCommit
from paneglass.collect.liveness import owner_name, process_gone
from paneglass.collect.notifier import Notifier
from paneglass.collect.outbox_sender import OutboxSender, SendReport
from paneglass.errors import UserError
from paneglass.notify.rules import NotifySettings
from paneglass.store import ChangeSet, PollRunInfo, Store
from paneglass.writeback.mirror import ReplyMirror

__all__ = ["Collector", "PollOutcome"]

log = logging.getLogger("paneglass.collector")

SLA_TICK_SECONDS = 5.0
OUTBOX_SECONDS = 1.0
"""How often the collector looks for queued write-back actions (an indexed query)."""
LEASE_STALE = 20.0
"""A collector lease not renewed for this long belongs to a dead process."""
STALL_SECONDS = 300.0
"""A poll with no new page for this long is stuck, and cancelled (see the module docstring)."""
NOTIFY_SECONDS = 1.0
"""How often the notifier sweeps for transitions and runs its timers."""


@dataclass(frozen=True)
class PollOutcome:
    """One vendor's poll, as ``collect --once`` reports it."""

    vendor: str
    ok: bool
    records: int
    seconds: float
    error: str | None = None
    change: ChangeSet | None = None
    skipped: bool = False
    """True when the vendor's gate (Retry-After, backoff, open circuit) held the poll back."""


class Collector:
    """Polls every enabled vendor on its interval and writes to the store."""

    def __init__(
        self,
        store: Store,
        vendors: tuple[VendorConfig, ...] | list[VendorConfig],
        *,
        on_change: Callable[[ChangeSet], None] | None = None,
        on_progress: Callable[[str, Progress], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stall_seconds: float = STALL_SECONDS,
        notify: NotifySettings | None = None,
        actions_allowed: bool = True,
    ) -> None:
        self.store = store
        self.vendors = [v for v in vendors if v.enabled]
        self.on_change = on_change
        self.on_progress = on_progress
        """Told after each committed page how far a vendor's read has come (progress bars)."""
        self.clock = clock
        self.stall_seconds = stall_seconds
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.group_commit = GroupCommit(store, self._write)
        """Commits the vendors' pages, those that wait for the writer together in one commit."""
        self._connectors: dict[str, Connector] = {}
        self.gates = {v.name: VendorGate(v.poll_interval) for v in self.vendors}
        """Per vendor: when it may be asked again."""
        self.owner = owner_name()
        """Who holds the collector lease while this collector runs."""
        self.locks = store.vendor_locks() if store.shared else None
        """PostgreSQL: per-vendor advisory locks, so collectors can fail over for each other."""
        self._scheduler: AsyncIOScheduler | None = None
        store.sync_vendors(vendors)
        self.notifier = Notifier(
            store,
            notify or NotifySettings(),
            self._write,
            clock,
            vendors=self.vendors,
            actions_allowed=actions_allowed,
        )
        """Records transitions once and fires the rules' channels."""
        self.sender = OutboxSender(
            store,
            self._write,
            self._connector_or_none,
            clock,
            self.owner,
            may_send=lambda vendor: (
                vendor in self.gates and self.gates[vendor].allows(time.monotonic())
            ),
            on_sent=self._after_action,
            deliver=self.notifier.deliver,
        )
        """Sends the write-back actions operators queue in the store, and notifications."""
        self.mirror = ReplyMirror(store, self.vendors, clock)
        """Queues replies written at a vendor for the tickets linked to theirs, once."""

    def _connector_or_none(self, name: str) -> Connector | None:
        if not any(v.name == name for v in self.vendors):
            return None
        return self.connector(name)

    def _after_action(self, vendor: str, limited: RateLimited | None) -> None:
        """After an action: honour a 429, or poll the vendor soon so its answer shows."""
        if limited is not None:
            self.gates[vendor].failed(limited, time.monotonic())
            return
        job = self._scheduler.get_job(f"vendor:{vendor}") if self._scheduler else None
        if job is not None:
            job.modify(next_run_time=self.clock() + timedelta(milliseconds=300))

    async def send_actions(self) -> SendReport:
        """Send every due outbox action once (the scheduler runs this every second).

        Replies that arrived on mirrored tickets are queued for the linked
        tickets first, so their copies leave in the same pass.
        """
        await self._write(self.mirror.settle_pending)
        report = await self.sender.send_due()
        if (report.sent or report.failed or report.settled) and self.on_change is not None:
            self.on_change(ChangeSet(vendor="", events=report.sent + report.failed))
        return report

    async def notify(self) -> int:
        """One notifier pass (the scheduler runs this every second)."""
        try:
            changed = await self.notifier.run()
        except Exception:  # a notification bug must not stop collecting
            log.exception("notifier pass failed")
            return 0
        if changed and self.on_change is not None:
            self.on_change(ChangeSet(vendor="", events=changed))
        if changed:
            self.send_soon()
        return changed

    def send_soon(self) -> None:
        """Look at the outbox now rather than within the second (an operator just acted)."""
        job = self._scheduler.get_job("outbox") if self._scheduler else None
        if job is not None:
            job.modify(next_run_time=self.clock())

    def connector(self, name: str) -> Connector:
        """The vendor's connector (built once, with its one long-lived client)."""
        if name not in self._connectors:
            config = next(v for v in self.vendors if v.name == name)
            cls = load_connector(config.kind)
            self._connectors[name] = cls(config, cls.make_client(config))
        return self._connectors[name]

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, fn, *args)

    async def poll_once(self, name: str) -> PollOutcome:
        """Poll one vendor to the end of its pagination, committing page by page."""
        config = next(v for v in self.vendors if v.name == name)
        gate = self.gates[name]
        if not gate.allows(time.monotonic()):
            return PollOutcome(name, False, 0, 0.0, "held back (Retry-After/backoff)", skipped=True)
        if self.locks is not None and not await self._write(self.locks.hold, name):
            return PollOutcome(name, False, 0, 0.0, "polled by another collector", skipped=True)
        started = self.clock()
        t0 = time.monotonic()
        totals = _PollTotals()
        error: ConnectorError | None = None
        try:
            cursor = await self._write(self.store.load_cursor, name)
            await self._stream(name, cursor, totals)
        except ConnectorError as exc:
            error = exc
        except TimeoutError:
            error = ConnectorError(f"no page for {self.stall_seconds:g} s: the poll was stuck")
        except Exception as exc:  # a connector bug must not stop the other vendors
            log.exception("connector %s failed unexpectedly", name)
            error = ConnectorError(f"internal error: {type(exc).__name__}")
        run = PollRunInfo(
            started_at=started,
            finished_at=self.clock(),
            ok=error is None,
            error_kind=error.kind if error else None,
            error_message=str(error) if error else None,
            http_status=error.http_status if error else None,
            requests=totals.requests,
            collector=self.owner,
            records_seen=totals.tickets,
            records_changed=totals.changed,
        )
        last = await self._write(self.store.apply, name, None, run, self.clock())
        seconds = time.monotonic() - t0
        self._after(config, error)
        if self.on_change is not None:
            self.on_change(last)
        change = totals.change(name, last)
        log.info(
            "poll %s %s records=%d changed=%d pages=%d seconds=%.2f%s",
            name,
            "ok" if error is None else "error",
            totals.records,
            totals.changed,
            totals.pages,
            seconds,
            f" error={error.kind}: {error}" if error else "",
        )
        return PollOutcome(
            name, error is None, totals.records, seconds, str(error) if error else None, change
        )

    async def _stream(self, name: str, cursor: Any, totals: _PollTotals) -> None:
        """Commit each page with its checkpoint, fetching the next one while it commits.

        At most two pages are held: the one committing and the one on its way. A
        vendor 50 ms away then waits for the network and for the writer at once,
        not one after the other. A page is still committed only after the one before
        it, so a killed poll resumes after its last committed page.
        """
        pages = self.connector(name).pages(cursor)
        ahead = asyncio.create_task(_next_page(pages))
        try:
            while True:
                async with asyncio.timeout(self.stall_seconds):
                    page = await ahead
                if page is None:
                    return
                ahead = asyncio.create_task(_next_page(pages))
                change = await self.group_commit.apply(name, page, self.clock())
                totals.add(page.requests, change, records=_records(page), tickets=len(page.tickets))
                if self.on_change is not None and (
                    change.added or change.updated or change.status_changed or change.entries
                ):
                    self.on_change(change)
                if self.on_progress is not None and page.progress is not None:
                    self.on_progress(name, page.progress)
        finally:
            ahead.cancel()  # nothing when it is done already
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # a page fetched after this poll failed: its error is moot
            await pages.aclose()

    def _after(self, config: VendorConfig, error: ConnectorError | None) -> None:
        """Open or close the vendor's gate and move its next run to when the gate opens."""
        gate = self.gates[config.name]
        if error is None:
            gate.succeeded()
            return
        delay = gate.failed(error, time.monotonic())
        job = self._scheduler.get_job(f"vendor:{config.name}") if self._scheduler else None
        if job is not None:
            job.modify(next_run_time=self.clock() + timedelta(seconds=delay))

    async def poll_all_once(self) -> list[PollOutcome]:
        """Send queued actions, poll every enabled vendor once, notify (``collect --once``)."""
        await self.send_actions()
        outcomes = list(await asyncio.gather(*(self.poll_once(v.name) for v in self.vendors)))
        await self.notify()
        await self.send_actions()
        return outcomes

    async def _tick_clocks(self) -> None:
        """Every few seconds: move clocks whose time has come, and renew the collector lease."""
        moved = await self._write(self.store.tick_clocks, self.clock())
        if self.store.shared:
            await self._write(self.store.heartbeat, self.owner, self.clock())
        else:
            other = await self._write(
                self.store.claim_collector, self.owner, self.clock(), LEASE_STALE, process_gone
            )
            if other is not None:
                log.warning("collector lease taken by %s; this process keeps polling", other)
        if moved and self.on_change is not None:
            self.on_change(ChangeSet(vendor="", events=moved))

    def claim(self) -> None:
        """Become the one collector of this store, or say who already is.

        On PostgreSQL several collectors may run (each vendor is held by one of
        them through an advisory lock), so there is nothing to refuse.
        """
        if self.store.shared:
            self.store.heartbeat(self.owner, self.clock())
            return
        other = self.store.claim_collector(self.owner, self.clock(), LEASE_STALE, process_gone)
        if other is not None:
            raise UserError(
                f"another collector is already writing to this database ({other}); "
                "run viewers instead, or stop it first"
            )

    def start(self) -> None:
        """Claim the lease and start polling; call from inside the running event loop."""
        self.claim()
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = self.clock()
        for index, vendor in enumerate(self.vendors):
            scheduler.add_job(
                self.poll_once,
                "interval",
                args=[vendor.name],
                seconds=vendor.poll_interval,
                jitter=min(vendor.poll_interval * 0.1, 5.0),
                id=f"vendor:{vendor.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(int(vendor.poll_interval), 1),
                next_run_time=now + timedelta(milliseconds=50 * index),
            )
        scheduler.add_job(
            self._tick_clocks,
            "interval",
            seconds=SLA_TICK_SECONDS,
            id="sla:tick",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.send_actions,
            "interval",
            seconds=OUTBOX_SECONDS,
            id="outbox",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.notify,
            "interval",
            seconds=NOTIFY_SECONDS,
            id="notify",
            max_instances=1,
            coalesce=True,
            next_run_time=now + timedelta(milliseconds=500),
        )
        scheduler.start()
        self._scheduler = scheduler

    async def aclose(self) -> None:
        """Stop the jobs, close every vendor client, release the writer thread."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for connector in self._connectors.values():
            await connector.client.aclose()
        self._connectors.clear()
        if self.locks is not None:
            self._writer.submit(self.locks.close).result()
        self._writer.shutdown(wait=True)
        self.store.release_collector(self.owner)


async def _next_page(pages: AsyncIterator[PollResult]) -> PollResult | None:
    """The connector's next page, or ``None`` after its last."""
    try:
        return await anext(pages)
    except StopAsyncIteration:
        return None


def _records(page: Any) -> int:
    """Records a page carried: tickets, plus components and incidents of a status snapshot."""
    count = len(page.tickets)
    if page.status is not None:
        count += len(page.status.components) + len(page.status.incidents)
    return int(count)


@dataclass
class _PollTotals:
    """What one streamed poll has committed so far."""

    pages: int = 0
    requests: int = 0
    records: int = 0
    tickets: int = 0
    changed: int = 0
    added: int = 0
    updated: int = 0
    events: int = 0
    status_changed: bool = False
    ticket_ids: set[int] = field(default_factory=set)

    def add(self, requests: int, change: ChangeSet, *, records: int, tickets: int) -> None:
        self.pages += 1
        self.requests += requests
        self.records += records
        self.tickets += tickets
        self.changed += change.added + change.updated
        self.added += change.added
        self.updated += change.updated
        self.events += change.events
        self.status_changed = self.status_changed or change.status_changed
        if len(self.ticket_ids) < 10_000:  # enough to say "these changed"; never the tenant
            self.ticket_ids.update(change.ticket_ids)

    def change(self, vendor: str, last: ChangeSet) -> ChangeSet:
        """The whole poll as one change set (for ``collect --once`` and the log)."""
        return ChangeSet(
            vendor=vendor,
            added=self.added,
            updated=self.updated,
            events=self.events,
            status_changed=self.status_changed,
            ok=last.ok,
            ticket_ids=frozenset(self.ticket_ids),
        )

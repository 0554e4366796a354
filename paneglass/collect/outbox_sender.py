"""Sends the outbox: the collector's side of write-back.

Each due action is claimed in the store before it goes to the vendor and its
answer is recorded after, so nothing is lost if the process dies and nothing
is sent by two processes. Retries are automatic only where a second send
cannot double the action: an idempotent change (status, assignee,
acknowledge, resolve), a request the vendor refused with 429 (not applied), or
a create the vendor can de-duplicate by correlation. Everything else that
fails waits for the operator's retry or cancel, with the vendor's reason.

Notification deliveries (webhook, e-mail, command) ride the same rows, claims
and settling: they carry an idempotency key on every attempt, so they are
always safe to send again, and are retried with backoff until the receiver
answers or refuses for good.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors import Connector
from connectors.actions import Action, ActionKind, ActionResult
from connectors.errors import ConnectorError, RateLimited, TransientError
from paneglass.collect.liveness import process_gone
from paneglass.notify.delivery import Delivery, DeliveryError, PermanentError
from paneglass.store import OutboxItem, Store

__all__ = ["MAX_ATTEMPTS", "OutboxSender", "SendReport"]

log = logging.getLogger("paneglass.outbox")

MAX_ATTEMPTS = 8
BACKOFF_BASE = 5.0
BACKOFF_CAP = 300.0


@dataclass(frozen=True)
class SendReport:
    """What one pass over the outbox did (for logs and ``collect --once``)."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    settled: int = 0


Write = Callable[..., Awaitable[Any]]
"""Runs a blocking store call in the collector's single writer thread."""


class OutboxSender:
    """Sends due outbox actions through the vendors' connectors."""

    def __init__(
        self,
        store: Store,
        write: Write,
        connector_for: Callable[[str], Connector | None],
        clock: Callable[[], datetime],
        owner: str,
        *,
        may_send: Callable[[str], bool] = lambda vendor: True,
        on_sent: Callable[[str, RateLimited | None], None] = lambda vendor, limited: None,
        deliver: Callable[[OutboxItem], Awaitable[str]] | None = None,
    ) -> None:
        self.store = store
        self.write = write
        self.connector_for = connector_for
        self.clock = clock
        self.owner = owner
        self.may_send = may_send
        """False while a vendor's gate is shut (Retry-After, open circuit): the action waits."""
        self.on_sent = on_sent
        """Told after a sent action (the collector polls the vendor soon) or a 429 (it waits)."""
        self.deliver = deliver
        """Sends a notification delivery through its channel (the collector's notifier)."""

    def safe_to_resend(self, vendor: str, payload: str) -> bool:
        """Would sending this stored action a second time leave the vendor as sending it once?"""
        if Delivery.is_delivery(payload):
            return True  # the idempotency key goes with every attempt
        try:
            action = Action.from_json(payload)
        except (ValueError, TypeError, KeyError):
            return False
        return _resend_safe(action, self.connector_for(vendor))

    async def send_due(self) -> SendReport:
        """One pass: settle what a dead sender left, then send every due action once.

        Settling runs every pass (an indexed look at ``sending`` rows), so actions
        a collector on another host left behind are picked up when it fails over.
        """
        settled = await self.write(
            self.store.settle_interrupted,
            self.clock(),
            self.owner,
            self.safe_to_resend,
            process_gone,
        )
        sent = failed = deferred = 0
        for item in await self.write(self.store.due_actions, self.clock()):
            if item.channel is not None:
                if self.deliver is None:
                    continue  # this collector has no notifier: another one delivers it
                if not await self.write(self.store.claim_action, item.id, self.clock(), self.owner):
                    continue
                if await self._deliver(item):
                    sent += 1
                else:
                    failed += 1
                continue
            if not self.may_send(item.vendor):
                deferred += 1
                continue
            if not await self.write(self.store.claim_action, item.id, self.clock(), self.owner):
                continue
            if await self._send(item):
                sent += 1
            else:
                failed += 1
        return SendReport(sent, failed, deferred, settled)

    async def _deliver(self, item: OutboxItem) -> bool:
        """One notification delivery; retried with backoff unless the receiver refused."""
        assert self.deliver is not None
        try:
            answer = await self.deliver(item)
        except PermanentError as exc:
            await self._fail(item, str(exc), None, None)
            return False
        except DeliveryError as exc:
            attempt = item.attempts + 1
            retry_at = None
            if attempt < MAX_ATTEMPTS:
                wait = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP)
                retry_at = self.clock() + timedelta(seconds=wait)
            await self._fail(item, str(exc), None, retry_at)
            return False
        except Exception as exc:  # a channel bug must not stop the outbox
            log.exception("delivery %s failed unexpectedly", item.id)
            await self._fail(item, f"internal error: {type(exc).__name__}", None, None)
            return False
        await self.write(self.store.action_sent, item.id, self.clock(), answer, None, None)
        log.info("delivery %s %s: %s", item.id, item.channel, answer)
        return True

    async def _send(self, item: OutboxItem) -> bool:
        connector = self.connector_for(item.vendor)
        try:
            action = Action.from_json(item.payload)
        except (ValueError, TypeError, KeyError) as exc:
            await self._fail(item, f"unreadable action: {exc}", None, None)
            return False
        if connector is None:
            await self._fail(item, f"vendor {item.vendor!r} is not configured here", None, None)
            return False
        try:
            result = await self._perform(connector, action, item)
        except ConnectorError as exc:
            retry_at = self._retry_at(item, action, connector, exc)
            await self._fail(item, str(exc), exc.http_status, retry_at)
            if isinstance(exc, RateLimited):
                self.on_sent(item.vendor, exc)  # the vendor's gate honours it for polls too
            return False
        except Exception as exc:  # a connector bug must not stop the outbox
            log.exception("action %s to %s failed unexpectedly", item.id, item.vendor)
            await self._fail(item, f"internal error: {type(exc).__name__}", None, None)
            return False
        created = (result.created_id, result.created_key) if result.created_id else None
        await self.write(
            self.store.action_sent,
            item.id,
            self.clock(),
            result.summary,
            result.http_status,
            created,
        )
        log.info("action %s %s to %s: %s", item.id, item.kind, item.vendor, result.summary)
        self.on_sent(item.vendor, None)
        return True

    async def _perform(
        self, connector: Connector, action: Action, item: OutboxItem
    ) -> ActionResult:
        """A retried create first asks the vendor whether the first attempt landed."""
        # ``item`` was read before this claim: attempts counts the earlier tries.
        if action.kind is ActionKind.CREATE and item.attempts >= 1 and connector.create_dedupe:
            existing = await connector.find_existing(action)
            if existing is not None:
                return existing
        return await connector.perform(action)

    def _retry_at(
        self, item: OutboxItem, action: Action, connector: Connector, error: ConnectorError
    ) -> datetime | None:
        """When to try again by itself, or ``None`` to leave it to the operator."""
        attempt = item.attempts + 1  # ``item`` was read before this attempt's claim
        if attempt >= MAX_ATTEMPTS:
            return None
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else BACKOFF_BASE
        elif isinstance(error, TransientError) and _resend_safe(action, connector):
            wait = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP)
        else:
            return None
        return self.clock() + timedelta(seconds=max(wait, 1.0))

    async def _fail(
        self, item: OutboxItem, reason: str, http_status: int | None, retry_at: datetime | None
    ) -> None:
        log.warning("action %s %s to %s failed: %s", item.id, item.kind, item.vendor, reason)
        await self.write(
            self.store.action_failed, item.id, self.clock(), reason, http_status, retry_at
        )


def _resend_safe(action: Action, connector: Connector | None) -> bool:
    """Idempotent, or a create the vendor can be asked about first: cannot double."""
    if action.idempotent:
        return True
    return (
        action.kind is ActionKind.CREATE
        and connector is not None
        and connector.create_dedupe is not None
    )

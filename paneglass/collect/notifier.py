"""The collector's notifier: record transitions, apply the rules, run the timers, deliver.

One pass a second (an APScheduler job beside the outbox's):

1. **sweep** — :func:`~paneglass.collect.transitions.detect` over the store,
   each transition recorded once in the notification log;
2. **dispatch** — every pending notification matched against the rules, and
   marked dispatched in the same transaction that records its firings (and
   queues its external deliveries in the outbox): a crash before the commit
   leaves it pending for the next pass, by this collector or another;
3. **timers** — unacknowledged notifications fire again (``repeat``), fire
   another rule's channels (``escalate_after``), or queue a write-back action
   at the vendor (``act_after``: a comment, an assignment, or raising the
   priority, which never lowers one: a ticket already at or above the target
   gets nothing, and its log says so); firings held by quiet hours go out as one
   digest when the quiet time ends. Each firing has a dedupe key, so two
   collectors deciding the same firing record it once.

External channels are delivered by the outbox sender through :meth:`Notifier.deliver`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind
from connectors.errors import ConnectorError
from connectors.records import Priority
from paneglass.collect.transitions import detect, detect_clocks
from paneglass.notify.command import run_command
from paneglass.notify.delivery import Delivery, PermanentError
from paneglass.notify.email import send_email
from paneglass.notify.events import event_body, headline
from paneglass.notify.rules import EscalationAction, NotifySettings, Rule
from paneglass.notify.webhook import send_webhook
from paneglass.store import (
    MutedRule,
    NewAction,
    NewDelivery,
    NewSend,
    NotificationView,
    OutboxItem,
    SendView,
    Store,
)

__all__ = ["ActionPlan", "Notifier", "plan_action"]

log = logging.getLogger("paneglass.notify")

Write = Callable[..., Awaitable[Any]]

CLOCK_SWEEP = timedelta(seconds=4)
"""How often the SLA clocks are scanned for transitions (a crossing shows within seconds)."""
CLOCK_BATCH = 1000
"""Running clocks a sweep reads and records at a time: memory stays bounded by a batch,
never by the tenant (9 vendors x 100,000 tickets find most clocks breached at first)."""


@dataclass(frozen=True)
class ActionPlan:
    """What an escalation action would send at the vendor, or why it cannot (or need not)."""

    action: NewAction | None
    dry_run: str
    refused: str | None = None
    needless: str | None = None
    """Why nothing is to be done: the ticket is already at or above the raised priority."""


def plan_action(
    rule: Rule,
    spec: EscalationAction,
    vendor: VendorConfig | None,
    external_id: str,
    key: str | None,
    current: str | None = None,
) -> ActionPlan:
    """The outbox action an escalation queues, with its dry run (nothing is sent).

    ``current`` is the ticket's priority as the store holds it (``P1``..``P5`` or
    ``None``): raising the priority never lowers it, so a ticket already at or above
    the rule's ``act_priority`` (P1 is the highest) gets no action, only a reason.
    A ticket without a known priority is raised.
    """
    if vendor is None:
        return ActionPlan(None, "", "the vendor is not configured in this collector")
    if spec.kind == "raise-priority":
        target = Priority(spec.priority)
        now = _known(current)
        if now is not None and _rank(now) <= _rank(target):
            return ActionPlan(None, "", needless=f"already {now.value}, at or above {target.value}")
        action = Action(ActionKind.SET_PRIORITY, external_id, key, priority=target)
    elif spec.kind == "comment":
        action = Action(ActionKind.COMMENT, external_id, key, text=spec.text, public=False)
    else:
        action = Action(ActionKind.ASSIGN, external_id, key, assignee=spec.assignee)
    connector = load_connector(vendor.kind)
    if action.kind not in connector.supported_actions:
        return ActionPlan(None, "", f"{vendor.kind} does not support {action.kind.label}")
    try:
        planned = connector.plan_action(vendor, action)
    except ConnectorError as exc:
        return ActionPlan(None, "", str(exc))
    dry_run = "\n\n".join(p.describe() for p in planned)
    new = NewAction(
        vendor=vendor.name,
        kind=action.kind.value,
        payload=action.to_json(),
        summary=f"escalation ({rule.name}): {action.summary()}",
        detail=dry_run,
        external_id=external_id,
        ticket_key=key,
    )
    return ActionPlan(new, dry_run)


def _known(priority: str | None) -> Priority | None:
    """The store's priority as a :class:`Priority` (``None``: unknown)."""
    try:
        return Priority(priority) if priority else None
    except ValueError:
        return None


def _rank(priority: Priority) -> int:
    """1 for P1 (the highest) … 5 for P5."""
    return int(priority.value[1:])


def _key(dedupe: str, channel: str) -> str:
    """The idempotency key of one delivery: stable for every attempt, unique per firing."""
    return "paneglass-" + f"{dedupe}-{channel}".replace(":", "-").replace(" ", "_")


class Notifier:
    """Turns what the store records into notifications, once each."""

    def __init__(
        self,
        store: Store,
        settings: NotifySettings,
        write: Write,
        clock: Callable[[], datetime],
        *,
        vendors: tuple[VendorConfig, ...] | list[VendorConfig] = (),
        actions_allowed: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.write = write
        self.clock = clock
        self.vendors = {v.name: v for v in vendors}
        self.actions_allowed = actions_allowed
        """False in a read-only console's collector: escalations never act at a vendor."""
        self._clock_swept: datetime | None = None
        self.started = clock()
        """When this collector began watching: stale vendors get a window to be polled first."""

    # -- one pass ---------------------------------------------------------------------------

    async def run(self) -> int:
        """Sweep, dispatch, timers; return how many firings and records this pass made."""
        recorded = await self.sweep()
        dispatched = await self.dispatch()
        fired = await self.timers()
        return recorded + dispatched + fired

    async def sweep(self) -> int:
        """Record every transition since the last sweep (each once).

        The SLA clocks are scanned every :data:`CLOCK_SWEEP` of the collector's clock
        (the store's tick moves them on the same beat); the rest every pass.
        """
        now = self.clock()
        clocks = self._clock_swept is None or now - self._clock_swept >= CLOCK_SWEEP
        if clocks:
            self._clock_swept = now
        candidates = await self.write(self.store.transition_candidates, now, False)
        health = await self.write(self.store.vendor_health)
        found = detect(candidates, health, self.started)
        if not clocks:
            return int(await self.write(self.store.record_notifications, found, now, candidates))
        # The clocks in batches (a first sweep of a large tenant finds most of it breached);
        # the sweep's marks move with the last batch only, so a sweep cut short leaves the
        # rest to the next one, judged as this one would have (baseline or news).
        candidates = replace(candidates, clocks_swept=True)
        recorded, after = 0, 0
        while True:
            batch, after = await self.write(self.store.clock_candidates, now, after, CLOCK_BATCH)
            last = len(batch) < CLOCK_BATCH
            found += detect_clocks(replace(candidates, clocks=batch))
            recorded += int(
                await self.write(
                    self.store.record_notifications, found, now, candidates if last else None
                )
            )
            if last:
                return recorded
            found = []

    async def dispatch(self) -> int:
        """Match pending notifications against the rules and fire their channels."""
        done = 0
        for item in await self.write(self.store.pending_notifications):
            now = self.clock()
            rules = self.settings.matching(item)
            muted = await self._muted(item, rules, now)
            quiet = {m.rule for m in muted}
            rules = [r for r in rules if r.name not in quiet]
            sends = [
                self.firing(item, rule, "first", f"first:{item.id}:{rule.name}", now)
                for rule in rules
            ]
            won = await self.write(
                self.store.dispatch_notification,
                item.id,
                [r.name for r in rules],
                sends,
                now,
                muted,
            )
            if won and rules:
                done += 1
                log.info(
                    "notification %s %s: %s", item.id, item.event, ", ".join(r.name for r in rules)
                )
        return done

    async def _muted(
        self, item: NotificationView, rules: list[Rule], now: datetime
    ) -> list[MutedRule]:
        """The rules that stay quiet about this ticket: its vendor's maintenance is running."""
        muting = [r for r in rules if r.mute_in_maintenance]
        if not muting or item.ticket_id is None or item.vendor is None:
            return []
        window = (await self.write(self.store.maintenance_now, [item.vendor], now)).get(item.vendor)
        if window is None:
            return []
        return [MutedRule(r.name, item.event, item.vendor, item.ticket_key, window) for r in muting]

    def firing(
        self, item: NotificationView, rule: Rule, kind: str, dedupe: str, now: datetime
    ) -> NewSend:
        """One firing of ``rule``'s channels for ``item`` (held in the rule's quiet hours)."""
        summary = headline(item)
        held = rule.quiet.until(now) if rule.quiet is not None else None
        deliveries = tuple(
            NewDelivery(
                channel=channel,
                payload=Delivery(
                    channel,
                    rule.name,
                    _key(dedupe, channel),
                    event_body(item, rule=rule.name, kind=kind, key=_key(dedupe, channel)),
                ).to_json(),
                summary=f"{channel} · {rule.name}: {summary}"[:300],
                idempotency_key=_key(dedupe, channel),
            )
            for channel in rule.remote
        )
        return NewSend(
            dedupe=dedupe,
            rule=rule.name,
            kind=kind,
            notification_id=item.id,
            local=rule.local,
            remote=" ".join(rule.remote),
            summary=summary,
            held_until=held,
            deliveries=deliveries,
        )

    async def timers(self) -> int:
        """Repeats, escalations, escalation actions and quiet-hours digests that are due."""
        fired = 0
        now = self.clock()
        open_items = await self.write(self.store.open_notifications)
        timed = [
            item
            for item in open_items
            if any(self._timed(self.settings.rule(name)) for name in item.rule_names)
        ]
        sends = (
            await self.write(self.store.notification_sends, [i.id for i in timed]) if timed else {}
        )
        for item in timed:
            if item.quiet(now):
                continue
            for name in item.rule_names:
                rule = self.settings.rule(name)
                if rule is None:
                    continue
                fired += await self._repeat(item, rule, sends.get(item.id, []), now)
                fired += await self._escalate(item, rule, now)
                fired += await self._act(item, rule, now)
        fired += await self._digests(now)
        return fired

    @staticmethod
    def _timed(rule: Rule | None) -> bool:
        return rule is not None and bool(rule.repeat or rule.escalate_after or rule.action)

    async def _repeat(
        self, item: NotificationView, rule: Rule, sends: list[SendView], now: datetime
    ) -> int:
        if rule.repeat is None:
            return 0
        mine = [s for s in sends if s.rule == rule.name and s.kind in ("first", "repeat")]
        if not mine or any(s.state == "held" for s in mine):
            return 0
        if now - max(s.created_at for s in mine) < rule.repeat:
            return 0
        if rule.quiet is not None and rule.quiet.until(now) is not None:
            return 0  # quiet now: the digest will carry it
        dedupe = f"repeat:{item.id}:{rule.name}:{len(mine)}"
        send = self.firing(item, rule, "repeat", dedupe, now)
        return 1 if await self.write(self.store.add_notification_send, send, now) else 0

    async def _escalate(self, item: NotificationView, rule: Rule, now: datetime) -> int:
        if rule.escalate_after is None or rule.escalate_to is None:
            return 0
        if now - item.recorded_at < rule.escalate_after:
            return 0
        target = self.settings.rule(rule.escalate_to)
        if target is None:
            return 0
        dedupe = f"escalate:{item.id}:{rule.name}"
        send = self.firing(item, target, "escalation", dedupe, now)
        return 1 if await self.write(self.store.add_notification_send, send, now) else 0

    async def _act(self, item: NotificationView, rule: Rule, now: datetime) -> int:
        spec = rule.action
        if spec is None or item.ticket_id is None or now - item.recorded_at < spec.after:
            return 0
        dedupe = f"act:{item.id}:{rule.name}"
        detail = await self.write(self.store.ticket_detail, item.ticket_id)
        if detail is None:
            return 0
        plan = plan_action(
            rule,
            spec,
            self.vendors.get(detail.vendor),
            detail.external_id,
            detail.key,
            detail.priority,
        )
        action = plan.action if self.actions_allowed else None
        if not self.actions_allowed:
            what = f"{spec.kind}: not sent (read-only console)"
        elif plan.needless:
            what = f"{spec.kind}: nothing to do ({plan.needless})"
        elif plan.refused:
            what = f"{spec.kind}: refused ({plan.refused})"
        else:
            what = plan.action.summary if plan.action else spec.kind
        send = NewSend(
            dedupe=dedupe,
            rule=rule.name,
            kind="action",
            notification_id=item.id,
            local="",
            remote="",
            summary=f"{headline(item)} — {what}"[:300],
        )
        return 1 if await self.write(self.store.add_notification_send, send, now, action) else 0

    async def _digests(self, now: datetime) -> int:
        held = await self.write(self.store.held_sends_due, now)
        by_rule: dict[tuple[str, datetime | None], list[SendView]] = {}
        for send in held:
            by_rule.setdefault((send.rule, send.due_at), []).append(send)
        fired = 0
        for (name, due_at), group in by_rule.items():
            rule = self.settings.rule(name)
            if rule is None:
                continue
            dedupe = f"digest:{name}:{due_at.isoformat() if due_at else ''}"
            count = len(group)
            summary = (
                f"{count} notification{'s' if count != 1 else ''} held in quiet hours: "
                + "; ".join(s.summary for s in group[:5])
                + (" …" if count > 5 else "")
            )
            body = {
                "event": "digest",
                "rule": name,
                "firing": "digest",
                "summary": summary[:500],
                "detail": f"quiet hours {rule.quiet} ended",
                "items": [s.summary for s in group],
            }
            deliveries = tuple(
                NewDelivery(
                    channel=channel,
                    payload=Delivery(
                        channel,
                        name,
                        _key(dedupe, channel),
                        {**body, "idempotency_key": _key(dedupe, channel)},
                    ).to_json(),
                    summary=f"{channel} · {name}: {summary}"[:300],
                    idempotency_key=_key(dedupe, channel),
                )
                for channel in rule.remote
            )
            digest = NewSend(
                dedupe=dedupe,
                rule=name,
                kind="digest",
                notification_id=None,
                local=rule.local,
                remote=" ".join(rule.remote),
                summary=summary[:500],
                deliveries=deliveries,
            )
            if await self.write(self.store.release_held_sends, [s.id for s in group], digest, now):
                fired += 1
        return fired

    # -- external channels (called by the outbox sender) ---------------------------------------

    async def deliver(self, item: OutboxItem) -> str:
        """Send one queued delivery through its channel; the receiver's answer in one line."""
        try:
            delivery = Delivery.from_json(item.payload)
        except (ValueError, TypeError, KeyError):
            raise PermanentError("unreadable notification delivery") from None
        rule = self.settings.rule(delivery.rule)
        if rule is None:
            raise PermanentError(f"rule {delivery.rule!r} is no longer in the config")
        if delivery.channel == "webhook" and rule.webhook is not None:
            return await send_webhook(
                rule.webhook, delivery.event, delivery.key, deadline=self.settings.webhook_timeout
            )
        if delivery.channel == "email" and self.settings.smtp is not None:
            return await send_email(self.settings.smtp, rule.email_to, delivery.event, delivery.key)
        if delivery.channel == "command" and rule.command:
            return await run_command(
                rule.command, delivery.event, delivery.key, deadline=self.settings.command_timeout
            )
        raise PermanentError(f"rule {rule.name!r} has no {delivery.channel} channel any more")

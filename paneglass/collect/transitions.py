"""Finding transitions: what moved into a worse state since the last sweep.

The collector sweeps the store every second (:class:`~paneglass.collect.notifier.Notifier`)
and records each transition once in the notification log. The sweep is
level-triggered: it looks at where things stand now and at what the log
already holds, so a transition a killed collector never got to is found by
the next sweep, by whichever collector makes it.

* A running clock's level is judged live from its stored times (at risk,
  near breach, breached); a level the log does not hold for that clock (nor a
  higher one) is a transition. A clock first seen already past a level is
  the vendor's backlog when its ticket arrived with the vendor's first sync:
  recorded as *baseline*, never announced (a first start does not page
  anyone for last month's breaches); after the first sync it is announced
  (a ticket created and breached while no collector ran is news).
* A new P1/P2 ticket after the vendor's first sync; a status-page component
  that is not operational (one episode per change of the component); an open
  incident; a stale or failing connector (one episode per good poll before
  it); a failed write-back action; a case change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from paneglass.collect.freshness import Freshness, freshness
from paneglass.notify.events import Event
from paneglass.store import (
    ClockCandidate,
    NewNotification,
    TransitionCandidates,
    VendorCandidate,
    VendorHealth,
)

__all__ = ["clock_level", "detect", "detect_clocks"]

_LEVELS = (Event.SLA_AT_RISK, Event.SLA_NEAR_BREACH, Event.SLA_BREACHED)


def clock_level(clock: ClockCandidate, now: datetime) -> int:
    """0 ok, 1 at risk, 2 near breach, 3 breached: the stored state, or its times if later."""
    running = not clock.paused
    if clock.state == "breached" or (running and clock.due_at is not None and clock.due_at <= now):
        return 3
    near = clock.near_breach_at
    if clock.state == "near_breach" or (running and near is not None and near <= now):
        return 2
    risk = clock.at_risk_at
    if clock.state == "at_risk" or (running and risk is not None and risk <= now):
        return 1
    return 0


def _target(seconds: int) -> str:
    delta = timedelta(seconds=seconds)
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}h{minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


def _clock_notifications(
    candidates: TransitionCandidates, first_ok: dict[str, datetime | None]
) -> Iterable[NewNotification]:
    now = candidates.now
    for clock in candidates.clocks:
        level = clock_level(clock, now)
        if level == 0:
            continue
        event = _LEVELS[level - 1]  # the store gave only clocks whose level is not logged
        first_sight = candidates.swept_at is None or clock.ticket_id > candidates.last_ticket_id
        vendor_ok = first_ok.get(clock.vendor)
        backlog = vendor_ok is None or clock.first_seen_at <= vendor_ok
        when = {
            3: clock.breach_at or clock.due_at,
            2: clock.near_breach_at,
            1: clock.at_risk_at,
        }[level]
        verb = {3: "breached its", 2: "is near breach of its", 1: "is at risk of its"}[level]
        yield NewNotification(
            subject=f"ticket:{clock.ticket_id}",
            clock=clock.metric,
            cycle=clock.cycle,
            event=event.value,
            occurred_at=min(when or now, now),
            ticket_id=clock.ticket_id,
            vendor=clock.vendor,
            ticket_key=clock.key,
            priority=clock.priority,
            group_name=clock.group_name,
            policy=clock.policy,
            title=clock.title,
            detail=f"{clock.metric} clock {verb} {_target(clock.target_seconds)} target"
            f" ({clock.policy})",
            baseline=first_sight and backlog,
        )


def _vendor_notifications(
    vendor: VendorCandidate, health: VendorHealth | None, now: datetime, watching_since: datetime
) -> Iterable[NewNotification]:
    """Status-page and connector news: a status answer older than the vendor's stale window
    (kept from before a restart, or replayed from history) announces nothing."""
    subject = f"vendor:{vendor.name}"
    window = timedelta(seconds=health.poll_interval * health.stale_after) if health else None
    fetched = vendor.status_fetched_at
    old_news = window is not None and fetched is not None and now - fetched > window
    for external_id, name, state, updated_at in () if old_news else vendor.components:
        yield NewNotification(
            subject=subject,
            clock=f"component:{external_id}",
            cycle=int(updated_at.timestamp()) if updated_at is not None else 0,
            event=Event.VENDOR_DEGRADED.value,
            occurred_at=min(updated_at or now, now),
            vendor=vendor.name,
            title=f"{name} {state.replace('_', ' ')}",
            detail=vendor.description or "",
        )
    for external_id, name, impact in () if old_news else vendor.incidents:
        yield NewNotification(
            subject=subject,
            clock=f"incident:{external_id}",
            event=Event.VENDOR_INCIDENT.value,
            occurred_at=now,
            vendor=vendor.name,
            title=name,
            detail=f"impact {impact}",
        )
    if health is None:
        return
    assert window is not None  # computed above from this same health
    state = freshness(health, now)
    if state is Freshness.STALE and now - watching_since <= window:
        return  # this collector has not had a stale window of its own to poll the vendor in
    if state in (Freshness.STALE, Freshness.FAILING):
        event = Event.CONNECTOR_STALE if state is Freshness.STALE else Event.CONNECTOR_FAILING
        reason = health.last_error_message or health.last_error_kind or "no good poll"
        yield NewNotification(
            subject=subject,
            cycle=vendor.last_ok_run_id,
            event=event.value,
            occurred_at=now,
            vendor=vendor.name,
            title=f"{vendor.name} {state.value}",
            detail=reason,
        )


def detect_clocks(candidates: TransitionCandidates) -> list[NewNotification]:
    """The transitions of ``candidates.clocks`` alone (a batch of a sweep's clocks)."""
    first_ok = {v.name: v.first_ok_at for v in candidates.vendors}
    return list(_clock_notifications(candidates, first_ok))


def detect(
    candidates: TransitionCandidates,
    health: list[VendorHealth],
    watching_since: datetime,
) -> list[NewNotification]:
    """Every transition in ``candidates`` (the store drops the ones it already holds).

    ``watching_since``: when this collector began; a vendor is announced stale only once
    the collector has had a whole stale window to poll it (a start after a quiet weekend
    finds every vendor stale until its first poll, which is not news). Failing is news
    at once."""
    now = candidates.now
    found = detect_clocks(candidates)
    for tid, name, key, title, priority, group, done in candidates.new_tickets:
        if done:  # a vendor's first sync is its backlog, not news
            found.append(
                NewNotification(
                    subject=f"ticket:{tid}",
                    event=Event.TICKET_NEW.value,
                    occurred_at=now,
                    ticket_id=tid,
                    vendor=name,
                    ticket_key=key,
                    priority=priority,
                    group_name=group,
                    title=title,
                    detail=f"new {priority} ticket at {name}",
                )
            )
    by_name = {h.name: h for h in health}
    for vendor in candidates.vendors:
        found.extend(_vendor_notifications(vendor, by_name.get(vendor.name), now, watching_since))
    for outbox_id, target, action_key, summary, attempts, reason in candidates.failed_actions:
        found.append(
            NewNotification(
                subject=f"outbox:{outbox_id}",
                cycle=attempts,
                event=Event.OUTBOX_FAILED.value,
                occurred_at=now,
                vendor=target,
                ticket_key=action_key,
                title=summary,
                detail=reason or "",
            )
        )
    for audit_id, case_id, title, action, detail in candidates.case_changes:
        found.append(
            NewNotification(
                subject=f"case:{case_id}",
                cycle=audit_id,
                event=Event.CASE_CHANGED.value,
                occurred_at=now,
                title=f"case {case_id} {title}",
                detail=f"{action}: {detail or ''}".strip(": "),
            )
        )
    return found

"""The notification log: transitions recorded once, their firings, acknowledgement and snooze.

Exactly once, across restarts, many viewers and collector fail-over:

* a transition is a row unique on (subject, clock, cycle, event); recording
  is ``INSERT … ON CONFLICT DO NOTHING``, so two collectors that both see it
  leave one row;
* a row is dispatched (rules matched, firings and outbox deliveries queued)
  by a conditional ``UPDATE … WHERE state = 'pending'`` in the same
  transaction as everything it queues: whoever wins that update queues it,
  the other changes nothing, and a crash before the commit leaves it pending;
* every later firing (repeat, escalation, digest, escalation action) has a
  ``dedupe`` key of its own, unique in the table;
* consoles follow the firings (ids only grow) and show each one once.

External deliveries are outbox rows (``vendor_id`` NULL, ``channel`` set), so
the collector's outbox sender claims, sends, retries and settles them like
write-back actions, with an idempotency key sent on every attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from paneglass.store.inputs import Actor, NewAction
from paneglass.store.notification_views import (
    ClockCandidate,
    MutedRule,
    NewNotification,
    NewSend,
    NotificationView,
    SendView,
    TransitionCandidates,
    VendorCandidate,
)
from paneglass.store.outbox import audit, enqueue
from paneglass.store.tables import (
    AUDIT,
    CASES,
    CLOCKS,
    COMPONENTS,
    INCIDENTS,
    NOTIFICATIONS,
    NOTIFIER,
    OUTBOX,
    RUNS,
    SENDS,
    STATUS,
    TICKETS,
    VENDORS,
)

__all__ = [
    "SLA_EVENTS",
    "acknowledge",
    "add_send",
    "candidates",
    "clock_candidates",
    "dispatch",
    "held_due",
    "last_send_id",
    "notification_rows",
    "notify_viewers",
    "open_notifications",
    "pending",
    "record",
    "release_held",
    "sends_after",
    "sends_of",
    "snooze",
    "unacked_count",
]

SLA_EVENTS = ("sla-at-risk", "sla-near-breach", "sla-breached")
_SYSTEM = Actor("paneglass", None)
"""The audit log's actor for what paneglass does by a rule, not for an operator."""
"""The SLA events, in the order a running clock climbs through them."""


def _insert(conn: Connection, table: Any) -> Any:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def notify_viewers(conn: Connection) -> None:
    """PostgreSQL viewers LISTEN; SQLite viewers see ``data_version`` move on commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify('paneglass', 'notify')"))


# -- the detector's side --------------------------------------------------------------------


def candidates(conn: Connection, now: datetime, clocks: bool = True) -> TransitionCandidates:
    """What may have changed since the last sweep, in one read.

    ``clocks`` includes the SLA clocks (a scan of the running ones; the collector does it
    every few seconds, the cheap rest every second).
    """
    state = conn.execute(
        select(NOTIFIER.c.swept_at, NOTIFIER.c.last_ticket_id, NOTIFIER.c.last_audit_id)
    ).first()
    swept_at, last_ticket, last_audit = state if state is not None else (None, 0, 0)
    max_ticket = int(conn.execute(select(func.coalesce(func.max(TICKETS.c.id), 0))).scalar_one())
    max_audit = int(conn.execute(select(func.coalesce(func.max(AUDIT.c.id), 0))).scalar_one())
    first_ok = dict(
        conn.execute(
            select(RUNS.c.vendor_id, func.min(RUNS.c.finished_at))
            .where(RUNS.c.ok.is_(True))
            .group_by(RUNS.c.vendor_id)
        ).all()
    )
    return TransitionCandidates(
        now=now,
        swept_at=swept_at,
        last_ticket_id=int(last_ticket),
        last_audit_id=int(last_audit),
        max_ticket_id=max_ticket,
        max_audit_id=max_audit,
        clocks=tuple(c for _, c in _clock_candidates(conn, now)) if clocks else (),
        clocks_swept=clocks,
        new_tickets=tuple(_new_tickets(conn, int(last_ticket), max_ticket, first_ok)),
        vendors=tuple(_vendors(conn, first_ok)),
        failed_actions=tuple(_failed_actions(conn)),
        # the first sweep ever starts after the audit log's past: old case changes are no news
        case_changes=tuple(_case_changes(conn, int(last_audit), max_audit))
        if swept_at is not None
        else (),
    )


def _level(state: Any, paused: Any, due: Any, near: Any, risk: Any, now: datetime) -> Any:
    """A running clock's level in SQL (0 ok … 3 breached), as :func:`clock_level` judges it."""
    running = paused.is_(False)
    return case(
        (or_(state == "breached", and_(running, due <= now)), 3),
        (or_(state == "near_breach", and_(running, near <= now)), 2),
        (or_(state == "at_risk", and_(running, risk <= now)), 1),
        else_=0,
    )


_LOGGED_LEVEL = case(
    (NOTIFICATIONS.c.event == "sla-breached", 3),
    (NOTIFICATIONS.c.event == "sla-near-breach", 2),
    (NOTIFICATIONS.c.event == "sla-at-risk", 1),
    else_=0,
)


def clock_candidates(
    conn: Connection, now: datetime, after: int, limit: int
) -> tuple[tuple[ClockCandidate, ...], int]:
    """At most ``limit`` of the running clocks :func:`candidates` reads, those with an id
    above ``after``, in id order; and the last id read (``after`` when none).

    The notifier sweeps the clocks in such batches, so a first sweep over a large
    tenant (most of its year-old open tickets breached) never holds them all at once.
    """
    last = after
    found: list[ClockCandidate] = []
    for clock_id, candidate in _clock_candidates(conn, now, after, limit):
        found.append(candidate)
        last = clock_id
    return tuple(found), last


def _clock_candidates(
    conn: Connection, now: datetime, after: int = 0, limit: int | None = None
) -> Iterable[tuple[int, ClockCandidate]]:
    """(clock id, candidate) of running clocks whose current level (or a higher one) is
    not in the log yet; with ``limit``, the first ones above ``after`` in id order.

    The log's unique index answers "already recorded?" inside the query, so a
    steady sweep reads no rows at all.
    """
    level = _level(
        CLOCKS.c.state,
        CLOCKS.c.paused,
        CLOCKS.c.due_at,
        CLOCKS.c.near_breach_at,
        CLOCKS.c.at_risk_at,
        now,
    )
    past = or_(
        CLOCKS.c.state.in_(("at_risk", "near_breach", "breached")),
        and_(CLOCKS.c.paused.is_(False), CLOCKS.c.at_risk_at <= now),
    )
    recorded = (
        select(NOTIFICATIONS.c.id)
        .where(
            NOTIFICATIONS.c.subject == literal("ticket:") + cast(CLOCKS.c.ticket_id, String),
            NOTIFICATIONS.c.clock == CLOCKS.c.metric,
            NOTIFICATIONS.c.cycle == CLOCKS.c.cycle,
            level <= _LOGGED_LEVEL,
        )
        .exists()
    )
    query = select(
        CLOCKS.c.id.label("clock_id"),
        CLOCKS.c.ticket_id,
        CLOCKS.c.metric,
        CLOCKS.c.cycle,
        CLOCKS.c.state,
        CLOCKS.c.due_at,
        CLOCKS.c.at_risk_at,
        CLOCKS.c.near_breach_at,
        CLOCKS.c.breach_at,
        CLOCKS.c.paused,
        CLOCKS.c.policy,
        CLOCKS.c.target_seconds,
        VENDORS.c.name.label("vendor"),
        TICKETS.c.key,
        TICKETS.c.title,
        TICKETS.c.priority,
        TICKETS.c.group_name,
        TICKETS.c.first_seen_at,
    )
    running: ColumnElement[bool] = CLOCKS.c.stopped_at.is_(None)
    if limit is not None and conn.dialect.name == "sqlite":
        # Most clocks run, which SQLite's planner cannot know: it read every running clock
        # through ix_sla_stopped and sorted them for each batch, so a first sweep over a
        # large tenant was quadratic (0.27 s a batch at 200,000 clocks). Said to be likely,
        # the batch walks the primary key from ``after`` in order instead (0.015 s).
        running = func.likelihood(running, literal_column("0.9"))
    query = (
        query.join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(running, past, not_(recorded))
    )
    if limit is not None:
        query = query.where(CLOCKS.c.id > after).order_by(CLOCKS.c.id).limit(limit)
    for row in conn.execute(query).mappings():
        values = dict(row)
        clock_id = int(values.pop("clock_id"))
        yield clock_id, ClockCandidate(**values)


def _new_tickets(
    conn: Connection, after: int, upto: int, first_ok: dict[int, datetime]
) -> Iterable[tuple[int, str, str, str, str | None, str | None, bool]]:
    if upto <= after:
        return
    rows = conn.execute(
        select(
            TICKETS.c.id,
            VENDORS.c.name,
            TICKETS.c.key,
            TICKETS.c.title,
            TICKETS.c.priority,
            TICKETS.c.group_name,
            TICKETS.c.vendor_id,
            TICKETS.c.first_seen_at,
            TICKETS.c.status,
        )
        .join(VENDORS, VENDORS.c.id == TICKETS.c.vendor_id)
        .where(
            TICKETS.c.id > after,
            TICKETS.c.id <= upto,
            TICKETS.c.priority.in_(("P1", "P2")),
        )
    )
    for tid, vendor, key, title, priority, group, vendor_id, first_seen, status in rows:
        if status not in ("new", "open", "pending"):
            continue
        done = vendor_id in first_ok and first_ok[vendor_id] <= first_seen
        yield tid, vendor, key, title, priority, group, done


def _vendors(conn: Connection, first_ok: dict[int, datetime]) -> Iterable[VendorCandidate]:
    last_ok = dict(
        conn.execute(
            select(RUNS.c.vendor_id, func.max(RUNS.c.id))
            .where(RUNS.c.ok.is_(True))
            .group_by(RUNS.c.vendor_id)
        ).all()
    )
    for vendor_id, name in conn.execute(select(VENDORS.c.id, VENDORS.c.name)):
        status = conn.execute(
            select(STATUS.c.indicator, STATUS.c.description, STATUS.c.fetched_at).where(
                STATUS.c.vendor_id == vendor_id
            )
        ).first()
        components = tuple(
            (str(c[0]), str(c[1]), str(c[2]), c[3])
            for c in conn.execute(
                select(
                    COMPONENTS.c.external_id,
                    COMPONENTS.c.name,
                    COMPONENTS.c.state,
                    COMPONENTS.c.updated_at,
                ).where(COMPONENTS.c.vendor_id == vendor_id, COMPONENTS.c.state != "operational")
            )
        )
        incidents = tuple(
            (str(i[0]), str(i[1]), str(i[2]))
            for i in conn.execute(
                select(INCIDENTS.c.external_id, INCIDENTS.c.name, INCIDENTS.c.impact).where(
                    INCIDENTS.c.vendor_id == vendor_id,
                    INCIDENTS.c.active.is_(True),
                    INCIDENTS.c.maintenance.is_(False),  # announced maintenance is no incident
                )
            )
        )
        yield VendorCandidate(
            name=name,
            first_ok_at=first_ok.get(vendor_id),
            indicator=status[0] if status else None,
            description=status[1] if status else None,
            components=components,
            incidents=incidents,
            last_ok_run_id=int(last_ok.get(vendor_id) or 0),
            status_fetched_at=status[2] if status else None,
        )


def _failed_actions(
    conn: Connection,
) -> Iterable[tuple[int, str, str | None, str, int, str | None]]:
    rows = conn.execute(
        select(
            OUTBOX.c.id,
            VENDORS.c.name,
            OUTBOX.c.ticket_key,
            OUTBOX.c.summary,
            OUTBOX.c.attempts,
            OUTBOX.c.last_error,
        )
        .join(VENDORS, VENDORS.c.id == OUTBOX.c.vendor_id)
        .where(OUTBOX.c.state == "failed", OUTBOX.c.channel.is_(None))
        .order_by(OUTBOX.c.id.desc())
        .limit(200)
    )
    for outbox_id, vendor, key, summary, attempts, reason in rows:
        yield int(outbox_id), str(vendor), key, str(summary), int(attempts), reason


def _case_changes(
    conn: Connection, after: int, upto: int
) -> Iterable[tuple[int, int, str, str, str | None]]:
    if upto <= after:
        return
    rows = conn.execute(
        select(AUDIT.c.id, AUDIT.c.case_id, CASES.c.title, AUDIT.c.action, AUDIT.c.detail)
        .join(CASES, CASES.c.id == AUDIT.c.case_id)
        .where(
            AUDIT.c.id > after, AUDIT.c.id <= upto, AUDIT.c.action.like("case %")
        )  # case opened/add/remove/closed
        .order_by(AUDIT.c.id)
    )
    for audit_id, case_id, title, action, detail in rows:
        yield int(audit_id), int(case_id), str(title), str(action), detail


def record(
    conn: Connection,
    items: Sequence[NewNotification],
    now: datetime,
    swept: TransitionCandidates | None = None,
) -> int:
    """Record transitions (each once, whoever else records it); move the sweep's marks.

    Returns how many rows were new.
    """
    added = 0
    stmt = _insert(conn, NOTIFICATIONS).on_conflict_do_nothing(
        index_elements=["subject", "clock", "cycle", "event"]
    )
    rows = [
        {
            "subject": item.subject,
            "clock": item.clock,
            "cycle": item.cycle,
            "event": item.event,
            "ticket_id": item.ticket_id,
            "vendor": item.vendor,
            "ticket_key": item.ticket_key,
            "priority": item.priority,
            "group_name": item.group_name,
            "policy": item.policy,
            "title": item.title,
            "detail": item.detail,
            "occurred_at": item.occurred_at,
            "recorded_at": now,
            "state": "baseline" if item.baseline else "pending",
            "rules": "",
        }
        for item in items
    ]
    for start in range(0, len(rows), 500):
        added += int(conn.execute(stmt, rows[start : start + 500]).rowcount or 0)
    if swept is not None:
        found = conn.execute(select(NOTIFIER.c.id)).first()
        larger = func.max if conn.dialect.name == "sqlite" else func.greatest
        values: dict[str, Any] = {
            "last_audit_id": larger(NOTIFIER.c.last_audit_id, swept.max_audit_id)
        }
        if swept.clocks_swept:  # tickets count as seen once a clock sweep has looked at them
            values["swept_at"] = swept.now
            values["last_ticket_id"] = larger(NOTIFIER.c.last_ticket_id, swept.max_ticket_id)
        if found is None:
            conn.execute(
                _insert(conn, NOTIFIER)
                .values(
                    id=1,
                    swept_at=swept.now,
                    last_ticket_id=swept.max_ticket_id,
                    last_audit_id=swept.max_audit_id,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        else:
            conn.execute(update(NOTIFIER).where(NOTIFIER.c.id == 1).values(**values))
    if added:
        notify_viewers(conn)
    return added


# -- the dispatcher's side ------------------------------------------------------------------


def pending(conn: Connection, limit: int = 200) -> list[NotificationView]:
    """Recorded transitions no rule has been matched against yet, oldest first."""
    rows = conn.execute(
        select(NOTIFICATIONS)
        .where(NOTIFICATIONS.c.state == "pending")
        .order_by(NOTIFICATIONS.c.id)
        .limit(limit)
    ).mappings()
    return [_view(row) for row in rows]


def dispatch(
    conn: Connection,
    notification_id: int,
    rules: Sequence[str],
    sends: Sequence[NewSend],
    now: datetime,
    muted: Sequence[MutedRule] = (),
) -> bool:
    """Mark one pending notification dispatched and queue its firings, or change nothing.

    False when another collector dispatched it first. ``muted``: rules that matched but
    stay quiet (the vendor's announced maintenance), each written to the audit log once,
    with the dispatch.
    """
    won = conn.execute(
        update(NOTIFICATIONS)
        .where(NOTIFICATIONS.c.id == notification_id, NOTIFICATIONS.c.state == "pending")
        .values(state="dispatched" if rules else "silent", rules="\n".join(rules))
    ).rowcount
    if won != 1:
        return False
    for send in sends:
        add_send(conn, send, now)
    for mute in muted:
        audit(
            conn,
            _SYSTEM,
            "notification muted: vendor maintenance",
            now,
            vendor=mute.vendor,
            ticket_key=mute.ticket_key,
            detail=f"rule {mute.rule!r}, {mute.event} (notification {notification_id}): "
            f"maintenance {mute.window[0]:%Y-%m-%d %H:%M}–{mute.window[1]:%Y-%m-%d %H:%M} UTC",
        )
    notify_viewers(conn)
    return True


def add_send(
    conn: Connection, send: NewSend, now: datetime, action: NewAction | None = None
) -> int | None:
    """Record one firing (once: its dedupe key) and queue its deliveries; its id, or None.

    ``action`` (an escalation at the vendor) is queued in the same transaction, so it is
    queued exactly when the firing is recorded.
    """
    held = send.held_until is not None
    inserted = conn.execute(
        _insert(conn, SENDS)
        .values(
            dedupe=send.dedupe,
            notification_id=send.notification_id,
            rule=send.rule,
            kind=send.kind,
            local=send.local,
            remote=send.remote,
            state="held" if held else "sent",
            due_at=send.held_until,
            created_at=now,
            summary=send.summary,
        )
        .on_conflict_do_nothing(index_elements=["dedupe"])
        .returning(SENDS.c.id)
    ).first()
    if inserted is None:
        return None
    send_id = int(inserted[0])
    if not held:
        _queue_deliveries(conn, send, send_id, now)
    if action is not None:
        enqueue(conn, Actor(f"rule {send.rule}", "paneglass notify"), now, action)
    notify_viewers(conn)
    return send_id


def _queue_deliveries(conn: Connection, send: NewSend, send_id: int, now: datetime) -> None:
    ticket = None
    if send.notification_id is not None:
        ticket = conn.execute(
            select(NOTIFICATIONS.c.ticket_key).where(NOTIFICATIONS.c.id == send.notification_id)
        ).scalar()
    for delivery in send.deliveries:
        conn.execute(
            OUTBOX.insert().values(
                vendor_id=None,
                channel=delivery.channel,
                idempotency_key=delivery.idempotency_key,
                ticket_key=ticket,
                kind="notify",
                payload=delivery.payload,
                summary=delivery.summary,
                state="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                requested_by=f"rule {send.rule}",
                terminal=f"notification send {send_id}",
            )
        )


def sends_after(conn: Connection, after_id: int, limit: int = 50) -> list[SendView]:
    """Firings consoles have not shown yet (``sent``, with a console channel), oldest first."""
    rows = conn.execute(
        _send_select()
        .where(SENDS.c.id > after_id, SENDS.c.state == "sent", SENDS.c.local != "")
        .order_by(SENDS.c.id)
        .limit(limit)
    ).mappings()
    return [SendView(**row) for row in rows]


def last_send_id(conn: Connection) -> int:
    """The newest firing's id (a console starts following after it)."""
    return int(conn.execute(select(func.coalesce(func.max(SENDS.c.id), 0))).scalar_one())


def sends_of(conn: Connection, notification_ids: Sequence[int]) -> dict[int, list[SendView]]:
    """The firings of these notifications, oldest first."""
    found: dict[int, list[SendView]] = {nid: [] for nid in notification_ids}
    for start in range(0, len(notification_ids), 500):
        chunk = list(notification_ids[start : start + 500])
        for row in conn.execute(
            _send_select().where(SENDS.c.notification_id.in_(chunk)).order_by(SENDS.c.id)
        ).mappings():
            found[row["notification_id"]].append(SendView(**row))
    return found


def open_notifications(conn: Connection, limit: int = 1000) -> list[NotificationView]:
    """Dispatched notifications nobody has acknowledged (the timers' work list)."""
    rows = conn.execute(
        select(NOTIFICATIONS)
        .where(NOTIFICATIONS.c.state == "dispatched", NOTIFICATIONS.c.acked_at.is_(None))
        .order_by(NOTIFICATIONS.c.id)
        .limit(limit)
    ).mappings()
    return [_view(row) for row in rows]


def held_due(conn: Connection, now: datetime) -> list[SendView]:
    """Firings held by quiet hours whose quiet time is over, oldest first."""
    rows = conn.execute(
        _send_select()
        .where(SENDS.c.state == "held", SENDS.c.due_at <= now)
        .order_by(SENDS.c.id)
        .limit(500)
    ).mappings()
    return [SendView(**row) for row in rows]


def release_held(conn: Connection, held_ids: Sequence[int], digest: NewSend, now: datetime) -> bool:
    """Fire one digest for these held firings (once), marking them digested."""
    if add_send(conn, digest, now) is None:
        return False
    conn.execute(
        update(SENDS)
        .where(SENDS.c.id.in_(list(held_ids)), SENDS.c.state == "held")
        .values(state="digested")
    )
    return True


# -- operators: acknowledge and snooze ---------------------------------------------------------


def acknowledge(
    conn: Connection,
    actor: Actor,
    now: datetime,
    *,
    notification_id: int | None = None,
    ticket_id: int | None = None,
) -> int:
    """Acknowledge one notification, or every open one of a ticket; audited. Returns how many."""
    return _mark_open(
        conn,
        actor,
        now,
        _target(notification_id, ticket_id),
        {"acked_at": now, "acked_by": actor.user},
        "notification-ack",
        lambda what, n: f"acknowledged {what} ({n} notification(s))",
        notification_id,
    )


def snooze(
    conn: Connection,
    actor: Actor,
    now: datetime,
    until: datetime,
    *,
    notification_id: int | None = None,
    ticket_id: int | None = None,
) -> int:
    """Snooze one notification, or every open one of a ticket, until ``until``; audited."""
    return _mark_open(
        conn,
        actor,
        now,
        _target(notification_id, ticket_id),
        {"snoozed_until": until, "snoozed_by": actor.user},
        "notification-snooze",
        lambda what, n: f"snoozed {what} until {until:%Y-%m-%d %H:%M} UTC ({n} notification(s))",
        notification_id,
    )


def _mark_open(
    conn: Connection,
    actor: Actor,
    now: datetime,
    where: Any,
    values: dict[str, Any],
    action: str,
    detail: Callable[[str, int], str],
    notification_id: int | None,
) -> int:
    """Set ``values`` on the unacknowledged notifications ``where`` picks; one audit entry."""
    rows = conn.execute(
        select(NOTIFICATIONS.c.id, NOTIFICATIONS.c.vendor, NOTIFICATIONS.c.ticket_key).where(
            where, NOTIFICATIONS.c.acked_at.is_(None)
        )
    ).all()
    if not rows:
        return 0
    conn.execute(
        update(NOTIFICATIONS).where(NOTIFICATIONS.c.id.in_([r[0] for r in rows])).values(**values)
    )
    what = f"notification {notification_id}" if notification_id else f"ticket {rows[0][2]}"
    audit(
        conn,
        actor,
        action,
        now,
        vendor=rows[0][1],
        ticket_key=rows[0][2],
        detail=detail(what, len(rows)),
    )
    notify_viewers(conn)
    return len(rows)


def _target(notification_id: int | None, ticket_id: int | None) -> Any:
    if notification_id is not None:
        return NOTIFICATIONS.c.id == notification_id
    if ticket_id is not None:
        return and_(NOTIFICATIONS.c.ticket_id == ticket_id, NOTIFICATIONS.c.state == "dispatched")
    raise ValueError("acknowledge or snooze a notification or a ticket")


# -- the pane and the header ---------------------------------------------------------------------


def notification_rows(conn: Connection, limit: int = 300) -> list[NotificationView]:
    """Unacknowledged first (newest first), then the recent acknowledged ones."""
    dispatched = NOTIFICATIONS.c.state == "dispatched"
    open_rows = conn.execute(
        select(NOTIFICATIONS)
        .where(dispatched, NOTIFICATIONS.c.acked_at.is_(None))
        .order_by(NOTIFICATIONS.c.id.desc())
        .limit(limit)
    ).mappings()
    views = [_view(row) for row in open_rows]
    if len(views) < limit:
        done = conn.execute(
            select(NOTIFICATIONS)
            .where(dispatched, NOTIFICATIONS.c.acked_at.is_not(None))
            .order_by(NOTIFICATIONS.c.id.desc())
            .limit(limit - len(views))
        ).mappings()
        views += [_view(row) for row in done]
    return views


def unacked_count(conn: Connection) -> int:
    """Dispatched notifications nobody has acknowledged."""
    return int(
        conn.execute(
            select(func.count()).where(
                NOTIFICATIONS.c.state == "dispatched", NOTIFICATIONS.c.acked_at.is_(None)
            )
        ).scalar_one()
    )


def _send_select() -> Any:
    return select(
        SENDS.c.id,
        SENDS.c.notification_id,
        SENDS.c.rule,
        SENDS.c.kind,
        SENDS.c.local,
        SENDS.c.remote,
        SENDS.c.state,
        SENDS.c.due_at,
        SENDS.c.created_at,
        SENDS.c.summary,
        NOTIFICATIONS.c.event,
        NOTIFICATIONS.c.ticket_id,
    ).outerjoin(NOTIFICATIONS, NOTIFICATIONS.c.id == SENDS.c.notification_id)


def _view(row: Any) -> NotificationView:
    return NotificationView(**{name: row[name] for name in NotificationView.__dataclass_fields__})

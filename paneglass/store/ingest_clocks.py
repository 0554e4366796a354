"""The contract clocks of the tickets a page inserted or rewrote, recomputed and stored.

A clock is a pure function of the ticket, its status history, the policy and
``now`` (:mod:`paneglass.sla`); this module feeds it and stores the result:

* a ticket inserted by this page has one history entry, its ``created``
  event, so its history is built in memory and nothing is read back;
* a stored ticket's history is its ``created``/``status``/``raw_status``
  events (this page's included), read in one query per page, with its
  ``priority``/``group_name`` events: a ticket that came under its policy
  later starts that policy's clocks then (:func:`paneglass.sla.covered_since`);
* the history's first entry holds from the ticket's creation (a ticket first
  seen already resolved is taken as open until its resolution time);
* a breach time already stored is kept (latched once), whatever the new
  computation says;
* a stored clock is rewritten in place, not deleted and inserted again;
* a vendor's announced maintenance windows (``windows``, by vendor name, read
  by the caller from its status source) reach the engine, which lets them stop
  the clocks of policies with ``pause_in_maintenance``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from connectors.records import TicketRecord
from paneglass.sla import (
    FieldsChange,
    Policy,
    SlaSettings,
    StatusChange,
    Window,
    covered_since,
    ticket_clock_values,
)

__all__ = [
    "CLOCK_COLUMNS",
    "ClockInput",
    "ClockWriter",
    "StoredClock",
    "clock_rows",
    "histories",
    "recompute",
]

_DONE = ("resolved", "closed")
_SECOND = timedelta(seconds=1)


class ClockInput(NamedTuple):
    """What a ticket's clocks depend on besides its history (stored values, as Python)."""

    id: int
    vendor: str
    priority: str | None
    group: str | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    raw_status: str
    status: str
    updated_at: datetime

    @classmethod
    def of(cls, ticket_id: int, vendor: str, record: TicketRecord) -> ClockInput:
        """The input for a ticket as this record leaves it."""
        return cls(
            ticket_id,
            vendor,
            record.priority._value_ if record.priority is not None else None,
            record.group,
            record.created_at,
            record.first_response_at,
            record.resolved_at,
            record.raw_status,
            record.status._value_,
            record.updated_at,
        )


CLOCK_COLUMNS = (
    "ticket_id",
    "metric",
    "cycle",
    "policy",
    "target_seconds",
    "elapsed_seconds",
    "paused",
    "due_at",
    "at_risk_at",
    "state",
    "breach_at",
    "started_at",
    "stopped_at",
    "computed_at",
    "near_breach_at",
    "pause_reason",
)
"""A clock row as :func:`clock_rows` builds it."""
_DUE, _STATE = CLOCK_COLUMNS.index("due_at"), CLOCK_COLUMNS.index("state")


class StoredClock(NamedTuple):
    """What a page needs of a stored clock (values in stored form)."""

    id: int
    state: str
    due_at: Any
    breach_at: Any


class ClockWriter(Protocol):
    """How one backend reads histories and latched breaches, and stores clocks."""

    def stamp(self, value: datetime | None) -> Any:
        """A UTC datetime in this backend's stored form."""
        ...

    def unstamp(self, value: Any) -> datetime | None:
        """A stored datetime back as an aware UTC datetime."""
        ...

    def status_events(
        self, ticket_ids: Sequence[int]
    ) -> Iterable[tuple[int, str, str | None, str | None, Any, Any]]:
        """``(ticket_id, field_name, old_value, new_value, vendor_time, seen_at)`` of the
        ``created``, ``status``, ``raw_status``, ``priority`` and ``group_name`` events of
        these tickets, oldest first."""
        ...

    def stored_clocks(self, ticket_ids: Sequence[int]) -> dict[tuple[int, str, int], StoredClock]:
        """The stored clocks of these tickets by ``(ticket_id, metric, cycle)``."""
        ...

    def write_clocks(
        self,
        inserted: Sequence[tuple[Any, ...]],
        updated: Sequence[tuple[Any, ...]],
        moved: Sequence[bool],
        deleted: Sequence[int],
    ) -> None:
        """Delete the clocks with ids ``deleted``, rewrite ``updated`` rows (a clock's id, then
        its row; ``moved``: its indexed ``state`` or ``due_at`` changed), insert ``inserted``.

        A row is :data:`CLOCK_COLUMNS`.
        """
        ...


def histories(
    writer: ClockWriter,
    ticket_ids: Sequence[int],
    coverage: dict[int, list[FieldsChange]] | None = None,
    current: dict[int, tuple[str | None, str | None]] | None = None,
) -> dict[int, list[StatusChange]]:
    """Each ticket's status history (normalised and raw) from its stored events, oldest first.

    With ``coverage`` (and ``current``: each ticket's priority and group now), each
    ticket whose priority or group changed gets those values over time there.
    """
    unstamp = writer.unstamp
    rows = list(writer.status_events(ticket_ids))
    first_raw: dict[int, str] = {}
    first_fields: dict[tuple[int, str], str | None] = {}
    for tid, name, old, _new, _at, _seen in rows:
        if name == "raw_status":
            first_raw.setdefault(tid, old or "")
        elif name in ("priority", "group_name"):
            first_fields.setdefault((tid, name), old)
    found: dict[int, list[StatusChange]] = {tid: [] for tid in ticket_ids}
    status: dict[int, tuple[str, str]] = {}
    for tid, name, _old, new, at, seen in rows:
        when = unstamp(at if at is not None else seen)
        assert when is not None
        if name in ("priority", "group_name"):
            if coverage is None or current is None:
                continue
            changes = coverage.get(tid)
            if changes is None:  # the values before the first change held from creation
                priority, group = current[tid]
                priority = first_fields.get((tid, "priority"), priority)
                group = first_fields.get((tid, "group_name"), group)
                changes = coverage[tid] = [FieldsChange(when, priority, group)]
            last = changes[-1]
            changes.append(
                FieldsChange(when, new, last.group)
                if name == "priority"
                else FieldsChange(when, last.priority, new)
            )
            continue
        state, raw = status.get(tid, ("open", first_raw.get(tid, "")))
        if name in ("created", "status"):
            state = new or "open"
        else:
            raw = new or ""
        status[tid] = (state, raw)
        found[tid].append(StatusChange(when, state, raw))
    return found


def _from_creation(ticket: ClockInput, history: list[StatusChange]) -> list[StatusChange]:
    """The first-seen status holds from creation (first seen already done: open until then)."""
    if not history:
        return history
    first = history[0]
    first_raw = first.raw_status or ticket.raw_status
    if first.status in _DONE:
        done_at = max(ticket.resolved_at or first.at, ticket.created_at)
        return [
            StatusChange(ticket.created_at, "open", ""),
            StatusChange(done_at, first.status, first_raw),
            *history[1:],
        ]
    return [StatusChange(ticket.created_at, first.status, first_raw), *history[1:]]


def clock_rows(
    stamp: Callable[[datetime | None], Any],
    tickets: Iterable[tuple[ClockInput, list[StatusChange]]],
    latched: dict[tuple[int, str, int], Any],
    now: datetime,
    settings: SlaSettings,
    coverage: dict[int, list[FieldsChange]] | None = None,
    windows: Mapping[str, Sequence[Window]] | None = None,
) -> list[tuple[Any, ...]]:
    """The stored rows of these tickets' clocks, as of ``now`` (``stamp``: a datetime in
    stored form; ``windows``: each vendor's announced maintenance)."""
    computed = stamp(now)
    policies: dict[tuple[str, str | None, str | None], Policy | None] = {}
    rows = []
    for ticket, history in tickets:
        which = (ticket.vendor, ticket.priority, ticket.group)
        if which not in policies:
            policies[which] = settings.match(*which)
        policy = policies[which]
        if policy is None:
            continue
        changes = coverage.get(ticket.id) if coverage else None
        since = (
            covered_since(policy, ticket.vendor, ticket.created_at, changes) if changes else None
        )
        for (
            metric,
            cycle,
            name,
            target,
            elapsed,
            paused,
            due_at,
            at_risk_at,
            state,
            breach,
            started_at,
            stopped_at,
            _share,
            near_breach_at,
            reason,
        ) in ticket_clock_values(  # plain tuples: no ClockResult object is built
            policy=policy,
            created_at=ticket.created_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            history=_from_creation(ticket, history),
            now=now,
            since=since,
            suspended=windows.get(ticket.vendor, ()) if windows else (),
        ):
            value = metric._value_  # an enum's value, without the descriptor's cost
            breach_at = latched.get((ticket.id, value, cycle)) if latched else None
            rows.append(
                (
                    ticket.id,
                    value,
                    cycle,
                    name,
                    target // _SECOND,  # whole seconds (never negative)
                    elapsed // _SECOND,
                    paused,
                    stamp(due_at),
                    stamp(at_risk_at),
                    state._value_,
                    breach_at if breach_at is not None else stamp(breach),
                    stamp(started_at),
                    stamp(stopped_at),
                    computed,
                    stamp(near_breach_at),
                    reason,
                )
            )
    return rows


def recompute(
    writer: ClockWriter,
    fresh: Sequence[ClockInput],
    known: Sequence[ClockInput],
    now: datetime,
    settings: SlaSettings,
    windows: Mapping[str, Sequence[Window]] | None = None,
) -> dict[int, list[tuple[Any, ...]]]:
    """Recompute and store the clocks of tickets just inserted (``fresh``: their one
    ``created`` event is their history) and of stored tickets (``known``).

    A stored clock that is computed again is rewritten in place (same row, no
    new index entries where its state and due time stay), a new one inserted,
    one no longer computed (the ticket lost its policy) deleted.

    Returns every one of these tickets' clocks as now stored (rows of :data:`CLOCK_COLUMNS`,
    stored form), by ticket (an empty list: no clock), for their history
    (:func:`paneglass.store.history.record_page`), which then reads none of them back.
    """
    ids = [t.id for t in known]
    coverage: dict[int, list[FieldsChange]] = {}
    current = {t.id: (t.priority, t.group) for t in known}
    past = histories(writer, ids, coverage, current) if known else {}
    stored = writer.stored_clocks(ids) if known else {}
    latched = {key: clock.breach_at for key, clock in stored.items() if clock.breach_at}
    tickets = [(t, [StatusChange(t.updated_at, t.status, "")]) for t in fresh]
    tickets += [(t, past[t.id]) for t in known]
    rows = clock_rows(writer.stamp, tickets, latched, now, settings, coverage, windows)
    written: dict[int, list[tuple[Any, ...]]] = {t.id: [] for t, _history in tickets}
    for row in rows:
        written[row[0]].append(row)
    if not stored:
        writer.write_clocks(rows, [], [], [])
        return written
    inserted, updated, moved, kept = [], [], [], set()
    for row in rows:
        old = stored.get((row[0], row[1], row[2]))
        if old is None:
            inserted.append(row)
            continue
        kept.add(old.id)
        updated.append((old.id, *row))
        moved.append(old.state != row[_STATE] or old.due_at != row[_DUE])
    deleted = [clock.id for clock in stored.values() if clock.id not in kept]
    writer.write_clocks(inserted, updated, moved, deleted)
    return written

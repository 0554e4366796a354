"""A year of Acme's history, so the scorecards have last month (and a trend) on a first run.

Deterministic (seeded) ticket lives per vendor, each with the vendor's own
habits: how fast it answers and resolves, how often a ticket comes back,
whether it reports its own SLA verdict; the hosting provider publishes a few
incidents on its status page. Every change is replayed through the store's
write path at its own instant (``Store.replay``), as a collector would have
recorded it: events, contract clocks and the history time travel reads.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain

from connectors.records import (
    ComponentRecord,
    ComponentState,
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.demo.world import ROLES
from paneglass.store import Store

__all__ = ["PROFILES", "VendorHabits", "seed_history"]


@dataclass(frozen=True)
class VendorHabits:
    """How one vendor works, on average (minutes), and how it drifts over the year."""

    per_month: int
    respond: float
    resolve: float
    reopen: float
    reports_sla: bool
    drift: float = 0.0
    """Share by which resolving gets slower (+) or faster (-) from a year ago to now."""


PROFILES = {
    "hosting": VendorHabits(8, 25, 300, 0.06, True, drift=0.5),
    "desktop": VendorHabits(12, 40, 420, 0.10, True, drift=-0.3),
    "network": VendorHabits(6, 60, 600, 0.04, False),
    "print-fleet": VendorHabits(6, 90, 900, 0.12, False, drift=-0.4),
    "app-partner": VendorHabits(4, 120, 1500, 0.08, False, drift=0.3),
    "on-call": VendorHabits(5, 8, 180, 0.02, False),
    "field-service": VendorHabits(3, 200, 2400, 0.05, False),
    "noc-alerts": VendorHabits(5, 10, 240, 0.03, False),
}
"""Acme's vendors as the scorecards come to know them."""


def _lives(
    vendor: str, habits: VendorHabits, start: datetime, end: datetime, rng: random.Random
) -> list[tuple[datetime, TicketRecord]]:
    """Every change of every ticket the vendor had in ``[start, end)``, unordered."""
    role = ROLES.get(vendor, ROLES["desktop"])
    steps: list[tuple[datetime, TicketRecord]] = []
    count = int(habits.per_month * (end - start).days / 30)
    for n in range(count):
        created = start + (end - start) * rng.random()
        age = (end - created) / (end - start)  # 1 a year ago .. 0 now
        pace = 1 + habits.drift * (1 - age)
        respond = timedelta(minutes=rng.expovariate(1 / habits.respond) + 2)
        resolve = respond + timedelta(minutes=rng.expovariate(1 / (habits.resolve * pace)) + 10)
        priority = rng.choices((Priority.P1, Priority.P2, Priority.P3, Priority.P4), (1, 3, 6, 3))[
            0
        ]
        ref = f"{vendor}-h{n}"
        base = {
            "external_id": ref,
            "key": f"H-{vendor[:3].upper()}-{n:04d}",
            "title": rng.choice(role.titles),
            "priority": priority,
            "raw_priority": priority.value,
            "created_at": created,
            "group": role.group,
            "requester": rng.choice(("Maria Jensen", "Tom Okafor", "Aiko Tanaka", "Sam Rivera")),
        }

        def state(when: datetime, status: TicketStatus, **extra: object) -> None:
            fields = {**base, **extra}  # noqa: B023 (called at once, inside the loop)
            steps.append(
                (
                    when,
                    TicketRecord(
                        status=status,
                        raw_status=status.value,
                        updated_at=when,
                        **fields,  # type: ignore[arg-type]
                    ),
                )
            )

        answered = created + respond
        resolved = created + resolve
        state(created, TicketStatus.NEW)
        state(
            answered,
            TicketStatus.OPEN,
            assignee=rng.choice(role.agents),
            first_response_at=answered,
        )
        verdict: dict[str, object] = {}
        if habits.reports_sla:  # the vendor's own word: lenient, as vendors' words go
            verdict = {"vendor_breached": resolve > timedelta(hours=8) and rng.random() < 0.5}
        if resolved >= end:  # history leaves nothing open: today's queue is the live world's
            resolved = max(end - timedelta(minutes=1), answered + timedelta(minutes=1))
        state(
            resolved,
            TicketStatus.RESOLVED,
            assignee=rng.choice(role.agents),
            first_response_at=answered,
            resolved_at=resolved,
            **verdict,
        )
        if rng.random() < habits.reopen:
            back = resolved + timedelta(hours=rng.uniform(2, 30))
            again = back + timedelta(minutes=rng.expovariate(1 / habits.resolve) + 10)
            if again < end:
                state(back, TicketStatus.OPEN, first_response_at=answered, resolved_at=None)
                state(
                    again,
                    TicketStatus.RESOLVED,
                    first_response_at=answered,
                    resolved_at=again,
                    **verdict,
                )
    return steps


def _incidents(
    start: datetime, end: datetime, rng: random.Random
) -> list[tuple[datetime, StatusSnapshot]]:
    """The hosting provider's status page: a few incidents a month, some overlapping."""
    snapshots = []
    incidents: list[IncidentRecord] = []
    when = start
    n = 0
    while True:
        when += timedelta(days=rng.uniform(4, 14))
        if when >= end:
            break
        n += 1
        length = timedelta(minutes=rng.uniform(40, 600))
        incident = IncidentRecord(
            f"hist-{n}",
            rng.choice(
                ("Storage latency in DC-2", "Network maintenance overran", "Hypervisor restarts")
            ),
            "investigating",
            rng.choice(("minor", "major")),
            when,
            when,
        )
        component = ComponentRecord(
            "c-storage", "Storage", ComponentState.DEGRADED, "degraded_performance"
        )
        snapshots.append(
            (
                when,
                StatusSnapshot(
                    "minor", "Partial degradation", (component,), (*incidents, incident)
                ),
            )
        )
        closed = when + length
        resolved = IncidentRecord(
            incident.external_id, incident.name, "resolved", incident.impact, when, closed, closed
        )
        incidents.append(resolved)
        healthy = ComponentRecord("c-storage", "Storage", ComponentState.OPERATIONAL, "operational")
        snapshots.append(
            (
                closed,
                StatusSnapshot("none", "All systems operational", (healthy,), tuple(incidents)),
            )
        )
    return snapshots


def seed_history(
    store: Store,
    now: datetime,
    vendors: Sequence[str],
    *,
    months: int = 13,
    quiet: timedelta = timedelta(days=6),
    seed: int = 16,
    status_page: str | None = "hosting-status",
    stop: threading.Event | None = None,
    hold: threading.Event | None = None,
    begun: threading.Event | None = None,
    pause: float = 0.0,
) -> int:
    """Replay ``months`` of history ending ``quiet`` before ``now``; return the steps applied.

    ``quiet`` leaves the last days to the live world, so history never crowds today's queue.
    ``stop``, once set, ends the replay after its current commit (the demo is closing).
    With ``hold``, the first ticket's life goes in at once, in one short commit (the
    console's first frame has a ticket to show) and the rest waits until ``hold`` is set
    (the console has started: its first reads and polls do not queue for the write lock
    behind the replay, whose commits it cannot jump as a thread of its own can). ``pause``
    seconds between commits leave the write lock to a console in another process.
    ``begun`` is set once the first ticket's life is in.
    """
    rng = random.Random(seed)
    end = now - quiet
    start = end - timedelta(days=30.44 * months)
    steps: list[tuple[datetime, str, PollResult]] = []
    for vendor in vendors:
        habits = PROFILES.get(vendor)
        if habits is None:
            continue
        for when, record in _lives(vendor, habits, start, end, rng):
            steps.append((when, vendor, PollResult(tickets=(record,))))
    if status_page:
        for when, snapshot in _incidents(start, end, rng):
            steps.append((when, status_page, PollResult(status=snapshot)))
    # One life after another (each ticket's steps, each status page's, in time order): the
    # replay writes into the live demo's store, and a year-old ticket is open there only
    # for the commit or two between its first step and its last, not for the whole replay
    # (the SLA pane showed year-old breaches and the header flipped while it ran).
    steps.sort(key=lambda step: (step[1], _life(step[2]), step[0]))
    # Short commits: the console's collector, starting beside this thread, gets the write
    # lock between two of them (the replay stands aside while it waits).
    per_commit = 10
    ordered: Iterator[tuple[str, PollResult, datetime]] = (
        (vendor, result, when.astimezone(UTC))
        for when, vendor, result in steps
        if stop is None or not stop.is_set()
    )
    done = 0
    if hold is not None:
        # A whole life: a year-old ticket left open while the replay waits would show in
        # the SLA pane and the header all that time.
        first: list[tuple[str, PollResult, datetime]] = []
        for step in ordered:
            if first and _whose(step) != _whose(first[-1]):
                ordered = chain([step], ordered)
                break
            first.append(step)
        done = store.replay(first, per_commit=len(first) + 1)
        if begun is not None:
            begun.set()
        hold.wait()
    return done + store.replay(ordered, per_commit=per_commit, pause=pause)


def _whose(step: tuple[str, PollResult, datetime]) -> tuple[str, str]:
    return step[0], _life(step[1])


def _life(result: PollResult) -> str:
    """Which life a replayed step belongs to: its ticket, or the vendor's status page."""
    return result.tickets[0].external_id if result.tickets else ""

"""A fixed, seeded store for snapshot tests and README screenshots.

Same story as the live demo, but written straight into the store at a frozen
``now`` so every run renders the same screen.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from connectors import VendorConfig
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
from paneglass.demo.world import ASSETS, PEOPLE, ROLES
from paneglass.store import Actor, NewAction, PollRunInfo, Store

__all__ = ["FIXTURE_NOW", "FIXTURE_VENDORS", "seed_store"]

FIXTURE_NOW = datetime.fromisoformat("2026-11-22T14:02:37+00:00")
FIXTURE_VENDORS = (
    VendorConfig(
        name="hosting",
        kind="servicenow",
        base_url="http://127.0.0.1:9",
        poll_interval=60,
        settings={"username": "svc_paneglass", "password": "fixture-only"},
        status_source="hosting-status",
    ),
    VendorConfig(
        name="desktop",
        kind="zendesk",
        base_url="http://127.0.0.1:9",
        poll_interval=60,
        settings={"email": "desk@acme.example", "api_token": "fixture-only"},
    ),
    VendorConfig(
        name="hosting-status", kind="statuspage", base_url="http://127.0.0.1:9", poll_interval=60
    ),
)
_STATUS_CHOICES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED)


def _ticket(
    vendor: str,
    number: int,
    title: str,
    priority: Priority,
    status: TicketStatus,
    age: timedelta,
    now: datetime,
    rng: random.Random,
    **extra: object,
) -> TicketRecord:
    role = ROLES[vendor]
    created = now - age
    key = f"INC{12200 + number:07d}" if vendor == "hosting" else f"#{48200 + number}"
    fields: dict[str, object] = {
        "assignee": None if status is TicketStatus.NEW else rng.choice(role.agents),
        "requester": rng.choice(PEOPLE),
        "group": role.group,
        "asset": rng.choice(ASSETS),
        "resolved_at": created + min(age / 2, timedelta(hours=2))
        if status is TicketStatus.RESOLVED
        else None,
        "url": f"https://acme.example/{vendor}/{number}",
    }
    fields.update(extra)
    return TicketRecord(
        external_id=f"{vendor}-{number}",
        key=key,
        title=title,
        status=status,
        raw_status=status.value,
        priority=priority,
        raw_priority=priority.value,
        created_at=created,
        updated_at=created + min(age / 2, timedelta(hours=2)),
        **fields,  # type: ignore[arg-type]
    )


def seed_store(store: Store, now: datetime = FIXTURE_NOW, *, seed: int = 7) -> None:
    """Write the fixed Acme world into ``store`` as of ``now``."""
    rng = random.Random(seed)
    store.sync_vendors(FIXTURE_VENDORS)
    start = now - timedelta(seconds=2)
    for vendor, count in (("hosting", 24), ("desktop", 36)):
        role = ROLES[vendor]
        tickets = [
            _ticket(
                vendor,
                n,
                rng.choice(role.titles),
                rng.choices(
                    (Priority.P1, Priority.P2, Priority.P3, Priority.P4), weights=(1, 3, 6, 3)
                )[0],
                rng.choices(_STATUS_CHOICES, weights=(2, 6, 2, 3))[0],
                timedelta(minutes=rng.choice((rng.randint(5, 240), rng.randint(60, 60 * 30)))),
                now,
                rng,
            )
            for n in range(count)
        ]
        if vendor == "desktop":
            tickets.append(
                _ticket(
                    "desktop",
                    99,
                    "Cannot print, error code 49.4C02",
                    Priority.P2,
                    TicketStatus.OPEN,
                    timedelta(minutes=52),
                    now,
                    rng,
                    requester="Maria Jensen",
                    asset="PRN-3F-EAST",
                    assignee="Kim Lee",
                )
            )
        else:
            tickets.append(
                _ticket(
                    "hosting",
                    99,
                    "Print spooler crashes on VM-PRT-SRV02 (49.4C02 jobs)",
                    Priority.P2,
                    TicketStatus.OPEN,
                    timedelta(minutes=47),
                    now,
                    rng,
                    requester="Maria Jensen",
                    asset="VM-PRT-SRV02",
                    assignee="Raj Mehta",
                )
            )
            tickets.append(
                _ticket(
                    "hosting",
                    98,
                    "GP app server slow at month end",
                    Priority.P1,
                    TicketStatus.OPEN,
                    timedelta(hours=3, minutes=20),
                    now,
                    rng,
                    vendor_due_at=now + timedelta(minutes=50),
                )
            )
        finished = now - (timedelta(minutes=4) if vendor == "desktop" else timedelta(seconds=1))
        run = PollRunInfo(finished - timedelta(seconds=1), finished, True, requests=2)
        store.apply(vendor, PollResult(tickets=tuple(tickets), cursor={"fixture": True}), run, now)
    snapshot = StatusSnapshot(
        indicator="minor",
        description="Partially Degraded Service",
        components=(
            ComponentRecord(
                "c1", "Virtual machines", ComponentState.OPERATIONAL, "operational", "EU-West", 1
            ),
            ComponentRecord(
                "c2", "Storage", ComponentState.DEGRADED, "degraded_performance", "EU-West", 2
            ),
            ComponentRecord(
                "c3", "Network", ComponentState.OPERATIONAL, "operational", "EU-West", 3
            ),
        ),
        incidents=(
            IncidentRecord(
                "i1",
                "Elevated latency on EU-West block storage",
                "identified",
                "minor",
                now - timedelta(minutes=40),
                now - timedelta(minutes=5),
                latest_update="Cause found; a storage controller is being replaced.",
            ),
            IncidentRecord(
                "m1",
                "Hypervisor patching, EU-West hosts 1-4",
                "in_progress",
                "maintenance",
                now - timedelta(days=3),
                now - timedelta(minutes=15),
                maintenance=True,
                scheduled_for=now - timedelta(minutes=15),
                scheduled_until=now + timedelta(minutes=43),
                components=("Virtual machines",),
            ),
            IncidentRecord(
                "m2",
                "Storage controller replacement",
                "scheduled",
                "maintenance",
                now - timedelta(minutes=30),
                now - timedelta(minutes=30),
                maintenance=True,
                scheduled_for=now + timedelta(hours=1, minutes=57),
                scheduled_until=now + timedelta(hours=3, minutes=57),
                components=("Storage",),
            ),
        ),
    )
    store.apply(
        "hosting-status",
        PollResult(status=snapshot),
        PollRunInfo(start, now - timedelta(seconds=1), True, requests=1),
        now,
    )
    # The desktop vendor started throttling four minutes ago: its data is going stale.
    store.apply(
        "desktop",
        None,
        PollRunInfo(
            now - timedelta(seconds=30),
            now - timedelta(seconds=29),
            False,
            "rate_limited",
            "HTTP 429: Too Many Requests",
            429,
        ),
        now,
    )
    seed_story(store, now)


def seed_story(store: Store, now: datetime) -> None:
    """The printer case as an operator played it: a hand-off, comments, one refusal, one wait."""
    kim = Actor("kim", "/dev/pts/4 ssh from 10.20.0.15")
    at = now - timedelta(minutes=48)
    case_id = store.create_case(kim, at, "Maria Jensen cannot print (49.4C02)")
    store.add_case_member(kim, at, case_id, "desktop", "desktop-99", "#48299")

    def act(minutes_ago: float, vendor: str, kind: str, summary: str, **fields: object) -> int:
        return store.enqueue_action(
            kim,
            now - timedelta(minutes=minutes_ago),
            NewAction(
                vendor=vendor,
                kind=kind,
                payload="{}",
                summary=summary,
                detail="",
                **fields,  # type: ignore[arg-type]
            ),
        )

    handoff = act(
        47.5,
        "hosting",
        "create",
        "hand off (create) from desktop #48299",
        external_id=None,
        ticket_key=None,
        source=("desktop", "desktop-99"),
        case_id=case_id,
        mirror_comments=True,
    )
    store.claim_action(handoff, now - timedelta(minutes=47.4), "fixture:1")
    store.action_sent(
        handoff,
        now - timedelta(minutes=47.3),
        "HTTP 201: created INC0012299",
        201,
        ("hosting-99", "INC0012299"),
    )
    steps = (
        (30, "desktop", "desktop-99", "#48299", "comment", "comment (public): We are on it", 200),
        (12, "hosting", "hosting-99", "INC0012299", "comment", "mirrored comment (internal): "
         "[from desktop #48299] Maria confirms jobs stop at the spooler", 200),
        (6, "desktop", "desktop-99", "#48299", "assign", "assign to kim.lee@acme", 422),
        (0.5, "hosting", "hosting-99", "INC0012299", "set_status", "set status → pending", None),
    )  # fmt: skip
    for minutes, vendor, external_id, key, kind, summary, code in steps:
        outbox_id = act(minutes, vendor, kind, summary, external_id=external_id, ticket_key=key)
        if code is None:
            continue
        sent_at = now - timedelta(minutes=minutes - 0.1)
        store.claim_action(outbox_id, sent_at, "fixture:1")
        if code < 400:
            store.action_sent(outbox_id, sent_at, f"HTTP {code}: ticket updated", code)
        else:
            reason = "HTTP 422: Record validation errors: Assignee: is not an agent"
            store.action_failed(outbox_id, sent_at, reason, code, None)

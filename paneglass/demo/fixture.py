"""A fixed, seeded store for snapshot tests and README screenshots.

Same story as the live demo, but written straight into the store at a frozen
``now`` so every run renders the same screen.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from connectors import VendorConfig
from connectors.records import (
    AttachmentRecord,
    ComponentRecord,
    ComponentState,
    ConversationEntry,
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from paneglass.demo.world import ASSETS, PEOPLE, ROLES
from paneglass.store import Actor, NewAction, NewNotification, NewSend, PollRunInfo, Store

__all__ = ["FIXTURE_NOW", "FIXTURE_VENDORS", "seed_store", "story_entries"]

FIXTURE_NOW = datetime.fromisoformat("2026-11-22T14:02:37+00:00")
FIXTURE_VENDORS = (
    VendorConfig(
        name="hosting",
        kind="servicenow",
        base_url="http://127.0.0.1:9",
        poll_interval=60,
        settings={"username": "svc_paneglass", "password": "fixture-only"},
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
                    description=(
                        "Maria Jensen (Finance, 3rd floor) cannot print to PRN-3F-EAST. The "
                        "printer's display shows 49.4C02. Two colleagues on the floor report "
                        "the same since this morning."
                    ),
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
                    description=(
                        "Handed over from desktop #48299: the print spooler on VM-PRT-SRV02 "
                        "stops while processing jobs for PRN-3F-EAST (49.4C02)."
                    ),
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
        page = PollResult(
            tickets=tuple(tickets), entries=story_entries(vendor, now), cursor={"fixture": True}
        )
        store.apply(vendor, page, run, now)
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
    seed_notifications(store, now)


def seed_notifications(store: Store, now: datetime) -> None:
    """What the rules fired in the last hour: a P1 climbing to breach, a degraded vendor."""
    found = store.find_tickets("INC0012298", 1)
    if not found:
        return
    ticket_id = found[0][0]
    climb = (
        (42, "sla-at-risk", "is at risk of its"),
        (21, "sla-near-breach", "is near breach of its"),
    )
    items = [
        NewNotification(
            subject=f"ticket:{ticket_id}",
            clock="resolution",
            event=event,
            occurred_at=now - timedelta(minutes=minutes),
            ticket_id=ticket_id,
            vendor="hosting",
            ticket_key="INC0012298",
            priority="P1",
            group_name="Managed Hosting L2",
            policy="P1 default",
            title="GP app server slow at month end",
            detail=f"resolution clock {verb} 4h target (P1 default)",
        )
        for minutes, event, verb in climb
    ]
    items.append(
        NewNotification(
            subject="vendor:hosting-status",
            clock="component:c2",
            event="vendor-degraded",
            occurred_at=now - timedelta(minutes=40),
            vendor="hosting-status",
            title="Storage degraded performance",
            detail="Partially Degraded Service",
        )
    )
    for item in items:
        at = item.occurred_at + timedelta(seconds=1)
        store.record_notifications([item], at)
        pending = store.pending_notifications()[-1]
        rule = "P1 SLA" if item.event.startswith("sla") else "Vendors"
        send = NewSend(
            dedupe=f"first:{pending.id}:{rule}",
            rule=rule,
            kind="first",
            notification_id=pending.id,
            local="toast bell",
            remote="",
            summary=item.title,
        )
        store.dispatch_notification(pending.id, [rule], [send], at)
    degraded = next(n for n in store.notification_rows() if n.event == "vendor-degraded")
    store.acknowledge(
        Actor("maria", "/dev/pts/2"), now - timedelta(minutes=35), notification_id=degraded.id
    )


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


_PRINTER_LOG = "\n".join(
    f"2026-11-22 {hour:02d}:{minute:02d}  49.4C02  job {job} from VM-PRT-SRV02 aborted (PCL6)"
    for hour, minute, job in (
        (9, 2, 4410), (9, 14, 4418), (9, 31, 4425), (9, 47, 4431), (10, 5, 4440),
        (10, 22, 4452), (10, 40, 4459), (11, 3, 4471), (11, 26, 4480), (11, 58, 4492),
        (12, 31, 4503), (12, 55, 4511),
    )
)  # fmt: skip


def story_entries(vendor: str, now: datetime) -> tuple[ConversationEntry, ...]:
    """What the vendors' people wrote on the printer story's tickets (the fixture's replies)."""

    def said(
        minutes_ago: float, ident: str, ticket: str, who: str | None, body: str, **more: object
    ) -> ConversationEntry:
        visibility = more.pop("visibility", Visibility.PUBLIC)
        return ConversationEntry(
            ticket_external_id=ticket,
            external_id=ident,
            created_at=now - timedelta(minutes=minutes_ago),
            visibility=visibility,  # type: ignore[arg-type]
            body=body,
            author=who,
            **more,  # type: ignore[arg-type]
        )

    if vendor == "desktop":
        return (
            said(
                51, "c1", "desktop-99", "Maria Jensen",
                "Hi, the printer on the 3rd floor (PRN-3F-EAST) shows error 49.4C02 and nothing "
                "prints. It started this morning. Photo of the display attached.\n\nThanks,\nMaria",
                attachments=(
                    AttachmentRecord(
                        "f1", "PRN-3F-EAST-display.jpg", 212_482, "image/jpeg",
                        "https://acme.example/desktop/attachments/f1",
                    ),
                ),
            ),
            said(
                49, "c2", "desktop-99", "Kim Lee",
                "Known pattern: 49.4C02 is a corrupt print job on the M607 fleet. Print-fleet "
                "pushed firmware 4.2 on Friday. Handing the spooler side to hosting.",
                visibility=Visibility.INTERNAL,
            ),
            said(
                44, "c3", "desktop-99", "Kim Lee",
                f"Printer event log (last 12 events):\n{_PRINTER_LOG}",
                visibility=Visibility.INTERNAL,
            ),
            said(
                30, "c4", "desktop-99", "Kim Lee",
                "We are on it: our print team and the hosting provider are looking at the print "
                "server. We will update you within the hour.",
            ),
            said(
                18, "c5", "desktop-99", "Maria Jensen",
                "Thanks. Jobs from Excel fail too; Word prints one page, then stops.\n\n"
                "On Sun, 22 Nov 2026 at 13:32, Kim Lee <kim.lee@desk.example> wrote:\n"
                "> We are on it: our print team and the hosting provider are looking at the\n"
                "> print server. We will update you within the hour.",
            ),
        )  # fmt: skip
    if vendor == "hosting":
        return (
            said(
                40, "j1", "hosting-99", "Raj Mehta",
                "Spooler on VM-PRT-SRV02 crashed 14 times since 09:00. Faulting module: PCL6 "
                "driver hpcpcl6.dll 7.1.0. Collecting a dump.",
                visibility=Visibility.INTERNAL,
            ),
            said(
                35, "a1", "hosting-99", "Raj Mehta", "Attachment added: spoolsv-0922.dmp",
                visibility=Visibility.SYSTEM,
                attachments=(
                    AttachmentRecord(
                        "a1", "spoolsv-0922.dmp", 48_211_968, "application/octet-stream",
                        "https://acme.example/hosting/attachments/a1",
                    ),
                ),
            ),
            said(
                11.9, "j2", "hosting-99", "svc_paneglass",
                "[from desktop #48299] Maria confirms jobs stop at the spooler",
                visibility=Visibility.INTERNAL,
            ),
            said(
                8, "j3", "hosting-99", "Raj Mehta",
                "We rolled the PCL6 driver back to 7.0.4 on VM-PRT-SRV02 at 13:54 and restarted "
                "the spooler. Please ask the user to print a test page.",
            ),
        )  # fmt: skip
    return ()

"""The Acme story: a mid-size company whose IT is spread over several vendors.

The world seeds each emulator with a realistic queue, then changes it every
few seconds from a background thread: tickets arrive, get picked up, wait on
the customer, get resolved; a few are placed so their SLA deadline falls
while you watch; the hosting provider's status page shows a degraded
component and an open incident. A user's "cannot print, error code 49.4C02"
problem has pieces at several vendors, as it does every week in real life.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind
from connectors.emulators.base import TicketEmulator, WorldAttachment, WorldEntry, WorldTicket
from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from paneglass.demo.notify import MAJOR_INCIDENT_GROUP

__all__ = ["AcmeWorld", "VendorRole"]

PEOPLE = (
    "Maria Jensen",
    "Tom Okafor",
    "Priya Natarajan",
    "Lukas Berg",
    "Aiko Tanaka",
    "Sam Rivera",
    "Elena Petrova",
    "Jonas Weber",
    "Chloé Martin",
    "Omar Haddad",
    "Grace Liu",
    "Ben Carter",
)
ASSETS = (
    "LT-0412",
    "LT-0977",
    "PC-1183",
    "PRN-3F-EAST",
    "PRN-2F-WEST",
    "VM-GP-APP01",
    "VM-GP-SQL01",
    "VM-PRT-SRV02",
    "SW-CORE-01",
    "AP-3F-07",
)


_HANDOFF_STEPS = (TicketStatus.OPEN, TicketStatus.RESOLVED)
"""What a vendor's agent does with a ticket handed to it, one step at a time."""
_HANDOFF_REPLIES = {
    TicketStatus.OPEN: "{agent} ({group}): picked up. We are looking at it now and will "
    "update this ticket within the hour.",
    TicketStatus.RESOLVED: "{agent} ({group}): fixed on our side: the cause was on our "
    "equipment and is corrected. Please confirm it works for the user; we are resolving this.",
}
"""What the agent answers on a handed-off ticket at each step (a public reply, through the
vendor's API, so paneglass reads it like any reply and mirrors it to the linked ticket)."""

_STORY_TALK: dict[str, tuple[tuple[float, str, str, str, tuple[WorldAttachment, ...]], ...]] = {
    "desktop": (
        (
            50, "Maria Jensen", "public",
            "Hi, the printer on the 3rd floor (PRN-3F-EAST) shows error 49.4C02 and nothing "
            "prints. It started this morning. Photo of the display attached.\n\nThanks,\nMaria",
            (WorldAttachment("PRN-3F-EAST-display.jpg", 212_482, "image/jpeg"),),
        ),
        (
            46, "Kim Lee", "internal",
            "Known pattern: 49.4C02 is a corrupt print job on the M607 fleet. Print-fleet "
            "pushed firmware 4.2 on Friday. Checking the print server and the VLAN.",
            (),
        ),
        (
            30, "Kim Lee", "public",
            "We are on it: our print team and the hosting provider are looking at the print "
            "server. We will update you within the hour.",
            (),
        ),
        (
            18, "Maria Jensen", "public",
            "Thanks. Jobs from Excel fail too; Word prints one page, then stops.\n\n"
            "On Sun at 13:32, Kim Lee <kim.lee@desk.example> wrote:\n"
            "> We are on it: our print team and the hosting provider are looking at the\n"
            "> print server. We will update you within the hour.",
            (),
        ),
    ),
    "hosting": (
        (
            40, "Raj Mehta", "internal",
            "Spooler on VM-PRT-SRV02 crashed 14 times since 09:00. Faulting module: PCL6 driver "
            "hpcpcl6.dll 7.1.0. Collecting a dump.",
            (WorldAttachment("spoolsv-0922.dmp", 48_211_968, "application/octet-stream"),),
        ),
        (
            8, "Raj Mehta", "public",
            "We rolled the PCL6 driver back to 7.0.4 on VM-PRT-SRV02 and restarted the "
            "spooler. Please ask the user to print a test page.",
            (),
        ),
    ),
    "network": (
        (
            25, "Ana Ruiz", "public",
            "VLAN 40 (printers, 3rd floor) was pruned from the trunk on SW-CORE-01 by last "
            "night's change. Restored at 13:40; PRN-3F-EAST answers ping again.",
            (),
        ),
    ),
    "print-fleet": (
        (
            20, "Lena Vogt", "public",
            "Firmware 4.2 on the M607 fleet mishandles PCL6 jobs from driver 7.1.0 (49.4C02). "
            "Roll the driver back or wait for firmware 4.2.1, due Tuesday.",
            (),
        ),
        (
            15, "Marco Silva", "internal",
            "Same error on 6 printers at two other customers since the rollout.",
            (),
        ),
    ),
}  # fmt: skip
"""What the vendors' own people wrote on the printer story's tickets before the demo starts:
(minutes ago, author, visibility, text, attachments)."""


@dataclass(frozen=True)
class VendorRole:
    """One vendor in the story: what its tickets are about and who works them."""

    name: str
    titles: tuple[str, ...]
    agents: tuple[str, ...]
    group: str


ROLES = {
    "hosting": VendorRole(
        "hosting",
        (
            "GP app server slow at month end",
            "VM-GP-SQL01 disk latency above 40 ms",
            "Backup job failed on VM-GP-APP01",
            "Certificate expiring on gp.acme.example",
            "Snapshot cleanup for accounting cluster",
            "Print server VM prt-srv-02 high CPU",
            "Patch window request for GP servers",
            "Memory alarm on VM-GP-APP01",
            "Restore request: GP company database",
            "Firewall rule for new SFTP feed",
        ),
        ("svc-hosting", "Dana Ortiz", "Raj Mehta", "Lee Park"),
        "Managed Hosting L2",
    ),
    "network": VendorRole(
        "network",
        (
            "Printer VLAN unreachable from 3rd floor",
            "Switch SW-CORE-01 port flapping",
            "Wi-Fi AP-3F-07 dropping clients",
            "DHCP scope nearly full",
            "VPN concentrator CPU high",
            "New firewall rule for print server",
            "DNS resolution slow for gp.acme.example",
        ),
        ("Ana Ruiz", "Felix Braun", "Noor Aziz"),
        "Network Ops",
    ),
    "print-fleet": VendorRole(
        "print-fleet",
        (
            "PRN-3F-EAST error 49.4C02",
            "Toner low on PRN-2F-WEST",
            "Paper jam tray 2",
            "Scan to e-mail failing",
            "Driver rollout for new fleet",
            "Print queue stuck",
        ),
        ("Lena Vogt", "Marco Silva"),
        "Print Fleet Service",
    ),
    "app-partner": VendorRole(
        "app-partner",
        (
            "GP month-end close runs slowly",
            "GP print jobs hang on VM-PRT-SRV02",
            "Upgrade planning for GP 2026",
            "Report writer crashes",
            "Integration user locked out",
        ),
        ("Priya Shah", "Tom Becker"),
        "GP Consulting",
    ),
    "on-call": VendorRole(
        "on-call",
        (
            "VM-GP-APP01 unresponsive",
            "Storage latency above threshold",
            "Backup job missed window",
            "Certificate expires in 7 days",
            "UPS on battery in DC-2",
        ),
        ("DC on-call", "Storage on-call"),
        "Data Centre",
    ),
    "field-service": VendorRole(
        "field-service",
        (
            "Replace laptop screen",
            "Install docking station",
            "Move desk equipment",
            "Cable patching",
        ),
        ("Field tech A", "Field tech B"),
        "Field Service",
    ),
    "noc-alerts": VendorRole(
        "noc-alerts",
        (
            "Ping loss to branch office",
            "Disk 90% on VM-GP-SQL01",
            "HTTP 5xx on gp.acme.example",
            "Print spooler service down on VM-PRT-SRV02",
            "High memory on VM-GP-APP01",
        ),
        ("noc@acme.example",),
        "NOC",
    ),
    "desktop": VendorRole(
        "desktop",
        (
            "Laptop will not dock",
            "Outlook keeps asking for password",
            "New starter kit for Finance",
            "Teams audio drops on calls",
            "Cannot open GP client: login failed",
            "Monitor flickering",
            "Password reset for shared mailbox",
            "VPN disconnects every hour",
            "Excel add-in missing after update",
            "Keyboard replacement",
        ),
        ("Kim Lee", "Arjun Das", "Sofia Rossi", "Mats Lind"),
        "Desktop Support",
    ),
}


class AcmeWorld:
    """Seeds and then animates the emulators of the demo."""

    def __init__(
        self,
        tickets: dict[str, TicketEmulator],
        status: object | None = None,
        *,
        seed: int | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tickets = tickets
        self.status = status
        self.rng = random.Random(seed)
        self.clock = clock
        self.live: dict[str, dict[str, WorldTicket]] = {name: {} for name in tickets}
        self._serial = 0
        self.story: set[str] = set()
        """Refs of the printer story's tickets: the operator plays them; the world does not."""
        self.worked: dict[tuple[str, str], int] = {}
        """Hand-offs the vendors' own agents have picked up: how far each has come."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.majors = 0
        """Major incidents opened so far (one at the start, another every ten minutes)."""

    # -- seeding -------------------------------------------------------------------------------

    def _ref(self, vendor: str) -> str:
        self._serial += 1
        return f"{vendor}-{self._serial}"

    def _put(self, vendor: str, ticket: WorldTicket) -> None:
        self.live[vendor][ticket.ref] = ticket
        self.tickets[vendor].put_ticket(ticket)

    def new_ticket(
        self,
        vendor: str,
        *,
        title: str | None = None,
        priority: Priority | None = None,
        age: timedelta = timedelta(0),
        status: TicketStatus = TicketStatus.NEW,
        requester: str | None = None,
        asset: str | None = None,
    ) -> WorldTicket:
        """Create a ticket at ``vendor`` that was opened ``age`` ago."""
        role = ROLES.get(vendor, ROLES["desktop"])
        now = self.clock()
        created = now - age
        chosen = (
            priority
            or self.rng.choices(
                (Priority.P1, Priority.P2, Priority.P3, Priority.P4), weights=(1, 3, 6, 3)
            )[0]
        )
        ticket = WorldTicket(
            ref=self._ref(vendor),
            title=title or self.rng.choice(role.titles),
            status=status,
            priority=chosen,
            created_at=created,
            updated_at=now if age < timedelta(minutes=5) else created + age / 2,
            assignee=None if status is TicketStatus.NEW else self.rng.choice(role.agents),
            requester=requester or self.rng.choice(PEOPLE),
            group=role.group,
            asset=asset or self.rng.choice(ASSETS),
            description="Reported through the service desk.",
        )
        self._put(vendor, ticket)
        return ticket

    def major_incident(self) -> WorldTicket | None:
        """A P1 in the major-incident group: its response clock runs out within two minutes.

        Nobody picks it up (the world leaves it alone), so its response clock
        crosses 50 %, 75 % and 100 % while you watch, and the notifications fire.
        """
        if "hosting" not in self.tickets:
            return None
        self.majors += 1
        ticket = self.new_ticket(
            "hosting",
            title=f"Major incident: GP accounting down for every user (#{self.majors})",
            priority=Priority.P1,
            status=TicketStatus.NEW,
            asset="VM-GP-APP01",
        )
        ticket = replace(ticket, group=MAJOR_INCIDENT_GROUP, assignee=None)
        self._put("hosting", ticket)
        self.story.add(ticket.ref)
        return ticket

    def _story(self, vendor: str, **fields: Any) -> None:
        ticket = self.new_ticket(vendor, **fields)
        self.story.add(ticket.ref)
        self._talk(vendor, ticket.ref)

    def _talk(self, vendor: str, ref: str) -> None:
        """The vendor's people write on a story ticket, through the emulator's own store."""
        now = self.clock()
        for n, (minutes, author, visibility, text, files) in enumerate(_STORY_TALK.get(vendor, ())):
            entry = WorldEntry(
                f"story-{n}", author, text, now - timedelta(minutes=minutes), visibility,
                attachments=files,
            )  # fmt: skip
            try:
                self.tickets[vendor].put_entry(ref, entry)
            except NotImplementedError:
                return  # this vendor's emulator keeps no conversations yet

    def _seed_age(self) -> timedelta:
        """Mostly today's work, some from yesterday, a tail from earlier in the week."""
        rng = self.rng
        upper = rng.choices((5 * 60, 30 * 60, 4 * 24 * 60), weights=(5, 3, 2))[0]
        return timedelta(minutes=rng.randint(10, upper))

    def seed(self) -> None:
        """The opening scene."""
        rng = self.rng
        for vendor in self.tickets:
            for _ in range({"desktop": 28, "hosting": 18}.get(vendor, 8)):
                status = rng.choices(
                    (
                        TicketStatus.NEW,
                        TicketStatus.OPEN,
                        TicketStatus.PENDING,
                        TicketStatus.RESOLVED,
                    ),
                    weights=(2, 6, 2, 3),
                )[0]
                self.new_ticket(vendor, status=status, age=self._seed_age())
        # The weekly case: one user's printer problem, in pieces at several vendors.
        if "desktop" in self.tickets:
            self._story(
                "desktop",
                title="Cannot print, error code 49.4C02",
                priority=Priority.P2,
                age=timedelta(minutes=52),
                status=TicketStatus.OPEN,
                requester="Maria Jensen",
                asset="PRN-3F-EAST",
            )
        if "hosting" in self.tickets:
            self._story(
                "hosting",
                title="Print spooler crashes on VM-PRT-SRV02 (49.4C02 jobs)",
                priority=Priority.P2,
                age=timedelta(minutes=47),
                status=TicketStatus.OPEN,
                requester="Maria Jensen",
                asset="VM-PRT-SRV02",
            )
            # A P1 whose response deadline passes a minute into the demo.
            self.new_ticket(
                "hosting",
                title="GP app server unreachable for Finance",
                priority=Priority.P1,
                age=timedelta(minutes=14),
                status=TicketStatus.NEW,
                asset="VM-GP-APP01",
            )
        if "network" in self.tickets:
            self._story(
                "network",
                title="Printer VLAN unreachable from 3rd floor (49.4C02)",
                priority=Priority.P2,
                age=timedelta(minutes=40),
                status=TicketStatus.OPEN,
                requester="Maria Jensen",
                asset="SW-CORE-01",
            )
        if "print-fleet" in self.tickets:
            self._story(
                "print-fleet",
                title="PRN-3F-EAST error 49.4C02 after firmware update",
                priority=Priority.P2,
                age=timedelta(minutes=35),
                status=TicketStatus.OPEN,
                requester="Maria Jensen",
                asset="PRN-3F-EAST",
            )
        # Deadlines that fall while you watch: ages just under their targets.
        for vendor, priority, minutes in (
            ("desktop", Priority.P2, 58),
            ("hosting", Priority.P1, 236),
        ):
            if vendor in self.tickets:
                self.new_ticket(
                    vendor,
                    priority=priority,
                    age=timedelta(minutes=minutes),
                    status=TicketStatus.OPEN,
                )
        if self.status is not None:
            self.status.set_component("Storage", "degraded_performance")  # type: ignore[attr-defined]
            self.status.open_incident(  # type: ignore[attr-defined]
                "Elevated latency on EU-West block storage",
                "minor",
                "We are investigating increased latency for volumes in EU-West.",
                components=["Storage"],
            )

    # -- life ---------------------------------------------------------------------------

    def work_handoff(self) -> str | None:
        """A vendor's own agent moves a ticket handed to it: picked up, then resolved.

        The change goes through that vendor's API (as its agents' tools would),
        so paneglass sees it only by polling, like any vendor-side change.
        """
        waiting = [
            (name, ticket_id)
            for name, emulator in self.tickets.items()
            for ticket_id in list(emulator.created)
            if self.worked.get((name, ticket_id), 0) < len(_HANDOFF_STEPS)
        ]
        if not waiting:
            return None
        name, ticket_id = self.rng.choice(waiting)
        done = self.worked.get((name, ticket_id), 0)
        status = _HANDOFF_STEPS[done]
        self.worked[(name, ticket_id)] = done + 1
        role = ROLES.get(name, ROLES["desktop"])
        reply = _HANDOFF_REPLIES[status].format(agent=role.agents[0], group=role.group)
        try:
            asyncio.run(self._vendor_sets(name, ticket_id, status, reply))
        except ConnectorError as exc:
            return f"{name}: {ticket_id} could not move ({exc})"
        return f"{name}: handed-off {ticket_id} -> {status.value}"

    async def _vendor_sets(
        self, name: str, ticket_id: str, status: TicketStatus, reply: str = ""
    ) -> None:
        emulator = self.tickets[name]
        settings = emulator.vendor_settings()
        kind = settings.pop("kind")
        config = VendorConfig(name, kind, emulator.base_url, settings=settings)
        cls = load_connector(kind)
        async with cls.make_client(config) as client:
            connector = cls(config, client)
            if reply and ActionKind.COMMENT in cls.supported_actions:
                answer = Action(ActionKind.COMMENT, ticket_id, ticket_id, text=reply, public=True)
                try:
                    await connector.perform(answer)
                except ConnectorError:  # a vendor with no public replies (alert notes)
                    await connector.perform(replace(answer, public=False))
            action = Action(ActionKind.SET_STATUS, ticket_id, ticket_id, status=status)
            await connector.perform(action)

    def step(self) -> str:
        """One change in the world; returns what happened (for logs and tests)."""
        rng = self.rng
        if rng.random() < 0.25:
            worked = self.work_handoff()
            if worked is not None:
                return worked
        vendor = rng.choice(list(self.tickets))
        live = self.live[vendor]
        active = [t for t in live.values() if t.status.is_active and t.ref not in self.story]
        roll = rng.random()
        if roll < 0.3 or not active:
            ticket = self.new_ticket(vendor)
            return f"{vendor}: new {ticket.ref}"
        ticket = rng.choice(active)
        now = self.clock()
        role = ROLES.get(vendor, ROLES["desktop"])
        if ticket.status is TicketStatus.NEW:
            changed = replace(
                ticket,
                status=TicketStatus.OPEN,
                assignee=rng.choice(role.agents),
                first_response_at=now,
            )
        elif ticket.status is TicketStatus.PENDING:
            changed = replace(ticket, status=TicketStatus.OPEN)
        elif roll < 0.55:
            changed = replace(ticket, status=TicketStatus.PENDING)
        elif roll < 0.8:
            changed = replace(ticket, status=TicketStatus.RESOLVED, resolved_at=now)
        else:
            changed = replace(ticket, assignee=rng.choice(role.agents))
        changed = replace(changed, updated_at=now)
        self._put(vendor, changed)
        return f"{vendor}: {ticket.ref} {ticket.status.value} -> {changed.status.value}"

    def start(self, every: float = 4.0, major_every: float = 600.0) -> None:
        """Change the world every ``every`` seconds (with jitter) in a daemon thread; open a
        major incident a few seconds in, then every ``major_every`` seconds."""

        def run() -> None:
            next_major = time.monotonic() + 5.0
            while not self._stop.wait(every * self.rng.uniform(0.5, 1.5)):
                if time.monotonic() >= next_major:
                    self.major_incident()
                    next_major = time.monotonic() + major_every
                    continue
                self.step()

        self._thread = threading.Thread(target=run, name="acme-world", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop changing the world."""
        self._stop.set()

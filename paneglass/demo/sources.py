"""The demo's issue-17 sources: a mailbox of vendor e-mail and a cloud status feed.

* **The mailbox** is a real Dovecot on 127.0.0.1 (:mod:`connectors.emulators._dovecot`;
  the IMAP connector has no emulator). It holds vendors' e-mails about the
  printer case whose subjects quote the case's ticket numbers at desktop
  (Zendesk ``[#…]``), hosting (ServiceNow ``INC…``) and network (Jira
  ``ITSD-…``), so they join those tickets; and one e-mail no pattern matches,
  which stays a mail item for an operator to attach. Without Dovecot on the
  machine the demo starts without the mailbox and says so in one line.
* **The cloud status feed** ("cloud-status") is the public cloud region the
  ERP partner runs on, on the Statuspage kit: one maintenance window in
  progress and one announced for tomorrow. (Google Cloud, AWS Health and Azure
  publish no maintenance windows in their feeds, so the hyperscaler window is
  shown the way a Statuspage-hosted provider publishes it.)
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from connectors.emulators._dovecot import DovecotServer, find_dovecot
from connectors.emulators.statuspage import StatuspageEmulator

__all__ = [
    "STATUS_SOURCES",
    "cloud_status",
    "fill_mailbox",
    "mailbox_settings",
    "start_mailbox",
]

STATUS_SOURCES = {"hosting": "hosting-status", "erp-partner": "cloud-status"}
"""Which demo vendor's status each feed publishes (``status_source``)."""


def cloud_status(now: datetime) -> StatuspageEmulator:
    """The ERP partner's cloud region: storage maintenance now, network maintenance tomorrow."""
    feed = StatuspageEmulator(
        page_name="Cloud Region EU-West",
        components=(
            ("Compute", "EU-West"),
            ("Block Storage", "EU-West"),
            ("Networking", "EU-West"),
            ("Managed Databases", "EU-West"),
        ),
    )
    running = feed.schedule_maintenance(
        "Block Storage firmware upgrade (EU-West)",
        starts_at=now - timedelta(minutes=20),
        ends_at=now + timedelta(minutes=100),
        components=("Block Storage",),
    )
    feed.start_maintenance(running)
    feed.schedule_maintenance(
        "Core network router replacement (EU-West)",
        starts_at=now + timedelta(hours=20),
        ends_at=now + timedelta(hours=23),
        components=("Networking",),
    )
    return feed


def _mail(subject: str, sender: str, body: str, when: datetime, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "servicedesk@acme.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    message["Date"] = format_datetime(when)
    message.set_content(body)
    return message.as_bytes()


def start_mailbox() -> DovecotServer | None:
    """Start an empty Dovecot (mostly waiting: it may run beside the emulators' start);
    ``None`` (and one line) without Dovecot."""
    if find_dovecot() is None:
        print(
            "demo: no Dovecot on this machine (apt-get install -y dovecot-imapd): "
            "the mailbox is left out",
            file=sys.stderr,
        )
        return None
    server = DovecotServer()
    server.start()
    return server


def fill_mailbox(server: DovecotServer, story_keys: dict[str, str], now: datetime) -> None:
    """The printer case's e-mails, quoting its ticket keys at each vendor, and one more."""
    mails = []
    if "desktop" in story_keys:
        mails.append(
            _mail(
                f"Re: [{story_keys['desktop']}] Cannot print, error code 49.4C02",
                "Kim Lee <kim.lee@desk-vendor.example>",
                "Hi, the user still sees 49.4C02 on PRN-3F-EAST after the restart.\n",
                now - timedelta(minutes=30),
                "desk-49-4c02@desk-vendor.example",
            )
        )
    if "hosting" in story_keys:
        mails.append(
            _mail(
                f"{story_keys['hosting']}: spooler on VM-PRT-SRV02 restarted",
                "Hosting NOC <noc@hosting-vendor.example>",
                "We restarted the print spooler; crash dumps point at one 49.4C02 job.\n",
                now - timedelta(minutes=18),
                "hosting-spooler@hosting-vendor.example",
            )
        )
    if "network" in story_keys:
        mails.append(
            _mail(
                f"[JIRA] ({story_keys['network']}) Printer VLAN unreachable from 3rd floor",
                "Network team <jira@acme.example>",
                "Ana Ruiz changed the status to In Progress: trunk port on SW-CORE-01.\n",
                now - timedelta(minutes=12),
                "net-vlan@acme.example",
            )
        )
    mails.append(
        _mail(
            "Toner delivery for 3rd floor printers",
            "Orders <orders@print-vendor.example>",
            "Your toner order ships today; no ticket number was given.\n",
            now - timedelta(minutes=8),
            "toner-order@print-vendor.example",
        )
    )
    server.append_many(mails)


def mailbox_settings(server: DovecotServer) -> dict[str, Any]:
    """The mailbox's vendor section: which vendor each subject pattern names."""
    return server.vendor_settings(
        match={"desktop": "zendesk", "hosting": "servicenow", "network": "jira:ITSD"},
        backfill_days=30,
    )

"""Start and stop a demo: emulators, world, throwaway database, config."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from connectors import VendorConfig
from connectors.emulators import emulator_for
from connectors.emulators._dovecot import DovecotServer
from connectors.emulators.base import Emulator, TicketEmulator
from connectors.emulators.statuspage import StatuspageEmulator
from paneglass.config import Config, DisplayConfig
from paneglass.demo.notify import DEMO_NOTIFY
from paneglass.demo.notify import DEMO_SLA as NOTIFY_SLA
from paneglass.demo.sources import STATUS_SOURCES, cloud_status, mailbox, mailbox_settings
from paneglass.demo.world import AcmeWorld
from paneglass.sla import SlaSettings
from paneglass.store.template import new_sqlite_store

__all__ = ["DemoSession", "start_demo"]

DEMO_SLA = SlaSettings(tuple(replace(p, pause_in_maintenance=True) for p in NOTIFY_SLA.policies))
"""The demo's targets (the built-in ones behind a fast major-incident contract), paused
while a vendor's status feed announces maintenance."""

DEMO_POLL_SECONDS = {"hosting-status": 10.0, "cloud-status": 10.0, "mail": 10.0}
"""Ticketing vendors poll every 5 s in the demo; the status page every 10 s."""

DEMO_VENDORS = (
    ("hosting", "servicenow"),
    ("desktop", "zendesk"),
    ("network", "jira"),
    ("print-fleet", "freshservice"),
    ("app-partner", "connectwise"),
    ("on-call", "pagerduty"),
    ("field-service", "autotask"),
    ("noc-alerts", "opsgenie"),
    ("erp-partner", "salesforce"),
    ("rmm-alerts", "datto-rmm"),
)
"""Acme's vendors (DESIGN, "What a first run should look like"); each joins when its
connector and emulator are installed."""


def _ticket_emulators() -> dict[str, TicketEmulator]:
    found: dict[str, TicketEmulator] = {}
    for name, kind in DEMO_VENDORS:
        try:
            cls = emulator_for(kind)
        except ImportError:
            continue  # that vendor's connector has not landed in this build
        emulator = cls()
        if isinstance(emulator, TicketEmulator):
            found[name] = emulator
    return found


@dataclass
class DemoSession:
    """A running demo; :meth:`close` stops it and deletes its database."""

    config: Config
    db_url: str
    world: AcmeWorld
    emulators: dict[str, Emulator]
    folder: Path
    closed: bool = field(default=False)
    mailbox: DovecotServer | None = None
    """The demo mailbox's Dovecot (``None`` where Dovecot is not installed)."""
    history: threading.Thread | None = None
    """Writes a year of Acme's history into the demo store, beside the live world."""
    closing: threading.Event = field(default_factory=threading.Event)
    """Set on close: the history replay ends after its current commit."""

    def close(self) -> None:
        """Stop the world and the emulators; remove the demo database."""
        if self.closed:
            return
        self.closed = True
        self.closing.set()
        if self.history is not None:
            self.history.join(timeout=60)
        self.world.stop()
        for emulator in self.emulators.values():
            emulator.stop()
        if self.mailbox is not None:
            self.mailbox.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(
    *, seed: int | None = None, tick_seconds: float = 4.0, live: bool = True
) -> DemoSession:
    """Start the emulators on 127.0.0.1, seed the Acme world, and describe it as a config."""
    ticketing = _ticket_emulators()
    status = StatuspageEmulator()
    cloud = cloud_status(datetime.now(UTC))
    emulators: dict[str, Emulator] = {
        **ticketing,
        "hosting-status": status,
        "cloud-status": cloud,
    }
    for emulator in emulators.values():
        emulator.start()
    world = AcmeWorld(ticketing, status, seed=seed)
    world.seed()
    mail = mailbox(world.story_keys, datetime.now(UTC))
    if live:
        world.start(tick_seconds)
    vendors = []
    for name, emulator in emulators.items():
        settings = emulator.vendor_settings()
        kind = settings.pop("kind")
        if kind == "jira":  # hand-offs to the network team open issues in its project
            settings.setdefault("project", getattr(emulator, "project_key", "ITSD"))
        vendors.append(
            VendorConfig(
                name=name,
                kind=kind,
                base_url=emulator.base_url,
                poll_interval=DEMO_POLL_SECONDS.get(name, 5.0),
                settings={**settings, "backfill_days": 30},
                status_source=STATUS_SOURCES.get(name),
            )
        )
    if mail is not None:
        settings = mailbox_settings(mail)
        kind = settings.pop("kind")
        vendors.append(
            VendorConfig("mail", kind, mail.base_url, DEMO_POLL_SECONDS["mail"], settings=settings)
        )
    folder = Path(tempfile.mkdtemp(prefix="paneglass-demo-"))
    # Created at the newest schema version before the history thread and the console open
    # it (two first openings racing to migrate left one waiting past its lock timeout).
    new_sqlite_store(folder / "demo.db")
    config = Config(
        display=DisplayConfig(),
        vendors=tuple(vendors),
        demo=True,
        sla=DEMO_SLA,
        notify=DEMO_NOTIFY,
    )
    session = DemoSession(
        config, f"sqlite:///{folder / 'demo.db'}", world, emulators, folder, mailbox=mail
    )
    if live:
        session.history = threading.Thread(
            target=_write_history, args=(session,), name="demo-history", daemon=True
        )
        session.history.start()
    return session


def _write_history(session: DemoSession) -> None:
    """A year of history for the scorecards (a few seconds, while the console starts)."""
    from paneglass.demo.history import seed_history
    from paneglass.store import Store

    store = Store(session.db_url)
    try:
        store.sync_vendors(session.config.vendors)
        names = [v.name for v in session.config.vendors]
        seed_history(store, datetime.now(UTC), names, stop=session.closing)
    except Exception:  # the demo goes on without history rather than stop
        logging.getLogger("paneglass.demo").exception("demo history not written")
    finally:
        store.close()

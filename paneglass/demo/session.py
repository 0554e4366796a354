"""Start and stop a demo: emulators, world, throwaway database, config."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors import VendorConfig
from connectors.emulators import emulator_for
from connectors.emulators._dovecot import DovecotServer
from connectors.emulators.base import Emulator, TicketEmulator
from connectors.emulators.statuspage import StatuspageEmulator
from paneglass.config import Config
from paneglass.demo.config import demo_config
from paneglass.demo.sources import (
    STATUS_SOURCES,
    cloud_status,
    fill_mailbox,
    mailbox_settings,
    start_mailbox,
)
from paneglass.demo.world import AcmeWorld
from paneglass.store.template import new_sqlite_store

__all__ = ["DemoSession", "start_demo"]

DEMO_POLL_SECONDS = {"hosting-status": 10.0, "cloud-status": 10.0, "mail": 10.0}
"""Ticketing vendors poll every 5 s in the demo; the status page every 10 s."""

HISTORY_BEGIN_SECONDS = 10.0
"""At most this long a demo beside its console waits for the history's first ticket."""
HISTORY_PAUSE = 0.03
"""Seconds between two history commits beside a console in another process (about as long
as a commit: the console's reads and writes find the lock free half the time)."""

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
    history_held: threading.Event | None = None
    """Beside a console in another process: the history's rest waits until this is set."""
    history_begun: threading.Event = field(default_factory=threading.Event)
    """Set once the history's first ticket is in (or the history gave up)."""

    def resume_history(self) -> None:
        """The console has started: the rest of the history may go in."""
        if self.history_held is not None:
            self.history_held.set()

    def close(self) -> None:
        """Stop the world and the emulators; remove the demo database."""
        if self.closed:
            return
        self.closed = True
        self.closing.set()
        self.resume_history()
        if self.history is not None:
            self.history.join(timeout=60)
        self.world.stop()
        for emulator in self.emulators.values():
            emulator.stop()
        if self.mailbox is not None:
            self.mailbox.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(
    *,
    seed: int | None = None,
    tick_seconds: float = 4.0,
    live: bool = True,
    console_apart: bool = False,
) -> DemoSession:
    """Start the emulators on 127.0.0.1, seed the Acme world, and describe it as a config.

    Dovecot, which mostly waits for its port, starts in a thread beside the emulators; the
    year of history starts as soon as the store exists, before the mailbox is filled.
    ``console_apart``: the console runs in another process, so this process's writers do
    not stand aside for its writers by themselves (SQLite's busy wait is no queue): the
    history's first commit goes in at once, the rest once :meth:`DemoSession.resume_history`
    is called, leaving the write lock free between its commits.
    """
    mail = _Mailbox()
    session: DemoSession | None = None
    try:
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
        vendors = [_vendor(name, emulator) for name, emulator in emulators.items()]
        folder = Path(tempfile.mkdtemp(prefix="paneglass-demo-"))
        # Created at the newest schema version before the history thread and the console
        # open it (two first openings racing to migrate left one waiting past its lock
        # timeout).
        new_sqlite_store(folder / "demo.db")
        world = AcmeWorld(ticketing, status, seed=seed)
        session = DemoSession(
            demo_config(vendors), f"sqlite:///{folder / 'demo.db'}", world, emulators, folder
        )
        if live:  # first: the console's first frame shows the history's first ticket
            if console_apart:
                session.history_held = threading.Event()
            session.history = threading.Thread(
                target=_write_history,
                args=(session, tuple(vendors)),
                name="demo-history",
                daemon=True,
            )
            session.history.start()
        world.seed()
        mail.fill(world.story_keys)
        server = mail.server()
        if server is not None:
            session.mailbox = server
            settings = mailbox_settings(server)
            kind = settings.pop("kind")
            vendors.append(
                VendorConfig(
                    "mail", kind, server.base_url, DEMO_POLL_SECONDS["mail"], settings=settings
                )
            )
            session.config = demo_config(vendors)
        if console_apart:
            # The console opens the store once told where it is: after the first ticket is
            # in, so neither waits for the other's write lock (SQLite's busy wait sleeps in
            # steps up to 100 ms). The mailbox fills meanwhile: the console's collector polls
            # it last, some hundred milliseconds after its first frame, and every 10 s.
            if session.history is not None:
                session.history_begun.wait(timeout=HISTORY_BEGIN_SECONDS)
        else:
            mail.wait_filled()
    except BaseException:
        mail.abandon()
        if session is not None:
            session.close()
        raise
    if live:
        world.start(tick_seconds)
    return session


def _vendor(name: str, emulator: Emulator) -> VendorConfig:
    """The demo's vendor section for one running emulator."""
    settings = emulator.vendor_settings()
    kind = settings.pop("kind")
    if kind == "jira":  # hand-offs to the network team open issues in its project
        settings.setdefault("project", getattr(emulator, "project_key", "ITSD"))
    return VendorConfig(
        name=name,
        kind=kind,
        base_url=emulator.base_url,
        poll_interval=DEMO_POLL_SECONDS.get(name, 5.0),
        settings={**settings, "backfill_days": 30},
        status_source=STATUS_SOURCES.get(name),
    )


class _Mailbox:
    """The demo's Dovecot, started in a thread at once (it mostly waits for its port), and
    filled there once the world has the ticket keys its e-mails quote."""

    def __init__(self) -> None:
        self._server: DovecotServer | None = None
        self._error: BaseException | None = None
        self._keys: dict[str, str] = {}
        self._seeded = threading.Event()
        self._abandoned = False
        self._started = threading.Event()
        self._filled = threading.Event()
        threading.Thread(target=self._run, name="demo-mailbox", daemon=True).start()

    def _run(self) -> None:
        try:
            self._server = start_mailbox()
            self._started.set()
            if self._server is not None:
                self._seeded.wait()
                if self._abandoned:
                    self._server.stop()
                else:
                    fill_mailbox(self._server, self._keys, datetime.now(UTC))
        except BaseException as exc:  # handed to whoever waits for it
            self._error = exc
            logging.getLogger("paneglass.demo").exception("demo mailbox not ready")
        finally:
            self._started.set()
            self._filled.set()

    def fill(self, story_keys: dict[str, str]) -> None:
        """The world is seeded: fill the mailbox with e-mails quoting ``story_keys``."""
        self._keys = dict(story_keys)
        self._seeded.set()

    def abandon(self) -> None:
        """The demo did not start: stop the server (now, or once it has started)."""
        self._abandoned = True
        self._seeded.set()
        if self._filled.is_set() and self._server is not None:
            self._server.stop()  # idempotent: the session may stop it too

    def server(self) -> DovecotServer | None:
        """The running server (``None`` without Dovecot); re-raises what stopped its start."""
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self._server

    def wait_filled(self) -> None:
        """Wait until the e-mails are in; re-raises what stopped that."""
        self._filled.wait()
        if self._error is not None:
            raise self._error


def _write_history(session: DemoSession, vendors: tuple[VendorConfig, ...]) -> None:
    """A year of history for the scorecards (a few seconds, while the console starts)."""
    from paneglass.demo.history import seed_history
    from paneglass.store import Store

    store = Store(session.db_url)
    try:
        store.sync_vendors(vendors)
        names = [v.name for v in vendors]
        seed_history(
            store,
            datetime.now(UTC),
            names,
            stop=session.closing,
            hold=session.history_held,
            begun=session.history_begun,
            pause=HISTORY_PAUSE if session.history_held is not None else 0.0,
        )
    except Exception:  # the demo goes on without history rather than stop
        logging.getLogger("paneglass.demo").exception("demo history not written")
    finally:
        session.history_begun.set()
        store.close()

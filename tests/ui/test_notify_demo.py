"""The demo world's major incident crosses 50 %, 75 % and 100 %: each step once, everywhere.

Real parts: the vendor emulators on loopback, the collecting console (headless,
in this process), two more consoles as separate processes following the store
(a console and a wall that may ring), a webhook receiver and an SMTP server
(STARTTLS, AUTH) on 127.0.0.1. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from paneglass.demo.notify import MAJOR_INCIDENT_GROUP
from paneglass.demo.session import start_demo
from paneglass.notify.events import ALIASES
from paneglass.notify.rules import NotifySettings, Rule, SmtpSettings, Webhook
from paneglass.sla import DEFAULT_SETTINGS, Policy, SlaSettings
from paneglass.store import Store
from paneglass.ui.app import PaneglassApp
from tests.notify_servers import SmtpReceiver, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
RESPONSE = timedelta(seconds=24)
"""The test's major-incident response target: 50 % at 12 s, 75 % at 18 s, breach at 24 s (a sweep
that comes late sees only the higher level: 6 s between levels keeps each seen under load)."""


class Viewer:
    """A probe process and what it printed."""

    def __init__(self, db: str, kind: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.notify_probe", db, "120", kind],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("ready"):
                self.ready.set()

    @property
    def last(self) -> tuple[list[int], int, int]:
        """(firing ids shown, bells rung, desktop notifications) as last printed."""
        for line in reversed(self.lines):
            if line.startswith("shown "):
                _, ids, _, bells, _, desktop = line.split()
                shown = [] if ids == "-" else [int(i) for i in ids.split(",")]
                return shown, int(bells), int(desktop)
        return [], 0, 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_each_step_once_per_viewer_webhook_and_mail(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    session = start_demo(seed=5, live=False)
    db = session.db_url if backend == "sqlite" else str(request.getfixturevalue("pg_database"))
    sla = SlaSettings(
        (
            Policy(
                "Major incident (test)",
                response=RESPONSE,
                resolution=timedelta(hours=1),
                priorities=frozenset({"P1"}),
                groups=frozenset({MAJOR_INCIDENT_GROUP.lower()}),
            ),
            *DEFAULT_SETTINGS.policies,
        )
    )
    viewers: list[Viewer] = []
    try:
        with WebhookReceiver() as hook, SmtpReceiver(tmp_path) as smtp:
            notify = NotifySettings(
                rules=(
                    Rule(
                        name="major incident",
                        events=ALIASES["sla"],
                        channels=("toast", "bell", "desktop", "webhook", "email"),
                        priorities=frozenset({"P1"}),
                        groups=frozenset({MAJOR_INCIDENT_GROUP.lower()}),
                        webhook=Webhook(hook.url, "generic"),
                        email_to=("noc@acme.example",),
                    ),
                ),
                smtp=SmtpSettings(
                    host="127.0.0.1",
                    port=smtp.port,
                    username="paneglass",
                    password=smtp.password,
                    ca_file=str(smtp.ca_file),
                    sender="paneglass@acme.example",
                ),
            )
            # Only the vendor the major incident opens at: the other eight add load, not cover.
            fast = tuple(
                replace(v, poll_interval=1.0) for v in session.config.vendors if v.name == "hosting"
            )
            assert fast, "the demo has no hosting vendor"
            config = replace(session.config, vendors=fast, notify=notify, sla=sla)
            store = Store(db, sla=sla)
            app = PaneglassApp(store, config)
            async with app.run_test(size=(160, 48)) as pilot:
                await wait_for(
                    lambda: store.vendor_health() and all(v.last_ok for v in store.vendor_health()),
                    60,
                    "the first sync",
                )
                viewers = [Viewer(db, "console"), Viewer(db, "ringing-wall")]
                for viewer in viewers:
                    assert await asyncio.to_thread(viewer.ready.wait, 60), viewer.lines[-20:]
                await pilot.pause(1.0)
                started = time.monotonic()
                session.world.major_incident()
                await wait_for(
                    lambda: len(hook.posts) >= 3 and len(smtp.messages) >= 3, 90, "3 posts"
                )
                await wait_for(
                    lambda: all(len(v.last[0]) >= 3 for v in viewers) and len(app.feed.shown) >= 3,
                    30,
                    "every viewer to show 3 firings",
                )
                took = time.monotonic() - started
                await pilot.pause(3.0)  # anything doubled would show by now
                rows = store.notification_rows()
                ours = [r for r in rows if r.group_name and "major" in r.group_name.lower()]
                shown_here = list(app.feed.shown)
                bells_here = app.feed.bells
            store.close()
            posts, keys, mails = list(hook.posts), hook.keys, list(smtp.messages)
    finally:
        for viewer in viewers:
            viewer.stop()
        session.close()
    events = sorted(r.event for r in ours)
    assert events == ["sla-at-risk", "sla-breached", "sla-near-breach"], events
    assert len(posts) == 3 and len(set(keys)) == 3, keys
    assert sorted(body["event"] for _, body in posts) == events
    assert len(mails) == 3 and len({m["Message-ID"] for m in mails}) == 3
    assert all(m["Subject"].startswith("[paneglass] ") for m in mails)
    for name, (shown, bells, _desktop) in (
        ("collecting console", (shown_here, bells_here, 0)),
        ("console", viewers[0].last),
        ("wall", viewers[1].last),
    ):
        assert len(shown) == 3 and len(set(shown)) == 3, f"{name}: {shown}"
        assert bells == 3, f"{name} rang {bells} times"
    assert viewers[0].last[0] == viewers[1].last[0] == shown_here
    assert viewers[1].last[2] == 3, "a wall with [wall] bell = true sends desktop notifications"
    print(f"{backend}: 3 steps in {took:.1f} s; 3 toasts and 3 bells per viewer, 3 POSTs, 3 mails")

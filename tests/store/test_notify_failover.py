"""Exactly once across collector fail-over: SIGKILL a collector right after a transition.

Two real ``paneglass collect`` processes share one PostgreSQL (as in
``test_failover.py``) with a rule that toasts, rings, posts to a webhook and
mails through STARTTLS, all on 127.0.0.1; a console follows the store from a
third process. A P1 ticket's 24-second response clock crosses 50 %, 75 % and
100 %; right after the first transition is recorded, the collector polling
the vendor is killed with SIGKILL. At the end each step was recorded once,
posted with one idempotency key, mailed once and shown once (one bell) by
the console.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connectors.emulators.base import WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus
from tests.notify_servers import SmtpReceiver, WebhookReceiver
from tests.ui.test_notify_demo import Viewer

ROOT = Path(__file__).resolve().parents[2]


def query(db: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT to_regclass('notification')")).scalar():
                return []
            return [tuple(row) for row in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_after_a_transition_loses_and_doubles_nothing(
    tmp_path: Path, pg_database: str
) -> None:
    db = pg_database
    now = datetime.now(UTC)
    with (
        ZendeskEmulator() as emulator,
        WebhookReceiver() as hook,
        SmtpReceiver(tmp_path) as smtp,
    ):
        emulator.put_ticket(
            WorldTicket("quiet", "printer toner", TicketStatus.OPEN, Priority.P3, now, now)
        )
        settings = emulator.vendor_settings()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.desk]\nkind = "zendesk"\nbase_url = "{emulator.base_url}"\n'
            f'email = "{settings["email"]}"\napi_token = "{settings["api_token"]}"\n'
            "poll_interval = 1\n\n"
            '[[sla.policies]]\nname = "P1 fast"\npriorities = ["P1"]\n'
            'response = "24s"\nresolution = "1h"\n\n'
            '[[sla.policies]]\nname = "rest"\nresolution = "3d"\n\n'
            f'[notify.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nusername = "paneglass"\n'
            f'password = "${{SMTP_PASSWORD}}"\nca_file = "{smtp.ca_file}"\n'
            'from = "paneglass@acme.example"\n\n'
            '[[notify.rules]]\nname = "P1 SLA"\nwhen = ["sla"]\npriorities = ["P1"]\n'
            'channels = ["toast", "bell", "webhook", "email"]\n'
            f'webhook = "{hook.url}"\nemail_to = ["noc@acme.example"]\n'
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SMTP_PASSWORD": smtp.password}

        def collector() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-m", "paneglass", "collect", "--config", str(config), "--db", db],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

        def runs() -> list[tuple[object, ...]]:
            return query(db, "SELECT collector FROM pollrun ORDER BY id")

        def wait(condition: object, seconds: float, what: str) -> None:
            deadline = time.monotonic() + seconds
            while not condition():  # type: ignore[operator]
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                time.sleep(0.1)

        first = collector()
        wait(lambda: len(runs()) >= 1, 60, "the first poll")
        second = collector()
        wait(lambda: len(runs()) >= 4, 60, "more polls")
        viewer = Viewer(db, "console")
        try:
            assert viewer.ready.wait(60), viewer.lines[-20:]
            owner = str(runs()[-1][0])
            active, standby = (
                (first, second) if owner.endswith(f":{first.pid}") else (second, first)
            )
            time.sleep(1.0)
            created = datetime.now(UTC)
            emulator.put_ticket(
                WorldTicket("p1", "GP down", TicketStatus.NEW, Priority.P1, created, created)
            )
            wait(
                lambda: query(db, "SELECT id FROM notification WHERE event = 'sla-at-risk'"),
                60,
                "the first transition",
            )
            active.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            active.wait(timeout=10)
            wait(lambda: len(hook.posts) >= 3 and len(smtp.messages) >= 3, 90, "three deliveries")
            wait(lambda: len(viewer.last[0]) >= 3, 30, "the console to show three")
            settled = time.monotonic() - killed
            time.sleep(4.0)  # a double would have arrived by now
            rows = query(db, "SELECT event, state FROM notification ORDER BY id")
            sends = query(db, "SELECT kind, rule FROM notificationsend ORDER BY id")
            outbox = query(
                db, "SELECT state, attempts FROM outboxaction WHERE channel IS NOT NULL ORDER BY id"
            )
            posts, keys, mails = list(hook.posts), hook.keys, list(smtp.messages)
            shown, bells, _ = viewer.last
        finally:
            viewer.stop()
            standby.send_signal(signal.SIGTERM)
            out = standby.communicate(timeout=30)[0]
            for proc in (first, second):
                if proc.poll() is None:
                    proc.kill()
    assert standby.returncode == 0, out[-2000:]
    sla = [(event, state) for event, state in rows if str(event).startswith("sla-")]
    assert sla == [
        ("sla-at-risk", "dispatched"),
        ("sla-near-breach", "dispatched"),
        ("sla-breached", "dispatched"),
    ], rows
    assert sends == [("first", "P1 SLA")] * 3
    assert len(outbox) == 6 and all(state == "sent" for state, _ in outbox), outbox
    assert len(set(keys)) == 3, f"three steps, three idempotency keys: {keys}"
    assert len({m["Message-ID"] for m in mails}) == 3
    assert len(shown) == 3 and bells == 3, viewer.lines[-10:]
    print(
        f"after SIGKILL: {len(posts)} POSTs ({len(set(keys))} keys), {len(mails)} mails,"
        f" console showed {len(shown)} with {bells} bells; settled {settled:.1f} s after the kill"
    )
    assert len(posts) == 3 and len(mails) == 3, "a delivery doubled across the fail-over"

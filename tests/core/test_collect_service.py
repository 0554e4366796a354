"""``paneglass collect`` as a service: one log line per poll, clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from connectors.emulators.base import WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus

ROOT = Path(__file__).resolve().parents[2]


def test_logs_each_poll_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with ZendeskEmulator() as emulator:
        now = datetime.now(UTC)
        emulator.put_ticket(WorldTicket("a", "first", TicketStatus.OPEN, Priority.P3, now, now))
        settings = emulator.vendor_settings()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.desk]\nkind = "zendesk"\nbase_url = "{emulator.base_url}"\n'
            f'email = "{settings["email"]}"\napi_token = "${{PG_TOKEN}}"\npoll_interval = 1\n'
        )
        log = tmp_path / "logs" / "collect.log"
        db = tmp_path / "store.db"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PG_TOKEN": settings["api_token"]}
        argv = [sys.executable, "-m", "paneglass", "collect", "--config", str(config)]
        proc = subprocess.Popen(
            [*argv, "--db", f"sqlite:///{db}", "--log", str(log)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60  # wait for two polls, not for a guess at start-up time
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and log.read_text().count(" poll desk ") >= 2:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    lines = [line for line in log.read_text().splitlines() if " poll desk " in line]
    assert len(lines) >= 2 and all(" ok records=" in line for line in lines), log.read_text()
    assert settings["api_token"] not in log.read_text()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM ticket").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM collectorlease").fetchone()[0] == 0  # released
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_second_collect_refuses_and_names_the_first(tmp_path: Path) -> None:
    """docs/deploy.md: a second ``collect`` on the same file refuses to start and names the
    first. Two real processes on one SQLite file; the first keeps running throughout."""
    with ZendeskEmulator() as emulator:
        now = datetime.now(UTC)
        emulator.put_ticket(WorldTicket("a", "first", TicketStatus.OPEN, Priority.P3, now, now))
        settings = emulator.vendor_settings()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.desk]\nkind = "zendesk"\nbase_url = "{emulator.base_url}"\n'
            f'email = "{settings["email"]}"\napi_token = "{settings["api_token"]}"\n'
        )
        log = tmp_path / "collect.log"
        db = f"sqlite:///{tmp_path / 'store.db'}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-m", "paneglass", "collect", "--config", str(config), "--db", db]
        first = subprocess.Popen(
            [*argv, "--log", str(log)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60  # the first holds the lease once it has polled
            while time.monotonic() < deadline and first.poll() is None:
                if log.exists() and " poll desk " in log.read_text():
                    break
                time.sleep(0.2)
            assert first.poll() is None, "the first collector stopped"
            second = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert first.poll() is None, "the second collect disturbed the first"
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=30)
    assert second.returncode != 0
    message = (second.stderr + second.stdout).strip()
    assert "another collector is already writing to this database" in message
    assert f":{first.pid}" in message  # the first named as host:pid
    assert "Traceback" not in message and len(message.splitlines()) == 1

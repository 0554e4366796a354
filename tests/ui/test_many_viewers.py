"""One collector and five viewers on one SQLite file, all real processes.

Every viewer follows the collector (none polls a vendor itself) and shows a
new ticket within two seconds of the commit; nobody sees "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.emulators.base import WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus

ROOT = Path(__file__).resolve().parents[2]
VIEWERS = 5


def world_ticket(n: int) -> WorldTicket:
    now = datetime.now(UTC)
    return WorldTicket(f"v{n}", f"viewer test {n}", TicketStatus.OPEN, Priority.P2, now, now)


def _tickets(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT count(*) FROM sqlite_master WHERE name='ticket'").fetchone()[0]:
            return 0
        return int(conn.execute("SELECT count(*) FROM ticket").fetchone()[0])


@pytest.mark.slow
def test_five_viewers_follow_one_collector(tmp_path: Path) -> None:
    with ZendeskEmulator() as emulator:
        for n in range(3):
            emulator.put_ticket(world_ticket(n))
        settings = emulator.vendor_settings()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.desk]\nkind = "zendesk"\nbase_url = "{emulator.base_url}"\n'
            f'email = "{settings["email"]}"\napi_token = "{settings["api_token"]}"\n'
            "poll_interval = 1\n"
        )
        db = tmp_path / "shared.db"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        collector = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paneglass",
                "collect",
                "--config",
                str(config),
                "--db",
                f"sqlite:///{db}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if db.exists() and _tickets(db) == 3:
                    break
                time.sleep(0.1)
            viewers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.ui.viewer_probe",
                        str(config),
                        f"sqlite:///{db}",
                        "40",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    cwd=ROOT,
                    env=env,
                )
                for _ in range(VIEWERS)
            ]
            outputs = [""] * VIEWERS
            ready = [threading.Event() for _ in viewers]

            def follow(index: int) -> None:
                for line in viewers[index].stdout:  # type: ignore[union-attr]
                    outputs[index] += line
                    if line.startswith("seen ") and line.split()[2] == "3":
                        ready[index].set()

            readers = [
                threading.Thread(target=follow, args=(i,), daemon=True) for i in range(VIEWERS)
            ]
            for reader in readers:
                reader.start()
            for event in ready:  # every viewer up and showing the first three tickets
                assert event.wait(timeout=60), "a viewer never came up"
            time.sleep(1)
            requests_before = len(emulator.requests)
            emulator.put_ticket(world_ticket(99))
            committed = None
            while committed is None and time.monotonic() < deadline + 30:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT count(*) FROM ticket").fetchone()[0] == 4:
                        committed = time.time()
                time.sleep(0.02)
            assert committed is not None, "the collector never committed the new ticket"
            time.sleep(3)  # long enough for every viewer to show it (asserted below: < 2 s)
            for viewer in viewers:
                viewer.terminate()
            for reader in readers:
                reader.join(timeout=30)
        finally:
            collector.terminate()
            collector_output = collector.communicate(timeout=30)[0]
        assert collector.returncode == 0, collector_output[-2000:]
    polls = requests_before  # every request came from the one collector (viewers never poll)
    assert polls > 0
    for output in outputs:
        assert "following " in output and "following None" not in output, output[-1500:]
        seen = [line.split() for line in output.splitlines() if line.startswith("seen ")]
        shown_four = [float(t) for _, t, count in seen if count == "4"]
        assert shown_four, f"a viewer never showed the new ticket:\n{output[-1500:]}"
        assert shown_four[0] - committed < 2.0, (
            f"viewer too slow: {shown_four[0] - committed:.2f} s"
        )
        assert "locked" not in output
    assert "locked" not in collector_output

"""Kill the writer with SIGKILL mid-ingest, again and again; nothing committed is lost.

After every kill: ``PRAGMA integrity_check`` is ok, every batch the writer
reported as committed is in the database, no ticket is duplicated, and the
saved cursor is never ahead of the data it covers.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.store.ingest_forever import PER_BATCH

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def committed_batches(proc: subprocess.Popen[str], seconds: float) -> int:
    """Once the writer reports a commit, let it run ``seconds`` more, SIGKILL it, and
    return the last batch it reported (waiting for a commit keeps a slow start-up
    on a loaded machine from turning the kill into a no-op)."""
    assert proc.stdout is not None
    first = proc.stdout.readline()  # blocks until the first commit of this run
    time.sleep(seconds)
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    lines = [line for line in (first + out).split() if line.isdigit()]
    return int(lines[-1]) if lines else 0


@pytest.mark.slow
def test_sigkill_during_ingest_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(20)
    reported = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.store.ingest_forever", f"sqlite:///{db}"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        reported = max(reported, committed_batches(proc, rng.uniform(0.0, 0.8)))
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            raw = conn.execute("SELECT cursor FROM vendor WHERE name = 'v'").fetchone()
            cursor = int(raw[0].split(":")[1].strip(" }")) if raw and raw[0] else 0
            tickets, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT vendor_id || '/' || external_id) FROM ticket"
            ).fetchone()
            newest = (
                conn.execute(
                    "SELECT max(CAST(substr(external_id, 1, instr(external_id, '-') - 1)"
                    " AS INTEGER)) FROM ticket"
                ).fetchone()[0]
                or 0
            )
            runs = conn.execute("SELECT count(*) FROM pollrun").fetchone()[0]
        assert tickets == distinct, "a ticket was duplicated"
        assert cursor >= reported, "a batch reported committed was lost"
        assert newest == cursor, "the cursor does not match the newest data it covers"
        assert tickets == cursor * PER_BATCH, "tickets missing for a committed cursor"
        assert runs == cursor, "poll-run records and batches disagree"
    assert reported >= KILLS, "the writer committed too little to test anything"

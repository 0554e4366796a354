"""The demo in a process of its own: it serves its world beside the console, holds the
history's rest until the console has started, and goes when the console goes (closed,
or killed outright), leaving no process, Dovecot or folder behind.

Each case drives :class:`DemoProcess` from a console stand-in, a fresh interpreter
(the demo forks: not from inside pytest's own process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONSOLE = """
import json, socket, sqlite3, sys, time
from urllib.parse import urlsplit
from paneglass.demo.process import DemoProcess

def tickets(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("select count(*) from ticket").fetchone()[0]

demo = DemoProcess.start()
ready = demo.ready()
path = ready.db_url.removeprefix("sqlite:///")
report = {"pid": demo.pid, "db": path, "vendors": [v.name for v in ready.vendors]}
report["listening"] = all(
    socket.create_connection((urlsplit(v.base_url).hostname, urlsplit(v.base_url).port), 5)
    for v in ready.vendors
)
time.sleep(1.0)
report["held"] = tickets(path)
if sys.argv[1] == "close":
    demo.started()
    time.sleep(1.5)
    report["resumed"] = tickets(path)
    print(json.dumps(report), flush=True)
    demo.close()
else:
    print(json.dumps(report), flush=True)
    time.sleep(60)  # killed here
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie of a dead console is reaped by init; it is gone for our purposes
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" in status.read_text()


def _dovecots(tmp: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "dovecot"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(tmp) in line]


@pytest.fixture
def tmp() -> Iterator[Path]:
    # Not under tmp_path: Dovecot runs as nobody and must reach its folder (tmp_path is 0700).
    folder = Path(tempfile.mkdtemp(prefix="paneglass-process-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        subprocess.run(["pkill", "-f", f"dovecot -F -c {folder}"], check=False)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def _console(tmp: Path, how: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [sys.executable, "-c", CONSOLE, how], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_the_demo_runs_beside_the_console_and_stops_with_it(tmp: Path) -> None:
    console = _console(tmp, "close")
    try:
        assert console.stdout is not None
        report = json.loads(console.stdout.readline())
        assert console.wait(timeout=60) == 0
    finally:
        if console.poll() is None:
            console.kill()
    assert {"hosting", "desktop", "hosting-status", "cloud-status"} <= set(report["vendors"])
    assert report["listening"]
    # One ticket's life went in at once (the first frame's); the rest waited for "started".
    assert report["held"] == 1
    assert report["resumed"] > report["held"]
    assert _gone(report["pid"])
    assert not Path(report["db"]).parent.exists(), "the demo left its folder behind"
    assert _dovecots(tmp) == [], "the demo left its Dovecot running"


@pytest.mark.slow
def test_a_killed_console_takes_the_demo_with_it(tmp: Path) -> None:
    console = _console(tmp, "kill")
    try:
        assert console.stdout is not None
        report = json.loads(console.stdout.readline())
        assert not _gone(report["pid"])
        console.send_signal(signal.SIGKILL)  # no chance to close anything
        console.wait(timeout=10)
        assert _wait(lambda: _gone(report["pid"]), 30), "the demo outlived its console"
        assert _wait(lambda: not Path(report["db"]).parent.exists(), 10)
        assert _dovecots(tmp) == []
    finally:
        if console.poll() is None:
            console.kill()

"""A console killed politely (SIGTERM, or SIGHUP from a closed terminal) quits as ``q`` does.

The demo then stops its own servers (Dovecot among them) and removes its files;
before, a demo whose terminal closed left a Dovecot daemon and its folders behind.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_output(fd: int, marker: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and marker not in seen:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("paneglass-"))


def _daemons(tmp: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "dovecot"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(tmp) in line]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signalled_demo_stops_its_servers_and_removes_its_files(
    signum: int,
) -> None:
    # Not under tmp_path: Dovecot runs as nobody and must reach its folder (tmp_path is 0700).
    tmp = Path(tempfile.mkdtemp(prefix="paneglass-signal-test-"))
    tmp.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp), "TERM": "xterm-256color"}
    env.pop("TEXTUAL_DRIVER", None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "paneglass", "demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        screen = _wait_for_output(master, b"Vendors", 60)
        assert b"Vendors" in screen, screen[-2000:]
        time.sleep(1.0)  # collecting has started: the demo's every part is running
        running = _leftovers(tmp)
        assert any(name.startswith("paneglass-demo-") for name in running), running
        proc.send_signal(signum)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            _wait_for_output(master, b"\x00never", 0.2)  # keep the pty drained
        assert proc.poll() is not None, "the console did not quit on the signal"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    try:
        assert _leftovers(tmp) == [], "the demo left its files behind"
        assert _daemons(tmp) == [], "the demo left its Dovecot running"
    finally:
        subprocess.run(["pkill", "-f", f"dovecot -F -c {tmp}"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)

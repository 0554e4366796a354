"""Hostile vendor text against the real console in a real pseudo-terminal.

No escape sequence from data may reach the terminal, no action may fire, and
the app must keep running and quit cleanly.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from paneglass.ui.screenshots import workers_done
from paneglass.ui.widgets.ticket_table import TicketTable
from tests.ui.hostile_app import HostileApp, build

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    b"\x1b]52",  # clipboard write
    b"\x1b]8;;https://evil",  # hyperlink from data
    b"\x1b]0;pwned",  # window title
    b"\x1b[2J\x1b[H screen",
    "\x9b".encode(),  # C1 CSI
    "\x9d".encode(),  # C1 OSC
    "\u202e".encode(),  # bidi override
    b"PWNED",
)


def _read(fd: int, seconds: float) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.mark.slow
def test_no_data_escape_reaches_the_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "160",
        "LINES": "48",
        "TEXTUAL_ANIMATIONS": "none",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.hostile_app", str(tmp_path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        output = _read(master, 6.0)
        for keys in (b"\x1b[B", b"\x1b[B", b"\r", b"\x1b", b"2", b"3", b"z", b"1"):
            os.write(master, keys)
            output += _read(master, 0.8)
        assert proc.poll() is None, "the console died on hostile text"
        os.write(master, b"q")
        output += _read(master, 3.0)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"Disk [/var] full on host" in output, "hostile titles are shown as plain text"
    for sequence in FORBIDDEN:
        assert sequence not in output, f"{sequence!r} reached the terminal"


@pytest.mark.slow
async def test_click_on_action_markup_fires_nothing(tmp_path: Path) -> None:
    app = build(tmp_path)
    HostileApp.pwned = False
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        await workers_done(app)
        await pilot.pause(0.1)
        table = app.screen.query_one(TicketTable)
        shown = [table.render_line(y).text for y in range(1, table.size.height)]
        assert any("[@click=app.pwn]PWN[/]" in line for line in shown), "markup must show as text"
        for y in range(1, 24):
            await pilot.click(TicketTable, offset=(60, y))
        await pilot.press("3")
        await pilot.pause(0.2)
        vendors: Any = app.screen.query_one("#vendors", Static)
        await pilot.click(vendors, offset=(10, 4))
        await pilot.pause(0.2)
        assert app.is_running
    assert HostileApp.pwned is False


def test_only_the_connectors_url_becomes_a_link() -> None:
    from paneglass.ui.screens.ticket_detail import safe_url

    assert (
        safe_url("https://acme.service-now.com/nav_to.do?uri=x")
        == "https://acme.service-now.com/nav_to.do?uri=x"
    )
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://evil.example/\x1b]8;;x") == "https://evil.example/]8;;x"
    assert safe_url('https://a.example/" onclick') is None
    assert safe_url(None) is None


async def test_palette_go_to_ticket_shows_hostile_keys_as_text(tmp_path: Path) -> None:
    app = build(tmp_path)
    HostileApp.pwned = False
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Disk [/var")
        await pilot.pause(1.0)
        assert app.is_running
        await pilot.press("down", "enter")
        await pilot.pause(0.5)
        assert app.is_running
    assert HostileApp.pwned is False

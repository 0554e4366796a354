"""``paneglass serve``: a browser loads the page and the console starts behind its websocket."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from paneglass.demo.fixture import seed_store
from paneglass.store import Store

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def browse(port: int) -> tuple[str, bytes]:
    """Load the page, open the app's websocket, collect what the console sends for a while."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as page:
            html = await page.text()
        received = b""
        async with session.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=40") as ws:
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline and b"Tickets" not in received:
                try:
                    message = await ws.receive(timeout=1.0)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type == aiohttp.WSMsgType.TEXT:
                    received += message.data.encode()
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        return html, received


@pytest.mark.slow
def test_browser_sees_the_console_start(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = Store(f"sqlite:///{tmp_path / 'served.db'}")
    seed_store(store, datetime.now(UTC))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text('[display]\ntimezone = "UTC"\n')
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paneglass",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config),
            "--db",
            f"sqlite:///{tmp_path / 'served.db'}",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.communicate()[0]
            time.sleep(0.1)
        html, received = asyncio.run(browse(port))
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "paneglass" in html and "/ws" in html, html[:500]
    assert b"Tickets" in received, (received[-500:], output[-1500:])

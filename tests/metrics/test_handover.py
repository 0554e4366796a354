"""The handover round trip in two consoles on one store: one signs, the other acknowledges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paneglass.config import Config, DisplayConfig
from paneglass.demo.fixture import FIXTURE_NOW, FIXTURE_VENDORS, seed_store
from paneglass.store import Actor, Store
from paneglass.ui.app import PaneglassApp
from paneglass.ui.screenshots import workers_done
from paneglass.ui.widgets.header_bar import HeaderBar

CONFIG = Config(display=DisplayConfig(timezone="UTC"), vendors=FIXTURE_VENDORS, demo=True)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause(0.2)
        await workers_done(pilot.app)


def console(url: str, user: str) -> PaneglassApp:
    app = PaneglassApp(Store(url), CONFIG, clock=lambda: FIXTURE_NOW, collect=False)
    app.actor = Actor(user, f"/dev/pts/{len(user)}")
    return app


@pytest.mark.slow
async def test_sign_in_one_console_acknowledge_in_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    seed = Store(url)
    seed_store(seed)
    seed.close()
    outgoing, incoming = console(url, "kim"), console(url, "lee")
    async with (
        outgoing.run_test(size=(160, 48)) as out_pilot,
        incoming.run_test(size=(160, 48)) as in_pilot,
    ):
        await settle(out_pilot)
        await settle(in_pilot)
        assert incoming.screen.query_one(HeaderBar).handover is None
        # Outgoing: open the handover, write a note, sign.
        await out_pilot.press("8")
        await settle(out_pilot)
        await out_pilot.press("S")
        await out_pilot.press(*"watch INC0012231", "enter")
        await settle(out_pilot)
        # Incoming: its header shows the waiting handover (it looks every few seconds).
        incoming.refresh_handover()
        await settle(in_pilot)
        header = incoming.screen.query_one(HeaderBar)
        assert header.handover is not None and header.handover.signed_by == "kim"
        assert "handover from kim" in header.compose_line(160).plain
        # Incoming: open it (the signed one, with the note), acknowledge.
        await in_pilot.press("8")
        await settle(in_pilot)
        shown = str(incoming.screen.query_one("#handover-text").render())
        assert "watch INC0012231" in shown
        await in_pilot.press("a")
        await settle(in_pilot)
        await in_pilot.press("escape")
        incoming.refresh_handover()
        outgoing.refresh_handover()
        await settle(in_pilot)
        await settle(out_pilot)
        assert incoming.screen.query_one(HeaderBar).handover is None
    store = Store(url)
    try:
        record = store.latest_handover()
        assert record is not None
        assert (record.signed_by, record.acknowledged_by, record.note) == (
            "kim",
            "lee",
            "watch INC0012231",
        )
        actions = [(row.user, row.action) for row in store.audit_rows()]
        assert ("kim", "handover-signed") in actions
        assert ("lee", "handover-acknowledged") in actions
    finally:
        store.close()

"""The real app, headless, on the live demo world: tickets arrive and then change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from paneglass.demo.session import start_demo
from paneglass.store import Store, TicketQuery
from paneglass.ui.app import PaneglassApp
from paneglass.ui.widgets.sla_list import SlaList
from paneglass.ui.widgets.ticket_table import TicketTable
from paneglass.ui.widgets.vendor_list import VendorList


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the demo"
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_demo_world_flows_into_every_pane() -> None:
    session = start_demo(seed=3, live=False)
    fast = tuple(replace(v, poll_interval=1.0) for v in session.config.vendors)
    config = replace(session.config, vendors=fast)
    store = Store(session.db_url)
    try:
        app = PaneglassApp(store, config)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(lambda: bool(app.screen.query(TicketTable)))  # composed
            table = app.screen.query_one(TicketTable)
            await wait_for(lambda: table.total >= 40)
            vendors = app.screen.query_one(VendorList)
            await wait_for(
                lambda: (
                    len(vendors.vendors) == len(fast) and all(v.last_ok for v in vendors.vendors)
                )
            )
            assert "DEMO DATA" in str(app.screen.query_one("HeaderBar").render())
            await wait_for(lambda: bool(app.screen.query_one(SlaList).rows))
            status = {v.name: v for v in vendors.vendors}["hosting-status"]
            assert status.indicator == "minor"
            assert [c.name for c in status.components] == ["Storage"]

            before = store.ticket_count(TicketQuery())
            changes = [session.world.step() for _ in range(12)]
            assert any("new" in c for c in changes) and any("->" in c for c in changes)
            await wait_for(lambda: store.ticket_count(TicketQuery()) > before)
            await wait_for(lambda: table.total == store.ticket_count(TicketQuery()))
            moved = [c.split()[1] for c in changes if "->" in c]
            assert moved, changes
            await pilot.press("enter")
            await pilot.pause(0.5)
            assert type(app.screen).__name__.endswith("TicketDetailScreen")
            await pilot.press("escape", "q")
    finally:
        store.close()
        session.close()

"""A viewer process for the many-viewers test: the real wall, headless.

Prints ``following <owner>`` once it has found the collector, then
``seen <unix time> <count>`` every time the ticket count it shows changes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

from paneglass.config import load_config
from paneglass.store import Store
from paneglass.ui.app import WallApp


async def main(config_path: str, db_url: str, seconds: float) -> None:
    config = load_config(Path(config_path))
    config = replace(config, wall=replace(config.wall, panes=("tickets",), rotate=1000.0))
    store = Store(db_url, writer=False)
    app = WallApp(store, config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        print(f"following {app.following}", flush=True)
        assert app.collector is None, "a viewer must not collect"
        table = app.screen.query_one("TicketTable")
        shown = -1
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if table.total != shown:  # type: ignore[attr-defined]
                shown = table.total  # type: ignore[attr-defined]
                print(f"seen {time.time():.3f} {shown}", flush=True)
            await asyncio.sleep(0.1)
    store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))

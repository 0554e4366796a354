"""A viewer process for the notification tests: the real console (or wall), headless.

Follows the store like any viewer (SQLite data_version or PostgreSQL LISTEN),
and prints ``ready`` once it follows, then ``shown <ids> bells <n> desktop <n>``
whenever what it showed its operator changes. Kind ``pane``: a console showing the
notifications pane, printing ``pane <id>:<acknowledged by>,...`` as its rows change.
"""

from __future__ import annotations

import asyncio
import sys
import time

from paneglass.config import Config, DisplayConfig, WallConfig
from paneglass.store import Store
from paneglass.ui.app import ConsoleBase, PaneglassApp, WallApp


async def main(db_url: str, seconds: float, kind: str) -> None:
    store = Store(db_url, writer=False)
    wall = WallConfig(bell=kind == "ringing-wall")
    config = Config(display=DisplayConfig(timezone="UTC"), wall=wall)
    app: ConsoleBase = (
        PaneglassApp(store, config, collect=False, read_only=True)
        if kind in ("console", "pane")
        else WallApp(store, config, collect=False)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        if kind == "pane":
            app.action_open_notifications()
            await pilot.pause(0.5)
        print("ready", flush=True)
        shown = ""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if kind == "pane":
                screen = app.screen
                rows = getattr(screen, "rows", [])
                now = "pane " + ",".join(f"{r.id}:{r.acked_by or '-'}" for r in rows)
                if now != shown:
                    shown = now
                    print(now, flush=True)
                await asyncio.sleep(0.1)
                continue
            feed = app.feed
            now = f"shown {','.join(map(str, feed.shown)) or '-'} bells {feed.bells}"
            now += f" desktop {len(feed.desktop)}"
            if now != shown:
                shown = now
                print(now, flush=True)
            await asyncio.sleep(0.1)
    store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3]))

"""Time travel reproduces the screen: a recorded run, snapshotted live, then revisited with ``:at``.

The run (``replay_run``) is applied step by step with the clock stopped at
each instant; at three instants the console is rendered live (160x48) and its
screen kept as text. After the run has gone on, a console opened at its end
travels back with ``:at`` to each instant: every line but the header must be
the same, and the header must say "AS OF" that instant.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from paneglass.config import Config, DisplayConfig
from paneglass.demo.fixture import FIXTURE_VENDORS
from paneglass.store import Store
from paneglass.ui.app import ConsoleBase, PaneglassApp, WallApp
from paneglass.ui.screenshots import workers_done
from tests.metrics.replay_run import INSTANTS, START, run_until, start

pytestmark = pytest.mark.xdist_group("time-travel")  # one worker builds the recording once

SIZE = (160, 48)
END = START + timedelta(minutes=100)
_TEXT = re.compile(r'<text [^>]*clip-path="url\(#terminal-\d+-line-(\d+)\)"[^>]*>(.*?)</text>')
CONFIG = Config(display=DisplayConfig(timezone="Europe/London"), vendors=FIXTURE_VENDORS, demo=True)


def screen_lines(app: ConsoleBase) -> list[str]:
    """The screen as text, one string per terminal row (read from the SVG export)."""
    rows: dict[int, str] = {}
    for line, text in _TEXT.findall(app.export_screenshot()):
        rows[int(line)] = rows.get(int(line), "") + html.unescape(text).replace("\xa0", " ")
    return [rows.get(i, "").rstrip() for i in range(SIZE[1])]


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause(0.2)
        await workers_done(pilot.app)
    await pilot.pause(0.2)


async def live_screen(store: Store, at: datetime, *, wall: bool = False) -> list[str]:
    app: ConsoleBase = (
        WallApp(store, CONFIG, clock=lambda: at, collect=False)
        if wall
        else PaneglassApp(store, CONFIG, clock=lambda: at, collect=False)
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        return screen_lines(app)


async def travelled_screen(store: Store, at: datetime) -> list[str]:
    app = PaneglassApp(store, CONFIG, clock=lambda: END, collect=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        local = at.astimezone(CONFIG.display.zone())
        await pilot.press("colon", *f"at {local:%Y-%m-%d %H:%M:%S}", "enter")
        await settle(pilot)
        return screen_lines(app)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recorded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Store, list[list[str]], list[list[str]]]:
    """Run the recording once for the module (the tests only read it); keep the console's and
    the wall's screens live at each instant."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('recorded') / 'run.db'}")
    start(store)
    consoles, walls = [], []
    previous = None
    for instant in INSTANTS:
        run_until(store, previous, instant)
        previous = instant
        consoles.append(await live_screen(store, instant))
        walls.append(await live_screen(store, instant, wall=True))
    run_until(store, previous, END)
    return store, consoles, walls


@pytest.mark.slow
async def test_at_reproduces_the_console_seen_live_at_three_instants(
    recorded: tuple[Store, list[list[str]], list[list[str]]],
) -> None:
    store, consoles, _walls = recorded
    try:
        for instant, live in zip(INSTANTS, consoles, strict=True):
            now = await live_screen(store, END)
            assert now[1:] != live[1:], "the run must have moved on since the instant"
            travelled = await travelled_screen(store, instant)
            local = instant.astimezone(CONFIG.display.zone())
            assert f"AS OF {local:%Y-%m-%d %H:%M:%S}" in travelled[0]
            # The footer differs by one key only: esc goes back to the live console.
            footer = next(i for i, line in enumerate(live) if "palette" in line)
            assert "esc Back to li" in travelled[footer]
            body = slice(1, footer)
            assert travelled[body] == live[body], f"the screen at {local:%H:%M} differs"
    finally:
        store.close()


async def test_wall_at_reproduces_the_wall(
    recorded: tuple[Store, list[list[str]], list[list[str]]],
) -> None:
    store, _consoles, walls = recorded
    try:
        for instant, live in zip(INSTANTS, walls, strict=True):
            app = WallApp(store, CONFIG, clock=lambda: END, collect=False, at=instant)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                travelled = screen_lines(app)
            assert "AS OF" in travelled[0]
            assert travelled[1:] == live[1:]
    finally:
        store.close()


async def test_what_changed_between_the_instants_is_visible(
    recorded: tuple[Store, list[list[str]], list[list[str]]],
) -> None:
    store, consoles, _walls = recorded
    store.close()
    first, second, third = ("\n".join(screen) for screen in consoles)
    # The P1 arrived at risk, breached its response by the second instant, then waited.
    assert "INC0099001" in first
    assert "✖ 1 breached" in second or "breached" in second
    assert "pending" in third
    assert first != second != third

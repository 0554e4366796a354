"""The wall: read-only, no quit key unless configured, rotation, a loud stale banner."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from paneglass.config import Config, DisplayConfig, WallConfig
from paneglass.demo.fixture import FIXTURE_NOW, seed_store
from paneglass.store import Store
from paneglass.ui.app import WallApp
from paneglass.ui.screenshots import fixture_app
from tests.ui.test_snapshots import settle


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = FIXTURE_NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def wall(tmp_path: Path, clock: Any = None, **wall_settings: Any) -> WallApp:
    store = Store(f"sqlite:///{tmp_path / 'wall.db'}")
    seed_store(store)
    config = Config(display=DisplayConfig(timezone="UTC"), wall=WallConfig(**wall_settings))
    return WallApp(store, config, clock=clock or (lambda: FIXTURE_NOW), collect=False)


@pytest.mark.parametrize("size", [(200, 60), (120, 40), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_wall_snapshot(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixture_app(tmp_path, wall=True), terminal_size=size, run_before=settle)


async def test_no_key_or_click_does_anything(tmp_path: Path) -> None:
    app = wall(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        for key in (
            "q",
            "ctrl+q",
            "ctrl+c",
            "ctrl+p",
            "escape",
            "enter",
            "colon",
            "slash",
            "1",
            "z",
        ):
            await pilot.press(key)
        for y in range(10, 30, 3):
            await pilot.click(offset=(20, y))
        await pilot.pause(0.1)
        assert app.is_running and app.screen is screen, "a key or click changed the wall"
        assert not app.ENABLE_COMMAND_PALETTE
        assert app.theme == "colorblind"
        assert not [b for b in app.screen.active_bindings.values() if b.binding.action != "quit"]


async def test_configured_quit_key(tmp_path: Path) -> None:
    app = wall(tmp_path, quit_key="x")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause(0.1)
        assert not app.is_running


async def test_rotation_walks_the_playlist(tmp_path: Path) -> None:
    app = wall(tmp_path, rotate=0.3, panes=("sla", "tickets", "vendors"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = set()
        for _ in range(8):
            hidden = {p.id for p in app.screen.query(".pane.-hidden")}
            visible = {"wall-sla", "wall-tickets", "wall-vendors"} - hidden
            assert len(visible) == 1
            seen |= visible
            await pilot.pause(0.15)
        assert seen == {"wall-sla", "wall-tickets", "wall-vendors"}


async def test_stale_banner_follows_the_clock(tmp_path: Path) -> None:
    clock = Clock()
    clock.now = FIXTURE_NOW - timedelta(minutes=5)  # before the desktop vendor started failing
    app = wall(tmp_path, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one("#banner")
        assert banner.has_class("-shown")  # desktop's last run failed
        assert "desktop FAILING" in str(banner.render())
        clock.now = FIXTURE_NOW + timedelta(minutes=10)  # now every vendor is overdue
        await pilot.pause(1.2)
        text = str(banner.render())
        assert "hosting STALE" in text and "hosting-status STALE" in text

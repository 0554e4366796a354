"""``paneglass screenshots``: an SVG of each pane, from the fixed fixture world.

Runs the real app headless on a seeded store with a frozen clock and no
collector, so the README's pictures are reproducible.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from textual.worker import WorkerCancelled

from paneglass.config import Config, DisplayConfig, WallConfig
from paneglass.errors import UserError
from paneglass.paths import user_themes_folder
from paneglass.ui.app import ConsoleBase
from themes import BUILTIN_THEMES
from themes.user import load_user_themes

__all__ = ["SHOTS", "workers_done", "write_screenshots"]

SHOTS: tuple[tuple[str, tuple[int, int], tuple[str, ...]], ...] = (
    ("console", (160, 48), ()),
    ("tickets", (120, 36), ("pane.tickets", "pane.zoom")),
    ("sla", (120, 36), ("pane.sla", "pane.zoom")),
    ("vendors", (120, 36), ("pane.vendors", "pane.zoom")),
    ("ticket-detail", (120, 36), ("tickets.open",)),
    ("ticket-timeline", (160, 48), ("pane.cases", "list.open", "list.open", "list.last")),
    ("console-80x24", (80, 24), ()),
    ("cases", (120, 36), ("pane.cases",)),
    ("case", (120, 36), ("pane.cases", "list.open")),
    ("outbox", (120, 36), ("pane.outbox",)),
    ("notifications", (120, 36), ("pane.notifications",)),
    ("action-dialog", (120, 36), ("pane.cases", "list.open", "list.open", "act.comment")),
    ("wall", (200, 60), ()),
    ("wall-120x40", (120, 40), ()),
    ("scorecards", (160, 48), ("pane.scorecards",)),
)
"""Each picture: its file name, terminal size, and the binding ids pressed to reach it (by id,
so a key that moves moves the picture with it)."""


def _key(binding_id: str) -> str:
    """The key bound to ``binding_id`` now (its first, where it has several)."""
    from paneglass.ui.keymap import catalog

    found = {entry.id: entry.keys for entry in catalog()}
    if binding_id not in found:
        raise KeyError(f"screenshot step {binding_id!r} is not a binding id")
    return found[binding_id].split(",")[0]


def fixture_app(
    folder: Path, *, theme: str | None = None, wall: bool = False, history: bool = False
) -> ConsoleBase:
    """The console (or the wall) over a freshly seeded fixture store in ``folder``.

    Without ``theme`` each uses its own default (the wall: colour-blind safe).
    ``history`` adds a year of the vendors' history first (for the scorecards).
    """
    from paneglass.demo.fixture import FIXTURE_NOW, FIXTURE_VENDORS, seed_store
    from paneglass.store import Store
    from paneglass.ui.app import PaneglassApp, WallApp

    store = Store(f"sqlite:///{folder / 'fixture.db'}")
    if history:
        from paneglass.demo.history import seed_history

        store.sync_vendors(FIXTURE_VENDORS)
        seed_history(store, FIXTURE_NOW, [v.name for v in FIXTURE_VENDORS])
    seed_store(store)
    config = Config(
        display=DisplayConfig(timezone="Europe/London", theme=theme or "noc-dark"),
        wall=WallConfig(theme=theme or "colorblind"),
        vendors=FIXTURE_VENDORS,  # what actions are planned against; nothing collects
        demo=True,
    )
    if wall:
        return WallApp(store, config, clock=lambda: FIXTURE_NOW, collect=False)
    return PaneglassApp(store, config, clock=lambda: FIXTURE_NOW, collect=False)


async def _shoot(output: Path, theme: str | None) -> list[Path]:
    written = []
    for name, size, keys in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            app = fixture_app(
                Path(tmp), wall=name.startswith("wall"), theme=theme, history=name == "scorecards"
            )
            async with app.run_test(size=size) as pilot:
                await pilot.pause(0.3)
                await workers_done(app)
                await pilot.pause(0.2)
                for key in map(_key, keys):
                    await pilot.press(key)
                    for _ in range(3):  # a pushed screen's worker may start after a pause
                        await pilot.pause(0.2)
                        await workers_done(app)
                path = output / f"{name}.svg"
                app.save_screenshot(filename=path.name, path=str(output))
                written.append(path)
            app.store.close()
    return written


def write_screenshots(output: Path, *, theme: str | None = None) -> list[Path]:
    """Write every screenshot into ``output`` (in ``theme``, if given); return the paths."""
    if theme is not None:
        known = set(BUILTIN_THEMES) | {t.name for t in load_user_themes(user_themes_folder())[0]}
        if theme not in known:
            raise UserError(f"no theme {theme!r} (themes: {', '.join(sorted(known))})")
    output.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_shoot(output, theme))


async def workers_done(app: ConsoleBase) -> None:
    """Every worker finished; one cancelled because a newer query replaced it is fine (an
    exclusive query worker is, whenever the screen asks again before it lands). The UI
    tests wait the same way."""
    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue

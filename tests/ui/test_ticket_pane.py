"""The ticket pane as an operator drives it: filter, commands, views, histories, help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from paneglass.config import Config, DisplayConfig, SavedView
from paneglass.demo.fixture import FIXTURE_NOW, seed_store
from paneglass.store import Store
from paneglass.ui.app import PaneglassApp
from paneglass.ui.screenshots import workers_done
from paneglass.ui.widgets.prompt_bar import PromptBar
from paneglass.ui.widgets.ticket_table import TicketTable


def make_app(tmp_path: Path, **config: Any) -> PaneglassApp:
    store = Store(f"sqlite:///{tmp_path / 'pane.db'}")
    seed_store(store)
    config.setdefault("display", DisplayConfig(timezone="UTC"))
    settings = Config(demo=True, **config)
    return PaneglassApp(
        store, settings, clock=lambda: FIXTURE_NOW, collect=False, themes_folder=tmp_path
    )


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.05)
    await workers_done(pilot.app)
    await pilot.pause(0.05)


async def test_filter_prompt_narrows_and_reports_errors(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        everything = table.total
        await pilot.press("slash")
        prompt = app.screen.query_one(PromptBar)
        assert prompt.has_focus
        await pilot.press(*"vendor:hosting prio:P1", "enter")
        await settle(pilot)
        assert 0 < table.total < everything
        title = str(app.screen.query_one("#tickets-pane").border_title)
        assert f"of {everything}" in title and "vendor:hosting" in title
        rows = [table._window.row(i) for i in range(table.total)]
        assert all(r is not None and r.vendor == "hosting" and r.priority == "P1" for r in rows)

        await pilot.press("slash", "ctrl+u", *"colour:[red", "enter")
        await settle(pilot)
        assert prompt.has_focus and "unknown field" in str(prompt.border_subtitle)
        await pilot.press("escape")
        assert not prompt.has_focus


@pytest.mark.slow
async def test_command_mode_switches_panes_sorts_and_remembers(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"sla", "enter")
        assert app.screen.active == "sla"  # type: ignore[attr-defined]
        await pilot.press("colon", *"sort priority asc", "enter")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        assert table.ticket_query.sort.value == "priority" and not table.ticket_query.descending
        await pilot.press("colon", "up")
        assert app.screen.query_one(PromptBar).value == "sort priority asc"
        await pilot.press("ctrl+u", *"nonsense", "enter")
        assert "unknown command" in str(app.screen.query_one(PromptBar).border_subtitle)
        await pilot.press("escape", "colon", *"theme light", "enter")
        assert app.theme == "light"


async def test_saved_views_cycle(tmp_path: Path) -> None:
    views = (SavedView("mine", "assignee:kim", "priority", False), SavedView("p1", "prio:P1"))
    app = make_app(tmp_path, views=views)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("V")
        await settle(pilot)
        assert table.ticket_query.text == "assignee:kim"
        assert "view mine" in str(app.screen.query_one("#tickets-pane").border_title)
        await pilot.press("V", "V")
        await settle(pilot)
        assert table.ticket_query.text == ""


async def test_requester_history_lists_every_vendor(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"49.4C02", "enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert type(app.screen).__name__ == "TicketListScreen"
        history = app.screen.query_one(TicketTable)
        rows = [history._window.row(i) for i in range(history.total)]
        assert history.total >= 2
        assert all(r is not None and r.requester == "Maria Jensen" for r in rows)
        assert {r.vendor for r in rows if r} == {"hosting", "desktop"}


async def test_help_lists_remapped_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, keys={"tickets.sort": "o"})
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert app.screen.query_one(TicketTable).ticket_query.sort.value == "priority"
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = str(app.screen.query_one("Static").render())
        assert "Filter" in text and "vendor:hosting" in text and "Sort" in text


async def test_bad_user_theme_falls_back_with_one_message(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('primary = "not a colour"\n')
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#ff8800"\n[variables]\nsla-breached = "#00ff00"\n'
    )
    app = make_app(tmp_path, display=DisplayConfig(theme="broken"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "noc-dark"
        assert "mine" in app.available_themes
        assert any("broken.toml" in p for p in app.problems)
        assert any("theme 'broken' not found" in p for p in app.problems)


async def test_rows_of_a_failing_vendor_stay_but_are_marked(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        assert table.stale_vendors == frozenset({"desktop"})
        lines = [table.render_line(y).text for y in range(1, 20)]
        desktop = [line for line in lines if "desktop" in line]
        # Glyph and word, once: in the state column where it shows, else before the vendor.
        assert desktop and all(
            line.startswith("◌ STALE") or "◌ desktop" in line for line in desktop
        )
        assert all(line.count("◌") == 1 for line in desktop)
        assert any("hosting" in line and "◌" not in line.split("hosting")[0] for line in lines)


async def test_the_first_frame_reads_the_ticket_window_once(tmp_path: Path) -> None:
    """The table reads its first window when it mounts; the dashboard does not read it again."""
    app = make_app(tmp_path)
    reads: list[int] = []
    window = app.store.ticket_window

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return window(*args, **kwargs)

    app.store.ticket_window = counted  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(TicketTable).total > 0
    assert len(reads) == 1, f"the first frame read the ticket window {len(reads)} times"

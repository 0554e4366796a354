"""Snapshots of each pane on the fixed fixture world with a frozen clock.

Regenerate with ``pytest tests/ui --snapshot-update`` and look at every SVG
you accept (``snapshot_report.html`` shows the differences).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from paneglass.ui.screenshots import fixture_app, workers_done


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the store queries have landed on screen."""
    await pilot.pause(0.1)
    await workers_done(pilot.app)
    await pilot.pause(0.1)


async def loaded(pilot: Pilot[Any]) -> None:
    """Wait until a pushed screen's first query has landed (its worker may start late)."""
    from paneglass.ui.screens.cases import CaseScreen, CasesScreen
    from paneglass.ui.screens.notifications import NotificationsScreen
    from paneglass.ui.screens.outbox import OutboxScreen

    screen = pilot.app.screen
    ready = {
        CaseScreen: lambda: screen.detail is not None,
        CasesScreen: lambda: bool(screen.rows),
        OutboxScreen: lambda: bool(screen.rows),
        NotificationsScreen: lambda: bool(screen.rows),
    }
    check = next((test for cls, test in ready.items() if isinstance(screen, cls)), None)
    for _ in range(100):
        if check is None or check():
            break
        await pilot.pause(0.05)
    await settle(pilot)


def keys_then_settle(*keys: str) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
            await loaded(pilot)

    return run


@pytest.mark.parametrize("size", [(160, 48), (120, 40), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_console(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixture_app(tmp_path), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("pane", ["1", "2", "3"], ids=["tickets", "sla", "vendors"])
def test_each_pane_alone_at_80x24(snap_compare: Any, tmp_path: Path, pane: str) -> None:
    assert snap_compare(
        fixture_app(tmp_path), terminal_size=(80, 24), run_before=keys_then_settle(pane)
    )


def test_ticket_detail(snap_compare: Any, tmp_path: Path) -> None:
    run = keys_then_settle("down", "down", "enter")
    assert snap_compare(fixture_app(tmp_path), terminal_size=(120, 40), run_before=run)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("keys", [("4",), ("4", "enter"), ("5",)], ids=["cases", "case", "outbox"])
def test_write_back_panes(
    snap_compare: Any, tmp_path: Path, keys: tuple[str, ...], size: tuple[int, int]
) -> None:
    assert snap_compare(
        fixture_app(tmp_path), terminal_size=size, run_before=keys_then_settle(*keys)
    )


def test_action_dialog_with_dry_run(snap_compare: Any, tmp_path: Path) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app: Any = pilot.app
        found = app.store.find_tickets("#48299", 1)
        app.open_ticket(found[0][0])
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*"Toner replaced [bold]please[/] test")
        await settle(pilot)

    assert snap_compare(fixture_app(tmp_path), terminal_size=(120, 40), run_before=run)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_notifications_pane(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """Key 6: unacknowledged first (a P1 climbing), then acknowledged (by maria)."""
    assert snap_compare(fixture_app(tmp_path), terminal_size=size, run_before=keys_then_settle("6"))


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [("4", "enter", "enter", "end"), ("4", "enter", "enter", "end", "e")],
    ids=["folded", "unfolded"],
)
def test_printer_ticket_timeline(
    snap_compare: Any, tmp_path: Path, keys: tuple[str, ...], size: tuple[int, int]
) -> None:
    """The printer ticket (from its case): replies, notes, changes and actions, oldest first."""
    assert snap_compare(
        fixture_app(tmp_path), terminal_size=size, run_before=keys_then_settle(*keys)
    )


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_free_words_say_where_they_matched(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    """``spooler`` finds tickets by title and by a reply; each row says where, on a second line."""
    keys = ("1", "slash", *"spooler", "enter")
    assert snap_compare(
        fixture_app(tmp_path), terminal_size=size, run_before=keys_then_settle(*keys)
    )

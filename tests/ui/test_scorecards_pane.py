"""The scorecards pane on the hand-worked November world: the headline first, then the trend."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Sparkline

from paneglass.metrics.periods import parse_period
from paneglass.store import Store
from paneglass.ui.screens.scorecards import ScorecardsScreen
from tests.metrics.scorecard_world import NOW, build_world


class _Host(App[None]):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        november = parse_period("2026-11", UTC, NOW)
        self.push_screen(ScorecardsScreen(self.store, clock=lambda: NOW, zone=UTC, period=november))


async def test_the_pane_shows_every_vendor_then_its_trend(tmp_path: Path) -> None:
    store = build_world(f"sqlite:///{tmp_path / 'world.db'}")
    try:
        app = _Host(store)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, ScorecardsScreen)
            for _ in range(100):
                await pilot.pause(0.1)
                # the rows' sparklines mount a moment after the card lands
                trend = screen.card is not None and screen.card.trend_periods
                if trend and list(screen.query(Sparkline)):
                    break
            card = screen.card
            assert card is not None and len(card.trend_periods) == 12
            table = screen.query_one(DataTable)
            vendors = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert vendors == ["alpha", "beta"]
            title = str(screen.query_one("#scorecards-pane").border_title)
            assert "November 2026" in title and "vs October 2026" in title
            assert "reading" not in str(screen.query_one("#trend-scroll").border_title)
            # one sparkline per vendor and charted figure, over the twelve periods
            sparks = list(screen.query(Sparkline))
            assert sparks and len(sparks) % 2 == 0
            assert all(len(list(spark.data or [])) == 12 for spark in sparks)
    finally:
        store.close()


async def test_the_headline_shows_before_the_trend_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large store the trend takes several times the headline: the table comes first."""
    store = build_world(f"sqlite:///{tmp_path / 'world.db'}")
    seen: list[tuple[int, int]] = []
    shown = ScorecardsScreen._show

    def spy(self: ScorecardsScreen, card: object) -> None:
        shown(self, card)  # type: ignore[arg-type]
        table = self.query_one(DataTable)
        seen.append((table.row_count, len(self.card.trend_periods) if self.card else -1))

    monkeypatch.setattr(ScorecardsScreen, "_show", spy)
    try:
        app = _Host(store)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.1)
                if len(seen) >= 2:
                    break
    finally:
        store.close()
    assert seen[:2] == [(2, 0), (2, 12)]

"""Announced maintenance in the Vendors pane and on the wall: glyph, word, local window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from paneglass.store import IncidentView, VendorHealth
from paneglass.ui.widgets.vendor_list import render_vendors

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def vendor(*incidents: IncidentView) -> VendorHealth:
    return VendorHealth(
        name="cloud-status",
        kind="google-status",
        poll_interval=60,
        enabled=True,
        stale_after=2,
        last_run_at=NOW,
        last_ok_at=NOW,
        last_ok=True,
        last_error_kind=None,
        last_error_message=None,
        last_duration_ms=10,
        consecutive_failures=0,
        open_tickets=0,
        indicator="maintenance",
        incidents=incidents,
    )


def window(start: timedelta, end: timedelta, status: str = "scheduled") -> IncidentView:
    return IncidentView(
        "Storage firmware [upgrade]",
        status,
        "maintenance",
        NOW,
        None,
        maintenance=True,
        scheduled_for=NOW + start,
        scheduled_until=NOW + end,
    )


def test_upcoming_maintenance_says_when_it_starts_in_local_time() -> None:
    text = render_vendors(
        [vendor(window(timedelta(hours=2), timedelta(hours=4)))], NOW, 100, LONDON
    )
    line = text.plain.splitlines()[1]
    assert "□ maintenance in 2 h" in line
    assert "14:00–16:00" in line and "Storage firmware [upgrade]" in line


def test_active_maintenance_says_until_when() -> None:
    active = window(-timedelta(minutes=30), timedelta(hours=2), "in_progress")
    line = render_vendors([vendor(active)], NOW, 100, NEW_YORK).plain.splitlines()[1]
    assert "▣ MAINTENANCE until 09:00" in line
    assert "06:30–09:00" in line


def test_a_window_on_another_day_names_the_day_and_a_past_one_is_gone() -> None:
    later = window(timedelta(days=3), timedelta(days=3, hours=2))
    over = window(-timedelta(hours=3), -timedelta(hours=1), "in_progress")
    done = window(-timedelta(hours=1), timedelta(hours=1), "completed")
    lines = render_vendors([vendor(later, over, done)], NOW, 100, LONDON).plain.splitlines()
    assert len(lines) == 2
    assert "in 3 d" in lines[1] and "Fri 27 Nov 12:00–14:00" in lines[1]


def test_at_80_columns_the_line_fits() -> None:
    long = IncidentView(
        "x" * 200,
        "scheduled",
        "maintenance",
        NOW,
        None,
        True,
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
    )
    line = render_vendors([vendor(long)], NOW, 38, LONDON).plain.splitlines()[1]
    assert len(line) <= 38 + 4

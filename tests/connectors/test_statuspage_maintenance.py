"""Statuspage scheduled maintenances: the real Cloudflare capture, the emulator's keys, the kit."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.emulators.statuspage import StatuspageEmulator
from connectors.feeds.rollup import maintenance_in_effect
from connectors.records import ComponentState
from connectors.statuspage.mapping import summary_to_snapshot
from tests.connectors.test_feeds_contract import connector_for, poll, snap

CAPTURES = Path(__file__).parent / "captures"
CLOUDFLARE = json.loads((CAPTURES / "statuspage-cloudflare-summary-maintenances.json").read_text())
GITHUB = json.loads((CAPTURES / "statuspage-github-summary-2022-11-25.json").read_text())
PAGE = "https://www.cloudflarestatus.com"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_cloudflare_capture_maps_both_maintenances() -> None:
    snapshot = summary_to_snapshot(CLOUDFLARE, PAGE)
    assert (snapshot.indicator, snapshot.description) == ("minor", "Minor Service Outage")
    upcoming, active = snapshot.incidents
    assert (upcoming.name, upcoming.status) == ("MAD (Madrid) on 2026-07-31", "scheduled")
    assert (active.name, active.status) == ("CMB (Colombo) on 2026-07-30", "in_progress")
    for record in (upcoming, active):
        assert record.maintenance and record.impact == "maintenance"
        assert record.url == f"{PAGE}/incidents/{record.external_id}", "built, not the shortlink"
    assert (upcoming.scheduled_for, upcoming.scheduled_until) == (
        at("2026-07-31T00:00:00Z"),
        at("2026-07-31T04:00:00Z"),
    )
    assert (active.scheduled_for, active.scheduled_until) == (
        at("2026-07-30T16:30:00Z"),
        at("2026-07-30T22:00:00Z"),
    )
    # started_at is when the window was announced, not when it starts: it is not read as the start.
    assert active.scheduled_for != at("2026-07-30T16:21:11.332Z")
    assert upcoming.components == ("Madrid, Spain - (MAD)",)
    assert active.components == ("Colombo, Sri Lanka - (CMB)",)
    assert active.latest_update is not None and active.latest_update.startswith("Scheduled")
    # Cloudflare left the in-progress window's component operational.
    assert all(c.state is ComponentState.OPERATIONAL for c in snapshot.components)


def test_affected_components_of_the_updates_stand_in_for_a_missing_list() -> None:
    payload = copy.deepcopy(CLOUDFLARE)
    for maintenance in payload["scheduled_maintenances"]:
        maintenance["components"] = []
    upcoming, active = summary_to_snapshot(payload, PAGE).incidents
    assert upcoming.components == ("Europe - Madrid, Spain - (MAD)",)
    assert active.components == ("Asia - Colombo, Sri Lanka - (CMB)",)


def test_completed_windows_and_resolved_incidents_are_left_out() -> None:
    payload = copy.deepcopy(CLOUDFLARE)
    payload["scheduled_maintenances"][0]["status"] = "completed"
    payload["incidents"] = copy.deepcopy(GITHUB["incidents"])
    payload["incidents"][0]["status"] = "postmortem"
    names = [i.name for i in summary_to_snapshot(payload, PAGE).incidents]
    assert names == ["CMB (Colombo) on 2026-07-30"]


def test_a_window_is_in_effect_by_status_or_by_its_announced_times() -> None:
    upcoming, active = summary_to_snapshot(CLOUDFLARE, PAGE).incidents
    assert maintenance_in_effect(active, at("2026-07-01T00:00:00Z")), "in_progress says so"
    assert not maintenance_in_effect(upcoming, at("2026-07-30T23:59:59Z"))
    assert maintenance_in_effect(upcoming, at("2026-07-31T00:00:00Z"))
    assert maintenance_in_effect(upcoming, at("2026-07-31T03:59:59Z"))
    assert not maintenance_in_effect(upcoming, at("2026-07-31T04:00:00Z"))
    incident = summary_to_snapshot(GITHUB, "https://www.githubstatus.com").incidents[0]
    assert not maintenance_in_effect(incident, at("2022-11-25T12:00:00Z"))


def keys(value: Any) -> set[str]:
    assert isinstance(value, dict)
    return set(value)


def test_the_emulator_speaks_the_captures_keys() -> None:
    emu = StatuspageEmulator()
    start = datetime.now(UTC) + timedelta(days=1)
    emu.schedule_maintenance("Window", start, start + timedelta(hours=2), components=["Storage"])
    emu.open_maintenance("Now", components=["Network"])
    emu.open_incident("Trouble", "minor", components=["Storage"])
    summary = emu.summary()
    assert keys(summary) == keys(CLOUDFLARE)
    assert keys(summary["page"]) == keys(CLOUDFLARE["page"])
    real_maintenance = CLOUDFLARE["scheduled_maintenances"][0]
    for maintenance in summary["scheduled_maintenances"]:
        assert keys(maintenance) == keys(real_maintenance)
        assert keys(maintenance["incident_updates"][0]) == keys(
            real_maintenance["incident_updates"][0]
        )
        assert keys(maintenance["components"][0]) == keys(real_maintenance["components"][0])
        affected = maintenance["incident_updates"][0]["affected_components"][0]
        assert keys(affected) == keys(
            real_maintenance["incident_updates"][0]["affected_components"][0]
        )
        assert " - " in affected["name"], "grouped components are named Group - Name"
    (incident,) = summary["incidents"]
    assert keys(incident) == keys(GITHUB["incidents"][0])
    leaf = next(c for c in summary["components"] if not c["group"])
    assert keys(leaf) == keys(CLOUDFLARE["components"][0])
    container = next(c for c in summary["components"] if c["group"])
    assert keys(container) == keys(leaf) | {"components"}  # no capture has one: the docs' shape


async def test_a_scheduled_window_over_the_wire_keeps_its_times() -> None:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    with StatuspageEmulator(time_zone="Europe/London") as emu:  # offsets, not Z
        emu.schedule_maintenance(
            "Core switch swap", start, start + timedelta(hours=4), components=["Network"]
        )
        async with connector_for(emu) as feed:
            (window,) = snap(await poll(feed)).incidents
    assert window.scheduled_for == start and window.scheduled_until == start + timedelta(hours=4)
    assert window.created_at.tzinfo is UTC and window.components == ("Network",)


async def test_links_use_the_configured_page_address() -> None:
    with StatuspageEmulator() as emu:
        emu.open_incident("Trouble", "minor")
        async with connector_for(emu, page_url="https://status.acme-hosting.example/") as feed:
            snapshot = snap(await poll(feed))
    (incident,) = snapshot.incidents
    assert snapshot.page_url == "https://status.acme-hosting.example"
    assert incident.url == f"https://status.acme-hosting.example/incidents/{incident.external_id}"

"""incident.io: the Statuspage-compatible summary (real OpenAI capture) and the widget API."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.base import Request
from connectors.emulators.incidentio import IncidentioEmulator
from connectors.errors import BadPayload, ConnectorError
from connectors.incidentio.mapping import snapshot, widget_events
from connectors.records import ComponentState
from tests.connectors.test_feeds_contract import connector_for, poll, snap

CAPTURES = Path(__file__).parent / "captures"
OPENAI = json.loads((CAPTURES / "incidentio-openai-statuspage-summary.json").read_text())
CLOUDFLARE = json.loads((CAPTURES / "statuspage-cloudflare-summary-maintenances.json").read_text())
PAGE = "https://status.openai.com"


def widget(**arrays: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "page_title": "OpenAI",
        "page_url": PAGE,
        "ongoing_incidents": [],
        "in_progress_maintenances": [],
        "scheduled_maintenances": [],
        **arrays,
    }


def test_the_openai_capture_alone() -> None:
    result = snapshot(OPENAI, None, PAGE)
    assert (result.indicator, result.description) == ("none", "All Systems Operational")
    assert [c.name for c in result.components] == ["Images", "Sites", "Batch", "Moderations"]
    assert all(c.state is ComponentState.OPERATIONAL for c in result.components)
    assert result.components[0].external_id == "01JMXBRMFE4MAP2BHSJNZ787WX"
    assert result.updated_at == datetime(2026, 7, 9, 19, 25, 56, tzinfo=UTC), "no fraction"
    assert result.incidents == ()


def test_the_widget_supplies_incidents_and_windows() -> None:
    incident = {
        "id": "01JZINCIDENT0000000000000A",
        "name": "Elevated errors on Images",
        "status": "identified",
        "url": "https://evil.example/phish",
        "last_update_at": "2026-07-09T19:30:00.123456Z",
        "last_update_message": "A fix is rolling out.",
        "current_worst_impact": "full_outage",
        "affected_components": [{"id": "c1", "name": "Images", "current_status": "full_outage"}],
    }
    gone = {**incident, "id": "01JZGONE", "status": "resolved"}
    running = {
        "id": "01JZRUNNING",
        "name": "Database upgrade",
        "status": "maintenance_in_progress",
        "url": "x",
        "last_update_at": "2026-07-09T19:00:00Z",
        "last_update_message": None,
        "affected_components": [{"id": "c2", "name": "Batch", "group_name": "API"}],
        "started_at": "2026-07-09T19:00:00Z",
        "scheduled_end_at": None,
    }
    later = {
        "id": "01JZLATER",
        "name": "Network work",
        "status": "maintenance_scheduled",
        "url": "x",
        "last_update_at": "2026-07-08T10:00:00Z",
        "last_update_message": "Heads up.",
        "affected_components": [],
        "starts_at": "2026-07-20T02:00:00Z",
        "ends_at": "2026-07-20T04:00:00Z",
    }
    body = widget(
        ongoing_incidents=[incident, gone],
        in_progress_maintenances=[running],
        scheduled_maintenances=[later],
    )
    result = snapshot(OPENAI, body, PAGE)
    first, maintenance, upcoming = result.incidents
    assert (first.name, first.status, first.impact) == (
        "Elevated errors on Images",
        "identified",
        "critical",
    )
    assert first.url == f"{PAGE}/incidents/01JZINCIDENT0000000000000A", "never the widget's url"
    assert first.components == ("Images",) and first.latest_update == "A fix is rolling out."
    assert (maintenance.status, maintenance.maintenance) == ("in_progress", True)
    assert maintenance.scheduled_for == datetime(2026, 7, 9, 19, tzinfo=UTC)
    assert maintenance.scheduled_until is None and maintenance.latest_update is None
    assert (upcoming.status, upcoming.scheduled_until) == (
        "scheduled",
        datetime(2026, 7, 20, 4, tzinfo=UTC),
    )
    # The page's own rollup says none; the widget's critical incident wins.
    assert (result.indicator, result.description) == ("critical", "Major System Outage")


def test_a_wrong_widget_document_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="widget summary has none"):
        widget_events({"page": {}}, PAGE)
    bad = widget(
        ongoing_incidents=[
            {
                "id": "../x",
                "name": "n",
                "status": "investigating",
                "last_update_at": "2026-07-09T19:00:00Z",
            }
        ]
    )
    with pytest.raises(BadPayload, match="event id"):
        widget_events(bad, PAGE)


def test_without_the_widget_the_v2_summary_supplies_what_it_carries() -> None:
    with_events = copy.deepcopy(OPENAI)
    with_events["incidents"] = []
    with_events["scheduled_maintenances"] = copy.deepcopy(CLOUDFLARE["scheduled_maintenances"])
    result = snapshot(with_events, None, PAGE)
    assert [(i.name, i.status) for i in result.incidents] == [
        ("MAD (Madrid) on 2026-07-31", "scheduled"),
        ("CMB (Colombo) on 2026-07-30", "in_progress"),
    ]
    assert result.indicator == "maintenance"


def test_the_emulator_speaks_the_captures_keys() -> None:
    emu = IncidentioEmulator()
    body = json.loads(emu.route(Request("GET", "/api/v2/summary.json", {}, {})).raw or b"")
    assert list(body) == list(OPENAI), "same keys, same order"
    assert set(body["page"]) == set(OPENAI["page"])
    assert set(body["components"][0]) == set(OPENAI["components"][0])
    assert len(body["page"]["id"]) == 26 and body["page"]["id"].startswith("01")
    assert body["page"]["updated_at"].endswith("Z") and "." not in body["page"]["updated_at"]


async def test_over_the_wire_with_both_documents() -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    with IncidentioEmulator() as emu:
        emu.open_incident(
            "Login failures", "critical", "Investigating.", components=["Control panel"]
        )
        emu.schedule_maintenance(
            "Storage move", start, start + timedelta(hours=1), components=["Storage"]
        )
        async with connector_for(emu) as feed:
            page = await poll(feed)
            assert page.requests == 2
            result = snap(page)
    login, move = result.incidents
    assert (login.impact, login.components) == ("critical", ("Control panel",))
    assert (move.status, move.scheduled_for, move.components) == ("scheduled", start, ("Storage",))
    assert [r.path for r in emu.requests[-2:]] == ["/api/v2/summary.json", "/api/v1/summary"]


async def test_a_page_without_the_widget_says_how_to_read_it() -> None:
    with IncidentioEmulator(widget_enabled=False) as emu:
        emu.open_incident("Unseen", "minor")
        async with connector_for(emu) as feed:
            with pytest.raises(ConnectorError, match="widget = false") as caught:
                await poll(feed)
            assert caught.value.http_status == 404
        async with connector_for(emu, widget=False) as feed:
            page = await poll(feed)
    assert page.requests == 1 and snap(page).incidents == ()
    assert snap(page).indicator == "minor", "the page's own rollup still counts the incident"

"""Instatus: the real Perplexity capture, the documented summary shape, groups and dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.base import Request
from connectors.emulators.instatus import InstatusEmulator, js_date
from connectors.errors import BadPayload
from connectors.instatus.mapping import parse_instatus_time, snapshot
from connectors.records import ComponentState
from tests.connectors.test_feeds_contract import connector_for, poll, snap

CAPTURE = json.loads(
    (Path(__file__).parent / "captures" / "instatus-perplexity-summary-components.json").read_text()
)
PAGE = "https://status.perplexity.com"


def summary(status: str = "UP", **lists: list[dict[str, Any]]) -> dict[str, Any]:
    """A summary in the shape of Instatus's documented example."""
    return {
        "page": {"name": "Perplexity", "url": PAGE, "status": status},
        "activeIncidents": [],
        "activeMaintenances": [],
        **lists,
    }


def test_the_capture_as_one_document_or_two() -> None:
    for components in (CAPTURE, None):
        result = snapshot(CAPTURE, components, PAGE)
        assert result.indicator == "none" and result.incidents == ()
        assert [(c.name, c.position) for c in result.components] == [
            ("Website", 1),
            ("API", 2),
            ("Computer", 3),
        ]
        assert all(c.state is ComponentState.OPERATIONAL for c in result.components)
        assert result.components[0].raw_status == "OPERATIONAL"


def test_the_documented_summary_shape() -> None:
    body = summary(
        "HASISSUES",
        activeIncidents=[
            {
                "name": "We're facing an issue with our API",
                "started": "Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)",
                "status": "INVESTIGATING",
                "impact": "MAJOROUTAGE",
                "url": "https://elsewhere.example/incident/cl4a8n3070721qtmzvts760c4",
            }
        ],
        activeMaintenances=[
            {
                "name": "Database maintenance",
                "start": "Sat Jun 11 2022 18:55:54 GMT+0000 (Coordinated Universal Time)",
                "status": "NOTSTARTEDYET",
                "duration": "60",
                "url": "https://elsewhere.example/maintenance/cl4a8nlv50918qtmzdlw60ivu",
            }
        ],
    )
    result = snapshot(body, CAPTURE, PAGE)
    incident, window = result.incidents
    assert (incident.external_id, incident.status, incident.impact) == (
        "cl4a8n3070721qtmzvts760c4",
        "investigating",
        "critical",
    )
    assert incident.created_at == datetime(2022, 6, 11, 18, 55, 50, tzinfo=UTC)
    assert incident.url == f"{PAGE}/incident/cl4a8n3070721qtmzvts760c4", "rebuilt on the page"
    assert (window.status, window.maintenance) == ("scheduled", True)
    assert window.scheduled_for == datetime(2022, 6, 11, 18, 55, 54, tzinfo=UTC)
    assert window.scheduled_until == window.scheduled_for + timedelta(minutes=60)
    assert result.indicator == "critical"


@pytest.mark.parametrize(
    ("status", "indicator"),
    [
        ("UP", "none"),
        ("HASISSUES", "minor"),
        ("UNDERMAINTENANCE", "maintenance"),
        ("ALLMAJOROUTAGE", "critical"),
        ("SOMEPARTIALOUTAGE", "major"),
        ("ONEDEGRADEDPERFORMANCE", "minor"),
        ("SOMETHINGNEW", "minor"),
    ],
)
def test_page_statuses_never_show_green_by_accident(status: str, indicator: str) -> None:
    assert snapshot(summary(status), {"components": []}, PAGE).indicator == indicator


def test_times_in_both_forms() -> None:
    assert parse_instatus_time("Sat Jun 11 2022 20:55:50 GMT+0200 (CEST)", "t") == datetime(
        2022, 6, 11, 18, 55, 50, tzinfo=UTC
    )
    assert parse_instatus_time("2022-06-11T18:55:50.000Z", "t") == datetime(
        2022, 6, 11, 18, 55, 50, tzinfo=UTC
    )
    assert js_date(datetime(2022, 6, 11, 18, 55, 50, tzinfo=UTC)).startswith(
        "Sat Jun 11 2022 18:55:50 GMT+0000"
    )
    with pytest.raises(BadPayload, match="started"):
        snapshot(
            summary(activeIncidents=[{"name": "x", "status": "IDENTIFIED", "started": "soon"}]),
            {"components": []},
            PAGE,
        )
    with pytest.raises(BadPayload, match="duration"):
        snapshot(
            summary(
                activeMaintenances=[
                    {
                        "name": "x",
                        "status": "INPROGRESS",
                        "start": "2022-06-11T18:55:50Z",
                        "duration": "an hour",
                    }
                ]
            ),
            {"components": []},
            PAGE,
        )


def test_the_emulator_speaks_the_captures_keys_and_nests_groups() -> None:
    emu = InstatusEmulator()
    emu.set_component("Storage", ComponentState.PARTIAL_OUTAGE)
    body = json.loads(emu.route(Request("GET", "/api/v2/components.json", {}, {})).raw or b"")
    assert set(body) == set(CAPTURE)
    assert set(body["page"]) == set(CAPTURE["page"])
    parent = next(c for c in body["components"] if c["isParent"])
    assert set(parent) == set(CAPTURE["components"][0])
    assert parent["status"] == "PARTIALOUTAGE" and {c["name"] for c in parent["children"]} >= {
        "Storage"
    }
    result = snapshot(
        json.loads(emu.route(Request("GET", "/summary.json", {}, {})).raw or b""), body, PAGE
    )
    storage = next(c for c in result.components if c.name == "Storage")
    assert (storage.group, storage.state) == ("EU-West", ComponentState.PARTIAL_OUTAGE)
    assert result.indicator == "major"


async def test_over_the_wire_both_documents() -> None:
    with InstatusEmulator() as emu:
        emu.open_incident("Search is slow", "minor", components=["Network"])
        async with connector_for(emu) as feed:
            page = await poll(feed)
    (incident,) = snap(page).incidents
    assert page.requests == 2 and incident.name == "Search is slow" and incident.impact == "minor"
    assert incident.url == f"{emu.base_url}/incident/{incident.external_id}"

"""Google Cloud and Workspace ``incidents.json``: the real captures, the emulator, the filters."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import VendorConfig
from connectors.emulators.google_status import GoogleStatusEmulator
from connectors.errors import BadPayload, ConfigurationError
from connectors.google_status import GoogleStatusConnector
from connectors.google_status.mapping import incidents_to_snapshot, title_of
from connectors.records import ComponentState
from tests.connectors.test_feeds_contract import connector_for, poll, snap

CAPTURES = Path(__file__).parent / "captures"
GCP = json.loads((CAPTURES / "gcp-status-incidents.json").read_text())
WORKSPACE = json.loads((CAPTURES / "google-workspace-status-incidents.json").read_text())
PAGE = "https://status.cloud.google.com"
PRODUCTS = (("Cloud SQL", "europe-west1"), ("Cloud SQL", "us-east1"), ("Google BigQuery", None))


def reopened(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The capture as if its incidents were still open (no ``end``)."""
    rows = copy.deepcopy(payload)
    for row in rows:
        row.pop("end", None)
    return rows


def test_the_gcp_capture_is_resolved_and_shows_nothing_open() -> None:
    snapshot = incidents_to_snapshot(GCP, PAGE)
    assert (snapshot.indicator, snapshot.incidents, snapshot.components) == ("none", (), ())
    assert snapshot.updated_at == datetime(2023, 3, 10, 14, 54, 50, tzinfo=UTC)


def test_the_gcp_capture_open_maps_every_field() -> None:
    snapshot = incidents_to_snapshot(reopened(GCP), PAGE)
    (incident,) = snapshot.incidents
    assert incident.name == "Retry errors for Google BigQuery in europe-north1"
    assert (incident.status, incident.impact) == ("active", "minor")
    assert incident.created_at == datetime(2023, 3, 10, 14, 9, 43, tzinfo=UTC), "begin, not created"
    assert incident.updated_at == datetime(2023, 3, 10, 14, 54, 50, tzinfo=UTC)
    assert incident.url == f"{PAGE}/incidents/rZvZvSKVdDHyWh4dZJ8D"
    assert incident.components == ("Google BigQuery",)
    assert incident.latest_update and incident.latest_update.startswith("Summary: Retry errors")
    (product,) = snapshot.components
    assert (product.external_id, product.name) == ("9CcrhHUcFevXPSVaSxkf", "Google BigQuery")
    assert (product.state, product.raw_status) == (ComponentState.DEGRADED, "SERVICE_INFORMATION")
    assert snapshot.indicator == "minor"


def test_the_workspace_capture_titles_come_from_the_markdown() -> None:
    snapshot = incidents_to_snapshot(
        reopened(WORKSPACE), "https://www.google.com/appsstatus/dashboard"
    )
    voice, gmail = snapshot.incidents
    assert voice.name == "Some consumer Google Voice users are experiencing account suspensions."
    assert gmail.name.startswith("Gmail users are experiencing delayed delivery")
    assert (voice.impact, gmail.impact) == ("minor", "major")
    assert snapshot.indicator == "major"
    assert {c.name: c.state for c in snapshot.components} == {
        "Google Voice": ComponentState.DEGRADED,
        "Gmail": ComponentState.PARTIAL_OUTAGE,
    }
    assert incidents_to_snapshot(WORKSPACE, PAGE).incidents == (), "both captured ones ended"


@pytest.mark.parametrize(
    ("desc", "title"),
    [
        ("Plain one-line title", "Plain one-line title"),
        ("**Title**\nThe real title\n**Description**\nMore", "The real title"),
        ("**Summary:**\n\n  Spaced **bold** words\n", "Spaced bold words"),
        ("", "fallback"),
        ("**Title**\n", "fallback"),
    ],
)
def test_titles(desc: str, title: str) -> None:
    assert title_of(desc, "fallback") == title


def test_the_emulator_speaks_both_captures_keys() -> None:
    for workspace, capture in ((False, GCP), (True, WORKSPACE)):
        emu = GoogleStatusEmulator(workspace=workspace, components=PRODUCTS)
        gone = emu.open_incident("Old trouble", "minor", components=["Google BigQuery"])
        emu.resolve_incident(gone)
        sql = emu.find_component("Cloud SQL", "europe-west1").id
        emu.open_incident("New trouble", "critical", components=[sql], status="identified")
        rendered = json.loads(emu.documents()["/incidents.json"]().body)
        real = capture[0]
        assert set(rendered[1]) == set(real), "a resolved incident, key for key"
        assert set(rendered[0]) == set(real) - {"end"}, "an open one has no end"
        assert set(rendered[0]["updates"][0]) == set(real["updates"][0])
        assert set(rendered[0]["most_recent_update"]) == set(real["most_recent_update"])
        assert rendered[1]["updates"][0]["status"] == "AVAILABLE"
        assert (
            rendered[0]["status_impact"] == "SERVICE_OUTAGE" and rendered[0]["severity"] == "high"
        )
        assert rendered[0]["begin"].endswith("+00:00") and "." not in rendered[0]["begin"]


async def test_products_and_locations_narrow_the_snapshot() -> None:
    with GoogleStatusEmulator(components=PRODUCTS) as emu:
        emu.open_incident(
            "SQL in Belgium",
            "major",
            components=[emu.find_component("Cloud SQL", "europe-west1").id],
        )
        emu.open_incident(
            "SQL in Carolina", "minor", components=[emu.find_component("Cloud SQL", "us-east1").id]
        )
        emu.open_incident("BigQuery everywhere", "critical", components=["Google BigQuery"])
        async with connector_for(emu) as feed:
            everything = snap(await poll(feed))
        assert len(everything.incidents) == 3 and everything.indicator == "critical"
        async with connector_for(emu, products=["cloud sql", "Compute Engine"]) as feed:
            sql = snap(await poll(feed))
        assert sorted(i.name for i in sql.incidents) == ["SQL in Belgium", "SQL in Carolina"]
        states = {c.name: c.state for c in sql.components}
        assert states == {
            "Cloud SQL": ComponentState.PARTIAL_OUTAGE,  # the worst of its two incidents
            "Compute Engine": ComponentState.OPERATIONAL,  # configured, named by none
        }
        async with connector_for(emu, locations="europe-west1, Finland (europe-north1)") as feed:
            belgium = snap(await poll(feed))
        # BigQuery's incident names no location: it cannot be ruled out.
        assert sorted(i.name for i in belgium.incidents) == [
            "BigQuery everywhere",
            "SQL in Belgium",
        ]


async def test_the_workspace_dashboard_path_under_its_base_url() -> None:
    with GoogleStatusEmulator(workspace=True, components=(("Gmail", None),)) as emu:
        emu.open_incident("Mail is slow", "major", "Delays.", components=["Gmail"])
        config = VendorConfig("ws", "google_status", emu.base_url + "/appsstatus/dashboard")
        async with GoogleStatusConnector.make_client(config) as client:
            feed = GoogleStatusConnector(config, client)
            (incident,) = snap(await poll(feed)).incidents
    assert incident.name == "Mail is slow"
    assert emu.requests[-1].path == "/appsstatus/dashboard/incidents.json"
    assert incident.url == f"{emu.base_url}/appsstatus/dashboard/incidents/{incident.external_id}"


async def test_a_long_history_is_read_once_and_then_costs_a_304() -> None:
    with GoogleStatusEmulator(components=PRODUCTS) as emu:
        start = datetime(2020, 1, 1, tzinfo=UTC)
        for index in range(20_000):
            opened = start + timedelta(hours=index)
            emu.add_history(
                f"Past {index}",
                opened=opened,
                closed=opened + timedelta(minutes=30),
                components=["Google BigQuery"],
            )
        emu.open_incident("Still going", "major", components=["Google BigQuery"])
        async with connector_for(emu) as feed:
            began = time.perf_counter()
            first = await poll(feed)
            read = time.perf_counter() - began
            assert [i.name for i in snap(first).incidents] == ["Still going"]
            began = time.perf_counter()
            again = await poll(feed, first.cursor)
            unchanged = time.perf_counter() - began
    assert again.status is None
    assert unchanged < read, "an unchanged history is not rendered or parsed again"
    assert read < 30


def test_a_bad_id_or_shape_is_a_bad_payload() -> None:
    rows = reopened(GCP)
    rows[0]["id"] = "../../evil"
    with pytest.raises(BadPayload, match="incident id"):
        incidents_to_snapshot(rows, PAGE)
    with pytest.raises(BadPayload, match="not a list"):
        incidents_to_snapshot({"incidents": []}, PAGE)
    with pytest.raises(BadPayload, match="begin"):
        incidents_to_snapshot([{"id": "abc", "external_desc": "x", "begin": "yesterday"}], PAGE)


@pytest.mark.parametrize(
    ("bad", "key"),
    [({"products": 5}, "products"), ({"incidents_path": "incidents.json"}, "incidents_path")],
)
def test_settings_errors_name_the_key(bad: dict[str, Any], key: str) -> None:
    config = VendorConfig("gcp", "google_status", PAGE, settings=bad)
    with pytest.raises(ConfigurationError, match=key):
        GoogleStatusConnector.validate(config)

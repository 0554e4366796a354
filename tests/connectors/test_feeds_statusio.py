"""Status.io: the documented public status shape, containers as groups, the page id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors import VendorConfig
from connectors.emulators.base import Request
from connectors.emulators.statusio import StatusioEmulator
from connectors.errors import BadPayload, ConfigurationError, ConnectorError
from connectors.records import ComponentState
from connectors.statusio import StatusioConnector
from connectors.statusio.mapping import snapshot, state_of
from tests.connectors.test_feeds_contract import connector_for, poll, snap

PAGE = "https://status.acme-cloud.example"


def documented(**result: Any) -> dict[str, Any]:
    """A body in the shape of Status.io's knowledge-base examples (values our own)."""
    container = {"id": "a" * 24, "name": "Frankfurt", "updated": "2026-03-01T10:00:00.000Z"}
    body = {
        "status_overall": {
            "updated": "2026-03-01T10:00:00.000Z",
            "status": "Operational",
            "status_code": 100,
        },
        "status": [
            {
                "id": "b" * 24,
                "name": "API",
                "updated": "2026-03-01T10:00:00.000Z",
                "status": "Operational",
                "status_code": 100,
                "containers": [
                    {**container, "status": "Operational", "status_code": 100},
                    {
                        **container,
                        "id": "c" * 24,
                        "name": "Dublin",
                        "status": "Degraded Performance",
                        "status_code": 300,
                    },
                ],
            }
        ],
        "incidents": [],
        "maintenance": {"active": [], "upcoming": []},
    }
    body.update(result)
    return {"result": body}


def test_the_documented_shape_maps_containers_as_groups() -> None:
    result = snapshot(documented(), PAGE)
    frankfurt, dublin = result.components
    assert (frankfurt.name, frankfurt.group, frankfurt.state) == (
        "API",
        "Frankfurt",
        ComponentState.OPERATIONAL,
    )
    assert (dublin.external_id, dublin.group) == (f"{'b' * 24}/{'c' * 24}", "Dublin")
    assert (dublin.state, dublin.raw_status) == (ComponentState.DEGRADED, "Degraded Performance")
    assert result.indicator == "minor", "the page said 100, a container says 300"
    assert result.updated_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_planned_maintenance_and_incidents() -> None:
    body = documented(
        status_overall={
            "updated": "2026-03-01T10:00:00.000Z",
            "status": "Planned Maintenance",
            "status_code": 200,
        },
        incidents=[
            {
                "id": "d" * 24,
                "name": "Slow API",
                "datetime_open": "2026-03-01T09:00:00.000Z",
                "messages": [
                    {
                        "details": "Identified.",
                        "datetime": "2026-03-01T09:30:00.000Z",
                        "state": 200,
                        "status": 400,
                    },
                    {
                        "details": "Looking.",
                        "datetime": "2026-03-01T09:00:00.000Z",
                        "state": 100,
                        "status": 300,
                    },
                ],
                "components_affected": [{"_id": "b" * 24, "name": "API"}],
                "containers_affected": [{"_id": "c" * 24, "name": "Dublin"}],
            }
        ],
        maintenance={
            "active": [],
            "upcoming": [
                {
                    "_id": "e" * 24,
                    "name": "DB upgrade",
                    "datetime_open": "2026-02-25T09:00:00.000Z",
                    "datetime_planned_start": "2026-03-05T02:00:00.000Z",
                    "datetime_planned_end": "2026-03-05T04:00:00.000Z",
                    "messages": [],
                    "components_affected": [{"_id": "b" * 24, "name": "API"}],
                }
            ],
        },
    )
    result = snapshot(body, PAGE)
    incident, window = result.incidents
    assert (incident.external_id, incident.status, incident.impact) == (
        "d" * 24,
        "identified",
        "major",
    )
    assert incident.latest_update == "Identified." and incident.components == ("API",)
    assert (window.external_id, window.status, window.maintenance) == ("e" * 24, "scheduled", True)
    assert window.scheduled_for == datetime(2026, 3, 5, 2, tzinfo=UTC)
    assert result.indicator == "major"


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (100, ComponentState.OPERATIONAL),
        (200, ComponentState.MAINTENANCE),
        (300, ComponentState.DEGRADED),
        (400, ComponentState.PARTIAL_OUTAGE),
        (500, ComponentState.MAJOR_OUTAGE),
        (600, ComponentState.DEGRADED),
        ("500", ComponentState.MAJOR_OUTAGE),
        (None, ComponentState.DEGRADED),
        (True, ComponentState.DEGRADED),
    ],
)
def test_status_codes_never_green_by_accident(code: Any, state: ComponentState) -> None:
    assert state_of(code) is state


def test_a_body_without_result_is_named() -> None:
    with pytest.raises(BadPayload, match=r"Status\.io result"):
        snapshot({"status": {"error": "yes"}}, PAGE)


def test_the_emulator_renders_the_documented_shape() -> None:
    emu = StatusioEmulator(
        components=(("Website", "US-West"), ("Website", "US-East"), ("API", None))
    )
    start = datetime.now(UTC) + timedelta(days=1)
    emu.schedule_maintenance("Upgrade", start, start + timedelta(hours=1), components=["API"])
    body = json.loads(emu.route(Request("GET", f"/1.0/status/{emu.page_id}", {}, {})).raw or b"")
    result = body["result"]
    assert set(result) == {"status_overall", "status", "incidents", "maintenance"}
    assert set(result["status_overall"]) == {"updated", "status", "status_code"}
    website = result["status"][0]
    assert set(website) == {"id", "name", "updated", "status", "status_code", "containers"}
    assert [c["name"] for c in website["containers"]] == ["US-West", "US-East"]
    assert set(website["containers"][0]) == {"id", "name", "updated", "status", "status_code"}
    assert result["status_overall"]["updated"].endswith("Z") and len(emu.page_id) == 24
    (upcoming,) = result["maintenance"]["upcoming"]
    assert {"_id", "name", "datetime_planned_start", "datetime_planned_end"} <= set(upcoming)


async def test_an_unknown_page_id_says_so() -> None:
    with StatusioEmulator() as emu:
        async with connector_for(emu, page_id="0" * 24) as feed:
            with pytest.raises(ConnectorError, match="check page_id") as caught:
                await poll(feed)
    assert caught.value.http_status == 404


async def test_over_the_wire() -> None:
    with StatusioEmulator() as emu:
        emu.open_incident("Disk pressure", "critical", components=["Storage"])
        emu.set_component("Storage", ComponentState.MAJOR_OUTAGE)
        async with connector_for(emu, page_url=PAGE) as feed:
            result = snap(await poll(feed))
    (incident,) = result.incidents
    assert (incident.impact, incident.status, incident.url) == ("critical", "investigating", PAGE)
    storage = next(c for c in result.components if c.name == "Storage")
    assert (storage.group, storage.state) == ("EU-West", ComponentState.MAJOR_OUTAGE)
    assert result.indicator == "critical"


@pytest.mark.parametrize("page_id", [None, "", "not-hex", "a" * 23, "g" * 24])
def test_the_page_id_is_required_and_checked(page_id: str | None) -> None:
    settings = {} if page_id is None else {"page_id": page_id}
    config = VendorConfig("io", "statusio", "https://api.status.io", settings=settings)
    with pytest.raises(ConfigurationError, match="page_id"):
        StatusioConnector.validate(config)


def test_links_default_to_the_hosted_page() -> None:
    config = VendorConfig("io", "statusio", "https://api.status.io", settings={"page_id": "a" * 24})
    connector = StatusioConnector(config, httpx2.AsyncClient())
    assert connector.page_url == f"https://status.io/pages/{'a' * 24}"
    assert connector.document_paths() == (f"/1.0/status/{'a' * 24}",)

"""Statuspage: the public summary over real loopback HTTP, and the real GitHub capture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.emulators.base import Reply
from connectors.emulators.statuspage import StatuspageEmulator
from connectors.errors import BadPayload, TransientError
from connectors.records import ComponentState
from connectors.statuspage import StatuspageConnector
from connectors.statuspage.mapping import component_state, summary_to_snapshot
from tests.hostile import has_forbidden

CAPTURE = Path(__file__).parent / "captures" / "statuspage-github-summary-2022-11-25.json"


def connector_for(emulator: StatuspageEmulator) -> StatuspageConnector:
    config = VendorConfig("status", "statuspage", emulator.base_url)
    StatuspageConnector.validate(config)
    return StatuspageConnector(config, StatuspageConnector.make_client(config))


def test_the_real_github_capture() -> None:
    snapshot = summary_to_snapshot(json.loads(CAPTURE.read_text()), "https://www.githubstatus.com")
    assert (snapshot.indicator, snapshot.description) == ("minor", "Minor Service Outage")
    troubled = [
        (c.name, c.state) for c in snapshot.components if c.state is not ComponentState.OPERATIONAL
    ]
    assert troubled == [("Packages", ComponentState.PARTIAL_OUTAGE)]
    (incident,) = snapshot.incidents
    assert (incident.name, incident.status, incident.impact) == (
        "Incident with Packages and Pages",
        "investigating",
        "major",
    )
    assert (
        incident.created_at.tzinfo is not None
        and incident.created_at.utcoffset().total_seconds() == 0
    )
    assert snapshot.updated_at is not None and snapshot.updated_at.year == 2022


def test_an_unknown_component_state_is_never_green() -> None:
    assert component_state("melting") is not ComponentState.OPERATIONAL


async def test_poll_follows_changes_and_uses_etags() -> None:
    with StatuspageEmulator() as emu:
        connector = connector_for(emu)
        first = await connector.poll(None)
        assert first.status is not None and first.status.indicator == "none"
        assert all(c.state is ComponentState.OPERATIONAL for c in first.status.components)
        assert {c.group for c in first.status.components} - {None}, "children keep their group"

        unchanged = await connector.poll(first.cursor)
        assert unchanged.status is None and unchanged.cursor == first.cursor
        assert emu.requests[-1].headers.get("if-none-match")

        emu.set_component("Storage", ComponentState.MAJOR_OUTAGE)
        incident = emu.open_incident(
            "Storage down", "critical", "Investigating.", components=["Storage"]
        )
        changed = await connector.poll(first.cursor)
        assert changed.status is not None and changed.status.indicator == "critical"
        assert [i.name for i in changed.status.incidents] == ["Storage down"]
        assert [
            c.name for c in changed.status.components if c.state is ComponentState.MAJOR_OUTAGE
        ] == ["Storage"]

        emu.resolve_incident(incident)
        emu.set_component("Storage", ComponentState.OPERATIONAL)
        resolved = await connector.poll(changed.cursor)
        assert resolved.status is not None and resolved.status.incidents == ()
        assert await connector.check()
        await connector.client.aclose()


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Reply(500, {"error": "boom"}), TransientError), (Reply(200, raw=b"<html>"), BadPayload)],
)
async def test_failures_are_clear_errors(fault: Reply, error: type[Exception]) -> None:
    with StatuspageEmulator() as emu:
        connector = connector_for(emu)
        emu.inject(fault)
        with pytest.raises(error):
            await connector.poll(None)
        await connector.client.aclose()


async def test_hostile_incident_text_is_cleaned() -> None:
    hostile = (
        "\x1b[2J\x1b]52;c;ZXZpbA==\x07[@click=app.quit]x[/] \u202eevil \x1b]8;;https://evil\x1b\\"
    )
    with StatuspageEmulator() as emu:
        emu.open_incident(hostile, "minor", hostile, components=["Storage"])
        connector = connector_for(emu)
        result = await connector.poll(None)
        await connector.client.aclose()
    assert result.status is not None
    (incident,) = result.status.incidents
    assert not has_forbidden(incident.name) and not has_forbidden(incident.latest_update or "")
    assert "[@click=app.quit]x[/]" in incident.name  # kept as text; never parsed as markup

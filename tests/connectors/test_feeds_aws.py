"""AWS Health ``currentevents``: the real capture (UTF-16 on the wire), the emulator, filters."""

from __future__ import annotations

import codecs
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.aws_health.mapping import event_region, events_to_snapshot, is_open
from connectors.emulators.aws_health import AwsHealthEmulator
from connectors.emulators.base import Request
from connectors.errors import BadPayload
from connectors.feeds.payload import read_json
from connectors.records import ComponentState
from tests.connectors.test_feeds_contract import connector_for, poll, snap

CAPTURE = json.loads(
    (Path(__file__).parent / "captures" / "aws-health-currentevents.json").read_text()
)
PAGE = "https://health.aws.amazon.com/health/status"
SERVICES = (
    ("Amazon Elastic Compute Cloud", "eu-west-1"),
    ("Amazon Simple Storage Service", "eu-west-1"),
    ("Amazon Elastic Compute Cloud", "us-east-1"),
    ("Amazon Route 53", None),
)


def test_the_capture_shows_the_two_open_events_only() -> None:
    resolved, uae, bahrain = CAPTURE
    assert not is_open(resolved) and is_open(uae) and is_open(bahrain)
    assert event_region(uae) == "me-central-1"
    snapshot = events_to_snapshot(CAPTURE, PAGE)
    assert [i.name for i in snapshot.incidents] == [
        "Increased Error Rates (Multiple services, UAE)",
        "Increased Error Rates (Multiple services, Bahrain)",
    ]
    first = snapshot.incidents[0]
    assert first.external_id == uae["arn"] and first.url == PAGE
    assert (first.status, first.impact) == ("active", "critical")
    assert first.created_at == datetime.fromtimestamp(1772369485, UTC)
    assert first.latest_update and first.latest_update.startswith("We are investigating issues")
    assert "Amazon VPC Lattice" in first.components
    lattice = next(c for c in snapshot.components if c.name == "Amazon VPC Lattice")
    assert (lattice.external_id, lattice.group) == ("vpclattice-me-central-1", "UAE")
    assert (lattice.state, lattice.raw_status) == (ComponentState.MAJOR_OUTAGE, "3")
    assert snapshot.indicator == "critical"
    assert "_trimmed_note" not in {c.external_id for c in snapshot.components}


@pytest.mark.parametrize(
    ("encode", "content_type"),
    [
        (lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "application/json;charset=utf-16"),
        (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "application/json"),
        (lambda t: t.encode("utf-16-be"), "application/json;charset=UTF-16BE"),
        (lambda t: codecs.BOM_UTF8 + t.encode(), "application/json"),
        (lambda t: t.encode(), None),
    ],
    ids=["utf16-be-bom", "utf16-le-bom", "utf16-be-declared", "utf8-bom", "utf8"],
)
def test_the_body_is_decoded_from_its_bytes(encode: Any, content_type: str | None) -> None:
    text = json.dumps(CAPTURE, ensure_ascii=False)
    assert read_json(encode(text), content_type, "AWS Health") == CAPTURE


def test_an_unknown_charset_or_garbage_is_named() -> None:
    with pytest.raises(BadPayload, match="unknown charset"):
        read_json(b"[]", "application/json; charset=klingon", "AWS Health")
    with pytest.raises(BadPayload, match="not JSON"):
        read_json(codecs.BOM_UTF16_BE + "<html>".encode("utf-16-be"), None, "AWS Health")


async def test_over_the_wire_the_body_is_utf16_with_a_bom() -> None:
    with AwsHealthEmulator(components=SERVICES) as emu:
        ec2 = emu.find_component("Amazon Elastic Compute Cloud", "eu-west-1").id
        emu.open_incident(
            "Instance launch errors – 起動エラー", "major", "Investigating.", components=[ec2]
        )
        reply = emu.route(Request("GET", "/public/currentevents", {}, {}))
        assert reply.raw is not None and reply.raw.startswith(codecs.BOM_UTF16_BE)
        assert reply.headers["Content-Type"] == "application/json;charset=utf-16"
        async with connector_for(emu) as feed:
            (incident,) = snap(await poll(feed)).incidents
    assert incident.name == (
        "Instance launch errors – 起動エラー (Amazon Elastic Compute Cloud, Ireland)"
    )


def test_the_emulator_speaks_the_captures_keys() -> None:
    emu = AwsHealthEmulator(components=SERVICES)
    single = emu.open_incident("Elevated Packet Loss", "minor", components=["Amazon Route 53"])
    emu.resolve_incident(single)
    ec2 = emu.find_component("Amazon Elastic Compute Cloud", "eu-west-1").id
    s3 = emu.find_component("Amazon Simple Storage Service", "eu-west-1").id
    emu.open_incident("Increased Error Rates", "critical", components=[ec2, s3])
    body = emu.documents()["/public/currentevents"]().body
    resolved, multiple = json.loads(body.decode("utf-16"))
    assert set(resolved) == set(CAPTURE[0])
    assert set(multiple) == set(CAPTURE[1])
    assert set(multiple["event_log"][0]) == set(CAPTURE[1]["event_log"][0])
    real_services = {
        k: v for k, v in CAPTURE[1]["impacted_services"].items() if isinstance(v, dict)
    }
    assert set(next(iter(multiple["impacted_services"].values()))) == set(
        next(iter(real_services.values()))
    )
    change = multiple["impacted_service_status_changes"][0]
    assert set(change) == set(CAPTURE[1]["impacted_service_status_changes"][0])
    assert isinstance(change["timestamp"], int) and change["timestamp"] > 10**12, "milliseconds"
    assert resolved["summary"].startswith("[RESOLVED] ") and resolved["status"] == "0"
    assert isinstance(resolved["date"], str) and isinstance(resolved["end_time"], str)
    assert multiple["arn"].startswith("arn:aws:health:eu-west-1::event/MULTIPLE_SERVICES/")


async def test_resolved_events_stay_in_the_feed_but_leave_the_snapshot() -> None:
    now = [datetime.now(UTC)]
    with AwsHealthEmulator(components=SERVICES, clock=lambda: now[0]) as emu:
        event = emu.open_incident("DNS errors", "major", components=["Amazon Route 53"])
        async with connector_for(emu) as feed:
            assert snap(await poll(feed)).incidents
            emu.resolve_incident(event)
            assert snap(await poll(feed)).incidents == ()
            assert "[RESOLVED] DNS errors" in emu.documents()[
                "/public/currentevents"
            ]().body.decode("utf-16")
            now[0] += timedelta(hours=7)
            assert "DNS errors" not in emu.documents()["/public/currentevents"]().body.decode(
                "utf-16"
            )


async def test_regions_and_services_narrow_the_snapshot() -> None:
    with AwsHealthEmulator(components=SERVICES) as emu:
        dublin = emu.find_component("Amazon Elastic Compute Cloud", "eu-west-1").id
        virginia = emu.find_component("Amazon Elastic Compute Cloud", "us-east-1").id
        s3 = emu.find_component("Amazon Simple Storage Service", "eu-west-1").id
        emu.open_incident("EC2 in Dublin", "minor", components=[dublin])
        emu.open_incident("EC2 in Virginia", "major", components=[virginia])
        emu.open_incident("S3 in Dublin", "minor", components=[s3])
        emu.open_incident("Route 53 everywhere", "minor", components=["Amazon Route 53"])
        async with connector_for(emu, regions=["Ireland"]) as feed:
            ireland = snap(await poll(feed))
        assert sorted(i.name.split(" (")[0] for i in ireland.incidents) == [
            "EC2 in Dublin",
            "Route 53 everywhere",  # a global service: no region to rule it out
            "S3 in Dublin",
        ]
        async with connector_for(emu, regions="us-east-1", services=["ec2"]) as feed:
            ec2 = snap(await poll(feed))
        assert [i.name.split(" (")[0] for i in ec2.incidents] == ["EC2 in Virginia"]
        (component,) = ec2.components
        assert (component.external_id, component.group) == ("ec2-us-east-1", "N. Virginia")
        async with connector_for(emu, services=["Amazon Simple Storage Service"]) as feed:
            assert [i.name.split(" (")[0] for i in snap(await poll(feed)).incidents] == [
                "S3 in Dublin"
            ]


def test_a_bad_event_is_named() -> None:
    rows = copy.deepcopy(CAPTURE)
    rows[1]["date"] = "yesterday"
    with pytest.raises(BadPayload, match="event date"):
        events_to_snapshot(rows, PAGE)
    rows = copy.deepcopy(CAPTURE)
    rows[1]["impacted_services"] = ["s3"]
    with pytest.raises(BadPayload, match="impacted_services"):
        events_to_snapshot(rows, PAGE)
    with pytest.raises(BadPayload, match="not a list"):
        events_to_snapshot({"events": []}, PAGE)

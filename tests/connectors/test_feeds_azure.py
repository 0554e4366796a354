"""Azure status RSS: empty means healthy only while the feed proves it is being rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from connectors.azure_status.mapping import feed_to_snapshot, parse_rfc822
from connectors.emulators.azure_status import AzureStatusEmulator
from connectors.emulators.base import Request
from connectors.errors import BadPayload
from tests.connectors.test_feeds_contract import connector_for, poll, snap
from tests.hostile import has_forbidden

CAPTURE = (Path(__file__).parent / "captures" / "azure-status-feed.xml").read_bytes()
BUILT = datetime(2026, 8, 1, 0, 22, tzinfo=UTC)
PAGE = "https://azure.status.microsoft/en-us/status"
HALF_HOUR = timedelta(minutes=30)


def test_the_capture_is_healthy_while_fresh() -> None:
    snapshot = feed_to_snapshot(
        CAPTURE, None, PAGE, now=BUILT + timedelta(minutes=3), max_age=HALF_HOUR
    )
    assert (snapshot.indicator, snapshot.incidents, snapshot.components) == ("none", (), ())
    assert snapshot.updated_at == BUILT


def test_the_capture_is_refused_once_stale() -> None:
    with pytest.raises(BadPayload, match=r"last rebuilt 128 min ago.*no proof of health"):
        feed_to_snapshot(CAPTURE, None, PAGE, now=BUILT + timedelta(minutes=128), max_age=HALF_HOUR)


def test_the_bare_z_zone_reads_as_utc() -> None:
    assert parse_rfc822("Sat, 01 Aug 2026 00:22:00 Z", "x") == BUILT
    assert parse_rfc822("Sat, 01 Aug 2026 02:22:00 +0200", "x") == BUILT
    with pytest.raises(BadPayload, match="no zone"):
        parse_rfc822("Sat, 01 Aug 2026 00:22:00 -0000", "x")
    with pytest.raises(BadPayload, match="RFC 822"):
        parse_rfc822("yesterday", "x")


def test_the_emulator_channel_matches_the_capture() -> None:
    emu = AzureStatusEmulator()
    body = emu.route(Request("GET", "/en-us/status/feed/", {}, {})).raw
    assert body is not None
    ours = ElementTree.fromstring(body).find("channel")
    real = ElementTree.fromstring(CAPTURE).find("channel")
    assert ours is not None and real is not None
    assert [child.tag for child in ours] == [child.tag for child in real]
    assert ElementTree.fromstring(body).attrib == ElementTree.fromstring(CAPTURE).attrib
    assert ours.findtext("lastBuildDate", "").endswith(" Z")


async def test_items_become_incidents() -> None:
    with AzureStatusEmulator() as emu:
        emu.open_incident(
            "Virtual Machines - West Europe - Degraded",
            "major",
            "Engineers are <b>investigating</b> &amp; mitigating.",
            components=["Virtual machines", "Storage"],
        )
        async with connector_for(emu) as feed:
            snapshot = snap(await poll(feed))
    (incident,) = snapshot.incidents
    assert incident.name == "Virtual Machines - West Europe - Degraded"
    assert (incident.status, incident.impact) == ("active", "major")
    assert incident.components == ("Virtual machines", "Storage")
    assert incident.latest_update == "Engineers are investigating & mitigating."
    assert incident.url == f"{emu.base_url}/en-us/status", "the page, never the item's link"
    assert snapshot.indicator == "major" and snapshot.components == ()


async def test_a_feed_nobody_rebuilds_is_refused_not_shown_healthy() -> None:
    with AzureStatusEmulator(frozen_at=datetime.now(UTC) - timedelta(hours=2)) as emu:
        async with connector_for(emu) as feed:
            with pytest.raises(BadPayload, match="no proof of health"):
                await poll(feed)
        async with connector_for(emu, max_feed_age_seconds=3 * 3600) as feed:
            assert snap(await poll(feed)).indicator == "none"


async def test_not_modified_is_judged_by_the_saved_build_time() -> None:
    with AzureStatusEmulator(frozen_at=datetime.now(UTC) - timedelta(minutes=5)) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            assert first.cursor is not None
            assert (await poll(feed, first.cursor)).status is None
            stale = {
                **first.cursor,
                "last_build": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            }
            with pytest.raises(BadPayload, match="no proof of health"):
                await poll(feed, stale)


def test_a_dtd_is_refused_and_raw_controls_do_not_hide_the_feed() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss><channel/></rss>'
    with pytest.raises(BadPayload, match="DTD"):
        feed_to_snapshot(evil, None, PAGE, now=BUILT, max_age=HALF_HOUR)
    careless = CAPTURE.replace(
        b"</channel>",
        b"<item><title>Bad \x1b[2J\x07title</title><guid>abc</guid>"
        b"<pubDate>Sat, 01 Aug 2026 00:10:00 Z</pubDate></item></channel>",
    )
    snapshot = feed_to_snapshot(careless, None, PAGE, now=BUILT, max_age=HALF_HOUR)
    (incident,) = snapshot.incidents
    assert incident.name == "Bad [2Jtitle" and not has_forbidden(incident.name)
    assert incident.external_id == "abc"


def test_a_document_that_is_not_rss_is_named() -> None:
    with pytest.raises(BadPayload, match="not RSS"):
        feed_to_snapshot(b"<html><body/></html>", None, PAGE, now=BUILT, max_age=HALF_HOUR)
    with pytest.raises(BadPayload, match="no lastBuildDate"):
        feed_to_snapshot(b"<rss><channel/></rss>", None, PAGE, now=BUILT, max_age=HALF_HOUR)
    without_id = CAPTURE.replace(
        b"</channel>", b"<item><title>T</title></item><item><title>T</title></item></channel>"
    )
    first, second = feed_to_snapshot(without_id, None, PAGE, now=BUILT, max_age=HALF_HOUR).incidents
    assert first.external_id == second.external_id, "a digest of title and date: stable"

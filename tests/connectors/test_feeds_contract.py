"""Every status feed against its emulator over real loopback HTTP: one contract, seven kinds.

Each kind's emulator renders the same neutral world in its vendor's wire
format; these tests drive that world and read it back through the real
connector: snapshots, conditional requests, faults that lose nothing, a stop
mid-way, hostile text, settings errors, and no write-back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind, UnsupportedAction
from connectors.emulators import emulator_for
from connectors.emulators._status_feed import StatusFeedEmulator
from connectors.emulators.base import Reply
from connectors.errors import (
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.feeds.connector import StatusFeedConnector
from connectors.records import ComponentState, Cursor, PollResult, StatusSnapshot
from tests.hostile import HOSTILE_STRINGS, has_forbidden

FEEDS = (
    "statuspage",
    "google_status",
    "aws_health",
    "azure_status",
    "incidentio",
    "instatus",
    "statusio",
)
WITH_MAINTENANCE = ("statuspage", "incidentio", "instatus", "statusio")
"""Feeds that publish maintenance windows (Google, AWS and Azure publish none)."""
WITH_COMPONENT_LIST = ("statuspage", "incidentio", "instatus", "statusio")
"""Feeds that list every component (the others name only the affected ones)."""


COMPONENTS = (
    ("Virtual machines", "EU-West"),
    ("Storage", "EU-West"),
    ("Network", "EU-West"),
    ("Control panel", None),
)


def emulator(kind: str, **options: Any) -> StatusFeedEmulator:
    """The kind's emulator with the same four components, whatever its own defaults."""
    cls = emulator_for(kind)
    made = cls(**{"components": COMPONENTS, **options})
    assert isinstance(made, StatusFeedEmulator)
    return made


def config_for(emu: StatusFeedEmulator, **settings: Any) -> VendorConfig:
    values = emu.vendor_settings()
    kind = values.pop("kind")
    return VendorConfig(
        name="feed", kind=kind, base_url=emu.base_url, settings={**values, **settings}
    )


@asynccontextmanager
async def connector_for(
    emu: StatusFeedEmulator, *, read_timeout: float = 10.0, **settings: Any
) -> AsyncIterator[StatusFeedConnector]:
    config = config_for(emu, **settings)
    cls = load_connector(config.kind)
    cls.validate(config)
    client = cls.make_client(config)
    client.timeout = httpx2.Timeout(read_timeout)
    async with client:
        connector = cls(config, client)
        assert isinstance(connector, StatusFeedConnector)
        yield connector


async def poll(connector: StatusFeedConnector, cursor: Cursor | None = None) -> PollResult:
    pages = [page async for page in connector.pages(cursor)]
    assert len(pages) == 1, "a status feed yields exactly one page a poll"
    return pages[0]


def snap(page: PollResult) -> StatusSnapshot:
    assert page.status is not None, "expected a new snapshot, got 'unchanged'"
    return page.status


@pytest.mark.parametrize("kind", FEEDS)
async def test_an_incident_appears_changes_and_leaves(kind: str) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            calm = snap(await poll(feed))
            assert calm.indicator == "none" and calm.incidents == ()
            if kind in WITH_COMPONENT_LIST:
                assert {c.name for c in calm.components} >= {"Storage", "Network"}
                assert all(c.state is ComponentState.OPERATIONAL for c in calm.components)
            assert await feed.check()

            incident = emu.open_incident(
                "Storage latency", "major", "Looking into it.", components=["Storage"]
            )
            emu.set_component("Storage", ComponentState.PARTIAL_OUTAGE)
            opened = snap(await poll(feed))
            (record,) = opened.incidents
            assert record.name.startswith("Storage latency")
            assert not record.maintenance and record.impact == "major"
            assert record.status in ("investigating", "active")
            if kind != "instatus":  # the Instatus summary names no affected components
                assert "Storage" in record.components
            assert record.url and record.url.startswith(feed.page_url)
            assert opened.indicator in ("major", "critical")
            if kind != "azure_status":  # Azure's feed has no components at all
                storage = [c for c in opened.components if c.name == "Storage"]
                assert storage and storage[0].state is not ComponentState.OPERATIONAL

            emu.update_incident(incident, "identified", "Found a bad disk controller.")
            later = snap(await poll(feed))
            if kind != "instatus":  # the Instatus summary carries no update text
                assert "controller" in (later.incidents[0].latest_update or "")

            emu.resolve_incident(incident)
            emu.set_component("Storage", ComponentState.OPERATIONAL)
            healthy = snap(await poll(feed))
            assert healthy.incidents == () and healthy.indicator == "none"


@pytest.mark.parametrize("kind", FEEDS)
async def test_an_unchanged_feed_costs_one_304_and_keeps_the_cursor(kind: str) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            assert first.status is not None and first.cursor
            again = await poll(feed, first.cursor)
            if kind == "azure_status" and again.status is not None:
                pytest.skip("the feed was rebuilt at a minute boundary between the two polls")
            assert again.status is None and again.cursor == first.cursor
            assert again.requests == len(feed.document_paths())
            sent = emu.requests[-1].headers
            assert sent.get("if-none-match") or sent.get("if-modified-since")

            emu.open_incident("Network flaps", "minor", components=["Network"])
            changed = await poll(feed, first.cursor)
            assert changed.status is not None and changed.cursor != first.cursor


@pytest.mark.parametrize("kind", FEEDS)
async def test_a_host_without_validators_is_read_whole_every_time(kind: str) -> None:
    with emulator(kind, validators=()) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            again = await poll(feed, first.cursor)
            assert again.status is not None
            assert "if-none-match" not in emu.requests[-1].headers
            assert first.cursor is not None and first.cursor["documents"] == {}


@pytest.mark.parametrize("kind", FEEDS)
async def test_last_modified_alone_is_honoured(kind: str) -> None:
    now = [datetime.now(UTC).replace(microsecond=0)]
    options: dict[str, Any] = {"validators": ("last_modified",), "clock": lambda: now[0]}
    with emulator(kind, **options) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            assert first.cursor is not None
            saved = next(iter(first.cursor["documents"].values()))
            assert saved["last_modified"] and not saved["etag"]
            again = await poll(feed, first.cursor)
            assert again.status is None
            assert emu.requests[-1].headers.get("if-modified-since") == saved["last_modified"]
            now[0] += timedelta(seconds=5)
            emu.open_incident("Later trouble", "minor", components=["Network"])
            assert (await poll(feed, first.cursor)).status is not None


@pytest.mark.parametrize("kind", FEEDS)
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Reply(500, {"error": "boom"}), TransientError),
        (Reply(502, raw=b"<html>bad gateway</html>"), TransientError),
        (Reply(429, {"message": "slow down"}, headers={"Retry-After": "7"}), RateLimited),
        (Reply(429, {"message": "slow down"}), RateLimited),
        (Reply(200, raw=b"\x00\x01garbage{"), BadPayload),
        (Reply(200, raw=b'{"surprise": true}'), BadPayload),
        (Reply(200, raw=b'{"page": {"name": "x"'), BadPayload),
        (Reply(204, raw=b""), BadPayload),
        (Reply(302, raw=b"", headers={"Location": "https://elsewhere.example/x"}), ConnectorError),
    ],
    ids=[
        "500",
        "502",
        "429-retry-after",
        "429-bare",
        "garbage",
        "wrong-shape",
        "cut-json",
        "204",
        "302",
    ],
)
async def test_faults_are_clear_errors_and_lose_nothing(
    kind: str, fault: Reply, error: type[Exception]
) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            emu.open_incident("During the fault", "critical", components=["Storage"])
            # The fault hits the last document of the poll (the first ones already answered).
            for _ in range(len(feed.document_paths()) - 1):
                emu.inject(Reply(304, raw=b""))
            emu.inject(fault)
            with pytest.raises(error) as caught:
                await poll(feed, first.cursor)
            if isinstance(caught.value, RateLimited):
                assert caught.value.retry_after == (7.0 if "Retry-After" in fault.headers else None)
            assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 400
            after = snap(await poll(feed, first.cursor))
            assert [i.name.split(" (")[0] for i in after.incidents] == ["During the fault"]


@pytest.mark.parametrize("kind", FEEDS)
async def test_a_hanging_vendor_times_out_and_the_next_poll_reads_everything(kind: str) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu, read_timeout=0.3) as feed:
            emu.inject(Reply(hang=True))
            with pytest.raises(TransientError, match="Timeout"):
                await poll(feed)
            emu.inject(Reply(200, raw=b'{"page":', truncate_at=3))
            with pytest.raises(TransientError):
                await poll(feed)
            assert snap(await poll(feed)).indicator == "none"


@pytest.mark.parametrize("kind", FEEDS)
async def test_a_poll_stopped_after_its_page_resumes_from_the_saved_cursor(kind: str) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            pages = feed.pages(None)
            page = await anext(pages)
            await pages.aclose()  # the collector stops once it has committed the page
            assert page.status is not None
            resumed = await poll(feed, page.cursor)
            assert resumed.status is None or kind == "azure_status"
            emu.open_incident("After the restart", "minor", components=["Network"])
            assert snap(await poll(feed, page.cursor)).incidents


@pytest.mark.parametrize("kind", FEEDS)
async def test_a_cursor_of_another_shape_or_version_reads_everything(kind: str) -> None:
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            first = await poll(feed)
            assert first.cursor is not None
            for foreign in (
                {"etag": '"old-style"', "page_updated_at": None},
                {**first.cursor, "feed": 99},
                {"feed": first.cursor["feed"], "documents": "nonsense"},
            ):
                assert (await poll(feed, foreign)).status is not None


@pytest.mark.parametrize("kind", FEEDS)
async def test_hostile_text_never_survives_as_an_escape(kind: str) -> None:
    with emulator(kind) as emu:
        for index, hostile in enumerate(HOSTILE_STRINGS):
            emu.add_component(f"{hostile[:200]} #{index}", None)
            emu.open_incident(f"{hostile} #{index}", "minor", hostile, components=[])
        async with connector_for(emu) as feed:
            snapshot = snap(await poll(feed))
    assert len(snapshot.incidents) == len(HOSTILE_STRINGS)
    texts = [snapshot.description]
    for incident in snapshot.incidents:
        texts += [
            incident.name,
            incident.latest_update or "",
            incident.url or "",
            *incident.components,
        ]
    for component in snapshot.components:
        texts += [component.name, component.group or "", component.raw_status]
    for text in texts:
        assert not has_forbidden(text), repr(text[:80])
    names = " ".join(i.name for i in snapshot.incidents)
    assert "[@click=app.quit]click me[/]" in names  # markup stays text; never parsed


@pytest.mark.parametrize("kind", WITH_MAINTENANCE)
async def test_maintenance_windows_upcoming_then_in_progress_then_gone(kind: str) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=3)
    with emulator(kind) as emu:
        async with connector_for(emu) as feed:
            window = emu.schedule_maintenance(
                "Storage firmware", start, end, "Firmware upgrade.", components=["Storage"]
            )
            upcoming = snap(await poll(feed))
            (record,) = upcoming.incidents
            assert record.maintenance and record.status == "scheduled"
            assert record.impact == "maintenance"
            assert (record.scheduled_for, record.scheduled_until) == (start, end)
            if kind != "instatus":  # the Instatus summary names no components
                assert record.components == ("Storage",)
            assert upcoming.indicator == "none", "an announced window has not started"

            emu.start_maintenance(window)
            emu.set_component("Storage", ComponentState.MAINTENANCE)
            active = snap(await poll(feed))
            (record,) = active.incidents
            assert record.maintenance and record.status == "in_progress"
            assert active.indicator == "maintenance"

            emu.resolve_incident(window)
            emu.set_component("Storage", ComponentState.OPERATIONAL)
            done = snap(await poll(feed))
            assert done.incidents == () and done.indicator == "none"


@pytest.mark.parametrize("kind", sorted(set(FEEDS) - set(WITH_MAINTENANCE)))
async def test_feeds_without_maintenance_publish_none(kind: str) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    with emulator(kind) as emu:
        emu.schedule_maintenance("Invisible", start, start + timedelta(hours=1))
        async with connector_for(emu) as feed:
            assert snap(await poll(feed)).incidents == ()


@pytest.mark.parametrize("kind", FEEDS)
def test_no_write_back_and_no_credentials(kind: str) -> None:
    emu = emulator(kind)
    config = VendorConfig("feed", kind, "http://127.0.0.1:9", settings=config_for(emu).settings)
    cls = load_connector(kind)
    assert cls.supported_actions == frozenset()
    with pytest.raises(UnsupportedAction):
        cls.plan_action(config, Action(ActionKind.COMMENT, "1", "1", text="hello"))
    settings = cls.parse_settings(config)
    assert settings.credential_sets == ((),)


@pytest.mark.parametrize("kind", FEEDS)
@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"pagesize": 5}, "pagesize"),
        ({"page_url": "ftp://status.example"}, "page_url"),
        ({"concurrency": 0}, "concurrency"),
    ],
)
def test_settings_errors_name_the_key(kind: str, bad: dict[str, Any], key: str) -> None:
    emu = emulator(kind)
    config = VendorConfig(
        "feed", kind, "https://status.example", settings={**config_for(emu).settings, **bad}
    )
    with pytest.raises(ConfigurationError, match=key):
        load_connector(kind).validate(config)


@pytest.mark.parametrize("kind", FEEDS)
def test_ticket_settings_are_accepted_for_a_uniform_config(kind: str) -> None:
    emu = emulator(kind)
    settings = {**config_for(emu).settings, "backfill_days": 30, "poll_interval": 60}
    load_connector(kind).validate(
        VendorConfig("feed", kind, "https://status.example", settings=settings)
    )


@pytest.mark.parametrize("kind", FEEDS)
def test_each_kind_has_its_emulator(kind: str) -> None:
    cls = emulator_for(kind)
    assert cls.kind == kind
    assert issubclass(load_connector(kind), StatusFeedConnector)

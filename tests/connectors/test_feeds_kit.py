"""The status-feed kit's parts: conditional documents, payload decoding, vocabulary, settings."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from connectors.emulators.base import Reply
from connectors.emulators.instatus import InstatusEmulator
from connectors.errors import BadPayload
from connectors.fanout import Limiter
from connectors.feeds.connector import summary
from connectors.feeds.documents import (
    Validators,
    dump_cursor,
    fetch_documents,
    load_validators,
)
from connectors.feeds.payload import PayloadReader, decode_text
from connectors.feeds.rollup import (
    describe,
    maintenance_in_effect,
    rollup,
    state_for_impact,
    worst_indicator,
)
from connectors.feeds.settings import http_url, name_list
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
PATHS = ("/summary.json", "/api/v2/components.json")


async def test_two_documents_unchanged_together_or_read_whole_together() -> None:
    with InstatusEmulator() as emu:
        async with httpx2.AsyncClient(base_url=emu.base_url) as client:
            limiter = Limiter(2)
            first = await fetch_documents(client, PATHS, {}, limiter)
            assert first.documents is not None and first.requests == 2
            same = await fetch_documents(client, PATHS, first.validators, limiter)
            assert same.documents is None and same.requests == 2
            # Only the summary changes ...
            emu.inject(Reply(200, raw=b'{"page":{"name":"x","url":"y","status":"UP"}}'))
            changed = await fetch_documents(client, PATHS, first.validators, limiter)
            # ... so the components answered 304 and were read again in full.
            assert changed.documents is not None and set(changed.documents) == set(PATHS)
            assert changed.requests == 3
            assert all(doc.content for doc in changed.documents.values())
            assert emu.requests[-1].headers.get("if-none-match") is None


async def test_not_modified_to_an_unconditional_request_is_refused() -> None:
    with InstatusEmulator() as emu:
        emu.inject(Reply(304, raw=b""))
        async with httpx2.AsyncClient(base_url=emu.base_url) as client:
            with pytest.raises(BadPayload, match="sent no validator"):
                await fetch_documents(client, PATHS[:1], {}, Limiter(1))


def test_validators_round_trip_and_odd_values_are_dropped() -> None:
    cursor = dump_cursor(3, {"/a": Validators('"x"', None), "/b": Validators()}, extra=1)
    assert cursor == {
        "feed": 3,
        "documents": {"/a": {"etag": '"x"', "last_modified": None}},
        "extra": 1,
    }
    assert load_validators(cursor, 3) == {"/a": Validators('"x"', None)}
    assert load_validators(cursor, 4) == {}
    assert load_validators({"feed": 3, "documents": {"/a": {"etag": 5}, 7: {}}}, 3) == {}
    assert Validators('"x"', "Tue, 01 Dec 2026 10:00:00 GMT").headers() == {
        "If-None-Match": '"x"',
        "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT",
    }
    hostile = httpx2.Response(200, headers={"ETag": '"a\x1b]52;c;x\x07"'})
    assert Validators.of(hostile).etag is None, "a header with escapes is never sent back"


@pytest.mark.parametrize(
    ("raw", "content_type", "text"),
    [
        (codecs.BOM_UTF16_BE + "é".encode("utf-16-be"), None, "é"),
        (codecs.BOM_UTF16_LE + "é".encode("utf-16-le"), "text/plain; charset=utf-8", "é"),
        (codecs.BOM_UTF32_LE + "é".encode("utf-32-le"), None, "é"),
        (codecs.BOM_UTF8 + "é".encode(), None, "é"),
        ("é".encode("latin-1"), "application/json; charset=ISO-8859-1", "é"),
        (b"\xc3(ok", "application/json; charset=utf-8", "\ufffd(ok"),
    ],
)
def test_bodies_are_decoded_by_bom_then_charset_then_utf8(
    raw: bytes, content_type: str | None, text: str
) -> None:
    assert decode_text(raw, content_type, "Vendor") == text


def test_the_reader_names_vendor_and_field() -> None:
    read = PayloadReader("Acme status")
    with pytest.raises(BadPayload, match="Acme status page is not an object"):
        read.mapping([], "page")
    with pytest.raises(BadPayload, match="Acme status incident name missing"):
        read.text("  ", "incident name")
    with pytest.raises(BadPayload, match="Acme status created_at"):
        read.time("not a time", "created_at")
    assert read.identifier(42, "id") == "42" and read.items(None, "x") == []
    with pytest.raises(BadPayload, match="position is not an integer"):
        read.position(True, "position")


def test_unknown_words_are_never_green() -> None:
    assert worst_indicator(["none", "melting"]) == "minor"
    assert worst_indicator([]) == "none"
    assert worst_indicator(["maintenance", "minor", "none"]) == "minor"
    assert state_for_impact("apocalyptic") is ComponentState.DEGRADED
    assert describe("critical") == "Major System Outage"


def incident(**fields: object) -> IncidentRecord:
    values: dict[str, object] = {
        "external_id": "1",
        "name": "Window",
        "status": "scheduled",
        "impact": "maintenance",
        "created_at": NOW,
        "updated_at": NOW,
        "maintenance": True,
        "scheduled_for": NOW + timedelta(hours=1),
        "scheduled_until": NOW + timedelta(hours=3),
        **fields,
    }
    return IncidentRecord(**values)  # type: ignore[arg-type]


def test_the_rollup_counts_running_windows_and_open_incidents_only() -> None:
    degraded = ComponentRecord("c", "Storage", ComponentState.DEGRADED, "degraded_performance")
    assert rollup([], [incident()]) == ("none", "All Systems Operational")
    assert rollup([], [incident(status="in_progress")])[0] == "maintenance"
    assert rollup([degraded], [incident(status="in_progress")])[0] == "minor"
    outage = incident(maintenance=False, status="active", impact="critical")
    assert rollup([degraded], [outage])[0] == "critical"
    assert (
        rollup([], [incident(maintenance=False, status="resolved", impact="critical")])[0] == "none"
    )


def test_a_window_is_in_effect_inside_its_announced_times() -> None:
    window = incident()
    assert not maintenance_in_effect(window, NOW)
    assert maintenance_in_effect(window, NOW + timedelta(hours=1))
    assert not maintenance_in_effect(window, NOW + timedelta(hours=3))
    assert maintenance_in_effect(incident(status="verifying"), NOW)
    assert not maintenance_in_effect(incident(status="completed"), NOW + timedelta(hours=2))
    assert maintenance_in_effect(incident(scheduled_until=None), NOW + timedelta(days=9))
    assert not maintenance_in_effect(
        incident(maintenance=False, status="active", impact="minor"), NOW
    )


def test_name_lists_and_addresses() -> None:
    assert name_list("Gmail, Google Meet ,") == ("Gmail", "Google Meet")
    assert name_list(["ec2", " s3 "]) == ("ec2", "s3")
    with pytest.raises(ValueError, match="list of names"):
        name_list(5)
    with pytest.raises(ValueError, match="list of names"):
        name_list(["ok", 3])
    assert http_url("https://status.example/") == "https://status.example"
    with pytest.raises(ValueError, match="http"):
        http_url("javascript:alert(1)")


def test_the_check_line_counts_what_it_saw() -> None:
    snapshot = StatusSnapshot(
        "maintenance",
        "Service Under Maintenance",
        components=(
            ComponentRecord("c", "Storage", ComponentState.MAINTENANCE, "under_maintenance"),
        ),
        incidents=(incident(status="in_progress"),),
    )
    assert summary(snapshot) == (
        "ok, maintenance: Service Under Maintenance (1 component, 0 incidents, 1 maintenance)"
    )

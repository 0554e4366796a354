"""``paneglass export --what events`` and ``--what sla`` through the CLI, checked by content.

The store is written the way the collector writes it (``Store.apply``, two polls
of one ticket: created, then moved to open two hours later), so the events and
the contract clocks are the ones a real collector leaves behind.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.cli import main
from paneglass.store import Store

CREATED = datetime(2026, 11, 20, 9, tzinfo=UTC)
OPENED = CREATED + timedelta(hours=2)


def record(status: TicketStatus, updated: datetime) -> TicketRecord:
    return TicketRecord(
        external_id="4201",
        key="#4201",
        title="Cannot print, error code 49.4C02",
        status=status,
        raw_status=status.value,
        priority=Priority.P2,
        raw_priority="high",
        created_at=CREATED,
        updated_at=updated,
        assignee=None,
        requester="maria.jensen@acme.example",
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.sync_vendors(
        [VendorConfig(name="desktop", kind="zendesk", base_url="http://127.0.0.1:9")]
    )
    store.apply("desktop", PollResult(tickets=(record(TicketStatus.NEW, CREATED),)), None, CREATED)
    store.apply(
        "desktop",
        PollResult(tickets=(record(TicketStatus.OPEN, OPENED),)),
        None,
        OPENED + timedelta(minutes=1),
    )
    store.close()
    return url


def export(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["export", *args]) == 0
    return capsys.readouterr().out


def test_export_events_as_json_and_csv(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    events = json.loads(export(capsys, "--what", "events", "--format", "json", "--db", db))
    changes = [(e["field"], e["old_value"], e["new_value"]) for e in events]
    assert changes == [
        ("created", None, "new"),
        ("status", "new", "open"),
        ("raw_status", "new", "open"),
    ]
    assert {e["key"] for e in events} == {"#4201"} and {e["vendor"] for e in events} == {"desktop"}
    assert events[1]["vendor_time"] == "2026-11-20T11:00:00Z"
    assert events[1]["seen_at"] == "2026-11-20T11:01:00Z"

    rows = list(
        csv.DictReader(
            io.StringIO(export(capsys, "--what", "events", "--db", db, "--format", "csv"))
        )
    )
    assert [(r["field"], r["old_value"], r["new_value"]) for r in rows] == [
        ("created", "", "new"),
        ("status", "new", "open"),
        ("raw_status", "new", "open"),
    ]


def test_export_sla_as_json_and_csv(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sla.json"
    export(capsys, "--db", db, "--format", "json", "--what", "sla", "--output", str(out))
    clocks = {c["metric"]: c for c in json.loads(out.read_text())}
    assert set(clocks) == {"response", "resolution"}
    response, resolution = clocks["response"], clocks["resolution"]
    # P2's default response target is an hour; the first answer came after two: missed.
    assert (response["state"], response["target_seconds"], response["elapsed_seconds"]) == (
        "missed",
        3600,
        7200,
    )
    assert response["breach_at"] == "2026-11-20T10:00:00Z"
    assert response["stopped_at"] == "2026-11-20T11:00:00Z"
    # Resolution runs on: eight hours from creation.
    assert (resolution["state"], resolution["target_seconds"]) == ("ok", 28800)
    assert resolution["due_at"] == "2026-11-20T17:00:00Z" and resolution["stopped_at"] is None
    assert {c["priority"] for c in clocks.values()} == {"P2"}
    assert {c["key"] for c in clocks.values()} == {"#4201"}

    rows = list(
        csv.DictReader(io.StringIO(export(capsys, "--what", "sla", "--format", "csv", "--db", db)))
    )
    assert sorted((r["metric"], r["state"]) for r in rows) == [
        ("resolution", "ok"),
        ("response", "missed"),
    ]

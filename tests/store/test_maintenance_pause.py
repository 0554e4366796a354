"""A vendor's announced maintenance pauses a configured contract clock, end to end.

Config (``status_source`` and ``pause_in_maintenance``) → the status feed's
maintenance in the store → the vendor's ticket's clock paused with its reason,
due time moved past the window, the pause audited once; and the store's
ingest path computes exactly what the pure engine computes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.records import (
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.config import parse_config
from paneglass.sla import MAINTENANCE, StatusChange, ticket_clocks
from paneglass.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
START, END = NOW - timedelta(minutes=30), NOW + timedelta(hours=1)


def config(pause: bool) -> dict[str, object]:
    return {
        "vendors": {
            "hosting": {
                "kind": "statuspage",  # any kind: only the ticket vendor's name matters here
                "base_url": "http://127.0.0.1:1",
                "status_source": "hosting-status",
            },
            "hosting-status": {"kind": "statuspage", "base_url": "http://127.0.0.1:2"},
        },
        "sla": {
            "policies": [
                {
                    "name": "Hosting",
                    "vendors": ["hosting"],
                    "resolution": "4h",
                    "pause_in_maintenance": pause,
                }
            ]
        },
    }


def window(status: str = "in_progress") -> StatusSnapshot:
    return StatusSnapshot(
        "maintenance",
        "Under maintenance",
        incidents=(
            IncidentRecord(
                "mnt-1",
                "Storage firmware upgrade",
                status,
                "maintenance",
                NOW - timedelta(days=2),
                NOW - timedelta(minutes=30),
                maintenance=True,
                scheduled_for=START,
                scheduled_until=END,
                components=("Storage",),
            ),
        ),
    )


TICKET = TicketRecord(
    "t-1",
    "INC0001",
    "App slow",
    TicketStatus.OPEN,
    "2",
    Priority.P2,
    "2",
    NOW - timedelta(hours=2),
    NOW - timedelta(hours=2),
)


def open_store(url: str, pause: bool) -> Store:
    cfg = parse_config(config(pause))
    store = Store(url, sla=cfg.sla)
    store.sync_vendors(cfg.vendors)
    return store


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = open_store(any_db_url, pause=True)
    yield s
    s.close()


def resolution(store: Store):  # type: ignore[no-untyped-def]
    found = store.find_tickets("INC0001")
    detail = store.ticket_detail(found[0][0])
    assert detail is not None
    return detail.clocks[0]


def expected(now: datetime, windows: list[tuple[datetime, datetime]]):  # type: ignore[no-untyped-def]
    cfg = parse_config(config(True))
    policy = cfg.sla.match("hosting", "P2", None)
    (clock,) = ticket_clocks(
        policy=policy,
        created_at=TICKET.created_at,
        first_response_at=None,
        resolved_at=None,
        history=[StatusChange(TICKET.created_at, "open", "2")],
        now=now,
        suspended=windows,
    )
    return clock


def test_a_maintenance_window_pauses_a_configured_clock(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(TICKET,)), None, NOW)
    assert not resolution(store).paused
    changes = store.apply("hosting-status", PollResult(status=window()), None, NOW)
    assert changes.ticket_ids, "a new window recomputes the covered vendor's clocks"
    again = store.apply(
        "hosting-status", PollResult(status=window()), None, NOW + timedelta(seconds=60)
    )
    assert not again.ticket_ids, "nothing moved: a status poll recomputes no clock"

    clock = resolution(store)
    assert clock.paused and clock.pause_reason == MAINTENANCE
    assert clock.due_at is None
    # 1h30 ran before the window; the 30 minutes inside it do not count.
    assert clock.elapsed_seconds == 90 * 60
    pure = expected(NOW, [(START, END)])
    assert (clock.elapsed_seconds, clock.paused, clock.pause_reason) == (
        pure.elapsed // timedelta(seconds=1),
        pure.paused,
        pure.pause_reason,
    )
    audit = [r for r in store.audit_rows() if r.action == "sla paused: vendor maintenance"]
    assert len(audit) == 1 and audit[0].vendor == "hosting"

    # Seen again: no second audit entry. After the window the clock runs, its due time
    # moved by the 1h30 of the window it did not count.
    later = END + timedelta(minutes=5)
    store.apply("hosting-status", PollResult(status=window("completed")), None, later)
    clock = resolution(store)
    assert not clock.paused
    assert clock.due_at == TICKET.created_at + timedelta(hours=4) + (END - START)
    assert expected(later, [(START, END)]).due_at == clock.due_at
    audit = [r for r in store.audit_rows() if r.action == "sla paused: vendor maintenance"]
    assert len(audit) == 1


def test_the_ingest_path_agrees_with_the_engine(store: Store) -> None:
    """A ticket arriving during the window gets its paused clock from the ingest path."""
    store.apply("hosting-status", PollResult(status=window()), None, NOW)
    store.apply("hosting", PollResult(tickets=(TICKET,)), None, NOW)
    clock = resolution(store)
    pure = expected(NOW, [(START, END)])
    assert clock.paused and clock.pause_reason == MAINTENANCE
    assert clock.elapsed_seconds == pure.elapsed // timedelta(seconds=1)


def test_without_the_policy_key_maintenance_changes_nothing(any_db_url: str) -> None:
    store = open_store(any_db_url, pause=False)
    try:
        store.apply("hosting", PollResult(tickets=(TICKET,)), None, NOW)
        store.apply("hosting-status", PollResult(status=window()), None, NOW)
        clock = resolution(store)
        assert not clock.paused and clock.elapsed_seconds == 2 * 3600
        assert not [r for r in store.audit_rows() if "maintenance" in r.action]
    finally:
        store.close()


def test_a_status_source_must_be_a_configured_vendor() -> None:
    from paneglass.errors import UserError

    bad = config(True)
    bad["vendors"]["hosting"]["status_source"] = "nowhere"  # type: ignore[index]
    with pytest.raises(UserError, match="status_source 'nowhere'"):
        parse_config(bad)

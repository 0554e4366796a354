"""Tickets opened or open during their vendor's published incident carry the incident."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors import VendorConfig
from connectors.records import (
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.store import Store, TicketQuery

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def ticket(key: str, created: timedelta, resolved: timedelta | None = None) -> TicketRecord:
    done = resolved is not None
    return TicketRecord(
        key,
        key,
        f"ticket {key}",
        TicketStatus.RESOLVED if done else TicketStatus.OPEN,
        "x",
        Priority.P3,
        "3",
        NOW + created,
        NOW + (resolved if resolved is not None else created),
        resolved_at=NOW + resolved if resolved is not None else None,
    )


def incident(maintenance: bool = False) -> IncidentRecord:
    return IncidentRecord(
        "maint" if maintenance else "inc",
        "Maintenance" if maintenance else "Elevated API errors",
        "scheduled" if maintenance else "investigating",
        "maintenance" if maintenance else "major",
        NOW - timedelta(hours=2),
        NOW - timedelta(hours=1),
        maintenance=maintenance,
        scheduled_for=NOW - timedelta(hours=2) if maintenance else None,
        scheduled_until=NOW + timedelta(hours=2) if maintenance else None,
    )


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = Store(any_db_url)
    s.sync_vendors(
        [
            VendorConfig("desk", "zendesk", "http://127.0.0.1:1", status_source="desk-status"),
            VendorConfig("other", "zendesk", "http://127.0.0.1:2"),
            VendorConfig("desk-status", "statuspage", "http://127.0.0.1:3"),
        ]
    )
    yield s
    s.close()


def marks(store: Store) -> dict[str, str | None]:
    rows = store.ticket_window(TicketQuery(), 0, 50)
    return {row.key: row.vendor_incident for row in rows}


def test_tickets_during_the_vendors_incident_are_marked(store: Store) -> None:
    store.apply(
        "desk",
        PollResult(
            tickets=(
                ticket("during", -timedelta(minutes=30)),
                ticket("open-before", -timedelta(hours=5)),
                ticket("done-before", -timedelta(hours=6), -timedelta(hours=3)),
            )
        ),
        None,
        NOW,
    )
    store.apply(
        "other", PollResult(tickets=(ticket("elsewhere", -timedelta(minutes=5)),)), None, NOW
    )
    assert set(marks(store).values()) == {None}
    store.apply(
        "desk-status",
        PollResult(status=StatusSnapshot("major", "x", incidents=(incident(),))),
        None,
        NOW,
    )
    assert marks(store) == {
        "during": "Elevated API errors",
        "open-before": "Elevated API errors",
        "done-before": None,
        "elsewhere": None,
    }
    detail = store.ticket_detail(store.find_tickets("during")[0][0])
    assert detail is not None and detail.vendor_incident == "Elevated API errors"


def test_a_maintenance_window_is_no_incident(store: Store) -> None:
    store.apply("desk", PollResult(tickets=(ticket("during", -timedelta(minutes=30)),)), None, NOW)
    snapshot = StatusSnapshot("maintenance", "x", incidents=(incident(maintenance=True),))
    store.apply("desk-status", PollResult(status=snapshot), None, NOW)
    assert marks(store) == {"during": None}

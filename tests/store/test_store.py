"""Store semantics: set-based upserts, one event per changed field, cursor with its data."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.records import (
    ComponentRecord,
    ComponentState,
    IncidentRecord,
    PollResult,
    Priority,
    StatusSnapshot,
    TicketRecord,
    TicketStatus,
)
from paneglass.errors import UserError
from paneglass.store import PollRunInfo, SortKey, Store, TicketQuery
from paneglass.store.migrate import MIGRATIONS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RUN = PollRunInfo(NOW, NOW, True, requests=1)


def ticket(n: int, **changes: object) -> TicketRecord:
    fields: dict[str, object] = {
        "external_id": f"ext-{n}",
        "key": f"INC{n:04d}",
        "title": f"ticket {n}",
        "status": TicketStatus.OPEN,
        "raw_status": "2",
        "priority": Priority.P3,
        "raw_priority": "3",
        "created_at": NOW - timedelta(hours=1),
        "updated_at": NOW - timedelta(minutes=n),
        "assignee": "Kim Lee",
        "requester": "Maria Jensen",
    }
    fields.update(changes)
    return TicketRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = Store(any_db_url)
    s.sync_vendors([VendorConfig(name="hosting", kind="servicenow", base_url="http://127.0.0.1:1")])
    yield s
    s.close()


def test_wal_mode_and_schema_version(db_url: str, tmp_path: Path) -> None:
    Store(db_url).close()
    path = tmp_path / "test.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        newest = max(MIGRATIONS.glob("versions/[0-9][0-9][0-9][0-9]_*.py")).name[:4]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == newest


def test_first_poll_inserts_and_records_creation(store: Store) -> None:
    change = store.apply(
        "hosting", PollResult(tickets=(ticket(1), ticket(2)), cursor={"since": "a"}), RUN, NOW
    )
    assert (change.added, change.updated, change.events) == (2, 0, 2)
    assert store.ticket_count(TicketQuery()) == 2
    assert store.load_cursor("hosting") == {"since": "a"}
    detail = store.ticket_detail(store.ticket_window(TicketQuery(), 0, 10)[-1].id)
    assert detail is not None
    assert [e.field_name for e in detail.events] == ["created"]


def test_every_changed_field_appends_one_event(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),)), RUN, NOW)
    later = NOW + timedelta(minutes=5)
    changed = ticket(
        1, status=TicketStatus.PENDING, raw_status="3", assignee="Ana Ruiz", updated_at=later
    )
    change = store.apply("hosting", PollResult(tickets=(changed,)), RUN, later)
    assert (change.added, change.updated, change.events) == (0, 1, 3)
    row = store.ticket_window(TicketQuery(), 0, 1)[0]
    detail = store.ticket_detail(row.id)
    assert detail is not None
    history = {(e.field_name, e.old_value, e.new_value) for e in detail.events}
    assert ("status", "open", "pending") in history
    assert ("raw_status", "2", "3") in history
    assert ("assignee", "Kim Lee", "Ana Ruiz") in history
    assert detail.status == "pending"


def test_unchanged_records_make_no_events(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),)), RUN, NOW)
    change = store.apply(
        "hosting", PollResult(tickets=(ticket(1),)), RUN, NOW + timedelta(minutes=1)
    )
    assert (change.added, change.updated, change.events) == (0, 0, 0)


def test_duplicates_inside_one_batch_collapse(store: Store) -> None:
    change = store.apply(
        "hosting", PollResult(tickets=(ticket(1), ticket(1, title="newer"))), RUN, NOW
    )
    assert change.added == 1
    assert store.ticket_window(TicketQuery(), 0, 5)[0].title == "newer"


def test_failed_poll_keeps_cursor_and_records_the_run(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),), cursor={"since": "a"}), RUN, NOW)
    failed = PollRunInfo(NOW, NOW, False, "transient", "HTTP 503", 503)
    store.apply("hosting", None, failed, NOW)
    assert store.load_cursor("hosting") == {"since": "a"}
    health = store.vendor_health()[0]
    assert health.last_ok is False
    assert health.last_error_kind == "transient"
    assert health.consecutive_failures == 1
    assert health.last_ok_at == NOW


def test_a_batch_that_fails_leaves_nothing_behind(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),), cursor={"since": "a"}), RUN, NOW)
    broken = PollResult(tickets=(ticket(2),), cursor={"since": "b"})
    with pytest.raises(KeyError):
        store.apply("nobody", broken, RUN, NOW)
    assert store.ticket_count(TicketQuery()) == 1
    assert store.load_cursor("hosting") == {"since": "a"}


def test_window_sorts_and_filters_in_sql(store: Store) -> None:
    tickets = tuple(ticket(n, priority=Priority(f"P{1 + n % 5}")) for n in range(1, 21))
    store.apply("hosting", PollResult(tickets=tickets), RUN, NOW)
    by_priority = store.ticket_window(TicketQuery(sort=SortKey.PRIORITY, descending=False), 0, 20)
    assert [r.priority for r in by_priority] == sorted(r.priority or "" for r in by_priority)
    page = store.ticket_window(TicketQuery(), 5, 5)
    assert [r.key for r in page] == [f"INC{n:04d}" for n in range(6, 11)]
    assert store.ticket_count(TicketQuery(text="ticket 1")) == 11  # 1, 10..19
    assert store.ticket_count(TicketQuery(text="maria")) == 20


def test_sla_clocks_are_computed_with_the_batch(store: Store) -> None:
    late = ticket(1, priority=Priority.P1, created_at=NOW - timedelta(hours=5))
    store.apply("hosting", PollResult(tickets=(late, ticket(2))), RUN, NOW)
    rows = store.sla_rows(NOW)
    assert [r.key for r in rows] == ["INC0001"]
    assert rows[0].state == "breached"
    headline = store.headline(NOW)
    assert (headline.breached, headline.open_tickets, headline.open_p1) == (1, 2, 1)


def test_clocks_move_with_time_alone(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1, priority=Priority.P3),)), RUN, NOW)
    assert store.sla_rows(NOW) == []
    assert store.tick_clocks(NOW + timedelta(hours=24)) >= 1
    rows = store.sla_rows(NOW + timedelta(hours=24))
    assert rows and rows[0].state == "breached"


def test_status_snapshot_replaces_components_and_retires_incidents(store: Store) -> None:
    store.sync_vendors(
        [VendorConfig(name="status", kind="statuspage", base_url="http://127.0.0.1:1")]
    )
    incident = IncidentRecord("i1", "Storage slow", "identified", "minor", NOW, NOW)
    degraded = StatusSnapshot(
        "minor",
        "Partially Degraded Service",
        components=(
            ComponentRecord("c1", "Storage", ComponentState.DEGRADED, "degraded_performance"),
        ),
        incidents=(incident,),
    )
    store.apply("status", PollResult(status=degraded), RUN, NOW)
    health = {h.name: h for h in store.vendor_health()}["status"]
    assert health.indicator == "minor"
    assert [c.name for c in health.components] == ["Storage"]
    assert [i.name for i in health.incidents] == ["Storage slow"]
    store.apply(
        "status", PollResult(status=StatusSnapshot("none", "All Systems Operational")), RUN, NOW
    )
    health = {h.name: h for h in store.vendor_health()}["status"]
    assert (health.indicator, health.components, health.incidents) == ("none", (), ())


def test_secrets_never_reach_the_database(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    secret = "s3cr3t-Very-Long-Token"
    store.sync_vendors(
        [
            VendorConfig(
                name="desk",
                kind="zendesk",
                base_url="http://127.0.0.1:1",
                settings={"email": "a@b.c", "api_token": secret},
            )
        ]
    )
    store.apply("desk", PollResult(tickets=(ticket(1),), cursor={"c": 1}), RUN, NOW)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("test.db*"))
    assert secret.encode() not in raw


def test_raw_payload_is_stored_as_json(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1, raw={"state": "2", "x": [1]}),)), RUN, NOW)
    detail = store.ticket_detail(store.ticket_window(TicketQuery(), 0, 1)[0].id)
    assert detail is not None and detail.raw is not None
    assert json.loads(detail.raw) == {"state": "2", "x": [1]}


def test_unreachable_database_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot"):
        Store(f"sqlite:///{blocker}/sub/db.sqlite")


def test_ticket_first_seen_resolved_keeps_its_real_resolution_time(store: Store) -> None:
    done = ticket(
        1,
        status=TicketStatus.RESOLVED,
        created_at=NOW - timedelta(hours=3),
        resolved_at=NOW - timedelta(hours=1),
        priority=Priority.P3,
    )
    store.apply("hosting", PollResult(tickets=(done,)), RUN, NOW)
    detail = store.ticket_detail(store.ticket_window(TicketQuery(), 0, 1)[0].id)
    assert detail is not None
    resolution = next(c for c in detail.clocks if c.metric == "resolution")
    assert resolution.stopped_at == NOW - timedelta(hours=1)
    assert resolution.elapsed_seconds == 2 * 3600
    assert resolution.state == "met"


def test_reopened_ticket_keeps_the_old_cycle(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),)), RUN, NOW)
    t1 = NOW + timedelta(minutes=10)
    resolved = ticket(1, status=TicketStatus.RESOLVED, updated_at=t1, resolved_at=t1)
    store.apply("hosting", PollResult(tickets=(resolved,)), RUN, t1)
    t2 = NOW + timedelta(minutes=30)
    store.apply("hosting", PollResult(tickets=(ticket(1, updated_at=t2),)), RUN, t2)
    detail = store.ticket_detail(store.ticket_window(TicketQuery(), 0, 1)[0].id)
    assert detail is not None
    cycles = [(c.cycle, c.state) for c in detail.clocks if c.metric == "resolution"]
    assert cycles == [(0, "met"), (1, "ok")]


def test_sla_counts_and_filters(store: Store) -> None:
    store.sync_vendors([VendorConfig(name="desk", kind="zendesk", base_url="http://127.0.0.1:1")])
    late = {"created_at": NOW - timedelta(hours=30), "priority": Priority.P3}
    store.apply("hosting", PollResult(tickets=(ticket(1, **late), ticket(2, **late))), RUN, NOW)
    store.apply(
        "desk",
        PollResult(tickets=(ticket(3, priority=Priority.P1, created_at=NOW - timedelta(hours=5)),)),
        RUN,
        NOW,
    )
    assert store.sla_counts(NOW) == {"desk": (1, 0), "hosting": (2, 0)}
    assert [r.key for r in store.sla_rows(NOW, vendor="desk")] == ["INC0003"]
    assert {r.key for r in store.sla_rows(NOW, priority="P3")} == {"INC0001", "INC0002"}


def test_structured_filters_run_in_sql(store: Store) -> None:
    store.sync_vendors([VendorConfig(name="desk", kind="zendesk", base_url="http://127.0.0.1:1")])
    store.apply(
        "hosting",
        PollResult(
            tickets=(
                ticket(1, title="Cannot print, error 49.4C02", priority=Priority.P1),
                ticket(2, status=TicketStatus.PENDING, assignee="Ana Ruiz"),
                ticket(3, status=TicketStatus.CLOSED, assignee=None),
            )
        ),
        RUN,
        NOW,
    )
    store.apply("desk", PollResult(tickets=(ticket(4, title="100% CPU_usage"),)), RUN, NOW)

    def keys(text: str) -> list[str]:
        return sorted(r.key for r in store.ticket_window(TicketQuery(text=text), 0, 50))

    assert keys("vendor:desk") == ["INC0004"]
    assert keys("kind:servicenow status:open,pending") == ["INC0001", "INC0002"]
    assert keys("-status:closed -vendor:desk") == ["INC0001", "INC0002"]
    assert keys("prio:1") == ["INC0001"]
    assert keys("assignee:ana") == ["INC0002"]
    assert keys("-assignee:kim") == ["INC0002", "INC0003"]  # no assignee counts as "not kim"
    assert keys(r"/49\.4c0[0-9]/") == ["INC0001"]
    assert keys("100%") == ["INC0004"] and keys("cpu_u") == ["INC0004"]  # wildcards are literal
    assert keys("sla:none") == ["INC0003"]
    assert store.ticket_count(TicketQuery(text="print 49")) == 1


@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [True, False])
def test_reading_from_the_far_end_gives_the_same_window(
    store: Store, sort: SortKey, descending: bool
) -> None:
    tickets = tuple(
        ticket(
            n,
            priority=None if n % 7 == 0 else Priority(f"P{1 + n % 5}"),
            status=TicketStatus.PENDING if n % 3 else TicketStatus.OPEN,
        )
        for n in range(1, 41)
    )
    store.apply("hosting", PollResult(tickets=tickets), RUN, NOW)
    query = TicketQuery(sort=sort, descending=descending)
    everything = store.ticket_window(query, 0, 100)
    for offset in (0, 17, 25, 35, 38):
        near = store.ticket_window(query, offset, 6, total=40)
        assert [r.id for r in near] == [r.id for r in everything[offset : offset + 6]]


def test_viewers_hear_about_foreign_commits(any_db_url: str) -> None:
    from paneglass.collect import watcher_for

    writer = Store(any_db_url)
    writer.sync_vendors(
        [VendorConfig(name="hosting", kind="servicenow", base_url="http://127.0.0.1:1")]
    )
    watcher = watcher_for(any_db_url)
    assert watcher is not None
    try:
        assert not watcher.changed()
        writer.apply("hosting", PollResult(tickets=(ticket(1),)), RUN, NOW)
        # A NOTIFY reaches the listening socket a moment after the commit returns.
        deadline = time.monotonic() + 5
        while not watcher.changed():
            assert time.monotonic() < deadline, "no change notice within 5 s of the commit"
            time.sleep(0.02)
        time.sleep(0.2)
        assert not watcher.changed()  # once per batch
    finally:
        watcher.close()
        writer.close()


def test_staleness_follows_each_vendors_own_threshold(db_url: str) -> None:
    from paneglass.collect import Freshness, freshness

    store = Store(db_url)
    store.sync_vendors(
        [
            VendorConfig(
                name="quick", kind="zendesk", base_url="http://127.0.0.1:1", poll_interval=60
            ),
            VendorConfig(
                name="patient",
                kind="zendesk",
                base_url="http://127.0.0.1:1",
                poll_interval=60,
                stale_after=10,
            ),
        ]
    )
    for name in ("quick", "patient"):
        store.apply(name, PollResult(), RUN, NOW)
    later = NOW + timedelta(minutes=5)
    states = {v.name: freshness(v, later) for v in store.vendor_health()}
    assert states == {"quick": Freshness.STALE, "patient": Freshness.FRESH}
    store.close()

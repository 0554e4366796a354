"""The clock history ``record_page`` writes from the clocks ingest hands it, maintenance included.

``writes.apply_batch`` passes the clocks it stored (by a ticket page, and by a
status page whose maintenance window moved the covered vendor's clocks) into
:func:`paneglass.store.history.record_page`, which reads none of them back. Its
invariant, checked after every page on each backend: each stored clock has
exactly one open version holding its values, and no open version is left
without a stored clock; a version is opened only where a value moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from connectors.records import PollResult, Priority, TicketStatus
from paneglass.store import Store
from paneglass.store.history import CLOCK_FIELDS, record_page
from paneglass.store.tables import CLOCK_VERSIONS, CLOCKS
from tests.store.test_maintenance_pause import END, NOW, TICKET, open_store, window


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = open_store(any_db_url, pause=True)
    yield s
    s.close()


def _clocks(store: Store) -> tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]], int]:
    """Stored clocks and open versions by (ticket, metric, cycle), and how many versions."""
    key = ("ticket_id", "metric", "cycle")
    with store.engine.connect() as conn:
        stored = {
            tuple(row[:3]): tuple(row[3:])
            for row in conn.execute(select(*(CLOCKS.c[n] for n in (*key, *CLOCK_FIELDS))))
        }
        rows = conn.execute(
            select(*(CLOCK_VERSIONS.c[n] for n in (*key, *CLOCK_FIELDS, "valid_to")))
        ).all()
    opened: dict[Any, tuple[Any, ...]] = {}
    for row in rows:
        if row[-1] is None:
            assert tuple(row[:3]) not in opened, "one open version per clock"
            opened[tuple(row[:3])] = tuple(row[3:-1])
    return stored, opened, len(rows)


def _check(store: Store) -> int:
    stored, opened, count = _clocks(store)
    assert opened == stored
    return count


def test_clock_versions_follow_ingest_and_maintenance(store: Store) -> None:
    other = replace(TICKET, external_id="t-2", key="INC0002", title="Mail down")
    store.apply("hosting", PollResult(tickets=(TICKET, other)), None, NOW - timedelta(hours=1))
    assert _check(store) == 2  # two new tickets, one clock each: two versions, none closed

    changes = store.apply("hosting-status", PollResult(status=window()), None, NOW)
    assert len(changes.ticket_ids) == 2  # the window paused both clocks: recomputed
    assert _check(store) == 4

    again = store.apply(
        "hosting-status", PollResult(status=window()), None, NOW + timedelta(seconds=60)
    )
    assert not again.ticket_ids
    assert _check(store) == 4  # nothing moved, nothing versioned

    # One ticket moves on (its clock with it), the other is seen again unchanged.
    moved = replace(
        TICKET, status=TicketStatus.PENDING, raw_status="3", updated_at=NOW + timedelta(minutes=5)
    )
    store.apply("hosting", PollResult(tickets=(moved, other)), None, NOW + timedelta(minutes=5))
    count = _check(store)
    assert count in (4, 5)  # a new version only if the clock's values moved

    store.apply(
        "hosting-status", PollResult(status=window("completed")), None, END + timedelta(minutes=5)
    )
    assert _check(store) > count  # the window ended: the clocks run again

    # A ticket resolved: its clock stops (a new version, the running one closed).
    done = END + timedelta(hours=1)
    resolved = replace(
        other, status=TicketStatus.RESOLVED, raw_status="6", resolved_at=done, updated_at=done
    )
    before = _check(store)
    store.apply("hosting", PollResult(tickets=(resolved,)), None, done)
    assert _check(store) == before + 1


def test_a_first_page_repeated_closes_and_reopens_nothing_twice(store: Store) -> None:
    """The same page twice: the second rewrites nothing, so it versions nothing."""
    page = PollResult(tickets=(TICKET, replace(TICKET, external_id="t-3", priority=Priority.P1)))
    store.apply("hosting", page, None, NOW)
    first = _check(store)
    store.apply("hosting", page, None, NOW + timedelta(minutes=1))
    assert _check(store) == first


def test_clocks_not_handed_to_record_page_are_read_from_the_table(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(TICKET,)), None, NOW)
    with store.engine.begin() as conn:
        conn.execute(update(CLOCKS).values(elapsed_seconds=CLOCKS.c.elapsed_seconds + 60))
        ids = [row[0] for row in conn.execute(select(CLOCKS.c.ticket_id))]
        record_page(conn, 0, ids, False, NOW + timedelta(minutes=1))
    assert _check(store) == 2  # the moved clock: its version closed, a new one opened

"""Every scorecard figure on a small world whose answers are worked out by hand.

The world (``scorecard_world``) runs through November 2026; each expected
number below is derived in its comment from the ticket timelines there, not
from the code under test. Both backends answer the same.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import event

from paneglass.metrics.periods import parse_period
from paneglass.store import ScorecardRow, Spread, Store
from paneglass.store.column_types import DONE_CHANGES
from tests.metrics.scorecard_world import NOW, build_world

H = 3600


@pytest.fixture
def november(any_db_url: str) -> dict[str, ScorecardRow]:
    store: Store = build_world(any_db_url)
    try:
        period = parse_period("2026-11", UTC, NOW)
        rows = store.scorecards(
            [period.previous().span, period.span],
            NOW,
            status_pages={"alpha": ["alpha-status"]},
            backlog_periods=[1],
        )
    finally:
        store.close()
    assert [(r.vendor, r.period) for r in rows] == [
        ("alpha", 0), ("beta", 0), ("alpha", 1), ("beta", 1)
    ]  # fmt: skip
    return {row.vendor: row for row in rows if row.period == 1}


def test_volume(november: dict[str, ScorecardRow]) -> None:
    alpha, beta = november["alpha"], november["beta"]
    # alpha: a1-a4 created in November (a0 in October); resolutions a1, a2, a3 twice; a3 re-opened.
    assert (alpha.opened, alpha.resolved, alpha.reopened) == (4, 4, 1)
    # beta: b1, b2, b4 created; b1, b2 and b3 (created in October) resolved in November.
    assert (beta.opened, beta.resolved, beta.reopened) == (3, 3, 0)


def test_backlog_at_the_end_of_the_period_with_its_ages(november: dict[str, ScorecardRow]) -> None:
    # At 1 December 00:00: a0 (34 days old: >30d) and a4 (10.6 days: 7-30d) are open ...
    assert november["alpha"].backlog == 2
    assert november["alpha"].backlog_ages == (0, 0, 0, 1, 1)
    # ... and b4, never answered (5.7 days: 3-7d).
    assert november["beta"].backlog == 1
    assert november["beta"].backlog_ages == (0, 0, 1, 0, 0)


def test_time_to_first_response_in_business_and_wall_time(
    november: dict[str, ScorecardRow],
) -> None:
    # alpha responses stopped in November, business seconds (office 09-17) / wall seconds:
    #   a1 08:00 -> 10:30: 1.5 h / 2.5 h   a2 16:00 -> 16:30: 0.5 h / 0.5 h
    #   a3 09:00 -> 09:10: 10 min / 10 min   a4 10:00 -> 10:20: 20 min / 20 min
    # nearest rank of 4: median = 2nd, p90 = 4th.
    assert november["alpha"].mtta == Spread(4, 1200, 1.5 * H, 1200, 2.5 * H)
    # beta (24x7): b1 30 min, b2 2 h (b3 answered in October, b4 never): median 1st, p90 2nd.
    assert november["beta"].mtta == Spread(2, 1800, 2 * H, 1800, 2 * H)


def test_time_to_resolve_counts_pauses_calendars_and_each_cycle(
    november: dict[str, ScorecardRow],
) -> None:
    # alpha resolution clocks stopped in November (business / wall):
    #   a1 Mon 08:00 -> 15:00: 6 h (09-15) / 7 h
    #   a2 Tue 16:00 -> Wed 17:00 paused Wed 09-13: 1 h + 4 h = 5 h / 25 h
    #   a3 cycle 0 Thu 09:00 -> 12:00: 3 h / 3 h
    #   a3 cycle 1 (re-opened) Fri 09:00 -> Mon 13:00: 8 h + 4 h = 12 h / 76 h
    assert november["alpha"].mttr == Spread(4, 5 * H, 12 * H, 7 * H, 76 * H)
    # beta: b1 6 h, b2 24 h, b3 (created 30 Oct 12:00, resolved 1 Nov 12:00) 48 h.
    assert november["beta"].mttr == Spread(3, 24 * H, 48 * H, 24 * H, 48 * H)


def test_contract_sla_met_per_metric(november: dict[str, ScorecardRow]) -> None:
    alpha, beta = november["alpha"], november["beta"]
    # alpha response decided in November: a1 breached (10:00), a2 a3 a4 met.
    assert (alpha.response_met, alpha.response_decided) == (3, 4)
    # alpha resolution: a1, a2, a3 cycle 0 met; a3 cycle 1 breached Fri 17:00; a4 breached
    # Mon 23 Nov 10:00 (still open). a0 breached in October: not November's.
    assert (alpha.resolution_met, alpha.resolution_decided) == (3, 5)
    # beta response: b1 met, b2 breached 12 Nov 13:00, b4 breached 25 Nov 09:00.
    assert (beta.response_met, beta.response_decided) == (1, 3)
    # beta resolution: b1 met; b2 breached 12 Nov 20:00; b4 25 Nov 16:00 (b3 in October).
    assert (beta.resolution_met, beta.resolution_decided) == (1, 3)


def test_vendor_claim_and_disagreement(november: dict[str, ScorecardRow]) -> None:
    alpha = november["alpha"]
    # The vendor's word on alpha's decided resolution clocks: a1 flag "not breached",
    # a2 its own due time Wed 12:00 passed before the 17:00 resolution ("breached"),
    # a3 flag "not breached" for both cycles; a4 says nothing.
    assert (alpha.vendor_claim_met, alpha.vendor_claim_total) == (3, 4)
    # Disagreement: a2 (vendor breached, contract met) and a3 cycle 1 (the reverse).
    assert (alpha.disagreed, alpha.compared) == (2, 4)
    beta = november["beta"]
    assert (beta.vendor_claim_total, beta.compared, beta.disagreed) == (0, 0, 0)


def test_hand_offs(november: dict[str, ScorecardRow]) -> None:
    assert (november["alpha"].handoffs_sent, november["alpha"].handoffs_received) == (1, 0)
    assert (november["beta"].handoffs_sent, november["beta"].handoffs_received) == (0, 1)


def test_credit_evidence_counts_overlapping_incidents_once(
    november: dict[str, ScorecardRow],
) -> None:
    # alpha-status incidents: i3 2 Nov 10:20-11:00; i1 6 Nov 16:00 - 7 Nov 02:00 and i2
    # 7 Nov 00:00-04:00 overlap: merged 6 Nov 16:00 - 7 Nov 04:00.
    # Breaches inside them: a1 response (10:00-10:30) 10 min; a3 cycle 1 (from Fri 17:00)
    # 11 h = 660 min; a0 resolution, breached since October and open all month:
    # 40 + 720 = 760 min. Total 1,430 minutes over 3 clocks.
    assert november["alpha"].credit_minutes == 1430
    assert november["alpha"].credit_clocks == 3
    assert november["beta"].credit_minutes == 0


def test_the_previous_period_is_computed_in_the_same_pass(any_db_url: str) -> None:
    store = build_world(any_db_url)
    try:
        period = parse_period("2026-11", UTC, NOW)
        october = store.scorecards([period.previous().span], NOW)
    finally:
        store.close()
    alpha, beta = (row for row in october)
    # October: a0 and b3 opened; a0's resolution breached 28 Oct 17:00; b3's 30 Oct 20:00;
    # both responses were met in October (a0 after 30 min of office time, b3 after 15 min).
    assert (alpha.opened, alpha.resolution_decided, alpha.resolution_met) == (1, 1, 0)
    assert (beta.opened, beta.response_met, beta.response_decided) == (1, 1, 1)
    assert alpha.backlog is None  # not asked for


def test_resolutions_and_reopens_are_read_from_their_partial_index(db_url: str) -> None:
    """SQLite uses a partial index only when the query repeats its condition word for word:
    a query reworded would fall back to reading every status event of the period."""
    store: Store = build_world(db_url)
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        period = parse_period("2026-11", UTC, NOW)
        store.scorecards([period.span], NOW)
        (counting,) = [(s, p) for s, p in statements if DONE_CHANGES in s]
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + counting[0], counting[1]).all()
    finally:
        store.close()
    assert any("COVERING INDEX ix_event_done_time" in str(row) for row in plan), plan

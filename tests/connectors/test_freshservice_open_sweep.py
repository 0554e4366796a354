"""The open-ticket sweep's window rules, as pure functions of the vendor's counts."""

from __future__ import annotations

from datetime import date, timedelta

from connectors.freshservice.open_sweep import FLOOR, MAX_FILTER_PAGES, OpenSweep

TODAY = date(2026, 12, 2)


def test_a_small_account_is_one_request() -> None:
    sweep = OpenSweep()
    assert sweep.query(TODAY) == "status:2 OR status:3 OR status:>6"
    done, emit = sweep.answered(total=42, read=42, per_page=100, today=TODAY)
    assert emit and done.done and done.total == 42


def test_an_oversized_window_is_narrowed_before_anything_is_read() -> None:
    counted, emit = OpenSweep().answered(total=5000, read=100, per_page=100, today=TODAY)
    assert not emit and counted.left == 5000 and counted.hi is None
    assert counted.query(TODAY) == (
        "(status:2 OR status:3 OR status:>6) AND created_at:>'2026-11-26'"
    )
    narrower, emit = counted.answered(total=700, read=100, per_page=100, today=TODAY)
    assert not emit and narrower.span < counted.span
    fitting, emit = narrower.answered(total=60, read=60, per_page=100, today=TODAY)
    lo = TODAY - timedelta(days=narrower.span - 1)
    assert emit and fitting.hi == lo - timedelta(days=1) and fitting.left == 4940
    assert fitting.query(TODAY).endswith(f"created_at:<'{fitting.hi.isoformat()}'")


def test_sparse_windows_grow_and_an_exhausted_estimate_asks_for_the_rest() -> None:
    sweep = OpenSweep(counted=True, hi=date(2026, 1, 31), span=10, left=130, total=500)
    grown, _ = sweep.answered(total=0, read=0, per_page=100, today=TODAY)
    assert grown.span == 40 and not grown.rest
    last, _ = grown.answered(total=40, read=40, per_page=100, today=TODAY)
    assert last.rest and last.left == 90
    assert "created_at:>" not in last.query(TODAY)
    finished, emit = last.answered(total=90, read=90, per_page=100, today=TODAY)
    assert emit and finished.done


def test_a_rest_that_is_still_too_big_gives_the_exact_remainder() -> None:
    sweep = OpenSweep(counted=True, hi=date(2024, 5, 1), span=30, left=10, rest=True)
    windowing, emit = sweep.answered(total=900, read=100, per_page=100, today=TODAY)
    assert not emit and not windowing.rest and windowing.left == 900


def test_a_dense_day_is_paged_then_split_by_priority_past_the_cap() -> None:
    day = OpenSweep(counted=True, hi=date(2026, 6, 1), span=1, left=5000)
    paged, emit = day.answered(total=250, read=100, per_page=100, today=TODAY)
    assert emit and paged.page == 2
    paged, _ = paged.answered(total=250, read=100, per_page=100, today=TODAY)
    done, emit = paged.answered(total=250, read=50, per_page=100, today=TODAY)
    assert emit and done.page == 1 and done.hi == date(2026, 5, 31) and done.span == 1
    split, emit = day.answered(
        total=MAX_FILTER_PAGES * 100 + 1, read=100, per_page=100, today=TODAY
    )
    assert not emit and split.split == 1 and "priority:1" in split.query(TODAY)
    following, emit = split.answered(total=80, read=80, per_page=100, today=TODAY)
    assert emit and following.split == 2


def test_below_the_floor_the_rest_is_paged_and_the_sweep_ends() -> None:
    sweep = OpenSweep(counted=True, hi=FLOOR - timedelta(days=1), rest=True, left=0)
    more, emit = sweep.answered(total=250, read=100, per_page=100, today=TODAY)
    assert emit and more.page == 2 and not more.done
    more, _ = more.answered(total=250, read=100, per_page=100, today=TODAY)
    last, emit = more.answered(total=250, read=50, per_page=100, today=TODAY)
    assert emit and last.done


def test_positions_round_trip_and_garbage_starts_over() -> None:
    sweep = OpenSweep(counted=True, hi=date(2025, 2, 3), span=9, left=77, total=800, split=3)
    assert OpenSweep.load(sweep.dump()) == sweep
    assert OpenSweep.load({"hi": "not a date"}) == OpenSweep()
    assert OpenSweep.load("nonsense") == OpenSweep()

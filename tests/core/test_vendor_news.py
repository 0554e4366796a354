"""What a vendor's polling and status page announce, and what is not news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paneglass.collect.transitions import detect
from paneglass.notify.events import Event
from paneglass.store import TransitionCandidates, VendorCandidate, VendorHealth

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def health(last_ok_at: datetime, *, ok: bool = True) -> VendorHealth:
    """A vendor polled every 60 s, stale after 2 intervals, last good at ``last_ok_at``."""
    return VendorHealth(
        name="hosting",
        kind="servicenow",
        poll_interval=60.0,
        enabled=True,
        stale_after=2.0,
        last_run_at=last_ok_at,
        last_ok_at=last_ok_at,
        last_ok=ok,
        last_error_kind=None if ok else "server",
        last_error_message=None if ok else "500 from the vendor",
        last_duration_ms=800,
        consecutive_failures=0 if ok else 1,
        open_tickets=3,
    )


def events(
    vendor: VendorHealth, watching_since: datetime, *, status_at: datetime | None = None
) -> list[str]:
    candidate = VendorCandidate(
        "hosting",
        NOW - timedelta(days=3),
        "major",
        "Storage latency",
        (("c1", "Storage", "degraded_performance", None),),
        (("i1", "Storage latency in DC-2", "major"),),
        41,
        status_fetched_at=status_at,
    )
    candidates = TransitionCandidates(NOW, None, 0, 0, 0, 0, vendors=(candidate,))
    return [n.event for n in detect(candidates, [vendor], watching_since)]


def test_a_start_after_a_quiet_weekend_is_not_announced_as_stale() -> None:
    weekend = health(NOW - timedelta(days=2))
    assert events(weekend, watching_since=NOW - timedelta(seconds=30)) == [
        Event.VENDOR_DEGRADED.value,
        Event.VENDOR_INCIDENT.value,
    ]


def test_still_stale_after_a_whole_window_of_polling_is_announced() -> None:
    weekend = health(NOW - timedelta(days=2))
    assert events(weekend, watching_since=NOW - timedelta(seconds=121))[-1] == (
        Event.CONNECTOR_STALE.value
    )


def test_a_failed_poll_is_announced_at_once() -> None:
    failed = health(NOW - timedelta(seconds=5), ok=False)
    assert events(failed, watching_since=NOW - timedelta(seconds=1))[-1] == (
        Event.CONNECTOR_FAILING.value
    )


def test_a_fresh_status_answer_announces_its_incident_and_component() -> None:
    fresh = health(NOW - timedelta(seconds=5))
    assert events(fresh, NOW - timedelta(hours=1), status_at=NOW - timedelta(seconds=5)) == [
        Event.VENDOR_DEGRADED.value,
        Event.VENDOR_INCIDENT.value,
    ]


def test_an_old_status_answer_is_not_news() -> None:
    """A status kept from before a restart, or replayed from history (the demo's year), does
    not raise its incidents again: only an answer within the stale window does."""
    fresh = health(NOW - timedelta(seconds=5))
    assert events(fresh, NOW - timedelta(hours=1), status_at=NOW - timedelta(days=300)) == []

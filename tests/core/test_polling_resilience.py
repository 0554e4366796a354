"""Polling that behaves, against a real emulator over loopback.

Retry-After is honoured with zero requests inside the window, failures back
off, the circuit opens after repeated failures, every request runs under an
overall deadline, and garbage answers become clear errors — while the
store keeps the last good data and the cursor never moves on a failure.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.errors import RateLimited, TransientError
from connectors.records import Priority, TicketStatus
from paneglass.collect import OPEN_AFTER, Circuit, Collector, VendorGate
from paneglass.store import Store, TicketQuery


def _ticket(n: int) -> WorldTicket:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC) - timedelta(hours=1)
    return WorldTicket(f"t{n}", f"ticket {n}", TicketStatus.OPEN, Priority.P3, now, now)


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    emulator = ZendeskEmulator()
    emulator.start()
    for n in range(5):
        emulator.put_ticket(_ticket(n))
    vendor = VendorConfig(
        name="desk",
        kind="zendesk",
        base_url=emulator.base_url,
        poll_interval=1.0,
        settings=emulator.vendor_settings(),
    )
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    collector = Collector(store, [vendor])
    yield emulator, store, collector
    emulator.stop()
    store.close()


async def test_retry_after_sends_nothing_inside_the_window(setup) -> None:  # type: ignore[no-untyped-def]
    emulator, store, collector = setup
    assert (await collector.poll_once("desk")).ok
    cursor = store.load_cursor("desk")
    emulator.inject(Reply(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "2"}))
    failed = await collector.poll_once("desk")
    assert not failed.ok and "429" in (failed.error or "")
    sent = len(emulator.requests)
    for _ in range(5):
        held = await collector.poll_once("desk")
        assert held.skipped and not held.ok
    assert len(emulator.requests) == sent, "a request went out inside the Retry-After window"
    assert store.load_cursor("desk") == cursor, "a failure moved the cursor"
    await asyncio.sleep(2.1)
    assert (await collector.poll_once("desk")).ok
    await collector.aclose()


async def test_circuit_opens_after_repeated_failures_and_data_stays(setup) -> None:  # type: ignore[no-untyped-def]
    emulator, store, collector = setup
    assert (await collector.poll_once("desk")).ok
    before = store.ticket_count(TicketQuery())
    gate = collector.gates["desk"]
    for _ in range(OPEN_AFTER):
        emulator.inject(Reply(503, {"error": "Service Unavailable"}))
        gate.not_before = 0.0  # skip the backoff wait; the failure count is what matters here
        assert not (await collector.poll_once("desk")).ok
    assert gate.circuit(time.monotonic()) is Circuit.OPEN
    sent = len(emulator.requests)
    assert (await collector.poll_once("desk")).skipped
    assert len(emulator.requests) == sent
    assert store.ticket_count(TicketQuery()) == before, "last-known-good data must stay"
    health = store.vendor_health()[0]
    assert health.last_ok is False and health.consecutive_failures == OPEN_AFTER
    gate.not_before = 0.0  # the open period has passed: half-open, one trial poll
    assert gate.circuit(time.monotonic()) is Circuit.HALF_OPEN
    assert (await collector.poll_once("desk")).ok
    assert gate.circuit(time.monotonic()) is Circuit.CLOSED
    await collector.aclose()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Reply(200, raw=b'{"tickets": [ {"id": 1,'), "not JSON"),
        (Reply(200, {"tickets": []}, truncate_at=5), "RemoteProtocolError"),
        (Reply(500, {"error": "boom"}), "HTTP 500"),
        (Reply(401, {"error": "Couldn't authenticate you"}), "401"),
        (Reply(200, raw=b"<html>maintenance</html>"), "not JSON"),
    ],
)
async def test_bad_answers_become_clear_errors(setup, fault: Reply, expected: str) -> None:  # type: ignore[no-untyped-def]
    emulator, store, collector = setup
    emulator.inject(fault)
    outcome = await collector.poll_once("desk")
    assert not outcome.ok and expected in (outcome.error or "")
    health = store.vendor_health()[0]
    assert health.last_ok is False and expected in (health.last_error_message or "")
    await collector.aclose()


async def test_a_hanging_or_dripping_vendor_hits_the_overall_deadline() -> None:
    import httpx2

    from connectors.http import send

    with ZendeskEmulator() as emulator:
        async with httpx2.AsyncClient(base_url=emulator.base_url) as client:
            for fault in (Reply(200, {"x": 1}, hang=True), Reply(200, {"x": "y" * 50}, drip=0.2)):
                emulator.inject(fault)
                started = time.monotonic()
                with pytest.raises(TransientError, match="no complete answer"):
                    await send(client, "GET", "/api/v2/users/me.json", deadline=1.0)
                assert time.monotonic() - started < 3.0


def test_backoff_has_full_jitter_and_respects_the_interval() -> None:
    rng = random.Random(4)
    delays = []
    for _ in range(200):
        gate = VendorGate(interval=1.0)
        for _ in range(4):
            delay = gate.failed(TransientError("x"), 0.0, rng)
        delays.append(delay)
    assert min(delays) >= 1.0 and max(delays) <= 16.0
    assert len({round(d, 3) for d in delays}) > 100, "no jitter"
    gate = VendorGate(interval=1.0)
    assert gate.failed(RateLimited("x", retry_after=42.0), 0.0, rng) == 42.0

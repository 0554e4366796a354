"""The Autotask path at a customer's size: what a backfill costs in requests, time and CPU.

Run as a bench (and profile) with::

    .venv/bin/python -m tests.connectors.test_autotask_scale 10000 --latency 0.05 --notes 2
    .venv/bin/python -m tests.connectors.test_autotask_scale 10000 --profile

The test below runs a small tenant and checks the request budget per 1,000
tickets, so a change that turns a bulk read into per-ticket reads fails here.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.autotask import AutotaskConnector
from connectors.base import VendorConfig
from connectors.emulators.autotask import AutotaskEmulator
from connectors.emulators.base import WorldAttachment, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus


def tenant(size: int, notes: int, *, latency: float = 0.0) -> AutotaskEmulator:
    """An emulator holding ``size`` open tickets with ``notes`` notes each (not started)."""
    now = datetime.now(UTC)
    emu = AutotaskEmulator(request_threshold=10**9, latency=latency)
    emu.put_tickets(
        WorldTicket(
            ref=f"t{i}",
            title=f"Printer {i} offline",
            status=TicketStatus.OPEN if i % 3 else TicketStatus.PENDING,
            priority=Priority.P3,
            created_at=now - timedelta(days=400, minutes=i),
            updated_at=now - timedelta(days=200, minutes=i),
            assignee=f"Agent {i % 40}",
            requester=f"Person {i % 900}",
            group=f"Queue {i % 6}",
            description="The printer shows 49.4C02.\nPower cycled twice.",
        )
        for i in range(size)
    )
    for i in range(size):
        for n in range(notes):
            emu.put_entry(
                f"t{i}",
                WorldEntry(
                    ref=f"n{n}",
                    author=f"Agent {(i + n) % 40}",
                    text=f"Update {n}: checked the fuser.\nWaiting for parts.",
                    at=now - timedelta(days=199, hours=n),
                    visibility="public" if n % 2 else "internal",
                    attachments=(WorldAttachment("photo.jpg", 52_000, "image/jpeg"),)
                    if n == 0 and i % 10 == 0
                    else (),
                ),
            )
    return emu


async def backfill(emu: AutotaskEmulator, **settings: Any) -> dict[str, Any]:
    """One poll from an empty cursor to the end, page by page, with its costs."""
    values = emu.vendor_settings()
    kind = values.pop("kind")
    config = VendorConfig("psa", kind, emu.base_url, settings={**values, **settings})
    async with AutotaskConnector.make_client(config) as client:
        at = AutotaskConnector(config, client)
        wall, cpu = time.perf_counter(), time.thread_time()
        tickets = entries = requests = pages = 0
        async for page in at.pages(None):
            tickets += len(page.tickets)
            entries += len(page.entries)
            requests += page.requests
            pages += 1
        return {
            "tickets": tickets,
            "entries": entries,
            "requests": requests,
            "pages": pages,
            "seconds": round(time.perf_counter() - wall, 2),
            "connector_cpu_seconds": round(time.thread_time() - cpu, 2),
            "peak_in_flight": at.limiter.peak,
        }


async def test_a_backfill_costs_about_ten_requests_per_thousand_tickets() -> None:
    with tenant(2_000, 2) as emu:
        costs = await backfill(emu)
    assert costs["tickets"] == 2_000
    assert costs["entries"] == 2_000 * 2 + 200  # two notes each, every tenth a photo
    # Per 500 tickets: 1 ticket page, 2 note and 2 attachment queries (250 ids each);
    # plus zone, threshold, two picklists, one count, the first names and one
    # incremental page. Per-ticket reads would be thousands.
    assert costs["requests"] <= 4 * 5 + 12
    assert costs["peak_in_flight"] <= 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--notes", type=int, default=2)
    parser.add_argument("--no-conversations", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    loaded = time.perf_counter()
    emu = tenant(args.size, args.notes, latency=args.latency)
    print(f"tenant of {args.size:,} tickets loaded in {time.perf_counter() - loaded:.1f} s")
    settings: dict[str, Any] = {}
    if args.no_conversations:
        settings = {"conversations": False, "attachments": False}
    profile = cProfile.Profile() if args.profile else None
    with emu:
        if profile is not None:
            profile.enable()
        costs = asyncio.run(backfill(emu, **settings))
        if profile is not None:
            profile.disable()
    print(costs)
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()

"""Benchmark: the large-tenant emulators, loaded and paged at 1,000 and 100,000 tickets.

The tests check the *work* a page costs (``examined`` counters: a page is cut
from an index, never a scan); this prints the *time*, which is what a
benchmark on a loaded machine may show and a test must not assert. For each
of the PagerDuty, Opsgenie, ConnectWise, Freshservice and Zendesk emulators:
the time to load N tickets, and the best of five in-process answers (no HTTP)
to a deep page of the list the connector walks, with the rows it examined.

Prints figures; asserts nothing. ``python bench/emulators.py [--count N]``.
"""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.emulators.base import Request, TicketEmulator, WorldTicket
from connectors.emulators.connectwise import ConnectWiseEmulator
from connectors.emulators.freshservice import TICKETS_PATH as FS_TICKETS
from connectors.emulators.freshservice import FreshserviceEmulator
from connectors.emulators.opsgenie import ALERTS_PATH, OpsgenieEmulator
from connectors.emulators.pagerduty import PagerDutyEmulator
from connectors.emulators.zendesk import SEARCH_EXPORT_PATH, ZendeskEmulator
from connectors.records import Priority, TicketStatus

NOW = datetime.now(UTC).replace(microsecond=0)
STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED)


MADE = NOW - timedelta(days=20)
"""Ticket ``n`` is created ``n`` seconds after this: a deep page starts half-way."""


def _world(count: int) -> Iterator[WorldTicket]:
    made = MADE
    for n in range(count):
        yield WorldTicket(
            f"t{n}",
            f"Ticket {n}",
            STATUSES[n % 4],
            Priority.P3,
            made + timedelta(seconds=n),
            made + timedelta(seconds=n, minutes=5),
            requester=f"Requester {n % 300}",
            assignee=f"Agent {n % 20}",
            group=f"Group {n % 5}",
        )


def _request(path: str, params: dict[str, Any], headers: dict[str, str]) -> Request:
    return Request("GET", path, {k: [str(v)] for k, v in params.items()}, headers)


def _basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _pagerduty(count: int) -> tuple[TicketEmulator, Request]:
    emu = PagerDutyEmulator()
    return emu, _request(
        "/incidents",
        {
            "sort_by": "created_at:asc,incident_number:asc",
            "limit": 100,
            "since": (MADE + timedelta(seconds=count // 2)).isoformat(),
            "until": NOW.isoformat(),
        },
        {"authorization": f"Token token={emu.api_token}"},
    )


def _opsgenie(count: int) -> tuple[TicketEmulator, Request]:
    emu = OpsgenieEmulator()
    bound = int((MADE + timedelta(seconds=count // 2)).timestamp() * 1000)
    return emu, _request(
        ALERTS_PATH,
        {
            "query": f"status: open AND createdAt >= {bound}",
            "sort": "createdAt",
            "order": "asc",
            "limit": 100,
        },
        {"authorization": f"GenieKey {emu.api_key}"},
    )


def _connectwise(count: int) -> tuple[TicketEmulator, Request]:
    emu = ConnectWiseEmulator()
    cutoff = f"{NOW - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ}"
    conditions = f"(closedFlag = false or lastUpdated >= [{cutoff}]) and id > {count // 2}"
    headers = _basic(f"{emu.company_id}+{emu.public_key}", emu.private_key)
    headers["clientid"] = emu.client_id
    return emu, _request(
        "/v4_6_release/apis/3.0/service/tickets",
        {"conditions": conditions, "orderBy": "id asc", "pageSize": 100, "page": 1},
        headers,
    )


def _freshservice(count: int) -> tuple[TicketEmulator, Request]:
    emu = FreshserviceEmulator(rate_limit_per_minute=10**9)
    since = (NOW - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = max(count // 200, 1)
    return emu, _request(
        FS_TICKETS,
        {"updated_since": since, "per_page": 100, "order_type": "asc", "page": page},
        _basic(emu.api_key, "X"),
    )


def _zendesk(count: int) -> tuple[TicketEmulator, Request]:
    emu = ZendeskEmulator()
    return emu, _request(
        SEARCH_EXPORT_PATH,
        {"query": "status<solved", "filter[type]": "ticket", "page[size]": 100},
        _basic(f"{emu.email}/token", emu.api_token),
    )


VENDORS: dict[str, Callable[[int], tuple[TicketEmulator, Request]]] = {
    "pagerduty": _pagerduty,
    "opsgenie": _opsgenie,
    "connectwise": _connectwise,
    "freshservice": _freshservice,
    "zendesk": _zendesk,
}


def measure(name: str, count: int) -> tuple[float, float, int, int]:
    """(load seconds, best page milliseconds, HTTP status, rows examined by that page)."""
    emu, request = VENDORS[name](count)
    started = time.perf_counter()
    emu.put_tickets(_world(count))
    loaded = time.perf_counter() - started
    emu.route(request)  # a first page may build and cache its query once
    best = float("inf")
    status = 0
    examined = 0
    for _ in range(5):
        before = getattr(emu, "examined", 0)
        started = time.perf_counter()
        reply = emu.route(request)
        best = min(best, time.perf_counter() - started)
        status = reply.status
        examined = getattr(emu, "examined", 0) - before
    return loaded, best * 1000, status, examined


def main() -> None:
    """Print load time and page time per emulator at 1,000 and ``--count`` tickets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{'emulator':<14} {'tickets':>8} {'load s':>8} {'page ms':>8} {'examined':>9}  status")
    for name in VENDORS:
        for count in (1_000, args.count):
            loaded, page_ms, status, examined = measure(name, count)
            print(f"{name:<14} {count:>8,} {loaded:>8.2f} {page_ms:>8.2f} {examined:>9,}  {status}")


if __name__ == "__main__":
    main()

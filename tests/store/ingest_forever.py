"""Write poll batches into a store forever, printing each committed batch number.

The crash-safety test runs this as a child process and kills it with
SIGKILL at random moments. Batch ``k`` adds 300 new tickets and updates the
300 of batch ``k-1``; its cursor is ``{"batch": k}``, saved in the same
transaction as the data it covers.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.store import PollRunInfo, Store

PER_BATCH = 300
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def record(batch: int, n: int, touched: int) -> TicketRecord:
    return TicketRecord(
        external_id=f"{batch}-{n}",
        key=f"K{batch}-{n}",
        title=f"ticket {batch}-{n} v{touched}",
        status=TicketStatus.OPEN if touched == batch else TicketStatus.PENDING,
        raw_status="x",
        priority=Priority.P3,
        raw_priority="3",
        created_at=T0 + timedelta(minutes=batch),
        updated_at=T0 + timedelta(minutes=touched),
    )


def main(url: str) -> None:
    store = Store(url)
    store.sync_vendors([VendorConfig(name="v", kind="servicenow", base_url="http://127.0.0.1:9")])
    cursor = store.load_cursor("v")
    batch = (cursor or {}).get("batch", 0) + 1
    while True:
        tickets = [record(batch, n, batch) for n in range(PER_BATCH)]
        tickets += [record(batch - 1, n, batch) for n in range(PER_BATCH)] if batch > 1 else []
        now = T0 + timedelta(minutes=batch)
        run = PollRunInfo(now, now, True, requests=1)
        store.apply("v", PollResult(tickets=tuple(tickets), cursor={"batch": batch}), run, now)
        print(batch, flush=True)
        batch += 1


if __name__ == "__main__":
    main(sys.argv[1])

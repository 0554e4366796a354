"""A batch's sub-queries (milestones, comments, e-mails) never wait on the slots they hold.

Each request of the connector takes a slot of its limiter (``concurrency``). The
sub-queries of a batch of cases (three per 200 Ids) once ran under the same
limiter, each holding a slot while its own request waited for another: as soon
as a batch had as many sub-queries as there are slots (a batch of more than 200
cases at the default 4; any batch at ``concurrency = 1``), no request was sent
again and the poll hung until the collector's stall rule cancelled it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.salesforce import SalesforceEmulator
from connectors.records import TicketStatus
from tests.connectors.test_salesforce import connector_for, queries, world

NOW = datetime.now(UTC).replace(microsecond=0)
WITHIN = 10.0
"""Seconds a poll of a few hundred cases may take here (it takes well under one)."""


def _fill(emu: SalesforceEmulator, count: int) -> None:
    emu.put_tickets(
        world(
            f"t{i}",
            status=TicketStatus.CLOSED if i % 5 == 0 else TicketStatus.OPEN,
            updated_at=NOW - timedelta(hours=1, seconds=i),
        )
        for i in range(count)
    )


@pytest.mark.parametrize(("cases", "concurrency"), [(1_000, 4), (3, 1)])
async def test_a_batch_with_more_sub_queries_than_slots_is_read_whole(
    cases: int, concurrency: int
) -> None:
    with SalesforceEmulator() as emu:  # batches of 2,000, as Salesforce's default
        _fill(emu, cases)
        async with connector_for(emu, concurrency=concurrency) as sf:
            try:
                async with asyncio.timeout(WITHIN):
                    result = await sf.poll(None)
            except TimeoutError:
                sent = [q.split(" WHERE ")[0][-30:] for q in queries(emu)]
                pytest.fail(f"the poll hung after {len(sent)} queries: {sent}")
            assert sf.limiter.peak <= concurrency
        assert len(result.tickets) == cases
        soql = queries(emu)
        chunks = -(-cases * 4 // 5 // 200)  # the open walk's batch, 200 Ids an IN list
        for sobject in ("CaseMilestone", "CaseComment", "EmailMessage"):
            assert sum(f"FROM {sobject} WHERE" in q for q in soql) >= chunks

"""Per-ticket sub-requests run concurrently, bounded per vendor, honouring Retry-After.

Where a vendor has no bulk path (one SLA or comments request per ticket), the
requests of a page run side by side instead of one after another: at 50 ms a
round trip, 10,000 sequential requests are over eight minutes, and eight at a
time are one. Every connector owns one :class:`Limiter` sized by its
``concurrency`` setting, so two fan-outs of the same vendor share the bound.
The vendor's :class:`~connectors.http.RateBudget` still paces each request,
and a 429 waits the vendor's Retry-After (when short) and tries again rather
than failing the page.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from connectors.errors import RateLimited

__all__ = ["Limiter", "fan_out"]

T = TypeVar("T")
R = TypeVar("R")

MAX_RETRY_WAIT = 30.0
"""A 429 asking for longer than this fails the page (the scheduler backs the vendor off)."""
RETRIES = 4


class Limiter:
    """At most ``limit`` requests in flight to one vendor."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a limiter needs a limit of at least 1")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)
        self.peak = 0
        """Most requests seen in flight at once (benchmarks and tests read it)."""
        self._in_flight = 0

    async def run(self, call: Callable[[], Awaitable[R]]) -> R:
        """Run ``call`` once a slot is free."""
        async with self._semaphore:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            try:
                return await call()
            finally:
                self._in_flight -= 1


async def fan_out(
    items: Iterable[T],
    fetch: Callable[[T], Awaitable[R]],
    limiter: Limiter,
    *,
    max_retry_wait: float = MAX_RETRY_WAIT,
    retries: int = RETRIES,
) -> list[R]:
    """``fetch(item)`` for every item, ``limiter.limit`` at a time; results in item order.

    The first error that is not a short 429 cancels the rest and is raised.
    """
    work: Sequence[T] = list(items)
    results: list[R | None] = [None] * len(work)

    async def one(index: int, item: T) -> None:
        for attempt in range(retries + 1):
            try:
                results[index] = await limiter.run(lambda: fetch(item))
                return
            except RateLimited as limited:
                wait = limited.retry_after
                if wait is None:
                    wait = random.uniform(0, min(max_retry_wait, 2.0**attempt))
                if attempt == retries or wait > max_retry_wait:
                    raise
            await asyncio.sleep(wait)

    try:
        async with asyncio.TaskGroup() as group:
            for index, item in enumerate(work):
                group.create_task(one(index, item))
    except ExceptionGroup as failed:  # callers handle one ConnectorError, as for one request
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return results  # type: ignore[return-value]

"""Pacing to Freshservice's per-minute credit budget, shared by requests in flight.

Freshservice reports ``X-RateLimit-Total`` and ``X-RateLimit-Remaining`` for
the current minute but no reset time (vendor-apis.md §6.5). The shared
:class:`~connectors.http.RateBudget` then waits a flat second before every
request once the remaining credits fall to a tenth: about one request a second
where a Pro plan allows close to seven, so a 10,000-ticket backfill (one
conversations request per ticket) would take close to three hours instead of
about 25 minutes.

:class:`MinuteBudget` keeps the same reading of the headers and, once credits
run low, lets requests *start* no faster than the plan's own rate
(``total / 60`` a second), one slot after another, whichever of the
concurrent requests asks: the minute refills about as fast as it is spent,
and no burst of fan-out requests reaches the 429. An exhausted minute still
waits as the shared budget does; a 429 still carries ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from connectors.http import RateBudget

__all__ = ["MinuteBudget"]


@dataclass
class MinuteBudget(RateBudget):
    """A :class:`RateBudget` that spaces request starts at the plan's rate when credits run low."""

    next_start: float = 0.0
    """Monotonic time of the next free slot while the minute runs low."""

    async def wait(self) -> None:
        """Take the next slot (low on credits), or wait as the shared budget does (none left)."""
        pause = self.delay()
        if pause <= 0:
            return
        if not self.remaining or not self.limit:
            self.waited += pause
            await asyncio.sleep(pause)
            return
        now = time.monotonic()
        start = max(now, self.next_start)
        self.next_start = start + 60.0 / self.limit
        if start > now:
            self.waited += start - now
            await asyncio.sleep(start - now)

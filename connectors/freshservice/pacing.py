"""Pacing to Freshservice's per-minute credit budget, shared by requests in flight.

Freshservice reports ``X-RateLimit-Total``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Used-CurrentRequest`` for the current minute, but no reset time
(vendor-apis.md §6.5). The shared :class:`~connectors.http.RateBudget` then
waits a flat second before every request once the remaining credits fall to a
tenth, and a burst of concurrent requests can still empty the minute: the 429
that follows asks for up to a minute, longer than a fan-out waits, and fails
the page.

:class:`MinuteBudget` reads the same headers and also remembers what *this*
connector spent in the last minute. Once credits run low, each request starts
only when one of our own spends has left the minute (so the credits it used are
back) and no sooner than the plan's rate (``total / 60`` a second) after the
previous start, whichever of the concurrent requests asks. A 10,000-ticket
backfill then runs at the plan's rate (about 25 minutes on Pro) without a 429,
where a flat second a request would take close to three hours. Credits spent by
the customer's other integrations are not ours to see: an exhausted minute
still waits as the shared budget does, and a 429 still carries ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.http import RateBudget

__all__ = ["MinuteBudget"]

WINDOW = 60.0
"""Seconds in Freshservice's rate-limit window."""
USED_HEADER = "x-ratelimit-used-currentrequest"


@dataclass
class MinuteBudget(RateBudget):
    """A :class:`RateBudget` that, low on credits, starts requests as our own credits return."""

    next_start: float = 0.0
    """Monotonic time of the next free slot while the minute runs low."""
    spent: deque[tuple[float, int]] = field(default_factory=deque)
    """(monotonic time, credits) of our answers in the last minute, oldest first."""

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Read the budget, and remember the credits this answer cost us."""
        super().observe(response_headers)
        used = response_headers.get(USED_HEADER)
        try:
            cost = int(used) if used is not None else 1
        except ValueError:
            cost = 1
        now = time.monotonic()
        self.spent.append((now, max(cost, 0)))
        while self.spent and self.spent[0][0] <= now - WINDOW:
            self.spent.popleft()

    async def wait(self) -> None:
        """Start when credits are back (low on credits), else go at once."""
        pause = self.delay()
        if pause <= 0:
            return
        if not self.remaining or not self.limit:
            self.waited += pause  # none left: as the shared budget does
            await asyncio.sleep(pause)
            return
        now = time.monotonic()
        start = max(now, self.next_start)
        if self.spent:  # the credits of our oldest spend come back a minute after it
            returned, _cost = self.spent.popleft()
            start = max(start, returned + WINDOW)
        self.next_start = start + WINDOW / self.limit
        if start > now:
            self.waited += start - now
            await asyncio.sleep(start - now)

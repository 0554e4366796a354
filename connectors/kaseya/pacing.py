"""Pacing by our own count of requests in a sliding window.

Neither Kaseya API says in its answers how much of its budget is left (no
``X-RateLimit-*`` headers: Datto RMM documents a request count per rolling 60
seconds, BMS a count per hour per endpoint). So the connector counts what it
sent itself: :class:`WindowBudget` keeps the send times of the last window and
makes the next request wait until it fits under the allowance. A wait longer
than ``max_wait`` is not slept through: it raises :class:`RateLimited` with
the time until a slot frees, so the scheduler backs the vendor off and the
next poll resumes from the last committed page.

Other integrations share the account's budget; :meth:`WindowBudget.calibrate`
takes what the vendor reports as used (Datto RMM's ``/v2/system/request_rate``)
and counts the part that is not ours as ``external`` until the window has
passed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connectors.errors import RateLimited
from connectors.http import RateBudget, RateHeaders

__all__ = ["WindowBudget"]

NO_HEADERS = RateHeaders(remaining="X-Paneglass-No-Rate-Headers")
"""Neither vendor sends a remaining count; the shared budget reads nothing from answers."""


@dataclass
class WindowBudget(RateBudget):
    """At most ``allowance`` requests in any ``window`` seconds, counted by us."""

    headers: RateHeaders = NO_HEADERS
    window: float = 60.0
    allowance: int = 540
    max_wait: float = 60.0
    """Longest pause taken in place; a longer one raises :class:`RateLimited`."""
    what: str = "requests"
    """Named in the error when the budget is spent (``Datto RMM reads``)."""
    clock: Callable[[], float] = time.monotonic
    external: int = 0
    """Requests others made in the window, as last calibrated (they age out with it)."""
    external_until: float = 0.0
    _sent: deque[float] = field(default_factory=deque)

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Nothing to read: the vendors send no budget headers."""

    def used(self) -> int:
        """Requests counted in the current window (ours plus the calibrated others')."""
        now = self.clock()
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        if self.external and now >= self.external_until:
            self.external = 0
        return len(self._sent) + self.external

    def ours(self) -> int:
        """Our own requests in the current window."""
        self.used()
        return len(self._sent)

    def delay(self) -> float:
        """Seconds until one more request fits in the window (0: now)."""
        used = self.used()
        if used < self.allowance:
            return 0.0
        now = self.clock()
        mine = len(self._sent)
        options: list[float] = []
        excess = used - self.allowance  # this many more must leave the window
        if mine > excess:  # enough of ours age out while the others' still count
            options.append(self._sent[excess] + self.window)
        if self.external:  # or the others' count lapses (and as many of ours as needed)
            after = self.external_until
            if mine >= self.allowance:
                after = max(after, self._sent[mine - self.allowance] + self.window)
            options.append(after)
        return max(min(options, default=now + self.window) - now, 0.0)

    async def wait(self) -> None:
        """Sleep until the next request fits, then count it; raise if that is too long."""
        while True:
            pause = self.delay()
            if pause <= 0:
                break
            if pause > self.max_wait:
                raise RateLimited(
                    f"{self.what}: {self.allowance} per {self.window:g} s spent; "
                    f"room again in {pause:.0f} s",
                    retry_after=pause,
                    http_status=None,
                )
            self.waited += pause
            await asyncio.sleep(pause)
        self._sent.append(self.clock())

    def calibrate(self, account_count: int, allowance: int | None = None) -> None:
        """Take the vendor's count of the window's requests (all integrations together).

        Whatever is beyond our own count was spent by others; it is counted
        until one window from now (the vendor's window slides, ours cannot see
        when their requests age out, so this errs on the side of waiting).
        """
        if allowance is not None and allowance > 0:
            self.allowance = allowance
        others = max(account_count - self.ours(), 0)
        self.external = others
        self.external_until = self.clock() + self.window if others else 0.0

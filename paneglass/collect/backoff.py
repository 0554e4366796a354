"""When a vendor may be asked again: Retry-After, backoff with jitter, a circuit breaker.

Pure timing logic on a monotonic clock, one gate per vendor, so the rules can
be tested without waiting:

* after a failure the next poll waits ``U(0, min(cap, base * 2^(n-1)))`` but
  never less than the vendor's poll interval (full jitter);
* a Retry-After (or the vendor's reset time) wins, and inside that window no
  request is sent at all;
* after ``OPEN_AFTER`` consecutive failures the circuit opens: no request for
  ``OPEN_SECONDS`` (doubling while it keeps failing, capped); then one trial
  poll (half-open) decides whether it closes again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from connectors.errors import AuthError, ConnectorError, RateLimited

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "OPEN_AFTER", "OPEN_SECONDS", "Circuit", "VendorGate"]

BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
OPEN_AFTER = 5
OPEN_SECONDS = 60.0
OPEN_CAP = 900.0
_JITTER = random.SystemRandom()


class Circuit(StrEnum):
    """The breaker's state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class VendorGate:
    """One vendor's permission to be polled, on a monotonic clock (seconds)."""

    interval: float
    failures: int = 0
    not_before: float = 0.0
    """No request before this instant (Retry-After, backoff or open circuit)."""
    opened: int = 0
    """How many times in a row the circuit has opened (for the doubling)."""

    def circuit(self, now: float) -> Circuit:
        """Closed, open (no requests) or half-open (the next poll is the trial)."""
        if self.failures < OPEN_AFTER:
            return Circuit.CLOSED
        return Circuit.OPEN if now < self.not_before else Circuit.HALF_OPEN

    def allows(self, now: float) -> bool:
        """May a request be sent now?"""
        return now >= self.not_before

    def succeeded(self) -> None:
        """A good poll closes the circuit and clears the backoff."""
        self.failures = 0
        self.opened = 0
        self.not_before = 0.0

    def failed(self, error: ConnectorError, now: float, rng: random.Random | None = None) -> float:
        """Record a failed poll; return how many seconds until the next attempt."""
        self.failures += 1
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1))
        delay = max(self.interval, (rng or _JITTER).uniform(0, ceiling))
        if isinstance(error, AuthError):
            delay = max(delay, min(BACKOFF_CAP, self.interval * 5))  # a human must fix it
        if self.failures >= OPEN_AFTER:
            self.opened += 1
            delay = max(delay, min(OPEN_CAP, OPEN_SECONDS * 2 ** (self.opened - 1)))
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay if self.failures >= OPEN_AFTER else 0.0, error.retry_after, 1.0)
        self.not_before = now + delay
        return delay

"""Freshness of each vendor's data, derived from its poll history.

A vendor is *fresh* when its last good poll is recent, *stale* when no good
poll landed for ``stale_after`` poll intervals, and *failing* when its latest
poll failed. A stale or failing vendor is never shown as healthy anywhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from paneglass.store import VendorHealth

__all__ = ["Freshness", "freshness"]


class Freshness(StrEnum):
    """How much to trust a vendor's data right now."""

    FRESH = "fresh"
    STALE = "stale"
    FAILING = "failing"
    WAITING = "waiting"
    """Configured, not polled yet."""


def freshness(vendor: VendorHealth, now: datetime) -> Freshness:
    """The vendor's freshness at ``now`` (stale after its configured number of intervals)."""
    if vendor.last_run_at is None:
        return Freshness.WAITING
    if vendor.last_ok is False:
        return Freshness.FAILING
    if vendor.last_ok_at is None:
        return Freshness.FAILING
    limit = vendor.poll_interval * vendor.stale_after
    if (now - vendor.last_ok_at).total_seconds() > limit:
        return Freshness.STALE
    return Freshness.FRESH

"""Freshness of each vendor's data, derived from its poll history.

A vendor is *fresh* when its last good poll is recent, *stale* when no good
poll landed for ``stale_after`` poll intervals, and *failing* when its latest
poll failed. A stale or failing vendor is never shown as healthy anywhere.
Pages commit while a poll runs, so a long backfill whose pages keep landing
is fresh although its first poll has not finished yet.
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
    page = vendor.last_page_at
    if vendor.last_run_at is None and page is None:
        return Freshness.WAITING
    if vendor.last_ok is False and (
        page is None or (vendor.last_run_at is not None and page <= vendor.last_run_at)
    ):
        return Freshness.FAILING
    good = max((t for t in (vendor.last_ok_at, page) if t is not None), default=None)
    if good is None:
        return Freshness.FAILING
    limit = vendor.poll_interval * vendor.stale_after
    if (now - good).total_seconds() > limit:
        return Freshness.STALE
    return Freshness.FRESH

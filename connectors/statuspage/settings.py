"""Every setting the Statuspage connector reads: none of its own.

::

    [vendors.hosting-status]
    kind = "statuspage"
    base_url = "https://status.acme-hosting.example"   # the page's own address
    poll_interval = 60

A public page needs no credential. ``page_url`` (shared by every feed) is
only needed when the page's JSON is served from another host than its
people-facing pages.
"""

from __future__ import annotations

from connectors.feeds.settings import StatusFeedSettings

__all__ = ["StatuspageSettings"]


class StatuspageSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``statuspage``."""

"""Every setting the Instatus connector reads: none of its own.

::

    [vendors.perplexity-status]
    kind = "instatus"
    base_url = "https://status.perplexity.com"

Each poll reads ``/summary.json`` (page status, active incidents and
maintenances) and ``/api/v2/components.json`` (the components, which the
summary does not carry).
"""

from __future__ import annotations

from connectors.feeds.settings import StatusFeedSettings

__all__ = ["InstatusSettings"]


class InstatusSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``instatus``."""

"""Every setting the Status.io connector reads, typed and checked once at config load.

::

    [vendors.gitlab-status]
    kind = "statusio"
    base_url = "https://api.status.io"           # or https://status-api.hostedstatus.com
    page_id = "5b36dc6502d06804c08349f7"          # the 24-hex id in the page's API link
    page_url = "https://status.gitlab.com"        # where links point (recommended)

Without ``page_url`` links point to ``https://status.io/pages/{page_id}``
(a guess at Status.io's hosted address, not confirmed).
"""

from __future__ import annotations

from pydantic import Field

from connectors.feeds.settings import StatusFeedSettings

__all__ = ["StatusioSettings"]


class StatusioSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``statusio``."""

    page_id: str = Field(pattern=r"^[0-9a-fA-F]{24}$")
    """The status page's id: 24 hexadecimal digits."""

"""Every setting the Azure status connector reads, typed and checked once at config load.

::

    [vendors.azure-status]
    kind = "azure_status"
    base_url = "https://azure.status.microsoft"
    max_feed_age_seconds = 1800     # older lastBuildDate: the feed is not trusted

``feed_path`` picks the locale or a mirror's path
(``/en-us/status/feed/`` by default). Links point to
``{base_url}/en-us/status/`` unless ``page_url`` says otherwise.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from connectors.feeds.settings import StatusFeedSettings

__all__ = ["AzureStatusSettings"]


class AzureStatusSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``azure_status``."""

    max_feed_age_seconds: float = Field(1800.0, ge=60, le=86_400)
    """A feed whose ``lastBuildDate`` is older is refused: it rebuilds about every minute,
    and an abandoned feed is empty too, so only a fresh empty feed means healthy."""
    feed_path: str = "/en-us/status/feed/"
    """The RSS document under ``base_url``."""

    @field_validator("feed_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError("must be a path starting with /")
        return value

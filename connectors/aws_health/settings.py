"""Every setting the AWS Health connector reads, typed and checked once at config load.

::

    [vendors.aws-status]
    kind = "aws_health"
    base_url = "https://health.aws.amazon.com"
    regions = ["eu-west-1", "eu-central-1"]     # optional: only events in these regions
    services = ["ec2", "Amazon Simple Storage Service"]   # optional: only these services

``regions`` match a region code (``eu-west-1``) or the feed's region name
(``Ireland``); an event of a global service (no region in its ARN) is always
kept. ``services`` match a service key (``ec2``, ``s3``; the feed's
``ec2-eu-west-1`` without its region) or a service name, case-insensitively,
against the event's own service and every service it lists as impacted.
Links point to ``{base_url}/health/status`` unless ``page_url`` says otherwise.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from connectors.feeds.settings import StatusFeedSettings, name_list

__all__ = ["AwsHealthSettings"]


class AwsHealthSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``aws_health``."""

    regions: tuple[str, ...] = ()
    """Only events in these regions (code or name); empty: every region."""
    services: tuple[str, ...] = ()
    """Only events touching these services (key or name); empty: every service."""
    events_path: str = "/public/currentevents"
    """The current-events document under ``base_url``."""

    @field_validator("regions", "services", mode="before")
    @classmethod
    def _names(cls, value: Any) -> tuple[str, ...]:
        return name_list(value)

    @field_validator("events_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError("must be a path starting with /")
        return value

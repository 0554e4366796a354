"""Every setting the PagerDuty connector reads, typed and checked once at config load.

::

    [vendors.on-call]
    kind = "pagerduty"
    base_url = "https://api.pagerduty.com"      # EU: https://api.eu.pagerduty.com
    api_token = "${PD_TOKEN}"                   # a REST API key (read-only is enough to poll)
    from_email = "paneglass-bot@acme.example"   # writes are made as this PagerDuty user
    service_id = "PSV0001"                      # hand-offs open incidents on this service
    ui_url = "https://acme.pagerduty.com"       # links back to the web UI

``concurrency`` defaults to 4: PagerDuty allows 960 requests a minute per key
(16 a second, ``vendor-apis.md`` §5.6), and four requests in flight at a
100-200 ms round trip already ask for 20-40 a second, so more would only be
paced by the ``ratelimit-*`` headers or refused with 429.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["MAX_PAGE_SIZE", "PagerDutySettings"]

MAX_PAGE_SIZE = 100
"""PagerDuty's largest ``limit``."""


class PagerDutySettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section of kind ``pagerduty``."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_token",),)

    api_token: SecretStr | None = None
    """A REST API key, sent as ``Authorization: Token token=…``."""
    from_email: str | None = None
    """E-mail of the PagerDuty user writes are made as (the ``From`` header PagerDuty demands)."""
    service_id: str | None = None
    """The service a hand-off opens its incident on."""
    ui_url: str | None = None
    """The account's web UI (``https://acme.pagerduty.com``): ticket links are built from it."""
    conversations: bool = True
    """Read each incident's log entries and notes (one or two requests per incident)."""
    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(4, ge=1, le=64)

    @field_validator("ui_url")
    @classmethod
    def _http_url(cls, value: Any) -> Any:
        if value is not None and not str(value).startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return str(value).rstrip("/") if value is not None else None

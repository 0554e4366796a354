"""The ``[vendors.NAME]`` section of a ConnectWise PSA site, typed and parsed once.

Example::

    [vendors.app-partner]
    kind = "connectwise"
    base_url = "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
    company_id = "acmemsp"
    public_key = "${CW_PUBLIC_KEY}"
    private_key = "${CW_PRIVATE_KEY}"
    client_id = "${CW_CLIENT_ID}"
    ui_url = "https://na.myconnectwise.net"   # optional: deep links to tickets
    board = "Help Desk"                       # optional: only this board's tickets
    create_board_id = 1                       # hand-offs: where new tickets go
    create_company_id = 250

Every key the connector reads is declared here; an unknown key is refused with
its name, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MIN_INTERVAL",
    "MAX_PAGE_SIZE",
    "ConnectWiseSettings",
]

MAX_PAGE_SIZE = 1000
"""ConnectWise's hard maximum ``pageSize`` on every list endpoint."""
DEFAULT_PAGE_SIZE = 250
DEFAULT_API_VERSION = "2022.1"
"""The REST model version pinned in ``Accept`` so a server upgrade cannot reshape rows."""
DEFAULT_MIN_INTERVAL = 0.0
"""Off: the concurrency bound already caps the rate (3 in flight at 200 ms is 15 requests
a second); a site that wants a fixed ceiling sets ``min_request_interval``."""
MAX_MIN_INTERVAL = 10.0
DEFAULT_CONCURRENCY = 3
"""ConnectWise publishes no numeric rate or concurrency limit for cloud sites; it answers
429/503 when a site is overloaded. Three requests in flight (the figure Autotask, the
closest PSA, documents per integration and endpoint) keeps a notes fan-out well below
what one technician's browser session sends, while hiding most of a 50-200 ms round trip."""


class ConnectWiseSettings(ConnectorSettings):
    """Credentials, pacing and options of one ConnectWise PSA site."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("company_id", "public_key", "private_key", "client_id"),
    )

    company_id: str | None = None
    """The company id typed at the ConnectWise login (the ``acmemsp`` in ``acmemsp+key``)."""
    public_key: str | None = None
    """The API member's public key."""
    private_key: SecretStr | None = None
    """The API member's private key."""
    client_id: SecretStr | None = None
    """The integration's ``clientId`` from the ConnectWise developer portal (kept secret)."""
    page_size: int = page_size_field(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=16)
    min_request_interval: float = Field(DEFAULT_MIN_INTERVAL, ge=0, le=MAX_MIN_INTERVAL)
    """Seconds at least between the starts of two requests (ConnectWise sends no budget
    headers); 0 leaves the pace to ``concurrency`` and the site's own 429/Retry-After."""
    api_version: str = DEFAULT_API_VERSION
    """The model version pinned in ``Accept: application/vnd.connectwise.com+json; version=``."""
    board: str | None = None
    """Read only this board's tickets (``board/name = "…"``)."""
    ui_url: str | None = None
    """The site's web root (``https://na.myconnectwise.net``) for ticket deep links."""
    read_notes: bool = True
    """Read ticket notes (conversation entries and the description): one request per
    changed ticket. Off: tickets only, one request per page."""
    create_board_id: int | None = Field(None, ge=1)
    """Hand-offs: the board new tickets are created on."""
    create_company_id: int | None = Field(None, ge=1)
    """Hand-offs: the company new tickets are raised for."""

    @field_validator("ui_url")
    @classmethod
    def _site_root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or urlsplit(value).query:
            raise ValueError("must be the site's http(s) root, e.g. https://na.myconnectwise.net")
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not value or not all(ch.isdigit() or ch == "." for ch in value):
            raise ValueError("must look like 2022.1")
        return value

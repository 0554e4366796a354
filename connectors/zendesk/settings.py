"""The ``[vendors.NAME]`` keys a Zendesk Support section may hold, typed and checked once.

::

    [vendors.desktop]
    kind = "zendesk"
    base_url = "https://acme.zendesk.com"
    email = "desk@acme.example"
    api_token = "${ZENDESK_TOKEN}"
    # optional
    page_size = 1000                  # tickets per export/search page (Zendesk's maximum)
    backfill_days = 30                # closed/solved tickets this far back on the first sync
    overlap_seconds = 600             # search index lag covered when the backfill hands over
    concurrency = 4                   # per-ticket requests in flight (comments, show_many)
    conversations = "all"             # "all", "incremental" or "off"
    backfill_comments_per_poll = 200  # tickets whose earlier comments each poll reads
    export_requests_per_minute = 10   # 30 with the High Volume API add-on
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["RESERVED_KEYS", "ZendeskSettings"]

RESERVED_KEYS = frozenset({"kind", "base_url", "poll_interval", "enabled", "stale_after"})
"""Keys of a vendor section that :class:`~connectors.base.VendorConfig` carries itself."""


class ZendeskSettings(ConnectorSettings):
    """Every key the Zendesk connector reads, with Zendesk's own defaults and limits."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_token"),)

    email: str | None = None
    """The agent (an admin: the incremental exports are admin-only) the API token belongs to."""
    api_token: SecretStr | None = None
    """API token; Basic auth as ``{email}/token:{api_token}``."""

    page_size: int = page_size_field(1000, 1000)
    """Tickets per page of the cursor export (``per_page``) and of the search export
    (``page[size]``); 1000 is both endpoints' maximum and the export's own default."""
    overlap_seconds: float = Field(600.0, ge=0, le=86_400)
    """The incremental phase starts this long before the backfill began. Search (which
    the backfill reads) indexes a change "typically within a minute, up to a few
    minutes", so the hand-over re-reads ten minutes of the change feed."""
    concurrency: int = Field(4, ge=1, le=64)
    """Per-ticket requests in flight. Zendesk limits requests per minute, not
    connections: 700/min (Enterprise) is 12 a second, which four requests of ~300 ms
    already reach; more only burns the account's shared budget faster."""
    conversations: Literal["all", "incremental", "off"] = "all"
    """``all``: polls read new comments from the ticket event stream, and walk the
    backfilled tickets' earlier comments (one request per ticket); ``incremental``: the
    event stream only (comments made after the first sync began); ``off``: none."""
    backfill_comments_per_poll: int = Field(200, ge=1, le=10_000)
    """After the backfill, each poll reads the comments of this many more of the tickets
    it stored (one request each), beside the live changes, until all are read."""
    export_requests_per_minute: int = Field(10, ge=1, le=1000)
    """Zendesk's limit on the incremental export endpoints (10, or 30 with the High
    Volume API add-on); the connector paces itself below it instead of drawing 429s."""

    @classmethod
    def parse(cls, vendor: str, kind: str, section: Mapping[str, Any]) -> Self:
        """As the kit parses, but a section that still holds ``kind``/``base_url`` is fine."""
        values = {key: value for key, value in section.items() if key not in RESERVED_KEYS}
        return super().parse(vendor, kind, values)

"""Every key an ``autotask`` vendor section may carry, typed and checked once at config load.

Credentials are the API-only user's ``username``, its ``secret`` and the
integration's ``integration_code`` (the tracking identifier Autotask counts
thread limits against); the secret and the code are :class:`SecretStr`, so a
settings object can reach a log or a traceback without leaking them.

Vendor defaults differ from the shared ones where Autotask's limits say so:

* ``page_size`` 500: ``MaxRecords`` may be 1 to 500, and every request
  counts against the tenant's 10,000 per rolling hour, so full pages are cheapest;
* ``concurrency`` 3, at most 3: integrations get three concurrent threads per
  object endpoint per tracking identifier (vendor-apis.md §7.6); one limiter of
  three across all endpoints keeps every endpoint within its own three.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PositiveInt

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["MAX_CONCURRENCY", "MAX_PAGE_SIZE", "AutotaskSettings"]

MAX_PAGE_SIZE = 500
"""Autotask's ``MaxRecords`` ceiling."""
MAX_CONCURRENCY = 3
"""Concurrent threads Autotask allows per endpoint and tracking identifier."""


class AutotaskSettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section with ``kind = "autotask"``."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("username", "secret", "integration_code"),
    )

    username: str | None = None
    """The API-only user (an e-mail address); also names the zone to look up."""
    secret: SecretStr | None = None
    """That user's password."""
    integration_code: SecretStr | None = None
    """The integration's tracking identifier (``ApiIntegrationCode`` header)."""

    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(MAX_CONCURRENCY, ge=1, le=MAX_CONCURRENCY)

    resolve_names: bool = True
    """Look up resource, contact, company and configuration item names (small ``in`` queries)."""
    conversations: bool = True
    """Read each ticket's notes (``TicketNotes``) as conversation entries."""
    attachments: bool = True
    """Read each ticket's attachments (``TicketAttachments``, metadata only)."""

    company_id: PositiveInt | None = None
    """The company a hand-off creates its ticket under (Autotask requires one)."""
    queue_id: PositiveInt | None = None
    """Optional ``queueID`` for tickets created by a hand-off."""
    assign_role_id: PositiveInt | None = None
    """The role sent with every assignment (Autotask refuses a resource without one)."""
    note_type: PositiveInt | None = None
    """``noteType`` of notes paneglass writes (tenant picklist; default 1)."""

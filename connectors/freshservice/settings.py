"""The ``[vendors.NAME]`` section of a Freshservice account, typed and checked once.

Keys (beside the shared ones of :class:`~connectors.settings.ConnectorSettings`):

* ``api_key`` (required): an agent's API key; sent as Basic ``{api_key}:X``.
* ``workspace_id``: passed on every ticket read, and set on hand-offs, for
  accounts with workspaces (``0`` reads every workspace the agent can see).
* ``default_requester_email``: requester of a hand-off whose source names no
  e-mail (Freshservice cannot create a ticket without one).
* ``conversations`` (default true): read the replies and notes of every new or
  changed ticket. Each costs one request per ticket (there is no bulk path),
  so an account short of API credits can turn it off.

Vendor defaults: ``page_size`` 100 (Freshservice's maximum ``per_page``) and
``concurrency`` 4. The account's whole API budget is a per-minute credit
count (400 a minute on Pro, vendor-apis.md §6.5), shared by every
integration of the customer: four requests in flight already spend it within
the minute at round trips up to half a second, so more parallelism would only
reach the 429 sooner. The :class:`~connectors.http.RateBudget` paces from
``X-RateLimit-Remaining`` in any case.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["MAX_PAGE_SIZE", "FreshserviceSettings"]

MAX_PAGE_SIZE = 100
"""Freshservice's largest ``per_page`` (a larger one is a 400)."""


class FreshserviceSettings(ConnectorSettings):
    """Every key the Freshservice connector reads."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",),)

    api_key: SecretStr | None = None
    """The agent's API key (the Basic auth user name; the password is ignored)."""
    workspace_id: int | None = Field(None, ge=0)
    """The workspace to read and create in; ``None`` leaves the account's default."""
    default_requester_email: str | None = None
    """Requester of a hand-off whose source names no e-mail address."""
    conversations: bool = True
    """Read conversations (replies and notes) of new and changed tickets."""
    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(4, ge=1, le=64)

    @field_validator("default_requester_email")
    @classmethod
    def _an_email(cls, value: str | None) -> str | None:
        if value is not None and value != "" and "@" not in value:
            raise ValueError("must be an e-mail address")
        return value or None

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
``concurrency`` 8. Freshservice documents no concurrency limit, only a
per-minute credit budget for the whole account (100/200/400/500 a minute on
Starter/Growth/Pro/Enterprise, 1,000 or 2,000 with the paid add-ons;
vendor-apis.md §6.5). The largest, 2,000 a minute (about 33 requests a
second), needs 4 to 8 requests in flight at a 100-250 ms round trip to be
used; smaller plans are held to their rate by
:class:`~connectors.freshservice.pacing.MinuteBudget` whatever the
concurrency, and 8 in flight stay inside the tenth of the minute the pacer
keeps in reserve (20 credits on Growth, 40 on Pro), so they do not burst
into a 429 (on Starter, 10 in reserve, a short 429 can happen and is waited out).
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
    concurrency: int = Field(8, ge=1, le=64)

    @field_validator("default_requester_email")
    @classmethod
    def _an_email(cls, value: str | None) -> str | None:
        if value is not None and value != "" and "@" not in value:
            raise ValueError("must be an e-mail address")
        return value or None

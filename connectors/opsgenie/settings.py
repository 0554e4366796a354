"""Every setting the Opsgenie connector reads, typed and checked once at config load.

::

    [vendors.noc-alerts]
    kind = "opsgenie"
    base_url = "https://api.opsgenie.com"     # EU: https://api.eu.opsgenie.com (/v2 is fine)
    api_key = "${OPSGENIE_KEY}"               # GenieKey: an API integration key or the account key
    ui_url = "https://acme.app.opsgenie.com"  # links back to the web UI
    query = "teams: noc"                      # optional: only alerts this search matches
    action_user = "paneglass"                 # the user writes are made as

``concurrency`` defaults to 4: Opsgenie throttles each request domain per
second as well as per minute (token buckets sized by plan, ``vendor-apis.md``
§9.6), and the per-alert reads (``/notes``, ``/logs``, the alert itself) all
draw from the Alert domain, so a few in flight keep a backfill moving without
running the per-second bucket dry; a throttled answer pauses one period.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["DEFAULT_ACTION_USER", "MAX_PAGE_SIZE", "OpsgenieSettings"]

MAX_PAGE_SIZE = 100
"""Opsgenie's largest ``limit``."""
DEFAULT_ACTION_USER = "paneglass"


class OpsgenieSettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section of kind ``opsgenie``."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",),)

    api_key: SecretStr | None = None
    """Sent as ``Authorization: GenieKey …``."""
    ui_url: str | None = None
    """The account's web UI (``https://acme.app.opsgenie.com``): ticket links are built from it."""
    query: str | None = None
    """An Opsgenie search the alerts must also match (``teams: noc``); ANDed with ours."""
    action_user: str = DEFAULT_ACTION_USER
    """The ``user`` every write names."""
    conversations: bool = True
    """Read each alert's notes and log (two requests per alert)."""
    details: bool = True
    """Read each alert whole (``GET /v2/alerts/{id}``): list answers carry no ``entity``
    and no ``description``, so without it the asset is the ``source`` and there is no
    description."""
    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(4, ge=1, le=64)

    @field_validator("ui_url")
    @classmethod
    def _http_url(cls, value: Any) -> Any:
        if value is not None and not str(value).startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return str(value).rstrip("/") if value is not None else None

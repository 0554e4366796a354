"""Every key a ``datto-rmm`` section may hold, typed and checked once at config load.

::

    [vendors.rmm-alerts]
    kind = "datto-rmm"
    base_url = "https://merlot-api.centrastage.net"   # your platform: pinotage, merlot,
                                                      # concord, vidal, zinfandel or syrah
    api_key = "${DATTO_API_KEY}"          # Setup > Users > {user} > Generate API Keys
    api_secret = "${DATTO_API_SECRET}"
    # optional
    alert_url = "https://merlot.centrastage.net/csm/device/{device_uid}"  # a link per alert
    resolved_sweep_minutes = 15           # how often the resolved list is read in full
    resolved_newest_first = false         # true once your tenant is seen to sort it so
    reads_per_minute = 600                # the account's read limit (Datto: 600 a minute)
    cutoff_ratio = 0.9                    # pace below this share of it (Datto slows above)
    writes_per_minute = 100               # the account's write limit (Datto's default)
    calibrate = true                      # read /v2/system/request_rate once a poll
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["MAX_PAGE_SIZE", "URL_FIELDS", "DattoRmmSettings"]

MAX_PAGE_SIZE = 250
"""``max`` is 250 by default and at most (``GET /v2/system/pagination``; a larger ``max``
silently gives 250). Whether alert lists share that cap is not confirmed."""
URL_FIELDS = ("alert_uid", "device_uid", "site_uid")
"""Placeholders ``alert_url`` may use; each is filled with a URL-quoted id."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class DattoRmmSettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section of kind ``datto-rmm``."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key", "api_secret"),)

    api_key: SecretStr | None = None
    """The API key: the OAuth ``username`` of the password grant."""
    api_secret: SecretStr | None = None
    """The API secret key: the OAuth ``password`` of the password grant."""
    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(4, ge=1, le=64)
    """Alerts confirmed at once (``GET /v2/alert/{uid}`` for one gone from the open list)."""
    alert_url: str | None = None
    """A link template for each alert (``{alert_uid}``, ``{device_uid}``, ``{site_uid}``);
    Datto RMM publishes no deep-link format, so none is guessed."""
    resolved_sweep_minutes: float = Field(15.0, ge=0, le=10_080)
    """How often the resolved list is read in full (0: every poll). Between sweeps an
    alert that leaves the open list is confirmed on its own; a sweep also catches what
    resolved while paneglass was not running."""
    resolved_newest_first: bool = False
    """Datto does not document the resolved list's order. Set this once your tenant is
    seen to list the most recently resolved first: a sweep then stops at the first page
    resolved entirely before its window instead of reading the whole list."""
    reads_per_minute: int = Field(600, ge=1, le=100_000)
    """The account's read limit per rolling 60 seconds (Datto: 600)."""
    cutoff_ratio: float = Field(0.9, gt=0, le=1)
    """Share of the limit to stay under: above 90 % Datto delays every answer a second."""
    writes_per_minute: int = Field(100, ge=1, le=100_000)
    """The account's write limit per rolling 60 seconds (Datto's default: 100)."""
    calibrate: bool = True
    """Read ``/v2/system/request_rate`` at the start of each poll, so requests other
    integrations spent in the last minute count against our pace too (one read)."""

    @field_validator("alert_url")
    @classmethod
    def _template(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        if not text.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        unknown = [name for name in _PLACEHOLDER.findall(text) if name not in URL_FIELDS]
        if unknown:
            known = ", ".join("{" + name + "}" for name in URL_FIELDS)
            raise ValueError(f"unknown placeholder {{{unknown[0]}}} (known: {known})")
        return text

    @property
    def read_allowance(self) -> int:
        """Reads we allow ourselves per window: the limit times the cut-off ratio."""
        return max(int(self.reads_per_minute * self.cutoff_ratio), 1)

    @property
    def write_allowance(self) -> int:
        """Writes we allow ourselves per window."""
        return max(int(self.writes_per_minute * self.cutoff_ratio), 1)

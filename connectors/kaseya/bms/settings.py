"""Every key a ``kaseya-bms`` section may hold, typed and checked once at config load.

::

    [vendors.psa]
    kind = "kaseya-bms"
    base_url = "https://api.bms.kaseya.com"   # EMEA: api.bmsemea.kaseya.com,
                                              # APAC: api.bmsapac.kaseya.com
    username = "svc-paneglass@acme.example"
    password = "${BMS_PASSWORD}"
    tenant = "Acme Managed Services"          # the company name in BMS "My Settings"
    # optional
    time_zone = "UTC"                 # zone of BMS date-times sent without an offset
    ticket_url = "https://bms.kaseya.com/react/servicedesk/tickets/{id}"  # a link per ticket
    conversations = true              # read the notes of tickets that changed
    requests_per_hour = 1500          # BMS: 1,500 calls an hour per endpoint
    pace_ratio = 0.9                  # stay under this share of it
    status_ids = { open = "In Progress", pending = "Waiting Customer", resolved = "Resolved",
                   closed = "Closed" }  # what set_status sends (a status name or its id)
    note_type_id = 1                  # TypeId of notes paneglass writes
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from connectors.records import TicketStatus
from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["MAX_PAGE_SIZE", "KaseyaBmsSettings"]

MAX_PAGE_SIZE = 100
"""Kaseya's throttling article: paging bundles "up to 100 objects per request"."""
URL_FIELDS = ("id", "number")


class KaseyaBmsSettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section of kind ``kaseya-bms``."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("username", "password", "tenant"),)

    username: str | None = None
    """The BMS user the API signs in as (``UserName`` of ``/v2/security/authenticate``)."""
    password: SecretStr | None = None
    tenant: str | None = None
    """The company (tenant) name, as BMS shows it under My Settings."""
    page_size: int = page_size_field(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    concurrency: int = Field(4, ge=1, le=64)
    """Notes requests in flight at once (one per changed ticket)."""
    time_zone: str = "UTC"
    """The zone BMS means by a date-time without an offset (its answers and our filters)."""
    ticket_url: str | None = None
    """A link template for each ticket (``{id}``, ``{number}``); BMS publishes no
    deep-link format, so none is guessed."""
    conversations: bool = True
    """Read the notes of every ticket an incremental poll sees change (one request per
    ticket, from the notes endpoint's own hourly budget)."""
    requests_per_hour: int = Field(1500, ge=1, le=1_000_000)
    """BMS's limit per endpoint per hour (Kaseya's BMS API page: 1,500)."""
    pace_ratio: float = Field(0.9, gt=0, le=1)
    """Share of ``requests_per_hour`` the connector allows itself per endpoint."""
    status_ids: Mapping[TicketStatus, str] = Field(default_factory=dict)
    """For ``set_status``: the BMS status (its name, or its numeric id) each normalized
    status is written as. Statuses are tenant-defined, so there is no default."""
    note_type_id: int = Field(1, ge=0)
    """The ``TypeId`` of notes paneglass writes (required by BMS; its values are tenant
    lookups the API does not document)."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {str(value)[:40]!r}") from None
        return str(value)

    @field_validator("ticket_url")
    @classmethod
    def _template(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        if not text.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        for name in _placeholders(text):
            if name not in URL_FIELDS:
                raise ValueError(f"unknown placeholder {{{name}}} (known: {{id}}, {{number}})")
        return text

    @field_validator("status_ids", mode="before")
    @classmethod
    def _status_ids(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError('must be a table, e.g. { resolved = "Resolved" }')
        out: dict[str, str] = {}
        for status, target in value.items():
            text = str(target).strip()
            if not text:
                raise ValueError(f"{status}: needs a BMS status name or id")
            out[str(status).strip().lower()] = text
        return out

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def allowance(self) -> int:
        """Requests the connector allows itself per endpoint per hour."""
        return max(int(self.requests_per_hour * self.pace_ratio), 1)


def _placeholders(text: str) -> list[str]:
    names = []
    rest = text
    while "{" in rest:
        rest = rest[rest.index("{") + 1 :]
        names.append(rest.split("}", 1)[0])
    return names

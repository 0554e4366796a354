"""The ``[vendors.NAME]`` keys a Salesforce Service Cloud section may hold, typed and checked once.

::

    [vendors.app-partner]
    kind = "salesforce"
    base_url = "https://acme.my.salesforce.com"   # the org's My Domain URL
    client_id = "3MVG9…"                           # the External Client App's consumer key
    client_secret = "${SF_CLIENT_SECRET}"
    # optional
    api_version = "66.0"
    page_size = 2000                  # Sforce-Query-Options batchSize (200..2000)
    backfill_days = 30
    overlap_seconds = 120
    concurrency = 4
    conversations = true              # CaseComment + EmailMessage into the conversation
    milestones = true                 # CaseMilestone as the vendor's SLA (Entitlement Management)
    first_response_milestone = "First Response"
    external_id_field = "Paneglass_Ref__c"
    status_map = { "Waiting on Customer" = "pending" }
    status_values = { pending = "On Hold" }        # merged over New/Working/Closed/Closed
    priority_values = { P1 = "High", P2 = "High", P3 = "Medium", P4 = "Low", P5 = "Low" }
    origin = "Web"
    api_usage_slowdown = 0.8
    api_usage_reserve = 0.05

Credentials are the OAuth 2.0 client credentials flow: the External Client App
(or Connected App) must have "Enable Client Credentials Flow" and a run-as
user; the token is requested from the org's My Domain host, since that flow
is not served by ``login.salesforce.com`` (Salesforce help article 000886201).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from connectors.records import Priority, TicketStatus
from connectors.settings import ConnectorSettings, SecretStr, secret

__all__ = ["MAX_BATCH", "MIN_BATCH", "SalesforceSettings"]

MIN_BATCH = 200
MAX_BATCH = 2000
"""The Query resource's ``batchSize`` range (Sforce-Query-Options header)."""

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")

DEFAULT_STATUS_VALUES: Mapping[str, str] = {
    "new": "New",
    "open": "Working",
    "resolved": "Closed",
    "closed": "Closed",
}
"""Out-of-box Case statuses (New, Working, Escalated, Closed); no waiting status is
standard, so ``pending`` needs the org's own value."""
DEFAULT_PRIORITY_VALUES: Mapping[str, str] = {
    "P1": "High",
    "P2": "High",
    "P3": "Medium",
    "P4": "Low",
    "P5": "Low",
}


class SalesforceSettings(ConnectorSettings):
    """Every key the Salesforce connector reads, with Salesforce's own limits."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("client_id", "client_secret"),)

    client_id: str | None = None
    """The app's consumer key (not a secret, but useless without the secret)."""
    client_secret: SecretStr | None = None
    """The app's consumer secret."""
    api_version: str = Field("66.0", pattern=r"^\d{2,3}\.\d$")
    """REST API version in every path (``/services/data/v66.0/…``)."""
    page_size: int = Field(MAX_BATCH, ge=MIN_BATCH, le=MAX_BATCH)
    """Records asked for per query batch (``Sforce-Query-Options: batchSize``); the org
    may answer with fewer, so only ``done`` ends a query."""
    overlap_seconds: float = Field(120.0, ge=0, le=86_400)
    """Each incremental poll re-reads this much before its cursor: ``SystemModstamp``
    has second precision and a transaction can commit after a later one."""
    concurrency: int = Field(4, ge=1, le=25)
    """Requests in flight. An org allows 25 concurrent long-running requests (5 in a
    Developer Edition) across all its integrations."""
    conversations: bool = True
    """Read ``CaseComment`` and ``EmailMessage`` rows into each case's conversation."""
    milestones: bool = True
    """Read ``CaseMilestone`` rows as the vendor's SLA (needs Entitlement Management;
    set false in an org without it, where the object does not exist)."""
    first_response_milestone: str = "First Response"
    """The milestone type whose completion is the case's first response."""
    external_id_field: str = "Paneglass_Ref__c"
    """A Case text field marked *External ID* and *Unique*: a hand-off is an upsert on it,
    so a retried create can never make a second case."""
    status_values: Mapping[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATUS_VALUES))
    """The org's Status picklist value written for each normalized status."""
    priority_values: Mapping[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITY_VALUES)
    )
    """The org's Priority picklist value written for P1..P5 on a hand-off (nearest value);
    a priority change sends one only if a poll reads it back as the wanted P1..P5."""
    origin: str = "Web"
    """``Origin`` of a case paneglass creates (an org may require one)."""
    api_usage_slowdown: float = Field(0.8, gt=0, lt=1)
    """Share of the org's daily API allocation (``Sforce-Limit-Info``) from which
    requests are spaced out."""
    api_usage_reserve: float = Field(0.05, ge=0, lt=1)
    """Share of the allocation left to the org's other users: paneglass stops there."""

    @field_validator("external_id_field")
    @classmethod
    def _api_name(cls, value: str) -> str:
        if not _API_NAME.match(value):
            raise ValueError("must be a field API name such as Paneglass_Ref__c")
        return value

    @field_validator("status_values", mode="before")
    @classmethod
    def _status_keys(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError('must be a table, e.g. { pending = "On Hold" }')
        out = dict(DEFAULT_STATUS_VALUES)
        for key, name in value.items():
            try:
                status = TicketStatus(str(key).strip().lower())
            except ValueError:
                choices = ", ".join(s.value for s in TicketStatus)
                raise ValueError(f"unknown status {key!r}; use {choices}") from None
            out[status.value] = _picklist_value(name)
        return out

    @field_validator("priority_values", mode="before")
    @classmethod
    def _priority_keys(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError('must be a table, e.g. { P1 = "High" }')
        out = dict(DEFAULT_PRIORITY_VALUES)
        for key, name in value.items():
            try:
                priority = Priority(str(key).strip().upper())
            except ValueError:
                raise ValueError(f"unknown priority {key!r}; use P1..P5") from None
            out[priority.value] = _picklist_value(name)
        return out

    @model_validator(mode="after")
    def _reserve_below_slowdown(self) -> SalesforceSettings:
        if self.api_usage_reserve >= 1 - self.api_usage_slowdown:
            raise ValueError(
                "api_usage_reserve must leave room above api_usage_slowdown "
                "(reserve < 1 - slowdown)"
            )
        return self

    def secret_value(self) -> str:
        """The client secret (the settings only exist once it is present)."""
        return secret(self.client_secret) or ""

    @property
    def data_path(self) -> str:
        """``/services/data/vNN.N``: every REST resource lives below it."""
        return f"/services/data/v{self.api_version}"


def _picklist_value(value: object) -> str:
    text = str(value).strip()
    if not text or len(text) > 255 or any(ch in text for ch in "\r\n\t"):
        raise ValueError(f"{text[:40]!r} is not a picklist value")
    return text

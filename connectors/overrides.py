"""Per-tenant status and priority mappings from config.

Tenants customise picklists (ServiceNow choices, Zendesk custom statuses,
Jira workflows), so the built-in normalisation is a default, not a law::

    [vendors.hosting]
    status_map = { "Awaiting Vendor" = "pending", "7" = "closed" }
    priority_map = { "2 - High" = "P1" }

Keys are the vendor's raw status or priority (the name or the code, matched
case-insensitively against ``raw_status``/``raw_priority``); values are a
normalised status or P1..P5. An override wins over the connector's mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import VendorConfig
from connectors.errors import ConfigurationError
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.settings import ConnectorSettings

__all__ = ["Overrides"]


def _table(config: VendorConfig, key: str) -> Mapping[str, Any]:
    value = config.settings.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f'vendor {config.name!r}: {key} must be a table, e.g. {key} = {{ "Raw" = "value" }}'
        )
    return value


@dataclass(frozen=True)
class Overrides:
    """A vendor's status and priority overrides, validated."""

    statuses: Mapping[str, TicketStatus]
    priorities: Mapping[str, Priority]

    @classmethod
    def from_config(cls, config: VendorConfig) -> Overrides:
        """Read ``status_map`` and ``priority_map``; a bad value is a ConfigurationError."""
        statuses: dict[str, TicketStatus] = {}
        for raw, value in _table(config, "status_map").items():
            try:
                statuses[str(raw).strip().lower()] = TicketStatus(str(value).lower())
            except ValueError:
                choices = ", ".join(s.value for s in TicketStatus)
                raise ConfigurationError(
                    f"vendor {config.name!r}: status_map {raw!r} = {value!r}; use one of {choices}"
                ) from None
        priorities: dict[str, Priority] = {}
        for raw, value in _table(config, "priority_map").items():
            try:
                priorities[str(raw).strip().lower()] = Priority(str(value).upper())
            except ValueError:
                raise ConfigurationError(
                    f"vendor {config.name!r}: priority_map {raw!r} = {value!r}; use P1..P5"
                ) from None
        return cls(statuses, priorities)

    @classmethod
    def from_settings(cls, settings: ConnectorSettings) -> Overrides:
        """The overrides a parsed settings model already validated."""
        return cls(dict(settings.status_map), dict(settings.priority_map))

    def apply(self, record: TicketRecord) -> TicketRecord:
        """The record with any matching override applied."""
        status = self.statuses.get(record.raw_status.strip().lower())
        priority = self.priorities.get((record.raw_priority or "").strip().lower())
        if status is None and priority is None:
            return record
        return replace(
            record,
            status=status or record.status,
            priority=priority or record.priority,
        )

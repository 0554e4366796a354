"""Per-tenant status/priority overrides, through real connectors and their emulators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors import VendorConfig
from connectors.emulators.base import WorldTicket
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.errors import ConfigurationError
from connectors.records import Priority, TicketStatus
from connectors.servicenow import ServiceNowConnector
from connectors.zendesk import ZendeskConnector


async def test_overrides_win_over_the_built_in_mapping() -> None:
    now = datetime.now(UTC)
    for emulator_cls, connector_cls, status_key, priority_key in (
        (ServiceNowEmulator, ServiceNowConnector, "On Hold", "2 - High"),
        (ZendeskEmulator, ZendeskConnector, "pending", "high"),
    ):
        with emulator_cls() as emu:
            emu.put_ticket(WorldTicket("a", "t", TicketStatus.PENDING, Priority.P2, now, now))
            settings = {
                **emu.vendor_settings(),
                "status_map": {status_key: "open"},
                "priority_map": {priority_key: "P1"},
            }
            settings.pop("kind")
            config = VendorConfig("v", connector_cls.kind, emu.base_url, settings=settings)
            connector_cls.validate(config)
            connector = connector_cls(config, connector_cls.make_client(config))
            result = await connector.poll(None)
            await connector.client.aclose()
        (record,) = result.tickets
        assert (record.status, record.priority) == (TicketStatus.OPEN, Priority.P1), connector_cls


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"status_map": {"On Hold": "waiting"}}, "use one of new, open"),
        ({"priority_map": {"1": "urgent"}}, "use P1..P5"),
        ({"status_map": "pending"}, "must be a table"),
    ],
)
def test_bad_overrides_are_clear_config_errors(settings: dict[str, object], message: str) -> None:
    config = VendorConfig(
        "hosting", "servicenow", "https://x.example", settings={"token": "t", **settings}
    )
    with pytest.raises(ConfigurationError, match=message):
        ServiceNowConnector.validate(config)

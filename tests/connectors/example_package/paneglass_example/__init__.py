"""An out-of-tree connector for the imaginary "Example Desk" JSON API.

It is what a third party ships as its own package: a settings model, a
connector with the two sync phases, and one entry point in its pyproject
(``[project.entry-points."paneglass.connectors"] example-desk = ...``).
The API it reads: ``GET /api/tickets?open=1&after=ID`` (every open ticket,
by id) and ``GET /api/tickets?updated_since=ISO&after=ID`` (changes), both
answering ``{"tickets": [...], "next_after": ID | null}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import Connector, VendorConfig
from connectors.http import decode_json, send
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
from connectors.settings import ConnectorSettings, SecretStr, secret
from connectors.timestamps import parse_iso

__all__ = ["ExampleDeskConnector", "ExampleDeskSettings"]

STATUSES = {"new": TicketStatus.NEW, "open": TicketStatus.OPEN, "done": TicketStatus.RESOLVED}


class ExampleDeskSettings(ConnectorSettings):
    """``[vendors.NAME]`` keys for Example Desk: a token, and the shared kit keys."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("token",),)
    token: SecretStr | None = None


class ExampleDeskConnector(Connector):
    """Reads Example Desk tickets; read-only (no write-back)."""

    kind: ClassVar[str] = "example-desk"
    Settings: ClassVar[type[ConnectorSettings] | None] = ExampleDeskSettings

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        settings = cls.parse_settings(config)
        assert isinstance(settings, ExampleDeskSettings)
        return {"Authorization": f"Bearer {secret(settings.token)}"}

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        async for page in self._pages({"open": "1"}, position):
            yield page

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        since = (position or {}).get("since") or start.isoformat()
        async for page in self._pages({"updated_since": since}, None):
            newest = max((t.updated_at for t in page.tickets), default=None)
            yield PollResult(
                tickets=page.tickets,
                cursor={"since": (newest or parse_iso(since) or start).isoformat()},
                requests=page.requests,
            )

    async def check(self) -> str:
        response = await send(self.client, "GET", "/api/tickets", params={"open": "1"})
        return f"ok, {len(decode_json(response)['tickets'])} open ticket(s) on the first page"

    async def _pages(
        self, query: dict[str, str], position: Cursor | None
    ) -> AsyncIterator[PollResult]:
        after = (position or {}).get("after", 0)
        while True:
            params = {**query, "after": str(after), "limit": str(self.settings.page_size)}
            body = decode_json(await send(self.client, "GET", "/api/tickets", params=params))
            tickets = tuple(_record(t, self.config.base_url) for t in body["tickets"])
            after = body.get("next_after")
            yield PollResult(tickets=tickets, cursor={"after": after}, requests=1)
            if after is None:
                return


def _record(ticket: dict[str, Any], base_url: str) -> TicketRecord:
    created, updated = parse_iso(ticket["created"]), parse_iso(ticket["updated"])
    assert created is not None and updated is not None
    return TicketRecord(
        external_id=str(ticket["id"]),
        key=f"EX-{ticket['id']}",
        title=str(ticket["title"]),
        status=STATUSES.get(ticket["state"], TicketStatus.OPEN),
        raw_status=str(ticket["state"]),
        priority=Priority(ticket["priority"]) if ticket.get("priority") else None,
        raw_priority=ticket.get("priority"),
        created_at=created,
        updated_at=updated,
        url=f"{base_url.rstrip('/')}/tickets/{int(ticket['id'])}",
    )

"""The PagerDuty connector: open incidents plus the log-entry change feed.

``GET /incidents`` cannot sort or filter by update time, so one poll reads
(1) every open incident (``statuses[]=triggered,acknowledged``, a small set)
and (2) ``GET /log_entries?since=cursor-overlap`` to learn which other
incidents changed (resolved, reassigned), then fetches those one by one.
Paging is offset/limit following ``more``; PagerDuty refuses offset+limit
beyond 10,000, so a poll stops there and keeps its old cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx2

from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.pagerduty.mapping import incident_id, incident_to_record
from connectors.records import Cursor, PollResult
from connectors.timestamps import parse_iso

__all__ = ["PagerDutyConnector"]

ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE = 100
ITERATION_LIMIT = 10_000
OVERLAP = timedelta(seconds=60)


class PagerDutyConnector(Connector):
    """Polls ``https://api.pagerduty.com`` (or the EU host) with a REST API key."""

    kind: ClassVar[str] = "pagerduty"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_token",),)

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check the tenant's overrides."""
        super().validate(config)
        Overrides.from_config(config)

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """PagerDuty's token header and its versioned media type."""
        return {"Authorization": f"Token token={config.require('api_token')}", "Accept": ACCEPT}

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.budget = RateBudget(
            RateHeaders("ratelimit-remaining", "ratelimit-limit", "ratelimit-reset")
        )
        self._requests = 0

    async def _get(self, path: str, params: list[tuple[str, str]]) -> Mapping[str, Any]:
        self._requests += 1
        response = await send(self.client, "GET", path, params=params, budget=self.budget)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"PagerDuty {path} answer is not a JSON object")
        return body

    async def _pages(
        self, path: str, key: str, params: list[tuple[str, str]]
    ) -> tuple[list[Any], bool]:
        """Every item of an offset-paged list; False when the 10,000 cap cut it short."""
        items: list[Any] = []
        offset = 0
        while True:
            if offset + PAGE > ITERATION_LIMIT:
                return items, False
            body = await self._get(path, [*params, ("limit", str(PAGE)), ("offset", str(offset))])
            page = body.get(key)
            if not isinstance(page, list):
                raise BadPayload(f"PagerDuty {path} answer has no {key} list")
            items.extend(page)
            if body.get("more") is not True:  # a short page with more=true is not the end
                return items, True
            offset += PAGE

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Open incidents, plus every incident the log says changed since ``cursor``."""
        self._requests = 0
        started = datetime.now(UTC)
        since = parse_iso(cursor.get("since")) if isinstance(cursor, dict) else None
        open_items, complete = await self._pages(
            "/incidents",
            "incidents",
            [("statuses[]", "triggered"), ("statuses[]", "acknowledged"), ("date_range", "all")],
        )
        incidents = {incident_id(i): i for i in open_items if isinstance(i, Mapping)}
        if since is None:  # first poll: the backfill window of resolved incidents too
            days = self.config.number("backfill_days", 30.0)
            window = [
                ("statuses[]", "resolved"),
                ("since", (started - timedelta(days=days)).isoformat()),
                ("until", started.isoformat()),
            ]
            resolved, done = await self._pages("/incidents", "incidents", window)
            complete = complete and done
            incidents.update({incident_id(i): i for i in resolved if isinstance(i, Mapping)})
        else:
            entries, done = await self._pages(
                "/log_entries",
                "log_entries",
                [("since", (since - OVERLAP).isoformat()), ("is_overview", "true")],
            )
            complete = complete and done
            changed = {
                e["incident"]["id"]
                for e in entries
                if isinstance(e, Mapping)
                and isinstance(e.get("incident"), Mapping)
                and e["incident"].get("id")
            }
            for ident in sorted(changed - set(incidents)):
                body = await self._get(f"/incidents/{ident}", [])
                incident = body.get("incident")
                if isinstance(incident, Mapping):
                    incidents[incident_id(incident)] = incident
        overrides = Overrides.from_config(self.config)
        ui_url = self.config.get("ui_url")
        records = tuple(
            overrides.apply(incident_to_record(i, ui_url=ui_url)) for i in incidents.values()
        )
        next_cursor = {"since": started.isoformat()} if complete else cursor
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """``/abilities``: proves the key and shows what the account can do."""
        body = await self._get("/abilities", [])
        abilities = body.get("abilities")
        count = len(abilities) if isinstance(abilities, list) else 0
        return f"ok, {count} abilities"

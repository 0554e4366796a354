"""The ServiceNow connector: incidents changed since the cursor, plus their live SLAs.

Incremental pull on ``sys_updated_on>=`` with a stable order, offset paging
that follows the ``Link`` header's ``rel="next"`` (never the page length: the
limit is applied before ACLs, so a short or empty page is not the end), and
one ``task_sla`` query per poll for the incidents it saw.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConfigurationError, ConnectorError
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, TicketRecord
from connectors.servicenow.mapping import incident_to_record, raw_value, sla_summary
from connectors.timestamps import format_servicenow, parse_iso

__all__ = ["ServiceNowConnector"]

INCIDENT_PATH = "/api/now/table/incident"
TASK_SLA_PATH = "/api/now/table/task_sla"

INCIDENT_FIELDS = (
    "sys_id,number,short_description,description,state,hold_reason,priority,impact,urgency,"
    "assigned_to,assignment_group,caller_id,cmdb_ci,category,opened_at,sys_created_on,"
    "sys_updated_on,resolved_at,closed_at,close_code,active,made_sla,sys_mod_count,"
    "correlation_id"
)
SLA_FIELDS = "sys_id,task,sla,stage,active,has_breached,planned_end_time"

DEFAULT_PAGE_SIZE = 200
DEFAULT_BACKFILL_DAYS = 30.0
OVERLAP = timedelta(seconds=60)
"""``sys_updated_on`` has one-second precision: re-read the last minute so an update
sharing the cursor's second (or committed late) is never missed."""
SLA_CHUNK = 100
"""Incident sys_ids per ``taskIN…`` query, keeping the URL well under server limits."""
MAX_PAGES = 10_000
"""A guard against a vendor whose ``next`` link never ends."""


class ServiceNowConnector(Connector):
    """Polls one instance's ``incident`` table (``https://acme.service-now.com``)."""

    kind: ClassVar[str] = "servicenow"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("username", "password"), ("token",))

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check the tenant's status/priority overrides before the first poll."""
        super().validate(config)
        Overrides.from_config(config)

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """Basic auth for a service account; a complete username/password wins over a token."""
        username, password = config.get("username"), config.get("password")
        if username and password:
            return httpx2.BasicAuth(username, password)
        return None

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """An OAuth bearer token, used only when no username/password pair is configured."""
        token = config.get("token")
        if token and not (config.get("username") and config.get("password")):
            return {"Authorization": f"Bearer {token}"}
        return {}

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.page_size = max(int(_positive(config, "page_size", DEFAULT_PAGE_SIZE)), 1)
        self.backfill = timedelta(days=_positive(config, "backfill_days", DEFAULT_BACKFILL_DAYS))
        self._requests = 0

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every incident updated since the cursor (minus the overlap), newest copy of each.

        An incident seen twice means one we had already read was updated while we
        paged: it moved to the end and shifted the rows behind it one offset back,
        so a row may have been skipped. Then the cursor stays at this poll's start
        and the next poll reads the same window again.
        """
        self._requests = 0
        since = self._since(cursor)
        params = {
            "sysparm_query": (
                f"sys_updated_on>={format_servicenow(since)}^ORDERBYsys_updated_on^ORDERBYsys_id"
            ),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_fields": INCIDENT_FIELDS,
        }
        newest: dict[str, tuple[TicketRecord, int]] = {}
        shuffled = False
        async for row in self._rows(INCIDENT_PATH, params):
            record = incident_to_record(row, self.config.base_url)
            version = (record, _int(raw_value(row, "sys_mod_count")))
            seen = newest.get(record.external_id)
            shuffled = shuffled or seen is not None
            if seen is None or (record.updated_at, version[1]) >= (seen[0].updated_at, seen[1]):
                newest[record.external_id] = version
        tickets = await self._with_slas([record for record, _ in newest.values()])
        next_cursor = cursor
        if shuffled:
            next_cursor = {"since": (since + OVERLAP).isoformat()}
        elif tickets:
            next_cursor = {"since": max(t.updated_at for t in tickets).isoformat()}
        overrides = Overrides.from_config(self.config)
        tickets = [overrides.apply(t) for t in tickets]
        return PollResult(tickets=tuple(tickets), cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """One single-row read: proves credentials and table ACLs, reports how many are visible."""
        self._requests = 0
        response = await self._get(
            INCIDENT_PATH, {"sysparm_limit": "1", "sysparm_fields": "sys_id"}
        )
        if response is None:
            return "ok, 0 incidents visible"
        total = _int(response.headers.get("X-Total-Count", ""), default=-1)
        if total < 0:
            _result(response)  # still prove the answer is a Table API answer
            return "ok, incidents visible (no X-Total-Count)"
        return f"ok, {total:,} incidents visible"

    # -- internals ---------------------------------------------------------------

    def _since(self, cursor: Cursor | None) -> datetime:
        """Where this poll starts: the cursor minus the overlap, else the backfill window."""
        saved = cursor.get("since") if isinstance(cursor, dict) else None
        try:
            parsed = parse_iso(saved) if isinstance(saved, str) else None
        except BadPayload:
            parsed = None  # a cursor we did not write: start over rather than fail forever
        if parsed is not None:
            return parsed - OVERLAP
        return datetime.now(UTC) - self.backfill

    async def _rows(self, path: str, params: Mapping[str, str]) -> AsyncIterator[Mapping[str, Any]]:
        """Every row of a query, page by page, for as long as a ``next`` link is offered."""
        offset = 0
        for _ in range(MAX_PAGES):
            page = {**params, "sysparm_limit": str(self.page_size), "sysparm_offset": str(offset)}
            response = await self._get(path, page)
            if response is None:
                return
            for row in _result(response):
                yield row
            next_offset = _next_offset(response)
            if next_offset is None:
                return
            if next_offset <= offset:
                raise BadPayload(f"ServiceNow next link goes back to offset {next_offset}")
            offset = next_offset
        raise BadPayload(f"ServiceNow offered more than {MAX_PAGES} pages")

    async def _get(self, path: str, params: Mapping[str, str]) -> httpx2.Response | None:
        """One GET; ``None`` for the v1 "No Record found" 404, which means an empty result."""
        self._requests += 1
        try:
            return await send(self.client, "GET", path, params=dict(params))
        except ConnectorError as exc:
            if exc.http_status == 404 and "No Record found" in str(exc):
                return None
            raise

    async def _with_slas(self, tickets: list[TicketRecord]) -> list[TicketRecord]:
        """Attach each incident's earliest active breach time and breach flag from ``task_sla``."""
        rows_by_task: dict[str, list[Mapping[str, Any]]] = {}
        ids = [t.external_id for t in tickets]
        for chunk in _chunks(ids, SLA_CHUNK):
            params = {
                "sysparm_query": f"taskIN{','.join(chunk)}^active=true",
                "sysparm_display_value": "false",
                "sysparm_exclude_reference_link": "true",
                "sysparm_fields": SLA_FIELDS,
            }
            async for row in self._rows(TASK_SLA_PATH, params):
                rows_by_task.setdefault(raw_value(row, "task"), []).append(row)
        result = []
        for ticket in tickets:
            due, breached = sla_summary(rows_by_task.get(ticket.external_id, []))
            if due is not None or breached is not None:
                ticket = dataclasses.replace(ticket, vendor_due_at=due, vendor_breached=breached)
            result.append(ticket)
        return result


def _result(response: httpx2.Response) -> list[Mapping[str, Any]]:
    body = decode_json(response)
    rows = body.get("result") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadPayload("ServiceNow answer has no result list of records")
    return rows


def _next_offset(response: httpx2.Response) -> int | None:
    """The ``sysparm_offset`` of the ``rel="next"`` link, or ``None`` when there is none.

    Only the offset is taken from the link: the request itself is rebuilt on our
    own base URL, so credentials never follow a link to another host.
    """
    link = response.links.get("next")
    if link is None:
        return None
    offsets = parse_qs(urlsplit(link.get("url", "")).query).get("sysparm_offset")
    if not offsets or not offsets[0].isdigit():
        raise BadPayload("ServiceNow next link carries no sysparm_offset")
    return int(offsets[0])


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _positive(config: VendorConfig, key: str, default: float) -> float:
    """A positive number setting, or a ConfigurationError naming it."""
    text = config.get(key)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ConfigurationError(f"vendor {config.name!r}: {key} must be a positive number")
    return value

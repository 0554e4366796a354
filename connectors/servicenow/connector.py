"""The ServiceNow connector: incidents changed since the cursor, plus their live SLAs.

Incremental pull on ``sys_updated_on>=`` with a stable order, offset paging
that follows the ``Link`` header's ``rel="next"`` (never the page length: the
limit is applied before ACLs, so a short or empty page is not the end), and
one ``task_sla`` query per poll for the incidents it saw.

Write-back goes through the same Table API: comments, work notes, state and
assignee are one ``PATCH`` of the incident; a hand-off is a ``POST`` carrying
the source's reference in ``correlation_id``, which is also how a retried
create finds the incident it already made. Settings ``close_code`` (default
"Solved (Permanently)") and ``hold_reason`` (default 1, Awaiting Caller) fill
what the instance's data policies demand for Resolved/Closed and On Hold.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx2

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    Handoff,
    PlannedRequest,
    UnsupportedAction,
)
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConfigurationError, ConnectorError
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
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

WRITE_FIELDS = "sys_id,number,state,sys_updated_on"
"""``sysparm_fields`` on a PATCH/POST: trims the answer to what the result reports."""
STATE_OUT: Mapping[TicketStatus, str] = {
    TicketStatus.NEW: "1",
    TicketStatus.OPEN: "2",
    TicketStatus.PENDING: "3",
    TicketStatus.RESOLVED: "6",
    TicketStatus.CLOSED: "7",
}
"""Out-of-box incident states: New, In Progress, On Hold, Resolved, Closed."""
IMPACT_URGENCY: Mapping[Priority, tuple[str, str]] = {
    Priority.P1: ("1", "1"),
    Priority.P2: ("1", "2"),
    Priority.P3: ("2", "2"),
    Priority.P4: ("2", "3"),
    Priority.P5: ("3", "3"),
}
"""Impact and urgency the out-of-box priority lookup turns into each priority (the
``priority`` field itself is calculated by the instance, so it is never sent)."""
DEFAULT_CLOSE_CODE = "Solved (Permanently)"
DEFAULT_HOLD_REASON = "1"
"""Awaiting Caller: "pending" means waiting on someone other than the agent."""
CORRELATION_DISPLAY = "paneglass"
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


class ServiceNowConnector(Connector):
    """Polls one instance's ``incident`` table (``https://acme.service-now.com``)."""

    kind: ClassVar[str] = "servicenow"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("username", "password"), ("token",))
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.ASSIGN, ActionKind.SET_STATUS, ActionKind.CREATE}
    )
    create_dedupe: ClassVar[str | None] = "correlation_id"

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

    # -- write-back --------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """One incident PATCH (journal, state, assignee) or, for a hand-off, one POST."""
        if action.kind is ActionKind.CREATE and action.handoff is not None:
            params = {"sysparm_input_display_value": "true", "sysparm_fields": WRITE_FIELDS}
            body = _new_incident(action.handoff)
            return (PlannedRequest("POST", INCIDENT_PATH, params=params, body=body),)
        params = {"sysparm_fields": WRITE_FIELDS}
        change: dict[str, str] = {}
        if action.kind is ActionKind.COMMENT:
            change["comments" if action.public else "work_notes"] = action.text
        elif action.kind is ActionKind.ASSIGN:
            who = action.assignee.strip()
            if not _SYS_ID.match(who):
                # A person's name: the instance resolves it to the sys_user it names.
                params["sysparm_input_display_value"] = "true"
            change["assigned_to"] = who
        elif action.kind is ActionKind.SET_STATUS and action.status is not None:
            change.update(self._state_change(action.status, action.text))
        else:
            raise UnsupportedAction(f"servicenow cannot {action.kind.label}")
        path = f"{INCIDENT_PATH}/{quote(str(action.ticket_id), safe='')}"
        return (PlannedRequest("PATCH", path, params=params, body=change),)

    async def perform(self, action: Action) -> ActionResult:
        """Send the planned request; report the incident number the instance answers with."""
        (request,) = self.plan(action)
        response = await self.send_planned(request)
        record = _written_record(response)
        number = raw_value(record, "number")
        status = f"HTTP {response.status_code}"
        if action.kind is not ActionKind.CREATE:
            name = number or action.ticket_key or str(action.ticket_id)
            return ActionResult(f"{status}: {name} updated", response.status_code)
        sys_id = raw_value(record, "sys_id")
        if not sys_id:
            raise BadPayload(
                "ServiceNow create answer has no sys_id", http_status=response.status_code
            )
        return ActionResult(
            f"{status}: created {number or sys_id}", response.status_code, sys_id, number or sys_id
        )

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The incident already carrying this hand-off's ``correlation_id``, oldest first."""
        if action.handoff is None:
            return None
        correlation = _query_value(action.handoff.correlation)
        params = {
            "sysparm_query": f"correlation_id={correlation}^ORDERBYsys_created_on",
            "sysparm_fields": "sys_id,number",
            "sysparm_limit": "1",
        }
        response = await self._get(INCIDENT_PATH, params)
        rows = _result(response) if response is not None else []
        sys_id = raw_value(rows[0], "sys_id") if rows else ""
        if not sys_id:
            return None
        number = raw_value(rows[0], "number") or sys_id
        return ActionResult(
            f"already at ServiceNow as {number}", 200, sys_id, number, existing=True
        )

    def _state_change(self, status: TicketStatus, text: str) -> dict[str, str]:
        """The fields a state change needs to pass the instance's data policies."""
        change = {"state": STATE_OUT[status]}
        if status is TicketStatus.PENDING:
            change["hold_reason"] = self.config.get("hold_reason", DEFAULT_HOLD_REASON) or ""
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            change["close_code"] = self.config.get("close_code", DEFAULT_CLOSE_CODE) or ""
            verb = "Resolved" if status is TicketStatus.RESOLVED else "Closed"
            change["close_notes"] = text.strip() or f"{verb} from paneglass"
        elif text.strip():
            change["work_notes"] = text
        return change

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


def _new_incident(handoff: Handoff) -> dict[str, str]:
    """A hand-off as incident fields (display values: names, not sys_ids)."""
    incident = {
        "short_description": handoff.title,
        "description": _handoff_text(handoff),
        "correlation_id": _query_value(handoff.correlation),
        "correlation_display": CORRELATION_DISPLAY,
        "contact_type": "integration",
    }
    if handoff.requester:
        incident["caller_id"] = handoff.requester
    if handoff.asset:
        incident["cmdb_ci"] = handoff.asset
    if handoff.priority is not None:
        incident["impact"], incident["urgency"] = IMPACT_URGENCY[handoff.priority]
    return incident


def _handoff_text(handoff: Handoff) -> str:
    """The description plus where it came from, so nothing depends on references resolving."""
    origin = f"Handed off from {handoff.source_vendor} {handoff.source_key}"
    lines = [handoff.description.strip(), "", origin]
    if handoff.source_url:
        lines.append(handoff.source_url)
    if handoff.requester:
        lines.append(f"Requester: {handoff.requester}")
    if handoff.asset:
        lines.append(f"Asset: {handoff.asset}")
    return "\n".join(lines).strip()


def _query_value(value: str) -> str:
    """A value that can sit in an encoded query as one term (``^`` separates terms)."""
    if "^" in value or "\n" in value or not value.strip():
        raise UnsupportedAction(
            f"correlation {value[:60]!r} cannot be matched in a ServiceNow encoded query"
        )
    return value


def _written_record(response: httpx2.Response) -> Mapping[str, Any]:
    """The ``result`` record of a PATCH/POST answer (an empty answer reports nothing)."""
    if not response.content:
        return {}
    body = decode_json(response)
    record = body.get("result") if isinstance(body, dict) else None
    if not isinstance(record, dict):
        raise BadPayload(
            "ServiceNow write answer has no result record", http_status=response.status_code
        )
    return record


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

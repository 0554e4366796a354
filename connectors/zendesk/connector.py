"""The Zendesk Support connector: the cursor-based incremental ticket export.

One poll follows ``after_cursor`` from the saved position until the vendor says
``end_of_stream``; only that flag means "caught up" (a short or even empty page
does not). Names of requesters, assignees and groups and the live SLA clocks
come as sideloads of the same requests, so a poll costs one request per page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConfigurationError, ConnectorError, RateLimited
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketStatus
from connectors.sanitize import clean_text, one_line
from connectors.zendesk.mapping import index_by_id, ticket_to_record

__all__ = ["ZendeskConnector"]

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
ME_PATH = "/api/v2/users/me.json"
SIDELOADS = "users,groups,slas"
DEFAULT_BACKFILL_DAYS = 30.0
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MIN_START_AGE = 60
"""Zendesk refuses a ``start_time`` less than one minute in the past."""
RATE_HEADERS = RateHeaders("x-rate-limit-remaining", "x-rate-limit", "ratelimit-reset")
DEFAULT_MAX_PAGES = 500
"""Pages per poll before we stop and resume next poll (a guard, not a normal limit)."""
TICKETS_PATH = "/api/v2/tickets.json"
STATUS_OUT = {
    TicketStatus.NEW: "new",
    TicketStatus.OPEN: "open",
    TicketStatus.PENDING: "pending",
    TicketStatus.RESOLVED: "solved",
    TicketStatus.CLOSED: "closed",
}
PRIORITY_OUT = {
    Priority.P1: "urgent",
    Priority.P2: "high",
    Priority.P3: "normal",
    Priority.P4: "low",
    Priority.P5: "low",
}


class ZendeskConnector(Connector):
    """Polls ``https://{subdomain}.zendesk.com`` with an agent's API token."""

    kind: ClassVar[str] = "zendesk"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_token"),)
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.ASSIGN, ActionKind.SET_STATUS, ActionKind.CREATE}
    )
    create_dedupe: ClassVar[str | None] = "external_id"

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.budget = RateBudget(RATE_HEADERS)
        """Paces requests from ``X-Rate-Limit-Remaining`` before Zendesk has to say 429."""

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also reject numeric settings that could never work, before the first poll."""
        super().validate(config)
        Overrides.from_config(config)
        _backfill_seconds(config)
        _page_size(config)

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API-token Basic auth: the username is ``{email}/token``."""
        return httpx2.BasicAuth(f"{config.require('email')}/token", config.require("api_token"))

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/api/v2`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_site_url(config)))

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every ticket changed since ``cursor`` (the backfill window when ``None``)."""
        saved = _saved_after_cursor(cursor)
        params: dict[str, Any] = {"include": SIDELOADS, "per_page": _page_size(self.config)}
        if saved is None:
            started = datetime.now(UTC).timestamp()
            params["start_time"] = int(started - _backfill_seconds(self.config))
        else:
            params["cursor"] = saved
        tickets: dict[int, Mapping[str, Any]] = {}
        users: dict[int, Mapping[str, Any]] = {}
        groups: dict[int, Mapping[str, Any]] = {}
        position = saved
        requests = 0
        max_pages = _max_pages(self.config)
        while requests < max_pages:
            requests += 1
            try:
                page = await self._get_object(EXPORT_PATH, params)
            except RateLimited:
                if requests == 1:
                    raise
                # Zendesk allows ~10 export requests a minute; keep what we paged so
                # far (the cursor resumes exactly there) instead of starting over.
                break
            users.update(index_by_id(page.get("users")))
            groups.update(index_by_id(page.get("groups")))
            for ticket in _list(page.get("tickets"), "tickets"):
                ticket_id = ticket.get("id") if isinstance(ticket, Mapping) else None
                if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                    raise BadPayload("Zendesk export ticket without an integer id")
                tickets.pop(ticket_id, None)  # the later copy is the newer state
                tickets[ticket_id] = ticket
            after = page.get("after_cursor")
            next_position = after if isinstance(after, str) and after else None
            if page.get("end_of_stream") is True:
                position = next_position or position
                break
            if next_position is None:
                raise BadPayload("Zendesk export page has neither end_of_stream nor after_cursor")
            if next_position == params.get("cursor"):
                raise BadPayload("Zendesk export returned the cursor it was given: no progress")
            position = next_position
            params = {"include": SIDELOADS, "per_page": params["per_page"], "cursor": position}
        now = datetime.now(UTC)
        base_url = _site_url(self.config)
        records = tuple(
            ticket_to_record(t, users=users, groups=groups, base_url=base_url, now=now)
            for t in tickets.values()
        )
        next_cursor: Cursor | None = {"after_cursor": position} if position else cursor
        overrides = Overrides.from_config(self.config)
        records = tuple(overrides.apply(r) for r in records)
        return PollResult(tickets=records, cursor=next_cursor, requests=requests)

    async def check(self) -> str:
        """``users/me``: proves the token and names the agent it belongs to."""
        body = await self._get_object(ME_PATH, {})
        user = body.get("user")
        if not isinstance(user, Mapping):
            raise BadPayload("users/me answer has no user")
        if user.get("id") is None:
            # Zendesk answers 200 with the anonymous user when it ignores the credentials.
            raise ConnectorError("signed in as the anonymous user: check email and api_token")
        name = user.get("name") if isinstance(user.get("name"), str) else "unknown"
        role = user.get("role") if isinstance(user.get("role"), str) else "unknown role"
        return one_line(clean_text(f"ok, signed in as {name} ({role})"), 120)

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """Comments, status and assignee go in one ticket PUT; a hand-off is a POST."""
        if action.kind is ActionKind.CREATE:
            return (PlannedRequest("POST", TICKETS_PATH, body={"ticket": _new_ticket(action)}),)
        change: dict[str, Any] = {}
        if action.kind is ActionKind.COMMENT:
            change["comment"] = {"body": action.text, "public": action.public}
        elif action.kind is ActionKind.ASSIGN:
            change.update(_assignee_field(action.assignee))
        elif action.kind is ActionKind.SET_STATUS and action.status is not None:
            change["status"] = STATUS_OUT[action.status]
            if action.text:
                change["comment"] = {"body": action.text, "public": False}
        else:
            raise UnsupportedAction(f"zendesk cannot {action.kind.label}")
        path = f"/api/v2/tickets/{action.ticket_id}.json"
        return (PlannedRequest("PUT", path, body={"ticket": change}),)

    async def perform(self, action: Action) -> ActionResult:
        """Send the planned request; for a create, read the new ticket's id."""
        (request,) = self.plan(action)
        response = await self.send_planned(request)
        status = f"HTTP {response.status_code}"
        if action.kind is not ActionKind.CREATE:
            return ActionResult(f"{status}: ticket updated", response.status_code)
        ticket = decode_json(response).get("ticket") if response.content else None
        if not isinstance(ticket, Mapping) or ticket.get("id") is None:
            raise BadPayload(
                "Zendesk create answer has no ticket id", http_status=response.status_code
            )
        new_id = str(ticket["id"])
        return ActionResult(
            f"{status}: created #{new_id}", response.status_code, new_id, f"#{new_id}"
        )

    async def find_existing(self, action: Action) -> ActionResult | None:
        """A ticket already carrying this hand-off's ``external_id`` (dedupe before a retry)."""
        if action.handoff is None:
            return None
        body = await self._get_object(TICKETS_PATH, {"external_id": action.handoff.correlation})
        found = [t for t in _list(body.get("tickets"), "tickets") if isinstance(t, Mapping)]
        if not found or found[0].get("id") is None:
            return None
        old_id = str(found[0]["id"])
        return ActionResult(
            f"already at Zendesk as #{old_id}", 200, old_id, f"#{old_id}", existing=True
        )

    async def _get_object(self, path: str, params: dict[str, Any]) -> Mapping[str, Any]:
        response = await send(self.client, "GET", path, params=params, budget=self.budget)
        if response.status_code != 200:
            raise BadPayload(
                f"HTTP {response.status_code} where a JSON answer was expected",
                http_status=response.status_code,
            )
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Zendesk {path} answer is not a JSON object")
        return body


def _assignee_field(assignee: str) -> dict[str, Any]:
    """Zendesk takes an agent by numeric id or by e-mail, never by display name."""
    text = assignee.strip()
    if text.isdigit():
        return {"assignee_id": int(text)}
    if "@" in text:
        return {"assignee_email": text}
    raise UnsupportedAction("Zendesk assigns by agent id or e-mail address, not by name")


def _new_ticket(action: Action) -> dict[str, Any]:
    handoff = action.handoff
    assert handoff is not None
    ticket: dict[str, Any] = {
        "subject": handoff.title,
        "comment": {"body": handoff.description, "public": False},
        "external_id": handoff.correlation,
        "tags": ["from_paneglass"],
    }
    if handoff.priority is not None:
        ticket["priority"] = PRIORITY_OUT[handoff.priority]
    if handoff.requester:
        who = handoff.requester
        ticket["requester"] = {"email": who} if "@" in who else {"name": who}
    if handoff.asset:
        ticket["tags"].append(re.sub(r"[^a-z0-9_\-]+", "_", handoff.asset.lower()).strip("_"))
    return ticket


def _saved_after_cursor(cursor: Cursor | None) -> str | None:
    """The ``after_cursor`` this connector saved; anything else means "backfill"."""
    value: Any = cursor.get("after_cursor") if isinstance(cursor, dict) else None
    return value if isinstance(value, str) and value else None


def _site_url(config: VendorConfig) -> str:
    return config.base_url.rstrip("/").removesuffix("/api/v2")


def _backfill_seconds(config: VendorConfig) -> float:
    """How far back the first poll reaches, never closer than Zendesk's one-minute floor."""
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if days < 0:
        raise ConfigurationError(f"vendor {config.name!r}: backfill_days must not be negative")
    return max(days * 86_400, MIN_START_AGE)


def _page_size(config: VendorConfig) -> int:
    size = config.number("page_size", DEFAULT_PAGE_SIZE)
    if size != int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"vendor {config.name!r}: page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return int(size)


def _max_pages(config: VendorConfig) -> int:
    pages = config.number("max_pages", DEFAULT_MAX_PAGES)
    if pages != int(pages) or pages < 1:
        raise ConfigurationError(f"vendor {config.name!r}: max_pages must be a positive integer")
    return int(pages)


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"Zendesk export {what} is not a list")
    return value

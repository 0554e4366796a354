"""The Freshservice connector: ``GET /api/v2/tickets?updated_since=…`` paged to the end.

Freshservice has no change feed and cannot sort by ``updated_at`` (only by
``created_at``, vendor-apis.md §6.2), so one poll asks for everything updated
since the cursor minus an overlap, oldest-created first, and follows the
``Link: <…>; rel="next"`` header until it is absent: only that header means
"more" (a short or empty page does not mean "done"). Ascending creation order
keeps page boundaries stable while we page, because new tickets land at the
end. The cursor is the newest ``updated_at`` seen; tickets re-read inside the
overlap are harmless (the store upserts) and are deduplicated within a poll.

Settings: ``api_key`` (required), ``page_size`` (1-100, default 100),
``backfill_days`` (first poll, default 30), ``max_pages`` (guard, default 500),
``workspace_id`` (passed through for workspace accounts, and set on hand-offs),
``status_map`` and ``priority_map`` (keyed on the code or the name, see the
mapping module), ``default_requester_email`` (requester of a hand-off whose
source names no e-mail).

Each request carries ``include=requester,stats`` (requester names and the
first-response/resolution times) and is paced from ``X-RateLimit-Remaining``.

Write-back (vendor-apis.md §6.8): an internal comment is a private note
(``POST /tickets/{id}/notes``), a public one a reply (``POST …/reply``);
an assignee or status change is a ``PUT /tickets/{id}``; a hand-off is
``POST /tickets``. Bodies are HTML, so operator text is always escaped.
Freshservice assigns by agent id only, and needs a requester e-mail to create
a ticket: ``default_requester_email`` is used when the hand-off's requester is
a name. There is no field we can search to find an earlier create again, so
``create_dedupe`` is ``None`` and a failed create is never retried blindly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConfigurationError
from connectors.freshservice.mapping import format_timestamp, ticket_to_record
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = ["FreshserviceConnector"]

TICKETS_PATH = "/api/v2/tickets"
ME_PATH = "/api/v2/agents/me"
EMBEDS = "requester,stats"
"""Documented embeds of the list call; each costs one more API credit per request."""
DEFAULT_BACKFILL_DAYS = 30.0
MAX_BACKFILL_DAYS = 3650
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
OVERLAP = timedelta(seconds=60)
"""How far before the cursor each poll reaches, so a same-second update is never missed."""
DEFAULT_MAX_PAGES = 500
"""Pages per poll before we give up on this poll (a guard against a runaway listing)."""
RATE_HEADERS = RateHeaders("x-ratelimit-remaining", "x-ratelimit-total")
"""Freshservice reports no reset time: its window is the current minute."""
STATUS_OUT: Mapping[TicketStatus, int] = {
    TicketStatus.NEW: 2,  # Freshservice has no "new": a fresh ticket is Open
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.RESOLVED: 4,
    TicketStatus.CLOSED: 5,
}
PRIORITY_OUT: Mapping[Priority, int] = {
    Priority.P1: 4,  # Urgent
    Priority.P2: 3,  # High
    Priority.P3: 2,  # Medium
    Priority.P4: 1,  # Low
    Priority.P5: 1,
}
DEFAULT_PRIORITY = 2
"""Medium, for a hand-off whose source had no priority (P3, as elsewhere)."""
SOURCE_PORTAL = 2
"""Freshservice ``source`` code of a ticket raised through the portal/API."""
_AGENT_ID = re.compile(r"(?:agent\s+)?(\d+)", re.IGNORECASE)
"""An agent id, bare or as the connector shows it (``agent 21001397559``)."""


class FreshserviceConnector(Connector):
    """Polls ``https://{domain}.freshservice.com`` with an agent's API key."""

    kind: ClassVar[str] = "freshservice"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",),)
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.ASSIGN, ActionKind.SET_STATUS, ActionKind.CREATE}
    )
    create_dedupe: ClassVar[str | None] = None
    """Freshservice has no external-id field a create could be found again by."""

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.overrides = Overrides.from_config(config)
        self.budget = RateBudget(RATE_HEADERS)
        """Paces requests from ``X-RateLimit-Remaining`` before Freshservice has to say 429."""

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also reject overrides and numeric settings that could never work."""
        super().validate(config)
        Overrides.from_config(config)
        _backfill(config)
        _page_size(config)
        _max_pages(config)
        fallback = config.get("default_requester_email")
        if fallback is not None and "@" not in fallback:
            raise ConfigurationError(
                f"vendor {config.name!r}: default_requester_email must be an e-mail address"
            )

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """Basic auth with the API key as user name and ``X`` as the (ignored) password."""
        return httpx2.BasicAuth(config.require("api_key"), "X")

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/api/v2`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_site_url(config)))

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every ticket updated since ``cursor`` (the backfill window when ``None``)."""
        saved = _saved_position(cursor)
        since = saved - OVERLAP if saved else datetime.now(UTC) - _backfill(self.config)
        params: dict[str, Any] = {
            "updated_since": format_timestamp(since),
            "per_page": _page_size(self.config),
            "order_type": "asc",
            "include": EMBEDS,
        }
        workspace = self.config.get("workspace_id")
        if workspace is not None:
            params["workspace_id"] = workspace
        base_url = _site_url(self.config)
        newest: dict[int, TicketRecord] = {}
        page: int | None = 1
        requests = 0
        max_pages = _max_pages(self.config)
        while page is not None and requests < max_pages:
            requests += 1
            response = await send(
                self.client,
                "GET",
                TICKETS_PATH,
                params={**params, "page": page},
                budget=self.budget,
            )
            for row in _tickets(response):
                record = ticket_to_record(row, base_url=base_url, overrides=self.overrides)
                ticket_id = int(record.external_id)
                seen = newest.get(ticket_id)
                if seen is None or record.updated_at >= seen.updated_at:
                    newest[ticket_id] = record
            page = _next_page(response, page)
        records = tuple(newest.values())
        if page is not None:
            # Stopped by the page guard: later pages may hold older updates, so the
            # cursor must not move past them; the next poll reads this window again.
            return PollResult(tickets=records, cursor=cursor, requests=requests)
        latest = max((r.updated_at for r in records), default=None)
        if latest is None or (saved is not None and latest <= saved):
            return PollResult(tickets=records, cursor=cursor, requests=requests)
        return PollResult(
            tickets=records,
            cursor={"updated_since": format_timestamp(latest)},
            requests=requests,
        )

    async def check(self) -> str:
        """``agents/me``: proves the key and names the agent it belongs to."""
        response = await send(self.client, "GET", ME_PATH, budget=self.budget)
        body = decode_json(response)
        agent = body.get("agent") if isinstance(body, Mapping) else None
        if not isinstance(agent, Mapping):
            raise BadPayload("Freshservice agents/me answer has no agent")
        parts = [agent.get("first_name"), agent.get("last_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        return one_line(clean_text(f"ok, signed in as {name or 'an unnamed agent'}"), 120)

    # -- write-back ----------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """Notes and replies are POSTs of HTML; assignee and status one ticket PUT."""
        if action.kind is ActionKind.CREATE:
            return (PlannedRequest("POST", TICKETS_PATH, body=self._new_ticket(action)),)
        ticket_path = f"{TICKETS_PATH}/{_ticket_number(action)}"
        if action.kind is ActionKind.COMMENT:
            return (_comment(ticket_path, action.text, public=action.public),)
        if action.kind is ActionKind.ASSIGN:
            return (PlannedRequest("PUT", ticket_path, body={"responder_id": _agent(action)}),)
        if action.kind is ActionKind.SET_STATUS and action.status is not None:
            change = PlannedRequest("PUT", ticket_path, body={"status": STATUS_OUT[action.status]})
            if not action.text.strip():
                return (change,)
            # A ticket PUT carries no note: the reason follows as a private note.
            return (change, _comment(ticket_path, action.text, public=False))
        raise UnsupportedAction(f"freshservice cannot {action.kind.label}")

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan in order; for a create, read the new ticket's id from the answer."""
        response: httpx2.Response | None = None
        for request in self.plan(action):
            response = await self.send_planned(request)
        assert response is not None  # every plan holds at least one request
        status = f"HTTP {response.status_code}"
        if action.kind is ActionKind.COMMENT:
            what = "reply sent" if action.public else "private note added"
            return ActionResult(f"{status}: {what}", response.status_code)
        if action.kind is not ActionKind.CREATE:
            return ActionResult(f"{status}: ticket updated", response.status_code)
        body = decode_json(response) if response.content else None
        ticket = body.get("ticket") if isinstance(body, Mapping) else None
        new_id = ticket.get("id") if isinstance(ticket, Mapping) else None
        if not isinstance(new_id, int) or isinstance(new_id, bool):
            raise BadPayload(
                "Freshservice create answer has no ticket id", http_status=response.status_code
            )
        return ActionResult(
            f"{status}: created #{new_id}", response.status_code, str(new_id), f"#{new_id}"
        )

    def _new_ticket(self, action: Action) -> dict[str, Any]:
        """The create body: requester e-mail, subject, escaped HTML description, codes."""
        handoff = action.handoff
        assert handoff is not None  # Action guarantees it for CREATE
        who = (handoff.requester or "").strip()
        email = who if "@" in who else self.config.get("default_requester_email")
        if email is None:
            raise UnsupportedAction(
                "Freshservice needs the requester's e-mail to create a ticket; the hand-off "
                "names none, so set default_requester_email for this vendor"
            )
        ticket: dict[str, Any] = {
            "email": email,
            "subject": one_line(handoff.title, 255) or "(no subject)",
            "description": _handoff_html(action),
            "priority": PRIORITY_OUT[handoff.priority] if handoff.priority else DEFAULT_PRIORITY,
            "status": STATUS_OUT[TicketStatus.OPEN],
            "source": SOURCE_PORTAL,
        }
        workspace = self.config.get("workspace_id")
        if workspace is not None and workspace.isdigit():
            ticket["workspace_id"] = int(workspace)
        return ticket


def _ticket_number(action: Action) -> int:
    """Freshservice addresses tickets by their integer id."""
    text = (action.ticket_id or "").strip().removeprefix("#")
    if not text.isdigit():
        raise UnsupportedAction(f"Freshservice ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


def _agent(action: Action) -> int:
    """Freshservice assigns by agent id only (names and e-mails are not accepted)."""
    match = _AGENT_ID.fullmatch(action.assignee.strip())
    if match is None:
        raise UnsupportedAction(
            "Freshservice assigns by agent id (a number such as 21001397559), not by name or e-mail"
        )
    return int(match[1])


def _comment(ticket_path: str, text: str, *, public: bool) -> PlannedRequest:
    """A public reply or a private note; the body is HTML, so the text is escaped."""
    if public:
        return PlannedRequest("POST", f"{ticket_path}/reply", body={"body": _html(text)})
    return PlannedRequest(
        "POST", f"{ticket_path}/notes", body={"body": _html(text), "private": True}
    )


def _html(text: str) -> str:
    """Operator text as one HTML paragraph: escaped, line breaks kept."""
    lines = clean_text(text).strip().split("\n")
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


def _handoff_html(action: Action) -> str:
    """The new ticket's description: the source text, where it came from, its link."""
    handoff = action.handoff
    assert handoff is not None
    parts = [_html(handoff.description)] if handoff.description.strip() else []
    parts.append(_html(f"Handed off from {handoff.source_vendor} {handoff.source_key}"))
    if handoff.requester and "@" not in handoff.requester:
        parts.append(_html(f"Requester: {handoff.requester}"))
    if handoff.asset:
        parts.append(_html(f"Asset: {handoff.asset}"))
    url = (handoff.source_url or "").strip()
    if url.startswith(("https://", "http://")):
        link = html.escape(url, quote=True)
        parts.append(f'<p><a href="{link}">{link}</a></p>')
    elif url:
        parts.append(_html(url))
    return "".join(parts)


def _tickets(response: httpx2.Response) -> list[Any]:
    body = decode_json(response)
    rows = body.get("tickets") if isinstance(body, Mapping) else None
    if not isinstance(rows, list):
        raise BadPayload("Freshservice ticket list answer has no tickets list")
    return rows


def _next_page(response: httpx2.Response, current: int) -> int | None:
    """The ``page`` of the ``rel="next"`` link, or ``None`` when there is none.

    Only the page number is taken from the link: the request is rebuilt on our
    own base URL, so credentials never follow a link to another host.
    """
    link = response.links.get("next")
    if link is None:
        return None
    pages = parse_qs(urlsplit(link.get("url", "")).query).get("page")
    if not pages or not pages[0].isdigit():
        raise BadPayload("Freshservice next link carries no page number")
    following = int(pages[0])
    if following <= current:
        raise BadPayload(f"Freshservice next link goes back to page {following}: no progress")
    return following


def _saved_position(cursor: Cursor | None) -> datetime | None:
    """The ``updated_since`` this connector saved; anything else means "backfill"."""
    value: Any = cursor.get("updated_since") if isinstance(cursor, dict) else None
    try:
        return parse_iso(value) if isinstance(value, str) else None
    except BadPayload:
        return None


def _site_url(config: VendorConfig) -> str:
    return config.base_url.rstrip("/").removesuffix("/api/v2")


def _backfill(config: VendorConfig) -> timedelta:
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if not 0 <= days <= MAX_BACKFILL_DAYS:
        raise ConfigurationError(
            f"vendor {config.name!r}: backfill_days must be from 0 to {MAX_BACKFILL_DAYS}"
        )
    return timedelta(days=days)


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

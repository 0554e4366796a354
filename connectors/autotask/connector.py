"""The Autotask PSA connector: tickets whose ``lastActivityDate`` moved since the cursor.

A tenant lives in one zone: the first call asks ``zoneInformation`` which
``webservicesN`` host serves the API user, and every later call goes there.
Zone and page URLs come from the vendor's answers while our credentials ride
on every request, so a URL is followed only to the configured host, to a host
of Autotask's documented ``webservicesN.autotask.net`` pattern when the
configured host is one too, or to loopback when the configured host is
loopback; anything else is refused before a byte is sent.

One poll: ``POST V1.0/Tickets/query`` with ``lastActivityDate gte`` (cursor
minus an overlap), then ``pageDetails.nextPageUrl`` until it is null, POSTed
with the same body (a live tenant answers 405 to a GET there). A short or empty
page with a next URL is not the end: rows the API user's security level hides
still count against ``MaxRecords``.

Pacing: Autotask sends no rate-limit headers. It allows 10,000 requests per
rolling hour per database, shared by every integration, slows answers past
half of that and refuses all integrations at the cap. So a poll reads
``ThresholdInformation`` first (at most once per poll, and only every five
minutes while usage is under half), feeds the reading into :class:`RateBudget`
and counts its own requests down from it: past three quarters used, every
request waits a second; at the cap the poll stops with :class:`RateLimited`
instead of adding to an outage every integration shares.

Write-back (vendor-apis.md §7.9), every path under the zone's API root:

* comment: ``POST V1.0/Tickets/{id}/Notes`` with ``ticketID``, ``title``,
  ``description``, ``noteType`` (setting ``note_type``, default ``1``) and
  ``publish``. TicketNotes' publish picklist: ``1`` "All Autotask Users" is
  the state client-portal users can read, so a public comment; ``2``
  "Internal Project Team" is an internal one.
* assign: ``PATCH V1.0/Tickets`` with ``assignedResourceID`` (a numeric
  resource id) and ``assignedResourceRoleID`` (setting ``assign_role_id``):
  Autotask refuses a resource without its role.
* set status: ``PATCH V1.0/Tickets`` with a status code: a ``status_map``
  code for that status, else New 1, In Progress 8, Waiting Customer 7,
  Complete 5 (resolved and closed both complete: Autotask fixes no other end
  state). Codes come from config only, never from a poll, so the dry run is
  exactly what is sent. Completing sends ``resolution`` too, as tenant rules
  may ask.
* create: ``POST V1.0/Tickets`` with ``companyID`` (setting ``company_id``),
  title, description, status New, priority, optional ``queueID`` (setting
  ``queue_id``) and ``externalID`` = the hand-off's correlation, which
  ``find_existing`` queries so a retried create never makes a second ticket.
  The answer is ``{"itemId": N}``; one ``GET Tickets/N`` learns the
  ``ticketNumber`` the connector shows as the key.

Autotask answers a refused write with HTTP 500 and ``{"errors": [...]}``
(validation and business rules alike); on a write that is a refusal, not an
outage, so it becomes a plain :class:`ConnectorError` that is not retried
blindly (a retried note would post twice).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.autotask.mapping import (
    MappingContext,
    Picklists,
    parse_autotask_time,
    ticket_to_record,
)
from connectors.base import Connector, VendorConfig
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketStatus
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = ["AutotaskConnector", "Zone", "is_trusted_api_url", "is_trusted_web_url"]

ZONE_PATH = "/atservicesrest/v1.0/zoneInformation"
API_VERSION = "V1.0/"
TICKET_FIELDS = (
    "id",
    "ticketNumber",
    "title",
    "status",
    "priority",
    "queueID",
    "assignedResourceID",
    "companyID",
    "contactID",
    "configurationItemID",
    "createDate",
    "lastActivityDate",
    "lastTrackedModificationDateTime",
    "dueDateTime",
    "completedDate",
    "resolvedDateTime",
    "firstResponseDateTime",
    "firstResponseDueDateTime",
    "resolvedDueDateTime",
    "serviceLevelAgreementID",
    "serviceLevelAgreementHasBeenMet",
    "ticketType",
    "source",
)
"""``IncludeFields`` of the ticket query; ``id`` must be among them for paging past 500."""

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 500
DEFAULT_BACKFILL_DAYS = 30.0
OVERLAP = timedelta(seconds=60)
"""Re-read the last minute so an update sharing the cursor's instant is never missed."""
MAX_PAGES = 2_000
"""A guard against a next URL that never ends (a million tickets)."""
NAME_CHUNK = 200
"""Ids per ``in`` condition (Autotask allows 500 conditions per query)."""
PICKLIST_TTL = 3600.0
"""Seconds before the tenant's picklists are read again (admins add queues and statuses)."""
THRESHOLD_RECHECK = 300.0
"""Seconds between ``ThresholdInformation`` reads while usage stays under half."""
THRESHOLD_SLOW_SHARE = 0.25
"""Remaining share of the hourly threshold below which every request waits a second."""
THRESHOLD_RETRY = 300.0
"""Seconds to wait when the tenant is at its cap (the window rolls; there is no reset time)."""
THRESHOLD_HEADERS = RateHeaders(remaining="threshold-remaining", limit="threshold-limit")
"""Names under which the ``ThresholdInformation`` reading is fed to the budget.

Autotask sends no such headers, so :meth:`RateBudget.observe` never finds them
on a response and only the connector's own readings change the budget.
"""

WRITE_TICKETS = "/V1.0/Tickets"
"""Ticket create and update, relative to the zone's API root (``…/atservicesrest``)."""
ZONE_NOTE = "path under the tenant's zone API root, from zoneInformation"
"""Dry-run note: the host is learned at send time, so the plan shows the path only."""
NOTE_PUBLISH_ALL = 1
"""TicketNotes ``publish`` "All Autotask Users": visible to client-portal users too."""
NOTE_PUBLISH_INTERNAL = 2
"""TicketNotes ``publish`` "Internal Project Team": for the service desk only."""
DEFAULT_NOTE_TYPE = 1
"""TicketNotes ``noteType`` used unless ``note_type`` says otherwise (tenant picklist)."""
STATUS_NEW = 1
"""System status New: every Autotask tenant has it."""
STATUS_PREFERRED: Mapping[TicketStatus, str] = {
    TicketStatus.NEW: "1",  # New (system)
    TicketStatus.OPEN: "8",  # In Progress
    TicketStatus.PENDING: "7",  # Waiting Customer
    TicketStatus.RESOLVED: "5",  # Complete (system): there is no fixed "resolved"
    TicketStatus.CLOSED: "5",  # Complete (system)
}
"""The code sent for each status unless a ``status_map`` code says otherwise."""
PRIORITY_PREFERRED: Mapping[Priority, str] = {
    Priority.P1: "4",  # Critical
    Priority.P2: "1",  # High
    Priority.P3: "2",  # Medium
    Priority.P4: "3",  # Low
    Priority.P5: "3",  # Low (the default picklist has nothing lower)
}
DEFAULT_RESOLUTION = "Resolved from paneglass."
"""Sent with a completing status when the operator gave no text (tenant rules may need one)."""
EXTERNAL_ID_LIMIT = 50
"""Length of the Tickets ``externalID`` field."""
TITLE_LIMIT = 255
DESCRIPTION_LIMIT = 8000
NOTE_TITLE_LIMIT = 250

_AUTOTASK_API_HOST = re.compile(r"^webservices\d*\.autotask\.net$")
_AUTOTASK_WEB_HOST = re.compile(r"^[a-z0-9-]+\.autotask\.net$")
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class Zone:
    """Where the tenant lives: the API root (ends in ``/``) and, when safe, the web UI root."""

    name: str
    api_url: str
    web_url: str | None

    def endpoint(self, path: str) -> str:
        """``V1.0/{path}`` under the zone's API root."""
        return f"{self.api_url}{API_VERSION}{path}"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_trusted_api_url(url: str, base_url: str) -> bool:
    """May our credentials be sent to ``url``, given the configured ``base_url``?"""
    target, base = urlsplit(url), urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.hostname or target.username:
        return False
    if _is_loopback(base.hostname):
        return _is_loopback(target.hostname)
    if target.scheme != "https":
        return False
    if target.hostname == base.hostname and target.port == base.port:
        return True
    return (
        target.port is None
        and _AUTOTASK_API_HOST.match(target.hostname) is not None
        and _AUTOTASK_API_HOST.match(base.hostname or "") is not None
    )


def is_trusted_web_url(url: str, base_url: str) -> bool:
    """May ticket links point at ``url``: loopback for a loopback base, else Autotask https."""
    target, base = urlsplit(url), urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.hostname or target.username:
        return False
    if target.query or target.fragment:
        return False
    if _is_loopback(base.hostname):
        return _is_loopback(target.hostname)
    if target.scheme != "https":
        return False
    return target.hostname == base.hostname or (
        target.port is None and _AUTOTASK_WEB_HOST.match(target.hostname) is not None
    )


class AutotaskConnector(Connector):
    """Polls one Autotask (Datto/Kaseya PSA) tenant with an API-only user."""

    budget: RateBudget
    kind: ClassVar[str] = "autotask"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("username", "secret", "integration_code"),
    )
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.ASSIGN, ActionKind.SET_STATUS, ActionKind.CREATE}
    )
    create_dedupe: ClassVar[str | None] = "externalID"

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.page_size = _page_size(config)
        self.backfill = timedelta(days=_backfill_days(config))
        self.resolve_names = (config.get("resolve_names") or "true").strip().lower() not in _FALSE
        self.overrides = Overrides.from_config(config)
        self.budget = RateBudget(THRESHOLD_HEADERS, low_share=THRESHOLD_SLOW_SHARE)
        """Paces requests from the tenant's ``ThresholdInformation`` reading."""
        self.threshold_checked_at: float | None = None
        self.zone: Zone | None = None
        """The tenant's zone, looked up once per connector instance."""
        self._picklists: Picklists | None = None
        self._picklists_read_at = 0.0
        self._names: dict[str, dict[int, str | None]] = {}
        self._names_refused: set[str] = set()
        self._requests = 0

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check overrides and numbers before the first poll."""
        super().validate(config)
        Overrides.from_config(config)
        _page_size(config)
        _backfill_days(config)
        for key in ("company_id", "queue_id", "assign_role_id", "note_type"):
            _optional_id(config, key)

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """Autotask has no Basic auth: three headers on every request."""
        return {
            "ApiIntegrationCode": config.require("integration_code"),
            "UserName": config.require("username"),
            "Secret": config.require("secret"),
        }

    # -- the contract ----------------------------------------------------------------

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every ticket whose activity moved since the cursor (minus the overlap), newest copy."""
        self._requests = 0
        started = datetime.now(UTC)
        zone = await self._zone()
        await self._pace(zone)
        picklists = await self._tenant_picklists(zone)
        since = self._since(cursor, started)
        query = [{"op": "gte", "field": "lastActivityDate", "value": _iso(since)}]
        newest: dict[int, tuple[datetime, Mapping[str, Any]]] = {}
        async for item in self._query(zone, "Tickets", query, TICKET_FIELDS):
            ticket_id = item.get("id")
            if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                raise BadPayload("Autotask ticket without an integer id")
            stamp = _activity(item)
            seen = newest.get(ticket_id)
            if seen is None or stamp >= seen[0]:
                newest[ticket_id] = (stamp, item)
        items = [item for _, item in newest.values()]
        context = MappingContext(
            now=datetime.now(UTC),
            picklists=picklists,
            overrides=self.overrides,
            resources=await self._names_of(zone, "Resources", items, "assignedResourceID"),
            contacts=await self._names_of(zone, "Contacts", items, "contactID"),
            companies=await self._names_of(
                zone, "Companies", [i for i in items if not _has_id(i, "contactID")], "companyID"
            ),
            assets=await self._names_of(zone, "ConfigurationItems", items, "configurationItemID"),
            web_url=zone.web_url,
        )
        records = tuple(ticket_to_record(item, context) for item in items)
        next_cursor = cursor
        if records:
            # Pages run in id order, so a ticket on an earlier page may change while
            # later pages are read; never move past the poll's own start.
            newest_seen = max(r.updated_at for r in records)
            next_cursor = {"since": min(newest_seen, started).isoformat()}
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """Zone lookup plus ``Tickets/entityInformation``: proves credentials and ticket access."""
        self._requests = 0
        zone = await self._zone()
        body = await self._get(zone.endpoint("Tickets/entityInformation"))
        info = body.get("info")
        if not isinstance(info, Mapping):
            raise BadPayload("Autotask entityInformation answer has no info")
        if info.get("canQuery") is False:
            raise ConnectorError("the API user's security level may not query tickets")
        return one_line(clean_text(f"ok, zone {zone.name}"), 120)

    # -- write-back ------------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """Notes are a child POST; assignee and status a sparse PATCH; a hand-off a POST.

        Pure and config-only, so the dry run equals what :meth:`perform` sends.
        """
        if action.kind is ActionKind.CREATE:
            return (_write("POST", WRITE_TICKETS, self._new_ticket(action)),)
        ticket_id = _ticket_number(action)
        if action.kind is ActionKind.COMMENT:
            return (self._note(ticket_id, action.text, public=action.public),)
        if action.kind is ActionKind.ASSIGN:
            role = _optional_id(self.config, "assign_role_id")
            if role is None:
                raise UnsupportedAction(
                    "Autotask assigns a resource together with a role: set assign_role_id "
                    "for this vendor"
                )
            assign = {
                "id": ticket_id,
                "assignedResourceID": _resource(action.assignee),
                "assignedResourceRoleID": role,
            }
            return (_write("PATCH", WRITE_TICKETS, assign),)
        if action.kind is ActionKind.SET_STATUS and action.status is not None:
            code = self._status_code(action.status)
            change: dict[str, Any] = {"id": ticket_id, "status": int(code)}
            completes = action.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
            if completes:
                change["resolution"] = action.text.strip() or DEFAULT_RESOLUTION
            patch = _write("PATCH", WRITE_TICKETS, change)
            if completes or not action.text.strip():
                return (patch,)
            return (patch, self._note(ticket_id, action.text, public=False))
        raise UnsupportedAction(f"autotask cannot {action.kind.label}")

    async def perform(self, action: Action) -> ActionResult:
        """Find the zone, send the plan; a create also reads its new ticket's number."""
        self._requests = 0
        planned = self.plan(action)  # refuses what cannot be sent before any request
        zone = await self._zone()
        await self._pace(zone)  # a write adds to the tenant's shared hourly threshold
        response: httpx2.Response | None = None
        for request in planned:
            response = await self.send_planned(request)
        assert response is not None  # every plan holds at least one request
        item_id = _item_id(response)
        status = f"HTTP {response.status_code}"
        if action.kind is ActionKind.COMMENT:
            # The note exists once Autotask said 2xx; a missing itemId must not invite a
            # retry that would post it twice.
            what = f"note {item_id} added" if item_id is not None else "note added"
            return ActionResult(f"{status}: {what}", response.status_code)
        if action.kind is not ActionKind.CREATE:
            return ActionResult(f"{status}: ticket updated", response.status_code)
        if item_id is None:
            # Safe to fail: a retry first finds the ticket again by its externalID.
            raise BadPayload(
                "Autotask create answer has no itemId", http_status=response.status_code
            )
        try:
            body = await self._get(zone.endpoint(f"Tickets/{item_id}"))
        except ConnectorError as exc:
            # The ticket exists; only its number is unknown until the next poll.
            return ActionResult(
                f"{status}: created ticket {item_id} (number not read: {exc})",
                response.status_code,
                str(item_id),
            )
        item = body.get("item")
        number = item.get("ticketNumber") if isinstance(item, Mapping) else None
        key = number.strip() if isinstance(number, str) and number.strip() else str(item_id)
        return ActionResult(f"{status}: created {key}", response.status_code, str(item_id), key)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The ticket whose ``externalID`` already holds this hand-off's correlation."""
        if action.handoff is None:
            return None
        zone = await self._zone()
        wanted = _external_id(action.handoff.correlation)
        query = [{"op": "eq", "field": "externalID", "value": wanted}]
        async for item in self._query(zone, "Tickets", query, ("id", "ticketNumber", "externalID")):
            if not _has_id(item, "id") or item.get("externalID") != wanted:
                continue
            number = item.get("ticketNumber")
            key = number.strip() if isinstance(number, str) and number.strip() else str(item["id"])
            return ActionResult(
                f"already at Autotask as {key}", 200, str(item["id"]), key, existing=True
            )
        return None

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Send one write to the zone; a 500 refusal is a plain error, not an outage."""
        zone = await self._zone()
        self._requests += 1
        if self.budget.remaining is not None:
            self.budget.remaining = max(self.budget.remaining - 1, 0)
        try:
            return await send(
                self.client,
                request.method,
                f"{zone.api_url}{request.path.lstrip('/')}",
                params=dict(request.params) or None,
                json_body=request.body,
                budget=self.budget,
            )
        except TransientError as exc:
            if exc.http_status != 500:
                raise
            raise ConnectorError(str(exc), http_status=500) from None

    def _note(self, ticket_id: int, text: str, *, public: bool) -> PlannedRequest:
        clean = clean_text(text).strip()
        title = one_line(clean, NOTE_TITLE_LIMIT) or "Note"
        body = {
            "ticketID": ticket_id,
            "title": title,
            "description": clean,
            "noteType": _optional_id(self.config, "note_type") or DEFAULT_NOTE_TYPE,
            "publish": NOTE_PUBLISH_ALL if public else NOTE_PUBLISH_INTERNAL,
        }
        return _write("POST", f"{WRITE_TICKETS}/{ticket_id}/Notes", body)

    def _new_ticket(self, action: Action) -> dict[str, Any]:
        """The create body: the company (required), New, the mapped priority, the dedupe key."""
        handoff = action.handoff
        assert handoff is not None  # Action guarantees it for CREATE
        company = _optional_id(self.config, "company_id")
        if company is None:
            raise UnsupportedAction(
                "Autotask needs a company for every ticket: set company_id for this vendor"
            )
        lines = [handoff.description.strip()] if handoff.description.strip() else []
        lines.append(f"Handed off from {handoff.source_vendor} {handoff.source_key}")
        if handoff.requester:
            lines.append(f"Requester: {handoff.requester}")
        if handoff.asset:
            lines.append(f"Asset: {handoff.asset}")
        if handoff.source_url:
            lines.append(handoff.source_url)
        description = clean_text("\n\n".join(lines))
        if len(description) > DESCRIPTION_LIMIT:
            description = description[: DESCRIPTION_LIMIT - 1] + "…"
        ticket: dict[str, Any] = {
            "companyID": company,
            "title": one_line(clean_text(handoff.title), TITLE_LIMIT) or "(no title)",
            "description": description,
            "status": STATUS_NEW,
            "priority": int(self._priority_code(handoff.priority or Priority.P3)),
            "externalID": _external_id(handoff.correlation),
        }
        queue = _optional_id(self.config, "queue_id")
        if queue is not None:
            ticket["queueID"] = queue
        return ticket

    def _status_code(self, wanted: TicketStatus) -> str:
        """The connector's status mapping reversed, from config alone.

        A ``status_map`` code mapped to ``wanted`` wins; else the usual code:
        New 1, In Progress 8, Waiting Customer 7, Complete 5 (Autotask has no
        fixed "resolved", so resolving completes). Never the picklist read by a
        poll: the dry run plans on a connector that has not polled, and it must
        show exactly what will be sent.
        """
        for code, status in self.overrides.statuses.items():
            if code.isdigit() and status is wanted:
                return code
        return STATUS_PREFERRED[wanted]

    def _priority_code(self, wanted: Priority) -> str:
        """The priority mapping reversed like :meth:`_status_code` (P5 shares Low with P4)."""
        for code, priority in self.overrides.priorities.items():
            if code.isdigit() and priority is wanted:
                return code
        return PRIORITY_PREFERRED[wanted]

    # -- zone and pacing -------------------------------------------------------------

    async def _zone(self) -> Zone:
        """The tenant's zone, asked once per instance, every URL in it vetted."""
        if self.zone is not None:
            return self.zone
        url = f"{_service_root(self.config.base_url)}{ZONE_PATH}"
        body = await self._get(url, params={"user": self.config.require("username")})
        api_url = body.get("url")
        if not isinstance(api_url, str) or not api_url.strip():
            raise BadPayload("Autotask zoneInformation named no API url for this user")
        api_url = _tidy_api_url(api_url)
        if not is_trusted_api_url(api_url, self.config.base_url):
            raise ConfigurationError(
                f"vendor {self.config.name!r}: Autotask zoneInformation points at "
                f"{_host(api_url)!r}, which is neither the configured host nor an Autotask "
                "webservices host; set base_url to your zone's host"
            )
        web_url = body.get("webUrl")
        safe_web = (
            web_url.strip()
            if isinstance(web_url, str)
            and is_trusted_web_url(web_url.strip(), self.config.base_url)
            else None
        )
        name = body.get("zoneName")
        self.zone = Zone(
            name=name.strip() if isinstance(name, str) and name.strip() else _host(api_url),
            api_url=api_url,
            web_url=safe_web,
        )
        return self.zone

    async def _pace(self, zone: Zone) -> None:
        """Read ``ThresholdInformation`` (at most once a poll) and stop at the tenant's cap."""
        checked = self.threshold_checked_at
        limit, remaining = self.budget.limit, self.budget.remaining
        relaxed = limit is not None and remaining is not None and remaining > limit / 2
        if checked is not None and relaxed and time.monotonic() - checked < THRESHOLD_RECHECK:
            return
        try:
            body = await self._get(zone.endpoint("ThresholdInformation"))
        except ConnectorError as exc:
            if not _optional_extra_failed(exc):
                raise
            return  # pacing is advisory: a refused reading must not stop ticket polling
        threshold = _count(body.get("externalRequestThreshold"))
        used = _count(body.get("currentTimeframeRequestCount"))
        if threshold is None or used is None or threshold <= 0:
            return
        self.threshold_checked_at = time.monotonic()
        self.budget.observe(
            {
                THRESHOLD_HEADERS.remaining: str(max(threshold - used, 0)),
                str(THRESHOLD_HEADERS.limit): str(threshold),
            }
        )
        if used >= threshold:
            raise RateLimited(
                f"Autotask API threshold reached: {used:,} of {threshold:,} requests "
                "in the rolling hour",
                retry_after=THRESHOLD_RETRY,
                http_status=None,
            )

    # -- picklists and names ------------------------------------------------------------

    async def _tenant_picklists(self, zone: Zone) -> Picklists:
        """Status, priority and queue labels, cached per instance for an hour."""
        fresh = time.monotonic() - self._picklists_read_at < PICKLIST_TTL
        if self._picklists is not None and fresh:
            return self._picklists
        try:
            body = await self._get(zone.endpoint("Tickets/entityInformation/fields"))
            picklists = Picklists.from_fields(body)
        except ConnectorError as exc:
            if not _optional_extra_failed(exc):
                raise
            picklists = Picklists()  # codes still map; raw_status shows the code
        self._picklists, self._picklists_read_at = picklists, time.monotonic()
        return picklists

    async def _names_of(
        self, zone: Zone, entity: str, items: Iterable[Mapping[str, Any]], field: str
    ) -> Mapping[int, str]:
        """Names for the ids in ``field``, from a per-instance cache plus one ``in`` query."""
        cache = self._names.setdefault(entity, {})
        wanted = {i[field] for i in items if _has_id(i, field)}
        missing = sorted(wanted - cache.keys())
        if missing and self.resolve_names and entity not in self._names_refused:
            try:
                for start in range(0, len(missing), NAME_CHUNK):
                    chunk = missing[start : start + NAME_CHUNK]
                    cache.update(dict.fromkeys(chunk))  # ids we may not see stay unnamed
                    query = [{"op": "in", "field": "id", "value": chunk}]
                    async for row in self._query(zone, entity, query, _NAME_FIELDS[entity]):
                        if _has_id(row, "id"):
                            cache[row["id"]] = _display_name(entity, row)
            except ConnectorError as exc:
                if not _optional_extra_failed(exc):
                    raise
                self._names_refused.add(entity)  # this security level cannot read them
        return {i: name for i in wanted if (name := cache.get(i))}

    # -- HTTP ------------------------------------------------------------------------------

    async def _query(
        self,
        zone: Zone,
        entity: str,
        query: list[dict[str, Any]],
        fields: Iterable[str],
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Every item of one query, following ``nextPageUrl`` until it is null."""
        body = {"MaxRecords": self.page_size, "IncludeFields": list(fields), "filter": query}
        url = zone.endpoint(f"{entity}/query")
        visited = {url}
        for _ in range(MAX_PAGES):
            page = await self._post(url, body)
            items = page.get("items")
            if not isinstance(items, list):
                raise BadPayload(f"Autotask {entity} query answer has no items list")
            for item in items:
                if not isinstance(item, Mapping):
                    raise BadPayload(f"Autotask {entity} query item is not an object")
                yield item
            details = page.get("pageDetails")
            next_url = details.get("nextPageUrl") if isinstance(details, Mapping) else None
            if next_url is None or next_url == "":
                return
            if not isinstance(next_url, str):
                raise BadPayload("Autotask nextPageUrl is not text")
            url = self._next_page_url(zone, next_url)
            if url in visited:
                raise BadPayload("Autotask nextPageUrl repeats a page already read: no progress")
            visited.add(url)
        raise BadPayload(f"Autotask offered more than {MAX_PAGES} pages")

    def _next_page_url(self, zone: Zone, next_url: str) -> str:
        """The next page's absolute URL, only on the zone's own API host and path."""
        url = next_url.strip()
        if not urlsplit(url).scheme:
            url = urljoin(zone.endpoint(""), url.lstrip("/"))
        target, api = urlsplit(url), urlsplit(zone.api_url)
        same_origin = (target.scheme, target.netloc.lower()) == (api.scheme, api.netloc.lower())
        if not same_origin or not target.path.lower().startswith(api.path.lower()):
            raise BadPayload(
                f"Autotask nextPageUrl leaves the zone's API ({_host(url)!r}); not followed"
            )
        return url

    async def _get(self, url: str, params: dict[str, str] | None = None) -> Mapping[str, Any]:
        self._requests += 1
        response = await send(self.client, "GET", url, params=params, budget=self.budget)
        return self._object(response, url)

    async def _post(self, url: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self._requests += 1
        response = await send(self.client, "POST", url, json_body=body, budget=self.budget)
        return self._object(response, url)

    def _object(self, response: httpx2.Response, url: str) -> Mapping[str, Any]:
        """The JSON object of a 2xx answer; each request also spends one of the hour's budget."""
        if self.budget.remaining is not None:
            self.budget.remaining = max(self.budget.remaining - 1, 0)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Autotask {urlsplit(url).path} answer is not a JSON object")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and "items" not in body and "item" not in body:
            text = one_line(clean_text(str(errors[0])), 160)
            raise ConnectorError(
                f"HTTP {response.status_code}: {text}", http_status=response.status_code
            )
        return body

    # -- cursor -------------------------------------------------------------------------------

    def _since(self, cursor: Cursor | None, now: datetime) -> datetime:
        """The cursor minus the overlap, else the backfill window; a foreign cursor backfills."""
        saved = cursor.get("since") if isinstance(cursor, dict) else None
        try:
            parsed = parse_iso(saved) if isinstance(saved, str) else None
        except BadPayload:
            parsed = None
        if parsed is not None:
            return parsed - OVERLAP
        return now - self.backfill


_NAME_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Resources": ("id", "firstName", "lastName"),
    "Contacts": ("id", "firstName", "lastName"),
    "Companies": ("id", "companyName"),
    "ConfigurationItems": ("id", "referenceTitle"),
}


def _display_name(entity: str, row: Mapping[str, Any]) -> str | None:
    if entity == "Companies":
        parts = [row.get("companyName")]
    elif entity == "ConfigurationItems":
        parts = [row.get("referenceTitle")]
    else:
        parts = [row.get("firstName"), row.get("lastName")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return name or None


def _write(method: str, path: str, body: dict[str, Any]) -> PlannedRequest:
    return PlannedRequest(method, path, body=body, note=ZONE_NOTE)


def _ticket_number(action: Action) -> int:
    """Autotask addresses tickets by their integer ``id`` (not the ``T…`` number)."""
    text = (action.ticket_id or "").strip()
    if not text.isdigit():
        raise UnsupportedAction(f"Autotask ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


_RESOURCE_ID = re.compile(r"(?:resource\s+)?(\d+)", re.IGNORECASE)


def _resource(assignee: str) -> int:
    """A resource id, bare or as the connector shows an unnamed one (``resource 29682870``)."""
    match = _RESOURCE_ID.fullmatch(assignee.strip())
    if match is None:
        raise UnsupportedAction(
            "Autotask assigns by resource id (a number such as 29682870), not by name or e-mail"
        )
    return int(match[1])


def _external_id(correlation: str) -> str:
    """The hand-off's correlation as an ``externalID`` (50 characters at most, stable).

    A longer one keeps its start and gains a hash of the whole, so create and
    lookup always compute the same value.
    """
    text = correlation.strip()
    if len(text) <= EXTERNAL_ID_LIMIT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{text[: EXTERNAL_ID_LIMIT - 13]}~{digest}"


def _item_id(response: httpx2.Response) -> int | None:
    """The ``itemId`` Autotask answers a create or update with (``None`` if unreadable)."""
    try:
        body = decode_json(response) if response.content else None
    except BadPayload:
        return None
    item_id = body.get("itemId") if isinstance(body, Mapping) else None
    return item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None


def _optional_id(config: VendorConfig, key: str) -> int | None:
    """A setting that names an Autotask id or picklist value: a positive whole number."""
    text = config.get(key)
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ConfigurationError(f"vendor {config.name!r}: {key} must be a positive whole number")
    return int(text)


def _optional_extra_failed(exc: ConnectorError) -> bool:
    """True when a failed extra (threshold, picklists, names) may be skipped.

    That is a refusal or an odd answer: a 403 or other 4xx, or a body we cannot
    read. A 401, a rate limit or a transient failure stops the poll as usual.
    """
    if isinstance(exc, AuthError):
        return exc.http_status == 403
    return type(exc) is ConnectorError or isinstance(exc, BadPayload)


def _has_id(item: Mapping[str, Any], field: str) -> bool:
    value = item.get(field)
    return isinstance(value, int) and not isinstance(value, bool)


def _activity(item: Mapping[str, Any]) -> datetime:
    """The item's ``lastActivityDate`` for in-poll dedupe (oldest possible when unreadable)."""
    try:
        stamp = parse_autotask_time(item.get("lastActivityDate"))
    except BadPayload:
        stamp = None
    return stamp or datetime.min.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    """Autotask's own UTC form, milliseconds and ``Z``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _tidy_api_url(url: str) -> str:
    """The zone's API root with one trailing slash and no doubled ones (some zones send ``//``)."""
    parts = urlsplit(url.strip())
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") + "/"
    return parts._replace(path=path).geturl()


def _service_root(base_url: str) -> str:
    """``base_url`` without any ``/atservicesrest…`` suffix (docs print it either way)."""
    root = base_url.strip().rstrip("/")
    lowered = root.lower()
    index = lowered.find("/atservicesrest")
    return root[:index] if index >= 0 else root


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:60]


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _page_size(config: VendorConfig) -> int:
    size = config.number("page_size", DEFAULT_PAGE_SIZE)
    if size != int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"vendor {config.name!r}: page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return int(size)


def _backfill_days(config: VendorConfig) -> float:
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if not (math.isfinite(days) and days >= 0):
        raise ConfigurationError(f"vendor {config.name!r}: backfill_days must not be negative")
    return days

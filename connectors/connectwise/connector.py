"""The ConnectWise PSA (Manage) connector: service tickets changed since the cursor.

One poll is ``GET /service/tickets?conditions=lastUpdated > [cursor - overlap]``
paged with ``page``/``pageSize`` and followed by the ``Link`` header's
``rel="next"`` until it is absent: a short or empty page with a next link is
not the end. Only the page number is taken from the link; the request is
rebuilt on our own base URL, so credentials never follow a link elsewhere.

Pages are ordered by ``id``, not by ``lastUpdated``: with offset paging, a
ticket updated while we page would jump to the end of a ``lastUpdated`` order
and push the ticket behind it onto a page already read, losing it for good
once the cursor moved past. Ordered by id, rows never move; a change made after
its page was read is caught by the next poll, because the cursor never passes
the moment this poll started (minus the overlap).

ConnectWise publishes no rate-limit headers, so the connector paces itself
with a fixed minimum interval between requests (``min_request_interval``,
default 0.1 s); a 429 or 503 with ``Retry-After`` becomes :class:`RateLimited`.

Write-back (``vendor-apis.md`` §8.8): a comment is a ticket note, an assignment
a JSON-Patch of ``owner`` by member identifier. Status ids belong to a board,
so a status change reads the ticket's board and that board's statuses at send
time and picks the first one this connector (with the tenant's ``status_map``)
reads as the wanted status. A hand-off is ``POST /service/tickets`` on the
board ``create_board_id`` for the company ``create_company_id``, carrying the
correlation in ``externalXRef`` so a retried create finds the first one.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    PlannedRequest,
    UnsupportedAction,
)
from connectors.base import Connector, VendorConfig
from connectors.connectwise.mapping import (
    DEFAULT_CODEBASE,
    normalise_priority,
    normalise_status,
    parse_cw_time,
    ticket_to_record,
)
from connectors.errors import BadPayload, ConfigurationError
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

__all__ = ["ConnectWiseConnector", "RequestPacer"]

TICKETS_PATH = "/service/tickets"
INFO_PATH = "/system/info"
DEFAULT_API_VERSION = "2022.1"
"""The REST model version pinned in ``Accept`` so a server upgrade cannot reshape rows."""
DEFAULT_PAGE_SIZE = 250
MAX_PAGE_SIZE = 1000
DEFAULT_BACKFILL_DAYS = 30.0
DEFAULT_MIN_INTERVAL = 0.1
MAX_MIN_INTERVAL = 10.0
OVERLAP = timedelta(seconds=60)
"""Re-read the last minute: ``lastUpdated`` has one-second precision and writes commit late."""
MAX_PAGES = 2_000
"""A guard against a ``next`` link that never ends."""
PRIORITIES_PATH = "/service/priorities"
LOOKUP_PAGE_SIZE = 1000
"""One page of board statuses or priorities holds them all (tenants have a few dozen)."""
SUMMARY_LIMIT = 100
"""ConnectWise refuses a ticket summary longer than 100 characters."""
LOOKED_UP = "<looked up at send time>"
"""Stands in a planned body for an id only a lookup can tell (the dry run shows it)."""
BOARD_PLACEHOLDER = "{board id}"
_MEMBER_IDENTIFIER = re.compile(r"[A-Za-z0-9._\-]+")


class RequestPacer:
    """Keeps at least ``interval`` seconds between the starts of two requests.

    ConnectWise names no numeric limit and sends no budget headers, so a small
    fixed gap keeps a backfill from bursting hundreds of pages at a tenant.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.waited = 0.0
        """Total seconds paced so far (for tests and poll-run records)."""
        self._last: float | None = None

    async def wait(self) -> None:
        """Sleep until ``interval`` has passed since the previous request started."""
        now = time.monotonic()
        if self._last is not None:
            pause = self._last + self.interval - now
            if pause > 0:
                self.waited += pause
                await asyncio.sleep(pause)
                now = time.monotonic()
        self._last = now


class ConnectWiseConnector(Connector):
    """Polls one ConnectWise PSA site with an API member's public/private key pair."""

    kind: ClassVar[str] = "connectwise"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("company_id", "public_key", "private_key", "client_id"),
    )
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.RESOLVE,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "externalXRef"

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.page_size = _page_size(config)
        self.backfill = timedelta(days=_backfill_days(config))
        self.overrides = Overrides.from_config(config)
        self.board = config.get("board")
        self.ui_url = _ui_url(config)
        self.codebase = _codebase(config.base_url)
        self.pacer = RequestPacer(_min_interval(config))
        """Spaces requests by ``min_request_interval`` (ConnectWise sends no budget headers)."""
        self._requests = 0

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check overrides, numbers and the UI link host before the first poll."""
        super().validate(config)
        Overrides.from_config(config)
        _page_size(config)
        _backfill_days(config)
        _min_interval(config)
        _ui_url(config)

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API member keys: username ``{company_id}+{public_key}``, password the private key."""
        return httpx2.BasicAuth(
            f"{config.require('company_id')}+{config.require('public_key')}",
            config.require("private_key"),
        )

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """The mandatory ``clientId`` of the integration and the pinned model version."""
        version = config.get("api_version", DEFAULT_API_VERSION)
        return {
            "clientId": config.require("client_id"),
            "Accept": f"application/vnd.connectwise.com+json; version={version}",
        }

    # -- the contract ---------------------------------------------------------------

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every ticket updated since the cursor (minus the overlap), each once, newest copy."""
        self._requests = 0
        started = datetime.now(UTC)
        since = self._since(cursor, started)
        params: dict[str, Any] = {
            "conditions": self._conditions(since),
            "orderBy": "id asc",
            "pageSize": self.page_size,
            "page": 1,
        }
        newest: dict[int, tuple[datetime, Mapping[str, Any]]] = {}
        for _ in range(MAX_PAGES):
            response = await self._get(TICKETS_PATH, params)
            for row in _rows(response):
                ticket_id = row.get("id")
                if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                    raise BadPayload("ConnectWise ticket without an integer id")
                stamp = _last_updated(row)
                seen = newest.get(ticket_id)
                if seen is None or stamp >= seen[0]:
                    newest[ticket_id] = (stamp, row)
            next_page = _next_page(response)
            if next_page is None:
                break
            if next_page <= params["page"]:
                raise BadPayload("ConnectWise next link does not move forward: no progress")
            params = {**params, "page": next_page}
        else:
            raise BadPayload(f"ConnectWise offered more than {MAX_PAGES} pages")
        records = tuple(
            self.overrides.apply(ticket_to_record(row, ui_url=self.ui_url, codebase=self.codebase))
            for _, row in newest.values()
        )
        next_cursor = cursor
        if records:
            newest_seen = max(r.updated_at for r in records)
            # A ticket changed after its page was read is newer than this poll's start;
            # never move the cursor past that start, or the next poll would skip it.
            next_cursor = {"since": min(newest_seen, started).isoformat()}
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """``/system/info``: proves keys and clientId, and names the server version."""
        self._requests = 0
        body = decode_json(await self._get(INFO_PATH, {}))
        if not isinstance(body, Mapping):
            raise BadPayload("ConnectWise system/info answer is not a JSON object")
        version = body.get("version")
        text = version if isinstance(version, str) and version.strip() else "unknown"
        where = " (cloud)" if body.get("isCloud") is True else ""
        return one_line(clean_text(f"ok, version {text.strip()}{where}"), 120)

    # -- write-back -----------------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` sends; lookups a status or priority id needs come first."""
        if action.kind is ActionKind.CREATE:
            return self._plan_create(action)
        path = f"{TICKETS_PATH}/{_ticket_number(action)}"
        if action.kind is ActionKind.COMMENT:
            return (
                PlannedRequest("POST", f"{path}/notes", body=_note(action.text, action.public)),
            )
        if action.kind is ActionKind.ASSIGN:
            owner = {"identifier": _member_identifier(action.assignee)}
            return (PlannedRequest("PATCH", path, body=[_replace_op("owner", owner)]),)
        if action.kind in (ActionKind.SET_STATUS, ActionKind.RESOLVE):
            wanted = _wanted_status(action)
            planned = [
                PlannedRequest(
                    "GET",
                    path,
                    params={"fields": "id,board,status"},
                    note="reads the ticket's board: status ids belong to a board",
                ),
                PlannedRequest(
                    "GET",
                    f"/service/boards/{BOARD_PLACEHOLDER}/statuses",
                    params={"pageSize": str(LOOKUP_PAGE_SIZE)},
                    note="the board id comes from the answer above",
                ),
                PlannedRequest(
                    "PATCH",
                    path,
                    body=[_replace_op("status", {"id": LOOKED_UP})],
                    note=f"status id looked up at send time: the board's first status "
                    f"that reads as {wanted.value} here (status_map included)",
                ),
            ]
            if action.text.strip():  # the note that goes with the change stays internal
                planned.append(
                    PlannedRequest("POST", f"{path}/notes", body=_note(action.text, public=False))
                )
            return tuple(planned)
        raise UnsupportedAction(f"connectwise cannot {action.kind.label}")

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan, filling in the looked-up status or priority id."""
        planned = self.plan(action)  # validates before anything is sent
        if action.kind is ActionKind.CREATE:
            return await self._create(action, planned)
        if action.kind in (ActionKind.SET_STATUS, ActionKind.RESOLVE):
            return await self._set_status(action, planned)
        (request,) = planned
        response = await self.send_planned(request)
        what = "note added to" if action.kind is ActionKind.COMMENT else "owner changed on"
        return ActionResult(
            f"HTTP {response.status_code}: {what} #{action.ticket_id}", response.status_code
        )

    async def find_existing(self, action: Action) -> ActionResult | None:
        """A ticket whose ``externalXRef`` is already this hand-off's correlation."""
        if action.handoff is None:
            return None
        params = {
            "conditions": f'externalXRef = "{_quoted(action.handoff.correlation)}"',
            "orderBy": "id asc",
            "pageSize": 1,
            "fields": "id,summary,externalXRef",
        }
        rows = _rows(await self._get(TICKETS_PATH, params))
        ticket_id = rows[0].get("id") if rows else None
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            return None
        return ActionResult(
            f"already at ConnectWise as #{ticket_id}",
            200,
            str(ticket_id),
            f"#{ticket_id}",
            existing=True,
        )

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Writes keep the same minimum interval as polls."""
        await self.pacer.wait()
        return await super().send_planned(request)

    def _plan_create(self, action: Action) -> tuple[PlannedRequest, ...]:
        handoff = action.handoff
        assert handoff is not None  # Action guarantees it for CREATE
        board_id = _id_setting(self.config, "create_board_id")
        company_id = _id_setting(self.config, "create_company_id")
        body: dict[str, Any] = {
            "summary": _summary(handoff.title),
            "board": {"id": board_id},
            "company": {"id": company_id},
            "externalXRef": handoff.correlation,
            "initialDescription": handoff.body_text(),
        }
        if handoff.priority is None:
            return (PlannedRequest("POST", TICKETS_PATH, body=body),)
        body["priority"] = {"id": LOOKED_UP}
        return (
            PlannedRequest(
                "GET",
                PRIORITIES_PATH,
                params={"pageSize": str(LOOKUP_PAGE_SIZE)},
                note="priority ids differ per tenant",
            ),
            PlannedRequest(
                "POST",
                TICKETS_PATH,
                body=body,
                note=f"priority id looked up at send time: the first priority that reads as "
                f"{handoff.priority.value} here (priority_map included); left out if none does",
            ),
        )

    async def _create(self, action: Action, planned: Sequence[PlannedRequest]) -> ActionResult:
        handoff = action.handoff
        assert handoff is not None
        post = planned[-1]
        body = dict(post.body)
        if handoff.priority is not None:
            priorities = await self._get_list(PRIORITIES_PATH, {"pageSize": LOOKUP_PAGE_SIZE})
            priority_id = self._priority_id(priorities, handoff.priority)
            if priority_id is None:
                body.pop("priority")  # the board's default priority applies
            else:
                body["priority"] = {"id": priority_id}
        response = await self.send_planned(replace(post, body=body, note=""))
        ticket = decode_json(response)
        ticket_id = ticket.get("id") if isinstance(ticket, Mapping) else None
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            raise BadPayload(
                "ConnectWise create answer has no ticket id", http_status=response.status_code
            )
        return ActionResult(
            f"HTTP {response.status_code}: created #{ticket_id}",
            response.status_code,
            str(ticket_id),
            f"#{ticket_id}",
        )

    async def _set_status(self, action: Action, planned: Sequence[PlannedRequest]) -> ActionResult:
        wanted = _wanted_status(action)
        read_ticket, _, patch, *notes = planned
        ticket = decode_json(await self._get(read_ticket.path, read_ticket.params))
        board = ticket.get("board") if isinstance(ticket, Mapping) else None
        board_id = board.get("id") if isinstance(board, Mapping) else None
        if not isinstance(board_id, int) or isinstance(board_id, bool):
            raise BadPayload(f"ConnectWise ticket #{action.ticket_id} has no board id")
        statuses = await self._get_list(
            f"/service/boards/{board_id}/statuses", {"pageSize": LOOKUP_PAGE_SIZE}
        )
        status = self._status_for(statuses, wanted)
        if status is None:
            board_name = board.get("name") if isinstance(board, Mapping) else None
            where = one_line(clean_text(str(board_name or board_id)), 80)
            raise UnsupportedAction(
                f"ConnectWise board {where} has no active status that reads "
                f"as {wanted.value}; map one with status_map"
            )
        body = [_replace_op("status", {"id": status["id"]})]
        response = await self.send_planned(replace(patch, body=body, note=""))
        for note in notes:
            await self.send_planned(note)
        return ActionResult(
            f"HTTP {response.status_code}: #{action.ticket_id} set to "
            f"{one_line(clean_text(str(status['name'])), 80)}",
            response.status_code,
        )

    def _status_for(
        self, statuses: Sequence[Mapping[str, Any]], wanted: TicketStatus
    ) -> Mapping[str, Any] | None:
        """The first active board status that this connector reads as ``wanted``."""
        for status in statuses:
            name = status.get("name")
            status_id = status.get("id")
            if not isinstance(name, str) or not isinstance(status_id, int):
                continue
            if status.get("inactive") is True:
                continue
            reading = self.overrides.statuses.get(name.strip().lower()) or normalise_status(
                name, status.get("closedStatus") is True
            )
            if reading is wanted:
                return status
        return None

    def _priority_id(self, priorities: Sequence[Mapping[str, Any]], wanted: Priority) -> int | None:
        """The first priority that this connector reads as ``wanted``."""
        for priority in priorities:
            name = priority.get("name")
            priority_id = priority.get("id")
            if not isinstance(priority_id, int) or isinstance(priority_id, bool):
                continue
            key = name.strip().lower() if isinstance(name, str) else ""
            override = self.overrides.priorities.get(key) if key else None
            if (override or normalise_priority(priority)) is wanted:
                return priority_id
        return None

    async def _get_list(self, path: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return _rows(await self._get(path, params))

    # -- helpers ------------------------------------------------------------------------

    def _conditions(self, since: datetime) -> str:
        """``lastUpdated > [iso]``, plus the board filter when one is configured."""
        clause = f"lastUpdated > [{_cw_time(since)}]"
        if self.board:
            clause += f' and board/name = "{_quoted(self.board)}"'
        return clause

    def _since(self, cursor: Cursor | None, now: datetime) -> datetime:
        """The cursor minus the overlap; with no (or a foreign) cursor, the backfill window."""
        saved = cursor.get("since") if isinstance(cursor, dict) else None
        try:
            parsed = parse_cw_time(saved) if isinstance(saved, str) else None
        except BadPayload:
            parsed = None
        if parsed is not None:
            return parsed - OVERLAP
        return now - self.backfill

    async def _get(self, path: str, params: Mapping[str, Any]) -> httpx2.Response:
        await self.pacer.wait()
        self._requests += 1
        return await send(self.client, "GET", path, params=dict(params))


def _rows(response: httpx2.Response) -> list[Mapping[str, Any]]:
    """The bare JSON array ConnectWise answers with."""
    body = decode_json(response)
    if not isinstance(body, list) or not all(isinstance(row, Mapping) for row in body):
        raise BadPayload("ConnectWise answer is not a JSON array of objects")
    return body


def _ticket_number(action: Action) -> int:
    """ConnectWise ticket ids are integers; anything else never reaches a URL."""
    text = (action.ticket_id or "").strip().removeprefix("#")
    if not text.isdigit():
        raise UnsupportedAction(f"ConnectWise ticket ids are numbers, not {action.ticket_id!r}")
    return int(text)


def _member_identifier(assignee: str) -> str:
    """ConnectWise assigns by member identifier (``jkim``); a name or e-mail is not one."""
    text = assignee.strip()
    if not _MEMBER_IDENTIFIER.fullmatch(text):
        raise UnsupportedAction(
            "ConnectWise assigns by member identifier (e.g. jkim), not by name or e-mail"
        )
    return text


def _wanted_status(action: Action) -> TicketStatus:
    if action.kind is ActionKind.RESOLVE:
        return TicketStatus.RESOLVED
    assert action.status is not None  # Action guarantees it for SET_STATUS
    return action.status


def _note(text: str, public: bool) -> dict[str, Any]:
    """A ticket note: Discussion (the customer sees it) or Internal Analysis."""
    return {
        "text": text,
        "detailDescriptionFlag": public,
        "internalAnalysisFlag": not public,
        "resolutionFlag": False,
    }


def _replace_op(path: str, value: Any) -> dict[str, Any]:
    """One JSON-Patch operation, as ConnectWise's PATCH takes a list of them."""
    return {"op": "replace", "path": path, "value": value}


def _id_setting(config: VendorConfig, key: str) -> int:
    """A numeric id a hand-off needs from config, or an UnsupportedAction naming the setting."""
    value = config.get(key)
    if value is None:
        raise UnsupportedAction(
            f"vendor {config.name!r}: a hand-off to ConnectWise needs the setting {key!r}"
        )
    if not value.strip().isdigit():
        raise UnsupportedAction(f"vendor {config.name!r}: {key} must be a numeric id")
    return int(value)


def _summary(title: str) -> str:
    flat = " ".join(title.split()) or "(no title)"
    return flat if len(flat) <= SUMMARY_LIMIT else flat[: SUMMARY_LIMIT - 1] + "…"


def _next_page(response: httpx2.Response) -> int | None:
    """The ``page`` of the ``rel="next"`` link, or ``None`` when there is no next link."""
    link = response.links.get("next")
    if link is None:
        return None
    pages = parse_qs(urlsplit(link.get("url", "")).query).get("page")
    if not pages or not pages[0].isdigit():
        raise BadPayload("ConnectWise next link carries no page number")
    return int(pages[0])


def _last_updated(row: Mapping[str, Any]) -> datetime:
    """``_info.lastUpdated`` for in-poll dedupe (the oldest possible when unreadable)."""
    info = row.get("_info")
    try:
        stamp = parse_cw_time(info.get("lastUpdated")) if isinstance(info, Mapping) else None
    except BadPayload:
        stamp = None
    return stamp or datetime.min.replace(tzinfo=UTC)


def _cw_time(value: datetime) -> str:
    """ConnectWise's own UTC form, seconds and ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(text: str) -> str:
    """Text for a double-quoted conditions string (backslash and quote escaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _codebase(base_url: str) -> str:
    """The codebase segment before ``/apis/3.0`` (``v4_6_release`` on cloud sites)."""
    parts = [p for p in urlsplit(base_url).path.split("/") if p]
    if len(parts) >= 3 and parts[-2:] == ["apis", "3.0"]:
        return parts[-3]
    return DEFAULT_CODEBASE


def _ui_url(config: VendorConfig) -> str | None:
    value = config.get("ui_url")
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or urlsplit(value).query:
        raise ConfigurationError(
            f"vendor {config.name!r}: ui_url must be the site's http(s) root, "
            "e.g. https://na.myconnectwise.net"
        )
    return value.rstrip("/")


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


def _min_interval(config: VendorConfig) -> float:
    seconds = config.number("min_request_interval", DEFAULT_MIN_INTERVAL)
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_MIN_INTERVAL):
        raise ConfigurationError(
            f"vendor {config.name!r}: min_request_interval must be 0 to {MAX_MIN_INTERVAL:g} s"
        )
    return seconds

"""The Opsgenie connector: alerts changed since the cursor, newest first, with a client-side cutoff.

Whether ``updatedAt`` can be searched is not confirmed (``vendor-apis.md`` §9.3),
so a poll lists ``sort=updatedAt&order=desc`` and reads pages until one reaches
back past the cursor minus an overlap. Paging follows ``paging.next`` only: a
short or empty page is not the end while ``next`` is there. The ready-made
``next`` URL names Opsgenie's public host, so only its ``offset`` is taken and
the request goes to our configured host.

Offset paging on a list sorted newest-first is safe against concurrent updates:
an alert updated while we page jumps to offset 0, pushing the rest one place
back, so we may read a row twice (deduplicated by id) but never skip one; the
jumped alert is newer than our cursor and the next poll reads it.

Opsgenie reports no remaining budget, only ``X-RateLimit-State`` (``OK`` or
``THROTTLED``) and ``X-RateLimit-Period-In-Sec``; :class:`ThrottleBudget` turns
that into a pause of one period before the next request.

Write-back (``vendor-apis.md`` §9.8) is asynchronous at Opsgenie: a note,
acknowledge, close or assign answers 202 with a ``requestId`` and is carried
out afterwards. So :meth:`OpsgenieConnector.perform` asks
``GET /v2/alerts/requests/{requestId}`` how it went (briefly retrying while
Opsgenie answers 404, "not processed yet") and raises when Opsgenie reports the
request failed. Notes are internal only (as in PagerDuty, a public comment is
refused). Requests name ``action_user`` (default ``paneglass``) as their user
and ``paneglass`` as their source. A hand-off creates an alert whose ``alias``
is the correlation; Opsgenie folds a create into an open alert with the same
alias, so a retried create never makes a second one, and the new alert's id
comes from the request status.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
from connectors.errors import (
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.opsgenie.mapping import (
    alert_to_record,
    priority_overrides,
    status_overrides,
    team_ids,
)
from connectors.records import Cursor, PollResult, TicketRecord, TicketStatus
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = ["OpsgenieConnector", "ThrottleBudget"]

ALERTS_PATH = "/v2/alerts"
TEAMS_PATH = "/v2/teams"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
DEFAULT_BACKFILL_DAYS = 30.0
DEFAULT_MAX_PAGES = 200
"""Pages per poll (20,000 alerts at 100 a page) before we stop and keep the old cursor."""
OVERLAP = timedelta(seconds=60)
"""Re-read the last minute so an update sharing the cursor's instant is never missed."""
THROTTLE_HEADERS = RateHeaders(remaining="X-RateLimit-State", reset="X-RateLimit-Period-In-Sec")
SOURCE = "paneglass"
"""The ``source`` every write names, so Opsgenie's log shows where a change came from."""
DEFAULT_ACTION_USER = "paneglass"
MESSAGE_LIMIT = 130
"""Opsgenie keeps the first 130 characters of an alert message."""
REQUEST_WAITS = (0.0, 0.25, 0.5, 1.0, 2.0)
"""Pauses before each look at a write's request status (404 means "not processed yet")."""
_USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_STATUS_VERB = {
    TicketStatus.OPEN: "acknowledge",
    TicketStatus.RESOLVED: "close",
    TicketStatus.CLOSED: "close",
}


@dataclass
class ThrottleBudget(RateBudget):
    """A :class:`RateBudget` fed from Opsgenie's state header instead of a remaining count.

    ``THROTTLED`` reads as "nothing remaining, resets in one period"; ``OK`` as
    "budget left". So the shared pacer waits one period after a throttled answer
    (a 429 included: :func:`send` observes headers before it raises).
    """

    headers: RateHeaders = THROTTLE_HEADERS
    state: str | None = None
    """The last ``X-RateLimit-State`` seen (``OK``, ``THROTTLED``)."""
    reason: str | None = None
    """The last ``X-RateLimit-Reason`` seen (e.g. ``ACCOUNT``)."""
    period: float | None = field(default=None)
    """The last ``X-RateLimit-Period-In-Sec`` seen: 1 or 60, the window that ran out."""

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Read the throttle state of one answer (answers without it change nothing)."""
        state = response_headers.get(self.headers.remaining)
        if state is None:
            return
        self.state = state.strip().upper()
        self.reason = response_headers.get("X-RateLimit-Reason") or None
        period = _float(response_headers.get(self.headers.reset or ""))
        self.period = period
        throttled = self.state == "THROTTLED"
        self.remaining = 0 if throttled else 1
        self.limit = None
        self.reset_in = (period if period is not None else 1.0) if throttled else None
        self.observed_at = time.monotonic()


class OpsgenieConnector(Connector):
    """Polls one Opsgenie account's alerts (``https://api.opsgenie.com`` or the EU host)."""

    budget: ThrottleBudget
    kind: ClassVar[str] = "opsgenie"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",),)
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.ACKNOWLEDGE,
            ActionKind.RESOLVE,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "alias"
    request_waits: tuple[float, ...] = REQUEST_WAITS

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.budget = ThrottleBudget()
        """Paces requests from ``X-RateLimit-State``/``-Period-In-Sec``."""
        self.page_size = _page_size(config)
        self.backfill = timedelta(days=_backfill_days(config))
        self.max_pages = _max_pages(config)
        self.status_map = status_overrides(config.settings.get("status_map"))
        self.priority_map = priority_overrides(config.settings.get("priority_map"))
        self.ui_url = _ui_url(config)
        self.team_names: dict[str, str] = {}
        """Team id → name from ``/v2/teams``, kept for the connector's life."""
        self._teams_unreadable = False
        self._requests = 0

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also reject numbers, URLs and overrides that could never work, before the first poll."""
        super().validate(config)
        _page_size(config)
        _backfill_days(config)
        _max_pages(config)
        _ui_url(config)
        status_overrides(config.settings.get("status_map"))
        priority_overrides(config.settings.get("priority_map"))

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """``Authorization: GenieKey <api_key>`` (an API integration key or the account key)."""
        return {"Authorization": f"GenieKey {config.require('api_key')}"}

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/v2`` suffix the docs print."""
        base = config.base_url.rstrip("/").removesuffix("/v2")
        return super().make_client(replace(config, base_url=base))

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every alert updated since the cursor (minus the overlap), newest copy of each.

        When paging stops before reaching the cutoff (the page guard, or a 429
        after the first page) the alerts read are returned but the old cursor is
        kept: the unread, older part of the window is read again next poll.
        """
        self._requests = 0
        saved = _saved_since(cursor)
        since = saved - OVERLAP if saved is not None else datetime.now(UTC) - self.backfill
        newest: dict[str, Mapping[str, Any]] = {}
        newest_at: dict[str, datetime] = {}
        offset = 0
        complete = False
        for _ in range(self.max_pages):
            try:
                page = await self._list_page(offset)
            except RateLimited:
                if self._requests == 1:
                    raise
                break
            data = page["data"]
            oldest: datetime | None = None
            for alert in data:
                updated = _updated_at(alert)
                oldest = updated if oldest is None else min(oldest, updated)
                if updated < since:
                    continue
                alert_id = alert["id"]
                if alert_id not in newest_at or updated >= newest_at[alert_id]:
                    newest[alert_id], newest_at[alert_id] = alert, updated
            next_offset = _next_offset(page)
            if (oldest is not None and oldest < since) or next_offset is None:
                complete = True
                break
            if next_offset <= offset:
                raise BadPayload(f"Opsgenie paging.next goes back to offset {next_offset}")
            offset = next_offset
        await self._learn_teams(newest.values())
        records = tuple(self._record(alert) for alert in newest.values())
        next_cursor = cursor
        if complete and records:
            newest_seen = max(r.updated_at for r in records)
            if saved is not None:
                newest_seen = max(newest_seen, saved)  # overlap re-reads never move it back
            next_cursor = {"updated_at": newest_seen.isoformat()}
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """One single-alert list: proves the key and its read access to alerts."""
        self._requests = 0
        await self._get(ALERTS_PATH, {"limit": 1})
        return "ok"

    # -- write-back -----------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """One POST per action; the alert is addressed by its id."""
        user = self.config.get("action_user") or DEFAULT_ACTION_USER
        actor: dict[str, Any] = {"user": user, "source": SOURCE}
        if action.kind is ActionKind.CREATE:
            assert action.handoff is not None  # Action guarantees it for CREATE
            return (PlannedRequest("POST", ALERTS_PATH, body=_new_alert(action.handoff, actor)),)
        path = f"{ALERTS_PATH}/{quote(action.ticket_id or '', safe='')}"
        by_id = {"identifierType": "id"}
        if action.kind is ActionKind.COMMENT:
            if action.public:
                raise UnsupportedAction(
                    "Opsgenie notes are internal only (responders see them, no requester "
                    "does): send it as an internal comment"
                )
            body = {"note": action.text, **actor}
            return (PlannedRequest("POST", f"{path}/notes", params=by_id, body=body),)
        if action.kind is ActionKind.ASSIGN:
            body = {"owner": _owner(action.assignee), **actor}
            return (PlannedRequest("POST", f"{path}/assign", params=by_id, body=body),)
        verb = _verb(action)
        body = {**actor, "note": action.text} if action.text.strip() else actor
        return (PlannedRequest("POST", f"{path}/{verb}", params=by_id, body=body),)

    async def perform(self, action: Action) -> ActionResult:
        """Send the request, then read how Opsgenie carried it out."""
        (request,) = self.plan(action)  # validates before anything is sent
        response = await self.send_planned(request)
        answer = decode_json(response) if response.content else None
        request_id = answer.get("requestId") if isinstance(answer, Mapping) else None
        if not isinstance(request_id, str) or not request_id:
            raise BadPayload(
                "Opsgenie accepted the request without a requestId",
                http_status=response.status_code,
            )
        code = response.status_code
        outcome = await self._request_status(request_id)
        if outcome is not None and outcome.get("isSuccess") is not True:
            reason = _vendor_text(outcome.get("status")) or "no reason given"
            raise ConnectorError(
                f"HTTP {code}, then Opsgenie failed request {request_id}: {reason}",
                http_status=code,
            )
        if action.kind is ActionKind.CREATE:
            return await self._created(action, request_id, outcome, code)
        if outcome is None:
            return ActionResult(
                f"HTTP {code}: accepted as request {request_id}, not done yet", code
            )
        what = _vendor_text(outcome.get("status")) or "done"
        return ActionResult(f"HTTP {code}: {what} (request {request_id})", code)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The alert whose alias is this hand-off's correlation (a 404 means none)."""
        if action.handoff is None:
            return None
        alert = await self._alert_by_alias(action.handoff.correlation)
        if alert is None:
            return None
        key = _key_of(alert)
        return ActionResult(
            f"already at Opsgenie as {key}", 200, str(alert["id"]), key, existing=True
        )

    async def _alert_by_alias(self, alias: str) -> Mapping[str, Any] | None:
        """``GET /v2/alerts/{alias}?identifierType=alias``; ``None`` when Opsgenie says 404."""
        try:
            body = await self._get(
                f"{ALERTS_PATH}/{quote(alias, safe='')}", {"identifierType": "alias"}
            )
        except ConnectorError as exc:
            if exc.http_status == 404:
                return None
            raise
        alert = body.get("data")
        if not isinstance(alert, Mapping) or not isinstance(alert.get("id"), str):
            raise BadPayload("Opsgenie alert answer has no data with an id")
        return alert

    async def _request_status(self, request_id: str) -> Mapping[str, Any] | None:
        """The processed request's status, or ``None`` if Opsgenie has not got to it yet."""
        path = f"{ALERTS_PATH}/requests/{quote(request_id, safe='')}"
        for pause in self.request_waits:
            if pause:
                await asyncio.sleep(pause)
            try:
                body = await self._get(path, {})
            except ConnectorError as exc:
                if exc.http_status == 404:
                    continue  # "not processed yet"
                raise
            data = body.get("data")
            if isinstance(data, Mapping):
                return data
        return None

    async def _created(
        self,
        action: Action,
        request_id: str,
        outcome: Mapping[str, Any] | None,
        code: int,
    ) -> ActionResult:
        """The created (or deduplicated-into) alert's id and tiny id."""
        alert_id = outcome.get("alertId") if outcome is not None else None
        if not isinstance(alert_id, str) or not alert_id:
            assert action.handoff is not None
            found = await self._alert_by_alias(action.handoff.correlation)
            if found is None or found.get("status") != "open":
                # Safe to retry: the alias makes a second create fold into the first.
                raise TransientError(
                    f"HTTP {code}: Opsgenie has not processed create request {request_id} yet",
                    http_status=code,
                )
            key = _key_of(found)
            return ActionResult(
                f"HTTP {code}: created {key} (request {request_id})", code, str(found["id"]), key
            )
        body = await self._get(
            f"{ALERTS_PATH}/{quote(alert_id, safe='')}", {"identifierType": "id"}
        )
        alert = body.get("data")
        key = _key_of(alert) if isinstance(alert, Mapping) else alert_id
        what = _vendor_text(outcome.get("status")) if outcome is not None else None
        return ActionResult(
            f"HTTP {code}: {what or 'created'}: {key} (request {request_id})", code, alert_id, key
        )

    # -- internals ---------------------------------------------------------------

    async def _list_page(self, offset: int) -> Mapping[str, Any]:
        params: dict[str, Any] = {
            "sort": "updatedAt",
            "order": "desc",
            "limit": self.page_size,
            "offset": offset,
        }
        query = self.config.get("query")
        if query:
            params["query"] = query
        page = await self._get(ALERTS_PATH, params)
        data = page.get("data")
        if not isinstance(data, list) or not all(
            isinstance(a, Mapping) and isinstance(a.get("id"), str) and a["id"] for a in data
        ):
            raise BadPayload("Opsgenie alert list has no data list of alerts with ids")
        return page

    async def _get(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        self._requests += 1
        try:
            response = await send(self.client, "GET", path, params=dict(params), budget=self.budget)
        except RateLimited as exc:
            if exc.retry_after is not None or self.budget.period is None:
                raise
            # Opsgenie sends no Retry-After; the window that ran out says how long to wait.
            raise RateLimited(
                str(exc), retry_after=self.budget.period, http_status=exc.http_status
            ) from None
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Opsgenie {path} answer is not a JSON object")
        return body

    async def _learn_teams(self, alerts: Any) -> None:
        """Look team names up once when an alert names a team we do not know.

        Listing teams needs Configuration access, which an alerts-only API key
        lacks; then groups stay empty (and we stop asking) rather than failing the poll.
        """
        wanted = {tid for alert in alerts for tid in team_ids(alert)} - set(self.team_names)
        if not wanted or self._teams_unreadable:
            return
        try:
            body = await self._get(TEAMS_PATH, {})
        except ConnectorError as exc:
            # Names are a nicety: a failed lookup never costs the alerts already read.
            if exc.http_status in (401, 403, 404):
                self._teams_unreadable = True
            return
        teams = body.get("data")
        for team in teams if isinstance(teams, list) else []:
            if isinstance(team, Mapping):
                tid, name = team.get("id"), team.get("name")
                if isinstance(tid, str) and isinstance(name, str) and name.strip():
                    self.team_names[tid] = name.strip()

    def _record(self, alert: Mapping[str, Any]) -> TicketRecord:
        return alert_to_record(
            alert,
            ui_url=self.ui_url,
            status_map=self.status_map,
            priority_map=self.priority_map,
            team_names=self.team_names,
        )


def _owner(assignee: str) -> dict[str, str]:
    """Opsgenie assigns to a user by username (an e-mail) or by user id, never by name."""
    text = assignee.strip()
    if "@" in text and " " not in text:
        return {"username": text}
    if _USER_ID.fullmatch(text):
        return {"id": text}
    raise UnsupportedAction("Opsgenie assigns by username (an e-mail) or user id, not by name")


def _verb(action: Action) -> str:
    """The alert action an acknowledge, resolve or status change is."""
    if action.kind is ActionKind.ACKNOWLEDGE:
        return "acknowledge"
    if action.kind is ActionKind.RESOLVE:
        return "close"
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        verb = _STATUS_VERB.get(action.status)
        if verb is None:
            raise UnsupportedAction(
                f"Opsgenie alerts can be acknowledged or closed, not set to {action.status.value}"
            )
        return verb
    raise UnsupportedAction(f"opsgenie cannot {action.kind.label}")


def _new_alert(handoff: Handoff, actor: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v2/alerts``: the correlation is the alias Opsgenie deduplicates on."""
    title = " ".join(handoff.title.split()) or "(no title)"
    details = {"origin": handoff.source_vendor, "ticket": handoff.source_key}
    if handoff.source_url:
        details["url"] = handoff.source_url
    if handoff.requester:
        details["requester"] = handoff.requester
    alert: dict[str, Any] = {
        "message": title[:MESSAGE_LIMIT],
        "alias": handoff.correlation,
        "description": handoff.body_text(),
        "tags": ["from-paneglass"],
        "details": details,
        **actor,
    }
    if handoff.priority is not None:
        alert["priority"] = handoff.priority.value
    if handoff.asset:
        alert["entity"] = handoff.asset
    return alert


def _key_of(alert: Mapping[str, Any]) -> str:
    tiny = alert.get("tinyId")
    if isinstance(tiny, (str, int)) and not isinstance(tiny, bool) and str(tiny).strip():
        return _vendor_text(f"#{str(tiny).strip()}")
    return _vendor_text(alert.get("id"))


def _vendor_text(value: Any) -> str:
    """Vendor text bound for a summary or error: cleaned of control bytes, one short line."""
    return one_line(clean_text(str(value)), 160) if value is not None else ""


def _updated_at(alert: Mapping[str, Any]) -> datetime:
    """The position of an alert in the change feed: ``updatedAt``, else ``createdAt``."""
    when = parse_iso(alert.get("updatedAt")) or parse_iso(alert.get("createdAt"))
    if when is None:
        raise BadPayload(f"Opsgenie alert {alert.get('id')!r} has no updatedAt")
    return when


def _next_offset(page: Mapping[str, Any]) -> int | None:
    """The ``offset`` of ``paging.next``, or ``None`` when there is no next page."""
    paging = page.get("paging")
    link = paging.get("next") if isinstance(paging, Mapping) else None
    if not link:
        return None
    if not isinstance(link, str):
        raise BadPayload("Opsgenie paging.next is not a URL")
    values = parse_qs(urlsplit(link).query).get("offset")
    try:
        return int(values[0]) if values else None
    except ValueError:
        raise BadPayload("Opsgenie paging.next has no numeric offset") from None


def _saved_since(cursor: Cursor | None) -> datetime | None:
    """The ``updated_at`` this connector saved; anything else means "backfill"."""
    value = cursor.get("updated_at") if isinstance(cursor, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except BadPayload:
        return None  # a cursor we did not write: start over rather than fail forever


def _ui_url(config: VendorConfig) -> str | None:
    url = config.get("ui_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"vendor {config.name!r}: ui_url must start with http:// or https://"
        )
    return url.rstrip("/") if url else None


def _page_size(config: VendorConfig) -> int:
    size = config.number("page_size", DEFAULT_PAGE_SIZE)
    if size != int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"vendor {config.name!r}: page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return int(size)


def _backfill_days(config: VendorConfig) -> float:
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if days < 0:
        raise ConfigurationError(f"vendor {config.name!r}: backfill_days must not be negative")
    return days


def _max_pages(config: VendorConfig) -> int:
    pages = config.number("max_pages", DEFAULT_MAX_PAGES)
    if pages != int(pages) or pages < 1:
        raise ConfigurationError(f"vendor {config.name!r}: max_pages must be a positive integer")
    return int(pages)


def _float(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None

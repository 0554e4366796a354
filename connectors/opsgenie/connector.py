"""The Opsgenie connector: a keyset backfill of open alerts, then ``updatedAt`` newest first.

Opsgenie's search can filter ``createdAt`` (epoch milliseconds, with ``<``,
``<=``, ``>``, ``>=``) but not ``updatedAt``, which it can only sort by
(``vendor-apis.md`` §9.2-9.3, Opsgenie's search-query help). So:

**Backfill** (resumable, in two stages)::

    1. open, any age, oldest first, keyset on createdAt:
       GET /v2/alerts/count?query=status: open                     (once: progress.total)
       GET /v2/alerts?query=status: open&sort=createdAt&order=asc&limit=100&offset=0
       GET /v2/alerts?query=status: open AND createdAt >= <last createdAt ms>
           &sort=createdAt&order=asc&limit=100&offset=0
    2. closed, updated within backfill_days, newest change first:
       GET /v2/alerts/count?query=status: closed AND createdAt >= <cutoff ms>   (estimate)
       GET /v2/alerts?query=status: closed&sort=updatedAt&order=desc&limit=100&offset=<k>
       until an alert's updatedAt is older than the start minus backfill_days.

(With the ``query`` setting, each query is ``(<query>) AND …``.) Stage 1 drops
the alerts already read at the boundary millisecond (their ids ride in the
cursor), so an alert closed while the stage runs shifts nothing out of reach.
Stage 2 pages by offset, newest change first: an alert changed meanwhile jumps
to offset 0, pushing the rest one place back, so a page may repeat a row but
never skips one (Opsgenie does not reopen a closed alert), and its cursor is
that offset. Paging follows ``paging.next`` (a short page is not the end); its
ready-made URL names Opsgenie's public host, so only its ``offset`` is taken.

**Incremental**: ``GET /v2/alerts?sort=updatedAt&order=desc&limit=100&offset=<k>``
from the newest change back to the position (``since``, minus
``overlap_seconds`` once a poll completes); a page's cursor is
``{since, top, offset}``, so a restart resumes deeper in the same walk, and the
next poll starts from the newest change this one saw (``top``).

**Per alert** (fanned out ``concurrency`` at a time, three requests each):
``GET /v2/alerts/{id}`` for ``description`` and ``entity`` (list answers carry
neither), ``GET /v2/alerts/{id}/notes`` and ``GET /v2/alerts/{id}/logs``
(``order=desc``, paged by their opaque ``offset``; in the incremental phase read
only back to the position). Attachments (``/attachments``) are not read: the
list does not say which alerts have any, so it would be a fourth request per
alert for a rare file. The backfill makes none of them: it maps the list items
(``asset`` from ``source``, no description yet), one list request per 100
alerts, so the first sync brings the whole queue in seconds. The **history
walk** (:meth:`Connector.history_pages`) runs the backfill's two stages again
(from the same start) and reads each page's alerts whole with their notes and
log, carrying the alerts again with ``entity`` and ``description``: at most
``history_pages_per_poll`` pages a poll (default 5 of 100 alerts, about 1,500
requests), so 10,000 alerts take 20 polls. The trade-off: the queue arrives
first, histories follow. Incremental pages still read the alerts that changed
in full, inline.

Opsgenie reports no remaining budget, only ``X-RateLimit-State`` (``OK`` or
``THROTTLED``) and ``X-RateLimit-Period-In-Sec``; :class:`ThrottleBudget` turns
that into a pause of one period before the next request, and a 429 carries that
period as its Retry-After. Write-back is in :mod:`connectors.opsgenie.actions`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError, RateLimited
from connectors.fanout import fan_out
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.opsgenie import actions
from connectors.opsgenie.actions import ALERTS_PATH
from connectors.opsgenie.mapping import alert_to_record, log_to_entry, note_to_entry, team_ids
from connectors.opsgenie.settings import OpsgenieSettings
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL, HISTORY
from connectors.timestamps import parse_iso

__all__ = ["OpsgenieConnector", "ThrottleBudget"]

TEAMS_PATH = "/v2/teams"
COUNT_PATH = "/v2/alerts/count"
THROTTLE_HEADERS = RateHeaders(remaining="X-RateLimit-State", reset="X-RateLimit-Period-In-Sec")
REQUEST_WAITS = (0.0, 0.25, 0.5, 1.0, 2.0)
"""Pauses before each look at a write's request status (404 means "not processed yet")."""
OPEN, CLOSED, DONE = "open", "closed", "done"
HISTORY_PAGE = 100


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


@dataclass(frozen=True)
class _Walk:
    """Where a backfill stands."""

    stage: str = OPEN
    created_from: int | None = None
    """Open stage: the createdAt (ms) the next request starts at; ``None`` from the oldest."""
    seen: tuple[str, ...] = ()
    """Open stage: alerts already read at exactly ``created_from``."""
    offset: int = 0
    open_total: int | None = None
    closed_total: int | None = None

    @classmethod
    def load(cls, position: Cursor | None) -> _Walk:
        if not isinstance(position, dict) or position.get("stage") not in (OPEN, CLOSED, DONE):
            return cls()
        seen = position.get("seen")
        return cls(
            stage=str(position["stage"]),
            created_from=_count(position.get("created_from")),
            seen=tuple(s for s in seen if isinstance(s, str)) if isinstance(seen, list) else (),
            offset=_count(position.get("offset")) or 0,
            open_total=_count(position.get("open_total")),
            closed_total=_count(position.get("closed_total")),
        )

    def dump(self) -> Cursor:
        return {
            "stage": self.stage,
            "created_from": self.created_from,
            "seen": list(self.seen),
            "offset": self.offset,
            "open_total": self.open_total,
            "closed_total": self.closed_total,
        }

    @property
    def total(self) -> int | None:
        if self.open_total is None and self.closed_total is None:
            return None
        return (self.open_total or 0) + (self.closed_total or 0)


class OpsgenieConnector(Connector):
    """Polls one Opsgenie account's alerts (``https://api.opsgenie.com`` or the EU host)."""

    budget: ThrottleBudget
    kind: ClassVar[str] = "opsgenie"
    Settings: ClassVar[type[ConnectorSettings] | None] = OpsgenieSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.ACKNOWLEDGE,
            ActionKind.RESOLVE,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "alias"
    request_waits: tuple[float, ...] = REQUEST_WAITS
    settings: OpsgenieSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.budget = ThrottleBudget()
        """Paces requests from ``X-RateLimit-State``/``-Period-In-Sec``."""
        self.status_map = dict(self.settings.status_map)
        self.priority_map = {k.upper(): v for k, v in self.settings.priority_map.items()}
        self.team_names: dict[str, str] = {}
        """Team id → name from ``/v2/teams``, kept for the connector's life."""
        self._teams_unreadable = False
        self.requests = 0
        """HTTP requests sent so far (pages report their share)."""

    @classmethod
    def options(cls, config: VendorConfig) -> OpsgenieSettings:
        """The section as :class:`OpsgenieSettings` (parsed once, then cached on the config)."""
        settings = cls.parse_settings(config)
        assert isinstance(settings, OpsgenieSettings)
        return settings

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """``Authorization: GenieKey <api_key>`` (an API integration key or the account key)."""
        return {"Authorization": f"GenieKey {secret(cls.options(config).api_key)}"}

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/v2`` suffix the docs print."""
        base = config.base_url.rstrip("/").removesuffix("/v2")
        return super().make_client(replace(config, base_url=base))

    async def get(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """One GET, paced by the throttle state; a 429 says how long its period is."""
        self.requests += 1
        query = urlencode(dict(params), quote_via=quote)  # httpx2's own params cost ~20% more CPU
        url = f"{path}?{query}" if query else path
        try:
            response = await send(self.client, "GET", url, budget=self.budget)
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

    async def check(self) -> str:
        """One single-alert list: proves the key and its read access to alerts."""
        await self.get(ALERTS_PATH, {"limit": 1})
        return "ok"

    # -- backfill ---------------------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Open alerts of any age (keyset on createdAt), then recently changed closed ones:
        the list items alone (the whole alert, notes and log follow in the history walk)."""
        before = self.requests
        async for walk, alerts in self._alert_pages(position, started, "backfill"):
            await self._learn_teams(alerts)
            yield PollResult(
                tickets=tuple(self._record(alert) for alert in alerts),
                cursor=walk.dump(),
                requests=self.requests - before,
                progress=Progress(BACKFILL, 0, walk.total),
            )
            before = self.requests

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The backfill's queries again; each page's alerts read whole, with notes and log.

        A page carries its alerts again as the whole-alert read maps them (``entity``
        and ``description``, which list items lack).
        """
        if not (self.settings.details or self.settings.conversations):
            return
        before = self.requests
        async for walk, alerts in self._alert_pages(position, started, "history walk"):
            tickets, entries = await self._page(alerts, None)
            yield PollResult(
                tickets=tickets,
                entries=tuple(entries),
                cursor=walk.dump(),
                requests=self.requests - before,
                progress=Progress(HISTORY, len(alerts), walk.total),
            )
            before = self.requests

    async def _alert_pages(
        self, position: Cursor | None, started: datetime, phase: str
    ) -> AsyncIterator[tuple[_Walk, list[Mapping[str, Any]]]]:
        """The backfill's two stages from ``position``: each page's alerts and the walk after."""
        walk = _Walk.load(position)
        cutoff = started - self.settings.backfill
        pages = 0
        while walk.stage != DONE:
            pages += 1
            if pages > self.settings.max_pages:
                raise ConnectorError(
                    f"Opsgenie {phase} stopped after max_pages={self.settings.max_pages} "
                    "pages; the next poll resumes it"
                )
            if walk.stage == OPEN:
                walk, alerts = await self._open_page(walk)
            else:
                walk, alerts = await self._closed_page(walk, cutoff)
            yield walk, alerts

    async def _open_page(self, walk: _Walk) -> tuple[_Walk, list[Mapping[str, Any]]]:
        if walk.open_total is None and walk.created_from is None and walk.offset == 0:
            walk = replace(walk, open_total=await self._count(self._query("status: open")))
        terms = ["status: open"]
        if walk.created_from is not None:
            terms.append(f"createdAt >= {walk.created_from}")
        page = await self._list(
            query=self._query(*terms), sort="createdAt", order="asc", offset=walk.offset
        )
        rows: list[Mapping[str, Any]] = page["data"]
        seen = set(walk.seen)
        fresh = [row for row in rows if row["id"] not in seen]
        next_offset = _next_offset(page)
        if next_offset is None:
            return replace(walk, stage=CLOSED, created_from=None, seen=(), offset=0), fresh
        if next_offset <= walk.offset:
            raise BadPayload(f"Opsgenie paging.next goes back to offset {next_offset}")
        if not fresh:  # a page of alerts sharing one millisecond, all read: step past them
            return replace(walk, offset=next_offset), fresh
        last = _millis(rows[-1], "createdAt")
        stamp = rows[-1].get("createdAt")  # one millisecond is one string: no parse per row
        tied = [row["id"] for row in rows if row.get("createdAt") == stamp]
        if last == walk.created_from:  # still inside one millisecond: walk it by offset
            tied = [*walk.seen, *(i for i in tied if i not in seen)]
            return replace(walk, seen=tuple(tied), offset=next_offset), fresh
        return replace(walk, created_from=last, seen=tuple(tied), offset=0), fresh

    async def _closed_page(
        self, walk: _Walk, cutoff: datetime
    ) -> tuple[_Walk, list[Mapping[str, Any]]]:
        if walk.closed_total is None and walk.offset == 0:
            since = int(cutoff.timestamp() * 1000)
            estimate = await self._count(self._query("status: closed", f"createdAt >= {since}"))
            walk = replace(walk, closed_total=estimate)
        page = await self._list(
            query=self._query("status: closed"), sort="updatedAt", order="desc", offset=walk.offset
        )
        rows: list[Mapping[str, Any]] = page["data"]
        recent = [row for row in rows if _updated_at(row) >= cutoff]
        next_offset = _next_offset(page)
        if len(recent) < len(rows) or next_offset is None:
            return replace(walk, stage=DONE, offset=0), recent
        if next_offset <= walk.offset:
            raise BadPayload(f"Opsgenie paging.next goes back to offset {next_offset}")
        return replace(walk, offset=next_offset), recent

    # -- incremental ------------------------------------------------------------------------

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Alerts changed since the position, newest change first, each page resumable."""
        saved = position if isinstance(position, dict) else {}
        since = _when(saved.get("since")) or start
        top = _when(saved.get("top"))
        offset = _count(saved.get("offset")) or 0
        for _ in range(self.settings.max_pages):
            before = self.requests
            page = await self._list(
                query=self._query(), sort="updatedAt", order="desc", offset=offset
            )
            rows: list[Mapping[str, Any]] = page["data"]
            stamps = [_updated_at(row) for row in rows]
            if top is None and stamps:
                top = max(stamps)
            changed = [row for row, at in zip(rows, stamps, strict=True) if at >= since]
            next_offset = _next_offset(page)
            done = len(changed) < len(rows) or next_offset is None
            if done:
                moved = top - self.settings.overlap if top is not None else since
                cursor: Cursor = {"since": max(since, moved).isoformat()}
            else:
                assert next_offset is not None
                if next_offset <= offset:
                    raise BadPayload(f"Opsgenie paging.next goes back to offset {next_offset}")
                offset = next_offset
                top = top or since
                cursor = {"since": since.isoformat(), "top": top.isoformat(), "offset": offset}
            tickets, entries = await self._page(changed, since)
            yield PollResult(
                tickets=tickets,
                entries=tuple(entries),
                cursor=cursor,
                requests=self.requests - before,
            )
            if done:
                return
        raise ConnectorError(
            f"Opsgenie changes stopped after max_pages={self.settings.max_pages} pages; "
            "the next poll resumes them"
        )

    # -- one page's alerts ------------------------------------------------------------------

    async def _page(
        self, alerts: Sequence[Mapping[str, Any]], since: datetime | None
    ) -> tuple[tuple[TicketRecord, ...], list[ConversationEntry]]:
        """Each alert read whole, with its notes and log, fanned out; then mapped."""
        jobs: list[tuple[str, str]] = []
        for alert in alerts:
            if self.settings.details:
                jobs.append((alert["id"], "detail"))
            if self.settings.conversations:
                jobs += [(alert["id"], "notes"), (alert["id"], "logs")]
        found = await fan_out(jobs, lambda job: self._alert_part(job, since), self.limiter)
        whole: dict[str, Mapping[str, Any]] = {}
        entries: list[ConversationEntry] = []
        for (alert_id, _), result in zip(jobs, found, strict=True):
            if isinstance(result, Mapping):
                whole[alert_id] = result
            elif isinstance(result, list):
                entries.extend(result)
        merged = [whole.get(alert["id"], alert) for alert in alerts]
        await self._learn_teams(merged)
        return tuple(self._record(alert) for alert in merged), entries

    async def _alert_part(
        self, job: tuple[str, str], since: datetime | None
    ) -> Mapping[str, Any] | list[ConversationEntry] | None:
        alert_id, part = job
        path = f"{ALERTS_PATH}/{quote(alert_id, safe='')}"
        try:
            if part == "detail":
                body = await self.get(path, {"identifierType": "id"})
                data = body.get("data")
                return data if isinstance(data, Mapping) and data.get("id") == alert_id else None
            items = await self._history(f"{path}/{part}", since)
        except ConnectorError as exc:
            if exc.http_status == 404:  # deleted since it was listed
                return None
            raise
        if part == "notes":
            return [note_to_entry(item, alert_id) for item in items]
        return [log_to_entry(item, alert_id) for item in items]

    async def _history(self, path: str, since: datetime | None) -> list[Mapping[str, Any]]:
        """Notes or log lines, newest first, back to ``since`` (all when ``None``)."""
        params: dict[str, Any] = {"identifierType": "id", "order": "desc", "limit": HISTORY_PAGE}
        items: list[Mapping[str, Any]] = []
        while True:
            body = await self.get(path, params)
            data = body.get("data")
            if not isinstance(data, list):
                raise BadPayload(f"Opsgenie {path} answer has no data list")
            for item in data:
                if not isinstance(item, Mapping):
                    continue
                if since is not None and (parse_iso(item.get("createdAt")) or since) < since:
                    return items
                items.append(item)
            paging = body.get("paging")
            link = paging.get("next") if isinstance(paging, Mapping) else None
            after = parse_qs(urlsplit(link).query).get("offset") if isinstance(link, str) else None
            if not data or not after:
                return items
            params = {**params, "offset": after[0], "direction": "next"}

    async def _learn_teams(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Look team names up once when an alert names a team we do not know.

        Listing teams needs Configuration access, which an alerts-only API key
        lacks; then groups stay empty (and we stop asking) rather than failing the poll.
        """
        wanted = {tid for alert in alerts for tid in team_ids(alert)} - set(self.team_names)
        if not wanted or self._teams_unreadable:
            return
        try:
            body = await self.get(TEAMS_PATH, {})
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
            ui_url=self.settings.ui_url,
            status_map=self.status_map,
            priority_map=self.priority_map,
            team_names=self.team_names,
        )

    # -- requests ---------------------------------------------------------------------------

    def _query(self, *terms: str) -> str:
        """Our terms ANDed with the ``query`` setting."""
        mine = " AND ".join(terms)
        extra = (self.settings.query or "").strip()
        if extra and mine:
            return f"({extra}) AND {mine}"
        return extra or mine

    async def _list(self, *, query: str, sort: str, order: str, offset: int) -> Mapping[str, Any]:
        params: dict[str, Any] = {
            "sort": sort,
            "order": order,
            "limit": self.settings.page_size,
            "offset": offset,
        }
        if query:
            params["query"] = query
        page = await self.get(ALERTS_PATH, params)
        data = page.get("data")
        if not isinstance(data, list) or not all(
            isinstance(a, Mapping) and isinstance(a.get("id"), str) and a["id"] for a in data
        ):
            raise BadPayload("Opsgenie alert list has no data list of alerts with ids")
        return page

    async def _count(self, query: str) -> int | None:
        """``GET /v2/alerts/count``: the progress total (``None`` if Opsgenie will not say)."""
        try:
            body = await self.get(COUNT_PATH, {"query": query} if query else {})
        except ConnectorError as exc:
            if exc.http_status in (403, 404, 422):
                return None
            raise
        data = body.get("data")
        return _count(data.get("count")) if isinstance(data, Mapping) else None

    # -- write-back (connectors.opsgenie.actions) -------------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` sends, from settings alone (no client is built)."""
        return actions.plan(cls.options(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send ``action`` and read how Opsgenie carried it out."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The alert whose alias is this hand-off's correlation."""
        return await actions.find_existing(self, action)


def _updated_at(alert: Mapping[str, Any]) -> datetime:
    """The position of an alert in the change feed: ``updatedAt``, else ``createdAt``."""
    when = parse_iso(alert.get("updatedAt")) or parse_iso(alert.get("createdAt"))
    if when is None:
        raise BadPayload(f"Opsgenie alert {alert.get('id')!r} has no updatedAt")
    return when


def _millis(alert: Mapping[str, Any], key: str) -> int:
    when = parse_iso(alert.get(key))
    if when is None:
        raise BadPayload(f"Opsgenie alert {alert.get('id')!r} has no {key}")
    return round(when.timestamp() * 1000)


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


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None  # a cursor we did not write: start over rather than fail forever
    return when.astimezone(UTC) if when.tzinfo is not None else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _float(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None

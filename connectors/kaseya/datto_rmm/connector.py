"""The Datto RMM connector: open and resolved alerts as tickets, with no "since" to ask for.

Datto RMM API v2 lists alerts (``GET /api/v2/account/alerts/open`` and
``…/resolved``, 0-based ``page``, ``max`` ≤ 250) but has no modified-since filter
(``vendor-apis-2.md`` §2.1). So every poll reads the open list in full, page by
page, and the store's upserts do the diffing; the connector keeps, in memory
only, one fingerprint per open alert (``alertUid`` → a hash of the alert as
sent), so after its first poll it emits only the alerts that are new or
changed. Memory is bounded by a page of payload plus that map (about 150 bytes
an alert: ~15 MB at 100,000 open alerts) and, during a read, the set of uids
seen.

**Backfill** (first sync; resumable by page): every page of ``alerts/open``,
then ``alerts/resolved`` keeping alerts resolved within ``backfill_days``.

**Incremental** (every poll), in stages, each page carrying its position
``{stage, page, max, read, since, swept_at, sweep_started}``:

1. ``open``: the open list in full; new and changed alerts are emitted.
2. ``closures``: an alert the map knows as open that this read did not see has
   gone from the open list: ``GET /api/v2/alert/{uid}`` says how (resolved, by
   whom, when), fanned out ``concurrency`` at a time; a 404 means it was
   deleted (``PollResult.removed``). Only a read this process saw from its first
   page can tell what is missing, so a read resumed from a saved cursor skips
   this stage (the sweep below catches those closures).
3. ``resolved`` (every ``resolved_sweep_minutes``, and on a process's first poll):
   the resolved list, keeping alerts resolved since the last sweep began minus
   ``overlap_seconds``. Datto does not document its order, so the whole list is
   read unless ``resolved_newest_first`` says the tenant lists newest first.

Paging follows ``pageDetails.nextPageUrl`` by its query only, sent to our own
base URL and path (the URL names Datto's public host; the bearer token never
follows a host from a payload), with our own parameters filled back in where
the link drops them (DattoRMM.Core does the same); a link that does not move
to a later page is a :class:`BadPayload`.

**Pacing.** Datto allows 600 reads per rolling 60 s per account and adds a
one-second delay to every answer above 90 % (Datto's API page); writes have
their own quota (100 a minute by default). No answer says how much is left, so
:class:`~connectors.kaseya.pacing.WindowBudget` counts our requests and keeps
them under ``reads_per_minute`` times ``cutoff_ratio`` (540); with ``calibrate`` each
poll first reads ``GET /api/v2/system/request_rate`` so other integrations'
reads of the last minute count too. A 429 (with Datto's ``Retry-After``) is a
:class:`RateLimited`; inside the closure fan-out a short one is waited out.

The token is fetched and renewed by :class:`~connectors.kaseya.datto_rmm.auth.DattoRmmAuth`.
Write-back (resolve) is in :mod:`connectors.kaseya.datto_rmm.actions`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.http import DEFAULT_DEADLINE, decode_json, send
from connectors.kaseya.datto_rmm import actions
from connectors.kaseya.datto_rmm.auth import TOKEN_PATH, DattoRmmAuth
from connectors.kaseya.datto_rmm.mapping import alert_to_record, parse_datto_time
from connectors.kaseya.datto_rmm.settings import DattoRmmSettings
from connectors.kaseya.pacing import WindowBudget
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Progress, TicketRecord
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL

__all__ = ["DattoRmmConnector"]

API = "/api/v2"
OPEN_PATH = f"{API}/account/alerts/open"
RESOLVED_PATH = f"{API}/account/alerts/resolved"
ALERT_PATH = f"{API}/alert/{{uid}}"
ACCOUNT_PATH = f"{API}/account"
RATE_PATH = f"{API}/system/request_rate"
WINDOW = 60.0
"""Datto counts requests in a rolling 60 seconds."""
MAX_PACE = 15.0
"""A longer wait for room in the window fails the poll with its Retry-After instead."""

OPEN, CLOSURES, RESOLVED, DONE = "open", "closures", "resolved", "done"


@dataclass(frozen=True)
class _Position:
    """Where a backfill or a poll stands (JSON in the cursor)."""

    stage: str = OPEN
    page: int = 0
    max: int | None = None
    """The page size the list's own ``nextPageUrl`` asked for (it may cap ours)."""
    read: str | None = None
    """Which open read this is (when it began), so memory knows if it saw all of it."""
    since: str | None = None
    """Resolved alerts from here on are emitted by the next sweep."""
    swept_at: str | None = None
    sweep_started: str | None = None

    @classmethod
    def load(cls, cursor: Cursor | None, stages: Sequence[str]) -> _Position:
        if not isinstance(cursor, dict) or cursor.get("stage") not in stages:
            return cls(stage=stages[0])
        return cls(
            stage=str(cursor["stage"]),
            page=_count(cursor.get("page")) or 0,
            max=_count(cursor.get("max")) or None,
            read=_str(cursor.get("read")),
            since=_str(cursor.get("since")),
            swept_at=_str(cursor.get("swept_at")),
            sweep_started=_str(cursor.get("sweep_started")),
        )

    def dump(self) -> Cursor:
        return {
            "stage": self.stage,
            "page": self.page,
            "max": self.max,
            "read": self.read,
            "since": self.since,
            "swept_at": self.swept_at,
            "sweep_started": self.sweep_started,
        }

    def at(self, stage: str) -> _Position:
        """The start of another stage (page 0, the list's default page size)."""
        return replace(self, stage=stage, page=0, max=None)


@dataclass(frozen=True)
class _Page:
    alerts: list[Mapping[str, Any]]
    next_page: int | None
    max: int | None
    total: int | None


class DattoRmmConnector(Connector):
    """Polls one Datto RMM account's alerts (``https://{platform}-api.centrastage.net``)."""

    kind: ClassVar[str] = "datto-rmm"
    Settings: ClassVar[type[ConnectorSettings] | None] = DattoRmmSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.RESOLVE, ActionKind.SET_STATUS}
    )
    settings: DattoRmmSettings
    budget: WindowBudget
    deadline: float = DEFAULT_DEADLINE
    """Seconds one request may take from start to last byte."""

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.reads = WindowBudget(
            window=WINDOW,
            allowance=self.settings.read_allowance,
            max_wait=MAX_PACE,
            what="Datto RMM reads",
        )
        """Our reads of the last minute (Datto: 600 a rolling minute, slower above 90 %)."""
        self.budget = WindowBudget(
            window=WINDOW,
            allowance=self.settings.write_allowance,
            max_wait=MAX_PACE,
            what="Datto RMM writes",
        )
        """Writes have their own quota at Datto; the base class paces writes by ``budget``."""
        self.overrides = Overrides.from_settings(self.settings)
        self.requests = 0
        """HTTP requests sent so far (pages report their share)."""
        self._known: dict[str, int] = {}
        """Open alert uid → fingerprint of the alert as last emitted (memory only)."""
        self._seen: set[str] = set()
        """Uids the current open read has seen."""
        self._read: str | None = None
        """The open read whose every page this process saw (so ``_seen`` is complete)."""
        self._swept = False
        """Whether this process has run a resolved sweep yet."""
        self._calibrates = self.settings.calibrate

    @classmethod
    def options(cls, config: VendorConfig) -> DattoRmmSettings:
        """The section as :class:`DattoRmmSettings` (parsed once, then cached on the config)."""
        parsed = cls.parse_settings(config)
        assert isinstance(parsed, DattoRmmSettings)
        return parsed

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """The bearer token of Datto's password grant, fetched and renewed in the flow."""
        settings = cls.options(config)
        return DattoRmmAuth(
            _host(config) + TOKEN_PATH,
            secret(settings.api_key) or "",
            secret(settings.api_secret) or "",
        )

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """The platform host is the base (the token lives outside ``/api``)."""
        return super().make_client(replace(config, base_url=_host(config)))

    async def check(self) -> str:
        """``GET /api/v2/account``: proves the key, the secret and the platform."""
        body = await self._get(ACCOUNT_PATH, {})
        name = body.get("name")
        label = name.strip() if isinstance(name, str) and name.strip() else "unnamed account"
        return f"ok, account {label}"

    # -- backfill ---------------------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every open alert, then alerts resolved within ``backfill_days``."""
        where = _Position.load(position, (OPEN, RESOLVED, DONE))
        cutoff = started - self.settings.backfill
        before = self.requests
        await self._calibrate()
        pages = 0
        while where.stage != DONE:
            pages += 1
            self._guard(pages, "backfill")
            path = OPEN_PATH if where.stage == OPEN else RESOLVED_PATH
            page = await self._list(path, where)
            if where.stage == OPEN:
                tickets = tuple(self._remember(alert) for alert in page.alerts)
            else:
                recent = [a for a in page.alerts if _resolved_at(a) >= cutoff]
                tickets = tuple(self._record(alert) for alert in recent)
                if self.settings.resolved_newest_first and page.alerts and not recent:
                    page = replace(page, next_page=None)  # past the window: the rest is older
            if page.next_page is None:
                where = where.at(RESOLVED if where.stage == OPEN else DONE)
            else:
                where = replace(where, page=page.next_page, max=page.max)
            yield PollResult(
                tickets=tickets,
                cursor=where.dump(),
                requests=self.requests - before,
                progress=Progress(BACKFILL, 0, None),  # open alerts carry no totalCount
            )
            before = self.requests

    # -- incremental ------------------------------------------------------------------------

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """The open list in full, confirmed closures, then (when due) the resolved sweep."""
        now = datetime.now(UTC)
        where = _Position.load(position, (OPEN, CLOSURES, RESOLVED))
        if where.since is None:
            where = replace(where, since=start.isoformat(), swept_at=start.isoformat())
        before = self.requests
        await self._calibrate()
        if where.stage == OPEN and where.page == 0:
            read = now.isoformat()
            where = replace(where, read=read)
            self._read, self._seen = read, set()
        covered = where.read is not None and where.read == self._read
        pages = 0
        while where.stage == OPEN:
            pages += 1
            self._guard(pages, "open alert read")
            page = await self._list(OPEN_PATH, where)
            tickets = tuple(self._changed(page.alerts, covered))
            if page.next_page is None:
                where = where.at(CLOSURES)
            else:
                where = replace(where, page=page.next_page, max=page.max)
            yield PollResult(tickets=tickets, cursor=where.dump(), requests=self.requests - before)
            before = self.requests
        if where.stage == CLOSURES:
            if covered:
                async for result in self._closures(where):
                    yield result
            self._seen = set()
            where = self._after_closures(where, now)
            if where.stage != RESOLVED:
                yield PollResult(cursor=where.dump(), requests=self.requests - before)
                return
            before = self.requests
        since = (_when(where.since) or start) - self.settings.overlap
        while where.stage == RESOLVED:
            pages += 1
            self._guard(pages, "resolved sweep")
            page = await self._list(RESOLVED_PATH, where)
            recent = [alert for alert in page.alerts if _resolved_at(alert) >= since]
            for alert in recent:
                self._known.pop(_uid(alert), None)
            if self.settings.resolved_newest_first and page.alerts and not recent:
                page = replace(page, next_page=None)
            if page.next_page is None:
                swept = where.sweep_started or now.isoformat()
                where = replace(where.at(OPEN), since=swept, swept_at=swept, sweep_started=None)
                self._swept = True
            else:
                where = replace(where, page=page.next_page, max=page.max)
            yield PollResult(
                tickets=tuple(self._record(alert) for alert in recent),
                cursor=where.dump(),
                requests=self.requests - before,
            )
            before = self.requests

    def _after_closures(self, where: _Position, now: datetime) -> _Position:
        """The resolved sweep when due (and on this process's first poll), else done."""
        swept_at = _when(where.swept_at)
        interval = timedelta(minutes=self.settings.resolved_sweep_minutes)
        due = not self._swept or swept_at is None or now - swept_at >= interval
        if due:
            return replace(where.at(RESOLVED), sweep_started=now.isoformat())
        return where.at(OPEN)

    async def _closures(self, where: _Position) -> AsyncIterator[PollResult]:
        """Alerts gone from the open list: each read on its own, a page of them at a time."""
        missing = [uid for uid in self._known if uid not in self._seen]
        size = self.settings.page_size
        for index in range(0, len(missing), size):
            before = self.requests
            chunk = missing[index : index + size]
            found = await fan_out(chunk, self._alert, self.limiter)
            tickets: list[TicketRecord] = []
            removed: list[str] = []
            for uid, alert in zip(chunk, found, strict=True):
                self._seen.add(uid)
                if alert is None:
                    self._known.pop(uid, None)
                    removed.append(uid)
                    continue
                if alert.get("resolved") is True:
                    self._known.pop(uid, None)
                else:  # still open: the read missed it as the list moved under the pages
                    self._known[uid] = _fingerprint(alert)
                tickets.append(self._record(alert))
            yield PollResult(
                tickets=tuple(tickets),
                removed=tuple(removed),
                cursor=where.dump(),
                requests=self.requests - before,
            )

    async def _alert(self, uid: str) -> Mapping[str, Any] | None:
        """``GET /api/v2/alert/{uid}``; ``None`` when Datto no longer has it (404)."""
        try:
            body = await self._get(ALERT_PATH.format(uid=quote(uid, safe="")), {})
        except ConnectorError as exc:
            if exc.http_status == 404:
                return None
            raise
        if body.get("alertUid") != uid:
            raise BadPayload(f"Datto RMM answered alert {uid[:40]!r} with another alert")
        return body

    # -- one page ---------------------------------------------------------------------------

    async def _list(self, path: str, where: _Position) -> _Page:
        """One page of an alert list, and where its ``nextPageUrl`` goes."""
        size = where.max or self.settings.page_size
        params: dict[str, Any] = {"page": where.page, "max": size}
        body = await self._get(path, params)
        alerts = body.get("alerts")
        if alerts is None:
            alerts = []
        if not isinstance(alerts, list) or not all(
            isinstance(a, Mapping) and isinstance(a.get("alertUid"), str) and a["alertUid"]
            for a in alerts
        ):
            raise BadPayload("Datto RMM alerts page has no list of alerts with an alertUid")
        details = body.get("pageDetails")
        details = details if isinstance(details, Mapping) else {}
        next_page, next_max = _follow(details.get("nextPageUrl"), where.page, size)
        total = _count(details.get("totalCount"))
        return _Page(alerts, next_page, next_max, total)

    def _changed(self, alerts: Sequence[Mapping[str, Any]], covered: bool) -> list[TicketRecord]:
        """The alerts of an open page that are new or differ from what was emitted."""
        out = []
        for alert in alerts:
            uid = _uid(alert)
            if covered:
                self._seen.add(uid)
            mark = _fingerprint(alert)
            if self._known.get(uid) == mark:
                continue
            self._known[uid] = mark
            out.append(self._record(alert))
        return out

    def _remember(self, alert: Mapping[str, Any]) -> TicketRecord:
        self._known[_uid(alert)] = _fingerprint(alert)
        return self._record(alert)

    def _record(self, alert: Mapping[str, Any]) -> TicketRecord:
        return self.overrides.apply(alert_to_record(alert, alert_url=self.settings.alert_url))

    def _guard(self, pages: int, what: str) -> None:
        if pages > self.settings.max_pages:
            raise ConnectorError(
                f"Datto RMM {what} stopped after max_pages={self.settings.max_pages} pages; "
                "the next poll resumes it"
            )

    # -- requests ---------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """GET a JSON object, paced by our count of the account's reads."""
        self.requests += 1
        response = await send(
            self.client,
            "GET",
            path,
            params=dict(params),
            budget=self.reads,
            deadline=self.deadline,
        )
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Datto RMM {path} answer is not a JSON object")
        return body

    async def _calibrate(self) -> None:
        """``GET /api/v2/system/request_rate``: count other integrations' requests too.

        An account that may not read it (403/404) is not asked again; the
        poll goes on paced by our own count.
        """
        if not self._calibrates:
            return
        try:
            body = await self._get(RATE_PATH, {})
        except ConnectorError as exc:
            if exc.http_status in (403, 404):
                self._calibrates = False
                return
            raise
        limit = _count(body.get("accountRateLimit")) or self.settings.reads_per_minute
        ratio = body.get("accountCutOffRatio")
        cutoff = self.settings.cutoff_ratio
        if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and 0 < ratio <= 1:
            cutoff = min(cutoff, float(ratio))
        self.reads.calibrate(_count(body.get("accountCount")) or 0, max(int(limit * cutoff), 1))
        write_limit = _count(body.get("accountWriteRateLimit"))
        if write_limit:
            self.budget.calibrate(
                _count(body.get("accountWriteCount")) or 0, max(int(write_limit * cutoff), 1)
            )

    # -- write-back (connectors.kaseya.datto_rmm.actions) ------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The request ``action`` sends, from the action alone (no client, no credentials)."""
        return actions.plan(action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the resolve."""
        return await actions.perform(self, action)


def _host(config: VendorConfig) -> str:
    """The platform host: a base_url given with ``/api`` or ``/api/v2`` is accepted."""
    base = config.base_url.rstrip("/")
    for suffix in ("/api/v2", "/api"):
        base = base.removesuffix(suffix)
    return base


def _follow(link: Any, page: int, size: int) -> tuple[int | None, int | None]:
    """``nextPageUrl`` as ``(page, max)``: its query only; ``(None, None)`` at the end."""
    if link is None or link == "":
        return None, None
    if not isinstance(link, str):
        raise BadPayload("Datto RMM nextPageUrl is not a URL")
    query = parse_qs(urlsplit(link).query)
    try:
        next_page = int(query["page"][0])
        next_max = int(query["max"][0]) if query.get("max") else size
    except (KeyError, IndexError, ValueError):
        raise BadPayload("Datto RMM nextPageUrl has no page number") from None
    if next_page <= page:
        raise BadPayload(f"Datto RMM nextPageUrl does not move past page {page}")
    if next_max < 1:
        raise BadPayload("Datto RMM nextPageUrl asks for an empty page size")
    return next_page, next_max


def _fingerprint(alert: Mapping[str, Any]) -> int:
    """A hash of the alert as sent: equal for an alert that did not change."""
    return hash(json.dumps(alert, sort_keys=True, separators=(",", ":"), default=str))


def _uid(alert: Mapping[str, Any]) -> str:
    return str(alert["alertUid"])


def _resolved_at(alert: Mapping[str, Any]) -> datetime:
    """When a resolved alert was resolved (else raised), for the window tests."""
    when = parse_datto_time(alert.get("resolvedOn")) or parse_datto_time(alert.get("timestamp"))
    return when or datetime.min.replace(tzinfo=UTC)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

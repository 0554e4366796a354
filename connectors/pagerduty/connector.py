"""The PagerDuty connector: a keyset backfill of ``/incidents``, then the ``/log_entries`` feed.

PagerDuty cannot sort or filter incidents by update time, refuses an
``offset + limit`` beyond 10,000 and a ``since``/``until`` range beyond six
months (``date_range=all`` lifts the range but ignores ``since``/``until``), and
filters ``since``/``until`` on creation time. So:

**Backfill** (resumable, in two stages; each page's cursor is the keyset after it)::

    1. open, any age:
       GET /incidents?statuses[]=triggered&statuses[]=acknowledged
           &sort_by=created_at:asc,incident_number:asc&limit=100&offset=0
           &date_range=all&total=true                       (first page)
       GET /incidents?statuses[]=triggered&statuses[]=acknowledged
           &sort_by=created_at:asc,incident_number:asc&limit=100&offset=0
           &since=<last created_at - 1 s>&until=<since + 179 days, at most the start>
    2. resolved, created within backfill_days:
       GET /incidents?statuses[]=resolved&sort_by=created_at:asc,incident_number:asc
           &limit=100&offset=0&since=<start - backfill_days>&until=<the start>&total=true
       and on as in 1, window by window of at most 179 days.

The keyset is ``(created_at, incident_number)``: each request starts a second
before the last incident read and drops what it already has, so an incident
resolved (or created) while the backfill runs never shifts a later one out of
reach, and offsets stay near 0, far from the 10,000 cap (only more than a page
of incidents created within one second pages by offset). A window with nothing
more moves the next one up; a stage ends at the backfill's start, from where the
log feed takes over. ``total=true`` on each stage's first request gives
``progress.total``. Resolved incidents are those *created* within
``backfill_days`` (PagerDuty has no resolved-at filter): one opened before the
window and resolved inside it is not in the backfill.

**Incremental** (``vendor-apis.md`` §5.3): the account-wide log::

    GET /log_entries?since=<position>&until=<now, fixed for the window>
        &include[]=incidents&limit=100&offset=<k>&total=true (total: first page only)

A window's ``until`` is fixed when it starts, so its set of entries does not
move while it is paged (log entries are append-only) and each page's cursor
``{since, until, offset}`` resumes inside it; the next window starts at
``until`` minus ``overlap_seconds``. A window holding more than 10,000 entries
is halved before it is read. ``include[]=incidents`` embeds each entry's
incident, so the changed incidents arrive in bulk, with no request of their
own (a bare reference is fetched). Every kind of log entry marks its incident
changed (``is_overview=true`` would leave out assignments and notes).

**History** (the sync's third phase, :meth:`Connector.history_pages`): the
backfill reads incidents only, about one list request per 100 incidents, so
the first sync brings the whole queue in seconds; their histories follow.
The walk runs the backfill's list queries again by the same keyset (from the
same start, so the same windows) and, per page, reads each incident's
``GET /incidents/{id}/log_entries`` (system entries) and, only when that log
shows a note, ``GET /incidents/{id}/notes`` (internal entries), fanned out
``concurrency`` at a time: about 1,000 to 1,300 requests per 1,000 incidents.
At most ``history_pages_per_poll`` pages (default 5, so 500 incidents) a poll,
after the incremental pages: 10,000 incidents take 20 polls. The trade-off:
the queue arrives first, histories follow. An incident that left both stages'
scope meanwhile (an old open one resolved) is not walked; its changes come
through the log feed anyway.

In the incremental phase the log page itself is the system history, and notes
are read only for incidents whose entries on the page include a note, keeping
those written since the window's start. PagerDuty keeps no attachments on
incidents.

Write-back is in :mod:`connectors.pagerduty.actions`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.pagerduty import actions
from connectors.pagerduty.mapping import (
    incident_id,
    incident_to_record,
    log_entry_to_entry,
    note_to_entry,
)
from connectors.pagerduty.settings import PagerDutySettings
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL, HISTORY
from connectors.timestamps import parse_iso

__all__ = ["PagerDutyConnector"]

ACCEPT = "application/vnd.pagerduty+json;version=2"
ITERATION_LIMIT = 10_000
"""PagerDuty refuses ``offset + limit`` beyond this."""
WINDOW = timedelta(days=179)
"""The longest ``since``/``until`` range asked for (PagerDuty's cap is six months)."""
MARGIN = timedelta(seconds=1)
"""Timestamps are whole seconds: a keyset restarts one second early and drops what it has."""
INCIDENT_SORT = "created_at:asc,incident_number:asc"
OPEN_STATUSES = ("triggered", "acknowledged")
OPEN, RESOLVED, DONE = "open", "resolved", "done"
NOTE_LOG = "annotate_log_entry"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _Walk:
    """Where a backfill stands: the stage, and the keyset position inside it."""

    stage: str = OPEN
    since: datetime | None = None
    """The next request's ``since``; ``None``: the open stage's first page (``date_range=all``)."""
    after: tuple[datetime, int] | None = None
    """``(created_at, incident_number)`` of the last incident read in this stage."""
    offset: int = 0
    """Only above 0 while more than a page of incidents shares one second."""
    open_total: int | None = None
    resolved_total: int | None = None

    @classmethod
    def load(cls, position: Cursor | None) -> _Walk:
        if not isinstance(position, dict) or position.get("stage") not in (OPEN, RESOLVED, DONE):
            return cls()
        after = position.get("after")
        key: tuple[datetime, int] | None = None
        if isinstance(after, list) and len(after) == 2 and isinstance(after[1], int):
            when = parse_iso(after[0])
            key = (when, after[1]) if when is not None else None
        return cls(
            stage=str(position["stage"]),
            since=parse_iso(position.get("since")),
            after=key,
            offset=_count(position.get("offset")) or 0,
            open_total=_count(position.get("open_total")),
            resolved_total=_count(position.get("resolved_total")),
        )

    def dump(self) -> Cursor:
        return {
            "stage": self.stage,
            "since": _iso(self.since) if self.since else None,
            "after": [_iso(self.after[0]), self.after[1]] if self.after else None,
            "offset": self.offset,
            "open_total": self.open_total,
            "resolved_total": self.resolved_total,
        }

    @property
    def total(self) -> int | None:
        if self.open_total is None and self.resolved_total is None:
            return None
        return (self.open_total or 0) + (self.resolved_total or 0)

    def next_stage(self) -> _Walk:
        stage = RESOLVED if self.stage == OPEN else DONE
        return replace(self, stage=stage, since=None, after=None, offset=0)


class PagerDutyConnector(Connector):
    """Polls ``https://api.pagerduty.com`` (or the EU host) with a REST API key."""

    kind: ClassVar[str] = "pagerduty"
    Settings: ClassVar[type[ConnectorSettings] | None] = PagerDutySettings
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
    create_dedupe: ClassVar[str | None] = "incident_key"
    settings: PagerDutySettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.budget = RateBudget(
            RateHeaders("ratelimit-remaining", "ratelimit-limit", "ratelimit-reset")
        )
        self.overrides = Overrides.from_settings(self.settings)
        self.requests = 0
        """HTTP requests sent so far (pages report their share)."""

    @classmethod
    def options(cls, config: VendorConfig) -> PagerDutySettings:
        """The section as :class:`PagerDutySettings` (parsed once, then cached on the config)."""
        settings = cls.parse_settings(config)
        assert isinstance(settings, PagerDutySettings)
        return settings

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """PagerDuty's token header and its versioned media type."""
        token = secret(cls.options(config).api_token)
        return {"Authorization": f"Token token={token}", "Accept": ACCEPT}

    async def get(self, path: str, params: Sequence[tuple[str, str]]) -> Mapping[str, Any]:
        """One GET, paced by the rate budget; the answer must be a JSON object."""
        self.requests += 1
        query = urlencode(list(params), quote_via=quote)  # httpx2's own params cost ~20% more CPU
        url = f"{path}?{query}" if query else path
        response = await send(self.client, "GET", url, budget=self.budget)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"PagerDuty {path} answer is not a JSON object")
        return body

    async def check(self) -> str:
        """``/abilities``: proves the key and shows what the account can do."""
        body = await self.get("/abilities", [])
        abilities = body.get("abilities")
        count = len(abilities) if isinstance(abilities, list) else 0
        return f"ok, {count} abilities"

    # -- backfill --------------------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Open incidents of any age, then resolved ones created within ``backfill_days``.

        Incidents only (one list request per page): their histories follow in
        :meth:`history_pages`.
        """
        before = self.requests
        async for walk, kept in self._incident_pages(position, started, "backfill"):
            yield PollResult(
                tickets=tuple(record for _, record in kept),
                cursor=walk.dump(),
                requests=self.requests - before,
                progress=Progress(BACKFILL, 0, walk.total),
            )
            before = self.requests

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The backfill's list queries again; each page's incidents' log and notes, fanned out."""
        if not self.settings.conversations:
            return
        before = self.requests
        async for walk, kept in self._incident_pages(position, started, "history walk"):
            entries = await self._histories([row for row, _ in kept])
            yield PollResult(
                entries=tuple(entries),
                cursor=walk.dump(),
                requests=self.requests - before,
                progress=Progress(HISTORY, len(kept), walk.total),
            )
            before = self.requests

    async def _incident_pages(
        self, position: Cursor | None, started: datetime, phase: str
    ) -> AsyncIterator[tuple[_Walk, list[tuple[Mapping[str, Any], TicketRecord]]]]:
        """The backfill's keyset walk: each page's new incidents (raw and mapped), and the
        walk's position after it. The history walk runs it again from its own position."""
        walk = _Walk.load(position)
        size = self.settings.page_size
        pages = 0
        while walk.stage != DONE:
            if walk.stage == RESOLVED and walk.since is None and walk.after is None:
                walk = replace(walk, since=started - self.settings.backfill)
            if walk.since is not None and walk.since >= started:
                walk = walk.next_stage()
                continue
            pages += 1
            if pages > self.settings.max_pages:
                raise ConnectorError(
                    f"PagerDuty {phase} stopped after max_pages={self.settings.max_pages} "
                    "pages; the next poll resumes it"
                )
            counted = walk.open_total if walk.stage == OPEN else walk.resolved_total
            first = walk.offset == 0 and walk.after is None and counted is None
            statuses = OPEN_STATUSES if walk.stage == OPEN else ("resolved",)
            params = [("statuses[]", s) for s in statuses]
            params += [("sort_by", INCIDENT_SORT), ("limit", str(size))]
            params.append(("offset", str(walk.offset)))
            until: datetime | None = None
            if walk.since is None:
                params.append(("date_range", "all"))
            else:
                until = min(walk.since + WINDOW, started)
                params += [("since", _iso(walk.since)), ("until", _iso(until))]
            if first:
                params.append(("total", "true"))
            body = await self.get("/incidents", params)
            rows = _rows(body, "incidents")
            if first:  # the stage's first window: PagerDuty's count is the estimate
                total = _count(body.get("total"))
                walk = (
                    replace(walk, open_total=total)
                    if walk.stage == OPEN
                    else replace(walk, resolved_total=total)
                )
            mapped = self._records(rows)  # each timestamp parsed once: the keyset reads the records
            keyed = [
                (_key(row, record), row, record) for row, record in zip(rows, mapped, strict=True)
            ]
            kept = [
                (row, record)
                for key, row, record in keyed
                if walk.after is None or key > walk.after
            ]
            if body.get("more") is True:
                if kept:
                    last = max(key for key, _, _ in keyed)
                    since = last[0] - MARGIN
                    walk = replace(
                        walk, since=max(since, walk.since or since), after=last, offset=0
                    )
                else:  # a page of incidents sharing one second, all read: step past them
                    offset = walk.offset + max(len(rows), 1)
                    if offset + size > ITERATION_LIMIT:
                        raise BadPayload("over 10,000 PagerDuty incidents created within a second")
                    walk = replace(walk, offset=offset)
            elif until is None or until >= started:
                walk = walk.next_stage()
            else:  # this window is read: the next one starts where it ended
                walk = replace(walk, since=until - MARGIN, offset=0)
            yield walk, kept

    async def _histories(self, incidents: Sequence[Mapping[str, Any]]) -> list[ConversationEntry]:
        """Each incident's system log and (when it has any) notes, fanned out."""
        idents = [i["id"] for i in incidents if isinstance(i.get("id"), str) and i["id"]]
        found = await fan_out(idents, self._history, self.limiter)
        return [entry for entries in found for entry in entries]

    async def _history(self, ident: str) -> list[ConversationEntry]:
        path = f"/incidents/{quote(ident, safe='')}/log_entries"
        size = self.settings.page_size
        entries: list[ConversationEntry] = []
        noted = False
        offset = 0
        while offset + size <= ITERATION_LIMIT:
            body = await self.get(path, [("limit", str(size)), ("offset", str(offset))])
            rows = _rows(body, "log_entries")
            for row in rows:
                noted = noted or row.get("type") == NOTE_LOG
                entry = log_entry_to_entry(row, ident)
                if entry is not None:
                    entries.append(entry)
            if body.get("more") is not True or not rows:
                break
            offset += len(rows)
        if noted:
            entries.extend(await self._notes(ident, None))
        return entries

    async def _notes(self, ident: str, since: datetime | None) -> list[ConversationEntry]:
        """An incident's notes (one unpaged list), those written or edited since ``since``."""
        body = await self.get(f"/incidents/{quote(ident, safe='')}/notes", [])
        notes = body.get("notes")
        if not isinstance(notes, list):
            raise BadPayload("PagerDuty notes answer has no notes list")
        entries = [note_to_entry(n, ident) for n in notes if isinstance(n, Mapping)]
        if since is None:
            return entries
        return [e for e in entries if (e.updated_at or e.created_at) >= since]

    # -- incremental -----------------------------------------------------------------------

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """The account's log since ``position``, window by window, each page resumable."""
        since = parse_iso(position.get("since")) if isinstance(position, dict) else None
        until = parse_iso(position.get("until")) if isinstance(position, dict) else None
        offset = _count(position.get("offset")) if isinstance(position, dict) else None
        since = since or start
        offset = offset or 0
        now = datetime.now(UTC)
        size = self.settings.page_size
        pages = 0
        halved = False
        while True:
            window_end = until or _next_second(max(now, since + MARGIN))
            before = self.requests
            params = [
                ("since", _iso(since)),
                ("until", _iso(window_end)),
                ("include[]", "incidents"),
                ("limit", str(size)),
                ("offset", str(offset)),
            ]
            if offset == 0:
                params.append(("total", "true"))
            body = await self.get("/log_entries", params)
            total = _count(body.get("total"))
            if offset == 0 and total is not None and total > ITERATION_LIMIT:
                half = (window_end - since) / 2
                if half >= 2 * MARGIN:  # too many to page: read the older half first
                    until, halved = since + half, True
                    continue
            until = window_end
            rows = _rows(body, "log_entries")
            more = body.get("more") is True and bool(rows)
            tickets, entries = await self._log_page(rows, since)
            pages += 1
            if more:
                offset += len(rows)
                if offset + size > ITERATION_LIMIT:
                    raise BadPayload("a PagerDuty log window grew past 10,000 entries while read")
                cursor: Cursor = {"since": _iso(since), "until": _iso(until), "offset": offset}
            else:  # the next window re-reads the overlap (a halved one's older half need not)
                since = until - (MARGIN if halved else max(self.settings.overlap, MARGIN))
                cursor = {"since": _iso(since), "until": None, "offset": 0}
            yield PollResult(
                tickets=tickets,
                entries=tuple(entries),
                cursor=cursor,
                requests=self.requests - before,
            )
            if not more:
                if until >= now:
                    return
                until, offset, halved = None, 0, False  # a halved or resumed window: on
            if pages >= self.settings.max_pages:
                raise ConnectorError(
                    f"PagerDuty log stopped after max_pages={self.settings.max_pages} pages; "
                    "the next poll resumes it"
                )

    async def _log_page(
        self, rows: Sequence[Mapping[str, Any]], since: datetime
    ) -> tuple[tuple[TicketRecord, ...], list[ConversationEntry]]:
        """The incidents a page of log entries names (embedded, else fetched) and its history."""
        incidents: dict[str, Mapping[str, Any]] = {}
        bare: list[str] = []
        noted: list[str] = []
        entries: list[ConversationEntry] = []
        for row in rows:
            incident = row.get("incident")
            ident = incident.get("id") if isinstance(incident, Mapping) else None
            if not isinstance(ident, str) or not ident:
                continue
            assert isinstance(incident, Mapping)
            if "status" in incident and "created_at" in incident:
                incidents[ident] = incident
            elif ident not in bare:
                bare.append(ident)
            if not self.settings.conversations:
                continue
            if row.get("type") == NOTE_LOG:
                if ident not in noted:
                    noted.append(ident)
                continue
            entry = log_entry_to_entry(row, ident)
            if entry is not None:
                entries.append(entry)
        missing = [ident for ident in bare if ident not in incidents]
        for found in await fan_out(missing, self._incident, self.limiter):
            if found is not None:
                incidents[incident_id(found)] = found
        if noted:
            for notes in await fan_out(noted, lambda i: self._notes(i, since), self.limiter):
                entries.extend(notes)
        return self._records(list(incidents.values())), entries

    async def _incident(self, ident: str) -> Mapping[str, Any] | None:
        """``GET /incidents/{id}``; ``None`` when it is gone (deleted or merged away)."""
        try:
            body = await self.get(f"/incidents/{quote(ident, safe='')}", [])
        except ConnectorError as exc:
            if exc.http_status == 404:
                return None
            raise
        incident = body.get("incident")
        return incident if isinstance(incident, Mapping) else None

    def _records(self, incidents: Sequence[Mapping[str, Any]]) -> tuple[TicketRecord, ...]:
        ui_url = self.settings.ui_url
        apply = self.overrides.apply
        return tuple(apply(incident_to_record(i, ui_url=ui_url)) for i in incidents)

    # -- write-back (connectors.pagerduty.actions) ------------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` sends, from settings alone (no client is built)."""
        return actions.plan(cls.options(config), config.name, action)

    async def perform(self, action: Action) -> ActionResult:
        """Send ``action`` (see :func:`connectors.pagerduty.actions.perform`)."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The incident already carrying this hand-off's ``incident_key``."""
        return await actions.find_existing(self, action)


def _next_second(value: datetime) -> datetime:
    """The whole second at or after ``value``: a window ends after what this second logged."""
    whole = value.replace(microsecond=0)
    return whole if whole == value else whole + MARGIN


def _rows(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = body.get(key)
    if not isinstance(rows, list):
        raise BadPayload(f"PagerDuty answer has no {key} list")
    return [row for row in rows if isinstance(row, Mapping)]


def _key(incident: Mapping[str, Any], record: TicketRecord) -> tuple[datetime, int]:
    """The backfill keyset: ``(created_at, incident_number)``."""
    number = incident.get("incident_number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadPayload("PagerDuty incident without an incident_number")
    return record.created_at, number


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

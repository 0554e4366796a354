"""The Kaseya BMS connector: service desk tickets by last activity, their notes, writes.

All reads are ``GET /v2/servicedesk/tickets`` with ``Filter.*`` parameters,
``PageSize`` (≤ 100) and a 1-based ``PageNumber``, answered ``{success, error,
result[], totalRecords}`` (BMS-OAS ``TicketListDtoListPagedResponse``).

**Paging without a documented order.** The ``Sort`` syntax is not documented,
so the connector does not sort and does not depend on the order, only on it
being stable between requests. Every read is bounded above in time
(``Filter.LastActivityUpdateTo``), so a ticket can only *leave* the result set
while it is read (it changed, so its last activity moved past the bound); a
departure before our position shifts the rest up. Each page's
``totalRecords`` tells how many left since the last page, and the position
steps back that many rows before reading on: a page may repeat rows (upserts),
but none is skipped. A position is ``{offset, total}`` plus the stage's bounds.

**Backfill** (first sync; resumable), two stages:

1. ``Filter.ExcludeCompleted=1&Filter.LastActivityUpdateTo={started}``: every
   ticket not completed, whatever its age;
2. ``Filter.CompletedDateFrom={started - backfill_days}&Filter.LastActivityUpdateTo={started}``:
   tickets completed within the window.

**Incremental** (every poll; the first starts where the backfill began, minus
``overlap_seconds``): windows ``Filter.LastActivityUpdateFrom={since}
&Filter.LastActivityUpdateTo={until}`` with ``until`` = now when the window
opens; when a window is read to its end, the next starts at ``until`` minus
the overlap. Tickets that changed are emitted with their notes
(``GET /v2/servicedesk/tickets/{id}/notes``, paged, fanned out
``concurrency`` at a time) when ``conversations`` is on.

**History** (the sync's third phase, :meth:`Connector.history_pages`): notes
cost one request per ticket, so the backfill reads tickets alone and the notes
of what it read follow a few pages a poll after the incremental ones
(``history_pages_per_poll``): the backfill's two queries again, bounded by the
same instant, each page's tickets' notes read while the notes endpoint's hour
has room. When it has none, the walk waits in place (a page without requests)
for a later poll, and a reserve of the list endpoint's hour is always left to
the incremental polls, so a large tenant's history never holds up its live
changes.

Date-times are sent without an offset, in ``time_zone`` (UTC unless set), to
the microsecond (``2026-03-04T09:02:37.123456``): the spec does not say which
zone BMS reads them in, and whether it keeps a filter's fraction is not
documented either (a bound cut to the second would only move a change into the
next window, which starts ``overlap_seconds`` earlier).

**Pacing.** BMS allows 1,500 calls an hour per endpoint (Kaseya's BMS API page)
and answers carry no budget headers, so each endpoint (path template) has its
own :class:`~connectors.kaseya.pacing.WindowBudget` of ``requests_per_hour`` times
``pace_ratio`` per rolling hour. When an endpoint's hour is spent the poll stops
with :class:`RateLimited` (its Retry-After is when a slot frees) and the next
poll resumes from the last committed page.

Auth is :class:`~connectors.kaseya.bms.auth.KaseyaBmsAuth`; write-back (notes,
status, resolve) is in :mod:`connectors.kaseya.bms.actions`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError, RateLimited
from connectors.fanout import fan_out
from connectors.http import DEFAULT_DEADLINE, decode_json, send
from connectors.kaseya.bms import actions
from connectors.kaseya.bms.auth import KaseyaBmsAuth
from connectors.kaseya.bms.mapping import (
    format_bms_time,
    note_to_entry,
    pick,
    ticket_to_record,
    unwrap,
)
from connectors.kaseya.bms.settings import KaseyaBmsSettings
from connectors.kaseya.pacing import WindowBudget
from connectors.overrides import Overrides
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL, HISTORY

__all__ = ["KaseyaBmsConnector"]

TICKETS_PATH = "/v2/servicedesk/tickets"
NOTES_PATH = "/v2/servicedesk/tickets/{id}/notes"
USERINFO_PATH = "/v2/security/userinfo"
HOUR = 3600.0
MAX_PACE = 30.0
"""A longer wait for an endpoint's hourly budget fails the poll with its Retry-After."""
NOTES_PAGE = 100
REWINDS = 10
"""Reads of one page while the result set keeps shrinking under it, before giving up."""
OPEN, CLOSED, DONE = "open", "closed", "done"


@dataclass(frozen=True)
class _Scan:
    """A read of one bounded result set: how far it got and how large it last was."""

    offset: int = 0
    """Rows consumed so far (in the server's own order)."""
    total: int | None = None
    """``totalRecords`` at the last page read."""


@dataclass(frozen=True)
class _Backfill:
    stage: str = OPEN
    scan: _Scan = _Scan()
    open_total: int | None = None
    closed_total: int | None = None

    @classmethod
    def load(cls, cursor: Cursor | None) -> _Backfill:
        if not isinstance(cursor, dict) or cursor.get("stage") not in (OPEN, CLOSED, DONE):
            return cls()
        return cls(
            stage=str(cursor["stage"]),
            scan=_Scan(_count(cursor.get("offset")) or 0, _count(cursor.get("total"))),
            open_total=_count(cursor.get("open_total")),
            closed_total=_count(cursor.get("closed_total")),
        )

    def dump(self) -> Cursor:
        return {
            "stage": self.stage,
            "offset": self.scan.offset,
            "total": self.scan.total,
            "open_total": self.open_total,
            "closed_total": self.closed_total,
        }


class KaseyaBmsConnector(Connector):
    """Polls one BMS tenant's service desk (``https://api.bms.kaseya.com`` or a regional host)."""

    kind: ClassVar[str] = "kaseya-bms"
    Settings: ClassVar[type[ConnectorSettings] | None] = KaseyaBmsSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.SET_STATUS, ActionKind.SET_PRIORITY, ActionKind.RESOLVE}
    )
    settings: KaseyaBmsSettings
    deadline: float = DEFAULT_DEADLINE
    """Seconds one request may take from start to last byte."""

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.budgets: dict[str, WindowBudget] = {}
        """Per endpoint (path template): our requests of the last hour."""
        self.overrides = Overrides.from_settings(self.settings)
        self.zone = self.settings.zone
        self.requests = 0
        """HTTP requests sent so far (pages report their share)."""
        self.status_ids: dict[str, int] = {}
        """Status name (lower case) → id, looked up once for ``set_status``."""

    @classmethod
    def options(cls, config: VendorConfig) -> KaseyaBmsSettings:
        """The section as :class:`KaseyaBmsSettings` (parsed once, then cached on the config)."""
        parsed = cls.parse_settings(config)
        assert isinstance(parsed, KaseyaBmsSettings)
        return parsed

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """The JWT of BMS's form login, refreshed and renewed inside the client's auth flow."""
        settings = cls.options(config)
        return KaseyaBmsAuth(
            _base(config),
            settings.username or "",
            secret(settings.password) or "",
            settings.tenant or "",
            settings.zone,
        )

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """A base_url given with the ``/v2`` suffix is accepted."""
        return super().make_client(replace(config, base_url=_base(config)))

    def budget_for(self, endpoint: str) -> WindowBudget:
        """The hourly budget of one endpoint (a path template such as ``…/{id}/notes``)."""
        budget = self.budgets.get(endpoint)
        if budget is None:
            budget = self.budgets[endpoint] = WindowBudget(
                window=HOUR,
                allowance=self.settings.allowance,
                max_wait=MAX_PACE,
                what=f"BMS {endpoint}",
            )
        return budget

    async def check(self) -> str:
        """``GET /v2/security/userinfo``: proves the login and names the user."""
        result = await self.get(USERINFO_PATH, USERINFO_PATH, {}, "user info")
        name = pick(result, "FullName") if isinstance(result, Mapping) else None
        label = name.strip() if isinstance(name, str) and name.strip() else "unknown user"
        return f"ok, signed in as {label}"

    # -- backfill ---------------------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every ticket not completed, then tickets completed within ``backfill_days``."""
        where = _Backfill.load(position)
        bound = format_bms_time(started, self.zone)
        cutoff = format_bms_time(started - self.settings.backfill, self.zone)
        pages = 0
        while where.stage != DONE:
            pages += 1
            self._guard(pages, "backfill")
            before = self.requests
            filters = self._stage_filters(where.stage, bound, cutoff)
            rows, scan, done = await self._scan_page(filters, where.scan)
            if where.stage == OPEN:
                where = replace(where, open_total=scan.total)
            else:
                where = replace(where, closed_total=scan.total)
            if done:
                where = replace(where, stage=CLOSED if where.stage == OPEN else DONE, scan=_Scan())
            else:
                where = replace(where, scan=scan)
            total = _sum(where.open_total, where.closed_total)
            yield PollResult(
                tickets=self._records(rows),
                cursor=where.dump(),
                requests=self.requests - before,
                progress=Progress(BACKFILL, 0, total),
            )

    # -- history: the notes of what the backfill read ----------------------------------------

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The backfill's queries again, a page of tickets' notes at a time, within budget."""
        if not self.settings.conversations:
            return
        where = _Backfill.load(position)
        bound = format_bms_time(started, self.zone)
        cutoff = format_bms_time(started - self.settings.backfill, self.zone)
        notes = self.budget_for(f"GET {NOTES_PATH}")
        listing = self.budget_for(f"GET {TICKETS_PATH}")
        reserve = max(listing.allowance // 10, 1)
        blocked = False  # set by a refusal: the rest of this poll's walk waits, no requests
        pages = 0
        while where.stage != DONE:
            pages += 1
            self._guard(pages, "history walk")
            room = min(notes.allowance - notes.used(), self.settings.page_size)
            total = _sum(where.open_total, where.closed_total)
            if blocked or room <= 0 or listing.allowance - listing.used() <= reserve:
                # This hour's budget is spent: wait here, without a request, for a later poll.
                yield PollResult(cursor=where.dump(), progress=Progress(HISTORY, 0, total))
                continue
            before = self.requests
            try:
                rows, scan = await self._scan_rows(
                    self._stage_filters(where.stage, bound, cutoff), where.scan
                )
                taken = rows[:room]
                entries = await self._notes([str(pick(r, "Id")) for r in taken])
            except RateLimited:
                # A ticket with many pages of notes (or another integration) spent the hour
                # after all: the walk waits here; a live poll is never failed for history.
                blocked = True
                yield PollResult(
                    cursor=where.dump(),
                    requests=self.requests - before,
                    progress=Progress(HISTORY, 0, total),
                )
                continue
            scan = replace(scan, offset=scan.offset + len(taken))
            if where.stage == OPEN:
                where = replace(where, open_total=scan.total)
            else:
                where = replace(where, closed_total=scan.total)
            if not rows or scan.offset >= (scan.total or 0):
                where = replace(where, stage=CLOSED if where.stage == OPEN else DONE, scan=_Scan())
            else:
                where = replace(where, scan=scan)
            yield PollResult(
                entries=entries,
                cursor=where.dump(),
                requests=self.requests - before,
                progress=Progress(HISTORY, len(taken), _sum(where.open_total, where.closed_total)),
            )

    # -- incremental ------------------------------------------------------------------------

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Tickets whose last activity falls in the window, with their notes."""
        saved = position if isinstance(position, dict) else {}
        since = _when(saved.get("since")) or start
        until = _when(saved.get("until"))
        scan = _Scan(_count(saved.get("offset")) or 0, _count(saved.get("total")))
        if until is None:
            until, scan = datetime.now(UTC), _Scan()
        filters = {
            "Filter.LastActivityUpdateFrom": format_bms_time(since, self.zone),
            "Filter.LastActivityUpdateTo": format_bms_time(until, self.zone),
        }
        pages = 0
        while True:
            pages += 1
            self._guard(pages, "incremental read")
            before = self.requests
            rows, scan, done = await self._scan_page(filters, scan)
            tickets = self._records(rows)
            entries = await self._notes([t.external_id for t in tickets])
            if done:
                cursor: Cursor = {
                    "since": max(since, until - self.settings.overlap).isoformat(),
                    "until": None,
                    "offset": 0,
                    "total": None,
                }
            else:
                cursor = {
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "offset": scan.offset,
                    "total": scan.total,
                }
            yield PollResult(
                tickets=tickets, entries=entries, cursor=cursor, requests=self.requests - before
            )
            if done:
                return

    # -- reading ----------------------------------------------------------------------------

    async def _scan_page(
        self, filters: Mapping[str, Any], scan: _Scan
    ) -> tuple[list[Mapping[str, Any]], _Scan, bool]:
        """One page of a bounded result set: its new rows, the scan after it, and whether done."""
        rows, scan = await self._scan_rows(filters, scan)
        after = _Scan(scan.offset + len(rows), scan.total)
        return rows, after, not rows or after.offset >= (after.total or 0)

    async def _scan_rows(
        self, filters: Mapping[str, Any], scan: _Scan
    ) -> tuple[list[Mapping[str, Any]], _Scan]:
        """The rows of a bounded result set from ``scan.offset`` on (one page's worth), and
        the scan they start at.

        When ``totalRecords`` fell since the last page, rows before our offset
        have left the set and the rest moved up: the offset steps back by as
        many and the page is asked for again, so no row is skipped.
        """
        size = self.settings.page_size
        for _ in range(REWINDS):
            page_number = scan.offset // size + 1
            params = {**filters, "PageSize": size, "PageNumber": page_number}
            body = await self.get_envelope(TICKETS_PATH, TICKETS_PATH, params)
            rows = unwrap(body, "ticket list")
            if rows is None:
                rows = []
            if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
                raise BadPayload("BMS ticket list result is not a list of tickets")
            total = _count(pick(body, "TotalRecords"))
            if total is None:
                raise BadPayload("BMS ticket list answer has no totalRecords")
            if scan.total is not None and total < scan.total and scan.offset:
                scan = _Scan(max(scan.offset - (scan.total - total), 0), total)
                continue  # rows moved up under us: read this stretch again
            return list(rows[scan.offset % size :]), _Scan(scan.offset, total)
        raise BadPayload(f"BMS ticket list kept shrinking under {REWINDS} reads of one page")

    def _stage_filters(self, stage: str, bound: str, cutoff: str) -> dict[str, Any]:
        """The backfill's query of a stage (the history walk runs the same)."""
        if stage == OPEN:
            return {"Filter.ExcludeCompleted": 1, "Filter.LastActivityUpdateTo": bound}
        return {"Filter.CompletedDateFrom": cutoff, "Filter.LastActivityUpdateTo": bound}

    async def _notes(self, ticket_ids: Sequence[str]) -> tuple[ConversationEntry, ...]:
        """Every note of these tickets (paged), fanned out ``concurrency`` at a time."""
        if not self.settings.conversations or not ticket_ids:
            return ()
        found = await fan_out(ticket_ids, self._ticket_notes, self.limiter)
        return tuple(entry for entries in found for entry in entries)

    async def _ticket_notes(self, ticket_id: str) -> list[ConversationEntry]:
        path = NOTES_PATH.format(id=ticket_id)
        entries: list[ConversationEntry] = []
        page = 1
        while True:
            params = {"PageSize": NOTES_PAGE, "PageNumber": page}
            try:
                body = await self.get_envelope(NOTES_PATH, path, params)
                rows = unwrap(body, f"notes of ticket {ticket_id}")
            except ConnectorError as exc:
                if exc.http_status == 404:
                    return entries  # deleted since it was listed
                raise
            rows = rows if isinstance(rows, list) else []
            entries += [note_to_entry(row, ticket_id, zone=self.zone) for row in rows]
            if len(rows) < NOTES_PAGE or page >= self.settings.max_pages:
                return entries
            page += 1

    def _records(self, rows: Sequence[Mapping[str, Any]]) -> tuple[TicketRecord, ...]:
        url = self.settings.ticket_url
        apply = self.overrides.apply
        return tuple(apply(ticket_to_record(r, zone=self.zone, ticket_url=url)) for r in rows)

    def _guard(self, pages: int, what: str) -> None:
        if pages > self.settings.max_pages:
            raise ConnectorError(
                f"BMS {what} stopped after max_pages={self.settings.max_pages} pages; "
                "the next poll resumes it"
            )

    # -- requests ---------------------------------------------------------------------------

    async def get_envelope(
        self, endpoint: str, path: str, params: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """GET one envelope, paced by the endpoint's hourly budget."""
        response = await self.request("GET", endpoint, path, params=params)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"BMS {endpoint} answer is not a JSON object")
        return body

    async def get(self, endpoint: str, path: str, params: Mapping[str, Any], what: str) -> Any:
        """GET the ``result`` of an envelope."""
        return unwrap(await self.get_envelope(endpoint, path, params), what)

    async def request(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> httpx2.Response:
        """Any request, under the deadline and its endpoint's budget."""
        self.requests += 1
        return await send(
            self.client,
            method,
            path,
            params=dict(params) if params else None,
            json_body=body,
            budget=self.budget_for(f"{method} {endpoint}"),
            deadline=self.deadline,
        )

    # -- write-back (connectors.kaseya.bms.actions) ----------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` sends, from settings alone (no client, no credentials)."""
        return actions.plan(cls.options(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the note, status or priority change or resolve and read BMS's envelope."""
        return await actions.perform(self, action)


def _base(config: VendorConfig) -> str:
    return config.base_url.rstrip("/").removesuffix("/v2")


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def _sum(first: int | None, second: int | None) -> int | None:
    return None if first is None else first + (second or 0)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

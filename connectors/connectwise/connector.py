"""The ConnectWise PSA (Manage) connector: every open service ticket, then what changes.

Two phases (:mod:`connectors.sync`), both walking ``GET /service/tickets`` by
**keyset on the ticket id** — the request always asks for page 1 of "ids above
the last one read", ordered by id, so a ticket moving while we page can never
shift another one off a page, a restart continues after the last committed
page, and the site never has to skip deep offsets::

    backfill (started = when the first sync began, cutoff = started - backfill_days):
      GET /service/tickets/count
          ?conditions=(closedFlag = false or lastUpdated >= [cutoff])
      GET /service/tickets
          ?conditions=(closedFlag = false or lastUpdated >= [cutoff]) and id > {after}
          &orderBy=id asc&pageSize={page_size}&page=1

    incremental (from = previous poll's held-back start, see below):
      GET /service/tickets
          ?conditions=lastUpdated >= [from] and id > {after}
          &orderBy=id asc&pageSize={page_size}&page=1

(``and id > {after}`` is left out on the first page; with ``board`` set, every
query also carries ``and board/name = "{board}"``.) The backfill reads every
ticket that is not closed, whatever its age, plus closed ones updated within
``backfill_days``. ConnectWise's only hard fact is ``closedFlag``: "Resolved"
is a board status each tenant names, so a resolved ticket that is not yet
closed counts as open here, whatever its age. ``/service/tickets/count`` with
the same conditions gives ``progress.total`` once, when the backfill starts.

Each page's cursor is the connector's position after it: in the backfill
``{"after": id}``; in the incremental phase ``{"from", "after", "started"}``
while a window is being walked, and ``{"from": ...}`` once it is done. The
next window starts at ``started - overlap_seconds``, where ``started`` is the
site's own clock (the ``Date`` header of the window's first answer; ours when
it has none): a ticket updated behind the keyset while we paged carries a
stamp after that, so the next window still holds it, and the overlap covers
writes that commit late. Re-reading the overlap is harmless (the store
upserts); nothing is skipped.

Only the page number is ever taken from a ``Link`` header, and only when a
page comes back empty though the site says there is a next one (rows on
boards the API member may not see still take their place in a page); the
request is rebuilt on our own base URL, so credentials never follow a link.

Conversations: ConnectWise has no bulk notes endpoint, so a ticket's notes
(``GET /service/tickets/{id}/notes?orderBy=id asc&pageSize=1000``) cost one
request each, read in parallel, at most ``concurrency`` at a time
(:func:`connectors.fanout.fan_out`). The backfill reads tickets alone (one
list request per ``page_size`` tickets), so the first sync brings the whole
queue in seconds; the notes of what it read follow in the **history walk**
(:meth:`Connector.history_pages`), which runs the backfill's query again by
the same keyset (from the same start, so the same scope) and reads each
page's notes, carrying the page's tickets again with their description: at
most ``history_pages_per_poll`` pages a poll (default 5 of ``page_size`` 250:
1,250 tickets), so 10,000 tickets' notes take 8 polls. The trade-off: the queue arrives first,
histories follow. An incremental page reads the notes of the tickets it
carries inline, only those changed in its window
(``conditions=_info/lastUpdated >= [from]``). The first Discussion note is the
ticket's description: known whenever all of a ticket's notes were read (the
history walk, or a ticket created inside the window); when an older ticket's
changed notes include a Discussion note, one more request
(``conditions=detailDescriptionFlag = true&pageSize=1``) finds its first one.
A ticket read in full without a Discussion note has ``""``; otherwise
``description`` is ``None``: not read (yet), not "empty". Ticket
documents (``/system/documents?recordType=Ticket&recordId=``) are not read:
one more request per changed ticket, with no bulk path.

ConnectWise publishes no rate limit and sends no budget headers, so the
connector bounds itself: ``concurrency`` (default 3) requests in flight, and,
where a site wants a fixed ceiling, ``min_request_interval`` seconds between
the starts of two requests (default 0: off). A 429 or 503 with ``Retry-After``
becomes :class:`RateLimited`; inside a notes fan-out a short one is waited out
and retried, on a ticket page it ends the poll for the scheduler's back-off
(every page before it is committed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.connectwise import actions
from connectors.connectwise.actions import quoted, rows_of
from connectors.connectwise.mapping import (
    DEFAULT_CODEBASE,
    description_text,
    is_description,
    note_to_entry,
    parse_cw_time,
    ticket_to_record,
)
from connectors.connectwise.settings import ConnectWiseSettings
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import (
    ConversationEntry,
    Cursor,
    PollResult,
    Progress,
    TicketRecord,
)
from connectors.sanitize import clean_text, one_line
from connectors.settings import secret
from connectors.sync import BACKFILL, HISTORY

__all__ = ["ConnectWiseConnector", "RequestPacer"]

TICKETS_PATH = "/service/tickets"
COUNT_PATH = "/service/tickets/count"
INFO_PATH = "/system/info"
NOTES_PAGE_SIZE = 1000
"""Notes asked for per request (ConnectWise's maximum): almost every ticket fits one page."""
MAX_NOTE_PAGES = 100
"""A guard against a notes ``next`` link that never ends."""


class RequestPacer:
    """Keeps at least ``interval`` seconds between the starts of two requests (0: off).

    ConnectWise names no numeric limit and sends no budget headers; a site that
    wants a fixed ceiling gets one. Each caller reserves the next free start
    time before it sleeps, so concurrent callers are spaced too (not released
    together).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.waited = 0.0
        """Total seconds paced so far (for tests and poll-run records)."""
        self._next: float | None = None

    async def wait(self) -> None:
        """Sleep until this request's start slot comes."""
        if self.interval <= 0:
            return
        now = time.monotonic()
        start = now if self._next is None else max(now, self._next)
        self._next = start + self.interval
        pause = start - now
        if pause > 0:
            self.waited += pause
            await asyncio.sleep(pause)


@dataclass(frozen=True)
class _Step:
    """One page of a keyset walk: its rows and the position after it."""

    rows: list[Mapping[str, Any]]
    after: int | None
    page: int
    more: bool
    """The site offered a next page."""
    date: datetime | None
    """The site's clock when it answered (its ``Date`` header)."""


class ConnectWiseConnector(Connector):
    """Polls one ConnectWise PSA site with an API member's public/private key pair."""

    kind: ClassVar[str] = "connectwise"
    Settings: ClassVar[type[ConnectWiseSettings]] = ConnectWiseSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.RESOLVE,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "externalXRef"
    settings: ConnectWiseSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectWiseSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.overrides = Overrides.from_settings(self.settings)
        self.ui_url = self.settings.ui_url
        self.codebase = _codebase(config.base_url)
        self.pacer = RequestPacer(self.settings.min_request_interval)
        """Spaces requests by ``min_request_interval`` (ConnectWise sends no budget headers)."""
        self._requests = 0

    @classmethod
    def parse_settings(cls, config: VendorConfig) -> ConnectWiseSettings:
        """The section as :class:`ConnectWiseSettings` (cached on a loaded config)."""
        settings = super().parse_settings(config)
        assert isinstance(settings, ConnectWiseSettings)
        return settings

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API member keys: username ``{company_id}+{public_key}``, password the private key."""
        settings = cls.parse_settings(config)
        return httpx2.BasicAuth(
            f"{settings.company_id}+{settings.public_key}", secret(settings.private_key) or ""
        )

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """The mandatory ``clientId`` of the integration and the pinned model version."""
        settings = cls.parse_settings(config)
        return {
            "clientId": secret(settings.client_id) or "",
            "Accept": f"application/vnd.connectwise.com+json; version={settings.api_version}",
        }

    # -- the two phases --------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every ticket not closed, whatever its age, plus closed ones within ``backfill_days``."""
        cutoff = started - self.settings.backfill
        base = self._scope(f"(closedFlag = false or lastUpdated >= [{_cw_time(cutoff)}])")
        self._requests = 0
        total = await self._count(base) if position is None else None
        after, page = _keyset(position)
        async for step in self._walk(base, after, page):
            yield PollResult(  # tickets alone: their notes follow in the history walk
                tickets=tuple(self._record(row, None) for row in step.rows),
                cursor=_position(step),
                requests=self._take_requests(),
                progress=Progress(BACKFILL, 0, total) if total is not None else None,
            )
            total = None

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The backfill's query again, by the same keyset; each page's notes read side by side.

        Each page carries its tickets again with the description the notes give.
        """
        if not self.settings.read_notes:
            return
        cutoff = started - self.settings.backfill
        base = self._scope(f"(closedFlag = false or lastUpdated >= [{_cw_time(cutoff)}])")
        self._requests = 0
        after, page = _keyset(position)  # no count: the backfill's told the size already
        async for step in self._walk(base, after, page):
            tickets, entries = await self._page(step.rows, since=None)
            yield PollResult(
                tickets=tickets,
                entries=entries,
                cursor=_position(step),
                requests=self._take_requests(),
                progress=Progress(HISTORY, len(step.rows), None),
            )

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Tickets updated in the window since the saved position (or ``start``), by id."""
        window, after, page, started = self._window(position, start)
        base = self._scope(f"lastUpdated >= [{_cw_time(window)}]")
        self._requests = 0
        async for step in self._walk(base, after, page):
            if started is None:  # a new window: when the site began answering it
                started = step.date or datetime.now(UTC)
            tickets, entries = await self._page(step.rows, since=window)
            cursor: Cursor
            if step.more:
                cursor = {**_position(step), "from": window.isoformat()}
                cursor["started"] = started.isoformat()
            else:
                held = started - self.settings.overlap
                cursor = {"from": held.isoformat()}
            yield PollResult(
                tickets=tickets, entries=entries, cursor=cursor, requests=self._take_requests()
            )

    async def check(self) -> str:
        """``/system/info``: proves keys and clientId, and names the server version."""
        self._requests = 0
        body = decode_json(await self.get(INFO_PATH, {}))
        if not isinstance(body, Mapping):
            raise BadPayload("ConnectWise system/info answer is not a JSON object")
        version = body.get("version")
        text = version if isinstance(version, str) and version.strip() else "unknown"
        where = " (cloud)" if body.get("isCloud") is True else ""
        return one_line(clean_text(f"ok, version {text.strip()}{where}"), 120)

    # -- write-back (connectors/connectwise/actions.py) ------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` would send, from settings alone (no client)."""
        return actions.plan(cls.parse_settings(config), config.name, action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan, filling in the looked-up status or priority id."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """A ticket whose ``externalXRef`` is already this hand-off's correlation."""
        return await actions.find_existing(self, action)

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Writes keep the same minimum interval as polls."""
        await self.pacer.wait()
        return await super().send_planned(request)

    async def get(self, path: str, params: Mapping[str, Any]) -> httpx2.Response:
        """One paced, counted ``GET`` below the API root."""
        await self.pacer.wait()
        self._requests += 1
        return await send(self.client, "GET", path, params=dict(params))

    # -- paging ----------------------------------------------------------------------

    async def _walk(self, base: str, after: int | None, page: int) -> AsyncIterator[_Step]:
        """Pages of ``base`` in id order from the keyset ``(after, page)`` to the end."""
        for _ in range(self.settings.max_pages):
            conditions = base if after is None else f"{base} and id > {after}"
            params = {
                "conditions": conditions,
                "orderBy": "id asc",
                "pageSize": self.settings.page_size,
                "page": page,
            }
            response = await self.get(TICKETS_PATH, params)
            rows = rows_of(response)
            more = "next" in response.links
            if rows:
                last = max(_ticket_id(row) for row in rows)
                if after is not None and last <= after:
                    raise BadPayload("ConnectWise answered ids at or below the keyset: no progress")
                after, page = last, 1
            elif more:  # a page of rows this member may not see: the site's next page number
                next_page = _next_page(response)
                if next_page is None or next_page <= page:
                    raise BadPayload("ConnectWise next link does not move forward: no progress")
                page = next_page
            yield _Step(rows, after, page, more, _server_date(response))
            if not more:
                return
        raise BadPayload(f"ConnectWise offered more than {self.settings.max_pages} pages")

    async def _count(self, conditions: str) -> int | None:
        """``/service/tickets/count``: the site's own count for progress (``None`` if refused)."""
        try:
            body = decode_json(await self.get(COUNT_PATH, {"conditions": conditions}))
        except BadPayload:
            return None
        count = body.get("count") if isinstance(body, Mapping) else None
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            return count
        return None

    def _window(
        self, position: Cursor | None, start: datetime
    ) -> tuple[datetime, int | None, int, datetime | None]:
        """``(from, after, page, started)`` of the window a saved position is in.

        ``started`` is ``None`` for a window not begun yet (its first answer tells it).
        """
        saved = position if isinstance(position, dict) else {}
        window = _when(saved.get("from"))
        if window is None:
            legacy = _when(saved.get("since"))  # a cursor from before the two phases
            window = legacy - self.settings.overlap if legacy else start
        if "after" not in saved:
            return window, None, 1, None
        after, page = _keyset(saved)
        return window, after, page, _when(saved.get("started")) or window

    def _scope(self, clause: str) -> str:
        """The clause, narrowed to the configured board."""
        if self.settings.board:
            return f'{clause} and board/name = "{quoted(self.settings.board)}"'
        return clause

    def _take_requests(self) -> int:
        taken, self._requests = self._requests, 0
        return taken

    # -- one page: tickets and their notes --------------------------------------------

    async def _page(
        self, rows: Sequence[Mapping[str, Any]], since: datetime | None
    ) -> tuple[tuple[TicketRecord, ...], tuple[ConversationEntry, ...]]:
        """The page's records and, when notes are read, their conversation entries."""
        if not self.settings.read_notes or not rows:
            return tuple(self._record(row, None) for row in rows), ()
        read = await fan_out(rows, lambda row: self._conversation(row, since), self.limiter)
        tickets: list[TicketRecord] = []
        entries: list[ConversationEntry] = []
        for row, (description, notes) in zip(rows, read, strict=True):
            tickets.append(self._record(row, description))
            ticket_id = str(row["id"])
            entries.extend(note_to_entry(note, ticket_id) for note in notes)
        return tuple(tickets), tuple(entries)

    def _record(self, row: Mapping[str, Any], description: str | None) -> TicketRecord:
        record = ticket_to_record(
            row, ui_url=self.ui_url, codebase=self.codebase, description=description
        )
        return self.overrides.apply(record)

    async def _conversation(
        self, row: Mapping[str, Any], since: datetime | None
    ) -> tuple[str | None, list[Mapping[str, Any]]]:
        """``(description, notes)`` of one ticket: all notes, or those changed since ``since``.

        The description is ``""`` when every note was read and none is a Discussion
        note, ``None`` when it was not read this time.
        """
        ticket_id = _ticket_id(row)
        path = f"{TICKETS_PATH}/{ticket_id}/notes"
        conditions = None if since is None else f"_info/lastUpdated >= [{_cw_time(since)}]"
        notes = await self._notes(path, conditions)
        complete = since is None or _entered(row, since)
        first = next((note for note in notes if is_description(note)), None)
        if first is not None and not complete:  # is it the first Discussion note ever?
            first = next(iter(await self._notes(path, "detailDescriptionFlag = true", 1)), None)
        if first is not None:
            return description_text(first) or "", notes
        return ("" if complete else None), notes  # read in full and none there: known empty

    async def _notes(
        self, path: str, conditions: str | None, limit: int | None = None
    ) -> list[Mapping[str, Any]]:
        """A ticket's notes in id order (``[]`` when the ticket is gone meanwhile)."""
        params: dict[str, Any] = {"orderBy": "id asc", "pageSize": limit or NOTES_PAGE_SIZE}
        if conditions:
            params["conditions"] = conditions
        notes: list[Mapping[str, Any]] = []
        page = 1
        for _ in range(MAX_NOTE_PAGES):
            try:
                response = await self.get(path, {**params, "page": page})
            except ConnectorError as exc:
                if exc.http_status == 404:  # deleted between the list and this request
                    return []
                raise
            notes.extend(rows_of(response))
            next_page = _next_page(response) if limit is None else None
            if next_page is None:
                return notes
            if next_page <= page:
                raise BadPayload("ConnectWise notes next link does not move forward")
            page = next_page
        raise BadPayload(f"ConnectWise offered more than {MAX_NOTE_PAGES} pages of notes")


def _keyset(position: Cursor | None) -> tuple[int | None, int]:
    """``(after, page)`` from a saved position (from the start when absent or foreign)."""
    if not isinstance(position, dict):
        return None, 1
    after = position.get("after")
    page = position.get("page", 1)
    valid_after = isinstance(after, int) and not isinstance(after, bool) and after >= 0
    valid_page = isinstance(page, int) and not isinstance(page, bool) and page >= 1
    return (after if valid_after else None), (page if valid_page else 1)


def _position(step: _Step) -> Cursor:
    position: Cursor = {"after": step.after}
    if step.page > 1:
        position["page"] = step.page
    return position


def _ticket_id(row: Mapping[str, Any]) -> int:
    ticket_id = row.get("id")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise BadPayload("ConnectWise ticket without an integer id")
    return ticket_id


def _next_page(response: httpx2.Response) -> int | None:
    """The ``page`` of the ``rel="next"`` link, or ``None`` when there is no next link."""
    link = response.links.get("next")
    if link is None:
        return None
    pages = parse_qs(urlsplit(link.get("url", "")).query).get("page")
    if not pages or not pages[0].isdigit():
        raise BadPayload("ConnectWise next link carries no page number")
    return int(pages[0])


def _server_date(response: httpx2.Response) -> datetime | None:
    """The ``Date`` header as aware UTC (the last one, when a proxy added another)."""
    for value in reversed(response.headers.get_list("Date")):
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return None


def _entered(row: Mapping[str, Any], since: datetime) -> bool:
    """True when the ticket was created at or after ``since`` (so all its notes are newer)."""
    info = row.get("_info")
    try:
        entered = parse_cw_time(info.get("dateEntered")) if isinstance(info, Mapping) else None
    except BadPayload:
        entered = None
    return entered is not None and entered >= since


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def _cw_time(value: datetime) -> str:
    """ConnectWise's own UTC form, seconds and ``Z`` (a condition's ``[…]`` value)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _codebase(base_url: str) -> str:
    """The codebase segment before ``/apis/3.0`` (``v4_6_release`` on cloud sites)."""
    parts = [p for p in urlsplit(base_url).path.split("/") if p]
    if len(parts) >= 3 and parts[-2:] == ["apis", "3.0"]:
        return parts[-3]
    return DEFAULT_CODEBASE

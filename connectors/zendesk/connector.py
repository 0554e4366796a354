"""The Zendesk Support connector: search-export backfill, cursor-export polls, comments.

**Backfill** (first sync; resumable, memory bounded by a page). Two stages of
``GET /api/v2/search/export.json?filter[type]=ticket&page[size]={page_size}``
(Zendesk's search export: cursor paging with no 1,000-result cap, results
ordered by ``created_at`` descending then id, a cursor valid for one hour, 100
requests a minute, none of them taken from the incremental exports' 10):

1. ``query=status<solved`` — every new, open, pending and on-hold ticket,
   whatever its age;
2. ``query=status>=solved updated>{T}`` with ``T`` = when the backfill began
   minus ``backfill_days`` (ISO 8601, UTC, to the second) — solved and closed
   tickets changed within the window. Older closed tickets are never read.

The ids of each page are then read in full, 100 at a time, by
``GET /api/v2/tickets/show_many.json?ids=…&include=users,groups,slas`` (fresher
than the search index, and the only bulk read that carries names and the live
SLA clocks), side by side under the connector's limiter. Before the first page,
``GET /api/v2/search/count.json?query=type:ticket {query}`` for both stages
gives the progress total (two requests).

A page's position is ``{stage, after, issued, created, anchor}``: ``after`` is
the search cursor, used while younger than 55 minutes; past that (or when
Zendesk refuses it) the stage's query runs again as ``{query}
created<={created}``, ``created`` being the ``created_at`` of the page's last
row — a keyset on the export's own order, so a restart re-reads at most the
rows of that one second and skips none. ``anchor`` is the bound of the query
that issued ``after`` (a cursor only continues its own query).

**Incremental** (every poll; the first starts where the backfill began minus
``overlap_seconds``, 600 by default, which covers search's indexing lag): the
cursor-based ticket export ``GET /api/v2/incremental/tickets/cursor.json
?start_time={unix}`` (``≥ 61 s`` in the past) then ``?cursor={after_cursor}``,
with ``per_page={page_size}&include=users,groups,slas``, to ``end_of_stream``
(only that flag means caught up; a short or empty page does not). Zendesk
orders it by ``generated_timestamp`` and withholds the last minute, so each
page's ``after_cursor`` is an exact resume point. Then new comments: the
time-based ticket event export ``GET /api/v2/incremental/ticket_events.json
?start_time={events_from}&include=comment_events`` (``start_time`` inclusive:
each page re-reads the second it ended on; entries are upserts). Position:
``{after_cursor, events_from, comments}``. Both exports share Zendesk's 10
requests a minute (30 with High Volume), paced here (``export_requests_per_minute``): a
poll that has read a page stops at the limit and the next one resumes from the
saved cursor; a 429 on a poll's first request fails it with Zendesk's
``Retry-After`` (polls every 60 s spend 2 of the 10).

**Conversations.** Polls read new and changed comments from the event stream
above: about one request per 1,000 ticket updates, for every ticket. Earlier
comments of the backfilled tickets are read by a *comment walk* that runs
inside the incremental polls once the backfill has stored every ticket: it
runs the backfill's two search queries again (``page[size]`` =
``backfill_comments_per_poll``) and reads each ticket's comments with
``GET /api/v2/tickets/{id}/comments.json?page[size]=100&include=users`` (one
request per ticket: Zendesk's only bulk comment read is the event stream, and
it cannot reach an old open ticket's comments without reading years of
history), ``backfill_comments_per_poll`` tickets a poll, resumable by its own
search position (``comments`` in the incremental position). So a large tenant's
tickets show within minutes and live changes keep flowing while the walk
spends a bounded share of the account's request budget. Authors the comments
and the stream name without a sideload are looked up in bulk with
``GET /api/v2/users/show_many.json`` (names are cached).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeGuard, TypeVar

import httpx2
from pydantic import ValidationError

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConfigurationError, ConnectorError, RateLimited
from connectors.fanout import fan_out
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.sanitize import clean_text, one_line
from connectors.settings import secret
from connectors.sync import BACKFILL
from connectors.zendesk import actions
from connectors.zendesk.mapping import NameCache, comment_to_entry, ticket_to_record
from connectors.zendesk.settings import RESERVED_KEYS, ZendeskSettings

__all__ = ["ZendeskConnector"]

T = TypeVar("T")

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
SEARCH_EXPORT_PATH = "/api/v2/search/export.json"
SEARCH_COUNT_PATH = "/api/v2/search/count.json"
SHOW_MANY_PATH = "/api/v2/tickets/show_many.json"
USERS_SHOW_MANY_PATH = "/api/v2/users/show_many.json"
ME_PATH = "/api/v2/users/me.json"
SIDELOADS = "users,groups,slas"
SHOW_MANY_LIMIT = 100
"""Ids per ``show_many`` request (Zendesk's maximum)."""
COMMENTS_PAGE = 100
"""Comments per page of a ticket's comments (Zendesk's maximum)."""
MIN_START_AGE = 61
"""Zendesk refuses a ``start_time`` less than one minute in the past."""
SEARCH_CURSOR_LIFE = 55 * 60
"""A search export cursor expires after an hour; older than this, use the keyset instead."""
RATE_HEADERS = RateHeaders("x-rate-limit-remaining", "x-rate-limit", "ratelimit-reset")

OPEN = "open"
RECENT = "recent"
DONE = "done"
STAGES = (OPEN, RECENT)
OPEN_QUERY = "status<solved"
RECENT_QUERY = "status>=solved updated>{since}"


class ExportPacer:
    """At most ``limit`` incremental-export requests in any 60 s (Zendesk: 10, or 30)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._sent: deque[float] = deque()

    def wait(self) -> float:
        """Seconds until the next export request fits in the window (0: now)."""
        now = self.clock()
        while self._sent and self._sent[0] <= now - 60:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + 60 - now

    def sent(self) -> None:
        """Count one export request."""
        self._sent.append(self.clock())


@dataclass(frozen=True)
class BackfillPosition:
    """Where the backfill stands: the stage, its search cursor and its keyset."""

    stage: str = OPEN
    after: str | None = None
    """The search export's ``after_cursor`` for the next page."""
    issued: float | None = None
    """When ``after`` was handed out (Unix seconds): it lives an hour."""
    created: str | None = None
    """``created_at`` of the last row committed in this stage (the keyset)."""
    anchor: str | None = None
    """The ``created<=`` bound of the query that handed out ``after`` (a cursor only
    continues the very query that made it)."""

    @classmethod
    def load(cls, cursor: Cursor | None) -> BackfillPosition:
        if not isinstance(cursor, dict):
            return cls()
        stage = cursor.get("stage")
        after, issued = cursor.get("after"), cursor.get("issued")
        created, anchor = cursor.get("created"), cursor.get("anchor")
        return cls(
            stage=stage if stage in (*STAGES, DONE) else OPEN,
            after=after if isinstance(after, str) and after else None,
            issued=float(issued) if isinstance(issued, int | float) else None,
            created=created if isinstance(created, str) and created else None,
            anchor=anchor if isinstance(anchor, str) and anchor else None,
        )

    def dump(self) -> Cursor:
        return {
            "stage": self.stage,
            "after": self.after,
            "issued": self.issued,
            "created": self.created,
            "anchor": self.anchor,
        }


class ZendeskConnector(Connector):
    """Polls ``https://{subdomain}.zendesk.com`` with an admin's API token."""

    kind: ClassVar[str] = "zendesk"
    Settings: ClassVar[type[ZendeskSettings]] = ZendeskSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "external_id"
    settings: ZendeskSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ZendeskSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings or _settings_to_plan_with(config))
        self.budget = RateBudget(RATE_HEADERS)
        """Paces requests from ``X-Rate-Limit-Remaining`` before Zendesk has to say 429."""
        self.pacer = ExportPacer(self.settings.export_requests_per_minute)
        """Keeps the incremental exports under Zendesk's own per-minute limit."""
        self.users = NameCache()
        """Names of users seen in sideloads, shared by every page of every poll."""
        self.groups = NameCache(limit=5_000)
        self.site = _site_url(config)
        self.overrides = Overrides.from_settings(self.settings)

    @classmethod
    def parse_settings(cls, config: VendorConfig) -> ZendeskSettings:
        """The section as :class:`ZendeskSettings` (parsed once per config)."""
        parsed = super().parse_settings(config)
        assert isinstance(parsed, ZendeskSettings)
        return parsed

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API-token Basic auth: the username is ``{email}/token``."""
        settings = cls.parse_settings(config)
        return httpx2.BasicAuth(f"{settings.email}/token", secret(settings.api_token) or "")

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/api/v2`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_site_url(config)))

    # -- the backfill ----------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every ticket not solved, whatever its age, then solved/closed ones within the window."""
        where = BackfillPosition.load(position)
        if where.stage == DONE:
            return
        since = _search_time(started - self.settings.backfill)
        queries = {OPEN: OPEN_QUERY, RECENT: RECENT_QUERY.format(since=since)}
        counting: asyncio.Future[tuple[int, int]] | None = None
        if position is None:  # the totals, read while the first page is
            counting = asyncio.gather(self._count(queries[OPEN]), self._count(queries[RECENT]))
        try:
            async for page in self._backfill_stages(where, queries, counting):
                yield page
        finally:
            if counting is not None and not counting.done():
                counting.cancel()

    async def _backfill_stages(
        self,
        where: BackfillPosition,
        queries: Mapping[str, str],
        counting: asyncio.Future[tuple[int, int]] | None,
    ) -> AsyncIterator[PollResult]:
        pages = 0
        for stage in STAGES[STAGES.index(where.stage) :]:
            if where.stage != stage:
                where = BackfillPosition(stage=stage)
            while True:
                pages += 1
                if pages > self.settings.max_pages:
                    raise ConnectorError(
                        f"Zendesk backfill passed max_pages ({self.settings.max_pages}) in one"
                        " poll; it resumes from the last page next poll"
                    )
                rows, where, more, requests = await self._search_page(
                    queries[stage], where, self.settings.page_size
                )
                tickets, fetched = await self._read_tickets(rows)
                total: int | None = None
                if counting is not None:
                    total, counting = sum(await counting), None
                    fetched += 2
                if not more:
                    following = STAGES.index(stage) + 1
                    where = BackfillPosition(
                        stage=STAGES[following] if following < len(STAGES) else DONE
                    )
                yield PollResult(
                    tickets=tickets,
                    cursor=where.dump(),
                    requests=requests + fetched,
                    progress=Progress(BACKFILL, 0, total),
                )
                if not more:
                    break

    async def _search_page(
        self, query: str, where: BackfillPosition, size: int
    ) -> tuple[list[Mapping[str, Any]], BackfillPosition, bool, int]:
        """One search export page: ``(rows, position after it, has_more, requests)``."""
        params: dict[str, Any] = {"query": query, "filter[type]": "ticket", "page[size]": size}
        fresh = where.issued is not None and time.time() - where.issued < SEARCH_CURSOR_LIFE
        requests = 1
        anchor = where.anchor
        body: Mapping[str, Any] | None = None
        if where.after is not None and fresh:
            continued = {**_bounded(params, anchor), "page[after]": where.after}
            try:
                body = await self._retrying(lambda: self.get_object(SEARCH_EXPORT_PATH, continued))
            except ConnectorError as exc:
                if exc.http_status not in (400, 404, 410, 422):
                    raise
                requests += 1  # the cursor is no longer valid: continue from the keyset
        if body is None:
            anchor = where.created
            restart = _bounded(params, anchor)
            body = await self._retrying(lambda: self.get_object(SEARCH_EXPORT_PATH, restart))
        issued = time.time()
        rows = [
            r
            for r in _list(body.get("results"), "search results")
            if isinstance(r, Mapping) and r.get("result_type", "ticket") == "ticket"
        ]
        meta = body.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        more = meta.get("has_more") is True
        after = meta.get("after_cursor")
        if more and not (isinstance(after, str) and after):
            raise BadPayload("Zendesk search export has more results but no after_cursor")
        created = rows[-1].get("created_at") if rows else None
        moved = BackfillPosition(
            stage=where.stage,
            after=after if more else None,
            issued=issued,
            created=created if isinstance(created, str) else where.created,
            anchor=anchor,
        )
        return rows, moved, more, requests

    async def _count(self, query: str) -> int:
        """What search says the query holds (progress total; an estimate while it indexes)."""
        body = await self._retrying(
            lambda: self.get_object(SEARCH_COUNT_PATH, {"query": f"type:ticket {query}"})
        )
        count = body.get("count")
        return count if isinstance(count, int) and count >= 0 else 0

    async def _read_tickets(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[tuple[TicketRecord, ...], int]:
        """The search rows' tickets in full (``show_many``, 100 ids a request), and requests."""
        ids = _ids(rows)
        chunks = [ids[i : i + SHOW_MANY_LIMIT] for i in range(0, len(ids), SHOW_MANY_LIMIT)]

        async def show_many(chunk: list[int]) -> list[Any]:
            body = await self.get_object(
                SHOW_MANY_PATH, {"ids": ",".join(map(str, chunk)), "include": SIDELOADS}
            )
            self.users.learn(body.get("users"))
            self.groups.learn(body.get("groups"))
            return _list(body.get("tickets"), "show_many tickets")

        found: dict[int, Mapping[str, Any]] = {}
        for answer in await fan_out(chunks, show_many, self.limiter):
            for ticket in answer:
                if isinstance(ticket, Mapping) and _is_id(ticket.get("id")):
                    found[ticket["id"]] = ticket
        return self._records([found[i] for i in ids if i in found]), len(chunks)

    async def _conversations(self, ids: Sequence[int]) -> tuple[tuple[ConversationEntry, ...], int]:
        """Every comment of these tickets (one request per ticket, side by side), and requests."""
        threads = await fan_out(ids, self._comments, self.limiter)
        requests = sum(used for _, _, used in threads)
        authors = (
            row.get("author_id")
            for _, rows, _ in threads
            for row in rows
            if isinstance(row, Mapping)
        )
        requests += await self._learn_users(authors)
        entries = tuple(
            comment_to_entry(row, ticket_id=ticket_id, users=self.users, base_url=self.site)
            for ticket_id, rows, _ in threads
            for row in rows
        )
        return entries, requests

    async def _comments(self, ticket_id: int) -> tuple[int, list[Any], int]:
        """Every comment of one ticket (cursor-paged, authors sideloaded), and requests used.

        Zendesk documents the ``users`` sideload here for e-mail CCs; authors it
        leaves out are looked up in bulk afterwards (``users/show_many``).
        """
        path = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, Any] = {"page[size]": COMMENTS_PAGE, "include": "users"}
        rows: list[Any] = []
        requests = 0
        while True:
            requests += 1
            try:
                body = await self.get_object(path, params)
            except ConnectorError as exc:
                if exc.http_status == 404:  # deleted (or merged away) since it was listed
                    return ticket_id, [], requests
                raise
            self.users.learn(body.get("users"))
            rows.extend(_list(body.get("comments"), "comments"))
            meta = body.get("meta")
            after = meta.get("after_cursor") if isinstance(meta, Mapping) else None
            if not (isinstance(meta, Mapping) and meta.get("has_more") is True):
                break
            if not (isinstance(after, str) and after) or after == params.get("page[after]"):
                raise BadPayload(f"Zendesk comments of #{ticket_id} page without progress")
            params = {**params, "page[after]": after}
        return ticket_id, rows, requests

    # -- incremental polls -------------------------------------------------------------

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Changed tickets, new comments from the event stream, then a stretch of the walk.

        Position: ``{after_cursor, events_from, comments}``; ``comments`` is the
        comment walk's own search position (``None`` once it has read every ticket
        the backfill read). A position without the key (a first poll, or one saved
        before the walk existed) starts the walk when ``conversations = "all"``.
        """
        saved = position if isinstance(position, dict) else {}
        after = saved.get("after_cursor")
        after = after if isinstance(after, str) and after else None
        events_from = saved.get("events_from")
        if not _is_id(events_from):
            events_from = int(start.timestamp())
        walk: dict[str, Any] | None
        if "comments" in saved:
            walk = saved["comments"] if isinstance(saved["comments"], dict) else None
        else:
            since = start + self.settings.overlap - self.settings.backfill
            walk = {"stage": OPEN, "since": _search_time(since)}
        if self.settings.conversations != "all":
            walk = None

        def here() -> Cursor:
            return {"after_cursor": after, "events_from": events_from, "comments": walk}

        params: dict[str, Any] = {"include": SIDELOADS, "per_page": self.settings.page_size}
        if after is not None:
            params["cursor"] = after
        else:
            params["start_time"] = min(int(start.timestamp()), int(time.time()) - MIN_START_AGE)
        pages = 0
        while True:
            if pages >= self.settings.max_pages or not await self._export_slot(pages):
                return  # the next poll resumes from the last page's cursor
            try:
                body = await self.get_object(EXPORT_PATH, params)
            except RateLimited:
                if pages == 0:
                    raise
                # Zendesk allows ~10 export requests a minute (shared with other tools):
                # keep what we paged so far; the cursor resumes exactly there.
                return
            pages += 1
            self.users.learn(body.get("users"))
            self.groups.learn(body.get("groups"))
            latest: dict[int, Mapping[str, Any]] = {}
            for ticket in _list(body.get("tickets"), "tickets"):
                ticket_id = ticket.get("id") if isinstance(ticket, Mapping) else None
                if not _is_id(ticket_id):
                    raise BadPayload("Zendesk export ticket without an integer id")
                latest.pop(ticket_id, None)  # the later copy is the newer state
                latest[ticket_id] = ticket
            next_after = body.get("after_cursor")
            next_after = next_after if isinstance(next_after, str) and next_after else None
            end = body.get("end_of_stream") is True
            if not end and next_after is None:
                raise BadPayload("Zendesk export page has neither end_of_stream nor after_cursor")
            if not end and next_after == params.get("cursor"):
                raise BadPayload("Zendesk export returned the cursor it was given: no progress")
            after = next_after or after
            yield PollResult(
                tickets=self._records(list(latest.values())), cursor=here(), requests=1
            )
            if end:
                break
            params = {"include": SIDELOADS, "per_page": params["per_page"], "cursor": after}
        if self.settings.conversations == "off":
            return
        while True:
            if pages >= self.settings.max_pages or not await self._export_slot(pages):
                return
            try:
                body = await self.get_object(
                    EVENTS_PATH, {"start_time": events_from, "include": "comment_events"}
                )
            except RateLimited:
                if pages == 0:
                    raise
                return
            pages += 1
            entries, moved, requests = await self._event_page(body, events_from)
            events_from = moved
            yield PollResult(entries=entries, cursor=here(), requests=requests)
            if body.get("end_of_stream") is True:
                break
        budget = self.settings.backfill_comments_per_poll
        while walk is not None and budget > 0:
            entries, walk, requests, read = await self._walk_page(walk)
            budget -= read
            yield PollResult(entries=entries, cursor=here(), requests=requests)

    async def _event_page(
        self, body: Mapping[str, Any], events_from: int
    ) -> tuple[tuple[ConversationEntry, ...], int, int]:
        """One event export page as entries, where the stream resumes, and requests used."""
        comments: list[tuple[int, Mapping[str, Any]]] = []
        for event in _list(body.get("ticket_events"), "ticket_events"):
            if not isinstance(event, Mapping) or not _is_id(event.get("ticket_id")):
                continue
            for child in _as_list(event.get("child_events")):
                if isinstance(child, Mapping) and "Comment" in (
                    child.get("event_type"),
                    child.get("type"),
                ):
                    if child.get("created_at") is None:
                        child = {**child, "created_at": event.get("created_at")}
                    comments.append((event["ticket_id"], child))
        requests = 1 + await self._learn_users(c.get("author_id") for _, c in comments)
        entries = tuple(
            comment_to_entry(c, ticket_id=tid, users=self.users, base_url=self.site)
            for tid, c in comments
        )
        end_time = body.get("end_time")
        moved = end_time if _is_id(end_time) and end_time > events_from else events_from
        if body.get("end_of_stream") is not True and moved == events_from:
            raise BadPayload("Zendesk ticket event export did not move past its start_time")
        return entries, moved, requests

    async def _walk_page(
        self, walk: dict[str, Any]
    ) -> tuple[tuple[ConversationEntry, ...], dict[str, Any] | None, int, int]:
        """One stretch of the comment walk: entries, the walk's next position, requests, tickets.

        The walk runs the backfill's two search queries again and reads each
        ticket's comments, after every ticket of the backfill is stored, so the
        tickets show at once and their conversations follow, a bounded number of
        tickets per poll (``backfill_comments_per_poll``) beside the live changes.
        """
        since = walk.get("since") if isinstance(walk.get("since"), str) else None
        where = BackfillPosition.load(walk)
        if since is None or where.stage == DONE:
            return (), None, 0, 0
        query = OPEN_QUERY if where.stage == OPEN else RECENT_QUERY.format(since=since)
        size = min(self.settings.backfill_comments_per_poll, self.settings.page_size)
        rows, where, more, requests = await self._search_page(query, where, size)
        ids = _ids(rows)
        entries, used = await self._conversations(ids)
        if not more:
            if where.stage == RECENT:
                return entries, None, requests + used, max(len(ids), 1)
            where = BackfillPosition(stage=RECENT)
        return entries, {**where.dump(), "since": since}, requests + used, max(len(ids), 1)

    async def _export_slot(self, pages: int) -> bool:
        """Room under the export limit? ``False``: stop here, the next poll resumes.

        Only a poll that has already read a page stops: a poll's first request
        always goes, so a vendor (or emulator) with room answers it, and a real
        Zendesk without room answers 429 with its own Retry-After, which the
        scheduler honours.
        """
        if pages and self.pacer.wait() > 0:
            return False
        self.pacer.sent()
        return True

    async def _learn_users(self, ids: Any) -> int:
        """Look up (in bulk) the names of users the cache does not know; requests used."""
        missing = self.users.missing(ids)
        chunks = [missing[i : i + SHOW_MANY_LIMIT] for i in range(0, len(missing), SHOW_MANY_LIMIT)]

        async def show_many(chunk: list[int]) -> None:
            body = await self.get_object(USERS_SHOW_MANY_PATH, {"ids": ",".join(map(str, chunk))})
            self.users.learn(body.get("users"))

        await fan_out(chunks, show_many, self.limiter)
        return len(chunks)

    # -- shared ------------------------------------------------------------------------

    def _records(self, tickets: Sequence[Mapping[str, Any]]) -> tuple[TicketRecord, ...]:
        now = datetime.now(UTC)
        apply = self.overrides.apply
        return tuple(
            apply(
                ticket_to_record(
                    t, users=self.users, groups=self.groups, base_url=self.site, now=now
                )
            )
            for t in tickets
        )

    async def check(self) -> str:
        """``users/me``: proves the token and names the agent it belongs to."""
        body = await self.get_object(ME_PATH, {})
        user = body.get("user")
        if not isinstance(user, Mapping):
            raise BadPayload("users/me answer has no user")
        if user.get("id") is None:
            # Zendesk answers 200 with the anonymous user when it ignores the credentials.
            raise ConnectorError("signed in as the anonymous user: check email and api_token")
        name = user.get("name") if isinstance(user.get("name"), str) else "unknown"
        role = user.get("role") if isinstance(user.get("role"), str) else "unknown role"
        return one_line(clean_text(f"ok, signed in as {name} ({role})"), 120)

    async def get_object(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """GET a JSON object, paced by the account's rate budget."""
        response = await send(self.client, "GET", path, params=dict(params), budget=self.budget)
        if response.status_code != 200:
            raise BadPayload(
                f"HTTP {response.status_code} where a JSON answer was expected",
                http_status=response.status_code,
            )
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Zendesk {path} answer is not a JSON object")
        return body

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """One request that waits out a short 429 (Retry-After) like a fan-out would."""
        (result,) = await fan_out([None], lambda _: call(), self.limiter)
        return result

    # -- write-back (connectors/zendesk/actions.py) -------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The dry run, from the action and settings alone: no client, no credentials."""
        return actions.plan(action, _settings_to_plan_with(config))

    async def perform(self, action: Action) -> ActionResult:
        """Send the planned request; for a create, read the new ticket's id."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """A ticket already carrying this hand-off's ``external_id``."""
        return await actions.find_existing(self, action)


def _settings_to_plan_with(config: VendorConfig) -> ZendeskSettings:
    """The section's settings; without credentials too (a connector built only to plan).

    The write-back service builds a connector just to call ``plan`` and read
    ``supported_actions``, also for vendors configured without a secret (the
    console's fixture). Config load still refuses such a section
    (:meth:`ZendeskConnector.validate`); every other setting is checked here too.
    """
    try:
        return ZendeskConnector.parse_settings(config)
    except ConfigurationError as refused:
        values = {k: v for k, v in config.settings.items() if k not in RESERVED_KEYS}
        try:
            kept = {k: v for k, v in values.items() if v is not None and v != ""}
            return ZendeskSettings.model_validate(kept)
        except ValidationError:
            raise refused from None


def _bounded(params: Mapping[str, Any], anchor: str | None) -> dict[str, Any]:
    """The stage's query from ``anchor`` (a row's ``created_at``) down: the keyset."""
    if anchor is None:
        return dict(params)
    return {**params, "query": f"{params['query']} created<={anchor}"}


def _search_time(when: datetime) -> str:
    """An instant as search takes it: ISO 8601 in UTC, to the second."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ids(rows: Sequence[Any]) -> list[int]:
    """The distinct integer ids of search rows, in their order."""
    return list(
        dict.fromkeys(r["id"] for r in rows if isinstance(r, Mapping) and _is_id(r.get("id")))
    )


def _site_url(config: VendorConfig) -> str:
    return config.base_url.rstrip("/").removesuffix("/api/v2")


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"Zendesk {what} is not a list")
    return value

"""The Freshservice connector: a resumable backfill, then ``updated_since`` passes.

**Backfill** (the first sync, and once after an upgrade from the one-shot
poll), in two parts; every page carries the position to resume after it.

1. *Open tickets of any age, untouched within* ``backfill_days`` — the filter
   endpoint, first unbounded (its ``total`` is Freshservice's count of open
   tickets, reported as ``progress.total``), then by windows of creation days,
   newest first, each sized by the vendor's counts to fit one page::

       GET /api/v2/tickets/filter?query="status:2 OR status:3 OR status:>6"
           &page=1&per_page=100
       GET /api/v2/tickets/filter?query="(status:2 OR status:3 OR status:>6)
           AND created_at:>'2025-01-01' AND created_at:<'2025-01-31'"&page=1&per_page=100

   (one line, URL-encoded; ``&workspace_id=W`` when configured). Open (2),
   Pending (3) and every custom status (6 and up). Limits: the endpoint serves
   at most 10 pages of a query, so a window never holds more than a page, a
   single day denser than that is paged and, past the cap, split by
   ``priority`` (up to 4,000 open tickets created on one day); it has no
   embeds, so their requesters are looked up (``GET /api/v2/requesters/{id}``,
   else ``/agents/{id}``, once per person) and their first response is taken
   from the conversations. See :mod:`connectors.freshservice.open_sweep`.
2. *Every ticket updated within* ``backfill_days`` (open, resolved or closed),
   with embeds::

       GET /api/v2/tickets?updated_since=<began - backfill_days>&per_page=100
           &order_type=asc&include=requester,stats&page=N

   following ``Link: rel="next"`` (only that header means "more"). Part 1
   leaves these rows to part 2, so each ticket arrives once.

**Incremental** — one pass per poll::

    GET /api/v2/tickets?updated_since=<watermark - overlap_seconds>&per_page=100
        &order_type=asc&include=requester,stats&page=N

Freshservice sorts only by creation (vendor-apis.md §6.2), so the watermark is
*held back*: it becomes the moment the pass began, never the newest
``updated_at`` seen, and a change made behind us while we page is read by the
next pass. A mid-pass position keeps the pass's own ``updated_since`` and the
next page, so a restart finishes the pass. With a fixed ``updated_since``,
creation order only appends (a ticket moved to trash mid-pass is the
exception), so pages do not shift under us.

**Conversations** — Freshservice has no bulk or account-wide listing, so
``GET /api/v2/tickets/{id}/conversations?page=N&per_page=100`` costs a request
per ticket, fanned out (``concurrency`` at a time, paced by
``X-RateLimit-Remaining``, short 429s waited out). The backfill reads tickets
alone (list and filter pages, plus one look-up per person), so the first sync
brings the whole queue in seconds; the conversations of what it read follow in
the **history walk** (:meth:`Connector.history_pages`): the backfill's two parts
again, from the same start (the sweep's counting steps, which hold no ticket,
are not pages of the walk), each page's conversations read side by side and
its tickets carried again (a filter row's first response comes from them). At
most ``history_pages_per_poll`` pages a poll (default 5 of up to 100; the
sweep's windows of old open tickets are often smaller): 10,000 tickets take at
least 20 polls. The trade-off: the queue arrives first, histories
follow. In a pass, the conversations of the tickets whose ``updated_at``
moved are read inline: those not already read at the same ``updated_at`` (the
overlap's few, remembered in the cursor), keeping entries created or edited
since its ``updated_since``. Cost per 1,000 tickets: 10-20 list or filter
pages in the backfill; about 1,000 conversation requests (one per ticket, plus
one per further hundred conversations) and the same 10-20 pages again in the
walk; in credits, 3 per list page (two embeds), 1 per filter page and per
conversation request.

**Names** — the requester comes from the ``requester`` embed (filter rows have
none: ``GET /requesters/{id}``, else ``/agents/{id}``); the assigned agent
(``responder_id``; the list has no agent embed) from ``GET /agents/{id}``. Each
person is looked up once and remembered for the connector's life, so names cost
a request per person, not per ticket.

Writes live in :mod:`connectors.freshservice.actions`; settings in
:mod:`connectors.freshservice.settings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeGuard, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.freshservice import actions
from connectors.freshservice.mapping import (
    conversation_to_entry,
    first_response,
    format_timestamp,
    ticket_to_record,
)
from connectors.freshservice.open_sweep import OpenSweep
from connectors.freshservice.pacing import MinuteBudget
from connectors.freshservice.settings import FreshserviceSettings
from connectors.http import RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.sanitize import clean_text, one_line
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL, HISTORY
from connectors.timestamps import parse_iso

__all__ = ["FreshserviceConnector"]

log = logging.getLogger(__name__)

TICKETS_PATH = actions.TICKETS_PATH
FILTER_PATH = "/api/v2/tickets/filter"
REQUESTERS_PATH = "/api/v2/requesters"
AGENTS_PATH = "/api/v2/agents"
ME_PATH = "/api/v2/agents/me"
EMBEDS = "requester,stats"
"""Documented embeds of the list call; each costs more API credits per request."""
CONVERSATION_PAGE = 100
RATE_HEADERS = RateHeaders("x-ratelimit-remaining", "x-ratelimit-total")
"""Freshservice reports no reset time: its window is the current minute."""
PEOPLE_LIMIT = 20_000
"""Requester names remembered by one connector (an LRU)."""
SEEN_LIMIT = 5_000
"""Most (ticket, updated_at) pairs remembered for the overlap of the next pass."""
SAME_SECOND = timedelta(seconds=2)
"""A ticket read this soon after its ``updated_at`` may change again within that second."""


@dataclass(frozen=True)
class _Pass:
    """Where an incremental pass is (the connector's own incremental position)."""

    since: datetime
    """The watermark: the next pass asks for ``updated_since`` = this minus the overlap."""
    page: int = 1
    """Next page of the pass in progress; 1 means a new pass."""
    asked: datetime | None = None
    """The ``updated_since`` of the pass in progress."""
    began: datetime | None = None
    """When the pass in progress began (its end's watermark)."""
    seen: Mapping[str, str] | None = None
    """Ticket id → ``updated_at`` whose conversations were already read."""

    @classmethod
    def load(cls, position: Cursor | None, start: datetime) -> _Pass:
        if not isinstance(position, dict):
            return cls(since=start)
        since = _when(position.get("since")) or _when(position.get("updated_since")) or start
        asked, began = _when(position.get("asked")), _when(position.get("began"))
        page = position.get("page")
        seen = position.get("seen")
        seen_map = {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {}
        if asked is None or began is None or not isinstance(page, int) or page < 2:
            return cls(since=since, seen=seen_map)
        return cls(since=since, page=page, asked=asked, began=began, seen=seen_map)

    def dump(self) -> Cursor:
        out: Cursor = {"since": self.since.isoformat(), "page": self.page}
        if self.asked is not None and self.began is not None:
            out["asked"] = self.asked.isoformat()
            out["began"] = self.began.isoformat()
        if self.seen:
            out["seen"] = dict(self.seen)
        return out


class FreshserviceConnector(Connector):
    """Polls ``https://{domain}.freshservice.com`` with an agent's API key."""

    kind: ClassVar[str] = "freshservice"
    Settings: ClassVar[type[ConnectorSettings] | None] = FreshserviceSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = None
    """Freshservice has no external-id field a create could be found again by."""

    settings: FreshserviceSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.overrides = Overrides.from_settings(self.settings)
        self.budget = MinuteBudget(RATE_HEADERS)
        """Paces requests from ``X-RateLimit-Remaining`` before Freshservice has to say 429."""
        self.base_url = _site_url(config)
        self._pages_this_poll = 0
        self._people: OrderedDict[int, str | None] = OrderedDict()
        """Requester names looked up for filter rows (bounded: :data:`PEOPLE_LIMIT`)."""
        self._agents: OrderedDict[int, str | None] = OrderedDict()
        """Agent names by id, looked up once each (bounded: :data:`PEOPLE_LIMIT`)."""
        self._phase = BACKFILL

    @classmethod
    def parse_settings(cls, config: VendorConfig) -> FreshserviceSettings:
        """The section as :class:`FreshserviceSettings` (parsed once per config)."""
        return cast(FreshserviceSettings, super().parse_settings(config))

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """Basic auth with the API key as user name and ``X`` as the (ignored) password."""
        return httpx2.BasicAuth(secret(cls.parse_settings(config).api_key) or "", "X")

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/api/v2`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_site_url(config)))

    # -- backfill --------------------------------------------------------------------

    def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Old open tickets (the filter sweep), then everything of ``backfill_days``: tickets
        alone (their conversations follow in :meth:`history_pages`).

        The next page is read while the collector commits this one (:func:`_ahead`).
        """
        return _ahead(self._backfill(position, started, history=False))

    def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The backfill's two parts again, from the same start; each page's conversations
        read side by side, its tickets carried again (a filter row's first response comes
        from its conversations).

        Not read ahead: the walk stops after ``history_pages_per_poll`` pages, and a page
        read ahead then would be thrown away and read again by the next poll."""
        if not self.settings.conversations:
            return _nothing()
        return self._backfill(position, started, history=True)

    async def _backfill(
        self, position: Cursor | None, started: datetime, *, history: bool
    ) -> AsyncGenerator[PollResult, None]:
        self._pages_this_poll = 0
        self._phase = HISTORY if history else BACKFILL
        saved = position if isinstance(position, dict) else {}
        part = saved.get("part")
        if part == "done":
            return
        since = started - self.settings.backfill
        carried = 0  # requests of the history walk's empty pages, reported on the next one
        if part != "recent":
            sweep = OpenSweep.load(saved.get("sweep"))
            async for page in self._open_pages(sweep, format_timestamp(since), history):
                if history and not page.tickets and not _sweep_ended(page):
                    # The sweep's counting steps hold no ticket: in the walk they would
                    # spend pages of history_pages_per_poll on nothing.
                    carried += page.requests
                    self._guard()
                    continue
                yield replace(page, requests=page.requests + carried)
                carried = 0
                self._guard()
        first = saved.get("page") if part == "recent" else 1
        first = first if isinstance(first, int) and first > 0 else 1
        async for page in self._recent_pages(since, first, history):
            yield replace(page, requests=page.requests + carried)
            carried = 0
            self._guard()

    def _guard(self) -> None:
        """Stop a backfill poll at ``max_pages`` (returning would end the backfill for good)."""
        if self._count_page():
            raise ConnectorError(
                f"Freshservice {self._phase} paused after {self.settings.max_pages} pages "
                "(max_pages); the next poll resumes where this one stopped"
            )

    async def _open_pages(
        self, sweep: OpenSweep, recent: str, history: bool
    ) -> AsyncIterator[PollResult]:
        """The open sweep's pages; rows updated since ``recent`` are left to part 2.

        In the history walk each page's conversations are read too."""
        asked = self.settings.page_size
        per_page = asked
        requests = 0
        while not sweep.done:
            today = datetime.now(UTC).date()
            query = sweep.query(today)
            body = await self._get_json(
                FILTER_PATH,
                {"query": f'"{query}"', "page": sweep.page, "per_page": asked},
            )
            requests += 1
            rows, total = _filter_answer(body)
            if sweep.page == 1 and 0 < len(rows) < min(total, per_page):
                # The filter served fewer rows than asked for [U: its page size may be
                # fixed]: size windows (and count pages) by what it serves, and ask again.
                per_page = len(rows)
                continue
            beyond = sweep.beyond_cap(total, per_page)
            if beyond and sweep.page == 1:
                log.warning(
                    "freshservice %s: %d open tickets of %r are past the vendor's page cap",
                    self.config.name,
                    beyond,
                    query,
                )
            sweep, emit = sweep.answered(total, len(rows), per_page, today)
            if not emit and not sweep.done:
                continue  # a count only: narrow the window and ask again
            position: Cursor = {"part": "open", "sweep": sweep.dump()}
            if sweep.done:
                position = {"part": "recent", "page": 1}
            old = [r for r in rows if not _updated_since(r, recent)]
            page = await self._page(old, fetch=old if history else (), entries_since=None)
            progress = (
                Progress(HISTORY, len(page.tickets), None)
                if history
                else Progress(BACKFILL, 0, sweep.total)
            )
            yield replace(
                page, cursor=position, requests=page.requests + requests, progress=progress
            )
            requests = 0

    async def _recent_pages(
        self, since: datetime, first: int, history: bool
    ) -> AsyncIterator[PollResult]:
        """Every ticket updated since ``since``, with the requester and stats embeds (and, in
        the history walk, their conversations)."""
        async for rows, following, _vendor_now in self._list(since, first):
            page = await self._page(rows, fetch=rows if history else (), entries_since=None)
            position = {"part": "recent", "page": following} if following else None
            yield replace(
                page,
                cursor=position or {"part": "done"},
                requests=page.requests + 1,
                progress=Progress(HISTORY, len(page.tickets), None) if history else None,
            )

    # -- incremental -----------------------------------------------------------------

    def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """One pass of ``updated_since`` from the held-back watermark (or the pass in progress).

        The next page is read while the collector commits this one (:func:`_ahead`).
        """
        return _ahead(self._incremental(position, start))

    async def _incremental(
        self, position: Cursor | None, start: datetime
    ) -> AsyncGenerator[PollResult, None]:
        self._pages_this_poll = 0
        state = _Pass.load(position, start)
        new_pass = state.page == 1 or state.asked is None or state.began is None
        if new_pass:
            now = datetime.now(UTC)
            state = replace(state, asked=state.since - self.settings.overlap, began=now, page=1)
        asked, began = state.asked, state.began
        assert asked is not None and began is not None
        seen = dict(state.seen or {})
        keep_from = format_timestamp(began - self.settings.overlap)
        async for rows, following, vendor_now in self._list(asked, state.page):
            if new_pass and vendor_now is not None and vendor_now < began:
                # The vendor stamps updated_at by its own clock: when it runs behind ours,
                # its time is the safe watermark (overlap_seconds covers the other way).
                began = vendor_now
                keep_from = format_timestamp(began - self.settings.overlap)
            new_pass = False
            fetch = [r for r in rows if seen.get(str(r.get("id"))) != r.get("updated_at")]
            page = await self._page(rows, fetch=fetch, entries_since=asked)
            fetched_at = datetime.now(UTC)
            for row in fetch:
                _remember(seen, row, fetched_at)
            if following is None:
                seen = _trim(seen, keep_from)
                done = _Pass(since=began, seen=seen)
                yield replace(page, cursor=done.dump(), requests=page.requests + 1)
                return
            moving = _Pass(state.since, following, asked, began, _trim(seen, keep_from))
            yield replace(page, cursor=moving.dump(), requests=page.requests + 1)
            if self._count_page():
                return  # the page guard: the next poll finishes this pass

    # -- shared paging -----------------------------------------------------------------

    async def _list(
        self, since: datetime, first: int
    ) -> AsyncIterator[tuple[list[Any], int | None, datetime | None]]:
        """Pages of ``GET /tickets?updated_since=…`` (oldest created first) from page ``first``:
        the rows, the next page, and the vendor's clock (its ``Date`` header) when it sent them."""
        params: dict[str, Any] = {
            "updated_since": format_timestamp(since),
            "per_page": self.settings.page_size,
            "order_type": "asc",
            "include": EMBEDS,
        }
        page: int | None = first
        while page is not None:
            response = await self._get(TICKETS_PATH, {**params, "page": page})
            rows = _tickets(decode_json(response))
            page = _next_page(response, page)
            yield rows, page, _vendor_time(response)

    async def _page(
        self,
        rows: Sequence[Any],
        *,
        fetch: Sequence[Any],
        entries_since: datetime | None,
    ) -> PollResult:
        """Map ``rows``; read the conversations of ``fetch`` (a subset) side by side."""
        rows = _newest(rows)
        records = [
            ticket_to_record(row, base_url=self.base_url, overrides=self.overrides) for row in rows
        ]
        records, requests = await self._name_requesters(rows, records)
        records, looked_up = await self._name_responders(rows, records)
        requests += looked_up
        if not self.settings.conversations or not fetch:
            return PollResult(tickets=tuple(records), requests=requests)
        wanted = {id(row) for row in fetch}
        since = format_timestamp(entries_since) if entries_since else None
        targets = [
            (row, rec, since, self._names_of(row))
            for row, rec in zip(rows, records, strict=True)
            if id(row) in wanted
        ]
        read = await fan_out(targets, self._conversations, self.limiter)
        entries: list[ConversationEntry] = []
        answered: dict[str, datetime] = {}
        for (row, record, _since, _names), (raw, mapped, cost) in zip(targets, read, strict=True):
            requests += cost
            entries.extend(mapped)
            if not isinstance(row.get("stats"), Mapping) and record.first_response_at is None:
                when = first_response(raw, mapped)
                if when is not None:
                    answered[record.external_id] = when
        if answered:
            records = [
                replace(r, first_response_at=answered[r.external_id])
                if r.external_id in answered
                else r
                for r in records
            ]
        return PollResult(tickets=tuple(records), entries=tuple(entries), requests=requests)

    async def _name_requesters(
        self, rows: Sequence[Any], records: list[TicketRecord]
    ) -> tuple[list[TicketRecord], int]:
        """Name the requesters of rows that came without the ``requester`` embed (the filter
        endpoint has none): one view per person not yet known, remembered across pages."""
        wanted = sorted(
            {
                r["requester_id"]
                for r in rows
                if isinstance(r, Mapping)
                and "requester" not in r
                and _is_int(r.get("requester_id"))
                and r["requester_id"] not in self._people
            }
        )
        requests = 0
        if wanted:
            for person_id, name, cost in await fan_out(wanted, self._person, self.limiter):
                self._remember_person(person_id, name)
                requests += cost
        named = []
        for row, record in zip(rows, records, strict=True):
            person = row.get("requester_id") if "requester" not in row else None
            name = self._people.get(person) if _is_int(person) else None
            named.append(replace(record, requester=name) if name else record)
        return named, requests

    async def _name_responders(
        self, rows: Sequence[Any], records: list[TicketRecord]
    ) -> tuple[list[TicketRecord], int]:
        """Name each row's assigned agent (``responder_id``: the list has no agent embed): one
        ``GET /agents/{id}`` per agent not yet known, remembered for the connector's life, so
        a backfill costs a request per agent, not per ticket."""
        wanted = sorted(
            {
                r["responder_id"]
                for r in rows
                if isinstance(r, Mapping)
                and _is_int(r.get("responder_id"))
                and r["responder_id"] not in self._agents
            }
        )
        requests = 0
        if wanted:
            for agent_id, name in await fan_out(wanted, self._agent, self.limiter):
                self._agents[agent_id] = name
                self._agents.move_to_end(agent_id)
                while len(self._agents) > PEOPLE_LIMIT:
                    self._agents.popitem(last=False)
                requests += 1
        named = []
        for row, record in zip(rows, records, strict=True):
            agent = row.get("responder_id") if isinstance(row, Mapping) else None
            name = self._agents.get(agent) if _is_int(agent) else None
            named.append(replace(record, assignee=name) if name else record)
        return named, requests

    async def _agent(self, agent_id: int) -> tuple[int, str | None]:
        """An agent's name; ``None`` when gone (the ticket keeps ``agent <id>``)."""
        try:
            response = await send(
                self.client, "GET", f"{AGENTS_PATH}/{agent_id}", budget=self.budget
            )
        except ConnectorError as exc:
            if exc.http_status in (403, 404):  # gone, or this key may not read agents
                return agent_id, None
            raise
        body = decode_json(response)
        return agent_id, _person_name(body.get("agent") if isinstance(body, Mapping) else None)

    async def _person(self, person_id: int) -> tuple[int, str | None, int]:
        """A requester's name (or an agent's: agents can raise tickets too); ``None`` if gone."""
        for path, key in ((REQUESTERS_PATH, "requester"), (AGENTS_PATH, "agent")):
            try:
                response = await send(self.client, "GET", f"{path}/{person_id}", budget=self.budget)
            except ConnectorError as exc:
                if exc.http_status == 404:
                    continue
                raise
            body = decode_json(response)
            person = body.get(key) if isinstance(body, Mapping) else None
            cost = 1 if key == "requester" else 2
            return person_id, _person_name(person), cost
        return person_id, None, 2

    def _remember_person(self, person_id: int, name: str | None) -> None:
        self._people[person_id] = name
        self._people.move_to_end(person_id)
        while len(self._people) > PEOPLE_LIMIT:
            self._people.popitem(last=False)

    def _names_of(self, row: Any) -> dict[int, str]:
        """Who a ticket's conversations can be credited to by name: its requester."""
        names = _names(row)
        person = row.get("requester_id") if isinstance(row, Mapping) else None
        if not names and _is_int(person) and self._people.get(person):
            names = {person: str(self._people[person])}
        return names

    async def _conversations(
        self, target: tuple[Any, TicketRecord, str | None, dict[int, str]]
    ) -> tuple[list[Any], list[ConversationEntry], int]:
        """One ticket's conversations (all pages) created or edited since ``since`` (all when
        ``None``), raw and mapped, and the requests made; older ones are not even mapped."""
        _row, record, since, names = target
        path = f"{TICKETS_PATH}/{record.external_id}/conversations"
        raw: list[Any] = []
        requests = 0
        page: int | None = 1
        while page is not None:
            try:
                response = await self._get(path, {"page": page, "per_page": CONVERSATION_PAGE})
            except ConnectorError as exc:
                if exc.http_status == 404:  # deleted since the list was read
                    return [], [], requests + 1
                raise
            requests += 1
            body = decode_json(response)
            items = body.get("conversations") if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise BadPayload("Freshservice conversations answer has no conversations list")
            raw.extend(i for i in items if since is None or _changed(i, since))
            page = _next_page(response, page)
        mapped = [
            conversation_to_entry(
                item, ticket_id=record.external_id, base_url=self.base_url, names=names
            )
            for item in raw
        ]
        return raw, mapped, requests

    async def _get(self, path: str, params: dict[str, Any]) -> httpx2.Response:
        """GET with the query already in the URL: httpx merging a params dict into the
        client's URL cost about 0.3 ms of CPU per request, a third of the request."""
        if self.settings.workspace_id is not None:
            params = {**params, "workspace_id": self.settings.workspace_id}
        url = f"{path}?{urlencode(params)}"
        return await send(self.client, "GET", url, budget=self.budget)

    async def _get_json(self, path: str, params: dict[str, Any]) -> Any:
        return decode_json(await self._get(path, params))

    def _count_page(self) -> bool:
        """Count one page against ``max_pages``; True once the guard is reached."""
        self._pages_this_poll += 1
        return self._pages_this_poll >= self.settings.max_pages

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

    # -- write-back (connectors/freshservice/actions.py) -------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The dry run, from settings alone (no client is built)."""
        return actions.plan(cls.parse_settings(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan; a create reads the new ticket's id from the answer."""
        return await actions.perform(self, action)


def _sweep_ended(page: PollResult) -> bool:
    """The open sweep's last page (its cursor moves on to part 2)."""
    return isinstance(page.cursor, dict) and page.cursor.get("part") != "open"


async def _nothing() -> AsyncGenerator[PollResult, None]:
    return
    yield  # an async generator that yields nothing


async def _ahead(pages: AsyncGenerator[PollResult, None]) -> AsyncGenerator[PollResult, None]:
    """``pages``, one page read ahead: while the consumer commits a page, the next one
    (its list request and its conversations) is already on the wire.

    At most two pages are held. An error of the page read ahead surfaces when that
    page is asked for, after the consumer has committed the one before; closing this
    generator cancels the read ahead.
    """
    following: asyncio.Task[PollResult] = asyncio.ensure_future(anext(pages))
    try:
        while True:
            try:
                page = await following
            except StopAsyncIteration:
                return
            following = asyncio.ensure_future(anext(pages))
            yield page
    finally:
        if not following.done():
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await following
        elif not following.cancelled():
            following.exception()  # retrieved: a page nobody asked for is not an error
        await pages.aclose()


def _newest(rows: Sequence[Any]) -> Sequence[Any]:
    """One row per ticket id (its newest ``updated_at``), in first-seen order."""
    if len({r.get("id") if isinstance(r, Mapping) else None for r in rows}) == len(rows):
        return rows
    kept: dict[Any, Any] = {}
    for row in rows:
        key = row.get("id") if isinstance(row, Mapping) else id(row)
        old = kept.get(key)
        if old is None or str(row.get("updated_at")) >= str(old.get("updated_at")):
            kept[key] = row
    return list(kept.values())


def _filter_answer(body: Any) -> tuple[list[Any], int]:
    rows = body.get("tickets") if isinstance(body, Mapping) else None
    total = body.get("total") if isinstance(body, Mapping) else None
    if not isinstance(rows, list) or not isinstance(total, int) or isinstance(total, bool):
        raise BadPayload("Freshservice filter answer has no tickets list and total")
    return rows, total


def _tickets(body: Any) -> list[Any]:
    rows = body.get("tickets") if isinstance(body, Mapping) else None
    if not isinstance(rows, list):
        raise BadPayload("Freshservice ticket list answer has no tickets list")
    return rows


def _updated_since(row: Any, since: str) -> bool:
    """Updated at or after ``since``: part 2 of the backfill reads it, with embeds."""
    updated = row.get("updated_at") if isinstance(row, Mapping) else None
    return isinstance(updated, str) and _normal(updated) >= since


def _changed(conversation: Any, since: str) -> bool:
    """Created or edited at or after ``since`` (both in Freshservice's ``…Z`` form)."""
    if not isinstance(conversation, Mapping):
        return False
    stamps = (conversation.get("updated_at"), conversation.get("created_at"))
    return any(isinstance(s, str) and _normal(s) >= since for s in stamps)


def _normal(stamp: str) -> str:
    """A timestamp in Freshservice's own form, so ``…Z`` strings compare as times."""
    if len(stamp) == 20 and stamp.endswith("Z"):
        return stamp
    parsed = parse_iso(stamp)
    return format_timestamp(parsed) if parsed else stamp


def _names(row: Any) -> dict[int, str]:
    """The names a ticket's own payload gives: its requester (``include=requester``)."""
    person = row.get("requester") if isinstance(row, Mapping) else None
    if not isinstance(person, Mapping) or not isinstance(person.get("id"), int):
        return {}
    name = person.get("name")
    if isinstance(name, str) and name.strip():
        return {person["id"]: name.strip()}
    return {}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _person_name(person: Any) -> str | None:
    """``First Last``, else the e-mail (``primary_email`` for requesters, ``email`` for agents)."""
    if not isinstance(person, Mapping):
        return None
    parts = [person.get("first_name"), person.get("last_name")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if name:
        return name
    for key in ("primary_email", "email"):
        value = person.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _remember(seen: dict[str, str], row: Any, fetched_at: datetime) -> None:
    """Remember a ticket read at least :data:`SAME_SECOND` after its last change."""
    updated = row.get("updated_at") if isinstance(row, Mapping) else None
    when = parse_iso(updated) if isinstance(updated, str) else None
    if when is not None and fetched_at - when >= SAME_SECOND:
        seen[str(row.get("id"))] = str(updated)
    else:
        seen.pop(str(row.get("id") if isinstance(row, Mapping) else ""), None)


def _trim(seen: dict[str, str], keep_from: str) -> dict[str, str]:
    """Only what the next pass's overlap can show again, and at most :data:`SEEN_LIMIT`."""
    kept = {k: v for k, v in seen.items() if v >= keep_from}
    if len(kept) > SEEN_LIMIT:
        kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-SEEN_LIMIT:])
    return kept


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


def _vendor_time(response: httpx2.Response) -> datetime | None:
    """The ``Date`` header (whole seconds, so never later than the vendor's clock)."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except BadPayload:
        return None


def _site_url(config: VendorConfig) -> str:
    return config.base_url.rstrip("/").removesuffix("/api/v2")

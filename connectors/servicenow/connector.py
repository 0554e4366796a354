"""The ServiceNow connector: incidents from the Table API, with their SLAs and conversations.

Every read is ``GET /api/now/table/<table>``. Incident pages ask for
``sysparm_limit`` = ``page_size`` (default 200), ``sysparm_display_value=all``
and ``sysparm_exclude_reference_link=true``, ordered so that they form a
*keyset*: the next page asks for rows after the last one read, so a restart
continues after the last committed page, and rows changing while we page
cannot shift the ones still to come. The instance applies ``sysparm_limit``
before its ACLs, so a page can come back short or empty while more rows
remain: only the ``Link`` header's ``rel="next"`` ends a walk, and a page
with no visible row steps on by the link's ``sysparm_offset`` from the same
keyset.

**Backfill** (the first sync), two walks. ``6,7,8`` are Resolved, Closed and
Canceled (a ``status_map`` that maps one of them to an open status drops it
from the list); ``W`` is when the backfill started minus ``backfill_days``;
``T``/``I`` are the ``sys_updated_on``/``sys_id`` of the last row read (the
first page of a walk has no keyset terms):

1. every unfinished incident, whatever its age::

       stateNOT IN6,7,8^sys_id>{I}^ORDERBYsys_id

2. finished incidents updated since ``W``::

       stateIN6,7,8^sys_updated_on>={W}^sys_updated_on>={T}^sys_updated_on>{T}^ORsys_id>{I}
       ^ORDERBYsys_updated_on^ORDERBYsys_id

An incident resolved while walk 1 runs is read by walk 2 or by the
incremental phase, which starts where the backfill started (minus the
overlap). ``progress.total`` is walk 1's ``X-Total-Count`` plus the
``X-Total-Count`` of a one-row read of walk 2, asked once, when a backfill
starts. A page's cursor is ``{"walk", "at": T, "after": I, "skip"}``.

**Incremental**::

       sys_updated_on>={S}[^sys_updated_on>={T}^sys_updated_on>{T}^ORsys_id>{I}]
       ^ORDERBYsys_updated_on^ORDERBYsys_id

``S`` is the saved cursor minus ``overlap_seconds`` (or, the first time, the
backfill's start minus the overlap): ``sys_updated_on`` has one-second
precision and a commit can land late, so each poll re-reads that much
(upserts are idempotent); within a poll the keyset moves exactly, however
many rows share one second. A page's cursor is ``{"since": T}``.

**Per page**, three bulk queries per batch of 100 sys_ids ``IDS`` (no
per-ticket request), ``sysparm_display_value=false``, ``sysparm_limit=1000``,
all of a page side by side:

* ``task_sla``: ``taskIN{IDS}^active=true``; rows grouped by task in one pass;
* ``sys_journal_field``: ``name=incident^element_idIN{IDS}^elementINcomments,work_notes``
  ``^ORDERBYsys_created_on^ORDERBYsys_id``, plus ``^sys_created_on>={S}`` in the
  incremental phase (an entry never changes once written, and writing one
  moves its incident's ``sys_updated_on``, so the incident is on a page);
* ``sys_attachment``: ``table_name=incident^table_sys_idIN{IDS}``
  ``^ORDERBYsys_created_on^ORDERBYsys_id`` (metadata only, never limited by
  time: attaching a file need not touch the incident, so a changed incident
  brings its whole, short, list of files).

A page of 200 incidents costs 1 + 6 requests: 35 per 1,000 tickets (15 with
``conversations = false``), plus one per sub-query with more than 1,000 rows.
Every request goes through one :class:`~connectors.fanout.Limiter`
(``concurrency``, default 4), short 429s are waited out (``Retry-After``),
and the next incident page is already being fetched while the current page's
sub-requests run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload
from connectors.fanout import fan_out
from connectors.overrides import Overrides
from connectors.records import (
    ConversationEntry,
    Cursor,
    PollResult,
    Progress,
    TicketStatus,
)
from connectors.servicenow import actions
from connectors.servicenow.mapping import (
    STATUS_BY_STATE,
    attachment_entry,
    incident_to_record,
    journal_entry,
    raw_value,
    slas_by_task,
)
from connectors.servicenow.settings import ServiceNowSettings
from connectors.servicenow.table import (
    INCIDENT_PATH,
    get_or_none,
    next_offset,
    result_rows,
    total_count,
)
from connectors.settings import ConnectorSettings
from connectors.sync import BACKFILL
from connectors.timestamps import format_servicenow, parse_iso, parse_servicenow

__all__ = ["ServiceNowConnector"]

TASK_SLA_PATH = "/api/now/table/task_sla"
JOURNAL_PATH = "/api/now/table/sys_journal_field"
ATTACHMENT_PATH = "/api/now/table/sys_attachment"

INCIDENT_FIELDS = (
    "sys_id,number,short_description,description,state,hold_reason,priority,impact,urgency,"
    "assigned_to,assignment_group,caller_id,cmdb_ci,category,opened_at,sys_created_on,"
    "sys_updated_on,resolved_at,closed_at,close_code,active,made_sla,sys_mod_count,"
    "correlation_id"
)
SLA_FIELDS = "sys_id,task,sla,stage,active,has_breached,planned_end_time"
JOURNAL_FIELDS = "sys_id,element,element_id,value,sys_created_on,sys_created_by"
ATTACHMENT_FIELDS = (
    "sys_id,table_sys_id,file_name,content_type,size_bytes,sys_created_on,sys_created_by"
)

ID_BATCH = 100
"""Incident sys_ids per ``…IN`` query: about 3.3 KB of URL, well under server limits."""
SUB_LIMIT = 1000
"""``sysparm_limit`` of the SLA, journal and attachment queries."""
FINISHED_CODES = ("6", "7", "8")
"""Out-of-box Resolved, Closed, Canceled: the states a backfill reads only when recent."""
ORDER_BY_ID = "^ORDERBYsys_id"
ORDER_BY_UPDATED = "^ORDERBYsys_updated_on^ORDERBYsys_id"

OPEN_WALK = "open"
CLOSED_WALK = "closed"
CHANGED_WALK = "changed"


@dataclass(frozen=True)
class _Keyset:
    """Where a walk over incident pages stands: after the last row read.

    ``at``/``after`` are that row's raw ``sys_updated_on`` and ``sys_id`` (``at``
    stays empty in the open walk, ordered by sys_id alone); ``skip`` counts
    rows an ACL hid that the walk has stepped over since (``sysparm_offset``).
    """

    walk: str
    at: str = ""
    after: str = ""
    skip: int = 0

    def terms(self) -> str:
        """The encoded-query terms that select rows after this point."""
        if not self.after:
            return ""
        if not self.at:
            return f"^sys_id>{self.after}"
        return f"^sys_updated_on>={self.at}^sys_updated_on>{self.at}^ORsys_id>{self.after}"

    def past(self, rows: Sequence[Mapping[str, Any]], following: int | None) -> _Keyset:
        """The point after a page: its last visible row, else one page further on."""
        if rows:
            last = rows[-1]
            at = raw_value(last, "sys_updated_on") if self.walk != OPEN_WALK else ""
            return _Keyset(self.walk, at, raw_value(last, "sys_id"))
        if following is None:
            return self
        if following <= self.skip:
            raise BadPayload(f"ServiceNow next link goes back to offset {following}")
        return dataclasses.replace(self, skip=following)

    def dump(self) -> Cursor:
        return {"walk": self.walk, "at": self.at, "after": self.after, "skip": self.skip}

    @classmethod
    def load(cls, position: Cursor | None) -> _Keyset:
        """A saved backfill position; anything unreadable starts the backfill over."""
        if not isinstance(position, dict) or position.get("walk") not in (OPEN_WALK, CLOSED_WALK):
            return cls(OPEN_WALK)
        fields = [position.get(name) for name in ("at", "after")]
        skip = position.get("skip")
        if not all(isinstance(v, str) and "^" not in v for v in fields) or not isinstance(
            skip, int
        ):
            return cls(OPEN_WALK)
        return cls(str(position["walk"]), str(fields[0]), str(fields[1]), max(skip, 0))


@dataclass
class _Batch:
    """One incident page as it came back, with the walk's position after it."""

    rows: list[Mapping[str, Any]]
    position: _Keyset
    total: int | None
    requests: int


@dataclass
class _SubQuery:
    """One bulk query of a page (SLAs, journal or attachments for up to 100 incidents)."""

    path: str
    params: dict[str, str]
    rows: list[Mapping[str, Any]] = dataclasses.field(default_factory=list)


class ServiceNowConnector(Connector):
    """Polls one instance's ``incident`` table (``https://acme.service-now.com``)."""

    kind: ClassVar[str] = "servicenow"
    Settings = ServiceNowSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = actions.SUPPORTED
    create_dedupe: ClassVar[str | None] = "correlation_id"

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.options = _typed(self.settings)
        """The settings as this vendor's model."""
        self.overrides = Overrides.from_settings(self.options)
        self._finished = _finished_codes(self.overrides)

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Overrides first (their messages name the allowed values), then every other key."""
        Overrides.from_config(config)
        super().validate(config)

    @classmethod
    def options_of(cls, config: VendorConfig) -> ServiceNowSettings:
        """The section as :class:`ServiceNowSettings` (parsed once, then carried)."""
        return _typed(cls.parse_settings(config))

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """Basic auth for a service account; a complete username/password wins over a token."""
        pair = cls.options_of(config).basic_credentials()
        return httpx2.BasicAuth(*pair) if pair else None

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """An OAuth bearer token, used only when no username/password pair is configured."""
        token = cls.options_of(config).bearer_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- the two phases ----------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every unfinished incident, then finished ones within ``backfill_days`` (see module)."""
        keyset = _Keyset.load(position)
        floor = format_servicenow(started - self.options.backfill)
        closed_filter = f"stateIN{','.join(self._finished)}^sys_updated_on>={floor}"
        open_filter = f"stateNOT IN{','.join(self._finished)}"
        probe: asyncio.Future[int | None] | None = None
        if position is None:  # a fresh backfill: count walk 2 once, alongside walk 1's first page
            probe = asyncio.ensure_future(self._count(closed_filter))
        try:
            walks = (
                (OPEN_WALK, _query_for(open_filter, ORDER_BY_ID)),
                (CLOSED_WALK, _query_for(closed_filter, ORDER_BY_UPDATED)),
            )
            for walk, query_for in walks:
                if keyset.walk != walk:
                    continue
                async for batch, page in self._ahead(self._walk(query_for, keyset), None):
                    total, requests = None, batch.requests
                    if probe is not None:
                        closed = await probe
                        probe = None
                        requests += 1
                        if batch.total is not None and closed is not None:
                            total = batch.total + closed
                    yield dataclasses.replace(
                        page,
                        cursor=batch.position.dump(),
                        requests=page.requests + requests,
                        progress=Progress(BACKFILL, 0, total),
                    )
                keyset = _Keyset(CLOSED_WALK)
        finally:
            if probe is not None:
                probe.cancel()

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Incidents changed since the cursor minus the overlap, with their new entries."""
        since = _since(position)
        since = since - self.options.overlap if since is not None else start
        stamp = format_servicenow(since)
        cursor = position if _since(position) is not None else None
        query_for = _query_for(f"sys_updated_on>={stamp}", ORDER_BY_UPDATED)
        batches = self._walk(query_for, _Keyset(CHANGED_WALK))
        async for batch, page in self._ahead(batches, stamp):
            if batch.position.at:
                moved = parse_servicenow(batch.position.at)
                cursor = {"since": moved.isoformat()} if moved else cursor
            yield dataclasses.replace(
                page,
                cursor=cursor,
                requests=page.requests + batch.requests,
            )

    async def check(self) -> str:
        """One single-row read: proves credentials and table ACLs, reports how many are visible."""
        response = await get_or_none(
            self.client, INCIDENT_PATH, {"sysparm_limit": "1", "sysparm_fields": "sys_id"}
        )
        if response is None:
            return "ok, 0 incidents visible"
        total = total_count(response)
        if total is None:
            result_rows(response)  # still prove the answer is a Table API answer
            return "ok, incidents visible (no X-Total-Count)"
        return f"ok, {total:,} incidents visible"

    # -- write-back --------------------------------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """One incident PATCH or, for a hand-off, one POST: from settings alone."""
        return actions.plan(cls.options_of(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the planned request; report the incident number the instance answers with."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The incident already carrying this hand-off's ``correlation_id``, oldest first."""
        return await actions.find_existing(self, action)

    # -- reading -----------------------------------------------------------------

    async def _walk(
        self, query_for: Callable[[_Keyset], str], keyset: _Keyset
    ) -> AsyncGenerator[_Batch, None]:
        """Incident pages from ``keyset`` to the end, each with the position after it.

        The next page is already on its way while the caller handles this one
        (its keyset is known as soon as this page's rows are).
        """
        pending: asyncio.Future[httpx2.Response | None] | None = asyncio.ensure_future(
            self._incidents(query_for(keyset), keyset.skip)
        )
        try:
            for _ in range(self.options.max_pages):
                assert pending is not None
                response = await pending
                pending = None
                rows = result_rows(response)
                following = next_offset(response)
                after = keyset.past(rows, following)
                if following is not None:
                    pending = asyncio.ensure_future(self._incidents(query_for(after), after.skip))
                yield _Batch(rows, after, total_count(response), 1)
                if following is None:
                    return
                keyset = after
            raise BadPayload(f"ServiceNow offered more than {self.options.max_pages} pages")
        finally:
            if pending is not None:
                pending.cancel()

    async def _ahead(
        self, batches: AsyncGenerator[_Batch, None], since: str | None
    ) -> AsyncIterator[tuple[_Batch, PollResult]]:
        """Each incident page with its records, SLAs and entries, one page ahead.

        A page's sub-requests start as soon as its incidents arrive, so while
        the caller commits one page the next is already being read (memory:
        two pages). A failure of the page ahead surfaces when it is asked for,
        after the pages before it were handed on.
        """
        ahead: tuple[_Batch, asyncio.Future[PollResult]] | None = None
        async with contextlib.aclosing(batches):
            try:
                while True:
                    try:
                        batch = await anext(batches)
                    except StopAsyncIteration:
                        break
                    except Exception:
                        if ahead is not None:  # hand on what was read before the failure
                            current, ahead = ahead, None
                            yield current[0], await current[1]
                        raise
                    following = (batch, asyncio.ensure_future(self._page(batch.rows, since)))
                    if ahead is not None:
                        current, ahead = ahead, following
                        yield current[0], await current[1]
                    else:
                        ahead = following
                if ahead is not None:
                    current, ahead = ahead, None
                    yield current[0], await current[1]
            finally:
                if ahead is not None:
                    _abandon(ahead[1])

    async def _incidents(self, query: str, offset: int) -> httpx2.Response | None:
        params = {
            "sysparm_query": query,
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_fields": INCIDENT_FIELDS,
            "sysparm_limit": str(self.options.page_size),
            "sysparm_offset": str(offset),
        }
        return await self._get(INCIDENT_PATH, params)

    async def _count(self, condition: str) -> int | None:
        """How many incidents match ``condition`` (``X-Total-Count`` of a one-row read)."""
        params = {"sysparm_query": condition, "sysparm_fields": "sys_id", "sysparm_limit": "1"}
        return total_count(await self._get(INCIDENT_PATH, params))

    async def _get(self, path: str, params: Mapping[str, str]) -> httpx2.Response | None:
        """One request inside the vendor's concurrency bound, short 429s waited out."""
        (response,) = await fan_out(
            [params], lambda p: get_or_none(self.client, path, p), self.limiter
        )
        return response

    async def _page(self, rows: Sequence[Mapping[str, Any]], since: str | None) -> PollResult:
        """One page of incidents as records, with SLAs and (new) conversation entries."""
        if not rows:
            return PollResult()
        ids = [raw_value(row, "sys_id") for row in rows]
        batches = [ids[i : i + ID_BATCH] for i in range(0, len(ids), ID_BATCH)]
        slas = [self._sla_query(batch) for batch in batches]
        journals: list[_SubQuery] = []
        files: list[_SubQuery] = []
        if self.options.conversations:
            journals = [self._journal_query(batch, since) for batch in batches]
            files = [self._attachment_query(batch) for batch in batches]
        requests = await self._read_all([*slas, *journals, *files])
        summary = slas_by_task(row for query in slas for row in query.rows)
        base = self.config.base_url
        unknown = (None, None)
        tickets = [
            self.overrides.apply(incident_to_record(row, base, summary.get(sys_id, unknown)))
            for row, sys_id in zip(rows, ids, strict=True)
        ]
        entries: list[ConversationEntry] = [
            journal_entry(row) for query in journals for row in query.rows
        ]
        entries += [attachment_entry(row, base) for query in files for row in query.rows]
        return PollResult(tickets=tuple(tickets), entries=tuple(entries), requests=requests)

    async def _read_all(self, queries: list[_SubQuery]) -> int:
        """Every row of every query, all first pages side by side, then any further pages."""
        requests = 0
        pending = [(query, 0) for query in queries]
        while pending:
            answers = await fan_out(pending, self._sub_page, self.limiter)
            requests += len(pending)
            following = []
            for (query, offset), response in zip(pending, answers, strict=True):
                query.rows.extend(result_rows(response))
                step = next_offset(response)
                if step is not None:
                    if step <= offset:
                        raise BadPayload(f"ServiceNow next link goes back to offset {step}")
                    following.append((query, step))
            pending = following
        return requests

    async def _sub_page(self, item: tuple[_SubQuery, int]) -> httpx2.Response | None:
        query, offset = item
        params = {**query.params, "sysparm_limit": str(SUB_LIMIT), "sysparm_offset": str(offset)}
        return await get_or_none(self.client, query.path, params)

    def _sla_query(self, ids: Sequence[str]) -> _SubQuery:
        return _SubQuery(
            TASK_SLA_PATH,
            {
                "sysparm_query": f"taskIN{','.join(ids)}^active=true",
                "sysparm_display_value": "false",
                "sysparm_exclude_reference_link": "true",
                "sysparm_fields": SLA_FIELDS,
            },
        )

    def _journal_query(self, ids: Sequence[str], since: str | None) -> _SubQuery:
        window = f"^sys_created_on>={since}" if since else ""
        query = (
            f"name=incident^element_idIN{','.join(ids)}^elementINcomments,work_notes{window}"
            "^ORDERBYsys_created_on^ORDERBYsys_id"
        )
        return _SubQuery(
            JOURNAL_PATH,
            {
                "sysparm_query": query,
                "sysparm_display_value": "false",
                "sysparm_fields": JOURNAL_FIELDS,
            },
        )

    def _attachment_query(self, ids: Sequence[str]) -> _SubQuery:
        query = (
            f"table_name=incident^table_sys_idIN{','.join(ids)}^ORDERBYsys_created_on^ORDERBYsys_id"
        )
        return _SubQuery(
            ATTACHMENT_PATH,
            {
                "sysparm_query": query,
                "sysparm_display_value": "false",
                "sysparm_fields": ATTACHMENT_FIELDS,
            },
        )


def _abandon(task: asyncio.Future[Any]) -> None:
    """Stop work nobody will ask for; a failure it already had is not reported twice."""
    if task.done():
        if not task.cancelled():
            task.exception()
        return
    task.cancel()


def _query_for(condition: str, order: str) -> Callable[[_Keyset], str]:
    """The ``sysparm_query`` of a walk's page: its condition, the keyset, the order."""
    return lambda keyset: condition + keyset.terms() + order


def _typed(settings: object) -> ServiceNowSettings:
    if not isinstance(settings, ServiceNowSettings):  # pragma: no cover - the base parses it
        raise TypeError("ServiceNow settings expected")
    return settings


def _finished_codes(overrides: Overrides) -> tuple[str, ...]:
    """The state codes a backfill reads only when recent: finished by default or by override.

    An override can only widen what counts as open (a tenant that maps
    "Resolved" to open sees its old resolved incidents too); codes an
    override marks finished are still read in full, which is safe.
    """
    labels = {"6": "resolved", "7": "closed", "8": "canceled"}
    finished = []
    for code in FINISHED_CODES:
        status = (
            overrides.statuses.get(code)
            or overrides.statuses.get(labels[code])
            or STATUS_BY_STATE[code]
        )
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            finished.append(code)
    return tuple(finished) or ("-",)


def _since(position: Cursor | None) -> datetime | None:
    """The saved incremental cursor's time (also a pre-kit ``{"since": iso}`` cursor)."""
    saved = position.get("since") if isinstance(position, dict) else None
    if not isinstance(saved, str):
        return None
    try:
        parsed = parse_iso(saved)
    except BadPayload:
        return None  # a cursor we did not write: start from the phase's start instead
    return parsed.astimezone(UTC) if parsed else None

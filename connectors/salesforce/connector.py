"""The Salesforce Service Cloud connector: cases by SOQL, their milestones and conversation.

Every read is the Query resource, ``GET /services/data/v{api_version}/query?q={SOQL}``
with ``Sforce-Query-Options: batchSize={page_size}``. An answer holds
``totalSize`` (all matches), ``done`` and, while not done, ``nextRecordsUrl``
(``/services/data/v66.0/query/01g…-2000``): only ``done`` ends a query (a
batch may be smaller than asked), and only the *path* of the next URL is
followed, checked against the Query resource's shape, on our own base URL.
A position is saved after every batch as a keyset, so a restart re-runs the
query from the last committed row rather than trusting a server-side query
locator that may have expired (one that did expire mid-poll,
``INVALID_QUERY_LOCATOR``, is re-run from the keyset the same way).

**Backfill** (first sync), two walks over ``Case`` (``F`` = the case fields,
``W`` = when the backfill began minus ``backfill_days``):

1. every open case, whatever its age, keyset on ``Id``::

       SELECT F FROM Case WHERE IsClosed = false [AND Id > '{I}'] ORDER BY Id

   (a ``status_map`` that maps a closed status to an active one adds
   ``OR Status IN (…)``);
2. closed cases changed since ``W``, keyset on ``(SystemModstamp, Id)``::

       SELECT F FROM Case WHERE IsClosed = true AND SystemModstamp >= W
         [AND (SystemModstamp > T OR (SystemModstamp = T AND Id > 'I'))]
       ORDER BY SystemModstamp, Id

``progress.total`` is walk 1's ``totalSize`` plus ``SELECT COUNT() FROM Case
WHERE IsClosed = true AND SystemModstamp >= W``, asked once, beside walk 1's
first batch. Position: ``{"walk", "after", "at"}``.

**Per batch of cases**, side by side, ``IN`` lists of at most 200 Ids (about
4 KB of URL); each request takes a slot of the connector's limiter, the queries
none (a query holding a slot while its request waits for another would
deadlock a batch of more than 200 cases at ``concurrency = 4``):

* ``CaseMilestone`` by ``CaseId IN (…)`` → ``vendor_due_at`` (earliest
  ``TargetDate`` not completed), ``vendor_breached`` (any ``IsViolated``) and
  ``first_response_at`` (completion of ``first_response_milestone``);
* backfill only: ``CaseComment`` and ``EmailMessage`` by ``ParentId IN (…)``.

**Incremental** (every poll; the first starts where the backfill began minus
``overlap_seconds``), five streams, each by its own ``SystemModstamp``
watermark minus the overlap, each page saving its own watermark:

1. ``Case WHERE SystemModstamp >= S ORDER BY SystemModstamp, Id`` (with milestones);
2. ``CaseMilestone WHERE SystemModstamp >= S``: cases whose milestones changed
   without the case changing are read again by ``Id IN (…)``;
3. ``CaseComment WHERE SystemModstamp >= S`` and 4. ``EmailMessage WHERE
   SystemModstamp >= S``: conversation entries of any case, whether or not
   writing them touched the case;
5. ``GET /sobjects/Case/deleted/?start=&end=`` (getDeleted) → ``removed``; the
   next start is the answer's ``latestDateCovered``. Salesforce keeps 15 days
   of its delete log (less when it purges a large one): when
   ``earliestDateAvailable`` is later than the start, deletions were missed,
   which is logged (only a full resync can find them).

Pacing and errors live in :mod:`connectors.salesforce.api`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import USER_AGENT, Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import Limiter, fan_out
from connectors.overrides import Overrides
from connectors.records import (
    ConversationEntry,
    Cursor,
    PollResult,
    Progress,
    TicketRecord,
)
from connectors.salesforce import actions
from connectors.salesforce.api import (
    TOKEN_PATH,
    ApiUsageBudget,
    ClientCredentials,
    decode_object,
    request,
)
from connectors.salesforce.mapping import (
    MilestoneSummary,
    case_to_record,
    comment_to_entry,
    email_to_entry,
    milestones_by_case,
    text,
)
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.soql import (
    chunks,
    datetime_literal,
    id_list,
    id_literal,
    string_literal,
)
from connectors.settings import ConnectorSettings
from connectors.sync import BACKFILL
from connectors.timestamps import parse_iso

__all__ = ["SalesforceConnector"]

log = logging.getLogger("connectors.salesforce")

CASE_FIELDS = (
    "Id, CaseNumber, Subject, Description, Status, Priority, Origin, Type, IsClosed, "
    "IsEscalated, ClosedDate, CreatedDate, LastModifiedDate, SystemModstamp, OwnerId, "
    "Owner.Name, ContactId, Contact.Name, Contact.Email, SuppliedName, SuppliedEmail, "
    "AccountId, Account.Name, AssetId, Asset.Name"
)
MILESTONE_FIELDS = (
    "Id, CaseId, MilestoneType.Name, StartDate, TargetDate, CompletionDate, IsCompleted, "
    "IsViolated, SystemModstamp"
)
COMMENT_FIELDS = (
    "Id, ParentId, CommentBody, IsPublished, CreatedById, CreatedBy.Name, CreatedDate, "
    "LastModifiedDate, SystemModstamp"
)
EMAIL_FIELDS = (
    "Id, ParentId, Subject, FromName, FromAddress, ToAddress, Incoming, MessageDate, "
    "TextBody, HtmlBody, HasAttachment, CreatedDate, SystemModstamp"
)
ID_CHUNK = 200
"""Ids per ``IN (…)`` list: 21 characters each, about 4 KB of URL."""
DELETE_LOG_DAYS = 15
"""getDeleted answers for at most the last 15 days."""
LOCATOR_RETRIES = 3
_NEXT_PATH = re.compile(r"^/services/data/v\d+\.\d+/query(?:All)?/[A-Za-z0-9]+-\d+$")

OPEN_WALK = "open"
CLOSED_WALK = "closed"
STREAMS = ("cases", "milestones", "comments", "emails", "deleted")


@dataclass(frozen=True)
class _Batch:
    """One query batch: its rows and what the answer said about the whole query."""

    rows: list[Mapping[str, Any]]
    total: int | None


class _LocatorGone(ConnectorError):
    """The query locator behind ``nextRecordsUrl`` expired: re-run from the keyset."""


class SalesforceConnector(Connector):
    """Polls one org's cases (``https://acme.my.salesforce.com``)."""

    kind: ClassVar[str] = "salesforce"
    Settings = SalesforceSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = actions.SUPPORTED
    create_dedupe: ClassVar[str | None] = "external_id_field (upsert by external id)"

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
        self.budget: ApiUsageBudget = ApiUsageBudget(
            slowdown=self.options.api_usage_slowdown, reserve=self.options.api_usage_reserve
        )
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """Now, for the getDeleted window (tests move it)."""
        self.sent = 0
        """HTTP requests sent (token requests included); pages report their share."""
        self._reported = 0
        auth = getattr(client, "auth", None)
        if isinstance(auth, ClientCredentials):
            auth.on_request = self._count

    # -- configuration and the client ---------------------------------------------

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Overrides first (their messages name the allowed values), then every other key."""
        Overrides.from_config(config)
        super().validate(config)

    @classmethod
    def options_of(cls, config: VendorConfig) -> SalesforceSettings:
        """The section as :class:`SalesforceSettings` (parsed once, then carried)."""
        return _typed(cls.parse_settings(config))

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """OAuth 2.0 client credentials against the org's own My Domain host."""
        options = cls.options_of(config)
        return ClientCredentials(
            config.base_url.rstrip("/") + TOKEN_PATH,
            options.client_id or "",
            options.secret_value(),
        )

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """The one long-lived client, its token kept by its auth."""
        return httpx2.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            auth=cls.auth(config),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx2.Timeout(10.0),
            follow_redirects=False,
        )

    def _count(self) -> None:
        self.sent += 1

    def _spent(self) -> int:
        """Requests sent since the last page was handed on."""
        spent, self._reported = self.sent - self._reported, self.sent
        return spent

    # -- the two phases ------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every open case, then closed ones changed within ``backfill_days`` (see module)."""
        walk, after, at = _backfill_position(position)
        floor = datetime_literal(started - self.options.backfill)
        closed_filter = f"IsClosed = true AND SystemModstamp >= {floor}"
        probe: asyncio.Future[int | None] | None = None
        if position is None:
            probe = asyncio.ensure_future(self._count_cases(closed_filter))
        try:
            if walk == OPEN_WALK:
                open_filter = self._open_filter()
                async for batch, last in self._walk(
                    lambda last: self._open_query(open_filter, last), after
                ):
                    total = None
                    if probe is not None:
                        closed = await probe
                        probe = None
                        if batch.total is not None and closed is not None:
                            total = batch.total + closed
                    page = await self._case_page(batch.rows, conversations=True)
                    yield replace(
                        page,
                        cursor={"walk": OPEN_WALK, "after": last, "at": ""},
                        requests=self._spent(),
                        progress=Progress(BACKFILL, 0, total),
                    )
                after, at = "", ""
            if probe is not None:  # no open case at all: the count still belongs to progress
                closed = await probe
                probe = None
                yield PollResult(
                    cursor={"walk": CLOSED_WALK, "after": "", "at": ""},
                    requests=self._spent(),
                    progress=Progress(BACKFILL, 0, closed),
                )
            keyset = (at, after) if after else None
            async for batch, last_row in self._stamp_walk(
                "Case", CASE_FIELDS, closed_filter, keyset
            ):
                page = await self._case_page(batch.rows, conversations=True)
                yield replace(
                    page,
                    cursor={"walk": CLOSED_WALK, "after": last_row[1], "at": last_row[0]},
                    requests=self._spent(),
                )
        finally:
            if probe is not None:
                probe.cancel()

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Changed cases, milestones, comments, e-mails, then deletions (see module)."""
        marks = _incremental_position(position, start)
        seen: set[str] = set()
        async for batch, last_row in self._stamp_walk(
            "Case", CASE_FIELDS, self._since(marks["cases"]), None, keyset_resume=False
        ):
            page = await self._case_page(batch.rows, conversations=False)
            seen.update(t.external_id for t in page.tickets)
            marks = {**marks, "cases": last_row[0]}
            yield replace(page, cursor=dict(marks), requests=self._spent())
        if self.options.milestones:
            async for batch, last_row in self._stamp_walk(
                "CaseMilestone",
                "Id, CaseId, SystemModstamp",
                self._since(marks["milestones"]),
                None,
                keyset_resume=False,
            ):
                cases = sorted({text(r, "CaseId") for r in batch.rows} - seen - {""})
                page = await self._cases_by_id(cases)
                seen.update(cases)
                marks = {**marks, "milestones": last_row[0]}
                yield replace(page, cursor=dict(marks), requests=self._spent())
        if self.options.conversations:
            for stream, sobject, fields, to_entry in (
                ("comments", "CaseComment", COMMENT_FIELDS, comment_to_entry),
                ("emails", "EmailMessage", EMAIL_FIELDS, email_to_entry),
            ):
                async for batch, last_row in self._stamp_walk(
                    sobject, fields, self._since(marks[stream]), None, keyset_resume=False
                ):
                    entries = tuple(to_entry(row) for row in batch.rows)
                    marks = {**marks, stream: last_row[0]}
                    yield PollResult(entries=entries, cursor=dict(marks), requests=self._spent())
        removed, covered = await self._deleted(marks["deleted"])
        if covered != marks["deleted"] or removed:
            marks = {**marks, "deleted": covered}
            yield PollResult(removed=tuple(removed), cursor=dict(marks), requests=self._spent())

    async def check(self) -> str:
        """A token, then one COUNT() query: proves credentials and read access to Case."""
        body = decode_object(
            await self._get(f"{self.options.data_path}/query", {"q": "SELECT COUNT() FROM Case"}),
            "query answer",
        )
        total = body.get("totalSize")
        usage = ""
        if self.budget.used is not None and self.budget.allocation:
            usage = f"; API usage {self.budget.used:,}/{self.budget.allocation:,} in 24 h"
        if isinstance(total, int):
            return f"ok, {total:,} cases visible{usage}"
        return f"ok{usage}"

    # -- write-back ----------------------------------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests an action sends, from settings alone (no client is built)."""
        return actions.plan(cls.options_of(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the action; for a hand-off, report the new case's number."""
        return await actions.perform(self, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The case already carrying this hand-off's external id, if any."""
        return await actions.find_existing(self, action)

    async def send_planned(self, planned: PlannedRequest) -> httpx2.Response:
        """Send one planned request, paced and mapped like the polls."""
        return await self.call(
            planned.method,
            planned.path,
            params=dict(planned.params) or None,
            json_body=planned.body,
            headers=dict(planned.headers) or None,
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx2.Response:
        """One REST request, counted and paced (writes and look-ups use this)."""
        self._count()
        return await request(
            self.client,
            method,
            path,
            params=params,
            json_body=json_body,
            headers=headers,
            budget=self.budget,
            allow=allow,
        )

    # -- reading -------------------------------------------------------------------

    def _open_filter(self) -> str:
        """``IsClosed = false``, widened by statuses a ``status_map`` makes active."""
        active = sorted(raw for raw, status in self.overrides.statuses.items() if status.is_active)
        if not active:
            return "IsClosed = false"
        names = ", ".join(string_literal(name) for name in active)
        return f"(IsClosed = false OR Status IN ({names}))"

    def _open_query(self, open_filter: str, after: str) -> str:
        keyset = f" AND Id > {id_literal(after)}" if after else ""
        return f"SELECT {CASE_FIELDS} FROM Case WHERE {open_filter}{keyset} ORDER BY Id"

    def _since(self, mark: str) -> str:
        """``SystemModstamp >= {mark - overlap}`` for an incremental stream."""
        at = parse_iso(mark) or datetime.now(UTC)
        return f"SystemModstamp >= {datetime_literal(at - self.options.overlap)}"

    async def _walk(
        self, query_for: Callable[[str], str], after: str
    ) -> AsyncIterator[tuple[_Batch, str]]:
        """Batches of an ``ORDER BY Id`` query from ``after``, each with its last Id."""
        retries = 0
        while True:
            try:
                async for batch in self._query(query_for(after)):
                    if batch.rows:
                        after = text(batch.rows[-1], "Id")
                    yield batch, after
                return
            except _LocatorGone:
                retries += 1
                if retries > LOCATOR_RETRIES:
                    raise

    async def _stamp_walk(
        self,
        sobject: str,
        fields: str,
        condition: str,
        keyset: tuple[str, str] | None,
        *,
        keyset_resume: bool = True,
    ) -> AsyncIterator[tuple[_Batch, tuple[str, str]]]:
        """Batches ``ORDER BY SystemModstamp, Id``, each with its last ``(stamp, Id)``.

        ``keyset`` resumes after a saved row; an expired locator re-runs the
        query after the last row read (``keyset_resume``) or from its start.
        """
        last = keyset or ("", "")
        retries = 0
        while True:
            where = condition
            if keyset is not None:
                stamp = datetime_literal(_stamp(keyset[0]))
                where += (
                    f" AND (SystemModstamp > {stamp} OR "
                    f"(SystemModstamp = {stamp} AND Id > {id_literal(keyset[1])}))"
                )
            soql = f"SELECT {fields} FROM {sobject} WHERE {where} ORDER BY SystemModstamp, Id"
            try:
                async for batch in self._query(soql):
                    if batch.rows:
                        row = batch.rows[-1]
                        last = (text(row, "SystemModstamp"), text(row, "Id"))
                        if not last[0]:
                            raise BadPayload(f"Salesforce {sobject} row without SystemModstamp")
                        yield batch, last
                return
            except _LocatorGone:
                retries += 1
                if retries > LOCATOR_RETRIES:
                    raise
                if keyset_resume and last[1]:
                    keyset = last

    async def _query(self, soql: str) -> AsyncIterator[_Batch]:
        """One SOQL query to ``done``, batch by batch (only ``nextRecordsUrl``'s path)."""
        headers = {"Sforce-Query-Options": f"batchSize={self.options.page_size}"}
        response = await self._get(f"{self.options.data_path}/query", {"q": soql}, headers)
        for _ in range(self.options.max_pages):
            body = decode_object(response, "query answer")
            rows = body.get("records")
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise BadPayload("Salesforce query answer has no records list")
            total = body.get("totalSize")
            done = body.get("done")
            if not isinstance(done, bool):
                raise BadPayload("Salesforce query answer has no done flag")
            yield _Batch(rows, total if isinstance(total, int) else None)
            if done:
                return
            path = _next_path(body.get("nextRecordsUrl"))
            try:
                response = await self._get(path, None, headers)
            except ConnectorError as exc:
                if "INVALID_QUERY_LOCATOR" in str(exc):
                    raise _LocatorGone(str(exc), http_status=exc.http_status) from None
                raise
        raise BadPayload(f"Salesforce offered more than {self.options.max_pages} batches")

    async def _get(
        self,
        path: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """One GET inside the vendor's concurrency bound, short 429s waited out."""
        (response,) = await fan_out(
            [path], lambda p: self.call("GET", p, params=params, headers=headers), self.limiter
        )
        return response

    async def _count_cases(self, condition: str) -> int | None:
        """``totalSize`` of a ``COUNT()`` query."""
        response = await self._get(
            f"{self.options.data_path}/query", {"q": f"SELECT COUNT() FROM Case WHERE {condition}"}
        )
        total = decode_object(response, "count answer").get("totalSize")
        return total if isinstance(total, int) else None

    async def _rows(self, soql: str) -> list[Mapping[str, Any]]:
        """Every row of a (small) query."""
        rows: list[Mapping[str, Any]] = []
        async for batch in self._query(soql):
            rows.extend(batch.rows)
        return rows

    async def _case_page(
        self, rows: Sequence[Mapping[str, Any]], *, conversations: bool
    ) -> PollResult:
        """Case rows as records with their milestones (and, if asked, their conversation)."""
        if not rows:
            return PollResult()
        ids = [text(row, "Id") for row in rows]
        groups = chunks(ids, ID_CHUNK)
        queries: list[tuple[str, str]] = []
        if self.options.milestones:
            queries += [
                (
                    "milestones",
                    f"SELECT {MILESTONE_FIELDS} FROM CaseMilestone "
                    f"WHERE CaseId IN {id_list(group)} ORDER BY CaseId, Id",
                )
                for group in groups
            ]
        if conversations and self.options.conversations:
            for sobject, fields in (
                ("CaseComment", COMMENT_FIELDS),
                ("EmailMessage", EMAIL_FIELDS),
            ):
                queries += [
                    (
                        sobject,
                        f"SELECT {fields} FROM {sobject} "
                        f"WHERE ParentId IN {id_list(group)} ORDER BY CreatedDate, Id",
                    )
                    for group in groups
                ]
        # Side by side, but outside the limiter: each of their requests takes a slot (in
        # _get), and a query that held one while its request waited for another would
        # deadlock the poll once a batch has as many queries as the limiter has slots.
        answers = await fan_out(
            queries, lambda q: self._rows(q[1]), Limiter(max(len(queries), 1)), retries=0
        )
        milestone_rows = [
            r
            for (what, _), rows in zip(queries, answers, strict=True)
            if what == "milestones"
            for r in rows
        ]
        summary = milestones_by_case(milestone_rows, self.options.first_response_milestone)
        none = MilestoneSummary()
        base = self.config.base_url
        tickets: list[TicketRecord] = []
        for row, case_id in zip(rows, ids, strict=True):
            sla = summary.get(case_id, none) if self.options.milestones else None
            tickets.append(self.overrides.apply(case_to_record(row, base, sla)))
        entries: list[ConversationEntry] = []
        for (what, _), found in zip(queries, answers, strict=True):
            if what == "CaseComment":
                entries += [comment_to_entry(r) for r in found]
            elif what == "EmailMessage":
                entries += [email_to_entry(r) for r in found]
        return PollResult(tickets=tuple(tickets), entries=tuple(entries))

    async def _cases_by_id(self, ids: Sequence[str]) -> PollResult:
        """Cases read again by Id (their milestones changed), with milestones."""
        rows: list[Mapping[str, Any]] = []
        for group in chunks(list(ids), ID_CHUNK):
            rows += await self._rows(
                f"SELECT {CASE_FIELDS} FROM Case WHERE Id IN {id_list(group)} ORDER BY Id"
            )
        return await self._case_page(rows, conversations=False)

    async def _deleted(self, mark: str) -> tuple[list[str], str]:
        """Case Ids deleted since ``mark`` and where the next look starts (getDeleted)."""
        now = self.clock()
        since = parse_iso(mark) or now
        oldest = now - timedelta(days=DELETE_LOG_DAYS) + timedelta(minutes=1)
        if since < oldest:
            log.warning(
                "vendor %s: deletions before %s are past Salesforce's 15-day delete log",
                self.config.name,
                oldest.isoformat(timespec="minutes"),
            )
            since = oldest
        if _minute(now) <= _minute(since):  # getDeleted works in whole minutes
            return [], mark
        params = {
            "start": since.isoformat(timespec="seconds"),
            "end": now.isoformat(timespec="seconds"),
        }
        body = decode_object(
            await self._get(f"{self.options.data_path}/sobjects/Case/deleted/", params),
            "getDeleted answer",
        )
        rows = body.get("deletedRecords")
        if not isinstance(rows, list):
            raise BadPayload("Salesforce getDeleted answer has no deletedRecords list")
        removed = [r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)]
        earliest = parse_iso(body.get("earliestDateAvailable"))
        if earliest is not None and earliest > since:
            log.warning(
                "vendor %s: Salesforce purged its delete log up to %s; cases deleted "
                "before then are not reported as removed",
                self.config.name,
                earliest.isoformat(timespec="minutes"),
            )
        covered = parse_iso(body.get("latestDateCovered"))
        if covered is None or covered < since:  # never step back: keep where this look began
            return removed, since.isoformat() if removed else mark
        return removed, covered.isoformat()


def _next_path(value: object) -> str:
    """The path of ``nextRecordsUrl``, checked; its host (if any) is never used."""
    if not isinstance(value, str) or not value:
        raise BadPayload("Salesforce query answer is not done but has no nextRecordsUrl")
    parts = urlsplit(value)
    if parts.query or not _NEXT_PATH.match(parts.path):
        raise BadPayload(f"Salesforce nextRecordsUrl is not a query locator: {value[:80]!r}")
    return parts.path


def _stamp(value: str) -> datetime:
    parsed = parse_iso(value)
    if parsed is None:
        raise BadPayload("Salesforce row without SystemModstamp")
    return parsed


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _typed(settings: object) -> SalesforceSettings:
    if not isinstance(settings, SalesforceSettings):  # pragma: no cover - the base parses it
        raise TypeError("Salesforce settings expected")
    return settings


def _backfill_position(position: Cursor | None) -> tuple[str, str, str]:
    """``(walk, after, at)`` of a saved backfill position; anything odd starts over."""
    if not isinstance(position, dict) or position.get("walk") not in (OPEN_WALK, CLOSED_WALK):
        return OPEN_WALK, "", ""
    after, at = position.get("after"), position.get("at")
    if not isinstance(after, str) or not isinstance(at, str):
        return OPEN_WALK, "", ""
    if after and not _valid_id(after):
        return OPEN_WALK, "", ""
    if position["walk"] == CLOSED_WALK and after and parse_iso_or_none(at) is None:
        return CLOSED_WALK, "", ""
    return str(position["walk"]), after, at


def _valid_id(value: str) -> bool:
    try:
        id_literal(value)
    except BadPayload:
        return False
    return True


def parse_iso_or_none(value: str) -> datetime | None:
    try:
        return parse_iso(value)
    except BadPayload:
        return None


def _incremental_position(position: Cursor | None, start: datetime) -> dict[str, str]:
    """Each stream's watermark (ISO text); a missing or odd one starts at ``start``."""
    fallback = start.astimezone(UTC).isoformat()
    marks: dict[str, str] = {}
    for stream in STREAMS:
        value = position.get(stream) if isinstance(position, dict) else None
        ok = isinstance(value, str) and parse_iso_or_none(value) is not None
        marks[stream] = value if ok and isinstance(value, str) else fallback
    return marks

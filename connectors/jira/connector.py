"""The Jira Cloud / Jira Service Management connector.

Everything is read with platform JQL (``POST /rest/api/3/search/jql``), paged
by ``nextPageToken`` until Jira omits it or says ``isLast``; a short or even
empty page is not the end (Jira filters by permission inside a token window).
Each search asks for the issue fields, the description (ADF), ``comment``,
``attachment`` and the tenant's JSM SLA fields, so one request per page of up
to 100 issues brings tickets, conversations and SLA clocks together: no
per-issue request on the normal path.

**Backfill** (the first sync, resumable), two queries in turn::

    [project = "P" AND ]statusCategory != Done[ AND created >= "<last created>"]
        ORDER BY created ASC, key ASC
    [project = "P" AND ]statusCategory = Done AND updated >= "<started - backfill_days>"
        ORDER BY updated ASC, key ASC

every issue not in the Done category, whatever its age, then Done ones updated
within ``backfill_days`` of when the backfill started. Each page's position is
``{"phase", "at", "ids"}``: the query, the ``created`` (or ``updated``) of its
last issue and the ids read at exactly that instant. A restart asks again from
that minute and drops what it already read, so nothing is read twice or
skipped. ``created`` never changes, so the first query's order holds while it
runs; anything that changes during the backfill is read again by the
incremental phase, which starts where the backfill started (minus the
overlap). Its size comes from ``POST /rest/api/3/search/approximate-count``
with ``[project = "P" AND ](statusCategory != Done OR updated >= "…")``.

**Incremental**::

    [project = "P" AND ]updated >= "<position - overlap_seconds>" ORDER BY updated ASC, key ASC

Each page's position is the newest ``fields.updated`` read so far (as Jira
wrote it): the next token continues after the last issue read, and an issue
updated while the pages are read moves behind it and is read again, so a
restart from any page's position (minus the overlap) skips nothing.
Conversations: an incremental poll sees only issues whose ``updated`` moved (a
new or edited comment moves it) and keeps only their comments created or
edited since the query's bound; a backfill keeps them all.

Conversations and SLAs: comments come in the search's ``comment`` field with
``jsdPublic`` (JSM's public/internal flag). When an issue has more comments
than the search carries (``total`` beyond the list), its comments are read
from ``GET /rest/api/3/issue/{key}/comment`` (``orderBy=created``, 100 a
page), for those issues only and side by side (``concurrency``, default 4).
JSM SLA fields are found once an hour through ``GET /rest/api/3/field``
(``schema.custom`` = ``com.atlassian.servicedesk:sd-sla-field``) and asked
for by id in every search.

Time zones: JQL date literals have minute precision and are read in the API
user's *profile* zone. The connector asks ``/rest/api/3/myself`` for that zone
once (its ``timeZone``) and writes each literal there, floored to the minute;
a real zone (not a fixed offset) keeps the literal right across daylight-saving
changes. Should the zone be unknown, the literal is written in the offset of
the saved ``fields.updated`` (Jira writes timestamps in the same profile zone),
and otherwise in UTC stepped back 14 hours, so it is never later than meant.
Assumed: the API user's profile zone does not change between two polls.

Settings: :class:`~connectors.jira.settings.JiraSettings`. Write-back:
:mod:`connectors.jira.actions`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.base import Connector, VendorConfig
from connectors.errors import AuthError, BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.jira import actions
from connectors.jira.jql import (
    backfill_count_jql,
    closed_recently_jql,
    date_literal,
    open_jql,
    updated_since_jql,
)
from connectors.jira.mapping import (
    conversation,
    issue_to_record,
    jira_offset,
    jira_time,
    search_issues,
)
from connectors.jira.settings import JiraSettings
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
from connectors.sync import BACKFILL

__all__ = ["JiraConnector"]

SEARCH_PATH = "/rest/api/3/search/jql"
COUNT_PATH = "/rest/api/3/search/approximate-count"
MYSELF_PATH = "/rest/api/3/myself"
FIELD_PATH = "/rest/api/3/field"
COMMENT_PATH = "/rest/api/3/issue/{key}/comment"
ISSUE_FIELDS = (
    "summary",
    "status",
    "priority",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "project",
    "description",
    "comment",
    "attachment",
)
SLA_FIELD_TYPE = "com.atlassian.servicedesk:sd-sla-field"
FIELDS_FOR = 3600.0
"""Seconds the SLA field ids found through ``/field`` are used before asking again."""
COMMENT_PAGE = 100
"""``maxResults`` of a comment page (Jira Cloud's ceiling there)."""
RATE_HEADERS = RateHeaders(
    remaining="X-RateLimit-Remaining",
    limit="X-RateLimit-Limit",
    reset="X-RateLimit-Reset",
    reset_kind="iso",
)
WIDEST_OFFSET = timedelta(hours=14)
"""The widest UTC offset a profile zone can have (Line Islands, +14:00)."""
OPEN, CLOSED_RECENTLY = "open", "closed"
"""The two backfill queries, in the order they run."""


@dataclass(frozen=True)
class _Position:
    """Where a backfill query stands: the order value of its last issue and the ids read there."""

    phase: str
    at: datetime
    ids: frozenset[str]

    @classmethod
    def load(cls, cursor: Cursor | None) -> _Position | None:
        if not isinstance(cursor, dict) or cursor.get("phase") not in (OPEN, CLOSED_RECENTLY):
            return None
        try:
            at = datetime.fromisoformat(str(cursor.get("at")))
        except ValueError:
            return None
        ids = cursor.get("ids")
        if at.tzinfo is None or not isinstance(ids, list):
            return None
        return cls(str(cursor["phase"]), at, frozenset(str(i) for i in ids))

    def dump(self) -> Cursor:
        return {"phase": self.phase, "at": self.at.isoformat(), "ids": sorted(self.ids)}

    def read(self, at: datetime, issue_id: str) -> bool:
        """Whether an issue at this order value was already read before the position."""
        return at < self.at or (at == self.at and issue_id in self.ids)


@dataclass
class _Page:
    """One search answer mapped: newest copy of each issue, with its entries."""

    records: list[TicketRecord]
    entries: list[ConversationEntry]
    updated_text: dict[str, str]
    """``fields.updated`` as Jira wrote it, per issue id (the incremental position keeps it)."""


class JiraConnector(Connector):
    """Polls ``https://{site}.atlassian.net`` with an account's API token."""

    kind: ClassVar[str] = "jira"
    Settings: ClassVar[type[JiraSettings]] = JiraSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "labels"
    settings: JiraSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: JiraSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        assert isinstance(self.settings, JiraSettings)
        self.budget = RateBudget(RATE_HEADERS)
        """Paces requests from ``X-RateLimit-*`` before Jira has to say 429."""
        self.overrides = Overrides.from_settings(self.settings)
        self.api_root = _api_root(config)
        self.site = self.settings.site_url or self.api_root
        """Where browse links point."""
        self.user_zone: tzinfo | None = None
        """The API user's profile zone, in which Jira reads JQL date literals."""
        self._zone_asked = False
        self.sla_fields: dict[str, str] = {}
        """JSM SLA custom fields: id → name (empty without JSM or with ``service_desk`` off)."""
        self._fields_asked_at: float | None = None
        self._requests = 0

    @classmethod
    def settings_of(cls, config: VendorConfig) -> JiraSettings:
        """The section parsed (once, when paneglass loaded the config)."""
        settings = cls.parse_settings(config)
        assert isinstance(settings, JiraSettings)
        return settings

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API-token Basic auth: ``email:api_token``."""
        settings = cls.settings_of(config)
        return httpx2.BasicAuth(settings.email or "", secret(settings.api_token) or "")

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/rest/api/3`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_api_root(config)))

    # -- reading -------------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Open issues by ``created``, then recently closed ones by ``updated`` (module doc)."""
        self._requests = 0  # writes sent since the last poll are not this poll's
        await self._prepare()
        resume = _Position.load(position)
        project = self.settings.project
        closed_from = started - self.settings.backfill
        total = None
        if resume is None:
            total = await self._count(backfill_count_jql(project, self._literal(closed_from)))
        if resume is None or resume.phase == OPEN:
            created_from = self._literal(resume.at) if resume is not None else None
            async for page in self._backfill(open_jql(project, created_from), resume, total):
                total = None
                yield page
            resume = None
        if resume is None:  # the second query starts at its bound, having read nothing
            resume = _Position(CLOSED_RECENTLY, closed_from, frozenset())
        jql = closed_recently_jql(project, self._literal(max(closed_from, resume.at)))
        async for page in self._backfill(jql, resume, total):
            total = None
            yield page

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Issues updated since the saved ``updated`` (minus the overlap), or since ``start``."""
        self._requests = 0
        await self._prepare()
        saved = _saved_updated(position)
        newest_at = jira_time(saved) if saved is not None else None
        since = newest_at - self.settings.overlap if newest_at is not None else start
        jql = updated_since_jql(self.settings.project, self._literal(since, saved))
        entries_since = _minute(since)
        async for issues in self._search(jql):
            page = await self._map(issues, entries_since)
            for record in page.records:
                text = page.updated_text[record.external_id]
                if text and (newest_at is None or record.updated_at > newest_at):
                    saved, newest_at = text, record.updated_at
            yield PollResult(
                tickets=tuple(page.records),
                entries=tuple(page.entries),
                cursor={"updated": saved} if saved is not None else None,
                requests=self._took(),
            )

    async def check(self) -> str:
        """``myself``: proves the token and names the account it belongs to."""
        self._requests = 0
        me = await self._object("GET", MYSELF_PATH)
        self.user_zone, self._zone_asked = _zone(me), True
        name = me.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise BadPayload("Jira myself answer has no displayName")
        return one_line(clean_text(f"ok, signed in as {name}"), 120)

    # -- write-back ----------------------------------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The dry run, from settings alone (see :mod:`connectors.jira.actions`)."""
        return actions.plan_action(
            cls.settings_of(config), action, config.name, _priority_spelling(config)
        )

    async def perform(self, action: Action) -> ActionResult:
        """Send the action, doing the look-ups the plan marks first."""
        return await actions.perform(
            action,
            self.settings,
            self.send_planned,
            self.config.name,
            _priority_spelling(self.config),
        )

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The oldest issue carrying this hand-off's dedupe label."""
        return await actions.find_existing(action, self.send_planned)

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Send one write, paced by Jira's rate budget like every poll request."""
        self._requests += 1
        return await super().send_planned(request)

    # -- internals -----------------------------------------------------------------

    async def _backfill(
        self, jql: str, resume: _Position | None, total: int | None
    ) -> AsyncIterator[PollResult]:
        """One backfill query's pages, each with its position and (first) the total.

        ``resume`` (``None``: from the start of the open-issues query) is where a
        previous run stopped: what it read is dropped, so nothing is read twice.
        """
        phase = resume.phase if resume is not None else OPEN
        position = resume
        async for issues in self._search(jql):
            page = await self._map(issues, None)
            records = page.records
            if resume is not None:
                records = [r for r in records if not resume.read(_order(phase, r), r.external_id)]
                kept = {r.external_id for r in records}
                page.entries = [e for e in page.entries if e.ticket_external_id in kept]
            for record in records:
                at = _order(phase, record)
                if position is None or at > position.at:
                    position = _Position(phase, at, frozenset({record.external_id}))
                elif at == position.at:
                    position = replace(position, ids=position.ids | {record.external_id})
            yield PollResult(
                tickets=tuple(records),
                entries=tuple(page.entries),
                cursor=position.dump() if position is not None else None,
                requests=self._took(),
                progress=Progress(BACKFILL, 0, total),
            )
            total = None

    async def _search(self, jql: str) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Every page of one search, following ``nextPageToken`` to the end.

        The next page is asked for as soon as its token arrives, before this one
        is handed over, so its round trip overlaps the mapping of this one (two
        pages in memory at most).
        """
        body: dict[str, Any] = {
            "jql": jql,
            "fields": [
                *ISSUE_FIELDS,
                *([self.settings.group_field] if self.settings.group_field else []),
                *self.sla_fields,
            ],
            "maxResults": self.settings.page_size,
        }
        pending = asyncio.ensure_future(self._object("POST", SEARCH_PATH, json_body=body))
        previous_token: str | None = None
        try:
            for _ in range(self.settings.max_pages):
                answer = await pending
                token = answer.get("nextPageToken")
                last = answer.get("isLast") is True or token is None or token == ""
                if last and answer.get("isLast") is False:
                    raise BadPayload("Jira search says isLast false but gives no nextPageToken")
                if not last:
                    if not isinstance(token, str):
                        raise BadPayload("Jira search nextPageToken is not text")
                    if token == previous_token:
                        raise BadPayload(
                            "Jira search returned the page token it was given: no progress"
                        )
                    previous_token = token
                    following = {**body, "nextPageToken": token}
                    pending = asyncio.ensure_future(
                        self._object("POST", SEARCH_PATH, json_body=following)
                    )
                yield search_issues(answer)
                if last:
                    return
            raise BadPayload(f"Jira search offered more than {self.settings.max_pages} pages")
        finally:
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()  # retrieved: a page never asked for fails nothing

    async def _map(
        self, issues: Sequence[Mapping[str, Any]], entries_since: datetime | None
    ) -> _Page:
        """The page's records (newest copy of an issue seen twice) and conversation entries."""
        now = datetime.now(UTC)
        newest: dict[str, tuple[TicketRecord, Mapping[str, Any]]] = {}
        for issue in issues:
            record = self.overrides.apply(
                issue_to_record(
                    issue,
                    base_url=self.site,
                    group_field=self.settings.group_field,
                    sla_fields=self.sla_fields,
                    now=now,
                )
            )
            seen = newest.get(record.external_id)
            if seen is None or record.updated_at >= seen[0].updated_at:
                newest[record.external_id] = (record, issue)
        comments = await self._all_comments([issue for _, issue in newest.values()])
        entries: list[ConversationEntry] = []
        updated_text: dict[str, str] = {}
        for (record, issue), issue_comments in zip(newest.values(), comments, strict=True):
            fields = issue["fields"]
            updated_text[record.external_id] = str(fields.get("updated") or "")
            attachments = fields.get("attachment")
            entries += conversation(
                record.external_id,
                issue_comments,
                attachments if isinstance(attachments, list) else (),
                api_root=self.api_root,
                since=entries_since,
            )
        return _Page([record for record, _ in newest.values()], entries, updated_text)

    async def _all_comments(self, issues: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
        """Each issue's comments: the search's own list, or every page of them when cut short."""
        found: list[Sequence[Any]] = []
        cut: list[int] = []
        for index, issue in enumerate(issues):
            field = issue["fields"].get("comment")
            listed = field.get("comments") if isinstance(field, Mapping) else None
            listed = listed if isinstance(listed, list) else []
            total = field.get("total") if isinstance(field, Mapping) else None
            if isinstance(total, int) and total > len(listed):
                cut.append(index)
            found.append(listed)
        if cut:
            keys = [str(issues[i].get("key") or issues[i].get("id")) for i in cut]
            for index, comments in zip(
                cut, await fan_out(keys, self._comments, self.limiter), strict=True
            ):
                found[index] = comments
        return found

    async def _comments(self, key: str) -> list[Any]:
        """Every comment of one issue, oldest first, 100 a page."""
        path = COMMENT_PATH.format(key=quote(key, safe=""))
        comments: list[Any] = []
        for _ in range(self.settings.max_pages):
            params = {"startAt": len(comments), "maxResults": COMMENT_PAGE, "orderBy": "created"}
            page = await self._object("GET", path, params=params)
            chunk = page.get("comments")
            if not isinstance(chunk, list):
                raise BadPayload(f"Jira comments of {key} are not a list")
            comments += chunk
            total = page.get("total")
            if not chunk or not isinstance(total, int) or len(comments) >= total:
                return comments
        raise BadPayload(
            f"Jira comments of {key} offered more than {self.settings.max_pages} pages"
        )

    async def _prepare(self) -> None:
        """Learn the profile zone (once) and the SLA fields (once an hour)."""
        if not self._zone_asked:
            await self._ask_zone()
        if not self.settings.service_desk:
            return
        now = time.monotonic()
        if self._fields_asked_at is None or now - self._fields_asked_at >= FIELDS_FOR:
            self.sla_fields = await self._find_sla_fields()
            self._fields_asked_at = now

    async def _ask_zone(self) -> None:
        """The profile zone; a refusal (403/404) or odd answer leaves the fallback."""
        try:
            self.user_zone = _zone(await self._object("GET", MYSELF_PATH))
        except BadPayload:
            self.user_zone = None
        except ConnectorError as exc:
            if exc.http_status not in (403, 404):
                raise
            self.user_zone = None
        self._zone_asked = True

    async def _find_sla_fields(self) -> dict[str, str]:
        """JSM's SLA custom fields (``GET /field``); none where the site has no JSM."""
        try:
            response = await self._send("GET", FIELD_PATH)
        except AuthError as exc:
            if exc.http_status != 403:
                raise
            return {}
        listed = decode_json(response)
        if not isinstance(listed, list):
            raise BadPayload("Jira field list is not a list")
        found: dict[str, str] = {}
        for field in listed:
            schema = field.get("schema") if isinstance(field, Mapping) else None
            if not isinstance(schema, Mapping) or schema.get("custom") != SLA_FIELD_TYPE:
                continue
            assert isinstance(field, Mapping)
            field_id, name = field.get("id"), field.get("name")
            if isinstance(field_id, str) and field_id:
                found[field_id] = name if isinstance(name, str) else field_id
        return found

    async def _count(self, jql: str) -> int | None:
        """Jira's estimate of how many issues ``jql`` finds; ``None`` where it will not say."""
        try:
            answer = await self._object("POST", COUNT_PATH, json_body={"jql": jql})
        except BadPayload:
            return None
        except ConnectorError as exc:
            if exc.http_status not in (400, 404, 405):
                raise
            return None
        count = answer.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    def _literal(self, instant: datetime, hint: str | None = None) -> str:
        """A JQL bound for ``instant`` in the profile zone (else the ``hint`` text's offset).

        With neither, Jira would read a UTC literal in a zone we do not know,
        up to 12 hours late: the bound steps back the widest offset there is
        instead, so it is never later than meant (it only re-reads).
        """
        zone = self.user_zone or (jira_offset(hint) if hint is not None else None)
        if zone is None:
            return date_literal(instant - WIDEST_OFFSET, UTC)
        return date_literal(instant, zone)

    def _took(self) -> int:
        """Requests since the last page was handed over."""
        taken, self._requests = self._requests, 0
        return taken

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> httpx2.Response:
        self._requests += 1
        response = await send(
            self.client, method, path, params=params, json_body=json_body, budget=self.budget
        )
        if response.status_code != 200:
            raise BadPayload(
                f"HTTP {response.status_code} where a JSON answer was expected",
                http_status=response.status_code,
            )
        return response

    async def _object(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Mapping[str, Any]:
        response = await self._send(method, path, params=params, json_body=json_body)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Jira {path} answer is not a JSON object")
        return body


def _order(phase: str, record: TicketRecord) -> datetime:
    """The value a backfill query orders by."""
    return record.created_at if phase == OPEN else record.updated_at


def _minute(instant: datetime) -> datetime:
    """Floored to the minute, as the JQL literal is."""
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def _zone(me: Mapping[str, Any]) -> tzinfo | None:
    """The ``timeZone`` of a ``myself`` answer as a zone; ``None`` when absent or unknown."""
    name = me.get("timeZone")
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _saved_updated(cursor: Cursor | None) -> str | None:
    """The Jira ``updated`` text this connector saved; anything else means "from start"."""
    value: Any = cursor.get("updated") if isinstance(cursor, dict) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = jira_time(value)
    except BadPayload:
        return None
    return value if parsed is not None and jira_offset(value) is not None else None


def _api_root(config: VendorConfig) -> str:
    root = config.base_url.rstrip("/")
    for suffix in ("/rest/api/3", "/rest/api/2"):
        root = root.removesuffix(suffix)
    return root


def _priority_spelling(config: VendorConfig) -> tuple[str, ...]:
    """The ``priority_map`` keys as the config spells them (the parsed ones are lower-cased)."""
    table = config.settings.get("priority_map")
    return tuple(str(k) for k in table) if isinstance(table, Mapping) else ()

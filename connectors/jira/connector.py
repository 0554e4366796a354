"""The Jira Cloud / Jira Service Management connector.

Change detection is platform JQL (``POST /rest/api/3/search/jql``), paged by
``nextPageToken`` until Jira omits it or says ``isLast``; a short or even empty
page is not the end (Jira filters by permission inside a token window). SLA
clocks come from JSM's ``/rest/servicedeskapi/request/{key}/sla`` for each
changed issue; plain Jira issues answer 404 there and simply have no SLA.

Time zones: JQL date literals have minute precision and are read in the API
user's *profile* zone. The connector asks ``/rest/api/3/myself`` for that zone
once (its ``timeZone``) and writes each literal there, floored to the minute,
after stepping back :data:`OVERLAP`; a real zone (not a fixed offset) keeps
the literal right across daylight-saving changes. Should the zone be unknown,
the literal is written in the offset of the saved ``fields.updated`` (Jira
writes timestamps in the same profile zone), and on a first poll in UTC,
which shifts a 30-day backfill by a few hours at most. Assumed: the API
user's profile zone does not change between two polls (if it does, one poll
may be written in the old zone; the overlap covers only a minute).

Settings: ``email`` + ``api_token`` (Basic), ``project`` (optional JQL
restriction), ``page_size`` (``maxResults``, default 50), ``backfill_days``
(default 30), ``service_desk`` (read JSM SLAs, default true), ``group_field``
(a field id such as ``customfield_10001`` whose value is the group; default is
the project key), ``site_url`` (browse links, when ``base_url`` is the
``api.atlassian.com`` gateway), ``status_map``, ``priority_map``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2

from connectors.base import Connector, VendorConfig
from connectors.errors import AuthError, BadPayload, ConfigurationError, ConnectorError
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.jira.mapping import issue_to_record, jira_offset
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, TicketRecord
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = ["JiraConnector"]

SEARCH_PATH = "/rest/api/3/search/jql"
MYSELF_PATH = "/rest/api/3/myself"
SLA_PATH = "/rest/servicedeskapi/request/{key}/sla"
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
)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 5000
"""Jira's own ceiling (it returns fewer when many fields are asked for; we follow the token)."""
SLA_PAGE_SIZE = 50
DEFAULT_BACKFILL_DAYS = 30.0
OVERLAP = timedelta(seconds=60)
"""Re-read the last minute (JQL literals are floored to the minute on top of this), so an
update sharing the cursor's minute, or indexed late, is never missed."""
MAX_PAGES = 10_000
"""A guard against a vendor whose continuation never ends."""
RATE_HEADERS = RateHeaders(
    remaining="X-RateLimit-Remaining",
    limit="X-RateLimit-Limit",
    reset="X-RateLimit-Reset",
    reset_kind="iso",
)
_FIELD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class JiraConnector(Connector):
    """Polls ``https://{site}.atlassian.net`` with an account's API token."""

    kind: ClassVar[str] = "jira"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_token"),)

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.budget = RateBudget(RATE_HEADERS)
        """Paces requests from ``X-RateLimit-*`` before Jira has to say 429."""
        self.user_zone: tzinfo | None = None
        """The API user's profile zone, in which Jira reads JQL date literals."""
        self._zone_asked = False
        self._requests = 0

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also reject settings that could never work, before the first poll."""
        super().validate(config)
        Overrides.from_config(config)
        _page_size(config)
        _backfill(config)
        _service_desk(config)
        _group_field(config)
        site = config.get("site_url")
        if site is not None and not site.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"vendor {config.name!r}: site_url must start with http:// or https://"
            )

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API-token Basic auth: ``email:api_token``."""
        return httpx2.BasicAuth(config.require("email"), config.require("api_token"))

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """Accept a base_url given with the ``/rest/api/3`` suffix the docs print."""
        return super().make_client(replace(config, base_url=_api_root(config)))

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every issue updated since the cursor (minus the overlap), newest copy of each."""
        self._requests = 0
        saved = _saved_updated(cursor)
        if not self._zone_asked:
            await self._ask_zone()
        body: dict[str, Any] = {
            "jql": self._jql(saved),
            "fields": [*ISSUE_FIELDS, *filter(None, [_group_field(self.config)])],
            "maxResults": _page_size(self.config),
        }
        newest: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
        previous_token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._object("POST", SEARCH_PATH, json_body=body)
            for issue in _issues(page):
                issue_id, updated = _identity(issue)
                seen = newest.get(issue_id)
                if seen is None or updated >= seen[0]:
                    newest[issue_id] = (updated, issue)
            token = page.get("nextPageToken")
            if page.get("isLast") is True or token is None or token == "":
                if page.get("isLast") is False:
                    raise BadPayload("Jira search says isLast false but gives no nextPageToken")
                break
            if not isinstance(token, str):
                raise BadPayload("Jira search nextPageToken is not text")
            if token == previous_token:
                raise BadPayload("Jira search returned the page token it was given: no progress")
            previous_token = token
            body = {**body, "nextPageToken": token}
        else:
            raise BadPayload(f"Jira search offered more than {MAX_PAGES} pages")
        records = await self._records([issue for _, issue in newest.values()])
        overrides = Overrides.from_config(self.config)
        records = [overrides.apply(r) for r in records]
        return PollResult(
            tickets=tuple(records),
            cursor=_next_cursor(saved, newest),
            requests=self._requests,
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

    # -- internals ---------------------------------------------------------------

    def _jql(self, saved: str | None) -> str:
        """``[project = X AND ]updated >= "yyyy-MM-dd HH:mm" ORDER BY updated ASC``."""
        saved_at = parse_iso(saved) if saved is not None else None
        if saved_at is None:
            since = datetime.now(UTC) - _backfill(self.config)
        else:
            since = saved_at - OVERLAP
        zone = self.user_zone or (jira_offset(saved) if saved is not None else None) or UTC
        since = since.astimezone(zone)
        clause = f'updated >= "{since:%Y-%m-%d %H:%M}" ORDER BY updated ASC'
        project = self.config.get("project")
        return f"project = {_jql_string(project)} AND {clause}" if project else clause

    async def _ask_zone(self) -> None:
        """Learn the profile zone once; a refusal (403/404) or odd answer leaves the fallback."""
        try:
            self.user_zone = _zone(await self._object("GET", MYSELF_PATH))
        except BadPayload:
            self.user_zone = None
        except ConnectorError as exc:
            if exc.http_status not in (403, 404):
                raise
            self.user_zone = None
        self._zone_asked = True

    async def _records(self, issues: list[Mapping[str, Any]]) -> list[TicketRecord]:
        """Map the issues, with their JSM SLAs when ``service_desk`` is on."""
        now = datetime.now(UTC)
        site = self.config.get("site_url") or _api_root(self.config)
        group_field = _group_field(self.config)
        forbidden: set[str] = set()
        records = []
        for issue in issues:
            slas = None
            if _service_desk(self.config):
                slas = await self._slas(issue, forbidden)
            records.append(
                issue_to_record(issue, base_url=site, group_field=group_field, slas=slas, now=now)
            )
        return records

    async def _slas(self, issue: Mapping[str, Any], forbidden: set[str]) -> list[Any] | None:
        """The request's SLA values, every page; ``None`` when it is not a JSM request.

        404 means a plain Jira issue (or one gone since the search). 403 means no
        agent permission on that service desk: its project is skipped for the rest
        of the poll rather than asked once per issue.
        """
        key = issue.get("key")
        if not isinstance(key, str) or not key:
            return None
        project = key.rpartition("-")[0]
        if project in forbidden:
            return None
        path = SLA_PATH.format(key=quote(key, safe=""))
        values: list[Any] = []
        start = 0
        for _ in range(MAX_PAGES):
            try:
                page = await self._object(
                    "GET", path, params={"start": start, "limit": SLA_PAGE_SIZE}
                )
            except AuthError as exc:
                if exc.http_status != 403:
                    raise
                forbidden.add(project)
                return None
            except ConnectorError as exc:
                if exc.http_status == 404:
                    return None
                raise
            chunk = page.get("values")
            if not isinstance(chunk, list):
                raise BadPayload(f"JSM SLA answer for {key} has no values list")
            values.extend(chunk)
            if _last_sla_page(page):
                return values
            if not chunk:
                raise BadPayload(f"JSM SLA page for {key} is empty but not the last")
            start += len(chunk)
        raise BadPayload(f"JSM SLA list for {key} offered more than {MAX_PAGES} pages")

    async def _object(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Mapping[str, Any]:
        self._requests += 1
        response = await send(
            self.client, method, path, params=params, json_body=json_body, budget=self.budget
        )
        if response.status_code != 200:
            raise BadPayload(
                f"HTTP {response.status_code} where a JSON answer was expected",
                http_status=response.status_code,
            )
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Jira {path} answer is not a JSON object")
        return body


def _zone(me: Mapping[str, Any]) -> tzinfo | None:
    """The ``timeZone`` of a ``myself`` answer as a zone; ``None`` when absent or unknown."""
    name = me.get("timeZone")
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _issues(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    issues = page.get("issues")
    if issues is None:
        return []
    if not isinstance(issues, list) or not all(isinstance(i, Mapping) for i in issues):
        raise BadPayload("Jira search issues is not a list of objects")
    return issues


def _identity(issue: Mapping[str, Any]) -> tuple[str, datetime]:
    """``(id, updated)`` of a search hit, for dedupe and the cursor."""
    issue_id = issue.get("id")
    fields = issue.get("fields")
    updated = parse_iso(fields.get("updated")) if isinstance(fields, Mapping) else None
    if not isinstance(issue_id, str | int) or isinstance(issue_id, bool) or updated is None:
        raise BadPayload("Jira search hit without id or fields.updated")
    return str(issue_id), updated


def _next_cursor(
    saved: str | None, newest: Mapping[str, tuple[datetime, Mapping[str, Any]]]
) -> Cursor | None:
    """The newest ``fields.updated`` seen, as Jira wrote it; never earlier than the saved one."""
    best = saved
    best_at = parse_iso(saved) if saved is not None else None
    for updated, issue in newest.values():
        if best_at is None or updated > best_at:
            best, best_at = issue["fields"]["updated"], updated
    return {"updated": best} if best is not None else None


def _saved_updated(cursor: Cursor | None) -> str | None:
    """The Jira ``updated`` text this connector saved; anything else means "backfill"."""
    value: Any = cursor.get("updated") if isinstance(cursor, dict) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_iso(value)
    except BadPayload:
        return None
    return value if parsed is not None and jira_offset(value) is not None else None


def _jql_string(value: str) -> str:
    """A JQL string literal (so a project name with spaces or quotes stays one value)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _last_sla_page(page: Mapping[str, Any]) -> bool:
    """JSM's ``isLastPage``; without it, the absence of a ``_links.next``."""
    last = page.get("isLastPage")
    if isinstance(last, bool):
        return last
    links = page.get("_links")
    return not (isinstance(links, Mapping) and links.get("next"))


def _api_root(config: VendorConfig) -> str:
    root = config.base_url.rstrip("/")
    for suffix in ("/rest/api/3", "/rest/api/2"):
        root = root.removesuffix(suffix)
    return root


def _page_size(config: VendorConfig) -> int:
    size = config.number("page_size", DEFAULT_PAGE_SIZE)
    if size != int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"vendor {config.name!r}: page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return int(size)


def _backfill(config: VendorConfig) -> timedelta:
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if not 0 <= days <= 36_500:
        raise ConfigurationError(f"vendor {config.name!r}: backfill_days must be 0 to 36500")
    return timedelta(days=days)


def _service_desk(config: VendorConfig) -> bool:
    value = config.settings.get("service_desk", True)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"vendor {config.name!r}: service_desk must be true or false")


def _group_field(config: VendorConfig) -> str | None:
    field = config.get("group_field")
    if field is not None and not _FIELD_ID.match(field):
        raise ConfigurationError(
            f"vendor {config.name!r}: group_field must be a field id such as customfield_10001"
        )
    return field

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

Write-back: comments (ADF; internal ones carry JSM's ``sd.public.comment``
property), assignment by ``accountId`` (a name or e-mail is looked up with
``user/search`` first), status changes through the workflow's transitions
(looked up at send time: Jira has no "set status"), and hand-offs created in
the ``project`` setting's project with issue type ``create_issue_type``
(default ``Task``, which nearly every project has). A hand-off's label
``paneglass-<correlation>`` is how a retried create finds the issue it made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    Handoff,
    PlannedRequest,
    UnsupportedAction,
)
from connectors.base import Connector, VendorConfig
from connectors.errors import AuthError, BadPayload, ConfigurationError, ConnectorError
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.jira.mapping import issue_to_record, jira_offset, normalise_status
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult, Priority, TicketRecord, TicketStatus
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
ISSUE_PATH = "/rest/api/3/issue"
USER_SEARCH_PATH = "/rest/api/3/user/search"
DEFAULT_ISSUE_TYPE = "Task"
DEDUPE_LABEL_PREFIX = "paneglass-"
INTERNAL_COMMENT = ({"key": "sd.public.comment", "value": {"internal": True}},)
"""The JSM comment property that keeps a note from the customer (ignored by plain Jira)."""
PRIORITY_OUT: Mapping[Priority, str] = {
    Priority.P1: "Highest",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Lowest",
}
PREFERRED_TARGETS: Mapping[TicketStatus, tuple[str, ...]] = {
    TicketStatus.NEW: ("open", "to do", "new"),
    TicketStatus.OPEN: ("in progress", "work in progress"),
    TicketStatus.PENDING: ("waiting for customer", "pending"),
    TicketStatus.RESOLVED: ("resolved", "done"),
    TicketStatus.CLOSED: ("closed",),
}
"""Among transitions into the wanted status, the target names tried first (so "closed"
prefers Closed over Canceled, which also counts as closed but means "won't do")."""
DEFAULT_RESOLUTION = "Done"
LOOKED_UP = "<looked up at send time>"
_UUID = r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
_ACCOUNT_ID = re.compile(rf"^(?:[0-9a-f]{{24}}|\d+:{_UUID}|qm:{_UUID}:{_UUID})$", re.IGNORECASE)
"""Atlassian account ids: 24 hex (older accounts), ``<n>:<uuid>``, or a JSM customer's
``qm:<uuid>:<uuid>``."""
_FIELD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class JiraConnector(Connector):
    """Polls ``https://{site}.atlassian.net`` with an account's API token."""

    kind: ClassVar[str] = "jira"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_token"),)
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {ActionKind.COMMENT, ActionKind.ASSIGN, ActionKind.SET_STATUS, ActionKind.CREATE}
    )
    create_dedupe: ClassVar[str | None] = "labels"

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

    # -- write-back --------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests an action sends; values Jira must be asked for first are marked."""
        if action.kind is ActionKind.CREATE and action.handoff is not None:
            return self._plan_create(action.handoff)
        issue = _issue_path(action)
        if action.kind is ActionKind.COMMENT:
            return (_comment_request(issue, action.text, public=action.public),)
        if action.kind is ActionKind.ASSIGN:
            who = action.assignee.strip()
            if _ACCOUNT_ID.match(who):
                return (PlannedRequest("PUT", f"{issue}/assignee", body={"accountId": who}),)
            return (
                PlannedRequest("GET", USER_SEARCH_PATH, params={"query": who}),
                PlannedRequest(
                    "PUT",
                    f"{issue}/assignee",
                    body={"accountId": LOOKED_UP},
                    note=f"Jira assigns by accountId: the one Jira user whose name or e-mail "
                    f"is exactly {who!r} is looked up by the search above at send time",
                ),
            )
        if action.kind is ActionKind.SET_STATUS and action.status is not None:
            wanted = action.status.value
            planned = [
                PlannedRequest(
                    "GET", f"{issue}/transitions", params={"expand": "transitions.fields"}
                ),
                PlannedRequest(
                    "POST",
                    f"{issue}/transitions",
                    body={"transition": {"id": LOOKED_UP}},
                    note=f"Jira has no 'set status': the id of the transition into a {wanted} "
                    f"status is looked up at send time (with resolution {DEFAULT_RESOLUTION!r} "
                    "when its screen asks for one)",
                ),
            ]
            if action.text.strip():
                planned.append(_comment_request(issue, action.text, public=False))
            return tuple(planned)
        raise UnsupportedAction(f"jira cannot {action.kind.label}")

    async def perform(self, action: Action) -> ActionResult:
        """Send the action, doing the look-ups the plan marks first."""
        if action.kind is ActionKind.CREATE:
            return await self._create(action)
        if action.kind is ActionKind.SET_STATUS:
            return await self._transition(action)
        planned = self.plan(action)
        name = action.ticket_key or str(action.ticket_id)
        if action.kind is ActionKind.ASSIGN and len(planned) == 2:
            search, put = planned
            account = await self._account_for(action.assignee.strip(), search)
            planned = (replace(put, body={"accountId": account}),)
        response: httpx2.Response | None = None
        for request in planned:
            response = await self.send_planned(request)
        assert response is not None  # every plan above has a request
        what = "comment added to" if action.kind is ActionKind.COMMENT else "assigned"
        return ActionResult(f"HTTP {response.status_code}: {name} {what}", response.status_code)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The oldest issue carrying this hand-off's dedupe label (the poll's own search)."""
        if action.handoff is None:
            return None
        label = dedupe_label(action.handoff.correlation)
        body = {
            "jql": f"labels = {_jql_string(label)} ORDER BY created ASC",
            "fields": ["summary"],
            "maxResults": 1,
        }
        found = _issues(await self._object("POST", SEARCH_PATH, json_body=body))
        if not found:
            return None
        issue_id, key = found[0].get("id"), found[0].get("key")
        if not isinstance(issue_id, str | int) or not isinstance(key, str) or not key:
            raise BadPayload("Jira search hit without id or key")
        return ActionResult(f"already at Jira as {key}", 200, str(issue_id), key, existing=True)

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Send one write, paced by Jira's rate budget like every poll request."""
        self._requests += 1
        return await super().send_planned(request)

    def _plan_create(self, handoff: Handoff) -> tuple[PlannedRequest, ...]:
        project = self.config.get("project")
        if project is None:
            raise UnsupportedAction(
                f"vendor {self.config.name!r}: set 'project' (the key new issues go to) "
                "to hand tickets off to Jira"
            )
        issue_type = self.config.get("create_issue_type", DEFAULT_ISSUE_TYPE) or DEFAULT_ISSUE_TYPE
        fields: dict[str, Any] = {
            "project": {"key": project},
            "issuetype": {"name": issue_type},
            "summary": one_line(handoff.title, 255)
            or f"{handoff.source_vendor} {handoff.source_key}",
            "description": _handoff_document(handoff),
            "labels": [dedupe_label(handoff.correlation)],
        }
        if handoff.priority is not None:
            fields["priority"] = {"name": PRIORITY_OUT[handoff.priority]}
        planned = [PlannedRequest("POST", ISSUE_PATH, body={"fields": fields})]
        if handoff.source_url:
            planned.append(
                PlannedRequest(
                    "POST",
                    f"{ISSUE_PATH}/{{new issue key}}/remotelink",
                    body=_remote_link(handoff, handoff.source_url),
                    note="links the new issue back to its source; the key comes from the create",
                )
            )
        return tuple(planned)

    async def _create(self, action: Action) -> ActionResult:
        """POST the issue, read its id and key, then link it back to the source."""
        create, *link = self.plan(action)
        response = await self.send_planned(create)
        made = decode_json(response) if response.content else None
        issue_id = made.get("id") if isinstance(made, Mapping) else None
        key = made.get("key") if isinstance(made, Mapping) else None
        if not isinstance(issue_id, str | int) or not isinstance(key, str) or not key:
            raise BadPayload(
                "Jira create answer has no id and key", http_status=response.status_code
            )
        summary = f"HTTP {response.status_code}: created {key}"
        for request in link:
            path = f"{ISSUE_PATH}/{quote(key, safe='')}/remotelink"
            try:
                await self.send_planned(replace(request, path=path))
            except ConnectorError as exc:
                # The issue exists: report it (a retry would only find it again) and say
                # the link is missing rather than fail the hand-off.
                summary += f"; link to the source failed: {exc}"
            else:
                summary += "; linked to the source"
        return ActionResult(summary, response.status_code, str(issue_id), key)

    async def _transition(self, action: Action) -> ActionResult:
        """Find the transition into the wanted status, take it, then add the note."""
        assert action.status is not None
        ask, take, *note = self.plan(action)
        offered = _transitions(await self._json(ask))
        chosen = _choose(offered, action.status, Overrides.from_config(self.config))
        name = action.ticket_key or str(action.ticket_id)
        if chosen is None:
            current = await self._current_status(action)
            if current is not None and self._normalised(current) is action.status:
                return ActionResult(f"{name} is already {current['name']}", 200)
            available = ", ".join(f"{t['name']} → {_target_name(t)}" for t in offered) or "none"
            raise ConnectorError(
                one_line(
                    f"Jira offers no transition from "
                    f"{(current or {}).get('name', 'its status')!r} of {name} into a "
                    f"{action.status.value} status; available: {available}",
                    300,
                )
            )
        body: dict[str, Any] = {"transition": {"id": str(chosen["id"])}}
        resolution = _resolution_for(chosen)
        if resolution is not None:
            body["fields"] = {"resolution": resolution}
        response = await self.send_planned(replace(take, body=body, note=""))
        for request in note:
            await self.send_planned(request)
        return ActionResult(
            f"HTTP {response.status_code}: {name} → {_target_name(chosen)} ({chosen['name']})",
            response.status_code,
        )

    async def _current_status(self, action: Action) -> Mapping[str, Any] | None:
        request = PlannedRequest("GET", _issue_path(action), params={"fields": "status"})
        issue = await self._json(request)
        fields = issue.get("fields") if isinstance(issue, Mapping) else None
        status = fields.get("status") if isinstance(fields, Mapping) else None
        return (
            status if isinstance(status, Mapping) and isinstance(status.get("name"), str) else None
        )

    def _normalised(self, status: Mapping[str, Any]) -> TicketStatus:
        return _status_of(status, Overrides.from_config(self.config))

    async def _account_for(self, who: str, search: PlannedRequest) -> str:
        """The accountId of the one assignable Jira user whose name or e-mail is ``who``."""
        users = await self._json(search)
        if not isinstance(users, list):
            raise BadPayload("Jira user search answer is not a list")
        wanted = who.casefold()
        exact = [
            u
            for u in users
            if isinstance(u, Mapping)
            and isinstance(u.get("accountId"), str)
            and u.get("accountType", "atlassian") == "atlassian"
            and u.get("active", True) is not False
            and wanted
            in (str(u.get("displayName", "")).casefold(), str(u.get("emailAddress", "")).casefold())
        ]
        if len(exact) == 1:
            return str(exact[0]["accountId"])
        if not exact:
            raise ConnectorError(
                one_line(f"no Jira user is called {who!r}: give their accountId or e-mail", 200)
            )
        raise ConnectorError(
            one_line(f"{len(exact)} Jira users are called {who!r}: give the accountId", 200)
        )

    async def _json(self, request: PlannedRequest) -> Any:
        response = await self.send_planned(request)
        return decode_json(response)

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


def dedupe_label(correlation: str) -> str:
    """The label that marks a hand-off's issue: ``paneglass-`` plus a slug of the correlation.

    Labels cannot hold spaces, so the correlation is folded to lowercase letters,
    digits and dashes (``desktop:#4201`` → ``paneglass-desktop-4201``).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", correlation.lower()).strip("-")
    if not slug:
        raise UnsupportedAction(f"correlation {correlation[:60]!r} gives no usable Jira label")
    return (DEDUPE_LABEL_PREFIX + slug)[:255]


def _issue_path(action: Action) -> str:
    """Jira addresses an issue by key (or id); keys read better in a dry run."""
    ref = action.ticket_key or action.ticket_id or ""
    return f"{ISSUE_PATH}/{quote(ref, safe='')}"


def _comment_request(issue: str, text: str, *, public: bool) -> PlannedRequest:
    body: dict[str, Any] = {"body": adf(text)}
    if not public:
        body["properties"] = [dict(p) for p in INTERNAL_COMMENT]
    return PlannedRequest("POST", f"{issue}/comment", body=body)


def adf(text: str, link: str | None = None) -> dict[str, Any]:
    """Plain text as an Atlassian Document: blank lines part paragraphs, newlines break lines.

    ``link``, when given, ends the document as its own paragraph, a clickable URL.
    """
    content: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        inline: list[dict[str, Any]] = []
        for line in block.split("\n"):
            if inline:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        if any(node["type"] == "text" for node in inline):
            content.append({"type": "paragraph", "content": inline})
    if link:
        mark = {"type": "link", "attrs": {"href": link}}
        node = {"type": "text", "text": link, "marks": [mark]}
        content.append({"type": "paragraph", "content": [node]})
    return {"type": "doc", "version": 1, "content": content}


def _handoff_document(handoff: Handoff) -> dict[str, Any]:
    """The description, where it came from, and who and what it concerns (Jira has no field
    for a requester who is not a Jira user, nor for an asset, so they travel as text)."""
    lines = [f"Handed off from {handoff.source_vendor} {handoff.source_key}"]
    if handoff.requester:
        lines.append(f"Requester: {handoff.requester}")
    if handoff.asset:
        lines.append(f"Asset: {handoff.asset}")
    text = f"{handoff.description.strip()}\n\n" + "\n".join(lines)
    return adf(text, link=handoff.source_url)


def _remote_link(handoff: Handoff, url: str) -> dict[str, Any]:
    """A remote link back to the source; ``globalId`` makes a repeated POST update, not add."""
    return {
        "globalId": f"paneglass:{handoff.correlation}"[:255],
        "object": {"url": url, "title": f"{handoff.source_vendor} {handoff.source_key}"},
    }


def _transitions(body: Any) -> list[Mapping[str, Any]]:
    items = body.get("transitions") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise BadPayload("Jira transitions answer has no transitions list")
    return [
        t
        for t in items
        if isinstance(t, Mapping) and t.get("id") is not None and isinstance(t.get("to"), Mapping)
    ]


def _target_name(transition: Mapping[str, Any]) -> str:
    return str(transition["to"].get("name") or "?")


def _status_of(status: Mapping[str, Any], overrides: Overrides) -> TicketStatus:
    """A Jira status object normalised exactly as a poll would show it."""
    name = str(status.get("name") or "")
    category = status.get("statusCategory")
    key = category.get("key") if isinstance(category, Mapping) else None
    override = overrides.statuses.get(name.strip().lower())
    return override or normalise_status(name, key if isinstance(key, str) else None)


def _choose(
    offered: Sequence[Mapping[str, Any]], wanted: TicketStatus, overrides: Overrides
) -> Mapping[str, Any] | None:
    """The transition whose target status the poll would show as ``wanted``, preferring the
    conventional target name; ``None`` when the workflow offers none from here."""
    matching = [t for t in offered if _status_of(t["to"], overrides) is wanted]
    preferred = PREFERRED_TARGETS.get(wanted, ())

    def rank(transition: Mapping[str, Any]) -> int:
        name = _target_name(transition).strip().lower()
        return preferred.index(name) if name in preferred else len(preferred)

    return min(matching, key=rank) if matching else None


def _resolution_for(transition: Mapping[str, Any]) -> dict[str, str] | None:
    """``{"name": "Done"}`` (or the first allowed) when the transition's screen has a resolution."""
    fields = transition.get("fields")
    field = fields.get("resolution") if isinstance(fields, Mapping) else None
    if not isinstance(field, Mapping):
        return None
    allowed = [
        str(v["name"])
        for v in field.get("allowedValues") or []
        if isinstance(v, Mapping) and isinstance(v.get("name"), str)
    ]
    if not allowed or DEFAULT_RESOLUTION in allowed:
        return {"name": DEFAULT_RESOLUTION}
    return {"name": allowed[0]}


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

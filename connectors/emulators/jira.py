"""A Jira Cloud site with Jira Service Management on loopback, at a real tenant's size.

Issues are kept as Jira keeps them (see ``vendor-apis.md`` §2 and the capture
``jira-search.json``): numeric-string ids, ``PROJ-n`` keys, status objects with
a ``statusCategory``, priority names Highest..Lowest, user objects with
``displayName``, and timestamps like ``2025-03-04T09:12:44.123+0100`` written
in the API user's profile zone. The emulator answers:

* ``GET|POST /rest/api/3/search/jql``: a JQL subset (clauses on ``project``,
  ``key``, ``labels``, ``statusCategory``, ``updated`` and ``created`` joined by
  ``AND``/``OR``/``NOT`` with parentheses; ``ORDER BY``), date literals read in
  the user's zone at minute precision (an unquoted number is epoch millis),
  only the requested ``fields``, and opaque ``nextPageToken`` paging (``isLast``
  on the last page, where the token is omitted). The token holds the sort key
  of the last issue of its window, so the next page continues after it (an
  issue updated meanwhile moves behind it and is served again, never skipped).
  Issues the API user may not browse (:meth:`JiraEmulator.hide`) are dropped
  from their window, so a page can be short or empty while a token says there
  is more, as in real Jira. ``page_cap`` makes every window small (Jira
  returns at most 100 issues when fields beyond ``id``/``key`` are asked for).
* ``POST /rest/api/3/search/approximate-count``: ``{"count": n}`` for a JQL.
* ``GET /rest/api/3/field``: system and custom fields with their ``schema``;
  the JSM SLA fields (``com.atlassian.servicedesk:sd-sla-field``) are
  ``customfield_10071`` "Time to resolution" and ``customfield_10072`` "Time to
  first response" (the ids of the real capture's ``names``); in a search they
  hold the SLA's cycles, as ``/servicedeskapi/request/{key}/sla`` shows them.
* The issue ``comment`` field (``{comments, self, maxResults, total,
  startAt}``, comments with ADF ``body`` and JSM's ``jsdPublic``) and
  ``attachment`` field (``id``, ``filename``, ``size``, ``mimeType``,
  ``content`` …). A search carries at most ``comment_field_cap`` comments of
  an issue (default 20, oldest first) with the true ``total``; the rest is read
  from ``GET /rest/api/3/issue/{key}/comment`` (``startAt``/``maxResults`` ≤ 100,
  ``orderBy=created|-created``, ``expand=properties`` adds the
  ``sd.public.comment`` property). Assumed: Jira documents no number for the
  search cap, so the default is a guess that makes the connector's fallback run.
* ``GET /rest/servicedeskapi/request/{key}/sla``: JSM SLA cycles paged by
  ``start``/``limit``/``isLastPage``; 404 for issues outside a service desk.
* ``GET /rest/api/3/myself`` and ``GET /rest/api/3/issue/{key}``.
* Writes, each moving the issue's ``updated`` so the next poll sees it:
  ``POST /rest/api/3/issue`` (create; field errors all at once in ``errors``),
  ``POST …/issue/{key}/comment`` (ADF body; JSM's ``sd.public.comment``
  property makes it internal; kept in :attr:`comments` and on the issue),
  ``PUT …/assignee`` (``accountId`` only; a customer account cannot be
  assigned), ``PUT …/issue/{key}`` (an edit of ``fields``: ``priority`` by
  name or id, ``summary``; 204, other fields "not on the appropriate screen"),
  ``GET|POST …/transitions`` (a small JSM-style workflow, see
  :data:`WORKFLOW`; Resolve has a screen that needs a ``resolution``) and
  ``GET|POST …/remotelink`` (``globalId`` updates instead of adding).
  ``GET /rest/api/3/user/search?query=`` finds users by name or e-mail
  prefix.

Scale: issues are indexed per project in sorted lists (by ``updated``, by
``created``, open ones by ``created``, Done ones by ``updated``; labels and
keys in dicts), so the queries a connector syncs with (``updated >= X ORDER
BY updated``, ``statusCategory != Done ORDER BY created``, ``statusCategory =
Done AND updated >= X ORDER BY updated``, a count of them) cost a binary search
plus the page, whatever the tenant holds; other shapes fall back to a scan.
:meth:`JiraEmulator.put_tickets` loads many issues with one sort. ``latency``
makes every answer wait (outside the lock).

Every answer carries ``X-RateLimit-*`` headers from a fixed window
(``rate_limit`` requests per ``rate_window`` seconds, reset as ISO 8601);
past it comes 429 with ``Retry-After``. Errors use Jira's bodies:
``{"errorMessages": [...], "errors": {}}`` on the platform API and
``{"errorMessage", "i18nErrorMessage"}`` on the servicedesk API.

Deviation from the capture: its envelope is the removed ``/rest/api/3/search``
(``startAt``/``total``); the emulator answers ``search/jql``'s
``{issues, nextPageToken, isLast}``. Issues and field values carry the
capture's keys (less its ``renderedFields`` and ``transitions``, which only an
``expand`` asks for).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import heapq
import itertools
import json
import math
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "JiraEmulator", "JqlError"]

SEARCH_PATH = "/rest/api/3/search/jql"
COUNT_PATH = "/rest/api/3/search/approximate-count"
LEGACY_SEARCH_PATHS = frozenset({"/rest/api/3/search", "/rest/api/2/search"})
MYSELF_PATH = "/rest/api/3/myself"
FIELD_PATH = "/rest/api/3/field"
_ISSUE_PATH = re.compile(r"^/rest/api/[23]/issue/(?P<ref>[^/]+)$")
_ISSUE_PART_PATH = re.compile(
    r"^/rest/api/3/issue/(?P<ref>[^/]+)/(?P<part>comment|assignee|transitions|remotelink)$"
)
CREATE_PATH = "/rest/api/3/issue"
USER_SEARCH_PATH = "/rest/api/3/user/search"
_SLA_PATH = re.compile(r"^/rest/servicedeskapi/request/(?P<ref>[^/]+)/sla$")

TEAM_FIELD = "customfield_10001"
"""Atlassian's Team field: the emulator keeps a world ticket's group there."""
REQUEST_TYPE_FIELD = "customfield_10010"
RESOLUTION_SLA_FIELD = "customfield_10071"
FIRST_RESPONSE_SLA_FIELD = "customfield_10072"
SLA_FIELDS = {
    RESOLUTION_SLA_FIELD: "Time to resolution",
    FIRST_RESPONSE_SLA_FIELD: "Time to first response",
}
"""The JSM SLA custom fields (ids and names as in the real capture's ``names``)."""
SLA_FIELD_TYPE = "com.atlassian.servicedesk:sd-sla-field"
DEFAULT_MAX_RESULTS = 50
FIELDS_PAGE_CAP = 100
"""Jira's ceiling on ``maxResults`` when fields beyond ``id``/``key`` are asked for."""
ID_ONLY_PAGE_CAP = 5000
COMMENT_PAGE_CAP = 100
"""Jira Cloud's ceiling on ``maxResults`` of ``GET …/issue/{key}/comment``."""
COMMENT_FIELD_CAP = 20
"""Comments of one issue a search carries (assumed; see the module doc)."""
FIRST_RESPONSE_GOAL = timedelta(hours=4)
AUTOMATION = "Automation for Jira"
"""The app account that writes ``system`` entries."""

_CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
STATUSES: dict[str, tuple[str, str]] = {
    "Open": ("1", "new"),
    "To Do": ("10000", "new"),
    "Waiting for support": ("10006", "new"),
    "Work in progress": ("10003", "indeterminate"),
    "In Progress": ("3", "indeterminate"),
    "Waiting for customer": ("10004", "indeterminate"),
    "Pending": ("10007", "indeterminate"),
    "Resolved": ("10005", "done"),
    "Done": ("10001", "done"),
    "Closed": ("6", "done"),
    "Canceled": ("10008", "done"),
}
"""JSM's IT service desk workflow plus the software defaults: name → (id, category key)."""
_STATUS_OUT = {
    TicketStatus.NEW: "Open",
    TicketStatus.OPEN: "Work in progress",
    TicketStatus.PENDING: "Waiting for customer",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}
PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
_PRIORITY_OUT = {
    Priority.P1: "Highest",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Lowest",
}
ISSUE_TYPES = {
    True: ("[System] Incident", "[System] Service request", "Task"),
    False: ("Task", "Bug", "Story", "Epic"),
}
"""Issue types of a service desk project (``True``) and of a software project."""
RESOLUTIONS = (
    {"id": "10000", "name": "Done"},
    {"id": "10001", "name": "Won't Do"},
    {"id": "10002", "name": "Duplicate"},
    {"id": "10003", "name": "Cannot Reproduce"},
)


@dataclass(frozen=True)
class _Transition:
    id: str
    name: str
    to: str
    """Target status name (a key of :data:`STATUSES`)."""
    asks_resolution: bool = False
    """Its screen holds the (required) Resolution field."""


WORKFLOW = (
    _Transition("11", "Back to open", "Open"),
    _Transition("21", "Start work", "Work in progress"),
    _Transition("31", "Wait for customer", "Waiting for customer"),
    _Transition("41", "Mark as pending", "Pending"),
    _Transition("51", "Resolve", "Resolved", asks_resolution=True),
    _Transition("61", "Close", "Closed"),
    _Transition("71", "Cancel request", "Canceled"),
    _Transition("81", "Reopen", "Open"),
)
"""One JSM-style workflow for every project: from a working status every transition but
Close and Reopen; from Resolved/Done only Reopen and Close; from Closed/Canceled only Reopen."""
_ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
_NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."
_BAD_PAYLOAD = "Invalid request payload. Refer to the REST API documentation."
_ALL_FIELDS = (
    "summary",
    "description",
    "status",
    "priority",
    "assignee",
    "reporter",
    "creator",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "project",
    "issuetype",
    "labels",
    "duedate",
    "comment",
    "attachment",
    TEAM_FIELD,
    REQUEST_TYPE_FIELD,
    *SLA_FIELDS,
)
_DATE_LITERAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_RELATIVE = re.compile(r"^([+-]?)((?:\d+[wdhm]\s*)+)$")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|>=|<=|!=|[=<>(),]|[^\s=<>!(),"]+')
_CATEGORY_VALUES = {
    "done": "done",
    "3": "done",
    "to do": "new",
    "new": "new",
    "2": "new",
    "in progress": "indeterminate",
    "indeterminate": "indeterminate",
    "4": "indeterminate",
}
"""``statusCategory`` values JQL takes (name, key or id) → category key."""


class JqlError(ValueError):
    """A JQL query the emulator (like Jira) refuses; the message is Jira's wording."""


@dataclass(frozen=True)
class _Project:
    id: str
    key: str
    name: str
    service_desk: bool


@dataclass(frozen=True)
class _Clause:
    field: str
    op: str
    values: frozenset[Any]
    """Resolved: project keys, upper-case issue keys, folded labels, category keys, or
    one instant in epoch millis for ``updated``/``created``."""


@dataclass(frozen=True)
class _Bool:
    op: str
    """``and``, ``or`` or ``not`` (one part)."""
    parts: tuple[_Node, ...]


_Node = _Clause | _Bool


@dataclass(frozen=True)
class _Query:
    where: _Node
    order: tuple[tuple[str, bool], ...]
    """``(field, descending)`` pairs."""


@dataclass
class _Row:
    """What the indexes sort an issue by, kept beside its fields."""

    created: int
    updated: int
    project: str
    number: int
    done: bool
    labels: tuple[str, ...]
    """Case-folded."""

    def tail(self, projects: dict[str, _Project], issue_id: int) -> tuple[int, int, int]:
        """The tie-break after the order value: key order (project, number), then id."""
        return (int(projects[self.project].id), self.number, issue_id)


_INDEXES = ("updated", "created", "open_created", "done_updated")
"""Sorted lists per project: every issue by updated and by created, open issues by created,
Done issues by updated. Entries are ``(value, project id, number, issue id)``."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _millis(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JiraEmulator(TicketEmulator):
    """One Jira Cloud site: a JSM service desk project, a software project, one API user."""

    kind: ClassVar[str] = "jira"

    def __init__(
        self,
        *,
        email: str = "desk@acme.example",
        api_token: str = "demo-token",
        display_name: str = "Desk Agent",
        time_zone: str = "Europe/Copenhagen",
        project_key: str = "ITSD",
        project_name: str = "IT Service Desk",
        page_cap: int | None = None,
        sla_page_limit: int = 50,
        comment_field_cap: int = COMMENT_FIELD_CAP,
        rate_limit: int = 500,
        rate_window: float = 60.0,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_MAX_RESULTS,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.email = email
        self.api_token = api_token
        self.zone: tzinfo = ZoneInfo(time_zone)
        """The API user's profile zone: timestamps are written and JQL dates read in it."""
        self.time_zone = time_zone
        self.page_cap = page_cap
        """When set, no search page window holds more issues than this, whatever is asked."""
        self.sla_page_limit = sla_page_limit
        self.comment_field_cap = comment_field_cap
        """Comments of one issue a search answer carries (the rest: the comment endpoint)."""
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.project_key = project_key
        self._projects = {
            project_key: _Project("10001", project_key, project_name, service_desk=True),
            "DEV": _Project("10000", "DEV", "Platform Engineering", service_desk=False),
        }
        self._issue_ids = itertools.count(10001)
        self._key_numbers = {key: itertools.count(1) for key in self._projects}
        self._issues: dict[int, dict[str, Any]] = {}
        self._rows: dict[int, _Row] = {}
        self._index: dict[str, dict[str, list[tuple[int, int, int, int]]]] = {
            name: {key: [] for key in self._projects} for name in _INDEXES
        }
        self._by_key: dict[str, int] = {}
        """Current and former keys (a moved issue answers to its old key, as in Jira)."""
        self._by_label: dict[str, set[int]] = {}
        self._ids_by_ref: dict[str, int] = {}
        self._slas: dict[int, list[dict[str, Any]]] = {}
        self._hidden: set[int] = set()
        self._users: dict[str, dict[str, Any]] = {}
        self._teams: dict[str, dict[str, Any]] = {}
        self._remote_links: dict[int, list[dict[str, Any]]] = {}
        self._comments: dict[int, list[dict[str, Any]]] = {}
        """Each issue's comments, oldest first: ``id``, ``author``, ``body`` (ADF),
        ``created``/``updated`` (Jira text), ``internal``."""
        self._entry_comments: dict[tuple[str, str], tuple[int, str]] = {}
        """``(ticket ref, entry ref)`` → ``(issue id, comment id)`` for :meth:`put_entry`."""
        self._attachments: dict[int, list[dict[str, Any]]] = {}
        self._comment_ids = itertools.count(10000)
        self._attachment_ids = itertools.count(10000)
        self._window = (-1, 0)
        """``(window number, requests in it)`` for the rate limit."""
        self._path_faults: list[tuple[re.Pattern[str], deque[Reply]]] = []
        self._views: dict[tuple[Any, ...], dict[str, Any]] = {}
        """Parts of answers that never change (users, instants), built once and shared."""
        self.issues_served = 0
        """Issues sent in search answers so far (tests measure re-reads with it)."""
        self.me = self._user(display_name, email=email)

    def __enter__(self) -> JiraEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`JiraConnector` needs (groups live in the Team field)."""
        return {
            "kind": "jira",
            "email": self.email,
            "api_token": self.api_token,
            "group_field": TEAM_FIELD,
        }

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the issue for ``ticket.ref``; return its key (``ITSD-7``)."""
        with self.lock:
            issue_id = self._store(ticket)
            self._reindex(issue_id)
            return str(self._issues[issue_id]["key"])

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many :meth:`put_ticket` at once, the indexes sorted once at the end (benches)."""
        with self.lock:
            ids = [self._store(ticket) for ticket in tickets]
            self._rebuild_indexes()
            return [str(self._issues[i]["key"]) for i in ids]

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a comment; return its id.

        ``public`` comments have ``jsdPublic`` true; ``internal`` ones false (with
        the ``sd.public.comment`` property); ``system`` ones are written by the
        automation app. Attachments are added to the issue as the author's, at
        ``entry.at``, and shown in the body as media. The issue's ``updated``
        moves to ``entry.at`` when that is later.
        """
        with self.lock:
            issue_id = self._ids_by_ref[ticket_ref]
            author = (
                self._user(AUTOMATION, app=True)
                if entry.visibility == "system"
                else self._user(entry.author, customer=entry.visibility == "public")
            )
            stamp = self._stamp(entry.at)
            media = []
            for file in entry.attachments:
                attachment_id = str(next(self._attachment_ids))
                self._attachments.setdefault(issue_id, []).append(
                    {
                        "id": attachment_id,
                        "filename": file.name,
                        "author": author,
                        "created": stamp,
                        "size": file.size,
                        "mimeType": file.content_type,
                    }
                )
                media.append(_media(file.name))
            body = _adf(entry.text) or {"type": "doc", "version": 1, "content": []}
            body["content"].extend(media)
            comments = self._comments.setdefault(issue_id, [])
            known = self._entry_comments.get((ticket_ref, entry.ref))
            comment = {
                "id": known[1] if known else str(next(self._comment_ids)),
                "author": author,
                "body": body,
                "created": stamp,
                "updated": stamp,
                "internal": entry.visibility == "internal",
            }
            if known is None:
                comments.append(comment)
                comments.sort(key=lambda c: self._parse_stamp(c["created"]))
                self._entry_comments[(ticket_ref, entry.ref)] = (issue_id, str(comment["id"]))
            else:
                old = next(c for c in comments if c["id"] == known[1])
                comment["created"] = old["created"]
                comments[comments.index(old)] = comment
            if self._rows[issue_id].updated < _millis(entry.at):
                self._issues[issue_id]["fields"]["updated"] = stamp
                self._reindex(issue_id)
            return str(comment["id"])

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields as an agent in Jira can: ``status="Canceled"``, ``project="DEV"``.

        ``updated`` moves to the emulator clock unless given (as a datetime).
        """
        with self.lock:
            issue_id = self._ids_by_ref[ref]
            row = self._issues[issue_id]["fields"]
            unknown = set(fields) - set(row)
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            if "status" in fields and fields["status"] not in STATUSES:
                raise ValueError(f"status must be one of {sorted(STATUSES)}")
            if fields.get("priority") is not None and fields["priority"] not in PRIORITIES:
                raise ValueError(f"priority must be null or one of {sorted(PRIORITIES)}")
            if "project" in fields:
                self._move(issue_id, fields.pop("project"))
            updated = fields.pop("updated", None)
            for name in ("created", "resolutiondate"):
                if isinstance(fields.get(name), datetime):
                    fields[name] = self._stamp(fields[name])
            row.update(fields)
            row["updated"] = self._stamp(updated if isinstance(updated, datetime) else self.clock())
            if "status" in fields:  # Jira's workflow sets and clears the resolution
                done = STATUSES[row["status"]][1] == "done"
                row["resolution"] = _resolution(row["status"]) if done else None
                if not done:
                    row["resolutiondate"] = None
                elif row["resolutiondate"] is None:
                    row["resolutiondate"] = row["updated"]
            self._reindex(issue_id)

    def inject_at(self, path: str, *replies: Reply) -> None:
        """Answer the next requests whose path matches the regex ``path`` with ``replies``."""
        with self.lock:
            self._path_faults.append((re.compile(path), deque(replies)))

    def hide(self, ref: str) -> None:
        """Take away the API user's browse permission on the issue (it drops out of searches)."""
        with self.lock:
            self._hidden.add(self._ids_by_ref[ref])

    def issue_key(self, ref: str) -> str:
        """The current key of the issue put under ``ref``."""
        with self.lock:
            return str(self._issues[self._ids_by_ref[ref]]["key"])

    def issue(self, ref: str) -> dict[str, Any]:
        """The issue as ``GET /rest/api/3/issue/{key}`` shows it (a copy the caller may change)."""
        with self.lock:
            return _copy(self._issue_view(self._ids_by_ref[ref], None))

    def issue_by_key(self, key: str) -> dict[str, Any]:
        """Any issue (one created through the API too) as ``GET /issue/{key}`` shows it."""
        with self.lock:
            return _copy(self._issue_view(self._by_key[key], None))

    def remote_links(self, key: str) -> list[dict[str, Any]]:
        """The remote links written to an issue through the API."""
        with self.lock:
            copied: list[dict[str, Any]] = json.loads(
                json.dumps(self._remote_links.get(self._by_key[key], []))
            )
            return copied

    def account_id(self, name: str) -> str:
        """The accountId of the user called ``name`` (made by :meth:`put_ticket`)."""
        with self.lock:
            return str(self._users[name]["accountId"])

    def _store(self, ticket: WorldTicket) -> int:
        """Keep the native issue for ``ticket`` (not indexed yet); return its id."""
        issue_id = self._ids_by_ref.get(ticket.ref)
        if issue_id is None:
            issue_id = next(self._issue_ids)
            self._ids_by_ref[ticket.ref] = issue_id
            project = self._projects[self.project_key]
            key = f"{project.key}-{next(self._key_numbers[project.key])}"
            self._by_key[key] = issue_id
        else:
            key = self._issues[issue_id]["key"]
            project = self._projects[key.rpartition("-")[0]]
        status = _STATUS_OUT[ticket.status]
        done = STATUSES[status][1] == "done"
        resolved_at = (ticket.resolved_at or ticket.updated_at) if done else None
        fields: dict[str, Any] = {
            "summary": ticket.title,
            "description": _adf(ticket.description),
            "status": status,
            "priority": _PRIORITY_OUT[ticket.priority] if ticket.priority else None,
            "assignee": self._user(ticket.assignee) if ticket.assignee else None,
            "reporter": self._user(ticket.requester, customer=True)
            if ticket.requester
            else self.me,
            "creator": self.me,
            "created": self._stamp(ticket.created_at),
            "updated": self._stamp(ticket.updated_at),
            "resolutiondate": self._stamp(resolved_at) if resolved_at else None,
            "resolution": _resolution(status) if done else None,
            "project": project.key,
            "issuetype": "[System] Incident" if project.service_desk else "Task",
            "labels": [_label(ticket.asset)] if ticket.asset else [],
            "duedate": None,
            TEAM_FIELD: self._team(ticket.group) if ticket.group else None,
        }
        self._issues[issue_id] = {"id": str(issue_id), "key": key, "fields": fields}
        self._slas[issue_id] = self._world_slas(ticket, resolved_at)
        return issue_id

    # -- indexes -------------------------------------------------------------------

    def _row(self, issue_id: int) -> _Row:
        issue = self._issues[issue_id]
        fields = issue["fields"]
        return _Row(
            created=_millis(self._parse_stamp(fields["created"])),
            updated=_millis(self._parse_stamp(fields["updated"])),
            project=fields["project"],
            number=int(issue["key"].rpartition("-")[2]),
            done=STATUSES[fields["status"]][1] == "done",
            labels=tuple(str(label).casefold() for label in fields["labels"]),
        )

    def _entries(self, issue_id: int, row: _Row) -> Iterator[tuple[str, tuple[int, int, int, int]]]:
        """The index entries of one issue."""
        tail = row.tail(self._projects, issue_id)
        yield "updated", (row.updated, *tail)
        yield "created", (row.created, *tail)
        yield (
            ("done_updated", (row.updated, *tail))
            if row.done
            else (
                "open_created",
                (row.created, *tail),
            )
        )

    def _reindex(self, issue_id: int) -> None:
        """Bring the indexes in line with the issue's fields (after any change)."""
        old = self._rows.get(issue_id)
        if old is not None:
            for name, entry in self._entries(issue_id, old):
                entries = self._index[name][old.project]
                del entries[bisect.bisect_left(entries, entry)]
            for label in old.labels:
                self._by_label.get(label, set()).discard(issue_id)
        row = self._rows[issue_id] = self._row(issue_id)
        for name, entry in self._entries(issue_id, row):
            bisect.insort(self._index[name][row.project], entry)
        for label in row.labels:
            self._by_label.setdefault(label, set()).add(issue_id)

    def _rebuild_indexes(self) -> None:
        self._index = {name: {key: [] for key in self._projects} for name in _INDEXES}
        self._by_label = {}
        for issue_id in self._issues:
            row = self._rows[issue_id] = self._row(issue_id)
            for name, entry in self._entries(issue_id, row):
                self._index[name][row.project].append(entry)
            for label in row.labels:
                self._by_label.setdefault(label, set()).add(issue_id)
        for lists in self._index.values():
            for entries in lists.values():
                entries.sort()

    # -- wire format ---------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the endpoints the connector uses, with rate-limit headers on every answer."""
        limited, headers = self._rate_window()
        reply = limited or self._fault_for(request.path) or self._answer(request)
        for name, value in headers.items():
            reply.headers.setdefault(name, value)
        return reply

    def _fault_for(self, path: str) -> Reply | None:
        for pattern, replies in self._path_faults:
            if replies and pattern.search(path):
                return replies.popleft()
        return None

    def _answer(self, request: Request) -> Reply:
        if not self._authorised(request.headers.get("authorization")):
            return Reply(
                401,
                {
                    "errorMessages": ["Client must be authenticated to access this resource."],
                    "errors": {},
                },
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            )
        path = request.path.rstrip("/")
        if path == SEARCH_PATH and request.method in ("GET", "POST"):
            return self._search(request)
        if path == COUNT_PATH and request.method == "POST":
            return self._approximate_count(request)
        if path in LEGACY_SEARCH_PATHS:
            return _error(
                410,
                "The requested API has been removed. Please migrate to the "
                "/rest/api/3/search/jql API.",
            )
        if path == CREATE_PATH and request.method == "POST":
            return self._create(request)
        match = _ISSUE_PART_PATH.match(path)
        if match is not None:
            return self._issue_part(request, unquote(match["ref"]), match["part"])
        match = _ISSUE_PATH.match(path)
        if match is not None and request.method == "PUT":
            return self._edit(request, unquote(match["ref"]))
        if request.method not in ("GET", "HEAD"):
            return _error(405, "Method Not Allowed")
        if path == USER_SEARCH_PATH:
            return self._user_search(request)
        if path == MYSELF_PATH:
            return Reply(200, self._user_view(self.me, full=True))
        if path == FIELD_PATH:
            return Reply(200, self._fields_view())
        match = _SLA_PATH.match(path)
        if match is not None:
            return self._sla(unquote(match["ref"]), request)
        match = _ISSUE_PATH.match(path)
        if match is not None:
            issue_id = self._find(unquote(match["ref"]))
            if issue_id is None:
                return _error(404, "Issue does not exist or you do not have permission to see it.")
            return Reply(200, self._issue_view(issue_id, None))
        return _error(404, "null for uri: " + path)

    def _search(self, request: Request) -> Reply:
        try:
            args = _search_args(request)
        except (ValueError, TypeError):
            return _error(400, "Invalid request payload. Refer to the REST API documentation.")
        jql, token, max_results, fields = args
        try:
            query = self._parse(jql)
        except JqlError as exc:
            return _error(400, str(exc))
        fingerprint = hashlib.sha256(jql.encode()).hexdigest()[:16]
        after: tuple[int, ...] | None = None
        if token is not None:
            after = _decode_token(token, fingerprint)
            if after is None:
                return _error(400, "The provided next page token is invalid or expired.")
        wanted = set(fields) - {"id", "key"}
        cap = self.page_cap or (FIELDS_PAGE_CAP if wanted else ID_ONLY_PAGE_CAP)
        size = max(1, min(max_results if max_results is not None else self.page_size, cap))
        window = list(itertools.islice(self._ranked(query, after), size + 1))
        more = len(window) > size
        window = window[:size]
        body: dict[str, Any] = {
            "issues": [self._issue_view(i, fields) for _, i in window if i not in self._hidden],
        }
        self.issues_served += len(body["issues"])
        if more:
            body["nextPageToken"] = _encode_token(fingerprint, window[-1][0])
            body["isLast"] = False
        else:
            body["isLast"] = True
        return Reply(200, body)

    def _approximate_count(self, request: Request) -> Reply:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, _BAD_PAYLOAD)
        jql = body.get("jql") if isinstance(body, dict) else None
        if not isinstance(jql, str):
            return _error(400, _BAD_PAYLOAD)
        try:
            query = self._parse(jql)
        except JqlError as exc:
            return _error(400, str(exc))
        return Reply(200, {"count": self._count(query.where)})

    def _fields_view(self) -> list[dict[str, Any]]:
        """``GET /field``: the fields the emulator keeps, with Jira's ``schema`` objects."""
        system = {
            "summary": ("Summary", {"type": "string", "system": "summary"}),
            "description": ("Description", {"type": "string", "system": "description"}),
            "status": ("Status", {"type": "status", "system": "status"}),
            "priority": ("Priority", {"type": "priority", "system": "priority"}),
            "assignee": ("Assignee", {"type": "user", "system": "assignee"}),
            "reporter": ("Reporter", {"type": "user", "system": "reporter"}),
            "created": ("Created", {"type": "datetime", "system": "created"}),
            "updated": ("Updated", {"type": "datetime", "system": "updated"}),
            "resolutiondate": ("Resolved", {"type": "datetime", "system": "resolutiondate"}),
            "project": ("Project", {"type": "project", "system": "project"}),
            "labels": ("Labels", {"type": "array", "items": "string", "system": "labels"}),
            "comment": ("Comment", {"type": "comments-page", "system": "comment"}),
            "attachment": (
                "Attachment",
                {"type": "array", "items": "attachment", "system": "attachment"},
            ),
        }
        custom: dict[str, tuple[str, str, str]] = {
            TEAM_FIELD: (
                "Team",
                "team",
                "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team",
            ),
            REQUEST_TYPE_FIELD: (
                "Request Type",
                "sd-customerrequesttype",
                "com.atlassian.servicedesk:vp-origin",
            ),
            **{
                field_id: (name, "sd-servicelevelagreement", SLA_FIELD_TYPE)
                for field_id, name in SLA_FIELDS.items()
            },
        }
        views = [
            {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": field_id not in ("status", "created", "updated"),
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
                "schema": schema,
            }
            for field_id, (name, schema) in system.items()
        ]
        for field_id, (name, kind, plugin) in custom.items():
            number = int(field_id.rpartition("_")[2])
            views.append(
                {
                    "id": field_id,
                    "key": field_id,
                    "name": name,
                    "untranslatedName": name,
                    "custom": True,
                    "orderable": True,
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": [f"cf[{number}]", name],
                    "schema": {"type": kind, "custom": plugin, "customId": number},
                }
            )
        return views

    def _issue_comments(self, request: Request, issue_id: int) -> Reply:
        """``GET …/issue/{key}/comment``: a page of comments, oldest first unless ``-created``."""
        start_text = request.param("startAt", "0") or "0"
        size_text = request.param("maxResults", str(COMMENT_PAGE_CAP)) or "0"
        order = request.param("orderBy", "created") or "created"
        if not start_text.isdigit() or not size_text.isdigit():
            return _error(400, "startAt and maxResults must be non-negative integers.")
        if order.lstrip("+-") != "created":
            return _error(400, f"Ordering by '{order}' is not supported.")
        start, size = int(start_text), min(int(size_text), COMMENT_PAGE_CAP)
        comments = self._comments.get(issue_id, [])
        ordered = list(reversed(comments)) if order.startswith("-") else comments
        expand = (request.param("expand") or "").split(",")
        page = [
            self._comment_view(issue_id, c, properties="properties" in expand)
            for c in ordered[start : start + size]
        ]
        return Reply(
            200, {"startAt": start, "maxResults": size, "total": len(comments), "comments": page}
        )

    # -- queries -------------------------------------------------------------------

    def _ranked(
        self, query: _Query, after: tuple[int, ...] | None
    ) -> Iterator[tuple[tuple[int, ...], int]]:
        """``(sort key, issue id)`` of every match after ``after``, in the query's order.

        The sync shapes walk a sorted index from a binary search (cost: the page);
        anything else is matched and sorted in full.
        """
        planned = self._plan(query)
        if planned is None:
            matches = [
                (self._sort_key(i, query.order), i)
                for i in self._candidates(query.where)
                if self._matches(query.where, i)
            ]
            matches.sort()
            start = 0 if after is None else bisect.bisect_right(matches, (after, math.inf))
            yield from matches[start:]
            return
        name, projects, lower = planned
        walks = []
        for project in projects:
            entries = self._index[name][project]
            start = bisect.bisect_left(entries, (lower,)) if lower is not None else 0
            if after is not None:
                start = max(start, bisect.bisect_right(entries, after))
            walks.append(itertools.islice(entries, start, None))
        for entry in heapq.merge(*walks):
            if self._matches(query.where, entry[3]):
                yield entry, entry[3]

    def _plan(self, query: _Query) -> tuple[str, list[str], int | None] | None:
        """``(index, projects, lower bound)`` when an index serves the query, else ``None``."""
        order = query.order
        if not order or any(desc for _, desc in order) or order[0][0] not in ("updated", "created"):
            return None
        if any(name != "key" for name, _ in order[1:]):
            return None
        by = order[0][0]
        parts = _conjuncts(query.where)
        category = _category_of(parts)
        if by == "updated":
            name = "done_updated" if category == "done" else "updated"
        else:
            name = "open_created" if category == "open" else "created"
        lower = max(
            (
                min(c.values) + (1 if c.op == ">" else 0)
                for c in parts
                if isinstance(c, _Clause) and c.field == by and c.op in (">", ">=")
            ),
            default=None,
        )
        return name, _projects_of(parts, self._projects), lower

    def _count(self, where: _Node) -> int:
        """How many issues match: from the indexes for the backfill's shapes, else by a scan."""
        parts = _conjuncts(where)
        projects = _projects_of(parts, self._projects)
        rest = [p for p in parts if not (isinstance(p, _Clause) and p.field == "project")]
        if len(rest) == 1 and isinstance(rest[0], _Bool) and rest[0].op == "or":
            branches = rest[0].parts
            is_open = [b for b in branches if _category_of([b]) == "open"]
            since = [
                b
                for b in branches
                if isinstance(b, _Clause) and b.field == "updated" and b.op == ">="
            ]
            if len(branches) == 2 and len(is_open) == 1 and len(since) == 1:
                bound = min(since[0].values)
                return sum(
                    len(self._index["open_created"][p])
                    + len(done := self._index["done_updated"][p])
                    - bisect.bisect_left(done, (bound,))
                    for p in projects
                )
        return sum(1 for i in self._candidates(where) if self._matches(where, i))

    def _candidates(self, where: _Node) -> Iterable[int]:
        """Issues that may match: by label or key when the query names one, else all."""
        for part in _conjuncts(where):
            if isinstance(part, _Clause) and part.op in ("=", "in"):
                if part.field == "labels":
                    return {i for label in part.values for i in self._by_label.get(label, ())}
                if part.field == "key":
                    return {i for key in part.values if (i := self._by_key.get(key)) is not None}
        return list(self._issues)

    def _matches(self, node: _Node, issue_id: int) -> bool:
        if isinstance(node, _Bool):
            if node.op == "and":
                return all(self._matches(part, issue_id) for part in node.parts)
            if node.op == "or":
                return any(self._matches(part, issue_id) for part in node.parts)
            return not self._matches(node.parts[0], issue_id)
        row = self._rows[issue_id]
        if node.field in ("updated", "created"):
            value = row.updated if node.field == "updated" else row.created
            return _compare(value, node.op, min(node.values))
        if node.field == "project":
            hit = row.project in node.values
        elif node.field == "labels":
            hit = not node.values.isdisjoint(row.labels)
        elif node.field == "statusCategory":
            category = STATUSES[self._issues[issue_id]["fields"]["status"]][1]
            hit = category in node.values
        else:  # key / issuekey
            hit = self._issues[issue_id]["key"] in node.values
        return hit if node.op in ("=", "in") else not hit

    def _parse(self, jql: str) -> _Query:
        """JQL into a query whose values are resolved (projects known, dates as millis)."""
        parsed = _parse_jql(jql)
        return _Query(self._resolve(parsed.where), parsed.order)

    def _resolve(self, node: _Node) -> _Node:
        if isinstance(node, _Bool):
            return _Bool(node.op, tuple(self._resolve(part) for part in node.parts))
        values: set[Any] = set()
        for value in node.values:
            if node.field == "project":
                project = self._project(value)
                if project is None:
                    raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
                values.add(project.key)
            elif node.field in ("updated", "created"):
                values.add(self._jql_instant(node.field, value))
            elif node.field == "statusCategory":
                category = _CATEGORY_VALUES.get(value.casefold())
                if category is None:
                    raise JqlError(
                        f"The value '{value}' does not exist for the field 'statusCategory'."
                    )
                values.add(category)
            elif node.field == "labels":
                values.add(value.casefold())
            else:
                values.add(value.upper())
        return _Clause(node.field, node.op, frozenset(values))

    # -- writes --------------------------------------------------------------------

    def _issue_part(self, request: Request, ref: str, part: str) -> Reply:
        """``comment``, ``assignee``, ``transitions`` and ``remotelink`` of one issue."""
        allowed = {
            "comment": ("GET", "POST"),
            "assignee": ("PUT",),
            "transitions": ("GET", "POST"),
            "remotelink": ("GET", "POST"),
        }[part]
        if request.method not in allowed:
            return _error(405, "Method Not Allowed")
        issue_id = self._find(ref)
        if issue_id is None:
            return _error(404, _NO_ISSUE)
        if request.method == "GET":
            if part == "comment":
                return self._issue_comments(request, issue_id)
            if part == "transitions":
                with_fields = "transitions.fields" in (request.param("expand") or "")
                return Reply(200, self._transitions_view(issue_id, with_fields=with_fields))
            return Reply(200, json.loads(json.dumps(self._remote_links.get(issue_id, []))))
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, _BAD_PAYLOAD)
        if not isinstance(body, dict):
            return _error(400, _BAD_PAYLOAD)
        handler = {
            "comment": self._comment,
            "assignee": self._assign,
            "transitions": self._transition,
            "remotelink": self._remote_link,
        }[part]
        return handler(issue_id, body)

    def _comment(self, issue_id: int, body: dict[str, Any]) -> Reply:
        document = body.get("body")
        if not _is_adf(document):
            return _field_errors({"comment": _ADF_REQUIRED})
        text = _adf_text(document)
        if not text.strip():
            return _field_errors({"comment": "Comment body can not be empty!"})
        properties = body.get("properties") or []
        internal = isinstance(properties, list) and any(
            isinstance(p, dict)
            and p.get("key") == "sd.public.comment"
            and isinstance(p.get("value"), dict)
            and p["value"].get("internal") is True
            for p in properties
        )
        issue = self._issues[issue_id]
        self.record_comment(issue["id"], text, public=not internal)
        stamp = self._touch(issue_id)
        comment = {
            "id": str(next(self._comment_ids)),
            "author": self.me,
            "body": document,
            "created": stamp,
            "updated": stamp,
            "internal": internal,
        }
        self._comments.setdefault(issue_id, []).append(comment)
        return Reply(201, self._comment_view(issue_id, comment, properties=False))

    def _edit(self, request: Request, ref: str) -> Reply:
        """``PUT /rest/api/3/issue/{key}`` with ``fields``: 204, or every field error at once.

        Only what the edit screen here offers can be set (``summary``, ``priority``);
        a priority is named by ``name`` (as the default scheme spells it) or ``id``.
        """
        issue_id = self._find(ref)
        if issue_id is None:
            return _error(404, _NO_ISSUE)
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, _BAD_PAYLOAD)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, _BAD_PAYLOAD)
        errors: dict[str, str] = {}
        change: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "priority":
                by_id = {pid: pname for pname, pid in PRIORITIES.items()}
                wanted = value if isinstance(value, dict) else {}
                chosen = (
                    wanted["name"]
                    if wanted.get("name") in PRIORITIES
                    else by_id.get(str(wanted.get("id")))
                )
                if chosen is None:
                    errors["priority"] = "Specify a valid priority name"
                else:
                    change["priority"] = chosen
            elif name == "summary":
                if not isinstance(value, str) or not value.strip():
                    errors["summary"] = "You must specify a summary of the issue."
                else:
                    change["summary"] = value
            else:
                errors[name] = _NOT_ON_SCREEN.format(name)
        if errors:
            return _field_errors(errors)
        self._issues[issue_id]["fields"].update(change)
        if change:
            self._touch(issue_id)
        return Reply(204)

    def _assign(self, issue_id: int, body: dict[str, Any]) -> Reply:
        if "accountId" not in body:
            return _error(
                400,
                "'accountId' must be the only user identifying query parameter "
                "in GDPR strict mode.",
            )
        account = body["accountId"]
        user = None
        if account is not None:
            user = next((u for u in self._users.values() if u["accountId"] == account), None)
            if user is None:
                return _error(404, f"User with accountId '{str(account)[:80]}' does not exist.")
            if user["accountType"] != "atlassian":
                return _field_errors(
                    {"assignee": f"User '{user['displayName']}' cannot be assigned issues."}
                )
        self._issues[issue_id]["fields"]["assignee"] = user
        self._touch(issue_id)
        return Reply(204)

    def _transition(self, issue_id: int, body: dict[str, Any]) -> Reply:
        wanted = body.get("transition")
        wanted_id = str(wanted.get("id")) if isinstance(wanted, dict) else None
        chosen = next((t for t in self._available(issue_id) if t.id == wanted_id), None)
        if chosen is None:
            return _error(400, f"Transition id '{wanted_id}' is not valid for this issue.")
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            return _error(400, _BAD_PAYLOAD)
        errors: dict[str, str] = {}
        resolution: dict[str, Any] | None = None
        for name, value in fields.items():
            if name != "resolution" or not chosen.asks_resolution:
                errors[name] = _NOT_ON_SCREEN.format(name)
                continue
            resolution = _known_resolution(value)
            if resolution is None:
                errors[name] = "Could not find valid 'id' or 'name' in resolution object."
        if chosen.asks_resolution and "resolution" not in fields:
            errors["resolution"] = "Resolution is required."
        if errors:
            return _field_errors(errors)
        self._move_status(issue_id, chosen.to, resolution)
        return Reply(204)

    def _remote_link(self, issue_id: int, body: dict[str, Any]) -> Reply:
        target = body.get("object")
        url = target.get("url") if isinstance(target, dict) else None
        title = target.get("title") if isinstance(target, dict) else None
        errors = {}
        if not isinstance(url, str) or not url.strip():
            errors["url"] = "'url' is required."
        if not isinstance(title, str) or not title.strip():
            errors["title"] = "'title' is required."
        if errors:
            return _field_errors(errors)
        links = self._remote_links.setdefault(issue_id, [])
        global_id = body.get("globalId")
        old = next((k for k in links if global_id and k.get("globalId") == global_id), None)
        link_id = (
            old["id"] if old is not None else 10000 + sum(map(len, self._remote_links.values()))
        )
        link = {
            "id": link_id,
            "self": f"{self.base_url}/rest/api/3/issue/{issue_id}/remotelink/{link_id}",
            "globalId": global_id,
            "object": {"url": url, "title": title},
        }
        if old is not None:
            links[links.index(old)] = link
        else:
            links.append(link)
        self._touch(issue_id)
        return Reply(200 if old is not None else 201, {"id": link_id, "self": link["self"]})

    def _create(self, request: Request) -> Reply:
        """``POST /rest/api/3/issue``: every field error at once, as Jira reports them."""
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, _BAD_PAYLOAD)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, _BAD_PAYLOAD)
        errors: dict[str, str] = {}
        given = fields.get("project")
        project = None
        if isinstance(given, dict):
            wanted = str(given.get("key") or given.get("id") or "")
            project = next(
                (p for p in self._projects.values() if wanted and wanted in (p.key, p.id)), None
            )
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        issue_type = None
        kind = fields.get("issuetype")
        if project is not None and isinstance(kind, dict):
            issue_type = next(
                (t for t in ISSUE_TYPES[project.service_desk] if kind.get("name") == t), None
            )
        if issue_type is None:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        description = fields.get("description")
        if description is not None and not _is_adf(description):
            errors["description"] = _ADF_REQUIRED
        priority = fields.get("priority")
        if priority is not None and (
            not isinstance(priority, dict) or priority.get("name") not in PRIORITIES
        ):
            errors["priority"] = "Specify a valid priority name"
        labels = fields.get("labels") or []
        if not isinstance(labels, list) or not all(
            isinstance(x, str) and x and not re.search(r"\s", x) for x in labels
        ):
            errors["labels"] = "Labels cannot contain spaces or be empty."
        known = {"project", "issuetype", "summary", "description", "priority", "labels"}
        for name in fields:
            if name not in known:
                errors[name] = _NOT_ON_SCREEN.format(name)
        if errors or project is None or issue_type is None:
            return _field_errors(errors)
        now = self._stamp(self.clock())
        issue_id = next(self._issue_ids)
        key = f"{project.key}-{next(self._key_numbers[project.key])}"
        self._issues[issue_id] = {
            "id": str(issue_id),
            "key": key,
            "fields": {
                "summary": summary,
                "description": description,
                "status": "Open",
                "priority": priority["name"] if isinstance(priority, dict) else None,
                "assignee": None,
                "reporter": self.me,
                "creator": self.me,
                "created": now,
                "updated": now,
                "resolutiondate": None,
                "resolution": None,
                "project": project.key,
                "issuetype": issue_type,
                "labels": list(labels),
                "duedate": None,
                TEAM_FIELD: None,
            },
        }
        self._slas[issue_id] = []
        self._by_key[key] = issue_id
        self._reindex(issue_id)
        self.created.append(str(issue_id))
        return Reply(
            201,
            {
                "id": str(issue_id),
                "key": key,
                "self": f"{self.base_url}/rest/api/3/issue/{issue_id}",
            },
        )

    def _user_search(self, request: Request) -> Reply:
        """Users whose display name (or a word of it) or e-mail starts with ``query``."""
        query = (request.param("query") or "").strip().casefold()
        if not query:
            return _error(400, "The query parameter 'query' is required.")
        found = [
            self._user_view(user)
            for user in self._users.values()
            if any(
                part.startswith(query)
                for part in (
                    user["displayName"].casefold(),
                    *user["displayName"].casefold().split(),
                    (user.get("emailAddress") or "").casefold(),
                )
                if part
            )
        ]
        return Reply(200, found)

    def _available(self, issue_id: int) -> list[_Transition]:
        """The transitions :data:`WORKFLOW` offers from the issue's current status."""
        status = self._issues[issue_id]["fields"]["status"]
        if STATUSES[status][1] == "done":
            ids = {"81", "61"} if status in ("Resolved", "Done") else {"81"}
        else:
            ids = {t.id for t in WORKFLOW} - {"61", "81"}
        return [t for t in WORKFLOW if t.id in ids and t.to != status]

    def _transitions_view(self, issue_id: int, *, with_fields: bool) -> dict[str, Any]:
        views = []
        for transition in self._available(issue_id):
            view: dict[str, Any] = {
                "id": transition.id,
                "name": transition.name,
                "to": self._field_view("status", {"status": transition.to}, issue_id),
                "hasScreen": transition.asks_resolution,
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            if with_fields:
                view["fields"] = {}
                if transition.asks_resolution:
                    view["fields"]["resolution"] = {
                        "required": True,
                        "schema": {"type": "resolution", "system": "resolution"},
                        "name": "Resolution",
                        "key": "resolution",
                        "hasDefaultValue": False,
                        "operations": ["set"],
                        "allowedValues": [
                            {"self": f"{self.base_url}/rest/api/3/resolution/{r['id']}", **r}
                            for r in RESOLUTIONS
                        ],
                    }
            views.append(view)
        return {"expand": "transitions", "transitions": views}

    def _move_status(self, issue_id: int, status: str, resolution: dict[str, Any] | None) -> None:
        """What the workflow does on a transition: status, resolution, SLA clocks, ``updated``."""
        fields = self._issues[issue_id]["fields"]
        now = self.clock()
        done = STATUSES[status][1] == "done"
        fields["status"] = status
        if done:
            fields["resolution"] = resolution or _resolution(status)
            fields["resolutiondate"] = fields["resolutiondate"] or self._stamp(now)
        else:
            fields["resolution"] = None
            fields["resolutiondate"] = None
        for sla in self._slas.get(issue_id, []):
            if sla["name"] != "Time to resolution":
                continue
            if done and sla["stop"] is None:
                sla["stop"] = now
            elif not done:
                sla["stop"] = None
        self._touch(issue_id)

    def _touch(self, issue_id: int) -> str:
        """Move ``updated`` to now (so an incremental search finds the issue); return it."""
        stamp = self._stamp(self.clock())
        self._issues[issue_id]["fields"]["updated"] = stamp
        self._reindex(issue_id)
        return stamp

    def _sla(self, ref: str, request: Request) -> Reply:
        issue_id = self._find(ref)
        project = (
            self._projects[self._issues[issue_id]["key"].rpartition("-")[0]]
            if issue_id is not None
            else None
        )
        if issue_id is None or project is None or not project.service_desk:
            return Reply(
                404,
                {
                    "errorMessage": "The request could not be found or you do not have "
                    "permission to view it.",
                    "i18nErrorMessage": {
                        "i18nKey": "sd.customer.request.not.found",
                        "parameters": [],
                    },
                },
            )
        start_text, limit_text = request.param("start", "0"), request.param("limit", "50")
        if not (start_text or "").isdigit() or not (limit_text or "").isdigit():
            return Reply(
                400,
                {
                    "errorMessage": "start and limit must be non-negative integers",
                    "i18nErrorMessage": {"i18nKey": "sd.pagination.invalid", "parameters": []},
                },
            )
        start = int(start_text or 0)
        limit = max(1, min(int(limit_text or 50), self.sla_page_limit))
        values = [self._sla_view(issue_id, sla) for sla in self._slas.get(issue_id, [])]
        page = values[start : start + limit]
        last = start + limit >= len(values)
        own = f"{self.base_url}/rest/servicedeskapi/request/{issue_id}/sla"
        links: dict[str, Any] = {"base": self.base_url, "context": "", "self": own}
        if not last:
            links["next"] = f"{own}?{urlencode({'start': start + limit, 'limit': limit})}"
        if start > 0:
            links["prev"] = f"{own}?{urlencode({'start': max(start - limit, 0), 'limit': limit})}"
        return Reply(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": last,
                "_links": links,
                "values": page,
            },
        )

    def _rate_window(self) -> tuple[Reply | None, dict[str, str]]:
        """Count this request in the fixed window; 429 past the limit. Headers for the answer."""
        now = self.clock().timestamp()
        number = math.floor(now / self.rate_window)
        used = self._window[1] + 1 if self._window[0] == number else 1
        self._window = (number, used)
        end = (number + 1) * self.rate_window
        reset = datetime.fromtimestamp(math.ceil(end), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        remaining = max(self.rate_limit - used, 0)
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset,
        }
        if remaining < self.rate_limit * 0.2:
            headers["X-RateLimit-NearLimit"] = "true"
        if used <= self.rate_limit:
            return None, headers
        headers["Retry-After"] = str(max(math.ceil(end - now), 1))
        headers["RateLimit-Reason"] = "jira-burst-based"
        return _error(429, "Rate limit exceeded."), headers

    # -- lookups -------------------------------------------------------------------

    def _jql_instant(self, field: str, text: str) -> int:
        """A JQL date value as epoch millis: literals in the user's zone, numbers as millis."""
        if re.fullmatch(r"-?\d{9,}", text):
            return int(text)
        relative = _RELATIVE.match(text.strip())
        if relative is not None:
            delta = timedelta()
            for amount, unit in re.findall(r"(\d+)([wdhm])", relative[2]):
                delta += timedelta(**{_UNITS[unit]: int(amount)})
            sign = -1 if relative[1] == "-" else 1
            return _millis(self.clock() + sign * delta)
        for pattern in _DATE_LITERAL_FORMATS:
            try:
                local = datetime.strptime(text, pattern)  # noqa: DTZ007 - zone attached below
            except ValueError:
                continue
            return _millis(local.replace(tzinfo=self.zone))
        raise JqlError(
            f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def _sort_key(self, issue_id: int, order: tuple[tuple[str, bool], ...]) -> tuple[int, ...]:
        """Numbers only (negated for DESC), ending in key order and the id: a total order."""
        row = self._rows[issue_id]
        key: list[int] = []
        for field, descending in order:
            if field == "key":
                parts = [int(self._projects[row.project].id), row.number]
            else:
                parts = [row.updated if field == "updated" else row.created]
            key.extend(-p if descending else p for p in parts)
        return (*key, *row.tail(self._projects, issue_id))

    def _project(self, value: str) -> _Project | None:
        for project in self._projects.values():
            if value.upper() in (project.key, project.id) or value == project.name:
                return project
        return None

    def _find(self, ref: str) -> int | None:
        """An issue by id or key, unless the API user may not browse it."""
        issue_id = int(ref) if ref.isdigit() else self._by_key.get(ref.upper())
        if issue_id is None or issue_id not in self._issues or issue_id in self._hidden:
            return None
        return issue_id

    def _move(self, issue_id: int, project_key: str) -> None:
        """Move to another project: Jira re-keys the issue there (the old key still works)."""
        if project_key not in self._projects:
            raise ValueError(f"project must be one of {sorted(self._projects)}")
        issue = self._issues[issue_id]
        if issue["fields"]["project"] == project_key:
            return
        issue["key"] = f"{project_key}-{next(self._key_numbers[project_key])}"
        self._by_key[issue["key"]] = issue_id
        issue["fields"]["project"] = project_key
        service_desk = self._projects[project_key].service_desk
        issue["fields"]["issuetype"] = "[System] Incident" if service_desk else "Task"

    # -- views ---------------------------------------------------------------------

    def _issue_view(self, issue_id: int, fields: list[str] | None) -> dict[str, Any]:
        """The issue with the requested fields (``None``: all), objects built as Jira shows them."""
        issue = self._issues[issue_id]
        row = issue["fields"]
        wanted = _field_selection(fields)
        view: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog",
            "id": issue["id"],
            "self": f"{self.base_url}/rest/api/3/issue/{issue['id']}",
            "key": issue["key"],
        }
        if wanted is not None and not wanted:
            return view
        shown: dict[str, Any] = {}
        for name in _ALL_FIELDS:
            if wanted is not None and name not in wanted:
                continue
            shown[name] = self._field_view(name, row, issue_id)
        view["fields"] = shown
        return view

    def _field_view(self, name: str, row: dict[str, Any], issue_id: int) -> Any:
        value: Any = row.get(name)
        if name == "status":
            status_id, category = STATUSES[value]
            return {
                "self": f"{self.base_url}/rest/api/3/status/{status_id}",
                "description": "",
                "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
                "name": value,
                "id": status_id,
                "statusCategory": {
                    "self": f"{self.base_url}/rest/api/3/statuscategory/"
                    f"{_CATEGORIES[category]['id']}",
                    **_CATEGORIES[category],
                },
            }
        if name == "priority":
            if value is None:
                return None
            return {
                "self": f"{self.base_url}/rest/api/3/priority/{PRIORITIES[value]}",
                "iconUrl": f"{self.base_url}/images/icons/priorities/{value.lower()}.svg",
                "name": value,
                "id": PRIORITIES[value],
            }
        if name in ("assignee", "reporter", "creator"):
            return self._user_view(value) if value is not None else None
        if name == "project":
            project = self._projects[value]
            return {
                "self": f"{self.base_url}/rest/api/3/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "projectTypeKey": "service_desk" if project.service_desk else "software",
                "simplified": False,
                "avatarUrls": {
                    "48x48": f"{self.base_url}/rest/api/3/universal_avatar/view/type/project"
                    f"/avatar/{project.id}"
                },
            }
        if name == "issuetype":
            type_id = "10004" if value.startswith("[System]") else "10001"
            return {
                "self": f"{self.base_url}/rest/api/3/issuetype/{type_id}",
                "id": type_id,
                "description": "",
                "iconUrl": f"{self.base_url}/rest/api/2/universal_avatar/view/type/issuetype"
                f"/avatar/{type_id}?size=medium",
                "name": value,
                "subtask": False,
                "avatarId": int(type_id),
                "hierarchyLevel": 0,
            }
        if name == "resolution":
            if value is None:
                return None
            return {"self": f"{self.base_url}/rest/api/3/resolution/{value['id']}", **value}
        if name == "comment":
            comments = self._comments.get(issue_id, [])
            shown = comments[: self.comment_field_cap]
            return {
                "comments": [self._comment_view(issue_id, c, properties=False) for c in shown],
                "self": f"{self.base_url}/rest/api/3/issue/{issue_id}/comment",
                "maxResults": len(shown),
                "total": len(comments),
                "startAt": 0,
            }
        if name == "attachment":
            return [self._attachment_view(a) for a in self._attachments.get(issue_id, [])]
        if name in SLA_FIELDS:
            if not self._projects[row["project"]].service_desk:
                return None
            for sla in self._slas.get(issue_id, []):
                if sla["name"] == SLA_FIELDS[name]:
                    return self._sla_view(issue_id, sla, field=True)
            return None
        if name == REQUEST_TYPE_FIELD:
            project = self._projects[row["project"]]
            if not project.service_desk:
                return None
            status_id, category = STATUSES[row["status"]]
            portal = f"{self.base_url}/servicedesk/customer/portal/1"
            return {
                "_links": {"web": f"{portal}/{self._issues[issue_id]['key']}"},
                "requestType": {"id": "10", "name": "Report a system problem"},
                "currentStatus": {
                    "status": row["status"],
                    "statusCategory": category.upper(),
                    "statusDate": self._date_dto(self._parse_stamp(row["updated"])),
                },
            }
        return value  # shared with the stored issue: views are only serialized, never changed

    def _user_view(self, user: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
        cached = self._views.get(("user", user["accountId"], self.base_url))
        if cached is not None and not full:
            return cached
        view = {
            "self": f"{self.base_url}/rest/api/3/user?accountId={user['accountId']}",
            "accountId": user["accountId"],
            "avatarUrls": {"48x48": f"{self.base_url}/avatar/{user['accountId']}.png"},
            "displayName": user["displayName"],
            "active": True,
            "timeZone": self.time_zone,
            "accountType": user["accountType"],
        }
        if user.get("emailAddress"):
            view["emailAddress"] = user["emailAddress"]
        if full:
            view["locale"] = "en_US"
            view["groups"] = {"size": 2, "items": []}
            view["applicationRoles"] = {"size": 2, "items": []}
        else:
            self._views[("user", user["accountId"], self.base_url)] = view
        return view

    def _comment_view(
        self, issue_id: int, comment: dict[str, Any], *, properties: bool
    ) -> dict[str, Any]:
        """A comment as the platform API shows it (``properties`` with ``expand=properties``)."""
        author = self._user_view(comment["author"])
        view: dict[str, Any] = {
            "self": f"{self.base_url}/rest/api/3/issue/{issue_id}/comment/{comment['id']}",
            "id": comment["id"],
            "author": author,
            "body": comment["body"],
            "updateAuthor": author,
            "created": comment["created"],
            "updated": comment["updated"],
            "jsdPublic": not comment["internal"],
        }
        if properties:
            view["properties"] = (
                [{"key": "sd.public.comment", "value": {"internal": True}}]
                if comment["internal"]
                else []
            )
        return view

    def _attachment_view(self, attachment: dict[str, Any]) -> dict[str, Any]:
        attachment_id = attachment["id"]
        return {
            "self": f"{self.base_url}/rest/api/3/attachment/{attachment_id}",
            "id": attachment_id,
            "filename": attachment["filename"],
            "author": self._user_view(attachment["author"]),
            "created": attachment["created"],
            "size": attachment["size"],
            "mimeType": attachment["mimeType"],
            "content": f"{self.base_url}/rest/api/3/attachment/content/{attachment_id}",
            "thumbnail": f"{self.base_url}/rest/api/3/attachment/thumbnail/{attachment_id}",
        }

    def _sla_view(
        self, issue_id: int, sla: dict[str, Any], *, field: bool = False
    ) -> dict[str, Any]:
        """One SLA value as the servicedesk API shows it, computed at the emulator's now.

        As a custom field value (``field``), its instants carry no ``iso8601``.
        """
        now = self.clock()
        date = self._field_date if field else self._date_dto
        goal: timedelta = sla["goal"]
        start: datetime = sla["start"]
        breach_at = start + goal
        view: dict[str, Any] = {
            "id": sla["id"],
            "name": sla["name"],
            "_links": {
                "self": f"{self.base_url}/rest/servicedeskapi/request/{issue_id}/sla/{sla['id']}"
            },
            "completedCycles": [],
            "slaDisplayFormat": "NEW_SLA_FORMAT",
        }
        stop: datetime | None = sla["stop"]
        breached = sla["breached"]
        if stop is not None:
            view["completedCycles"].append(
                {
                    "startTime": date(start),
                    "stopTime": date(stop),
                    "breachTime": date(breach_at),
                    "breached": breached if breached is not None else stop > breach_at,
                    "goalDuration": _duration(goal),
                    "elapsedTime": _duration(stop - start),
                    "remainingTime": _duration(breach_at - stop),
                }
            )
        else:
            view["ongoingCycle"] = {
                "startTime": date(start),
                "breachTime": date(breach_at),
                "breached": breached if breached is not None else now >= breach_at,
                "paused": False,
                "withinCalendarHours": True,
                "goalDuration": _duration(goal),
                "elapsedTime": _duration(now - start),
                "remainingTime": _duration(breach_at - now),
            }
        return view

    # -- internals -----------------------------------------------------------------

    def _world_slas(
        self, ticket: WorldTicket, resolved_at: datetime | None
    ) -> list[dict[str, Any]]:
        """The JSM SLAs a world ticket implies: first response (when given) and resolution."""
        slas: list[dict[str, Any]] = []
        if ticket.first_response_at is not None:
            slas.append(
                {
                    "id": "1",
                    "name": "Time to first response",
                    "start": ticket.created_at,
                    "goal": FIRST_RESPONSE_GOAL,
                    "stop": ticket.first_response_at,
                    "breached": None,
                }
            )
        if ticket.due_at is not None:
            slas.append(
                {
                    "id": "2",
                    "name": "Time to resolution",
                    "start": ticket.created_at,
                    "goal": ticket.due_at - ticket.created_at,
                    "stop": resolved_at,
                    "breached": ticket.breached,
                }
            )
        return slas

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.email}:{self.api_token}"

    def _user(
        self, name: str, *, email: str | None = None, customer: bool = False, app: bool = False
    ) -> dict[str, Any]:
        user = self._users.get(name)
        if user is None:
            seed = _digest(name)
            if app:
                account_id, kind = f"557058:{uuid.UUID(seed[:32])}", "app"
            elif customer:
                account_id, kind = f"qm:{uuid.UUID(seed[:32])}:{uuid.UUID(seed[32:])}", "customer"
            else:
                account_id, kind = f"5b10ac8d{seed[:16]}", "atlassian"
            user = {
                "accountId": account_id,
                "displayName": name,
                "emailAddress": email,
                "accountType": kind,
            }
            self._users[name] = user
        return user

    def _team(self, name: str) -> dict[str, Any]:
        team = self._teams.get(name)
        if team is None:
            team_id = str(uuid.UUID(_digest(name)[:32]))
            team = {
                "id": team_id,
                "name": name,
                "avatarUrl": "",
                "isVisible": True,
                "isVerified": False,
                "title": name,
                "isShared": True,
            }
            self._teams[name] = team
        return team

    def _stamp(self, value: datetime) -> str:
        """Jira's form: milliseconds and an offset without a colon, in the user's zone."""
        local = value.astimezone(self.zone)
        return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{local:%z}"

    def _parse_stamp(self, value: str) -> datetime:
        return datetime.fromisoformat(value)

    def _field_date(self, value: datetime) -> dict[str, Any]:
        """A DateDTO inside an SLA custom field: no ``iso8601`` there."""
        cached = self._views.get(("field-date", value))
        if cached is None:
            dto = self._date_dto(value)
            cached = self._views[("field-date", value)] = {
                k: v for k, v in dto.items() if k != "iso8601"
            }
        return cached

    def _date_dto(self, value: datetime) -> dict[str, Any]:
        """JSM's DateDTO: ISO, Jira form, a locale-friendly text, and epoch millis."""
        cached = self._views.get(("date", value))
        if cached is None:
            local = value.astimezone(self.zone)
            hour = local.hour % 12 or 12
            friendly = f"{local:%d/%b/%y} {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
            cached = self._views[("date", value)] = {
                "iso8601": f"{local:%Y-%m-%dT%H:%M:%S%z}",
                "jira": self._stamp(value),
                "friendly": friendly,
                "epochMillis": _millis(value),
            }
        return cached


_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_TEXT_OPERATORS = frozenset({"=", "!=", "in", "not in"})
_DATE_OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})
_OPERATORS = {
    "project": _TEXT_OPERATORS,
    "key": _TEXT_OPERATORS,
    "labels": _TEXT_OPERATORS,
    "statuscategory": _TEXT_OPERATORS,
    "updated": _DATE_OPERATORS,
    "created": _DATE_OPERATORS,
}


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"errorMessages": [message], "errors": {}})


def _field_errors(errors: dict[str, str]) -> Reply:
    """Jira's 400 for fields it refuses: the reasons sit in ``errors``, keyed by field."""
    return Reply(400, {"errorMessages": [], "errors": errors})


def _is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def _adf_text(node: Any) -> str:
    """The plain text of an ADF document: paragraphs apart by a blank line, hard breaks as LF."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    children = node.get("content")
    parts = [_adf_text(child) for child in children] if isinstance(children, list) else []
    if kind == "doc":
        return "\n\n".join(p for p in parts if p)
    return "".join(parts)


def _known_resolution(value: Any) -> dict[str, Any] | None:
    """The resolution a ``{"name"}`` or ``{"id"}`` object names, or ``None``."""
    if not isinstance(value, dict):
        return None
    for resolution in RESOLUTIONS:
        if value.get("name") == resolution["name"] or value.get("id") == resolution["id"]:
            return {**resolution, "description": ""}
    return None


def _search_args(request: Request) -> tuple[str, str | None, int | None, list[str]]:
    """``(jql, nextPageToken, maxResults, fields)`` from a GET query or a POST body."""
    if request.method == "POST":
        body = request.json() or {}
        if not isinstance(body, dict):
            raise TypeError("body is not an object")
        jql, token, max_results = (
            body.get("jql", ""),
            body.get("nextPageToken"),
            body.get("maxResults"),
        )
        fields = body.get("fields", ["id"])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise TypeError("fields is not a list of strings")
    else:
        jql = request.param("jql", "") or ""
        token = request.param("nextPageToken")
        text = request.param("maxResults")
        max_results = int(text) if text is not None else None
        fields = [f for value in request.query.get("fields", ["id"]) for f in value.split(",")]
    if not isinstance(jql, str) or (token is not None and not isinstance(token, str)):
        raise TypeError("jql and nextPageToken must be text")
    if max_results is not None and (not isinstance(max_results, int) or max_results < 0):
        raise ValueError("maxResults must be a non-negative integer")
    return jql, token, max_results, [f.strip() for f in fields if f.strip()]


def _field_selection(fields: list[str] | None) -> set[str] | None:
    """Requested field names (``None``: all of them); ``*all``/``*navigable`` and ``-x`` work."""
    if fields is None:
        return None
    chosen: set[str] = set()
    for name in fields:
        if name in ("*all", "*navigable"):
            chosen |= set(_ALL_FIELDS)
    for name in fields:
        if name.startswith("-"):
            chosen.discard(name[1:])
        elif name not in ("*all", "*navigable", "id", "key"):
            chosen.add(name)
    return chosen


def _parse_jql(jql: str) -> _Query:
    """The emulator's JQL subset: clauses joined by ``AND``/``OR``/``NOT`` with parentheses,
    then an optional ``ORDER BY``. Values stay text here (see :meth:`JiraEmulator._resolve`)."""
    tokens = _TOKEN.findall(jql)
    if re.sub(r"\s+", "", "".join(tokens)) != re.sub(r"\s+", "", jql):
        raise JqlError("Error in the JQL Query: The character is a reserved JQL character.")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def word() -> str:
        return (peek() or "").lower()

    def take() -> str:
        nonlocal position
        token = peek()
        if token is None:
            raise JqlError("Error in the JQL Query: Expecting more input at the end of the query.")
        position += 1
        return token

    def either() -> _Node:
        parts = [both()]
        while word() == "or":
            take()
            parts.append(both())
        return parts[0] if len(parts) == 1 else _Bool("or", tuple(parts))

    def both() -> _Node:
        parts = [single()]
        while word() == "and":
            take()
            if peek() is None or word() == "order":
                raise JqlError("Error in the JQL Query: Expecting a clause after 'AND'.")
            parts.append(single())
        return parts[0] if len(parts) == 1 else _Bool("and", tuple(parts))

    def single() -> _Node:
        if word() == "not":
            take()
            return _Bool("not", (single(),))
        if peek() == "(":
            take()
            inner = either()
            if take() != ")":
                raise JqlError("Error in the JQL Query: Expecting ')' to close '('.")
            return inner
        return clause()

    def clause() -> _Clause:
        name = take()
        field = {"issuekey": "key", "statuscategory": "statusCategory"}.get(
            name.lower(), name.lower()
        )
        if field.lower() not in _OPERATORS:
            raise JqlError(
                f"Field '{name.lower()}' does not exist or you do not have permission to view it."
            )
        op = take().lower()
        if op == "not" and word() == "in":
            take()
            op = "not in"
        if op in ("in", "not in"):
            if take() != "(":
                raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
            values = [_unquote(take())]
            while peek() == ",":
                take()
                values.append(_unquote(take()))
            if take() != ")":
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
        elif op in ("=", "!=", ">", ">=", "<", "<="):
            values = [_unquote(take())]
        else:
            raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported here.")
        if op not in _OPERATORS[field.lower()]:
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        if field in ("updated", "created") and len(values) != 1:
            raise JqlError(f"The '{field}' field takes one date value.")
        return _Clause(field, op, frozenset(values))

    if peek() is None or word() == "order":
        raise JqlError("Unbounded JQL queries are not allowed here. Add a search restriction.")
    where = either()
    if peek() is not None and word() != "order":
        raise JqlError(f"Error in the JQL Query: Expecting 'AND' or 'ORDER BY' at '{peek()}'.")
    order: list[tuple[str, bool]] = []
    if peek() is not None:
        take()
        if take().lower() != "by":
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        while True:
            field = take().lower()
            if field not in ("updated", "created", "key"):
                raise JqlError(f"Not able to sort using field '{field}'.")
            descending = word() == "desc"
            if word() in ("asc", "desc"):
                take()
            order.append((field, descending))
            if peek() != ",":
                break
            take()
        if peek() is not None:
            raise JqlError(f"Error in the JQL Query: Unexpected '{peek()}' after ORDER BY.")
    return _Query(where, tuple(order))


def _conjuncts(node: _Node) -> list[_Node]:
    """The parts of a top-level ``AND`` (or the node itself)."""
    return list(node.parts) if isinstance(node, _Bool) and node.op == "and" else [node]


def _category_of(parts: Iterable[_Node]) -> str | None:
    """``open`` or ``done`` when a part restricts the status category to that side of Done."""
    for part in parts:
        if isinstance(part, _Clause) and part.field == "statusCategory":
            if part.values == {"done"}:
                return "done" if part.op in ("=", "in") else "open"
            if "done" not in part.values and part.op in ("=", "in"):
                return "open"
    return None


def _projects_of(parts: Iterable[_Node], projects: dict[str, _Project]) -> list[str]:
    """The project keys a top-level ``project =``/``in`` part allows (else every project)."""
    allowed = set(projects)
    for part in parts:
        if isinstance(part, _Clause) and part.field == "project" and part.op in ("=", "in"):
            allowed &= set(part.values)
    return sorted(allowed)


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    if token in ("(", ")", ",", "=", "!=", ">", ">=", "<", "<="):
        raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token}'.")
    return token


def _compare(value: int, op: str, bound: int) -> bool:
    comparisons: dict[str, Callable[[int, int], bool]] = {
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    return comparisons[op](value, bound)


def _encode_token(fingerprint: str, position: Iterable[int]) -> str:
    raw = json.dumps({"q": fingerprint, "after": list(position)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> tuple[int, ...] | None:
    """The position inside a token, or ``None`` when it is not ours or not for this query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    after = data.get("after") if isinstance(data, dict) else None
    if data.get("q") != fingerprint or not isinstance(after, list):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in after):
        return None
    return tuple(after)


def _duration(value: timedelta) -> dict[str, Any]:
    """JSM's DurationDTO; negative once a clock has run past its goal."""
    millis = int(value.total_seconds() * 1000)
    minutes = abs(millis) // 60_000
    hours, minutes = divmod(minutes, 60)
    friendly = (f"{hours}h {minutes}m" if hours else f"{minutes}m").replace(" 0m", "")
    return {"millis": millis, "friendly": ("-" if millis < 0 else "") + friendly}


def _resolution(status: str) -> dict[str, Any]:
    won_t = status == "Canceled"
    return {
        "id": "10001" if won_t else "10000",
        "description": "This issue won't be actioned." if won_t else "Work has been completed.",
        "name": "Won't Do" if won_t else "Done",
    }


def _copy(view: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of an answer (views share their parts with the stored issues)."""
    copied: dict[str, Any] = json.loads(json.dumps(view))
    return copied


def _digest(name: str) -> str:
    """A stable hex digest of any name (a lone surrogate included) for made-up ids."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _media(name: str) -> dict[str, Any]:
    """The ADF node that shows an attached file in a comment (its media id is opaque)."""
    media_id = str(uuid.UUID(_digest(name)[:32]))
    attrs = {"type": "file", "id": media_id, "collection": "", "alt": name}
    return {"type": "mediaSingle", "content": [{"type": "media", "attrs": attrs}]}


def _adf(text: str) -> dict[str, Any] | None:
    """Plain text as an Atlassian Document Format document (v3 descriptions)."""
    if not text:
        return None
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.split("\n")
        if line
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _label(text: str) -> str:
    """Jira labels cannot contain spaces."""
    return re.sub(r"\s+", "_", text.strip()) or "asset"


EMULATOR = JiraEmulator

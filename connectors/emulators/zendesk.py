"""A Zendesk Support account on loopback, speaking the v2 wire format, at a customer's size.

Tickets are kept as Zendesk keeps them (see ``vendor-apis.md`` §3 and the
capture ``zendesk-ticket.json``): sequential integer ticket ids, 13-digit user
and group ids, lowercase ``status``/``priority``, ``…Z`` timestamps without a
fraction. Every list answer carries exactly the capture's ticket keys (plus
``url``), with two documented additions: the incremental export adds
``generated_timestamp`` (Unix seconds, bumped on every change) and search
results add ``result_type``. API-token Basic auth, ``X-Rate-Limit`` headers,
the export limit's 429 + ``Retry-After`` and Zendesk's error bodies follow the
real service.

Endpoints (each answers a page in time independent of the tenant's size: the
ticket store keeps sorted indexes, so a page is a bisect and a slice):

* ``GET /api/v2/incremental/tickets/cursor.json`` — cursor export ordered by
  ``(generated_timestamp, id)``; ``users``/``groups``/``slas`` sideloads.
* ``GET /api/v2/incremental/ticket_events.json`` — time-based event export;
  one ``Audit`` per change, ``Comment`` child events in full with
  ``include=comment_events`` (else only ``comment_present``/``comment_public``).
* ``GET /api/v2/search/export.json`` — ``filter[type]=ticket`` required and
  ``type:`` refused in the query; results ordered by ``created_at`` descending,
  id ascending (the order Zendesk's own cursor names); cursor expires after an
  hour. ``status<solved`` (with any ``created<=``) pages live off an index of
  unsolved tickets; other queries are evaluated once and the snapshot paged.
* ``GET /api/v2/search/count.json``, ``GET /api/v2/tickets/show_many.json``
  (≤100 ids, sideloads), ``GET /api/v2/users/show_many.json``,
  ``GET /api/v2/tickets/{id}/comments.json`` (cursor paging with
  ``page[size]``≤100, offset paging without; ``include=users``),
  ``GET/PUT /api/v2/tickets/{id}.json``, ``GET/POST /api/v2/tickets.json``,
  ``GET /api/v2/users/me.json``.

Answers are encoded outside the lock, so views are shallow copies and stored
records follow one rule: a nested value (``via``, ``tags``, a comment's
``attachments``…) is replaced, never changed in place.

Deviations, on purpose: real Zendesk withholds changes of the last minute from
the exports and indexes search a minute or so late; the emulator answers at
once and keeps the exports' guarantee another way (a change never gets a
``generated_timestamp`` at or before a position already handed out; event
timestamps never go backwards and ``start_time`` is inclusive). A ticket's
``description`` is not repeated as its first comment unless the world puts
that entry. Bulk-loaded tickets (:meth:`ZendeskEmulator.put_tickets`) have no
creation audits in the event stream. The error bodies of an expired search
cursor and of too many ``show_many`` ids are assumptions (not documented).
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import json
import math
import re
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "ZendeskEmulator", "decode_cursor", "encode_cursor"]

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
SEARCH_EXPORT_PATH = "/api/v2/search/export.json"
SEARCH_COUNT_PATH = "/api/v2/search/count.json"
SHOW_MANY_PATH = "/api/v2/tickets/show_many.json"
USERS_SHOW_MANY_PATH = "/api/v2/users/show_many.json"
TICKETS_PATH = "/api/v2/tickets.json"
ME_PATH = "/api/v2/users/me.json"
ACCOUNT_RATE_LIMIT = 700
"""Requests per minute of an Enterprise plan, as ``X-Rate-Limit`` reports it."""
MAX_PER_PAGE = 1000
MAX_COMMENTS_PAGE = 100
MAX_SHOW_MANY = 100
EVENTS_PER_PAGE = 1000
MIN_START_AGE = 60
SEARCH_CURSOR_LIFE = 3600
SEARCH_SESSIONS = 64

NATIVE_STATUSES = frozenset({"new", "open", "pending", "hold", "solved", "closed", "deleted"})
NATIVE_PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
UNSOLVED = frozenset(STATUS_ORDER[:4])
SOLVED = frozenset(STATUS_ORDER[4:])
_STATUS_OUT = {
    TicketStatus.NEW: "new",
    TicketStatus.OPEN: "open",
    TicketStatus.PENDING: "pending",
    TicketStatus.RESOLVED: "solved",
    TicketStatus.CLOSED: "closed",
}
_PRIORITY_OUT = {
    Priority.P1: "urgent",
    Priority.P2: "high",
    Priority.P3: "normal",
    Priority.P4: "low",
    Priority.P5: "low",
}
_RUNNING = UNSOLVED
"""Statuses in which an SLA clock still runs (solved/closed achieve it)."""
_TICKET_PATH = re.compile(r"^/api/v2/tickets/(?P<id>\d+)(?:\.json)?$")
_COMMENTS_PATH = re.compile(r"^/api/v2/tickets/(?P<id>\d+)/comments(?:\.json)?$")
_TERM = re.compile(r"^(?P<field>status|created|updated)(?P<op><=|>=|<|>|:)(?P<value>\S+)$")
_NOT_FOUND = Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})
SYSTEM_USER = -1


def encode_cursor(generated_timestamp: int, ticket_id: int) -> str:
    """An export position as the opaque cursor the emulator hands out."""
    return base64.urlsafe_b64encode(f"{generated_timestamp}|{ticket_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    """The position inside a cursor, or ``None`` when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        stamp, ticket_id = text.split("|")
        return int(stamp), int(ticket_id)
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _stamp(value: datetime) -> str:
    """Zendesk's timestamp form: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(text: str) -> int:
    """A ``…Z`` timestamp as Unix seconds."""
    return int(datetime.fromisoformat(text).timestamp())


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "description": description})


def _invalid(field: str, description: str) -> Reply:
    """Zendesk's 422 for a ticket that fails validation."""
    return Reply(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field: [{"description": f"{field.title()}: {description}"}]},
        },
    )


def _b64(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _unb64(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class _Query:
    """A parsed ticket search: status set and time bounds (Unix seconds, inclusive)."""

    statuses: frozenset[str]
    created: tuple[float, float]
    updated: tuple[float, float]
    words: tuple[str, ...]
    text: str

    def matches(self, row: dict[str, Any], created: int, updated: int) -> bool:
        if row["status"] not in self.statuses:
            return False
        if not self.created[0] <= created <= self.created[1]:
            return False
        if not self.updated[0] <= updated <= self.updated[1]:
            return False
        if self.words:
            haystack = f"{row['subject']} {row['description']}".lower()
            return all(word in haystack for word in self.words)
        return True


def _parse_query(text: str) -> _Query | str:
    """The query, or why it is refused (Zendesk answers those with a 400)."""
    statuses = set(STATUS_ORDER)
    created = [-math.inf, math.inf]
    updated = [-math.inf, math.inf]
    words: list[str] = []
    for token in text.split():
        if token.lower().startswith("type:"):
            return "type is not allowed in the query; use filter[type]"
        match = _TERM.match(token)
        if match is None:
            words.append(token.lower())
            continue
        field, op, value = match["field"], match["op"], match["value"]
        if field == "status":
            if value not in STATUS_ORDER:
                return f"unknown status {value!r}"
            rank = STATUS_ORDER.index(value)
            keep = {
                ":": {value},
                "<": set(STATUS_ORDER[:rank]),
                "<=": set(STATUS_ORDER[: rank + 1]),
                ">": set(STATUS_ORDER[rank + 1 :]),
                ">=": set(STATUS_ORDER[rank:]),
            }[op]
            statuses &= keep
            continue
        try:
            when = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00Z")
        except ValueError:
            return f"cannot read the date {value!r}"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        point = when.timestamp()
        bounds = created if field == "created" else updated
        if op in (">", ">="):
            bounds[0] = max(bounds[0], point + (1 if op == ">" else 0))
        elif op in ("<", "<="):
            bounds[1] = min(bounds[1], point - (1 if op == "<" else 0))
        else:
            bounds[0], bounds[1] = max(bounds[0], point), min(bounds[1], point + 86_399)
    return _Query(
        frozenset(statuses),
        (created[0], created[1]),
        (updated[0], updated[1]),
        tuple(words),
        " ".join(text.split()),
    )


class ZendeskEmulator(TicketEmulator):
    """One Zendesk account with an API-token agent, users, groups, tickets and comments."""

    kind: ClassVar[str] = "zendesk"

    def __init__(
        self,
        *,
        email: str = "desk@acme.example",
        api_token: str = "demo-token",
        agent_name: str = "Desk Agent",
        export_requests_per_minute: int | None = None,
        search_export_requests_per_minute: int | None = None,
        first_ticket_id: int = 4201,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = MAX_PER_PAGE,
        latency: float = 0.0,
        account_rate_limit: int = ACCOUNT_RATE_LIMIT,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.account_rate_limit = account_rate_limit
        """Requests a minute the account allows (``X-Rate-Limit``); past it, 429."""
        self.email = email
        self.api_token = api_token
        self.export_requests_per_minute = export_requests_per_minute
        """When set, incremental export requests beyond this many a minute get 429."""
        self.search_export_requests_per_minute = search_export_requests_per_minute
        """When set, search export requests beyond this many a minute get 429 (Zendesk: 100)."""
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(4678475376118, 7919)
        self._comment_ids = itertools.count(39016700000001, 13)
        self._audit_ids = itertools.count(39016800000001, 17)
        self._attachment_ids = itertools.count(26915300000001, 11)
        self._tickets: dict[int, dict[str, Any]] = {}
        self._times: dict[int, tuple[int, int]] = {}
        """Per ticket: ``(created, updated)`` as Unix seconds (the indexes' keys)."""
        self._slas: dict[int, list[dict[str, Any]]] = {}
        """Per ticket: ``metric``, ``stage`` and ``breach_at`` (a datetime or ``None``)."""
        self._ids_by_ref: dict[str, int] = {}
        self._by_external_id: dict[str, list[int]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._user_by_name: dict[str, int] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._group_by_name: dict[str, int] = {}
        self.examined = 0
        """Index entries and tickets looked at to answer lists, searches and counts so far:
        an indexed page costs its own rows, a snapshot its candidates (tests check this
        work, not the time)."""
        self._export_index: list[tuple[int, int]] = []
        """``(generated_timestamp, id)`` of every ticket, sorted: the cursor export's order."""
        self._unsolved_index: list[tuple[int, int]] = []
        """``(-created, id)`` of every unsolved ticket, sorted: search export order."""
        self._solved_index: list[tuple[int, int]] = []
        """``(updated, id)`` of every solved or closed ticket, sorted."""
        self._comments: dict[int, list[dict[str, Any]]] = {}
        self._entry_refs: dict[tuple[int, str], dict[str, Any]] = {}
        self._events: list[tuple[int, int, dict[str, Any]]] = []
        """``(timestamp, audit id, event)``, sorted: the event export's order."""
        self._sessions: OrderedDict[str, tuple[float, list[int]]] = OrderedDict()
        self._served_stamp = 0
        """The newest ``generated_timestamp`` inside any cursor handed out."""
        self._served_events = 0
        """The newest ``start_time``/``end_time`` of the event export handed out."""
        self._last_audit: dict[str, Any] = {}
        self._minute = 0
        self._used = 0
        """Requests counted in the current clock minute (the account limit's window)."""
        self._recent_exports: deque[float] = deque()
        self._recent_searches: deque[float] = deque()
        self.agent_id = self._user_named(agent_name, role="agent", email=email)

    def __enter__(self) -> ZendeskEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`ZendeskConnector` needs to reach this account.

        ``export_requests_per_minute`` tells the connector this account's export
        limit (none by default here, so demo polls every few seconds are not paced).
        """
        return {
            "kind": "zendesk",
            "email": self.email,
            "api_token": self.api_token,
            "export_requests_per_minute": self.export_requests_per_minute or 1000,
        }

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``."""
        with self.lock:
            ticket_id = self._ids_by_ref.get(ticket.ref)
            before = self._tickets.get(ticket_id) if ticket_id is not None else None
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            else:
                self._unindex(ticket_id)
            row = self._row(ticket_id, ticket)
            if before is not None:
                row["external_id"] = before["external_id"]
            self._tickets[ticket_id] = row
            self._times[ticket_id] = (
                int(ticket.created_at.timestamp()),
                int(ticket.updated_at.timestamp()),
            )
            self._slas[ticket_id] = _policy_metrics(ticket, running=row["status"] in _RUNNING)
            self._changed(ticket_id, before, created=before is None)
            return f"#{ticket_id}"

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Load many tickets at once (benches): one index rebuild, no creation audits."""
        keys: list[str] = []
        with self.lock:
            floor = self._served_stamp + 1
            for ticket in tickets:
                ticket_id = self._ids_by_ref.get(ticket.ref)
                if ticket_id is None:
                    ticket_id = next(self._ticket_ids)
                    self._ids_by_ref[ticket.ref] = ticket_id
                row = self._row(ticket_id, ticket)
                row["generated_timestamp"] = max(int(ticket.updated_at.timestamp()), floor)
                self._tickets[ticket_id] = row
                self._times[ticket_id] = (
                    int(ticket.created_at.timestamp()),
                    int(ticket.updated_at.timestamp()),
                )
                self._slas[ticket_id] = _policy_metrics(ticket, running=row["status"] in _RUNNING)
                keys.append(f"#{ticket_id}")
            self._rebuild_indexes()
        return keys

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a comment; return its Zendesk comment id."""
        with self.lock:
            ticket_id = self._ids_by_ref[ticket_ref]
            system = entry.visibility == "system"
            author = SYSTEM_USER if system else self._user_named(entry.author)
            existing = self._entry_refs.get((ticket_id, entry.ref))
            comment = self._comment(
                ticket_id,
                author_id=author,
                text=entry.text,
                html_body=entry.html,
                public=entry.visibility == "public",
                at=entry.at,
                attachments=[
                    {"file_name": a.name, "size": a.size, "content_type": a.content_type}
                    for a in entry.attachments
                ],
                system=system,
                replace=existing,
            )
            self._entry_refs[(ticket_id, entry.ref)] = comment
            return str(comment["id"])

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. ``status="hold"``), as an agent in Zendesk can."""
        with self.lock:
            ticket_id = self._ids_by_ref[ref]
            row = self._tickets[ticket_id]
            settable = (set(row) | {"slas"}) - {"id", "generated_timestamp"}
            if not set(fields) <= settable:
                raise KeyError(f"cannot set {sorted(set(fields) - settable)}")
            if "status" in fields and fields["status"] not in NATIVE_STATUSES:
                raise ValueError(f"status must be one of {sorted(NATIVE_STATUSES)}")
            priority = fields.get("priority")
            if priority is not None and priority not in NATIVE_PRIORITIES:
                raise ValueError(f"priority must be null or one of {sorted(NATIVE_PRIORITIES)}")
            before = dict(row)
            self._unindex(ticket_id)
            if "slas" in fields:
                self._slas[ticket_id] = list(fields.pop("slas"))
            row.update(fields)
            self._touch(ticket_id)
            self._changed(ticket_id, before)

    def delete_ticket(self, ref: str) -> None:
        """Delete a ticket: the export goes on reporting it, with status ``deleted``."""
        self.set_native(ref, status="deleted")

    def ticket_id(self, ref: str) -> int:
        """The native id of the ticket put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as ``GET /api/v2/tickets/{id}.json`` shows it (with its ``slas``)."""
        with self.lock:
            return self._ticket_view(self._ids_by_ref[ref], with_slas=True)

    def comments_of(self, ref: str) -> list[dict[str, Any]]:
        """The comments of the ticket put under ``ref``, as the comments API shows them."""
        with self.lock:
            return [_comment_view(c) for c in self._comments.get(self._ids_by_ref[ref], [])]

    # -- wire format ---------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer, counting the request against the account's limit for the current minute.

        Every answer carries ``X-Rate-Limit``/``X-Rate-Limit-Remaining`` and the
        ``ratelimit-limit``/``-remaining``/``-reset`` trio Zendesk adds to Ticketing
        API answers; past the limit, 429 with ``Retry-After`` until the minute ends.
        """
        now = self.clock().timestamp()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        self._used += 1
        limit = self.account_rate_limit
        reset = max(math.ceil((minute + 1) * 60 - now), 1)
        if self._used > limit:
            reply = Reply(
                429,
                {"error": "APIRateLimitExceeded", "description": "Rate limit for API exceeded"},
                headers={"Retry-After": str(reset)},
            )
        else:
            reply = self._answer(request, now)
        remaining = str(max(limit - self._used, 0))
        reply.headers.setdefault("X-Rate-Limit", str(limit))
        reply.headers.setdefault("X-Rate-Limit-Remaining", remaining)
        reply.headers.setdefault("ratelimit-limit", str(limit))
        reply.headers.setdefault("ratelimit-remaining", remaining)
        reply.headers.setdefault("ratelimit-reset", str(reset))
        return reply

    def _answer(self, request: Request, now: float) -> Reply:
        if not self._authorised(request.headers.get("authorization")):
            return Reply(
                401,
                {"error": "Couldn't authenticate you"},
                headers={"WWW-Authenticate": 'Basic realm="Web Password"'},
            )
        path = request.path.rstrip("/")
        if path.endswith(".json"):
            bare = path.removesuffix(".json")
        else:
            bare, path = path, f"{path}.json"
        if request.method in ("PUT", "POST"):
            return self._write(request, path)
        if request.method not in ("GET", "HEAD"):
            return _NOT_FOUND
        handlers: dict[str, Callable[[Request, float], Reply]] = {
            EXPORT_PATH: self._export,
            EVENTS_PATH: self._ticket_events,
            SEARCH_EXPORT_PATH: self._search_export,
            SEARCH_COUNT_PATH: self._search_count,
            SHOW_MANY_PATH: self._show_many,
            USERS_SHOW_MANY_PATH: self._users_show_many,
            TICKETS_PATH: self._list_tickets,
            ME_PATH: lambda _r, _n: Reply(200, {"user": self._user_view(self.agent_id)}),
        }
        handler = handlers.get(path)
        if handler is not None:
            return handler(request, now)
        match = _COMMENTS_PATH.match(bare)
        if match is not None:
            return self._list_comments(request, int(match["id"]))
        match = _TICKET_PATH.match(bare)
        if match is not None:
            ticket_id = int(match["id"])
            if not self._visible(ticket_id):
                return _error(404, "RecordNotFound", "Not found")
            return Reply(200, {"ticket": self._ticket_view(ticket_id, with_slas=False)})
        return _NOT_FOUND

    # -- reads ---------------------------------------------------------------------

    def _list_tickets(self, request: Request, _now: float) -> Reply:
        wanted = request.param("external_id")
        ids = (
            sorted(self._by_external_id.get(wanted, []))
            if wanted is not None
            else sorted(self._tickets)[:100]
        )
        rows = [self._ticket_view(tid, with_slas=False) for tid in ids if self._visible(tid)]
        return Reply(
            200, {"tickets": rows, "next_page": None, "previous_page": None, "count": len(rows)}
        )

    def _show_many(self, request: Request, _now: float) -> Reply:
        ids = _id_list(request.param("ids"))
        if ids is None:
            return _error(400, "InvalidValue", "ids must be a comma-separated list of ticket ids")
        if len(ids) > MAX_SHOW_MANY:
            return _error(400, "InvalidValue", f"Too many ids (at most {MAX_SHOW_MANY})")
        includes = _includes(request)
        found = [tid for tid in dict.fromkeys(ids) if self._visible(tid)]
        body: dict[str, Any] = {
            "tickets": [self._ticket_view(tid, with_slas="slas" in includes) for tid in found],
            "next_page": None,
            "previous_page": None,
            "count": len(found),
        }
        self._sideload(body, [self._tickets[t] for t in found], includes)
        return Reply(200, body)

    def _users_show_many(self, request: Request, _now: float) -> Reply:
        ids = _id_list(request.param("ids"))
        if ids is None:
            return _error(400, "InvalidValue", "ids must be a comma-separated list of user ids")
        if len(ids) > MAX_SHOW_MANY:
            return _error(400, "InvalidValue", f"Too many ids (at most {MAX_SHOW_MANY})")
        users = [self._user_view(uid) for uid in dict.fromkeys(ids) if uid in self._users]
        return Reply(
            200, {"users": users, "next_page": None, "previous_page": None, "count": len(users)}
        )

    def _export(self, request: Request, now: float) -> Reply:
        limited = self._limited(self._recent_exports, self.export_requests_per_minute, now)
        if limited is not None:
            return limited
        per_page_text = request.param("per_page")
        per_page = self.page_size
        if per_page_text is not None:
            if not per_page_text.isdigit() or int(per_page_text) < 1:
                return _error(400, "InvalidValue", "per_page must be a positive integer")
            per_page = int(per_page_text)
        per_page = min(per_page, MAX_PER_PAGE)
        cursor = request.param("cursor")
        if cursor is not None:
            position = decode_cursor(cursor)
            if position is None:
                return _error(400, "InvalidPaginationParameter", "Invalid cursor")
        else:
            start = _start_time(request, now, MIN_START_AGE)
            if isinstance(start, Reply):
                return start
            position = (start, -1)
        return Reply(200, self._export_page(position, per_page, _includes(request)))

    def _export_page(
        self, position: tuple[int, int], per_page: int, includes: set[str]
    ) -> dict[str, Any]:
        index = self._export_index
        at = bisect_right(index, position)
        page = index[at : at + per_page]
        self.examined += len(page)
        after = page[-1] if page else position
        self._served_stamp = max(self._served_stamp, after[0])
        after_cursor = encode_cursor(*after)
        before_cursor = encode_cursor(*page[0]) if page else None
        body: dict[str, Any] = {
            "tickets": [
                self._ticket_view(tid, with_slas="slas" in includes, export=True) for _, tid in page
            ],
            "after_url": self._url(EXPORT_PATH, after_cursor, per_page, includes),
            "after_cursor": after_cursor,
            "before_url": (
                self._url(EXPORT_PATH, before_cursor, per_page, includes) if before_cursor else None
            ),
            "before_cursor": before_cursor,
            "end_of_stream": at + per_page >= len(index),
        }
        self._sideload(body, [self._tickets[tid] for _, tid in page], includes)
        return body

    def _ticket_events(self, request: Request, now: float) -> Reply:
        limited = self._limited(self._recent_exports, self.export_requests_per_minute, now)
        if limited is not None:
            return limited
        start = _start_time(request, now, 0)
        if isinstance(start, Reply):
            return start
        with_comments = "comment_events" in _includes(request)
        at = bisect_left(self._events, (start,))
        page = self._events[at : at + EVENTS_PER_PAGE]
        end_time = page[-1][0] if page else None
        self._served_events = max(self._served_events, min(start, int(now)), end_time or 0)
        next_page = None
        if end_time is not None:
            query = {
                "start_time": end_time,
                **({"include": "comment_events"} if with_comments else {}),
            }
            next_page = f"{self.base_url}{EVENTS_PATH}?{urlencode(query)}"
        body = {
            "ticket_events": [_event_view(event, with_comments) for _, _, event in page],
            "next_page": next_page,
            "count": len(page),
            "end_of_stream": len(page) < EVENTS_PER_PAGE,
            "end_time": end_time,
        }
        return Reply(200, body)

    def _search_count(self, request: Request, _now: float) -> Reply:
        text = request.param("query")
        if not text:
            return _error(400, "invalid", "query is required")
        words = [w for w in text.split() if w.lower() != "type:ticket"]
        query = _parse_query(" ".join(words))
        if isinstance(query, str):
            return _error(400, "invalid", query)
        return Reply(200, {"count": self._count(query)})

    def _search_export(self, request: Request, now: float) -> Reply:
        limited = self._limited(self._recent_searches, self.search_export_requests_per_minute, now)
        if limited is not None:
            return limited
        if request.param("filter[type]") != "ticket":
            return _error(400, "invalid", "filter[type] is required (this account: ticket)")
        size_text = request.param("page[size]") or "100"
        if not size_text.isdigit() or int(size_text) < 1:
            return _error(400, "invalid", "page[size] must be a positive integer")
        size = min(int(size_text), MAX_PER_PAGE)
        query = _parse_query(request.param("query") or "")
        if isinstance(query, str):
            return _error(400, "invalid", query)
        after_text = request.param("page[after]")
        state: dict[str, Any] = {"q": query.text, "t": now}
        if after_text:
            state_in = _unb64(after_text)
            if state_in is None or state_in.get("q") != query.text:
                return _error(400, "invalid", "page[after] is not a cursor of this query")
            if now - float(state_in.get("t", 0)) > SEARCH_CURSOR_LIFE:
                return _error(400, "invalid", "page[after] cursor has expired")
            state = {**state_in, "t": now}  # each cursor lives an hour from its own page
        rows, state = self._search_page(query, state, size)
        more = state.get("more", False)
        after = _b64({k: v for k, v in state.items() if k != "more"}) if more else None
        results = [
            {**self._ticket_view(tid, with_slas=False), "result_type": "ticket"} for tid in rows
        ]
        next_link = None
        if after is not None:
            query_args = {
                "query": query.text,
                "filter[type]": "ticket",
                "page[size]": size,
                "page[after]": after,
            }
            next_link = f"{self.base_url}{SEARCH_EXPORT_PATH}?{urlencode(query_args)}"
        body = {
            "results": results,
            "facets": None,
            "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
            "links": {"next": next_link, "prev": None},
        }
        return Reply(200, body)

    def _search_page(
        self, query: _Query, state: dict[str, Any], size: int
    ) -> tuple[list[int], dict[str, Any]]:
        """One page in (created desc, id asc) order, and the state its cursor carries."""
        if self._live(query):
            index = self._unsolved_index
            if "c" in state:
                at = bisect_right(index, (state["c"], state["i"]))
            else:
                at = bisect_left(index, (-int(min(query.created[1], 2**62)), -1))
            page: list[int] = []
            while at < len(index) and len(page) < size:
                neg_created, tid = index[at]
                at += 1
                self.examined += 1
                if -neg_created < query.created[0]:
                    at = len(index)
                    break
                page.append(tid)
            moved = dict(state)
            if page:
                moved["c"], moved["i"] = -self._times[page[-1]][0], page[-1]
            moved["more"] = at < len(index) and -index[at][0] >= query.created[0]
            return page, moved
        session = state.get("s")
        snapshot = self._sessions.get(session) if isinstance(session, str) else None
        if snapshot is None:
            ids = self._search_ids(query)
            ids.sort(key=lambda tid: (-self._times[tid][0], tid))
            session = f"s{next(self._audit_ids)}"
            self._sessions[session] = (state["t"], ids)
            while len(self._sessions) > SEARCH_SESSIONS:
                self._sessions.popitem(last=False)
            offset = 0
        else:
            ids, offset = snapshot[1], int(state.get("o", 0))
        self.examined += len(ids[offset : offset + size])
        page = [tid for tid in ids[offset : offset + size] if self._visible(tid)]
        moved = {**state, "s": session, "o": offset + size, "more": offset + size < len(ids)}
        return page, moved

    def _live(self, query: _Query) -> bool:
        """Pages of this query come straight off the unsolved index (no snapshot needed)."""
        return (
            query.statuses == UNSOLVED
            and query.updated == (-math.inf, math.inf)
            and not query.words
        )

    def _count(self, query: _Query) -> int:
        """How many tickets match: two bisects for the indexed shapes, else a count of matches."""
        if self._live(query):
            index = self._unsolved_index
            low = bisect_left(index, (-int(min(query.created[1], 2**62)), -1))
            high = bisect_right(index, (-int(max(query.created[0], -(2**62))), 2**62))
            return max(high - low, 0)
        if (
            query.statuses == SOLVED
            and query.created == (-math.inf, math.inf)
            and query.updated[1] == math.inf
            and not query.words
        ):
            return len(self._solved_index) - bisect_left(
                self._solved_index, (int(query.updated[0]), -1)
            )
        return len(self._search_ids(query))

    def _search_ids(self, query: _Query) -> list[int]:
        """Every ticket the query matches (for counts and snapshots)."""
        if self._live(query):
            low = bisect_left(self._unsolved_index, (-int(min(query.created[1], 2**62)), -1))
            self.examined += len(self._unsolved_index) - low
            return [tid for neg, tid in self._unsolved_index[low:] if -neg >= query.created[0]]
        if query.statuses <= SOLVED and query.updated[0] > -math.inf:
            low = bisect_left(self._solved_index, (int(query.updated[0]), -1))
            candidates: list[int] = [tid for _, tid in self._solved_index[low:]]
        else:
            candidates = list(self._tickets)
        self.examined += len(candidates)
        return [tid for tid in candidates if query.matches(self._tickets[tid], *self._times[tid])]

    def _list_comments(self, request: Request, ticket_id: int) -> Reply:
        if not self._visible(ticket_id):
            return _error(404, "RecordNotFound", "Not found")
        comments = self._comments.get(ticket_id, [])
        if request.param("sort") == "-created_at" or request.param("sort_order") == "desc":
            comments = comments[::-1]
        size_text = request.param("page[size]")
        if size_text is None:  # offset pagination, the older form
            views = [_comment_view(c) for c in comments[:100]]
            body: dict[str, Any] = {
                "comments": views,
                "next_page": None,
                "previous_page": None,
                "count": len(comments),
            }
        else:
            if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_COMMENTS_PAGE:
                return _error(400, "InvalidPaginationParameter", "page[size] is 1 to 100")
            size = int(size_text)
            after = request.param("page[after]")
            offset = 0
            if after:
                state = _unb64(after)
                if state is None or state.get("ticket") != ticket_id:
                    return _error(400, "InvalidPaginationParameter", "Invalid cursor")
                offset = int(state.get("o", 0))
            page = comments[offset : offset + size]
            more = offset + size < len(comments)
            after_cursor = _b64({"ticket": ticket_id, "o": offset + size}) if more else None
            views = [_comment_view(c) for c in page]
            link = None
            if after_cursor:
                args = {"page[size]": size, "page[after]": after_cursor}
                link = f"{self.base_url}/api/v2/tickets/{ticket_id}/comments.json?{urlencode(args)}"
            body = {
                "comments": views,
                "meta": {"has_more": more, "after_cursor": after_cursor, "before_cursor": None},
                "links": {"next": link, "prev": None},
            }
        if "users" in _includes(request):
            authors = dict.fromkeys(c["author_id"] for c in views if c["author_id"] in self._users)
            body["users"] = [self._user_view(uid) for uid in authors]
        return Reply(200, body)

    # -- writes --------------------------------------------------------------------

    def _write(self, request: Request, path: str) -> Reply:
        """Ticket update (``PUT /tickets/{id}.json``) and create (``POST /tickets.json``)."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, "InvalidJSON", "The request body is not valid JSON")
        change = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(change, dict):
            return _error(400, "InvalidValue", "ticket parameter required")
        if request.method == "POST" and path == TICKETS_PATH:
            return self._create(change)
        match = _TICKET_PATH.match(path.removesuffix(".json"))
        if request.method != "PUT" or match is None:
            return _NOT_FOUND
        ticket_id = int(match["id"])
        if not self._visible(ticket_id):
            return _error(404, "RecordNotFound", "Not found")
        row = self._tickets[ticket_id]
        before = dict(row)
        invalid = self._check(row, change)
        if invalid is not None:
            return invalid
        self._unindex(ticket_id)
        comment = self._apply(row, change)
        self._touch(ticket_id)
        self._changed(ticket_id, before, comment=comment)
        return Reply(200, {"ticket": self._ticket_view(ticket_id, with_slas=False)})

    def _check(self, row: dict[str, Any], change: dict[str, Any]) -> Reply | None:
        """The 422 naming the first field of an update Zendesk would refuse, if any."""
        status = change.get("status")
        if status is not None and status not in NATIVE_STATUSES - {"deleted"}:
            return _invalid("status", f"{status} is not a valid status")
        priority = change.get("priority")
        if priority is not None and priority not in NATIVE_PRIORITIES:
            return _invalid("priority", f"{str(priority)[:40]} is not a valid priority")
        if row["status"] == "closed":
            return _invalid("status", "closed prevents ticket update")
        assignee = self._assignee(change)
        if assignee is not None and self._users.get(assignee, {}).get("role") not in (
            "agent",
            "admin",
        ):
            return _invalid("assignee", "is not an agent of this account")
        comment = change.get("comment")
        if comment is not None:
            text = comment.get("body") if isinstance(comment, dict) else None
            if not isinstance(text, str) or not text.strip():
                return _invalid("comment", "body cannot be blank")
        return None

    def _apply(self, row: dict[str, Any], change: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a checked update; return the comment it added, if any."""
        added = None
        comment = change.get("comment")
        if isinstance(comment, dict):
            public = comment.get("public", True) is not False
            self.record_comment(row["id"], comment["body"], public=public)
            added = self._comment_row(
                row["id"],
                author_id=self.agent_id,
                text=comment["body"],
                html_body=None,
                public=public,
                at=self.clock(),
                attachments=[],
                system=False,
            )
        status = change.get("status")
        if status is not None:
            row["status"] = status
            if status in SOLVED:
                for metric in self._slas.get(row["id"], []):
                    metric.update(stage="achieved", breach_at=None)
        assignee = self._assignee(change)
        if assignee is not None:
            row["assignee_id"] = assignee
        if "priority" in change:  # checked: one of the four, or null to clear it
            row["priority"] = change["priority"]
        if change.get("group_id") is not None:
            row["group_id"] = change["group_id"]
        return added

    def _assignee(self, change: dict[str, Any]) -> int | None:
        email = change.get("assignee_email")
        if email is not None:
            return next((u["id"] for u in self._users.values() if u["email"] == email), -1)
        assignee = change.get("assignee_id")
        return assignee if isinstance(assignee, int) else None

    def _create(self, change: dict[str, Any]) -> Reply:
        subject = change.get("subject")
        comment = change.get("comment")
        description = comment.get("body") if isinstance(comment, dict) else None
        if not isinstance(description, str) or not description.strip():
            return _invalid("description", "cannot be blank")
        requester = change.get("requester")
        name = "Desk Agent"
        if isinstance(requester, dict):
            name = str(requester.get("name") or requester.get("email") or name)
        now = self.clock()
        priority = change.get("priority")
        world = WorldTicket(
            ref=f"api-{len(self.created) + 1}-{now.timestamp()}",
            title=str(subject or description.splitlines()[0]),
            status=TicketStatus.NEW,
            priority=None,
            created_at=now,
            updated_at=now,
            requester=name,
            description=description,
        )
        key = self.put_ticket(world)
        ticket_id = int(key.removeprefix("#"))
        row = self._tickets[ticket_id]
        external_id = change.get("external_id")
        row["external_id"] = external_id
        if isinstance(external_id, str):
            self._by_external_id.setdefault(external_id, []).append(ticket_id)
        row["priority"] = priority if priority in NATIVE_PRIORITIES else None
        row["tags"] = [str(t) for t in change.get("tags") or []]
        first = self._comment_row(
            ticket_id,
            author_id=row["requester_id"] or self.agent_id,
            text=description,
            html_body=None,
            public=comment.get("public", True) is not False if isinstance(comment, dict) else True,
            at=now,
            attachments=[],
            system=False,
        )
        creation = self._last_audit  # the audit put_ticket just wrote carries the comment
        first["audit_id"] = creation["id"]
        creation["child_events"].append(first)
        self.created.append(str(ticket_id))
        return Reply(201, {"ticket": self._ticket_view(ticket_id, with_slas=False)})

    # -- internals -----------------------------------------------------------------

    def _row(self, ticket_id: int, ticket: WorldTicket) -> dict[str, Any]:
        """The native ticket (exactly the capture's keys, plus ``generated_timestamp``)."""
        requester = self._user_named(ticket.requester) if ticket.requester else None
        assignee = self._user_named(ticket.assignee, role="agent") if ticket.assignee else None
        group = self._group_named(ticket.group) if ticket.group else None
        return {
            "id": ticket_id,
            "external_id": None,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": _stamp(ticket.created_at),
            "updated_at": _stamp(ticket.updated_at),
            "type": "incident",
            "subject": ticket.title,
            "raw_subject": ticket.title,
            "description": ticket.description,
            "priority": _PRIORITY_OUT[ticket.priority] if ticket.priority else None,
            "status": _STATUS_OUT[ticket.status],
            "recipient": None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": assignee,
            "organization_id": None,
            "group_id": group,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": [_tag(ticket.asset)] if ticket.asset else [],
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": 5589325233878,
            "brand_id": 4678483693579,
            "allow_channelback": False,
            "allow_attachments": True,
            "generated_timestamp": 0,
        }

    def _touch(self, ticket_id: int) -> None:
        """An agent's change: ``updated_at`` becomes now."""
        now = self.clock()
        self._tickets[ticket_id]["updated_at"] = _stamp(now)
        created, _ = self._times[ticket_id]
        self._times[ticket_id] = (created, int(now.timestamp()))

    def _changed(
        self,
        ticket_id: int,
        before: dict[str, Any] | None,
        *,
        created: bool = False,
        comment: dict[str, Any] | None = None,
    ) -> None:
        """Bump the ticket for the export, put it back in the indexes, write its audit."""
        row = self._tickets[ticket_id]
        # Changed "at" its updated_at, but never at or before a position already handed out.
        row["generated_timestamp"] = max(self._times[ticket_id][1], self._served_stamp + 1)
        self._index(ticket_id)
        children: list[dict[str, Any]] = []
        if created:
            children.append(
                {
                    "id": next(self._audit_ids),
                    "event_type": "Create",
                    "field_name": "status",
                    "value": row["status"],
                }
            )
        elif before is not None and before.get("status") != row["status"]:
            children.append(
                {
                    "id": next(self._audit_ids),
                    "event_type": "Change",
                    "field_name": "status",
                    "value": row["status"],
                    "previous_value": before.get("status"),
                }
            )
        if before is not None and not created and before.get("priority") != row["priority"]:
            children.append(
                {
                    "id": next(self._audit_ids),
                    "event_type": "Change",
                    "field_name": "priority",
                    "value": row["priority"],
                    "previous_value": before.get("priority"),
                }
            )
        if comment is not None:
            children.append(comment)
        self._audit(ticket_id, children, updater=self.agent_id)

    def _audit(self, ticket_id: int, children: list[dict[str, Any]], *, updater: int) -> None:
        """Add one ``Audit`` to the event stream, never before a ``start_time`` already served."""
        when = max(self._times[ticket_id][1], self._served_events)
        audit_id = next(self._audit_ids)
        event = {
            "id": audit_id,
            "ticket_id": ticket_id,
            "timestamp": when,
            "created_at": _stamp(datetime.fromtimestamp(when, UTC)),
            "updater_id": updater,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "system": {"client": "paneglass-emulator", "location": None},
            "event_type": "Audit",
            "merged_ticket_ids": [],
            "child_events": children,
        }
        for child in children:
            if child.get("event_type") == "Comment":
                child["audit_id"] = audit_id
        insort(self._events, (when, audit_id, event))
        self._last_audit = event

    def _comment(
        self,
        ticket_id: int,
        *,
        author_id: int,
        text: str,
        html_body: str | None,
        public: bool,
        at: datetime,
        attachments: list[dict[str, Any]],
        system: bool,
        replace: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Add or rewrite a comment; the ticket changes and the stream gets an audit."""
        row = self._tickets[ticket_id]
        before = dict(row)
        self._unindex(ticket_id)
        if replace is None:
            comment = self._comment_row(
                ticket_id,
                author_id=author_id,
                text=text,
                html_body=html_body,
                public=public,
                at=at,
                attachments=attachments,
                system=system,
            )
        else:
            comment = replace
            comment.update(
                self._comment_fields(text, html_body, public, attachments, system, author_id)
            )
        stamp = max(_seconds(row["updated_at"]), int(at.timestamp()))
        row["updated_at"] = _stamp(datetime.fromtimestamp(stamp, UTC))
        created, _ = self._times[ticket_id]
        self._times[ticket_id] = (created, stamp)
        self._changed(ticket_id, before, comment=comment)
        return comment

    def _comment_row(
        self,
        ticket_id: int,
        *,
        author_id: int,
        text: str,
        html_body: str | None,
        public: bool,
        at: datetime,
        attachments: list[dict[str, Any]],
        system: bool,
    ) -> dict[str, Any]:
        comment: dict[str, Any] = {
            "id": next(self._comment_ids),
            "type": "Comment",
            "event_type": "Comment",
            "created_at": _stamp(at),
            "audit_id": None,
            "metadata": {"system": {"client": "paneglass-emulator"}, "custom": {}},
            **self._comment_fields(text, html_body, public, attachments, system, author_id),
        }
        self._comments.setdefault(ticket_id, []).append(comment)
        return comment

    def _comment_fields(
        self,
        text: str,
        html_body: str | None,
        public: bool,
        attachments: list[dict[str, Any]],
        system: bool,
        author_id: int,
    ) -> dict[str, Any]:
        if html_body is None:
            paragraphs = "".join(
                f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")
            )
            html_body = f'<div class="zd-comment" dir="auto">{paragraphs}</div>'
        channel = "rule" if system else "web"
        return {
            "author_id": author_id,
            "body": text,
            "html_body": html_body,
            "plain_body": text,
            "public": public,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "attachments": [self._attachment(a) for a in attachments],
        }

    def _attachment(self, meta: dict[str, Any]) -> dict[str, Any]:
        attachment_id = next(self._attachment_ids)
        token = base64.urlsafe_b64encode(str(attachment_id).encode()).decode().rstrip("=")
        name = str(meta["file_name"])
        return {
            "id": attachment_id,
            "url": f"{self.base_url}/api/v2/attachments/{attachment_id}.json",
            "file_name": name,
            "content_url": f"{self.base_url}/attachments/token/{token}/?name={name}",
            "mapped_content_url": f"{self.base_url}/attachments/token/{token}/?name={name}",
            "content_type": meta["content_type"],
            "size": meta["size"],
            "width": None,
            "height": None,
            "inline": False,
            "deleted": False,
            "malware_access_override": False,
            "malware_scan_result": "malware_not_found",
            "thumbnails": [],
        }

    def _index(self, ticket_id: int) -> None:
        row = self._tickets[ticket_id]
        created, updated = self._times[ticket_id]
        insort(self._export_index, (row["generated_timestamp"], ticket_id))
        if row["status"] in UNSOLVED:
            insort(self._unsolved_index, (-created, ticket_id))
        elif row["status"] in SOLVED:
            insort(self._solved_index, (updated, ticket_id))

    def _unindex(self, ticket_id: int) -> None:
        row = self._tickets[ticket_id]
        created, updated = self._times[ticket_id]
        _remove(self._export_index, (row["generated_timestamp"], ticket_id))
        if row["status"] in UNSOLVED:
            _remove(self._unsolved_index, (-created, ticket_id))
        elif row["status"] in SOLVED:
            _remove(self._solved_index, (updated, ticket_id))

    def _rebuild_indexes(self) -> None:
        times, rows = self._times, self._tickets
        self._export_index = sorted((r["generated_timestamp"], tid) for tid, r in rows.items())
        self._unsolved_index = sorted(
            (-times[tid][0], tid) for tid, r in rows.items() if r["status"] in UNSOLVED
        )
        self._solved_index = sorted(
            (times[tid][1], tid) for tid, r in rows.items() if r["status"] in SOLVED
        )

    def _visible(self, ticket_id: int) -> bool:
        row = self._tickets.get(ticket_id)
        return row is not None and row["status"] != "deleted"

    def _limited(self, recent: deque[float], limit: int | None, now: float) -> Reply | None:
        """An endpoint's own per-minute limit (incremental exports: 10; search export: 100)."""
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if limit is not None and len(recent) >= limit:
            wait = max(math.ceil(recent[0] + 60 - now), 1)
            return Reply(
                429,
                {
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed incremental export API requests "
                    "per minute exceeded",
                },
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)
        return None

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.email}/token:{self.api_token}"

    def _user_named(self, name: str, *, role: str = "end-user", email: str | None = None) -> int:
        user_id = self._user_by_name.get(name)
        if user_id is not None:
            row = self._users[user_id]
            if role != "end-user" and row["role"] == "end-user":
                row["role"] = role
            return user_id
        user_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or f"user{user_id}"
        self._users[user_id] = {
            "id": user_id,
            "name": name,
            "email": email or f"{local}@acme.example",
            "created_at": stamp,
            "updated_at": stamp,
            "time_zone": "Copenhagen",
            "iana_time_zone": "Europe/Copenhagen",
            "phone": None,
            "locale": "en-US",
            "organization_id": None,
            "role": role,
            "verified": True,
            "active": True,
            "suspended": False,
        }
        self._user_by_name[name] = user_id
        return user_id

    def _group_named(self, name: str) -> int:
        group_id = self._group_by_name.get(name)
        if group_id is not None:
            return group_id
        group_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        self._groups[group_id] = {
            "id": group_id,
            "name": name,
            "description": "",
            "default": not self._groups,
            "deleted": False,
            "is_public": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._group_by_name[name] = group_id
        return group_id

    def _ticket_view(
        self, ticket_id: int, *, with_slas: bool, export: bool = False
    ) -> dict[str, Any]:
        row = self._tickets[ticket_id]
        view = {"url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json", **row}
        if not export:
            del view["generated_timestamp"]  # only the incremental export carries it
        if with_slas:
            now = self.clock()
            view["slas"] = {
                "policy_metrics": [_metric_view(m, now) for m in self._slas.get(ticket_id, [])]
            }
        return view

    def _sideload(
        self, body: dict[str, Any], rows: list[dict[str, Any]], includes: set[str]
    ) -> None:
        if "users" in includes:
            user_ids = dict.fromkeys(
                uid
                for row in rows
                for uid in (
                    row["requester_id"],
                    row["submitter_id"],
                    row["assignee_id"],
                    *row["collaborator_ids"],
                )
                if uid is not None
            )
            body["users"] = [self._user_view(uid) for uid in user_ids if uid in self._users]
        if "groups" in includes:
            group_ids = dict.fromkeys(
                row["group_id"] for row in rows if row["group_id"] is not None
            )
            body["groups"] = [
                {**self._groups[gid], "url": self._group_url(gid)} for gid in group_ids
            ]

    def _user_view(self, user_id: int) -> dict[str, Any]:
        return {"url": f"{self.base_url}/api/v2/users/{user_id}.json", **self._users[user_id]}

    def _group_url(self, group_id: int) -> str:
        return f"{self.base_url}/api/v2/groups/{group_id}.json"

    def _url(self, path: str, cursor: str, per_page: int, includes: set[str]) -> str:
        query: dict[str, Any] = {"cursor": cursor, "per_page": per_page}
        sideloads = ",".join(sorted(i for i in includes if i))
        if sideloads:
            query["include"] = sideloads
        return f"{self.base_url}{path}?{urlencode(query)}"


def _remove(index: list[tuple[int, int]], key: tuple[int, int]) -> None:
    at = bisect_left(index, key)
    if at < len(index) and index[at] == key:
        del index[at]


def _includes(request: Request) -> set[str]:
    return {part for part in (request.param("include") or "").split(",") if part}


def _id_list(text: str | None) -> list[int] | None:
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def _start_time(request: Request, now: float, min_age: int) -> int | Reply:
    text = request.param("start_time")
    if text is None:
        return _error(400, "InvalidValue", "start_time or cursor is required")
    if not text.lstrip("-").isdigit():
        return _error(400, "InvalidValue", "start_time must be an integer")
    start = int(text)
    if min_age and start > now - min_age:
        return _error(
            400, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute."
        )
    return start


def _comment_view(comment: dict[str, Any]) -> dict[str, Any]:
    """A comment as the comments API lists it."""
    return {key: value for key, value in comment.items() if key != "event_type"}


def _event_view(event: dict[str, Any], with_comments: bool) -> dict[str, Any]:
    children = []
    for child in event["child_events"]:
        if child.get("event_type") != "Comment":
            children.append(dict(child))
        elif with_comments:
            keep = (
                "id",
                "via",
                "type",
                "author_id",
                "body",
                "html_body",
                "public",
                "attachments",
                "audit_id",
                "created_at",
                "event_type",
            )
            children.append(
                {key: child[key] for key in keep if key in child} | {"via_reference_id": None}
            )
        else:
            children.append(
                {
                    "id": child["id"],
                    "event_type": "Comment",
                    "comment_present": True,
                    "comment_public": child["public"],
                }
            )
    return {**event, "child_events": children}


def _policy_metrics(ticket: WorldTicket, *, running: bool) -> list[dict[str, Any]]:
    """The SLA metrics Zendesk would attach for a world ticket's due time."""
    metrics: list[dict[str, Any]] = []
    if ticket.first_response_at is not None:
        metrics.append({"metric": "first_reply_time", "stage": "achieved", "breach_at": None})
    if ticket.due_at is not None:
        metrics.append(
            {
                "metric": "resolution_time",
                "stage": "active" if running else "achieved",
                "breach_at": ticket.due_at if running else None,
            }
        )
    return metrics


def _metric_view(metric: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One ``policy_metrics`` entry: ``breach_at`` plus the signed time left in one unit."""
    breach_at = metric.get("breach_at")
    view: dict[str, Any] = {
        "breach_at": _stamp(breach_at) if isinstance(breach_at, datetime) else breach_at,
        "stage": metric.get("stage"),
        "metric": metric.get("metric"),
    }
    if isinstance(breach_at, datetime):
        minutes = int((breach_at - now).total_seconds() // 60)
        if abs(minutes) >= 1440:
            view["days"] = int(minutes / 1440)
        elif abs(minutes) >= 60:
            view["hours"] = int(minutes / 60)
        else:
            view["minutes"] = minutes
    return view


def _tag(text: str) -> str:
    """Zendesk tags are lowercase words without spaces."""
    return re.sub(r"[^a-z0-9_\-]+", "_", text.lower()).strip("_") or "asset"


EMULATOR = ZendeskEmulator

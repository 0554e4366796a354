"""An Opsgenie account on loopback, speaking the Alert API v2 wire format.

Alerts are kept as Opsgenie keeps them (``vendor-apis.md`` §9 and the capture
``opsgenie-alerts.json``): an ``id`` that is a UUID plus an epoch-millisecond
suffix (``alias`` the same string), a numeric-string ``tinyId``, ``status``
``open``/``closed`` beside the ``acknowledged`` and ``snoozed`` flags, ``P1``..``P5``,
``""`` for an unset ``owner``/``ownerTeamId``, team responders by id only, and
``report.ackTime``/``closeTime`` as milliseconds since creation. Timestamps carry
a millisecond fraction with trailing zeros dropped (``…41.03Z``), as the capture shows.

``GET /v2/alerts`` list items carry exactly the capture's keys, plus
``report`` once there is something to report and ``snoozedUntil`` while
snoozed (Opsgenie's own list example shows both); ``entity``, ``description``
and ``details`` are only in ``GET /v2/alerts/{identifier}``, as at Opsgenie.
The list honours ``limit`` (≤ 100), ``offset``, ``sort``, ``order`` and a subset
of the search syntax: ``field: value`` terms and ``createdAt`` compared with
``<``, ``<=``, ``>``, ``>=`` (epoch milliseconds), joined by ``AND``, one level of
parentheses allowed; ``updatedAt`` is not searchable (Opsgenie's search help
lists no such field), so it is refused with 422. It answers with ``paging``
URLs on Opsgenie's public host, as the real API does. ``GET /v2/alerts/count``
counts the same queries.

``GET /v2/alerts/{identifier}/notes`` and ``/logs`` list an alert's notes and
log lines (``{note|log, type, owner, createdAt, offset}``), paged by the opaque
``offset`` (``<ms>_<ns>``) with ``direction`` and ``order`` (default ``desc``), up
to ``limit`` (default 20, ≤ 100), ``paging.next`` while more remain. Every
write and every state change ``put_ticket`` makes adds a ``system`` log line;
:meth:`OpsgenieEmulator.put_entry` adds a note (a public or internal world
entry: Opsgenie notes are for responders) or a ``system`` log line. The log
texts are ours.

Scale: alerts are compact rows; sorted lists keyed ``(createdAt, tinyId)`` and
``(updatedAt, tinyId)`` per status answer the connector's queries (status
with or without a ``createdAt`` bound, sorted by either time) by bisection and
a slice, so a page costs the same at 100 alerts and at 100,000; any other
query or sort filters and sorts per request. :meth:`OpsgenieEmulator.put_tickets`
loads many at once and sorts once.

Every answer carries ``X-RateLimit-State``; past ``requests_per_period`` requests
in a rolling ``rate_period`` the account answers 429 ``THROTTLED``. Error
bodies are Opsgenie's ``{"message", "took", "requestId"}``.

Writes (``vendor-apis.md`` §9.8) are asynchronous, as at Opsgenie: ``POST
/v2/alerts``, ``POST /v2/alerts/{identifier}/notes|acknowledge|close|assign``
and ``PUT /v2/alerts/{identifier}/priority`` (``{"priority": "P1"}``, Opsgenie's
OpenAPI ``updateAlertPriority``) answer 202 ``{"result": "Request will be
processed", "took", "requestId"}``, and
``GET /v2/alerts/requests/{requestId}`` then tells ``isSuccess``, ``status``,
``alertId`` and ``alias``; an unknown (or, with ``unprocessed_lookups``, a not yet
processed) request answers 404. The emulator carries a write out at once and
moves ``updatedAt``, so the next poll shows it; what fails (an alert or user
that does not exist) fails in the request status, as at Opsgenie. Only a
malformed body (no ``message`` or ``owner``, a note over 25,000 characters, an
unknown priority) is refused at once with 422. A create whose ``alias`` matches
an open alert adds to that alert's ``count`` instead of making a new one. The
texts of statuses and validation errors are ours.
"""

from __future__ import annotations

import bisect
import itertools
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import TicketStatus

__all__ = ["EMULATOR", "OpsgenieEmulator", "format_timestamp"]

ALERTS_PATH = "/v2/alerts"
COUNT_PATH = "/v2/alerts/count"
TEAMS_PATH = "/v2/teams"
PUBLIC_API = "https://api.opsgenie.com"
"""The host Opsgenie writes into ``paging`` links (a client must not depend on it)."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MESSAGE_LIMIT = 130
DEFAULT_SOURCE = "198.51.100.7"
"""Opsgenie's default ``source`` is the sender's IP address."""
INTEGRATION = {"id": "3cc69931-167f-411c-a331-768997c29d2e", "name": "API", "type": "API"}
SORT_FIELDS = frozenset({"createdAt", "updatedAt", "tinyId", "message", "status", "priority"})
QUERY_FIELDS = frozenset({"status", "priority", "acknowledged", "snoozed", "owner", "tinyId"})
_ALERT_PATH = re.compile(r"^/v2/alerts/(?P<identifier>[^/]+)$")
_ACTION_PATH = re.compile(
    r"^/v2/alerts/(?P<identifier>[^/]+)/(?P<action>notes|acknowledge|close|assign|priority)$"
)
_HISTORY_PATH = re.compile(r"^/v2/alerts/(?P<identifier>[^/]+)/(?P<kind>notes|logs)$")
_REQUEST_PATH = re.compile(r"^/v2/alerts/requests/(?P<request_id>[^/]+)$")
_TERM = re.compile(r"^(?P<name>[A-Za-z.]+)\s*(?P<op><=|>=|<|>|:)\s*(?P<value>.+)$")
NOTE_LIMIT = 25_000
ALIAS_LIMIT = 512
ACTOR_LIMIT = 100
"""Opsgenie's limit on a request's ``user`` and ``source``."""
PRIORITIES = frozenset({"P1", "P2", "P3", "P4", "P5"})
_ACTION_NAMES = {
    "notes": ("AddNote", "Added note"),
    "acknowledge": ("Acknowledge", "Acknowledged"),
    "close": ("Close", "Closed"),
    "assign": ("Assign", "Assigned"),
    "priority": ("UpdatePriority", "Updated priority"),
}
_PUT_ACTIONS = frozenset({"priority"})
"""Alert actions taken with ``PUT`` (the rest are ``POST``)."""
_NOT_PROCESSED = "Request not found. It might not be processed, yet."
_NAMESPACE = uuid.UUID("6b1f8f3e-41a4-4f27-9a55-0c3f0e8a2d11")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUSES = ("open", "closed")
_NATIVE = {
    "message": "message",
    "status": "status",
    "acknowledged": "acknowledged",
    "isSeen": "seen",
    "seen": "seen",
    "snoozed": "snoozed",
    "priority": "priority",
    "owner": "owner",
    "source": "source",
    "tags": "tags",
    "count": "count",
    "entity": "entity",
    "description": "description",
}
"""Wire names :meth:`OpsgenieEmulator.set_native` may change, and the row field each is."""


def format_timestamp(value: datetime) -> str:
    """Opsgenie's form: UTC, milliseconds with trailing zeros dropped (at least one digit)."""
    return _format_ms(_millis(value))


def _format_ms(ms: int) -> str:
    seconds, fraction = divmod(ms, 1000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{(f'{fraction:03d}'.rstrip('0') or '0')}Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _millis(value: datetime) -> int:
    """Epoch milliseconds, exactly (no float rounding)."""
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _email(name: str) -> str:
    """Opsgenie owners are usernames, which are e-mail addresses."""
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
    return f"{local}@acme.example"


@dataclass(slots=True)
class _Alert:
    """One alert, compact: views are built only for the rows an answer returns."""

    id: str
    tiny: int
    alias: str
    message: str
    status: str
    acknowledged: bool
    seen: bool
    snoozed: bool
    snoozed_until: int | None
    count: int
    last_occurred: int
    created: int
    updated: int
    source: str
    owner: str
    priority: str
    team: str | None
    responders: list[dict[str, str]] | None = None
    """Responders as created through the API; ``None``: the team alone."""
    tags: list[str] = field(default_factory=list)
    ack_time: int | None = None
    ack_by: str | None = None
    close_time: int | None = None
    close_by: str | None = None
    entity: str = ""
    description: str = ""
    details: dict[str, str] = field(default_factory=dict)
    ref: str | None = None


@dataclass(slots=True)
class _Line:
    """One note or log line."""

    key: tuple[int, int]
    """``(ms, sequence)``: the order, and the ``offset`` Opsgenie pages by."""
    text: str
    owner: str
    type: str
    ref: str | None = None

    @property
    def offset(self) -> str:
        return f"{self.key[0]}_{self.key[0] * 1_000_000 + self.key[1] % 1_000_000}"


class OpsgenieEmulator(TicketEmulator):
    """One Opsgenie account with an API key, teams and alerts."""

    kind: ClassVar[str] = "opsgenie"

    def __init__(
        self,
        *,
        api_key: str = "5a7f3c2e-9d41-4b8a-a6c0-2f1e8d7b9c34",
        page_cap: int | None = None,
        requests_per_period: int | None = None,
        rate_period: int = 60,
        teams_readable: bool = True,
        unprocessed_lookups: int = 0,
        first_tiny_id: int = 1201,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_LIMIT,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.api_key = api_key
        self.page_cap = page_cap
        """When set, a list page holds at most this many alerts whatever ``limit`` asked,
        with ``paging.next`` pointing just past them (a short page that is not the end)."""
        self.requests_per_period = requests_per_period
        """When set, requests beyond this many per ``rate_period`` seconds get 429."""
        self.rate_period = rate_period
        self.teams_readable = teams_readable
        """False models an alerts-only integration key: ``/v2/teams`` answers 403."""
        self.unprocessed_lookups = unprocessed_lookups
        """How many status lookups of each write answer 404 ("not processed yet") first."""
        self._tiny_ids = itertools.count(first_tiny_id)
        self.examined = 0
        """Alerts looked at to answer lists so far: a bisected page costs its own rows, a
        filtered query every alert (tests check this work, not the time)."""
        self._alerts: dict[str, _Alert] = {}
        self._ids_by_ref: dict[str, str] = {}
        self._by_alias: dict[str, list[str]] = {}
        self._by_tiny: dict[str, str] = {}
        self._index: dict[tuple[str, str | None], list[tuple[int, int, str]]] = {
            (sort, status): []
            for sort in ("createdAt", "updatedAt")
            for status in (*_STATUSES, None)
        }
        self._teams: dict[str, dict[str, Any]] = {}
        self._recent: deque[float] = deque()
        self._users: dict[str, dict[str, Any]] = {}
        """Username (an e-mail) → user; owners of world alerts become users."""
        self._statuses: dict[str, dict[str, Any]] = {}
        """Request id → the status ``GET /v2/alerts/requests/{id}`` reports."""
        self._lookups_left: dict[str, int] = {}
        self._history: dict[tuple[str, str], list[_Line]] = {}
        """``(alert id, "notes" | "logs")`` → lines in ``key`` order."""
        self._entry_refs: dict[str, _Line] = {}
        self._sequence = itertools.count(1)
        self._path_faults: dict[str, deque[Reply]] = {}

    def inject_on(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to exactly ``path`` with these replies (one each)."""
        with self.lock:
            self._path_faults.setdefault(path, deque()).extend(replies)

    def __enter__(self) -> OpsgenieEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section an :class:`OpsgenieConnector` needs to reach this account."""
        return {"kind": "opsgenie", "api_key": self.api_key}

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the alert for ``ticket.ref``; return its key ``#<tinyId>``."""
        with self.lock:
            return f"#{self._upsert(ticket, indexed=True).tiny}"

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many tickets at once (benches): the indexes are sorted once at the end."""
        with self.lock:
            keys = [f"#{self._upsert(t, indexed=False).tiny}" for t in tickets]
            for rows in self._index.values():
                rows.clear()
            for row in self._alerts.values():
                for name, key in _keys(row):
                    self._index[name].append(key)
            for rows in self._index.values():
                rows.sort()
            return keys

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """A note (public or internal) or a ``system`` log line; its ``offset``-based id.

        Opsgenie keeps attachments apart from notes (``/attachments``); they are dropped.
        """
        with self.lock:
            row = self._alerts[self._ids_by_ref[ticket_ref]]
            kind = "logs" if entry.visibility == "system" else "notes"
            text = entry.text or entry.html or ""
            known = self._entry_refs.get(entry.ref)
            if known is not None:
                known.text = text
            else:
                known = self._add_line(row, kind, text, entry.author, at=entry.at)
                known.ref = entry.ref
                self._entry_refs[entry.ref] = known
            self._touch(row, lambda: None, at=max(row.updated, _millis(entry.at)))
            return f"{row.id}/{'note' if kind == 'notes' else 'log'}/{known.offset}"

    def _upsert(self, ticket: WorldTicket, *, indexed: bool) -> _Alert:
        alert_id = self._ids_by_ref.get(ticket.ref)
        row = self._alerts.get(alert_id) if alert_id else None
        closed = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        snoozed = ticket.status is TicketStatus.PENDING and not closed
        acknowledged = ticket.first_response_at is not None
        owner = self._user_named(ticket.assignee) if ticket.assignee else ""
        team = self._team_named(ticket.group) if ticket.group else None
        created = _millis(ticket.created_at)
        if row is None:
            alert_id = f"{uuid.uuid5(_NAMESPACE, ticket.ref)}-{created}"
            row = _Alert(
                id=alert_id,
                tiny=next(self._tiny_ids),
                alias=alert_id,
                message="",
                status="open",
                acknowledged=False,
                seen=False,
                snoozed=False,
                snoozed_until=None,
                count=1,
                last_occurred=created,
                created=created,
                updated=created,
                source=DEFAULT_SOURCE,
                owner="",
                priority="P3",
                team=None,
                ref=ticket.ref,
            )
            self._ids_by_ref[ticket.ref] = alert_id
            self._alerts[alert_id] = row
            self._by_alias.setdefault(alert_id, []).append(alert_id)
            self._by_tiny[str(row.tiny)] = alert_id
            self._add_line(row, "logs", "Alert created via API", "System", at=ticket.created_at)
            previous = ("open", False)
        else:
            previous = (row.status, row.acknowledged)
            if indexed:
                self._unindex(row)
        row.message = ticket.title[:MESSAGE_LIMIT]
        row.status = "closed" if closed else "open"
        row.acknowledged = row.seen = acknowledged
        row.snoozed = snoozed
        row.snoozed_until = _millis(ticket.due_at) if snoozed and ticket.due_at else None
        row.last_occurred = row.created = created
        row.updated = _millis(ticket.updated_at)
        row.source = ticket.asset or DEFAULT_SOURCE
        row.entity = ticket.asset or ""
        row.description = ticket.description
        row.owner = owner
        row.priority = ticket.priority.value if ticket.priority else "P3"
        row.team = team
        row.ack_time = row.ack_by = row.close_time = row.close_by = None
        if ticket.first_response_at is not None:
            row.ack_time = _elapsed_ms(ticket.created_at, ticket.first_response_at)
            row.ack_by = owner or "API"
        if closed:
            row.close_time = _elapsed_ms(ticket.created_at, ticket.resolved_at or ticket.updated_at)
            row.close_by = owner or "API"
        if ticket.first_response_at is not None and not previous[1]:
            by = row.ack_by or "API"
            at = ticket.first_response_at
            self._add_line(row, "logs", f"Alert acknowledged by {by}", by, at=at)
        if closed and previous[0] != "closed":
            by = row.close_by or "API"
            at = ticket.resolved_at or ticket.updated_at
            self._add_line(row, "logs", f"Alert closed by {by}", by, at=at)
        if indexed:
            self._reindex(row)
        return row

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. ``acknowledged=True``), bumping ``updatedAt``."""
        with self.lock:
            row = self._alerts[self._ids_by_ref[ref]]
            unknown = set(fields) - set(_NATIVE)
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            if "status" in fields and fields["status"] not in _STATUSES:
                raise ValueError("status must be open or closed")
            if "priority" in fields and fields["priority"] not in PRIORITIES:
                raise ValueError("priority must be one of P1..P5")

            def change() -> None:
                for name, value in fields.items():
                    setattr(row, _NATIVE[name], value)

            self._touch(row, change)

    def alert_id(self, ref: str) -> str:
        """The native id of the alert put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def alert(self, ref: str) -> dict[str, Any]:
        """The alert as the list shows it."""
        with self.lock:
            return self._view(self._alerts[self._ids_by_ref[ref]])

    def team_id(self, name: str) -> str:
        """The id of a team (created on first use, as ``put_ticket`` does for ``group``)."""
        with self.lock:
            return self._team_named(name)

    def add_user(self, name: str) -> str:
        """The username (an e-mail) of the user with this name, created on first use."""
        with self.lock:
            return self._user_named(name)

    def user_id(self, username: str) -> str:
        """The id of a user (tests assign by id as well as by username)."""
        with self.lock:
            return str(self._users[username]["id"])

    def notes_on(self, alert_id: str) -> list[dict[str, Any]]:
        """An alert's notes as ``GET /v2/alerts/{id}/notes?order=asc`` lists them."""
        with self.lock:
            return [_line_view(n, "note") for n in self._history.get((alert_id, "notes"), [])]

    def logs_on(self, alert_id: str) -> list[dict[str, Any]]:
        """An alert's log lines, oldest first."""
        with self.lock:
            return [_line_view(n, "log") for n in self._history.get((alert_id, "logs"), [])]

    # -- indexes -------------------------------------------------------------------

    def _reindex(self, row: _Alert) -> None:
        for name, key in _keys(row):
            bisect.insort(self._index[name], key)

    def _unindex(self, row: _Alert) -> None:
        for name, key in _keys(row):
            rows = self._index[name]
            at = bisect.bisect_left(rows, key)
            if at < len(rows) and rows[at] == key:
                del rows[at]

    def _touch(self, row: _Alert, change: Callable[[], None], *, at: int | None = None) -> None:
        """Apply ``change`` and move ``updatedAt`` (to now, or ``at``), keeping the indexes."""
        self._unindex(row)
        change()
        row.updated = _millis(self.clock()) if at is None else at
        self._reindex(row)

    def _add_line(
        self, row: _Alert, kind: str, text: str, owner: str, *, at: datetime | None = None
    ) -> _Line:
        when = _millis(self.clock() if at is None else at)
        line = _Line(
            (when, next(self._sequence)), text, owner, "note" if kind == "notes" else "system"
        )
        bisect.insort(self._history.setdefault((row.id, kind), []), line, key=lambda n: n.key)
        return line

    # -- views ---------------------------------------------------------------------

    def _view(self, row: _Alert) -> dict[str, Any]:
        """A list item: the capture's keys, ``report`` and ``snoozedUntil`` when they apply."""
        view: dict[str, Any] = {
            "seen": row.seen,
            "id": row.id,
            "tinyId": str(row.tiny),
            "alias": row.alias,
            "message": row.message,
            "status": row.status,
            "acknowledged": row.acknowledged,
            "isSeen": row.seen,
            "tags": list(row.tags),
            "snoozed": row.snoozed,
        }
        if row.snoozed_until is not None and row.snoozed:
            view["snoozedUntil"] = _format_ms(row.snoozed_until)
        view.update(
            {
                "count": row.count,
                "lastOccurredAt": _format_ms(row.last_occurred),
                "createdAt": _format_ms(row.created),
                "updatedAt": _format_ms(row.updated),
                "source": row.source,
                "owner": row.owner,
                "priority": row.priority,
                "teams": [{"id": row.team}] if row.team else [],
                "responders": [dict(r) for r in row.responders]
                if row.responders is not None
                else ([{"type": "team", "id": row.team}] if row.team else []),
                "integration": dict(INTEGRATION),
            }
        )
        report: dict[str, Any] = {}
        if row.ack_time is not None:
            report["ackTime"] = row.ack_time
        if row.close_time is not None:
            report["closeTime"] = row.close_time
        if row.ack_by:
            report["acknowledgedBy"] = row.ack_by
        if row.close_by:
            report["closedBy"] = row.close_by
        if report:
            view["report"] = report
        view["ownerTeamId"] = row.team or ""
        return view

    def _whole(self, row: _Alert) -> dict[str, Any]:
        """``GET /v2/alerts/{identifier}``: the list item plus what only it shows."""
        view = self._view(row)
        view["entity"] = row.entity
        view["description"] = row.description
        view["details"] = dict(row.details)
        view["actions"] = []
        return view

    # -- wire format ---------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the endpoints the connector uses, with Opsgenie's headers on every answer."""
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        reply = self._answer(request, request_id)
        took = round(time.perf_counter() - started, 3)
        if isinstance(reply.body, dict) and "requestId" in reply.body:
            reply.body["requestId"], reply.body["took"] = request_id, took
        reply.headers.setdefault("X-RateLimit-State", "OK")
        reply.headers.setdefault("X-Request-ID", request_id)
        reply.headers.setdefault("X-Response-Time", f"{took:.3f}")
        return reply

    def _answer(self, request: Request, request_id: str) -> Reply:
        scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
        if scheme != "GenieKey" or key.strip() != self.api_key:
            return _error(401, "Could not authenticate")
        limited = self._rate_limited()
        if limited is not None:
            return limited
        faults = self._path_faults.get(request.path)
        if faults:
            return faults.popleft()
        path = request.path.rstrip("/")
        if request.method in ("POST", "PUT"):
            return self._write(request, path, request_id)
        if request.method not in ("GET", "HEAD"):
            return _error(404, "Requested resource does not exist")
        if path == ALERTS_PATH:
            return self._list(request)
        if path == COUNT_PATH:
            return self._count(request)
        match = _REQUEST_PATH.match(path)
        if match is not None:
            return self._request_status(unquote(match["request_id"]))
        match = _HISTORY_PATH.match(path)
        if match is not None:
            kind = request.param("identifierType", "id")
            row = self._find(unquote(match["identifier"]), kind)
            if row is None:
                return _error(404, "Alert does not exist")
            return self._lines(request, row, match["kind"])
        if path == TEAMS_PATH:
            if not self.teams_readable:
                return _error(403, "You are not authorized to perform this action")
            return _ok([dict(team) for team in self._teams.values()])
        match = _ALERT_PATH.match(path)
        if match is not None:
            identifier = unquote(match["identifier"])
            return self._get_alert(identifier, request.param("identifierType", "id"))
        return _error(404, "Requested resource does not exist")

    # -- writes --------------------------------------------------------------------

    def _write(self, request: Request, path: str, request_id: str) -> Reply:
        """Check the body at once (422), carry the request out, record how it went, say 202."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Request body is not valid JSON")
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return _invalid({"body": "Request body must be a JSON object"})
        problems = _check_actor(body)
        if path == ALERTS_PATH and request.method == "POST":
            problems.update(_check_create(body))
            if problems:
                return _invalid(problems)
            self._statuses[request_id] = self._create(body)
            return self._accepted(request_id)
        match = _ACTION_PATH.match(path)
        if match is None or (match["action"] in _PUT_ACTIONS) != (request.method == "PUT"):
            return _error(404, "Requested resource does not exist")
        action = match["action"]
        kind = request.param("identifierType", "id") or "id"
        if kind not in ("id", "alias", "tiny"):
            problems["identifierType"] = f"Invalid identifierType [{kind}]"
        problems.update(_check_action(action, body))
        if problems:
            return _invalid(problems)
        row = self._find(unquote(match["identifier"]), kind)
        name, done = _ACTION_NAMES[action]
        if row is None:
            self._statuses[request_id] = self._status(name, False, "Alert does not exist")
            return self._accepted(request_id)
        failure = self._apply(row, action, body)
        self._statuses[request_id] = self._status(
            name, failure is None, failure or done, alert_id=row.id, alias=row.alias
        )
        return self._accepted(request_id)

    def _apply(self, row: _Alert, action: str, body: dict[str, Any]) -> str | None:
        """Carry one alert action out; the failure text when Opsgenie would not."""
        user = body.get("user") or "API"
        now = _millis(self.clock())
        if action == "assign":
            owner = body["owner"]
            found = next(
                (
                    u
                    for u in self._users.values()
                    if u["username"] == owner.get("username") or u["id"] == owner.get("id")
                ),
                None,
            )
            if found is None:
                who = owner.get("username") or owner.get("id")
                return f"User [{who}] does not exist"
            row.owner = found["username"]
            self._add_line(row, "logs", f"Alert owner changed to {row.owner}", user)
        elif action == "acknowledge":
            if not row.acknowledged:
                row.acknowledged = row.seen = True
                row.ack_time, row.ack_by = max(now - row.created, 0), user
                self._add_line(row, "logs", f"Alert acknowledged via API by {user}", user)
        elif action == "priority" and body["priority"] != row.priority:
            row.priority = body["priority"]
            self._add_line(row, "logs", f"Alert priority changed to {row.priority}", user)
        elif action == "close" and row.status != "closed":
            self._unindex(row)
            row.status = "closed"
            row.snoozed, row.snoozed_until = False, None
            row.close_time, row.close_by = max(now - row.created, 0), user
            self._reindex(row)
            self._add_line(row, "logs", f"Alert closed via API by {user}", user)
        note = body.get("note")
        if isinstance(note, str) and note.strip():
            self._add_line(row, "notes", note, user)
            self.record_comment(row.id, note, public=False)
        self._touch(row, lambda: None)
        return None

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new alert, or one more occurrence of the open alert with the same alias."""
        now = _millis(self.clock())
        alias = body.get("alias")
        if isinstance(alias, str) and alias:
            for alert_id in self._by_alias.get(alias, []):
                row = self._alerts[alert_id]
                if row.status == "open":

                    def again(row: _Alert = row) -> None:
                        row.count += 1
                        row.last_occurred = now

                    self._touch(row, again)
                    return self._status(
                        "Create",
                        True,
                        "Alert with this alias is open: its count was increased",
                        alert_id=row.id,
                        alias=alias,
                    )
        alert_id = f"{uuid.uuid4()}-{now}"
        responders = [
            {str(k): str(v) for k, v in r.items()}
            for r in body.get("responders") or []
            if isinstance(r, dict)
        ]
        teams = [r["id"] for r in responders if r.get("type") == "team" and r.get("id")]
        details = body.get("details")
        row = _Alert(
            id=alert_id,
            tiny=next(self._tiny_ids),
            alias=alias if isinstance(alias, str) and alias else alert_id,
            message=str(body["message"])[:MESSAGE_LIMIT],
            status="open",
            acknowledged=False,
            seen=False,
            snoozed=False,
            snoozed_until=None,
            count=1,
            last_occurred=now,
            created=now,
            updated=now,
            source=str(body.get("source") or DEFAULT_SOURCE),
            owner="",
            priority=body.get("priority") or "P3",
            team=teams[0] if teams else None,
            responders=responders,
            tags=[str(t) for t in body.get("tags") or []],
            entity=str(body.get("entity") or ""),
            description=str(body.get("description") or ""),
            details={str(k): str(v) for k, v in details.items()}
            if isinstance(details, dict)
            else {},
        )
        self._alerts[alert_id] = row
        self._by_alias.setdefault(row.alias, []).append(alert_id)
        self._by_tiny[str(row.tiny)] = alert_id
        self._reindex(row)
        self._add_line(row, "logs", "Alert created via API", str(body.get("user") or "API"))
        self.created.append(alert_id)
        return self._status("Create", True, "Created alert", alert_id=alert_id, alias=row.alias)

    def _status(
        self,
        action: str,
        success: bool,
        status: str,
        *,
        alert_id: str = "",
        alias: str = "",
    ) -> dict[str, Any]:
        return {
            "success": success,
            "action": action,
            "processedAt": format_timestamp(self.clock()),
            "integrationId": INTEGRATION["id"],
            "isSuccess": success,
            "status": status,
            "alertId": alert_id,
            "alias": alias,
        }

    def _accepted(self, request_id: str) -> Reply:
        self._lookups_left[request_id] = self.unprocessed_lookups
        return Reply(202, {"result": "Request will be processed", "took": 0.0, "requestId": ""})

    def _request_status(self, request_id: str) -> Reply:
        status = self._statuses.get(request_id)
        if status is None:
            return _error(404, _NOT_PROCESSED)
        if self._lookups_left.get(request_id, 0) > 0:
            self._lookups_left[request_id] -= 1
            return _error(404, _NOT_PROCESSED)
        return _ok(dict(status))

    def _find(self, identifier: str, kind: str | None) -> _Alert | None:
        """The alert an identifier names; for an alias, the open alert first, else the newest."""
        if kind in (None, "id"):
            return self._alerts.get(identifier)
        if kind == "tiny":
            alert_id = self._by_tiny.get(identifier)
            return self._alerts.get(alert_id) if alert_id else None
        rows = [self._alerts[i] for i in self._by_alias.get(identifier, [])]
        if not rows:
            return None
        rows.sort(key=lambda r: (r.status == "open", r.created))
        return rows[-1]

    def _user_named(self, name: str) -> str:
        username = _email(name)
        if username not in self._users:
            self._users[username] = {
                "id": str(uuid.uuid5(_NAMESPACE, f"user:{username}")),
                "username": username,
                "fullName": name,
            }
        return username

    # -- reads ----------------------------------------------------------------------

    def _search(self, request: Request) -> tuple[list[_Term], str, str] | Reply:
        """The query, sort and order of a list or count request, or Opsgenie's 422."""
        problems: dict[str, str] = {}
        sort = request.param("sort") or "createdAt"
        if sort not in SORT_FIELDS:
            problems["sort"] = f"Sort field [{sort}] is not supported"
        order = (request.param("order") or "desc").lower()
        if order not in ("asc", "desc"):
            problems["order"] = "Order should be asc or desc"
        query = request.param("query") or ""
        terms = _parse_query(query)
        if terms is None:
            problems["query"] = f"Invalid query [{query}]"
        if problems or terms is None:
            return _invalid(problems)
        return terms, sort, order

    def _matching(
        self, terms: list[_Term], sort: str
    ) -> tuple[list[tuple[Any, int, str]], int, int]:
        """The alerts a query matches in ascending ``sort`` order, as ``(keys, lo, hi)``.

        The connector's queries (a status, a ``createdAt`` bound, sorted by a
        time) are a bisected slice of an index; anything else is filtered and sorted.
        """
        statuses = [v for name, op, v in terms if name == "status" and op == ":"]
        bounds = [(op, int(v)) for name, op, v in terms if name == "createdAt"]
        others = [t for t in terms if t[0] not in ("status", "createdAt")]
        indexable = (
            not others
            and len(statuses) <= 1
            and all(s in _STATUSES for s in statuses)
            and sort in ("createdAt", "updatedAt")
            and (not bounds or sort == "createdAt")
        )
        if indexable:
            keys = self._index[(sort, statuses[0] if statuses else None)]
            lo, hi = 0, len(keys)
            for op, value in bounds:
                if op in (">", ">="):
                    at = bisect.bisect_left(keys, (value + (op == ">"),))
                    lo = max(lo, at)
                else:
                    at = bisect.bisect_left(keys, (value + (op == "<="),))
                    hi = min(hi, at)
            return keys, lo, max(lo, hi)
        self.examined += len(self._alerts)
        rows = [row for row in self._alerts.values() if _matches(row, terms)]
        found = sorted((_sort_value(row, sort), row.tiny, row.id) for row in rows)
        return found, 0, len(found)

    def _list(self, request: Request) -> Reply:
        problems: dict[str, str] = {}
        limit = _whole(request.param("limit"), self.page_size)
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            problems["limit"] = f"Limit should be between 1 and {MAX_LIMIT}"
        offset = _whole(request.param("offset"), 0)
        if offset is None or offset < 0:
            problems["offset"] = "Offset should not be negative"
        search = self._search(request)
        if isinstance(search, Reply):
            if isinstance(search.body, dict):
                search.body["errors"] = {**problems, **search.body["errors"]}
            return search
        if problems or limit is None or offset is None:
            return _invalid(problems)
        terms, sort, order = search
        keys, lo, hi = self._matching(terms, sort)
        total = hi - lo
        count = min(limit, self.page_cap) if self.page_cap is not None else limit
        if order == "desc":
            top = hi - 1 - offset
            picked = [keys[i][2] for i in range(top, max(top - count, lo - 1), -1)]
        else:
            start = lo + offset
            picked = [keys[i][2] for i in range(start, min(start + count, hi))]
        self.examined += len(picked)
        link = _link_maker(limit, sort, order, request.param("query") or "")
        paging: dict[str, str] = {}
        after = offset + (len(picked) if self.page_cap is not None else limit)
        if after < total:
            paging["next"] = link(after)
        if offset > 0:
            paging["prev"] = link(max(offset - limit, 0))
        paging["first"] = link(0)
        paging["last"] = link(max(total - 1, 0) // limit * limit)
        body = {
            "data": [self._view(self._alerts[alert_id]) for alert_id in picked],
            "paging": paging,
            "took": 0.0,
            "requestId": "",
        }
        return Reply(200, body)

    def _count(self, request: Request) -> Reply:
        search = self._search(request)
        if isinstance(search, Reply):
            return search
        terms, _, _ = search
        _, lo, hi = self._matching(terms, "createdAt")
        return _ok({"count": hi - lo})

    def _get_alert(self, identifier: str, kind: str | None) -> Reply:
        if (kind or "id") not in ("id", "alias", "tiny"):
            return _error(422, f"Invalid identifierType [{kind}]")
        row = self._find(identifier, kind)
        if row is None:
            return _error(404, "Alert does not exist")
        return _ok(self._whole(row))

    def _lines(self, request: Request, row: _Alert, kind: str) -> Reply:
        """Notes or logs, paged by their opaque ``offset`` in either direction and order."""
        limit = _whole(request.param("limit"), DEFAULT_LIMIT)
        order = (request.param("order") or "desc").lower()
        direction = (request.param("direction") or "next").lower()
        if (
            limit is None
            or not 1 <= limit <= MAX_LIMIT
            or order not in ("asc", "desc")
            or direction not in ("next", "prev")
        ):
            return _invalid({"limit": f"limit 1-{MAX_LIMIT}, order asc|desc, direction next|prev"})
        lines = self._history.get((row.id, kind), [])
        ordered = lines if order == "asc" else lines[::-1]
        offset = request.param("offset")
        if offset:
            keys = [line.offset for line in ordered]
            if offset not in keys:
                return _invalid({"offset": f"Offset [{offset}] is not valid"})
            at = keys.index(offset)
            ordered = ordered[at + 1 :] if direction == "next" else ordered[:at][-limit:]
        page = ordered[:limit]
        singular = "note" if kind == "notes" else "log"
        base = f"{PUBLIC_API}{ALERTS_PATH}/{row.id}/{kind}"
        paging = {"first": f"{base}?{urlencode({'limit': limit, 'order': order})}"}
        if len(ordered) > limit and page:
            query = {"offset": page[-1].offset, "direction": "next", "limit": limit, "order": order}
            paging["next"] = f"{base}?{urlencode(query)}"
        return Reply(
            200,
            {
                "data": [_line_view(line, singular) for line in page],
                "paging": paging,
                "took": 0.0,
                "requestId": "",
            },
        )

    def _rate_limited(self) -> Reply | None:
        """Opsgenie's token bucket, modelled as a rolling window of ``rate_period`` seconds."""
        limit = self.requests_per_period
        if limit is None:
            return None
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - self.rate_period:
            self._recent.popleft()
        if len(self._recent) >= limit:
            return Reply(
                429,
                {"message": "TooManyRequests", "took": 0.0, "requestId": ""},
                headers={
                    "X-RateLimit-State": "THROTTLED",
                    "X-RateLimit-Reason": "ACCOUNT",
                    "X-RateLimit-Period-In-Sec": str(self.rate_period),
                },
            )
        self._recent.append(now)
        return None

    def _team_named(self, name: str) -> str:
        for team in self._teams.values():
            if team["name"] == name:
                return str(team["id"])
        team_id = str(uuid.uuid5(_NAMESPACE, f"team:{name}"))
        self._teams[team_id] = {"id": team_id, "name": name, "description": ""}
        return team_id


_Term = tuple[str, str, str]
"""``(field, operator, value)`` of one search term."""


def _keys(row: _Alert) -> list[tuple[tuple[str, str | None], tuple[int, int, str]]]:
    return [
        ((sort, status), (row.created if sort == "createdAt" else row.updated, row.tiny, row.id))
        for sort in ("createdAt", "updatedAt")
        for status in (row.status, None)
    ]


def _line_view(line: _Line, singular: str) -> dict[str, Any]:
    return {
        singular: line.text,
        "type": line.type,
        "owner": line.owner,
        "createdAt": _format_ms(line.key[0]),
        "offset": line.offset,
    }


def _ok(data: Any) -> Reply:
    return Reply(200, {"data": data, "took": 0.0, "requestId": ""})


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"message": message, "took": 0.0, "requestId": ""})


def _invalid(problems: dict[str, str]) -> Reply:
    """Opsgenie's 422 for a body that fails validation, naming each bad field."""
    return Reply(
        422,
        {"message": "Request validation failed", "errors": problems, "took": 0.0, "requestId": ""},
    )


def _check_actor(body: dict[str, Any]) -> dict[str, str]:
    problems = {}
    for name in ("user", "source"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > ACTOR_LIMIT):
            problems[name] = f"{name} must be text of at most {ACTOR_LIMIT} characters"
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > NOTE_LIMIT):
        problems["note"] = f"note must be text of at most {NOTE_LIMIT} characters"
    return problems


def _check_create(body: dict[str, Any]) -> dict[str, str]:
    problems = {}
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems["message"] = "Message can not be empty"
    alias = body.get("alias")
    if alias is not None and (not isinstance(alias, str) or len(alias) > ALIAS_LIMIT):
        problems["alias"] = f"alias must be text of at most {ALIAS_LIMIT} characters"
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        problems["priority"] = f"Priority [{priority}] is not one of P1..P5"
    details = body.get("details")
    if details is not None and not isinstance(details, dict):
        problems["details"] = "details must be an object of text values"
    return problems


def _check_action(action: str, body: dict[str, Any]) -> dict[str, str]:
    if action == "notes":
        note = body.get("note")
        if not isinstance(note, str) or not note.strip():
            return {"note": "Note can not be empty"}
    if action == "assign":
        owner = body.get("owner")
        if not isinstance(owner, dict) or not (owner.get("id") or owner.get("username")):
            return {"owner": "Owner must have an id or a username"}
    if action == "priority" and body.get("priority") not in PRIORITIES:
        return {"priority": f"Priority [{body.get('priority')}] is not one of P1..P5"}
    return {}


def _elapsed_ms(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds() * 1000), 0)


def _whole(text: str | None, default: int) -> int | None:
    if text is None or text == "":
        return default
    return int(text) if text.lstrip("-").isdigit() else None


def _parse_query(query: str) -> list[_Term] | None:
    """Terms joined by ``AND`` (one level of parentheses); ``None`` outside that subset."""
    text = query.strip()
    if not text:
        return []
    terms: list[_Term] = []
    for part in re.split(
        r"\s+AND\s+", text.replace("(", " ").replace(")", " ").strip(), flags=re.I
    ):
        match = _TERM.match(part.strip())
        if match is None:
            return None
        name, op, value = match["name"], match["op"], match["value"].strip().strip('"')
        if name == "createdAt":
            if not value.isdigit():
                return None
        elif name not in QUERY_FIELDS or op != ":" or not value:
            return None
        terms.append((name, op, value))
    return terms


def _matches(row: _Alert, terms: list[_Term]) -> bool:
    view = {
        "status": row.status,
        "priority": row.priority,
        "acknowledged": str(row.acknowledged).lower(),
        "snoozed": str(row.snoozed).lower(),
        "owner": row.owner,
        "tinyId": str(row.tiny),
    }
    for name, op, value in terms:
        if name == "createdAt":
            number = int(value)
            ok = {
                "<": row.created < number,
                "<=": row.created <= number,
                ">": row.created > number,
                ">=": row.created >= number,
                ":": row.created == number,
            }[op]
            if not ok:
                return False
        elif view[name].lower() != value.lower():
            return False
    return True


def _sort_value(row: _Alert, sort: str) -> Any:
    if sort == "createdAt":
        return row.created
    if sort == "updatedAt":
        return row.updated
    if sort == "tinyId":
        return row.tiny
    return str(getattr(row, sort, ""))


def _link_maker(limit: int, sort: str, order: str, query: str) -> Callable[[int], str]:
    def link(offset: int) -> str:
        params: dict[str, Any] = {"limit": limit, "sort": sort, "offset": offset, "order": order}
        if query:
            params = {"query": query, **params}
        return f"{PUBLIC_API}{ALERTS_PATH}?{urlencode(params)}"

    return link


EMULATOR = OpsgenieEmulator

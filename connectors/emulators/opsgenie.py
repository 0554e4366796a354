"""An Opsgenie account on loopback, speaking the Alert API v2 wire format.

Alerts are kept as Opsgenie keeps them (``vendor-apis.md`` §9 and the capture
``opsgenie-alerts.json``): an ``id`` that is a UUID plus an epoch-millisecond
suffix (``alias`` the same string), a numeric-string ``tinyId``, ``status``
``open``/``closed`` beside the ``acknowledged`` and ``snoozed`` flags, ``P1``..``P5``,
``""`` for an unset ``owner``/``ownerTeamId``, team responders by id only, and
``report.ackTime``/``closeTime`` as milliseconds since creation. Timestamps carry
a millisecond fraction with trailing zeros dropped (``…41.03Z``), as the capture shows.

``GET /v2/alerts`` honours ``limit`` (≤ 100), ``offset``, ``sort``, ``order`` and a
small subset of the search syntax (``field: value`` terms joined by ``AND``), and
answers with ``paging`` URLs on Opsgenie's public host, as the real API does.
Every answer carries ``X-RateLimit-State``; past ``requests_per_period`` requests in
a rolling ``rate_period`` the account answers 429 ``THROTTLED``. Error bodies are
Opsgenie's ``{"message", "took", "requestId"}``.

Writes (``vendor-apis.md`` §9.8) are asynchronous, as at Opsgenie: ``POST
/v2/alerts`` and ``POST /v2/alerts/{identifier}/notes|acknowledge|close|assign``
answer 202 ``{"result": "Request will be processed", "took", "requestId"}``, and
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

import itertools
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["EMULATOR", "OpsgenieEmulator", "format_timestamp"]

ALERTS_PATH = "/v2/alerts"
TEAMS_PATH = "/v2/teams"
PUBLIC_API = "https://api.opsgenie.com"
"""The host Opsgenie writes into ``paging`` links (a client must not depend on it)."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MESSAGE_LIMIT = 130
DEFAULT_SOURCE = "198.51.100.7"
"""Opsgenie's default ``source`` is the sender's IP address."""
SORT_FIELDS = frozenset({"createdAt", "updatedAt", "tinyId", "message", "status", "priority"})
QUERY_FIELDS = frozenset({"status", "priority", "acknowledged", "snoozed", "owner", "tinyId"})
_ALERT_PATH = re.compile(r"^/v2/alerts/(?P<identifier>[^/]+)$")
_ACTION_PATH = re.compile(
    r"^/v2/alerts/(?P<identifier>[^/]+)/(?P<action>notes|acknowledge|close|assign)$"
)
_REQUEST_PATH = re.compile(r"^/v2/alerts/requests/(?P<request_id>[^/]+)$")
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
}
_NOT_PROCESSED = "Request not found. It might not be processed, yet."
_NAMESPACE = uuid.UUID("6b1f8f3e-41a4-4f27-9a55-0c3f0e8a2d11")


def format_timestamp(value: datetime) -> str:
    """Opsgenie's form: UTC, milliseconds with trailing zeros dropped (at least one digit)."""
    utc = value.astimezone(UTC)
    fraction = f"{utc.microsecond // 1000:03d}".rstrip("0") or "0"
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{fraction}Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _email(name: str) -> str:
    """Opsgenie owners are usernames, which are e-mail addresses."""
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
    return f"{local}@acme.example"


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
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
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
        self._alerts: dict[str, dict[str, Any]] = {}
        self._ids_by_ref: dict[str, str] = {}
        self._teams: dict[str, dict[str, Any]] = {}
        self._recent: deque[float] = deque()
        self._users: dict[str, dict[str, Any]] = {}
        """Username (an e-mail) → user; owners of world alerts become users."""
        self._statuses: dict[str, dict[str, Any]] = {}
        """Request id → the status ``GET /v2/alerts/requests/{id}`` reports."""
        self._lookups_left: dict[str, int] = {}
        self._notes: dict[str, list[dict[str, Any]]] = {}
        self._details: dict[str, dict[str, str]] = {}
        """Alert id → ``details``, which only get-by-id shows (as at Opsgenie)."""

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
            alert_id = self._ids_by_ref.get(ticket.ref)
            previous = self._alerts.get(alert_id) if alert_id else None
            if alert_id is None or previous is None:
                suffix = _millis(ticket.created_at)
                alert_id = f"{uuid.uuid5(_NAMESPACE, ticket.ref)}-{suffix}"
                self._ids_by_ref[ticket.ref] = alert_id
                tiny_id = str(next(self._tiny_ids))
            else:
                tiny_id = previous["tinyId"]
            closed = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
            snoozed = ticket.status is TicketStatus.PENDING
            acknowledged = ticket.first_response_at is not None
            owner = self._user_named(ticket.assignee) if ticket.assignee else ""
            team = self._team_named(ticket.group) if ticket.group else None
            report: dict[str, Any] = {}
            if ticket.first_response_at is not None:
                report["ackTime"] = _elapsed_ms(ticket.created_at, ticket.first_response_at)
                report["acknowledgedBy"] = owner or "API"
            if closed:
                closed_at = ticket.resolved_at or ticket.updated_at
                report["closeTime"] = _elapsed_ms(ticket.created_at, closed_at)
                report["closedBy"] = owner or "API"
            self._alerts[alert_id] = {
                "seen": acknowledged,
                "id": alert_id,
                "tinyId": tiny_id,
                "alias": alert_id,
                "message": ticket.title[:MESSAGE_LIMIT],
                "status": "closed" if closed else "open",
                "acknowledged": acknowledged,
                "isSeen": acknowledged,
                "tags": [],
                "snoozed": snoozed and not closed,
                **(
                    {"snoozedUntil": format_timestamp(ticket.due_at)}
                    if snoozed and not closed and ticket.due_at
                    else {}
                ),
                "count": previous["count"] if previous else 1,
                "lastOccurredAt": format_timestamp(ticket.created_at),
                "createdAt": format_timestamp(ticket.created_at),
                "updatedAt": format_timestamp(ticket.updated_at),
                "source": ticket.asset or DEFAULT_SOURCE,
                "owner": owner,
                "priority": ticket.priority.value if ticket.priority else "P3",
                "teams": [{"id": team}] if team else [],
                "responders": [{"type": "team", "id": team}] if team else [],
                "integration": {
                    "id": "3cc69931-167f-411c-a331-768997c29d2e",
                    "name": "API",
                    "type": "API",
                },
                "report": report,
                "ownerTeamId": team or "",
                "entity": ticket.asset or "",
                "description": ticket.description,
            }
            return f"#{tiny_id}"

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. ``acknowledged=True``), bumping ``updatedAt``."""
        with self.lock:
            row = self._alerts[self._ids_by_ref[ref]]
            settable = set(row) - {"id", "tinyId", "createdAt", "updatedAt"}
            if not set(fields) <= settable:
                raise KeyError(f"cannot set {sorted(set(fields) - settable)}")
            if "status" in fields and fields["status"] not in ("open", "closed"):
                raise ValueError("status must be open or closed")
            if "priority" in fields and fields["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
                raise ValueError("priority must be one of P1..P5")
            row.update(fields)
            row["updatedAt"] = format_timestamp(self.clock())

    def alert_id(self, ref: str) -> str:
        """The native id of the alert put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def alert(self, ref: str) -> dict[str, Any]:
        """A copy of the alert as the list shows it."""
        with self.lock:
            copied: dict[str, Any] = _copy(self._alerts[self._ids_by_ref[ref]])
            return copied

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
        """Copies of an alert's notes as ``GET /v2/alerts/{id}/notes`` lists them."""
        with self.lock:
            return [dict(n) for n in self._notes.get(alert_id, [])]

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
        path = request.path.rstrip("/")
        if request.method == "POST":
            return self._write(request, path, request_id)
        if request.method not in ("GET", "HEAD"):
            return _error(404, "Requested resource does not exist")
        if path == ALERTS_PATH:
            return self._list(request)
        match = _REQUEST_PATH.match(path)
        if match is not None:
            return self._request_status(unquote(match["request_id"]))
        match = _ACTION_PATH.match(path)
        if match is not None and match["action"] == "notes":
            row = self._find(unquote(match["identifier"]), request.param("identifierType", "id"))
            if row is None:
                return _error(404, "Alert does not exist")
            return Reply(
                200,
                {"data": self.notes_on(row["id"]), "paging": {}, "took": 0.0, "requestId": ""},
            )
        if path == TEAMS_PATH:
            if not self.teams_readable:
                return _error(403, "You are not authorized to perform this action")
            return _ok([_copy(team) for team in self._teams.values()])
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
        if path == ALERTS_PATH:
            problems.update(_check_create(body))
            if problems:
                return _invalid(problems)
            self._statuses[request_id] = self._create(body)
            return self._accepted(request_id)
        match = _ACTION_PATH.match(path)
        if match is None:
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
            name, failure is None, failure or done, alert_id=row["id"], alias=row["alias"]
        )
        return self._accepted(request_id)

    def _apply(self, row: dict[str, Any], action: str, body: dict[str, Any]) -> str | None:
        """Carry one alert action out; the failure text when Opsgenie would not."""
        user = body.get("user") or "API"
        now = self.clock()
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
            row["owner"] = found["username"]
        elif action == "acknowledge":
            if not row["acknowledged"]:
                row["acknowledged"] = row["isSeen"] = row["seen"] = True
                row["report"]["ackTime"] = _elapsed_ms(parse_iso(row["createdAt"]) or now, now)
                row["report"]["acknowledgedBy"] = user
        elif action == "close" and row["status"] != "closed":
            row["status"] = "closed"
            row["snoozed"] = False
            row.pop("snoozedUntil", None)
            row["report"]["closeTime"] = _elapsed_ms(parse_iso(row["createdAt"]) or now, now)
            row["report"]["closedBy"] = user
        note = body.get("note")
        if isinstance(note, str) and note.strip():
            self._notes.setdefault(row["id"], []).append(
                {
                    "note": note,
                    "owner": user,
                    "createdAt": format_timestamp(now),
                    "offset": str(_millis(now)),
                }
            )
            self.record_comment(row["id"], note, public=False)
        row["updatedAt"] = format_timestamp(now)
        return None

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new alert, or one more occurrence of the open alert with the same alias."""
        now = self.clock()
        alias = body.get("alias")
        if isinstance(alias, str) and alias:
            for row in self._alerts.values():
                if row["alias"] == alias and row["status"] == "open":
                    row["count"] += 1
                    row["lastOccurredAt"] = row["updatedAt"] = format_timestamp(now)
                    return self._status(
                        "Create",
                        True,
                        "Alert with this alias is open: its count was increased",
                        alert_id=row["id"],
                        alias=alias,
                    )
        alert_id = f"{uuid.uuid4()}-{_millis(now)}"
        stamp = format_timestamp(now)
        responders = [dict(r) for r in body.get("responders") or [] if isinstance(r, dict)]
        self._alerts[alert_id] = {
            "seen": False,
            "id": alert_id,
            "tinyId": str(next(self._tiny_ids)),
            "alias": alias if isinstance(alias, str) and alias else alert_id,
            "message": str(body["message"])[:MESSAGE_LIMIT],
            "status": "open",
            "acknowledged": False,
            "isSeen": False,
            "tags": [str(t) for t in body.get("tags") or []],
            "snoozed": False,
            "count": 1,
            "lastOccurredAt": stamp,
            "createdAt": stamp,
            "updatedAt": stamp,
            "source": str(body.get("source") or DEFAULT_SOURCE),
            "owner": "",
            "priority": body.get("priority") or "P3",
            "teams": [{"id": r["id"]} for r in responders if r.get("type") == "team"],
            "responders": responders,
            "integration": {
                "id": "3cc69931-167f-411c-a331-768997c29d2e",
                "name": "API",
                "type": "API",
            },
            "report": {},
            "ownerTeamId": "",
            "entity": str(body.get("entity") or ""),
            "description": str(body.get("description") or ""),
        }
        details = body.get("details")
        if isinstance(details, dict):
            self._details[alert_id] = {str(k): str(v) for k, v in details.items()}
        self.created.append(alert_id)
        return self._status(
            "Create",
            True,
            "Created alert",
            alert_id=alert_id,
            alias=self._alerts[alert_id]["alias"],
        )

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
            "integrationId": "3cc69931-167f-411c-a331-768997c29d2e",
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

    def _find(self, identifier: str, kind: str | None) -> dict[str, Any] | None:
        """The alert an identifier names; for an alias, the open alert first, else the newest."""
        field = {"id": "id", "alias": "alias", "tiny": "tinyId"}.get(kind or "id", "id")
        rows = [row for row in self._alerts.values() if row[field] == identifier]
        if not rows:
            return None
        rows.sort(key=lambda r: (r["status"] == "open", parse_iso(r["createdAt"])))
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

    def _list(self, request: Request) -> Reply:
        problems: dict[str, str] = {}
        limit = _whole(request.param("limit"), self.page_size)
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            problems["limit"] = f"Limit should be between 1 and {MAX_LIMIT}"
        offset = _whole(request.param("offset"), 0)
        if offset is None or offset < 0:
            problems["offset"] = "Offset should not be negative"
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
        if problems or limit is None or offset is None or terms is None:
            return Reply(
                422,
                {
                    "message": "Request validation failed",
                    "errors": problems,
                    "took": 0.0,
                    "requestId": "",
                },
            )
        rows = [row for row in self._alerts.values() if _matches(row, terms)]
        rows.sort(
            key=lambda row: (_sort_value(row, sort), int(row["tinyId"])), reverse=order == "desc"
        )
        page = rows[offset : offset + limit]
        if self.page_cap is not None:
            page = page[: self.page_cap]
        link = _link_maker(limit, sort, order, query)
        paging: dict[str, str] = {}
        after = offset + (len(page) if self.page_cap is not None else limit)
        if after < len(rows):
            paging["next"] = link(after)
        if offset > 0:
            paging["prev"] = link(max(offset - limit, 0))
        paging["first"] = link(0)
        paging["last"] = link(max(len(rows) - 1, 0) // limit * limit)
        body = {
            "data": [_copy(row) for row in page],
            "paging": paging,
            "took": 0.0,
            "requestId": "",
        }
        return Reply(200, body)

    def _get_alert(self, identifier: str, kind: str | None) -> Reply:
        if (kind or "id") not in ("id", "alias", "tiny"):
            return _error(422, f"Invalid identifierType [{kind}]")
        row = self._find(identifier, kind)
        if row is None:
            return _error(404, "Alert does not exist")
        view: dict[str, Any] = _copy(row)
        view["details"] = dict(self._details.get(row["id"], {}))
        return _ok(view)

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
    for field in ("user", "source"):
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > ACTOR_LIMIT):
            problems[field] = f"{field} must be text of at most {ACTOR_LIMIT} characters"
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
    return {}


def _elapsed_ms(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds() * 1000), 0)


def _whole(text: str | None, default: int) -> int | None:
    if text is None or text == "":
        return default
    return int(text) if text.lstrip("-").isdigit() else None


def _parse_query(query: str) -> list[tuple[str, str]] | None:
    """``field: value`` terms joined by ``AND``; ``None`` for anything outside that subset."""
    if not query.strip():
        return []
    terms = []
    for term in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE):
        name, colon, value = term.partition(":")
        name, value = name.strip(), value.strip().strip('"')
        if not colon or name not in QUERY_FIELDS or not value:
            return None
        terms.append((name, value))
    return terms


def _matches(row: dict[str, Any], terms: list[tuple[str, str]]) -> bool:
    return all(str(row.get(name)).lower() == value.lower() for name, value in terms)


def _sort_value(row: dict[str, Any], sort: str) -> Any:
    if sort in ("createdAt", "updatedAt"):
        return parse_iso(row[sort])
    if sort == "tinyId":
        return int(row["tinyId"])
    return str(row.get(sort, ""))


def _link_maker(limit: int, sort: str, order: str, query: str) -> Callable[[int], str]:
    def link(offset: int) -> str:
        params: dict[str, Any] = {"limit": limit, "sort": sort, "offset": offset, "order": order}
        if query:
            params = {"query": query, **params}
        return f"{PUBLIC_API}{ALERTS_PATH}?{urlencode(params)}"

    return link


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


EMULATOR = OpsgenieEmulator

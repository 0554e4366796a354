"""A Zendesk Support account on loopback, speaking the v2 wire format.

Tickets are kept as Zendesk keeps them (see ``vendor-apis.md`` §3 and the
capture ``zendesk-ticket.json``): sequential integer ticket ids, 13-digit user
and group ids, lowercase ``status``/``priority``, ``…Z`` timestamps without a
fraction, and an export-only ``generated_timestamp`` (Unix seconds) bumped on
every change. The cursor export orders tickets by ``(generated_timestamp, id)``
and hands out opaque cursors; the ``users``, ``groups`` and ``slas`` sideloads,
API-token Basic auth, rate-limit headers and the export's own 400/401/429
bodies follow the real service.

Real Zendesk withholds changes of the last minute so a saved cursor can never
sit past a ticket that is changed again within the same second. The emulator
keeps that guarantee without the delay: a change never gets a
``generated_timestamp`` at or before the newest position it has handed out.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "ZendeskEmulator", "decode_cursor", "encode_cursor"]

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
TICKETS_PATH = "/api/v2/tickets.json"
ME_PATH = "/api/v2/users/me.json"
ACCOUNT_RATE_LIMIT = 700
"""Requests per minute of an Enterprise plan, as ``X-Rate-Limit`` reports it."""
MAX_PER_PAGE = 1000
MIN_START_AGE = 60

NATIVE_STATUSES = frozenset({"new", "open", "pending", "hold", "solved", "closed", "deleted"})
NATIVE_PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
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
_RUNNING = frozenset({"new", "open", "pending", "hold"})
"""Statuses in which an SLA clock still runs (solved/closed achieve it)."""
_TICKET_PATH = re.compile(r"^/api/v2/tickets/(?P<id>\d+)\.json$")
_NOT_FOUND = Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})


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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class ZendeskEmulator(TicketEmulator):
    """One Zendesk account with an API-token agent, users, groups and tickets."""

    kind: ClassVar[str] = "zendesk"

    def __init__(
        self,
        *,
        email: str = "desk@acme.example",
        api_token: str = "demo-token",
        agent_name: str = "Desk Agent",
        export_requests_per_minute: int | None = None,
        first_ticket_id: int = 4201,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = MAX_PER_PAGE,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.email = email
        self.api_token = api_token
        self.export_requests_per_minute = export_requests_per_minute
        """When set, export requests beyond this many a minute get 429 + ``Retry-After``."""
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(4678475376118, 7919)
        self._tickets: dict[int, dict[str, Any]] = {}
        self._slas: dict[int, list[dict[str, Any]]] = {}
        """Per ticket: ``metric``, ``stage`` and ``breach_at`` (a datetime or ``None``)."""
        self._ids_by_ref: dict[str, int] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._served_stamp = 0
        """The newest ``generated_timestamp`` inside any cursor handed out."""
        self._recent: deque[float] = deque()
        self._recent_exports: deque[float] = deque()
        self.agent_id = self._user_named(agent_name, role="agent", email=email)

    def __enter__(self) -> ZendeskEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`ZendeskConnector` needs to reach this account."""
        return {"kind": "zendesk", "email": self.email, "api_token": self.api_token}

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``."""
        with self.lock:
            ticket_id = self._ids_by_ref.get(ticket.ref)
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            requester = self._user_named(ticket.requester) if ticket.requester else None
            assignee = self._user_named(ticket.assignee, role="agent") if ticket.assignee else None
            group = self._group_named(ticket.group) if ticket.group else None
            status = _STATUS_OUT[ticket.status]
            self._tickets[ticket_id] = {
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
                "status": status,
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
            self._slas[ticket_id] = _policy_metrics(ticket, running=status in _RUNNING)
            self._bump(ticket_id)
            return f"#{ticket_id}"

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. ``status="hold"``), as an agent in Zendesk can."""
        with self.lock:
            row = self._tickets[self._ids_by_ref[ref]]
            settable = (set(row) | {"slas"}) - {"id", "generated_timestamp"}
            if not set(fields) <= settable:
                raise KeyError(f"cannot set {sorted(set(fields) - settable)}")
            if "status" in fields and fields["status"] not in NATIVE_STATUSES:
                raise ValueError(f"status must be one of {sorted(NATIVE_STATUSES)}")
            priority = fields.get("priority")
            if priority is not None and priority not in NATIVE_PRIORITIES:
                raise ValueError(f"priority must be null or one of {sorted(NATIVE_PRIORITIES)}")
            if "slas" in fields:
                self._slas[row["id"]] = list(fields.pop("slas"))
            row.update(fields)
            row["updated_at"] = _stamp(self.clock())
            self._bump(row["id"])

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

    # -- wire format ---------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the endpoints the connector uses, with rate-limit headers on every answer."""
        now = self.clock().timestamp()
        self._recent.append(now)
        while self._recent and self._recent[0] <= now - 60:
            self._recent.popleft()
        reply = self._answer(request, now)
        reply.headers.setdefault("X-Rate-Limit", str(ACCOUNT_RATE_LIMIT))
        reply.headers.setdefault(
            "X-Rate-Limit-Remaining", str(max(ACCOUNT_RATE_LIMIT - len(self._recent), 0))
        )
        return reply

    def _answer(self, request: Request, now: float) -> Reply:
        if not self._authorised(request.headers.get("authorization")):
            return Reply(
                401,
                {"error": "Couldn't authenticate you"},
                headers={"WWW-Authenticate": 'Basic realm="Web Password"'},
            )
        path = request.path.rstrip("/")
        if request.method in ("PUT", "POST"):
            return self._write(request, path)
        if request.method not in ("GET", "HEAD"):
            return _NOT_FOUND
        if path == TICKETS_PATH:
            wanted = request.param("external_id")
            rows = [
                self._ticket_view(tid, with_slas=False)
                for tid, row in sorted(self._tickets.items())
                if wanted is None or row["external_id"] == wanted
            ]
            return Reply(200, {"tickets": rows, "next_page": None, "count": len(rows)})
        if path in (EXPORT_PATH, EXPORT_PATH.removesuffix(".json")):
            return self._export(request, now)
        if path in (ME_PATH, ME_PATH.removesuffix(".json")):
            return Reply(200, {"user": self._user_view(self._users[self.agent_id])})
        match = _TICKET_PATH.match(path)
        if match is not None:
            ticket_id = int(match["id"])
            if ticket_id not in self._tickets or self._tickets[ticket_id]["status"] == "deleted":
                return _error(404, "RecordNotFound", "Not found")
            return Reply(200, {"ticket": self._ticket_view(ticket_id, with_slas=False)})
        return _NOT_FOUND

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
        match = _TICKET_PATH.match(path)
        if request.method != "PUT" or match is None:
            return _NOT_FOUND
        ticket_id = int(match["id"])
        row = self._tickets.get(ticket_id)
        if row is None or row["status"] == "deleted":
            return _error(404, "RecordNotFound", "Not found")
        invalid = self._apply(row, change)
        if invalid is not None:
            return invalid
        row["updated_at"] = _stamp(self.clock())
        self._bump(ticket_id)
        return Reply(200, {"ticket": self._ticket_view(ticket_id, with_slas=False)})

    def _apply(self, row: dict[str, Any], change: dict[str, Any]) -> Reply | None:
        """Apply the fields of a ticket update, or a 422 naming the first bad one."""
        status = change.get("status")
        if status is not None and status not in NATIVE_STATUSES - {"deleted"}:
            return _invalid("status", f"{status} is not a valid status")
        if row["status"] == "closed":
            return _invalid("status", "closed prevents ticket update")
        assignee = change.get("assignee_id")
        email = change.get("assignee_email")
        if email is not None:
            assignee = next((u["id"] for u in self._users.values() if u["email"] == email), -1)
        if assignee is not None and self._users.get(assignee, {}).get("role") != "agent":
            return _invalid("assignee", "is not an agent of this account")
        comment = change.get("comment")
        if comment is not None:
            text = comment.get("body") if isinstance(comment, dict) else None
            if not isinstance(text, str) or not text.strip():
                return _invalid("comment", "body cannot be blank")
            self.record_comment(row["id"], text, public=comment.get("public", True) is not False)
        if status is not None:
            row["status"] = status
            if status in ("solved", "closed"):
                for metric in self._slas.get(row["id"], []):
                    metric.update(stage="achieved", breach_at=None)
        if assignee is not None:
            row["assignee_id"] = assignee
        if change.get("group_id") is not None:
            row["group_id"] = change["group_id"]
        return None

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
        row["external_id"] = change.get("external_id")
        row["priority"] = priority if priority in NATIVE_PRIORITIES else None
        row["tags"] = [str(t) for t in change.get("tags") or []]
        self.created.append(str(ticket_id))
        return Reply(201, {"ticket": self._ticket_view(ticket_id, with_slas=False)})

    def _export(self, request: Request, now: float) -> Reply:
        limited = self._export_rate_limited(now)
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
            start_text = request.param("start_time")
            if start_text is None:
                return _error(400, "InvalidValue", "start_time or cursor is required")
            if not start_text.lstrip("-").isdigit():
                return _error(400, "InvalidValue", "start_time must be an integer")
            start_time = int(start_text)
            if start_time > now - MIN_START_AGE:
                return _error(
                    400,
                    "InvalidValue",
                    "Too recent start_time. Use a start_time older than 1 minute.",
                )
            position = (start_time, -1)
        includes = set((request.param("include") or "").split(","))
        return Reply(200, self._export_page(position, per_page, includes))

    def _export_page(
        self, position: tuple[int, int], per_page: int, includes: set[str]
    ) -> dict[str, Any]:
        ordered = sorted(
            (row["generated_timestamp"], row["id"])
            for row in self._tickets.values()
            if (row["generated_timestamp"], row["id"]) > position
        )
        page = ordered[:per_page]
        after = page[-1] if page else position
        self._served_stamp = max(self._served_stamp, after[0])
        after_cursor = encode_cursor(*after)
        before_cursor = encode_cursor(*page[0]) if page else None
        body: dict[str, Any] = {
            "tickets": [self._ticket_view(tid, with_slas="slas" in includes) for _, tid in page],
            "after_url": self._export_url(after_cursor, per_page, includes),
            "after_cursor": after_cursor,
            "before_url": (
                self._export_url(before_cursor, per_page, includes) if before_cursor else None
            ),
            "before_cursor": before_cursor,
            "end_of_stream": len(ordered) <= per_page,
        }
        rows = [self._tickets[tid] for _, tid in page]
        if "users" in includes:
            user_ids = {
                uid
                for row in rows
                for uid in (
                    row["requester_id"],
                    row["submitter_id"],
                    row["assignee_id"],
                    *row["collaborator_ids"],
                )
                if uid is not None
            }
            body["users"] = [self._user_view(self._users[uid]) for uid in sorted(user_ids)]
        if "groups" in includes:
            group_ids = {row["group_id"] for row in rows if row["group_id"] is not None}
            body["groups"] = [self._group_view(self._groups[gid]) for gid in sorted(group_ids)]
        return body

    def _export_rate_limited(self, now: float) -> Reply | None:
        """The export's own per-minute limit (Zendesk: 10, or 30 with High Volume)."""
        limit = self.export_requests_per_minute
        recent = self._recent_exports
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

    # -- internals -----------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.email}/token:{self.api_token}"

    def _bump(self, ticket_id: int) -> None:
        """Mark a change for the export, always after every position already handed out."""
        now = int(self.clock().timestamp())
        self._tickets[ticket_id]["generated_timestamp"] = max(now, self._served_stamp + 1)

    def _user_named(self, name: str, *, role: str = "end-user", email: str | None = None) -> int:
        for row in self._users.values():
            if row["name"] == name:
                if role == "agent" and row["role"] == "end-user":
                    row["role"] = "agent"
                return int(row["id"])
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
        return user_id

    def _group_named(self, name: str) -> int:
        for row in self._groups.values():
            if row["name"] == name:
                return int(row["id"])
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
        return group_id

    def _ticket_view(self, ticket_id: int, *, with_slas: bool) -> dict[str, Any]:
        row = self._tickets[ticket_id]
        view = {"url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json", **row}
        for key in ("via", "collaborator_ids", "follower_ids", "tags", "custom_fields", "fields"):
            view[key] = _copy(row[key])
        if with_slas:
            now = self.clock()
            view["slas"] = {
                "policy_metrics": [_metric_view(m, now) for m in self._slas.get(ticket_id, [])]
            }
        return view

    def _user_view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"{self.base_url}/api/v2/users/{row['id']}.json", **row}

    def _group_view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"{self.base_url}/api/v2/groups/{row['id']}.json", **row}

    def _export_url(self, cursor: str, per_page: int, includes: set[str]) -> str:
        query: dict[str, Any] = {"cursor": cursor, "per_page": per_page}
        sideloads = ",".join(sorted(i for i in includes if i))
        if sideloads:
            query["include"] = sideloads
        return f"{self.base_url}{EXPORT_PATH}?{urlencode(query)}"


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


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


EMULATOR = ZendeskEmulator

"""A Freshservice account on loopback, speaking the API v2 wire format.

Tickets are kept as Freshservice keeps them (vendor-apis.md §6 and the capture
``freshservice-tickets.json``): sequential integer ticket ids, 11-digit ids
for requesters, agents and groups, integer ``status``/``priority``/``source``
codes, ``…Z`` timestamps without a fraction, ``due_by``/``fr_due_by`` and the
``is_escalated``/``fr_escalated`` SLA flags, HTML ``description`` next to
``description_text``.

``GET /api/v2/tickets`` filters on ``updated_since`` (without it: tickets
created in the last 30 days), sorts by ``created_at`` (``order_type``, default
``desc``), pages with ``page``/``per_page`` (default 30, max 100) and sends
``Link: <…>; rel="next"`` while more rows exist. The ``requester`` and
``stats`` embeds are served. Every answer carries ``X-RateLimit-Total``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Used-CurrentRequest``; a request
costs one credit plus one per embed, failed requests count too, and an
exhausted minute answers 429 with ``Retry-After``. A wrong API key gets 401
with Freshservice's ``invalid_credentials`` body.

Writes (vendor-apis.md §6.8) change the native rows and bump ``updated_at``,
so the next ``updated_since`` poll sees them: ``POST /tickets`` (create, 201;
the requester is found or made from ``email``), ``PUT /tickets/{id}``
(``status``, ``priority``, ``responder_id``, ``group_id``, ``subject``,
``description``; 200), ``POST /tickets/{id}/notes`` and ``…/reply`` (201,
``{"conversation": …}``, kept for ``GET …/conversations``). A write without
``Content-Type: application/json`` gets 415; a bad field gets the 400
``{"description": "Validation failed", "errors": [{field, message, code}]}``
body with Freshworks' own texts (``Unexpected/invalid field in request``,
``There is no agent matching the given responder_id``, …).

Unverified details, kept plausible rather than invented in detail: the exact
``stats`` key list, the 404 and 429 body texts, and the emulator's own default
SLA targets (every Freshservice account has a default SLA policy, so every
ticket has ``due_by``/``fr_due_by``; the targets here are ours).
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import math
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "FreshserviceEmulator"]

TICKETS_PATH = "/api/v2/tickets"
ME_PATH = "/api/v2/agents/me"
PLAN_RATE_LIMIT = 400
"""Credits per minute of a Pro plan, as ``X-RateLimit-Total`` reports it."""
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
DEFAULT_WINDOW = timedelta(days=30)
"""Without ``updated_since`` the list shows tickets created in the last 30 days."""
LIST_EMBEDS = frozenset({"requester", "stats"})
VIEW_EMBEDS = LIST_EMBEDS | {
    "conversations",
    "problem",
    "assets",
    "change",
    "related_tickets",
    "requested_for",
    "department",
    "feedback",
    "tags",
}

_STATUS_OUT = {
    TicketStatus.NEW: 2,
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.RESOLVED: 4,
    TicketStatus.CLOSED: 5,
}
_PRIORITY_OUT = {Priority.P1: 4, Priority.P2: 3, Priority.P3: 2, Priority.P4: 1, Priority.P5: 1}
_ACTIVE = frozenset({2, 3})
"""Built-in statuses in which the SLA clocks still run (custom statuses count as active)."""
_SLA_TARGETS = {
    4: (timedelta(hours=1), timedelta(hours=4)),
    3: (timedelta(hours=4), timedelta(days=1)),
    2: (timedelta(days=1), timedelta(days=3)),
    1: (timedelta(days=2), timedelta(days=5)),
}
"""Default policy per priority code: (first response within, resolution within)."""
_TICKET_PATH = re.compile(r"^/api/v2/tickets/(?P<id>\d+)$")
_CONVERSATION_PATH = re.compile(
    r"^/api/v2/tickets/(?P<id>\d+)/(?P<kind>notes|reply|conversations)$"
)
_NATIVE_STATUSES = frozenset({2, 3, 4, 5})
_NATIVE_PRIORITIES = frozenset({1, 2, 3, 4})
_NATIVE_SOURCES = frozenset(range(1, 11))
_SETTABLE = frozenset(
    {
        "subject",
        "description",
        "status",
        "priority",
        "source",
        "type",
        "responder_id",
        "group_id",
        "category",
        "sub_category",
        "item_category",
        "department_id",
    }
)
"""Ticket fields the emulator lets ``PUT /tickets/{id}`` change (any other is ``invalid_field``)."""
_CREATE_FIELDS = _SETTABLE | {"email", "requester_id", "workspace_id"}
"""Fields the emulator's ``POST /tickets`` takes: the settable ones plus who and where."""
_NOTE_FIELDS = frozenset({"body", "private", "notify_emails", "incoming"})
_REPLY_FIELDS = frozenset({"body", "cc_emails", "bcc_emails", "from_email"})
_INVALID_CREDENTIALS = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}


def _stamp(value: datetime) -> str:
    """Freshservice's timestamp form: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _parse_since(text: str) -> datetime | None:
    """``updated_since`` as Freshservice accepts it: ISO 8601, ``Z`` or an offset."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, message: str, code: str = "invalid_value") -> Reply:
    """Freshservice's 400 validation body."""
    return _validation([{"field": field, "message": message, "code": code}])


def _validation(errors: list[dict[str, str]]) -> Reply:
    """Freshservice's 400 body listing every field that failed, as the real API does."""
    return Reply(400, {"description": "Validation failed", "errors": errors})


def _error(field: str, message: str, code: str = "invalid_value") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_of(body: str) -> str:
    """``body_text`` as Freshservice derives it: tags dropped, entities decoded."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", body, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]*>", "", text)).strip()


def _not_found() -> Reply:
    return Reply(404, {"code": "not_found", "message": "The requested resource was not found."})


class FreshserviceEmulator(TicketEmulator):
    """One Freshservice account with an API-key agent, requesters, agents, groups and tickets."""

    kind: ClassVar[str] = "freshservice"

    def __init__(
        self,
        *,
        api_key: str = "demo-freshservice-key",
        agent_name: str = "Desk Agent",
        rate_limit_per_minute: int = PLAN_RATE_LIMIT,
        filter_after_paging: bool = False,
        first_ticket_id: int = 1,
        workspace_id: int = 2,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_PER_PAGE,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.api_key = api_key
        self.rate_limit_per_minute = rate_limit_per_minute
        self.filter_after_paging = filter_after_paging
        """Cut each page from all rows, then drop deleted/spam ones (short pages, next link)."""
        self.workspace_id = workspace_id
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(21001397559, 4)
        self._tickets: dict[int, dict[str, Any]] = {}
        self._stats: dict[int, dict[str, Any]] = {}
        self._ids_by_ref: dict[str, int] = {}
        self._requesters: dict[int, dict[str, Any]] = {}
        self._agents: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._conversations: dict[int, list[dict[str, Any]]] = {}
        """Notes and replies written through the API, per ticket id."""
        self._spent: deque[tuple[float, int]] = deque()
        """(time, credits) of every request in the current minute."""
        self.agent_id = self._agent_named(agent_name)

    def __enter__(self) -> FreshserviceEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`FreshserviceConnector` needs to reach this account.

        ``default_requester_email`` lets hand-offs whose source names no e-mail
        be created (the service desk's own agent stands in as requester).
        """
        return {
            "kind": "freshservice",
            "api_key": self.api_key,
            "default_requester_email": self._agents[self.agent_id]["email"],
        }

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``."""
        with self.lock:
            ticket_id = self._ids_by_ref.get(ticket.ref)
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            status = _STATUS_OUT[ticket.status]
            priority = _PRIORITY_OUT[ticket.priority] if ticket.priority else 1
            requester = (
                self._requester_named(ticket.requester) if ticket.requester else self.agent_id
            )
            respond_within, resolve_within = _SLA_TARGETS[priority]
            due_by = ticket.due_at or ticket.created_at + resolve_within
            fr_due_by = min(ticket.created_at + respond_within, due_by)
            now = self.clock()
            active = status in _ACTIVE
            breached = ticket.breached if ticket.breached is not None else active and now > due_by
            answered = ticket.first_response_at
            fr_late = answered > fr_due_by if answered else active and now > fr_due_by
            description = ticket.description or ticket.title
            self._tickets[ticket_id] = {
                "subject": ticket.title,
                "group_id": self._group_named(ticket.group) if ticket.group else None,
                "department_id": None,
                "category": None,
                "sub_category": None,
                "item_category": None,
                "requester_id": requester,
                "responder_id": self._agent_named(ticket.assignee) if ticket.assignee else None,
                "due_by": _stamp(due_by),
                "fr_escalated": fr_late,
                "deleted": False,
                "spam": False,
                "email_config_id": None,
                "fwd_emails": [],
                "reply_cc_emails": [],
                "cc_emails": [],
                "is_escalated": breached,
                "fr_due_by": _stamp(fr_due_by),
                "id": ticket_id,
                "priority": priority,
                "status": status,
                "source": 2,
                "created_at": _stamp(ticket.created_at),
                "updated_at": _stamp(ticket.updated_at),
                "requested_for_id": requester,
                "to_emails": None,
                "type": "Incident",
                "description": f"<div>{html.escape(description)}</div>",
                "description_text": description,
                "custom_fields": {},
                "workspace_id": self.workspace_id,
            }
            resolved = ticket.resolved_at
            if resolved is None and status in (4, 5):
                resolved = ticket.updated_at
            self._stats[ticket_id] = {
                "ticket_id": ticket_id,
                "opened_at": _stamp(ticket.created_at),
                "first_responded_at": _stamp(answered) if answered else None,
                "agent_responded_at": _stamp(answered) if answered else None,
                "requester_responded_at": None,
                "status_updated_at": _stamp(ticket.updated_at),
                "pending_since": _stamp(ticket.updated_at) if status == 3 else None,
                "resolved_at": _stamp(resolved) if resolved else None,
                "closed_at": _stamp(ticket.updated_at) if status == 5 else None,
                "created_at": _stamp(ticket.created_at),
                "updated_at": _stamp(ticket.updated_at),
            }
            return f"#{ticket_id}"

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. a custom ``status=6``), as an agent can."""
        with self.lock:
            row = self._tickets[self._ids_by_ref[ref]]
            unknown = set(fields) - (set(row) - {"id", "created_at"})
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            for key in ("status", "priority"):
                value = fields.get(key)
                if key in fields and (not isinstance(value, int) or isinstance(value, bool)):
                    raise ValueError(f"{key} must be an integer code")
            row.update(fields)
            if "updated_at" not in fields:
                row["updated_at"] = _stamp(self.clock())

    def delete_ticket(self, ref: str) -> None:
        """Move a ticket to trash: the list stops showing it."""
        self.set_native(ref, deleted=True)

    def ticket_id(self, ref: str) -> int:
        """The native id of the ticket put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as the list shows it, without embeds."""
        with self.lock:
            return self._ticket_view(self._ids_by_ref[ref], set())

    def native(self, ticket_id: int) -> dict[str, Any]:
        """A copy of the ticket with this id (API-created ones have no ``ref``)."""
        with self.lock:
            return self._ticket_view(ticket_id, {"stats"})

    def agent_named(self, name: str) -> int:
        """The id of the agent called ``name`` (made on first use), as ``responder_id`` takes it."""
        with self.lock:
            return self._agent_named(name)

    # -- wire format ---------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Charge the request's credits, then answer; rate-limit headers on every answer."""
        now = self.clock().timestamp()
        while self._spent and self._spent[0][0] <= now - 60:
            self._spent.popleft()
        cost = 1 + len(self._embeds(request)) if request.path == TICKETS_PATH else 1
        used = sum(credits for _, credits in self._spent)
        if used + cost > self.rate_limit_per_minute:
            wait = max(math.ceil(self._spent[0][0] + 60 - now), 1) if self._spent else 60
            reply = Reply(
                429,
                {"message": "You have exceeded the limit of requests per minute"},
                headers={"Retry-After": str(wait)},
            )
            cost = 0
        else:
            self._spent.append((now, cost))
            used += cost
            reply = self._answer(request)
        reply.headers.setdefault("X-RateLimit-Total", str(self.rate_limit_per_minute))
        reply.headers.setdefault(
            "X-RateLimit-Remaining", str(max(self.rate_limit_per_minute - used, 0))
        )
        reply.headers.setdefault("X-RateLimit-Used-CurrentRequest", str(cost))
        return reply

    def _answer(self, request: Request) -> Reply:
        if not self._authorised(request.headers.get("authorization")):
            return Reply(401, dict(_INVALID_CREDENTIALS))
        path = request.path.rstrip("/")
        if request.method in ("POST", "PUT"):
            return self._write(request, path)
        if request.method not in ("GET", "HEAD"):
            return _not_found()
        conversation = _CONVERSATION_PATH.match(path)
        if conversation is not None and conversation["kind"] == "conversations":
            ticket_id = int(conversation["id"])
            row = self._tickets.get(ticket_id)
            if row is None or row["deleted"]:
                return _not_found()
            rows = [dict(c) for c in self._conversations.get(ticket_id, [])]
            return Reply(200, {"conversations": rows, "meta": {"count": len(rows)}})
        if path == TICKETS_PATH:
            return self._list(request)
        if path == ME_PATH:
            return Reply(200, {"agent": dict(self._agents[self.agent_id])})
        match = _TICKET_PATH.match(path)
        if match is not None:
            ticket_id = int(match["id"])
            row = self._tickets.get(ticket_id)
            if row is None or row["deleted"]:
                return _not_found()
            embeds = self._embeds(request)
            if not embeds <= VIEW_EMBEDS:
                return _invalid("include", f"It should be one of {','.join(sorted(VIEW_EMBEDS))}")
            return Reply(200, {"ticket": self._ticket_view(ticket_id, embeds)})
        return _not_found()

    def _list(self, request: Request) -> Reply:
        per_page_text = request.param("per_page")
        per_page = self.page_size
        if per_page_text is not None:
            if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
                message = f"It should be a Positive Integer less than or equal to {MAX_PER_PAGE}"
                return _invalid("per_page", message)
            per_page = int(per_page_text)
        page_text = request.param("page", "1") or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            return _invalid("page", "It should be a Positive Integer")
        page = int(page_text)
        order = request.param("order_type", "desc")
        if order not in ("asc", "desc"):
            return _invalid("order_type", "It should be one of these values: 'asc,desc'")
        embeds = self._embeds(request)
        if not embeds <= LIST_EMBEDS:
            return _invalid("include", "It should be one of these values: 'requester,stats'")
        since_text = request.param("updated_since")
        if since_text is not None:
            since = _parse_since(since_text)
            if since is None:
                return _invalid("updated_since", "It should be in the 'valid date' format")
            rows = [r for r in self._tickets.values() if _when(r["updated_at"]) >= since]
        else:
            created_after = self.clock() - DEFAULT_WINDOW
            rows = [r for r in self._tickets.values() if _when(r["created_at"]) >= created_after]
        if not self.filter_after_paging:
            rows = [r for r in rows if not (r["deleted"] or r["spam"])]
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=order == "desc")
        window = rows[(page - 1) * per_page : page * per_page]
        if self.filter_after_paging:
            window = [r for r in window if not (r["deleted"] or r["spam"])]
        headers: dict[str, str] = {}
        if len(rows) > page * per_page:
            query = {k: v[0] for k, v in request.query.items() if v}
            query.update({"page": str(page + 1), "per_page": str(per_page)})
            headers["Link"] = f'<{self.base_url}{TICKETS_PATH}?{urlencode(query)}>; rel="next"'
        tickets = [self._ticket_view(r["id"], embeds) for r in window]
        return Reply(200, {"tickets": tickets}, headers=headers)

    # -- writes ------------------------------------------------------------------------

    def _write(self, request: Request, path: str) -> Reply:
        """Create, update, note and reply: JSON only, then the path decides."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return Reply(
                415,
                {
                    "code": "invalid_content_type",
                    "message": f"Content-Type header is set to {content_type}. "
                    "It should be set to application/json",
                },
            )
        try:
            body = request.json()
        except ValueError:
            return _invalid("", "Request body has invalid json format", "invalid_json")
        if not isinstance(body, dict):
            return _invalid("", "Request body has invalid json format", "invalid_json")
        if request.method == "POST" and path == TICKETS_PATH:
            return self._create(body)
        match = _TICKET_PATH.match(path)
        conversation = _CONVERSATION_PATH.match(path)
        found = match or conversation
        row = self._tickets.get(int(found["id"])) if found is not None else None
        if row is None or row["deleted"]:
            return _not_found()
        if request.method == "PUT" and match is not None:
            return self._update(row, body)
        if request.method == "POST" and conversation is not None:
            if conversation["kind"] == "notes":
                return self._converse(row, body, note=True)
            if conversation["kind"] == "reply":
                return self._converse(row, body, note=False)
        return _not_found()

    def _update(self, row: dict[str, Any], body: dict[str, Any]) -> Reply:
        """``PUT /tickets/{id}``: validate every field first, then apply them all."""
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in _SETTABLE
        ]
        errors += self._field_errors(body)
        if errors:
            return _validation(errors)
        now = self.clock()
        status = body.get("status")
        if status is not None and status != row["status"]:
            self._status_changed(row["id"], status, now)
        row.update(body)
        if "description" in body:
            row["description_text"] = _text_of(body["description"])
        row["updated_at"] = _stamp(now)
        return Reply(200, {"ticket": self._ticket_view(row["id"], set())})

    def _create(self, body: dict[str, Any]) -> Reply:
        """``POST /tickets``: a requester (found or made from ``email``), subject, description."""
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in _CREATE_FIELDS
        ]
        if not any(body.get(k) for k in ("email", "requester_id")):
            errors.append(
                _error(
                    "requester_id",
                    "Please fill at least 1 of email, phone, requester_id fields",
                    "missing_field",
                )
            )
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            errors.append(_error("email", "It should be in the 'valid email address' format"))
        requester_id = body.get("requester_id")
        if requester_id is not None and requester_id not in self._requesters | self._agents:
            errors.append(
                _error("requester_id", "There is no contact matching the given requester_id")
            )
        for name in ("subject", "description"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(_error(name, "It should be a/an String", "missing_field"))
        for name in ("status", "priority"):
            if name not in body:
                errors.append(_error(name, "It should be a/an Integer", "missing_field"))
        errors += self._field_errors(body)
        if errors:
            return _validation(errors)
        now = self.clock()
        if requester_id is None:
            requester_id = self._person_by_email(str(email))
        description = str(body["description"])
        ref = f"api-{len(self.created) + 1}-{now.timestamp()}"
        key = self.put_ticket(
            WorldTicket(
                ref=ref,
                title=str(body["subject"]),
                status=TicketStatus.OPEN,
                priority=None,
                created_at=now,
                updated_at=now,
            )
        )
        ticket_id = int(key.removeprefix("#"))
        row = self._tickets[ticket_id]
        row.update(
            {k: v for k, v in body.items() if k in _CREATE_FIELDS - {"email", "status"}},
            requester_id=requester_id,
            requested_for_id=requester_id,
            description_text=_text_of(description),
        )
        respond_within, resolve_within = _SLA_TARGETS[row["priority"]]
        row.update(due_by=_stamp(now + resolve_within), fr_due_by=_stamp(now + respond_within))
        if body["status"] != row["status"]:
            self._status_changed(ticket_id, body["status"], now)
            row["status"] = body["status"]
        self.created.append(str(ticket_id))
        return Reply(201, {"ticket": self._ticket_view(ticket_id, set())})

    def _converse(self, row: dict[str, Any], body: dict[str, Any], *, note: bool) -> Reply:
        """A private (or public) note, or a public reply; both bump the ticket."""
        allowed = _NOTE_FIELDS if note else _REPLY_FIELDS
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in allowed
        ]
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            errors.append(_error("body", "It should be a/an String", "missing_field"))
        private = body.get("private", True) if note else False
        if not isinstance(private, bool):
            errors.append(_error("private", "It should be a/an Boolean", "datatype_mismatch"))
        if errors:
            return _validation(errors)
        now = self.clock()
        ticket_id = row["id"]
        assert isinstance(text, str)
        conversation = {
            "id": next(self._entity_ids),
            "user_id": self.agent_id,
            "to_emails": [] if note else [e for e in [self._email_of(row["requester_id"])] if e],
            "body": text,
            "body_text": _text_of(text),
            "ticket_id": ticket_id,
            "created_at": _stamp(now),
            "updated_at": _stamp(now),
            "incoming": False,
            "private": private,
            "source": 2 if note else 0,
            "attachments": [],
        }
        self._conversations.setdefault(ticket_id, []).append(conversation)
        self.record_comment(ticket_id, text, public=not private)
        if not private:
            stats = self._stats[ticket_id]
            stats["agent_responded_at"] = _stamp(now)
            stats["first_responded_at"] = stats["first_responded_at"] or _stamp(now)
        row["updated_at"] = _stamp(now)
        return Reply(201, {"conversation": dict(conversation)})

    def _field_errors(self, body: dict[str, Any]) -> list[dict[str, str]]:
        """Type and value checks shared by create and update."""
        errors: list[dict[str, str]] = []
        choices = {
            "status": _NATIVE_STATUSES,
            "priority": _NATIVE_PRIORITIES,
            "source": _NATIVE_SOURCES,
        }
        for name, allowed in choices.items():
            value = body.get(name)
            if name in body and (not _is_int(value) or value not in allowed):
                listed = ",".join(str(v) for v in sorted(allowed))
                errors.append(_error(name, f"It should be one of these values: '{listed}'"))
        responder = body.get("responder_id")
        if responder is not None:
            if not _is_int(responder):
                errors.append(
                    _error(
                        "responder_id", "It should be a/an Positive Integer", "datatype_mismatch"
                    )
                )
            elif responder not in self._agents:
                errors.append(
                    _error("responder_id", "There is no agent matching the given responder_id")
                )
        group = body.get("group_id")
        if group is not None and group not in self._groups:
            errors.append(_error("group_id", "There is no group matching the given group_id"))
        for name in ("subject", "description"):
            if name in body and not isinstance(body[name], str):
                errors.append(_error(name, "It should be a/an String", "datatype_mismatch"))
        return errors

    def _status_changed(self, ticket_id: int, status: int, now: datetime) -> None:
        """Keep the ``stats`` embed true to a status change made through the API."""
        stats = self._stats[ticket_id]
        stamp = _stamp(now)
        stats["status_updated_at"] = stamp
        stats["pending_since"] = stamp if status == 3 else None
        if status in (4, 5):
            stats["resolved_at"] = stats["resolved_at"] or stamp
        else:
            stats["resolved_at"] = None
        stats["closed_at"] = stamp if status == 5 else None
        stats["updated_at"] = stamp

    def _person_by_email(self, email: str) -> int:
        """The requester (or agent) with this e-mail; Freshservice makes a new requester else."""
        wanted = email.strip().lower()
        for book in (self._requesters, self._agents):
            for row in book.values():
                if str(row["email"]).lower() == wanted:
                    return int(row["id"])
        person_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        self._requesters[person_id] = {
            "id": person_id,
            "first_name": email.split("@")[0],
            "last_name": "",
            "email": email.strip(),
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return person_id

    def _email_of(self, person_id: int) -> str | None:
        person = self._requesters.get(person_id) or self._agents.get(person_id)
        return str(person["email"]) if person else None

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _embeds(request: Request) -> set[str]:
        return {e.strip() for e in (request.param("include") or "").split(",") if e.strip()}

    def _authorised(self, header: str | None) -> bool:
        """Basic ``{api_key}:{anything}``: Freshservice ignores the password."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded.partition(":")[0] == self.api_key

    def _ticket_view(self, ticket_id: int, embeds: set[str]) -> dict[str, Any]:
        row = self._tickets[ticket_id]
        view = {k: (list(v) if isinstance(v, list) else v) for k, v in row.items()}
        view["custom_fields"] = dict(row["custom_fields"])
        if "requester" in embeds:
            person = self._requesters.get(row["requester_id"]) or self._agents.get(
                row["requester_id"]
            )
            view["requester"] = (
                {
                    "email": person["email"],
                    "id": person["id"],
                    "mobile": None,
                    "name": f"{person['first_name']} {person['last_name']}".strip(),
                    "phone": None,
                }
                if person
                else None
            )
        if "stats" in embeds:
            view["stats"] = dict(self._stats.get(ticket_id, {}))
        return view

    def _person(self, name: str, book: dict[int, dict[str, Any]]) -> int:
        for row in book.values():
            if f"{row['first_name']} {row['last_name']}".strip() == name:
                return int(row["id"])
        person_id = next(self._entity_ids)
        first, _, last = name.partition(" ")
        local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or f"user{person_id}"
        stamp = _stamp(self.clock())
        book[person_id] = {
            "id": person_id,
            "first_name": first,
            "last_name": last,
            "email": f"{local}@acme.example",
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return person_id

    def _requester_named(self, name: str) -> int:
        return self._person(name, self._requesters)

    def _agent_named(self, name: str) -> int:
        agent_id = self._person(name, self._agents)
        self._agents[agent_id].setdefault("occasional", False)
        self._agents[agent_id].setdefault("job_title", None)
        return agent_id

    def _group_named(self, name: str) -> int:
        for row in self._groups.values():
            if row["name"] == name:
                return int(row["id"])
        group_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        self._groups[group_id] = {
            "id": group_id,
            "name": name,
            "description": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return group_id


EMULATOR = FreshserviceEmulator

"""PagerDuty REST API v2 on loopback: incidents, log entries, users, abilities.

Speaks the real shapes: ``Token token=`` auth with PagerDuty's error body,
offset/limit/more paging with the 10,000 cap, ``statuses[]``, ``incident_key``
and ``since``/``until`` (on creation time) filters, ``ratelimit-*`` headers, and a
log-entry feed that records every change ``put_ticket`` or a write makes.

Writes (``vendor-apis.md`` §5.8): ``POST /incidents/{id}/notes``,
``PUT /incidents/{id}`` (``status`` acknowledged/resolved with an optional
``resolution``, or ``assignments``) and ``POST /incidents``. Every write needs a
``From`` header naming one of the account's users, as PagerDuty demands of
account-level keys. A write moves the incident's ``updated_at`` and adds a log
entry (``annotate``/``acknowledge``/``resolve``/``assign``/``trigger``), which is
how the connector's next poll learns of it. Creating an incident with the
``incident_key`` of an open incident on the same service is refused with
PagerDuty's 400 (``message`` "Arguments Caused Error", code 2002, the reason
``Open incident with matching dedup key already exists on this service`` in
``errors``, as real answers show); a ``From`` who is no user gets "Requester
User Not Found" (1008) and reassigning a resolved incident "Incident Already
Resolved", both as the ``message`` (as client libraries report them). The
other error texts and codes are ours.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["EMULATOR", "PagerDutyEmulator"]

_STATUS = {
    TicketStatus.NEW: "triggered",
    TicketStatus.OPEN: "acknowledged",
    TicketStatus.PENDING: "acknowledged",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "resolved",
}
_LOG_TYPE = {
    "triggered": "trigger_log_entry",
    "acknowledged": "acknowledge_log_entry",
    "resolved": "resolve_log_entry",
}
_OPEN = frozenset({"triggered", "acknowledged"})
RATE_LIMIT = 960
SERVICE_ID = "PSV0001"
"""The account's one service: world incidents live on it, hand-offs open on it."""
NOTE_LIMIT = 25_000
_INCIDENT_PATH = re.compile(r"^/incidents/(?P<id>[A-Za-z0-9]+)$")
_NOTES_PATH = re.compile(r"^/incidents/(?P<id>[A-Za-z0-9]+)/notes$")
_USER_PATH = re.compile(r"^/users/(?P<id>[A-Za-z0-9]+)$")
_NOT_FOUND = {"error": {"message": "Not Found", "code": 2100}}


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(*reasons: str, message: str = "Invalid Input Provided", code: int = 2001) -> Reply:
    """PagerDuty's 400: a summary message, a numeric code and the reasons in ``errors``."""
    return Reply(400, {"error": {"message": message, "code": code, "errors": list(reasons)}})


def _email_for(name: str) -> str:
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
    return f"{local}@acme.example"


class PagerDutyEmulator(TicketEmulator):
    """One PagerDuty account with one service, its users and its incidents."""

    kind: ClassVar[str] = "pagerduty"

    def __init__(
        self,
        *,
        api_token: str = "demo-pd-token",
        from_email: str = "paneglass-bot@acme.example",
        clock: Callable[[], datetime] = _now,
        page_size: int = 100,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.api_token = api_token
        self.service_id = SERVICE_ID
        self._incidents: dict[str, dict[str, Any]] = {}
        self._by_ref: dict[str, str] = {}
        self._log: list[dict[str, Any]] = []
        self._numbers = itertools.count(3001)
        self._remaining = RATE_LIMIT
        self._users: dict[str, dict[str, Any]] = {}
        self._user_numbers = itertools.count(1)
        self._notes: dict[str, list[dict[str, Any]]] = {}
        self._note_numbers = itertools.count(1)
        self.from_email = from_email
        """The bot user's e-mail: a valid ``From`` for writes (``from_email`` in the demo)."""
        self.add_user("Paneglass Bot", email=from_email)

    def vendor_settings(self) -> dict[str, Any]:
        """The config section for this account, write-back settings included."""
        return {
            "kind": "pagerduty",
            "api_token": self.api_token,
            "from_email": self.from_email,
            "service_id": self.service_id,
        }

    # -- state ---------------------------------------------------------------------

    def add_user(self, name: str, *, email: str | None = None) -> str:
        """The id of the user with this name, created (with an e-mail) on first use."""
        with self.lock:
            for user in self._users.values():
                if user["name"] == name:
                    return str(user["id"])
            user_id = f"PUSR{next(self._user_numbers):03d}"
            self._users[user_id] = {
                "id": user_id,
                "type": "user",
                "name": name,
                "summary": name,
                "email": email or _email_for(name),
                "role": "user",
                "time_zone": "Europe/Copenhagen",
                "html_url": f"https://acme.pagerduty.com/users/{user_id}",
            }
            return user_id

    def user(self, user_id: str) -> dict[str, Any]:
        """A copy of one user (tests read ids and e-mails from here)."""
        with self.lock:
            return dict(self._users[user_id])

    def incident_id(self, ref: str) -> str:
        """The incident id put under ``ref``."""
        with self.lock:
            return self._by_ref[ref]

    def incident(self, ident: str) -> dict[str, Any]:
        """The incident as ``GET /incidents/{id}`` shows it."""
        with self.lock:
            return self._view(self._incidents[ident])

    def log_entries(self, ident: str) -> list[dict[str, Any]]:
        """Copies of the log entries about one incident, oldest first."""
        with self.lock:
            return [dict(e) for e in self._log if e["incident"]["id"] == ident]

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the incident for ``ticket.ref``; every change is logged."""
        with self.lock:
            ident = self._by_ref.get(ticket.ref)
            status = _STATUS[ticket.status]
            if ident is None:
                number = next(self._numbers)
                ident = f"Q{number:06d}PD"
                self._by_ref[ticket.ref] = ident
                self._incidents[ident] = {"id": ident, "incident_number": number, "acks": []}
            row = self._incidents[ident]
            previous = row.get("status")
            priority = ticket.priority or Priority.P3
            assignee = self.add_user(ticket.assignee) if ticket.assignee else None
            row.update(
                {
                    "type": "incident",
                    "title": ticket.title,
                    "status": status,
                    "urgency": "high" if priority in (Priority.P1, Priority.P2) else "low",
                    "priority": {
                        "id": f"PRI{priority.value}",
                        "type": "priority_reference",
                        "summary": priority.value,
                        "name": priority.value,
                    },
                    "incident_key": f"world:{ticket.ref}",
                    "service": {
                        "id": SERVICE_ID,
                        "type": "service_reference",
                        "summary": ticket.asset or "Data centre",
                    },
                    "escalation_policy": {
                        "id": "PEP0001",
                        "type": "escalation_policy_reference",
                        "summary": ticket.group or "Data Centre",
                    },
                    "assignments": []
                    if status == "resolved" or assignee is None
                    else [self._assignment(assignee, ticket.updated_at)],
                    "created_at": _stamp(ticket.created_at),
                    "updated_at": _stamp(ticket.updated_at),
                    "last_status_change_at": _stamp(ticket.updated_at),
                    "resolved_at": _stamp(ticket.resolved_at or ticket.updated_at)
                    if status == "resolved"
                    else None,
                    "html_url": f"https://acme.pagerduty.com/incidents/{ident}",
                }
            )
            if status == "acknowledged" and not row["acks"]:
                at = _stamp(ticket.first_response_at or ticket.updated_at)
                row["acks"].append((at, assignee or self._bot_id()))
            if previous != status:
                self._add_log(ident, _LOG_TYPE[status])
            return f"#{row['incident_number']}"

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in row.items() if k != "acks"}
        view["acknowledgements"] = [
            {"at": at, "acknowledger": {"id": user_id, "type": "user_reference"}}
            for at, user_id in row["acks"]
        ]
        return view

    # -- HTTP ------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """The v2 endpoints paneglass reads and writes."""
        if request.headers.get("authorization") != f"Token token={self.api_token}":
            return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
        self._remaining = max(self._remaining - 1, 0)
        headers = {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(self._remaining),
            "ratelimit-reset": "60",
        }
        reply = self._answer(request, headers)
        reply.headers = {**headers, **reply.headers}
        return reply

    def _answer(self, request: Request, headers: dict[str, str]) -> Reply:
        if request.method in ("POST", "PUT"):
            return self._write(request)
        if request.path == "/abilities":
            return Reply(200, {"abilities": ["teams", "urgencies", "response_plays"]})
        if request.path == "/incidents":
            return self._list(request, headers, "incidents", self._filtered(request))
        if request.path == "/users":
            query = (request.param("query") or "").lower()
            users = [
                dict(u)
                for u in self._users.values()
                if query in u["name"].lower() or query in u["email"].lower()
            ]
            return self._list(request, headers, "users", users)
        if request.path == "/log_entries":
            since = parse_iso(request.param("since"))
            entries = [e for e in self._log if since is None or parse_iso(e["created_at"]) >= since]  # type: ignore[operator]
            return self._list(request, headers, "log_entries", entries)
        match = _NOTES_PATH.match(request.path)
        if match is not None and match["id"] in self._incidents:
            return Reply(200, {"notes": [dict(n) for n in self._notes.get(match["id"], [])]})
        match = _USER_PATH.match(request.path)
        if match is not None and match["id"] in self._users:
            return Reply(200, {"user": dict(self._users[match["id"]])})
        if request.path.startswith("/incidents/"):
            row = self._incidents.get(request.path.removeprefix("/incidents/"))
            if row is None:
                return Reply(404, _NOT_FOUND)
            return Reply(200, {"incident": self._view(row)})
        return Reply(404, _NOT_FOUND)

    def _filtered(self, request: Request) -> list[dict[str, Any]]:
        statuses = set(request.query.get("statuses[]", [])) or {
            "triggered",
            "acknowledged",
            "resolved",
        }
        rows = [r for r in self._incidents.values() if r.get("status") in statuses]
        key = request.param("incident_key")
        if key is not None:
            rows = [r for r in rows if r.get("incident_key") == key]
        if request.param("date_range") != "all":
            since, until = parse_iso(request.param("since")), parse_iso(request.param("until"))
            rows = [
                r
                for r in rows
                if (since is None or parse_iso(r["created_at"]) >= since)  # type: ignore[operator]
                and (until is None or parse_iso(r["created_at"]) <= until)  # type: ignore[operator]
            ]
        rows.sort(key=lambda r: r["incident_number"])
        return [self._view(r) for r in rows]

    def _list(self, request: Request, headers: dict[str, str], key: str, items: list[Any]) -> Reply:
        limit = min(int(request.param("limit") or 25), 100)
        offset = int(request.param("offset") or 0)
        if offset + limit > 10_000:
            return _invalid("Offset must be less than 10000.")
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        return Reply(
            200,
            {key: page, "limit": limit, "offset": offset, "total": None, "more": more},
            headers,
        )

    # -- writes --------------------------------------------------------------------------

    def _write(self, request: Request) -> Reply:
        """Notes, incident updates and creates, each made as the ``From`` user."""
        requester = self._requester(request.headers.get("from"))
        if isinstance(requester, Reply):
            return requester
        try:
            body = request.json()
        except ValueError:
            return _invalid("Request body is not valid JSON.")
        if not isinstance(body, dict):
            return _invalid("Request body must be a JSON object.")
        if request.method == "POST" and request.path == "/incidents":
            return self._create(body.get("incident"), requester)
        notes = _NOTES_PATH.match(request.path)
        update = _INCIDENT_PATH.match(request.path)
        match = notes if request.method == "POST" else update
        if match is None:
            return Reply(404, _NOT_FOUND)
        row = self._incidents.get(match["id"])
        if row is None:
            return Reply(404, _NOT_FOUND)
        if notes is not None:
            return self._add_note(row, body.get("note"), requester)
        return self._update(row, body.get("incident"), requester)

    def _requester(self, header: str | None) -> dict[str, Any] | Reply:
        """The user a write is made as, or the 400 PagerDuty answers without a valid ``From``."""
        if not header or not header.strip():
            return Reply(
                400,
                {
                    "error": {
                        "message": "You must specify a user's email address in the "
                        '"From" header to perform this action',
                        "code": 2016,
                    }
                },
            )
        email = header.strip().lower()
        user = next((u for u in self._users.values() if u["email"].lower() == email), None)
        if user is None:
            return _invalid(message="Requester User Not Found", code=1008)
        return user

    def _add_note(self, row: dict[str, Any], note: Any, requester: dict[str, Any]) -> Reply:
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content.strip():
            return _invalid("Note content cannot be empty.")
        if len(content) > NOTE_LIMIT:
            return _invalid(f"Note content is longer than {NOTE_LIMIT} characters.")
        stamp = _stamp(self.clock())
        saved = {
            "id": f"PNOTE{next(self._note_numbers):03d}",
            "user": self._user_ref(requester["id"]),
            "channel": {"summary": "The PagerDuty REST API"},
            "content": content,
            "created_at": stamp,
        }
        self._notes.setdefault(row["id"], []).append(saved)
        self.record_comment(row["id"], content, public=False)
        row["updated_at"] = stamp
        self._add_log(row["id"], "annotate_log_entry", requester)
        return Reply(201, {"note": dict(saved)})

    def _update(self, row: dict[str, Any], change: Any, requester: dict[str, Any]) -> Reply:
        """``PUT /incidents/{id}``: status (with ``resolution``) and/or ``assignments``."""
        if not isinstance(change, dict) or change.get("type") not in (
            "incident_reference",
            "incident",
        ):
            return _invalid("Incident type must be incident_reference.")
        status = change.get("status")
        if status is not None and status not in ("acknowledged", "resolved"):
            return _invalid(f"Status {status!r} is not valid: use acknowledged or resolved.")
        assignees: list[str] = []
        if "assignments" in change:
            if row["status"] == "resolved" and status != "acknowledged":
                return _invalid(message="Incident Already Resolved", code=2002)
            for assignment in change["assignments"] or []:
                who = assignment.get("assignee") if isinstance(assignment, dict) else None
                user_id = who.get("id") if isinstance(who, dict) else None
                if user_id not in self._users:
                    return _invalid(f"Assignee {user_id} is not a user of this account.")
                assignees.append(str(user_id))
            if not assignees:
                return _invalid("Assignments cannot be empty.")
        now = self.clock()
        stamp = _stamp(now)
        if status is not None and status != row["status"]:
            row["status"] = status
            row["last_status_change_at"] = stamp
            extra: dict[str, Any] = {}
            if status == "acknowledged":
                row["acks"].append((stamp, requester["id"]))
                row["resolved_at"] = None  # acknowledging a resolved incident reopens it
                if not row["assignments"] and not assignees:
                    assignees = [requester["id"]]
            else:
                row["resolved_at"] = stamp
                row["assignments"] = []
                resolution = change.get("resolution")
                if isinstance(resolution, str) and resolution.strip():
                    extra["resolution"] = resolution
            self._add_log(row["id"], _LOG_TYPE[status], requester, **extra)
        if assignees:
            row["assignments"] = [self._assignment(user_id, now) for user_id in assignees]
            self._add_log(row["id"], "assign_log_entry", requester)
        row["updated_at"] = stamp
        return Reply(200, {"incident": self._view(row)})

    def _create(self, incident: Any, requester: dict[str, Any]) -> Reply:
        if not isinstance(incident, dict) or incident.get("type") != "incident":
            return _invalid("Incident type must be incident.")
        title = incident.get("title")
        if not isinstance(title, str) or not title.strip():
            return _invalid("Incident title cannot be empty.")
        service = incident.get("service")
        service_id = service.get("id") if isinstance(service, dict) else None
        if service_id != self.service_id:
            return _invalid(f"Service {service_id} was not found.")
        urgency = incident.get("urgency", "high")
        if urgency not in ("high", "low"):
            return _invalid(f"Urgency {urgency!r} is not valid: use high or low.")
        key = incident.get("incident_key")
        if key is not None and any(
            r.get("incident_key") == key
            and r["service"]["id"] == service_id
            and r["status"] in _OPEN
            for r in self._incidents.values()
        ):
            return _invalid(
                "Open incident with matching dedup key already exists on this service",
                message="Arguments Caused Error",
                code=2002,
            )
        body = incident.get("body")
        details = body.get("details") if isinstance(body, dict) else None
        number = next(self._numbers)
        ident = f"Q{number:06d}PD"
        stamp = _stamp(self.clock())
        self._incidents[ident] = {
            "id": ident,
            "incident_number": number,
            "acks": [],
            "type": "incident",
            "title": title,
            "description": title,
            "status": "triggered",
            "urgency": urgency,
            "priority": None,
            "incident_key": key if isinstance(key, str) and key else ident,
            "service": {"id": SERVICE_ID, "type": "service_reference", "summary": "Data centre"},
            "escalation_policy": {
                "id": "PEP0001",
                "type": "escalation_policy_reference",
                "summary": "Data Centre",
            },
            "assignments": [],
            "body": {"type": "incident_body", "details": details or ""},
            "created_at": stamp,
            "updated_at": stamp,
            "last_status_change_at": stamp,
            "last_status_change_by": self._user_ref(requester["id"]),
            "resolved_at": None,
            "html_url": f"https://acme.pagerduty.com/incidents/{ident}",
        }
        self._add_log(ident, "trigger_log_entry", requester)
        self.created.append(ident)
        return Reply(201, {"incident": self._view(self._incidents[ident])})

    # -- internals ----------------------------------------------------------------------

    def _bot_id(self) -> str:
        return next(iter(self._users))

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        user = self._users[user_id]
        return {
            "id": user_id,
            "type": "user_reference",
            "summary": user["name"],
            "html_url": user["html_url"],
        }

    def _assignment(self, user_id: str, at: datetime) -> dict[str, Any]:
        return {"at": _stamp(at), "assignee": self._user_ref(user_id)}

    def _add_log(
        self,
        ident: str,
        entry_type: str,
        agent: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        entry: dict[str, Any] = {
            "id": f"R{len(self._log) + 1:06d}",
            "type": entry_type,
            "created_at": _stamp(self.clock()),
            "incident": {"id": ident, "type": "incident_reference"},
            **extra,
        }
        if agent is not None:
            entry["agent"] = self._user_ref(agent["id"])
            entry["channel"] = {"type": "api"}
        self._log.append(entry)


EMULATOR = PagerDutyEmulator

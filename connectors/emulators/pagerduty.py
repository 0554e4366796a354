"""PagerDuty REST API v2 on loopback: incidents, log entries, notes, users, abilities.

Speaks the real shapes (``vendor-apis.md`` §5, ``PagerDuty/api-schema``):
``Token token=`` auth with PagerDuty's error body; offset/limit/``more`` paging
with ``total`` only when ``total=true`` and a 400 past ``offset + limit`` 10,000;
``statuses[]``, ``incident_key``, ``sort_by`` (up to two of ``created_at`` and
``incident_number``, comma separated), and ``since``/``until`` filtering on
creation time, refused beyond six months, defaulting to the last 30 days unless
``date_range=all``; ``ratelimit-*`` headers over a rolling minute, 429 past
``rate_limit`` requests in it (960 at PagerDuty; unlimited unless asked).

``GET /log_entries`` (account-wide, ``since``/``until``/``is_overview``/
``include[]=incidents``, newest first), ``GET /incidents/{id}/log_entries`` and
``GET /incidents/{id}/notes`` (newest first, unpaged) carry every change
``put_ticket``, :meth:`PagerDutyEmulator.put_entry` or a write makes: a
trigger, acknowledge, resolve (with the resolution as its ``note``), assign or
annotate entry with a ``summary`` such as "Acknowledged by Jo Kim". Which
order PagerDuty lists log entries in is not documented; newest first is our
choice, and the connector does not depend on it. ``is_overview=true`` keeps
trigger, acknowledge and resolve entries only (as client libraries describe it).

List records carry the keys of the captured list answer
(``tests/connectors/captures/pagerduty-incidents.json``) plus ``priority``,
which the capture's account evidently lacks (priorities are an account
ability; the API schema and its list example carry it).
``first_trigger_log_entry`` is a reference here: the capture's request had
asked to include it whole.

Scale: incidents are compact rows; sorted lists keyed
``(created_at, incident_number)`` per status group, a log index by time and
per-incident lists answer every page the connector asks for by bisection and
a slice, so a page costs the same at 100 incidents and at 100,000
(``sort_by`` on anything but ``created_at`` first is sorted per request).
:meth:`PagerDutyEmulator.put_tickets` loads many at once and sorts once.

Writes (``vendor-apis.md`` §5.8): ``POST /incidents/{id}/notes``,
``PUT /incidents/{id}`` (``status`` acknowledged/resolved with an optional
``resolution``, ``assignments``, or ``priority`` as a reference by ``id`` or a
name string, as the API schema allows) and ``POST /incidents``. ``GET
/priorities`` lists the account's priorities, most severe first (P1..P5, as in
the schema's example); with ``priorities=False`` the account has none and
both answer 402, the status the schema gives an account without the ability
(its body here is ours). A priority change is logged as a
``field_value_change_log_entry`` (a type the schema lists without describing:
which entry PagerDuty writes for a priority change is **assumed**), so the
connector's log feed sees it. Every write needs a
``From`` header naming one of the account's users, as PagerDuty demands of
account-level keys. Creating an incident with the ``incident_key`` of an open
incident on the same service is refused with PagerDuty's 400 (``message``
"Arguments Caused Error", code 2002, the reason ``Open incident with matching
dedup key already exists on this service`` in ``errors``, as real answers
show); a ``From`` who is no user gets "Requester User Not Found" (1008) and
reassigning a resolved incident "Incident Already Resolved", both as the
``message`` (as client libraries report them). The other error texts and codes
are ours.
"""

from __future__ import annotations

import bisect
import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.errors import BadPayload
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
_OVERVIEW = frozenset(_LOG_TYPE.values())
_OPEN = frozenset({"triggered", "acknowledged"})
_GROUPS = {
    "triggered": ("triggered", "open", "all"),
    "acknowledged": ("acknowledged", "open", "all"),
    "resolved": ("resolved", "all"),
}
RATE_LIMIT = 960
"""Requests a minute per API key (``vendor-apis.md`` §5.6)."""
ITERATION_LIMIT = 10_000
MAX_RANGE = timedelta(days=183)
"""``since``/``until`` may span six months at most."""
DEFAULT_RANGE = timedelta(days=30)
SERVICE_ID = "PSV0001"
"""The account's one service: world incidents live on it, hand-offs open on it."""
SERVICE_NAME = "Data centre"
NOTE_LIMIT = 25_000
WEB = "https://acme.pagerduty.com"
API = "https://api.pagerduty.com"
_INCIDENT_PATH = re.compile(r"^/incidents/(?P<id>[A-Za-z0-9]+)$")
_NOTES_PATH = re.compile(r"^/incidents/(?P<id>[A-Za-z0-9]+)/notes$")
_LOGS_PATH = re.compile(r"^/incidents/(?P<id>[A-Za-z0-9]+)/log_entries$")
_USER_PATH = re.compile(r"^/users/(?P<id>[A-Za-z0-9]+)$")
_NOT_FOUND = {"error": {"message": "Not Found", "code": 2100}}
PRIORITY_NAMES = ("P1", "P2", "P3", "P4", "P5")
"""The account's priorities, most severe first (the API schema's example account)."""
_SORTS = frozenset({"created_at", "incident_number", "resolved_at", "urgency"})


def _stamp(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(value: datetime) -> int:
    """PagerDuty keeps whole seconds."""
    return int(value.timestamp())


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(*reasons: str, message: str = "Invalid Input Provided", code: int = 2001) -> Reply:
    """PagerDuty's 400: a summary message, a numeric code and the reasons in ``errors``."""
    return Reply(400, {"error": {"message": message, "code": code, "errors": list(reasons)}})


def _no_ability() -> Reply:
    """402, as the schema answers an account without the ability (message, code, reason ours)."""
    return Reply(
        402,
        {
            "error": {
                "message": "Account does not have the abilities to perform the action",
                "code": 2012,
                "errors": ["Incident priorities are not enabled for this account."],
            }
        },
    )


def _priority_view(name: str) -> dict[str, Any]:
    return {
        "id": f"PRI{name}",
        "type": "priority",
        "summary": name,
        "self": f"{API}/priorities/PRI{name}",
        "html_url": None,
        "name": name,
        "description": f"{name} incidents",
    }


def _email_for(name: str) -> str:
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
    return f"{local}@acme.example"


@dataclass(slots=True)
class _Incident:
    """One incident, compact: views are built only for the rows a page returns."""

    id: str
    number: int
    title: str
    description: str
    status: str
    urgency: str
    priority: str | None
    incident_key: str
    service: str
    policy: str
    assignee: str | None
    assigned_at: int
    created: int
    updated: int
    changed: int
    changed_by: str | None
    """The user who made the last status change; ``None``: the service."""
    resolved: int | None
    acks: list[tuple[int, str]] = field(default_factory=list)
    details: str | None = None
    ref: str | None = None
    trigger_log: str = ""

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.created, self.number, self.id)


@dataclass(slots=True)
class _LogEntry:
    seq: int
    id: str
    type: str
    at: int
    incident: str
    agent: str | None
    """A user id, or ``None`` for the service."""
    note: str | None = None
    text: str | None = None
    """A summary of its own (a world entry); else one is made from the type and agent."""


@dataclass(slots=True)
class _Note:
    id: str
    incident: str
    user: str
    content: str
    created: int
    updated: int
    ref: str | None = None


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
        latency: float = 0.0,
        rate_limit: int | None = None,
        priorities: bool = True,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.api_token = api_token
        self.priorities = priorities
        """The account has incident priorities (PagerDuty: Standard and Enterprise plans)."""
        self.service_id = SERVICE_ID
        self.rate_limit = rate_limit
        """Requests allowed in any rolling minute (429 beyond), e.g. PagerDuty's own
        ``RATE_LIMIT``; ``None`` (the default, so benches and the demo measure paneglass,
        not the budget): never refused, the headers showing a full budget of 960."""
        self.examined = 0
        """Incidents and log entries looked at to answer lists so far: a page found by
        bisection costs its own rows, a scan every incident (tests check the work, not time)."""
        self._incidents: dict[str, _Incident] = {}
        self._by_ref: dict[str, str] = {}
        self._by_key: dict[str, list[str]] = {}
        self._index: dict[str, list[tuple[int, int, str]]] = {
            name: [] for name in ("triggered", "acknowledged", "resolved", "open", "all")
        }
        self._log: list[_LogEntry] = []
        self._log_times: list[tuple[int, int]] = []
        """``(at, seq)`` of every log entry, sorted."""
        self._log_by_incident: dict[str, list[int]] = {}
        self._numbers = itertools.count(3001)
        self._recent: deque[float] = deque()
        self._users: dict[str, dict[str, Any]] = {}
        self._user_numbers = itertools.count(1)
        self._notes: dict[str, list[_Note]] = {}
        self._note_refs: dict[str, _Note] = {}
        self._note_numbers = itertools.count(1)
        self.from_email = from_email
        """The bot user's e-mail: a valid ``From`` for writes (``from_email`` in the demo)."""
        self._bot = self.add_user("Paneglass Bot", email=from_email)
        self._path_faults: dict[str, deque[Reply]] = {}

    def inject_on(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to exactly ``path`` with these replies (one each)."""
        with self.lock:
            self._path_faults.setdefault(path, deque()).extend(replies)

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
                "html_url": f"{WEB}/users/{user_id}",
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
            return self._view(self._incidents[ident], single=True)

    def log_entries(self, ident: str) -> list[dict[str, Any]]:
        """The log entries about one incident as the API shows them, oldest first."""
        with self.lock:
            return [self._log_view(self._log[s]) for s in self._log_by_incident.get(ident, [])]

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the incident for ``ticket.ref``; every change is logged."""
        with self.lock:
            row, _ = self._upsert(ticket, indexed=True)
            return f"#{row.number}"

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many tickets at once (benches): the indexes are sorted once at the end, and each
        log entry is dated when its change happened, not at the load."""
        with self.lock:
            keys = [f"#{self._upsert(t, indexed=False)[0].number}" for t in tickets]
            for name in self._index:
                self._index[name] = []
            for row in self._incidents.values():
                for name in _GROUPS[row.status]:
                    self._index[name].append(row.key)
            for rows in self._index.values():
                rows.sort()
            self._log_times.sort()
            return keys

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """A note (public or internal: PagerDuty notes are for responders) or a system entry.

        A system entry becomes an ``escalate_log_entry`` with the text as its
        summary; PagerDuty keeps no attachments, so those are dropped.
        """
        with self.lock:
            row = self._incidents[self._by_ref[ticket_ref]]
            at = _seconds(entry.at)
            user = self.add_user(entry.author)
            if entry.visibility == "system":
                return self._add_log(row.id, "escalate_log_entry", user, at=at, text=entry.text)
            text = entry.text or entry.html or ""
            known = self._note_refs.get(entry.ref)
            if known is not None:
                known.content, known.updated = text, at
                row.updated = max(row.updated, at)
                return known.id
            note = _Note(f"PNOTE{next(self._note_numbers):05d}", row.id, user, text, at, at)
            note.ref = entry.ref
            self._note_refs[entry.ref] = note
            self._notes.setdefault(row.id, []).append(note)
            row.updated = max(row.updated, at)
            self._add_log(row.id, "annotate_log_entry", user, at=at)
            return note.id

    def _upsert(self, ticket: WorldTicket, *, indexed: bool) -> tuple[_Incident, bool]:
        ident = self._by_ref.get(ticket.ref)
        status = _STATUS[ticket.status]
        priority = ticket.priority or Priority.P3
        assignee = self.add_user(ticket.assignee) if ticket.assignee else None
        updated = _seconds(ticket.updated_at)
        if ident is None:
            number = next(self._numbers)
            ident = f"Q{number:06d}PD"
            row = _Incident(
                id=ident,
                number=number,
                title=ticket.title,
                description=ticket.description or ticket.title,
                status=status,
                urgency="high",
                priority=None,
                incident_key=f"world:{ticket.ref}",
                service=SERVICE_NAME,
                policy="Data Centre",
                assignee=None,
                assigned_at=updated,
                created=_seconds(ticket.created_at),
                updated=updated,
                changed=updated,
                changed_by=None,
                resolved=None,
                ref=ticket.ref,
            )
            self._by_ref[ticket.ref] = ident
            self._incidents[ident] = row
            self._by_key.setdefault(row.incident_key, []).append(ident)
            previous: str | None = None
        else:
            row = self._incidents[ident]
            previous = row.status
            if indexed:
                self._unindex(row)
        row.title = ticket.title
        row.description = ticket.description or ticket.title
        row.status = status
        row.urgency = "high" if priority in (Priority.P1, Priority.P2) else "low"
        row.priority = priority.value
        row.service = ticket.asset or SERVICE_NAME
        row.policy = ticket.group or "Data Centre"
        row.created = _seconds(ticket.created_at)
        row.updated = updated
        row.changed = updated
        row.resolved = (
            _seconds(ticket.resolved_at or ticket.updated_at) if status == "resolved" else None
        )
        new_assignee = None if status == "resolved" else assignee
        if status == "acknowledged" and not row.acks:
            at = _seconds(ticket.first_response_at or ticket.updated_at)
            row.acks.append((at, assignee or self._bot))
        # A change put one at a time happens now. An account loaded in bulk (put_tickets)
        # has its log at the times things happened (creation, last change), as a real
        # account's log does: not 10,000 entries in the second of the load.
        created, changed = (None, None) if indexed else (row.created, updated)
        if previous is None:  # every incident starts triggered, whatever it is now
            row.trigger_log = self._add_log(
                ident, "trigger_log_entry", None, at=created, sort=indexed
            )
        if previous != status and status != "triggered":
            row.changed_by = assignee
            self._add_log(ident, _LOG_TYPE[status], assignee, at=changed, sort=indexed)
        if new_assignee != row.assignee:
            row.assignee, row.assigned_at = new_assignee, updated
            if new_assignee is not None:
                self._add_log(ident, "assign_log_entry", new_assignee, at=changed, sort=indexed)
        if indexed:
            self._reindex(row)
        return row, previous is None

    def _reindex(self, row: _Incident) -> None:
        for name in _GROUPS[row.status]:
            bisect.insort(self._index[name], row.key)

    def _unindex(self, row: _Incident) -> None:
        for name in _GROUPS[row.status]:
            rows = self._index[name]
            at = bisect.bisect_left(rows, row.key)
            if at < len(rows) and rows[at] == row.key:
                del rows[at]

    # -- views ----------------------------------------------------------------------------

    def _ref(self, kind: str, ident: str, summary: str, path: str) -> dict[str, Any]:
        return {
            "id": ident,
            "type": kind,
            "summary": summary,
            "self": f"{API}/{path}/{ident}",
            "html_url": f"{WEB}/{path}/{ident}",
        }

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        return self._ref("user_reference", user_id, self._users[user_id]["name"], "users")

    def _service_ref(self, row: _Incident) -> dict[str, Any]:
        return self._ref("service_reference", SERVICE_ID, row.service, "services")

    def _view(self, row: _Incident, *, single: bool = False) -> dict[str, Any]:
        """The incident as the list (or, with ``single``, ``GET /incidents/{id}``) shows it."""
        summary = f"[#{row.number}] {row.title}"
        assignments = []
        if row.assignee is not None:
            assignments.append(
                {"at": _stamp(row.assigned_at), "assignee": self._user_ref(row.assignee)}
            )
        changed_by = self._user_ref(row.changed_by) if row.changed_by else self._service_ref(row)
        view: dict[str, Any] = {
            "incident_number": row.number,
            "title": row.title,
            "description": row.description,
            "created_at": _stamp(row.created),
            "updated_at": _stamp(row.updated),
            "status": row.status,
            "incident_key": row.incident_key,
            "service": self._service_ref(row),
            "assignments": assignments,
            "assigned_via": "escalation_policy",
            "last_status_change_at": _stamp(row.changed),
            "resolved_at": _stamp(row.resolved),
            "first_trigger_log_entry": self._ref(
                "trigger_log_entry_reference",
                row.trigger_log,
                "Triggered through the API.",
                "log_entries",
            ),
            "alert_counts": {"all": 0, "triggered": 0, "resolved": 0},
            "is_mergeable": True,
            "escalation_policy": self._ref(
                "escalation_policy_reference", "PEP0001", row.policy, "escalation_policies"
            ),
            "teams": [],
            "pending_actions": [],
            "acknowledgements": [
                {"at": _stamp(at), "acknowledger": self._user_ref(user_id)}
                for at, user_id in row.acks
            ],
            "basic_alert_grouping": None,
            "alert_grouping": None,
            "last_status_change_by": changed_by,
            "priority": None
            if row.priority is None
            else {
                "id": f"PRI{row.priority}",
                "type": "priority_reference",
                "summary": row.priority,
                "self": f"{API}/priorities/PRI{row.priority}",
                "html_url": None,
                "name": row.priority,
            },
            "resolve_reason": None,
            "incidents_responders": [],
            "responder_requests": [],
            "subscriber_requests": [],
            "urgency": row.urgency,
            "id": row.id,
            "type": "incident",
            "summary": summary,
            "self": f"{API}/incidents/{row.id}",
            "html_url": f"{WEB}/incidents/{row.id}",
        }
        if single and row.details is not None:
            view["body"] = {"type": "incident_body", "details": row.details}
        return view

    def _log_view(self, entry: _LogEntry, *, embed: bool = False) -> dict[str, Any]:
        row = self._incidents[entry.incident]
        who = self._users[entry.agent]["name"] if entry.agent else row.service
        summary = entry.text or _log_summary(entry.type, who)
        view: dict[str, Any] = {
            "id": entry.id,
            "type": entry.type,
            "summary": summary,
            "self": f"{API}/log_entries/{entry.id}?incident_id={row.id}",
            "html_url": f"{WEB}/incidents/{row.id}/log_entries/{entry.id}",
            "created_at": _stamp(entry.at),
            "agent": self._user_ref(entry.agent) if entry.agent else self._service_ref(row),
            "channel": {"type": "api"} if entry.type != "annotate_log_entry" else {"type": "note"},
            "service": self._service_ref(row),
            "incident": self._view(row)
            if embed
            else self._ref(
                "incident_reference", row.id, f"[#{row.number}] {row.title}", "incidents"
            ),
            "teams": [],
            "contexts": [],
        }
        if entry.type == "trigger_log_entry":
            view["event_details"] = {"description": row.title}
        if entry.note is not None:
            view["note"] = entry.note
        return view

    def _note_view(self, note: _Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "user": self._user_ref(note.user),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": note.content,
            "created_at": _stamp(note.created),
            "updated_at": _stamp(note.updated),
        }

    # -- HTTP ------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """The v2 endpoints paneglass reads and writes."""
        if request.headers.get("authorization") != f"Token token={self.api_token}":
            return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
        headers = self._rate_headers()
        if headers.get("ratelimit-remaining") == "-1":
            headers["ratelimit-remaining"] = "0"
            return Reply(429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}}, headers)
        faults = self._path_faults.get(request.path)
        try:
            reply = faults.popleft() if faults else self._answer(request)
        except BadPayload:
            reply = _invalid("A date parameter is not a valid ISO 8601 time.")
        reply.headers = {**headers, **reply.headers}
        return reply

    def _rate_headers(self) -> dict[str, str]:
        """A rolling minute of requests; ``remaining`` -1 means this one is over the limit."""
        limit = self.rate_limit
        if limit is None:
            full = str(RATE_LIMIT)
            return {"ratelimit-limit": full, "ratelimit-remaining": full, "ratelimit-reset": "60"}
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 60:
            self._recent.popleft()
        reset = int(60 - (now - self._recent[0])) + 1 if self._recent else 60
        if len(self._recent) >= limit:
            return {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": "-1",
                "ratelimit-reset": str(reset),
            }
        self._recent.append(now)
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(limit - len(self._recent)),
            "ratelimit-reset": str(reset),
        }

    def _answer(self, request: Request) -> Reply:
        if request.method in ("POST", "PUT"):
            return self._write(request)
        path = request.path
        if path == "/abilities":
            return Reply(200, {"abilities": ["teams", "urgencies", "response_plays"]})
        if path == "/priorities":
            if not self.priorities:
                return _no_ability()
            rows = [_priority_view(name) for name in PRIORITY_NAMES]
            return self._paged(request, "priorities", rows, len(rows))
        if path == "/incidents":
            return self._list_incidents(request)
        if path == "/log_entries":
            return self._list_log(request)
        if path == "/users":
            query = (request.param("query") or "").lower()
            users = [
                dict(u)
                for u in self._users.values()
                if query in u["name"].lower() or query in u["email"].lower()
            ]
            return self._paged(request, "users", users, len(users))
        match = _NOTES_PATH.match(path)
        if match is not None and match["id"] in self._incidents:
            notes = self._notes.get(match["id"], [])
            return Reply(200, {"notes": [self._note_view(n) for n in reversed(notes)]})
        match = _LOGS_PATH.match(path)
        if match is not None and match["id"] in self._incidents:
            seqs = self._log_by_incident.get(match["id"], [])
            return self._window(request, "log_entries", seqs[::-1], lambda s: self._log[s], False)
        match = _USER_PATH.match(path)
        if match is not None and match["id"] in self._users:
            return Reply(200, {"user": dict(self._users[match["id"]])})
        match = _INCIDENT_PATH.match(path)
        if match is not None:
            row = self._incidents.get(match["id"])
            if row is None:  # PagerDuty also accepts the incident number here
                row = next(
                    (r for r in self._incidents.values() if str(r.number) == match["id"]), None
                )
            if row is None:
                return Reply(404, _NOT_FOUND)
            return Reply(200, {"incident": self._view(row, single=True)})
        return Reply(404, _NOT_FOUND)

    def _limits(self, request: Request) -> tuple[int, int] | Reply:
        try:
            limit = min(int(request.param("limit") or 25), 100)
            offset = int(request.param("offset") or 0)
        except ValueError:
            return _invalid("limit and offset must be whole numbers.")
        if limit < 1 or offset < 0:
            return _invalid("limit and offset must be positive.")
        if offset + limit > ITERATION_LIMIT:
            return _invalid("Offset must be less than 10000.")
        return limit, offset

    def _paged(self, request: Request, key: str, items: list[Any], total: int) -> Reply:
        limits = self._limits(request)
        if isinstance(limits, Reply):
            return limits
        limit, offset = limits
        return Reply(
            200,
            {
                key: items[offset : offset + limit],
                "limit": limit,
                "offset": offset,
                "total": total if request.param("total") == "true" else None,
                "more": offset + limit < total,
            },
        )

    def _window(
        self,
        request: Request,
        key: str,
        items: list[Any],
        view: Callable[[Any], Any],
        embed: bool,
    ) -> Reply:
        """One page of a sequence already in answer order, built only for the rows returned."""
        limits = self._limits(request)
        if isinstance(limits, Reply):
            return limits
        limit, offset = limits
        page = items[offset : offset + limit]
        return Reply(
            200,
            {
                key: [self._log_view(view(item), embed=embed) for item in page],
                "limit": limit,
                "offset": offset,
                "total": len(items) if request.param("total") == "true" else None,
                "more": offset + limit < len(items),
            },
        )

    def _range(self, request: Request) -> tuple[int | None, int | None] | Reply:
        """Incidents' ``since``/``until`` as seconds (``None``: unbounded), PagerDuty's defaults."""
        if request.param("date_range") == "all":
            return None, None
        since, until = parse_iso(request.param("since")), parse_iso(request.param("until"))
        until = until or self.clock()
        since = since or until - DEFAULT_RANGE
        if until - since > MAX_RANGE:
            return _invalid("The date range may span 6 months at most.")
        return _seconds(since), _seconds(until)

    def _list_incidents(self, request: Request) -> Reply:
        statuses = frozenset(request.query.get("statuses[]", [])) or frozenset(_GROUPS)
        unknown = statuses - set(_GROUPS)
        if unknown:
            return _invalid(f"Invalid statuses: {', '.join(sorted(unknown))}.")
        window = self._range(request)
        if isinstance(window, Reply):
            return window
        since, until = window
        sorts = [s for v in request.query.get("sort_by", []) for s in v.split(",") if s]
        order = [tuple(s.split(":", 1)) if ":" in s else (s, "asc") for s in sorts]
        if len(order) > 2 or any(f not in _SORTS or d not in ("asc", "desc") for f, d in order):
            return _invalid(
                "sort_by takes up to two of created_at, incident_number, resolved_at "
                "and urgency, each with :asc or :desc."
            )
        key = request.param("incident_key")
        indexed = key is None and (
            not order
            or (
                order[0] == ("created_at", "asc")
                and order[1:] in ([], [("incident_number", "asc")])
            )
        )
        name = _group(statuses)
        if indexed and name is not None:
            rows = self._index[name]
            lo = 0 if since is None else bisect.bisect_left(rows, (since,))
            hi = len(rows) if until is None else bisect.bisect_left(rows, (until,))
            return self._slice_incidents(request, rows, lo, hi)
        candidates = (
            [self._incidents[i] for i in self._by_key.get(key, [])]
            if key is not None
            else list(self._incidents.values())
        )
        self.examined += len(candidates)
        found = [
            r
            for r in candidates
            if r.status in statuses
            and (since is None or r.created >= since)
            and (until is None or r.created < until)
        ]
        for field_name, direction in reversed(order or [("created_at", "asc")]):
            found.sort(key=_sort_key(field_name), reverse=direction == "desc")
        keys = [r.key for r in found]
        return self._slice_incidents(request, keys, 0, len(keys))

    def _slice_incidents(
        self, request: Request, keys: list[tuple[int, int, str]], lo: int, hi: int
    ) -> Reply:
        limits = self._limits(request)
        if isinstance(limits, Reply):
            return limits
        limit, offset = limits
        page = keys[lo + offset : min(lo + offset + limit, hi)]
        self.examined += len(page)
        return Reply(
            200,
            {
                "incidents": [self._view(self._incidents[k[2]]) for k in page],
                "limit": limit,
                "offset": offset,
                "total": hi - lo if request.param("total") == "true" else None,
                "more": lo + offset + limit < hi,
            },
        )

    def _list_log(self, request: Request) -> Reply:
        """The account's log, newest first; a page is found by bisection, not by a scan."""
        since, until = parse_iso(request.param("since")), parse_iso(request.param("until"))
        times = self._log_times
        lo = 0 if since is None else bisect.bisect_left(times, (_seconds(since),))
        hi = len(times) if until is None else bisect.bisect_left(times, (_seconds(until),))
        hi = max(hi, lo)
        limits = self._limits(request)
        if isinstance(limits, Reply):
            return limits
        limit, offset = limits
        if request.param("is_overview") == "true":  # a filter: this one scans the window
            seqs = [seq for _, seq in reversed(times[lo:hi]) if self._log[seq].type in _OVERVIEW]
            self.examined += hi - lo
            total, page = len(seqs), seqs[offset : offset + limit]
        else:
            total = hi - lo
            top = hi - 1 - offset
            page = [times[i][1] for i in range(top, max(top - limit, lo - 1), -1)]
            self.examined += len(page)
        embed = "incidents" in request.query.get("include[]", [])
        return Reply(
            200,
            {
                "log_entries": [self._log_view(self._log[seq], embed=embed) for seq in page],
                "limit": limit,
                "offset": offset,
                "total": total if request.param("total") == "true" else None,
                "more": offset + limit < total,
            },
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

    def _add_note(self, row: _Incident, note: Any, requester: dict[str, Any]) -> Reply:
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content.strip():
            return _invalid("Note content cannot be empty.")
        if len(content) > NOTE_LIMIT:
            return _invalid(f"Note content is longer than {NOTE_LIMIT} characters.")
        now = _seconds(self.clock())
        saved = _Note(
            f"PNOTE{next(self._note_numbers):05d}", row.id, requester["id"], content, now, now
        )
        self._notes.setdefault(row.id, []).append(saved)
        self.record_comment(row.id, content, public=False)
        row.updated = now
        self._add_log(row.id, "annotate_log_entry", requester["id"])
        return Reply(201, {"note": self._note_view(saved)})

    def _update(self, row: _Incident, change: Any, requester: dict[str, Any]) -> Reply:
        """``PUT /incidents/{id}``: status (with ``resolution``) and/or ``assignments``."""
        if not isinstance(change, dict) or change.get("type") not in (
            "incident_reference",
            "incident",
        ):
            return _invalid("Incident type must be incident_reference.")
        status = change.get("status")
        if status is not None and status not in ("acknowledged", "resolved"):
            return _invalid(f"Status {status!r} is not valid: use acknowledged or resolved.")
        priority: str | None = None
        if "priority" in change:
            if not self.priorities:
                return _no_ability()
            priority = _priority_named(change["priority"])
            if priority is None:
                return _invalid("Priority must be a priority reference or the name of one.")
        assignees: list[str] = []
        if "assignments" in change:
            if row.status == "resolved" and status != "acknowledged":
                return _invalid(message="Incident Already Resolved", code=2002)
            for assignment in change["assignments"] or []:
                who = assignment.get("assignee") if isinstance(assignment, dict) else None
                user_id = who.get("id") if isinstance(who, dict) else None
                if user_id not in self._users:
                    return _invalid(f"Assignee {user_id} is not a user of this account.")
                assignees.append(str(user_id))
            if not assignees:
                return _invalid("Assignments cannot be empty.")
        now = _seconds(self.clock())
        who = requester["id"]
        if status is not None and status != row.status:
            self._unindex(row)
            row.status = status
            row.changed, row.changed_by = now, who
            note: str | None = None
            if status == "acknowledged":
                row.acks.append((now, who))
                row.resolved = None  # acknowledging a resolved incident reopens it
                if row.assignee is None and not assignees:
                    assignees = [who]
            else:
                row.resolved = now
                row.assignee = None
                resolution = change.get("resolution")
                if isinstance(resolution, str) and resolution.strip():
                    note = resolution
            self._reindex(row)
            self._add_log(row.id, _LOG_TYPE[status], who, note=note)
        if assignees:
            row.assignee, row.assigned_at = assignees[0], now
            self._add_log(row.id, "assign_log_entry", who)
        if priority is not None and priority != row.priority:
            row.priority = priority
            name = self._users[who]["name"]
            text = f"Priority changed to {priority} by {name}."
            self._add_log(row.id, "field_value_change_log_entry", who, text=text)
        row.updated = now
        return Reply(200, {"incident": self._view(row, single=True)})

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
        if isinstance(key, str) and any(
            self._incidents[i].status in _OPEN for i in self._by_key.get(key, [])
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
        now = _seconds(self.clock())
        row = _Incident(
            id=ident,
            number=number,
            title=title,
            description=title,
            status="triggered",
            urgency=urgency,
            priority=None,
            incident_key=key if isinstance(key, str) and key else ident,
            service=SERVICE_NAME,
            policy="Data Centre",
            assignee=None,
            assigned_at=now,
            created=now,
            updated=now,
            changed=now,
            changed_by=requester["id"],
            resolved=None,
            details=str(details or ""),
        )
        self._incidents[ident] = row
        self._by_key.setdefault(row.incident_key, []).append(ident)
        self._reindex(row)
        row.trigger_log = self._add_log(ident, "trigger_log_entry", requester["id"])
        self.created.append(ident)
        return Reply(201, {"incident": self._view(row, single=True)})

    # -- internals ----------------------------------------------------------------------

    def _add_log(
        self,
        ident: str,
        entry_type: str,
        agent: str | None,
        *,
        at: int | None = None,
        note: str | None = None,
        text: str | None = None,
        sort: bool = True,
    ) -> str:
        seq = len(self._log)
        when = _seconds(self.clock()) if at is None else at
        entry = _LogEntry(seq, f"R{seq + 1:07d}", entry_type, when, ident, agent, note, text)
        self._log.append(entry)
        if not sort or not self._log_times or self._log_times[-1] <= (when, seq):
            self._log_times.append((when, seq))
        else:
            bisect.insort(self._log_times, (when, seq))
        self._log_by_incident.setdefault(ident, []).append(seq)
        return entry.id


def _priority_named(value: Any) -> str | None:
    """The priority a ``PUT`` names: a reference by ``id`` (typed ``priority`` or
    ``priority_reference``), or a string naming one; ``None`` when it names none."""
    if isinstance(value, str):
        return value if value in PRIORITY_NAMES else None
    if not isinstance(value, dict) or value.get("type") not in ("priority", "priority_reference"):
        return None
    ident = value.get("id")
    return next((n for n in PRIORITY_NAMES if ident == f"PRI{n}"), None)


def _group(statuses: frozenset[str]) -> str | None:
    """The index holding exactly these statuses, if one does."""
    if statuses == frozenset(_GROUPS):
        return "all"
    if statuses == _OPEN:
        return "open"
    if len(statuses) == 1:
        return next(iter(statuses))
    return None


def _sort_key(name: str) -> Callable[[_Incident], Any]:
    if name == "created_at":
        return lambda r: r.created
    if name == "incident_number":
        return lambda r: r.number
    if name == "resolved_at":
        return lambda r: r.resolved or 0
    return lambda r: r.urgency


def _log_summary(entry_type: str, who: str) -> str:
    return {
        "trigger_log_entry": "Triggered through the API.",
        "acknowledge_log_entry": f"Acknowledged by {who}.",
        "resolve_log_entry": f"Resolved by {who}.",
        "assign_log_entry": f"Assigned to {who}.",
        "annotate_log_entry": f"Note added by {who}.",
        "escalate_log_entry": f"Escalated by {who}.",
    }.get(entry_type, entry_type.replace("_", " "))


EMULATOR = PagerDutyEmulator

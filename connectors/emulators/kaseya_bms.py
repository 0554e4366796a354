"""A Kaseya BMS tenant on loopback, speaking the API 2.0 wire format (kind ``kaseya-bms``).

**No real BMS answer has been captured** (``vendor-apis-2.md`` §5): this emulator
follows the BMS OpenAPI 3.0.1 (``api-evangelist/kaseya`` →
``openapi/kaseya-bms-openapi-original.json``, commit ``c6f98c2``, harvested from
``https://api.bms.kaseya.com/swagger``) for paths, parameters, bodies and record
fields, Kaseya's BMS API page for the limit and hosts, and client code written
against live tenants where the spec and the wire differ. What it follows, and
how sure that is:

* **Key case** — the spec names properties in PascalCase; two clients used on
  live tenants read camelCase (``result.accessToken``, ``ticketNumber``,
  ``createdOn``: ASP.NET Core's default), so answers here are camelCase
  (*from client code, not a capture*), with ASP.NET's rule for a leading
  acronym (``SLAId`` → ``slaId``; no client read an ``SLA…`` field, so that
  spelling is **assumed**). Request bodies and forms are read
  case-insensitively, as ASP.NET binds them. With no real capture, the capture
  comparison checks a list row's keys against the spec's ``TicketListDto``
  (``tests/connectors/specs/``) instead.
* **Sign-in** ``POST /v2/security/authenticate`` — form fields ``UserName``,
  ``Password``, ``Tenant``, ``GrantType`` [spec; the page names the same inputs],
  accepted url-encoded (what live clients send) or as ``multipart/form-data``
  (what the spec says); ``GrantType`` must be ``password``. The answer is the
  envelope with ``accessToken``, ``refreshToken``, ``accessTokenExpireOn``,
  ``refreshTokenExpireOn`` [spec]. A wrong login answers HTTP ``auth_failure_status``
  (200 by default) with ``success: false`` — **assumed** (the spec declares only
  200 responses). Token lifetimes (``token_ttl``, one hour here) are **not
  documented**. ``POST /v2/security/refreshtoken`` (form ``AccessToken`` +
  ``RefreshToken``) trades a live refresh token for a new pair [spec; the page].
  An unknown or expired bearer token answers 401 with an empty body and
  ``WWW-Authenticate: Bearer error="invalid_token"`` — **assumed** (ASP.NET's JWT
  default).
* **Tickets** ``GET /v2/servicedesk/tickets`` — ``Filter.LastActivityUpdateFrom/To``,
  ``Filter.CompletedDateFrom/To``, ``Filter.CreatedOnFrom/To``,
  ``Filter.ExcludeCompleted``, ``Filter.StatusNames``/``QueueNames``/``PriorityNames``
  (comma-separated), ``PageSize`` and a 1-based ``PageNumber`` [spec; live clients
  start at 1]; answered ``{success, error, result[], totalRecords}`` [spec]. Rows
  carry every ``TicketListDto`` property [spec], ``null`` where unset. **Not
  documented, so chosen here:** bounds are inclusive; the default ``PageSize`` is
  25 and a larger one than 100 gives 100 (Kaseya's throttling article: "up to 100
  objects per request"); rows come in last-activity order, then id; ``Sort`` is
  ignored (its syntax is not documented). ``GET /v2/servicedesk/tickets/{id}``
  answers a ``TicketOutputDto`` [spec].
* **Date-times** — the spec says ``date-time`` without a zone; here they are
  written as .NET writes a SQL ``datetime`` (no offset, trailing zeros of the
  fraction dropped) in ``zone`` (UTC), and filter values without an offset are
  read in it, to whatever fraction they carry — **assumed**. ``naive_times=False``
  writes them with an offset.
  Ticket numbers look like ``T20260304.0042`` — **assumed** (no sample seen).
* **Notes** ``GET …/tickets/{id}/notes`` (``PageSize``/``PageNumber``, oldest first —
  order **assumed**; no ``totalRecords``, as in the spec) and ``POST`` with
  ``TicketNotePostInputDto`` (``Details``, ``IsInternal``, ``TypeId``, ``NoteDate``
  required [spec]); a missing field answers 400 with ``success: false`` —
  **assumed**. A note moves the ticket's ``lastActivityUpdate`` (**assumed**).
* **Writes** ``PATCH /v2/servicedesk/tickets/{id}`` (JSON Patch operations on
  ``/StatusId``, ``/PriorityId``, ``/AssigneeId``, ``/QueueId`` [spec: ``Operation``];
  which paths BMS accepts is **not documented**) and ``POST …/{id}/resolve``
  (``ResolveTicketDto``: ``Comment`` required, ``StatusId`` optional [spec]; the
  comment becomes a note — **assumed**). ``GET /v2/system/statuses/lookup`` lists
  the tenant's statuses and ``GET /v2/system/priorities/lookup`` its priorities
  (``Id``, ``Name``, ``Color``, ``IsDefault``) [spec]; the five priorities here
  (Critical, High, Medium, Low, Very Low) and the six statuses (New, In
  Progress, Waiting Customer, Waiting Vendor, Resolved, Closed, the last two
  completing a ticket) are **assumed** — BMS tenants define their own.
* **Limit** — 1,500 calls an hour per endpoint [the BMS API page]; counted here
  per method and path template; past it the answer is 429 with ``success:
  false`` and no ``Retry-After`` — **assumed** (nothing documents the refusal;
  ``retry_after`` adds the header).
* ``GET /v2/security/userinfo`` answers ``UserInfoOutputDto`` [spec].

Scale: tickets are compact rows; three sorted lists (all, not completed,
completed) keyed by last activity answer the connector's bounded queries with
a bisection and a slice, so a page costs the same at 100 tickets and at
100,000; other filters are computed once per change of the tenant and cached.
"""

from __future__ import annotations

import base64
import bisect
import email
import itertools
import json
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "STATUSES", "KaseyaBmsEmulator", "format_time"]

TICKETS_PATH = "/v2/servicedesk/tickets"
TICKET_PREFIX = "/v2/servicedesk/tickets/"
DEFAULT_PAGE = 25
MAX_PAGE = 100
HOUR = 3600.0

STATUSES: tuple[tuple[int, str, bool], ...] = (
    (1, "New", False),
    (2, "In Progress", False),
    (3, "Waiting Customer", False),
    (4, "Waiting Vendor", False),
    (5, "Resolved", True),
    (6, "Closed", True),
)
"""``(id, name, completes the ticket)`` — a tenant's own list; these are assumed."""
PRIORITIES: tuple[tuple[int, str], ...] = (
    (1, "Critical"),
    (2, "High"),
    (3, "Medium"),
    (4, "Low"),
    (5, "Very Low"),
)
_WORLD_STATUS = {
    TicketStatus.NEW: 1,
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.RESOLVED: 5,
    TicketStatus.CLOSED: 6,
}
_WORLD_PRIORITY = {Priority.P1: 1, Priority.P2: 2, Priority.P3: 3, Priority.P4: 4, Priority.P5: 5}
LIST_FIELDS = (
    "id",
    "createdBy",
    "createdOn",
    "modifiedBy",
    "modifiedOn",
    "tenantName",
    "ticketNumber",
    "title",
    "details",
    "accountId",
    "locationId",
    "accountCode",
    "accountName",
    "locationName",
    "contactId",
    "contactName",
    "queueId",
    "queueName",
    "statusId",
    "statusName",
    "statusColor",
    "statusForeColor",
    "statusOrder",
    "priorityId",
    "priorityName",
    "priorityColor",
    "typeId",
    "typeName",
    "issueTypeId",
    "issueTypeName",
    "subIssueTypeId",
    "subIssueTypeName",
    "contractId",
    "contractNumber",
    "contractName",
    "assigneeId",
    "assigneeName",
    "workTypeId",
    "workTypeName",
    "ticketRecurringMasterId",
    "recurring",
    "slaStatusEventId",
    "sourceId",
    "slaId",
    "slaObjectiveId",
    "slaName",
    "isScheduled",
    "hardwareAssetId",
    "hasMetSLA",
    "actualPauseMinutes",
    "actualFirstResponseMinutes",
    "actualResolutionMinutes",
    "isSLAPaused",
    "slaStatusEnum",
    "openDate",
    "dueDate",
    "completedDate",
    "reOpenedDate",
    "lastActivityUpdate",
    "resolutionTargetTime",
    "resolutionActualTime",
    "firstResponseTargetTime",
    "firstResponseActualTime",
    "slaLastPausedTime",
    "slaLastResumedTime",
    "lastStatusUpdate",
    "lastPriorityUpdate",
    "lastQueueUpdate",
    "createdByName",
    "customFields",
    "hardwareAssetName",
)
"""Every ``TicketListDto`` property, camelCased as ASP.NET does: Newtonsoft's and
System.Text.Json's ``ToCamelCase`` lower a leading run of capitals up to the last one before a
lower-case letter (``SLAId`` → ``slaId``, ``SLALastPausedTime`` → ``slaLastPausedTime``,
``IsSLAPaused`` → ``isSLAPaused``). Compared with the spec's property list by
``tests/connectors/test_emulators_match_captures.py``."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def format_time(value: datetime | None, zone: ZoneInfo, *, naive: bool = True) -> str | None:
    """A date-time as .NET writes one: no offset (or with it), fraction without trailing zeros."""
    if value is None:
        return None
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += "." + f"{local.microsecond:06d}0".rstrip("0")
    if naive:
        return text
    offset = local.strftime("%z")
    return text + ("Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}")


@dataclass(slots=True)
class _Ticket:
    id: int
    number: str
    title: str
    details: str
    status_id: int
    priority_id: int
    created: datetime
    activity: datetime
    modified: datetime
    completed: datetime | None = None
    status_changed: datetime | None = None
    assignee: str | None = None
    queue: str | None = None
    contact: str | None = None
    asset: str | None = None
    due: datetime | None = None
    first_response: datetime | None = None
    met_sla: bool | None = None
    ref: str | None = None

    def key(self) -> tuple[int, int]:
        return (_micros(self.activity), self.id)


@dataclass(slots=True)
class _Note:
    id: int
    details: str
    internal: bool
    author: str
    created: datetime
    type_id: int = 1
    attachments: list[dict[str, Any]] = field(default_factory=list)
    ref: str | None = None


class KaseyaBmsEmulator(TicketEmulator):
    """One BMS tenant: a user to sign in as, its statuses, tickets and their notes."""

    kind: ClassVar[str] = "kaseya-bms"

    def __init__(
        self,
        *,
        username: str = "svc-paneglass@acme.example",
        password: str = "Bms-pa55word!",
        tenant: str = "Acme Managed Services",
        token_ttl: float = 3600.0,
        refresh_ttl: float = 7 * 24 * 3600.0,
        hourly_limit: int | None = 1500,
        retry_after: bool = False,
        auth_failure_status: int = 200,
        zone: str = "UTC",
        naive_times: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_PAGE,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.username = username
        self.password = password
        self.tenant = tenant
        self.token_ttl = token_ttl
        self.refresh_ttl = refresh_ttl
        self.hourly_limit = hourly_limit
        """Calls per endpoint per hour before 429; ``None``: unlimited (benches)."""
        self.retry_after = retry_after
        self.auth_failure_status = auth_failure_status
        self.zone = ZoneInfo(zone)
        self.naive_times = naive_times
        self.tokens: dict[str, float] = {}
        """Access token → when it lapses (``time.monotonic``)."""
        self.refresh_tokens: dict[str, float] = {}
        self.sign_ins = 0
        self.refreshes = 0
        self._tickets: dict[int, _Ticket] = {}
        self._by_ref: dict[str, int] = {}
        self._notes: dict[int, list[_Note]] = {}
        self._note_refs: dict[str, _Note] = {}
        self._ids = itertools.count(41001)
        self._note_ids = itertools.count(880001)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._all: list[tuple[int, int]] = []
        self._open: list[tuple[int, int]] = []
        self._done: list[tuple[int, int]] = []
        self._version = 0
        self._cache: OrderedDict[tuple[Any, ...], list[tuple[int, int]]] = OrderedDict()
        self._calls: dict[str, deque[float]] = {}
        self._path_faults: dict[str, deque[Reply]] = {}

    def __enter__(self) -> KaseyaBmsEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`KaseyaBmsConnector` needs to reach this tenant."""
        return {
            "kind": "kaseya-bms",
            "username": self.username,
            "password": self.password,
            "tenant": self.tenant,
            "status_ids": {
                "open": "In Progress",
                "pending": "Waiting Customer",
                "resolved": "Resolved",
                "closed": "6",
            },
        }

    def inject_on(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to exactly ``path`` with these replies (one each)."""
        with self.lock:
            self._path_faults.setdefault(path, deque()).extend(replies)

    # -- the world ---------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its ticket number."""
        with self.lock:
            row = self._upsert(ticket, indexed=True)
            return row.number

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many at once (benches): the lists are sorted once at the end."""
        with self.lock:
            numbers = [self._upsert(t, indexed=False).number for t in tickets]
            rows = self._tickets.values()
            self._all = sorted(r.key() for r in rows)
            self._open = sorted(r.key() for r in rows if not self._completes(r.status_id))
            self._done = sorted(r.key() for r in rows if self._completes(r.status_id))
            self._changed()
            return numbers

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """A note (public or internal; a ``system`` entry is an internal note); its id."""
        with self.lock:
            row = self._tickets[self._by_ref[ticket_ref]]
            known = self._note_refs.get(entry.ref)
            details = entry.html if entry.html is not None else entry.text
            if known is None:
                known = _Note(
                    id=next(self._note_ids),
                    details=details,
                    internal=entry.visibility != "public",
                    author=entry.author,
                    created=entry.at,
                    ref=entry.ref,
                )
                self._note_refs[entry.ref] = known
                self._notes.setdefault(row.id, []).append(known)
                self._notes[row.id].sort(key=lambda n: (n.created, n.id))
            else:
                known.details = details
            known.attachments = [
                {
                    "id": next(self._note_ids),
                    "originalFileName": a.name,
                    "aliasName": a.name,
                    "fileType": a.content_type,
                    "url": f"https://files.bms.example/{a.name}",
                    "webUrl": None,
                    "createdOn": format_time(entry.at, self.zone, naive=self.naive_times),
                }
                for a in entry.attachments
            ]
            self._touch(row, max(row.activity, entry.at))
            return str(known.id)

    def ticket_id(self, ref: str) -> int:
        with self.lock:
            return self._by_ref[ref]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as the list sends it."""
        with self.lock:
            return self._row(self._tickets[self._by_ref[ref]])

    def notes(self, ref: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self._note(n) for n in self._notes.get(self._by_ref[ref], [])]

    def delete(self, ref: str) -> None:
        """Remove a ticket (merged or deleted at the vendor)."""
        with self.lock:
            row = self._tickets.pop(self._by_ref.pop(ref))
            self._unindex(row)
            self._changed()

    def expire_tokens(self) -> None:
        """Every access token lapses now (refresh tokens stay good)."""
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def spend(self, method: str, endpoint: str, count: int) -> None:
        """Count calls another integration made on an endpoint just now."""
        with self.lock:
            self._calls.setdefault(f"{method} {endpoint}", deque()).extend(
                [time.monotonic()] * count
            )

    def _upsert(self, ticket: WorldTicket, *, indexed: bool) -> _Ticket:
        ticket_id = self._by_ref.get(ticket.ref)
        row = self._tickets.get(ticket_id) if ticket_id is not None else None
        status_id = _WORLD_STATUS[ticket.status]
        completed = None
        if self._completes(status_id):
            completed = ticket.resolved_at or ticket.updated_at
        if row is None:
            row = _Ticket(
                id=next(self._ids),
                number=self._number(ticket.created_at),
                title=ticket.title,
                details=ticket.description,
                status_id=status_id,
                priority_id=_WORLD_PRIORITY.get(ticket.priority, 3) if ticket.priority else 3,
                created=ticket.created_at,
                activity=ticket.updated_at,
                modified=ticket.updated_at,
                ref=ticket.ref,
            )
            self._tickets[row.id] = row
            self._by_ref[ticket.ref] = row.id
        elif indexed:
            self._unindex(row)
        if row.status_id != status_id:
            row.status_changed = ticket.updated_at
        row.title, row.details = ticket.title, ticket.description
        row.status_id = status_id
        row.priority_id = _WORLD_PRIORITY.get(ticket.priority, 3) if ticket.priority else 3
        row.created, row.activity, row.modified = (
            ticket.created_at,
            ticket.updated_at,
            ticket.updated_at,
        )
        row.completed = completed
        row.assignee, row.queue, row.contact = ticket.assignee, ticket.group, ticket.requester
        row.asset, row.due, row.first_response = (
            ticket.asset,
            ticket.due_at,
            ticket.first_response_at,
        )
        row.met_sla = None if ticket.breached is None else not ticket.breached
        if indexed:
            self._index(row)
            self._changed()
        return row

    def _number(self, created: datetime) -> str:
        day = created.astimezone(self.zone).strftime("%Y%m%d")
        counter = self._numbers.setdefault(day, itertools.count(1))
        return f"T{day}.{next(counter):04d}"

    def _completes(self, status_id: int) -> bool:
        return any(sid == status_id and done for sid, _, done in STATUSES)

    def _index(self, row: _Ticket) -> None:
        key = row.key()
        bisect.insort(self._all, key)
        bisect.insort(self._done if self._completes(row.status_id) else self._open, key)

    def _unindex(self, row: _Ticket) -> None:
        key = row.key()
        for rows in (self._all, self._open, self._done):
            at = bisect.bisect_left(rows, key)
            if at < len(rows) and rows[at] == key:
                del rows[at]

    def _touch(self, row: _Ticket, at: datetime) -> None:
        self._unindex(row)
        row.activity = row.modified = at
        self._index(row)
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()

    # -- the API -------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer one request in BMS's wire format."""
        queued = self._path_faults.get(request.path)
        if queued:
            return queued.popleft()
        if request.method == "POST" and request.path == "/v2/security/authenticate":
            return self._authenticate(request)
        if request.method == "POST" and request.path == "/v2/security/refreshtoken":
            return self._refresh(request)
        if not self._authorized(request):
            return Reply(
                401,
                raw=b"",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        limited = self._count(request)
        if limited is not None:
            return limited
        try:
            return self._api(request)
        except _Refused as refused:
            return refused.reply

    def _api(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if method == "GET" and path == TICKETS_PATH:
            return self._list(request)
        if method == "GET" and path == "/v2/security/userinfo":
            return _ok(self._userinfo())
        if method == "GET" and path == "/v2/system/statuses/lookup":
            return _ok([self._status(sid) for sid, _, _ in STATUSES])
        if method == "GET" and path == "/v2/system/priorities/lookup":
            return _ok([_priority(pid) for pid, _ in PRIORITIES])
        if path.startswith(TICKET_PREFIX):
            ticket_part, _, rest = path[len(TICKET_PREFIX) :].partition("/")
            if not ticket_part.isdigit():
                raise _Refused(_fail(404, "Not found"))
            row = self._tickets.get(int(ticket_part))
            if row is None:
                raise _Refused(_fail(404, f"Ticket {ticket_part} was not found."))
            if not rest and method == "GET":
                return _ok(self._detail(row))
            if not rest and method == "PATCH":
                return self._patch(row, request)
            if rest == "notes" and method == "GET":
                return self._list_notes(row, request)
            if rest == "notes" and method == "POST":
                return self._post_note(row, request)
            if rest == "resolve" and method == "POST":
                return self._resolve(row, request)
        return _fail(404, "Not found")

    # -- reads ---------------------------------------------------------------------------

    def _list(self, request: Request) -> Reply:
        size = _int(request.param("PageSize"), DEFAULT_PAGE)
        number = _int(request.param("PageNumber"), 1)
        if size < 1 or number < 1:
            raise _Refused(_fail(400, "PageSize and PageNumber must be positive."))
        size = min(size, MAX_PAGE)
        keys = self._query(request)
        start = (number - 1) * size
        rows = [self._row(self._tickets[tid]) for _, tid in keys[start : start + size]]
        return Reply(
            200, {"success": True, "error": None, "result": rows, "totalRecords": len(keys)}
        )

    def _query(self, request: Request) -> list[tuple[int, int]]:
        """Keys of the matching tickets in list order: a slice of an index when it can be."""
        excluded = request.param("Filter.ExcludeCompleted") == "1"
        done_from = self._when(request.param("Filter.CompletedDateFrom"))
        done_to = self._when(request.param("Filter.CompletedDateTo"))
        if excluded:
            index = self._open
        elif done_from is not None or done_to is not None:
            index = self._done
        else:
            index = self._all
        low = self._when(request.param("Filter.LastActivityUpdateFrom"))
        high = self._when(request.param("Filter.LastActivityUpdateTo"))
        lo = bisect.bisect_left(index, (_micros(low), -1)) if low else 0
        hi = bisect.bisect_right(index, (_micros(high), 1 << 62)) if high else len(index)
        extra = {
            name: request.param(name)
            for name in (
                "Filter.CreatedOnFrom",
                "Filter.CreatedOnTo",
                "Filter.StatusNames",
                "Filter.QueueNames",
                "Filter.PriorityNames",
            )
            if request.param(name)
        }
        if done_from is None and done_to is None and not extra:
            return index[lo:hi]
        cache_key = (id(index), lo, hi, done_from, done_to, tuple(sorted(extra.items())))
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = [
                key
                for key in index[lo:hi]
                if self._matches(self._tickets[key[1]], done_from, done_to, extra)
            ]
            self._cache[cache_key] = cached
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        return cached

    def _matches(
        self,
        row: _Ticket,
        done_from: datetime | None,
        done_to: datetime | None,
        extra: Mapping[str, str | None],
    ) -> bool:
        if done_from is not None and (row.completed is None or row.completed < done_from):
            return False
        if done_to is not None and (row.completed is None or row.completed > done_to):
            return False
        created_from = self._when(extra.get("Filter.CreatedOnFrom"))
        created_to = self._when(extra.get("Filter.CreatedOnTo"))
        if created_from is not None and row.created < created_from:
            return False
        if created_to is not None and row.created > created_to:
            return False
        for name, value in (
            ("Filter.StatusNames", self._status_name(row.status_id)),
            ("Filter.QueueNames", row.queue or ""),
            ("Filter.PriorityNames", _priority_name(row.priority_id)),
        ):
            wanted = extra.get(name)
            if wanted and value.lower() not in {w.strip().lower() for w in wanted.split(",")}:
                return False
        return True

    def _list_notes(self, row: _Ticket, request: Request) -> Reply:
        size = min(_int(request.param("PageSize"), DEFAULT_PAGE), MAX_PAGE)
        number = max(_int(request.param("PageNumber"), 1), 1)
        notes = self._notes.get(row.id, [])
        start = (number - 1) * size
        return _ok([self._note(n) for n in notes[start : start + size]])

    def _row(self, row: _Ticket) -> dict[str, Any]:
        """A ``TicketListDto``, camelCased, every property present."""
        t = self._fmt
        body: dict[str, Any] = dict.fromkeys(LIST_FIELDS)
        status = self._status(row.status_id)
        body.update(
            {
                "id": row.id,
                "createdBy": 101,
                "createdOn": t(row.created),
                "modifiedBy": 101,
                "modifiedOn": t(row.modified),
                "tenantName": self.tenant,
                "ticketNumber": row.number,
                "title": row.title,
                "details": row.details,
                "accountId": 2001,
                "locationId": 3001,
                "accountCode": "ACME",
                "accountName": "Acme Corporation",
                "locationName": "Head Office",
                "contactId": 4001 if row.contact else None,
                "contactName": row.contact,
                "queueId": 51 if row.queue else None,
                "queueName": row.queue,
                "statusId": row.status_id,
                "statusName": status["name"],
                "statusColor": status["color"],
                "statusForeColor": status["fontColor"],
                "statusOrder": status["statusOrder"],
                "priorityId": row.priority_id,
                "priorityName": _priority_name(row.priority_id),
                "priorityColor": "#d9534f" if row.priority_id <= 2 else "#5bc0de",
                "typeId": 1,
                "typeName": "Incident",
                "assigneeId": 7001 if row.assignee else None,
                "assigneeName": row.assignee,
                "sourceId": 2,
                "isScheduled": 0,
                "hardwareAssetId": 9001 if row.asset else 0,
                "hardwareAssetName": row.asset,
                "hasMetSLA": row.met_sla,
                "isSLAPaused": False,
                "openDate": t(row.created),
                "dueDate": t(row.due),
                "completedDate": t(row.completed),
                "lastActivityUpdate": t(row.activity),
                "resolutionTargetTime": t(row.due),
                "firstResponseActualTime": t(row.first_response),
                "lastStatusUpdate": t(row.status_changed),
                "createdByName": "Service Desk",
            }
        )
        return body

    def _detail(self, row: _Ticket) -> dict[str, Any]:
        """A ``TicketOutputDto``: the list row's fields plus the detail-only ones."""
        body = self._row(row)
        body.update(
            {
                "contactEmail": None,
                "contactPhone": None,
                "locationPhone": None,
                "sourceName": "Email",
                "cCs": [],
                "secondaryAssignees": [],
                "tenantId": 1,
                "isReadOnly": False,
            }
        )
        return body

    def _note(self, note: _Note) -> dict[str, Any]:
        t = self._fmt
        return {
            "id": note.id,
            "createdBy": 101,
            "createdOn": t(note.created),
            "modifiedBy": None,
            "modifiedOn": None,
            "details": note.details,
            "isInternal": note.internal,
            "typeId": note.type_id,
            "typeName": "Note",
            "createdByName": note.author,
            "createdByEmail": None,
            "modifiedByName": None,
            "attachments": note.attachments,
        }

    def _status(self, status_id: int) -> dict[str, Any]:
        for order, (sid, name, done) in enumerate(STATUSES, start=1):
            if sid == status_id:
                return {
                    "id": sid,
                    "name": name,
                    "fontColor": "#ffffff",
                    "color": "#777777" if done else "#337ab7",
                    "statusOrder": order,
                    "typeId": 1,
                    "isSystemStatus": 1 if sid in (1, 6) else 0,
                    "slaEventId": None,
                    "isActive": True,
                }
        raise KeyError(status_id)

    def _status_name(self, status_id: int) -> str:
        return str(self._status(status_id)["name"])

    def _userinfo(self) -> dict[str, Any]:
        return {
            "userId": 101,
            "fullName": "paneglass Service",
            "emailAddress": self.username,
            "timeStamp": self._fmt(self.clock()),
            "timeZoneValue": 0.0,
            "timeZoneName": "UTC",
            "olsonTimeZoneName": str(self.zone),
            "tenantId": 1,
            "businessName": self.tenant,
            "isUserSystemAdmin": False,
        }

    # -- writes --------------------------------------------------------------------------

    def _post_note(self, row: _Ticket, request: Request) -> Reply:
        body = _fields(_json(request))
        details = body.get("details")
        missing = [
            name
            for name, ok in (
                ("Details", isinstance(details, str) and details.strip()),
                ("IsInternal", isinstance(body.get("isinternal"), bool)),
                ("TypeId", isinstance(body.get("typeid"), int)),
                ("NoteDate", self._when(body.get("notedate")) is not None),
            )
            if not ok
        ]
        if missing:
            raise _Refused(
                _fail(400, "One or more validation errors occurred.", f"{missing[0]} is required.")
            )
        assert isinstance(details, str)
        at = self.clock()
        note = _Note(
            id=next(self._note_ids),
            details=details,
            internal=bool(body["isinternal"]),
            author="paneglass Service",
            created=at,
            type_id=int(body["typeid"]),
        )
        self._notes.setdefault(row.id, []).append(note)
        self.record_comment(row.id, details, public=not note.internal)
        self._touch(row, at)
        return _ok(self._note(note))

    def _patch(self, row: _Ticket, request: Request) -> Reply:
        operations = _json(request)
        if not isinstance(operations, list) or not operations:
            raise _Refused(_fail(400, "A JSON Patch document (a list of operations) is required."))
        at = self.clock()
        for operation in operations:
            op = _fields(operation) if isinstance(operation, Mapping) else {}
            path = str(op.get("path", "")).strip("/").lower()
            value = op.get("value")
            if op.get("op") != "replace" or path not in {
                "statusid",
                "priorityid",
                "assigneeid",
                "queueid",
            }:
                raise _Refused(_fail(400, f"Unsupported patch operation on /{path}."))
            if not isinstance(value, int) or isinstance(value, bool):
                raise _Refused(_fail(400, f"/{path} needs an integer value."))
            if path == "statusid":
                self._set_status(row, value, at)
            elif path == "priorityid":
                if value not in dict(PRIORITIES):
                    raise _Refused(_fail(400, f"Priority {value} does not exist."))
                row.priority_id = value
        self._touch(row, at)
        return _ok(self._detail(row))

    def _resolve(self, row: _Ticket, request: Request) -> Reply:
        body = _fields(_json(request))
        comment = body.get("comment")
        if not isinstance(comment, str) or not comment.strip():
            raise _Refused(
                _fail(400, "One or more validation errors occurred.", "Comment is required.")
            )
        status_id = body.get("statusid", 5)
        if not isinstance(status_id, int) or not self._completes(status_id):
            raise _Refused(_fail(400, f"Status {status_id} does not complete a ticket."))
        at = self.clock()
        self._set_status(row, status_id, at)
        internal = body.get("isinternal") is not False
        note = _Note(next(self._note_ids), comment, internal, "paneglass Service", at)
        self._notes.setdefault(row.id, []).append(note)
        self.record_comment(row.id, comment, public=not internal)
        self._touch(row, at)
        return _ok(self._detail(row))

    def _set_status(self, row: _Ticket, status_id: int, at: datetime) -> None:
        if status_id not in {sid for sid, _, _ in STATUSES}:
            raise _Refused(_fail(400, f"Status {status_id} does not exist."))
        self._unindex(row)
        if row.status_id != status_id:
            row.status_changed = at
        row.status_id = status_id
        row.completed = (row.completed or at) if self._completes(status_id) else None
        self._index(row)

    # -- auth ----------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Reply:
        self.sign_ins += 1
        form = _form(request)
        ok = (
            form.get("username") == self.username
            and form.get("password") == self.password
            and (form.get("tenant") or "").lower() == self.tenant.lower()
            and (form.get("granttype") or "").lower() == "password"
        )
        if not ok:
            return _fail(
                self.auth_failure_status, "Invalid username, password or company name.", code=401
            )
        return _ok(self._issue())

    def _refresh(self, request: Request) -> Reply:
        form = _form(request)
        refresh = form.get("refreshtoken") or ""
        lapses = self.refresh_tokens.pop(refresh, None)
        if lapses is None or time.monotonic() >= lapses or not form.get("accesstoken"):
            return _fail(self.auth_failure_status, "Invalid refresh token.", code=401)
        self.refreshes += 1
        return _ok(self._issue())

    def _issue(self) -> dict[str, Any]:
        now = time.monotonic()
        claims = base64.urlsafe_b64encode(
            json.dumps(
                {"sub": self.username, "tenant": self.tenant, "n": secrets.token_hex(8)}
            ).encode()
        ).rstrip(b"=")
        access = (
            f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{claims.decode()}.{secrets.token_urlsafe(24)}"
        )
        refresh = secrets.token_urlsafe(32)
        self.tokens[access] = now + self.token_ttl
        self.refresh_tokens[refresh] = now + self.refresh_ttl
        wall = self.clock()
        return {
            "accessToken": access,
            "refreshToken": refresh,
            "accessTokenExpireOn": self._fmt(wall + timedelta(seconds=self.token_ttl)),
            "refreshTokenExpireOn": self._fmt(wall + timedelta(seconds=self.refresh_ttl)),
        }

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        lapses = self.tokens.get(header[len("Bearer ") :])
        return lapses is not None and time.monotonic() < lapses

    def _count(self, request: Request) -> Reply | None:
        parts = request.path.split("/")
        endpoint = "/".join("{id}" if p.isdigit() else p for p in parts)
        calls = self._calls.setdefault(f"{request.method} {endpoint}", deque())
        now = time.monotonic()
        while calls and calls[0] <= now - HOUR:
            calls.popleft()
        if self.hourly_limit is not None and len(calls) >= self.hourly_limit:
            reply = _fail(429, f"API call limit of {self.hourly_limit} per hour reached.")
            if self.retry_after:
                reply.headers["Retry-After"] = str(max(int(calls[0] + HOUR - now), 1))
            return reply
        calls.append(now)
        return None

    # -- formats -------------------------------------------------------------------------

    def _fmt(self, value: datetime | None) -> str | None:
        return format_time(value, self.zone, naive=self.naive_times)

    def _when(self, value: object) -> datetime | None:
        """A filter or body date-time: with an offset as given, without one in ``zone``."""
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text[:26] if "." in text and "+" not in text else text)
        except ValueError:
            raise _Refused(
                _fail(400, f"The value '{value[:40]}' is not a valid date-time.")
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _ok(result: Any) -> Reply:
    return Reply(200, {"success": True, "error": None, "result": result})


def _fail(
    status: int, message: str, details: str | None = None, *, code: int | None = None
) -> Reply:
    """The envelope of a refusal: ``success: false`` and an ``ErrorInfo``."""
    error = {
        "code": code if code is not None else status,
        "message": message,
        "details": details,
        "stackStrace": None,
        "subErrors": None,
    }
    return Reply(status, {"success": False, "error": error, "result": None})


def _priority(priority_id: int) -> dict[str, Any]:
    """``PriorityLookupOutputDto`` [spec: ``Id``, ``Name``, ``Color``, ``IsDefault``]."""
    return {
        "id": priority_id,
        "name": _priority_name(priority_id),
        "color": "#d9534f" if priority_id <= 2 else "#5bc0de",
        "isDefault": priority_id == 3,
    }


def _priority_name(priority_id: int) -> str:
    return dict(PRIORITIES).get(priority_id, "Medium")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise _Refused(_fail(400, f"The value '{value}' is not valid.")) from None


def _json(request: Request) -> Any:
    try:
        return request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Refused(_fail(400, "The request body is not valid JSON.")) from None


def _fields(body: Any) -> dict[str, Any]:
    """A JSON object's keys folded to lower case (ASP.NET binds names case-insensitively)."""
    if not isinstance(body, Mapping):
        raise _Refused(_fail(400, "A JSON object is required."))
    return {str(k).lower(): v for k, v in body.items()}


def _form(request: Request) -> dict[str, str]:
    """A url-encoded or multipart form, names folded to lower case."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        message = email.message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        )
        out: dict[str, str] = {}
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                out[name.lower()] = payload.decode() if isinstance(payload, bytes) else ""
        return out
    pairs = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k.lower(): v[0] for k, v in pairs.items()}


EMULATOR = KaseyaBmsEmulator

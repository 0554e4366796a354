"""A ConnectWise PSA (Manage) site on loopback, speaking REST 3.0, at a real tenant's size.

Tickets are kept as ConnectWise keeps them (see ``vendor-apis.md`` §8 and the
capture ``connectwise-ticket.json``): sequential integer ids, short references
(``{id, name, _info: {…_href}}``) for board, status, priority, company,
contact and owner, ``resources`` as comma-separated member identifiers,
``closedFlag``, the SLA flags ``isInSla``/``respondMinutes``/…, timestamps as
``2016-03-08T21:59:20Z`` and ``_info.lastUpdated`` as the change stamp. A list
row carries exactly the keys of the captured list answer (nested references
are the short form the live API sends, not the capture's expanded objects).

Every board has its own statuses with their own ids (``New``, ``In Progress``,
``Waiting Customer``, ``Scheduled``, ``Resolved``, ``>Closed`` by default);
tests add tenant-specific ones with :meth:`ConnectWiseEmulator.set_status`.

``GET /service/tickets`` and ``GET /service/tickets/count`` understand
``conditions`` as ConnectWise writes them: comparisons (``= != < <= > >=``,
``contains``, ``like``, ``in (…)``) on plain fields, slash paths
(``board/name``) and ``_info/…`` (``lastUpdated`` and ``dateEntered`` also
bare), combined with ``and``/``or``/``not`` and parentheses; ``orderBy``; and
``page``/``pageSize`` (default 25, max 1000) with a navigable ``Link`` header
(``first``/``prev``/``next``/``last``). The API root is
``/v4_6_release/apis/3.0`` as on cloud sites; :attr:`base_url` includes it.

Size: built to hold 100,000 tickets and answer a page in time independent of
the tenant. Ids are kept sorted, as are the open ids and ``(lastUpdated, id)``;
a query's matching ids are computed once from those indexes (open tickets, a
``lastUpdated`` range; only a condition no index serves scans every ticket)
and then kept up to date on every write, so the pages of a keyset walk
(``… and id > 123``) and of ``count`` are a bisection and a slice. Each row's
JSON is encoded once and reused until the row changes. :meth:`put_tickets`
loads a bench tenant in one sort.

Notes: ``GET /service/tickets/{id}/notes`` (the ServiceNote model of the
published API: ``text``, ``detailDescriptionFlag``, ``internalAnalysisFlag``,
``resolutionFlag``, ``issueFlag``, ``internalFlag``, ``externalFlag``,
``member``/``contact``, ``dateCreated``, ``createdBy``, ``_info``; no capture of
a note exists, so the keys follow that model) with the same ``conditions``,
``orderBy`` and paging. A ticket's ``description`` becomes its first note
(Discussion), as ``initialDescription`` does in ConnectWise; notes and world
entries move the ticket's ``lastUpdated`` (assumed: ConnectWise stamps the
ticket when a note is added). World entry attachments are not kept: ConnectWise
attaches documents to the ticket, not to a note, and ``/system/documents`` is
not emulated.

Auth is Basic ``{company}+{public key}:{private key}`` plus the mandatory
``clientId`` header; failures answer 401 with ConnectWise's ``{code, message}``
body. The exact messages and the 429 body are assumptions (no capture of them).

Writes (``vendor-apis.md`` §8.8): ``POST /service/tickets/{id}/notes``,
``PATCH /service/tickets/{id}`` (a JSON-Patch list replacing ``owner``,
``status``, ``summary`` or ``priority``) and ``POST /service/tickets``, plus the
lookups a client needs for them, ``GET /service/boards/{id}/statuses`` and
``GET /service/priorities``. Every write moves ``_info.lastUpdated``, so the next
incremental poll returns the change. Refusals are ConnectWise's 400 body,
``{"code": "InvalidObject", "message": "ticket object is invalid", "errors":
[{"code", "message", "resource", "field"}]}`` (shape from real answers; the
exact texts are ours).

Fault mode: ``hidden_boards`` names boards whose tickets the API member may not
see. They still take their place in a page and are left out of the body
afterwards, so a page comes back short, or empty, while the ``Link`` header
still offers the next one.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import operator
import re
import uuid
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["API_ROOT", "EMULATOR", "ConnectWiseEmulator", "cw_stamp"]

API_ROOT = "/v4_6_release/apis/3.0"
TICKETS_PATH = "/service/tickets"
INFO_PATH = "/system/info"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
SERVER_VERSION = "v2025.1.10432"
QUERY_CACHE = 16
"""Distinct ``conditions`` whose matching ids are kept (and maintained on writes)."""

DEFAULT_STATUSES: tuple[tuple[str, bool], ...] = (
    ("New", False),
    ("In Progress", False),
    ("Waiting Customer", False),
    ("Scheduled", False),
    ("Resolved", False),
    (">Closed", True),
)
"""Every new board's statuses: ``(name, closes the ticket)``; CW sorts closing ones with ``>``."""

_STATUS_OUT = {
    TicketStatus.NEW: "New",
    TicketStatus.OPEN: "In Progress",
    TicketStatus.PENDING: "Waiting Customer",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: ">Closed",
}
_PRIORITIES = {
    Priority.P1: (6, "Priority 1 - Emergency Response", 1),
    Priority.P2: (15, "Priority 2 - Quick Response", 2),
    Priority.P3: (4, "Priority 3 - Normal Response", 3),
    Priority.P4: (7, "Priority 4 - Schedule Maintenance", 4),
    Priority.P5: (8, "Priority 5 - Next Time", 5),
}
"""ConnectWise's default priorities: ``(id, name, sort)``."""
DEFAULT_PRIORITY = Priority.P3
"""A ticket always has a priority; the board default is "Normal Response"."""
_PRIORITY_REFS = {
    level: {
        "id": priority_id,
        "name": name,
        "sort": sort,
        "_info": {
            "priority_href": f"/service/priorities/{priority_id}",
            "image_href": f"/service/priorities/{priority_id}/image?lm=2005-05-27T14:58:21Z",
        },
    }
    for level, (priority_id, name, sort) in _PRIORITIES.items()
}
"""The reference a ticket row carries for each priority."""
_ACTIVE = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING})

_TICKET_PATH = re.compile(r"^/service/tickets/(?P<id>\d+)$")
_NOTES_PATH = re.compile(r"^/service/tickets/(?P<id>\d+)/notes$", re.IGNORECASE)
_STATUSES_PATH = re.compile(r"^/service/boards/(?P<id>\d+)/statuses$", re.IGNORECASE)
PRIORITIES_PATH = "/service/priorities"
API_MEMBER = "APIMember"
"""The identifier ConnectWise records as ``enteredBy``/``updatedBy`` for API-key writes."""
DESCRIPTION_REF = "__description__"
"""The world-entry ref of a ticket's initial description note."""
_PATCHABLE = frozenset({"owner", "status", "summary", "priority"})
_RESOLVED_NAME = re.compile(r"\b(resolved|completed?)\b", re.IGNORECASE)
_INFO_FIELDS = {"lastupdated": "lastUpdated", "dateentered": "dateEntered"}
"""Condition fields whose values live under ``_info``."""
_TICKET_LINKS = (
    "activities",
    "timeentries",
    "scheduleentries",
    "documents",
    "products",
    "configurations",
    "tasks",
    "notes",
)
"""The ticket's own ``_info`` links, in the capture's order."""
_ROW: dict[str, Any] = {
    "id": None,
    "summary": None,
    "recordType": "ServiceTicket",
    "board": None,
    "status": None,
    "company": None,
    "site": {"id": 28, "name": "Main", "_info": {"site_href": "/company/sites/28"}},
    "siteName": "Main",
    "addressLine1": "1 Main Street",
    "addressLine2": None,
    "city": "Tampa",
    "stateIdentifier": "FL",
    "zip": "33602",
    "country": None,
    "contact": None,
    "contactName": None,
    "contactPhoneNumber": None,
    "contactPhoneExtension": None,
    "contactEmailAddress": None,
    "type": None,
    "subType": None,
    "item": None,
    "team": None,
    "owner": None,
    "priority": None,
    "locationId": 2,
    "serviceLocation": {"id": 1, "name": "On-Site"},
    "source": {"id": 2, "name": "Phone"},
    "requiredDate": None,
    "budgetHours": None,
    "opportunity": None,
    "agreement": None,
    "severity": "Medium",
    "impact": "Medium",
    "externalXRef": None,
    "poNumber": None,
    "knowledgeBaseCategoryId": None,
    "knowledgeBaseSubCategoryId": None,
    "allowAllClientsPortalView": False,
    "customerUpdatedFlag": False,
    "automaticEmailContactFlag": False,
    "automaticEmailResourceFlag": False,
    "automaticEmailCcFlag": False,
    "automaticEmailCc": None,
    "contactEmailLookup": None,
    "processNotifications": None,
    "closedDate": None,
    "closedBy": None,
    "closedFlag": False,
    "enteredBy": "portal",
    "actualHours": None,
    "approved": True,
    "subBillingMethod": None,
    "subBillingAmount": None,
    "subDateAccepted": None,
    "dateResolved": None,
    "dateResplan": None,
    "dateResponded": None,
    "resolveMinutes": 0,
    "resPlanMinutes": 0,
    "respondMinutes": 0,
    "isInSla": True,
    "knowledgeBaseLinkId": None,
    "resources": None,
    "parentTicketId": None,
    "hasChildTicket": False,
    "knowledgeBaseLinkType": None,
    "billTime": "NoDefault",
    "billExpenses": "Billable",
    "billProducts": "Billable",
    "predecessorType": None,
    "predecessorId": None,
    "predecessorClosedFlag": None,
    "lagDays": 0,
    "lagNonworkingDaysFlag": False,
    "estimatedStartDate": None,
    "duration": None,
    "businessUnitId": 10,
    "mobileGuid": None,
    "sla": {"id": 3, "name": "Standard SLA", "_info": {"sla_href": "/service/SLAs/3"}},
    "customFields": None,
    "_info": None,
}
"""A list row's keys in the order of the captured ``GET /service/tickets`` answer, with the
values every emulated ticket shares. Nested values here (and the board, status, priority,
member and contact references) are shared between rows and never changed in place: a
write replaces the whole reference."""


class _Row(dict[str, Any]):
    """A ticket row holding only what differs from :data:`_ROW` (a tenant of 100,000 rows
    then needs about half the memory); a missing key reads as the shared value."""

    __slots__ = ()

    def __missing__(self, key: str) -> Any:
        return _ROW[key]


def cw_stamp(value: datetime) -> str:
    """ConnectWise's timestamp form: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).isoformat()[:19] + "Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message})


def _invalid(resource: str, field: str, code: str, message: str) -> Reply:
    """ConnectWise's 400 for an object that fails validation, naming the field."""
    return Reply(
        400,
        {
            "code": "InvalidObject",
            "message": f"{resource} object is invalid",
            "errors": [{"code": code, "message": message, "resource": resource, "field": field}],
        },
    )


class ConditionError(ValueError):
    """A ``conditions`` string the emulator (like ConnectWise) refuses."""


@dataclass
class _Query:
    """The ids (ascending) one ``conditions`` selects, kept current on every write."""

    test: Callable[[dict[str, Any]], bool]
    ids: list[int]

    def update(self, ticket_id: int, row: dict[str, Any]) -> None:
        index = bisect_left(self.ids, ticket_id)
        present = index < len(self.ids) and self.ids[index] == ticket_id
        try:
            wanted = self.test(row)
        except ConditionError:
            wanted = False
        if wanted and not present:
            self.ids.insert(index, ticket_id)
        elif present and not wanted:
            del self.ids[index]


@dataclass
class _Bounds:
    """The ``id`` bounds a keyset walk adds to its conditions (``id > 123``)."""

    low: int | None = None
    """Ids above this."""
    high: int | None = None
    """Ids below this."""

    def add(self, op: str, value: int) -> None:
        if op == ">":
            self.low = value if self.low is None else max(self.low, value)
        elif op == ">=":
            self.low = value - 1 if self.low is None else max(self.low, value - 1)
        elif op == "<":
            self.high = value if self.high is None else min(self.high, value)
        else:  # "<="
            self.high = value + 1 if self.high is None else min(self.high, value + 1)

    def slice(self, ids: Sequence[int]) -> tuple[int, int]:
        start = 0 if self.low is None else bisect_right(ids, self.low)
        end = len(ids) if self.high is None else bisect_left(ids, self.high)
        return start, max(start, end)


class ConnectWiseEmulator(TicketEmulator):
    """One ConnectWise PSA site with an API member, boards, members, contacts and tickets."""

    kind: ClassVar[str] = "connectwise"

    def __init__(
        self,
        *,
        company_id: str = "acmemsp",
        public_key: str = "Xq8fPz2LkW4mTn7R",
        private_key: str = "b3Vd9sHk2QeLw6Ya",
        client_id: str = "3f6c2a8e-51d4-4b7e-9c0a-7d2e4f1b6a93",
        customer: str = "Acme Corp",
        hidden_boards: Iterable[str] = (),
        first_ticket_id: int = 104233,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_PAGE_SIZE,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.company_id = company_id
        self.public_key = public_key
        self.private_key = private_key
        self.client_id = client_id
        self.hidden_boards = frozenset(hidden_boards)
        """Boards whose tickets count toward paging but are withheld from the body."""
        self.site_url = ""
        """``http://127.0.0.1:port``, the site root the UI lives under (set by :meth:`start`)."""
        self._ticket_ids = itertools.count(first_ticket_id)
        self._ids = itertools.count(250, 7)
        self._tickets: dict[int, dict[str, Any]] = {}
        self._sla: dict[int, tuple[datetime | None, bool | None]] = {}
        """Per ticket: the world's due time and explicit breach flag, for ``isInSla``."""
        self._ids_by_ref: dict[str, int] = {}
        self._boards: dict[str, dict[str, Any]] = {}
        self._members: dict[str, dict[str, Any]] = {}
        self._identifiers: set[str] = set()
        self._contacts: dict[str, dict[str, Any]] = {}
        self._notes: dict[int, list[dict[str, Any]]] = {}
        """Per ticket: its notes, by id, as ``GET /service/tickets/{id}/notes`` lists them."""
        self._note_refs: dict[tuple[int, str], dict[str, Any]] = {}
        self._note_ids = itertools.count(3001)
        # Indexes: every ticket id, the open ones, (lastUpdated, id); all ascending.
        self._sorted_ids: list[int] = []
        self._open_ids: list[int] = []
        self._by_updated: list[tuple[str, int]] = []
        self._indexed: dict[int, tuple[str, bool]] = {}
        self.examined = 0
        """Tickets tested against a query's conditions, plus rows served, so far: a page of
        a cached query costs its own rows, a new query the candidates of its best index."""
        self._queries: OrderedDict[str, _Query] = OrderedDict()
        self._json: dict[int, bytes] = {}
        self._company = {
            "id": 250,
            "identifier": re.sub(r"\W+", "", customer) or "Company",
            "name": customer,
            "_info": {"company_href": "/company/companies/250"},
        }
        self.default_board_id: int = self._board("Help Desk")["id"]
        """The board hand-offs go to in the demo (``create_board_id``)."""

    def start(self) -> str:
        """Serve on loopback; :attr:`base_url` is the API root, as the connector expects."""
        self.site_url = super().start()
        self.base_url = f"{self.site_url}{API_ROOT}"
        with self.lock:
            self._json.clear()  # hrefs are absolute under the new root
        return self.base_url

    def __enter__(self) -> ConnectWiseEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`ConnectWiseConnector` needs (and, once started, ui_url)."""
        settings: dict[str, Any] = {
            "kind": "connectwise",
            "company_id": self.company_id,
            "public_key": self.public_key,
            "private_key": self.private_key,
            "client_id": self.client_id,
            "create_board_id": self.default_board_id,
            "create_company_id": self._company["id"],
        }
        if self.site_url:
            settings["ui_url"] = self.site_url
        return settings

    # -- mutators -------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``.

        O(log N) searches plus a list insert per index (a memmove), whatever the tenant.
        """
        with self.lock:
            ticket_id = self._store(ticket)
            self._reindex(ticket_id)
            return f"#{ticket_id}"

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Load many tickets at once (benches): one sort of every index at the end."""
        with self.lock:
            keys = [f"#{self._store(ticket)}" for ticket in tickets]
            self._rebuild_indexes()
            return keys

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a note on the ticket; return its note id.

        ``public`` becomes a Discussion note, ``internal`` an Internal Analysis
        one, ``system`` a note with no flag and no member (a workflow wrote it).
        ConnectWise keeps notes as plain text, so ``entry.text`` is what is
        stored (``entry.html`` is not). Attachments are not kept (see the
        module docstring). The ticket's ``lastUpdated`` moves to the note's.
        """
        with self.lock:
            ticket_id = self._ids_by_ref[ticket_ref]
            row = self._tickets[ticket_id]
            author = None if entry.visibility == "system" else entry.author
            by_contact = (
                entry.visibility == "public"
                and author is not None
                and author == row.get("contactName")
            )
            note = self._upsert_note(
                ticket_id,
                entry.ref,
                entry.text,
                at=entry.at,
                detail=entry.visibility == "public",
                internal=entry.visibility == "internal",
                member=None if by_contact or author is None else self._member(author),
                contact=self._contact(author) if by_contact and author else None,
            )
            stamp = note["_info"]["lastUpdated"]
            if stamp > row["_info"]["lastUpdated"]:
                row["_info"]["lastUpdated"] = stamp
                self._reindex(ticket_id)
            return str(note["id"])

    def set_status(self, ref: str, name: str, *, closes: bool = False) -> None:
        """Move a ticket to board status ``name``, adding it to the board when it is new."""
        with self.lock:
            row = self._tickets[self._ids_by_ref[ref]]
            board = self._boards[row["board"]["name"]]
            if name not in board["statuses"]:
                board["statuses"][name] = {"id": next(self._ids), "closedStatus": closes}
            row["status"] = self._status_ref(board, name)
            row["closedFlag"] = board["statuses"][name]["closedStatus"]
            self._touch(row)

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (``priority={…}``, ``isInSla=False``); bumps the stamp."""
        with self.lock:
            row = self._tickets[self._ids_by_ref[ref]]
            unknown = set(fields) - (set(_ROW) - {"id", "_info"})
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            if "isInSla" in fields:
                self._sla[row["id"]] = (None, not fields["isInSla"])
            row.update(fields)
            self._touch(row)

    def ticket_id(self, ref: str) -> int:
        """The native id of the ticket put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def member_identifier(self, name: str) -> str:
        """The identifier of the member with this name (created on first use, as tickets do)."""
        with self.lock:
            return str(self._member(name)["identifier"])

    def board_id(self, name: str) -> int:
        """The id of a board (created on first use, as tickets do for ``group``)."""
        with self.lock:
            return int(self._board(name)["id"])

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Copies of a ticket's notes (its description, world entries, API writes)."""
        with self.lock:
            return [json.loads(json.dumps(note)) for note in self._notes.get(ticket_id, [])]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as ``GET /service/tickets/{id}`` shows it."""
        with self.lock:
            view: dict[str, Any] = json.loads(self._row_json(self._ids_by_ref[ref]))
            return view

    # -- wire format ------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the endpoints the connector uses; every answer carries ``x-cw-request-id``."""
        reply = self._answer(request)
        reply.headers.setdefault("x-cw-request-id", str(uuid.uuid4()))
        return reply

    def _answer(self, request: Request) -> Reply:
        refusal = self._refuse_credentials(request.headers)
        if refusal is not None:
            return refusal
        path = request.path.rstrip("/")
        if not path.lower().startswith(API_ROOT.lower()):
            return _error(404, "NotFound", "The requested resource was not found.")
        path = path[len(API_ROOT) :]
        if request.method in ("POST", "PATCH"):
            return self._write(request, path)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "MethodNotAllowed", f"{request.method} is not supported here.")
        try:
            return self._read(request, path)
        except ConditionError as exc:
            return _error(400, "InvalidObject", str(exc))

    def _read(self, request: Request, path: str) -> Reply:
        lowered = path.lower()
        if lowered == INFO_PATH.lower():
            return Reply(
                200,
                {
                    "version": SERVER_VERSION,
                    "isCloud": True,
                    "serverTimeZone": "Eastern Standard Time",
                    "cloudRegion": "NA",
                },
            )
        if lowered == TICKETS_PATH:
            return self._list(request)
        if lowered == f"{TICKETS_PATH}/count":
            ids, bounds = self._select(request.param("conditions") or "")
            start, end = bounds.slice(ids)
            return Reply(200, {"count": end - start})
        match = _TICKET_PATH.match(path)
        if match is not None:
            row = self._visible(int(match["id"]))
            if row is None:
                return _error(404, "NotFound", f"Ticket recId {match['id']} not found.")
            return Reply(200, raw=self._row_json(row["id"]))
        match = _NOTES_PATH.match(path)
        if match is not None:
            row = self._visible(int(match["id"]))
            if row is None:
                return _error(404, "NotFound", f"Ticket recId {match['id']} not found.")
            return self._notes_page(request, row["id"])
        match = _STATUSES_PATH.match(path)
        if match is not None:
            board = self._board_by_id(int(match["id"]))
            if board is None:
                return _error(404, "NotFound", f"Board recId {match['id']} not found.")
            return Reply(200, self._statuses_view(board))
        if lowered == PRIORITIES_PATH.lower():
            return Reply(200, _priorities_view())
        return _error(404, "NotFound", "The requested resource was not found.")

    def _list(self, request: Request) -> Reply:
        """``GET /service/tickets``: one page, navigable ``Link``, rows as cached JSON."""
        page = _whole(request.param("page"), 1, "page")
        size = min(_whole(request.param("pageSize"), self.page_size, "pageSize"), MAX_PAGE_SIZE)
        order = _parse_order(request.param("orderBy") or "id asc")
        ids, bounds = self._select(request.param("conditions") or "")
        start, end = bounds.slice(ids)
        total = end - start
        first = start + (page - 1) * size
        by_id = len(order) == 1 and order[0][0].lower() == "id"
        if by_id and not order[0][1]:
            chosen: Sequence[int] = ids[first : min(first + size, end)]
        elif by_id:
            top = end - (page - 1) * size
            chosen = ids[max(top - size, start) : max(top, start)][::-1]
        else:  # any other order: sort the matches (clients other than the connector)
            rows = [self._tickets[i] for i in ids[start:end]]
            for name, descending in reversed(order):
                rows.sort(key=_order_key(name), reverse=descending)
            chosen = [r["id"] for r in rows[(page - 1) * size : page * size]]
        self.examined += len(chosen)
        parts = [
            self._row_json(i)
            for i in chosen
            if self._tickets[i]["board"]["name"] not in self.hidden_boards
        ]
        headers: dict[str, str] = {}
        if total:
            last_page = max((total + size - 1) // size, 1)
            headers["Link"] = self._links(request, TICKETS_PATH, page, size, last_page)
        return Reply(200, raw=b"[" + b",".join(parts) + b"]", headers=headers)

    def _notes_page(self, request: Request, ticket_id: int) -> Reply:
        """``GET /service/tickets/{id}/notes``: the ticket's notes, filtered, ordered, paged."""
        page = _whole(request.param("page"), 1, "page")
        size = min(_whole(request.param("pageSize"), self.page_size, "pageSize"), MAX_PAGE_SIZE)
        test = _parse_conditions(request.param("conditions") or "").test
        notes = [n for n in self._notes.get(ticket_id, []) if test(n)]
        for name, descending in reversed(_parse_order(request.param("orderBy") or "id asc")):
            notes.sort(key=_order_key(name), reverse=descending)
        chunk = notes[(page - 1) * size : page * size]
        headers: dict[str, str] = {}
        if notes:
            last_page = max((len(notes) + size - 1) // size, 1)
            path = f"{TICKETS_PATH}/{ticket_id}/notes"
            headers["Link"] = self._links(request, path, page, size, last_page)
        return Reply(200, [_absolute(n, self.base_url) for n in chunk], headers=headers)

    def _select(self, conditions: str) -> tuple[list[int], _Bounds]:
        """The ascending ids ``conditions`` selects apart from its ``id`` bounds, and those."""
        node = _parse_conditions(conditions)
        bounds = _Bounds()
        rest: list[_Node] = []
        parts = node.parts if isinstance(node, _All) else (node,)
        for part in parts:
            if (
                isinstance(part, _Cmp)
                and _lower(part.path) == ("id",)
                and part.op in (">", ">=", "<", "<=")
                and isinstance(part.value, int)
                and not isinstance(part.value, bool)
            ):
                bounds.add(part.op, part.value)
            else:
                rest.append(part)
        base: _Node = rest[0] if len(rest) == 1 else _All(tuple(rest))
        key = repr(base)
        query = self._queries.get(key)
        if query is None:
            query = self._build(base)
            self._queries[key] = query
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(key)
        return query.ids, bounds

    def _build(self, node: _Node) -> _Query:
        """Evaluate a query once, starting from the smallest index that serves it."""
        candidates = self._candidates(node)
        pool = self._sorted_ids if candidates is None else candidates
        tickets = self._tickets
        self.examined += len(pool)
        return _Query(node.test, [i for i in pool if node.test(tickets[i])])

    def _candidates(self, node: _Node) -> list[int] | None:
        """Ascending ids that include every match, from an index; ``None``: scan them all."""
        if isinstance(node, _All):
            found = [c for c in (self._candidates(p) for p in node.parts) if c is not None]
            return min(found, key=len) if found else (self._sorted_ids if not node.parts else None)
        if isinstance(node, _Any):
            union: set[int] = set()
            for part in node.parts:
                found_part = self._candidates(part)
                if found_part is None:
                    return None
                union.update(found_part)
            return sorted(union)
        if not isinstance(node, _Cmp):
            return None
        path = _lower(node.path)
        if path == ("closedflag",) and node.op == "=" and node.value is False:
            return self._open_ids
        if path == ("id",) and isinstance(node.value, int) and node.op != "!=":
            bounds = _Bounds()
            if node.op == "=":
                return [node.value] if node.value in self._tickets else []
            bounds.add(node.op, node.value)
            start, end = bounds.slice(self._sorted_ids)
            return self._sorted_ids[start:end]
        if (
            node.info == "lastUpdated"
            and node.op in (">", ">=")
            and isinstance(node.value, datetime)
        ):
            # Stamps are whole seconds: every row at or after the literal's second is a candidate.
            start = bisect_left(self._by_updated, (cw_stamp(node.value),))
            return sorted(ticket_id for _, ticket_id in self._by_updated[start:])
        return None

    def _links(self, request: Request, path: str, page: int, size: int, last_page: int) -> str:
        """A navigable ``Link`` header: first/prev/next/last as ConnectWise sends them."""

        def url(number: int) -> str:
            query = {k: v[0] for k, v in request.query.items() if v}
            query.update({"page": str(number), "pageSize": str(size)})
            return f"<{self.base_url}{path}/?{urlencode(query)}>"

        links = []
        if page > 1:
            links += [f'{url(1)}; rel="first"', f'{url(min(page - 1, last_page))}; rel="prev"']
        if page < last_page:
            links += [f'{url(page + 1)}; rel="next"', f'{url(last_page)}; rel="last"']
        return ", ".join(links)

    # -- writes -----------------------------------------------------------------------

    def _write(self, request: Request, path: str) -> Reply:
        """Ticket create, note and JSON-Patch update; anything else is not a write we know."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, "InvalidObject", "The request body is not valid JSON.")
        if request.method == "POST" and path.lower() == TICKETS_PATH:
            if not isinstance(body, dict):
                return _error(400, "InvalidObject", "A ticket object is required.")
            return self._create(body)
        notes = _NOTES_PATH.match(path)
        ticket = _TICKET_PATH.match(path)
        match = notes if request.method == "POST" else ticket
        if match is None:
            return _error(405, "MethodNotAllowed", f"{request.method} is not supported here.")
        row = self._visible(int(match["id"]))
        if row is None:
            return _error(404, "NotFound", f"Ticket recId {match['id']} not found.")
        if notes is not None:
            if not isinstance(body, dict):
                return _error(400, "InvalidObject", "A note object is required.")
            return self._add_note(row, body)
        if not isinstance(body, list):
            return _error(400, "InvalidObject", "A JSON Patch document (a list) is required.")
        return self._patch(row, body)

    def _add_note(self, row: dict[str, Any], body: dict[str, Any]) -> Reply:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _invalid("ticketNote", "text", "MissingRequiredField", "text is required.")
        flags = {
            name: body.get(name) is True
            for name in ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
        }
        note = self._upsert_note(
            row["id"],
            f"api:{uuid.uuid4()}",
            text,
            at=self.clock(),
            detail=flags["detailDescriptionFlag"],
            internal=flags["internalAnalysisFlag"],
            resolution=flags["resolutionFlag"],
            member=self._api_member(),
        )
        public = (flags["detailDescriptionFlag"] or flags["resolutionFlag"]) and not flags[
            "internalAnalysisFlag"
        ]
        self.record_comment(row["id"], text, public=public)
        self._touch(row)
        return Reply(201, _absolute(note, self.base_url))

    def _patch(self, row: dict[str, Any], operations: list[Any]) -> Reply:
        """Validate every operation first, then apply them all (ConnectWise is all-or-nothing)."""
        changes: dict[str, Any] = {}
        for operation in operations:
            if not isinstance(operation, dict) or operation.get("op") not in ("replace", "add"):
                return _invalid("ticket", "op", "InvalidField", "Only replace and add are allowed.")
            field_name = str(operation.get("path", "")).strip("/").lower()
            if field_name not in _PATCHABLE:
                return _invalid(
                    "ticket", field_name, "InvalidField", f"Cannot patch '{field_name}'."
                )
            problem = self._check_patch(row, field_name, operation.get("value"), changes)
            if problem is not None:
                return problem
        for field_name, value in changes.items():
            if field_name == "owner":
                self._set_owner(row, value)
            elif field_name == "status":
                self._set_board_status(row, value)
            elif field_name == "priority":
                row["priority"] = _PRIORITY_REFS[value]
            else:
                row["summary"] = value
        self._touch(row)
        return Reply(200, raw=self._row_json(row["id"]))

    def _check_patch(
        self, row: dict[str, Any], field_name: str, value: Any, changes: dict[str, Any]
    ) -> Reply | None:
        """Resolve one patched value into ``changes``, or the 400 ConnectWise would send."""
        if field_name == "summary":
            if not isinstance(value, str) or not value.strip() or len(value) > 100:
                return _invalid(
                    "ticket", "summary", "InvalidField", "summary must be 1 to 100 characters."
                )
            changes["summary"] = value
            return None
        if not isinstance(value, dict):
            return _invalid(
                "ticket", field_name, "InvalidField", f"{field_name} must be a reference."
            )
        if field_name == "owner":
            member = self._member_by_ref(value)
            if member is None:
                wanted = value.get("identifier", value.get("id"))
                return _invalid(
                    "ticket", "owner", "InvalidField", f"Owner '{wanted}' is not a valid member."
                )
            changes["owner"] = member
        elif field_name == "status":
            board = self._boards[row["board"]["name"]]
            name = _status_named(board, value)
            if name is None:
                wanted = value.get("id", value.get("name"))
                return _invalid(
                    "ticket",
                    "status",
                    "InvalidField",
                    f"Status '{wanted}' is not a status of board {board['name']}.",
                )
            changes["status"] = name
        else:
            level = _priority_level(value)
            if level is None:
                wanted = value.get("id", value.get("name"))
                return _invalid(
                    "ticket", "priority", "InvalidField", f"Priority '{wanted}' not found."
                )
            changes["priority"] = level
        return None

    def _create(self, body: dict[str, Any]) -> Reply:
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            return _invalid("ticket", "summary", "MissingRequiredField", "summary is required.")
        if len(summary) > 100:
            return _invalid(
                "ticket", "summary", "InvalidField", "summary must be 100 characters or fewer."
            )
        board_ref = body.get("board")
        board = self._board_by_id(board_ref.get("id")) if isinstance(board_ref, dict) else None
        if board is None:
            return _invalid("ticket", "board", "InvalidField", "board is invalid or missing.")
        company = body.get("company")
        if not isinstance(company, dict) or company.get("id") != self._company["id"]:
            return _invalid("ticket", "company", "InvalidField", "company is invalid or missing.")
        level: Priority | None = DEFAULT_PRIORITY
        if body.get("priority") is not None:
            level = (
                _priority_level(body["priority"]) if isinstance(body["priority"], dict) else None
            )
            if level is None:
                return _invalid("ticket", "priority", "InvalidField", "priority is invalid.")
        description = body.get("initialDescription")
        now = self.clock()
        world = WorldTicket(
            ref=f"api:{uuid.uuid4()}",
            title=summary,
            status=TicketStatus.NEW,
            priority=level,
            created_at=now,
            updated_at=now,
            group=board["name"],
        )
        ticket_id = self._store(world)
        row = self._tickets[ticket_id]
        external = body.get("externalXRef")
        row["externalXRef"] = external if isinstance(external, str) and external else None
        row["enteredBy"] = row["_info"]["updatedBy"] = API_MEMBER
        if isinstance(description, str) and description.strip():
            self._upsert_note(
                ticket_id,
                DESCRIPTION_REF,
                description,
                at=now,
                detail=True,
                member=self._api_member(),
            )
        self._reindex(ticket_id)
        self.created.append(str(ticket_id))
        return Reply(201, raw=self._row_json(ticket_id))

    # -- internals -----------------------------------------------------------------------

    def _store(self, ticket: WorldTicket) -> int:
        """Write the native row for a world ticket (indexes are the caller's job)."""
        ticket_id = self._ids_by_ref.get(ticket.ref)
        if ticket_id is None:
            ticket_id = next(self._ticket_ids)
            self._ids_by_ref[ticket.ref] = ticket_id
        self._tickets[ticket_id] = self._native(ticket_id, ticket)
        self._sla[ticket_id] = (ticket.due_at, ticket.breached)
        if ticket.description.strip():
            contact = self._contact(ticket.requester) if ticket.requester else None
            self._upsert_note(
                ticket_id,
                DESCRIPTION_REF,
                ticket.description,
                at=ticket.created_at,
                detail=True,
                contact=contact,
                member=None if contact else self._api_member(),
                edited_at=ticket.updated_at,
            )
        return ticket_id

    def _native(self, ticket_id: int, ticket: WorldTicket) -> dict[str, Any]:
        """The row as ConnectWise keeps it: the captured list answer's keys, in its order."""
        board = self._board(ticket.group or "Help Desk")
        closed = ticket.status is TicketStatus.CLOSED
        owner = self._member(ticket.assignee) if ticket.assignee else None
        contact = self._contact(ticket.requester) if ticket.requester else None
        entered = ticket.created_at
        resolved = ticket.resolved_at
        if resolved is None and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            resolved = ticket.updated_at
        if ticket.status in _ACTIVE:
            resolved = None
        responded = ticket.first_response_at
        row = _Row(
            id=ticket_id,
            summary=ticket.title,
            board=board["ref"],
            status=self._status_ref(board, _STATUS_OUT[ticket.status]),
            company=self._company,
            priority=_PRIORITY_REFS[ticket.priority or DEFAULT_PRIORITY],
            mobileGuid=f"5c3e0f6a-8d2b-4c1e-9a7f-{ticket_id:012x}",
            customFields=[],
        )
        if contact is not None:
            row["contact"] = contact["ref"]
            row["contactName"] = contact["name"]
            row["contactEmailAddress"] = contact["email"]
        if owner is not None:
            row["owner"] = owner["ref"]
            row["resources"] = owner["identifier"]
        if closed:
            row["closedDate"] = cw_stamp(resolved or ticket.updated_at)
            row["closedBy"] = owner["identifier"] if owner else "ZAdmin"
            row["closedFlag"] = True
        if resolved:
            row["dateResolved"] = cw_stamp(resolved)
            row["resolveMinutes"] = _minutes(entered, resolved)
        if responded:
            row["dateResponded"] = cw_stamp(responded)
            row["respondMinutes"] = _minutes(entered, responded)
        row["_info"] = {
            "dateEntered": cw_stamp(entered),
            "lastUpdated": cw_stamp(ticket.updated_at),
            "updatedBy": owner["identifier"] if owner else "portal",
        }
        return row

    def _reindex(self, ticket_id: int) -> None:
        """Bring every index, cached query and the row's JSON up to date after a change."""
        row = self._tickets[ticket_id]
        stamp = row["_info"]["lastUpdated"]
        closed = row["closedFlag"] is True
        old = self._indexed.get(ticket_id)
        if old is None:
            if not self._sorted_ids or ticket_id > self._sorted_ids[-1]:
                self._sorted_ids.append(ticket_id)
            else:
                insort(self._sorted_ids, ticket_id)
            insort(self._by_updated, (stamp, ticket_id))
            if not closed:
                insort(self._open_ids, ticket_id)
        else:
            if old[0] != stamp:
                del self._by_updated[bisect_left(self._by_updated, (old[0], ticket_id))]
                insort(self._by_updated, (stamp, ticket_id))
            if old[1] != closed:
                if closed:
                    del self._open_ids[bisect_left(self._open_ids, ticket_id)]
                else:
                    insort(self._open_ids, ticket_id)
        self._indexed[ticket_id] = (stamp, closed)
        self._json.pop(ticket_id, None)
        for query in self._queries.values():
            query.update(ticket_id, row)

    def _rebuild_indexes(self) -> None:
        """Every index from scratch (after a bulk load); cached queries are dropped."""
        rows = self._tickets
        self._sorted_ids = sorted(rows)
        self._indexed = {
            i: (r["_info"]["lastUpdated"], r["closedFlag"] is True) for i, r in rows.items()
        }
        self._open_ids = [i for i in self._sorted_ids if not self._indexed[i][1]]
        self._by_updated = sorted((stamp, i) for i, (stamp, _) in self._indexed.items())
        self._queries.clear()
        self._json.clear()

    def _row_json(self, ticket_id: int) -> bytes:
        """The row as sent (absolute hrefs, live ``isInSla``), encoded once until it changes."""
        cached = self._json.get(ticket_id)
        if cached is not None:
            return cached
        row = self._tickets[ticket_id]
        full = {key: row[key] for key in _ROW}  # the captured key order
        ticket_path = f"{TICKETS_PATH}/{ticket_id}"
        full["_info"] = {
            **row["_info"],
            **{f"{name}_href": f"{ticket_path}/{name}" for name in _TICKET_LINKS},
        }
        full["isInSla"] = self._in_sla(row)
        view: dict[str, Any] = _absolute(full, self.base_url)
        encoded = json.dumps(view).encode()
        due, breached = self._sla.get(ticket_id, (None, None))
        finished = row["dateResolved"] or row["closedDate"]
        if breached is not None or due is None or finished:  # else isInSla moves with the clock
            self._json[ticket_id] = encoded
        return encoded

    def _upsert_note(
        self,
        ticket_id: int,
        ref: str,
        text: str,
        *,
        at: datetime,
        detail: bool = False,
        internal: bool = False,
        resolution: bool = False,
        member: dict[str, Any] | None = None,
        contact: dict[str, Any] | None = None,
        edited_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add a note under ``ref``, or edit the one there (stamped ``edited_at``, else now)."""
        existing = self._note_refs.get((ticket_id, ref))
        if existing is not None:
            if existing["text"] != text:
                existing["text"] = text
                when = edited_at or max(at, self.clock())
                existing["_info"]["lastUpdated"] = cw_stamp(when)
            return existing
        stamp = cw_stamp(at)
        author = member["identifier"] if member else API_MEMBER if contact is None else "Portal"
        note = {
            "id": next(self._note_ids),
            "ticketId": ticket_id,
            "text": text,
            "detailDescriptionFlag": detail,
            "internalAnalysisFlag": internal,
            "resolutionFlag": resolution,
            "issueFlag": False,
            "member": _member_ref(member) if member else None,
            "contact": contact["ref"] if contact else None,
            "customerUpdatedFlag": contact is not None,
            "dateCreated": stamp,
            "createdBy": author if (member or contact) else "Workflow",
            "internalFlag": internal,
            "externalFlag": detail or resolution,
            "_info": {"lastUpdated": stamp, "updatedBy": author},
        }
        self._notes.setdefault(ticket_id, []).append(note)
        self._note_refs[(ticket_id, ref)] = note
        return note

    def _refuse_credentials(self, headers: Any) -> Reply | None:
        scheme, _, encoded = (headers.get("authorization") or "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        expected = f"{self.company_id}+{self.public_key}:{self.private_key}"
        if scheme.lower() != "basic" or decoded != expected:
            return _error(
                401,
                "Unauthorized",
                "Authentication failed: check the company id and the public/private key.",
            )
        if headers.get("clientid") != self.client_id:
            return _error(401, "Unauthorized", "A valid clientId header is required.")
        return None

    def _touch(self, row: dict[str, Any]) -> None:
        row["_info"]["lastUpdated"] = cw_stamp(self.clock())
        self._reindex(row["id"])

    def _visible(self, ticket_id: int) -> dict[str, Any] | None:
        """The ticket, unless it does not exist or sits on a board the member cannot see."""
        row = self._tickets.get(ticket_id)
        if row is None or row["board"]["name"] in self.hidden_boards:
            return None
        return row

    def _board_by_id(self, board_id: Any) -> dict[str, Any] | None:
        return next((b for b in self._boards.values() if b["id"] == board_id), None)

    def _member_by_ref(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """A member by ``identifier`` (case-insensitive, as ConnectWise matches) or ``id``."""
        identifier = ref.get("identifier")
        for member in self._members.values():
            if isinstance(identifier, str) and member["identifier"].lower() == identifier.lower():
                return member
            if identifier is None and ref.get("id") == member["id"]:
                return member
        return None

    def _set_owner(self, row: dict[str, Any], member: dict[str, Any]) -> None:
        row["owner"] = member["ref"]
        row["resources"] = member["identifier"]
        row["_info"]["updatedBy"] = API_MEMBER

    def _set_board_status(self, row: dict[str, Any], name: str) -> None:
        """Move to a board status: closing/resolving stamps the dates, reopening clears them."""
        board = self._boards[row["board"]["name"]]
        closes = bool(board["statuses"][name]["closedStatus"])
        now = self.clock()
        row["status"] = self._status_ref(board, name)
        row["closedFlag"] = closes
        row["closedDate"] = cw_stamp(now) if closes else None
        row["closedBy"] = API_MEMBER if closes else None
        if closes or _RESOLVED_NAME.search(name):
            if row["dateResolved"] is None:
                row["dateResolved"] = cw_stamp(now)
                entered = parse_iso(row["_info"]["dateEntered"])
                row["resolveMinutes"] = _minutes(entered, now) if entered else 0
        else:
            row["dateResolved"] = None
            row["resolveMinutes"] = 0
        row["_info"]["updatedBy"] = API_MEMBER

    def _statuses_view(self, board: dict[str, Any]) -> list[dict[str, Any]]:
        """``GET /service/boards/{id}/statuses``: every status of the board in sort order."""
        board_ref = _absolute(
            _short(board, "board_href", f"/service/boards/{board['id']}"), self.base_url
        )
        return [
            {
                "id": status["id"],
                "name": name,
                "board": board_ref,
                "sortOrder": position,
                "displayOnBoard": True,
                "inactive": False,
                "closedStatus": status["closedStatus"],
                "timeEntryNotAllowed": False,
                "defaultFlag": position == 0,
                "escalationStatus": "NotResponded" if position == 0 else "Responded",
                "customerPortalFlag": False,
                "_info": {"lastUpdated": "2024-01-05T10:00:00Z", "updatedBy": "ZAdmin"},
            }
            for position, (name, status) in enumerate(board["statuses"].items())
        ]

    def _board(self, name: str) -> dict[str, Any]:
        board = self._boards.get(name)
        if board is None:
            board_id = len(self._boards) + 1
            board = {
                "id": board_id,
                "name": name,
                "statuses": {
                    status: {"id": next(self._ids), "closedStatus": closes}
                    for status, closes in DEFAULT_STATUSES
                },
                "ref": {
                    "id": board_id,
                    "name": name,
                    "_info": {"board_href": f"/service/boards/{board_id}"},
                },
                "status_refs": {},
            }
            self._boards[name] = board
        return board

    def _status_ref(self, board: dict[str, Any], name: str) -> dict[str, Any]:
        """The (shared) reference a ticket on ``board`` carries for status ``name``."""
        refs: dict[str, dict[str, Any]] = board["status_refs"]
        ref = refs.get(name)
        if ref is None:
            status_id = board["statuses"][name]["id"]
            ref = {
                "id": status_id,
                "name": name,
                "_info": {"status_href": f"/service/boards/{board['id']}/statuses/{status_id}"},
            }
            refs[name] = ref
        return ref

    def _member(self, name: str) -> dict[str, Any]:
        member = self._members.get(name)
        if member is None:
            parts = re.sub(r"[^a-z ]+", "", name.lower()).split()
            base = (
                (parts[0][0] + parts[-1]) if len(parts) > 1 else (parts[0] if parts else "member")
            )
            identifier = base
            for n in itertools.count(2):
                if identifier not in self._identifiers:
                    break
                identifier = f"{base}{n}"
            member = {"id": next(self._ids), "identifier": identifier, "name": name}
            member["ref"] = _member_ref(member)
            self._members[name] = member
            self._identifiers.add(identifier)
        return member

    def _api_member(self) -> dict[str, Any]:
        return {"id": 176, "identifier": API_MEMBER, "name": "API Member"}

    def _contact(self, name: str) -> dict[str, Any]:
        contact = self._contacts.get(name)
        if contact is None:
            local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "contact"
            contact = {"id": next(self._ids), "name": name, "email": f"{local}@acme.example"}
            contact["ref"] = _short(contact, "contact_href", f"/company/contacts/{contact['id']}")
            self._contacts[name] = contact
        return contact

    def _in_sla(self, row: dict[str, Any]) -> bool:
        due, breached = self._sla.get(row["id"], (None, None))
        if breached is not None:
            return not breached
        if due is None:
            return True
        done = row["dateResolved"] or row["closedDate"]
        finished = parse_iso(done) if done else None
        return (finished or self.clock()) <= due


# -- conditions: parsed once into a small tree of predicates --------------------------------


@dataclass(frozen=True)
class _Cmp:
    """One comparison, ``board/name = "Help Desk"``."""

    path: tuple[str, ...]
    """The field's path as written (``("board", "name")``); matched case-insensitively."""
    op: str
    value: Any
    info: str | None = field(default=None, compare=False)
    """``lastUpdated``/``dateEntered`` when the field lives under ``_info``."""

    def test(self, row: dict[str, Any]) -> bool:
        value = _field(row, self.path, self.info)
        wanted = self.value
        op = self.op
        if op in ("in", "not in"):
            if isinstance(value, str):
                found = value.lower() in {str(w).lower() for w in wanted}
            else:
                found = value in wanted
            return found if op == "in" else not found
        if isinstance(wanted, datetime):
            try:
                value = parse_iso(value) if isinstance(value, str) else None
            except BadPayload:
                value = None
        if op in ("contains", "like", "not like", "not contains"):
            if not isinstance(value, str) or not isinstance(wanted, str):
                return False
            if "contains" in op:
                hit = wanted.lower() in value.lower()
            else:
                pattern = "".join(".*" if c in "*%" else re.escape(c) for c in wanted.lower())
                hit = re.fullmatch(pattern, value.lower()) is not None
            return hit if not op.startswith("not") else not hit
        if isinstance(value, str) and isinstance(wanted, str):
            value, wanted = value.lower(), wanted.lower()
        if op not in ("=", "!=") and (value is None or wanted is None):
            return False
        try:
            return bool(_COMPARE[op](value, wanted))
        except TypeError:
            return False


@dataclass(frozen=True)
class _All:
    parts: tuple[_Node, ...]

    def test(self, row: dict[str, Any]) -> bool:
        return all(part.test(row) for part in self.parts)


@dataclass(frozen=True)
class _Any:
    parts: tuple[_Node, ...]

    def test(self, row: dict[str, Any]) -> bool:
        return any(part.test(row) for part in self.parts)


@dataclass(frozen=True)
class _Not:
    part: _Node

    def test(self, row: dict[str, Any]) -> bool:
        return not self.part.test(row)


_Node = _Cmp | _All | _Any | _Not

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<comma>,)"
    r"|(?P<date>\[[^\]]*\])|(?P<string>\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>!=|<=|>=|=|<|>)"
    r"|(?P<number>-?\d+(?:\.\d+)?(?![\w/]))"
    r"|(?P<word>[A-Za-z_][\w/]*))"
)
_WORD_OPS = ("contains", "like", "in")


def _parse_conditions(text: str) -> _Node:
    """``conditions`` as a predicate tree; anything unreadable is a ConditionError (a 400)."""
    tokens = _tokens(text)
    if not tokens:
        return _All(())
    parser = _Parser(tokens, text)
    node = parser.expression()
    if parser.position < len(tokens):
        raise ConditionError(f"Unable to parse conditions near '{parser.near()}'.")
    return node


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ConditionError(
                f"Unable to parse conditions near '{text[position : position + 30]}'."
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match[kind]))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


class _Parser:
    """Recursive descent: ``or`` binds looser than ``and``; ``not`` and parentheses nest."""

    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def near(self) -> str:
        return " ".join(value for _, value in self.tokens[self.position : self.position + 4])

    def _peek_word(self, *words: str) -> bool:
        if self.position >= len(self.tokens):
            return False
        kind, value = self.tokens[self.position]
        return kind == "word" and value.lower() in words

    def _take(self, kind: str) -> str:
        if self.position >= len(self.tokens) or self.tokens[self.position][0] != kind:
            raise ConditionError(f"Unable to parse conditions near '{self.near()}'.")
        value = self.tokens[self.position][1]
        self.position += 1
        return value

    def expression(self) -> _Node:
        parts = [self.conjunction()]
        while self._peek_word("or"):
            self.position += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _Any(tuple(parts))

    def conjunction(self) -> _Node:
        parts = [self.unary()]
        while self._peek_word("and"):
            self.position += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else _All(tuple(parts))

    def unary(self) -> _Node:
        if self._peek_word("not"):
            self.position += 1
            return _Not(self.unary())
        if self.position < len(self.tokens) and self.tokens[self.position][0] == "open":
            self.position += 1
            node = self.expression()
            self._take("close")
            return node
        return self.comparison()

    def comparison(self) -> _Node:
        name = self._take("word")
        if self._peek_word("not"):
            self.position += 1
            if not self._peek_word(*_WORD_OPS):
                raise ConditionError(f"Unable to parse conditions near '{self.near()}'.")
            op = "not " + self.tokens[self.position][1].lower()
            self.position += 1
        elif self._peek_word(*_WORD_OPS):
            op = self.tokens[self.position][1].lower()
            self.position += 1
        else:
            op = self._take("op")
        if op.endswith("in"):
            self._take("open")
            values = [self.literal()]
            while self.position < len(self.tokens) and self.tokens[self.position][0] == "comma":
                self.position += 1
                values.append(self.literal())
            self._take("close")
            value: Any = tuple(values)
        else:
            value = self.literal()
        path = tuple(name.split("/"))
        return _Cmp(path, op, value, _info_field(path))

    def literal(self) -> Any:
        if self.position >= len(self.tokens):
            raise ConditionError("Unable to parse conditions: a value is missing.")
        kind, token = self.tokens[self.position]
        self.position += 1
        if kind == "date":
            try:
                return parse_iso(token[1:-1].strip())
            except BadPayload:
                raise ConditionError(f"Invalid date {token}.") from None
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        if kind == "number":
            return float(token) if "." in token else int(token)
        if kind == "word" and token.lower() in ("true", "false"):
            return token.lower() == "true"
        if kind == "word" and token.lower() == "null":
            return None
        raise ConditionError(f"Unable to parse conditions near '{token}'.")


def _info_field(path: tuple[str, ...]) -> str | None:
    """``lastUpdated``/``dateEntered`` when ``path`` means that ``_info`` stamp, bare or not."""
    if len(path) == 1 or (len(path) == 2 and path[0].lower() == "_info"):
        return _INFO_FIELDS.get(path[-1].lower())
    return None


def _lower(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.lower() for part in path)


def _field(row: dict[str, Any], path: tuple[str, ...], info: str | None = None) -> Any:
    """A condition/orderBy field's value; ``lastUpdated`` and ``dateEntered`` live in ``_info``."""
    if info is not None:
        meta = row.get("_info")
        return meta.get(info) if isinstance(meta, dict) else None
    value: Any = row
    for part in path:
        if not isinstance(value, dict):
            return None
        try:  # the field as written; else ConnectWise's case-insensitive match
            value = value[part]
            continue
        except KeyError:
            pass
        lowered = part.lower()
        keys = _ROW.keys() if isinstance(value, _Row) else value.keys()
        key = next((k for k in keys if k.lower() == lowered), None)
        if key is None:
            if value is row:
                raise ConditionError(f"Unknown field '{'/'.join(path)}'.")
            return None
        value = value[key]
    return value


def _order_key(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """Sort key for one orderBy field: nulls first, text case-insensitively."""
    path = tuple(name.split("/"))
    info = _info_field(path)

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = _field(row, path, info)
        if value is None:
            return (0, 0)
        if isinstance(value, str):
            return (1, value.lower())
        return (1, value)

    return key


def _parse_order(text: str) -> list[tuple[str, bool]]:
    order = []
    for part in text.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise ConditionError(f"Invalid orderBy '{text}'.")
        order.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return order


# -- shapes ------------------------------------------------------------------------------


def _status_named(board: dict[str, Any], ref: dict[str, Any]) -> str | None:
    """The name of the board status a reference means (by ``id``, else by ``name``)."""
    for name, status in board["statuses"].items():
        if "id" in ref and ref["id"] == status["id"]:
            return str(name)
        if "id" not in ref and isinstance(ref.get("name"), str) and ref["name"] == name:
            return str(name)
    return None


def _priority_level(ref: dict[str, Any]) -> Priority | None:
    """The level of a priority reference (by ``id``, else by ``name``)."""
    for level, (priority_id, name, _) in _PRIORITIES.items():
        if ref.get("id") == priority_id or ("id" not in ref and ref.get("name") == name):
            return level
    return None


def _priorities_view() -> list[dict[str, Any]]:
    """``GET /service/priorities``: full priority objects (``sortOrder`` is display order)."""
    return [
        {
            "id": priority_id,
            "name": name,
            "color": "Red" if sort == 1 else "Orange" if sort == 2 else "Green",
            "sortOrder": 10 * sort,
            "defaultFlag": level is DEFAULT_PRIORITY,
            "level": f"Priority{sort}" if sort <= 4 else "NotApplicable",
            "_info": {"lastUpdated": "2024-01-05T10:00:00Z", "updatedBy": "ZAdmin"},
        }
        for level, (priority_id, name, sort) in _PRIORITIES.items()
    ]


def _member_ref(member: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": member["id"],
        "identifier": member["identifier"],
        "name": member["name"],
        "_info": {"member_href": f"/system/members/{member['id']}"},
    }


def _short(entity: dict[str, Any], href_key: str, href: str) -> dict[str, Any]:
    return {"id": entity["id"], "name": entity["name"], "_info": {href_key: href}}


def _absolute(value: Any, base_url: str) -> Any:
    """A deep copy with every relative ``*_href`` made absolute under the API root."""
    if isinstance(value, dict):
        return {
            k: (
                f"{base_url}{v}"
                if k.endswith("_href") and isinstance(v, str) and v.startswith("/")
                else _absolute(v, base_url)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_absolute(v, base_url) for v in value]
    return value


def _minutes(start: datetime, end: datetime | None) -> int:
    return max(int((end - start).total_seconds() // 60), 0) if end else 0


def _whole(text: str | None, default: int, name: str) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConditionError(f"{name} must be a positive whole number.")
    return int(text)


EMULATOR = ConnectWiseEmulator

"""A ConnectWise PSA (Manage) site on loopback, speaking REST 3.0.

Tickets are kept as ConnectWise keeps them (see ``vendor-apis.md`` §8 and the
capture ``connectwise-ticket.json``): sequential integer ids, short references
(``{id, name, _info: {…_href}}``) for board, status, priority, company,
contact and owner, ``resources`` as comma-separated member identifiers,
``closedFlag``, the SLA flags ``isInSla``/``respondMinutes``/…, timestamps as
``2016-03-08T21:59:20Z`` and ``_info.lastUpdated`` as the change stamp.

Every board has its own statuses with their own ids (``New``, ``In Progress``,
``Waiting Customer``, ``Resolved``, ``>Closed`` by default); tests add
tenant-specific ones with :meth:`ConnectWiseEmulator.set_status`.

``GET /service/tickets`` understands the ``conditions`` subset the connector
and simple clients use (``and``-joined comparisons on ``lastUpdated``,
``dateEntered``, ``id``, ``closedFlag`` and slash paths such as
``board/name``), ``orderBy``, and ``page``/``pageSize`` (default 25, max 1000)
with a navigable ``Link`` header. The API root is
``/v4_6_release/apis/3.0`` as on cloud sites; :attr:`base_url` includes it.

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
exact texts are ours). A new ticket's ``initialDescription`` becomes its first
note, as in ConnectWise; only notes posted to a ticket count as comments.

Fault mode: ``hidden_boards`` names boards whose tickets the API member may not
see. They still take their place in a page and are left out of the body
afterwards, so a page comes back short, or empty, while the ``Link`` header
still offers the next one.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import operator
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
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
_ACTIVE = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING})

_TICKET_PATH = re.compile(r"^/service/tickets/(?P<id>\d+)$")
_NOTES_PATH = re.compile(r"^/service/tickets/(?P<id>\d+)/notes$", re.IGNORECASE)
_STATUSES_PATH = re.compile(r"^/service/boards/(?P<id>\d+)/statuses$", re.IGNORECASE)
PRIORITIES_PATH = "/service/priorities"
API_MEMBER = "APIMember"
"""The identifier ConnectWise records as ``enteredBy``/``updatedBy`` for API-key writes."""
_PATCHABLE = frozenset({"owner", "status", "summary", "priority"})
_RESOLVED_NAME = re.compile(r"\b(resolved|completed?)\b", re.IGNORECASE)
_CLAUSE = re.compile(
    r"\s*(?P<field>[A-Za-z_][\w/]*)\s*"
    r"(?P<op>!=|<=|>=|=|<|>|contains\b|like\b)\s*"
    r'(?P<value>\[[^\]]*\]|"(?:[^"\\]|\\.)*"|true\b|false\b|null\b|-?\d+(?:\.\d+)?)\s*',
    re.IGNORECASE,
)
_AND = re.compile(r"and\b\s*", re.IGNORECASE)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_INFO_FIELDS = {"lastupdated": "lastUpdated", "dateentered": "dateEntered"}
"""Condition fields whose values live under ``_info``."""


def cw_stamp(value: datetime) -> str:
    """ConnectWise's timestamp form: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
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
        self._contacts: dict[str, dict[str, Any]] = {}
        self._notes: dict[int, list[dict[str, Any]]] = {}
        """Per ticket: its notes as ``GET /service/tickets/{id}/notes`` lists them."""
        self._note_ids = itertools.count(3001)
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
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``."""
        with self.lock:
            ticket_id = self._ids_by_ref.get(ticket.ref)
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            board = self._board(ticket.group or "Help Desk")
            status_name = _STATUS_OUT[ticket.status]
            closed = ticket.status is TicketStatus.CLOSED
            owner = self._member(ticket.assignee) if ticket.assignee else None
            contact = self._contact(ticket.requester) if ticket.requester else None
            priority_id, priority_name, sort = _PRIORITIES[ticket.priority or DEFAULT_PRIORITY]
            entered = ticket.created_at
            resolved = ticket.resolved_at
            if resolved is None and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                resolved = ticket.updated_at
            if ticket.status in _ACTIVE:
                resolved = None
            responded = ticket.first_response_at
            self._tickets[ticket_id] = {
                "id": ticket_id,
                "summary": ticket.title,
                "recordType": "ServiceTicket",
                "board": _short(board, "board_href", f"/service/boards/{board['id']}"),
                "status": self._status_ref(board, status_name),
                "company": dict(self._company),
                "site": {"id": 28, "name": "Main", "_info": {"site_href": "/company/sites/28"}},
                "contact": (
                    _short(contact, "contact_href", f"/company/contacts/{contact['id']}")
                    if contact
                    else None
                ),
                "contactName": contact["name"] if contact else None,
                "contactEmailAddress": contact["email"] if contact else None,
                "type": None,
                "subType": None,
                "item": None,
                "team": None,
                "owner": (
                    {
                        "id": owner["id"],
                        "identifier": owner["identifier"],
                        "name": owner["name"],
                        "_info": {"member_href": f"/system/members/{owner['id']}"},
                    }
                    if owner
                    else None
                ),
                "priority": {
                    "id": priority_id,
                    "name": priority_name,
                    "sort": sort,
                    "_info": {
                        "priority_href": f"/service/priorities/{priority_id}",
                        "image_href": f"/service/priorities/{priority_id}/image?lm=2005-05-27T14:58:21Z",  # noqa: E501
                    },
                },
                "serviceLocation": {"id": 1, "name": "On-Site"},
                "source": {"id": 2, "name": "Phone"},
                "severity": "Medium",
                "impact": "Medium",
                "externalXRef": None,
                "poNumber": None,
                "allowAllClientsPortalView": False,
                "customerUpdatedFlag": False,
                "automaticEmailContactFlag": False,
                "automaticEmailResourceFlag": False,
                "automaticEmailCcFlag": False,
                "closedDate": cw_stamp(resolved or ticket.updated_at) if closed else None,
                "closedBy": (owner["identifier"] if owner else "ZAdmin") if closed else None,
                "closedFlag": closed,
                "actualHours": None,
                "approved": True,
                "dateResolved": cw_stamp(resolved) if resolved else None,
                "dateResplan": None,
                "dateResponded": cw_stamp(responded) if responded else None,
                "resolveMinutes": _minutes(entered, resolved),
                "resPlanMinutes": 0,
                "respondMinutes": _minutes(entered, responded),
                "isInSla": True,
                "resources": owner["identifier"] if owner else None,
                "parentTicketId": None,
                "hasChildTicket": False,
                "hasMergedChildTicketFlag": False,
                "billTime": "NoDefault",
                "billExpenses": "Billable",
                "billProducts": "Billable",
                "locationId": 2,
                "businessUnitId": 10,
                "mobileGuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cw-ticket-{ticket_id}")),
                "sla": {"id": 3, "name": "Standard SLA", "_info": {"sla_href": "/service/SLAs/3"}},
                "customFields": [],
                "_info": {
                    "lastUpdated": cw_stamp(ticket.updated_at),
                    "updatedBy": owner["identifier"] if owner else "portal",
                    "dateEntered": cw_stamp(entered),
                    "enteredBy": "portal",
                },
            }
            self._sla[ticket_id] = (ticket.due_at, ticket.breached)
            return f"#{ticket_id}"

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
            unknown = set(fields) - (set(row) - {"id", "_info"})
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
        """Copies of a ticket's notes (those written through the API and its description)."""
        with self.lock:
            return [dict(note) for note in self._notes.get(ticket_id, [])]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as ``GET /service/tickets/{id}`` shows it."""
        with self.lock:
            return self._view(self._tickets[self._ids_by_ref[ref]])

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
        if path.lower() == INFO_PATH.lower():
            return Reply(
                200,
                {
                    "version": SERVER_VERSION,
                    "isCloud": True,
                    "serverTimeZone": "Eastern Standard Time",
                    "cloudRegion": "NA",
                },
            )
        if path.lower() == TICKETS_PATH:
            return self._list(request)
        if path.lower() == f"{TICKETS_PATH}/count":
            try:
                return Reply(200, {"count": len(self._matching(request))})
            except ConditionError as exc:
                return _error(400, "InvalidObject", str(exc))
        match = _TICKET_PATH.match(path)
        if match is not None:
            row = self._tickets.get(int(match["id"]))
            if row is None or row["board"]["name"] in self.hidden_boards:
                return _error(404, "NotFound", f"Ticket recId {match['id']} not found.")
            return Reply(200, self._view(row))
        match = _NOTES_PATH.match(path)
        if match is not None:
            row = self._visible(int(match["id"]))
            if row is None:
                return _error(404, "NotFound", f"Ticket recId {match['id']} not found.")
            return Reply(200, [dict(n) for n in self._notes.get(row["id"], [])])
        match = _STATUSES_PATH.match(path)
        if match is not None:
            board = self._board_by_id(int(match["id"]))
            if board is None:
                return _error(404, "NotFound", f"Board recId {match['id']} not found.")
            return Reply(200, self._statuses_view(board))
        if path.lower() == PRIORITIES_PATH.lower():
            return Reply(200, _priorities_view())
        return _error(404, "NotFound", "The requested resource was not found.")

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
        note = self._new_note(
            row["id"],
            text,
            detail=flags["detailDescriptionFlag"],
            internal=flags["internalAnalysisFlag"],
            resolution=flags["resolutionFlag"],
        )
        public = (flags["detailDescriptionFlag"] or flags["resolutionFlag"]) and not flags[
            "internalAnalysisFlag"
        ]
        self.record_comment(row["id"], text, public=public)
        self._touch(row)
        return Reply(201, dict(note))

    def _patch(self, row: dict[str, Any], operations: list[Any]) -> Reply:
        """Validate every operation first, then apply them all (ConnectWise is all-or-nothing)."""
        changes: dict[str, Any] = {}
        for operation in operations:
            if not isinstance(operation, dict) or operation.get("op") not in ("replace", "add"):
                return _invalid("ticket", "op", "InvalidField", "Only replace and add are allowed.")
            field = str(operation.get("path", "")).strip("/").lower()
            if field not in _PATCHABLE:
                return _invalid("ticket", field, "InvalidField", f"Cannot patch '{field}'.")
            value = operation.get("value")
            problem = self._check_patch(row, field, value, changes)
            if problem is not None:
                return problem
        for field, value in changes.items():
            if field == "owner":
                self._set_owner(row, value)
            elif field == "status":
                self._set_board_status(row, value)
            elif field == "priority":
                row["priority"] = _priority_ref(value)
            else:
                row["summary"] = value
        self._touch(row)
        return Reply(200, self._view(row))

    def _check_patch(
        self, row: dict[str, Any], field: str, value: Any, changes: dict[str, Any]
    ) -> Reply | None:
        """Resolve one patched value into ``changes``, or the 400 ConnectWise would send."""
        if field == "summary":
            if not isinstance(value, str) or not value.strip() or len(value) > 100:
                return _invalid(
                    "ticket", "summary", "InvalidField", "summary must be 1 to 100 characters."
                )
            changes["summary"] = value
            return None
        if not isinstance(value, dict):
            return _invalid("ticket", field, "InvalidField", f"{field} must be a reference.")
        if field == "owner":
            member = self._member_by_ref(value)
            if member is None:
                wanted = value.get("identifier", value.get("id"))
                return _invalid(
                    "ticket", "owner", "InvalidField", f"Owner '{wanted}' is not a valid member."
                )
            changes["owner"] = member
        elif field == "status":
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
        ref = f"api:{uuid.uuid4()}"
        key = self.put_ticket(
            WorldTicket(
                ref=ref,
                title=summary,
                status=TicketStatus.NEW,
                priority=level,
                created_at=now,
                updated_at=now,
                group=board["name"],
                description=description if isinstance(description, str) else "",
            )
        )
        ticket_id = int(key.removeprefix("#"))
        row = self._tickets[ticket_id]
        external = body.get("externalXRef")
        row["externalXRef"] = external if isinstance(external, str) and external else None
        row["_info"]["enteredBy"] = row["_info"]["updatedBy"] = API_MEMBER
        if isinstance(description, str) and description.strip():
            self._new_note(ticket_id, description, detail=True)
        self.created.append(str(ticket_id))
        return Reply(201, self._view(row))

    def _list(self, request: Request) -> Reply:
        try:
            page = _whole(request.param("page"), 1, "page")
            size = min(_whole(request.param("pageSize"), self.page_size, "pageSize"), MAX_PAGE_SIZE)
            rows = self._matching(request)
        except ConditionError as exc:
            return _error(400, "InvalidObject", str(exc))
        last_page = max((len(rows) + size - 1) // size, 1)
        chunk = rows[(page - 1) * size : page * size]
        body = [self._view(r) for r in chunk if r["board"]["name"] not in self.hidden_boards]
        headers: dict[str, str] = {}
        if rows:
            headers["Link"] = self._links(request, page, size, last_page)
        return Reply(200, body, headers=headers)

    def _matching(self, request: Request) -> list[dict[str, Any]]:
        """The tickets ``conditions`` selects, in ``orderBy`` order (``id asc`` by default)."""
        accept = _parse_conditions(request.param("conditions") or "")
        rows = sorted(
            (r for r in self._tickets.values() if all(c(r) for c in accept)),
            key=lambda r: int(r["id"]),
        )
        for field, descending in reversed(_parse_order(request.param("orderBy") or "id asc")):
            rows.sort(key=_order_key(field), reverse=descending)
        return rows

    def _links(self, request: Request, page: int, size: int, last_page: int) -> str:
        """A navigable ``Link`` header: first/prev/next/last as ConnectWise sends them."""

        def url(number: int) -> str:
            query = {k: v[0] for k, v in request.query.items() if v}
            query.update({"page": str(number), "pageSize": str(size)})
            return f"<{self.base_url}{TICKETS_PATH}/?{urlencode(query)}>"

        links = []
        if page > 1:
            links += [f'{url(1)}; rel="first"', f'{url(min(page - 1, last_page))}; rel="prev"']
        if page < last_page:
            links += [f'{url(page + 1)}; rel="next"', f'{url(last_page)}; rel="last"']
        return ", ".join(links)

    # -- internals -----------------------------------------------------------------------

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
        row["owner"] = {
            "id": member["id"],
            "identifier": member["identifier"],
            "name": member["name"],
            "_info": {"member_href": f"/system/members/{member['id']}"},
        }
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

    def _new_note(
        self,
        ticket_id: int,
        text: str,
        *,
        detail: bool = False,
        internal: bool = False,
        resolution: bool = False,
    ) -> dict[str, Any]:
        stamp = cw_stamp(self.clock())
        note = {
            "id": next(self._note_ids),
            "ticketId": ticket_id,
            "text": text,
            "detailDescriptionFlag": detail,
            "internalAnalysisFlag": internal,
            "resolutionFlag": resolution,
            "issueFlag": False,
            "member": {"id": 176, "identifier": API_MEMBER, "name": "API Member"},
            "dateCreated": stamp,
            "createdBy": API_MEMBER,
            "internalFlag": internal,
            "externalFlag": not internal,
            "_info": {"lastUpdated": stamp, "updatedBy": API_MEMBER},
        }
        self._notes.setdefault(ticket_id, []).append(note)
        return note

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
            board = {
                "id": len(self._boards) + 1,
                "name": name,
                "statuses": {
                    status: {"id": next(self._ids), "closedStatus": closes}
                    for status, closes in DEFAULT_STATUSES
                },
            }
            self._boards[name] = board
        return board

    def _status_ref(self, board: dict[str, Any], name: str) -> dict[str, Any]:
        status_id = board["statuses"][name]["id"]
        return {
            "id": status_id,
            "name": name,
            "_info": {"status_href": f"/service/boards/{board['id']}/statuses/{status_id}"},
        }

    def _member(self, name: str) -> dict[str, Any]:
        member = self._members.get(name)
        if member is None:
            parts = re.sub(r"[^a-z ]+", "", name.lower()).split()
            base = (
                (parts[0][0] + parts[-1]) if len(parts) > 1 else (parts[0] if parts else "member")
            )
            taken = {m["identifier"] for m in self._members.values()}
            identifier = base
            for n in itertools.count(2):
                if identifier not in taken:
                    break
                identifier = f"{base}{n}"
            member = {"id": next(self._ids), "identifier": identifier, "name": name}
            self._members[name] = member
        return member

    def _contact(self, name: str) -> dict[str, Any]:
        contact = self._contacts.get(name)
        if contact is None:
            local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "contact"
            contact = {"id": next(self._ids), "name": name, "email": f"{local}@acme.example"}
            self._contacts[name] = contact
        return contact

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row as sent: absolute hrefs, the ticket's own ``_info`` links, live ``isInSla``."""
        view: dict[str, Any] = _absolute(row, self.base_url)
        view["isInSla"] = self._in_sla(row)
        ticket_path = f"{self.base_url}{TICKETS_PATH}/{row['id']}"
        for name in ("activities", "timeentries", "scheduleentries", "documents", "notes"):
            view["_info"][f"{name}_href"] = f"{ticket_path}/{name}"
        return view

    def _in_sla(self, row: dict[str, Any]) -> bool:
        due, breached = self._sla.get(row["id"], (None, None))
        if breached is not None:
            return not breached
        if due is None:
            return True
        done = row["dateResolved"] or row["closedDate"]
        finished = parse_iso(done) if done else None
        return (finished or self.clock()) <= due


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


def _priority_ref(level: Priority) -> dict[str, Any]:
    priority_id, name, sort = _PRIORITIES[level]
    return {
        "id": priority_id,
        "name": name,
        "sort": sort,
        "_info": {"priority_href": f"/service/priorities/{priority_id}"},
    }


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


def _field(row: dict[str, Any], path: str) -> Any:
    """A condition/orderBy field's value; ``lastUpdated`` and ``dateEntered`` live in ``_info``."""
    info_key = _INFO_FIELDS.get(path.lower())
    if info_key is not None:
        return row["_info"][info_key]
    value: Any = row
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == part.lower()), None)
        if key is None:
            if value is row:
                raise ConditionError(f"Unknown field '{path}'.")
            return None
        value = value[key]
    return value


def _order_key(field: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """Sort key for one orderBy field: nulls first, text case-insensitively."""

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = _field(row, field)
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


def _parse_conditions(text: str) -> list[Callable[[dict[str, Any]], bool]]:
    """``and``-joined comparisons as predicates; anything else is a ConditionError (a 400)."""
    clauses: list[Callable[[dict[str, Any]], bool]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _CLAUSE.match(text, position)
        if match is None:
            raise ConditionError(
                f"Unable to parse conditions near '{text[position : position + 30]}'."
            )
        clauses.append(_predicate(match["field"], match["op"].lower(), _literal(match["value"])))
        position = match.end()
        if position < len(text):
            joiner = _AND.match(text, position)
            if joiner is None:
                raise ConditionError(
                    f"Only 'and' is supported near '{text[position : position + 30]}'."
                )
            position = joiner.end()
    return clauses


def _literal(token: str) -> Any:
    if token.startswith("["):
        try:
            return parse_iso(token[1:-1].strip())
        except BadPayload:
            raise ConditionError(f"Invalid date {token}.") from None
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return float(token) if "." in token else int(token)


def _predicate(field: str, op: str, wanted: Any) -> Callable[[dict[str, Any]], bool]:
    def accept(row: dict[str, Any]) -> bool:
        value = _field(row, field)
        if isinstance(wanted, datetime):
            value = parse_iso(value) if isinstance(value, str) else None
        if op in ("contains", "like"):
            if not isinstance(value, str) or not isinstance(wanted, str):
                return False
            if op == "contains":
                return wanted.lower() in value.lower()
            pattern = "".join(".*" if c in "*%" else re.escape(c) for c in wanted.lower())
            return re.fullmatch(pattern, value.lower()) is not None
        if isinstance(value, str) and isinstance(wanted, str):
            value, wanted_cmp = value.lower(), wanted.lower()
        else:
            wanted_cmp = wanted
        compare = _COMPARE[op]
        if op not in ("=", "!=") and (value is None or wanted_cmp is None):
            return False
        try:
            return bool(compare(value, wanted_cmp))
        except TypeError:
            return False

    return accept


EMULATOR = ConnectWiseEmulator

"""An Autotask PSA tenant on loopback, speaking the REST v1.0 wire format.

Tickets are kept as Autotask keeps them (``vendor-apis.md`` §7 and the capture
``autotask-tickets-query.json``): integer ids, ``T20250304.0042`` ticket
numbers, picklist integers for ``status``, ``priority`` and ``queueID``,
people as resource/contact ids, and UTC times with milliseconds and ``Z``.

What the connector meets here, as on a real tenant:

* ``GET /atservicesrest/v1.0/zoneInformation?user=`` (no credentials needed)
  naming the zone's API and web roots, both pointing back at this server;
* the three auth headers on every other call, a 401 ``{"errors": […]}``
  otherwise (a live tenant may answer an unknown user name with a 500 instead);
* ``POST {Entity}/query`` (and ``GET …/query?search=``) with ``MaxRecords``
  1 to 500, ``IncludeFields`` and nested ``and``/``or`` filters, pages in id
  order, continued by ``pageDetails.nextPageUrl`` (``…/query/next?paging=``)
  which takes a POST with the same body (a GET there is 405, as live);
* rows in :attr:`AutotaskEmulator.hidden_ids` stand for records the API user's
  security level hides: they count against ``MaxRecords`` and are then
  dropped, so a page comes back short, or empty, with more to follow;
* ``Tickets/entityInformation[/fields]`` with the tenant's picklists, and a
  403 for entities in :attr:`AutotaskEmulator.denied_entities`;
* ``ThresholdInformation`` counting every request of the rolling hour (plus
  :attr:`prior_usage` of other integrations), latency injected past 50 % and
  75 % of the threshold, and 429 for everything at the threshold.

Writes (vendor-apis.md §7.9) change the native rows and stamp
``lastActivityDate`` (field edits also ``lastTrackedModificationDateTime``),
so the connector's next incremental query returns them:

* ``POST Tickets`` creates (``companyID``, ``title``, ``status``,
  ``priority`` required; ``externalID`` kept and queryable) and answers
  ``{"itemId": N}``; ``PATCH Tickets`` (``PUT`` is treated alike) changes the
  fields of ``{"id": N, …}``; completing (status 5) stamps ``completedDate``
  and ``resolvedDateTime`` and, while :attr:`AutotaskEmulator.resolution_required`,
  needs a ``resolution``;
* ``POST Tickets/{id}/Notes`` adds a TicketNote (``title``, ``description``,
  ``noteType`` and ``publish`` from the ``TicketNotes/entityInformation/fields``
  picklists) and ``GET`` there lists them;
* a resource needs its role (Autotask's own message), references must exist,
  picklist values must be on the picklist. Every refusal is what a live tenant
  sends for a refused write: HTTP 500 with ``{"errors": [...]}``. The texts
  other than the resource/role one are plausible, not verified.
"""

from __future__ import annotations

import hmac
import itertools
import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["EMULATOR", "PRIORITY_LABELS", "STATUS_LABELS", "AutotaskEmulator"]

API_PREFIX = "/atservicesrest/v1.0/"
MAX_RECORDS = 500
THRESHOLD_WINDOW = 3600.0
"""Seconds of the rolling window ``ThresholdInformation`` counts over."""

STATUS_LABELS: Mapping[str, str] = {
    "1": "New",
    "5": "Complete",
    "7": "Waiting Customer",
    "8": "In Progress",
    "9": "Waiting Materials",
    "10": "Scheduled",
    "11": "Escalate",
    "12": "Waiting Vendor",
    "21": "Resolved",
}
"""This tenant's status picklist: the system values plus common ones and a custom ``Resolved``."""
PRIORITY_LABELS: Mapping[str, str] = {"1": "High", "2": "Medium", "3": "Low", "4": "Critical"}
NOTE_TYPE_LABELS: Mapping[str, str] = {"1": "Task Summary", "2": "Task Detail", "3": "Task Notes"}
"""TicketNotes ``noteType`` picklist, as live tenants list it."""
PUBLISH_LABELS: Mapping[str, str] = {
    "1": "All Autotask Users",
    "2": "Internal Project Team",
    "4": "Internal & Co-Managed",
}
"""TicketNotes ``publish`` picklist; ``1`` is the state client-portal users can read."""
DEFAULT_ROLE_ID = 29683396
"""The role (Help Desk) every assignment in this tenant uses unless told otherwise."""
ROLES: Mapping[int, str] = {DEFAULT_ROLE_ID: "Help Desk", 29683355: "Engineer"}
TICKET_READ_ONLY = frozenset(
    {
        "ticketNumber",
        "createDate",
        "creatorResourceID",
        "creatorType",
        "lastActivityDate",
        "lastActivityPersonType",
        "lastActivityResourceID",
        "lastTrackedModificationDateTime",
        "lastCustomerVisibleActivityDateTime",
        "completedDate",
        "completedByResourceID",
        "serviceLevelAgreementHasBeenMet",
    }
)
TEXT_LIMITS: Mapping[str, int] = {
    "title": 255,
    "description": 8000,
    "resolution": 32000,
    "externalID": 50,
}
NOTE_FIELDS = (
    "id",
    "ticketID",
    "title",
    "description",
    "noteType",
    "publish",
    "createDateTime",
    "lastActivityDate",
    "creatorResourceID",
    "createdByContactID",
    "impersonatorCreatorResourceID",
    "impersonatorUpdaterResourceID",
)

_STATUS_OUT = {
    TicketStatus.NEW: 1,
    TicketStatus.OPEN: 8,
    TicketStatus.PENDING: 12,
    TicketStatus.RESOLVED: 21,
    TicketStatus.CLOSED: 5,
}
_PRIORITY_OUT = {
    Priority.P1: 4,
    Priority.P2: 1,
    Priority.P3: 2,
    Priority.P4: 3,
    Priority.P5: 3,
}
DEFAULT_PRIORITY = 2
"""Autotask requires a priority; a world ticket without one gets Medium."""
_ACTIVE = frozenset({1, 7, 8, 9, 10, 11, 12})
_TICKET_FIELDS = (
    "id",
    "ticketNumber",
    "title",
    "description",
    "status",
    "priority",
    "queueID",
    "assignedResourceID",
    "assignedResourceRoleID",
    "companyID",
    "companyLocationID",
    "contactID",
    "configurationItemID",
    "contractID",
    "billingCodeID",
    "issueType",
    "subIssueType",
    "ticketType",
    "ticketCategory",
    "source",
    "creatorResourceID",
    "creatorType",
    "createDate",
    "lastActivityDate",
    "lastActivityPersonType",
    "lastActivityResourceID",
    "lastTrackedModificationDateTime",
    "lastCustomerVisibleActivityDateTime",
    "dueDateTime",
    "firstResponseDateTime",
    "firstResponseDueDateTime",
    "resolutionPlanDateTime",
    "resolutionPlanDueDateTime",
    "resolvedDateTime",
    "resolvedDueDateTime",
    "completedDate",
    "completedByResourceID",
    "resolution",
    "serviceLevelAgreementID",
    "serviceLevelAgreementHasBeenMet",
    "serviceLevelAgreementPausedNextEventHours",
    "estimatedHours",
    "hoursToBeScheduled",
    "externalID",
    "purchaseOrderNumber",
    "changeInfoField1",
    "changeInfoField2",
    "changeInfoField3",
    "changeInfoField4",
    "changeInfoField5",
    "userDefinedFields",
)
"""Every field of a native ticket row (what a write may name)."""
STATUS_NEW_CODE = 1
STATUS_COMPLETE_CODE = 5

_ENTITIES = {
    "tickets": "Tickets",
    "resources": "Resources",
    "contacts": "Contacts",
    "companies": "Companies",
    "configurationitems": "ConfigurationItems",
    "ticketnotes": "TicketNotes",
}
_ENTITY_SINGULAR = {
    "Tickets": "Ticket",
    "TicketNotes": "TicketNote",
    "Resources": "Resource",
    "Contacts": "Contact",
    "Companies": "Company",
    "ConfigurationItems": "ConfigurationItem",
}
_COMPARISONS = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte"})
_TEXT_OPS = frozenset({"beginswith", "endswith", "contains"})


class _QueryError(Exception):
    """A query Autotask would refuse; the message is the vendor's ``errors`` entry."""


def _stamp(value: datetime) -> str:
    """Autotask's UTC form with milliseconds: ``2025-03-04T09:12:44.123Z``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _errors(status: int, *messages: str) -> Reply:
    return Reply(status, {"errors": list(messages)})


def _no_resource(path: str) -> Reply:
    return Reply(
        404, {"Message": f"No HTTP resource was found that matches the request URI '{path}'."}
    )


def _reference(field: str, entity: str) -> str:
    return f"Reference value on field: {field} of type: {entity} does not exist or is invisible."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_method(method: str) -> Reply:
    return Reply(
        405, {"Message": f"The requested resource does not support http method '{method}'."}
    )


class AutotaskEmulator(TicketEmulator):
    """One Autotask tenant with an API-only user, one customer company and its tickets."""

    kind: ClassVar[str] = "autotask"

    def __init__(
        self,
        *,
        username: str = "paneglass-api@acme.example",
        secret: str = "demo-secret",
        integration_code: str = "PGLDEMO7QX2MZLB4KW3TRN5HJA",
        zone_name: str = "America East",
        request_threshold: int = 10_000,
        prior_usage: int = 0,
        inject_latency: bool = True,
        first_ticket_id: int = 41877,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = MAX_RECORDS,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.username = username
        self.secret = secret
        self.integration_code = integration_code
        self.zone_name = zone_name
        self.request_threshold = request_threshold
        self.prior_usage = prior_usage
        """Requests other integrations made in the rolling hour (the threshold is per database)."""
        self.inject_latency = inject_latency
        self.hidden_ids: set[int] = set()
        """Ticket ids the API user's security level hides from queries."""
        self.denied_entities: set[str] = set()
        """Entities (``"Resources"``) the API user's security level may not read: 403."""
        self.link_root: str | None = None
        """Origin the ``nextPageUrl`` points at; ``None`` means this server (tests move it)."""
        self.resolution_required = True
        """Tenant rule: a ticket may be completed only with a ``resolution``."""
        self._recent: deque[float] = deque()
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(29682833, 37)
        self._day_serials: dict[str, itertools.count[int]] = {}
        self._ids_by_ref: dict[str, int] = {}
        self._tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in _ENTITY_SINGULAR}
        self._queues: dict[str, str] = {}
        self.system_resource_id = 4
        self.company_id = 174
        self._tables["Companies"][self.company_id] = {
            "id": self.company_id,
            "companyName": "Acme Retail",
            "companyNumber": "ACME",
            "companyType": 1,
            "isActive": True,
            "phone": "555-0100",
        }
        self._tables["Resources"][self.system_resource_id] = _person(
            self.system_resource_id, "Administrator", email=None
        )

    def __enter__(self) -> AutotaskEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section an :class:`AutotaskConnector` needs; base_url is this server.

        ``company_id`` and ``assign_role_id`` are what hand-offs and assignments
        need in this tenant (its one customer company and the Help Desk role).
        """
        return {
            "kind": "autotask",
            "username": self.username,
            "secret": self.secret,
            "integration_code": self.integration_code,
            "company_id": self.company_id,
            "assign_role_id": DEFAULT_ROLE_ID,
        }

    # -- mutators ------------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its ``T…`` number."""
        with self.lock:
            ticket_id = self._ids_by_ref.get(ticket.ref)
            existing = self._tables["Tickets"].get(ticket_id) if ticket_id is not None else None
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            number = (
                existing["ticketNumber"] if existing else self._ticket_number(ticket.created_at)
            )
            status = _STATUS_OUT[ticket.status]
            active = status in _ACTIVE
            assignee = self._named("Resources", ticket.assignee)
            contact = self._named("Contacts", ticket.requester)
            ended = None if active else (ticket.resolved_at or ticket.updated_at)
            met: bool | None = None
            if ticket.due_at is not None:
                if ticket.breached:
                    met = False
                elif not active:
                    met = ended is not None and ended <= ticket.due_at
            self._tables["Tickets"][ticket_id] = {
                "id": ticket_id,
                "ticketNumber": number,
                "title": ticket.title,
                "description": ticket.description,
                "status": status,
                "priority": _PRIORITY_OUT[ticket.priority] if ticket.priority else DEFAULT_PRIORITY,
                "queueID": self._queue_id(ticket.group),
                "assignedResourceID": assignee,
                "assignedResourceRoleID": DEFAULT_ROLE_ID if assignee else None,
                "companyID": self.company_id,
                "companyLocationID": None,
                "contactID": contact,
                "configurationItemID": self._named("ConfigurationItems", ticket.asset),
                "contractID": None,
                "billingCodeID": None,
                "issueType": None,
                "subIssueType": None,
                "ticketType": 2,
                "ticketCategory": 3,
                "source": 2,
                "creatorResourceID": self.system_resource_id,
                "creatorType": 1,
                "createDate": _stamp(ticket.created_at),
                "lastActivityDate": _stamp(ticket.updated_at),
                "lastActivityPersonType": 1,
                "lastActivityResourceID": assignee or self.system_resource_id,
                "lastTrackedModificationDateTime": _stamp(ticket.updated_at),
                "lastCustomerVisibleActivityDateTime": _stamp(ticket.updated_at),
                "dueDateTime": _stamp(ticket.due_at) if ticket.due_at else None,
                "firstResponseDateTime": (
                    _stamp(ticket.first_response_at) if ticket.first_response_at else None
                ),
                "firstResponseDueDateTime": (
                    _stamp(ticket.created_at + timedelta(hours=1)) if ticket.due_at else None
                ),
                "resolutionPlanDateTime": None,
                "resolutionPlanDueDateTime": None,
                "resolvedDateTime": _stamp(ended) if ended else None,
                "resolvedDueDateTime": _stamp(ticket.due_at) if ticket.due_at else None,
                "completedDate": _stamp(ended) if ended and status == 5 else None,
                "completedByResourceID": (assignee or self.system_resource_id)
                if status == 5
                else None,
                "resolution": "",
                "serviceLevelAgreementID": 1 if ticket.due_at else None,
                "serviceLevelAgreementHasBeenMet": met,
                "serviceLevelAgreementPausedNextEventHours": None,
                "estimatedHours": 0.0,
                "hoursToBeScheduled": 0.0,
                "externalID": "",
                "purchaseOrderNumber": "",
                "changeInfoField1": "",
                "changeInfoField2": "",
                "changeInfoField3": "",
                "changeInfoField4": "",
                "changeInfoField5": "",
                "userDefinedFields": [],
            }
            return str(number)

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields (``status=7``), stamping ``lastActivityDate`` as Autotask does."""
        with self.lock:
            row = self._tables["Tickets"][self._ids_by_ref[ref]]
            unknown = set(fields) - (set(row) - {"id", "ticketNumber"})
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            row.update(fields)
            if "lastActivityDate" not in fields:
                now = _stamp(self.clock())
                row.update(lastActivityDate=now, lastTrackedModificationDateTime=now)

    def hide(self, ref: str) -> None:
        """Hide a ticket from the API user, as a restricted security level does."""
        with self.lock:
            self.hidden_ids.add(self._ids_by_ref[ref])

    def ticket_id(self, ref: str) -> int:
        """The native id of the ticket put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def ticket(self, ref: str) -> dict[str, Any]:
        """A copy of the native ticket, as ``GET Tickets/{id}`` shows it."""
        with self.lock:
            return dict(self._tables["Tickets"][self._ids_by_ref[ref]])

    def native(self, ticket_id: int) -> dict[str, Any]:
        """A copy of the native ticket with this id (API-created ones have no ``ref``)."""
        with self.lock:
            return dict(self._tables["Tickets"][ticket_id])

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Copies of the TicketNotes written to this ticket, oldest first."""
        with self.lock:
            rows = self._tables["TicketNotes"].values()
            return [dict(n) for n in rows if n["ticketID"] == ticket_id]

    def resource_named(self, name: str) -> int:
        """The resource id of the person called ``name`` (made on first use)."""
        with self.lock:
            resource = self._named("Resources", name)
            assert resource is not None
            return resource

    def queue_id(self, name: str) -> int:
        """The ``queueID`` picklist value of a queue (made on first use)."""
        with self.lock:
            queue = self._queue_id(name)
            assert queue is not None
            return queue

    def usage(self) -> int:
        """Requests counted in the rolling hour, other integrations' included."""
        with self.lock:
            return self._usage(self.clock().timestamp())

    # -- wire format -----------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the REST paths (case-insensitively, as IIS does)."""
        path = request.path.lower().rstrip("/")
        if not path.startswith(API_PREFIX):
            return _no_resource(request.path)
        rest = path[len(API_PREFIX) :]
        if rest == "zoneinformation":  # exempt from credentials and thresholds
            return self._zone(request)
        if not self._authorised(request.headers):
            return _errors(
                401, "Unauthorized: the UserName, Secret or ApiIntegrationCode is not valid."
            )
        now = self.clock().timestamp()
        usage = self._usage(now)
        if usage >= self.request_threshold:
            return _errors(
                429,
                f"The request threshold of {self.request_threshold} requests per 60 minutes "
                "has been exceeded for this database.",
            )
        self._recent.append(now)
        reply = self._answer(request, rest)
        share = (usage + 1) / self.request_threshold
        if self.inject_latency and share >= 0.5:
            reply.delay = max(reply.delay, 1.0 if share >= 0.75 else 0.5)
        return reply

    def _answer(self, request: Request, rest: str) -> Reply:
        parts = rest.split("/")
        if rest == "thresholdinformation":
            if request.method != "GET":
                return _wrong_method(request.method)
            return Reply(
                200,
                {
                    "externalRequestThreshold": self.request_threshold,
                    "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": self._usage(self.clock().timestamp()),
                },
            )
        entity = _ENTITIES.get(parts[0])
        if entity is None:
            return _no_resource(request.path)
        tail = parts[1:]
        if entity in self.denied_entities:
            return _errors(403, "The logged in user does not have access to this entity.")
        if tail == ["entityinformation"]:
            return Reply(200, {"info": _entity_info(entity)})
        if tail == ["entityinformation", "fields"]:
            return Reply(200, {"fields": self._fields(entity)})
        if tail in (["query"], ["query", "next"]):
            return self._query(request, entity, continued=len(tail) == 2)
        if not tail and request.method in ("POST", "PATCH", "PUT"):
            if entity != "Tickets":
                return _wrong_method(request.method)
            return self._write_ticket(request)
        if entity == "Tickets" and len(tail) == 2 and tail[0].isdigit() and tail[1] == "notes":
            return self._notes(request, int(tail[0]))
        if len(tail) == 1 and tail[0].isdigit():
            if request.method != "GET":
                return _wrong_method(request.method)
            row = self._tables[entity].get(int(tail[0]))
            if row is None or (entity == "Tickets" and row["id"] in self.hidden_ids):
                return Reply(200, {"item": None})
            return Reply(200, {"item": dict(row)})
        return _no_resource(request.path)

    def _zone(self, request: Request) -> Reply:
        if request.method != "GET":
            return _wrong_method(request.method)
        user = request.param("user") or ""
        if user.lower() != self.username.lower():
            return _errors(500, "Zone information could not be determined for the user.")
        return Reply(
            200,
            {
                "zoneName": self.zone_name,
                "url": f"{self.base_url}/ATServicesRest/",
                "webUrl": f"{self.base_url}/",
                "ci": 29683,
            },
        )

    def _query(self, request: Request, entity: str, *, continued: bool) -> Reply:
        search_text = request.param("search")
        if request.method == "POST":
            try:
                search = json.loads(request.body) if request.body else None
            except json.JSONDecodeError:
                return _errors(500, "The request body is not valid JSON.")
        elif request.method == "GET" and search_text is not None:
            try:
                search = json.loads(search_text)
            except json.JSONDecodeError:
                return _errors(500, "The search parameter is not valid JSON.")
        else:
            return _wrong_method(request.method)
        if not isinstance(search, dict) or not isinstance(search.get("filter"), list):
            return _errors(500, "A query requires a filter.")
        after = -1
        size = search.get("MaxRecords", search.get("maxRecords", MAX_RECORDS))
        if continued:
            paging = _paging(request.param("paging"))
            if paging is None:
                return _errors(500, "The paging parameter is not valid.")
            size, after = paging
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_RECORDS:
            return _errors(500, f"MaxRecords must be between 1 and {MAX_RECORDS}.")
        try:
            matching = [
                row
                for row_id, row in sorted(self._tables[entity].items())
                if row_id > after and all(_holds(c, row) for c in search["filter"])
            ]
        except _QueryError as exc:
            return _errors(500, str(exc))
        window = matching[:size]
        hidden = self.hidden_ids if entity == "Tickets" else set()
        include = _include_fields(search.get("IncludeFields", search.get("includeFields")))
        items = [_project(row, include) for row in window if row["id"] not in hidden]
        next_url = None
        if len(matching) > size:
            token = {"pageSize": size, "previousIds": [after], "nextIds": [window[-1]["id"]]}
            root = self.link_root or self.base_url
            next_url = (
                f"{root}/ATServicesRest/V1.0/{entity}/query/next?paging="
                f"{quote(json.dumps(token, separators=(',', ':')), safe='')}"
            )
            if request.method == "GET":
                next_url += f"&search={quote(search_text or '', safe='')}"
        return Reply(
            200,
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": size,
                    "prevPageUrl": None,
                    "nextPageUrl": next_url,
                },
            },
        )

    # -- writes ----------------------------------------------------------------------------

    def _write_ticket(self, request: Request) -> Reply:
        """``POST Tickets`` creates; ``PATCH`` (or ``PUT``) changes ``{"id": N, …}``."""
        body = _json_object(request)
        if body is None:
            return _errors(500, "The request body is not a valid Ticket.")
        fields, unknown = self._canonical(body)
        if unknown:
            return _errors(
                500, *(f"Unable to find {name} in the Ticket entity." for name in unknown)
            )
        if request.method == "POST":
            return self._create_ticket(fields)
        ticket_id = fields.pop("id", None)
        row = self._tables["Tickets"].get(ticket_id) if _is_int(ticket_id) else None
        if row is None or row["id"] in self.hidden_ids:
            return _errors(500, f"Unable to find the Ticket with id {ticket_id}.")
        errors = self._ticket_errors({**row, **fields}, fields)
        if errors:
            return _errors(500, *errors)
        now = self.clock()
        before = row["status"]
        row.update(fields)
        if row["status"] != before:
            self._status_changed(row, now)
        self._touch(row, now, edited=True)
        return Reply(200, {"itemId": row["id"]})

    def _create_ticket(self, fields: dict[str, Any]) -> Reply:
        fields.pop("id", None)  # Autotask assigns it
        errors = [
            f"{name} is required"
            for name in ("companyID", "title", "status", "priority")
            if fields.get(name) in (None, "")
        ]
        errors += self._ticket_errors(fields, fields)
        if errors:
            return _errors(500, *errors)
        now = self.clock()
        ref = f"api-{len(self.created) + 1}-{now.timestamp()}"
        self.put_ticket(
            WorldTicket(
                ref=ref,
                title=str(fields["title"]),
                status=TicketStatus.NEW,
                priority=None,
                created_at=now,
                updated_at=now,
                description=str(fields.get("description") or ""),
            )
        )
        row = self._tables["Tickets"][self._ids_by_ref[ref]]
        row.update(
            queueID=None,
            assignedResourceID=None,
            assignedResourceRoleID=None,
            lastActivityResourceID=self.system_resource_id,
            source=4,  # Web Service
        )
        row.update(fields)
        if row["status"] != STATUS_NEW_CODE:
            self._status_changed(row, now)
        self.created.append(str(row["id"]))
        return Reply(200, {"itemId": row["id"]})

    def _notes(self, request: Request, ticket_id: int) -> Reply:
        """``Tickets/{id}/Notes``: list (GET) or add (POST) a TicketNote."""
        ticket = self._tables["Tickets"].get(ticket_id)
        if ticket is None or ticket_id in self.hidden_ids:
            return _errors(500, f"Unable to find the parent Ticket with id {ticket_id}.")
        if request.method == "GET":
            items = self.notes(ticket_id)
            return Reply(
                200,
                {
                    "items": items,
                    "pageDetails": {
                        "count": len(items),
                        "requestCount": MAX_RECORDS,
                        "prevPageUrl": None,
                        "nextPageUrl": None,
                    },
                },
            )
        if request.method != "POST":
            return _wrong_method(request.method)
        body = _json_object(request)
        if body is None:
            return _errors(500, "The request body is not a valid TicketNote.")
        lowered = {name.lower(): name for name in NOTE_FIELDS}
        note: dict[str, Any] = {}
        errors: list[str] = []
        for name, value in body.items():
            canonical = lowered.get(name.lower())
            if canonical is None:
                errors.append(f"Unable to find {name} in the TicketNote entity.")
            else:
                note[canonical] = value
        if note.get("ticketID", ticket_id) != ticket_id:
            errors.append("The ticketID does not match the parent Ticket in the URL.")
        for name, limit in (("title", 250), ("description", 32000)):
            value = note.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"{name} is required")
            elif len(value) > limit:
                errors.append(f"{name} exceeds the maximum length of {limit}.")
        for name, picklist in (("noteType", NOTE_TYPE_LABELS), ("publish", PUBLISH_LABELS)):
            value = note.get(name)
            if value is None:
                errors.append(f"{name} is required")
            elif not _is_int(value) or str(value) not in picklist:
                errors.append(f"Value {value} for field {name} is not a valid picklist value.")
        if errors:
            return _errors(500, *errors)
        now = self.clock()
        note_id = next(self._entity_ids)
        self._tables["TicketNotes"][note_id] = {
            "id": note_id,
            "ticketID": ticket_id,
            "title": note["title"],
            "description": note["description"],
            "noteType": note["noteType"],
            "publish": note["publish"],
            "createDateTime": _stamp(now),
            "lastActivityDate": _stamp(now),
            "creatorResourceID": self.system_resource_id,
            "createdByContactID": None,
            "impersonatorCreatorResourceID": None,
            "impersonatorUpdaterResourceID": None,
        }
        public = note["publish"] == 1
        self.record_comment(ticket_id, str(note["description"]), public=public)
        self._touch(ticket, now, customer_visible=public)
        return Reply(200, {"itemId": note_id})

    def _canonical(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Body fields under their Ticket names (Autotask matches case-insensitively)."""
        names = {name.lower(): name for name in _TICKET_FIELDS}
        fields: dict[str, Any] = {}
        unknown: list[str] = []
        for name, value in body.items():
            canonical = names.get(name.lower())
            if canonical is None:
                unknown.append(name)
            else:
                fields[canonical] = value
        return fields, unknown

    def _ticket_errors(self, merged: Mapping[str, Any], changed: Mapping[str, Any]) -> list[str]:
        """What Autotask would refuse in a ticket after applying ``changed``."""
        errors = [f"{name} is read only." for name in changed if name in TICKET_READ_ONLY]
        for name, picklist in (("status", STATUS_LABELS), ("priority", PRIORITY_LABELS)):
            value = changed.get(name)
            if name in changed and (not _is_int(value) or str(value) not in picklist):
                errors.append(f"Value {value} for field {name} is not a valid picklist value.")
        queue = changed.get("queueID")
        if queue is not None and (not _is_int(queue) or str(queue) not in self._queues):
            errors.append(f"Value {queue} for field queueID is not a valid picklist value.")
        references = (
            ("companyID", "Companies", "Company"),
            ("contactID", "Contacts", "Contact"),
            ("assignedResourceID", "Resources", "Resource"),
            ("configurationItemID", "ConfigurationItems", "ConfigurationItem"),
        )
        for name, table, entity in references:
            value = changed.get(name)
            if value is not None and (not _is_int(value) or value not in self._tables[table]):
                errors.append(_reference(name, entity))
        role = changed.get("assignedResourceRoleID")
        if role is not None and role not in ROLES:
            errors.append(_reference("assignedResourceRoleID", "Role"))
        if (merged.get("assignedResourceID") is None) != (
            merged.get("assignedResourceRoleID") is None
        ):
            errors.append(
                "When assigning a Resource, you must assign both a assignedResourceID "
                "and assignedResourceRoleID."
            )
        for name, limit in TEXT_LIMITS.items():
            value = changed.get(name)
            if value is not None and not isinstance(value, str):
                errors.append(f"{name} must be text.")
            elif isinstance(value, str) and len(value) > limit:
                errors.append(f"{name} exceeds the maximum length of {limit}.")
        completing = changed.get("status") == STATUS_COMPLETE_CODE
        if completing and self.resolution_required and not str(merged.get("resolution") or ""):
            errors.append("A resolution is required to complete this ticket.")
        return errors

    def _status_changed(self, row: dict[str, Any], now: datetime) -> None:
        """Completion and resolution stamps follow the status, as Autotask keeps them."""
        status = row["status"]
        if status in _ACTIVE:
            row.update(completedDate=None, completedByResourceID=None, resolvedDateTime=None)
            return
        row["resolvedDateTime"] = row["resolvedDateTime"] or _stamp(now)
        if status == STATUS_COMPLETE_CODE:
            row.update(completedDate=_stamp(now), completedByResourceID=self.system_resource_id)
        due = row["resolvedDueDateTime"]
        if due is not None and row["serviceLevelAgreementHasBeenMet"] is None:
            row["serviceLevelAgreementHasBeenMet"] = _time(row["resolvedDateTime"]) <= _time(due)

    def _touch(
        self,
        row: dict[str, Any],
        now: datetime,
        *,
        edited: bool = False,
        customer_visible: bool = False,
    ) -> None:
        """Stamp the activity the connector's ``lastActivityDate`` query keys on."""
        stamp = _stamp(now)
        row.update(
            lastActivityDate=stamp,
            lastActivityPersonType=1,
            lastActivityResourceID=self.system_resource_id,
        )
        if edited:
            row["lastTrackedModificationDateTime"] = stamp
        if customer_visible:
            row["lastCustomerVisibleActivityDateTime"] = stamp

    # -- internals -------------------------------------------------------------------------

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        checks = (
            (headers.get("apiintegrationcode", ""), self.integration_code),
            (headers.get("username", ""), self.username),
            (headers.get("secret", ""), self.secret),
        )
        ok = True
        for given, wanted in checks:
            ok &= hmac.compare_digest(given.encode(), wanted.encode())
        return ok

    def _usage(self, now: float) -> int:
        while self._recent and self._recent[0] <= now - THRESHOLD_WINDOW:
            self._recent.popleft()
        return self.prior_usage + len(self._recent)

    def _ticket_number(self, created_at: datetime) -> str:
        day = created_at.astimezone(UTC).strftime("%Y%m%d")
        serial = self._day_serials.setdefault(day, itertools.count(1))
        return f"T{day}.{next(serial):04d}"

    def _queue_id(self, name: str | None) -> int | None:
        if not name:
            return None
        for code, label in self._queues.items():
            if label == name:
                return int(code)
        queue_id = next(self._entity_ids)
        self._queues[str(queue_id)] = name
        return queue_id

    def _named(self, entity: str, name: str | None) -> int | None:
        """The id of the resource, contact or configuration item called ``name``."""
        if not name:
            return None
        table = self._tables[entity]
        for row in table.values():
            if _display(entity, row) == name:
                return int(row["id"])
        entity_id = next(self._entity_ids)
        if entity == "ConfigurationItems":
            table[entity_id] = {
                "id": entity_id,
                "referenceTitle": name,
                "companyID": self.company_id,
                "isActive": True,
            }
        else:
            row = _person(entity_id, name, email=_email(name))
            if entity == "Contacts":
                row = {**row, "companyID": self.company_id, "emailAddress": row.pop("email")}
            table[entity_id] = row
        return entity_id

    def _fields(self, entity: str) -> list[dict[str, Any]]:
        rows = self._tables[entity].values()
        names = sorted({key for row in rows for key in row} | {"id"})
        picklists: dict[str, Mapping[str, str]] = {}
        required = {"id"}
        if entity == "Tickets":
            picklists = {
                "status": STATUS_LABELS,
                "priority": PRIORITY_LABELS,
                "queueID": self._queues,
            }
            names = sorted(set(names) | set(picklists))
            required |= {"title", "status", "priority", "companyID"}
        elif entity == "TicketNotes":
            picklists = {"noteType": NOTE_TYPE_LABELS, "publish": PUBLISH_LABELS}
            names = sorted(set(names) | set(NOTE_FIELDS))
            required |= {"ticketID", "title", "description", "noteType", "publish"}
        return [_field_info(name, picklists.get(name), name in required) for name in names]


def _person(entity_id: int, name: str, *, email: str | None) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    return {
        "id": entity_id,
        "firstName": first,
        "lastName": last,
        "email": email,
        "isActive": True,
    }


def _email(name: str) -> str:
    local = ".".join(name.lower().split()) or "someone"
    return f"{local}@acme.example"


def _display(entity: str, row: Mapping[str, Any]) -> str:
    if entity == "ConfigurationItems":
        return str(row.get("referenceTitle") or "")
    return " ".join(p for p in (row.get("firstName"), row.get("lastName")) if p)


def _entity_info(entity: str) -> dict[str, Any]:
    return {
        "name": _ENTITY_SINGULAR[entity],
        "canCreate": True,
        "canDelete": entity != "Tickets",
        "canQuery": True,
        "canUpdate": True,
        "hasUserDefinedFields": entity in ("Tickets", "Companies", "Contacts"),
        "supportsWebhookCallouts": entity in ("Tickets", "Companies", "Contacts"),
        "userAccessForCreate": "All",
        "userAccessForDelete": "None" if entity == "Tickets" else "All",
        "userAccessForQuery": "All",
        "userAccessForUpdate": "All",
    }


def _field_info(name: str, picklist: Mapping[str, str] | None, required: bool) -> dict[str, Any]:
    values = [
        {
            "value": code,
            "label": label,
            "isDefaultValue": index == 0,
            "sortOrder": index + 1,
            "parentValue": "",
            "isActive": True,
            "isSystem": code in ("1", "5") if name == "status" else False,
        }
        for index, (code, label) in enumerate(picklist.items() if picklist else ())
    ]
    is_date = name.endswith(("Date", "DateTime"))
    return {
        "name": name,
        "dataType": "datetime" if is_date else "integer" if picklist is not None else "string",
        "length": 0,
        "isRequired": required,
        "isReadOnly": name in ("id", "ticketNumber", "createDate", "lastActivityDate"),
        "isQueryable": name not in ("creatorType", "lastActivityPersonType"),
        "isReference": name.endswith("ID") and picklist is None,
        "referenceEntityType": "",
        "isPickList": picklist is not None,
        "picklistValues": values if picklist is not None else None,
        "picklistParentValueField": "",
        "isSupportedWebhookField": True,
    }


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _paging(text: str | None) -> tuple[int, int] | None:
    """``(pageSize, last id read)`` from a ``paging`` parameter the emulator made."""
    try:
        paging = json.loads(text or "")
        size, after = paging["pageSize"], paging["nextIds"][0]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (size, after)):
        return None
    return size, after


def _include_fields(value: Any) -> set[str] | None:
    if not isinstance(value, list) or not value:
        return None
    return {str(name).lower() for name in value} | {"id"}


def _project(row: Mapping[str, Any], include: set[str] | None) -> dict[str, Any]:
    if include is None:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in row.items()}
    return {k: v for k, v in row.items() if k.lower() in include}


def _field(row: Mapping[str, Any], name: Any) -> tuple[bool, Any]:
    if not isinstance(name, str):
        raise _QueryError("Each filter condition needs a field.")
    for key, value in row.items():
        if key.lower() == name.lower():
            return True, value
    return False, None


def _holds(condition: Any, row: Mapping[str, Any]) -> bool:
    """Evaluate one filter condition (or ``and``/``or`` group) against a row."""
    if not isinstance(condition, Mapping):
        raise _QueryError("A filter condition must be an object.")
    op = str(condition.get("op", "")).lower()
    if op in ("and", "or"):
        items = condition.get("items")
        if not isinstance(items, list) or not items:
            raise _QueryError(f"The '{op}' grouping requires items.")
        results = (_holds(item, row) for item in items)
        return all(results) if op == "and" else any(results)
    known, actual = _field(row, condition.get("field"))
    if not known:
        raise _QueryError(f"Unable to find {condition.get('field')} in the entity.")
    wanted = condition.get("value")
    if op == "exist":
        return actual not in (None, "")
    if op == "notexist":
        return actual in (None, "")
    if op in ("in", "notin"):
        if not isinstance(wanted, list):
            raise _QueryError(f"The '{op}' operator requires a list of values.")
        inside = any(_compare(actual, v) == 0 for v in wanted)
        return inside if op == "in" else not inside
    if op in _TEXT_OPS:
        if actual is None:
            return False
        text, needle = str(actual).lower(), str(wanted).lower()
        if op == "contains":
            return needle in text
        return text.startswith(needle) if op == "beginswith" else text.endswith(needle)
    if op not in _COMPARISONS:
        raise _QueryError(f"The operator '{condition.get('op')}' is not supported.")
    if actual is None:
        return op == "noteq" and wanted is not None
    order = _compare(actual, wanted)
    return {
        "eq": order == 0,
        "noteq": order != 0,
        "gt": order > 0,
        "gte": order >= 0,
        "lt": order < 0,
        "lte": order <= 0,
    }[op]


def _compare(actual: Any, wanted: Any) -> int:
    """-1/0/1 comparing a stored value with a filter value, by the stored value's type."""
    left: Any
    right: Any
    if isinstance(actual, bool) or isinstance(wanted, bool):
        left, right = str(actual).lower(), str(wanted).lower()
    elif isinstance(actual, (int, float)):
        try:
            left, right = float(actual), float(wanted)
        except (TypeError, ValueError):
            raise _QueryError(f"The value {wanted!r} is not a number.") from None
        if not math.isfinite(right):
            raise _QueryError(f"The value {wanted!r} is not a number.")
    elif isinstance(actual, str) and _looks_like_time(actual):
        left, right = _time(actual), _time(wanted)
    else:
        left, right = str(actual).lower(), str(wanted).lower()
    return int(left > right) - int(left < right)


def _looks_like_time(text: str) -> bool:
    return len(text) >= 16 and text[4] == "-" and text[10] == "T"


def _time(value: Any) -> datetime:
    """A filter or stored datetime; Autotask reads one without an offset as UTC."""
    text = str(value).strip()
    clock_part = text[10:]
    naive = not text.endswith(("Z", "z")) and "+" not in clock_part and "-" not in clock_part
    if _looks_like_time(text) and naive:
        text += "Z"
    try:
        parsed = parse_iso(text)
    except BadPayload:
        parsed = None
    if parsed is None:
        raise _QueryError(f"The value {str(value)[:40]!r} is not a valid datetime.")
    return parsed


EMULATOR = AutotaskEmulator

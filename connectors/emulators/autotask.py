"""An Autotask PSA tenant on loopback, speaking the REST v1.0 wire format, at a customer's size.

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
  1 to 500, ``IncludeFields`` and nested ``and``/``or`` filters (``eq``,
  ``noteq``, ``gt``, ``gte``, ``lt``, ``lte``, ``beginsWith``, ``endsWith``,
  ``contains``, ``exist``, ``notExist``, ``in``, ``notIn``), answered in id
  order (Autotask sorts by id and offers no other order), continued by
  ``pageDetails.nextPageUrl`` (``…/query/next?paging=``) which takes a POST
  with the same body (a GET there is 405, as live);
* ``POST {Entity}/query/count`` (and ``GET …/query/count?search=``) answering
  ``{"queryCount": N}``;
* rows in :attr:`AutotaskEmulator.hidden_ids` stand for records the API user's
  security level hides: they count against ``MaxRecords`` and are then
  dropped, so a page comes back short, or empty, with more to follow;
* ``Tickets/entityInformation[/fields]`` and ``TicketNotes/…/fields`` with the
  tenant's picklists, and a 403 for entities in :attr:`AutotaskEmulator.denied_entities`;
* ``TicketNotes`` (queryable by ``ticketID`` and ``lastActivityDate``) and
  ``TicketAttachments`` (by ``parentID`` and ``attachDate``; one file with its
  base64 ``data`` at ``GET Tickets/{id}/Attachments/{attachmentId}``);
* ``ThresholdInformation`` counting every request of the rolling hour (plus
  :attr:`prior_usage` of other integrations), latency injected past 50 % and
  75 % of the threshold, and 429 for everything at the threshold; and
  :attr:`~connectors.emulators.base.Emulator.latency` on every answer, waited
  outside the lock so concurrent requests overlap as at a vendor 50 ms away.

Size. A query's cost does not grow with the tenant: tickets are indexed by id
(ids only grow, so insertion order is id order), by status, by
``lastActivityDate`` (a sorted list of ``(stamp, id)``; every stored time has
the one fixed-width form, so strings sort as times) and by ``externalID``;
notes by ticket, attachments by parent ticket. A query's filter is compiled
once per request, a candidate stream in id order is chosen from those indexes
(an ``id in``, an indexed ``eq``/``in``, a time range, a status set, or an
``or`` of those), and only candidates past the page's start are tested, until
the page is full. A time range is sorted into id order once and kept until the
next write. Rows keep only the fields that differ from their entity's defaults
(the defaults are merged in when a row is answered), about half the memory of
full rows at 100,000 tickets. :meth:`AutotaskEmulator.put_tickets` loads in
bulk and sorts the time index once.

List records carry the keys of the capture (``autotask-tickets-query.json``)
plus, on purpose, ``configurationItemID``, ``lastTrackedModificationDateTime``,
``lastCustomerVisibleActivityDateTime``, ``firstResponseDueDateTime``,
``resolutionPlanDateTime``, ``resolutionPlanDueDateTime``, ``resolvedDateTime``,
``resolvedDueDateTime``, ``serviceLevelAgreementID``, ``serviceLevelAgreementHasBeenMet``
and ``serviceLevelAgreementPausedNextEventHours``. The
capture is a hand-trimmed client-library fixture (see ``SOURCES.md``); the
vendor's Ticket model (Autotask's published swagger, as generated into
``aenichols/ATREST-CSharp-Client`` ``docs/TicketModel.md``) has all of these and
a live answer returns every field of the entity, and the connector reads the
SLA ones. Other swagger fields the connector never reads (``apiVendorID``,
``changeApprovalBoard``, ``monitorID``, ``rmmAlertID``, …) are left out to keep
100,000 rows small. ``userDefinedFields`` is a list, as in the swagger model
(the fixture's ``{}`` is the library's own shape). Notes carry the TicketNote
model's fields; attachments the TicketAttachment model's fields without
``data`` (file bytes are read one file at a time; that a query leaves them out
is an assumption).

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

Conversations put by the demo world or tests (:meth:`AutotaskEmulator.put_entry`)
become TicketNotes: Autotask's API returns a note's text-only version, so the
entry's ``text`` is the ``description`` (its ``html`` is not kept); public
entries are published to "All Autotask Users", internal ones to "Internal
Project Team", system ones are "Workflow Rule" notes by the system resource.
Files that come with an entry are filed as the ticket's own attachments
(``TicketAttachments``, ``parentID`` = the ticket), attached by the entry's
author at the entry's time; note-level attachments (``TicketNoteAttachments``)
are not emulated.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import hmac
import itertools
import json
import math
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeGuard
from urllib.parse import quote

from connectors.emulators.base import (
    Reply,
    Request,
    TicketEmulator,
    WorldEntry,
    WorldTicket,
)
from connectors.errors import BadPayload
from connectors.records import Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = [
    "EMULATOR",
    "NOTE_TYPE_LABELS",
    "PRIORITY_LABELS",
    "PUBLISH_LABELS",
    "STATUS_LABELS",
    "AutotaskEmulator",
]

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
NOTE_TYPE_LABELS: Mapping[str, str] = {
    "1": "Task Summary",
    "2": "Task Detail",
    "3": "Task Notes",
    "13": "Workflow Rule",
}
"""TicketNotes ``noteType`` picklist (per tenant; ``13`` is the kind workflow rules write)."""
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
ATTACHMENT_FIELDS = (
    "id",
    "attachDate",
    "attachedByContactID",
    "attachedByResourceID",
    "attachmentType",
    "contentType",
    "creatorType",
    "fileSize",
    "fullPath",
    "impersonatorCreatorResourceID",
    "isTaskAttachment",
    "opportunityID",
    "parentID",
    "parentType",
    "publish",
    "title",
)
"""TicketAttachment model fields as a query lists them (``data`` only on the one-file GET)."""
ATTACHMENT_PARENT_TICKET = 4
"""``parentType`` of a ticket's own attachment (the value is an assumption)."""
NOTE_TYPE_SYSTEM = 13
NOTE_PUBLISH_ALL = 1
NOTE_PUBLISH_INTERNAL = 2

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
_TICKET_DEFAULTS: Mapping[str, Any] = {
    "id": None,
    "ticketNumber": None,
    "title": None,
    "description": "",
    "status": None,
    "priority": None,
    "queueID": None,
    "assignedResourceID": None,
    "assignedResourceRoleID": None,
    "companyID": None,
    "companyLocationID": None,
    "contactID": None,
    "configurationItemID": None,
    "contractID": None,
    "billingCodeID": None,
    "issueType": None,
    "subIssueType": None,
    "ticketType": 2,
    "ticketCategory": 3,
    "source": 2,
    "creatorResourceID": None,
    "creatorType": 1,
    "createDate": None,
    "lastActivityDate": None,
    "lastActivityPersonType": 1,
    "lastActivityResourceID": None,
    "lastTrackedModificationDateTime": None,
    "lastCustomerVisibleActivityDateTime": None,
    "dueDateTime": None,
    "firstResponseDateTime": None,
    "firstResponseDueDateTime": None,
    "resolutionPlanDateTime": None,
    "resolutionPlanDueDateTime": None,
    "resolvedDateTime": None,
    "resolvedDueDateTime": None,
    "completedDate": None,
    "completedByResourceID": None,
    "resolution": "",
    "serviceLevelAgreementID": None,
    "serviceLevelAgreementHasBeenMet": None,
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
"""Every field of a native ticket row with its default (what a write may name)."""
_TICKET_FIELDS = tuple(_TICKET_DEFAULTS)
STATUS_NEW_CODE = 1
STATUS_COMPLETE_CODE = 5

_BOOL_FIELDS = frozenset({"serviceLevelAgreementHasBeenMet", "isActive", "isTaskAttachment"})
_NUMBER_FIELDS = frozenset(
    {
        "id",
        "status",
        "priority",
        "issueType",
        "subIssueType",
        "ticketType",
        "ticketCategory",
        "source",
        "creatorType",
        "lastActivityPersonType",
        "estimatedHours",
        "hoursToBeScheduled",
        "serviceLevelAgreementPausedNextEventHours",
        "noteType",
        "publish",
        "companyType",
        "fileSize",
        "parentType",
    }
)
_TEXT_FIELDS = frozenset({"externalID", "ticketNumber", "purchaseOrderNumber"})
_COMPARISONS = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte"})
_TEXT_OPS = frozenset({"beginswith", "endswith", "contains"})
_STAMP_LENGTH = len("2025-03-04T09:12:44.123Z")


class _QueryError(Exception):
    """A query Autotask would refuse; the message is the vendor's ``errors`` entry."""


def _stamp(value: datetime) -> str:
    """Autotask's UTC form with milliseconds: ``2025-03-04T09:12:44.123Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_method(method: str) -> Reply:
    return Reply(
        405, {"Message": f"The requested resource does not support http method '{method}'."}
    )


def _is_time_field(name: str) -> bool:
    return name.endswith(("Date", "DateTime"))


# -- tables and their indexes --------------------------------------------------------------


@dataclass
class _Table:
    """One entity's rows (sparse: fields equal to the default are not stored) and indexes."""

    name: str
    singular: str
    defaults: Mapping[str, Any]
    hashed: tuple[str, ...] = ()
    """Fields with an equality index: value → ascending ids."""
    timed: tuple[str, ...] = ()
    """Time fields with a sorted ``(stamp, id)`` index."""
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)
    """Every id, ascending."""
    hashes: dict[str, dict[Any, list[int]]] = field(default_factory=dict)
    times: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    version: int = 0
    """Bumped on every write; cached time ranges are dropped when it moves."""
    deferred: bool = False
    """During a bulk load: time indexes are appended to and sorted once at the end."""
    names: dict[str, str] = field(default_factory=dict)
    """Lower-cased field name → the entity's spelling (Autotask matches case-insensitively)."""
    projections: dict[frozenset[str], tuple[str, ...]] = field(default_factory=dict)
    """``IncludeFields`` sets already seen → the fields they name, in entity order."""

    def __post_init__(self) -> None:
        self.names = {name.lower(): name for name in self.defaults}
        self.hashes = {name: {} for name in self.hashed}
        self.times = {name: [] for name in self.timed}

    def value(self, row: Mapping[str, Any], name: str) -> Any:
        return row.get(name, self.defaults.get(name))

    def full(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row as the API answers it: every field, lists copied."""
        out = {**self.defaults, **row}
        for key, value in out.items():
            if isinstance(value, list):
                out[key] = list(value)
        return out

    def some(self, row: Mapping[str, Any], include: set[str]) -> dict[str, Any]:
        """The row with only the fields ``IncludeFields`` named (lower case), in entity order."""
        names = self.projections.get(frozenset(include))
        if names is None:
            names = tuple(name for name in self.defaults if name.lower() in include)
            self.projections[frozenset(include)] = names
        defaults = self.defaults
        out = {name: row.get(name, defaults[name]) for name in names}
        for key, value in out.items():
            if isinstance(value, list):
                out[key] = list(value)
        return out

    def insert(self, row: dict[str, Any]) -> None:
        row_id = int(row["id"])
        if self.ids and row_id <= self.ids[-1]:
            bisect.insort(self.ids, row_id)
        else:
            self.ids.append(row_id)
        self.rows[row_id] = row
        self._index(row_id, row)

    def update(self, row_id: int, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` (fields equal to the default are dropped from the row)."""
        row = self.rows[row_id]
        self._unindex(row_id, row)
        for name, value in changes.items():
            if isinstance(value, str) and _is_time_field(name) and value:
                value = _canonical_stamp(value)
            if (
                name != "id"
                and value == self.defaults.get(name)
                and type(value) is type(self.defaults.get(name))
            ):
                row.pop(name, None)
            else:
                row[name] = value
        self._index(row_id, row)

    def finish_bulk(self) -> None:
        self.deferred = False
        for entries in self.times.values():
            entries.sort()
        self.version += 1

    def key(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return float(value)
        return value

    def _index(self, row_id: int, row: Mapping[str, Any]) -> None:
        self.version += 1
        for name in self.hashed:
            bucket = self.hashes[name].setdefault(self.key(self.value(row, name)), [])
            if bucket and row_id <= bucket[-1]:
                bisect.insort(bucket, row_id)
            else:
                bucket.append(row_id)
        for name in self.timed:
            stamp = self.value(row, name)
            if isinstance(stamp, str):
                if self.deferred:
                    self.times[name].append((stamp, row_id))
                else:
                    bisect.insort(self.times[name], (stamp, row_id))

    def _unindex(self, row_id: int, row: Mapping[str, Any]) -> None:
        if self.deferred:
            raise RuntimeError("rows cannot change during a bulk load")
        for name in self.hashed:
            key = self.key(self.value(row, name))
            bucket = self.hashes[name].get(key, [])
            at = bisect.bisect_left(bucket, row_id)
            if at < len(bucket) and bucket[at] == row_id:
                del bucket[at]
            if not bucket:
                self.hashes[name].pop(key, None)
        for name in self.timed:
            stamp = self.value(row, name)
            if isinstance(stamp, str):
                entries = self.times[name]
                at = bisect.bisect_left(entries, (stamp, row_id))
                if at < len(entries) and entries[at] == (stamp, row_id):
                    del entries[at]


def _canonical_stamp(value: str) -> str:
    """A stored time in the one fixed-width form (so strings sort as times)."""
    if len(value) == _STAMP_LENGTH and value.endswith("Z") and value[10] == "T":
        return value
    return _stamp(_time(value))


_PERSON_DEFAULTS: Mapping[str, Any] = {
    "id": None,
    "firstName": "",
    "lastName": "",
    "email": None,
    "isActive": True,
}
_CONTACT_DEFAULTS: Mapping[str, Any] = {
    "id": None,
    "firstName": "",
    "lastName": "",
    "emailAddress": None,
    "companyID": None,
    "isActive": True,
}
_COMPANY_DEFAULTS: Mapping[str, Any] = {
    "id": None,
    "companyName": "",
    "companyNumber": "",
    "companyType": 1,
    "isActive": True,
    "phone": "",
}
_ITEM_DEFAULTS: Mapping[str, Any] = {
    "id": None,
    "referenceTitle": "",
    "companyID": None,
    "isActive": True,
}
_NOTE_DEFAULTS: Mapping[str, Any] = dict.fromkeys(NOTE_FIELDS)
_ATTACHMENT_DEFAULTS: Mapping[str, Any] = {
    **dict.fromkeys(ATTACHMENT_FIELDS),
    "attachmentType": "FILE_ATTACHMENT",
    "creatorType": 1,
    "isTaskAttachment": False,
    "parentType": ATTACHMENT_PARENT_TICKET,
}

_ENTITIES = {
    "tickets": "Tickets",
    "resources": "Resources",
    "contacts": "Contacts",
    "companies": "Companies",
    "configurationitems": "ConfigurationItems",
    "ticketnotes": "TicketNotes",
    "ticketattachments": "TicketAttachments",
}


def _new_tables() -> dict[str, _Table]:
    tables = [
        _Table(
            "Tickets",
            "Ticket",
            _TICKET_DEFAULTS,
            hashed=("status", "externalID"),
            timed=("lastActivityDate",),
        ),
        _Table("TicketNotes", "TicketNote", _NOTE_DEFAULTS, hashed=("ticketID",)),
        _Table("TicketAttachments", "TicketAttachment", _ATTACHMENT_DEFAULTS, hashed=("parentID",)),
        _Table("Resources", "Resource", _PERSON_DEFAULTS),
        _Table("Contacts", "Contact", _CONTACT_DEFAULTS),
        _Table("Companies", "Company", _COMPANY_DEFAULTS),
        _Table("ConfigurationItems", "ConfigurationItem", _ITEM_DEFAULTS),
    ]
    return {table.name: table for table in tables}


# -- the tenant ------------------------------------------------------------------------------


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
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
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
        self.examined = 0
        """Rows tested against a filter so far (tests check a page's cost does not grow)."""
        self.served: dict[str, int] = {}
        """Rows answered per entity so far (tests count what a poll fetched)."""
        self._recent: deque[float] = deque()
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(29682833, 37)
        self._day_serials: dict[str, itertools.count[int]] = {}
        self._ids_by_ref: dict[str, int] = {}
        self._entries_by_ref: dict[tuple[str, str], int] = {}
        self._names: dict[tuple[str, str], int] = {}
        self._tables = _new_tables()
        self._queues: dict[str, str] = {}
        self._queue_ids: dict[str, int] = {}
        self._ranges: dict[tuple[str, str, str, bool], tuple[int, list[int]]] = {}
        """Cached time ranges in id order: (table, field, stamp, inclusive) → (version, ids)."""
        self.system_resource_id = 4
        self.company_id = 174
        self._tables["Companies"].insert(
            {
                "id": self.company_id,
                "companyName": "Acme Retail",
                "companyNumber": "ACME",
                "phone": "555-0100",
            }
        )
        self._tables["Resources"].insert(
            _person(self.system_resource_id, "Administrator", email=None)
        )
        self._names[("Resources", "Administrator")] = self.system_resource_id

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
            tickets = self._tables["Tickets"]
            ticket_id = self._ids_by_ref.get(ticket.ref)
            existing = tickets.rows.get(ticket_id) if ticket_id is not None else None
            if ticket_id is None:
                ticket_id = next(self._ticket_ids)
                self._ids_by_ref[ticket.ref] = ticket_id
            number = (
                existing["ticketNumber"] if existing else self._ticket_number(ticket.created_at)
            )
            row = self._world_row(ticket_id, number, ticket)
            if existing is None:
                tickets.insert(row)
            else:
                stale = {k: _TICKET_DEFAULTS[k] for k in existing if k not in row}
                tickets.update(ticket_id, {**stale, **row})
            return str(number)

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Create many new tickets at once (benches): the time index is sorted once at the end."""
        with self.lock:
            table = self._tables["Tickets"]
            table.deferred = True
            try:
                keys = [self.put_ticket(ticket) for ticket in tickets]
            finally:
                table.finish_bulk()
            return keys

    def _world_row(self, ticket_id: int, number: str, ticket: WorldTicket) -> dict[str, Any]:
        """The native row for a world ticket (only fields that differ from the defaults)."""
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
        updated = _stamp(ticket.updated_at)
        row: dict[str, Any] = {
            "id": ticket_id,
            "ticketNumber": number,
            "title": ticket.title,
            "status": status,
            "priority": _PRIORITY_OUT[ticket.priority] if ticket.priority else DEFAULT_PRIORITY,
            "companyID": self.company_id,
            "creatorResourceID": self.system_resource_id,
            "createDate": _stamp(ticket.created_at),
            "lastActivityDate": updated,
            "lastActivityResourceID": assignee or self.system_resource_id,
            "lastTrackedModificationDateTime": updated,
            "lastCustomerVisibleActivityDateTime": updated,
        }
        optional: dict[str, Any] = {
            "description": ticket.description,
            "queueID": self._queue_id(ticket.group),
            "assignedResourceID": assignee,
            "assignedResourceRoleID": DEFAULT_ROLE_ID if assignee else None,
            "contactID": contact,
            "configurationItemID": self._named("ConfigurationItems", ticket.asset),
            "dueDateTime": _stamp(ticket.due_at) if ticket.due_at else None,
            "firstResponseDateTime": (
                _stamp(ticket.first_response_at) if ticket.first_response_at else None
            ),
            "firstResponseDueDateTime": (
                _stamp(ticket.created_at + timedelta(hours=1)) if ticket.due_at else None
            ),
            "resolvedDateTime": _stamp(ended) if ended else None,
            "resolvedDueDateTime": _stamp(ticket.due_at) if ticket.due_at else None,
            "completedDate": _stamp(ended) if ended and status == 5 else None,
            "completedByResourceID": (
                (assignee or self.system_resource_id) if status == 5 else None
            ),
            "serviceLevelAgreementID": 1 if ticket.due_at else None,
            "serviceLevelAgreementHasBeenMet": met,
        }
        row.update((k, v) for k, v in optional.items() if v != _TICKET_DEFAULTS[k])
        return row

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields (``status=7``), stamping ``lastActivityDate`` as Autotask does."""
        with self.lock:
            ticket_id = self._ids_by_ref[ref]
            unknown = set(fields) - (set(_TICKET_FIELDS) - {"id", "ticketNumber"})
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            changes = dict(fields)
            if "lastActivityDate" not in fields:
                now = _stamp(self.clock())
                changes.update(lastActivityDate=now, lastTrackedModificationDateTime=now)
            self._tables["Tickets"].update(ticket_id, changes)

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a TicketNote on the ticket; return the note's id.

        The note's ``description`` is the entry's text (the API's text-only
        version); the ticket's ``lastActivityDate`` moves to the note's time
        when that is later, as a note bumps a ticket's activity in Autotask.
        Attachments become the ticket's own ``TicketAttachments``.
        """
        with self.lock:
            ticket_id = self._ids_by_ref[ticket_ref]
            notes = self._tables["TicketNotes"]
            stamp = _stamp(entry.at)
            system = entry.visibility == "system"
            author = self.system_resource_id if system else self._named("Resources", entry.author)
            publish = NOTE_PUBLISH_ALL if entry.visibility == "public" else NOTE_PUBLISH_INTERNAL
            note: dict[str, Any] = {
                "ticketID": ticket_id,
                "title": _first_line(entry.text, 250) or "Note",
                "description": entry.text[:32000],
                "noteType": NOTE_TYPE_SYSTEM if system else 1,
                "publish": publish,
                "createDateTime": stamp,
                "lastActivityDate": stamp,
                "creatorResourceID": author,
            }
            note_id = self._entries_by_ref.get((ticket_ref, entry.ref))
            if note_id is None:
                note_id = next(self._entity_ids)
                self._entries_by_ref[(ticket_ref, entry.ref)] = note_id
                notes.insert({"id": note_id, **note})
            else:
                created = notes.value(notes.rows[note_id], "createDateTime")
                notes.update(note_id, {**note, "createDateTime": created})
            for attachment in entry.attachments:
                self._tables["TicketAttachments"].insert(
                    {
                        "id": next(self._entity_ids),
                        "attachDate": stamp,
                        "attachedByResourceID": author,
                        "contentType": attachment.content_type,
                        "fileSize": attachment.size,
                        "fullPath": attachment.name,
                        "parentID": ticket_id,
                        "publish": publish,
                        "title": attachment.name,
                    }
                )
            tickets = self._tables["Tickets"]
            if (tickets.value(tickets.rows[ticket_id], "lastActivityDate") or "") < stamp:
                changes: dict[str, Any] = {"lastActivityDate": stamp}
                if publish == NOTE_PUBLISH_ALL and not system:
                    changes["lastCustomerVisibleActivityDateTime"] = stamp
                tickets.update(ticket_id, changes)
            return str(note_id)

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
            return self.native(self._ids_by_ref[ref])

    def native(self, ticket_id: int) -> dict[str, Any]:
        """A copy of the native ticket with this id (API-created ones have no ``ref``)."""
        with self.lock:
            tickets = self._tables["Tickets"]
            return tickets.full(tickets.rows[ticket_id])

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Copies of the TicketNotes on this ticket, oldest first."""
        with self.lock:
            notes = self._tables["TicketNotes"]
            ids = notes.hashes["ticketID"].get(float(ticket_id), [])
            return [notes.full(notes.rows[i]) for i in ids]

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Copies of the ticket's own attachments, oldest first."""
        with self.lock:
            table = self._tables["TicketAttachments"]
            ids = table.hashes["parentID"].get(float(ticket_id), [])
            return [table.full(table.rows[i]) for i in ids]

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
        if tail == ["query", "count"]:
            return self._count(request, entity)
        if not tail and request.method in ("POST", "PATCH", "PUT"):
            if entity != "Tickets":
                return _wrong_method(request.method)
            return self._write_ticket(request)
        if entity == "Tickets" and len(tail) >= 2 and tail[0].isdigit():
            if tail[1] == "notes" and len(tail) == 2:
                return self._notes(request, int(tail[0]))
            if tail[1] == "attachments" and len(tail) in (2, 3):
                if request.method != "GET" or (len(tail) == 3 and not tail[2].isdigit()):
                    return _wrong_method(request.method)
                return self._ticket_attachments(int(tail[0]), tail[2] if len(tail) == 3 else None)
        if len(tail) == 1 and tail[0].isdigit():
            if request.method != "GET":
                return _wrong_method(request.method)
            table = self._tables[entity]
            row = table.rows.get(int(tail[0]))
            if row is None or (entity == "Tickets" and int(tail[0]) in self.hidden_ids):
                return Reply(200, {"item": None})
            return Reply(200, {"item": table.full(row)})
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

    def _search(self, request: Request) -> tuple[dict[str, Any] | None, Reply | None]:
        """The query body (POST) or ``search`` parameter (GET), or the refusal to send."""
        if request.method == "POST":
            try:
                search = json.loads(request.body) if request.body else None
            except json.JSONDecodeError:
                return None, _errors(500, "The request body is not valid JSON.")
        elif request.method == "GET" and request.param("search") is not None:
            try:
                search = json.loads(request.param("search") or "")
            except json.JSONDecodeError:
                return None, _errors(500, "The search parameter is not valid JSON.")
        else:
            return None, _wrong_method(request.method)
        if not isinstance(search, dict) or not isinstance(search.get("filter"), list):
            return None, _errors(500, "A query requires a filter.")
        return search, None

    def _query(self, request: Request, entity: str, *, continued: bool) -> Reply:
        search, refused = self._search(request)
        if search is None:
            assert refused is not None
            return refused
        after: int | None = None
        size = search.get("MaxRecords", search.get("maxRecords", MAX_RECORDS))
        if continued:
            paging = _paging(request.param("paging"))
            if paging is None:
                return _errors(500, "The paging parameter is not valid.")
            size, after = paging
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_RECORDS:
            return _errors(500, f"MaxRecords must be between 1 and {MAX_RECORDS}.")
        table = self._tables[entity]
        try:
            window = list(itertools.islice(self._matches(table, search["filter"], after), size + 1))
        except _QueryError as exc:
            return _errors(500, str(exc))
        more = len(window) > size
        window = window[:size]
        hidden = self.hidden_ids if entity == "Tickets" else set()
        include = _include_fields(search.get("IncludeFields", search.get("includeFields")))
        if include is None:
            items = [table.full(table.rows[i]) for i in window if i not in hidden]
        else:
            items = [table.some(table.rows[i], include) for i in window if i not in hidden]
        self.served[entity] = self.served.get(entity, 0) + len(items)
        next_url = None
        if more:
            token = {"pageSize": size, "previousIds": [after or -1], "nextIds": [window[-1]]}
            root = self.link_root or self.base_url
            next_url = (
                f"{root}/ATServicesRest/V1.0/{entity}/query/next?paging="
                f"{quote(json.dumps(token, separators=(',', ':')), safe='')}"
            )
            if request.method == "GET":
                next_url += f"&search={quote(request.param('search') or '', safe='')}"
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

    def _count(self, request: Request, entity: str) -> Reply:
        search, refused = self._search(request)
        if search is None:
            assert refused is not None
            return refused
        table = self._tables[entity]
        hidden = self.hidden_ids if entity == "Tickets" else set()
        try:
            count = sum(
                1 for row_id in self._matches(table, search["filter"]) if row_id not in hidden
            )
        except _QueryError as exc:
            return _errors(500, str(exc))
        return Reply(200, {"queryCount": count})

    def _matches(
        self, table: _Table, conditions: list[Any], after: int | None = None
    ) -> Iterator[int]:
        """Ids of rows matching every condition, ascending, past ``after``."""
        if not conditions:
            raise _QueryError("A query requires at least one filter condition.")
        predicate = _compile_all(table, conditions)
        rows = table.rows
        for row_id in self._candidates(table, conditions, after):
            row = rows.get(row_id)
            self.examined += 1
            if row is not None and predicate(row):
                yield row_id

    # -- the planner: a candidate stream in id order from the cheapest index ----------------

    def _candidates(
        self, table: _Table, conditions: Sequence[Any], after: int | None
    ) -> Iterator[int]:
        lower = after
        for condition in conditions:
            bound = _id_bound(table, condition)
            if bound is not None and (lower is None or bound > lower):
                lower = bound
        best: list[int] | Iterator[int] | None = None
        for condition in conditions:
            source = self._source(table, condition, lower)
            if isinstance(source, list):
                best = source  # a materialised list is as narrow as it gets
                break
            if source is not None and best is None:
                best = source
        if best is None:
            start = 0 if lower is None else bisect.bisect_right(table.ids, lower)
            best = iter(table.ids[start:]) if start else iter(table.ids)
        if lower is None:
            return iter(best)
        return (i for i in best if i > lower)

    def _source(
        self, table: _Table, condition: Any, lower: int | None
    ) -> list[int] | Iterator[int] | None:
        """Ascending ids a condition narrows to, from an index, or ``None`` when it cannot."""
        if not isinstance(condition, Mapping):
            return None
        op = str(condition.get("op", "")).lower()
        if op == "or":
            items = condition.get("items")
            if not isinstance(items, list) or not items:
                return None
            streams = [self._source(table, item, lower) for item in items]
            if any(stream is None for stream in streams):
                return None
            return _unique(heapq.merge(*(iter(s) for s in streams if s is not None)))
        if op == "and":
            items = condition.get("items")
            if not isinstance(items, list) or not items:
                return None
            for item in items:
                narrowed = self._source(table, item, lower)
                if narrowed is not None:
                    return narrowed
            return None
        name = table.names.get(str(condition.get("field", "")).lower())
        if name is None:
            return None
        value = condition.get("value")
        if name == "id" and op in ("eq", "in"):
            values = value if op == "in" and isinstance(value, list) else [value]
            found = {int(v) for v in values if _is_int(v) and int(v) in table.rows}
            return _after(sorted(found), lower)
        if name in table.hashed:
            buckets = table.hashes[name]
            if op in ("eq", "in"):
                values = value if op == "in" and isinstance(value, list) else [value]
                keys = {table.key(_typed(name, v)) for v in values}
                return _after(sorted({i for key in keys for i in buckets.get(key, ())}), lower)
            if op in ("noteq", "notin") and len(buckets) <= 64:
                values = value if op == "notin" and isinstance(value, list) else [value]
                excluded = {table.key(_typed(name, v)) for v in values}
                lists = [ids for key, ids in buckets.items() if key not in excluded]
                return heapq.merge(*(_past(ids, lower) for ids in lists))
        if name in table.timed and op in ("gt", "gte"):
            try:
                stamp = _stamp(_time(value))
            except _QueryError:
                return None
            return _after(self._range(table, name, stamp, inclusive=op == "gte"), lower)
        return None

    def _range(self, table: _Table, name: str, stamp: str, *, inclusive: bool) -> list[int]:
        """Ids whose time field is past ``stamp``, in id order (cached until the next write)."""
        key = (table.name, name, stamp, inclusive)
        cached = self._ranges.get(key)
        if cached is not None and cached[0] == table.version:
            return cached[1]
        entries = table.times[name]
        probe = (stamp, -1) if inclusive else (stamp, sys.maxsize)
        start = bisect.bisect_left(entries, probe)
        ids = sorted(row_id for _, row_id in entries[start:])
        if len(self._ranges) > 32:
            self._ranges.clear()
        self._ranges[key] = (table.version, ids)
        return ids

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
        tickets = self._tables["Tickets"]
        row = tickets.rows.get(ticket_id) if _is_int(ticket_id) else None
        if row is None or ticket_id in self.hidden_ids:
            return _errors(500, f"Unable to find the Ticket with id {ticket_id}.")
        assert isinstance(ticket_id, int)
        merged = tickets.full(row)
        errors = self._ticket_errors({**merged, **fields}, fields)
        if errors:
            return _errors(500, *errors)
        now = self.clock()
        changes = dict(fields)
        if fields.get("status", merged["status"]) != merged["status"]:
            changes.update(self._status_changes({**merged, **fields}, now))
        changes.update(self._touch(now, edited=True))
        tickets.update(ticket_id, changes)
        return Reply(200, {"itemId": ticket_id})

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
        ticket_id = self._ids_by_ref[ref]
        tickets = self._tables["Tickets"]
        changes: dict[str, Any] = {
            "queueID": None,
            "assignedResourceID": None,
            "assignedResourceRoleID": None,
            "lastActivityResourceID": self.system_resource_id,
            "source": 4,  # Web Service
            **fields,
        }
        if changes.get("status", STATUS_NEW_CODE) != STATUS_NEW_CODE:
            merged = {**tickets.full(tickets.rows[ticket_id]), **changes}
            changes.update(self._status_changes(merged, now))
        tickets.update(ticket_id, changes)
        self.created.append(str(ticket_id))
        return Reply(200, {"itemId": ticket_id})

    def _notes(self, request: Request, ticket_id: int) -> Reply:
        """``Tickets/{id}/Notes``: list (GET) or add (POST) a TicketNote."""
        tickets = self._tables["Tickets"]
        if ticket_id not in tickets.rows or ticket_id in self.hidden_ids:
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
        self._tables["TicketNotes"].insert(
            {
                "id": note_id,
                "ticketID": ticket_id,
                "title": note["title"],
                "description": note["description"],
                "noteType": note["noteType"],
                "publish": note["publish"],
                "createDateTime": _stamp(now),
                "lastActivityDate": _stamp(now),
                "creatorResourceID": self.system_resource_id,
            }
        )
        public = note["publish"] == NOTE_PUBLISH_ALL
        self.record_comment(ticket_id, str(note["description"]), public=public)
        tickets.update(ticket_id, self._touch(now, customer_visible=public))
        return Reply(200, {"itemId": note_id})

    def _ticket_attachments(self, ticket_id: int, attachment: str | None) -> Reply:
        """``GET Tickets/{id}/Attachments[/{attachmentId}]``: the list, or one file with data."""
        if ticket_id not in self._tables["Tickets"].rows or ticket_id in self.hidden_ids:
            return _errors(500, f"Unable to find the parent Ticket with id {ticket_id}.")
        rows = self.attachments(ticket_id)
        if attachment is not None:
            rows = [r for r in rows if r["id"] == int(attachment)]
            for row in rows:
                size = int(row["fileSize"] or 0)
                row["data"] = base64.b64encode(b"\0" * min(size, 64 * 1024)).decode()
        return Reply(
            200,
            {
                "items": rows,
                "pageDetails": {
                    "count": len(rows),
                    "requestCount": MAX_RECORDS,
                    "prevPageUrl": None,
                    "nextPageUrl": None,
                },
            },
        )

    def _canonical(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Body fields under their Ticket names (Autotask matches case-insensitively)."""
        names = self._tables["Tickets"].names
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
            if value is not None and (not _is_int(value) or value not in self._tables[table].rows):
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

    def _status_changes(self, row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Completion and resolution stamps follow the status, as Autotask keeps them."""
        status = row["status"]
        if status in _ACTIVE:
            return {"completedDate": None, "completedByResourceID": None, "resolvedDateTime": None}
        resolved = row["resolvedDateTime"] or _stamp(now)
        changes: dict[str, Any] = {"resolvedDateTime": resolved}
        if status == STATUS_COMPLETE_CODE:
            changes.update(completedDate=_stamp(now), completedByResourceID=self.system_resource_id)
        due = row["resolvedDueDateTime"]
        if due is not None and row["serviceLevelAgreementHasBeenMet"] is None:
            changes["serviceLevelAgreementHasBeenMet"] = _time(resolved) <= _time(due)
        return changes

    def _touch(
        self, now: datetime, *, edited: bool = False, customer_visible: bool = False
    ) -> dict[str, Any]:
        """The activity stamps the connector's ``lastActivityDate`` query keys on."""
        stamp = _stamp(now)
        changes: dict[str, Any] = {
            "lastActivityDate": stamp,
            "lastActivityPersonType": 1,
            "lastActivityResourceID": self.system_resource_id,
        }
        if edited:
            changes["lastTrackedModificationDateTime"] = stamp
        if customer_visible:
            changes["lastCustomerVisibleActivityDateTime"] = stamp
        return changes

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
        queue_id = self._queue_ids.get(name)
        if queue_id is None:
            queue_id = next(self._entity_ids)
            self._queue_ids[name] = queue_id
            self._queues[str(queue_id)] = name
        return queue_id

    def _named(self, entity: str, name: str | None) -> int | None:
        """The id of the resource, contact or configuration item called ``name``."""
        if not name:
            return None
        known = self._names.get((entity, name))
        if known is not None:
            return known
        table = self._tables[entity]
        entity_id = next(self._entity_ids)
        if entity == "ConfigurationItems":
            row = {"id": entity_id, "referenceTitle": name, "companyID": self.company_id}
        elif entity == "Contacts":
            person = _person(entity_id, name, email=_email(name))
            row = {
                "id": entity_id,
                "firstName": person["firstName"],
                "lastName": person["lastName"],
                "emailAddress": person["email"],
                "companyID": self.company_id,
            }
        else:
            row = _person(entity_id, name, email=_email(name))
        table.insert(row)
        self._names[(entity, name)] = entity_id
        return entity_id

    def _fields(self, entity: str) -> list[dict[str, Any]]:
        names = sorted(self._tables[entity].defaults)
        picklists: dict[str, Mapping[str, str]] = {}
        required = {"id"}
        if entity == "Tickets":
            picklists = {
                "status": STATUS_LABELS,
                "priority": PRIORITY_LABELS,
                "queueID": self._queues,
            }
            required |= {"title", "status", "priority", "companyID"}
        elif entity == "TicketNotes":
            picklists = {"noteType": NOTE_TYPE_LABELS, "publish": PUBLISH_LABELS}
            required |= {"ticketID", "title", "description", "noteType", "publish"}
        return [_field_info(name, picklists.get(name), name in required) for name in names]


def _person(entity_id: int, name: str, *, email: str | None) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    return {"id": entity_id, "firstName": first, "lastName": last, "email": email}


def _email(name: str) -> str:
    local = ".".join(name.lower().split()) or "someone"
    return f"{local}@acme.example"


def _first_line(text: str, limit: int) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line[:limit]


def _entity_info(entity: str) -> dict[str, Any]:
    return {
        "name": _SINGULAR.get(entity, entity),
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


_SINGULAR: Mapping[str, str] = {table.name: table.singular for table in _new_tables().values()}


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
    return {
        "name": name,
        "dataType": "datetime"
        if _is_time_field(name)
        else "integer"
        if picklist is not None
        else "string",
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


def _after(ids: list[int], lower: int | None) -> list[int]:
    """The ids past ``lower`` of an ascending list (a C slice, not a Python loop)."""
    if lower is None or not ids or ids[0] > lower:
        return ids
    return ids[bisect.bisect_right(ids, lower) :]


def _past(ids: list[int], lower: int | None) -> Iterator[int]:
    start = 0 if lower is None else bisect.bisect_right(ids, lower)
    return itertools.islice(ids, start, None)


def _unique(ids: Iterable[int]) -> Iterator[int]:
    last: int | None = None
    for row_id in ids:
        if row_id != last:
            yield row_id
            last = row_id


def _id_bound(table: _Table, condition: Any) -> int | None:
    """The exclusive lower id bound an ``id gt``/``id gte`` condition sets."""
    if not isinstance(condition, Mapping):
        return None
    if table.names.get(str(condition.get("field", "")).lower()) != "id":
        return None
    op, value = str(condition.get("op", "")).lower(), condition.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    if op == "gt":
        return math.floor(value)
    if op == "gte":
        return math.ceil(value) - 1
    return None


# -- the filter, compiled once per request ---------------------------------------------------

_Predicate = Callable[[Mapping[str, Any]], bool]


def _compile_all(table: _Table, conditions: Sequence[Any]) -> _Predicate:
    parts = [_compile(table, condition) for condition in conditions]
    if len(parts) == 1:
        return parts[0]
    return lambda row: all(part(row) for part in parts)


def _compile(table: _Table, condition: Any) -> _Predicate:
    """One filter condition (or ``and``/``or`` group) as a test of a stored row."""
    if not isinstance(condition, Mapping):
        raise _QueryError("A filter condition must be an object.")
    op = str(condition.get("op", "")).lower()
    if op in ("and", "or"):
        items = condition.get("items")
        if not isinstance(items, list) or not items:
            raise _QueryError(f"The '{op}' grouping requires items.")
        parts = [_compile(table, item) for item in items]
        if op == "and":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)
    raw_name = condition.get("field")
    if not isinstance(raw_name, str):
        raise _QueryError("Each filter condition needs a field.")
    name = table.names.get(raw_name.lower())
    if name is None:
        raise _QueryError(f"Unable to find {raw_name} in the entity.")
    default = table.defaults.get(name)
    wanted = condition.get("value")

    def actual(row: Mapping[str, Any]) -> Any:
        return row.get(name, default)

    if op == "exist":
        return lambda row: actual(row) not in (None, "")
    if op == "notexist":
        return lambda row: actual(row) in (None, "")
    kind = _kind(name)
    if op in ("in", "notin"):
        if not isinstance(wanted, list):
            raise _QueryError(f"The '{op}' operator requires a list of values.")
        keys = {_comparable(kind, v) for v in wanted}
        if op == "in":
            return lambda row: _comparable_or_none(kind, actual(row)) in keys
        return lambda row: _comparable_or_none(kind, actual(row)) not in keys
    if op in _TEXT_OPS:
        needle = str(wanted).lower()

        def text_test(row: Mapping[str, Any]) -> bool:
            value = actual(row)
            if value is None:
                return False
            text = str(value).lower()
            if op == "contains":
                return needle in text
            return text.startswith(needle) if op == "beginswith" else text.endswith(needle)

        return text_test
    if op not in _COMPARISONS:
        raise _QueryError(f"The operator '{condition.get('op')}' is not supported.")
    right = _comparable(kind, wanted)
    test = _ORDER_TESTS[op]

    def compare(row: Mapping[str, Any]) -> bool:
        value = actual(row)
        if value is None:
            return op == "noteq" and wanted is not None
        left = _comparable(kind, value)
        return test((left > right) - (left < right))

    return compare


_ORDER_TESTS: Mapping[str, Callable[[int], bool]] = {
    "eq": lambda order: order == 0,
    "noteq": lambda order: order != 0,
    "gt": lambda order: order > 0,
    "gte": lambda order: order >= 0,
    "lt": lambda order: order < 0,
    "lte": lambda order: order <= 0,
}


def _kind(name: str) -> str:
    if _is_time_field(name):
        return "time"
    if name in _BOOL_FIELDS:
        return "bool"
    if name in _TEXT_FIELDS:
        return "text"
    if name in _NUMBER_FIELDS or name.endswith("ID"):
        return "number"
    return "text"


def _comparable(kind: str, value: Any) -> Any:
    """A stored or filter value in the form a comparison of its field's kind uses."""
    if kind == "time":
        return _canonical_stamp(value) if isinstance(value, str) else _stamp(_time(value))
    if kind == "bool" or isinstance(value, bool):
        return str(value).lower()
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _QueryError(f"The value {value!r} is not a number.") from None
        if not math.isfinite(number):
            raise _QueryError(f"The value {value!r} is not a number.")
        return number
    return str(value).lower()


def _comparable_or_none(kind: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        return _comparable(kind, value)
    except _QueryError:
        return None


def _typed(name: str, value: Any) -> Any:
    """A filter value as the index keys it (numbers for numeric fields)."""
    if _kind(name) == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value


def _time(value: Any) -> datetime:
    """A filter or stored datetime; Autotask reads one without an offset as UTC."""
    text = str(value).strip()
    clock_part = text[10:]
    naive = not text.endswith(("Z", "z")) and "+" not in clock_part and "-" not in clock_part
    if len(text) >= 16 and text[4] == "-" and text[10] == "T" and naive:
        text += "Z"
    try:
        parsed = parse_iso(text)
    except BadPayload:
        parsed = None
    if parsed is None:
        raise _QueryError(f"The value {str(value)[:40]!r} is not a valid datetime.")
    return parsed


EMULATOR = AutotaskEmulator

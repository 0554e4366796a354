"""A Salesforce Service Cloud org's REST API on loopback: cases, milestones, comments, e-mails.

What it speaks, and where each piece comes from (``[D]`` Salesforce's own
documentation, read for this emulator; ``[C]`` a real captured answer in
``tests/connectors/captures/salesforce-*.json``; ``[U]`` assumed, not
confirmed against documentation or a live org):

* **OAuth 2.0 client credentials** [D]: ``POST /services/oauth2/token``,
  form-encoded ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``; the answer carries ``access_token``, ``signature``,
  ``instance_url``, ``id``, ``token_type``, ``issued_at`` (milliseconds as a
  string) [C: ``salesforce-oauth-token.json``] and no refresh token.
  ``expires_in`` is not sent [U: the samples have none]; a token lives
  ``session_seconds`` (the org's session timeout, 2 hours by default [D])
  and then every call answers 401 ``INVALID_SESSION_ID``. Refusals are the
  OAuth shape ``{"error", "error_description"}`` with 400
  (``invalid_client``, ``unsupported_grant_type``) [C: restforce fixture;
  the exact descriptions are U].
* **REST under ``/services/data/vNN.N``** (versions 31.0 to 66.0), Bearer
  token. Every answer there carries ``Sforce-Limit-Info: api-usage=n/max``
  for a rolling 24 hours [D]; at the allocation every call answers 403
  ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded." [D for the
  code and status; message text C]. No ``Retry-After`` is sent [U].
  Errors are a JSON array of ``{"message", "errorCode"[, "fields"]}`` [D, C:
  ``salesforce-error-invalid-field.json``].
* **Query** [D]: ``GET …/query?q=SOQL`` (the subset in
  :mod:`connectors.emulators._salesforce_soql`) answers ``{totalSize, done,
  nextRecordsUrl?, records}``; records lead with ``attributes {type, url}``,
  relationship fields (``Owner.Name``) come as nested objects with their own
  ``attributes`` or ``null`` [C: ``salesforce-casemilestone-query.json``].
  Batches are ``Sforce-Query-Options: batchSize`` (200..2,000, default
  2,000 [D]) capped by the emulator's ``page_size``, so a batch can be
  smaller than asked, as the docs warn. ``nextRecordsUrl`` is
  ``/services/data/vNN.N/query/01g…-{offset}`` [D]; the emulator keeps the
  latest 50 locators per org, and an older one answers 400
  ``INVALID_QUERY_LOCATOR`` [U: code as the SOAP API names it; the REST
  status and the locator lifetime are not documented where we read].
  ``FIELDS(ALL)`` needs ``LIMIT`` ≤ 200, else ``MALFORMED_QUERY`` [C].
  An unknown field is 400 ``INVALID_FIELD``, an unknown object 400
  ``INVALID_TYPE`` [D codes; message wording U]. Text comparisons ignore
  case; ``OwnerId`` is a user (``005``) or queue (``00G``) [D: Name object],
  and ``Owner`` renders the owner's ``attributes.type`` as ``User`` or
  ``Group`` [U].
* **getDeleted** [D]: ``GET …/sobjects/Case/deleted/?start=&end=`` answers
  ``{deletedRecords [{id, deletedDate}], earliestDateAvailable,
  latestDateCovered}`` [C: ``salesforce-getdeleted.json``]; seconds are
  ignored (minute-aligned ``latestDateCovered``) [C]; a ``start`` older than
  15 days is refused with 400 ``INVALID_REPLICATION_DATE`` [U: code].
  :meth:`SalesforceEmulator.purge_delete_log` stands for the log's purge.
* **Writes** [D]: ``POST …/sobjects/CaseComment`` and ``…/sobjects/Case``
  answer 201 ``{"id", "success", "errors"}``; ``PATCH …/sobjects/Case/{Id}``
  answers 204; the upsert ``PATCH …/sobjects/Case/{ExternalIdField}/{value}``
  answers 201 with ``"created": true`` when it creates and 200 with
  ``"created": false`` when it updates one match [D for created/updated and
  300 for several matches; the 200 body is U]; ``GET`` on the same resource
  reads the case by external id (404 ``NOT_FOUND`` when none, 300 with the
  matching record URLs when several). Status and Priority are restricted
  picklists (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``), ``OwnerId`` must
  name an active user or a queue (``INVALID_CROSS_REFERENCE_KEY``), read-only
  fields answer ``INVALID_FIELD_FOR_INSERT_UPDATE``, an external-id field in
  an upsert body is refused [D]; error wording is U. A comment does not
  touch its case's ``SystemModstamp`` [U: the connector reads comments by
  their own stamp either way]. Changing ``Status`` sets ``IsClosed`` and
  ``ClosedDate`` from the org's CaseStatus setup [D].
* **CaseMilestone** rows carry the keys of the captured sandbox answer,
  with ``TimeRemainingInMins`` as ``"mm:ss"``, ``…InHrs`` as ``"hh:mm"``,
  ``…InDays`` as a number and the elapsed fields null while open [C]; the
  elapsed values of a completed milestone are numbers [U].

Picklists of this org: Status New, Working, Escalated, On Hold, Closed
(only Closed is closed); Priority Critical, High, Medium, Low. Its
entitlement process gives every case a "Resolution Time" milestone (target
4/8/24/72 hours by priority, or the world ticket's ``due_at``) and, when the
world ticket says when it was first answered, a "First Response" milestone
(target one hour).

Size. Cases are indexed by ``Id`` (open ones), by ``(SystemModstamp, Id)``
(all, and closed ones), and children by their parent Id, so the queries the
connector sends cost a bisect and a slice however many records the org
holds; other queries scan. A query's matching Ids are taken once, when it is
run, and each batch renders only its own rows.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

from connectors.emulators._salesforce_soql import (
    Comparison,
    Or,
    Query,
    SoqlError,
    conjuncts,
    evaluate,
    literal_time,
    parse,
    wire_time,
)
from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "SalesforceEmulator", "case_safe_id"]

API_VERSION = "66.0"
OLDEST_VERSION = 31.0
DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_LOCATORS = 50
DELETE_LOG_DAYS = 15
EXTERNAL_ID_FIELD = "Paneglass_Ref__c"
TOKEN_PATH = "/services/oauth2/token"

STATUSES: Mapping[str, bool] = {
    "New": False,
    "Working": False,
    "Escalated": False,
    "On Hold": False,
    "Closed": True,
}
"""The org's CaseStatus picklist: value → IsClosed."""
PRIORITIES = ("Critical", "High", "Medium", "Low")
STATUS_FOR: Mapping[TicketStatus, str] = {
    TicketStatus.NEW: "New",
    TicketStatus.OPEN: "Working",
    TicketStatus.PENDING: "On Hold",
    TicketStatus.RESOLVED: "Closed",
    TicketStatus.CLOSED: "Closed",
}
PRIORITY_FOR: Mapping[Priority, str] = {
    Priority.P1: "Critical",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Low",
}

RESOLUTION_TARGET: Mapping[Priority | None, timedelta] = {
    Priority.P1: timedelta(hours=4),
    Priority.P2: timedelta(hours=8),
    Priority.P3: timedelta(hours=24),
    Priority.P4: timedelta(hours=72),
    Priority.P5: timedelta(hours=72),
    None: timedelta(hours=72),
}
"""The org's entitlement process: every case gets a "Resolution Time" milestone with this
target (a world ticket's own ``due_at`` wins)."""

PREFIX = {
    "Case": "500",
    "CaseComment": "00a",
    "EmailMessage": "02s",
    "CaseMilestone": "5kd",
    "MilestoneType": "557",
    "User": "005",
    "Group": "00G",
    "Contact": "003",
    "Account": "001",
    "Asset": "02i",
    "BusinessHours": "01m",
    "CaseStatus": "01J",
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def case_safe_id(id15: str) -> str:
    """The 18-character form of a 15-character Id (Salesforce's case-safe suffix)."""
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _SUFFIX[bits]
    return id15 + suffix


# Field types: id, ref (an Id of another record), text, bool, time, int, float.
SCHEMA: Mapping[str, Mapping[str, str]] = {
    "Case": {
        "Id": "id",
        "IsDeleted": "bool",
        "CaseNumber": "text",
        "ContactId": "ref",
        "AccountId": "ref",
        "AssetId": "ref",
        "ParentId": "ref",
        "SuppliedName": "text",
        "SuppliedEmail": "text",
        "SuppliedPhone": "text",
        "SuppliedCompany": "text",
        "Type": "text",
        "Status": "text",
        "Reason": "text",
        "Origin": "text",
        "Subject": "text",
        "Priority": "text",
        "Description": "text",
        "IsClosed": "bool",
        "ClosedDate": "time",
        "IsEscalated": "bool",
        "OwnerId": "ref",
        "CreatedDate": "time",
        "CreatedById": "ref",
        "LastModifiedDate": "time",
        "LastModifiedById": "ref",
        "SystemModstamp": "time",
        "ContactEmail": "text",
        "BusinessHoursId": "ref",
        EXTERNAL_ID_FIELD: "text",
    },
    "CaseComment": {
        "Id": "id",
        "ParentId": "ref",
        "IsPublished": "bool",
        "CommentBody": "text",
        "CreatedById": "ref",
        "CreatedDate": "time",
        "SystemModstamp": "time",
        "LastModifiedDate": "time",
        "LastModifiedById": "ref",
        "IsDeleted": "bool",
    },
    "EmailMessage": {
        "Id": "id",
        "ParentId": "ref",
        "CreatedById": "ref",
        "CreatedDate": "time",
        "LastModifiedDate": "time",
        "SystemModstamp": "time",
        "TextBody": "text",
        "HtmlBody": "text",
        "Subject": "text",
        "FromName": "text",
        "FromAddress": "text",
        "ToAddress": "text",
        "CcAddress": "text",
        "Incoming": "bool",
        "HasAttachment": "bool",
        "Status": "text",
        "MessageDate": "time",
        "IsDeleted": "bool",
        "MessageIdentifier": "text",
        "IsExternallyVisible": "bool",
    },
    "CaseMilestone": {
        "Id": "id",
        "CaseId": "ref",
        "StartDate": "time",
        "TargetDate": "time",
        "CompletionDate": "time",
        "MilestoneTypeId": "ref",
        "IsCompleted": "bool",
        "IsViolated": "bool",
        "SystemModstamp": "time",
        "CreatedDate": "time",
        "CreatedById": "ref",
        "LastModifiedDate": "time",
        "LastModifiedById": "ref",
        "IsDeleted": "bool",
        "TargetResponseInMins": "int",
        "TargetResponseInHrs": "int",
        "TargetResponseInDays": "int",
        "TimeRemainingInMins": "text",
        "TimeRemainingInHrs": "text",
        "TimeRemainingInDays": "float",
        "ElapsedTimeInMins": "int",
        "ElapsedTimeInHrs": "float",
        "ElapsedTimeInDays": "float",
        "TimeSinceTargetInMins": "text",
        "TimeSinceTargetInHrs": "text",
        "TimeSinceTargetInDays": "float",
        "BusinessHoursId": "ref",
    },
    "MilestoneType": {"Id": "id", "Name": "text"},
    "User": {
        "Id": "id",
        "Name": "text",
        "Email": "text",
        "Username": "text",
        "IsActive": "bool",
    },
    "Group": {"Id": "id", "Name": "text", "Type": "text"},
    "Contact": {"Id": "id", "Name": "text", "Email": "text", "AccountId": "ref"},
    "Account": {"Id": "id", "Name": "text"},
    "Asset": {"Id": "id", "Name": "text"},
    "CaseStatus": {
        "Id": "id",
        "ApiName": "text",
        "MasterLabel": "text",
        "IsClosed": "bool",
        "IsDefault": "bool",
        "SortOrder": "int",
    },
}
RELATIONS: Mapping[str, Mapping[str, tuple[str, tuple[str, ...]]]] = {
    "Case": {
        "Owner": ("OwnerId", ("User", "Group")),
        "Contact": ("ContactId", ("Contact",)),
        "Account": ("AccountId", ("Account",)),
        "Asset": ("AssetId", ("Asset",)),
        "CreatedBy": ("CreatedById", ("User",)),
        "LastModifiedBy": ("LastModifiedById", ("User",)),
        "Parent": ("ParentId", ("Case",)),
    },
    "CaseComment": {
        "Parent": ("ParentId", ("Case",)),
        "CreatedBy": ("CreatedById", ("User",)),
    },
    "EmailMessage": {
        "Parent": ("ParentId", ("Case",)),
        "CreatedBy": ("CreatedById", ("User",)),
    },
    "CaseMilestone": {
        "Case": ("CaseId", ("Case",)),
        "MilestoneType": ("MilestoneTypeId", ("MilestoneType",)),
    },
    "Contact": {"Account": ("AccountId", ("Account",))},
}
PARENT_FIELD = {"CaseComment": "ParentId", "EmailMessage": "ParentId", "CaseMilestone": "CaseId"}
COMPUTED_MILESTONE = frozenset(
    name for name in SCHEMA["CaseMilestone"] if name.startswith(("TimeRemaining", "TimeSince"))
)
CASE_WRITABLE = frozenset(
    {
        "ContactId",
        "AccountId",
        "AssetId",
        "ParentId",
        "SuppliedName",
        "SuppliedEmail",
        "SuppliedPhone",
        "SuppliedCompany",
        "Type",
        "Status",
        "Reason",
        "Origin",
        "Subject",
        "Priority",
        "Description",
        "IsEscalated",
        "OwnerId",
        "BusinessHoursId",
        EXTERNAL_ID_FIELD,
    }
)
_DATA = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")
_LOCATOR = re.compile(r"^/query(?:All)?/(?P<locator>[A-Za-z0-9]+)-(?P<offset>\d+)/?$")
_SOBJECT = re.compile(r"^/sobjects/(?P<sobject>[A-Za-z_]+)(?:/(?P<a>[^/]+))?(?:/(?P<b>[^/]+))?/?$")

_SESSION = ("INVALID_SESSION_ID", "Session expired or invalid")
_NOT_FOUND = ("NOT_FOUND", "The requested resource does not exist")


def _error(status: int, code: str, message: str, fields: Iterable[str] | None = None) -> Reply:
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = list(fields)
    return Reply(status, [item])


@dataclass
class _Table:
    """One sObject's rows, with the indexes the connector's queries use."""

    name: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_stamp: list[tuple[str, str]] = field(default_factory=list)
    children: dict[str, set[str]] = field(default_factory=dict)
    """Parent Id → child Ids (for tables with a parent field)."""
    open_ids: list[str] = field(default_factory=list)
    """Case only: Ids of open cases, sorted."""
    closed_stamps: list[tuple[str, str]] = field(default_factory=list)
    """Case only: ``(SystemModstamp, Id)`` of closed cases, sorted."""
    bulk: bool = False
    """While loading in bulk the sorted indexes are appended to and sorted once at the end."""

    def index(self, row: dict[str, Any]) -> None:
        rid = row["Id"]
        stamp = row.get("SystemModstamp")
        if stamp:
            self._add(self.by_stamp, (stamp, rid))
        parent = PARENT_FIELD.get(self.name)
        if parent and row.get(parent):
            self.children.setdefault(row[parent], set()).add(rid)
        if self.name == "Case":
            if row.get("IsClosed"):
                self._add(self.closed_stamps, (stamp, rid))
            else:
                self._add(self.open_ids, rid)

    def unindex(self, row: dict[str, Any]) -> None:
        rid = row["Id"]
        stamp = row.get("SystemModstamp")
        if stamp:
            _remove(self.by_stamp, (stamp, rid))
        parent = PARENT_FIELD.get(self.name)
        if parent and row.get(parent):
            self.children.get(row[parent], set()).discard(rid)
        if self.name == "Case":
            if row.get("IsClosed"):
                _remove(self.closed_stamps, (stamp, rid))
            else:
                _remove(self.open_ids, rid)

    def _add(self, items: list[Any], item: Any) -> None:
        if self.bulk:
            items.append(item)
        else:
            bisect.insort(items, item)

    def finish_bulk(self) -> None:
        self.bulk = False
        self.by_stamp.sort()
        self.open_ids.sort()
        self.closed_stamps.sort()


def _remove(items: list[Any], item: Any) -> None:
    at = bisect.bisect_left(items, item)
    if at < len(items) and items[at] == item:
        del items[at]


@dataclass
class _Locator:
    """A query being paged: its Ids (taken when it ran) and how to render them."""

    sobject: str
    fields: list[str]
    ids: list[str]
    total: int
    batch: int


class SalesforceEmulator(TicketEmulator):
    """One Service Cloud org (see the module docstring for what is real and what assumed)."""

    kind: ClassVar[str] = "salesforce"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = DEFAULT_BATCH,
        latency: float = 0.0,
        client_id: str = "3MVG9paneglassEmulatorConsumerKey",
        client_secret: str = "emulator-consumer-secret",
        api_allocation: int = 100_000,
        session_seconds: float = 7200.0,
        entitlements: bool = True,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_allocation = api_allocation
        self.api_used = 0
        """Calls counted against the allocation (tests set it to put the org near its limit)."""
        self.session_seconds = session_seconds
        self.entitlements = entitlements
        """Whether the org's entitlement process gives cases milestones (off: none at all)."""
        self.tokens: dict[str, datetime] = {}
        """Access token → when it was issued."""
        self.token_requests = 0
        self.tables: dict[str, _Table] = {name: _Table(name) for name in SCHEMA}
        self.refs: dict[str, str] = {}
        """World ticket ref → case Id."""
        self.entry_ids: dict[tuple[str, str], tuple[str, str]] = {}
        """(ticket ref, entry ref) → (sObject, Id)."""
        self.delete_log: list[tuple[str, str]] = []
        """(deletedDate wire text, Id) of deleted cases, oldest first."""
        self.earliest_available: datetime = clock() - timedelta(days=DELETE_LOG_DAYS)
        self._locators: OrderedDict[str, _Locator] = OrderedDict()
        self._counter = itertools.count(1)
        self._numbers = itertools.count(1001)
        self._names: dict[tuple[str, str], str] = {}
        """(sObject, Name) → Id, for users, queues, contacts, assets, milestone types."""
        self.run_as = self._named("User", "Integration User", email="integration@acme.example")
        self.business_hours = self._new_id("BusinessHours")
        for order, (name, closed) in enumerate(STATUSES.items(), start=1):
            self._insert(
                "CaseStatus",
                {
                    "ApiName": name,
                    "MasterLabel": name,
                    "IsClosed": closed,
                    "IsDefault": name == "New",
                    "SortOrder": order,
                },
            )

    # -- identity ------------------------------------------------------------------

    def vendor_settings(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "status_values": {"pending": "On Hold"},
            "priority_values": {"P1": "Critical"},
        }

    def expire_tokens(self) -> None:
        """Every issued token stops working (a session timeout, a revoked app)."""
        with self.lock:
            self.tokens.clear()

    def expire_locators(self) -> None:
        """Every open query locator is gone (as after their idle lifetime)."""
        with self.lock:
            self._locators.clear()

    # -- the world -----------------------------------------------------------------

    def _new_id(self, sobject: str) -> str:
        number = next(self._counter)
        digits = ""
        while number or len(digits) < 8:
            number, rest = divmod(number, 62)
            digits = _BASE62[rest] + digits
        return case_safe_id(PREFIX[sobject] + "Dx0" + digits[-9:].rjust(9, "0"))

    def _named(self, sobject: str, name: str, **extra: Any) -> str:
        key = (sobject, name)
        if key not in self._names:
            values: dict[str, Any] = {"Name": name}
            if sobject == "User":
                local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "user"
                values.update(
                    Email=extra.get("email") or f"{local}@acme.example",
                    Username=f"{local}@acme.example.sf",
                    IsActive=True,
                )
            elif sobject == "Group":
                values["Type"] = "Queue"
            elif sobject == "Contact":
                local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "contact"
                values["Email"] = extra.get("email") or f"{local}@customer.example"
            self._names[key] = self._insert(sobject, values)
        return self._names[key]

    def _insert(self, sobject: str, values: dict[str, Any]) -> str:
        rid = values.get("Id") or self._new_id(sobject)
        row = {"Id": rid, **{k: v for k, v in values.items() if k != "Id"}}
        table = self.tables[sobject]
        table.rows[rid] = row
        table.index(row)
        return str(rid)

    def _update(self, sobject: str, rid: str, changes: Mapping[str, Any]) -> None:
        table = self.tables[sobject]
        row = table.rows[rid]
        table.unindex(row)
        row.update(changes)
        table.index(row)

    def _stamp(self, at: datetime | None = None, previous: str | None = None) -> str:
        """A SystemModstamp (second precision) that never goes back for one record."""
        when = (at or self.clock()).astimezone(UTC).replace(microsecond=0)
        text = wire_time(when)
        if previous is not None and text <= previous:
            now = wire_time(self.clock().astimezone(UTC).replace(microsecond=0))
            text = max(now, previous)
        return text

    def put_ticket(self, ticket: WorldTicket) -> str:
        with self.lock:
            return self._put(ticket)

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Load many tickets at once (indexes are sorted once, at the end)."""
        with self.lock:
            for table in self.tables.values():
                table.bulk = True
            try:
                return [self._put(t) for t in tickets]
            finally:
                for table in self.tables.values():
                    table.finish_bulk()

    def _put(self, ticket: WorldTicket) -> str:
        status = STATUS_FOR[ticket.status]
        closed = STATUSES[status]
        owner = (
            self._named("User", ticket.assignee)
            if ticket.assignee
            else self._named("Group", ticket.group)
            if ticket.group
            else self.run_as
        )
        values: dict[str, Any] = {
            "IsDeleted": False,
            "Subject": ticket.title,
            "Description": ticket.description or None,
            "Status": status,
            "Priority": PRIORITY_FOR[ticket.priority] if ticket.priority else None,
            "Origin": "Web",
            "Type": None,
            "Reason": None,
            "IsClosed": closed,
            "IsEscalated": False,
            "OwnerId": owner,
            "ContactId": self._named("Contact", ticket.requester) if ticket.requester else None,
            "AssetId": self._named("Asset", ticket.asset) if ticket.asset else None,
            "AccountId": None,
            "ParentId": None,
            "SuppliedName": None,
            "SuppliedEmail": None,
            "SuppliedPhone": None,
            "SuppliedCompany": None,
            "BusinessHoursId": self.business_hours,
            "CreatedDate": wire_time(ticket.created_at.replace(microsecond=0)),
            "CreatedById": self.run_as,
            "LastModifiedById": self.run_as,
            EXTERNAL_ID_FIELD: None,
        }
        if ticket.requester:
            values["ContactEmail"] = self.tables["Contact"].rows[values["ContactId"]]["Email"]
        else:
            values["ContactEmail"] = None
        case_id = self.refs.get(ticket.ref)
        table = self.tables["Case"]
        previous = table.rows[case_id]["SystemModstamp"] if case_id in table.rows else None
        stamp = self._stamp(ticket.updated_at, previous)
        values["SystemModstamp"] = values["LastModifiedDate"] = stamp
        closed_at = ticket.resolved_at or ticket.updated_at
        values["ClosedDate"] = wire_time(closed_at.replace(microsecond=0)) if closed else None
        if case_id is None or case_id not in table.rows:
            values["CaseNumber"] = f"{next(self._numbers):08d}"
            case_id = self._insert("Case", values)
            self.refs[ticket.ref] = case_id
        else:
            self._update("Case", case_id, values)
        if self.entitlements:
            self._put_milestones(case_id, ticket, stamp)
        return str(table.rows[case_id]["CaseNumber"])

    def _put_milestones(self, case_id: str, ticket: WorldTicket, stamp: str) -> None:
        table = self.tables["CaseMilestone"]
        existing = {
            self.tables["MilestoneType"].rows[table.rows[m]["MilestoneTypeId"]]["Name"]: m
            for m in table.children.get(case_id, set())
        }
        created = ticket.created_at.replace(microsecond=0)
        wanted: list[tuple[str, datetime, datetime | None, bool]] = []
        if ticket.first_response_at is not None:
            target = created + timedelta(hours=1)
            late = ticket.first_response_at > target
            wanted.append(("First Response", target, ticket.first_response_at, late))
        done = None
        if not ticket.status.is_active:
            done = ticket.resolved_at or ticket.updated_at
        due = ticket.due_at or created + RESOLUTION_TARGET[ticket.priority]
        # Without the world's word, what the entitlement process would have decided by now.
        late = (done or self.clock()) > due
        wanted.append(
            ("Resolution Time", due, done, late if ticket.breached is None else ticket.breached)
        )
        for name, target, done, violated in wanted:
            minutes = max(int((target - created).total_seconds() // 60), 0)
            values = {
                "CaseId": case_id,
                "StartDate": wire_time(created),
                "TargetDate": wire_time(target.replace(microsecond=0)),
                "CompletionDate": wire_time(done.replace(microsecond=0)) if done else None,
                "MilestoneTypeId": self._named("MilestoneType", name),
                "IsCompleted": done is not None,
                "IsViolated": violated,
                "SystemModstamp": stamp,
                "CreatedDate": wire_time(created),
                "CreatedById": self.run_as,
                "LastModifiedDate": stamp,
                "LastModifiedById": self.run_as,
                "IsDeleted": False,
                "TargetResponseInMins": minutes,
                "TargetResponseInHrs": minutes // 60,
                "TargetResponseInDays": minutes // 1440,
                "BusinessHoursId": self.business_hours,
            }
            if name in existing:
                row = table.rows[existing[name]]
                same = all(
                    row.get(k) == v
                    for k, v in values.items()
                    if k not in ("SystemModstamp", "LastModifiedDate")
                )
                if not same:
                    self._update("CaseMilestone", existing[name], values)
            else:
                self._insert("CaseMilestone", values)

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        with self.lock:
            case_id = self.refs[ticket_ref]
            case = self.tables["Case"].rows[case_id]
            author = self._named("User", entry.author)
            at = wire_time(entry.at.replace(microsecond=0))
            stamp = self._stamp()  # the moment it is written, whatever its CreatedDate
            key = (ticket_ref, entry.ref)
            if entry.html is not None:
                values: dict[str, Any] = {
                    "ParentId": case_id,
                    "Subject": f"Re: {case['Subject']}",
                    "FromName": entry.author,
                    "FromAddress": self.tables["User"].rows[author]["Email"],
                    "ToAddress": "support@acme.example",
                    "CcAddress": None,
                    "Incoming": entry.visibility == "public",
                    "HtmlBody": entry.html,
                    "TextBody": entry.text,
                    "HasAttachment": bool(entry.attachments),
                    "Status": "0" if entry.visibility == "public" else "3",
                    "MessageDate": at,
                    "CreatedDate": at,
                    "CreatedById": author,
                    "LastModifiedDate": stamp,
                    "LastModifiedById": author,
                    "SystemModstamp": stamp,
                    "IsDeleted": False,
                    "MessageIdentifier": f"<{secrets.token_hex(8)}@mail.acme.example>",
                    "IsExternallyVisible": True,
                }
                sobject = "EmailMessage"
            else:
                values = {
                    "ParentId": case_id,
                    "IsPublished": entry.visibility == "public",
                    "CommentBody": entry.text,
                    "CreatedById": author,
                    "CreatedDate": at,
                    "SystemModstamp": stamp,
                    "LastModifiedDate": stamp,
                    "LastModifiedById": author,
                    "IsDeleted": False,
                }
                sobject = "CaseComment"
            if key in self.entry_ids:
                old_object, old_id = self.entry_ids[key]
                self._delete(old_object, old_id)
            rid = self._insert(sobject, values)
            self.entry_ids[key] = (sobject, rid)
            return rid

    def case_id(self, ref: str) -> str:
        """The case Id of a world ticket."""
        with self.lock:
            return self.refs[ref]

    def case(self, ref_or_id: str) -> dict[str, Any]:
        """A copy of a case's native row (by world ref or Id)."""
        with self.lock:
            rid = self.refs.get(ref_or_id, ref_or_id)
            return dict(self.tables["Case"].rows[rid])

    def delete_ticket(self, ref: str, at: datetime | None = None) -> str:
        """Delete a case (to the recycle bin): queries stop returning it, getDeleted lists it."""
        with self.lock:
            case_id = self.refs.pop(ref)
            for sobject in PARENT_FIELD:
                for child in list(self.tables[sobject].children.get(case_id, ())):
                    self._delete(sobject, child)
            self._delete("Case", case_id)
            when = wire_time((at or self.clock()).replace(microsecond=0))
            bisect.insort(self.delete_log, (when, case_id))
            return case_id

    def _delete(self, sobject: str, rid: str) -> None:
        table = self.tables[sobject]
        row = table.rows.pop(rid, None)
        if row is not None:
            table.unindex(row)

    def purge_delete_log(self, before: datetime) -> None:
        """Drop delete-log entries older than ``before`` (Salesforce's purge of a large log)."""
        with self.lock:
            cut = wire_time(before)
            self.delete_log = [(w, i) for w, i in self.delete_log if w >= cut]
            self.earliest_available = max(self.earliest_available, before)

    # -- routing -------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        if request.path == TOKEN_PATH:
            if request.method != "POST":
                return Reply(
                    405, {"error": "invalid_request", "error_description": "must use HTTP POST"}
                )
            return self._token(request)
        if request.path in ("/services/data", "/services/data/"):
            return Reply(
                200,
                [
                    {
                        "label": "Spring '26",
                        "url": f"/services/data/v{API_VERSION}",
                        "version": API_VERSION,
                    }
                ],
            )
        match = _DATA.match(request.path)
        if match is None:
            return _error(404, *_NOT_FOUND)
        version = match["version"]
        if not OLDEST_VERSION <= float(version) <= float(API_VERSION):
            return _error(404, *_NOT_FOUND)
        if not self._authorized(request):
            return _error(401, *_SESSION)
        if self.api_used >= self.api_allocation:
            reply = _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        else:
            self.api_used += 1
            reply = self._rest(request, version, match["rest"] or "/")
        reply.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_allocation}"
        return reply

    def _token(self, request: Request) -> Reply:
        self.token_requests += 1
        form = {k: v[0] for k, v in _form(request.body).items()}
        if form.get("grant_type") != "client_credentials":
            return Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
            )
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return Reply(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        token = f"00Dx0000000BV7z!{secrets.token_urlsafe(40)}"
        issued = self.clock()
        self.tokens[token] = issued
        base = f"http://{request.headers.get('host', '127.0.0.1')}"
        return Reply(
            200,
            {
                "access_token": token,
                "signature": secrets.token_urlsafe(32),
                "token_format": "opaque",
                "instance_url": base,
                "id": f"{base}/id/00Dx0000000BV7zEAG/{self.run_as}",
                "token_type": "Bearer",
                "issued_at": str(int(issued.timestamp() * 1000)),
            },
        )

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        issued = self.tokens.get(header.removeprefix("Bearer ").strip())
        if issued is None:
            return False
        if (self.clock() - issued).total_seconds() > self.session_seconds:
            del self.tokens[header.removeprefix("Bearer ").strip()]
            return False
        return True

    def _rest(self, request: Request, version: str, rest: str) -> Reply:
        if rest.rstrip("/") in ("/query", "/queryAll"):
            if request.method != "GET":
                return _error(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. Allowed are GET",
                )
            return self._query(request, version)
        locator = _LOCATOR.match(rest)
        if locator is not None:
            return self._more(version, locator["locator"], int(locator["offset"]))
        match = _SOBJECT.match(rest)
        if match is None:
            return _error(404, *_NOT_FOUND)
        sobject, a, b = match["sobject"], match["a"], match["b"]
        if sobject not in SCHEMA:
            return _error(404, *_NOT_FOUND)
        if a == "deleted" and b is None and request.method == "GET":
            return self._get_deleted(request, sobject)
        if a is None:
            if request.method == "POST":
                return self._create(request, sobject)
            return _error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are GET,POST",
            )
        if b is None:
            return self._one(request, version, sobject, unquote(a))
        return self._by_external_id(request, version, sobject, a, unquote(b))

    # -- query ---------------------------------------------------------------------

    def _query(self, request: Request, version: str) -> Reply:
        soql = request.param("q")
        if not soql:
            return _error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse(soql)
            sobject = self._sobject(query.sobject)
            fields = self._selected(query, sobject)
            ids = self._run(query, sobject)
        except SoqlError as exc:
            return _error(400, exc.code, exc.message)
        if query.count:
            return Reply(200, {"totalSize": len(ids), "done": True, "records": []})
        batch = DEFAULT_BATCH
        options = request.headers.get("sforce-query-options", "")
        asked = re.search(r"batchSize=(\d+)", options)
        if asked:
            batch = min(max(int(asked[1]), MIN_BATCH), DEFAULT_BATCH)
        batch = min(batch, self.page_size)
        name = "01g" + secrets.token_hex(8)[:12] + "AAA"
        self._locators[name] = _Locator(sobject, fields, ids, len(ids), batch)
        while len(self._locators) > MAX_LOCATORS:
            self._locators.popitem(last=False)
        return self._page(version, name, 0)

    def _more(self, version: str, name: str, offset: int) -> Reply:
        if name not in self._locators:
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(version, name, offset)

    def _page(self, version: str, name: str, offset: int) -> Reply:
        locator = self._locators[name]
        batch = locator.batch
        chosen = locator.ids[offset : offset + batch]
        table = self.tables[locator.sobject]
        records = [
            self._render(locator.sobject, table.rows[rid], locator.fields, version)
            for rid in chosen
            if rid in table.rows
        ]
        done = offset + batch >= len(locator.ids)
        body: dict[str, Any] = {"totalSize": locator.total, "done": done}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{name}-{offset + batch}"
        else:
            self._locators.pop(name, None)
        body["records"] = records
        return Reply(200, body)

    def _sobject(self, name: str) -> str:
        for known in SCHEMA:
            if known.lower() == name.lower():
                return known
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name.",
        )

    def _selected(self, query: Query, sobject: str) -> list[str]:
        fields: list[str] = []
        if query.all_fields:
            if query.limit is None or query.limit > 200:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    "The SOQL FIELDS function must have a LIMIT of at most 200",
                )
            fields += list(SCHEMA[sobject])
        for path in query.fields:
            fields.append(self._field_name(sobject, path))
        for path, _desc in query.order:
            self._field_name(sobject, path)
        return list(dict.fromkeys(fields))

    def _field_name(self, sobject: str, path: str) -> str:
        """The path with the schema's spelling, or INVALID_FIELD."""
        parts = path.split(".")
        if len(parts) == 1:
            for known in SCHEMA[sobject]:
                if known.lower() == path.lower():
                    return known
        elif len(parts) == 2:
            for relation, (_ref, targets) in RELATIONS.get(sobject, {}).items():
                if relation.lower() == parts[0].lower():
                    for known in SCHEMA[targets[0]]:
                        if known.lower() == parts[1].lower():
                            return f"{relation}.{known}"
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{path}' on entity '{sobject}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name.",
        )

    def _resolver(self, sobject: str, row: Mapping[str, Any]) -> Callable[[str], Any]:
        def resolve(path: str) -> Any:
            name = self._field_name(sobject, path)
            if "." not in name:
                return self._value(sobject, row, name)
            relation, attribute = name.split(".")
            target = self._related(sobject, row, relation)
            return None if target is None else target[1].get(attribute)

        return resolve

    def _related(
        self, sobject: str, row: Mapping[str, Any], relation: str
    ) -> tuple[str, dict[str, Any]] | None:
        ref, targets = RELATIONS[sobject][relation]
        rid = row.get(ref)
        if not rid:
            return None
        for target in targets:
            found = self.tables[target].rows.get(rid)
            if found is not None:
                return target, found
        return None

    def _value(self, sobject: str, row: Mapping[str, Any], name: str) -> Any:
        if sobject == "CaseMilestone" and name in COMPUTED_MILESTONE:
            return self._milestone_clock(row)[name]
        if sobject == "CaseMilestone" and name.startswith("ElapsedTime"):
            return self._elapsed(row, name)
        return row.get(name)

    def _run(self, query: Query, sobject: str) -> list[str]:
        """The Ids a query matches, in its order (indexes first, then a scan)."""
        table = self.tables[sobject]
        terms = conjuncts(query.where)
        for term in terms:  # every path must exist, even in terms an index answers
            for path in _paths(term):
                self._field_name(sobject, path)
        order = [(self._field_name(sobject, p), d) for p, d in query.order]
        ids_fields = frozenset(
            name for name, kind in SCHEMA[sobject].items() if kind in ("id", "ref")
        )
        candidates, rest, ordered = self._plan(sobject, table, terms, order)
        if rest:
            candidates = [
                rid
                for rid in candidates
                if all(
                    evaluate(t, self._resolver(sobject, table.rows[rid]), ids_fields) for t in rest
                )
            ]
        if not ordered and order:
            for path, descending in reversed(order):

                def key(rid: str, path: str = path) -> tuple[int, Any]:
                    return _sort_key(self._resolver(sobject, table.rows[rid])(path))

                candidates.sort(key=key, reverse=descending)
        if query.limit is not None:
            candidates = candidates[: query.limit]
        return candidates

    def _plan(
        self,
        sobject: str,
        table: _Table,
        terms: list[Any],
        order: list[tuple[str, bool]],
    ) -> tuple[list[str], list[Any], bool]:
        """``(candidate Ids, terms still to check, already in query order)``."""
        rest = list(terms)

        def take(predicate: Callable[[Any], bool]) -> Any:
            for term in rest:
                if predicate(term):
                    rest.remove(term)
                    return term
            return None

        by_id = take(lambda t: isinstance(t, Comparison) and t.path == "Id" and t.op in ("=", "IN"))
        if by_id is not None:
            values = by_id.value if by_id.op == "IN" else (by_id.value,)
            found = [v for v in dict.fromkeys(values) if isinstance(v, str) and v in table.rows]
            return sorted(found), rest, False
        parent = PARENT_FIELD.get(sobject)
        by_parent = take(
            lambda t: isinstance(t, Comparison) and t.path == parent and t.op in ("=", "IN")
        )
        if by_parent is not None:
            values = by_parent.value if by_parent.op == "IN" else (by_parent.value,)
            found_children: set[str] = set()
            for value in values:
                if isinstance(value, str):
                    found_children |= table.children.get(value, set())
            return sorted(found_children), rest, False
        descending = any(d for _p, d in order)
        keys = [p for p, _d in order]
        if keys == ["SystemModstamp", "Id"] and not descending:
            stamps = table.by_stamp
            if sobject == "Case":
                closed = take(lambda t: _is_flag(t, "IsClosed", True))
                if closed is not None:
                    stamps = table.closed_stamps
            low: tuple[str, str] = ("", "")
            floor = take(
                lambda t: (
                    isinstance(t, Comparison)
                    and t.path == "SystemModstamp"
                    and t.op in (">=", ">")
                    and literal_time(t.value) is not None
                )
            )
            if floor is not None:
                wire = literal_time(floor.value) or ""
                low = (wire, "") if floor.op == ">=" else (wire, "\uffff")
            keyset = take(_is_keyset)
            if keyset is not None:
                stamp, after = _keyset_values(keyset)
                low = max(low, (stamp, after + "\x00"))
            start = bisect.bisect_left(stamps, low)
            return [rid for _s, rid in stamps[start:]], rest, True
        if keys == ["Id"] and not descending and sobject == "Case":
            opened = take(lambda t: _is_flag(t, "IsClosed", False))
            if opened is not None:
                ids = table.open_ids
                after = take(
                    lambda t: (
                        isinstance(t, Comparison)
                        and t.path == "Id"
                        and t.op == ">"
                        and isinstance(t.value, str)
                    )
                )
                start = bisect.bisect_right(ids, after.value) if after is not None else 0
                return ids[start:], rest, True
        return list(table.rows), rest, False

    # -- rendering -----------------------------------------------------------------

    def _render(
        self, sobject: str, row: Mapping[str, Any], fields: list[str], version: str
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{row['Id']}",
            }
        }
        for name in fields:
            if "." not in name:
                record[name] = self._value(sobject, row, name)
                continue
            relation, attribute = name.split(".")
            target = self._related(sobject, row, relation)
            if target is None:
                record[relation] = None
                continue
            kind, related = target
            nested = record.get(relation)
            if not isinstance(nested, dict):
                nested = {
                    "attributes": {
                        "type": kind,
                        "url": f"/services/data/v{version}/sobjects/{kind}/{related['Id']}",
                    }
                }
                record[relation] = nested
            nested[attribute] = related.get(attribute)
        return record

    def _milestone_clock(self, row: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock().astimezone(UTC)
        target = datetime.fromisoformat(str(row["TargetDate"]).replace("+0000", "+00:00"))
        left = (target - now).total_seconds() if not row.get("IsCompleted") else 0.0
        remaining, since = max(left, 0.0), max(-left, 0.0)

        def mins(seconds: float) -> str:
            return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"

        def hours(seconds: float) -> str:
            return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"

        return {
            "TimeRemainingInMins": mins(remaining),
            "TimeRemainingInHrs": hours(remaining),
            "TimeRemainingInDays": remaining / 86400,
            "TimeSinceTargetInMins": mins(since),
            "TimeSinceTargetInHrs": hours(since),
            "TimeSinceTargetInDays": since / 86400 if since else 0,
        }

    def _elapsed(self, row: Mapping[str, Any], name: str) -> Any:
        if not row.get("CompletionDate"):
            return None
        start = datetime.fromisoformat(str(row["StartDate"]).replace("+0000", "+00:00"))
        done = datetime.fromisoformat(str(row["CompletionDate"]).replace("+0000", "+00:00"))
        seconds = max((done - start).total_seconds(), 0.0)
        if name.endswith("Mins"):
            return int(seconds // 60)
        if name.endswith("Hrs"):
            return round(seconds / 3600, 2)
        return round(seconds / 86400, 2)

    # -- sObject rows --------------------------------------------------------------

    def _one(self, request: Request, version: str, sobject: str, rid: str) -> Reply:
        table = self.tables[sobject]
        row = table.rows.get(rid) or next(
            (r for k, r in table.rows.items() if k[:15] == rid[:15] and len(rid) == 15), None
        )
        if row is None:
            return _error(404, *_NOT_FOUND)
        if request.method == "GET":
            try:
                fields = self._fields_param(request, sobject)
            except SoqlError as exc:
                return _error(400, exc.code, exc.message)
            return Reply(200, self._render(sobject, row, fields, version))
        if request.method == "PATCH" and sobject == "Case":
            return self._patch_case(request, row["Id"])
        if request.method == "DELETE" and sobject == "Case":
            ref = next((r for r, i in self.refs.items() if i == row["Id"]), None)
            if ref is not None:
                self.delete_ticket(ref)
            else:
                self._delete("Case", row["Id"])
            return Reply(204)
        return _error(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{request.method}' not allowed. Allowed are GET,PATCH,DELETE",
        )

    def _fields_param(self, request: Request, sobject: str) -> list[str]:
        wanted = request.param("fields")
        if not wanted:
            return list(SCHEMA[sobject])
        return [self._field_name(sobject, f.strip()) for f in wanted.split(",") if f.strip()]

    def _body(self, request: Request) -> dict[str, Any] | Reply:
        try:
            body = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "JSON_PARSER_ERROR", "Unexpected character in the request body")
        if not isinstance(body, dict):
            return _error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of the sObject")
        return body

    def _check_case_fields(
        self, body: Mapping[str, Any], *, upsert_field: str | None
    ) -> Reply | None:
        for name in body:
            known = next((k for k in SCHEMA["Case"] if k.lower() == name.lower()), None)
            if known is None:
                return _error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Case"
                )
            if known not in CASE_WRITABLE or known == upsert_field:
                return _error(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {known}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [known],
                )
        status = body.get("Status")
        if "Status" in body and status not in STATUSES:
            return _error(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {status}",
                ["Status"],
            )
        priority = body.get("Priority")
        if priority is not None and priority not in PRIORITIES:
            return _error(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Priority: bad value for restricted picklist field: {priority}",
                ["Priority"],
            )
        owner = body.get("OwnerId")
        if "OwnerId" in body:
            user = self.tables["User"].rows.get(owner) if isinstance(owner, str) else None
            queue = self.tables["Group"].rows.get(owner) if isinstance(owner, str) else None
            if (user is None or not user.get("IsActive")) and queue is None:
                return _error(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    ["OwnerId"],
                )
        return None

    def _case_changes(
        self, body: Mapping[str, Any], row: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        changes = {
            next(k for k in SCHEMA["Case"] if k.lower() == n.lower()): v for n, v in body.items()
        }
        previous = row.get("SystemModstamp") if row else None
        stamp = self._stamp(None, previous)
        changes["SystemModstamp"] = changes["LastModifiedDate"] = stamp
        changes["LastModifiedById"] = self.run_as
        status = str(changes.get("Status", row.get("Status") if row else "New") or "New")
        closed = STATUSES.get(status, False)
        changes["IsClosed"] = closed
        if closed and not (row and row.get("IsClosed")):
            changes["ClosedDate"] = stamp
        elif not closed:
            changes["ClosedDate"] = None
        return changes

    def _patch_case(self, request: Request, case_id: str) -> Reply:
        body = self._body(request)
        if isinstance(body, Reply):
            return body
        refused = self._check_case_fields(body, upsert_field=None)
        if refused is not None:
            return refused
        row = self.tables["Case"].rows[case_id]
        self._update("Case", case_id, self._case_changes(body, row))
        return Reply(204)

    def _new_case(self, body: Mapping[str, Any]) -> str:
        values: dict[str, Any] = dict.fromkeys(SCHEMA["Case"])
        values.pop("Id")
        values.update(
            IsDeleted=False,
            Status="New",
            OwnerId=self.run_as,
            CreatedById=self.run_as,
            IsEscalated=False,
            BusinessHoursId=self.business_hours,
            CaseNumber=f"{next(self._numbers):08d}",
        )
        now = wire_time(self.clock().astimezone(UTC).replace(microsecond=0))
        values["CreatedDate"] = now
        values.update(self._case_changes(body, None))
        case_id = self._insert("Case", values)
        self.created.append(case_id)
        return case_id

    def _create(self, request: Request, sobject: str) -> Reply:
        body = self._body(request)
        if isinstance(body, Reply):
            return body
        if sobject == "Case":
            refused = self._check_case_fields(body, upsert_field=None)
            if refused is not None:
                return refused
            return Reply(201, {"id": self._new_case(body), "success": True, "errors": []})
        if sobject == "CaseComment":
            return self._create_comment(body)
        return _error(
            400, "INVALID_TYPE_FOR_OPERATION", f"entity type {sobject} does not support create"
        )

    def _create_comment(self, body: Mapping[str, Any]) -> Reply:
        allowed = {"ParentId", "CommentBody", "IsPublished"}
        for name in body:
            if name not in allowed:
                if name in SCHEMA["CaseComment"]:
                    return _error(
                        400,
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        f"Unable to create/update fields: {name}.",
                        [name],
                    )
                return _error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type CaseComment"
                )
        parent = body.get("ParentId")
        if not isinstance(parent, str) or parent not in self.tables["Case"].rows:
            return _error(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["ParentId"]
            )
        text = body.get("CommentBody")
        if not isinstance(text, str) or not text:
            return _error(
                400,
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [CommentBody]",
                ["CommentBody"],
            )
        if len(text.encode("utf-8")) > 4000:
            return _error(400, "STRING_TOO_LONG", "Body: data value too large", ["CommentBody"])
        published = bool(body.get("IsPublished", False))
        now = self._stamp()
        rid = self._insert(
            "CaseComment",
            {
                "ParentId": parent,
                "IsPublished": published,
                "CommentBody": text,
                "CreatedById": self.run_as,
                "CreatedDate": now,
                "SystemModstamp": now,
                "LastModifiedDate": now,
                "LastModifiedById": self.run_as,
                "IsDeleted": False,
            },
        )
        self.record_comment(parent, text, public=published)
        return Reply(201, {"id": rid, "success": True, "errors": []})

    def _by_external_id(
        self, request: Request, version: str, sobject: str, field_name: str, value: str
    ) -> Reply:
        if sobject != "Case" or field_name != EXTERNAL_ID_FIELD:
            return _error(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        table = self.tables["Case"]
        matches = sorted(rid for rid, row in table.rows.items() if row.get(field_name) == value)
        if request.method == "GET":
            if not matches:
                return _error(404, *_NOT_FOUND)
            if len(matches) > 1:
                return Reply(300, [f"/services/data/v{version}/sobjects/Case/{m}" for m in matches])
            try:
                fields = self._fields_param(request, "Case")
            except SoqlError as exc:
                return _error(400, exc.code, exc.message)
            return Reply(200, self._render("Case", table.rows[matches[0]], fields, version))
        if request.method != "PATCH":
            return _error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are GET,PATCH,DELETE",
            )
        body = self._body(request)
        if isinstance(body, Reply):
            return body
        refused = self._check_case_fields(body, upsert_field=field_name)
        if refused is not None:
            return refused
        if len(matches) > 1:
            return Reply(300, [f"/services/data/v{version}/sobjects/Case/{m}" for m in matches])
        if matches:
            row = table.rows[matches[0]]
            self._update("Case", matches[0], self._case_changes(body, row))
            return Reply(200, {"id": matches[0], "success": True, "errors": [], "created": False})
        case_id = self._new_case({**body, field_name: value})
        return Reply(201, {"id": case_id, "success": True, "errors": [], "created": True})

    # -- getDeleted ----------------------------------------------------------------

    def _get_deleted(self, request: Request, sobject: str) -> Reply:
        if sobject != "Case":
            return Reply(
                200,
                {
                    "deletedRecords": [],
                    "earliestDateAvailable": wire_time(self.earliest_available),
                    "latestDateCovered": wire_time(_minute(self.clock())),
                },
            )
        try:
            start = _param_time(request.param("start"))
            end = _param_time(request.param("end"))
        except ValueError as exc:
            return _error(400, "INVALID_REPLICATION_DATE", str(exc))
        now = self.clock().astimezone(UTC)
        if start < now - timedelta(days=DELETE_LOG_DAYS):
            return _error(
                400, "INVALID_REPLICATION_DATE", "startDate must be within the last 15 days"
            )
        if end <= start:
            return _error(400, "INVALID_REPLICATION_DATE", "EndDate must be after StartDate")
        covered = _minute(min(end, now))
        low, high = wire_time(_minute(start)), wire_time(covered)
        records = [
            {"id": rid, "deletedDate": when} for when, rid in self.delete_log if low <= when < high
        ]
        return Reply(
            200,
            {
                "deletedRecords": records,
                "earliestDateAvailable": wire_time(_minute(self.earliest_available)),
                "latestDateCovered": high,
            },
        )


def _form(body: bytes) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _param_time(value: str | None) -> datetime:
    if not value:
        raise ValueError("start and end are required")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"not a UTC dateTime: {value}")
    return parsed.astimezone(UTC)


def _minute(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def _paths(term: Any) -> list[str]:
    if isinstance(term, Comparison):
        return [term.path]
    parts = getattr(term, "parts", None)
    if parts is not None:
        return [p for part in parts for p in _paths(part)]
    inner = getattr(term, "part", None)
    return _paths(inner) if inner is not None else []


def _is_flag(term: Any, name: str, value: bool) -> bool:
    return (
        isinstance(term, Comparison)
        and term.path == name
        and term.op == "="
        and term.value is value
    )


def _is_keyset(term: Any) -> bool:
    """``SystemModstamp > T OR (SystemModstamp = T AND Id > 'I')``."""
    try:
        _keyset_values(term)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _keyset_values(term: Any) -> tuple[str, str]:
    if not isinstance(term, Or) or len(term.parts) != 2:
        raise ValueError("not a keyset")
    first, second = term.parts
    inner = conjuncts(second)
    if not (
        isinstance(first, Comparison)
        and first.path == "SystemModstamp"
        and first.op == ">"
        and len(inner) == 2
    ):
        raise ValueError("not a keyset")
    equal, after = inner
    stamp = literal_time(first.value)
    if (
        stamp is None
        or not isinstance(equal, Comparison)
        or equal.path != "SystemModstamp"
        or equal.op != "="
        or literal_time(equal.value) != stamp
        or not isinstance(after, Comparison)
        or after.path != "Id"
        or after.op != ">"
        or not isinstance(after.value, str)
    ):
        raise ValueError("not a keyset")
    return stamp, after.value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first (SOQL's default for ascending), then by value."""
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, str(value))


EMULATOR = SalesforceEmulator

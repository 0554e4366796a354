"""A ServiceNow instance's Table API on loopback: incidents, SLAs, journal, attachments.

Records are kept natively (every value a string, ``""`` for empty, raw times
``YYYY-MM-DD HH:MM:SS`` UTC, references as 32-hex sys_ids) and rendered the
way the Table API renders them: ``sysparm_display_value`` ``false`` / ``true``
/ ``all``, reference links unless ``sysparm_exclude_reference_link=true``,
``sysparm_fields`` with dot-walking, offset paging with ``X-Total-Count`` and
a ``Link`` header. Display values are localised (user time zone, day-first
dates) exactly so a client that reads them for logic gets caught.

Rows listed in :attr:`ServiceNowEmulator.hidden_sys_ids` stand for records an
ACL hides: they count against ``sysparm_limit`` and are then dropped from the
page, so pages come back short, or empty, while more rows remain.

Writes (``POST`` to ``incident``, ``PATCH``/``PUT`` of one incident) behave as
an instance with the out-of-box rules does: ``comments``/``work_notes`` go to
the journal (kept in :attr:`comments`), ``sysparm_input_display_value=true``
lets references and choices be given by name, ``priority`` follows impact and
urgency, Resolved/Closed need ``close_code`` + ``close_notes`` and On Hold a
``hold_reason`` (a data policy: 403 "Operation Failed"), closed incidents are
read-only (an ACL), and every write moves ``sys_updated_on`` and
``sys_mod_count`` so the next incremental poll sees it. Unknown fields are
ignored, as the Table API ignores them. An ``assigned_to`` or
``assignment_group`` that names no user or group is refused (the reference
qualifier an assignment field has); other references that match nothing are
left empty, as a lenient instance leaves them.

Conversations live where an instance keeps them: every comment and work
note is a ``sys_journal_field`` row (``name``, ``element_id``, ``element``,
``value``, ``sys_created_on``, ``sys_created_by``, ``sys_tags``, ``sys_id``:
the keys a real row has), whether it came through the API or
:meth:`ServiceNowEmulator.put_entry`; HTML an agent wrote is kept inside
``[code]…[/code]`` as the instance keeps it. Files are ``sys_attachment``
rows (metadata), downloadable at ``/api/now/attachment/{sys_id}/file``.
Adding a journal entry moves the incident's ``sys_updated_on``, as a form
save does; adding a file alone does not.

Size and distance. Each table keeps indexes, so a page costs the same at 100
or 100,000 incidents for the queries the connector sends: incidents are held
in per-``state`` lists sorted by ``sys_id`` and by ``(sys_updated_on,
sys_id)`` (a ``state`` IN/NOT IN term picks lists; ``sys_id>``,
``sys_updated_on>=`` and the keyset group ``sys_updated_on>T^ORsys_id>I``
become one bisect; ``X-Total-Count`` is a sum of list lengths), and
``task_sla.task``, ``sys_journal_field.element_id``,
``sys_attachment.table_sys_id``, ``incident.number`` and
``incident.correlation_id`` are hashed, so an ``IN``/``=`` query touches only
its own rows. Any other query still works, by a full scan as before.
:meth:`ServiceNowEmulator.put_tickets` loads a tenant in bulk (one sort at the
end), and ``latency`` delays every answer outside the lock.

List records carry exactly the keys of the captured real answer
(``servicenow-incidents.json``) when no ``sysparm_fields`` is given, including
that tenant's custom column ``u_custom_field_test``. Deviations, kept on
purpose: duration fields (``business_duration``, ``calendar_duration``) and
journal columns on the incident (``comments``, ``work_notes``,
``comments_and_work_notes``) are plain text (always ``""`` for the journal
columns); references to tables the emulator does not model (``company``,
``location``, ``problem_id``, ``sys_domain`` …) show their value as their
display value.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import heapq
import hmac
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus
from connectors.timestamps import format_servicenow, parse_servicenow

__all__ = ["EMULATOR", "ServiceNowEmulator"]

DEFAULT_LIMIT = 10_000
"""The Table API's default ``sysparm_limit``."""

STATE_LABELS = {
    "1": "New",
    "2": "In Progress",
    "3": "On Hold",
    "6": "Resolved",
    "7": "Closed",
    "8": "Canceled",
}
PRIORITY_LABELS = {
    "1": "1 - Critical",
    "2": "2 - High",
    "3": "3 - Moderate",
    "4": "4 - Low",
    "5": "5 - Planning",
}
IMPACT_LABELS = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
HOLD_REASON_LABELS = {
    "1": "Awaiting Caller",
    "3": "Awaiting Problem",
    "4": "Awaiting Vendor",
    "5": "Awaiting Change",
}
STAGE_LABELS = {
    "in_progress": "In progress",
    "paused": "Paused",
    "completed": "Completed",
    "cancelled": "Cancelled",
}

STATE_CODES = {
    TicketStatus.NEW: "1",
    TicketStatus.OPEN: "2",
    TicketStatus.PENDING: "3",
    TicketStatus.RESOLVED: "6",
    TicketStatus.CLOSED: "7",
}
IMPACT_URGENCY = {
    Priority.P1: ("1", "1"),
    Priority.P2: ("1", "2"),
    Priority.P3: ("2", "2"),
    Priority.P4: ("2", "3"),
    Priority.P5: ("3", "3"),
}
"""Impact and urgency that the out-of-box priority lookup turns into each priority."""

_UNAUTHENTICATED = ("User Not Authenticated", "Required to provide Auth information")
_NO_RECORDS = (
    "No Record found",
    "Records matching query not found. Check query parameter or offered values",
)
_NO_RECORD = ("No Record found", "Record doesn't exist or ACL restricts the record retrieval")
_BAD_JSON = ("Exception while reading request", "The payload is not valid JSON.")
_ACL_UPDATE = ("Operation Failed", "ACL Exception Update Failed due to security constraints")
JOURNAL_FIELDS = {"comments": True, "work_notes": False}
"""Journal fields a write may carry, and whether each is visible to the caller."""
READ_ONLY_FIELDS = frozenset(
    {
        "sys_id",
        "number",
        "sys_class_name",
        "sys_domain",
        "sys_created_on",
        "sys_created_by",
        "sys_updated_on",
        "sys_updated_by",
        "sys_mod_count",
        "incident_state",
    }
)
STRICT_REFERENCES = frozenset({"assigned_to", "assignment_group"})
"""References whose value must name a real record (an assignment to nobody is refused)."""
MANDATORY_BY_STATE = {
    "3": (("hold_reason", "On hold reason"),),
    "6": (("close_code", "Resolution code"), ("close_notes", "Resolution notes")),
    "7": (("close_code", "Resolution code"), ("close_notes", "Resolution notes")),
}
"""The out-of-box data policies on incident state: fields that must not be empty."""
PRIORITY_LOOKUP = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}
"""(impact, urgency) → priority: the out-of-box Priority Lookup rules."""
_TABLE_PATH = re.compile(
    r"^/api/now(?P<version>/v[12])?/table/(?P<table>[A-Za-z0-9_]+)(?:/(?P<sys_id>[^/]+))?/?$"
)
_FILE_PATH = re.compile(r"^/api/now(?:/v1)?/attachment/(?P<sys_id>[^/]+)/file/?$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_TERM = re.compile(
    r"^(?P<field>[a-z_][a-z0-9_.]*)"
    r"(?P<op>ISNOTEMPTY|ISEMPTY|NOT IN|IN|STARTSWITH|ENDSWITH|NOT LIKE|LIKE|>=|<=|!=|=|>|<)"
    r"(?P<value>.*)$",
    re.DOTALL,
)


@dataclass(frozen=True)
class _Field:
    """How one column is typed: plain text, a UTC time, a choice list or a reference."""

    kind: str = "text"
    target: str = ""
    """Referenced table, for ``ref`` fields."""
    labels: Mapping[str, str] | None = None
    """Choice labels, for ``choice`` fields."""


_TEXT = _Field()
_TIME = _Field("time")


def _ref(table: str) -> _Field:
    return _Field("ref", target=table)


def _choice(labels: Mapping[str, str]) -> _Field:
    return _Field("choice", labels=labels)


INCIDENT_SCHEMA: Mapping[str, _Field] = {
    "active": _TEXT,
    "activity_due": _TIME,
    "additional_assignee_list": _TEXT,
    "approval": _TEXT,
    "approval_history": _TEXT,
    "approval_set": _TIME,
    "assigned_to": _ref("sys_user"),
    "assignment_group": _ref("sys_user_group"),
    "business_duration": _TEXT,
    "business_service": _ref("cmdb_ci_service"),
    "business_stc": _TEXT,
    "calendar_duration": _TEXT,
    "calendar_stc": _TEXT,
    "caller_id": _ref("sys_user"),
    "category": _TEXT,
    "caused_by": _ref("change_request"),
    "child_incidents": _TEXT,
    "close_code": _TEXT,
    "close_notes": _TEXT,
    "closed_at": _TIME,
    "closed_by": _ref("sys_user"),
    "cmdb_ci": _ref("cmdb_ci"),
    "comments": _TEXT,
    "comments_and_work_notes": _TEXT,
    "company": _ref("core_company"),
    "contact_type": _TEXT,
    "correlation_display": _TEXT,
    "correlation_id": _TEXT,
    "delivery_plan": _ref("sc_cat_item_delivery_plan"),
    "delivery_task": _ref("sc_cat_item_delivery_task"),
    "description": _TEXT,
    "due_date": _TIME,
    "escalation": _TEXT,
    "expected_start": _TIME,
    "follow_up": _TIME,
    "group_list": _TEXT,
    "hold_reason": _choice(HOLD_REASON_LABELS),
    "impact": _choice(IMPACT_LABELS),
    "incident_state": _choice(STATE_LABELS),
    "knowledge": _TEXT,
    "location": _ref("cmn_location"),
    "made_sla": _TEXT,
    "notify": _TEXT,
    "number": _TEXT,
    "opened_at": _TIME,
    "opened_by": _ref("sys_user"),
    "order": _TEXT,
    "parent": _ref("task"),
    "parent_incident": _ref("incident"),
    "priority": _choice(PRIORITY_LABELS),
    "problem_id": _ref("problem"),
    "reassignment_count": _TEXT,
    "reopen_count": _TEXT,
    "reopened_by": _ref("sys_user"),
    "reopened_time": _TIME,
    "resolved_at": _TIME,
    "resolved_by": _ref("sys_user"),
    "rfc": _ref("change_request"),
    "severity": _TEXT,
    "short_description": _TEXT,
    "sla_due": _TIME,
    "state": _choice(STATE_LABELS),
    "subcategory": _TEXT,
    "sys_class_name": _TEXT,
    "sys_created_by": _TEXT,
    "sys_created_on": _TIME,
    "sys_domain": _ref("sys_domain"),
    "sys_domain_path": _TEXT,
    "sys_id": _TEXT,
    "sys_mod_count": _TEXT,
    "sys_tags": _TEXT,
    "sys_updated_by": _TEXT,
    "sys_updated_on": _TIME,
    "time_worked": _TEXT,
    "u_custom_field_test": _TEXT,
    "upon_approval": _TEXT,
    "upon_reject": _TEXT,
    "urgency": _choice(IMPACT_LABELS),
    "user_input": _TEXT,
    "watch_list": _TEXT,
    "work_end": _TIME,
    "work_notes": _TEXT,
    "work_notes_list": _TEXT,
    "work_start": _TIME,
}
"""Every column of the captured real incident list answer, typed."""

SCHEMAS: Mapping[str, Mapping[str, _Field]] = {
    "incident": INCIDENT_SCHEMA,
    "task_sla": {
        "sys_id": _TEXT,
        "task": _ref("incident"),
        "sla": _ref("contract_sla"),
        "stage": _choice(STAGE_LABELS),
        "active": _TEXT,
        "has_breached": _TEXT,
        "start_time": _TIME,
        "end_time": _TIME,
        "planned_end_time": _TIME,
        "original_breach_time": _TIME,
        "percentage": _TEXT,
        "business_percentage": _TEXT,
        "time_left": _TEXT,
        "business_time_left": _TEXT,
        "sys_created_on": _TIME,
        "sys_updated_on": _TIME,
        "sys_mod_count": _TEXT,
    },
    "sys_journal_field": {
        "sys_id": _TEXT,
        "sys_created_on": _TIME,
        "name": _TEXT,
        "element_id": _TEXT,
        "sys_tags": _TEXT,
        "value": _TEXT,
        "sys_created_by": _TEXT,
        "element": _TEXT,
    },
    "sys_attachment": {
        "sys_id": _TEXT,
        "file_name": _TEXT,
        "content_type": _TEXT,
        "size_bytes": _TEXT,
        "size_compressed": _TEXT,
        "compressed": _TEXT,
        "table_name": _TEXT,
        "table_sys_id": _TEXT,
        "state": _TEXT,
        "hash": _TEXT,
        "chunk_size_bytes": _TEXT,
        "average_image_color": _TEXT,
        "image_width": _TEXT,
        "image_height": _TEXT,
        "sys_tags": _TEXT,
        "sys_domain_path": _TEXT,
        "sys_created_on": _TIME,
        "sys_created_by": _TEXT,
        "sys_updated_on": _TIME,
        "sys_updated_by": _TEXT,
        "sys_mod_count": _TEXT,
    },
    "sys_user": {
        "sys_id": _TEXT,
        "name": _TEXT,
        "user_name": _TEXT,
        "email": _TEXT,
        "active": _TEXT,
        "sys_updated_on": _TIME,
    },
    "sys_user_group": {"sys_id": _TEXT, "name": _TEXT, "active": _TEXT, "sys_updated_on": _TIME},
    "cmdb_ci": {"sys_id": _TEXT, "name": _TEXT, "sys_class_name": _TEXT, "sys_updated_on": _TIME},
    "contract_sla": {"sys_id": _TEXT, "name": _TEXT, "type": _TEXT, "sys_updated_on": _TIME},
}
DISPLAY_FIELDS = {
    "incident": "number",
    "task_sla": "sys_id",
    "sys_journal_field": "sys_id",
    "sys_attachment": "file_name",
    "sys_user": "name",
    "sys_user_group": "name",
    "cmdb_ci": "name",
    "contract_sla": "name",
}
"""The column a reference to each table shows as its display value."""
HASHED: Mapping[str, tuple[str, ...]] = {
    "incident": ("number", "correlation_id"),
    "task_sla": ("task",),
    "sys_journal_field": ("element_id",),
    "sys_attachment": ("table_sys_id",),
}
"""Columns an ``IN``/``=`` query finds rows by without a scan."""
_AFTER = "\x00"
"""Appended to a string: the smallest string greater than it (exclusive bounds)."""


class _Store(dict[str, dict[str, str]]):
    """One table: rows by sys_id (in insertion order) plus the indexes queries use.

    Rows are changed in place by the emulator; every change of ``state``,
    ``sys_updated_on`` or a hashed column is followed by :meth:`touch`.
    Sorted lists are plain lists kept with :mod:`bisect` (an insert is a C
    memmove, microseconds at 100,000 rows).
    """

    def __init__(self, hashed: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.hashed = hashed
        self.by_id: dict[str, list[str]] = {}
        """sys_ids sorted, per ``state`` value (``""`` for tables without one)."""
        self.by_updated: dict[str, list[tuple[str, str]]] = {}
        """``(sys_updated_on, sys_id)`` sorted, per ``state`` value."""
        self.lookup: dict[str, dict[str, set[str]]] = {name: {} for name in hashed}
        """Hashed column → value → sys_ids."""
        self._indexed: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self._deferred = False

    def __setitem__(self, sys_id: str, row: dict[str, str]) -> None:
        super().__setitem__(sys_id, row)
        self.touch(sys_id)

    def keys_of(self, row: Mapping[str, str]) -> tuple[str, str, tuple[str, ...]]:
        return (
            row.get("state", ""),
            row.get("sys_updated_on", ""),
            tuple(row.get(name, "") for name in self.hashed),
        )

    def touch(self, sys_id: str) -> None:
        """Bring the indexes up to date with the row's current values."""
        if self._deferred:
            return
        new = self.keys_of(self[sys_id])
        old = self._indexed.get(sys_id)
        if old == new:
            return
        if old is not None:
            state, updated, hashed = old
            _remove(self.by_id[state], sys_id)
            _remove(self.by_updated[state], (updated, sys_id))
            for name, value in zip(self.hashed, hashed, strict=True):
                self.lookup[name][value].discard(sys_id)
        state, updated, hashed = new
        bisect.insort(self.by_id.setdefault(state, []), sys_id)
        bisect.insort(self.by_updated.setdefault(state, []), (updated, sys_id))
        for name, value in zip(self.hashed, hashed, strict=True):
            self.lookup[name].setdefault(value, set()).add(sys_id)
        self._indexed[sys_id] = new

    def defer(self) -> None:
        """Stop indexing until :meth:`rebuild` (bulk loads)."""
        self._deferred = True

    def rebuild(self) -> None:
        """Every index from scratch: one sort per list."""
        self._deferred = False
        self.by_id, self.by_updated = {}, {}
        self.lookup = {name: {} for name in self.hashed}
        self._indexed = {}
        for sys_id, row in self.items():
            keys = self.keys_of(row)
            state, updated, hashed = keys
            self.by_id.setdefault(state, []).append(sys_id)
            self.by_updated.setdefault(state, []).append((updated, sys_id))
            for name, value in zip(self.hashed, hashed, strict=True):
                self.lookup[name].setdefault(value, set()).add(sys_id)
            self._indexed[sys_id] = keys
        for ids in self.by_id.values():
            ids.sort()
        for keys_list in self.by_updated.values():
            keys_list.sort()


def _from(items: list[Any], start: int) -> Iterator[Any]:
    """``items[start:]`` lazily, without copying or stepping over the first ``start``."""
    return (items[i] for i in range(start, len(items)))


def _remove(items: list[Any], item: Any) -> None:
    at = bisect.bisect_left(items, item)
    if at < len(items) and items[at] == item:
        del items[at]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(value: datetime) -> str:
    return format_servicenow(value)


def _error(status: int, message: str, detail: str | None) -> Reply:
    """The Table API's own error envelope."""
    return Reply(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


def _policy_refusal(labels: list[str]) -> Reply:
    """A data policy's refusal, as the Table API reports it."""
    detail = "Data Policy Exception: \n The following fields are mandatory: " + ", ".join(labels)
    return _error(403, "Operation Failed", detail)


class ServiceNowEmulator(TicketEmulator):
    """One instance with a service account, incidents, SLAs, users, groups and CIs."""

    kind: ClassVar[str] = "servicenow"

    def __init__(
        self,
        *,
        username: str = "svc_paneglass",
        password: str = "demo-password",
        token: str | None = None,
        hidden_sys_ids: Iterable[str] = (),
        user_time_zone: str = "Europe/Berlin",
        first_number: int = 10001,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_LIMIT,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.username = username
        self.password = password
        self.token = token
        self.hidden_sys_ids: set[str] = set(hidden_sys_ids)
        """sys_ids an ACL hides from the service account (see the module docstring)."""
        self.user_zone = ZoneInfo(user_time_zone)
        self._numbers = itertools.count(first_number)
        self._serial = itertools.count(1)
        self._tables: dict[str, _Store] = {name: _Store(HASHED.get(name, ())) for name in SCHEMAS}
        self._ids_by_ref: dict[str, str] = {}
        self._entries_by_ref: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        """(ticket ref, entry ref) to the journal sys_id and attachment sys_ids it made."""
        self._sla_by_incident: dict[str, str] = {}
        self._names: dict[tuple[str, str], str] = {}
        """(table, display name) to sys_id, so each person, group and CI exists once."""

    def __enter__(self) -> ServiceNowEmulator:
        self.start()
        return self

    def start(self) -> str:
        """Serve as the base does, with ``TCP_NODELAY`` on every connection.

        The shared handler writes the headers and the body of an answer in two
        sends; without it, Nagle's algorithm holds the body until the client's
        delayed ACK (about 40 ms on Linux), which would swamp ``latency``.
        """
        url = super().start()
        server = self._server
        if server is not None:
            server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return url

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a ServiceNow connector needs to reach this instance."""
        return {"kind": "servicenow", "username": self.username, "password": self.password}

    # -- mutators --------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the incident for ``ticket.ref`` (and its SLA); return its number."""
        with self.lock:
            return self._put(ticket)

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> int:
        """Load many tickets at once (benchmarks): indexes are built once, at the end."""
        with self.lock:
            stores = (self._tables["incident"], self._tables["task_sla"])
            for store in stores:
                store.defer()
            count = 0
            try:
                for ticket in tickets:
                    self._put(ticket)
                    count += 1
            finally:
                for store in stores:
                    store.rebuild()
            return count

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """A comment, work note or system note (and its files) on ``ticket_ref``'s incident.

        The entry becomes a ``sys_journal_field`` row (HTML inside ``[code]``),
        each file a ``sys_attachment`` row; the incident's ``sys_updated_on``
        moves to the entry's time if that is later, as a form save moves it.
        Putting the same ``entry.ref`` again replaces it. Returns the journal sys_id.
        """
        with self.lock:
            incident_id = self._ids_by_ref[ticket_ref]
            journal = self._tables["sys_journal_field"]
            files = self._tables["sys_attachment"]
            known = self._entries_by_ref.get((ticket_ref, entry.ref))
            if known is not None:
                for file_id in known[1]:
                    files.pop(file_id, None)
                files.rebuild()
            author = "system" if entry.visibility == "system" else self._login(entry.author)
            value = f"[code]{entry.html}[/code]" if entry.html else entry.text
            element = "comments" if entry.visibility == "public" else "work_notes"
            at = _stamp(entry.at)
            sys_id = known[0] if known else self._new_sys_id("sys_journal_field")
            journal[sys_id] = {
                "sys_id": sys_id,
                "sys_created_on": at,
                "name": "incident",
                "element_id": incident_id,
                "sys_tags": "",
                "value": value,
                "sys_created_by": author,
                "element": element,
            }
            file_ids = tuple(
                self._attach(incident_id, item.name, item.content_type, item.size, at, author)
                for item in entry.attachments
            )
            self._entries_by_ref[(ticket_ref, entry.ref)] = (sys_id, file_ids)
            row = self._tables["incident"][incident_id]
            if at > row["sys_updated_on"]:
                row["sys_updated_on"] = at
            row["sys_updated_by"] = author
            row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)
            self._tables["incident"].touch(incident_id)
            return sys_id

    def journal(self, ref: str) -> list[dict[str, str]]:
        """Copies of the incident's journal rows, oldest first."""
        with self.lock:
            incident_id = self._ids_by_ref[ref]
            store = self._tables["sys_journal_field"]
            found = [dict(store[i]) for i in store.lookup["element_id"].get(incident_id, ())]
            return sorted(found, key=lambda r: (r["sys_created_on"], r["sys_id"]))

    def _put(self, ticket: WorldTicket) -> str:
        """``put_ticket`` under the lock already held."""
        incidents = self._tables["incident"]
        sys_id = self._ids_by_ref.get(ticket.ref)
        if sys_id is None:
            sys_id = self._new_sys_id("incident")
            self._ids_by_ref[ticket.ref] = sys_id
            incidents[sys_id] = self._blank_incident(sys_id, ticket.created_at)
            mod_count = 0
        else:
            mod_count = int(incidents[sys_id]["sys_mod_count"]) + 1
        row = incidents[sys_id]
        state = STATE_CODES[ticket.status]
        impact, urgency = IMPACT_URGENCY[ticket.priority] if ticket.priority else ("3", "3")
        assignee = self._named("sys_user", ticket.assignee)
        finished = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        resolved_at = ticket.resolved_at or (ticket.updated_at if finished else None)
        row.update(
            {
                "short_description": ticket.title,
                "description": ticket.description,
                "state": state,
                "incident_state": state,
                "hold_reason": "1" if ticket.status is TicketStatus.PENDING else "",
                "priority": ticket.priority.value[1:] if ticket.priority else "",
                "impact": impact,
                "urgency": urgency,
                "caller_id": self._named("sys_user", ticket.requester),
                "opened_by": self._named("sys_user", ticket.requester),
                "assigned_to": assignee,
                "assignment_group": self._named("sys_user_group", ticket.group),
                "cmdb_ci": self._named("cmdb_ci", ticket.asset),
                "resolved_at": _stamp(resolved_at) if resolved_at and finished else "",
                "resolved_by": assignee if finished else "",
                "closed_at": (
                    _stamp(ticket.updated_at) if ticket.status is TicketStatus.CLOSED else ""
                ),
                "closed_by": assignee if ticket.status is TicketStatus.CLOSED else "",
                "close_code": "Solved (Permanently)" if finished else "",
                "active": "false" if ticket.status is TicketStatus.CLOSED else "true",
                "sys_updated_on": _stamp(ticket.updated_at),
                "sys_updated_by": self.username,
                "sys_mod_count": str(mod_count),
            }
        )
        self._sync_sla(sys_id, ticket)
        incidents.touch(sys_id)
        return row["number"]

    def set_native(self, ref: str, **fields: str) -> None:
        """Change raw incident fields directly (``state="8"``), as an agent in the form would.

        ``sys_updated_on`` becomes the emulator's clock unless given.
        """
        with self.lock:
            row = self._tables["incident"][self._ids_by_ref[ref]]
            unknown = set(fields) - set(row) | ({"sys_id", "number"} & set(fields))
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            row.update({name: str(value) for name, value in fields.items()})
            if "sys_updated_on" not in fields:
                row["sys_updated_on"] = _stamp(self.clock())
            row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)
            self._tables["incident"].touch(row["sys_id"])

    def hide(self, ref: str) -> None:
        """Let an ACL hide this incident from the service account from now on."""
        with self.lock:
            self.hidden_sys_ids.add(self._ids_by_ref[ref])

    def sys_id_of(self, ref: str) -> str:
        """The sys_id of the incident put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def incident(self, ref: str) -> dict[str, str]:
        """A copy of the incident's native (raw) row."""
        with self.lock:
            return dict(self._tables["incident"][self._ids_by_ref[ref]])

    def incident_by_sys_id(self, sys_id: str) -> dict[str, str]:
        """A copy of any incident's native row, including ones created through the API."""
        with self.lock:
            return dict(self._tables["incident"][sys_id])

    def sla_row(self, ref: str) -> dict[str, str] | None:
        """A copy of the incident's ``task_sla`` row, if it has one."""
        with self.lock:
            sla_id = self._sla_by_incident.get(self._ids_by_ref[ref])
            return dict(self._tables["task_sla"][sla_id]) if sla_id else None

    # -- wire format -------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer the Table API the way an instance does (writes: ``incident`` only)."""
        if not self._authorised(request.headers.get("authorization")):
            reply = _error(401, *_UNAUTHENTICATED)
            reply.headers["WWW-Authenticate"] = 'BASIC realm="Service-now"'
            return reply
        download = _FILE_PATH.match(request.path)
        if download is not None and request.method in ("GET", "HEAD"):
            return self._file(download["sys_id"])
        match = _TABLE_PATH.match(request.path)
        if match is None:
            return _error(400, "Requested URI does not represent any resource", None)
        table = match["table"]
        if table not in SCHEMAS:
            return _error(400, f"Invalid table {table}", None)
        if request.method in ("POST", "PATCH", "PUT") and table == "incident":
            return self._write(request, match["sys_id"])
        if request.method not in ("GET", "HEAD"):
            return _error(405, "Method not Supported", f"{request.method} is not supported here")
        if match["sys_id"]:
            return self._single(request, table, match["sys_id"])
        return self._list(request, table, version=match["version"] or "/v1")

    def _single(self, request: Request, table: str, sys_id: str) -> Reply:
        row = self._tables[table].get(sys_id)
        if row is None or sys_id in self.hidden_sys_ids:
            return _error(404, *_NO_RECORD)
        if table == "task_sla":
            self._refresh_sla(row, self.clock())
        return Reply(200, {"result": self._render(request, table, row)})

    def _file(self, sys_id: str) -> Reply:
        """``GET /api/now/attachment/{sys_id}/file``: the bytes (placeholder content)."""
        row = self._tables["sys_attachment"].get(sys_id)
        if row is None or row["table_sys_id"] in self.hidden_sys_ids:
            return _error(404, *_NO_RECORD)
        size = min(int(row["size_bytes"] or 0), 1 << 20)
        return Reply(
            200, raw=b"\0" * size, headers={"Content-Type": row["content_type"] or "text/plain"}
        )

    def _list(self, request: Request, table: str, *, version: str) -> Reply:
        groups, order = _parse_query(request.param("sysparm_query", "") or "")
        groups = [g for g in groups if any(self._spec(table, t.field) for t in g)]
        limit = _non_negative(request.param("sysparm_limit"), DEFAULT_LIMIT) or DEFAULT_LIMIT
        offset = _non_negative(request.param("sysparm_offset"), 0)
        window, total = self._select(table, groups, order, offset, limit)
        if total == 0 and version == "/v1":
            return _error(404, *_NO_RECORDS)
        visible = [r for r in window if r["sys_id"] not in self.hidden_sys_ids]
        headers: dict[str, str] = {}
        if request.param("sysparm_no_count") != "true":
            headers["X-Total-Count"] = str(total)
        if request.param("sysparm_suppress_pagination_header") != "true":
            headers["Link"] = self._links(request, offset, limit, total)
        render = self._renderer(request, table)
        body = {"result": [render(r) for r in visible]}
        return Reply(200, body, headers=headers)

    # -- query planning ----------------------------------------------------------------

    def _select(
        self,
        table: str,
        groups: list[list[_Term]],
        order: list[tuple[str, bool]],
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, str]], int]:
        """The rows ``offset``..``offset+limit`` of a query, and how many match in all.

        An index answers when the query has a shape the connector sends (see
        the module docstring); anything else is a full scan and sort.
        """
        store = self._tables[table]
        found = self._by_hash(table, store, groups, order)
        if found is not None:
            return found[offset : offset + limit], len(found)
        planned = self._by_order(table, store, groups, order, offset, limit)
        if planned is not None:
            return planned
        if table == "task_sla":
            self._refresh_slas()
        rows = [r for r in store.values() if self._matches(table, r, groups)]
        for name, descending in reversed(order):  # stable sorts, last key first
            if self._spec(table, name) is not None:
                keys = {r["sys_id"]: _sort_key(self._value(table, r, name)) for r in rows}
                rows.sort(key=lambda r: keys[r["sys_id"]], reverse=descending)
        return rows[offset : offset + limit], len(rows)

    def _by_hash(
        self, table: str, store: _Store, groups: list[list[_Term]], order: list[tuple[str, bool]]
    ) -> list[dict[str, str]] | None:
        """Rows found through a hashed column's ``IN``/``=`` term, filtered and sorted."""
        for group in groups:
            if len(group) != 1 or group[0].field not in store.lookup:
                continue
            term = group[0]
            if term.op == "IN":
                values = {v.strip() for v in term.value.split(",")}
            elif term.op == "=":
                values = {term.value}
            else:
                continue
            index = store.lookup[term.field]
            ids = set().union(*(index.get(v, set()) for v in values))
            rows = [store[i] for i in ids]
            if table == "task_sla":
                now = self.clock()
                for row in rows:
                    self._refresh_sla(row, now)
            rows = [r for r in rows if self._matches(table, r, groups)]
            rows.sort(key=lambda r: r["sys_id"])
            for name, descending in reversed(order):
                if self._spec(table, name) is not None:
                    keys = {r["sys_id"]: _sort_key(self._value(table, r, name)) for r in rows}
                    rows.sort(key=lambda r: keys[r["sys_id"]], reverse=descending)
            return rows
        return None

    def _by_order(
        self,
        table: str,
        store: _Store,
        groups: list[list[_Term]],
        order: list[tuple[str, bool]],
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, str]], int] | None:
        """Walk a sorted index from a bisected start: ``ORDERBYsys_id`` or by update time."""
        keys = [name for name, descending in order if not descending]
        if len(keys) != len(order):
            return None
        if not keys and not groups:
            window = list(itertools.islice(store.values(), offset, offset + limit))
            return window, len(store)
        if not keys:  # no order asked for: any order will do, so take the useful index
            timed = any(t.field == "sys_updated_on" for group in groups for t in group)
            keys = ["sys_updated_on", "sys_id"] if timed else ["sys_id"]
        if keys == ["sys_id"]:
            lists: Mapping[str, list[Any]] = store.by_id
            by_time = False
        elif keys in (["sys_updated_on"], ["sys_updated_on", "sys_id"]):
            lists = store.by_updated
            by_time = True
        else:
            return None
        states: set[str] = set(lists)
        bound: Any = ("", "") if by_time else ""
        rest: list[list[_Term]] = []
        floors = {
            t.value
            for g in groups
            for t in g
            if len(g) == 1 and t.field == "sys_updated_on" and t.op == ">="
        }
        for group in groups:
            term = group[0]
            if len(group) == 1 and term.field == "state" and term.op in ("IN", "NOT IN", "=", "!="):
                values = (
                    {v.strip() for v in term.value.split(",")} if "IN" in term.op else {term.value}
                )
                keep = term.op in ("IN", "=")
                states = {s for s in states if (s in values) is keep}
                continue
            low = _lower_bound(group, by_time, floors)
            if low is None:
                rest.append(group)
            elif low > bound:
                bound = low
        streams = []
        total = 0
        for state in sorted(states):
            items = lists[state]
            start = bisect.bisect_left(items, bound)
            total += len(items) - start
            streams.append(_from(items, start))
        merged: Iterator[Any] = heapq.merge(*streams)
        ids = (key[1] if by_time else key for key in merged)
        rows: Iterator[dict[str, str]] = (store[i] for i in ids)
        if rest:
            matching = [r for r in rows if self._matches(table, r, rest)]
            return matching[offset : offset + limit], len(matching)
        return list(itertools.islice(rows, offset, offset + limit)), total

    # -- writes ------------------------------------------------------------------------

    def _write(self, request: Request, sys_id: str | None) -> Reply:
        """``POST /incident`` creates; ``PATCH``/``PUT /incident/{sys_id}`` updates."""
        try:
            change = request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, *_BAD_JSON)
        if not isinstance(change, dict):
            return _error(400, *_BAD_JSON)
        display = (request.param("sysparm_input_display_value") or "").lower() == "true"
        if request.method == "POST":
            if sys_id:
                return _error(405, "Method not Supported", "POST takes the table, not a record")
            return self._create(request, change, display=display)
        if not sys_id:
            return _error(405, "Method not Supported", f"{request.method} needs a record sys_id")
        row = self._tables["incident"].get(sys_id)
        if row is None or sys_id in self.hidden_sys_ids:
            return _error(404, *_NO_RECORD)
        if row["state"] == "7":
            return _error(403, *_ACL_UPDATE)
        refused = self._apply(row, change, display=display, inserting=False)
        if refused is not None:
            return refused
        return Reply(200, {"result": self._render(request, "incident", row)})

    def _create(self, request: Request, change: dict[str, Any], *, display: bool) -> Reply:
        now = self.clock()
        sys_id = self._new_sys_id("incident")
        row = self._blank_incident(sys_id, now)
        row.update(
            state="1",
            incident_state="1",
            impact="3",
            urgency="3",
            priority="5",
            active="true",
            sys_updated_on=_stamp(now),
            sys_updated_by=self.username,
            sys_mod_count="-1",  # the write below counts as the first modification
        )
        refused = self._apply(row, change, display=display, inserting=True)
        if refused is not None:
            return refused
        row["opened_by"] = row["caller_id"]
        self._tables["incident"][sys_id] = row
        self.created.append(sys_id)
        self._flush_journal(sys_id, change)
        location = f"{self.base_url}/api/now/table/incident/{sys_id}"
        return Reply(
            201, {"result": self._render(request, "incident", row)}, headers={"Location": location}
        )

    def _apply(
        self, row: dict[str, str], change: dict[str, Any], *, display: bool, inserting: bool
    ) -> Reply | None:
        """Check every field first, then change ``row``; a refusal leaves it untouched."""
        new: dict[str, str] = {}
        for name, value in change.items():
            spec = SCHEMAS["incident"].get(name)
            if spec is None or name in READ_ONLY_FIELDS or name in JOURNAL_FIELDS:
                continue  # unknown and read-only fields are ignored, journals handled below
            if isinstance(value, dict | list):
                return _error(400, *_BAD_JSON)
            text = "" if value is None else str(value)
            if spec.kind == "ref":
                resolved = self._reference(spec.target, text, display=display)
                if resolved is None and name in STRICT_REFERENCES:
                    return _error(
                        400,
                        "Invalid reference",
                        f"{name}: no {spec.target} record matches {text[:80]!r}",
                    )
                text = resolved or ""
            elif spec.kind == "choice" and spec.labels is not None and text:
                if display:
                    by_label = {label.lower(): code for code, label in spec.labels.items()}
                    text = by_label.get(text.lower(), text)
                if text not in spec.labels:
                    return _error(400, "Invalid choice", f"{name}: {text[:40]!r} is not a choice")
            new[name] = text
        merged = {**row, **new}
        if inserting or "impact" in new or "urgency" in new:
            merged["priority"] = PRIORITY_LOOKUP.get(
                (merged["impact"], merged["urgency"]), merged["priority"]
            )
        if inserting and not merged["short_description"].strip():
            return _policy_refusal(["Short description"])
        old_state, state = row["state"], merged["state"]
        if "state" in new:
            missing = [
                label
                for field, label in MANDATORY_BY_STATE.get(state, ())
                if not merged[field].strip()
            ]
            if missing:
                return _policy_refusal(missing)
        journal = {k: v for k, v in change.items() if k in JOURNAL_FIELDS}
        if any(not isinstance(v, str) for v in journal.values()):
            return _error(400, *_BAD_JSON)
        now = _stamp(self.clock())
        if state != old_state:
            self._follow_state(merged, state, now)
        row.update(merged)
        row["incident_state"] = row["state"]
        row["sys_updated_on"] = now
        row["sys_updated_by"] = self.username
        row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)
        if not inserting:
            self._tables["incident"].touch(row["sys_id"])
            self._flush_journal(row["sys_id"], change)
            self._sla_follows(row["sys_id"], row["state"], now)
        return None

    def _flush_journal(self, sys_id: str, change: Mapping[str, Any]) -> None:
        """Keep the comments and work notes a write carried (empty ones are no entry).

        Each becomes a ``sys_journal_field`` row, as on an instance, so the
        next poll reads it back.
        """
        now = _stamp(self.clock())
        for name, public in JOURNAL_FIELDS.items():
            text = change.get(name)
            if isinstance(text, str) and text.strip():
                self.record_comment(sys_id, text, public=public)
                entry_id = self._new_sys_id("sys_journal_field")
                self._tables["sys_journal_field"][entry_id] = {
                    "sys_id": entry_id,
                    "sys_created_on": now,
                    "name": "incident",
                    "element_id": sys_id,
                    "sys_tags": "",
                    "value": text,
                    "sys_created_by": self.username,
                    "element": name,
                }

    def _follow_state(self, row: dict[str, str], state: str, now: str) -> None:
        """What the incident business rules do when the state changes."""
        if state in ("6", "7"):
            row["resolved_at"] = row["resolved_at"] or now
            row["resolved_by"] = row["resolved_by"] or row["assigned_to"]
        else:
            row.update(resolved_at="", resolved_by="")
        if state == "7":
            row.update(closed_at=now, closed_by=row["assigned_to"], active="false")
        else:
            row.update(closed_at="", closed_by="", active="true")
        if state != "3":
            row["hold_reason"] = ""

    def _sla_follows(self, incident_id: str, state: str, now: str) -> None:
        """The SLA engine: On Hold pauses the clock, Resolved/Closed stops it, work resumes it."""
        sla_id = self._sla_by_incident.get(incident_id)
        if sla_id is None:
            return
        sla = self._tables["task_sla"][sla_id]
        if sla["stage"] in ("completed", "cancelled") and state in ("6", "7"):
            return
        if state in ("6", "7"):
            sla.update(stage="completed", active="false", end_time=now)
        elif state == "3":
            sla.update(stage="paused", active="true", end_time="")
        else:
            sla.update(stage="in_progress", active="true", end_time="")
        sla["sys_updated_on"] = now
        sla["sys_mod_count"] = str(int(sla["sys_mod_count"]) + 1)
        self._tables["task_sla"].touch(sla_id)

    def _reference(self, table: str, value: str, *, display: bool) -> str | None:
        """The sys_id a reference value stands for: a sys_id, or (with display input) a name."""
        if not value:
            return ""
        rows = self._tables[table]
        if value in rows:
            return value
        if display:
            column = DISPLAY_FIELDS[table]
            for sys_id, row in rows.items():
                if row.get(column, "").lower() == value.lower():
                    return sys_id
        return None

    def _links(self, request: Request, offset: int, limit: int, total: int) -> str:
        """``first``/``prev``/``next``/``last`` as absolute URLs on this instance."""

        def url(at: int) -> str:
            params = {k: v[0] for k, v in request.query.items() if v}
            params.update(sysparm_offset=str(at), sysparm_limit=str(limit))
            return f"<{self.base_url}{request.path}?{urlencode(params)}>"

        last = max((total - 1) // limit * limit, 0)
        links = [f'{url(0)};rel="first"']
        if offset > 0:
            links.append(f'{url(max(offset - limit, 0))};rel="prev"')
        if offset + limit < total:
            links.append(f'{url(offset + limit)};rel="next"')
        links.append(f'{url(last)};rel="last"')
        return ",".join(links)

    def _render(self, request: Request, table: str, row: Mapping[str, str]) -> dict[str, Any]:
        return self._renderer(request, table)(row)

    def _renderer(
        self, request: Request, table: str
    ) -> Callable[[Mapping[str, str]], dict[str, Any]]:
        """How one request wants rows shown, worked out once for all the rows of a page."""
        mode = (request.param("sysparm_display_value") or "false").lower()
        with_links = request.param("sysparm_exclude_reference_link") != "true"
        wanted = [
            f.strip() for f in (request.param("sysparm_fields") or "").split(",") if f.strip()
        ]
        columns = []
        for name in wanted or list(SCHEMAS[table]):
            spec = self._spec(table, name)
            if spec is not None:  # the Table API leaves unknown fields out
                columns.append((name, spec, "." in name))

        def render(row: Mapping[str, str]) -> dict[str, Any]:
            return {
                name: self._render_field(
                    spec,
                    self._value(table, row, name) if walked else row.get(name, ""),
                    mode,
                    with_links,
                )
                for name, spec, walked in columns
            }

        return render

    def _render_field(self, spec: _Field, value: str, mode: str, with_links: bool) -> Any:
        shown = self._display(spec, value)
        if spec.kind == "ref" and value:
            link = f"{self.base_url}/api/now/table/{spec.target}/{value}"
            if mode == "all":
                return {
                    "display_value": shown,
                    **({"link": link} if with_links else {}),
                    "value": value,
                }
            if mode == "true":
                return {"display_value": shown, "link": link} if with_links else shown
            return {"link": link, "value": value} if with_links else value
        if mode == "all":
            return {"display_value": shown, "value": value}
        return shown if mode == "true" else value

    def _display(self, spec: _Field, value: str) -> str:
        if not value:
            return ""
        if spec.kind == "ref":
            if spec.target not in self._tables:
                return value  # a table the emulator does not model
            target = self._tables[spec.target].get(value)
            return target.get(DISPLAY_FIELDS[spec.target], "") if target else ""
        if spec.kind == "choice" and spec.labels is not None:
            return spec.labels.get(value, value)
        if spec.kind == "time":
            return _local_time(value, self.user_zone)
        return value

    # -- encoded queries -----------------------------------------------------------------

    def _spec(self, table: str, name: str) -> _Field | None:
        """The type of a (possibly dot-walked) field, or ``None`` if it does not exist."""
        head, _, rest = name.partition(".")
        spec = SCHEMAS[table].get(head)
        if spec is None or not rest:
            return spec
        return self._spec(spec.target, rest) if spec.target in SCHEMAS else None

    def _value(self, table: str, row: Mapping[str, str], name: str) -> str:
        """A (possibly dot-walked) field's raw value; ``""`` through an empty reference."""
        head, _, rest = name.partition(".")
        value = row.get(head, "")
        if not rest:
            return value
        spec = SCHEMAS[table].get(head)
        if spec is None or spec.target not in SCHEMAS or not value:
            return ""
        target = self._tables[spec.target].get(value)
        return self._value(spec.target, target, rest) if target else ""

    def _matches(self, table: str, row: Mapping[str, str], groups: list[list[_Term]]) -> bool:
        """Every ``^`` group holds; within a group any ``^OR`` alternative may."""
        for group in groups:
            usable = [t for t in group if self._spec(table, t.field) is not None]
            if usable and not any(t.holds(self._value(table, row, t.field)) for t in usable):
                return False
        return True

    # -- state helpers ---------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user, self.username) & hmac.compare_digest(
                password, self.password
            )
        if scheme.lower() == "bearer" and self.token:
            return hmac.compare_digest(credential.strip(), self.token)
        return False

    def _new_sys_id(self, table: str) -> str:
        """A 32-hex sys_id, deterministic so demo runs look the same every time."""
        return hashlib.md5(f"{table}:{next(self._serial)}".encode()).hexdigest()

    def _blank_incident(self, sys_id: str, created_at: datetime) -> dict[str, str]:
        row = dict.fromkeys(SCHEMAS["incident"], "")
        created = _stamp(created_at)
        row.update(
            sys_id=sys_id,
            number=f"INC{next(self._numbers):07d}",
            category="inquiry",
            contact_type="email",
            made_sla="true",
            escalation="0",
            reassignment_count="0",
            reopen_count="0",
            sys_class_name="incident",
            sys_domain="global",
            sys_domain_path="/",
            approval="not requested",
            knowledge="false",
            notify="1",
            severity="3",
            upon_approval="proceed",
            upon_reject="cancel",
            opened_at=created,
            sys_created_on=created,
            sys_created_by=self.username,
            sys_mod_count="0",
        )
        return row

    def _login(self, name: str) -> str:
        """The ``user_name`` a person's journal entries carry in ``sys_created_by``."""
        user = self._tables["sys_user"].get(self._named("sys_user", name))
        return user["user_name"] if user else name

    def _attach(
        self, incident_id: str, name: str, content_type: str, size: int, at: str, author: str
    ) -> str:
        sys_id = self._new_sys_id("sys_attachment")
        row = dict.fromkeys(SCHEMAS["sys_attachment"], "")
        row.update(
            sys_id=sys_id,
            file_name=name,
            content_type=content_type,
            size_bytes=str(size),
            size_compressed=str(size),
            compressed="true",
            table_name="incident",
            table_sys_id=incident_id,
            state="available",
            hash=hashlib.sha256(f"{sys_id}:{name}".encode()).hexdigest(),
            chunk_size_bytes="700000",
            sys_domain_path="/",
            sys_created_on=at,
            sys_created_by=author,
            sys_updated_on=at,
            sys_updated_by=author,
            sys_mod_count="0",
        )
        self._tables["sys_attachment"][sys_id] = row
        return sys_id

    def _named(self, table: str, name: str | None) -> str:
        """The sys_id of the user, group, CI or SLA called ``name``, made on first use."""
        if not name:
            return ""
        key = (table, name)
        sys_id = self._names.get(key)
        if sys_id is None:
            sys_id = self._new_sys_id(table)
            self._names[key] = sys_id
            row = dict.fromkeys(SCHEMAS[table], "")
            row.update(sys_id=sys_id, name=name, sys_updated_on=_stamp(self.clock()))
            if table == "sys_user":
                login = ".".join(name.lower().split())
                row.update(user_name=login, email=f"{login}@acme.example", active="true")
            elif table == "sys_user_group":
                row.update(active="true")
            elif table == "cmdb_ci":
                row.update(sys_class_name="cmdb_ci_server")
            elif table == "contract_sla":
                row.update(type="SLA")
            self._tables[table][sys_id] = row
        return sys_id

    def _sync_sla(self, incident_id: str, ticket: WorldTicket) -> None:
        """One resolution SLA per incident that has a due time; it stops when work stops."""
        slas = self._tables["task_sla"]
        sla_id = self._sla_by_incident.get(incident_id)
        now = _stamp(self.clock())
        if ticket.due_at is None:
            if sla_id is not None and slas[sla_id]["active"] == "true":
                slas[sla_id].update(
                    active="false", stage="cancelled", end_time=now, sys_updated_on=now
                )
                slas[sla_id]["sys_mod_count"] = str(int(slas[sla_id]["sys_mod_count"]) + 1)
            return
        if sla_id is None:
            sla_id = self._new_sys_id("task_sla")
            self._sla_by_incident[incident_id] = sla_id
            row = dict.fromkeys(SCHEMAS["task_sla"], "")
            row.update(
                sys_id=sla_id,
                task=incident_id,
                start_time=_stamp(ticket.created_at),
                original_breach_time=_stamp(ticket.due_at),
                sys_created_on=now,
                sys_mod_count="-1",
            )
            slas[sla_id] = row
        row = slas[sla_id]
        running = ticket.status.is_active
        ended_at = None if running else (ticket.resolved_at or ticket.updated_at)
        breached = bool(ticket.breached) or ticket.due_at < (ended_at or self.clock())
        label = ticket.priority.value if ticket.priority else "Default"
        row.update(
            sla=self._named("contract_sla", f"{label} resolution"),
            stage=(
                "paused"
                if ticket.status is TicketStatus.PENDING
                else "in_progress"
                if running
                else "completed"
            ),
            active="true" if running else "false",
            has_breached="true" if breached else "false",
            planned_end_time=_stamp(ticket.due_at),
            end_time=_stamp(ended_at) if ended_at else "",
            sys_updated_on=now,
        )
        row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)
        self._refresh_sla(row, self.clock())

    def _refresh_slas(self) -> None:
        """What the SLA engine's periodic job does: elapsed %, time left, breach flag."""
        now = self.clock()
        for row in self._tables["task_sla"].values():
            if row["active"] == "true":
                self._refresh_sla(row, now)

    @staticmethod
    def _refresh_sla(row: dict[str, str], now: datetime) -> None:
        start = parse_servicenow(row["start_time"])
        due = parse_servicenow(row["planned_end_time"])
        if start is None or due is None:
            return
        end = parse_servicenow(row["end_time"]) or now
        span = max((due - start).total_seconds(), 1.0)
        percent = f"{max((end - start).total_seconds(), 0.0) / span * 100:.2f}"
        left = max((due - end).total_seconds(), 0.0)
        left_text = format_servicenow(datetime.fromtimestamp(left, UTC))
        row.update(percentage=percent, business_percentage=percent, time_left=left_text)
        row["business_time_left"] = left_text
        if row["active"] == "true" and due < now:
            row["has_breached"] = "true"


@dataclass(frozen=True)
class _Term:
    """One condition of an encoded query: ``field`` ``op`` ``value``."""

    field: str
    op: str
    value: str

    def holds(self, actual: str) -> bool:
        op, wanted = self.op, self.value
        if op == "ISEMPTY":
            return actual == ""
        if op == "ISNOTEMPTY":
            return actual != ""
        if op in ("IN", "NOT IN"):
            inside = actual in {v.strip() for v in wanted.split(",")}
            return inside if op == "IN" else not inside
        if op == "=":
            return actual == wanted
        if op == "!=":
            return actual != wanted
        if op == "STARTSWITH":
            return actual.lower().startswith(wanted.lower())
        if op == "ENDSWITH":
            return actual.lower().endswith(wanted.lower())
        if op in ("LIKE", "NOT LIKE"):
            found = wanted.lower() in actual.lower()
            return found if op == "LIKE" else not found
        if actual == "":
            return False  # empty values never satisfy an ordering comparison
        left, right = _sort_key(actual), _sort_key(wanted)
        if left[0] != right[0]:
            return False
        return {
            ">=": left >= right,
            "<=": left <= right,
            ">": left > right,
            "<": left < right,
        }[op]


def _parse_query(query: str) -> tuple[list[list[_Term]], list[tuple[str, bool]]]:
    """Conditions (AND of OR-groups) and ``ORDERBY`` keys; unreadable fragments are ignored.

    An instance ignores invalid query parts by default rather than failing, so this does too.
    """
    groups: list[list[_Term]] = []
    order: list[tuple[str, bool]] = []
    for part in query.split("^") if query else []:
        if part.startswith("ORDERBYDESC"):
            order.append((part[len("ORDERBYDESC") :], True))
            continue
        if part.startswith("ORDERBY"):
            order.append((part[len("ORDERBY") :], False))
            continue
        alternative = part.startswith("OR") and groups and _TERM.match(part[2:]) is not None
        match = _TERM.match(part[2:] if alternative else part)
        if match is None:
            continue
        term = _Term(match["field"], match["op"], match["value"])
        if alternative:
            groups[-1].append(term)
        else:
            groups.append([term])
    return groups, order


def _sort_key(value: str) -> tuple[int, float, str]:
    """Numbers compare as numbers, everything else as text (raw times sort correctly as text).

    Only plain decimals count as numbers: a hex sys_id such as ``1e5…`` is text.
    """
    if _NUMBER.match(value):
        return (0, float(value), "")
    return (1, 0.0, value)


@functools.lru_cache(maxsize=65_536)
def _local_time(value: str, zone: ZoneInfo) -> str:
    """A raw UTC time as the service account sees it: its zone, day first."""
    parsed = parse_servicenow(value)
    return parsed.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S") if parsed else ""


def _lower_bound(group: list[_Term], by_time: bool, floors: set[str]) -> Any:
    """The index key a group of terms starts the walk at, or ``None`` if it cannot bound it.

    ``by_time`` keys are ``(sys_updated_on, sys_id)``, else a sys_id. The keyset group
    ``sys_updated_on>T^ORsys_id>I`` bounds it only next to ``sys_updated_on>=T``
    (``floors``): together they mean exactly "after (T, I)".
    """
    if len(group) == 1:
        term = group[0]
        if by_time and term.field == "sys_updated_on":
            if term.op == ">=":
                return (term.value, "")
            if term.op == ">":
                return (term.value + _AFTER, "")
        if not by_time and term.field == "sys_id":
            if term.op == ">=":
                return term.value
            if term.op == ">":
                return term.value + _AFTER
        return None
    if by_time and len(group) == 2:
        first, second = group
        if (
            first.field == "sys_updated_on"
            and first.op == ">"
            and second.field == "sys_id"
            and second.op == ">"
            and first.value in floors
        ):
            return (first.value, second.value + _AFTER)
    return None


def _non_negative(text: str | None, default: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return max(value, 0)


EMULATOR = ServiceNowEmulator

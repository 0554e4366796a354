"""A ServiceNow instance's Table API on loopback: ``incident``, ``task_sla`` and their references.

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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
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


SCHEMAS: Mapping[str, Mapping[str, _Field]] = {
    "incident": {
        "sys_id": _TEXT,
        "number": _TEXT,
        "short_description": _TEXT,
        "description": _TEXT,
        "state": _choice(STATE_LABELS),
        "incident_state": _choice(STATE_LABELS),
        "hold_reason": _choice(HOLD_REASON_LABELS),
        "priority": _choice(PRIORITY_LABELS),
        "impact": _choice(IMPACT_LABELS),
        "urgency": _choice(IMPACT_LABELS),
        "category": _TEXT,
        "subcategory": _TEXT,
        "contact_type": _TEXT,
        "caller_id": _ref("sys_user"),
        "opened_by": _ref("sys_user"),
        "assigned_to": _ref("sys_user"),
        "assignment_group": _ref("sys_user_group"),
        "cmdb_ci": _ref("cmdb_ci"),
        "resolved_by": _ref("sys_user"),
        "closed_by": _ref("sys_user"),
        "opened_at": _TIME,
        "resolved_at": _TIME,
        "closed_at": _TIME,
        "close_code": _TEXT,
        "close_notes": _TEXT,
        "active": _TEXT,
        "made_sla": _TEXT,
        "escalation": _TEXT,
        "reassignment_count": _TEXT,
        "reopen_count": _TEXT,
        "correlation_id": _TEXT,
        "correlation_display": _TEXT,
        "sys_class_name": _TEXT,
        "sys_domain": _TEXT,
        "sys_created_on": _TIME,
        "sys_created_by": _TEXT,
        "sys_updated_on": _TIME,
        "sys_updated_by": _TEXT,
        "sys_mod_count": _TEXT,
    },
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
    "sys_user": "name",
    "sys_user_group": "name",
    "cmdb_ci": "name",
    "contract_sla": "name",
}
"""The column a reference to each table shows as its display value."""


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
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.username = username
        self.password = password
        self.token = token
        self.hidden_sys_ids: set[str] = set(hidden_sys_ids)
        """sys_ids an ACL hides from the service account (see the module docstring)."""
        self.user_zone = ZoneInfo(user_time_zone)
        self._numbers = itertools.count(first_number)
        self._serial = itertools.count(1)
        self._tables: dict[str, dict[str, dict[str, str]]] = {name: {} for name in SCHEMAS}
        self._ids_by_ref: dict[str, str] = {}
        self._sla_by_incident: dict[str, str] = {}
        self._names: dict[tuple[str, str], str] = {}
        """(table, display name) to sys_id, so each person, group and CI exists once."""

    def __enter__(self) -> ServiceNowEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a ServiceNow connector needs to reach this instance."""
        return {"kind": "servicenow", "username": self.username, "password": self.password}

    # -- mutators --------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the incident for ``ticket.ref`` (and its SLA); return its number."""
        with self.lock:
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
        if table == "task_sla":
            self._refresh_slas()
        if match["sys_id"]:
            return self._single(request, table, match["sys_id"])
        return self._list(request, table, version=match["version"] or "/v1")

    def _single(self, request: Request, table: str, sys_id: str) -> Reply:
        row = self._tables[table].get(sys_id)
        if row is None or sys_id in self.hidden_sys_ids:
            return _error(404, *_NO_RECORD)
        return Reply(200, {"result": self._render(request, table, row)})

    def _list(self, request: Request, table: str, *, version: str) -> Reply:
        groups, order = _parse_query(request.param("sysparm_query", "") or "")
        rows = [r for r in self._tables[table].values() if self._matches(table, r, groups)]
        for name, descending in reversed(order):  # stable sorts, last key first
            if self._spec(table, name) is not None:
                keys = {r["sys_id"]: _sort_key(self._value(table, r, name)) for r in rows}
                rows.sort(key=lambda r: keys[r["sys_id"]], reverse=descending)
        limit = _non_negative(request.param("sysparm_limit"), DEFAULT_LIMIT) or DEFAULT_LIMIT
        offset = _non_negative(request.param("sysparm_offset"), 0)
        total = len(rows)
        if total == 0 and version == "/v1":
            return _error(404, *_NO_RECORDS)
        window = rows[offset : offset + limit]
        visible = [r for r in window if r["sys_id"] not in self.hidden_sys_ids]
        headers: dict[str, str] = {}
        if request.param("sysparm_no_count") != "true":
            headers["X-Total-Count"] = str(total)
        if request.param("sysparm_suppress_pagination_header") != "true":
            headers["Link"] = self._links(request, offset, limit, total)
        body = {"result": [self._render(request, table, r) for r in visible]}
        return Reply(200, body, headers=headers)

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
            self._flush_journal(row["sys_id"], change)
            self._sla_follows(row["sys_id"], row["state"], now)
        return None

    def _flush_journal(self, sys_id: str, change: Mapping[str, Any]) -> None:
        """Keep the comments and work notes a write carried (empty ones are no entry)."""
        for name, public in JOURNAL_FIELDS.items():
            text = change.get(name)
            if isinstance(text, str) and text.strip():
                self.record_comment(sys_id, text, public=public)

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
        mode = (request.param("sysparm_display_value") or "false").lower()
        with_links = request.param("sysparm_exclude_reference_link") != "true"
        wanted = [
            f.strip() for f in (request.param("sysparm_fields") or "").split(",") if f.strip()
        ]
        names = wanted or list(SCHEMAS[table])
        out: dict[str, Any] = {}
        for name in names:
            spec = self._spec(table, name)
            if spec is None:
                continue  # the Table API leaves unknown fields out
            out[name] = self._render_field(spec, self._value(table, row, name), mode, with_links)
        return out

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
            target = self._tables[spec.target].get(value)
            return target.get(DISPLAY_FIELDS[spec.target], "") if target else ""
        if spec.kind == "choice" and spec.labels is not None:
            return spec.labels.get(value, value)
        if spec.kind == "time":
            parsed = parse_servicenow(value)
            return parsed.astimezone(self.user_zone).strftime("%d/%m/%Y %H:%M:%S") if parsed else ""
        return value

    # -- encoded queries -----------------------------------------------------------------

    def _spec(self, table: str, name: str) -> _Field | None:
        """The type of a (possibly dot-walked) field, or ``None`` if it does not exist."""
        head, _, rest = name.partition(".")
        spec = SCHEMAS[table].get(head)
        if spec is None or not rest:
            return spec
        return self._spec(spec.target, rest) if spec.kind == "ref" else None

    def _value(self, table: str, row: Mapping[str, str], name: str) -> str:
        """A (possibly dot-walked) field's raw value; ``""`` through an empty reference."""
        head, _, rest = name.partition(".")
        value = row.get(head, "")
        if not rest:
            return value
        spec = SCHEMAS[table].get(head)
        if spec is None or spec.kind != "ref" or not value:
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
            opened_at=created,
            sys_created_on=created,
            sys_created_by=self.username,
            sys_mod_count="0",
        )
        return row

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
    """Numbers compare as numbers, everything else as text (raw times sort correctly as text)."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _non_negative(text: str | None, default: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return max(value, 0)


EMULATOR = ServiceNowEmulator

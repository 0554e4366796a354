"""A Freshservice account on loopback, speaking the API v2 wire format, at a real size.

Tickets are kept as Freshservice keeps them (vendor-apis.md §6 and the capture
``freshservice-tickets.json``): sequential integer ticket ids, 11-digit ids
for requesters, agents and groups, integer ``status``/``priority``/``source``
codes, ``…Z`` timestamps without a fraction, ``due_by``/``fr_due_by`` and the
``is_escalated``/``fr_escalated`` SLA flags, HTML ``description`` next to
``description_text``. A list or filter row carries exactly the keys of the
captured list answer (no ``urgency``/``impact``, which the capture lacks).

Reads:

* ``GET /api/v2/tickets`` filters on ``updated_since`` (without it: tickets
  created in the last 30 days), sorts by ``created_at`` (``order_type``,
  default ``desc``), pages with ``page``/``per_page`` (default 30, max 100) and
  sends ``Link: <…>; rel="next"`` while more rows exist. The ``requester`` and
  ``stats`` embeds are served.
* ``GET /api/v2/tickets/filter?query="…"`` takes the query language
  (``field:value``, ``:>`` / ``:<`` as greater/less *or equal*, ``AND``,
  ``OR``, parentheses; ``'YYYY-MM-DD'`` dates compared by whole UTC day;
  ``status``, ``priority``, ``agent_id``, ``group_id``, ``requester_id``,
  ``type``, ``created_at``, ``updated_at``, ``due_by``, ``fr_due_by``), must be
  wrapped in double quotes, at most 512 characters, and answers
  ``{"tickets": [...], "total": N}``, newest created first, ``per_page`` up to
  100, at most 10 pages (page 11 is a 400), no embeds and no ``Link`` header
  (``filter_page_limit`` makes it serve fewer rows than asked, as a filter with a
  fixed page size would).
  Those limits are Freshworks' filter rules (documented for Freshdesk; public
  Freshservice scripts read ``total`` and pass ``per_page=100``): unconfirmed
  for Freshservice, kept as the strictest plausible reading.
* ``GET /api/v2/requesters/{id}`` (``primary_email``) and ``GET /api/v2/agents/{id}``
  (``email``) show one person; an id of the other kind is a 404.
* ``GET /api/v2/tickets/{id}/conversations`` lists replies and notes oldest
  first, ``page``/``per_page`` (default 30, max 100), ``Link`` next,
  ``{"conversations": [...], "meta": {"count": N}}``; each with ``private``,
  ``incoming``, ``source`` (0 e-mail, 2 note, 4 meta), HTML ``body`` and
  ``body_text``, ``user_id`` and ``attachments`` (``id``, ``name``,
  ``content_type``, ``size`` and an ``attachment_url`` on a storage host a
  client must not follow blindly).

Every answer carries ``X-RateLimit-Total``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Used-CurrentRequest``; a request costs one credit plus one per
embed, failed requests count too, and an exhausted minute answers 429 with
``Retry-After``. A wrong API key gets 401 with Freshservice's
``invalid_credentials`` body. ``latency`` makes every answer wait (outside the
lock), as a vendor 50-200 ms away would.

Writes (vendor-apis.md §6.8) change the native rows and bump ``updated_at``,
so the next ``updated_since`` poll sees them: ``POST /tickets`` (create, 201;
the requester is found or made from ``email``), ``PUT /tickets/{id}``
(``status``, ``priority``, ``responder_id``, ``group_id``, ``subject``,
``description``; 200), ``POST /tickets/{id}/notes`` and ``…/reply`` (201,
``{"conversation": …}``, listed by ``GET …/conversations``). A write without
``Content-Type: application/json`` gets 415; a bad field gets the 400
``{"description": "Validation failed", "errors": [{field, message, code}]}``
body with Freshworks' own texts (``Unexpected/invalid field in request``,
``There is no agent matching the given responder_id``, …).

Scale: the account holds 100,000 tickets and answers each page in time that
does not grow with it. Rows that can be listed are kept in sorted indexes
(by creation, by update, by status and creation); a list page bisects them,
and the one sort a ``updated_since`` query needs (its matches by creation) is
done once per query and data version, not per page; a filter page merges the
per-status ranges it needs and never counts by scanning. :meth:`put_tickets`
loads many tickets with one sort. Only ``filter_after_paging`` (a test mode
that pages deleted and spam rows before dropping them) scans.

Unverified details, kept plausible rather than invented in detail: the exact
``stats`` key list, the 404 and 429 body texts, the filter error texts, and
the emulator's own default SLA targets (every Freshservice account has a
default SLA policy, so every ticket has ``due_by``/``fr_due_by``; the targets
here are ours).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import heapq
import html
import itertools
import math
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldEntry, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "FILTER_PATH", "TICKETS_PATH", "FreshserviceEmulator"]

TICKETS_PATH = "/api/v2/tickets"
FILTER_PATH = "/api/v2/tickets/filter"
ME_PATH = "/api/v2/agents/me"
PLAN_RATE_LIMIT = 400
"""Credits per minute of a Pro plan, as ``X-RateLimit-Total`` reports it."""
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_FILTER_PAGES = 10
MAX_QUERY_LENGTH = 512
DEFAULT_WINDOW = timedelta(days=30)
"""Without ``updated_since`` the list shows tickets created in the last 30 days."""
LIST_EMBEDS = frozenset({"requester", "stats"})
VIEW_EMBEDS = LIST_EMBEDS | {
    "conversations",
    "problem",
    "assets",
    "change",
    "related_tickets",
    "requested_for",
    "department",
    "feedback",
    "tags",
}
SINCE_CACHE = 16
"""``updated_since`` values whose matches are kept sorted (passes in progress)."""
ATTACHMENT_HOST = "https://s3.amazonaws.com/cdn.freshservice.com/data/helpdesk/attachments"
"""Where Freshservice's own ``attachment_url`` points (a signed storage link)."""

_STATUS_OUT = {
    TicketStatus.NEW: 2,
    TicketStatus.OPEN: 2,
    TicketStatus.PENDING: 3,
    TicketStatus.RESOLVED: 4,
    TicketStatus.CLOSED: 5,
}
_PRIORITY_OUT = {Priority.P1: 4, Priority.P2: 3, Priority.P3: 2, Priority.P4: 1, Priority.P5: 1}
_ACTIVE = frozenset({2, 3})
"""Built-in statuses in which the SLA clocks still run (custom statuses count as active)."""
_SLA_TARGETS = {
    4: (timedelta(hours=1), timedelta(hours=4)),
    3: (timedelta(hours=4), timedelta(days=1)),
    2: (timedelta(days=1), timedelta(days=3)),
    1: (timedelta(days=2), timedelta(days=5)),
}
"""Default policy per priority code: (first response within, resolution within)."""
_TICKET_PATH = re.compile(r"^/api/v2/tickets/(?P<id>\d+)$")
_CONVERSATION_PATH = re.compile(
    r"^/api/v2/tickets/(?P<id>\d+)/(?P<kind>notes|reply|conversations)$"
)
_PERSON_PATH = re.compile(r"^/api/v2/(?P<book>requesters|agents)/(?P<id>\d+)$")
_NATIVE_STATUSES = frozenset({2, 3, 4, 5})
_NATIVE_PRIORITIES = frozenset({1, 2, 3, 4})
_NATIVE_SOURCES = frozenset(range(1, 11))
_SETTABLE = frozenset(
    {
        "subject",
        "description",
        "status",
        "priority",
        "source",
        "type",
        "responder_id",
        "group_id",
        "category",
        "sub_category",
        "item_category",
        "department_id",
    }
)
"""Ticket fields the emulator lets ``PUT /tickets/{id}`` change (any other is ``invalid_field``)."""
_CREATE_FIELDS = _SETTABLE | {"email", "requester_id", "workspace_id"}
"""Fields the emulator's ``POST /tickets`` takes: the settable ones plus who and where."""
_NOTE_FIELDS = frozenset({"body", "private", "notify_emails", "incoming"})
_REPLY_FIELDS = frozenset({"body", "cc_emails", "bcc_emails", "from_email"})
_LIST_PARAMS = frozenset(
    {
        "page",
        "per_page",
        "updated_since",
        "order_type",
        "include",
        "filter",
        "requester_id",
        "email",
        "type",
        "workspace_id",
    }
)
_FILTER_PARAMS = frozenset({"query", "page", "per_page", "workspace_id"})
_FILTER_FIELDS = {
    "status": "status",
    "priority": "priority",
    "agent_id": "responder_id",
    "group_id": "group_id",
    "requester_id": "requester_id",
    "type": "type",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "due_by": "due_by",
    "fr_due_by": "fr_due_by",
}
"""Query-language field → the row key it reads."""
_DATE_FIELDS = frozenset({"created_at", "updated_at", "due_by", "fr_due_by"})
_INVALID_CREDENTIALS = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}

Key = tuple[str, int]
"""An index entry: (a ``…Z`` timestamp, ticket id); timestamps of one form sort as times."""


def _stamp(value: datetime) -> str:
    """Freshservice's timestamp form: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _parse_since(text: str) -> datetime | None:
    """``updated_since`` as Freshservice accepts it: ISO 8601, ``Z`` or an offset."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _ceil_stamp(value: datetime) -> str:
    """The first whole second at or after ``value``, as a stamp (``updated_at >= value``)."""
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return _stamp(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, message: str, code: str = "invalid_value") -> Reply:
    """Freshservice's 400 validation body."""
    return _validation([{"field": field, "message": message, "code": code}])


def _validation(errors: list[dict[str, str]]) -> Reply:
    """Freshservice's 400 body listing every field that failed, as the real API does."""
    return Reply(400, {"description": "Validation failed", "errors": errors})


def _error(field: str, message: str, code: str = "invalid_value") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_of(body: str) -> str:
    """``body_text`` as Freshservice derives it: tags dropped, entities decoded."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", body, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]*>", "", text)).strip()


def _not_found() -> Reply:
    return Reply(404, {"code": "not_found", "message": "The requested resource was not found."})


def _remove(index: list[Key], key: Key) -> None:
    at = bisect.bisect_left(index, key)
    if at < len(index) and index[at] == key:
        del index[at]


def _paging(request: Request, default: int) -> tuple[int, int] | Reply:
    """``(page, per_page)`` from the query, or Freshservice's 400."""
    per_page_text = request.param("per_page")
    per_page = default
    if per_page_text is not None:
        if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
            message = f"It should be a Positive Integer less than or equal to {MAX_PER_PAGE}"
            return _invalid("per_page", message)
        per_page = int(per_page_text)
    page_text = request.param("page", "1") or "1"
    if not page_text.isdigit() or int(page_text) < 1:
        return _invalid("page", "It should be a Positive Integer")
    return int(page_text), per_page


def _unexpected(request: Request, allowed: frozenset[str]) -> Reply | None:
    extra = sorted(set(request.query) - allowed)
    if not extra:
        return None
    return _validation(
        [_error(name, "Unexpected/invalid field in request", "invalid_field") for name in extra]
    )


# -- the filter query language ------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<word>AND|OR)(?![\w:])"
    r"|(?P<field>[a-z_]+)\s*:\s*(?P<op>[<>]?)\s*(?P<value>'[^']*'|-?\d+|null))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cond:
    field: str
    op: str
    """``=``, ``>`` (greater or equal) or ``<`` (less or equal)."""
    value: str | int | None


@dataclass(frozen=True)
class _Bool:
    op: str
    """``AND`` or ``OR``."""
    parts: tuple[Any, ...]


class _QueryError(ValueError):
    pass


def _parse_query(text: str) -> Any:
    tokens: list[tuple[str, Any]] = []
    at = 0
    stripped = text.strip()
    while at < len(stripped):
        match = _TOKEN.match(stripped, at)
        if match is None or match.end() == at:
            raise _QueryError(f"Invalid query syntax near {stripped[at : at + 20]!r}")
        at = match.end()
        if match["open"]:
            tokens.append(("(", None))
        elif match["close"]:
            tokens.append((")", None))
        elif match["word"]:
            tokens.append((match["word"].upper(), None))
        else:
            field = match["field"].lower()
            if field not in _FILTER_FIELDS:
                raise _QueryError(f"Invalid query field: {field}")
            raw = match["value"]
            value: str | int | None
            if raw.lower() == "null":
                value = None
            elif raw.startswith("'"):
                value = raw[1:-1]
            else:
                value = int(raw)
            tokens.append(("cond", _Cond(field, match["op"] or "=", value)))
    node, rest = _parse_or(tokens)
    if rest:
        raise _QueryError("Invalid query syntax: unbalanced parentheses")
    return node


def _parse_or(tokens: list[tuple[str, Any]]) -> tuple[Any, list[tuple[str, Any]]]:
    node, tokens = _parse_and(tokens)
    parts = [node]
    while tokens and tokens[0][0] == "OR":
        node, tokens = _parse_and(tokens[1:])
        parts.append(node)
    return (parts[0] if len(parts) == 1 else _Bool("OR", tuple(parts))), tokens


def _parse_and(tokens: list[tuple[str, Any]]) -> tuple[Any, list[tuple[str, Any]]]:
    node, tokens = _parse_atom(tokens)
    parts = [node]
    while tokens and tokens[0][0] == "AND":
        node, tokens = _parse_atom(tokens[1:])
        parts.append(node)
    return (parts[0] if len(parts) == 1 else _Bool("AND", tuple(parts))), tokens


def _parse_atom(tokens: list[tuple[str, Any]]) -> tuple[Any, list[tuple[str, Any]]]:
    if not tokens:
        raise _QueryError("Invalid query syntax: a condition is missing")
    kind, value = tokens[0]
    if kind == "(":
        node, rest = _parse_or(tokens[1:])
        if not rest or rest[0][0] != ")":
            raise _QueryError("Invalid query syntax: unbalanced parentheses")
        return node, rest[1:]
    if kind == "cond":
        return value, tokens[1:]
    raise _QueryError(f"Invalid query syntax near {kind}")


def _matches(node: Any, row: dict[str, Any]) -> bool:
    if isinstance(node, _Bool):
        if node.op == "AND":
            return all(_matches(part, row) for part in node.parts)
        return any(_matches(part, row) for part in node.parts)
    cond: _Cond = node
    actual: Any = row.get(_FILTER_FIELDS[cond.field])
    wanted: Any = cond.value
    if wanted is None:
        return actual is None
    if actual is None or isinstance(actual, str) != isinstance(wanted, str):
        return False
    if cond.field in _DATE_FIELDS and isinstance(actual, str) and len(wanted) == 10:
        actual = actual[:10]  # a date: whole UTC days
    if cond.op == ">":
        return bool(actual >= wanted)
    if cond.op == "<":
        return bool(actual <= wanted)
    return bool(actual == wanted)


def _status_test(node: Any) -> Callable[[int], bool] | None:
    """When ``node`` tests only ``status``, a test of one code (for the per-status index)."""
    if isinstance(node, _Bool):
        tests = [_status_test(part) for part in node.parts]
        if any(t is None for t in tests):
            return None
        found = [t for t in tests if t is not None]
        if node.op == "AND":
            return lambda code: all(t(code) for t in found)
        return lambda code: any(t(code) for t in found)
    cond: _Cond = node
    if cond.field != "status" or not isinstance(cond.value, int):
        return None
    wanted = cond.value
    if cond.op == ">":
        return lambda code: code >= wanted
    if cond.op == "<":
        return lambda code: code <= wanted
    return lambda code: code == wanted


def _plan_query(node: Any) -> tuple[Callable[[int], bool] | None, str, str, list[Any]]:
    """Split a conjunction into a status test, a creation range and the remaining conditions."""
    parts = list(node.parts) if isinstance(node, _Bool) and node.op == "AND" else [node]
    status: Callable[[int], bool] | None = None
    low, high = "", "\uffff"
    rest: list[Any] = []
    for part in parts:
        test = _status_test(part)
        if test is not None and status is None:
            status = test
            continue
        if (
            isinstance(part, _Cond)
            and part.field == "created_at"
            and part.op in "<>"
            and isinstance(part.value, str)
            and len(part.value) == 10
        ):
            if part.op == ">":
                low = max(low, part.value)
            else:
                high = min(high, part.value + "\uffff")
            continue
        rest.append(part)
    return status, low, high, rest


class FreshserviceEmulator(TicketEmulator):
    """One Freshservice account with an API-key agent, requesters, agents, groups and tickets."""

    kind: ClassVar[str] = "freshservice"

    def __init__(
        self,
        *,
        api_key: str = "demo-freshservice-key",
        agent_name: str = "Desk Agent",
        rate_limit_per_minute: int = PLAN_RATE_LIMIT,
        filter_after_paging: bool = False,
        first_ticket_id: int = 1,
        workspace_id: int = 2,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = DEFAULT_PER_PAGE,
        latency: float = 0.0,
        filter_page_limit: int = MAX_PER_PAGE,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.api_key = api_key
        self.rate_limit_per_minute = rate_limit_per_minute
        self.filter_after_paging = filter_after_paging
        """Cut each page from all rows, then drop deleted/spam ones (short pages, next link)."""
        self.workspace_id = workspace_id
        self.filter_page_limit = filter_page_limit
        """Most rows a filter page holds whatever ``per_page`` asks (to try a fixed page size)."""
        self._ticket_ids = itertools.count(first_ticket_id)
        self._entity_ids = itertools.count(21001397559, 4)
        self._tickets: dict[int, dict[str, Any]] = {}
        self._stats: dict[int, dict[str, Any]] = {}
        self._ids_by_ref: dict[str, int] = {}
        self._requesters: dict[int, dict[str, Any]] = {}
        self._agents: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._named: dict[tuple[str, str], int] = {}
        """(book, full name) → id, so a name is found without a scan."""
        self._by_email: dict[str, int] = {}
        self._conversations: dict[int, list[dict[str, Any]]] = {}
        """Replies and notes per ticket id, oldest first."""
        self._entries_by_ref: dict[str, tuple[int, int]] = {}
        """``WorldEntry.ref`` → (ticket id, conversation id)."""
        self._spent: deque[tuple[float, int]] = deque()
        """(time, credits) of every request in the current minute."""
        self._spent_total = 0
        # Indexes of the rows a list can show (not deleted, not spam).
        self._by_created: list[Key] = []
        self._by_updated: list[Key] = []
        self._by_status: dict[int, list[Key]] = {}
        self._indexed: dict[int, tuple[str, str, int]] = {}
        """Ticket id → the (created, updated, status) it is indexed under."""
        self._since_cache: OrderedDict[str, list[Key]] = OrderedDict()
        """``updated_since`` stamp → its matches by creation, kept up to date on every change."""
        self._path_faults: dict[str, deque[Reply]] = {}
        self.rows_served = 0
        """Ticket rows sent in list and filter answers (benchmarks and tests read it)."""
        self.examined = 0
        """Index entries and rows looked at so far: a page cut from an index costs its own
        rows, a first ``updated_since`` its matches, a scan or a rebuild every ticket, a
        change one entry per index (tests check this work, not the time)."""
        self.agent_id = self._agent_named(agent_name)

    def __enter__(self) -> FreshserviceEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`FreshserviceConnector` needs to reach this account.

        ``default_requester_email`` lets hand-offs whose source names no e-mail
        be created (the service desk's own agent stands in as requester).
        """
        return {
            "kind": "freshservice",
            "api_key": self.api_key,
            "default_requester_email": self._agents[self.agent_id]["email"],
        }

    # -- mutators ----------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the ticket for ``ticket.ref``; return its key ``#<id>``."""
        with self.lock:
            ticket_id = self._store(ticket)
            self._reindex(ticket_id)
            return f"#{ticket_id}"

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many tickets at once (benchmarks): the indexes are sorted once at the end."""
        with self.lock:
            keys = [f"#{self._store(ticket)}" for ticket in tickets]
            self._rebuild_indexes()
            return keys

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a reply or note; return its conversation id.

        A reply by the ticket's requester arrives as an incoming e-mail; anyone
        else is an agent. ``internal`` is a private note, ``system`` a meta
        entry Freshservice writes itself. The ticket's ``updated_at`` moves to
        the entry's time when that is later, as a new conversation moves it.
        """
        with self.lock:
            ticket_id = self._ids_by_ref[ticket_ref]
            row = self._tickets[ticket_id]
            requester = row["requester_id"]
            person = self._requesters.get(requester) or self._agents.get(requester)
            from_requester = person is not None and _full_name(person) == entry.author
            user = requester if from_requester else self._agent_named(entry.author)
            stamp = _stamp(entry.at)
            existing = self._entries_by_ref.get(entry.ref)
            entry_id = existing[1] if existing else next(self._entity_ids)
            body = entry.html if entry.html is not None else _html_of(entry.text)
            conversation = {
                "id": entry_id,
                "user_id": user,
                "to_emails": [],
                "from_email": self._email_of(user) if from_requester else None,
                "cc_emails": [],
                "bcc_emails": [],
                "body": body,
                "body_text": entry.text if entry.html is None else _text_of(entry.html),
                "ticket_id": ticket_id,
                "created_at": stamp,
                "updated_at": stamp,
                "incoming": from_requester,
                "private": entry.visibility == "internal",
                "source": {"internal": 2, "system": 4}.get(entry.visibility, 0),
                "support_email": None,
                "attachments": [self._attachment(a, stamp) for a in entry.attachments],
            }
            thread = self._conversations.setdefault(ticket_id, [])
            if existing:
                at = next(i for i, c in enumerate(thread) if c["id"] == entry_id)
                conversation["created_at"] = thread[at]["created_at"]
                thread[at] = conversation
            else:
                thread.append(conversation)
                thread.sort(key=lambda c: (c["created_at"], c["id"]))
                self._entries_by_ref[entry.ref] = (ticket_id, entry_id)
            if stamp > row["updated_at"]:
                row["updated_at"] = stamp
                self._reindex(ticket_id)
            return str(entry_id)

    def set_native(self, ref: str, **fields: Any) -> None:
        """Change native fields directly (e.g. a custom ``status=6``), as an agent can."""
        with self.lock:
            ticket_id = self._ids_by_ref[ref]
            row = self._tickets[ticket_id]
            unknown = set(fields) - (set(row) - {"id", "created_at"})
            if unknown:
                raise KeyError(f"cannot set {sorted(unknown)}")
            for key in ("status", "priority"):
                value = fields.get(key)
                if key in fields and (not isinstance(value, int) or isinstance(value, bool)):
                    raise ValueError(f"{key} must be an integer code")
            row.update(fields)
            if "updated_at" not in fields:
                row["updated_at"] = _stamp(self.clock())
            self._reindex(ticket_id)

    def delete_ticket(self, ref: str) -> None:
        """Move a ticket to trash: the list stops showing it."""
        self.set_native(ref, deleted=True)

    def ticket_id(self, ref: str) -> int:
        """The native id of the ticket put under ``ref``."""
        with self.lock:
            return self._ids_by_ref[ref]

    def ticket(self, ref: str) -> dict[str, Any]:
        """The ticket as the list shows it, without embeds."""
        with self.lock:
            return self._ticket_view(self._ids_by_ref[ref], set())

    def native(self, ticket_id: int) -> dict[str, Any]:
        """A copy of the ticket with this id (API-created ones have no ``ref``)."""
        with self.lock:
            return self._ticket_view(ticket_id, {"stats"})

    def agent_named(self, name: str) -> int:
        """The id of the agent called ``name`` (made on first use), as ``responder_id`` takes it."""
        with self.lock:
            return self._agent_named(name)

    def _store(self, ticket: WorldTicket) -> int:
        """The native row (and stats) for a world ticket; indexes are the caller's business."""
        ticket_id = self._ids_by_ref.get(ticket.ref)
        if ticket_id is None:
            ticket_id = next(self._ticket_ids)
            self._ids_by_ref[ticket.ref] = ticket_id
        status = _STATUS_OUT[ticket.status]
        priority = _PRIORITY_OUT[ticket.priority] if ticket.priority else 1
        requester = self._requester_named(ticket.requester) if ticket.requester else self.agent_id
        respond_within, resolve_within = _SLA_TARGETS[priority]
        due_by = ticket.due_at or ticket.created_at + resolve_within
        fr_due_by = min(ticket.created_at + respond_within, due_by)
        now = self.clock()
        active = status in _ACTIVE
        breached = ticket.breached if ticket.breached is not None else active and now > due_by
        answered = ticket.first_response_at
        fr_late = answered > fr_due_by if answered else active and now > fr_due_by
        description = ticket.description or ticket.title
        created, updated = _stamp(ticket.created_at), _stamp(ticket.updated_at)
        self._tickets[ticket_id] = {
            "subject": ticket.title,
            "group_id": self._group_named(ticket.group) if ticket.group else None,
            "department_id": None,
            "category": None,
            "sub_category": None,
            "item_category": None,
            "requester_id": requester,
            "responder_id": self._agent_named(ticket.assignee) if ticket.assignee else None,
            "due_by": _stamp(due_by),
            "fr_escalated": fr_late,
            "deleted": False,
            "spam": False,
            "email_config_id": None,
            "fwd_emails": [],
            "reply_cc_emails": [],
            "cc_emails": [],
            "is_escalated": breached,
            "fr_due_by": _stamp(fr_due_by),
            "id": ticket_id,
            "priority": priority,
            "status": status,
            "source": 2,
            "created_at": created,
            "updated_at": updated,
            "requested_for_id": requester,
            "to_emails": None,
            "type": "Incident",
            "description": f"<div>{html.escape(description)}</div>",
            "description_text": description,
            "custom_fields": {},
            "workspace_id": self.workspace_id,
        }
        resolved = ticket.resolved_at
        if resolved is None and status in (4, 5):
            resolved = ticket.updated_at
        answered_at = _stamp(answered) if answered else None
        self._stats[ticket_id] = {
            "ticket_id": ticket_id,
            "opened_at": created,
            "first_responded_at": answered_at,
            "agent_responded_at": answered_at,
            "requester_responded_at": None,
            "status_updated_at": updated,
            "pending_since": updated if status == 3 else None,
            "resolved_at": _stamp(resolved) if resolved else None,
            "closed_at": updated if status == 5 else None,
            "created_at": created,
            "updated_at": updated,
        }
        return ticket_id

    def _attachment(self, attachment: Any, stamp: str) -> dict[str, Any]:
        attachment_id = next(self._entity_ids)
        return {
            "id": attachment_id,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "name": attachment.name,
            "attachment_url": f"{ATTACHMENT_HOST}/{attachment_id}/{attachment.name}",
            "created_at": stamp,
            "updated_at": stamp,
        }

    # -- indexes -------------------------------------------------------------------

    def _reindex(self, ticket_id: int) -> None:
        """Move one ticket's index entries to its current row (O(log N) search each)."""
        old = self._indexed.pop(ticket_id, None)
        self.examined += 1
        if old is not None:
            created, updated, status = old
            _remove(self._by_created, (created, ticket_id))
            _remove(self._by_updated, (updated, ticket_id))
            _remove(self._by_status.get(status, []), (created, ticket_id))
            for since, matches in self._since_cache.items():
                if updated >= since:
                    _remove(matches, (created, ticket_id))
        row = self._tickets[ticket_id]
        if row["deleted"] or row["spam"]:
            return
        created, updated, status = row["created_at"], row["updated_at"], row["status"]
        bisect.insort(self._by_created, (created, ticket_id))
        bisect.insort(self._by_updated, (updated, ticket_id))
        bisect.insort(self._by_status.setdefault(status, []), (created, ticket_id))
        for since, matches in self._since_cache.items():
            if updated >= since:
                bisect.insort(matches, (created, ticket_id))
        self._indexed[ticket_id] = (created, updated, status)

    def _rebuild_indexes(self) -> None:
        self.examined += len(self._tickets)
        self._since_cache.clear()
        self._indexed = {
            ticket_id: (row["created_at"], row["updated_at"], row["status"])
            for ticket_id, row in self._tickets.items()
            if not (row["deleted"] or row["spam"])
        }
        self._by_created = sorted((c, i) for i, (c, _u, _s) in self._indexed.items())
        self._by_updated = sorted((u, i) for i, (_c, u, _s) in self._indexed.items())
        self._by_status = {}
        for ticket_id, (created, _updated, status) in self._indexed.items():
            self._by_status.setdefault(status, []).append((created, ticket_id))
        for index in self._by_status.values():
            index.sort()

    def _updated_since(self, since: str) -> list[Key]:
        """Rows updated at or after ``since``, by creation.

        Sorted once when a pass first asks, then kept current by :meth:`_reindex`,
        so each further page of the pass is a slice, whatever changes meanwhile.
        """
        cached = self._since_cache.get(since)
        if cached is not None:
            self._since_cache.move_to_end(since)
            return cached
        start = bisect.bisect_left(self._by_updated, (since, -1))
        self.examined += len(self._by_updated) - start
        matches = sorted((self._indexed[i][0], i) for _u, i in self._by_updated[start:])
        self._since_cache[since] = matches
        if len(self._since_cache) > SINCE_CACHE:
            self._since_cache.popitem(last=False)
        return matches

    # -- wire format ---------------------------------------------------------------

    def inject_on(self, path: str, *replies: Reply) -> None:
        """Answer the next requests *to this path* with these replies (other paths route)."""
        with self.lock:
            self._path_faults.setdefault(path, deque()).extend(replies)

    def handle(self, request: Request) -> Reply:
        """A fault queued for the request's path first, then the shared queue and the route."""
        with self.lock:
            queued = self._path_faults.get(request.path)
            if queued:
                self.requests.append(request)
                return queued.popleft()
        return super().handle(request)

    def route(self, request: Request) -> Reply:
        """Charge the request's credits, then answer; rate-limit headers on every answer."""
        now = self.clock().timestamp()
        while self._spent and self._spent[0][0] <= now - 60:
            self._spent_total -= self._spent.popleft()[1]
        cost = 1 + len(self._embeds(request)) if request.path == TICKETS_PATH else 1
        used = self._spent_total
        if used + cost > self.rate_limit_per_minute:
            wait = max(math.ceil(self._spent[0][0] + 60 - now), 1) if self._spent else 60
            reply = Reply(
                429,
                {"message": "You have exceeded the limit of requests per minute"},
                headers={"Retry-After": str(wait)},
            )
            cost = 0
        else:
            self._spent.append((now, cost))
            self._spent_total += cost
            used += cost
            reply = self._answer(request)
        reply.headers.setdefault("X-RateLimit-Total", str(self.rate_limit_per_minute))
        reply.headers.setdefault(
            "X-RateLimit-Remaining", str(max(self.rate_limit_per_minute - used, 0))
        )
        reply.headers.setdefault("X-RateLimit-Used-CurrentRequest", str(cost))
        return reply

    def _answer(self, request: Request) -> Reply:
        if not self._authorised(request.headers.get("authorization")):
            return Reply(401, dict(_INVALID_CREDENTIALS))
        path = request.path.rstrip("/")
        if request.method in ("POST", "PUT"):
            return self._write(request, path)
        if request.method not in ("GET", "HEAD"):
            return _not_found()
        conversation = _CONVERSATION_PATH.match(path)
        if conversation is not None and conversation["kind"] == "conversations":
            return self._conversation_list(request, int(conversation["id"]))
        if path == TICKETS_PATH:
            return self._list(request)
        if path == FILTER_PATH:
            return self._filter(request)
        if path == ME_PATH:
            return Reply(200, {"agent": dict(self._agents[self.agent_id])})
        person = _PERSON_PATH.match(path)
        if person is not None:
            return self._person_view(person["book"], int(person["id"]))
        match = _TICKET_PATH.match(path)
        if match is not None:
            ticket_id = int(match["id"])
            row = self._tickets.get(ticket_id)
            if row is None or row["deleted"]:
                return _not_found()
            embeds = self._embeds(request)
            if not embeds <= VIEW_EMBEDS:
                return _invalid("include", f"It should be one of {','.join(sorted(VIEW_EMBEDS))}")
            return Reply(200, {"ticket": self._ticket_view(ticket_id, embeds)})
        return _not_found()

    def _list(self, request: Request) -> Reply:
        refused = _unexpected(request, _LIST_PARAMS)
        if refused is not None:
            return refused
        paging = _paging(request, self.page_size)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        order = request.param("order_type", "desc")
        if order not in ("asc", "desc"):
            return _invalid("order_type", "It should be one of these values: 'asc,desc'")
        embeds = self._embeds(request)
        if not embeds <= LIST_EMBEDS:
            return _invalid("include", "It should be one of these values: 'requester,stats'")
        since_text = request.param("updated_since")
        since: datetime | None = None
        if since_text is not None:
            since = _parse_since(since_text)
            if since is None:
                return _invalid("updated_since", "It should be in the 'valid date' format")
        if self.filter_after_paging:
            return self._list_scanning(request, since, order, page, per_page, embeds)
        if since is not None:
            matches = self._updated_since(_ceil_stamp(since))
            count = len(matches)

            def at(position: int) -> int:
                return matches[position][1]
        else:
            first = bisect.bisect_left(
                self._by_created, (_stamp(self.clock() - DEFAULT_WINDOW), -1)
            )
            count = len(self._by_created) - first

            def at(position: int) -> int:
                return self._by_created[first + position][1]

        start = (page - 1) * per_page
        positions = range(start, min(start + per_page, count))
        if order == "desc":
            positions = range(count - 1 - start, max(count - 1 - start - per_page, -1), -1)
        tickets = [self._ticket_view(at(p), embeds) for p in positions]
        self.rows_served += len(tickets)
        self.examined += len(tickets)
        headers = self._next_link(request, TICKETS_PATH, page, per_page, count)
        return Reply(200, {"tickets": tickets}, headers=headers)

    def _list_scanning(
        self,
        request: Request,
        since: datetime | None,
        order: str,
        page: int,
        per_page: int,
        embeds: set[str],
    ) -> Reply:
        """The test mode: cut the page from every row, then drop deleted/spam ones (O(N))."""
        self.examined += len(self._tickets)
        if since is not None:
            floor = _ceil_stamp(since)
            rows = [r for r in self._tickets.values() if r["updated_at"] >= floor]
        else:
            floor = _stamp(self.clock() - DEFAULT_WINDOW)
            rows = [r for r in self._tickets.values() if r["created_at"] >= floor]
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=order == "desc")
        window = rows[(page - 1) * per_page : page * per_page]
        window = [r for r in window if not (r["deleted"] or r["spam"])]
        headers = self._next_link(request, TICKETS_PATH, page, per_page, len(rows))
        tickets = [self._ticket_view(r["id"], embeds) for r in window]
        self.rows_served += len(tickets)
        return Reply(200, {"tickets": tickets}, headers=headers)

    def _next_link(
        self, request: Request, path: str, page: int, per_page: int, count: int
    ) -> dict[str, str]:
        if count <= page * per_page:
            return {}
        query = {k: v[0] for k, v in request.query.items() if v}
        query.update({"page": str(page + 1), "per_page": str(per_page)})
        return {"Link": f'<{self.base_url}{path}?{urlencode(query)}>; rel="next"'}

    def _filter(self, request: Request) -> Reply:
        """``GET /tickets/filter?query="…"``: the query language, a count, ten pages at most."""
        refused = _unexpected(request, _FILTER_PARAMS)
        if refused is not None:
            return refused
        paging = _paging(request, DEFAULT_PER_PAGE)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        per_page = min(per_page, self.filter_page_limit)
        if page > MAX_FILTER_PAGES:
            return _invalid(
                "page",
                f"You cannot access tickets beyond the {MAX_FILTER_PAGES}th page. "
                "Please provide a smaller page number.",
            )
        quoted = (request.param("query") or "").strip()
        if len(quoted) < 2 or not (quoted.startswith('"') and quoted.endswith('"')):
            return _invalid("query", "Query should be enclosed in double quotes", "invalid_value")
        if len(quoted) > MAX_QUERY_LENGTH:
            return _invalid("query", f"Query should not exceed {MAX_QUERY_LENGTH} characters")
        try:
            node = _parse_query(quoted[1:-1])
        except _QueryError as exc:
            return _invalid("query", str(exc))
        keys, total = self._filtered(node, (page - 1) * per_page, per_page)
        tickets = [self._ticket_view(ticket_id, set()) for _c, ticket_id in keys]
        self.rows_served += len(tickets)
        return Reply(200, {"tickets": tickets, "total": total})

    def _filtered(self, node: Any, skip: int, take: int) -> tuple[list[Key], int]:
        """One page of a filter, newest created first, and its count; no scan of the account."""
        status, low, high, rest = _plan_query(node)
        codes = [c for c in self._by_status if status(c)] if status else None
        sources = [self._by_status[c] for c in codes] if codes is not None else [self._by_created]
        ranges = []
        for index in sources:
            start = bisect.bisect_left(index, (low, -1))
            stop = bisect.bisect_left(index, (high, -1))
            if stop > start:
                ranges.append((index, start, stop))
        if not rest:
            self.examined += skip + take  # the merge walks to the page, no further
            total = sum(stop - start for _index, start, stop in ranges)
            merged = heapq.merge(*(_backwards(i, a, b) for i, a, b in ranges), reverse=True)
            return list(itertools.islice(merged, skip, skip + take)), total
        self.examined += sum(stop - start for _index, start, stop in ranges)
        found = sorted(
            (
                key
                for index, start, stop in ranges
                for key in index[start:stop]
                if _matches(_Bool("AND", tuple(rest)), self._tickets[key[1]])
            ),
            reverse=True,
        )
        return found[skip : skip + take], len(found)

    def _person_view(self, book: str, person_id: int) -> Reply:
        """``GET /requesters/{id}`` (e-mail as ``primary_email``) or ``GET /agents/{id}``."""
        if book == "agents":
            agent = self._agents.get(person_id)
            return Reply(200, {"agent": dict(agent)}) if agent else _not_found()
        found = self._requesters.get(person_id)
        if found is None:
            return _not_found()
        requester = {k: v for k, v in found.items() if k != "email"}
        requester["primary_email"] = found["email"]
        return Reply(200, {"requester": requester})

    def _conversation_list(self, request: Request, ticket_id: int) -> Reply:
        row = self._tickets.get(ticket_id)
        if row is None or row["deleted"]:
            return _not_found()
        paging = _paging(request, DEFAULT_PER_PAGE)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        thread = self._conversations.get(ticket_id, [])
        window = thread[(page - 1) * per_page : page * per_page]
        rows = [_copy(c) for c in window]
        path = f"{TICKETS_PATH}/{ticket_id}/conversations"
        headers = self._next_link(request, path, page, per_page, len(thread))
        return Reply(200, {"conversations": rows, "meta": {"count": len(thread)}}, headers=headers)

    # -- writes ------------------------------------------------------------------------

    def _write(self, request: Request, path: str) -> Reply:
        """Create, update, note and reply: JSON only, then the path decides."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return Reply(
                415,
                {
                    "code": "invalid_content_type",
                    "message": f"Content-Type header is set to {content_type}. "
                    "It should be set to application/json",
                },
            )
        try:
            body = request.json()
        except ValueError:
            return _invalid("", "Request body has invalid json format", "invalid_json")
        if not isinstance(body, dict):
            return _invalid("", "Request body has invalid json format", "invalid_json")
        if request.method == "POST" and path == TICKETS_PATH:
            return self._create(body)
        match = _TICKET_PATH.match(path)
        conversation = _CONVERSATION_PATH.match(path)
        found = match or conversation
        row = self._tickets.get(int(found["id"])) if found is not None else None
        if row is None or row["deleted"]:
            return _not_found()
        if request.method == "PUT" and match is not None:
            return self._update(row, body)
        if request.method == "POST" and conversation is not None:
            if conversation["kind"] == "notes":
                return self._converse(row, body, note=True)
            if conversation["kind"] == "reply":
                return self._converse(row, body, note=False)
        return _not_found()

    def _update(self, row: dict[str, Any], body: dict[str, Any]) -> Reply:
        """``PUT /tickets/{id}``: validate every field first, then apply them all."""
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in _SETTABLE
        ]
        errors += self._field_errors(body)
        if errors:
            return _validation(errors)
        now = self.clock()
        status = body.get("status")
        if status is not None and status != row["status"]:
            self._status_changed(row["id"], status, now)
        row.update(body)
        if "description" in body:
            row["description_text"] = _text_of(body["description"])
        row["updated_at"] = _stamp(now)
        self._reindex(row["id"])
        return Reply(200, {"ticket": self._ticket_view(row["id"], set())})

    def _create(self, body: dict[str, Any]) -> Reply:
        """``POST /tickets``: a requester (found or made from ``email``), subject, description."""
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in _CREATE_FIELDS
        ]
        if not any(body.get(k) for k in ("email", "requester_id")):
            errors.append(
                _error(
                    "requester_id",
                    "Please fill at least 1 of email, phone, requester_id fields",
                    "missing_field",
                )
            )
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            errors.append(_error("email", "It should be in the 'valid email address' format"))
        requester_id = body.get("requester_id")
        if requester_id is not None and requester_id not in self._requesters | self._agents:
            errors.append(
                _error("requester_id", "There is no contact matching the given requester_id")
            )
        for name in ("subject", "description"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(_error(name, "It should be a/an String", "missing_field"))
        for name in ("status", "priority"):
            if name not in body:
                errors.append(_error(name, "It should be a/an Integer", "missing_field"))
        errors += self._field_errors(body)
        if errors:
            return _validation(errors)
        now = self.clock()
        if requester_id is None:
            requester_id = self._person_by_email(str(email))
        description = str(body["description"])
        ref = f"api-{len(self.created) + 1}-{now.timestamp()}"
        key = self.put_ticket(
            WorldTicket(
                ref=ref,
                title=str(body["subject"]),
                status=TicketStatus.OPEN,
                priority=None,
                created_at=now,
                updated_at=now,
            )
        )
        ticket_id = int(key.removeprefix("#"))
        row = self._tickets[ticket_id]
        row.update(
            {k: v for k, v in body.items() if k in _CREATE_FIELDS - {"email", "status"}},
            requester_id=requester_id,
            requested_for_id=requester_id,
            description_text=_text_of(description),
        )
        respond_within, resolve_within = _SLA_TARGETS[row["priority"]]
        row.update(due_by=_stamp(now + resolve_within), fr_due_by=_stamp(now + respond_within))
        if body["status"] != row["status"]:
            self._status_changed(ticket_id, body["status"], now)
            row["status"] = body["status"]
        self._reindex(ticket_id)
        self.created.append(str(ticket_id))
        return Reply(201, {"ticket": self._ticket_view(ticket_id, set())})

    def _converse(self, row: dict[str, Any], body: dict[str, Any], *, note: bool) -> Reply:
        """A private (or public) note, or a public reply; both bump the ticket."""
        allowed = _NOTE_FIELDS if note else _REPLY_FIELDS
        errors = [
            _error(name, "Unexpected/invalid field in request", "invalid_field")
            for name in body
            if name not in allowed
        ]
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            errors.append(_error("body", "It should be a/an String", "missing_field"))
        private = body.get("private", True) if note else False
        if not isinstance(private, bool):
            errors.append(_error("private", "It should be a/an Boolean", "datatype_mismatch"))
        if errors:
            return _validation(errors)
        now = self.clock()
        ticket_id = row["id"]
        assert isinstance(text, str)
        conversation = {
            "id": next(self._entity_ids),
            "user_id": self.agent_id,
            "to_emails": [] if note else [e for e in [self._email_of(row["requester_id"])] if e],
            "from_email": None,
            "cc_emails": [],
            "bcc_emails": [],
            "body": text,
            "body_text": _text_of(text),
            "ticket_id": ticket_id,
            "created_at": _stamp(now),
            "updated_at": _stamp(now),
            "incoming": False,
            "private": private,
            "source": 2 if note else 0,
            "support_email": None,
            "attachments": [],
        }
        self._conversations.setdefault(ticket_id, []).append(conversation)
        self.record_comment(ticket_id, text, public=not private)
        if not private:
            stats = self._stats[ticket_id]
            stats["agent_responded_at"] = _stamp(now)
            stats["first_responded_at"] = stats["first_responded_at"] or _stamp(now)
        row["updated_at"] = _stamp(now)
        self._reindex(ticket_id)
        return Reply(201, {"conversation": _copy(conversation)})

    def _field_errors(self, body: dict[str, Any]) -> list[dict[str, str]]:
        """Type and value checks shared by create and update."""
        errors: list[dict[str, str]] = []
        choices = {
            "status": _NATIVE_STATUSES,
            "priority": _NATIVE_PRIORITIES,
            "source": _NATIVE_SOURCES,
        }
        for name, allowed in choices.items():
            value = body.get(name)
            if name in body and (not _is_int(value) or value not in allowed):
                listed = ",".join(str(v) for v in sorted(allowed))
                errors.append(_error(name, f"It should be one of these values: '{listed}'"))
        responder = body.get("responder_id")
        if responder is not None:
            if not _is_int(responder):
                errors.append(
                    _error(
                        "responder_id", "It should be a/an Positive Integer", "datatype_mismatch"
                    )
                )
            elif responder not in self._agents:
                errors.append(
                    _error("responder_id", "There is no agent matching the given responder_id")
                )
        group = body.get("group_id")
        if group is not None and group not in self._groups:
            errors.append(_error("group_id", "There is no group matching the given group_id"))
        for name in ("subject", "description"):
            if name in body and not isinstance(body[name], str):
                errors.append(_error(name, "It should be a/an String", "datatype_mismatch"))
        return errors

    def _status_changed(self, ticket_id: int, status: int, now: datetime) -> None:
        """Keep the ``stats`` embed true to a status change made through the API."""
        stats = self._stats[ticket_id]
        stamp = _stamp(now)
        stats["status_updated_at"] = stamp
        stats["pending_since"] = stamp if status == 3 else None
        if status in (4, 5):
            stats["resolved_at"] = stats["resolved_at"] or stamp
        else:
            stats["resolved_at"] = None
        stats["closed_at"] = stamp if status == 5 else None
        stats["updated_at"] = stamp

    def _person_by_email(self, email: str) -> int:
        """The requester (or agent) with this e-mail; Freshservice makes a new requester else."""
        found = self._by_email.get(email.strip().lower())
        if found is not None:
            return found
        person_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        self._requesters[person_id] = {
            "id": person_id,
            "first_name": email.split("@")[0],
            "last_name": "",
            "email": email.strip(),
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._by_email[email.strip().lower()] = person_id
        self._named.setdefault(("requester", email.split("@")[0]), person_id)
        return person_id

    def _email_of(self, person_id: int) -> str | None:
        person = self._requesters.get(person_id) or self._agents.get(person_id)
        return str(person["email"]) if person else None

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _embeds(request: Request) -> set[str]:
        return {e.strip() for e in (request.param("include") or "").split(",") if e.strip()}

    def _authorised(self, header: str | None) -> bool:
        """Basic ``{api_key}:{anything}``: Freshservice ignores the password."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded.partition(":")[0] == self.api_key

    def _ticket_view(self, ticket_id: int, embeds: set[str]) -> dict[str, Any]:
        row = self._tickets[ticket_id]
        view = {k: (list(v) if isinstance(v, list) else v) for k, v in row.items()}
        view["custom_fields"] = dict(row["custom_fields"])
        if "requester" in embeds:
            person = self._requesters.get(row["requester_id"]) or self._agents.get(
                row["requester_id"]
            )
            view["requester"] = (
                {
                    "email": person["email"],
                    "id": person["id"],
                    "mobile": None,
                    "name": _full_name(person),
                    "phone": None,
                }
                if person
                else None
            )
        if "stats" in embeds:
            view["stats"] = dict(self._stats.get(ticket_id, {}))
        return view

    def _person(self, name: str, book: dict[int, dict[str, Any]], kind: str) -> int:
        found = self._named.get((kind, name))
        if found is not None:
            return found
        person_id = next(self._entity_ids)
        first, _, last = name.partition(" ")
        local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or f"user{person_id}"
        stamp = _stamp(self.clock())
        book[person_id] = {
            "id": person_id,
            "first_name": first,
            "last_name": last,
            "email": f"{local}@acme.example",
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._named[(kind, name)] = person_id
        self._by_email.setdefault(book[person_id]["email"], person_id)
        return person_id

    def _requester_named(self, name: str) -> int:
        return self._person(name, self._requesters, "requester")

    def _agent_named(self, name: str) -> int:
        agent_id = self._person(name, self._agents, "agent")
        self._agents[agent_id].setdefault("occasional", False)
        self._agents[agent_id].setdefault("job_title", None)
        return agent_id

    def _group_named(self, name: str) -> int:
        found = self._named.get(("group", name))
        if found is not None:
            return found
        group_id = next(self._entity_ids)
        stamp = _stamp(self.clock())
        self._groups[group_id] = {
            "id": group_id,
            "name": name,
            "description": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._named[("group", name)] = group_id
        return group_id


def _full_name(person: dict[str, Any]) -> str:
    return f"{person['first_name']} {person['last_name']}".strip()


def _html_of(text: str) -> str:
    """Plain text as the HTML body Freshservice keeps: escaped, line breaks as ``<br>``."""
    return "<div>" + "<br>".join(html.escape(line) for line in text.split("\n")) + "</div>"


def _copy(conversation: dict[str, Any]) -> dict[str, Any]:
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in conversation.items()}
    out["attachments"] = [dict(a) for a in conversation.get("attachments", [])]
    return out


def _backwards(index: list[Key], start: int, stop: int) -> Iterator[Key]:
    """``index[start:stop]`` newest first, without copying it."""
    for position in range(stop - 1, start - 1, -1):
        yield index[position]


EMULATOR = FreshserviceEmulator

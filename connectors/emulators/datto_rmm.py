"""A Datto RMM account on loopback, speaking the API v2 wire format (kind ``datto-rmm``).

What it follows, and how sure that is (``vendor-apis-2.md`` §2.1 tags):

* **Token** ``POST /auth/oauth/token`` (outside ``/api``): Basic auth of the
  public client ``public-client:public``, form ``grant_type=password&username=
  {key}&password={secret}`` [C: DattoRMM.Core, a live tenant's notes]; answers
  ``access_token``, ``refresh_token``, ``expires_in`` [C] plus ``token_type``,
  ``scope`` and ``jti`` (**assumed**: Spring's OAuth server sends them; not seen in
  a capture). A wrong key or secret answers 400 ``{"error": "invalid_grant",
  "error_description": "Bad credentials"}`` and a missing client 401 —
  **assumed** (Spring OAuth2's answers; Datto documents neither). Tokens live
  ``token_ttl`` seconds (Datto: 100 hours [D]); an expired or unknown token is
  answered 401 on every call [D]. Only the password grant is served: whether
  Datto takes ``grant_type=refresh_token`` is **unconfirmed**.
* **Alert lists** ``GET /api/v2/account/alerts/open`` and ``…/resolved`` with a
  0-based ``page`` and ``max`` (default and cap 250: a larger ``max`` silently
  gives 250) [C]; the answer is ``{"pageDetails": {count, totalCount,
  prevPageUrl, nextPageUrl}, "alerts": [...]}`` [S]. ``nextPageUrl`` is absolute
  on Datto's public host (``PUBLIC_HOST``, not this emulator) and carries only
  ``max`` and ``page`` (DattoRMM.Core re-adds the other parameters, so real links
  drop them) [C]; ``totalCount`` is absent for open alerts [C] and present for
  resolved ones (**assumed**). The order is **not documented**: here open alerts
  come oldest first (``timestamp``, then uid) and resolved ones most recently
  resolved first; the connector depends on neither. Whether the alert lists'
  page size differs from 250 ("except alerts pagination" in the spec) is
  **unconfirmed**; 250 is used.
* **Alert records** carry exactly the capture's keys (``kaseya-datto-rmm-alert.json``:
  ``alertUid``, ``priority``, ``resolved``, ``muted``, ``ticketNumber``, ``timestamp`` in
  epoch ms, ``alertMonitorInfo``, ``alertContext`` with ``@class`` and ``samples``,
  ``alertSourceInfo``, ``autoresolveMins``), plus the spec's ``diagnostics`` when an
  alert has any (a world ticket's description; the captured component-script alert
  carries none, so whether Datto sends it on list rows is **unconfirmed** — the
  connector reads it only when present: title fallback, head of the description),
  ``responseActions`` when it has some, and ``resolvedBy``/``resolvedOn`` once
  resolved. ``resolvedOn`` and ``actionTime`` are sent as epoch ms like
  ``timestamp`` (**assumed**: no capture shows them; the spec says ``date-time``,
  which is already wrong for ``timestamp``). :meth:`DattoRmmEmulator.patch_alert`
  sets any wire value as given, so tests send the other encodings (epoch
  seconds with decimals, ISO, .NET MinValue) too.
* ``GET /api/v2/alert/{alertUid}`` [S]; ``POST /api/v2/alert/{alertUid}/resolve``
  with no body, answered 200 with none [S] (whether Datto accepts a body is
  **unconfirmed**; one is ignored). Resolving a resolved alert answers 200 again
  (**assumed**). ``resolvedBy`` becomes ``api_user``.
* ``GET /api/v2/account``, ``/api/v2/system/pagination`` (``{"max": 250}`` [C]) and
  ``/api/v2/system/request_rate`` (the spec's fields [S], counted here).
* **Rate limits** [D: Datto's API page; C: a live tenant]: reads counted per
  rolling 60 s; at 90 % of ``read_limit`` (600) every answer is delayed
  ``slow_delay`` (one second), past it the answer is 429 with ``Retry-After``
  (seconds until the oldest counted read ages out). Writes have their own
  window (``write_limit``, 100 by default [C: api-evangelist's summary of
  Datto's page; a live tenant measured 600]). The token endpoint is not counted
  (**assumed**).
* **Errors** are Spring's ``{"timestamp": <epoch ms>, "status", "error": <reason
  phrase>, "path"}`` with the path below ``/api`` [S: ``ErrorResponse`` examples].

Scale: alerts are compact rows; the open and resolved lists are kept sorted,
so a page is a slice and costs the same at 100 alerts and at 100,000
(:meth:`DattoRmmEmulator.put_tickets` loads many and sorts once).
"""

from __future__ import annotations

import bisect
import math
import time
import uuid
import zlib
from base64 import b64decode
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlencode

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus

__all__ = ["EMULATOR", "PUBLIC_HOST", "DattoRmmEmulator", "epoch_ms"]

PUBLIC_HOST = "https://merlot-api.centrastage.net"
"""The host Datto writes into ``nextPageUrl`` (a client must not send its token there)."""
TOKEN_PATH = "/auth/oauth/token"
API = "/api"
OPEN_PATH = "/api/v2/account/alerts/open"
RESOLVED_PATH = "/api/v2/account/alerts/resolved"
ALERT_PREFIX = "/api/v2/alert/"
MAX_PAGE = 250
WINDOW = 60.0
PUBLIC_CLIENT = ("public-client", "public")
PRIORITIES = {
    Priority.P1: "Critical",
    Priority.P2: "High",
    Priority.P3: "Moderate",
    Priority.P4: "Low",
    Priority.P5: "Information",
}
_NAMESPACE = uuid.UUID("0e7c2b64-5b7e-4d0e-9a57-3d1f2c0b8a41")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(value: datetime) -> int:
    """Epoch milliseconds, exactly (no float rounding)."""
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Alert:
    """One alert, compact: its JSON is built only when an answer returns it."""

    uid: str
    priority: str
    timestamp: int
    context: dict[str, Any]
    device_uid: str
    device_name: str
    site_uid: str
    site_name: str
    resolved: bool = False
    resolved_by: str | None = None
    resolved_on: int | None = None
    diagnostics: str = ""
    ticket_number: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    autoresolve: int = 0
    patched: dict[str, Any] = field(default_factory=dict)
    """Wire values set as given by :meth:`DattoRmmEmulator.patch_alert`."""
    ref: str | None = None

    def key(self) -> tuple[int, str]:
        """Sort key in the list it belongs to: oldest first open, newest resolved first."""
        if self.resolved:
            return (-(self.resolved_on or self.timestamp), self.uid)
        return (self.timestamp, self.uid)

    def wire(self) -> dict[str, Any]:
        """The alert as Datto sends it (the capture's keys, plus what the alert has)."""
        body: dict[str, Any] = {
            "alertUid": self.uid,
            "priority": self.priority,
            "resolved": self.resolved,
            "muted": False,
            "ticketNumber": self.ticket_number,
            "timestamp": self.timestamp,
            "alertMonitorInfo": {"sendsEmails": False, "createsTicket": False},
            "alertContext": self.context,
            "alertSourceInfo": {
                "deviceUid": self.device_uid,
                "deviceName": self.device_name,
                "siteUid": self.site_uid,
                "siteName": self.site_name,
            },
            "autoresolveMins": self.autoresolve,
        }
        if self.diagnostics:
            body["diagnostics"] = self.diagnostics
        if self.actions:
            body["responseActions"] = self.actions
        if self.resolved:
            body["resolvedBy"] = self.resolved_by
            body["resolvedOn"] = self.resolved_on
        body.update(self.patched)
        return body


class DattoRmmEmulator(TicketEmulator):
    """One Datto RMM account: an API key and secret, sites, devices and their alerts."""

    kind: ClassVar[str] = "datto-rmm"

    def __init__(
        self,
        *,
        api_key: str = "K7QX2M9VPLR4T8WN3JCB",
        api_secret: str = "s3cr3t-0f4c-datto-rmm-9b2e",
        token_ttl: float = 360_000.0,
        read_limit: int | None = 600,
        write_limit: int | None = 100,
        cutoff_ratio: float = 0.9,
        slow_delay: float = 1.0,
        api_user: str = "paneglass API",
        account_name: str = "Acme Managed Services",
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = MAX_PAGE,
        latency: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.api_key = api_key
        self.api_secret = api_secret
        self.token_ttl = token_ttl
        """Seconds a token lives (Datto: 100 hours)."""
        self.read_limit = read_limit
        """Reads per rolling minute before 429; ``None``: unlimited (benches)."""
        self.write_limit = write_limit
        self.cutoff_ratio = cutoff_ratio
        self.slow_delay = slow_delay
        """Seconds every answer is delayed above ``cutoff_ratio`` of the read limit."""
        self.api_user = api_user
        self.account_name = account_name
        self.tokens: dict[str, float] = {}
        """Issued access token → when it expires (``time.monotonic``)."""
        self.token_requests = 0
        self._alerts: dict[str, _Alert] = {}
        self._by_ref: dict[str, str] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._open: list[tuple[int, str]] = []
        self._resolved: list[tuple[int, str]] = []
        self._reads: deque[float] = deque()
        self._writes: deque[float] = deque()
        self._path_faults: dict[str, deque[Reply]] = {}

    def __enter__(self) -> DattoRmmEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The config section a :class:`DattoRmmConnector` needs to reach this account."""
        return {"kind": "datto-rmm", "api_key": self.api_key, "api_secret": self.api_secret}

    def inject_on(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to exactly ``path`` with these replies (one each)."""
        with self.lock:
            self._path_faults.setdefault(path, deque()).extend(replies)

    # -- the world ---------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the alert for ``ticket.ref``; return its key (the uid's start)."""
        with self.lock:
            row = self._upsert(ticket)
            self._index(row)
            return row.uid[:8]

    def put_tickets(self, tickets: Iterable[WorldTicket]) -> list[str]:
        """Many at once (benches): the lists are sorted once at the end."""
        with self.lock:
            keys = [self._upsert(t).uid[:8] for t in tickets]
            self._open = sorted(a.key() for a in self._alerts.values() if not a.resolved)
            self._resolved = sorted(a.key() for a in self._alerts.values() if a.resolved)
            return keys

    def alert_uid(self, ref: str) -> str:
        """The alertUid of a world ticket."""
        with self.lock:
            return self._by_ref[ref]

    def alert(self, ref: str) -> dict[str, Any]:
        """The alert as the API sends it."""
        with self.lock:
            return self._alerts[self._by_ref[ref]].wire()

    def patch_alert(self, ref: str, **wire: Any) -> None:
        """Set wire values exactly as given (``resolvedOn="2026-08-25T07:26:00Z"``)."""
        with self.lock:
            self._alerts[self._by_ref[ref]].patched.update(wire)

    def resolve(self, ref: str, *, by: str | None = None, at: datetime | None = None) -> None:
        """Resolve an alert, as Datto's auto-resolve or a technician would."""
        with self.lock:
            row = self._alerts[self._by_ref[ref]]
            self._resolve(row, by or "auto-resolve", epoch_ms(at or self.clock()))

    def delete(self, ref: str) -> None:
        """Remove an alert entirely (its device was deleted): a 404 from then on."""
        with self.lock:
            row = self._alerts.pop(self._by_ref.pop(ref))
            self._unindex(row)

    def spend_reads(self, count: int) -> None:
        """Count reads another integration made on the account just now."""
        with self.lock:
            now = time.monotonic()
            self._reads.extend([now] * count)

    def expire_tokens(self) -> None:
        """Every issued token lapses now (the 100 hours have passed)."""
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def _upsert(self, ticket: WorldTicket) -> _Alert:
        uid = self._by_ref.get(ticket.ref)
        row = self._alerts.get(uid) if uid else None
        if row is not None:
            self._unindex(row)
        device = ticket.asset or f"WS-{zlib.crc32(ascii(ticket.ref).encode()) % 10_000:04d}"
        site = ticket.group or "Acme HQ"
        context = {"@class": "comp_script_ctx", "samples": {"Alert": ticket.title}}
        resolved = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        if row is None:
            uid = str(uuid.uuid5(_NAMESPACE, ascii(ticket.ref)))
            row = _Alert(
                uid=uid,
                priority="Unknown",
                timestamp=0,
                context=context,
                device_uid="",
                device_name=device,
                site_uid="",
                site_name=site,
                ref=ticket.ref,
            )
            self._alerts[uid] = row
            self._by_ref[ticket.ref] = uid
        row.priority = PRIORITIES.get(ticket.priority, "Unknown") if ticket.priority else "Unknown"
        row.timestamp = epoch_ms(ticket.created_at)
        row.context = context
        row.device_name, row.device_uid = device, self._uid_for("device", device)
        row.site_name, row.site_uid = site, self._uid_for("site", site)
        row.diagnostics = ticket.description
        if resolved:
            at = ticket.resolved_at or ticket.updated_at
            row.resolved, row.resolved_by = True, ticket.assignee or "auto-resolve"
            row.resolved_on = epoch_ms(at)
        else:
            row.resolved, row.resolved_by, row.resolved_on = False, None, None
        return row

    def _uid_for(self, kind: str, name: str) -> str:
        """A stable uid per device or site name (devices and sites are not modelled further)."""
        key = (kind, name)
        uid = self._names.get(key)
        if uid is None:
            uid = self._names[key] = str(uuid.uuid5(_NAMESPACE, f"{kind}:{name!a}"))
        return uid

    def _resolve(self, row: _Alert, by: str, at: int) -> None:
        if row.resolved:
            return
        self._unindex(row)
        row.resolved, row.resolved_by, row.resolved_on = True, by, at
        self._index(row)

    def _index(self, row: _Alert) -> None:
        bisect.insort(self._resolved if row.resolved else self._open, row.key())

    def _unindex(self, row: _Alert) -> None:
        rows = self._resolved if row.resolved else self._open
        key = row.key()
        at = bisect.bisect_left(rows, key)
        if at < len(rows) and rows[at] == key:
            del rows[at]

    # -- the API -------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Answer one request in Datto RMM's wire format."""
        queued = self._path_faults.get(request.path)
        if queued:
            return queued.popleft()
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request)
        if not request.path.startswith(API + "/"):
            return self._error(404, request)
        if not self._authorized(request):
            return self._error(401, request)
        write = request.method != "GET"
        limited = self._count(request, write)
        if limited is not None:
            return limited
        reply = self._api(request)
        if not write and self._slow():
            reply.delay += self.slow_delay
        return reply

    def _api(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if method == "GET" and path in (OPEN_PATH, RESOLVED_PATH):
            return self._list(request, resolved=path == RESOLVED_PATH)
        if path.startswith(ALERT_PREFIX):
            rest = path[len(ALERT_PREFIX) :]
            uid, _, action = rest.partition("/")
            row = self._alerts.get(unquote(uid))
            if row is None:
                return self._error(404, request)
            if method == "GET" and not action:
                return Reply(200, row.wire())
            if method == "POST" and action == "resolve":
                self._resolve(row, self.api_user, epoch_ms(self.clock()))
                return Reply(200, raw=b"")
            return self._error(404 if method == "GET" else 405, request)
        if method == "GET" and path == "/api/v2/account":
            return Reply(200, self._account())
        if method == "GET" and path == "/api/v2/system/pagination":
            return Reply(200, {"max": MAX_PAGE})
        if method == "GET" and path == "/api/v2/system/request_rate":
            return Reply(200, self._rate_status())
        return self._error(404, request)

    def _list(self, request: Request, *, resolved: bool) -> Reply:
        try:
            page = int(request.param("page") or 0)
            size = int(request.param("max") or MAX_PAGE)
        except ValueError:
            return self._error(400, request)
        if page < 0 or size < 1:
            return self._error(400, request)
        size = min(size, MAX_PAGE)  # a larger max silently gives 250
        rows = self._resolved if resolved else self._open
        start = page * size
        chunk = rows[start : start + size]
        path = RESOLVED_PATH if resolved else OPEN_PATH
        details: dict[str, Any] = {"count": len(chunk)}
        if resolved:
            details["totalCount"] = len(rows)
        details["prevPageUrl"] = _link(path, size, page - 1) if page > 0 else None
        details["nextPageUrl"] = _link(path, size, page + 1) if start + size < len(rows) else None
        alerts = [self._alerts[uid].wire() for _, uid in chunk]
        return Reply(200, {"pageDetails": details, "alerts": alerts})

    def _account(self) -> dict[str, Any]:
        devices = len({a.device_uid for a in self._alerts.values()})
        return {
            "id": 4711,
            "uid": "ab1c0002",
            "name": self.account_name,
            "currency": "EUR",
            "descriptor": {"deviceLimit": 5000, "timeZone": "UTC", "bilingEmail": None},
            "devicesStatus": {
                "numberOfDevices": devices,
                "numberOfOnlineDevices": devices,
                "numberOfOfflineDevices": 0,
            },
        }

    def _rate_status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "slidingTimeWindowSizeSeconds": int(WINDOW),
            "accountUid": "ab1c0002",
            "accountCount": _in_window(self._reads, now),
            "accountRateLimit": self.read_limit or 0,
            "accountCutOffRatio": self.cutoff_ratio,
            "accountWriteRateLimit": self.write_limit or 0,
            "accountWriteCount": _in_window(self._writes, now),
            "operationWriteStatus": {
                "alert-resolve": {
                    "limit": self.write_limit or 0,
                    "count": _in_window(self._writes, now),
                }
            },
        }

    # -- auth ------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        self.token_requests += 1
        client = _basic(request.headers.get("authorization", ""))
        if client != PUBLIC_CLIENT:
            return Reply(
                401,
                {
                    "error": "unauthorized",
                    "error_description": "Full authentication is required to access this resource",
                },
            )
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "password":
            return Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {form.get('grant_type')}",
                },
            )
        if form.get("username") != self.api_key or form.get("password") != self.api_secret:
            return Reply(400, {"error": "invalid_grant", "error_description": "Bad credentials"})
        token = str(uuid.uuid4())
        self.tokens[token] = time.monotonic() + self.token_ttl
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": str(uuid.uuid4()),
                "expires_in": max(int(self.token_ttl) - 1, 0),
                "scope": "default",
                "jti": token,
            },
        )

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        expires = self.tokens.get(header[len("Bearer ") :])
        return expires is not None and time.monotonic() < expires

    # -- limits and errors ---------------------------------------------------------------

    def _count(self, request: Request, write: bool) -> Reply | None:
        """Count the request in its window, or answer 429 when the window is full."""
        window = self._writes if write else self._reads
        limit = self.write_limit if write else self.read_limit
        now = time.monotonic()
        _in_window(window, now)
        if limit is not None and len(window) >= limit:
            wait = max(math.ceil(window[0] + WINDOW - now), 1)
            reply = self._error(429, request)
            reply.headers["Retry-After"] = str(wait)
            return reply
        window.append(now)
        return None

    def _slow(self) -> bool:
        """Above the cut-off share of the read limit Datto delays every answer."""
        if self.read_limit is None:
            return False
        return _in_window(self._reads, time.monotonic()) > self.read_limit * self.cutoff_ratio

    def _error(self, status: int, request: Request) -> Reply:
        """Spring's error body: epoch ms, status, reason phrase, the path below ``/api``."""
        return Reply(
            status,
            {
                "timestamp": epoch_ms(self.clock()),
                "status": status,
                "error": HTTPStatus(status).phrase,
                "path": request.path.removeprefix(API),
            },
        )


def _link(path: str, size: int, page: int) -> str:
    return f"{PUBLIC_HOST}{path}?{urlencode({'max': size, 'page': page})}"


def _in_window(window: deque[float], now: float) -> int:
    while window and window[0] <= now - WINDOW:
        window.popleft()
    return len(window)


def _basic(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


EMULATOR = DattoRmmEmulator

"""The harness every vendor emulator shares: a real HTTP server on loopback.

An emulator keeps a vendor's records in that vendor's native shape and answers
on ``127.0.0.1`` at an ephemeral port from a daemon thread (stdlib
``ThreadingHTTPServer``), so it works the same inside the Textual event loop,
under pytest, or from a REPL. Tests drive it through :meth:`TicketEmulator.put_ticket`
(the neutral :class:`WorldTicket`) and queue failures with :meth:`Emulator.inject`.
"""

from __future__ import annotations

import json
import sys
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from connectors.records import Priority, TicketStatus

__all__ = [
    "Emulator",
    "Reply",
    "Request",
    "TicketEmulator",
    "WorldAttachment",
    "WorldEntry",
    "WorldTicket",
    "WrittenComment",
]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    """One request as the emulator saw it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The request body decoded as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """What the emulator answers: a JSON-able body, or raw bytes when ``raw`` is set."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay: float = 0.0
    """Seconds to wait before answering (slow-vendor faults)."""
    drip: float = 0.0
    """Seconds between single bytes of the body (a vendor that drips its answer)."""
    truncate_at: int | None = None
    """Close the connection after this many body bytes, though Content-Length promised more."""
    hang: bool = False
    """Never answer (until the emulator stops): a connection that hangs."""

    def encode(self) -> bytes:
        """Body bytes exactly as sent on the wire."""
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


@dataclass
class WorldTicket:
    """A vendor-neutral ticket the demo world and tests hand to an emulator.

    The emulator converts it to its vendor's native record (ids, raw status and
    priority codes, timestamp format) and keeps that; ``ref`` identifies the
    ticket across later ``put_ticket`` calls.
    """

    ref: str
    title: str
    status: TicketStatus
    priority: Priority | None
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None
    requester: str | None = None
    group: str | None = None
    asset: str | None = None
    description: str = ""
    due_at: datetime | None = None
    """The vendor's own SLA due time, where the vendor has one."""
    breached: bool | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class WorldAttachment:
    """A file attached to a conversation entry (metadata only)."""

    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class WorldEntry:
    """A vendor-neutral conversation entry the demo world and tests put on a ticket.

    The emulator stores it in its vendor's native shape: ``html`` (where the
    vendor keeps HTML or rich text) is the body as the vendor would hold it;
    otherwise ``text`` is converted the vendor's way (ADF for Jira, ...).
    """

    ref: str
    """Identifies the entry across calls (the emulator assigns its own vendor id)."""
    author: str
    text: str
    at: datetime
    visibility: str = "public"
    """``public`` (a reply the requester sees), ``internal`` (agents only) or ``system``."""
    html: str | None = None
    attachments: tuple[WorldAttachment, ...] = ()


@dataclass(frozen=True)
class WrittenComment:
    """A comment or note a client wrote through the emulated API (tests read these)."""

    ticket_id: str
    text: str
    public: bool
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class Emulator(ABC):
    """A vendor API on loopback. Subclasses implement :meth:`route` and :meth:`vendor_settings`."""

    kind: ClassVar[str]

    def __init__(
        self, *, clock: Callable[[], datetime] = _now, page_size: int = 50, latency: float = 0.0
    ) -> None:
        self.clock = clock
        self.page_size = page_size
        self.latency = latency
        """Seconds every answer waits before it is sent, as a vendor 50-200 ms away would.
        The wait is outside the emulator's lock, so concurrent requests overlap."""
        self.lock = threading.RLock()
        """Held while a request is answered and while state is changed."""
        self.requests: list[Request] = []
        """Every request received, oldest first (tests read it)."""
        self._faults: deque[Reply] = deque()
        self.stopping = threading.Event()
        """Set by :meth:`stop`; releases handlers held by hang/drip faults."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- behaviour -----------------------------------------------------------

    @abstractmethod
    def route(self, request: Request) -> Reply:
        """Answer one request in the vendor's wire format."""

    @abstractmethod
    def vendor_settings(self) -> dict[str, Any]:
        """The config section (``kind``, credentials) a connector needs to reach this emulator."""

    def inject(self, *replies: Reply) -> None:
        """Answer the next requests with these replies instead of routing them."""
        with self.lock:
            self._faults.extend(replies)

    def handle(self, request: Request) -> Reply:
        """Record the request, then answer with a queued fault or the route."""
        with self.lock:
            self.requests.append(request)
            if self._faults:
                return self._faults.popleft()
            return self.route(request)

    # -- serving ---------------------------------------------------------------

    def start(self) -> str:
        """Serve on 127.0.0.1 at an ephemeral port; return the base URL."""
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = _QuietServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://{LOOPBACK}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns quickly
            name=f"emulator-{self.kind}",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TicketEmulator(Emulator):
    """An emulator of a ticketing vendor: tests and the demo world put tickets into it."""

    def __init__(
        self, *, clock: Callable[[], datetime] = _now, page_size: int = 50, latency: float = 0.0
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.comments: list[WrittenComment] = []
        """Every comment or note written through the API, oldest first."""
        self.created: list[str] = []
        """External ids of tickets created through the API (hand-offs), oldest first."""

    @abstractmethod
    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the native record for ``ticket.ref``; return its human key."""

    def put_entry(self, ticket_ref: str, entry: WorldEntry) -> str:
        """Add (or replace, by ``entry.ref``) a conversation entry; return its vendor id."""
        raise NotImplementedError(f"the {self.kind} emulator keeps no conversations yet")

    def comments_on(self, ticket_id: str) -> list[WrittenComment]:
        """Comments written through the API to the ticket with this external id."""
        with self.lock:
            return [c for c in self.comments if c.ticket_id == ticket_id]

    def record_comment(self, ticket_id: object, text: str, *, public: bool) -> None:
        """Keep a comment a client wrote (called by subclasses' write handlers)."""
        self.comments.append(WrittenComment(str(ticket_id), text, public, self.clock()))


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a killed collector) is normal, not a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 requests into :class:`Request` and writes :class:`Reply`."""

    emulator: ClassVar[Emulator]
    protocol_version = "HTTP/1.1"
    server_version = "paneglass-emulator"
    disable_nagle_algorithm = True
    """TCP_NODELAY: headers and body go out in two writes, and with Nagle plus the client's
    delayed ACK every kept-alive answer waited ~40 ms, as if the vendor were that far away."""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.emulator.handle(request)
        except Exception as exc:  # an emulator bug must show up as a 500, not a hang
            reply = Reply(500, {"error": f"emulator failure: {type(exc).__name__}: {exc}"})
        stopping = self.emulator.stopping
        if reply.hang:
            stopping.wait(3600)
            self.close_connection = True
            return
        delay = reply.delay + self.emulator.latency
        if delay:
            stopping.wait(delay)
        payload = reply.encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.truncate_at is not None:
            self.wfile.write(payload[: reply.truncate_at])
            self.wfile.flush()
            self.close_connection = True
            return
        if reply.drip:
            for index in range(len(payload)):
                if stopping.wait(reply.drip):
                    break
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
            return
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr log."""

"""The harness every status-feed emulator shares: one neutral status world, many wire formats.

A status feed publishes one document (or two) about the same few things:
components (optionally in groups), incidents with their updates, and
maintenance windows, upcoming or in progress. :class:`StatusFeedEmulator`
keeps those in a vendor-neutral world (:class:`FeedComponent`,
:class:`FeedEvent`, :class:`FeedUpdate`) and each vendor's subclass renders
it in that vendor's own wire format (Statuspage v2, Google's incident
history, AWS's UTF-16 event list, Azure's RSS, incident.io's widget, Instatus,
Status.io). Tests and demo mode drive every feed through the same mutators:

* :meth:`~StatusFeedEmulator.add_component`, :meth:`~StatusFeedEmulator.set_component`;
* :meth:`~StatusFeedEmulator.open_incident`, :meth:`~StatusFeedEmulator.update_incident`,
  :meth:`~StatusFeedEmulator.resolve_incident`;
* :meth:`~StatusFeedEmulator.schedule_maintenance` (announced, with a window),
  :meth:`~StatusFeedEmulator.start_maintenance`, :meth:`~StatusFeedEmulator.open_maintenance`
  (in progress now), and :meth:`~StatusFeedEmulator.resolve_incident` to complete one.

Every mutation bumps a version; a document is rendered once per version and
kept, so a poll of an unchanged feed costs no work in proportion to its size,
and a world of 100,000 past incidents is rendered once per change, not per
request. Documents carry an ``ETag`` (and ``Last-Modified``) and answer
``304`` to a matching conditional request, unless ``validators=()``: whether a
given vendor's CDN sends them is not documented, and the connectors must work
either way.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, ClassVar

from connectors.emulators.base import Emulator, Reply, Request
from connectors.records import ComponentState

__all__ = [
    "CLOSED",
    "INCIDENT_STATUSES",
    "MAINTENANCE_STATUSES",
    "Document",
    "FeedComponent",
    "FeedEvent",
    "FeedGroup",
    "FeedUpdate",
    "StatusFeedEmulator",
    "dump_json",
]

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "minor", "major", "critical")
CLOSED = frozenset({"resolved", "postmortem", "completed"})

DEFAULT_COMPONENTS: tuple[tuple[str, str | None], ...] = (
    ("Virtual machines", "EU-West"),
    ("Storage", "EU-West"),
    ("Network", "EU-West"),
    ("Control panel", None),
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def dump_json(value: Any) -> str:
    """JSON text with non-ASCII as it is; lone surrogates (hostile tests) as ``\\u`` escapes."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


@dataclass
class FeedGroup:
    """A named group of components (Statuspage container, Instatus parent, …)."""

    id: str
    name: str
    position: int
    created_at: datetime


@dataclass
class FeedComponent:
    """One component of the world."""

    id: str
    name: str
    group: str | None
    state: ComponentState
    position: int
    created_at: datetime
    updated_at: datetime


@dataclass
class FeedUpdate:
    """One update posted on an incident or maintenance."""

    id: str
    status: str
    body: str
    at: datetime
    affected: tuple[tuple[str, str, str], ...] = ()
    """(component id, state before, state after) as the update recorded them."""


@dataclass
class FeedEvent:
    """An incident or a maintenance window, with its updates newest first."""

    id: str
    maintenance: bool
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    components: list[str]
    """Ids of the affected components."""
    updates: list[FeedUpdate] = field(default_factory=list)
    resolved_at: datetime | None = None
    monitoring_at: datetime | None = None
    starts_at: datetime | None = None
    """Maintenance: the announced start of the window."""
    ends_at: datetime | None = None
    """Maintenance: the announced end of the window."""
    started_at: datetime | None = None
    """When work actually began (maintenance started, or incident opened)."""

    @property
    def closed(self) -> bool:
        """Resolved, post-mortem or completed: gone from every "current" document."""
        return self.status in CLOSED


@dataclass(frozen=True)
class Document:
    """One rendered document."""

    body: bytes
    content_type: str


class StatusFeedEmulator(Emulator):
    """A status feed on loopback. Subclasses render :meth:`documents` in their wire format."""

    kind: ClassVar[str]
    id_alphabet: ClassVar[str] = "0123456789abcdefghijklmnopqrstuvwxyz"
    id_length: ClassVar[int] = 12

    def __init__(
        self,
        *,
        page_name: str = "Acme Hosting",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = 50,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, latency=latency)
        self.page_name = page_name
        self.validators = tuple(validators)
        """Which of ``etag`` and ``last_modified`` the documents carry (both by default)."""
        self._serial = itertools.count(1)
        self._id_seed = f"{self.kind}:{page_name}"
        self.groups: dict[str, FeedGroup] = {}
        """Groups by name."""
        self.components: dict[str, FeedComponent] = {}
        """Components by id, in the order they were added."""
        self.events: dict[str, FeedEvent] = {}
        """Every incident and maintenance ever published, oldest first, by id."""
        self.current: dict[str, FeedEvent] = {}
        """The events not yet closed, oldest first."""
        self.closed: dict[str, FeedEvent] = {}
        """Closed events in the order they closed, oldest first (feeds that keep resolved
        events for a while read the newest end of it, not the whole history)."""
        self.version = 0
        self.changed_at = self.clock()
        self._positions = itertools.count(1)
        self._cache: dict[str, tuple[object, Document, str]] = {}
        self._fragments: dict[str, tuple[object, str]] = {}
        for name, group in components:
            self.add_component(name, group)

    def __enter__(self) -> StatusFeedEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """A public feed needs no credentials."""
        return {"kind": self.kind}

    # -- rendering (subclasses) ---------------------------------------------------

    @abstractmethod
    def documents(self) -> dict[str, Callable[[], Document]]:
        """Every path this feed serves, with the function that renders it."""

    def render_key(self, path: str) -> object:
        """What a rendered document depends on besides the world (a clock minute, …)."""
        return None

    def not_found(self, request: Request) -> Reply:
        """The vendor's answer to a path it does not serve."""
        return Reply(404, {"error": "Not found"})

    def fragment(self, event: FeedEvent, render: Callable[[FeedEvent], Any]) -> str:
        """``render(event)`` as JSON text, kept until the event changes.

        A history document re-renders only the events that changed: a closed
        incident is rendered once, however many times the document is.
        """
        key = (event.updated_at, event.status, len(event.updates), event.resolved_at)
        cached = self._fragments.get(event.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        text = dump_json(render(event))
        self._fragments[event.id] = (key, text)
        return text

    # -- mutators ---------------------------------------------------------------

    def new_id(self) -> str:
        """An id in the vendor's alphabet and length, deterministic per page name."""
        digest = hashlib.sha256(f"{self._id_seed}:{next(self._serial)}".encode()).digest()
        while len(digest) < self.id_length:
            digest += hashlib.sha256(digest).digest()
        alphabet = self.id_alphabet
        return "".join(alphabet[b % len(alphabet)] for b in digest[: self.id_length])

    def touch(self) -> datetime:
        """Record a change of the world now; return now."""
        now = self.clock()
        self.version += 1
        self.changed_at = now
        return now

    def add_component(self, name: str, group: str | None = None) -> str:
        """Add an operational component (creating its group if new); return its id."""
        with self.lock:
            if any(c.name == name and c.group == group for c in self.components.values()):
                raise ValueError(f"component {name!r} already exists in group {group!r}")
            now = self.touch()
            if group is not None and group not in self.groups:
                self.groups[group] = FeedGroup(self.new_id(), group, next(self._positions), now)
            component = FeedComponent(
                self.new_id(),
                name,
                group,
                ComponentState.OPERATIONAL,
                next(self._positions),
                now,
                now,
            )
            self.components[component.id] = component
            return component.id

    def set_component(
        self, name: str, state: ComponentState | str, *, group: str | None = None
    ) -> None:
        """Publish a component's new state (by id or name); an unchanged state changes nothing."""
        new_state = ComponentState(state)
        with self.lock:
            component = self.find_component(name, group)
            if component.state is new_state:
                return
            component.state = new_state
            component.updated_at = self.touch()

    def open_incident(
        self,
        name: str,
        impact: str = "minor",
        body: str = "We are investigating this issue.",
        components: Sequence[str] = (),
        *,
        status: str = "investigating",
    ) -> str:
        """Publish a new incident affecting ``components`` (ids or names); return its id."""
        if impact not in IMPACTS:
            raise ValueError(f"impact must be one of {IMPACTS}, got {impact!r}")
        if status not in INCIDENT_STATUSES or status in CLOSED:
            raise ValueError(f"a new incident cannot start as {status!r}")
        return self._publish(False, name, impact, status, body, components, None, None)

    def schedule_maintenance(
        self,
        name: str,
        starts_at: datetime,
        ends_at: datetime,
        body: str = "We will be performing scheduled maintenance.",
        components: Sequence[str] = (),
    ) -> str:
        """Announce a maintenance window (status ``scheduled``); return its id."""
        if ends_at <= starts_at:
            raise ValueError("a maintenance window must end after it starts")
        return self._publish(
            True, name, "maintenance", "scheduled", body, components, starts_at, ends_at
        )

    def open_maintenance(
        self,
        name: str,
        body: str = "Scheduled maintenance is in progress.",
        components: Sequence[str] = (),
        *,
        status: str = "in_progress",
        duration: timedelta = timedelta(hours=2),
    ) -> str:
        """Publish a maintenance window starting now (in progress by default); return its id."""
        if status not in MAINTENANCE_STATUSES or status in CLOSED:
            raise ValueError(f"a new maintenance cannot start as {status!r}")
        start = self.clock()
        return self._publish(
            True, name, "maintenance", status, body, components, start, start + duration
        )

    def start_maintenance(self, event_id: str, body: str | None = None) -> None:
        """Move an announced maintenance window to ``in_progress``."""
        self.update_incident(
            event_id, "in_progress", body or "Scheduled maintenance is currently in progress."
        )

    def update_incident(self, event_id: str, status: str, body: str) -> None:
        """Post an update (newest first) and move the incident or maintenance to ``status``."""
        with self.lock:
            event = self.find_event(event_id)
            allowed = MAINTENANCE_STATUSES if event.maintenance else INCIDENT_STATUSES
            if status not in allowed:
                raise ValueError(f"status must be one of {allowed}, got {status!r}")
            now = self.touch()
            event.status = status
            event.updated_at = now
            if status == "monitoring" and event.monitoring_at is None:
                event.monitoring_at = now
            if status == "in_progress" and event.started_at is None:
                event.started_at = now
            if status in CLOSED and event.resolved_at is None:
                event.resolved_at = now
            event.updates.insert(0, self._update(event, status, body, now))
            if event.closed:
                self.current.pop(event.id, None)
                self.closed.pop(event.id, None)
                self.closed[event.id] = event
            else:
                self.current[event.id] = event
                self.closed.pop(event.id, None)

    def resolve_incident(self, event_id: str, body: str | None = None) -> None:
        """Resolve an incident (or complete a maintenance): it leaves the current documents."""
        with self.lock:
            event = self.find_event(event_id)
            if event.maintenance:
                status = "completed"
                default = "The scheduled maintenance has been completed."
            else:
                status = "resolved"
                default = "This incident has been resolved."
            self.update_incident(event_id, status, body or default)

    def add_history(
        self,
        name: str,
        *,
        opened: datetime,
        closed: datetime,
        impact: str = "minor",
        components: Sequence[str] = (),
    ) -> str:
        """A past, resolved incident, for history documents (no per-incident work later)."""
        with self.lock:
            event = FeedEvent(
                self.new_id(),
                False,
                name,
                "resolved",
                impact,
                opened,
                closed,
                [self.find_component(c).id for c in components],
                resolved_at=closed,
                started_at=opened,
            )
            event.updates = [
                FeedUpdate(self.new_id(), "resolved", "This incident has been resolved.", closed),
                FeedUpdate(self.new_id(), "investigating", "We are investigating.", opened),
            ]
            self.events[event.id] = event
            self.touch()
            return event.id

    # -- lookups ------------------------------------------------------------------

    def find_component(self, key: str, group: str | None = None) -> FeedComponent:
        """A component by id, or by name (and group when names repeat)."""
        found = self.components.get(key)
        if found is not None:
            return found
        matches = [
            c
            for c in self.components.values()
            if c.name == key and (group is None or c.group == group)
        ]
        if len(matches) != 1:
            problem = "no" if not matches else "more than one"
            raise KeyError(f"{problem} component named {key!r}; pass its id or group")
        return matches[0]

    def find_event(self, event_id: str) -> FeedEvent:
        """An incident or maintenance by id."""
        try:
            return self.events[event_id]
        except KeyError:
            raise KeyError(f"no incident or maintenance {event_id!r}") from None

    def open_events(self, *, maintenance: bool) -> list[FeedEvent]:
        """Events not yet closed, of one kind, newest first."""
        return [e for e in reversed(self.current.values()) if e.maintenance is maintenance]

    def affected_components(self, event: FeedEvent) -> list[FeedComponent]:
        """The components an event affects, in the order it named them."""
        return [self.components[cid] for cid in event.components if cid in self.components]

    # -- serving --------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Serve a document (cached per world version), honouring conditional requests."""
        path = request.path
        renderers = self.documents()
        render = renderers.get(path) or renderers.get(path.rstrip("/"))
        if render is None:
            return self.not_found(request)
        if request.method not in ("GET", "HEAD"):
            return Reply(405, {"error": "Method not allowed"})
        key = (self.version, self.render_key(path))
        cached = self._cache.get(path)
        if cached is None or cached[0] != key:
            document = render()
            etag = '"' + hashlib.sha256(document.body).hexdigest()[:32] + '"'
            cached = self._cache[path] = (key, document, etag)
        _, document, etag = cached
        headers = {"Content-Type": document.content_type}
        if "etag" in self.validators:
            headers["ETag"] = etag
        modified = self.changed_at.astimezone(UTC).replace(microsecond=0)
        if "last_modified" in self.validators:
            headers["Last-Modified"] = format_datetime(modified, usegmt=True)
        if self._not_modified(request, etag, modified):
            return Reply(304, raw=b"", headers=headers)
        return Reply(200, raw=document.body, headers=headers)

    def _not_modified(self, request: Request, etag: str, modified: datetime) -> bool:
        match = request.headers.get("if-none-match")
        if "etag" in self.validators and match:
            candidates = [part.strip() for part in match.split(",")]
            return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)
        since = request.headers.get("if-modified-since")
        if "last_modified" in self.validators and since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return when.tzinfo is not None and modified <= when
        return False

    # -- internals ------------------------------------------------------------------

    def _publish(
        self,
        maintenance: bool,
        name: str,
        impact: str,
        status: str,
        body: str,
        components: Sequence[str],
        starts_at: datetime | None,
        ends_at: datetime | None,
    ) -> str:
        with self.lock:
            linked = [self.find_component(key).id for key in components]
            now = self.touch()
            event = FeedEvent(
                self.new_id(),
                maintenance,
                name,
                status,
                impact,
                now,
                now,
                linked,
                monitoring_at=now if status == "monitoring" else None,
                starts_at=starts_at,
                ends_at=ends_at,
                started_at=now if not maintenance or status != "scheduled" else None,
            )
            event.updates.append(self._update(event, status, body, now))
            self.events[event.id] = event
            self.current[event.id] = event
            return event.id

    def _update(self, event: FeedEvent, status: str, body: str, now: datetime) -> FeedUpdate:
        affected = tuple(
            (c.id, c.state.value, c.state.value) for c in self.affected_components(event)
        )
        return FeedUpdate(self.new_id(), status, body, now, affected)

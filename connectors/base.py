"""The connector contract: what every vendor module offers the scheduler.

A connector is built from its vendor's config section (parsed once into its
typed :class:`~connectors.settings.ConnectorSettings`) and one long-lived
``httpx2.AsyncClient``; it knows HTTP and one vendor's JSON, yields pages of
normalized records, each with the cursor to resume after it, and never
touches the database, the scheduler or the UI.

Most connectors implement the two phases of :mod:`connectors.sync`:
:meth:`Connector.backfill_pages` (every open ticket, whatever its age, plus
recently closed ones, in a resumable order) and
:meth:`Connector.incremental_pages` (what changed since a position); the base
:meth:`Connector.pages` runs them in turn and keeps both positions in one
cursor. A source without tickets (a status page) overrides :meth:`pages`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.errors import ConfigurationError
from connectors.fanout import Limiter
from connectors.http import RateBudget, send
from connectors.records import ConversationEntry, Cursor, PollResult, Progress, TicketRecord
from connectors.settings import ConnectorSettings
from connectors.sync import BACKFILL, HISTORY, INCREMENTAL, SyncState

__all__ = ["Connector", "VendorConfig"]

USER_AGENT = "paneglass/0.1 (+https://github.com/paneglass)"


@dataclass(frozen=True)
class VendorConfig:
    """One ``[vendors.NAME]`` section after ``${VAR}`` expansion.

    ``settings`` holds every other key of the section (credentials included);
    it is left out of ``repr`` so a secret never reaches a log or traceback.
    """

    name: str
    kind: str
    base_url: str
    poll_interval: float = 60.0
    enabled: bool = True
    stale_after: float = 2.0
    """Poll intervals without a good poll after which this vendor's data counts as stale."""
    settings: Mapping[str, Any] = field(default_factory=dict, repr=False)
    options: ConnectorSettings | None = field(default=None, repr=False, compare=False)
    """``settings`` parsed by the vendor's connector, once, when the config was loaded."""
    status_source: str | None = None
    """The configured status feed that publishes this vendor's status (paneglass's, not the
    connector's: it marks tickets during the feed's incidents and can pause their clocks)."""

    def get(self, key: str, default: str | None = None) -> str | None:
        """A setting as text, or ``default`` when absent or empty."""
        value = self.settings.get(key)
        return default if value is None or value == "" else str(value)

    def number(self, key: str, default: float) -> float:
        """A numeric setting (``page_size``, ``backfill_days``, …), or a ConfigurationError."""
        text = self.get(key)
        if text is None:
            return default
        try:
            return float(text)
        except ValueError:
            raise ConfigurationError(f"vendor {self.name!r}: {key} must be a number") from None

    def require(self, key: str) -> str:
        """A setting that must be present, else a :class:`ConfigurationError` naming it."""
        value = self.get(key)
        if value is None:
            raise ConfigurationError(f"vendor {self.name!r} ({self.kind}) needs {key!r}")
        return value


class Connector(ABC):
    """Base class of every vendor connector.

    Subclasses set ``kind`` and ``Settings`` (whose ``credential_sets`` say which keys
    must be present) and implement :meth:`poll` and :meth:`check`; most also override
    :meth:`auth`.
    """

    kind: ClassVar[str]
    """The ``kind`` value in config that selects this connector."""
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ((),)
    """Alternative sets of settings keys, one of which must be fully present: read only for a
    connector without a ``Settings`` model (its settings model checks them otherwise)."""
    default_poll_interval: ClassVar[float] = 60.0
    Settings: ClassVar[type[ConnectorSettings] | None] = None
    """The vendor's settings model (its folder's ``settings.py``)."""
    budget: RateBudget | None = None
    """The vendor's rate budget, when the connector keeps one: writes are paced by it too."""

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.settings = settings if settings is not None else self.parse_settings(config)
        """The section, parsed once (pass it in when the config load already parsed it)."""
        self.limiter = Limiter(self.settings.concurrency)
        """The bound on this vendor's requests in flight (see :mod:`connectors.fanout`)."""

    @classmethod
    def parse_settings(cls, config: VendorConfig) -> ConnectorSettings:
        """The section as this vendor's typed settings, or a :class:`ConfigurationError`.

        A config loaded by paneglass already carries them (``config.options``):
        then nothing is parsed again.
        """
        if cls.Settings is not None and isinstance(config.options, cls.Settings):
            return config.options
        if cls.Settings is None:  # a connector not yet on the kit: shared defaults only
            return ConnectorSettings()
        return cls.Settings.parse(config.name, config.kind, config.settings)

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Raise :class:`ConfigurationError` unless the section can work."""
        if not config.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"vendor {config.name!r}: base_url must start with http:// or https://"
            )
        if cls.Settings is not None:
            cls.parse_settings(config)
            return
        if not any(all(config.get(k) for k in keys) for keys in cls.credential_sets):
            wanted = " or ".join("+".join(keys) for keys in cls.credential_sets)
            raise ConfigurationError(f"vendor {config.name!r} ({cls.kind}) needs {wanted}")

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """The vendor's auth for every request; ``None`` for public APIs."""
        return None

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """Extra headers for every request (vendor auth headers go here)."""
        return {}

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """The one long-lived client for this vendor."""
        return httpx2.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            auth=cls.auth(config),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **cls.headers(config)},
            timeout=httpx2.Timeout(10.0),
            follow_redirects=False,
        )

    async def pages(self, cursor: Cursor | None) -> AsyncGenerator[PollResult, None]:
        """The poll as pages, each carrying the cursor to resume after it once committed.

        The default runs the backfill (while one is pending), then the
        incremental phase, and wraps each page's own position into the
        two-phase cursor of :class:`~connectors.sync.SyncState`.
        """
        if type(self).poll is not Connector.poll:  # not yet streaming: one page
            yield await self.poll(cursor)
            return
        state = SyncState.load(cursor, datetime.now(UTC))
        if type(self).history_pages is Connector.history_pages:
            state = state.history_finished()  # conversations come on the backfill's pages
        if state.backfill is not None:
            backfill = state.backfill
            # aclosing: when the collector stops early, the phase (and a page it reads
            # ahead) is closed now, not when the garbage collector gets to it.
            backfill_pages = self.backfill_pages(backfill.position, backfill.started)
            async with _aclosing(backfill_pages) as pages:
                async for page in pages:
                    total = page.progress.total if page.progress else None
                    state = state.backfill_advanced(page.cursor, len(page.tickets), total)
                    assert state.backfill is not None
                    done = state.backfill.done
                    yield replace(
                        page,
                        cursor=state.dump(),
                        progress=Progress(BACKFILL, done, state.backfill.total),
                    )
            done, total = (
                (state.backfill.done, state.backfill.total) if state.backfill else (0, None)
            )
            state = state.backfill_finished(self.settings.overlap)
            yield PollResult(cursor=state.dump(), progress=Progress(BACKFILL, done, total))
        read = 0
        start = state.incremental_from or datetime.now(UTC) - self.settings.backfill
        async with _aclosing(self.incremental_pages(state.incremental, start)) as pages:
            async for page in pages:
                state = state.incremental_advanced(page.cursor)
                read += len(page.tickets)
                total = page.progress.total if page.progress else None
                yield replace(
                    page, cursor=state.dump(), progress=Progress(INCREMENTAL, read, total)
                )
        if state.history is None or state.backfill is not None:
            return
        history = state.history
        budget = self.settings.history_pages_per_poll
        async with _aclosing(self.history_pages(history.position, history.started)) as pages:
            async for page in pages:
                covered = page.progress.done if page.progress else 0
                total = page.progress.total if page.progress else None
                state = state.history_advanced(page.cursor, covered, total)
                assert state.history is not None
                yield replace(
                    page,
                    cursor=state.dump(),
                    progress=Progress(HISTORY, state.history.done, state.history.total),
                )
                budget -= 1
                if budget == 0:
                    return  # the rest of the walk waits for the next poll
        done, total = (state.history.done, state.history.total) if state.history else (0, None)
        state = state.history_finished()
        yield PollResult(cursor=state.dump(), progress=Progress(HISTORY, done, total))

    def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every open ticket, whatever its age, plus closed/resolved within ``backfill_days``.

        Read in an order that can resume: each page's ``cursor`` is this
        connector's position after it (``position`` is the last one saved,
        ``None`` from the start). ``started`` is when this backfill began.
        """
        raise NotImplementedError(f"{self.kind} has no backfill_pages")

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        """The conversations of what the backfill read, for vendors that need a request a ticket.

        Yields pages of ``entries`` (and, where the vendor needs the same
        per-ticket read for them, tickets), each with the position after it in
        ``cursor`` and in ``progress.done`` how many tickets it covered. The base
        runs at most ``history_pages_per_poll`` of them per poll, after the
        incremental pages, until the walk ends. The default has nothing to walk:
        connectors that read conversations in bulk carry them on backfill pages.
        """
        return
        yield  # an async generator that yields nothing

    def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """What changed since ``position`` (or since ``start`` when there is none yet)."""
        raise NotImplementedError(f"{self.kind} has no incremental_pages")

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every page of one poll merged into one result (tests and small tools).

        The collector streams :meth:`pages` instead, so its memory is bounded
        by a page; this holds the whole poll.
        """
        tickets: dict[str, TicketRecord] = {}
        merged = PollResult(cursor=cursor)
        entries: dict[tuple[str, str], ConversationEntry] = {}
        removed: list[str] = []
        requests = 0
        async for page in self.pages(cursor):
            for ticket in page.tickets:
                tickets.pop(ticket.external_id, None)
                tickets[ticket.external_id] = ticket
            for entry in page.entries:  # an overlap re-reads some: the later copy wins
                entries.pop((entry.ticket_external_id, entry.external_id), None)
                entries[(entry.ticket_external_id, entry.external_id)] = entry
            removed.extend(page.removed)
            requests += page.requests
            merged = replace(
                merged,
                status=page.status or merged.status,
                cursor=page.cursor if page.cursor is not None else merged.cursor,
                progress=page.progress or merged.progress,
            )
        return replace(
            merged,
            tickets=tuple(tickets.values()),
            entries=tuple(entries.values()),
            removed=tuple(removed),
            requests=requests,
        )

    @abstractmethod
    async def check(self) -> str:
        """Prove reachability and credentials with one cheap call; return a short summary."""

    # -- write-back (optional) -------------------------------------------------

    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset()
    """The write-back verbs this connector can send; empty for read-only sources."""
    create_dedupe: ClassVar[str | None] = None
    """How a retried create is kept from making a duplicate (the vendor field used), or
    ``None`` when it cannot be: then a failed create is never retried automatically."""

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` would send, from settings alone: no client is built.

        Connectors on the kit implement this (in their ``actions.py``); the
        dry run in the console calls it without ever building an HTTP client.
        """
        raise UnsupportedAction(f"{cls.kind} cannot {action.kind.label}")

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` would send, without sending anything (the dry run)."""
        return self.plan_action(self.config, action)

    async def perform(self, action: Action) -> ActionResult:
        """Send ``action``; return the vendor's answer or raise a ConnectorError.

        The default sends the planned requests in order and reports the last
        answer; connectors that must look something up first, or read a created
        id from the answer, override this.
        """
        planned = self.plan(action)
        response: httpx2.Response | None = None
        for request in planned:
            response = await self.send_planned(request)
        if response is None:
            raise UnsupportedAction(f"{self.kind}: nothing to send for {action.kind.label}")
        return ActionResult(
            summary=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
            http_status=response.status_code,
        )

    async def find_existing(self, action: Action) -> ActionResult | None:
        """For a create: the ticket the vendor already holds for this correlation, if any.

        Connectors with a :attr:`create_dedupe` answer this so the outbox can
        retry a create without risking a duplicate.
        """
        return None

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Send one planned request through :func:`connectors.http.send`, paced like polls."""
        return await send(
            self.client,
            request.method,
            request.path,
            params=dict(request.params) or None,
            json_body=request.body,
            headers=dict(request.headers) or None,
            budget=self.budget,
        )


@asynccontextmanager
async def _aclosing(pages: AsyncIterator[PollResult]) -> AsyncIterator[AsyncIterator[PollResult]]:
    """``contextlib.aclosing`` for any async iterator (a phase may be a plain iterator)."""
    try:
        yield pages
    finally:
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()

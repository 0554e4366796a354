"""The connector contract: what every vendor module offers the scheduler.

A connector is built from its vendor's config section and one long-lived
``httpx2.AsyncClient``; it knows HTTP and one vendor's JSON, returns
normalized records and its next cursor, and never touches the database, the
scheduler or the UI.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest, UnsupportedAction
from connectors.errors import ConfigurationError
from connectors.http import RateBudget, send
from connectors.records import Cursor, PollResult

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

    Subclasses set ``kind`` and ``credential_sets`` and implement :meth:`poll`
    and :meth:`check`; most also override :meth:`auth`.
    """

    kind: ClassVar[str]
    """The ``kind`` value in config that selects this connector."""
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ((),)
    """Alternative sets of settings keys; one set must be fully present."""
    default_poll_interval: ClassVar[float] = 60.0
    budget: RateBudget | None = None
    """The vendor's rate budget, when the connector keeps one: writes are paced by it too."""

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        self.config = config
        self.client = client

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Raise :class:`ConfigurationError` unless the section can work."""
        if not config.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"vendor {config.name!r}: base_url must start with http:// or https://"
            )
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

    @abstractmethod
    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Everything changed since ``cursor`` (all of it when ``None``), to the last page."""

    @abstractmethod
    async def check(self) -> str:
        """Prove reachability and credentials with one cheap call; return a short summary."""

    # -- write-back (optional) -------------------------------------------------

    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset()
    """The write-back verbs this connector can send; empty for read-only sources."""
    create_dedupe: ClassVar[str | None] = None
    """How a retried create is kept from making a duplicate (the vendor field used), or
    ``None`` when it cannot be: then a failed create is never retried automatically."""

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` would send, without sending anything (the dry run)."""
        raise UnsupportedAction(f"{self.kind} cannot {action.kind.label}")

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

"""The base of every status-feed connector: one published snapshot per poll.

A status source has no tickets, so it overrides :meth:`Connector.pages`
instead of the two sync phases: each poll reads the source's documents
conditionally (:mod:`connectors.feeds.documents`) and yields exactly one
page, carrying the mapped :class:`~connectors.records.StatusSnapshot`, or
``status=None`` when every document answered ``304 Not Modified`` (the store
keeps the snapshot it has). The cursor only ever advances with a complete
snapshot: a poll that fails at any request saves nothing, and the next one
reads everything again.

A subclass names its documents (:meth:`document_paths`) and maps them
(:meth:`read`) with a pure function of the bytes; links on records are built
from the configured ``page_url`` (or ``base_url``) and the vendor's ids, never
taken from the payload.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncGenerator, Mapping
from typing import Any, ClassVar

from connectors.base import Connector
from connectors.feeds.documents import (
    Document,
    dump_cursor,
    fetch_documents,
    load_validators,
)
from connectors.feeds.settings import StatusFeedSettings
from connectors.records import Cursor, PollResult, StatusSnapshot
from connectors.sanitize import clean_text, one_line
from connectors.settings import ConnectorSettings

__all__ = ["StatusFeedConnector"]


class StatusFeedConnector(Connector):
    """A public status source polled as one snapshot (no credentials, no tickets)."""

    Settings: ClassVar[type[ConnectorSettings] | None] = StatusFeedSettings
    feed_version: ClassVar[int] = 1
    """Bumped when the mapping reads more of a document: saved validators are then ignored
    once, so the first poll after an upgrade maps the whole document again."""

    @property
    def page_url(self) -> str:
        """Where the human status page is: the ``page_url`` setting, else ``base_url``."""
        configured = getattr(self.settings, "page_url", None)
        return str(configured or self.config.base_url).rstrip("/")

    @abstractmethod
    def document_paths(self) -> tuple[str, ...]:
        """The documents one snapshot is built from, relative to ``base_url``."""

    @abstractmethod
    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the documents (every path of :meth:`document_paths`) onto a snapshot."""

    def cursor_keys(
        self, documents: Mapping[str, Document], snapshot: StatusSnapshot
    ) -> dict[str, Any]:
        """Keys of this connector's own to keep in the cursor beside the validators."""
        return {}

    def hints(self) -> dict[str, str]:
        """Why a document may be missing (404), by path, where the connector knows."""
        return {}

    def unchanged(self, cursor: Cursor) -> None:
        """Called when nothing changed; raise if the copy held can no longer be trusted."""

    async def pages(self, cursor: Cursor | None) -> AsyncGenerator[PollResult, None]:
        """The one page of a poll: the new snapshot, or ``status=None`` when unchanged."""
        saved = load_validators(cursor, self.feed_version)
        fetched = await fetch_documents(
            self.client, self.document_paths(), saved, self.limiter, self.hints()
        )
        if fetched.documents is None:
            assert cursor is not None  # validators come only from a saved cursor
            self.unchanged(cursor)
            yield PollResult(status=None, cursor=cursor, requests=fetched.requests)
            return
        snapshot = self.read(fetched.documents)
        next_cursor = dump_cursor(
            self.feed_version,
            fetched.validators,
            **self.cursor_keys(fetched.documents, snapshot),
        )
        yield PollResult(status=snapshot, cursor=next_cursor, requests=fetched.requests)

    async def check(self) -> str:
        """Read and map the documents once: proves the host serves this kind of feed."""
        fetched = await fetch_documents(
            self.client, self.document_paths(), {}, self.limiter, self.hints()
        )
        assert fetched.documents is not None  # nothing was sent conditionally
        snapshot = self.read(fetched.documents)
        return summary(snapshot)


def summary(snapshot: StatusSnapshot) -> str:
    """``ok, minor: Minor Service Outage (12 components, 1 incident, 1 maintenance)``."""
    maintenances = sum(1 for i in snapshot.incidents if i.maintenance)
    incidents = len(snapshot.incidents) - maintenances
    counts = [
        f"{len(snapshot.components)} component" + ("" if len(snapshot.components) == 1 else "s"),
        f"{incidents} incident" + ("" if incidents == 1 else "s"),
        f"{maintenances} maintenance" + ("" if maintenances == 1 else "s"),
    ]
    text = f"ok, {snapshot.indicator}: {snapshot.description} ({', '.join(counts)})"
    return one_line(clean_text(text), 160)

"""The Azure status connector: one conditional GET of the RSS feed per poll.

The feed is rebuilt about every minute, so it rarely answers ``304``; when it
does, the ``lastBuildDate`` kept in the cursor is checked again, so a feed
that stopped being rebuilt is refused even while it keeps answering "not
modified".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

from connectors.azure_status.mapping import check_fresh, feed_to_snapshot
from connectors.azure_status.settings import AzureStatusSettings
from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.records import Cursor, StatusSnapshot
from connectors.settings import ConnectorSettings

__all__ = ["AzureStatusConnector"]


class AzureStatusConnector(StatusFeedConnector):
    """Polls ``azure.status.microsoft``'s RSS feed for active incidents."""

    kind: ClassVar[str] = "azure_status"
    Settings: ClassVar[type[ConnectorSettings] | None] = AzureStatusSettings

    @property
    def options(self) -> AzureStatusSettings:
        """The typed settings."""
        return cast(AzureStatusSettings, self.settings)

    @property
    def page_url(self) -> str:
        """The page people read: ``page_url``, else ``{base_url}/en-us/status``."""
        if self.options.page_url:
            return self.options.page_url
        return self.config.base_url.rstrip("/") + "/en-us/status"

    @property
    def max_age(self) -> timedelta:
        """How old ``lastBuildDate`` may be."""
        return timedelta(seconds=self.options.max_feed_age_seconds)

    def document_paths(self) -> tuple[str, ...]:
        """The RSS feed."""
        return (self.options.feed_path,)

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the feed, refusing a stale one."""
        document = documents[self.options.feed_path]
        return feed_to_snapshot(
            document.content,
            document.content_type,
            self.page_url,
            now=datetime.now(UTC),
            max_age=self.max_age,
        )

    def cursor_keys(
        self, documents: Mapping[str, Document], snapshot: StatusSnapshot
    ) -> dict[str, Any]:
        """Keep ``lastBuildDate``, to judge a later ``304``."""
        built = snapshot.updated_at
        return {"last_build": built.isoformat() if built else None}

    def unchanged(self, cursor: Cursor) -> None:
        """A feed that answers "not modified" must still have been rebuilt recently."""
        saved = cursor.get("last_build")
        if isinstance(saved, str):
            try:
                built = datetime.fromisoformat(saved)
            except ValueError:
                return
            if built.tzinfo is not None:
                check_fresh(built, datetime.now(UTC), self.max_age)

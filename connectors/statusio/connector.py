"""The Status.io connector: one conditional GET of ``/1.0/status/{page_id}`` per poll."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, cast

from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.feeds.payload import read_json
from connectors.records import StatusSnapshot
from connectors.settings import ConnectorSettings
from connectors.statusio.mapping import snapshot
from connectors.statusio.settings import StatusioSettings

__all__ = ["StatusioConnector"]


class StatusioConnector(StatusFeedConnector):
    """Polls ``api.status.io`` for one page's status."""

    kind: ClassVar[str] = "statusio"
    Settings: ClassVar[type[ConnectorSettings] | None] = StatusioSettings

    @property
    def options(self) -> StatusioSettings:
        """The typed settings."""
        return cast(StatusioSettings, self.settings)

    @property
    def page_url(self) -> str:
        """The page people read: ``page_url``, else Status.io's hosted address (a guess)."""
        return self.options.page_url or f"https://status.io/pages/{self.options.page_id}"

    def document_paths(self) -> tuple[str, ...]:
        """The page's status document."""
        return (f"/1.0/status/{self.options.page_id}",)

    def hints(self) -> dict[str, str]:
        """A 404 means the page id is wrong (or the page is private)."""
        return {self.document_paths()[0]: "check page_id (the page must be public)"}

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the status document."""
        document = documents[self.document_paths()[0]]
        return snapshot(
            read_json(document.content, document.content_type, "Status.io"), self.page_url
        )

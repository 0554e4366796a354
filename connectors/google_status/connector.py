"""The Google status connector: one conditional GET of ``incidents.json`` per poll.

The Cloud file is the whole public incident history (megabytes), so the
``ETag``/``Last-Modified`` of the last copy are sent back and an unchanged
file costs one ``304``. Whether Google's host sends either validator is not
documented; without them every poll reads the file whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, cast

from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.feeds.payload import read_json
from connectors.google_status.mapping import incidents_to_snapshot
from connectors.google_status.settings import GoogleStatusSettings
from connectors.records import StatusSnapshot
from connectors.settings import ConnectorSettings

__all__ = ["GoogleStatusConnector"]


class GoogleStatusConnector(StatusFeedConnector):
    """Polls ``status.cloud.google.com`` (or the Workspace dashboard) for open incidents."""

    kind: ClassVar[str] = "google_status"
    Settings: ClassVar[type[ConnectorSettings] | None] = GoogleStatusSettings

    @property
    def options(self) -> GoogleStatusSettings:
        """The typed settings."""
        return cast(GoogleStatusSettings, self.settings)

    def document_paths(self) -> tuple[str, ...]:
        """The history file."""
        return (self.options.incidents_path,)

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the open incidents in scope."""
        document = documents[self.options.incidents_path]
        payload = read_json(document.content, document.content_type, "Google status")
        return incidents_to_snapshot(
            payload,
            self.page_url,
            products=self.options.products,
            locations=self.options.locations,
        )

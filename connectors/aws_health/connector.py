"""The AWS Health connector: one conditional GET of ``/public/currentevents`` per poll.

The body is UTF-16 with a byte-order mark and says so in its
``Content-Type`` (``application/json;charset=utf-16``); it is decoded from the
bytes, never as UTF-8.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, cast

from connectors.aws_health.mapping import events_to_snapshot
from connectors.aws_health.settings import AwsHealthSettings
from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.feeds.payload import read_json
from connectors.records import StatusSnapshot
from connectors.settings import ConnectorSettings

__all__ = ["AwsHealthConnector"]


class AwsHealthConnector(StatusFeedConnector):
    """Polls ``health.aws.amazon.com`` for open service events."""

    kind: ClassVar[str] = "aws_health"
    Settings: ClassVar[type[ConnectorSettings] | None] = AwsHealthSettings

    @property
    def options(self) -> AwsHealthSettings:
        """The typed settings."""
        return cast(AwsHealthSettings, self.settings)

    @property
    def page_url(self) -> str:
        """The dashboard people read: ``page_url``, else ``{base_url}/health/status``."""
        if self.options.page_url:
            return self.options.page_url
        return self.config.base_url.rstrip("/") + "/health/status"

    def document_paths(self) -> tuple[str, ...]:
        """The current-events document."""
        return (self.options.events_path,)

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the open events in scope."""
        document = documents[self.options.events_path]
        payload = read_json(document.content, document.content_type, "AWS Health")
        return events_to_snapshot(
            payload, self.page_url, regions=self.options.regions, services=self.options.services
        )

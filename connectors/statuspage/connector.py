"""The Atlassian Statuspage connector: one conditional GET of ``summary.json`` per poll.

Public status pages have no change feed, so every poll asks for the whole
snapshot but sends the last ``ETag``; a ``304`` means nothing changed and costs
the vendor (and us) almost nothing. There are no credentials and no tickets.
``summary.json`` carries the page rollup, every component, the unresolved
incidents and the scheduled maintenances, upcoming and in progress, so one
request is the whole picture (``vendor-apis-2.md`` §4.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connectors.errors import BadPayload
from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document, expect_document
from connectors.feeds.payload import read_json
from connectors.http import send
from connectors.records import StatusSnapshot
from connectors.sanitize import clean_text, one_line
from connectors.settings import ConnectorSettings
from connectors.statuspage.mapping import summary_to_snapshot
from connectors.statuspage.settings import StatuspageSettings

__all__ = ["STATUS_PATH", "SUMMARY_PATH", "StatuspageConnector"]

SUMMARY_PATH = "/api/v2/summary.json"
STATUS_PATH = "/api/v2/status.json"


class StatuspageConnector(StatusFeedConnector):
    """Polls a public Statuspage page (``https://status.vendor.example``) for its snapshot."""

    kind: ClassVar[str] = "statuspage"
    Settings: ClassVar[type[ConnectorSettings] | None] = StatuspageSettings
    feed_version: ClassVar[int] = 2
    """2: scheduled maintenances (upcoming too), affected components and built links."""

    def document_paths(self) -> tuple[str, ...]:
        """``summary.json`` holds everything."""
        return (SUMMARY_PATH,)

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the summary."""
        document = documents[SUMMARY_PATH]
        payload = read_json(document.content, document.content_type, "Statuspage")
        return summary_to_snapshot(payload, self.page_url)

    async def check(self) -> str:
        """One ``status.json`` call: proves the host is a Statuspage page and reports its rollup."""
        response = await send(self.client, "GET", STATUS_PATH)
        expect_document(response)
        body = read_json(response.content, response.headers.get("Content-Type"), "Statuspage")
        status = body.get("status") if isinstance(body, dict) else None
        indicator = status.get("indicator") if isinstance(status, dict) else None
        if not isinstance(status, dict) or not isinstance(indicator, str) or not indicator:
            raise BadPayload("status.json has no status.indicator")
        description = status.get("description")
        text = description if isinstance(description, str) else ""
        return one_line(clean_text(f"ok, {indicator}: {text}".rstrip(": ")), 120)

"""The Instatus connector: ``summary.json`` and ``components.json``, both conditional."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.feeds.payload import read_json
from connectors.instatus.mapping import snapshot
from connectors.instatus.settings import InstatusSettings
from connectors.records import StatusSnapshot
from connectors.settings import ConnectorSettings

__all__ = ["COMPONENTS_PATH", "SUMMARY_PATH", "InstatusConnector"]

SUMMARY_PATH = "/summary.json"
COMPONENTS_PATH = "/api/v2/components.json"


class InstatusConnector(StatusFeedConnector):
    """Polls an Instatus page (``https://status.vendor.example``)."""

    kind: ClassVar[str] = "instatus"
    Settings: ClassVar[type[ConnectorSettings] | None] = InstatusSettings

    def document_paths(self) -> tuple[str, ...]:
        """The summary and the component list."""
        return (SUMMARY_PATH, COMPONENTS_PATH)

    def hints(self) -> dict[str, str]:
        """What a 404 most likely means."""
        return {SUMMARY_PATH: "not an Instatus page? check base_url"}

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map both documents."""
        summary, components = documents[SUMMARY_PATH], documents[COMPONENTS_PATH]
        return snapshot(
            read_json(summary.content, summary.content_type, "Instatus"),
            read_json(components.content, components.content_type, "Instatus"),
            self.page_url,
        )

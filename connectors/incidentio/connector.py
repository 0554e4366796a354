"""The incident.io connector: the v2 summary and the widget summary, both conditional.

Two documents a poll (one with ``widget = false``); the snapshot counts as
unchanged only when both answer ``304``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, cast

from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.documents import Document
from connectors.feeds.payload import read_json
from connectors.incidentio.mapping import snapshot
from connectors.incidentio.settings import IncidentioSettings
from connectors.records import StatusSnapshot
from connectors.settings import ConnectorSettings

__all__ = ["SUMMARY_PATH", "WIDGET_PATH", "IncidentioConnector"]

SUMMARY_PATH = "/api/v2/summary.json"
WIDGET_PATH = "/api/v1/summary"


class IncidentioConnector(StatusFeedConnector):
    """Polls an incident.io status page (``https://status.vendor.example``)."""

    kind: ClassVar[str] = "incidentio"
    Settings: ClassVar[type[ConnectorSettings] | None] = IncidentioSettings

    @property
    def options(self) -> IncidentioSettings:
        """The typed settings."""
        return cast(IncidentioSettings, self.settings)

    def document_paths(self) -> tuple[str, ...]:
        """The v2 summary, and the widget summary unless switched off."""
        return (SUMMARY_PATH, WIDGET_PATH) if self.options.widget else (SUMMARY_PATH,)

    def hints(self) -> dict[str, str]:
        """A page owner may not have enabled the widget API."""
        return {
            WIDGET_PATH: "the widget API is not enabled on this page; "
            "set widget = false to read the Statuspage-compatible summary alone",
            SUMMARY_PATH: "not an incident.io status page? check base_url",
        }

    def read(self, documents: Mapping[str, Document]) -> StatusSnapshot:
        """Map the summary and the widget."""
        summary = documents[SUMMARY_PATH]
        widget = documents.get(WIDGET_PATH)
        return snapshot(
            read_json(summary.content, summary.content_type, "incident.io"),
            read_json(widget.content, widget.content_type, "incident.io") if widget else None,
            self.page_url,
        )

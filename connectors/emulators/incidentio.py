"""An incident.io status page on loopback: the Statuspage-compatible v2 summary and the widget.

``/api/v2/summary.json`` has the keys and order of the real capture
(``incidentio-openai-statuspage-summary.json``): ``page`` (``id``, ``name``,
``url``, ``updated_at``), ``status`` (``description``, ``indicator``),
``components`` (``id``, ``name``, ``status``, ``created_at``, ``updated_at``,
``position``, ``page_id``; no group fields); ULID ids (26 characters of
Crockford's base 32, ``01…``); timestamps in whole seconds with ``Z``. Like
the capture it carries no ``incidents`` or ``scheduled_maintenances`` key.

``/api/v1/summary`` is the widget API (``vendor-apis-2.md`` §4.4; incident.io
documents its three arrays and what each event carries [D], the field names
come from several clients' typings [C]): ``page_title``, ``page_url``,
``ongoing_incidents`` (``id``, ``name``, ``status``, ``url``,
``last_update_at``, ``last_update_message``, ``current_worst_impact``,
``affected_components`` with ``id``, ``name``, ``group_name``,
``current_status``), ``in_progress_maintenances`` (``started_at``,
``scheduled_end_at``) and ``scheduled_maintenances`` (``starts_at``,
``ends_at``), maintenance ``status`` ``maintenance_in_progress`` /
``maintenance_scheduled``. Timestamps with microseconds and ``Z``.

Assumed, not confirmed [U]: the body a page without the widget enabled
returns (404 with a small JSON error here, ``widget_enabled=False``); whether
the v2 summary ever carries incidents or groups; the timestamp format of the
widget; that the host answers conditional requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.emulators._status_feed import (
    DEFAULT_COMPONENTS,
    Document,
    FeedEvent,
    StatusFeedEmulator,
    _utc_now,
    dump_json,
)
from connectors.emulators.base import Reply, Request
from connectors.feeds.rollup import IMPACT_FOR_STATE, describe, worst_indicator
from connectors.records import ComponentState

__all__ = ["EMULATOR", "IncidentioEmulator"]

JSON = "application/json; charset=utf-8"
_WORST_IMPACT = {
    "none": "degraded_performance",
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "full_outage",
}
_CURRENT = {ComponentState.MAJOR_OUTAGE: "full_outage"}


class IncidentioEmulator(StatusFeedEmulator):
    """One incident.io public status page."""

    kind: ClassVar[str] = "incidentio"
    id_alphabet: ClassVar[str] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    id_length: ClassVar[int] = 24

    def __init__(
        self,
        *,
        page_name: str = "Acme AI",
        page_url: str = "https://status.acme-ai.example/",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
        widget_enabled: bool = True,
    ) -> None:
        self.public_url = page_url
        self.widget_enabled = widget_enabled
        self.page_id = ""
        super().__init__(
            page_name=page_name,
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )
        self.page_id = self.new_id()

    def __enter__(self) -> IncidentioEmulator:
        self.start()
        return self

    def new_id(self) -> str:
        """A ULID-looking id: ``01`` and 24 characters of Crockford's base 32."""
        return "01" + super().new_id()

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The v2 summary, and the widget when enabled."""
        paths = {"/api/v2/summary.json": self._summary}
        if self.widget_enabled:
            paths["/api/v1/summary"] = self._widget
        return paths

    def not_found(self, request: Request) -> Reply:
        """A small JSON error (the real body is not known)."""
        return Reply(404, {"type": "not_found", "status": 404, "request_id": self.new_id()})

    # -- wire format -------------------------------------------------------------

    def _summary(self) -> Document:
        indicator = self._indicator()
        body = {
            "page": {
                "id": self.page_id,
                "name": self.page_name,
                "url": self.public_url,
                "updated_at": _seconds(self.changed_at),
            },
            "status": {"description": describe(indicator), "indicator": indicator},
            "components": [
                {
                    "id": c.id,
                    "name": c.name,
                    "status": c.state.value,
                    "created_at": _seconds(c.created_at),
                    "updated_at": _seconds(c.updated_at),
                    "position": index,
                    "page_id": self.page_id,
                }
                for index, c in enumerate(self.components.values())
            ],
        }
        return Document(dump_json(body).encode(), JSON)

    def _indicator(self) -> str:
        found = [IMPACT_FOR_STATE[c.state] for c in self.components.values()]
        for event in self.current.values():
            if not event.maintenance:
                found.append(event.impact)
            elif event.status in ("in_progress", "verifying"):
                found.append("maintenance")
        return worst_indicator(found)

    def _widget(self) -> Document:
        incidents = [self._incident(e) for e in self.open_events(maintenance=False)]
        maintenances = self.open_events(maintenance=True)
        body = {
            "page_title": self.page_name,
            "page_url": self.public_url.rstrip("/"),
            "ongoing_incidents": incidents,
            "in_progress_maintenances": [
                self._maintenance(e) for e in maintenances if e.status != "scheduled"
            ],
            "scheduled_maintenances": [
                self._maintenance(e) for e in maintenances if e.status == "scheduled"
            ],
        }
        return Document(dump_json(body).encode(), JSON)

    def _common(self, event: FeedEvent) -> dict[str, Any]:
        latest = event.updates[0] if event.updates else None
        return {
            "id": event.id,
            "name": event.name,
            "url": f"{self.public_url.rstrip('/')}/incidents/{event.id}",
            "last_update_at": _micro(latest.at if latest else event.updated_at),
            "last_update_message": latest.body if latest else None,
            "affected_components": [
                {
                    "id": c.id,
                    "name": c.name,
                    **({"group_name": c.group} if c.group else {}),
                    "current_status": _CURRENT.get(c.state, c.state.value),
                }
                for c in self.affected_components(event)
            ],
        }

    def _incident(self, event: FeedEvent) -> dict[str, Any]:
        return {
            **self._common(event),
            "status": event.status,
            "current_worst_impact": _WORST_IMPACT.get(event.impact, "degraded_performance"),
        }

    def _maintenance(self, event: FeedEvent) -> dict[str, Any]:
        row = self._common(event)
        if event.status == "scheduled":
            row.update(
                status="maintenance_scheduled",
                starts_at=_micro(event.starts_at),
                ends_at=_micro(event.ends_at),
            )
        else:
            row.update(
                status="maintenance_in_progress",
                started_at=_micro(event.started_at or event.starts_at),
                scheduled_end_at=_micro(event.ends_at),
            )
        return row


def _seconds(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


EMULATOR = IncidentioEmulator

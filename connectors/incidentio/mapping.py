"""incident.io's two public documents → :class:`StatusSnapshot`, as pure functions.

* ``/api/v2/summary.json``: incident.io's Statuspage-compatible summary
  (the ``incidentio-openai-statuspage-summary.json`` capture): ``page``,
  ``status`` (the rollup) and ``components``, mapped as Statuspage's are
  (:mod:`connectors.statuspage.mapping`). ULID ids; timestamps without a
  fraction. The capture has no ``incidents`` or ``scheduled_maintenances`` key
  at all; when present they are read like Statuspage's.
* ``/api/v1/summary``, the widget API (``vendor-apis-2.md`` §4.4; incident.io's
  docs name the three arrays, a name, status, dates, the last update message
  and the affected components [D]; the field names are from several clients'
  typings [C]): ``ongoing_incidents`` (``status`` investigating, identified,
  monitoring, or resolved on its way out; ``current_worst_impact``
  degraded_performance, partial_outage, full_outage), ``in_progress_maintenances``
  (``started_at``, ``scheduled_end_at``, which may be null) and
  ``scheduled_maintenances`` (``starts_at``, ``ends_at``), each with ``id``,
  ``name``, ``url``, ``last_update_at``, ``last_update_message`` and
  ``affected_components`` (``name``, ``group_name``).

The widget publishes no creation time for an incident: its ``created_at`` is
the last update's time (the earliest the snapshot can know). Maintenance
statuses become the shared words (``scheduled``, ``in_progress``). The
indicator is the worse of the page's own rollup and the widget's picture.
Links are ``{page}/incidents/{id}``, built from the configured page and the
id (the widget's ``url`` is not used).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import describe, rollup, worst_indicator
from connectors.records import IncidentRecord, StatusSnapshot
from connectors.statuspage import mapping as statuspage

__all__ = ["IMPACT", "snapshot"]

READ = PayloadReader("incident.io")
IMPACT = {"degraded_performance": "minor", "partial_outage": "major", "full_outage": "critical"}
"""``current_worst_impact`` as the shared impact (anything else counts as minor)."""
_WIDGET_KEYS = ("ongoing_incidents", "in_progress_maintenances", "scheduled_maintenances")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def snapshot(summary: Any, widget: Any | None, page_url: str) -> StatusSnapshot:
    """Map the v2 summary and, when read, the widget summary."""
    body = READ.mapping(summary, "summary")
    page = READ.mapping(body.get("page"), "page")
    status = READ.mapping(body.get("status"), "status")
    components = statuspage.components(READ.items(body.get("components"), "components"), read=READ)
    if widget is None:
        incidents = [
            statuspage.incident(row, page_url, maintenance=False, read=READ)
            for row in READ.items(body.get("incidents"), "incidents")
            if READ.mapping(row, "incident").get("status") in statuspage.UNRESOLVED_INCIDENT
        ] + [
            statuspage.incident(row, page_url, maintenance=True, read=READ)
            for row in READ.items(body.get("scheduled_maintenances"), "scheduled_maintenances")
            if READ.mapping(row, "maintenance").get("status") in statuspage.SHOWN_MAINTENANCE
        ]
    else:
        incidents = widget_events(widget, page_url)
    computed, _ = rollup(components, incidents)
    indicator = worst_indicator([READ.text(status.get("indicator"), "status.indicator"), computed])
    own = READ.optional_text(status.get("description")) or ""
    return StatusSnapshot(
        indicator=indicator,
        description=own if indicator == status.get("indicator") else describe(indicator),
        components=components,
        incidents=tuple(incidents),
        page_url=page_url,
        updated_at=READ.time(page.get("updated_at"), "page.updated_at"),
    )


def widget_events(payload: Any, page_url: str) -> list[IncidentRecord]:
    """Ongoing incidents, then in-progress and scheduled maintenances, from the widget."""
    body = READ.mapping(payload, "widget summary")
    if not any(key in body for key in _WIDGET_KEYS):
        raise READ.fail("widget summary has none of " + ", ".join(_WIDGET_KEYS))
    events = []
    for item in READ.items(body.get("ongoing_incidents"), "ongoing_incidents"):
        row = READ.mapping(item, "ongoing incident")
        status = READ.text(row.get("status"), "incident status")
        if status == "resolved":
            continue  # on its way out of the widget; the page no longer counts it
        impact_word = READ.optional_text(row.get("current_worst_impact")) or ""
        events.append(_event(row, page_url, status, IMPACT.get(impact_word, "minor"), None, None))
    for item in READ.items(body.get("in_progress_maintenances"), "in_progress_maintenances"):
        row = READ.mapping(item, "in-progress maintenance")
        start = READ.time(row.get("started_at"), "maintenance started_at")
        end = READ.time(row.get("scheduled_end_at"), "maintenance scheduled_end_at")
        events.append(_event(row, page_url, "in_progress", "maintenance", start, end))
    for item in READ.items(body.get("scheduled_maintenances"), "scheduled_maintenances"):
        row = READ.mapping(item, "scheduled maintenance")
        start = READ.time(row.get("starts_at"), "maintenance starts_at")
        end = READ.time(row.get("ends_at"), "maintenance ends_at")
        events.append(_event(row, page_url, "scheduled", "maintenance", start, end))
    return events


def _event(
    row: Mapping[str, Any],
    page_url: str,
    status: str,
    impact: str,
    starts: Any,
    ends: Any,
) -> IncidentRecord:
    event_id = READ.identifier(row.get("id"), "event id")
    if not _SAFE_ID.match(event_id):
        raise READ.fail(f"event id is not an id: {event_id[:40]!r}")
    maintenance = impact == "maintenance"
    updated = READ.time(row.get("last_update_at"), "last_update_at")
    created = (starts if maintenance and status == "in_progress" else None) or updated or starts
    if created is None:
        raise READ.fail(f"event {event_id} carries no time at all")
    names = [
        READ.text(READ.mapping(c, "affected component").get("name"), "affected component name")
        for c in READ.items(row.get("affected_components"), "affected_components")
    ]
    return IncidentRecord(
        external_id=event_id,
        name=READ.text(row.get("name"), "event name"),
        status=status,
        impact=impact,
        created_at=created,
        updated_at=updated or created,
        latest_update=READ.optional_text(row.get("last_update_message")),
        url=f"{page_url}/incidents/{event_id}",
        maintenance=maintenance,
        scheduled_for=starts if maintenance else None,
        scheduled_until=ends if maintenance else None,
        components=tuple(dict.fromkeys(names)),
    )

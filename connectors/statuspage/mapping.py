"""Statuspage v2 JSON (``summary.json``) → :class:`StatusSnapshot`, as pure functions.

Kept apart from HTTP so the real captures (GitHub, Cloudflare with live
maintenances, OpenAI's incident.io page) and hand-made hostile payloads are
mapped in tests without a server. incident.io pages serve the same v2 shape,
so :mod:`connectors.incidentio` reuses the page, rollup and component parts.

What is read (``vendor-apis.md`` §4, ``vendor-apis-2.md`` §4.1):

* ``status.indicator`` / ``status.description``: the page's own rollup, kept
  as it is (``none``, ``minor``, ``major``, ``critical``, ``maintenance``);
* ``components``: leaves only; a group container (``group: true``) lends its
  name to its children;
* ``incidents``: the unresolved ones (summary.json carries no others);
* ``scheduled_maintenances``: upcoming (``scheduled``) **and** in progress
  (``in_progress``, ``verifying``), each an :class:`IncidentRecord` with
  ``maintenance=True`` and its announced window (``scheduled_for`` /
  ``scheduled_until``). ``started_at`` is set when the window was announced,
  not when it starts, so it is not read as the start.

Links are built from the configured page address and the incident id
(``{page}/incidents/{id}``, where Statuspage shows incidents and maintenances
alike); ``page.url`` and ``shortlink`` from the payload are never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import MAINTENANCE_ACTIVE, MAINTENANCE_UPCOMING
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot

__all__ = [
    "ACTIVE_MAINTENANCE",
    "SHOWN_MAINTENANCE",
    "UNRESOLVED_INCIDENT",
    "component_state",
    "components",
    "incident",
    "summary_to_snapshot",
]

READ = PayloadReader("Statuspage")
RESOLVED_INCIDENT = frozenset({"resolved", "postmortem"})
UNRESOLVED_INCIDENT = frozenset({"investigating", "identified", "monitoring"})
ACTIVE_MAINTENANCE = MAINTENANCE_ACTIVE
"""Maintenance states that affect service now (``scheduled`` has not started yet)."""
SHOWN_MAINTENANCE = ACTIVE_MAINTENANCE | {MAINTENANCE_UPCOMING}
"""Maintenances a snapshot carries: announced and in progress (``completed`` ones are history)."""

_KNOWN_STATES = {state.value: state for state in ComponentState}


def component_state(raw: str) -> ComponentState:
    """The normalized state; an unknown one counts as degraded so it can never show green."""
    return _KNOWN_STATES.get(raw, ComponentState.DEGRADED)


def summary_to_snapshot(
    payload: Any, page_url: str, *, read: PayloadReader = READ
) -> StatusSnapshot:
    """Map one decoded ``GET /api/v2/summary.json`` body; links start at ``page_url``."""
    body = read.mapping(payload, "summary")
    page = read.mapping(body.get("page"), "page")
    status = read.mapping(body.get("status"), "status")
    incidents = [
        incident(row, page_url, maintenance=False, read=read)
        for row in read.items(body.get("incidents"), "incidents")
        if read.text(read.mapping(row, "incident").get("status"), "incident status")
        not in RESOLVED_INCIDENT
    ]
    maintenances = [
        incident(row, page_url, maintenance=True, read=read)
        for row in read.items(body.get("scheduled_maintenances"), "scheduled_maintenances")
        if read.text(read.mapping(row, "maintenance").get("status"), "maintenance status")
        in SHOWN_MAINTENANCE
    ]
    return StatusSnapshot(
        indicator=read.text(status.get("indicator"), "status.indicator"),
        description=read.optional_text(status.get("description")) or "",
        components=components(read.items(body.get("components"), "components"), read=read),
        incidents=tuple(incidents + maintenances),
        page_url=page_url,
        updated_at=read.time(page.get("updated_at"), "page.updated_at"),
    )


def components(rows: list[Any], *, read: PayloadReader = READ) -> tuple[ComponentRecord, ...]:
    """Leaf components; group containers only lend their name to their children."""
    mapped = [read.mapping(row, "component") for row in rows]
    containers = {
        read.identifier(row.get("id"), "component id"): read.text(row.get("name"), "component name")
        for row in mapped
        if row.get("group") is True
    }
    records = []
    for row in mapped:
        if row.get("group") is True:
            continue
        raw_status = read.text(row.get("status"), "component status")
        group_id = row.get("group_id")
        records.append(
            ComponentRecord(
                external_id=read.identifier(row.get("id"), "component id"),
                name=read.text(row.get("name"), "component name"),
                state=component_state(raw_status),
                raw_status=raw_status,
                group=containers.get(group_id) if isinstance(group_id, str) else None,
                position=read.position(row.get("position"), "component position"),
                updated_at=read.time(row.get("updated_at"), "component updated_at"),
            )
        )
    return tuple(records)


def incident(
    item: Any, page_url: str, *, maintenance: bool, read: PayloadReader = READ
) -> IncidentRecord:
    """One incident or scheduled maintenance of the v2 shape."""
    row = read.mapping(item, "incident")
    incident_id = read.identifier(row.get("id"), "incident id")
    created_at = read.required_time(row.get("created_at"), "incident created_at")
    updates = [
        read.mapping(u, "incident update")
        for u in read.items(row.get("incident_updates"), "incident_updates")
    ]
    latest = read.optional_text(updates[0].get("body")) if updates else None
    return IncidentRecord(
        external_id=incident_id,
        name=read.text(row.get("name"), "incident name"),
        status=read.text(row.get("status"), "incident status"),
        impact="maintenance" if maintenance else read.text(row.get("impact"), "incident impact"),
        created_at=created_at,
        updated_at=read.time(row.get("updated_at"), "incident updated_at") or created_at,
        resolved_at=read.time(row.get("resolved_at"), "incident resolved_at"),
        latest_update=latest,
        url=f"{page_url}/incidents/{incident_id}",
        maintenance=maintenance,
        scheduled_for=read.time(row.get("scheduled_for"), "scheduled_for") if maintenance else None,
        scheduled_until=(
            read.time(row.get("scheduled_until"), "scheduled_until") if maintenance else None
        ),
        components=_affected(row, updates, read),
    )


def _affected(
    row: Mapping[str, Any], updates: list[Mapping[str, Any]], read: PayloadReader
) -> tuple[str, ...]:
    """Names of the affected components: the incident's own list, else its updates' lists.

    The incident's ``components`` carry the names the page shows; an update's
    ``affected_components`` carry the group-prefixed name (``Europe - Madrid``)
    and are only read when the incident has no list of its own.
    """
    names = [
        read.text(read.mapping(c, "incident component").get("name"), "incident component name")
        for c in read.items(row.get("components"), "incident components")
    ]
    if not names:
        for update in updates:
            for affected in read.items(update.get("affected_components"), "affected_components"):
                name = read.optional_text(read.mapping(affected, "affected component").get("name"))
                if name:
                    names.append(name)
    return tuple(dict.fromkeys(names))

"""Statuspage ``summary.json`` → :class:`StatusSnapshot`, as a pure function.

Kept apart from HTTP so the real GitHub capture and hand-made hostile payloads
can be mapped in tests without a server. Anything that does not have the
documented shape raises :class:`BadPayload`; the records clean all text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.errors import BadPayload
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot
from connectors.timestamps import parse_iso

__all__ = ["ACTIVE_MAINTENANCE", "UNRESOLVED_INCIDENT", "component_state", "summary_to_snapshot"]

RESOLVED_INCIDENT = frozenset({"resolved", "postmortem"})
UNRESOLVED_INCIDENT = frozenset({"investigating", "identified", "monitoring"})
ACTIVE_MAINTENANCE = frozenset({"in_progress", "verifying"})
"""Maintenance states that affect service now (``scheduled`` has not started yet)."""

_KNOWN_STATES = {state.value: state for state in ComponentState}


def component_state(raw: str) -> ComponentState:
    """The normalized state; an unknown one counts as degraded so it can never show green."""
    return _KNOWN_STATES.get(raw, ComponentState.DEGRADED)


def summary_to_snapshot(payload: Any) -> StatusSnapshot:
    """Map one decoded ``GET /api/v2/summary.json`` body."""
    body = _mapping(payload, "summary")
    page = _mapping(body.get("page"), "page")
    status = _mapping(body.get("status"), "status")
    incidents = [
        _incident(item, maintenance=False)
        for item in _list(body.get("incidents"), "incidents")
        if _text(_mapping(item, "incident").get("status"), "incident status")
        not in RESOLVED_INCIDENT
    ]
    maintenances = [
        _incident(item, maintenance=True)
        for item in _list(body.get("scheduled_maintenances"), "scheduled_maintenances")
        if _text(_mapping(item, "maintenance").get("status"), "maintenance status")
        in ACTIVE_MAINTENANCE
    ]
    page_url = _optional_text(page.get("url"))
    return StatusSnapshot(
        indicator=_text(status.get("indicator"), "status.indicator"),
        description=_optional_text(status.get("description")) or "",
        components=_components(_list(body.get("components"), "components")),
        incidents=tuple(incidents + maintenances),
        page_url=page_url if page_url and page_url.startswith(("https://", "http://")) else None,
        updated_at=parse_iso(page.get("updated_at")),
    )


def _components(rows: list[Any]) -> tuple[ComponentRecord, ...]:
    """Leaf components; group containers only lend their name to their children."""
    mapped = [_mapping(row, "component") for row in rows]
    containers = {
        _text(row.get("id"), "component id"): _text(row.get("name"), "component name")
        for row in mapped
        if row.get("group") is True
    }
    records = []
    for row in mapped:
        if row.get("group") is True:
            continue
        raw_status = _text(row.get("status"), "component status")
        group_id = row.get("group_id")
        records.append(
            ComponentRecord(
                external_id=_text(row.get("id"), "component id"),
                name=_text(row.get("name"), "component name"),
                state=component_state(raw_status),
                raw_status=raw_status,
                group=containers.get(group_id) if isinstance(group_id, str) else None,
                position=_position(row.get("position")),
                updated_at=parse_iso(row.get("updated_at")),
            )
        )
    return tuple(records)


def _incident(item: Any, *, maintenance: bool) -> IncidentRecord:
    row = _mapping(item, "incident")
    created_at = _required_time(row.get("created_at"), "incident created_at")
    updates = _list(row.get("incident_updates"), "incident_updates")
    latest = (
        _optional_text(_mapping(updates[0], "incident update").get("body")) if updates else None
    )
    shortlink = row.get("shortlink")
    return IncidentRecord(
        external_id=_text(row.get("id"), "incident id"),
        name=_text(row.get("name"), "incident name"),
        status=_text(row.get("status"), "incident status"),
        impact="maintenance" if maintenance else _text(row.get("impact"), "incident impact"),
        created_at=created_at,
        updated_at=parse_iso(row.get("updated_at")) or created_at,
        resolved_at=parse_iso(row.get("resolved_at")),
        latest_update=latest,
        url=shortlink if isinstance(shortlink, str) and shortlink.startswith("https://") else None,
    )


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadPayload(f"Statuspage {what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    """A list field; absent or null counts as empty (pages omit what they do not use)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"Statuspage {what} is not a list")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadPayload(f"Statuspage {what} missing or not text")
    return value


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | None):
        raise BadPayload("Statuspage component position is not an integer")
    return value or 0


def _required_time(value: Any, what: str) -> datetime:
    parsed = parse_iso(value)
    if parsed is None:
        raise BadPayload(f"Statuspage {what} missing")
    return parsed

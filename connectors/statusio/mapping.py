"""Status.io ``/1.0/status/{page_id}`` → :class:`StatusSnapshot`, as pure functions.

The public status API (Status.io's knowledge base documents it with two
example bodies [D]; ``vendor-apis-2.md`` §4.6) answers
``{"result": {"status_overall", "status", "incidents", "maintenance"}}``:

* ``status_overall`` (``updated``, ``status``, ``status_code``): the page rollup;
* ``status``: components (``id``, ``name``, ``status``, ``status_code``), each
  with ``containers`` (locations: ``id``, ``name``, ``updated``, ``status``,
  ``status_code``). A component's state is published per container, so each
  (component, container) pair is one :class:`ComponentRecord` named for the
  component and grouped by the container (``Virginia / Website``);
* ``incidents`` and ``maintenance.active`` / ``maintenance.upcoming``: the
  documented examples show them as empty lists only; their fields come from
  several clients' code [C]: ``_id`` (some clients read ``id``: both are
  accepted), ``name``, ``datetime_open``, ``messages`` (``details``,
  ``datetime``, ``state``, ``status``), ``components_affected`` and
  ``containers_affected`` (``_id``, ``name``), and for maintenance
  ``datetime_planned_start`` / ``datetime_planned_end``.

Status codes: ``100`` operational and ``200`` planned maintenance are in
Status.io's own examples [D]; ``300`` degraded performance, ``400`` partial
service disruption, ``500`` service disruption and ``600`` security event are
consistent across clients but not found in Status.io's docs [U]. They map to
operational, under maintenance, degraded, partial outage, major outage, and
(600, or any unknown code) degraded: never green. A message's ``state``
(``100`` investigating, ``200`` identified, ``300`` monitoring) is assumed
[U]; an unknown one leaves the incident ``active``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import ACTIVE, IMPACT_FOR_STATE, describe, rollup, worst_indicator
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot

__all__ = ["STATE", "snapshot", "state_of"]

READ = PayloadReader("Status.io")
STATE = {
    100: ComponentState.OPERATIONAL,
    200: ComponentState.MAINTENANCE,
    300: ComponentState.DEGRADED,
    400: ComponentState.PARTIAL_OUTAGE,
    500: ComponentState.MAJOR_OUTAGE,
}
_MESSAGE_STATE = {100: "investigating", 200: "identified", 300: "monitoring"}


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def state_of(code: Any) -> ComponentState:
    """A status code as a component state (unknown: degraded)."""
    found = _code(code)
    return (
        STATE.get(found, ComponentState.DEGRADED) if found is not None else ComponentState.DEGRADED
    )


def snapshot(payload: Any, page_url: str) -> StatusSnapshot:
    """Map one decoded ``/1.0/status/{page_id}`` body."""
    body = READ.mapping(payload, "response")
    result = READ.mapping(body.get("result"), "result")
    overall = READ.mapping(result.get("status_overall"), "status_overall")
    components = _components(READ.items(result.get("status"), "status"))
    incidents = [
        _incident(READ.mapping(item, "incident"), page_url)
        for item in READ.items(result.get("incidents"), "incidents")
    ]
    maintenance = result.get("maintenance")
    if maintenance is not None:
        windows = READ.mapping(maintenance, "maintenance")
        for key, status in (("active", "in_progress"), ("upcoming", "scheduled")):
            for item in READ.items(windows.get(key), f"maintenance.{key}"):
                incidents.append(_maintenance(READ.mapping(item, "maintenance"), page_url, status))
    computed, _ = rollup(components, incidents)
    own = IMPACT_FOR_STATE[state_of(overall.get("status_code"))]
    indicator = worst_indicator([own, computed])
    return StatusSnapshot(
        indicator=indicator,
        description=describe(indicator),
        components=components,
        incidents=tuple(incidents),
        page_url=page_url,
        updated_at=READ.time(overall.get("updated"), "status_overall.updated"),
    )


def _components(rows: list[Any]) -> tuple[ComponentRecord, ...]:
    records: list[ComponentRecord] = []
    for item in rows:
        row = READ.mapping(item, "component")
        component_id = READ.identifier(row.get("id"), "component id")
        name = READ.text(row.get("name"), "component name")
        containers = READ.items(row.get("containers"), "component containers")
        if not containers:
            containers = [{**row, "name": None}]
        for holder in containers:
            container = READ.mapping(holder, "container")
            container_id = READ.optional_text(container.get("id"))
            raw = READ.optional_text(container.get("status")) or str(container.get("status_code"))
            records.append(
                ComponentRecord(
                    external_id=f"{component_id}/{container_id}" if container_id else component_id,
                    name=name,
                    state=state_of(container.get("status_code")),
                    raw_status=raw,
                    group=READ.optional_text(container.get("name")),
                    position=len(records),
                    updated_at=READ.time(container.get("updated"), "container updated"),
                )
            )
    return tuple(records)


def _identity(row: Mapping[str, Any], what: str) -> str:
    value = row.get("_id", row.get("id"))
    return READ.identifier(value, f"{what} id")


def _messages(row: Mapping[str, Any]) -> list[tuple[datetime | None, Mapping[str, Any]]]:
    found = []
    for item in READ.items(row.get("messages"), "messages"):
        message = READ.mapping(item, "message")
        found.append((READ.time(message.get("datetime"), "message datetime"), message))
    return found


def _latest(row: Mapping[str, Any]) -> tuple[datetime | None, Mapping[str, Any]]:
    """The newest message (by its ``datetime``) and when it was posted; ``{}`` for none."""
    latest_at: datetime | None = None
    latest: Mapping[str, Any] = {}
    for at, message in _messages(row):
        if not latest or (at is not None and (latest_at is None or at > latest_at)):
            latest_at, latest = at, message
    return latest_at, latest


def _affected(row: Mapping[str, Any]) -> tuple[str, ...]:
    names = [
        READ.text(READ.mapping(c, "affected component").get("name"), "affected component name")
        for c in READ.items(row.get("components_affected"), "components_affected")
    ]
    return tuple(dict.fromkeys(names))


def _incident(row: Mapping[str, Any], page_url: str) -> IncidentRecord:
    opened = READ.required_time(row.get("datetime_open"), "incident datetime_open")
    latest_at, latest = _latest(row)
    code = latest.get("status", row.get("status_code"))
    state = state_of(code)
    impact = IMPACT_FOR_STATE[state] if state is not ComponentState.OPERATIONAL else "minor"
    status = _MESSAGE_STATE.get(_code(latest.get("state")) or 0, ACTIVE)
    return IncidentRecord(
        external_id=_identity(row, "incident"),
        name=READ.text(row.get("name"), "incident name"),
        status=status,
        impact="minor" if impact == "maintenance" else impact,
        created_at=opened,
        updated_at=max(latest_at, opened) if latest_at else opened,
        latest_update=READ.optional_text(latest.get("details")),
        url=page_url,
        components=_affected(row),
    )


def _maintenance(row: Mapping[str, Any], page_url: str, status: str) -> IncidentRecord:
    start = READ.time(row.get("datetime_planned_start"), "maintenance datetime_planned_start")
    end = READ.time(row.get("datetime_planned_end"), "maintenance datetime_planned_end")
    opened = READ.time(row.get("datetime_open"), "maintenance datetime_open") or start
    if opened is None:
        raise READ.fail("maintenance has neither datetime_open nor datetime_planned_start")
    latest_at, latest = _latest(row)
    return IncidentRecord(
        external_id=_identity(row, "maintenance"),
        name=READ.text(row.get("name"), "maintenance name"),
        status=status,
        impact="maintenance",
        created_at=opened,
        updated_at=max(latest_at, opened) if latest_at else opened,
        latest_update=READ.optional_text(latest.get("details")),
        url=page_url,
        maintenance=True,
        scheduled_for=start,
        scheduled_until=end,
        components=_affected(row),
    )

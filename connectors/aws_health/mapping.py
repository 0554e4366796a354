"""AWS ``/public/currentevents`` → :class:`StatusSnapshot`, as pure functions.

The document is a bare JSON array of events (``vendor-apis-2.md`` §4.8, the
``aws-health-currentevents.json`` capture), served as UTF-16 with a byte-order
mark (decoded by :func:`connectors.feeds.payload.read_json`). Almost every
value is text, numbers included: ``date`` and ``end_time`` are epoch seconds
as strings, ``status`` is a code as a string; only ``event_log[].status`` and
``timestamp`` are integers, and ``impacted_service_status_changes[].timestamp``
is epoch *milliseconds*.

Resolved events stay in the feed for a while: an event is open only while it
has no ``end_time`` **and** its ``summary`` is not marked ``[RESOLVED]`` (either
alone has been seen to lie in other clients' experience). Only open events
reach the snapshot:

* **incidents**: one per event, id the event's ARN, status ``active`` (AWS
  publishes no lifecycle), impact from the event's status code, name
  ``summary (service, region)``, ``created_at`` the event's ``date``, the
  latest ``event_log`` message as its latest update;
* **components**: the services the event lists in ``impacted_services`` with
  a non-zero ``current`` code (else the event's own service), grouped by the
  event's region name, each in its worst state across open events.

Status codes, observed, not documented [U]: ``0`` operating normally /
resolved, ``1`` informational, ``2`` degradation, ``3`` disruption; they map to
operational, degraded performance (minor), partial outage (major) and major
outage (critical). An unknown code counts as degraded. AWS publishes no
maintenance windows in this feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.errors import BadPayload
from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import ACTIVE, IMPACT_FOR_STATE, rollup, worst_state
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot
from connectors.timestamps import from_epoch_seconds

__all__ = ["STATE", "event_region", "events_to_snapshot", "is_open"]

READ = PayloadReader("AWS Health")
STATE = {
    "0": ComponentState.OPERATIONAL,
    "1": ComponentState.DEGRADED,
    "2": ComponentState.PARTIAL_OUTAGE,
    "3": ComponentState.MAJOR_OUTAGE,
}
"""AWS's status codes as component states (observed meanings, see the module text)."""
RESOLVED_MARK = "[resolved]"


def _state(code: Any) -> ComponentState:
    return STATE.get(str(code).strip(), ComponentState.DEGRADED)


def is_open(event: Mapping[str, Any]) -> bool:
    """No ``end_time`` and a summary not marked ``[RESOLVED]``."""
    summary = event.get("summary")
    marked = isinstance(summary, str) and summary.strip().lower().startswith(RESOLVED_MARK)
    return not event.get("end_time") and not marked


def event_region(event: Mapping[str, Any]) -> str | None:
    """The region code from the ARN (``arn:aws:health:eu-west-1::event/…``); None if global."""
    arn = event.get("arn")
    if isinstance(arn, str):
        parts = arn.split(":")
        if len(parts) > 3 and parts[0] == "arn" and parts[3] and parts[3] != "global":
            return parts[3]
    return None


def _service_key(key: str, region: str | None) -> str:
    """``ec2-eu-west-1`` → ``ec2`` (a global service's key has no region)."""
    if region and key.endswith(f"-{region}"):
        return key[: -len(region) - 1]
    return key


def _time(value: Any, what: str) -> datetime:
    try:
        return from_epoch_seconds(value)
    except BadPayload:
        raise READ.fail(f"{what} is not epoch seconds: {str(value)[:30]!r}") from None


def events_to_snapshot(
    payload: Any,
    page_url: str,
    *,
    regions: Iterable[str] = (),
    services: Iterable[str] = (),
) -> StatusSnapshot:
    """Map one decoded ``currentevents`` body."""
    if not isinstance(payload, list):
        raise READ.fail("currentevents is not a list")
    wanted_regions = {r.casefold() for r in regions}
    wanted_services = {s.casefold() for s in services}
    incidents: list[IncidentRecord] = []
    affected: dict[str, tuple[str, str | None, list[tuple[ComponentState, str]]]] = {}
    newest: datetime | None = None
    for item in payload:
        event = READ.mapping(item, "event")
        if not is_open(event):
            continue
        region = event_region(event)
        region_name = READ.optional_text(event.get("region_name"))
        if wanted_regions and region is not None:
            names = {region.casefold(), (region_name or "").casefold()}
            if not names & wanted_regions:
                continue
        touched = _touched(event, region)
        if wanted_services and not any(
            key.casefold() in wanted_services
            or _service_key(key, region).casefold() in wanted_services
            or name.casefold() in wanted_services
            for key, name, _ in touched
        ):
            continue
        record = _incident(event, page_url, region_name, touched)
        incidents.append(record)
        newest = record.updated_at if newest is None else max(newest, record.updated_at)
        for key, name, code in touched:
            entry = affected.setdefault(key, (name, region_name, []))
            entry[2].append((_state(code), code))
    components = []
    for position, (key, (name, group, found)) in enumerate(affected.items()):
        state = worst_state(s for s, _ in found)
        raw = next(code for s, code in found if s is state)
        components.append(ComponentRecord(key, name, state, raw, group=group, position=position))
    indicator, description = rollup(components, incidents)
    return StatusSnapshot(
        indicator=indicator,
        description=description,
        components=tuple(components),
        incidents=tuple(incidents),
        page_url=page_url,
        updated_at=newest,
    )


def _touched(event: Mapping[str, Any], region: str | None) -> list[tuple[str, str, str]]:
    """(service key, service name, current code) of every service the event impacts now."""
    impacted = event.get("impacted_services")
    touched = []
    if isinstance(impacted, Mapping):
        for key, value in impacted.items():
            if not isinstance(value, Mapping):
                continue  # not a service entry (nothing else is documented here)
            code = str(value.get("current", "")).strip()
            if code == "0":
                continue
            name = READ.optional_text(value.get("service_name")) or str(key)
            touched.append((str(key), name, code or "1"))
    elif impacted is not None:
        raise READ.fail("impacted_services is not an object")
    if not touched:
        key = READ.text(event.get("service"), "event service")
        name = READ.optional_text(event.get("service_name")) or key
        touched.append((key, name, str(event.get("status", "")).strip() or "1"))
    return touched


def _incident(
    event: Mapping[str, Any],
    page_url: str,
    region_name: str | None,
    touched: list[tuple[str, str, str]],
) -> IncidentRecord:
    arn = READ.text(event.get("arn"), "event arn")
    created = _time(event.get("date"), "event date")
    log = [
        READ.mapping(entry, "event_log entry")
        for entry in READ.items(event.get("event_log"), "event_log")
    ]
    # Newest by timestamp; among equal stamps the later entry (the log reads oldest first).
    stamped = [(_time(e.get("timestamp"), "event_log timestamp"), i, e) for i, e in enumerate(log)]
    newest = max(stamped, key=lambda item: (item[0], item[1]), default=None)
    latest = newest[2] if newest else None
    updated = newest[0] if newest else created
    summary = READ.optional_text(event.get("summary")) or "Service event"
    service = READ.optional_text(event.get("service_name")) or "AWS"
    where = ", ".join(part for part in (service, region_name) if part)
    code = str(event.get("status", "")).strip()
    return IncidentRecord(
        external_id=arn,
        name=f"{summary} ({where})",
        status=ACTIVE,
        impact=IMPACT_FOR_STATE[_state(code)] if code != "0" else "minor",
        created_at=created,
        updated_at=max(updated, created),
        latest_update=READ.optional_text(latest.get("message")) if latest else None,
        url=page_url,
        components=tuple(dict.fromkeys(name for _, name, _ in touched)),
    )

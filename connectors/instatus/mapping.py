"""Instatus ``summary.json`` + ``components.json`` → :class:`StatusSnapshot`, as pure functions.

``/summary.json`` (Instatus's "publicly available data" help page [D];
``vendor-apis-2.md`` §4.5): ``page`` (``name``, ``url``, ``status`` ``UP`` /
``HASISSUES`` / ``UNDERMAINTENANCE``), ``activeIncidents`` (``name``,
``started``, ``status``, ``impact``, ``url``) and ``activeMaintenances``
(``name``, ``start``, ``status``, ``duration`` in minutes, ``url``). The
documented example carries no ``id``: the id is the last segment of ``url``
(``…/incident/cl4a8n3070721qtmzvts760c4``), used only as an id, and the link
is rebuilt from the configured page. Its times are written like JavaScript's
``Date.toString()`` (``Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated
Universal Time)``); ISO 8601 is accepted too.

``/api/v2/components.json`` (the ``instatus-perplexity-summary-components.json``
capture [C]; not in Instatus's docs [U]): ``components`` with ``id``,
``name``, ``status`` in squashed capitals (``OPERATIONAL``,
``DEGRADEDPERFORMANCE``, ``PARTIALOUTAGE``, ``MINOROUTAGE``, ``MAJOROUTAGE``,
``UNDERMAINTENANCE``), ``order``, ``isParent`` and ``children``. A parent lends
its name as the group of its children; whether children are also listed at
the top level is not known [U], so both are read and each id kept once.

Statuses become the shared words: incidents ``INVESTIGATING`` →
``investigating`` …, ``RESOLVED`` ones dropped; maintenances ``NOTSTARTEDYET``
→ ``scheduled``, ``INPROGRESS`` → ``in_progress``, ``COMPLETED`` dropped, the
window ``start`` + ``duration`` minutes. Impact: ``MAJOROUTAGE`` → critical,
``PARTIALOUTAGE`` → major, ``MINOROUTAGE``/``DEGRADEDPERFORMANCE`` → minor.
Instatus publishes no creation time and no affected components in the
summary: an incident's ``created_at`` is its ``started``, a maintenance's its
``start``, and ``components`` stays empty. The indicator is the worse of the
page status and what the components and incidents say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import describe, rollup, worst_indicator
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot

__all__ = ["STATE", "parse_instatus_time", "snapshot"]

READ = PayloadReader("Instatus")
STATE = {
    "OPERATIONAL": ComponentState.OPERATIONAL,
    "UNDERMAINTENANCE": ComponentState.MAINTENANCE,
    "DEGRADEDPERFORMANCE": ComponentState.DEGRADED,
    "PARTIALOUTAGE": ComponentState.PARTIAL_OUTAGE,
    "MINOROUTAGE": ComponentState.PARTIAL_OUTAGE,
    "MAJOROUTAGE": ComponentState.MAJOR_OUTAGE,
}
IMPACT = {
    "MAJOROUTAGE": "critical",
    "PARTIALOUTAGE": "major",
    "MINOROUTAGE": "minor",
    "DEGRADEDPERFORMANCE": "minor",
    "UNDERMAINTENANCE": "minor",
    "OPERATIONAL": "none",
}
_PAGE = {
    "UP": "none",
    "HASISSUES": "minor",
    "UNDERMAINTENANCE": "maintenance",
    "MAJOROUTAGE": "major",
    "PARTIALOUTAGE": "major",
    "MINOROUTAGE": "minor",
    "DEGRADEDPERFORMANCE": "minor",
}
_MAINTENANCE = {"NOTSTARTEDYET": "scheduled", "INPROGRESS": "in_progress"}
_JS_DATE = re.compile(
    r"^\w{3} (?P<mon>\w{3}) (?P<day>\d{1,2}) (?P<year>\d{4}) "
    r"(?P<time>\d{2}:\d{2}:\d{2}) GMT(?P<sign>[+-])(?P<hh>\d{2})(?P<mm>\d{2})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_ID_IN_URL = re.compile(r"/([A-Za-z0-9_-]{8,64})/?$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_instatus_time(value: Any, what: str) -> datetime | None:
    """ISO 8601, or JavaScript's ``Date.toString()`` form, as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _JS_DATE.match(value.strip())
        if match:
            month = _MONTHS.get(match["mon"])
            if month is None:
                raise READ.fail(f"{what}: unknown month in {value[:40]!r}")
            hours, minutes, seconds = (int(part) for part in match["time"].split(":"))
            offset = timedelta(hours=int(match["hh"]), minutes=int(match["mm"]))
            zone = timezone(offset if match["sign"] == "+" else -offset)
            try:
                local = datetime(
                    int(match["year"]),
                    month,
                    int(match["day"]),
                    hours,
                    minutes,
                    seconds,
                    tzinfo=zone,
                )
            except ValueError:
                raise READ.fail(f"{what}: not a date: {value[:40]!r}") from None
            return local.astimezone(UTC)
    return READ.time(value, what)


def _page_indicator(status: str) -> str:
    squashed = status.upper()
    for prefix in ("ALL", "SOME", "ONE"):
        if squashed.startswith(prefix) and squashed[len(prefix) :] in _PAGE:
            word = squashed[len(prefix) :]
            if prefix == "ALL" and word == "MAJOROUTAGE":
                return "critical"
            return _PAGE[word]
    return _PAGE.get(squashed, "minor")


def snapshot(summary: Any, components_doc: Any | None, page_url: str) -> StatusSnapshot:
    """Map ``summary.json`` and ``components.json`` (or a summary that carries components)."""
    body = READ.mapping(summary, "summary")
    page = READ.mapping(body.get("page"), "page")
    source = body if components_doc is None else READ.mapping(components_doc, "components.json")
    if components_doc is not None and not isinstance(source.get("components"), list):
        raise READ.fail("components.json has no components list")
    components = _components(READ.items(source.get("components"), "components"))
    incidents = [
        record
        for item in READ.items(body.get("activeIncidents"), "activeIncidents")
        if (record := _incident(READ.mapping(item, "incident"), page_url)) is not None
    ] + [
        record
        for item in READ.items(body.get("activeMaintenances"), "activeMaintenances")
        if (record := _maintenance(READ.mapping(item, "maintenance"), page_url)) is not None
    ]
    computed, _ = rollup(components, incidents)
    page_status = READ.text(page.get("status"), "page status")
    indicator = worst_indicator([_page_indicator(page_status), computed])
    times = [i.updated_at for i in incidents if not i.maintenance]
    return StatusSnapshot(
        indicator=indicator,
        description=describe(indicator),
        components=components,
        incidents=tuple(incidents),
        page_url=page_url,
        updated_at=max(times, default=None),
    )


def _components(rows: list[Any]) -> tuple[ComponentRecord, ...]:
    records: dict[str, ComponentRecord] = {}

    def add(row: Mapping[str, Any], group: str | None) -> None:
        component_id = READ.identifier(row.get("id"), "component id")
        raw = READ.text(row.get("status"), "component status")
        if component_id in records and group is None:
            return
        records[component_id] = ComponentRecord(
            external_id=component_id,
            name=READ.text(row.get("name"), "component name"),
            state=STATE.get(raw.upper(), ComponentState.DEGRADED),
            raw_status=raw,
            group=group,
            position=READ.position(row.get("order"), "component order"),
        )

    for item in rows:
        row = READ.mapping(item, "component")
        children = READ.items(row.get("children"), "component children")
        if row.get("isParent") is True or children:
            name = READ.text(row.get("name"), "component name")
            for child in children:
                add(READ.mapping(child, "child component"), name)
            continue
        add(row, None)
    return tuple(records.values())


def _identity(row: Mapping[str, Any], started: datetime | None) -> str:
    own = row.get("id")
    if isinstance(own, str) and own.strip():
        return own.strip()
    url = row.get("url")
    match = _ID_IN_URL.search(url) if isinstance(url, str) else None
    if match:
        return match[1]
    name = READ.optional_text(row.get("name")) or ""
    stamp = started.isoformat() if started else ""
    return f"{name[:80]}@{stamp}"


def _incident(row: Mapping[str, Any], page_url: str) -> IncidentRecord | None:
    status = READ.text(row.get("status"), "incident status").upper()
    if status == "RESOLVED":
        return None
    started = parse_instatus_time(row.get("started"), "incident started")
    if started is None:
        raise READ.fail("incident has no started time")
    incident_id = _identity(row, started)
    impact = READ.optional_text(row.get("impact")) or ""
    return IncidentRecord(
        external_id=incident_id,
        name=READ.text(row.get("name"), "incident name"),
        status=status.lower(),
        impact=IMPACT.get(impact.upper(), "minor"),
        created_at=started,
        updated_at=started,
        url=f"{page_url}/incident/{incident_id}" if _SAFE_ID.match(incident_id) else page_url,
    )


def _maintenance(row: Mapping[str, Any], page_url: str) -> IncidentRecord | None:
    raw = READ.text(row.get("status"), "maintenance status").upper()
    if raw == "COMPLETED":
        return None
    start = parse_instatus_time(row.get("start"), "maintenance start")
    if start is None:
        raise READ.fail("maintenance has no start time")
    minutes = row.get("duration")
    try:
        until = start + timedelta(minutes=float(minutes)) if minutes not in (None, "") else None
    except (TypeError, ValueError):
        raise READ.fail(f"maintenance duration is not minutes: {str(minutes)[:20]!r}") from None
    maintenance_id = _identity(row, start)
    return IncidentRecord(
        external_id=maintenance_id,
        name=READ.text(row.get("name"), "maintenance name"),
        status=_MAINTENANCE.get(raw, "in_progress"),
        impact="maintenance",
        created_at=start,
        updated_at=start,
        url=(
            f"{page_url}/maintenance/{maintenance_id}"
            if _SAFE_ID.match(maintenance_id)
            else page_url
        ),
        maintenance=True,
        scheduled_for=start,
        scheduled_until=until,
    )

"""Google ``incidents.json`` (Cloud and Workspace) → :class:`StatusSnapshot`, as pure functions.

The document is the whole incident history, a bare JSON array, newest first
(``vendor-apis-2.md`` §4.7, the GCP and Workspace captures). An incident is
open while it has no ``end``; only open incidents reach the snapshot (the
store marks the others inactive when they leave it). Google publishes no
component list and no maintenance windows in this document, so:

* **components** are the products named by open incidents
  (``affected_products``), each in the state of its worst open incident,
  plus any product listed in the ``products`` setting (operational unless
  named);
* **incidents** carry Google's ``status_impact`` as impact:
  ``SERVICE_INFORMATION`` → minor, ``SERVICE_DISRUPTION`` → major,
  ``SERVICE_OUTAGE`` → critical (Google's docs: a major incident "is marked as
  Service outage"); their status is ``active`` (Google publishes no
  lifecycle), ``created_at`` is ``begin`` (when the incident started, which
  may be hours before it was posted), ``components`` the product titles;
* the **indicator** is the worst of those (Google publishes no rollup).

The title is ``external_desc``: one line on the Cloud dashboard, a Markdown
block (``**Title**`` / ``**Summary**`` then the text) on Workspace's; the
first line that is not a bare bold heading is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.feeds.payload import PayloadReader
from connectors.feeds.rollup import ACTIVE, rollup, state_for_impact, worst_state
from connectors.records import ComponentRecord, ComponentState, IncidentRecord, StatusSnapshot
from connectors.richtext import markdown_to_text
from connectors.sanitize import one_line

__all__ = ["IMPACT", "incidents_to_snapshot", "is_open", "title_of"]

READ = PayloadReader("Google status")
IMPACT = {
    "SERVICE_INFORMATION": "minor",
    "SERVICE_DISRUPTION": "major",
    "SERVICE_OUTAGE": "critical",
}
"""Google's ``status_impact`` as the shared impact (anything else open counts as minor)."""
_FRESHNESS_ROWS = 50
"""The file is newest first: the page's last change is among its first rows or its open ones
(the rest of a history of thousands is not parsed for it)."""
_HEADING = re.compile(r"^\s*(\*\*|__)[^*_]{1,60}(\*\*|__)\s*:?\s*$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_open(row: Mapping[str, Any]) -> bool:
    """An incident without an ``end`` is still open."""
    return not row.get("end")


def title_of(external_desc: str | None, fallback: str) -> str:
    """The first line of ``external_desc`` that is not a bare heading, as one line."""
    for line in (external_desc or "").splitlines():
        if not line.strip() or _HEADING.match(line):
            continue
        return one_line(markdown_to_text(line.replace("**", "")), 300) or fallback
    return fallback


def incidents_to_snapshot(
    payload: Any,
    page_url: str,
    *,
    products: Iterable[str] = (),
    locations: Iterable[str] = (),
) -> StatusSnapshot:
    """Map one decoded ``incidents.json``; links are ``{page_url}/incidents/{id}``."""
    if not isinstance(payload, list):
        raise READ.fail("incidents.json is not a list")
    wanted_products = {p.casefold() for p in products}
    wanted_locations = {loc.casefold() for loc in locations}
    newest = None
    incidents: list[IncidentRecord] = []
    affected: dict[str, tuple[str, list[tuple[ComponentState, str]]]] = {}
    for index, item in enumerate(payload):
        row = READ.mapping(item, "incident")
        if index < _FRESHNESS_ROWS or is_open(row):
            modified = READ.time(row.get("modified"), "incident modified")
            if modified is not None and (newest is None or modified > newest):
                newest = modified
        if not is_open(row):
            continue
        named = _products(row)
        if wanted_products and not any(
            pid.casefold() in wanted_products or title.casefold() in wanted_products
            for pid, title in named
        ):
            continue
        if wanted_locations and not _in_locations(row, wanted_locations):
            continue
        record = _incident(row, page_url, named)
        incidents.append(record)
        raw = READ.optional_text(row.get("status_impact")) or "SERVICE_INFORMATION"
        for pid, title in named:
            affected.setdefault(pid, (title, []))[1].append((state_for_impact(record.impact), raw))
    components = _components(affected, products)
    indicator, description = rollup(components, incidents)
    return StatusSnapshot(
        indicator=indicator,
        description=description,
        components=components,
        incidents=tuple(incidents),
        page_url=page_url,
        updated_at=newest,
    )


def _products(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(id, title) of every affected product; the incident's service when none is listed."""
    found = []
    for item in READ.items(row.get("affected_products"), "affected_products"):
        product = READ.mapping(item, "affected product")
        title = READ.text(product.get("title"), "affected product title")
        found.append((READ.optional_text(product.get("id")) or title, title))
    if not found:
        name = READ.optional_text(row.get("service_name"))
        if name:
            found.append((READ.optional_text(row.get("service_key")) or name, name))
    return found


def _locations(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    located = READ.items(row.get("currently_affected_locations"), "currently_affected_locations")
    if located:
        return [READ.mapping(loc, "location") for loc in located]
    latest = row.get("most_recent_update")
    if isinstance(latest, Mapping):
        return [
            READ.mapping(loc, "location")
            for loc in READ.items(latest.get("affected_locations"), "affected_locations")
        ]
    return []


def _in_locations(row: Mapping[str, Any], wanted: set[str]) -> bool:
    located = _locations(row)
    if not located:
        return True  # names no location (Workspace): it cannot be ruled out
    for loc in located:
        for key in ("id", "title"):
            value = READ.optional_text(loc.get(key))
            if value and value.casefold() in wanted:
                return True
    return False


def _incident(
    row: Mapping[str, Any], page_url: str, named: list[tuple[str, str]]
) -> IncidentRecord:
    incident_id = READ.text(row.get("id"), "incident id")
    if not _SAFE_ID.match(incident_id):
        raise READ.fail(f"incident id is not an id: {incident_id[:40]!r}")
    created = READ.time(row.get("created"), "incident created")
    begin = READ.time(row.get("begin"), "incident begin") or created
    if begin is None:
        raise READ.fail("incident has neither begin nor created")
    impact_word = READ.optional_text(row.get("status_impact")) or ""
    latest = row.get("most_recent_update")
    if not isinstance(latest, Mapping):
        updates = READ.items(row.get("updates"), "updates")
        latest = READ.mapping(updates[0], "update") if updates else {}
    text = READ.optional_text(latest.get("text"))
    service = READ.optional_text(row.get("service_name")) or "Google"
    return IncidentRecord(
        external_id=incident_id,
        name=title_of(READ.optional_text(row.get("external_desc")), service),
        status=ACTIVE,
        impact=IMPACT.get(impact_word, "minor"),
        created_at=begin,
        updated_at=READ.time(row.get("modified"), "incident modified") or begin,
        latest_update=markdown_to_text(text) if text else None,
        url=f"{page_url}/incidents/{incident_id}",
        components=tuple(dict.fromkeys(title for _, title in named)),
    )


def _components(
    affected: Mapping[str, tuple[str, list[tuple[ComponentState, str]]]],
    configured: Iterable[str],
) -> tuple[ComponentRecord, ...]:
    """Affected products in their worst open incident's state, then the configured others."""
    records = []
    seen: set[str] = set()
    for position, (pid, (title, found)) in enumerate(affected.items()):
        state = worst_state(s for s, _ in found)
        raw = next(r for s, r in found if s is state)
        records.append(ComponentRecord(pid, title, state, raw, position=position))
        seen.update({pid.casefold(), title.casefold()})
    for offset, name in enumerate(configured):
        if name.casefold() not in seen:
            records.append(
                ComponentRecord(
                    f"configured:{name}",
                    name,
                    ComponentState.OPERATIONAL,
                    "AVAILABLE",
                    position=len(affected) + offset,
                )
            )
    return tuple(records)

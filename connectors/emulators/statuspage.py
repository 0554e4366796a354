"""A public Atlassian Statuspage page on loopback, in the v2 wire format.

Serves ``summary.json`` and its siblings with the shapes a real page sends
(see ``vendor-apis.md`` §4 and the GitHub capture): millisecond timestamps in
the page's own zone offset, group containers with ``group: true``, incident
updates newest first, and a strong ``ETag`` answered with ``304`` on
``If-None-Match``. Tests and demo mode change the page through the mutators,
which keep ``page.updated_at`` and the rollup indicator consistent.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from connectors.emulators.base import Emulator, Reply, Request
from connectors.records import ComponentState

__all__ = ["EMULATOR", "StatuspageEmulator"]

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "minor", "major", "critical")
_CLOSED = frozenset({"resolved", "postmortem", "completed"})
_ACTIVE_MAINTENANCE = frozenset({"in_progress", "verifying"})
_UTC_ZONE_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
"""Zones Rails renders with ``Z``; every other zone gets a numeric offset, even at +00:00."""

DEFAULT_COMPONENTS: tuple[tuple[str, str | None], ...] = (
    ("Virtual machines", "EU-West"),
    ("Storage", "EU-West"),
    ("Network", "EU-West"),
    ("Control panel", None),
)

# Worst component state first decides a group container's own status.
_STATE_SEVERITY = {
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL_OUTAGE: 3,
    ComponentState.MAJOR_OUTAGE: 4,
}
_ROLLUP_BY_STATE = {
    ComponentState.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentState.MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentState.DEGRADED: ("minor", "Partially Degraded Service"),
    ComponentState.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentState.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}
_ROLLUP_BY_IMPACT = {
    "none": ("none", "All Systems Operational"),
    "minor": ("minor", "Minor Service Outage"),
    "major": ("major", "Partial System Outage"),
    "critical": ("critical", "Major System Outage"),
}
_ROLLUP_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StatuspageEmulator(Emulator):
    """One status page: components (optionally grouped), incidents and maintenances."""

    kind: ClassVar[str] = "statuspage"

    def __init__(
        self,
        *,
        page_name: str = "Acme Hosting",
        page_url: str = "https://status.acme-hosting.example",
        time_zone: str = "Etc/UTC",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = 50,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.zone = ZoneInfo(time_zone)
        self._zone_is_utc = time_zone in _UTC_ZONE_NAMES
        self._serial = itertools.count(1)
        self._id_seed = page_name
        now = self.clock()
        self.page_id = self._new_id()
        self._page: dict[str, Any] = {
            "id": self.page_id,
            "name": page_name,
            "url": page_url,
            "time_zone": time_zone,
            "updated_at": now,
        }
        self._components: list[dict[str, Any]] = []
        self._incidents: list[dict[str, Any]] = []
        """Incidents and maintenances, newest first; ``kind`` tells them apart."""
        for name, group in components:
            self.add_component(name, group)

    def __enter__(self) -> StatuspageEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """A public page needs no credentials."""
        return {"kind": "statuspage"}

    # -- mutators --------------------------------------------------------------

    def add_component(self, name: str, group: str | None = None) -> str:
        """Add an operational component (creating its group container if new); return its id."""
        with self.lock:
            now = self.clock()
            container = self._container(group, now) if group else None
            group_id = container["id"] if container else None
            if any(c["name"] == name and c["group_id"] == group_id for c in self._leaves()):
                raise ValueError(f"component {name!r} already exists in group {group!r}")
            row = self._component_row(name, now, group_id=group_id, is_group=False)
            self._components.append(row)
            if container is not None:
                container["components"].append(row["id"])
            self._touch(now)
            return str(row["id"])

    def set_component(
        self, name: str, state: ComponentState | str, *, group: str | None = None
    ) -> None:
        """Publish a component's new state (by id or name); unchanged states change nothing."""
        new_state = ComponentState(state)
        with self.lock:
            row = self._find_component(name, group)
            if row["status"] == new_state.value:
                return
            now = self.clock()
            row["status"] = new_state.value
            row["updated_at"] = now
            self._touch(now)

    def open_incident(
        self,
        name: str,
        impact: str = "minor",
        body: str = "We are investigating this issue.",
        components: Sequence[str] = (),
        *,
        status: str = "investigating",
    ) -> str:
        """Publish a new incident affecting ``components`` (ids or names); return its id."""
        if impact not in IMPACTS:
            raise ValueError(f"impact must be one of {IMPACTS}, got {impact!r}")
        if status not in INCIDENT_STATUSES or status in _CLOSED:
            raise ValueError(f"a new incident cannot start as {status!r}")
        return self._open("incident", name, impact, status, body, components, {})

    def open_maintenance(
        self,
        name: str,
        body: str = "Scheduled maintenance is in progress.",
        components: Sequence[str] = (),
        *,
        status: str = "in_progress",
        duration: timedelta = timedelta(hours=2),
    ) -> str:
        """Publish a scheduled maintenance (in progress by default); return its id."""
        if status not in MAINTENANCE_STATUSES or status in _CLOSED:
            raise ValueError(f"a new maintenance cannot start as {status!r}")
        start = self.clock()
        window = {"scheduled_for": start, "scheduled_until": start + duration}
        return self._open("maintenance", name, "maintenance", status, body, components, window)

    def update_incident(self, incident_id: str, status: str, body: str) -> None:
        """Post an update (newest first) and move the incident or maintenance to ``status``."""
        with self.lock:
            row = self._find_incident(incident_id)
            allowed = MAINTENANCE_STATUSES if row["kind"] == "maintenance" else INCIDENT_STATUSES
            if status not in allowed:
                raise ValueError(f"status must be one of {allowed}, got {status!r}")
            now = self.clock()
            row["status"] = status
            row["updated_at"] = now
            if status == "monitoring" and row["monitoring_at"] is None:
                row["monitoring_at"] = now
            if status in _CLOSED and row["resolved_at"] is None:
                row["resolved_at"] = now
            row["incident_updates"].insert(0, self._update(row, status, body, now))
            self._touch(now)

    def resolve_incident(self, incident_id: str, body: str | None = None) -> None:
        """Resolve an incident (or complete a maintenance): it leaves the summary."""
        with self.lock:
            row = self._find_incident(incident_id)
            maintenance = row["kind"] == "maintenance"
            status = "completed" if maintenance else "resolved"
            default = (
                "The scheduled maintenance has been completed."
                if maintenance
                else "This incident has been resolved."
            )
            self.update_incident(incident_id, status, body or default)

    # -- wire format -------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The current ``summary.json`` body (what a GET would return)."""
        with self.lock:
            return self._body(
                components=self._component_views(),
                incidents=[self._incident_view(i) for i in self._open_rows("incident")],
                scheduled_maintenances=[
                    self._incident_view(i) for i in self._open_rows("maintenance")
                ],
                status=self._rollup(),
            )

    def route(self, request: Request) -> Reply:
        """Answer the public v2 endpoints; anything else is the vendor's 404."""
        path = request.path.rstrip("/")
        builder = self._endpoints().get(path)
        if builder is None:
            return Reply(404, {"error": "Not found"})
        if request.method not in ("GET", "HEAD"):
            return Reply(405, {"error": "Method not allowed"})
        raw = json.dumps(builder(), separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Reply(304, raw=b"", headers={"ETag": etag})
        return Reply(200, raw=raw, headers={"ETag": etag})

    def _endpoints(self) -> dict[str, Callable[[], dict[str, Any]]]:
        return {
            "/api/v2/summary.json": self.summary,
            "/api/v2/status.json": lambda: self._body(status=self._rollup()),
            "/api/v2/components.json": lambda: self._body(components=self._component_views()),
            "/api/v2/incidents/unresolved.json": lambda: self._incident_list(
                "incidents", "incident", open_=True
            ),
            "/api/v2/incidents.json": lambda: self._incident_list("incidents", "incident"),
            "/api/v2/scheduled-maintenances.json": lambda: self._incident_list(
                "scheduled_maintenances", "maintenance"
            ),
            "/api/v2/scheduled-maintenances/upcoming.json": lambda: self._incident_list(
                "scheduled_maintenances", "maintenance", statuses={"scheduled"}
            ),
            "/api/v2/scheduled-maintenances/active.json": lambda: self._incident_list(
                "scheduled_maintenances", "maintenance", statuses=_ACTIVE_MAINTENANCE
            ),
        }

    # -- internals ---------------------------------------------------------------

    def _new_id(self) -> str:
        """A 12-character lowercase id like Statuspage's, deterministic per page name."""
        digest = hashlib.sha256(f"{self._id_seed}:{next(self._serial)}".encode()).digest()
        return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:12])

    def _touch(self, now: datetime) -> None:
        self._page["updated_at"] = now

    def _leaves(self) -> list[dict[str, Any]]:
        return [c for c in self._components if not c["group"]]

    def _component_row(
        self, name: str, now: datetime, *, group_id: str | None, is_group: bool
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self._new_id(),
            "name": name,
            "status": ComponentState.OPERATIONAL.value,
            "created_at": now,
            "updated_at": now,
            "position": len(self._components) + 1,
            "description": None,
            "showcase": not is_group,
            "start_date": None,
            "group_id": group_id,
            "page_id": self.page_id,
            "group": is_group,
            "only_show_if_degraded": False,
        }
        if is_group:
            row["components"] = []
        return row

    def _container(self, name: str, now: datetime) -> dict[str, Any]:
        for row in self._components:
            if row["group"] and row["name"] == name:
                return row
        row = self._component_row(name, now, group_id=None, is_group=True)
        self._components.append(row)
        return row

    def _find_component(self, key: str, group: str | None = None) -> dict[str, Any]:
        leaves = self._leaves()
        for row in leaves:
            if row["id"] == key:
                return row
        names = {c["id"]: c["name"] for c in self._components if c["group"]}
        matches = [
            row
            for row in leaves
            if row["name"] == key and (group is None or names.get(row["group_id"]) == group)
        ]
        if len(matches) != 1:
            problem = "no" if not matches else "more than one"
            raise KeyError(f"{problem} component named {key!r}; pass its id or group")
        return matches[0]

    def _find_incident(self, incident_id: str) -> dict[str, Any]:
        for row in self._incidents:
            if row["id"] == incident_id:
                return row
        raise KeyError(f"no incident or maintenance {incident_id!r}")

    def _open(
        self,
        kind: str,
        name: str,
        impact: str,
        status: str,
        body: str,
        components: Sequence[str],
        extra: dict[str, Any],
    ) -> str:
        with self.lock:
            now = self.clock()
            linked = [self._find_component(key)["id"] for key in components]
            incident_id = self._new_id()
            row: dict[str, Any] = {
                "kind": kind,
                "id": incident_id,
                "name": name,
                "status": status,
                "created_at": now,
                "updated_at": now,
                "monitoring_at": now if status == "monitoring" else None,
                "resolved_at": None,
                "impact": impact,
                "shortlink": f"https://stspg.io/{incident_id[:10]}",
                "started_at": now,
                "page_id": self.page_id,
                **extra,
                "incident_updates": [],
                "components": linked,
            }
            row["incident_updates"].append(self._update(row, status, body, now))
            self._incidents.insert(0, row)
            self._touch(now)
            return incident_id

    def _update(self, row: dict[str, Any], status: str, body: str, now: datetime) -> dict[str, Any]:
        by_id = {c["id"]: c for c in self._components}
        affected = [
            {
                "code": cid,
                "name": by_id[cid]["name"],
                "old_status": by_id[cid]["status"],
                "new_status": by_id[cid]["status"],
            }
            for cid in row["components"]
        ]
        return {
            "id": self._new_id(),
            "status": status,
            "body": body,
            "incident_id": row["id"],
            "created_at": now,
            "updated_at": now,
            "display_at": now,
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def _state_of(self, row: dict[str, Any]) -> ComponentState:
        """A leaf's own state; a container shows the worst state among its children."""
        if not row["group"]:
            return ComponentState(row["status"])
        children = [c for c in self._components if c["group_id"] == row["id"]]
        states = [ComponentState(c["status"]) for c in children] or [ComponentState.OPERATIONAL]
        return max(states, key=_STATE_SEVERITY.__getitem__)

    def _component_view(self, row: dict[str, Any]) -> dict[str, Any]:
        view = dict(row, status=self._state_of(row).value)
        if row["group"]:
            view["components"] = list(row["components"])
        return view

    def _incident_view(self, row: dict[str, Any]) -> dict[str, Any]:
        by_id = {c["id"]: c for c in self._components}
        view = {k: v for k, v in row.items() if k != "kind"}
        view["incident_updates"] = [dict(u) for u in row["incident_updates"]]
        view["components"] = [self._component_view(by_id[cid]) for cid in row["components"]]
        return view

    def _incidents_where(
        self, kind: str, *, open_: bool | None = None, statuses: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        wanted = set(statuses) if statuses is not None else None
        return [
            row
            for row in self._incidents
            if row["kind"] == kind
            and (open_ is None or (row["status"] not in _CLOSED) == open_)
            and (wanted is None or row["status"] in wanted)
        ]

    def _incident_list(
        self,
        key: str,
        kind: str,
        *,
        open_: bool | None = None,
        statuses: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        rows = self._incidents_where(kind, open_=open_, statuses=statuses)
        if open_ is None and statuses is None:
            rows = rows[: self.page_size]  # the history endpoints stop at the newest 50, no paging
        return self._body(**{key: [self._incident_view(r) for r in rows]})

    def _open_rows(self, kind: str) -> list[dict[str, Any]]:
        return self._incidents_where(kind, open_=True)

    def _component_views(self) -> list[dict[str, Any]]:
        return [self._component_view(c) for c in self._components]

    def _body(self, **fields: Any) -> dict[str, Any]:
        """A response body: the page object first, then ``fields``, all in wire format."""
        rendered: dict[str, Any] = self._render({"page": self._page, **fields})
        return rendered

    def _rollup(self) -> dict[str, str]:
        """Statuspage's blend: the worst of component states, open incidents and maintenances."""
        candidates = [_ROLLUP_BY_STATE[ComponentState(c["status"])] for c in self._leaves()]
        for row in self._incidents:
            if row["status"] in _CLOSED:
                continue
            if row["kind"] == "incident":
                candidates.append(_ROLLUP_BY_IMPACT[row["impact"]])
            elif row["status"] in _ACTIVE_MAINTENANCE:
                candidates.append(("maintenance", "Service Under Maintenance"))
        indicator, description = max(
            candidates or [("none", "All Systems Operational")],
            key=lambda pair: _ROLLUP_RANK[pair[0]],
        )
        return {"indicator": indicator, "description": description}

    def _stamp(self, value: datetime) -> str:
        """Millisecond ISO 8601 in the page's zone, ``Z`` only for UTC pages (as Rails does)."""
        text = value.astimezone(self.zone).isoformat(timespec="milliseconds")
        return text[:-6] + "Z" if self._zone_is_utc else text

    def _render(self, value: Any) -> Any:
        """A deep copy with every datetime in the wire format."""
        if isinstance(value, datetime):
            return self._stamp(value)
        if isinstance(value, dict):
            return {k: self._render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v) for v in value]
        return value


def _etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as ``If-None-Match`` requires."""
    if not header:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


EMULATOR = StatuspageEmulator

"""A public Atlassian Statuspage page on loopback, in the v2 wire format.

Serves ``summary.json`` and its siblings with the shapes a real page sends
(``vendor-apis.md`` §4, ``vendor-apis-2.md`` §4.1, the GitHub and Cloudflare
captures): millisecond timestamps in the page's own zone offset (``Z`` only
for a UTC page, as Rails renders them), group containers with
``group: true`` and the worst state of their children, incident updates
newest first, an update's ``affected_components`` named ``Group - Name``,
and a strong ``ETag`` answered with ``304`` on ``If-None-Match``.

Scheduled maintenances are incidents with ``impact: "maintenance"`` and a
window (``scheduled_for``/``scheduled_until``); ``summary.json`` lists the
upcoming (``scheduled``) and the in-progress (``in_progress``,
``verifying``) ones [D: every page's ``/api`` documentation says summary.json
carries "any upcoming or in-progress scheduled maintenances"; C: Cloudflare
capture]. ``started_at`` is the time the window was announced, not its
start [C]. A component need not change state during its window: Cloudflare's
in-progress window left its component ``operational`` [C].

Assumed, not confirmed [U]: the page does not move a window to
``in_progress`` on its own here (a real page can, when the window was created
with automatic transitions); tests and the demo call :meth:`start_maintenance`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from connectors.emulators._status_feed import (
    CLOSED,
    DEFAULT_COMPONENTS,
    Document,
    FeedComponent,
    FeedEvent,
    FeedGroup,
    FeedUpdate,
    StatusFeedEmulator,
    _utc_now,
)
from connectors.feeds.rollup import worst_state
from connectors.records import ComponentState

__all__ = ["EMULATOR", "StatuspageEmulator"]

_UTC_ZONE_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
"""Zones Rails renders with ``Z``; every other zone gets a numeric offset, even at +00:00."""
_ACTIVE_MAINTENANCE = frozenset({"in_progress", "verifying"})
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
JSON = "application/json; charset=utf-8"


class StatuspageEmulator(StatusFeedEmulator):
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
        latency: float = 0.0,
        validators: Iterable[str] = ("etag",),
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self._zone_is_utc = time_zone in _UTC_ZONE_NAMES
        self.time_zone = time_zone
        self.public_url = page_url
        self.page_id = ""
        super().__init__(
            page_name=page_name,
            components=(),
            clock=clock,
            page_size=page_size,
            latency=latency,
            validators=tuple(validators),
        )
        self.page_id = self.new_id()
        for name, group in components:
            self.add_component(name, group)

    def __enter__(self) -> StatuspageEmulator:
        self.start()
        return self

    # -- wire format -------------------------------------------------------------

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The public v2 endpoints."""

        def doc(build: Callable[[], dict[str, Any]]) -> Callable[[], Document]:
            return lambda: Document(json.dumps(build(), separators=(",", ":")).encode(), JSON)

        return {
            "/api/v2/summary.json": doc(self.summary),
            "/api/v2/status.json": doc(lambda: self._body(status=self._rollup())),
            "/api/v2/components.json": doc(lambda: self._body(components=self._component_views())),
            "/api/v2/incidents/unresolved.json": doc(
                lambda: self._list("incidents", self.open_events(maintenance=False))
            ),
            "/api/v2/incidents.json": doc(lambda: self._list("incidents", self._recent(False))),
            "/api/v2/scheduled-maintenances.json": doc(
                lambda: self._list("scheduled_maintenances", self._recent(True))
            ),
            "/api/v2/scheduled-maintenances/upcoming.json": doc(
                lambda: self._list(
                    "scheduled_maintenances",
                    [e for e in self.open_events(maintenance=True) if e.status == "scheduled"],
                )
            ),
            "/api/v2/scheduled-maintenances/active.json": doc(
                lambda: self._list(
                    "scheduled_maintenances",
                    [
                        e
                        for e in self.open_events(maintenance=True)
                        if e.status in _ACTIVE_MAINTENANCE
                    ],
                )
            ),
        }

    def summary(self) -> dict[str, Any]:
        """The current ``summary.json`` body (what a GET would return)."""
        with self.lock:
            return self._body(
                components=self._component_views(),
                incidents=[self._event_view(e) for e in self.open_events(maintenance=False)],
                scheduled_maintenances=[
                    self._event_view(e) for e in self.open_events(maintenance=True)
                ],
                status=self._rollup(),
            )

    # -- internals ---------------------------------------------------------------

    def _recent(self, maintenance: bool) -> list[FeedEvent]:
        """The newest events of one kind, all states: the history endpoints stop at 50."""
        found: list[FeedEvent] = []
        for event in reversed(self.events.values()):
            if event.maintenance is maintenance:
                found.append(event)
                if len(found) >= self.page_size:
                    break
        return found

    def _list(self, key: str, events: list[FeedEvent]) -> dict[str, Any]:
        return self._body(**{key: [self._event_view(e) for e in events]})

    def _body(self, **fields: Any) -> dict[str, Any]:
        """A response body: the page object first, then ``fields``."""
        page = {
            "id": self.page_id,
            "name": self.page_name,
            "url": self.public_url,
            "time_zone": self.time_zone,
            "updated_at": self._stamp(self.changed_at),
        }
        return {"page": page, **fields}

    def _component_views(self) -> list[dict[str, Any]]:
        rows: list[tuple[int, dict[str, Any]]] = []
        children: dict[str, list[FeedComponent]] = {}
        for component in self.components.values():
            if component.group is not None:
                children.setdefault(component.group, []).append(component)
            rows.append((component.position, self._component_view(component)))
        for group in self.groups.values():
            rows.append((group.position, self._group_view(group, children.get(group.name, []))))
        return [view for _, view in sorted(rows, key=lambda pair: pair[0])]

    def _component_view(self, component: FeedComponent) -> dict[str, Any]:
        group = self.groups.get(component.group) if component.group else None
        return {
            "id": component.id,
            "name": component.name,
            "status": component.state.value,
            "created_at": self._stamp(component.created_at),
            "updated_at": self._stamp(component.updated_at),
            "position": component.position,
            "description": None,
            "showcase": True,
            "start_date": None,
            "group_id": group.id if group else None,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _group_view(self, group: FeedGroup, members: list[FeedComponent]) -> dict[str, Any]:
        state = worst_state(c.state for c in members)
        updated = max((c.updated_at for c in members), default=group.created_at)
        return {
            "id": group.id,
            "name": group.name,
            "status": state.value,
            "created_at": self._stamp(group.created_at),
            "updated_at": self._stamp(updated),
            "position": group.position,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.page_id,
            "group": True,
            "only_show_if_degraded": False,
            "components": [c.id for c in members],
        }

    def _event_view(self, event: FeedEvent) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": event.id,
            "name": event.name,
            "status": event.status,
            "created_at": self._stamp(event.created_at),
            "updated_at": self._stamp(event.updated_at),
            "monitoring_at": self._maybe(event.monitoring_at),
            "resolved_at": self._maybe(event.resolved_at),
            "impact": event.impact,
            "shortlink": f"https://stspg.io/{event.id[:10]}",
            "started_at": self._stamp(event.created_at),
            "page_id": self.page_id,
            "incident_updates": [self._update_view(event, u) for u in event.updates],
            "components": [self._component_view(c) for c in self.affected_components(event)],
        }
        if event.maintenance:
            view["scheduled_for"] = self._maybe(event.starts_at)
            view["scheduled_until"] = self._maybe(event.ends_at)
        return view

    def _update_view(self, event: FeedEvent, update: FeedUpdate) -> dict[str, Any]:
        affected = [
            {
                "code": cid,
                "name": self._qualified_name(cid),
                "old_status": old,
                "new_status": new,
            }
            for cid, old, new in update.affected
        ]
        return {
            "id": update.id,
            "status": update.status,
            "body": update.body,
            "incident_id": event.id,
            "created_at": self._stamp(update.at),
            "updated_at": self._stamp(update.at),
            "display_at": self._stamp(update.at),
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def _qualified_name(self, component_id: str) -> str:
        """``Group - Name``: how an update's affected_components name a grouped component."""
        component = self.components.get(component_id)
        if component is None:
            return component_id
        return f"{component.group} - {component.name}" if component.group else component.name

    def _rollup(self) -> dict[str, str]:
        """Statuspage's blend: the worst of component states, open incidents and maintenances."""
        candidates = [_ROLLUP_BY_STATE[c.state] for c in self.components.values()]
        for event in self.current.values():
            if event.status in CLOSED:
                continue
            if not event.maintenance:
                candidates.append(_ROLLUP_BY_IMPACT[event.impact])
            elif event.status in _ACTIVE_MAINTENANCE:
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

    def _maybe(self, value: datetime | None) -> str | None:
        return self._stamp(value) if value is not None else None


EMULATOR = StatuspageEmulator

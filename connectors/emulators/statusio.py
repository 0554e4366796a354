"""Status.io's public status API on loopback: ``GET /1.0/status/{page_id}``.

The body follows the two examples in Status.io's knowledge base [D]:
``{"result": {"status_overall": {"updated", "status", "status_code"},
"status": [components with "containers"], "incidents": [...],
"maintenance": {"active": [...], "upcoming": [...]}}}``, ids of 24 hex digits
(Mongo object ids), times as ISO 8601 with milliseconds and ``Z``
(``2021-12-06T16:49:49.455Z``), a container (location) shared by every
component in it, with one id.

World mapping: a component's name is a Status.io component, its group a
container (ungrouped components sit in a ``Global`` container); components of
the same name in several groups are one component with several containers.
Status codes: operational ``100``, maintenance ``200`` [D]; degraded ``300``,
partial ``400``, major ``500`` [C: clients agree; not in the docs, U].

There is no real capture of this answer: no Status.io ``/1.0/status/{page_id}``
body has been found (the vendor-captures ``SOURCES.md`` lists it as not saved),
so the capture comparison exempts this emulator; every key here comes from the
documentation [D] or is assumed [U].

Assumed, not confirmed [U]: the incident and maintenance objects (Status.io's
examples show the lists empty): ``_id``, ``name``, ``datetime_open``,
``status``/``status_code``, ``messages`` (``details``, ``datetime``,
``state`` 100/200/300 for investigating/identified/monitoring, ``status``),
``components_affected`` and ``containers_affected`` (``_id``, ``name``), and
for maintenance ``datetime_planned_start``/``datetime_planned_end``, taken
from several clients' code; the 404 body for an unknown page; that the host
answers conditional requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.emulators._status_feed import (
    DEFAULT_COMPONENTS,
    Document,
    FeedComponent,
    FeedEvent,
    StatusFeedEmulator,
    _utc_now,
    dump_json,
)
from connectors.emulators.base import Reply, Request
from connectors.feeds.rollup import worst_state
from connectors.records import ComponentState

__all__ = ["EMULATOR", "StatusioEmulator"]

JSON = "application/json; charset=utf-8"
GLOBAL = "Global"
CODE = {
    ComponentState.OPERATIONAL: (100, "Operational"),
    ComponentState.MAINTENANCE: (200, "Planned Maintenance"),
    ComponentState.DEGRADED: (300, "Degraded Performance"),
    ComponentState.PARTIAL_OUTAGE: (400, "Partial Service Disruption"),
    ComponentState.MAJOR_OUTAGE: (500, "Service Disruption"),
}
_IMPACT_CODE = {"none": 300, "minor": 300, "major": 400, "critical": 500}
_STATE_CODE = {"investigating": 100, "identified": 200, "monitoring": 300}


def _hex_id(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class StatusioEmulator(StatusFeedEmulator):
    """One Status.io public page, served at ``/1.0/status/{page_id}``."""

    kind: ClassVar[str] = "statusio"
    id_alphabet: ClassVar[str] = "0123456789abcdef"
    id_length: ClassVar[int] = 24

    def __init__(
        self,
        *,
        page_name: str = "Acme Cloud",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
    ) -> None:
        super().__init__(
            page_name=page_name,
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )
        self.page_id = _hex_id(f"page:{page_name}")

    def __enter__(self) -> StatusioEmulator:
        self.start()
        return self

    def vendor_settings(self) -> dict[str, Any]:
        """The page id is the one setting a public page needs."""
        return {"kind": self.kind, "page_id": self.page_id}

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The page's public status document."""
        return {f"/1.0/status/{self.page_id}": self._render}

    def not_found(self, request: Request) -> Reply:
        """An unknown page id (the real body is not known)."""
        return Reply(404, {"status": {"error": "yes", "code": 404, "message": "Not Found"}})

    # -- wire format -------------------------------------------------------------

    def _render(self) -> Document:
        by_name: dict[str, list[FeedComponent]] = {}
        for component in self.components.values():
            by_name.setdefault(component.name, []).append(component)
        states = [c.state for c in self.components.values()]
        for event in self.current.values():
            if not event.maintenance:
                states.append(_impact_state(event.impact))
            elif event.status in ("in_progress", "verifying"):
                states.append(ComponentState.MAINTENANCE)
        code, words = CODE[worst_state(states)]
        body = {
            "result": {
                "status_overall": {
                    "updated": _stamp(self.changed_at),
                    "status": words,
                    "status_code": code,
                },
                "status": [self._component(name, members) for name, members in by_name.items()],
                "incidents": [self._event(e) for e in self.open_events(maintenance=False)],
                "maintenance": {
                    "active": [
                        self._event(e)
                        for e in self.open_events(maintenance=True)
                        if e.status != "scheduled"
                    ],
                    "upcoming": [
                        self._event(e)
                        for e in self.open_events(maintenance=True)
                        if e.status == "scheduled"
                    ],
                },
            }
        }
        return Document(dump_json(body).encode(), JSON)

    def _component(self, name: str, members: list[FeedComponent]) -> dict[str, Any]:
        code, words = CODE[worst_state(c.state for c in members)]
        return {
            "id": _hex_id(f"component:{name}"),
            "name": name,
            "updated": _stamp(max(c.updated_at for c in members)),
            "status": words,
            "status_code": code,
            "containers": [
                {
                    "id": _hex_id(f"container:{c.group or GLOBAL}"),
                    "name": c.group or GLOBAL,
                    "updated": _stamp(c.updated_at),
                    "status": CODE[c.state][1],
                    "status_code": CODE[c.state][0],
                }
                for c in members
            ],
        }

    def _event(self, event: FeedEvent) -> dict[str, Any]:
        affected = self.affected_components(event)
        code = 200 if event.maintenance else _IMPACT_CODE.get(event.impact, 300)
        row: dict[str, Any] = {
            "_id": event.id,
            "name": event.name,
            "datetime_open": _stamp(event.created_at),
            "status": "Planned Maintenance" if event.maintenance else "Active",
            "status_code": code,
            "messages": [
                {
                    "details": update.body,
                    "datetime": _stamp(update.at),
                    "state": _STATE_CODE.get(update.status, 100),
                    "status": code,
                }
                for update in event.updates
            ],
            "components_affected": [
                {"_id": _hex_id(f"component:{name}"), "name": name}
                for name in dict.fromkeys(c.name for c in affected)
            ],
            "containers_affected": [
                {"_id": _hex_id(f"container:{group}"), "name": group}
                for group in dict.fromkeys(c.group or GLOBAL for c in affected)
            ],
        }
        if event.maintenance:
            row["datetime_planned_start"] = _stamp(event.starts_at or event.created_at)
            row["datetime_planned_end"] = _stamp(event.ends_at or event.created_at)
        return row


def _impact_state(impact: str) -> ComponentState:
    return {
        "major": ComponentState.PARTIAL_OUTAGE,
        "critical": ComponentState.MAJOR_OUTAGE,
    }.get(impact, ComponentState.DEGRADED)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


EMULATOR = StatusioEmulator

"""An Instatus status page on loopback: ``/summary.json`` and ``/api/v2/components.json``.

``/summary.json`` follows Instatus's own "publicly available data" example
[D]: ``page`` (``name``, ``url``, ``status`` ``UP``/``HASISSUES``/
``UNDERMAINTENANCE``), ``activeIncidents`` (``name``, ``started``, ``status``,
``impact``, ``url``) and ``activeMaintenances`` (``name``, ``start``,
``status`` ``NOTSTARTEDYET``/``INPROGRESS``, ``duration`` in minutes as text,
``url``), with no ``id`` (the id ends the ``url``) and times written the way
the documented example writes them, like JavaScript's ``Date.toString()``
(``Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)``).

``/api/v2/components.json`` has the keys of the capture
(``instatus-perplexity-summary-components.json``): ``page`` and
``components`` with ``id`` (cuid, ``c`` and 24 letters and digits), ``name``,
``description``, ``status`` in squashed capitals, ``order``, ``isParent`` and
``children``. A group is a parent whose ``children`` are its components.

Assumed, not confirmed [U]: whether the capture is one response or a merge of
the two documents (the collector that saved it may merge them; the page
object is rendered in both here); whether children are also listed at the
top level (they are not here); the live time format (the docs' example is
used; the connector reads ISO 8601 too); that the host answers conditional
requests.
"""

from __future__ import annotations

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
from connectors.feeds.rollup import worst_state
from connectors.records import ComponentState

__all__ = ["EMULATOR", "InstatusEmulator", "js_date"]

JSON = "application/json; charset=utf-8"
_STATE = {
    ComponentState.OPERATIONAL: "OPERATIONAL",
    ComponentState.MAINTENANCE: "UNDERMAINTENANCE",
    ComponentState.DEGRADED: "DEGRADEDPERFORMANCE",
    ComponentState.PARTIAL_OUTAGE: "PARTIALOUTAGE",
    ComponentState.MAJOR_OUTAGE: "MAJOROUTAGE",
}
_IMPACT = {
    "none": "OPERATIONAL",
    "minor": "MINOROUTAGE",
    "major": "PARTIALOUTAGE",
    "critical": "MAJOROUTAGE",
}


def js_date(value: datetime) -> str:
    """``Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)``."""
    return value.astimezone(UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000") + (
        " (Coordinated Universal Time)"
    )


class InstatusEmulator(StatusFeedEmulator):
    """One Instatus public page."""

    kind: ClassVar[str] = "instatus"
    id_length: ClassVar[int] = 24

    def __init__(
        self,
        *,
        page_name: str = "Acme Search",
        page_url: str = "https://status.acme-search.example",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
    ) -> None:
        self.public_url = page_url
        super().__init__(
            page_name=page_name,
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )

    def __enter__(self) -> InstatusEmulator:
        self.start()
        return self

    def new_id(self) -> str:
        """A cuid-looking id (``c`` and 24 lower-case letters and digits)."""
        return "c" + super().new_id()

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The summary and the component list."""
        return {"/summary.json": self._summary, "/api/v2/components.json": self._components}

    # -- wire format -------------------------------------------------------------

    def _page(self) -> dict[str, Any]:
        states = [c.state for c in self.components.values()]
        worst = worst_state(states)
        in_maintenance = any(
            e.maintenance and e.status in ("in_progress", "verifying")
            for e in self.current.values()
        )
        incidents = any(not e.maintenance for e in self.current.values())
        if incidents or worst not in (ComponentState.OPERATIONAL, ComponentState.MAINTENANCE):
            status = "HASISSUES"
        elif in_maintenance or worst is ComponentState.MAINTENANCE:
            status = "UNDERMAINTENANCE"
        else:
            status = "UP"
        return {"name": self.page_name, "url": self.public_url, "status": status}

    def _summary(self) -> Document:
        body = {
            "page": self._page(),
            "activeIncidents": [self._incident(e) for e in self.open_events(maintenance=False)],
            "activeMaintenances": [
                self._maintenance(e) for e in self.open_events(maintenance=True)
            ],
        }
        return Document(dump_json(body).encode(), JSON)

    def _incident(self, event: FeedEvent) -> dict[str, Any]:
        return {
            "name": event.name,
            "started": js_date(event.created_at),
            "status": event.status.upper(),
            "impact": _IMPACT.get(event.impact, "MINOROUTAGE"),
            "url": f"{self.public_url}/incident/{event.id}",
        }

    def _maintenance(self, event: FeedEvent) -> dict[str, Any]:
        start = event.starts_at or event.created_at
        minutes = int((event.ends_at - start).total_seconds() // 60) if event.ends_at else 60
        return {
            "name": event.name,
            "start": js_date(start),
            "status": "NOTSTARTEDYET" if event.status == "scheduled" else "INPROGRESS",
            "duration": str(minutes),
            "url": f"{self.public_url}/maintenance/{event.id}",
        }

    def _components(self) -> Document:
        rows: list[tuple[int, dict[str, Any]]] = []
        members: dict[str, list[FeedComponent]] = {}
        for component in self.components.values():
            if component.group:
                members.setdefault(component.group, []).append(component)
            else:
                rows.append((component.position, self._component(component)))
        for group in self.groups.values():
            children = members.get(group.name, [])
            rows.append(
                (
                    group.position,
                    {
                        "id": group.id,
                        "name": group.name,
                        "description": "",
                        "status": _STATE[worst_state(c.state for c in children)],
                        "order": group.position,
                        "isParent": True,
                        "children": [self._component(c) for c in children],
                    },
                )
            )
        body = {"page": self._page(), "components": [row for _, row in sorted(rows, key=_first)]}
        return Document(dump_json(body).encode(), JSON)

    @staticmethod
    def _component(component: FeedComponent) -> dict[str, Any]:
        return {
            "id": component.id,
            "name": component.name,
            "description": "",
            "status": _STATE[component.state],
            "order": component.position,
            "isParent": False,
            "children": [],
        }


def _first(pair: tuple[int, dict[str, Any]]) -> int:
    return pair[0]


EMULATOR = InstatusEmulator

"""Google's public status dashboards on loopback: ``incidents.json`` (Cloud or Workspace).

The document is the whole incident history as a bare JSON array, newest
first, with the keys of the real captures (``gcp-status-incidents.json``,
``google-workspace-status-incidents.json``; ``vendor-apis-2.md`` §4.7):
``id`` (20 letters and digits), ``number`` (digits, as text), ``begin``,
``created``, ``end`` (only once resolved), ``modified``, ``external_desc``,
``updates`` newest first with ``created``/``modified``/``when``/``text``/
``status``, ``most_recent_update``, ``status_impact``, ``severity``,
``service_key``/``service_name``, ``affected_products``, ``uri``. Timestamps
are whole seconds with ``+00:00``. The Cloud variant adds
``affected_locations`` on updates and ``currently_affected_locations`` /
``previously_affected_locations``; the Workspace variant (``workspace=True``)
has no locations and writes ``external_desc`` as Markdown (``**Title**``,
then the text, then ``**Description**``).

World mapping: a component is a *product* in one *location* (its group,
``europe-west1``), and components of one name are one product (one id); an
incident's impact becomes ``status_impact`` (minor → ``SERVICE_INFORMATION``/
low, major → ``SERVICE_DISRUPTION``/medium, critical → ``SERVICE_OUTAGE``/
high) and its resolving update ``AVAILABLE``.
Maintenance windows are not rendered: Google publishes none in this file.

Assumed, not confirmed [U]: that Google's host answers conditional requests
(the emulator sends an ``ETag`` and ``Last-Modified`` by default); the
``service_name`` of a multi-product incident (``Multiple Products`` here);
whether the live file is ever truncated (Search Central's is, to about ten
incidents; the Cloud file is not known to be).
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
)
from connectors.emulators.base import Reply, Request

__all__ = ["EMULATOR", "GoogleStatusEmulator"]

JSON = "application/json"
_IMPACT = {
    "none": ("SERVICE_INFORMATION", "low"),
    "minor": ("SERVICE_INFORMATION", "low"),
    "major": ("SERVICE_DISRUPTION", "medium"),
    "critical": ("SERVICE_OUTAGE", "high"),
}
_LOCATION_TITLES = {
    "europe-west1": "Belgium (europe-west1)",
    "europe-west4": "Netherlands (europe-west4)",
    "europe-north1": "Finland (europe-north1)",
    "us-central1": "Iowa (us-central1)",
    "us-east1": "South Carolina (us-east1)",
}


class GoogleStatusEmulator(StatusFeedEmulator):
    """``status.cloud.google.com`` (or, with ``workspace=True``, the Workspace dashboard)."""

    kind: ClassVar[str] = "google_status"
    id_alphabet: ClassVar[str] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    id_length: ClassVar[int] = 20

    def __init__(
        self,
        *,
        workspace: bool = False,
        page_name: str = "Google Cloud",
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
    ) -> None:
        self.workspace = workspace
        self._product_ids: dict[str, str] = {}
        super().__init__(
            page_name=page_name,
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )

    def __enter__(self) -> GoogleStatusEmulator:
        self.start()
        return self

    def documents(self) -> dict[str, Callable[[], Document]]:
        """``/incidents.json`` (and the Workspace dashboard's own path)."""
        render = self._render
        paths = {"/incidents.json": render}
        if self.workspace:
            paths["/appsstatus/dashboard/incidents.json"] = render
        return paths

    def not_found(self, request: Request) -> Reply:
        """Google's static host: a plain 404 page."""
        page = b"<html><body>Not Found</body></html>"
        return Reply(404, raw=page, headers={"Content-Type": "text/html; charset=UTF-8"})

    # -- wire format -------------------------------------------------------------

    def _render(self) -> Document:
        events = (e for e in reversed(self.events.values()) if not e.maintenance)
        text = "[" + ",".join(self.fragment(e, self._incident) for e in events) + "]"
        return Document(text.encode(), JSON)

    def _incident(self, event: FeedEvent) -> dict[str, Any]:
        products = self.affected_components(event)
        status_impact, severity = _IMPACT.get(event.impact, _IMPACT["minor"])
        locations = self._locations(products)
        updates = [
            self._update_view(event, u.at, u.body, u.status, status_impact, locations)
            for u in event.updates
        ]
        begin = event.started_at or event.created_at
        row: dict[str, Any] = {
            "id": event.id,
            "number": str(int(hashlib.sha256(event.id.encode()).hexdigest()[:16], 16)),
            "begin": _stamp(begin),
            "created": _stamp(event.created_at),
        }
        if event.closed and event.resolved_at is not None:
            row["end"] = _stamp(event.resolved_at)
        row["modified"] = _stamp(event.updated_at)
        row["external_desc"] = self._description(event)
        row["updates"] = updates
        row["most_recent_update"] = updates[0] if updates else None
        row["status_impact"] = status_impact
        row["severity"] = severity
        titles = list(dict.fromkeys(p.name for p in products))
        if len(titles) == 1:
            row["service_key"], row["service_name"] = self.product_id(titles[0]), titles[0]
        else:
            row["service_key"], row["service_name"] = "zall", "Multiple Products"
        row["affected_products"] = [{"title": t, "id": self.product_id(t)} for t in titles]
        row["uri"] = f"incidents/{event.id}"
        if not self.workspace:
            row["currently_affected_locations"] = locations
            row["previously_affected_locations"] = []
        return row

    def _update_view(
        self,
        event: FeedEvent,
        at: datetime,
        text: str,
        status: str,
        status_impact: str,
        locations: list[dict[str, str]],
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "created": _stamp(at),
            "modified": _stamp(at),
            "when": _stamp(at),
            "text": text,
            "status": "AVAILABLE" if status in ("resolved", "postmortem") else status_impact,
        }
        if not self.workspace:
            update["affected_locations"] = locations
        return update

    def _description(self, event: FeedEvent) -> str:
        if not self.workspace:
            return event.name
        first = event.updates[-1].body if event.updates else ""
        return f"**Title**\n{event.name}\n**Description**\n{first}"

    def product_id(self, title: str) -> str:
        """A product's id: one per product name, whatever its locations (20 letters/digits)."""
        known = self._product_ids.get(title)
        if known is None:
            digest = hashlib.sha256(f"product:{title}".encode("utf-8", "surrogatepass")).digest()
            alphabet = self.id_alphabet
            known = self._product_ids[title] = "".join(
                alphabet[b % len(alphabet)] for b in digest[:20]
            )
        return known

    @staticmethod
    def _locations(products: list[FeedComponent]) -> list[dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        for product in products:
            if product.group and product.group not in seen:
                title = _LOCATION_TITLES.get(product.group, product.group)
                seen[product.group] = {"title": title, "id": product.group}
        return list(seen.values())


def _stamp(value: datetime) -> str:
    """Whole seconds with ``+00:00``, as the dashboards write them."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


EMULATOR = GoogleStatusEmulator

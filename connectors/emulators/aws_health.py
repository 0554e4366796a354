"""The public AWS Health Dashboard feed on loopback: ``/public/currentevents``.

The body is a bare JSON array of events encoded as **UTF-16 big-endian with a
``FE FF`` byte-order mark**, served as ``application/json;charset=utf-16``
(``vendor-apis-2.md`` §4.8; two independent clients hit the mojibake). Each
event carries the keys of the real capture (``aws-health-currentevents.json``):
``date`` (epoch seconds as text), ``arn``
(``arn:aws:health:{region}::event/{SERVICE}/{TYPE}/{TYPE}_{id}``),
``region_name``, ``status`` (a code as text), ``service``
(``{service}-{region}``), ``service_name``, ``summary``, ``event_log``
(``summary``, ``message``, integer ``status`` and ``timestamp``), and once
resolved ``end_time`` (epoch seconds as text) with ``[RESOLVED]`` before the
summary. An event affecting several services is a ``Multiple services``
event with ``impacted_services`` (``{key: {service_name, current, max}}``)
and ``impacted_service_status_changes`` (timestamps in epoch
*milliseconds*). Resolved events stay in the feed for ``resolved_ttl``.

World mapping: a component is a service, its group the region code
(``eu-west-1``); a component without a group is a global service (its key has
no region, its ARN region is ``global``). Impact becomes the status code
(minor ``1``, major ``2``, critical ``3``; resolved ``0``).

Assumed, not confirmed [U]: the meaning of the codes (``0`` normal, ``1``
informational, ``2`` degradation, ``3`` disruption: observed, not documented);
the order of ``event_log`` (oldest first here); the ARN and key of a global
service; how long resolved events stay (six hours here); whether the host
answers conditional requests (``ETag``/``Last-Modified`` sent by default).
AWS publishes no maintenance windows in this feed, so none are rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.emulators._status_feed import (
    Document,
    FeedComponent,
    FeedEvent,
    StatusFeedEmulator,
    _utc_now,
)

__all__ = ["EMULATOR", "AwsHealthEmulator"]

CONTENT_TYPE = "application/json;charset=utf-16"
DEFAULT_SERVICES: tuple[tuple[str, str | None], ...] = (
    ("Amazon Elastic Compute Cloud", "eu-west-1"),
    ("Amazon Simple Storage Service", "eu-west-1"),
    ("Amazon Relational Database Service", "eu-west-1"),
    ("Amazon Route 53", None),
)
REGION_NAMES = {
    "us-east-1": "N. Virginia",
    "eu-west-1": "Ireland",
    "eu-central-1": "Frankfurt",
    "ap-south-1": "Mumbai",
    "me-central-1": "UAE",
    "me-south-1": "Bahrain",
}
SERVICE_KEYS = {
    "Amazon Elastic Compute Cloud": "ec2",
    "Amazon Simple Storage Service": "s3",
    "Amazon Relational Database Service": "rds",
    "Amazon Route 53": "route53",
    "AWS Direct Connect": "directconnect",
}
_CODE = {"none": "1", "minor": "1", "major": "2", "critical": "3"}


def service_key(name: str) -> str:
    """The feed's short key of a service (``ec2``), or the name squashed to letters."""
    return SERVICE_KEYS.get(name) or re.sub(r"[^a-z0-9]", "", name.lower()) or "service"


class AwsHealthEmulator(StatusFeedEmulator):
    """``health.aws.amazon.com``'s public current-events feed."""

    kind: ClassVar[str] = "aws_health"
    id_alphabet: ClassVar[str] = "0123456789ABCDEF"
    id_length: ClassVar[int] = 11

    def __init__(
        self,
        *,
        components: Iterable[tuple[str, str | None]] = DEFAULT_SERVICES,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
        resolved_ttl: timedelta = timedelta(hours=6),
    ) -> None:
        self.resolved_ttl = resolved_ttl
        super().__init__(
            page_name="AWS Health Dashboard",
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )

    def __enter__(self) -> AwsHealthEmulator:
        self.start()
        return self

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The one feed document."""
        return {"/public/currentevents": self._render}

    def render_key(self, path: str) -> object:
        """Resolved events age out by the clock, not only by changes."""
        return int(self.clock().timestamp() // 60)

    # -- wire format -------------------------------------------------------------

    def _render(self) -> Document:
        now = self.clock()
        recent: list[FeedEvent] = []
        for event in reversed(self.closed.values()):  # newest closed first: stop at the ttl
            if event.resolved_at is None or now - event.resolved_at > self.resolved_ttl:
                break
            recent.append(event)
        shown = [e for e in self.current.values() if not e.maintenance]
        shown += [e for e in reversed(recent) if not e.maintenance]
        text = (
            "[" + ",".join(self.fragment(e, self._event) for e in sorted(shown, key=_created)) + "]"
        )
        return Document(b"\xfe\xff" + text.encode("utf-16-be"), CONTENT_TYPE)

    def _event(self, event: FeedEvent) -> dict[str, Any]:
        services = self.affected_components(event)
        region = next((s.group for s in services if s.group), None)
        region_code = region or "global"
        code = "0" if event.closed else _CODE.get(event.impact, "1")
        if len(services) == 1:
            name = services[0].name
            key = self._key(services[0])
            upper = service_key(name).upper()
        else:
            name = "Multiple services"
            key = f"multipleservices-{region}" if region else "multipleservices"
            upper = "MULTIPLE_SERVICES"
        type_code = f"AWS_{upper}_OPERATIONAL_ISSUE"
        row: dict[str, Any] = {
            "date": str(int(event.created_at.timestamp())),
            "arn": f"arn:aws:health:{region_code}::event/{upper}/{type_code}/"
            f"{type_code}_{event.id[:5]}_{event.id[5:]}",
            "region_name": REGION_NAMES.get(region or "", region or "Global"),
            "status": code,
            "service": key,
            "service_name": name,
            "summary": ("[RESOLVED] " if event.closed else "") + event.name,
            "event_log": [
                {
                    "summary": event.name,
                    "message": update.body,
                    "status": 0 if update.status in ("resolved", "postmortem") else int(code or 1),
                    "timestamp": int(update.at.timestamp()),
                }
                for update in reversed(event.updates)
            ],
        }
        if event.closed and event.resolved_at is not None:
            row["end_time"] = str(int(event.resolved_at.timestamp()))
        if len(services) > 1:
            current = "0" if event.closed else code
            row["impacted_services"] = {
                self._key(s): {"service_name": s.name, "current": current, "max": code}
                for s in services
            }
            row["impacted_service_status_changes"] = [
                {
                    "service": self._key(s),
                    "service_name": s.name,
                    "previous_status": "0",
                    "current_status": _CODE.get(event.impact, "1"),
                    "timestamp": int(event.created_at.timestamp() * 1000),
                }
                for s in services
            ]
        return row

    @staticmethod
    def _key(service: FeedComponent) -> str:
        short = service_key(service.name)
        return f"{short}-{service.group}" if service.group else short


def _created(event: FeedEvent) -> datetime:
    return event.created_at


EMULATOR = AwsHealthEmulator

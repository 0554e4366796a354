"""PagerDuty REST API v2 on loopback: incidents, log entries, abilities.

Speaks the real shapes: ``Token token=`` auth with PagerDuty's error body,
offset/limit/more paging with the 10,000 cap, ``statuses[]`` and
``since``/``until`` (on creation time) filters, ``ratelimit-*`` headers, and a
log-entry feed that records every change ``put_ticket`` makes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.emulators.base import Reply, Request, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["EMULATOR", "PagerDutyEmulator"]

_STATUS = {
    TicketStatus.NEW: "triggered",
    TicketStatus.OPEN: "acknowledged",
    TicketStatus.PENDING: "acknowledged",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "resolved",
}
_LOG_TYPE = {
    "triggered": "trigger_log_entry",
    "acknowledged": "acknowledge_log_entry",
    "resolved": "resolve_log_entry",
}
RATE_LIMIT = 960


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC)


class PagerDutyEmulator(TicketEmulator):
    """One PagerDuty account with one service and its incidents."""

    kind: ClassVar[str] = "pagerduty"

    def __init__(
        self,
        *,
        api_token: str = "demo-pd-token",
        clock: Callable[[], datetime] = _now,
        page_size: int = 100,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size)
        self.api_token = api_token
        self._incidents: dict[str, dict[str, Any]] = {}
        self._by_ref: dict[str, str] = {}
        self._log: list[dict[str, Any]] = []
        self._numbers = itertools.count(3001)
        self._remaining = RATE_LIMIT

    def vendor_settings(self) -> dict[str, Any]:
        """The config section for this account."""
        return {"kind": "pagerduty", "api_token": self.api_token}

    # -- state ---------------------------------------------------------------------

    def put_ticket(self, ticket: WorldTicket) -> str:
        """Create or update the incident for ``ticket.ref``; every change is logged."""
        with self.lock:
            ident = self._by_ref.get(ticket.ref)
            status = _STATUS[ticket.status]
            if ident is None:
                number = next(self._numbers)
                ident = f"Q{number:06d}PD"
                self._by_ref[ticket.ref] = ident
                self._incidents[ident] = {"id": ident, "incident_number": number, "acks": []}
            row = self._incidents[ident]
            previous = row.get("status")
            priority = ticket.priority or Priority.P3
            row.update(
                {
                    "type": "incident",
                    "title": ticket.title,
                    "status": status,
                    "urgency": "high" if priority in (Priority.P1, Priority.P2) else "low",
                    "priority": {
                        "id": f"PRI{priority.value}",
                        "type": "priority_reference",
                        "summary": priority.value,
                        "name": priority.value,
                    },
                    "incident_key": f"world:{ticket.ref}",
                    "service": {
                        "id": "PSV0001",
                        "type": "service_reference",
                        "summary": ticket.asset or "Data centre",
                    },
                    "escalation_policy": {
                        "id": "PEP0001",
                        "type": "escalation_policy_reference",
                        "summary": ticket.group or "Data Centre",
                    },
                    "assignments": []
                    if status == "resolved" or not ticket.assignee
                    else [
                        {
                            "at": _stamp(ticket.updated_at),
                            "assignee": {
                                "id": "PUSR001",
                                "type": "user_reference",
                                "summary": ticket.assignee,
                            },
                        }
                    ],
                    "created_at": _stamp(ticket.created_at),
                    "updated_at": _stamp(ticket.updated_at),
                    "last_status_change_at": _stamp(ticket.updated_at),
                    "resolved_at": _stamp(ticket.resolved_at or ticket.updated_at)
                    if status == "resolved"
                    else None,
                    "html_url": f"https://acme.pagerduty.com/incidents/{ident}",
                }
            )
            if status == "acknowledged" and not row["acks"]:
                row["acks"].append(_stamp(ticket.first_response_at or ticket.updated_at))
            if previous != status:
                self._log.append(
                    {
                        "id": f"R{len(self._log) + 1:06d}",
                        "type": _LOG_TYPE[status],
                        "created_at": _stamp(self.clock()),
                        "incident": {"id": ident, "type": "incident_reference"},
                    }
                )
            return f"#{row['incident_number']}"

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in row.items() if k != "acks"}
        view["acknowledgements"] = [
            {"at": at, "acknowledger": {"id": "PUSR001", "type": "user_reference"}}
            for at in row["acks"]
        ]
        return view

    # -- HTTP ------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """The v2 endpoints paneglass reads."""
        if request.headers.get("authorization") != f"Token token={self.api_token}":
            return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
        self._remaining = max(self._remaining - 1, 0)
        headers = {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(self._remaining),
            "ratelimit-reset": "60",
        }
        if request.path == "/abilities":
            return Reply(200, {"abilities": ["teams", "urgencies", "response_plays"]}, headers)
        if request.path == "/incidents":
            return self._list(request, headers, "incidents", self._filtered(request))
        if request.path == "/log_entries":
            since = parse_iso(request.param("since"))
            entries = [e for e in self._log if since is None or parse_iso(e["created_at"]) >= since]  # type: ignore[operator]
            return self._list(request, headers, "log_entries", entries)
        if request.path.startswith("/incidents/"):
            row = self._incidents.get(request.path.removeprefix("/incidents/"))
            if row is None:
                return Reply(404, {"error": {"message": "Not Found", "code": 2100}}, headers)
            return Reply(200, {"incident": self._view(row)}, headers)
        return Reply(404, {"error": {"message": "Not Found", "code": 2100}}, headers)

    def _filtered(self, request: Request) -> list[dict[str, Any]]:
        statuses = set(request.query.get("statuses[]", [])) or {
            "triggered",
            "acknowledged",
            "resolved",
        }
        rows = [r for r in self._incidents.values() if r.get("status") in statuses]
        if request.param("date_range") != "all":
            since, until = parse_iso(request.param("since")), parse_iso(request.param("until"))
            rows = [
                r
                for r in rows
                if (since is None or parse_iso(r["created_at"]) >= since)  # type: ignore[operator]
                and (until is None or parse_iso(r["created_at"]) <= until)  # type: ignore[operator]
            ]
        rows.sort(key=lambda r: r["incident_number"])
        return [self._view(r) for r in rows]

    def _list(self, request: Request, headers: dict[str, str], key: str, items: list[Any]) -> Reply:
        limit = min(int(request.param("limit") or 25), 100)
        offset = int(request.param("offset") or 0)
        if offset + limit > 10_000:
            return Reply(
                400,
                {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": ["Offset must be less than 10000."],
                    }
                },
                headers,
            )
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        return Reply(
            200,
            {key: page, "limit": limit, "offset": offset, "total": None, "more": more},
            headers,
        )


EMULATOR = PagerDutyEmulator

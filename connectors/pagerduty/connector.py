"""The PagerDuty connector: open incidents plus the log-entry change feed.

``GET /incidents`` cannot sort or filter by update time, so one poll reads
(1) every open incident (``statuses[]=triggered,acknowledged``, a small set)
and (2) ``GET /log_entries?since=cursor-overlap`` to learn which other
incidents changed (resolved, reassigned), then fetches those one by one.
Paging is offset/limit following ``more``; PagerDuty refuses offset+limit
beyond 10,000, so a poll stops there and keeps its old cursor.

Write-back (``vendor-apis.md`` §5.8) needs a ``From`` header naming a PagerDuty
user: the setting ``from_email``. Notes are internal only in PagerDuty (the
people on the incident see them; nobody "requests" an incident), so a public
comment is refused rather than quietly posted as a note. Acknowledge and
resolve are ``PUT /incidents/{id}`` (a resolve carries the text as its
``resolution``); a status change maps open → acknowledged and resolved/closed
→ resolved. Assignment takes a user id, or an e-mail looked up at send time. A
hand-off opens an incident on the service ``service_id`` with the correlation
as ``incident_key``, which PagerDuty itself refuses to reuse while that
incident is open, so a retried create can never make a second one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx2

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    Handoff,
    PlannedRequest,
    UnsupportedAction,
)
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.overrides import Overrides
from connectors.pagerduty.mapping import incident_id, incident_to_record
from connectors.records import Cursor, PollResult, Priority, TicketStatus
from connectors.timestamps import parse_iso

__all__ = ["PagerDutyConnector"]

ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE = 100
ITERATION_LIMIT = 10_000
OVERLAP = timedelta(seconds=60)
INCIDENTS_PATH = "/incidents"
USERS_PATH = "/users"
LOOKED_UP = "<looked up at send time>"
"""Stands in a planned body for an id only a lookup can tell (the dry run shows it)."""
_USER_ID = re.compile(r"P[A-Z0-9]{5,13}")
"""PagerDuty object ids: upper-case letters and digits; user ids start with ``P``."""
_OPEN = ("triggered", "acknowledged")
_SET_STATUS = {
    TicketStatus.OPEN: "acknowledged",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "resolved",
}


class PagerDutyConnector(Connector):
    """Polls ``https://api.pagerduty.com`` (or the EU host) with a REST API key."""

    kind: ClassVar[str] = "pagerduty"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("api_token",),)
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.ACKNOWLEDGE,
            ActionKind.RESOLVE,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "incident_key"

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check the tenant's overrides."""
        super().validate(config)
        Overrides.from_config(config)

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """PagerDuty's token header and its versioned media type."""
        return {"Authorization": f"Token token={config.require('api_token')}", "Accept": ACCEPT}

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.budget = RateBudget(
            RateHeaders("ratelimit-remaining", "ratelimit-limit", "ratelimit-reset")
        )
        self._requests = 0

    async def _get(self, path: str, params: list[tuple[str, str]]) -> Mapping[str, Any]:
        self._requests += 1
        response = await send(self.client, "GET", path, params=params, budget=self.budget)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"PagerDuty {path} answer is not a JSON object")
        return body

    async def _pages(
        self, path: str, key: str, params: list[tuple[str, str]]
    ) -> tuple[list[Any], bool]:
        """Every item of an offset-paged list; False when the 10,000 cap cut it short."""
        items: list[Any] = []
        offset = 0
        while True:
            if offset + PAGE > ITERATION_LIMIT:
                return items, False
            body = await self._get(path, [*params, ("limit", str(PAGE)), ("offset", str(offset))])
            page = body.get(key)
            if not isinstance(page, list):
                raise BadPayload(f"PagerDuty {path} answer has no {key} list")
            items.extend(page)
            if body.get("more") is not True:  # a short page with more=true is not the end
                return items, True
            offset += PAGE

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Open incidents, plus every incident the log says changed since ``cursor``."""
        self._requests = 0
        started = datetime.now(UTC)
        since = parse_iso(cursor.get("since")) if isinstance(cursor, dict) else None
        open_items, complete = await self._pages(
            "/incidents",
            "incidents",
            [("statuses[]", "triggered"), ("statuses[]", "acknowledged"), ("date_range", "all")],
        )
        incidents = {incident_id(i): i for i in open_items if isinstance(i, Mapping)}
        if since is None:  # first poll: the backfill window of resolved incidents too
            days = self.config.number("backfill_days", 30.0)
            window = [
                ("statuses[]", "resolved"),
                ("since", (started - timedelta(days=days)).isoformat()),
                ("until", started.isoformat()),
            ]
            resolved, done = await self._pages("/incidents", "incidents", window)
            complete = complete and done
            incidents.update({incident_id(i): i for i in resolved if isinstance(i, Mapping)})
        else:
            entries, done = await self._pages(
                "/log_entries",
                "log_entries",
                [("since", (since - OVERLAP).isoformat()), ("is_overview", "true")],
            )
            complete = complete and done
            changed = {
                e["incident"]["id"]
                for e in entries
                if isinstance(e, Mapping)
                and isinstance(e.get("incident"), Mapping)
                and e["incident"].get("id")
            }
            for ident in sorted(changed - set(incidents)):
                body = await self._get(f"/incidents/{ident}", [])
                incident = body.get("incident")
                if isinstance(incident, Mapping):
                    incidents[incident_id(incident)] = incident
        overrides = Overrides.from_config(self.config)
        ui_url = self.config.get("ui_url")
        records = tuple(
            overrides.apply(incident_to_record(i, ui_url=ui_url)) for i in incidents.values()
        )
        next_cursor = {"since": started.isoformat()} if complete else cursor
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """``/abilities``: proves the key and shows what the account can do."""
        body = await self._get("/abilities", [])
        abilities = body.get("abilities")
        count = len(abilities) if isinstance(abilities, list) else 0
        return f"ok, {count} abilities"

    # -- write-back -----------------------------------------------------------------------

    def plan(self, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` sends, each with the ``From`` header PagerDuty demands."""
        headers = {"From": self._from_email()}
        if action.kind is ActionKind.CREATE:
            assert action.handoff is not None  # Action guarantees it for CREATE
            incident = _new_incident(action.handoff, self._service_id())
            return (
                PlannedRequest(
                    "POST", INCIDENTS_PATH, body={"incident": incident}, headers=headers
                ),
            )
        path = f"{INCIDENTS_PATH}/{quote(action.ticket_id or '', safe='')}"
        if action.kind is ActionKind.COMMENT:
            if action.public:
                raise UnsupportedAction(
                    "PagerDuty notes are internal only (responders see them, no requester "
                    "does): send it as an internal comment"
                )
            return (_note_request(path, action.text, headers),)
        if action.kind is ActionKind.ASSIGN:
            return self._plan_assign(path, action.assignee.strip(), headers)
        status = _target_status(action)
        change: dict[str, Any] = {"type": "incident_reference", "status": status}
        if status == "resolved" and action.text.strip():
            change["resolution"] = action.text
        planned = [PlannedRequest("PUT", path, body={"incident": change}, headers=headers)]
        if status == "acknowledged" and action.text.strip():
            planned.append(_note_request(path, action.text, headers))  # an ack carries no text
        return tuple(planned)

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan; an e-mail assignee becomes a user id first, a create reports its id."""
        planned = self.plan(action)  # validates before anything is sent
        if planned[0].method == "GET":  # assignment by e-mail: find the user first
            lookup, put = planned
            user_id = await self._user_id(lookup.params["query"])
            planned = (replace(put, body=_assignment(user_id), note=""),)
        responses = [await self.send_planned(request) for request in planned]
        first = responses[0]
        status = f"HTTP {first.status_code}"
        if action.kind is not ActionKind.CREATE:
            if action.kind is ActionKind.COMMENT:
                what = "note added"
            elif action.kind is ActionKind.ASSIGN:
                what = "reassigned"
            else:
                what = f"set to {_target_status(action)}"
            target = action.ticket_key or action.ticket_id
            return ActionResult(f"{status}: {target} {what}", first.status_code)
        body = decode_json(first)
        incident = body.get("incident") if isinstance(body, Mapping) else None
        if not isinstance(incident, Mapping) or not incident.get("id"):
            raise BadPayload(
                "PagerDuty create answer has no incident id", http_status=first.status_code
            )
        return _created(incident, f"{status}: created", first.status_code, existing=False)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The incident already carrying this hand-off's ``incident_key`` (open ones first)."""
        if action.handoff is None:
            return None
        body = await self._get(
            INCIDENTS_PATH,
            [("incident_key", action.handoff.correlation), ("date_range", "all")],
        )
        found = [i for i in body.get("incidents") or [] if isinstance(i, Mapping) and i.get("id")]
        if not found:
            return None
        found.sort(key=lambda i: (i.get("status") in _OPEN, str(i.get("created_at") or "")))
        return _created(found[-1], "already at PagerDuty as", 200, existing=True)

    def _plan_assign(
        self, path: str, assignee: str, headers: dict[str, str]
    ) -> tuple[PlannedRequest, ...]:
        if _USER_ID.fullmatch(assignee):
            return (PlannedRequest("PUT", path, body=_assignment(assignee), headers=headers),)
        if "@" not in assignee:
            raise UnsupportedAction(
                "PagerDuty assigns by user id (e.g. PXPGF42) or a user's e-mail, not by name"
            )
        return (
            PlannedRequest(
                "GET",
                USERS_PATH,
                params={"query": assignee},
                note="finds the user id for this e-mail",
            ),
            PlannedRequest(
                "PUT",
                path,
                body=_assignment(LOOKED_UP),
                headers=headers,
                note="user id looked up at send time",
            ),
        )

    async def _user_id(self, email: str) -> str:
        body = await self._get(USERS_PATH, [("query", email)])
        for user in body.get("users") or []:
            if (
                isinstance(user, Mapping)
                and str(user.get("email", "")).lower() == email.lower()
                and isinstance(user.get("id"), str)
            ):
                return str(user["id"])
        raise ConnectorError(f"PagerDuty has no user with the e-mail {email}")

    def _from_email(self) -> str:
        email = self.config.get("from_email")
        if email is None or "@" not in email:
            raise UnsupportedAction(
                f"vendor {self.config.name!r}: PagerDuty writes need the setting 'from_email' "
                "(the e-mail of a PagerDuty user they are made as)"
            )
        return email.strip()

    def _service_id(self) -> str:
        service = self.config.get("service_id")
        if service is None:
            raise UnsupportedAction(
                f"vendor {self.config.name!r}: a hand-off to PagerDuty needs the setting "
                "'service_id' (the service new incidents open on)"
            )
        return service.strip()


def _target_status(action: Action) -> str:
    """The PagerDuty status an acknowledge, resolve or status change asks for."""
    if action.kind is ActionKind.ACKNOWLEDGE:
        return "acknowledged"
    if action.kind is ActionKind.RESOLVE:
        return "resolved"
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        status = _SET_STATUS.get(action.status)
        if status is None:
            raise UnsupportedAction(
                f"PagerDuty incidents can be acknowledged or resolved, not set to "
                f"{action.status.value}"
            )
        return status
    raise UnsupportedAction(f"pagerduty cannot {action.kind.label}")


def _note_request(path: str, text: str, headers: dict[str, str]) -> PlannedRequest:
    return PlannedRequest(
        "POST", f"{path}/notes", body={"note": {"content": text}}, headers=headers
    )


def _assignment(user_id: str) -> dict[str, Any]:
    return {
        "incident": {
            "type": "incident_reference",
            "assignments": [{"assignee": {"id": user_id, "type": "user_reference"}}],
        }
    }


def _new_incident(handoff: Handoff, service_id: str) -> dict[str, Any]:
    """``POST /incidents``: urgency from the priority; the correlation is the dedupe key."""
    incident: dict[str, Any] = {
        "type": "incident",
        "title": " ".join(handoff.title.split()) or "(no title)",
        "service": {"id": service_id, "type": "service_reference"},
        "incident_key": handoff.correlation,
        "body": {"type": "incident_body", "details": handoff.body_text()},
    }
    if handoff.priority is not None:
        urgent = handoff.priority in (Priority.P1, Priority.P2)
        incident["urgency"] = "high" if urgent else "low"
    return incident


def _created(
    incident: Mapping[str, Any], summary: str, http_status: int, *, existing: bool
) -> ActionResult:
    ident = str(incident["id"])
    number = incident.get("incident_number")
    key = f"#{number}" if number is not None else ident
    return ActionResult(f"{summary} {key}", http_status, ident, key, existing=existing)

"""Every emulator's list records carry the keys of its vendor's real list answer.

An emulator that agrees only with our connector proves nothing: the Opsgenie
emulator once put ``entity`` and ``description`` on list items, the
connector read the asset from them, and real list answers carry neither. So
for all nine vendors, over real loopback HTTP with the connector's own
client (its auth), the keys of a listed record are compared with the keys of
the record in ``tests/connectors/captures/``. A key the emulator adds or
drops must be named in the emulator module's docstring, with its reason, and
listed here; and every emulator module must have a row in this table.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import connectors.emulators
from connectors import VendorConfig, load_connector
from connectors.emulators import emulator_for
from connectors.emulators.base import TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus

CAPTURES = Path(__file__).parent / "captures"
NOW = datetime.now(UTC) - timedelta(hours=1)

Records = Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class ListAnswer:
    """Where a vendor's list answer is, in the emulator and in the real capture."""

    kind: str
    capture: str
    captured: Records
    method: str
    path: str
    listed: Records
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    extra: frozenset[str] = frozenset()
    """Keys the emulator adds, each named in its docstring."""
    missing: frozenset[str] = frozenset()
    """Keys of the capture the emulator leaves out, each named in its docstring."""


ANSWERS = (
    ListAnswer(
        "servicenow",
        "servicenow-incidents.json",
        lambda body: body["result"],
        "GET",
        "/api/now/table/incident",
        lambda body: body["result"],
    ),
    ListAnswer(
        "jira",
        "jira-search.json",
        lambda body: body["issues"],
        "POST",
        "/rest/api/3/search/jql",
        lambda body: body["issues"],
        body={"jql": "project = ITSD ORDER BY created ASC", "fields": ["*all"]},
        # The capture asked to expand these two; a plain search/jql answer has neither.
        missing=frozenset({"renderedFields", "transitions"}),
    ),
    ListAnswer(
        "zendesk",
        "zendesk-ticket.json",
        lambda body: [body["ticket"]],
        "GET",
        "/api/v2/tickets.json",
        lambda body: body["tickets"],
    ),
    ListAnswer(
        "freshservice",
        "freshservice-tickets.json",
        lambda body: body["tickets"],
        "GET",
        "/api/v2/tickets",
        lambda body: body["tickets"],
    ),
    ListAnswer(
        "autotask",
        "autotask-tickets-query.json",
        lambda body: body["items"],
        "POST",
        "/ATServicesRest/V1.0/Tickets/query",
        lambda body: body["items"],
        body={"filter": [{"op": "exist", "field": "id"}]},
        extra=frozenset(
            {
                "configurationItemID",
                "lastTrackedModificationDateTime",
                "lastCustomerVisibleActivityDateTime",
                "firstResponseDueDateTime",
                "resolutionPlanDateTime",
                "resolutionPlanDueDateTime",
                "resolvedDateTime",
                "resolvedDueDateTime",
                "serviceLevelAgreementID",
                "serviceLevelAgreementHasBeenMet",
                "serviceLevelAgreementPausedNextEventHours",
            }
        ),
    ),
    ListAnswer(
        "connectwise",
        "connectwise-ticket.json",
        lambda body: body,
        "GET",
        "/service/tickets",
        lambda body: body,
    ),
    ListAnswer(
        "pagerduty",
        "pagerduty-incidents.json",
        lambda body: body["incidents"],
        "GET",
        "/incidents",
        lambda body: body["incidents"],
        params={"date_range": "all"},
        extra=frozenset({"priority"}),
    ),
    ListAnswer(
        "opsgenie",
        "opsgenie-alerts.json",
        lambda body: body["data"],
        "GET",
        "/v2/alerts",
        lambda body: body["data"],
    ),
    ListAnswer(
        "statuspage",
        "statuspage-github-summary-2022-11-25.json",
        lambda body: [c for c in body["components"] if not c.get("group")],
        "GET",
        "/api/v2/summary.json",
        # A group component also lists its members (``components``): compare the leaves.
        lambda body: [c for c in body["components"] if not c.get("group")],
    ),
)


def _ticket(ref: str, status: TicketStatus) -> WorldTicket:
    return WorldTicket(
        ref=ref,
        title=f"Cannot print {ref}",
        status=status,
        priority=Priority.P2,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW,
        assignee="Kim Lee",
        requester="Maria Lopez",
        group="Service Desk",
        asset="PRN-0042",
        description="Error 49.4C02 on the panel.",
    )


def _keys(records: list[dict[str, Any]]) -> set[str]:
    assert records, "no record to compare"
    keys = {frozenset(record) for record in records}
    assert len(keys) == 1, f"records of one answer differ in their keys: {keys}"
    return set(next(iter(keys)))


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.kind)
async def test_listed_records_have_the_real_answers_keys(answer: ListAnswer) -> None:
    captured = _keys(answer.captured(json.loads((CAPTURES / answer.capture).read_text())))
    emulator = emulator_for(answer.kind)()
    with emulator:
        if isinstance(emulator, TicketEmulator):
            emulator.put_ticket(_ticket("a", TicketStatus.OPEN))
            emulator.put_ticket(_ticket("b", TicketStatus.PENDING))
        settings = emulator.vendor_settings()
        kind = settings.pop("kind")
        config = VendorConfig("v", kind, emulator.base_url, settings=settings)
        async with load_connector(kind).make_client(config) as client:
            response = await client.request(
                answer.method, answer.path, params=answer.params or None, json=answer.body
            )
    assert response.status_code == 200, response.text[:300]
    listed = _keys(answer.listed(response.json()))
    assert listed - captured == answer.extra, "keys the real list answer does not carry"
    assert captured - listed == answer.missing, "keys the real list answer carries"


@pytest.mark.parametrize(
    "answer", [a for a in ANSWERS if a.extra or a.missing], ids=lambda a: a.kind
)
def test_every_deviation_is_explained_in_the_emulators_docstring(answer: ListAnswer) -> None:
    module = importlib.import_module(f"connectors.emulators.{answer.kind}")
    documented = (module.__doc__ or "") + (module.EMULATOR.__doc__ or "")
    unexplained = sorted(key for key in answer.extra | answer.missing if key not in documented)
    assert not unexplained, f"{answer.kind}: say why in the emulator's docstring: {unexplained}"


def test_every_emulator_is_compared() -> None:
    modules = {
        info.name
        for info in pkgutil.iter_modules(connectors.emulators.__path__)
        if info.name != "base" and not info.name.startswith("_")
    }
    compared = {answer.kind for answer in ANSWERS}
    assert modules <= compared, f"emulators with no capture comparison: {modules - compared}"

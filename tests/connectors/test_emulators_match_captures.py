"""Every emulator's list records carry the keys of its vendor's real list answer.

An emulator that agrees only with our connector proves nothing: the Opsgenie
emulator once put ``entity`` and ``description`` on list items, the
connector read the asset from them, and real list answers carry neither. So
for every vendor, over real loopback HTTP with the connector's own
client (its auth), the keys of a listed record are compared with the keys of
the record in ``tests/connectors/captures/``. A key the emulator adds or
drops must be named in the emulator module's docstring, with its reason, and
listed here; and every emulator module must have a row in this table, or be
exempt for a named reason (no real answer to compare with).

Rows are keyed by the emulator's module; the connector kind comes from the
emulator's own ``vendor_settings()``. Answers that are not a JSON list are
decoded first (``decode``): AWS Health's UTF-16 JSON, Azure's RSS (element
names stand for keys; the captured feed is the healthy one, a channel with no
``<item>``, so only the channel is compared); a status document's records are
its components, incidents or maintenances. Kaseya BMS has no real capture, so
its row compares with the vendor's OpenAPI (``tests/connectors/specs/``);
Status.io has neither and is exempt (``EXEMPT``).
"""

from __future__ import annotations

import codecs
import importlib
import io
import json
import pkgutil
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import connectors.emulators
from connectors import VendorConfig, load_connector
from connectors.emulators.base import Emulator, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus

CAPTURES = Path(__file__).parent / "captures"
SPECS = Path(__file__).parent / "specs"
NOW = datetime.now(UTC) - timedelta(hours=1)

Records = Callable[[Any], list[dict[str, Any]]]


def _utf16_json(raw: bytes) -> Any:
    """AWS Health's feed: JSON in UTF-16 with a byte-order mark (nothing else will do)."""
    assert raw[:2] in (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE), raw[:8]
    return json.loads(raw.decode("utf-16"))


def _rss(raw: bytes) -> dict[str, Any]:
    """An RSS document as ``{"channel": {...}, "items": [{...}]}``: child element names as
    keys (``prefix:name`` for a namespaced one, with the document's own prefix), their text
    as values; the channel's ``item`` children are the items, not channel keys."""
    prefixes = {
        uri: prefix for _, (prefix, uri) in ET.iterparse(io.BytesIO(raw), events=("start-ns",))
    }

    def name(tag: str) -> str:
        found = re.fullmatch(r"\{(.*)\}(.*)", tag)
        return f"{prefixes.get(found[1], found[1])}:{found[2]}" if found else tag

    def children(element: ET.Element) -> dict[str, Any]:
        return {name(child.tag): child.text for child in element if child.tag != "item"}

    channel = ET.fromstring(raw).find("channel")
    assert channel is not None, "no <channel>"
    return {"channel": children(channel), "items": [children(i) for i in channel.iter("item")]}


def _aspnet_camel(name: str) -> str:
    """A .NET property name as ASP.NET's camel-case policy writes it (Newtonsoft's and
    System.Text.Json's ``ToCamelCase``): the leading run of capitals is lowered, except the
    last one when a lower-case letter follows it (``SLAId`` -> ``slaId``, ``Id`` -> ``id``)."""
    chars = list(name)
    for index, char in enumerate(chars):
        if index == 1 and not char.isupper():
            break
        if index > 0 and index + 1 < len(chars) and not chars[index + 1].isupper():
            break
        chars[index] = char.lower()
    return "".join(chars)


@dataclass(frozen=True)
class ListAnswer:
    """Where a vendor's list answer is, in the emulator and in the real capture."""

    module: str
    """The emulator's module in ``connectors.emulators`` (not the connector kind)."""
    capture: Path
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
    records: str = ""
    """Which records of the answer are compared, when a module has several rows."""
    options: dict[str, Any] = field(default_factory=dict)
    """Arguments for the emulator (a variant such as Google's Workspace dashboard)."""
    world: Callable[[Any], None] | None = None
    """Puts what the capture shows into the emulator (ticket emulators get two tickets first)."""
    decode: Callable[[bytes], Any] = json.loads
    """Turns the emulator's answer body into what ``listed`` reads."""
    decode_capture: Callable[[bytes], Any] | None = None
    """Turns the capture file into what ``captured`` reads (``decode`` when not set)."""

    @property
    def id(self) -> str:
        return f"{self.module}:{self.records}" if self.records else self.module


EXEMPT: dict[str, str] = {
    "statusio": "no real capture: no Status.io /1.0/status/{page_id} answer has been found "
    "(vendor-captures SOURCES.md, 'Not saved'); the emulator follows Status.io's "
    "knowledge-base examples, whose incident and maintenance lists are empty",
}
"""Emulator modules with no real answer to compare with, and why (their docstrings say so)."""


# -- worlds: what each capture shows, put into the emulator ----------------------------------


def _google_incidents(emulator: Any) -> None:
    """Both Google captures hold resolved incidents of one product in one location."""
    for name in ("Storage", "Network"):
        incident = emulator.open_incident(f"{name} errors", "major", components=[name])
        emulator.update_incident(incident, "identified", "We found the cause.")
        emulator.resolve_incident(incident)


def _aws_events(emulator: Any) -> None:
    """The capture: one resolved single-service event and open "Multiple services" ones."""
    single = emulator.open_incident(
        "Increased error rates", "major", components=["Amazon Route 53"]
    )
    emulator.resolve_incident(single)
    emulator.open_incident(
        "Increased API error rates",
        "critical",
        components=["Amazon Elastic Compute Cloud", "Amazon Simple Storage Service"],
    )


def _azure_incident(emulator: Any) -> None:
    emulator.open_incident("Storage: degraded availability", "major", components=["Storage"])


def _delete_a_case(emulator: Any) -> None:
    emulator.delete_ticket("b", at=NOW - timedelta(minutes=10))


def _resolved(event: dict[str, Any]) -> bool:
    """An AWS Health event that has ended (its summary says so; its status code is ``0``)."""
    return str(event["summary"]).startswith("[RESOLVED]")


def _bms_spec(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The OpenAPI's ``TicketListDto`` as a row of its camel-cased properties."""
    properties = spec["components"]["schemas"]["TicketListDto"]["properties"]
    return [dict.fromkeys(_aspnet_camel(name) for name in properties)]


SOQL_MILESTONES = "SELECT FIELDS(ALL), MilestoneType.Name FROM CaseMilestone LIMIT 200"
"""The capture's query (``FIELDS(ALL)`` needs a ``LIMIT``; the capture's ``WHERE`` picked one
case)."""


ANSWERS = (
    ListAnswer(
        "servicenow",
        CAPTURES / "servicenow-incidents.json",
        lambda body: body["result"],
        "GET",
        "/api/now/table/incident",
        lambda body: body["result"],
    ),
    ListAnswer(
        "jira",
        CAPTURES / "jira-search.json",
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
        CAPTURES / "zendesk-ticket.json",
        lambda body: [body["ticket"]],
        "GET",
        "/api/v2/tickets.json",
        lambda body: body["tickets"],
    ),
    ListAnswer(
        "freshservice",
        CAPTURES / "freshservice-tickets.json",
        lambda body: body["tickets"],
        "GET",
        "/api/v2/tickets",
        lambda body: body["tickets"],
    ),
    ListAnswer(
        "autotask",
        CAPTURES / "autotask-tickets-query.json",
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
        CAPTURES / "connectwise-ticket.json",
        lambda body: body,
        "GET",
        "/service/tickets",
        lambda body: body,
    ),
    ListAnswer(
        "pagerduty",
        CAPTURES / "pagerduty-incidents.json",
        lambda body: body["incidents"],
        "GET",
        "/incidents",
        lambda body: body["incidents"],
        params={"date_range": "all"},
        extra=frozenset({"priority"}),
    ),
    ListAnswer(
        "opsgenie",
        CAPTURES / "opsgenie-alerts.json",
        lambda body: body["data"],
        "GET",
        "/v2/alerts",
        lambda body: body["data"],
    ),
    ListAnswer(
        "statuspage",
        CAPTURES / "statuspage-github-summary-2022-11-25.json",
        lambda body: [c for c in body["components"] if not c.get("group")],
        "GET",
        "/api/v2/summary.json",
        # A group component also lists its members (``components``): compare the leaves.
        lambda body: [c for c in body["components"] if not c.get("group")],
    ),
    ListAnswer(
        "salesforce",
        CAPTURES / "salesforce-casemilestone-query.json",
        lambda body: body["records"],
        "GET",
        "/services/data/v66.0/query",
        lambda body: body["records"],
        params={"q": SOQL_MILESTONES},
        records="CaseMilestone",
    ),
    ListAnswer(
        "salesforce",
        CAPTURES / "salesforce-getdeleted.json",
        lambda body: body["deletedRecords"],
        "GET",
        "/services/data/v66.0/sobjects/Case/deleted/",
        lambda body: body["deletedRecords"],
        params={
            "start": (NOW - timedelta(days=1)).isoformat(),
            "end": (NOW + timedelta(minutes=30)).isoformat(),
        },
        records="deletedRecords",
        world=_delete_a_case,
    ),
    ListAnswer(
        "datto_rmm",
        CAPTURES / "kaseya-datto-rmm-alert.json",
        lambda body: [body],
        "GET",
        "/api/v2/account/alerts/open",
        lambda body: body["alerts"],
        # The world tickets have a description, which the emulator sends as the spec's
        # ``diagnostics``; the captured alert (a component-script alert) has none.
        extra=frozenset({"diagnostics"}),
    ),
    ListAnswer(
        "kaseya_bms",
        # No real BMS answer exists (see the emulator): compare with the vendor's OpenAPI.
        SPECS / "kaseya-bms-openapi-TicketListDto.json",
        _bms_spec,
        "GET",
        "/v2/servicedesk/tickets",
        lambda body: body["result"],
        records="OpenAPI TicketListDto",
    ),
    ListAnswer(
        "google_status",
        CAPTURES / "gcp-status-incidents.json",
        lambda body: body,
        "GET",
        "/incidents.json",
        lambda body: body,
        records="cloud incidents",
        world=_google_incidents,
    ),
    ListAnswer(
        "google_status",
        CAPTURES / "google-workspace-status-incidents.json",
        lambda body: body,
        "GET",
        "/appsstatus/dashboard/incidents.json",
        lambda body: body,
        records="workspace incidents",
        options={"workspace": True, "page_name": "Google Workspace"},
        world=_google_incidents,
    ),
    ListAnswer(
        "aws_health",
        CAPTURES / "aws-health-currentevents.json",
        lambda body: [e for e in body if _resolved(e)],
        "GET",
        "/public/currentevents",
        lambda body: [e for e in body if _resolved(e)],
        records="resolved events",
        world=_aws_events,
        decode=_utf16_json,
        decode_capture=json.loads,  # saved as UTF-8 (SOURCES.md); the wire is UTF-16
    ),
    ListAnswer(
        "aws_health",
        CAPTURES / "aws-health-currentevents.json",
        lambda body: [e for e in body if not _resolved(e)],
        "GET",
        "/public/currentevents",
        lambda body: [e for e in body if not _resolved(e)],
        records="open events",
        world=_aws_events,
        decode=_utf16_json,
        decode_capture=json.loads,
    ),
    ListAnswer(
        "azure_status",
        CAPTURES / "azure-status-feed.xml",
        # The capture is the healthy feed: a channel and no <item>, so only the channel's
        # elements can be compared (the emulator's item elements are assumed; it says so).
        lambda feed: [feed["channel"]],
        "GET",
        "/en-us/status/feed/",
        lambda feed: [feed["channel"]],
        records="channel",
        world=_azure_incident,
        decode=_rss,
    ),
    ListAnswer(
        "incidentio",
        CAPTURES / "incidentio-openai-statuspage-summary.json",
        lambda body: body["components"],
        "GET",
        "/api/v2/summary.json",
        lambda body: body["components"],
        records="components",
    ),
    ListAnswer(
        "instatus",
        CAPTURES / "instatus-perplexity-summary-components.json",
        lambda body: body["components"],
        "GET",
        "/api/v2/components.json",
        lambda body: body["components"],
        records="components",
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


def _emulator(module: str) -> type[Emulator]:
    found: type[Emulator] = importlib.import_module(f"connectors.emulators.{module}").EMULATOR
    return found


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
async def test_listed_records_have_the_real_answers_keys(answer: ListAnswer) -> None:
    read_capture = answer.decode_capture or answer.decode
    captured = _keys(answer.captured(read_capture(answer.capture.read_bytes())))
    emulator = _emulator(answer.module)(**answer.options)
    with emulator:
        if isinstance(emulator, TicketEmulator):
            emulator.put_ticket(_ticket("a", TicketStatus.OPEN))
            emulator.put_ticket(_ticket("b", TicketStatus.PENDING))
        if answer.world is not None:
            answer.world(emulator)
        settings = emulator.vendor_settings()
        kind = settings.pop("kind")
        config = VendorConfig("v", kind, emulator.base_url, settings=settings)
        async with load_connector(kind).make_client(config) as client:
            response = await client.request(
                answer.method, answer.path, params=answer.params or None, json=answer.body
            )
    assert response.status_code == 200, response.text[:300]
    listed = _keys(answer.listed(answer.decode(response.content)))
    assert listed - captured == answer.extra, "keys the real list answer does not carry"
    assert captured - listed == answer.missing, "keys the real list answer carries"


def _documented(module: str) -> str:
    found = importlib.import_module(f"connectors.emulators.{module}")
    return (found.__doc__ or "") + (found.EMULATOR.__doc__ or "")


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.extra or a.missing], ids=lambda a: a.id)
def test_every_deviation_is_explained_in_the_emulators_docstring(answer: ListAnswer) -> None:
    documented = _documented(answer.module)
    unexplained = sorted(key for key in answer.extra | answer.missing if key not in documented)
    assert not unexplained, f"{answer.module}: say why in the emulator's docstring: {unexplained}"


@pytest.mark.parametrize("module", sorted(EXEMPT))
def test_an_exempt_emulator_says_it_has_no_real_capture(module: str) -> None:
    assert EXEMPT[module].strip(), f"{module}: name the reason it is exempt"
    assert "no real capture" in " ".join(_documented(module).lower().split()), (
        f"{module}: its docstring must say it has no real capture"
    )
    assert module not in {a.module for a in ANSWERS}, f"{module} has a row: it is not exempt"


def test_every_emulator_is_compared() -> None:
    modules = {
        info.name
        for info in pkgutil.iter_modules(connectors.emulators.__path__)
        if info.name != "base" and not info.name.startswith("_")
    }
    compared = {answer.module for answer in ANSWERS} | set(EXEMPT)
    assert modules <= compared, f"emulators with no capture comparison: {modules - compared}"
    assert compared <= modules, f"rows for no emulator module: {compared - modules}"

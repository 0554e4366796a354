"""The Autotask PSA connector: a resumable backfill of everything open, then what changed.

Autotask answers every query in id order and offers no other sort, so both
phases page by id (``nextPageUrl`` within one query, a fresh query with
``id gt`` on resume). Every request is ``POST V1.0/{Entity}/query`` on the
zone's API root with ``MaxRecords`` = ``page_size`` (500) and
``IncludeFields``; ``S`` is a time in Autotask's UTC form
(``2026-12-02T10:00:00.000Z``).

Backfill (first sync, and once after an upgrade from the old cursor)::

    Tickets/query   {"filter": [
        {"op": "gt", "field": "id", "value": <last id committed>},      # only on resume
        {"op": "or", "items": [
            {"op": "notIn", "field": "status", "value": [<closed codes>]},
            {"op": "gte", "field": "lastActivityDate", "value": <started - backfill_days>}]}]}

Every ticket whose status is not closed, whatever its age, plus closed ones
with activity within ``backfill_days`` of the backfill's start. The closed
codes are ``5`` (Complete, a system value) and every code of the tenant's
status picklist whose label, or ``status_map`` entry, means resolved or
closed. ``Tickets/query/count`` with the same filter (no id bound) gives the
total once per run. Each page's cursor is ``{"after": <highest id so far>}``.

Incremental (from the backfill's start minus the overlap, then from each run's
cursor)::

    Tickets/query   {"filter": [
        {"op": "gte", "field": "lastActivityDate", "value": <since - overlap_seconds>},
        {"op": "gt", "field": "id", "value": <last id committed>}]}    # only on resume

``lastActivityDate`` moves on edits, notes and time entries. As pages run in
id order, not time order, a ticket already passed may change while later
pages are read; so a page's cursor holds the run back: ``{"since": S,
"after": <highest id so far>, "run_started": …, "newest": …}`` re-runs the
same query past that id, and only the last page moves ``since``, to the
newest ``lastActivityDate`` seen but never past the run's own start (nor back
before the old ``since``). The next run re-reads from there minus the
overlap, which also covers clock skew; upserts make the re-read harmless.

Per page of tickets, in bulk and at most ``concurrency`` (3) requests at once
(:func:`connectors.fanout.fan_out`; Autotask allows three threads per endpoint
and tracking identifier), the ids cut into ``in`` lists of 250:

* ``TicketNotes/query`` ``[{"op": "in", "field": "ticketID", "value": [...]}]``,
  plus ``{"op": "gte", "field": "lastActivityDate", "value": <since - overlap>}``
  in the incremental phase (only new or changed notes);
* ``TicketAttachments/query`` ``[{"op": "in", "field": "parentID", "value": [...]}]``,
  plus ``attachDate gte`` in the incremental phase;
* ``Resources``, ``Contacts``, ``Companies``, ``ConfigurationItems`` by
  ``id in`` for names not yet cached (assignees, requesters, note authors).

A page of 500 tickets so costs 1 ticket request, 2 note requests (more when a
chunk holds over 500 notes), 2 attachment requests and a few name requests;
entries for a page's tickets travel on that page.

Pacing (see :mod:`connectors.autotask.api`): ``ThresholdInformation`` before
each page when due; past three quarters of the tenant's hourly 10,000 every
request waits a second, and at the cap the poll stops with ``RateLimited``. A
short 429 inside a fan-out is waited out (Retry-After) and retried; any other
error fails the page, and the next poll resumes after the last committed one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeGuard

import httpx2

from connectors.actions import Action, ActionKind, ActionResult, PlannedRequest
from connectors.autotask import actions
from connectors.autotask.api import AutotaskApi, Filter, Page, chunks
from connectors.autotask.mapping import (
    EntryContext,
    MappingContext,
    Picklists,
    attachment_to_entry,
    closed_status_codes,
    note_to_entry,
    parse_autotask_time,
    ticket_to_record,
)
from connectors.autotask.settings import AutotaskSettings
from connectors.base import Connector, VendorConfig
from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import fan_out
from connectors.overrides import Overrides
from connectors.records import (
    ConversationEntry,
    Cursor,
    PollResult,
    Progress,
    TicketRecord,
)
from connectors.sanitize import clean_text, one_line
from connectors.settings import ConnectorSettings, secret
from connectors.sync import BACKFILL
from connectors.timestamps import parse_iso

__all__ = ["AutotaskConnector"]

TICKET_FIELDS = (
    "id",
    "ticketNumber",
    "title",
    "description",
    "status",
    "priority",
    "queueID",
    "assignedResourceID",
    "companyID",
    "contactID",
    "configurationItemID",
    "createDate",
    "lastActivityDate",
    "lastTrackedModificationDateTime",
    "dueDateTime",
    "completedDate",
    "resolvedDateTime",
    "firstResponseDateTime",
    "firstResponseDueDateTime",
    "resolvedDueDateTime",
    "serviceLevelAgreementID",
    "serviceLevelAgreementHasBeenMet",
    "ticketType",
    "source",
)
"""``IncludeFields`` of the ticket query; ``id`` must be among them for paging past 500."""
NOTE_FIELDS = (
    "id",
    "ticketID",
    "title",
    "description",
    "noteType",
    "publish",
    "createDateTime",
    "lastActivityDate",
    "creatorResourceID",
    "createdByContactID",
)
ATTACHMENT_FIELDS = (
    "id",
    "parentID",
    "title",
    "fullPath",
    "fileSize",
    "contentType",
    "attachDate",
    "publish",
    "attachedByResourceID",
    "attachedByContactID",
)
_TICKET_REFERENCES: tuple[tuple[str, str], ...] = (
    ("assignedResourceID", "Resources"),
    ("contactID", "Contacts"),
    ("configurationItemID", "ConfigurationItems"),
)
_PEOPLE: tuple[tuple[str, str], ...] = (
    ("creatorResourceID", "Resources"),
    ("createdByContactID", "Contacts"),
    ("attachedByResourceID", "Resources"),
    ("attachedByContactID", "Contacts"),
)


class AutotaskConnector(Connector):
    """Polls one Autotask (Datto/Kaseya PSA) tenant with an API-only user."""

    kind: ClassVar[str] = "autotask"
    Settings: ClassVar[type[ConnectorSettings] | None] = AutotaskSettings
    supported_actions: ClassVar[frozenset[ActionKind]] = frozenset(
        {
            ActionKind.COMMENT,
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.CREATE,
        }
    )
    create_dedupe: ClassVar[str | None] = "externalID"

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ConnectorSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.options = _autotask(self.settings)
        """The section as :class:`AutotaskSettings` (``self.settings``, typed)."""
        self.api = AutotaskApi(config, self.options, client)
        self.budget = self.api.budget
        self.overrides = Overrides.from_settings(self.options)

    @classmethod
    def options_of(cls, config: VendorConfig) -> AutotaskSettings:
        """The section's settings, parsed once (cached on a config paneglass loaded)."""
        return _autotask(cls.parse_settings(config))

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """Autotask has no Basic auth: three headers on every request."""
        options = cls.options_of(config)
        return {
            "ApiIntegrationCode": secret(options.integration_code) or "",
            "UserName": options.username or "",
            "Secret": secret(options.secret) or "",
        }

    # -- the two phases --------------------------------------------------------------

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        """Every ticket not closed, whatever its age, plus closed ones active since the window."""
        after = _after(position)
        mark = self.api.requests
        await self.api.pace()
        picklists = await self.api.ticket_picklists()
        closed = closed_status_codes(picklists, self.overrides)
        window = started - self.options.backfill
        scope: Filter = [
            {
                "op": "or",
                "items": [
                    {"op": "notIn", "field": "status", "value": closed},
                    {"op": "gte", "field": "lastActivityDate", "value": _iso(window)},
                ],
            }
        ]
        total = await self.api.count("Tickets", scope)
        query = ([_id_after(after)] if after is not None else []) + scope
        repeats = _Repeats()
        first = True
        async for page in self._read_ahead(self.api.pages("Tickets", query, TICKET_FIELDS)):
            items = repeats.fresh(page.items)
            after = max((int(item["id"]) for item in items), default=after)
            tickets, entries = await self._read(items, picklists, since=None)
            requests, mark = self.api.requests - mark, self.api.requests
            yield PollResult(
                tickets=tickets,
                entries=entries,
                cursor={"after": after} if after is not None else None,
                requests=requests,
                progress=Progress(BACKFILL, 0, total) if first else None,
            )
            first = False

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        """Tickets whose ``lastActivityDate`` moved since the position, with their new entries."""
        run = _Run.load(position, start)
        mark = self.api.requests
        await self.api.pace()
        picklists = await self.api.ticket_picklists()
        since = run.since - self.options.overlap
        query: Filter = [{"op": "gte", "field": "lastActivityDate", "value": _iso(since)}]
        if run.after is not None:
            query.append(_id_after(run.after))
        after, newest = run.after, run.newest
        repeats = _Repeats()
        async for page in self._read_ahead(self.api.pages("Tickets", query, TICKET_FIELDS)):
            items = repeats.fresh(page.items)
            after = max((int(item["id"]) for item in items), default=after)
            tickets, entries = await self._read(items, picklists, since=since)
            seen = max((t.updated_at for t in tickets), default=None)
            if seen is not None and (newest is None or seen > newest):
                newest = seen
            requests, mark = self.api.requests - mark, self.api.requests
            cursor = run.held(after, newest) if page.more else run.finished(newest)
            yield PollResult(tickets=tickets, entries=entries, cursor=cursor, requests=requests)

    async def check(self) -> str:
        """Zone lookup plus ``Tickets/entityInformation``: proves credentials and ticket access."""
        zone = await self.api.tenant_zone()
        body = await self.api.get(zone.endpoint("Tickets/entityInformation"))
        info = body.get("info")
        if not isinstance(info, Mapping):
            raise BadPayload("Autotask entityInformation answer has no info")
        if info.get("canQuery") is False:
            raise ConnectorError("the API user's security level may not query tickets")
        return one_line(clean_text(f"ok, zone {zone.name}"), 120)

    async def _read_ahead(self, pages: AsyncGenerator[Page, None]) -> AsyncIterator[Page]:
        """The query's pages, each next one already asked for while this one is mapped.

        A page of tickets costs a round trip for itself and one or two for its
        notes, attachments and names; asking for the next page as soon as this
        one arrives hides the first. That request takes one of the limiter's
        slots like any other, so the bound on requests in flight holds. The
        tenant's threshold is checked (when due) before each next page.
        """
        pending: asyncio.Future[Page | None] | None = asyncio.ensure_future(self._next(pages))
        try:
            while pending is not None:
                page = await pending
                pending = None
                if page is None:
                    return
                if page.more:
                    await self.api.pace()
                    pending = asyncio.ensure_future(self._next(pages))
                yield page
        finally:
            if pending is not None:  # the caller stopped early: drop the page asked for
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            await pages.aclose()

    async def _next(self, pages: AsyncGenerator[Page, None]) -> Page | None:
        return await self.limiter.run(lambda: anext(pages, None))

    # -- one page's tickets, entries and names ---------------------------------------------

    async def _read(
        self,
        items: Sequence[Mapping[str, Any]],
        picklists: Picklists,
        *,
        since: datetime | None,
    ) -> tuple[tuple[TicketRecord, ...], tuple[ConversationEntry, ...]]:
        """Map a page: its notes and attachments, then every name they need, in bulk."""
        if not items:
            return (), ()
        zone = await self.api.tenant_zone()
        ticket_ids = [int(item["id"]) for item in items]
        notes, attachments = await self._children(ticket_ids, since)
        names = await self._names(items, [*notes, *attachments])
        context = MappingContext(
            now=datetime.now(UTC),
            picklists=picklists,
            overrides=self.overrides,
            resources=names["Resources"],
            contacts=names["Contacts"],
            companies=names["Companies"],
            assets=names["ConfigurationItems"],
            web_url=zone.web_url,
        )
        tickets = tuple(ticket_to_record(item, context) for item in items)
        if not notes and not attachments:
            return tickets, ()
        labels = await self.api.picklists("TicketNotes") if notes else {}
        entry_context = EntryContext(
            note_types=labels.get("notetype", {}),
            publish=labels.get("publish", {}),
            resources=names["Resources"],
            contacts=names["Contacts"],
            api_url=zone.api_url,
        )
        entries = [note_to_entry(note, entry_context) for note in notes]
        entries += [attachment_to_entry(item, entry_context) for item in attachments]
        entries.sort(key=lambda e: (e.created_at, e.ticket_external_id, e.external_id))
        return tickets, tuple(entries)

    async def _children(
        self, ticket_ids: Sequence[int], since: datetime | None
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """The page's notes and attachments (new or changed since ``since``, when given)."""
        jobs: list[tuple[str, Filter, tuple[str, ...]]] = []
        for chunk in chunks(ticket_ids):
            if self.options.conversations:
                notes: Filter = [{"op": "in", "field": "ticketID", "value": chunk}]
                if since is not None:
                    notes.append({"op": "gte", "field": "lastActivityDate", "value": _iso(since)})
                jobs.append(("TicketNotes", notes, NOTE_FIELDS))
            if self.options.attachments:
                files: Filter = [{"op": "in", "field": "parentID", "value": chunk}]
                if since is not None:
                    files.append({"op": "gte", "field": "attachDate", "value": _iso(since)})
                jobs.append(("TicketAttachments", files, ATTACHMENT_FIELDS))
        results = await fan_out(jobs, lambda job: self.api.collect(*job), self.limiter)
        notes_found: list[Mapping[str, Any]] = []
        files_found: list[Mapping[str, Any]] = []
        for (entity, _, _), rows in zip(jobs, results, strict=True):
            (notes_found if entity == "TicketNotes" else files_found).extend(rows)
        return notes_found, files_found

    async def _names(
        self, items: Sequence[Mapping[str, Any]], children: Iterable[Mapping[str, Any]]
    ) -> dict[str, Mapping[int, str]]:
        """Names of every person, company and configuration item the page refers to."""
        wanted: dict[str, set[int]] = {
            "Resources": set(),
            "Contacts": set(),
            "Companies": set(),
            "ConfigurationItems": set(),
        }
        for item in items:
            contact = item.get("contactID")
            for field, entity in _TICKET_REFERENCES:
                value = item.get(field)
                if type(value) is int:
                    wanted[entity].add(value)
            company = item.get("companyID")
            if type(contact) is not int and type(company) is int:
                wanted["Companies"].add(company)
        for child in children:
            for field, entity in _PEOPLE:
                value = child.get(field)
                if type(value) is int:
                    wanted[entity].add(value)
        asked = [(entity, ids) for entity, ids in wanted.items() if ids]
        found = await fan_out(asked, lambda job: self.api.names_of(job[0], job[1]), self.limiter)
        names: dict[str, Mapping[int, str]] = {entity: {} for entity in wanted}
        names.update((entity, mapping) for (entity, _), mapping in zip(asked, found, strict=True))
        return names

    # -- write-back (connectors/autotask/actions.py) ---------------------------------------

    @classmethod
    def plan_action(cls, config: VendorConfig, action: Action) -> tuple[PlannedRequest, ...]:
        """The requests ``action`` would send, from settings alone (no client, no credential)."""
        return actions.plan_action(cls.options_of(config), action)

    async def perform(self, action: Action) -> ActionResult:
        """Send the plan; a create also reads its new ticket's number."""
        return await actions.perform(self.api, self.options, action)

    async def find_existing(self, action: Action) -> ActionResult | None:
        """The ticket whose ``externalID`` already holds this hand-off's correlation."""
        return await actions.find_existing(self.api, action)

    async def send_planned(self, request: PlannedRequest) -> httpx2.Response:
        """Send one write to the zone; a 500 refusal is a plain error, not an outage."""
        return await actions.send_planned(self.api, request)


@dataclass(frozen=True)
class _Run:
    """The incremental position: where the query starts, and how far a held-back run got."""

    since: datetime
    after: int | None = None
    """The highest ticket id of the last committed page of an unfinished run."""
    run_started: datetime | None = None
    newest: datetime | None = None
    """The newest ``lastActivityDate`` the unfinished run has seen so far."""

    @classmethod
    def load(cls, position: Cursor | None, start: datetime) -> _Run:
        """The saved position (an old ``{"since": …}`` cursor reads the same), else ``start``."""
        if not isinstance(position, dict):
            return cls(since=start)
        since = _when(position.get("since"))
        if since is None:
            return cls(since=start)
        after = position.get("after")
        return cls(
            since=since,
            after=after if _is_id(after) else None,
            run_started=_when(position.get("run_started")),
            newest=_when(position.get("newest")),
        )

    def held(self, after: int | None, newest: datetime | None) -> Cursor:
        """After a page with more to follow: same query, past ``after``."""
        started = self.run_started or datetime.now(UTC)
        return {
            "since": self.since.isoformat(),
            "after": after,
            "run_started": started.isoformat(),
            "newest": newest.isoformat() if newest else None,
        }

    def finished(self, newest: datetime | None) -> Cursor:
        """After the last page: the newest activity seen, never past the run's start."""
        if newest is None:
            return {"since": self.since.isoformat()}
        started = self.run_started or datetime.now(UTC)
        return {"since": max(self.since, min(newest, started)).isoformat()}


class _Repeats:
    """Keeps one copy per ticket: the newest within a page, and none the last page had newer.

    Autotask pages by id, so a ticket normally shows once per query; a copy
    repeated (a vendor paging glitch) is dropped unless it is newer than the
    one already yielded. Only the previous page is remembered: memory stays a page.
    """

    def __init__(self) -> None:
        self.previous: dict[int, Mapping[str, Any]] = {}

    def fresh(self, items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The page's items to map; times are parsed only for a repeated id."""
        current: dict[int, Mapping[str, Any]] = {}
        for item in items:
            ticket_id = item.get("id")
            if not _is_id(ticket_id):
                raise BadPayload("Autotask ticket without an integer id")
            seen = current.get(ticket_id)
            if seen is None or _activity(item) >= _activity(seen):
                current[ticket_id] = item
        previous = self.previous
        self.previous = current
        if not previous.keys() & current.keys():
            return list(current.values())
        return [
            item
            for ticket_id, item in current.items()
            if ticket_id not in previous or _activity(item) > _activity(previous[ticket_id])
        ]


def _autotask(settings: ConnectorSettings) -> AutotaskSettings:
    if not isinstance(settings, AutotaskSettings):
        raise TypeError("an Autotask connector needs AutotaskSettings")
    return settings


def _after(position: Cursor | None) -> int | None:
    value = position.get("after") if isinstance(position, dict) else None
    return value if _is_id(value) else None


def _id_after(after: int) -> dict[str, Any]:
    return {"op": "gt", "field": "id", "value": after}


def _is_id(value: Any) -> TypeGuard[int]:
    return type(value) is int  # not a bool, which is an int subclass


_OLDEST = datetime.min.replace(tzinfo=UTC)


def _activity(item: Mapping[str, Any]) -> datetime:
    """The item's ``lastActivityDate`` (oldest possible when missing or unreadable)."""
    try:
        stamp = parse_autotask_time(item.get("lastActivityDate"))
    except BadPayload:
        stamp = None
    return stamp or _OLDEST


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except BadPayload:
        return None


def _iso(value: datetime) -> str:
    """Autotask's own UTC form, milliseconds and ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

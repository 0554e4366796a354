"""Autotask on the two-phase contract: resumable backfill, incremental, conversations, fan-out.

Real loopback emulator, real HTTP; a failing emulator is a subclass that
answers some requests badly, never an HTTP mock.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.actions import Action, ActionKind, UnsupportedAction
from connectors.autotask import AutotaskConnector
from connectors.autotask.settings import AutotaskSettings
from connectors.base import VendorConfig
from connectors.emulators.autotask import AutotaskEmulator
from connectors.emulators.base import Reply, Request, WorldAttachment, WorldEntry
from connectors.errors import ConfigurationError, TransientError
from connectors.records import Cursor, PollResult, TicketStatus, Visibility
from tests.connectors.test_autotask import by_key, config_for, connector_for, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden

NOW = datetime.now(UTC)
NOTES = "/ATServicesRest/V1.0/TicketNotes/query"
CAPTURE = Path(__file__).parent / "captures" / "autotask-tickets-query.json"


class FlakyEmulator(AutotaskEmulator):
    """Answers the next requests to one path with queued replies (a vendor's bad moments)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures: dict[str, deque[Reply]] = {}

    def fail(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.failures.setdefault(path.lower(), deque()).extend(replies)

    def route(self, request: Request) -> Reply:
        queued = self.failures.get(request.path.lower())
        if queued:
            return queued.popleft()
        return super().route(request)


async def drain(
    at: AutotaskConnector, cursor: Cursor | None, pages: int | None = None
) -> list[PollResult]:
    """The pages of one poll (all, or the first ``pages``), as the collector reads them."""
    read: list[PollResult] = []
    async for page in at.pages(cursor):
        read.append(page)
        if pages is not None and len(read) == pages:
            break
    return read


# -- backfill ------------------------------------------------------------------------------


async def test_backfill_reads_open_tickets_of_any_age_and_recent_closed_ones_only() -> None:
    with AutotaskEmulator() as emu:
        ancient = NOW - timedelta(days=400)
        keys = {
            "old-open": emu.put_ticket(world("old-open", created_at=ancient, updated_at=ancient)),
            "old-waiting": emu.put_ticket(
                world(
                    "old-waiting",
                    status=TicketStatus.PENDING,
                    created_at=ancient,
                    updated_at=ancient,
                )
            ),
            "old-closed": emu.put_ticket(
                world(
                    "old-closed", status=TicketStatus.CLOSED, created_at=ancient, updated_at=ancient
                )
            ),
            "old-resolved": emu.put_ticket(
                world(
                    "old-resolved",
                    status=TicketStatus.RESOLVED,
                    created_at=ancient,
                    updated_at=ancient,
                )
            ),
            "recent-closed": emu.put_ticket(world("recent-closed", status=TicketStatus.CLOSED)),
        }
        async with connector_for(emu, backfill_days=7) as at:
            pages = await drain(at, None)
    seen = {t.key for page in pages for t in page.tickets}
    assert keys["old-open"] in seen and keys["old-waiting"] in seen
    assert keys["recent-closed"] in seen
    assert keys["old-closed"] not in seen and keys["old-resolved"] not in seen
    first = pages[0]
    assert first.progress is not None and first.progress.total == 3  # the vendor's own count


async def test_a_backfill_stopped_midway_resumes_after_its_last_page() -> None:
    with AutotaskEmulator() as emu:
        keys = {emu.put_ticket(world(f"t{i}", assignee=f"Agent {i % 3}")) for i in range(23)}
        async with connector_for(emu, page_size=5) as at:
            first_run = await drain(at, None, pages=2)
        cursor = first_run[-1].cursor
        assert cursor is not None and cursor["backfill"]["position"] is not None
        async with connector_for(emu, page_size=5) as at:  # a new process, as after a restart
            second_run = await drain(at, cursor)
    yielded = [t.key for page in first_run + second_run for t in page.tickets]
    assert sorted(yielded) == sorted(keys)  # every ticket exactly once
    assert emu.served["Tickets"] < 2 * len(keys)  # fetched: far less than the tenant twice
    restarted = [json.loads(r.body) for r in emu.requests if r.path.endswith("/Tickets/query")]
    resumed = restarted[-2]["filter"][0]  # the backfill query of the second run
    assert resumed == {"op": "gt", "field": "id", "value": cursor["backfill"]["position"]["after"]}
    done = second_run[-1].progress
    assert done is not None and done.phase == "incremental"
    backfill_done = [
        p.progress for p in second_run if p.progress and p.progress.phase == "backfill"
    ]
    assert backfill_done[-1] is not None and backfill_done[-1].done == 23


async def test_changes_made_during_the_backfill_are_read_by_the_incremental_phase() -> None:
    with AutotaskEmulator() as emu:
        keys = [emu.put_ticket(world(f"t{i}")) for i in range(12)]
        async with connector_for(emu, page_size=4) as at:
            pages = at.pages(None)
            first = await anext(pages)
            assert keys[0] in {t.key for t in first.tickets}
            # While the backfill is on later pages, a ticket it already passed changes,
            # and a new one is opened.
            changed = emu.put_ticket(
                world("t0", title="changed mid-backfill", updated_at=datetime.now(UTC))
            )
            opened = emu.put_ticket(world("late", updated_at=datetime.now(UTC)))
            rest = [page async for page in pages]
    incremental = [
        t
        for page in rest
        if page.progress and page.progress.phase == "incremental"
        for t in page.tickets
    ]
    latest = by_key(tuple(incremental))
    assert latest[changed].title == "changed mid-backfill"
    assert opened in latest


async def test_incremental_pages_hold_the_cursor_back_until_the_run_ends() -> None:
    with AutotaskEmulator() as emu:
        for i in range(9):
            emu.put_ticket(world(f"t{i}"))
        async with connector_for(emu, page_size=4) as at:
            done = (await drain(at, None))[-1].cursor
            earlier = datetime.now(UTC)
            later = earlier + timedelta(seconds=1)
            for i in range(9):  # the newest change is on the first page, not the last
                emu.put_ticket(world(f"t{i}", updated_at=later if i == 0 else earlier))
            await asyncio.sleep(1.1)  # the run starts after every change
            pages = await drain(at, done)
    positions = [page.cursor["incremental"] for page in pages if page.cursor]
    assert [sorted(p) for p in positions[:-1]] == [["after", "newest", "run_started", "since"]] * 2
    assert positions[0]["since"] == positions[1]["since"] == done["incremental"]["since"]
    assert list(positions[-1]) == ["since"]  # the run is over: only where the next one starts
    assert datetime.fromisoformat(positions[-1]["since"]) == later.replace(
        microsecond=later.microsecond // 1000 * 1000
    )


# -- per-ticket sub-requests: bulk, bounded, 429 and 500 ------------------------------------


async def test_sub_queries_overlap_but_never_pass_three_in_flight() -> None:
    with AutotaskEmulator(latency=0.02) as emu:
        for i in range(30):
            emu.put_ticket(
                world(f"t{i}", assignee=f"Agent {i}", requester=f"Person {i}", asset=f"PC-{i}")
            )
        async with connector_for(emu, page_size=10) as at:
            await at.poll(None)
            assert at.limiter.limit == 3
            assert at.limiter.peak == 3


async def test_a_short_429_mid_fan_out_is_waited_out_and_the_page_completes() -> None:
    with FlakyEmulator() as emu:
        key = emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("n1", "Kim Lee", "Replaced the toner", NOW))
        emu.fail(
            NOTES,
            Reply(
                429, {"errors": ["Too many concurrent requests"]}, headers={"Retry-After": "0.2"}
            ),
        )
        async with connector_for(emu) as at:
            result = await at.poll(None)
    assert key in by_key(result.tickets)
    # (the incremental phase re-reads the note within its overlap: the same entry again)
    assert {e.external_id: e.body for e in result.entries} == {
        str(emu.notes(emu.ticket_id("a"))[0]["id"]): "Replaced the toner"
    }
    assert len([r for r in emu.requests if r.path == NOTES]) >= 2  # refused once, then read


async def test_a_500_mid_fan_out_fails_the_page_and_the_next_poll_resumes_after_the_last_one() -> (
    None
):
    with FlakyEmulator() as emu:
        keys = [emu.put_ticket(world(f"t{i}")) for i in range(6)]
        async with connector_for(emu, page_size=2) as at:
            pages = at.pages(None)
            first = await anext(pages)
            emu.fail(NOTES, Reply(500, {"errors": ["Object reference not set to an instance."]}))
            with pytest.raises(TransientError, match="Object reference"):
                await anext(pages)
        async with connector_for(emu, page_size=2) as at:
            rest = await drain(at, first.cursor)
    seen = [t.key for page in [first, *rest] for t in page.tickets]
    assert sorted(seen) == sorted(keys)


# -- conversations --------------------------------------------------------------------------


async def test_notes_and_attachments_travel_with_their_tickets_page() -> None:
    with AutotaskEmulator() as emu:
        key = emu.put_ticket(world("a", description="Printer offline\r\n\r\n\r\n\r\nsince 9am"))
        ticket_id = emu.ticket_id("a")
        emu.put_entry(
            "a",
            WorldEntry(
                "reply",
                "Kim Lee",
                "We are on it.\n\nOn Mon, 2 Dec 2026, Maria wrote:\n> it broke again",
                NOW - timedelta(hours=2),
                visibility="public",
                attachments=(WorldAttachment("printer-log.txt", 2048, "text/plain"),),
            ),
        )
        emu.put_entry(
            "a",
            WorldEntry(
                "work",
                "Ana Ruiz",
                "Checked the VLAN",
                NOW - timedelta(hours=1),
                visibility="internal",
            ),
        )
        emu.put_entry(
            "a", WorldEntry("rule", "", "Escalated by workflow", NOW, visibility="system")
        )
        async with connector_for(emu) as at:
            (page, *_) = [p for p in await drain(at, None) if p.tickets]
    (ticket,) = page.tickets
    assert ticket.key == key and ticket.description == "Printer offline\n\nsince 9am"
    entries = {e.body: e for e in page.entries}
    reply = entries["We are on it."]  # the quoted earlier reply is folded away
    assert (reply.visibility, reply.author) == (Visibility.PUBLIC, "Kim Lee")
    assert "it broke again" in reply.raw_body and reply.raw_format == "text"
    assert (entries["Checked the VLAN"].visibility, entries["Checked the VLAN"].author) == (
        Visibility.INTERNAL,
        "Ana Ruiz",
    )
    assert entries["Escalated by workflow"].visibility is Visibility.SYSTEM
    (attached,) = [e for e in page.entries if e.attachments]
    (record,) = attached.attachments
    assert (record.name, record.size, record.content_type) == (
        "printer-log.txt",
        2048,
        "text/plain",
    )
    assert record.url == (
        f"{emu.base_url}/ATServicesRest/V1.0/Tickets/{ticket_id}/Attachments/{record.external_id}"
    )
    assert all(e.ticket_external_id == str(ticket_id) for e in page.entries)
    assert [e.created_at for e in page.entries] == sorted(e.created_at for e in page.entries)


async def test_an_incremental_poll_reads_only_new_or_changed_notes() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("old", "Kim Lee", "First look", NOW - timedelta(hours=3)))
        async with connector_for(emu) as at:
            first = await at.poll(None)
            assert [e.body for e in first.entries] == ["First look"]
            emu.put_entry("a", WorldEntry("new", "Kim Lee", "Fixed", datetime.now(UTC)))
            second = await at.poll(first.cursor)
    assert [e.body for e in second.entries] == ["Fixed"]
    asked = json.loads([r for r in emu.requests if r.path == NOTES][-1].body)["filter"]
    assert [c["field"] for c in asked] == ["ticketID", "lastActivityDate"]


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_note_text_and_names_never_survive_as_escapes(hostile: str) -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a", description=hostile))
        emu.put_entry(
            "a",
            WorldEntry(
                "evil",
                f"Eve {hostile[:40]}",
                f"{hostile}\n\n<b>bold</b> [@click=app.quit]x[/]",
                NOW,
                attachments=(WorldAttachment(f"{hostile[:60]}.txt", 1, "text/plain"),),
            ),
        )
        async with connector_for(emu) as at:
            result = await at.poll(None)
    (ticket,) = result.tickets
    texts = [ticket.description or ""]
    for entry in result.entries:
        texts += [entry.body, entry.raw_body, entry.author or ""]
        texts += [a.name for a in entry.attachments]
        for attachment in entry.attachments:
            assert attachment.url is not None and attachment.url.startswith(emu.base_url)
    for text in texts:
        assert not has_forbidden(text), repr(text[:80])
        assert "\x1b" not in text and "\x9b" not in text


async def test_conversations_and_attachments_can_be_switched_off() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_entry("a", WorldEntry("n", "Kim Lee", "hello", NOW))
        async with connector_for(emu, conversations="false", attachments="false") as at:
            result = await at.poll(None)
    assert result.entries == ()
    assert not [
        r for r in emu.requests if "/TicketNotes/" in r.path or "/TicketAttachments/" in r.path
    ]


# -- writes and settings without a client -------------------------------------------------


def test_the_dry_run_needs_no_client_and_shows_no_credential() -> None:
    config = VendorConfig(
        name="psa",
        kind="autotask",
        base_url="https://webservices5.autotask.net",
        settings={
            "username": "api@acme.example",
            "secret": "hunter2-secret",
            "integration_code": "TRACKING-CODE-42",
            "assign_role_id": 29683396,
            "company_id": 174,
        },
    )
    assign = Action(ActionKind.ASSIGN, "41877", "T20260101.0001", assignee="29682870")
    (planned,) = AutotaskConnector.plan_action(config, assign)
    assert (planned.method, planned.path) == ("PATCH", "/V1.0/Tickets")
    assert planned.body == {
        "id": 41877,
        "assignedResourceID": 29682870,
        "assignedResourceRoleID": 29683396,
    }
    note = Action(ActionKind.COMMENT, "41877", "T20260101.0001", text="On site at 10", public=True)
    (posted,) = AutotaskConnector.plan_action(config, note)
    assert posted.path == "/V1.0/Tickets/41877/Notes" and posted.body["publish"] == 1
    text = "\n".join(r.describe() for r in (planned, posted))
    assert "hunter2-secret" not in text and "TRACKING-CODE-42" not in text
    with pytest.raises(UnsupportedAction, match="ticket ids are numbers"):
        AutotaskConnector.plan_action(config, Action(ActionKind.COMMENT, "T1", "T1", text="x"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("page_size", 501, "page_size"),
        ("concurrency", 4, "concurrency"),
        ("backfill_days", -1, "backfill_days"),
        ("company_id", "Acme", "company_id"),
        ("note_type", 0, "note_type"),
        ("resolve_names", "perhaps", "resolve_names"),
        ("pagesize", 5, "unknown setting 'pagesize'"),
    ],
)
def test_settings_errors_name_the_key(key: str, value: object, message: str) -> None:
    creds = {"username": "u", "secret": "s", "integration_code": "c"}
    with pytest.raises(ConfigurationError, match=message) as caught:
        AutotaskSettings.parse("psa", "autotask", {**creds, key: value})
    assert "'psa' (autotask)" in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"needs username\+secret\+integration_code"):
        AutotaskSettings.parse("psa", "autotask", {"username": "u", "secret": "s"})


def test_a_loaded_config_is_parsed_once() -> None:
    with AutotaskEmulator() as emu:
        config = config_for(emu)
        options = AutotaskSettings.parse(config.name, config.kind, config.settings)
        loaded = VendorConfig(
            config.name, config.kind, config.base_url, settings=config.settings, options=options
        )
        assert AutotaskConnector.options_of(loaded) is options


# -- the emulator ----------------------------------------------------------------------------


def test_emulator_list_records_carry_the_captures_keys_plus_the_documented_sla_fields() -> None:
    capture = json.loads(CAPTURE.read_text(encoding="utf-8"))["items"][0]
    documented = {
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
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        reply = emu.handle(
            _request(
                emu,
                "/ATServicesRest/V1.0/Tickets/query",
                {"filter": [{"op": "exist", "field": "id"}]},
            )
        )
    assert reply.body is not None
    (item,) = reply.body["items"]
    assert set(item) == set(capture) | documented
    assert isinstance(item["userDefinedFields"], list)


def test_emulator_pages_cost_the_same_at_any_tenant_size() -> None:
    costs = []
    for size in (1_000, 20_000):
        emu = AutotaskEmulator()
        ancient = NOW - timedelta(days=900)
        emu.put_tickets(
            world(
                f"t{i}",
                status=TicketStatus.CLOSED if i % 4 else TicketStatus.OPEN,
                created_at=ancient,
                updated_at=ancient + timedelta(minutes=i),
            )
            for i in range(size)
        )
        scope = [
            {
                "op": "or",
                "items": [
                    {"op": "notIn", "field": "status", "value": [5, 21]},
                    {
                        "op": "gte",
                        "field": "lastActivityDate",
                        "value": (NOW - timedelta(days=30)).isoformat(),
                    },
                ],
            }
        ]
        middle = emu.ticket_id(f"t{size // 2}")
        body = {"MaxRecords": 100, "filter": [{"op": "gt", "field": "id", "value": middle}, *scope]}
        before = emu.examined
        reply = emu.handle(_request(emu, "/ATServicesRest/V1.0/Tickets/query", body))
        assert reply.body is not None and len(reply.body["items"]) == 100
        costs.append(emu.examined - before)
        since = (ancient + timedelta(minutes=size - 10)).isoformat()
        before = emu.examined
        changed = emu.handle(
            _request(
                emu,
                "/ATServicesRest/V1.0/Tickets/query",
                {"filter": [{"op": "gte", "field": "lastActivityDate", "value": since}]},
            )
        )
        assert changed.body is not None and len(changed.body["items"]) == 10
        assert emu.examined - before == 10
    assert costs[0] == costs[1] == 101  # the page and one to know there is more


def test_emulator_counts_and_lists_notes_in_the_wire_format() -> None:
    with AutotaskEmulator() as emu:
        emu.put_ticket(world("a"))
        emu.put_ticket(world("b"))
        for n in range(3):
            emu.put_entry(
                "a", WorldEntry(f"n{n}", "Kim Lee", f"note {n}", NOW + timedelta(minutes=n))
            )
        emu.put_entry(
            "a", WorldEntry("n1", "Kim Lee", "note 1, edited", NOW + timedelta(minutes=5))
        )
        ids = [emu.ticket_id("a"), emu.ticket_id("b")]
        count = emu.handle(
            _request(
                emu,
                "/ATServicesRest/V1.0/TicketNotes/query/count",
                {"filter": [{"op": "in", "field": "ticketID", "value": ids}]},
            )
        )
        assert count.body == {"queryCount": 3}
        page = emu.handle(
            _request(
                emu,
                "/ATServicesRest/V1.0/TicketNotes/query",
                {"MaxRecords": 2, "filter": [{"op": "in", "field": "ticketID", "value": ids}]},
            )
        )
    assert page.body is not None
    assert [n["description"] for n in page.body["items"]] == ["note 0", "note 1, edited"]
    assert page.body["pageDetails"]["nextPageUrl"] is not None
    assert set(page.body["items"][0]) == {
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
        "impersonatorCreatorResourceID",
        "impersonatorUpdaterResourceID",
    }


def _request(emu: AutotaskEmulator, path: str, body: dict[str, Any]) -> Request:
    headers = {
        "apiintegrationcode": emu.integration_code,
        "username": emu.username,
        "secret": emu.secret,
    }
    return Request("POST", path, {}, headers, json.dumps(body).encode())

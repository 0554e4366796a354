"""ConnectWise ticket notes as conversation entries: fan-out, incremental reads, faults."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.base import Reply, Request, WorldEntry
from connectors.emulators.connectwise import API_ROOT, ConnectWiseEmulator
from connectors.errors import TransientError
from connectors.records import ConversationEntry, PollResult, Visibility
from tests.connectors.test_connectwise import NOW, connector_for, incremental, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden


def notes_requests(emu: ConnectWiseEmulator) -> list[Request]:
    return [r for r in emu.requests if r.path.endswith("/notes")]


def entry(
    ref: str, text: str, *, at: datetime, visibility: str = "public", author: str = "Jo Kim"
) -> WorldEntry:
    return WorldEntry(ref=ref, author=author, text=text, at=at, visibility=visibility)


async def test_notes_map_to_entries_with_visibility_author_and_folded_quotes() -> None:
    with ConnectWiseEmulator() as emu:
        key = emu.put_ticket(world("a", description="Printer on 3F shows 49.4C02"))
        ticket_id = key.removeprefix("#")
        at = NOW - timedelta(minutes=30)
        reply = (
            "Thanks, that worked.\n\nOn Mon, 3 Mar 2025 at 09:00, Jo Kim wrote:\n> Try a restart"
        )
        ids = {
            "reply": emu.put_entry("a", entry("reply", reply, at=at, author="Lee Park")),
            "internal": emu.put_entry(
                "a", entry("internal", "Checked the <b>firmware</b>", at=at, visibility="internal")
            ),
            "system": emu.put_entry(
                "a", entry("system", "Status changed by workflow", at=at, visibility="system")
            ),
        }
        async with connector_for(emu) as cw:
            result = await cw.poll(None)
    (ticket,) = result.tickets
    assert ticket.description == "Printer on 3F shows 49.4C02"
    entries = {e.external_id: e for e in result.entries}
    assert len(entries) == 4
    first = min(entries.values(), key=lambda e: int(e.external_id))
    assert (first.visibility, first.author, first.body) == (
        Visibility.PUBLIC,
        "Lee Park",  # the contact who raised it
        "Printer on 3F shows 49.4C02",
    )
    customer = entries[ids["reply"]]
    assert customer.ticket_external_id == ticket_id
    assert (customer.visibility, customer.author) == (Visibility.PUBLIC, "Lee Park")
    assert customer.body == "Thanks, that worked."  # the quoted earlier reply is folded away
    assert customer.raw_body == reply and customer.raw_format == "text"
    assert customer.created_at == at and customer.updated_at == at
    internal = entries[ids["internal"]]
    assert (internal.visibility, internal.author) == (Visibility.INTERNAL, "Jo Kim")
    assert internal.body == "Checked the <b>firmware</b>"  # plain text: never parsed as markup
    system = entries[ids["system"]]
    assert (system.visibility, system.author) == (Visibility.SYSTEM, "Workflow")


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
async def test_hostile_note_text_and_authors_never_survive_as_escapes(hostile: str) -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", description=hostile, requester=hostile[:60] or "x"))
        emu.put_entry("a", entry("n", hostile, at=NOW, author=hostile[:60] or "x"))
        async with connector_for(emu) as cw:
            result = await cw.poll(None)
    (ticket,) = result.tickets
    assert ticket.description is None or not has_forbidden(ticket.description)
    texts: list[str] = []
    for found in result.entries:
        texts += [found.body, found.raw_body, found.author or ""]
    assert len({found.external_id for found in result.entries}) == 2
    assert all(not has_forbidden(text) for text in texts)
    assert all("\x1b" not in text and "\x9b" not in text for text in texts)


async def test_an_incremental_page_reads_only_changed_notes() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=10)
    window = now - timedelta(minutes=30)
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("old", description="Old problem", created_at=old, updated_at=old))
        emu.put_entry("old", entry("early", "Seen long ago", at=old + timedelta(hours=1)))
        emu.put_entry(
            "old", entry("late", "Any news?", at=now - timedelta(minutes=5), visibility="internal")
        )
        emu.put_ticket(
            world(
                "fresh",
                description="Fresh problem",
                created_at=now - timedelta(minutes=10),
                updated_at=now - timedelta(minutes=10),
            )
        )
        async with connector_for(emu) as cw:
            result = await cw.poll(incremental({"from": window.isoformat()}))
    tickets = {t.key: t for t in result.tickets}
    old_ticket = tickets[f"#{emu.ticket_id('old')}"]
    fresh = tickets[f"#{emu.ticket_id('fresh')}"]
    assert [e.body for e in result.entries if e.ticket_external_id == old_ticket.external_id] == [
        "Any news?"
    ]
    assert old_ticket.description is None  # not re-read: the description note did not change
    assert fresh.description == "Fresh problem"  # created inside the window: all its notes read
    sent = notes_requests(emu)
    assert len(sent) == 2
    for request in sent:
        assert request.param("conditions") == f"_info/lastUpdated >= [{window:%Y-%m-%dT%H:%M:%SZ}]"
        assert (request.param("orderBy"), request.param("pageSize")) == ("id asc", "1000")


async def test_a_changed_discussion_note_on_an_older_ticket_looks_up_the_first_one() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=10)
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(
            world("old", description="The original report", created_at=old, updated_at=old)
        )
        emu.put_entry("old", entry("reply", "Customer replied", at=now - timedelta(minutes=3)))
        async with connector_for(emu) as cw:
            result = await cw.poll(incremental({"from": (now - timedelta(minutes=30)).isoformat()}))
    (ticket,) = result.tickets
    assert ticket.description == "The original report"
    assert [e.body for e in result.entries] == ["Customer replied"]
    lookup = notes_requests(emu)[-1]
    assert lookup.param("conditions") == "detailDescriptionFlag = true"
    assert lookup.param("pageSize") == "1"
    assert len(notes_requests(emu)) == 2


async def test_notes_follow_the_next_link(monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.connectwise.connector as module

    monkeypatch.setattr(module, "NOTES_PAGE_SIZE", 2)
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", description="First"))
        for i in range(4):
            emu.put_entry("a", entry(f"n{i}", f"Note {i}", at=NOW - timedelta(minutes=9 - i)))
        async with connector_for(emu) as cw:
            result = await cw.poll(None)
    assert [e.body for e in result.entries] == ["First", "Note 0", "Note 1", "Note 2", "Note 3"]
    assert [r.param("page") for r in notes_requests(emu)] == ["1", "2", "3"]


async def test_without_read_notes_no_note_is_asked_for() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("a", description="First"))
        async with connector_for(emu, read_notes=False) as cw:
            result = await cw.poll(None)
    assert result.entries == () and result.tickets[0].description is None
    assert notes_requests(emu) == []


class FailingNotes(ConnectWiseEmulator):
    """Answers the notes request of one ticket with ``fault`` (``times`` times)."""

    def __init__(self, fault: Reply, times: int = 1) -> None:
        super().__init__()
        self.fault = fault
        self.times = times
        self.target = ""

    def route(self, request: Request) -> Reply:
        if request.path == self.target and self.times > 0:
            self.times -= 1
            return Reply(self.fault.status, self.fault.body, headers=dict(self.fault.headers))
        return super().route(request)


def notes_path(emu: ConnectWiseEmulator, ref: str) -> str:
    return f"{API_ROOT}/service/tickets/{emu.ticket_id(ref)}/notes"


async def test_a_short_429_in_the_fan_out_is_waited_out_and_retried() -> None:
    throttled = Reply(
        429, {"code": "TooManyRequests", "message": "Slow down"}, {"Retry-After": "0.05"}
    )
    with FailingNotes(throttled) as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", description=f"About {i}"))
        emu.target = notes_path(emu, "t3")
        async with connector_for(emu, page_size=6) as cw:
            result = await cw.poll(None)
    assert len(result.entries) == 6
    assert [r.path for r in notes_requests(emu)].count(emu.target) == 2


async def test_a_500_in_the_fan_out_fails_the_page_and_a_restart_finishes_it() -> None:
    broken = Reply(500, {"code": "InternalServerError", "message": "An error occurred"})
    with FailingNotes(broken) as emu:
        for i in range(6):
            emu.put_ticket(world(f"t{i}", description=f"About {i}"))
        emu.target = notes_path(emu, "t3")  # on the history walk's second page
        committed: list[PollResult] = []
        async with connector_for(emu, page_size=2) as cw:
            with pytest.raises(TransientError, match="HTTP 500"):
                async for page in cw.pages(None):
                    committed.append(page)
        phases = [p.progress.phase if p.progress else None for p in committed]
        assert phases.count("history") == 1  # the queue is in; the walk's first page too
        async with connector_for(emu, page_size=2) as cw:
            rest = [page async for page in cw.pages(committed[-1].cursor)]
    pages = committed + rest
    backfill = [p for p in pages if p.progress and p.progress.phase == "backfill"]
    seen = Counter(t.key for page in backfill for t in page.tickets)
    assert len(seen) == 6 and set(seen.values()) == {1}
    entries: list[ConversationEntry] = [e for page in pages for e in page.entries]
    assert sorted(e.body for e in entries) == [f"About {i}" for i in range(6)]
    reads = Counter(r.path for r in notes_requests(emu))
    assert reads[emu.target] == 2 and set(reads.values()) <= {1, 2}  # the failed page again


async def test_a_ticket_deleted_before_its_notes_are_read_is_no_failure() -> None:
    gone = Reply(404, {"code": "NotFound", "message": "Ticket recId 1 not found."})
    with FailingNotes(gone) as emu:
        emu.put_ticket(world("a", description="First"))
        emu.put_ticket(world("b", description="Second"))
        emu.target = notes_path(emu, "a")
        async with connector_for(emu) as cw:
            result = await cw.poll(None)
    assert len(result.tickets) == 2
    assert [e.body for e in result.entries] == ["Second"]


async def test_a_ticket_read_in_full_without_a_discussion_note_has_an_empty_description() -> None:
    with ConnectWiseEmulator() as emu:
        emu.put_ticket(world("quiet"))
        emu.put_ticket(world("internal-only"))
        emu.put_entry("internal-only", entry("n", "Agents only", at=NOW, visibility="internal"))
        async with connector_for(emu) as cw:
            pages = [page async for page in cw.pages(None)]
    backfill = [
        t for p in pages if p.progress and p.progress.phase == "backfill" for t in p.tickets
    ]
    assert [t.description for t in backfill] == [None, None]  # notes not read yet
    history = [t for p in pages if p.progress and p.progress.phase == "history" for t in p.tickets]
    assert [t.description for t in history] == ["", ""]  # known empty, not "not read"


async def test_the_backfill_lists_only_and_the_history_walk_reads_each_ticket_once() -> None:
    with ConnectWiseEmulator() as emu:
        keys = {emu.put_ticket(world(f"t{i:02}", description=f"About {i}")) for i in range(23)}
        polls: list[list[PollResult]] = []
        cursor = None
        for _ in range(5):  # 5 tickets a page, 2 walk pages a poll: three polls walk 23
            async with connector_for(emu, page_size=5, history_pages_per_poll=2) as cw:
                polls.append([page async for page in cw.pages(cursor)])
            cursor = polls[-1][-1].cursor
            assert cursor is not None
            if "history" not in cursor:
                break
        reads = Counter(r.path for r in notes_requests(emu))
        # A change after the walk: the incremental poll reads that ticket's new note inline.
        emu.put_entry("t04", entry("late", "One more thing", at=datetime.now(UTC)))
        async with connector_for(emu, page_size=5, history_pages_per_poll=2) as cw:
            later = [page async for page in cw.pages(cursor)]
    assert len(polls) == 3
    phases = [[p.progress.phase if p.progress else None for p in poll] for poll in polls]
    backfill = [p for p in polls[0] if p.progress and p.progress.phase == "backfill"]
    # The backfill: the count and one list request a page, no per-ticket request.
    assert sum(p.requests for p in backfill) == 1 + 5
    assert {t.key for p in backfill for t in p.tickets} == keys
    assert phases[0].count("history") == 2 and phases[1].count("history") == 2
    assert len(reads) == 23 and set(reads.values()) == {1}  # each ticket's notes exactly once
    history = [p for poll in polls for p in poll if p.progress and p.progress.phase == "history"]
    assert sorted(e.body for p in history for e in p.entries) == sorted(
        f"About {i}" for i in range(23)
    )
    assert history[-1].progress is not None and history[-1].progress.done == 23
    seen: set[str] = set()  # entries arrive after their tickets
    for page in [p for poll in polls for p in poll]:
        assert {e.ticket_external_id for e in page.entries} <= seen
        seen |= {t.external_id for t in page.tickets}
    new = [e.body for p in later for e in p.entries]
    assert new == ["One more thing"]
    assert all(p.progress and p.progress.phase == "incremental" for p in later if p.entries)

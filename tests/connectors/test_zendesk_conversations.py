"""Zendesk comments as conversation entries: backfill per ticket, polls from the event stream."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from connectors.emulators.base import Reply, Request, WorldAttachment, WorldEntry
from connectors.emulators.zendesk import (
    EVENTS_PATH,
    EXPORT_PATH,
    SEARCH_COUNT_PATH,
    SEARCH_EXPORT_PATH,
    SHOW_MANY_PATH,
    USERS_SHOW_MANY_PATH,
    ZendeskEmulator,
)
from connectors.records import ConversationEntry, PollResult, Visibility
from tests.connectors.test_zendesk import NOW, connector_for, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden

EARLIER = NOW - timedelta(days=2)


def comment_requests(emu: ZendeskEmulator) -> list[str]:
    return [r.path for r in emu.requests if r.path.endswith("/comments.json")]


def entries_of(result: PollResult) -> dict[str, ConversationEntry]:
    return {e.body: e for e in result.entries}


async def test_the_comment_walk_follows_the_stored_tickets_a_bounded_number_a_poll() -> None:
    with ZendeskEmulator() as emu:
        for i in range(5):
            emu.put_ticket(world(f"t{i}", updated_at=EARLIER))
            emu.put_entry(f"t{i}", WorldEntry(f"q{i}", "Maria Jensen", f"question {i}", EARLIER))
            emu.put_entry(f"t{i}", WorldEntry(f"a{i}", "Kim Lee", f"answer {i}", EARLIER))
        pages: list[PollResult] = []
        async with connector_for(emu, page_size=2, backfill_comments_per_poll=2) as zd:
            cursor = None
            for _ in range(4):
                async for page in zd.pages(cursor):
                    pages.append(page)
                    cursor = page.cursor
    stored: set[str] = set()
    for page in pages:  # every entry's ticket was committed on an earlier page
        assert {e.ticket_external_id for e in page.entries} <= stored
        stored |= {t.external_id for t in page.tickets}
    bodies = sorted(e.body for p in pages for e in p.entries)
    assert bodies == sorted([f"question {i}" for i in range(5)] + [f"answer {i}" for i in range(5)])
    walked = [r for r in emu.requests if r.path.endswith("/comments.json")]
    assert len(walked) == 5  # one request per ticket, each ticket once
    assert cursor is not None and cursor["incremental"]["comments"] is None  # the walk is done
    per_poll = [
        sum(r.path.endswith("/comments.json") for r in emu.requests[a:b])
        for a, b in zip(poll_starts(emu), [*poll_starts(emu)[1:], len(emu.requests)], strict=True)
    ]
    assert max(per_poll) <= 2


def poll_starts(emu: ZendeskEmulator) -> list[int]:
    """Where each poll began: its first request is a search count or the ticket export."""
    starts = [0]
    for i, request in enumerate(emu.requests[1:], start=1):
        before = emu.requests[i - 1].path
        if request.path == EXPORT_PATH and before != EXPORT_PATH:
            starts.append(i)
    return starts


async def test_visibility_authors_rich_text_and_attachments() -> None:
    html = (
        "<div class='zd-comment'><p>Printer <b>49.4C02</b> again.</p>"
        "<ul><li>reseated tray</li><li>power cycled</li></ul>"
        "<script>alert(1)</script></div>"
    )
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER, description="Cannot print"))
        emu.put_entry(
            "a",
            WorldEntry(
                "reply",
                "Kim Lee",
                "Printer 49.4C02 again.",
                EARLIER,
                visibility="public",
                html=html,
                attachments=(WorldAttachment("config.txt", 2048, "text/plain"),),
            ),
        )
        emu.put_entry(
            "a", WorldEntry("note", "Ana Ruiz", "Vendor ticket raised", EARLIER, "internal")
        )
        emu.put_entry("a", WorldEntry("auto", "Zendesk", "SLA reminder sent", EARLIER, "system"))
        async with connector_for(emu) as zd:
            result = await zd.poll(None)
    (ticket,) = result.tickets
    assert ticket.description == "Cannot print"
    entries = entries_of(result)
    reply = entries["Printer 49.4C02 again."]
    assert (reply.visibility, reply.author, reply.raw_format) == (
        Visibility.PUBLIC,
        "Kim Lee",
        "html",
    )
    assert "<b>49.4C02</b>" in reply.raw_body
    (attachment,) = reply.attachments
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "config.txt",
        2048,
        "text/plain",
    )
    assert attachment.url == f"{emu.base_url}/api/v2/attachments/{attachment.external_id}.json"
    native = emu.comments_of("a")[0]["attachments"][0]
    assert attachment.url != native["content_url"]  # never the payload's own link
    note = entries["Vendor ticket raised"]
    assert (note.visibility, note.author) == (Visibility.INTERNAL, "Ana Ruiz")
    auto = entries["SLA reminder sent"]
    assert (auto.visibility, auto.author) == (Visibility.SYSTEM, "Zendesk")
    assert all(e.ticket_external_id == ticket.external_id for e in result.entries)
    assert [e.external_id for e in result.entries] == [str(c["id"]) for c in emu.comments_of("a")]


async def test_quoted_email_history_is_folded_out_of_the_body() -> None:
    text = (
        "Thanks, that fixed it.\n\n"
        "On Mon, 30 Nov 2026 at 10:02, Kim Lee <kim@acme.example> wrote:\n"
        "> Please reseat the tray.\n> Kim"
    )
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER))
        emu.put_entry("a", WorldEntry("mail", "Maria Jensen", text, EARLIER))
        async with connector_for(emu) as zd:
            (entry,) = (await zd.poll(None)).entries
    assert entry.body == "Thanks, that fixed it."
    assert "Please reseat the tray." in entry.raw_body


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
async def test_hostile_comment_text_never_survives_as_escapes(text: str) -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER, description=text))
        emu.put_entry(
            "a",
            WorldEntry(
                "evil",
                text[:200] or "x",
                text,
                EARLIER,
                html=f"<p>{text}</p>",
                attachments=(WorldAttachment(text[:100] or "x", 1, "text/plain"),),
            ),
        )
        async with connector_for(emu) as zd:
            cursor = (first := await zd.poll(None)).cursor
            emu.put_entry("a", WorldEntry("evil-2", "Kim Lee", text, NOW))
            second = await zd.poll(cursor)
    for entry in (*first.entries, *second.entries):
        for value in (entry.body, entry.raw_body, entry.author or ""):
            assert not has_forbidden(value)
            assert "\x1b" not in value and "\x9b" not in value
        for attachment in entry.attachments:
            assert not has_forbidden(attachment.name)
    (ticket,) = first.tickets
    assert ticket.description is not None and not has_forbidden(ticket.description)
    assert len(second.entries) == 1


async def test_polls_read_new_comments_from_the_event_stream_only() -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER))
        emu.put_ticket(world("b", updated_at=EARLIER))
        emu.put_entry("a", WorldEntry("old", "Maria Jensen", "first words", EARLIER))
        async with connector_for(emu) as zd:
            first = await zd.poll(None)
            assert [e.body for e in first.entries] == ["first words"]
            backfill_comment_requests = len(comment_requests(emu))
            sent = len(emu.requests)

            emu.put_entry("b", WorldEntry("new", "Ola Nordmann", "a new reply", NOW))
            emu.put_entry("a", WorldEntry("old", "Maria Jensen", "first words, edited", NOW))
            second = await zd.poll(first.cursor)
    assert len(comment_requests(emu)) == backfill_comment_requests
    assert {(e.body, e.author) for e in second.entries} >= {
        ("a new reply", "Ola Nordmann"),
        ("first words, edited", "Maria Jensen"),
    }
    paths = [r.path for r in emu.requests[sent:]]
    assert EVENTS_PATH in paths and SEARCH_EXPORT_PATH not in paths
    assert paths.count(USERS_SHOW_MANY_PATH) == 1  # Ola was never sideloaded before
    events = next(r for r in emu.requests[sent:] if r.path == EVENTS_PATH)
    assert events.param("include") == "comment_events"
    cursor = second.cursor
    assert cursor is not None and cursor["incremental"]["events_from"] >= int(NOW.timestamp()) - 1


@pytest.mark.parametrize(
    ("mode", "backfill_comments", "event_reads"),
    [
        ("all", True, True),
        ("incremental", False, True),
        ("off", False, False),
    ],
)
async def test_conversations_setting(mode: str, backfill_comments: bool, event_reads: bool) -> None:
    with ZendeskEmulator() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER))
        emu.put_entry("a", WorldEntry("old", "Maria Jensen", "first words", EARLIER))
        async with connector_for(emu, conversations=mode) as zd:
            first = await zd.poll(None)
            emu.put_entry("a", WorldEntry("new", "Kim Lee", "later words", NOW))
            second = await zd.poll(first.cursor)
    assert bool(comment_requests(emu)) is backfill_comments
    assert any(r.path == EVENTS_PATH for r in emu.requests) is event_reads
    assert ("first words" in [e.body for e in first.entries]) is backfill_comments
    assert ("later words" in [e.body for e in second.entries]) is event_reads


async def test_requests_per_thousand_tickets() -> None:
    """The cost the report quotes: per 1,000 backfilled tickets, their comments, and a poll."""
    with ZendeskEmulator(account_rate_limit=10**6) as emu:  # counts, not a minute's pacing
        emu.put_tickets(world(f"t{i}", updated_at=EARLIER) for i in range(1000))
        async with connector_for(emu, backfill_comments_per_poll=1000) as zd:
            first = await zd.poll(None)
            first_export = next(i for i, r in enumerate(emu.requests) if r.path == EXPORT_PATH)
            backfill = Counter(r.path for r in emu.requests[:first_export])
            walk = Counter(r.path for r in emu.requests[first_export:])
            sent = len(emu.requests)
            for i in range(0, 1000, 2):  # 500 tickets get a reply
                emu.put_entry(f"t{i}", WorldEntry(f"r{i}", f"Agent {i % 7}", "on it", NOW))
            second = await zd.poll(first.cursor)
    assert len(first.tickets) == 1000
    # two counts, one search page per stage (the solved stage is empty), 10 x 100 ids
    assert backfill == {SEARCH_COUNT_PATH: 2, SEARCH_EXPORT_PATH: 2, SHOW_MANY_PATH: 10}
    # the walk: the search again, then one request per ticket for its comments (the
    # solved stage's search comes with the next poll: this one spent its 1,000 tickets)
    comments = sum(n for path, n in walk.items() if path.endswith("/comments.json"))
    assert comments == 1000 and walk[SEARCH_EXPORT_PATH] == 1
    assert walk[EXPORT_PATH] == walk[EVENTS_PATH] == 1
    assert len(second.tickets) == 500 and len(second.entries) == 500
    per_poll = [r.path for r in emu.requests[sent:]]
    # one export page of tickets, one page of events, one bulk lookup of the new authors,
    # and the walk's last (empty) stage
    assert per_poll == [EXPORT_PATH, EVENTS_PATH, USERS_SHOW_MANY_PATH, SEARCH_EXPORT_PATH]


class NoAuthorSideload(ZendeskEmulator):
    """A Zendesk whose comments ``users`` sideload names only e-mail CCs (as documented)."""

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        if request.path.endswith("/comments.json") and isinstance(reply.body, dict):
            reply.body["users"] = []
        return reply


async def test_comment_authors_missing_from_the_sideload_are_looked_up_in_bulk() -> None:
    with NoAuthorSideload() as emu:
        emu.put_ticket(world("a", updated_at=EARLIER))
        for i in range(3):
            emu.put_entry("a", WorldEntry(f"e{i}", f"Engineer {i}", f"step {i}", EARLIER))
        async with connector_for(emu) as zd:
            result = await zd.poll(None)
    assert sorted(e.author or "" for e in result.entries) == [f"Engineer {i}" for i in range(3)]
    lookups = [r for r in emu.requests if r.path == USERS_SHOW_MANY_PATH]
    assert len(lookups) == 1 and len((lookups[0].param("ids") or "").split(",")) == 3

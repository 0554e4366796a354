"""The whole ticket in the store: description, conversation entries, attachments, search.

Both backends: entries upserted by the vendor's ids in the page's
transaction, an entry that comes before its ticket kept and joined later,
the full-text index kept in the same transaction as every write, words and
ticket numbers found in titles, descriptions and conversations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import VendorConfig
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    PollResult,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from paneglass.store import PollRunInfo, SortKey, Store, TicketQuery, queries
from paneglass.store.search import Plan

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RUN = PollRunInfo(NOW, NOW, True, requests=1)


def ticket(n: int, **changes: object) -> TicketRecord:
    fields: dict[str, object] = {
        "external_id": f"ext-{n}",
        "key": f"INC{n:07d}",
        "title": f"ticket {n}",
        "status": TicketStatus.OPEN,
        "raw_status": "2",
        "priority": Priority.P3,
        "raw_priority": "3",
        "created_at": NOW - timedelta(hours=2),
        "updated_at": NOW - timedelta(minutes=n),
        "requester": "Maria Jensen",
    }
    fields.update(changes)
    return TicketRecord(**fields)  # type: ignore[arg-type]


def entry(n: int, ticket_n: int, body: str, **changes: object) -> ConversationEntry:
    fields: dict[str, object] = {
        "ticket_external_id": f"ext-{ticket_n}",
        "external_id": f"c{n}",
        "created_at": NOW - timedelta(minutes=60 - n),
        "visibility": Visibility.PUBLIC,
        "body": body,
        "author": "Ana Ruiz",
        "raw_format": "html",
        "raw_body": f"<p>{body}</p>",
    }
    fields.update(changes)
    return ConversationEntry(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = Store(any_db_url)
    s.sync_vendors([VendorConfig(name="hosting", kind="servicenow", base_url="http://127.0.0.1:1")])
    yield s
    s.close()


def only(store: Store, n: int) -> int:
    found = store.find_tickets(f"INC{n:07d}", 1)
    assert found, f"INC{n:07d} is not stored"
    return found[0][0]


def keys(store: Store, text: str) -> list[str]:
    query = TicketQuery(text=text)
    rows = store.ticket_window(query, 0, 50)
    assert store.ticket_count(query) == len(rows), text
    return sorted(row.key for row in rows)


def test_description_entries_and_files_are_kept_with_the_raw_format(store: Store) -> None:
    photo = AttachmentRecord("a1", "display.jpg", 48_213, "image/jpeg", "http://x/a1")
    page = PollResult(
        tickets=(ticket(1, description="Printer on 3F shows an error."),),
        entries=(
            entry(1, 1, "Can you send a photo of the panel?"),
            entry(2, 1, "Photo attached.", visibility=Visibility.PUBLIC, attachments=(photo,)),
            entry(3, 1, "Firmware 4.2 is known bad", visibility=Visibility.INTERNAL),
            entry(4, 1, "State changed to In Progress", visibility=Visibility.SYSTEM, author=None),
        ),
    )
    change = store.apply("hosting", page, RUN, NOW)
    assert change.entries == 4
    detail = store.ticket_detail(only(store, 1))
    assert detail is not None
    assert detail.description == "Printer on 3F shows an error."
    talk = [item.entry for item in detail.timeline if item.entry is not None]
    assert [(e.visibility, e.body) for e in talk] == [
        ("public", "Can you send a photo of the panel?"),
        ("public", "Photo attached."),
        ("internal", "Firmware 4.2 is known bad"),
        ("system", "State changed to In Progress"),
    ]
    assert talk[1].attachments[0].name == "display.jpg"
    assert talk[1].attachments[0].size == 48_213
    assert talk[1].attachments[0].content_type == "image/jpeg"
    assert talk[0].raw_format == "html"
    raw = list(store.iter_entries())
    assert raw[0]["raw_body"] == "<p>Can you send a photo of the panel?</p>"


def test_the_timeline_merges_entries_changes_and_actions_oldest_first(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1),)), RUN, NOW - timedelta(hours=1))
    store.apply(
        "hosting",
        PollResult(
            tickets=(ticket(1, status=TicketStatus.PENDING, updated_at=NOW),),
            entries=(entry(1, 1, "We need the serial number."),),
        ),
        RUN,
        NOW,
    )
    detail = store.ticket_detail(only(store, 1))
    assert detail is not None
    sources = [(item.source, item.text) for item in detail.timeline]
    assert ("conversation", "We need the serial number.") in sources
    assert ("vendor", "status: open → pending") in sources
    ats = [item.at for item in detail.timeline]
    assert ats == sorted(ats)


def test_reread_entries_change_nothing_and_edits_replace(store: Store) -> None:
    page = PollResult(tickets=(ticket(1),), entries=(entry(1, 1, "toner low"),))
    assert store.apply("hosting", page, RUN, NOW).entries == 1
    assert store.apply("hosting", page, RUN, NOW).entries == 0  # an overlap re-read
    edited = PollResult(
        entries=(entry(1, 1, "spooler restarted", updated_at=NOW + timedelta(minutes=1)),)
    )
    assert store.apply("hosting", edited, RUN, NOW).entries == 1
    assert len(list(store.iter_entries())) == 1
    assert keys(store, "spooler") == ["INC0000001"]
    assert keys(store, "toner") == []  # the index forgot the old text in the same commit


def test_an_entry_before_its_ticket_is_kept_and_joined_when_the_ticket_comes(store: Store) -> None:
    early = PollResult(entries=(entry(1, 7, "VLAN 40 is down again"),))
    assert store.apply("hosting", early, RUN, NOW).entries == 1
    assert [e["ticket_key"] for e in store.iter_entries()] == [None]  # kept, not lost
    assert keys(store, "vlan") == []
    store.apply("hosting", PollResult(tickets=(ticket(7),)), RUN, NOW)
    detail = store.ticket_detail(only(store, 7))
    assert detail is not None
    assert [i.entry.body for i in detail.timeline if i.entry] == ["VLAN 40 is down again"]
    assert keys(store, "vlan") == ["INC0000007"]


def test_a_description_not_read_this_time_is_kept(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket(1, description="First words."),)), RUN, NOW)
    later = ticket(1, description=None, updated_at=NOW, title="ticket 1 renamed")
    store.apply("hosting", PollResult(tickets=(later,)), RUN, NOW)
    detail = store.ticket_detail(only(store, 1))
    assert detail is not None and detail.description == "First words."
    assert keys(store, "words") == ["INC0000001"]


def test_the_fast_ingest_path_keeps_descriptions_entries_and_the_index(store: Store) -> None:
    """Store.apply ingests pages set-based (paneglass.store.ingest, per backend): a page of
    tickets and their replies is searchable by a reply's word as soon as it commits; a
    description read after its ticket (the ticket itself unchanged) is stored and indexed;
    a rewrite that does not carry the description keeps it."""
    page = PollResult(
        tickets=tuple(ticket(n) for n in range(1, 201)),
        entries=(entry(1, 150, "The fuser unit overheats after forty pages."),),
    )
    change = store.apply("hosting", page, RUN, NOW)
    assert (change.added, change.entries) == (200, 1)
    assert keys(store, "fuser") == ["INC0000150"]
    assert keys(store, "overheat forty") == ["INC0000150"]

    unchanged = ticket(20, description="Toner smears on the left edge.")
    change = store.apply("hosting", PollResult(tickets=(unchanged,)), RUN, NOW)
    assert (change.added, change.updated) == (0, 0)  # only its description was new
    assert keys(store, "smears") == ["INC0000020"]

    moved = ticket(20, status=TicketStatus.PENDING, updated_at=NOW)  # no description read
    assert store.apply("hosting", PollResult(tickets=(moved,)), RUN, NOW).updated == 1
    detail = store.ticket_detail(only(store, 20))
    assert detail is not None and detail.description == "Toner smears on the left edge."
    assert keys(store, "smears status:pending") == ["INC0000020"]

    edited = ticket(20, description="Toner replaced.", status=TicketStatus.PENDING, updated_at=NOW)
    store.apply("hosting", PollResult(tickets=(edited,)), RUN, NOW)
    assert keys(store, "smears") == [] and keys(store, "replaced") == ["INC0000020"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INC0000002", ["INC0000002"]),  # a ticket number
        ("INC00000", ["INC0000001", "INC0000002", "INC0000003"]),  # its beginning
        ("49.4C02", ["INC0000001", "INC0000003"]),  # an error code, in a title and in a reply
        ("4C02", ["INC0000001", "INC0000003"]),
        ("OPS-812", ["INC0000002"]),  # another vendor's key, written in a description
        ("812", ["INC0000002"]),
        ("print", ["INC0000001", "INC0000003"]),  # prefix: printer, printing
        ("spooler restarted", ["INC0000003"]),  # every word must match
        ("maria spooler", ["INC0000003"]),  # requester in the fields, word in a reply
        ("chloe", ["INC0000002"]),  # accents folded on SQLite, typed as written below
        ("-print", ["INC0000002"]),
        ("print -spooler", ["INC0000001"]),
        ("print status:pending", ["INC0000003"]),
        ("[/var]", ["INC0000002"]),  # brackets are no syntax
        ("100%", []),
    ],
)
def test_free_words_search_titles_descriptions_and_conversations(
    store: Store, any_db_url: str, text: str, expected: list[str]
) -> None:
    if text == "chloe" and any_db_url.startswith("postgresql"):
        text = "chloé"  # PostgreSQL's simple configuration keeps accents
    store.apply(
        "hosting",
        PollResult(
            tickets=(
                ticket(1, title="Cannot print, error code 49.4C02"),
                ticket(
                    2,
                    title="Disk [/var] full",
                    description="Linked to OPS-812, raised by Chloé Martin.",
                    requester="Omar Haddad",
                ),
                ticket(3, title="Jobs hang", status=TicketStatus.PENDING),
            ),
            entries=(
                entry(1, 3, "Printing fails with 49.4C02; spooler restarted at 10:02."),
                entry(2, 2, "Paper tray 2 replaced.", visibility=Visibility.SYSTEM),
            ),
        ),
        RUN,
        NOW,
    )
    assert keys(store, text) == expected


def test_matches_say_where_and_by_whom(store: Store) -> None:
    store.apply(
        "hosting",
        PollResult(
            tickets=(
                ticket(1, title="Cannot print"),
                ticket(2, title="Jobs hang", description="The spooler dies at 10:00."),
                ticket(3, title="Laptop dock"),
            ),
            entries=(
                entry(1, 3, "Old note about the spooler", visibility=Visibility.INTERNAL),
                entry(2, 3, "Spooler restarted, please test", author="Felix Braun"),
            ),
        ),
        RUN,
        NOW,
    )
    rows = {r.key: r for r in store.ticket_window(TicketQuery(text="spooler"), 0, 10)}
    assert set(rows) == {"INC0000002", "INC0000003"}
    reply = rows["INC0000003"].match
    assert reply is not None
    assert (reply.where, reply.author) == ("reply", "Felix Braun")  # the newest match wins
    assert reply.at == NOW - timedelta(minutes=58)
    assert [part for part, hit in reply.snippet if hit] == ["Spooler"]
    described = rows["INC0000002"].match
    assert described is not None and described.where == "description"
    titled = store.ticket_window(TicketQuery(text="print"), 0, 10)[0].match
    assert titled is not None and titled.where == "title"
    assert store.ticket_window(TicketQuery(text="status:open"), 0, 1)[0].match is None


def test_regular_expressions_reach_descriptions_not_conversations(store: Store) -> None:
    store.apply(
        "hosting",
        PollResult(
            tickets=(ticket(1, description="error 49.4C02"), ticket(2)),
            entries=(entry(1, 2, "error 49.4C03"),),
        ),
        RUN,
        NOW,
    )
    assert keys(store, r"/49\.4c0[0-9]/") == ["INC0000001"]


def test_the_sqlite_index_is_written_in_the_same_transaction(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.sync_vendors([VendorConfig(name="hosting", kind="servicenow", base_url="http://x")])
    bad = PollResult(
        tickets=(ticket(1, title="toner low"),),
        entries=(entry(1, 1, "spooler"),),
    )
    # A page that fails half-way leaves neither its rows nor its index entries.
    broken = PollResult(tickets=bad.tickets, entries=bad.entries, cursor={"x": object()})
    with pytest.raises(TypeError):
        store.apply("hosting", broken, RUN, NOW)
    assert store.ticket_count(TicketQuery(text="toner")) == 0
    assert store.ticket_count(TicketQuery(text="spooler")) == 0
    store.apply("hosting", bad, RUN, NOW)
    store.close()
    with sqlite3.connect(tmp_path / "test.db") as conn:  # FTS5's own consistency check
        conn.execute("INSERT INTO ticket_search(ticket_search) VALUES ('integrity-check')")
        hits = conn.execute(
            "SELECT rowid FROM ticket_search WHERE ticket_search MATCH 'spooler'"
        ).fetchall()
    assert hits == [(1,)]


@pytest.mark.parametrize("sort", [SortKey.UPDATED, SortKey.PRIORITY, SortKey.TITLE])
@pytest.mark.parametrize("descending", [True, False])
def test_every_search_plan_finds_the_same_window(
    store: Store, sort: SortKey, descending: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common word is answered by walking the sort index (testing each ticket against the
    list of matches, or asking the index about it); a rare one by sorting the matches. All
    give the same rows."""
    tickets = [
        ticket(
            n,
            title=f"{'Spooler stuck' if n % 3 == 0 else 'Printer offline'} on floor {n % 7}",
            priority=list(Priority)[n % 4],
            assignee=None if n % 5 == 0 else f"agent {n % 4}",
            updated_at=NOW - timedelta(minutes=n % 50),
            description="firmware 49.4C02 after update" if n % 40 == 1 else "printer queue",
        )
        for n in range(1, 241)
    ]
    replies = [entry(n, n, "spooler restarted, toner low") for n in range(1, 241, 11)]
    store.apply("hosting", PollResult(tickets=tuple(tickets), entries=tuple(replies)), RUN, NOW)
    for text in ("spooler", "printer", "firmware", "49.4C02", "spooler floor -status:closed"):
        query = TicketQuery(text=text, sort=sort, descending=descending)
        total = store.ticket_count(query)
        assert total > 0, text
        for offset in sorted({0, total // 2, max(total - 15, 0)}):
            windows = {}
            for plan in Plan:
                monkeypatch.setattr(queries, "search_plan", lambda *_, plan=plan: plan)
                windows[plan] = [r.id for r in store.ticket_window(query, offset, 15, total)]
            expected = windows[Plan.MATCHES_FIRST]
            assert len(expected) == min(15, total - offset)
            assert windows == dict.fromkeys(Plan, expected), (text, offset)


def test_the_plan_follows_how_many_tickets_match(db_url: str) -> None:
    store = Store(db_url)
    store.sync_vendors(
        [VendorConfig(name="hosting", kind="servicenow", base_url="http://127.0.0.1:1")]
    )
    page = [ticket(n) for n in range(1, 1001)]
    store.apply("hosting", PollResult(tickets=tuple(page)), RUN, NOW)
    query = TicketQuery(text="printer")
    try:
        with store.engine.connect() as conn:
            assert queries.search_plan(conn, query, 60, 950) is Plan.PROBE_WALK
            assert queries.search_plan(conn, query, 60, 300) is Plan.LIST_WALK
            assert queries.search_plan(conn, query, 60, 1) is Plan.LIST_WALK  # 60,000 steps
            assert queries.search_plan(conn, query, 60_000, 1) is Plan.MATCHES_FIRST
            assert queries.search_plan(conn, TicketQuery(), 60, 950) is Plan.MATCHES_FIRST
    finally:
        store.close()

"""IMAP sync against a real Dovecot: backfill, paging, incremental, resume, resync, flags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators._dovecot import DovecotServer
from connectors.records import PollResult, TicketStatus
from connectors.sync import BACKFILL, INCREMENTAL
from tests.connectors.test_imap_helpers import connector, drain, mail, running_dovecot

NOW = datetime.now(UTC)


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with running_dovecot() as running:
        yield running


def _entry_ids(pages: list[PollResult]) -> list[str]:
    return [e.external_id for page in pages for e in page.entries]


async def test_backfill_reads_unread_mail_of_any_age_and_recent_mail(
    server: DovecotServer,
) -> None:
    old = NOW - timedelta(days=400)
    server.append(mail("old, read", message_id="old-read@t"), flags=[r"\Seen"], when=old)
    server.append(mail("old, unread", message_id="old-unread@t"), when=old)
    server.append(mail("recent, read", message_id="recent@t"), flags=[r"\Seen"], when=NOW)
    imap = connector(server, backfill_days=30)
    pages, cursor = await drain(imap, None)
    assert sorted(_entry_ids(pages)) == ["old-unread@t", "recent@t"]
    assert {p.progress.phase for p in pages if p.progress} == {BACKFILL, INCREMENTAL}
    assert cursor["backfill"] is None
    assert cursor["incremental"]["uid"] == 3  # the hand-over is the folder's last UID
    again, _ = await drain(imap, cursor)
    assert _entry_ids(again) == []


async def test_pages_to_the_end_in_page_size_steps(server: DovecotServer) -> None:
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(25))
    imap = connector(server, page_size=4)
    pages, _ = await drain(imap, None)
    data = [p for p in pages if p.entries]
    assert len(data) == 7 and all(len(p.entries) <= 4 for p in data)
    assert _entry_ids(pages) == [f"m{i}@t" for i in range(25)]
    uids = [p.cursor["backfill"]["position"]["uid"] for p in data if p.cursor["backfill"]]
    assert uids == sorted(uids) and uids[-1] == 25


async def test_incremental_reads_only_new_mail(server: DovecotServer) -> None:
    server.append_many(mail(f"a{i}", message_id=f"a{i}@t") for i in range(3))
    imap = connector(server)
    _, cursor = await drain(imap, None)
    server.append_many(mail(f"b{i}", message_id=f"b{i}@t") for i in range(2))
    pages, cursor = await drain(imap, cursor)
    assert _entry_ids(pages) == ["b0@t", "b1@t"]
    assert {t.external_id for p in pages for t in p.tickets} == {"b0@t", "b1@t"}
    pages, _ = await drain(imap, cursor)
    assert _entry_ids(pages) == []


async def test_mail_arriving_during_the_backfill_is_read_next_whatever_its_date(
    server: DovecotServer,
) -> None:
    server.append_many(mail(f"a{i}", message_id=f"a{i}@t") for i in range(6))
    imap = connector(server, page_size=2)
    pages = imap.pages(None)
    first = await anext(pages)
    assert first.entries
    # A migrated, already-read mail dated a year back lands while the backfill runs:
    # no SINCE/UNSEEN search would find it, the UID hand-over does.
    server.append(
        mail("late", message_id="late@t"), flags=[r"\Seen"], when=NOW - timedelta(days=365)
    )
    rest = [page async for page in pages]
    cursor = rest[-1].cursor
    later, _ = await drain(imap, cursor)
    assert _entry_ids(later) == ["late@t"]
    assert "late@t" not in _entry_ids([first, *rest])


async def test_a_stopped_poll_resumes_from_its_last_page(server: DovecotServer) -> None:
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(12))
    imap = connector(server, page_size=3)
    pages = imap.pages(None)
    seen: list[str] = []
    cursor = None
    for _ in range(2):
        page = await anext(pages)
        seen += [e.external_id for e in page.entries]
        cursor = page.cursor  # committed with the page
    await pages.aclose()  # the collector stops here (killed, or stall_seconds)
    resumed, _ = await drain(connector(server, page_size=3), cursor)
    rest = _entry_ids(resumed)
    assert seen == [f"m{i}@t" for i in range(6)]
    assert rest == [f"m{i}@t" for i in range(6, 12)]  # nothing lost, nothing read twice


async def test_max_pages_ends_a_poll_and_the_next_goes_on(server: DovecotServer) -> None:
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(9))
    imap = connector(server, page_size=2, max_pages=2)
    cursor = None
    read: list[str] = []
    for _ in range(10):
        pages, cursor = await drain(imap, cursor)
        read += _entry_ids(pages)
        if cursor["backfill"] is None and not _entry_ids(pages):
            break
    assert read == [f"m{i}@t" for i in range(9)]


async def test_a_uidvalidity_change_resyncs_without_duplicates(server: DovecotServer) -> None:
    folder = "Vendor mail"
    messages = [mail(f"m{i}", message_id=f"m{i}@t", references=["root@t"]) for i in range(4)]
    server.append_many(messages, folder=folder)
    imap = connector(server, folder=folder)
    first, cursor = await drain(imap, None)
    before = cursor["incremental"]["uidvalidity"]
    # The folder is restored from a backup: same mail, new UIDVALIDITY, new UIDs.
    with server.client() as client:
        client.delete_folder(folder)
    server.append_many(
        [*messages, mail("m4", message_id="m4@t", references=["root@t"])], folder=folder
    )
    second, cursor = await drain(imap, cursor)
    after = cursor["incremental"]["uidvalidity"]
    assert after != before
    # The resync re-reads the folder: the same entry and item ids (upserts), plus the new one.
    assert sorted(_entry_ids(second)) == [f"m{i}@t" for i in range(5)]
    assert {t.external_id for p in [*first, *second] for t in p.tickets} == {"root@t"}
    urls = [t.url for p in second for t in p.tickets]
    assert urls and all(f"UIDVALIDITY={after}/" in (u or "") for u in urls)
    third, _ = await drain(imap, cursor)
    assert _entry_ids(third) == []


async def test_condstore_flag_changes_update_the_item_status(server: DovecotServer) -> None:
    server.append(mail("printer", message_id="p@t"))
    server.append(mail("other", message_id="o@t"))
    imap = connector(server)
    pages, cursor = await drain(imap, None)
    statuses = {t.external_id: t.status for p in pages for t in p.tickets}
    assert statuses == {"p@t": TicketStatus.NEW, "o@t": TicketStatus.NEW}
    modseq = cursor["incremental"]["modseq"]
    assert isinstance(modseq, int)
    with server.client() as client:
        client.select_folder("INBOX")
        client.add_flags([1], [r"\Seen", r"\Answered"])
    pages, cursor = await drain(imap, cursor)
    changed = [t for p in pages for t in p.tickets]
    assert [(t.external_id, t.status, t.raw_status) for t in changed] == [
        ("p@t", TicketStatus.PENDING, "answered")
    ]
    assert _entry_ids(pages) == []  # a flag change re-reads no body
    assert changed[0].updated_at > NOW
    assert cursor["incremental"]["modseq"] > modseq
    again, _ = await drain(imap, cursor)
    assert [t for p in again for t in p.tickets] == []


async def test_a_thread_spread_over_pages_is_one_item(server: DovecotServer) -> None:
    server.append(mail("Printer", message_id="root@t"))
    server.append_many(
        mail("Re: Printer", message_id=f"r{i}@t", references=["root@t"]) for i in range(5)
    )
    pages, _ = await drain(connector(server, page_size=2), None)
    items = [t for p in pages for t in p.tickets]
    assert {t.external_id for t in items} == {"root@t"}
    assert len(items) == 3  # one record per page it appears in (upserts)
    assert all(t.title == "Printer" for t in items)


async def test_a_big_folder_costs_the_same_per_page(server: DovecotServer) -> None:
    """UID SEARCH runs in windows: no request lists the whole folder, and expunged gaps are
    skipped in a few doubling steps."""
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(300))
    with server.client() as client:
        client.select_folder("INBOX")
        client.delete_messages(list(range(11, 291)))
        client.expunge()
    imap = connector(server, page_size=5)
    calls: list[int] = []
    original = imap._run

    async def counting(fn, *args):  # type: ignore[no-untyped-def]
        result = await original(fn, *args)
        if getattr(fn, "__name__", "") == "search":
            calls.append(len(result))
        return result

    imap._run = counting  # type: ignore[method-assign]
    pages, _ = await drain(imap, None)
    assert len(_entry_ids(pages)) == 20
    assert max(calls) <= 5 * 10  # a window is ten pages wide
    assert len(calls) <= 10


def _plain(i: int) -> bytes:
    return (
        f"From: Vendor {i % 7} <vendor{i % 7}@example.com>\n"
        f"Subject: Re: INC{i:07d} printer queue\n"
        f"Message-ID: <bulk{i}@t>\n"
        f"References: <thread{i % 1000}@t>\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"Update {i} on the print queue.\n"
    ).encode()


@pytest.mark.slow
async def test_twenty_thousand_mails_page_at_a_constant_cost(server: DovecotServer) -> None:
    """A folder of 20,000 messages: every page costs the same few IMAP calls, none of
    them lists the folder, and the last pages are no slower than the first."""
    total = 20_000
    server.deliver(_plain(i) for i in range(total))
    imap = connector(server, page_size=500, match={"hosting": "servicenow"})
    searches: list[int] = []
    original = imap._run

    async def counting(fn, *args):  # type: ignore[no-untyped-def]
        result = await original(fn, *args)
        if getattr(fn, "__name__", "") == "search":
            searches.append(len(result))
        return result

    imap._run = counting  # type: ignore[method-assign]
    read = 0
    durations: list[float] = []
    requests: list[int] = []
    last = time.monotonic()
    async for page in imap.pages(None):
        now = time.monotonic()
        if page.entries:
            durations.append(now - last)
            requests.append(page.requests)
        read += len(page.entries)
        last = now
    assert read == total
    assert max(searches) <= 500 * 10
    assert max(requests) <= 3  # headers and structure, then the one text section
    first, final = sorted(durations[:5])[2], sorted(durations[-5:])[2]
    assert final < first * 3 + 0.2

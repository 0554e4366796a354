"""ServiceNow comments, work notes and attachments, read with each page of incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2

from connectors.emulators.base import WorldAttachment, WorldEntry
from connectors.emulators.servicenow import ServiceNowEmulator
from connectors.records import ConversationEntry, Visibility
from tests.connectors.test_servicenow import connector_for, cursor_at, requests_to, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden

JOURNAL = "/api/now/table/sys_journal_field"
ATTACHMENTS = "/api/now/table/sys_attachment"


def fresh_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def by_id(entries: tuple[ConversationEntry, ...]) -> dict[str, ConversationEntry]:
    """Entries by id. A first sync may hand one on twice: once in the backfill, and again
    when the incremental phase re-reads the overlap before the backfill's start."""
    return {e.external_id: e for e in entries}


async def test_comments_notes_and_files_map_to_entries() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=2)))
        ticket = emu.sys_id_of("a")
        public = emu.put_entry(
            "a", WorldEntry("c1", "Dana Ortiz", "Rebooted the gateway.", now - timedelta(hours=3))
        )
        note = emu.put_entry(
            "a",
            WorldEntry(
                "n1",
                "Sam Po",
                "",
                now - timedelta(hours=2),
                visibility="internal",
                html="<p>Config diff:</p><ul><li>MTU 1400</li><li>DPD 30s</li></ul>",
                attachments=(WorldAttachment("diff.txt", 2048, "text/plain"),),
            ),
        )
        system = emu.put_entry(
            "a", WorldEntry("s1", "", "SLA warning sent", now - timedelta(hours=1), "system")
        )
        async with connector_for(emu) as connector:
            result = await connector.poll(None)
            files = [e for e in result.entries if e.attachments]
            download = await connector.client.get(files[0].attachments[0].url or "")

    entries = by_id(result.entries)
    first = entries[public]
    assert (first.ticket_external_id, first.visibility) == (ticket, Visibility.PUBLIC)
    assert (first.body, first.author, first.raw_format) == (
        "Rebooted the gateway.",
        "dana.ortiz",
        "text",
    )
    assert first.created_at == now - timedelta(hours=3)
    second = entries[note]
    assert second.visibility is Visibility.INTERNAL
    assert second.body == "Config diff:\n\n  * MTU 1400\n  * DPD 30s"
    assert second.raw_format == "html"
    assert second.raw_body.startswith("[code]<p>Config diff:</p>")
    assert entries[system].visibility is Visibility.SYSTEM
    assert entries[system].author == "system"
    (file_entry,) = files
    (attachment,) = file_entry.attachments
    assert file_entry.visibility is Visibility.SYSTEM
    assert file_entry.body == "Attachment added: diff.txt"
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "diff.txt",
        2048,
        "text/plain",
    )
    assert attachment.url == f"{emu.base_url}/api/now/attachment/{attachment.external_id}/file"
    assert download.status_code == 200 and len(download.content) == 2048


async def test_rich_text_becomes_safe_plain_text() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=1)))
        html = (
            "<script>alert(1)</script><p>See <a href='https://kb.example/42'>KB42</a>"
            " &amp; retry &lt;b&gt;</p>"
        )
        coded = emu.put_entry("a", WorldEntry("h", "Dana Ortiz", "", now, html=html))
        plain = emu.put_entry(
            "a", WorldEntry("p", "Dana Ortiz", "error <null> at [code]x", now, "internal")
        )
        async with connector_for(emu) as connector:
            entries = by_id((await connector.poll(None)).entries)

    assert entries[coded].body == "See [KB42](https://kb.example/42) & retry <b>"
    assert "alert" not in entries[coded].body
    assert entries[plain].body == "error <null> at [code]x"  # plain text is never parsed as HTML


async def test_hostile_comment_text_never_survives_as_escapes() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=1)))
        for index, text in enumerate(HOSTILE_STRINGS):
            emu.put_entry("a", WorldEntry(f"t{index}", text[:60] or "x", text, now))
            emu.put_entry(
                "a", WorldEntry(f"h{index}", "Dana Ortiz", "", now, html=f"<p>{text}</p>")
            )
        async with connector_for(emu) as connector:
            entries = (await connector.poll(None)).entries

    assert len(by_id(entries)) == 2 * len(HOSTILE_STRINGS)
    for entry in entries:
        for text in (entry.body, entry.raw_body, entry.author or ""):
            assert not has_forbidden(text), repr(text[:60])
    bodies = {e.body for e in entries}
    assert "[@click=app.quit]click me[/]" in bodies  # kept as plain text, shown as plain text


async def test_an_email_reply_keeps_only_the_new_part_in_the_body() -> None:
    now = fresh_now()
    reply = (
        "reply from: lee.park@acme.example\n\nWorks again, thanks!\n\n"
        "On Mon, 4 Mar 2025 at 09:00, ServiceNow wrote:\n> Please confirm the VPN works.\n"
    )
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=1)))
        sys_id = emu.put_entry("a", WorldEntry("r", "Lee Park", reply, now))
        async with connector_for(emu) as connector:
            entry = by_id((await connector.poll(None)).entries)[sys_id]
    assert entry.body == "reply from: lee.park@acme.example\n\nWorks again, thanks!"
    assert entry.raw_body == reply


async def test_description_is_plain_text() -> None:
    now = fresh_now()
    description = "VPN drops every 10 min.\r\n\r\n\r\nLog: <timeout>\n[code]<b>bold</b>[/code]"
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a", description=description, updated_at=now))
        blank = emu.put_ticket(world("b", updated_at=now))
        async with connector_for(emu) as connector:
            tickets = {t.key: t for t in (await connector.poll(None)).tickets}
    assert tickets[number].description == "VPN drops every 10 min.\n\nLog: <timeout>\n\nbold"
    assert tickets[blank].description is None


async def test_the_incremental_phase_reads_only_new_entries() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(days=3)))
        emu.put_ticket(world("quiet", updated_at=now - timedelta(days=3)))
        old = emu.put_entry("a", WorldEntry("old", "Dana Ortiz", "first", now - timedelta(days=3)))
        async with connector_for(emu) as connector:
            first = await connector.poll(None)
            assert old in by_id(first.entries)
            new = emu.put_entry("a", WorldEntry("new", "Lee Park", "still broken", fresh_now()))
            emu.requests.clear()
            second = await connector.poll(first.cursor)

    assert [e.external_id for e in second.entries] == [new]
    assert {t.external_id for t in second.tickets} == {emu.sys_id_of("a")}
    (journal,) = requests_to(emu, JOURNAL)
    assert "^sys_created_on>=" in (journal.param("sysparm_query") or "")


async def test_a_comment_written_back_is_read_in_the_next_poll() -> None:
    from connectors.actions import Action, ActionKind

    now = fresh_now()
    with ServiceNowEmulator() as emu:
        number = emu.put_ticket(world("a", updated_at=now - timedelta(days=1)))
        sys_id = emu.sys_id_of("a")
        async with connector_for(emu) as connector:
            first = await connector.poll(None)
            await connector.perform(
                Action(ActionKind.COMMENT, sys_id, number, text="On it", public=True)
            )
            second = await connector.poll(first.cursor)
    (entry,) = second.entries
    assert (entry.body, entry.visibility, entry.author) == (
        "On it",
        Visibility.PUBLIC,
        emu.username,
    )


async def test_conversations_can_be_turned_off() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now - timedelta(minutes=5)))
        emu.put_entry("a", WorldEntry("c", "Dana Ortiz", "hello", now - timedelta(minutes=5)))
        async with connector_for(emu, conversations="false") as connector:
            result = await connector.poll(cursor_at(now - timedelta(hours=1)))
    assert len(result.tickets) == 1 and result.entries == ()
    assert requests_to(emu, JOURNAL) == [] and requests_to(emu, ATTACHMENTS) == []


async def test_journal_rows_have_the_real_tables_keys() -> None:
    now = fresh_now()
    with ServiceNowEmulator() as emu:
        emu.put_ticket(world("a", updated_at=now))
        emu.put_entry("a", WorldEntry("c", "Dana Ortiz", "hello", now))
        async with httpx2.AsyncClient(
            base_url=emu.base_url, auth=(emu.username, emu.password)
        ) as client:
            answer = await client.get(JOURNAL, params={"sysparm_query": "element=comments"})
    (row,) = answer.json()["result"]
    assert set(row) == {
        "sys_id",
        "sys_created_on",
        "name",
        "element_id",
        "sys_tags",
        "value",
        "sys_created_by",
        "element",
    }
    assert (row["name"], row["element"], row["value"]) == ("incident", "comments", "hello")

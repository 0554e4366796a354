"""Jira comments and attachments as conversation entries: visibility, safe text, cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.actions import Action, ActionKind
from connectors.emulators.base import WorldAttachment, WorldEntry
from connectors.emulators.jira import JiraEmulator
from connectors.jira.mapping import attachment_record, comment_visibility, conversation
from connectors.records import ConversationEntry, Visibility
from tests.connectors.test_jira import NOW, by_key, connector_for, world
from tests.hostile import HOSTILE_STRINGS, has_forbidden

API = "https://acme.atlassian.net"
SCREENSHOT = WorldAttachment("printer.png", 48_213, "image/png")


def entries_of(entries: tuple[ConversationEntry, ...], ticket: str) -> list[ConversationEntry]:
    return [e for e in entries if e.ticket_external_id == ticket]


async def test_public_internal_and_system_entries_with_their_attachments() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", description="Printer on 3F shows 49.4C02.\nPlease help."))
        issue_id = emu.issue("a")["id"]
        asked = NOW - timedelta(hours=3)
        emu.put_entry(
            "a",
            WorldEntry("q", "Maria Jensen", "It fails again.", asked, attachments=(SCREENSHOT,)),
        )
        emu.put_entry(
            "a", WorldEntry("n", "Kim Lee", "VLAN 40 down?", asked + timedelta(hours=1), "internal")
        )
        emu.put_entry(
            "a",
            WorldEntry("s", "x", "Status changed by rule.", asked + timedelta(hours=2), "system"),
        )
        async with connector_for(emu) as jira:
            result = await jira.poll(None)
        ticket = by_key(result.tickets)[key]
        assert ticket.description == "Printer on 3F shows 49.4C02.\nPlease help."
        reply, note, notice = entries_of(result.entries, issue_id)
        assert (reply.visibility, reply.author, reply.created_at) == (
            Visibility.PUBLIC,
            "Maria Jensen",
            asked,
        )
        assert reply.body == "It fails again.\n[attachment printer.png]"
        assert reply.raw_format == "adf" and '"type":"doc"' in reply.raw_body
        (file,) = reply.attachments
        assert (file.name, file.size, file.content_type) == ("printer.png", 48_213, "image/png")
        assert file.url == f"{emu.base_url}/rest/api/3/attachment/content/{file.external_id}"
        assert (note.visibility, note.author, note.body) == (
            Visibility.INTERNAL,
            "Kim Lee",
            "VLAN 40 down?",
        )
        assert (notice.visibility, notice.author) == (Visibility.SYSTEM, "Automation for Jira")
        assert "comment" not in ticket.raw["fields"]


async def test_an_incremental_poll_reads_only_new_and_edited_comments() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a"))
        issue_id = emu.issue("a")["id"]
        for n in range(3):
            at = NOW - timedelta(hours=4 - n)
            emu.put_entry("a", WorldEntry(f"c{n}", "Kim Lee", f"note {n}", at, "internal"))
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            assert [e.body for e in first.entries] == ["note 0", "note 1", "note 2"]
            now = datetime.now(UTC)
            emu.put_entry("a", WorldEntry("c3", "Maria Jensen", "still broken", now))
            emu.put_entry("a", WorldEntry("c0", "Kim Lee", "note 0, corrected", now, "internal"))
            second = await jira.poll(first.cursor)
        assert [(e.body, e.ticket_external_id) for e in second.entries] == [
            ("note 0, corrected", issue_id),
            ("still broken", issue_id),
        ]
        edited = second.entries[0]
        assert edited.external_id == first.entries[0].external_id
        assert edited.updated_at is not None and edited.created_at < edited.updated_at


async def test_comments_beyond_what_a_search_carries_are_read_for_those_issues_only() -> None:
    with JiraEmulator(comment_field_cap=3) as emu:
        emu.put_ticket(world("long"))
        emu.put_ticket(world("short"))
        for n in range(7):
            at = NOW - timedelta(minutes=70 - n)
            emu.put_entry("long", WorldEntry(f"l{n}", "Kim Lee", f"step {n}", at))
        emu.put_entry("short", WorldEntry("s", "Kim Lee", "one", NOW - timedelta(minutes=5)))
        async with connector_for(emu) as jira:
            result = await jira.poll(None)
        read = [r for r in emu.requests if r.path.endswith("/comment")]
        assert [(r.path, dict(r.query)) for r in read] == [
            (
                f"/rest/api/3/issue/{emu.issue_key('long')}/comment",
                {"startAt": ["0"], "maxResults": ["100"], "orderBy": ["created"]},
            )
        ]
        long_id = emu.issue("long")["id"]
        assert [e.body for e in entries_of(result.entries, long_id)] == [
            f"step {n}" for n in range(7)
        ]
        assert len(entries_of(result.entries, emu.issue("short")["id"])) == 1


async def test_a_note_written_through_the_api_comes_back_as_an_internal_entry() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", updated_at=NOW - timedelta(hours=3)))
        issue_id = emu.issue("a")["id"]
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            for public, text in ((False, "Checked cabling"), (True, "On our way")):
                await jira.perform(Action(ActionKind.COMMENT, issue_id, key, text, public))
            second = await jira.poll(first.cursor)
        assert [(e.body, e.visibility, e.author) for e in second.entries] == [
            ("Checked cabling", Visibility.INTERNAL, "Desk Agent"),
            ("On our way", Visibility.PUBLIC, "Desk Agent"),
        ]


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
async def test_hostile_comment_text_names_and_files_never_survive(text: str) -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("a", description=text))
        hostile_file = WorldAttachment(text[:200] or "x", 1, "text/plain")
        at = NOW - timedelta(hours=1)
        emu.put_entry(
            "a", WorldEntry("c", text[:200] or "x", text, at, attachments=(hostile_file,))
        )
        async with connector_for(emu, service_desk=False) as jira:
            result = await jira.poll(None)
    (ticket,) = result.tickets
    (entry,) = result.entries
    for value in (ticket.description or "", entry.body, entry.author or "", entry.raw_body):
        assert not has_forbidden(value), repr(value[:80])
    assert not has_forbidden(entry.attachments[0].name)


def adf(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def comment(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "501",
        "author": {
            "accountId": "5b10ac8d0001",
            "displayName": "Kim Lee",
            "accountType": "atlassian",
        },
        "body": adf({"type": "paragraph", "content": [{"type": "text", "text": "hello"}]}),
        "created": "2025-03-04T09:00:00.000+0100",
        "updated": "2025-03-04T09:00:00.000+0100",
        "jsdPublic": True,
        **fields,
    }
    return values


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, Visibility.PUBLIC),
        ({"jsdPublic": False}, Visibility.INTERNAL),
        ({"visibility": {"type": "role", "value": "Administrators"}}, Visibility.INTERNAL),
        (
            {"properties": [{"key": "sd.public.comment", "value": {"internal": True}}]},
            Visibility.INTERNAL,
        ),
        (
            {"author": {"displayName": "Automation for Jira", "accountType": "app"}},
            Visibility.SYSTEM,
        ),
        (
            {"jsdPublic": False, "author": {"displayName": "Bot", "accountType": "app"}},
            Visibility.INTERNAL,
        ),
    ],
)
def test_comment_visibility(fields: dict[str, Any], expected: Visibility) -> None:
    assert comment_visibility(comment(**fields)) is expected


def test_rich_text_links_and_quoted_mail_become_plain_text() -> None:
    body = adf(
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "see "},
                {
                    "type": "text",
                    "text": "the runbook",
                    "marks": [{"type": "link", "attrs": {"href": "https://wiki.acme/pr"}}],
                },
            ],
        },
        {"type": "paragraph", "content": [{"type": "text", "text": "On Mon, Ana wrote:"}]},
        {
            "type": "blockquote",
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "is it the VLAN?"}]}
            ],
        },
    )
    (entry,) = conversation("1", [comment(body=body)], [], api_root=API)
    assert entry.body == "see the runbook [https://wiki.acme/pr]"
    assert "is it the VLAN?" in entry.raw_body


def test_attachment_urls_are_built_from_our_base_and_the_numeric_id_only() -> None:
    hostile = {
        "id": "10001",
        "filename": "a.png",
        "content": "https://evil.example/steal",
        "size": 5,
        "mimeType": "image/png",
    }
    record = attachment_record(hostile, API + "/")
    assert record is not None and record.url == f"{API}/rest/api/3/attachment/content/10001"
    odd = attachment_record({**hostile, "id": "../../logout"}, API)
    assert odd is not None and odd.url is None
    assert attachment_record({"filename": "no id"}, API) is None


def test_an_attachment_nobody_commented_with_is_an_entry_of_its_own() -> None:
    file = {
        "id": "7",
        "filename": "log.txt",
        "author": {"accountId": "5b10ac8d0002", "displayName": "Ana Ruiz"},
        "created": "2025-03-04T12:00:00.000+0100",
        "size": 10,
        "mimeType": "text/plain",
    }
    entries = conversation("1", [comment()], [file], api_root=API)
    assert [(e.external_id, e.visibility, e.body) for e in entries] == [
        ("501", Visibility.PUBLIC, "hello"),
        ("attachment-7", Visibility.SYSTEM, "Attached log.txt"),
    ]
    assert entries[1].author == "Ana Ruiz" and entries[1].attachments[0].name == "log.txt"
    since = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    assert [
        e.external_id for e in conversation("1", [comment()], [file], api_root=API, since=since)
    ] == ["attachment-7"]


def test_comments_without_an_id_or_a_time_are_skipped() -> None:
    kept = conversation(
        "1",
        [comment(id=None), comment(created="yesterday"), "junk", comment(id="9")],
        [],
        api_root=API,
    )
    assert [e.external_id for e in kept] == ["9"]

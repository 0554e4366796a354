"""IMAP mail as records: real captured mails through a real Dovecot, and the pure parts.

Captures: ``tests/connectors/captures/jira-notification-{created,changed,commented}.eml``
are three real Jira (jira.atlassian.com, April 2016) notification mails,
copied verbatim from the string constants ``NEW_ISSUE``, ``CHANGED_ISSUE`` and
``COMMENTED_ISSUE`` of ``digesters/jira/test_jira_notifications.py`` in
GitHub ``paul-hammant/imapdigester`` (commit 7d2d9525d39b1f3f839a219061180971404e4bb8,
MIT licence, © 2016 Paul Hammant). The first two are one thread (same
``References`` root), the third another issue's.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.emulators._dovecot import DovecotServer
from connectors.imap.mapping import Mailbox
from connectors.imap.mime import Leaf, decode_part, parse_structure
from connectors.imap.patterns import compile_rules, find_links, normalize_subject
from connectors.records import Priority, TicketStatus, Visibility
from tests.connectors.test_imap_helpers import connector, mail, running_dovecot

CAPTURES = Path(__file__).parent / "captures"
JIRA_ROOT = "JIRA.590899.1460652284000@Atlassian.JIRA"


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with running_dovecot() as running:
        yield running


def _capture(name: str) -> bytes:
    return (CAPTURES / f"jira-notification-{name}.eml").read_bytes()


# -- real captures through the real server ------------------------------------------------


async def test_jira_notifications_become_threads_entries_and_links(server: DovecotServer) -> None:
    for name in ("created", "changed", "commented"):
        server.append(_capture(name))
    imap = connector(server, match={"network": "jira"})
    result = await imap.poll(None)

    threads = {t.external_id: t for t in result.tickets}
    assert set(threads) == {JIRA_ROOT, "JIRA.590897.1460651689000@Atlassian.JIRA"}
    item = threads[JIRA_ROOT]
    assert item.title == "[JIRA] (HCPUB-579) Data payload for notification emails."
    assert item.requester == "Paul Hammant (JIRA) <jira@atlassian.com>"
    assert item.status is TicketStatus.NEW and item.raw_status == "unseen"
    assert item.key.startswith("M-") and len(item.key) == 10
    assert item.raw["kind"] == "mail"
    assert [(link["vendor"], link["key"]) for link in item.raw["links"]] == [
        ("network", "HCPUB-579")
    ]
    assert item.url is not None
    assert item.url.startswith(f"imap://127.0.0.1:{server.port}/INBOX;UIDVALIDITY=")

    entries = {e.external_id: e for e in result.entries}
    created = entries["JIRA.590899.1460652284000.68665.1460652300154@Atlassian.JIRA"]
    changed = entries["JIRA.590899.1460652284000.68708.1460652660083@Atlassian.JIRA"]
    assert created.ticket_external_id == changed.ticket_external_id == JIRA_ROOT
    assert created.visibility is Visibility.PUBLIC
    assert created.author == "Paul Hammant (JIRA) <jira@atlassian.com>"
    assert created.raw_format == "html" and created.raw_body.lstrip().startswith("<!DOCTYPE")
    assert "created an issue" in created.body and "<td" not in created.body
    assert "Can you awesome folks add a text/json multipart" in created.body
    assert "updated an issue" in changed.body
    assert not created.attachments


async def test_plain_text_is_preferred_and_attachments_are_metadata(server: DovecotServer) -> None:
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40
    server.append(
        mail(
            "Printer log",
            message_id="log@acme",
            body="Log attached.\n",
            html="<p>Log <b>attached</b> (html).</p>",
            attachments=[
                ("printer-log.pdf", "application/pdf", pdf),
                ("café.txt", "text/plain", b"x"),
            ],
        )
    )
    result = await connector(server).poll(None)
    (entry,) = result.entries
    assert entry.body == "Log attached." and entry.raw_format == "text"
    names = {a.name: a for a in entry.attachments}
    assert set(names) == {"printer-log.pdf", "café.txt"}
    log = names["printer-log.pdf"]
    assert log.content_type == "application/pdf"
    assert log.size is not None and abs(log.size - len(pdf)) < len(pdf) * 0.03
    assert log.url is not None and log.url.endswith("/;UID=1/;SECTION=2")
    assert log.external_id == "log@acme/2"


async def test_html_only_mail_is_converted_to_text(server: DovecotServer) -> None:
    message = mail("html", message_id="h@acme", body="x")
    message = message.replace(b"Content-Type: text/plain", b"Content-Type: text/html")
    message = message.replace(b"\n\nx\n", b"\n\n<p>Dear desk,<br>the <b>toner</b> is empty.</p>\n")
    server.append(message)
    (entry,) = (await connector(server).poll(None)).entries
    assert entry.raw_format == "html"
    assert "the toner is empty." in entry.body and "<b>" not in entry.body


async def test_quoted_reply_is_folded_away_but_kept_raw(server: DovecotServer) -> None:
    body = (
        "It works again, thanks.\n\n"
        "On Mon, 7 Dec 2026 at 09:00, Desk <desk@acme.example> wrote:\n"
        "> Please power-cycle the printer.\n> Regards\n"
    )
    server.append(mail("Re: printer", message_id="r@acme", body=body))
    (entry,) = (await connector(server).poll(None)).entries
    assert entry.body == "It works again, thanks."
    assert "power-cycle" in entry.raw_body


async def test_threads_by_references_then_in_reply_to(server: DovecotServer) -> None:
    server.append(mail("Printer", message_id="root@acme"))
    server.append(mail("Re: Printer", message_id="r1@acme", references=["root@acme"]))
    server.append(mail("Re: Printer", message_id="r2@acme", references=["root@acme", "r1@acme"]))
    server.append(mail("Re: Printer", message_id="r3@acme", in_reply_to="root@acme"))
    server.append(mail("Re: Re: Printer", message_id="r4@acme", in_reply_to="r2@acme"))
    result = await connector(server).poll(None)
    thread_of = {e.external_id: e.ticket_external_id for e in result.entries}
    assert thread_of == {
        "root@acme": "root@acme",
        "r1@acme": "root@acme",
        "r2@acme": "root@acme",
        "r3@acme": "root@acme",
        "r4@acme": "r2@acme",  # In-Reply-To only, to a reply: its own item, parent kept
    }
    by_id = {t.external_id: t for t in result.tickets}
    assert by_id["root@acme"].title == "Printer"
    (parent,) = [m["parents"] for m in by_id["r2@acme"].raw["messages"]]
    assert parent == ["r2@acme"]


async def test_a_mail_without_message_id_has_a_stable_id(server: DovecotServer) -> None:
    server.append(mail("no id", body="anonymous\n"))
    first = await connector(server).poll(None)
    second = await connector(server).poll(None)
    (one,), (two,) = first.entries, second.entries
    assert one.external_id == two.external_id and one.external_id.startswith("sha256:")
    assert one.ticket_external_id == one.external_id


async def test_a_long_body_is_cut_at_max_body_bytes(server: DovecotServer) -> None:
    text = "".join(f"line {i:06d} of a very long log\n" for i in range(20_000))
    raw = mail("long", message_id="long@acme", body="x")
    encoded = base64.encodebytes(text.encode()).decode()
    raw = raw.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: base64")
    raw = raw.replace(b"\n\nx\n", ("\n\n" + encoded).encode())
    server.append(raw)
    (entry,) = (await connector(server, max_body_bytes=4096).poll(None)).entries
    assert entry.raw_body.startswith("line 000000 of a very long log")
    assert len(entry.raw_body) <= 4096
    assert entry.body.endswith("[… cut at 4,096 bytes]")
    assert "\ufffd" not in entry.raw_body


async def test_flags_and_importance_set_status_and_priority(server: DovecotServer) -> None:
    server.append(mail("a", message_id="a@t"))
    server.append(mail("b", message_id="b@t"), flags=[r"\Seen"])
    server.append(mail("c", message_id="c@t"), flags=[r"\Seen", r"\Answered"])
    server.append(mail("d", message_id="d@t"), flags=[r"\Deleted"])
    server.append(mail("e", message_id="e@t", headers={"X-Priority": "1 (Highest)"}))
    server.append(mail("f", message_id="f@t"), flags=[r"\Flagged", r"\Seen"])
    imap = connector(server, priority_map={"high": "P2", "flagged": "P1"})
    tickets = {t.external_id: t for t in (await imap.poll(None)).tickets}
    assert {k: (t.status, t.raw_status) for k, t in tickets.items()} == {
        "a@t": (TicketStatus.NEW, "unseen"),
        "b@t": (TicketStatus.OPEN, "seen"),
        "c@t": (TicketStatus.PENDING, "answered"),
        "d@t": (TicketStatus.CLOSED, "deleted"),
        "e@t": (TicketStatus.NEW, "unseen"),
        "f@t": (TicketStatus.OPEN, "seen"),
    }
    assert (tickets["e@t"].raw_priority, tickets["e@t"].priority) == ("high", Priority.P2)
    assert (tickets["f@t"].raw_priority, tickets["f@t"].priority) == ("flagged", Priority.P1)
    assert tickets["a@t"].priority is None


async def test_entries_are_ordered_by_arrival_not_by_the_senders_date(
    server: DovecotServer,
) -> None:
    arrived = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    server.append(
        mail("late", message_id="late@t", date=arrived + timedelta(days=300)), when=arrived
    )
    (entry,) = (await connector(server).poll(None)).entries
    assert entry.created_at == arrived
    (ticket,) = (await connector(server).poll(None)).tickets
    (summary,) = ticket.raw["messages"]
    assert summary["date"].startswith("2027-09-27")


async def test_subject_links_every_configured_vendor_once(server: DovecotServer) -> None:
    server.append(
        mail(
            "RE: INC0012231 / [#48211] / Ticket #1811523 / T20261201.0042 [JIRA] (OPS-812)",
            message_id="x@t",
        )
    )
    server.append(mail("Re: INC0012231 again", message_id="y@t", references=["x@t"]))
    match = {
        "hosting": "servicenow",
        "desktop": "zendesk",
        "app-partner": "connectwise",
        "msp": "autotask",
        "network": "jira",
    }
    (ticket,) = (await connector(server, match=match).poll(None)).tickets
    assert [(link["vendor"], link["key"]) for link in ticket.raw["links"]] == [
        ("hosting", "INC0012231"),
        ("desktop", "#48211"),
        ("app-partner", "#1811523"),
        ("msp", "T20261201.0042"),
        ("network", "OPS-812"),
    ]
    assert ticket.title.startswith("INC0012231 / [#48211] / Ticket #1811523")


# -- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "subject", "keys"),
    [
        ("servicenow", "Re: INC0012231 printer", ["INC0012231"]),
        ("servicenow", "RITM0001234 and CHG0030001", ["RITM0001234", "CHG0030001"]),
        ("servicenow", "INC12 too short, XINC0012231 glued", []),
        ("servicenow:INC", "CHG0030001 only INC0000001", ["INC0000001"]),
        ("zendesk", "[#48211] Cannot print", ["#48211"]),
        ("zendesk", "Update on Request #48211", ["#48211"]),
        ("zendesk", "#48211 bare number", []),
        ("jira", "[JIRA] (OPS-812) VLAN", ["OPS-812"]),
        ("jira", "[Jira] (SIN-4905) case varies", ["SIN-4905"]),
        ("jira", "OPS-812 without the tag, UTF-8", []),
        ("jira:OPS,NET", "OPS-812 and NET-3 but not UTF-8", ["OPS-812", "NET-3"]),
        ("autotask", "[Ticket #T20260101.0001] toner", ["T20260101.0001"]),
        ("connectwise", "Service Ticket #1811523 - printer", ["#1811523"]),
        ("connectwise", "[Ticket#: 12345] OTRS hook", []),
    ],
)
def test_builtin_patterns(spec: str, subject: str, keys: list[str]) -> None:
    rules = compile_rules({"v": spec})
    assert [link.key for link in find_links(rules, subject)] == keys


def test_custom_pattern_shapes_the_key() -> None:
    rules = compile_rules({"print-fleet": {"pattern": r"\[#(?:INC|SR)-(\d+)\]", "key": "#{}"}})
    (link,) = find_links(rules, "Ticket Received - [#INC-4412]")
    assert (link.vendor, link.key, link.pattern) == ("print-fleet", "#4412", "custom")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("salesforce", "unknown pattern 'salesforce'"),
        ("jira:OPS-1", "not a prefix or project key"),
        ({"pattern": "INC\\d+"}, "needs a \\(group\\)"),
        ({"pattern": "("}, "not a regular expression"),
        ({"pattern": "(\\d+)", "key": "no slot"}, "one \\{\\}"),
        ({"pattern": "(\\d+)", "flags": "i"}, "unknown key"),
        (42, "must be a pattern name or a table"),
    ],
)
def test_bad_patterns_name_the_vendor(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^desktop: .*{message}"):
        compile_rules({"desktop": spec})


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: Fwd: AW: printer", "printer"),
        ("RE[2]: SV: printer", "printer"),
        ("[EXTERNAL] Re: printer", "printer"),
        ("Report: printer", "Report: printer"),
        ("Re:", ""),
    ],
)
def test_reply_prefixes_are_dropped_from_titles(subject: str, title: str) -> None:
    assert normalize_subject(subject) == title


def test_truncated_base64_and_quoted_printable_lose_only_the_cut_tail() -> None:
    leaf = Leaf("1", "text/plain", "utf-8", "base64", 100, None, None)
    encoded = base64.b64encode("café au lait".encode())
    assert decode_part(encoded[:10], leaf, truncated=True) == "café "  # 8 of 10 chars: 6 bytes
    qp = Leaf("1", "text/plain", "utf-8", "quoted-printable", 100, None, None)
    assert decode_part(b"caf=C3=A9 =C3", qp, truncated=True) == "café "
    unknown = Leaf("1", "text/plain", "x-klingon", "7bit", 1, None, None)
    assert decode_part(b"x", unknown, truncated=False) == "x"


def test_structure_picks_plain_text_and_skips_text_attachments() -> None:
    utf8 = (b"charset", b"utf-8")
    structure = (
        [
            (b"text", b"plain", utf8, None, None, b"7bit", 10, 1, None,
             (b"attachment", (b"filename", b"notes.txt")), None, None),
            (
                [
                    (b"text", b"plain", utf8, None, None, b"7bit", 5, 1, None, None, None, None),
                    (b"text", b"html", utf8, None, None, b"7bit", 9, 1, None, None, None, None),
                ],
                b"alternative", None, None, None, None,
            ),
            (b"image", b"png", (b"name", b"=?utf-8?q?sch=C3=A9ma.png?="), None, None,
             b"base64", 780, None, (b"inline", None), None, None),
        ],
        b"mixed", None, None, None, None,
    )  # fmt: skip
    parsed = parse_structure(structure)
    assert parsed.body is not None and parsed.body.section == "2.1"
    assert [(a.section, a.filename) for a in parsed.attachments] == [
        ("1", "notes.txt"),
        ("3", "schéma.png"),
    ]


def test_imap_urls_are_built_from_config_and_encode_the_folder() -> None:
    box = Mailbox("mail.acme.example", 993, "Support/Vendor mail é", 42)
    assert box.url(7, "2") == (
        "imap://mail.acme.example:993/Support%2FVendor%20mail%20%C3%A9;UIDVALIDITY=42/;UID=7/;SECTION=2"
    )
    assert Mailbox("::1", 143, "INBOX", 1).url(3) == "imap://[::1]/INBOX;UIDVALIDITY=1/;UID=3"

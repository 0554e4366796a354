"""Shared pieces of the IMAP tests (a real Dovecot on 127.0.0.1), and the server's own checks.

Every IMAP test that needs a server runs Debian's Dovecot through
:class:`connectors.emulators._dovecot.DovecotServer`. Where the binary is
missing the tests skip — except under ``CI``, where they fail and say what to
install (``apt-get install -y dovecot-imapd``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from connectors import VendorConfig, load_connector
from connectors.emulators._dovecot import INSTALL_HINT, DovecotServer, find_dovecot
from connectors.imap import ImapConnector
from connectors.records import Cursor, PollResult


def require_dovecot() -> None:
    """Skip without Dovecot; under CI, fail instead (CI must run the IMAP tests)."""
    if find_dovecot() is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the IMAP tests against Dovecot, which is missing: {INSTALL_HINT}")
    pytest.skip(f"no dovecot binary ({INSTALL_HINT})")


@contextmanager
def running_dovecot(**options: Any) -> Iterator[DovecotServer]:
    """A fresh server for one test."""
    require_dovecot()
    server = DovecotServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def connector(server: DovecotServer, name: str = "mail", **settings: Any) -> ImapConnector:
    """The IMAP connector on ``server``, built the way the collector builds it."""
    section = server.vendor_settings(**settings)
    kind = section.pop("kind")
    config = VendorConfig(name, kind, server.base_url, settings=section)
    cls = load_connector(kind)
    built = cls(config, cls.make_client(config))
    assert isinstance(built, ImapConnector)
    return built


def mail(
    subject: str,
    *,
    sender: str = "Kim Lee <kim.lee@acme.example>",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    body: str = "Hello,\nthe printer still shows 49.4C02.\n",
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """An RFC 5322 message (``attachments``: (file name, content type, bytes))."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "servicedesk@acme.example"
    message["Subject"] = subject
    if message_id is not None:
        message["Message-ID"] = f"<{message_id}>"
    if in_reply_to is not None:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references)
    if date is not None:
        message["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


async def drain(imap: ImapConnector, cursor: Cursor | None) -> tuple[list[PollResult], Cursor]:
    """Every page of one poll, and the cursor after the last."""
    pages = [page async for page in imap.pages(cursor)]
    assert pages, "a poll yields at least one page"
    final = pages[-1].cursor
    assert final is not None
    return pages, final


# -- the server itself ---------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with running_dovecot() as running:
        yield running


def test_dovecot_offers_what_the_connector_uses(server: DovecotServer) -> None:
    with server.client() as client:
        capabilities = set(client.capabilities())
    assert {b"CONDSTORE", b"QRESYNC", b"UIDPLUS", b"ENABLE", b"IDLE"} <= capabilities


def test_append_returns_uids_and_keeps_flags_and_arrival(server: DovecotServer) -> None:
    when = datetime(2026, 1, 5, 9, 30).astimezone()
    first = server.append(mail("one", message_id="1@t"), flags=[r"\Seen"], when=when)
    second = server.append(mail("two", message_id="2@t"))
    assert (first, second) == (1, 2)
    with server.client() as client:
        client.select_folder("INBOX", readonly=True)
        client.normalise_times = False
        answer = client.fetch([1], ["FLAGS", "INTERNALDATE"])
    assert b"\\Seen" in answer[1][b"FLAGS"]
    assert answer[1][b"INTERNALDATE"] == when


def test_a_restart_keeps_the_folder_and_its_uidvalidity(server: DovecotServer) -> None:
    server.append(mail("kept", message_id="k@t"))
    with server.client() as client:
        before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    server.restart()
    with server.client() as client:
        answer = client.select_folder("INBOX")
    assert answer[b"UIDVALIDITY"] == before and answer[b"EXISTS"] == 1


def test_missing_dovecot_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tests.connectors.test_imap_helpers.find_dovecot", lambda: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="dovecot-imapd"):
        require_dovecot()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_dovecot()

"""IMAP failures give clear errors and lose nothing; hostile mail never survives; settings.

IMAP has no HTTP status codes: the faults here are the mailbox world's own —
a server that is down, one that goes away mid-poll, one that never answers,
one that answers something that is not IMAP, a refused login, a server at its
connection limit (the closest thing to a 429: Dovecot's ``[LIMIT]``), a folder
that does not exist.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from email.header import Header

import pytest

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind, UnsupportedAction
from connectors.emulators._dovecot import DovecotServer
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.imap import ImapConnector
from connectors.imap.settings import ImapSettings
from tests.connectors.test_imap_helpers import connector, drain, mail, running_dovecot
from tests.hostile import HOSTILE_STRINGS, has_forbidden

PASSWORD = "s3cret-Imap-Pw"


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with running_dovecot(users={"desk": PASSWORD}) as running:
        yield running


def _connector_at(url: str, **settings: object) -> ImapConnector:
    section = {"username": "desk", "password": PASSWORD, "starttls": False, **settings}
    config = VendorConfig("mail", "imap", url, settings=section)
    return ImapConnector(config, ImapConnector.make_client(config))


class _FakeServer:
    """A TCP server on loopback that greets with ``greeting`` (or never speaks)."""

    def __init__(self, greeting: bytes | None) -> None:
        self.greeting = greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        self.clients.append(client)
        if self.greeting is not None:
            client.sendall(self.greeting)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.listener.close()
        self.thread.join(timeout=5)


# -- the server is down, goes away, never answers, or is not IMAP ------------------------------


async def test_a_server_that_is_down_is_a_transient_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError, match=rf"127\.0\.0\.1:{port} \(connect\).*refused"):
        await _connector_at(f"imap://127.0.0.1:{port}").check()


async def test_a_server_that_never_greets_times_out_quickly() -> None:
    silent = _FakeServer(None)
    try:
        imap = _connector_at(f"imap://127.0.0.1:{silent.port}", timeout_seconds=0.5)
        started = time.monotonic()
        with pytest.raises(TransientError, match="no answer"):
            await imap.check()
        assert time.monotonic() - started < 5
    finally:
        silent.close()


async def test_a_server_that_is_not_imap_is_a_clear_error() -> None:
    web = _FakeServer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        with pytest.raises(BadPayload, match=r"did not greet as an IMAP server.*HTTP/1\.1 400"):
            await _connector_at(f"imap://127.0.0.1:{web.port}", timeout_seconds=2).check()
    finally:
        web.close()


async def test_a_server_lost_mid_poll_loses_nothing(server: DovecotServer) -> None:
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(10))
    imap = connector(server, page_size=2)
    pages = imap.pages(None)
    first = await anext(pages)
    cursor = first.cursor  # committed with its page
    server.stop(keep_mail=True)  # the mail server goes down between two pages
    with pytest.raises(TransientError, match=r"lost|cannot talk"):
        async for _ in pages:
            pass
    server.start()  # back, on a new port; the folder and its UIDs are kept
    rest, _ = await drain(connector(server, page_size=2), cursor)
    read = [e.external_id for e in first.entries] + [e.external_id for p in rest for e in p.entries]
    assert read == [f"m{i}@t" for i in range(10)]


async def test_a_refused_login_is_an_auth_error_without_the_password(
    server: DovecotServer,
) -> None:
    with pytest.raises(AuthError, match="AUTHENTICATIONFAILED") as caught:
        await connector(server, password="wrong-" + PASSWORD).check()
    assert PASSWORD not in str(caught.value)


async def test_a_server_at_its_connection_limit_is_rate_limited() -> None:
    with running_dovecot(users={"desk": PASSWORD}, max_connections=1) as server:
        # another mail client holds the only connection
        with server.client(), pytest.raises(RateLimited, match=r"\[LIMIT\]") as caught:
            await connector(server).check()
        assert caught.value.retry_after is None  # IMAP has no Retry-After: the scheduler backs off
        assert "ok" in await connector(server).check()


async def test_a_missing_folder_is_a_configuration_error(server: DovecotServer) -> None:
    with pytest.raises(ConfigurationError, match="folder 'Vendor mail' does not exist"):
        await connector(server, folder="Vendor mail").check()


async def test_a_stuck_call_is_cut_at_the_deadline(server: DovecotServer) -> None:
    server.append(mail("x", message_id="x@t"))
    imap = connector(server, timeout_seconds=1)

    released = threading.Event()

    def stuck(*_: object) -> list[int]:
        released.wait(30)
        return []

    async with imap._session() as (session, _snap):
        session.search = stuck  # type: ignore[method-assign]
        started = time.monotonic()
        try:
            with pytest.raises(TransientError, match="no answer within"):
                await imap._run(session.search, ["ALL"])
            assert time.monotonic() - started < 9  # timeout_seconds + 5 s of grace
        finally:
            released.set()  # the abandoned thread ends now, not at loop shutdown 30 s later


# -- hostile mail ----------------------------------------------------------------------------


def _encoded(text: str) -> str:
    return Header(text, "utf-8").encode().replace("\n ", " ")  # unfolded: one header line


async def test_hostile_text_never_survives_in_any_record(server: DovecotServer) -> None:
    for i, text in enumerate(HOSTILE_STRINGS):
        # A lone surrogate cannot be written in a mail; its UTF-8-ish bytes can.
        hostile = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        server.append(
            mail(
                _encoded(f"INC00{i:05d} {hostile}"),
                sender=f"{_encoded(hostile[:60])} <evil{i}@example.com>",
                message_id=f"h{i}@t",
                body=f"{hostile}\n",
                html=f"<p>{hostile}</p><script>alert(1)</script>",
                attachments=[(_encoded(hostile[:80]), "application/octet-stream", b"data")],
            )
        )
    imap = connector(server, match={"hosting": "servicenow"})
    result = await imap.poll(None)
    assert len(result.entries) == len(HOSTILE_STRINGS)
    for ticket in result.tickets:
        for value in (ticket.title, ticket.requester or "", ticket.raw_status, ticket.url or ""):
            assert not has_forbidden(value), value
        assert "\n" not in ticket.title
        assert ticket.url is not None and ticket.url.startswith(f"imap://127.0.0.1:{server.port}/")
    for entry in result.entries:
        assert not has_forbidden(entry.body) and not has_forbidden(entry.raw_body)
        assert not has_forbidden(entry.author or "")
        for attachment in entry.attachments:
            assert not has_forbidden(attachment.name)
            assert attachment.url is not None and attachment.url.startswith("imap://127.0.0.1")
    titles = " ".join(t.title for t in result.tickets)
    assert "\x1b" not in titles and "\u202e" not in titles


async def test_hostile_message_ids_and_headers_stay_bounded(server: DovecotServer) -> None:
    long_id = "x" * 3000 + "@example.com"
    raw = (
        f"From: =?utf-8?q?=1B]52;c;ZXZpbA=3D=3D=07?= <a@b>\n"
        f"Subject: =?bogus?x?broken?= word\n"
        f"Message-ID: <{long_id}>\n"
        f"References: <\x1b[2J@evil> <{long_id}>\n"
        f"Content-Type: multipart/mixed; boundary=never-closed\n\n--never-closed\n"
    ).encode()
    server.append(raw)
    result = await connector(server).poll(None)
    (ticket,) = result.tickets
    (entry,) = result.entries
    assert len(entry.external_id) <= 250 and entry.external_id.startswith("sha256:")
    assert not has_forbidden(ticket.external_id) and not has_forbidden(ticket.requester or "")
    assert ticket.title == "=?bogus?x?broken?= word"


# -- settings, dry runs and secrets ------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"page_size": 0}, "page_size:"),
        ({"page_size": 5000}, "page_size:"),
        ({"folder": "x" * 501}, "folder:"),
        ({"timeout_seconds": -1}, "timeout_seconds:"),
        ({"match": {"desktop": "nope"}}, "match:.*desktop: unknown pattern"),
        ({"match": "zendesk"}, "match:"),
        ({"pagesize": 10}, "unknown setting 'pagesize'"),
        ({"password": ""}, "needs username\\+password or username\\+oauth_token"),
    ],
)
def test_settings_errors_name_the_key(settings: dict[str, object], message: str) -> None:
    section = {"username": "desk", "password": PASSWORD, **settings}
    with pytest.raises(ConfigurationError, match=message) as caught:
        ImapSettings.parse("mail", "imap", section)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://mail.acme.example",
        "imaps://",
        "imaps://mail.acme.example/INBOX",
        "imaps://desk:pw@mail.acme.example",
        "imaps://mail.acme.example:99999",
    ],
)
def test_base_url_must_be_an_imap_server(url: str) -> None:
    config = VendorConfig("mail", "imap", url, settings={"username": "d", "password": "p"})
    with pytest.raises(ConfigurationError, match="base_url"):
        load_connector("imap").validate(config)


def test_imap_urls_choose_tls() -> None:
    for url, settings, expected in [
        ("imaps://mail.acme.example", {}, ("mail.acme.example", 993, "implicit")),
        ("imap://mail.acme.example", {"starttls": True}, ("mail.acme.example", 143, "starttls")),
        ("imap://127.0.0.1:1143", {"starttls": False}, ("127.0.0.1", 1143, "none")),
    ]:
        imap = _connector_at(url, **settings)
        endpoint = imap.endpoint
        assert (endpoint.host, endpoint.port, endpoint.tls) == expected


def test_no_credential_in_repr_dry_run_or_plan_error() -> None:
    imap = _connector_at("imaps://mail.acme.example", oauth_token="tok-" + PASSWORD)
    assert PASSWORD not in repr(imap.settings) and PASSWORD not in repr(imap.config)
    action = Action(kind=ActionKind.COMMENT, ticket_id="root@t", ticket_key="M-1", text="hi")
    with pytest.raises(UnsupportedAction) as caught:
        ImapConnector.plan_action(imap.config, action)
    assert PASSWORD not in str(caught.value)
    assert imap.supported_actions == frozenset()


async def test_no_credential_in_connection_errors() -> None:
    imap = _connector_at("imap://127.0.0.1:1", timeout_seconds=1)
    with pytest.raises(ConnectorError) as caught:
        await imap.check()
    assert PASSWORD not in str(caught.value) and "desk" not in str(caught.value)


async def test_a_stopped_poll_closes_its_connection(server: DovecotServer) -> None:
    server.append_many(mail(f"m{i}", message_id=f"m{i}@t") for i in range(6))
    imap = connector(server, page_size=2)
    pages = imap.pages(None)
    await anext(pages)
    await pages.aclose()
    await asyncio.sleep(0.2)
    # Dovecot's log records the session's end once the socket closed.
    assert "Disconnected" in server.log_tail(50)

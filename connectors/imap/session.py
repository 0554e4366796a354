"""One IMAP connection, blocking, with every failure mapped onto the connector error tree.

The client is imapclient (BSD-3, maintained; it parses FETCH, BODYSTRUCTURE
and SELECT answers and speaks CONDSTORE, ENABLE, STARTTLS and XOAUTH2). It is
synchronous, so :class:`Session` is used from a worker thread: the connector
calls each method through ``asyncio.to_thread`` under a deadline, and
:meth:`Session.abort` (safe from any thread) shuts the socket down so a
stuck call ends at once.

imapclient 4.1 filters a FETCH answer by the message ids it was given as
integers, so a range such as ``5:*`` can no longer be fetched; the connector
always searches for UIDs first (``UID SEARCH UID a:b …``) and fetches those
(a list works on 3.x and 4.x alike).

Errors (never carrying a credential; server text is cleaned and shortened):

* refused login → :class:`AuthError`; ``[UNAVAILABLE]``/``[LIMIT]``/
  ``[THROTTLED]`` or "too many connections" → :class:`RateLimited` (no
  Retry-After in IMAP: the scheduler backs off);
* refused connection, timeout, dropped connection, ``BYE`` → :class:`TransientError`;
* a greeting or answer that is not IMAP → :class:`BadPayload`;
* a folder that does not exist → :class:`ConfigurationError`;
* a certificate that does not verify → :class:`ConnectorError` (retrying will not help).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient import exceptions as imap_errors

from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.imap.settings import ImapSettings
from connectors.sanitize import clean_text, one_line
from connectors.settings import secret

__all__ = ["Endpoint", "Session", "Snapshot"]

T = TypeVar("T")

_BUSY = ("[UNAVAILABLE]", "[LIMIT]", "[THROTTLED]", "MAXIMUM NUMBER OF CONNECTIONS", "TOO MANY")


@dataclass(frozen=True)
class Endpoint:
    """Where the mailbox is: from ``base_url`` (``imaps://host:993`` or ``imap://host:143``)."""

    host: str
    port: int
    tls: Literal["implicit", "starttls", "none"]

    @classmethod
    def parse(cls, vendor: str, base_url: str, settings: ImapSettings) -> Endpoint:
        """The endpoint, or a :class:`ConfigurationError` naming ``base_url``."""
        try:
            url = urlsplit(base_url.strip())
            port = url.port
        except ValueError:
            raise ConfigurationError(f"vendor {vendor!r}: base_url is not a URL") from None
        if url.scheme not in ("imap", "imaps") or not url.hostname:
            raise ConfigurationError(
                f"vendor {vendor!r}: base_url must be imaps://host[:993] or imap://host[:143]"
            )
        if url.path not in ("", "/") or url.query or url.username or url.password:
            raise ConfigurationError(
                f"vendor {vendor!r}: base_url is only imaps://host:port "
                "(the folder and the login are settings of their own)"
            )
        if url.scheme == "imaps":
            return cls(url.hostname, port or 993, "implicit")
        return cls(url.hostname, port or 143, "starttls" if settings.starttls else "none")


@dataclass(frozen=True)
class Snapshot:
    """What EXAMINE said about the folder."""

    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int | None
    """``None``: no CONDSTORE (server or mailbox), so flag changes cannot be asked for."""


class Session:
    """One login to one folder, read-only (EXAMINE: nothing is marked seen or expunged)."""

    def __init__(self, vendor: str, endpoint: Endpoint, settings: ImapSettings) -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        self.settings = settings
        self._client: IMAPClient | None = None
        self._lock = threading.Lock()
        self._aborted = False
        self.condstore = False

    # -- the blocking calls (run in a worker thread) -----------------------------------

    def open(self) -> Snapshot:
        """Connect, secure, log in, enable CONDSTORE where offered, EXAMINE the folder."""
        client = self._call("connect", self._connect)
        caps = {c.upper() for c in self._call("capability", client.capabilities)}
        if b"CONDSTORE" in caps:
            if b"ENABLE" in caps:
                self._call("enable", client.enable, "CONDSTORE")
            self.condstore = True
        answer = self._call("examine", client.select_folder, self.settings.folder, True)
        return self._snapshot(answer)

    def uidnext(self) -> int:
        """``STATUS folder (UIDNEXT)``: for servers whose EXAMINE leaves UIDNEXT out."""
        client = self._require()
        answer = self._call("status", client.folder_status, self.settings.folder, [b"UIDNEXT"])
        return _int(answer.get(b"UIDNEXT"), "UIDNEXT")

    def search(self, criteria: Sequence[Any]) -> list[int]:
        """``UID SEARCH`` → the UIDs, ascending."""
        client = self._require()
        found = self._call("search", client.search, list(criteria))
        return sorted(int(uid) for uid in found)

    def fetch(
        self, uids: Sequence[int], items: Sequence[str], modifiers: Sequence[str] | None = None
    ) -> dict[int, dict[bytes, Any]]:
        """``UID FETCH`` of a list of UIDs; answers keyed by UID."""
        if not uids:
            return {}
        client = self._require()
        answer = self._call("fetch", client.fetch, list(uids), list(items), modifiers)
        return {int(uid): data for uid, data in answer.items()}

    def logout(self) -> None:
        """Say goodbye; a failure here loses nothing."""
        client = self._client
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the server may already have gone; the socket closes anyway
            pass
        finally:
            self._close_socket()

    # -- any thread -------------------------------------------------------------------

    def abort(self) -> None:
        """Shut the socket down now (a stuck call in another thread ends with an error)."""
        self._aborted = True
        self._close_socket()

    # -- inside ------------------------------------------------------------------------

    def _connect(self) -> IMAPClient:
        endpoint, settings = self.endpoint, self.settings
        context = ssl.create_default_context()
        if not settings.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        client = IMAPClient(
            endpoint.host,
            port=endpoint.port,
            ssl=endpoint.tls == "implicit",
            ssl_context=context,
            timeout=settings.timeout_seconds,
        )
        client.normalise_times = False  # keep INTERNALDATE's zone: records are UTC
        with self._lock:
            self._client = client
        if self._aborted:
            raise TransientError("IMAP session stopped")
        if endpoint.tls == "starttls":
            client.starttls(context)
        password = secret(settings.password)
        if password is not None:
            client.login(settings.username, password)
        else:
            client.oauth2_login(settings.username, secret(settings.oauth_token) or "")
        return client

    def _snapshot(self, answer: dict[bytes, Any]) -> Snapshot:
        uidvalidity = _int(answer.get(b"UIDVALIDITY"), "UIDVALIDITY")
        uidnext_value = answer.get(b"UIDNEXT")
        uidnext = _int(uidnext_value, "UIDNEXT") if uidnext_value is not None else self.uidnext()
        modseq = answer.get(b"HIGHESTMODSEQ")
        highest = int(modseq) if self.condstore and isinstance(modseq, int) else None
        exists = answer.get(b"EXISTS")
        return Snapshot(
            uidvalidity=uidvalidity,
            uidnext=uidnext,
            exists=int(exists) if isinstance(exists, int) else 0,
            highestmodseq=highest,
        )

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise TransientError("IMAP session is not open")
        return self._client

    def _close_socket(self) -> None:
        with self._lock:
            client = self._client
        if client is None:
            return
        try:
            sock = client.socket()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        except Exception:  # already closed
            pass

    def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """Run one client call; every failure becomes a :class:`ConnectorError`."""
        try:
            return fn(*args)
        except ConnectorError:
            raise
        except Exception as exc:
            raise self._translate(what, exc) from None

    def _translate(self, what: str, exc: Exception) -> ConnectorError:
        """The connector error for a failed ``what`` (see the module docstring)."""
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        stopped = " (stopped)" if self._aborted else ""
        if isinstance(exc, imap_errors.LoginError):
            text = _server_text(exc)
            if _busy(text):
                return RateLimited(f"IMAP server busy: {text}", retry_after=None, http_status=None)
            return AuthError(f"IMAP login refused by {where}: {text}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ConnectorError(
                f"TLS certificate of {where} not accepted: {exc.verify_message or 'unverified'} "
                "(tls_verify = false only for a test server)"
            )
        if isinstance(exc, TimeoutError):
            return TransientError(
                f"IMAP {what}: no answer from {where} within {self.settings.timeout_seconds:g} s"
            )
        if isinstance(exc, imap_errors.IMAPClientAbortError):
            text = _server_text(exc)
            if what == "connect" and "unexpected response" in text:
                return BadPayload(f"{where} did not greet as an IMAP server: {text}")
            if _busy(text):
                return RateLimited(f"IMAP server busy: {text}", retry_after=None, http_status=None)
            return TransientError(f"IMAP connection to {where} lost during {what}{stopped}: {text}")
        if isinstance(exc, imap_errors.ProtocolError):
            return BadPayload(f"IMAP {what}: {where} answered outside the protocol: {_text(exc)}")
        if isinstance(exc, imap_errors.IMAPClientError):
            text = _server_text(exc)
            if what == "connect":
                return BadPayload(f"{where} did not greet as an IMAP server: {text}")
            if _busy(text):
                return RateLimited(f"IMAP server busy: {text}", retry_after=None, http_status=None)
            if what == "examine" and "EXIST" in text.upper():
                return ConfigurationError(
                    f"vendor {self.vendor!r}: folder {self.settings.folder!r} "
                    f"does not exist on {where}"
                )
            return ConnectorError(f"IMAP {what} refused by {where}: {text}")
        if isinstance(exc, ssl.SSLError):
            return TransientError(f"TLS with {where} failed during {what}: {_text(exc)}")
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
            return TransientError(f"cannot talk to IMAP {where} ({what}){stopped}: {reason}")
        if isinstance(exc, ValueError | IndexError | KeyError | TypeError | UnicodeError):
            return BadPayload(f"IMAP {what}: unreadable answer from {where}: {_text(exc)}")
        return ConnectorError(f"IMAP {what} with {where} failed: {type(exc).__name__}")


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise BadPayload(f"IMAP EXAMINE answer without a valid {what}")


def _text(exc: BaseException) -> str:
    return one_line(clean_text(str(exc)), 200) or type(exc).__name__


def _server_text(exc: BaseException) -> str:
    """The server's words from an imaplib/imapclient error (``b'...'`` unwrapped)."""
    args = exc.args[0] if exc.args else ""
    if isinstance(args, bytes):
        text = args.decode("utf-8", "replace")
    else:
        text = str(args)
        if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
            text = text[2:-1]
    return one_line(clean_text(text), 200) or type(exc).__name__


def _busy(text: str) -> bool:
    upper = text.upper()
    return any(sign in upper for sign in _BUSY)

"""A real Dovecot IMAP server on 127.0.0.1, for the IMAP connector's tests and the demo.

The IMAP connector has no emulator: its tests and demo mode run the real
server Debian ships (package ``dovecot-imapd``, Dovecot 2.3), so CONDSTORE,
QRESYNC, THREAD, UIDPLUS, IDLE and every answer's wire format are Dovecot's
own (capabilities seen on 2.3.19: IMAP4rev1 … THREAD=REFERENCES … CONDSTORE
QRESYNC … MOVE). This module is not an emulator of a vendor wire format — it
writes a config and starts the binary — so it has no capture comparison
(hence the underscore: ``tests/connectors/test_emulators_match_captures.py``
compares only emulator modules).

:class:`DovecotServer` writes a throw-away config into a fresh folder under
the system temp dir and runs ``dovecot -F`` ("rootless": every Dovecot
process runs as one user, the login and internal users included, chroots
off; the approach of Dovecot's HowTo/Rootless page, as used by other test
harnesses; U: the Dovecot wiki itself was not read). As root (CI) that user
is ``nobody``, which needs no account of its own; otherwise the current
user. It listens on a free unprivileged port, plain text only
(``disable_plaintext_auth = no``: loopback), authenticates users from a
passwd-file with plain passwords, and keeps Maildir folders in the temp dir.

Mail goes in with IMAP APPEND (:meth:`DovecotServer.append`), the way a
demo world or a test adds a vendor's e-mail: any RFC 5322 bytes, with flags
and an arrival time (INTERNALDATE).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]

__all__ = ["DovecotMissing", "DovecotServer", "find_dovecot"]

INSTALL_HINT = "apt-get install -y dovecot-imapd"
"""Debian's package: it brings dovecot-core and the imap/imap-login binaries."""


class DovecotMissing(RuntimeError):
    """No ``dovecot`` binary on this machine."""


def find_dovecot() -> str | None:
    """The ``dovecot`` binary, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_fsync = never
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_max_userip_connections = {max_connections}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class DovecotServer:
    """A throw-away Dovecot on loopback: ``with DovecotServer() as server: …``."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        max_connections: int = 20,
    ) -> None:
        self.users = users or {"desk": "desk-password"}
        self.max_connections = max_connections
        self.port = 0
        self.root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- life ---------------------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Write the config and start the server; returns once it accepts connections."""
        binary = find_dovecot()
        if binary is None:
            raise DovecotMissing(f"no dovecot binary: {INSTALL_HINT}")
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="paneglass-dovecot-"))
            for sub in ("run", "state", "mail"):
                (self.root / sub).mkdir()
            lines = "".join(
                f"{name}:{{PLAIN}}{password}\n" for name, password in self.users.items()
            )
            (self.root / "passwd").write_text(lines)
        account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        user, uid, gid = account.pw_name, account.pw_uid, account.pw_gid
        group = _group_name(gid)
        self.port = _free_port()
        (self.root / "dovecot.conf").write_text(
            _CONFIG.format(
                root=self.root,
                user=user,
                group=group,
                port=self.port,
                max_connections=self.max_connections,
            )
        )
        if os.geteuid() == 0:
            for path in (self.root, *self.root.rglob("*")):
                os.chown(path, uid, gid)
        log = open(self.root / "stdout.log", "ab")  # noqa: SIM115 - kept open for the process
        try:
            self._process = subprocess.Popen(
                [binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=uid if os.geteuid() == 0 else None,
                group=gid if os.geteuid() == 0 else None,
                start_new_session=True,
            )
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start: {self.log_tail()}")
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log_tail()}")

    def stop(self, *, keep_mail: bool = False) -> None:
        """Stop the server (its master and children); the mail stays while ``keep_mail``."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # The master and every process it started (logins, imap sessions) are one
            # process group of ours: a stop drops open sessions, as a crashed server would.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # a session that outlived its master
            # Dovecot's children leave with their master; wait for the port to be free.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self._listening():
                time.sleep(0.05)
        if not keep_mail and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def restart(self) -> None:
        """Stop and start again on a new port, keeping every folder and its UIDs."""
        self.stop(keep_mail=True)
        self.start()

    def _listening(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def log_tail(self, lines: int = 20) -> str:
        """The end of Dovecot's own log (for a failing test's message)."""
        if self.root is None:
            return ""
        text = ""
        for name in ("dovecot.log", "stdout.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- use ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"imap://127.0.0.1:{self.port}"

    def vendor_settings(self, user: str | None = None, **extra: Any) -> dict[str, Any]:
        """A ``[vendors.NAME]`` section for the IMAP connector, as TOML would give it."""
        name = user or next(iter(self.users))
        return {
            "kind": "imap",
            "username": name,
            "password": self.users[name],
            "starttls": False,
            **extra,
        }

    @contextlib.contextmanager
    def client(self, user: str | None = None) -> Iterator[Any]:
        """A logged-in IMAPClient (for putting mail in and changing flags)."""
        name = user or next(iter(self.users))
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        try:
            client.login(name, self.users[name])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self,
        message: bytes | str,
        *,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        when: datetime | None = None,
        user: str | None = None,
    ) -> int:
        """APPEND one message (LF or CRLF lines); return its UID (UIDPLUS)."""
        return self.append_many([message], folder=folder, flags=flags, when=when, user=user)[0]

    def append_many(
        self,
        messages: Iterable[bytes | str],
        *,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        when: datetime | None = None,
        user: str | None = None,
    ) -> list[int]:
        """APPEND several messages over one connection; their UIDs, in order."""
        uids: list[int] = []
        flag_list = list(flags)
        with self.client(user) as client:
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            for message in messages:
                data = message.encode() if isinstance(message, str) else message
                data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                answer = client.append(folder, data, flags=flag_list, msg_time=when)
                uids.append(_appended_uid(answer))
        return uids

    def deliver(self, messages: Iterable[bytes | str], *, user: str | None = None) -> int:
        """Drop messages straight into the user's INBOX Maildir (``new/``), as a local
        delivery agent would: thousands a second, where APPEND manages tens. Dovecot
        gives them UIDs, in file-name order, the next time the folder is opened.
        Returns how many were written."""
        if self.root is None:
            raise RuntimeError("the server is not started")
        name = user or next(iter(self.users))
        maildir = self.root / "mail" / name
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        owner = os.stat(self.root)
        stamp = int(time.time())
        count = 0
        for count, message in enumerate(messages, start=1):
            data = message.encode() if isinstance(message, str) else message
            path = maildir / "new" / f"{stamp}.P{count:09d}.paneglass"
            path.write_bytes(data.replace(b"\r\n", b"\n"))
            if os.geteuid() == 0:
                os.chown(path, owner.st_uid, owner.st_gid)
        if os.geteuid() == 0:
            for path in (maildir, maildir / "new", maildir / "cur", maildir / "tmp"):
                os.chown(path, owner.st_uid, owner.st_gid)
        return count


def _appended_uid(answer: bytes) -> int:
    """The UID from ``[APPENDUID <uidvalidity> <uid>] …``."""
    text = answer.decode("ascii", "replace") if isinstance(answer, bytes) else str(answer)
    if "APPENDUID" not in text:
        return 0
    return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)

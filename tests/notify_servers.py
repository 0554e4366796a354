"""Real receivers on 127.0.0.1 for the notification channels' tests.

* :class:`WebhookReceiver`: an HTTP server that records every POST (body and
  ``Idempotency-Key``) and answers 200 (or what the test asks).
* :class:`SmtpReceiver`: aiosmtpd with STARTTLS (a throwaway CA from
  ``trustme``) and AUTH required, recording every message.

Run ``python -m tests.notify_servers 9000`` to watch a webhook by hand (the
README's demo recipe): each POST is printed as one line.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["SmtpReceiver", "WebhookReceiver"]


class WebhookReceiver:
    """Records POSTs on 127.0.0.1."""

    def __init__(self, port: int = 0, *, status: int = 200, echo: bool = False) -> None:
        self.posts: list[tuple[str | None, dict[str, Any]]] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.posts.append((self.headers.get("Idempotency-Key"), body))
                if echo:
                    print(json.dumps(body)[:300], flush=True)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def keys(self) -> list[str | None]:
        """The idempotency key of every POST, in arrival order."""
        return [key for key, _ in self.posts]


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: STARTTLS required, then AUTH (user ``paneglass``)."""

    def __init__(self, folder: Path, password: str = "s3cret-pw") -> None:
        import trustme
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[Message] = []
        self.logins: list[str] = []
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "smtp-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, auth: Any
        ) -> Any:
            ok = isinstance(auth, LoginPassword) and auth.password == password.encode()
            if ok:
                receiver.logins.append(auth.login.decode())
            return AuthResult(success=ok)

        with socket.socket() as probe:  # aiosmtpd connects to its own port to check it is up
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=authenticator,
        )
        self.password = password

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


if __name__ == "__main__":
    with WebhookReceiver(int(sys.argv[1]) if len(sys.argv) > 1 else 9000, echo=True) as hook:
        print(f"listening on {hook.url}", flush=True)
        threading.Event().wait()

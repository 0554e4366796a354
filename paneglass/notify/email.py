"""The e-mail channel: one message per firing through an SMTP relay, STARTTLS by default.

The relay's password comes from the environment (``password = "${SMTP_PASSWORD}"``)
and never leaves this process. The idempotency key is the message's
``Message-ID`` (and an ``X-Paneglass-Key`` header), so a repeat after a
retry is recognisable. ``smtplib`` blocks, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from paneglass.notify.delivery import DeliveryError, PermanentError
from paneglass.notify.rules import SmtpSettings

__all__ = ["message_for", "send_email"]


def message_for(
    smtp: SmtpSettings, to: tuple[str, ...], event: dict[str, Any], key: str
) -> EmailMessage:
    """The message for one firing (plain text; vendor text already cleaned)."""
    message = EmailMessage()
    summary = " ".join(str(event.get("summary", "paneglass notification")).split())
    message["Subject"] = f"[paneglass] {summary}"[:250]
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    domain = smtp.sender.rpartition("@")[2] or "paneglass.local"
    message["Message-ID"] = f"<{key}@{domain}>"
    message["X-Paneglass-Key"] = key
    lines = [summary, ""]
    for name in ("detail", "event", "rule", "vendor", "ticket_key", "priority", "occurred_at"):
        if event.get(name):
            lines.append(f"{name}: {event[name]}")
    message.set_content("\n".join(lines) + "\n")
    return message


def _send(smtp: SmtpSettings, message: EmailMessage) -> str:
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                context = ssl.create_default_context(cafile=smtp.ca_file)
                client.starttls(context=context)
            if smtp.username is not None and smtp.password is not None:
                client.login(smtp.username, smtp.password)
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"smtp {smtp.host}: login refused ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused:
        raise PermanentError(f"smtp {smtp.host}: every recipient refused") from None
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentError(f"smtp {smtp.host}: {exc.smtp_code}") from None
        raise DeliveryError(f"smtp {smtp.host}: {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp {smtp.host}:{smtp.port}: {type(exc).__name__}") from None
    sent = len(message["To"].split(",")) - len(refused)
    return f"smtp {smtp.host}: accepted for {sent} recipient(s)"


async def send_email(
    smtp: SmtpSettings, to: tuple[str, ...], event: dict[str, Any], key: str
) -> str:
    """Send one message; the relay's answer in one line, or a :class:`DeliveryError`."""
    return await asyncio.to_thread(_send, smtp, message_for(smtp, to, event, key))
